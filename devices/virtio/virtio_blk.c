/* virtio-blk: one request queue, served by an I/O thread. See virtio_blk.h.
 *
 * Every request is checked before any I/O: layout (a 16-byte readable
 * header first, a writable status byte last), direction of the data
 * buffers, a length that is a whole number of sectors, and a sector range
 * inside the disk. What fails gets VIRTIO_BLK_S_IOERR (or UNSUPP for an
 * unknown type) and the file is not touched; a chain too broken to hold a
 * status byte is returned with 0 bytes written. FLUSH completes only after
 * fdatasync() returned, so a completed FLUSH means the data is on stable
 * storage.
 *
 * Host I/O errors: an interrupted call (EINTR) or a short transfer is
 * retried until the whole request is done; any other error fails the
 * request with IOERR, logs one line per kind of failure (operation and
 * errno class) for the device's lifetime, and the device serves on. */
#define _GNU_SOURCE	/* fallocate */
#include "devices/virtio/virtio_blk.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/device.h"
#include "devices/error.h"
#include "devices/virtio/virtio_pci.h"

/* Feature bits (virtio 1.2, 5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX	1
#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_BLK_SIZE	6
#define VIRTIO_BLK_F_FLUSH	9
#define VIRTIO_BLK_F_DISCARD	13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status values (5.2.6). */
#define VIRTIO_BLK_T_IN		0
#define VIRTIO_BLK_T_OUT	1
#define VIRTIO_BLK_T_FLUSH	4
#define VIRTIO_BLK_T_GET_ID	8
#define VIRTIO_BLK_T_DISCARD	11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_WZ_UNMAP	1	/* the only defined segment flag */
#define VIRTIO_BLK_S_OK		0
#define VIRTIO_BLK_S_IOERR	1
#define VIRTIO_BLK_S_UNSUPP	2

#define VIRTIO_ID_BLOCK		2
#define PCI_CLASS_STORAGE_SCSI	0x010000	/* what QEMU's virtio-blk-pci says */
#define SECTOR_SIZE		512
#define BLK_HDR_SIZE		16
#define BLK_ID_BYTES		20
#define QUEUE_MAX		256
/* Segments per request: the queue minus header and status, as QEMU. */
#define SEG_MAX			(QUEUE_MAX - 2)
#define SIZE_MAX_BYTES		(1u << 20)	/* per segment */
/* DISCARD and WRITE_ZEROES: one segment of up to 2 GiB per request. */
#define ZERO_MAX_SECTORS	(1u << 22)
#define ZERO_MAX_SEG		1

/* struct virtio_blk_config, as far as we fill it. */
enum { CFG_CAPACITY = 0, CFG_SIZE_MAX = 8, CFG_SEG_MAX = 12, CFG_BLK_SIZE = 20,
       CFG_MAX_DISCARD_SECTORS = 36, CFG_MAX_DISCARD_SEG = 40,
       CFG_DISCARD_ALIGN = 44, CFG_MAX_WZ_SECTORS = 48, CFG_MAX_WZ_SEG = 52,
       CFG_WZ_MAY_UNMAP = 56, CFG_SIZE = 60 };

/* struct virtio_blk_discard_write_zeroes */
struct blk_zero_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

struct virtio_blk {
	struct device parent_obj;
	char *path, *serial;
	bool ro;

	int fd;
	bool can_punch;			/* the file takes FALLOC_FL_PUNCH_HOLE */
	/* The I/O thread's own: errno of the first failed fdatasync, and
	 * the kinds of failure logged (a bit per blk_op x errno class). */
	int flush_error;
	unsigned io_logged;
	uint64_t sectors;
	struct virtio_pci vp;
	pthread_t thread;
	bool thread_started;
	int stop_fd;
	/* Statistics, under vp.lock. */
	uint64_t reads, writes, flushes, errors, bytes_read, bytes_written;
	/* The request's data, as iovecs into guest RAM. */
	struct iovec data[VQ_MAX_IOV];
};

/* ---- configuration ---- */

static uint64_t blk_config_read(void *opaque, unsigned off, unsigned size)
{
	struct virtio_blk *b = opaque;
	uint8_t cfg[CFG_SIZE] = { 0 };
	uint64_t v = 0;

	memcpy(cfg + CFG_CAPACITY, &b->sectors, 8);
	memcpy(cfg + CFG_SIZE_MAX, &(uint32_t){ SIZE_MAX_BYTES }, 4);
	memcpy(cfg + CFG_SEG_MAX, &(uint32_t){ SEG_MAX }, 4);
	memcpy(cfg + CFG_BLK_SIZE, &(uint32_t){ SECTOR_SIZE }, 4);
	memcpy(cfg + CFG_MAX_DISCARD_SECTORS, &(uint32_t){ ZERO_MAX_SECTORS }, 4);
	memcpy(cfg + CFG_MAX_DISCARD_SEG, &(uint32_t){ ZERO_MAX_SEG }, 4);
	memcpy(cfg + CFG_DISCARD_ALIGN, &(uint32_t){ 1 }, 4);
	memcpy(cfg + CFG_MAX_WZ_SECTORS, &(uint32_t){ ZERO_MAX_SECTORS }, 4);
	memcpy(cfg + CFG_MAX_WZ_SEG, &(uint32_t){ ZERO_MAX_SEG }, 4);
	cfg[CFG_WZ_MAY_UNMAP] = b->can_punch;
	memcpy(&v, cfg + off, size);
	return v;
}

/* ---- host I/O ---- */

enum blk_op { BLK_OP_READ, BLK_OP_WRITE, BLK_OP_FLUSH, BLK_OP_ZERO };
enum { ERR_IO, ERR_NOSPC, ERR_OTHER, ERR_CLASSES };

static const char *const blk_op_names[] = {
	[BLK_OP_READ] = "read", [BLK_OP_WRITE] = "write",
	[BLK_OP_FLUSH] = "flush (fdatasync)",
	[BLK_OP_ZERO] = "discard/write-zeroes",
};

/* A request failed on host error @err: IOERR for the guest, and the first
 * failure of each kind in the log (a guest retrying on a full disk must not
 * flood it). */
static uint8_t blk_failed(struct virtio_blk *b, enum blk_op op, int err)
{
	unsigned class = err == EIO ? ERR_IO :
			 err == ENOSPC || err == EDQUOT ? ERR_NOSPC : ERR_OTHER;
	unsigned bit = 1u << (op * ERR_CLASSES + class);

	if (!(b->io_logged & bit)) {
		b->io_logged |= bit;
		fprintf(stderr, "tinyvmm: disk %s: %s failed: %s; the guest gets "
			"IOERR (logged once)\n", b->path, blk_op_names[op],
			strerror(err));
	}
	return VIRTIO_BLK_S_IOERR;
}

/* fallocate() and fdatasync() retried on EINTR: 0 or the errno. */
static int file_fallocate(int fd, int mode, uint64_t off, uint64_t len)
{
	while (fallocate(fd, mode, (off_t)off, (off_t)len))
		if (errno != EINTR)
			return errno;
	return 0;
}

static int file_datasync(int fd)
{
	while (fdatasync(fd))
		if (errno != EINTR)
			return errno;
	return 0;
}

/* ---- one request ---- */

/* @len bytes of @src starting @skip bytes in, as iovecs in @dst. */
static unsigned iov_slice(const struct iovec *src, unsigned n, uint64_t skip,
			  uint64_t len, struct iovec *dst)
{
	unsigned out = 0;

	for (unsigned i = 0; i < n && len; i++) {
		uint64_t l = src[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		dst[out].iov_base = (uint8_t *)src[i].iov_base + skip;
		dst[out].iov_len = l - skip < len ? l - skip : len;
		len -= dst[out].iov_len;
		skip = 0;
		out++;
	}
	return out;
}

/* All of @iov at @off, retrying short transfers and EINTR: 0 or the errno. */
static int file_rw(int fd, struct iovec *iov, unsigned n, uint64_t off,
		   bool write)
{
	while (n) {
		ssize_t r = write ? pwritev(fd, iov, (int)n, (off_t)off)
				  : preadv(fd, iov, (int)n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno;
		if (r == 0)
			return EIO;	/* the file shrank under us */
		off += (uint64_t)r;
		while (n && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (uint8_t *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	return 0;
}

static bool in_range(const struct virtio_blk *b, uint64_t sector, uint64_t n)
{
	return sector <= b->sectors && n <= b->sectors - sector;
}

/* Zeros written the slow way, when the file system cannot allocate them:
 * 0 or the errno. */
static int write_zeros(int fd, uint64_t off, uint64_t len)
{
	static const uint8_t zero[64 * 1024];

	while (len) {
		size_t n = len < sizeof(zero) ? (size_t)len : sizeof(zero);
		struct iovec iov = { (void *)zero, n };
		int err = file_rw(fd, &iov, 1, off, true);

		if (err)
			return err;
		off += n;
		len -= n;
	}
	return 0;
}

/* DISCARD: a hint, done as a hole where the file system can punch one.
 * WRITE_ZEROES: the range reads back as zeros afterwards, by the cheapest
 * means the file system has (with UNMAP a hole may be punched). */
static uint8_t blk_zero(struct virtio_blk *b, struct vq_request *req,
			bool discard)
{
	struct blk_zero_seg seg;
	uint64_t off, len;
	int keep = FALLOC_FL_KEEP_SIZE, err;

	if (req->out_len != BLK_HDR_SIZE + sizeof(seg) || req->in_len != 1)
		return VIRTIO_BLK_S_IOERR;	/* exactly ZERO_MAX_SEG segment */
	vq_request_read(req, BLK_HDR_SIZE, &seg, sizeof(seg));
	if (seg.flags & ~(uint32_t)(discard ? 0 : VIRTIO_BLK_WZ_UNMAP))
		return VIRTIO_BLK_S_UNSUPP;
	if (b->ro || seg.num_sectors > ZERO_MAX_SECTORS ||
	    !in_range(b, seg.sector, seg.num_sectors))
		return VIRTIO_BLK_S_IOERR;
	off = seg.sector * SECTOR_SIZE;
	len = (uint64_t)seg.num_sectors * SECTOR_SIZE;
	if (!len)
		return VIRTIO_BLK_S_OK;
	if (discard)
		err = b->can_punch ? file_fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | keep,
						    off, len) : 0;
	else if (!file_fallocate(b->fd, FALLOC_FL_ZERO_RANGE | keep, off, len) ||
		 (b->can_punch && !file_fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | keep,
						  off, len)))
		err = 0;
	else	/* e.g. ZERO_RANGE unsupported, or no space to allocate */
		err = write_zeros(b->fd, off, len);
	return err ? blk_failed(b, BLK_OP_ZERO, err) : VIRTIO_BLK_S_OK;
}

/* A data transfer of the request's middle part. */
static uint8_t blk_rw(struct virtio_blk *b, struct vq_request *req,
		      uint64_t sector, bool write, uint32_t *written)
{
	/* Writes: data follows the header in the readable part and nothing
	 * but the status is writable; reads: the reverse. */
	uint64_t len = write ? req->out_len - BLK_HDR_SIZE : req->in_len - 1;
	unsigned n;
	int err;

	if ((write ? req->in_len != 1 : req->out_len != BLK_HDR_SIZE) ||
	    len % SECTOR_SIZE || !in_range(b, sector, len / SECTOR_SIZE))
		return VIRTIO_BLK_S_IOERR;
	if (write && b->ro)
		return VIRTIO_BLK_S_IOERR;
	if (write)
		n = iov_slice(req->iov, req->out_num, BLK_HDR_SIZE, len, b->data);
	else
		n = iov_slice(req->iov + req->out_num, req->in_num, 0, len, b->data);
	err = file_rw(b->fd, b->data, n, sector * SECTOR_SIZE, write);
	if (err)
		return blk_failed(b, write ? BLK_OP_WRITE : BLK_OP_READ, err);
	if (write) {
		b->writes++;
		b->bytes_written += len;
	} else {
		b->reads++;
		b->bytes_read += len;
		*written = (uint32_t)len;
	}
	return VIRTIO_BLK_S_OK;
}

/* After a failed fdatasync the kernel may have dropped the dirty pages it
 * could not write (Linux marks them clean), and the next fdatasync succeeds
 * with the data lost: PostgreSQL's "fsyncgate" (2018). What reached the disk
 * is then unknown, so once a flush failed every later FLUSH fails too,
 * without asking the kernel again, for as long as the image is open. A
 * device reset does not clear this: it brings no lost page back. */
static uint8_t blk_flush(struct virtio_blk *b)
{
	b->flushes++;
	if (!b->flush_error)
		b->flush_error = file_datasync(b->fd);
	return b->flush_error ? blk_failed(b, BLK_OP_FLUSH, b->flush_error)
			      : VIRTIO_BLK_S_OK;
}

static uint8_t blk_get_id(struct virtio_blk *b, struct vq_request *req,
			  uint32_t *written)
{
	char id[BLK_ID_BYTES] = { 0 };
	uint64_t room = req->in_len - 1;

	/* NUL-padded, not NUL-terminated when all 20 bytes are used. */
	strncpy(id, b->serial ? b->serial : "", sizeof(id));
	if (room > sizeof(id))
		room = sizeof(id);
	*written = (uint32_t)vq_request_write(req, 0, id, room);
	return VIRTIO_BLK_S_OK;
}

static uint8_t blk_do(struct virtio_blk *b, struct vq_request *req,
		      uint32_t *written)
{
	struct { uint32_t type, reserved; uint64_t sector; } hdr;

	vq_request_read(req, 0, &hdr, sizeof(hdr));
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		return blk_rw(b, req, hdr.sector, hdr.type == VIRTIO_BLK_T_OUT,
			      written);
	case VIRTIO_BLK_T_FLUSH:
		return blk_flush(b);
	case VIRTIO_BLK_T_GET_ID:
		return blk_get_id(b, req, written);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return blk_zero(b, req, hdr.type == VIRTIO_BLK_T_DISCARD);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/* virtio_device_ops.handle: the status byte is the last writable byte. */
static uint32_t blk_handle(void *opaque, unsigned queue, struct vq_request *req)
{
	struct virtio_blk *b = opaque;
	uint32_t written = 0;
	uint8_t status;

	(void)queue;
	if (req->bad || !vq_request_check_layout(req, BLK_HDR_SIZE, 1)) {
		b->errors++;
		return 0;
	}
	status = blk_do(b, req, &written);
	if (status != VIRTIO_BLK_S_OK) {
		b->errors++;
		written = 0;
	}
	vq_request_write(req, req->in_len - 1, &status, 1);
	return written + 1;
}

static const struct virtio_device_ops blk_ops = {
	.config_read = blk_config_read,
	.handle = blk_handle,
};

/* ---- the I/O thread ---- */

static void *blk_io_thread(void *opaque)
{
	struct virtio_blk *b = opaque;
	struct pollfd pfd[2] = {
		{ .fd = b->vp.q[0].kick_fd, .events = POLLIN },
		{ .fd = b->stop_fd, .events = POLLIN },
	};

	device_thread_start(&b->parent_obj, DEVICE_THREAD_BLK_IO);
	for (;;) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		if (pfd[0].revents)
			virtio_pci_process_queue(&b->vp, 0);
	}
	return NULL;
}

/* ---- the disk file ---- */

static int blk_open(struct virtio_blk *b, struct error *err)
{
	struct stat st;
	off_t size;

	if (!b->path || !b->path[0])
		return error_setf(err, "virtio-blk-pci: no disk file (path=)");
	b->fd = open(b->path, (b->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0)
		return error_setf(err, "disk %s: %s", b->path, strerror(errno));
	if (fstat(b->fd, &st) || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)))
		return error_setf(err, "disk %s: not a regular file or block device",
				  b->path);
	/* Two VMs writing one image corrupt it: share only read-only. */
	if (flock(b->fd, (b->ro ? LOCK_SH : LOCK_EX) | LOCK_NB))
		return error_setf(err, "disk %s: in use by another process (%s)",
				  b->path, strerror(errno));
	size = lseek(b->fd, 0, SEEK_END);
	if (size < SECTOR_SIZE)
		return error_setf(err, "disk %s: %s", b->path, size == 0 ?
				  "the file is empty" : "smaller than one 512-byte sector");
	if (size % SECTOR_SIZE)
		fprintf(stderr, "tinyvmm: disk %s: the last %lld bytes are not a "
			"whole sector and are not visible to the guest\n",
			b->path, (long long)(size % SECTOR_SIZE));
	b->sectors = (uint64_t)size / SECTOR_SIZE;
	/* Probe holes past the end: KEEP_SIZE leaves the file as it is. */
	b->can_punch = !b->ro && !file_fallocate(b->fd, FALLOC_FL_PUNCH_HOLE |
						 FALLOC_FL_KEEP_SIZE, (uint64_t)size,
						 SECTOR_SIZE);
	return 0;
}

/* ---- the device type ---- */

static void blk_unrealize(struct device *dev)
{
	struct virtio_blk *b = (struct virtio_blk *)dev;

	if (b->thread_started) {
		eventfd_write(b->stop_fd, 1);
		pthread_join(b->thread, NULL);
		b->thread_started = false;
	}
	if (b->vp.pci.bus)
		pci_bus_remove_device(b->vp.pci.bus, &b->vp.pci);
	virtio_pci_destroy(&b->vp);
	if (b->stop_fd >= 0)
		close(b->stop_fd);
	if (b->fd >= 0)
		close(b->fd);
	b->fd = b->stop_fd = -1;
}

static int blk_realize_steps(struct virtio_blk *b, struct error *err)
{
	struct device *dev = &b->parent_obj;
	uint64_t features = 1ull << VIRTIO_BLK_F_SIZE_MAX | 1ull << VIRTIO_BLK_F_SEG_MAX |
			    1ull << VIRTIO_BLK_F_BLK_SIZE | 1ull << VIRTIO_BLK_F_FLUSH |
			    1ull << VIRTIO_F_EVENT_IDX | 1ull << VIRTIO_F_INDIRECT_DESC;

	if (b->serial && strlen(b->serial) > BLK_ID_BYTES)
		return error_setf(err, "virtio-blk-pci: serial is at most %d characters",
				  BLK_ID_BYTES);
	if (blk_open(b, err))
		return -1;
	if (b->ro)
		features |= 1ull << VIRTIO_BLK_F_RO;
	else	/* zeros can always be written; holes only where punched */
		features |= 1ull << VIRTIO_BLK_F_WRITE_ZEROES |
			    (uint64_t)b->can_punch << VIRTIO_BLK_F_DISCARD;
	if (virtio_pci_init(&b->vp, dev->env, "virtio-blk", VIRTIO_ID_BLOCK,
			    PCI_CLASS_STORAGE_SCSI, features, CFG_SIZE, 1,
			    QUEUE_MAX, &blk_ops, b))
		return error_setf(err, "virtio-blk-pci: %s", errno == EINVAL ?
				  "no PCI bus or no free slot" : strerror(errno));
	b->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (b->stop_fd < 0 || pthread_create(&b->thread, NULL, blk_io_thread, b))
		return error_setf(err, "virtio-blk-pci: cannot start the I/O thread");
	b->thread_started = true;
	return 0;
}

static int blk_realize(struct device *dev, struct error *err)
{
	struct virtio_blk *b = (struct virtio_blk *)dev;

	if (!blk_realize_steps(b, err))
		return 0;
	blk_unrealize(dev);
	return -1;
}

static void blk_instance_init(struct object *obj)
{
	struct virtio_blk *b = (struct virtio_blk *)obj;

	b->fd = b->stop_fd = -1;
}

void virtio_blk_print_stats(struct object *obj, FILE *out)
{
	struct virtio_blk *b = object_dynamic_cast(obj, TYPE_VIRTIO_BLK_PCI);

	if (!b || !b->parent_obj.realized)
		return;
	virtio_pci_print_stats(&b->vp, out);
	pthread_mutex_lock(&b->vp.lock);
	fprintf(out, "virtio-blk %s: %llu reads (%llu bytes), %llu writes "
		"(%llu bytes), %llu flushes, %llu failed requests\n", b->path,
		(unsigned long long)b->reads, (unsigned long long)b->bytes_read,
		(unsigned long long)b->writes, (unsigned long long)b->bytes_written,
		(unsigned long long)b->flushes, (unsigned long long)b->errors);
	pthread_mutex_unlock(&b->vp.lock);
}

static const struct property blk_props[] = {
	{ .name = "path", .type = PROP_STRING, .offset = offsetof(struct virtio_blk, path),
	  .help = "raw disk image (file or block device)" },
	{ .name = "ro", .type = PROP_BOOL, .offset = offsetof(struct virtio_blk, ro),
	  .help = "read-only: writes fail with IOERR" },
	{ .name = "serial", .type = PROP_STRING, .offset = offsetof(struct virtio_blk, serial),
	  .help = "GET_ID string, up to 20 characters" },
	PROP_END,
};

static void blk_class_init(struct object_class *oc)
{
	struct device_class *dc = DEVICE_CLASS(oc);

	oc->props = blk_props;
	dc->realize = blk_realize;
	dc->unrealize = blk_unrealize;
	dc->user_creatable = true;
}

static const struct type_info blk_type_info = {
	.name = TYPE_VIRTIO_BLK_PCI,
	.parent = TYPE_DEVICE,
	.description = "virtio-blk disk on modern virtio-pci (1af4:1042), MSI-X",
	.instance_size = sizeof(struct virtio_blk),
	.class_size = sizeof(struct device_class),
	.class_init = blk_class_init,
	.instance_init = blk_instance_init,
};

static void blk_register_types(void)
{
	type_register(&blk_type_info);
}
type_init(blk_register_types)
