/* fuzz_proto.c — libFuzzer harness for hubd's unix-socket protocol decoders
 * (hub/proto.c): SUBMIT (from any local client), ANSWER and STATUS (read by
 * dcc and hubctl). Nothing may read past the input or leak. */
#include "proto.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_submit s;
	struct proto_answer a;
	struct hub_status st;

	(void)proto_type(data, size);
	if (size >= 4)
		(void)proto_frame_len(data);
	if (proto_decode_submit(data, size, &s) == 0) {
		for (int i = 0; i < s.nargs; i++)
			if (!s.args[i])
				abort();
		proto_submit_free(&s);
	}
	(void)proto_decode_answer(data, size, &a);
	if (proto_decode_status(data, size, &st) == 0)
		proto_status_free(&st);
	return 0;
}
