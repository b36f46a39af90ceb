/* The HPET (IA-PC HPET specification 1.0a): its ACPI "HPET" table and its
 * registers. Every access is 32 bits wide, as the spec allows and as
 * Linux does, so that 64-bit registers are reached as two halves. */
#ifndef GUEST_HPET_H
#define GUEST_HPET_H

#include <stdbool.h>
#include <stdint.h>

/* Registers (offsets from the base), spec 2.3. */
#define HPET_GCAP_ID		0x000
#define HPET_GEN_CONF		0x010
#define HPET_GINTR_STA		0x020
#define HPET_MAIN_CNT		0x0f0
#define HPET_TN_CONF(n)		(0x100 + 0x20 * (n))
#define HPET_TN_CMP(n)		(0x108 + 0x20 * (n))

/* GCAP_ID, low dword; the high dword is the counter's period in fs. */
#define HPET_CAP_REV(c)		((c) & 0xff)
#define HPET_CAP_LAST_TIMER(c)	(((c) >> 8) & 0x1f)	/* NUM_TIM_CAP */
#define HPET_CAP_COUNT_64	(1u << 13)
#define HPET_CAP_LEG_RT		(1u << 15)
#define HPET_CAP_VENDOR(c)	((c) >> 16)
#define HPET_MAX_PERIOD_FS	100000000u	/* 100 ns */

/* GEN_CONF */
#define HPET_ENABLE_CNF		(1u << 0)
#define HPET_LEG_RT_CNF		(1u << 1)

/* Tn_CONF_CAP, low dword; the high dword is INT_ROUTE_CAP (bit n: I/O
 * APIC input n). */
#define HPET_TN_LEVEL		(1u << 1)
#define HPET_TN_INT_ENB		(1u << 2)
#define HPET_TN_PERIODIC	(1u << 3)
#define HPET_TN_PER_INT_CAP	(1u << 4)
#define HPET_TN_SIZE_CAP	(1u << 5)
#define HPET_TN_VAL_SET		(1u << 6)
#define HPET_TN_32MODE		(1u << 8)
#define HPET_TN_ROUTE_SHIFT	9
#define HPET_TN_ROUTE_MASK	(0x1fu << HPET_TN_ROUTE_SHIFT)
#define HPET_TN_FSB_EN		(1u << 14)
#define HPET_TN_FSB_CAP		(1u << 15)

#define HPET_MAX_TIMERS		32

struct hpet {
	uint64_t base;		/* the table's address, system memory */
	uint32_t block_id;	/* the table's event timer block ID */
	uint32_t cap;		/* GCAP_ID's low dword */
	uint32_t period_fs;	/* GCAP_ID's high dword */
	unsigned timers;	/* NUM_TIM_CAP + 1 */
};

/* The ACPI "HPET" table: 1 with @h's base and block ID and its GCAP_ID
 * read, 0 if there is no table, -1 with *why if the table is unusable. */
int hpet_find(struct hpet *h, const char **why);

uint32_t hpet_read(const struct hpet *h, unsigned reg);
void hpet_write(const struct hpet *h, unsigned reg, uint32_t v);
/* A 64-bit register as low then high half (for registers that hold still:
 * a comparator, a halted counter). */
uint64_t hpet_read64(const struct hpet *h, unsigned reg);
void hpet_write64(const struct hpet *h, unsigned reg, uint64_t v);
/* The main counter, running or not: high, low, high until the high half
 * holds (a 32-bit counter reads 0 above). */
uint64_t hpet_counter(const struct hpet *h);
/* Counter ticks in @us microseconds (at least 1). */
uint64_t hpet_ticks_us(const struct hpet *h, unsigned us);
/* Halts the counter (LEG_RT_CNF kept) or starts it. */
void hpet_run(const struct hpet *h, bool on);
/* Timer @n's CONF_CAP: its INT_ROUTE_CAP in the high half. */
uint64_t hpet_timer_cap(const struct hpet *h, unsigned n);
/* Off: every timer's interrupt disabled and one-shot, each level status
 * bit cleared, the counter halted and LEG_RT_CNF clear. */
void hpet_off(const struct hpet *h);

#endif
