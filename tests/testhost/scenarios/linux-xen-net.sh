# Scenario linux-xen-net: two Xen PVH Linux guests (Debian's kernel, 256 MiB each) on a bridge in L1.
# L1 creates xenbr0 with 10.0.0.1/24; each guest has `vif = ['bridge=xenbr0, mac=...']` (pvd's netback
# creates the TAP vif<domid>.0 and puts it on the bridge; Linux's xen-netfront gives eth0). Both run
# l2/net-pair.sh: eth0 from pvhv.ip=, ping L1's bridge address and the other guest, then guest A listens
# with busybox nc and guest B sends it 1 MiB; each reports size and sha256, which must match what L1
# computes for the same bytes. Both are started with `pvctl create` (not -F); their consoles are read from
# /run/pvhv/console/NAME.log, and pvd's log must show each powering off.
# testhost-needs: pvd pvctl
# testhost-timeout: 900
. /scenarios/common.sh
need_cmd pvd pvctl brctl ip
need /guest/vmlinux /guest/System.map /guest/l2.cpio
export PVHV_RUNTIME_DIR=/run/pvhv
rt=$PVHV_RUNTIME_DIR

bridge_up xenbr0 10.0.0.1/24
expected=$(seq 1 200000 | head -c 1048576 | sha256sum | cut -d' ' -f1)

guest_cfg() {  # NAME IP PEER ROLE MAC
  xen_guest_cfg "$1" "panic=-1 pvhv.run=net-pair pvhv.ip=$2/24 pvhv.gw=10.0.0.1 pvhv.peer=$3 pvhv.netrole=$4" \
    "vif = [ 'bridge=xenbr0, mac=$5' ]" >"/tmp/work/$1.cfg"
  sed -e 's/^/CFG| /' "/tmp/work/$1.cfg"
}
guest_cfg net-a 10.0.0.11 10.0.0.12 recv 00:16:3e:00:0a:01
guest_cfg net-b 10.0.0.12 10.0.0.11 send 00:16:3e:00:0a:02

t0=$(up)
pvctl create /tmp/work/net-a.cfg 2>&1 | sed -e 's/^/PVCTL| /'
pvctl create /tmp/work/net-b.cfg 2>&1 | sed -e 's/^/PVCTL| /'
follow "$rt/pvd.log" "PVD| "
follow "$rt/console/net-a.log" "A| "
follow "$rt/console/net-b.log" "B| "
pvctl list 2>&1 | sed -e 's/^/PVCTL| /'
ports=""
i=0
while pvctl list 2>/dev/null | grep -q -E '^net-(a|b) '; do
  i=$((i + 1))
  if [ $i -gt 400 ]; then
    unfollow
    pvctl list 2>&1 | sed -e 's/^/PVCTL| /'
    pvctl destroy net-a >/dev/null 2>&1; pvctl destroy net-b >/dev/null 2>&1
    fail "the guests were still running after 400 s"
  fi
  p=$(ls /sys/class/net/xenbr0/brif/ 2>/dev/null | sort | tr '\n' ' ')
  [ "$(echo $p | wc -w)" -ge "$(echo $ports | wc -w)" ] && ports=$p
  sleep 1
done
t1=$(up)
unfollow
say "both guests ended $(elapsed "$t0" "$t1") s after the first pvctl create"
say "ports of xenbr0 while the guests ran (most seen at once): $ports"
for g in a b; do
  log="$rt/console/net-$g.log"
  [ -f "$log" ] || fail "no console log $log"
  check_l2_markers "$log" || fail "net-$g: no PVHV-L2-MARKER"
  tr -d '\r' <"$log" | grep -E '^PVHV-L2-(NET|RUN)' | sed -e "s/^/SCENARIO: net-$g: /"
  grep -q 'PVHV-L2-NET-FAIL' "$log" && fail "net-$g: $(grep -m1 'PVHV-L2-NET-FAIL' "$log" | tr -d '\r')"
  grep -q 'PVHV-L2-NET-UP: eth0' "$log" || fail "net-$g: eth0 did not come up"
  grep -q -E 'PVHV-L2-NET-PING-GW: .*, [1-9][0-9]* packets received' "$log" || fail "net-$g: no answer from L1's bridge"
  grep -q -E 'PVHV-L2-NET-PING-PEER: .*, [1-9][0-9]* packets received' "$log" || fail "net-$g: no answer from the other guest"
  grep -q 'PVHV-L2-RUN: net-pair exit=0' "$log" || fail "net-$g: net-pair did not exit 0"
  grep -q 'reboot: Power down' "$log" || fail "net-$g: no 'reboot: Power down'"
  grep -q "domain net-$g (id [0-9]*) powered off; action destroy" "$rt/pvd.log" || fail "net-$g: pvd did not log a power-off"
done
echo "$ports" | grep -q -E 'vif[0-9]+\.0 vif[0-9]+\.0' || fail "xenbr0 never had both guests' vifs at once ('$ports')"
grep -q "PVHV-L2-NET-SEND-FILE: size=1048576 sha256=$expected" "$rt/console/net-b.log" ||
  fail "net-b: the file to send is not the expected 1 MiB (sha256 $expected)"
grep -q 'PVHV-L2-NET-SENT: to 10.0.0.11:5000' "$rt/console/net-b.log" || fail "net-b: nothing sent"
grep -q "PVHV-L2-NET-RECV: size=1048576 sha256=$expected" "$rt/console/net-a.log" ||
  fail "net-a: did not receive the 1 MiB (want sha256 $expected)"
say "1 MiB moved from net-b to net-a with nc, sha256 $expected"
exit 0
