/* The GDB Remote Serial Protocol's framing. See packet.h. */
#include "vmm/gdb/packet.h"

#include <string.h>

enum rx_state {
	RX_IDLE,		/* between packets */
	RX_DATA,		/* after '$', up to '#' */
	RX_CS_HIGH,		/* after '#' */
	RX_CS_LOW,		/* after a good first checksum digit */
	RX_CS_LOW_BAD,		/* after a first checksum digit that is not hex */
};

#define RSP_ESCAPE	'}'
#define RSP_ESCAPE_XOR	0x20
#define RSP_RLE		'*'
#define RSP_INTERRUPT	0x03

/* A repeat count n is sent as the character n + 29: printable from 3 (' ')
 * up to 97 ('~'). Runs of 4 or more bytes are the ones worth encoding. */
#define RLE_BIAS	29
#define RLE_MIN		3
#define RLE_MAX		('~' - RLE_BIAS)

static const char hex_chars[] = "0123456789abcdef";

static int hex_digit(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void gdb_rx_init(struct gdb_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
	rx->state = RX_IDLE;
}

static void rx_start(struct gdb_rx *rx)
{
	rx->state = RX_DATA;
	rx->escaped = false;
	rx->overflow = false;
	rx->sum = 0;
	rx->len = 0;
	rx->buf[0] = '\0';
}

static enum gdb_rx_event rx_between_packets(uint8_t byte)
{
	switch (byte) {
	case '+':
		return GDB_RX_ACK;
	case '-':
		return GDB_RX_NACK;
	case RSP_INTERRUPT:
		return GDB_RX_INTERRUPT;
	default:
		return GDB_RX_NONE;	/* line noise */
	}
}

/* A payload byte, raw: the checksum covers it as sent. The rest of an
 * oversized payload is only summed, so the packet still ends where the
 * debugger meant it to. */
static void rx_data(struct gdb_rx *rx, uint8_t byte)
{
	if (byte == '#') {
		/* A '}' right before '#' escapes nothing: it is dropped. */
		rx->buf[rx->len] = '\0';
		rx->state = RX_CS_HIGH;
		return;
	}
	rx->sum += byte;
	if (rx->escaped) {
		byte ^= RSP_ESCAPE_XOR;
		rx->escaped = false;
	} else if (byte == RSP_ESCAPE) {
		rx->escaped = true;
		return;
	}
	if (rx->len < GDB_PACKET_MAX)
		rx->buf[rx->len++] = (char)byte;
	else
		rx->overflow = true;
}

/* The second checksum digit ends the packet, whatever it is. */
static enum gdb_rx_event rx_end(struct gdb_rx *rx, uint8_t byte)
{
	int d = hex_digit(byte);
	bool good = rx->state == RX_CS_LOW && d >= 0 &&
		    (uint8_t)(rx->cs | d) == rx->sum;

	rx->state = RX_IDLE;
	if (rx->overflow)
		return GDB_RX_OVERFLOW;
	return good ? GDB_RX_PACKET : GDB_RX_BAD_CHECKSUM;
}

enum gdb_rx_event gdb_rx_feed(struct gdb_rx *rx, uint8_t byte)
{
	int d;

	/* '$' is never part of a packet (it is sent escaped), so anywhere it
	 * starts one afresh: gdb resends the whole packet after a timeout. */
	if (byte == '$') {
		rx_start(rx);
		return GDB_RX_NONE;
	}
	switch (rx->state) {
	case RX_DATA:
		rx_data(rx, byte);
		return GDB_RX_NONE;
	case RX_CS_HIGH:
		d = hex_digit(byte);
		rx->cs = d < 0 ? 0 : (uint8_t)(d << 4);
		rx->state = d < 0 ? RX_CS_LOW_BAD : RX_CS_LOW;
		return GDB_RX_NONE;
	case RX_CS_LOW:
	case RX_CS_LOW_BAD:
		return rx_end(rx, byte);
	default:
		return rx_between_packets(byte);
	}
}

const char *gdb_rx_payload(const struct gdb_rx *rx, size_t *len)
{
	if (len)
		*len = rx->len;
	return rx->buf;
}

/* Output that counts what it would write past @cap, so one pass both
 * frames and finds out whether the frame fits. */
struct frame_writer {
	char *out;
	size_t cap, len;
	uint8_t sum;
};

static void put(struct frame_writer *w, uint8_t c)
{
	if (w->len < w->cap)
		w->out[w->len] = (char)c;
	w->len++;
}

static void put_summed(struct frame_writer *w, uint8_t c)
{
	w->sum += c;
	put(w, c);
}

static bool needs_escape(uint8_t c)
{
	/* '*' too: gdb would read it as a run-length marker. */
	return c == '$' || c == '#' || c == RSP_ESCAPE || c == RSP_RLE;
}

/* The largest repeat count up to @n whose character is neither framing
 * ('#', '$') nor, as older versions of the manual also forbid, an ack
 * ('+', '-'). Counts 3 to 5 are always allowed. */
static size_t rle_count(size_t n)
{
	if (n > RLE_MAX)
		n = RLE_MAX;
	while (strchr("#$+-", (int)(n + RLE_BIAS)))
		n--;
	return n;
}

/* How many times p[0] repeats after itself, counting up to RLE_MAX. */
static size_t repeats(const uint8_t *p, size_t len)
{
	size_t n = 0;

	while (n < RLE_MAX && n + 1 < len && p[n + 1] == p[0])
		n++;
	return n;
}

/* Writes one byte, possibly with a run of its repeats; returns how many
 * payload bytes that covered. Only bytes sent as themselves are run-length
 * encoded: gdb expands runs before it unescapes. */
static size_t put_byte(struct frame_writer *w, const uint8_t *p, size_t len,
		       bool rle)
{
	size_t n;

	if (needs_escape(p[0])) {
		put_summed(w, RSP_ESCAPE);
		put_summed(w, p[0] ^ RSP_ESCAPE_XOR);
		return 1;
	}
	put_summed(w, p[0]);
	n = rle ? repeats(p, len) : 0;
	if (n < RLE_MIN)
		return 1;
	n = rle_count(n);
	put_summed(w, RSP_RLE);
	put_summed(w, (uint8_t)(n + RLE_BIAS));
	return 1 + n;
}

size_t gdb_frame(const void *payload, size_t len, bool rle, char *out,
		 size_t cap)
{
	struct frame_writer w = { .out = out, .cap = cap };
	const uint8_t *p = payload;

	put(&w, '$');
	for (size_t i = 0; i < len; )
		i += put_byte(&w, p + i, len - i, rle);
	put(&w, '#');
	put(&w, hex_chars[w.sum >> 4]);
	put(&w, hex_chars[w.sum & 15]);
	return w.len <= cap ? w.len : 0;
}

size_t gdb_hex_encode(const void *in, size_t len, char *out)
{
	const uint8_t *p = in;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex_chars[p[i] >> 4];
		out[2 * i + 1] = hex_chars[p[i] & 15];
	}
	out[2 * len] = '\0';
	return 2 * len;
}

long gdb_hex_decode(const char *hex, size_t hexlen, void *out, size_t cap)
{
	uint8_t *o = out;

	if (hexlen % 2 || hexlen / 2 > cap)
		return -1;
	/* All checked first: a malformed body leaves @out untouched. */
	for (size_t i = 0; i < hexlen; i++)
		if (hex_digit((uint8_t)hex[i]) < 0)
			return -1;
	for (size_t i = 0; i < hexlen / 2; i++)
		o[i] = (uint8_t)(hex_digit((uint8_t)hex[2 * i]) << 4 |
				 hex_digit((uint8_t)hex[2 * i + 1]));
	return (long)(hexlen / 2);
}

bool gdb_parse_hex(const char **p, uint64_t *value)
{
	const char *s = *p;
	uint64_t v = 0;
	int d;

	if (hex_digit((uint8_t)*s) < 0)
		return false;
	for (; (d = hex_digit((uint8_t)*s)) >= 0; s++) {
		if (v >> 60)
			return false;	/* a 17th significant digit */
		v = v << 4 | (uint64_t)d;
	}
	*value = v;
	*p = s;
	return true;
}
