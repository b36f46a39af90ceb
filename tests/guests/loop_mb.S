/* Benchmark guest, multiboot v1 so that tinyvmm, the raw-KVM floor and QEMU
 * run the same file: LOOP_ITERATIONS writes that each exit to the VMM, then
 * status 0. PIO: a byte to the UART scratch register. MMIO (-DMMIO): a
 * 32-bit store to 0xFEB00000, where nothing is mapped. */
#include "loop.h"
	.text
	.code32
	.align 4
	.long 0x1badb002, 0, -0x1badb002	/* multiboot header */

	.globl _start
_start:
	movl $LOOP_ITERATIONS, %ecx
	movl $0xfeb00000, %ebx
	movw $0x3ff, %dx
1:
#ifdef MMIO
	movl %ecx, (%ebx)
#else
	outb %al, %dx
#endif
	decl %ecx
	jnz 1b
	xorl %eax, %eax
	outb %al, $0xf4
2:	hlt
	jmp 2b
