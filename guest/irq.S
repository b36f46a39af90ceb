/* Stubs for vectors 32-255: push the vector, save the registers a C call
 * may clobber and RBP, call irq_dispatch(vector), iretq. The C code is built with
 * -mgeneral-regs-only, so no SSE state needs saving. */
	.text
	.code64

	.altmacro
.macro irq_stub n
irq_stub_\n:
	pushq $\n
	jmp irq_common
.endm

	.align 16
	.globl irq_stubs_start
irq_stubs_start:
	.set vec, 32
	.rept 224
	irq_stub %vec
	.align 16
	.set vec, vec + 1
	.endr

irq_common:
	pushq %rbp
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	movq 80(%rsp), %rdi		/* the vector */
	movq %rsp, %rbp
	andq $-16, %rsp			/* the ABI's call alignment */
	call irq_dispatch
	movq %rbp, %rsp
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	popq %rbp
	addq $8, %rsp			/* the vector */
	iretq

	.section .note.GNU-stack, "", @progbits
