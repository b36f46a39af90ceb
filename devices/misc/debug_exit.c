#include "devices/misc/debug_exit.h"

#include "devices/device.h"
#include "devices/error.h"
#include "memory/region.h"

struct debug_exit {
	struct device parent_obj;
	uint32_t iobase, iosize;
	struct memory_region io;
};

static uint64_t debug_exit_read(void *opaque, uint64_t offset, unsigned size)
{
	(void)opaque; (void)offset; (void)size;
	return 0;
}

static void debug_exit_write(void *opaque, uint64_t offset, uint64_t value,
			     unsigned size)
{
	struct device *dev = opaque;

	(void)offset; (void)size;
	/* Process exit codes are 8 bits: the status is always odd, which is
	 * how tinyvmm's own codes (all even) never collide with it. */
	dev->env->guest_exit(dev->env->host, (int)(((value << 1) | 1) & 0xff));
}

static const struct memory_region_ops debug_exit_ops = {
	.read = debug_exit_read,
	.write = debug_exit_write,
	.valid = { .min = 1, .max = 4 },
	.impl = { .min = 1, .max = 4 },
};

static int debug_exit_realize(struct device *dev, struct error *err)
{
	struct debug_exit *d = (struct debug_exit *)dev;

	if (d->iosize != 1 && d->iosize != 2 && d->iosize != 4)
		return error_setf(err, "isa-debug-exit: iosize must be 1, 2 or 4");
	if (d->iobase > 0x10000 - d->iosize)
		return error_setf(err, "isa-debug-exit: iobase %#x is not a port",
				  d->iobase);
	memory_region_init_io(&d->io, "debug-exit", &debug_exit_ops, d, d->iosize);
	memory_region_add_subregion(dev->env->io_space, d->iobase, &d->io, 0);
	return 0;
}

static void debug_exit_unrealize(struct device *dev)
{
	memory_region_del_subregion(dev->env->io_space,
				    &((struct debug_exit *)dev)->io);
}

static const struct property debug_exit_props[] = {
	{ .name = "iobase", .type = PROP_U32, .offset = offsetof(struct debug_exit, iobase),
	  .def = 0xf4, .help = "I/O port" },
	{ .name = "iosize", .type = PROP_U32, .offset = offsetof(struct debug_exit, iosize),
	  .def = 4, .help = "ports decoded: 1, 2 or 4" },
	PROP_END,
};

static void debug_exit_class_init(struct object_class *oc)
{
	struct device_class *dc = DEVICE_CLASS(oc);

	oc->props = debug_exit_props;
	dc->realize = debug_exit_realize;
	dc->unrealize = debug_exit_unrealize;
	dc->user_creatable = true;
}

static const struct type_info debug_exit_type_info = {
	.name = TYPE_ISA_DEBUG_EXIT,
	.parent = TYPE_DEVICE,
	.description = "exit port: a write of v exits with status (v << 1) | 1",
	.instance_size = sizeof(struct debug_exit),
	.class_size = sizeof(struct device_class),
	.class_init = debug_exit_class_init,
};

static void debug_exit_register_types(void)
{
	type_register(&debug_exit_type_info);
}
type_init(debug_exit_register_types)
