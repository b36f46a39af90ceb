/* RSDP search (ACPI 6.5, 5.2.5.1), then the RSDT or XSDT, then the MADT's
 * processor entries. Tables are read in place: start.S identity maps the
 * low 8 GiB. */
#include "acpi.h"

#include <stdbool.h>

#include "lib.h"

struct rsdp {
	char sig[8];
	uint8_t checksum;
	char oem[6];
	uint8_t revision;	/* 0: ACPI 1.0 (20 bytes); 2: with an XSDT */
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t xchecksum, reserved[3];
} __attribute__((packed));

struct sdt_header {
	char sig[4];
	uint32_t length;
	uint8_t revision, checksum;
	char oem[6], oem_table[8];
	uint32_t oem_revision, creator, creator_revision;
} __attribute__((packed));

#define MADT_LAPIC	0	/* u8 uid, u8 APIC ID, u32 flags */
#define MADT_X2APIC	9	/* u16 reserved, u32 x2APIC ID, u32 flags, u32 uid */
#define MADT_ENABLED	1u

static bool sum_ok(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (len--)
		s += *b++;
	return s == 0;
}

static const struct rsdp *rsdp_scan(uint64_t start, uint64_t len)
{
	for (uint64_t a = start; a < start + len; a += 16) {
		const struct rsdp *r = (const void *)(uintptr_t)a;

		if (!memcmp(r->sig, "RSD PTR ", 8) && sum_ok(r, 20))
			return r;
	}
	return 0;
}

/* The first KiB of the EBDA, then the BIOS area 0xE0000-0xFFFFF. */
static const struct rsdp *rsdp_find(void)
{
	uintptr_t bda_ebda = 0x40e;	/* the EBDA's segment, in the BDA */
	uint64_t ebda;
	const struct rsdp *r = 0;

	/* Hide the constant address from GCC's -Warray-bounds (address 0 +). */
	__asm__("" : "+r"(bda_ebda));
	ebda = (uint64_t)*(volatile uint16_t *)bda_ebda << 4;

	if (ebda >= 0x80000 && ebda < 0xa0000)
		r = rsdp_scan(ebda, 1024);
	return r ? r : rsdp_scan(0xe0000, 0x20000);
}

static const struct sdt_header *sdt_check(uint64_t addr, const char *sig)
{
	const struct sdt_header *h = (const void *)(uintptr_t)addr;

	if (!addr || memcmp(h->sig, sig, 4) || h->length < sizeof(*h) ||
	    !sum_ok(h, h->length))
		return 0;
	return h;
}

/* The MADT among the RSDT's 32-bit or the XSDT's 64-bit pointers. */
static const struct sdt_header *madt_find(const struct sdt_header *sdt, bool x)
{
	const uint8_t *p = (const uint8_t *)(sdt + 1);
	unsigned n = (sdt->length - sizeof(*sdt)) / (x ? 8 : 4);

	for (unsigned i = 0; i < n; i++) {
		uint64_t a = 0;
		const struct sdt_header *h;

		memcpy(&a, p + i * (x ? 8 : 4), x ? 8 : 4);
		h = (const void *)(uintptr_t)a;
		if (a && !memcmp(h->sig, "APIC", 4))
			return sdt_check(a, "APIC");
	}
	return 0;
}

static int madt_parse(const struct sdt_header *madt, struct madt_info *mi,
		      const char **why)
{
	const uint8_t *p = (const uint8_t *)(madt + 1) + 8, *end;
	uint32_t id, flags;

	memcpy(&mi->lapic_addr, madt + 1, 4);
	end = (const uint8_t *)madt + madt->length;
	for (; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1]) {
		if (p[0] == MADT_LAPIC && p[1] >= 8) {
			id = p[3];
			memcpy(&flags, p + 4, 4);
		} else if (p[0] == MADT_X2APIC && p[1] >= 16) {
			memcpy(&id, p + 4, 4);
			memcpy(&flags, p + 8, 4);
		} else {
			continue;
		}
		if (!(flags & MADT_ENABLED))
			continue;
		if (mi->ncpus == ACPI_MAX_CPUS) {
			*why = "more CPUs than the guest handles";
			return -1;
		}
		mi->apic_ids[mi->ncpus++] = id;
	}
	if (p != end) {
		*why = "MADT entries overrun the table";
		return -1;
	}
	return 0;
}

int acpi_read_madt(struct madt_info *mi, const char **why)
{
	const struct rsdp *r = rsdp_find();
	const struct sdt_header *sdt, *madt;
	bool x;

	memset(mi, 0, sizeof(*mi));
	if (!r) {
		*why = "no RSDP with a good checksum";
		return -1;
	}
	mi->rsdp = (uintptr_t)r;
	x = r->revision >= 2 && r->xsdt;
	if (x && (r->length < sizeof(*r) || !sum_ok(r, r->length))) {
		*why = "RSDP extended checksum is wrong";
		return -1;
	}
	sdt = x ? sdt_check(r->xsdt, "XSDT") : sdt_check(r->rsdt, "RSDT");
	if (!sdt) {
		*why = x ? "XSDT missing or bad checksum" : "RSDT missing or bad checksum";
		return -1;
	}
	mi->sdt = (uintptr_t)sdt;
	memcpy(mi->sdt_sig, sdt->sig, 4);
	madt = madt_find(sdt, x);
	if (!madt) {
		*why = "no MADT, or its checksum is wrong";
		return -1;
	}
	mi->madt = (uintptr_t)madt;
	return madt_parse(madt, mi, why);
}
