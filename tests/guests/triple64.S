/* A triple fault: no IDT, then an exception (#UD) that cannot be handled. */
	.code64
	.globl _start
_start:
	lidt null_idt(%rip)
	ud2
null_idt:
	.word 0
	.quad 0
