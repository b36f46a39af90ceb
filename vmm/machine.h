/* The machine: guest RAM and ROM laid out as in layout.h, the two address
 * spaces, KVM and its memslots, the devices, the vCPUs, and how the VM ends. */
#ifndef VMM_MACHINE_H
#define VMM_MACHINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#include "devices/device.h"
#include "devices/irq.h"
#include "devices/pci/pci.h"
#include "memory/ramblock.h"
#include "memory/region.h"
#include "vmm/apic_host.h"
#include "vmm/boot.h"
#include "vmm/clock.h"
#include "vmm/kvm.h"
#include "vmm/loader.h"
#include "vmm/memslots.h"
#include "vmm/options.h"

struct address_space;
struct gdb_stub;
struct vcpu;

struct machine {
	const struct vmm_options *opts;
	struct kvm kvm;
	struct kvm_memslots memslots;

	struct ram_block ram, bios;
	struct memory_region system_root, io_root;
	struct memory_region ram_mr, ram_low, ram_below_4g, ram_above_4g;
	struct memory_region bios_rom;
	struct memory_region pci_mem;	/* BARs, below everything else */
	struct pci_bus pci;
	struct address_space *system, *io;

	struct object *devices;		/* owns every device */
	struct device_env env;
	struct host_clock clock;	/* the guest clock, for every device */
	/* What the ISA devices drive: IRQ 0 and 8 go through the HPET's
	 * legacy inputs when there is one, the others to isa_lines. */
	struct irq_line isa_irq[ISA_NUM_IRQS];
	struct irq_line isa_lines[ISA_NUM_IRQS];	/* the 8259s and I/O APIC */
	struct device *hpet;		/* NULL with --no-hpet */
	struct device_env hpet_env;	/* env, but the HPET drives isa_lines */
	struct device *acpi_pm;		/* which wake events wake (S3) */
	struct device *rtc;		/* CMOS: the S3 shutdown status byte */
	struct device *pit;		/* --stats */
	struct device *fw_cfg;
	struct device *pic, *ioapic;
	struct device *serial;		/* COM1 */
	pthread_mutex_t pci_intx_lock;	/* PCI INTx: a wired OR per IRQ */
	uint32_t pci_intx[ISA_NUM_IRQS];	/* slots asserting each IRQ */
	struct guest_image image;
	struct boot_config boot;	/* what the guest boots with */
	struct boot_module boot_modules[BOOT_MAX_MODULES];
	char boot_cmdline[2 * VMM_CMDLINE_MAX];
	struct boot_layout layout;	/* where boot data and ACPI tables go */
	uint64_t facs_gpa;		/* ACPI FACS: the S3 waking vector */

	unsigned ncpus;
	struct vcpu *vcpus;
	struct apic_host apic;
	struct gdb_stub *gdb;		/* --gdb; NULL without */

	pthread_mutex_t lock;
	pthread_cond_t cond;		/* the VM stopped */
	atomic_bool stopping;
	atomic_bool suspended;		/* ACPI S3, until a wake event */
	int exit_code;
	unsigned stuck;			/* vCPUs that nothing can wake */
};

/* Builds the whole VM; the guest is loaded, nothing runs yet. */
int machine_init(struct machine *m, const struct vmm_options *opts,
		 struct error *err);
/* The flat view of both address spaces, after their region trees when
 * @tree, as QEMU's `info mtree -f` and `info mtree`: --mtree and the
 * debugger's monitor. */
void machine_print_mtree(struct machine *m, bool tree, FILE *out);
/* Runs the VM until it stops; returns the process exit code. */
int machine_run(struct machine *m);
void machine_destroy(struct machine *m);

/* Ends the VM with @code; the first caller wins. Any thread. */
void machine_stop(struct machine *m, int code);
static inline bool machine_stopping(struct machine *m)
{
	return atomic_load_explicit(&m->stopping, memory_order_acquire);
}
/* device_env callbacks: the guest asks to reset, power off or suspend the
 * machine; a wake event (RTC alarm, power button) happened. Any thread. */
void machine_system_event(void *host, enum system_event ev);
void machine_wakeup(void *host, enum wakeup_source src);
static inline bool machine_suspended(struct machine *m)
{
	return atomic_load_explicit(&m->suspended, memory_order_acquire);
}
/* Where the BSP resumes after S3: the FACS firmware waking vector (a
 * real-mode address). */
uint32_t machine_waking_vector(struct machine *m);

/* A vCPU goes to sleep (+1) where only another vCPU could wake it (hlt with
 * interrupts off, wait-for-SIPI), or leaves that sleep (-1). When every vCPU
 * is stuck, the VM ends as a deadlock. */
void machine_vcpu_stuck(struct machine *m, int delta);

#endif
