/* libFuzzer target: fw_cfg (devices/nvram/fw_cfg.c) driven by a guest's port
 * accesses at 0x50e..0x51d of every width, DMA descriptors anywhere (in RAM,
 * straddling its end, in ROM, nowhere) and the board adding items and files
 * in between. The harness keeps its own model of the device (items, the
 * selection and offset, the DMA address register) and checks:
 *   - every data byte the guest reads is the model's (item bytes, then 0);
 *   - after every access, guest RAM is exactly what the model says: a DMA
 *     changes only its buffer and its control word, and only when the spec
 *     says so; ROM is never written;
 *   - each board add succeeds or fails as the model predicts.
 * LeakSanitizer checks that freeing the device frees every item. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/device.h"
#include "devices/error.h"
#include "devices/nvram/fw_cfg.h"
#include "memory/address_space.h"
#include "memory/ramblock.h"
#include "memory/region.h"
#include "tests/fuzz/fuzz_input.h"

#define RAM_SIZE	0x4000u
#define ROM_BASE	0x4000u
#define ROM_SIZE	0x1000u
#define MAX_KEYS	0x40		/* FW_CFG_FILE_FIRST + 32 slots */
#define MAX_ITEM	64		/* the harness adds items up to this */

#define CTL_ERROR	0x01u
#define CTL_READ	0x02u
#define CTL_SKIP	0x04u
#define CTL_SELECT	0x08u
#define CTL_WRITE	0x10u

static struct ram_block ram, rom;
static struct memory_region sys_root, io_root, ram_mr, rom_mr;
static struct address_space *sys_as, *io_as;
static struct device_env env;

/* ---- the model ---- */

struct m_item {
	bool set;
	uint32_t len;
	uint8_t data[MAX_ITEM];
};

static struct m_item m_items[2][MAX_KEYS];
static char m_names[FW_CFG_FILE_SLOTS][FW_CFG_MAX_FILE_PATH];
static unsigned m_nfiles;
static uint16_t m_key;
static uint32_t m_offset;
static uint64_t m_dma_hi;
static uint8_t m_ram[RAM_SIZE];
static uint8_t m_dir[4 + 64 * FW_CFG_FILE_SLOTS];

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

static struct m_item *m_slot(uint16_t key)
{
	unsigned index = key & 0x3fff;

	return index < MAX_KEYS ? &m_items[key >> 15][index] : NULL;
}

/* The directory, sorted by name by insertion (n is at most 32). */
static void m_build_dir(uint32_t *len)
{
	unsigned order[FW_CFG_FILE_SLOTS], n = 0;

	for (unsigned i = 0; i < m_nfiles; i++) {
		unsigned j = n++;

		while (j && strcmp(m_names[order[j - 1]], m_names[i]) > 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	memset(m_dir, 0, sizeof(m_dir));
	put_be(m_dir, m_nfiles, 4);
	for (unsigned i = 0; i < m_nfiles; i++) {
		uint8_t *e = m_dir + 4 + 64 * i;

		put_be(e, m_items[0][FW_CFG_FILE_FIRST + order[i]].len, 4);
		put_be(e + 4, FW_CFG_FILE_FIRST + order[i], 2);
		memcpy(e + 8, m_names[order[i]], strlen(m_names[order[i]]));
	}
	*len = 4 + 64 * m_nfiles;
}

/* The selected item's bytes and length (NULL, 0: none). */
static const uint8_t *m_current(uint32_t *len)
{
	const struct m_item *it = m_slot(m_key);

	*len = 0;
	if ((m_key & 0x3fff) == FW_CFG_FILE_DIR && !(m_key & 0x8000)) {
		m_build_dir(len);
		return m_dir;
	}
	if (!it || !it->set)
		return NULL;
	*len = it->len;
	return it->data;
}

/* Moves on @n bytes, into @dst unless NULL. */
static void m_transfer(uint8_t *dst, uint64_t n)
{
	uint32_t len;
	const uint8_t *d = m_current(&len);

	for (uint64_t i = 0; i < n; i++) {
		uint8_t b = 0;

		if (m_offset < len)
			b = d[m_offset++];
		if (dst)
			dst[i] = b;
		else if (m_offset >= len)
			break;		/* a skip: nothing more moves */
	}
}

static bool in_ram(uint64_t gpa, uint64_t len)
{
	return gpa < RAM_SIZE && len <= RAM_SIZE - gpa;
}

static void m_dma(uint64_t gpa)
{
	uint32_t control, len;
	uint64_t addr;
	uint32_t result = 0;

	if (!in_ram(gpa, 16))
		return;
	control = (uint32_t)get_be(m_ram + gpa, 4);
	len = (uint32_t)get_be(m_ram + gpa + 4, 4);
	addr = get_be(m_ram + gpa + 8, 8);
	if (control & CTL_SELECT) {
		m_key = (uint16_t)(control >> 16);
		m_offset = 0;
	}
	if (control & CTL_READ) {
		if (len && !in_ram(addr, len))
			result = CTL_ERROR;
		else if (len)
			m_transfer(m_ram + addr, len);
	} else if (control & CTL_WRITE) {
		result = CTL_ERROR;
	} else if (control & CTL_SKIP) {
		m_transfer(NULL, len);
	}
	put_be(m_ram + gpa, result, 4);
}

/* What a port access does to the device: the part of [port, port + w) in
 * each region reaches it as one access of that many bytes. Returns which
 * byte of the access is a data byte read (its value in @data), or -1. */
static int m_port(unsigned port, unsigned w, bool write, const uint8_t *v,
		  uint8_t *data)
{
	unsigned s, e;
	int data_at = -1;

	/* 0x510-0x511: a byte is data; two aligned bytes are the selector. */
	s = port > 0x510 ? port : 0x510;
	e = port + w < 0x512 ? port + w : 0x512;
	if (s < e) {
		if (e - s == 1 && !write) {
			m_transfer(data, 1);
			data_at = (int)(s - port);
		} else if (e - s == 2 && write) {
			m_key = (uint16_t)(v[s - port] | v[s - port + 1] << 8);
			m_offset = 0;
		}
	}
	/* 0x514-0x51b: 4 bytes at either half or 8 at the start. */
	s = port > 0x514 ? port : 0x514;
	e = port + w < 0x51c ? port + w : 0x51c;
	if (write && s < e && ((e - s == 4 && !(s & 3)) || (e - s == 8 && s == 0x514))) {
		const uint8_t *p = v + (s - port);

		if (e - s == 4 && s == 0x514) {
			m_dma_hi = get_be(p, 4) << 32;
		} else {
			uint64_t gpa = e - s == 8 ? get_be(p, 8) : m_dma_hi | get_be(p, 4);

			m_dma_hi = 0;
			m_dma(gpa);
		}
	}
	return data_at;
}

/* ---- driving it ---- */

static void setup_once(void)
{
	if (sys_as)
		return;
	if (ram_block_init(&ram, "ram", RAM_SIZE) || ram_block_init(&rom, "rom", ROM_SIZE))
		abort();
	memset(rom.host, 0x5a, ROM_SIZE);
	memory_region_init_container(&sys_root, "system", UINT64_MAX);
	memory_region_init_container(&io_root, "io", 0x10000);
	memory_region_init_ram(&ram_mr, "ram", &ram, 0, RAM_SIZE);
	memory_region_init_rom(&rom_mr, "rom", &rom, 0, ROM_SIZE);
	memory_region_add_subregion(&sys_root, 0, &ram_mr, 0);
	memory_region_add_subregion(&sys_root, ROM_BASE, &rom_mr, 0);
	sys_as = address_space_new("system", &sys_root);
	io_as = address_space_new("io", &io_root);
	env = (struct device_env){ .system_memory = &sys_root, .io_space = &io_root,
				   .dma = sys_as };
}

static void m_reset(void)
{
	static const uint8_t id[4] = { 3 };

	memset(m_items, 0, sizeof(m_items));
	m_items[0][FW_CFG_SIGNATURE] = (struct m_item){ true, 4, "QEMU" };
	m_items[0][FW_CFG_ID] = (struct m_item){ .set = true, .len = 4 };
	memcpy(m_items[0][FW_CFG_ID].data, id, 4);
	m_items[0][FW_CFG_FILE_DIR].set = true;		/* built on demand */
	m_nfiles = 0;
	m_key = 0;
	m_offset = 0;
	m_dma_hi = 0;
}

/* A key: mostly a small one of either kind, sometimes anything. */
static uint16_t take_key(struct input *in)
{
	unsigned b = (unsigned)take(in, 1);

	if (b & 0x80)
		return (uint16_t)take(in, 2);
	return (uint16_t)((b & 0x3f) | (b & 0x40 ? 0x8000 : 0));
}

static void board_add_bytes(struct device *fw, struct input *in)
{
	uint16_t key = take_key(in);
	unsigned len = (unsigned)take(in, 1) % (MAX_ITEM + 1);
	uint8_t data[MAX_ITEM];
	struct m_item *it = m_slot(key);
	bool ok = (key & 0x3fff) < FW_CFG_FILE_FIRST && !(key & 0x4000) && !it->set;

	for (unsigned i = 0; i < len; i++)
		data[i] = (uint8_t)take(in, 1);
	CHECK((fw_cfg_add_bytes(fw, key, data, len, NULL) == 0) == ok);
	if (ok) {
		it->set = true;
		it->len = len;
		memcpy(it->data, data, len);
	}
}

static void board_add_file(struct device *fw, struct input *in)
{
	unsigned n = (unsigned)take(in, 1) % 60, len = (unsigned)take(in, 1) % (MAX_ITEM + 1);
	char name[61];
	uint8_t data[MAX_ITEM];
	bool ok, dup = false;

	for (unsigned i = 0; i < n; i++)
		name[i] = (char)('a' + take(in, 1) % 4);	/* names collide */
	name[n] = '\0';
	for (unsigned i = 0; i < len; i++)
		data[i] = (uint8_t)take(in, 1);
	for (unsigned i = 0; i < m_nfiles; i++)
		dup |= !strcmp(m_names[i], name);
	ok = n < FW_CFG_MAX_FILE_PATH && !dup && m_nfiles < FW_CFG_FILE_SLOTS;
	CHECK((fw_cfg_add_file(fw, name, data, len, NULL) == 0) == ok);
	if (ok) {
		struct m_item *it = &m_items[0][FW_CFG_FILE_FIRST + m_nfiles];

		strcpy(m_names[m_nfiles++], name);
		*it = (struct m_item){ .set = true, .len = len };
		memcpy(it->data, data, len);
	}
}

/* A guest address: mostly in RAM, sometimes near its end, in ROM, or
 * anything. */
static uint64_t take_gpa(struct input *in)
{
	unsigned b = (unsigned)take(in, 1);

	switch (b & 3) {
	case 0:
	case 1:
		return take(in, 2) & 0x7fff;
	case 2:
		return RAM_SIZE - 32 + (b >> 2);
	default:
		return take(in, 8);
	}
}

/* A descriptor into RAM (as much of it as fits), then the kick. */
static void dma_op(struct input *in, unsigned sel)
{
	static const uint32_t ops[4] = { CTL_READ, CTL_SKIP, CTL_WRITE, 0 };
	uint64_t gpa = take_gpa(in);
	uint32_t control = (uint32_t)take(in, 1);
	uint32_t len;
	uint8_t d[16];

	control = sel & 4 ? (uint32_t)take(in, 4) :
		  (control & 1 ? CTL_SELECT | (uint32_t)take_key(in) << 16 : 0) |
		  ops[control >> 1 & 3];
	len = sel & 8 ? (uint32_t)take(in, 4) : (uint32_t)take(in, 1);
	put_be(d, control, 4);
	put_be(d + 4, len, 4);
	put_be(d + 8, take_gpa(in), 8);
	for (unsigned i = 0; i < 16; i++)
		if (in_ram(gpa + i, 1))
			ram.host[gpa + i] = m_ram[gpa + i] = d[i];
	if (sel & 16) {
		uint64_t be = __builtin_bswap64(gpa);

		CHECK(address_space_write(io_as, 0x514, &be, 8) == MEMTX_OK);
		m_dma_hi = 0;
		m_dma(gpa);
	} else {
		uint8_t hi[4], lo[4];

		put_be(hi, gpa >> 32, 4);
		put_be(lo, gpa, 4);
		address_space_write(io_as, 0x514, hi, 4);
		m_port(0x514, 4, true, hi, NULL);
		address_space_write(io_as, 0x518, lo, 4);
		m_port(0x518, 4, true, lo, NULL);
	}
}

static unsigned width(unsigned sel)
{
	static const unsigned w[8] = { 1, 1, 2, 4, 1, 2, 8, 3 };

	return w[sel & 7];
}

static void port_op(struct input *in, unsigned sel, bool write)
{
	unsigned port = 0x50e + (unsigned)take(in, 1) % 16, w = width(sel >> 1);
	uint8_t v[8], got[8], want;
	int at;

	for (unsigned i = 0; i < w; i++)
		v[i] = got[i] = (uint8_t)take(in, 1);
	if ((sel & 0x10) && w == 2) {	/* mostly: a select the usual way */
		uint16_t key = take_key(in);

		port = 0x510;
		v[0] = got[0] = (uint8_t)key;
		v[1] = got[1] = (uint8_t)(key >> 8);
		write = true;
	}
	address_space_rw(io_as, port, got, w, write, NULL);
	at = m_port(port, w, write, v, &want);
	CHECK(at < 0 || got[at] == want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct object *obj;
	struct device *fw;
	struct error e;

	setup_once();
	for (unsigned i = 0; i < RAM_SIZE; i++)
		ram.host[i] = (uint8_t)(i * 13 + 5);
	memcpy(m_ram, ram.host, RAM_SIZE);
	m_reset();
	obj = object_new(TYPE_FW_CFG_IO);
	fw = (struct device *)obj;
	CHECK(fw && device_realize(fw, &env, &e) == 0);

	for (unsigned ops = 0; in.left && ops < 512; ops++) {
		unsigned sel = (unsigned)take(&in, 1);

		switch (sel % 5) {
		case 0:
			board_add_bytes(fw, &in);
			break;
		case 1:
			board_add_file(fw, &in);
			break;
		case 2:
			dma_op(&in, sel);
			break;
		default:
			port_op(&in, sel, sel % 5 == 3);
			break;
		}
		CHECK(!memcmp(ram.host, m_ram, RAM_SIZE));
	}
	for (unsigned i = 0; i < ROM_SIZE; i++)
		CHECK(rom.host[i] == 0x5a);
	object_free(obj);
	CHECK(io_root.subregions == NULL);
	return 0;
}
