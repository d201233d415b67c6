/*
 * dcc_tree.c — dcc's tree path (see dcc_tree.h): plan, scan (in the
 * user's scan server), learn what a computed include reads (the
 * compiler's -M, once, remembered in the server), the manifest, hubd's
 * NEEDs answered (client.c), the outputs written atomically.
 *
 * Anything this path cannot do goes back to the caller with why: the
 * directives-only path (DCC_TREE_TEXT) or the local compile
 * (DCC_TREE_LOCAL); never silently (the trace says it, hubd counts text
 * jobs by why).
 */
#include "dcc_tree.h"
#include "args_tree.h"
#include "client.h"
#include "dcc_io.h"
#include "reasons.h"
#include "scand.h"
#include "verify.h"

#include "../lib/clock.h"
#include "../lib/spawn.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEARN_MAX 4096		/* names a -M run may give (= SCAN_REMEMBER_MAX) */

bool dcc_tree_mode(void)
{
	const char *v = getenv("DCC_INPUTS");
	return !v || !*v || strcmp(v, "text") != 0;
}

static void tnote(const struct dcc_tree_call *c, const char *fmt, ...)
{
	char m[600];
	va_list ap;
	int n;

	if (c->note_fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(m, sizeof m - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof m - 2)
		n = (int)sizeof m - 2;
	m[n++] = '\n';
	(void)write_full(c->note_fd, "dcc: ", 5);
	(void)write_full(c->note_fd, m, (size_t)n);
}

/* ---- learning a computed include ---------------------------------------- */

/* One name of a make rule (escapes "\ " and "$$" undone), absolute and
 * physical, appended to names. */
static void deps_add(const char *w, size_t l, const char *cwd, char **names, size_t *n)
{
	char raw[PATH_MAX], abs[PATH_MAX], real[PATH_MAX];
	size_t k = 0;

	for (size_t i = 0; i < l && k + 1 < sizeof raw; i++) {
		if (w[i] == '\\' && i + 1 < l && w[i + 1] == ' ')
			i++;
		else if (w[i] == '$' && i + 1 < l && w[i + 1] == '$')
			i++;
		raw[k++] = w[i];
	}
	raw[k] = 0;
	if (snprintf(abs, sizeof abs, raw[0] == '/' ? "%s" : "%s/%s",
		     raw[0] == '/' ? raw : cwd, raw) >= (int)sizeof abs)
		return;
	if (*n < LEARN_MAX && realpath(abs, real) && (names[*n] = strdup(real)))
		(*n)++;
}

/* The prerequisites of a `-M` rule: the files the compile reads. */
static size_t deps_parse(const struct buf *b, const char *cwd, char **names)
{
	const char *p = (const char *)b->data, *e = p + b->len;
	size_t n = 0;
	bool target = true;

	while (p < e) {
		const char *w;
		if (*p == ' ' || *p == '\t' || *p == '\n' || (*p == '\\' && p + 1 < e && p[1] == '\n')) {
			p += *p == '\\' ? 2 : 1;
			continue;
		}
		for (w = p; p < e && *p != ' ' && *p != '\t' && *p != '\n'; p++)
			if (*p == '\\' && p + 1 < e && p[1] == ' ')
				p++;
		if (target) {
			target = p[-1] != ':';	/* the rule's target ends in ':' */
			continue;
		}
		deps_add(w, (size_t)(p - w), cwd, names, &n);
	}
	return n;
}

/* The preprocessor-only command: the board's arguments without -c/-S and
 * the dependency options, then -M -MF - and the source. malloc'd. */
static char **learn_argv(const struct dcc_tree_call *c, const struct args_tree *at)
{
	char **v = calloc((size_t)at->nargs + 6, sizeof *v);
	int k = 0;

	if (!v)
		return NULL;
	v[k++] = (char *)c->argv[0];
	for (int i = 0; i < at->nargs; i++) {
		const char *a = at->args[i];
		if (!strcmp(a, "-MF") || !strcmp(a, "-MT") || !strcmp(a, "-MQ")) {
			i++;
			continue;
		}
		if (!strcmp(a, "-c") || !strcmp(a, "-S") || !strcmp(a, "-MD") ||
		    !strcmp(a, "-MMD") || !strcmp(a, "-MP") || !strncmp(a, "-MF", 3) ||
		    !strncmp(a, "-MT", 3) || !strncmp(a, "-MQ", 3) || !strncmp(a, "-Wp,-M", 6))
			continue;
		v[k++] = at->args[i];
	}
	v[k++] = "-M";
	v[k++] = "-MF";
	v[k++] = "-";
	v[k++] = c->plan->source;
	return v;
}

/* Runs the compiler's -M here and remembers what it read for every gap's
 * file in the server: 0, or -1 with why. */
static int learn(const struct dcc_tree_call *c, const struct args_tree *at, int fd,
		 const struct scan_result *r, char *why, size_t wl)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	char **argv = learn_argv(c, at), *names[LEARN_MAX];
	size_t n = 0;
	int st = argv ? dcc_run_capture(c->compiler, argv, &out, &err) : -ENOMEM;

	free(argv);
	buf_free(&err);
	if (st != 0) {
		snprintf(why, wl, "learning a computed include: the compiler's -M %s",
			 st < 0 ? strerror(-st) : "failed");
		buf_free(&out);
		return -1;
	}
	n = deps_parse(&out, c->cwd, names);
	buf_free(&out);
	st = n ? 0 : -1;
	if (!n)
		snprintf(why, wl, "learning a computed include: -M named no file");
	for (size_t g = 0; g < r->ngaps && st == 0; g++) {
		struct scand_remember m = { .names = names, .n = n };
		if (r->gaps[g].remembered ||
		    snprintf(m.file, sizeof m.file, "%s", r->gaps[g].file) >= (int)sizeof m.file)
			continue;
		if (scand_remember(fd, &m, why, wl) < 0)
			st = -1;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return st;
}

/* ---- the scan and the manifest ------------------------------------------- */

/* The scan of the command: 0, or -1 with why (res freed). */
static int scan_once(const struct dcc_tree_call *c, int fd, struct scand_res *res, char *why,
		     size_t wl)
{
	struct scand_req q = { .argv = c->plan->argv, .argc = c->plan->argc };

	snprintf(q.compiler, sizeof q.compiler, "%s", c->compiler);
	if (snprintf(q.cwd, sizeof q.cwd, "%s", c->cwd) >= (int)sizeof q.cwd) {
		snprintf(why, wl, "working directory too long for the scan server");
		return -1;
	}
	if (scand_scan(fd, &q, res, why, wl) < 0)
		return -1;
	if (res->rc < 0) {
		snprintf(why, wl, "scan: %s", res->r.err);
		scan_result_free(&res->r);
		return -1;
	}
	return 0;
}

static void set_path(struct job_input *in, const char *p)
{
	in->path = p;
	in->path_len = (uint32_t)strlen(p);
}

/* The manifest from the scan: files by hash, directories climbed out of,
 * every symlink on the way, the cwd's directory. in malloc'd (its paths
 * point into r). 0 or -1 with why. */
static int manifest(const struct scan_result *r, const char *cwd, struct job_tree *t,
		    char *why, size_t wl)
{
	size_t n = 0;
	bool have_cwd = false;

	if (r->nin + r->nlinks + 1 > JOB_MAX_INPUTS) {
		snprintf(why, wl, "%zu inputs: over the tree job's cap", r->nin + r->nlinks);
		return -1;
	}
	t->in = calloc(r->nin + r->nlinks + 1, sizeof *t->in);
	if (!t->in) {
		snprintf(why, wl, "out of memory for the manifest");
		return -1;
	}
	for (size_t i = 0; i < r->nin; i++) {
		struct job_input *in = &t->in[n++];
		const struct scan_input *s = &r->in[i];
		set_path(in, s->path);
		if (S_ISDIR(s->mode)) {
			in->kind = JOB_IN_DIR;
			have_cwd |= !strcmp(s->path, cwd);
			continue;
		}
		in->kind = JOB_IN_FILE;
		memcpy(in->hash, s->sha256, 32);
		in->size = s->size;
		in->mode = s->mode & 07777;
	}
	for (size_t i = 0; i < r->nlinks; i++) {
		struct job_input *in = &t->in[n++];
		in->kind = JOB_IN_LINK;
		set_path(in, r->links[i].path);
		in->target = r->links[i].target;
		in->target_len = (uint32_t)strlen(r->links[i].target);
	}
	if (!have_cwd) {
		t->in[n].kind = JOB_IN_DIR;
		set_path(&t->in[n++], cwd);
	}
	t->nin = n;
	return 0;
}

/* Scans, learning a computed include once if the first scan has a gap: 0
 * (res set, *learned), DCC_TREE_LOCAL (no path would compile it as here)
 * or DCC_TREE_TEXT, with why. */
static int scan_job_inputs(const struct dcc_tree_call *c, const struct args_tree *at, int fd,
			   struct scand_res *res, bool *learned, char *why, size_t wl)
{
	if (scan_once(c, fd, res, why, wl) < 0)
		return -1;
	if (res->r.incomplete) {
		int rc = learn(c, at, fd, &res->r, why, wl);
		scan_result_free(&res->r);
		if (rc < 0 || scan_once(c, fd, res, why, wl) < 0)
			return -1;
		*learned = true;
		if (res->r.incomplete) {
			snprintf(why, wl, "a computed include stays unresolved after learning it");
			scan_result_free(&res->r);
			return -1;
		}
	}
	if (res->time_macros) {
		snprintf(why, wl, "__DATE__/__TIME__/__TIMESTAMP__ in an input");
		scan_result_free(&res->r);
		return -1;
	}
	if (res->gas_reads && c->plan->lang == ARGS_LANG_ASM_CPP) {
		/* the board would fail it (the file is not in the tree) and it
		 * would be compiled twice: once, here */
		snprintf(why, wl, "the assembler's .incbin/.include reads a file no scan names");
		reasons_tell(why);	/* hubd counts every local compile by reason */
		scan_result_free(&res->r);
		return DCC_TREE_LOCAL;	/* the text path would send it too */
	}
	return 0;
}

/* ---- hubd's answer ------------------------------------------------------- */

/* The board compiled it: outputs written atomically (only on success, as
 * the compiler itself leaves none), stdout and stderr byte for byte, the
 * exit status; or DCC_TREE_LOCAL when an output cannot be written. */
static int take_done(const struct dcc_tree_call *c, const struct args_tree *at,
		     struct hub_result *res, char *why, size_t wl)
{
	const struct args_plan *p = c->plan;
	int r = 0;

	if (!strncmp(res->error, VERIFY_TAG, strlen(VERIFY_TAG)) && res->status == 0) {
		struct verify_job vj = { c->compiler, c->argv, p->output,
					 p->want_dwo ? p->dwo : NULL, &res->obj, &res->dwo,
					 res->error + strlen(VERIFY_TAG), res->node, p->source, 2 };
		tnote(c, "%s compiled on %s (tree job); verifying with a local compile", p->source,
		      res->node);
		return verify_locally(&vj);
	}
	if (res->status != 0 && res->status != 1) {
		/* gcc answers 0 or 1; 127, a signal, an ICE: the board's
		 * compiler did not give this compile's answer */
		snprintf(why, wl, "the board's compiler ended with status %d", res->status);
		return DCC_TREE_LOCAL;
	}
	if ((res->out.len || res->err.len) && dcc_locale_translated()) {
		snprintf(why, wl, "the board's diagnostics are in English, this compile's in %.40s",
			 dcc_locale_translated());
		return DCC_TREE_LOCAL;
	}
	if (res->status == 0) {
		if (!res->obj.len)
			r = -ENODATA;
		if (!r && p->want_dwo)
			r = dcc_write_atomic(p->dwo, &res->dwo);
		if (!r && at->deps_name[0])
			r = dcc_write_atomic(at->deps_name, &res->dep);
		if (!r)
			r = dcc_write_atomic(p->output, &res->obj);
		if (r) {
			snprintf(why, wl, "%s from %s: %s", r == -ENODATA ? "no object" : "an output",
				 res->node, strerror(-r));
			return DCC_TREE_LOCAL;
		}
	}
	(void)write_full(1, res->out.data, res->out.len);
	(void)write_full(2, res->err.data, res->err.len);
	tnote(c, "%s compiled on %s (tree job: %zu blobs, %llu bytes sent)%s", p->source,
	      res->node, res->blobs_sent, (unsigned long long)res->blob_bytes,
	      res->status ? ": the compile failed there as it would here" : "");
	return res->status;
}

/* hubd failed the job: names the board's compile read that were not sent
 * go to the scan server (the next scan of the source has them). */
static void remember_unsent(const struct dcc_tree_call *c, int sfd, const char *source,
			    struct hub_result *res)
{
	struct scand_remember m = { .names = res->unsent, .n = 0 };
	char why[300];

	/* the absolute names first (the server takes only those), in place */
	for (size_t i = 0; i < res->nunsent && m.n < SCAN_REMEMBER_MAX; i++)
		if (res->unsent[i][0] == '/') {
			char *t = res->unsent[m.n];
			res->unsent[m.n++] = res->unsent[i];
			res->unsent[i] = t;
		}
	if (!m.n || snprintf(m.file, sizeof m.file, "%s", source) >= (int)sizeof m.file)
		return;
	if (scand_remember(sfd, &m, why, sizeof why) < 0)
		tnote(c, "%s", why);
	else
		tnote(c, "remembered %zu inputs the board read for %s", m.n, source);
}

/* "No board can take this build's jobs", once per build (as the text path). */
static void say_no_board(const char *compiler, const char *error)
{
	const char *b = strrchr(compiler, '/') ? strrchr(compiler, '/') + 1 : compiler;
	char m[400];

	snprintf(m, sizeof m, "no board can take this build's %s jobs (%s): they "
		 "compile on this machine; `hubctl status` says why (said once per "
		 "build)", b, error);
	reasons_say_once(2, m);
}

/* The ANSWER: an exit code, DCC_TREE_TEXT or DCC_TREE_LOCAL. */
static int outcome(const struct dcc_tree_call *c, const struct args_tree *at, int sfd,
		   const char *source, struct hub_result *res, char *why, size_t wl)
{
	int st;

	switch (res->outcome) {
	case HUB_DONE:
		return take_done(c, at, res, why, wl);
	case HUB_FALLBACK:
		snprintf(why, wl, "hubd: %s", res->error[0] ? res->error : "no board with a store");
		return DCC_TREE_TEXT;
	case HUB_LOCAL:
		tnote(c, "hubd: compile locally%s%s", res->error[0] ? ": " : "", res->error);
		if (res->error[0])
			say_no_board(c->compiler, res->error);
		st = spawn_run(c->compiler, c->argv);	/* the slot held meanwhile */
		return st < 0 ? 127 : st;
	default:
		if (strstr(res->error, "no node offers"))
			say_no_board(c->compiler, res->error);
		remember_unsent(c, sfd, source, res);
		snprintf(why, wl, "farm: %s", res->error[0] ? res->error : "failed");
		return DCC_TREE_LOCAL;
	}
}

/* ---- the job ------------------------------------------------------------- */

static int submit(const struct dcc_tree_call *c, const struct args_tree *at, int sfd,
		  const struct scand_res *sr, bool learned, char *why, size_t wl)
{
	struct hub_tree_job tj;
	struct hub_result res;
	int r;

	memset(&tj, 0, sizeof tj);
	if (manifest(&sr->r, c->cwd, &tj.t, why, wl) < 0)
		return DCC_TREE_TEXT;
	tj.job.compiler = c->compiler;
	tj.job.d.args = at->args;
	tj.job.d.nargs = at->nargs;
	tj.job.d.want_dwo = c->plan->want_dwo;
	tj.job.d.utf8 = dcc_locale_utf8();
	tj.job.source = c->plan->source;
	tj.scan_us = sr->scan_us;
	tj.learned = learned;
	tj.t.complete = !sr->r.incomplete;
	if (job_desc_set_names(&tj.job.d, at->input_name, c->plan->output_name, c->cwd) < 0 ||
	    snprintf(tj.t.deps_name, sizeof tj.t.deps_name, "%s", at->deps_name) >=
		    (int)sizeof tj.t.deps_name) {
		free(tj.t.in);
		snprintf(why, wl, "job names too long for the farm");
		return DCC_TREE_TEXT;
	}
	tnote(c, "tree job %s: %zu inputs, scanned in %llu us%s", c->plan->source, tj.t.nin,
	      (unsigned long long)sr->scan_us, learned ? " (computed include learned)" : "");
	hub_client_compile_tree(&tj, &res);
	free(tj.t.in);
	r = outcome(c, at, sfd, sr->r.in[0].path, &res, why, wl);
	hub_result_free(&res);
	return r;
}

int dcc_tree_run(const struct dcc_tree_call *c, char *why, size_t wl)
{
	struct args_tree at;
	struct scand_res sr;
	char real[PATH_MAX];
	bool learned = false;
	int sfd = -1, r;

	r = args_tree_plan(c->plan, &at, why, wl);
	if (r)
		return r < 0 ? DCC_TREE_LOCAL : DCC_TREE_TEXT;
	r = DCC_TREE_TEXT;
	if (!realpath(c->cwd, real) || strcmp(real, c->cwd)) {
		snprintf(why, wl, "the working directory is reached through a symlink");
		goto out;
	}
	if (scand_connect(c->self, &sfd, why, wl) < 0)
		goto out;
	if ((r = scan_job_inputs(c, &at, sfd, &sr, &learned, why, wl)) < 0) {
		if (r != DCC_TREE_LOCAL)
			r = DCC_TREE_TEXT;
		goto out;
	}
	r = submit(c, &at, sfd, &sr, learned, why, wl);
	scan_result_free(&sr.r);
out:
	if (sfd >= 0)
		close(sfd);
	args_tree_free(&at);
	return r;
}
