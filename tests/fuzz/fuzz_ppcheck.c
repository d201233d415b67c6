/* fuzz_ppcheck.c — libFuzzer harness for the parsers of hub/ppcheck.c
 * (any file's text, the directives-only text's _Pragma operands; line
 * markers are not followed here: no file is read), and of hub/reasons.c and
 * hub/verify.c (the extension frames any local client may send to hubd, and
 * the status hubctl decodes). Nothing may read past the input or leak; a
 * verdict is 0 or 1 with a reason. */
#include "ppcheck.h"
#include "reasons.h"
#include "verify.h"
#include "../lib/cursor.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ppcheck_opts o = { size & 1, size & 2 };
	char why[320] = "";
	char *copy = malloc(size ? size : 1);
	struct buf reply = BUF_INIT;
	struct cursor c;
	struct reasons_status rs;
	struct verify_status vs;
	int r;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	r = ppcheck_file_text(copy, size, "f", &o, why, sizeof why);
	if (r != 0 && (r != 1 || !why[0]))
		abort();
	/* the text check without reading files: no '#', so no line marker */
	for (size_t i = 0; i < size; i++)
		if (copy[i] == '#')
			copy[i] = ' ';
	r = ppcheck_text((const uint8_t *)copy, size, &o, why, sizeof why);
	if (r != 0 && r != 1)
		abort();
	free(copy);
	(void)hubx_request(data, size, &reply);
	buf_free(&reply);
	c = cur_init(data, size);
	(void)reasons_decode(&c, &rs);
	(void)verify_decode(&c, &vs);	/* fills vs (zeroed first) either way */
	verify_status_free(&vs);
	return 0;
}
