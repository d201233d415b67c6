/* test_argv_wire.c — lib/argv_wire.c, the one argv codec, and its two
 * users: a round trip; each cap (count, one argument, all bytes) refused
 * by the encoder's check and by the decoder, in the JOB message and in
 * hubd's SUBMIT alike; a NUL inside or a truncation refused. */
#include "argv_wire.h"
#include "job.h"
#include "proto.h"
#include "../lib/test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A hand-made SUBMIT whose argv is nargs copies of one argument of len
 * bytes (the encoders refuse to make it). */
static void raw_submit(struct buf *b, int nargs, size_t len)
{
	char *a = malloc(len + 1);
	memset(a, 'x', len);
	a[0] = '-';
	a[len] = 0;
	proto_begin(b, PROTO_SUBMIT);
	buf_str(b, "/usr/bin/gcc");
	buf_u16(b, (uint16_t)nargs);
	for (int i = 0; i < nargs; i++)
		buf_str(b, a);
	buf_str(b, "a.c");
	buf_str(b, "a.o");
	buf_u8(b, 0);
	buf_str(b, "/tmp");
	buf_str(b, "a.c");
	buf_u64(b, 0);
	buf_str(b, "");		/* text_why */
	buf_blob(b, "", 0);
	free(a);
}

static int decode_raw(int nargs, size_t len)
{
	struct buf b = BUF_INIT;
	struct proto_submit s;
	int rc;

	raw_submit(&b, nargs, len);
	rc = proto_decode_submit(b.data + 4, b.len - 4, &s);
	if (rc == 0)
		proto_submit_free(&s);
	buf_free(&b);
	return rc;
}

int main(void)
{
	T_CASE("roundtrip") {
		char *v[] = { "-c", "-O2", "", "-xc", NULL };
		struct buf b = BUF_INIT;
		struct cursor c;
		char **d;
		int n = -1;
		T_CHECK(argv_wire_check(v, 4) == 0, "check");
		argv_wire_encode(&b, v, 4);
		c = cur_init(b.data, b.len);
		d = argv_wire_decode(&c, &n);
		T_CHECK(d && n == 4 && cur_done(&c), "decode");
		for (int i = 0; d && i < 4; i++)
			T_CHECK(!strcmp(d[i], v[i]), "arg %d: %s", i, d[i]);
		T_CHECK(d && !d[4], "not NULL-terminated");
		free(d);
		buf_free(&b);
	}
	T_CASE("caps_in_the_check") {
		static char *many[JOB_MAX_ARGS + 2];
		char *big = malloc(JOB_MAX_ARG_LEN + 1), *mid = malloc(JOB_MAX_ARG_LEN);
		memset(big, 'x', JOB_MAX_ARG_LEN);
		big[JOB_MAX_ARG_LEN] = 0;
		memset(mid, 'x', JOB_MAX_ARG_LEN - 1);
		mid[JOB_MAX_ARG_LEN - 1] = 0;
		for (int i = 0; i <= JOB_MAX_ARGS; i++)
			many[i] = mid;
		T_CHECK(argv_wire_check(many, JOB_MAX_ARGS + 1) == -EINVAL, "count");
		T_CHECK(argv_wire_check(&big, 1) == -EINVAL, "one argument");
		T_CHECK(argv_wire_check(many, 1) == 0, "one at the limit refused");
		/* 64 of 4096 bytes each (NUL included) = JOB_MAX_ARGS_BYTES */
		T_CHECK(argv_wire_check(many, JOB_MAX_ARGS_BYTES / JOB_MAX_ARG_LEN) == 0,
			"all bytes at the cap refused");
		T_CHECK(argv_wire_check(many, JOB_MAX_ARGS_BYTES / JOB_MAX_ARG_LEN + 1) == -EINVAL,
			"all bytes over the cap");
		free(big);
		free(mid);
	}
	T_CASE("socket_protocol_has_every_cap") {
		int at = JOB_MAX_ARGS_BYTES / JOB_MAX_ARG_LEN;
		T_CHECK(decode_raw(at, JOB_MAX_ARG_LEN - 1) == 0, "at the total cap refused");
		T_CHECK(decode_raw(at + 1, JOB_MAX_ARG_LEN - 1) == -EPROTO,
			"over the total-bytes cap accepted");
		T_CHECK(decode_raw(1, JOB_MAX_ARG_LEN) == -EPROTO, "an argument over its cap accepted");
		T_CHECK(decode_raw(JOB_MAX_ARGS + 1, 1) == -EPROTO, "over the count cap accepted");
	}
	T_CASE("malformed_refused") {
		struct buf b = BUF_INIT;
		struct cursor c;
		int n;
		buf_u16(&b, 2);
		buf_u16(&b, 3);
		buf_put(&b, "a\0b", 3);
		buf_u16(&b, 1);
		buf_put(&b, "x", 1);
		c = cur_init(b.data, b.len);
		T_CHECK(!argv_wire_decode(&c, &n) && c.err, "NUL inside accepted");
		c = cur_init(b.data, b.len - 1);
		T_CHECK(!argv_wire_decode(&c, &n) && c.err, "truncation accepted");
		buf_free(&b);
	}
	return t_done();
}
