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

uint64_t pit_tsc_khz(uint16_t count)
{
	uint8_t p61 = inb(PORT_61) & ~(P61_SPEAKER | P61_GATE2);
	uint64_t t0, t1, end = deadline_ms(1000);
	bool risen;

	outb(PORT_61, p61 | P61_GATE2);
	t0 = rdtsc();	/* before the load: a delay can only lengthen the span */
	load(PIT_CH2, PIT_SEL_CH2 | PIT_LOHI | PIT_MODE0, count);
	while (!(risen = inb(PORT_61) & P61_OUT2) && !past(end))
		;
	t1 = rdtsc();
	outb(PORT_61, p61);
	if (!risen || !count)
		return 0;
	return (t1 - t0) * PIT_HZ / ((uint64_t)count * 1000);
}
