#include "vmm/acpi.h"

#include <string.h>

#include "devices/error.h"
#include "devices/intc/lapic.h"
#include "vmm/layout.h"

/* Offsets inside the ROM, which the guest sees at ISA_BIOS_BASE + offset. */
#define RSDP_OFFSET	0x100
#define RSDT_OFFSET	0x200
#define MADT_OFFSET	0x300

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;	/* 0: ACPI 1.0, an RSDT and no XSDT */
	uint32_t rsdt_address;
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

struct acpi_madt_lapic {
	uint8_t type;		/* 0: processor local APIC */
	uint8_t length;		/* 8 */
	uint8_t processor_id;
	uint8_t apic_id;
	uint32_t flags;		/* bit 0: enabled */
} __attribute__((packed));

struct acpi_madt {
	struct acpi_header h;
	uint32_t lapic_address;
	uint32_t flags;		/* 0: no 8259 pair to mask */
	struct acpi_madt_lapic cpu[];
} __attribute__((packed));

/* Every table's bytes sum to 0. */
static uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return (uint8_t)-sum;
}

static void acpi_header_init(struct acpi_header *h, const char *sig,
			     uint32_t length, uint8_t revision)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->signature, sig, 4);
	h->length = length;
	h->revision = revision;
	memcpy(h->oem_id, "TINYVM", 6);
	memcpy(h->oem_table_id, "TINYVMM ", 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, "TVMM", 4);
	h->creator_revision = 1;
}

int acpi_build_tables(uint8_t *rom, uint64_t rom_size, unsigned ncpus,
		      struct error *err)
{
	uint32_t madt_len = sizeof(struct acpi_madt) + ncpus * sizeof(struct acpi_madt_lapic);
	uint32_t rsdt_len = sizeof(struct acpi_header) + 4;
	struct acpi_rsdp *rsdp = (void *)(rom + RSDP_OFFSET);
	struct acpi_header *rsdt = (void *)(rom + RSDT_OFFSET);
	struct acpi_madt *madt = (void *)(rom + MADT_OFFSET);
	uint32_t madt_gpa = (uint32_t)(ISA_BIOS_BASE + MADT_OFFSET);

	if (MADT_OFFSET + madt_len > rom_size || ncpus > APIC_MAX_CPUS)
		return error_setf(err, "ACPI tables for %u CPUs do not fit", ncpus);

	acpi_header_init(&madt->h, "APIC", madt_len, 3);
	madt->lapic_address = APIC_DEFAULT_BASE;
	madt->flags = 0;
	for (unsigned i = 0; i < ncpus; i++)
		madt->cpu[i] = (struct acpi_madt_lapic){ 0, 8, (uint8_t)i, (uint8_t)i, 1 };
	madt->h.checksum = acpi_checksum(madt, madt_len);

	acpi_header_init(rsdt, "RSDT", rsdt_len, 1);
	memcpy(rsdt + 1, &madt_gpa, 4);
	rsdt->checksum = acpi_checksum(rsdt, rsdt_len);

	memset(rsdp, 0, sizeof(*rsdp));
	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, "TINYVM", 6);
	rsdp->rsdt_address = (uint32_t)(ISA_BIOS_BASE + RSDT_OFFSET);
	rsdp->checksum = acpi_checksum(rsdp, sizeof(*rsdp));
	return 0;
}
