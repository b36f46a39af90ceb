/* The PC's legacy control ports: 0x80 (POST code), 0x92 (A20, fast
 * reset), 0x61 (refresh toggle, PIT channel 2 gate) and the 8042 at
 * 0x60/0x64. Each device realized into a bare I/O space with a fake clock,
 * recorded system events and a recorded IRQ line. */
#include <criterion/criterion.h>

#include "devices/device.h"
#include "devices/error.h"
#include "devices/input/i8042.h"
#include "devices/irq.h"
#include "devices/misc/port61.h"
#include "devices/misc/port80.h"
#include "devices/misc/port92.h"
#include "memory/address_space.h"
#include "memory/region.h"
#include "fake_clock.h"

static struct memory_region io_root;
static struct address_space *io_as;
static struct object *root;
static struct fake_clock fclock;
static struct device_env env;
static unsigned resets, other_events;
static struct irq_line isa_irq[ISA_NUM_IRQS];
static bool irq1_level;
static unsigned irq1_raised;	/* low → high transitions */

static void on_system_event(void *host, enum system_event ev)
{
	cr_assert_eq(host, &env);
	if (ev == SYSTEM_RESET)
		resets++;
	else
		other_events++;
}

static void on_irq(void *opaque, unsigned n, bool level)
{
	(void)opaque;
	cr_assert_eq(n, I8042_IRQ, "only IRQ 1 may move, not %u", n);
	irq1_raised += level && !irq1_level;
	irq1_level = level;
}

static void setup(void)
{
	memory_region_init_container(&io_root, "io", 0x10000);
	io_as = address_space_new("io", &io_root);
	root = object_new(TYPE_CONTAINER);
	fake_clock_init(&fclock, 0, 0);
	for (unsigned i = 0; i < ISA_NUM_IRQS; i++)
		isa_irq[i] = (struct irq_line){ .handler = on_irq, .n = i };
	env = (struct device_env){
		.io_space = &io_root, .clock = &fclock.clock, .isa_irq = isa_irq,
		.system_event = on_system_event, .host = &env,
	};
	resets = other_events = irq1_raised = 0;
	irq1_level = false;
}

static void teardown(void)
{
	object_free(root);		/* unrealizes: unmaps */
	address_space_destroy(io_as);
	cr_assert_eq(other_events, 0, "only resets are asked for");
}

TestSuite(legacy_ports, .init = setup, .fini = teardown);

/* The board's way: the types are not user-creatable. */
static struct device *mk(const char *type)
{
	struct object *obj = object_new(type);
	struct error err = { 0 };

	cr_assert_not_null(obj, "%s", type);
	object_add_child(root, type, obj);
	cr_assert_eq(device_realize((struct device *)obj, &env, &err), 0, "%s", type);
	return (struct device *)obj;
}

static void outb(uint16_t port, uint8_t v)
{
	cr_assert_eq(address_space_write(io_as, port, &v, 1), MEMTX_OK, "port %#x", port);
}

static uint8_t inb(uint16_t port)
{
	uint8_t v = 0;

	cr_assert_eq(address_space_read(io_as, port, &v, 1), MEMTX_OK, "port %#x", port);
	return v;
}

/* ---- port 0x80 ---- */

Test(legacy_ports, port80_absorbs_writes_and_reads_ones)
{
	uint16_t w = 0;

	mk(TYPE_PORT80);
	for (unsigned i = 0; i < 256; i++)
		outb(0x80, (uint8_t)i);
	cr_assert_eq(inb(0x80), 0xff);
	address_space_read(io_as, 0x80, &w, 2);
	cr_assert_eq(w, 0xffff);
	cr_assert_eq(resets, 0);
}

Test(legacy_ports, port80_unmapped_on_unrealize)
{
	struct device *d = mk(TYPE_PORT80);
	uint8_t v = 0;

	object_free((struct object *)d);
	cr_assert_eq(address_space_read(io_as, 0x80, &v, 1), MEMTX_DECODE_ERROR);
}

/* ---- port 0x92 ---- */

Test(legacy_ports, port92_a20_reads_back)
{
	mk(TYPE_PORT92);
	cr_assert_eq(inb(0x92), PORT92_A20, "A20 on at first, as firmware leaves it");
	outb(0x92, 0x00);
	cr_assert_eq(inb(0x92), 0x00);
	outb(0x92, 0xfe);			/* reserved bits 7:2 read 0 */
	cr_assert_eq(inb(0x92), PORT92_A20);
	cr_assert_eq(resets, 0);
}

Test(legacy_ports, port92_bit0_rising_edge_resets)
{
	mk(TYPE_PORT92);
	outb(0x92, PORT92_A20 | PORT92_RESET);
	cr_assert_eq(resets, 1);
	cr_assert_eq(inb(0x92), PORT92_A20 | PORT92_RESET);
	outb(0x92, PORT92_RESET);		/* still 1: no edge */
	cr_assert_eq(resets, 1);
	outb(0x92, 0);
	outb(0x92, 0xff);
	cr_assert_eq(resets, 2);
}

Test(legacy_ports, resets_without_a_machine_do_nothing)
{
	env.system_event = NULL;
	mk(TYPE_PORT92);
	mk(TYPE_I8042);
	outb(0x92, 0xff);
	outb(0x64, 0xfe);
	cr_assert_eq(inb(0x92), PORT92_A20 | PORT92_RESET);
}

/* ---- port 0x61 ---- */

static bool refresh(void)
{
	return inb(0x61) & PORT61_REFRESH;
}

/* The PIT's 1193182 Hz over 18: 66288 toggles a second, 15.085 us each. */
Test(legacy_ports, port61_refresh_toggles_every_15085_ns)
{
	mk(TYPE_PORT61);
	cr_assert_not(refresh());
	fclock.now = 15085;
	cr_assert_not(refresh());
	fclock.now = 15086;
	cr_assert(refresh());
	fclock.now = 30171;
	cr_assert(refresh());
	fclock.now = 30172;
	cr_assert_not(refresh());
	/* Reading does not move it: only time does. */
	cr_assert_not(refresh());
}

Test(legacy_ports, port61_refresh_rate_over_a_millisecond)
{
	unsigned toggles = 0;
	bool last;

	mk(TYPE_PORT61);
	last = refresh();
	for (unsigned us = 1; us <= 1000; us++) {
		fake_clock_advance(&fclock, 1000);
		toggles += refresh() != last;
		last = refresh();
	}
	cr_assert_eq(toggles, 66);		/* 1193.182 counts / 18 */
}

Test(legacy_ports, port61_without_clock_reads_no_refresh)
{
	env.clock = NULL;
	mk(TYPE_PORT61);
	cr_assert_eq(inb(0x61), 0);
}

Test(legacy_ports, port61_writable_bits)
{
	mk(TYPE_PORT61);
	outb(0x61, 0xff);			/* bits 7:4 are read-only */
	cr_assert_eq(inb(0x61), 0x0f);
	outb(0x61, PORT61_SPEAKER);
	cr_assert_eq(inb(0x61), PORT61_SPEAKER);
	cr_assert_eq(resets, 0);
}

struct fake_pit {
	bool out;
	bool gate;
	unsigned gate_calls;
};

static void pit_set_gate(void *opaque, bool level)
{
	struct fake_pit *p = opaque;

	p->gate = level;
	p->gate_calls++;
}

static bool pit_output(void *opaque)
{
	return ((struct fake_pit *)opaque)->out;
}

Test(legacy_ports, port61_pit_channel2_hook)
{
	struct fake_pit pit = { 0 };
	struct device *d = mk(TYPE_PORT61);

	outb(0x61, PORT61_GATE2);		/* nothing connected yet */
	cr_assert_eq(inb(0x61) & PORT61_OUT2, 0);
	port61_connect_pit(d, &(struct port61_pit){
		.set_gate = pit_set_gate, .output = pit_output, .opaque = &pit });
	cr_assert(pit.gate, "the PIT learns the gate set before it came");
	cr_assert_eq(pit.gate_calls, 1);
	pit.out = true;
	cr_assert_eq(inb(0x61), PORT61_GATE2 | PORT61_OUT2);
	outb(0x61, PORT61_GATE2 | PORT61_SPEAKER);	/* gate unchanged: no call */
	cr_assert_eq(pit.gate_calls, 1);
	outb(0x61, PORT61_SPEAKER);
	cr_assert_not(pit.gate);
	cr_assert_eq(pit.gate_calls, 2);
	outb(0x61, PORT61_GATE2);
	cr_assert(pit.gate);
	cr_assert_eq(pit.gate_calls, 3);
	pit.out = false;
	cr_assert_eq(inb(0x61), PORT61_GATE2);
	port61_connect_pit(d, NULL);
	pit.out = true;
	cr_assert_eq(inb(0x61) & PORT61_OUT2, 0);
	outb(0x61, 0);
	cr_assert_eq(pit.gate_calls, 3);
}

/* ---- the 8042 ---- */

#define ST_OBF	0x01
#define ST_CMD	0x08

static uint8_t kbc_cmd(uint8_t cmd)
{
	outb(0x64, cmd);
	cr_assert(inb(0x64) & ST_OBF, "command %#x has a result", cmd);
	return inb(0x60);
}

Test(legacy_ports, i8042_state_as_qemu_pc_shows_it)
{
	mk(TYPE_I8042);
	cr_assert_eq(inb(0x64), 0x1c);		/* SYS, CMD, not inhibited */
	cr_assert_eq(kbc_cmd(0x20), 0x61);	/* command byte */
	cr_assert_eq(kbc_cmd(0xd0), 0xcf);	/* output port */
	cr_assert_eq(kbc_cmd(0xc0), 0x80);	/* input port */
}

Test(legacy_ports, i8042_output_buffer_read_once)
{
	mk(TYPE_I8042);
	outb(0x64, 0xaa);
	cr_assert_eq(inb(0x64), 0x1c | ST_OBF);
	cr_assert_eq(inb(0x60), 0x55);
	cr_assert_eq(inb(0x64), 0x1c, "reading the data port empties it");
	cr_assert_eq(inb(0x60), 0x55, "an empty buffer reads its last byte");
}

Test(legacy_ports, i8042_self_and_interface_tests)
{
	mk(TYPE_I8042);
	cr_assert_eq(kbc_cmd(0xaa), 0x55);
	cr_assert_eq(kbc_cmd(0xab), 0x00);
	cr_assert_eq(kbc_cmd(0xa9), 0x00);
	cr_assert_eq(resets, 0);
}

Test(legacy_ports, i8042_command_byte_write_and_port_enables)
{
	mk(TYPE_I8042);
	outb(0x64, 0x60);
	outb(0x60, 0x00);
	cr_assert_eq(inb(0x64), 0x1c & ~ST_CMD, "last write was data");
	cr_assert_eq(kbc_cmd(0x20), 0x00);
	outb(0x64, 0xad);
	cr_assert_eq(kbc_cmd(0x20), 0x10);
	outb(0x64, 0xa7);
	cr_assert_eq(kbc_cmd(0x20), 0x30);
	outb(0x64, 0xae);
	cr_assert_eq(kbc_cmd(0x20), 0x20);
	outb(0x64, 0xa8);
	cr_assert_eq(kbc_cmd(0x20), 0x00);
	cr_assert_eq(inb(0x64), 0x1c, "SYS is not the command byte's bit 2");
}

/* Bytes for the keyboard (there is none) go nowhere; a new command drops
 * a pending parameter. */
Test(legacy_ports, i8042_data_without_command_and_cancelled_parameter)
{
	mk(TYPE_I8042);
	outb(0x60, 0xff);			/* keyboard reset: no answer */
	outb(0x60, 0xf2);			/* identify: no answer */
	cr_assert_eq(inb(0x64) & ST_OBF, 0);
	outb(0x64, 0x60);
	outb(0x64, 0xa7);			/* bit 5 is already set */
	outb(0x60, 0x00);
	cr_assert_eq(kbc_cmd(0x20), 0x61);
	outb(0x64, 0xd1);
	outb(0x64, 0xa7);
	outb(0x60, 0x00);			/* not the output port any more */
	cr_assert_eq(resets, 0);
}

Test(legacy_ports, i8042_write_keyboard_output_buffer)
{
	mk(TYPE_I8042);
	outb(0x64, 0xd2);
	outb(0x60, 0x42);
	cr_assert_eq(inb(0x64) & ST_OBF, ST_OBF);
	cr_assert_eq(inb(0x60), 0x42);
}

Test(legacy_ports, i8042_unknown_commands_ignored)
{
	mk(TYPE_I8042);
	outb(0x64, 0xe0);
	outb(0x64, 0x21);
	outb(0x64, 0xd4);
	cr_assert_eq(inb(0x64), 0x1c);
	cr_assert_eq(kbc_cmd(0x20), 0x61, "nothing changed");
	cr_assert_eq(resets, 0);
}

Test(legacy_ports, i8042_output_port_write_resets_on_bit0_clear)
{
	mk(TYPE_I8042);
	outb(0x64, 0xd1);
	outb(0x60, 0x01);			/* A20 off, reset line high */
	cr_assert_eq(resets, 0);
	cr_assert_eq(kbc_cmd(0xd0), 0x01);
	outb(0x64, 0xd1);
	outb(0x60, 0xfe);
	cr_assert_eq(resets, 1);
}

Test(legacy_ports, i8042_pulse_commands)
{
	mk(TYPE_I8042);
	for (unsigned cmd = 0xf0; cmd <= 0xff; cmd++)
		outb(0x64, (uint8_t)cmd);
	cr_assert_eq(resets, 8, "the eight with bit 0 clear pulse reset");
	cr_assert_eq(inb(0x64) & ST_OBF, 0);
	outb(0x64, 0xfe);
	cr_assert_eq(resets, 9);
}

Test(legacy_ports, i8042_irq1_follows_output_buffer)
{
	mk(TYPE_I8042);
	outb(0x64, 0x20);			/* command byte 0x61: IRQ 1 on */
	cr_assert(irq1_level);
	inb(0x60);
	cr_assert_not(irq1_level);
	outb(0x64, 0x60);
	outb(0x60, 0x60);			/* interrupts off */
	outb(0x64, 0xaa);
	cr_assert_not(irq1_level);
	outb(0x64, 0x60);			/* on again, a byte still waiting */
	outb(0x60, 0x61);
	cr_assert(irq1_level);
	cr_assert_eq(irq1_raised, 2);
	cr_assert_eq(inb(0x60), 0x55);
	cr_assert_not(irq1_level);
}

Test(legacy_ports, i8042_without_irq_lines)
{
	env.isa_irq = NULL;
	mk(TYPE_I8042);
	cr_assert_eq(kbc_cmd(0x20), 0x61);
}

/* All four together, as the board lays them out: 0x61 sits between the
 * 8042's two ports, and a wide access is cut into each device's byte. */
Test(legacy_ports, all_together_wide_accesses)
{
	uint32_t v = 0;

	mk(TYPE_PORT80);
	mk(TYPE_PORT92);
	mk(TYPE_PORT61);
	mk(TYPE_I8042);
	address_space_read(io_as, 0x61, &v, 4);
	cr_assert_eq(v, 0x1cffff00, "port61 0, 0x62-0x63 unassigned, status 0x1c");
	v = 0xffffffff;
	address_space_write(io_as, 0x61, &v, 4);	/* 0xff to 0x64: no pulse */
	cr_assert_eq(resets, 0);
	cr_assert_eq(inb(0x61), 0x0f);
	address_space_write(io_as, 0x8f, &v, 4);	/* reaches 0x92 */
	cr_assert_eq(resets, 1);
}
