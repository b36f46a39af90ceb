#include "vmm/apic_host.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "devices/error.h"
#include "devices/intc/lapic.h"
#include "vmm/machine.h"
#include "vmm/vcpu.h"

#define MSR_IA32_TSC 0x10

static uint64_t host_now_ns(void *opaque)
{
	struct timespec t;

	(void)opaque;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void host_notify(void *opaque, unsigned cpu)
{
	struct apic_host *h = opaque;

	vcpu_notify(&h->m->vcpus[cpu]);
}

static void *apic_timer_thread(void *arg);

/* The timer thread starts with the first armed timer: most short guests
 * never arm one, and a thread costs start-up time. */
static void host_timer_arm(void *opaque, unsigned cpu, uint64_t deadline_ns)
{
	struct apic_host *h = opaque;

	pthread_mutex_lock(&h->lock);
	h->deadline[cpu] = deadline_ns;
	if (deadline_ns && !h->timer_started && !h->quit)
		h->timer_started = !pthread_create(&h->timer_thread, NULL,
						   apic_timer_thread, h);
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

/* Called on the vCPU's own thread, so its fd may be used here. */
static uint64_t host_guest_tsc(void *opaque, unsigned cpu)
{
	struct apic_host *h = opaque;
	union {
		struct kvm_msrs hdr;
		uint8_t bytes[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
	} msrs = { .hdr.nmsrs = 1 };

	msrs.hdr.entries[0].index = MSR_IA32_TSC;
	if (ioctl(h->m->vcpus[cpu].kvm.fd, KVM_GET_MSRS, &msrs) != 1)
		return 0;
	return msrs.hdr.entries[0].data;
}

/* Which LAPIC the xAPIC page is: the calling vCPU's. */
static int host_current_cpu(void *opaque)
{
	struct vcpu *v = vcpu_current();

	(void)opaque;
	return v ? (int)v->id : -1;
}

static const char *const delivery_mode_names[8] = {
	"fixed", "lowest", "smi", "mode3", "nmi", "init", "sipi", "extint",
};

static void host_trace_ipi(void *opaque, int src, unsigned dst, unsigned mode,
			   unsigned vector)
{
	struct apic_host *h = opaque;

	if (!h->m->opts->trace)
		return;
	if (src < 0)
		fprintf(stderr, "msi  -> vcpu%u %s vector %#x\n", dst,
			delivery_mode_names[mode & 7], vector);
	else
		fprintf(stderr, "vcpu%d ipi  -> vcpu%u %s vector %#x\n", src, dst,
			delivery_mode_names[mode & 7], vector);
}

static const struct apic_host_ops apic_host_ops = {
	.notify = host_notify,
	.now_ns = host_now_ns,
	.timer_arm = host_timer_arm,
	.guest_tsc = host_guest_tsc,
	.trace_ipi = host_trace_ipi,
	.current_cpu = host_current_cpu,
};

static int earliest_deadline(const struct apic_host *h, unsigned ncpus,
			     uint64_t *when)
{
	int cpu = -1;

	for (unsigned i = 0; i < ncpus; i++)
		if (h->deadline[i] && (cpu < 0 || h->deadline[i] < *when)) {
			cpu = (int)i;
			*when = h->deadline[i];
		}
	return cpu;
}

static void *apic_timer_thread(void *arg)
{
	struct apic_host *h = arg;
	unsigned ncpus = apic_bus_ncpus(h->bus);

	pthread_mutex_lock(&h->lock);
	while (!h->quit) {
		uint64_t when = 0;
		int cpu = earliest_deadline(h, ncpus, &when);
		struct timespec ts;

		if (cpu < 0) {
			pthread_cond_wait(&h->cond, &h->lock);
			continue;
		}
		if (host_now_ns(NULL) >= when) {
			h->deadline[cpu] = 0;	/* the vCPU re-arms a periodic one */
			pthread_mutex_unlock(&h->lock);
			vcpu_notify(&h->m->vcpus[cpu]);
			pthread_mutex_lock(&h->lock);
			continue;
		}
		ts.tv_sec = (time_t)(when / 1000000000ull);
		ts.tv_nsec = (long)(when % 1000000000ull);
		pthread_cond_timedwait(&h->cond, &h->lock, &ts);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

int apic_host_init(struct apic_host *h, struct machine *m, unsigned ncpus,
		   uint32_t tsc_khz, struct error *err)
{
	pthread_condattr_t ca;

	memset(h, 0, sizeof(*h));
	h->m = m;
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);	/* as now_ns */
	pthread_cond_init(&h->cond, &ca);
	pthread_condattr_destroy(&ca);
	h->deadline = calloc(ncpus, sizeof(h->deadline[0]));
	h->bus = apic_bus_new(ncpus, tsc_khz, &apic_host_ops, h);
	if (!h->deadline || !h->bus)
		return error_setf(err, "cannot create %u local APICs", ncpus);
	/* One lapic device per vCPU, owned by the machine's device tree like
	 * any other: it maps the xAPIC page, and goes when the tree does. */
	m->env.apic_bus = h->bus;
	for (unsigned i = 0; i < ncpus; i++) {
		struct object *dev = object_new(TYPE_LAPIC);
		char id[16];

		snprintf(id, sizeof(id), "%u", i);
		object_add_child(m->devices, TYPE_LAPIC, dev);
		if (object_property_set(dev, "id", id, err) ||
		    device_realize((struct device *)dev, &m->env, err))
			return -1;
	}
	return 0;
}

void apic_host_stop(struct apic_host *h)
{
	bool started;

	pthread_mutex_lock(&h->lock);
	h->quit = true;
	started = h->timer_started;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
	if (started)
		pthread_join(h->timer_thread, NULL);
	h->timer_started = false;
}

void apic_host_destroy(struct apic_host *h)
{
	if (!h->m)
		return;
	apic_host_stop(h);
	apic_bus_free(h->bus);	/* the lapic devices are gone with the tree */
	free(h->deadline);
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->lock);
	h->bus = NULL;
	h->m = NULL;
}

void apic_host_print_stats(struct apic_host *h, FILE *out)
{
	struct lapic_stats st;

	for (unsigned cpu = 0; cpu < apic_bus_ncpus(h->bus); cpu++) {
		lapic_get_stats(apic_bus_cpu(h->bus, cpu), &st);
		fprintf(out, "vcpu%u lapic: ipis sent %llu, nmi %llu, init %llu, "
			"sipi %llu, timer %llu, errors %llu, ignored writes %llu;"
			" delivered:", cpu, (unsigned long long)st.ipis_sent,
			(unsigned long long)st.nmis, (unsigned long long)st.inits,
			(unsigned long long)st.sipis, (unsigned long long)st.timer_fires,
			(unsigned long long)st.errors,
			(unsigned long long)st.ignored_writes);
		for (unsigned v = 0; v < 256; v++)
			if (st.delivered[v])
				fprintf(out, " %#x=%llu", v,
					(unsigned long long)st.delivered[v]);
		fprintf(out, "\n");
	}
}
