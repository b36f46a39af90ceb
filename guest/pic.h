/* The PC's two 8259A PICs, cascaded on master input 2 (Intel 8259A
 * datasheet: ICW1-4 initialisation, OCW1 mask, OCW2 EOI, OCW3 register
 * reads and the poll command; PIIX ELCR for level mode). */
#ifndef GUEST_PIC_H
#define GUEST_PIC_H

#include <stdbool.h>
#include <stdint.h>

#define PIC_MASTER_VECTOR	0x20	/* IRQ 0-7 -> 0x20-0x27 */
#define PIC_SLAVE_VECTOR	0x28	/* IRQ 8-15 -> 0x28-0x2f */
#define PIC_CASCADE_IRQ		2

/* A PIC answers: its mask register keeps what was written (unassigned
 * ports read 0xff). Leaves every line masked. */
bool pic_present(void);
/* ICW1-4: vectors PIC_MASTER_VECTOR/PIC_SLAVE_VECTOR, cascade on IRQ 2,
 * 8086 mode, normal EOI; every line masked. Call with IF=0. */
void pic_remap(void);
/* OCW1: bit n masks IRQ n (bits 8-15: the slave's lines). */
void pic_set_mask(uint16_t mask);
uint16_t pic_mask(void);
/* OCW2 non-specific EOI: to the slave and then the master for IRQ 8-15. */
void pic_eoi(unsigned irq);
/* OCW3 reads: the in-service and request registers, slave in bits 8-15. */
uint16_t pic_isr(void);
uint16_t pic_irr(void);
/* OCW3 poll of the master (@slave false) or slave: bit 7 set with the
 * highest requesting level in bits 0-2 (then acknowledged as INTA does:
 * in service, request cleared), bit 7 clear if nothing is requested. */
uint8_t pic_poll(bool slave);

#endif
