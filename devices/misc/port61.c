#include "devices/misc/port61.h"

#include <pthread.h>

#include "devices/clock.h"
#include "devices/device.h"
#include "memory/region.h"

/* The refresh request: PIT channel 1 at divisor 18 of the 8254's input
 * clock, one toggle per count (1193182 / 18 Hz, a 15.085 us period). */
#define PIT_HZ			1193182u
#define REFRESH_DIVISOR		18u

#define PORT61_WRITABLE (PORT61_GATE2 | PORT61_SPEAKER | PORT61_SERR_DIS | \
			 PORT61_IOCHK_DIS)

struct port61 {
	struct device parent_obj;
	struct memory_region io;
	pthread_mutex_t lock;	/* the stored bits and the PIT link */
	uint8_t value;		/* PORT61_WRITABLE bits */
	struct port61_pit pit;	/* no callbacks: not connected */
};

static uint8_t refresh_bit(const struct device_env *env)
{
	uint64_t ticks;

	if (!env->clock)
		return 0;
	ticks = clock_ns_to_ticks(clock_now_ns(env->clock), PIT_HZ);
	return (ticks / REFRESH_DIVISOR) & 1 ? PORT61_REFRESH : 0;
}

static uint64_t port61_read(void *opaque, uint64_t offset, unsigned size)
{
	struct port61 *p = opaque;
	uint8_t v;

	(void)offset; (void)size;
	pthread_mutex_lock(&p->lock);
	v = p->value | refresh_bit(p->parent_obj.env);
	if (p->pit.output && p->pit.output(p->pit.opaque))
		v |= PORT61_OUT2;
	pthread_mutex_unlock(&p->lock);
	return v;
}

static void port61_write(void *opaque, uint64_t offset, uint64_t value,
			 unsigned size)
{
	struct port61 *p = opaque;
	uint8_t old;

	(void)offset; (void)size;
	pthread_mutex_lock(&p->lock);
	old = p->value;
	p->value = (uint8_t)(value & PORT61_WRITABLE);
	if (((old ^ p->value) & PORT61_GATE2) && p->pit.set_gate)
		p->pit.set_gate(p->pit.opaque, p->value & PORT61_GATE2);
	pthread_mutex_unlock(&p->lock);
}

static const struct memory_region_ops port61_ops = {
	.read = port61_read,
	.write = port61_write,
	.valid = { .min = 1, .max = 1 },
	.impl = { .min = 1, .max = 1 },
};

void port61_connect_pit(struct device *port61, const struct port61_pit *pit)
{
	struct port61 *p = (struct port61 *)port61;

	pthread_mutex_lock(&p->lock);
	p->pit = pit ? *pit : (struct port61_pit){ 0 };
	if (p->pit.set_gate)	/* the PIT starts with the gate the guest set */
		p->pit.set_gate(p->pit.opaque, p->value & PORT61_GATE2);
	pthread_mutex_unlock(&p->lock);
}

static int port61_realize(struct device *dev, struct error *err)
{
	struct port61 *p = (struct port61 *)dev;

	(void)err;
	memory_region_init_io(&p->io, "port61", &port61_ops, p, 1);
	memory_region_add_subregion(dev->env->io_space, PORT61_PORT, &p->io, 0);
	return 0;
}

static void port61_unrealize(struct device *dev)
{
	memory_region_del_subregion(dev->env->io_space, &((struct port61 *)dev)->io);
}

static void port61_instance_init(struct object *obj)
{
	pthread_mutex_init(&((struct port61 *)obj)->lock, NULL);
}

static void port61_instance_finalize(struct object *obj)
{
	pthread_mutex_destroy(&((struct port61 *)obj)->lock);
}

static void port61_class_init(struct object_class *oc)
{
	struct device_class *dc = DEVICE_CLASS(oc);

	dc->realize = port61_realize;
	dc->unrealize = port61_unrealize;
}

static const struct type_info port61_type_info = {
	.name = TYPE_PORT61,
	.parent = TYPE_DEVICE,
	.description = "system control port B (0x61): refresh toggle, PIT channel 2 gate",
	.instance_size = sizeof(struct port61),
	.class_size = sizeof(struct device_class),
	.class_init = port61_class_init,
	.instance_init = port61_instance_init,
	.instance_finalize = port61_instance_finalize,
};

static void port61_register_types(void)
{
	type_register(&port61_type_info);
}
type_init(port61_register_types)
