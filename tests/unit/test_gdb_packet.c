/* The GDB remote protocol's packet layer: the receiver fed byte by byte as
 * gdb sends, the framer checked against the manual's examples and against
 * a reference decoder that reads replies the way gdb does, and the hex
 * helpers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/gdb/packet.h"

static struct gdb_rx rx;

static void setup(void)
{
	gdb_rx_init(&rx);
}

TestSuite(gdb_packet, .init = setup);

/* Feeds @len bytes: every byte but the last must complete nothing; the
 * last one's event is returned. */
static enum gdb_rx_event feed_n(const void *bytes, size_t len)
{
	const uint8_t *p = bytes;

	for (size_t i = 0; i + 1 < len; i++)
		cr_assert_eq(gdb_rx_feed(&rx, p[i]), GDB_RX_NONE,
			     "byte %zu (%#x) completed something", i, p[i]);
	return gdb_rx_feed(&rx, p[len - 1]);
}

static enum gdb_rx_event feed(const char *s)
{
	return feed_n(s, strlen(s));
}

static void assert_payload(const void *want, size_t want_len)
{
	size_t len;
	const char *p = gdb_rx_payload(&rx, &len);

	cr_assert_eq(len, want_len);
	cr_assert_eq(memcmp(p, want, len), 0);
	cr_assert_eq(p[len], '\0', "the payload is NUL-terminated");
}

static void assert_packet(const char *wire, const char *payload)
{
	cr_assert_eq(feed(wire), GDB_RX_PACKET, "%s", wire);
	assert_payload(payload, strlen(payload));
}

/* The checksums here are worked out by hand or taken from real traffic,
 * not computed by the code under test. */
Test(gdb_packet, receives_packets_with_good_checksums)
{
	assert_packet("$g#67", "g");
	assert_packet("$OK#9a", "OK");
	assert_packet("$vFile:pread:5,3fff,0#98", "vFile:pread:5,3fff,0");
	assert_packet("$#00", "");
}

Test(gdb_packet, checksum_digits_may_be_uppercase)
{
	assert_packet("$OK#9A", "OK");
}

Test(gdb_packet, wrong_or_non_hex_checksums_are_bad)
{
	cr_assert_eq(feed("$OK#9b"), GDB_RX_BAD_CHECKSUM);
	cr_assert_eq(feed("$OK#a9"), GDB_RX_BAD_CHECKSUM);
	cr_assert_eq(feed("$OK#9g"), GDB_RX_BAD_CHECKSUM);
	cr_assert_eq(feed("$OK#x9"), GDB_RX_BAD_CHECKSUM, "judged at the second digit");
	cr_assert_eq(feed("$OK#\x03" "a"), GDB_RX_BAD_CHECKSUM);
	assert_packet("$OK#9a", "OK");
}

Test(gdb_packet, acks_interrupt_and_noise_between_packets)
{
	cr_assert_eq(gdb_rx_feed(&rx, '+'), GDB_RX_ACK);
	cr_assert_eq(gdb_rx_feed(&rx, '-'), GDB_RX_NACK);
	cr_assert_eq(gdb_rx_feed(&rx, 0x03), GDB_RX_INTERRUPT);
	for (const char *s = "xyz#9a}*\r\n\xff"; *s; s++)
		cr_assert_eq(gdb_rx_feed(&rx, (uint8_t)*s), GDB_RX_NONE, "%#x", *s);
	cr_assert_eq(gdb_rx_feed(&rx, 0), GDB_RX_NONE);
	assert_packet("$g#67", "g");
	cr_assert_eq(gdb_rx_feed(&rx, '+'), GDB_RX_ACK, "after a packet too");
	cr_assert_eq(gdb_rx_feed(&rx, 0x03), GDB_RX_INTERRUPT);
}

Test(gdb_packet, acks_and_ctrl_c_inside_a_packet_are_data)
{
	/* '+' 0x2b + '-' 0x2d + 0x03 + '+' = 0x86 */
	assert_packet("$+-\x03+#86", "+-\x03+");
}

Test(gdb_packet, escaped_bytes_are_unescaped_and_summed_as_sent)
{
	/* "X0,3:" sums to 0x121; "}\x03" 0x80, "}\x04" 0x81, "}]" 0xda */
	assert_packet("$X0,3:}\x03}\x04}]#fc", "X0,3:#$}");
}

Test(gdb_packet, an_escaped_escape_and_escaped_controls)
{
	/* "}}" is '}' escaping itself: 0x7d ^ 0x20 */
	assert_packet("$}}#fa", "]");
	/* "} " is 0x00: a NUL inside the payload */
	cr_assert_eq(feed("$a} b#60"), GDB_RX_PACKET);
	assert_payload("a\0b", 3);
}

Test(gdb_packet, binary_payload_holds_nuls)
{
	static const uint8_t wire[] = { '$', 'X', 0, 1, 0, '#', '5', '9' };

	cr_assert_eq(feed_n(wire, sizeof(wire)), GDB_RX_PACKET);
	assert_payload("X\0\1\0", 4);
}

Test(gdb_packet, a_dangling_escape_before_the_end_is_dropped)
{
	/* 'a' 0x61 + '}' 0x7d = 0xde */
	assert_packet("$a}#de", "a");
	assert_packet("$g#67", "g");
}

Test(gdb_packet, dollar_restarts_a_packet)
{
	assert_packet("$m1000,4$g#67", "g");
	assert_packet("$OK#$g#67", "g");
	assert_packet("$OK#9$g#67", "g");
	assert_packet("$a}$g#67", "g");
}

static void feed_long(size_t len, char c)
{
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(gdb_rx_feed(&rx, (uint8_t)c), GDB_RX_NONE);
}

static char hex_of(unsigned nibble)
{
	return "0123456789abcdef"[nibble & 15];
}

/* Ends a packet of @len bytes @c with its right checksum. */
static enum gdb_rx_event end_long(size_t len, char c)
{
	uint8_t sum = (uint8_t)(len * (uint8_t)c);
	char tail[] = { '#', hex_of(sum >> 4), hex_of(sum), '\0' };

	return feed(tail);
}

Test(gdb_packet, the_largest_payload_fits)
{
	const char *p;
	size_t len;

	cr_assert_eq(gdb_rx_feed(&rx, '$'), GDB_RX_NONE);
	feed_long(GDB_PACKET_MAX, 'z');
	cr_assert_eq(end_long(GDB_PACKET_MAX, 'z'), GDB_RX_PACKET);
	p = gdb_rx_payload(&rx, &len);
	cr_assert_eq(len, GDB_PACKET_MAX);
	cr_assert_eq(p[0], 'z');
	cr_assert_eq(p[GDB_PACKET_MAX - 1], 'z');
	cr_assert_eq(p[GDB_PACKET_MAX], '\0');
}

Test(gdb_packet, an_oversized_packet_is_one_overflow_then_the_next_is_good)
{
	size_t len;

	cr_assert_eq(gdb_rx_feed(&rx, '$'), GDB_RX_NONE);
	feed_long(3 * GDB_PACKET_MAX, 'z');
	gdb_rx_payload(&rx, &len);
	cr_assert_eq(len, GDB_PACKET_MAX, "kept what fits, no more");
	cr_assert_eq(end_long(3 * GDB_PACKET_MAX, 'z'), GDB_RX_OVERFLOW);
	cr_assert_eq(gdb_rx_feed(&rx, '+'), GDB_RX_ACK, "back between packets");
	assert_packet("$g#67", "g");
}

Test(gdb_packet, overflow_wins_over_a_bad_checksum)
{
	cr_assert_eq(gdb_rx_feed(&rx, '$'), GDB_RX_NONE);
	feed_long(GDB_PACKET_MAX + 1, 'z');
	cr_assert_eq(feed("#zz"), GDB_RX_OVERFLOW);
	assert_packet("$OK#9a", "OK");
}

Test(gdb_packet, an_escaped_payload_of_the_largest_size_fits)
{
	/* 2 * MAX bytes on the wire, MAX after unescaping. */
	cr_assert_eq(gdb_rx_feed(&rx, '$'), GDB_RX_NONE);
	for (size_t i = 0; i < GDB_PACKET_MAX; i++) {
		gdb_rx_feed(&rx, '}');
		gdb_rx_feed(&rx, 0x04);
	}
	/* MAX * (0x7d + 0x04) mod 256, with MAX a multiple of 256 */
	cr_assert_eq(feed("#00"), GDB_RX_PACKET);
	cr_assert_eq(rx.len, GDB_PACKET_MAX);
	cr_assert_eq(rx.buf[GDB_PACKET_MAX - 1], '$');
}

/* --- the framer --- */

static char out[2 * GDB_PACKET_MAX + 4];

static size_t frame_str(const char *s, bool rle)
{
	return gdb_frame(s, strlen(s), rle, out, sizeof(out));
}

static void assert_frame(const char *payload, bool rle, const char *want)
{
	size_t n = frame_str(payload, rle);

	cr_assert_eq(n, strlen(want), "\"%s\": %zu bytes, not %zu", payload, n,
		     strlen(want));
	cr_assert_eq(memcmp(out, want, n), 0, "\"%s\" framed as \"%.*s\"",
		     payload, (int)n, out);
}

Test(gdb_packet, frames_with_the_checksum)
{
	assert_frame("OK", false, "$OK#9a");
	assert_frame("", false, "$#00");
	assert_frame("vFile:pread:5,3fff,0", false, "$vFile:pread:5,3fff,0#98");
	assert_frame("OK", true, "$OK#9a");
}

Test(gdb_packet, escapes_the_four_special_bytes)
{
	/* '*' would start a run: escaped as "}\n" (0x2a ^ 0x20). */
	assert_frame("a$b#c}d*e", false, "$a}\x04" "b}\x03" "c}]d}\x0a" "e#51");
	assert_frame("+-\x03", false, "$+-\x03#5b");
}

Test(gdb_packet, writes_nothing_past_cap)
{
	char buf[16];

	memset(buf, 'Q', sizeof(buf));
	cr_assert_eq(gdb_frame("OK", 2, false, buf, 6), 6);
	cr_assert_eq(memcmp(buf, "$OK#9aQ", 7), 0);
	memset(buf, 'Q', sizeof(buf));
	cr_assert_eq(gdb_frame("OK", 2, false, buf, 5), 0);
	for (size_t i = 5; i < sizeof(buf); i++)
		cr_assert_eq(buf[i], 'Q');
	cr_assert_eq(gdb_frame("##", 2, false, buf, 8), 8, "2 * len + 4");
	cr_assert_eq(gdb_frame("##", 2, false, buf, 7), 0);
}

/* Every byte value, framed and fed back, is the same payload. */
Test(gdb_packet, every_byte_round_trips)
{
	uint8_t all[512];
	size_t n;

	for (size_t i = 0; i < sizeof(all); i++)
		all[i] = (uint8_t)(i * 7);
	n = gdb_frame(all, sizeof(all), false, out, sizeof(out));
	cr_assert_gt(n, 0);
	cr_assert_leq(n, 2 * sizeof(all) + 4);
	cr_assert_eq(feed_n(out, n), GDB_RX_PACKET);
	assert_payload(all, sizeof(all));
}

/* gdb's reading of a reply: the frame and its checksum checked, runs
 * expanded on the characters as sent, then escapes undone. Also insists
 * that no repeat count is sent as '#', '$', '+' or '-'. Returns the
 * payload's length, or -1 for a frame gdb would not read as meant. */
static long reference_decode(const char *f, size_t n, uint8_t *payload,
			     size_t cap)
{
	static char wire[4 * GDB_PACKET_MAX];
	size_t w = 0, len = 0;
	unsigned sum = 0, cs;

	if (n < 4 || f[0] != '$' || f[n - 3] != '#' ||
	    sscanf(f + n - 2, "%2x", &cs) != 1)
		return -1;
	for (size_t i = 1; i < n - 3; i++) {
		uint8_t c = (uint8_t)f[i];

		sum += c;
		if (c == '$' || c == '#' || w + 97 > sizeof(wire))
			return -1;
		if (c != '*') {
			wire[w++] = (char)c;
			continue;
		}
		if (w == 0 || ++i == n - 3)
			return -1;
		c = (uint8_t)f[i];
		sum += c;
		if (c < ' ' || c > '~' || strchr("#$+-", c))
			return -1;
		for (unsigned k = 0; k < c - 29u; k++, w++)
			wire[w] = wire[w - 1];
	}
	if ((sum & 0xff) != cs)
		return -1;
	for (size_t i = 0; i < w; i++) {
		uint8_t c = (uint8_t)wire[i];

		if (c == '}') {
			if (++i == w)
				return -1;
			c = (uint8_t)wire[i] ^ 0x20;
		}
		if (len == cap)
			return -1;
		payload[len++] = c;
	}
	return (long)len;
}

static void assert_rle_round_trip(const void *payload, size_t len)
{
	static uint8_t back[GDB_PACKET_MAX];
	size_t plain = gdb_frame(payload, len, false, out, sizeof(out));
	size_t n = gdb_frame(payload, len, true, out, sizeof(out));

	cr_assert_gt(n, 0);
	cr_assert_leq(n, plain, "run-length encoding never costs bytes");
	cr_assert_eq(reference_decode(out, n, back, sizeof(back)), (long)len,
		     "\"%.*s\" does not decode", (int)n, out);
	cr_assert_eq(memcmp(back, payload, len), 0);
}

Test(gdb_packet, run_length_encodes_as_the_manual_shows)
{
	assert_frame("000", true, "$000#90");
	assert_frame("0000", true, "$0* #7a");
	assert_frame("00000", true, "$0*!#7b");
	/* 6 or 7 repeats would be '#' or '$': 5 and the rest as they are */
	assert_frame("0000000", true, "$0*\"0#ac");
	assert_frame("00000000", true, "$0*\"00#dc");
	assert_frame("000000000", true, "$0*%#7f");
	assert_frame("0000", false, "$0000#c0");
}

Test(gdb_packet, run_length_never_sends_an_ack_as_a_count)
{
	/* 15 bytes: 14 repeats would be '+'; 17 bytes: 16 would be '-' */
	assert_frame("aaaaaaaaaaaaaaa", true, "$a**a#16");
	assert_frame("aaaaaaaaaaaaaaaaa", true, "$a*,a#18");
}

Test(gdb_packet, runs_of_every_length_decode)
{
	static uint8_t buf[GDB_PACKET_MAX];

	for (size_t len = 1; len <= 200; len++) {
		memset(buf, '0', len);
		assert_rle_round_trip(buf, len);
		/* between other bytes, and one that is always escaped */
		buf[0] = 'x';
		buf[len - 1] = '*';
		assert_rle_round_trip(buf, len);
		memset(buf, '#', len);
		assert_rle_round_trip(buf, len);
	}
}

Test(gdb_packet, the_largest_run_decodes)
{
	static uint8_t buf[GDB_PACKET_MAX];

	memset(buf, 0, sizeof(buf));
	assert_rle_round_trip(buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i / 5);
	assert_rle_round_trip(buf, sizeof(buf));
}

Test(gdb_packet, escaped_runs_are_not_run_length_encoded)
{
	/* gdb expands runs before unescaping: "}]*!" would repeat ']' */
	assert_frame("}}}}}", true, "$}]}]}]}]}]#42");
	/* but a run right after an escaped byte is its own */
	assert_rle_round_trip("}]]]]]", 6);
}

/* --- hex helpers --- */

Test(gdb_packet, hex_encode)
{
	char hex[9];

	cr_assert_eq(gdb_hex_encode("\x00\x1f\xa0\xff", 4, hex), 8);
	cr_assert_str_eq(hex, "001fa0ff");
	cr_assert_eq(gdb_hex_encode("", 0, hex), 0);
	cr_assert_str_eq(hex, "");
}

Test(gdb_packet, hex_decode)
{
	uint8_t b[4] = { 0x55, 0x55, 0x55, 0x55 };

	cr_assert_eq(gdb_hex_decode("001fA0Ff", 8, b, 4), 4);
	cr_assert_eq(memcmp(b, "\x00\x1f\xa0\xff", 4), 0);
	cr_assert_eq(gdb_hex_decode("0a1", 2, b, 4), 1, "only @hexlen is read");
	cr_assert_eq(b[0], 0x0a);
	cr_assert_eq(gdb_hex_decode("", 0, b, 0), 0);
}

Test(gdb_packet, hex_decode_rejects_without_writing)
{
	uint8_t b[4] = { 0x55, 0x55, 0x55, 0x55 };

	cr_assert_eq(gdb_hex_decode("001", 3, b, 4), -1, "odd length");
	cr_assert_eq(gdb_hex_decode("00g0", 4, b, 4), -1);
	cr_assert_eq(gdb_hex_decode("0x10", 4, b, 4), -1);
	cr_assert_eq(gdb_hex_decode("00 1", 4, b, 4), -1);
	cr_assert_eq(gdb_hex_decode("0\0", 2, b, 4), -1);
	cr_assert_eq(gdb_hex_decode("0011223344", 10, b, 4), -1, "past cap");
	for (int i = 0; i < 4; i++)
		cr_assert_eq(b[i], 0x55);
}

static void assert_parse(const char *s, uint64_t want, size_t used)
{
	const char *p = s;
	uint64_t v = 1;

	cr_assert(gdb_parse_hex(&p, &v), "\"%s\"", s);
	cr_assert_eq(v, want, "\"%s\": %#lx", s, (unsigned long)v);
	cr_assert_eq(p, s + used);
}

static void assert_no_parse(const char *s)
{
	const char *p = s;
	uint64_t v = 42;

	cr_assert(!gdb_parse_hex(&p, &v), "\"%s\"", s);
	cr_assert_eq(p, s, "*p unchanged");
	cr_assert_eq(v, 42, "value unchanged");
}

Test(gdb_packet, parse_hex)
{
	assert_parse("0", 0, 1);
	assert_parse("1000,4", 0x1000, 4);
	assert_parse("DeadBeef:", 0xdeadbeef, 8);
	assert_parse("ffffffffffffffff", UINT64_MAX, 16);
	assert_parse("00000000000000000000ffffffffffffffff#", UINT64_MAX, 36);
	assert_no_parse("");
	assert_no_parse(",4");
	assert_no_parse("x10");
	assert_no_parse("-1");
	assert_no_parse("10000000000000000");
	assert_no_parse("fffffffffffffffff");
}
