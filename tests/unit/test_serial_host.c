/* The UART's host side (test_serial.c drives its registers): what realize
 * opens and refuses, and a terminal that goes away under it. Waits for the
 * reader thread are bounded polls of what /proc shows. */
#define _GNU_SOURCE	/* posix_openpt */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "devices/char/serial.h"
#include "devices/device.h"
#include "devices/error.h"
#include "devices/irq.h"
#include "memory/address_space.h"
#include "memory/region.h"
#include "fake_clock.h"
#include "proc_self.h"

#define LSR	(0x3f8 + 5)

static struct memory_region io_root;
static struct address_space *io_as;
static struct object *root;
static struct fake_clock fc;
static struct device_env env;
static struct irq_line isa_irq[ISA_NUM_IRQS];

static void on_irq(void *opaque, unsigned n, bool level)
{
	(void)opaque, (void)n, (void)level;
}

static void setup(void)
{
	memory_region_init_container(&io_root, "io", 0x10000);
	io_as = address_space_new("io", &io_root);
	root = object_new(TYPE_CONTAINER);
	for (unsigned i = 0; i < ISA_NUM_IRQS; i++)
		isa_irq[i] = (struct irq_line){ .handler = on_irq, .n = i };
	fake_clock_init(&fc, 0, 0);
	env = (struct device_env){
		.io_space = &io_root, .clock = &fc.clock, .isa_irq = isa_irq,
	};
}

static void teardown(void)
{
	object_free(root);
	address_space_destroy(io_as);
}

TestSuite(serial_host, .init = setup, .fini = teardown);

/* A UART at @iobase writing to @path and reading @input; NULL (and @e) if
 * realize failed. */
static struct device *try_mk(const char *iobase, const char *path,
			     const char *input, struct error *e)
{
	struct object *obj = object_new(TYPE_ISA_SERIAL);

	cr_assert_not_null(obj);
	cr_assert_eq(object_property_parse_list(obj, "irq=3", e), 0, "%s", e->msg);
	cr_assert_eq(object_property_set(obj, "iobase", iobase, e), 0, "%s", e->msg);
	cr_assert_eq(object_property_set(obj, "path", path, e), 0, "%s", e->msg);
	cr_assert_eq(object_property_set(obj, "input", input, e), 0, "%s", e->msg);
	if (device_realize((struct device *)obj, &env, e)) {
		object_free(obj);
		return NULL;
	}
	object_add_child(root, iobase, obj);
	return (struct device *)obj;
}

/* A pty pair; returns the master, *@name the slave's path. */
static int open_pty(char **name)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY);

	cr_assert_geq(master, 0);
	cr_assert_eq(grantpt(master), 0);
	cr_assert_eq(unlockpt(master), 0);
	*name = strdup(ptsname(master));
	cr_assert_not_null(*name);
	return master;
}

static bool is_cooked(const char *tty)
{
	struct termios t;
	int fd = open(tty, O_RDWR | O_NOCTTY);
	bool cooked;

	cr_assert_geq(fd, 0);
	cr_assert_eq(tcgetattr(fd, &t), 0);
	cooked = t.c_lflag & ICANON;
	close(fd);
	return cooked;
}

Test(serial_host, only_one_serial_input_may_be_a_terminal)
{
	char *tty1, *tty2;
	int m1 = open_pty(&tty1), m2 = open_pty(&tty2);
	struct device *first;
	struct error e = { "" };

	first = try_mk("0x3f8", "none", tty1, &e);
	cr_assert_not_null(first, "%s", e.msg);
	cr_assert_null(try_mk("0x2f8", "none", tty2, &e));
	cr_assert(strstr(e.msg, "only one serial input may be a terminal"), "%s", e.msg);
	cr_assert(is_cooked(tty2), "the refused terminal is left as it was");
	cr_assert_null(io_root.subregions->next_sibling, "only the first is mapped");

	object_free(&first->parent_obj);	/* the terminal is free again */
	cr_assert(is_cooked(tty1));
	cr_assert_not_null(try_mk("0x2f8", "none", tty2, &e), "%s", e.msg);
	cr_assert_not(is_cooked(tty2));
	close(m1);
	close(m2);
	free(tty1);
	free(tty2);
}

Test(serial_host, an_output_that_cannot_be_opened_fails_realize)
{
	struct error e = { "" };

	cr_assert_null(try_mk("0x3f8", "/nonexistent/dir/out", "none", &e));
	cr_assert(strstr(e.msg, "serial output '/nonexistent/dir/out'"), "%s", e.msg);
	cr_assert_null(io_root.subregions, "nothing mapped");
}

Test(serial_host, a_failed_input_closes_the_output_it_opened)
{
	char path[] = "/tmp/test_serial_host_XXXXXX";
	int fd = mkstemp(path);
	unsigned fds;
	struct error e = { "" };

	cr_assert_geq(fd, 0);
	close(fd);
	fds = count_dir("/proc/self/fd");
	cr_assert_null(try_mk("0x3f8", path, "/nonexistent/in", &e));
	unlink(path);
	cr_assert(strstr(e.msg, "serial input '/nonexistent/in'"), "%s", e.msg);
	cr_assert_eq(count_dir("/proc/self/fd"), fds, "the output file is closed");
	cr_assert_null(io_root.subregions, "nothing mapped");
}

/* Waits (bounded) until only @tasks threads are left. */
static void wait_tasks(unsigned tasks)
{
	for (int i = 0; i < 10000 && count_dir("/proc/self/task") > tasks; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	cr_assert_eq(count_dir("/proc/self/task"), tasks, "the reader has ended");
}

static void assert_no_data(void)
{
	uint8_t lsr = 0;

	cr_assert_eq(address_space_read(io_as, LSR, &lsr, 1), MEMTX_OK);
	cr_assert_eq(lsr, 0x60, "no data, transmitter empty");
}

/* The slave of a pty whose master closed reads end-of-file: input ends,
 * quietly, as at the end of any file; the UART keeps answering. */
Test(serial_host, a_terminal_that_hangs_up_ends_the_input, .init = cr_redirect_stderr)
{
	unsigned tasks = count_dir("/proc/self/task");
	char *tty;
	int master = open_pty(&tty);
	struct error e = { "" };

	cr_assert_not_null(try_mk("0x3f8", "none", tty, &e), "%s", e.msg);
	cr_assert_eq(count_dir("/proc/self/task"), tasks + 1, "a reader runs");
	close(master);
	wait_tasks(tasks);
	assert_no_data();
	fflush(stderr);
	cr_assert_stderr_eq_str("");
	free(tty);
}

/* A read error (a directory opens, polls readable, and reads EISDIR) ends
 * the input for good with one message; the UART keeps answering. */
Test(serial_host, a_read_error_ends_the_input_with_one_message,
     .init = cr_redirect_stderr)
{
	unsigned tasks = count_dir("/proc/self/task");
	struct error e = { "" };

	cr_assert_not_null(try_mk("0x3f8", "none", "/", &e), "%s", e.msg);
	wait_tasks(tasks);
	assert_no_data();
	fflush(stderr);
	cr_assert_stderr_eq_str("tinyvmm: serial input: Is a directory; input ends\n");
}
