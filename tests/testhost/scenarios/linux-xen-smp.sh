# Scenario linux-xen-smp: linux-xen-pvh with vcpus = 2. The second vCPU comes up through INIT/SIPI (which
# resets KVM's kvmclock MSR and LAPIC; pvd restores the pvclock and re-raises pending upcalls), gets its
# own vcpu_info, Xen timer and IPI event channels, and Linux uses Xen's PV spinlocks (SCHEDOP_poll).
# testhost-needs: pvd pvctl
# testhost-timeout: 600
. /scenarios/common.sh
need_cmd pvd pvctl
need /guest/vmlinux /guest/System.map /guest/l2.cpio /guest/linux-xen-smp.cfg
STOP_PATTERN='kernel BUG|Kernel panic|PANIC: early exception|could not calculate TSC khz' \
  run_pvctl_create /guest/linux-xen-smp.cfg linux-xen-smp 300
report_xen_boot
check_xen_boot 1
grep -q 'PVHV-L2-CPUS: 2' "$CONSOLE_LOG" || fail "the guest did not bring up 2 CPUs"
exit 0
