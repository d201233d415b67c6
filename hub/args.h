/*
 * args.h — the compiler-argument classifier of dcc: pure functions over an
 * argv (no process is run; only `@file` response files are read).
 *
 * args_plan() decides whether a command may be compiled on a node, and if so
 * splits it into
 *   - the LOCAL preprocess command: the real compiler with every original
 *     option except -c/-S/-o, plus `-E -fdirectives-only`, explicit
 *     -MF/-MQ so the .d file is exactly the one the full local compile would
 *     write (a compile's default dep-file and target names derive from -o,
 *     a preprocess run's would not), output to stdout;
 *   - the NODE compile arguments (hub_job.args): without the compiler, the
 *     input and -o, without preprocessor-only options, plus `-x LANG` when
 *     the source's language came from -x. The node's input is the
 *     directives-only text (dcc strips the <built-in> block and the
 *     working-directory marker), written under the source's own relative
 *     name (input_name, e.g. "src/a.c") and compiled as a source: macros
 *     are expanded there, by the same compiler with the same options.
 *
 * Why (measured with gcc 12): a fully macro-expanded .i changes diagnostics
 * and debug line columns, and compiling it with -fdirectives-only records
 * that switch in DW_AT_producer. Compiled as the same source from the same
 * relative name, with -fdebug-prefix-map turning the node's dir into the
 * hub's cwd, the object is byte-identical to a local one, with -g too.
 * Sources named by an absolute path (CMake) or with . / .. components
 * (VPATH builds) distribute too: the node compiles the very same string,
 * from a cwd as deep as the name climbs, or from a mirror of the absolute
 * path that its prefix maps turn back into the hub's (node/exec.h); every
 * job planned is one lib/policy.h accepts.
 * What cannot be made identical stays local: -g3 (macro info), cpp-only
 * options gcc records in DW_AT_producer (-A, -Wp,-f…) with -g, -pedantic
 * (the node would warn about line markers), absolute source paths with
 * '=' or climbing above "/", relative ones climbing over ARGS_MAX_UPS
 * levels. Compiler probes stay local: an input that exists and is not a
 * regular file (/dev/null, a FIFO; "-" is stdin), an output that is
 * /dev/null or exists and is not a regular file (dcc would replace it by
 * rename).
 *
 * Every "local" answer carries a short reason; the decision depends on
 * argv, the opts, the response files' contents and the file types of the
 * source and the outputs (stat), nothing else.
 */
#ifndef USBFARM_HUB_ARGS_H
#define USBFARM_HUB_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Caps on response-file expansion (gcc itself has none that matter). */
#define ARGS_RESP_MAX_DEPTH 8
#define ARGS_RESP_MAX_BYTES (1u << 20)	/* one file */
#define ARGS_MAX_ARGS 65536		/* after expansion */
#define ARGS_NAME_MAX 512		/* source name, incl. NUL (= EXEC_NAME_MAX) */
#define ARGS_MAX_UPS 32			/* ".." levels (= EXEC_MAX_UPS) */

enum args_lang {
	ARGS_LANG_NONE,
	ARGS_LANG_C,
	ARGS_LANG_CXX,
	ARGS_LANG_OBJC,
	ARGS_LANG_OBJCXX,
	ARGS_LANG_ASM_CPP,	/* .S / assembler-with-cpp: full -E, node assembles */
};

struct args_opts {
	/* The driver's kind decides the language of a .c file: g++, c++,
	 * clang++ compile it as C++. */
	bool cxx_driver;
	/* clang has no -fdirectives-only (its analogue is -frewrite-includes,
	 * not measured yet): clang jobs stay local. */
	bool clang;
	/* The plan is for the tree path (issue 11: the node compiles the real
	 * files): what only the directives-only text cannot carry (clang,
	 * -pedantic, -Wsystem-headers, -Wunused-macros, cpp-only options in
	 * DW_AT_producer) does not make the job local. */
	bool tree;
};

struct args_plan {
	bool distribute;
	char reason[160];	/* why local, or "distributable" */

	/* After @file expansion; argv[0] is the compiler as given. */
	char **argv;
	int argc;

	/* Only when distribute: */
	char **cpp_argv;	/* NULL-terminated; cpp_argv[0] = argv[0] */
	int cpp_argc;
	char **node_args;	/* NULL-terminated; compile args for the node */
	int node_nargs;
	char *source;		/* as on the command line */
	char *output;		/* -o value, or the default (a.o / a.s) */
	char *dwo;		/* -gsplit-dwarf: local .dwo path, else NULL */
	char *input_name;	/* node input: the source's name as given
				 * ("src/a.c", "../a.c", "/w/a.c"); for .S
				 * the stem + ".s" */
	char *output_name;	/* node -o, relative, e.g. "obj/a.o" */
	enum args_lang lang;
	bool want_dwo;
	bool compile_S;		/* -S rather than -c */
};

/*
 * Classifies argv (argv[0] = the compiler). Returns 0 (plan filled, either
 * decision) or -ENOMEM. A response file that cannot be read, too deep, too
 * big or with unbalanced quotes gives a LOCAL plan: the real compiler then
 * reports it as it would.
 */
int args_plan(char *const *argv, int argc, const struct args_opts *opts,
	      struct args_plan *plan);
void args_plan_free(struct args_plan *plan);

/*
 * gcc's response-file syntax (libiberty buildargv): whitespace separates;
 * '...' and "..." group; a backslash escapes the next character anywhere.
 * Appends the words of text[0..len) to *v (count *n, capacity *cap).
 * 0, -EINVAL (unbalanced quote, NUL byte), -E2BIG (over ARGS_MAX_ARGS) or
 * -ENOMEM.
 */
int args_split_resp(const char *text, size_t len, char ***v, int *n, int *cap);

/*
 * Expands `@file` arguments recursively (relative to the cwd, as gcc does;
 * an unreadable file leaves the argument unchanged, as gcc does). *out is a
 * NULL-terminated malloc'd vector of malloc'd strings (free with
 * args_free_vec). 0, -ELOOP (depth), -EFBIG (file too big), -E2BIG,
 * -EINVAL (syntax), -ENOENT (unreadable file), -ENOMEM.
 */
int args_expand(char *const *argv, int argc, char ***out, int *outc);
void args_free_vec(char **v);

/* Language of a source file name by extension; ARGS_LANG_NONE if not one
 * we distribute. *is_source tells whether gcc treats it as a source at all. */
enum args_lang args_lang_of(const char *name, bool cxx_driver, bool *is_source);

/*
 * Turns `gcc -E -fdirectives-only` output (text[0..*len)) into the node's
 * source, in place: drops every line from a line marker naming
 * "<built-in>" up to the next marker naming another file (the node's
 * compiler defines its built-ins itself; "<command-line>", with the -D
 * macros, stays) — the block gcc writes once, before any other marker —
 * and the working-directory marker `# 1 "<cwd>//"` on the second line.
 * Sets *len to the new length. 0, or -EINVAL when the working-directory
 * marker names another directory than cwd (the compile would not be the
 * local one: compile locally).
 */
int args_node_source(uint8_t *text, size_t *len, const char *cwd);

/* The first of __DATE__, __TIME__, __TIMESTAMP__ that occurs as an
 * identifier in text (the node would expand it with its own clock and file
 * times), or NULL. Strings and comments count too: false alarms only make
 * a job local. */
const char *args_time_macro(const uint8_t *text, size_t len);

#endif
