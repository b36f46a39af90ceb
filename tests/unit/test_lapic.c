/* The local APIC model against SDM Vol. 3A ch. 11, with a fake clock and
 * fake host ops; no /dev/kvm, one thread (the stress tests are in
 * test_lapic_stress.c). */
#include <criterion/criterion.h>

#include "devices/intc/lapic.h"

#define MAXC 32

static struct {
	uint64_t now, tsc;
	unsigned notified[MAXC];
	uint64_t armed[MAXC];
	unsigned arm_calls;
	unsigned eoi_calls, eoi_cpu, eoi_vec;
	unsigned ntrace;
	struct { int src; unsigned dst, mode, vec; } trace[64];
} F;

static void f_notify(void *o, unsigned cpu)
{
	(void)o;
	F.notified[cpu]++;
}

static uint64_t f_now(void *o)
{
	(void)o;
	return F.now;
}

static void f_arm(void *o, unsigned cpu, uint64_t deadline)
{
	(void)o;
	F.armed[cpu] = deadline;
	F.arm_calls++;
}

static uint64_t f_tsc(void *o, unsigned cpu)
{
	(void)o;
	(void)cpu;
	return F.tsc;
}

static void f_eoi(void *o, unsigned cpu, unsigned vec)
{
	(void)o;
	F.eoi_calls++;
	F.eoi_cpu = cpu;
	F.eoi_vec = vec;
}

static void f_trace(void *o, int src, unsigned dst, unsigned mode, unsigned vec)
{
	(void)o;
	if (F.ntrace < 64)
		F.trace[F.ntrace++] = (typeof(F.trace[0])){ src, dst, mode, vec };
}

static const struct apic_host_ops ops = {
	.notify = f_notify, .now_ns = f_now, .timer_arm = f_arm,
	.eoi_level = f_eoi, .trace_ipi = f_trace,
};
static const struct apic_host_ops ops_tsc = {
	.notify = f_notify, .now_ns = f_now, .timer_arm = f_arm,
	.guest_tsc = f_tsc,
};

static struct apic_bus *B;

static void mkbus_ops(unsigned n, uint32_t khz, const struct apic_host_ops *o)
{
	memset(&F, 0, sizeof(F));
	F.now = 1000;
	B = apic_bus_new(n, khz, o, NULL);
	cr_assert_not_null(B);
}

static void mkbus(unsigned n, uint32_t khz)
{
	mkbus_ops(n, khz, &ops);
}

static void fini(void)
{
	apic_bus_free(B);
	B = NULL;
}

TestSuite(lapic, .fini = fini);

static struct lapic *L(unsigned cpu)
{
	return apic_bus_cpu(B, cpu);
}

static uint32_t rd(unsigned cpu, uint32_t reg)
{
	return lapic_mmio_read(L(cpu), reg, 4);
}

static void wr(unsigned cpu, uint32_t reg, uint32_t val)
{
	lapic_mmio_write(L(cpu), reg, val, 4);
}

static void enable(unsigned cpu)
{
	wr(cpu, LAPIC_SVR, 0x1ff);
}

static void enable_all(void)
{
	for (unsigned i = 0; i < apic_bus_ncpus(B); i++)
		enable(i);
}

static bool irr_has(unsigned cpu, unsigned v)
{
	return rd(cpu, LAPIC_IRR + (v / 32) * 0x10) & (1u << (v % 32));
}

static bool isr_has(unsigned cpu, unsigned v)
{
	return rd(cpu, LAPIC_ISR + (v / 32) * 0x10) & (1u << (v % 32));
}

static bool tmr_has(unsigned cpu, unsigned v)
{
	return rd(cpu, LAPIC_TMR + (v / 32) * 0x10) & (1u << (v % 32));
}

/* xAPIC IPI from @src: destination byte, then the low ICR word sends. */
static void ipi(unsigned src, uint8_t dest, uint32_t icr)
{
	wr(src, LAPIC_ICR2, (uint32_t)dest << 24);
	wr(src, LAPIC_ICR, icr);
}

static void msi(unsigned dest, uint32_t data)
{
	cr_assert_eq(apic_bus_deliver_msi(B, 0xfee00000u | dest << 12, data), 0);
}

static uint32_t esr(unsigned cpu)
{
	wr(cpu, LAPIC_ESR, 0);
	return rd(cpu, LAPIC_ESR);
}

static struct lapic_stats stats(unsigned cpu)
{
	struct lapic_stats s;

	lapic_get_stats(L(cpu), &s);
	return s;
}

static uint64_t msr(unsigned cpu, uint32_t idx)
{
	uint64_t v = 0xdead;

	cr_assert_eq(lapic_msr_read(L(cpu), idx, &v), 0, "rdmsr %#x", idx);
	return v;
}

/* ---------------- registers ---------------- */

Test(lapic, reset_values)
{
	mkbus(2, 0);
	cr_assert_eq(rd(0, LAPIC_ID), 0);
	cr_assert_eq(rd(1, LAPIC_ID), 1u << 24);
	cr_assert_eq(rd(1, LAPIC_VER), 0x00050014);
	cr_assert_eq(rd(1, LAPIC_TPR), 0);
	cr_assert_eq(rd(1, LAPIC_APR), 0);
	cr_assert_eq(rd(1, LAPIC_PPR), 0);
	cr_assert_eq(rd(1, LAPIC_LDR), 0);
	cr_assert_eq(rd(1, LAPIC_DFR), 0xffffffffu);
	cr_assert_eq(rd(1, LAPIC_SVR), 0xff);
	for (unsigned i = 0; i < 8; i++) {
		cr_assert_eq(rd(1, LAPIC_ISR + i * 16), 0);
		cr_assert_eq(rd(1, LAPIC_TMR + i * 16), 0);
		cr_assert_eq(rd(1, LAPIC_IRR + i * 16), 0);
	}
	cr_assert_eq(rd(1, LAPIC_ESR), 0);
	cr_assert_eq(rd(1, LAPIC_ICR), 0);
	cr_assert_eq(rd(1, LAPIC_ICR2), 0);
	for (uint32_t r = LAPIC_LVT_TIMER; r <= LAPIC_LVT_ERROR; r += 16)
		cr_assert_eq(rd(1, r), 0x10000, "LVT %#x", r);
	cr_assert_eq(rd(1, LAPIC_TMICT), 0);
	cr_assert_eq(rd(1, LAPIC_TMCCT), 0);
	cr_assert_eq(rd(1, LAPIC_TDCR), 0);
	cr_assert_eq(lapic_base(L(0)), 0xfee00900u, "EN | BSP");
	cr_assert_eq(lapic_base(L(1)), 0xfee00800u, "EN");
	cr_assert_eq(F.arm_calls, 0, "nothing armed at reset");
}

Test(lapic, read_only_writes_ignored_and_counted)
{
	static const uint32_t ro[] = {
		LAPIC_ID, LAPIC_VER, LAPIC_APR, LAPIC_PPR, LAPIC_RRD,
		LAPIC_ISR, LAPIC_TMR + 0x30, LAPIC_IRR + 0x70, LAPIC_TMCCT,
	};

	mkbus(2, 0);
	enable(1);
	for (unsigned i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		wr(1, ro[i], 0xffffffffu);
	cr_assert_eq(rd(1, LAPIC_ID), 1u << 24);
	cr_assert_eq(rd(1, LAPIC_VER), 0x00050014);
	cr_assert_eq(rd(1, LAPIC_PPR), 0);
	cr_assert_eq(rd(1, LAPIC_ISR), 0);
	cr_assert_eq(rd(1, LAPIC_IRR + 0x70), 0);
	cr_assert_eq(rd(1, LAPIC_TMCCT), 0);
	cr_assert_eq(stats(1).ignored_writes, 9);
	cr_assert_eq(esr(1), 0, "read-only is not an illegal address");
	cr_assert_eq(lapic_pending_vector(L(1)), -1);
}

Test(lapic, reserved_bits)
{
	mkbus(2, 1000000);
	enable(0);
	wr(0, LAPIC_SVR, 0xffffffffu);
	cr_assert_eq(rd(0, LAPIC_SVR), 0x3ff, "no directed EOI: bit 12 reserved");
	wr(0, LAPIC_TPR, 0xffffffffu);
	cr_assert_eq(rd(0, LAPIC_TPR), 0xff);
	wr(0, LAPIC_TPR, 0);
	wr(0, LAPIC_LDR, 0xffffffffu);
	cr_assert_eq(rd(0, LAPIC_LDR), 0xff000000u);
	wr(0, LAPIC_DFR, 0);
	cr_assert_eq(rd(0, LAPIC_DFR), 0x0fffffffu, "DFR[27:0] read as ones");
	wr(0, LAPIC_TDCR, 0xffffffffu);
	cr_assert_eq(rd(0, LAPIC_TDCR), 0xb);
	wr(0, LAPIC_ICR2, 0xffffffffu);
	cr_assert_eq(rd(0, LAPIC_ICR2), 0xff000000u);
	wr(0, LAPIC_LVT_LINT0, 0xfffeffffu);
	cr_assert_eq(rd(0, LAPIC_LVT_LINT0), 0xa7ff, "status, remote IRR read 0");
	wr(0, LAPIC_LVT_ERROR, 0xffffffffu);
	cr_assert_eq(rd(0, LAPIC_LVT_ERROR), 0x100ff);
	wr(0, LAPIC_LVT_PERF, 0xffffffffu);
	cr_assert_eq(rd(0, LAPIC_LVT_PERF), 0x107ff);
	wr(0, LAPIC_LVT_TIMER, 0xfffeffffu);
	cr_assert_eq(rd(0, LAPIC_LVT_TIMER), 0x600ff);
	/* ICR low: busy (12), 13, 16-17, 20-31 are not stored. The write
	 * sends vector 0x41 to all but self. */
	wr(0, LAPIC_ICR2, 0);
	wr(0, LAPIC_ICR, 0xfffc7041u);
	cr_assert_eq(rd(0, LAPIC_ICR), 0x000c4041u, "delivery status reads idle");
	enable(1);
	cr_assert_eq(stats(0).ipis_sent, 1);
}

Test(lapic, timer_mode_bit18_reserved_without_tsc_deadline)
{
	mkbus(1, 0);
	enable(0);
	wr(0, LAPIC_LVT_TIMER, 0x60033);
	cr_assert_eq(rd(0, LAPIC_LVT_TIMER), 0x20033);
}

Test(lapic, reserved_register_sets_illegal_address)
{
	mkbus(1, 0);
	enable(0);
	cr_assert_eq(rd(0, 0x040), 0);
	cr_assert_eq(esr(0), APIC_ESR_ILLEGAL_REG);
	cr_assert_eq(esr(0), 0, "the next ESR write clears it");
	wr(0, LAPIC_SELF_IPI, 0x40);	/* x2APIC only */
	cr_assert_eq(esr(0), APIC_ESR_ILLEGAL_REG);
	wr(0, 0x2f0, 0);		/* no CMCI LVT */
	cr_assert_eq(esr(0), APIC_ESR_ILLEGAL_REG);
	cr_assert_eq(rd(0, 0xff0), 0);
	cr_assert_eq(esr(0), APIC_ESR_ILLEGAL_REG);
	cr_assert_eq(stats(0).ignored_writes, 2);
	cr_assert_eq(lapic_pending_vector(L(0)), -1, "SELF IPI did nothing");
}

Test(lapic, mmio_access_sizes)
{
	mkbus(4, 0);
	cr_assert_eq(lapic_mmio_read(L(3), 0x23, 1), 3);
	cr_assert_eq(lapic_mmio_read(L(3), 0x22, 2), 0x0300);
	cr_assert_eq(lapic_mmio_read(L(3), 0x21, 2), 0);
	cr_assert_eq(lapic_mmio_read(L(3), 0x20, 8), 0x03000000u);
	cr_assert_eq(lapic_mmio_read(L(3), 0x24, 4), 0, "bytes 4-15 read 0");
	cr_assert_eq(lapic_mmio_read(L(3), 0x30, 3), 0, "bad size");
	cr_assert_eq(lapic_mmio_read(L(3), 0x2e, 4), 0, "crosses a slot");
	cr_assert_eq(lapic_mmio_read(L(3), 0x1000, 4), 0);

	lapic_mmio_write(L(3), LAPIC_TPR, 0x20, 1);
	lapic_mmio_write(L(3), LAPIC_TPR, 0x20, 2);
	lapic_mmio_write(L(3), LAPIC_TPR, 0x20, 8);
	lapic_mmio_write(L(3), LAPIC_TPR + 4, 0x20, 4);
	lapic_mmio_write(L(3), 0x1080, 0x20, 4);
	cr_assert_eq(rd(3, LAPIC_TPR), 0);
	cr_assert_eq(stats(3).ignored_writes, 5);
	cr_assert_eq(esr(3), 0);
	lapic_mmio_write(L(3), LAPIC_TPR, 0x20, 4);
	cr_assert_eq(rd(3, LAPIC_TPR), 0x20);
}

/* ---------------- priorities, EOI ---------------- */

Test(lapic, tpr_ppr_masking)
{
	mkbus(1, 0);
	enable(0);
	msi(0, 0x45);
	cr_assert_eq(F.notified[0], 1);
	wr(0, LAPIC_TPR, 0x50);
	cr_assert_eq(lapic_pending_vector(L(0)), -1, "class 4 below TPR 5");
	wr(0, LAPIC_TPR, 0x40);
	cr_assert_eq(lapic_pending_vector(L(0)), -1, "same class is blocked");
	wr(0, LAPIC_TPR, 0x3f);
	cr_assert_eq(rd(0, LAPIC_PPR), 0x3f, "PPR = TPR when nothing in service");
	cr_assert_eq(lapic_pending_vector(L(0)), 0x45);
	lapic_accept(L(0), 0x45);
	cr_assert(isr_has(0, 0x45));
	cr_assert_not(irr_has(0, 0x45));
	cr_assert_eq(rd(0, LAPIC_PPR), 0x40, "ISRV class above TPR class");
	wr(0, LAPIC_TPR, 0x52);
	cr_assert_eq(rd(0, LAPIC_PPR), 0x52);
	wr(0, LAPIC_TPR, 0x4f);
	cr_assert_eq(rd(0, LAPIC_PPR), 0x4f, "same class: TPR with subclass");
	cr_assert_eq(stats(0).delivered[0x45], 1);
}

Test(lapic, eoi_nested_vectors)
{
	mkbus(1, 0);
	enable(0);
	msi(0, 0x40);
	cr_assert_eq(lapic_pending_vector(L(0)), 0x40);
	lapic_accept(L(0), 0x40);
	msi(0, 0x80);
	cr_assert_eq(lapic_pending_vector(L(0)), 0x80, "higher class nests");
	lapic_accept(L(0), 0x80);
	cr_assert_eq(rd(0, LAPIC_PPR), 0x80);
	msi(0, 0x50);
	msi(0, 0x8f);
	cr_assert_eq(lapic_pending_vector(L(0)), -1, "0x8f same class, 0x50 lower");
	wr(0, LAPIC_EOI, 0);
	cr_assert_not(isr_has(0, 0x80), "EOI clears the highest ISR bit");
	cr_assert(isr_has(0, 0x40));
	cr_assert_eq(rd(0, LAPIC_PPR), 0x40);
	cr_assert_eq(lapic_pending_vector(L(0)), 0x8f);
	lapic_accept(L(0), 0x8f);
	wr(0, LAPIC_EOI, 0);
	cr_assert_eq(lapic_pending_vector(L(0)), 0x50);
	lapic_accept(L(0), 0x50);
	wr(0, LAPIC_EOI, 0x1234);	/* the value is ignored in xAPIC mode */
	cr_assert(isr_has(0, 0x40));
	cr_assert_not(isr_has(0, 0x50));
	wr(0, LAPIC_EOI, 0);
	cr_assert_eq(rd(0, LAPIC_ISR + 0x20), 0);
	cr_assert_eq(rd(0, LAPIC_PPR), 0);
	cr_assert_eq(stats(0).spurious_eois, 0);
	wr(0, LAPIC_EOI, 0);
	cr_assert_eq(stats(0).spurious_eois, 1, "EOI of nothing is ignored");
	cr_assert_eq(lapic_pending_vector(L(0)), -1);
}

Test(lapic, accept_ignores_vectors_not_pending)
{
	mkbus(1, 0);
	enable(0);
	lapic_accept(L(0), 0x60);
	lapic_accept(L(0), 3);
	lapic_accept(L(0), 300);
	cr_assert_eq(rd(0, LAPIC_ISR + 0x30), 0);
	cr_assert_eq(rd(0, LAPIC_PPR), 0);
}

Test(lapic, arbitration_priority)
{
	mkbus(1, 0);
	enable(0);
	wr(0, LAPIC_TPR, 0x20);
	msi(0, 0x45);
	cr_assert_eq(rd(0, LAPIC_APR), 0x40, "IRRV class wins, subclass 0");
	wr(0, LAPIC_TPR, 0x53);
	cr_assert_eq(rd(0, LAPIC_APR), 0x53, "TPR >= IRRV and > ISRV");
	wr(0, LAPIC_TPR, 0x10);
	lapic_accept(L(0), lapic_pending_vector(L(0)));
	wr(0, LAPIC_TPR, 0x47);
	cr_assert_eq(rd(0, LAPIC_APR), 0x40, "TPR not above ISRV");
}

Test(lapic, cr8_is_tpr_class)
{
	mkbus(1, 0);
	enable(0);
	wr(0, LAPIC_TPR, 0x35);
	cr_assert_eq(lapic_cr8(L(0)), 3);
	lapic_set_cr8(L(0), 3);
	cr_assert_eq(rd(0, LAPIC_TPR), 0x35, "unchanged class keeps TPR[3:0]");
	lapic_set_cr8(L(0), 5);
	cr_assert_eq(rd(0, LAPIC_TPR), 0x50);
	cr_assert_eq(rd(0, LAPIC_PPR), 0x50);
	msi(0, 0x55);
	cr_assert_eq(lapic_pending_vector(L(0)), -1);
	lapic_set_cr8(L(0), 0);
	cr_assert_eq(lapic_pending_vector(L(0)), 0x55);
}

/* ---------------- destinations ---------------- */

static unsigned irr_mask(unsigned v)
{
	unsigned m = 0;

	for (unsigned i = 0; i < apic_bus_ncpus(B); i++)
		if (irr_has(i, v))
			m |= 1u << i;
	return m;
}

Test(lapic, physical_destination_and_broadcast)
{
	mkbus(4, 0);
	enable_all();
	ipi(1, 2, 0x4050);
	cr_assert_eq(irr_mask(0x50), 0x4);
	cr_assert_eq(F.notified[2], 1);
	cr_assert_eq(F.notified[0] + F.notified[1] + F.notified[3], 0);
	ipi(1, 7, 0x4051);
	cr_assert_eq(irr_mask(0x51), 0, "no APIC 7");
	ipi(1, 0xff, 0x4052);
	cr_assert_eq(irr_mask(0x52), 0xf, "0xFF is a broadcast, self included");
	cr_assert_eq(F.notified[1], 0, "no notify for our own IPI");
	cr_assert_eq(stats(1).ipis_sent, 3);
}

Test(lapic, logical_flat)
{
	mkbus(4, 0);
	enable_all();
	for (unsigned i = 0; i < 3; i++)
		wr(i, LAPIC_LDR, (1u << i) << 24);	/* cpu 3 keeps LDR 0 */
	ipi(3, 0x05, 0x4860);
	cr_assert_eq(irr_mask(0x60), 0x5);
	ipi(3, 0x08, 0x4861);
	cr_assert_eq(irr_mask(0x61), 0, "nobody has logical ID bit 3");
	ipi(3, 0xff, 0x4862);
	cr_assert_eq(irr_mask(0x62), 0xf, "logical 0xFF is a broadcast");
}

Test(lapic, logical_cluster)
{
	static const uint8_t ldr[4] = { 0x11, 0x12, 0x21, 0x22 };

	mkbus(4, 0);
	enable_all();
	for (unsigned i = 0; i < 4; i++) {
		wr(i, LAPIC_DFR, 0x0fffffffu);
		wr(i, LAPIC_LDR, (uint32_t)ldr[i] << 24);
	}
	ipi(0, 0x12, 0x4870);
	cr_assert_eq(irr_mask(0x70), 0x2);
	ipi(0, 0x13, 0x4871);
	cr_assert_eq(irr_mask(0x71), 0x3);
	ipi(0, 0x23, 0x4872);
	cr_assert_eq(irr_mask(0x72), 0xc);
	ipi(0, 0x32, 0x4873);
	cr_assert_eq(irr_mask(0x73), 0, "no cluster 3");
	ipi(0, 0x03, 0x4874);
	cr_assert_eq(irr_mask(0x74), 0, "cluster 0 is empty");
	/* The same LDRs in the flat model match bit-wise. */
	for (unsigned i = 0; i < 4; i++)
		wr(i, LAPIC_DFR, 0xffffffffu);
	ipi(0, 0x02, 0x4875);
	cr_assert_eq(irr_mask(0x75), 0xa);
}

Test(lapic, shorthands)
{
	mkbus(4, 0);
	enable_all();
	ipi(1, 3, 0x44080);	/* self; the destination field is ignored */
	cr_assert_eq(irr_mask(0x80), 0x2);
	ipi(1, 3, 0x84081);	/* all including self */
	cr_assert_eq(irr_mask(0x81), 0xf);
	ipi(1, 1, 0xc4082);	/* all excluding self */
	cr_assert_eq(irr_mask(0x82), 0xd);
	cr_assert_eq(F.notified[1], 0);
	cr_assert_eq(F.notified[0], 2, "one per post: each IRR read synced");
}

Test(lapic, notify_only_when_on_flips)
{
	mkbus(4, 0);
	enable_all();
	msi(2, 0x40);
	msi(2, 0x41);
	msi(2, 0x40);
	cr_assert_eq(F.notified[2], 1);
	cr_assert_eq(lapic_pending_vector(L(2)), 0x41, "sync clears ON");
	msi(2, 0x42);
	cr_assert_eq(F.notified[2], 2);
	cr_assert(irr_has(2, 0x40) && irr_has(2, 0x41) && irr_has(2, 0x42));
}

Test(lapic, lowest_priority)
{
	static const uint8_t tpr[4] = { 0x20, 0x10, 0x30, 0x10 };

	mkbus(4, 0);
	enable_all();
	for (unsigned i = 0; i < 4; i++) {
		wr(i, LAPIC_LDR, (1u << i) << 24);
		wr(i, LAPIC_TPR, tpr[i]);
	}
	ipi(0, 0x0f, 0x4960);
	cr_assert_eq(irr_mask(0x60), 0x2, "lowest PPR, tie to the lowest ID");
	wr(1, LAPIC_TPR, 0x40);
	ipi(0, 0x0f, 0x4961);
	cr_assert_eq(irr_mask(0x61), 0x8);
	wr(3, LAPIC_SVR, 0xff);		/* software-disabled: not a candidate */
	ipi(0, 0x0f, 0x4962);
	cr_assert_eq(irr_mask(0x62), 0x1, "the sender itself may win");
	ipi(0, 0x0f, 0xc4963);		/* all but self */
	cr_assert_eq(irr_mask(0x63), 0x4);
	/* PPR counts what is in service. */
	wr(2, LAPIC_TPR, 0);
	msi(2, 0xe0);
	lapic_accept(L(2), lapic_pending_vector(L(2)));
	cr_assert_eq(apic_bus_deliver_msi(B, 0xfee0f004u, 0x164), 0);
	cr_assert_eq(irr_mask(0x64), 0x1, "MSI lowest priority");
	/* RH=1 in logical mode redirects a fixed MSI the same way. */
	cr_assert_eq(apic_bus_deliver_msi(B, 0xfee0600cu, 0x65), 0);
	cr_assert_eq(irr_mask(0x65), 0x2, "cpu1 0x40 < cpu2 0xe0");
	cr_assert_eq(apic_bus_deliver_msi(B, 0xfee06004u, 0x66), 0);
	cr_assert_eq(irr_mask(0x66), 0x6, "RH=0: both");
}

Test(lapic, hardware_disabled_apic_receives_nothing)
{
	mkbus(2, 0);
	enable_all();
	cr_assert_eq(lapic_msr_write(L(1), LAPIC_MSR_APIC_BASE, 0xfee00000u), 0);
	msi(1, 0x40);
	msi(1, 0x400);		/* NMI */
	ipi(0, 1, 0x4500);	/* INIT */
	ipi(0, 0xff, 0x4041);
	cr_assert_eq(F.notified[1], 0);
	cr_assert_not(lapic_take_nmi(L(1)));
	cr_assert_eq(lapic_take_start_event(L(1), &(uint8_t){ 0 }), LAPIC_NONE);
	cr_assert_eq(lapic_mmio_read(L(1), LAPIC_ID, 4), 0, "no page");
	cr_assert_eq(lapic_pending_vector(L(1)), -1);
	cr_assert(irr_has(0, 0x41));
}

/* ---------------- errors ---------------- */

Test(lapic, illegal_vectors)
{
	mkbus(2, 0);
	enable_all();
	ipi(0, 1, 0x4005);
	cr_assert_eq(F.notified[1], 0, "not sent");
	cr_assert_eq(rd(1, LAPIC_IRR), 0);
	cr_assert_eq(rd(0, LAPIC_ESR), 0, "visible only after an ESR write");
	cr_assert_eq(esr(0), APIC_ESR_SEND_ILLEGAL);
	cr_assert_eq(esr(0), 0);
	cr_assert_eq(esr(1), 0);
	ipi(0, 1, 0x410f);	/* lowest priority too */
	cr_assert_eq(esr(0), APIC_ESR_SEND_ILLEGAL);

	msi(1, 0x03);		/* a device cannot refuse: the receiver logs */
	cr_assert_eq(F.notified[1], 1);
	cr_assert_eq(lapic_pending_vector(L(1)), -1);
	cr_assert_eq(rd(1, LAPIC_IRR), 0);
	cr_assert_eq(esr(1), APIC_ESR_RECV_ILLEGAL);
	cr_assert_eq(esr(0), 0);
	cr_assert_eq(stats(1).errors, 1);
}

Test(lapic, error_lvt_interrupt)
{
	mkbus(2, 0);
	enable_all();
	wr(1, LAPIC_LVT_ERROR, 0xe0);
	msi(1, 0x02);
	cr_assert_eq(lapic_pending_vector(L(1)), 0xe0);
	wr(0, LAPIC_LVT_ERROR, 0x100e1);	/* masked: logged, no interrupt */
	ipi(0, 1, 0x4001);
	cr_assert_eq(lapic_pending_vector(L(0)), -1);
	cr_assert_eq(esr(0), APIC_ESR_SEND_ILLEGAL);
	/* An illegal vector in the error LVT itself logs, without looping. */
	wr(0, LAPIC_LVT_ERROR, 0x05);
	ipi(0, 1, 0x4001);
	cr_assert_eq(lapic_pending_vector(L(0)), -1);
	cr_assert_eq(esr(0), APIC_ESR_SEND_ILLEGAL | APIC_ESR_RECV_ILLEGAL);
}

/* ---------------- software disable ---------------- */

Test(lapic, svr_software_disable)
{
	mkbus(2, 0);
	wr(1, LAPIC_LVT_LINT0, 0x40);
	cr_assert_eq(rd(1, LAPIC_LVT_LINT0), 0x10040, "mask forced while off");
	msi(1, 0x40);
	cr_assert_eq(F.notified[1], 0, "fixed message discarded");
	msi(1, 0x400);
	cr_assert_eq(F.notified[1], 1, "NMI accepted");
	cr_assert(lapic_take_nmi(L(1)));
	enable(1);
	cr_assert_eq(lapic_pending_vector(L(1)), -1);
	cr_assert_not(irr_has(1, 0x40));
	wr(1, LAPIC_LVT_LINT0, 0x40);
	wr(1, LAPIC_LVT_TIMER, 0x30);
	cr_assert_eq(rd(1, LAPIC_LVT_LINT0), 0x40);

	msi(1, 0x70);
	wr(1, LAPIC_SVR, 0xff);
	cr_assert_eq(rd(1, LAPIC_LVT_LINT0), 0x10040, "disable masks all LVTs");
	cr_assert_eq(rd(1, LAPIC_LVT_TIMER), 0x10030);
	cr_assert_eq(lapic_pending_vector(L(1)), -1, "held, not delivered");
	cr_assert(irr_has(1, 0x70));
	enable(1);
	cr_assert_eq(lapic_pending_vector(L(1)), 0x70);
	cr_assert_eq(rd(1, LAPIC_LVT_LINT0), 0x10040, "stays masked");

	/* A software-disabled APIC still sends. */
	ipi(0, 1, 0x4071);
	cr_assert(irr_has(1, 0x71));
}

/* ---------------- NMI, INIT, SIPI ---------------- */

Test(lapic, nmi_latch)
{
	mkbus(2, 0);
	msi(1, 0x400);
	ipi(0, 1, 0x4400);
	cr_assert_eq(F.notified[1], 1, "second NMI merges into the pending one");
	cr_assert(lapic_has_wake_event(L(1), true));
	cr_assert(lapic_has_wake_event(L(1), false), "an NMI ends HLT even with IF=0");
	cr_assert(lapic_take_nmi(L(1)));
	cr_assert_not(lapic_take_nmi(L(1)));
	cr_assert_not(lapic_has_wake_event(L(1), true));
	cr_assert_eq(stats(1).nmis, 1);
	cr_assert_eq(F.ntrace, 2);
	cr_assert_eq(F.trace[0].src, -1);
	cr_assert_eq(F.trace[1].src, 0);
	cr_assert_eq(F.trace[1].mode, APIC_DM_NMI);
	/* NMI to self (an "invalid" ICR combination, delivered anyway): the
	 * sender's thread is the one that looks, so no notify. */
	ipi(1, 0, 0x44400);
	cr_assert(lapic_take_nmi(L(1)));
	cr_assert_eq(F.notified[1], 1);
	cr_assert_eq(F.notified[0], 0);
}

Test(lapic, init_sipi_state_machine)
{
	uint8_t vec = 0;

	mkbus(2, 0);
	enable_all();
	wr(1, LAPIC_TPR, 0x30);
	wr(1, LAPIC_LDR, 0x02000000);
	msi(1, 0x400);
	msi(1, 0x40);
	ipi(0, 1, 0x4500);				/* INIT */
	cr_assert_eq(lapic_pending_vector(L(1)), -1, "INIT pending");
	cr_assert(lapic_has_wake_event(L(1), true));
	cr_assert_eq(lapic_take_start_event(L(1), &vec), LAPIC_INIT);
	cr_assert_eq(rd(1, LAPIC_TPR), 0, "INIT resets the registers");
	cr_assert_eq(rd(1, LAPIC_SVR), 0xff);
	cr_assert_eq(rd(1, LAPIC_LDR), 0);
	cr_assert_eq(rd(1, LAPIC_ID), 1u << 24, "but not the ID");
	cr_assert_eq(rd(1, LAPIC_IRR + 0x20), 0, "posted vectors dropped");
	cr_assert_not(lapic_take_nmi(L(1)), "INIT drops a pending NMI");
	cr_assert_eq(lapic_take_start_event(L(1), &vec), LAPIC_NONE);

	ipi(0, 1, 0x469a);				/* SIPI */
	cr_assert_eq(lapic_take_start_event(L(1), &vec), LAPIC_SIPI);
	cr_assert_eq(vec, 0x9a);
	ipi(0, 1, 0x469b);				/* second SIPI */
	cr_assert_eq(lapic_take_start_event(L(1), &vec), LAPIC_NONE);

	/* INIT level de-assert does nothing. */
	ipi(0, 1, 0x8500);
	cr_assert_eq(lapic_take_start_event(L(1), &vec), LAPIC_NONE);

	/* A slow AP sees INIT, then the SIPI that followed it. */
	ipi(0, 1, 0x4500);
	ipi(0, 1, 0x4610);
	ipi(0, 1, 0x4611);
	cr_assert_eq(lapic_take_start_event(L(1), &vec), LAPIC_INIT);
	cr_assert_eq(lapic_take_start_event(L(1), &vec), LAPIC_SIPI);
	cr_assert_eq(vec, 0x10);
	cr_assert_eq(lapic_take_start_event(L(1), &vec), LAPIC_NONE);
	cr_assert_eq(stats(1).inits, 2);
	cr_assert_eq(stats(1).sipis, 2);
}

Test(lapic, sipi_after_reset_and_bsp)
{
	uint8_t vec = 0;

	mkbus(3, 0);
	ipi(0, 2, 0x4608);	/* APs wait for SIPI from RESET on */
	cr_assert_eq(F.notified[2], 1);
	cr_assert_eq(lapic_take_start_event(L(2), &vec), LAPIC_SIPI);
	cr_assert_eq(vec, 0x08);
	ipi(1, 0, 0x4608);	/* the BSP ignores SIPIs */
	cr_assert_eq(lapic_take_start_event(L(0), &vec), LAPIC_NONE);
	ipi(1, 0, 0x4500);
	cr_assert_eq(lapic_take_start_event(L(0), &vec), LAPIC_INIT);
	ipi(1, 0, 0x4608);
	cr_assert_eq(lapic_take_start_event(L(0), &vec), LAPIC_NONE,
		     "not even after INIT");
	cr_assert_eq(F.notified[0], 1);
}

Test(lapic, init_in_x2apic_mode_keeps_mode)
{
	uint8_t vec;

	mkbus(2, 0);
	cr_assert_eq(lapic_msr_write(L(1), LAPIC_MSR_APIC_BASE, 0xfee00c00u), 0);
	cr_assert_eq(lapic_msr_write(L(1), 0x808, 0x20), 0);
	ipi(0, 1, 0x4500);
	cr_assert_eq(lapic_take_start_event(L(1), &vec), LAPIC_INIT);
	cr_assert(lapic_x2apic_mode(L(1)));
	cr_assert_eq(msr(1, 0x808), 0);
	cr_assert_eq(msr(1, 0x80d), 2, "LDR derived again");
}

/* ---------------- timer ---------------- */

Test(lapic, timer_one_shot)
{
	mkbus(1, 0);
	enable(0);
	wr(0, LAPIC_LVT_TIMER, 0x30);
	wr(0, LAPIC_TDCR, 0xb);			/* divide by 1 */
	wr(0, LAPIC_TMICT, 1000);
	cr_assert_eq(F.armed[0], 2000);
	cr_assert_eq(rd(0, LAPIC_TMCCT), 1000);
	F.now = 1400;
	cr_assert_eq(rd(0, LAPIC_TMCCT), 600);
	lapic_timer_fire(L(0));			/* early: nothing */
	cr_assert_eq(lapic_pending_vector(L(0)), -1);
	cr_assert_eq(stats(0).timer_fires, 0);
	F.now = 2000;
	cr_assert_eq(rd(0, LAPIC_TMCCT), 0);
	lapic_timer_fire(L(0));
	cr_assert_eq(lapic_pending_vector(L(0)), 0x30);
	cr_assert_eq(F.armed[0], 0, "one-shot disarms");
	lapic_timer_fire(L(0));
	F.now = 9000;
	lapic_timer_fire(L(0));
	cr_assert_eq(stats(0).timer_fires, 1);
	cr_assert_eq(rd(0, LAPIC_TMCCT), 0);
	cr_assert_eq(rd(0, LAPIC_TMICT), 1000);
}

Test(lapic, timer_fires_from_pending_vector)
{
	mkbus(1, 0);
	enable(0);
	wr(0, LAPIC_LVT_TIMER, 0x30);
	wr(0, LAPIC_TDCR, 0xb);
	wr(0, LAPIC_TMICT, 10);
	F.now = 1010;
	cr_assert(lapic_has_wake_event(L(0), true), "a kick is enough");
	cr_assert_eq(lapic_pending_vector(L(0)), 0x30);
}

Test(lapic, timer_periodic_with_divider)
{
	mkbus(1, 0);
	enable(0);
	wr(0, LAPIC_TDCR, 0x1);			/* divide by 4 */
	wr(0, LAPIC_LVT_TIMER, 0x20031);	/* periodic */
	wr(0, LAPIC_TMICT, 100);		/* 400 ns per period */
	cr_assert_eq(F.armed[0], 1400);
	F.now = 1200;
	cr_assert_eq(rd(0, LAPIC_TMCCT), 50);
	F.now = 1203;
	cr_assert_eq(rd(0, LAPIC_TMCCT), 50, "whole ticks only");
	F.now = 1400;
	lapic_timer_fire(L(0));
	cr_assert_eq(F.armed[0], 1800);
	cr_assert_eq(rd(0, LAPIC_TMCCT), 100);
	F.now = 1500;
	cr_assert_eq(rd(0, LAPIC_TMCCT), 75);
	cr_assert_eq(lapic_pending_vector(L(0)), 0x31);
	lapic_accept(L(0), 0x31);
	wr(0, LAPIC_EOI, 0);
	/* Asleep for more than two periods: one interrupt, phase kept. */
	F.now = 2950;
	cr_assert_eq(rd(0, LAPIC_TMCCT), 13);
	lapic_timer_fire(L(0));
	cr_assert_eq(F.armed[0], 3000);
	cr_assert_eq(rd(0, LAPIC_TMCCT), 13);
	cr_assert_eq(stats(0).timer_fires, 2);
	cr_assert_eq(lapic_pending_vector(L(0)), 0x31);
}

Test(lapic, timer_divide_encodings)
{
	static const uint32_t tdcr[8] = { 0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xa, 0xb };
	static const unsigned div[8] = { 2, 4, 8, 16, 32, 64, 128, 1 };

	mkbus(1, 0);
	enable(0);
	wr(0, LAPIC_LVT_TIMER, 0x30);
	for (unsigned i = 0; i < 8; i++) {
		wr(0, LAPIC_TDCR, tdcr[i]);
		wr(0, LAPIC_TMICT, 10);
		cr_assert_eq(F.armed[0], 1000 + 10 * div[i], "TDCR %#x", tdcr[i]);
		wr(0, LAPIC_TMICT, 0);
		cr_assert_eq(F.armed[0], 0, "0 stops the timer");
	}
	cr_assert_eq(rd(0, LAPIC_TDCR), 0xb);
}

Test(lapic, timer_masked_still_counts)
{
	mkbus(1, 0);
	enable(0);
	wr(0, LAPIC_TDCR, 0xb);
	wr(0, LAPIC_LVT_TIMER, 0x30032);	/* periodic, masked */
	wr(0, LAPIC_TMICT, 100);
	F.now = 1100;
	lapic_timer_fire(L(0));
	cr_assert_eq(stats(0).timer_fires, 1);
	cr_assert_eq(F.armed[0], 1200, "keeps reloading");
	cr_assert_eq(lapic_pending_vector(L(0)), -1);
	cr_assert_eq(rd(0, LAPIC_IRR + 0x10), 0);
	F.now = 1150;
	cr_assert_eq(rd(0, LAPIC_TMCCT), 50);
}

Test(lapic, timer_mode_change_disarms)
{
	mkbus(1, 0);
	enable(0);
	wr(0, LAPIC_TDCR, 0xb);
	wr(0, LAPIC_LVT_TIMER, 0x20030);
	wr(0, LAPIC_TMICT, 100);
	cr_assert_eq(F.armed[0], 1100);
	wr(0, LAPIC_LVT_TIMER, 0x20031);	/* same mode: keeps running */
	cr_assert_eq(F.armed[0], 1100);
	wr(0, LAPIC_LVT_TIMER, 0x00030);	/* periodic -> one-shot */
	cr_assert_eq(F.armed[0], 0);
	cr_assert_eq(rd(0, LAPIC_TMCCT), 0);
	cr_assert_eq(rd(0, LAPIC_TMICT), 100);
	F.now = 5000;
	cr_assert_eq(lapic_pending_vector(L(0)), -1);
}

Test(lapic, timer_divide_change_keeps_count)
{
	mkbus(1, 0);
	enable(0);
	wr(0, LAPIC_TDCR, 0xb);
	wr(0, LAPIC_LVT_TIMER, 0x30);
	wr(0, LAPIC_TMICT, 1000);
	F.now = 1400;
	wr(0, LAPIC_TDCR, 0x0);			/* now divide by 2 */
	cr_assert_eq(rd(0, LAPIC_TMCCT), 600);
	cr_assert_eq(F.armed[0], 2600);
	F.now = 2000;
	cr_assert_eq(rd(0, LAPIC_TMCCT), 300);
}

/* Software disable (SVR bit 8 clear, SDM 11.4.7.2) masks the timer's LVT
 * entry, which cannot be unmasked until the APIC is enabled again, so the
 * count runs out without an interrupt; INIT stops the timer itself. */
Test(lapic, timer_disabled_by_software_disable_and_init)
{
	uint8_t vec;

	mkbus(2, 0);
	enable(0);
	wr(0, LAPIC_TDCR, 0xb);
	wr(0, LAPIC_LVT_TIMER, 0x30);
	wr(0, LAPIC_TMICT, 100);
	wr(0, LAPIC_SVR, 0xff);
	cr_assert_eq(rd(0, LAPIC_LVT_TIMER), 0x10030, "masked by the software disable");
	wr(0, LAPIC_LVT_TIMER, 0x30);
	cr_assert_eq(rd(0, LAPIC_LVT_TIMER), 0x10030, "unmasked while software-disabled");
	F.now = 1100;
	cr_assert_eq(lapic_pending_vector(L(0)), -1, "a timer interrupt while disabled");
	enable(0);
	cr_assert_eq(rd(0, LAPIC_LVT_TIMER), 0x10030, "enabling unmasks nothing");
	cr_assert_eq(lapic_pending_vector(L(0)), -1);

	enable(1);
	wr(1, LAPIC_LVT_TIMER, 0x30);
	wr(1, LAPIC_TMICT, 100);
	cr_assert_neq(F.armed[1], 0);
	ipi(0, 1, 0x4500);
	cr_assert_eq(lapic_take_start_event(L(1), &vec), LAPIC_INIT);
	cr_assert_eq(F.armed[1], 0, "INIT stops the timer");
	cr_assert_eq(rd(1, LAPIC_TMICT), 0);
}

Test(lapic, tsc_deadline)
{
	mkbus(1, 2000000);			/* 2 GHz: TSC = 2 * ns */
	enable(0);
	wr(0, LAPIC_LVT_TIMER, 0x40033);
	cr_assert_eq(rd(0, LAPIC_LVT_TIMER), 0x40033);
	wr(0, LAPIC_TMICT, 500);
	cr_assert_eq(rd(0, LAPIC_TMICT), 0, "ignored in TSC-deadline mode");
	cr_assert_eq(F.armed[0], 0);
	cr_assert_eq(msr(0, LAPIC_MSR_TSC_DEADLINE), 0);
	cr_assert_eq(lapic_msr_write(L(0), LAPIC_MSR_TSC_DEADLINE, 4001), 0);
	cr_assert_eq(F.armed[0], 2001, "rounded up: the TSC must have passed");
	cr_assert_eq(msr(0, LAPIC_MSR_TSC_DEADLINE), 4001);
	cr_assert_eq(rd(0, LAPIC_TMCCT), 0);
	F.now = 2000;
	cr_assert_eq(lapic_pending_vector(L(0)), -1);
	F.now = 2001;
	cr_assert_eq(lapic_pending_vector(L(0)), 0x33);
	cr_assert_eq(msr(0, LAPIC_MSR_TSC_DEADLINE), 0, "cleared when it fires");
	cr_assert_eq(F.armed[0], 0);
	lapic_accept(L(0), 0x33);
	wr(0, LAPIC_EOI, 0);

	cr_assert_eq(lapic_msr_write(L(0), LAPIC_MSR_TSC_DEADLINE, 100), 0);
	cr_assert_eq(lapic_pending_vector(L(0)), 0x33, "past deadline fires now");
	cr_assert_eq(F.armed[0], 0);

	cr_assert_eq(lapic_msr_write(L(0), LAPIC_MSR_TSC_DEADLINE, 100000), 0);
	cr_assert_eq(F.armed[0], 2001 + (100000 - 4002) / 2);
	cr_assert_eq(lapic_msr_write(L(0), LAPIC_MSR_TSC_DEADLINE, 0), 0);
	cr_assert_eq(F.armed[0], 0, "0 disarms");
	cr_assert_eq(msr(0, LAPIC_MSR_TSC_DEADLINE), 0);

	cr_assert_eq(lapic_msr_write(L(0), LAPIC_MSR_TSC_DEADLINE, 100000), 0);
	wr(0, LAPIC_LVT_TIMER, 0x33);		/* to one-shot: disarms */
	cr_assert_eq(F.armed[0], 0);
	cr_assert_eq(msr(0, LAPIC_MSR_TSC_DEADLINE), 0);
	cr_assert_eq(lapic_msr_write(L(0), LAPIC_MSR_TSC_DEADLINE, 100000), 0);
	cr_assert_eq(F.armed[0], 0, "ignored outside TSC-deadline mode");
	wr(0, LAPIC_LVT_TIMER, 0x40033);
	cr_assert_eq(msr(0, LAPIC_MSR_TSC_DEADLINE), 0, "the ignored write left nothing");
}

Test(lapic, tsc_deadline_with_guest_tsc_op)
{
	mkbus_ops(1, 1000000, &ops_tsc);	/* 1 GHz */
	enable(0);
	F.tsc = 5000;
	wr(0, LAPIC_LVT_TIMER, 0x40034);
	cr_assert_eq(lapic_msr_write(L(0), LAPIC_MSR_TSC_DEADLINE, 5500), 0);
	cr_assert_eq(F.armed[0], 1500);
}

Test(lapic, tsc_deadline_absent_without_tsc_khz)
{
	uint64_t v;

	mkbus(1, 0);
	cr_assert_eq(lapic_msr_read(L(0), LAPIC_MSR_TSC_DEADLINE, &v), -1);
	cr_assert_eq(lapic_msr_write(L(0), LAPIC_MSR_TSC_DEADLINE, 1), -1);
}

/* ---------------- x2APIC ---------------- */

static int wrmsr(unsigned cpu, uint32_t idx, uint64_t val)
{
	return lapic_msr_write(L(cpu), idx, val);
}

static void x2_all(void)
{
	for (unsigned i = 0; i < apic_bus_ncpus(B); i++) {
		uint64_t base = lapic_base(L(i)) | APIC_BASE_EXTD;

		cr_assert_eq(wrmsr(i, LAPIC_MSR_APIC_BASE, base), 0);
		cr_assert_eq(wrmsr(i, 0x80f, 0x1ff), 0);
	}
}

Test(lapic, x2apic_msrs_need_x2apic_mode)
{
	uint64_t v;

	mkbus(2, 0);
	cr_assert_eq(lapic_msr_read(L(0), 0x802, &v), -1);
	cr_assert_eq(wrmsr(0, 0x808, 0), -1);
	cr_assert_eq(lapic_msr_read(L(0), 0x1234, &v), -1, "not ours");
	cr_assert_eq(wrmsr(0, LAPIC_MSR_APIC_BASE, 0xfee00d00u), 0);
	cr_assert_eq(lapic_base(L(0)), 0xfee00d00u);
	cr_assert_eq(msr(0, LAPIC_MSR_APIC_BASE), 0xfee00d00u);
	cr_assert_eq(msr(0, 0x802), 0);
	cr_assert_eq(msr(0, 0x803), 0x00050014);
	/* The MMIO page is gone. */
	cr_assert_eq(rd(0, LAPIC_VER), 0);
	wr(0, LAPIC_TPR, 0x20);
	cr_assert_eq(msr(0, 0x808), 0);
	cr_assert_eq(stats(0).ignored_writes, 1);
}

Test(lapic, x2apic_registers)
{
	uint64_t v;
	static const uint32_t no_read[] = {
		0x809, 0x80b, 0x80c, 0x80e, 0x82f, 0x831, 0x83f, 0x840, 0x8ff,
	};
	static const uint32_t no_write[] = {
		0x802, 0x803, 0x809, 0x80a, 0x80d, 0x80e, 0x810, 0x818, 0x827,
		0x82f, 0x831, 0x839, 0x840,
	};

	mkbus(20, 1000000);
	x2_all();
	cr_assert_eq(msr(17, 0x802), 17, "x2APIC ID = index");
	cr_assert_eq(msr(17, 0x80d), 0x10002, "cluster 1, member bit 1");
	cr_assert_eq(msr(3, 0x80d), 0x8);
	for (unsigned i = 0; i < sizeof(no_read) / sizeof(no_read[0]); i++)
		cr_assert_eq(lapic_msr_read(L(0), no_read[i], &v), -1,
			     "rdmsr %#x", no_read[i]);
	for (unsigned i = 0; i < sizeof(no_write) / sizeof(no_write[0]); i++)
		cr_assert_eq(wrmsr(0, no_write[i], 0), -1, "wrmsr %#x", no_write[i]);
	/* Reserved bits are #GP, not ignored. */
	cr_assert_eq(wrmsr(0, 0x80b, 1), -1, "EOI takes only 0");
	cr_assert_eq(wrmsr(0, 0x828, 1), -1, "ESR takes only 0");
	cr_assert_eq(wrmsr(0, 0x808, 0x100), -1);
	cr_assert_eq(wrmsr(0, 0x808, 1ull << 32), -1);
	cr_assert_eq(wrmsr(0, 0x80f, 0x1000), -1);
	cr_assert_eq(wrmsr(0, 0x832, 0x60030), -1, "timer mode 11b");
	cr_assert_eq(wrmsr(0, 0x832, 0x1040030), -1);
	cr_assert_eq(wrmsr(0, 0x83e, 0x4), -1);
	cr_assert_eq(wrmsr(0, 0x83f, 0x140), -1);
	cr_assert_eq(wrmsr(0, 0x830, 0x1000 | 0x40), -1, "no busy bit");
	cr_assert_eq(wrmsr(0, 0x830, 0x20000 | 0x40), -1);
	cr_assert_eq(msr(0, 0x808), 0);

	cr_assert_eq(wrmsr(0, 0x808, 0x20), 0);
	cr_assert_eq(msr(0, 0x808), 0x20);
	cr_assert_eq(msr(0, 0x80a), 0x20);
	cr_assert_eq(wrmsr(0, 0x80b, 0), 0);
	cr_assert_eq(wrmsr(0, 0x828, 0), 0);
	cr_assert_eq(wrmsr(0, 0x835, 0x1000 | 0x4000 | 0x700), 0,
		     "read-only bits may be written");
	cr_assert_eq(msr(0, 0x835), 0x700);
	cr_assert_eq(wrmsr(0, 0x832, 0x40030), 0);
	cr_assert_eq(msr(0, 0x832), 0x40030);
	cr_assert_eq(wrmsr(0, 0x83e, 0xb), 0);
	cr_assert_eq(msr(0, 0x83e), 0xb);
}

static unsigned x2_irr_mask(unsigned v)
{
	unsigned m = 0;

	for (unsigned i = 0; i < apic_bus_ncpus(B); i++)
		if (msr(i, 0x820 + v / 32) & (1u << (v % 32)))
			m |= 1u << i;
	return m;
}

Test(lapic, x2apic_ipis)
{
	mkbus(20, 0);
	x2_all();
	cr_assert_eq(wrmsr(0, 0x830, 17ull << 32 | 0x4051), 0);
	cr_assert_eq(x2_irr_mask(0x51), 1u << 17);
	cr_assert_eq(msr(0, 0x830), 17ull << 32 | 0x4051, "64-bit ICR");
	cr_assert_eq(wrmsr(0, 0x830, (1ull << 16 | 0x3) << 32 | 0x4852), 0);
	cr_assert_eq(x2_irr_mask(0x52), 3u << 16, "logical cluster 1, 0-1");
	cr_assert_eq(wrmsr(0, 0x830, (0x5ull) << 32 | 0x4853), 0);
	cr_assert_eq(x2_irr_mask(0x53), 0x5, "cluster 0, members 0 and 2");
	cr_assert_eq(wrmsr(0, 0x830, 0xffffffffull << 32 | 0x4054), 0);
	cr_assert_eq(x2_irr_mask(0x54), (1u << 20) - 1, "x2APIC broadcast");
	cr_assert_eq(wrmsr(0, 0x830, 0xffull << 32 | 0x4055), 0);
	cr_assert_eq(x2_irr_mask(0x55), 0, "0xFF is just an ID in x2APIC");
	cr_assert_eq(wrmsr(5, 0x83f, 0x56), 0, "SELF IPI");
	cr_assert_eq(x2_irr_mask(0x56), 1u << 5);
	cr_assert_eq(F.notified[5], 1, "from the broadcast, not the self IPI");
	cr_assert_eq(wrmsr(5, 0x830, 2ull << 32 | 0x4007), 0, "legal write");
	cr_assert_eq(wrmsr(5, 0x828, 0), 0);
	cr_assert_eq(msr(5, 0x828), APIC_ESR_SEND_ILLEGAL);
	/* An 8-bit MSI still reaches x2APIC CPUs. */
	cr_assert_eq(apic_bus_deliver_msi(B, 0xfee03000u, 0x57), 0);
	cr_assert_eq(x2_irr_mask(0x57), 1u << 3);
}

Test(lapic, x2apic_transitions)
{
	uint64_t v;

	mkbus(2, 0);
	enable(1);
	wr(1, LAPIC_TPR, 0x30);
	cr_assert_eq(wrmsr(1, LAPIC_MSR_APIC_BASE, 0xfee00400u), -1, "EN=0 EXTD=1");
	cr_assert_eq(wrmsr(1, LAPIC_MSR_APIC_BASE, 0xfed00800u), -1, "relocation");
	cr_assert_eq(wrmsr(1, LAPIC_MSR_APIC_BASE, 0xfee00a00u), -1, "bit 9");
	cr_assert_eq(wrmsr(1, LAPIC_MSR_APIC_BASE, 0xfee00801u), -1, "bit 0");
	cr_assert_eq(wrmsr(1, LAPIC_MSR_APIC_BASE, 1ull << 52 | 0xfee00800u), -1);
	cr_assert_eq(wrmsr(1, LAPIC_MSR_APIC_BASE, 0xfee00900u), 0,
		     "BSP flag is read-only, not #GP");
	cr_assert_eq(lapic_base(L(1)), 0xfee00800u);

	cr_assert_eq(wrmsr(1, LAPIC_MSR_APIC_BASE, 0xfee00c00u), 0);
	cr_assert_eq(msr(1, 0x808), 0x30, "xAPIC state carries over");
	cr_assert_eq(msr(1, 0x80f), 0x1ff);
	cr_assert_eq(wrmsr(1, LAPIC_MSR_APIC_BASE, 0xfee00800u), -1, "x2APIC->xAPIC");
	cr_assert_eq(wrmsr(1, LAPIC_MSR_APIC_BASE, 0xfee00000u), 0, "x2APIC->off");
	cr_assert_eq(lapic_base(L(1)), 0xfee00000u);
	cr_assert_eq(lapic_msr_read(L(1), 0x808, &v), -1);
	cr_assert_eq(wrmsr(1, LAPIC_MSR_APIC_BASE, 0xfee00c00u), -1, "off->x2APIC");
	cr_assert_eq(wrmsr(1, LAPIC_MSR_APIC_BASE, 0xfee00800u), 0, "off->xAPIC");
	cr_assert_eq(rd(1, LAPIC_TPR), 0, "state lost while disabled");
	cr_assert_eq(rd(1, LAPIC_SVR), 0xff);
	cr_assert_eq(rd(1, LAPIC_ID), 1u << 24);
	cr_assert_eq(wrmsr(1, LAPIC_MSR_APIC_BASE, 0xfee00000u), 0, "xAPIC->off");
	cr_assert_eq(wrmsr(1, LAPIC_MSR_APIC_BASE, 0xfee00000u), 0, "off->off");
}

/* ---------------- MSI ---------------- */

Test(lapic, msi_decode)
{
	mkbus(4, 0);
	enable_all();
	wr(2, LAPIC_LDR, 0x04000000);
	cr_assert_eq(apic_bus_deliver_msi(B, 0xfee02000u, 0x41), 0);
	cr_assert_eq(irr_mask(0x41), 0x4);
	cr_assert_eq(F.ntrace, 1);
	cr_assert_eq(F.trace[0].src, -1);
	cr_assert_eq(F.trace[0].dst, 2);
	cr_assert_eq(F.trace[0].mode, APIC_DM_FIXED);
	cr_assert_eq(F.trace[0].vec, 0x41);
	cr_assert_eq(apic_bus_deliver_msi(B, 0xfee04004u, 0x42), 0, "logical");
	cr_assert_eq(irr_mask(0x42), 0x4);
	cr_assert_eq(apic_bus_deliver_msi(B, 0xfee0f000u, 0x43), 0);
	cr_assert_eq(irr_mask(0x43), 0, "no APIC 0x0f");
	cr_assert_eq(apic_bus_deliver_msi(B, 0xfeeff000u, 0x44), 0);
	cr_assert_eq(irr_mask(0x44), 0xf, "broadcast");

	cr_assert_eq(apic_bus_deliver_msi(B, 0xfed00000u, 0x45), -1);
	cr_assert_eq(apic_bus_deliver_msi(B, 0x1fee00000ull, 0x45), -1);
	cr_assert_eq(apic_bus_deliver_msi(B, 0xfee00000u, 0x645), -1, "SIPI");
	cr_assert_eq(apic_bus_deliver_msi(B, 0xfee00000u, 0x345), -1);
	cr_assert_eq(apic_bus_deliver_msi(B, 0xfee00000u, 0x245), 0, "SMI");
	cr_assert_eq(apic_bus_deliver_msi(B, 0xfee00000u, 0x745), 0, "ExtINT");
	cr_assert_eq(irr_mask(0x45), 0, "none delivered");
	cr_assert_not(lapic_take_nmi(L(0)));
}

Test(lapic, level_triggered_msi_sets_tmr)
{
	mkbus(2, 0);
	enable_all();
	msi(1, 0xc043);
	msi(1, 0x0044);
	cr_assert(tmr_has(1, 0x43));
	cr_assert_not(tmr_has(1, 0x44));
	lapic_accept(L(1), lapic_pending_vector(L(1)));	/* 0x44 */
	wr(1, LAPIC_EOI, 0);
	cr_assert_eq(F.eoi_calls, 0, "edge: no EOI message");
	lapic_accept(L(1), lapic_pending_vector(L(1)));	/* 0x43 */
	wr(1, LAPIC_EOI, 0);
	cr_assert_eq(F.eoi_calls, 1);
	cr_assert_eq(F.eoi_cpu, 1);
	cr_assert_eq(F.eoi_vec, 0x43);
	/* IPIs are edge even with the trigger bit set. */
	ipi(0, 1, 0xc045);
	cr_assert(irr_has(1, 0x45));
	cr_assert_not(tmr_has(1, 0x45));
}

/* ---------------- the vCPU loop's view ---------------- */

Test(lapic, wake_events)
{
	uint8_t vec;

	mkbus(2, 0);
	enable_all();
	cr_assert_not(lapic_has_wake_event(L(1), true));
	wr(1, LAPIC_TPR, 0x80);
	msi(1, 0x70);
	cr_assert_not(lapic_has_wake_event(L(1), true), "masked by TPR");
	wr(1, LAPIC_TPR, 0);
	cr_assert(lapic_has_wake_event(L(1), true));
	cr_assert_not(lapic_has_wake_event(L(1), false), "IF=0: a vector does not end HLT");
	lapic_accept(L(1), lapic_pending_vector(L(1)));
	cr_assert_not(lapic_has_wake_event(L(1), true));
	ipi(0, 1, 0x4500);
	cr_assert(lapic_has_wake_event(L(1), true));
	cr_assert_eq(lapic_take_start_event(L(1), &vec), LAPIC_INIT);
	cr_assert_not(lapic_has_wake_event(L(1), true));
	ipi(0, 1, 0x4601);
	cr_assert(lapic_has_wake_event(L(1), true), "SIPI");
}

Test(lapic, stats_count_deliveries)
{
	mkbus(1, 0);
	enable(0);
	for (unsigned i = 0; i < 3; i++) {
		msi(0, 0x99);
		lapic_accept(L(0), lapic_pending_vector(L(0)));
		wr(0, LAPIC_EOI, 0);
	}
	cr_assert_eq(stats(0).delivered[0x99], 3);
	cr_assert_eq(stats(0).delivered[0x98], 0);
}

Test(lapic, bus_arguments)
{
	static const struct apic_host_ops partial = { .notify = f_notify };

	cr_assert_null(apic_bus_new(0, 0, &ops, NULL));
	cr_assert_null(apic_bus_new(256, 0, &ops, NULL));
	cr_assert_null(apic_bus_new(1, 0, &partial, NULL));
	mkbus(255, 0);
	cr_assert_eq(apic_bus_ncpus(B), 255);
	cr_assert_eq(rd(254, LAPIC_ID), 254u << 24);
	cr_assert_null(apic_bus_cpu(B, 255));
	cr_assert_eq(lapic_cpu(L(254)), 254);
}

/* ---- LINT0 / LINT1 (SDM 11.5.1) ---- */

Test(lapic, lint0_extint_needs_an_unmasked_extint_entry)
{
	mkbus(2, 0);
	lapic_set_lint(L(0), 0, true);
	cr_assert_eq(F.notified[0], 1, "the owner hears of the new level");
	cr_assert_not(lapic_extint_pending(L(0)), "masked after RESET");
	enable(0);
	wr(0, LAPIC_LVT_LINT0, APIC_DM_EXTINT << 8);
	cr_assert(lapic_extint_pending(L(0)));
	cr_assert_eq(lapic_pending_vector(L(0)), -1, "ExtINT is no IRR vector");
	cr_assert(lapic_has_wake_event(L(0), true), "ends a hlt with IF=1");
	cr_assert_not(lapic_has_wake_event(L(0), false));
	wr(0, LAPIC_LVT_LINT0, APIC_LVT_MASKED | APIC_DM_EXTINT << 8);
	cr_assert_not(lapic_extint_pending(L(0)));
	wr(0, LAPIC_LVT_LINT0, APIC_DM_EXTINT << 8);
	lapic_set_lint(L(0), 0, false);
	cr_assert_not(lapic_extint_pending(L(0)), "the 8259 dropped its output");
	cr_assert_eq(F.notified[0], 1, "a falling line wakes no one");
	lapic_set_lint(L(0), 0, true);
	lapic_set_lint(L(0), 0, true);
	cr_assert_eq(F.notified[0], 2, "one rise, one notification");
}

Test(lapic, software_disable_masks_lint0)
{
	mkbus(1, 0);
	lapic_set_virtual_wire(L(0));
	lapic_set_lint(L(0), 0, true);
	cr_assert(lapic_extint_pending(L(0)));
	wr(0, LAPIC_SVR, 0xff);
	cr_assert_not(lapic_extint_pending(L(0)));
	cr_assert(rd(0, LAPIC_LVT_LINT0) & APIC_LVT_MASKED);
}

Test(lapic, hardware_disabled_apic_passes_intr_and_nmi_through)
{
	mkbus(1, 0);
	cr_assert_eq(lapic_msr_write(L(0), LAPIC_MSR_APIC_BASE, APIC_DEFAULT_BASE | 0x100), 0,
		     "EN clear, BSP");
	lapic_set_lint(L(0), 0, true);
	cr_assert(lapic_extint_pending(L(0)), "LINT0 is INTR");
	lapic_set_lint(L(0), 1, true);
	lapic_pending_vector(L(0));
	cr_assert(lapic_take_nmi(L(0)), "LINT1 is NMI");
	cr_assert_not(lapic_take_nmi(L(0)));
}

Test(lapic, virtual_wire_is_what_firmware_leaves)
{
	mkbus(1, 0);
	lapic_set_virtual_wire(L(0));
	cr_assert(rd(0, LAPIC_SVR) & APIC_SVR_ENABLE);
	cr_assert_eq(rd(0, LAPIC_LVT_LINT0), APIC_DM_EXTINT << 8);
	cr_assert_eq(rd(0, LAPIC_LVT_LINT1), APIC_DM_NMI << 8);
}

Test(lapic, lint1_nmi_on_each_rising_edge)
{
	mkbus(1, 0);
	lapic_set_virtual_wire(L(0));
	lapic_set_lint(L(0), 1, true);
	lapic_pending_vector(L(0));
	cr_assert(lapic_take_nmi(L(0)));
	lapic_pending_vector(L(0));
	cr_assert_not(lapic_take_nmi(L(0)), "a held level is one edge");
	lapic_set_lint(L(0), 1, false);
	lapic_set_lint(L(0), 1, true);
	cr_assert(lapic_has_wake_event(L(0), false), "an NMI ends any hlt");
	cr_assert(lapic_take_nmi(L(0)));
}

Test(lapic, lint0_fixed_edge)
{
	mkbus(1, 0);
	enable(0);
	wr(0, LAPIC_LVT_LINT0, 0x41);
	lapic_set_lint(L(0), 0, true);
	cr_assert_eq(lapic_pending_vector(L(0)), 0x41);
	lapic_accept(L(0), 0x41);
	wr(0, LAPIC_EOI, 0);
	cr_assert_eq(lapic_pending_vector(L(0)), -1, "edge: once per rise");
	cr_assert_not(tmr_has(0, 0x41));
	lapic_set_lint(L(0), 0, false);
	lapic_set_lint(L(0), 0, true);
	cr_assert_eq(lapic_pending_vector(L(0)), 0x41);
}

Test(lapic, lint0_fixed_level_waits_for_the_eoi)
{
	mkbus(1, 0);
	enable(0);
	wr(0, LAPIC_LVT_LINT0, APIC_LVT_LEVEL | 0x52);
	lapic_set_lint(L(0), 0, true);
	cr_assert_eq(lapic_pending_vector(L(0)), 0x52);
	cr_assert(tmr_has(0, 0x52));
	lapic_accept(L(0), 0x52);
	cr_assert_eq(lapic_pending_vector(L(0)), -1, "remote IRR holds it");
	wr(0, LAPIC_EOI, 0);
	cr_assert_eq(lapic_pending_vector(L(0)), 0x52, "still high after the EOI");
	lapic_accept(L(0), 0x52);
	lapic_set_lint(L(0), 0, false);
	wr(0, LAPIC_EOI, 0);
	cr_assert_eq(lapic_pending_vector(L(0)), -1, "low: nothing more");
	cr_assert_eq(rd(0, LAPIC_LVT_LINT0) & (1u << 14), 0, "remote IRR reads 0");
}

Test(lapic, lint_illegal_vector_is_an_error)
{
	mkbus(1, 0);
	enable(0);
	wr(0, LAPIC_LVT_LINT0, 0x05);
	lapic_set_lint(L(0), 0, true);
	cr_assert_eq(lapic_pending_vector(L(0)), -1);
	wr(0, LAPIC_ESR, 0);
	cr_assert(rd(0, LAPIC_ESR) & APIC_ESR_RECV_ILLEGAL);
}

Test(lapic, init_hides_extint_until_it_is_taken)
{
	mkbus(2, 0);
	lapic_set_virtual_wire(L(0));
	lapic_set_lint(L(0), 0, true);
	enable(1);
	ipi(1, 0, 5u << 8 | APIC_ICR_ASSERT);	/* INIT to cpu 0 */
	cr_assert_not(lapic_extint_pending(L(0)));
}
