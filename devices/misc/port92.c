#include "devices/misc/port92.h"

#include <pthread.h>

#include "devices/device.h"
#include "memory/region.h"

struct port92 {
	struct device parent_obj;
	struct memory_region io;
	pthread_mutex_t lock;	/* vCPUs may race on the reset edge */
	uint8_t value;
};

static uint64_t port92_read(void *opaque, uint64_t offset, unsigned size)
{
	struct port92 *p = opaque;
	uint8_t v;

	(void)offset; (void)size;
	pthread_mutex_lock(&p->lock);
	v = p->value;
	pthread_mutex_unlock(&p->lock);
	return v;
}

static void port92_write(void *opaque, uint64_t offset, uint64_t value,
			 unsigned size)
{
	struct port92 *p = opaque;
	const struct device_env *env = p->parent_obj.env;
	bool reset;

	(void)offset; (void)size;
	pthread_mutex_lock(&p->lock);
	reset = (value & PORT92_RESET) && !(p->value & PORT92_RESET);
	p->value = (uint8_t)(value & (PORT92_RESET | PORT92_A20));
	pthread_mutex_unlock(&p->lock);
	if (reset && env->system_event)
		env->system_event(env->host, SYSTEM_RESET);
}

static const struct memory_region_ops port92_ops = {
	.read = port92_read,
	.write = port92_write,
	.valid = { .min = 1, .max = 1 },
	.impl = { .min = 1, .max = 1 },
};

static int port92_realize(struct device *dev, struct error *err)
{
	struct port92 *p = (struct port92 *)dev;

	(void)err;
	memory_region_init_io(&p->io, "port92", &port92_ops, p, 1);
	memory_region_add_subregion(dev->env->io_space, PORT92_PORT, &p->io, 0);
	return 0;
}

static void port92_unrealize(struct device *dev)
{
	memory_region_del_subregion(dev->env->io_space, &((struct port92 *)dev)->io);
}

static void port92_instance_init(struct object *obj)
{
	struct port92 *p = (struct port92 *)obj;

	pthread_mutex_init(&p->lock, NULL);
	p->value = PORT92_A20;
}

static void port92_instance_finalize(struct object *obj)
{
	pthread_mutex_destroy(&((struct port92 *)obj)->lock);
}

static void port92_class_init(struct object_class *oc)
{
	struct device_class *dc = DEVICE_CLASS(oc);

	dc->realize = port92_realize;
	dc->unrealize = port92_unrealize;
}

static const struct type_info port92_type_info = {
	.name = TYPE_PORT92,
	.parent = TYPE_DEVICE,
	.description = "system control port A (0x92): A20 gate, fast reset",
	.instance_size = sizeof(struct port92),
	.class_size = sizeof(struct device_class),
	.class_init = port92_class_init,
	.instance_init = port92_instance_init,
	.instance_finalize = port92_instance_finalize,
};

static void port92_register_types(void)
{
	type_register(&port92_type_info);
}
type_init(port92_register_types)
