/* Hostile: every offset of the LAPIC page written with all-ones and read,
 * at widths 1, 2, 4 and 8, aligned and not. Then exit status 0. */
#include "common64.h"
	.code64
	.globl _start
_start:
	movq $0xfee00000, %rbx
	xorl %ecx, %ecx
	movq $-1, %rax
1:	movb %al, (%rbx,%rcx)
	movw %ax, (%rbx,%rcx)
	movl %eax, (%rbx,%rcx)
	movq %rax, (%rbx,%rcx)
	movb (%rbx,%rcx), %dl
	movw (%rbx,%rcx), %dx
	movl (%rbx,%rcx), %edx
	movq (%rbx,%rcx), %rdx
	addl $3, %ecx			/* aligned and misaligned offsets */
	cmpl $0xff8, %ecx
	jb 1b
	exit 0
