/* memory/ private: what region.c, flatview.c and address_space.c share. */
#ifndef MEMORY_INTERNAL_H
#define MEMORY_INTERNAL_H

/* Re-renders every address space and tells their listeners; called on the
 * outermost commit, with the topology lock held. */
void address_spaces_commit(void);

/* Held from the outermost begin to its commit, and by address space
 * creation and listener changes: everything that reads or changes the tree. */
void memory_topology_lock(void);
void memory_topology_unlock(void);

#endif
