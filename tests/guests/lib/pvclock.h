/* Xen system time from the pvclock in shared_info's vcpu_info slots. */
#ifndef GUEST_PVCLOCK_H
#define GUEST_PVCLOCK_H

#include <stdint.h>
#include <xen/xen.h>

/* ns of system time from vCPU `vcpu`'s vcpu_time_info (the version protocol: retry while the
 * version is odd or changed); shared_info must be mapped (events.h). */
uint64_t pvclock_now(unsigned int vcpu);
/* The TSC frequency the pvclock implies, in kHz (Linux's pvclock_tsc_khz). */
uint64_t pvclock_tsc_khz(const volatile struct vcpu_time_info *t);

#endif
