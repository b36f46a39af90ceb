#include "vmm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/error.h"

/* Where KVM may put the real-mode TSS and identity map that VMX needs: in
 * the hole below the BIOS ROM, where nothing else is mapped. */
#define KVM_TSS_ADDR		0xfffbd000ul
#define KVM_IDENTITY_MAP_ADDR	0xfffbc000ull

#define CPUID_1_ECX_X2APIC	(1u << 21)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)

struct required_cap {
	int cap;
	const char *name;
};

static const struct required_cap required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_READONLY_MEM, "KVM_CAP_READONLY_MEM" },
	{ KVM_CAP_NR_MEMSLOTS, "KVM_CAP_NR_MEMSLOTS" },
};

static int kvm_check_caps(struct kvm *kvm, struct error *err)
{
	int v;

	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++)
		if (ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0)
			return error_setf(err, "KVM lacks %s, which tinyvmm needs",
					  required_caps[i].name);
	v = ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (v <= 0)
		v = ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	kvm->max_vcpus = v > 0 ? (unsigned)v : 1;
	kvm->max_memslots = (unsigned)ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION,
					    KVM_CAP_NR_MEMSLOTS);
	/* Without it devices take their notifications as MMIO exits. */
	kvm->ioeventfd = ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD) > 0 &&
		ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD_ANY_LENGTH) > 0;
	v = ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
	kvm->sync_events = v > 0 && (v & KVM_SYNC_X86_EVENTS);
	return 0;
}

static int kvm_get_cpuid(struct kvm *kvm, struct error *err)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c)
			return error_setf(err, "out of memory");
		c->nent = n;
		if (ioctl(kvm->dev_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			kvm->cpuid = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG)
			break;
	}
	return error_setf(err, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
}

static int kvm_open_dev(struct kvm *kvm, struct error *err)
{
	int v;

	kvm->dev_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm->dev_fd < 0)
		return error_setf(err, "cannot open /dev/kvm: %s%s", strerror(errno),
				  errno == ENOENT ? " (is KVM enabled and loaded?)" :
				  errno == EACCES ? " (is this user in the kvm group?)" : "");
	v = ioctl(kvm->dev_fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION)
		return error_setf(err, "KVM API version %d, tinyvmm needs %d", v,
				  KVM_API_VERSION);
	return 0;
}

static int kvm_create_vm(struct kvm *kvm, struct error *err)
{
	__u64 identity = KVM_IDENTITY_MAP_ADDR;

	kvm->vm_fd = ioctl(kvm->dev_fd, KVM_CREATE_VM, 0);
	if (kvm->vm_fd < 0)
		return error_setf(err, "KVM_CREATE_VM: %s", strerror(errno));
	if (ioctl(kvm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0)
		return error_setf(err, "KVM_SET_TSS_ADDR: %s", strerror(errno));
	/* Optional: only VMX without unrestricted guest uses it. */
	if (ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0)
		ioctl(kvm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity);
	kvm->run_size = ioctl(kvm->dev_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->run_size <= 0)
		return error_setf(err, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
	return 0;
}

/* Without an in-kernel irqchip KVM treats the x2APIC MSRs as invalid:
 * ask for those exits. IA32_APIC_BASE and IA32_TSC_DEADLINE it would handle
 * (or drop) itself: deny them in a filter so they exit too. Optional: without
 * them the guest just does not get x2APIC or TSC-deadline in CPUID. */
static void kvm_route_apic_msrs(struct kvm *kvm)
{
	static uint8_t deny;	/* bit clear: the access exits to us */
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X86_USER_SPACE_MSR,
		.args[0] = KVM_MSR_EXIT_REASON_INVAL | KVM_MSR_EXIT_REASON_FILTER,
	};
	struct kvm_msr_filter filter = {
		.flags = KVM_MSR_FILTER_DEFAULT_ALLOW,
		.ranges = {
			{ .flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
			  .nmsrs = 1, .base = 0x1b, .bitmap = &deny },
			{ .flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
			  .nmsrs = 1, .base = 0x6e0, .bitmap = &deny },
		},
	};
	int khz;

	if (ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_USER_SPACE_MSR) <= 0 ||
	    ioctl(kvm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
		return;
	kvm->x2apic = true;
	khz = ioctl(kvm->vm_fd, KVM_GET_TSC_KHZ, 0);
	kvm->tsc_khz = khz > 0 ? (uint32_t)khz : 0;
	if (ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_MSR_FILTER) > 0 &&
	    ioctl(kvm->vm_fd, KVM_X86_SET_MSR_FILTER, &filter) == 0)
		kvm->tsc_deadline = kvm->tsc_khz != 0;
}

int kvm_init(struct kvm *kvm, struct error *err)
{
	memset(kvm, 0, sizeof(*kvm));
	kvm->dev_fd = kvm->vm_fd = -1;
	if (kvm_open_dev(kvm, err) || kvm_check_caps(kvm, err) ||
	    kvm_get_cpuid(kvm, err) || kvm_create_vm(kvm, err)) {
		kvm_destroy(kvm);
		return -1;
	}
	kvm_route_apic_msrs(kvm);
	return 0;
}

int kvm_ioeventfd(struct kvm *kvm, uint64_t gpa, int fd, bool assign)
{
	/* len 0: any write size matches (KVM_CAP_IOEVENTFD_ANY_LENGTH). */
	struct kvm_ioeventfd e = {
		.addr = gpa, .len = 0, .fd = fd,
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	if (!kvm->ioeventfd || kvm->vm_fd < 0)
		return -1;
	return ioctl(kvm->vm_fd, KVM_IOEVENTFD, &e) ? -1 : 0;
}

void kvm_destroy(struct kvm *kvm)
{
	if (kvm->vm_fd >= 0)
		close(kvm->vm_fd);
	if (kvm->dev_fd >= 0)
		close(kvm->dev_fd);
	free(kvm->cpuid);
	kvm->cpuid = NULL;
	kvm->dev_fd = kvm->vm_fd = -1;
}

/* The APIC ID a vCPU reports is its index; the userspace LAPIC agrees.
 * x2APIC and TSC-deadline are offered only where their MSRs reach it. */
static void cpuid_for_vcpu(const struct kvm *kvm, struct kvm_cpuid2 *c,
			   unsigned id)
{
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x00ffffff) | (id << 24);
			e->ecx &= ~(CPUID_1_ECX_X2APIC | CPUID_1_ECX_TSC_DEADLINE);
			if (kvm->x2apic)
				e->ecx |= CPUID_1_ECX_X2APIC;
			if (kvm->tsc_deadline)
				e->ecx |= CPUID_1_ECX_TSC_DEADLINE;
			break;
		case 0xb:
		case 0x1f:
			e->edx = id;
			break;
		}
	}
}

static int kvm_vcpu_set_cpuid(struct kvm *kvm, struct kvm_vcpu_handle *h,
			      unsigned id, struct error *err)
{
	size_t size = sizeof(*kvm->cpuid) +
		      kvm->cpuid->nent * sizeof(kvm->cpuid->entries[0]);
	struct kvm_cpuid2 *c = malloc(size);
	int ret = 0;

	if (!c)
		return error_setf(err, "out of memory");
	memcpy(c, kvm->cpuid, size);
	cpuid_for_vcpu(kvm, c, id);
	if (ioctl(h->fd, KVM_SET_CPUID2, c) < 0)
		ret = error_setf(err, "KVM_SET_CPUID2: %s", strerror(errno));
	free(c);
	return ret;
}

int kvm_vcpu_init(struct kvm *kvm, unsigned id, struct kvm_vcpu_handle *h,
		  struct error *err)
{
	h->run = NULL;
	h->fd = ioctl(kvm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (h->fd < 0)
		return error_setf(err, "KVM_CREATE_VCPU %u: %s", id, strerror(errno));
	h->run = mmap(NULL, (size_t)kvm->run_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, h->fd, 0);
	if (h->run == MAP_FAILED) {
		h->run = NULL;
		return error_setf(err, "mmap of vCPU %u: %s", id, strerror(errno));
	}
	if (kvm->sync_events)
		h->run->kvm_valid_regs = KVM_SYNC_X86_EVENTS;
	return kvm_vcpu_set_cpuid(kvm, h, id, err);
}

void kvm_vcpu_destroy(struct kvm *kvm, struct kvm_vcpu_handle *h)
{
	if (h->run)
		munmap(h->run, (size_t)kvm->run_size);
	if (h->fd >= 0)
		close(h->fd);
	h->run = NULL;
	h->fd = -1;
}
