/* MSI-X (PCI Local Bus 3.0, 6.8.2): a capability, a vector table and a
 * pending-bit array (PBA) in a memory BAR. A device raises vector n; when the
 * vector and the function are unmasked and MSI-X is enabled, its message
 * (address, data) is written to the interrupt controller, here through
 * device_env.msi, which is a LAPIC delivery. A masked vector remembers the
 * interrupt in its PBA bit and sends it when unmasked.
 *
 * Thread safety: the table is written by vCPU threads, vectors are raised
 * from I/O threads; a mutex inside serializes them. */
#ifndef DEVICES_MSIX_H
#define DEVICES_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "memory/region.h"

#define MSIX_MAX_VECTORS	64
#define MSIX_ENTRY_SIZE		16
/* Message control (capability + 2). */
#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_CTRL_MASKALL	0x4000
/* Vector control (table entry + 12). */
#define MSIX_VECTOR_MASKED	1

struct pci_device;

struct msix {
	struct pci_device *dev;
	unsigned cap;			/* config offset of the capability */
	unsigned nvec;
	struct memory_region table_mr, pba_mr;
	pthread_mutex_t lock;
	uint32_t table[MSIX_MAX_VECTORS][4];	/* addr lo, addr hi, data, ctrl */
	uint64_t pending;		/* PBA */
	/* Where messages go (device_env.msi); NULL drops them. */
	int (*deliver)(void *host, uint64_t addr, uint32_t data);
	void *host;
	uint64_t sent, held;		/* statistics */
};

/* Adds the capability to @dev and maps the table at @table_off and the PBA
 * at @pba_off inside @bar_mr (a container that is BAR @bar of @dev).
 * @nvec 1..MSIX_MAX_VECTORS. Returns 0, or -1 when config space is full. */
int msix_init(struct msix *x, struct pci_device *dev, unsigned nvec, int bar,
	      struct memory_region *bar_mr, uint32_t table_off, uint32_t pba_off);
void msix_destroy(struct msix *x, struct memory_region *bar_mr);

/* Raise @vec: sent now, held pending while masked, dropped when MSI-X is
 * disabled or @vec is not a vector (0xFFFF, VIRTIO_MSI_NO_VECTOR).
 * Returns true when MSI-X is enabled (the interrupt was taken care of). */
bool msix_notify(struct msix *x, unsigned vec);
bool msix_enabled(struct msix *x);
/* The device's config_write hook must pass guest config writes here: a
 * cleared function mask sends what was pending. */
void msix_config_write(struct msix *x, unsigned off, unsigned size);

#endif
