/* RSDP search (ACPI 6.5, 5.2.5.1), then the RSDT or XSDT, then the MADT's
 * processor entries, the FADT and what it points to. Tables are read in
 * place: start.S identity maps the low 8 GiB. */
#include "acpi.h"

#include "io.h"
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

#define MADT_LAPIC	0	/* u8 uid, u8 APIC ID, u32 flags */
#define MADT_IOAPIC	1	/* u8 id, u8 reserved, u32 address, u32 GSI base */
#define MADT_OVERRIDE	2	/* u8 bus (0: ISA), u8 source IRQ, u32 GSI, u16 flags */
#define MADT_X2APIC	9	/* u16 reserved, u32 x2APIC ID, u32 flags, u32 uid */
#define MADT_ENABLED	1u

bool acpi_checksum_ok(const void *p, uint32_t len)
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

		if (!memcmp(r->sig, "RSD PTR ", 8) && acpi_checksum_ok(r, 20))
			return r;
	}
	return 0;
}

/* The first KiB of the EBDA, then the BIOS area 0xE0000-0xFFFFF. Found
 * once: the scan costs ~0.1 s where CPL0 code is emulated, and the tables
 * stay put (an S3 resume included). */
static const struct rsdp *rsdp_find(void)
{
	static const struct rsdp *found;
	uintptr_t bda_ebda = 0x40e;	/* the EBDA's segment, in the BDA */
	uint64_t ebda;
	const struct rsdp *r = 0;

	if (found)
		return found;
	/* Hide the constant address from GCC's -Warray-bounds (address 0 +). */
	__asm__("" : "+r"(bda_ebda));
	ebda = (uint64_t)*(volatile uint16_t *)bda_ebda << 4;

	if (ebda >= 0x80000 && ebda < 0xa0000)
		r = rsdp_scan(ebda, 1024);
	found = r ? r : rsdp_scan(0xe0000, 0x20000);
	return found;
}

static const struct sdt_header *sdt_check(uint64_t addr, const char *sig)
{
	const struct sdt_header *h = (const void *)(uintptr_t)addr;

	if (!addr || memcmp(h->sig, sig, 4) || h->length < sizeof(*h) ||
	    !acpi_checksum_ok(h, h->length))
		return 0;
	return h;
}

/* The table with @sig among the RSDT's 32-bit or the XSDT's 64-bit
 * pointers, checksum checked. */
static const struct sdt_header *table_find(const struct sdt_header *sdt, bool x,
					   const char *sig)
{
	const uint8_t *p = (const uint8_t *)(sdt + 1);
	unsigned n = (sdt->length - sizeof(*sdt)) / (x ? 8 : 4);

	for (unsigned i = 0; i < n; i++) {
		uint64_t a = 0;
		const struct sdt_header *h;

		memcpy(&a, p + i * (x ? 8 : 4), x ? 8 : 4);
		h = (const void *)(uintptr_t)a;
		if (a && !memcmp(h->sig, sig, 4))
			return sdt_check(a, sig);
	}
	return 0;
}

/* I/O APIC and interrupt source override entries; false for others. */
static bool madt_irq_entry(const uint8_t *p, struct madt_info *mi)
{
	if (p[0] == MADT_IOAPIC && p[1] >= 12) {
		if (!mi->nioapics++) {
			memcpy(&mi->ioapic_addr, p + 4, 4);
			memcpy(&mi->ioapic_gsi_base, p + 8, 4);
		}
		return true;
	}
	if (p[0] == MADT_OVERRIDE && p[1] >= 10) {
		if (p[2] == 0 && p[3] < ACPI_ISA_IRQS) {
			memcpy(&mi->isa_gsi[p[3]], p + 4, 4);
			memcpy(&mi->isa_flags[p[3]], p + 8, 2);
		}
		return true;
	}
	return false;
}

static int madt_parse(const struct sdt_header *madt, struct madt_info *mi,
		      const char **why)
{
	const uint8_t *p = (const uint8_t *)(madt + 1) + 8, *end;
	uint32_t id, flags;

	memcpy(&mi->lapic_addr, madt + 1, 4);
	for (unsigned i = 0; i < ACPI_ISA_IRQS; i++)
		mi->isa_gsi[i] = i;
	end = (const uint8_t *)madt + madt->length;
	for (; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1]) {
		if (madt_irq_entry(p, mi))
			continue;
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

static bool use_xsdt(const struct rsdp *r)
{
	return r->revision >= 2 && r->xsdt;
}

const void *acpi_rsdp(void)
{
	const struct rsdp *r = rsdp_find();

	if (r && use_xsdt(r) && (r->length < sizeof(*r) || !acpi_checksum_ok(r, r->length)))
		return 0;
	return r;
}

/* The XSDT, or the RSDT of a revision 0 RSDP; checksum checked. */
static const struct sdt_header *root_table(const struct rsdp *r)
{
	return use_xsdt(r) ? sdt_check(r->xsdt, "XSDT") : sdt_check(r->rsdt, "RSDT");
}

bool acpi_table_at(unsigned i, const struct sdt_header **h)
{
	const struct rsdp *r = acpi_rsdp();
	const struct sdt_header *sdt = r ? root_table(r) : 0;
	unsigned w = r && use_xsdt(r) ? 8 : 4;
	uint64_t a = 0;

	if (!sdt || i >= (sdt->length - sizeof(*sdt)) / w)
		return false;
	memcpy(&a, (const uint8_t *)(sdt + 1) + i * w, w);
	*h = (const void *)(uintptr_t)a;
	return true;
}

const struct sdt_header *acpi_find_table(const char *sig)
{
	const struct rsdp *r = acpi_rsdp();
	const struct sdt_header *sdt = r ? root_table(r) : 0;

	return sdt ? table_find(sdt, use_xsdt(r), sig) : 0;
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
	x = use_xsdt(r);
	if (!acpi_rsdp()) {
		*why = "RSDP extended checksum is wrong";
		return -1;
	}
	sdt = root_table(r);
	if (!sdt) {
		*why = x ? "XSDT missing or bad checksum" : "RSDT missing or bad checksum";
		return -1;
	}
	mi->sdt = (uintptr_t)sdt;
	memcpy(mi->sdt_sig, sdt->sig, 4);
	madt = table_find(sdt, x, "APIC");
	if (!madt) {
		*why = "no MADT, or its checksum is wrong";
		return -1;
	}
	mi->madt = (uintptr_t)madt;
	return madt_parse(madt, mi, why);
}

/* FADT field offsets (ACPI 6.5, table 5.9). */
#define FADT_FIRMWARE_CTRL	36
#define FADT_DSDT		40
#define FADT_SCI_INT		46
#define FADT_SMI_CMD		48
#define FADT_PM1A_EVT_BLK	56
#define FADT_PM1A_CNT_BLK	64
#define FADT_PM_TMR_BLK		76
#define FADT_PM1_EVT_LEN	88
#define FADT_PM1_CNT_LEN	89
#define FADT_PM_TMR_LEN		91
#define FADT_FLAGS		112
#define FADT_RESET_REG		116
#define FADT_RESET_VALUE	128
#define FADT_X_FIRMWARE_CTRL	132
#define FADT_X_DSDT		140

/* @len bytes at @off of the FADT, or zeros past its end (older, shorter
 * FADT revisions). */
static uint64_t fadt_field(const struct sdt_header *fadt, unsigned off, unsigned len)
{
	uint64_t v = 0;

	if (off + len <= fadt->length)
		memcpy(&v, (const uint8_t *)fadt + off, len);
	return v;
}

int acpi_read_fadt(struct fadt_info *f, const char **why)
{
	const struct sdt_header *fadt = acpi_find_table("FACP");
	uint64_t dsdt;

	memset(f, 0, sizeof(*f));
	if (!fadt) {
		*why = "no FADT, or its checksum is wrong";
		return -1;
	}
	f->fadt = fadt;
	f->facs = fadt_field(fadt, FADT_X_FIRMWARE_CTRL, 8);
	if (!f->facs)
		f->facs = fadt_field(fadt, FADT_FIRMWARE_CTRL, 4);
	dsdt = fadt_field(fadt, FADT_X_DSDT, 8);
	f->dsdt = sdt_check(dsdt ? dsdt : fadt_field(fadt, FADT_DSDT, 4), "DSDT");
	f->sci = (uint16_t)fadt_field(fadt, FADT_SCI_INT, 2);
	f->smi_cmd = (uint32_t)fadt_field(fadt, FADT_SMI_CMD, 4);
	f->pm1a_evt = (uint32_t)fadt_field(fadt, FADT_PM1A_EVT_BLK, 4);
	f->pm1a_cnt = (uint32_t)fadt_field(fadt, FADT_PM1A_CNT_BLK, 4);
	f->pm_tmr = (uint32_t)fadt_field(fadt, FADT_PM_TMR_BLK, 4);
	f->pm1_evt_len = (uint8_t)fadt_field(fadt, FADT_PM1_EVT_LEN, 1);
	f->pm1_cnt_len = (uint8_t)fadt_field(fadt, FADT_PM1_CNT_LEN, 1);
	f->pm_tmr_len = (uint8_t)fadt_field(fadt, FADT_PM_TMR_LEN, 1);
	f->flags = (uint32_t)fadt_field(fadt, FADT_FLAGS, 4);
	if (fadt->length >= FADT_RESET_VALUE + 1) {
		memcpy(&f->reset_reg, (const uint8_t *)fadt + FADT_RESET_REG,
		       sizeof(f->reset_reg));
		f->reset_value = (uint8_t)fadt_field(fadt, FADT_RESET_VALUE, 1);
	}
	if (!f->dsdt) {
		*why = "no DSDT, or its checksum is wrong";
		return -1;
	}
	return 0;
}

/* AML (ACPI 6.5, 20.2): Name(_Sx_, Package(){ SLP_TYPa, ... }) is NameOp
 * 0x08, the name, PackageOp 0x12, a PkgLength of 1-4 bytes (the lead
 * byte's top two bits count the bytes that follow), NumElements, then the
 * first element as ZeroOp, OneOp or a Byte/Word/DWord prefix. */
#define AML_NAME_OP	0x08
#define AML_PACKAGE_OP	0x12
#define AML_ZERO_OP	0x00
#define AML_ONE_OP	0x01
#define AML_BYTE_PREFIX	0x0a
#define AML_WORD_PREFIX	0x0b
#define AML_DWORD_PREFIX 0x0c

static int aml_integer(const uint8_t *p, const uint8_t *end)
{
	unsigned size = p[0] == AML_BYTE_PREFIX ? 1 : p[0] == AML_WORD_PREFIX ? 2 :
			p[0] == AML_DWORD_PREFIX ? 4 : 0;
	uint32_t v = 0;

	if (p[0] == AML_ZERO_OP || p[0] == AML_ONE_OP)
		return p[0];
	if (!size || p + 1 + size > end)
		return -1;
	memcpy(&v, p + 1, size);
	return v > 7 ? -1 : (int)v;	/* SLP_TYP is 3 bits */
}

int acpi_sleep_type(const struct sdt_header *dsdt, const char *name)
{
	const uint8_t *p = (const uint8_t *)(dsdt + 1);
	const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;

	/* name, PackageOp, PkgLength, NumElements, an element: 8 bytes */
	for (; p + 8 <= end; p++) {
		const uint8_t *q = p + 4;

		if (memcmp(p, name, 4) || (p[-1] != AML_NAME_OP &&
		    (p[-1] != '\\' || p[-2] != AML_NAME_OP)) || *q != AML_PACKAGE_OP)
			continue;
		q += 2 + (q[1] >> 6);	/* PackageOp, PkgLength */
		return q + 2 <= end ? aml_integer(q + 1, end) : -1; /* past NumElements */
	}
	return -1;
}

void acpi_enter_sleep(const struct fadt_info *f, unsigned slp_typ)
{
	uint16_t cnt = inw((uint16_t)f->pm1a_cnt) & ~(PM1_CNT_SLP_TYP | PM1_CNT_SLP_EN);

	outw((uint16_t)f->pm1a_cnt, cnt | (uint16_t)(slp_typ << PM1_CNT_SLP_TYP_SHIFT));
	outw((uint16_t)f->pm1a_cnt, cnt | (uint16_t)(slp_typ << PM1_CNT_SLP_TYP_SHIFT) |
	     PM1_CNT_SLP_EN);
}

/* Tables are firmware data: a length past this is junk, not a table. */
#define DUMP_MAX	(1u << 20)

static void dump_bytes(const char *sig, const void *p, uint32_t len)
{
	const uint8_t *b = p;

	if (len > DUMP_MAX) {
		printf("# acpi %s: length %u, not dumped\n", sig, len);
		return;
	}

	for (uint32_t off = 0; off < len; off += 16) {
		char line[80];
		int n = snprintf(line, sizeof(line), "# acpi %s %u:", sig, off);

		for (uint32_t i = off; i < len && i < off + 16; i++)
			n += snprintf(line + n, sizeof(line) - n, " %02x", b[i]);
		printf("%s\n", line);
	}
}

static void dump_table(const struct sdt_header *h)
{
	char sig[5] = { 0 };

	memcpy(sig, h->sig, 4);
	dump_bytes(sig, h, h->length);
}

void acpi_dump(void)
{
	const struct rsdp *r = acpi_rsdp();
	const struct sdt_header *sdt = r ? root_table(r) : 0, *h;
	struct fadt_info f;
	const char *why;

	if (!sdt) {
		printf("# acpi: no RSDP, or no RSDT/XSDT\n");
		return;
	}
	dump_bytes("RSDP", r, use_xsdt(r) ? r->length : 20);
	dump_table(sdt);
	for (unsigned i = 0; acpi_table_at(i, &h); i++)
		if (h)
			dump_table(h);
	if (acpi_read_fadt(&f, &why))
		return;
	if (f.facs && !memcmp((const void *)(uintptr_t)f.facs, "FACS", 4))
		dump_bytes("FACS", (const void *)(uintptr_t)f.facs,
			   ((const struct acpi_facs *)(uintptr_t)f.facs)->length);
	dump_table(f.dsdt);
}
