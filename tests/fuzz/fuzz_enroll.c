/* fuzz_enroll.c — libFuzzer harness for the ENROLL request and answer of
 * hubd's socket (hub/enroll.c): the request comes from any local client in
 * the usbfarm group and its name reaches a sysfs path, so a decoded name
 * must always be a valid interface name, and what decodes must re-encode
 * to the very same bytes. Nothing may read past the input or leak. */
#include "enroll.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[16], msg[ENROLL_MSG_MAX];
	int status;
	struct buf b = BUF_INIT;

	if (enroll_decode_req(data, size, name) == 0) {
		if (!enroll_ifname_ok(name) || strchr(name, '/'))
			abort();
		if (enroll_encode_req(&b, name) != 0 || b.len != size + 4 || memcmp(b.data + 4, data, size) != 0)
			abort();
		buf_free(&b);
	}
	if (enroll_decode_answer(data, size, &status, msg, sizeof msg) == 0) {
		if (enroll_encode_answer(&b, status, msg) != 0 || b.len != size + 4 || memcmp(b.data + 4, data, size) != 0)
			abort();
		buf_free(&b);
	}
	return 0;
}
