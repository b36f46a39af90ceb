/* Printing memory region trees and flat views as text, in the format of
 * QEMU's `info mtree` and `info mtree -f`, for `--mtree` and the debugger's
 * `monitor info mtree`. The output depends on the tree only (no pointers,
 * no host addresses), so tests compare it exactly. */
#ifndef MEMORY_MTREE_H
#define MEMORY_MTREE_H

#include <stdio.h>

struct memory_region;

/* One address space to print: its name and the root region it renders. */
struct mtree_space {
	const char *name;
	struct memory_region *root;
};

/* `info mtree`: for each space "address-space: NAME" and its tree, one
 * region a line, two spaces of indentation per level:
 *	START-END (prio P, KIND): NAME
 *	START-END (prio P, KIND): alias NAME @TARGET TSTART-TEND
 * with inclusive guest addresses (END = START + size - 1), KIND one of
 * container, ram, rom, i/o (an alias shows its target's), " [disabled]"
 * after a disabled region (whose subtree is still listed), siblings by
 * address, then higher priority, then larger size. Then every region an
 * alias points at, once each, as "memory-region: NAME" and its tree placed
 * at 0. Holds the topology lock, so the tree cannot change meanwhile. */
void mtree_print_tree(const struct mtree_space *spaces, unsigned n, FILE *out);

/* `info mtree -f`: for each space its flat view, the ranges the guest sees:
 *	FlatView #I
 *	 AS "NAME", root: ROOT
 *	 Root memory region: ROOT
 *	  START-END (prio P, KIND): REGION[ @OFFSET]
 * KIND is the terminal region's (rom for a read-only range), OFFSET where
 * the range starts inside that region, when not 0 (for RAM and ROM: bytes
 * past the region's start in its block). An empty view says
 * "  No rendered FlatView". The view is
 * rendered from the tree under the topology lock: the one every access sees
 * once no transaction is open. */
void mtree_print_flat(const struct mtree_space *spaces, unsigned n, FILE *out);

#endif
