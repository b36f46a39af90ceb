/* Writes the complement of the BIOS ROM's first word back to it; exits 0 if
 * the ROM kept its value, 1 if the write went through. */
#include "common64.h"
	.code64
	.globl _start
_start:
	movq $0xffff0000, %rbx
	movl (%rbx), %eax
	movl %eax, %ecx
	notl %eax
	movl %eax, (%rbx)
	cmpl (%rbx), %ecx
	jne 1f
	exit 0
1:	exit 1
