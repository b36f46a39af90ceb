/* COM1, a 16550 UART. */
#ifndef GUEST_SERIAL_H
#define GUEST_SERIAL_H

#define COM1 0x3f8

void serial_init(void);
void serial_putc(char c);
void serial_write(const char *s);

#endif
