/* fuzz_proto.c — libFuzzer harness for hubd's unix-socket protocol decoders
 * (hub/proto.c): SUBMIT (from any local client), ANSWER and STATUS (read by
 * dcc and hubctl), KEEPALIVE, under hubd's real caps (hub/guard.h): a frame
 * header is accepted only within PROTO_MAX_FRAME and --max-message, and the
 * held-bytes accounting returns to zero. Nothing may read past the input or
 * leak. */
#include "guard.h"
#include "proto.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct proto_submit s;
	struct proto_answer a;
	struct hub_status st;

	if (!init) {
		struct guard_cfg gc = { GUARD_MAX_CLIENTS, GUARD_MAX_MESSAGE, GUARD_MAX_HELD,
					GUARD_IDLE_S };
		guard_init(&gc);
		init = true;
	}
	(void)proto_type(data, size);
	if (size >= 4) {
		/* as hubd reads a request: header, caps, then the payload */
		long n = proto_frame_len(data);
		if (n >= 0 && guard_announce_ok((size_t)n)) {
			if ((size_t)n > PROTO_MAX_FRAME || (size_t)n > GUARD_MAX_MESSAGE)
				abort();
			size_t got = size - 4 < (size_t)n ? size - 4 : (size_t)n;
			if (!guard_hold(got, true))
				abort();	/* a first chunk always fits */
			if (got == (size_t)n && proto_decode_submit(data + 4, got, &s) == 0)
				proto_submit_free(&s);
			guard_release(got);
			if (guard_held() != 0)
				abort();
		}
	}
	if (proto_decode_submit(data, size, &s) == 0) {
		for (int i = 0; i < s.d.nargs; i++)
			if (!s.d.args[i])
				abort();
		proto_submit_free(&s);
	}
	(void)proto_decode_answer(data, size, &a);
	if (proto_decode_status(data, size, &st) == 0)
		proto_status_free(&st);
	return 0;
}
