/*
 * scan_cc.h — what the include scanner needs from a compile command and
 * from the compiler itself: the job's own options that decide where headers
 * come from (read from its argv), and the compiler's exact search list as
 * its `-v` output prints it for those options. Pure functions except
 * scan_run_default(), which runs the query.
 *
 * The search list is not computed from rules: gcc's own answer (`CC
 * <search options> -E -v -x LANG /dev/null`) already has -iquote, -I,
 * -isystem, the built-in and multiarch dirs, -idirafter, --sysroot,
 * -isysroot, -nostdinc, duplicates dropped as gcc drops them, in gcc's
 * order. Directories that did not exist ("ignoring nonexistent directory")
 * are kept aside: if one appears later, the list must be asked again.
 */
#ifndef USBFARM_HUB_SCAN_CC_H
#define USBFARM_HUB_SCAN_CC_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define SCAN_CC_MAX_DIRS 1024

/* A job's options as the scanner reads them. Strings point into argv. */
struct scan_opts {
	const char *source;	/* the one input */
	const char *lang;	/* -x value for the query: "c", "c++", ... */
	bool preprocessed;	/* .i/.ii/.s or -x cpp-output: no includes */
	bool ignore_source_dir;	/* -I- */
	bool preinclude;	/* hosted and with the standard dirs: gcc reads
				 * <stdc-predef.h> before everything (glibc's
				 * targets), found in the <...> chain */
	const char **imacros;	/* -imacros files (read before every -include) */
	size_t nimacros;
	const char **includes;	/* -include files, in order */
	size_t nincludes;
	const char **defines;	/* -D values: "NAME" or "NAME=BODY" */
	size_t ndefines;
	const char **query;	/* the options that decide the search list */
	size_t nquery;
	bool query_relative;	/* one of them names a relative directory */
};

/* Reads argv[1..argc) (already @file-expanded; argv[0] is the driver, whose
 * name says whether a .c file is C++). 0, or -EINVAL with a reason in err
 * (no input, several inputs). */
int scan_parse_argv(char *const *argv, size_t argc, struct scan_opts *o,
		    char *err, size_t errlen);
void scan_opts_free(struct scan_opts *o);

/* The search list: dirs[0..quote_n) are the "..."-only dirs (-iquote),
 * dirs[quote_n..n) the <...> chain, as printed (relative ones relative to
 * the compile's cwd). absent: the dirs gcc ignored as nonexistent. */
struct scan_chain {
	char **dirs;
	size_t n, quote_n;
	char **absent;
	size_t nabsent;
};

/* Parses `-v` output (stdout and stderr together). 0, -EINVAL (no "End of
 * search list."), -E2BIG (over SCAN_CC_MAX_DIRS), -ENOMEM. */
int scan_chain_parse(const char *v, size_t len, struct scan_chain *c);
void scan_chain_free(struct scan_chain *c);

/* The query's argv (NULL-terminated, strings borrowed; free the array):
 * compiler, o->query..., -E -v -x LANG /dev/null -o /dev/null. */
char **scan_query_argv(const char *compiler, const struct scan_opts *o);

/* Runs the compiler's search-list query (argv) in cwd, its stdout and
 * stderr into out. 0 or -errno. hubd runs it as the job's client. */
typedef int (*scan_run_fn)(void *arg, char *const argv[], const char *cwd, struct buf *out);

/* Search lists already asked, by (compiler file and its identity, language,
 * search options, cwd when one of them is relative); at most
 * SCAN_CC_MAX_CHAINS, least recently used dropped. A list is asked again
 * when a directory it ignored as nonexistent now exists, or the compiler's
 * file changed (its identity from the file table, checked in this job). */
#define SCAN_CC_MAX_CHAINS 32
struct scan_chains;
struct filetab;
struct scan_chains *scan_chains_new(void);
void scan_chains_free(struct scan_chains *c);
/* *out is valid until the next call. *asked: the compiler was run. */
int scan_chains_get(struct scan_chains *c, struct filetab *ft, scan_run_fn run, void *arg,
		    const char *compiler, const char *cwd, const struct scan_opts *o,
		    const struct scan_chain **out, bool *asked, char *err, size_t errlen);

/* Runs argv in cwd with LC_ALL=C, stdout and stderr into out (at most
 * 1 MiB). 0, or -errno; -EIO when it exited non-zero. `arg` is unused. */
int scan_run_default(void *arg, char *const argv[], const char *cwd, struct buf *out);

#endif
