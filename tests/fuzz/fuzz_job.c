/* fuzz_job.c — libFuzzer harness for the hub<->node codec (lib/job.c),
 * tree jobs (inputs, blobs, the board's input table), RESULT's
 * dep/missing/unsent, a packed dep's unpacking and the store fields included. Every decoder sees every input; whatever decodes must re-encode to the
 * very same bytes (the format is canonical), and nothing may read past the
 * input or leak. */
#include "job.h"

#include <stdlib.h>
#include <string.h>

static void same(const struct buf *b, const uint8_t *data, size_t size)
{
	if (!buf_ok(b) || b->len != size || memcmp(b->data, data, size))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b = BUF_INIT;
	struct job_spec j;
	struct job_result r;
	struct job_telemetry t;
	struct job_nodeinfo ni;
	enum job_msg_type type;
	uint64_t id;

	(void)job_peek_type(data, size, &type);
	if (job_decode_job(data, size, &j) == 0) {
		if (job_encode_job(&b, &j) != 0)
			abort();
		same(&b, data, size);
		buf_free(&b);
		job_spec_free(&j);
	}
	if (job_decode_result(data, size, &r) == 0) {
		if (job_encode_result(&b, &r) != 0)
			abort();
		same(&b, data, size);
		buf_free(&b);
		/* a packed .d: whatever it says, unpacked within the cap or refused */
		static const struct job_input in = { .kind = JOB_IN_FILE, .path = "/w/a.h",
						     .path_len = 6 };
		if (job_result_unpack_dep(&r, &in, 1, "/w") == 0 &&
		    (r.dep_lz || r.o.dep_len > JOB_MAX_TEXT))
			abort();
		job_result_free(&r);
	}
	if (job_decode_cancel(data, size, &id) == 0) {
		job_encode_cancel(&b, id);
		same(&b, data, size);
		buf_free(&b);
	}
	if (job_decode_telemetry(data, size, &t) == 0) {
		job_encode_telemetry(&b, &t);
		same(&b, data, size);
		buf_free(&b);
	}
	if (job_decode_nodeinfo(data, size, &ni) == 0) {
		/* complete=0 with everything fitting would re-encode as complete;
		 * only check the full round trip when the flag agrees. */
		if (job_encode_nodeinfo(&b, &ni, (size_t)-1) < 0)
			abort();
		if (ni.complete)
			same(&b, data, size);
		buf_free(&b);
		job_nodeinfo_free(&ni);
	}
	return 0;
}
