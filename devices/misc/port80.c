#include "devices/misc/port80.h"

#include "devices/device.h"
#include "memory/region.h"

struct port80 {
	struct device parent_obj;
	struct memory_region io;
};

/* Nothing stores the code: on a PC it goes to the LPC bus, where a POST
 * card may show it; nothing answers a read (QEMU: all ones). */
static uint64_t port80_read(void *opaque, uint64_t offset, unsigned size)
{
	(void)opaque; (void)offset; (void)size;
	return 0xff;
}

static void port80_write(void *opaque, uint64_t offset, uint64_t value,
			 unsigned size)
{
	(void)opaque; (void)offset; (void)value; (void)size;
}

static const struct memory_region_ops port80_ops = {
	.read = port80_read,
	.write = port80_write,
	.valid = { .min = 1, .max = 1 },
	.impl = { .min = 1, .max = 1 },
};

static int port80_realize(struct device *dev, struct error *err)
{
	struct port80 *p = (struct port80 *)dev;

	(void)err;
	memory_region_init_io(&p->io, "ioport80", &port80_ops, p, 1);
	memory_region_add_subregion(dev->env->io_space, PORT80_PORT, &p->io, 0);
	return 0;
}

static void port80_unrealize(struct device *dev)
{
	memory_region_del_subregion(dev->env->io_space, &((struct port80 *)dev)->io);
}

static void port80_class_init(struct object_class *oc)
{
	struct device_class *dc = DEVICE_CLASS(oc);

	dc->realize = port80_realize;
	dc->unrealize = port80_unrealize;
}

static const struct type_info port80_type_info = {
	.name = TYPE_PORT80,
	.parent = TYPE_DEVICE,
	.description = "POST code port 0x80: writes absorbed, reads all ones",
	.instance_size = sizeof(struct port80),
	.class_size = sizeof(struct device_class),
	.class_init = port80_class_init,
};

static void port80_register_types(void)
{
	type_register(&port80_type_info);
}
type_init(port80_register_types)
