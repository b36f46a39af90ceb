/* Split virtqueues: good chains pop exactly; every way a hostile driver can
 * break a chain gives a bad request (head still returned, once), every way
 * it can break the ring gives -1; push and the notification rules. */
#include <criterion/criterion.h>
#include <string.h>

#include "devices/virtio/virtqueue.h"
#include "memory/address_space.h"
#include "memory/ramblock.h"
#include "memory/region.h"

/* Guest RAM: two blocks back to back, so one buffer can span two flat
 * ranges; nothing above 2 MiB. */
#define MIB		(1u << 20)
#define QSIZE		8
#define DESC		0x1000
#define AVAIL		0x2000
#define USED		0x3000
#define DATA		0x10000
#define TABLE		0x8000		/* indirect tables */

static struct ram_block ram1, ram2;
static struct memory_region root, mr1, mr2;
static struct address_space *as;
static struct virtqueue vq;
static struct vq_request req;
static uint16_t avail_idx;

static uint8_t *host(uint64_t gpa)
{
	return gpa < MIB ? ram1.host + gpa : ram2.host + (gpa - MIB);
}

static void setup(void)
{
	cr_assert_eq(ram_block_init(&ram1, "ram1", MIB), 0);
	cr_assert_eq(ram_block_init(&ram2, "ram2", MIB), 0);
	memory_region_init_container(&root, "root", UINT64_MAX);
	memory_region_init_ram(&mr1, "ram1", &ram1, 0, MIB);
	memory_region_init_ram(&mr2, "ram2", &ram2, 0, MIB);
	memory_region_add_subregion(&root, 0, &mr1, 0);
	memory_region_add_subregion(&root, MIB, &mr2, 0);
	as = address_space_new("system", &root);
	cr_assert_eq(virtqueue_init(&vq, as, QSIZE, DESC, AVAIL, USED), 0);
	avail_idx = 0;
}

static void teardown(void)
{
	address_space_destroy(as);
	memory_region_del_subregion(&root, &mr1);
	memory_region_del_subregion(&root, &mr2);
	ram_block_destroy(&ram1);
	ram_block_destroy(&ram2);
}

TestSuite(virtqueue, .init = setup, .fini = teardown);

static void put16(uint64_t gpa, uint16_t v)
{
	memcpy(host(gpa), &v, 2);
}

static uint16_t get16(uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, host(gpa), 2);
	return v;
}

static uint32_t get32(uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, host(gpa), 4);
	return v;
}

static void desc_at(uint64_t table, unsigned i, uint64_t addr, uint32_t len,
		    uint16_t flags, uint16_t next)
{
	uint8_t *p = host(table + 16ull * i);

	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

static void desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	desc_at(vq.desc_gpa, i, addr, len, flags, next);
}

/* The driver makes @head available: ring entry, then idx. */
static void make_avail(uint16_t head)
{
	put16(vq.avail_gpa + 4 + 2 * (avail_idx % vq.size), head);
	put16(vq.avail_gpa + 2, ++avail_idx);
}

static void pop_bad(const char *why)
{
	cr_assert_eq(virtqueue_pop(&vq, &req), 1);
	cr_assert(req.bad);
	cr_assert_str_eq(req.reason, why);
	cr_assert_eq(req.out_num + req.in_num, 0);
	cr_assert_eq(req.out_len + req.in_len, 0);
}

#define F_N	VIRTQ_DESC_F_NEXT
#define F_W	VIRTQ_DESC_F_WRITE
#define F_I	VIRTQ_DESC_F_INDIRECT

/* ---- set-up ---- */

Test(virtqueue, init_checks_size_alignment_and_ram)
{
	struct virtqueue q;

	cr_assert_eq(virtqueue_init(&q, as, 0, DESC, AVAIL, USED), -1);
	cr_assert_eq(virtqueue_init(&q, as, 6, DESC, AVAIL, USED), -1);
	cr_assert_eq(virtqueue_init(&q, as, 65536, DESC, AVAIL, USED), -1);
	cr_assert_eq(virtqueue_init(&q, as, 8, DESC + 8, AVAIL, USED), -1);
	cr_assert_eq(virtqueue_init(&q, as, 8, DESC, AVAIL + 1, USED), -1);
	cr_assert_eq(virtqueue_init(&q, as, 8, DESC, AVAIL, USED + 2), -1);
	/* Used ring running past the end of RAM (6 + 8 * 8 bytes). */
	cr_assert_eq(virtqueue_init(&q, as, 8, DESC, AVAIL, 2 * MIB - 68), -1);
	cr_assert_eq(virtqueue_init(&q, as, 8, DESC, AVAIL, 2 * MIB - 72), 0);
	cr_assert_eq(virtqueue_init(&q, as, 32768, 0x40000, AVAIL, 0x80000), 0);
	cr_assert_eq(q.size, 32768);
}

Test(virtqueue, empty_queue_pops_nothing)
{
	cr_assert_eq(virtqueue_pending(&vq), 0);
	cr_assert_eq(virtqueue_pop(&vq, &req), 0);
	cr_assert_eq(vq.last_avail_idx, 0);
}

/* ---- good chains ---- */

Test(virtqueue, direct_chain_readable_then_writable)
{
	desc(3, DATA, 16, F_N, 5);
	desc(5, DATA + 0x100, 512, F_N | F_W, 1);
	desc(1, DATA + 0x400, 1, F_W, 0);
	make_avail(3);
	cr_assert_eq(virtqueue_pending(&vq), 1);
	cr_assert_eq(virtqueue_pop(&vq, &req), 1);
	cr_assert_not(req.bad);
	cr_assert_eq(req.head, 3);
	cr_assert_eq(req.out_num, 1);
	cr_assert_eq(req.in_num, 2);
	cr_assert_eq(req.out_len, 16);
	cr_assert_eq(req.in_len, 513);
	cr_assert_eq(req.iov[0].iov_base, host(DATA));
	cr_assert_eq(req.iov[0].iov_len, 16);
	cr_assert_eq(req.iov[1].iov_base, host(DATA + 0x100));
	cr_assert_eq(req.iov[1].iov_len, 512);
	cr_assert_eq(req.iov[2].iov_base, host(DATA + 0x400));
	cr_assert_eq(req.iov[2].iov_len, 1);
	cr_assert_eq(vq.last_avail_idx, 1);
	cr_assert_eq(virtqueue_pop(&vq, &req), 0);
}

Test(virtqueue, buffer_across_two_ram_ranges_takes_two_iovecs)
{
	desc(0, MIB - 0x100, 0x300, F_W, 0);
	make_avail(0);
	cr_assert_eq(virtqueue_pop(&vq, &req), 1);
	cr_assert_not(req.bad);
	cr_assert_eq(req.in_num, 2);
	cr_assert_eq(req.in_len, 0x300);
	cr_assert_eq(req.iov[0].iov_base, ram1.host + MIB - 0x100);
	cr_assert_eq(req.iov[0].iov_len, 0x100);
	cr_assert_eq(req.iov[1].iov_base, ram2.host);
	cr_assert_eq(req.iov[1].iov_len, 0x200);
}

Test(virtqueue, indirect_table)
{
	vq.indirect_desc = true;
	desc_at(TABLE, 0, DATA, 16, F_N, 2);
	desc_at(TABLE, 2, DATA + 0x100, 4096, F_N | F_W, 1);
	desc_at(TABLE, 1, DATA + 0x2000, 1, F_W, 0);
	/* WRITE on the descriptor naming the table is ignored (2.7.5.3.2). */
	desc(4, TABLE, 3 * 16, F_I | F_W, 0);
	make_avail(4);
	cr_assert_eq(virtqueue_pop(&vq, &req), 1);
	cr_assert_not(req.bad, "%s", req.reason);
	cr_assert_eq(req.head, 4);
	cr_assert_eq(req.out_num, 1);
	cr_assert_eq(req.in_num, 2);
	cr_assert_eq(req.out_len, 16);
	cr_assert_eq(req.in_len, 4097);
	cr_assert_eq(req.iov[1].iov_base, host(DATA + 0x100));
	cr_assert_eq(req.iov[2].iov_base, host(DATA + 0x2000));
}

Test(virtqueue, direct_descriptors_then_an_indirect_table)
{
	vq.indirect_desc = true;
	desc_at(TABLE, 0, DATA + 0x100, 8, F_W, 0);
	desc(0, DATA, 16, F_N, 1);
	desc(1, TABLE, 16, F_I, 0);
	make_avail(0);
	cr_assert_eq(virtqueue_pop(&vq, &req), 1);
	cr_assert_not(req.bad, "%s", req.reason);
	cr_assert_eq(req.out_len, 16);
	cr_assert_eq(req.in_len, 8);
}

Test(virtqueue, chain_exactly_as_long_as_the_queue)
{
	for (unsigned i = 0; i < QSIZE; i++)
		desc(i, DATA + i * 0x10, 0x10, i < QSIZE - 1 ? F_N : F_W, i + 1);
	make_avail(0);
	cr_assert_eq(virtqueue_pop(&vq, &req), 1);
	cr_assert_not(req.bad, "%s", req.reason);
	cr_assert_eq(req.out_num, QSIZE - 1);
	cr_assert_eq(req.in_num, 1);
}

Test(virtqueue, zero_length_descriptors_are_skipped)
{
	desc(0, DATA, 16, F_N, 1);
	desc(1, 0xdead00000000ull, 0, F_N, 2);	/* not RAM: never mapped */
	desc(2, DATA + 0x100, 0, F_N | F_W, 3);
	desc(3, DATA + 0x200, 1, F_W, 0);
	make_avail(0);
	cr_assert_eq(virtqueue_pop(&vq, &req), 1);
	cr_assert_not(req.bad, "%s", req.reason);
	cr_assert_eq(req.out_num, 1);
	cr_assert_eq(req.in_num, 1);
	cr_assert_eq(req.iov[1].iov_base, host(DATA + 0x200));
	cr_assert_eq(req.iov[1].iov_len, 1);
}

Test(virtqueue, request_copy_helpers)
{
	uint8_t hdr[16], st = 0x5a;

	for (unsigned i = 0; i < 16; i++)
		host(DATA)[i] = (uint8_t)i;
	desc(0, DATA, 10, F_N, 1);
	desc(1, MIB - 6, 12, F_N, 2);	/* readable, across the seam */
	desc(2, DATA + 0x100, 1, F_W, 0);
	memcpy(host(MIB - 6), "abcdef", 6);	/* two blocks: two copies */
	memcpy(host(MIB), "ghijkl", 6);
	make_avail(0);
	cr_assert_eq(virtqueue_pop(&vq, &req), 1);
	cr_assert_eq(req.out_num, 3);
	cr_assert_eq(vq_request_read(&req, 8, hdr, sizeof(hdr)), 14);
	cr_assert_eq(hdr[0], 8);
	cr_assert_eq(hdr[1], 9);
	cr_assert_eq(memcmp(hdr + 2, "abcdefghijkl", 12), 0);
	cr_assert_eq(vq_request_write(&req, 0, &st, 1), 1);
	cr_assert_eq(*host(DATA + 0x100), 0x5a);
	cr_assert_eq(vq_request_write(&req, 1, &st, 1), 0);
	cr_assert(vq_request_check_layout(&req, 16, 1));
}

/* ---- malformed chains: bad, head returned once ---- */

Test(virtqueue, loop_is_bad_and_returned_once)
{
	desc(2, DATA, 16, F_N, 6);
	desc(6, DATA, 16, F_N, 2);
	make_avail(2);
	pop_bad("chain longer than the queue (loop)");
	cr_assert_eq(req.head, 2);
	cr_assert_eq(virtqueue_pop(&vq, &req), 0);
	virtqueue_push(&vq, &req, 100);
	cr_assert_eq(get32(USED + 4), 2);
	cr_assert_eq(get32(USED + 8), 0);	/* clamped: nothing writable */
	cr_assert_eq(get16(USED + 2), 1);
}

Test(virtqueue, self_loop_in_an_indirect_table)
{
	vq.indirect_desc = true;
	desc_at(TABLE, 0, DATA, 16, F_N, 1);
	desc_at(TABLE, 1, DATA, 16, F_N, 0);
	desc(0, TABLE, 32, F_I, 0);
	make_avail(0);
	pop_bad("indirect chain loops");
}

Test(virtqueue, next_out_of_range)
{
	desc(0, DATA, 16, F_N, QSIZE);
	make_avail(0);
	pop_bad("next index out of range");

	/* In an indirect table the bound is the table's own length. */
	vq.indirect_desc = true;
	desc_at(TABLE, 0, DATA, 16, F_N, 2);
	desc(1, TABLE, 32, F_I, 0);
	make_avail(1);
	pop_bad("next index out of range");
}

Test(virtqueue, indirect_rules)
{
	desc(0, TABLE, 16, F_I, 0);
	make_avail(0);
	pop_bad("INDIRECT without VIRTIO_F_INDIRECT_DESC");

	vq.indirect_desc = true;
	desc_at(TABLE, 0, TABLE + 0x100, 16, F_I, 0);
	make_avail(0);
	pop_bad("INDIRECT inside an indirect table");

	desc(0, TABLE, 16, F_I | F_N, 1);
	make_avail(0);
	pop_bad("INDIRECT together with NEXT");

	desc(0, TABLE, 24, F_I, 0);
	make_avail(0);
	pop_bad("indirect table length not a multiple of 16");

	desc(0, TABLE, 0, F_I, 0);
	make_avail(0);
	pop_bad("indirect table length not a multiple of 16");

	desc(0, TABLE, (QSIZE + 1) * 16, F_I, 0);
	make_avail(0);
	pop_bad("indirect table longer than the queue");

	desc(0, 2 * MIB - 16, 32, F_I, 0);
	make_avail(0);
	pop_bad("indirect table not in guest RAM");

	desc(0, UINT64_MAX - 15, 32, F_I, 0);
	make_avail(0);
	pop_bad("indirect table not in guest RAM");
	cr_assert_eq(vq.last_avail_idx, 8);
}

Test(virtqueue, buffers_that_wrap_or_leave_ram)
{
	desc(0, UINT64_MAX - 10, 100, 0, 0);
	make_avail(0);
	pop_bad("buffer wraps around the address space");

	desc(0, 2 * MIB - 0x10, 0x20, 0, 0);	/* straddles the end */
	make_avail(0);
	pop_bad("buffer not in guest RAM (or too many segments)");

	desc(0, 3 * MIB, 1, F_W, 0);
	make_avail(0);
	pop_bad("buffer not in guest RAM (or too many segments)");

	/* The chain's first part was fine: nothing of it is left in @req. */
	desc(0, DATA, 16, F_N, 1);
	desc(1, 0xfee00000, 4, F_W, 0);
	make_avail(0);
	pop_bad("buffer not in guest RAM (or too many segments)");
}

Test(virtqueue, readable_after_writable)
{
	desc(0, DATA, 16, F_N, 1);
	desc(1, DATA + 0x100, 1, F_N | F_W, 2);
	desc(2, DATA + 0x200, 16, 0, 0);
	make_avail(0);
	pop_bad("readable descriptor after a writable one");

	/* A zero-length writable one still orders the chain. */
	desc(1, DATA + 0x100, 0, F_N | F_W, 2);
	make_avail(0);
	pop_bad("readable descriptor after a writable one");
}

Test(virtqueue, status_byte_not_writable)
{
	desc(0, DATA, 16, F_N, 1);
	desc(1, DATA + 0x100, 1, 0, 0);
	make_avail(0);
	cr_assert_eq(virtqueue_pop(&vq, &req), 1);
	cr_assert_not(req.bad);
	cr_assert_not(vq_request_check_layout(&req, 16, 1));
	cr_assert(req.bad);
	cr_assert_str_eq(req.reason, "writable part too short");
	cr_assert_eq(req.out_num, 0);

	desc(0, DATA, 8, F_N, 1);
	desc(1, DATA + 0x100, 1, F_W, 0);
	make_avail(0);
	cr_assert_eq(virtqueue_pop(&vq, &req), 1);
	cr_assert_not(vq_request_check_layout(&req, 16, 1));
	cr_assert_str_eq(req.reason, "readable part too short");
}

Test(virtqueue, too_many_segments)
{
	enum { N = 2048 };
	static struct virtqueue big;

	/* VQ_MAX_IOV + 1 one-byte descriptors in one chain. */
	cr_assert_eq(virtqueue_init(&big, as, N, 0x20000, 0x30000, 0x40000), 0);
	for (unsigned i = 0; i <= VQ_MAX_IOV; i++)
		desc_at(0x20000, i, DATA + i, 1, i < VQ_MAX_IOV ? F_N : 0, i + 1);
	put16(0x30000 + 4, 0);
	put16(0x30000 + 2, 1);
	cr_assert_eq(virtqueue_pop(&big, &req), 1);
	cr_assert(req.bad);
	cr_assert_str_eq(req.reason, "too many segments");

	/* Exactly VQ_MAX_IOV is fine. */
	desc_at(0x20000, VQ_MAX_IOV - 1, DATA, 1, 0, 0);
	put16(0x30000 + 6, 0);
	put16(0x30000 + 2, 2);
	cr_assert_eq(virtqueue_pop(&big, &req), 1);
	cr_assert_not(req.bad, "%s", req.reason);
	cr_assert_eq(req.out_num, VQ_MAX_IOV);
}

Test(virtqueue, chain_over_4_gib)
{
	struct ram_block big;
	struct memory_region mr;

	/* 2 GiB + 1 page at 4 GiB: MAP_NORESERVE, never touched. */
	cr_assert_eq(ram_block_init(&big, "big", (2ull << 30) + 4096), 0);
	memory_region_init_ram(&mr, "big", &big, 0, big.size);
	memory_region_add_subregion(&root, 4ull << 30, &mr, 0);
	desc(0, 4ull << 30, 0x80000000u, F_N, 1);
	desc(1, 4ull << 30, 0x7fffffffu, F_N | F_W, 2);
	desc(2, 4ull << 30, 1, F_W, 0);
	make_avail(0);
	pop_bad("chain longer than 4 GiB");

	desc(2, 4ull << 30, 0, F_W, 0);
	make_avail(0);
	cr_assert_eq(virtqueue_pop(&vq, &req), 1);
	cr_assert_not(req.bad, "%s", req.reason);
	cr_assert_eq(req.out_len + req.in_len, UINT32_MAX);
	memory_region_del_subregion(&root, &mr);
	ram_block_destroy(&big);
}

/* ---- ring corruption: -1, for good ---- */

Test(virtqueue, avail_idx_too_far_ahead_breaks_the_queue)
{
	desc(0, DATA, 16, 0, 0);
	put16(AVAIL + 2, QSIZE);	/* exactly size ahead: fine */
	cr_assert_eq(virtqueue_pending(&vq), QSIZE);
	put16(AVAIL + 2, QSIZE + 1);
	cr_assert_eq(virtqueue_pop(&vq, &req), -1);
	cr_assert(vq.broken);
	put16(AVAIL + 2, 1);
	cr_assert_eq(virtqueue_pop(&vq, &req), -1);
	cr_assert_eq(vq.last_avail_idx, 0);
}

Test(virtqueue, avail_idx_behind_is_far_ahead_mod_2_16)
{
	vq.last_avail_idx = 5;
	put16(AVAIL + 2, 4);
	cr_assert_eq(virtqueue_pop(&vq, &req), -1);
}

Test(virtqueue, head_out_of_range_breaks_the_queue)
{
	make_avail(QSIZE);
	cr_assert_eq(virtqueue_pop(&vq, &req), -1);
	cr_assert(vq.broken);
	virtqueue_push(&vq, &req, 0);	/* ignored */
	cr_assert_eq(get16(USED + 2), 0);
	cr_assert_not(virtqueue_should_notify(&vq));
}

Test(virtqueue, ring_gone_from_ram_breaks_the_queue)
{
	struct virtqueue q;

	cr_assert_eq(virtqueue_init(&q, as, 8, MIB + DESC, MIB + AVAIL,
				    MIB + USED), 0);
	memory_region_set_enabled(&mr2, false);
	cr_assert_eq(virtqueue_pop(&q, &req), -1);
	memory_region_set_enabled(&mr2, true);
	cr_assert_eq(virtqueue_pop(&q, &req), -1);
}

/* ---- used ring ---- */

Test(virtqueue, used_ring_gets_every_head)
{
	const uint16_t heads[3] = { 5, 0, 7 };

	for (unsigned i = 0; i < 3; i++) {
		desc(heads[i], DATA, 16, F_N, (heads[i] + 1) % QSIZE);
		desc((heads[i] + 1) % QSIZE, DATA + 0x100, 64, F_W, 0);
		make_avail(heads[i]);
	}
	/* Pop all, complete in reverse order. */
	struct vq_request r[3];

	for (unsigned i = 0; i < 3; i++) {
		cr_assert_eq(virtqueue_pop(&vq, &r[i]), 1);
		cr_assert_eq(r[i].head, heads[i]);
	}
	for (int i = 2; i >= 0; i--)
		virtqueue_push(&vq, &r[i], 10 + i);
	cr_assert_eq(vq.used_idx, 3);
	cr_assert_eq(get16(USED + 2), 3);
	for (unsigned k = 0; k < 3; k++) {
		cr_assert_eq(get32(USED + 4 + 8 * k), heads[2 - k]);
		cr_assert_eq(get32(USED + 8 + 8 * k), 12 - k);
	}
	/* More than in_len is clamped. */
	make_avail(5);
	cr_assert_eq(virtqueue_pop(&vq, &r[0]), 1);
	virtqueue_push(&vq, &r[0], 1000);
	cr_assert_eq(get32(USED + 4 + 8 * 3), 5);
	cr_assert_eq(get32(USED + 8 + 8 * 3), 64);
}

Test(virtqueue, indices_wrap_at_2_16)
{
	vq.last_avail_idx = vq.used_idx = 65535;
	avail_idx = 65535;
	desc(1, DATA, 1, F_W, 0);
	desc(2, DATA, 1, F_W, 0);
	make_avail(1);		/* ring slot 65535 % 8 = 7 */
	make_avail(2);		/* slot 0, idx 1 */
	cr_assert_eq(get16(AVAIL + 2), 1);
	cr_assert_eq(virtqueue_pending(&vq), 2);
	cr_assert_eq(virtqueue_pop(&vq, &req), 1);
	cr_assert_eq(req.head, 1);
	virtqueue_push(&vq, &req, 1);
	cr_assert_eq(virtqueue_pop(&vq, &req), 1);
	cr_assert_eq(req.head, 2);
	virtqueue_push(&vq, &req, 1);
	cr_assert_eq(vq.last_avail_idx, 1);
	cr_assert_eq(get16(USED + 2), 1);
	cr_assert_eq(get32(USED + 4 + 8 * 7), 1);
	cr_assert_eq(get32(USED + 4), 2);
}

/* ---- notifications ---- */

Test(virtqueue, vring_need_event_arithmetic)
{
	/* True when event is in [old, new): the driver asked to hear when
	 * entry @event is used, i.e. when idx moves past it. */
	cr_assert(vring_need_event(5, 6, 5));
	cr_assert(vring_need_event(4, 6, 3));
	cr_assert_not(vring_need_event(5, 5, 4));	/* not yet reached */
	cr_assert_not(vring_need_event(2, 6, 3));	/* already passed */
	cr_assert_not(vring_need_event(5, 5, 5));	/* nothing new */
	/* Across the 16-bit wrap. */
	cr_assert(vring_need_event(65534, 1, 65534));
	cr_assert(vring_need_event(65535, 1, 65534));
	cr_assert(vring_need_event(0, 1, 65534));
	cr_assert_not(vring_need_event(1, 1, 65534));
	cr_assert_not(vring_need_event(65533, 1, 65534));
}

Test(virtqueue, interrupt_without_event_idx)
{
	desc(0, DATA, 1, F_W, 0);
	make_avail(0);
	cr_assert_eq(virtqueue_pop(&vq, &req), 1);
	virtqueue_push(&vq, &req, 1);
	cr_assert(virtqueue_should_notify(&vq));
	put16(AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	cr_assert_not(virtqueue_should_notify(&vq));
}

Test(virtqueue, interrupt_with_event_idx)
{
	vq.event_idx = true;
	put16(AVAIL + 4 + 2 * QSIZE, 0);	/* used_event: after entry 0 */
	cr_assert_not(virtqueue_should_notify(&vq));	/* nothing used */
	desc(0, DATA, 1, F_W, 0);
	for (unsigned i = 0; i < 4; i++)
		make_avail(0);
	cr_assert_eq(virtqueue_pop(&vq, &req), 1);
	virtqueue_push(&vq, &req, 1);		/* used 1 */
	cr_assert(virtqueue_should_notify(&vq));
	cr_assert_eq(vq.signalled_used, 1);
	cr_assert_eq(virtqueue_pop(&vq, &req), 1);
	virtqueue_push(&vq, &req, 1);		/* used 2: event 0 passed */
	cr_assert_not(virtqueue_should_notify(&vq));
	/* NO_INTERRUPT means nothing with EVENT_IDX. */
	put16(AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	put16(AVAIL + 4 + 2 * QSIZE, 3);	/* wake me after entry 3 */
	cr_assert_eq(virtqueue_pop(&vq, &req), 1);
	virtqueue_push(&vq, &req, 1);		/* used 3 */
	cr_assert_not(virtqueue_should_notify(&vq));
	cr_assert_eq(virtqueue_pop(&vq, &req), 1);
	virtqueue_push(&vq, &req, 1);		/* used 4 */
	cr_assert(virtqueue_should_notify(&vq));
}

Test(virtqueue, batched_pushes_notify_once)
{
	vq.event_idx = true;
	desc(0, DATA, 1, F_W, 0);
	for (unsigned i = 0; i < 3; i++)
		make_avail(0);
	put16(AVAIL + 4 + 2 * QSIZE, 1);	/* event inside the batch */
	for (unsigned i = 0; i < 3; i++) {
		cr_assert_eq(virtqueue_pop(&vq, &req), 1);
		virtqueue_push(&vq, &req, 1);
	}
	cr_assert(virtqueue_should_notify(&vq));
	cr_assert_not(virtqueue_should_notify(&vq));
}

Test(virtqueue, device_side_notification_flags)
{
	virtqueue_set_notification(&vq, false);
	cr_assert_eq(get16(USED), VIRTQ_USED_F_NO_NOTIFY);
	virtqueue_set_notification(&vq, true);
	cr_assert_eq(get16(USED), 0);
}

Test(virtqueue, device_side_avail_event)
{
	uint64_t avail_event = USED + 4 + 8 * QSIZE;

	vq.event_idx = true;
	put16(avail_event, 0xbeef);
	virtqueue_set_notification(&vq, true);
	cr_assert_eq(get16(avail_event), 0);
	cr_assert_eq(get16(USED), 0);		/* flags untouched */
	/* Each pop asks for a kick at the next entry. */
	desc(0, DATA, 1, F_W, 0);
	make_avail(0);
	make_avail(0);
	cr_assert_eq(virtqueue_pop(&vq, &req), 1);
	cr_assert_eq(get16(avail_event), 1);
	/* The driver's side: publishing idx 2 -> 3 needs no kick while the
	 * device still has entry 1 to pop; then it does. */
	cr_assert_not(vring_need_event(get16(avail_event), 3, 2));
	cr_assert_eq(virtqueue_pop(&vq, &req), 1);
	cr_assert_eq(get16(avail_event), 2);
	cr_assert(vring_need_event(get16(avail_event), 3, 2));
	/* Notifications off: pops leave avail_event behind. */
	virtqueue_set_notification(&vq, false);
	make_avail(0);
	cr_assert_eq(virtqueue_pop(&vq, &req), 1);
	cr_assert_eq(get16(avail_event), 2);
	virtqueue_set_notification(&vq, true);
	cr_assert_eq(get16(avail_event), 3);
	virtqueue_set_avail_event(&vq, 0x1234);
	cr_assert_eq(get16(avail_event), 0x1234);
}
