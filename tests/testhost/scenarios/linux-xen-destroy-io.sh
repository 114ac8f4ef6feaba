# Scenario linux-xen-destroy-io: `pvctl destroy` of a Xen PVH Linux in the middle of disk and network I/O,
# then the same cfg again. The loaded guest (l2/robust-io.sh, pvhv.rio=load) has a raw image as xvda and a
# vif on L1's bridge xenbr0: it syncs a token file, then rewrites a file with fsync and reads the disk
# with O_DIRECT in a loop, pings L1's end of the bridge adaptively and streams /dev/zero to an nc there.
# An idle guest (l2/robust-idle.sh) runs alongside, so that pvd (which exits with its last domain) has
# to stay up. Once the load runs, the scenario destroys the loaded guest and checks: the same pvd
# process answers `pvctl list`, which no longer shows the guest; its `pvctl create -F` ends with
# "destroyed" (125); pvctl block-list/network-list (read from pvd's xenstore backend entries) no longer
# know it; the vif TAP is gone from L1 and from the bridge; pvd logged no error. Then the same cfg is
# created again under that pvd (pvhv.rio=verify): Linux mounts the filesystem left behind (unclean, as
# after a power cut), reads the synced token, writes/syncs/reads 2 MiB, pings L1 and sends 1 MiB to an
# nc in L1 (md5 compared). Last, the idle guest is shut down with `pvctl shutdown` and powers off.
# testhost-needs: pvd pvctl
# testhost-timeout: 1200
. /scenarios/common.sh
. /scenarios/robust-guests.sh
need_cmd pvd pvctl brctl ip nc md5sum
need /guest/vmlinux /guest/System.map /guest/l2.cpio /dev/net/tun

r_bridge_up
sleep 100000 | nc -l -p 5001 >/dev/null 2>&1 &   # the sink of the guest's endless stream
r_image /tmp/work/rio.img
follow /run/pvhv/pvd.log "PVD| "

r_cfg rio-peer "pvhv.run=robust-idle"
r_start rio-peer
r_cfg rio-load "pvhv.run=robust-io pvhv.rio=load pvhv.rio_net=$R_NET.11/24,$R_L1_IP" /tmp/work/rio.img 00:16:3e:52:10:11
r_start rio-load
r_wait_line rio-load 'PVHV-L2-RIO-LOAD: running' "$R_TIMEOUT" || fail "the guest did not start its load: $(r_why rio-load)"
r_wait_line rio-load 'PVHV-L2-RIO-NET-LOAD:' 5 || fail "the guest's network load did not start: $(r_why rio-load)"
r_wait_line rio-load 'PVHV-L2-RIO-LOAD: 10 rounds' 120 || say "fewer than 10 load rounds after 120 s"
token=$(grep -m1 '^PVHV-L2-RIO-TOKEN: ' /tmp/work/rio-load.out | tr -d '\r' | cut -d' ' -f2)
vifs_before="$(r_vifs)"
say "under load: vifs in L1: $vifs_before; bridge ports: $(r_ports)"
pvctl top 2>&1 | sed -e 's/^/PVCTL-TOP| /'
pvctl block-list rio-load 2>&1 | sed -e 's/^/PVCTL| /'
pvctl network-list rio-load 2>&1 | sed -e 's/^/PVCTL| /'
[ -n "$vifs_before" ] || fail "no vif TAP in L1 while the guest runs"
tx0=$(cat /sys/class/net/xenbr0/statistics/rx_bytes)
sleep 2
tx1=$(cat /sys/class/net/xenbr0/statistics/rx_bytes)
say "xenbr0 received $((tx1 - tx0)) bytes in 2 s just before the destroy"
[ "$tx1" -gt "$tx0" ] || fail "no network traffic from the guest just before the destroy"
pvd_pid=$(r_pvd_pid)
[ -n "$pvd_pid" ] || fail "no pvd process"

t0=$(up)
pvctl destroy rio-load 2>&1 | sed -e 's/^/PVCTL| /'
r_wait_exit rio-load 60
say "pvctl destroy: the guest's pvctl create -F exited $R_RC $(elapsed "$t0" "$(up)") s after it: $(tail -n 1 /tmp/work/rio-load.out | tr -d '\r')"
[ "$R_RC" = 125 ] || fail "pvctl create -F exited $R_RC after pvctl destroy (want 125: destroyed)"
sleep 1
list="$(pvctl list 2>&1)"; list_rc=$?
echo "$list" | sed -e 's/^/PVCTL| /'
[ "$list_rc" = 0 ] || fail "pvctl list exited $list_rc after the destroy"
echo "$list" | grep -q '^rio-load ' && fail "pvctl list still shows rio-load after destroy"
echo "$list" | grep -q '^rio-peer ' || fail "pvctl list lost rio-peer after destroying rio-load"
[ "$(r_pvd_pid)" = "$pvd_pid" ] || fail "pvd is no longer process $pvd_pid after the destroy (now '$(r_pvd_pid)')"
bl="$(pvctl block-list rio-load 2>&1)"; nl="$(pvctl network-list rio-load 2>&1)"
say "after destroy: pvctl block-list rio-load: $bl; network-list: $nl"
echo "$bl" | grep -q 'no domain' || fail "pvctl block-list still answers for rio-load: $bl"
left="$(r_vifs)" ports="$(r_ports)"
say "after destroy: vifs in L1: '${left}'; bridge ports: '${ports}'"
[ -z "$left" ] || fail "vif TAPs left in L1 after destroy: $left"
[ -z "$ports" ] || fail "ports left on xenbr0 after destroy: $ports"
r_pvd_lines warning | sed -e 's/^/SCENARIO: pvd warning: /'
errors="$(r_pvd_lines error)"
[ -z "$errors" ] || echo "$errors" | sed -e 's/^/SCENARIO: pvd error: /'
r_pvd_lines warning | grep -q 'removing the tree' && fail "pvd could not remove the destroyed domain's xenstore tree"

# The same cfg again (only the mode differs): the filesystem was being written when the guest vanished.
sleep 100000 | nc -l -p 5002 >/tmp/work/rio-recv.bin 2>/dev/null &
sed -i -e 's/pvhv.rio=load/pvhv.rio=verify/' /tmp/work/rio-load.cfg
r_start rio-load
r_wait_line rio-load 'PVHV-L2-RIO-NET:' "$R_TIMEOUT" && {
  say "the second guest: $(pvctl network-list rio-load 2>&1 | tail -n 1)"
  say "the second guest: vifs in L1: $(r_vifs); bridge ports: $(r_ports)"
}
r_wait_exit rio-load "$R_TIMEOUT"
rc_again=$R_RC
[ "$(r_pvd_pid)" = "$pvd_pid" ] || fail "pvd is no longer process $pvd_pid after the second boot"
pvctl shutdown rio-peer 2>&1 | sed -e 's/^/PVCTL| /'
r_wait_exit rio-peer 120
say "rio-peer: pvctl create -F exited $R_RC after pvctl shutdown"
unfollow
grep -E '^PVHV-L2-RIO-' /tmp/work/rio-load.out | tr -d '\r' | sed -e 's/^/SCENARIO: guest (again): /'
grep -q 'PVHV-L2-RIO-OK' /tmp/work/rio-load.out || fail "second boot: $(r_why rio-load)"
grep -q "^PVHV-L2-RIO-READ: $token" /tmp/work/rio-load.out || fail "second boot did not read token $token back"
sent=$(grep -m1 '^PVHV-L2-RIO-NET-SENT-MD5: ' /tmp/work/rio-load.out | tr -d '\r' | cut -d' ' -f2)
got=$(md5sum </tmp/work/rio-recv.bin | cut -d' ' -f1)
say "second boot: L1 received $(wc -c </tmp/work/rio-recv.bin) bytes, md5 $got (guest sent $sent)"
[ -n "$sent" ] && [ "$sent" = "$got" ] || fail "the 1 MiB sent after the second boot arrived as md5 $got (sent '$sent')"
[ "$rc_again" = 0 ] || fail "second boot: pvctl create -F exited $rc_again (want 0: poweroff)"
[ "$R_RC" = 0 ] || fail "rio-peer: pvctl create -F exited $R_RC after pvctl shutdown (want 0)"
[ -z "$(r_vifs)" ] || fail "vif TAPs left after the second guest powered off: $(r_vifs)"
[ -z "$errors" ] || fail "pvd logged errors around the destroy (above)"
say "destroyed mid-I/O; pvd (pid $pvd_pid) stayed up; the same cfg booted again, mounted the disk (token $token) and did disk and network I/O"
exit 0
