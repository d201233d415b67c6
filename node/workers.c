/*
 * workers.c — noded's job side (workers.h): JOB → worker process → RESULT,
 * the workers' state machine (its table is in workers.h), CANCEL, the
 * slots' cleaning.
 *
 * Invariants: every JOB gets exactly one answer; a worker's state changes
 * only in worker_set_state(); a worker not IDLE holds a live process (or
 * a zombie) and the read end of its pipe; a slot whose job did not end by
 * itself is cleaned before it takes the next job. The daemon never blocks
 * here except to reap a worker whose pipe has ended (or that it just
 * killed).
 */
#include "workers.h"
#include "exec_job.h"
#include "log.h"
#include "store.h"
#include "tree.h"
#include "../lib/clock.h"
#include "../lib/cursor.h"
#include "../lib/job.h"
#include "../lib/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* What a worker writes: its RESULT (outputs, texts, a tree job's deps and
 * names), then the counts of its store lookups (TRAILER_LEN). */
#define TRAILER_LEN 24
#define RESULT_PIPE_MAX ((size_t)JOB_MAX_OUTPUT * 2 + (size_t)JOB_MAX_TEXT * 3 + \
			 (size_t)JOB_MAX_NAMES * (32 + JOB_INPUT_PATH_MAX + 2) + 4096 + TRAILER_LEN)

_Static_assert(EXEC_CWD_MAX == JOB_CWD_MAX, "exec and job agree on the hub cwd cap");

struct worker {
	enum worker_state state;
	uint64_t job_id;
	pid_t pid;
	int fd;			/* read end of the result pipe */
	struct buf res;
	uint64_t t_start;
	bool travel;		/* the tree holds the hub's toolchain */
	uint8_t pack[32];	/* its key (pack_key) */
};

/* Travelling toolchains this node checked (pack_key: its entries and the
 * identity the job named), the newest last; a worker forked after a
 * check sees it, so later jobs of that pack skip the check. */
#define PACKS_KNOWN 64
static struct {
	uint8_t key[PACKS_KNOWN][32];
	size_t n, next;
	uint64_t verified, refused;
} P;

static struct {
	const struct workers_cfg *cfg;
	struct link *link;
	struct worker *w;
	uint64_t workers_done, workers_refused;
	uint64_t store_hits, store_misses, store_corrupt;	/* the workers' */
	struct tree_dict *dict;	/* the board's input table (tree.h) */
} S;

static const char *const state_name[] = { "idle", "running", "killed" };
static const char *const event_name[] = {
	"start", "exited", "cancel", "link lost", "result too big", "out of memory",
	"shutdown",
};

static int slot_of(const struct worker *w)
{
	return (int)(w - S.w);
}

/* The one place a worker's state changes. */
static void worker_set_state(struct worker *w, enum worker_state to, enum worker_event ev)
{
	log_debug("job %llu: slot %d: %s -> %s (%s)", (unsigned long long)w->job_id, slot_of(w),
		  state_name[w->state], state_name[to], event_name[ev]);
	w->state = to;
}

void workers_set_link(struct link *l)
{
	S.link = l;
}

void workers_send(uint64_t job_id, struct buf *b)
{
	int rc;

	if (!S.link)
		return;
	if (!buf_ok(b)) {
		log_warn("job %llu: out of memory encoding a message", (unsigned long long)job_id);
		return;
	}
	rc = link_send(S.link, job_id ? job_stream(job_id) : 0, b->data, b->len, NULL);
	if (rc < 0)
		log_warn("job %llu: cannot send: %s", (unsigned long long)job_id, strerror(-rc));
}

static void send_farm_error(uint64_t job_id, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void send_farm_error(uint64_t job_id, int err, const char *fmt, ...)
{
	struct job_result r;
	struct buf b = BUF_INIT;
	va_list ap;

	memset(&r, 0, sizeof r);
	r.job_id = job_id;
	r.farm_error = err < 0 ? err : -EIO;
	va_start(ap, fmt);
	vsnprintf(r.o.error, sizeof r.o.error, fmt, ap);
	va_end(ap);
	log_info("job %llu refused: %s", (unsigned long long)job_id, r.o.error);
	S.workers_refused++;
	job_encode_result(&b, &r);
	workers_send(job_id, &b);
	buf_free(&b);
}

void workers_slot_dir(int slot, char *p, size_t len)
{
	snprintf(p, len, "%s/%d", S.cfg->sl.root, slot);
}

/* After a job that did not end by itself: no process of the slot's uid
 * and nothing in its dir is left. */
static void slot_clean(int slot)
{
	char p[4200];
	int fd;
	unsigned k = geteuid() == 0 ? slots_kill_uids(slots_uid(&S.cfg->sl, slot), 1) : 0;
	unsigned n;

	workers_slot_dir(slot, p, sizeof p);
	fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	n = fd >= 0 ? slots_empty_dir(fd) : 0;
	if (fd >= 0)
		close(fd);
	if (k || n)
		log_info("slot %d: ended %u process(es), removed %u entr%s", slot, k, n,
			 n == 1 ? "y" : "ies");
}

/* ---- in the worker ------------------------------------------------------- */

/* min(the hub's request, our ceiling); 0 asks for the ceiling. */
static uint64_t eff(uint64_t req, uint64_t ceiling)
{
	return req && req < ceiling ? req : ceiling;
}

/* The executor's job: the hub's description within this node's ceilings,
 * in the slot's dir, as the slot's uid. */
static void exec_job_of(const struct job_spec *s, const struct compiler_id *cc, int slot,
			char *dir, size_t dlen, struct exec_job *ej)
{
	const struct workers_cfg *c = S.cfg;

	memset(ej, 0, sizeof *ej);
	ej->compiler = cc->path;
	exec_job_from_desc(ej, &s->d);	/* its cwd absolute, checked by job_decode_job */
	workers_slot_dir(slot, dir, dlen);
	ej->tmp_root = dir;
	ej->limits.cpu_s = (uint32_t)eff(s->limits.cpu_s, c->ceil.cpu_s);
	ej->limits.mem_bytes = eff(s->limits.mem_bytes, c->ceil.mem_bytes);
	ej->limits.out_bytes = eff(s->limits.out_bytes, JOB_MAX_OUTPUT);
	ej->limits.timeout_ms = (uint32_t)eff(s->limits.timeout_ms, c->ceil.timeout_ms);
	ej->limits.nproc = c->ceil.nproc;
	ej->limits.nofile = c->ceil.nofile;
	if (geteuid() == 0)
		ej->limits.uid = ej->limits.gid = slots_uid(&c->sl, slot);
	ej->launch = c->launch;
}

/* ---- travelling toolchains ---------------------------------------------- */

/* The key of a job's toolchain: its entries (path, kind, hash and mode or
 * target) and the identity the job names for it. */
static void pack_key(const struct job_spec *s, uint8_t key[32])
{
	struct sha256 h;
	uint8_t k;

	sha256_init(&h);
	sha256_update(&h, s->compiler.kind, strlen(s->compiler.kind) + 1);
	sha256_update(&h, s->compiler.triple, strlen(s->compiler.triple) + 1);
	sha256_update(&h, s->compiler.version, strlen(s->compiler.version) + 1);
	sha256_update(&h, s->compiler.fingerprint, strlen(s->compiler.fingerprint) + 1);
	for (size_t i = s->t.nin - s->t.toolchain_n; i < s->t.nin; i++) {
		const struct job_input *in = &s->t.in[i];
		k = in->kind;
		sha256_update(&h, &k, 1);
		sha256_update(&h, in->path, in->path_len);
		sha256_update(&h, "", 1);
		if (in->kind == JOB_IN_FILE) {
			sha256_update(&h, in->hash, 32);
			sha256_update(&h, &in->mode, sizeof in->mode);
		} else if (in->kind == JOB_IN_LINK) {
			sha256_update(&h, in->target, in->target_len);
			sha256_update(&h, "", 1);
		}
	}
	sha256_final(&h, key);
}

static bool pack_known(const uint8_t key[32])
{
	for (size_t i = 0; i < P.n; i++)
		if (!memcmp(P.key[i], key, 32))
			return true;
	return false;
}

/* A travelling job's answer: a compile that ran proves its pack. */
static void pack_answered(const struct worker *w, const struct job_result *r)
{
	if (!w->travel)
		return;
	if (r->farm_error == 0 && !pack_known(w->pack)) {
		memcpy(P.key[P.next], w->pack, 32);
		P.next = (P.next + 1) % PACKS_KNOWN;
		if (P.n < PACKS_KNOWN)
			P.n++;
		P.verified++;
		log_info("job %llu: the hub's toolchain in its tree is the job's compiler: "
			 "verified (%llu so far)", (unsigned long long)w->job_id,
			 (unsigned long long)P.verified);
	} else if (r->farm_error == -EPERM && !strncmp(r->o.error, "toolchain refused", 17)) {
		P.refused++;
		log_warn("job %llu: %s (%llu refused so far)", (unsigned long long)w->job_id,
			 r->o.error, (unsigned long long)P.refused);
	}
}

/* The compiler of a travelling job: the identity it names, run by the
 * tree's driver (the first of its toolchain entries). NULL: too long. */
static const struct compiler_id *travel_compiler(const struct job_spec *s)
{
	static struct compiler_id tc;
	const struct job_input *d = &s->t.in[s->t.nin - s->t.toolchain_n];

	if (d->path_len >= sizeof tc.path)
		return NULL;
	tc = s->compiler;
	memcpy(tc.path, d->path, d->path_len);
	tc.path[d->path_len] = 0;
	return &tc;
}

/* A tree job in the worker: its own store handle (store.h: one per
 * process, opened after fork), the manifest, the executor. 0 (er set) or
 * a farm error already in er. */
static void run_tree(const struct job_spec *s, const struct compiler_id *cc,
		     struct exec_job *ej, struct exec_result *er, struct store_stats *ss)
{
	const struct workers_tree *wt = &S.cfg->tree;
	struct store_cfg sc = { .dir = wt->store_dir, .cap_bytes = wt->store_cap,
				.lookup_only = true };
	struct exec_tree et = { .deps_name = s->t.deps_name, .complete = s->t.complete };
	struct store *st = NULL;
	struct manifest m;
	char why[256] = "";
	int rc = store_open(&sc, &st);

	memset(er, 0, sizeof *er);
	if (rc) {
		er->farm_error = rc;
		snprintf(er->error, sizeof er->error, "store %s: %s", wt->store_dir, strerror(-rc));
		return;
	}
	if ((rc = tree_wire_manifest(&s->t, &m, why, sizeof why)) == 0) {
		et.store = st;
		et.m = &m;
		if (s->t.toolchain_n) {	/* the hub's toolchain: none of ours */
			uint8_t key[32];
			pack_key(s, key);
			et.ro_paths = "";
			et.travel = &s->compiler;
			et.travel_verified = pack_known(key);
		} else {
			et.ro_paths = wt->ro_paths[cc - S.cfg->compilers];
		}
		ej->tree = &et;
		exec_run(ej, er);
		manifest_free(&m);
		if (er->tree_us)
			log_debug("job %llu: tree built in %llu us", (unsigned long long)s->job_id,
				  (unsigned long long)er->tree_us);
	} else {
		er->farm_error = rc == -ENOMEM ? -ENOMEM : -EINVAL;
		snprintf(er->error, sizeof er->error, "refused: %.200s", why);
	}
	store_stats(st, ss);
	store_close(st);
}

/* The worker's answer: er as a RESULT (or why it cannot be one). */
static void encode_answer(const struct job_spec *s, struct exec_result *er, uint64_t t0,
			  struct buf *b)
{
	struct job_result r;

	memset(&r, 0, sizeof r);
	r.job_id = s->job_id;
	r.farm_error = er->farm_error > 0 ? -er->farm_error : er->farm_error;
	exec_outcome(er, &r.o);
	r.o.status = er->status < 0 || er->status > 255 ? 255 : er->status;
	r.o.dep = er->dep.data;
	r.o.dep_len = er->dep.len;
	r.missing = er->missing;
	r.nmissing = er->nmissing;
	r.unsent = er->unsent;
	r.nunsent = er->nunsent;
	r.node_us = now_us() - t0;
	/* the .d against the job's own inputs (lib/job.h), as the hub has
	 * them: not the hub's toolchain, the last toolchain_n */
	if (s->tree)
		(void)job_result_pack_dep(&r, s->t.in, s->t.nin - s->t.toolchain_n, s->d.cwd);
	int rc = job_encode_result(b, &r);
	free(r.dep_buf);
	if (rc < 0) {
		struct job_result f;
		memset(&f, 0, sizeof f);
		f.job_id = s->job_id;
		f.farm_error = -E2BIG;
		snprintf(f.o.error, sizeof f.o.error, "outputs over the protocol's caps");
		buf_free(b);
		job_encode_result(b, &f);
	}
}

/* Runs the job, writes the encoded RESULT and the store counts to wfd,
 * exits. */
static void __attribute__((noreturn)) worker_main(int wfd, const struct job_spec *s,
						   const struct compiler_id *cc, uint64_t t0,
						   int slot)
{
	char dir[4200];
	struct exec_job ej;
	struct exec_result er;
	struct store_stats ss;
	struct buf b = BUF_INIT;

	memset(&ss, 0, sizeof ss);
	exec_job_of(s, cc, slot, dir, sizeof dir, &ej);
	if (s->tree)
		run_tree(s, cc, &ej, &er, &ss);
	else
		exec_run(&ej, &er);
	encode_answer(s, &er, t0, &b);
	buf_u64(&b, ss.hits);
	buf_u64(&b, ss.misses);
	buf_u64(&b, ss.corrupt);
	if (!buf_ok(&b) || write_full(wfd, b.data, b.len) < 0)
		_exit(2);
	_exit(0);
}

/* ---- starting a job ------------------------------------------------------ */

static const struct compiler_id *find_compiler(const struct compiler_id *want)
{
	for (size_t i = 0; i < S.cfg->ncompilers; i++)
		if (compiler_match(&S.cfg->compilers[i], want))
			return &S.cfg->compilers[i];
	return NULL;
}

/* The compiler and an idle worker for s, or NULL (the job refused). */
static struct worker *admit(const struct job_spec *s, const struct compiler_id **cc)
{
	const struct workers_cfg *c = S.cfg;
	struct worker *w = NULL;

	if (c->refuse[0]) {
		send_farm_error(s->job_id, -EPERM, "%s", c->refuse);
		return NULL;
	}
	*cc = s->tree && s->t.toolchain_n ? travel_compiler(s) : find_compiler(&s->compiler);
	if (!*cc) {
		char d[160];
		compiler_describe(&s->compiler, d, sizeof d);
		send_farm_error(s->job_id, -ENOENT, "no compiler %s on this node", d);
		return NULL;
	}
	for (int i = 0; i < c->slots; i++)
		if (S.w[i].state != WORKER_IDLE && S.w[i].job_id == s->job_id) {
			send_farm_error(s->job_id, -EEXIST, "job already running");
			return NULL;
		}
	for (int i = 0; i < c->slots && !w; i++)
		if (S.w[i].state == WORKER_IDLE)
			w = &S.w[i];
	if (!w)
		send_farm_error(s->job_id, -EBUSY, "all %d slots busy", c->slots);
	return w;
}

/* Forks w's process for s (IDLE → RUNNING), or answers why not. */
static void worker_start(struct worker *w, const struct job_spec *s,
			 const struct compiler_id *cc, uint64_t t0)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		send_farm_error(s->job_id, -errno, "pipe: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid < 0) {
		send_farm_error(s->job_id, -errno, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		pid_t parent = getppid();
		setpgid(0, 0);
		/* the worker, and through it the job, dies with noded */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		close(p[0]);
		worker_main(p[1], s, cc, t0, slot_of(w));
	}
	setpgid(pid, pid);
	close(p[1]);
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	memset(w, 0, sizeof *w);
	w->job_id = s->job_id;
	w->pid = pid;
	w->fd = p[0];
	w->t_start = t0;
	w->travel = s->tree && s->t.toolchain_n;
	if (w->travel)
		pack_key(s, w->pack);
	worker_set_state(w, WORKER_RUNNING, WEV_START);
	log_debug("job %llu: started (pid %d, %zu bytes, %s)", (unsigned long long)s->job_id,
		  (int)pid, s->d.input_len, s->d.input_name);
}

/* A tree job on receipt, in noded's own process: refused where tree jobs
 * are not taken; its carried blobs into the store (before it waits for a
 * slot), each checked against its name; its inputs named by table ids
 * made whole (tree.h, tree_wire_resolve). false: answered. */
static bool tree_receive(struct job_spec *s)
{
	const struct workers_tree *wt = &S.cfg->tree;
	char why[200];
	int rc;

	if (!wt->on) {
		send_farm_error(s->job_id, -EPERM, "this node takes no tree jobs");
		return false;
	}
	uint64_t t0 = now_us();
	rc = tree_wire_put_blobs(wt->store, &s->t, why, sizeof why);
	if (rc == 0 && !S.dict && !(S.dict = tree_dict_new())) {
		rc = -ENOMEM;
		snprintf(why, sizeof why, "no memory for the input table");
	}
	if (rc == 0)
		rc = tree_wire_resolve(S.dict, &s->t, why, sizeof why);
	if (rc) {
		send_farm_error(s->job_id, rc, "%s", why);
		return false;
	}
	log_debug("job %llu: tree of %zu inputs, %zu blob(s) stored in %llu us",
		  (unsigned long long)s->job_id, s->t.nin, s->t.nblob,
		  (unsigned long long)(now_us() - t0));
	return true;
}

static void start_job(uint8_t *data, size_t len)
{
	struct job_spec s;
	const struct compiler_id *cc = NULL;
	struct worker *w;
	uint64_t t0 = now_us();
	int rc = job_decode_job(data, len, &s);

	if (rc < 0) {
		/* The id is the first field after the header; answer if readable. */
		struct cursor c = cur_init(data, len);
		cur_u16(&c);
		uint64_t id = cur_u64(&c);
		log_warn("malformed JOB (%zu bytes): %s", len, strerror(-rc));
		if (!c.err)
			send_farm_error(id, -EPROTO, "malformed job");
		return;
	}
	if (s.tree && !tree_receive(&s)) {
		job_spec_free(&s);
		return;
	}
	w = admit(&s, &cc);
	if (w && s.tree && !s.t.toolchain_n && !S.cfg->tree.ro_paths[cc - S.cfg->compilers]) {
		send_farm_error(s.job_id, -EPERM, "compiler %s takes no tree jobs here", cc->path);
		w = NULL;
	}
	if (w)
		worker_start(w, &s, cc, t0);
	job_spec_free(&s);
}

/* ---- a worker's end -------------------------------------------------------- */

static void worker_kill(struct worker *w, enum worker_event ev)
{
	if (w->state == WORKER_IDLE)
		return;
	kill(-w->pid, SIGKILL);
	kill(w->pid, SIGKILL);
	worker_set_state(w, WORKER_KILLED, ev);
}

/* The answer of a worker that exited by itself: its RESULT, or why not. */
static void answer(struct worker *w, int st)
{
	enum job_msg_type t;
	struct job_result r;

	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && w->res.len >= TRAILER_LEN) {
		struct cursor c = cur_init(w->res.data + w->res.len - TRAILER_LEN, TRAILER_LEN);
		S.store_hits += cur_u64(&c);
		S.store_misses += cur_u64(&c);
		S.store_corrupt += cur_u64(&c);
		w->res.len -= TRAILER_LEN;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    job_peek_type(w->res.data, w->res.len, &t) == 0 && t == JOB_MSG_RESULT &&
	    job_decode_result(w->res.data, w->res.len, &r) == 0 && r.job_id == w->job_id) {
		S.workers_done++;
		log_debug("job %llu: done, status %d, %zu-byte object, %llu ms",
			  (unsigned long long)w->job_id, r.o.status, r.o.obj_len,
			  (unsigned long long)((now_us() - w->t_start) / 1000));
		if (r.farm_error)
			log_info("job %llu: not run: %s", (unsigned long long)w->job_id, r.o.error);
		pack_answered(w, &r);
		job_result_free(&r);
		workers_send(w->job_id, &w->res);
		return;
	}
	send_farm_error(w->job_id, -EIO, "worker died (%s %d)",
			WIFSIGNALED(st) ? "signal" : "exit",
			WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

/* Reaps the worker (its pipe ended, or it was just killed), answers as
 * ev says, cleans the slot when the job did not end by itself: → IDLE. */
static void worker_end(struct worker *w, enum worker_event ev)
{
	int st = 0;
	bool killed = w->state == WORKER_KILLED;

	while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
		;
	/* The compiler may have left grandchildren: the group goes. */
	kill(-w->pid, SIGKILL);
	close(w->fd);
	if (killed || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		slot_clean(slot_of(w));
	if (ev == WEV_TOO_BIG)
		send_farm_error(w->job_id, -EIO, "worker died (%s %d)",
				WIFSIGNALED(st) ? "signal" : "exit",
				WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	else if (ev == WEV_SHUTDOWN)
		;	/* noded stops: the hub retries elsewhere */
	else if (killed && S.link && link_state(S.link) == LINK_UP)
		send_farm_error(w->job_id, -ECANCELED, "cancelled");
	else if (!killed)
		answer(w, st);
	buf_free(&w->res);
	worker_set_state(w, WORKER_IDLE, ev);
	memset(w, 0, sizeof *w);
	w->fd = -1;
}

void workers_readable(int slot)
{
	struct worker *w = &S.w[slot];

	while (w->state != WORKER_IDLE) {
		if (buf_reserve(&w->res, 1 << 16) < 0) {
			worker_kill(w, WEV_NOMEM);
			worker_end(w, WEV_NOMEM);
			return;
		}
		ssize_t r = read(w->fd, w->res.data + w->res.len, w->res.cap - w->res.len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			worker_end(w, WEV_EXITED);
			return;
		}
		w->res.len += (size_t)r;
		if (w->res.len > RESULT_PIPE_MAX) {
			worker_kill(w, WEV_TOO_BIG);
			worker_end(w, WEV_TOO_BIG);
			return;
		}
	}
}

/* ---- the daemon's side ----------------------------------------------------- */

void workers_init(const struct workers_cfg *cfg)
{
	S.cfg = cfg;
	S.w = calloc((size_t)cfg->slots, sizeof *S.w);
	if (!S.w)
		fatal("out of memory");
	for (int i = 0; i < cfg->slots; i++)
		S.w[i].fd = -1;
}

void workers_message(uint8_t *data, size_t len)
{
	enum job_msg_type t;
	uint64_t id;

	if (job_peek_type(data, len, &t) < 0) {
		log_warn("unknown message (%zu bytes) dropped", len);
	} else if (t == JOB_MSG_JOB) {
		start_job(data, len);
	} else if (t == JOB_MSG_CANCEL) {
		if (job_decode_cancel(data, len, &id) < 0)
			return;
		for (int i = 0; i < S.cfg->slots; i++)
			if (S.w[i].state == WORKER_RUNNING && S.w[i].job_id == id) {
				log_debug("job %llu: cancelled", (unsigned long long)id);
				worker_kill(&S.w[i], WEV_CANCEL);
			}
	} else {
		log_warn("unexpected message type %d dropped", t);
	}
}

void workers_store_counts(uint64_t *hits, uint64_t *misses, uint64_t *corrupt)
{
	*hits = S.store_hits;
	*misses = S.store_misses;
	*corrupt = S.store_corrupt;
}

void workers_kill_all(enum worker_event ev)
{
	for (int i = 0; i < S.cfg->slots; i++)
		worker_kill(&S.w[i], ev);
}

int workers_running(void)
{
	int r = 0;

	for (int i = 0; i < S.cfg->slots; i++)
		r += S.w[i].state != WORKER_IDLE;
	return r;
}

size_t workers_pollfds(struct pollfd *pfd, int *idx)
{
	size_t n = 0;

	for (int i = 0; i < S.cfg->slots; i++)
		if (S.w[i].state != WORKER_IDLE) {
			pfd[n] = (struct pollfd){ S.w[i].fd, POLLIN, 0 };
			idx[n++] = i;
		}
	return n;
}

void workers_shutdown(void)
{
	for (int i = 0; i < S.cfg->slots; i++)
		if (S.w[i].state != WORKER_IDLE) {
			worker_kill(&S.w[i], WEV_SHUTDOWN);
			worker_end(&S.w[i], WEV_SHUTDOWN);
		}
	free(S.w);
	S.w = NULL;
	tree_dict_free(S.dict);
	S.dict = NULL;
}
