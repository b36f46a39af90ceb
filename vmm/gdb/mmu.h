/* Guest-virtual to guest-physical, for the debugger: walks the page tables
 * as the vCPU's control registers say (real mode and protected mode without
 * paging: identity; 32-bit with 4 MiB pages; PAE; 4- and 5-level with
 * 2 MiB / 1 GiB pages). Pure: page-table entries come from a callback. */
#ifndef VMM_GDB_MMU_H
#define VMM_GDB_MMU_H

#include <stddef.h>
#include <stdint.h>

struct mmu_regs {
	uint64_t cr0, cr3, cr4, efer;
};

/* Reads @len bytes of guest-physical memory at @gpa; 0 on success. */
typedef int (*mmu_read_phys)(void *opaque, uint64_t gpa, void *buf, size_t len);

/* 0 and the physical address of @va, with *@page_left the bytes from it to
 * the end of its page (a caller splits accesses there; without paging, to
 * the next 4 KiB boundary); -1 when @va is not mapped (not present,
 * reserved bits, non-canonical, above 4 GiB outside long mode, a table
 * unreadable). Access rights are ignored. PAE's PDPTEs are read from
 * memory at CR3, not from the CPU's PDPTE registers (which hold them as of
 * the last CR3 load). */
int mmu_translate(const struct mmu_regs *mr, uint64_t va, mmu_read_phys read,
		  void *opaque, uint64_t *gpa, uint64_t *page_left);

#endif
