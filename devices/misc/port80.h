/* Port 0x80, the POST code port (QEMU's pc "ioport80"). Firmware writes
 * progress codes there and kernels write it as an I/O delay: writes are
 * absorbed, reads give all ones, as on QEMU's pc. The board makes one. */
#ifndef DEVICES_MISC_PORT80_H
#define DEVICES_MISC_PORT80_H

#define TYPE_PORT80 "port80"
#define PORT80_PORT 0x80

#endif
