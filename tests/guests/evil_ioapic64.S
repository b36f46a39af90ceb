/* Hostile: the interrupt controllers. The I/O APIC page (0xFEC00000): every
 * offset at every width that fits, written with junk and read; every
 * IOREGSEL with IOWIN written all-ones and read; every pin's entry with
 * every delivery mode (reserved ones too), illegal vectors, level and edge,
 * sent to nobody (logical destination 0), fixed and lowest priority also
 * to CPU 0 (vectors 0-15, refused, and 0xFF), while the PIT pulses pin 2.
 * Then the 8259s: the ELCR all-ones, the PIT at its fastest, every IRQ
 * unmasked in AEOI mode with IF=1, then random ICW/OCW bytes to both chips
 * (vector bases onto the exception vectors, poll, special mask, rotation),
 * with reads. Every IDT vector just returns (after a LAPIC EOI), so
 * whatever storm the garbage makes is survived. Then exit status 0.
 * Nothing here unmasks an entry that sends INIT to CPU 0 (that would
 * legitimately restart it): all-ones writes leave the entry masked. */
#include "common64.h"

#define IOAPIC		0xfec00000
#define IOWIN		0x10
#define REDTBL		0x10
#define NPINS		24
#define RTE_LOGICAL	(1 << 11)
#define RTE_LEVEL	(1 << 15)
#define RTE_MASKED	(1 << 16)
#define PIT_CH0		0x40
#define PIT_CTRL	0x43
#define ELCR		0x4d0
#define GARBAGE_ROUNDS	12000
#define STORM_ROUNDS	2000

	.code64
	.globl _start
_start:
	call setup_idt
	sti
	movq $IOAPIC, %rbx
	movq $-1, %rax
	call sweep_page
	movabsq $0xa5a5a5a5a5a5a5a5, %rax	/* IOREGSEL 0xA5: no register */
	call sweep_page
	call sweep_ioregsel
	call pit_fastest
	call sweep_modes
	call mask_all_entries
	call elcr_all_ones
	call pic_storm
	call pic_garbage
	exit 0

/* Every vector: an interrupt gate to just_return, in the current CS. */
setup_idt:
	leaq idt(%rip), %rdi
	leaq just_return(%rip), %rax
	movw %cs, %dx
	movl $256, %ecx
1:	movw %ax, (%rdi)			/* offset 15:0 */
	movw %dx, 2(%rdi)			/* selector */
	movw $0x8e00, 4(%rdi)			/* present, DPL 0, interrupt gate */
	movq %rax, %r8
	shrq $16, %r8
	movw %r8w, 6(%rdi)			/* offset 31:16 */
	shrq $16, %r8
	movl %r8d, 8(%rdi)			/* offset 63:32 */
	movl $0, 12(%rdi)
	addq $16, %rdi
	decl %ecx
	jnz 1b
	leaq idtr(%rip), %rax
	leaq idt(%rip), %rdx
	movq %rdx, 2(%rax)
	lidt (%rax)
	ret

/* An EOI to the LAPIC (spurious when the 8259 sent it: harmless), so
 * that its vectors keep coming too. */
just_return:
	pushq %rax
	movabsq $0xfee000b0, %rax
	movl $0, (%rax)
	popq %rax
	iretq

/* %rax written at every offset of the page at 1, 2, 4 and 8 bytes (the
 * widths that fit), each then read. At offset 0 it selects register
 * %al, which must name none (the IOWIN writes then go nowhere). */
sweep_page:
	xorl %ecx, %ecx
1:	movb %al, (%rbx,%rcx)
	movb (%rbx,%rcx), %dl
	cmpl $0xffe, %ecx
	ja 2f
	movw %ax, (%rbx,%rcx)
	movw (%rbx,%rcx), %dx
	cmpl $0xffc, %ecx
	ja 2f
	movl %eax, (%rbx,%rcx)
	movl (%rbx,%rcx), %edx
	cmpl $0xff8, %ecx
	ja 2f
	movq %rax, (%rbx,%rcx)
	movq (%rbx,%rcx), %rdx
2:	incl %ecx
	cmpl $0x1000, %ecx
	jb 1b
	ret

/* IOREGSEL 0-255 in order, IOWIN all-ones, read back. An entry's low
 * word comes first, so it is masked before its high word makes the
 * destination 0xFF (everyone). */
sweep_ioregsel:
	xorl %ecx, %ecx
1:	movl %ecx, (%rbx)
	movl $0xffffffff, IOWIN(%rbx)
	movl IOWIN(%rbx), %edx
	incl %ecx
	cmpl $0x100, %ecx
	jb 1b
	ret

/* Channel 0, mode 2, count 1 (the smallest there is): IRQ 0 as fast as
 * the PIT goes. */
pit_fastest:
	movb $0x34, %al
	outb %al, $PIT_CTRL
	movb $1, %al
	outb %al, $PIT_CH0
	xorl %eax, %eax
	outb %al, $PIT_CH0
	ret

/* Entry %edi (pin) := high %esi, low %edx (low last). */
set_entry:
	leal REDTBL+1(,%rdi,2), %eax
	movl %eax, (%rbx)
	movl %esi, IOWIN(%rbx)
	decl %eax
	movl %eax, (%rbx)
	movl %edx, IOWIN(%rbx)
	movl IOWIN(%rbx), %eax			/* read back */
	ret

/* Every pin, every delivery mode, vectors 0-15 and 0xFF, edge and
 * level: unmasked to logical destination 0, nobody. Fixed and lowest
 * priority also to CPU 0 (physical), where vectors 0-15 are refused.
 * Each entry's high word is 0 throughout, so INIT never reaches CPU 0. */
sweep_modes:
	xorl %edi, %edi				/* pin */
1:	xorl %r9d, %r9d				/* mode */
2:	xorl %r10d, %r10d			/* vector index 0-16 */
3:	movl %r10d, %edx
	cmpl $16, %edx
	jb 4f
	movl $0xff, %edx
4:	movl %r9d, %eax
	shll $8, %eax
	orl %eax, %edx
	orl $RTE_LOGICAL, %edx
	testl $1, %r10d
	jz 5f
	orl $RTE_LEVEL, %edx
5:	xorl %esi, %esi				/* logical 0: nobody */
	call set_entry
	cmpl $1, %r9d				/* fixed or lowest: CPU 0 too */
	ja 6f
	andl $~RTE_LOGICAL, %edx
	call set_entry
6:	incl %r10d
	cmpl $17, %r10d
	jb 3b
	incl %r9d
	cmpl $8, %r9d
	jb 2b
	incl %edi
	cmpl $NPINS, %edi
	jb 1b
	ret

mask_all_entries:
	xorl %edi, %edi
1:	xorl %esi, %esi
	movl $RTE_MASKED, %edx
	call set_entry
	incl %edi
	cmpl $NPINS, %edi
	jb 1b
	ret

/* The ELCR all-ones, as bytes and as a word, read back. */
elcr_all_ones:
	movw $ELCR, %dx
	movb $0xff, %al
	outb %al, %dx
	inb %dx, %al
	incw %dx
	movb $0xff, %al
	outb %al, %dx
	inb %dx, %al
	decw %dx
	movw $0xffff, %ax
	outw %ax, %dx
	inw %dx, %ax
	ret

/* Both chips initialized in auto-EOI (no EOI needed, so IRQ 0 keeps
 * coming), everything unmasked, IF=1: read IRR, ISR and poll meanwhile. */
pic_storm:
	leaq pic_init(%rip), %rsi
1:	movzwl (%rsi), %edx
	testl %edx, %edx
	jz 2f
	movb 2(%rsi), %al
	outb %al, %dx
	addq $4, %rsi
	jmp 1b
2:	movl $STORM_ROUNDS, %ecx
3:	movb $0x0a, %al				/* OCW3: read IRR */
	outb %al, $0x20
	inb $0x20, %al
	movb $0x0b, %al				/* OCW3: read ISR */
	outb %al, $0xa0
	inb $0xa0, %al
	movb $0x0c, %al				/* OCW3: poll */
	outb %al, $0x20
	inb $0x21, %al
	decl %ecx
	jnz 3b
	ret

/* Random bytes (xorshift32) to a random one of the four ports, each
 * followed by a read of a random port. Every 16th round a burst from
 * garbage_seq (ICW sequences, special mask, poll, rotations). */
pic_garbage:
	movl $0x2545f491, %r8d			/* the generator's state */
	movl $GARBAGE_ROUNDS, %r9d
1:	movl %r8d, %eax
	shll $13, %eax
	xorl %eax, %r8d
	movl %r8d, %eax
	shrl $17, %eax
	xorl %eax, %r8d
	movl %r8d, %eax
	shll $5, %eax
	xorl %eax, %r8d
	movl %r8d, %ecx
	andl $3, %ecx
	leaq pic_ports(%rip), %rsi
	movw (%rsi,%rcx,2), %dx
	movl %r8d, %eax
	shrl $8, %eax
	outb %al, %dx
	movl %r8d, %ecx
	shrl $16, %ecx
	andl $3, %ecx
	movw (%rsi,%rcx,2), %dx
	inb %dx, %al
	testl $15, %r9d
	jnz 3f
	leaq garbage_seq(%rip), %rsi
2:	movzwl (%rsi), %edx
	testl %edx, %edx
	jz 3f
	movb 2(%rsi), %al
	outb %al, %dx
	inb %dx, %al
	addq $4, %rsi
	jmp 2b
3:	decl %r9d
	jnz 1b
	ret

	.section .rodata
	.balign 2
pic_ports:
	.short 0x20, 0x21, 0xa0, 0xa1

/* port, value (4 bytes an entry); port 0 ends a list */
	.balign 4
pic_init:
	.short 0x20; .byte 0x11, 0		/* ICW1: ICW4 follows */
	.short 0x21; .byte 0x20, 0		/* ICW2: vectors 0x20-0x27 */
	.short 0x21; .byte 0x04, 0		/* ICW3 */
	.short 0x21; .byte 0x03, 0		/* ICW4: AEOI */
	.short 0xa0; .byte 0x11, 0
	.short 0xa1; .byte 0x28, 0
	.short 0xa1; .byte 0x02, 0
	.short 0xa1; .byte 0x03, 0
	.short 0x21; .byte 0x00, 0		/* OCW1: nothing masked */
	.short 0xa1; .byte 0x00, 0
	.short 0

garbage_seq:
	.short 0x20; .byte 0x1b, 0		/* ICW1: LTIM, single, ICW4 */
	.short 0x21; .byte 0x00, 0		/* ICW2: vectors 0-7 (exceptions) */
	.short 0x21; .byte 0x13, 0		/* ICW4: SFNM, AEOI */
	.short 0x21; .byte 0x00, 0		/* nothing masked */
	.short 0x20; .byte 0x68, 0		/* special mask mode on */
	.short 0x20; .byte 0x80, 0		/* rotate in AEOI mode */
	.short 0x20; .byte 0x0c, 0		/* poll (the read follows) */
	.short 0xa0; .byte 0x15, 0		/* ICW1 on the slave, no ICW4 */
	.short 0xa1; .byte 0xff, 0		/* ICW2: vectors 0xF8-0xFF */
	.short 0xa1; .byte 0x00, 0		/* ICW3 */
	.short 0xa1; .byte 0x00, 0		/* nothing masked */
	.short 0xa0; .byte 0xc7, 0		/* IR7 lowest priority */
	.short 0xa0; .byte 0xe3, 0		/* rotate on specific EOI 3 */
	.short 0xa0; .byte 0x0c, 0		/* poll */
	.short 0x20; .byte 0x48, 0		/* special mask mode off */
	.short 0

	.data
	.balign 8
idtr:	.short 256 * 16 - 1
	.quad 0				/* the base, set at run time */

	.bss
	.balign 16
idt:	.skip 256 * 16
