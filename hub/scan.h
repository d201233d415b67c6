/*
 * scan.h — the hub's include scanner: a compile job's input files (a
 * SUPERSET of what the compiler reads) found without preprocessing, with
 * each file's SHA-256, for sending inputs by hash (issue 11).
 *
 * One long-lived `struct scan` per hub (hubd keeps one for every job; no
 * globals, no threads): it owns the file table (filetab.h), the compiler
 * search lists already asked (scan_cc.h; asked again when a directory the
 * compiler ignored as nonexistent appears, or the compiler file changes),
 * and the inputs remembered from compiles' dependency output.
 *
 * What a scan follows, as gcc's preprocessor does: the source, every
 * -imacros then -include file (found in the compile's cwd first, then the
 * quote chain); "x" includes in the includer's directory (as spelled, so
 * through a symlink the link's dir) unless -I-, then the quote chain, then
 * the bracket chain; <x> from the bracket chain; #include_next from the dir
 * after the one the includer was found in (the quote chain's start for a
 * file found beside its includer or in the cwd; a plain include in the
 * source itself); absolute names as they are. #if is ignored: every branch
 * is followed. __has_include/__has_include_next operands and #embed files
 * are inputs (not followed): a header the hub has and does not send would
 * flip the answer on the board. `#include NAME` is resolved through every
 * object-like `#define NAME "x"`/`<x>`/`OTHER` seen in the job's files or
 * -D options; what stays unresolved (FOO(x), undefined names) is a gap.
 *
 * Results: inputs by physical path (no symlink inside), each with the path
 * gcc would name it by, its hash, size and mode; every symlink on the way
 * to an input (path, target text); directories climbed out of with "..".
 */
#ifndef USBFARM_HUB_SCAN_H
#define USBFARM_HUB_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "filetab.h"
#include "scan_cc.h"

struct scan_cfg {
	size_t mem_cap;		/* the file table's cap (0: default) */
	int64_t racy_ns;	/* < 0: default (filetab.h) */
	scan_run_fn run;	/* NULL: scan_run_default (scan_cc.h) */
	void *run_arg;
};

struct scan_job {
	char *const *argv;	/* the compile command, @files expanded */
	size_t argc;
	const char *compiler;	/* absolute path of argv[0]'s driver; NULL: argv[0] */
	const char *cwd;	/* absolute */
};

struct scan_input {
	char *path;		/* physical absolute path */
	char *spelled;		/* as gcc names it (-M output), relative to cwd or absolute */
	uint8_t sha256[32];	/* zero for a directory */
	uint64_t size;
	uint32_t mode;		/* st_mode: a regular file, or a directory climbed out of */
};

struct scan_link {
	char *path;		/* physical path of the symlink itself */
	char *target;		/* its target text */
};

struct scan_gap {
	char *file;		/* physical path of the file with the directive */
	char *text;		/* the computed operand, e.g. "TRACE_INCLUDE(TRACE_INCLUDE_FILE)" */
	bool remembered;	/* extra inputs were remembered for that file */
};

struct scan_result {
	struct scan_input *in;	/* in[0] is the source */
	size_t nin;
	struct scan_link *links;
	size_t nlinks;
	struct scan_gap *gaps;
	size_t ngaps;
	bool incomplete;	/* a gap without remembered inputs: use the
				 * directives-only path, or the board's deps check */
	size_t remembered;	/* inputs added from scan_remember() */
	size_t scanned;		/* files whose directives were followed */
	size_t probes;		/* candidate paths tried */
	bool chain_asked;	/* the compiler was run for its search list */
	bool time_macros;	/* an input's bytes (as hashed) name __DATE__, __TIME__
				 * or __TIMESTAMP__ */
	bool gas_reads;		/* an input's bytes name .incbin or .include */
	char err[256];
};

struct scan *scan_new(const struct scan_cfg *cfg);
void scan_free(struct scan *s);
/* Scans one job. 0 and *res (free with scan_result_free()), or -errno with
 * res->err saying why (no input, the source missing, the search-list query
 * failed, -ENOMEM). A missing header is not an error: the compile will say. */
int scan_job(struct scan *s, const struct scan_job *job, struct scan_result *res);
void scan_result_free(struct scan_result *res);
/* Inputs learned from a compile's dependency output for `file` (physical
 * path of the source or of a header with a computed include): added to
 * every later job that has `file` among its inputs. Absolute paths. 0 or
 * -ENOMEM / -EINVAL. At most SCAN_REMEMBER_MAX paths per file. */
#define SCAN_REMEMBER_MAX 4096
int scan_remember(struct scan *s, const char *file, const char *const *paths, size_t n);
void scan_get_stats(const struct scan *s, struct filetab_stats *st);
/* Empties the file table (the search lists and remembered inputs stay):
 * every file is hashed again. 0 or -ENOMEM (then the old table stays). */
int scan_drop_files(struct scan *s);

#endif
