/*
 * ppcheck_time.c — times hub/ppcheck.c on a directives-only text: reads
 * FILE (gcc -E -fdirectives-only output; run from the directory gcc ran
 * in, so the headers its line markers name are found), runs the check N
 * times and prints the verdict and the mean wall time per check.
 */
#include "ppcheck.h"
#include "buf.h"
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	struct ppcheck_opts o = { false, false };
	struct buf b = BUF_INIT;
	char why[320] = "", chunk[65536];
	uint64_t t0, t1;
	size_t n;
	long reps = argc > 2 ? atol(argv[2]) : 20;
	int r = 0;
	FILE *f;

	if (argc < 2 || reps < 1) {
		fprintf(stderr, "usage: ppcheck_time FILE [N]\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_put(&b, chunk, n);
	fclose(f);
	if (!buf_ok(&b))
		return 1;
	t0 = now_us();
	for (long i = 0; i < reps; i++)
		r = ppcheck_text(b.data, b.len, &o, why, sizeof why);
	t1 = now_us();
	printf("%.0f us (%s)\n",
	       (double)(t1 - t0) / (double)reps,
	       r ? why : "faithful");
	buf_free(&b);
	return 0;
}
