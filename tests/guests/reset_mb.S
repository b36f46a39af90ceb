/* The three ways a PC guest resets the machine, one per build (multiboot
 * v1, 32-bit, so QEMU -M pc -no-reboot runs the same files):
 *   -DRESET_KBC     the keyboard controller's pulse command 0xFE on 0x64,
 *                   after waiting for its input buffer, as Linux does
 *   -DRESET_PORT92  port 0x92 bit 0 set (read, OR 1, write)
 *   -DRESET_CF9     Linux's reboot=pci: 0xCF9 bit 1, then bits 1 and 2
 *   -DRESET_ONES=P  a byte of all ones to port P, as the evil port sweep
 *                   would write it (the ports it must skip)
 *   -DRESET_NONE    no reset: exit status 0
 * Each first writes POST_CODES progress codes to port 0x80, as firmware
 * and kernels' I/O delays do. A reset that did not happen ends with
 * status 1 (exit code 3). */
#define POST_CODES	10000
#define EXIT_PORT	0xf4

	.text
	.code32
	.align 4
	.long 0x1badb002, 0, -0x1badb002	/* multiboot header */

	.globl _start
_start:
	movl $POST_CODES, %ecx
1:	movb %cl, %al
	outb %al, $0x80
	loop 1b
#if defined(RESET_KBC)
	movl $100000, %ecx
2:	inb $0x64, %al			/* input buffer full: not ready */
	testb $0x02, %al
	loopnz 2b
	movb $0xfe, %al
	outb %al, $0x64
#elif defined(RESET_PORT92)
	inb $0x92, %al
	orb $0x01, %al
	outb %al, $0x92
#elif defined(RESET_CF9)
	movw $0xcf9, %dx
	inb %dx, %al
	andb $~0x06, %al
	orb $0x02, %al
	outb %al, %dx
	orb $0x04, %al
	outb %al, %dx
#elif defined(RESET_ONES)
	movw $RESET_ONES, %dx
	movb $0xff, %al
	outb %al, %dx
#elif defined(RESET_NONE)
	xorl %eax, %eax
	outb %al, $EXIT_PORT
#else
#error "which reset?"
#endif
	movb $1, %al			/* still here: no reset */
	outb %al, $EXIT_PORT
3:	hlt
	jmp 3b
