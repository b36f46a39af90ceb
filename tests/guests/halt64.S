/* hlt with interrupts off: nothing can wake this vCPU. */
	.code64
	.globl _start
_start:
	cli
	hlt
	jmp _start
