/* libFuzzer target: the GDB packet receiver fed arbitrary bytes, as a
 * hostile debugger connection may send them. The first byte picks a mode:
 * raw, or with the checksum of every packet put right by the harness
 * (after the '#' that ends a packet it sends the two right digits, so the
 * fuzzer reaches good packets without summing). A model of the framing
 * (where packets start and end, the unescaped length, the sum) checks:
 *   - the payload never exceeds GDB_PACKET_MAX and is NUL-terminated;
 *   - acks, NACKs and interrupts come only from '+', '-' and 0x03 between
 *     packets, and a packet ends only at the second byte after its '#', as
 *     OVERFLOW exactly when it is too long, and (checksums put right) as
 *     PACKET otherwise;
 * and every payload received, framed, reads back the same: plain through
 * a second receiver, run-length encoded by expanding the runs as gdb does
 * into exactly the plain frame's body. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tests/fuzz/fuzz_input.h"
#include "vmm/gdb/packet.h"

enum model_state { OUTSIDE, DATA, CS_HIGH, CS_LOW };

/* What the protocol says the receiver must be doing. */
struct model {
	enum model_state state;
	bool escaped;
	size_t len;		/* the payload's length, unescaped */
	uint8_t sum;
};

static struct gdb_rx rx, echo;
static char plain[2 * GDB_PACKET_MAX + 4], rle[2 * GDB_PACKET_MAX + 4];
static char expanded[2 * GDB_PACKET_MAX + 4];

static void model_data(struct model *m, uint8_t byte)
{
	m->sum += byte;
	if (m->escaped || byte != '}')
		m->len++;
	m->escaped = !m->escaped && byte == '}';
}

static uint8_t checksum(const char *s, size_t n)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += (uint8_t)s[i];
	return sum;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Framed plain: a second receiver reads exactly @payload back, at the
 * frame's last byte. */
static size_t check_plain(const char *payload, size_t len)
{
	size_t n = gdb_frame(payload, len, false, plain, sizeof(plain));
	const char *back;
	size_t back_len;

	CHECK(n >= 4 && n <= 2 * len + 4);
	gdb_rx_init(&echo);
	for (size_t i = 0; i + 1 < n; i++)
		CHECK(gdb_rx_feed(&echo, (uint8_t)plain[i]) == GDB_RX_NONE);
	CHECK(gdb_rx_feed(&echo, (uint8_t)plain[n - 1]) == GDB_RX_PACKET);
	back = gdb_rx_payload(&echo, &back_len);
	CHECK(back_len == len && memcmp(back, payload, len) == 0);
	return n;
}

/* Framed with runs: as gdb reads it, its runs expand to the plain body. */
static void check_rle(const char *payload, size_t len, size_t plain_n)
{
	size_t n = gdb_frame(payload, len, true, rle, sizeof(rle)), w = 0;

	CHECK(n >= 4 && n <= plain_n);
	CHECK(rle[0] == '$' && rle[n - 3] == '#');
	CHECK(is_hex(rle[n - 2]) && is_hex(rle[n - 1]));
	CHECK(strtoul((char[]){ rle[n - 2], rle[n - 1], 0 }, NULL, 16) ==
	      checksum(rle + 1, n - 4));
	for (size_t i = 1; i < n - 3; i++) {
		uint8_t c = (uint8_t)rle[i];

		CHECK(c != '$' && c != '#');
		if (c != '*') {
			CHECK(w < plain_n);
			expanded[w++] = (char)c;
			continue;
		}
		CHECK(w > 0 && i + 1 < n - 3);
		c = (uint8_t)rle[++i];
		CHECK(c >= ' ' && c <= '~' && !strchr("#$+-", c));
		CHECK(w + (c - 29u) <= plain_n);
		memset(expanded + w, expanded[w - 1], c - 29u);
		w += c - 29u;
	}
	CHECK(w == plain_n - 4 && memcmp(expanded, plain + 1, w) == 0);
}

/* Hex bodies of any payload: decoded only when well formed, and then
 * encoded back the same but for the case of the digits. */
static void check_hex(const char *payload, size_t len)
{
	static uint8_t bytes[GDB_PACKET_MAX / 2];
	static char hex[GDB_PACKET_MAX + 1];
	const char *p = payload;
	uint64_t v;
	long n = gdb_hex_decode(payload, len, bytes, sizeof(bytes));

	if (n >= 0) {
		CHECK((size_t)n * 2 == len);
		CHECK(gdb_hex_encode(bytes, (size_t)n, hex) == len);
		CHECK(strncasecmp(hex, payload, len) == 0 && hex[len] == '\0');
	}
	if (gdb_parse_hex(&p, &v))
		CHECK(p > payload && p <= payload + len);
	else
		CHECK(p == payload);
}

static void check_packet(void)
{
	size_t len;
	const char *payload = gdb_rx_payload(&rx, &len);

	CHECK(len <= GDB_PACKET_MAX && payload[len] == '\0');
	check_rle(payload, len, check_plain(payload, len));
	check_hex(payload, len);
}

/* One byte through the receiver and the model, which must agree. */
static void step(struct model *m, uint8_t byte, bool fixup)
{
	enum gdb_rx_event ev = gdb_rx_feed(&rx, byte);

	CHECK(rx.len <= GDB_PACKET_MAX);
	if (byte == '$') {
		*m = (struct model){ .state = DATA };
		CHECK(ev == GDB_RX_NONE);
		return;
	}
	switch (m->state) {
	case OUTSIDE:
		CHECK(ev == (byte == '+' ? GDB_RX_ACK : byte == '-' ? GDB_RX_NACK :
			     byte == 0x03 ? GDB_RX_INTERRUPT : GDB_RX_NONE));
		return;
	case DATA:
		if (byte == '#')
			m->state = CS_HIGH;
		else
			model_data(m, byte);
		break;
	case CS_HIGH:
		m->state = CS_LOW;
		break;
	case CS_LOW:
		m->state = OUTSIDE;
		CHECK(ev != GDB_RX_NONE);
		CHECK((ev == GDB_RX_OVERFLOW) == (m->len > GDB_PACKET_MAX));
		if (fixup)
			CHECK(ev == GDB_RX_PACKET || ev == GDB_RX_OVERFLOW);
		if (ev == GDB_RX_PACKET) {
			CHECK(rx.len == m->len);
			check_packet();
		}
		return;
	}
	CHECK(ev == GDB_RX_NONE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	bool fixup = take(&in, 1) & 1;
	struct model m = { .state = OUTSIDE };

	gdb_rx_init(&rx);
	while (in.left) {
		uint8_t byte = (uint8_t)take(&in, 1);

		step(&m, byte, fixup);
		if (fixup && m.state == CS_HIGH) {
			step(&m, (uint8_t)"0123456789abcdef"[m.sum >> 4], fixup);
			step(&m, (uint8_t)"0123456789abcdef"[m.sum & 15], fixup);
		}
	}
	return 0;
}
