/* The halt polling window's policy (vmm/vcpu.h: halt_poll_init and
 * halt_poll_update), KVM's halt_poll_ns rules: no KVM, no clock. */
#include <criterion/criterion.h>

#include "vmm/vcpu.h"

#define START	HALT_POLL_GROW_START_NS
#define CAP	HALT_POLL_DEFAULT_MAX_NS

static struct halt_poll adaptive(void)
{
	struct halt_poll hp;

	halt_poll_init(&hp, -1, 2, 2);
	return hp;
}

Test(halt_poll, default_caps_at_200us_and_starts_without_a_window)
{
	struct halt_poll hp = adaptive();

	cr_assert_eq(hp.max_ns, 200000);
	cr_assert_eq(hp.window_ns, 0);
}

Test(halt_poll, option_sets_the_cap_and_zero_turns_it_off)
{
	struct halt_poll hp;

	halt_poll_init(&hp, 50000, 2, 4);
	cr_assert_eq(hp.max_ns, 50000);
	halt_poll_init(&hp, 0, 1, 4);
	cr_assert_eq(hp.max_ns, 0);
	halt_poll_update(&hp, 1000, false);	/* a short halt grows nothing */
	cr_assert_eq(hp.window_ns, 0);
}

Test(halt_poll, none_when_vcpus_outnumber_host_cpus)
{
	struct halt_poll hp;

	halt_poll_init(&hp, -1, 3, 2);
	cr_assert_eq(hp.max_ns, 0);
	halt_poll_init(&hp, 100000, 8, 2);
	cr_assert_eq(hp.max_ns, 0);
	halt_poll_init(&hp, -1, 2, 2);		/* as many: polls */
	cr_assert_eq(hp.max_ns, CAP);
	halt_poll_init(&hp, -1, 1, -1);		/* host CPUs unknown: no */
	cr_assert_eq(hp.max_ns, 0);
}

Test(halt_poll, a_short_sleep_grows_the_window_from_the_start_value_doubling)
{
	struct halt_poll hp = adaptive();

	halt_poll_update(&hp, 30000, false);
	cr_assert_eq(hp.window_ns, START);
	halt_poll_update(&hp, 30000, false);
	cr_assert_eq(hp.window_ns, 2 * START);
	halt_poll_update(&hp, 30000, false);
	cr_assert_eq(hp.window_ns, 4 * START);
}

Test(halt_poll, growth_stops_at_the_cap)
{
	struct halt_poll hp = adaptive();

	for (int i = 0; i < 20; i++)
		halt_poll_update(&hp, CAP, false);	/* at the cap: still short */
	cr_assert_eq(hp.window_ns, CAP);
}

Test(halt_poll, a_small_cap_bounds_even_the_start_value)
{
	struct halt_poll hp;

	halt_poll_init(&hp, 4000, 2, 2);
	halt_poll_update(&hp, 3000, false);
	cr_assert_eq(hp.window_ns, 4000);
}

Test(halt_poll, a_wake_up_inside_the_window_keeps_it)
{
	struct halt_poll hp = adaptive();

	hp.window_ns = 40000;
	halt_poll_update(&hp, 5000, true);
	cr_assert_eq(hp.window_ns, 40000);
}

Test(halt_poll, a_halt_longer_than_the_cap_halves_the_window)
{
	struct halt_poll hp = adaptive();

	hp.window_ns = 160000;
	halt_poll_update(&hp, CAP + 1, false);
	cr_assert_eq(hp.window_ns, 80000);
	halt_poll_update(&hp, 5000000, false);
	cr_assert_eq(hp.window_ns, 40000);
}

Test(halt_poll, shrinking_below_the_start_value_stops_polling)
{
	struct halt_poll hp = adaptive();

	hp.window_ns = START;
	halt_poll_update(&hp, 1000000, false);
	cr_assert_eq(hp.window_ns, 0);
	halt_poll_update(&hp, 1000000, false);	/* and stays off */
	cr_assert_eq(hp.window_ns, 0);
}

Test(halt_poll, host_busy_when_more_tasks_can_run_than_cpus)
{
	struct halt_poll hp;

	halt_poll_init(&hp, -1, 2, 2);
	cr_assert_not(halt_poll_host_busy(&hp, "0.52 0.58 0.59 2/150 4242\n"));
	cr_assert_not(halt_poll_host_busy(&hp, "0.52 0.58 0.59 1/150 4242\n"));
	cr_assert(halt_poll_host_busy(&hp, "3.10 2.00 1.00 3/151 4243\n"));
	cr_assert(halt_poll_host_busy(&hp, "14.37 13.11 8.19 15/159 14537\n"));
}

Test(halt_poll, host_busy_when_the_load_cannot_be_read)
{
	struct halt_poll hp;

	halt_poll_init(&hp, -1, 2, 2);
	cr_assert(halt_poll_host_busy(&hp, ""));
	cr_assert(halt_poll_host_busy(&hp, "0.52 0.58"));
	cr_assert(halt_poll_host_busy(&hp, "a b c d/e"));
}
