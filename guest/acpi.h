/* ACPI, as much as the guest uses: RSDP -> RSDT/XSDT -> MADT (the CPUs),
 * FADT -> FACS and DSDT (PM registers, sleep states), and a hex dump. */
#ifndef GUEST_ACPI_H
#define GUEST_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#define ACPI_MAX_CPUS	64
#define ACPI_ISA_IRQS	16

struct sdt_header {
	char sig[4];
	uint32_t length;
	uint8_t revision, checksum;
	char oem[6], oem_table[8];
	uint32_t oem_revision, creator, creator_revision;
} __attribute__((packed));

struct madt_info {
	uint64_t rsdp, sdt, madt;	/* where each was found */
	char sdt_sig[5];		/* "RSDT" or "XSDT" */
	uint32_t lapic_addr;
	unsigned ncpus;			/* enabled processor entries */
	uint32_t apic_ids[ACPI_MAX_CPUS];
	/* The first I/O APIC entry (0 if none) and how many there are. */
	uint32_t ioapic_addr, ioapic_gsi_base;
	unsigned nioapics;
	/* ISA IRQ n -> its GSI and MPS INTI flags: n and 0 (conforming) unless
	 * an interrupt source override says otherwise. */
	uint32_t isa_gsi[ACPI_ISA_IRQS];
	uint16_t isa_flags[ACPI_ISA_IRQS];
};

/* MPS INTI flags (ACPI 6.5, table 5.26): polarity bits 0-1, trigger mode
 * bits 2-3; "conforms" means the bus's default, for ISA edge and high. */
#define MPS_POLARITY_MASK	0x3
#define MPS_POLARITY_LOW	0x3
#define MPS_TRIGGER_MASK	0xc
#define MPS_TRIGGER_LEVEL	0xc

/* A Generic Address Structure (ACPI 6.5, 5.2.3.2). */
struct acpi_gas {
	uint8_t space, bit_width, bit_offset, access_size;
	uint64_t address;
} __attribute__((packed));

#define ACPI_GAS_IO		1

/* FADT flags (ACPI 6.5, table 5.10). */
#define FADT_TMR_VAL_EXT	(1u << 8)
#define FADT_RESET_REG_SUP	(1u << 10)
#define FADT_HW_REDUCED		(1u << 20)

/* PM1 registers (ACPI 6.5, 4.8.3.1-2): status and enable share bits. */
#define PM1_TMR_STS		(1u << 0)
#define PM1_RTC_EN		(1u << 10)
#define PM1_RTC_STS		(1u << 10)
#define PM1_WAK_STS		(1u << 15)
#define PM1_CNT_SCI_EN		(1u << 0)
#define PM1_CNT_SLP_TYP_SHIFT	10
#define PM1_CNT_SLP_TYP		(7u << 10)
#define PM1_CNT_SLP_EN		(1u << 13)

#define PM_TIMER_HZ		3579545u

struct fadt_info {
	const struct sdt_header *fadt, *dsdt;
	uint64_t facs;			/* 0 if none */
	uint16_t sci;
	uint32_t smi_cmd;		/* 0: no SMM, an ACPI-only platform */
	uint32_t pm1a_evt, pm1a_cnt, pm_tmr;
	uint8_t pm1_evt_len, pm1_cnt_len, pm_tmr_len;
	uint32_t flags;
	struct acpi_gas reset_reg;	/* zeros when the FADT is too short */
	uint8_t reset_value;
};

/* The FACS (ACPI 6.5, 5.2.10): no checksum. */
struct acpi_facs {
	char sig[4];
	uint32_t length, hw_signature, waking_vector, global_lock, flags;
	uint64_t x_waking_vector;
	uint8_t version;
} __attribute__((packed));

/* 0, or -1 with *why saying what was missing or broken. */
int acpi_read_madt(struct madt_info *mi, const char **why);
/* The RSDP with good checksums (both for revision 2+), or 0. */
const void *acpi_rsdp(void);
bool acpi_checksum_ok(const void *p, uint32_t len);
/* Entry @i of the XSDT (RSDT) into *@h, unchecked (maybe 0); false past
 * the end. */
bool acpi_table_at(unsigned i, const struct sdt_header **h);
/* The table with @sig listed in the XSDT (RSDT for revision 0), checksum
 * right; 0 if none. */
const struct sdt_header *acpi_find_table(const char *sig);
/* The FADT and what it points to: 0, or -1 with *why. */
int acpi_read_fadt(struct fadt_info *f, const char **why);
/* SLP_TYP of the sleep state @name ("_S3_", "_S5_") in the DSDT: the first
 * value of its package. -1 if absent or not a plain integer. */
int acpi_sleep_type(const struct sdt_header *dsdt, const char *name);
/* PM1a_CNT = SLP_TYP(@slp_typ) | SLP_EN, the other bits kept. Returns if
 * the machine did not sleep (at once on a VMM, which stops the vCPU). */
void acpi_enter_sleep(const struct fadt_info *f, unsigned slp_typ);
/* Every table (RSDP, RSDT/XSDT, each listed, FACS, DSDT) as lines
 * "# acpi SIG OFFSET: XX XX ..." on the console, 16 bytes a line. */
void acpi_dump(void);

#endif
