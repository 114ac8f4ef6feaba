/* pvhv's one extension to the Xen guest ABI: the "pio" hypercall transport (abi/README.md).
 * C and C++ compatible, so freestanding test guests and the guest-kernel patch can use it. */
#ifndef PVHV_ABI_HYPERCALL_TRANSPORT_H
#define PVHV_ABI_HYPERCALL_TRANSPORT_H

/* A hypercall is a 32-bit `out %eax, $PVHV_HYPERCALL_PORT` with the hypercall number in eax
 * and the arguments in rdi, rsi, rdx, r10, r8 (Xen's 64-bit convention). The result is in
 * rax when the instruction completes. The port is below 0x100 so the instruction can use
 * the imm8 form and leave rdx (the third argument) alone; 0xe0-0xef is unused on PC
 * hardware apart from 0xe9 (Bochs debug port). */
#define PVHV_HYPERCALL_PORT 0xe4

/* Hypercall page (written through the MSR announced in CPUID leaf base+2): one 32-byte
 * stub per hypercall number:  b8 <nr:le32>   mov $nr, %eax
 *                             e7 e4          out %eax, $0xe4
 *                             c3             ret                                        */
#define PVHV_HYPERCALL_STUB_SIZE 32

/* Linux hypercall-site rewrite: the 3-byte vmcall (0f 01 c1) or vmmcall (0f 01 d9) in the
 * kernel's xen_hypercall_intel / xen_hypercall_amd becomes `out %eax, $0xe4; nop`. */
#define PVHV_REWRITE_OUT_OPCODE 0xe7
#define PVHV_REWRITE_NOP 0x90

/* pvhv's own CPUID leaves, offered with Xen's: the signature leaf (eax = the last leaf,
 * ebx/ecx/edx = "pvhvpvhvpvhv") at PVHV_CPUID_BASE, found like Xen's by scanning
 * 0x40000000..0x4000ff00 in steps of 0x100 (Linux's hypervisor_cpuid_base), and the feature
 * leaf after it. A guest kernel that cannot have its hypercall sites rewritten (the
 * guest-kernel patch) uses `out` when the feature leaf has PVHV_CPUID_PIO_HYPERCALL. */
#define PVHV_CPUID_BASE 0x40000100
#define PVHV_CPUID_SIGNATURE "pvhvpvhvpvhv"
#define PVHV_CPUID_SIGNATURE_REG 0x76687670 /* "pvhv" as a little-endian register */
#define PVHV_CPUID_FEATURES_LEAF (PVHV_CPUID_BASE + 1)
#define PVHV_CPUID_PIO_HYPERCALL (1u << 0) /* eax: the pio transport answers on the port */

#endif
