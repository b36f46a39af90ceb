/* Local APIC helpers, the C side of the interrupt stubs, bounded waits. */
#include "apic.h"

#define IRQ_STUB_SIZE	16	/* irq.S aligns each stub to 16 bytes */

extern const char irq_stubs_start[];

static irq_handler_t irq_handlers[256];
volatile uint32_t irq_unexpected[256];
volatile uint32_t irq_spurious[256];

void irq_init(void)
{
	for (unsigned v = 32; v < 256; v++)
		idt_set_gate(v, (uintptr_t)irq_stubs_start + (v - 32) * IRQ_STUB_SIZE);
}

void irq_set_handler(unsigned vector, irq_handler_t fn)
{
	__atomic_store_n(&irq_handlers[vector & 0xff], fn, __ATOMIC_RELEASE);
}

/* Called by irq.S with IF=0. The spurious vector needs no EOI (SDM
 * 11.9); any other vector nobody asked for is counted and EOIed, so that
 * the tests see it instead of a wedged in-service bit. */
void irq_dispatch(uint64_t vector);
void irq_dispatch(uint64_t vector)
{
	irq_handler_t fn = __atomic_load_n(&irq_handlers[vector], __ATOMIC_ACQUIRE);

	if (fn) {
		fn((unsigned)vector);
	} else if (vector == APIC_SPURIOUS_VECTOR) {
		irq_spurious[apic_id()]++;
	} else {
		irq_unexpected[apic_id()]++;
		apic_eoi();
	}
}

void apic_enable(void)
{
	apic_write(APIC_TPR, 0);
	apic_write(APIC_SVR, APIC_SVR_ENABLE | APIC_SPURIOUS_VECTOR);
	apic_write(APIC_ESR, 0);
}

void apic_send(unsigned dest, uint32_t icr)
{
	uint64_t f = irq_save();

	while (apic_read(APIC_ICR) & APIC_ICR_BUSY)
		cpu_relax();
	apic_write(APIC_ICR2, dest << 24);
	apic_write(APIC_ICR, icr);
	irq_restore(f);
}

uint64_t deadline_ms(unsigned ms)
{
	return rdtsc() + ms * TSC_KHZ_MAX;
}

bool past(uint64_t deadline)
{
	return (int64_t)(rdtsc() - deadline) >= 0;
}

void delay_ms(unsigned ms)
{
	uint64_t end = deadline_ms(ms);

	while (!past(end))
		cpu_relax();
}

bool wait_ge(const volatile uint32_t *p, uint32_t want, unsigned ms)
{
	uint64_t end = deadline_ms(ms);

	while (*p < want)
		if (past(end))
			return *p >= want;
		else
			cpu_relax();
	return true;
}

static void tick_handler(unsigned vector)
{
	(void)vector;
	apic_eoi();
}

void apic_tick_start(unsigned ms)
{
	irq_set_handler(VEC_TICK, tick_handler);
	apic_write(APIC_TDCR, APIC_TDCR_DIV1);
	apic_write(APIC_LVT_TIMER, APIC_LVT_PERIODIC | VEC_TICK);
	apic_write(APIC_TMICT, ms * 1000000u);
}

void apic_tick_stop(void)
{
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	apic_write(APIC_TMICT, 0);
}

/* The current count and the TSC read as close together as we can: of a
 * few tries the one with the shortest rdtsc bracket, its middle. */
static void count_and_tsc(uint32_t *c, uint64_t *t)
{
	uint64_t best = ~0ull;

	for (int i = 0; i < 4; i++) {
		uint64_t a = rdtsc();
		uint32_t cc = apic_read(APIC_TMCCT);
		uint64_t b = rdtsc();

		if (b - a < best) {
			best = b - a;
			*c = cc;
			*t = a + (b - a) / 2;
		}
	}
}

uint64_t tsc_khz(unsigned ms)
{
	uint32_t c1 = 0, c2 = 0, span = ms * 1000000u;
	uint64_t t1 = 0, t2 = 0, end = deadline_ms(1000);

	apic_write(APIC_TDCR, APIC_TDCR_DIV1);
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | VEC_TIMER);
	apic_write(APIC_TMICT, 50 * span);
	count_and_tsc(&c1, &t1);
	do
		c2 = apic_read(APIC_TMCCT);
	while (c1 - c2 < span && c2 <= c1 && !past(end));
	count_and_tsc(&c2, &t2);
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | VEC_TIMER);
	apic_write(APIC_TMICT, 0);
	if (c2 >= c1 || c1 > 50 * span)
		return 0;
	return (t2 - t1) * 1000000 / (c1 - c2);
}
