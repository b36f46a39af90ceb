/* Hostile: every port 0-0xFFFF (but 0xf1-0xf7, around the exit port) written and read at
 * widths 1, 2 and 4. The VMM must survive it; then exit status 0. */
#include "common64.h"
	.code64
	.globl _start
_start:
	xorl %edx, %edx
1:	cmpw $EXIT_PORT - 3, %dx		/* a wide access at 0xf1 reaches 0xf4 */
	jb 2f
	cmpw $EXIT_PORT + 3, %dx
	jbe 3f
2:	movl $0xffffffff, %eax
	outb %al, %dx
	outw %ax, %dx
	outl %eax, %dx
	inb %dx, %al
	inw %dx, %ax
	inl %dx, %eax
3:	incw %dx
	jnz 1b
	exit 0
