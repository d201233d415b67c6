/*
 * hubd.c — the dispatcher: one poll loop owning the node links and the unix
 * socket that dcc and hubctl talk to.
 *
 * Jobs arrive from dcc (SUBMIT), wait in one FIFO queue, and leave it to a
 * node (JOB over the node's link), to a local slot (ANSWER HUB_LOCAL; dcc
 * compiles and holds the slot until it closes the connection) or as
 * HUB_FAILED (dcc compiles locally, unaccounted). Policy, in order:
 *   1. a node with a free slot that offers the job's compiler (identity
 *      match), has not failed this job and is not backed off, best by
 *      sched_pick() (schedule.h: a much slower board waits for a fast slot);
 *   2. else a free local slot;
 *   3. else wait. A job no node could ever take (no node up offers its
 *      compiler) waits only for a local slot, and fails at once when there
 *      are no local slots (--local-slots 0) or when it already failed on a
 *      node and no other node can take it.
 * A farm-side failure (link down, node restarted, RESULT with farm_error)
 * sends the job back to the head of the queue, excluded from the nodes that
 * failed it, at most --retries times; then HUB_FAILED. Failover rules
 * (failover.h, hooks in the "failover" section below): a per-job deadline
 * from the node's measured speed and the job's size (--job-timeout is its
 * cap); a miss backs the node off and starts a second copy elsewhere or
 * hands the job back to dcc; node-side errors back the node off without
 * spending the job's retries; near the end of a build, stragglers on slow
 * nodes get backup copies on fast ones. First result wins; the other copy
 * is cancelled and its slot counted until its RESULT comes.
 * A dcc that goes away cancels its job (CANCEL to the node; the slot stays
 * taken until the node's RESULT for it, so the node is never oversubscribed).
 */
#include "admit.h"
#include "client.h"
#include "guard.h"
#include "ident.h"
#include "log.h"
#include "privsep.h"
#include "proto.h"
#include "schedule.h"
#include "failover.h"
#include "reasons.h"
#include "verify.h"
#include "pairs.h"

#include "../lib/compiler.h"
#include "../lib/ifwatch.h"
#include "enroll.h"
#include "../lib/job.h"
#include "../lib/link.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_NODES 64
#define RELINK_MS 2000

/* ---- state ---- */

enum node_state { NODE_NOLINK, NODE_HELLO, NODE_UP };

struct node {
	int idx;
	char iface[32];
	struct link *link;
	enum node_state state;
	uint64_t relink_at;	/* when to retry opening the interface */
	char peer[LINK_IDENT_MAX];
	char name[JOB_NODE_NAME_MAX];
	uint64_t epoch;
	uint16_t slots, running;
	struct compiler_id *compilers;
	size_t ncompilers;
	struct job_telemetry tele;
	bool has_tele;
	uint64_t jobs_done, jobs_failed, bytes_out, bytes_in, sessions;
	uint64_t carrier_losses;	/* sessions ended at once by netlink */
	double speed;		/* EWMA input bytes/us; 0 unknown */
	uint64_t last_dispatch;
	struct fo_node fo;	/* deadlines, backoff (failover.h) */
};

enum job_state { J_IDENT, J_QUEUED, J_RUNNING, J_CANCELLING };

struct conn;

struct job {
	uint64_t id;
	struct conn *conn;	/* NULL once the client left */
	uint8_t *frame;		/* the SUBMIT payload; sub points into it */
	size_t held;		/* bytes of it counted by guard_hold() */
	struct proto_submit sub;
	struct compiler_id cid;
	bool cid_ok;
	const struct pair_entry *pair;	/* sent under a proven pair (hub/pairs.h) */
	enum job_state state;
	struct node *node;
	uint64_t tried;		/* bit per node index that failed it */
	int attempts;		/* farm-side failures so far */
	uint64_t t_submit, t_dispatch, deadline;
	/* failover: a second copy on another node (first result wins) */
	struct node *copy;
	uint64_t copy_dispatch, copy_deadline, t_first;
	int node_faults, misses;
	bool copied;		/* a copy was started (for the recovery figure) */
	char why[200];		/* last farm-side error */
	struct job *prev, *next;	/* all jobs */
};

enum conn_state { C_READ, C_WAIT, C_WRITE, C_LOCAL, C_CLOSE };

struct conn {
	int fd;
	enum conn_state state;
	uint8_t hdr[4];
	size_t hdr_got;
	uint8_t *frame;
	size_t frame_len, frame_got, frame_cap;	/* frame_cap: allocated and held */
	struct buf out;
	size_t out_off;
	uint64_t last_io;	/* last progress reading or writing (idle cap) */
	uint64_t next_ka;	/* C_WAIT: when the next keepalive is due */
	size_t ka_left;		/* bytes of a keepalive frame still to write */
	bool hold_local;	/* after the answer is written: hold a local slot */
	struct job *job;
	struct conn *next;
};

static struct {
	/* options */
	char socket_path[256];
	int local_slots;
	int job_timeout_s;
	int retries;
	int verbose;
	/* runtime */
	struct node nodes[MAX_NODES];
	int nnodes;
	int listen_fd;
	struct conn *conns;
	struct job *jobs;	/* all live jobs */
	uint64_t next_job_id;
	int local_used;
	uint64_t started;
	uint64_t jobs_total, jobs_remote, jobs_local, jobs_failed, jobs_retried;
	bool need_sched;
	size_t nconns;
	struct fo_counters fo;
	uint64_t fo_tick_at;
	char ident[LINK_IDENT_MAX];
	struct ifwatch *ifw;	/* carrier and hot-unplug events; NULL if netlink is unavailable */
} H;

static struct pairs PAIRS;	/* --pairs FILE (hub/pairs.h) */
static struct pairs_seen ASKED;	/* compilers jobs asked for, for hubctl status */

static volatile sig_atomic_t stop_signal;

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static const char *node_label(const struct node *n)
{
	return n->iface;
}

/* ---- answers to clients ---- */

static void conn_flush(struct conn *c);

static void conn_answer(struct conn *c, const struct proto_answer *a)
{
	struct buf ans = BUF_INIT;

	if (proto_encode_answer(&ans, a) < 0) {
		/* An output over a cap, or no memory: the client compiles locally. */
		struct proto_answer f = { .outcome = HUB_FAILED };
		snprintf(f.error, sizeof f.error, "result too large for the local protocol");
		buf_free(&ans);
		if (proto_encode_answer(&ans, &f) < 0) {
			c->state = C_CLOSE;
			return;
		}
	}
	if (c->out_off < c->out.len) {
		/* the rest of a keepalive goes first */
		struct buf both = BUF_INIT;
		buf_put(&both, c->out.data + c->out_off, c->out.len - c->out_off);
		buf_put(&both, ans.data, ans.len);
		buf_free(&ans);
		if (!buf_ok(&both)) {
			buf_free(&both);
			c->state = C_CLOSE;
			return;
		}
		ans = both;
	}
	buf_free(&c->out);
	c->out = ans;
	c->out_off = 0;
	c->hold_local = a->outcome == HUB_LOCAL;
	c->state = C_WRITE;
	conn_flush(c);
}

static void job_unlink_free(struct job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		H.jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	if (j->conn)
		j->conn->job = NULL;
	proto_submit_free(&j->sub);
	free(j->frame);
	guard_release(j->held);
	free(j);
}

/* Answers the job's client (if still there) and forgets the job. */
static void job_finish(struct job *j, const struct proto_answer *a)
{
	if (j->conn && j->conn->state == C_WAIT)
		conn_answer(j->conn, a);
	job_unlink_free(j);
}

/* A job that had trouble on a node (retried, missed, copied) is done or
 * handed back: how long since its first dispatch (hubctl's recovery). */
static void fo_recovered(const struct job *j, uint64_t now)
{
	if ((j->attempts || j->node_faults || j->misses || j->copied) && j->t_first &&
	    now - j->t_first > H.fo.recovery_us_max)
		H.fo.recovery_us_max = now - j->t_first;
}

static void job_fail(struct job *j, const char *why)
{
	fo_recovered(j, now_us());
	struct proto_answer a = { .outcome = HUB_FAILED };
	snprintf(a.error, sizeof a.error, "%s", why);
	a.queue_us = now_us() - j->t_submit;
	a.total_us = a.queue_us;
	H.jobs_failed++;
	reasons_hub_failed(why);
	log_info("job %llu (%s): failed on the farm, compiled locally: %s",
		 (unsigned long long)j->id, j->sub.source[0] ? j->sub.source : j->sub.input_name,
		 why);
	job_finish(j, &a);
}

/* ---- nodes and jobs ---- */

/* Once per compiler jobs ask for (and per new flag class): which boards
 * serve it, and why the others do not (hub/pairs.c). */
static void log_verdicts(const struct compiler_id *id)
{
	char d[100], v[260];
	compiler_describe(id, d, sizeof d);
	for (size_t a = 0; a < ASKED.n; a++) {
		if (!compiler_match(&ASKED.a[a].id, id))
			continue;
		for (int i = 0; i < H.nnodes; i++)
			if (H.nodes[i].state == NODE_UP) {
				pairs_verdict(&PAIRS, &ASKED.a[a], H.nodes[i].compilers,
					      H.nodes[i].ncompilers, v, sizeof v);
				log_info("%s: %s %s", d, node_label(&H.nodes[i]), v);
			}
	}
}

/* The node's compiler for this job: its very identity, or one of a proven
 * pair for the job's flag classes (hub/pairs.c). NULL: none. */
static const struct compiler_id *node_compiler(const struct node *n, const struct job *j,
					       const struct pair_entry **pe)
{
	const struct compiler_id *u;
	if (pairs_pick(&PAIRS, n->compilers, n->ncompilers, &j->cid, j->sub.args, j->sub.nargs,
		       &u, pe, NULL, 0) == PAIRS_NO)
		return NULL;
	return u;
}

/* Whether n serves j: a compiler for it, not quarantined for the job's
 * compiler by a verification mismatch (hub/verify.c). */
static bool node_has(const struct node *n, const struct job *j)
{
	const struct pair_entry *pe;
	return node_compiler(n, j, &pe) != NULL &&
	       !verify_quarantined(n->name[0] ? n->name : n->peer, &j->cid);
}

/* Could any node (now up) ever take this job? */
static bool job_farmable(const struct job *j)
{
	if (!j->cid_ok)
		return false;
	for (int i = 0; i < H.nnodes; i++) {
		const struct node *n = &H.nodes[i];
		if (n->state == NODE_UP && n->slots && !(j->tried & (1ull << i)) &&
		    node_has(n, j))
			return true;
	}
	return false;
}

static bool copy_promote(struct job *j);

/* Sends the job back to the queue after a farm-side failure on its node
 * (cls: failover.h; FO_NODE spends no retry, FO_LOCAL goes to dcc now). */
static void job_requeue(struct job *j, const char *why, enum fo_class cls)
{
	struct node *n = j->node;

	if (n) {
		if (n->running)
			n->running--;
		j->tried |= 1ull << n->idx;
		n->jobs_failed++;
	}
	j->node = NULL;
	snprintf(j->why, sizeof j->why, "%.31s: %.160s", n ? node_label(n) : "?", why);
	if (j->state == J_CANCELLING || !j->conn) {
		job_unlink_free(j);
		H.need_sched = true;
		return;
	}
	if (copy_promote(j))
		return;
	if (cls == FO_LOCAL) {
		H.fo.fallbacks++;
		job_fail(j, j->why);
		H.need_sched = true;
		return;
	}
	if (cls != FO_NODE || ++j->node_faults > FO_MAX_NODE_FAULTS)
		j->attempts++;
	if (j->attempts > H.retries) {
		job_fail(j, j->why);
		H.need_sched = true;
		return;
	}
	log_info("job %llu: retrying (%d/%d) after %s", (unsigned long long)j->id, j->attempts,
		 H.retries, j->why);
	H.jobs_retried++;
	j->state = J_QUEUED;
	j->deadline = 0;
	/* Back to the head of the queue: it waited its turn already. */
	j->t_submit = j->t_submit ? j->t_submit : now_us();
	if (j->prev) {
		j->prev->next = j->next;
		if (j->next)
			j->next->prev = j->prev;
		j->prev = NULL;
		j->next = H.jobs;
		H.jobs->prev = j;
		H.jobs = j;
	}
	H.need_sched = true;
}

static void job_retry(struct job *j, const char *why)
{
	job_requeue(j, why, FO_RETRY);
}

static void send_cancel(struct node *n, uint64_t id)
{
	struct buf b = BUF_INIT;
	job_encode_cancel(&b, id);
	if (n->link && buf_ok(&b))
		(void)link_send(n->link, job_stream(id), b.data, b.len, NULL);
	buf_free(&b);
}

/* Sends the job to n (JOB message); no bookkeeping. */
static int job_send(struct job *j, struct node *n)
{
	struct job_spec s;
	struct buf b = BUF_INIT;
	int rc;

	memset(&s, 0, sizeof s);
	s.job_id = j->id;
	{
		const struct compiler_id *u = node_compiler(n, j, &j->pair);
		s.compiler = u ? *u : j->cid;
	}
	s.args = j->sub.args;
	s.nargs = j->sub.nargs;
	snprintf(s.input_name, sizeof s.input_name, "%s", j->sub.input_name);
	snprintf(s.output_name, sizeof s.output_name, "%s", j->sub.output_name);
	snprintf(s.hub_cwd, sizeof s.hub_cwd, "%s", j->sub.cwd);
	s.input = j->sub.input;
	s.input_len = j->sub.input_len;
	s.want_dwo = j->sub.want_dwo;
	s.limits.timeout_ms = H.job_timeout_s > 0 ? (uint32_t)H.job_timeout_s * 1000u : 0;
	rc = job_encode_job(&b, &s);
	if (rc == 0 && !buf_ok(&b))
		rc = -ENOMEM;
	if (rc == 0)
		rc = link_send(n->link, job_stream(j->id), b.data, b.len, NULL);
	if (rc == 0)
		n->bytes_out += b.len;
	buf_free(&b);
	return rc;
}

static uint64_t job_deadline(const struct job *j, const struct node *n, uint64_t now);

static int job_dispatch(struct job *j, struct node *n)
{
	int rc = job_send(j, n);
	if (rc < 0)
		return rc;
	j->state = J_RUNNING;
	j->node = n;
	j->t_dispatch = now_us();
	if (!j->t_first)
		j->t_first = j->t_dispatch;
	j->deadline = job_deadline(j, n, j->t_dispatch);
	n->running++;
	n->last_dispatch = j->t_dispatch;
	log_debug("job %llu -> %s (%zu bytes, running %u/%u)", (unsigned long long)j->id,
		  node_label(n), j->sub.input_len, n->running, n->slots);
	return 0;
}

static void grant_local(struct job *j)
{
	struct proto_answer a = { .outcome = HUB_LOCAL };

	a.queue_us = now_us() - j->t_submit;
	fo_recovered(j, now_us());
	if (j->conn && j->conn->state == C_WAIT)	/* reasons.h */
		reasons_hub_local(j->why, j->cid_ok, !j->attempts && !job_farmable(j),
				  a.error, sizeof a.error);
	if (j->conn && j->conn->state == C_WAIT) {
		/* Counted before the answer: a failed write gives it back. */
		H.local_used++;
		H.jobs_local++;
		log_debug("job %llu -> local slot (%d/%d)", (unsigned long long)j->id,
			  H.local_used, H.local_slots);
	}
	job_finish(j, &a);
}

/* The nodes that may take j now, busy or not (sched.h wants both): up,
 * offering its compiler, not failed it, not backed off, not `except`. */
static size_t job_cands(const struct job *j, const struct node *except, uint64_t now,
			struct sched_cand *cand, struct node **cnode)
{
	size_t nc = 0;

	if (!j->cid_ok)
		return 0;
	for (int i = 0; i < H.nnodes; i++) {
		struct node *n = &H.nodes[i];
		if (n == except || n->state != NODE_UP || !n->slots || (j->tried & (1ull << i)) ||
		    !fo_available(&n->fo, now) || !node_has(n, j))
			continue;
		cand[nc] = (struct sched_cand){ n->speed, n->running, n->slots,
						n->has_tele ? n->tele.temp_mc : INT32_MIN,
						n->last_dispatch };
		cnode[nc++] = n;
	}
	return nc;
}

/* One pass over the queue in FIFO order. */
static void schedule(void)
{
	struct sched_cand cand[MAX_NODES];
	struct node *cnode[MAX_NODES];
	struct job *j, *next;
	unsigned ahead = 0;	/* jobs before this one still waiting */
	uint64_t now = now_us();

	H.need_sched = false;
	for (j = H.jobs; j; j = next) {
		size_t nc;
		int k;
		next = j->next;
		if (j->state != J_QUEUED)
			continue;
		nc = job_cands(j, NULL, now, cand, cnode);
		while (nc && (k = sched_pick(cand, nc, ahead)) >= 0) {
			struct node *n = cnode[k];
			int rc = job_dispatch(j, n);
			if (rc == 0) {
				H.jobs_remote++;
				break;
			}
			log_warn("job %llu: cannot send to %s: %s", (unsigned long long)j->id,
				 node_label(n), strerror(-rc));
			cand[k] = cand[nc - 1];
			cnode[k] = cnode[nc - 1];
			nc--;
		}
		if (j->state != J_QUEUED)
			continue;
		if (H.local_used < H.local_slots) {
			grant_local(j);
			continue;
		}
		if (!job_farmable(j)) {
			if (H.local_slots == 0) {
				job_fail(j, j->why[0] ? j->why
					   : !j->cid_ok ? "compiler not identified"
							: "no node offers this compiler");
				continue;
			}
			if (j->attempts > 0) {
				job_fail(j, j->why);
				continue;
			}
			/* else: waits for a local slot */
		}
		ahead++;
	}
}

static struct job *find_job(uint64_t id);
/* ---- failover (the rules are failover.c's; these apply them) ---- */

static uint64_t job_cap_us(void)
{
	return H.job_timeout_s > 0 ? (uint64_t)H.job_timeout_s * 1000000u : 0;
}

/* The slowest measured node's seconds per MB (deadline of unmeasured ones). */
static double slowest_spmb(void)
{
	double m = 0;
	for (int i = 0; i < H.nnodes; i++)
		if (H.nodes[i].state == NODE_UP && H.nodes[i].fo.spmb > m)
			m = H.nodes[i].fo.spmb;
	return m;
}

static uint64_t job_deadline(const struct job *j, const struct node *n, uint64_t now)
{
	return now + fo_deadline_us(&n->fo, slowest_spmb(), j->sub.input_len, job_cap_us());
}

/* Cancels the job on n; n's slot stays counted until its RESULT comes. */
static void cancel_on(struct node *n, uint64_t id)
{
	send_cancel(n, id);
	n->fo.cancelling++;
}

/* A RESULT for a job no longer here: the answer to one of our cancels. */
static void fo_cancelled_result(struct node *n)
{
	if (!n->fo.cancelling)
		return;
	n->fo.cancelling--;
	if (n->running)
		n->running--;
	H.need_sched = true;
}

/* The job's second copy ends: cancelled (cancel) or already gone. */
static void copy_drop(struct job *j, bool cancel)
{
	struct node *c = j->copy;
	j->copy = NULL;
	if (!c)
		return;
	if (cancel)
		cancel_on(c, j->id);
	else if (c->running)
		c->running--;
	H.need_sched = true;
}

/* The primary is gone (its node failed it): the copy, if any, takes over. */
static bool copy_promote(struct job *j)
{
	if (!j->copy)
		return false;
	j->node = j->copy;
	j->copy = NULL;
	j->t_dispatch = j->copy_dispatch;
	j->deadline = j->copy_deadline;
	j->state = J_RUNNING;
	H.need_sched = true;
	return true;
}

/* Starts a second copy of a running job on the best other node; false if none. */
static bool copy_start(struct job *j, uint64_t now, bool backup)
{
	struct sched_cand cand[MAX_NODES];
	struct node *cnode[MAX_NODES];
	size_t nc = job_cands(j, j->node, now, cand, cnode);
	int k = nc ? sched_pick(cand, nc, 0) : -1;
	struct node *m;

	if (k < 0)
		return false;
	m = cnode[k];
	if (backup && !fo_backup_wanted(now - j->t_dispatch,
					fo_expected_us(&j->node->fo, j->sub.input_len),
					fo_expected_us(&m->fo, j->sub.input_len)))
		return false;
	if (job_send(j, m) < 0)
		return false;
	j->copy = m;
	j->copy_dispatch = now;
	j->copy_deadline = job_deadline(j, m, now);
	m->running++;
	m->last_dispatch = now;
	j->copied = true;
	H.fo.backups_started++;
	log_info("job %llu: %s copy on %s (running on %s for %.1f s)", (unsigned long long)j->id,
		 backup ? "backup" : "second", node_label(m), node_label(j->node),
		 (double)(now - j->t_dispatch) / 1e6);
	return true;
}

/* A node failed a job for a reason of its own: backed off at once. */
static void fo_node_error(struct node *n, enum fo_class cls, const char *why)
{
	if (cls != FO_NODE)
		return;
	n->fo.node_errors++;
	H.fo.node_errors++;
	fo_backoff(&n->fo, now_us());
	H.fo.backoffs++;
	log_warn("%s: node error (%s): backed off for %.1f s", node_label(n), why,
		 (double)(n->fo.backoff_until - now_us()) / 1e6);
}

/* A RESULT for a job with two copies. true: handled here. */
static bool fo_result(struct job *j, struct node *n, const struct job_result *r)
{
	if (!j->copy)
		return false;
	if (r->farm_error) {
		fo_node_error(n, fo_classify(r->farm_error), r->error);
		n->jobs_failed++;
		if (n == j->copy) {
			copy_drop(j, false);
		} else {
			if (n->running)
				n->running--;
			j->tried |= 1ull << n->idx;
			copy_promote(j);
		}
		return true;
	}
	if (n == j->copy) {	/* the copy won: it becomes the primary */
		struct node *loser = j->node;
		H.fo.backups_won++;
		j->node = n;
		j->t_dispatch = j->copy_dispatch;
		j->copy = loser;
	}
	copy_drop(j, true);
	return false;
}

/* Copy on n missed its deadline: n is suspect; a copy elsewhere, or dcc. */
static void job_missed(struct job *j, struct node *n, uint64_t now)
{
	log_warn("job %llu: missed its deadline on %s (%.1f s): node backed off",
		 (unsigned long long)j->id, node_label(n),
		 (double)(now - (n == j->copy ? j->copy_dispatch : j->t_dispatch)) / 1e6);
	n->fo.misses++;
	H.fo.deadline_misses++;
	fo_backoff(&n->fo, now);
	H.fo.backoffs++;
	j->misses++;
	/* never back to n: its cancelled copy's RESULT must not pass for a new one */
	j->tried |= 1ull << n->idx;
	if (n == j->copy) {
		copy_drop(j, true);
		return;
	}
	if (j->copy) {
		cancel_on(n, j->id);
		copy_promote(j);
		return;
	}
	if (j->misses < 2 && copy_start(j, now, false)) {
		j->deadline = j->copy_deadline;
		return;
	}
	cancel_on(n, j->id);
	j->node = NULL;
	H.fo.fallbacks++;
	H.need_sched = true;
	if (H.local_used < H.local_slots)
		grant_local(j);
	else
		job_fail(j, "deadline missed, no other node free");
}

/* Deadlines, expired backoffs, and backup copies near the end of a build. */
static void fo_tick(uint64_t now)
{
	bool queued = false;

	for (struct job *j = H.jobs, *next; j; j = next) {
		next = j->next;
		queued |= j->state == J_QUEUED;
		if (j->state == J_CANCELLING && j->node && j->deadline && j->deadline <= now)
			job_retry(j, "cancelled job timed out");
		else if (j->state == J_RUNNING && j->deadline && j->deadline <= now)
			job_missed(j, j->node, now);
		else if (j->state == J_RUNNING && j->copy && j->copy_deadline <= now)
			job_missed(j, j->copy, now);
	}
	for (int i = 0; i < H.nnodes; i++)
		if (H.nodes[i].fo.backoff_until && H.nodes[i].fo.backoff_until <= now) {
			H.nodes[i].fo.backoff_until = 0;
			H.need_sched = true;
		}
	if (queued || now < H.fo_tick_at)
		return;
	H.fo_tick_at = now + 200000u;
	for (struct job *j = H.jobs; j; j = j->next)
		if (j->state == J_RUNNING && j->conn && !j->copy && j->misses == 0)
			(void)copy_start(j, now, true);
}

/* poll timeout: the nearest deadline or backoff end, or the next backup look. */
static int fo_timeout_ms(uint64_t now, int timeout)
{
	uint64_t next = UINT64_MAX;
	bool running = false;

	for (struct job *j = H.jobs; j; j = j->next) {
		if (j->deadline && j->deadline < next)
			next = j->deadline;
		if (j->copy && j->copy_deadline < next)
			next = j->copy_deadline;
		running |= j->state == J_RUNNING;
	}
	for (int i = 0; i < H.nnodes; i++)
		if (H.nodes[i].fo.backoff_until && H.nodes[i].fo.backoff_until < next)
			next = H.nodes[i].fo.backoff_until;
	if (running && H.fo_tick_at < next)
		next = H.fo_tick_at > now ? H.fo_tick_at : now + 200000u;
	if (next != UINT64_MAX) {
		int ms = next > now ? (int)((next - now) / 1000) + 1 : 0;
		if (ms < timeout)
			timeout = ms;
	}
	return timeout;
}


/* The identifier's answer for job `tag` (ident.h). */
static void on_ident(uint64_t tag, const struct ident_result *r, void *user)
{
	struct job *j = find_job(tag);
	(void)user;

	if (!j || j->state != J_IDENT)
		return;
	if (r->rc == 0) {
		j->cid = r->id;
		j->cid_ok = true;
		if (pairs_note(&ASKED, &j->cid, j->sub.args, j->sub.nargs))
			log_verdicts(&j->cid);
	} else {
		snprintf(j->why, sizeof j->why, "compiler %.100s not identified: %.70s",
			 j->sub.compiler, r->why);
	}
	j->state = J_QUEUED;
	H.need_sched = true;
}

/* Sets the job's identity, or starts finding it (J_IDENT), or says why not. */
static void submit_identify(struct conn *c, struct job *j)
{
	struct ident_result r;
	char why[160];
	int rc;

	if (j->sub.cwd[0] != '/') {
		/* the node maps its dir to it (DW_AT_comp_dir): no guessing */
		snprintf(j->why, sizeof j->why, "working directory not absolute");
		return;
	}
	if (admit_job(&j->sub, why, sizeof why) < 0) {
		snprintf(j->why, sizeof j->why, "job refused by the node policy: %s", why);
		return;
	}
	rc = ident_lookup(c->fd, j->sub.compiler, j->id, &r);
	if (rc == 0) {
		j->state = J_IDENT;
		return;
	}
	if (rc > 0) {
		j->state = J_IDENT;
		on_ident(j->id, &r, NULL);
	} else
		snprintf(j->why, sizeof j->why, "compiler %.100s not identified: %.70s",
			 j->sub.compiler, r.why);
}

static void submit(struct conn *c)
{
	struct job *j = calloc(1, sizeof *j), *t;
	int rc;

	if (!j) {
		c->state = C_CLOSE;
		return;
	}
	rc = proto_decode_submit(c->frame, c->frame_len, &j->sub);
	if (rc < 0) {
		log_warn("malformed job from a client: %s", strerror(-rc));
		free(j);
		c->state = C_CLOSE;
		return;
	}
	j->frame = c->frame;
	j->held = c->frame_cap;
	c->frame = NULL;
	c->frame_cap = 0;
	j->id = H.next_job_id++;
	j->conn = c;
	j->t_submit = now_us();
	j->state = J_QUEUED;
	c->job = j;
	c->state = C_WAIT;
	c->next_ka = j->t_submit + PROTO_KEEPALIVE_MS * 1000u;
	H.jobs_total++;
	/* Append to the job list (FIFO), then identify (which may answer at once). */
	if (!H.jobs) {
		H.jobs = j;
	} else {
		for (t = H.jobs; t->next; t = t->next)
			;
		t->next = j;
		j->prev = t;
	}
	submit_identify(c, j);
	log_debug("job %llu queued: %s (%zu bytes)", (unsigned long long)j->id,
		  j->sub.source[0] ? j->sub.source : j->sub.input_name, j->sub.input_len);
	H.need_sched = true;
}

static struct job *find_job(uint64_t id)
{
	for (struct job *j = H.jobs; j; j = j->next)
		if (j->id == id)
			return j;
	return NULL;
}

/* ---- link callbacks ---- */

static void node_set_info(struct node *n, struct job_nodeinfo *ni)
{
	free(n->compilers);
	n->compilers = ni->compilers;
	n->ncompilers = ni->ncompilers;
	ni->compilers = NULL;
	ni->ncompilers = 0;
	n->slots = ni->slots;
	snprintf(n->name, sizeof n->name, "%s", ni->name);
}

static void on_up(struct link *l, const struct link_peer *peer, void *user)
{
	struct node *n = user;
	struct job_nodeinfo ni;
	(void)l;

	snprintf(n->peer, sizeof n->peer, "%s", peer->ident);
	if (n->epoch && n->epoch != peer->epoch)
		log_info("%s: node %s restarted (new epoch)", node_label(n), n->peer);
	n->epoch = peer->epoch;
	n->sessions++;
	n->state = NODE_UP;
	n->running = 0;
	n->fo.cancelling = 0;
	if (job_decode_nodeinfo(peer->app, peer->app_len, &ni) == 0) {
		node_set_info(n, &ni);
		log_info("%s: node %s up: %u slots, %zu compilers%s", node_label(n), n->peer,
			 n->slots, n->ncompilers, ni.complete ? "" : " (more to come)");
	} else {
		free(n->compilers);
		n->compilers = NULL;
		n->ncompilers = 0;
		n->slots = 0;
		log_warn("%s: node %s up, but its node info is unreadable: no jobs for it",
			 node_label(n), n->peer);
	}
	H.need_sched = true;
}

static void on_down(struct link *l, int reason, void *user)
{
	struct node *n = user;
	struct job *j, *next;
	(void)l;

	log_info("%s: node %s down: %s", node_label(n), n->peer, strerror(-reason));
	n->state = NODE_HELLO;
	for (j = H.jobs; j; j = next) {
		next = j->next;
		if (j->node == n)
			job_retry(j, reason == -ESTALE ? "node restarted" : "link down");
		else if (j->copy == n)
			copy_drop(j, false);
	}
	n->running = 0;
	n->fo.cancelling = 0;
	H.need_sched = true;
}

static void on_result(struct node *n, const uint8_t *data, size_t len)
{
	struct job_result r;
	struct job *j;
	int rc = job_decode_result(data, len, &r);

	if (rc < 0) {
		log_warn("%s: malformed RESULT (%zu bytes) dropped", node_label(n), len);
		return;
	}
	n->bytes_in += len;
	j = find_job(r.job_id);
	if (!j || (j->node != n && j->copy != n)) {
		log_debug("%s: RESULT for job %llu that is no longer here", node_label(n),
			  (unsigned long long)r.job_id);
		fo_cancelled_result(n);
		return;
	}
	if (fo_result(j, n, &r))
		return;
	if (j->state == J_CANCELLING || !j->conn) {
		if (n->running)
			n->running--;
		job_unlink_free(j);
		H.need_sched = true;
		return;
	}
	if (r.farm_error) {
		char why[200];
		enum fo_class cls = fo_classify(r.farm_error);
		snprintf(why, sizeof why, "%.150s (%.40s)", r.error[0] ? r.error : "node refused",
			 strerror(-r.farm_error));
		fo_node_error(n, cls, why);
		job_requeue(j, why, cls);
		return;
	}
	uint64_t t = now_us();
	double took = (double)(t - j->t_dispatch);
	if (took > 0 && j->sub.input_len > 0)
		n->speed = sched_update_speed(n->speed, (double)j->sub.input_len / took);
	fo_measure(&n->fo, j->sub.input_len, t - j->t_dispatch);
	fo_success(&n->fo);
	fo_recovered(j, t);
	n->jobs_done++;
	if (n->running)
		n->running--;
	struct proto_answer a = { .outcome = HUB_DONE, .status = r.status };
	snprintf(a.node, sizeof a.node, "%s", n->name[0] ? n->name : n->peer);
	a.out = r.out;
	a.out_len = r.out_len;
	a.err = r.err;
	a.err_len = r.err_len;
	a.obj = r.obj;
	a.obj_len = r.obj_len;
	struct buf fixed = BUF_INIT;
	if (j->pair && r.obj_len) {	/* a proven pair: the hub compiler's ident */
		if (equiv_comment_patch(r.obj, r.obj_len, j->pair->ident, &fixed)) {
			buf_free(&fixed);
			job_retry(j, "object of a proven pair refused by the ident rewrite");
			return;
		}
		a.obj = fixed.data;
		a.obj_len = fixed.len;
	}
	a.dwo = r.dwo;
	a.dwo_len = r.dwo_len;
	a.queue_us = j->t_dispatch - j->t_submit;
	a.compile_us = r.wall_us;
	a.total_us = t - j->t_submit;
	if (r.status == 0 && !r.out_len && !r.err_len && r.obj_len)	/* verify.h */
		verify_on_done(a.node, &j->cid, j->sub.source[0] ? j->sub.source : j->sub.input_name,
			       a.error, sizeof a.error);
	log_debug("job %llu done on %s: status %d, obj %zu bytes", (unsigned long long)j->id,
		  node_label(n), r.status, r.obj_len);
	job_finish(j, &a);
	buf_free(&fixed);
	H.need_sched = true;
}

static void on_message(struct link *l, uint32_t stream, uint8_t *data, size_t len, void *user)
{
	struct node *n = user;
	enum job_msg_type t;
	(void)l;
	(void)stream;

	if (job_peek_type(data, len, &t) < 0) {
		log_warn("%s: unknown message (%zu bytes) dropped", node_label(n), len);
		goto out;
	}
	switch (t) {
	case JOB_MSG_RESULT:
		on_result(n, data, len);
		break;
	case JOB_MSG_TELEMETRY:
		if (job_decode_telemetry(data, len, &n->tele) == 0)
			n->has_tele = true;
		break;
	case JOB_MSG_NODEINFO: {
		struct job_nodeinfo ni;
		if (job_decode_nodeinfo(data, len, &ni) == 0) {
			node_set_info(n, &ni);
			log_info("%s: node info: %u slots, %zu compilers", node_label(n), n->slots,
				 n->ncompilers);
			H.need_sched = true;
		}
		break;
	}
	default:
		log_warn("%s: unexpected message type %d dropped", node_label(n), t);
		break;
	}
out:
	free(data);
}

static const struct link_callbacks node_cb = {
	.up = on_up,
	.down = on_down,
	.message = on_message,
};

static void node_open(struct node *n)
{
	struct link_io *io;
	struct link_config cfg = { .ident = H.ident };
	privsep_net_caps(true);	/* CAP_NET_RAW/ADMIN effective only to open it */
	int rc = link_io_packet(n->iface, &io);
	privsep_net_caps(false);

	if (rc == 0)
		rc = link_new(io, &cfg, &node_cb, n, &n->link);
	if (rc < 0) {
		if (n->relink_at == 0)
			log_warn("%s: cannot open link: %s (retrying)", n->iface, strerror(-rc));
		n->link = NULL;
		n->state = NODE_NOLINK;
		n->relink_at = now_us() + RELINK_MS * 1000u;
		return;
	}
	log_info("%s: link open, waiting for a node", n->iface);
	n->state = NODE_HELLO;
	n->relink_at = 0;
}

static void node_dead(struct node *n, int rc)
{
	log_warn("%s: link dead: %s", n->iface, strerror(-rc));
	if (n->state == NODE_UP)
		on_down(n->link, rc, n);
	link_free(n->link);
	n->link = NULL;
	n->state = NODE_NOLINK;
	n->relink_at = now_us() + RELINK_MS * 1000u;
}

/*
 * Netlink says what happened to an interface: a lost carrier (board pulled,
 * or its gadget went down) ends that node's session now rather than at the
 * keepalive deadline, so its jobs fail over at once; a removed interface
 * closes the link; an interface that comes (back) with carrier is opened
 * without waiting for the retry timer.
 */
static void on_ifevent(const struct ifw_info *in, void *user);

/* Events were lost (netlink buffer overflow): ask for each interface's state. */
static void resync_carrier(void)
{
	for (int i = 0; i < H.nnodes; i++) {
		struct ifw_info in;
		if (ifwatch_query(H.nodes[i].iface, &in) < 0) {
			memset(&in, 0, sizeof in);
			in.event = IFW_GONE;
		}
		snprintf(in.name, sizeof in.name, "%s", H.nodes[i].iface);
		on_ifevent(&in, NULL);
	}
}

static int enroll_iface(const char *name);

static void on_ifevent(const struct ifw_info *in, void *user)
{
	(void)user;
	if (in->event != IFW_GONE)
		enroll_iface(in->name);
	for (int i = 0; i < H.nnodes; i++) {
		struct node *n = &H.nodes[i];
		if (strcmp(n->iface, in->name) != 0)
			continue;
		switch (in->event) {
		case IFW_CARRIER_DOWN:
			if (n->link && link_state(n->link) == LINK_UP) {
				log_info("%s: carrier down: ending the session now", n->iface);
				n->carrier_losses++;
				link_reset(n->link, -ENETDOWN);
			}
			break;
		case IFW_GONE:
			if (n->link)
				node_dead(n, -ENODEV);
			break;
		case IFW_CARRIER_UP:
			if (!n->link)
				node_open(n);
			break;
		}
	}
}

/* ---- status ---- */

static void status_answer(struct conn *c)
{
	struct hub_status st;
	struct status_node sn[MAX_NODES];
	char (*comp)[STATUS_COMPILER_MAX];

	memset(&st, 0, sizeof st);
	memset(sn, 0, sizeof sn);
	st.uptime_s = (now_us() - H.started) / 1000000u;
	st.local_slots = (uint16_t)H.local_slots;
	st.local_used = (uint16_t)H.local_used;
	for (struct job *j = H.jobs; j; j = j->next)
		if (j->state == J_QUEUED)
			st.queued++;
	for (struct conn *k = H.conns; k; k = k->next)
		if (k != c && k->state != C_CLOSE)
			st.clients++;	/* not counting this status request */
	st.jobs_total = H.jobs_total;
	st.jobs_remote = H.jobs_remote;
	st.jobs_local = H.jobs_local;
	st.jobs_failed = H.jobs_failed;
	st.jobs_retried = H.jobs_retried;
	st.fo = H.fo;
	st.nnodes = (size_t)H.nnodes;
	st.nodes = sn;
	for (int i = 0; i < H.nnodes; i++) {
		struct node *n = &H.nodes[i];
		struct status_node *s = &sn[i];
		struct link_stats ls;
		snprintf(s->iface, sizeof s->iface, "%s", n->iface);
		snprintf(s->state, sizeof s->state, "%s",
			 n->link ? link_state_name(link_state(n->link)) : "nolink");
		snprintf(s->peer, sizeof s->peer, "%s", n->peer);
		snprintf(s->name, sizeof s->name, "%s", n->name);
		s->epoch = n->epoch;
		s->slots = n->slots;
		s->running = n->running;
		s->jobs_done = n->jobs_done;
		s->jobs_failed = n->jobs_failed;
		s->bytes_out = n->bytes_out;
		s->bytes_in = n->bytes_in;
		s->sessions = n->sessions;
		if (n->link) {
			link_get_stats(n->link, &ls);
			s->wire_tx = ls.bytes_tx;
			s->wire_rx = ls.bytes_rx;
			s->frames_tx = ls.frames_tx;
			s->frames_rx = ls.frames_rx;
			s->retransmits = ls.retransmits;
			s->drops = ls.drop_crc + ls.drop_short + ls.drop_dup + ls.drop_stale +
				   ls.drop_foreign + ls.drop_window + ls.drop_bad;
			s->srtt_us = ls.srtt_us;
		}
		s->speed = (uint32_t)(n->speed * 1e6 / 1024.0);
		fo_node_status(&n->fo, now_us(), slowest_spmb(), job_cap_us(), &s->fo);
		s->tele = n->tele;
		s->has_tele = n->has_tele;
		if (n->state == NODE_UP && n->ncompilers) {
			comp = calloc(n->ncompilers, sizeof *comp);
			if (comp) {
				for (size_t k = 0; k < n->ncompilers; k++)
					compiler_describe(&n->compilers[k], comp[k], sizeof comp[k]);
				s->compilers = comp;
				s->ncompilers = n->ncompilers;
			}
		}
	}
	char (*serve)[STATUS_SERVE_MAX] = calloc(STATUS_SERVE_LINES, sizeof *serve);
	for (size_t a = 0; serve && a < ASKED.n; a++)
		for (int i = 0; i < H.nnodes && st.nserve < STATUS_SERVE_LINES; i++) {
			char d[100], v[260];
			if (H.nodes[i].state != NODE_UP)
				continue;
			compiler_describe(&ASKED.a[a].id, d, sizeof d);
			pairs_verdict(&PAIRS, &ASKED.a[a], H.nodes[i].compilers, H.nodes[i].ncompilers,
				      v, sizeof v);
			snprintf(serve[st.nserve++], STATUS_SERVE_MAX, "%s\t%s\t%s", d,
				 node_label(&H.nodes[i]), v);
		}
	st.serve = serve;
	buf_free(&c->out);
	c->out_off = 0;
	if (proto_encode_status(&c->out, &st) < 0)
		c->state = C_CLOSE;
	else
		c->state = C_WRITE;
	for (int i = 0; i < H.nnodes; i++)
		free(sn[i].compilers);
	free(serve);
	if (c->state == C_WRITE)
		conn_flush(c);
}

/* ---- client connections ---- */

static void conn_flush(struct conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t w = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			c->state = C_CLOSE;
			if (c->hold_local) {
				c->hold_local = false;
				H.local_used--;
				H.need_sched = true;
			}
			return;
		}
		c->out_off += (size_t)w;
		c->last_io = now_us();
	}
	buf_free(&c->out);
	c->out_off = 0;
	if (c->state == C_WAIT)
		return;		/* a keepalive went out; the answer is still to come */
	c->state = c->hold_local ? C_LOCAL : C_CLOSE;
}

/* C_WAIT: tells dcc that hubd is alive (dcc gives up on a silent hubd).
 * Skipped while an earlier one is still unsent: they never pile up. */
static void conn_keepalive(struct conn *c, uint64_t now)
{
	c->next_ka = now + PROTO_KEEPALIVE_MS * 1000u;
	if (c->out_off < c->out.len)
		return;
	buf_free(&c->out);
	c->out_off = 0;
	proto_begin(&c->out, PROTO_KEEPALIVE);
	if (proto_end(&c->out) < 0) {
		buf_free(&c->out);
		return;
	}
	conn_flush(c);
}

static void conn_request(struct conn *c)
{
	switch (proto_type(c->frame, c->frame_len)) {
	case PROTO_SUBMIT:
		submit(c);
		break;
	case PROTO_STATUS_REQ:
		free(c->frame);
		c->frame = NULL;
		guard_release(c->frame_cap);
		c->frame_cap = 0;
		status_answer(c);
		break;
	case PROTO_ENROLL_REQ:
		c->out_off = 0;
		c->state = enroll_serve(&c->out, c->frame, c->frame_len, enroll_iface) < 0 ? C_CLOSE : C_WRITE;
		free(c->frame);
		c->frame = NULL;
		guard_release(c->frame_cap);
		c->frame_cap = 0;
		if (c->state == C_WRITE)
			conn_flush(c);
		break;
	default: {
		/* reasons.h / verify.h: local-compile notes, verify reports, their status */
		int k = hubx_request(c->frame, c->frame_len, &c->out);
		free(c->frame);
		c->frame = NULL;
		guard_release(c->frame_cap);
		c->frame_cap = 0;
		if (k < 0)
			log_warn("client sent an unknown request: closed");
		c->out_off = 0;
		c->state = k == 1 ? C_WRITE : C_CLOSE;
		if (k == 1)
			conn_flush(c);
		break;
	}
	}
}

/* The client went away (EOF, error, or bytes where none belong). */
static void conn_gone(struct conn *c)
{
	struct job *j = c->job;

	if (j) {
		j->conn = NULL;
		c->job = NULL;
		if (j->copy)
			copy_drop(j, true);
		if (j->state == J_RUNNING) {
			log_debug("job %llu: client left, cancelling on %s", (unsigned long long)j->id,
				  node_label(j->node));
			send_cancel(j->node, j->id);
			j->state = J_CANCELLING;
		} else if (j->state == J_QUEUED || j->state == J_IDENT) {
			log_debug("job %llu: client left while queued", (unsigned long long)j->id);
			job_unlink_free(j);
		}
	}
	if (c->state == C_LOCAL || (c->state == C_WRITE && c->hold_local)) {
		H.local_used--;
		H.need_sched = true;
	}
	c->hold_local = false;
	c->state = C_CLOSE;
}

/* Room for the next bytes of the request: memory follows the bytes that
 * actually arrived (doubling, at most frame_len), under guard_hold(). */
static int conn_grow(struct conn *c)
{
	size_t nc = c->frame_cap ? c->frame_cap * 2 : GUARD_READ_CHUNK;
	uint8_t *p;

	if (nc > c->frame_len)
		nc = c->frame_len;
	if (!guard_hold(nc - c->frame_cap, c->frame_cap == 0)) {
		log_warn("requests held reach --max-held (%zu bytes): a client is closed",
			 guard_cfg()->max_held);
		c->state = C_CLOSE;
		return -ENOBUFS;
	}
	p = realloc(c->frame, nc);
	if (!p) {
		guard_release(nc - c->frame_cap);
		log_warn("no memory for a %zu-byte request", nc);
		c->state = C_CLOSE;
		return -ENOMEM;
	}
	c->frame = p;
	c->frame_cap = nc;
	return 0;
}

static void conn_readable(struct conn *c)
{
	for (;;) {
		ssize_t r;
		if (c->state != C_READ) {
			/* Nothing more is expected: EOF means the client left. */
			uint8_t x[64];
			r = recv(c->fd, x, sizeof x, MSG_DONTWAIT);
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			conn_gone(c);
			return;
		}
		if (c->hdr_got < 4) {
			r = recv(c->fd, c->hdr + c->hdr_got, 4 - c->hdr_got, MSG_DONTWAIT);
		} else {
			if (c->frame_got == c->frame_cap && conn_grow(c) < 0)
				return;
			r = recv(c->fd, c->frame + c->frame_got, c->frame_cap - c->frame_got,
				 MSG_DONTWAIT);
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0) {
			conn_gone(c);
			return;
		}
		c->last_io = now_us();
		if (c->hdr_got < 4) {
			c->hdr_got += (size_t)r;
			if (c->hdr_got == 4) {
				long n = proto_frame_len(c->hdr);
				if (n < 0 || !guard_announce_ok((size_t)n)) {
					/* nothing allocated for what a peer announced */
					log_warn("client announced a request of %s: closed",
						 n < 0 ? "a bad length" : "more than --max-message");
					c->state = C_CLOSE;
					return;
				}
				c->frame_len = (size_t)n;
			}
		} else {
			c->frame_got += (size_t)r;
			if (c->frame_got == c->frame_len) {
				conn_request(c);
				return;
			}
		}
	}
}

static void conn_free(struct conn *c)
{
	if (c->job)
		conn_gone(c);
	close(c->fd);
	free(c->frame);
	guard_release(c->frame_cap);
	buf_free(&c->out);
	free(c);
	H.nconns--;
}

static void accept_clients(void)
{
	for (int k = 0; k < 64; k++) {
		int fd = guard_accept(H.listen_fd, H.nconns);
		if (fd < 0)
			return;
		struct conn *c = calloc(1, sizeof *c);
		if (!c) {
			close(fd);
			return;
		}
		c->fd = fd;
		c->state = C_READ;
		c->last_io = now_us();
		c->next = H.conns;
		H.conns = c;
		H.nconns++;
	}
}

/* Idle cap and keepalives; lowers *timeout to the next due time. */
static void conn_timers(int *timeout)
{
	uint64_t now = now_us(), idle = (uint64_t)guard_cfg()->idle_s * 1000000u;
	for (struct conn *c = H.conns; c; c = c->next) {
		uint64_t due;
		if (c->state == C_READ || c->state == C_WRITE) {
			if (now - c->last_io >= idle) {
				log_info("client idle for %d s (%s): closed", guard_cfg()->idle_s,
					 c->state == C_READ ? "request unfinished" : "answer unread");
				conn_gone(c);
				continue;
			}
			due = c->last_io + idle;
		} else if (c->state == C_WAIT) {
			if (now >= c->next_ka)
				conn_keepalive(c, now);
			due = c->next_ka;
		} else {
			continue;
		}
		int ms = due > now ? (int)((due - now) / 1000) + 1 : 0;
		if (ms < *timeout)
			*timeout = ms;
	}
}

static void reap_conns(void)
{
	struct conn **pp = &H.conns;
	while (*pp) {
		struct conn *c = *pp;
		if (c->state == C_CLOSE) {
			*pp = c->next;
			conn_free(c);
		} else {
			pp = &c->next;
		}
	}
}

/* ---- setup ---- */

static void open_socket(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(H.socket_path) >= sizeof sa.sun_path)
		fatal("socket path too long: %s", H.socket_path);
	int drc = privsep_socket_dir(H.socket_path);
	if (drc < 0)
		fatal("cannot create the directory of %s: %s", H.socket_path, strerror(-drc));
	/* Another hubd already there? A stale socket is removed. */
	if (proto_connect(H.socket_path, &fd) == 0) {
		close(fd);
		fatal("another hubd is listening on %s", H.socket_path);
	}
	unlink(H.socket_path);
	strcpy(sa.sun_path, H.socket_path);
	H.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (H.listen_fd < 0)
		fatal("socket: %s", strerror(errno));
	mode_t old = umask(0117);
	if (bind(H.listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		fatal("bind %s: %s", H.socket_path, strerror(errno));
	umask(old);
	drc = privsep_socket_bound(H.socket_path);
	if (drc < 0)
		fatal("chmod/chown %s: %s", H.socket_path, strerror(-drc));
	if (listen(H.listen_fd, 256) < 0)
		fatal("listen: %s", strerror(errno));
}

static void add_iface(const char *name)
{
	if (H.nnodes >= MAX_NODES)
		fatal("too many interfaces (at most %d)", MAX_NODES);
	if (!*name || strlen(name) >= sizeof H.nodes[0].iface)
		fatal("bad interface name '%s'", name);
	for (int i = 0; i < H.nnodes; i++)
		if (!strcmp(H.nodes[i].iface, name))
			return;
	struct node *n = &H.nodes[H.nnodes];
	memset(n, 0, sizeof *n);
	n->idx = H.nnodes++;
	snprintf(n->iface, sizeof n->iface, "%s", name);
}

/* ---- enrollment (hub/enroll.c): boards join by themselves ---- */

/* NAME may be a board's interface (netlink saw it, hubctl enroll asked, or
 * it was there at start): if its USB device is ours, bring it up with our
 * MTU and give it a node whose link opens now. 1 / 0 not ours / -errno. */
static int enroll_iface(const char *name)
{
	struct enroll_usb u;
	int i, rc = enroll_check(name, &u);

	if (rc <= 0)
		return rc;
	for (i = 0; i < H.nnodes && strcmp(H.nodes[i].iface, name) != 0; i++)
		;
	if (i == H.nnodes) {
		if (H.nnodes >= MAX_NODES)
			return -ENOSPC;
		if (enroll_wait_udev(name))
			return -EINPROGRESS;	/* udev renames it first; enroll_retry() comes back */
		add_iface(name);
		log_info("%s: enrolled board %s (USB %s, %s Mbit/s)", name, u.serial, u.busport, u.speed);
	}
	/* usb2 fix: setting it up and its MTU needs CAP_NET_ADMIN, which the
	 * dropped dispatcher has effective only around such a call */
	privsep_net_caps(true);
	rc = enroll_link_up(name, ENROLL_MTU);
	privsep_net_caps(false);
	if (rc < 0)
		log_warn("%s: cannot bring it up: %s", name, strerror(-rc));
	if (!H.nodes[i].link)
		node_open(&H.nodes[i]);
	return 1;
}

static void enroll_found(const char *name, void *user)
{
	(void)user;
	enroll_iface(name);
}

static void read_config(const char *path)
{
	FILE *f = fopen(path, "re");
	char line[512];
	int lineno = 0;
	if (!f)
		fatal("cannot open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, f)) {
		char key[64], val[256];
		lineno++;
		char *h = strchr(line, '#');
		if (h)
			*h = 0;
		int n = sscanf(line, "%63s %255s", key, val);
		if (n <= 0)
			continue;
		if (n == 2 && !strcmp(key, "iface"))
			add_iface(val);
		else
			fatal("%s:%d: unknown line (expected: iface NAME)", path, lineno);
	}
	fclose(f);
}

static void usage(FILE *to, int code)
{
	fprintf(to,
"Usage: hubd [OPTIONS] [IFACE...]\n"
"\n"
"The usbfarm dispatcher. Opens a link on each IFACE (the hub side of a board's\n"
"USB Ethernet, or a veth of the virtual farm), learns each node's slots and\n"
"compilers, and serves dcc and hubctl on a unix socket. Each compile job goes\n"
"to the fastest idle node that has the job's compiler, else to a free local\n"
"slot (dcc compiles it on this machine), else waits in a FIFO queue. Jobs that\n"
"fail on the farm side (link lost, node restarted or refusing, timeout) are\n"
"retried on other nodes, then handed back to dcc to compile locally: a build\n"
"never fails because of the farm.\n"
"\n"
"Options:\n"
"  -c, --config FILE      read interfaces from FILE: lines 'iface NAME', '#' comments\n"
"  -s, --socket PATH      unix socket (default: $USBFARM_SOCKET, else\n"
"                         /run/usbfarm/hubd.sock as root, else\n"
"                         $XDG_RUNTIME_DIR/usbfarm/hubd.sock, else\n"
"                         /tmp/usbfarm-$UID/hubd.sock). As root, a missing\n"
"                         directory is created 0750 and the socket is 0660, both\n"
"                         owned by the --user and the --group: every member of\n"
"                         the group can use dcc. Not as root: 0700 and 0660,\n"
"                         this user's clients only.\n"
"  -u, --user NAME        started as root, hubd runs as NAME (default usbfarm,\n"
"                         else nobody) keeping only CAP_NET_RAW/CAP_NET_ADMIN;\n"
"                         compilers named by clients are run (to identify them)\n"
"                         only as the client's own uid, gid and groups\n"
"  -g, --group NAME       the socket's group (default usbfarm)\n"
"  -l, --local-slots N    compile jobs this machine runs itself at once\n"
"                         (default max(1, CPUs/2): the other half of the CPUs\n"
"                         stays free for preprocessing, linking and make)\n"
"  -t, --job-timeout S    a node has S seconds for one job, then the job is\n"
"                         cancelled there and retried (default 300; 0: none)\n"
"  -r, --retries N        farm-side retries of one job on other nodes before\n"
"                         it is compiled locally (default 2)\n"
"      --pairs FILE       proven (hub compiler, board compiler) pairs\n"
"                         (scripts/pair-prove): a board whose compiler is\n"
"                         another build of yours serves the flag classes\n"
"                         proven byte-identical, its objects given your ident\n"
"  -f, --foreground       stay in the foreground (the default; hubd does not\n"
"                         daemonize, run it under systemd or similar)\n"
"      --syslog           log to syslog instead of stderr\n"
"      --verify RATE      verify RATE %% of remote jobs (default 1): dcc compiles\n"
"                         them locally too and compares; a board whose object\n"
"                         differs is quarantined for that compiler (verify.h)\n"
"  -v, --verbose          log every job (debug)\n"
"  -h, --help             this help\n"
"\nCaps on clients (a client past one is closed; its dcc compiles locally):\n"
"      --max-clients N    connections at once (default %d; one more is accepted\n"
"                         and closed at once)\n"
"      --max-message B    bytes one request may announce (default %zu MiB;\n"
"                         nothing is allocated before the check, memory grows\n"
"                         only with bytes received)\n"
"      --max-held B       bytes of requests held at once, unfinished or queued\n"
"                         (default %zu MiB); the first 64 KiB of each connection\n"
"                         always fit, so small requests pass a flood\n"
"      --client-idle S    seconds without progress while a request is read or\n"
"                         an answer written (default %d; waiting for a node or\n"
"                         holding a local slot is not idle). A client waiting\n"
"                         for a node gets a keepalive every %d ms.\n"
"  Out of file descriptors, a new connection is accepted on a spare one and\n"
"  closed at once (its dcc compiles locally); one log line per episode.\n"
"\n"
"Signals: SIGTERM and SIGINT stop hubd; clients still waiting are told to\n"
"compile locally.\n"
"See also: hubctl status, dcc(1), noded(8).\n",
		GUARD_MAX_CLIENTS, GUARD_MAX_MESSAGE >> 20, GUARD_MAX_HELD >> 20, GUARD_IDLE_S,
		PROTO_KEEPALIVE_MS);
	exit(code);
}

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int parse_int(const char *s, const char *what, int lo, int hi)
{
	char *e;
	long v;
	errno = 0;
	v = strtol(s, &e, 10);
	if (errno || *e || e == s || v < lo || v > hi)
		fatal("bad %s '%s' (expected %d..%d)", what, s, lo, hi);
	return (int)v;
}

static void shutdown_all(void)
{
	struct proto_answer a = { .outcome = HUB_FAILED };
	snprintf(a.error, sizeof a.error, "hubd is shutting down");
	ifwatch_close(H.ifw);
	H.ifw = NULL;
	for (struct job *j = H.jobs, *next; j; j = next) {
		next = j->next;
		if (j->node && j->state != J_QUEUED)
			send_cancel(j->node, j->id);
		if (j->copy)
			send_cancel(j->copy, j->id);
		if (j->conn && j->conn->state == C_WAIT) {
			conn_answer(j->conn, &a);
			/* Best effort: a short blocking write of the small answer. */
			int fl = fcntl(j->conn->fd, F_GETFL);
			fcntl(j->conn->fd, F_SETFL, fl & ~O_NONBLOCK);
			conn_flush(j->conn);
		}
		job_unlink_free(j);
	}
	for (int i = 0; i < H.nnodes; i++) {
		if (H.nodes[i].link) {
			/* Let the cancels go out. */
			(void)link_process(H.nodes[i].link);
			link_free(H.nodes[i].link);
		}
		free(H.nodes[i].compilers);
	}
	while (H.conns) {
		struct conn *c = H.conns;
		H.conns = c->next;
		c->job = NULL;
		close(c->fd);
		free(c->frame);
		buf_free(&c->out);
		free(c);
	}
	ident_stop();
	close(H.listen_fd);
	unlink(H.socket_path);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "local-slots", required_argument, NULL, 'l' },
		{ "job-timeout", required_argument, NULL, 't' },
		{ "retries", required_argument, NULL, 'r' },
		{ "pairs", required_argument, NULL, 'P' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "syslog", no_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "verify", required_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "user", required_argument, NULL, 'u' },
		{ "group", required_argument, NULL, 'g' },
		{ "max-clients", required_argument, NULL, 'C' },
		{ "max-message", required_argument, NULL, 'M' },
		{ "max-held", required_argument, NULL, 'H' },
		{ "client-idle", required_argument, NULL, 'I' },
		{ NULL, 0, NULL, 0 },
	};
	bool use_syslog = false;
	const char *user = NULL, *group = NULL;
	struct guard_cfg gc = { GUARD_MAX_CLIENTS, GUARD_MAX_MESSAGE, GUARD_MAX_HELD, GUARD_IDLE_S };
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int o;

	H.local_slots = ncpu > 1 ? (int)(ncpu / 2) : 1;
	H.job_timeout_s = 300;
	H.retries = 2;
	H.listen_fd = -1;
	while ((o = getopt_long(argc, argv, "c:s:l:t:r:u:g:fvh", opts, NULL)) != -1) {
		switch (o) {
		case 'c': read_config(optarg); break;
		case 's':
			if (snprintf(H.socket_path, sizeof H.socket_path, "%s", optarg) >=
			    (int)sizeof H.socket_path)
				fatal("socket path too long");
			break;
		case 'l': H.local_slots = parse_int(optarg, "--local-slots", 0, 4096); break;
		case 't': H.job_timeout_s = parse_int(optarg, "--job-timeout", 0, 86400); break;
		case 'r': H.retries = parse_int(optarg, "--retries", 0, 63); break;
		case 'P':
			if (pairs_load(&PAIRS, optarg))
				fatal("--pairs %s: cannot read", optarg);
			break;
		case 'f': break;
		case 'S': use_syslog = true; break;
		case 'v': H.verbose++; break;
		case 'V':
			if (verify_set_rate(optarg) < 0)
				fatal("--verify: a percentage 0..100, not '%s'", optarg);
			break;
		case 'h': usage(stdout, 0); break;
		case 'u': user = optarg; break;
		case 'g': group = optarg; break;
		case 'C': gc.max_clients = parse_int(optarg, "--max-clients", 1, 1000000); break;
		case 'M': gc.max_message = (size_t)parse_int(optarg, "--max-message", 1024,
							     (int)PROTO_MAX_FRAME); break;
		case 'H': gc.max_held = (size_t)parse_int(optarg, "--max-held", 1 << 20, INT_MAX); break;
		case 'I': gc.idle_s = parse_int(optarg, "--client-idle", 1, 86400); break;
		default: usage(stderr, 2); break;
		}
	}
	for (int i = optind; i < argc; i++)
		add_iface(argv[i]);
	log_init("hubd", H.verbose, use_syslog);
	privsep_init(user, group);
	guard_init(&gc);
	if (!H.socket_path[0] && hub_socket_path(H.socket_path, sizeof H.socket_path) < 0)
		fatal("socket path too long");
	if (H.nnodes == 0)
		log_warn("no interfaces given: every job goes to local slots");

	char host[64] = "hub";
	gethostname(host, sizeof host - 1);
	snprintf(H.ident, sizeof H.ident, "hub-%.50s", host);

	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	open_socket();
	int irc = ident_start();
	if (irc < 0)
		fatal("cannot start the compiler identifier: %s", strerror(-irc));
	privsep_drop_dispatcher();
	H.started = now_us();
	H.next_job_id = ((uint64_t)time(NULL) << 20) | 1;
	int wrc = ifwatch_open(on_ifevent, NULL, &H.ifw);
	if (wrc < 0)
		log_warn("netlink: %s: carrier loss is noticed by keepalives only", strerror(-wrc));
	for (int i = 0; i < H.nnodes; i++)
		node_open(&H.nodes[i]);
	enroll_scan(NULL, enroll_found, NULL);
	log_info("listening on %s; %d interface(s), %d local slot(s), job timeout %d s, %d retries",
		 H.socket_path, H.nnodes, H.local_slots, H.job_timeout_s, H.retries);
	log_info("client caps: %d connections, %zu bytes per request, %zu bytes held, idle %d s",
		 gc.max_clients, gc.max_message, gc.max_held, gc.idle_s);

	size_t cap = 0;
	struct pollfd *pfd = NULL;
	void **who = NULL;
	while (!stop_signal) {
		size_t n = 0, want = 3 + (size_t)H.nnodes;
		int timeout = 1000;
		uint64_t now;

		if (H.need_sched)
			schedule();
		reap_conns();
		for (struct conn *c = H.conns; c; c = c->next)
			want++;
		if (want > cap) {
			cap = want * 2;
			free(pfd);
			free(who);
			pfd = calloc(cap, sizeof *pfd);
			who = calloc(cap, sizeof *who);
			if (!pfd || !who)
				fatal("out of memory");
		}
		conn_timers(&timeout);
		pfd[n] = (struct pollfd){ guard_may_accept(&timeout) ? H.listen_fd : -1, POLLIN, 0 };
		who[n++] = NULL;
		size_t ident_slot = n;
		pfd[n] = (struct pollfd){ ident_fd(), POLLIN, 0 };
		who[n++] = NULL;
		size_t ifw_slot = 0;
		if (H.ifw) {
			ifw_slot = n;
			pfd[n] = (struct pollfd){ ifwatch_fd(H.ifw), POLLIN, 0 };
			who[n++] = NULL;
		}
		size_t first_node = n;
		now = now_us();
		for (int i = 0; i < H.nnodes; i++) {
			struct node *nd = &H.nodes[i];
			if (!nd->link) {
				if (nd->relink_at) {
					int ms = nd->relink_at > now ? (int)((nd->relink_at - now) / 1000) + 1 : 0;
					if (ms < timeout)
						timeout = ms;
				}
				continue;
			}
			pfd[n] = (struct pollfd){ link_fd(nd->link),
						  (short)(POLLIN | (link_want_write(nd->link) ? POLLOUT : 0)), 0 };
			who[n++] = nd;
			int t = link_timeout_ms(nd->link);
			if (t >= 0 && t < timeout)
				timeout = t;
		}
		size_t first_conn = n;
		for (struct conn *c = H.conns; c; c = c->next) {
			short ev = POLLIN;
			if (c->state == C_WRITE || c->out_off < c->out.len)
				ev |= POLLOUT;
			pfd[n] = (struct pollfd){ c->fd, ev, 0 };
			who[n++] = c;
		}
		timeout = fo_timeout_ms(now, timeout);

		int rc = poll(pfd, n, timeout);
		if (rc < 0 && errno != EINTR)
			fatal("poll: %s", strerror(errno));

		if (rc > 0 && (pfd[0].revents & POLLIN))
			accept_clients();
		if (rc > 0 && pfd[ident_slot].revents)
			ident_process(on_ident, NULL);
		/* Carrier events first: a session ended here fails its jobs over
		 * before its link is processed below. A node_dead() here leaves a
		 * NULL link in this round's poll set, which the loop below skips. */
		if (rc > 0 && ifw_slot && (pfd[ifw_slot].revents & POLLIN)) {
			int er = ifwatch_process(H.ifw);
			if (er == -ENOBUFS)
				resync_carrier();
		}
		enroll_retry(enroll_found, NULL);
		for (size_t i = first_conn; rc > 0 && i < n; i++) {
			struct conn *c = who[i];
			if (c->state == C_CLOSE)
				continue;
			if (pfd[i].revents & POLLOUT && (c->state == C_WRITE || c->state == C_WAIT))
				conn_flush(c);
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				conn_readable(c);
		}
		/* Every link gets processed every round: timers run on their own clock. */
		for (size_t i = first_node; i < first_conn; i++) {
			struct node *nd = who[i];
			if (!nd->link)
				continue;
			int lr = link_process(nd->link);
			if (lr < 0 || link_state(nd->link) == LINK_DEAD)
				node_dead(nd, lr < 0 ? lr : -ENODEV);
		}
		now = now_us();
		for (int i = 0; i < H.nnodes; i++)
			if (!H.nodes[i].link && H.nodes[i].relink_at && H.nodes[i].relink_at <= now)
				node_open(&H.nodes[i]);
		fo_tick(now);
	}
	log_info("signal %d: shutting down", (int)stop_signal);
	shutdown_all();
	free(pfd);
	free(who);
	return 0;
}
