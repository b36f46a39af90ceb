/* `info lapic`: the text dump of one LAPIC, on LAPICs driven as
 * test_lapic.c drives them (fake clock and host ops, one thread). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/intc/lapic.h"
#include "devices/intc/lapic_info.h"

static uint64_t fake_now;

static void f_notify(void *o, unsigned cpu)
{
	(void)o; (void)cpu;
}

static uint64_t f_now(void *o)
{
	(void)o;
	return fake_now;
}

static void f_arm(void *o, unsigned cpu, uint64_t deadline)
{
	(void)o; (void)cpu; (void)deadline;
}

static const struct apic_host_ops ops = {
	.notify = f_notify, .now_ns = f_now, .timer_arm = f_arm,
};

static struct apic_bus *B;

static void setup(void)
{
	fake_now = 1000;
	B = apic_bus_new(2, 0, &ops, NULL);
	cr_assert_not_null(B);
}

static void teardown(void)
{
	apic_bus_free(B);
}

TestSuite(lapic_info, .init = setup, .fini = teardown);

static struct lapic *L(unsigned cpu)
{
	return apic_bus_cpu(B, cpu);
}

static void wr(unsigned cpu, uint32_t reg, uint32_t val)
{
	lapic_mmio_write(L(cpu), reg, val, 4);
}

static char *dump(unsigned cpu)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	lapic_info_print(L(cpu), f);
	fclose(f);
	return buf;
}

#define assert_dump(cpu, expect) do {					\
	char *got_ = dump(cpu);						\
	cr_assert_str_eq(got_, expect, "got:\n%s", got_);		\
	free(got_);							\
} while (0)

#define assert_dump_has(cpu, line) do {					\
	char *got_ = dump(cpu);						\
	cr_assert_not_null(strstr(got_, line), "no \"%s\" in:\n%s", line, got_); \
	free(got_);							\
} while (0)

Test(lapic_info, bsp_after_reset)
{
	assert_dump(0,
		"LAPIC of CPU 0: APIC ID 0, version 0x00050014, xAPIC mode, base 0xfee00000, BSP\n"
		"LVT0\t 0x00010000 active-hi edge  masked              Fixed (vec 0)\n"
		"LVT1\t 0x00010000 active-hi edge  masked              Fixed (vec 0)\n"
		"LVTPC\t 0x00010000 active-hi edge  masked              Fixed (vec 0)\n"
		"LVTERR\t 0x00010000 active-hi edge  masked              Fixed (vec 0)\n"
		"LVTTHMR\t 0x00010000 active-hi edge  masked              Fixed (vec 0)\n"
		"LVTT\t 0x00010000 active-hi edge  masked one-shot     Fixed (vec 0)\n"
		"Timer\t DCR=0x0 (divide by 2) initial_count = 0 current_count = 0\n"
		"SPIV\t 0x000000ff APIC disabled, spurious vec 255\n"
		"ICR\t 0x00000000 physical edge de-assert no-shorthand Fixed (vec 0)\n"
		"ICR2\t 0x00000000 dest 0x0\n"
		"ESR\t 0x00000000\n"
		"ISR\t (none)\n"
		"IRR\t (none)\n"
		"TMR\t (none)\n"
		"Pending\t (none)\n"
		"TPR 0x00 PPR 0x00 DFR 0xffffffff LDR 0x00000000\n");
}

Test(lapic_info, ap_waits_for_sipi)
{
	static const char head[] = "LAPIC of CPU 1: APIC ID 1, version 0x00050014, "
				   "xAPIC mode, base 0xfee00000\n";
	char *got = dump(1);

	cr_assert(strncmp(got, head, strlen(head)) == 0, "%s", got);
	cr_assert_not_null(strstr(got, "\nPending\t wait-for-SIPI\n"), "%s", got);
	free(got);
}

/* Virtual wire, a periodic timer part-way through its count, a self IPI
 * in service, a level MSI requested, and an illegal vector logged. */
Test(lapic_info, a_busy_lapic)
{
	lapic_set_virtual_wire(L(0));
	wr(0, LAPIC_LVT_TIMER, 0x200ec);
	wr(0, LAPIC_TDCR, 0x3);			/* divide by 16 */
	wr(0, LAPIC_TMICT, 1000);
	fake_now += 1600;			/* 100 ticks */
	wr(0, LAPIC_ICR, 0x40040);		/* self, vector 0x40 */
	cr_assert_eq(lapic_pending_vector(L(0)), 0x40);
	lapic_accept(L(0), 0x40);
	cr_assert_eq(apic_bus_deliver_msi(B, 0xfee00000, 0xc050), 0);	/* level */
	wr(0, LAPIC_ICR, 0x4005);		/* vector 5: send illegal */
	assert_dump(0,
		"LAPIC of CPU 0: APIC ID 0, version 0x00050014, xAPIC mode, base 0xfee00000, BSP\n"
		"LVT0\t 0x00000700 active-hi edge                      ExtINT\n"
		"LVT1\t 0x00000400 active-hi edge                      NMI\n"
		"LVTPC\t 0x00010000 active-hi edge  masked              Fixed (vec 0)\n"
		"LVTERR\t 0x00010000 active-hi edge  masked              Fixed (vec 0)\n"
		"LVTTHMR\t 0x00010000 active-hi edge  masked              Fixed (vec 0)\n"
		"LVTT\t 0x000200ec active-hi edge         periodic     Fixed (vec 236)\n"
		"Timer\t DCR=0x3 (divide by 16) initial_count = 1000 current_count = 900\n"
		"SPIV\t 0x000001ff APIC enabled, spurious vec 255\n"
		"ICR\t 0x00004005 physical edge assert no-shorthand Fixed (vec 5)\n"
		"ICR2\t 0x00000000 dest 0x0\n"
		"ESR\t 0x00000000 (logged since: 0x00000020)\n"
		"ISR\t 64\n"
		"IRR\t 80\n"
		"TMR\t 80\n"
		"Pending\t (none)\n"
		"TPR 0x00 PPR 0x40 DFR 0xffffffff LDR 0x00000000\n");
	wr(0, LAPIC_ESR, 0);			/* latches what was logged */
	assert_dump_has(0, "\nESR\t 0x00000020 send-illegal-vector\n");
}

/* Posted by another vCPU and not yet moved into IRR by the owner: shown
 * as requested already, with the trigger mode it was posted with. */
Test(lapic_info, posted_vectors_show_in_irr_without_being_taken)
{
	wr(1, LAPIC_SVR, 0x1ff);
	wr(0, LAPIC_ICR2, 1u << 24);
	wr(0, LAPIC_ICR, 0x4031);		/* fixed, vector 0x31 to CPU 1 */
	cr_assert_eq(apic_bus_deliver_msi(B, 0xfee01000, 0xc062), 0);
	assert_dump_has(1, "\nIRR\t 49 98\nTMR\t 98\n");
	cr_assert_eq(lapic_pending_vector(L(1)), 0x62, "the dump took nothing");
}

/* The INIT not taken yet: the AP waits for SIPI only once it is. */
Test(lapic_info, nmi_init_and_sipi_pending)
{
	wr(0, LAPIC_ICR2, 1u << 24);
	wr(0, LAPIC_ICR, 0x4400);		/* NMI */
	wr(0, LAPIC_ICR, 0x4500);		/* INIT */
	wr(0, LAPIC_ICR, 0x4608);		/* SIPI, vector 8 */
	assert_dump_has(1, "\nPending\t NMI INIT SIPI (vec 0x08)\n");
	assert_dump_has(0, "\nICR\t 0x00004608 physical edge assert no-shorthand StartUp (vec 8)\n"
			"ICR2\t 0x01000000 dest 0x1\n");
}

Test(lapic_info, x2apic_mode_shows_the_32_bit_destination)
{
	cr_assert_eq(lapic_msr_write(L(0), LAPIC_MSR_APIC_BASE, 0xfee00d00u), 0);
	cr_assert_eq(lapic_msr_write(L(0), LAPIC_MSR_X2APIC + (LAPIC_SVR >> 4), 0x1ff), 0);
	cr_assert_eq(lapic_msr_write(L(0), LAPIC_MSR_X2APIC + (LAPIC_ICR >> 4),
				     (uint64_t)1 << 32 | 0xc0831), 0);
	assert_dump_has(0, "LAPIC of CPU 0: APIC ID 0, version 0x00050014, x2APIC mode, "
			"base 0xfee00000, BSP\n");
	assert_dump_has(0, "\nICR\t 0x000c0831 logical edge de-assert all-excl-self Fixed (vec 49)\n"
			"ICR2\t 0x00000001 dest 0x1\n");
	assert_dump_has(0, " LDR 0x00000001\n");
}

Test(lapic_info, hardware_disabled)
{
	cr_assert_eq(lapic_msr_write(L(1), LAPIC_MSR_APIC_BASE, 0xfee00000u), 0);
	assert_dump_has(1, "LAPIC of CPU 1: APIC ID 1, version 0x00050014, "
			"disabled (IA32_APIC_BASE.EN = 0), base 0xfee00000\n");
}
