#include "devices/object.h"

#include <stdlib.h>
#include <string.h>

#include "devices/error.h"
#include "devices/parse.h"

/* Registered types. Registration happens in constructors, before any thread
 * exists; after that the list is only read, so it needs no lock. */
struct type_impl {
	const struct type_info *info;
	struct object_class *klass;	/* built on first use */
	struct type_impl *next;
};

static struct type_impl *types;

static const struct type_info object_type_info = {
	.name = TYPE_OBJECT,
	.instance_size = sizeof(struct object),
	.class_size = sizeof(struct object_class),
	.abstract = true,
};

static struct type_impl *type_lookup(const char *name)
{
	for (struct type_impl *t = types; t; t = t->next)
		if (!strcmp(t->info->name, name))
			return t;
	return NULL;
}

void type_register(const struct type_info *info)
{
	struct type_impl *t = calloc(1, sizeof(*t));

	if (!t)
		abort();
	t->info = info;
	t->next = types;
	types = t;
}

static const struct type_info container_type_info = {
	.name = TYPE_CONTAINER,
	.parent = TYPE_OBJECT,
	.instance_size = sizeof(struct object),
	.class_size = sizeof(struct object_class),
};

static void object_type_register(void)
{
	type_register(&object_type_info);
	type_register(&container_type_info);
}
type_init(object_type_register)

/* Like QOM: the class starts as a copy of the parent class, so inherited
 * methods are in place before this type's class_init overrides some. */
static struct object_class *type_class_init(struct type_impl *t)
{
	const struct type_info *info = t->info;
	struct object_class *parent = NULL;
	struct object_class *oc;

	if (t->klass)
		return t->klass;
	if (info->parent) {
		parent = object_class_by_name(info->parent);
		if (!parent)
			return NULL;
	}
	oc = calloc(1, info->class_size);
	if (!oc)
		abort();
	if (parent)
		memcpy(oc, parent, parent->type->class_size);
	oc->type = info;
	oc->parent_class = parent;
	oc->props = NULL;
	if (info->class_init)
		info->class_init(oc);
	t->klass = oc;
	return oc;
}

struct object_class *object_class_by_name(const char *name)
{
	struct type_impl *t = type_lookup(name);

	return t ? type_class_init(t) : NULL;
}

bool object_class_is_a(const struct object_class *oc, const char *name)
{
	for (; oc; oc = oc->parent_class)
		if (!strcmp(oc->type->name, name))
			return true;
	return false;
}

static int compare_class_names(const void *a, const void *b)
{
	const struct object_class *const *x = a, *const *y = b;

	return strcmp((*x)->type->name, (*y)->type->name);
}

void object_class_foreach(const char *parent,
			  void (*fn)(const struct object_class *oc, void *opaque),
			  void *opaque)
{
	const struct object_class *list[256];
	size_t n = 0;

	for (struct type_impl *t = types; t && n < 256; t = t->next) {
		struct object_class *oc = type_class_init(t);

		if (oc && !t->info->abstract && object_class_is_a(oc, parent))
			list[n++] = oc;
	}
	qsort(list, n, sizeof(list[0]), compare_class_names);
	for (size_t i = 0; i < n; i++)
		fn(list[i], opaque);
}

static void object_set_defaults(struct object *obj,
				const struct object_class *oc)
{
	for (const struct property *p = oc->props; p && p->name; p++) {
		void *field = (char *)obj + p->offset;

		switch (p->type) {
		case PROP_BOOL:
			*(bool *)field = p->def;
			break;
		case PROP_U32:
			*(uint32_t *)field = (uint32_t)p->def;
			break;
		case PROP_U64:
		case PROP_SIZE:
			*(uint64_t *)field = p->def;
			break;
		case PROP_STRING:
			*(char **)field = p->def_str ? strdup(p->def_str) : NULL;
			break;
		}
	}
}

/* Root type first, so a subtype's instance_init sees its parent's setup. */
static void object_init_from(struct object *obj, const struct object_class *oc)
{
	if (oc->parent_class)
		object_init_from(obj, oc->parent_class);
	object_set_defaults(obj, oc);
	if (oc->type->instance_init)
		oc->type->instance_init(obj);
}

struct object *object_new(const char *type_name)
{
	struct object_class *oc = object_class_by_name(type_name);
	struct object *obj;

	if (!oc || oc->type->abstract)
		return NULL;
	obj = calloc(1, oc->type->instance_size);
	if (!obj)
		abort();
	obj->klass = oc;
	object_init_from(obj, oc);
	return obj;
}

static void object_unlink(struct object *obj)
{
	struct object **pp;

	if (!obj->parent)
		return;
	for (pp = &obj->parent->children; *pp; pp = &(*pp)->next_sibling) {
		if (*pp == obj) {
			*pp = obj->next_sibling;
			break;
		}
	}
	obj->parent = NULL;
}

static void object_free_strings(struct object *obj,
				const struct object_class *oc)
{
	for (; oc; oc = oc->parent_class)
		for (const struct property *p = oc->props; p && p->name; p++)
			if (p->type == PROP_STRING)
				free(*(char **)((char *)obj + p->offset));
}

void object_free(struct object *obj)
{
	const struct object_class *oc;

	if (!obj)
		return;
	object_unlink(obj);
	if (obj->klass->unparent)
		obj->klass->unparent(obj);
	while (obj->children)
		object_free(obj->children);
	/* Leaf type first: the reverse of instance_init. */
	for (oc = obj->klass; oc; oc = oc->parent_class)
		if (oc->type->instance_finalize)
			oc->type->instance_finalize(obj);
	object_free_strings(obj, obj->klass);
	free(obj->id);
	free(obj);
}

void object_add_child(struct object *parent, const char *id,
		      struct object *child)
{
	struct object **pp = &parent->children;

	object_unlink(child);
	free(child->id);
	child->id = id ? strdup(id) : NULL;
	while (*pp)		/* keep creation order for printing */
		pp = &(*pp)->next_sibling;
	*pp = child;
	child->next_sibling = NULL;
	child->parent = parent;
}

const char *object_type_name(const struct object *obj)
{
	return obj->klass->type->name;
}

bool object_is_a(const struct object *obj, const char *type_name)
{
	return object_class_is_a(obj->klass, type_name);
}

void *object_dynamic_cast(struct object *obj, const char *type_name)
{
	return obj && object_is_a(obj, type_name) ? obj : NULL;
}

static const struct property *prop_find(const struct object_class *oc,
					const char *name)
{
	for (; oc; oc = oc->parent_class)
		for (const struct property *p = oc->props; p && p->name; p++)
			if (!strcmp(p->name, name))
				return p;
	return NULL;
}

static int prop_apply(struct object *obj, const struct property *p,
		      const char *value, struct error *err)
{
	void *field = (char *)obj + p->offset;
	uint64_t v;
	bool b;

	switch (p->type) {
	case PROP_BOOL:
		if (parse_bool(value, &b))
			return error_setf(err, "%s: '%s' is not on/off", p->name, value);
		*(bool *)field = b;
		return 0;
	case PROP_U32:
		if (parse_u64(value, &v) || v > UINT32_MAX)
			return error_setf(err, "%s: '%s' is not a 32-bit number",
					  p->name, value);
		*(uint32_t *)field = (uint32_t)v;
		return 0;
	case PROP_U64:
	case PROP_SIZE:
		if ((p->type == PROP_SIZE ? parse_size(value, &v) : parse_u64(value, &v)))
			return error_setf(err, "%s: '%s' is not a %s", p->name, value,
					  p->type == PROP_SIZE ? "size" : "number");
		*(uint64_t *)field = v;
		return 0;
	case PROP_STRING:
		free(*(char **)field);
		*(char **)field = strdup(value);
		return 0;
	}
	return error_setf(err, "%s: bad property type", p->name);
}

int object_property_set(struct object *obj, const char *name,
			const char *value, struct error *err)
{
	const struct property *p = prop_find(obj->klass, name);

	if (!p)
		return error_setf(err, "%s has no property '%s'",
				  object_type_name(obj), name);
	return prop_apply(obj, p, value, err);
}

int object_property_get_uint(struct object *obj, const char *name,
			     uint64_t *value, struct error *err)
{
	const struct property *p = prop_find(obj->klass, name);
	const void *field;

	if (!p)
		return error_setf(err, "%s has no property '%s'",
				  object_type_name(obj), name);
	field = (const char *)obj + p->offset;
	switch (p->type) {
	case PROP_BOOL:
		*value = *(const bool *)field;
		return 0;
	case PROP_U32:
		*value = *(const uint32_t *)field;
		return 0;
	case PROP_U64:
	case PROP_SIZE:
		*value = *(const uint64_t *)field;
		return 0;
	case PROP_STRING:
		break;
	}
	return error_setf(err, "%s: not a number", p->name);
}

int object_property_parse_list(struct object *obj, const char *list,
			       struct error *err)
{
	char *copy = strdup(list), *save = NULL, *item;
	int ret = 0;

	if (!copy)
		abort();
	for (item = strtok_r(copy, ",", &save); item && !ret;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');

		if (!eq) {
			ret = error_setf(err, "'%s': expected name=value", item);
			break;
		}
		*eq = '\0';
		ret = object_property_set(obj, item, eq + 1, err);
	}
	free(copy);
	return ret;
}

static const char *const prop_type_names[] = {
	[PROP_BOOL] = "bool", [PROP_U32] = "uint32", [PROP_U64] = "uint64",
	[PROP_SIZE] = "size", [PROP_STRING] = "string",
};

void object_class_print_props(const struct object_class *oc, FILE *out)
{
	for (; oc; oc = oc->parent_class) {
		for (const struct property *p = oc->props; p && p->name; p++) {
			fprintf(out, "  %s=<%s>", p->name, prop_type_names[p->type]);
			if (p->type == PROP_STRING)
				fprintf(out, " (default \"%s\")", p->def_str ? p->def_str : "");
			else
				fprintf(out, " (default %#llx)", (unsigned long long)p->def);
			fprintf(out, "  %s\n", p->help ? p->help : "");
		}
	}
}
