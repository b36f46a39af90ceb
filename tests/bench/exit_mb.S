/* The trivial guest: a multiboot v1 image that writes 0 to the exit port at
 * once, in 32-bit mode. The same file boots under tinyvmm, the raw-KVM floor
 * and QEMU (-M microvm -kernel), so start-up times compare like for like. */
	.text
	.code32
	.align 4
multiboot_header:
	.long 0x1badb002, 0, -0x1badb002

	.globl _start
_start:
	xorl %eax, %eax
	outb %al, $0xf4
1:	hlt
	jmp 1b
