/* No interrupt lost, none duplicated, none invented, while many sources race
 * towards two vCPUs down every path the PC has: ISA lines fanned out to the
 * 8259 and the I/O APIC as the board wires them (vmm/pc.c), the 8259's INT
 * on CPU 0's LINT0 in ExtINT mode, I/O APIC edge and level entries (remote
 * IRR, EOI), MSIs (fixed, lowest priority, NMI).
 *
 * Each source has at most one interrupt in flight: it fires, then waits
 * until a vCPU has taken it (a level source's driver has quieted the line
 * by then) before firing again. So nothing may coalesce, and every count
 * must come out exact. The vCPU threads sleep until apic_host_ops.notify
 * wakes them, never polling: a lost notification leaves a source waiting,
 * and the test fails on its timeout rather than passing by luck. A noise
 * thread meanwhile drives lines whose entries are masked everywhere. */
#define _GNU_SOURCE	/* open_memstream */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/device.h"
#include "devices/error.h"
#include "devices/intc/i8259.h"
#include "devices/intc/ioapic.h"
#include "devices/intc/lapic.h"
#include "memory/address_space.h"
#include "memory/region.h"

#define NCPUS		2
#define ROUNDS		2000	/* interrupts per source */
#define TIMEOUT_S	20	/* a source waiting this long: one was lost */
#define PIC_BASE	0x20	/* master IRs 0-7 */
#define SLAVE_BASE	0x28	/* slave IRs 0-7 (ISA IRQs 8-15) */
#define OCW2_EOI	0x20
#define OCW3_READ_ISR	0x0b
#define STRAY_VECTOR	0xee	/* the masked entries' vector */

enum path {
	PIC_EDGE,	/* ISA line → 8259 → ExtINT on CPU 0; its pin masked */
	PIC_LEVEL,	/* the same, level-triggered by the ELCR */
	IOAPIC_EDGE,	/* ISA line (its 8259 input masked) or PCI pin → I/O APIC */
	IOAPIC_LEVEL,
	MSI_FIXED,	/* apic_bus_deliver_msi */
	MSI_NMI,
};

struct source {
	enum path path;
	unsigned line;		/* < 16: ISA IRQ; else an I/O APIC pin */
	unsigned vector;	/* PIC_*: the 8259's vector; NMIs: unused */
	uint64_t route;		/* I/O APIC: entry bits; MSI: the address */
};

#define RTE_CPU(n)	((uint64_t)(n) << IOAPIC_RTE_DEST_SHIFT)
#define RTE_LOWEST_BOTH	((uint64_t)APIC_DM_LOWEST << IOAPIC_RTE_MODE_SHIFT | \
			 IOAPIC_RTE_LOGICAL | RTE_CPU(3))
#define MSI_CPU(n)	(0xfee00000ull | (n) << 12)
#define MSI_LOWEST_BOTH	(0xfee00000ull | 3u << 12 | 1u << 3 | 1u << 2)	/* RH, DM */

static const struct source sources[] = {
	{ PIC_EDGE, 1, PIC_BASE + 1, 0 },
	{ PIC_EDGE, 4, PIC_BASE + 4, 0 },
	{ PIC_EDGE, 12, SLAVE_BASE + 4, 0 },
	{ PIC_LEVEL, 5, PIC_BASE + 5, 0 },
	{ PIC_LEVEL, 10, SLAVE_BASE + 2, 0 },
	{ IOAPIC_EDGE, 0, 0x50, RTE_CPU(1) },	/* IRQ 0 is pin 2 */
	{ IOAPIC_EDGE, 6, 0x61, RTE_CPU(0) },
	{ IOAPIC_EDGE, 21, 0x62, RTE_LOWEST_BOTH },
	{ IOAPIC_LEVEL, 11, 0x71, RTE_CPU(1) },
	{ IOAPIC_LEVEL, 16, 0x80, RTE_CPU(0) },
	{ IOAPIC_LEVEL, 17, 0x91, RTE_CPU(1) },
	{ IOAPIC_LEVEL, 19, 0xa2, RTE_LOWEST_BOTH },
	{ MSI_FIXED, 0, 0xb0, MSI_CPU(0) },
	{ MSI_FIXED, 0, 0xc1, MSI_CPU(1) },
	{ MSI_FIXED, 0, 0xd2, MSI_LOWEST_BOTH },
	{ MSI_NMI, 0, 0, MSI_CPU(0) },
	{ MSI_NMI, 0, 0, MSI_CPU(1) },
};
#define NSRC		(sizeof(sources) / sizeof(sources[0]))

/* Lines the noise thread drives: masked in the 8259 and the I/O APIC. */
static const unsigned noise_isa[] = { 3, 13 };
#define NOISE_PIN	20	/* a masked level entry */

struct vcpu {
	unsigned id;
	struct lapic *l;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool kicked;
};

static struct {
	struct vcpu cpu[NCPUS];
	struct {
		pthread_mutex_t lock;
		pthread_cond_t cond;
		atomic_uint taken;
	} src[NSRC];
	/* Which source a vector taken by each path belongs to; -1: none. */
	int pic_src[256], apic_src[256], nmi_src[NCPUS];
	_Atomic uint64_t apic_taken[NCPUS][256], nmis_taken[NCPUS];
	atomic_uint stray;		/* taken with no source */
	atomic_int stray_vector;	/* the last of them, for the message */
	atomic_bool stuck;		/* a source gave up waiting */
	atomic_bool sources_done, done;
	bool lockstep;
	pthread_barrier_t round;
	atomic_ulong noise_rounds;
} T;

static struct apic_bus *bus;
static struct memory_region io_root, sysmem;
static struct address_space *io_as, *sys_as;
static struct object *root;
static struct device_env env;
static struct device *pic, *io;

/* ---- the host side: notify, the board's wiring ---- */

static void f_notify(void *o, unsigned cpu)
{
	struct vcpu *c = &T.cpu[cpu];

	(void)o;
	pthread_mutex_lock(&c->lock);
	c->kicked = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static uint64_t f_now(void *o) { (void)o; return 1000; }
static void f_arm(void *o, unsigned cpu, uint64_t d) { (void)o; (void)cpu; (void)d; }

/* As the board wires apic_host_ops.eoi_level. */
static void f_eoi_level(void *o, unsigned cpu, unsigned vector)
{
	(void)o;
	(void)cpu;
	ioapic_eoi(io, vector);
}

static const struct apic_host_ops ops = {
	.notify = f_notify, .now_ns = f_now, .timer_arm = f_arm,
	.eoi_level = f_eoi_level,
};

/* The 8259's INT is CPU 0's LINT0 (virtual wire), as vmm/pc.c wires it. */
static void pic_output(void *o, unsigned n, bool level)
{
	(void)o;
	(void)n;
	lapic_set_lint(apic_bus_cpu(bus, 0), 0, level);
}

/* ISA IRQ n reaches 8259 input n and I/O APIC pin n, IRQ 0 pin 2 (pc.c);
 * higher lines are I/O APIC pins (PCI). */
static void set_line(unsigned line, bool level)
{
	if (line < ISA_NUM_IRQS)
		irq_set_level(&i8259_inputs(pic)[line], level);
	irq_set_level(&ioapic_inputs(io)[line ? line : 2], level);
}

/* ---- the guest's side ---- */

static void outb(uint16_t port, uint8_t v)
{
	cr_assert_eq(address_space_write(io_as, port, &v, 1), MEMTX_OK);
}

static uint8_t inb(uint16_t port)
{
	uint8_t v = 0xaa;

	cr_assert_eq(address_space_read(io_as, port, &v, 1), MEMTX_OK);
	return v;
}

static uint32_t ioapic_reg(unsigned index)
{
	uint32_t v = 0;

	cr_assert_eq(address_space_write(sys_as, IOAPIC_DEFAULT_BASE, &index, 4),
		     MEMTX_OK);
	cr_assert_eq(address_space_read(sys_as, IOAPIC_DEFAULT_BASE + IOAPIC_IOWIN,
					&v, 4), MEMTX_OK);
	return v;
}

static void ioapic_set_reg(unsigned index, uint32_t v)
{
	cr_assert_eq(address_space_write(sys_as, IOAPIC_DEFAULT_BASE, &index, 4),
		     MEMTX_OK);
	cr_assert_eq(address_space_write(sys_as, IOAPIC_DEFAULT_BASE + IOAPIC_IOWIN,
					 &v, 4), MEMTX_OK);
}

static void ioapic_set_rte(unsigned pin, uint64_t rte)
{
	ioapic_set_reg(IOAPIC_REG_REDTBL + 2 * pin + 1, (uint32_t)(rte >> 32));
	ioapic_set_reg(IOAPIC_REG_REDTBL + 2 * pin, (uint32_t)rte);
}

static unsigned ioapic_pin(unsigned line)
{
	return line ? line : 2;
}

static bool is_level(const struct source *s)
{
	return s->path == PIC_LEVEL || s->path == IOAPIC_LEVEL;
}

/* Firmware's work: the 8259s at PIC_BASE/SLAVE_BASE with only the PIC_*
 * sources (and the cascade) unmasked, their level lines in the ELCR; the
 * I/O APIC entries of the IOAPIC_* sources, the rest masked with a vector
 * nobody expects. */
static void program_controllers(void)
{
	uint8_t imr[2] = { 0xff, 0xff }, elcr[2] = { 0, 0 };

	outb(0x20, 0x11); outb(0x21, PIC_BASE); outb(0x21, 0x04); outb(0x21, 0x01);
	outb(0xa0, 0x11); outb(0xa1, SLAVE_BASE); outb(0xa1, 0x02); outb(0xa1, 0x01);
	imr[0] &= (uint8_t)~(1u << I8259_CASCADE_IRQ);
	for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++)
		ioapic_set_rte(pin, IOAPIC_RTE_MASKED | STRAY_VECTOR |
				    (pin == NOISE_PIN ? IOAPIC_RTE_LEVEL : 0));
	for (unsigned i = 0; i < NSRC; i++) {
		const struct source *s = &sources[i];

		if (s->path == PIC_EDGE || s->path == PIC_LEVEL) {
			imr[s->line / 8] &= (uint8_t)~(1u << s->line % 8);
			if (is_level(s))
				elcr[s->line / 8] |= (uint8_t)(1u << s->line % 8);
		} else if (s->path == IOAPIC_EDGE || s->path == IOAPIC_LEVEL) {
			ioapic_set_rte(ioapic_pin(s->line), s->vector | s->route |
				       (is_level(s) ? IOAPIC_RTE_LEVEL : 0));
		}
	}
	outb(0x21, imr[0]);
	outb(0xa1, imr[1]);
	outb(I8259_ELCR_PORT, elcr[0]);
	outb(I8259_ELCR_PORT + 1, elcr[1]);
}

static void map_sources(void)
{
	memset(T.pic_src, -1, sizeof(T.pic_src));
	memset(T.apic_src, -1, sizeof(T.apic_src));
	memset(T.nmi_src, -1, sizeof(T.nmi_src));
	for (unsigned i = 0; i < NSRC; i++) {
		const struct source *s = &sources[i];

		if (s->path == PIC_EDGE || s->path == PIC_LEVEL)
			T.pic_src[s->vector] = (int)i;
		else if (s->path == MSI_NMI)
			T.nmi_src[(s->route >> 12) & 0xff] = (int)i;
		else
			T.apic_src[s->vector] = (int)i;
	}
}

static struct device *realize(const char *type)
{
	struct error e = { "" };
	struct device *dev = (struct device *)object_new(type);

	cr_assert_not_null(dev);
	cr_assert_eq(device_realize(dev, &env, &e), 0, "%s", e.msg);
	object_add_child(root, type, &dev->parent_obj);
	return dev;
}

static void setup(void)
{
	pthread_condattr_t attr;

	memset(&T, 0, sizeof(T));
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	for (unsigned i = 0; i < NSRC; i++) {
		pthread_mutex_init(&T.src[i].lock, NULL);
		pthread_cond_init(&T.src[i].cond, &attr);
	}
	pthread_condattr_destroy(&attr);
	bus = apic_bus_new(NCPUS, 0, &ops, NULL);
	cr_assert_not_null(bus);
	for (unsigned i = 0; i < NCPUS; i++) {
		T.cpu[i] = (struct vcpu){ .id = i, .l = apic_bus_cpu(bus, i) };
		pthread_mutex_init(&T.cpu[i].lock, NULL);
		pthread_cond_init(&T.cpu[i].cond, NULL);
		/* Software-enabled, logical ID bit i (flat): lowest
		 * priority to 3 picks between both. */
		lapic_mmio_write(T.cpu[i].l, LAPIC_SVR, 0x1ff, 4);
		lapic_mmio_write(T.cpu[i].l, LAPIC_LDR, 1u << (24 + i), 4);
	}
	lapic_set_virtual_wire(T.cpu[0].l);
	memory_region_init_container(&io_root, "io", 0x10000);
	memory_region_init_container(&sysmem, "system", UINT64_MAX);
	io_as = address_space_new("io", &io_root);
	sys_as = address_space_new("system", &sysmem);
	root = object_new(TYPE_CONTAINER);
	env = (struct device_env){
		.io_space = &io_root, .system_memory = &sysmem, .apic_bus = bus,
	};
	pic = realize(TYPE_I8259);
	io = realize(TYPE_IOAPIC);
	i8259_connect_output(pic, (struct irq_line){ pic_output, NULL, 0 });
	program_controllers();
	map_sources();
}

static void teardown(void)
{
	object_free(root);
	address_space_destroy(io_as);
	address_space_destroy(sys_as);
	apic_bus_free(bus);
	for (unsigned i = 0; i < NCPUS; i++) {
		pthread_mutex_destroy(&T.cpu[i].lock);
		pthread_cond_destroy(&T.cpu[i].cond);
	}
	for (unsigned i = 0; i < NSRC; i++) {
		pthread_mutex_destroy(&T.src[i].lock);
		pthread_cond_destroy(&T.src[i].cond);
	}
}

TestSuite(irq_stress, .init = setup, .fini = teardown);

/* ---- the vCPUs: vcpu_inject's order, a guest with IF=1 ---- */

/* The guest's handler for @vector from source @src: a level source's
 * driver quiets its device before the EOI (else the line, still high,
 * would rightly interrupt again); then the source hears. */
static void handled(int src, int vector)
{
	if (src < 0) {
		atomic_fetch_add(&T.stray, 1);
		atomic_store(&T.stray_vector, vector);
		return;
	}
	if (is_level(&sources[src]))
		set_line(sources[src].line, false);
	pthread_mutex_lock(&T.src[src].lock);
	atomic_fetch_add(&T.src[src].taken, 1);
	pthread_cond_signal(&T.src[src].cond);
	pthread_mutex_unlock(&T.src[src].lock);
}

static bool inject(struct vcpu *c);

/* The guest's handlers set IF again before their EOI, so one more entry
 * may nest there: only what outranks everything in service gets in (the
 * LAPIC's PPR, the 8259's ISR; ExtINT is not held back by the PPR), and
 * the EOIs then come last in, first out. */
static void handle_pic(struct vcpu *c, int vector)
{
	handled(T.pic_src[vector], vector);
	inject(c);
	if (vector >= SLAVE_BASE)
		outb(0xa0, OCW2_EOI);
	outb(0x20, OCW2_EOI);
}

static void handle_apic(struct vcpu *c, int vector)
{
	atomic_fetch_add(&T.apic_taken[c->id][vector], 1);
	handled(T.apic_src[vector], vector);
	inject(c);
	lapic_mmio_write(c->l, LAPIC_EOI, 0, 4);
}

/* One entry as vcpu_inject decides it: an NMI, then ExtINT (the vector
 * from the 8259's INTA at that moment), else the LAPIC's highest vector.
 * True if anything was taken. */
static bool inject(struct vcpu *c)
{
	int vector = lapic_pending_vector(c->l);
	bool extint = lapic_extint_pending(c->l);
	bool nmi = lapic_take_nmi(c->l);

	if (nmi) {
		atomic_fetch_add(&T.nmis_taken[c->id], 1);
		handled(T.nmi_src[c->id], 2);
	}
	if (extint) {
		handle_pic(c, i8259_intack(pic));
	} else if (vector >= 0) {
		lapic_accept(c->l, vector);
		handle_apic(c, vector);
	}
	return nmi || extint || vector >= 0;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *c = arg;

	while (!atomic_load(&T.done)) {
		pthread_mutex_lock(&c->lock);
		while (!c->kicked && !atomic_load(&T.done))
			pthread_cond_wait(&c->cond, &c->lock);
		c->kicked = false;
		pthread_mutex_unlock(&c->lock);
		while (inject(c))
			;
	}
	return NULL;
}

/* ---- the sources ---- */

static void fire(const struct source *s)
{
	uint32_t data = s->path == MSI_NMI ? APIC_DM_NMI << 8 : s->vector;

	switch (s->path) {
	case PIC_EDGE:
	case IOAPIC_EDGE:
		set_line(s->line, true);
		set_line(s->line, false);
		break;
	case PIC_LEVEL:
	case IOAPIC_LEVEL:
		set_line(s->line, true);	/* the handler lowers it */
		break;
	case MSI_FIXED:
	case MSI_NMI:
		cr_assert_eq(apic_bus_deliver_msi(bus, s->route, data), 0);
		break;
	}
}

static bool wait_taken(unsigned i, unsigned want, const struct timespec *deadline)
{
	bool ok = true;

	pthread_mutex_lock(&T.src[i].lock);
	while (ok && atomic_load(&T.src[i].taken) < want)
		ok = pthread_cond_timedwait(&T.src[i].cond, &T.src[i].lock,
					    deadline) != ETIMEDOUT;
	ok = atomic_load(&T.src[i].taken) >= want;
	pthread_mutex_unlock(&T.src[i].lock);
	return ok;
}

/* Free-running, each source at its own pace; or in lock-step rounds
 * (every source fires at once, then all wait for their interrupt with
 * nobody firing), where a lost notification cannot be rescued by a later
 * one and so shows up in the round it happened. */
static void *source_thread(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;
	struct timespec deadline;
	unsigned r;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += TIMEOUT_S;
	for (r = 0; r < ROUNDS; r++) {
		if (T.lockstep)
			pthread_barrier_wait(&T.round);
		fire(&sources[i]);
		if (!wait_taken(i, r + 1, &deadline)) {
			atomic_store(&T.stuck, true);
			break;
		}
	}
	/* Let the others through their barriers. */
	for (r++; T.lockstep && r < ROUNDS; r++)
		pthread_barrier_wait(&T.round);
	return NULL;
}

/* Edges and levels on lines masked in both controllers: never taken. */
static void *noise_thread(void *arg)
{
	(void)arg;
	while (!atomic_load(&T.sources_done)) {
		for (unsigned i = 0; i < sizeof(noise_isa) / sizeof(noise_isa[0]); i++) {
			set_line(noise_isa[i], true);
			set_line(noise_isa[i], false);
		}
		set_line(NOISE_PIN, true);
		sched_yield();
		set_line(NOISE_PIN, false);
		atomic_fetch_add(&T.noise_rounds, 1);
	}
	return NULL;
}

static void run_all(bool lockstep)
{
	pthread_t src[NSRC], noise;

	T.lockstep = lockstep;
	cr_assert_eq(pthread_barrier_init(&T.round, NULL, NSRC), 0);

	for (unsigned i = 0; i < NCPUS; i++)
		cr_assert_eq(pthread_create(&T.cpu[i].thread, NULL, vcpu_thread,
					    &T.cpu[i]), 0);
	cr_assert_eq(pthread_create(&noise, NULL, noise_thread, NULL), 0);
	for (unsigned i = 0; i < NSRC; i++)
		cr_assert_eq(pthread_create(&src[i], NULL, source_thread,
					    (void *)(uintptr_t)i), 0);
	for (unsigned i = 0; i < NSRC; i++)
		pthread_join(src[i], NULL);
	atomic_store(&T.sources_done, true);
	pthread_join(noise, NULL);
	atomic_store(&T.done, true);
	for (unsigned i = 0; i < NCPUS; i++) {
		f_notify(NULL, i);
		pthread_join(T.cpu[i].thread, NULL);
	}
	pthread_barrier_destroy(&T.round);
}

/* ---- after: this thread owns the LAPICs now ---- */

/* Every source's last interrupt was taken and EOIed before it stopped, so
 * nothing may be left anywhere: no request, nothing in service, no remote
 * IRR, INT low. */
static void check_quiescent(void)
{
	struct lapic_stats st;

	for (unsigned i = 0; i < NCPUS; i++) {
		struct lapic *l = T.cpu[i].l;

		cr_assert_eq(lapic_pending_vector(l), -1, "cpu %u", i);
		cr_assert_not(lapic_extint_pending(l), "cpu %u", i);
		cr_assert_not(lapic_take_nmi(l), "cpu %u", i);
		for (unsigned r = 0; r < 8; r++) {
			cr_assert_eq(lapic_mmio_read(l, LAPIC_IRR + r * 16, 4), 0);
			cr_assert_eq(lapic_mmio_read(l, LAPIC_ISR + r * 16, 4), 0);
		}
		lapic_get_stats(l, &st);
		cr_assert_eq(st.nmis, atomic_load(&T.nmis_taken[i]), "cpu %u", i);
		for (unsigned v = 0; v < 256; v++)
			cr_assert_eq(st.delivered[v], atomic_load(&T.apic_taken[i][v]),
				     "cpu %u vector %#x", i, v);
	}
	cr_assert_not(i8259_output(pic));
	outb(0x20, OCW3_READ_ISR);
	cr_assert_eq(inb(0x20), 0, "master ISR");
	outb(0xa0, OCW3_READ_ISR);
	cr_assert_eq(inb(0xa0), 0, "slave ISR");
	for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++)
		cr_assert_not(ioapic_reg(IOAPIC_REG_REDTBL + 2 * pin) &
			      IOAPIC_RTE_REMOTE_IRR, "pin %u", pin);
}

static char *stats_text(void (*print)(struct device *, FILE *),
			struct device *dev)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	print(dev, f);
	fclose(f);
	return text;
}

/* The two counters of "@prefix @n: A raised, B acknowledged|sent"; 0 0
 * when the line is absent (nothing happened there). */
static void stat_pair(const char *text, const char *prefix, unsigned n,
		      unsigned long long *raised, unsigned long long *done)
{
	char key[32];
	const char *p;

	snprintf(key, sizeof(key), "%s %u: ", prefix, n);
	p = strstr(text, key);
	*raised = *done = 0;
	if (p)
		cr_assert_eq(sscanf(p + strlen(key), "%llu %*s %llu", raised, done), 2,
			     "%s", p);
}

/* The controllers' own counts agree: one rising edge and one INTA or one
 * message per interrupt (no duplicate merged unseen in an IRR), none for
 * the masked lines, no spurious INTA. */
static void check_controller_stats(void)
{
	char *pic_text = stats_text(i8259_print_stats, pic);
	char *io_text = stats_text(ioapic_print_stats, io);
	unsigned long long raised, done;

	for (unsigned i = 0; i < NSRC; i++) {
		const struct source *s = &sources[i];

		if (s->path == PIC_EDGE || s->path == PIC_LEVEL)
			stat_pair(pic_text, "i8259 irq", s->line, &raised, &done);
		else if (s->path == IOAPIC_EDGE || s->path == IOAPIC_LEVEL)
			stat_pair(io_text, "ioapic pin", ioapic_pin(s->line), &raised, &done);
		else
			continue;
		cr_assert_eq(raised, ROUNDS, "source %u: %llu edges", i, raised);
		cr_assert_eq(done, ROUNDS, "source %u: %llu delivered", i, done);
	}
	for (unsigned i = 0; i < sizeof(noise_isa) / sizeof(noise_isa[0]); i++) {
		stat_pair(pic_text, "i8259 irq", noise_isa[i], &raised, &done);
		cr_assert_eq(done, 0, "masked IRQ %u acknowledged", noise_isa[i]);
		stat_pair(io_text, "ioapic pin", noise_isa[i], &raised, &done);
		cr_assert_eq(done, 0, "masked pin %u sent", noise_isa[i]);
	}
	stat_pair(io_text, "ioapic pin", NOISE_PIN, &raised, &done);
	cr_assert_eq(done, 0, "masked pin %u sent", NOISE_PIN);
	cr_assert_not_null(strstr(pic_text, "i8259: 0 spurious IRQ 7, 0 spurious IRQ 15"),
			   "%s", pic_text);
	free(pic_text);
	free(io_text);
}

static void check_exact_counts(void)
{
	cr_assert_not(atomic_load(&T.stuck),
		      "a source waited %ds: an interrupt or its notification was lost",
		      TIMEOUT_S);
	cr_assert_eq(atomic_load(&T.stray), 0,
		     "%u interrupts taken with no source (last: vector %#x)",
		     atomic_load(&T.stray), atomic_load(&T.stray_vector));
	for (unsigned i = 0; i < NSRC; i++)
		cr_assert_eq(atomic_load(&T.src[i].taken), ROUNDS,
			     "source %u (line %u, vector %#x): taken %u times of %u",
			     i, sources[i].line, sources[i].vector,
			     atomic_load(&T.src[i].taken), ROUNDS);
	check_quiescent();
	check_controller_stats();
	cr_assert_gt(atomic_load(&T.noise_rounds), 0);
}

Test(irq_stress, free_running_exact_counts, .timeout = 120)
{
	run_all(false);
	check_exact_counts();
}

Test(irq_stress, lockstep_exact_counts, .timeout = 120)
{
	run_all(true);
	check_exact_counts();
}
