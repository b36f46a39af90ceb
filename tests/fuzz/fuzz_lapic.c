/* libFuzzer target: a sequence of LAPIC register, MSR, MSI and vCPU-loop
 * operations on a 4-CPU bus with a fake clock. No input may crash the
 * model or break its invariants (a returned vector is a real vector). */
#include <stdint.h>
#include <stdlib.h>

#include "devices/intc/lapic.h"

static uint64_t fake_now;

static void notify(void *o, unsigned cpu) { (void)o; (void)cpu; }
static uint64_t now_ns(void *o) { (void)o; return fake_now; }
static void timer_arm(void *o, unsigned cpu, uint64_t d) { (void)o; (void)cpu; (void)d; }

static const struct apic_host_ops ops = {
	.notify = notify, .now_ns = now_ns, .timer_arm = timer_arm,
};

static uint64_t take(const uint8_t **p, size_t *left, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && *left; i++, (*left)--)
		v |= (uint64_t)*(*p)++ << (8 * i);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct apic_bus *bus = apic_bus_new(4, 1000000, &ops, NULL);
	const uint8_t *p = data;
	size_t left = size;

	fake_now = 0;
	while (left >= 2) {
		struct lapic *l = apic_bus_cpu(bus, (unsigned)take(&p, &left, 1) % 4);
		unsigned op = (unsigned)take(&p, &left, 1) % 9;
		uint64_t a = take(&p, &left, 2), v = take(&p, &left, 4);
		uint8_t vec;
		int r;

		switch (op) {
		case 0:
			lapic_mmio_write(l, a & 0xfff, v, 1u << (a >> 12 & 3));
			break;
		case 1:
			lapic_mmio_read(l, a & 0xfff, 1u << (a >> 12 & 3));
			break;
		case 2:
			lapic_msr_write(l, (uint32_t)(a % 3 ? 0x800 + (a & 0xff) : a & 1 ? 0x1b : 0x6e0),
					v | take(&p, &left, 4) << 32);
			break;
		case 3:
			lapic_msr_read(l, (uint32_t)(0x800 + (a & 0xff)), &v);
			break;
		case 4:
			apic_bus_deliver_msi(bus, 0xfee00000 | (a << 2 & 0xffffc), (uint32_t)v);
			break;
		case 5:
			r = lapic_pending_vector(l);
			if (r >= 256)
				abort();
			if (r >= 0)
				lapic_accept(l, r);
			break;
		case 6:
			fake_now += v;
			lapic_timer_fire(l);
			break;
		case 7:
			lapic_take_start_event(l, &vec);
			lapic_take_nmi(l);
			break;
		default:
			lapic_set_cr8(l, (uint8_t)(v & 15));
			lapic_has_wake_event(l, v & 16);
			break;
		}
	}
	apic_bus_free(bus);
	return 0;
}
