/* A small object model in QOM's image: types are registered with a parent,
 * a class (shared, initialized once by class_init after a copy of the parent
 * class) and an instance (zeroed, then instance_init from the root type down).
 * Objects own their children; freeing an object frees its subtree. Classes
 * carry typed properties that can be set from "name=value" strings. */
#ifndef DEVICES_OBJECT_H
#define DEVICES_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct error;
struct object;
struct object_class;

enum property_type {
	PROP_BOOL,
	PROP_U32,
	PROP_U64,
	PROP_SIZE,	/* u64 with K/M/G suffixes */
	PROP_STRING,	/* char * owned by the object */
};

struct property {
	const char *name;
	enum property_type type;
	size_t offset;		/* of the field in the instance */
	uint64_t def;		/* default for numbers and bools */
	const char *def_str;	/* default for strings (copied) */
	const char *help;
};

#define PROP_END { .name = NULL }

struct type_info {
	const char *name;
	const char *parent;		/* NULL only for the root type "object" */
	const char *description;	/* shown by -device help */
	size_t instance_size;
	size_t class_size;
	bool abstract;
	void (*class_init)(struct object_class *oc);
	void (*instance_init)(struct object *obj);
	void (*instance_finalize)(struct object *obj);
};

struct object_class {
	const struct type_info *type;
	const struct object_class *parent_class;
	const struct property *props;	/* this type's own, PROP_END terminated */
	/* Runs first when the object is freed, before any finalizer, so a
	 * base type can undo what it set up on top of its subtypes (a device
	 * unrealizes itself here). Inherited like any method. */
	void (*unparent)(struct object *obj);
};

struct object {
	struct object_class *klass;
	char *id;
	struct object *parent;
	struct object *children;	/* owned */
	struct object *next_sibling;
};

#define TYPE_OBJECT "object"
#define TYPE_CONTAINER "container"	/* a plain object that holds children */

/* Registers a type; constructors call it through type_init() so every
 * linked-in device is known before main(). */
void type_register(const struct type_info *info);
#define type_init(fn) \
	static void __attribute__((constructor)) fn##_register(void) { fn(); }

/* The class of a registered type, initialized on first use; NULL if unknown. */
struct object_class *object_class_by_name(const char *name);
bool object_class_is_a(const struct object_class *oc, const char *name);
/* Calls @fn for each concrete type derived from @parent, sorted by name. */
void object_class_foreach(const char *parent,
			  void (*fn)(const struct object_class *oc, void *opaque),
			  void *opaque);

/* A new instance (NULL if the type is unknown or abstract). */
struct object *object_new(const char *type_name);
/* Finalizes and frees @obj and all its children, after detaching it. */
void object_free(struct object *obj);
void object_add_child(struct object *parent, const char *id,
		      struct object *child);
const char *object_type_name(const struct object *obj);
bool object_is_a(const struct object *obj, const char *type_name);
/* @obj as type @type_name, or NULL if it is not one. */
void *object_dynamic_cast(struct object *obj, const char *type_name);

/* Properties, looked up along the class chain. */
int object_property_set(struct object *obj, const char *name,
			const char *value, struct error *err);
/* A bool or number property's value (bools read 0 or 1); -1 if @obj has
 * no such property or it is a string. */
int object_property_get_uint(struct object *obj, const char *name,
			     uint64_t *value, struct error *err);
/* Applies "a=1,b=2" (the part of -device after the type name). */
int object_property_parse_list(struct object *obj, const char *list,
			       struct error *err);
void object_class_print_props(const struct object_class *oc, FILE *out);

#endif
