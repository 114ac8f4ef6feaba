/* PVH boot for test guests: Xen ELF note, 32-bit entry, static GDT/IDT/page tables, long-mode switch. */
#include <xen/elfnote.h>

#define GDT_CS 0x08
#define GDT_DS 0x10
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define CR4_PAE (1 << 5)
#define CR0_PG (1 << 31)

/* Standard ELF note layout, 4-byte aligned (QEMU aligns the name by the segment's p_align).
 * The descriptor is 8 bytes like Linux's, which every PVH loader accepts. */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4, 8, XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.balign 4
	.quad _start32
	.balign 4

/* Every ring-0 instruction is emulated on the development KVM (DESIGN §4), so this path is
 * straight-line: all tables are prebuilt below, nothing is computed or zeroed at runtime
 * (the loader zero-fills .bss as the ELF format requires). */
	.section .text.head, "ax"
	.code32
	.globl _start32
_start32:
	cld
	lgdt gdt_desc
	mov $GDT_DS, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $boot_pml4, %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	mov %cr0, %eax
	or $CR0_PG, %eax
	mov %eax, %cr0
	ljmp $GDT_CS, $start64

	.code64
start64:
	mov $stack_top, %esp
	lidt idt_desc
	mov %ebx, %edi			/* hvm_start_info physical address (PVH ABI) */
	call guest_start
	ud2

/* Vectors 0-31 each get a 16-byte stub so the IDT can be a static table (see guest.ld).
 * Vectors without a CPU error code push a dummy one to keep one frame layout. */
	.balign 512
	.globl exc_stubs
exc_stubs:
	.set vec, 0
	.rept 32
	.balign 16
	.if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	push $0
	.endif
	push $vec
	jmp exc_common
	.set vec, vec + 1
	.endr

exc_common:
	mov (%rsp), %edi		/* vector */
	mov 8(%rsp), %rsi		/* error code */
	mov 16(%rsp), %rdx		/* faulting rip */
	mov %cr2, %rcx
	and $-16, %rsp
	call guest_exception
	ud2

	.section .data.boot, "aw"
	.balign 8
gdt:
	.quad 0
	.quad 0x00af9b000000ffff	/* 64-bit code; accessed bit preset so the CPU never writes it */
	.quad 0x00cf93000000ffff	/* flat data */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.balign 8
idt:
	.set vec, 0
	.rept 32
	.word exc_stubs_lo + vec * 16	/* exc_stubs_lo/hi: split by the linker script */
	.word GDT_CS
	.byte 0, 0x8e			/* present, DPL 0, 64-bit interrupt gate */
	.word exc_stubs_hi
	.long 0, 0
	.set vec, vec + 1
	.endr
idt_end:
	.balign 8
idt_desc:
	.word idt_end - idt - 1
	.quad idt

/* Identity map of the low 4 GiB: 2 MiB pages, except the first 2 MiB, which uses 4 KiB pages
 * so that a test can unmap page 0. The top GiB (LAPIC, IOAPIC, special pages) is uncached. */
	.section .data.pagetables, "aw"
	.balign 4096
	.globl boot_pml4
boot_pml4:
	.quad boot_pdpt + 0x3
	.fill 511, 8, 0
boot_pdpt:
	.quad boot_pd + 0x3, boot_pd + 0x1003, boot_pd + 0x2003, boot_pd + 0x3003
	.fill 508, 8, 0
boot_pd:
	.quad boot_pt0 + 0x3
	.set i, 1
	.rept 2047
	.if i >= 1536
	.quad (i << 21) | 0x9b		/* P RW PWT PCD PS */
	.else
	.quad (i << 21) | 0x83		/* P RW PS */
	.endif
	.set i, i + 1
	.endr
	.globl boot_pt0
boot_pt0:
	.set i, 0
	.rept 512
	.quad (i << 12) | 0x3
	.set i, i + 1
	.endr

	.section .bss.boot, "aw", @nobits
	.balign 4096
	.globl hypercall_page
hypercall_page:
	.skip 4096
	.balign 16
	.skip 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
