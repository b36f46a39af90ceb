#include "devices/device.h"

#include <stdlib.h>
#include <string.h>

#include "devices/error.h"

void device_thread_start(struct device *dev, enum device_thread kind)
{
	const struct device_env *env = dev->env;

	if (env && env->thread_start)
		env->thread_start(env->host, kind);
}

int device_realize(struct device *dev, const struct device_env *env,
		   struct error *err)
{
	struct device_class *dc = DEVICE_GET_CLASS(dev);

	dev->env = env;
	if (dc->realize && dc->realize(dev, err))
		return -1;
	dev->realized = true;
	return 0;
}

static void device_unparent(struct object *obj)
{
	struct device *dev = (struct device *)obj;
	struct device_class *dc = DEVICE_GET_CLASS(dev);

	if (dev->realized && dc->unrealize)
		dc->unrealize(dev);
	dev->realized = false;
}

struct device *device_create(const char *spec, const struct device_env *env,
			     struct object *parent, struct error *err)
{
	size_t len = strcspn(spec, ",");
	char type[64];
	struct object_class *oc;
	struct object *obj;

	if (len == 0 || len >= sizeof(type)) {
		error_setf(err, "bad device '%s'", spec);
		return NULL;
	}
	memcpy(type, spec, len);
	type[len] = '\0';
	oc = object_class_by_name(type);
	if (!oc || !object_class_is_a(oc, TYPE_DEVICE) ||
	    !DEVICE_CLASS(oc)->user_creatable || oc->type->abstract) {
		error_setf(err, "unknown device '%s' (try -device help)", type);
		return NULL;
	}
	obj = object_new(type);
	if ((spec[len] && object_property_parse_list(obj, spec + len + 1, err)) ||
	    device_realize((struct device *)obj, env, err)) {
		object_free(obj);
		return NULL;
	}
	object_add_child(parent, type, obj);
	return (struct device *)obj;
}

static void print_user_device(const struct object_class *oc, void *opaque)
{
	FILE *out = opaque;

	if (!DEVICE_CLASS(oc)->user_creatable)
		return;
	fprintf(out, "%s: %s\n", oc->type->name,
		oc->type->description ? oc->type->description : "");
	object_class_print_props(oc, out);
}

static void print_board_device(const struct object_class *oc, void *opaque)
{
	if (!DEVICE_CLASS(oc)->user_creatable)
		fprintf(opaque, "  %s: %s\n", oc->type->name,
			oc->type->description ? oc->type->description : "");
}

void device_print_help(FILE *out)
{
	fprintf(out, "Devices (-device NAME[,prop=value...]):\n");
	object_class_foreach(TYPE_DEVICE, print_user_device, out);
	fprintf(out, "\nBuilt into the machine (not for -device):\n");
	object_class_foreach(TYPE_DEVICE, print_board_device, out);
}

static void device_class_init(struct object_class *oc)
{
	oc->unparent = device_unparent;
}

static const struct type_info device_type_info = {
	.name = TYPE_DEVICE,
	.parent = TYPE_OBJECT,
	.instance_size = sizeof(struct device),
	.class_size = sizeof(struct device_class),
	.abstract = true,
	.class_init = device_class_init,
};

static void device_register_types(void)
{
	type_register(&device_type_info);
}
type_init(device_register_types)
