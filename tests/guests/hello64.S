/* Prints a line on COM1 and exits with status 42 (tinyvmm exits 85). */
#include "common64.h"
	.code64
	.globl _start
_start:
	lea msg(%rip), %rsi
	movw $COM1, %dx
1:	lodsb
	testb %al, %al
	jz 2f
	outb %al, %dx
	jmp 1b
2:	exit 42
msg:	.asciz "hello from an ELF64 guest\n"
