# Scenario linux-plain-smp: like linux-plain-pvh with vcpus = 2: Linux finds both CPUs in pvd's MADT,
# brings the second up through INIT/SIPI on the in-kernel LAPIC, reaches init and powers off.
# testhost-needs: pvd pvctl
# testhost-timeout: 600
. /scenarios/common.sh
need_cmd pvd pvctl
need /guest/vmlinux /guest/l2.cpio /guest/linux-smp.cfg
# Stop early on a panic: a panicking plain-PVH guest can halt inside KVM, where pvd sees nothing.
STOP_PATTERN='kernel BUG|Kernel panic|PANIC: early exception' \
  run_pvctl_create /guest/linux-smp.cfg linux-smp 300
check_l2_markers "$CONSOLE_LOG" || fail "no PVHV-L2-MARKER in $CONSOLE_LOG (pvctl exit $PVCTL_RC)"
grep -q 'PVHV-L2-CPUS: 2' "$CONSOLE_LOG" || fail "the guest did not bring up 2 CPUs"
say "L2-TIMES: pvctl create to exit $PVCTL_SECONDS s"
[ "$PVCTL_RC" = 0 ] || fail "pvctl create -F exited $PVCTL_RC (want 0: poweroff)"
exit 0
