/* fuzz_equiv.c — hub/equiv.c's ident rewrite on arbitrary bytes (an object
 * from a board is untrusted): never reads or writes out of bounds; what it
 * accepts is an object whose ident is then exactly the one asked for, and
 * which it accepts again (its output obeys the layout rule it checks). */
#include "equiv.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char ident[] = "GCC: (Debian 12.2.0-14+deb12u1) 12.2.0";
	struct buf out = BUF_INIT, again = BUF_INIT;
	char got[600];

	(void)equiv_comment_ident(data, size, got, sizeof got);
	if (equiv_comment_patch(data, size, ident, &out) == 0) {
		if (equiv_comment_ident(out.data, out.len, got, sizeof got) || strcmp(got, ident))
			__builtin_trap();
		if (equiv_comment_patch(out.data, out.len, ident, &again) ||
		    again.len != out.len || memcmp(again.data, out.data, out.len))
			__builtin_trap();
	}
	buf_free(&out);
	buf_free(&again);
	return 0;
}
