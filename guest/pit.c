/* The 8254's channel 0 as a tick source and channel 2 as a stopwatch. */
#include "pit.h"

#include "apic.h"
#include "io.h"

#define PIT_CH0		0x40
#define PIT_CH2		0x42
#define PIT_CMD		0x43
#define PORT_61		0x61

#define PIT_SEL_CH0	0x00
#define PIT_SEL_CH2	0x80
#define PIT_LOHI	0x30	/* access: LSB then MSB */
#define PIT_MODE0	0x00	/* interrupt on terminal count */
#define PIT_MODE2	0x04	/* rate generator */
#define PIT_LATCH_CH2	0x80	/* channel 2, access 00: counter latch */

#define P61_GATE2	0x01
#define P61_SPEAKER	0x02
#define P61_OUT2	0x20

static void load(uint16_t port, uint8_t cmd, uint16_t count)
{
	outb(PIT_CMD, cmd);
	outb(port, (uint8_t)count);
	outb(port, (uint8_t)(count >> 8));
}

void pit_periodic(uint16_t divisor)
{
	load(PIT_CH0, PIT_SEL_CH0 | PIT_LOHI | PIT_MODE2, divisor);
}

/* A mode word alone leaves some models' periodic timer running (KVM's
 * in-kernel 8254 re-arms only on a count): load a mode 0 count too. */
void pit_stop(void)
{
	load(PIT_CH0, PIT_SEL_CH0 | PIT_LOHI | PIT_MODE0, 0xffff);
}

/* Channel 2's count, latched, and the TSC at that moment: the middle of the
 * narrowest of a few brackets, so a vCPU preempted between a TSC read and
 * the latch does not skew it. */
static void ch2_sample(uint16_t *count, uint64_t *tsc)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 4; i++) {
		uint64_t a = rdtsc(), b;
		uint16_t c;

		outb(PIT_CMD, PIT_LATCH_CH2);
		c = inb(PIT_CH2);
		c |= (uint16_t)(inb(PIT_CH2) << 8);
		b = rdtsc();
		if (b - a < best) {
			best = b - a;
			*count = c;
			*tsc = a + (b - a) / 2;
		}
	}
}

uint64_t pit_tsc_khz(uint16_t span)
{
	uint8_t p61 = inb(PORT_61) & ~(P61_SPEAKER | P61_GATE2);
	uint64_t t1, t2, end = deadline_ms(1000);
	uint16_t c1, c2;
	bool wrapped;

	outb(PORT_61, p61 | P61_GATE2);
	load(PIT_CH2, PIT_SEL_CH2 | PIT_LOHI | PIT_MODE0, 0xffff);
	ch2_sample(&c1, &t1);
	do
		ch2_sample(&c2, &t2);
	while ((uint16_t)(c1 - c2) < span && !past(end));
	/* OUT2 rises at the terminal count: the count went round. */
	wrapped = inb(PORT_61) & P61_OUT2;
	outb(PORT_61, p61);
	if (wrapped || !span || (uint16_t)(c1 - c2) < span)
		return 0;
	return (t2 - t1) * PIT_HZ / ((uint64_t)(uint16_t)(c1 - c2) * 1000);
}
