/* The APIC "bus": all LAPICs of a VM and the one function that delivers an
 * interrupt message (ICR write or MSI) to them. Any thread may deliver; a
 * target is only touched through its atomics (see lapic.h). */
#include <stdlib.h>

#include "devices/intc/lapic.h"
#include "devices/intc/lapic_int.h"

struct apic_bus *apic_bus_new(unsigned ncpus, uint32_t tsc_khz,
			      const struct apic_host_ops *ops, void *opaque)
{
	struct apic_bus *bus;

	if (!ncpus || ncpus > APIC_MAX_CPUS || !ops || !ops->notify ||
	    !ops->now_ns || !ops->timer_arm)
		return NULL;
	bus = calloc(1, sizeof(*bus));
	if (!bus)
		return NULL;
	bus->cpus = calloc(ncpus, sizeof(*bus->cpus));
	if (!bus->cpus) {
		free(bus);
		return NULL;
	}
	bus->ncpus = ncpus;
	bus->tsc_khz = tsc_khz;
	bus->ops = ops;
	bus->opaque = opaque;
	for (unsigned i = 0; i < ncpus; i++) {
		struct lapic *l = &bus->cpus[i];

		l->bus = bus;
		l->cpu = i;
		l->bsp = i == 0;
		atomic_init(&l->events, 0);
		lapic_power_reset(l);
	}
	return bus;
}

void apic_bus_free(struct apic_bus *bus)
{
	if (!bus)
		return;
	free(bus->cpus);
	free(bus);
}

unsigned apic_bus_ncpus(const struct apic_bus *bus)
{
	return bus->ncpus;
}

struct lapic *apic_bus_cpu(struct apic_bus *bus, unsigned cpu)
{
	return cpu < bus->ncpus ? &bus->cpus[cpu] : NULL;
}

/* ---- destination matching (SDM 11.6.2), on published snapshots ---- */

static unsigned route_mode(unsigned route)
{
	return (route >> ROUTE_MODE_SHIFT) & 3;
}

static bool is_broadcast(const struct apic_irq *irq)
{
	return irq->x2apic_dest ? irq->dest == 0xffffffffu
				: (irq->dest & 0xff) == 0xff;
}

static uint32_t msg_dest(const struct apic_irq *irq)
{
	return irq->x2apic_dest ? irq->dest : irq->dest & 0xff;
}

static bool match_logical(unsigned cpu, unsigned route, uint32_t mda)
{
	unsigned lid = route & ROUTE_LID_MASK;

	if (route_mode(route) == LAPIC_MODE_X2APIC) {
		/* Cluster in LDR[31:16], one bit per member in LDR[15:0]. */
		uint32_t ldr = (cpu >> 4) << 16 | 1u << (cpu & 15);

		return (mda >> 16) == (ldr >> 16) && (mda & ldr & 0xffff);
	}
	mda &= 0xff;
	if (route & ROUTE_FLAT)
		return mda & lid;
	return (mda >> 4) == (lid >> 4) && (mda & lid & 0xf);
}

/* Is @t a destination of @irq from @src, judging by its @route snapshot? */
static bool is_target(int src, const struct lapic *t, unsigned route,
		      const struct apic_irq *irq)
{
	if (route_mode(route) == LAPIC_MODE_DISABLED)
		return false;
	switch (irq->shorthand) {
	case APIC_SH_SELF:
		return src == (int)t->cpu;
	case APIC_SH_ALL:
		return true;
	case APIC_SH_OTHERS:
		return src != (int)t->cpu;
	}
	if (is_broadcast(irq))
		return true;
	if (!irq->logical)	/* APIC ID = cpu index in both modes */
		return msg_dest(irq) == t->cpu;
	return match_logical(t->cpu, route, msg_dest(irq));
}

/* ---- posting to a target ---- */

static void notify(struct apic_bus *bus, int src, const struct lapic *t)
{
	if (src != (int)t->cpu)
		bus->ops->notify(bus->opaque, t->cpu);
}

/* The posted-interrupt protocol: PIR bit first, then ON; only the sender
 * that flips ON from 0 to 1 notifies. */
static void post_vector(struct apic_bus *bus, int src, struct lapic *t,
			unsigned vector, bool level)
{
	unsigned w = vector >> 6;
	uint64_t bit = 1ull << (vector & 63);

	if (src == (int)t->cpu) {	/* our own registers: no posting */
		lapic_set_irr(t, vector, level);
		return;
	}
	if (level)
		atomic_fetch_or(&t->pir_level[w], bit);
	atomic_fetch_or(&t->pir[w], bit);
	if (!atomic_exchange(&t->on, true))
		notify(bus, src, t);
}

static void post_error(struct apic_bus *bus, int src, struct lapic *t,
		       uint32_t esr_bits)
{
	if (src == (int)t->cpu) {
		lapic_error(t, esr_bits);
		return;
	}
	atomic_fetch_or(&t->esr_posted, esr_bits);
	if (!atomic_exchange(&t->on, true))
		notify(bus, src, t);
}

static bool post_nmi(struct lapic *t)
{
	return !(atomic_fetch_or(&t->events, EV_NMI) & EV_NMI);
}

/* INIT cancels a SIPI not yet taken; an AP then waits for a new one. */
static bool post_init(struct lapic *t)
{
	unsigned old = atomic_load(&t->events), new;

	do {
		new = (old | EV_INIT) & ~(EV_SIPI | EV_VEC_MASK);
		if (!t->bsp)
			new |= EV_WAIT_SIPI;
	} while (!atomic_compare_exchange_weak(&t->events, &old, new));
	return true;
}

/* Only a CPU in wait-for-SIPI takes a SIPI; the first one ends the wait. */
static bool post_sipi(struct lapic *t, unsigned vector)
{
	unsigned old = atomic_load(&t->events), new;

	do {
		if (!(old & EV_WAIT_SIPI))
			return false;
		new = (old & ~(EV_WAIT_SIPI | EV_VEC_MASK)) | EV_SIPI |
		      vector << EV_VEC_SHIFT;
	} while (!atomic_compare_exchange_weak(&t->events, &old, new));
	return true;
}

static void trace(struct apic_bus *bus, int src, const struct lapic *t,
		  const struct apic_irq *irq)
{
	if (bus->ops->trace_ipi)
		bus->ops->trace_ipi(bus->opaque, src, t->cpu, irq->mode,
				    irq->vector);
}

static void accept_fixed(struct apic_bus *bus, int src, struct lapic *t,
			 const struct apic_irq *irq)
{
	unsigned route = atomic_load_explicit(&t->route, memory_order_relaxed);

	/* A software-disabled APIC takes only NMI, INIT and SIPI. */
	if (!(route & ROUTE_SW_EN))
		return;
	trace(bus, src, t, irq);
	if (irq->vector < 16) {
		post_error(bus, src, t, APIC_ESR_RECV_ILLEGAL);
		return;
	}
	/* IPIs are always edge (SDM 11.6.1); only devices send level. */
	post_vector(bus, src, t, irq->vector, src < 0 && irq->level_trig);
}

static void accept(struct apic_bus *bus, int src, struct lapic *t,
		   const struct apic_irq *irq)
{
	bool kick;

	switch (irq->mode) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		accept_fixed(bus, src, t, irq);
		return;
	case APIC_DM_NMI:
		kick = post_nmi(t);
		break;
	case APIC_DM_INIT:
		kick = post_init(t);
		break;
	case APIC_DM_SIPI:
		kick = post_sipi(t, irq->vector);
		if (!kick)
			return;
		break;
	default:
		return;
	}
	trace(bus, src, t, irq);
	if (kick)
		notify(bus, src, t);
}

/* Lowest priority: the enabled target with the lowest PPR, ties to the
 * lowest APIC ID. PPRs are the owners' published copies: a snapshot, as an
 * arbitration on a real bus is. */
static struct lapic *lowest_priority(struct apic_bus *bus, int src,
				     const struct apic_irq *irq)
{
	struct lapic *best = NULL;
	unsigned best_ppr = 256;

	for (unsigned i = 0; i < bus->ncpus; i++) {
		struct lapic *t = &bus->cpus[i];
		unsigned route = atomic_load_explicit(&t->route,
						      memory_order_relaxed);
		unsigned ppr = (route >> ROUTE_PPR_SHIFT) & 0xff;

		if (!(route & ROUTE_SW_EN) || !is_target(src, t, route, irq))
			continue;
		if (ppr < best_ppr) {
			best = t;
			best_ppr = ppr;
		}
	}
	return best;
}

static bool is_lowest_priority(const struct apic_irq *irq)
{
	return irq->mode == APIC_DM_LOWEST ||
	       (irq->mode == APIC_DM_FIXED && irq->redir_hint && irq->logical);
}

void apic_bus_deliver(struct apic_bus *bus, int src, const struct apic_irq *irq)
{
	bool vectored = irq->mode == APIC_DM_FIXED || irq->mode == APIC_DM_LOWEST;

	switch (irq->mode) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
	case APIC_DM_NMI:
	case APIC_DM_SIPI:
		break;
	case APIC_DM_INIT:
		/* INIT level de-assert only resyncs arbitration IDs. */
		if (!irq->assert && irq->level_trig)
			return;
		break;
	default:	/* SMI, ExtINT, reserved: not modelled */
		return;
	}
	if (src >= (int)bus->ncpus)
		return;
	if (vectored && irq->vector < 16 && src >= 0) {
		/* The sender refuses to send an illegal vector. */
		lapic_error(&bus->cpus[src], APIC_ESR_SEND_ILLEGAL);
		return;
	}
	if (is_lowest_priority(irq)) {
		struct lapic *t = lowest_priority(bus, src, irq);

		if (t)
			accept(bus, src, t, irq);
		return;
	}
	for (unsigned i = 0; i < bus->ncpus; i++) {
		struct lapic *t = &bus->cpus[i];
		unsigned route = atomic_load_explicit(&t->route,
						      memory_order_relaxed);

		if (is_target(src, t, route, irq))
			accept(bus, src, t, irq);
	}
}

/* MSI address: 0xFEE, dest ID 19:12, RH bit 3, DM bit 2. Data: vector 7:0,
 * delivery mode 10:8, level 14, trigger mode 15 (SDM 11.11). */
int apic_bus_deliver_msi(struct apic_bus *bus, uint64_t addr, uint32_t data)
{
	struct apic_irq irq = {
		.dest = (addr >> 12) & 0xff,
		.redir_hint = addr & (1u << 3),
		.logical = addr & (1u << 2),
		.vector = data & 0xff,
		.mode = (data >> 8) & 7,
		.assert = data & APIC_ICR_ASSERT,
		.level_trig = data & APIC_ICR_LEVELTRIG,
	};

	if ((addr >> 20) != 0xfee)
		return -1;
	if (irq.mode == 3 || irq.mode == APIC_DM_SIPI)
		return -1;
	apic_bus_deliver(bus, APIC_SRC_MSI, &irq);
	return 0;
}
