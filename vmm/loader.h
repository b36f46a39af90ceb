/* The ELF loader: ELF64 x86-64 images (entered in long mode) and multiboot v1
 * ELF32 images (entered in 32-bit protected mode). Headers are parsed with
 * libelf; every PT_LOAD is checked before a byte is copied, and guest memory
 * is reached only through the memory model's bounds-checked accessor. */
#ifndef VMM_LOADER_H
#define VMM_LOADER_H

#include <stdint.h>

struct address_space;
struct error;

enum guest_format {
	GUEST_ELF64,
	GUEST_MULTIBOOT,
};

struct guest_image {
	enum guest_format format;
	uint64_t entry;			/* guest-physical */
	uint64_t load_start, load_end;	/* [lowest, highest) byte loaded */
	uint32_t multiboot_flags;
};

/* Guest RAM the image must not overwrite (the VMM's boot data). */
struct loader_reserved {
	uint64_t start, end;
	const char *what;
};

int loader_load(const char *path, struct address_space *system,
		const struct loader_reserved *reserved, unsigned nreserved,
		struct guest_image *img, struct error *err);

#endif
