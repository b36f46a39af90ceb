/* Memory listeners: the exact list of calls for each change. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "memory/address_space.h"
#include "memory/flatview.h"
#include "memory/listener.h"
#include "memory/ramblock.h"
#include "memory/region.h"

struct fake {
	struct memory_listener l;
	const char *name;
	char *log;		/* may be shared by several fakes, to see order */
};

static char log_buf[2048];

static void say(struct memory_listener *l, const char *what, const struct flat_range *r)
{
	struct fake *f = (struct fake *)l;
	size_t n = strlen(f->log);

	if (r)
		snprintf(f->log + n, sizeof(log_buf) - n, "%s%s %#llx+%#llx%s;", f->name, what,
			 (unsigned long long)r->start, (unsigned long long)r->size,
			 r->readonly ? " ro" : "");
	else
		snprintf(f->log + n, sizeof(log_buf) - n, "%s%s;", f->name, what);
}

static void f_add(struct memory_listener *l, const struct flat_range *r)
{
	say(l, "add", r);
}

static void f_del(struct memory_listener *l, const struct flat_range *r)
{
	say(l, "del", r);
}

static void f_begin(struct memory_listener *l)
{
	say(l, "begin", NULL);
}

static void f_commit(struct memory_listener *l)
{
	say(l, "commit", NULL);
}

#define FAKE(n) { .l = { .begin = f_begin, .commit = f_commit, .region_add = f_add, \
			 .region_del = f_del }, .name = n, .log = log_buf }

static struct memory_region root;
static struct address_space *as;
static struct ram_block rb, romb;

static void setup(void)
{
	memory_region_init_container(&root, "root", UINT64_MAX);
	as = address_space_new("test", &root);
	cr_assert_eq(ram_block_init(&rb, "ram", 0x100000), 0);
	cr_assert_eq(ram_block_init(&romb, "rom", 0x1000), 0);
	log_buf[0] = '\0';
}

static void teardown(void)
{
	address_space_destroy(as);
	ram_block_destroy(&rb);
	ram_block_destroy(&romb);
}

TestSuite(listener, .init = setup, .fini = teardown);

#define assert_calls(expect) do {					\
	cr_assert_str_eq(log_buf, expect, "calls: %s", log_buf);	\
	log_buf[0] = '\0';						\
} while (0)

static uint64_t nop_read(void *o, uint64_t off, unsigned size)
{
	(void)o; (void)off; (void)size;
	return 0;
}

static const struct memory_region_ops nop_ops = { .read = nop_read };

Test(listener, registering_replays_the_ram_ranges)
{
	struct fake f = FAKE(""), g = FAKE("");
	struct memory_region ram, rom, dev;

	address_space_add_listener(as, &f.l);
	assert_calls("begin;commit;");
	memory_region_init_ram(&ram, "ram", &rb, 0, 0x100000);
	memory_region_init_rom(&rom, "rom", &romb, 0, 0x1000);
	memory_region_init_io(&dev, "dev", &nop_ops, NULL, 0x1000);
	memory_transaction_begin();
	memory_region_add_subregion(&root, 0, &ram, 0);
	memory_region_add_subregion(&root, 0xfffff000, &rom, 0);
	memory_region_add_subregion(&root, 0x200000, &dev, 0);
	memory_transaction_commit();
	assert_calls("begin;add 0+0x100000;add 0xfffff000+0x1000 ro;commit;");
	address_space_add_listener(as, &g.l);
	assert_calls("begin;add 0+0x100000;add 0xfffff000+0x1000 ro;commit;");
}

Test(listener, io_changes_are_silent)
{
	struct fake f = FAKE("");
	struct memory_region dev;

	address_space_add_listener(as, &f.l);
	assert_calls("begin;commit;");
	memory_region_init_io(&dev, "dev", &nop_ops, NULL, 0x1000);
	memory_region_add_subregion(&root, 0x200000, &dev, 0);
	memory_region_set_address(&dev, 0x300000);
	memory_region_set_enabled(&dev, false);
	memory_region_del_subregion(&root, &dev);
	assert_calls("");
}

Test(listener, a_rom_over_ram_splits_it)
{
	struct fake f = FAKE("");
	struct memory_region ram, rom;

	memory_region_init_ram(&ram, "ram", &rb, 0, 0x100000);
	memory_region_add_subregion(&root, 0, &ram, 0);
	address_space_add_listener(as, &f.l);
	assert_calls("begin;add 0+0x100000;commit;");
	memory_region_init_rom(&rom, "rom", &romb, 0, 0x1000);
	memory_region_add_subregion(&root, 0x10000, &rom, 1);
	assert_calls("begin;del 0+0x100000;add 0+0x10000;add 0x10000+0x1000 ro;"
		     "add 0x11000+0xef000;commit;");
	memory_region_del_subregion(&root, &rom);
	assert_calls("begin;del 0+0x10000;del 0x10000+0x1000 ro;del 0x11000+0xef000;"
		     "add 0+0x100000;commit;");
}

/* A BAR-like move: disable, move, enable in one transaction. Nothing is
 * seen until the commit, then exactly one del and one add; accesses in the
 * meantime still see the old layout. */
Test(listener, a_move_in_a_transaction_is_one_del_and_one_add)
{
	struct fake f = FAKE("");
	struct memory_region ram, bar;

	memory_region_init_ram(&ram, "ram", &rb, 0, 0x100000);
	memory_region_init_alias(&bar, "bar", &ram, 0, 0x1000);
	memory_region_add_subregion(&root, 0x300000, &bar, 0);
	address_space_add_listener(as, &f.l);
	assert_calls("begin;add 0x300000+0x1000;commit;");
	memory_transaction_begin();
	memory_region_set_enabled(&bar, false);
	memory_region_set_address(&bar, 0x400000);
	memory_region_set_enabled(&bar, true);
	assert_calls("");
	cr_assert_not_null(address_space_map_ram(as, 0x300000, 1, false), "old view still");
	cr_assert_null(address_space_map_ram(as, 0x400000, 1, false));
	memory_transaction_commit();
	assert_calls("begin;del 0x300000+0x1000;add 0x400000+0x1000;commit;");
	cr_assert_null(address_space_map_ram(as, 0x300000, 1, false));
	cr_assert_eq(address_space_map_ram(as, 0x400000, 1, false), rb.host);
}

Test(listener, all_dels_come_before_any_add)
{
	struct fake f = FAKE("");
	struct memory_region ram, b1, b2;

	memory_region_init_ram(&ram, "ram", &rb, 0, 0x100000);
	memory_region_init_alias(&b1, "b1", &ram, 0, 0x1000);
	memory_region_init_alias(&b2, "b2", &ram, 0x1000, 0x1000);
	memory_region_add_subregion(&root, 0x10000, &b1, 0);
	memory_region_add_subregion(&root, 0x30000, &b2, 0);
	address_space_add_listener(as, &f.l);
	assert_calls("begin;add 0x10000+0x1000;add 0x30000+0x1000;commit;");
	memory_transaction_begin();
	memory_region_set_address(&b1, 0x40000);
	memory_region_set_address(&b2, 0x20000);
	memory_transaction_commit();
	assert_calls("begin;del 0x10000+0x1000;del 0x30000+0x1000;"
		     "add 0x20000+0x1000;add 0x40000+0x1000;commit;");
}

/* Same place and size, but another host address or read-only-ness: the
 * range changed, so del + add. */
Test(listener, host_or_readonly_changes_are_del_plus_add)
{
	struct fake f = FAKE("");
	struct memory_region ram, a1, a2, rom;

	memory_region_init_ram(&ram, "ram", &rb, 0, 0x100000);
	memory_region_init_alias(&a1, "a1", &ram, 0, 0x1000);
	memory_region_init_alias(&a2, "a2", &ram, 0x8000, 0x1000);
	memory_region_add_subregion(&root, 0x10000, &a1, 0);
	address_space_add_listener(as, &f.l);
	assert_calls("begin;add 0x10000+0x1000;commit;");
	memory_region_add_subregion(&root, 0x10000, &a2, 1);
	assert_calls("begin;del 0x10000+0x1000;add 0x10000+0x1000;commit;");

	memory_region_init_rom(&rom, "rom", &rb, 0x8000, 0x1000);
	memory_region_add_subregion(&root, 0x10000, &rom, 2);
	assert_calls("begin;del 0x10000+0x1000;add 0x10000+0x1000 ro;commit;");
}

/* Removing and putting back the same thing in one transaction, or setting
 * what is already set: nothing changed, nothing is said. */
Test(listener, no_change_no_calls)
{
	struct fake f = FAKE("");
	struct memory_region ram;

	memory_region_init_ram(&ram, "ram", &rb, 0, 0x1000);
	memory_region_add_subregion(&root, 0x10000, &ram, 0);
	address_space_add_listener(as, &f.l);
	assert_calls("begin;add 0x10000+0x1000;commit;");
	memory_transaction_begin();
	memory_region_del_subregion(&root, &ram);
	memory_region_add_subregion(&root, 0x10000, &ram, 0);
	memory_transaction_commit();
	memory_transaction_begin();
	memory_region_set_enabled(&ram, false);
	memory_region_set_enabled(&ram, true);
	memory_transaction_commit();
	memory_region_set_address(&ram, 0x10000);
	memory_region_set_enabled(&ram, true);
	memory_transaction_begin();
	memory_transaction_commit();
	assert_calls("");
}

Test(listener, nested_transactions_tell_on_the_outermost_commit)
{
	struct fake f = FAKE("");
	struct memory_region r1, r2;

	memory_region_init_ram(&r1, "r1", &rb, 0, 0x1000);
	memory_region_init_ram(&r2, "r2", &rb, 0x1000, 0x1000);
	address_space_add_listener(as, &f.l);
	assert_calls("begin;commit;");
	memory_transaction_begin();
	memory_region_add_subregion(&root, 0x10000, &r1, 0);
	memory_transaction_begin();
	memory_region_add_subregion(&root, 0x20000, &r2, 0);
	memory_transaction_commit();
	assert_calls("");
	memory_transaction_commit();
	assert_calls("begin;add 0x10000+0x1000;add 0x20000+0x1000;commit;");
}

Test(listener, several_listeners_in_registration_order_and_removal)
{
	struct fake a = FAKE("A."), b = FAKE("B.");
	struct memory_region ram;

	address_space_add_listener(as, &a.l);
	address_space_add_listener(as, &b.l);
	assert_calls("A.begin;A.commit;B.begin;B.commit;");
	memory_region_init_ram(&ram, "ram", &rb, 0, 0x1000);
	memory_region_add_subregion(&root, 0x10000, &ram, 0);
	assert_calls("A.begin;A.add 0x10000+0x1000;A.commit;"
		     "B.begin;B.add 0x10000+0x1000;B.commit;");
	address_space_remove_listener(as, &a.l);
	memory_region_del_subregion(&root, &ram);
	assert_calls("B.begin;B.del 0x10000+0x1000;B.commit;");
	address_space_remove_listener(as, &b.l);
	memory_region_add_subregion(&root, 0x10000, &ram, 0);
	assert_calls("");
}

/* begin/commit are optional. */
Test(listener, without_begin_and_commit)
{
	struct fake f = { .l = { .region_add = f_add, .region_del = f_del }, .name = "",
			  .log = log_buf };
	struct memory_region ram;

	memory_region_init_ram(&ram, "ram", &rb, 0, 0x1000);
	address_space_add_listener(as, &f.l);
	memory_region_add_subregion(&root, 0x10000, &ram, 0);
	memory_region_set_address(&ram, 0x20000);
	assert_calls("add 0x10000+0x1000;del 0x10000+0x1000;add 0x20000+0x1000;");
}

/* The announced range is the one in the view: host and size are usable. */
static const struct flat_range *last_added;
static uint8_t *last_host;

static void keep_add(struct memory_listener *l, const struct flat_range *r)
{
	(void)l;
	last_added = r;
	last_host = r->host;
}

Test(listener, ranges_carry_host_addresses)
{
	struct memory_listener l = { .region_add = keep_add };
	struct memory_region ram, al;

	memory_region_init_ram(&ram, "ram", &rb, 0, 0x100000);
	memory_region_init_alias(&al, "al", &ram, 0x3000, 0x2000);
	address_space_add_listener(as, &l);
	memory_region_add_subregion(&root, 0x1000, &al, 0);
	cr_assert_not_null(last_added);
	cr_assert_eq(last_host, rb.host + 0x3000);
	address_space_remove_listener(as, &l);
}

/* A listener of one address space hears nothing of another. */
Test(listener, per_address_space)
{
	struct fake f = FAKE("");
	struct memory_region other_root, ram;
	struct address_space *other;

	memory_region_init_container(&other_root, "other", 0x10000);
	other = address_space_new("other", &other_root);
	address_space_add_listener(as, &f.l);
	assert_calls("begin;commit;");
	memory_region_init_ram(&ram, "ram", &rb, 0, 0x1000);
	memory_region_add_subregion(&other_root, 0, &ram, 0);
	assert_calls("");
	address_space_destroy(other);
}

/* A listener that changes the tree from its callback (as a device might
 * when told of RAM): the change is rendered after the commit that told it,
 * and the final view holds both. */
static struct memory_region *follower;

static void add_follows(struct memory_listener *l, const struct flat_range *r)
{
	say(l, "add", r);
	if (r->start == 0x10000 && !follower->parent)
		memory_region_add_subregion(&root, 0x80000, follower, 0);
}

Test(listener, a_listener_may_change_the_tree)
{
	struct fake f = FAKE("");
	struct memory_region ram, ram2;

	f.l.region_add = add_follows;
	memory_region_init_ram(&ram, "ram", &rb, 0, 0x1000);
	memory_region_init_ram(&ram2, "ram2", &rb, 0x1000, 0x1000);
	follower = &ram2;
	address_space_add_listener(as, &f.l);
	assert_calls("begin;commit;");
	memory_region_add_subregion(&root, 0x10000, &ram, 0);
	assert_calls("begin;add 0x10000+0x1000;commit;begin;add 0x80000+0x1000;commit;");
	cr_assert_eq(address_space_map_ram(as, 0x10000, 1, false), rb.host);
	cr_assert_eq(address_space_map_ram(as, 0x80000, 1, false), rb.host + 0x1000);
}

/* An I/O region with DMA RAM (a watched page) is no RAM for the listener:
 * KVM's memslots leave a hole there, so the CPU's accesses exit. */
Test(listener, io_with_dma_ram_is_a_hole)
{
	struct fake f = FAKE("");
	struct memory_region ram, watch;

	memory_region_init_ram(&ram, "ram", &rb, 0, 0x100000);
	memory_region_add_subregion(&root, 0, &ram, 0);
	address_space_add_listener(as, &f.l);
	assert_calls("begin;add 0+0x100000;commit;");
	memory_region_init_io(&watch, "watch", &nop_ops, NULL, 0x1000);
	memory_region_set_dma_ram(&watch, &rb, 0x5000);
	memory_region_add_subregion(&root, 0x5000, &watch, 1);
	assert_calls("begin;del 0+0x100000;add 0+0x5000;add 0x6000+0xfa000;commit;");
	memory_region_del_subregion(&root, &watch);
	assert_calls("begin;del 0+0x5000;del 0x6000+0xfa000;add 0+0x100000;commit;");
}
