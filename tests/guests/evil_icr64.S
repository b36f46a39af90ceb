/* Hostile: an ICR flood: self IPIs with illegal vectors 0-15 and broadcast
 * fixed IPIs to a software-disabled APIC, 2000 times. Then exit 0. */
#include "common64.h"
	.code64
	.globl _start
_start:
	movq $0xfee00000, %rbx
	movl $2000, %ecx
1:	movl %ecx, %eax
	andl $15, %eax
	orl $0x40000, %eax		/* shorthand: self */
	movl %eax, 0x300(%rbx)
	movl $0xc0041, 0x300(%rbx)	/* all excluding self, vector 0x41 */
	decl %ecx
	jnz 1b
	exit 0
