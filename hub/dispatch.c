/*
 * dispatch.c — where a queued job goes (jobs.h): a node with a free slot
 * that serves its compiler (sched_pick() decides among them), else a free
 * local slot, else it waits; a job no node could ever take waits only for
 * a local slot and is handed back at once when there are none.
 *
 * Owns: the FIFO pass (schedule()), sending a JOB (job_send) and the
 * bookkeeping of a dispatch; the transitions of a waiting job (QUEUED or
 * RETRIED) to SENT, GRANTED or HANDED_BACK happen here, through
 * job_set_state().
 */
#include "jobs.h"
#include "client.h"
#include "conns.h"
#include "hub.h"
#include "prove.h"
#include "reasons.h"
#include "toolchain.h"
#include "verify.h"

#include "../lib/clock.h"
#include "../lib/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Once per compiler jobs ask for (and per new flag class): which boards
 * serve it, and why the others do not (hub/pairs.c). */
void log_verdicts(const struct compiler_id *id)
{
	char d[100], v[260];
	compiler_describe(id, d, sizeof d);
	for (size_t a = 0; a < hub.asked.n; a++) {
		if (!compiler_match(&hub.asked.a[a].id, id))
			continue;
		for (int i = 0; i < nnodes; i++)
			if (node_up(&nodes[i])) {
				pairs_verdict(&hub.pairs, &hub.asked.a[a], nodes[i].compilers,
					      nodes[i].ncompilers, v, sizeof v);
				log_info("%s: %s %s", d, node_label(&nodes[i]), v);
			}
	}
}

const struct compiler_id *node_compiler(const struct node *n, const struct job *j,
					const struct pair_entry **pe)
{
	const struct compiler_id *u;
	if (pairs_pick(&hub.pairs, n->compilers, n->ncompilers, &j->cid, j->sub.d.args,
		       j->sub.d.nargs, &u, pe, NULL, 0) == PAIRS_NO)
		return NULL;
	return u;
}

/* Whether n serves j: a compiler for it (or, for a tree job, the hub's
 * travelling to it: toolchain.h), not quarantined for the job's compiler
 * by a verification mismatch (hub/verify.c). */
static bool node_serves(const struct node *n, const struct job *j, bool store)
{
	const struct pair_entry *pe;
	bool own = node_compiler(n, j, &pe) != NULL;
	return (!store || node_has_store(n)) &&
	       (own || (store && j->tree && toolchain_for(n, &j->cid))) &&
	       !verify_quarantined(n->name[0] ? n->name : n->peer, &j->cid);
}

/* ... and a tree job needs a board with a store. */
static bool node_has(const struct node *n, const struct job *j)
{
	return node_serves(n, j, j->tree);
}

static bool farmable(const struct job *j, bool store)
{
	if (!j->cid_ok)
		return false;
	for (int i = 0; i < nnodes; i++) {
		const struct node *n = &nodes[i];
		if (node_up(n) && n->slots && !(j->tried & (1ull << i)) && node_serves(n, j, store))
			return true;
	}
	return false;
}

bool job_farmable(const struct job *j)
{
	return farmable(j, j->tree);
}

void send_cancel(struct node *n, uint64_t id)
{
	struct buf b = BUF_INIT;
	job_encode_cancel(&b, id);
	if (n->link && buf_ok(&b))
		(void)link_send(n->link, job_stream(id), b.data, b.len, NULL);
	buf_free(&b);
}

int job_send(struct job *j, struct node *n, uint64_t *msg_id)
{
	struct job_spec s;
	struct buf b = BUF_INIT;
	int rc;

	memset(&s, 0, sizeof s);
	s.job_id = j->id;
	const struct compiler_id *u = node_compiler(n, j, &j->pair);
	s.compiler = u ? *u : j->cid;
	s.d = j->sub.d;	/* the one job description, passed on whole */
	s.limits.timeout_ms = hub.job_timeout_s > 0 ? (uint32_t)hub.job_timeout_s * 1000u : 0;
	if (j->tree)
		return job_send_tree(j, n, &s, msg_id);
	rc = job_encode_job(&b, &s);
	if (rc == 0 && !buf_ok(&b))
		rc = -ENOMEM;
	if (rc == 0)
		rc = link_send(n->link, job_stream(j->id), b.data, b.len, msg_id);
	if (rc == 0)
		n->bytes_out += b.len;
	buf_free(&b);
	return rc;
}

void job_dispatched(struct job *j, struct node *n, uint64_t msg_id, bool from_need)
{
	job_set_state(j, JOB_SENT, JE_SENT);
	j->node = n;
	j->msg_id = msg_id;
	j->t_dispatch = now_us();
	if (!j->t_first)
		j->t_first = j->t_dispatch;
	j->deadline = job_deadline(j, n, j->t_dispatch);
	if (!from_need)
		n->running++;
	n->last_dispatch = j->t_dispatch;
	log_debug("job %llu -> %s (%zu bytes, running %u/%u)", (unsigned long long)j->id,
		  node_label(n), job_size(j), n->running, n->slots);
}

static int job_dispatch(struct job *j, struct node *n)
{
	uint64_t msg_id = 0;
	int rc = j->tree ? job_tree_dispatch(j, n, &msg_id) : job_send(j, n, &msg_id);

	if (rc < 0)
		return rc;
	if (rc == 1) {
		/* a NEED went to dcc: n's slot is held until the BLOBS come */
		job_set_state(j, JOB_NEED, JE_NEED);
		j->node = n;
		n->running++;
		n->last_dispatch = now_us();
		return 0;
	}
	job_dispatched(j, n, msg_id, false);
	return 0;
}

/* No board with a store serves this tree job, one without does: dcc
 * sends it the directives-only way (not a failure). */
static bool tree_fallback(struct job *j)
{
	struct proto_answer a = { .outcome = HUB_FALLBACK };

	if (!j->tree || farmable(j, true) || !farmable(j, false))
		return false;
	hub.tree.fallback++;
	snprintf(a.o.error, sizeof a.o.error, "no board with a store serves this compiler");
	a.queue_us = now_us() - j->t_submit;
	log_debug("job %llu: no board with a store: directives-only", (unsigned long long)j->id);
	job_finish(j, &a, JOB_HANDED_BACK, JE_HAND_BACK);
	return true;
}

void grant_local(struct job *j)
{
	struct proto_answer a = { .outcome = HUB_LOCAL };
	bool waiting = j->conn && conn_waiting(j->conn);

	a.queue_us = now_us() - j->t_submit;
	job_recovered(j, now_us());
	if (waiting) {	/* reasons.h; a pair's verdict: prove.h */
		char pl[REASON_LABEL_MAX];
		bool nofarm = !j->attempts && !job_farmable(j);
		const char *pair = nofarm && j->cid_ok ? prove_local_label(&j->cid, j->sub.d.args,
									   j->sub.d.nargs, pl, sizeof pl)
						       : NULL;
		reasons_hub_local(j->why, j->cid_ok, nofarm, pair, a.o.error, sizeof a.o.error);
		hub.jobs_local++;
		log_debug("job %llu -> local slot (%d/%d)", (unsigned long long)j->id,
			  hub.local_used + 1, hub.local_slots);
	}
	job_finish(j, &a, JOB_GRANTED, JE_GRANT_LOCAL);
}

size_t job_cands(const struct job *j, const struct node *except, uint64_t now,
		 struct sched_cand *cand, struct node **cnode)
{
	size_t nc = 0;

	if (!j->cid_ok)
		return 0;
	for (int i = 0; i < nnodes; i++) {
		struct node *n = &nodes[i];
		if (n == except || !node_up(n) || !n->slots || (j->tried & (1ull << i)) ||
		    !fo_available(&n->fo, now) || !node_has(n, j))
			continue;
		cand[nc] = (struct sched_cand){ n->speed, n->running, n->slots,
						n->has_tele ? n->tele.temp_mc : INT32_MIN,
						n->last_dispatch };
		cnode[nc++] = n;
	}
	return nc;
}

/* The best node for j now, trying the next best when a send fails. */
static bool dispatch_remote(struct job *j, unsigned ahead, uint64_t now)
{
	struct sched_cand cand[MAX_NODES];
	struct node *cnode[MAX_NODES];
	size_t nc = job_cands(j, NULL, now, cand, cnode);
	int k;

	while (nc && (k = sched_pick(cand, nc, ahead)) >= 0) {
		struct node *n = cnode[k];
		int rc = job_dispatch(j, n);
		if (rc == 0) {
			hub.jobs_remote++;
			return true;
		}
		log_warn("job %llu: cannot send to %s: %s", (unsigned long long)j->id,
			 node_label(n), strerror(-rc));
		cand[k] = cand[nc - 1];
		cnode[k] = cnode[nc - 1];
		nc--;
	}
	return false;
}

/* One pass over the queue in FIFO order. */
void schedule(void)
{
	unsigned ahead = 0;	/* jobs before this one still waiting */
	uint64_t now = now_us();

	hub.need_sched = false;
	for (struct job *j = jobs_head, *next; j; j = next) {
		next = j->next;
		if (!job_waiting(j) || (j->tree && j->need_out))
			continue;	/* a tree job waits for its BLOBS first */
		if (tree_fallback(j) || dispatch_remote(j, ahead, now))
			continue;
		if (hub.local_used < hub.local_slots) {
			grant_local(j);
			continue;
		}
		if (!job_farmable(j)) {
			if (hub.local_slots == 0) {
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
	prove_schedule();	/* canary jobs, behind every user job (prove.h) */
}
