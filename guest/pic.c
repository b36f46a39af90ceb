/* The 8259A pair: initialisation, masks, EOIs and OCW3 reads. */
#include "pic.h"

#include "io.h"

#define PIC1_CMD	0x20
#define PIC1_DATA	0x21
#define PIC2_CMD	0xa0
#define PIC2_DATA	0xa1

#define ICW1_INIT	0x10
#define ICW1_ICW4	0x01	/* an ICW4 follows */
#define ICW4_8086	0x01
#define OCW2_EOI	0x20	/* non-specific */
#define OCW3		0x08
#define OCW3_READ_IRR	(OCW3 | 0x02)
#define OCW3_READ_ISR	(OCW3 | 0x03)
#define OCW3_POLL	(OCW3 | 0x04)

bool pic_present(void)
{
	bool ok;

	outb(PIC1_DATA, 0xa5);
	ok = inb(PIC1_DATA) == 0xa5;
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	return ok;
}

void pic_remap(void)
{
	outb(PIC1_CMD, ICW1_INIT | ICW1_ICW4);
	outb(PIC1_DATA, PIC_MASTER_VECTOR);
	outb(PIC1_DATA, 1u << PIC_CASCADE_IRQ);	/* a slave on input 2 */
	outb(PIC1_DATA, ICW4_8086);
	outb(PIC2_CMD, ICW1_INIT | ICW1_ICW4);
	outb(PIC2_DATA, PIC_SLAVE_VECTOR);
	outb(PIC2_DATA, PIC_CASCADE_IRQ);	/* the slave's ID */
	outb(PIC2_DATA, ICW4_8086);
	/* ICW1 clears the mask registers: close them again. */
	pic_set_mask(0xffff);
}

void pic_set_mask(uint16_t mask)
{
	outb(PIC1_DATA, (uint8_t)mask);
	outb(PIC2_DATA, (uint8_t)(mask >> 8));
}

uint16_t pic_mask(void)
{
	return (uint16_t)(inb(PIC1_DATA) | inb(PIC2_DATA) << 8);
}

void pic_eoi(unsigned irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, OCW2_EOI);
	outb(PIC1_CMD, OCW2_EOI);
}

/* OCW3 selects the register the next command-port read returns; the
 * selection sticks, so put IRR (the reset choice) back after an ISR read. */
static uint16_t read_both(uint8_t ocw3)
{
	uint16_t v;

	outb(PIC1_CMD, ocw3);
	outb(PIC2_CMD, ocw3);
	v = (uint16_t)(inb(PIC1_CMD) | inb(PIC2_CMD) << 8);
	outb(PIC1_CMD, OCW3_READ_IRR);
	outb(PIC2_CMD, OCW3_READ_IRR);
	return v;
}

uint16_t pic_isr(void)
{
	return read_both(OCW3_READ_ISR);
}

uint16_t pic_irr(void)
{
	return read_both(OCW3_READ_IRR);
}

uint8_t pic_poll(bool slave)
{
	uint16_t cmd = slave ? PIC2_CMD : PIC1_CMD;

	outb(cmd, OCW3_POLL);
	return inb(cmd);
}
