/* Where an AP starts: a copy of [trampoline_start, trampoline_end) at
 * TRAMPOLINE_ADDR (SIPI vector TRAMPOLINE_ADDR >> 12), in real mode with
 * CS = vector << 8, IP = 0. It loads a GDT, enters 32-bit protected mode
 * and jumps to code above 1 MiB (the copy holds no absolute addresses of
 * its own except the GDT descriptor), which enables long mode with the
 * BSP's page tables (ap_cr3), takes the next stack from ap_stacks and
 * calls ap_main(). The image is one contiguous blob because QEMU's
 * multiboot loader copies the ELF that way: hence the copy at run time. */
#include "smp.h"

	.text
	.code16
	.globl trampoline_start, trampoline_end
trampoline_start:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	/* Real mode reaches only the low 64 KiB: use the copy's descriptor. */
	lgdtl TRAMPOLINE_ADDR + (tramp_gdt_desc - trampoline_start)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x18, $ap_protected
	.align 4
tramp_gdt_desc:
	.word ap_gdt_end - ap_gdt - 1
	.long ap_gdt
trampoline_end:

	.code32
ap_protected:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %cr4, %eax
	orl $0x20, %eax			/* PAE */
	movl %eax, %cr4
	movl ap_cr3, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx		/* EFER.LME */
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax		/* PG | PE */
	movl %eax, %cr0
	ljmp $0x08, $ap_long_mode

	.code64
ap_long_mode:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	/* APs arrive in any order: each takes the next stack atomically. */
	movl $1, %eax
	lock xaddl %eax, ap_next_stack
	incl %eax
	shlq $AP_STACK_SHIFT, %rax
	leaq ap_stacks(%rax), %rsp
	call ap_main
1:	cli
	hlt
	jmp 1b

	.section .rodata
	.align 8
ap_gdt:
	.quad 0
	.quad 0x00af9a000000ffff		/* 0x08: 64-bit code, as start.S */
	.quad 0x00cf92000000ffff		/* 0x10: data */
	.quad 0x00cf9a000000ffff		/* 0x18: 32-bit code */
ap_gdt_end:

	.section .note.GNU-stack, "", @progbits
