/* Typed properties of the object model, one of each type, as -device and
 * the board set and read them: defaults, parsing, limits, reading back, and
 * lookup along the class chain. */
#include <criterion/criterion.h>
#include <string.h>

#include "devices/error.h"
#include "devices/object.h"

#define TYPE_GAUGE "test-gauge"
#define TYPE_FINE_GAUGE "test-fine-gauge"

struct gauge {
	struct object parent;
	bool on;
	uint32_t small;
	uint64_t big;
	uint64_t bytes;
	char *label;		/* freed by object_free */
	uint32_t step;		/* TYPE_FINE_GAUGE's own */
};

static const struct property gauge_props[] = {
	{ .name = "on", .type = PROP_BOOL, .offset = offsetof(struct gauge, on), .def = 1 },
	{ .name = "small", .type = PROP_U32, .offset = offsetof(struct gauge, small),
	  .def = 7 },
	{ .name = "big", .type = PROP_U64, .offset = offsetof(struct gauge, big),
	  .def = 0x100000000ull },
	{ .name = "bytes", .type = PROP_SIZE, .offset = offsetof(struct gauge, bytes),
	  .def = 4096 },
	{ .name = "label", .type = PROP_STRING, .offset = offsetof(struct gauge, label) },
	PROP_END,
};

static const struct property fine_gauge_props[] = {
	{ .name = "step", .type = PROP_U32, .offset = offsetof(struct gauge, step), .def = 2 },
	PROP_END,
};

static void gauge_class_init(struct object_class *oc)
{
	oc->props = gauge_props;
}

static void fine_gauge_class_init(struct object_class *oc)
{
	oc->props = fine_gauge_props;
}

static const struct type_info gauge_info = {
	.name = TYPE_GAUGE, .parent = TYPE_OBJECT,
	.instance_size = sizeof(struct gauge), .class_size = sizeof(struct object_class),
	.class_init = gauge_class_init,
};

static const struct type_info fine_gauge_info = {
	.name = TYPE_FINE_GAUGE, .parent = TYPE_GAUGE,
	.instance_size = sizeof(struct gauge), .class_size = sizeof(struct object_class),
	.class_init = fine_gauge_class_init,
};

static void register_gauge_types(void)
{
	type_register(&gauge_info);
	type_register(&fine_gauge_info);
}
type_init(register_gauge_types)

static struct gauge *g;
static struct error e;

static void setup(void)
{
	g = (struct gauge *)object_new(TYPE_FINE_GAUGE);
	cr_assert_not_null(g);
	e = (struct error){ "" };
}

static void teardown(void)
{
	object_free(&g->parent);
}

TestSuite(properties, .init = setup, .fini = teardown);

static uint64_t get(const char *name)
{
	uint64_t v = 0xdeadbeef;

	cr_assert_eq(object_property_get_uint(&g->parent, name, &v, &e), 0,
		     "%s: %s", name, e.msg);
	return v;
}

Test(properties, every_type_starts_at_its_default_in_a_subtype_too)
{
	cr_assert(g->on);
	cr_assert_eq(g->small, 7);
	cr_assert_eq(g->big, 0x100000000ull, "a u64 default keeps its high half");
	cr_assert_eq(g->bytes, 4096);
	cr_assert_null(g->label, "a string without a default is NULL");
	cr_assert_eq(g->step, 2);
}

Test(properties, get_uint_reads_bools_and_numbers_of_every_width)
{
	cr_assert_eq(get("on"), 1);
	cr_assert_eq(object_property_set(&g->parent, "on", "no", &e), 0, "%s", e.msg);
	cr_assert_eq(get("on"), 0);
	cr_assert_eq(get("small"), 7);
	cr_assert_eq(get("big"), 0x100000000ull);
	cr_assert_eq(get("bytes"), 4096);
	cr_assert_eq(get("step"), 2, "the subtype's own property");
}

Test(properties, get_uint_refuses_strings_and_unknown_names)
{
	uint64_t v = 42;

	cr_assert_eq(object_property_get_uint(&g->parent, "label", &v, &e), -1);
	cr_assert(strstr(e.msg, "label: not a number"), "%s", e.msg);
	cr_assert_eq(object_property_get_uint(&g->parent, "volume", &v, &e), -1);
	cr_assert(strstr(e.msg, "test-fine-gauge has no property 'volume'"), "%s", e.msg);
	cr_assert_eq(v, 42, "a refused read leaves the output alone");
}

Test(properties, u64_takes_the_whole_range_and_no_more)
{
	cr_assert_eq(object_property_set(&g->parent, "big", "0xffffffffffffffff", &e), 0,
		     "%s", e.msg);
	cr_assert_eq(g->big, UINT64_MAX);
	cr_assert_eq(object_property_set(&g->parent, "big", "18446744073709551616", &e), -1);
	cr_assert(strstr(e.msg, "big: '18446744073709551616' is not a number"), "%s", e.msg);
	cr_assert_eq(object_property_set(&g->parent, "big", "1K", &e), -1,
		     "a plain number takes no size suffix");
	cr_assert_eq(object_property_set(&g->parent, "big", "-1", &e), -1);
	cr_assert_eq(g->big, UINT64_MAX, "failed sets leave the value alone");
}

Test(properties, size_takes_suffixes_up_to_the_u64_limit)
{
	cr_assert_eq(object_property_set(&g->parent, "bytes", "2M", &e), 0, "%s", e.msg);
	cr_assert_eq(g->bytes, 2ull << 20);
	cr_assert_eq(object_property_set(&g->parent, "bytes", "16383PiB", &e), -1,
		     "P is not a unit here");
	cr_assert_eq(object_property_set(&g->parent, "bytes", "16777215T", &e), 0, "%s", e.msg);
	cr_assert_eq(g->bytes, 16777215ull << 40, "the largest T that fits");
	cr_assert_eq(object_property_set(&g->parent, "bytes", "16777216T", &e), -1);
	cr_assert(strstr(e.msg, "bytes: '16777216T' is not a size"), "%s", e.msg);
	cr_assert_eq(g->bytes, 16777215ull << 40);
}

Test(properties, u32_keeps_its_limit_in_a_subtype)
{
	cr_assert_eq(object_property_set(&g->parent, "step", "4294967295", &e), 0, "%s", e.msg);
	cr_assert_eq(g->step, UINT32_MAX);
	cr_assert_eq(object_property_set(&g->parent, "step", "4294967296", &e), -1);
	cr_assert_eq(g->step, UINT32_MAX);
	cr_assert_eq(g->small, 7, "the neighbouring field is untouched");
}

Test(properties, a_string_is_copied_and_replaced)
{
	char value[] = "first";

	cr_assert_eq(object_property_set(&g->parent, "label", value, &e), 0, "%s", e.msg);
	value[0] = 'F';
	cr_assert_str_eq(g->label, "first", "the object owns a copy");
	cr_assert_eq(object_property_parse_list(&g->parent, "label=second,big=0x10", &e), 0,
		     "%s", e.msg);
	cr_assert_str_eq(g->label, "second", "the old copy is freed, not leaked");
	cr_assert_eq(g->big, 16);
}
