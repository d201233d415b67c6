/*
 * fuzz_frame.c — frame_parse on arbitrary bytes (the CRC is made valid for
 * half the inputs so the body parsers are reached); a frame that parses must
 * re-encode to exactly the same bytes.
 */
#include "frame.h"
#include "crc32c.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t f[2048], g[2048];
	struct frame fr;
	size_t n;

	if (size < 1 || size > sizeof f)
		return 0;
	/* first byte: bit 0 = fix the checksum */
	n = size - 1;
	memcpy(f, data + 1, n);
	if ((data[0] & 1) && n >= 4) {
		uint32_t c = crc32c(0, f, n - 4);
		f[n - 4] = (uint8_t)(c >> 24);
		f[n - 3] = (uint8_t)(c >> 16);
		f[n - 2] = (uint8_t)(c >> 8);
		f[n - 1] = (uint8_t)c;
	}
	if (frame_parse(f, n, &fr) != 0)
		return 0;
	size_t m = 0;
	switch (fr.type) {
	case FT_HELLO:
	case FT_HELLO_ACK:
		m = frame_put_hello(g, sizeof g, fr.type, fr.src, fr.dst, &fr.u.hello);
		break;
	case FT_DATA:
		m = frame_put_data(g, sizeof g, fr.src, fr.dst, &fr.u.data);
		break;
	case FT_ACK:
		m = frame_put_ack(g, sizeof g, fr.src, fr.dst, &fr.u.ack);
		break;
	default:
		m = frame_put_empty(g, sizeof g, fr.type, fr.src, fr.dst);
		break;
	}
	if (m != n || memcmp(f, g, n) != 0)
		abort(); /* the codec is not canonical: our bug */
	return 0;
}
