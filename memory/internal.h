/* memory/ private: what region.c, flatview.c and address_space.c share. */
#ifndef MEMORY_INTERNAL_H
#define MEMORY_INTERNAL_H

#include <stdint.h>

struct flat_view;

/* Re-renders every address space, tells their listeners, then publishes the
 * new views; called on the outermost commit of a transaction that changed
 * the tree, with the topology lock held. */
void address_spaces_commit(void);

/* Held from the outermost begin to its commit, and by address space
 * creation and listener changes: everything that reads or changes the tree.
 * Recursive, so a device callback may change the tree it was reached by. */
void memory_topology_lock(void);
void memory_topology_unlock(void);

/* For an @addr no range contains: bytes from it to the next range, or 0 when
 * none follows (the gap runs to the end of the address space). */
uint64_t flat_view_gap_after(const struct flat_view *fv, uint64_t addr);

#endif
