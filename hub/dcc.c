/*
 * dcc.c — the compiler wrapper: `dcc gcc -c a.c`, `dcc -c a.c`, or dcc
 * installed under a compiler's name (masquerading).
 *
 * Flow: find the real compiler → classify the arguments (args.c) → local:
 * exec the real compiler with the original argv → distributable: preprocess
 * locally with -fdirectives-only (the .d file is written here), strip the
 * <built-in> block and the cwd marker (args_node_source), hand the job (the
 * text, compiled on the node under the same source name, and our cwd
 * for its DW_AT_comp_dir) to hubd (tests without a farm point
 * USBFARM_SOCKET at tests/tools/loophub)
 * → on success with no diagnostics: write the object (and .dwo) atomically
 * and exit 0; on a compile error or any diagnostic: recompile locally from
 * the original command, so the user sees exactly what the local compiler
 * says, once. A build never fails because of the farm, and never gets a
 * torn object.
 */
#include "args.h"
#include "../lib/clock.h"
#include "client.h"
#include "dcc_io.h"
#include "dcc_tree.h"
#include "../lib/pathwalk.h"
#include "../lib/policy.h"
#include "../lib/spawn.h"
#include "ppcheck.h"
#include "reasons.h"
#include "scand.h"
#include "verify.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DCC_VERSION "0.1"
#define EXIT_USAGE 2
#define EXIT_RECURSION 111
#define EXIT_NO_COMPILER 127

static bool verbose;
/* argv vectors built here live as long as the process (kept reachable) */
char **dcc_implicit_argv, **dcc_abs_argv;
static int note_fd = -1;	/* UNCACHED_ERR_FD or stderr when verbose */

static void note(const char *fmt, ...)
{
	char b[1024];
	va_list ap;
	int n;

	if (note_fd < 0)
		return;
	n = snprintf(b, sizeof b, "dcc: ");
	va_start(ap, fmt);
	n += vsnprintf(b + n, sizeof b - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof b - 1)
		n = (int)sizeof b - 2;
	b[n++] = '\n';
	write_full(note_fd, b, (size_t)n);
}

static void trace(const char *fmt, ...)
{
	char b[1024];
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(b, sizeof b, fmt, ap);
	va_end(ap);
	note("%s", b);
}

/* A decision to compile here: traced, and told to hubd (counted by reason). */
static void local_why(const char *fmt, ...)
{
	char b[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof b, fmt, ap);
	va_end(ap);
	trace("local: %s", b);
	reasons_tell(b);
}

static bool env_on(const char *name)
{
	const char *v = getenv(name);
	return v && *v && strcmp(v, "0") != 0;
}

static const char *base_of(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static void usage(FILE *f)
{
	fputs(
"NAME\n"
"    dcc - usbfarm's compiler wrapper: compile C/C++ on the USB build farm\n"
"\n"
"SYNOPSIS\n"
"    dcc COMPILER [COMPILER-ARGS...]     e.g. dcc gcc -O2 -c a.c -o a.o\n"
"    dcc [COMPILER-ARGS...]              the compiler is cc\n"
"    COMPILER [COMPILER-ARGS...]         dcc installed under the compiler's name\n"
"    dcc --inputs=hash|text COMPILER [COMPILER-ARGS...]\n"
"    dcc --help | --version\n"
"    dcc --scan-server [--foreground] [--idle SECONDS]\n"
"    dcc --scan [--stats] [COMPILER COMPILER-ARGS...]\n"
"\n"
"DESCRIPTION\n"
"    dcc decides from the arguments whether a command can be compiled on a\n"
"    node. If not (linking, -E, -M, -march=native, profiling, several\n"
"    sources, conftest.*, ...), it runs the real compiler with the\n"
"    unchanged arguments. Otherwise it preprocesses locally with\n"
"    -fdirectives-only (includes and #if resolved here, dependency files\n"
"    written here), hands the job to hubd (the node compiles the text as\n"
"    the same source name, mapping its directories to this cwd, so\n"
"    the object is the local one, debug info included), and writes the\n"
"    object the node returns atomically (temp file and rename), with the\n"
"    .dwo for -gsplit-dwarf. If the compile fails or prints any\n"
"    diagnostic, dcc compiles locally from the original command, so errors\n"
"    and warnings are exactly the local compiler's. If the farm cannot do\n"
"    the job, dcc compiles locally: dcc never fails a build the compiler\n"
"    would pass.\n"
"    @file response files are expanded as gcc does.\n"
"\n"
"    Sources named by an absolute path (CMake) or with . and .. (VPATH\n"
"    builds) are distributed too, with identical objects.\n"
"    Kept local because the object could differ: -g3 (macro info),\n"
"    -pedantic, -Wsystem-headers, __DATE__/__TIME__/__TIMESTAMP__ in the\n"
"    preprocessed text, -A or -Wp,-f... with -g, an absolute source path\n"
"    with '=' in it; what -fdirectives-only would not carry: #pragma\n"
"    message / redefine_extname / push_macro / pop_macro / GCC poison,\n"
"    #pragma omp or acc with -fopenmp(-simd) / -fopenacc, directives\n"
"    spelled %:, _Pragma once / push_macro / pop_macro / GCC poison.\n"
"    Every local decision is told to hubd (hubctl status counts them).\n"
"    Kept local as compiler probes: an input that is not a\n"
"    regular file (/dev/null, a FIFO, -), an output that is /dev/null or\n"
"    an existing non-regular file.\n"
"\n"
"SCAN SERVER\n"
"    --scan-server runs this user's include scanner (started by dcc on\n"
"    first use; one per user, socket and log in $XDG_RUNTIME_DIR/usbfarm\n"
"    or /tmp/usbfarm-UID; exits after --idle seconds without a client,\n"
"    default 600). --scan prints a compile's inputs as it scans them\n"
"    (--stats: its counters).\n"
"\n"
"INVOCATION\n"
"    Explicit:   CC=\"dcc gcc\" CXX=\"dcc g++\"; COMPILER may be a path.\n"
"    Implicit:   dcc -c a.c (first argument is an option or a source).\n"
"    Masquerade: a directory of symlinks gcc, g++, cc, c++ -> dcc early on\n"
"                PATH; dcc finds the real compiler on PATH, skipping any\n"
"                entry that is dcc itself.\n"
"    ccache:     CCACHE_PREFIX=dcc; dcc's own notes then go to\n"
"                UNCACHED_ERR_FD so ccache does not cache them.\n"
"\n"
"ENVIRONMENT\n"
"    DCC_VERBOSE=1      trace decisions on stderr (or UNCACHED_ERR_FD)\n"
"    DCC_LOCAL=1        never distribute\n"
"    DCC_INPUTS=hash|text  inputs by hash (the tree path, default) or the\n"
"                       directives-only text (as --inputs=)\n"
"    DCC_SCAN_IDLE=S    the scan server's idle exit (seconds)\n"
"    DCC_RECURSION      set by dcc for the compilers it runs (recursion guard)\n"
"    USBFARM_SOCKET     hubd's socket (default: see hubd)\n"
"    UNCACHED_ERR_FD    file descriptor for dcc's own messages (ccache)\n"
"\n"
"EXIT STATUS\n"
"    The compiler's exit status (128+N if it died of signal N).\n"
"    2    usage error\n"
"    111  recursion: the compiler found on PATH leads back to dcc\n"
"    127  no real compiler found\n", f);
}

/* ---- finding the real compiler ---------------------------------------- */

static bool is_self(const char *cand, const char *self)
{
	char r[PATH_MAX];
	return self && realpath(cand, r) && !strcmp(r, self);
}

struct find {
	const char *name, *self;
	char *out;
	size_t len;
	bool looped;		/* a PATH entry held dcc itself */
};

/* One PATH entry: 1 when it holds the compiler (then in f->out). */
static int find_in(const char *dir, void *arg)
{
	struct find *f = arg;
	char cand[PATH_MAX];
	struct stat st;

	if ((size_t)snprintf(cand, sizeof cand, "%s/%s", dir, f->name) >= sizeof cand)
		return 0;
	if (stat(cand, &st) || !S_ISREG(st.st_mode) || access(cand, X_OK))
		return 0;
	if (is_self(cand, f->self)) {
		f->looped = true;	/* a masquerade dir: keep looking */
		return 0;
	}
	snprintf(f->out, f->len, "%s", cand);
	return 1;
}

/* Sets out to an absolute path of the real compiler named `name` (a path,
 * or searched on PATH: lib/pathwalk.h). 0, -ELOOP (only dcc itself was
 * found), -ENOENT or -errno. */
static int find_compiler(const char *name, const char *self, char *out, size_t len)
{
	struct find f = { name, self, out, len, false };
	int r;

	if (strchr(name, '/')) {
		char cwd[PATH_MAX];
		int n;
		if (name[0] == '/')
			n = snprintf(out, len, "%s", name);
		else if (getcwd(cwd, sizeof cwd))
			n = snprintf(out, len, "%s/%s", cwd, name);
		else
			return -errno;
		if (n < 0 || (size_t)n >= len)
			return -ENAMETOOLONG;
		if (access(out, X_OK))
			return -ENOENT;
		return is_self(out, self) ? -ELOOP : 0;
	}
	r = pathwalk(NULL, true, find_in, &f);
	if (r < 0)
		return r;
	return r ? 0 : f.looped ? -ELOOP : -ENOENT;
}

/* The working directory as gcc names it (libiberty getpwd, which gives
 * DW_AT_comp_dir and the `# 1 "<cwd>//"` marker): $PWD when it is absolute
 * and the same directory as ".", else getcwd(). 0 or -errno. */
static int gcc_pwd(char *out, size_t len)
{
	const char *pwd = getenv("PWD");
	struct stat a, b;

	if (pwd && pwd[0] == '/' && strlen(pwd) < len && !stat(pwd, &a) && !stat(".", &b) &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
		strcpy(out, pwd);
		return 0;
	}
	if (!getcwd(out, len))
		return -errno;
	return out[0] == '/' ? 0 : -ENOENT;
}

/* ---- running things ------------------------------------------------------ */

/* Replaces dcc with the real compiler; never returns. */
static void __attribute__((noreturn)) exec_local(const char *path, char **argv)
{
	execv(path, argv);
	fprintf(stderr, "dcc: cannot run %s: %s\n", path, strerror(errno));
	exit(EXIT_NO_COMPILER);
}

/* Runs the compiler and waits (lib/spawn.c); its status (128+sig), or
 * -errno (said on stderr) when it could not run. */
static int run_local(const char *path, char **argv)
{
	int st = spawn_run(path, argv);

	if (st < 0)
		fprintf(stderr, "dcc: cannot run %s: %s\n", path, strerror(-st));
	return st;
}

/* ---- the remote attempt -------------------------------------------------- */

struct attempt {
	enum hub_outcome outcome;
	int status;
	struct buf out, err, obj, dwo;
	char where[64];
	char error[256];
	bool hub;		/* res came from hub_client_compile */
	struct hub_result res;
};

static void attempt_free(struct attempt *a)
{
	if (a->hub) {
		hub_result_free(&a->res);
	} else {
		buf_free(&a->out);
		buf_free(&a->err);
		buf_free(&a->obj);
		buf_free(&a->dwo);
	}
}

static void remote(const struct hub_job *job, struct attempt *a)
{
	a->hub = true;
	memset(&a->res, 0, sizeof a->res);
	hub_client_compile(job, &a->res);
	a->outcome = a->res.outcome;
	a->status = a->res.status;
	a->out = a->res.out;
	a->err = a->res.err;
	a->obj = a->res.obj;
	a->dwo = a->res.dwo;
	snprintf(a->where, sizeof a->where, "%s", a->res.node);
	snprintf(a->error, sizeof a->error, "%s", a->res.error);
}

/* ---- main: how dcc was called ------------------------------------------ */

/* The compiler's command: argv[0] its name (then its absolute path), and
 * that path. */
struct call {
	char **argv;
	int argc;
	bool explicit_dcc;
	char compiler[PATH_MAX];
};

/* dcc's own notes: UNCACHED_ERR_FD (ccache), else stderr when verbose. */
static void notes_setup(void)
{
	const char *v = getenv("UNCACHED_ERR_FD");

	verbose = env_on("DCC_VERBOSE");
	if (v && *v) {
		char *end;
		long fd = strtol(v, &end, 10);
		if (!*end && fd > 2 && fd < INT_MAX && fcntl((int)fd, F_GETFD) >= 0)
			note_fd = (int)fd;
	}
	if (note_fd < 0 && verbose)
		note_fd = 2;
}

/* The options: explicit (dcc gcc …), implicit (dcc -c a.c → cc -c a.c)
 * or masquerading (argv[0] is the compiler's name). -1 to go on, else the
 * exit code (--help, --version, usage). */
static int invocation(int argc, char **argv, const char *selfp, struct call *c)
{
	const char *self_name = base_of(argv[0]);
	bool is_src;

	c->explicit_dcc = !strcmp(self_name, "dcc") ||
			  (selfp && !strcmp(self_name, base_of(selfp)));
	c->argc = argc;
	c->argv = argv;
	if (!c->explicit_dcc)
		return -1;
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--scan-server"))
		return scand_main(argc, argv);
	if (!strcmp(argv[1], "--scan"))
		return scand_cli(selfp, argc - 1, argv + 1);
	if (!strcmp(argv[1], "--version")) {
		printf("dcc (usbfarm) %s\n", DCC_VERSION);
		return 0;
	}
	args_lang_of(argv[1], false, &is_src);
	if (argv[1][0] != '-' && !is_src) {
		c->argc = argc - 1;
		c->argv = argv + 1;
		return -1;
	}
	c->argv = dcc_implicit_argv = calloc((size_t)argc + 1, sizeof *c->argv);
	if (!c->argv)
		return 1;
	c->argv[0] = "cc";
	for (int i = 1; i < argc; i++)
		c->argv[i] = argv[i];
	return -1;
}

/* The real compiler (never dcc again: DCC_RECURSION counts the depth),
 * its absolute path as argv[0]: gcc finds cc1 relative to argv[0]
 * searched on PATH, which in masquerade mode would be dcc's directory;
 * the basename, all gcc/clang show in messages or switch modes on, stays.
 * -1 to go on, else the exit code. */
static int locate_compiler(struct call *c, const char *selfp, int depth)
{
	char d[16];
	int r = find_compiler(c->argv[0], selfp, c->compiler, sizeof c->compiler);

	if (r == -ELOOP || depth >= 2) {
		fprintf(stderr, "dcc: recursion: '%s' leads back to dcc (check PATH "
				"and masquerade directories)\n", c->argv[0]);
		return EXIT_RECURSION;
	}
	if (r) {
		fprintf(stderr, "dcc: %s: compiler not found%s\n", c->argv[0],
			c->explicit_dcc ? "" : " on PATH (outside dcc's own directory)");
		return EXIT_NO_COMPILER;
	}
	snprintf(d, sizeof d, "%d", depth + 1);
	setenv("DCC_RECURSION", d, 1);
	if (strcmp(base_of(c->argv[0]), base_of(c->compiler)) == 0 || strchr(c->argv[0], '/')) {
		char **nv = dcc_abs_argv = calloc((size_t)c->argc + 1, sizeof *nv);
		if (!nv)
			return 1;
		memcpy(nv, c->argv, (size_t)c->argc * sizeof *nv);
		nv[0] = c->compiler;
		c->argv = nv;
	}
	return -1;
}

/* ---- main: the remote attempt's phases ---------------------------------- */

/* Classifies the command and checks it against the node's policy; false
 * (the reason told, the plan freed): compile locally. */
static bool plan_remote(const struct call *c, struct args_plan *plan, char *cwd, size_t cwdlen,
			bool tree)
{
	struct args_opts opts;
	char why[200];
	int refused;

	memset(&opts, 0, sizeof opts);
	opts.tree = tree;
	opts.cxx_driver = strstr(base_of(c->argv[0]), "++") || strstr(base_of(c->compiler), "++");
	opts.clang = strstr(base_of(c->argv[0]), "clang") || strstr(base_of(c->compiler), "clang");
	if (args_plan(c->argv, c->argc, &opts, plan)) {
		local_why("out of memory classifying");
		return false;
	}
	if (!plan->distribute) {
		local_why("%s", plan->reason);
		goto local;
	}
	refused = policy_check_args(plan->node_args, plan->node_nargs, why, sizeof why);
	if (!refused && !policy_input_name_ok(plan->input_name)) {
		snprintf(why, sizeof why, "input name %s", plan->input_name);
		refused = -EPERM;
	}
	if (refused) {
		local_why("a node would refuse: %s", why);
		goto local;
	}
	/* the node maps its dir to this one: it must be whole */
	if (gcc_pwd(cwd, cwdlen) || strlen(cwd) >= POLICY_CWD_MAX) {
		local_why("working directory unknown or too long for the farm");
		goto local;
	}
	return true;
local:
	args_plan_free(plan);
	return false;
}

/* What the directives-only text would not carry (ppcheck.c), or where
 * the node's expansion would differ: NULL, or why not. */
static const char *pp_unfit(const struct args_plan *plan, struct buf *pp, const char *cwd,
			    char *why, size_t wlen)
{
	struct ppcheck_opts po;
	uint64_t tc;
	int bad;

	if (plan->lang == ARGS_LANG_ASM_CPP)
		return NULL;
	if (args_node_source(pp->data, &pp->len, cwd))
		return "the compiler's working directory is not the one dcc sees";
	if (args_time_macro(pp->data, pp->len))
		return "__DATE__/__TIME__/__TIMESTAMP__ would be expanded on the node";
	tc = now_us();
	ppcheck_opts_from_argv(plan->argv, plan->argc, &po);
	bad = ppcheck_text(pp->data, pp->len, &po, why, wlen);
	trace("ppcheck: %llu us", (unsigned long long)(now_us() - tc));
	return bad ? why : NULL;
}

/* Preprocesses here into pp; false (the reason told, pp and the plan
 * freed): compile locally. An error or a warning of the preprocessor
 * goes local too: the local compile says it exactly as it would. */
static bool preprocess(const struct call *c, struct args_plan *plan, const char *cwd,
		       struct buf *pp)
{
	struct buf pperr = BUF_INIT;
	char why[320];
	const char *unfit;
	int r = dcc_run_capture(c->compiler, plan->cpp_argv, pp, &pperr);

	if (r != 0 || pperr.len) {
		local_why("preprocessing %s", r ? "failed" : "printed diagnostics");
		buf_free(&pperr);
		goto local;
	}
	buf_free(&pperr);
	unfit = pp_unfit(plan, pp, cwd, why, sizeof why);
	if (unfit) {
		local_why("%s", unfit);
		goto local;
	}
	return true;
local:
	buf_free(pp);
	args_plan_free(plan);
	return false;
}

/* "No board can take this build's jobs", once per build. */
static void say_no_board(const char *compiler, const char *error)
{
	char m[400];

	snprintf(m, sizeof m, "no board can take this build's %s jobs (%s): they "
		 "compile on this machine; `hubctl status` says why (said once per "
		 "build)", base_of(compiler), error);
	reasons_say_once(2, m);
}

/* A node's clean result: the object (and .dwo) written atomically, or
 * hubd's sample compared with a local compile. The exit code, or -1:
 * compile locally. */
static int take_result(const struct call *c, const struct args_plan *plan, struct attempt *at)
{
	int r;

	if (!strncmp(at->error, VERIFY_TAG, strlen(VERIFY_TAG))) {
		/* hubd samples this job: the local compile writes the
		 * outputs, the node's object is only compared */
		struct verify_job vj = { c->compiler, c->argv, plan->output,
					 plan->want_dwo ? plan->dwo : NULL, &at->obj, &at->dwo,
					 at->error + strlen(VERIFY_TAG), at->where,
					 plan->source, 2 };
		trace("%s compiled on %s; verifying with a local compile", plan->source,
		      at->where);
		return verify_locally(&vj);
	}
	if (at->obj.len == 0) {
		note("%s: empty object from %s; compiling locally", plan->source, at->where);
		return -1;
	}
	if (plan->want_dwo && (r = dcc_write_atomic(plan->dwo, &at->dwo))) {
		note("%s: %s; compiling locally", plan->dwo, strerror(-r));
		return -1;
	}
	if ((r = dcc_write_atomic(plan->output, &at->obj))) {
		note("%s: %s; compiling locally", plan->output, strerror(-r));
		return -1;
	}
	/* the compiler's stdout and stderr (empty here, by the rule in
	 * outcome()) in the order the user would see them */
	write_full(1, at->out.data, at->out.len);
	write_full(2, at->err.data, at->err.len);
	trace("%s compiled on %s", plan->source, at->where);
	return 0;
}

/* What hubd said. The exit code, or -1: compile locally. */
static int outcome(const struct call *c, const struct args_plan *plan, struct attempt *at)
{
	int st;

	switch (at->outcome) {
	case HUB_DONE:
		if (at->status != 0 || at->err.len || at->out.len) {
			note("%s %s on %s; compiling locally for the compiler's own "
			     "diagnostics", plan->source,
			     at->status ? "failed" : "printed diagnostics", at->where);
			reasons_tell(at->status ? "failed on a node" : "printed diagnostics on a node");
			return -1;
		}
		return take_result(c, plan, at);
	case HUB_LOCAL:
		trace("hubd: compile locally%s%s", at->error[0] ? ": " : "", at->error);
		if (at->error[0])
			say_no_board(c->compiler, at->error);
		st = run_local(c->compiler, c->argv);
		return st < 0 ? EXIT_NO_COMPILER : st;
	case HUB_FAILED:
	default:
		note("farm: %s; compiling locally", at->error[0] ? at->error : "failed");
		if (strstr(at->error, "no node offers"))
			say_no_board(c->compiler, at->error);
		return -1;
	}
}

/* The job for hubd: the preprocessed text, compiled on the node under the
 * same source name, and our cwd for its DW_AT_comp_dir. The exit code, or
 * -1: compile locally. pp is freed. */
static int distribute(const struct call *c, const struct args_plan *plan, const char *cwd,
		      struct buf *pp, uint64_t t0, const char *text_why)
{
	struct hub_job job;
	struct attempt at;
	int r;

	memset(&job, 0, sizeof job);
	job.compiler = c->compiler;
	job.d.args = plan->node_args;
	job.d.nargs = plan->node_nargs;
	job.d.input = pp->data;
	job.d.input_len = pp->len;
	job.d.want_dwo = plan->want_dwo;
	job.d.utf8 = dcc_locale_utf8();
	if (job_desc_set_names(&job.d, plan->input_name, plan->output_name, cwd) < 0) {
		local_why("job names too long for the farm");
		buf_free(pp);
		return -1;
	}
	job.source = plan->source;
	job.text_why = text_why;
	job.preprocess_us = now_us() - t0;
	trace("distribute %s (%zu bytes preprocessed in %llu us)", plan->source, pp->len,
	      (unsigned long long)job.preprocess_us);
	memset(&at, 0, sizeof at);
	remote(&job, &at);
	buf_free(pp);
	r = outcome(c, plan, &at);
	attempt_free(&at);	/* after run_local: releases hubd's local slot */
	return r;
}

/* The tree path (dcc_tree.h): the exit code, or -1: the directives-only
 * path (why in text_why). A command no path distributes compiles locally
 * here (exec_local). */
static int tree_attempt(const struct call *c, const char *selfp, char *cwd, size_t cwdlen,
			char *text_why, size_t twl)
{
	struct args_plan plan;
	char why[300];
	int r;

	if (!plan_remote(c, &plan, cwd, cwdlen, true))
		exec_local(c->compiler, c->argv);	/* no path would take it */
	struct dcc_tree_call tc = { selfp, c->compiler, c->argv, cwd, &plan, note_fd };
	r = dcc_tree_run(&tc, why, sizeof why);
	args_plan_free(&plan);
	if (r >= 0)
		return r;
	if (r == DCC_TREE_LOCAL) {
		note("%s; compiling locally", why);
		exec_local(c->compiler, c->argv);
	}
	trace("directives-only path: %s", why);
	snprintf(text_why, twl, "%.*s", (int)(twl - 1), why);
	return -1;
}

/* Options, setup, then the remote attempt; every way out that is not the
 * farm's clean result ends in the local compile (exec_local). */
int main(int argc, char **argv)
{
	char self[PATH_MAX], *selfp = NULL, cwd[PATH_MAX], text_why[96];
	const char *v;
	int depth = 0, r;
	struct call c;
	struct args_plan plan;
	struct buf pp = BUF_INIT;
	uint64_t t0;

	signal(SIGPIPE, SIG_IGN);
	notes_setup();
	if (realpath("/proc/self/exe", self))
		selfp = self;
	memset(&c, 0, sizeof c);
	if (argc > 2 && !strncmp(argv[1], "--inputs=", 9)) {
		/* dcc --inputs=hash|text COMPILER ...: the mode, then as without it */
		if (strcmp(argv[1] + 9, "hash") && strcmp(argv[1] + 9, "text")) {
			fprintf(stderr, "dcc: %s: hash or text\n", argv[1]);
			return EXIT_USAGE;
		}
		setenv("DCC_INPUTS", argv[1] + 9, 1);
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	if ((r = invocation(argc, argv, selfp, &c)) >= 0)
		return r;
	v = getenv("DCC_RECURSION");
	if (v && *v)
		depth = atoi(v);
	if ((r = locate_compiler(&c, selfp, depth)) >= 0)
		return r;
	if (depth > 0 || env_on("DCC_LOCAL")) {
		if (depth > 0)
			trace("local: called from within dcc");
		else
			local_why("DCC_LOCAL");
		exec_local(c.compiler, c.argv);
	}
	snprintf(text_why, sizeof text_why, "--inputs=text");
	if (dcc_tree_mode() && (r = tree_attempt(&c, selfp, cwd, sizeof cwd, text_why,
						sizeof text_why)) >= 0)
		return r;
	if (!plan_remote(&c, &plan, cwd, sizeof cwd, false))
		exec_local(c.compiler, c.argv);
	t0 = now_us();
	if (!preprocess(&c, &plan, cwd, &pp))
		exec_local(c.compiler, c.argv);
	r = distribute(&c, &plan, cwd, &pp, t0, text_why);
	args_plan_free(&plan);
	if (r >= 0)
		return r;
	exec_local(c.compiler, c.argv);
	return EXIT_NO_COMPILER;
}
