# L2 side of the Linux I/O benchmark (scenario bench-linux, bench/linux-io.sh): the same script under pvd
# (xvda, eth0 on netfront) and under QEMU (vda, eth0 on virtio). Arguments (pvhv.KEY=VALUE):
#   role=a   disk phases on the first disk (64 KiB direct-I/O dd, write then read, mib MiB each), an
#            idle window, then sends netmib MiB to the peer with nc;   role=b   receives with nc and
#            reports the byte count
#   mib=N (default 32)  netmib=N (default mib)  ip=ADDR peer=ADDR (a /24 on the L1 bridge)  port=P (5001)
# Lines for L1: "PVHV-L2-BENCH-SYNC: TAG" before and after each phase (L1 snapshots the counters; the
# guest sleeps 2 s after a *-start so the snapshot lands before the phase starts) and
# "PVHV-L2-BENCH: phase=NAME bytes=N sec=S" (guest clock, /proc/uptime).
. /l2/lib.sh

up() { cut -d' ' -f1 /proc/uptime; }
sync_point() { mark "BENCH-SYNC: $1"; }
role=$(cmdline_arg role) || { mark "BENCH-FAIL: no pvhv.role"; exit 2; }
mib=$(cmdline_arg mib) || mib=32
port=$(cmdline_arg port) || port=5001
ip=$(cmdline_arg ip) || { mark "BENCH-FAIL: no pvhv.ip"; exit 2; }
netmib=$(cmdline_arg netmib) || netmib=$mib
blocks=$((mib * 16))  # 64 KiB blocks
bytes=$((mib * 1048576))

net_up() {
  eth0_up "$ip/24" 120 || { mark "BENCH-FAIL: eth0 not up with $ip/24 within 120 s"; return 1; }
  mark "BENCH-NET: eth0 $ip up ($(cat /sys/class/net/eth0/address))"
}

# timed PHASE BYTES CMD...: runs CMD between two sync points and prints its rate line.
timed() {
  phase=$1 n=$2
  shift 2
  sync_point "$phase-start"
  sleep 2
  t0=$(up)
  "$@" || { mark "BENCH-FAIL: $phase: '$*' failed"; return 1; }
  t1=$(up)
  sync_point "$phase-end"
  mark "BENCH: phase=$phase bytes=$n sec=$(awk "BEGIN{printf \"%.2f\", $t1 - $t0}")"
}

if [ "$role" = b ]; then
  net_up || exit 1
  # busybox nc exits as soon as either side reaches EOF: its stdin must stay open (a FIFO held by a
  # sleeping writer), or it would half-close at once and the sender would stop on that EOF.
  mkfifo /tmp/hold
  sleep 900 >/tmp/hold &
  holder=$!
  mark "BENCH-NET: listening on $port"
  got=$(timeout 600 nc -l -p "$port" </tmp/hold | wc -c)
  kill "$holder"
  mark "BENCH: phase=net-recv bytes=$got"
  sleep 5  # alive until L1 has taken a's net-send-end snapshot (this guest's counters are in it)
  exit 0
fi

dev=""
for i in $(seq 1 600); do
  for d in /dev/xvda /dev/vda; do [ -b "$d" ] && dev=$d; done
  [ -n "$dev" ] && break
  usleep 100000
done
[ -n "$dev" ] || { mark "BENCH-FAIL: no /dev/xvda or /dev/vda after 60 s"; exit 1; }
mark "BENCH-DISK: $dev $(cat /sys/block/"${dev#/dev/}"/size) sectors"
[ "$(cat /sys/block/"${dev#/dev/}"/size)" -ge $((blocks * 128)) ] || { mark "BENCH-FAIL: $dev smaller than $mib MiB"; exit 1; }
timed disk-write "$bytes" dd if=/dev/zero of="$dev" bs=64k count="$blocks" oflag=direct 2>/dev/null || exit 1
timed disk-read "$bytes" dd if="$dev" of=/dev/null bs=64k count="$blocks" iflag=direct 2>/dev/null || exit 1
# An idle window of the same kind (2 s + 5 s): what the counters do without I/O (timer, idle).
timed idle 0 sleep 5 || exit 1

peer=$(cmdline_arg peer) || { mark "BENCH-DONE: no peer, no network phase"; exit 0; }
sync_point net-wait  # L1 starts the peer now, so that its boot does not overlap the disk phases
net_up || exit 1
i=0
until ping -c 1 -W 1 "$peer" >/dev/null 2>&1; do
  i=$((i + 1))
  [ "$i" -gt 120 ] && { mark "BENCH-FAIL: peer $peer not reachable after 120 tries"; exit 1; }
done
mark "BENCH-NET: peer $peer answers after $i failed pings"
sleep 2  # the peer's nc is listening right after its address is up
send() {
  # busybox nc: on EOF from stdin it shuts down its sending half and exits when the receiver closes,
  # i.e. once the receiver has read everything (b's nc exits on that EOF).
  dd if=/dev/zero bs=64k count=$((netmib * 16)) 2>/dev/null | timeout 600 nc "$peer" "$port" >/dev/null
}
timed net-send $((netmib * 1048576)) send || exit 1
mark "BENCH-DONE"
sleep 3  # alive until L1 has taken the net-send-end snapshot
