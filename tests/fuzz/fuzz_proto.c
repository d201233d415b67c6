/* fuzz_proto.c — libFuzzer harness for hubd's unix-socket protocol decoders
 * (hub/proto.c, hub/proto_tree.c): SUBMIT, SUBMIT_TREE and BLOBS (from any
 * local client), ANSWER, NEED and STATUS (read by dcc and hubctl), KEEPALIVE, under hubd's real caps (hub/guard.h): a frame
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
	struct proto_submit_tree t;
	struct proto_need n;
	struct proto_blobs bl;

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
	if (proto_decode_answer(data, size, &a) == 0) {
		for (size_t i = 0; i < a.nunsent; i++)
			if (!a.unsent[i][0])
				abort();
		proto_answer_free(&a);
	}
	if (proto_decode_submit_tree(data, size, &t) == 0) {
		for (size_t i = 0; i < t.t.nin; i++)
			if (t.t.in[i].path[0] != '/' || t.t.in[i].kind > JOB_IN_DIR)
				abort();
		proto_submit_tree_free(&t);
	}
	if (proto_decode_need(data, size, &n) == 0) {
		for (size_t i = 1; i < n.n; i++)
			if (n.idx[i] <= n.idx[i - 1])
				abort();
		proto_need_free(&n);
	}
	if (proto_decode_blobs(data, size, &bl) == 0) {
		for (size_t i = 0; i < bl.n; i++)
			if (bl.b[i].changed && bl.b[i].len)
				abort();
		proto_blobs_free(&bl);
	}
	if (proto_decode_status(data, size, &st) == 0)
		proto_status_free(&st);
	return 0;
}
