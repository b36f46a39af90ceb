/* The local APIC's register file: xAPIC MMIO, x2APIC MSRs, IA32_APIC_BASE,
 * priorities (TPR/PPR/APR), IRR/ISR/EOI, the ESR and the per-vCPU side of
 * posted interrupts. Delivery between LAPICs is in lapic_bus.c, the timer in
 * lapic_timer.c. Everything here runs on the owning vCPU's thread. */
#include "devices/intc/lapic.h"

#include "devices/intc/lapic_int.h"

/* Register slots: what each mode allows, which bits are stored. */
#define R_XA	0x1	/* readable in xAPIC mode */
#define W_XA	0x2	/* writable in xAPIC mode */
#define R_X2	0x4	/* readable as an x2APIC MSR */
#define W_X2	0x8	/* writable as an x2APIC MSR */
#define RW_ALL	(R_XA | W_XA | R_X2 | W_X2)

struct reg_desc {
	uint8_t flags;
	uint32_t wmask;		/* bits a write stores */
	uint32_t ro;		/* read-only bits an x2APIC write may carry */
};

#define LVT_RO_STATUS	(1u << 12)
#define LVT_RO_RIRR	(1u << 14)

static const struct reg_desc regs[0x40] = {
	[LAPIC_ID >> 4]		= { R_XA | R_X2, 0, 0 },
	[LAPIC_VER >> 4]	= { R_XA | R_X2, 0, 0 },
	[LAPIC_TPR >> 4]	= { RW_ALL, 0xff, 0 },
	[LAPIC_APR >> 4]	= { R_XA, 0, 0 },
	[LAPIC_PPR >> 4]	= { R_XA | R_X2, 0, 0 },
	[LAPIC_EOI >> 4]	= { W_XA | W_X2, 0, 0 },	/* x2APIC: only 0 */
	[LAPIC_RRD >> 4]	= { R_XA, 0, 0 },
	[LAPIC_LDR >> 4]	= { R_XA | W_XA | R_X2, 0xff000000u, 0 },
	[LAPIC_DFR >> 4]	= { R_XA | W_XA, 0xf0000000u, 0 },
	[LAPIC_SVR >> 4]	= { RW_ALL, 0x3ff, 0 },
	[0x10 ... 0x27]		= { R_XA | R_X2, 0, 0 },	/* ISR TMR IRR */
	[LAPIC_ESR >> 4]	= { RW_ALL, 0, 0 },		/* x2APIC: only 0 */
	[LAPIC_ICR >> 4]	= { RW_ALL, 0x000ccfffu, 0 },
	[LAPIC_ICR2 >> 4]	= { R_XA | W_XA, 0xff000000u, 0 },
	[LAPIC_LVT_TIMER >> 4]	= { RW_ALL, 0x700ff, LVT_RO_STATUS },
	[LAPIC_LVT_THERMAL >> 4] = { RW_ALL, 0x107ff, LVT_RO_STATUS },
	[LAPIC_LVT_PERF >> 4]	= { RW_ALL, 0x107ff, LVT_RO_STATUS },
	[LAPIC_LVT_LINT0 >> 4]	= { RW_ALL, 0x1a7ff, LVT_RO_STATUS | LVT_RO_RIRR },
	[LAPIC_LVT_LINT1 >> 4]	= { RW_ALL, 0x1a7ff, LVT_RO_STATUS | LVT_RO_RIRR },
	[LAPIC_LVT_ERROR >> 4]	= { RW_ALL, 0x100ff, LVT_RO_STATUS },
	[LAPIC_TMICT >> 4]	= { RW_ALL, 0xffffffffu, 0 },
	[LAPIC_TMCCT >> 4]	= { R_XA | R_X2, 0, 0 },
	[LAPIC_TDCR >> 4]	= { RW_ALL, 0xb, 0 },
	[LAPIC_SELF_IPI >> 4]	= { W_X2, 0xff, 0 },
};

/* x2APIC ICR: bits 12, 13, 16, 17 and 20-31 are reserved (no busy bit). */
#define X2APIC_ICR_VALID	0xffffffff000ccfffull

#define APIC_BASE_ADDR_MASK	0x000ffffffffff000ull
#define APIC_BASE_RSVD		(~(APIC_BASE_ADDR_MASK | APIC_BASE_BSP | \
				   APIC_BASE_EXTD | APIC_BASE_EN))

static const struct reg_desc *reg_desc(uint32_t reg)
{
	static const struct reg_desc none;

	return reg < 0x400 ? &regs[reg >> 4] : &none;
}

static unsigned lvt_index(uint32_t reg)
{
	return (reg - LAPIC_LVT_TIMER) >> 4;
}

static bool is_lvt(uint32_t reg)
{
	return reg >= LAPIC_LVT_TIMER && reg <= LAPIC_LVT_ERROR;
}

/* ---- 256-bit vector registers ---- */

static bool vec_test(const uint32_t *r, unsigned v)
{
	return r[v >> 5] & (1u << (v & 31));
}

static void vec_set(uint32_t *r, unsigned v)
{
	r[v >> 5] |= 1u << (v & 31);
}

static void vec_clear(uint32_t *r, unsigned v)
{
	r[v >> 5] &= ~(1u << (v & 31));
}

static int vec_highest(const uint32_t *r)
{
	for (int i = 7; i >= 0; i--)
		if (r[i])
			return i * 32 + 31 - __builtin_clz(r[i]);
	return -1;
}

/* ---- priorities and the published routing word ---- */

static bool sw_enabled(const struct lapic *l)
{
	return l->svr & APIC_SVR_ENABLE;
}

static uint32_t x2apic_ldr(unsigned cpu)
{
	return (cpu >> 4) << 16 | 1u << (cpu & 15);
}

static void lapic_publish(struct lapic *l)
{
	unsigned w = (l->ldr >> 24) & ROUTE_LID_MASK;

	if ((l->dfr >> 28) == 0xf)
		w |= ROUTE_FLAT;
	w |= (unsigned)l->mode << ROUTE_MODE_SHIFT;
	if (sw_enabled(l))
		w |= ROUTE_SW_EN;
	w |= (unsigned)l->ppr << ROUTE_PPR_SHIFT;
	atomic_store_explicit(&l->route, w, memory_order_relaxed);
}

/* RVI, SVI and PPR (SDM 11.8.3.1): PPR is TPR if TPR's class is at least
 * the in-service class, else the in-service class with subclass 0. */
static void lapic_update(struct lapic *l)
{
	int irrv = vec_highest(l->irr), isrv = vec_highest(l->isr);

	l->rvi = irrv < 0 ? 0 : irrv;
	l->svi = isrv < 0 ? 0 : isrv;
	if ((l->tpr & 0xf0) >= (l->svi & 0xf0u))
		l->ppr = l->tpr & 0xff;
	else
		l->ppr = l->svi & 0xf0;
	lapic_publish(l);
}

/* APR (SDM figure "Arbitration Priority Register"): TPR if its class is
 * at least IRRV's and above ISRV's, else the highest of the three classes. */
static uint32_t lapic_apr(const struct lapic *l)
{
	unsigned tpr = l->tpr & 0xf0, isr = l->svi & 0xf0, irr = l->rvi & 0xf0;
	unsigned max = tpr;

	if (tpr >= irr && tpr > isr)
		return l->tpr & 0xff;
	if (isr > max)
		max = isr;
	if (irr > max)
		max = irr;
	return max;
}

/* ---- IRR, errors, LVT ---- */

/* Owner-side acceptance of a vector (timer, LVT error, self IPIs). */
void lapic_set_irr(struct lapic *l, unsigned vector, bool level)
{
	vec_set(l->irr, vector);
	if (level)
		vec_set(l->tmr, vector);
	else
		vec_clear(l->tmr, vector);
	if (vector > l->rvi)
		l->rvi = vector;
}

/* Log an error; it becomes visible at the next ESR write. The error LVT
 * fires for every error when unmasked, but an illegal vector in the error
 * LVT itself only logs, so errors never recurse. */
void lapic_error(struct lapic *l, uint32_t esr_bits)
{
	l->esr_pending |= esr_bits;
	stat_inc(&l->stats.errors);
	lapic_lvt_fire(l, LVT_ERROR);
}

void lapic_lvt_fire(struct lapic *l, unsigned lvt)
{
	uint32_t val = l->lvt[lvt];
	unsigned vector = val & 0xff;

	if (l->mode == LAPIC_MODE_DISABLED || (val & APIC_LVT_MASKED))
		return;
	/* Only the timer and error entries ever fire here, and both are
	 * always fixed delivery; LINT/thermal/perf have no source. */
	if (vector < 16) {
		if (lvt == LVT_ERROR) {
			l->esr_pending |= APIC_ESR_RECV_ILLEGAL;
			stat_inc(&l->stats.errors);
		} else {
			lapic_error(l, APIC_ESR_RECV_ILLEGAL);
		}
		return;
	}
	lapic_set_irr(l, vector, false);
}

/* sync_pir_to_irr: clear ON first, then take each PIR word. A sender sets
 * PIR before ON, so whatever it posted before we cleared ON is in the words
 * we take now, and anything later sees ON clear and notifies us again. */
void lapic_sync_pir(struct lapic *l)
{
	uint32_t esr;

	if (!atomic_load_explicit(&l->on, memory_order_acquire))
		return;
	atomic_exchange(&l->on, false);
	for (unsigned w = 0; w < 4; w++) {
		uint64_t p = atomic_exchange(&l->pir[w], 0), lvl;

		if (!p)
			continue;
		lvl = atomic_fetch_and(&l->pir_level[w], ~p) & p;
		l->irr[2 * w] |= (uint32_t)p;
		l->irr[2 * w + 1] |= (uint32_t)(p >> 32);
		l->tmr[2 * w] = (l->tmr[2 * w] & ~(uint32_t)p) | (uint32_t)lvl;
		l->tmr[2 * w + 1] = (l->tmr[2 * w + 1] & ~(uint32_t)(p >> 32)) |
				    (uint32_t)(lvl >> 32);
	}
	esr = atomic_exchange(&l->esr_posted, 0);
	if (esr)
		lapic_error(l, esr);
	lapic_update(l);
}

/* Drop everything posted to us (INIT, global disable). ON goes first, as
 * in lapic_sync_pir: the other order could leave a later post stranded in
 * PIR with ON clear and nobody notified. */
static void lapic_drain_posted(struct lapic *l)
{
	atomic_store(&l->on, false);
	for (unsigned w = 0; w < 4; w++) {
		atomic_store(&l->pir[w], 0);
		atomic_store(&l->pir_level[w], 0);
	}
	atomic_store(&l->esr_posted, 0);
}

/* The register state after RESET or INIT (SDM 11.4.7.1); the ID, the mode
 * and IA32_APIC_BASE are the caller's business. */
void lapic_reset(struct lapic *l)
{
	for (unsigned i = 0; i < 8; i++)
		l->irr[i] = l->isr[i] = l->tmr[i] = 0;
	l->tpr = 0;
	l->ldr = l->mode == LAPIC_MODE_X2APIC ? x2apic_ldr(l->cpu) : 0;
	l->dfr = 0xffffffffu;
	l->svr = 0xff;
	l->esr = l->esr_pending = 0;
	l->icr_lo = l->icr_hi = 0;
	l->lint0_rirr = false;
	for (unsigned i = 0; i < LVT_NUM; i++)
		l->lvt[i] = APIC_LVT_MASKED;
	lapic_drain_posted(l);
	lapic_timer_reset(l);
	lapic_update(l);
}

void lapic_power_reset(struct lapic *l)
{
	l->mode = LAPIC_MODE_XAPIC;
	/* After RESET the APs wait for a SIPI (SDM 9.4). */
	atomic_store(&l->events, l->bsp ? 0 : EV_WAIT_SIPI);
	lapic_reset(l);
}

/* ---- register semantics shared by MMIO and MSRs ---- */

static void lapic_eoi(struct lapic *l)
{
	int v = vec_highest(l->isr);

	if (v < 0) {
		stat_inc(&l->stats.spurious_eois);
		return;
	}
	vec_clear(l->isr, v);
	if (vec_test(l->tmr, v) && v == (int)(l->lvt[LVT_LINT0] & 0xff))
		l->lint0_rirr = false;
	if (vec_test(l->tmr, v) && l->bus->ops->eoi_level)
		l->bus->ops->eoi_level(l->bus->opaque, l->cpu, v);
	lapic_update(l);
}

static void lapic_set_svr(struct lapic *l, uint32_t val)
{
	l->svr = val;
	/* Software disable masks every LVT entry (SDM 11.4.7.2). */
	if (!sw_enabled(l))
		for (unsigned i = 0; i < LVT_NUM; i++)
			l->lvt[i] |= APIC_LVT_MASKED;
	lapic_publish(l);
}

static void lapic_set_lvt(struct lapic *l, unsigned idx, uint32_t val)
{
	uint32_t old = l->lvt[idx];

	/* While software-disabled, the mask bits cannot be cleared. */
	if (!sw_enabled(l))
		val |= APIC_LVT_MASKED;
	l->lvt[idx] = val;
	if (idx == LVT_TIMER)
		lapic_timer_lvt_write(l, old, val);
}

static void lapic_send_icr(struct lapic *l)
{
	struct apic_irq irq = {
		.vector = l->icr_lo & 0xff,
		.mode = (l->icr_lo >> 8) & 7,
		.logical = l->icr_lo & APIC_ICR_LOGICAL,
		.assert = l->icr_lo & APIC_ICR_ASSERT,
		.level_trig = l->icr_lo & APIC_ICR_LEVELTRIG,
		.shorthand = (l->icr_lo >> APIC_ICR_SH_SHIFT) & 3,
	};

	if (l->mode == LAPIC_MODE_X2APIC) {
		irq.dest = l->icr_hi;
		irq.x2apic_dest = true;
	} else {
		irq.dest = l->icr_hi >> 24;
	}
	stat_inc(&l->stats.ipis_sent);
	apic_bus_deliver(l->bus, l->cpu, &irq);
}

static void lapic_self_ipi(struct lapic *l, unsigned vector)
{
	struct apic_irq irq = {
		.vector = vector,
		.mode = APIC_DM_FIXED,
		.shorthand = APIC_SH_SELF,
		.assert = true,
	};

	stat_inc(&l->stats.ipis_sent);
	apic_bus_deliver(l->bus, l->cpu, &irq);
}

static uint32_t reg_read(struct lapic *l, uint32_t reg)
{
	bool x2 = l->mode == LAPIC_MODE_X2APIC;

	if (reg >= LAPIC_ISR && reg < LAPIC_ESR) {
		const uint32_t *r = reg >= LAPIC_IRR ? l->irr :
				    reg >= LAPIC_TMR ? l->tmr : l->isr;

		if (reg >= LAPIC_TMR)
			lapic_sync_pir(l);	/* show what is posted */
		return r[(reg >> 4) & 7];
	}
	if (is_lvt(reg))
		return l->lvt[lvt_index(reg)];

	switch (reg) {
	case LAPIC_ID:		return x2 ? l->cpu : l->cpu << 24;
	case LAPIC_VER:		return LAPIC_VERSION;
	case LAPIC_TPR:		return l->tpr;
	case LAPIC_APR:		lapic_sync_pir(l); return lapic_apr(l);
	case LAPIC_PPR:		return l->ppr;
	case LAPIC_LDR:		return l->ldr;
	case LAPIC_DFR:		return l->dfr;
	case LAPIC_SVR:		return l->svr;
	case LAPIC_ESR:		return l->esr;
	case LAPIC_ICR:		return l->icr_lo;
	case LAPIC_ICR2:	return l->icr_hi;
	case LAPIC_TMICT:	return l->timer.tmict;
	case LAPIC_TMCCT:	return lapic_timer_current(l);
	case LAPIC_TDCR:	return l->timer.tdcr;
	default:		return 0;	/* EOI, RRD: nothing to read */
	}
}

/* @val has been checked and masked for the current mode. */
static void reg_write(struct lapic *l, uint32_t reg, uint32_t val)
{
	if (is_lvt(reg)) {
		lapic_set_lvt(l, lvt_index(reg), val);
		return;
	}
	switch (reg) {
	case LAPIC_TPR:
		l->tpr = val;
		lapic_update(l);
		break;
	case LAPIC_EOI:
		lapic_eoi(l);
		break;
	case LAPIC_LDR:
		l->ldr = val;
		lapic_publish(l);
		break;
	case LAPIC_DFR:
		l->dfr = val | 0x0fffffffu;	/* reserved bits read as 1 */
		lapic_publish(l);
		break;
	case LAPIC_SVR:
		lapic_set_svr(l, val);
		break;
	case LAPIC_ESR:
		/* A write latches the errors logged since the previous one. */
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		break;
	case LAPIC_ICR:		/* xAPIC: writing the low half sends */
		l->icr_lo = val;
		lapic_send_icr(l);
		break;
	case LAPIC_ICR2:
		l->icr_hi = val;
		break;
	case LAPIC_TMICT:
		lapic_timer_set_initial(l, val);
		break;
	case LAPIC_TDCR:
		lapic_timer_set_divide(l, val);
		break;
	case LAPIC_SELF_IPI:
		lapic_self_ipi(l, val);
		break;
	}
}

static uint32_t reg_wmask(const struct lapic *l, uint32_t reg)
{
	uint32_t m = reg_desc(reg)->wmask;

	/* Without TSC deadline, LVT timer bit 18 is reserved. */
	if (reg == LAPIC_LVT_TIMER && !l->bus->tsc_khz)
		m &= ~APIC_LVT_TIMER_TSCDL;
	return m;
}

/* ---- xAPIC MMIO ---- */

static bool size_ok(unsigned size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

uint64_t lapic_mmio_read(struct lapic *l, uint64_t offset, unsigned size)
{
	unsigned byte = offset & 0xf;
	uint32_t reg = offset & 0xff0;
	uint64_t val;

	if (l->mode != LAPIC_MODE_XAPIC || offset >= APIC_MMIO_SIZE ||
	    !size_ok(size) || byte + size > 16)
		return 0;
	if (!(reg_desc(reg)->flags & (R_XA | W_XA))) {
		lapic_error(l, APIC_ESR_ILLEGAL_REG);
		return 0;
	}
	if (byte >= 4)
		return 0;
	/* Bytes 4-15 of a slot read as zero. */
	val = reg_read(l, reg) >> (8 * byte);
	return size == 8 ? val : val & ((1ull << (8 * size)) - 1);
}

void lapic_mmio_write(struct lapic *l, uint64_t offset, uint64_t value,
		      unsigned size)
{
	uint32_t reg = offset & 0xff0;
	const struct reg_desc *d = reg_desc(reg);

	if (l->mode != LAPIC_MODE_XAPIC || offset >= APIC_MMIO_SIZE ||
	    size != 4 || (offset & 0xf)) {
		stat_inc(&l->stats.ignored_writes);
		return;
	}
	if (!(d->flags & (R_XA | W_XA))) {
		lapic_error(l, APIC_ESR_ILLEGAL_REG);
		stat_inc(&l->stats.ignored_writes);
		return;
	}
	if (!(d->flags & W_XA)) {
		stat_inc(&l->stats.ignored_writes);
		return;
	}
	reg_write(l, reg, (uint32_t)value & reg_wmask(l, reg));
}

/* ---- MSRs ---- */

static int x2apic_read(struct lapic *l, uint32_t reg, uint64_t *value)
{
	if (l->mode != LAPIC_MODE_X2APIC)
		return -1;
	if (reg == LAPIC_ICR) {
		*value = (uint64_t)l->icr_hi << 32 | l->icr_lo;
		return 0;
	}
	if (!(reg_desc(reg)->flags & R_X2))
		return -1;
	*value = reg_read(l, reg);
	return 0;
}

static int x2apic_write_icr(struct lapic *l, uint64_t value)
{
	if (value & ~X2APIC_ICR_VALID)
		return -1;
	l->icr_lo = (uint32_t)value;
	l->icr_hi = value >> 32;
	lapic_send_icr(l);
	return 0;
}

/* Reserved bits and read-only registers are #GP in x2APIC mode (SDM
 * 11.12.1.3), and so is a non-zero write to EOI or ESR (wmask 0). */
static int x2apic_write(struct lapic *l, uint32_t reg, uint64_t value)
{
	const struct reg_desc *d = reg_desc(reg);
	uint32_t wmask = reg_wmask(l, reg);

	if (l->mode != LAPIC_MODE_X2APIC)
		return -1;
	if (reg == LAPIC_ICR)
		return x2apic_write_icr(l, value);
	if (!(d->flags & W_X2) || (value & ~(uint64_t)(wmask | d->ro)))
		return -1;
	if (reg == LAPIC_LVT_TIMER && (value & (3u << 17)) == (3u << 17))
		return -1;	/* timer mode 11b is reserved */
	reg_write(l, reg, (uint32_t)value & wmask);
	return 0;
}

static enum lapic_mode base_mode(uint64_t base)
{
	if (!(base & APIC_BASE_EN))
		return LAPIC_MODE_DISABLED;
	return base & APIC_BASE_EXTD ? LAPIC_MODE_X2APIC : LAPIC_MODE_XAPIC;
}

/* Mode transitions of SDM 11.12.5 (figure "Local x2APIC State Transitions
 * with IA32_APIC_BASE, INIT, and RESET"). */
static int lapic_set_base(struct lapic *l, uint64_t value)
{
	enum lapic_mode old = l->mode, new = base_mode(value);

	if (value & APIC_BASE_RSVD)
		return -1;
	/* Relocating the page is not modelled: fail loudly, not silently. */
	if ((value & APIC_BASE_ADDR_MASK) != APIC_DEFAULT_BASE)
		return -1;
	if ((value & (APIC_BASE_EN | APIC_BASE_EXTD)) == APIC_BASE_EXTD)
		return -1;	/* EN=0 EXTD=1 is the invalid state */
	if ((old == LAPIC_MODE_X2APIC && new == LAPIC_MODE_XAPIC) ||
	    (old == LAPIC_MODE_DISABLED && new == LAPIC_MODE_X2APIC))
		return -1;
	if (old == new)
		return 0;	/* the BSP flag is read-only here */
	l->mode = new;
	if (new == LAPIC_MODE_DISABLED)
		lapic_reset(l);	/* state is lost; IDs are kept */
	else if (new == LAPIC_MODE_X2APIC)
		l->ldr = x2apic_ldr(l->cpu);
	lapic_publish(l);
	return 0;
}

int lapic_msr_read(struct lapic *l, uint32_t msr, uint64_t *value)
{
	if (msr == LAPIC_MSR_APIC_BASE) {
		*value = lapic_base(l);
		return 0;
	}
	if (msr == LAPIC_MSR_TSC_DEADLINE)
		return lapic_timer_tscdl_read(l, value);
	if (msr < LAPIC_MSR_X2APIC || msr > LAPIC_MSR_X2APIC_LAST)
		return -1;
	return x2apic_read(l, (msr - LAPIC_MSR_X2APIC) << 4, value);
}

int lapic_msr_write(struct lapic *l, uint32_t msr, uint64_t value)
{
	if (msr == LAPIC_MSR_APIC_BASE)
		return lapic_set_base(l, value);
	if (msr == LAPIC_MSR_TSC_DEADLINE)
		return lapic_timer_tscdl_write(l, value);
	if (msr < LAPIC_MSR_X2APIC || msr > LAPIC_MSR_X2APIC_LAST)
		return -1;
	return x2apic_write(l, (msr - LAPIC_MSR_X2APIC) << 4, value);
}

uint64_t lapic_base(const struct lapic *l)
{
	uint64_t v = APIC_DEFAULT_BASE;

	if (l->bsp)
		v |= APIC_BASE_BSP;
	if (l->mode != LAPIC_MODE_DISABLED)
		v |= APIC_BASE_EN;
	if (l->mode == LAPIC_MODE_X2APIC)
		v |= APIC_BASE_EXTD;
	return v;
}

unsigned lapic_cpu(const struct lapic *l)
{
	return l->cpu;
}

bool lapic_x2apic_mode(const struct lapic *l)
{
	return l->mode == LAPIC_MODE_X2APIC;
}

/* ---- CR8 ---- */

uint8_t lapic_cr8(const struct lapic *l)
{
	return l->tpr >> 4;
}

void lapic_set_cr8(struct lapic *l, uint8_t cr8)
{
	/* MOV to CR8 sets TPR[7:4] and clears TPR[3:0]; KVM hands us CR8 at
	 * every exit, so only a changed class is a write. */
	if ((l->tpr >> 4) == (cr8 & 0xfu))
		return;
	l->tpr = (cr8 & 0xfu) << 4;
	lapic_update(l);
}

/* ---- LINT0 / LINT1 ---- */

void lapic_set_lint(struct lapic *l, unsigned pin, bool level)
{
	unsigned bit = 1u << (pin & 1), old;

	old = level ? atomic_fetch_or(&l->lint_level, bit)
		    : atomic_fetch_and(&l->lint_level, ~bit);
	/* A falling line makes nothing newly deliverable: no one to tell (the
	 * 8259 lowers it in every INTA cycle, on the vCPU's own thread). */
	if (!level || (old & bit))
		return;
	/* An edge is latched, so a pulse between two looks is not lost. */
	atomic_fetch_or(&l->lint_rose, bit);
	l->bus->ops->notify(l->bus->opaque, l->cpu);
}

static unsigned lvt_mode(uint32_t lvt)
{
	return (lvt >> 8) & 7;
}

/* A fixed-mode LINT: edge on a rising edge; level (LINT0 only: the SDM
 * allows no level LINT1) while high, once per EOI. True if it raised. */
static bool lint_fixed(struct lapic *l, unsigned pin, bool high, bool rose)
{
	uint32_t lvt = l->lvt[LVT_LINT0 + pin];
	bool level = pin == 0 && (lvt & APIC_LVT_LEVEL);

	if (level ? !high || l->lint0_rirr : !rose)
		return false;
	if (level)
		l->lint0_rirr = true;
	if ((lvt & 0xff) < 16)
		lapic_error(l, APIC_ESR_RECV_ILLEGAL);
	else
		lapic_set_irr(l, lvt & 0xff, level);
	return true;
}

/* Owner side: the edges latched since the last look, and a level LINT0. */
static void lapic_sync_lint(struct lapic *l)
{
	unsigned rose = atomic_exchange(&l->lint_rose, 0);
	unsigned now = atomic_load(&l->lint_level);
	bool raised = false;

	if (l->mode == LAPIC_MODE_DISABLED) {
		if (rose & 2)	/* LINT1 is the NMI pin */
			atomic_fetch_or(&l->events, EV_NMI);
		return;
	}
	for (unsigned pin = 0; pin < 2; pin++) {
		uint32_t lvt = l->lvt[LVT_LINT0 + pin];
		unsigned bit = 1u << pin;

		if (lvt & APIC_LVT_MASKED)
			continue;
		if (lvt_mode(lvt) == APIC_DM_FIXED)
			raised |= lint_fixed(l, pin, now & bit, rose & bit);
		else if (lvt_mode(lvt) == APIC_DM_NMI && (rose & bit))
			atomic_fetch_or(&l->events, EV_NMI);
	}
	if (raised)
		lapic_update(l);
}

static bool lint_needs_look(const struct lapic *l)
{
	return atomic_load(&l->lint_rose) ||
	       ((atomic_load(&l->lint_level) & 1) && !l->lint0_rirr &&
		(l->lvt[LVT_LINT0] & APIC_LVT_LEVEL));
}

bool lapic_extint_pending(struct lapic *l)
{
	uint32_t lvt = l->lvt[LVT_LINT0];

	if (!(atomic_load(&l->lint_level) & 1) || (atomic_load(&l->events) & EV_INIT))
		return false;
	return l->mode == LAPIC_MODE_DISABLED ||
	       (!(lvt & APIC_LVT_MASKED) && lvt_mode(lvt) == APIC_DM_EXTINT);
}

void lapic_set_virtual_wire(struct lapic *l)
{
	lapic_set_svr(l, l->svr | APIC_SVR_ENABLE);
	lapic_set_lvt(l, LVT_LINT0, APIC_DM_EXTINT << 8);
	lapic_set_lvt(l, LVT_LINT1, APIC_DM_NMI << 8);
}

/* ---- the vCPU loop's side ---- */

static bool lapic_can_deliver(const struct lapic *l)
{
	return l->mode != LAPIC_MODE_DISABLED && sw_enabled(l) &&
	       !(atomic_load(&l->events) & EV_INIT);
}

int lapic_pending_vector(struct lapic *l)
{
	if (l->timer.deadline_ns)
		lapic_timer_fire(l);
	if (lint_needs_look(l))
		lapic_sync_lint(l);
	lapic_sync_pir(l);
	if (!lapic_can_deliver(l) || !vec_test(l->irr, l->rvi))
		return -1;
	if ((l->rvi & 0xf0u) <= (l->ppr & 0xf0u))
		return -1;
	return l->rvi;
}

void lapic_accept(struct lapic *l, int vector)
{
	if (vector < 16 || vector > 255 || !vec_test(l->irr, vector))
		return;
	vec_clear(l->irr, vector);
	vec_set(l->isr, vector);
	stat_inc(&l->stats.delivered[vector]);
	lapic_update(l);
}

bool lapic_take_nmi(struct lapic *l)
{
	if (!(atomic_load(&l->events) & EV_NMI))
		return false;
	if (!(atomic_fetch_and(&l->events, ~EV_NMI) & EV_NMI))
		return false;
	stat_inc(&l->stats.nmis);
	return true;
}

enum lapic_start_event lapic_take_start_event(struct lapic *l,
					       uint8_t *sipi_vector)
{
	unsigned old = atomic_load(&l->events), new;

	do {
		if (old & EV_INIT)
			new = old & ~(EV_INIT | EV_NMI);
		else if (old & EV_SIPI)
			new = old & ~(EV_SIPI | EV_VEC_MASK);
		else
			return LAPIC_NONE;
	} while (!atomic_compare_exchange_weak(&l->events, &old, new));

	if (old & EV_INIT) {
		lapic_reset(l);
		stat_inc(&l->stats.inits);
		return LAPIC_INIT;
	}
	*sipi_vector = (old & EV_VEC_MASK) >> EV_VEC_SHIFT;
	stat_inc(&l->stats.sipis);
	return LAPIC_SIPI;
}

bool lapic_has_wake_event(struct lapic *l, bool interrupts_on)
{
	if (lint_needs_look(l))
		lapic_sync_lint(l);	/* an NMI through LINT1 ends any hlt */
	if (atomic_load(&l->events) & (EV_NMI | EV_INIT | EV_SIPI))
		return true;
	return interrupts_on && (lapic_pending_vector(l) >= 0 ||
				 lapic_extint_pending(l));
}

void lapic_get_stats(const struct lapic *l, struct lapic_stats *st)
{
	const struct lapic_counters *c = &l->stats;

	for (unsigned v = 0; v < 256; v++)
		st->delivered[v] = atomic_load_explicit(&c->delivered[v],
							memory_order_relaxed);
#define LOAD(f) st->f = atomic_load_explicit(&c->f, memory_order_relaxed)
	LOAD(nmis);
	LOAD(inits);
	LOAD(sipis);
	LOAD(ipis_sent);
	LOAD(timer_fires);
	LOAD(spurious_eois);
	LOAD(ignored_writes);
	LOAD(errors);
#undef LOAD
}
