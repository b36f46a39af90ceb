/* Split virtqueues (virtio 1.x, "2.7 Split Virtqueues"): the device's side.
 *
 * A pure model of the three ring areas in guest memory; no threads, no
 * notifications, no KVM. The transport fills in the addresses the driver
 * wrote, the device pops requests, does them and pushes them back, then asks
 * whether the driver wants an interrupt.
 *
 * The guest is hostile. Every byte of guest memory is reached through
 * address_space_map_ram{,_iov}, every ring field is read once into a local
 * copy and validated there. Two kinds of failure:
 *   - ring corruption (avail idx too far ahead, head index >= size, a ring
 *     area no longer in RAM): virtqueue_pop returns -1 and the queue is
 *     broken for good; the transport sets DEVICE_NEEDS_RESET.
 *   - a malformed chain (loop, bad next, bad indirect table, a buffer outside
 *     RAM, readable after writable, ...): the head is still returned, with
 *     req->bad set and req->reason saying why, so the device can complete it
 *     (with an error, written 0) and the driver gets its descriptors back.
 *
 * Not thread safe: one thread (the queue's I/O thread) owns a queue.
 */
#ifndef DEVICES_VIRTQUEUE_H
#define DEVICES_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct address_space;

/* Descriptor flags (struct virtq_desc.flags). */
#define VIRTQ_DESC_F_NEXT	1	/* chain continues at .next */
#define VIRTQ_DESC_F_WRITE	2	/* device-writable (else device-readable) */
#define VIRTQ_DESC_F_INDIRECT	4	/* buffer is a table of descriptors */

/* avail.flags: the driver does not want interrupts (without EVENT_IDX). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT	1
/* used.flags: the device does not want notifications (without EVENT_IDX). */
#define VIRTQ_USED_F_NO_NOTIFY		1

#define VIRTQ_MAX_SIZE		32768
#define VIRTQ_DESC_SIZE		16
/* Host iovecs per request: a bound on what one request may pin, and the
 * preadv/pwritev limit (IOV_MAX) besides. */
#define VQ_MAX_IOV		1024
/* Bytes per request, readable + writable: the spec forbids chains longer
 * than 2^32 bytes and used.len is 32 bits. */
#define VQ_MAX_TOTAL_LEN	UINT32_MAX

/* Guest layout, for reference (all little-endian):
 *   desc:  size x { u64 addr; u32 len; u16 flags; u16 next; }   align 16
 *   avail: u16 flags; u16 idx; u16 ring[size]; u16 used_event;   align 2
 *   used:  u16 flags; u16 idx; { u32 id; u32 len; } ring[size];
 *          u16 avail_event;                                       align 4
 */

struct virtqueue {
	struct address_space *as;
	unsigned size;			/* power of two, 1..VIRTQ_MAX_SIZE */
	uint64_t desc_gpa, avail_gpa, used_gpa;

	/* Negotiated features that change the rings. */
	bool event_idx;			/* VIRTIO_F_EVENT_IDX */
	bool indirect_desc;		/* VIRTIO_F_INDIRECT_DESC */

	uint16_t last_avail_idx;	/* next avail entry we will consume */
	uint16_t used_idx;		/* our copy of used.idx (we own it) */
	uint16_t signalled_used;	/* used_idx when we last said notify */
	bool notification;		/* device wants kicks (set_notification) */
	bool broken;			/* ring corruption seen: pop gives -1 */
};

struct vq_request {
	uint16_t head;			/* to hand back in virtqueue_push */
	bool bad;			/* malformed chain: complete with error */
	const char *reason;		/* why, when bad (static string) */
	/* iov[0, out_num): device-readable, iov[out_num, out_num + in_num):
	 * device-writable. Zero-length descriptors have no iovec. Both
	 * counts are 0 when bad. */
	unsigned out_num, in_num;
	uint64_t out_len, in_len;	/* bytes in each part */
	struct iovec iov[VQ_MAX_IOV];
};

/* Set up @vq for a queue the driver placed at @desc/@avail/@used, with
 * indices at 0 and no features (set event_idx / indirect_desc after).
 * Returns 0, or -1 when @size is not a power of two in 1..32768, an area is
 * misaligned (16/2/4) or not wholly in guest RAM (the used ring writable). */
int virtqueue_init(struct virtqueue *vq, struct address_space *as,
		   unsigned size, uint64_t desc, uint64_t avail, uint64_t used);

/* Take the next available chain. 1: @req holds it (check req->bad);
 * 0: nothing available; -1: the driver broke the ring (and every later call
 * gives -1). With EVENT_IDX and notifications on, avail_event is moved on. */
int virtqueue_pop(struct virtqueue *vq, struct vq_request *req);

/* Return @req to the driver with @written bytes put in its writable part
 * (clamped to req->in_len: a bad request reports 0). Used element first,
 * then used.idx. A used ring gone from RAM breaks the queue. */
void virtqueue_push(struct virtqueue *vq, const struct vq_request *req,
		    uint32_t written);

/* After one or more pushes: should the driver be interrupted? With EVENT_IDX,
 * only when used.idx passed the driver's used_event since the last time we
 * asked; without, unless the driver set VIRTQ_AVAIL_F_NO_INTERRUPT. */
bool virtqueue_should_notify(struct virtqueue *vq);

/* The device's wish for kicks: without EVENT_IDX the NO_NOTIFY flag, with it
 * avail_event (= last_avail_idx when enabling). After enabling, check
 * virtqueue_pending() again: a chain made available just before was not
 * kicked. */
void virtqueue_set_notification(struct virtqueue *vq, bool enable);
/* Ask for a kick when the driver makes entry @idx available (EVENT_IDX). */
void virtqueue_set_avail_event(struct virtqueue *vq, uint16_t idx);

/* Chains the driver has made available and we have not popped; -1 if the
 * avail ring is corrupt (and then the queue is broken). */
int virtqueue_pending(struct virtqueue *vq);

/* The spec's vring_need_event: moving an index from @old_idx to @new_idx
 * passes @event_idx, i.e. event is in [old, new) mod 2^16 (the other side
 * asked to hear once entry @event_idx is filled). */
static inline bool vring_need_event(uint16_t event_idx, uint16_t new_idx,
				    uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) <
	       (uint16_t)(new_idx - old_idx);
}

/* Request layout the device needs: at least @min_out readable and @min_in
 * writable bytes (virtio-blk: a 16-byte header and a status byte). Marks the
 * request bad ("...") and returns false when not. */
bool vq_request_check_layout(struct vq_request *req, uint64_t min_out,
			     uint64_t min_in);

/* Copy between a request's readable / writable part and a host buffer,
 * starting @off bytes into that part. Return the bytes copied (fewer when
 * the part ends). */
size_t vq_request_read(const struct vq_request *req, uint64_t off, void *buf,
		       size_t len);
size_t vq_request_write(const struct vq_request *req, uint64_t off,
			const void *buf, size_t len);

#endif
