/*
 * test_frame.c — the frame codec: every type round-trips; every corruption,
 * truncation and bad field is refused with the code that names its drop
 * counter. Also CRC32C (known answers, hardware = table) and LZ (round trip,
 * caps, corrupt streams).
 */
#include "frame.h"
#include "crc32c.h"
#include "lz.h"
#include "../lib/test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CAP 1500

static void recrc(uint8_t *p, size_t len)
{
	uint32_t c = crc32c(0, p, len - 4);
	p[len - 4] = (uint8_t)(c >> 24);
	p[len - 3] = (uint8_t)(c >> 16);
	p[len - 2] = (uint8_t)(c >> 8);
	p[len - 1] = (uint8_t)c;
}

static size_t mk_hello(uint8_t *out)
{
	struct frame_hello h = { .version = LINK_PROTO_VERSION, .boot = 77, .caps = 3,
				 .max_frame = 1500, .app = (const uint8_t *)"blob", .app_len = 4 };
	strcpy(h.ident, "node-1");
	return frame_put_hello(out, CAP, FT_HELLO, 11, 22, &h);
}

static size_t mk_data(uint8_t *out)
{
	struct frame_data d = { .seq = 9, .stream = 4, .msg = 7, .prev = 3, .off = 1000,
				.total = 5000, .flags = FF_PREV | FF_COMPRESSED,
				.payload = (const uint8_t *)"payload!", .len = 8 };
	return frame_put_data(out, CAP, 11, 22, &d);
}

static size_t mk_ack(uint8_t *out)
{
	struct frame_ack a = { .cum = 100, .rwnd = 4096, .n = 2 };
	a.sack[0][0] = 102;
	a.sack[0][1] = 110;
	a.sack[1][0] = 120;
	a.sack[1][1] = 121;
	return frame_put_ack(out, CAP, 11, 22, &a);
}

static size_t mk_keepalive(uint8_t *out)
{
	return frame_put_empty(out, CAP, FT_KEEPALIVE, 11, 22);
}

struct proto {
	const char *name;
	size_t (*mk)(uint8_t *);
	uint8_t type;
};

static const struct proto protos[] = {
	{ "hello", mk_hello, FT_HELLO },
	{ "data", mk_data, FT_DATA },
	{ "ack", mk_ack, FT_ACK },
	{ "keepalive", mk_keepalive, FT_KEEPALIVE },
};

/* Offsets into the body (after the 20-byte header) of fields to break. */
struct badcase {
	const char *name;
	size_t (*mk)(uint8_t *);
	size_t at;	 /* absolute byte offset to overwrite */
	uint32_t v;	 /* written big-endian over `width` bytes */
	int width;
	int trunc;	 /* >0: cut the frame to this length (before the CRC is redone) */
	int want;
};

static void put_be(uint8_t *p, uint32_t v, int w)
{
	for (int i = w - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

int main(void)
{
	uint8_t f[CAP], g[CAP];
	struct frame fr;

	T_CASE("crc32c_known_answers") {
		T_CHECK(crc32c(0, "123456789", 9) == 0xE3069283u, "check value %08x",
			crc32c(0, "123456789", 9));
		T_CHECK(crc32c_sw(0, "123456789", 9) == 0xE3069283u, "sw check value");
		T_CHECK(crc32c(0, "", 0) == 0, "empty");
		uint8_t z[32] = { 0 };
		T_CHECK(crc32c(0, z, 32) == 0x8A9136AAu, "32 zeros (RFC 3720) %08x", crc32c(0, z, 32));
		uint8_t buf[4099];
		for (size_t i = 0; i < sizeof buf; i++)
			buf[i] = (uint8_t)(i * 131 + 7);
		for (size_t off = 0; off < 9; off++)
			for (size_t n = 0; n < 300; n += 7)
				T_CHECK(crc32c(0, buf + off, n) == crc32c_sw(0, buf + off, n),
					"hw != sw at %zu+%zu", off, n);
		T_CHECK(crc32c(crc32c(0, buf, 1000), buf + 1000, 3099) == crc32c(0, buf, 4099),
			"continuation");
	}

	for (unsigned i = 0; i < sizeof protos / sizeof protos[0]; i++) {
		char name[64];
		snprintf(name, sizeof name, "roundtrip_%s", protos[i].name);
		T_CASE(name) {
			size_t n = protos[i].mk(f);
			T_CHECK(n > 0, "encode");
			T_CHECK(frame_parse(f, n, &fr) == 0, "parse");
			T_CHECK(fr.type == protos[i].type && fr.src == 11 && fr.dst == 22, "header");
		}
		snprintf(name, sizeof name, "every_bitflip_%s", protos[i].name);
		T_CASE(name) {
			size_t n = protos[i].mk(f);
			for (size_t b = 0; b < n * 8; b++) {
				memcpy(g, f, n);
				g[b / 8] ^= (uint8_t)(1u << (b % 8));
				int rc = frame_parse(g, n, &fr);
				int want = b / 8 < 3 ? FRAME_EFOREIGN : FRAME_ECRC;
				if (rc != want) {
					T_CHECK(0, "bit %zu: %d, want %d", b, rc, want);
					break;
				}
			}
		}
		snprintf(name, sizeof name, "every_truncation_%s", protos[i].name);
		T_CASE(name) {
			size_t n = protos[i].mk(f);
			for (size_t l = 0; l < n; l++) {
				int rc = frame_parse(f, l, &fr);
				int want = l < FRAME_HDR + FRAME_CRC ? FRAME_ESHORT : FRAME_ECRC;
				if (rc != want) {
					T_CHECK(0, "len %zu: %d, want %d", l, rc, want);
					break;
				}
			}
		}
	}

	T_CASE("data_fields") {
		size_t n = mk_data(f);
		T_CHECK(frame_parse(f, n, &fr) == 0, "parse");
		struct frame_data *d = &fr.u.data;
		T_CHECK(d->seq == 9 && d->stream == 4 && d->msg == 7 && d->prev == 3 && d->off == 1000 &&
				d->total == 5000 && d->flags == (FF_PREV | FF_COMPRESSED) && d->len == 8 &&
				!memcmp(d->payload, "payload!", 8),
			"fields");
		T_CHECK(n == FRAME_DATA_OVERHEAD + 8, "overhead %zu", n);
	}
	T_CASE("hello_fields") {
		size_t n = mk_hello(f);
		T_CHECK(frame_parse(f, n, &fr) == 0, "parse");
		struct frame_hello *h = &fr.u.hello;
		T_CHECK(h->version == LINK_PROTO_VERSION && h->boot == 77 && h->caps == 3 &&
				h->max_frame == 1500 && !strcmp(h->ident, "node-1") && h->app_len == 4 &&
				!memcmp(h->app, "blob", 4),
			"fields");
	}
	T_CASE("hello_max_app_fits_mtu") {
		static uint8_t app[LINK_APP_HELLO_MAX];
		struct frame_hello h = { .version = 1, .boot = 1, .max_frame = 1500, .app = app,
					 .app_len = LINK_APP_HELLO_MAX };
		memset(h.ident, 'x', LINK_IDENT_MAX - 1);
		size_t n = frame_put_hello(f, 1500, FT_HELLO, 1, 0, &h);
		T_CHECK(n > 0 && n <= 1500, "largest hello is %zu bytes", n);
		T_CHECK(frame_parse(f, n, &fr) == 0, "parses");
		h.app_len = LINK_APP_HELLO_MAX + 1;
		T_CHECK(frame_put_hello(f, CAP, FT_HELLO, 1, 0, &h) == 0, "encoder refuses big app");
	}
	T_CASE("ack_fields") {
		size_t n = mk_ack(f);
		T_CHECK(frame_parse(f, n, &fr) == 0, "parse");
		struct frame_ack *a = &fr.u.ack;
		T_CHECK(a->cum == 100 && a->rwnd == 4096 && a->n == 2 && a->sack[0][0] == 102 &&
				a->sack[0][1] == 110 && a->sack[1][0] == 120 && a->sack[1][1] == 121,
			"fields");
	}
	T_CASE("encoders_refuse_small_buffers") {
		struct frame_data d = { .payload = f, .len = 1000, .total = 1000 };
		T_CHECK(frame_put_data(g, 1000, 1, 2, &d) == 0, "data");
		T_CHECK(frame_put_empty(g, 10, FT_RESET, 1, 2) == 0, "empty");
		struct frame_ack a = { .n = FRAME_SACK_MAX + 1 };
		T_CHECK(frame_put_ack(g, CAP, 1, 2, &a) == 0, "too many sacks");
	}

	/* Bad fields behind a valid checksum: each must be refused, with the right code. */
	static const struct badcase bad[] = {
		{ "magic", mk_keepalive, 0, 0x1234, 2, 0, FRAME_EFOREIGN },
		{ "version", mk_keepalive, 2, 9, 1, 0, FRAME_EFOREIGN },
		{ "type_unknown", mk_keepalive, 3, 99, 1, 0, FRAME_EBAD },
		{ "type_zero", mk_keepalive, 3, 0, 1, 0, FRAME_EBAD },
		{ "src_epoch_zero", mk_keepalive, 4, 0, 4, 0, 0 /* set below */ },
		{ "keepalive_extra_byte", mk_keepalive, 0, 0, 0, -1, FRAME_EBAD },
		{ "data_body_short", mk_data, 0, 0, 0, FRAME_HDR + 10 + 4, FRAME_ESHORT },
		{ "data_off_past_total", mk_data, FRAME_HDR + 16, 6000, 4, 0, FRAME_EBAD },
		{ "data_len_past_total", mk_data, FRAME_HDR + 20, 1004, 4, 0, FRAME_EBAD },
		{ "data_flags_unknown", mk_data, FRAME_HDR + 24, 0x80, 1, 0, FRAME_EBAD },
		{ "data_first_frame_offset", mk_data, FRAME_HDR + 8, 9, 4, 0, FRAME_EBAD },
		{ "data_prev_is_self", mk_data, FRAME_HDR + 12, 7, 4, 0, FRAME_EBAD },
		{ "data_prev_without_flag", mk_data, FRAME_HDR + 24, FF_COMPRESSED, 1, 0, FRAME_EBAD },
		{ "ack_too_many_ranges", mk_ack, FRAME_HDR + 8, FRAME_SACK_MAX + 1, 1, 0, FRAME_EBAD },
		{ "ack_more_ranges_than_bytes", mk_ack, FRAME_HDR + 8, 3, 1, 0, FRAME_ESHORT },
		{ "ack_range_below_cum", mk_ack, FRAME_HDR + 9, 50, 4, 0, FRAME_EBAD },
		{ "ack_range_empty", mk_ack, FRAME_HDR + 13, 102, 4, 0, FRAME_EBAD },
		{ "ack_body_short", mk_ack, 0, 0, 0, FRAME_HDR + 6 + 4, FRAME_ESHORT },
		{ "hello_ident_too_long", mk_hello, FRAME_HDR + 18, LINK_IDENT_MAX, 2, 0, FRAME_EBAD },
		{ "hello_ident_past_end", mk_hello, FRAME_HDR + 18, 60, 2, 0, FRAME_ESHORT },
		{ "hello_ident_nul", mk_hello, FRAME_HDR + 21, 0, 1, 0, FRAME_EBAD },
		{ "hello_app_too_long", mk_hello, FRAME_HDR + 26, LINK_APP_HELLO_MAX + 1, 4, 0, FRAME_EBAD },
		{ "hello_app_past_end", mk_hello, FRAME_HDR + 26, 5, 4, 0, FRAME_ESHORT },
		{ "hello_max_frame_tiny", mk_hello, FRAME_HDR + 14, 100, 4, 0, FRAME_EBAD },
		{ "hello_boot_zero", mk_hello, FRAME_HDR + 2, 0, 4, 0, 0 },
		{ "hello_trailing", mk_hello, 0, 0, 0, -1, FRAME_EBAD },
	};
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char name[80];
		snprintf(name, sizeof name, "bad_%s", bad[i].name);
		T_CASE(name) {
			size_t n = bad[i].mk(f);
			int want = bad[i].want;
			if (bad[i].width)
				put_be(f + bad[i].at, bad[i].v, bad[i].width);
			if (!strcmp(bad[i].name, "src_epoch_zero")) {
				memset(f + 4, 0, 8);
				want = FRAME_EBAD;
			}
			if (!strcmp(bad[i].name, "hello_boot_zero")) {
				memset(f + FRAME_HDR + 2, 0, 8);
				want = FRAME_EBAD;
			}
			if (bad[i].trunc > 0) {
				n = (size_t)bad[i].trunc;
			} else if (bad[i].trunc < 0) {
				memmove(f + n - 3, f + n - 4, 4);
				f[n - 4] = 0;
				n++;
			}
			recrc(f, n);
			int rc = frame_parse(f, n, &fr);
			T_CHECK(rc == want, "got %d, want %d", rc, want);
		}
	}

	T_CASE("lz_roundtrip") {
		size_t n = 300000;
		uint8_t *src = malloc(n), *c, *d;
		size_t cl, dl;
		for (size_t i = 0; i < n; i++)
			src[i] = (uint8_t)("abcabdabe"[i % 9] ^ (i / 1000));
		T_CHECK(lz_compress(src, n, &c, &cl) == 1 && cl < n / 2, "compresses");
		T_CHECK(lz_decompress(c, cl, n, &d, &dl) == 0 && dl == n && !memcmp(d, src, n), "decodes");
		free(d);
		T_CHECK(lz_decompress(c, cl, n - 1, &d, &dl) == -EMSGSIZE && !d, "cap");
		c[cl / 2] ^= 0xff;
		int rc = lz_decompress(c, cl, n, &d, &dl);
		T_CHECK(rc == -EBADMSG || (rc == 0 && dl == n), "corrupt stream: %d", rc);
		free(d);
		T_CHECK(lz_decompress(c, cl / 2, n, &d, &dl) == -EBADMSG, "truncated stream");
		T_CHECK(lz_decompress(c, 3, n, &d, &dl) == -EBADMSG, "no header");
		free(c);
		free(src);
	}
	T_CASE("lz_skips_incompressible") {
		size_t n = 1 << 20;
		uint8_t *src = malloc(n), *c;
		size_t cl;
		uint64_t s = 88172645463325252ull;
		for (size_t i = 0; i < n; i++) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			src[i] = (uint8_t)s;
		}
		T_CHECK(lz_compress(src, n, &c, &cl) == 0 && !c, "random data compressed");
		T_CHECK(lz_compress(src, 10, &c, &cl) == 0, "tiny input");
		free(src);
	}
	return t_done();
}
