/*
 * policy.h — the one contract between hub and node: what a node accepts.
 *
 * dcc plans jobs with it (it never sends a job a node would refuse), hubd
 * may check every job with it, noded refuses with it before running
 * anything. One set of limits, so the two sides cannot drift.
 *
 * A job is a compile only: its arguments contain exactly one of -c / -S and
 * an explicit language (-x LANG, one of the allowed languages), every other
 * argument is from the allow-list; the input's suffix is one of those
 * languages' (policy_input_suffix_ok); input and output names are checked by
 * policy_input_name_ok() / policy_output_name_ok() and go to the compiler
 * as "./name" (or an absolute node path), so none reads as an option or a
 * response file. The operating system's sandbox on the node is the
 * boundary; this policy keeps gcc, gas and ld from being told to read or
 * run anything, as a second line.
 */
#ifndef USBFARM_LIB_POLICY_H
#define USBFARM_LIB_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLICY_NAME_MAX 512	/* input and output names, incl. NUL (= JOB_NAME_MAX) */
#define POLICY_CWD_MAX 1024	/* the hub's cwd, incl. NUL (= JOB_CWD_MAX) */
#define POLICY_MAX_UPS 32	/* ".." levels a relative input may climb */
#define POLICY_ARG_MAX 4096	/* bytes of one argument */
#define POLICY_ARGS_MAX 1024	/* arguments of one job */

/* 0 if the arguments are a compile a node runs (see above), else -EPERM
 * and `why`. */
int policy_check_args(char *const *args, int nargs, char *why, size_t whylen);
/* A tree job's arguments (issue 11, policy_tree.c): policy_check_args()'s
 * allow-list plus the preprocessor's include, macro and dependency
 * options (-I -iquote -isystem -idirafter -include -imacros -D -U -MD
 * -MMD -MF -MT -MQ -MP -Wp,-MD,F -Wp,-MMD,F -nostdinc -undef -pedantic),
 * whose names resolve in the board's tree; no value naming a response
 * file. 0, or -EPERM and why, -ENOMEM. */
int policy_check_tree_args(char *const *args, int nargs, char *why, size_t whylen);
/* The language a job's -x names, NULL if none or not allowed. */
const char *policy_job_lang(char *const *args, int nargs);
/* Whether a source name ends in a suffix of one of the languages a node
 * compiles (.c .cc .cpp … .s .S .i .ii …; .S and .sx only for a tree job,
 * the one -x assembler-with-cpp is allowed in): never a linker script, an object,
 * a Fortran or Ada file. The language itself is the job's explicit -x
 * (g++ -c a.c compiles a.c as C++). */
bool policy_input_suffix_ok(const char *name);
/* A relative output name: no "..", ".", empty or leading-'-' or '@'
 * component, no control characters, < POLICY_NAME_MAX. */
bool policy_output_name_ok(const char *p);
/* An input name: relative (".", ".." and empty components allowed,
 * climbing at most POLICY_MAX_UPS levels above the cwd) or absolute (never
 * above "/", no '=': it becomes the OLD of a prefix map); ends in a file
 * name component; no component starts with '-' or '@'; no control
 * characters; shorter than POLICY_NAME_MAX. */
bool policy_input_name_ok(const char *p);
/* Walks the components of a name: *ups, the levels a relative name climbs
 * above the cwd (for an absolute one, above "/"); false when it does not
 * end in a file component. */
bool policy_name_walk(const char *p, int *ups);
/* What gcc does to `name` with the job's own maps (in order; the last
 * whose OLD is a prefix of name wins): for debug info (DW_AT_name, line
 * table) -fdebug-prefix-map and -ffile-prefix-map; for __FILE__ and
 * __BASE_FILE__ (macro) -fmacro-prefix-map and -ffile-prefix-map.
 * malloc'd, NULL when out of memory. */
char *policy_map_name(char *const *args, int nargs, const char *name, bool macro);
/* What gcc makes of hub_cwd as DW_AT_comp_dir given the job's maps. */
char *policy_comp_dir(char *const *args, int nargs, const char *hub_cwd);

#endif
