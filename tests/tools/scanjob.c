/*
 * scanjob.c — runs the hub's include scanner (hub/scan.h) on one compile
 * command, for the scan_*.sh tests and scripts/bench-scan.
 *
 *   scanjob [OPTIONS] -- CC ARGS...     (cwd: the current directory)
 *     (none)          prints "in SHA SIZE PATH SPELLED", "link PATH TARGET",
 *                     "gap FILE TEXT", "incomplete 0|1"
 *     --deps FILE     checks a gcc dependency file (-M/-MD output) of the
 *                     same command: every file in it (by realpath) is an
 *                     input, with the SHA-256 of its current bytes; prints
 *                     "subset ok N M" (N deps, M inputs) or a "FAIL subset:"
 *                     line, exits 1
 *     --repeat N      scans 1 + N + N times: the first (the compiler's
 *                     search list asked, every file hashed), N cold (the
 *                     file table emptied before each, the search list
 *                     kept), N warm; prints "time FIRST_us COLD_us WARM_us"
 *                     (medians)
 *     --bytes         prints "bytes INPUTS TOTAL_BYTES"
 *     --stats         prints the table's stats and bytes per node
 */
#include "scan.h"
#include "sha256.h"
#include "../lib/scandeps.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int check_deps(const struct scan_result *r, const char *cwd, const char *depfile)
{
	char why[PATH_MAX + 128] = "";
	int n, bad = scandeps_check(r, cwd, depfile, &n, why, sizeof why);
	if (bad)
		printf("FAIL subset: %d problems; first: %s\n", bad, why);
	else
		printf("subset ok %d %zu\n", n, r->nin);
	return bad ? 1 : 0;
}

static void print_result(const struct scan_result *r)
{
	char h[65];
	for (size_t i = 0; i < r->nin; i++) {
		sha256_hex(r->in[i].sha256, 32, h);
		printf("in %s %llu %s %s\n", S_ISDIR(r->in[i].mode) ? "dir" : h,
		       (unsigned long long)r->in[i].size, r->in[i].path, r->in[i].spelled);
	}
	for (size_t i = 0; i < r->nlinks; i++)
		printf("link %s %s\n", r->links[i].path, r->links[i].target);
	for (size_t i = 0; i < r->ngaps; i++)
		printf("gap %s %s\n", r->gaps[i].file, r->gaps[i].text);
	printf("incomplete %d\n", r->incomplete);
}

int main(int argc, char **argv)
{
	const char *deps = NULL;
	int repeat = 1, i, rc = 0;
	bool bytes = false, stats = false;
	char cwd[PATH_MAX];
	struct scan_result res;
	double *t;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--deps") && i + 1 < argc)
			deps = argv[++i];
		else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
			repeat = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--bytes"))
			bytes = true;
		else if (!strcmp(argv[i], "--stats"))
			stats = true;
		else {
			fprintf(stderr, "usage: scanjob [--deps F] [--repeat N] [--bytes] [--stats] -- CC ARGS...\n");
			return 2;
		}
	}
	if (i + 1 >= argc || !getcwd(cwd, sizeof cwd) || repeat < 1) {
		fprintf(stderr, "scanjob: no command (or no cwd)\n");
		return 2;
	}
	struct scan *s = scan_new(NULL);
	struct scan_job job = { .argv = argv + i + 1, .argc = (size_t)(argc - i - 1), .cwd = cwd };
	if (!s || !(t = calloc((size_t)repeat, sizeof *t)))
		return 1;
	int total = repeat > 1 ? 1 + 2 * repeat : 1;
	free(t);
	if (!(t = calloc((size_t)total, sizeof *t)))
		return 1;
	for (int k = 0; k < total; k++) {
		double t0;
		int r;
		if (k >= 1 && k <= repeat && scan_drop_files(s))
			return 1;
		t0 = now_us();
		r = scan_job(s, &job, &res);
		t[k] = now_us() - t0;
		if (r) {
			fprintf(stderr, "scanjob: %s\n", res.err);
			return 1;
		}
		if (k + 1 < total)
			scan_result_free(&res);
	}
	if (repeat > 1) {
		qsort(t + 1, (size_t)repeat, sizeof *t, cmp_d);
		qsort(t + 1 + repeat, (size_t)repeat, sizeof *t, cmp_d);
		printf("time %.0f %.0f %.0f\n", t[0], t[1 + repeat / 2], t[1 + repeat + repeat / 2]);
	}
	if (deps)
		rc = check_deps(&res, cwd, deps);
	else if (bytes) {
		unsigned long long tot = 0;
		for (size_t k = 0; k < res.nin; k++)
			tot += res.in[k].size;
		printf("bytes %zu %llu\n", res.nin, tot);
	} else if (repeat == 1 && !stats)
		print_result(&res);
	if (stats) {
		struct filetab_stats st;
		scan_get_stats(s, &st);
		printf("stats jobs %llu lstats %llu neg_hits %llu hits %llu rehashes %llu bytes_hashed %llu "
		       "nodes %zu contents %zu mem %zu per_node %zu scanned %zu probes %zu\n",
		       (unsigned long long)st.jobs, (unsigned long long)st.lstats,
		       (unsigned long long)st.neg_hits, (unsigned long long)st.hits,
		       (unsigned long long)st.rehashes, (unsigned long long)st.bytes_hashed,
		       st.nodes, st.contents, st.mem, st.nodes ? st.mem / st.nodes : 0,
		       res.scanned, res.probes);
	}
	scan_result_free(&res);
	scan_free(s);
	free(t);
	return rc;
}
