/* ACPI, just enough to list the CPUs: RSDP -> RSDT/XSDT -> MADT. */
#ifndef GUEST_ACPI_H
#define GUEST_ACPI_H

#include <stdint.h>

#define ACPI_MAX_CPUS	64

struct madt_info {
	uint64_t rsdp, sdt, madt;	/* where each was found */
	char sdt_sig[5];		/* "RSDT" or "XSDT" */
	uint32_t lapic_addr;
	unsigned ncpus;			/* enabled processor entries */
	uint32_t apic_ids[ACPI_MAX_CPUS];
};

/* 0, or -1 with *why saying what was missing or broken. */
int acpi_read_madt(struct madt_info *mi, const char **why);

#endif
