/*
 * prove.c — hubd's own canary proofs of (hub compiler, board compiler)
 * pairs (prove.h): which pair is due, the local compiles in a child, the
 * canary jobs on the boards, the verdict.
 */
#include "prove.h"
#include "prove_int.h"
#include "equiv.h"
#include "hub.h"
#include "jobs.h"
#include "nodes.h"

#include "../lib/clock.h"
#include "../lib/job.h"
#include "../lib/log.h"
#include "../lib/spawn.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The flag sets per class (hub/equiv.h), as scripts/pair-prove has them. */
static const struct {
	uint8_t cls;
	const char *f[2];
} sets[PROVE_SETS] = {
	{ EQ_BASE, { "-O0", "-g" } },
	{ EQ_BASE, { "-O2", "-g" } },
	{ EQ_BASE, { "-Os", "-fPIC" } },
	{ EQ_STACK_PROTECTOR, { "-O2", "-fstack-protector-strong" } },
	{ EQ_STACK_PROTECTOR, { "-O0", "-fstack-protector-all" } },
	{ EQ_STACK_CLASH, { "-O2", "-fstack-clash-protection" } },
};

/* snprintf whose truncation is intended (names and notes are capped) or
 * checked by the caller's open() failing on a cut path */
__attribute__((format(printf, 3, 4)))
static void fmt(char *out, size_t len, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	(void)vsnprintf(out, len, f, ap);
	va_end(ap);
}

static char *const clean_env[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", NULL };

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

int prove_load_canaries(void)
{
	DIR *d = opendir(prove_st.canaries);
	struct dirent *de;

	if (!d)
		return -errno;
	prove_st.ncanary = 0;
	while ((de = readdir(d)) && prove_st.ncanary < PROVE_CANARIES) {
		size_t l = strlen(de->d_name);
		if (l < 3 || l >= sizeof prove_st.canary[0] + 2 || strcmp(de->d_name + l - 2, ".c") ||
		    de->d_name[0] == '.' || strchr(de->d_name, '.') != de->d_name + l - 2)
			continue;
		fmt(prove_st.canary[prove_st.ncanary++], sizeof prove_st.canary[0], "%.*s",
			 (int)(l - 2), de->d_name);
	}
	closedir(d);
	qsort(prove_st.canary, prove_st.ncanary, sizeof prove_st.canary[0], cmp_name);
	return prove_st.ncanary ? 0 : -ENOENT;
}

int prove_pick(const struct prove_task *t, size_t n, unsigned user_waiting)
{
	if (user_waiting)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!t[i].sent && !t[i].done)
			return (int)i;
	return -1;
}

static struct pair_entry *entry(void)
{
	return &hub.pairs.e[prove_st.entry];
}

static void note_progress(void)
{
	struct prove_state *P = &prove_st;
	const char *cls = "";
	for (size_t i = 0; i < P->nt; i++)
		if (!P->t[i].done) {
			cls = equiv_class_name((enum equiv_class)P->t[i].cls);
			break;
		}
	fmt(entry()->note, sizeof entry()->note, "proving %.40s's %s %s (%.8s): %zu/%zu canaries%s%s%s",
		 P->board_node, P->board.kind, P->board.version, P->board.fingerprint, P->ndone, P->nt,
		 cls[0] ? ", " : "", cls, cls[0] ? " class" : "");
}

/* ---- the local compiles (a child: our own code, then the compiler) ---- */

static int run_cc(char **argv)
{
	struct spawn_opts o = { .path = argv[0], .argv = argv, .envp = clean_env,
				.fd_in = -1, .fd_out = -1, .fd_err = 2 };
	pid_t pid = spawn_start(&o, NULL);
	return pid < 0 ? 127 : spawn_wait(pid);
}

static int local_child(void *arg)
{
	const char *cc = arg;
	char in[64], i[64], o[64];

	for (size_t c = 0; c < prove_st.ncanary; c++) {
		const char *n = prove_st.canary[c];
		fmt(in, sizeof in, "%s.c", n);
		fmt(i, sizeof i, "%s.i", n);
		char *pre[] = { (char *)cc, "-E", in, "-o", i, NULL };
		if (run_cc(pre))
			return 1;
		for (unsigned s = 0; s < PROVE_SETS; s++) {
			if (!(prove_st.classes & EQ_MASK(sets[s].cls)))
				continue;
			fmt(o, sizeof o, "%s.%u.o", n, s);
			char *argv[] = { (char *)cc, (char *)sets[s].f[0], (char *)sets[s].f[1], "-c",
					 i, "-o", o, NULL };
			if (run_cc(argv))
				return 1;
		}
	}
	return 0;
}

static int write_file(const char *path, const struct buf *b)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	int rc;

	if (fd < 0)
		return -errno;
	rc = write_full(fd, b->data, b->len);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* The proof's directory with a copy of every canary. 0 or -errno. */
static int prepare_dir(void)
{
	struct prove_state *P = &prove_st;
	char p[600];

	fmt(p, sizeof p, "%s/canary", P->state);
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -errno;
	fmt(P->dir, sizeof P->dir, "%.300s/canary/%.8s-%.8s", P->state, P->hubc.fingerprint,
		 P->board.fingerprint);
	if (mkdir(P->dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	for (size_t c = 0; c < P->ncanary; c++) {
		struct buf b = BUF_INIT;
		int rc;
		fmt(p, sizeof p, "%s/%s.c", P->canaries, P->canary[c]);
		rc = buf_read_file(&b, p, 1u << 20);
		fmt(p, sizeof p, "%s/%s.c", P->dir, P->canary[c]);
		if (rc == 0)
			rc = write_file(p, &b);
		buf_free(&b);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void refuse(struct pair_entry *e, const char *why)
{
	e->busy = PAIRS_REFUSED;
	fmt(e->note, sizeof e->note, "not proven: %s", why);
}

/* Starts proving (hub compiler a, board compiler b of node n). */
static void start(const struct compiler_id *a, const struct compiler_id *b, const struct node *n,
		  unsigned classes)
{
	struct prove_state *P = &prove_st;
	struct pair_entry *e = pairs_find(&hub.pairs, a->fingerprint, b->fingerprint);
	char why[300];
	int rc;

	if (!e) {
		if (hub.pairs.n >= PAIRS_MAX)
			return;
		e = &hub.pairs.e[hub.pairs.n];
		memset(e, 0, sizeof *e);
		memcpy(e->p.hub_fp, a->fingerprint, sizeof e->p.hub_fp);
		memcpy(e->p.board_fp, b->fingerprint, sizeof e->p.board_fp);
		hub.pairs.n++;
	}
	P->entry = (size_t)(e - hub.pairs.e);
	P->classes = classes;
	P->hubc = *a;
	if (!prove_compiler_trusted(a->path, P->hubc.path, sizeof P->hubc.path, why, sizeof why)) {
		refuse(e, why);
		log_warn("pair %.8s/%.8s: %s", a->fingerprint, b->fingerprint, e->note);
		return;
	}
	P->board = *b;
	fmt(P->board_node, sizeof P->board_node, "%s", node_label(n));
	if ((rc = prepare_dir()) < 0) {
		refuse(e, strerror(-rc));
		return;
	}
	struct spawn_opts o = { .cwd = P->dir, .fd_in = -1, .fd_out = -1, .fd_err = 2,
				.pdeathsig = SIGKILL, .fn = local_child, .arg = P->hubc.path };
	P->pid = spawn_start(&o, NULL);
	if (P->pid < 0) {
		refuse(e, "cannot start the local compiles");
		return;
	}
	e->busy = PAIRS_PROVING;
	P->phase = PR_LOCAL;
	P->t0 = now_us();
	P->nt = P->ndone = 0;
	fmt(e->note, sizeof e->note, "proving %.40s's %s %s (%.8s): compiling the canaries here",
	    P->board_node, b->kind, b->version, b->fingerprint);
	log_info("pair %.8s/%.8s: %s", a->fingerprint, b->fingerprint, e->note);
}

/* The classes of e with a verdict. */
static unsigned proven(const struct pair_entry *e)
{
	unsigned m = 0;
	for (unsigned c = 0; e && c < EQ_NCLASSES; c++)
		if (e->p.state[c] != EQ_UNPROVEN)
			m |= EQ_MASK(c);
	return m;
}

/* A pair due for a proof: a compiler jobs asked for, another build of its
 * release on a board, and a class jobs asked for (base always) that has
 * no verdict yet and no proof running or refused. */
static void start_due(void)
{
	for (size_t a = 0; a < hub.asked.n; a++) {
		const struct compiler_id *w = &hub.asked.a[a].id;
		unsigned want = hub.asked.a[a].classes | EQ_MASK(EQ_BASE);
		for (int i = 0; i < nnodes; i++) {
			const struct node *n = &nodes[i];
			if (!node_up(n))
				continue;
			for (size_t k = 0; k < n->ncompilers; k++) {
				const struct compiler_id *c = &n->compilers[k];
				const struct pair_entry *e;
				if (strcmp(c->kind, w->kind) || strcmp(c->triple, w->triple) ||
				    strcmp(c->version, w->version) ||
				    !strcmp(c->fingerprint, w->fingerprint))
					continue;
				e = pairs_find(&hub.pairs, w->fingerprint, c->fingerprint);
				if ((e && e->busy) || !(want & ~proven(e)))
					continue;
				start(w, c, n, want & ~proven(e));
				if (prove_st.phase != PR_IDLE)
					return;
			}
		}
	}
}

/* The proof ends with canary jobs still out: their slots are free again
 * (a late RESULT of one is then ignored, prove_on_result()). */
static void release_sent(void)
{
	for (size_t i = 0; i < prove_st.nt; i++) {
		struct prove_task *t = &prove_st.t[i];
		if (t->sent && t->node && t->node->running)
			t->node->running--;
		t->sent = false;
		t->node = NULL;
	}
}

static void fail(const char *why)
{
	release_sent();
	refuse(entry(), why);
	log_warn("pair %.8s/%.8s: %s", prove_st.hubc.fingerprint, prove_st.board.fingerprint,
		 entry()->note);
	prove_st.phase = PR_IDLE;
	hub.need_sched = true;
}

void prove_tick(void)
{
	struct prove_state *P = &prove_st;
	int st;
	char p[600];
	struct buf b = BUF_INIT;

	pid_t w;

	if (P->phase != PR_LOCAL || (w = waitpid(P->pid, &st, WNOHANG)) == 0)
		return;
	if (w != P->pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fail("a canary does not build with your compiler");
		return;
	}
	unsigned first = 0;
	while (first < PROVE_SETS && !(P->classes & EQ_MASK(sets[first].cls)))
		first++;
	fmt(p, sizeof p, "%s/%s.%u.o", P->dir, P->canary[0], first);
	if (buf_read_file(&b, p, 16u << 20) < 0 ||
	    equiv_comment_ident(b.data, b.len, P->ident, sizeof P->ident) < 0) {
		buf_free(&b);
		fail("no ident string in your compiler's object");
		return;
	}
	buf_free(&b);
	P->nt = 0;
	for (uint8_t s = 0; s < PROVE_SETS; s++)
		for (uint8_t c = 0; c < P->ncanary && (P->classes & EQ_MASK(sets[s].cls)); c++)
			P->t[P->nt++] = (struct prove_task){ .cls = sets[s].cls, .canary = c, .set = s };
	P->t_local = now_us();
	P->phase = PR_BOARD;
	note_progress();
	hub.need_sched = true;
}

/* ---- the canary jobs ---- */

static int send_task(struct prove_task *t, struct node *n)
{
	struct prove_state *P = &prove_st;
	struct job_spec s;
	struct buf in = BUF_INIT, b = BUF_INIT;
	char p[600], iname[64], oname[64];
	char *args[] = { (char *)sets[t->set].f[0], (char *)sets[t->set].f[1], "-c", "-x",
			 "cpp-output" };
	int rc;

	fmt(iname, sizeof iname, "%s.i", P->canary[t->canary]);
	fmt(oname, sizeof oname, "%s.o", P->canary[t->canary]);
	fmt(p, sizeof p, "%s/%s", P->dir, iname);
	if ((rc = buf_read_file(&in, p, 16u << 20)) < 0)
		return rc;
	memset(&s, 0, sizeof s);
	s.job_id = PROVE_ID_BASE + ++P->seq;
	s.compiler = P->board;
	s.d.args = args;
	s.d.nargs = 5;
	s.d.input = in.data;
	s.d.input_len = in.len;
	s.limits.timeout_ms = hub.job_timeout_s > 0 ? (uint32_t)hub.job_timeout_s * 1000u : 0;
	rc = job_desc_set_names(&s.d, iname, oname, P->dir);
	if (rc == 0)
		rc = job_encode_job(&b, &s);
	if (rc == 0 && !buf_ok(&b))
		rc = -ENOMEM;
	if (rc == 0)
		rc = link_send(n->link, job_stream(s.job_id), b.data, b.len, NULL);
	if (rc == 0) {
		t->sent = true;
		t->node = n;
		t->id = s.job_id;
		n->running++;
		n->bytes_out += b.len;
		log_debug("canary %s %s %s -> %s (job %llu)", iname, sets[t->set].f[0],
			  sets[t->set].f[1], node_label(n), (unsigned long long)s.job_id);
	}
	buf_free(&in);
	buf_free(&b);
	return rc;
}

static bool offers_board(const struct node *n)
{
	for (size_t k = 0; k < n->ncompilers; k++)
		if (compiler_match(&n->compilers[k], &prove_st.board))
			return true;
	return false;
}

/* No board offers the board compiler any more: the classes being proven
 * stay without a verdict (proven again if it comes back); the next due
 * proof may start. */
static void abandon(void)
{
	struct pair_entry *e = entry();
	log_info("pair %.8s/%.8s: no board offers %.8s any more, proof abandoned",
		 prove_st.hubc.fingerprint, prove_st.board.fingerprint, prove_st.board.fingerprint);
	release_sent();
	e->busy = PAIRS_IDLE;
	e->note[0] = 0;
	prove_st.phase = PR_IDLE;
	prove_st.nt = 0;
	hub.need_sched = true;
}

/* user jobs waiting that n could serve: a canary never goes ahead of one */
static unsigned user_waiting(const struct node *n)
{
	unsigned w = 0;
	for (struct job *j = jobs_head; j; j = j->next) {
		const struct pair_entry *pe;
		if (job_waiting(j) && j->cid_ok && node_compiler(n, j, &pe))
			w++;
	}
	return w;
}

void prove_schedule(void)
{
	struct prove_state *P = &prove_st;

	if (!P->state[0])
		return;
	if (P->phase == PR_IDLE)
		start_due();
	if (P->phase != PR_BOARD)
		return;
	bool any = false;
	for (int i = 0; i < nnodes; i++) {
		struct node *n = &nodes[i];
		int k;
		if (!node_up(n) || !n->link || !offers_board(n))
			continue;
		any = true;
		while (n->running < n->slots && (k = prove_pick(P->t, P->nt, user_waiting(n))) >= 0)
			if (send_task(&P->t[k], n) < 0)
				break;
	}
	if (!any)
		abandon();
}

/* ---- results, the verdict ---- */

static void finish(void)
{
	struct prove_state *P = &prove_st;
	struct pair_entry *e = entry();
	char p[600], line[400];
	int rc;

	for (unsigned c = 0; c < EQ_NCLASSES; c++)
		if (P->classes & EQ_MASK(c))
			e->p.state[c] = EQ_UNPROVEN;
	for (size_t i = 0; i < P->nt; i++) {
		uint8_t *s = &e->p.state[P->t[i].cls];
		if (!P->t[i].same)
			*s = EQ_DIFFERS;
		else if (*s == EQ_UNPROVEN)
			*s = EQ_SAME;
	}
	fmt(e->ident, sizeof e->ident, "%s", P->ident);
	e->busy = PAIRS_IDLE;
	e->note[0] = 0;
	P->phase = PR_IDLE;
	hub.need_sched = true;
	(void)pairs_format(e, line, sizeof line);
	/* saved before it is logged: a "proven" line means the file has it */
	fmt(p, sizeof p, "%s/pairs", P->state);
	if ((rc = pairs_save(&hub.pairs, p)) < 0)
		log_warn("%s: %s: proofs kept until hubd stops only", p, strerror(-rc));
	log_info("pair %.8s/%.8s proven on %s in %.1f s (local %.1f s, %zu canary jobs): %s",
		 P->hubc.fingerprint, P->board.fingerprint, P->board_node,
		 (double)(now_us() - P->t0) / 1e6, (double)(P->t_local - P->t0) / 1e6, P->nt, line);
}

/* The board's object of t, with the hub's ident, against the local one. */
static bool same_object(const struct prove_task *t, const struct job_result *r)
{
	struct prove_state *P = &prove_st;
	struct buf local = BUF_INIT, fixed = BUF_INIT;
	char p[600];
	bool same = false;

	fmt(p, sizeof p, "%s/%s.%u.o", P->dir, P->canary[t->canary], (unsigned)t->set);
	if (buf_read_file(&local, p, 16u << 20) == 0 &&
	    equiv_comment_patch(r->o.obj, r->o.obj_len, P->ident, &fixed) == 0)
		same = fixed.len == local.len && !memcmp(fixed.data, local.data, local.len);
	if (!same)
		log_info("pair %.8s/%.8s: canary %s.c with %s %s differs on %s", P->hubc.fingerprint,
			 P->board.fingerprint, P->canary[t->canary], sets[t->set].f[0],
			 sets[t->set].f[1], P->board_node);
	buf_free(&local);
	buf_free(&fixed);
	return same;
}

bool prove_on_result(struct node *n, const struct job_result *r)
{
	struct prove_state *P = &prove_st;
	struct prove_task *t = NULL;

	if (r->job_id < PROVE_ID_BASE)
		return false;
	for (size_t i = 0; P->phase == PR_BOARD && i < P->nt; i++)
		if (P->t[i].sent && P->t[i].id == r->job_id && P->t[i].node == n)
			t = &P->t[i];
	if (!t)
		return true;	/* a canary of a proof that is over */
	if (n->running)
		n->running--;
	t->sent = false;
	t->node = NULL;
	hub.need_sched = true;
	if (r->farm_error) {
		log_warn("canary job %llu on %s: %s", (unsigned long long)r->job_id, node_label(n),
			 r->o.error[0] ? r->o.error : strerror(-r->farm_error));
		if (++t->retries >= PROVE_RETRIES)
			fail("the board could not run the canary jobs");
		return true;
	}
	t->done = true;
	t->same = r->o.status == 0 && same_object(t, r);
	P->ndone++;
	if (P->ndone == P->nt)
		finish();
	else
		note_progress();
	return true;
}

void prove_node_down(struct node *n)
{
	for (size_t i = 0; i < prove_st.nt; i++)
		if (prove_st.t[i].sent && prove_st.t[i].node == n) {
			prove_st.t[i].sent = false;
			prove_st.t[i].node = NULL;
		}
}

const char *prove_local_label(const struct compiler_id *want, char *const *argv, int argc,
			      char *buf, size_t len)
{
	unsigned classes = equiv_classes(argv, argc), cls = EQ_BASE;
	enum pairs_no k = PN_NO_COMPILER;

	/* a pair no proof covers is due now, not after this job: its reason
	 * is then "proving" */
	if (prove_st.state[0] && prove_st.phase == PR_IDLE)
		start_due();
	for (int i = 0; i < nnodes; i++) {
		unsigned c = EQ_BASE;
		enum pairs_no o;
		if (!node_up(&nodes[i]))
			continue;
		o = pairs_no_kind(&hub.pairs, nodes[i].compilers, nodes[i].ncompilers, want, classes, &c);
		if (o == PN_NONE)
			return NULL;	/* busy, not refused */
		if (o == PN_PROVING || (o == PN_UNPROVEN && k != PN_PROVING) ||
		    (o == PN_DIFFERS && k != PN_PROVING && k != PN_UNPROVEN) ||
		    (o == PN_REFUSED && k == PN_NO_COMPILER)) {
			k = o;
			cls = c;
		}
	}
	switch (k) {
	case PN_PROVING:
		fmt(buf, len, "not proven yet (proving)");
		break;
	case PN_UNPROVEN:	/* due: proven when the running proof ends */
		fmt(buf, len, prove_st.state[0] ? "not proven yet (proving)"
						: "not proven (no canary proof)");
		break;
	case PN_DIFFERS:
		fmt(buf, len, "%s code differs on every board", equiv_class_name((enum equiv_class)cls));
		break;
	case PN_REFUSED:
		fmt(buf, len, "not proven: hubd will not prove it");
		break;
	default:
		return NULL;
	}
	return buf;
}
