/* Devices: objects that are realized into a machine (QOM's DeviceState).
 * realize maps the device's regions into the address spaces it is given and
 * may fail with a message; unrealize undoes it. */
#ifndef DEVICES_DEVICE_H
#define DEVICES_DEVICE_H

#include <stdbool.h>
#include <stdio.h>

#include "devices/object.h"

struct error;
struct memory_region;

#define TYPE_DEVICE "device"

/* What a device may reach. Devices never call KVM: they ask the VMM through
 * these callbacks. */
struct device_env {
	struct memory_region *system_memory;
	struct memory_region *io_space;
	/* The guest asked to end the VM; @status is the process exit code. */
	void (*guest_exit)(void *host, int status);
	void *host;
};

struct device;

struct device_class {
	struct object_class parent_class;
	int (*realize)(struct device *dev, struct error *err);
	void (*unrealize)(struct device *dev);
	bool user_creatable;	/* may be created with -device */
};

struct device {
	struct object parent_obj;
	const struct device_env *env;
	bool realized;
};

#define DEVICE_CLASS(oc) ((struct device_class *)(oc))
#define DEVICE_GET_CLASS(dev) DEVICE_CLASS(((struct object *)(dev))->klass)

int device_realize(struct device *dev, const struct device_env *env,
		   struct error *err);
/* "type,prop=value,..." → a realized child of @parent, or NULL. */
struct device *device_create(const char *spec, const struct device_env *env,
			     struct object *parent, struct error *err);
/* -device help: every user-creatable type with its properties. */
void device_print_help(FILE *out);

#endif
