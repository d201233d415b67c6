/* test_buf.c — buf.h writers and cursor.h readers agree; the cursor refuses every overrun. */
#include "buf.h"
#include "cursor.h"
#include "../lib/test.h"

#include <string.h>

int main(void)
{
	T_CASE("buf_cursor_roundtrip") {
		struct buf b = BUF_INIT;
		buf_u8(&b, 0xab);
		buf_u16(&b, 0x1234);
		buf_u32(&b, 0xdeadbeef);
		buf_u64(&b, 0x0102030405060708ull);
		buf_blob(&b, "xyz", 3);
		buf_str(&b, "hello");
		T_CHECK(buf_ok(&b), "encoder failed");
		struct cursor c = cur_init(b.data, b.len);
		T_CHECK(cur_u8(&c) == 0xab, "u8");
		T_CHECK(cur_u16(&c) == 0x1234, "u16");
		T_CHECK(cur_u32(&c) == 0xdeadbeef, "u32");
		T_CHECK(cur_u64(&c) == 0x0102030405060708ull, "u64");
		size_t n;
		const uint8_t *p = cur_blob(&c, 16, &n);
		T_CHECK(p && n == 3 && !memcmp(p, "xyz", 3), "blob");
		char s[16];
		T_CHECK(cur_str(&c, s, sizeof s) && !strcmp(s, "hello"), "str");
		T_CHECK(cur_done(&c), "not consumed exactly");
		buf_free(&b);
	}
	T_CASE("cursor_overrun_sticks") {
		uint8_t x[3] = { 1, 2, 3 };
		struct cursor c = cur_init(x, sizeof x);
		T_CHECK(cur_u32(&c) == 0 && c.err, "u32 past end must fail");
		T_CHECK(cur_u8(&c) == 0, "error is sticky");
		T_CHECK(!cur_done(&c), "done after error");
	}
	T_CASE("cursor_blob_cap") {
		uint8_t x[] = { 0, 0, 0, 5, 'a', 'b', 'c', 'd', 'e' };
		struct cursor c = cur_init(x, sizeof x);
		size_t n;
		T_CHECK(cur_blob(&c, 4, &n) == NULL && c.err, "blob over cap accepted");
		c = cur_init(x, 8);
		T_CHECK(cur_blob(&c, 100, &n) == NULL && c.err, "truncated blob accepted");
	}
	T_CASE("cursor_str_rejects_nul_and_long") {
		uint8_t x[] = { 0, 3, 'a', 0, 'b' };
		struct cursor c = cur_init(x, sizeof x);
		char s[8];
		T_CHECK(!cur_str(&c, s, sizeof s), "embedded NUL accepted");
		uint8_t y[] = { 0, 4, 'a', 'b', 'c', 'd' };
		c = cur_init(y, sizeof y);
		T_CHECK(!cur_str(&c, s, 4), "string longer than cap accepted");
	}
	T_CASE("extra_bytes_not_done") {
		uint8_t x[] = { 1, 2 };
		struct cursor c = cur_init(x, sizeof x);
		cur_u8(&c);
		T_CHECK(!cur_done(&c), "leftover byte not noticed");
	}
	return t_done();
}
