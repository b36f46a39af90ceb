/* The bundled guest: boot, then the self-tests, then the exit port. */
#include "boot.h"
#include "io.h"
#include "lib.h"
#include "serial.h"
#include "tap.h"
#include "tests.h"
#include "apic.h"
#include "acpi.h"

#define PIC1_DATA	0x21
#define PIC2_DATA	0xa1

const struct multiboot_info *boot_mbi;
uint64_t guest_start_tsc;

/* The type 1 (available RAM) entries of the memory map, one by one: *@p
 * starts at 0. */
static const struct multiboot_mmap_entry *next_ram(const uint8_t **p)
{
	const uint8_t *lim;

	if (!boot_mbi || !(boot_mbi->flags & MBI_MMAP))
		return 0;
	if (!*p)
		*p = (const uint8_t *)(uintptr_t)boot_mbi->mmap_addr;
	lim = (const uint8_t *)(uintptr_t)boot_mbi->mmap_addr + boot_mbi->mmap_length;
	while (*p < lim) {
		const struct multiboot_mmap_entry *e = (const void *)*p;

		*p += e->size + 4;
		if (e->type == 1)
			return e;
	}
	return 0;
}

/* The range of the memory map with type 1 that contains @addr, or the first
 * one at or above it. */
static int find_ram(uint64_t addr, bool above, uint64_t *start, uint64_t *end)
{
	const uint8_t *p = 0;
	const struct multiboot_mmap_entry *e;

	while ((e = next_ram(&p)))
		if ((above && e->addr >= addr) ||
		    (!above && addr >= e->addr && addr - e->addr < e->len)) {
			*start = e->addr;
			*end = e->addr + e->len;
			return 1;
		}
	return 0;
}

bool boot_ram_overlaps(uint64_t start, uint64_t len, uint64_t *end)
{
	const uint8_t *p = 0;
	const struct multiboot_mmap_entry *e;

	while ((e = next_ram(&p)))
		if (e->len && start < e->addr + e->len && e->addr < start + len) {
			*end = e->addr + e->len;
			return true;
		}
	return false;
}

bool boot_on_tinyvmm(void)
{
	return boot_mbi && (boot_mbi->flags & MBI_LOADER_NAME) &&
	       !strcmp((const char *)(uintptr_t)boot_mbi->boot_loader_name, "tinyvmm");
}

bool boot_cmdline_has(const char *word)
{
	const char *p;
	size_t n = strlen(word);

	if (!boot_mbi || !(boot_mbi->flags & MBI_CMDLINE) || !n)
		return false;
	for (p = (const char *)(uintptr_t)boot_mbi->cmdline; *p;) {
		size_t len = 0;

		while (*p == ' ')
			p++;
		while (p[len] && p[len] != ' ')
			len++;
		if (len == n && !strncmp(p, word, n))
			return true;
		p += len;
	}
	return false;
}

int boot_ram_range(uint64_t addr, uint64_t *start, uint64_t *end)
{
	return find_ram(addr, false, start, end);
}

int boot_ram_above(uint64_t addr, uint64_t *start, uint64_t *end)
{
	return find_ram(addr, true, start, end);
}

/* 64-bit interrupt gates for the exceptions: a guest bug says what it was
 * on the serial port and fails the run, instead of a silent triple fault. */
struct idt_entry {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

static struct idt_entry idt[256];
extern const uint64_t isr_table[22];

/* One IDT for every CPU: the APs load it too (idt_load). */
void idt_set_gate(unsigned vector, uint64_t handler)
{
	idt[vector & 0xff] = (struct idt_entry){
		.off_lo = (uint16_t)handler, .sel = 0x08, .type = 0x8e,
		.off_mid = (uint16_t)(handler >> 16),
		.off_hi = (uint32_t)(handler >> 32),
	};
}

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uintptr_t)idt };

	__asm__ volatile("lidt %0" : : "m"(idtr));
}

void idt_init(void)
{
	for (int i = 0; i < 22; i++)
		idt_set_gate(i, isr_table[i]);
	irq_init();
	idt_load();
}

void exception_handler(const uint64_t *frame)
{
	printf("Bail out! exception %u, error %#llx, at rip %#llx\n",
	       (unsigned)frame[0], (unsigned long long)frame[1],
	       (unsigned long long)frame[2]);
	guest_exit(0x7f);
}

static void print_boot_info(void)
{
	uint64_t s, e;

	printf("# tinyvmm guest: multiboot magic %#x, loader '%s'\n", boot_magic,
	       boot_mbi && (boot_mbi->flags & MBI_LOADER_NAME) ?
	       (const char *)(uintptr_t)boot_mbi->boot_loader_name : "?");
	if (boot_mbi && (boot_mbi->flags & MBI_CMDLINE))
		printf("# command line: %s\n", (const char *)(uintptr_t)boot_mbi->cmdline);
	if (boot_mbi && (boot_mbi->flags & MBI_MEM))
		printf("# memory: %u KiB low, %u KiB from 1 MiB\n", boot_mbi->mem_lower,
		       boot_mbi->mem_upper);
	for (uint64_t a = 0; boot_ram_above(a, &s, &e); a = e)
		printf("# RAM [%#llx, %#llx)\n", (unsigned long long)s,
		       (unsigned long long)e);
}

/* A PC's BIOS (SeaBIOS on QEMU -M pc) hands over with the 8259 PICs set up
 * for real mode and the PIT running: at the first sti, IRQ0 would arrive as
 * vector 8 and look like a double fault. Mask every line; where there is no
 * PIC (tinyvmm) the writes go nowhere. */
void pic_mask_all(void)
{
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}

/* The `poweroff` mode's end: ACPI S5 (SLP_TYP from the DSDT's _S5_). If
 * the machine is still running after a second, say so and fail. */
static void acpi_poweroff(void)
{
	struct fadt_info f;
	const char *why = "no _S5_ in the DSDT";
	int typ;

	if (!acpi_read_fadt(&f, &why) && (typ = acpi_sleep_type(f.dsdt, "_S5_")) >= 0) {
		acpi_enter_sleep(&f, (unsigned)typ);
		delay_ms(1000);
		why = "still running 1 s after S5";
	}
	printf("# poweroff: %s\n", why);
	guest_exit(1);
}

void guest_main(uint32_t magic, uint32_t info)
{
	int failed;

	guest_start_tsc = rdtsc();
	boot_magic = magic;
	boot_mbi = magic == MULTIBOOT_BOOTLOADER_MAGIC ?
		   (const struct multiboot_info *)(uintptr_t)info : 0;
	serial_init();
	pic_mask_all();
	print_boot_info();
	if (boot_cmdline_has("blk-bench"))
		guest_exit(blk_bench(!boot_cmdline_has("no-event-idx")));
	if (boot_cmdline_has("evil-virtio"))
		guest_exit(evil_virtio());
	if (boot_cmdline_has("acpi-dump")) {
		acpi_dump();
		guest_exit(0);
	}
	failed = tap_run(guest_tests, guest_ntests);
	if (!failed && boot_cmdline_has("poweroff"))
		acpi_poweroff();
	guest_exit(failed > 127 ? 127 : failed);
}
