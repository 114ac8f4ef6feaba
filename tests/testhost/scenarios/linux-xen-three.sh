# Scenario linux-xen-three: three Xen PVH Linux guests at once under one pvd (256 MiB each; L1 has
# 2 GiB), each with its own raw disk and a vif on L1's bridge xenbr0 (l2/robust-three.sh): each reaches
# its marker, puts ext2 on its xvda, writes a token and 1 MiB, syncs, drops its page cache and reads
# them back; then pings the other two (each waits up to 240 s for the later ones to come up) and powers
# off. Checks: `pvctl list` shows all three at once, each guest's disk check and pings, every
# `pvctl create -F` exits 0 (poweroff), no vif TAP is left, pvd logged no error.
# testhost-needs: pvd pvctl
# testhost-timeout: 1200
. /scenarios/common.sh
. /scenarios/robust-guests.sh
need_cmd pvd pvctl brctl ip
need /guest/vmlinux /guest/System.map /guest/l2.cpio /dev/net/tun

r_bridge_up
follow /run/pvhv/pvd.log "PVD| "
# pvhv.three_ping= on L1's command line (run-scenario.sh --append): "peers" (default) each guest pings
# the other two; "l1" each pings L1's end of the bridge only; "none" no IP traffic (vifs still attached).
ping_mode=peers
for a in $(cat /proc/cmdline); do case "$a" in pvhv.three_ping=*) ping_mode="${a#*=}" ;; esac; done
say "ping mode: $ping_mode"
r_sampler_start 20
t0=$(up)
for n in 1 2 3; do
  peers=""
  for m in 1 2 3; do [ $m = $n ] || peers="$peers${peers:++}$R_NET.3$m"; done
  [ "$ping_mode" = l1 ] && peers=$R_L1_IP
  net="pvhv.rthree_ip=$R_NET.3$n/24 pvhv.rthree_peers=$peers pvhv.rthree_wait=240 pvhv.rthree_linger=30"
  [ "$ping_mode" = none ] && net=""
  r_image "/tmp/work/three-$n.img"
  r_cfg "three-$n" "pvhv.run=robust-three $net" "/tmp/work/three-$n.img" "00:16:3e:52:10:3$n"
  r_start "three-$n"
done
list="$(pvctl list 2>&1)"
echo "$list" | sed -e 's/^/PVCTL| /'
listed=$(echo "$list" | grep -c '^three-[123] ')
say "$listed guests listed by pvctl list once all three were created; L1 memory: $(grep -E 'MemAvailable' /proc/meminfo | tr -s ' ')"
seen_vifs=""
for n in 1 2 3; do
  # Record the bridge while the guests run (they power off once done).
  while [ ! -f "/tmp/work/three-$n.rc" ]; do
    v="$(r_ports)"; [ "${#v}" -gt "${#seen_vifs}" ] && seen_vifs="$v"
    sleep 2
    timed_out "$t0" "$R_TIMEOUT" && break
  done
done
for n in 1 2 3; do r_wait_exit "three-$n" 10; eval "rc$n=\$R_RC"; done
r_sampler_stop
unfollow
say "pvctl create -F exited $rc1 / $rc2 / $rc3; all done $(elapsed "$t0" "$(up)") s after the first create"
say "xenbr0 ports while the guests ran (most seen at once): $seen_vifs"
for n in 1 2 3; do
  grep -E '^PVHV-L2-(MARKER|UPTIME|R3-|RUN)' "/tmp/work/three-$n.out" | tr -d '\r' | sed -e "s/^/SCENARIO: guest $n: /"
done
[ "$listed" = 3 ] || fail "pvctl list showed $listed of the 3 guests at once"
for n in 1 2 3; do
  out="/tmp/work/three-$n.out"
  grep -q 'PVHV-L2-MARKER: init reached' "$out" || fail "guest $n did not reach its marker: $(r_why three-$n)"
  grep -q 'PVHV-L2-R3-DISK-OK' "$out" || fail "guest $n: disk check failed: $(r_why three-$n)"
  case "$ping_mode" in
    peers)
      for m in 1 2 3; do
        [ $m = $n ] && continue
        grep -q "PVHV-L2-R3-PING: $R_NET.3$m .* 0% packet loss" "$out" || fail "guest $n could not ping guest $m: $(r_why three-$n)"
      done ;;
    l1) grep -q "PVHV-L2-R3-PING: $R_L1_IP .* 0% packet loss" "$out" || fail "guest $n could not ping L1: $(r_why three-$n)" ;;
  esac
  eval "rc=\$rc$n"
  [ "$rc" = 0 ] || fail "guest $n: pvctl create -F exited $rc (want 0: poweroff)"
done
[ -z "$(r_vifs)" ] || fail "vif TAPs left after all guests powered off: $(r_vifs)"
errors="$(r_pvd_lines error)"
[ -z "$errors" ] || { echo "$errors" | sed -e 's/^/SCENARIO: pvd error: /'; fail "pvd logged errors"; }
say "three guests ran at once, each checked its own disk (pings: $ping_mode), all powered off"
exit 0
