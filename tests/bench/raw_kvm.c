/* The raw-KVM floor: the same guest, the same boot state, but an exit loop
 * with no VMM logic (no address spaces, no devices, no tracing): PIO, MMIO
 * and MSR exits are dropped (reads return all ones, MSRs 0), a write to
 * port 0xf4 ends the run with tinyvmm's exit code. What tinyvmm costs above
 * this is its own.
 *
 * --irqchip gives the VM KVM's in-kernel LAPIC, I/O APIC and PIC, and -c N
 * vCPUs, one thread each: the floor of the LAPIC and IPI guests with an
 * in-kernel LAPIC and no VMM around it (QEMU's figure, minus QEMU), with
 * KVM's halt polling for this VM set by --halt-poll-ns (0: off), which
 * QEMU has no option for.
 *
 *   raw_kvm [-m SIZE] [--irqchip [-c N] [--halt-poll-ns NS]] GUEST.elf
 */
#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "devices/error.h"
#include "devices/parse.h"
#include "memory/address_space.h"
#include "memory/ramblock.h"
#include "memory/region.h"
#include "vmm/acpi.h"
#include "vmm/boot.h"
#include "vmm/layout.h"
#include "vmm/kvm.h"
#include "vmm/loader.h"
#include "vmm/memslots.h"

static int die(const char *what)
{
	fprintf(stderr, "raw_kvm: %s\n", what);
	return 4;
}

static int run_vcpu(int vcpu, struct kvm_run *run)
{
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			/* An AP in wait-for-SIPI leaves at its INIT and SIPI. */
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return die("KVM_RUN failed");
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (run->io.port == 0xf4 && run->io.direction == KVM_EXIT_IO_OUT)
				return ((*((uint8_t *)run + run->io.data_offset) << 1) | 1) & 0xff;
			if (run->io.direction == KVM_EXIT_IO_IN)
				memset((uint8_t *)run + run->io.data_offset, 0xff,
				       run->io.size * run->io.count);
			break;
		case KVM_EXIT_MMIO:
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
			break;
		case KVM_EXIT_X86_RDMSR:	/* the MSRs tinyvmm's LAPIC takes */
			run->msr.data = 0;
			run->msr.error = 0;
			break;
		case KVM_EXIT_X86_WRMSR:
			run->msr.error = 0;
			break;
		case KVM_EXIT_HLT:
			return 10;
		default:
			return 6;
		}
	}
}

#define RAW_MAX_VCPUS 16

struct raw_opts {
	uint64_t mem;
	bool irqchip;
	unsigned ncpus;
	long halt_poll_ns;	/* -1: KVM's default */
	const char *guest;
};

static bool parse_args(int argc, char **argv, struct raw_opts *o)
{
	char *end;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-m") && v && !parse_size(v, &o->mem)) {
			i++;
		} else if (!strcmp(a, "--irqchip")) {
			o->irqchip = true;
		} else if (!strcmp(a, "-c") && v) {
			o->ncpus = (unsigned)strtoul(v, &end, 10);
			if (*end || o->ncpus < 1 || o->ncpus > RAW_MAX_VCPUS)
				return false;
			i++;
		} else if (!strcmp(a, "--halt-poll-ns") && v) {
			o->halt_poll_ns = strtol(v, &end, 10);
			if (*end || o->halt_poll_ns < 0)
				return false;
			i++;
		} else if (a[0] != '-' && !o->guest) {
			o->guest = a;
		} else {
			return false;
		}
	}
	/* Without a LAPIC in the kernel nothing would start the APs. */
	return o->guest && (o->irqchip || (o->ncpus == 1 && o->halt_poll_ns < 0));
}

/* Before the vCPUs: KVM's LAPIC, I/O APIC and PIC, and the MSRs tinyvmm's
 * set-up sends to userspace (IA32_APIC_BASE, TSC deadline) back to it. */
static int raw_irqchip(struct kvm *kvm, long halt_poll_ns)
{
	struct kvm_msr_filter allow_all = { .flags = KVM_MSR_FILTER_DEFAULT_ALLOW };
	struct kvm_enable_cap poll = {
		.cap = KVM_CAP_HALT_POLL, .args[0] = (uint64_t)halt_poll_ns,
	};

	if (ioctl(kvm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return -1;
	if (ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_MSR_FILTER) > 0 &&
	    ioctl(kvm->vm_fd, KVM_X86_SET_MSR_FILTER, &allow_all) < 0)
		return -1;
	if (halt_poll_ns >= 0 && ioctl(kvm->vm_fd, KVM_ENABLE_CAP, &poll) < 0)
		return -1;
	return 0;
}

/* An AP: KVM holds it until its INIT-SIPI; whichever vCPU writes port 0xf4
 * ends the process. */
static void *ap_thread(void *arg)
{
	struct kvm_vcpu_handle *h = arg;

	exit(run_vcpu(h->fd, h->run));
}

static int start_aps(struct kvm *kvm, struct kvm_vcpu_handle *aps, unsigned n)
{
	struct error err;
	pthread_t t;

	for (unsigned i = 0; i < n; i++)
		if (kvm_vcpu_init(kvm, i + 1, &aps[i], &err))
			return -1;
	for (unsigned i = 0; i < n; i++)
		if (pthread_create(&t, NULL, ap_thread, &aps[i]))
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct raw_opts o = { .mem = 128ull << 20, .ncpus = 1, .halt_poll_ns = -1 };
	struct ram_block ram;
	struct memory_region root, ram_mr;
	struct address_space *as;
	struct guest_image img;
	struct boot_config bc = { .acpi_size = ACPI_TABLES_SIZE, .cmdline = "raw_kvm" };
	struct boot_layout bl;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct error err;
	struct kvm kvm;
	struct kvm_memslots slots;
	struct kvm_vcpu_handle vcpu, aps[RAW_MAX_VCPUS - 1];

	if (!parse_args(argc, argv, &o))
		return die("usage: raw_kvm [-m SIZE] [--irqchip [-c N] [--halt-poll-ns NS]] GUEST.elf");
	if (o.mem > LOW_RAM_MAX || ram_block_init(&ram, "ram", o.mem))
		return die("bad memory size (at most 3G here)");
	memory_region_init_container(&root, "system", UINT64_MAX);
	memory_region_init_ram(&ram_mr, "ram", &ram, 0, o.mem);
	memory_region_add_subregion(&root, 0, &ram_mr, 0);
	as = address_space_new("system", &root);
	bc.ram_size = o.mem;
	if (loader_open(o.guest, &img, &err))
		return die(err.msg);
	if (boot_plan(&bl, &bc, &img, &err) || loader_copy(&img, as, &err))
		return die(err.msg);
	loader_close(&img);

	/* The same KVM set-up as tinyvmm: only the exit loop differs. */
	if (kvm_init(&kvm, &err) || kvm_memslots_init(&slots, kvm.vm_fd, kvm.max_memslots))
		return die(err.msg);
	if (o.irqchip && raw_irqchip(&kvm, o.halt_poll_ns))
		return die("cannot create the in-kernel irqchip");
	address_space_add_listener(as, &slots.listener);
	if (slots.failed || kvm_vcpu_init(&kvm, 0, &vcpu, &err))
		return die("cannot map RAM or create a vCPU");
	if (ioctl(vcpu.fd, KVM_GET_SREGS, &sregs) < 0 ||
	    boot_prepare(as, &bl, &bc, &img, &regs, &sregs, &err) ||
	    ioctl(vcpu.fd, KVM_SET_SREGS, &sregs) < 0 ||
	    ioctl(vcpu.fd, KVM_SET_REGS, &regs) < 0)
		return die("cannot set the boot state");
	if (start_aps(&kvm, aps, o.ncpus - 1))
		return die("cannot start the other vCPUs");
	return run_vcpu(vcpu.fd, vcpu.run);
}
