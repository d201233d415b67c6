/* fuzz_scand.c — libFuzzer harness for the scan server's wire decoders
 * (hub/scand_proto.c): SCAN and REMEMBER (read by the server), RESULT, ACK
 * and STATS (read by dcc). Nothing may read past the input or leak; what
 * decodes keeps the decoders' invariants. */
#include "scand_proto.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scand_req q;
	struct scand_res r;
	struct scand_remember m;
	struct scand_stats st;
	int32_t rc;

	(void)scand_type(data, size);
	if (scand_decode_req(data, size, &q) == 0) {
		if (q.argc < 1 || !q.argv[q.argc - 1] || q.cwd[0] != '/')
			abort();
		scand_req_free(&q);
	}
	if (scand_decode_res(data, size, &r) == 0) {
		for (size_t i = 0; i < r.r.nin; i++)
			if (!r.r.in[i].path[0] || !r.r.in[i].spelled[0])
				abort();
		scan_result_free(&r.r);
	}
	if (scand_decode_remember(data, size, &m) == 0) {
		for (size_t i = 0; i < m.n; i++)
			if (m.names[i][0] != '/')
				abort();
		scand_remember_free(&m);
	}
	(void)scand_decode_ack(data, size, &rc);
	(void)scand_decode_stats(data, size, &st);
	return 0;
}
