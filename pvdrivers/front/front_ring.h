/* Xen's shared-ring macros (<xen/io/ring.h>) with the barriers they expect from the includer. */
#ifndef PVFRONT_FRONT_RING_H
#define PVFRONT_FRONT_RING_H

#include "front_env.h"

/* x86 keeps stores and loads in order except a load passing an earlier store: only the full
 * barrier needs an instruction (mfence); the others only stop the compiler. */
#define xen_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)

#include <xen/grant_table.h>
#include <xen/io/ring.h>

#endif
