/* fuzz_compiler.c — compiler_decode on arbitrary bytes: never reads out of
 * bounds; whatever it accepts re-encodes to the same bytes. */
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
	return 0;
}
