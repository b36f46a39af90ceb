/* libFuzzer target: a split virtqueue on a small fake guest, its rings,
 * descriptors and indirect tables written by the input (the driver), then a
 * sequence of device operations: pop, push, should_notify,
 * set_notification, pending, and the request helpers. No input may make the
 * walker touch memory outside the guest's RAM (ASan for host memory; RAM
 * blocks are mmap()ed, so the harness checks every iovec itself) or break
 * the promises of virtqueue.h:
 *   - pop gives -1, 0 or 1, at most VQ_MAX_IOV iovecs, each non-empty and
 *     inside RAM (writable ones not in ROM), adding up to out_len / in_len,
 *     the total at most VQ_MAX_TOTAL_LEN; a bad request has none;
 *   - pending is -1 or 0..size; -1 from pop or pending means broken;
 *   - a broken queue stays broken and push / set_notification on it write
 *     nothing;
 *   - push writes the element (head, written clamped to in_len) and then
 *     used.idx; with EVENT_IDX a pop publishes avail_event; no call writes
 *     any other guest byte (checked on each input's first SNAP_OPS calls);
 *   - init, and each popped chain's verdict, lengths and iovec count, agree
 *     with a reference walk written from the spec (ref_walk).
 * Loops are bounded by the walker itself: libFuzzer's -timeout catches a
 * hang. Input layout: see LLVMFuzzerTestOneInput. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/virtqueue.h"
#include "memory/address_space.h"
#include "memory/ramblock.h"
#include "memory/region.h"
#include "tests/fuzz/fuzz_input.h"

/* Guest-physical map:
 *   0x00000-0x07fff RAM block A
 *   0x08000-0x0ffff RAM block B (the input may unplug and replug it)
 *   0x10000-0x10fff ROM
 *   0x11000-0x11fff MMIO
 *   nothing above. */
#define HALF		0x8000u
#define RAM_SIZE	(2 * HALF)
#define ROM_BASE	0x10000u
#define ROM_SIZE	0x1000u
#define MMIO_BASE	0x11000u
#define MMIO_SIZE	0x1000u



static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque; (void)size;
	return off;
}

static void mmio_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
	(void)opaque; (void)off; (void)v; (void)size;
}

static const struct memory_region_ops mmio_ops = {
	.read = mmio_read, .write = mmio_write,
};

static struct ram_block ram_a, ram_b, rom;
static struct memory_region root, mr_a, mr_b, mr_rom, mr_mmio;
static struct address_space *as;
static bool b_plugged;

static void setup_once(void)
{
	if (as)
		return;
	if (ram_block_init(&ram_a, "a", HALF) || ram_block_init(&ram_b, "b", HALF) ||
	    ram_block_init(&rom, "rom", ROM_SIZE))
		abort();
	memory_region_init_container(&root, "root", UINT64_MAX);
	memory_region_init_ram(&mr_a, "a", &ram_a, 0, HALF);
	memory_region_init_ram(&mr_b, "b", &ram_b, 0, HALF);
	memory_region_init_rom(&mr_rom, "rom", &rom, 0, ROM_SIZE);
	memory_region_init_io(&mr_mmio, "mmio", &mmio_ops, NULL, MMIO_SIZE);
	memory_transaction_begin();
	memory_region_add_subregion(&root, 0, &mr_a, 0);
	memory_region_add_subregion(&root, HALF, &mr_b, 0);
	memory_region_add_subregion(&root, ROM_BASE, &mr_rom, 0);
	memory_region_add_subregion(&root, MMIO_BASE, &mr_mmio, 0);
	memory_transaction_commit();
	as = address_space_new("fuzz-vq", &root);
	b_plugged = true;
}

static bool inside(const struct ram_block *rb, const void *base, size_t len)
{
	const uint8_t *p = base;

	return p >= rb->host && p < rb->host + rb->size &&
	       len <= (size_t)(rb->host + rb->size - p);
}

/* The driver's view of guest memory: direct host stores into RAM (what a
 * vCPU does) and ROM (what the loader does), dropped elsewhere and across
 * blocks. */
static uint8_t *host(uint64_t gpa, uint64_t len)
{
	if (gpa < HALF && len <= HALF - gpa)
		return ram_a.host + gpa;
	if (gpa >= HALF && gpa < RAM_SIZE && len <= RAM_SIZE - gpa)
		return ram_b.host + (gpa - HALF);
	if (gpa >= ROM_BASE && gpa < ROM_BASE + ROM_SIZE &&
	    len <= ROM_BASE + ROM_SIZE - gpa)
		return rom.host + (gpa - ROM_BASE);
	return NULL;
}

static void guest_write(uint64_t gpa, const void *buf, uint64_t len)
{
	uint8_t *p = host(gpa, len);

	if (p)
		memcpy(p, buf, len);
}

static void put16(uint64_t gpa, uint16_t v)
{
	guest_write(gpa, &v, 2);
}

/* Reads of the device's writes; ~0 where there is no RAM. */
static uint32_t get(uint64_t gpa, unsigned len)
{
	uint8_t *p = host(gpa, len);
	uint32_t v = 0;

	if (!p)
		return UINT32_MAX;
	memcpy(&v, p, len);
	return v;
}

static void check_request(const struct virtqueue *vq,
			  const struct vq_request *req, int r)
{
	uint64_t out = 0, in = 0;

	CHECK(r >= -1 && r <= 1);
	if (r != 1)
		return;
	CHECK(req->head < vq->size);
	if (req->bad) {
		CHECK(req->reason != NULL);
		CHECK(req->out_num == 0 && req->in_num == 0);
		CHECK(req->out_len == 0 && req->in_len == 0);
		return;
	}
	CHECK(req->out_num <= VQ_MAX_IOV && req->in_num <= VQ_MAX_IOV);
	CHECK(req->out_num + req->in_num <= VQ_MAX_IOV);
	for (unsigned i = 0; i < req->out_num + req->in_num; i++) {
		const struct iovec *v = &req->iov[i];
		bool w = i >= req->out_num;

		CHECK(v->iov_len > 0);
		CHECK(inside(&ram_a, v->iov_base, v->iov_len) ||
		      inside(&ram_b, v->iov_base, v->iov_len) ||
		      (!w && inside(&rom, v->iov_base, v->iov_len)));
		if (w)
			in += v->iov_len;
		else
			out += v->iov_len;
	}
	CHECK(out == req->out_len && in == req->in_len);
	CHECK(out + in <= VQ_MAX_TOTAL_LEN);
	CHECK(!req->out_num == !req->out_len && !req->in_num == !req->in_len);
}

/* ---- a reference walk: the spec's rules, on this fixed map ---- */

/* Is [gpa, gpa + len) inside one of A, B (while plugged), ROM (reads)?
 * (By the last byte: a range may end at 2^64 - 1.) */
static bool ref_in_one(uint64_t gpa, uint64_t len, bool write)
{
	uint64_t last = gpa + (len - 1);

	if (len == 0 || last < gpa)
		return false;
	if (last < HALF)
		return true;
	if (gpa >= HALF && last < RAM_SIZE)
		return b_plugged;
	return !write && gpa >= ROM_BASE && last < ROM_BASE + ROM_SIZE;
}

/* How many of those a buffer (len > 0, not wrapping) crosses, or -1 when a
 * byte is in none. They are back to back from 0 to the end of ROM. */
static int ref_segments(uint64_t gpa, uint64_t len, bool write)
{
	static const struct { uint64_t start, end; } r[3] = {
		{ 0, HALF }, { HALF, RAM_SIZE }, { ROM_BASE, ROM_BASE + ROM_SIZE },
	};
	uint64_t last = gpa + (len - 1);
	int n = 0;

	for (int i = 0; i < 3; i++) {
		if (gpa >= r[i].end)
			continue;
		if ((i == 1 && !b_plugged) || (i == 2 && write))
			return -1;
		n++;
		if (last < r[i].end)
			return n;
		gpa = r[i].end;
	}
	return -1;
}

struct ref_result {
	bool ok;
	uint64_t out_len, in_len;
	unsigned iovs;
};

/* virtio 1.x 2.7.5 / 2.7.5.3, with virtqueue.h's limits. */
static struct ref_result ref_walk(const struct virtqueue *vq, unsigned head)
{
	struct ref_result res = { false, 0, 0, 0 };
	uint64_t table = vq->desc_gpa;
	unsigned n = vq->size, i = head, steps = 0;
	bool indirect = false, seen_write = false;

	for (;;) {
		uint8_t raw[16];
		uint64_t addr;
		uint32_t len;
		uint16_t flags, next;
		uint8_t *p;
		int segs;

		if (++steps > n)
			return res;
		if (!ref_in_one(table + 16ull * i, 16, false) ||
		    !(p = host(table + 16ull * i, 16)))
			return res;
		memcpy(raw, p, 16);
		memcpy(&addr, raw, 8);
		memcpy(&len, raw + 8, 4);
		memcpy(&flags, raw + 12, 2);
		memcpy(&next, raw + 14, 2);
		if (flags & VIRTQ_DESC_F_INDIRECT) {
			if (!vq->indirect_desc || indirect ||
			    (flags & VIRTQ_DESC_F_NEXT) || len == 0 || len % 16 ||
			    len / 16 > vq->size || !ref_in_one(addr, len, false))
				return res;
			table = addr;
			n = len / 16;
			i = 0;
			steps = 0;
			indirect = true;
			continue;
		}
		if (!(flags & VIRTQ_DESC_F_WRITE) && seen_write)
			return res;
		seen_write |= flags & VIRTQ_DESC_F_WRITE;
		if (len) {
			if (res.out_len + res.in_len + len > VQ_MAX_TOTAL_LEN ||
			    addr + (len - 1) < addr)
				return res;
			segs = ref_segments(addr, len, flags & VIRTQ_DESC_F_WRITE);
			if (segs < 0 || res.iovs + (unsigned)segs > VQ_MAX_IOV)
				return res;
			res.iovs += (unsigned)segs;
			if (flags & VIRTQ_DESC_F_WRITE)
				res.in_len += len;
			else
				res.out_len += len;
		}
		if (!(flags & VIRTQ_DESC_F_NEXT)) {
			res.ok = true;
			return res;
		}
		if (next >= n)
			return res;
		i = next;
	}
}

/* Snapshot of all guest RAM, to prove a call wrote nothing. 128 KiB of
 * copying and comparing per call: only for the first SNAP_OPS operations
 * of an input, or it would be most of the time spent. */
#define SNAP_OPS	64
static uint8_t snap[RAM_SIZE];
static bool snapping;

static void take_snapshot(void)
{
	if (!snapping)
		return;
	memcpy(snap, ram_a.host, HALF);
	memcpy(snap + HALF, ram_b.host, HALF);
}

static bool unchanged(void)
{
	return !snapping || (!memcmp(snap, ram_a.host, HALF) &&
			     !memcmp(snap + HALF, ram_b.host, HALF));
}

/* Since the snapshot, guest RAM changed at most in [a1, a1 + n1) and
 * [a2, a2 + n2): the device writes the ring fields it owns, nothing else.
 * (Those bytes are taken as they are now, then all RAM compared.) */
static void allow(uint64_t gpa, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (gpa + i < RAM_SIZE)
			snap[gpa + i] = gpa + i < HALF ? ram_a.host[gpa + i]
						       : ram_b.host[gpa + i - HALF];
}

static bool changed_only(uint64_t a1, unsigned n1, uint64_t a2, unsigned n2)
{
	allow(a1, n1);
	allow(a2, n2);
	return unchanged();
}

/* A descriptor's address: mostly small (RAM, ROM, MMIO, nothing), or near
 * the top of the address space, or anything. */
static uint64_t take_addr(struct input *in, unsigned sel)
{
	switch (sel & 3) {
	case 0: return take(in, 2);
	case 1: return 0x10000 + take(in, 2);
	case 2: return UINT64_MAX - take(in, 2);
	default: return take(in, 8);
	}
}

static uint32_t take_len(struct input *in, unsigned sel)
{
	switch (sel & 3) {
	case 0: return (uint32_t)take(in, 2);
	case 1: return (uint32_t)take(in, 1);
	case 2: return UINT32_MAX - (uint32_t)take(in, 2);
	default: return (uint32_t)take(in, 4);
	}
}

static void write_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len,
		       uint16_t flags, uint16_t next)
{
	uint8_t d[16];

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
	guest_write(table + 16ull * i, d, 16);
}

static struct vq_request reqs[2];
static bool live[2];
static uint8_t buf[4096];

/* Input: size (log2, 1..2048), features (event_idx, indirect, desc in ROM,
 * avail in ROM), desc / avail / used addresses (aligned down), the
 * starting index, then operations of one byte and their arguments. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct virtqueue vq;
	unsigned qsize = 1u << (take(&in, 1) % 12);
	unsigned feat = (unsigned)take(&in, 1);
	uint64_t desc = take(&in, 2) & ~15ull, avail = take(&in, 2) & ~1ull;
	uint64_t used = take(&in, 2) & ~3ull;
	/* Where the indices start, as after a device reset that kept them:
	 * the 2^16 wrap is reachable. */
	uint16_t avail_idx = (uint16_t)take(&in, 2);
	int r0;

	setup_once();
	memset(ram_a.host, 0, HALF);
	memset(ram_b.host, 0, HALF);
	memset(rom.host, 0, ROM_SIZE);
	if (!b_plugged) {
		memory_region_set_enabled(&mr_b, true);
		b_plugged = true;
	}
	live[0] = live[1] = false;

	/* Rings in ROM (or MMIO, which init refuses) now and then. */
	if (feat & 4)
		desc += ROM_BASE;
	if (feat & 8)
		avail += ROM_BASE;
	r0 = virtqueue_init(&vq, as, qsize, desc, avail, used);
	CHECK((r0 == 0) == (ref_in_one(desc, 16ull * qsize, false) &&
			    ref_in_one(avail, 6 + 2ull * qsize, false) &&
			    ref_in_one(used, 6 + 8ull * qsize, true)));
	if (r0 < 0)
		return 0;
	vq.event_idx = feat & 1;
	vq.indirect_desc = feat & 2;
	vq.last_avail_idx = vq.used_idx = vq.signalled_used = avail_idx;
	put16(vq.avail_gpa + 2, avail_idx);
	put16(vq.used_gpa + 2, avail_idx);

	for (unsigned ops = 0; in.left && ops < 4096; ops++) {
		unsigned op = (unsigned)take(&in, 1) % 17;
		bool was_broken = vq.broken;
		uint16_t last = vq.last_avail_idx;
		int r, s;

		snapping = ops < SNAP_OPS;

		switch (op) {
		case 0:		/* pop into a slot (dropping what was there) */
		case 1:
			s = op & 1;
			live[s] = false;
			take_snapshot();
			r = virtqueue_pop(&vq, &reqs[s]);
			/* Only avail_event, and only with EVENT_IDX. */
			CHECK(vq.event_idx ? changed_only(vq.used_gpa + 4 + 8ull * vq.size,
							  2, 0, 0)
					   : unchanged());
			check_request(&vq, &reqs[s], r);
			if (r == 1) {
				/* The same verdict as the spec's walk, the same
				 * lengths, one iovec per RAM range crossed. */
				struct ref_result ref = ref_walk(&vq, reqs[s].head);

				CHECK(ref.ok == !reqs[s].bad);
				CHECK(!ref.ok || (ref.out_len == reqs[s].out_len &&
						  ref.in_len == reqs[s].in_len &&
						  ref.iovs == reqs[s].out_num +
							      reqs[s].in_num));
			}
			CHECK(r != -1 || vq.broken);
			/* (-1 may come after the head was taken: the used
			 * ring went away as avail_event was published.) */
			CHECK(r == -1 ||
			      vq.last_avail_idx == (uint16_t)(last + (r == 1)));
			if (r == 1 && !vq.broken && vq.event_idx && vq.notification)
				CHECK(get(vq.used_gpa + 4 + 8ull * vq.size, 2) ==
				      vq.last_avail_idx);
			live[s] = r == 1;
			break;
		case 2: {	/* push a popped request */
			uint32_t written = take_len(&in, (unsigned)take(&in, 1));
			uint16_t idx = vq.used_idx;
			struct vq_request *q = &reqs[take(&in, 1) & 1];

			if (!live[q - reqs])
				break;
			live[q - reqs] = false;
			take_snapshot();
			virtqueue_push(&vq, q, written);
			if (was_broken) {
				CHECK(unchanged());
				CHECK(vq.used_idx == idx);
			} else if (!vq.broken) {
				uint64_t e = vq.used_gpa + 4 + 8ull * (idx % vq.size);
				uint32_t want = written < q->in_len ?
						written : (uint32_t)q->in_len;

				CHECK(changed_only(e, 8, vq.used_gpa + 2, 2));
				CHECK(vq.used_idx == (uint16_t)(idx + 1));
				CHECK(get(e, 4) == q->head);
				CHECK(get(e + 4, 4) == want);
				CHECK(!q->bad || want == 0);
				CHECK(get(vq.used_gpa + 2, 2) == vq.used_idx);
			}
			break;
		}
		case 3:
			take_snapshot();
			if (virtqueue_should_notify(&vq))
				CHECK(!vq.broken);
			CHECK(unchanged());
			break;
		case 4:
			take_snapshot();
			virtqueue_set_notification(&vq, take(&in, 1) & 1);
			if (was_broken)
				CHECK(unchanged());
			else if (vq.event_idx)
				CHECK(changed_only(vq.used_gpa + 4 + 8ull * vq.size, 2, 0, 0));
			else
				CHECK(changed_only(vq.used_gpa, 2, 0, 0));
			break;
		case 5:
			take_snapshot();
			r = virtqueue_pending(&vq);
			CHECK(unchanged());
			CHECK(r >= -1 && r <= (int)vq.size);
			CHECK(r != -1 || vq.broken);
			CHECK(!was_broken || r == -1);
			break;
		case 6: {	/* the driver writes raw bytes (or ROM's) */
			uint64_t gpa = take(&in, 3) % (ROM_BASE + ROM_SIZE);
			unsigned n = (unsigned)take(&in, 1) % 33;
			uint8_t b[32] = { 0 };

			for (unsigned i = 0; i < n; i++)
				b[i] = (uint8_t)take(&in, 1);
			guest_write(gpa, b, n);
			break;
		}
		case 7: {	/* the driver writes one descriptor */
			unsigned t = (unsigned)take(&in, 1);
			uint64_t table = t & 0x80 ? take(&in, 2) : vq.desc_gpa;
			unsigned i = (unsigned)take(&in, 2) % (t & 0x80 ? 2048 : vq.size);
			uint64_t addr = take_addr(&in, t);
			uint32_t len = take_len(&in, t >> 2);
			uint16_t flags = (uint16_t)take(&in, 1);

			write_desc(table, i, addr, len, flags, (uint16_t)take(&in, 2));
			break;
		}
		case 8: {	/* ... or a whole chain: base + k * stride */
			unsigned t = (unsigned)take(&in, 1);
			uint64_t table = t & 0x80 ? take(&in, 2) : vq.desc_gpa;
			unsigned first = (unsigned)take(&in, 2) % vq.size;
			unsigned count = (unsigned)take(&in, 2) % 2049;
			uint64_t addr = take_addr(&in, t);
			uint32_t len = take_len(&in, t >> 2);
			uint64_t stride = take(&in, 2);
			uint16_t flags = (uint16_t)take(&in, 1);
			unsigned n = t & 0x80 ? 2048 : vq.size;

			for (unsigned k = 0; k < count; k++) {
				unsigned i = (first + k) % n;
				bool more = k + 1 < count;
				uint16_t f = (uint16_t)((flags & ~VIRTQ_DESC_F_NEXT) |
					     (more ? VIRTQ_DESC_F_NEXT : 0));

				/* The writable part after the readable one,
				 * unless flags asks for chaos (bit 7). */
				if (!(flags & 0x80) && k < count / 2)
					f &= (uint16_t)~VIRTQ_DESC_F_WRITE;
				/* t bit 6: no wrap, the last one points past
				 * the table. */
				write_desc(table, i, addr + k * stride, len, f,
					   (uint16_t)(t & 0x40 ? i + 1 : (i + 1) % n));
			}
			break;
		}
		case 9:		/* make a head available: entry, then idx */
			put16(vq.avail_gpa + 4 + 2 * (avail_idx % vq.size),
			      (uint16_t)take(&in, 2));
			put16(vq.avail_gpa + 2, ++avail_idx);
			break;
		case 10:	/* avail.idx, anything */
			avail_idx = (uint16_t)take(&in, 2);
			put16(vq.avail_gpa + 2, avail_idx);
			break;
		case 11:	/* avail.flags or used_event */
			s = (int)take(&in, 1);
			put16(vq.avail_gpa + (s & 1 ? 0 : 4 + 2ull * vq.size),
			      (uint16_t)take(&in, 2));
			break;
		case 12:	/* unplug / replug RAM block B */
			b_plugged = !b_plugged;
			memory_region_set_enabled(&mr_b, b_plugged);
			break;
		case 13:
			virtqueue_set_avail_event(&vq, (uint16_t)take(&in, 2));
			break;
		case 14: {	/* what a device does with a request */
			struct vq_request *q = &reqs[take(&in, 1) & 1];
			uint64_t a = take(&in, 2), b = take(&in, 2);
			size_t n = (size_t)take(&in, 2) % (sizeof(buf) + 1), got;

			if (!live[q - reqs])
				break;
			if (a & 1) {
				if (!vq_request_check_layout(q, a >> 1, b))
					CHECK(q->bad);
				check_request(&vq, q, 1);
			} else if (a & 2) {
				got = vq_request_read(q, b, buf, n);
				CHECK(got <= n);
				CHECK(got == (b >= q->out_len ? 0 :
					      q->out_len - b < n ? q->out_len - b : n));
			} else {
				got = vq_request_write(q, b, buf, n);
				CHECK(got <= n);
				CHECK(got == (b >= q->in_len ? 0 :
					      q->in_len - b < n ? q->in_len - b : n));
			}
			break;
		}
		case 15:	/* features can change only before DRIVER_OK,
				 * but a buggy transport... */
			vq.event_idx = take(&in, 1) & 1;
			break;
		default:
			vq.indirect_desc = take(&in, 1) & 1;
			break;
		}
		CHECK(!was_broken || vq.broken);
	}
	return 0;
}
