/* I/O APIC register access and redirection entries. */
#include "ioapic.h"

#include "io.h"

#define IOREGSEL	0x00
#define IOWIN		0x10
#define IOAPIC_REDTBL	0x10	/* entry n: registers 0x10 + 2n (low), + 1 (high) */

uint32_t ioapic_read(uint64_t base, unsigned reg)
{
	mmio_write32(base + IOREGSEL, reg);
	return mmio_read32(base + IOWIN);
}

void ioapic_write(uint64_t base, unsigned reg, uint32_t v)
{
	mmio_write32(base + IOREGSEL, reg);
	mmio_write32(base + IOWIN, v);
}

unsigned ioapic_pins(uint64_t base)
{
	return ((ioapic_read(base, IOAPIC_REG_VER) >> 16) & 0xff) + 1;
}

void ioapic_route(uint64_t base, unsigned pin, uint8_t vector, unsigned apic_id,
		  uint32_t flags)
{
	uint32_t lo = vector | (flags & (IOAPIC_LEVEL | IOAPIC_ACTIVE_LOW));

	ioapic_write(base, IOAPIC_REDTBL + 2 * pin, lo | IOAPIC_MASKED);
	ioapic_write(base, IOAPIC_REDTBL + 2 * pin + 1, apic_id << 24);
	ioapic_write(base, IOAPIC_REDTBL + 2 * pin, lo | (flags & IOAPIC_MASKED));
}

void ioapic_mask(uint64_t base, unsigned pin)
{
	ioapic_write(base, IOAPIC_REDTBL + 2 * pin,
		     ioapic_entry(base, pin) | IOAPIC_MASKED);
}

uint32_t ioapic_entry(uint64_t base, unsigned pin)
{
	return ioapic_read(base, IOAPIC_REDTBL + 2 * pin);
}
