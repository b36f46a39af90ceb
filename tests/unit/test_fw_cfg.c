/* fw_cfg: the ports and the DMA interface driven through an "io" address
 * space as a guest would, the board's API and its errors. No /dev/kvm: a
 * RAM block (64 KiB at 0) and a ROM page (at 0x10000) for DMA. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "devices/device.h"
#include "devices/error.h"
#include "devices/nvram/fw_cfg.h"
#include "memory/address_space.h"
#include "memory/ramblock.h"
#include "memory/region.h"

#define RAM_SIZE	0x10000u
#define ROM_BASE	0x10000u
#define ROM_SIZE	0x1000u
#define DESC		0x1000u		/* a descriptor */
#define BUF		0x2000u		/* a buffer */

/* FWCfgDmaAccess.control */
#define CTL_ERROR	0x01u
#define CTL_READ	0x02u
#define CTL_SKIP	0x04u
#define CTL_SELECT	0x08u
#define CTL_WRITE	0x10u

static struct ram_block ram, rom;
static struct memory_region sys_root, io_root, ram_mr, rom_mr;
static struct address_space *sys_as, *io_as;
static struct object *root;
static struct device_env env;
static struct device *fw;

static void setup(void)
{
	cr_assert_eq(ram_block_init(&ram, "ram", RAM_SIZE), 0);
	cr_assert_eq(ram_block_init(&rom, "rom", ROM_SIZE), 0);
	memset(rom.host, 0x5a, ROM_SIZE);
	memory_region_init_container(&sys_root, "system", UINT64_MAX);
	memory_region_init_container(&io_root, "io", 0x10000);
	memory_region_init_ram(&ram_mr, "ram", &ram, 0, RAM_SIZE);
	memory_region_init_rom(&rom_mr, "rom", &rom, 0, ROM_SIZE);
	memory_region_add_subregion(&sys_root, 0, &ram_mr, 0);
	memory_region_add_subregion(&sys_root, ROM_BASE, &rom_mr, 0);
	sys_as = address_space_new("system", &sys_root);
	io_as = address_space_new("io", &io_root);
	root = object_new(TYPE_CONTAINER);
	env = (struct device_env){ .system_memory = &sys_root, .io_space = &io_root,
				   .dma = sys_as };
	fw = NULL;
}

static void teardown(void)
{
	object_free(root);		/* unrealizes: unmaps */
	cr_assert_null(io_root.subregions, "the ports are unmapped");
	address_space_destroy(sys_as);
	address_space_destroy(io_as);
	memory_region_del_subregion(&sys_root, &ram_mr);
	memory_region_del_subregion(&sys_root, &rom_mr);
	ram_block_destroy(&ram);
	ram_block_destroy(&rom);
}

TestSuite(fw_cfg, .init = setup, .fini = teardown);

/* A fw_cfg device, a child of root, not yet realized. */
static struct device *mk(void)
{
	struct object *obj = object_new(TYPE_FW_CFG_IO);

	cr_assert_not_null(obj);
	object_add_child(root, "fw_cfg", obj);
	return (struct device *)obj;
}

static void realize(struct device *d)
{
	struct error e = { "" };

	cr_assert_eq(device_realize(d, &env, &e), 0, "%s", e.msg);
}

/* The usual case: fw, realized. */
static void mk_fw(void)
{
	fw = mk();
	realize(fw);
}

static void out(uint16_t port, uint64_t v, unsigned size)
{
	address_space_write(io_as, port, &v, size);
}

static uint64_t in(uint16_t port, unsigned size)
{
	uint64_t v = 0;

	address_space_read(io_as, port, &v, size);
	return v;
}

static void select_key(uint16_t key)
{
	out(0x510, key, 2);
}

static void read_data(void *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((uint8_t *)buf)[i] = (uint8_t)in(0x511, 1);
}

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

/* Writes a descriptor at @at in RAM. */
static void put_desc(uint64_t at, uint32_t control, uint32_t len, uint64_t addr)
{
	put_be(ram.host + at, control, 4);
	put_be(ram.host + at + 4, len, 4);
	put_be(ram.host + at + 8, addr, 8);
}

/* What the guest does: the address, big-endian, high half then low. */
static void dma_kick(uint64_t desc)
{
	out(0x514, __builtin_bswap32((uint32_t)(desc >> 32)), 4);
	out(0x518, __builtin_bswap32((uint32_t)desc), 4);
}

/* One descriptor at DESC: the control word it ends with. */
static uint32_t dma(uint32_t control, uint32_t len, uint64_t addr)
{
	put_desc(DESC, control, len, addr);
	dma_kick(DESC);
	return (uint32_t)get_be(ram.host + DESC, 4);
}

/* ---- the ports ---- */

Test(fw_cfg, signature_and_id_through_the_ports)
{
	char sig[5] = "";
	uint8_t id[4];

	mk_fw();
	read_data(sig, 4);
	cr_assert_str_eq(sig, "QEMU", "the signature is selected at start");
	select_key(FW_CFG_SIGNATURE);
	cr_assert_eq(in(0x510, 1), 'Q', "a byte read at 0x510 reads the data too");
	cr_assert_eq(in(0x511, 1), 'E');
	select_key(FW_CFG_ID);
	read_data(id, 4);
	cr_assert_eq(id[0], 0x03, "traditional interface + DMA");
	cr_assert_eq(id[1] | id[2] | id[3], 0);
}

Test(fw_cfg, dma_register_reads_qemu_cfg)
{
	uint32_t v[2];

	mk_fw();
	v[0] = (uint32_t)in(0x514, 4);
	v[1] = (uint32_t)in(0x518, 4);
	cr_assert_eq(memcmp(v, "QEMU CFG", 8), 0, "0x51454d5520434647 big-endian");
	cr_assert_eq(in(0x514, 1), 0xff, "byte reads are refused");
	cr_assert_eq(in(0x516, 2), 0xffff);
}

Test(fw_cfg, board_numbers_are_little_endian)
{
	struct error e = { "" };
	uint8_t b[8];
	uint64_t v = 0;

	mk_fw();
	cr_assert_eq(fw_cfg_add_i16(fw, FW_CFG_NB_CPUS, 2, &e), 0, "%s", e.msg);
	cr_assert_eq(fw_cfg_add_i64(fw, FW_CFG_RAM_SIZE, 0x123456789ull, &e), 0);
	cr_assert_eq(fw_cfg_add_i32(fw, FW_CFG_E820_TABLE, 0xdeadbeef, &e), 0);
	select_key(FW_CFG_NB_CPUS);
	read_data(b, 3);
	cr_assert(b[0] == 2 && b[1] == 0 && b[2] == 0, "2, then past the end");
	select_key(FW_CFG_RAM_SIZE);
	read_data(&v, 8);
	cr_assert_eq(v, 0x123456789ull);
	select_key(FW_CFG_E820_TABLE);
	v = 0;
	read_data(&v, 4);
	cr_assert_eq(v, 0xdeadbeef, "an arch-local key");
	select_key(FW_CFG_E820_TABLE & 0xff);
	cr_assert_eq(in(0x511, 1), 0x89, "key 3 (RAM_SIZE) is not key 0x8003");
}

Test(fw_cfg, file_dir_is_big_endian_sorted_with_selectors)
{
	struct error e = { "" };
	uint8_t dir[4 + 3 * 64], z[56] = { 0 };
	static const struct { const char *name; uint32_t size; uint16_t sel; } want[] = {
		{ "etc/e820", 20, 0x21 }, { "opt/a", 0, 0x22 }, { "opt/z", 3, 0x20 },
	};
	char data[3];

	mk_fw();
	select_key(FW_CFG_FILE_DIR);
	read_data(dir, 5);
	cr_assert_eq(get_be(dir, 4), 0, "no files yet");
	cr_assert_eq(dir[4], 0);

	cr_assert_eq(fw_cfg_add_file(fw, "opt/z", "xyz", 3, &e), 0, "%s", e.msg);
	cr_assert_eq(fw_cfg_add_file(fw, "etc/e820", z, 20, &e), 0, "%s", e.msg);
	cr_assert_eq(fw_cfg_add_file(fw, "opt/a", NULL, 0, &e), 0, "%s", e.msg);
	select_key(FW_CFG_FILE_DIR);
	read_data(dir, sizeof(dir));
	cr_assert_eq(get_be(dir, 4), 3);
	for (unsigned i = 0; i < 3; i++) {
		const uint8_t *f = dir + 4 + 64 * i;

		cr_assert_eq(get_be(f, 4), want[i].size, "entry %u", i);
		cr_assert_eq(get_be(f + 4, 2), want[i].sel, "entry %u", i);
		cr_assert_eq(get_be(f + 6, 2), 0, "reserved");
		cr_assert_str_eq((const char *)f + 8, want[i].name);
		cr_assert_eq(memcmp(f + 8 + strlen(want[i].name), z,
				    56 - strlen(want[i].name)), 0, "zero-padded");
	}
	cr_assert_eq(in(0x511, 1), 0, "past the directory");
	select_key(0x20);
	read_data(data, 3);
	cr_assert_eq(memcmp(data, "xyz", 3), 0, "a file by its selector");
}

Test(fw_cfg, past_the_end_and_unknown_keys_read_zero)
{
	static const uint16_t keys[] = { FW_CFG_UUID, 0x3f, 0x40, 0x1234, 0x8005,
					 0xbfff, 0xffff };
	uint8_t b[8];

	mk_fw();
	read_data(b, 8);
	cr_assert_eq(memcmp(b, "QEMU\0\0\0\0", 8), 0);
	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		select_key(keys[i]);
		read_data(b, 2);
		cr_assert(b[0] == 0 && b[1] == 0, "key %#x", keys[i]);
	}
}

Test(fw_cfg, selecting_resets_the_offset)
{
	char b[3] = "";

	mk_fw();
	read_data(b, 2);
	select_key(FW_CFG_SIGNATURE);
	read_data(b, 2);
	cr_assert_str_eq(b, "QE");
	select_key(FW_CFG_WRITE_CHANNEL | FW_CFG_SIGNATURE);
	read_data(b, 2);
	cr_assert_str_eq(b, "QE", "the write bit selects the same item");
}

Test(fw_cfg, data_writes_and_narrow_selector_writes_are_ignored)
{
	char b[3] = "";

	mk_fw();
	select_key(FW_CFG_SIGNATURE);
	out(0x511, 'X', 1);
	out(0x510, FW_CFG_ID, 1);	/* a byte: a data write, not a select */
	read_data(b, 2);
	cr_assert_str_eq(b, "QE", "offset and item unchanged");
	cr_assert_eq(in(0x510, 2), 0xffff, "the selector is write-only");
	cr_assert_eq(in(0x511, 1), 'M', "and reading it moved nothing");
	out(0x510, FW_CFG_ID, 4);	/* cut at 0x512, as QEMU: selects */
	cr_assert_eq(in(0x511, 1), 0x03);
}

/* ---- DMA ---- */

Test(fw_cfg, dma_select_and_read)
{
	struct error e = { "" };

	mk_fw();
	cr_assert_eq(fw_cfg_add_i16(fw, FW_CFG_NB_CPUS, 4, &e), 0);
	memset(ram.host + BUF, 0xaa, 4);
	cr_assert_eq(dma(FW_CFG_NB_CPUS << 16 | CTL_SELECT | CTL_READ, 2, BUF), 0);
	cr_assert(ram.host[BUF] == 4 && ram.host[BUF + 1] == 0);
	cr_assert(ram.host[BUF + 2] == 0xaa, "not a byte more");
	cr_assert_eq(get_be(ram.host + DESC + 4, 4), 2, "length left as it was");
	cr_assert_eq(in(0x511, 1), 0, "the port sees the same selection, at its end");
}

Test(fw_cfg, dma_skip_then_read_across_the_end)
{
	mk_fw();
	memset(ram.host + BUF, 0xaa, 16);
	cr_assert_eq(dma(CTL_SELECT | CTL_SKIP, 1, 0), 0, "key 0 in bits 31:16");
	cr_assert_eq(dma(CTL_READ, 8, BUF), 0);
	cr_assert_eq(memcmp(ram.host + BUF, "EMU\0\0\0\0\0", 8), 0);
	cr_assert_eq(ram.host[BUF + 8], 0xaa);
	cr_assert_eq(dma(CTL_SELECT | CTL_READ, 8, BUF), 0);
	cr_assert_eq(memcmp(ram.host + BUF, "QEMU\0\0\0\0", 8), 0, "reselected");
	cr_assert_eq(dma((0x1234u << 16) | CTL_SELECT | CTL_READ, 4, BUF), 0);
	cr_assert_eq(memcmp(ram.host + BUF, "\0\0\0\0", 4), 0, "unknown: zeros");
}

Test(fw_cfg, dma_into_a_buffer_outside_ram_fails_and_touches_nothing)
{
	static const uint64_t bad[] = { RAM_SIZE, RAM_SIZE - 2, ROM_BASE,
					ROM_BASE + ROM_SIZE, UINT64_MAX - 1 };
	static uint8_t before[RAM_SIZE];

	mk_fw();
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_desc(DESC, CTL_SELECT | CTL_READ, 4, bad[i]);
		memcpy(before, ram.host, RAM_SIZE);
		dma_kick(DESC);
		cr_assert_eq(get_be(ram.host + DESC, 4), CTL_ERROR, "%#lx", bad[i]);
		put_be(before + DESC, CTL_ERROR, 4);
		cr_assert_eq(memcmp(before, ram.host, RAM_SIZE), 0, "only the control word");
		cr_assert_eq(rom.host[0], 0x5a, "ROM is not written");
	}
	cr_assert_eq(in(0x511, 1), 'Q', "the offset did not move");
}

Test(fw_cfg, descriptor_outside_ram_does_nothing)
{
	static const uint64_t bad[] = { RAM_SIZE - 8, RAM_SIZE, ROM_BASE,
					0x100000000ull + DESC, UINT64_MAX - 7 };
	static uint8_t before[RAM_SIZE];

	mk_fw();
	put_desc(DESC, FW_CFG_ID << 16 | CTL_SELECT | CTL_READ, 4, BUF);
	memcpy(ram.host + RAM_SIZE - 8, ram.host + DESC, 8);	/* straddles */
	memcpy(before, ram.host, RAM_SIZE);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dma_kick(bad[i]);
		cr_assert_eq(memcmp(before, ram.host, RAM_SIZE), 0, "%#lx", bad[i]);
	}
	cr_assert_eq(in(0x511, 1), 'Q', "nothing was selected");
}

Test(fw_cfg, dma_writes_fail)
{
	mk_fw();
	memset(ram.host + BUF, 'w', 4);
	cr_assert_eq(dma(CTL_SELECT | CTL_WRITE, 4, BUF), CTL_ERROR);
	cr_assert_eq(dma(CTL_WRITE | CTL_SKIP, 4, BUF), CTL_ERROR, "write wins over skip");
	cr_assert_eq(memcmp(ram.host + BUF, "wwww", 4), 0);
	cr_assert_eq(dma(CTL_WRITE | CTL_READ, 4, BUF), 0, "read wins over write");
	cr_assert_eq(memcmp(ram.host + BUF, "QEMU", 4), 0, "the offset had not moved");
}

Test(fw_cfg, dma_length_zero)
{
	mk_fw();
	cr_assert_eq(dma(CTL_SELECT | CTL_READ, 0, RAM_SIZE * 16), 0,
		     "nothing to move: no buffer to check");
	cr_assert_eq(dma(CTL_SKIP, 0, 0), 0);
	cr_assert_eq(in(0x511, 1), 'Q');
}

Test(fw_cfg, dma_length_4g)
{
	mk_fw();
	cr_assert_eq(dma(CTL_SELECT | CTL_READ, UINT32_MAX, 0), CTL_ERROR,
		     "4 GiB is more than the RAM");
	cr_assert_eq(dma(CTL_SKIP, UINT32_MAX, 0), 0);
	cr_assert_eq(in(0x511, 1), 0, "skipped to the end");
	cr_assert_eq(dma(CTL_SKIP, UINT32_MAX, 0), 0, "and stays there");
	cr_assert_eq(in(0x511, 1), 0);
}

Test(fw_cfg, dma_control_bits)
{
	mk_fw();
	cr_assert_eq(dma(0xffe0u | CTL_ERROR | CTL_READ, 2, BUF), 0,
		     "unknown bits and a stale error bit are ignored");
	cr_assert_eq(memcmp(ram.host + BUF, "QE", 2), 0);
	cr_assert_eq(dma(FW_CFG_ID << 16 | CTL_SELECT, 4, BUF), 0, "select only");
	cr_assert_eq(in(0x511, 1), 0x03);
	cr_assert_eq(dma(0, 4, BUF), 0, "no operation");
	cr_assert_eq(in(0x511, 1), 0);
}

Test(fw_cfg, dma_address_register_halves)
{
	uint64_t be;

	mk_fw();
	put_desc(DESC, CTL_SELECT | CTL_READ, 4, BUF);
	out(0x514, __builtin_bswap32(1), 4);		/* high half: 1 */
	out(0x518, __builtin_bswap32(DESC), 4);		/* 0x1_0000_1000 */
	cr_assert_eq(get_be(ram.host + DESC, 4), CTL_SELECT | CTL_READ,
		     "not RAM: nothing happened");
	out(0x518, __builtin_bswap32(DESC), 4);
	cr_assert_eq(get_be(ram.host + DESC, 4), 0, "the high half was reset to 0");
	cr_assert_eq(memcmp(ram.host + BUF, "QEMU", 4), 0);

	put_desc(DESC, CTL_SELECT | CTL_SKIP, 2, 0);
	be = __builtin_bswap64(DESC);
	address_space_write(io_as, 0x514, &be, 8);	/* one 64-bit write */
	cr_assert_eq(get_be(ram.host + DESC, 4), 0);
	cr_assert_eq(in(0x511, 1), 'M');
	put_desc(DESC, CTL_SELECT | CTL_SKIP, 2, 0);
	out(0x514, __builtin_bswap32(DESC), 2);		/* refused */
	out(0x515, __builtin_bswap32(DESC), 4);		/* misaligned: refused */
	cr_assert_eq(get_be(ram.host + DESC, 4), CTL_SELECT | CTL_SKIP);
	out(0x518, __builtin_bswap32(DESC), 4);
	cr_assert_eq(get_be(ram.host + DESC, 4), 0, "the high half is still 0");
}

/* DMA select + read is one step: other vCPUs selecting at the same time
 * never mix into it. */
struct reader {
	uint64_t desc, buf;
	uint16_t key;
	const char *want;
	unsigned bad;
};

static void *reader_thread(void *arg)
{
	struct reader *r = arg;
	size_t n = strlen(r->want);

	for (int i = 0; i < 2000; i++) {
		put_desc(r->desc, (uint32_t)r->key << 16 | CTL_SELECT | CTL_READ,
			 (uint32_t)n, r->buf);
		dma_kick(r->desc);
		if (get_be(ram.host + r->desc, 4) ||
		    memcmp(ram.host + r->buf, r->want, n))
			r->bad++;
	}
	return NULL;
}

Test(fw_cfg, dma_select_and_read_is_atomic)
{
	struct error e = { "" };
	struct reader r[2] = {
		{ 0x100, 0x200, 0x20, "the first file, a long one", 0 },
		{ 0x300, 0x400, 0x21, "and the second", 0 },
	};
	pthread_t t[2];

	mk_fw();
	cr_assert_eq(fw_cfg_add_file(fw, "opt/1", r[0].want, strlen(r[0].want), &e), 0);
	cr_assert_eq(fw_cfg_add_file(fw, "opt/2", r[1].want, strlen(r[1].want), &e), 0);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, reader_thread, &r[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(r[0].bad + r[1].bad, 0);
}

/* ---- the board's API ---- */

Test(fw_cfg, add_errors)
{
	struct error e = { "" };
	char name[57];
	uint8_t x = 1, count[4];

	mk_fw();
	cr_assert_eq(fw_cfg_add_i32(fw, FW_CFG_RAM_SIZE, 1, &e), 0);
	cr_assert_eq(fw_cfg_add_i64(fw, FW_CFG_RAM_SIZE, 2, &e), -1);
	cr_assert_str_eq(e.msg, "fw_cfg: key 0x3 is already set");
	cr_assert_eq(fw_cfg_add_bytes(fw, FW_CFG_SIGNATURE, "ABCD", 4, &e), -1,
		     "the device's own");
	cr_assert_eq(fw_cfg_add_i32(fw, FW_CFG_ID, 1, &e), -1);
	cr_assert_eq(fw_cfg_add_bytes(fw, FW_CFG_FILE_DIR, &x, 1, &e), -1);
	cr_assert_eq(fw_cfg_add_i16(fw, FW_CFG_FILE_FIRST, 1, &e), -1);
	cr_assert_str_eq(e.msg, "fw_cfg: 0x20 is not an item key");
	cr_assert_eq(fw_cfg_add_i16(fw, FW_CFG_WRITE_CHANNEL | FW_CFG_UUID, 1, &e), -1);
	cr_assert_eq(fw_cfg_add_i16(fw, 0xffff, 1, &e), -1);
	cr_assert_eq(fw_cfg_add_bytes(fw, FW_CFG_UUID, &x, (size_t)UINT32_MAX + 1, &e), -1);
	cr_assert(strstr(e.msg, "too large"), "%s", e.msg);
	select_key(FW_CFG_SIGNATURE);
	cr_assert_eq(in(0x511, 1), 'Q', "unchanged");
	select_key(FW_CFG_RAM_SIZE);
	cr_assert_eq(in(0x511, 1), 1, "the first value stays");

	memset(name, 'n', sizeof(name));
	name[55] = '\0';
	cr_assert_eq(fw_cfg_add_file(fw, name, &x, 1, &e), 0, "55 bytes fit");
	name[55] = 'n';
	name[56] = '\0';
	cr_assert_eq(fw_cfg_add_file(fw, name, &x, 1, &e), -1, "56 do not");
	cr_assert(strstr(e.msg, "longer than 55 bytes"), "%s", e.msg);
	cr_assert_eq(fw_cfg_add_file(fw, "opt/x", &x, 1, &e), 0);
	cr_assert_eq(fw_cfg_add_file(fw, "opt/x", &x, 1, &e), -1);
	cr_assert_str_eq(e.msg, "fw_cfg: duplicate file name 'opt/x'");
	cr_assert_eq(fw_cfg_add_file(fw, "opt/big", &x, (size_t)UINT32_MAX + 1, &e), -1);
	cr_assert_eq(fw_cfg_add_file(fw, "opt/big", &x, 1, &e), 0,
		     "a failed add leaves no trace");
	select_key(FW_CFG_FILE_DIR);
	read_data(count, 4);
	cr_assert_eq(get_be(count, 4), 3);
}

Test(fw_cfg, too_many_files)
{
	struct error e = { "" };
	char name[16];
	uint8_t b[4 + 64];

	mk_fw();
	for (unsigned i = 0; i < FW_CFG_FILE_SLOTS; i++) {
		snprintf(name, sizeof(name), "opt/%02u", FW_CFG_FILE_SLOTS - 1 - i);
		cr_assert_eq(fw_cfg_add_file(fw, name, name, 6, &e), 0, "%s", e.msg);
	}
	cr_assert_eq(fw_cfg_add_file(fw, "opt/more", "x", 1, &e), -1);
	cr_assert_str_eq(e.msg, "fw_cfg: too many files (at most 32)");
	select_key(FW_CFG_FILE_DIR);
	read_data(b, sizeof(b));
	cr_assert_eq(get_be(b, 4), FW_CFG_FILE_SLOTS);
	cr_assert_str_eq((char *)b + 12, "opt/00");
	cr_assert_eq(get_be(b + 8, 2), FW_CFG_FILE_FIRST + FW_CFG_FILE_SLOTS - 1,
		     "added last");
	select_key(FW_CFG_FILE_FIRST + FW_CFG_FILE_SLOTS - 1);
	read_data(b, 6);
	cr_assert_eq(memcmp(b, "opt/00", 6), 0);
}

/* ---- the device ---- */

Test(fw_cfg, items_added_before_realize)
{
	struct error e = { "" };
	uint8_t b[4];

	fw = mk();
	cr_assert_eq(fw_cfg_add_file(fw, "opt/early", "early", 5, &e), 0);
	cr_assert_eq(fw_cfg_add_i16(fw, FW_CFG_NB_CPUS, 3, &e), 0);
	realize(fw);
	select_key(FW_CFG_NB_CPUS);
	cr_assert_eq(in(0x511, 1), 3);
	select_key(FW_CFG_FILE_DIR);
	read_data(b, 4);
	cr_assert_eq(get_be(b, 4), 1);
}

Test(fw_cfg, realize_needs_ports_and_dma)
{
	struct error e = { "" };
	struct device *d = mk();

	env.dma = NULL;
	cr_assert_eq(device_realize(d, &env, &e), -1);
	cr_assert(strstr(e.msg, "fw_cfg_io"), "%s", e.msg);
	env = (struct device_env){ .dma = sys_as };
	cr_assert_eq(device_realize(d, &env, &e), -1, "no I/O space");
	cr_assert_null(io_root.subregions);
}

Test(fw_cfg, is_a_device_the_board_makes)
{
	struct object_class *oc = object_class_by_name(TYPE_FW_CFG_IO);
	const struct memory_region *hit = NULL;
	uint8_t b;

	cr_assert_not_null(oc);
	cr_assert(object_class_is_a(oc, TYPE_DEVICE));
	cr_assert_not(DEVICE_CLASS(oc)->user_creatable);
	mk_fw();
	address_space_rw(io_as, 0x511, &b, 1, false, &hit);
	cr_assert_str_eq(hit->name, "fw_cfg ctl/data");
	address_space_rw(io_as, 0x51b, &b, 1, false, &hit);
	cr_assert_str_eq(hit->name, "fw_cfg dma");
	address_space_rw(io_as, 0x512, &b, 1, false, &hit);
	cr_assert_null(hit, "0x512-0x513 are not decoded");
}
