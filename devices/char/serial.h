/* 16550A UART device type. */
#ifndef DEVICES_SERIAL_H
#define DEVICES_SERIAL_H

#define TYPE_ISA_SERIAL "isa-serial"

#endif
