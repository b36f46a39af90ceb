/* One LAPIC's state as text. See lapic_info.h. */
#include "devices/intc/lapic_info.h"

#include <inttypes.h>

#include "devices/intc/lapic.h"
#include "devices/intc/lapic_int.h"

#define LVT_ACTIVE_LOW		(1u << 13)	/* LINT pin polarity */
#define LVT_TIMER_MODE(v)	(((v) >> 17) & 3)
#define DELIVERY_MODE(v)	(((v) >> 8) & 7)
#define VECTOR(v)		((v) & 0xffu)

static const char *delivery_mode_name(unsigned mode)
{
	static const char *const names[8] = {
		"Fixed", "LowPri", "SMI", "reserved", "NMI", "INIT", "StartUp", "ExtINT",
	};

	return names[mode & 7];
}

static const char *lapic_mode_name(enum lapic_mode mode)
{
	switch (mode) {
	case LAPIC_MODE_XAPIC: return "xAPIC mode";
	case LAPIC_MODE_X2APIC: return "x2APIC mode";
	case LAPIC_MODE_DISABLED: break;
	}
	return "disabled (IA32_APIC_BASE.EN = 0)";
}

/* Bits 13-16 as QEMU shows them; the timer's mode in its own column. */
static void print_lvt(FILE *out, const char *name, uint32_t v, bool timer)
{
	static const char *const timer_modes[4] = {
		"one-shot", "periodic", "tsc-deadline", "reserved",
	};
	/* The timer has no delivery mode field: it is always fixed. */
	unsigned mode = timer ? APIC_DM_FIXED : DELIVERY_MODE(v);

	fprintf(out, "%s\t 0x%08x %s %s %-6s %-12s %s", name, v,
		v & LVT_ACTIVE_LOW ? "active-lo" : "active-hi",
		v & APIC_LVT_LEVEL ? "level" : "edge ",
		v & APIC_LVT_MASKED ? "masked" : "",
		timer ? timer_modes[LVT_TIMER_MODE(v)] : "", delivery_mode_name(mode));
	if (mode == APIC_DM_FIXED)
		fprintf(out, " (vec %u)", VECTOR(v));
	fputc('\n', out);
}

static void print_timer(FILE *out, struct lapic *l)
{
	const struct lapic_timer *t = &l->timer;

	fprintf(out, "Timer\t DCR=0x%x (divide by %u) initial_count = %u current_count = %u",
		t->tdcr, 1u << t->shift, t->tmict, lapic_timer_current(l));
	if (LVT_TIMER_MODE(l->lvt[LVT_TIMER]) == 2)
		fprintf(out, " tsc_deadline = %" PRIu64, t->tsc_deadline);
	fputc('\n', out);
}

static void print_icr(FILE *out, const struct lapic *l)
{
	static const char *const shorthands[4] = {
		"no-shorthand", "self", "all-incl-self", "all-excl-self",
	};
	uint32_t lo = l->icr_lo;
	unsigned mode = DELIVERY_MODE(lo);

	fprintf(out, "ICR\t 0x%08x %s %s %s %s %s", lo,
		lo & APIC_ICR_LOGICAL ? "logical" : "physical",
		lo & APIC_ICR_LEVELTRIG ? "level" : "edge",
		lo & APIC_ICR_ASSERT ? "assert" : "de-assert",
		shorthands[(lo >> APIC_ICR_SH_SHIFT) & 3], delivery_mode_name(mode));
	if (mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST || mode == APIC_DM_SIPI)
		fprintf(out, " (vec %u)", VECTOR(lo));
	/* xAPIC: the destination is ICR2[31:24]; x2APIC: all of ICR[63:32]. */
	fprintf(out, "\nICR2\t 0x%08x dest 0x%x\n", l->icr_hi,
		l->mode == LAPIC_MODE_X2APIC ? l->icr_hi : l->icr_hi >> 24);
}

static void print_esr(FILE *out, const struct lapic *l)
{
	static const char *const bits[8] = {
		"send-checksum", "receive-checksum", "send-accept", "receive-accept",
		"redirectable-ipi", "send-illegal-vector", "receive-illegal-vector",
		"illegal-register",
	};
	uint32_t logged = l->esr_pending | atomic_load(&l->esr_posted);

	fprintf(out, "ESR\t 0x%08x", l->esr);
	for (unsigned i = 0; i < 8; i++)
		if (l->esr >> i & 1)
			fprintf(out, " %s", bits[i]);
	/* Errors show in ESR only after the guest's next ESR write. */
	if (logged)
		fprintf(out, " (logged since: 0x%08x)", logged);
	fputc('\n', out);
}

static void print_vectors(FILE *out, const char *name, const uint32_t v[8])
{
	bool any = false;

	fprintf(out, "%s\t", name);
	for (unsigned i = 0; i < 256; i++)
		if (v[i / 32] >> (i % 32) & 1) {
			fprintf(out, " %u", i);
			any = true;
		}
	fputs(any ? "\n" : " (none)\n", out);
}

/* IRR and TMR as the next lapic_sync_pir() will leave them: posted
 * vectors are requested, with the trigger mode they were posted with. */
static void print_irr_tmr(FILE *out, const struct lapic *l)
{
	uint32_t irr[8], tmr[8];

	for (unsigned w = 0; w < 4; w++) {
		uint64_t p = atomic_load(&l->pir[w]);
		uint64_t lvl = atomic_load(&l->pir_level[w]) & p;

		for (unsigned h = 0; h < 2; h++) {
			uint32_t ph = (uint32_t)(p >> (32 * h));
			uint32_t lh = (uint32_t)(lvl >> (32 * h));

			irr[2 * w + h] = l->irr[2 * w + h] | ph;
			tmr[2 * w + h] = (l->tmr[2 * w + h] & ~ph) | lh;
		}
	}
	print_vectors(out, "IRR", irr);
	print_vectors(out, "TMR", tmr);
}

static void print_events(FILE *out, const struct lapic *l)
{
	unsigned ev = atomic_load(&l->events);

	fputs("Pending\t", out);
	if (ev & EV_NMI)
		fputs(" NMI", out);
	if (ev & EV_INIT)
		fputs(" INIT", out);
	if (ev & EV_SIPI)
		fprintf(out, " SIPI (vec 0x%02x)", (ev & EV_VEC_MASK) >> EV_VEC_SHIFT);
	if (ev & EV_WAIT_SIPI)
		fputs(" wait-for-SIPI", out);
	fputs(ev & (EV_NMI | EV_INIT | EV_SIPI | EV_WAIT_SIPI) ? "\n" : " (none)\n", out);
}

void lapic_info_print(struct lapic *l, FILE *out)
{
	fprintf(out, "LAPIC of CPU %u: APIC ID %u, version 0x%08x, %s, base 0x%08" PRIx64 "%s\n",
		l->cpu, l->cpu, LAPIC_VERSION, lapic_mode_name(l->mode),
		lapic_base(l) & ~(uint64_t)0xfff, l->bsp ? ", BSP" : "");
	print_lvt(out, "LVT0", l->lvt[LVT_LINT0], false);
	print_lvt(out, "LVT1", l->lvt[LVT_LINT1], false);
	print_lvt(out, "LVTPC", l->lvt[LVT_PERF], false);
	print_lvt(out, "LVTERR", l->lvt[LVT_ERROR], false);
	print_lvt(out, "LVTTHMR", l->lvt[LVT_THERMAL], false);
	print_lvt(out, "LVTT", l->lvt[LVT_TIMER], true);
	print_timer(out, l);
	fprintf(out, "SPIV\t 0x%08x APIC %s, spurious vec %u\n", l->svr,
		l->svr & APIC_SVR_ENABLE ? "enabled" : "disabled", VECTOR(l->svr));
	print_icr(out, l);
	print_esr(out, l);
	print_vectors(out, "ISR", l->isr);
	print_irr_tmr(out, l);
	print_events(out, l);
	fprintf(out, "TPR 0x%02x PPR 0x%02x DFR 0x%08x LDR 0x%08x\n", l->tpr, l->ppr,
		l->dfr, l->ldr);
}
