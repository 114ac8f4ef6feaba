# Scenario linux-xen-pvd-kill: `kill -9` of pvd while two Xen PVH Linux guests run, one under disk and
# network load (l2/robust-io.sh: a synced token file, then dd with fsync and direct reads in a loop, a
# ping and an endless stream to L1's nc), one idle (l2/robust-idle.sh). What survives: nothing of the
# guests — their vCPUs are threads of pvd (DESIGN §2: the hv core is a library inside pvd), so they end
# with it; their TAPs close with pvd's fds; xenstore lived in pvd's memory. What the user sees: each
# `pvctl create -F` exits 125 at once with "pvd (pid N) exited: lost domain NAME ..." (no hang);
# `pvctl list` says pvd is not running and that its socket is left from a pvd that ended without
# removing it; `pvctl destroy` says the same and fails. Then, as after a power cut, the same disk boots
# under a new pvd (started by pvctl create as usual, which removes the stale socket): Linux mounts the
# filesystem, the token synced before the kill reads back with its md5, and disk and network I/O work.
# testhost-needs: pvd pvctl
# testhost-timeout: 1200
. /scenarios/common.sh
. /scenarios/robust-guests.sh
need_cmd pvd pvctl brctl ip nc md5sum pidof
need /guest/vmlinux /guest/System.map /guest/l2.cpio /dev/net/tun

r_bridge_up
sleep 100000 | nc -l -p 5001 >/dev/null 2>&1 &
r_image /tmp/work/kill.img
follow /run/pvhv/pvd.log "PVD| "

r_cfg kill-io "pvhv.run=robust-io pvhv.rio=load pvhv.rio_net=$R_NET.21/24,$R_L1_IP" /tmp/work/kill.img 00:16:3e:52:10:21
r_start kill-io
r_cfg kill-idle "pvhv.run=robust-idle"
r_start kill-idle
r_wait_line kill-io 'PVHV-L2-RIO-LOAD: running' "$R_TIMEOUT" || fail "the loaded guest did not start its load: $(r_why kill-io)"
r_wait_line kill-idle 'PVHV-L2-RIDLE: waiting' "$R_TIMEOUT" || fail "the idle guest did not reach its wait: $(r_why kill-idle)"
r_wait_line kill-io 'PVHV-L2-RIO-LOAD: 10 rounds' 120 || say "fewer than 10 load rounds after 120 s"
token=$(grep -m1 '^PVHV-L2-RIO-TOKEN: ' /tmp/work/kill-io.out | tr -d '\r' | cut -d' ' -f2)
pid=$(r_pvd_pid)
[ -n "$pid" ] || fail "no pvd process"
say "before the kill: pvd pid $pid, threads: $(cat /proc/"$pid"/task/*/comm | sort | uniq -c | awk '{printf "%s%s ", $2, ($1 > 1 ? "x" $1 : "")}')"
say "before the kill: vifs in L1: $(r_vifs); bridge ports: $(r_ports)"
pvctl list 2>&1 | sed -e 's/^/PVCTL| /'

kill -9 "$pid"
t0=$(up)
r_wait_exit kill-io 30; rc_io=$R_RC
r_wait_exit kill-idle 30; rc_idle=$R_RC
say "after kill -9: pvctl create -F exited $rc_io (loaded guest) and $rc_idle (idle guest) within $(elapsed "$t0" "$(up)") s"
for g in kill-io kill-idle; do
  tail -n 1 "/tmp/work/$g.out" | tr -d '\r' | sed -e "s/^/SCENARIO: $g's pvctl printed: /"
done
sleep 1
[ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && fail "pvd $pid still runs after kill -9"
survivors="$(for t in /proc/[0-9]*/task/*/comm; do c=$(cat "$t" 2>/dev/null); case "$c" in vcpu*|vbd*|pvd*) echo "$t:$c" ;; esac; done)"
say "threads named vcpu*/vbd*/pvd* left in L1: '${survivors}'"
[ -z "$survivors" ] || fail "guest threads survived pvd: $survivors"
list_out="$(pvctl list 2>&1)"; list_rc=$?
echo "$list_out" | sed -e 's/^/PVCTL| list: /'
destroy_out="$(pvctl destroy kill-io 2>&1)"; destroy_rc=$?
echo "$destroy_out" | sed -e 's/^/PVCTL| destroy: /'
say "pvctl list exited $list_rc, pvctl destroy kill-io exited $destroy_rc"
left="$(r_vifs)" ports="$(r_ports)"
say "after kill -9: vifs in L1: '${left}'; bridge ports: '${ports}'; /run/pvhv holds: $(ls /run/pvhv | tr '\n' ' ')"
for g in kill-io kill-idle; do
  grep -q "pvd (pid $pid) exited: lost domain $g" "/tmp/work/$g.out" ||
    fail "$g: pvctl create -F did not say that pvd (pid $pid) exited and took the domain with it"
done
[ "$rc_io" = 125 ] && [ "$rc_idle" = 125 ] || fail "pvctl create -F exited $rc_io / $rc_idle after pvd was killed (want 125)"
echo "$list_out" | grep -q 'pvd is not running' || fail "pvctl list does not say that pvd is not running"
[ "$list_rc" = 0 ] || fail "pvctl list exited $list_rc without pvd (want 0, an empty list)"
echo "$destroy_out" | grep -q 'pvd is not running' || fail "pvctl destroy does not say that pvd is not running"
[ "$destroy_rc" != 0 ] || fail "pvctl destroy of a domain of the dead pvd exited 0"
[ -z "$left" ] || fail "vif TAPs outlived pvd: $left"

# As after a power cut: a new pvd (pvctl create starts it), the same disk and cfg.
mv /run/pvhv/pvd.log /tmp/work/pvd-killed.log
unfollow
follow /run/pvhv/pvd.log "PVD| "
sleep 100000 | nc -l -p 5002 >/tmp/work/rio-recv.bin 2>/dev/null &
sed -i -e 's/pvhv.rio=load/pvhv.rio=verify/' /tmp/work/kill-io.cfg
r_start kill-io
r_wait_exit kill-io "$R_TIMEOUT"
unfollow
newpid=$(grep -m1 -o 'listening on .* (pid [0-9]*' /run/pvhv/pvd.log | grep -o '[0-9]*$')
say "new pvd: pid ${newpid:-?}; $(grep -m1 'stale socket' /run/pvhv/pvd.log)"
grep -E '^PVHV-L2-RIO-' /tmp/work/kill-io.out | tr -d '\r' | sed -e 's/^/SCENARIO: guest (after the kill): /'
grep -q 'PVHV-L2-RIO-OK' /tmp/work/kill-io.out || fail "after the kill: $(r_why kill-io)"
grep -q "^PVHV-L2-RIO-READ: $token" /tmp/work/kill-io.out || fail "the token synced before the kill ($token) is not on the disk"
sent=$(grep -m1 '^PVHV-L2-RIO-NET-SENT-MD5: ' /tmp/work/kill-io.out | tr -d '\r' | cut -d' ' -f2)
got=$(md5sum </tmp/work/rio-recv.bin | cut -d' ' -f1)
[ -n "$sent" ] && [ "$sent" = "$got" ] || fail "the 1 MiB sent after the restart arrived as md5 $got (sent '$sent')"
[ "$R_RC" = 0 ] || fail "the guest under the new pvd: pvctl create -F exited $R_RC (want 0: poweroff)"
say "pvd killed: both guests ended with it, pvctl said so; a new pvd booted the same disk, token $token intact, disk and network I/O work"
exit 0
