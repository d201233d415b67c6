/*
 * ppcheck.h — is the `gcc -E -fdirectives-only` text of a job a faithful
 * source? dcc asks before it sends a job; a "no" keeps the job local with a
 * named reason.
 *
 * Found by experiment with gcc 12 (tests/integration/dcc_pragma.sh keeps
 * the table honest). The directives-only pass runs the directives on the
 * hub and passes every other line through; the node then compiles the
 * text as a source. What that does NOT carry:
 *
 *   dropped, no blank line left (every later __LINE__ and debug line
 *   shifts; the pragma's effect is lost):
 *     #pragma message, #pragma redefine_extname,
 *     #pragma omp ... (with -fopenmp or -fopenmp-simd),
 *     #pragma acc ... (with -fopenacc)
 *   run on the hub only, its effect never reaches the node:
 *     #pragma GCC poison (a compile that must fail would pass),
 *     #pragma push_macro / pop_macro (the restored macro is lost)
 *   never seen by the hub (passed through as text): a directive spelled
 *     with the digraph %: (e.g. `%:define X 1` then `#if X`)
 *   seen by the node only: _Pragma("once" / "push_macro(...)" /
 *     "pop_macro(...)" / "GCC poison ...") — the hub's own #if/#include
 *     processing did not see them; likewise a _Pragma built by a macro
 *     when the text names one of those.
 *
 * Carried faithfully (left to the node or fully done on the hub): every
 * other pragma (pack, weak, GCC diagnostic/visibility/optimize/target/
 * push_options/ivdep/unroll, STDC, scalar_storage_order, ms_struct, unknown
 * ones; omp/acc without their flag), GCC system_header (a line marker with
 * flag 3), once, GCC dependency, #line, #ident/#sccs, __INCLUDE_LEVEL__,
 * __FILE__ (line markers). Things the hub diagnoses (GCC warning/error,
 * #warning, #assert, __COUNTER__ in a directive) make the preprocessing
 * print or fail, which dcc already keeps local.
 *
 * The scan is conservative: a false alarm only keeps a job local. Cost:
 * each file named by a line marker is read once and its line starts are
 * looked at (no full lexing); the text itself is searched with memmem.
 */
#ifndef USBFARM_HUB_PPCHECK_H
#define USBFARM_HUB_PPCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PPCHECK_FILE_MAX (64u << 20)	/* a bigger header: keep local */
#define PPCHECK_FILES_MAX 65536

struct ppcheck_opts {
	bool openmp;		/* -fopenmp or -fopenmp-simd: omp pragmas are deferred */
	bool openacc;		/* -fopenacc */
};

/* The pragma-relevant switches of a compile command (argv[0] ignored). */
void ppcheck_opts_from_argv(char *const *argv, int argc, struct ppcheck_opts *o);

/*
 * text[0..len): the directives-only output (line markers kept). Names in
 * line markers are files relative to the current directory, as gcc wrote
 * them. Returns 0 when the text is faithful, 1 when the job must stay
 * local: `why` then names the construct and where ("#pragma message is
 * dropped by -fdirectives-only (src/a.c:12)").
 */
int ppcheck_text(const uint8_t *text, size_t len, const struct ppcheck_opts *o,
		 char *why, size_t whylen);

/*
 * One file's text: the directive line starts only (the part of
 * ppcheck_text that reads headers). name is for `why`. 0 or 1 as above.
 */
int ppcheck_file_text(const char *p, size_t n, const char *name,
		      const struct ppcheck_opts *o, char *why, size_t whylen);

#endif
