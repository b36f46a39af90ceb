/* The virtio-pci modern transport. See virtio_pci.h. */
#include "devices/virtio/virtio_pci.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/device.h"

/* struct virtio_pci_cap (virtio 1.2, 4.1.4). */
#define VIRTIO_PCI_CAP_COMMON_CFG	1
#define VIRTIO_PCI_CAP_NOTIFY_CFG	2
#define VIRTIO_PCI_CAP_ISR_CFG		3
#define VIRTIO_PCI_CAP_DEVICE_CFG	4
#define VIRTIO_PCI_CAP_LEN		16
#define VIRTIO_PCI_NOTIFY_CAP_LEN	20

/* struct virtio_pci_common_cfg */
enum {
	COMMON_DFSELECT = 0x00, COMMON_DF = 0x04, COMMON_GFSELECT = 0x08,
	COMMON_GF = 0x0c, COMMON_MSIX = 0x10, COMMON_NUMQ = 0x12,
	COMMON_STATUS = 0x14, COMMON_CFGGEN = 0x15, COMMON_Q_SELECT = 0x16,
	COMMON_Q_SIZE = 0x18, COMMON_Q_MSIX = 0x1a, COMMON_Q_ENABLE = 0x1c,
	COMMON_Q_NOFF = 0x1e, COMMON_Q_DESC = 0x20, COMMON_Q_AVAIL = 0x28,
	COMMON_Q_USED = 0x30, COMMON_SIZE = 0x38,
};

/* One line per device and kind of driver error: a hostile guest must not
 * flood the log. */
static void log_once(struct virtio_pci *vp, bool *logged, unsigned queue,
		     const char *what, const char *consequence)
{
	if (*logged)
		return;
	*logged = true;
	fprintf(stderr, "tinyvmm: %s: queue %u: %s; %s (logged once)\n",
		vp->name, queue, what, consequence);
}

bool virtio_pci_has_feature(const struct virtio_pci *vp, unsigned bit)
{
	return vp->guest_features >> bit & 1;
}

/* ---- interrupts ---- */

/* Under vp->lock. With MSI-X off, INTx is the OR of the ISR status bits
 * (virtio 1.2, 4.1.4.5): asserted by a notification, deasserted by the
 * read that clears them. With MSI-X on, the function must not use INTx
 * (PCI 3.0, 6.8.2), whatever the vectors say. */
static void update_intx(struct virtio_pci *vp)
{
	pci_set_irq(&vp->pci, !msix_enabled(&vp->msix) && vp->isr_status);
}

static void raise_config(struct virtio_pci *vp)
{
	vp->isr_status |= VIRTIO_PCI_ISR_CONFIG;
	msix_notify(&vp->msix, vp->config_vector);
	update_intx(vp);
}

/* With MSI-X on, the queue's vector is the whole story: NO_VECTOR means no
 * interrupt at all, not INTx (virtio 1.2, 4.1.5.3 and 4.1.5.4). */
static void raise_queue(struct virtio_pci *vp, struct virtio_pci_queue *q)
{
	q->interrupts++;
	if (!msix_notify(&vp->msix, q->msix_vector))
		vp->isr_status |= VIRTIO_PCI_ISR_QUEUE;
	update_intx(vp);
}

/* The driver broke the device's rules: DEVICE_NEEDS_RESET until it resets
 * (virtio 1.2, 2.1.2), and nothing more is processed. */
static void needs_reset(struct virtio_pci *vp, unsigned queue, const char *why)
{
	if (vp->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	log_once(vp, &vp->broken_logged, queue, why, "device needs reset");
	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (vp->status & VIRTIO_STATUS_DRIVER_OK)
		raise_config(vp);
}

/* ---- the status machine ---- */

static void kick(struct virtio_pci_queue *q)
{
	eventfd_write(q->kick_fd, 1);
}

static void reset(struct virtio_pci *vp)
{
	vp->resets++;
	vp->status = 0;
	vp->guest_features = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->queue_sel = 0;
	vp->config_vector = VIRTIO_MSI_NO_VECTOR;
	vp->isr_status = 0;
	for (unsigned i = 0; i < vp->nqueues; i++) {
		struct virtio_pci_queue *q = &vp->q[i];

		q->size = q->max_size;
		q->msix_vector = VIRTIO_MSI_NO_VECTOR;
		q->enabled = false;
		q->desc = q->avail = q->used = 0;
		memset(&q->vq, 0, sizeof(q->vq));
	}
}

/* FEATURES_OK only for features we offered, VERSION_1 among them: a
 * modern-only device has no legacy interface to fall back to. */
static bool features_acceptable(const struct virtio_pci *vp)
{
	return !(vp->guest_features & ~vp->host_features) &&
	       virtio_pci_has_feature(vp, VIRTIO_F_VERSION_1);
}

static void write_status(struct virtio_pci *vp, uint8_t val)
{
	uint8_t old = vp->status;

	if (!val) {
		reset(vp);
		update_intx(vp);	/* the ISR status is 0 */
		return;
	}
	val &= (uint8_t)~VIRTIO_STATUS_NEEDS_RESET;	/* the device's bit */
	if ((val & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
	    !features_acceptable(vp))
		val &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	vp->status = val | (old & VIRTIO_STATUS_NEEDS_RESET);
	/* Buffers made available before DRIVER_OK are ours to take now. */
	if ((val & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK))
		for (unsigned i = 0; i < vp->nqueues; i++)
			if (vp->q[i].enabled)
				kick(&vp->q[i]);
}

static void enable_queue(struct virtio_pci *vp, unsigned n)
{
	struct virtio_pci_queue *q = &vp->q[n];

	if (q->size > q->max_size ||
	    virtqueue_init(&q->vq, vp->env->dma, q->size, q->desc, q->avail,
			   q->used)) {
		needs_reset(vp, n, "bad queue size or ring address");
		return;
	}
	q->vq.event_idx = virtio_pci_has_feature(vp, VIRTIO_F_EVENT_IDX);
	q->vq.indirect_desc = virtio_pci_has_feature(vp, VIRTIO_F_INDIRECT_DESC);
	q->enabled = true;
}

/* ---- the common configuration structure ---- */

/* The natural width of the field at @off; 64-bit fields may also be
 * accessed as two dwords. 0: no field starts there. */
static unsigned field_size(unsigned off)
{
	switch (off) {
	case COMMON_DFSELECT: case COMMON_DF: case COMMON_GFSELECT:
	case COMMON_GF:
		return 4;
	case COMMON_STATUS: case COMMON_CFGGEN:
		return 1;
	case COMMON_Q_DESC: case COMMON_Q_AVAIL: case COMMON_Q_USED:
		return 8;
	case COMMON_Q_DESC + 4: case COMMON_Q_AVAIL + 4: case COMMON_Q_USED + 4:
		return 4;
	default:	/* the 16-bit fields, 0x10 to 0x1e */
		return off >= COMMON_MSIX && off < COMMON_Q_DESC && off % 2 == 0 ? 2 : 0;
	}
}

static bool access_ok(struct virtio_pci *vp, uint64_t off, unsigned size)
{
	unsigned want = off < COMMON_SIZE ? field_size((unsigned)off) : 0;

	if (want && (size == want || (want == 8 && size == 4)))
		return true;
	vp->bad_accesses++;
	return false;
}

/* The queue_select'ed queue, or NULL when out of range. */
static struct virtio_pci_queue *selected_queue(struct virtio_pci *vp)
{
	return vp->queue_sel < vp->nqueues ? &vp->q[vp->queue_sel] : NULL;
}

static uint64_t *queue_addr(struct virtio_pci_queue *q, unsigned off)
{
	if (off < COMMON_Q_AVAIL)
		return &q->desc;
	return off < COMMON_Q_USED ? &q->avail : &q->used;
}

static uint64_t common_read_locked(struct virtio_pci *vp, unsigned off)
{
	struct virtio_pci_queue *q = selected_queue(vp);

	switch (off) {
	case COMMON_DFSELECT: return vp->dfselect;
	case COMMON_DF:
		return vp->dfselect < 2 ? (uint32_t)(vp->host_features >> (32 * vp->dfselect)) : 0;
	case COMMON_GFSELECT: return vp->gfselect;
	case COMMON_GF:
		return vp->gfselect < 2 ? (uint32_t)(vp->guest_features >> (32 * vp->gfselect)) : 0;
	case COMMON_MSIX: return vp->config_vector;
	case COMMON_NUMQ: return vp->nqueues;
	case COMMON_STATUS: return vp->status;
	case COMMON_CFGGEN: return vp->config_generation;
	case COMMON_Q_SELECT: return vp->queue_sel;
	}
	if (!q)
		return 0;	/* queue_size 0: no such queue */
	switch (off) {
	case COMMON_Q_SIZE: return q->size;
	case COMMON_Q_MSIX: return q->msix_vector;
	case COMMON_Q_ENABLE: return q->enabled;
	case COMMON_Q_NOFF: return vp->queue_sel;
	}
	/* The 64-bit ring addresses, whole or a dword. */
	return *queue_addr(q, off) >> (off % 8 ? 32 : 0);
}

static uint64_t common_read(void *opaque, uint64_t off, unsigned size)
{
	struct virtio_pci *vp = opaque;
	uint64_t v = 0;

	pthread_mutex_lock(&vp->lock);
	if (access_ok(vp, off, size))
		v = common_read_locked(vp, (unsigned)off);
	pthread_mutex_unlock(&vp->lock);
	return size == 8 ? v : v & ((1ull << (8 * size)) - 1);
}

static void set_queue_addr(struct virtio_pci_queue *q, unsigned off,
			   uint64_t val, unsigned size)
{
	uint64_t *a = queue_addr(q, off);

	if (size == 8)
		*a = val;
	else if (off % 8)
		*a = (*a & 0xffffffffu) | val << 32;
	else
		*a = (*a & ~0xffffffffull) | (uint32_t)val;
}

/* A vector the MSI-X table has, else NO_VECTOR (which the driver reads
 * back to learn the mapping failed). */
static uint16_t vector_or_none(const struct virtio_pci *vp, uint64_t val)
{
	return val < vp->msix.nvec ? (uint16_t)val : VIRTIO_MSI_NO_VECTOR;
}

static void common_write_queue(struct virtio_pci *vp, unsigned off,
			       uint64_t val, unsigned size)
{
	struct virtio_pci_queue *q = selected_queue(vp);

	/* Nothing of a queue changes once it is enabled (virtio 1.2,
	 * 4.1.4.3.2) but its vector. */
	if (!q || (q->enabled && off != COMMON_Q_MSIX))
		return;
	switch (off) {
	case COMMON_Q_SIZE:
		q->size = (uint16_t)val;	/* checked on enable */
		break;
	case COMMON_Q_MSIX:
		q->msix_vector = vector_or_none(vp, val);
		break;
	case COMMON_Q_ENABLE:
		if (val == 1)
			enable_queue(vp, vp->queue_sel);
		break;
	case COMMON_Q_NOFF:
		break;			/* read-only */
	default:
		set_queue_addr(q, off, val, size);
	}
}

static void common_write_locked(struct virtio_pci *vp, unsigned off,
				uint64_t val, unsigned size)
{
	unsigned shift;

	switch (off) {
	case COMMON_DFSELECT: vp->dfselect = (uint32_t)val; return;
	case COMMON_GFSELECT: vp->gfselect = (uint32_t)val; return;
	case COMMON_GF:
		/* Fixed once FEATURES_OK is set. */
		if (vp->gfselect >= 2 || (vp->status & VIRTIO_STATUS_FEATURES_OK))
			return;
		shift = 32 * vp->gfselect;
		vp->guest_features = (vp->guest_features & ~(0xffffffffull << shift)) |
				     (uint64_t)(uint32_t)val << shift;
		return;
	case COMMON_MSIX: vp->config_vector = vector_or_none(vp, val); return;
	case COMMON_STATUS: write_status(vp, (uint8_t)val); return;
	case COMMON_Q_SELECT: vp->queue_sel = (uint16_t)val; return;
	case COMMON_DF: case COMMON_NUMQ: case COMMON_CFGGEN:
		return;			/* read-only */
	}
	common_write_queue(vp, off, val, size);
}

static void common_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct virtio_pci *vp = opaque;

	pthread_mutex_lock(&vp->lock);
	if (access_ok(vp, off, size))
		common_write_locked(vp, (unsigned)off, val, size);
	pthread_mutex_unlock(&vp->lock);
}

/* ---- ISR, device configuration, notifications ---- */

/* Reading the ISR status clears it and so deasserts INTx (virtio 1.2,
 * 4.1.4.5). */
static uint64_t isr_read(void *opaque, uint64_t off, unsigned size)
{
	struct virtio_pci *vp = opaque;
	uint8_t v;

	(void)size;
	if (off)
		return 0;
	pthread_mutex_lock(&vp->lock);
	v = vp->isr_status;
	vp->isr_status = 0;
	update_intx(vp);
	pthread_mutex_unlock(&vp->lock);
	return v;
}

static uint64_t devcfg_read(void *opaque, uint64_t off, unsigned size)
{
	struct virtio_pci *vp = opaque;
	uint64_t v = 0;

	pthread_mutex_lock(&vp->lock);
	if (off + size <= vp->config_size)
		v = vp->ops->config_read(vp->opaque, (unsigned)off, size);
	pthread_mutex_unlock(&vp->lock);
	return v;
}

/* Reached only when no ioeventfd caught the write (none registered yet). */
static void notify_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct virtio_pci *vp = opaque;
	uint64_t n = off / VIRTIO_PCI_NOTIFY_MULT;

	(void)val; (void)size;
	if (n < vp->nqueues)
		kick(&vp->q[n]);
}

static uint64_t read_zero(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque; (void)off; (void)size;
	return 0;
}

static void write_ignored(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	(void)opaque; (void)off; (void)val; (void)size;
}

static const struct memory_region_ops common_ops = {
	.read = common_read, .write = common_write,
	.valid = { .min = 1, .max = 8 }, .impl = { .min = 1, .max = 8 },
};
static const struct memory_region_ops isr_ops = {
	.read = isr_read, .write = write_ignored,
	.valid = { .min = 1, .max = 4 }, .impl = { .min = 1, .max = 1 },
};
static const struct memory_region_ops devcfg_ops = {
	.read = devcfg_read, .write = write_ignored,
	.valid = { .min = 1, .max = 8 }, .impl = { .min = 1, .max = 8 },
};
static const struct memory_region_ops notify_ops = {
	.read = read_zero, .write = notify_write,
	.valid = { .min = 1, .max = 4 }, .impl = { .min = 1, .max = 4 },
};

/* ---- processing ---- */

static bool queue_ready(const struct virtio_pci *vp, const struct virtio_pci_queue *q)
{
	return (vp->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) ==
	       VIRTIO_STATUS_DRIVER_OK && q->enabled;
}

/* Pops and handles until the ring is empty with kicks re-enabled. Returns
 * false when a reset or a broken ring ended it (then no interrupt). The lock
 * is dropped between requests so the vCPUs' register accesses get in. */
static bool drain_queue(struct virtio_pci *vp, unsigned n)
{
	struct virtio_pci_queue *q = &vp->q[n];
	unsigned gen = vp->resets;
	int r;

	for (;;) {
		virtqueue_set_notification(&q->vq, false);
		while ((r = virtqueue_pop(&q->vq, vp->req)) == 1) {
			if (vp->req->bad)
				log_once(vp, &vp->bad_chain_logged, n, vp->req->reason,
					 "request failed");
			virtqueue_push(&q->vq, vp->req,
				       vp->ops->handle(vp->opaque, n, vp->req));
			q->requests++;
			pthread_mutex_unlock(&vp->lock);
			pthread_mutex_lock(&vp->lock);
			if (vp->resets != gen || !queue_ready(vp, q))
				return false;
		}
		if (r == 0) {
			/* A request made available while kicks were off
			 * came without one: look again. */
			virtqueue_set_notification(&q->vq, true);
			r = virtqueue_pending(&q->vq);
			if (r == 0)
				return true;
		}
		if (r < 0 || q->vq.broken) {
			needs_reset(vp, n, "the driver corrupted the ring");
			return false;
		}
	}
}

void virtio_pci_process_queue(struct virtio_pci *vp, unsigned n)
{
	struct virtio_pci_queue *q = &vp->q[n];
	eventfd_t kicks = 0;
	uint16_t used;

	eventfd_read(q->kick_fd, &kicks);	/* nonblocking: 0 if none */
	pthread_mutex_lock(&vp->lock);
	q->kicks += kicks;
	used = q->vq.used_idx;
	/* No interrupt for a kick that completed nothing: the driver would
	 * count it as spurious. */
	if (queue_ready(vp, q) && drain_queue(vp, n) && q->vq.used_idx != used &&
	    virtqueue_should_notify(&q->vq))
		raise_queue(vp, q);
	pthread_mutex_unlock(&vp->lock);
}

/* ---- PCI glue ---- */

/* BAR 4 moved: its notify addresses follow, as ioeventfds. */
static void virtio_pci_bar_update(struct pci_device *d, int bar, bool mapped,
				  uint64_t addr)
{
	struct virtio_pci *vp = d->opaque;
	const struct device_env *env = vp->env;

	if (bar != VIRTIO_PCI_CAP_BAR || !env->ioeventfd)
		return;
	for (unsigned i = 0; i < vp->nqueues; i++) {
		struct virtio_pci_queue *q = &vp->q[i];
		uint64_t gpa = addr + VIRTIO_PCI_NOTIFY_OFF + i * VIRTIO_PCI_NOTIFY_MULT;

		if (q->notify_gpa)
			env->ioeventfd(env->host, q->notify_gpa, q->kick_fd, false);
		q->notify_gpa = 0;
		if (mapped && !env->ioeventfd(env->host, gpa, q->kick_fd, true))
			q->notify_gpa = gpa;
	}
}

static void virtio_pci_config_write(struct pci_device *d, unsigned off,
				    uint32_t val, unsigned size)
{
	struct virtio_pci *vp = d->opaque;

	(void)val;
	msix_config_write(&vp->msix, off, size);
	/* MSI-X turned on silences INTx; turned off, the ISR drives it. */
	pthread_mutex_lock(&vp->lock);
	update_intx(vp);
	pthread_mutex_unlock(&vp->lock);
}

/* A struct virtio_pci_cap pointing at @len bytes at @off of BAR 4. */
static int add_cap(struct virtio_pci *vp, uint8_t type, uint32_t off,
		   uint32_t len, unsigned cap_len)
{
	int c = pci_add_capability(&vp->pci, PCI_CAP_ID_VNDR, cap_len);

	if (c < 0)
		return -1;
	pci_set(&vp->pci, (unsigned)c + 2, 1, cap_len);
	pci_set(&vp->pci, (unsigned)c + 3, 1, type);
	pci_set(&vp->pci, (unsigned)c + 4, 1, VIRTIO_PCI_CAP_BAR);
	pci_set(&vp->pci, (unsigned)c + 8, 4, off);
	pci_set(&vp->pci, (unsigned)c + 12, 4, len);
	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
		pci_set(&vp->pci, (unsigned)c + 16, 4, VIRTIO_PCI_NOTIFY_MULT);
	return 0;
}

static void init_regions(struct virtio_pci *vp)
{
	struct { struct memory_region *mr; const char *name;
		 const struct memory_region_ops *ops; uint64_t off, size; } r[] = {
		{ &vp->common, "virtio-pci-common", &common_ops,
		  VIRTIO_PCI_COMMON_OFF, COMMON_SIZE },
		{ &vp->isr, "virtio-pci-isr", &isr_ops, VIRTIO_PCI_ISR_OFF, 4 },
		{ &vp->devcfg, "virtio-pci-device", &devcfg_ops,
		  VIRTIO_PCI_DEVICE_OFF, 0x1000 },
		{ &vp->notify, "virtio-pci-notify", &notify_ops,
		  VIRTIO_PCI_NOTIFY_OFF, 0x1000 },
	};

	memory_region_init_container(&vp->bar, "virtio-pci-bar", VIRTIO_PCI_BAR_SIZE);
	memory_region_init_container(&vp->msix_bar, "virtio-pci-msix",
				     VIRTIO_PCI_MSIX_BAR_SIZE);
	memory_transaction_begin();
	for (unsigned i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		memory_region_init_io(r[i].mr, r[i].name, r[i].ops, vp, r[i].size);
		memory_region_add_subregion(&vp->bar, r[i].off, r[i].mr, 0);
	}
	memory_transaction_commit();
}

static int init_caps(struct virtio_pci *vp)
{
	struct pci_device *d = &vp->pci;
	uint32_t notify_len = vp->nqueues * VIRTIO_PCI_NOTIFY_MULT;

	if (pci_register_bar(d, VIRTIO_PCI_MSIX_BAR, PCI_BAR_MEM32, &vp->msix_bar) ||
	    pci_register_bar(d, VIRTIO_PCI_CAP_BAR, PCI_BAR_MEM64, &vp->bar) ||
	    msix_init(&vp->msix, d, vp->nqueues + 1, VIRTIO_PCI_MSIX_BAR,
		      &vp->msix_bar, 0, 0x800) ||
	    add_cap(vp, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF,
		    COMMON_SIZE, VIRTIO_PCI_CAP_LEN) ||
	    add_cap(vp, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF, 1,
		    VIRTIO_PCI_CAP_LEN) ||
	    add_cap(vp, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFF,
		    vp->config_size, VIRTIO_PCI_CAP_LEN) ||
	    add_cap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF,
		    notify_len, VIRTIO_PCI_NOTIFY_CAP_LEN))
		return -1;
	vp->msix.deliver = vp->env->msi;
	vp->msix.host = vp->env->host;
	return 0;
}

int virtio_pci_init(struct virtio_pci *vp, const struct device_env *env,
		    const char *name, uint16_t device_id, uint32_t class_code,
		    uint64_t features, unsigned config_size, unsigned nqueues,
		    unsigned queue_max, const struct virtio_device_ops *ops,
		    void *opaque)
{
	memset(vp, 0, sizeof(*vp));
	if (!env->pci || !nqueues || nqueues > VIRTIO_PCI_MAX_QUEUES ||
	    config_size > 0x1000) {
		errno = EINVAL;
		return -1;
	}
	vp->env = env;
	vp->name = name;
	vp->ops = ops;
	vp->opaque = opaque;
	vp->config_size = config_size;
	vp->nqueues = nqueues;
	vp->host_features = features | 1ull << VIRTIO_F_VERSION_1;
	pthread_mutex_init(&vp->lock, NULL);
	for (unsigned i = 0; i < nqueues; i++)
		vp->q[i].kick_fd = -1;
	for (unsigned i = 0; i < nqueues; i++) {
		vp->q[i].max_size = (uint16_t)queue_max;
		vp->q[i].kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (vp->q[i].kick_fd < 0)
			return -1;
	}
	vp->req = malloc(sizeof(*vp->req));
	if (!vp->req)
		return -1;
	reset(vp);
	pci_device_init(&vp->pci, name, VIRTIO_PCI_VENDOR,
			VIRTIO_PCI_DEVICE_BASE + device_id, class_code, 1);
	/* Modern devices: subsystem ID >= 0x40 (virtio 1.2, 4.1.2.1). */
	pci_set(&vp->pci, PCI_SUBSYSTEM_ID, 2, 0x40);
	pci_set(&vp->pci, PCI_INTERRUPT_PIN, 1, PCI_INTERRUPT_PIN_A);
	vp->pci.opaque = vp;
	vp->pci.bar_update = virtio_pci_bar_update;
	vp->pci.config_write = virtio_pci_config_write;
	init_regions(vp);
	if (init_caps(vp) || pci_bus_add_device(env->pci, &vp->pci, -1) < 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	for (unsigned i = 0; i < vp->nqueues; i++) {
		struct virtio_pci_queue *q = &vp->q[i];

		if (q->notify_gpa && vp->env->ioeventfd)
			vp->env->ioeventfd(vp->env->host, q->notify_gpa, q->kick_fd, false);
		if (q->kick_fd >= 0)
			close(q->kick_fd);
	}
	free(vp->req);
}

void virtio_pci_print_stats(struct virtio_pci *vp, FILE *out)
{
	pthread_mutex_lock(&vp->lock);
	for (unsigned i = 0; i < vp->nqueues; i++)
		fprintf(out, "%s queue %u: %llu requests, %llu kicks, %llu interrupts\n",
			vp->name, i, (unsigned long long)vp->q[i].requests,
			(unsigned long long)vp->q[i].kicks,
			(unsigned long long)vp->q[i].interrupts);
	fprintf(out, "%s: %llu MSI-X messages sent, %llu held while masked, "
		"%llu bad register accesses\n", vp->name,
		(unsigned long long)vp->msix.sent, (unsigned long long)vp->msix.held,
		(unsigned long long)vp->bad_accesses);
	pthread_mutex_unlock(&vp->lock);
}
