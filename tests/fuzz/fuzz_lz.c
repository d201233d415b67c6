/* fuzz_lz.c — lz_decompress on arbitrary bytes, with a 1 MiB cap. */
#include "lz.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out = NULL;
	size_t n = 0;
	int rc = lz_decompress(data, size, 1 << 20, &out, &n);
	if (rc == 0 && (!out || n > (1 << 20)))
		abort();
	free(out);
	return 0;
}
