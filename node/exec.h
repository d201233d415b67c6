/*
 * exec.h — runs one compile job on a node: the compiler chosen by identity,
 * in a private temp dir, sandboxed, never through a shell.
 *
 * exec_run() blocks until the job is done; noded calls it in a per-slot
 * worker process.
 *
 * The input is a source file, directives already resolved on the hub
 * (includes inlined, #if decided, built-in macros stripped), named as on
 * the hub's command line (input_name): "src/a.c", "../src/a.c" (VPATH
 * builds) or "/w/src/a.c" (CMake). The node lays the private dir out so
 * that gcc gets that very string (or, for an absolute name, a node path
 * mapped back to it):
 *   <dir>/t/u/…/u   the compiler's cwd, one "u" per ".." the name climbs
 *                   above the cwd, playing the hub's cwd; relative inputs
 *                   are written where their name leads from there, and
 *                   outputs (relative, exec_safe_relpath) go under it;
 *   <dir>/r/<abs>   absolute inputs, compiled by that node path.
 * Prefix maps go after the job's own (gcc applies the LAST matching map,
 * and records none of them in DW_AT_producer):
 *   -fdebug-prefix-map=<cwd>=<hub cwd as the job's own maps make it>
 *     (DW_AT_comp_dir, exec_comp_dir());
 *   absolute inputs also get -fdebug-prefix-map=<node dir>=<hub dir>,
 *     -fdebug-prefix-map=<node path>=<hub path> and
 *     -fmacro-prefix-map=<node path>=<hub path> (DW_AT_name, the line
 *     table, __BASE_FILE__), each hub name mapped by the job's own maps
 *     as gcc on the hub maps it (exec_map_name()).
 * So the object is the hub's, byte for byte, -g included. It refuses
 * (before running anything) arguments that would run other programs or read
 * or write outside the job (exec_check_args()), and inputs with an
 * include-like directive (exec_find_include()): the node must never read
 * its own files on a hub's behalf.
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
	const char *input_name;	/* the hub's name, e.g. "src/a.c", "../a.c",
				 * "/w/a.c" (exec_input_name_ok) */
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
#define EXEC_NAME_MAX 512	/* input name, incl. NUL (= JOB_NAME_MAX) */
#define EXEC_MAX_UPS 32		/* ".." levels a relative input may climb */

/* 0 if every argument is allowed on a node, else -EPERM and `why`. */
int exec_check_args(char *const *args, int nargs, char *why, size_t whylen);
/* Validates a relative name (no "..", not absolute, no NUL, sane length). */
bool exec_safe_relpath(const char *p);
/* Validates an input name: relative (".", ".." and empty components
 * allowed, climbing at most EXEC_MAX_UPS levels above the cwd, not
 * starting with '-') or absolute (never above "/", no '=': it becomes the
 * OLD of a prefix map); ends in a file name component; no control
 * characters; shorter than EXEC_NAME_MAX. */
bool exec_input_name_ok(const char *p);
/* The first line (1-based) of text that starts with a directive that makes
 * the preprocessor open a file: #include, #include_next, #import, #embed,
 * #pragma GCC dependency (with "%:" or "??=" for '#', blanks, comments and
 * line splices anywhere in between). Every physical line start is looked
 * at, inside comments and literals too, so nothing a compiler of any
 * dialect could read as such a directive is missed; a line inside a comment
 * or a multi-line literal may be reported too (the job then runs on the
 * hub). 0 if none. *what (if what) names the directive. */
size_t exec_find_include(const uint8_t *text, size_t len, const char **what);
/* What gcc does to `name` with the job's own maps (in order; the last
 * whose OLD is a prefix of name wins): for debug info (DW_AT_name, line
 * table) -fdebug-prefix-map and -ffile-prefix-map; for __FILE__ and
 * __BASE_FILE__ (macro) -fmacro-prefix-map and -ffile-prefix-map.
 * malloc'd, NULL when out of memory. */
char *exec_map_name(char *const *args, int nargs, const char *name, bool macro);
/* What gcc would make of hub_cwd as DW_AT_comp_dir given the job's own
 * -fdebug-prefix-map=OLD=NEW / -ffile-prefix-map=OLD=NEW (in order; the
 * last map whose OLD is a prefix of hub_cwd wins, as in gcc): a malloc'd
 * string, or NULL (out of memory). */
char *exec_comp_dir(char *const *args, int nargs, const char *hub_cwd);
/* Always fills `res`; returns res->farm_error. */
int exec_run(const struct exec_job *job, struct exec_result *res);
void exec_result_free(struct exec_result *res);

#endif
