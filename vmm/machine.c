#include "vmm/machine.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "devices/error.h"
#include "devices/char/serial.h"
#include "devices/intc/i8259.h"
#include "devices/intc/ioapic.h"
#include "devices/clock.h"
#include "devices/timer/hpet.h"
#include "devices/timer/i8254.h"
#include "devices/virtio/virtio_blk.h"
#include "memory/address_space.h"
#include "memory/mtree.h"
#include "devices/intc/lapic.h"
#include "vmm/acpi.h"
#include "vmm/boot.h"
#include "vmm/exit_codes.h"
#include "vmm/gdb/stub.h"
#include "vmm/layout.h"
#include "vmm/multiboot.h"
#include "vmm/pc.h"
#include "vmm/sandbox.h"
#include "vmm/signals.h"
#include "vmm/vcpu.h"

#define BIOS_SIGNATURE "tinyvmm BIOS ROM: no firmware"

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

/* Every vCPU leaves the guest and parks (vcpu.c) until a wake event; on
 * the way out each resets as a PC's CPUs do on resume. */
static void machine_suspend(struct machine *m)
{
	/* Before m->lock: the RTC calls machine_wakeup (m->lock) holding its
	 * own lock, so the RTC's lock is never taken under m->lock. */
	pc_suspend(m);
	pthread_mutex_lock(&m->lock);
	if (!machine_stopping(m) && !machine_suspended(m)) {
		atomic_store_explicit(&m->suspended, true, memory_order_release);
		for (unsigned i = 0; i < m->ncpus; i++)
			vcpu_suspend(&m->vcpus[i]);
	}
	pthread_mutex_unlock(&m->lock);
	if (m->opts->trace)
		fprintf(stderr, "machine suspended to RAM (S3)\n");
}

void machine_system_event(void *host, enum system_event ev)
{
	struct machine *m = host;

	switch (ev) {
	case SYSTEM_RESET:
		fprintf(stderr, "tinyvmm: the guest reset the machine\n");
		machine_stop(m, VMM_EXIT_RESET);
		break;
	case SYSTEM_POWEROFF:
		if (m->opts->trace)
			fprintf(stderr, "machine powered off (S5)\n");
		machine_stop(m, VMM_EXIT_POWEROFF);
		break;
	case SYSTEM_SUSPEND:
		machine_suspend(m);
		break;
	}
}

void machine_wakeup(void *host, enum wakeup_source src)
{
	struct machine *m = host;

	pthread_mutex_lock(&m->lock);
	if (machine_suspended(m) && pc_wake_event(m, src)) {
		atomic_store_explicit(&m->suspended, false, memory_order_release);
		for (unsigned i = 0; i < m->ncpus; i++)
			vcpu_kick(&m->vcpus[i]);
		if (m->opts->trace)
			fprintf(stderr, "machine resumed from S3\n");
	}
	pthread_mutex_unlock(&m->lock);
}

/* The 32-bit firmware_waking_vector of the FACS: a real-mode entry. The
 * 64-bit X_ one asks for a protected-mode resume that SeaBIOS, QEMU pc's
 * firmware, does not perform either, so it is not honoured. */
uint32_t machine_waking_vector(struct machine *m)
{
	uint32_t *v = m->facs_gpa ?
		address_space_map_ram(m->system, m->facs_gpa + ACPI_FACS_WAKING_VECTOR,
				      4, false) : NULL;

	return v ? *v : 0;
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
	/* The VGA hole [0xA0000, 0xC0000) is left unassigned (tinyvmm has no
	 * VGA); the BIOS area above it is RAM, as QEMU and its firmware leave
	 * it ("shadow RAM"), so an image may load there. */
	memory_region_init_alias(&m->ram_low, "ram-low", &m->ram_mr, 0, VGA_HOLE_BASE);
	memory_region_add_subregion(&m->system_root, 0, &m->ram_low, 0);
	memory_region_init_alias(&m->ram_below_4g, "ram-below-4g", &m->ram_mr,
				 VGA_HOLE_END, low - VGA_HOLE_END);
	memory_region_add_subregion(&m->system_root, VGA_HOLE_END, &m->ram_below_4g, 0);
	if (size > low) {
		memory_region_init_alias(&m->ram_above_4g, "ram-above-4g", &m->ram_mr,
					 low, size - low);
		memory_region_add_subregion(&m->system_root, HIGH_RAM_BASE,
					    &m->ram_above_4g, 0);
	}
	memory_region_init_rom(&m->bios_rom, "pc.bios", &m->bios, 0, BIOS_ROM_SIZE);
	memory_region_add_subregion(&m->system_root, BIOS_ROM_BASE, &m->bios_rom, 0);
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

/* The command line is "PATH ARGS", the path as given and the space even
 * without ARGS, as QEMU's -kernel and -append give it. */
static int machine_boot_config(struct machine *m, struct error *err)
{
	const struct vmm_options *o = m->opts;
	int n = snprintf(m->boot_cmdline, sizeof(m->boot_cmdline), "%s %s",
			 o->guest_path, o->cmdline);

	_Static_assert(VMM_MAX_MODULES <= BOOT_MAX_MODULES, "--initrd takes more modules");
	if (n < 0 || (size_t)n >= sizeof(m->boot_cmdline))
		return error_setf(err, "the guest's path and command line are longer "
				  "than %zu bytes", sizeof(m->boot_cmdline) - 1);
	for (unsigned i = 0; i < o->nmodules; i++) {
		m->boot_modules[i] = (struct boot_module){ o->modules[i].path,
							   o->modules[i].arg, 0 };
		if (multiboot_module_size(o->modules[i].path, &m->boot_modules[i].size, err))
			return -1;
	}
	m->boot = (struct boot_config){
		.ram_size = o->mem_size, .acpi_size = ACPI_TABLES_SIZE,
		.cmdline = m->boot_cmdline, .modules = m->boot_modules,
		.nmodules = o->nmodules,
	};
	return 0;
}

/* The image is parsed, the boot data placed around it (vmm/boot.h), and
 * only then copied: a refused image leaves guest RAM untouched. */
static int machine_load_guest(struct machine *m, struct error *err)
{
	int ret = loader_open(m->opts->guest_path, &m->image, err);

	if (ret)
		return ret;
	if (m->image.multiboot_flags & MULTIBOOT_VIDEO_MODE)
		fprintf(stderr, "tinyvmm: warning: '%s' asks for a video mode (multiboot "
			"flag 2); there is no display, so it is ignored, as QEMU does\n",
			m->opts->guest_path);
	ret = machine_boot_config(m, err);
	if (!ret)
		ret = boot_plan(&m->layout, &m->boot, &m->image, err);
	if (!ret)
		ret = loader_copy(&m->image, m->system, err);
	loader_close(&m->image);
	return ret;
}

static int machine_boot_state(struct machine *m, struct error *err)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;

	if (vcpu_get_sregs(&m->vcpus[0], &sregs, err) ||
	    boot_prepare(m->system, &m->layout, &m->boot, &m->image, &regs, &sregs, err))
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
	return 0;
}

/* Where the boot layout put them: the tables at the top of low RAM, the
 * RSDP where guests scan for it. */
static int machine_build_acpi(struct machine *m, struct error *err)
{
	const struct boot_layout *l = &m->layout;
	struct acpi_config cfg = { .ncpus = m->ncpus };
	uint64_t size = l->low_ram_end - l->acpi;

	if (m->hpet) {
		cfg.hpet_block_id = HPET_BLOCK_ID;
		cfg.hpet_base = HPET_BASE;
		cfg.hpet_min_tick = (uint16_t)clock_ns_to_ticks(HPET_MIN_IRQ_PERIOD_NS, HPET_HZ);
	}
	uint8_t *tables = address_space_map_ram(m->system, l->acpi, size, true);
	uint8_t *rsdp = address_space_map_ram(m->system, l->rsdp, ACPI_RSDP_SIZE, true);

	if (!tables || !rsdp)
		return error_setf(err, "no RAM for the ACPI tables");
	return acpi_build_tables(&cfg, tables, l->acpi, size, rsdp, &m->facs_gpa, err);
}

int machine_init(struct machine *m, const struct vmm_options *opts,
		 struct error *err)
{
	memset(m, 0, sizeof(*m));
	m->opts = opts;
	host_clock_init(&m->clock);
	m->kvm.dev_fd = m->kvm.vm_fd = -1;
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->pci_intx_lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	/* What the user got wrong is reported before any KVM work. */
	if (machine_init_memory(m, err) || pc_init_devices(m, err) ||
	    machine_load_guest(m, err) || machine_init_kvm(m, err) ||
	    machine_init_vcpus(m, err) || pc_init_interrupts(m, err) ||
	    machine_build_acpi(m, err) ||
	    pc_init_firmware(m, err) || machine_boot_state(m, err))
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

/* Open files, threads and peak memory at the end of a run, so that soak
 * runs (scripts/soak.sh) can compare runs. By stat() and getrusage(),
 * which the main thread's sandbox allows (no file reads): /proc/self/fd's
 * size is its number of entries (Linux 6.2 and later; 0 before), and each
 * thread adds a link to /proc/self/task (2 without). */
static void print_process_stats(FILE *out)
{
	struct stat fds, tasks;
	struct rusage ru;

	if (stat("/proc/self/fd", &fds) || stat("/proc/self/task", &tasks) ||
	    getrusage(RUSAGE_SELF, &ru))
		return;
	fprintf(out, "process: %lld open fds, %lu threads, peak RSS %ld KiB\n",
		(long long)fds.st_size, (unsigned long)tasks.st_nlink - 2, ru.ru_maxrss);
}

static void machine_print_stats(struct machine *m)
{
	fprintf(stderr, "--- tinyvmm stats ---\n");
	for (unsigned i = 0; i < m->ncpus; i++)
		vcpu_print_stats(&m->vcpus[i], stderr);
	apic_host_print_stats(&m->apic, stderr);
	address_space_print_stats(m->io, stderr);
	address_space_print_stats(m->system, stderr);
	serial_print_stats(m->serial, stderr);
	i8254_print_stats(m->pit, stderr);
	if (m->hpet)
		hpet_print_stats(m->hpet, stderr);
	i8259_print_stats(m->pic, stderr);
	ioapic_print_stats(m->ioapic, stderr);
	for (struct object *o = m->devices->children; o; o = o->next_sibling)
		virtio_blk_print_stats(o, stderr);
	print_process_stats(stderr);
}

void machine_print_mtree(struct machine *m, bool tree, FILE *out)
{
	const struct mtree_space spaces[] = {
		{ "memory", &m->system_root }, { "I/O", &m->io_root },
	};

	if (tree) {
		mtree_print_tree(spaces, 2, out);
		fprintf(out, "\n");
	}
	mtree_print_flat(spaces, 2, out);
}

int machine_run(struct machine *m)
{
	struct error err = { "" };

	vcpu_setup_kick_signal();
	if (gdb_stub_start(m, &err)) {
		fprintf(stderr, "tinyvmm: %s\n", err.msg);
		return VMM_EXIT_ERROR;
	}
	signals_attach(m);
	for (unsigned i = 0; i < m->ncpus; i++) {
		if (vcpu_start(&m->vcpus[i])) {
			fprintf(stderr, "tinyvmm: cannot start vcpu%u thread\n", i);
			machine_stop(m, VMM_EXIT_ERROR);
			break;
		}
	}
	/* After the threads it starts: theirs are not a subset of its list. */
	sandbox_enter(SANDBOX_MAIN);
	machine_wait(m);
	gdb_stub_finish(m);
	for (unsigned i = 0; i < m->ncpus; i++)
		vcpu_join(&m->vcpus[i]);
	host_clock_stop(&m->clock);
	fflush(stdout);
	if (m->opts->stats)
		machine_print_stats(m);
	signals_detach();
	return m->exit_code;
}

void machine_destroy(struct machine *m)
{
	gdb_stub_destroy(m);
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
	host_clock_destroy(&m->clock);
}
