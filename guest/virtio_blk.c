/* virtio-blk over modern virtio-pci: the capabilities, initialisation
 * (virtio 1.2, 3.1.1), MSI-X, a split virtqueue and block requests.
 * The device is untrusted: every index and length it hands back is checked
 * before use. */
#include "virtio_blk.h"

#include "apic.h"
#include "boot.h"
#include "io.h"
#include "lib.h"
#include "tap.h"

/* struct virtio_pci_common_cfg (4.1.4.3), accessed with the widths the
 * spec requires; the 64-bit queue addresses as two 32-bit halves. */
#define COMMON_DF_SELECT	0x00
#define COMMON_DF		0x04
#define COMMON_GF_SELECT	0x08
#define COMMON_GF		0x0c
#define COMMON_MSIX_CONFIG	0x10
#define COMMON_NUM_QUEUES	0x12
#define COMMON_STATUS		0x14
#define COMMON_CFG_GEN		0x15
#define COMMON_Q_SELECT		0x16
#define COMMON_Q_SIZE		0x18
#define COMMON_Q_MSIX		0x1a
#define COMMON_Q_ENABLE		0x1c
#define COMMON_Q_NOTIFY_OFF	0x1e
#define COMMON_Q_DESC		0x20
#define COMMON_Q_DRIVER		0x28
#define COMMON_Q_DEVICE		0x30
#define COMMON_LEN		0x38

/* struct virtio_blk_config (5.2.4) */
#define BLKCFG_CAPACITY		0x00
#define BLKCFG_SIZE_MAX		0x08
#define BLKCFG_SEG_MAX		0x0c
#define BLKCFG_BLK_SIZE		0x14

/* struct virtio_pci_cap (4.1.4) */
#define VCAP_LEN		2
#define VCAP_CFG_TYPE		3
#define VCAP_BAR		4
#define VCAP_OFFSET		8
#define VCAP_LENGTH		12
#define VCAP_NOTIFY_MULT	16
#define VCAP_MIN_LEN		16
#define VCAP_NOTIFY_MIN_LEN	20
#define VCAP_COMMON		1
#define VCAP_NOTIFY		2
#define VCAP_ISR		3
#define VCAP_DEVICE		4

#define MSIX_CTRL		2
#define MSIX_TABLE		4
#define MSIX_CTRL_ENABLE	(1u << 15)
#define MSIX_CTRL_FMASK		(1u << 14)
#define MSIX_ENTRY_SIZE		16
#define VIRTIO_MSI_NO_VECTOR	0xffff

#define VRING_DESC_F_NEXT	1
#define VRING_DESC_F_WRITE	2
#define VRING_USED_F_NO_NOTIFY	1

#define RESET_MS		1000
#define WAIT_TICK_MS		10
#define SEG_DEFAULT		(4u << 20)	/* no SIZE_MAX: our own cap */

#define ISR_QUEUE		1	/* ISR bit 0: a used buffer notification */

volatile uint32_t vblk_irqs;
static struct vblk_dma dma_mem;
static uint64_t intx_isr;	/* INTx mode: the ISR to read, else 0 */

/* With INTx the ISR read acknowledges (virtio 1.2, 4.1.4.5) and lowers a
 * level line before the EOI; a line shared with another device may fire
 * without our bit. */
static void vblk_irq(unsigned vector)
{
	(void)vector;
	if (!intx_isr || (mmio_read8(intx_isr) & ISR_QUEUE))
		vblk_irqs++;
	apic_eoi();
}

static void full_barrier(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* ---- capabilities ---- */

/* Where a capability's (bar, offset, length) points, if that lies inside
 * an assigned memory BAR we map and is at least @min_len long. */
static bool cap_region(const struct pci_dev *d, unsigned cap, uint32_t min_len,
		       uint64_t *addr, uint32_t *len)
{
	uint8_t bar = pci_read8(d, cap + VCAP_BAR);
	uint32_t off = pci_read32(d, cap + VCAP_OFFSET), l = pci_read32(d, cap + VCAP_LENGTH);
	const struct pci_bar *b;

	if (bar >= 6)
		return false;
	b = &d->bar[bar];
	if (!b->size || b->io || !b->addr || b->addr + b->size > MAPPED_TOP ||
	    l < min_len || (uint64_t)off + l > b->size)
		return false;
	*addr = b->addr + off;
	*len = l;
	return true;
}

/* The first usable capability of each cfg_type 1-4 (4.1.4: a driver uses
 * the first one it can); others, and types we do not use, are ignored. */
static int find_virtio_caps(struct vblk *vb)
{
	static const uint32_t min_len[5] = { 0, COMMON_LEN, 2, 1, 8 };
	static const char *const names[5] = { "", "common", "notify", "ISR", "device" };
	uint64_t *where[5] = { 0, &vb->common, &vb->notify_base, &vb->isr, &vb->devcfg };
	uint32_t len[5] = { 0 };
	const struct pci_dev *d = vb->pci;

	for (unsigned cap = pci_find_cap(d, PCI_CAP_VENDOR, 0); cap;
	     cap = pci_find_cap(d, PCI_CAP_VENDOR, cap)) {
		uint8_t type = pci_read8(d, cap + VCAP_CFG_TYPE);
		uint8_t clen = pci_read8(d, cap + VCAP_LEN);

		if (type < VCAP_COMMON || type > VCAP_DEVICE || *where[type] ||
		    clen < (type == VCAP_NOTIFY ? VCAP_NOTIFY_MIN_LEN : VCAP_MIN_LEN))
			continue;
		if (!cap_region(d, cap, min_len[type], where[type], &len[type])) {
			tap_diag("ignoring the %s capability at %#x: outside its BAR",
				 names[type], cap);
			continue;
		}
		if (type == VCAP_NOTIFY)
			vb->notify_mult = pci_read32(d, cap + VCAP_NOTIFY_MULT);
	}
	for (int t = VCAP_COMMON; t <= VCAP_DEVICE; t++)
		if (!*where[t]) {
			tap_diag("no usable %s capability", names[t]);
			return -1;
		}
	vb->notify_len = len[VCAP_NOTIFY];
	vb->devcfg_len = len[VCAP_DEVICE];
	return 0;
}

static int find_msix(struct vblk *vb)
{
	const struct pci_dev *d = vb->pci;
	unsigned cap = pci_find_cap(d, PCI_CAP_MSIX, 0);
	uint32_t table;
	const struct pci_bar *b;

	if (!cap) {
		tap_diag("no MSI-X capability");
		return -1;
	}
	table = pci_read32(d, cap + MSIX_TABLE);
	b = (table & 7) < 6 ? &d->bar[table & 7] : 0;
	if (!b || !b->size || b->io || !b->addr || b->addr + b->size > MAPPED_TOP ||
	    (uint64_t)(table & ~7u) + MSIX_ENTRY_SIZE > b->size) {
		tap_diag("MSI-X table %#x is outside its BAR", table);
		return -1;
	}
	vb->msix_cap = cap;
	vb->msix_table = b->addr + (table & ~7u);
	return 0;
}

int vblk_probe(struct vblk *vb)
{
	static const uint16_t ids[] = { VIRTIO_PCI_BLK_MODERN, VIRTIO_PCI_BLK_TRANS };
	unsigned from = 0;

	*vb = (struct vblk){ .dma = &dma_mem };
	pci_scan();
	vb->pci = pci_find(&from, VIRTIO_PCI_VENDOR, ids, 2);
	if (!vb->pci)
		return 0;
	if (find_virtio_caps(vb) || find_msix(vb))
		return -1;
	pci_enable(vb->pci);
	return 1;
}

/* ---- status and features ---- */

static uint16_t common_read16(const struct vblk *vb, unsigned off)
{
	return mmio_read16(vb->common + off);
}

static void common_write16(const struct vblk *vb, unsigned off, uint16_t v)
{
	mmio_write16(vb->common + off, v);
}

static void common_write64(const struct vblk *vb, unsigned off, uint64_t v)
{
	mmio_write32(vb->common + off, (uint32_t)v);
	mmio_write32(vb->common + off + 4, (uint32_t)(v >> 32));
}

uint8_t vblk_device_status(const struct vblk *vb)
{
	return mmio_read8(vb->common + COMMON_STATUS);
}

static void add_status(const struct vblk *vb, uint8_t bits)
{
	mmio_write8(vb->common + COMMON_STATUS, vblk_device_status(vb) | bits);
}

bool vblk_reset(struct vblk *vb)
{
	uint64_t end = deadline_ms(RESET_MS);

	mmio_write8(vb->common + COMMON_STATUS, 0);
	/* 4.1.4.3.2: the reset is done when device_status reads 0. */
	while (vblk_device_status(vb))
		if (past(end))
			return false;
		else
			cpu_relax();
	return true;
}

static uint64_t read_features(const struct vblk *vb)
{
	uint64_t f = 0;

	for (uint32_t sel = 0; sel < 2; sel++) {
		mmio_write32(vb->common + COMMON_DF_SELECT, sel);
		f |= (uint64_t)mmio_read32(vb->common + COMMON_DF) << (32 * sel);
	}
	return f;
}

int vblk_begin(struct vblk *vb)
{
	if (!vblk_reset(vb)) {
		tap_diag("device status %#x: the reset did not complete",
			 vblk_device_status(vb));
		return -1;
	}
	add_status(vb, VIRTIO_STATUS_ACKNOWLEDGE);
	add_status(vb, VIRTIO_STATUS_DRIVER);
	vb->offered = read_features(vb);
	if (!(vb->offered & VBIT(VIRTIO_F_VERSION_1))) {
		tap_diag("features %#llx: no VERSION_1", (unsigned long long)vb->offered);
		add_status(vb, VIRTIO_STATUS_FAILED);
		return -1;
	}
	return 0;
}

bool vblk_features_ok(struct vblk *vb, uint64_t features)
{
	for (uint32_t sel = 0; sel < 2; sel++) {
		mmio_write32(vb->common + COMMON_GF_SELECT, sel);
		mmio_write32(vb->common + COMMON_GF, (uint32_t)(features >> (32 * sel)));
	}
	add_status(vb, VIRTIO_STATUS_FEATURES_OK);
	return vblk_device_status(vb) & VIRTIO_STATUS_FEATURES_OK;
}

/* ---- device configuration ---- */

/* A field of the device configuration, if the capability covers it. */
static bool cfg_read32(const struct vblk *vb, unsigned off, uint32_t *v)
{
	if (off + 4 > vb->devcfg_len)
		return false;
	*v = mmio_read32(vb->devcfg + off);
	return true;
}

/* One consistent snapshot: config_generation unchanged across it (4.1.4.3). */
static bool read_config_once(struct vblk *vb)
{
	uint8_t gen = mmio_read8(vb->common + COMMON_CFG_GEN);
	uint32_t lo = 0, hi = 0;
	bool ok = cfg_read32(vb, BLKCFG_CAPACITY, &lo) && cfg_read32(vb, BLKCFG_CAPACITY + 4, &hi);

	vb->capacity = (uint64_t)hi << 32 | lo;
	if (vblk_has(vb, VIRTIO_BLK_F_SIZE_MAX))
		ok = ok && cfg_read32(vb, BLKCFG_SIZE_MAX, &vb->size_max);
	if (vblk_has(vb, VIRTIO_BLK_F_SEG_MAX))
		ok = ok && cfg_read32(vb, BLKCFG_SEG_MAX, &vb->seg_max);
	if (vblk_has(vb, VIRTIO_BLK_F_BLK_SIZE))
		ok = ok && cfg_read32(vb, BLKCFG_BLK_SIZE, &vb->blk_size);
	return ok && gen == mmio_read8(vb->common + COMMON_CFG_GEN);
}

static int read_config(struct vblk *vb)
{
	int tries = 0;

	vb->blk_size = VBLK_SECTOR;
	while (!read_config_once(vb))
		if (++tries == 10) {
			tap_diag("device config: too short (%u bytes) or never stable",
				 vb->devcfg_len);
			return -1;
		}
	if ((vblk_has(vb, VIRTIO_BLK_F_SEG_MAX) && !vb->seg_max) ||
	    (vblk_has(vb, VIRTIO_BLK_F_SIZE_MAX) && vb->size_max < VBLK_SECTOR) ||
	    vb->blk_size < VBLK_SECTOR || (vb->blk_size & (vb->blk_size - 1))) {
		tap_diag("device config: seg_max %u, size_max %u, blk_size %u make no sense",
			 vb->seg_max, vb->size_max, vb->blk_size);
		return -1;
	}
	return 0;
}

/* ---- queue 0 and MSI-X ---- */

static void init_ring_state(struct vblk *vb, uint16_t qsize)
{
	memset(vb->dma, 0, sizeof(*vb->dma));
	vb->qsize = qsize;
	vb->avail_idx = vb->kicked_idx = vb->used_seen = 0;
	vb->free_head = 0;
	vb->nfree = qsize;
	vb->inflight = 0;
	for (uint16_t i = 0; i < qsize; i++) {
		vb->free_next[i] = i + 1;
		vb->slot_of[i] = -1;
	}
	vb->busy = 0;
}

/* Entry 0 of the table: to the BSP's local APIC, vector VEC_BLK, fixed,
 * edge; the function mask covers the moment the entry is half written. */
static void msix_setup(const struct vblk *vb)
{
	uint16_t ctrl = pci_read16(vb->pci, vb->msix_cap + MSIX_CTRL);
	uint64_t t = vb->msix_table;

	intx_isr = 0;
	irq_set_handler(VEC_BLK, vblk_irq);
	pci_write16(vb->pci, vb->msix_cap + MSIX_CTRL, ctrl | MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
	mmio_write32(t + 0, (uint32_t)APIC_BASE | apic_id() << 12);
	mmio_write32(t + 4, 0);
	mmio_write32(t + 8, VEC_BLK);
	mmio_write32(t + 12, 0);	/* vector control: unmasked */
	pci_write16(vb->pci, vb->msix_cap + MSIX_CTRL,
		    (ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_FMASK);
}

/* MSI-X off and INTx enabled in the command register: the device signals
 * on its interrupt pin (virtio 1.2, 4.1.5.3). The vectors stay at the
 * NO_VECTOR the reset left. */
static void intx_setup(const struct vblk *vb)
{
	uint16_t ctrl = pci_read16(vb->pci, vb->msix_cap + MSIX_CTRL);

	pci_write16(vb->pci, vb->msix_cap + MSIX_CTRL, ctrl & ~MSIX_CTRL_ENABLE);
	pci_write16(vb->pci, PCI_COMMAND,
		    pci_read16(vb->pci, PCI_COMMAND) & ~PCI_CMD_INTX_DISABLE);
	intx_isr = vb->isr;
	irq_set_handler(VEC_BLK, vblk_irq);
}

/* Config changes: no vector; queue 0: entry 0. Both must read back. */
static int set_vectors(const struct vblk *vb)
{
	uint16_t cfg, q;

	common_write16(vb, COMMON_MSIX_CONFIG, VIRTIO_MSI_NO_VECTOR);
	cfg = common_read16(vb, COMMON_MSIX_CONFIG);
	common_write16(vb, COMMON_Q_MSIX, 0);
	q = common_read16(vb, COMMON_Q_MSIX);
	if (cfg != VIRTIO_MSI_NO_VECTOR || q != 0) {
		tap_diag("MSI-X vectors read back config %#x, queue %#x%s", cfg, q,
			 q == VIRTIO_MSI_NO_VECTOR ? ": the device refused entry 0" : "");
		return -1;
	}
	return 0;
}

/* The doorbell: notify_base + queue_notify_off * notify_off_multiplier,
 * which must lie inside the notify capability's region. */
static int find_notify(struct vblk *vb)
{
	uint64_t off = (uint64_t)common_read16(vb, COMMON_Q_NOTIFY_OFF) * vb->notify_mult;

	if (off + 2 > vb->notify_len) {
		tap_diag("queue notify offset %#llx is outside the %#x-byte notify region",
			 (unsigned long long)off, vb->notify_len);
		return -1;
	}
	vb->notify = vb->notify_base + off;
	return 0;
}

/* The largest power of two <= min(@max, VBLK_QMAX): split rings need one. */
static uint16_t pick_qsize(uint16_t max)
{
	uint16_t q = VBLK_QMAX;

	while (q > max)
		q >>= 1;
	return q;
}

static int setup_queue(struct vblk *vb)
{
	uint16_t max;

	if (!common_read16(vb, COMMON_NUM_QUEUES)) {
		tap_diag("the device has no queues");
		return -1;
	}
	common_write16(vb, COMMON_Q_SELECT, 0);
	max = common_read16(vb, COMMON_Q_SIZE);
	if (!max || common_read16(vb, COMMON_Q_ENABLE)) {
		tap_diag("queue 0: size %u, enabled %u after a reset", max,
			 common_read16(vb, COMMON_Q_ENABLE));
		return -1;
	}
	if (max < VBLK_QMIN) {
		tap_diag("queue 0: size %u is too small for a request", max);
		return -1;
	}
	init_ring_state(vb, pick_qsize(max));
	common_write16(vb, COMMON_Q_SIZE, vb->qsize);
	common_write64(vb, COMMON_Q_DESC, (uintptr_t)vb->dma->desc);
	common_write64(vb, COMMON_Q_DRIVER, (uintptr_t)&vb->dma->avail);
	common_write64(vb, COMMON_Q_DEVICE, (uintptr_t)&vb->dma->used);
	if (vb->intx)
		intx_setup(vb);
	else
		msix_setup(vb);
	if ((!vb->intx && set_vectors(vb)) || find_notify(vb))
		return -1;
	common_write16(vb, COMMON_Q_ENABLE, 1);
	return 0;
}

int vblk_init(struct vblk *vb, uint64_t want)
{
	uint64_t f;

	apic_enable();
	if (vblk_begin(vb))
		return -1;
	f = (want & vb->offered) | VBIT(VIRTIO_F_VERSION_1);
	if (!vblk_features_ok(vb, f)) {
		tap_diag("FEATURES_OK did not stick for %#llx (offered %#llx)",
			 (unsigned long long)f, (unsigned long long)vb->offered);
		goto fail;
	}
	vb->features = f;
	if (read_config(vb) || setup_queue(vb))
		goto fail;
	add_status(vb, VIRTIO_STATUS_DRIVER_OK);
	if (vblk_device_status(vb) & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)) {
		tap_diag("device status %#x after DRIVER_OK", vblk_device_status(vb));
		return -1;
	}
	return 0;
fail:
	add_status(vb, VIRTIO_STATUS_FAILED);
	return -1;
}

/* ---- requests ---- */

static uint32_t seg_bytes(const struct vblk *vb)
{
	return vblk_has(vb, VIRTIO_BLK_F_SIZE_MAX) && vb->size_max < SEG_DEFAULT ?
	       vb->size_max : SEG_DEFAULT;
}

/* Data segments per request: seg_max, and the ring must hold header and
 * status too. */
static uint32_t max_segs(const struct vblk *vb)
{
	uint32_t m = vb->qsize - 2u;

	return vblk_has(vb, VIRTIO_BLK_F_SEG_MAX) && vb->seg_max < m ? vb->seg_max : m;
}

uint32_t vblk_max_request(const struct vblk *vb)
{
	uint64_t m = (uint64_t)max_segs(vb) * seg_bytes(vb);

	return (uint32_t)(m < (1u << 30) ? m : (1u << 30)) & ~(VBLK_SECTOR - 1);
}

_Static_assert(VBLK_SLOTS == 64, "one bit of vblk.busy per slot");

/* Takes the next free descriptor for [addr, addr + len) and links it after
 * @prev (-1: it is the head). */
static uint16_t chain(struct vblk *vb, int prev, uint64_t addr, uint32_t len, uint16_t flags)
{
	uint16_t i = vb->free_head;

	vb->free_head = vb->free_next[i];
	vb->nfree--;
	vb->dma->desc[i] = (struct vring_desc){ .addr = addr, .len = len, .flags = flags };
	if (prev >= 0) {
		vb->dma->desc[prev].flags |= VRING_DESC_F_NEXT;
		vb->dma->desc[prev].next = i;
	}
	return i;
}

/* Header (device reads), data cut into segments, status (device writes). */
static uint16_t build_chain(struct vblk *vb, int s, uint8_t *buf, uint32_t len, bool dev_writes)
{
	uint32_t seg = seg_bytes(vb);
	uint16_t head = chain(vb, -1, (uintptr_t)&vb->dma->hdr[s], sizeof(vb->dma->hdr[s]), 0);
	uint16_t last = head;

	for (uint32_t off = 0; off < len; off += seg)
		last = chain(vb, last, (uintptr_t)(buf + off), len - off < seg ? len - off : seg,
			     dev_writes ? VRING_DESC_F_WRITE : 0);
	chain(vb, last, (uintptr_t)&vb->dma->status[s], 1, VRING_DESC_F_WRITE);
	return head;
}

/* A batch starts on an idle queue: the interrupt wait counts from here,
 * and with EVENT_IDX the first completion must interrupt (used_event may
 * still name an entry of the previous batch), unless lazy_irq leaves that
 * to the wait, which asks only before it sleeps. */
static void start_batch(struct vblk *vb)
{
	vb->irq_mark = vblk_irqs;
	if (!vb->lazy_irq)
		vb->dma->avail.ring[vb->qsize] = vb->used_seen;
}

int vblk_submit(struct vblk *vb, uint32_t type, uint64_t sector, void *buf, uint32_t len)
{
	bool dev_writes = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
	uint32_t nseg = len / seg_bytes(vb) + (len % seg_bytes(vb) != 0);
	int s = vblk_free_slot(vb);
	uint16_t head;

	if (nseg > max_segs(vb))
		return -2;
	if (s < 0 || nseg + 2 > vb->nfree)
		return -1;
	if (!vb->inflight)
		start_batch(vb);
	vb->dma->hdr[s] = (struct virtio_blk_req_hdr){ .type = type, .sector = sector };
	vb->dma->status[s] = 0xff;	/* not a status: shows it was never written */
	head = build_chain(vb, s, buf, len, dev_writes);
	vb->slot[s] = (struct vblk_slot){ .head = head, .ndesc = nseg + 2,
					  .writable = (dev_writes ? len : 0) + 1 };
	vb->busy |= 1ull << s;
	vb->slot_of[head] = (int16_t)s;
	vb->dma->avail.ring[vb->avail_idx & (vb->qsize - 1)] = head;
	vb->avail_idx++;
	if (++vb->inflight > vb->max_inflight)
		vb->max_inflight = vb->inflight;
	return s;
}

/* 2.7.10: notify iff the device's avail_event lies in (old, new]. */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

static volatile uint16_t *avail_event(struct vblk *vb)
{
	return (volatile uint16_t *)&vb->dma->used.ring[vb->qsize];
}

void vblk_kick(struct vblk *vb)
{
	uint16_t old = vb->kicked_idx, new_idx = vb->avail_idx;

	if (old == new_idx)
		return;
	/* The ring entries before the index that publishes them. */
	__atomic_store_n(&vb->dma->avail.idx, new_idx, __ATOMIC_RELEASE);
	vb->kicked_idx = new_idx;
	vb->kicks++;
	full_barrier();		/* the index out before avail_event is read */
	if (vblk_has(vb, VIRTIO_F_RING_EVENT_IDX) ?
	    !need_event(*avail_event(vb), new_idx, old) :
	    vb->dma->used.flags & VRING_USED_F_NO_NOTIFY)
		return;
	vb->notifies++;
	mmio_write16(vb->notify, 0);
}

/* Puts a chain back: it is a run of free_next from its head. */
static void free_chain(struct vblk *vb, const struct vblk_slot *sl)
{
	uint16_t tail = sl->head;

	for (uint16_t n = 1; n < sl->ndesc; n++)
		tail = vb->free_next[tail];
	vb->free_next[tail] = vb->free_head;
	vb->free_head = sl->head;
	vb->nfree += sl->ndesc;
}

static int complete(struct vblk *vb, uint32_t id, uint32_t len)
{
	struct vblk_slot *sl;
	uint8_t st;
	int s;

	if (id >= vb->qsize || vb->slot_of[id] < 0) {
		tap_diag("used ring: id %u is not a request in flight", id);
		return -1;
	}
	s = vb->slot_of[id];
	sl = &vb->slot[s];
	st = vb->dma->status[s];
	/* 2.7.8: len is what the device wrote; an OK request wrote it all. */
	if (len > sl->writable || (st == VIRTIO_BLK_S_OK && len != sl->writable)) {
		tap_diag("used ring: id %u, len %u, status %u; the request offers %u writable bytes",
			 id, len, st, sl->writable);
		return -1;
	}
	if (st != VIRTIO_BLK_S_OK && vb->first_bad == VIRTIO_BLK_S_OK)
		vb->first_bad = st;
	free_chain(vb, sl);
	vb->slot_of[id] = -1;
	vb->busy &= ~(1ull << s);
	vb->inflight--;
	return 0;
}

static int reap(struct vblk *vb)
{
	uint16_t idx = __atomic_load_n(&vb->dma->used.idx, __ATOMIC_ACQUIRE);

	if ((uint16_t)(idx - vb->used_seen) > vb->inflight) {
		tap_diag("used idx %u: %u entries, but %u requests are in flight", idx,
			 (uint16_t)(idx - vb->used_seen), vb->inflight);
		return -1;
	}
	for (; vb->used_seen != idx; vb->used_seen++) {
		/* One read of each field: the device cannot change it under us. */
		uint32_t id = vb->dma->used.ring[vb->used_seen & (vb->qsize - 1)].id;
		uint32_t len = vb->dma->used.ring[vb->used_seen & (vb->qsize - 1)].len;

		if (complete(vb, id, len))
			return -1;
	}
	return 0;
}

/* With EVENT_IDX: ask for an interrupt at the next used entry, then look
 * again, as an entry may have come before the request was visible. True
 * if there is something to reap. */
static bool rearm(struct vblk *vb)
{
	if (!vblk_has(vb, VIRTIO_F_RING_EVENT_IDX))
		return false;
	vb->dma->avail.ring[vb->qsize] = vb->used_seen;
	full_barrier();
	return __atomic_load_n(&vb->dma->used.idx, __ATOMIC_ACQUIRE) != vb->used_seen;
}

/* Everything back, and the device said so with at least one interrupt. */
static bool all_done(const struct vblk *vb)
{
	return !vb->inflight && vblk_irqs != vb->irq_mark;
}

static int wait_timeout(const struct vblk *vb)
{
	if (!vb->inflight)
		tap_diag("timeout: every request completed, but no %s interrupt came",
			 vb->intx ? "INTx" : "MSI-X");
	else
		tap_diag("timeout: %u requests in flight, used idx %u, %u interrupts,"
			 " device status %#x", vb->inflight, vb->dma->used.idx,
			 vblk_irqs - vb->irq_mark, vblk_device_status(vb));
	return -1;
}

/* Until every request in flight is back with an interrupt (@any false),
 * or until fewer than @before are in flight (@any true). */
static int wait_until(struct vblk *vb, unsigned ms, bool any, uint16_t before)
{
	uint64_t end = deadline_ms(ms), flags = irq_save(), t;
	int r;

	if (!vb->tick_held)
		apic_tick_start(WAIT_TICK_MS);
	while (!(r = reap(vb)) && !(any ? vb->inflight < before : all_done(vb))) {
		if (rearm(vb))
			continue;
		if (past(end)) {
			r = wait_timeout(vb);
			break;
		}
		t = rdtsc();
		irq_wait();
		vb->idle_tsc += rdtsc() - t;
		vb->sleeps++;
	}
	if (!vb->tick_held)
		apic_tick_stop();
	irq_restore(flags);
	return r;
}

int vblk_wait(struct vblk *vb, unsigned ms)
{
	return wait_until(vb, ms, false, 0);
}

int vblk_wait_any(struct vblk *vb, unsigned ms)
{
	uint16_t before = vb->inflight;

	if (!before)
		return 0;
	return wait_until(vb, ms, true, before) ? -1 : before - vb->inflight;
}

static uint32_t clamp_chunk(const struct vblk *vb, uint32_t chunk)
{
	uint32_t m = vblk_max_request(vb);

	return chunk > m ? m : chunk;
}

int vblk_rw(struct vblk *vb, uint32_t type, uint64_t sector, void *buf, uint64_t len,
	    uint32_t chunk)
{
	uint64_t off = 0;

	chunk = clamp_chunk(vb, chunk);
	if (len && !chunk) {
		tap_diag("vblk_rw: chunk 0");
		return -1;
	}
	vb->first_bad = VIRTIO_BLK_S_OK;
	do {
		uint32_t n = len - off < chunk ? (uint32_t)(len - off) : chunk;
		int s = vblk_submit(vb, type, sector + off / VBLK_SECTOR, (uint8_t *)buf + off, n);

		if (s == -1 && vb->inflight) {
			/* The ring is full: let this batch finish first. */
			vblk_kick(vb);
			if (vblk_wait(vb, VBLK_WAIT_MS))
				return -1;
			continue;
		}
		if (s < 0) {
			tap_diag("a request of %u bytes cannot fit the queue", n);
			return -1;
		}
		off += n;
	} while (off < len);
	vblk_kick(vb);
	return vblk_wait(vb, VBLK_WAIT_MS) ? -1 : vb->first_bad;
}
