/* The dual 8259A driven through its ports as a guest does (an "io" address
 * space), its input lines as devices drive them, and INTA as the vCPU
 * calls it. No /dev/kvm. */
#define _GNU_SOURCE	/* open_memstream */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/device.h"
#include "devices/error.h"
#include "devices/intc/i8259.h"
#include "memory/address_space.h"
#include "memory/region.h"

#define M_CMD	0x20
#define M_DATA	0x21
#define S_CMD	0xa0
#define S_DATA	0xa1
#define ELCR_M	0x4d0
#define ELCR_S	0x4d1

/* OCW2 and OCW3 commands. */
#define EOI		0x20
#define SPECIFIC_EOI	0x60
#define ROTATE_EOI	0xa0
#define ROTATE_SEOI	0xe0
#define SET_PRIORITY	0xc0
#define ROTATE_AEOI_ON	0x80
#define ROTATE_AEOI_OFF	0x00
#define OCW2_NOP	0x40
#define READ_IRR	0x0a
#define READ_ISR	0x0b
#define POLL		0x0c
#define SMM_ON		0x68
#define SMM_OFF		0x48

static struct memory_region io_root;
static struct address_space *io_as;
static struct object *root;
static struct device_env env;
static struct device *pic;

/* What the output line was told, in order. */
static bool said[64];
static unsigned nsaid;

static void record(void *opaque, unsigned n, bool level)
{
	cr_assert_eq(opaque, &nsaid);
	cr_assert_eq(n, 7);
	cr_assert_lt(nsaid, 64);
	said[nsaid++] = level;
}

static void setup(void)
{
	struct error e = { "" };

	memory_region_init_container(&io_root, "io", 0x10000);
	io_as = address_space_new("io", &io_root);
	root = object_new(TYPE_CONTAINER);
	env = (struct device_env){ .io_space = &io_root };
	pic = (struct device *)object_new(TYPE_I8259);
	cr_assert_not_null(pic);
	cr_assert_eq(device_realize(pic, &env, &e), 0, "%s", e.msg);
	object_add_child(root, TYPE_I8259, &pic->parent_obj);
	nsaid = 0;
	i8259_connect_output(pic, (struct irq_line){ record, &nsaid, 7 });
}

static void teardown(void)
{
	object_free(root);
	cr_assert_null(io_root.subregions, "the ports are unmapped");
	address_space_destroy(io_as);
}

TestSuite(i8259, .init = setup, .fini = teardown);

static void outb(uint16_t port, uint8_t v)
{
	cr_assert_eq(address_space_write(io_as, port, &v, 1), MEMTX_OK);
}

static uint8_t inb(uint16_t port)
{
	uint8_t v = 0xaa;

	cr_assert_eq(address_space_read(io_as, port, &v, 1), MEMTX_OK);
	return v;
}

static void irq(unsigned n, bool level)
{
	irq_set_level(&i8259_inputs(pic)[n], level);
}

static void pulse(unsigned n)
{
	irq_pulse(&i8259_inputs(pic)[n]);
}

/* The output now; the line was told the same. */
static bool out(void)
{
	bool o = i8259_output(pic);

	cr_assert_eq(o, nsaid && said[nsaid - 1], "line told %s, INT is %d",
		     nsaid ? (said[nsaid - 1] ? "high" : "low") : "nothing", o);
	return o;
}

static uint8_t isr(uint16_t cmd)
{
	outb(cmd, READ_ISR);
	return inb(cmd);
}

static uint8_t irr(uint16_t cmd)
{
	outb(cmd, READ_IRR);
	return inb(cmd);
}

/* The cascade initialization Linux and the BIOS do: ICW1 (edge, ICW4
 * follows), vector bases, ICW3 (slave on IR2 / slave ID 2), ICW4. */
static void init_pair(uint8_t mbase, uint8_t sbase, uint8_t icw4)
{
	outb(M_CMD, 0x11);
	outb(M_DATA, mbase);
	outb(M_DATA, 0x04);
	outb(M_DATA, icw4);
	outb(S_CMD, 0x11);
	outb(S_DATA, sbase);
	outb(S_DATA, 0x02);
	outb(S_DATA, icw4);
}

static void init_linux(void)
{
	init_pair(0x20, 0x28, 0x01);
	outb(M_DATA, 0x00);
	outb(S_DATA, 0x00);
}

static char *stats(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	i8259_print_stats(pic, f);
	fclose(f);
	return buf;
}

static bool stats_have(const char *line)
{
	char *s = stats();
	bool found = strstr(s, line);

	if (!found)
		cr_log_error("no \"%s\" in:\n%s", line, s);
	free(s);
	return found;
}

Test(i8259, is_a_device_only_the_board_makes)
{
	cr_assert(object_is_a(&pic->parent_obj, TYPE_DEVICE));
	cr_assert_not(DEVICE_GET_CLASS(pic)->user_creatable);
	cr_assert_not(out());
	cr_assert_eq(nsaid, 0, "a low line is not told at connect");
}

Test(i8259, reset_state_is_ready_unmasked_at_vector_base_0)
{
	cr_assert_eq(inb(M_DATA), 0);
	cr_assert_eq(inb(S_DATA), 0);
	cr_assert_eq(inb(ELCR_M), 0);
	cr_assert_eq(inb(ELCR_S), 0);
	pulse(3);
	cr_assert(out());
	cr_assert_eq(i8259_intack(pic), 3);
	cr_assert_eq(isr(M_CMD), 0x08);
}

Test(i8259, bios_init_masks_then_delivers)
{
	init_pair(0x08, 0x70, 0x01);
	outb(M_DATA, 0xfb);		/* everything but the cascade */
	outb(S_DATA, 0xff);
	cr_assert_eq(inb(M_DATA), 0xfb);
	cr_assert_eq(inb(S_DATA), 0xff);
	pulse(0);
	pulse(8);
	cr_assert_not(out(), "masked");
	cr_assert_eq(irr(M_CMD), 0x01, "IRR shows a masked request");
	cr_assert_eq(irr(S_CMD), 0x01);
	outb(M_DATA, 0xfa);
	cr_assert(out());
	cr_assert_eq(i8259_intack(pic), 0x08);
	cr_assert_eq(isr(M_CMD), 0x01);
	cr_assert_eq(irr(M_CMD), 0x00, "the edge is consumed");
	cr_assert_not(out());
	outb(S_DATA, 0xfe);
	cr_assert_not(out(), "IRQ 8 waits below IRQ 0 in service");
	outb(M_CMD, EOI);
	cr_assert_eq(isr(M_CMD), 0);
	cr_assert(out());
	cr_assert_eq(i8259_intack(pic), 0x70);
}

Test(i8259, linux_remap_and_cascade)
{
	init_linux();
	pulse(1);
	cr_assert(out());
	cr_assert_eq(i8259_intack(pic), 0x21);
	outb(M_CMD, EOI);
	pulse(9);
	cr_assert(out());
	cr_assert_eq(irr(M_CMD), 0x04, "the slave's INT on IR2");
	cr_assert_eq(i8259_intack(pic), 0x29, "IRQ 9: slave base + 1");
	cr_assert_eq(isr(M_CMD), 0x04, "master IR2 in service");
	cr_assert_eq(isr(S_CMD), 0x02);
	cr_assert_eq(irr(M_CMD), 0x00);
	cr_assert_not(out());
	outb(S_CMD, EOI);
	outb(M_CMD, EOI);
	cr_assert_eq(isr(M_CMD), 0);
	cr_assert_eq(isr(S_CMD), 0);
	cr_assert_not(out());
}

Test(i8259, masking_the_cascade_masks_the_slave)
{
	init_linux();
	outb(M_DATA, 0x04);
	pulse(12);
	cr_assert_not(out());
	cr_assert_eq(irr(S_CMD), 0x10);
	outb(M_DATA, 0x00);
	cr_assert(out());
	cr_assert_eq(i8259_intack(pic), 0x2c);
}

Test(i8259, masked_request_waits_in_irr)
{
	init_linux();
	outb(M_DATA, 0x08);
	pulse(3);
	cr_assert_not(out());
	cr_assert_eq(i8259_intack(pic), 0x27, "nothing deliverable: IR7");
	cr_assert_eq(isr(M_CMD), 0);
	cr_assert_eq(irr(M_CMD), 0x08, "still requested");
	outb(M_DATA, 0x00);
	cr_assert(out());
	cr_assert_eq(i8259_intack(pic), 0x23);
}

Test(i8259, fixed_priority_and_nesting)
{
	init_linux();
	pulse(5);
	pulse(7);
	pulse(3);
	cr_assert_eq(i8259_intack(pic), 0x23);
	pulse(0);
	cr_assert(out(), "IRQ 0 outranks IRQ 3 in service");
	cr_assert_eq(i8259_intack(pic), 0x20);
	cr_assert_eq(isr(M_CMD), 0x09);
	cr_assert_not(out(), "5 and 7 wait");
	outb(M_CMD, EOI);		/* ends 0, the highest */
	cr_assert_eq(isr(M_CMD), 0x08);
	cr_assert_not(out());
	outb(M_CMD, EOI);
	cr_assert_eq(i8259_intack(pic), 0x25);
	outb(M_CMD, EOI);
	cr_assert_eq(i8259_intack(pic), 0x27);
	outb(M_CMD, EOI);
	cr_assert_not(out());
	cr_assert_eq(isr(M_CMD), 0);
}

Test(i8259, equal_level_waits_for_its_eoi)
{
	init_linux();
	pulse(4);
	cr_assert_eq(i8259_intack(pic), 0x24);
	pulse(4);
	cr_assert_not(out());
	cr_assert_eq(irr(M_CMD), 0x10);
	outb(M_CMD, EOI);
	cr_assert(out());
}

Test(i8259, specific_eoi_ends_that_level)
{
	init_linux();
	pulse(5);
	cr_assert_eq(i8259_intack(pic), 0x25);
	pulse(3);
	cr_assert_eq(i8259_intack(pic), 0x23);
	cr_assert_eq(isr(M_CMD), 0x28);
	outb(M_CMD, SPECIFIC_EOI | 5);
	cr_assert_eq(isr(M_CMD), 0x08);
	outb(M_CMD, SPECIFIC_EOI | 6);	/* not in service: nothing */
	cr_assert_eq(isr(M_CMD), 0x08);
}

Test(i8259, eoi_with_nothing_in_service_changes_nothing)
{
	init_linux();
	outb(M_CMD, EOI);
	outb(M_CMD, ROTATE_EOI);	/* no level to rotate to the bottom */
	outb(M_CMD, OCW2_NOP);
	pulse(0);
	pulse(7);
	cr_assert_eq(i8259_intack(pic), 0x20, "priority still fixed");
	cr_assert_eq(isr(M_CMD), 0x01);
}

Test(i8259, rotate_on_non_specific_eoi)
{
	init_linux();
	pulse(0);
	cr_assert_eq(i8259_intack(pic), 0x20);
	outb(M_CMD, ROTATE_EOI);	/* 0 becomes the lowest */
	cr_assert_eq(isr(M_CMD), 0);
	pulse(0);
	pulse(4);
	cr_assert_eq(i8259_intack(pic), 0x24);
	outb(M_CMD, ROTATE_EOI);	/* now 4 is the lowest: 5 6 7 0 ... */
	pulse(4);
	cr_assert_eq(i8259_intack(pic), 0x20);
	outb(M_CMD, EOI);
	cr_assert_eq(i8259_intack(pic), 0x24);
}

Test(i8259, rotate_on_specific_eoi)
{
	init_linux();
	pulse(6);
	cr_assert_eq(i8259_intack(pic), 0x26);
	outb(M_CMD, ROTATE_SEOI | 6);	/* 7 highest, 6 lowest */
	cr_assert_eq(isr(M_CMD), 0);
	pulse(6);
	pulse(1);
	pulse(7);
	cr_assert_eq(i8259_intack(pic), 0x27);
	outb(M_CMD, EOI);
	cr_assert_eq(i8259_intack(pic), 0x21);
	outb(M_CMD, EOI);
	cr_assert_eq(i8259_intack(pic), 0x26);
}

Test(i8259, set_priority)
{
	init_linux();
	outb(M_CMD, SET_PRIORITY | 5);	/* 5 lowest: 6 7 0 1 2 3 4 5 */
	pulse(5);
	pulse(0);
	pulse(7);
	cr_assert_eq(i8259_intack(pic), 0x27);
	cr_assert_eq(i8259_intack(pic), 0x27, "0 is below 7 in service: none");
	cr_assert_eq(isr(M_CMD), 0x80, "and a spurious IR7 sets nothing");
	outb(M_CMD, EOI);
	cr_assert_eq(i8259_intack(pic), 0x20);
	outb(M_CMD, EOI);
	cr_assert_eq(i8259_intack(pic), 0x25);
	/* A non-specific EOI ends the highest in rotated order. */
	pulse(6);
	cr_assert_eq(i8259_intack(pic), 0x26, "6 outranks 5 in service");
	outb(M_CMD, EOI);
	cr_assert_eq(isr(M_CMD), 0x20);
}

Test(i8259, auto_eoi_sets_no_isr_bit)
{
	init_pair(0x20, 0x28, 0x03);
	pulse(4);
	pulse(3);
	cr_assert_eq(i8259_intack(pic), 0x23);
	cr_assert_eq(isr(M_CMD), 0);
	cr_assert(out(), "4 follows at once");
	cr_assert_eq(i8259_intack(pic), 0x24);
	cr_assert_not(out());
	pulse(3);
	cr_assert_eq(i8259_intack(pic), 0x23, "no rotation by default");
}

Test(i8259, rotate_in_auto_eoi_mode)
{
	init_pair(0x20, 0x28, 0x03);
	outb(M_CMD, ROTATE_AEOI_ON);
	pulse(0);
	cr_assert_eq(i8259_intack(pic), 0x20);	/* 0 becomes the lowest */
	pulse(0);
	pulse(1);
	cr_assert_eq(i8259_intack(pic), 0x21);	/* now 1 is the lowest */
	pulse(1);
	cr_assert_eq(i8259_intack(pic), 0x20);
	cr_assert_eq(i8259_intack(pic), 0x21);	/* 1 is the lowest again */
	outb(M_CMD, ROTATE_AEOI_OFF);
	pulse(3);
	cr_assert_eq(i8259_intack(pic), 0x23);
	pulse(3);
	pulse(1);
	cr_assert_eq(i8259_intack(pic), 0x23, "no rotation: 2 is still the highest");
}

Test(i8259, special_mask_mode)
{
	init_linux();
	pulse(3);
	cr_assert_eq(i8259_intack(pic), 0x23);
	outb(M_DATA, 0x08);		/* the handler masks its own level */
	pulse(5);
	cr_assert_not(out(), "3 in service blocks 5");
	outb(M_CMD, SMM_ON);
	cr_assert(out(), "a masked level in service blocks nothing");
	cr_assert_eq(i8259_intack(pic), 0x25);
	pulse(6);
	cr_assert_not(out(), "5 is in service and unmasked: it blocks 6");
	outb(M_CMD, SPECIFIC_EOI | 5);
	cr_assert(out());
	outb(M_CMD, SMM_OFF);
	cr_assert_not(out(), "3 blocks again");
	outb(M_CMD, 0x28);		/* OCW3 without ESMM: no change */
	cr_assert_not(out());
	outb(M_CMD, SPECIFIC_EOI | 3);
	cr_assert(out());
	cr_assert_eq(i8259_intack(pic), 0x26);
}

Test(i8259, poll_command)
{
	init_linux();
	outb(M_DATA, 0xff);		/* polling guests mask everything */
	outb(M_CMD, POLL);
	cr_assert_eq(inb(M_CMD), 0x00, "no request: bit 7 clear");
	cr_assert_eq(inb(M_DATA), 0xff, "one read only, then the IMR again");
	outb(M_DATA, 0x00);
	pulse(4);
	pulse(6);
	outb(M_CMD, POLL);
	cr_assert_eq(inb(M_CMD), 0x84);
	cr_assert_eq(isr(M_CMD), 0x10, "a poll is an INTA");
	cr_assert_eq(irr(M_CMD), 0x40);
	outb(M_CMD, EOI);
	outb(M_CMD, POLL);
	cr_assert_eq(inb(M_DATA), 0x86, "either port answers a poll");
	cr_assert_eq(irr(M_CMD), 0);
}

Test(i8259, poll_on_the_master_sees_the_cascade)
{
	init_linux();
	pulse(10);
	outb(M_CMD, POLL);
	cr_assert_eq(inb(M_CMD), 0x82);
	outb(S_CMD, POLL);
	cr_assert_eq(inb(S_CMD), 0x82);
	cr_assert_eq(isr(M_CMD), 0x04);
	cr_assert_eq(isr(S_CMD), 0x04);
}

Test(i8259, irr_isr_read_selection)
{
	init_linux();
	pulse(1);
	pulse(5);
	cr_assert_eq(i8259_intack(pic), 0x21);
	cr_assert_eq(inb(M_CMD), 0x20, "IRR after ICW1");
	outb(M_CMD, READ_ISR);
	cr_assert_eq(inb(M_CMD), 0x02);
	outb(M_CMD, 0x08);		/* RR clear: the selection stays */
	cr_assert_eq(inb(M_CMD), 0x02);
	outb(M_CMD, READ_IRR);
	cr_assert_eq(inb(M_CMD), 0x20);
	cr_assert_eq(inb(M_DATA), 0x00, "the data port reads the IMR");
}

Test(i8259, elcr_bits_that_cannot_be_level_read_0)
{
	outb(ELCR_M, 0xff);
	outb(ELCR_S, 0xff);
	cr_assert_eq(inb(ELCR_M), 0xf8);
	cr_assert_eq(inb(ELCR_S), 0xde);
	outb(ELCR_S, 0x23);
	cr_assert_eq(inb(ELCR_S), 0x02);
	cr_assert_eq(inb(ELCR_M), 0xf8);
}

Test(i8259, elcr_level_triggered_input)
{
	init_linux();
	outb(ELCR_S, 0x08);		/* IRQ 11 level */
	irq(11, true);
	cr_assert(out());
	cr_assert_eq(i8259_intack(pic), 0x2b);
	cr_assert_eq(irr(S_CMD), 0x08, "the pin is still high");
	outb(S_CMD, EOI);
	outb(M_CMD, EOI);
	cr_assert(out(), "still requested after EOI");
	cr_assert_eq(i8259_intack(pic), 0x2b);
	irq(11, false);
	cr_assert_eq(irr(S_CMD), 0);
	outb(S_CMD, EOI);
	outb(M_CMD, EOI);
	cr_assert_not(out());
	/* Back to edge: a pin held high requests once. */
	outb(ELCR_S, 0x00);
	irq(11, true);
	cr_assert_eq(i8259_intack(pic), 0x2b);
	outb(S_CMD, EOI);
	outb(M_CMD, EOI);
	cr_assert_not(out());
	irq(11, false);
	irq(11, true);
	cr_assert(out(), "a new edge");
}

Test(i8259, elcr_change_takes_effect_at_once)
{
	init_linux();
	irq(5, true);
	cr_assert_eq(i8259_intack(pic), 0x25);
	outb(M_CMD, EOI);
	cr_assert_not(out());
	outb(ELCR_M, 0x20);		/* level now: the high pin requests */
	cr_assert(out());
	outb(ELCR_M, 0x00);
	cr_assert_not(out(), "edge: that edge was taken");
}

Test(i8259, ltim_makes_every_input_level_triggered)
{
	outb(M_CMD, 0x19);		/* ICW1 with LTIM */
	outb(M_DATA, 0x20);
	outb(M_DATA, 0x04);
	outb(M_DATA, 0x01);
	irq(0, true);			/* ELCR cannot make IRQ 0 level */
	cr_assert_eq(i8259_intack(pic), 0x20);
	outb(M_CMD, EOI);
	cr_assert(out());
	irq(0, false);
	cr_assert_not(out());
	cr_assert_eq(i8259_intack(pic), 0x27);
	outb(M_CMD, 0x11);		/* ICW1 without: edge again */
	outb(M_DATA, 0x20);
	outb(M_DATA, 0x04);
	outb(M_DATA, 0x01);
	irq(0, true);
	cr_assert_eq(i8259_intack(pic), 0x20);
	outb(M_CMD, EOI);
	cr_assert_not(out());
}

Test(i8259, spurious_irq7_when_the_request_goes_away)
{
	init_linux();
	outb(ELCR_M, 0x10);
	irq(4, true);
	cr_assert(out());
	irq(4, false);			/* before the CPU acknowledged */
	cr_assert_not(out());
	cr_assert_eq(i8259_intack(pic), 0x27);
	cr_assert_eq(isr(M_CMD), 0, "no ISR bit for a spurious IR7");
	cr_assert(stats_have("i8259: 1 spurious IRQ 7, 0 spurious IRQ 15\n"));
}

Test(i8259, spurious_irq15_leaves_master_ir2_in_service)
{
	init_linux();
	outb(ELCR_S, 0x04);		/* IRQ 10 level */
	irq(10, true);
	cr_assert(out());
	irq(10, false);
	cr_assert(out(), "the master latched the slave's edge on IR2");
	cr_assert_eq(i8259_intack(pic), 0x2f);
	cr_assert_eq(isr(S_CMD), 0);
	cr_assert_eq(isr(M_CMD), 0x04, "the guest must EOI the master");
	cr_assert_not(out());
	outb(M_CMD, EOI);
	cr_assert_eq(isr(M_CMD), 0);
	/* The same with an edge request masked before INTA. */
	pulse(13);
	outb(S_DATA, 0x20);
	cr_assert(out());
	cr_assert_eq(i8259_intack(pic), 0x2f);
	cr_assert(stats_have("i8259: 0 spurious IRQ 7, 2 spurious IRQ 15\n"));
}

Test(i8259, intack_with_nothing_pending)
{
	init_pair(0x08, 0x70, 0x01);
	cr_assert_eq(i8259_intack(pic), 0x0f);
	cr_assert_eq(isr(M_CMD), 0);
	cr_assert_eq(isr(S_CMD), 0);
	cr_assert_eq(nsaid, 0);
}

Test(i8259, output_line_told_only_of_changes)
{
	init_linux();
	pulse(0);
	pulse(1);
	irq(6, true);
	cr_assert_eq(nsaid, 1);
	cr_assert(said[0]);
	cr_assert_eq(i8259_intack(pic), 0x20);
	cr_assert_eq(nsaid, 2, "1 and 6 are below 0 in service");
	cr_assert_not(said[1]);
	outb(M_CMD, EOI);
	cr_assert_eq(nsaid, 3);
	cr_assert(said[2]);
	outb(M_DATA, 0x02);
	cr_assert_eq(nsaid, 3, "6 still requests");
	outb(M_DATA, 0x42);
	cr_assert_eq(nsaid, 4);
	cr_assert_not(said[3]);
	cr_assert_not(out());
}

Test(i8259, special_fully_nested_mode)
{
	init_pair(0x20, 0x28, 0x11);	/* SFNM; on the slave it changes nothing */
	pulse(12);
	cr_assert_eq(i8259_intack(pic), 0x2c);
	pulse(9);
	cr_assert(out(), "a higher slave request nests under IR2 in service");
	cr_assert_eq(i8259_intack(pic), 0x29);
	cr_assert_eq(isr(S_CMD), 0x12);
	pulse(14);
	cr_assert_not(out(), "the slave holds a lower one back");
}

Test(i8259, fully_nested_mode_holds_the_slave_back)
{
	init_linux();
	pulse(12);
	cr_assert_eq(i8259_intack(pic), 0x2c);
	pulse(9);
	cr_assert_not(out(), "IR2 in service blocks IR2");
	outb(M_CMD, EOI);
	cr_assert(out());
	cr_assert_eq(i8259_intack(pic), 0x29);
}

Test(i8259, init_sequence_lengths)
{
	outb(M_CMD, 0x13);		/* single, ICW4: no ICW3 */
	outb(M_DATA, 0x40);
	outb(M_DATA, 0x03);		/* ICW4: AEOI */
	outb(M_DATA, 0xa5);
	cr_assert_eq(inb(M_DATA), 0xa5);
	pulse(3);
	cr_assert_eq(i8259_intack(pic), 0x43);
	cr_assert_eq(isr(M_CMD), 0, "ICW4 was taken");

	outb(M_CMD, 0x10);		/* cascade, no ICW4: ICW2, ICW3 */
	outb(M_DATA, 0x48);
	outb(M_DATA, 0x04);
	outb(M_DATA, 0x33);
	cr_assert_eq(inb(M_DATA), 0x33);
	outb(M_DATA, 0x00);
	pulse(3);
	cr_assert_eq(i8259_intack(pic), 0x4b);
	cr_assert_eq(isr(M_CMD), 0x08, "no ICW4: no AEOI");

	outb(M_CMD, 0x12);		/* single, no ICW4: ICW2 only */
	outb(M_DATA, 0x57);		/* bits 2:0 are not the base */
	outb(M_DATA, 0x77);
	cr_assert_eq(inb(M_DATA), 0x77);
	outb(M_DATA, 0x00);
	pulse(1);
	cr_assert_eq(i8259_intack(pic), 0x51);
}

Test(i8259, icw1_resets_the_chip)
{
	init_linux();
	outb(ELCR_M, 0x20);
	irq(5, true);			/* level, stays high */
	irq(6, true);			/* edge, stays high */
	pulse(7);
	cr_assert_eq(i8259_intack(pic), 0x25);
	outb(M_CMD, ROTATE_SEOI | 3);
	outb(M_CMD, SMM_ON);
	outb(M_CMD, READ_ISR);
	outb(M_DATA, 0x01);
	outb(M_CMD, POLL);

	outb(M_CMD, 0x11);
	cr_assert_eq(inb(M_CMD), 0x20, "IRR selected, poll off: the level pin only");
	outb(M_DATA, 0x30);
	outb(M_DATA, 0x04);
	outb(M_DATA, 0x01);
	cr_assert_eq(inb(M_DATA), 0x00, "IMR cleared");
	cr_assert_eq(isr(M_CMD), 0x00);
	cr_assert_eq(inb(ELCR_M), 0x20, "the ELCR is not the 8259's");
	pulse(0);
	cr_assert_eq(i8259_intack(pic), 0x30, "fixed priority again");
	outb(M_DATA, 0x01);
	cr_assert_not(out(), "special mask mode off: 0 in service blocks 5");
	outb(M_DATA, 0x00);
	outb(M_CMD, EOI);
	cr_assert_eq(i8259_intack(pic), 0x35, "6 and 7 need new edges");
	irq(6, false);
	irq(6, true);
	pulse(4);
	outb(M_CMD, EOI);
	cr_assert_eq(i8259_intack(pic), 0x34);
}

Test(i8259, word_access_reaches_both_ports)
{
	uint16_t w = 0xfb11;	/* ICW1 to 0x20, then 0xfb to 0x21 as ICW2 */
	uint16_t r = 0;

	cr_assert_eq(address_space_write(io_as, M_CMD, &w, 2), MEMTX_OK);
	outb(M_DATA, 0x04);
	outb(M_DATA, 0x01);
	pulse(1);
	cr_assert_eq(i8259_intack(pic), 0xf9);
	w = 0xf8f8;
	cr_assert_eq(address_space_write(io_as, ELCR_M, &w, 2), MEMTX_OK);
	cr_assert_eq(address_space_read(io_as, ELCR_M, &r, 2), MEMTX_OK);
	cr_assert_eq(r, 0xd8f8);
}

Test(i8259, connect_when_already_high_raises_the_new_line)
{
	pulse(0);
	cr_assert(out());
	nsaid = 0;
	i8259_connect_output(pic, (struct irq_line){ record, &nsaid, 7 });
	cr_assert_eq(nsaid, 1);
	cr_assert(said[0]);
}

Test(i8259, input_2_is_the_cascade_and_ignored)
{
	init_linux();
	irq(2, true);
	irq(2, false);
	cr_assert_not(out());
	cr_assert_eq(irr(M_CMD), 0);
}

Test(i8259, stats_count_edges_and_acks)
{
	char *s;

	init_linux();
	irq(1, true);
	irq(1, true);			/* no edge */
	irq(1, false);
	pulse(1);
	cr_assert_eq(i8259_intack(pic), 0x21);
	outb(M_CMD, EOI);
	pulse(9);
	cr_assert_eq(i8259_intack(pic), 0x29);
	s = stats();
	cr_assert(strstr(s, "i8259 irq 1: 2 raised, 1 acknowledged\n"), "%s", s);
	cr_assert(strstr(s, "i8259 irq 2: 1 raised, 0 acknowledged\n"), "%s", s);
	cr_assert(strstr(s, "i8259 irq 9: 1 raised, 1 acknowledged\n"), "%s", s);
	cr_assert_null(strstr(s, "irq 0:"), "%s", s);
	free(s);
}

/* Device threads drive inputs while a vCPU acknowledges: the output line
 * hears strictly alternating levels (it is told under the lock), and the
 * last one is the output. */
static bool last_told, repeated;
static unsigned long changes;

static void count_changes(void *opaque, unsigned n, bool level)
{
	(void)opaque; (void)n;
	if (changes && level == last_told)
		repeated = true;
	last_told = level;
	changes++;
}

static void *pulser(void *arg)
{
	unsigned n = *(unsigned *)arg;

	for (int i = 0; i < 20000; i++)
		pulse(n);
	return NULL;
}

Test(i8259, threads_drive_inputs_while_a_vcpu_acknowledges)
{
	unsigned irqs[2] = { 3, 11 };
	pthread_t t[2];
	unsigned acked[2] = { 0, 0 };
	char line[64];

	init_linux();
	i8259_connect_output(pic, (struct irq_line){ count_changes, NULL, 0 });
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, pulser, &irqs[i]), 0);
	for (int i = 0; i < 20000; i++) {
		int v = i8259_intack(pic);

		cr_assert(v == 0x23 || v == 0x2b || v == 0x27, "vector %#x", v);
		if (v == 0x2b)
			outb(S_CMD, EOI);
		if (v != 0x27)
			outb(M_CMD, EOI);
		acked[0] += v == 0x23;
		acked[1] += v == 0x2b;
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	cr_assert_not(repeated);
	cr_assert_eq(i8259_output(pic), changes && last_told);
	snprintf(line, sizeof(line), "i8259 irq 3: 20000 raised, %u acknowledged\n",
		 acked[0]);
	cr_assert(stats_have(line));
	snprintf(line, sizeof(line), "i8259 irq 11: 20000 raised, %u acknowledged\n",
		 acked[1]);
	cr_assert(stats_have(line));
}
