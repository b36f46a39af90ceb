/* The cost of one LAPIC register write, the exit an IPI's ICR write and
 * EOI take: multiboot v1 like the other IPI guests, so tinyvmm and QEMU run
 * the same file. The BSP writes 0 to the TPR APIC_LOOP_ITERATIONS times
 * (each write exits to the VMM, or under QEMU's in-kernel LAPIC to the
 * kernel), then status 0. xAPIC: a 32-bit MMIO store; built with -DX2APIC,
 * a WRMSR to 0x808; three instructions per iteration either way. Built with
 * -DITERATIONS=1 it is the start-up that tests/bench/run.sh subtracts. */
#include "loop.h"

#ifndef ITERATIONS
#define ITERATIONS	APIC_LOOP_ITERATIONS
#endif
#define BSP_STACK	0x7ff00
#define AP_STACK	0x7000
#define IDT_VECTORS	1
#include "mb_smp_start.S"
#include "ipi_apic.h"

	.text
	.code64
long_mode:
	movq $LAPIC, %rbx
	apic_enable
	movl $ITERATIONS, %esi
#ifdef X2APIC
	movl $X2APIC_TPR, %ecx
	xorl %eax, %eax
	xorl %edx, %edx
1:	wrmsr
#else
1:	movl $0, LAPIC_TPR(%rbx)
#endif
	decl %esi
	jnz 1b
	xorl %eax, %eax
	outb %al, $0xf4
