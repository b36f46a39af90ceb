/* fw_cfg, the x86 I/O port flavour (QEMU's TYPE_FW_CFG_IO). See fw_cfg.h.
 *
 * Ports: 0x510-0x511 are one region, because a 16-bit selector write at
 * 0x510 covers 0x511 too: a 16-bit write selects, a byte read at either
 * port reads the data register, a byte write there is ignored (QEMU >= 2.4).
 * 0x514-0x51b is the DMA address register: 32-bit halves or one 64-bit
 * write, big-endian; the low half's write starts the transfer; it reads as
 * "QEMU CFG". */
#include "devices/nvram/fw_cfg.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/device.h"
#include "devices/error.h"
#include "memory/address_space.h"
#include "memory/region.h"

#define FW_CFG_MAX_ENTRY	(FW_CFG_FILE_FIRST + FW_CFG_FILE_SLOTS)
#define FW_CFG_ENTRY_MASK	0x3fff	/* a key without its two flag bits */

/* FW_CFG_ID bits */
#define FW_CFG_VERSION		0x01	/* the port interface: always */
#define FW_CFG_VERSION_DMA	0x02

/* FWCfgDmaAccess: be32 control, be32 length, be64 address. */
#define DMA_ACCESS_SIZE		16
#define DMA_CTL_ERROR		0x01
#define DMA_CTL_READ		0x02
#define DMA_CTL_SKIP		0x04
#define DMA_CTL_SELECT		0x08	/* the key is in bits 31:16 */
#define DMA_CTL_WRITE		0x10

/* FW_CFG_FILE_DIR: be32 count, then per file be32 size, be16 select,
 * be16 reserved, char name[56]. */
#define FILE_DIR_ENTRY_SIZE	64

static const char dma_signature[8] = "QEMU CFG";

struct fw_cfg_item {
	uint8_t *data;		/* owned; NULL when len is 0 */
	uint32_t len;
	bool set;
};

struct fw_cfg_file {
	char name[FW_CFG_MAX_FILE_PATH];	/* zero-padded */
	uint16_t key;
};

struct fw_cfg {
	struct device parent_obj;
	struct memory_region ctl, dma;
	pthread_mutex_t lock;	/* vCPUs on the ports, the board adding */
	/* [0]: generic keys, [1]: FW_CFG_ARCH_LOCAL ones; by key & ENTRY_MASK.
	 * Items never change once set, except FILE_DIR, which only grows: so
	 * the offset never passes the selected item's end. */
	struct fw_cfg_item items[2][FW_CFG_MAX_ENTRY];
	struct fw_cfg_file files[FW_CFG_FILE_SLOTS];	/* in the order added */
	unsigned nfiles;
	uint16_t cur_key;	/* the guest's selection */
	uint32_t cur_offset;	/* into it */
	uint64_t dma_addr;	/* the high half, until the low one comes */
	bool data_write_logged, bad_dma_logged;
};

#define FW_CFG(dev) ((struct fw_cfg *)(dev))

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void log_once(bool *logged, const char *what)
{
	if (*logged)
		return;
	*logged = true;
	fprintf(stderr, "tinyvmm: fw_cfg: %s (logged once)\n", what);
}

/* NULL for a key past the last slot. */
static struct fw_cfg_item *item_of(struct fw_cfg *s, uint16_t key)
{
	unsigned index = key & FW_CFG_ENTRY_MASK;

	if (index >= FW_CFG_MAX_ENTRY)
		return NULL;
	return &s->items[!!(key & FW_CFG_ARCH_LOCAL)][index];
}

/* ---- the guest's side (under s->lock) ---- */

static void select_key(struct fw_cfg *s, uint16_t key)
{
	s->cur_key = key;
	s->cur_offset = 0;
}

/* Moves @len bytes on in the selected item, copying them to @dst unless it
 * is NULL (a skip); bytes past the end (or of a missing item) are 0. */
static void transfer(struct fw_cfg *s, uint8_t *dst, uint64_t len)
{
	const struct fw_cfg_item *it = item_of(s, s->cur_key);
	uint64_t left = it ? it->len - s->cur_offset : 0;
	uint64_t n = len < left ? len : left;

	if (dst) {
		if (n)
			memcpy(dst, it->data + s->cur_offset, n);
		memset(dst + n, 0, len - n);
	}
	s->cur_offset += (uint32_t)n;
}

/* One FWCfgDmaAccess: the control word to write back, 0 or ERROR. A bad
 * buffer fails before anything moves; a selection is made first either
 * way, as a write to the selector would be. */
static uint32_t dma_access(struct fw_cfg *s, uint32_t control, uint32_t len,
			   uint64_t gpa)
{
	uint8_t *buf = NULL;

	if (control & DMA_CTL_SELECT)
		select_key(s, (uint16_t)(control >> 16));
	if (control & DMA_CTL_READ) {
		if (len) {
			buf = address_space_map_ram(s->parent_obj.env->dma, gpa,
						    len, true);
			if (!buf)
				return DMA_CTL_ERROR;
		}
		transfer(s, buf, len);
	} else if (control & DMA_CTL_WRITE) {
		return DMA_CTL_ERROR;	/* no item is writable */
	} else if (control & DMA_CTL_SKIP) {
		transfer(s, NULL, len);
	}
	return 0;
}

static void dma_run(struct fw_cfg *s, uint64_t gpa)
{
	uint8_t *desc = address_space_map_ram(s->parent_obj.env->dma, gpa,
					      DMA_ACCESS_SIZE, true);
	uint8_t d[DMA_ACCESS_SIZE];
	uint32_t control;

	if (!desc) {		/* nowhere to report the error */
		log_once(&s->bad_dma_logged, "DMA descriptor not in RAM: ignored");
		return;
	}
	memcpy(d, desc, sizeof(d));	/* read once: the guest may race us */
	control = dma_access(s, (uint32_t)get_be(d, 4), (uint32_t)get_be(d + 4, 4),
			     get_be(d + 8, 8));
	put_be(desc, control, 4);
}

static uint64_t ctl_read(void *opaque, uint64_t offset, unsigned size)
{
	struct fw_cfg *s = opaque;
	uint8_t b;

	(void)offset;
	if (size != 1)		/* the selector is write-only: refused */
		return UINT16_MAX;
	pthread_mutex_lock(&s->lock);
	transfer(s, &b, 1);
	pthread_mutex_unlock(&s->lock);
	return b;
}

static void ctl_write(void *opaque, uint64_t offset, uint64_t value,
		      unsigned size)
{
	struct fw_cfg *s = opaque;

	(void)offset;
	pthread_mutex_lock(&s->lock);
	if (size == 2)
		select_key(s, (uint16_t)value);
	else
		log_once(&s->data_write_logged, "data port writes are ignored");
	pthread_mutex_unlock(&s->lock);
}

/* Bytes at either port; 16 bits at 0x510 (aligned). */
static const struct memory_region_ops ctl_ops = {
	.read = ctl_read,
	.write = ctl_write,
	.valid = { .min = 1, .max = 2 },
	.impl = { .min = 1, .max = 2 },
};

static uint64_t dma_reg_read(void *opaque, uint64_t offset, unsigned size)
{
	uint64_t v = 0;

	(void)opaque;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)(uint8_t)dma_signature[offset + i] << (8 * i);
	return v;
}

/* The register is big-endian: the guest's first byte is the most
 * significant; the value here has it as the least (little-endian). */
static void dma_reg_write(void *opaque, uint64_t offset, uint64_t value,
			  unsigned size)
{
	struct fw_cfg *s = opaque;
	uint64_t gpa;

	pthread_mutex_lock(&s->lock);
	if (size == 4 && offset == 0) {
		s->dma_addr = (uint64_t)__builtin_bswap32((uint32_t)value) << 32;
	} else {
		gpa = size == 8 ? __builtin_bswap64(value) :
		      s->dma_addr | __builtin_bswap32((uint32_t)value);
		s->dma_addr = 0;	/* 0 after an operation (the spec) */
		dma_run(s, gpa);
	}
	pthread_mutex_unlock(&s->lock);
}

/* 32 bits at either half or 64 at the start, aligned. */
static const struct memory_region_ops dma_reg_ops = {
	.read = dma_reg_read,
	.write = dma_reg_write,
	.valid = { .min = 4, .max = 8 },
	.impl = { .min = 4, .max = 8 },
};

/* ---- the board's side ---- */

/* Under s->lock (or before anyone else can see @s). */
static int item_set(struct fw_cfg *s, uint16_t key, const void *data,
		    size_t len, struct error *err)
{
	struct fw_cfg_item *it = item_of(s, key);
	uint8_t *copy = NULL;

	if (it->set)
		return error_setf(err, "fw_cfg: key %#x is already set", key);
	if (len > UINT32_MAX)
		return error_setf(err, "fw_cfg: item %#x of %zu bytes is too large",
				  key, len);
	if (len) {
		copy = malloc(len);
		if (!copy)
			return error_setf(err, "fw_cfg: item %#x: out of memory", key);
		memcpy(copy, data, len);
	}
	*it = (struct fw_cfg_item){ .data = copy, .len = (uint32_t)len, .set = true };
	return 0;
}

static void item_clear(struct fw_cfg_item *it)
{
	free(it->data);
	*it = (struct fw_cfg_item){ .set = false };
}

static int file_cmp(const void *a, const void *b)
{
	const struct fw_cfg_file *fa = *(const struct fw_cfg_file *const *)a;
	const struct fw_cfg_file *fb = *(const struct fw_cfg_file *const *)b;

	return strcmp(fa->name, fb->name);
}

/* Rebuilds FW_CFG_FILE_DIR from s->files, sorted by name. */
static int file_dir_update(struct fw_cfg *s, struct error *err)
{
	const struct fw_cfg_file *sorted[FW_CFG_FILE_SLOTS];
	struct fw_cfg_item *dir = item_of(s, FW_CFG_FILE_DIR);
	size_t len = 4 + (size_t)FILE_DIR_ENTRY_SIZE * s->nfiles;
	uint8_t *p = calloc(1, len);

	if (!p)
		return error_setf(err, "fw_cfg: file directory: out of memory");
	for (unsigned i = 0; i < s->nfiles; i++)
		sorted[i] = &s->files[i];
	qsort(sorted, s->nfiles, sizeof(sorted[0]), file_cmp);
	put_be(p, s->nfiles, 4);
	for (unsigned i = 0; i < s->nfiles; i++) {
		uint8_t *e = p + 4 + FILE_DIR_ENTRY_SIZE * i;

		put_be(e, item_of(s, sorted[i]->key)->len, 4);
		put_be(e + 4, sorted[i]->key, 2);
		memcpy(e + 8, sorted[i]->name, FW_CFG_MAX_FILE_PATH);
	}
	free(dir->data);
	*dir = (struct fw_cfg_item){ .data = p, .len = (uint32_t)len, .set = true };
	return 0;
}

int fw_cfg_add_bytes(struct device *fw, uint16_t key, const void *data,
		     size_t len, struct error *err)
{
	struct fw_cfg *s = FW_CFG(fw);
	int ret;

	if ((key & FW_CFG_ENTRY_MASK) >= FW_CFG_FILE_FIRST ||
	    (key & FW_CFG_WRITE_CHANNEL))
		return error_setf(err, "fw_cfg: %#x is not an item key", key);
	pthread_mutex_lock(&s->lock);
	ret = item_set(s, key, data, len, err);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

static int add_le(struct device *fw, uint16_t key, uint64_t v, unsigned n,
		  struct error *err)
{
	uint8_t b[8];

	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return fw_cfg_add_bytes(fw, key, b, n, err);
}

int fw_cfg_add_i16(struct device *fw, uint16_t key, uint16_t v,
		   struct error *err)
{
	return add_le(fw, key, v, 2, err);
}

int fw_cfg_add_i32(struct device *fw, uint16_t key, uint32_t v,
		   struct error *err)
{
	return add_le(fw, key, v, 4, err);
}

int fw_cfg_add_i64(struct device *fw, uint16_t key, uint64_t v,
		   struct error *err)
{
	return add_le(fw, key, v, 8, err);
}

static bool file_exists(const struct fw_cfg *s, const char *name)
{
	for (unsigned i = 0; i < s->nfiles; i++)
		if (!strcmp(s->files[i].name, name))
			return true;
	return false;
}

/* Under s->lock; @name fits and is new, a slot is free. */
static int file_add(struct fw_cfg *s, const char *name, const void *data,
		    size_t len, struct error *err)
{
	struct fw_cfg_file *f = &s->files[s->nfiles];
	uint16_t key = (uint16_t)(FW_CFG_FILE_FIRST + s->nfiles);

	if (item_set(s, key, data, len, err))
		return -1;
	memset(f->name, 0, sizeof(f->name));
	memcpy(f->name, name, strlen(name));
	f->key = key;
	s->nfiles++;
	if (file_dir_update(s, err)) {
		s->nfiles--;
		item_clear(item_of(s, key));
		return -1;
	}
	return 0;
}

int fw_cfg_add_file(struct device *fw, const char *name, const void *data,
		    size_t len, struct error *err)
{
	struct fw_cfg *s = FW_CFG(fw);
	int ret;

	if (strnlen(name, FW_CFG_MAX_FILE_PATH) >= FW_CFG_MAX_FILE_PATH)
		return error_setf(err, "fw_cfg: file name '%s' is longer than %d bytes",
				  name, FW_CFG_MAX_FILE_PATH - 1);
	pthread_mutex_lock(&s->lock);
	if (file_exists(s, name))
		ret = error_setf(err, "fw_cfg: duplicate file name '%s'", name);
	else if (s->nfiles == FW_CFG_FILE_SLOTS)
		ret = error_setf(err, "fw_cfg: too many files (at most %d)",
				 FW_CFG_FILE_SLOTS);
	else
		ret = file_add(s, name, data, len, err);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* ---- the device ---- */

static int fw_cfg_realize(struct device *dev, struct error *err)
{
	struct fw_cfg *s = FW_CFG(dev);
	const struct device_env *env = dev->env;

	if (!env->io_space || !env->dma)
		return error_setf(err, "fw_cfg_io: needs I/O ports and guest RAM");
	memory_region_init_io(&s->ctl, "fw_cfg ctl/data", &ctl_ops, s, 2);
	memory_region_init_io(&s->dma, "fw_cfg dma", &dma_reg_ops, s, 8);
	memory_transaction_begin();
	memory_region_add_subregion(env->io_space, FW_CFG_IO_BASE, &s->ctl, 0);
	memory_region_add_subregion(env->io_space, FW_CFG_DMA_IO_BASE, &s->dma, 0);
	memory_transaction_commit();
	return 0;
}

static void fw_cfg_unrealize(struct device *dev)
{
	struct fw_cfg *s = FW_CFG(dev);

	memory_transaction_begin();
	memory_region_del_subregion(dev->env->io_space, &s->ctl);
	memory_region_del_subregion(dev->env->io_space, &s->dma);
	memory_transaction_commit();
}

/* The items every fw_cfg has, there before the board adds its own. No
 * memory for a few bytes: abort, as object_new does. */
static void fw_cfg_instance_init(struct object *obj)
{
	struct fw_cfg *s = FW_CFG(obj);
	static const uint8_t id[4] = { FW_CFG_VERSION | FW_CFG_VERSION_DMA };

	pthread_mutex_init(&s->lock, NULL);
	if (item_set(s, FW_CFG_SIGNATURE, "QEMU", 4, NULL) ||
	    item_set(s, FW_CFG_ID, id, sizeof(id), NULL) ||
	    file_dir_update(s, NULL))
		abort();
}

static void fw_cfg_instance_finalize(struct object *obj)
{
	struct fw_cfg *s = FW_CFG(obj);

	for (unsigned a = 0; a < 2; a++)
		for (unsigned i = 0; i < FW_CFG_MAX_ENTRY; i++)
			item_clear(&s->items[a][i]);
	pthread_mutex_destroy(&s->lock);
}

static void fw_cfg_class_init(struct object_class *oc)
{
	struct device_class *dc = DEVICE_CLASS(oc);

	dc->realize = fw_cfg_realize;
	dc->unrealize = fw_cfg_unrealize;
	dc->user_creatable = false;	/* the board makes the one there is */
}

static const struct type_info fw_cfg_type_info = {
	.name = TYPE_FW_CFG_IO,
	.parent = TYPE_DEVICE,
	.description = "QEMU firmware configuration (fw_cfg), I/O ports 0x510-0x51b",
	.instance_size = sizeof(struct fw_cfg),
	.class_size = sizeof(struct device_class),
	.class_init = fw_cfg_class_init,
	.instance_init = fw_cfg_instance_init,
	.instance_finalize = fw_cfg_instance_finalize,
};

static void fw_cfg_register_types(void)
{
	type_register(&fw_cfg_type_info);
}
type_init(fw_cfg_register_types)
