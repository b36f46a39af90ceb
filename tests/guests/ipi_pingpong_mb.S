/* IPI ping-pong benchmark, multiboot v1 so tinyvmm, and QEMU with -smp 2,
 * run the same file. Both CPUs switch to long mode (mb_smp_start.S does it
 * and enters long_mode below). The BSP starts CPU 1 with INIT-SIPI-SIPI,
 * then IPI_ROUNDS times sends
 * vector 0x41 to CPU 1 and halts until CPU 1's handler answers with vector
 * 0x40. Then status 0. Without a second CPU it exits with status 2.
 * Built with -DX2APIC (ipi_pingpong_x2_mb.elf) both CPUs use x2APIC MSRs,
 * status 5 without x2APIC (ipi_apic.h); the handlers then clobber %eax,
 * %ecx and %edx, which the code they interrupt does not use. */
#include "loop.h"

#define ROUNDS		IPI_ROUNDS
/* For mb_smp_start.S: the stacks, and IDT gates up to 0x41 (0x40 and 0x41
 * are set at start). */
#define BSP_STACK	0x7ff00
#define AP_STACK	0x7000
#define IDT_VECTORS	0x42
#include "mb_smp_start.S"
#include "ipi_apic.h"

	.text
	.code64
/* Either CPU, from mb_smp_start.S. */
long_mode:
	movq $LAPIC, %rbx
	lidt idt_desc
	apic_enable
	cmpl $0, bsp_done
	jne ap_main
	movl $1, bsp_done
	movq $idt + 0x40 * 16, %rdi
	movq $pong_handler, %rax
	call set_gate
	movq $idt + 0x41 * 16, %rdi
	movq $ping_handler, %rax
	call set_gate

	apic_send $APIC_DEST(1), $0x4500	/* INIT, SIPI, SIPI to CPU 1 */
	apic_send $APIC_DEST(1), $0x4608
	apic_send $APIC_DEST(1), $0x4608
	movl $100000, %ecx		/* wait for CPU 1, but not forever */
3:	cmpl $0, ap_ready
	jne 4f
	pause
	loop 3b
	movb $2, %al
	outb %al, $0xf4

4:	movl $ROUNDS, %esi
5:	movl $0, pong
	apic_send $APIC_DEST(1), $0x4041	/* fixed, vector 0x41, to CPU 1 */
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

/* CPU 1 got a ping: answer CPU 0 with vector 0x40. */
ping_handler:			/* %rbx holds LAPIC on both CPUs */
	apic_send $APIC_DEST(0), $0x4040
	apic_eoi
	iretq

pong_handler:
	movl $1, pong
	apic_eoi
	iretq

	.data
ap_ready:	.long 0
pong:		.long 0
