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
 *                   outputs (relative, policy_output_name_ok) go under it;
 *   <dir>/r/<abs>   absolute inputs, compiled by that node path.
 * Prefix maps go after the job's own (gcc applies the LAST matching map,
 * and records none of them in DW_AT_producer):
 *   -fdebug-prefix-map=<cwd>=<hub cwd as the job's own maps make it>
 *     (DW_AT_comp_dir, policy_comp_dir());
 *   absolute inputs also get -fdebug-prefix-map=<node dir>=<hub dir>,
 *     -fdebug-prefix-map=<node path>=<hub path> and
 *     -fmacro-prefix-map=<node path>=<hub path> (DW_AT_name, the line
 *     table, __BASE_FILE__), each hub name mapped by the job's own maps
 *     as gcc on the hub maps it (policy_map_name()).
 * So the object is the hub's, byte for byte, -g included. It refuses
 * (before running anything) what lib/policy.h refuses: arguments that are
 * not a compile from the allow-list, names that could read as options,
 * a source whose suffix is not its -x language.
 *
 * The job's private dir, made by root: <tmp_root>/usbfarm-job.XXXXXX (0711)
 * holding j/ (the job dir above, a fresh dir given to the slot's uid) and
 * s/ (the sandbox's mount stage, sandbox.h). Everything inside j/ is made
 * by the compiler's side, with the slot's ids (sandbox_spawn's hook); root
 * reads the outputs back only through openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS), regular files owned by the slot, and removes the
 * dir without following links once every process of the job is gone.
 */
#ifndef USBFARM_NODE_EXEC_H
#define USBFARM_NODE_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../lib/buf.h"
#include "../lib/policy.h"

struct exec_limits {
	uint32_t cpu_s;		/* RLIMIT_CPU of the compiler; 0: default 600 */
	uint64_t mem_bytes;	/* RLIMIT_AS; 0: default 4 GiB */
	uint64_t out_bytes;	/* cap on each output (obj, dwo); 0 or more: JOB_MAX_OUTPUT;
				 * stdout and stderr: JOB_MAX_TEXT */
	uint32_t timeout_ms;	/* wall clock, then SIGKILL; 0: default 900000 */
	uid_t uid;		/* run as this user when started as root; 0: don't switch */
	gid_t gid;
	uint32_t nproc;		/* RLIMIT_NPROC of the slot's uid; 0: default 64 */
	uint32_t nofile;	/* RLIMIT_NOFILE; 0: default 256 */
};

/* How the compiler is launched (sandbox.h): the one explicit choice. */
struct exec_launch {
	bool insecure;		/* no namespaces (--insecure-no-sandbox, tests) */
	const char *launcher;	/* NULL, or a wrapper program: [launcher, compiler, args…] */
	const char *ro_paths;	/* toolchain dirs seen read-only; NULL: SANDBOX_RO_DEFAULT */
};

/*
 * A tree job (exec_tree.c): instead of input, the job's inputs are a
 * checked manifest whose blobs are in store; the tree is assembled in the
 * private dir (top/r) and is the compiler's root; the compiler runs at
 * the hub's cwd in it with the hub's very names (input_name, -o
 * output_name), no prefix maps: its paths are the hub's. The outputs are
 * written at their hub paths in the tree.
 */
struct store;
struct manifest;
struct exec_tree {
	struct store *store;		/* this process's handle */
	const struct manifest *m;	/* checked (manifest_check) */
	const char *ro_paths;		/* the compiler's toolchain (tree_toolchain) */
	const char *deps_name;		/* the job's own -MF file; "": the node adds its own */
	bool complete;			/* a failing compile is the answer (else -ENOEXEC) */
	/* The tree holds the hub's toolchain (job.h toolchain_n): ro_paths
	 * is "" (none of the board's), the compiler is the tree's driver (a
	 * file or link of the manifest) and, unless travel_verified, its
	 * identity computed in the sandbox must be *travel (else -EPERM,
	 * "toolchain refused: ..."). NULL: the board's own compiler. */
	const struct compiler_id *travel;
	bool travel_verified;
};

struct exec_job {
	const char *compiler;	/* absolute path of the local compiler to run */
	char *const *args;	/* compile args, without input and -o (see hub/client.h) */
	int nargs;
	const char *input_name;	/* the hub's name, e.g. "src/a.c", "../a.c",
				 * "/w/a.c" (policy_input_name_ok) */
	const uint8_t *input;
	size_t input_len;
	const char *output_name;	/* relative path for -o, e.g. "foo.o", "obj/foo.o" */
	bool want_dwo;
	bool utf8;		/* the compiler under LC_ALL=C.UTF-8, else LC_ALL=C (job.h) */
	/* The hub's cwd: absolute, < EXEC_CWD_MAX. NULL: no map added (the
	 * object then names the private dir as its DW_AT_comp_dir). */
	const char *hub_cwd;
	const char *tmp_root;	/* where to make the private dir; NULL: $TMPDIR or /tmp */
	struct exec_limits limits;
	struct exec_launch launch;
	const struct exec_tree *tree;	/* NULL: a text job (input above) */
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
	/* Tree jobs: the job's dependency file (deps_name set), the blobs the
	 * store lacked (farm_error -ENOENT), the names the compile read that
	 * the manifest does not have (-EXDEV); the tree's assembly time. */
	struct buf dep;
	uint8_t (*missing)[32];
	size_t nmissing;
	char **unsent;
	size_t nunsent;
	uint64_t tree_us;
};

#define EXEC_CWD_MAX POLICY_CWD_MAX	/* = JOB_CWD_MAX, incl. NUL */
#define EXEC_NAME_MAX POLICY_NAME_MAX	/* = JOB_NAME_MAX */

/* Always fills `res`; returns res->farm_error. */
int exec_run(const struct exec_job *job, struct exec_result *res);
void exec_result_free(struct exec_result *res);

#endif
