/* ACPI tables (ACPI 6.5, chapter 5), laid out one after the other in the
 * board's RAM buffer: FACS, DSDT, MADT, FADT, HPET (if any), RSDT, XSDT;
 * then the RSDP.
 *
 * Where QEMU's pc differs, and why:
 * - QEMU's pc gives a revision 1 FADT (for Windows 2000) behind an RSDT only;
 *   ours is revision 3 (ACPI 2.0 layout) behind an RSDT and an XSDT, so that
 *   the reset register and the X_ blocks are there.
 * - SMI_CMD is 0: ACPI mode is always on (SCI_EN set from power-on), as
 *   QEMU's pc has it when SMM is off.
 * - X_FIRMWARE_CTRL is 0 and FIRMWARE_CTRL points at the FACS: ACPI 4.0 and
 *   later allow only one of them to be set, and QEMU does the same. */
#include "vmm/acpi.h"

#include <string.h>

#include "devices/acpi/pm.h"
#include "devices/error.h"
#include "devices/intc/lapic.h"
#include "devices/timer/mc146818rtc.h"

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;	/* of the first 20 bytes (the ACPI 1.0 part) */
	char oem_id[6];
	uint8_t revision;	/* 2: with the XSDT and the fields below */
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum;	/* of all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

/* Generic Address Structure (5.2.3.2). */
struct acpi_gas {
	uint8_t space_id;	/* 1: system I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;	/* 1: byte, 2: word, 3: dword */
	uint64_t address;
} __attribute__((packed));

#define GAS_SYSTEM_MEMORY 0
#define GAS_SYSTEM_IO	1
#define GAS_BYTE	1
#define GAS_WORD	2
#define GAS_DWORD	3

/* The IA-PC HPET specification's table (1.0a, 3.2.4). */
struct acpi_hpet {
	struct acpi_header h;
	uint32_t event_timer_block_id;
	struct acpi_gas base_address;
	uint8_t hpet_number;
	uint16_t min_clock_tick;	/* periodic mode, in counter ticks */
	uint8_t page_protection;
} __attribute__((packed));

/* Firmware ACPI Control Structure (5.2.10): no header checksum. */
struct acpi_facs {
	char signature[4];
	uint32_t length;
	uint32_t hardware_signature;
	uint32_t firmware_waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version;
	uint8_t reserved[3];
	uint32_t ospm_flags;
	uint8_t reserved2[24];
} __attribute__((packed));

/* Fixed ACPI Description Table (5.2.9), revision 3: up to X_GPE1_BLK. */
struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved;	/* ACPI 1.0's INT_MODEL */
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
	uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat;
	uint16_t flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved2;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint8_t reserved3[3];
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_rsdp) == ACPI_RSDP_SIZE, "RSDP revision 2");
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS");
_Static_assert(sizeof(struct acpi_fadt) == 244, "FADT revision 3");

/* FADT flags (table 5.10) and IA-PC boot architecture flags (table 5.11). */
#define FADT_WBINVD			(1u << 0)
#define FADT_PROC_C1			(1u << 2)
#define FADT_SLP_BUTTON			(1u << 5)	/* no fixed sleep button */
#define FADT_RTC_S4			(1u << 7)
#define FADT_RESET_REG_SUP		(1u << 10)
#define FADT_USE_PLATFORM_CLOCK		(1u << 15)
#define FADT_FORCE_APIC_CLUSTER_MODEL	(1u << 18)
#define IAPC_BOOT_ARCH_8042		(1u << 1)
#define C_STATE_NONE			0xfff	/* P_LVLx_LAT: no C2, no C3 */

struct acpi_madt_lapic {
	uint8_t type;		/* 0: processor local APIC */
	uint8_t length;		/* 8 */
	uint8_t processor_id;
	uint8_t apic_id;
	uint32_t flags;		/* bit 0: enabled */
} __attribute__((packed));

struct acpi_madt_ioapic {
	uint8_t type;		/* 1: I/O APIC */
	uint8_t length;		/* 12 */
	uint8_t id, reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));

struct acpi_madt_override {
	uint8_t type;		/* 2: interrupt source override */
	uint8_t length;		/* 10 */
	uint8_t bus;		/* 0: ISA */
	uint8_t source;		/* ISA IRQ */
	uint32_t gsi;
	uint16_t flags;		/* MPS INTI flags: polarity 1:0, trigger 3:2 */
} __attribute__((packed));

struct acpi_madt_lapic_nmi {
	uint8_t type;		/* 4: local APIC NMI */
	uint8_t length;		/* 6 */
	uint8_t processor_uid;	/* 0xff: all */
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));

struct acpi_madt {
	struct acpi_header h;
	uint32_t lapic_address;
	uint32_t flags;		/* PCAT_COMPAT: a dual 8259 the OS must mask */
	struct acpi_madt_lapic cpu[];
} __attribute__((packed));

#define MADT_PCAT_COMPAT	(1u << 0)
#define MADT_INTI_HIGH_LEVEL	0x000d	/* active high, level triggered */
/* QEMU pc's overrides: ISA IRQ 0 is I/O APIC pin 2; the SCI (9) and the
 * PCI interrupt lines (5, 10, 11) are level triggered, active high. */
static const struct { uint8_t irq, gsi; uint16_t flags; } madt_overrides[] = {
	{ 0, 2, 0 }, { 5, 5, MADT_INTI_HIGH_LEVEL }, { 9, 9, MADT_INTI_HIGH_LEVEL },
	{ 10, 10, MADT_INTI_HIGH_LEVEL }, { 11, 11, MADT_INTI_HIGH_LEVEL },
};
#define MADT_NOVERRIDES (sizeof(madt_overrides) / sizeof(madt_overrides[0]))

/* The DSDT's AML (ACPI 6.5, chapter 20): the sleep types of pm.h. A package
 * is PackageOp, PkgLength (its own byte onwards, < 64: one byte),
 * NumElements, the elements; 0 and 1 have their own opcodes. */
#define AML_ZERO	0x00
#define AML_ONE		0x01
#define AML_NAME	0x08
#define AML_BYTE	0x0a	/* BytePrefix */
#define AML_PACKAGE	0x12

_Static_assert(ACPI_SLP_TYP_S3 == 1 && ACPI_SLP_TYP_S4 == 2 && ACPI_SLP_TYP_S5 == 0,
	       "dsdt_aml encodes these values");

static const uint8_t dsdt_aml[] = {
	/* Name (_S3_, Package (0x04) { One, One, Zero, Zero }) */
	AML_NAME, '_', 'S', '3', '_', AML_PACKAGE, 6, 4,
	AML_ONE, AML_ONE, AML_ZERO, AML_ZERO,
	/* Name (_S4_, Package (0x04) { 0x02, 0x02, Zero, Zero }) */
	AML_NAME, '_', 'S', '4', '_', AML_PACKAGE, 8, 4,
	AML_BYTE, 2, AML_BYTE, 2, AML_ZERO, AML_ZERO,
	/* Name (_S5_, Package (0x04) { Zero, Zero, Zero, Zero }) */
	AML_NAME, '_', 'S', '5', '_', AML_PACKAGE, 6, 4,
	AML_ZERO, AML_ZERO, AML_ZERO, AML_ZERO,
};

/* The buffer the tables go into, filled from the start. */
struct acpi_layout {
	uint8_t *buf;
	uint64_t gpa, size, used;
};

/* @len zeroed bytes at the next guest address aligned to @align (a power
 * of two), at *@gpa; NULL when they do not fit. */
static void *acpi_alloc(struct acpi_layout *l, uint64_t len, uint64_t align,
			uint32_t *gpa)
{
	uint64_t at = ((l->gpa + l->used + align - 1) & ~(align - 1)) - l->gpa;

	if (at > l->size || len > l->size - at)
		return NULL;
	l->used = at + len;
	*gpa = (uint32_t)(l->gpa + at);
	return memset(l->buf + at, 0, len);
}

/* Every table's bytes sum to 0. */
static uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return (uint8_t)-sum;
}

/* A table of @length bytes at @h, whose body is already filled. */
static void acpi_table_finish(struct acpi_header *h, const char *sig,
			      uint32_t length, uint8_t revision)
{
	memcpy(h->signature, sig, 4);
	h->length = length;
	h->revision = revision;
	memcpy(h->oem_id, "TINYVM", 6);
	memcpy(h->oem_table_id, "TINYVMM ", 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, "TVMM", 4);
	h->creator_revision = 1;
	h->checksum = 0;
	h->checksum = acpi_checksum(h, length);
}

/* 64-byte aligned, as the FACS must be. */
static int build_facs(struct acpi_layout *l, uint32_t *gpa)
{
	struct acpi_facs *facs = acpi_alloc(l, sizeof(*facs), 64, gpa);

	if (!facs)
		return -1;
	memcpy(facs->signature, "FACS", 4);
	facs->length = sizeof(*facs);
	facs->version = 2;
	return 0;
}

static int build_dsdt(struct acpi_layout *l, uint32_t *gpa)
{
	uint32_t len = sizeof(struct acpi_header) + sizeof(dsdt_aml);
	struct acpi_header *dsdt = acpi_alloc(l, len, 16, gpa);

	if (!dsdt)
		return -1;
	memcpy(dsdt + 1, dsdt_aml, sizeof(dsdt_aml));
	acpi_table_finish(dsdt, "DSDT", len, 2);	/* 2: 64-bit AML integers */
	return 0;
}

/* After the CPUs: the I/O APIC, the overrides, LINT1 as NMI on every CPU
 * (firmware's virtual-wire set-up), as QEMU's pc lists them. */
static void madt_add_platform(uint8_t *p)
{
	struct acpi_madt_ioapic io = { 1, 12, ACPI_IOAPIC_ID, 0, ACPI_IOAPIC_BASE, 0 };
	struct acpi_madt_lapic_nmi nmi = { 4, 6, 0xff, 0, 1 };

	memcpy(p, &io, sizeof(io));
	p += sizeof(io);
	for (unsigned i = 0; i < MADT_NOVERRIDES; i++, p += sizeof(struct acpi_madt_override)) {
		struct acpi_madt_override o = { 2, 10, 0, madt_overrides[i].irq,
						madt_overrides[i].gsi, madt_overrides[i].flags };

		memcpy(p, &o, sizeof(o));
	}
	memcpy(p, &nmi, sizeof(nmi));
}

static int build_madt(struct acpi_layout *l, unsigned ncpus, uint32_t *gpa)
{
	uint32_t cpus = ncpus * sizeof(struct acpi_madt_lapic);
	uint32_t len = sizeof(struct acpi_madt) + cpus + sizeof(struct acpi_madt_ioapic) +
		       MADT_NOVERRIDES * sizeof(struct acpi_madt_override) +
		       sizeof(struct acpi_madt_lapic_nmi);
	struct acpi_madt *madt = acpi_alloc(l, len, 16, gpa);

	if (!madt)
		return -1;
	madt->lapic_address = APIC_DEFAULT_BASE;
	madt->flags = MADT_PCAT_COMPAT;
	for (unsigned i = 0; i < ncpus; i++)
		madt->cpu[i] = (struct acpi_madt_lapic){ 0, 8, (uint8_t)i, (uint8_t)i, 1 };
	madt_add_platform((uint8_t *)madt->cpu + cpus);
	acpi_table_finish(&madt->h, "APIC", len, 3);
	return 0;
}

static struct acpi_gas io_gas(uint16_t port, unsigned bytes, uint8_t access_size)
{
	return (struct acpi_gas){ .space_id = GAS_SYSTEM_IO, .bit_width = (uint8_t)(8 * bytes),
				  .access_size = access_size, .address = port };
}

/* The PM blocks of devices/acpi/pm.h, both as ports and as X_ addresses. */
static void fadt_pm_blocks(struct acpi_fadt *f)
{
	f->sci_int = ACPI_SCI_IRQ;
	f->pm1a_evt_blk = ACPI_PM1A_EVT_BLK;
	f->pm1a_cnt_blk = ACPI_PM1A_CNT_BLK;
	f->pm_tmr_blk = ACPI_PM_TMR_BLK;
	f->pm1_evt_len = ACPI_PM1_EVT_LEN;
	f->pm1_cnt_len = ACPI_PM1_CNT_LEN;
	f->pm_tmr_len = ACPI_PM_TMR_LEN;
	f->x_pm1a_evt_blk = io_gas(ACPI_PM1A_EVT_BLK, ACPI_PM1_EVT_LEN, GAS_WORD);
	f->x_pm1a_cnt_blk = io_gas(ACPI_PM1A_CNT_BLK, ACPI_PM1_CNT_LEN, GAS_WORD);
	f->x_pm_tmr_blk = io_gas(ACPI_PM_TMR_BLK, ACPI_PM_TMR_LEN, GAS_DWORD);
}

static int build_fadt(struct acpi_layout *l, uint32_t facs, uint32_t dsdt,
		      unsigned ncpus, uint32_t *gpa)
{
	struct acpi_fadt *f = acpi_alloc(l, sizeof(*f), 16, gpa);

	if (!f)
		return -1;
	f->firmware_ctrl = facs;
	f->dsdt = dsdt;
	f->x_dsdt = dsdt;
	fadt_pm_blocks(f);
	f->p_lvl2_lat = C_STATE_NONE;
	f->p_lvl3_lat = C_STATE_NONE;
	f->century = RTC_CENTURY;
	f->iapc_boot_arch = IAPC_BOOT_ARCH_8042;
	/* As QEMU's; TMR_VAL_EXT clear: the PM timer has 24 bits. Flat
	 * logical APIC mode reaches only 8 CPUs. */
	f->flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_RTC_S4 |
		   FADT_RESET_REG_SUP | FADT_USE_PLATFORM_CLOCK |
		   (ncpus > 8 ? FADT_FORCE_APIC_CLUSTER_MODEL : 0);
	f->reset_reg = io_gas(ACPI_RESET_PORT, 1, GAS_BYTE);
	f->reset_value = ACPI_RESET_VALUE;
	acpi_table_finish(&f->h, "FACP", sizeof(*f), 3);
	return 0;
}

/* As QEMU's: the base in system memory, width, offset and access size 0. */
static int build_hpet(struct acpi_layout *l, const struct acpi_config *cfg, uint32_t *gpa)
{
	struct acpi_hpet *t = acpi_alloc(l, sizeof(*t), 16, gpa);

	if (!t)
		return -1;
	t->event_timer_block_id = cfg->hpet_block_id;
	t->base_address = (struct acpi_gas){ .space_id = GAS_SYSTEM_MEMORY,
					     .address = cfg->hpet_base };
	t->min_clock_tick = cfg->hpet_min_tick;
	acpi_table_finish(&t->h, "HPET", sizeof(*t), 1);
	return 0;
}

/* The RSDT (@entry_size 4) or the XSDT (8): the addresses of @n tables. */
static int build_sdt(struct acpi_layout *l, const char *sig, unsigned entry_size,
		     const uint32_t *tables, unsigned n, uint32_t *gpa)
{
	uint32_t len = sizeof(struct acpi_header) + n * entry_size;
	struct acpi_header *sdt = acpi_alloc(l, len, 16, gpa);

	if (!sdt)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		uint64_t a = tables[i];

		memcpy((uint8_t *)(sdt + 1) + i * entry_size, &a, entry_size);	/* LE */
	}
	acpi_table_finish(sdt, sig, len, 1);
	return 0;
}

static void fill_rsdp(uint8_t out[ACPI_RSDP_SIZE], uint32_t rsdt, uint32_t xsdt)
{
	struct acpi_rsdp r = {
		.revision = 2,
		.rsdt_address = rsdt,
		.length = sizeof(r),
		.xsdt_address = xsdt,
	};

	memcpy(r.signature, "RSD PTR ", 8);
	memcpy(r.oem_id, "TINYVM", 6);
	r.checksum = acpi_checksum(&r, 20);
	r.extended_checksum = acpi_checksum(&r, sizeof(r));
	memcpy(out, &r, sizeof(r));
}

int acpi_build_tables(const struct acpi_config *cfg, uint8_t *buf, uint64_t gpa, uint64_t size,
		      uint8_t rsdp[ACPI_RSDP_SIZE], uint64_t *facs_gpa, struct error *err)
{
	struct acpi_layout l = { .buf = buf, .gpa = gpa, .size = size };
	uint32_t facs, dsdt, rsdt, xsdt, tables[3];	/* FADT, MADT, HPET */
	unsigned ntables = cfg->hpet_base ? 3 : 2;

	if (cfg->ncpus < 1 || cfg->ncpus > APIC_MAX_CPUS)
		return error_setf(err, "ACPI: %u CPUs (1 to %u)", cfg->ncpus, APIC_MAX_CPUS);
	/* The RSDT and the FADT hold 32-bit addresses. */
	if (gpa > UINT32_MAX || size > (uint64_t)UINT32_MAX + 1 - gpa)
		return error_setf(err, "ACPI tables at %#llx (%#llx bytes) are not below 4 GiB",
				  (unsigned long long)gpa, (unsigned long long)size);
	if (build_facs(&l, &facs) || build_dsdt(&l, &dsdt) ||
	    build_madt(&l, cfg->ncpus, &tables[1]) ||
	    build_fadt(&l, facs, dsdt, cfg->ncpus, &tables[0]) ||
	    (ntables == 3 && build_hpet(&l, cfg, &tables[2])) ||
	    build_sdt(&l, "RSDT", 4, tables, ntables, &rsdt) ||
	    build_sdt(&l, "XSDT", 8, tables, ntables, &xsdt))
		return error_setf(err, "ACPI tables for %u CPUs do not fit in %#llx bytes",
				  cfg->ncpus, (unsigned long long)size);
	fill_rsdp(rsdp, rsdt, xsdt);
	*facs_gpa = facs;
	return 0;
}
