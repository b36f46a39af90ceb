#include "vmm/apic_host.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "devices/error.h"
#include "devices/intc/ioapic.h"
#include "devices/intc/lapic.h"
#include "vmm/machine.h"
#include "vmm/vcpu.h"

#define MSR_IA32_TSC 0x10

static uint64_t host_now_ns(void *opaque)
{
	struct apic_host *h = opaque;

	return clock_now_ns(h->clock);
}

static void host_notify(void *opaque, unsigned cpu)
{
	struct apic_host *h = opaque;

	vcpu_notify(&h->m->vcpus[cpu]);
}

/* A LAPIC timer fell due: its vCPU's thread fires it (and re-arms a
 * periodic one). */
static void host_timer_expired(void *opaque)
{
	struct apic_timer_slot *slot = opaque;

	vcpu_notify(&slot->h->m->vcpus[slot->cpu]);
}

static void host_timer_arm(void *opaque, unsigned cpu, uint64_t deadline_ns)
{
	struct apic_host *h = opaque;

	clock_timer_mod(h->clock, &h->timers[cpu].timer, deadline_ns);
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
		fprintf(stderr, "%s -> vcpu%u %s vector %#x\n",
			src == APIC_SRC_IOAPIC ? "ioapic" : "msi ", dst,
			delivery_mode_names[mode & 7], vector);
	else
		fprintf(stderr, "vcpu%d ipi  -> vcpu%u %s vector %#x\n", src, dst,
			delivery_mode_names[mode & 7], vector);
}

/* A level-triggered vector was EOIed: the I/O APIC hears it (EOI
 * broadcast), clears its remote IRR and resends while the line is high. */
static void host_eoi_level(void *opaque, unsigned cpu, unsigned vector)
{
	struct apic_host *h = opaque;

	(void)cpu;
	if (h->m->ioapic)
		ioapic_eoi(h->m->ioapic, vector);
}

static const struct apic_host_ops apic_host_ops = {
	.eoi_level = host_eoi_level,
	.notify = host_notify,
	.now_ns = host_now_ns,
	.timer_arm = host_timer_arm,
	.guest_tsc = host_guest_tsc,
	.trace_ipi = host_trace_ipi,
	.current_cpu = host_current_cpu,
};

int apic_host_init(struct apic_host *h, struct machine *m, unsigned ncpus,
		   uint32_t tsc_khz, struct error *err)
{
	memset(h, 0, sizeof(*h));
	h->m = m;
	h->clock = m->env.clock;
	h->timers = calloc(ncpus, sizeof(h->timers[0]));
	if (!h->timers)
		return error_setf(err, "cannot create %u local APICs", ncpus);
	for (unsigned i = 0; i < ncpus; i++) {
		h->timers[i] = (struct apic_timer_slot){ .h = h, .cpu = i };
		clock_timer_init(&h->timers[i].timer, host_timer_expired, &h->timers[i]);
	}
	h->bus = apic_bus_new(ncpus, tsc_khz, &apic_host_ops, h);
	if (!h->bus)
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

void apic_host_destroy(struct apic_host *h)
{
	if (!h->m)
		return;
	for (unsigned i = 0; h->bus && i < apic_bus_ncpus(h->bus); i++)
		clock_timer_del(h->clock, &h->timers[i].timer);
	apic_bus_free(h->bus);	/* the lapic devices are gone with the tree */
	free(h->timers);
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
