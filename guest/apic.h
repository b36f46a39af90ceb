/* The local APIC in xAPIC mode (MMIO at 0xFEE00000), interrupt vectors
 * 32-255 and bounded waits. Intel SDM Vol. 3A ch. 11. */
#ifndef GUEST_APIC_H
#define GUEST_APIC_H

#include <stdbool.h>
#include <stdint.h>

#include "io.h"

#define APIC_BASE		0xfee00000ull

#define APIC_ID			0x020
#define APIC_TPR		0x080
#define APIC_PPR		0x0a0
#define APIC_EOI		0x0b0
#define APIC_SVR		0x0f0
#define APIC_ISR		0x100	/* 8 registers, 0x10 apart */
#define APIC_TMR		0x180
#define APIC_IRR		0x200
#define APIC_ESR		0x280
#define APIC_ICR		0x300
#define APIC_ICR2		0x310
#define APIC_LVT_TIMER		0x320
#define APIC_LVT_LINT0		0x350
#define APIC_TMICT		0x380
#define APIC_TMCCT		0x390
#define APIC_TDCR		0x3e0

#define APIC_SVR_ENABLE		(1u << 8)
#define APIC_SPURIOUS_VECTOR	0xff
#define APIC_LVT_MASKED		(1u << 16)
#define APIC_LVT_PERIODIC	(1u << 17)
#define APIC_TDCR_DIV1		0xb
#define APIC_TDCR_DIV16		0x3

#define APIC_ICR_BUSY		(1u << 12)
#define APIC_ICR_ASSERT		(1u << 14)
#define APIC_DM_FIXED		(0u << 8)
#define APIC_DM_INIT		(5u << 8)
#define APIC_DM_SIPI		(6u << 8)
#define APIC_DM_EXTINT		(7u << 8)
#define APIC_SH_SELF		(1u << 18)
#define APIC_SH_OTHERS		(3u << 18)

/* Vectors the guest uses; a vector's priority class is its high nibble. */
#define VEC_TIMER		0x30
#define VEC_WAKE		0x31	/* "look at the work queue", for APs */
#define VEC_TPR_LOW		0x40	/* class 4: below a TPR of 0x50 */
#define VEC_EACH		0x50
#define VEC_SELF		0x51
#define VEC_TPR_HIGH		0x60	/* class 6: above a TPR of 0x50 */
#define VEC_NEST_HIGH		0x70
#define VEC_STORM		0x80	/* + the sender's CPU index */
#define VEC_BLK			0xd0	/* virtio-blk queue 0, MSI-X entry 0 */
#define VEC_TICK		0xd1	/* apic_tick: ends the HLT of bounded waits */

static inline uint32_t apic_read(unsigned reg)
{
	return mmio_read32(APIC_BASE + reg);
}

static inline void apic_write(unsigned reg, uint32_t v)
{
	mmio_write32(APIC_BASE + reg, v);
}

static inline unsigned apic_id(void)
{
	return apic_read(APIC_ID) >> 24;
}

static inline void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

/* Bit @vector of the 256-bit register at @reg (ISR, IRR). */
static inline bool apic_vec_bit(unsigned reg, unsigned vector)
{
	return apic_read(reg + (vector >> 5) * 0x10) & (1u << (vector & 31));
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline void irq_enable(void)
{
	__asm__ volatile("sti" ::: "memory");
}

static inline void irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}

/* Saves RFLAGS and disables interrupts; irq_restore puts IF back. */
static inline uint64_t irq_save(void)
{
	uint64_t f;

	__asm__ volatile("pushfq; popq %0; cli" : "=r"(f) : : "memory");
	return f;
}

static inline void irq_restore(uint64_t f)
{
	if (f & 0x200)
		irq_enable();
}

/* Waits for an interrupt with IF=1 (STI's shadow makes "sti; hlt" atomic:
 * an interrupt pending at the STI wakes the HLT), returns with IF=0. */
static inline void irq_wait(void)
{
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

/* A handler runs with IF=0 on the interrupted stack and does its own EOI. */
typedef void (*irq_handler_t)(unsigned vector);

void idt_set_gate(unsigned vector, uint64_t handler);
void idt_load(void);
/* Points the IDT's vectors 32-255 at the stubs in irq.S. */
void irq_init(void);
void irq_set_handler(unsigned vector, irq_handler_t fn);
/* Interrupts that had no handler, per APIC ID (spurious ones apart). */
extern volatile uint32_t irq_unexpected[256];
extern volatile uint32_t irq_spurious[256];

/* SVR: software-enable with the spurious vector 0xFF; TPR 0; ESR cleared. */
void apic_enable(void);
/* ICR2 then ICR with interrupts off, so a handler's IPI cannot slip
 * between the two writes. @dest is an APIC ID (ignored with a shorthand). */
void apic_send(unsigned dest, uint32_t icr);

/* Time for timeouts only: the TSC read as if it ran at TSC_KHZ_MAX, so a
 * wait lasts at least the time asked for on any real TSC. */
#define TSC_KHZ_MAX		5000000ull
uint64_t deadline_ms(unsigned ms);
bool past(uint64_t deadline);
/* Spins for at least @ms milliseconds with interrupts as they are. */
void delay_ms(unsigned ms);
/* Spins until *@p >= @want or @ms pass; true if reached. */
bool wait_ge(const volatile uint32_t *p, uint32_t want, unsigned ms);

/* A periodic LAPIC timer tick (vector VEC_TICK, handler only EOIs) every
 * @ms, so that an "sti; hlt" wait wakes up to look at its TSC deadline even
 * when the interrupt it waits for never comes. Assumes the 1 GHz timer
 * clock of QEMU and tinyvmm; a slower clock only stretches the tick. */
void apic_tick_start(unsigned ms);
void apic_tick_stop(void);

/* TSC ticks per millisecond, measured against the current-count register
 * of a masked one-shot count at divide-by-1 (so with no interrupt latency
 * in it) over @ms milliseconds (1..80) of the timer's 1 GHz clock; each end
 * is the best-bracketed of a few reads, so a vCPU preempted between the
 * two reads does not skew it. 0 if the count does not go down. Leaves the
 * timer stopped and masked. */
uint64_t tsc_khz(unsigned ms);

#endif
