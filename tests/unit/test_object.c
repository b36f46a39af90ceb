/* The object model: types, classes, instances, properties, devices. */
#include <criterion/criterion.h>
#include <string.h>

#include "devices/device.h"
#include "devices/error.h"

#define TYPE_ANIMAL "test-animal"
#define TYPE_DOG "test-dog"
#define TYPE_GADGET "test-gadget"

struct animal_class {
	struct object_class parent;
	const char *(*speak)(void);
	int legs;
};

struct animal {
	struct object parent;
	int init_order[2];
	int ninit;
	uint32_t age;
	bool tame;
	char *name;
};

static int finalized;

static const char *animal_speak(void) { return "..."; }
static const char *dog_speak(void) { return "woof"; }

static const struct property animal_props[] = {
	{ .name = "age", .type = PROP_U32, .offset = offsetof(struct animal, age), .def = 3 },
	{ .name = "tame", .type = PROP_BOOL, .offset = offsetof(struct animal, tame), .def = 1 },
	{ .name = "name", .type = PROP_STRING, .offset = offsetof(struct animal, name),
	  .def_str = "rex" },
	PROP_END,
};

static void animal_class_init(struct object_class *oc)
{
	struct animal_class *ac = (struct animal_class *)oc;

	oc->props = animal_props;
	ac->speak = animal_speak;
	ac->legs = 4;
}

static void dog_class_init(struct object_class *oc)
{
	((struct animal_class *)oc)->speak = dog_speak;	/* legs inherited */
}

static void animal_instance_init(struct object *obj)
{
	struct animal *a = (struct animal *)obj;

	a->init_order[a->ninit++] = 1;
}

static void dog_instance_init(struct object *obj)
{
	struct animal *a = (struct animal *)obj;

	a->init_order[a->ninit++] = 2;
}

static void animal_finalize(struct object *obj)
{
	(void)obj;
	finalized++;
}

static const struct type_info animal_info = {
	.name = TYPE_ANIMAL, .parent = TYPE_OBJECT, .abstract = true,
	.instance_size = sizeof(struct animal), .class_size = sizeof(struct animal_class),
	.class_init = animal_class_init, .instance_init = animal_instance_init,
	.instance_finalize = animal_finalize,
};

static const struct type_info dog_info = {
	.name = TYPE_DOG, .parent = TYPE_ANIMAL,
	.instance_size = sizeof(struct animal), .class_size = sizeof(struct animal_class),
	.class_init = dog_class_init, .instance_init = dog_instance_init,
};

/* A device whose realize fails when told to. */
struct gadget {
	struct device parent;
	bool fail;
	int *unrealized;
};

static int gadget_realize(struct device *dev, struct error *err)
{
	if (((struct gadget *)dev)->fail)
		return error_setf(err, "gadget refused");
	return 0;
}

static int gadget_unrealize_count;

static void gadget_unrealize(struct device *dev)
{
	(void)dev;
	gadget_unrealize_count++;
}

static const struct property gadget_props[] = {
	{ .name = "fail", .type = PROP_BOOL, .offset = offsetof(struct gadget, fail) },
	PROP_END,
};

static void gadget_class_init(struct object_class *oc)
{
	oc->props = gadget_props;
	DEVICE_CLASS(oc)->realize = gadget_realize;
	DEVICE_CLASS(oc)->unrealize = gadget_unrealize;
	DEVICE_CLASS(oc)->user_creatable = true;
}

static const struct type_info gadget_info = {
	.name = TYPE_GADGET, .parent = TYPE_DEVICE, .description = "test gadget",
	.instance_size = sizeof(struct gadget), .class_size = sizeof(struct device_class),
	.class_init = gadget_class_init,
};

static void register_test_types(void)
{
	type_register(&animal_info);
	type_register(&dog_info);
	type_register(&gadget_info);
}
type_init(register_test_types)

Test(object, abstract_and_unknown_types_cannot_be_made)
{
	cr_assert_null(object_new(TYPE_ANIMAL));
	cr_assert_null(object_new("no-such-type"));
	cr_assert_null(object_class_by_name("no-such-type"));
}

Test(object, class_inherits_then_overrides)
{
	struct animal_class *dc = (struct animal_class *)object_class_by_name(TYPE_DOG);

	cr_assert_not_null(dc);
	cr_assert_str_eq(dc->speak(), "woof");
	cr_assert_eq(dc->legs, 4);
	cr_assert(object_class_is_a(&dc->parent, TYPE_ANIMAL));
	cr_assert(object_class_is_a(&dc->parent, TYPE_OBJECT));
	cr_assert(!object_class_is_a(&dc->parent, TYPE_DEVICE));
}

Test(object, instance_init_runs_root_first_with_defaults)
{
	struct animal *a = (struct animal *)object_new(TYPE_DOG);

	cr_assert_eq(a->ninit, 2);
	cr_assert_eq(a->init_order[0], 1);
	cr_assert_eq(a->init_order[1], 2);
	cr_assert_eq(a->age, 3);
	cr_assert(a->tame);
	cr_assert_str_eq(a->name, "rex");
	cr_assert_str_eq(object_type_name(&a->parent), TYPE_DOG);
	cr_assert_not_null(object_dynamic_cast(&a->parent, TYPE_ANIMAL));
	cr_assert_null(object_dynamic_cast(&a->parent, TYPE_DEVICE));
	object_free(&a->parent);
}

Test(object, properties_parse_and_reject)
{
	struct animal *a = (struct animal *)object_new(TYPE_DOG);
	struct error e = { "" };

	cr_assert_eq(object_property_parse_list(&a->parent, "age=0x10,tame=off,name=fido", &e), 0);
	cr_assert_eq(a->age, 16);
	cr_assert(!a->tame);
	cr_assert_str_eq(a->name, "fido");
	cr_assert_eq(object_property_set(&a->parent, "age", "4294967296", &e), -1);
	cr_assert(strstr(e.msg, "age"));
	cr_assert_eq(object_property_set(&a->parent, "tame", "perhaps", &e), -1);
	cr_assert_eq(object_property_set(&a->parent, "wings", "2", &e), -1);
	cr_assert(strstr(e.msg, "no property 'wings'"));
	cr_assert_eq(object_property_parse_list(&a->parent, "age", &e), -1);
	cr_assert(strstr(e.msg, "name=value"));
	cr_assert_eq(a->age, 16, "failed sets leave the value alone");
	object_free(&a->parent);
}

Test(object, freeing_a_parent_frees_its_children)
{
	struct object *root = object_new(TYPE_CONTAINER);
	struct object *a = object_new(TYPE_DOG), *b = object_new(TYPE_DOG);

	finalized = 0;
	object_add_child(root, "a", a);
	object_add_child(a, "b", b);
	cr_assert_eq(root->children, a);
	cr_assert_eq(b->parent, a);
	object_free(root);
	cr_assert_eq(finalized, 2);
}

Test(object, freeing_a_child_detaches_it)
{
	struct object *root = object_new(TYPE_CONTAINER);
	struct object *a = object_new(TYPE_DOG), *b = object_new(TYPE_DOG);

	object_add_child(root, "a", a);
	object_add_child(root, "b", b);
	object_free(a);
	cr_assert_eq(root->children, b);
	cr_assert_null(b->next_sibling);
	object_free(root);
}

Test(device, create_realizes_and_free_unrealizes)
{
	struct object *root = object_new(TYPE_CONTAINER);
	struct device_env env = { 0 };
	struct error e = { "" };
	struct device *d = device_create(TYPE_GADGET, &env, root, &e);

	cr_assert_not_null(d, "%s", e.msg);
	cr_assert(d->realized);
	gadget_unrealize_count = 0;
	object_free(root);
	cr_assert_eq(gadget_unrealize_count, 1);
}

Test(device, create_reports_errors)
{
	struct object *root = object_new(TYPE_CONTAINER);
	struct device_env env = { 0 };
	struct error e = { "" };

	gadget_unrealize_count = 0;
	cr_assert_null(device_create(TYPE_GADGET ",fail=on", &env, root, &e));
	cr_assert_str_eq(e.msg, "gadget refused");
	cr_assert_eq(gadget_unrealize_count, 0, "never realized, never unrealized");
	cr_assert_null(device_create("nonesuch", &env, root, &e));
	cr_assert(strstr(e.msg, "unknown device 'nonesuch'"));
	cr_assert_null(device_create(TYPE_DOG, &env, root, &e), "not a device");
	cr_assert_null(device_create(TYPE_GADGET ",volume=11", &env, root, &e));
	cr_assert(strstr(e.msg, "no property 'volume'"));
	cr_assert_null(root->children);
	object_free(root);
}

Test(device, help_lists_creatable_types_with_properties)
{
	char buf[8192] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	device_print_help(f);
	fclose(f);
	cr_assert(strstr(buf, "test-gadget: test gadget"));
	cr_assert(strstr(buf, "fail=<bool>"));
	cr_assert(strstr(buf, "isa-serial"));
	cr_assert(strstr(buf, "isa-debug-exit"));
	cr_assert(!strstr(buf, TYPE_DOG), "not a device");
}
