/* The I/O APIC (Intel 82093AA datasheet): IOREGSEL/IOWIN at its MMIO base
 * (the MADT's), 64-bit redirection entries from register 0x10. */
#ifndef GUEST_IOAPIC_H
#define GUEST_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define IOAPIC_REG_ID		0x00
#define IOAPIC_REG_VER		0x01

/* Redirection entry, low dword. */
#define IOAPIC_DELIVS		(1u << 12)	/* delivery pending (read-only) */
#define IOAPIC_ACTIVE_LOW	(1u << 13)
#define IOAPIC_REMOTE_IRR	(1u << 14)	/* level: accepted, no EOI yet */
#define IOAPIC_LEVEL		(1u << 15)
#define IOAPIC_MASKED		(1u << 16)

uint32_t ioapic_read(uint64_t base, unsigned reg);
void ioapic_write(uint64_t base, unsigned reg, uint32_t v);
/* The number of redirection entries (version register bits 16-23, + 1). */
unsigned ioapic_pins(uint64_t base);
/* @pin -> @vector, fixed, physical destination @apic_id, with the trigger
 * and polarity bits in @flags (IOAPIC_LEVEL, IOAPIC_ACTIVE_LOW); unmasked
 * unless @flags has IOAPIC_MASKED. Written masked first, so the entry is
 * never live half written. */
void ioapic_route(uint64_t base, unsigned pin, uint8_t vector, unsigned apic_id,
		  uint32_t flags);
void ioapic_mask(uint64_t base, unsigned pin);
/* The low dword of @pin's redirection entry. */
uint32_t ioapic_entry(uint64_t base, unsigned pin);

#endif
