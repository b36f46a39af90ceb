/* Devices: objects that are realized into a machine (QOM's DeviceState).
 * realize maps the device's regions into the address spaces it is given and
 * may fail with a message; unrealize undoes it. */
#ifndef DEVICES_DEVICE_H
#define DEVICES_DEVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/object.h"

struct apic_bus;
struct address_space;
struct irq_line;
struct vm_clock;
struct error;
struct memory_region;
struct pci_bus;

#define TYPE_DEVICE "device"

/* What the guest may ask of the machine as a whole (QEMU's
 * qemu_system_{reset,shutdown,suspend}_request). */
enum system_event {
	SYSTEM_RESET,		/* 0xCF9, the keyboard controller, ACPI reset */
	SYSTEM_POWEROFF,	/* ACPI S5 */
	SYSTEM_SUSPEND,		/* ACPI S3: suspend to RAM */
};

/* What may wake a suspended machine (QEMU's WakeupReason). */
enum wakeup_source {
	WAKEUP_RTC,		/* RTC alarm */
	WAKEUP_PWRBTN,		/* power button */
};

/* What a device may reach. Devices never call KVM: they ask the VMM through
 * these callbacks. */
/* The threads a device starts, so the machine can confine each kind. */
enum device_thread {
	DEVICE_THREAD_BLK_IO,		/* a virtio-blk device's I/O thread */
	DEVICE_THREAD_SERIAL_IN,	/* a UART's input reader */
};

struct device_env {
	struct memory_region *system_memory;
	struct memory_region *io_space;
	/* Guest RAM as devices reach it for DMA (bounds-checked maps). */
	struct address_space *dma;
	struct pci_bus *pci;		/* bus 0; NULL: no PCI */
	/* The guest asked to end the VM; @status is the process exit code. */
	void (*guest_exit)(void *host, int status);
	/* An MSI: a write of @data to @addr (0xFEExxxxx), i.e. a LAPIC
	 * delivery. Any thread. -1 when it is not an interrupt message. */
	int (*msi)(void *host, uint64_t addr, uint32_t data);
	/* Let KVM signal @fd on any guest write to MMIO address @gpa, without
	 * an exit to userspace (@assign), or stop (!@assign). -1 when KVM
	 * cannot (yet): the device then signals @fd itself on the exit. */
	int (*ioeventfd)(void *host, uint64_t gpa, int fd, bool assign);
	void *host;
	/* The local APICs, which lapic devices attach to; NULL if none. */
	struct apic_bus *apic_bus;
	/* The guest's clock and timers (devices/clock.h); NULL: none. */
	struct vm_clock *clock;
	/* ISA IRQ lines 0..ISA_NUM_IRQS-1 (devices/irq.h), wired by the
	 * board; NULL: none. */
	const struct irq_line *isa_irq;
	/* The guest asked to reset, power off or suspend the machine. Any
	 * thread; returns at once, the machine acts on it from its own
	 * thread. NULL: ignored. */
	void (*system_event)(void *host, enum system_event ev);
	/* Something that may wake a suspended machine happened; the machine
	 * resumes if that source is enabled (the ACPI PM1 enables). Any
	 * thread. NULL: ignored. */
	void (*wakeup)(void *host, enum wakeup_source src);
	/* The first call of each thread a device starts: the machine puts it
	 * under its system-call allowlist (vmm/sandbox.h). NULL: nothing. */
	void (*thread_start)(void *host, enum device_thread kind);
};

struct device;

struct device_class {
	struct object_class parent_class;
	int (*realize)(struct device *dev, struct error *err);
	void (*unrealize)(struct device *dev);
	bool user_creatable;	/* may be created with -device */
};

struct device {
	struct object parent_obj;
	const struct device_env *env;
	bool realized;
};

#define DEVICE_CLASS(oc) ((struct device_class *)(oc))
#define DEVICE_GET_CLASS(dev) DEVICE_CLASS(((struct object *)(dev))->klass)

int device_realize(struct device *dev, const struct device_env *env,
		   struct error *err);
/* A thread @dev started calls this first (env->thread_start). */
void device_thread_start(struct device *dev, enum device_thread kind);
/* "type,prop=value,..." → a realized child of @parent, or NULL. */
struct device *device_create(const char *spec, const struct device_env *env,
			     struct object *parent, struct error *err);
/* -device help: every user-creatable type with its properties, then the
 * types only the board makes. */
void device_print_help(FILE *out);

#endif
