/* Private to devices/lapic*.c: the state behind struct lapic and
 * struct apic_bus, and the helpers the three files share. */
#ifndef DEVICES_LAPIC_INT_H
#define DEVICES_LAPIC_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/intc/lapic.h"

enum lapic_mode {
	LAPIC_MODE_DISABLED = 0,	/* IA32_APIC_BASE.EN = 0 */
	LAPIC_MODE_XAPIC = 1,
	LAPIC_MODE_X2APIC = 2,
};

enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR,
       LVT_NUM };

/* The copy of its routing state each owner publishes for senders, in one
 * word so a sender sees a consistent snapshot with one relaxed load. */
#define ROUTE_LID_MASK		0xffu		/* xAPIC logical ID, LDR[31:24] */
#define ROUTE_FLAT		(1u << 8)	/* DFR model 1111b */
#define ROUTE_MODE_SHIFT	9		/* enum lapic_mode, 2 bits */
#define ROUTE_SW_EN		(1u << 11)	/* SVR bit 8 */
#define ROUTE_PPR_SHIFT		16

/* The pending-event word: NMI, INIT, SIPI and the wait-for-SIPI state. */
#define EV_NMI			(1u << 0)
#define EV_INIT			(1u << 1)
#define EV_SIPI			(1u << 2)
#define EV_WAIT_SIPI		(1u << 3)
#define EV_VEC_SHIFT		8
#define EV_VEC_MASK		(0xffu << EV_VEC_SHIFT)

struct lapic_timer {
	uint32_t tmict;		/* initial count register */
	uint32_t tdcr;		/* divide configuration register */
	unsigned shift;		/* log2 of the divisor */
	bool active;		/* a one-shot/periodic count is running */
	uint64_t start_ns;	/* the count was start_count at start_ns */
	uint32_t start_count;
	uint64_t tsc_deadline;	/* IA32_TSC_DEADLINE, 0 = disarmed */
	uint64_t deadline_ns;	/* next expiry, 0 = none */
	uint64_t armed_ns;	/* what ops->timer_arm last heard */
};

struct lapic_counters {
	_Atomic uint64_t delivered[256];
	_Atomic uint64_t nmis, inits, sipis, ipis_sent, timer_fires;
	_Atomic uint64_t spurious_eois, ignored_writes, errors;
};

struct lapic {
	/* Immutable after apic_bus_new: any thread may read. */
	struct apic_bus *bus;
	unsigned cpu;
	bool bsp;
	struct device *dev;	/* the lapic device attached, set at realize */

	/* Written by any thread, atomics only (see lapic.h). */
	_Atomic uint64_t pir[4];	/* posted-interrupt requests */
	_Atomic uint64_t pir_level[4];	/* ...that are level triggered */
	atomic_bool on;			/* outstanding notification */
	atomic_uint esr_posted;		/* errors a device message caused */
	atomic_uint events;		/* EV_* */
	atomic_uint lint_level;		/* bit n: the level on LINTn */
	atomic_uint lint_rose;		/* bit n: LINTn rose since the last look */
	/* Written by the owner, read by senders. */
	atomic_uint route;		/* ROUTE_* */

	/* Owner thread only. */
	enum lapic_mode mode;
	uint32_t tpr, ldr, dfr, svr;
	uint32_t esr;			/* what ESR reads */
	uint32_t esr_pending;		/* logged since the last ESR write */
	uint32_t icr_lo, icr_hi;	/* icr_hi: xAPIC ICR2, x2APIC ICR[63:32] */
	uint32_t lvt[LVT_NUM];
	uint32_t irr[8], isr[8], tmr[8];
	uint8_t rvi, svi, ppr;		/* highest IRR, highest ISR, PPR */
	bool lint0_rirr;		/* remote IRR of a level LINT0 */
	struct lapic_timer timer;
	struct lapic_counters stats;
};

struct apic_bus {
	unsigned ncpus;
	uint32_t tsc_khz;
	const struct apic_host_ops *ops;
	void *opaque;
	struct lapic *cpus;
};

/* Counters have one writer (the owner), so no locked add is needed. */
static inline void stat_inc(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

static inline uint64_t lapic_now(const struct lapic *l)
{
	return l->bus->ops->now_ns(l->bus->opaque);
}

/* lapic.c */
void lapic_reset(struct lapic *l);
void lapic_set_irr(struct lapic *l, unsigned vector, bool level);
void lapic_error(struct lapic *l, uint32_t esr_bits);
void lapic_lvt_fire(struct lapic *l, unsigned lvt);
void lapic_sync_pir(struct lapic *l);

/* lapic_timer.c */
void lapic_timer_reset(struct lapic *l);
void lapic_timer_lvt_write(struct lapic *l, uint32_t old, uint32_t val);
void lapic_timer_set_initial(struct lapic *l, uint32_t count);
void lapic_timer_set_divide(struct lapic *l, uint32_t tdcr);
uint32_t lapic_timer_current(struct lapic *l);
int lapic_timer_tscdl_read(struct lapic *l, uint64_t *value);
int lapic_timer_tscdl_write(struct lapic *l, uint64_t value);

#endif
