/* Spins forever: only --timeout ends it. */
	.code64
	.globl _start
_start:
	jmp _start
