#include "devices/input/i8042.h"

#include <pthread.h>
#include <stdio.h>

#include "devices/device.h"
#include "devices/irq.h"
#include "memory/region.h"

#define STAT_OBF	0x01	/* output buffer full */
#define STAT_SYS	0x04	/* system flag: self-test passed */
#define STAT_CMD	0x08	/* the last write went to the command port */
#define STAT_UNLOCKED	0x10	/* keyboard not inhibited */

#define CTR_KBD_INT	0x01
#define CTR_KBD_DISABLE	0x10
#define CTR_AUX_DISABLE	0x20

#define OUT_RESET	0x01	/* the CPU reset line, active low */

enum {
	CMD_READ_CTR = 0x20, CMD_WRITE_CTR = 0x60,
	CMD_AUX_DISABLE = 0xa7, CMD_AUX_ENABLE = 0xa8, CMD_AUX_TEST = 0xa9,
	CMD_SELF_TEST = 0xaa, CMD_KBD_TEST = 0xab,
	CMD_KBD_DISABLE = 0xad, CMD_KBD_ENABLE = 0xae,
	CMD_READ_INPUT = 0xc0, CMD_READ_OUTPUT = 0xd0, CMD_WRITE_OUTPUT = 0xd1,
	CMD_WRITE_KBD_OBUF = 0xd2, CMD_PULSE = 0xf0,
};

#define SELF_TEST_OK	0x55
#define PORT_TEST_OK	0x00
#define INPUT_PORT	0x80	/* keyboard not inhibited */

struct i8042 {
	struct device parent_obj;
	struct memory_region data_io, cmd_io;
	pthread_mutex_t lock;	/* every field below */
	uint8_t status;		/* STAT_SYS | STAT_CMD | STAT_UNLOCKED; OBF */
	uint8_t ctr;		/* the command byte */
	uint8_t outport;
	uint8_t obuf;		/* the output buffer; kept once read */
	uint8_t pending;	/* the command waiting for its data byte, 0: none */
	bool reset;		/* a write asked for a reset: act after unlock */
	bool unknown_logged;
};

/* IRQ 1 follows OBF while the command byte enables it (lock held; lock
 * order: i8042 → interrupt controller). */
static void i8042_update_irq(struct i8042 *s)
{
	const struct irq_line *irq = s->parent_obj.env->isa_irq;

	if (irq)
		irq_set_level(&irq[I8042_IRQ],
			      (s->status & STAT_OBF) && (s->ctr & CTR_KBD_INT));
}

static void i8042_output(struct i8042 *s, uint8_t v)
{
	s->obuf = v;
	s->status |= STAT_OBF;
	i8042_update_irq(s);
}

static void i8042_write_outport(struct i8042 *s, uint8_t v)
{
	s->outport = v;
	if (!(v & OUT_RESET))
		s->reset = true;
}

/* Commands that take no data byte; false if @cmd is not one we know. */
static bool i8042_simple_command(struct i8042 *s, uint8_t cmd)
{
	switch (cmd) {
	case CMD_READ_CTR:	i8042_output(s, s->ctr); break;
	case CMD_AUX_DISABLE:	s->ctr |= CTR_AUX_DISABLE; break;
	case CMD_AUX_ENABLE:	s->ctr &= ~CTR_AUX_DISABLE; break;
	case CMD_KBD_DISABLE:	s->ctr |= CTR_KBD_DISABLE; break;
	case CMD_KBD_ENABLE:	s->ctr &= ~CTR_KBD_DISABLE; break;
	case CMD_AUX_TEST:
	case CMD_KBD_TEST:	i8042_output(s, PORT_TEST_OK); break;
	case CMD_SELF_TEST:
		s->status |= STAT_SYS;
		i8042_output(s, SELF_TEST_OK);
		break;
	case CMD_READ_INPUT:	i8042_output(s, INPUT_PORT); break;
	case CMD_READ_OUTPUT:	i8042_output(s, s->outport); break;
	default:
		return false;
	}
	return true;
}

static void i8042_command(struct i8042 *s, uint8_t cmd)
{
	s->status |= STAT_CMD;
	s->pending = 0;
	if (cmd >= CMD_PULSE) {
		/* Pulses the output port lines whose bit in @cmd is 0. */
		if (!(cmd & OUT_RESET))
			s->reset = true;
	} else if (cmd == CMD_WRITE_CTR || cmd == CMD_WRITE_OUTPUT ||
		   cmd == CMD_WRITE_KBD_OBUF) {
		s->pending = cmd;
	} else if (!i8042_simple_command(s, cmd) && !s->unknown_logged) {
		s->unknown_logged = true;
		fprintf(stderr, "tinyvmm: i8042: command %#x not supported, "
			"ignored (logged once)\n", cmd);
	}
}

/* A data byte: the parameter of a pending command, else meant for the
 * keyboard, which is not there. */
static void i8042_data(struct i8042 *s, uint8_t v)
{
	s->status &= ~STAT_CMD;
	switch (s->pending) {
	case CMD_WRITE_CTR:
		s->ctr = v;
		i8042_update_irq(s);
		break;
	case CMD_WRITE_OUTPUT:
		i8042_write_outport(s, v);
		break;
	case CMD_WRITE_KBD_OBUF:
		i8042_output(s, v);
		break;
	}
	s->pending = 0;
}

/* Runs the write under the lock; a reset it asked for is requested after. */
static void i8042_write(struct i8042 *s, void (*fn)(struct i8042 *, uint8_t),
			uint8_t v)
{
	const struct device_env *env = s->parent_obj.env;
	bool reset;

	pthread_mutex_lock(&s->lock);
	fn(s, v);
	reset = s->reset;
	s->reset = false;
	pthread_mutex_unlock(&s->lock);
	if (reset && env->system_event)
		env->system_event(env->host, SYSTEM_RESET);
}

static uint64_t i8042_data_read(void *opaque, uint64_t offset, unsigned size)
{
	struct i8042 *s = opaque;
	uint8_t v;

	(void)offset; (void)size;
	pthread_mutex_lock(&s->lock);
	v = s->obuf;
	s->status &= ~STAT_OBF;
	i8042_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return v;
}

static void i8042_data_write(void *opaque, uint64_t offset, uint64_t value,
			     unsigned size)
{
	(void)offset; (void)size;
	i8042_write(opaque, i8042_data, (uint8_t)value);
}

static uint64_t i8042_status_read(void *opaque, uint64_t offset, unsigned size)
{
	struct i8042 *s = opaque;
	uint8_t v;

	(void)offset; (void)size;
	pthread_mutex_lock(&s->lock);
	v = s->status;
	pthread_mutex_unlock(&s->lock);
	return v;
}

static void i8042_cmd_write(void *opaque, uint64_t offset, uint64_t value,
			    unsigned size)
{
	(void)offset; (void)size;
	i8042_write(opaque, i8042_command, (uint8_t)value);
}

static const struct memory_region_ops i8042_data_ops = {
	.read = i8042_data_read,
	.write = i8042_data_write,
	.valid = { .min = 1, .max = 1 },
	.impl = { .min = 1, .max = 1 },
};

static const struct memory_region_ops i8042_cmd_ops = {
	.read = i8042_status_read,
	.write = i8042_cmd_write,
	.valid = { .min = 1, .max = 1 },
	.impl = { .min = 1, .max = 1 },
};

static int i8042_realize(struct device *dev, struct error *err)
{
	struct i8042 *s = (struct i8042 *)dev;

	(void)err;
	memory_region_init_io(&s->data_io, "i8042-data", &i8042_data_ops, s, 1);
	memory_region_init_io(&s->cmd_io, "i8042-cmd", &i8042_cmd_ops, s, 1);
	memory_transaction_begin();
	memory_region_add_subregion(dev->env->io_space, I8042_DATA_PORT, &s->data_io, 0);
	memory_region_add_subregion(dev->env->io_space, I8042_CMD_PORT, &s->cmd_io, 0);
	memory_transaction_commit();
	return 0;
}

static void i8042_unrealize(struct device *dev)
{
	struct i8042 *s = (struct i8042 *)dev;

	memory_transaction_begin();
	memory_region_del_subregion(dev->env->io_space, &s->data_io);
	memory_region_del_subregion(dev->env->io_space, &s->cmd_io);
	memory_transaction_commit();
}

/* As a -kernel guest finds it on QEMU's pc, after SeaBIOS. */
static void i8042_instance_init(struct object *obj)
{
	struct i8042 *s = (struct i8042 *)obj;

	pthread_mutex_init(&s->lock, NULL);
	s->status = STAT_SYS | STAT_CMD | STAT_UNLOCKED;
	s->ctr = 0x61;
	s->outport = 0xcf;
}

static void i8042_instance_finalize(struct object *obj)
{
	pthread_mutex_destroy(&((struct i8042 *)obj)->lock);
}

static void i8042_class_init(struct object_class *oc)
{
	struct device_class *dc = DEVICE_CLASS(oc);

	dc->realize = i8042_realize;
	dc->unrealize = i8042_unrealize;
}

static const struct type_info i8042_type_info = {
	.name = TYPE_I8042,
	.parent = TYPE_DEVICE,
	.description = "8042 keyboard controller (no keyboard): probes, reset",
	.instance_size = sizeof(struct i8042),
	.class_size = sizeof(struct device_class),
	.class_init = i8042_class_init,
	.instance_init = i8042_instance_init,
	.instance_finalize = i8042_instance_finalize,
};

static void i8042_register_types(void)
{
	type_register(&i8042_type_info);
}
type_init(i8042_register_types)
