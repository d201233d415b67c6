/*
 * exec.h — runs one compile job on a node: the compiler chosen by identity,
 * in a private temp dir, sandboxed, never through a shell.
 *
 * exec_run() blocks until the job is done; noded calls it in a per-slot
 * worker process.
 *
 * The input is a source file, directives already resolved on the hub
 * (includes inlined, #if decided, built-in macros stripped): it is written
 * at input_name, the hub's relative path of the source (e.g. "src/a.c"),
 * and compiled as that source from the private dir, which therefore plays
 * the hub's cwd. `-fdebug-prefix-map=<private dir>=<hub cwd>` goes last
 * (gcc applies the last matching map), so DW_AT_comp_dir is the hub's,
 * after whatever the job's own -fdebug-prefix-map / -ffile-prefix-map do
 * to the hub's cwd (exec_comp_dir()). It refuses (before running anything) arguments that would
 * run other programs or read or write outside the job: see exec_check_args().
 * The temp dir is removed on every path.
 */
#ifndef USBFARM_NODE_EXEC_H
#define USBFARM_NODE_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../lib/buf.h"

struct exec_limits {
	uint32_t cpu_s;		/* RLIMIT_CPU of the compiler; 0: default 600 */
	uint64_t mem_bytes;	/* RLIMIT_AS; 0: default 4 GiB */
	uint64_t out_bytes;	/* cap on each output (obj, dwo, stdout, stderr); 0: 512 MiB */
	uint32_t timeout_ms;	/* wall clock, then SIGKILL; 0: default 900000 */
	uid_t uid;		/* run as this user when started as root; 0: don't switch */
	gid_t gid;
};

struct exec_job {
	const char *compiler;	/* absolute path of the local compiler to run */
	char *const *args;	/* compile args, without input and -o (see hub/client.h) */
	int nargs;
	const char *input_name;	/* relative path, e.g. "src/a.c" (exec_safe_relpath) */
	const uint8_t *input;
	size_t input_len;
	const char *output_name;	/* relative path for -o, e.g. "foo.o", "obj/foo.o" */
	bool want_dwo;
	/* The hub's cwd: absolute, < EXEC_CWD_MAX. NULL: no map added (the
	 * object then names the private dir as its DW_AT_comp_dir). */
	const char *hub_cwd;
	const char *tmp_root;	/* where to make the private dir; NULL: $TMPDIR or /tmp */
	struct exec_limits limits;
};

struct exec_result {
	int status;		/* exit code, or 128+signal */
	struct buf out, err, obj, dwo;
	uint64_t wall_us, cpu_us;	/* of the compiler (children rusage) */
	/* 0 when the compiler ran (status is its answer). Otherwise -errno: the
	 * job could not be run here (refused args -EPERM, no such compiler
	 * -ENOENT, limits -E2BIG, temp dir / fork failure, timeout -ETIMEDOUT);
	 * `error` says why. The hub then retries elsewhere or compiles locally. */
	int farm_error;
	char error[256];
};

#define EXEC_CWD_MAX 1024	/* = JOB_CWD_MAX, incl. NUL */

/* 0 if every argument is allowed on a node, else -EPERM and `why`. */
int exec_check_args(char *const *args, int nargs, char *why, size_t whylen);
/* Validates a relative name (no "..", not absolute, no NUL, sane length). */
bool exec_safe_relpath(const char *p);
/* What gcc would make of hub_cwd as DW_AT_comp_dir given the job's own
 * -fdebug-prefix-map=OLD=NEW / -ffile-prefix-map=OLD=NEW (in order; the
 * last map whose OLD is a prefix of hub_cwd wins, as in gcc): a malloc'd
 * string, or NULL (out of memory). */
char *exec_comp_dir(char *const *args, int nargs, const char *hub_cwd);
/* Always fills `res`; returns res->farm_error. */
int exec_run(const struct exec_job *job, struct exec_result *res);
void exec_result_free(struct exec_result *res);

#endif
