/* Hypercalls through Xen's hypercall page (64-bit convention) and Xen CPUID leaf discovery. */
#ifndef GUEST_HYPERCALL_H
#define GUEST_HYPERCALL_H

#include <stdbool.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/sched.h>
#include <xen/version.h>
#include <xen/memory.h>
#include <xen/errno.h>
#include <xen/arch-x86/cpuid.h>

extern uint8_t hypercall_page[4096];
extern uint32_t xen_cpuid_base;	/* 0 when no Xen leaves were found */

bool xen_init(void);

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	asm volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "0"(leaf), "2"(0));
}

/* The stub may clobber every argument register (Xen debug builds do), so all five are
 * outputs; unused ones are passed as 0. nr is a runtime value so tests can probe any of
 * the page's 128 slots; it must be below 128. */
static inline long hypercall(unsigned int nr, unsigned long a1, unsigned long a2, unsigned long a3,
			     unsigned long a4, unsigned long a5)
{
	register unsigned long rdi asm("rdi") = a1;
	register unsigned long rsi asm("rsi") = a2;
	register unsigned long rdx asm("rdx") = a3;
	register unsigned long r10 asm("r10") = a4;
	register unsigned long r8 asm("r8") = a5;
	long ret;
	asm volatile("call *%[fn]"
		     : "=a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10), "+r"(r8)
		     : [fn] "r"(hypercall_page + nr * 32)
		     : "memory");
	return ret;
}

#define hypercall0(nr) hypercall(nr, 0, 0, 0, 0, 0)
#define hypercall1(nr, a1) hypercall(nr, (unsigned long)(a1), 0, 0, 0, 0)
#define hypercall2(nr, a1, a2) hypercall(nr, (unsigned long)(a1), (unsigned long)(a2), 0, 0, 0)
#define hypercall3(nr, a1, a2, a3) \
	hypercall(nr, (unsigned long)(a1), (unsigned long)(a2), (unsigned long)(a3), 0, 0)
#define hypercall4(nr, a1, a2, a3, a4)                                                      \
	hypercall(nr, (unsigned long)(a1), (unsigned long)(a2), (unsigned long)(a3),        \
		  (unsigned long)(a4), 0)
#define hypercall5(nr, a1, a2, a3, a4, a5)                                                  \
	hypercall(nr, (unsigned long)(a1), (unsigned long)(a2), (unsigned long)(a3),        \
		  (unsigned long)(a4), (unsigned long)(a5))

/* Arguments are unsigned long so tests can pass addresses the C types would not allow. */
#define HYPERVISOR_console_io(cmd, len, buf) hypercall3(__HYPERVISOR_console_io, cmd, len, buf)
#define HYPERVISOR_xen_version(cmd, arg) hypercall2(__HYPERVISOR_xen_version, cmd, arg)
#define HYPERVISOR_sched_op(cmd, arg) hypercall2(__HYPERVISOR_sched_op, cmd, arg)
#define HYPERVISOR_memory_op(cmd, arg) hypercall2(__HYPERVISOR_memory_op, cmd, arg)
#define HYPERVISOR_hvm_op(cmd, arg) hypercall2(__HYPERVISOR_hvm_op, cmd, arg)
#define HYPERVISOR_event_channel_op(cmd, arg) hypercall2(__HYPERVISOR_event_channel_op, cmd, arg)
#define HYPERVISOR_vcpu_op(cmd, vcpu, arg) hypercall3(__HYPERVISOR_vcpu_op, cmd, vcpu, arg)

#endif
