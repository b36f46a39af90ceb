/* The local APIC as a device (QOM's TYPE_APIC_COMMON): one per vCPU, with
 * the APIC ID as a property, realized onto the machine's APIC bus; it owns
 * the xAPIC page. The registers are the model's (lapic.c), this is only how
 * the machine creates, names and maps them. */
#include "devices/intc/lapic.h"

#include "devices/device.h"
#include "devices/error.h"
#include "devices/intc/lapic_int.h"
#include "memory/region.h"

struct lapic_dev {
	struct device parent_obj;
	uint32_t id;			/* property: APIC ID = vCPU index */
	struct lapic *lapic;		/* set by realize */
	struct memory_region mmio;	/* the xAPIC page */
};

struct lapic *lapic_from_device(struct device *dev)
{
	struct lapic_dev *d = object_dynamic_cast((struct object *)dev, TYPE_LAPIC);

	return d ? d->lapic : NULL;
}

/* Every vCPU's LAPIC claims the same page, as on hardware, where no other
 * agent sees the access: the one that answers is the calling vCPU's
 * (ops->current_cpu), whichever device's region the flat view picked. */
static struct lapic *mmio_target(struct lapic_dev *d)
{
	struct apic_bus *bus = d->lapic->bus;
	int cpu;

	if (!bus->ops->current_cpu)
		return d->lapic;
	cpu = bus->ops->current_cpu(bus->opaque);
	return cpu < 0 ? NULL : apic_bus_cpu(bus, (unsigned)cpu);
}

static uint64_t lapic_dev_read(void *opaque, uint64_t offset, unsigned size)
{
	struct lapic *l = mmio_target(opaque);

	return l ? lapic_mmio_read(l, offset, size) : ~0ull;
}

static void lapic_dev_write(void *opaque, uint64_t offset, uint64_t value,
			    unsigned size)
{
	struct lapic *l = mmio_target(opaque);

	if (l)
		lapic_mmio_write(l, offset, value, size);
}

/* The model applies the SDM's size rules itself, so dispatch must pass every
 * access through unchanged. */
static const struct memory_region_ops lapic_mmio_ops = {
	.read = lapic_dev_read,
	.write = lapic_dev_write,
	.valid = { .min = 1, .max = 8, .unaligned = true },
	.impl = { .min = 1, .max = 8, .unaligned = true },
};

static int lapic_dev_realize(struct device *dev, struct error *err)
{
	struct lapic_dev *d = (struct lapic_dev *)dev;
	struct apic_bus *bus = dev->env->apic_bus;
	struct lapic *l;

	if (!bus)
		return error_setf(err, "lapic: no APIC bus to attach to");
	if (d->id >= bus->ncpus)
		return error_setf(err, "lapic: id %u is out of range (%u vCPUs)",
				  d->id, bus->ncpus);
	l = &bus->cpus[d->id];
	if (l->dev)
		return error_setf(err, "lapic: id %u is taken", d->id);
	l->dev = dev;
	d->lapic = l;
	memory_region_init_io(&d->mmio, "lapic", &lapic_mmio_ops, d, APIC_MMIO_SIZE);
	/* Priority 1: over whatever RAM or ROM lies below, as in QEMU. */
	if (dev->env->system_memory)
		memory_region_add_subregion(dev->env->system_memory,
					    lapic_base(l) & ~(uint64_t)(APIC_MMIO_SIZE - 1),
					    &d->mmio, 1);
	return 0;
}

static void lapic_dev_unrealize(struct device *dev)
{
	struct lapic_dev *d = (struct lapic_dev *)dev;

	if (dev->env->system_memory)
		memory_region_del_subregion(dev->env->system_memory, &d->mmio);
	d->lapic->dev = NULL;
	d->lapic = NULL;
}

static const struct property lapic_dev_props[] = {
	{ .name = "id", .type = PROP_U32, .offset = offsetof(struct lapic_dev, id),
	  .def = 0, .help = "APIC ID (the vCPU index)" },
	PROP_END,
};

static void lapic_dev_class_init(struct object_class *oc)
{
	struct device_class *dc = DEVICE_CLASS(oc);

	oc->props = lapic_dev_props;
	dc->realize = lapic_dev_realize;
	dc->unrealize = lapic_dev_unrealize;
	dc->user_creatable = false;	/* the machine makes one per vCPU */
}

static const struct type_info lapic_dev_type_info = {
	.name = TYPE_LAPIC,
	.parent = TYPE_DEVICE,
	.description = "local APIC (one per vCPU, made by the machine)",
	.instance_size = sizeof(struct lapic_dev),
	.class_size = sizeof(struct device_class),
	.class_init = lapic_dev_class_init,
};

static void lapic_dev_register_types(void)
{
	type_register(&lapic_dev_type_info);
}
type_init(lapic_dev_register_types)
