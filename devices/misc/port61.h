/* Port 0x61, system control port B (PIIX4 datasheet, "NMI Status and
 * Control Register"; on QEMU's pc the "pcspk" device answers it):
 *   bit 0  PIT channel 2 gate          R/W
 *   bit 1  speaker data enable         R/W (no sound is made)
 *   bit 2  PCI SERR# NMI disable       R/W (stored; no NMI source exists)
 *   bit 3  IOCHK# NMI disable          R/W (stored; QEMU reads 0 here)
 *   bit 4  refresh toggle              RO: flips every 15.085 us, the
 *          period firmware programs into PIT channel 1 (divisor 18),
 *          computed from env->clock (QEMU flips it on every read)
 *   bit 5  PIT channel 2 output        RO: 0 until a PIT is connected
 *   bits 7:6 NMI sources (IOCHK, SERR) RO: always 0
 * The board makes one. */
#ifndef DEVICES_MISC_PORT61_H
#define DEVICES_MISC_PORT61_H

#include <stdbool.h>

struct device;

#define TYPE_PORT61 "port61"
#define PORT61_PORT 0x61

#define PORT61_GATE2		0x01
#define PORT61_SPEAKER		0x02
#define PORT61_SERR_DIS		0x04
#define PORT61_IOCHK_DIS	0x08
#define PORT61_REFRESH		0x10
#define PORT61_OUT2		0x20

/* The PIT's channel 2 as port 0x61 sees it. Called with the port's lock
 * held (lock order: port61 → PIT), so the PIT must not call back. */
struct port61_pit {
	void (*set_gate)(void *opaque, bool level);	/* bit 0 changed */
	bool (*output)(void *opaque);			/* bit 5 now */
	void *opaque;
};

/* Connects channel 2 (@pit is copied; NULL disconnects) and tells it the
 * gate bit 0 holds now. The board calls it once it has a PIT; until then
 * bit 5 reads 0 and the gate goes nowhere. */
void port61_connect_pit(struct device *port61, const struct port61_pit *pit);

#endif
