/* The I/O APIC driven as a guest drives it (MMIO at 0xFEC00000 through a
 * "system" address space), its pins as devices drive them, and its
 * messages checked where they land: a real apic_bus whose LAPICs the test
 * reads (IRR, TMR, NMI) and EOIs, with the board's wiring of eoi_level to
 * ioapic_eoi. No /dev/kvm. The last test runs device and vCPU threads. */
#define _GNU_SOURCE	/* open_memstream */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/device.h"
#include "devices/error.h"
#include "devices/intc/ioapic.h"
#include "devices/intc/lapic.h"
#include "memory/address_space.h"
#include "memory/region.h"

#define NCPUS		4
#define BASE		IOAPIC_DEFAULT_BASE
#define MASKED		IOAPIC_RTE_MASKED
#define LEVEL		IOAPIC_RTE_LEVEL
#define LOGICAL		IOAPIC_RTE_LOGICAL
#define REMOTE_IRR	IOAPIC_RTE_REMOTE_IRR

/* The fake host: notify wakes a (stress test) vCPU thread; trace_ipi
 * counts messages per target; eoi_level is wired as the board wires it. */
static struct {
	struct device *io;
	pthread_mutex_t lock[NCPUS];
	pthread_cond_t cond[NCPUS];
	bool kicked[NCPUS];
	atomic_uint msgs[NCPUS];
	atomic_uint eoi_levels;
} F;

static void f_notify(void *o, unsigned cpu)
{
	(void)o;
	pthread_mutex_lock(&F.lock[cpu]);
	F.kicked[cpu] = true;
	pthread_cond_signal(&F.cond[cpu]);
	pthread_mutex_unlock(&F.lock[cpu]);
}

static uint64_t f_now(void *o) { (void)o; return 1000; }
static void f_arm(void *o, unsigned cpu, uint64_t d) { (void)o; (void)cpu; (void)d; }

static void f_eoi(void *o, unsigned cpu, unsigned vector)
{
	(void)o; (void)cpu;
	atomic_fetch_add(&F.eoi_levels, 1);
	ioapic_eoi(F.io, vector);
}

static void f_trace(void *o, int src, unsigned dst, unsigned mode, unsigned vec)
{
	(void)o; (void)mode; (void)vec;
	cr_assert_eq(src, APIC_SRC_IOAPIC, "the I/O APIC sends as a device");
	atomic_fetch_add(&F.msgs[dst], 1);
}

static const struct apic_host_ops ops = {
	.notify = f_notify, .now_ns = f_now, .timer_arm = f_arm,
	.eoi_level = f_eoi, .trace_ipi = f_trace,
};

static struct apic_bus *bus;
static struct memory_region sysmem;
static struct address_space *as;
static struct object *root;
static struct device_env env;
static struct device *io;

static void setup(void)
{
	struct error e = { "" };

	memset(&F, 0, sizeof(F));
	for (unsigned i = 0; i < NCPUS; i++) {
		pthread_mutex_init(&F.lock[i], NULL);
		pthread_cond_init(&F.cond[i], NULL);
	}
	bus = apic_bus_new(NCPUS, 0, &ops, NULL);
	cr_assert_not_null(bus);
	memory_region_init_container(&sysmem, "system", UINT64_MAX);
	as = address_space_new("system", &sysmem);
	root = object_new(TYPE_CONTAINER);
	env = (struct device_env){ .system_memory = &sysmem, .apic_bus = bus };
	io = (struct device *)object_new(TYPE_IOAPIC);
	cr_assert_not_null(io);
	cr_assert_eq(device_realize(io, &env, &e), 0, "%s", e.msg);
	object_add_child(root, TYPE_IOAPIC, &io->parent_obj);
	F.io = io;
	/* Every LAPIC software-enabled, logical ID bit n for CPU n (flat). */
	for (unsigned i = 0; i < NCPUS; i++) {
		lapic_mmio_write(apic_bus_cpu(bus, i), LAPIC_SVR, 0x1ff, 4);
		lapic_mmio_write(apic_bus_cpu(bus, i), LAPIC_LDR, 1u << (24 + i), 4);
	}
}

static void teardown(void)
{
	object_free(root);
	cr_assert_null(sysmem.subregions, "the page is unmapped");
	address_space_destroy(as);
	apic_bus_free(bus);
	for (unsigned i = 0; i < NCPUS; i++) {
		pthread_mutex_destroy(&F.lock[i]);
		pthread_cond_destroy(&F.cond[i]);
	}
}

TestSuite(ioapic, .init = setup, .fini = teardown);

/* ---- the guest's side ---- */

static uint64_t mmio_read(uint64_t off, unsigned size)
{
	uint64_t v = 0xaaaaaaaaaaaaaaaaull;

	cr_assert_eq(address_space_read(as, BASE + off, &v, size), MEMTX_OK);
	return size == 8 ? v : v & ((1ull << (8 * size)) - 1);
}

static void mmio_write(uint64_t off, uint64_t v, unsigned size)
{
	cr_assert_eq(address_space_write(as, BASE + off, &v, size), MEMTX_OK);
}

static uint32_t reg(unsigned index)
{
	mmio_write(IOAPIC_IOREGSEL, index, 4);
	return (uint32_t)mmio_read(IOAPIC_IOWIN, 4);
}

static void set_reg(unsigned index, uint32_t v)
{
	mmio_write(IOAPIC_IOREGSEL, index, 4);
	mmio_write(IOAPIC_IOWIN, v, 4);
}

static uint64_t rte(unsigned pin)
{
	return reg(IOAPIC_REG_REDTBL + 2 * pin) |
	       (uint64_t)reg(IOAPIC_REG_REDTBL + 2 * pin + 1) << 32;
}

/* High word first, as Linux does: the low one holds the mask. */
static void set_rte(unsigned pin, uint64_t v)
{
	set_reg(IOAPIC_REG_REDTBL + 2 * pin + 1, (uint32_t)(v >> 32));
	set_reg(IOAPIC_REG_REDTBL + 2 * pin, (uint32_t)v);
}

static uint64_t entry(unsigned vector, unsigned mode, unsigned dest,
		      uint64_t flags)
{
	return vector | (uint64_t)mode << IOAPIC_RTE_MODE_SHIFT | flags |
	       (uint64_t)dest << IOAPIC_RTE_DEST_SHIFT;
}

/* ---- the devices' and the LAPICs' sides ---- */

static void pin(unsigned n, bool level)
{
	irq_set_level(&ioapic_inputs(io)[n], level);
}

static struct lapic *L(unsigned cpu)
{
	return apic_bus_cpu(bus, cpu);
}

/* What the vCPU would inject now (accepted), or -1. */
static int take(unsigned cpu)
{
	int v = lapic_pending_vector(L(cpu));

	if (v >= 0)
		lapic_accept(L(cpu), v);
	return v;
}

static void eoi(unsigned cpu)
{
	lapic_mmio_write(L(cpu), LAPIC_EOI, 0, 4);
}

static bool vec_bit(unsigned cpu, uint32_t base, unsigned v)
{
	lapic_pending_vector(L(cpu));	/* posted -> IRR, TMR */
	return lapic_mmio_read(L(cpu), base + (v / 32) * 0x10, 4) & (1u << (v % 32));
}

static unsigned msgs(unsigned cpu)
{
	return atomic_load(&F.msgs[cpu]);
}

/* ---- the device ---- */

Test(ioapic, is_a_device_the_board_makes_and_needs_an_apic_bus)
{
	struct object *obj = object_new(TYPE_IOAPIC);
	struct device_env none = { .system_memory = &sysmem };
	struct error e = { "" };

	cr_assert(object_is_a(obj, TYPE_DEVICE));
	cr_assert_not(DEVICE_GET_CLASS(obj)->user_creatable);
	cr_assert_neq(device_realize((struct device *)obj, &none, &e), 0);
	cr_assert(strstr(e.msg, "no APIC bus"), "%s", e.msg);
	object_free(obj);
}

Test(ioapic, maps_one_page_at_fec00000)
{
	const struct memory_region *hit = NULL;
	uint32_t v;

	address_space_rw(as, BASE + 0xffc, &v, 4, false, &hit);
	cr_assert_not_null(hit);
	cr_assert_str_eq(hit->name, "ioapic");
	cr_assert_eq(hit->size, 0x1000);
	hit = NULL;
	address_space_rw(as, BASE + 0x1000, &v, 4, false, &hit);
	cr_assert_null(hit, "one page only");
}

/* ---- registers ---- */

Test(ioapic, registers_after_reset)
{
	cr_assert_eq(mmio_read(IOAPIC_IOREGSEL, 4), 0);
	cr_assert_eq(reg(IOAPIC_REG_ID), 0);
	cr_assert_eq(reg(IOAPIC_REG_VER), 0x00170011, "version 0x11, 24 entries");
	cr_assert_eq(reg(IOAPIC_REG_ARB), 0);
	for (unsigned p = 0; p < IOAPIC_NUM_PINS; p++)
		cr_assert_eq(rte(p), MASKED, "pin %u masked, all else 0", p);
}

Test(ioapic, id_keeps_bits_27_24_and_arbitration_follows)
{
	set_reg(IOAPIC_REG_ID, 0xffffffff);
	cr_assert_eq(reg(IOAPIC_REG_ID), 0x0f000000);
	set_reg(IOAPIC_REG_ID, 0x05000000);
	cr_assert_eq(reg(IOAPIC_REG_ID), 0x05000000);
	cr_assert_eq(reg(IOAPIC_REG_ARB), 0x05000000, "loaded with the ID");
	set_reg(IOAPIC_REG_ARB, 0x0a000000);
	set_reg(IOAPIC_REG_VER, 0);
	cr_assert_eq(reg(IOAPIC_REG_ARB), 0x05000000, "read-only");
	cr_assert_eq(reg(IOAPIC_REG_VER), 0x00170011, "read-only");
	cr_assert_eq(reg(IOAPIC_REG_ID), 0x05000000);
}

Test(ioapic, ioregsel_has_8_bits)
{
	mmio_write(IOAPIC_IOREGSEL, 0x12345678, 4);
	cr_assert_eq(mmio_read(IOAPIC_IOREGSEL, 4), 0x78);
}

Test(ioapic, every_redirection_field_round_trips_but_ro_bits)
{
	for (unsigned p = 0; p < IOAPIC_NUM_PINS; p++) {
		/* Distinct per pin: vector, dest; all flags but the RO ones
		 * (masked, so nothing is sent). */
		set_rte(p, 0xffffffffffffffffull ^ (uint64_t)p ^ (uint64_t)p << 56);
		set_rte(p, rte(p));	/* writing back what was read changes nothing */
	}
	for (unsigned p = 0; p < IOAPIC_NUM_PINS; p++) {
		uint64_t want = (0xffffffffffffffffull ^ (uint64_t)p ^
				 (uint64_t)p << 56) &
				~(IOAPIC_RTE_DELIVS | REMOTE_IRR);

		cr_assert_eq(rte(p), want, "pin %u: %#llx", p,
			     (unsigned long long)rte(p));
	}
	/* One field at a time, on an edge entry (remote IRR stays 0). */
	set_rte(7, 0);
	set_rte(7, MASKED);
	cr_assert_eq(rte(7), MASKED);
	const uint64_t fields[] = { 0x5a, 7ull << 8, LOGICAL, IOAPIC_RTE_POLARITY,
				    0xabull << 56, 0x00ffffff00000000ull };
	for (unsigned i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		set_rte(7, MASKED | fields[i]);
		cr_assert_eq(rte(7), MASKED | fields[i], "field %u", i);
	}
	set_rte(7, MASKED | IOAPIC_RTE_DELIVS | REMOTE_IRR);
	cr_assert_eq(rte(7), MASKED, "delivery status and remote IRR are RO");
}

Test(ioapic, out_of_range_index_reads_ones_and_ignores_writes)
{
	set_rte(0, entry(0x40, 0, 1, MASKED));
	set_rte(23, entry(0x41, 0, 2, MASKED));
	for (unsigned idx = 3; idx < 0x100; idx++) {
		if (idx >= IOAPIC_REG_REDTBL && idx < IOAPIC_REG_REDTBL + 48)
			continue;
		cr_assert_eq(reg(idx), 0xffffffff, "index %#x", idx);
		set_reg(idx, 0);
	}
	cr_assert_eq(rte(0), entry(0x40, 0, 1, MASKED));
	cr_assert_eq(rte(23), entry(0x41, 0, 2, MASKED));
	cr_assert_eq(reg(IOAPIC_REG_VER), 0x00170011);
}

Test(ioapic, access_widths_as_kvm)
{
	set_reg(IOAPIC_REG_REDTBL + 1, 0x12345678);
	cr_assert_eq(mmio_read(IOAPIC_IOWIN, 1), 0x78);
	cr_assert_eq(mmio_read(IOAPIC_IOWIN, 2), 0x5678);
	cr_assert_eq(mmio_read(IOAPIC_IOWIN, 8), 0x12345678, "zero-extended");
	mmio_write(IOAPIC_IOWIN, 0xab, 1);
	cr_assert_eq(mmio_read(IOAPIC_IOWIN, 4), 0xab, "a byte write zero-extends");
	mmio_write(IOAPIC_IOWIN, 0xcdef, 2);
	cr_assert_eq(mmio_read(IOAPIC_IOWIN, 4), 0xcdef);
	mmio_write(IOAPIC_IOWIN, 0x1111111122222222ull, 8);
	cr_assert_eq(mmio_read(IOAPIC_IOWIN, 4), 0x22222222, "low 32 bits");
	mmio_write(IOAPIC_IOREGSEL, 0x03, 1);
	cr_assert_eq(mmio_read(IOAPIC_IOREGSEL, 4), 0x03);
}

Test(ioapic, other_offsets_read_0_and_ignore_writes)
{
	static const uint64_t offs[] = { 0x01, 0x04, 0x08, 0x11, 0x14, 0x20,
					 0x40, 0x100, 0x110, 0xffc };

	set_reg(IOAPIC_REG_ID, 0x03000000);
	mmio_write(IOAPIC_IOREGSEL, IOAPIC_REG_ID, 4);
	for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		cr_assert_eq(mmio_read(offs[i], 4), 0, "offset %#llx",
			     (unsigned long long)offs[i]);
		mmio_write(offs[i], 0xffffffff, 4);
	}
	cr_assert_eq(mmio_read(IOAPIC_IOREGSEL, 4), IOAPIC_REG_ID);
	cr_assert_eq(mmio_read(IOAPIC_IOWIN, 4), 0x03000000);
}

Test(ioapic, no_eoi_register_at_0x40)
{
	set_rte(4, entry(0x44, 0, 0, LEVEL));
	pin(4, true);
	cr_assert_eq(take(0), 0x44);
	mmio_write(0x40, 0x44, 4);
	cr_assert(rte(4) & REMOTE_IRR, "version 0x11 has no EOI register");
}

/* ---- delivery ---- */

Test(ioapic, edge_physical_delivers_on_rising_edges_only)
{
	set_rte(1, entry(0x31, APIC_DM_FIXED, 2, 0));
	pin(1, true);
	cr_assert_eq(msgs(2), 1);
	cr_assert_eq(take(2), 0x31);
	cr_assert_not(vec_bit(2, LAPIC_TMR, 0x31), "edge: TMR clear");
	cr_assert_eq(take(0), -1);
	cr_assert_eq(take(1), -1);
	pin(1, true);			/* still high: no edge */
	eoi(2);
	cr_assert_eq(take(2), -1);
	cr_assert_eq(msgs(2), 1);
	pin(1, false);
	pin(1, true);
	cr_assert_eq(take(2), 0x31);
	cr_assert_eq(msgs(2), 2);
	cr_assert_eq(atomic_load(&F.eoi_levels), 0, "edge vectors broadcast no EOI");
	cr_assert_eq(rte(1), entry(0x31, APIC_DM_FIXED, 2, 0));
}

Test(ioapic, edge_logical_reaches_every_cpu_named)
{
	set_rte(2, entry(0x32, APIC_DM_FIXED, 0x0a, LOGICAL));	/* CPUs 1, 3 */
	irq_pulse(&ioapic_inputs(io)[2]);
	cr_assert_eq(take(1), 0x32);
	cr_assert_eq(take(3), 0x32);
	cr_assert_eq(take(0), -1);
	cr_assert_eq(take(2), -1);
}

Test(ioapic, physical_ff_is_a_broadcast)
{
	set_rte(2, entry(0x32, APIC_DM_FIXED, 0xff, 0));
	irq_pulse(&ioapic_inputs(io)[2]);
	for (unsigned c = 0; c < NCPUS; c++)
		cr_assert_eq(take(c), 0x32, "cpu %u", c);
}

Test(ioapic, lowest_priority_goes_to_one_cpu_with_the_lowest_ppr)
{
	lapic_mmio_write(L(0), LAPIC_TPR, 0x40, 4);
	lapic_mmio_write(L(1), LAPIC_TPR, 0x30, 4);
	lapic_mmio_write(L(2), LAPIC_TPR, 0x10, 4);
	lapic_mmio_write(L(3), LAPIC_TPR, 0x20, 4);
	set_rte(3, entry(0x63, APIC_DM_LOWEST, 0x0f, LOGICAL));
	irq_pulse(&ioapic_inputs(io)[3]);
	cr_assert_eq(msgs(0) + msgs(1) + msgs(2) + msgs(3), 1);
	cr_assert_eq(take(2), 0x63);
}

Test(ioapic, nmi_is_edge_even_when_programmed_level)
{
	set_rte(5, entry(0x55, APIC_DM_NMI, 1, LEVEL));
	pin(5, true);
	cr_assert(lapic_take_nmi(L(1)));
	cr_assert_not(lapic_take_nmi(L(0)));
	cr_assert_eq(take(1), -1, "the vector is not used");
	cr_assert_not(rte(5) & REMOTE_IRR);
	ioapic_eoi(io, 0x55);
	pin(5, true);
	cr_assert_not(lapic_take_nmi(L(1)), "no new edge, no new NMI");
	pin(5, false);
	pin(5, true);
	cr_assert(lapic_take_nmi(L(1)));
}

Test(ioapic, init_reaches_the_lapic)
{
	enum lapic_start_event ev;
	uint8_t v;

	while (lapic_take_start_event(L(1), &v) != LAPIC_NONE)
		;
	set_rte(6, entry(0, APIC_DM_INIT, 1, 0));
	irq_pulse(&ioapic_inputs(io)[6]);
	ev = lapic_take_start_event(L(1), &v);
	cr_assert_eq(ev, LAPIC_INIT);
}

Test(ioapic, extint_and_reserved_modes_send_nothing)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out;
	uint8_t v;

	set_rte(0, entry(0x30, APIC_DM_EXTINT, 0, 0));
	set_rte(8, entry(0x38, 3, 0, 0));
	set_rte(9, entry(0x01, 6, 1, 0));	/* would be a SIPI to CPU 1 */
	irq_pulse(&ioapic_inputs(io)[0]);
	irq_pulse(&ioapic_inputs(io)[8]);
	irq_pulse(&ioapic_inputs(io)[9]);
	for (unsigned c = 0; c < NCPUS; c++)
		cr_assert_eq(msgs(c), 0);
	cr_assert_eq(take(0), -1);
	/* CPU 1 waits for SIPI since reset: none came. */
	cr_assert_eq(lapic_take_start_event(L(1), &v), LAPIC_NONE);

	out = open_memstream(&text, &len);
	ioapic_print_stats(io, out);
	fclose(out);
	cr_assert(strstr(text, "pin 0: 1 raised, 0 sent, 1 not sent"), "%s", text);
	cr_assert(strstr(text, "pin 9: 1 raised, 0 sent, 1 not sent"), "%s", text);
	free(text);
}

Test(ioapic, an_edge_on_a_masked_entry_is_dropped)
{
	set_rte(10, entry(0x3a, APIC_DM_FIXED, 0, MASKED));
	irq_pulse(&ioapic_inputs(io)[10]);
	pin(10, true);
	set_rte(10, entry(0x3a, APIC_DM_FIXED, 0, 0));
	cr_assert_eq(take(0), -1, "not remembered across the unmask");
	cr_assert_eq(msgs(0), 0);
	pin(10, false);
	pin(10, true);
	cr_assert_eq(take(0), 0x3a);
}

Test(ioapic, a_masked_level_is_held_and_sent_on_unmask)
{
	set_rte(11, entry(0x3b, APIC_DM_FIXED, 0, LEVEL | MASKED));
	pin(11, true);
	cr_assert_eq(take(0), -1);
	cr_assert_not(rte(11) & REMOTE_IRR);
	set_rte(11, entry(0x3b, APIC_DM_FIXED, 0, LEVEL));
	cr_assert_eq(take(0), 0x3b);
	cr_assert(rte(11) & REMOTE_IRR);
	cr_assert_eq(msgs(0), 1);
}

Test(ioapic, a_level_withdrawn_while_masked_is_not_sent)
{
	set_rte(11, entry(0x3b, APIC_DM_FIXED, 0, LEVEL | MASKED));
	pin(11, true);
	pin(11, false);
	set_rte(11, entry(0x3b, APIC_DM_FIXED, 0, LEVEL));
	cr_assert_eq(take(0), -1);
	cr_assert_eq(msgs(0), 0);
}

Test(ioapic, level_remote_irr_eoi_broadcast_and_redelivery)
{
	set_rte(12, entry(0x7c, APIC_DM_FIXED, 3, LEVEL));
	pin(12, true);
	cr_assert(rte(12) & REMOTE_IRR);
	cr_assert(vec_bit(3, LAPIC_TMR, 0x7c), "level: TMR set");
	cr_assert_eq(take(3), 0x7c);
	pin(12, true);
	cr_assert_eq(msgs(3), 1, "remote IRR holds the next one");
	eoi(3);				/* still asserted */
	cr_assert_eq(atomic_load(&F.eoi_levels), 1);
	cr_assert_eq(msgs(3), 2, "sent again after the EOI");
	cr_assert(rte(12) & REMOTE_IRR);
	cr_assert_eq(take(3), 0x7c);
	pin(12, false);			/* the driver quiets the device */
	eoi(3);
	cr_assert_eq(msgs(3), 2);
	cr_assert_not(rte(12) & REMOTE_IRR);
	cr_assert_eq(take(3), -1);
}

Test(ioapic, level_deasserted_before_the_eoi_is_not_sent_again)
{
	set_rte(13, entry(0x7d, APIC_DM_FIXED, 0, LEVEL));
	pin(13, true);
	pin(13, false);
	cr_assert(rte(13) & REMOTE_IRR, "set until the EOI");
	cr_assert_eq(take(0), 0x7d);
	eoi(0);
	cr_assert_not(rte(13) & REMOTE_IRR);
	cr_assert_eq(take(0), -1);
	cr_assert_eq(msgs(0), 1);
}

Test(ioapic, eoi_matches_the_vector_on_every_level_entry)
{
	set_rte(14, entry(0x80, APIC_DM_FIXED, 0, LEVEL));
	set_rte(15, entry(0x80, APIC_DM_FIXED, 1, LEVEL));
	set_rte(16, entry(0x81, APIC_DM_FIXED, 0, LEVEL));
	pin(14, true);
	pin(15, true);
	pin(16, true);
	ioapic_eoi(io, 0x82);
	cr_assert(rte(14) & rte(15) & rte(16) & REMOTE_IRR);
	pin(14, false);
	ioapic_eoi(io, 0x80);
	cr_assert_not(rte(14) & REMOTE_IRR);
	cr_assert(rte(15) & REMOTE_IRR, "still asserted: sent again");
	cr_assert(rte(16) & REMOTE_IRR, "another vector");
	cr_assert_eq(msgs(0), 2);
	cr_assert_eq(msgs(1), 2);
}

Test(ioapic, masked_at_the_eoi_holds_the_level_until_unmask)
{
	set_rte(17, entry(0x90, APIC_DM_FIXED, 0, LEVEL));
	pin(17, true);
	set_rte(17, entry(0x90, APIC_DM_FIXED, 0, LEVEL | MASKED));
	cr_assert(rte(17) & REMOTE_IRR, "RO: kept across the write");
	ioapic_eoi(io, 0x90);
	cr_assert_not(rte(17) & REMOTE_IRR);
	cr_assert_eq(msgs(0), 1);
	set_rte(17, entry(0x90, APIC_DM_FIXED, 0, LEVEL));
	cr_assert_eq(msgs(0), 2);
}

Test(ioapic, writing_edge_mode_clears_remote_irr)
{
	/* Linux's EOI for I/O APICs without an EOI register: mask, edge,
	 * level, unmask. */
	set_rte(18, entry(0x91, APIC_DM_FIXED, 0, LEVEL));
	pin(18, true);
	cr_assert(rte(18) & REMOTE_IRR);
	set_rte(18, entry(0x91, APIC_DM_FIXED, 0, MASKED));
	cr_assert_not(rte(18) & REMOTE_IRR);
	set_rte(18, entry(0x91, APIC_DM_FIXED, 0, LEVEL | MASKED));
	cr_assert_eq(msgs(0), 1);
	set_rte(18, entry(0x91, APIC_DM_FIXED, 0, LEVEL));
	cr_assert_eq(msgs(0), 2, "still asserted: sent again");
	cr_assert(rte(18) & REMOTE_IRR);
}

Test(ioapic, polarity_is_stored_not_applied)
{
	set_rte(19, entry(0x92, APIC_DM_FIXED, 0, LEVEL | IOAPIC_RTE_POLARITY));
	cr_assert_eq(take(0), -1, "a low line is not asserted");
	pin(19, true);
	cr_assert_eq(take(0), 0x92, "a high line is, as KVM has it");
	cr_assert(rte(19) & IOAPIC_RTE_POLARITY);
}

Test(ioapic, level_to_a_vector_below_16_is_one_error_no_storm)
{
	set_rte(20, entry(0x05, APIC_DM_FIXED, 0, LEVEL));
	pin(20, true);
	cr_assert_eq(take(0), -1);
	lapic_mmio_write(L(0), LAPIC_ESR, 0, 4);
	cr_assert(lapic_mmio_read(L(0), LAPIC_ESR, 4) & APIC_ESR_RECV_ILLEGAL);
	cr_assert(rte(20) & REMOTE_IRR, "sent once, awaiting an EOI");
	pin(20, true);
	cr_assert_eq(take(0), -1);
}

Test(ioapic, reset_masks_every_entry)
{
	set_reg(IOAPIC_REG_ID, 0x02000000);
	set_rte(21, entry(0x93, APIC_DM_FIXED, 0, LEVEL));
	pin(21, true);
	ioapic_reset(io);
	cr_assert_eq(mmio_read(IOAPIC_IOREGSEL, 4), 0);
	cr_assert_eq(reg(IOAPIC_REG_ID), 0);
	cr_assert_eq(rte(21), MASKED);
	set_rte(21, entry(0x93, APIC_DM_FIXED, 0, LEVEL));
	cr_assert_eq(msgs(0), 2, "the pin kept its level");
}

Test(ioapic, stats_count_edges_and_messages)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	set_rte(3, entry(0x33, APIC_DM_FIXED, 0, 0));
	for (int i = 0; i < 3; i++)
		irq_pulse(&ioapic_inputs(io)[3]);
	set_rte(3, entry(0x33, APIC_DM_FIXED, 0, MASKED));
	irq_pulse(&ioapic_inputs(io)[3]);
	out = open_memstream(&text, &len);
	ioapic_print_stats(io, out);
	fclose(out);
	cr_assert(strstr(text, "ioapic pin 3: 4 raised, 3 sent\n"), "%s", text);
	cr_assert_null(strstr(text, "pin 4"), "quiet pins are left out: %s", text);
	free(text);
}

/* ---- threads ----
 * Two devices, each on a level pin routed to its own vCPU, raise events
 * as a NIC does: a count of pending events under the device's lock, the
 * line high while it is nonzero (driven only when that changes, so an
 * event that lands between the handler's lowering of the line and its EOI
 * is seen only if the EOI sends again). Each vCPU thread sleeps until notified,
 * takes the interrupt, consumes every pending event and lowers the line
 * (under the device's lock), then EOIs, which reaches the I/O APIC on that
 * thread while the other threads raise and EOI. A lost interrupt leaves a
 * vCPU asleep with events pending: the test fails on a timeout. A
 * duplicated one finds no event pending, or shows as more messages than
 * interrupts taken. */
#define EVENTS		20000
#define TIMEOUT_S	20

struct stress_dev {
	unsigned cpu, pin, vector;
	pthread_mutex_t lock;
	unsigned pending;
	unsigned consumed, taken, spurious;	/* the vCPU's counts */
	atomic_bool stuck;
};

static void *stress_device(void *arg)
{
	struct stress_dev *d = arg;

	for (unsigned i = 0; i < EVENTS; i++) {
		pthread_mutex_lock(&d->lock);
		if (d->pending++ == 0)		/* the line follows the count */
			irq_raise(&ioapic_inputs(io)[d->pin]);
		pthread_mutex_unlock(&d->lock);
		if (i % 16 == 0)
			sched_yield();
	}
	return NULL;
}

static bool stress_sleep(unsigned cpu, time_t deadline)
{
	struct timespec ts = { .tv_sec = deadline };
	bool ok = true;

	pthread_mutex_lock(&F.lock[cpu]);
	while (!F.kicked[cpu] && ok)
		ok = pthread_cond_timedwait(&F.cond[cpu], &F.lock[cpu], &ts) == 0;
	F.kicked[cpu] = false;
	pthread_mutex_unlock(&F.lock[cpu]);
	return ok;
}

static void *stress_vcpu(void *arg)
{
	struct stress_dev *d = arg;
	struct lapic *l = L(d->cpu);
	time_t deadline = time(NULL) + TIMEOUT_S;
	int v;

	while (d->consumed < EVENTS) {
		while ((v = lapic_pending_vector(l)) >= 0) {
			lapic_accept(l, v);
			d->taken++;
			pthread_mutex_lock(&d->lock);
			if (!d->pending)
				d->spurious++;
			d->consumed += d->pending;
			d->pending = 0;
			irq_lower(&ioapic_inputs(io)[d->pin]);
			pthread_mutex_unlock(&d->lock);
			lapic_mmio_write(l, LAPIC_EOI, 0, 4);
		}
		if (d->consumed < EVENTS && !stress_sleep(d->cpu, deadline)) {
			atomic_store(&d->stuck, true);
			return NULL;
		}
	}
	return NULL;
}

Test(ioapic, concurrent_inputs_and_eois_lose_and_duplicate_nothing)
{
	struct stress_dev dev[2] = {
		{ .cpu = 0, .pin = 5, .vector = 0x51 },
		{ .cpu = 1, .pin = 9, .vector = 0x69 },
	};
	pthread_t th[4];

	for (unsigned i = 0; i < 2; i++) {
		pthread_mutex_init(&dev[i].lock, NULL);
		set_rte(dev[i].pin, entry(dev[i].vector, APIC_DM_FIXED,
					  dev[i].cpu, LEVEL));
	}
	for (unsigned i = 0; i < 2; i++) {
		cr_assert_eq(pthread_create(&th[i], NULL, stress_vcpu, &dev[i]), 0);
		cr_assert_eq(pthread_create(&th[2 + i], NULL, stress_device,
					    &dev[i]), 0);
	}
	for (unsigned i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (unsigned i = 0; i < 2; i++) {
		struct stress_dev *d = &dev[i];

		cr_assert_not(atomic_load(&d->stuck), "cpu %u: lost an interrupt "
			      "(%u of %u events)", d->cpu, d->consumed, EVENTS);
		cr_assert_eq(d->consumed, EVENTS);
		cr_assert_eq(d->spurious, 0, "cpu %u: %u interrupts with no event",
			     d->cpu, d->spurious);
		cr_assert_eq(msgs(d->cpu), d->taken, "cpu %u: %u sent, %u taken",
			     d->cpu, msgs(d->cpu), d->taken);
		cr_assert_geq(d->taken, 1);
		cr_assert_not(rte(d->pin) & REMOTE_IRR, "the last one was EOIed");
		pthread_mutex_destroy(&d->lock);
	}
}
