/* Where an AP starts: a copy of [trampoline_start, trampoline_end) at
 * TRAMPOLINE_ADDR (SIPI vector TRAMPOLINE_ADDR >> 12), in real mode with
 * CS = vector << 8, IP = 0. It loads a GDT, enters 32-bit protected mode
 * and jumps to code above 1 MiB (the copy holds no absolute addresses of
 * its own except the GDT descriptor), which enables long mode with the
 * BSP's page tables (ap_cr3), takes the next stack from ap_stacks and
 * calls ap_main(). The image is one contiguous blob because QEMU's
 * multiboot loader copies the ELF that way: hence the copy at run time.
 *
 * The same copy is the ACPI S3 waking vector (real mode, CS:IP =
 * TRAMPOLINE_ADDR >> 4 : 0): after S3 every CPU was reset, and the BSP
 * arrives here while s3_wake_rsp is set. It then resumes s3_suspend's
 * caller instead of becoming an AP. */
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
	movl ap_cr3, %eax		/* s3_suspend sets it too */
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
	movq s3_wake_rsp, %rax
	testq %rax, %rax
	jnz s3_wake
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

/* int s3_suspend(void (*sleep)(void)): saves the callee-saved registers,
 * RSP and CR3, then calls sleep(), which asks for S3. 0 if sleep()
 * returned (the machine did not sleep); 1 when it woke up through the
 * trampoline, with the IDT loaded again and everything else as reset left
 * it (LAPIC, devices). */
	.globl s3_suspend
s3_suspend:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	subq $8, %rsp			/* keep the ABI's 16-byte alignment */
	movq %cr3, %rax
	movq %rax, ap_cr3
	movq %rsp, s3_wake_rsp
	call *%rdi
	xorl %eax, %eax
	jmp 2f
s3_wake:
	movq %rax, %rsp
	call idt_load
	movl $1, %eax
2:	movq $0, s3_wake_rsp
	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	.section .bss
	.align 8
s3_wake_rsp:	.skip 8

	.section .rodata
	.align 8
ap_gdt:
	.quad 0
	.quad 0x00af9a000000ffff		/* 0x08: 64-bit code, as start.S */
	.quad 0x00cf92000000ffff		/* 0x10: data */
	.quad 0x00cf9a000000ffff		/* 0x18: 32-bit code */
ap_gdt_end:

	.section .note.GNU-stack, "", @progbits
