/* Split virtqueue walker: see virtqueue.h for the rules it enforces.
 *
 * Memory ordering (virtio 1.x "2.7.7 / 2.7.8", and Linux's virtio_ring):
 *   driver: writes descriptors and avail.ring[], then (wmb) avail.idx.
 *   device: reads avail.idx, then (rmb / acquire) the ring and descriptors;
 *           writes used.ring[], then (wmb / release) used.idx.
 * Before deciding whether to interrupt (reading used_event or avail.flags)
 * after publishing used.idx, and before re-reading avail.idx after
 * publishing avail_event, a full barrier is needed: both are store -> load
 * orderings against the other side, which x86 only keeps with MFENCE.
 *
 * Guest memory is shared with running vCPUs, so ring fields are accessed
 * with __atomic builtins (single, untorn loads and stores that the compiler
 * may not duplicate or elide); virtqueue_init checked their alignment. */
#include <endian.h>
#include <string.h>

#include "devices/virtio/virtqueue.h"
#include "memory/address_space.h"

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* Offsets inside the avail and used areas. */
#define AVAIL_FLAGS		0
#define AVAIL_IDX		2
#define AVAIL_RING(i)		(4 + 2 * (uint64_t)(i))
#define USED_FLAGS		0
#define USED_IDX		2
#define USED_RING(i)		(4 + 8 * (uint64_t)(i))

static uint64_t avail_area_size(unsigned size)
{
	return AVAIL_RING(size) + 2;	/* + used_event */
}

static uint64_t used_area_size(unsigned size)
{
	return USED_RING(size) + 2;	/* + avail_event */
}

/* ---- ring field access ---- */

/* Each access maps again: the memory map may change under a running queue
 * (a RAM region removed), and a stale pointer would outlive the check. */
static void *ring_map(struct virtqueue *vq, uint64_t gpa, uint64_t len,
		      bool is_write)
{
	void *p = address_space_map_ram(vq->as, gpa, len, is_write);

	if (!p)
		vq->broken = true;
	return p;
}

static bool load16(struct virtqueue *vq, uint64_t gpa, uint16_t *val)
{
	uint16_t *p = ring_map(vq, gpa, 2, false);

	if (!p)
		return false;
	*val = le16toh(__atomic_load_n(p, __ATOMIC_RELAXED));
	return true;
}

static void store16(struct virtqueue *vq, uint64_t gpa, uint16_t val)
{
	uint16_t *p = ring_map(vq, gpa, 2, true);

	if (p)
		__atomic_store_n(p, htole16(val), __ATOMIC_RELAXED);
}

static void store32(struct virtqueue *vq, uint64_t gpa, uint32_t val)
{
	uint32_t *p = ring_map(vq, gpa, 4, true);

	if (p)
		__atomic_store_n(p, htole32(val), __ATOMIC_RELAXED);
}

int virtqueue_init(struct virtqueue *vq, struct address_space *as,
		   unsigned size, uint64_t desc, uint64_t avail, uint64_t used)
{
	memset(vq, 0, sizeof(*vq));
	if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return -1;
	if ((desc & 15) || (avail & 1) || (used & 3))
		return -1;
	if (!address_space_map_ram(as, desc, (uint64_t)size * VIRTQ_DESC_SIZE,
				   false) ||
	    !address_space_map_ram(as, avail, avail_area_size(size), false) ||
	    !address_space_map_ram(as, used, used_area_size(size), true))
		return -1;
	vq->as = as;
	vq->size = size;
	vq->desc_gpa = desc;
	vq->avail_gpa = avail;
	vq->used_gpa = used;
	vq->notification = true;
	return 0;
}

/* ---- pop ---- */

int virtqueue_pending(struct virtqueue *vq)
{
	uint16_t idx, n;

	if (vq->broken || !load16(vq, vq->avail_gpa + AVAIL_IDX, &idx))
		return -1;
	n = (uint16_t)(idx - vq->last_avail_idx);
	/* The driver can have at most size chains outstanding: more means it
	 * wrote garbage into avail.idx, and no entry can be trusted. */
	if (n > vq->size) {
		vq->broken = true;
		return -1;
	}
	return n;
}

static void mark_bad(struct vq_request *req, const char *why)
{
	req->bad = true;
	req->reason = why;
	req->out_num = req->in_num = 0;
	req->out_len = req->in_len = 0;
}

/* Copy descriptor @i of the table at @table (@n entries, i < n checked by
 * the caller) once; every check is made on the copy, never on guest memory
 * the driver could change in between. */
static bool read_desc(struct virtqueue *vq, uint64_t table, unsigned i,
		      struct virtq_desc *d)
{
	const uint8_t *p = address_space_map_ram(vq->as,
						 table + (uint64_t)i * VIRTQ_DESC_SIZE,
						 VIRTQ_DESC_SIZE, false);

	if (!p)
		return false;
	memcpy(d, p, sizeof(*d));
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
	return true;
}

/* One data descriptor: order, total, then host iovecs. Returns the reason it
 * is bad, or NULL. */
static const char *add_buffer(struct vq_request *req, struct virtqueue *vq,
			      const struct virtq_desc *d, bool *seen_write)
{
	bool w = d->flags & VIRTQ_DESC_F_WRITE;
	unsigned n = req->out_num + req->in_num;
	int got;

	/* "2.7.4.2: a driver MUST place any device-writable descriptor
	 * elements after any device-readable descriptor elements." A zero
	 * length one counts too: the rule is about the chain, not the bytes. */
	if (!w && *seen_write)
		return "readable descriptor after a writable one";
	*seen_write |= w;
	if (d->len == 0)
		return NULL;
	if (req->out_len + req->in_len + d->len > VQ_MAX_TOTAL_LEN)
		return "chain longer than 4 GiB";
	if (d->addr + (d->len - 1) < d->addr)
		return "buffer wraps around the address space";
	if (n >= VQ_MAX_IOV)
		return "too many segments";
	got = address_space_map_ram_iov(vq->as, d->addr, d->len, w,
					&req->iov[n], VQ_MAX_IOV - n);
	if (got < 0)
		return "buffer not in guest RAM (or too many segments)";
	if (w) {
		req->in_num += got;
		req->in_len += d->len;
	} else {
		req->out_num += got;
		req->out_len += d->len;
	}
	return NULL;
}

/* An INDIRECT descriptor: checks per "2.7.5.3.1"; on success the walk goes
 * on in its table. */
static const char *enter_indirect(struct virtqueue *vq,
				  const struct virtq_desc *d, bool nested,
				  uint64_t *table, unsigned *n)
{
	if (!vq->indirect_desc)
		return "INDIRECT without VIRTIO_F_INDIRECT_DESC";
	if (nested)
		return "INDIRECT inside an indirect table";
	if (d->flags & VIRTQ_DESC_F_NEXT)
		return "INDIRECT together with NEXT";
	if (d->len == 0 || d->len % VIRTQ_DESC_SIZE)
		return "indirect table length not a multiple of 16";
	if (d->len / VIRTQ_DESC_SIZE > vq->size)
		return "indirect table longer than the queue";
	if (!address_space_map_ram(vq->as, d->addr, d->len, false))
		return "indirect table not in guest RAM";
	*table = d->addr;
	*n = d->len / VIRTQ_DESC_SIZE;
	return NULL;
}

/* Follow the chain from @head. A table of n entries holds at most n
 * distinct descriptors, so the (n + 1)th step must revisit one: that is how
 * a loop is caught without remembering where we have been. */
static const char *walk_chain(struct virtqueue *vq, struct vq_request *req)
{
	uint64_t table = vq->desc_gpa;
	unsigned n = vq->size, i = req->head, steps = 0;
	bool indirect = false, seen_write = false;
	struct virtq_desc d;
	const char *why;

	for (;;) {
		if (++steps > n)
			return indirect ? "indirect chain loops"
					: "chain longer than the queue (loop)";
		if (!read_desc(vq, table, i, &d))
			return "descriptor table not in guest RAM";
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			why = enter_indirect(vq, &d, indirect, &table, &n);
			if (why)
				return why;
			indirect = true;
			i = 0;
			steps = 0;
			continue;
		}
		why = add_buffer(req, vq, &d, &seen_write);
		if (why)
			return why;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return NULL;
		if (d.next >= n)
			return "next index out of range";
		i = d.next;
	}
}

int virtqueue_pop(struct virtqueue *vq, struct vq_request *req)
{
	uint16_t head;
	const char *why;
	int n = virtqueue_pending(vq);

	if (n <= 0)
		return n;
	/* Acquire: the ring entry and descriptors are read only after the
	 * avail.idx that published them (pairs with the driver's wmb). */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (!load16(vq, vq->avail_gpa + AVAIL_RING(vq->last_avail_idx % vq->size),
		    &head))
		return -1;
	if (head >= vq->size) {
		vq->broken = true;
		return -1;
	}
	vq->last_avail_idx++;
	if (vq->event_idx && vq->notification)
		virtqueue_set_avail_event(vq, vq->last_avail_idx);

	memset(req, 0, offsetof(struct vq_request, iov));
	req->head = head;
	why = walk_chain(vq, req);
	if (why)
		mark_bad(req, why);
	return vq->broken ? -1 : 1;
}

/* ---- push and notification ---- */

void virtqueue_push(struct virtqueue *vq, const struct vq_request *req,
		    uint32_t written)
{
	uint64_t elem = vq->used_gpa + USED_RING(vq->used_idx % vq->size);

	if (vq->broken)
		return;
	/* The driver trusts used.len to say how much it may read. */
	if (written > req->in_len)
		written = (uint32_t)req->in_len;
	store32(vq, elem, req->head);
	store32(vq, elem + 4, written);
	vq->used_idx++;
	/* Release: "the device writes the used ring entry before used.idx"
	 * (2.7.8) - a driver that sees the new idx must see the element. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	store16(vq, vq->used_gpa + USED_IDX, vq->used_idx);
}

bool virtqueue_should_notify(struct virtqueue *vq)
{
	uint16_t old = vq->signalled_used, v;

	if (vq->broken)
		return false;
	/* used.idx (stored) before used_event / avail.flags (loaded): the
	 * driver does the mirror image, so one of us sees the other's write
	 * and no interrupt is lost. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx) {
		if (!load16(vq, vq->avail_gpa + AVAIL_FLAGS, &v))
			return false;
		return !(v & VIRTQ_AVAIL_F_NO_INTERRUPT);
	}
	if (!load16(vq, vq->avail_gpa + AVAIL_RING(vq->size), &v))
		return false;
	vq->signalled_used = vq->used_idx;
	return vring_need_event(v, vq->used_idx, old);
}

void virtqueue_set_avail_event(struct virtqueue *vq, uint16_t idx)
{
	store16(vq, vq->used_gpa + USED_RING(vq->size), idx);
}

void virtqueue_set_notification(struct virtqueue *vq, bool enable)
{
	uint16_t flags;

	vq->notification = enable;
	if (vq->broken)
		return;
	if (vq->event_idx) {
		/* Disabling needs no write: avail_event just stays behind. */
		if (enable)
			virtqueue_set_avail_event(vq, vq->last_avail_idx);
	} else {
		/* Only we write used.flags, but read it back anyway so a
		 * future flag is kept. */
		if (!load16(vq, vq->used_gpa + USED_FLAGS, &flags))
			return;
		if (enable)
			flags &= ~VIRTQ_USED_F_NO_NOTIFY;
		else
			flags |= VIRTQ_USED_F_NO_NOTIFY;
		store16(vq, vq->used_gpa + USED_FLAGS, flags);
	}
	/* The store above before the caller's re-read of avail.idx. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* ---- request helpers ---- */

bool vq_request_check_layout(struct vq_request *req, uint64_t min_out,
			     uint64_t min_in)
{
	if (req->bad)
		return false;
	if (req->out_len < min_out) {
		mark_bad(req, "readable part too short");
		return false;
	}
	if (req->in_len < min_in) {
		mark_bad(req, "writable part too short");
		return false;
	}
	return true;
}

static size_t iov_copy(const struct iovec *iov, unsigned n, uint64_t off,
		       void *buf, size_t len, bool to_iov)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t chunk;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		chunk = iov[i].iov_len - off;
		if (chunk > len - done)
			chunk = len - done;
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + off,
			       (uint8_t *)buf + done, chunk);
		else
			memcpy((uint8_t *)buf + done,
			       (uint8_t *)iov[i].iov_base + off, chunk);
		done += chunk;
		off = 0;
	}
	return done;
}

size_t vq_request_read(const struct vq_request *req, uint64_t off, void *buf,
		       size_t len)
{
	return iov_copy(req->iov, req->out_num, off, buf, len, false);
}

size_t vq_request_write(const struct vq_request *req, uint64_t off,
			const void *buf, size_t len)
{
	return iov_copy(req->iov + req->out_num, req->in_num, off, (void *)buf,
			len, true);
}
