/* ACPI tables that tell a guest its CPUs: RSDP → RSDT → MADT, in the BIOS
 * ROM where a guest looks for them (the RSDP in 0xE0000-0xFFFFF). */
#ifndef VMM_ACPI_H
#define VMM_ACPI_H

#include <stdint.h>

struct error;

/* @rom: host view of the BIOS ROM, mapped at ISA_BIOS_BASE for the guest. */
int acpi_build_tables(uint8_t *rom, uint64_t rom_size, unsigned ncpus,
		      struct error *err);

#endif
