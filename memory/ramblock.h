/* RAM blocks: named, sized host mappings that back guest RAM (QEMU's RAMBlock). */
#ifndef MEMORY_RAMBLOCK_H
#define MEMORY_RAMBLOCK_H

#include <stdint.h>

struct ram_block {
	char name[32];
	uint8_t *host;		/* start of the host mapping (HVA) */
	uint64_t size;		/* bytes, page aligned */
};

/* mmap()s @size bytes (rounded up to a page) with MAP_NORESERVE, so untouched
 * guest RAM costs no host memory. Returns 0 or -errno. */
int ram_block_init(struct ram_block *rb, const char *name, uint64_t size);
void ram_block_destroy(struct ram_block *rb);

/* Host pointer for [offset, offset + len) of the block, or NULL when the range
 * is not entirely inside it (overflow-safe). */
void *ram_block_host(const struct ram_block *rb, uint64_t offset, uint64_t len);

#endif
