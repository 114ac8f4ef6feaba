# L2 script (pvhv.run=net-pair): one of the two guests of scenario linux-xen-net. Brings eth0
# (xen-netfront <-> pvd's netback, a TAP on L1's bridge) up with pvhv.ip=ADDR/PREFIX, pings L1's bridge
# address pvhv.gw= and the other guest pvhv.peer=, then moves 1 MiB (the first 1048576 bytes of
# `seq 1 200000`) with busybox nc on port 5000: pvhv.netrole=recv listens and reports what it got,
# pvhv.netrole=send waits for the peer, sends and reports what it sent.
. /l2/lib.sh
net_fail() { mark "NET-FAIL: $*"; exit 1; }
ip=$(cmdline_arg ip) || net_fail "no pvhv.ip="
gw=$(cmdline_arg gw) || net_fail "no pvhv.gw="
peer=$(cmdline_arg peer) || net_fail "no pvhv.peer="
role=$(cmdline_arg netrole) || net_fail "no pvhv.netrole="
eth0_up "$ip" 60 || net_fail "eth0 not up with $ip within 60 s"
mark "NET-UP: eth0 $ip mac=$(cat /sys/class/net/eth0/address)"
if [ "$role" = recv ]; then
  # nc's stdin must not end: busybox nc half-closes the connection when it does, and the sender quits
  # on that, before it has sent everything. A fifo this script holds open never ends.
  mkfifo /tmp/nc-in
  exec 4<>/tmp/nc-in
  timeout 400 nc -l -p 5000 <&4 >/tmp/recv &
  nc_pid=$!
fi
# The bridge forwards once the port is up; the peer may still be booting: retry for a while.
i=0
until ping -c 1 -W 1 "$gw" >/dev/null 2>&1; do
  i=$((i + 1)); [ $i -gt 60 ] && net_fail "no answer from $gw"
done
mark "NET-PING-GW: $(ping -c 3 -W 2 "$gw" | grep -E 'packets transmitted')"
i=0
until ping -c 1 -W 1 "$peer" >/dev/null 2>&1; do
  i=$((i + 1)); [ $i -gt 300 ] && net_fail "no answer from $peer"
done
mark "NET-PING-PEER: $(ping -c 3 -W 2 "$peer" | grep -E 'packets transmitted')"
if [ "$role" = recv ]; then
  wait "$nc_pid" || net_fail "nc -l exited $?"
  exec 4>&-
  mark "NET-RECV: size=$(wc -c </tmp/recv) sha256=$(sha256sum /tmp/recv | cut -d' ' -f1)"
else
  seq 1 200000 | head -c 1048576 >/tmp/send
  mark "NET-SEND-FILE: size=$(wc -c </tmp/send) sha256=$(sha256sum /tmp/send | cut -d' ' -f1)"
  i=0
  t0=$(cut -d' ' -f1 /proc/uptime)
  until nc -w 5 "$peer" 5000 </tmp/send >/dev/null; do
    i=$((i + 1)); [ $i -gt 30 ] && net_fail "nc to $peer:5000 failed 30 times"
    sleep 1
  done
  mark "NET-SENT: to $peer:5000 in $(awk "BEGIN{printf \"%.2f\", $(cut -d' ' -f1 /proc/uptime) - $t0}") s"
  # Stay up until the receiver has finished its own pings and powered off.
  i=0
  while ping -c 1 -W 1 "$peer" >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -gt 120 ] && break
    sleep 1
  done
fi
