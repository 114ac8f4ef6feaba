#!/bin/sh
# L2 half of scenario linux-xen-three (pvhv.run=robust-three): a small disk check on /dev/xvda (busybox
# mke2fs's ext2, mounted by the ext4 driver; write a token and 1 MiB, sync, drop the page cache, read
# back and compare) and, with pvhv.rthree_ip=ADDR/PREFIX and pvhv.rthree_peers=IP+IP..., eth0 up and a
# ping to each peer (the peers boot at different times: each is tried for up to pvhv.rthree_wait
# seconds, default 120).
. /l2/lib.sh
fail() { mark "R3-FAIL: $*"; exit 1; }
mkdir -p /mnt
wait_for /dev/xvda 30 || fail "no /dev/xvda after 30 s"
mke2fs -q /dev/xvda >/tmp/mke2fs.log 2>&1 || { cat /tmp/mke2fs.log; fail "mke2fs /dev/xvda"; }
mount -t ext4 /dev/xvda /mnt || fail "mount /dev/xvda"
token="pvhv-r3-$(cat /proc/sys/kernel/random/uuid)"
echo "$token" >/mnt/token.txt || fail "write token"
head -c 1048576 /dev/urandom >/mnt/random.bin || fail "write random.bin"
want=$(md5sum </mnt/random.bin | cut -d' ' -f1)
sync && echo 3 >/proc/sys/vm/drop_caches
got=$(md5sum </mnt/random.bin | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "random.bin read back $got, wrote $want"
[ "$(cat /mnt/token.txt)" = "$token" ] || fail "token read back wrong"
umount /mnt || fail "umount"
mark "R3-DISK-OK: $token, 1 MiB md5 $want written, synced, read back"

ip=$(cmdline_arg rthree_ip) || exit 0
eth0_up "$ip" 30 || fail "eth0 not up with $ip within 30 s"
mark "R3-NET: eth0 $ip"
peers=$(cmdline_arg rthree_peers | tr '+' ' ')
max=$(cmdline_arg rthree_wait) || max=120
bad=0
for p in $peers; do
  t0=$(cut -d' ' -f1 /proc/uptime)
  until ping -c 1 -W 1 "$p" >/dev/null 2>&1; do
    awk "BEGIN{exit !($(cut -d' ' -f1 /proc/uptime) - $t0 >= $max)}" && break
  done
  if ping -c 3 -W 2 "$p" >/tmp/ping.log 2>&1; then
    mark "R3-PING: $p $(grep 'packets transmitted' /tmp/ping.log)"
  else
    mark "R3-PING-FAIL: $p"; bad=1
  fi
done
# Stay up a while (pvhv.rthree_linger seconds, default 10) so that peers that came up later can ping
# this guest too.
sleep "$(cmdline_arg rthree_linger || echo 10)"
exit $bad
