/* The virtio-pci modern transport (virtio 1.2, 4.1): a PCI function
 * 1af4:(1040 + device id) whose vendor capabilities point into BAR 4 at the
 * common configuration, notification, ISR and device-specific configuration
 * structures, with MSI-X (table and PBA in BAR 1). A device type (virtio-blk)
 * embeds struct virtio_pci and supplies struct virtio_device_ops.
 *
 * The transport owns the driver-facing state machine: feature negotiation
 * (FEATURES_OK only for a subset of what was offered, VERSION_1 included),
 * the status byte and reset, queue selection (range checked), sizes,
 * addresses and enable, MSI-X vectors, and DEVICE_NEEDS_RESET when the
 * driver corrupts a ring. Queue notifications go to one eventfd per queue:
 * KVM signals it directly (an ioeventfd on the notify address, registered
 * through device_env.ioeventfd as the BAR moves), or the notify region's
 * write handler does when no ioeventfd is registered. The device's I/O
 * thread waits on those eventfds and calls virtio_pci_process_queue.
 *
 * Interrupts: with MSI-X enabled, each event goes to its vector (none for
 * NO_VECTOR). With MSI-X disabled, an event sets its ISR status bit (1: a
 * queue, 2: a configuration change) and INTA# is asserted while any bit is
 * set; the driver's ISR read returns and clears them, and deasserts it.
 *
 * Locking: vp->lock serializes the vCPU threads' register accesses with the
 * I/O thread's request processing, one request at a time, so a reset waits
 * for the request in progress and then no popped request is completed after
 * it. INTx is set under vp->lock (lock order: the PCI bus lock, vp->lock,
 * the MSI-X and PCI config locks, then the line's receiver).
 *
 * Left out: VIRTIO_PCI_CAP_PCI_CFG (the config-space window onto the BARs;
 * no driver we know uses it), packed rings, notification data, queue reset,
 * the legacy interface. */
#ifndef DEVICES_VIRTIO_PCI_H
#define DEVICES_VIRTIO_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/pci/msix.h"
#include "devices/pci/pci.h"
#include "devices/virtio/virtqueue.h"
#include "memory/region.h"

/* Device status (virtio 1.2, 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

/* Transport feature bits (virtio 1.2, 6). */
#define VIRTIO_F_INDIRECT_DESC		28
#define VIRTIO_F_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32

#define VIRTIO_MSI_NO_VECTOR		0xffff
#define VIRTIO_PCI_VENDOR		0x1af4
#define VIRTIO_PCI_DEVICE_BASE		0x1040

/* Where things are. BAR 4 (64-bit memory): */
#define VIRTIO_PCI_CAP_BAR		4
#define VIRTIO_PCI_BAR_SIZE		0x4000
#define VIRTIO_PCI_COMMON_OFF		0x0000
#define VIRTIO_PCI_ISR_OFF		0x1000
#define VIRTIO_PCI_DEVICE_OFF		0x2000
#define VIRTIO_PCI_NOTIFY_OFF		0x3000
#define VIRTIO_PCI_NOTIFY_MULT		4	/* bytes between queues' notify */
/* BAR 1 (32-bit memory): the MSI-X table at 0, its PBA at 0x800. */
#define VIRTIO_PCI_MSIX_BAR		1
#define VIRTIO_PCI_MSIX_BAR_SIZE	0x1000

#define VIRTIO_PCI_MAX_QUEUES		8
#define VIRTIO_PCI_ISR_QUEUE		1
#define VIRTIO_PCI_ISR_CONFIG		2

struct device_env;

struct virtio_device_ops {
	/* @size (1..8) bytes at @off of the device-specific configuration,
	 * inside the config_size given to virtio_pci_init. */
	uint64_t (*config_read)(void *opaque, unsigned off, unsigned size);
	/* Do one request; return the bytes written into its writable part.
	 * Called on the I/O thread with vp->lock held; req->bad requests too
	 * (they are completed with what this returns, clamped to 0). */
	uint32_t (*handle)(void *opaque, unsigned queue, struct vq_request *req);
};

struct virtio_pci_queue {
	uint16_t size, max_size, msix_vector;
	bool enabled;
	uint64_t desc, avail, used;
	struct virtqueue vq;
	int kick_fd;			/* eventfd: the driver notified */
	uint64_t notify_gpa;		/* where its ioeventfd is, 0: none */
	uint64_t requests, kicks, interrupts;	/* statistics */
};

struct virtio_pci {
	struct pci_device pci;
	struct msix msix;
	struct memory_region bar, msix_bar;
	struct memory_region common, isr, devcfg, notify;
	const struct device_env *env;
	const struct virtio_device_ops *ops;
	void *opaque;
	const char *name;		/* for log lines */
	unsigned config_size;

	pthread_mutex_t lock;
	uint64_t host_features, guest_features;
	uint32_t dfselect, gfselect;
	uint16_t queue_sel, config_vector;
	uint8_t status, isr_status, config_generation;
	unsigned resets;		/* generation: a request popped before a
					 * reset is never pushed after it */
	unsigned nqueues;
	struct virtio_pci_queue q[VIRTIO_PCI_MAX_QUEUES];
	struct vq_request *req;		/* the one being handled */
	bool broken_logged, bad_chain_logged;
	uint64_t bad_accesses;
};

/* Sets up the PCI function (1af4:1040+@device_id, @class_code), its BARs and
 * capabilities, @nqueues queues of at most @queue_max entries with an
 * eventfd each, and plugs it into env->pci. Returns 0, or -1 with errno
 * (EINVAL for a full bus). */
int virtio_pci_init(struct virtio_pci *vp, const struct device_env *env,
		    const char *name, uint16_t device_id, uint32_t class_code,
		    uint64_t features, unsigned config_size, unsigned nqueues,
		    unsigned queue_max, const struct virtio_device_ops *ops,
		    void *opaque);
void virtio_pci_destroy(struct virtio_pci *vp);

/* The I/O thread, after queue @n's eventfd fired: drains the eventfd, pops
 * and handles every available request (with kicks suppressed meanwhile),
 * and interrupts the driver when it asked for it. */
void virtio_pci_process_queue(struct virtio_pci *vp, unsigned n);

/* Whether the driver's negotiated features include @bit. */
bool virtio_pci_has_feature(const struct virtio_pci *vp, unsigned bit);

/* Statistics lines for --stats. */
void virtio_pci_print_stats(struct virtio_pci *vp, FILE *out);

#endif
