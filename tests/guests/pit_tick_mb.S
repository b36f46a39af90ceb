/* PIT tick benchmark, multiboot v1 so tinyvmm and QEMU (-M pc -kernel) run
 * the same file; start-up in mb_smp_start.S (long mode: kvm_pvm's emulator
 * cannot do a 32-bit IRET).
 *
 * Remaps the 8259s to vectors 0x20/0x28, unmasks IRQ 0 only, sets LINT0 to
 * ExtINT (virtual wire, as firmware leaves a PC), and runs PIT counter 0 in
 * mode 2 at 1 kHz (count 1193). It waits in `sti; hlt`; the handler counts
 * ticks and ends each with a non-specific EOI (OCW2). The phases, in ticks:
 *   WARMUP    the host finds the VMM running (start-up is not measured)
 *   N         measured: "pit-bench start" is printed on the first tick,
 *             "pit-bench stop" on the last; the host samples its counters
 *             (CPU time, exits) on these lines
 *   TAIL      the VMM keeps ticking while the host reads the stop sample
 * then "pit-bench ticks=N tsc=C total=T": C is the TSC cycles over the N
 * ticks, T every tick counted. Then IRQ 0 is masked, the counter stopped, and
 * status 0 goes to isa-debug-exit. N is the command line's last word if it
 * is a number 1..99999999, else DEFAULT_TICKS. Per tick the guest runs a
 * dozen instructions: CPL0 code is emulated on kvm_pvm hosts (~1 us each). */
#define BSP_STACK	0x7ff00
#define AP_STACK	0x7000		/* no AP is started */
#define IDT_VECTORS	0x28
#include "mb_smp_start.S"

#define DEFAULT_TICKS	2000
#define WARMUP		100
#define TAIL		100
#define MAX_DIGITS	8

#define VEC_PIC_MASTER	0x20		/* IRQ 0 */
#define VEC_PIC_SLAVE	0x28
#define VEC_SPURIOUS	(VEC_PIC_MASTER + 7)
#define LAPIC_LINT0	0x350
#define PIT_COUNT	1193		/* 1.193182 MHz / 1193 = 1000.15 Hz */
#define COM1		0x3f8

	.text
	.code64
long_mode:
	lidt idt_desc
	movl %ebx, %ebx			/* the multiboot info, zero-extended */
	call parse_ticks
	movl %eax, ticks_wanted
	movq $idt + VEC_PIC_MASTER * 16, %rdi
	movq $pit_tick, %rax
	call set_gate
	movq $idt + VEC_SPURIOUS * 16, %rdi
	movq $spurious, %rax
	call set_gate

	movq $LAPIC, %rdx		/* enabled, LINT0 ExtINT unmasked */
	movl $0x1ff, LAPIC_SVR(%rdx)
	movl $0x700, LAPIC_LINT0(%rdx)
	call pic_init
	movb $0x34, %al			/* counter 0, LSB then MSB, mode 2 */
	outb %al, $0x43
	movb $PIT_COUNT & 0xff, %al
	outb %al, $0x40
	movb $PIT_COUNT >> 8, %al
	outb %al, $0x40

	movl $WARMUP, %esi
	call wait_ticks
	rdtsc
	movl %eax, tsc_start
	movl %edx, tsc_start + 4
	movq $msg_start, %rsi
	call puts
	movl ticks_wanted, %esi
	addl $WARMUP, %esi
	call wait_ticks
	rdtsc
	movl %eax, tsc_stop
	movl %edx, tsc_stop + 4
	movq $msg_stop, %rsi
	call puts
	movl ticks_wanted, %esi
	addl $WARMUP + TAIL, %esi
	call wait_ticks

	cli
	movb $0xff, %al			/* mask IRQ 0 again */
	outb %al, $0x21
	movb $0x30, %al			/* counter 0 to mode 0, no count: stopped */
	outb %al, $0x43
	movq $msg_ticks, %rsi
	call puts
	movl ticks_wanted, %eax
	call put_dec
	movq $msg_tsc, %rsi
	call puts
	movq tsc_stop, %rax
	subq tsc_start, %rax
	call put_dec
	movq $msg_total, %rsi
	call puts
	movl ticks, %eax
	call put_dec
	movb $'\n', %al
	call putc
	xorl %eax, %eax
	outb %al, $0xf4
1:	hlt
	jmp 1b

/* Both 8259s: edge, cascade on IR2, 8086 mode, bases 0x20 and 0x28; all
 * inputs masked but the master's IRQ 0. */
pic_init:
	movb $0x11, %al			/* ICW1: edge, cascade, ICW4 follows */
	outb %al, $0x20
	outb %al, $0xa0
	movb $VEC_PIC_MASTER, %al	/* ICW2 */
	outb %al, $0x21
	movb $VEC_PIC_SLAVE, %al
	outb %al, $0xa1
	movb $0x04, %al			/* ICW3: slave on IR2 / slave ID 2 */
	outb %al, $0x21
	movb $0x02, %al
	outb %al, $0xa1
	movb $0x01, %al			/* ICW4: 8086 mode, normal EOI */
	outb %al, $0x21
	outb %al, $0xa1
	movb $0xfe, %al			/* OCW1: masks */
	outb %al, $0x21
	movb $0xff, %al
	outb %al, $0xa1
	ret

/* Sleeps until ticks >= %esi. sti's one-instruction shadow makes sti; hlt
 * atomic, so a tick between the compare and hlt is not slept through. */
wait_ticks:
1:	cli
	cmpl %esi, ticks
	jae 2f
	sti
	hlt
	jmp 1b
2:	sti
	ret

pit_tick:
	incl ticks
	pushq %rax
	movb $0x20, %al			/* OCW2: non-specific EOI */
	outb %al, $0x20
	popq %rax
	iretq

/* IRQ 7 without a request in service: no EOI (8259A datasheet). */
spurious:
	iretq

/* %eax = the ticks asked for: the command line's last word (flags bit 2:
 * the multiboot info at %rbx has one) if it is 1..MAX_DIGITS decimal
 * digits, not 0, after a space or at its start; else DEFAULT_TICKS. */
parse_ticks:
	testl $4, (%rbx)
	jz 9f
	movl 16(%rbx), %esi		/* its address (32-bit) */
	movq %rsi, %rdi
1:	cmpb $0, (%rdi)			/* %rdi = its end */
	je 2f
	incq %rdi
	jmp 1b
2:	movq %rdi, %rcx			/* back over the digits */
3:	cmpq %rsi, %rcx
	je 4f
	movb -1(%rcx), %al
	subb $'0', %al
	cmpb $9, %al
	ja 4f
	decq %rcx
	jmp 3b
4:	movq %rdi, %rdx			/* 1..MAX_DIGITS of them */
	subq %rcx, %rdx
	jz 9f
	cmpq $MAX_DIGITS, %rdx
	ja 9f
	cmpq %rsi, %rcx			/* at the start or after a space */
	je 5f
	cmpb $' ', -1(%rcx)
	jne 9f
5:	xorl %eax, %eax
6:	imull $10, %eax, %eax
	movzbl (%rcx), %edx
	subl $'0', %edx
	addl %edx, %eax
	incq %rcx
	cmpq %rdi, %rcx
	jne 6b
	testl %eax, %eax
	jnz 8f
9:	movl $DEFAULT_TICKS, %eax
8:	ret

/* The NUL-terminated string at %rsi to COM1. */
puts:
	movw $COM1, %dx
1:	movb (%rsi), %al
	testb %al, %al
	jz 2f
	outb %al, %dx
	incq %rsi
	jmp 1b
2:	ret

putc:
	movw $COM1, %dx
	outb %al, %dx
	ret

/* %rax in decimal to COM1. */
put_dec:
	movq $numbuf_end, %rsi
	movb $0, (%rsi)
	movl $10, %ecx
1:	xorl %edx, %edx
	divq %rcx
	addb $'0', %dl
	decq %rsi
	movb %dl, (%rsi)
	testq %rax, %rax
	jnz 1b
	jmp puts

	.data
msg_start:	.asciz "pit-bench start\n"
msg_stop:	.asciz "pit-bench stop\n"
msg_ticks:	.asciz "pit-bench ticks="
msg_tsc:	.asciz " tsc="
msg_total:	.asciz " total="
	.align 8
tsc_start:	.quad 0
tsc_stop:	.quad 0
ticks:		.long 0			/* IRQ 0s taken */
ticks_wanted:	.long 0
numbuf:		.skip 24
numbuf_end:	.byte 0
