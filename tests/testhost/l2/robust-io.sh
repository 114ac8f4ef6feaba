#!/bin/sh
# L2 half of scenarios linux-xen-destroy-io and linux-xen-pvd-kill (pvhv.run=robust-io).
#   pvhv.rio=load: a fresh filesystem on /dev/xvda (busybox mke2fs's ext2, mounted by the ext4 driver)
#     with a token file, synced (PVHV-L2-RIO-TOKEN), then I/O that never ends by itself: dd rewrites
#     /mnt/load.bin with fsync and reads the disk with O_DIRECT in a loop, and with
#     pvhv.rio_net=ADDR/PREFIX,PEER an adaptive ping and an endless nc stream to PEER:5001 on eth0.
#     "PVHV-L2-RIO-LOAD: running" says all of it is going; the scenario then destroys the guest (or
#     kills pvd) in the middle of it.
#   pvhv.rio=verify: mounts the filesystem left behind (never unmounted, as after a power cut), prints
#     the token (PVHV-L2-RIO-READ), reads every file, writes/syncs/reads back 2 MiB, and with
#     pvhv.rio_net pings PEER and sends 1 MiB to PEER:5002 (PVHV-L2-RIO-NET-SENT-MD5).
. /l2/lib.sh
mode=$(cmdline_arg rio) || mode=load
net=$(cmdline_arg rio_net) || net=""
fail() { mark "RIO-FAIL: $*"; exit 1; }

mkdir -p /mnt
wait_for /dev/xvda 30 || fail "no /dev/xvda after 30 s"
if [ -n "$net" ]; then
  addr="${net%,*}" peer="${net#*,}"
  eth0_up "$addr" 30 || fail "eth0 not up with $addr within 30 s"
  n=0
  until ping -c 1 -W 1 "$peer" >/dev/null 2>&1; do
    n=$((n + 1)); [ $n -ge 60 ] && fail "no ping answer from $peer in 60 tries"
  done
  mark "RIO-NET: eth0 $addr, $peer answered after $n failed tries"
fi

case "$mode" in
  load)
    mke2fs -q -L pvhv-rio /dev/xvda >/tmp/mke2fs.log 2>&1 || { cat /tmp/mke2fs.log; fail "mke2fs /dev/xvda"; }
    mount -t ext4 /dev/xvda /mnt || fail "mount -t ext4 /dev/xvda"
    token="pvhv-rio-token-$(cat /proc/sys/kernel/random/uuid)"
    echo "$token" >/mnt/token.txt && sync || fail "write and sync /mnt/token.txt"
    mark "RIO-TOKEN: $token"
    if [ -n "$net" ]; then
      ping -A "$peer" >/dev/null 2>&1 &   # adaptive: the next echo as soon as the reply is in
      nc "$peer" 5001 </dev/zero >/dev/null 2>&1 &   # /dev/zero never ends: neither does the stream
      mark "RIO-NET-LOAD: streaming to $peer:5001 and pinging it"
    fi
    rounds=0
    while :; do
      dd if=/dev/urandom of=/mnt/load.bin bs=64k count=32 conv=fsync 2>/dev/null || fail "dd round $rounds"
      dd if=/dev/xvda of=/dev/null bs=64k count=64 skip=$((rounds % 16 * 64)) iflag=direct 2>/dev/null ||
        fail "direct read round $rounds"
      rounds=$((rounds + 1))
      [ $rounds = 1 ] && mark "RIO-LOAD: running (dd rewrites 2 MiB with fsync and reads 4 MiB direct, in a loop)"
      [ $((rounds % 10)) = 0 ] && mark "RIO-LOAD: $rounds rounds"
    done
    ;;
  verify)
    mount -t ext4 /dev/xvda /mnt || fail "mount -t ext4 of the filesystem left behind"
    dmesg | grep -E 'EXT4-fs' | tail -n 3 | sed -e 's/^/PVHV-L2-RIO-KERNEL: /'
    [ -f /mnt/token.txt ] || fail "no /mnt/token.txt"
    mark "RIO-READ: $(cat /mnt/token.txt)"
    for f in /mnt/*; do
      [ -f "$f" ] || continue
      n=$(cat "$f" | wc -c) || fail "read $f"
      mark "RIO-FILE: $f $n bytes readable"
    done
    # I/O again on the same disk and vif: write, sync, drop the page cache, read back.
    dd if=/dev/urandom of=/mnt/again.bin bs=64k count=32 conv=fsync 2>/dev/null || fail "dd after reboot"
    sum1=$(md5sum </mnt/again.bin | cut -d' ' -f1)
    sync; echo 3 >/proc/sys/vm/drop_caches
    sum2=$(md5sum </mnt/again.bin | cut -d' ' -f1)
    [ "$sum1" = "$sum2" ] || fail "again.bin read back $sum2, wrote $sum1"
    umount /mnt || fail "umount"
    mark "RIO-DISK-AGAIN: wrote, synced and read back 2 MiB ($sum1)"
    if [ -n "$net" ]; then
      ping -c 5 -W 2 "$peer" >/tmp/ping.log 2>&1 || { cat /tmp/ping.log; fail "ping $peer after reboot"; }
      mark "RIO-NET-AGAIN: $(grep 'packets transmitted' /tmp/ping.log)"
      head -c 1048576 /dev/urandom >/tmp/blob
      nc "$peer" 5002 </tmp/blob || fail "nc to $peer:5002"
      mark "RIO-NET-SENT-MD5: $(md5sum </tmp/blob | cut -d' ' -f1)"
    fi
    mark "RIO-OK: mounted and read the filesystem left behind, disk and network I/O work again"
    ;;
  *) fail "unknown pvhv.rio=$mode" ;;
esac
