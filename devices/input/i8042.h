/* A minimal 8042 keyboard controller with nothing plugged in (QEMU's
 * "i8042", without its PS/2 keyboard and mouse): data port 0x60, status
 * and command port 0x64. Enough for guests that flush it, probe it or
 * reset the machine through it (8042 datasheet; OSDev "8042 PS/2
 * Controller"; the values a -kernel guest sees on QEMU's pc after
 * SeaBIOS):
 *   status     OBF (bit 0), SYS (bit 2: set, POST passed; kept apart from
 *              command byte bit 2, as QEMU), CMD (bit 3: the last write
 *              went to 0x64; set at first), not inhibited (bit 4); IBF
 *              is never set (commands act at once): 0x1C at first
 *   0x20/0x60  read / write the command byte (0x61 at first: keyboard
 *              interrupt on, mouse port off, scan code translation)
 *   0xA7/0xA8  disable / enable the mouse port (command byte bit 5)
 *   0xAD/0xAE  disable / enable the keyboard port (command byte bit 4)
 *   0xA9/0xAB  mouse / keyboard interface test → 0x00 (lines fine)
 *   0xAA       self-test → 0x55; sets SYS
 *   0xC0       read the input port → 0x80 (keyboard not inhibited)
 *   0xD0/0xD1  read / write the output port (0xCF at first); a written
 *              bit 0 clear (the CPU reset line, active low) resets the
 *              machine; bit 1 (A20) is stored, never applied
 *   0xD2       the next data byte appears as if the keyboard sent it
 *   0xF0-0xFF  pulse output port bits 3:0 where the command's bit is 0:
 *              bit 0 (0xFE, ...) resets the machine
 * A result replaces the one-byte output buffer; a read of 0x60 takes it
 * (OBF clears) and reads the last byte again when the buffer is empty.
 * IRQ 1 is raised while OBF is set and command byte bit 0 enables it.
 * Left out: the keyboard and the mouse (bytes written for them are
 * dropped and nothing answers: a driver's probe times out, as with no
 * device attached), so 0xD3/0xD4 (mouse output buffer, write to mouse),
 * IRQ 12, controller RAM beyond the command byte (0x21-0x3F), the test
 * inputs (0xE0), password and HP A20 commands; they are ignored, logged
 * once, as QEMU ignores the ones it lacks. The board makes one. */
#ifndef DEVICES_INPUT_I8042_H
#define DEVICES_INPUT_I8042_H

#define TYPE_I8042 "i8042"
#define I8042_DATA_PORT	0x60
#define I8042_CMD_PORT	0x64
#define I8042_IRQ	1

#endif
