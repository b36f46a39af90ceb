/* The guest image loader: ELF64 x86-64 images (entered in long mode),
 * multiboot v1 ELF32 images and multiboot images with the a.out kludge
 * (header flag 16: a flat binary, or an ELF32 that sets the flag, which is
 * then loaded by the header's addresses as QEMU does), both entered in
 * 32-bit protected mode. Headers are parsed with libelf; nothing is copied
 * until every segment has been checked, and guest memory is reached only
 * through the memory model's bounds-checked accessor.
 *
 * Use: loader_open (parse and check the file), then place the boot data
 * around img->seg (vmm/boot.h), then loader_copy, then loader_close. */
#ifndef VMM_LOADER_H
#define VMM_LOADER_H

#include <stdbool.h>
#include <stdint.h>

struct address_space;
struct error;

#define LOADER_MAX_SEGMENTS	64

enum guest_format {
	GUEST_ELF64,
	GUEST_MULTIBOOT,
};

/* Guest RAM [paddr, paddr + memsz) gets @filesz bytes of the file from
 * @offset, then zeroes. @vaddr: where it was linked. */
struct guest_segment {
	uint64_t paddr, vaddr, memsz, offset, filesz;
};

struct guest_image {
	const char *path;
	int fd;				/* open from loader_open to loader_close */
	enum guest_format format;
	uint32_t multiboot_flags;	/* the header's flags (multiboot only) */
	bool aout_kludge;		/* loaded by the header's addresses */
	uint64_t entry;			/* guest-physical */
	uint64_t load_start, load_end;	/* [lowest, highest) byte loaded */
	struct guest_segment seg[LOADER_MAX_SEGMENTS];	/* by paddr, disjoint */
	unsigned nseg;
};

/* Parses @path into @img; on failure nothing stays open. */
int loader_open(const char *path, struct guest_image *img, struct error *err);
/* Copies every segment into guest RAM: all of them, or (when one is not
 * RAM) none. */
int loader_copy(const struct guest_image *img, struct address_space *system,
		struct error *err);
void loader_close(struct guest_image *img);

#endif
