/* Address spaces: a root region, its current flat view, its listeners
 * (QEMU's AddressSpace). tinyvmm has two: "system" (RAM + MMIO) and "io"
 * (ports). */
#ifndef MEMORY_ADDRESS_SPACE_H
#define MEMORY_ADDRESS_SPACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h>

#include "memory/region.h"

struct memory_listener;

struct address_space;

struct address_space *address_space_new(const char *name,
					struct memory_region *root);
/* Only once no thread accesses @as any more. Each thread's cached view
 * reference is dropped when the thread exits (or, for the caller, now). */
void address_space_destroy(struct address_space *as);
const char *address_space_name(const struct address_space *as);

/* Registering replays the current RAM ranges as region_add. */
void address_space_add_listener(struct address_space *as,
				struct memory_listener *l);
void address_space_remove_listener(struct address_space *as,
				   struct memory_listener *l);

/* Guest-style access of @len bytes at @addr, walking every section the range
 * crosses. @buf holds the bytes in guest (little-endian) order. RAM is
 * copied; ROM reads work and writes are dropped (MEMTX_OK, as hardware);
 * I/O goes through ops with the valid/impl size rules, each section on its
 * own (a rejected one does nothing, MEMTX_ERROR; a rejected read gives
 * all-ones); unassigned reads fill all-ones, writes are dropped, both
 * return MEMTX_DECODE_ERROR and are counted. A range that would wrap past
 * 2^64 is wholly unassigned. The result is MEMTX_OK or the first section's
 * error; the other sections are still done. @len 0 does nothing (MEMTX_OK).
 * When @hit is not NULL it gets the region of the first byte (NULL if
 * unassigned), for tracing. Lock-free: the calling thread uses its cached
 * view until it notices a newer one. Device callbacks may re-enter (access
 * or change the tree). */
memtx_result address_space_rw(struct address_space *as, uint64_t addr,
			      void *buf, uint64_t len, bool is_write,
			      const struct memory_region **hit);
memtx_result address_space_read(struct address_space *as, uint64_t addr,
				void *buf, uint64_t len);
memtx_result address_space_write(struct address_space *as, uint64_t addr,
				 const void *buf, uint64_t len);

/* The one bounds-checked way from guest-physical to host memory, for the
 * loader and devices. Host pointer for [gpa, gpa + len) when the whole range
 * is RAM (or ROM when !is_write) inside ONE flat range, never wrapping;
 * else NULL, and NULL for @len 0 (no range to vouch for). The pointer stays
 * valid while the RAM block lives. */
void *address_space_map_ram(struct address_space *as, uint64_t gpa,
			    uint64_t len, bool is_write);
/* The same for a range that may span several RAM ranges: fills up to
 * @max_iov iovecs; returns how many, or -1 when any byte is not RAM (or is
 * ROM and @is_write), the range wraps, or more than @max_iov are needed.
 * @len 0 needs none: 0. One iovec per flat range crossed. */
int address_space_map_ram_iov(struct address_space *as, uint64_t gpa,
			      uint64_t len, bool is_write, struct iovec *iov,
			      int max_iov);

/* Per-I/O-region access counts and unassigned accesses, for --stats. */
void address_space_print_stats(struct address_space *as, FILE *out);

#endif
