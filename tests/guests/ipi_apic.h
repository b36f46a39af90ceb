/* The LAPIC accesses of the IPI bench guests (ipi_pingpong_mb.S,
 * ipi_storm_mb.S), #included after mb_smp_start.S: xAPIC MMIO through the
 * page at %rbx, or, built with -DX2APIC, x2APIC MSRs (SDM 11.12): an ICR
 * write is one WRMSR instead of two MMIO writes. The x2APIC macros clobber
 * %eax, %ecx and %edx. A CPU without x2APIC exits with status 5. */

#define LAPIC_TPR	0x80

#ifdef X2APIC
#define MSR_APIC_BASE	0x1b
#define APIC_BASE_EXTD	0xc00		/* EN | EXTD: x2APIC mode */
#define X2APIC_ID	0x802
#define X2APIC_TPR	0x808
#define X2APIC_EOI	0x80b
#define X2APIC_SVR	0x80f
#define X2APIC_ICR	0x830

/* This CPU's LAPIC into x2APIC mode (needs CPUID.1:ECX[21]), then
 * software-enabled with spurious vector 0xff. Clobbers %r8 too. */
.macro apic_enable
	movq %rbx, %r8			/* CPUID writes %ebx */
	movl $1, %eax
	cpuid
	movq %r8, %rbx
	btl $21, %ecx
	jc 1f
	movb $5, %al
	outb %al, $0xf4
1:	movl $MSR_APIC_BASE, %ecx
	rdmsr
	orl $APIC_BASE_EXTD, %eax
	wrmsr
	movl $X2APIC_SVR, %ecx
	movl $0x1ff, %eax
	xorl %edx, %edx
	wrmsr
.endm

/* %eax = this CPU's APIC ID */
.macro apic_id
	movl $X2APIC_ID, %ecx
	rdmsr
.endm

/* ICR: low word \lo to \dest, APIC_DEST(id) or a register holding
 * that (immediates or registers; \lo not in %edx). */
#define APIC_DEST(id)	(id)
.macro apic_send dest, lo
	movl \dest, %edx
	movl \lo, %eax
	movl $X2APIC_ICR, %ecx
	wrmsr
.endm

/* ICR with a destination shorthand: the destination field is ignored. */
.macro apic_send_sh lo
	apic_send $0, \lo
.endm

.macro apic_eoi
	movl $X2APIC_EOI, %ecx
	xorl %eax, %eax
	xorl %edx, %edx
	wrmsr
.endm

#else

.macro apic_enable
	movl $0x1ff, LAPIC_SVR(%rbx)
.endm

.macro apic_id
	movl LAPIC_ID(%rbx), %eax
	shrl $24, %eax
.endm

/* ICR2 takes the destination ID in bits 31:24. */
#define APIC_DEST(id)	((id) << 24)
.macro apic_send dest, lo
	movl \dest, LAPIC_ICR2(%rbx)
	movl \lo, LAPIC_ICR(%rbx)
.endm

.macro apic_send_sh lo
	movl \lo, LAPIC_ICR(%rbx)
.endm

.macro apic_eoi
	movl $0, LAPIC_EOI(%rbx)
.endm
#endif
