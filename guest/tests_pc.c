/* The PC's firmware interfaces as QEMU's `-M pc -kernel` shows them to a
 * multiboot guest: the multiboot info, fw_cfg, CMOS and the RTC, ACPI's
 * tables, PM timer and S3. QEMU -M pc is the reference; each test skips,
 * with the reason, where the machine lacks the device.
 *
 * Guest code at CPL0 may run in KVM's instruction emulator (~1 us per
 * instruction on kvm_pvm hosts): waits here poll a device register, a few
 * port exits per round, and are bounded by the TSC. */
#include "acpi.h"
#include "apic.h"
#include "boot.h"
#include "cmos.h"
#include "fw_cfg.h"
#include "lib.h"
#include "serial.h"
#include "smp.h"
#include "tests.h"

#define FOUR_GIB	0x100000000ull
#define MIB		0x100000ull

/* The multiboot v1 info's other flags and its module list (Multiboot
 * Specification 0.6.96, 3.3). */
#define MBI_BOOT_DEVICE	(1u << 1)
#define MBI_MODS	(1u << 3)
/* What QEMU's multiboot loader sets: tinyvmm sets the same. */
#define MBI_QEMU_FLAGS	(MBI_MEM | MBI_BOOT_DEVICE | MBI_CMDLINE | MBI_MODS | \
			 MBI_MMAP | MBI_LOADER_NAME)
#define MAX_MODULES	16

struct multiboot_module {
	uint32_t start, end, string, reserved;	/* [start, end) */
} __attribute__((packed));

/* How much of the top of low RAM firmware may keep out of the memory map
 * (SeaBIOS: 128 KiB for its tables; tinyvmm: 64 KiB for its ACPI tables). */
#define FIRMWARE_SLACK	MIB

/* The TSC's rate, measured once against the LAPIC timer (apic.c). */
static uint64_t tsc_khz_cached(void)
{
	static uint64_t khz;

	if (!khz) {
		apic_enable();
		khz = tsc_khz(10);
	}
	return khz;
}

static uint64_t tsc_ms_since(uint64_t t0)
{
	return (rdtsc() - t0) / tsc_khz_cached();
}

/* The value of "@key=..." among the space-separated words of @s (as far as
 * the next space), or 0. */
static const char *word_value(const char *s, const char *key)
{
	size_t n = strlen(key);

	while (s && *s) {
		while (*s == ' ')
			s++;
		if (!strncmp(s, key, n))
			return s + n;
		while (*s && *s != ' ')
			s++;
	}
	return 0;
}

static const char *mbi_str(uint32_t addr)
{
	return addr ? (const char *)(uintptr_t)addr : "";
}

static const char *cmdline(void)
{
	return boot_mbi && (boot_mbi->flags & MBI_CMDLINE) ? mbi_str(boot_mbi->cmdline) : "";
}

/* The memory map's RAM: the end of the highest range below 4 GiB, and the
 * total at and above 4 GiB. */
static void map_ram(uint64_t *low_top, uint64_t *high)
{
	uint64_t s, e;

	*low_top = *high = 0;
	for (uint64_t a = 0; boot_ram_above(a, &s, &e); a = e)
		if (s < FOUR_GIB)
			*low_top = e;
		else
			*high += e - s;
}

/* ---- multiboot-info ---- */

static void print_flags(uint32_t flags)
{
	static const char *const names[] = { "mem", "boot_device", "cmdline", "mods",
		"aout_syms", "elf_shdr", "mmap", "drives", "config_table",
		"loader_name", "apm_table", "vbe", "framebuffer" };
	char buf[160];
	size_t n = 0;

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (flags & (1u << i))
			n += snprintf(buf + n, sizeof(buf) - n, " %s", names[i]);
	tap_diag("mbi flags %#x:%s", flags, n ? buf : " none");
}

/* The memory map, every entry whatever its type (the specification asks
 * for no order: QEMU's microvm lists one range out of order, and ends with
 * an empty entry of type 0); -1 if an entry's size field cannot be right. */
static int print_mmap(void)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)boot_mbi->mmap_addr;
	const uint8_t *end = p + boot_mbi->mmap_length;

	while (p < end) {
		const struct multiboot_mmap_entry *e = (const void *)p;

		tap_diag("mbi mmap [%#llx, %#llx) type %u (entry size %u)",
			 (unsigned long long)e->addr, (unsigned long long)(e->addr + e->len),
			 e->type, e->size);
		if (e->size < 20) {
			tap_diag("entry size below 20");
			return -1;
		}
		p += e->size + 4;
	}
	return 0;
}

/* The module contract with tests/boot/test_pc.c: a module whose command
 * line has the word "pattern" holds 64-bit words MODULE_WORD(i). */
#define MODULE_WORD(i)	(0x6d6f645f00000000ull | (i))

static int check_module(unsigned i, const struct multiboot_module *m)
{
	const uint64_t *w = (const void *)(uintptr_t)m->start;
	uint64_t s, e, words = (m->end - m->start) / 8;

	tap_diag("mbi module %u: [%#x, %#x) '%s'", i, m->start, m->end, mbi_str(m->string));
	if (m->end <= m->start || !boot_ram_range(m->start, &s, &e) || m->end > e) {
		tap_diag("module %u is empty or not inside RAM of the memory map", i);
		return -1;
	}
	if (!word_value(mbi_str(m->string), "pattern"))
		return 0;
	if (m->end - m->start != words * 8) {
		tap_diag("module %u: not whole 64-bit words", i);
		return -1;
	}
	for (uint64_t k = 0; k < words; k++)
		if (w[k] != MODULE_WORD(k)) {
			tap_diag("module %u word %llu is %#llx", i, (unsigned long long)k,
				 (unsigned long long)w[k]);
			return -1;
		}
	tap_diag("module %u: pattern ok (%llu words)", i, (unsigned long long)words);
	return 0;
}

int test_multiboot_info(void)
{
	const struct multiboot_info *mbi = boot_mbi;
	const struct multiboot_module *mods;
	uint64_t s, e;
	int ret = 0;

	if (!mbi) {
		tap_diag("no multiboot info");
		return -1;
	}
	print_flags(mbi->flags);
	tap_diag("mbi mem_lower %u KiB, mem_upper %u KiB, boot_device %#x",
		 mbi->mem_lower, mbi->mem_upper, mbi->boot_device);
	tap_diag("mbi cmdline '%s'", cmdline());
	tap_diag("mbi loader '%s'", mbi->flags & MBI_LOADER_NAME ?
		 mbi_str(mbi->boot_loader_name) : "");
	if ((mbi->flags & MBI_QEMU_FLAGS) != MBI_QEMU_FLAGS) {
		tap_diag("flags lack %#x (QEMU sets them all)",
			 MBI_QEMU_FLAGS & ~mbi->flags);
		return -1;
	}
	if (print_mmap())
		ret = -1;
	/* mem_lower: the RAM from 0, up to 640 KiB (mem_upper: see multiboot) */
	if (mbi->mem_lower > 640 || !boot_ram_range(0, &s, &e) || e >> 10 != mbi->mem_lower) {
		tap_diag("mem_lower disagrees with the memory map's RAM at 0");
		ret = -1;
	}
	tap_diag("mbi mods_count %u at %#x", mbi->mods_count, mbi->mods_addr);
	if (mbi->mods_count > MAX_MODULES) {
		tap_diag("more than %u modules", MAX_MODULES);
		return -1;
	}
	mods = (const void *)(uintptr_t)mbi->mods_addr;
	for (unsigned i = 0; i < mbi->mods_count; i++)
		if (check_module(i, &mods[i]))
			ret = -1;
	return ret;
}

/* ---- fw-cfg ---- */

struct e820_entry {
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

#define E820_MAX	64
#define E820_RAM	1

static struct e820_entry e820_port[E820_MAX], e820_dma[E820_MAX];

/* Every RAM range of the multiboot map lies inside one etc/e820 RAM
 * entry, and every e820 RAM entry holds some of the map's RAM. */
static int e820_agrees(const struct e820_entry *t, unsigned n)
{
	uint64_t s, e;
	unsigned i;

	for (i = 0; i < n; i++) {
		tap_diag("etc/e820 [%#llx, %#llx) type %u", (unsigned long long)t[i].addr,
			 (unsigned long long)(t[i].addr + t[i].len), t[i].type);
		if (t[i].type == E820_RAM &&
		    !boot_ram_overlaps(t[i].addr, t[i].len, &e)) {
			tap_diag("e820 RAM entry %u is no RAM in the multiboot map", i);
			return -1;
		}
	}
	for (uint64_t a = 0; boot_ram_above(a, &s, &e); a = e) {
		for (i = 0; i < n; i++)
			if (t[i].type == E820_RAM && s >= t[i].addr &&
			    e <= t[i].addr + t[i].len)
				break;
		if (i == n) {
			tap_diag("multiboot RAM [%#llx, %#llx) is in no e820 RAM entry",
				 (unsigned long long)s, (unsigned long long)e);
			return -1;
		}
	}
	return 0;
}

/* etc/e820 by both interfaces: the same bytes, and they agree with the
 * multiboot map. */
static int check_e820(const struct fw_cfg_file *f)
{
	unsigned n = f->size / sizeof(struct e820_entry);

	if (f->size % sizeof(struct e820_entry) || n > E820_MAX || !n) {
		tap_diag("etc/e820 is %u bytes", f->size);
		return -1;
	}
	fw_cfg_read(f->select, e820_port, f->size);
	memset(e820_dma, 0xa5, sizeof(e820_dma));
	if (fw_cfg_dma_read(f->select, e820_dma, f->size) ||
	    memcmp(e820_port, e820_dma, f->size)) {
		tap_diag("DMA read of etc/e820 failed or differs from the port read");
		return -1;
	}
	return e820_agrees(e820_port, n);
}

/* The directory, sorted by name (QEMU sorts it), listed; etc/e820 and the
 * user file are looked at. */
static int check_files(void)
{
	struct fw_cfg_file f, e820 = { 0 }, user = { 0 };
	char prev[sizeof(f.name)] = "";
	uint32_t n = fw_cfg_dir_open();

	tap_diag("fw_cfg FILE_DIR: %u files", n);
	for (uint32_t i = 0; i < n; i++) {
		fw_cfg_dir_next(&f);
		tap_diag("fw_cfg file %#x %s (%u bytes)", f.select, f.name, f.size);
		if (i && strcmp(prev, f.name) >= 0) {
			tap_diag("not sorted: '%s' after '%s'", f.name, prev);
			return -1;
		}
		memcpy(prev, f.name, sizeof(prev));
		if (!strcmp(f.name, "etc/e820"))
			e820 = f;
		if (!strcmp(f.name, "opt/tinyvmm/test"))
			user = f;
	}
	if (!e820.select) {
		tap_diag("no etc/e820");
		return -1;
	}
	if (check_e820(&e820))
		return -1;
	if (!user.select) {
		tap_diag("no opt/tinyvmm/test: user file not checked");
		return 0;
	}
	memset(prev, 0, sizeof(prev));
	fw_cfg_read(user.select, prev, user.size < sizeof(prev) ? user.size : sizeof(prev) - 1);
	tap_diag("opt/tinyvmm/test: '%s'", prev);
	return user.size == 5 && !strcmp(prev, "hello") ? 0 : -1;
}

int test_fw_cfg(void)
{
	struct madt_info mi;
	const char *why;
	uint32_t id = 0;
	uint16_t ncpus = 0;
	uint64_t ram = 0, low_top, high;

	if (!fw_cfg_present()) {
		tap_skip("no fw_cfg at port 0x510");
		return 0;
	}
	fw_cfg_read(FW_CFG_ID, &id, sizeof(id));
	fw_cfg_read(FW_CFG_NB_CPUS, &ncpus, sizeof(ncpus));
	fw_cfg_read(FW_CFG_RAM_SIZE, &ram, sizeof(ram));
	map_ram(&low_top, &high);
	tap_diag("fw_cfg ID %#x, NB_CPUS %u, RAM_SIZE %#llx (map: low RAM to %#llx, %#llx above 4 GiB)",
		 id, ncpus, (unsigned long long)ram, (unsigned long long)low_top,
		 (unsigned long long)high);
	if (!(id & FW_CFG_ID_DMA)) {
		tap_diag("ID lacks the DMA bit");
		return -1;
	}
	if (acpi_read_madt(&mi, &why) || mi.ncpus != ncpus) {
		tap_diag("NB_CPUS %u, MADT: %u CPUs", ncpus, mi.ncpus);
		return -1;
	}
	if (ram < low_top + high || ram - (low_top + high) >= FIRMWARE_SLACK) {
		tap_diag("RAM_SIZE disagrees with the memory map");
		return -1;
	}
	return check_files();
}

/* ---- cmos-time ---- */

/* The RTC may differ from the host's clock by this much, beyond the time
 * the guest has run and, where there is firmware, its start-up: QEMU's
 * SeaBIOS runs in KVM's emulator on kvm_pvm hosts, 5 s idle, 50 s seen on
 * a busy one. tinyvmm runs no firmware. */
#define CMOS_TIME_SLACK_S	10
#define FIRMWARE_START_S	120

int test_cmos_time(void)
{
	struct rtc_time t;
	const char *host = word_value(cmdline(), "time=");
	uint8_t b = cmos_read(RTC_REG_B);
	int64_t diff, ran;
	uint64_t epoch = 0;

	if (!rtc_present()) {
		tap_skip("no RTC at ports 0x70/0x71");
		return 0;
	}
	if (!rtc_read_time(&t)) {
		tap_diag("the time registers never settled");
		return -1;
	}
	tap_diag("RTC %u-%02u-%02u %02u:%02u:%02u (%s, %s), century %#x, register B %#x",
		 t.year, t.month, t.day, t.hour, t.min, t.sec,
		 b & RTC_B_DM_BINARY ? "binary" : "BCD", b & RTC_B_24H ? "24 h" : "12 h",
		 cmos_read(CMOS_CENTURY), b);
	if (t.sec > 59 || t.min > 59 || t.hour > 23 || !t.day || t.day > 31 ||
	    !t.month || t.month > 12 || t.year < 2000 || t.year > 2099) {
		tap_diag("not a date of this century");
		return -1;
	}
	if (!host) {
		tap_diag("no time=EPOCH on the command line: not compared");
		return 0;
	}
	while (*host >= '0' && *host <= '9')
		epoch = epoch * 10 + (uint64_t)(*host++ - '0');
	/* time= is the host's clock before the VM started: the RTC is ahead
	 * by the VMM's and firmware's start-up and by our own run so far,
	 * which the TSC measures (it need not start at 0 with the VM). */
	diff = (int64_t)(rtc_to_epoch(&t) - epoch);
	ran = tsc_khz_cached() ? (int64_t)tsc_ms_since(guest_start_tsc) / 1000 : 0;
	tap_diag("RTC - host time = %lld s, of which the guest ran %lld s", (long long)diff,
		 (long long)ran);
	return diff - ran >= -CMOS_TIME_SLACK_S && diff - ran <= CMOS_TIME_SLACK_S +
	       (boot_on_tinyvmm() ? 0 : FIRMWARE_START_S) ? 0 : -1;
}

/* ---- rtc-flags ---- */

#define UIP_WAIT_MS	5000	/* 5 updates: UIP lasts 244 us, a poll ~150 */
/* UIP must fall, not within 244 us: QEMU holds it until its update timer
 * has run, which its main loop does late on a loaded host (over 10 ms
 * seen under TCG). A stuck UIP still fails. */
#define UIP_FALL_MS	1000
#define UF_WAIT_MS	1500	/* ~1.1 s asked: a gross bound */
#define ALARM_AHEAD_S	2
#define ALARM_WAIT_MS	4000

/* Polls register @reg until (value & @mask) == @want or @ms pass; whether
 * it got there, and after how many polls. One port access a poll: UIP is
 * up for only 244 us, and a port exit costs tens of microseconds. The time
 * is taken before each read, so the last read comes after the deadline: a
 * vCPU preempted between a read and the clock check (10 ms and more on a
 * loaded host) does not time out on a stale value. */
static bool poll_cmos(uint8_t reg, uint8_t mask, uint8_t want, unsigned ms, long *polls)
{
	uint64_t t0 = rdtsc();
	bool late = false;
	uint8_t v = cmos_read(reg);

	for (*polls = 1; (v & mask) != want; ++*polls, v = cmos_read_again()) {
		if (late)
			return false;
		late = tsc_ms_since(t0) >= ms;
	}
	return true;
}

static int check_uip_and_uf(void)
{
	long rise, fall = 0, uf;
	bool ok = poll_cmos(RTC_REG_A, RTC_A_UIP, RTC_A_UIP, UIP_WAIT_MS, &rise) &&
		  poll_cmos(RTC_REG_A, RTC_A_UIP, 0, UIP_FALL_MS, &fall);
	uint64_t t0;

	tap_diag("register A %#x: UIP rose after %ld polls, fell after %ld more%s",
		 cmos_read(RTC_REG_A), rise, fall, ok ? "" : ": timed out");
	if (!ok)
		return -1;
	cmos_read(RTC_REG_C);
	t0 = rdtsc();
	ok = poll_cmos(RTC_REG_C, RTC_C_UF, RTC_C_UF, UF_WAIT_MS, &uf);
	tap_diag("UF after %llu ms (%ld polls)%s", (unsigned long long)tsc_ms_since(t0), uf,
		 ok ? "" : ": timed out");
	return ok ? 0 : -1;
}

/* The alarm ALARM_AHEAD_S seconds ahead, minutes and hours "don't care":
 * AF comes, not at once, and reading C clears it. */
static int check_alarm(void)
{
	struct rtc_time t;
	uint64_t t0, ms;
	long polls;
	bool got;

	if (!rtc_read_time(&t))
		return -1;
	cmos_write(RTC_SECONDS_ALARM, rtc_encode((t.sec + ALARM_AHEAD_S) % 60));
	cmos_write(RTC_MINUTES_ALARM, RTC_ALARM_DONT_CARE);
	cmos_write(RTC_HOURS_ALARM, RTC_ALARM_DONT_CARE);
	cmos_read(RTC_REG_C);
	t0 = rdtsc();
	got = poll_cmos(RTC_REG_C, RTC_C_AF, RTC_C_AF, ALARM_WAIT_MS, &polls);
	ms = tsc_ms_since(t0);
	tap_diag("alarm at second %u: AF after %llu ms", (t.sec + ALARM_AHEAD_S) % 60,
		 (unsigned long long)ms);
	/* the second may have ticked since it was read: half a second early
	 * is still not early */
	if (!got || ms < 1000 * (ALARM_AHEAD_S - 1) - 500) {
		tap_diag("AF never came, or came early");
		return -1;
	}
	if (cmos_read(RTC_REG_C) & RTC_C_AF) {
		tap_diag("reading register C did not clear AF");
		return -1;
	}
	return 0;
}

int test_rtc_flags(void)
{
	if (!rtc_present()) {
		tap_skip("no RTC at ports 0x70/0x71");
		return 0;
	}
	if (!tsc_khz_cached()) {
		tap_diag("no TSC rate: the LAPIC timer does not count");
		return -1;
	}
	return check_uip_and_uf() || check_alarm() ? -1 : 0;
}

/* ---- cmos-memory ---- */

static unsigned cmos_word(uint8_t lo)
{
	return cmos_read(lo) | (unsigned)cmos_read(lo + 1) << 8;
}

/* What QEMU's pc puts in CMOS (hw/i386/pc.c, pc_cmos_init): base memory
 * KiB (0x15), KiB above 1 MiB capped at 65535 (0x17 and 0x30), 64 KiB
 * units above 16 MiB (0x34) and above 4 GiB (0x5b, 24 bits), CPUs - 1
 * (0x5f). Checked against the memory map and the MADT. */
int test_cmos_memory(void)
{
	unsigned base = cmos_word(0x15), ext = cmos_word(0x17), ext2 = cmos_word(0x30);
	unsigned above16 = cmos_word(0x34), cpus = cmos_read(0x5f) + 1u;
	uint64_t above4g = cmos_word(0x5b) | (uint64_t)cmos_read(0x5d) << 16;
	uint64_t low_top, high, low;
	struct madt_info mi;
	const char *why;

	if (!rtc_present()) {
		tap_skip("no RTC at ports 0x70/0x71");
		return 0;
	}
	map_ram(&low_top, &high);
	low = above16 ? 16 * MIB + above16 * 0x10000ull : MIB + ext * 1024ull;
	tap_diag("CMOS base %u KiB, ext %u/%u KiB, >16M %u x 64K, >4G %llu x 64K, CPUs %u",
		 base, ext, ext2, above16, (unsigned long long)above4g, cpus);
	tap_diag("so low RAM ends at %#llx; map: %#llx, %#llx above 4 GiB",
		 (unsigned long long)low, (unsigned long long)low_top, (unsigned long long)high);
	if (base != 640 || ext != ext2 ||
	    ext != (low - MIB < 65535 * 1024ull ? (low - MIB) >> 10 : 65535)) {
		tap_diag("base or extended memory bytes disagree with each other");
		return -1;
	}
	if (low < low_top || low - low_top >= FIRMWARE_SLACK || above4g << 16 != high) {
		tap_diag("CMOS memory sizes disagree with the memory map");
		return -1;
	}
	if (acpi_read_madt(&mi, &why) || cpus != mi.ncpus) {
		tap_diag("CPU count %u, MADT %u", cpus, mi.ncpus);
		return -1;
	}
	return 0;
}

/* ---- acpi-tables ---- */

#define PC_SCI		9
#define PC_RESET_PORT	0xcf9
#define PC_RESET_VALUE	6	/* the reset control register: full reset */
#define FACS_ALIGN	64

/* The FADT of a machine with PM registers, or a skip/failure. */
static int pm_fadt(struct fadt_info *f)
{
	const char *why;

	if (acpi_read_fadt(f, &why)) {
		tap_diag("%s", why);
		return -1;
	}
	if (f->flags & FADT_HW_REDUCED) {
		tap_skip("hardware-reduced ACPI: no PM1 registers");
		return 1;
	}
	return 0;
}

static int check_checksums(void)
{
	const struct sdt_header *h;
	int ret = 0;

	for (unsigned i = 0; acpi_table_at(i, &h); i++) {
		bool ok = h && acpi_checksum_ok(h, h->length);
		char sig[5] = "none";

		if (h)
			memcpy(sig, h->sig, 4);
		tap_diag("table %u: %s at %p, %u bytes, revision %u, checksum %s", i, sig,
			 (const void *)h, h ? h->length : 0, h ? h->revision : 0,
			 ok ? "ok" : "BAD");
		if (!ok)
			ret = -1;
	}
	return ret;
}

static int check_fadt(const struct fadt_info *f)
{
	const struct acpi_gas *r = &f->reset_reg;

	tap_diag("FADT rev %u: SCI %u, SMI_CMD %#x, PM1a_EVT %#x/%u, PM1a_CNT %#x/%u (%#x), PM_TMR %#x/%u, flags %#x",
		 f->fadt->revision, f->sci, f->smi_cmd, f->pm1a_evt, f->pm1_evt_len,
		 f->pm1a_cnt, f->pm1_cnt_len, inw((uint16_t)f->pm1a_cnt), f->pm_tmr,
		 f->pm_tmr_len, f->flags);
	if (f->flags & FADT_RESET_REG_SUP)
		tap_diag("FADT reset register: space %u, width %u, address %#llx, value %#x",
			 r->space, r->bit_width, (unsigned long long)r->address,
			 f->reset_value);
	else
		tap_diag("FADT: no reset register");
	if (f->sci != PC_SCI || !f->pm1a_evt || f->pm1_evt_len < 4 || !f->pm1a_cnt ||
	    f->pm1_cnt_len < 2 || !f->pm_tmr || f->pm_tmr_len != 4) {
		tap_diag("want SCI %u and PM1a_EVT, PM1a_CNT, PM_TMR blocks", PC_SCI);
		return -1;
	}
	/* ACPI 6.5, 4.8.10.1: a platform without SMI_CMD is ACPI-only, with
	 * SCI_EN always set (else an OS cannot enter ACPI mode). */
	if (!f->smi_cmd && !(inw((uint16_t)f->pm1a_cnt) & PM1_CNT_SCI_EN)) {
		tap_diag("no SMI_CMD, yet SCI_EN is clear");
		return -1;
	}
	/* QEMU's pc has a revision 1 FADT, without one: none is no error. */
	if ((f->flags & FADT_RESET_REG_SUP) && (r->space != ACPI_GAS_IO ||
	    r->address != PC_RESET_PORT || f->reset_value != PC_RESET_VALUE)) {
		tap_diag("want the reset register at I/O port %#x, value %u", PC_RESET_PORT,
			 PC_RESET_VALUE);
		return -1;
	}
	return 0;
}

int test_acpi_tables(void)
{
	const struct acpi_facs *facs;
	struct fadt_info f;
	int r, s3, s5;

	if (!acpi_rsdp()) {
		tap_diag("no RSDP with good checksums");
		return -1;
	}
	tap_diag("RSDP at %p, revision %u", acpi_rsdp(),
		 ((const uint8_t *)acpi_rsdp())[15]);
	if (check_checksums())
		return -1;
	r = pm_fadt(&f);
	if (r)
		return r > 0 ? 0 : -1;
	if (check_fadt(&f))
		return -1;
	facs = (const void *)(uintptr_t)f.facs;
	tap_diag("FACS at %p, DSDT at %p, %u bytes", (const void *)facs,
		 (const void *)f.dsdt, f.dsdt->length);
	if (!facs || f.facs % FACS_ALIGN || memcmp(facs->sig, "FACS", 4) || facs->length < 64) {
		tap_diag("no FACS, or not 64-byte aligned, or shorter than 64 bytes");
		return -1;
	}
	s3 = acpi_sleep_type(f.dsdt, "_S3_");
	s5 = acpi_sleep_type(f.dsdt, "_S5_");
	tap_diag("DSDT: _S3_ SLP_TYP %d, _S5_ SLP_TYP %d", s3, s5);
	return s3 < 0 || s5 < 0 ? -1 : 0;
}

/* ---- pm-timer ---- */

#define PM_MEASURE_MS	100
#define TMR_STS_WAIT_MS	5000	/* the status bit toggles every 2.34 s */

static uint32_t pm_read(const struct fadt_info *f)
{
	return inl((uint16_t)f->pm_tmr);
}

/* Against the TSC over PM_MEASURE_MS: ratio within a factor of 2; the counter
 * never steps back (deltas masked to its width, so wrap is no step back)
 * and never shows bits above its width. */
static int check_rate(const struct fadt_info *f, uint32_t mask)
{
	uint64_t khz = tsc_khz_cached(), t0 = rdtsc(), ticks = 0, want, permille;
	uint32_t prev = pm_read(f), v;

	do {
		v = pm_read(f);
		if ((v & ~mask) || ((v - prev) & mask) > mask / 2) {
			tap_diag("PM timer read %#x after %#x", v, prev);
			return -1;
		}
		ticks += (v - prev) & mask;
		prev = v;
	} while (rdtsc() - t0 < PM_MEASURE_MS * khz);
	want = (rdtsc() - t0) * PM_TIMER_HZ / (khz * 1000);
	permille = want ? ticks * 1000 / want : 0;
	tap_diag("PM timer: %llu ticks where 3.579545 MHz gives %llu: ratio %llu.%03llu (TSC %llu kHz)",
		 (unsigned long long)ticks, (unsigned long long)want,
		 (unsigned long long)permille / 1000, (unsigned long long)permille % 1000,
		 (unsigned long long)khz);
	/* Gross errors only: the TSC's own calibration stretches on a loaded
	 * host (0.82 was seen), so within a factor of 2. */
	return permille >= 500 && permille <= 2000 ? 0 : -1;
}

/* TMR_STS sets when the counter's top bit changes, and clears when 1 is
 * written to it (ACPI 6.5, 4.8.3.1.1). */
static int check_tmr_sts(const struct fadt_info *f, uint32_t mask)
{
	uint32_t top = (mask >> 1) + 1, start;
	uint64_t t0;
	uint16_t sts;

	outw((uint16_t)f->pm1a_evt, PM1_TMR_STS);
	start = pm_read(f) & top;
	t0 = rdtsc();
	while ((pm_read(f) & top) == start)
		if (tsc_ms_since(t0) > TMR_STS_WAIT_MS) {
			tap_diag("the timer's top bit did not change");
			return -1;
		}
	sts = inw((uint16_t)f->pm1a_evt);
	outw((uint16_t)f->pm1a_evt, PM1_TMR_STS);
	tap_diag("top bit changed after %llu ms: PM1_STS %#x, then %#x after writing 1",
		 (unsigned long long)tsc_ms_since(t0), sts, inw((uint16_t)f->pm1a_evt));
	return (sts & PM1_TMR_STS) && !(inw((uint16_t)f->pm1a_evt) & PM1_TMR_STS) ? 0 : -1;
}

int test_pm_timer(void)
{
	struct fadt_info f;
	uint32_t mask;
	int r = pm_fadt(&f);

	if (r)
		return r > 0 ? 0 : -1;
	if (!f.pm_tmr) {
		tap_diag("the FADT has no PM timer");
		return -1;
	}
	if (!tsc_khz_cached()) {
		tap_diag("no TSC rate: the LAPIC timer does not count");
		return -1;
	}
	mask = f.flags & FADT_TMR_VAL_EXT ? 0xffffffffu : 0xffffffu;
	return check_rate(&f, mask) || check_tmr_sts(&f, mask) ? -1 : 0;
}

/* ---- acpi-s3 ---- */

#define S3_ALARM_AHEAD_S 2
#define S3_SLEEP_WAIT_MS 3000	/* the VMM stops the vCPU long before */
#define S3_PATTERN_WORDS 4096

static struct fadt_info s3_fadt;
static int s3_typ;
static uint64_t s3_pattern[S3_PATTERN_WORDS];

static uint16_t pm1_en_port(void)
{
	return (uint16_t)(s3_fadt.pm1a_evt + s3_fadt.pm1_evt_len / 2);
}

/* Called by s3_suspend with the registers saved: sleep, and wait to be
 * stopped; returning means the machine did not go to sleep. */
static void s3_sleep(void)
{
	acpi_enter_sleep(&s3_fadt, (unsigned)s3_typ);
	delay_ms(S3_SLEEP_WAIT_MS);
}

/* The RTC alarm, with its interrupt enabled (the wake-up event), and
 * RTC_EN: the alarm wakes the machine. */
static void arm_wake_alarm(void)
{
	struct rtc_time t;

	rtc_read_time(&t);
	cmos_write(RTC_SECONDS_ALARM, rtc_encode((t.sec + S3_ALARM_AHEAD_S) % 60));
	cmos_write(RTC_MINUTES_ALARM, RTC_ALARM_DONT_CARE);
	cmos_write(RTC_HOURS_ALARM, RTC_ALARM_DONT_CARE);
	cmos_read(RTC_REG_C);
	cmos_write(RTC_REG_B, cmos_read(RTC_REG_B) | RTC_B_AIE);
	outw((uint16_t)s3_fadt.pm1a_evt, PM1_WAK_STS | PM1_RTC_STS);
	outw(pm1_en_port(), inw(pm1_en_port()) | PM1_RTC_EN);
}

static int s3_prepare(void)
{
	int r = pm_fadt(&s3_fadt);
	struct acpi_facs *facs;

	if (r)
		return r;
	s3_typ = acpi_sleep_type(s3_fadt.dsdt, "_S3_");
	if (s3_typ < 0) {
		tap_skip("no _S3_ in the DSDT");
		return 1;
	}
	if (!rtc_present()) {
		tap_skip("no RTC alarm to wake up with");
		return 1;
	}
	facs = (void *)(uintptr_t)s3_fadt.facs;
	if (!facs || memcmp(facs->sig, "FACS", 4)) {
		tap_diag("no FACS for the waking vector");
		return -1;
	}
	facs->waking_vector = TRAMPOLINE_ADDR;
	facs->x_waking_vector = 0;
	memcpy((void *)TRAMPOLINE_ADDR, trampoline_start,
	       (size_t)(trampoline_end - trampoline_start));
	for (unsigned i = 0; i < S3_PATTERN_WORDS; i++)
		s3_pattern[i] = i * 0x9e3779b97f4a7c15ull;
	return 0;
}

int test_acpi_s3(void)
{
	uint16_t sts;
	int r = s3_prepare();

	if (r)
		return r > 0 ? 0 : -1;
	tap_diag("S3 (SLP_TYP %d), waking vector %#x, RTC alarm %u s ahead", s3_typ,
		 TRAMPOLINE_ADDR, S3_ALARM_AHEAD_S);
	arm_wake_alarm();
	if (!s3_suspend(s3_sleep)) {
		tap_diag("still running %u ms after SLP_EN", S3_SLEEP_WAIT_MS);
		return -1;
	}
	serial_init();		/* the reset on wake-up reset the UART too */
	pic_mask_all();
	sts = inw((uint16_t)s3_fadt.pm1a_evt);
	outw((uint16_t)s3_fadt.pm1a_evt, PM1_WAK_STS | PM1_RTC_STS);
	outw(pm1_en_port(), inw(pm1_en_port()) & ~PM1_RTC_EN);
	cmos_write(RTC_REG_B, cmos_read(RTC_REG_B) & ~RTC_B_AIE);
	tap_diag("woke up: PM1_STS %#x", sts);
	for (unsigned i = 0; i < S3_PATTERN_WORDS; i++)
		if (s3_pattern[i] != i * 0x9e3779b97f4a7c15ull) {
			tap_diag("RAM lost its pattern at word %u", i);
			return -1;
		}
	return sts & PM1_WAK_STS ? 0 : -1;
}
