#include "vmm/machine.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/misc/debug_exit.h"
#include "devices/error.h"
#include "devices/char/serial.h"
#include "devices/virtio/virtio_blk.h"
#include "memory/address_space.h"
#include "devices/intc/lapic.h"
#include "vmm/acpi.h"
#include "vmm/boot.h"
#include "vmm/exit_codes.h"
#include "vmm/layout.h"
#include "vmm/vcpu.h"

#define BIOS_SIGNATURE "tinyvmm BIOS ROM: no firmware; ACPI tables at 0xf0100"

void machine_stop(struct machine *m, int code)
{
	pthread_mutex_lock(&m->lock);
	if (!machine_stopping(m)) {
		m->exit_code = code;
		atomic_store_explicit(&m->stopping, true, memory_order_release);
		pthread_cond_broadcast(&m->cond);
		for (unsigned i = 0; i < m->ncpus; i++)
			vcpu_kick(&m->vcpus[i]);
	}
	pthread_mutex_unlock(&m->lock);
}

void machine_vcpu_stuck(struct machine *m, int delta)
{
	bool deadlock;

	pthread_mutex_lock(&m->lock);
	m->stuck += (unsigned)delta;
	deadlock = m->stuck == m->ncpus && !machine_stopping(m);
	pthread_mutex_unlock(&m->lock);
	if (deadlock) {
		fprintf(stderr, "tinyvmm: deadlock: every vCPU is halted with "
			"interrupts off or waiting for a SIPI\n");
		machine_stop(m, VMM_EXIT_DEADLOCK);
	}
}

static void machine_guest_exit(void *host, int status)
{
	machine_stop(host, status);
}

static int machine_msi(void *host, uint64_t addr, uint32_t data)
{
	struct machine *m = host;

	return m->apic.bus ? apic_bus_deliver_msi(m->apic.bus, addr, data) : -1;
}

static int machine_ioeventfd(void *host, uint64_t gpa, int fd, bool assign)
{
	return kvm_ioeventfd(&((struct machine *)host)->kvm, gpa, fd, assign);
}

/* RAM below 3 GiB at 0, the rest at 4 GiB, both aliases of one block, as
 * QEMU's pc machine does; the BIOS ROM at the top of 4 GiB with its last
 * 64 KiB also visible below 1 MiB, above the RAM there. */
static int machine_init_memory(struct machine *m, struct error *err)
{
	uint64_t size = m->opts->mem_size;
	uint64_t low = size < LOW_RAM_MAX ? size : LOW_RAM_MAX;
	int r;

	r = ram_block_init(&m->ram, "pc.ram", size);
	if (!r)
		r = ram_block_init(&m->bios, "pc.bios", BIOS_ROM_SIZE);
	if (r)
		return error_setf(err, "cannot allocate %llu bytes of guest RAM: %s",
				  (unsigned long long)size, strerror(-r));
	memcpy(m->bios.host, BIOS_SIGNATURE, sizeof(BIOS_SIGNATURE));

	memory_transaction_begin();
	memory_region_init_container(&m->system_root, "system", UINT64_MAX);
	memory_region_init_container(&m->io_root, "io", 0x10000);
	memory_region_init_ram(&m->ram_mr, "pc.ram", &m->ram, 0, size);
	memory_region_init_alias(&m->ram_below_4g, "ram-below-4g", &m->ram_mr, 0, low);
	memory_region_add_subregion(&m->system_root, 0, &m->ram_below_4g, 0);
	if (size > low) {
		memory_region_init_alias(&m->ram_above_4g, "ram-above-4g", &m->ram_mr,
					 low, size - low);
		memory_region_add_subregion(&m->system_root, HIGH_RAM_BASE,
					    &m->ram_above_4g, 0);
	}
	memory_region_init_rom(&m->bios_rom, "pc.bios", &m->bios, 0, BIOS_ROM_SIZE);
	memory_region_add_subregion(&m->system_root, BIOS_ROM_BASE, &m->bios_rom, 0);
	memory_region_init_alias(&m->isa_bios, "isa-bios", &m->bios_rom,
				 BIOS_ROM_SIZE - ISA_BIOS_SIZE, ISA_BIOS_SIZE);
	memory_region_add_subregion(&m->system_root, ISA_BIOS_BASE, &m->isa_bios, 1);
	/* PCI BARs sit under everything: one the guest puts over RAM or the
	 * LAPIC cannot hide them. */
	memory_region_init_container(&m->pci_mem, "pci-mem", UINT64_MAX);
	memory_region_add_subregion(&m->system_root, 0, &m->pci_mem, -1);
	pci_bus_init(&m->pci, &m->pci_mem, &m->io_root);
	m->system = address_space_new("system", &m->system_root);
	m->io = address_space_new("io", &m->io_root);
	memory_transaction_commit();
	if (!m->system || !m->io)
		return error_setf(err, "cannot create the address spaces");
	return 0;
}

static int machine_init_kvm(struct machine *m, struct error *err)
{
	if (kvm_init(&m->kvm, err))
		return -1;
	if (m->opts->ncpus > m->kvm.max_vcpus)
		return error_setf(err, "--cpus %u: this KVM allows at most %u vCPUs",
				  m->opts->ncpus, m->kvm.max_vcpus);
	if (kvm_memslots_init(&m->memslots, m->kvm.vm_fd, m->kvm.max_memslots))
		return error_setf(err, "out of memory");
	address_space_add_listener(m->system, &m->memslots.listener);
	if (m->memslots.failed)
		return error_setf(err, "cannot map guest RAM into KVM");
	return 0;
}

/* --disk: a virtio-blk-pci device, its properties set directly (a file
 * name may hold the ',' that -device uses between properties). */
static int machine_add_disk(struct machine *m, const struct vmm_disk *d,
			    struct error *err)
{
	struct object *blk = object_new(TYPE_VIRTIO_BLK_PCI);

	object_add_child(m->devices, TYPE_VIRTIO_BLK_PCI, blk);
	if (object_property_set(blk, "path", d->path, err) ||
	    object_property_set(blk, "ro", d->ro ? "on" : "off", err) ||
	    (d->serial[0] && object_property_set(blk, "serial", d->serial, err)))
		return -1;
	return device_realize((struct device *)blk, &m->env, err);
}

static int machine_init_devices(struct machine *m, struct error *err)
{
	struct object *serial;

	m->env = (struct device_env){
		.system_memory = &m->system_root, .io_space = &m->io_root,
		.dma = m->system, .pci = &m->pci,
		.guest_exit = machine_guest_exit, .msi = machine_msi,
		.ioeventfd = machine_ioeventfd, .host = m,
	};
	m->devices = object_new(TYPE_CONTAINER);
	/* Set directly: a file name may hold the ',' that separates properties. */
	serial = object_new(TYPE_ISA_SERIAL);
	object_add_child(m->devices, TYPE_ISA_SERIAL, serial);
	if (object_property_set(serial, "path", m->opts->serial, err) ||
	    device_realize((struct device *)serial, &m->env, err) ||
	    !device_create(TYPE_ISA_DEBUG_EXIT, &m->env, m->devices, err))
		return -1;
	for (unsigned i = 0; i < m->opts->ndisks; i++)
		if (machine_add_disk(m, &m->opts->disks[i], err))
			return -1;
	for (unsigned i = 0; i < m->opts->ndevices; i++)
		if (!device_create(m->opts->devices[i], &m->env, m->devices, err))
			return -1;
	return 0;
}

static int machine_load_guest(struct machine *m, struct error *err)
{
	static const struct loader_reserved reserved[] = {
		{ BOOT_INFO_BASE, BOOT_PT_END, "the VMM's boot data" },
	};

	return loader_load(m->opts->guest_path, m->system, reserved, 1,
			   &m->image, err);
}

static int machine_boot_state(struct machine *m, struct error *err)
{
	const char *name = strrchr(m->opts->guest_path, '/');
	char cmdline[VMM_CMDLINE_MAX + 256];
	struct boot_ram ram = {
		.low_size = m->opts->mem_size < LOW_RAM_MAX ? m->opts->mem_size : LOW_RAM_MAX,
	};
	struct kvm_regs regs;
	struct kvm_sregs sregs;

	ram.high_size = m->opts->mem_size - ram.low_size;
	/* As GRUB and QEMU do: the image's name, then its arguments. */
	snprintf(cmdline, sizeof(cmdline), "%s%s%s", name ? name + 1 : m->opts->guest_path,
		 m->opts->cmdline[0] ? " " : "", m->opts->cmdline);
	if (vcpu_get_sregs(&m->vcpus[0], &sregs, err) ||
	    boot_prepare(m->system, &m->image, &ram, cmdline, &regs, &sregs, err))
		return -1;
	return vcpu_set_boot_state(&m->vcpus[0], &regs, &sregs, err);
}

static int machine_init_vcpus(struct machine *m, struct error *err)
{
	unsigned n = m->opts->ncpus;

	m->vcpus = calloc(n, sizeof(*m->vcpus));
	if (!m->vcpus)
		return error_setf(err, "out of memory");
	if (apic_host_init(&m->apic, m, n, m->kvm.tsc_deadline ? m->kvm.tsc_khz : 0, err))
		return -1;
	for (unsigned i = 0; i < n; i++) {
		if (vcpu_init(&m->vcpus[i], m, i, apic_bus_cpu(m->apic.bus, i), err))
			return -1;
		m->ncpus++;
	}
	return acpi_build_tables(m->bios.host, m->bios.size, n, err);
}

int machine_init(struct machine *m, const struct vmm_options *opts,
		 struct error *err)
{
	memset(m, 0, sizeof(*m));
	m->opts = opts;
	m->kvm.dev_fd = m->kvm.vm_fd = -1;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	/* What the user got wrong is reported before any KVM work. */
	if (machine_init_memory(m, err) || machine_init_devices(m, err) ||
	    machine_load_guest(m, err) || machine_init_kvm(m, err) ||
	    machine_init_vcpus(m, err) || machine_boot_state(m, err))
		return -1;
	return 0;
}

static void machine_wait(struct machine *m)
{
	struct timespec deadline;
	double whole;

	pthread_mutex_lock(&m->lock);
	if (m->opts->timeout > 0) {
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_nsec += (long)(modf(m->opts->timeout, &whole) * 1e9);
		deadline.tv_sec += (time_t)whole + deadline.tv_nsec / 1000000000;
		deadline.tv_nsec %= 1000000000;
	}
	while (!machine_stopping(m)) {
		if (m->opts->timeout <= 0) {
			pthread_cond_wait(&m->cond, &m->lock);
		} else if (pthread_cond_timedwait(&m->cond, &m->lock, &deadline) ==
			   ETIMEDOUT && !machine_stopping(m)) {
			pthread_mutex_unlock(&m->lock);
			fprintf(stderr, "tinyvmm: --timeout of %g s expired\n",
				m->opts->timeout);
			machine_stop(m, VMM_EXIT_TIMEOUT);
			return;
		}
	}
	pthread_mutex_unlock(&m->lock);
}

static void machine_print_stats(struct machine *m)
{
	fprintf(stderr, "--- tinyvmm stats ---\n");
	for (unsigned i = 0; i < m->ncpus; i++)
		vcpu_print_stats(&m->vcpus[i], stderr);
	apic_host_print_stats(&m->apic, stderr);
	address_space_print_stats(m->io, stderr);
	address_space_print_stats(m->system, stderr);
	for (struct object *o = m->devices->children; o; o = o->next_sibling)
		virtio_blk_print_stats(o, stderr);
}

int machine_run(struct machine *m)
{
	vcpu_setup_kick_signal();
	for (unsigned i = 0; i < m->ncpus; i++) {
		if (vcpu_start(&m->vcpus[i])) {
			fprintf(stderr, "tinyvmm: cannot start vcpu%u thread\n", i);
			machine_stop(m, VMM_EXIT_ERROR);
			break;
		}
	}
	machine_wait(m);
	for (unsigned i = 0; i < m->ncpus; i++)
		vcpu_join(&m->vcpus[i]);
	apic_host_stop(&m->apic);
	fflush(stdout);
	if (m->opts->stats)
		machine_print_stats(m);
	return m->exit_code;
}

void machine_destroy(struct machine *m)
{
	object_free(m->devices);	/* unrealize: unmaps their regions */
	if (m->system)
		pci_bus_destroy(&m->pci);
	for (unsigned i = 0; i < m->ncpus; i++)
		vcpu_destroy(&m->vcpus[i]);
	free(m->vcpus);
	apic_host_destroy(&m->apic);
	if (m->system)
		address_space_remove_listener(m->system, &m->memslots.listener);
	kvm_memslots_destroy(&m->memslots);
	kvm_destroy(&m->kvm);
	if (m->system)
		address_space_destroy(m->system);
	if (m->io)
		address_space_destroy(m->io);
	ram_block_destroy(&m->bios);
	ram_block_destroy(&m->ram);
}
