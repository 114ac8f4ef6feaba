# Scenario linux-xen-pvh: pvd boots Debian's kernel as a Xen PVH guest (xen_cpuid = 1): Linux sees Xen's
# CPUID leaves and issues hypercalls, which pvd's loader points at the pio transport using /guest/System.map
# (pvd looks for System.map next to the kernel). With Xen's pvclock (vcpu_time_info, kept by KVM's
# kvmclock), the singleshot timer on VIRQ_TIMER and per-vCPU upcall vectors, Linux calibrates its TSC
# from the pvclock, uses the "xen" clocksource and clockevent, reaches init and powers off through ACPI
# S5. Reports the boot milestones (hvc0, with the PV console; xenbus prints nothing without devices).
# testhost-needs: pvd pvctl
# testhost-timeout: 600
. /scenarios/common.sh
need_cmd pvd pvctl
need /guest/vmlinux /guest/System.map /guest/l2.cpio /guest/linux-xen.cfg
# Stop early on a panic, or if Linux is back to calibrating the TSC without Xen's pvclock.
STOP_PATTERN='kernel BUG|Kernel panic|PANIC: early exception|could not calculate TSC khz' \
  run_pvctl_create /guest/linux-xen.cfg linux-xen 300
report_xen_boot
check_xen_boot 0
exit 0
