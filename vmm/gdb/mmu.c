#include "vmm/gdb/mmu.h"

/* Intel SDM vol. 3, chapter 4 "Paging". Access rights (R/W, U/S, XD as a
 * permission, protection keys) are deliberately ignored: the debugger
 * reads what the guest itself may not. */

#define CR0_PG		(1ull << 31)
#define CR4_PSE		(1ull << 4)
#define CR4_PAE		(1ull << 5)
#define CR4_LA57	(1ull << 12)
#define EFER_NXE	(1ull << 11)
#define EFER_LMA	(1ull << 10)

#define PTE_P		(1ull << 0)
#define PTE_PS		(1ull << 7)
#define PTE_XD		(1ull << 63)

#define PAGE_4K		(1ull << 12)
#define PAGE_4M		(1ull << 22)

/* MAXPHYADDR is taken as 52, the architectural maximum: where the guest's
 * CPUID says less, an address between the two is not RAM either, so the
 * table read (or the caller's access) fails instead. */
#define PHYS_MASK	((1ull << 52) - 1)
#define FRAME_MASK	(PHYS_MASK & ~(PAGE_4K - 1))	/* bits 51:12 */

/* Outside long mode a linear address has 32 bits. */
#define LEGACY_VA_MAX	0xffffffffull

/* PAE PDPTE: bits 2:1, 8:5 and 63:MAXPHYADDR must be 0. */
#define PDPTE_RSVD	(0x1e6ull | ~PHYS_MASK)
/* 32-bit paging, 4 MiB page: bit 21 (bits 20:13 are PA 39:32). */
#define PDE32_4M_RSVD	(1ull << 21)

/* Reads the entry of @size bytes at @gpa; the guest and the host (x86)
 * are both little-endian, so the low bytes of *@e are the entry. */
static int read_entry(mmu_read_phys read, void *opaque, uint64_t gpa,
		      size_t size, uint64_t *e)
{
	*e = 0;
	return read(opaque, gpa, e, size) ? -1 : 0;
}

static int map_page(uint64_t base, uint64_t size, uint64_t va, uint64_t *gpa,
		    uint64_t *page_left)
{
	uint64_t off = va & (size - 1);

	*gpa = base + off;
	*page_left = size - off;
	return 0;
}

/* The 32-bit paging walk: 4-byte entries, CR3[31:12] -> PD -> PT, or a
 * 4 MiB page when CR4.PSE and PDE.PS (PS is ignored without PSE). */
static int walk_32bit(const struct mmu_regs *mr, uint64_t va,
		      mmu_read_phys read, void *opaque, uint64_t *gpa,
		      uint64_t *page_left)
{
	uint64_t pde, pte, base;

	if (read_entry(read, opaque, (mr->cr3 & 0xfffff000) + (va >> 22) * 4,
		       4, &pde) || !(pde & PTE_P))
		return -1;
	if ((pde & PTE_PS) && (mr->cr4 & CR4_PSE)) {
		if (pde & PDE32_4M_RSVD)
			return -1;
		/* PSE-36: PDE bits 20:13 are PA bits 39:32. */
		base = (pde & 0xffc00000) | ((pde >> 13) & 0xff) << 32;
		return map_page(base, PAGE_4M, va, gpa, page_left);
	}
	if (read_entry(read, opaque, (pde & 0xfffff000) + ((va >> 12) & 0x3ff) * 4,
		       4, &pte) || !(pte & PTE_P))
		return -1;
	return map_page(pte & 0xfffff000, PAGE_4K, va, gpa, page_left);
}

/* The 8-byte-entry levels shared by PAE, 4- and 5-level paging: from the
 * table at @table, whose entries each cover 2^(12 + 9 * (@level - 1))
 * bytes, down to the page. @rsvd: the bits reserved in every entry. */
static int walk_levels(uint64_t table, int level, uint64_t rsvd, uint64_t va,
		       mmu_read_phys read, void *opaque, uint64_t *gpa,
		       uint64_t *page_left)
{
	for (;; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t size = 1ull << shift, e;

		if (read_entry(read, opaque, table + ((va >> shift) & 511) * 8,
			       8, &e) || !(e & PTE_P) || (e & rsvd))
			return -1;
		if (level == 1)
			return map_page(e & FRAME_MASK, size, va, gpa, page_left);
		if (e & PTE_PS) {
			/* Only PDEs (2 MiB) and PDPTEs (1 GiB) map pages;
			 * the frame's bits below the page size, other than
			 * PAT (bit 12), are reserved. */
			if (level > 3 || (e & (size - 1) & ~(2 * PAGE_4K - 1)))
				return -1;
			return map_page(e & FRAME_MASK & ~(size - 1), size, va,
					gpa, page_left);
		}
		table = e & FRAME_MASK;
	}
}

/* Bit 63 is XD only when EFER.NXE, reserved otherwise. */
static uint64_t xd_rsvd(const struct mmu_regs *mr)
{
	return mr->efer & EFER_NXE ? 0 : PTE_XD;
}

/* PAE: the 4 PDPTEs at CR3[31:5], then the 2-level walk. */
static int walk_pae(const struct mmu_regs *mr, uint64_t va,
		    mmu_read_phys read, void *opaque, uint64_t *gpa,
		    uint64_t *page_left)
{
	uint64_t pdpte;

	if (read_entry(read, opaque, (mr->cr3 & 0xffffffe0) + (va >> 30) * 8,
		       8, &pdpte) || !(pdpte & PTE_P) || (pdpte & PDPTE_RSVD))
		return -1;
	/* Bits 62:MAXPHYADDR are reserved in PAE PDEs and PTEs. */
	return walk_levels(pdpte & FRAME_MASK, 2,
			   (~PHYS_MASK & ~PTE_XD) | xd_rsvd(mr), va, read,
			   opaque, gpa, page_left);
}

/* 4-level (48-bit) or, with CR4.LA57, 5-level (57-bit) paging. */
static int walk_long(const struct mmu_regs *mr, uint64_t va,
		     mmu_read_phys read, void *opaque, uint64_t *gpa,
		     uint64_t *page_left)
{
	int levels = mr->cr4 & CR4_LA57 ? 5 : 4;
	unsigned va_bits = 12 + 9 * levels;
	uint64_t top = va >> (va_bits - 1);

	/* Canonical: bits 63:va_bits-1 all equal. */
	if (top != 0 && top != ~0ull >> (va_bits - 1))
		return -1;
	/* Bits 62:52 are ignored here, not reserved. */
	return walk_levels(mr->cr3 & FRAME_MASK, levels, xd_rsvd(mr), va, read,
			   opaque, gpa, page_left);
}

int mmu_translate(const struct mmu_regs *mr, uint64_t va, mmu_read_phys read,
		  void *opaque, uint64_t *gpa, uint64_t *page_left)
{
	if ((mr->cr0 & CR0_PG) && (mr->efer & EFER_LMA))
		return walk_long(mr, va, read, opaque, gpa, page_left);
	if (va > LEGACY_VA_MAX)
		return -1;
	if (!(mr->cr0 & CR0_PG))
		return map_page(va & ~(PAGE_4K - 1), PAGE_4K, va, gpa, page_left);
	if (mr->cr4 & CR4_PAE)
		return walk_pae(mr, va, read, opaque, gpa, page_left);
	return walk_32bit(mr, va, read, opaque, gpa, page_left);
}
