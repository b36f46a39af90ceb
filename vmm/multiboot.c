/* The multiboot v1 information, laid out as QEMU's -kernel does: the module
 * list, then the module strings, the command line and the boot loader name
 * (one area after the image), each module on its own page after that, and
 * the info and the memory map in low memory. */
#include "vmm/multiboot.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/error.h"
#include "memory/address_space.h"
#include "vmm/boot.h"
#include "vmm/layout.h"

#define MBI_MEM			(1u << 0)
#define MBI_BOOT_DEVICE		(1u << 1)
#define MBI_CMDLINE		(1u << 2)
#define MBI_MODS		(1u << 3)
#define MBI_MMAP		(1u << 6)
#define MBI_LOADER_NAME		(1u << 9)
#define MB_BOOT_DEVICE		0x8000ffffu	/* BIOS disk 0x80, no partition: QEMU's */
#define MB_LOADER_NAME		"tinyvmm"	/* QEMU says "qemu" */

struct multiboot_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr, config_table, boot_loader_name;
	uint32_t apm_table, vbe_control_info, vbe_mode_info;
	uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off, vbe_interface_len;
} __attribute__((packed));

struct multiboot_module {
	uint32_t start, end, string, reserved;
};

struct multiboot_mmap_entry {
	uint32_t size;		/* of the rest of the entry: 20 */
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

_Static_assert(MULTIBOOT_INFO_OFFSET >= BOOT_E820_MAX * sizeof(struct multiboot_mmap_entry),
	       "the memory map runs into the info");
_Static_assert(MULTIBOOT_INFO_OFFSET + sizeof(struct multiboot_info) <= MULTIBOOT_INFO_END,
	       "the info runs past its room");

uint64_t multiboot_info_size(const struct boot_config *cfg)
{
	uint64_t n = cfg->nmodules * sizeof(struct multiboot_module) +
		     strlen(cfg->cmdline) + 1 + sizeof(MB_LOADER_NAME);

	for (unsigned i = 0; i < cfg->nmodules; i++)
		n += strlen(cfg->modules[i].string) + 1;
	return n;
}

static int open_module(const char *path, uint64_t *size, struct error *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		error_setf(err, "cannot open module '%s': %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		error_setf(err, "module '%s' is not a regular file", path);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

int multiboot_module_size(const char *path, uint64_t *size, struct error *err)
{
	int fd = open_module(path, size, err);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* Exactly the planned size: a file that changed since is refused. */
static int load_module(struct address_space *as, uint64_t gpa,
		       const struct boot_module *m, struct error *err)
{
	uint64_t size, done = 0;
	int fd = open_module(m->path, &size, err);
	uint8_t *host;

	if (fd < 0)
		return -1;
	host = size ? address_space_map_ram(as, gpa, size, true) : NULL;
	if (size != m->size || (size && !host)) {
		close(fd);
		return error_setf(err, "module '%s' changed size while tinyvmm started",
				  m->path);
	}
	while (done < size) {
		ssize_t n = pread(fd, host + done, size - done, (off_t)done);

		if (n <= 0) {
			close(fd);
			return error_setf(err, "module '%s': read failed: %s", m->path,
					  n ? strerror(errno) : "unexpected end of file");
		}
		done += (uint64_t)n;
	}
	close(fd);
	return 0;
}

/* Appends @s to the strings area; returns its guest address. */
static uint32_t put_string(uint8_t *area, uint64_t gpa, uint64_t *used, const char *s)
{
	uint64_t at = *used;

	memcpy(area + at, s, strlen(s) + 1);
	*used += strlen(s) + 1;
	return (uint32_t)(gpa + at);
}

/* The module list, then the strings, as QEMU orders them. */
static int write_info_area(struct address_space *as, const struct boot_layout *l,
			   const struct boot_config *cfg, struct multiboot_info *mbi,
			   struct error *err)
{
	uint64_t size = l->info_end - l->info;
	uint8_t *area = address_space_map_ram(as, l->info, size, true);
	struct multiboot_module *mods = (struct multiboot_module *)area;
	uint64_t used = cfg->nmodules * sizeof(*mods);

	if (!area || size != multiboot_info_size(cfg))
		return error_setf(err, "multiboot info at %#llx does not fit in guest RAM",
				  (unsigned long long)l->info);
	for (unsigned i = 0; i < cfg->nmodules; i++)
		mods[i] = (struct multiboot_module){
			.start = (uint32_t)l->modules[i],
			.end = (uint32_t)(l->modules[i] + cfg->modules[i].size),
			.string = put_string(area, l->info, &used, cfg->modules[i].string),
		};
	mbi->mods_count = cfg->nmodules;
	mbi->mods_addr = (uint32_t)l->info;
	mbi->cmdline = put_string(area, l->info, &used, cfg->cmdline);
	mbi->boot_loader_name = put_string(area, l->info, &used, MB_LOADER_NAME);
	return 0;
}

static uint32_t write_mmap(struct multiboot_mmap_entry *mmap, const struct boot_layout *l)
{
	struct e820_entry map[BOOT_E820_MAX];
	unsigned n = boot_e820(l, map);

	for (unsigned i = 0; i < n; i++)
		mmap[i] = (struct multiboot_mmap_entry){ 20, map[i].addr, map[i].len,
							 map[i].type };
	return n * (uint32_t)sizeof(*mmap);
}

int multiboot_write(struct address_space *as, const struct boot_layout *l,
		    const struct boot_config *cfg, struct error *err)
{
	struct multiboot_info *mbi = address_space_map_ram(as, l->mbi, sizeof(*mbi), true);
	struct multiboot_mmap_entry *mmap =
		address_space_map_ram(as, l->mmap, BOOT_E820_MAX * sizeof(*mmap), true);

	if (!mbi || !mmap)
		return error_setf(err, "multiboot info at %#llx does not fit in guest RAM",
				  (unsigned long long)l->mbi);
	for (unsigned i = 0; i < cfg->nmodules; i++)
		if (load_module(as, l->modules[i], &cfg->modules[i], err))
			return -1;
	memset(mbi, 0, sizeof(*mbi));
	if (write_info_area(as, l, cfg, mbi, err))
		return -1;
	/* The same flags as QEMU, modules or not. */
	mbi->flags = MBI_MEM | MBI_BOOT_DEVICE | MBI_CMDLINE | MBI_MODS | MBI_MMAP |
		     MBI_LOADER_NAME;
	mbi->mem_lower = EBDA_BASE >> 10;
	mbi->mem_upper = (uint32_t)((l->acpi - HIGH_MEMORY_BASE) >> 10);
	mbi->boot_device = MB_BOOT_DEVICE;
	mbi->mmap_addr = (uint32_t)l->mmap;
	mbi->mmap_length = write_mmap(mmap, l);
	return 0;
}
