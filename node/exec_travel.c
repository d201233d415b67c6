/*
 * exec_travel.c — a travelling toolchain checked before its first use
 * (exec_int.h exec_travel_check): the tree's driver run in the job's own
 * sandbox, with the job's tree as its root and none of the board's files,
 * the four runs lib/compiler.c identifies a compiler by (-dumpmachine,
 * -dumpfullversion or -dumpversion, the -v compile of /dev/null, the
 * assembler's --version), their outputs reduced to an identity by
 * compiler_identity_of(); it must be the one the job names. Nothing runs
 * outside the sandbox and no shell: argv straight to the driver.
 */
#include "exec_int.h"

#include "../lib/clock.h"
#include "../lib/compiler.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

/* Runs argv in r's sandbox: 0 with its stdout then stderr in *out when it
 * exited 0; else -errno or -EINVAL. r->res keeps none of it. */
static int run_captured(struct run *r, char **argv, struct buf *out)
{
	struct exec_result *res = r->res;
	int st = 0, rc;

	r->argv = argv;
	r->start = now_us();
	rc = exec_run_compiler(r, &st);
	r->argv = NULL;
	if (rc == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		rc = -EINVAL;
	if (rc == 0) {
		buf_put(out, res->out.data, res->out.len);
		buf_put(out, res->err.data, res->err.len);
		if (!buf_ok(out))
			rc = -ENOMEM;
	}
	buf_free(&res->out);
	buf_free(&res->err);
	res->out = (struct buf)BUF_INIT;
	res->err = (struct buf)BUF_INIT;
	res->farm_error = 0;
	res->error[0] = 0;
	res->wall_us = res->cpu_us = 0;
	return rc;
}

int exec_travel_check(struct run *r)
{
	const struct compiler_id *want = r->job->tree->travel;
	char *cc = (char *)r->job->compiler;
	bool cxx = !strcmp(want->kind, "g++") || !strcmp(want->kind, "clang++");
	char *machine[] = { cc, "-dumpmachine", NULL };
	char *fullv[] = { cc, "-dumpfullversion", NULL }, *ver[] = { cc, "-dumpversion", NULL };
	char *v[] = { cc, "-v", "-S", "-x", cxx ? "c++" : "c", "/dev/null", "-o", "/dev/null", NULL };
	char *as[] = { cc, "-c", "-x", "assembler", "-Wa,--version", "/dev/null", "-o",
		       "/dev/null", NULL };
	struct buf b[4] = { BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT };
	struct compiler_id got;
	char d1[120], d2[120];
	const char *step = "-dumpmachine";
	int rc = run_captured(r, machine, &b[0]);

	if (!rc) {
		step = "-dumpversion";
		if (run_captured(r, fullv, &b[1])) {	/* clang has no -dumpfullversion */
			buf_free(&b[1]);
			b[1] = (struct buf)BUF_INIT;
			rc = run_captured(r, ver, &b[1]);
		}
	}
	if (!rc && (rc = run_captured(r, v, &b[2])))
		step = "-v";
	if (!rc && (rc = run_captured(r, as, &b[3])))
		step = "-Wa,--version";
	if (!rc) {
		struct compiler_outputs o = {
			(const char *)b[0].data, (const char *)b[1].data, (const char *)b[2].data,
			(const char *)b[3].data, b[0].len, b[1].len, b[2].len, b[3].len };
		step = "its outputs";
		rc = compiler_identity_of(want->kind, &o, &got);
	}
	for (int i = 0; i < 4; i++)
		buf_free(&b[i]);
	if (rc)
		return exec_fail(r->res, -EPERM, "toolchain refused: %s %s in the tree: %s", cc,
				 step, strerror(-rc));
	if (!compiler_match(&got, want)) {
		compiler_describe(&got, d1, sizeof d1);
		compiler_describe(want, d2, sizeof d2);
		return exec_fail(r->res, -EPERM, "toolchain refused: the tree's %s is %s, not the "
				 "job's %s", cc, d1, d2);
	}
	return 0;
}
