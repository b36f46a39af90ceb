/* IPI ping-pong benchmark, multiboot v1 so tinyvmm, and QEMU with -smp 2,
 * run the same file. Both CPUs switch to long mode (KVM's instruction
 * emulator, which runs CPL0 code on kvm_pvm hosts, cannot do a 32-bit
 * IRET). The BSP starts CPU 1 with INIT-SIPI-SIPI, then IPI_ROUNDS times sends
 * vector 0x41 to CPU 1 and halts until CPU 1's handler answers with vector
 * 0x40. Then status 0. Without a second CPU it exits with status 2. */
#include "loop.h"

#define LAPIC		0xfee00000
#define LAPIC_EOI	0xb0
#define LAPIC_SVR	0xf0
#define LAPIC_ICR	0x300
#define LAPIC_ICR2	0x310
#define ROUNDS		IPI_ROUNDS
#define BSP_STACK	0x7ff00
#define AP_STACK	0x7000

	.section .multiboot, "ax"
	.align 4
	.long 0x1badb002, 0, -0x1badb002

/* ---- CPU 1 starts here in real mode, from a copy at 0x8000 (SIPI vector
 * 8): only label differences and absolute addresses above 1 MiB inside. ---- */
	.text
	.code16
trampoline:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl tramp_gdt_desc - trampoline + 0x8000
	movl $AP_STACK, %esp
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x18, $enter_long_mode	/* 32-bit code, then long mode */
/* Real mode reaches only the first 64 KiB: a descriptor copy lives here. */
tramp_gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt
trampoline_end:

	.code32
	.globl _start
_start:
	lgdt gdt_desc			/* multiboot leaves GDTR to us */
	movl $BSP_STACK, %esp
	movl $trampoline, %esi		/* QEMU loads one contiguous image: */
	movl $0x8000, %edi		/* the trampoline is copied down */
	movl $trampoline_end - trampoline, %ecx
	rep movsb
	call build_page_tables
	ljmp $0x18, $enter_long_mode

/* 4 GiB identity map with 2 MiB pages: PML4 -> PDPT -> 4 page directories. */
build_page_tables:
	movl $pdpt + 3, pml4
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	addl $pds + 3, %eax
	movl %eax, pdpt(,%ecx,8)
	incl %ecx
	cmpl $4, %ecx
	jne 1b
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax
	movl %eax, pds(,%ecx,8)
	incl %ecx
	cmpl $2048, %ecx
	jne 2b
	ret

/* Either CPU, 32-bit with flat segments: PAE, CR3, EFER.LME, paging. */
enter_long_mode:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %cr4, %eax
	orl $0x20, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax
	movl %eax, %cr0
	ljmp $0x08, $long_mode

	.code64
long_mode:
	movq $LAPIC, %rbx
	lidt idt_desc
	movl $0x1ff, LAPIC_SVR(%rbx)	/* software-enable the LAPIC */
	cmpl $0, bsp_done
	jne ap_main
	movl $1, bsp_done
	movq $idt + 0x40 * 16, %rdi
	movq $pong_handler, %rax
	call set_gate
	movq $idt + 0x41 * 16, %rdi
	movq $ping_handler, %rax
	call set_gate

	movl $0x01000000, %eax		/* INIT, SIPI, SIPI to CPU 1 */
	movl %eax, LAPIC_ICR2(%rbx)
	movl $0x4500, LAPIC_ICR(%rbx)
	movl %eax, LAPIC_ICR2(%rbx)
	movl $0x4608, LAPIC_ICR(%rbx)
	movl %eax, LAPIC_ICR2(%rbx)
	movl $0x4608, LAPIC_ICR(%rbx)
	movl $100000, %ecx		/* wait for CPU 1, but not forever */
3:	cmpl $0, ap_ready
	jne 4f
	pause
	loop 3b
	movb $2, %al
	outb %al, $0xf4

4:	movl $ROUNDS, %esi
5:	movl $0, pong
	movl $0x01000000, LAPIC_ICR2(%rbx)
	movl $0x4041, LAPIC_ICR(%rbx)	/* fixed, vector 0x41, to CPU 1 */
6:	sti
	hlt
	cli
	cmpl $0, pong
	je 6b
	decl %esi
	jnz 5b
	xorl %eax, %eax
	outb %al, $0xf4

ap_main:
	movl $1, ap_ready
7:	sti
	hlt
	jmp 7b

/* A 64-bit interrupt gate at %rdi for the handler at %rax. */
set_gate:
	movw %ax, (%rdi)
	movw $0x08, 2(%rdi)
	movw $0x8e00, 4(%rdi)
	shrq $16, %rax
	movw %ax, 6(%rdi)
	shrq $16, %rax
	movl %eax, 8(%rdi)
	ret

/* CPU 1 got a ping: answer CPU 0 with vector 0x40. */
ping_handler:			/* %rbx holds LAPIC on both CPUs */
	movl $0, LAPIC_ICR2(%rbx)
	movl $0x4040, LAPIC_ICR(%rbx)
	movl $0, LAPIC_EOI(%rbx)
	iretq

pong_handler:
	movl $1, pong
	movl $0, LAPIC_EOI(%rbx)
	iretq

	.data
	.align 8
gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
	.quad 0x00cf9a000000ffff	/* 0x18: 32-bit code */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt
	.align 8
idt_desc:
	.word idt_end - idt - 1
	.quad idt
bsp_done:	.long 0
ap_ready:	.long 0
pong:		.long 0

	.bss
	.align 4096
pml4:	.skip 4096
pdpt:	.skip 4096
pds:	.skip 4 * 4096
idt:	.skip 0x42 * 16		/* gates 0x40 and 0x41 set at start */
idt_end:
