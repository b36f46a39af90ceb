/* mbinfo: a multiboot v1 guest that prints every field of the multiboot
 * info on COM1, one "key=value" line each, then exits through the exit port
 * (0xf4) with the number of rule violations it saw (0: none). The same file
 * runs under QEMU (-M pc -kernel) and tinyvmm, so their outputs can be
 * compared line by line. 32-bit freestanding code, paging off. */
#include <stdint.h>

#define COM1		0x3f8
#define EXIT_PORT	0xf4
#define STR_MAX		256

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr, config_table, boot_loader_name;
	uint32_t apm_table, vbe_control_info, vbe_mode_info;
	uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off, vbe_interface_len;
} __attribute__((packed));

struct mb_module {
	uint32_t start, end, string, reserved;
};

struct mb_mmap {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

uint32_t entry_eax, entry_ebx, entry_esp, entry_eflags, entry_cr0, entered_by;
uint16_t entry_cs, entry_ds, entry_ss;
extern char mb_header[], _end[];
static unsigned violations;

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void put_char(char c)
{
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, (uint8_t)c);
}

static void put_str(const char *s)
{
	while (*s)
		put_char(*s++);
}

static void put_hex(uint64_t v)
{
	int shift = 60;

	put_str("0x");
	while (shift > 0 && !(v >> shift))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		put_char("0123456789abcdef"[(v >> shift) & 0xf]);
}

static void put_dec(uint32_t v)
{
	char buf[11];
	int i = 10;

	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_str(buf + i);
}

/* A string from the boot loader, quoted and cut at STR_MAX. */
static void put_guest_str(uint32_t addr)
{
	const char *s = (const char *)(uintptr_t)addr;

	put_char('"');
	for (int i = 0; i < STR_MAX && s[i]; i++)
		put_char(s[i]);
	put_str("\"\n");
}

static void field(const char *key, uint32_t v)
{
	put_str(key);
	put_char('=');
	put_hex(v);
	put_char('\n');
}

static void fail(const char *what)
{
	put_str("violation: ");
	put_str(what);
	put_char('\n');
	violations++;
}

static uint32_t checksum(const uint8_t *p, uint32_t len)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (len--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static void print_modules(const struct mb_info *mbi)
{
	const struct mb_module *m = (const void *)(uintptr_t)mbi->mods_addr;

	field("mods_count", mbi->mods_count);
	field("mods_addr", mbi->mods_addr);
	for (uint32_t i = 0; i < mbi->mods_count && i < 16; i++) {
		put_str("mod");
		put_dec(i);
		put_str(" start=");
		put_hex(m[i].start);
		put_str(" len=");
		put_hex(m[i].end - m[i].start);
		put_str(" fnv=");
		put_hex(checksum((const uint8_t *)(uintptr_t)m[i].start,
				 m[i].end - m[i].start));
		put_str(" string_addr=");
		put_hex(m[i].string);
		put_str(" string=");
		put_guest_str(m[i].string);
		if (m[i].start & 0xfff)
			fail("module not page-aligned (header flag 0)");
		if (m[i].start < (uintptr_t)_end)
			fail("module over the image");
	}
}

static void print_mmap(const struct mb_info *mbi)
{
	uint32_t off = 0;

	field("mmap_addr", mbi->mmap_addr);
	field("mmap_length", mbi->mmap_length);
	while (off + 4 <= mbi->mmap_length) {
		const struct mb_mmap *e = (const void *)(uintptr_t)(mbi->mmap_addr + off);

		put_str("mmap size=");
		put_dec(e->size);
		put_str(" addr=");
		put_hex(e->addr);
		put_str(" len=");
		put_hex(e->len);
		put_str(" type=");
		put_dec(e->type);
		put_char('\n');
		off += e->size + 4;
	}
}

static void print_entry_state(void)
{
	field("entry_eax", entry_eax);
	field("entry_ebx", entry_ebx);
	field("entry_esp", entry_esp);
	field("entry_eflags", entry_eflags);
	field("entry_cr0", entry_cr0);
	field("entry_cs", entry_cs);
	field("entry_ds", entry_ds);
	field("entry_ss", entry_ss);
	put_str(entered_by == 2 ? "entry=aout\n" : "entry=elf\n");
	field("image_header", (uint32_t)(uintptr_t)mb_header);
	field("image_end", (uint32_t)(uintptr_t)_end);
	if (entry_eax != 0x2badb002)
		fail("EAX is not 0x2badb002");
	if (entry_cr0 & 0x80000000)
		fail("paging on");
	if (entry_eflags & 0x200)
		fail("interrupts on");
}

static void print_info(const struct mb_info *mbi)
{
	uint32_t f = mbi->flags;

	field("flags", f);
	if (f & (1u << 0)) {
		field("mem_lower", mbi->mem_lower);
		field("mem_upper", mbi->mem_upper);
	}
	if (f & (1u << 1))
		field("boot_device", mbi->boot_device);
	if (f & (1u << 2)) {
		field("cmdline_addr", mbi->cmdline);
		put_str("cmdline=");
		put_guest_str(mbi->cmdline);
	}
	if (f & (1u << 3))
		print_modules(mbi);
	if (f & (3u << 4))
		put_str("syms given\n");
	if (f & (1u << 6))
		print_mmap(mbi);
	if (f & (1u << 7)) {
		field("drives_length", mbi->drives_length);
		field("drives_addr", mbi->drives_addr);
	}
	if (f & (1u << 8))
		field("config_table", mbi->config_table);
	if (f & (1u << 9)) {
		field("boot_loader_name_addr", mbi->boot_loader_name);
		put_str("boot_loader_name=");
		put_guest_str(mbi->boot_loader_name);
	}
	if (f & (1u << 10))
		field("apm_table", mbi->apm_table);
	if (f & (1u << 11))
		field("vbe_mode", mbi->vbe_mode);
	if (!(f & (1u << 0)) || !(f & (1u << 6)))
		fail("no memory information (header flag 1)");
}

void mbinfo_main(void)
{
	put_str("mbinfo: begin\n");
	print_entry_state();
	if (entry_eax == 0x2badb002) {
		field("mbi_addr", entry_ebx);
		print_info((const struct mb_info *)(uintptr_t)entry_ebx);
	}
	put_str("violations=");
	put_dec(violations);
	put_str("\nmbinfo: end\n");
	outb(EXIT_PORT, (uint8_t)violations);
}
