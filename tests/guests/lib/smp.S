/* Real-mode trampoline for a secondary vCPU (copied to 0x8000 by cpu.c) and its 64-bit entry. */
#define TRAMPOLINE 0x8000
#define T(sym) (TRAMPOLINE + ((sym) - ap_trampoline))

	.section .rodata, "a"
	.code16
	.globl ap_trampoline, ap_trampoline_end
ap_trampoline:
	cli
	xor %ax, %ax
	mov %ax, %ds
	lgdtl T(ap_gdt_desc)
	mov %cr0, %eax
	or $1, %eax			/* PE */
	mov %eax, %cr0
	ljmpl $0x18, $T(ap_prot32)

	.code32
ap_prot32:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %cr4, %eax
	or $(1 << 5), %eax		/* PAE */
	mov %eax, %cr4
	mov $boot_pml4, %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx		/* EFER.LME */
	rdmsr
	or $(1 << 8), %eax
	wrmsr
	mov %cr0, %eax
	or $(1 << 31), %eax		/* PG: long mode */
	mov %eax, %cr0
	ljmp $0x08, $ap_start64

	.balign 8
ap_gdt:
	.quad 0
	.quad 0x00af9b000000ffff	/* 0x08: 64-bit code, as head.S */
	.quad 0x00cf93000000ffff	/* 0x10: flat data */
	.quad 0x00cf9b000000ffff	/* 0x18: 32-bit code, for the step through protected mode */
ap_gdt_desc:
	.word ap_gdt_desc - ap_gdt - 1
	.long T(ap_gdt)
ap_trampoline_end:

	.text
	.code64
ap_start64:
	mov ap_stack_ptr(%rip), %rsp
	lidt ap_idt_desc(%rip)
	call ap_main
	ud2
