/* The GDB Remote Serial Protocol's framing, pure (no I/O): a receiver fed
 * one byte at a time ($payload#cs, '}' escapes, '+'/'-' acks, the 0x03
 * interrupt byte) and a framer for replies. */
#ifndef VMM_GDB_PACKET_H
#define VMM_GDB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest payload either side sends, after unescaping (advertised as
 * PacketSize in qSupported): a 'g' reply of the largest layout fits. */
#define GDB_PACKET_MAX	4096

enum gdb_rx_event {
	GDB_RX_NONE,		/* byte consumed, nothing complete yet */
	GDB_RX_PACKET,		/* a packet with a good checksum: see payload */
	GDB_RX_BAD_CHECKSUM,	/* a whole packet, checksum wrong: send '-' */
	GDB_RX_OVERFLOW,	/* a whole packet longer than GDB_PACKET_MAX */
	GDB_RX_INTERRUPT,	/* 0x03 outside a packet: Ctrl-C */
	GDB_RX_ACK,		/* '+' */
	GDB_RX_NACK,		/* '-': resend the last reply */
};

struct gdb_rx {
	int state;
	bool escaped;
	bool overflow;
	uint8_t sum;		/* running checksum of the raw bytes */
	uint8_t cs;		/* the received checksum, hex digit by digit */
	size_t len;
	char buf[GDB_PACKET_MAX + 1];	/* unescaped payload + NUL */
};

void gdb_rx_init(struct gdb_rx *rx);
/* One byte from the debugger. Bytes outside a packet other than '$', '+',
 * '-' and 0x03 are ignored, as gdb's own stubs do. A '$' anywhere (even
 * in place of a checksum digit) drops the packet under way and starts a
 * new one; a packet ends at the second byte after '#', and a checksum
 * digit that is not hex (either case) makes it BAD_CHECKSUM. An oversized
 * packet is reported as OVERFLOW whatever its checksum. */
enum gdb_rx_event gdb_rx_feed(struct gdb_rx *rx, uint8_t byte);
/* After GDB_RX_PACKET: the payload (NUL-terminated; binary data in 'X'
 * may hold NULs, hence @len) until the next feed. */
const char *gdb_rx_payload(const struct gdb_rx *rx, size_t *len);

/* Frames @payload as "$...#xx" (not NUL-terminated): '$', '#', '}' and '*'
 * escaped, runs of 4 or more of a byte sent unescaped run-length encoded
 * when @rle (replies only: the protocol has gdb expand runs, never a stub,
 * so gdb_rx does not). Returns the framed length, or 0 if it does not fit
 * in @cap (2 * len + 4 always fits). */
size_t gdb_frame(const void *payload, size_t len, bool rle, char *out,
		 size_t cap);

/* Hex helpers for the packet bodies. */
size_t gdb_hex_encode(const void *in, size_t len, char *out);	/* 2*len chars + NUL */
/* -1 on an odd length, a non-hex digit or more than @cap bytes (@out then
 * untouched), else the bytes written. */
long gdb_hex_decode(const char *hex, size_t hexlen, void *out, size_t cap);
/* Parses a hex number at *p (at least one digit, at most 64 bits) and
 * advances *p past it; false otherwise (*p unchanged). */
bool gdb_parse_hex(const char **p, uint64_t *value);

#endif
