/* A 16550A UART: enough of it for guests that print, probe and test the chip
 * (divisor latch, FIFO control, loopback, scratch). Transmit goes to stdout or
 * a file; nothing is received, and no interrupt line is wired yet. */
#include "devices/char/serial.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "devices/device.h"
#include "devices/error.h"
#include "memory/region.h"

enum {
	UART_RBR_THR = 0, UART_IER = 1, UART_IIR_FCR = 2, UART_LCR = 3,
	UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};

#define LCR_DLAB	0x80
#define MCR_LOOP	0x10
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define IER_THRI	0x02
#define IIR_NONE	0x01
#define IIR_THRI	0x02
#define IIR_FIFO	0xc0
#define FCR_ENABLE	0x01
#define MSR_CONNECTED	0xb0	/* DCD, DSR, CTS: a terminal is attached */

struct serial {
	struct device parent_obj;
	uint32_t iobase;
	char *path;

	FILE *out;
	bool owns_out;
	struct memory_region io;
	pthread_mutex_t lock;	/* several vCPUs may print at once */
	uint8_t rbr, ier, fcr, lcr, mcr, lsr, scr, dll, dlm;
	bool thri_pending;	/* THR empty interrupt not yet read from IIR */
};

static void serial_transmit(struct serial *s, uint8_t c)
{
	if (s->mcr & MCR_LOOP) {
		s->rbr = c;
		s->lsr |= LSR_DR;
	} else if (s->out) {
		fputc(c, s->out);
		if (c == '\n')
			fflush(s->out);
	}
	/* Transmission is instant: the holding register is empty again. */
	s->thri_pending = true;
}

/* In loopback the modem inputs follow the modem outputs (16550 datasheet). */
static uint8_t serial_msr(const struct serial *s)
{
	uint8_t m = s->mcr;

	if (!(m & MCR_LOOP))
		return MSR_CONNECTED;
	return ((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x04) << 4) |
	       ((m & 0x08) << 4);
}

static uint8_t serial_iir(struct serial *s)
{
	uint8_t fifo = (s->fcr & FCR_ENABLE) ? IIR_FIFO : 0;

	if ((s->ier & IER_THRI) && s->thri_pending) {
		s->thri_pending = false;	/* reading IIR clears it */
		return fifo | IIR_THRI;
	}
	return fifo | IIR_NONE;
}

static uint8_t serial_read_reg(struct serial *s, unsigned reg)
{
	bool dlab = s->lcr & LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab)
			return s->dll;
		s->lsr &= ~LSR_DR;
		return s->rbr;
	case UART_IER:
		return dlab ? s->dlm : s->ier;
	case UART_IIR_FCR:
		return serial_iir(s);
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		return s->lsr | LSR_THRE | LSR_TEMT;
	case UART_MSR:
		return serial_msr(s);
	default:
		return s->scr;
	}
}

static void serial_write_reg(struct serial *s, unsigned reg, uint8_t v)
{
	bool dlab = s->lcr & LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab)
			s->dll = v;
		else
			serial_transmit(s, v);
		break;
	case UART_IER:
		if (dlab) {
			s->dlm = v;
		} else {
			s->ier = v & 0x0f;
			s->thri_pending = true;
		}
		break;
	case UART_IIR_FCR:
		s->fcr = v & 0xc9;	/* reset bits 1-2 self-clear */
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_SCR:
		s->scr = v;
		break;
	default:		/* LSR, MSR: read-only */
		break;
	}
}

static uint64_t serial_io_read(void *opaque, uint64_t offset, unsigned size)
{
	struct serial *s = opaque;
	uint8_t v;

	(void)size;
	pthread_mutex_lock(&s->lock);
	v = serial_read_reg(s, offset & 7);
	pthread_mutex_unlock(&s->lock);
	return v;
}

static void serial_io_write(void *opaque, uint64_t offset, uint64_t value,
			    unsigned size)
{
	struct serial *s = opaque;

	(void)size;
	pthread_mutex_lock(&s->lock);
	serial_write_reg(s, offset & 7, (uint8_t)value);
	pthread_mutex_unlock(&s->lock);
}

static const struct memory_region_ops serial_io_ops = {
	.read = serial_io_read,
	.write = serial_io_write,
	.valid = { .min = 1, .max = 1 },
	.impl = { .min = 1, .max = 1 },
};

static int serial_open_output(struct serial *s, struct error *err)
{
	if (!s->path || !strcmp(s->path, "stdio")) {
		s->out = stdout;
		return 0;
	}
	if (!strcmp(s->path, "none"))
		return 0;
	s->out = fopen(s->path, "w");
	if (!s->out)
		return error_setf(err, "serial output '%s': %s", s->path,
				  strerror(errno));
	s->owns_out = true;
	return 0;
}

static int serial_realize(struct device *dev, struct error *err)
{
	struct serial *s = (struct serial *)dev;

	if (s->iobase > 0xfff8)
		return error_setf(err, "isa-serial: iobase %#x is not a port",
				  s->iobase);
	if (serial_open_output(s, err))
		return -1;
	memory_region_init_io(&s->io, "serial", &serial_io_ops, s, 8);
	memory_region_add_subregion(dev->env->io_space, s->iobase, &s->io, 0);
	return 0;
}

static void serial_unrealize(struct device *dev)
{
	struct serial *s = (struct serial *)dev;

	memory_region_del_subregion(dev->env->io_space, &s->io);
	if (s->out)
		fflush(s->out);
	if (s->owns_out)
		fclose(s->out);
}

static void serial_instance_init(struct object *obj)
{
	struct serial *s = (struct serial *)obj;

	pthread_mutex_init(&s->lock, NULL);
	s->thri_pending = true;
}

static void serial_instance_finalize(struct object *obj)
{
	pthread_mutex_destroy(&((struct serial *)obj)->lock);
}

static const struct property serial_props[] = {
	{ .name = "iobase", .type = PROP_U32, .offset = offsetof(struct serial, iobase),
	  .def = 0x3f8, .help = "first I/O port of the 8 registers" },
	{ .name = "path", .type = PROP_STRING, .offset = offsetof(struct serial, path),
	  .def_str = "stdio", .help = "output: stdio, none, or a file" },
	PROP_END,
};

static void serial_class_init(struct object_class *oc)
{
	struct device_class *dc = DEVICE_CLASS(oc);

	oc->props = serial_props;
	dc->realize = serial_realize;
	dc->unrealize = serial_unrealize;
	dc->user_creatable = true;
}

static const struct type_info serial_type_info = {
	.name = TYPE_ISA_SERIAL,
	.parent = TYPE_DEVICE,
	.description = "16550A UART (output only)",
	.instance_size = sizeof(struct serial),
	.class_size = sizeof(struct device_class),
	.class_init = serial_class_init,
	.instance_init = serial_instance_init,
	.instance_finalize = serial_instance_finalize,
};

static void serial_register_types(void)
{
	type_register(&serial_type_info);
}
type_init(serial_register_types)
