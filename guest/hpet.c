/* HPET register access and its ACPI table. */
#include "hpet.h"

#include "acpi.h"
#include "boot.h"
#include "io.h"
#include "lib.h"

/* The ACPI "HPET" table (IA-PC HPET spec 1.0a, 3.2.4). */
struct hpet_table {
	struct sdt_header h;
	uint32_t block_id;
	struct acpi_gas base;
	uint8_t number;
	uint16_t min_tick;
	uint8_t page_protection;
} __attribute__((packed));

#define ACPI_GAS_MEMORY		0
#define HPET_REGION_SIZE	0x400

int hpet_find(struct hpet *h, const char **why)
{
	const struct hpet_table *t = (const void *)acpi_find_table("HPET");

	memset(h, 0, sizeof(*h));
	if (!t)
		return 0;
	if (t->h.length < sizeof(*t)) {
		*why = "HPET table shorter than 56 bytes";
		return -1;
	}
	if (t->base.space != ACPI_GAS_MEMORY || !t->base.address ||
	    t->base.address % HPET_REGION_SIZE ||
	    t->base.address > MAPPED_TOP - HPET_REGION_SIZE) {
		*why = "HPET base not a mapped, 1 KiB aligned memory address";
		return -1;
	}
	h->base = t->base.address;
	h->block_id = t->block_id;
	h->cap = hpet_read(h, HPET_GCAP_ID);
	h->period_fs = hpet_read(h, HPET_GCAP_ID + 4);
	h->timers = HPET_CAP_LAST_TIMER(h->cap) + 1;
	return 1;
}

uint32_t hpet_read(const struct hpet *h, unsigned reg)
{
	return mmio_read32(h->base + reg);
}

void hpet_write(const struct hpet *h, unsigned reg, uint32_t v)
{
	mmio_write32(h->base + reg, v);
}

uint64_t hpet_read64(const struct hpet *h, unsigned reg)
{
	uint64_t lo = hpet_read(h, reg);

	return (uint64_t)hpet_read(h, reg + 4) << 32 | lo;
}

void hpet_write64(const struct hpet *h, unsigned reg, uint64_t v)
{
	hpet_write(h, reg, (uint32_t)v);
	hpet_write(h, reg + 4, (uint32_t)(v >> 32));
}

/* The high half moves once every 2^32 ticks: a second try always holds
 * on a working counter, and a broken one must not hang the guest. */
uint64_t hpet_counter(const struct hpet *h)
{
	uint32_t hi, lo;

	for (int tries = 0;; tries++) {
		hi = hpet_read(h, HPET_MAIN_CNT + 4);
		lo = hpet_read(h, HPET_MAIN_CNT);
		if (hi == hpet_read(h, HPET_MAIN_CNT + 4) || tries == 2)
			return (uint64_t)hi << 32 | lo;
	}
}

uint64_t hpet_ticks_us(const struct hpet *h, unsigned us)
{
	uint64_t t = h->period_fs ? (uint64_t)us * 1000000000ull / h->period_fs : 0;

	return t ? t : 1;
}

void hpet_run(const struct hpet *h, bool on)
{
	uint32_t c = hpet_read(h, HPET_GEN_CONF) & ~HPET_ENABLE_CNF;

	hpet_write(h, HPET_GEN_CONF, on ? c | HPET_ENABLE_CNF : c);
}

uint64_t hpet_timer_cap(const struct hpet *h, unsigned n)
{
	return hpet_read64(h, HPET_TN_CONF(n));
}

void hpet_off(const struct hpet *h)
{
	hpet_write(h, HPET_GEN_CONF, 0);
	for (unsigned n = 0; n < h->timers; n++)
		hpet_write(h, HPET_TN_CONF(n), 0);
	/* ones only where the bits exist: NUM_TIM_CAP bounds them */
	hpet_write(h, HPET_GINTR_STA,
		   h->timers >= 32 ? ~0u : (1u << h->timers) - 1);
}
