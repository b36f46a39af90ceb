/* Hostile: every port 0-0xFFFF written with all ones and read, at widths 1,
 * 2 and 4. The VMM must survive it; then exit status 0. Only the writes
 * whose all-ones legitimately end the VM are left out (the reads stay):
 * any reaching the exit port 0xf4-0xf7 or port 0x92 (bit 0: fast reset),
 * and the byte at 0xCF9 (bit 2: reset; wider accesses there are not the
 * reset control register). The boot tests check that those do end it. */
#include "common64.h"
	.code64
	.globl _start
_start:
	xorl %edx, %edx
1:	movl $1, %ecx
2:	call ends_vm
	jnc 3f
	movl $0xffffffff, %eax
	cmpl $1, %ecx
	jne 4f
	outb %al, %dx
	jmp 3f
4:	cmpl $2, %ecx
	jne 5f
	outw %ax, %dx
	jmp 3f
5:	outl %eax, %dx
3:	cmpl $1, %ecx
	jne 6f
	inb %dx, %al
	jmp 8f
6:	cmpl $2, %ecx
	jne 7f
	inw %dx, %ax
	jmp 8f
7:	inl %dx, %eax
8:	shll $1, %ecx
	cmpl $4, %ecx
	jbe 2b
	incw %dx
	jnz 1b
	exit 0

/* Carry clear when an all-ones write of %ecx bytes at port %dx ends the
 * VM, set when it may be done. Keeps %ecx and %edx. */
ends_vm:
	leaq fatal(%rip), %rsi
	movzwl %dx, %edi
9:	movzwl (%rsi), %eax		/* first port; 0: end of the table */
	testl %eax, %eax
	jz 11f
	testw %cx, 4(%rsi)		/* only at these widths */
	jz 10f
	leal -1(%edi,%ecx), %r8d	/* last port written */
	cmpl %eax, %r8d
	jb 10f
	movzwl 2(%rsi), %eax		/* last port of the entry */
	cmpl %eax, %edi
	ja 10f
	clc
	ret
10:	addq $6, %rsi
	jmp 9b
11:	stc
	ret

	.section .rodata
	.balign 2
/* first port, last port, widths (1 | 2 | 4) */
fatal:	.short EXIT_PORT, EXIT_PORT + 3, 7
	.short 0x92, 0x92, 7
	.short 0xcf9, 0xcf9, 1
	.short 0
