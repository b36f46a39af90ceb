/* A virtio 1.x block device over PCI, modern interface only (virtio 1.2,
 * 4.1 "Virtio Over PCI Bus", 2.7 split virtqueues, 5.2 "Block Device"):
 * one request queue, completions signalled by MSI-X. One device at a time:
 * the rings and request headers are static. */
#ifndef GUEST_VIRTIO_BLK_H
#define GUEST_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "pci.h"

#define VIRTIO_PCI_VENDOR	0x1af4
#define VIRTIO_PCI_BLK_MODERN	0x1042	/* 0x1040 + device type 2 */
#define VIRTIO_PCI_BLK_TRANS	0x1001	/* transitional (QEMU's default) */

#define VBIT(n)			(1ull << (n))
#define VIRTIO_BLK_F_SIZE_MAX	1
#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_BLK_SIZE	6
#define VIRTIO_BLK_F_FLUSH	9
#define VIRTIO_F_RING_EVENT_IDX	29
#define VIRTIO_F_VERSION_1	32

/* What the driver can use; vblk_init takes the part the device offers. */
#define VBLK_F_ALL (VBIT(VIRTIO_F_VERSION_1) | VBIT(VIRTIO_BLK_F_FLUSH) | \
		    VBIT(VIRTIO_BLK_F_BLK_SIZE) | VBIT(VIRTIO_BLK_F_SEG_MAX) | \
		    VBIT(VIRTIO_BLK_F_SIZE_MAX) | VBIT(VIRTIO_BLK_F_RO) | \
		    VBIT(VIRTIO_F_RING_EVENT_IDX))

#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	64
#define VIRTIO_STATUS_FAILED		128

#define VIRTIO_BLK_T_IN		0
#define VIRTIO_BLK_T_OUT	1
#define VIRTIO_BLK_T_FLUSH	4
#define VIRTIO_BLK_T_GET_ID	8
#define VIRTIO_BLK_S_OK		0
#define VIRTIO_BLK_S_IOERR	1
#define VIRTIO_BLK_S_UNSUPP	2
#define VIRTIO_BLK_ID_BYTES	20
#define VBLK_SECTOR		512u	/* the unit of sector and capacity */

#define VBLK_QMAX		256	/* we shrink larger queues to this */
#define VBLK_SLOTS		64	/* requests in flight at most */
#define VBLK_QMIN		4	/* header, one data segment, status */
#define VBLK_WAIT_MS		2000	/* a batch that takes longer fails */

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct vring_avail {
	uint16_t flags, idx;
	uint16_t ring[VBLK_QMAX + 1];	/* + used_event, at ring[qsize] */
};

struct vring_used_elem {
	uint32_t id, len;
};

/* Written by the device: read through volatile. avail_event sits at
 * ring[qsize], wherever qsize puts it. */
struct vring_used {
	volatile uint16_t flags, idx;
	volatile struct vring_used_elem ring[VBLK_QMAX];
	volatile uint16_t avail_event_at_qmax;
};

struct virtio_blk_req_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

/* Everything the device reads or writes besides the data buffers. */
struct vblk_dma {
	struct vring_desc desc[VBLK_QMAX] __attribute__((aligned(4096)));
	struct vring_avail avail __attribute__((aligned(4096)));
	struct vring_used used __attribute__((aligned(4096)));
	struct virtio_blk_req_hdr hdr[VBLK_SLOTS];
	volatile uint8_t status[VBLK_SLOTS];
};

struct vblk_slot {
	uint16_t head, ndesc;
	uint32_t writable;	/* bytes the device may write: data + status */
};

struct vblk {
	struct pci_dev *pci;
	/* The modern capabilities, as guest-physical (= virtual) addresses. */
	uint64_t common, isr, devcfg, notify_base, msix_table;
	uint32_t devcfg_len, notify_len, notify_mult;
	unsigned msix_cap;
	/* Negotiation and the device configuration. */
	uint64_t offered, features;
	uint64_t capacity;		/* 512-byte sectors */
	uint32_t blk_size, seg_max, size_max;
	/* Queue 0. */
	struct vblk_dma *dma;
	uint64_t notify;
	uint16_t qsize, avail_idx, kicked_idx, used_seen;
	uint16_t free_head, nfree, inflight;
	uint16_t free_next[VBLK_QMAX];	/* a chain is a run of this list */
	int16_t slot_of[VBLK_QMAX];	/* head descriptor -> slot, or -1 */
	struct vblk_slot slot[VBLK_SLOTS];
	uint64_t busy;			/* bit s: slot[s] is in flight (a bit scan
					 * finds a free slot, not a loop) */
	uint32_t irq_mark;		/* vblk_irqs when the queue was last idle */
	int first_bad;			/* first status other than OK since vblk_rw
					 * or the caller last cleared it */
	bool tick_held;			/* the caller keeps apic_tick running */
	/* Completions on the PCI interrupt pin (MSI-X off) instead of MSI-X:
	 * the caller routes the pin to VEC_BLK and EOIs at the LAPIC; the
	 * handler reads the ISR, which deasserts the line. */
	bool intx;
	/* With EVENT_IDX, move used_event only right before sleeping, so the
	 * device interrupts only when the driver waits for it. For
	 * vblk_wait_any only: vblk_wait needs an interrupt per batch. */
	bool lazy_irq;
	/* Statistics for the diagnostics. kicks: avail index publishes;
	 * notifies: doorbell writes; sleeps, idle_tsc: HLTs in the waits and
	 * the TSC ticks spent in them. */
	uint32_t kicks, notifies, max_inflight, sleeps;
	uint64_t idle_tsc;
};

/* Interrupts taken on vector VEC_BLK (MSI-X, or INTx with the queue bit
 * set in the ISR). */
extern volatile uint32_t vblk_irqs;

/* Finds the first virtio-blk function (1af4:1042 or 1af4:1001) on bus 0
 * and its capabilities: 1, or 0 if there is none, or -1 if it is unusable
 * (tap_diag says why). */
int vblk_probe(struct vblk *vb);
/* Writes 0 to device_status and waits until it reads 0 (bounded). */
bool vblk_reset(struct vblk *vb);
uint8_t vblk_device_status(const struct vblk *vb);
/* Reset, ACKNOWLEDGE, DRIVER, and reads the offered features; -1 unless
 * VERSION_1 is among them. */
int vblk_begin(struct vblk *vb);
/* Writes @features and FEATURES_OK; whether FEATURES_OK reads back. */
bool vblk_features_ok(struct vblk *vb, uint64_t features);
/* The whole initialisation, negotiating @want & offered (| VERSION_1):
 * 0, or -1 with a diagnostic and FAILED set. */
int vblk_init(struct vblk *vb, uint64_t want);

static inline bool vblk_has(const struct vblk *vb, unsigned bit)
{
	return vb->features & VBIT(bit);
}

/* The slot the next vblk_submit takes (the lowest free one), or -1 if all
 * are in flight: a caller can pick the request's buffer by slot. */
static inline int vblk_free_slot(const struct vblk *vb)
{
	return ~vb->busy ? __builtin_ctzll(~vb->busy) : -1;
}

/* One request, not yet visible to the device: its slot, or -1 if the
 * queue has no room now (wait, then retry), -2 if it can never fit. */
int vblk_submit(struct vblk *vb, uint32_t type, uint64_t sector, void *buf, uint32_t len);
/* Makes the submitted requests visible; notifies unless EVENT_IDX says
 * the device does not want it. */
void vblk_kick(struct vblk *vb);
/* Waits by interrupt for every request in flight: 0, or -1 on a timeout or
 * a used ring entry that is not ours. Unless tick_held, a LAPIC timer tick
 * runs for the wait (apic_tick_start/stop). */
int vblk_wait(struct vblk *vb, unsigned ms);
/* Waits by interrupt until at least one request in flight completes and
 * reaps what has: how many did (0 if none was in flight), or -1 as
 * vblk_wait. The slots they used are free again. */
int vblk_wait_any(struct vblk *vb, unsigned ms);
/* @len bytes at @sector as requests of at most @chunk bytes, as many in
 * flight as fit, one notify per batch. -1 (transport error), else the
 * first status that is not OK, else VIRTIO_BLK_S_OK. */
int vblk_rw(struct vblk *vb, uint32_t type, uint64_t sector, void *buf, uint64_t len,
	    uint32_t chunk);
/* The largest request seg_max, size_max and the queue size allow. */
uint32_t vblk_max_request(const struct vblk *vb);

#endif
