# Scenario linux-xen-pvh: pvd boots Debian's kernel as a Xen PVH guest (xen_cpuid = 1): Linux sees Xen's
# CPUID leaves and issues hypercalls, which pvd's loader points at the pio transport using /guest/System.map
# (pvd looks for System.map next to the kernel). Reports how far the boot got (milestones). Until the PV
# core (shared info, event channels, xenstore) exists, Linux stops at its first unimplemented hypercall;
# the scenario passes when both call sites were rewritten, Xen was detected and a hypercall answered
# through them (Linux prints the version it got from XENVER_version). The guest is destroyed as soon as
# it panics. Once the PV core lands, require the L2 marker and a clean power-off here again.
# testhost-needs: pvd pvctl
# testhost-timeout: 600
. /scenarios/common.sh
need_cmd pvd pvctl
need /guest/vmlinux /guest/System.map /guest/l2.cpio /guest/linux-xen.cfg
# The last alternative is where Linux hangs today: with the Xen leaves it has neither kvmclock
# nor (until event channels deliver upcalls) Xen's pvclock, and no PIT to calibrate against.
STOP_PATTERN='kernel BUG|Kernel panic|PANIC: early exception|PVHV-L2-MARKER: init reached|could not calculate TSC khz' \
  run_pvctl_create /guest/linux-xen.cfg linux-xen 300
grep -E 'hypercall rewrite|rewrote|System.map' /run/pvhv/pvd.log 2>/dev/null | sed -e 's/^/SCENARIO: pvd: /'
reached=0 total=0
while IFS='|' read -r what pattern; do
  total=$((total + 1))
  if grep -q -E "$pattern" "$CONSOLE_LOG"; then
    reached=$((reached + 1)); say "milestone reached: $what"
  else
    say "milestone MISSING: $what"
  fi
done <<'M'
kernel started|Linux version
Xen detected|Hypervisor detected: Xen
Xen version reported|Xen version
Xen event channels|xen:events|Xen HVM callback vector
xenbus|xenbus|XENBUS
hvc0 console|console .hvc0. enabled
init reached|PVHV-L2-MARKER: init reached
powered off|reboot: Power down
M
say "boot progress: $reached of $total milestones; last console lines:"
tail -n 5 "$CONSOLE_LOG" | sed -e "s/^/SCENARIO: last: /"
grep -q 'rewritten; xen_hypercall_amd.*xen_hypercall_intel' /run/pvhv/pvd.log ||
  fail "pvd did not rewrite both hypercall sites (see PVD| lines)"
grep -q 'Hypervisor detected: Xen' "$CONSOLE_LOG" || fail "Linux did not detect Xen (xen_cpuid = 1)"
grep -q 'Xen version 4\.17' "$CONSOLE_LOG" || fail "no XENVER_version answer through the rewritten sites"
grep -E 'kernel BUG|Kernel panic|RIP:|RAX:|could not calculate TSC khz' "$CONSOLE_LOG" | head -n 3 |
  sed -e 's/^/SCENARIO: stopped at: /'
say "L2-TIMES: pvctl create to exit $PVCTL_SECONDS s (pvctl exit $PVCTL_RC)"
exit 0
