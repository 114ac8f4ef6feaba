# Scenario linux-plain-pvh: pvd boots Debian's kernel as a plain PVH guest (xen_cpuid = 0: no Xen CPUID
# leaves, so Linux takes the PVH entry without Xen enlightenments) with the L2 busybox initramfs.
# Passes when the L2 marker shows in the console log and the guest powers off (pvctl exit 0).
# testhost-needs: pvd pvctl
# testhost-timeout: 600
. /scenarios/common.sh
need_cmd pvd pvctl
need /guest/vmlinux /guest/l2.cpio /guest/linux-plain.cfg
# Stop early on a panic: a panicking plain-PVH guest can halt inside KVM, where pvd sees nothing.
STOP_PATTERN='kernel BUG|Kernel panic|PANIC: early exception' \
  run_pvctl_create /guest/linux-plain.cfg linux-plain 300
check_l2_markers "$CONSOLE_LOG" || fail "no PVHV-L2-MARKER in $CONSOLE_LOG (pvctl exit $PVCTL_RC)"
say "L2-TIMES: pvctl create to exit $PVCTL_SECONDS s"
if [ "$PVCTL_RC" != 0 ]; then
  grep -q 'reboot: System halted' "$CONSOLE_LOG" && say "the guest halted instead of powering off: it found no ACPI S5 / power-off method"
  fail "pvctl create -F exited $PVCTL_RC (want 0: poweroff)"
fi
exit 0
