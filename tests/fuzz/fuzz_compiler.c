/* fuzz_compiler.c — compiler_decode on arbitrary bytes: never reads out of
 * bounds; whatever it accepts re-encodes to the same bytes. The same bytes,
 * split at the first NUL into a -v text and an assembler text, through
 * compiler_canon(): never out of bounds, and what it accepts is lines of
 * "key: value". */
#include "compiler.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor c = cur_init(data, size);
	struct compiler_id id;

	if (compiler_decode(&c, &id)) {
		struct buf b = BUF_INIT;
		char d[160];
		compiler_encode(&b, &id);
		if (!buf_ok(&b) || b.len != c.pos || memcmp(b.data, data, b.len))
			__builtin_trap();
		compiler_describe(&id, d, sizeof d);
		buf_free(&b);
	}
	{
		const uint8_t *z = memchr(data, 0, size);
		size_t vl = z ? (size_t)(z - data) : size;
		struct buf o = BUF_INIT;
		bool clang;
		if (compiler_canon((const char *)data, vl, z ? (const char *)z + 1 : "",
				   z ? size - vl - 1 : 0, &o, &clang) == 0 &&
		    (o.len == 0 || o.data[o.len - 1] != '\n' || !memmem(o.data, o.len, ": ", 2)))
			__builtin_trap();
		buf_free(&o);
	}
	return 0;
}
