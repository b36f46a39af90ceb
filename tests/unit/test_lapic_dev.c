/* The "lapic" device: the LAPIC model as a type of the object model. No
 * /dev/kvm: a fake host, a bare system container and address space. */
#define _GNU_SOURCE	/* memmem */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "devices/device.h"
#include "devices/error.h"
#include "devices/intc/lapic.h"
#include "memory/address_space.h"
#include "memory/region.h"

static int current = -1;	/* the "calling vCPU" */

static void f_notify(void *o, unsigned cpu) { (void)o; (void)cpu; }
static uint64_t f_now(void *o) { (void)o; return 1000; }
static void f_arm(void *o, unsigned cpu, uint64_t d) { (void)o; (void)cpu; (void)d; }
static int f_current(void *o) { (void)o; return current; }

static const struct apic_host_ops ops = {
	.notify = f_notify, .now_ns = f_now, .timer_arm = f_arm,
	.current_cpu = f_current,
};

static struct apic_bus *bus;
static struct memory_region sysmem;
static struct address_space *as;
static struct object *root;
static struct device_env env;

static void setup(void)
{
	bus = apic_bus_new(4, 0, &ops, NULL);
	cr_assert_not_null(bus);
	memory_region_init_container(&sysmem, "system", UINT64_MAX);
	as = address_space_new("system", &sysmem);
	root = object_new(TYPE_CONTAINER);
	env = (struct device_env){ .system_memory = &sysmem, .apic_bus = bus };
	current = -1;
}

static void teardown(void)
{
	object_free(root);		/* unrealizes: unmaps, detaches */
	address_space_destroy(as);
	apic_bus_free(bus);
}

TestSuite(lapic_dev, .init = setup, .fini = teardown);

/* A realized lapic with APIC ID @id, a child of root; NULL (and @e) if
 * realize failed. */
static struct device *mk(unsigned id, struct error *e)
{
	struct object *obj = object_new(TYPE_LAPIC);
	char val[16];

	cr_assert_not_null(obj);
	snprintf(val, sizeof(val), "%u", id);
	cr_assert_eq(object_property_set(obj, "id", val, e), 0, "%s", e->msg);
	if (device_realize((struct device *)obj, &env, e)) {
		object_free(obj);
		return NULL;
	}
	object_add_child(root, TYPE_LAPIC, obj);
	return (struct device *)obj;
}

static uint32_t read32(uint64_t gpa)
{
	uint8_t b[4] = { 0xaa, 0xaa, 0xaa, 0xaa };
	uint32_t v;

	address_space_rw(as, gpa, b, 4, false, NULL);
	memcpy(&v, b, 4);
	return v;
}

Test(lapic_dev, is_a_device_with_an_id_property)
{
	struct object *obj = object_new(TYPE_LAPIC);
	struct error e = { "" };
	uint64_t v = 99;

	cr_assert_not_null(obj);
	cr_assert(object_is_a(obj, TYPE_DEVICE));
	cr_assert_eq(object_property_get_uint(obj, "id", &v, &e), 0, "%s", e.msg);
	cr_assert_eq(v, 0, "default APIC ID 0");
	cr_assert_eq(object_property_set(obj, "id", "3", &e), 0);
	object_property_get_uint(obj, "id", &v, &e);
	cr_assert_eq(v, 3);
	cr_assert_neq(object_property_set(obj, "id", "-1", &e), 0);
	cr_assert_neq(object_property_set(obj, "base", "0", &e), 0);
	cr_assert(strstr(e.msg, "no property 'base'"), "%s", e.msg);
	cr_assert_null(lapic_from_device((struct device *)obj), "not realized");
	object_free(obj);
}

Test(lapic_dev, realize_attaches_the_lapic_with_that_id)
{
	struct error e = { "" };
	struct device *d0 = mk(0, &e), *d2 = mk(2, &e);

	cr_assert_not_null(d0, "%s", e.msg);
	cr_assert_not_null(d2, "%s", e.msg);
	cr_assert(d2->realized);
	cr_assert_eq(lapic_from_device(d0), apic_bus_cpu(bus, 0));
	cr_assert_eq(lapic_from_device(d2), apic_bus_cpu(bus, 2));
	cr_assert_eq(lapic_cpu(lapic_from_device(d2)), 2);
}

Test(lapic_dev, realize_rejects_bad_and_duplicate_ids)
{
	struct error e = { "" };

	cr_assert_null(mk(4, &e), "4 vCPUs: ids 0..3");
	cr_assert(strstr(e.msg, "id 4 is out of range"), "%s", e.msg);
	cr_assert_null(mk(255, &e));
	cr_assert_not_null(mk(1, &e), "%s", e.msg);
	cr_assert_null(mk(1, &e), "a second lapic with id 1");
	cr_assert(strstr(e.msg, "id 1 is taken"), "%s", e.msg);
	cr_assert_null(root->children->next_sibling, "failures left nothing");
}

Test(lapic_dev, realize_needs_an_apic_bus)
{
	struct error e = { "" };

	env.apic_bus = NULL;
	cr_assert_null(mk(0, &e));
	cr_assert(strstr(e.msg, "no APIC bus"), "%s", e.msg);
}

Test(lapic_dev, id_is_free_again_after_unrealize)
{
	struct error e = { "" };
	struct device *d = mk(1, &e);

	cr_assert_not_null(d, "%s", e.msg);
	object_free((struct object *)d);
	cr_assert_not_null(mk(1, &e), "%s", e.msg);
}

Test(lapic_dev, not_creatable_with_minus_device)
{
	struct error e = { "" };
	char buf[8192] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
	const char *builtin;

	cr_assert_null(device_create(TYPE_LAPIC ",id=0", &env, root, &e));
	cr_assert(strstr(e.msg, "unknown device 'lapic'"), "%s", e.msg);
	device_print_help(f);
	fclose(f);
	builtin = strstr(buf, "Built into the machine");
	cr_assert_not_null(builtin);
	cr_assert_null(memmem(buf, (size_t)(builtin - buf), "lapic", 5),
		       "not among the -device types");
	cr_assert_not_null(strstr(builtin, "\n  lapic: "), "listed as built in");
}

/* Every vCPU sees its own LAPIC at 0xFEE00000, whichever device's region
 * the flat view picked; with no calling vCPU the page reads all ones. */
Test(lapic_dev, the_page_is_the_calling_vcpus_lapic)
{
	struct error e = { "" };

	for (unsigned i = 0; i < 4; i++)
		cr_assert_not_null(mk(i, &e), "%s", e.msg);
	for (int cpu = 0; cpu < 4; cpu++) {
		current = cpu;
		cr_assert_eq(read32(APIC_DEFAULT_BASE + LAPIC_ID), (uint32_t)cpu << 24);
		cr_assert_eq(read32(APIC_DEFAULT_BASE + LAPIC_VER), LAPIC_VERSION);
	}
	current = 2;
	cr_assert_eq(read32(APIC_DEFAULT_BASE + LAPIC_SVR), 0xff);
	{
		uint32_t v = 0x1ff;

		address_space_rw(as, APIC_DEFAULT_BASE + LAPIC_SVR, (uint8_t *)&v, 4,
				 true, NULL);
	}
	cr_assert_eq(read32(APIC_DEFAULT_BASE + LAPIC_SVR), 0x1ff);
	current = 1;
	cr_assert_eq(read32(APIC_DEFAULT_BASE + LAPIC_SVR), 0xff, "only CPU 2's");
	current = -1;
	cr_assert_eq(read32(APIC_DEFAULT_BASE + LAPIC_ID), 0xffffffffu);
}

Test(lapic_dev, unrealize_unmaps_the_page)
{
	struct error e = { "" };
	struct device *d = mk(0, &e);
	const struct memory_region *hit = NULL;
	uint8_t b[4];

	cr_assert_not_null(d, "%s", e.msg);
	current = 0;
	address_space_rw(as, APIC_DEFAULT_BASE, b, 4, false, &hit);
	cr_assert_not_null(hit);
	cr_assert_str_eq(hit->name, "lapic");
	object_free((struct object *)d);
	hit = NULL;
	address_space_rw(as, APIC_DEFAULT_BASE, b, 4, false, &hit);
	cr_assert_null(hit, "nothing at 0xFEE00000 any more");
}

/* Without ops->current_cpu (a model with no vCPU threads) each device's
 * page is its own LAPIC. */
Test(lapic_dev, without_current_cpu_the_page_is_the_devices_own)
{
	static const struct apic_host_ops plain = {
		.notify = f_notify, .now_ns = f_now, .timer_arm = f_arm,
	};
	struct error e = { "" };

	apic_bus_free(bus);
	bus = apic_bus_new(4, 0, &plain, NULL);
	env.apic_bus = bus;
	cr_assert_not_null(mk(3, &e), "%s", e.msg);
	cr_assert_eq(read32(APIC_DEFAULT_BASE + LAPIC_ID), 3u << 24);
}
