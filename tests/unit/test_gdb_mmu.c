/* The debugger's page-table walk against fake page tables: a small byte
 * array is the guest RAM behind the read callback, and tables are built in
 * it as a guest OS would. The first cases spell out every entry address
 * and the result worked out by hand; the rest use a small table builder. */
#include <criterion/criterion.h>
#include <string.h>

#include "vmm/gdb/mmu.h"

#define RAM_SIZE	(64 * 4096ull)

#define CR0_PE		(1ull << 0)
#define CR0_PG		(1ull << 31)
#define CR4_PSE		(1ull << 4)
#define CR4_PAE		(1ull << 5)
#define CR4_LA57	(1ull << 12)
#define EFER_LME	(1ull << 8)
#define EFER_LMA	(1ull << 10)
#define EFER_NXE	(1ull << 11)

#define P		(1ull << 0)
#define RW		(1ull << 1)
#define US		(1ull << 2)
#define PS		(1ull << 7)
#define PAT_LARGE	(1ull << 12)
#define XD		(1ull << 63)
#define FRAME		0x000ffffffffff000ull

#define KiB		1024ull
#define MiB		(1024 * KiB)
#define GiB		(1024 * MiB)

static const struct mmu_regs real_mode = { 0 };
static const struct mmu_regs prot_mode = { .cr0 = CR0_PE };
static const struct mmu_regs paging32 = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x1000 };
static const struct mmu_regs paging32_pse = {
	.cr0 = CR0_PE | CR0_PG, .cr3 = 0x1000, .cr4 = CR4_PSE,
};
/* The PDPT 32-byte aligned inside page 1: CR3[31:5], not [31:12]. */
#define PDPT		0x1fe0ull
static const struct mmu_regs pae = {
	.cr0 = CR0_PE | CR0_PG, .cr3 = PDPT, .cr4 = CR4_PAE,
};
static const struct mmu_regs long4 = {
	.cr0 = CR0_PE | CR0_PG, .cr3 = 0x1000, .cr4 = CR4_PAE,
	.efer = EFER_LME | EFER_LMA,
};
static const struct mmu_regs long5 = {
	.cr0 = CR0_PE | CR0_PG, .cr3 = 0x1000, .cr4 = CR4_PAE | CR4_LA57,
	.efer = EFER_LME | EFER_LMA,
};

static uint8_t ram[RAM_SIZE];
static uint64_t next_table;	/* the builder's next free page */
static unsigned reads;
static size_t read_len;		/* the last read's size */
static uint64_t gpa, left;
/* The slot of each level's entry on the last path map() built. */
static uint64_t path[6];

static int fake_read(void *opaque, uint64_t addr, void *buf, size_t len)
{
	cr_assert_eq(opaque, ram);
	reads++;
	read_len = len;
	if (addr > RAM_SIZE || len > RAM_SIZE - addr) {
		/* Junk that looks like a present entry: not to be used. */
		memset(buf, 0x01, len);
		return -1;
	}
	memcpy(buf, ram + addr, len);
	return 0;
}

static void setup(void)
{
	memset(ram, 0, sizeof(ram));
	next_table = 0x2000;	/* page 1 holds the top table */
	reads = 0;
}

static void put32(uint64_t addr, uint32_t v) { memcpy(ram + addr, &v, 4); }
static void put64(uint64_t addr, uint64_t v) { memcpy(ram + addr, &v, 8); }

static uint64_t get64(uint64_t addr)
{
	uint64_t v;

	memcpy(&v, ram + addr, 8);
	return v;
}

static int xlate(const struct mmu_regs *mr, uint64_t va)
{
	gpa = left = 0xdeadbeef;
	return mmu_translate(mr, va, fake_read, ram, &gpa, &left);
}

/* Asserts @va translates to @want with @want_left bytes left in its page. */
static void expect(const struct mmu_regs *mr, uint64_t va, uint64_t want,
		   uint64_t want_left)
{
	cr_assert_eq(xlate(mr, va), 0, "va %#lx should be mapped", va);
	cr_assert_eq(gpa, want, "va %#lx: gpa %#lx, want %#lx", va, gpa, want);
	cr_assert_eq(left, want_left, "va %#lx: page_left %#lx, want %#lx",
		     va, left, want_left);
}

static void expect_fault(const struct mmu_regs *mr, uint64_t va)
{
	cr_assert_eq(xlate(mr, va), -1, "va %#lx should not be mapped", va);
}

/* Builds the 8-byte-entry path for @va from the top table at @root
 * (@levels deep) down to @leaf_level, whose entry becomes @leaf. Missing
 * tables are allocated, their entries P only (access rights are ignored,
 * and R/W would be reserved in a PAE PDPTE). */
static void map(uint64_t root, int levels, uint64_t va, int leaf_level,
		uint64_t leaf)
{
	uint64_t table = root;

	memset(path, 0, sizeof(path));
	for (int level = levels; level >= leaf_level; level--) {
		uint64_t slot = table + ((va >> (12 + 9 * (level - 1))) & 511) * 8;
		uint64_t e = get64(slot);

		path[level] = slot;
		if (level == leaf_level) {
			put64(slot, leaf);
			return;
		}
		if (!(e & P)) {
			e = next_table | P;
			next_table += 0x1000;
			cr_assert_leq(next_table, RAM_SIZE);
			put64(slot, e);
		}
		table = e & FRAME;
	}
}

TestSuite(gdb_mmu, .init = setup);

/* ---- without paging ---- */

Test(gdb_mmu, real_mode_is_identity_without_reads)
{
	expect(&real_mode, 0x12345, 0x12345, 0x1000 - 0x345);
	expect(&real_mode, 0x10ffef, 0x10ffef, 0x11);
	cr_assert_eq(reads, 0);
}

Test(gdb_mmu, protected_mode_is_identity_up_to_4g)
{
	expect(&prot_mode, 0, 0, 0x1000);
	expect(&prot_mode, 0xfffff123, 0xfffff123, 0xedd);
	expect(&prot_mode, 0xffffffff, 0xffffffff, 1);
	expect_fault(&prot_mode, 0x100000000ull);
	cr_assert_eq(reads, 0);
}

/* ---- 32-bit paging ---- */

/* va 0x00c01234: PD index 0x00c01234 >> 22 = 3, PDE at 0x1000 + 3*4 =
 * 0x100c; PT index (va >> 12) & 0x3ff = 1, PTE at 0x2000 + 1*4 = 0x2004;
 * frame 0x00345000 + offset 0x234 = 0x00345234, 0x1000 - 0x234 = 0xdcc
 * bytes left. */
Test(gdb_mmu, paging32_4k_by_hand)
{
	struct mmu_regs mr = paging32;

	mr.cr3 |= 0x18;		/* PWT, PCD: not address bits */
	put32(0x100c, 0x2000 | P);
	put32(0x2004, 0x00345000 | P);
	expect(&mr, 0x00c01234, 0x00345234, 0xdcc);
	cr_assert_eq(reads, 2);
	cr_assert_eq(read_len, 4, "32-bit paging entries are 4 bytes");
	expect(&mr, 0x00c01fff, 0x00345fff, 1);
	expect_fault(&mr, 0x00c02000);		/* PTE 2 not present */
	put32(0x1008, 0x2000);			/* PDE 2 not present */
	expect_fault(&mr, 0x00801234);
	expect_fault(&mr, 0x100c01234ull);	/* beyond 32 bits */
}

Test(gdb_mmu, paging32_ignores_access_rights_and_pat)
{
	put32(0x100c, 0x2000 | P);		/* read-only, supervisor */
	put32(0x2004, 0x00345000 | P | PS);	/* bit 7 is PAT in a PTE */
	expect(&paging32, 0x00c01234, 0x00345234, 0xdcc);
}

/* PDE 3 = 0xc0000083: va 0x00c01234 -> 0xc0000000 + (va & 0x3fffff) =
 * 0xc0001234, 4 MiB - 0x1234 = 0x3fedcc bytes left. */
Test(gdb_mmu, paging32_4m)
{
	put32(0x100c, 0xc0000000 | PS | RW | P);
	expect(&paging32_pse, 0x00c01234, 0xc0001234, 0x3fedcc);
	expect(&paging32_pse, 0x00ffffff, 0xc03fffff, 1);
	cr_assert_eq(reads, 2, "one read per 4 MiB translation");
}

/* PSE-36: PDE bits 20:13 = 0x5a are PA bits 39:32. */
Test(gdb_mmu, paging32_4m_pse36_high_bits)
{
	put32(0x100c, 0xc0000000 | 0x5a << 13 | PS | P);
	expect(&paging32_pse, 0x00c01234, 0x5ac0001234ull, 0x3fedcc);
	put32(0x100c, 0xc0000000 | 0xff << 13 | PAT_LARGE | PS | P);
	expect(&paging32_pse, 0x00c01234, 0xffc0001234ull, 0x3fedcc);
}

Test(gdb_mmu, paging32_4m_bit21_reserved)
{
	put32(0x100c, 0xc0000000 | 1u << 21 | PS | P);
	expect_fault(&paging32_pse, 0x00c01234);
}

/* Without CR4.PSE, PDE.PS is ignored: the PDE points to a page table. */
Test(gdb_mmu, paging32_ps_without_pse_is_a_table)
{
	put32(0x100c, 0x2000 | PS | P);
	put32(0x2004, 0x00345000 | P);
	expect(&paging32, 0x00c01234, 0x00345234, 0xdcc);
}

Test(gdb_mmu, paging32_table_outside_ram)
{
	struct mmu_regs mr = paging32;

	put32(0x100c, 0xfffff000 | P);
	expect_fault(&paging32, 0x00c01234);
	mr.cr3 = 0xfffff000;
	expect_fault(&mr, 0x00c01234);
}

/* ---- PAE ---- */

/* va 0xc0201234: PDPTE 3 at 0x1fe0 + 3*8 = 0x1ff8; PD index
 * (va >> 21) & 511 = 1, PDE at 0x2008; PT index (va >> 12) & 511 = 1, PTE
 * at 0x3008; frame 0x123456000 (above 4 GiB) + 0x234. */
Test(gdb_mmu, pae_4k_by_hand)
{
	put64(0x1ff8, 0x2000 | P);
	put64(0x2008, 0x3000 | P);
	put64(0x3008, 0x123456000ull | P);
	expect(&pae, 0xc0201234, 0x123456234ull, 0xdcc);
	cr_assert_eq(reads, 3);
	cr_assert_eq(read_len, 8, "PAE entries are 8 bytes");
	expect_fault(&pae, 0x100000000ull);
}

Test(gdb_mmu, pae_2m)
{
	map(PDPT, 3, 0xc0201234, 2, 0x123400000ull | PAT_LARGE | PS | P);
	expect(&pae, 0xc0201234, 0x123401234ull, 2 * MiB - 0x1234);
	expect(&pae, 0xc03fffff, 0x1235fffffull, 1);
}

Test(gdb_mmu, pae_2m_unaligned_is_reserved)
{
	map(PDPT, 3, 0xc0201234, 2, 0x123400000ull | 1ull << 13 | PS | P);
	expect_fault(&pae, 0xc0201234);
	put64(path[2], 0x123400000ull | 1ull << 20 | PS | P);
	expect_fault(&pae, 0xc0201234);
}

Test(gdb_mmu, pae_not_present_at_each_level)
{
	map(PDPT, 3, 0x40005000, 1, 0x7000 | P);
	expect(&pae, 0x40005000, 0x7000, 0x1000);
	for (int level = 1; level <= 3; level++) {
		uint64_t e = get64(path[level]);

		put64(path[level], e & ~P);
		expect_fault(&pae, 0x40005000);
		put64(path[level], e);
	}
	expect_fault(&pae, 0x00005000);		/* PDPTE 0 empty */
}

/* PDPTE bits 2:1, 8:5 and 63:52 are reserved; others are not. */
Test(gdb_mmu, pae_pdpte_reserved_bits)
{
	static const unsigned rsvd[] = { 1, 2, 5, 6, 7, 8, 52, 62, 63 };

	map(PDPT, 3, 0x40005000, 1, 0x7000 | P);
	uint64_t e = get64(path[3]);

	for (size_t i = 0; i < sizeof(rsvd) / sizeof(rsvd[0]); i++) {
		put64(path[3], e | 1ull << rsvd[i]);
		expect_fault(&pae, 0x40005000);
	}
	put64(path[3], e | 1ull << 3 | 1ull << 4 | 1ull << 9);	/* PWT PCD avail */
	expect(&pae, 0x40005000, 0x7000, 0x1000);
}

/* Bits 62:52 are reserved in PAE PDEs/PTEs; XD (63) unless EFER.NXE. */
Test(gdb_mmu, pae_entry_reserved_bits)
{
	struct mmu_regs nx = pae;

	nx.efer = EFER_NXE;
	map(PDPT, 3, 0x40005000, 1, 0x7000 | P | 1ull << 52);
	expect_fault(&pae, 0x40005000);
	put64(path[1], 0x7000 | P | 1ull << 62);
	expect_fault(&pae, 0x40005000);
	put64(path[1], 0x7000 | P | XD);
	expect_fault(&pae, 0x40005000);
	expect(&nx, 0x40005000, 0x7000, 0x1000);
	put64(path[1], 0x7000 | P);
	put64(path[2], get64(path[2]) | XD);
	expect_fault(&pae, 0x40005000);
	expect(&nx, 0x40005000, 0x7000, 0x1000);
}

/* ---- 4-level ---- */

/* va 0xffffff8040603abc (canonical, upper half): PML4 index
 * (va >> 39) & 511 = 0x1ff, PML4E at 0x1000 + 0x1ff*8 = 0x1ff8; PDPT index
 * 1, PDPTE at 0x2008; PD index 3, PDE at 0x3018; PT index 3, PTE at
 * 0x4018; frame 0xfedcba000 + 0xabc = 0xfedcbaabc, 0x544 bytes left. */
Test(gdb_mmu, long4_4k_by_hand)
{
	struct mmu_regs mr = long4;

	mr.cr3 |= 0x18;
	put64(0x1ff8, 0x2000 | P);
	put64(0x2008, 0x3000 | P);
	put64(0x3018, 0x4000 | P);
	put64(0x4018, 0xfedcba000ull | P);
	expect(&mr, 0xffffff8040603abcull, 0xfedcbaabcull, 0x544);
	cr_assert_eq(reads, 4);
	cr_assert_eq(read_len, 8);
	expect(&mr, 0xffffff8040603fffull, 0xfedcbafffull, 1);
}

Test(gdb_mmu, long4_ignores_access_rights_and_high_bits)
{
	/* Bits 62:52 are ignored (not reserved) in IA-32e paging; XD with
	 * NXE only forbids fetches, which a debugger does not care about. */
	struct mmu_regs nx = long4;

	nx.efer |= EFER_NXE;
	map(0x1000, 4, 0x7000, 1, 0x9000 | P | 0x7ffull << 52);
	put64(path[4], get64(path[4]) | US | RW | 1ull << 52);
	expect(&long4, 0x7123, 0x9123, 0xedd);
	put64(path[1], 0x9000 | P | XD);
	expect(&nx, 0x7123, 0x9123, 0xedd);
	expect_fault(&long4, 0x7123);		/* XD reserved without NXE */
}

Test(gdb_mmu, long4_2m)
{
	uint64_t va = 0x7fff12345678ull;

	map(0x1000, 4, va, 2, 0x40000000ull | PAT_LARGE | PS | P);
	expect(&long4, va, 0x40000000ull + (va & (2 * MiB - 1)),
	       2 * MiB - (va & (2 * MiB - 1)));
	expect(&long4, va | (2 * MiB - 1), 0x40000000ull + 2 * MiB - 1, 1);
	cr_assert_eq(reads, 6, "three reads per 2 MiB translation");
}

/* PDPTE 1 = 0xc40000083 | PAT: va 0x4abcdef0 -> 0xc40000000 + 0x0abcdef0. */
Test(gdb_mmu, long4_1g)
{
	map(0x1000, 4, 0x4abcdef0, 3, 0xc40000000ull | PAT_LARGE | PS | P);
	expect(&long4, 0x4abcdef0, 0xc4abcdef0ull, GiB - 0x0abcdef0);
	expect(&long4, 0x7fffffff, 0xc7fffffffull, 1);
	expect_fault(&long4, 0x80000000);	/* PDPTE 2 empty */
}

Test(gdb_mmu, long4_1g_unaligned_is_reserved)
{
	map(0x1000, 4, 0x4abcdef0, 3, 0xc40000000ull | 1ull << 13 | PS | P);
	expect_fault(&long4, 0x4abcdef0);
	put64(path[3], 0xc40000000ull | 1ull << 29 | PS | P);
	expect_fault(&long4, 0x4abcdef0);
	put64(path[3], 0xc40000000ull | 1ull << 21 | PS | P);
	expect_fault(&long4, 0x4abcdef0);
}

Test(gdb_mmu, long4_2m_unaligned_is_reserved)
{
	map(0x1000, 4, 0x600000, 2, 0x40000000ull | 1ull << 20 | PS | P);
	expect_fault(&long4, 0x600000);
}

/* The PML4E points to page 0, so were PS ignored the walk would go on,
 * and were it a 512 GiB page its address would be aligned: only the
 * reserved-bit check faults. */
Test(gdb_mmu, long4_ps_in_pml4e_is_reserved)
{
	put64(0x1000, 0x0 | P);
	put64(0x0, 0x2000 | P);
	put64(0x2000, 0x3000 | P);
	put64(0x3000 + 5 * 8, 0x8000 | P);
	expect(&long4, 0x5000, 0x8000, 0x1000);
	put64(0x1000, 0x0 | PS | P);
	expect_fault(&long4, 0x5000);
}

Test(gdb_mmu, long4_not_present_at_each_level)
{
	uint64_t va = 0x00007f0012345000ull;

	map(0x1000, 4, va, 1, 0x8000 | P);
	expect(&long4, va, 0x8000, 0x1000);
	for (int level = 1; level <= 4; level++) {
		uint64_t e = get64(path[level]);

		put64(path[level], e & ~P);
		expect_fault(&long4, va);
		put64(path[level], e);
	}
	expect(&long4, va, 0x8000, 0x1000);
}

Test(gdb_mmu, long4_non_canonical)
{
	/* Map PML4 slot 256 so a walk that forgot the check would succeed. */
	map(0x1000, 4, 0xffff800000000000ull, 1, 0x8000 | P);
	expect(&long4, 0xffff800000000000ull, 0x8000, 0x1000);
	expect_fault(&long4, 0x0000800000000000ull);
	expect_fault(&long4, 0x7fff800000000000ull);
	expect_fault(&long4, 0xfeff800000000000ull);
	cr_assert_eq(reads, 4, "a non-canonical address reads no table");
}

Test(gdb_mmu, long4_table_outside_ram)
{
	struct mmu_regs mr = long4;

	map(0x1000, 4, 0x5000, 1, 0x8000 | P);
	put64(path[2], RAM_SIZE | P);
	expect_fault(&long4, 0x5000);
	put64(path[2], 0x000ffffffffff000ull | P);	/* the top of 52 bits */
	expect_fault(&long4, 0x5000);
	mr.cr3 = 0x80000000;
	expect_fault(&mr, 0x5000);
}

/* ---- 5-level ---- */

/* va 0x00ff000000001234 (bit 56 clear: canonical): PML5 index
 * (va >> 48) & 511 = 0xff, PML5E at 0x1000 + 0xff*8 = 0x17f8; the 4-level
 * indexes are all 0 but the PT's, 1. */
Test(gdb_mmu, long5_4k_by_hand)
{
	put64(0x17f8, 0x2000 | P);
	put64(0x2000, 0x3000 | P);
	put64(0x3000, 0x4000 | P);
	put64(0x4000, 0x5000 | P);
	put64(0x5008, 0xabcdef000ull | P);
	expect(&long5, 0x00ff000000001234ull, 0xabcdef234ull, 0xdcc);
	cr_assert_eq(reads, 5);
	/* The same address is not canonical with 48 bits. */
	expect_fault(&long4, 0x00ff000000001234ull);
}

Test(gdb_mmu, long5_canonical_57_bits)
{
	uint64_t high = 0xff00000000000000ull;	/* bit 56 set, 63:57 set */

	map(0x1000, 5, high, 1, 0x8000 | P);
	expect(&long5, high, 0x8000, 0x1000);
	/* 48-bit canonical, and so 57-bit canonical too. */
	map(0x1000, 5, 0xffff800000000000ull, 1, 0x9000 | P);
	expect(&long5, 0xffff800000000000ull, 0x9000, 0x1000);
	expect_fault(&long5, 0x0100000000000000ull);
	expect_fault(&long5, 0xfe00000000000000ull);
	expect_fault(&long5, 0x8000000000000000ull);
}

Test(gdb_mmu, long5_pages_and_not_present)
{
	uint64_t va = 0x0012345678000000ull;

	map(0x1000, 5, va, 2, 0x40000000ull | PS | P);
	expect(&long5, va + 0x1fffff, 0x401fffffull, 1);
	map(0x1000, 5, va + GiB, 3, 0x80000000ull | PS | P);
	expect(&long5, va + GiB, 0x80000000ull + (va & (GiB - 1)),
	       GiB - (va & (GiB - 1)));
	for (int level = 3; level <= 5; level++) {
		uint64_t e = get64(path[level]);

		put64(path[level], e & ~P);
		expect_fault(&long5, va + GiB);
		put64(path[level], e);
	}
}

/* As for 4-level: the PML5E and PML4E point to pages 0 and 1, addresses
 * that would pass as huge-page frames. */
Test(gdb_mmu, long5_ps_in_pml5e_and_pml4e_is_reserved)
{
	struct mmu_regs mr = long5;

	mr.cr3 = 0x2000;
	put64(0x2000, 0x0 | P);
	put64(0x0, 0x1000 | P);
	put64(0x1000, 0x3000 | P);
	put64(0x3000, 0x4000 | P);
	put64(0x4000 + 5 * 8, 0x8000 | P);
	expect(&mr, 0x5000, 0x8000, 0x1000);
	put64(0x2000, 0x0 | PS | P);
	expect_fault(&mr, 0x5000);
	put64(0x2000, 0x0 | P);
	put64(0x0, 0x1000 | PS | P);
	expect_fault(&mr, 0x5000);
}
