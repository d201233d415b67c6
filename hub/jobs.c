/*
 * jobs.c — a job's life (jobs.h): the transition table and its one writer,
 * SUBMIT and identification, the four ends, retries, the client leaving,
 * a node's session ending, the node's RESULT.
 *
 * Owns: jobs_head (the FIFO of live jobs) and every job's state; the
 * dispatcher (dispatch.c) and the failover hooks (copies.c) change a job's
 * state through job_set_state() too. Invariant: a job leaves the list only
 * in job_end(), after its end state is set and logged.
 */
#include "jobs.h"
#include "admit.h"
#include "client.h"
#include "conns.h"
#include "equiv.h"
#include "guard.h"
#include "hub.h"
#include "reasons.h"
#include "toolchain.h"
#include "prove.h"
#include "verify.h"

#include "../lib/clock.h"
#include "../lib/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct job *jobs_head;

static const char *const state_names[JOB_NSTATES] = {
	"new", "ident", "queued", "retried", "sent", "running", "cancelling", "need",
	"done", "granted", "handed-back", "cancelled",
};
static const char *const event_names[JOB_NEVENTS] = {
	"ident-start", "refused", "ident-done", "sent", "acked", "takeover", "retry", "grant-local",
	"result", "hand-back", "client-gone", "cancel-done", "shutdown", "need",
};

const char *job_state_name(enum job_state s)
{
	return (unsigned)s < JOB_NSTATES ? state_names[s] : "?";
}

const char *job_event_name(enum job_event e)
{
	return (unsigned)e < JOB_NEVENTS ? event_names[e] : "?";
}

bool job_state_ended(enum job_state s)
{
	return s >= JOB_DONE && s < JOB_NSTATES;
}

int job_next(enum job_state s, enum job_event ev)
{
	switch (s) {
	case JOB_NEW:
		return ev == JE_IDENT_START ? JOB_IDENT : ev == JE_REFUSED ? JOB_QUEUED : -1;
	case JOB_IDENT:
		switch (ev) {
		case JE_IDENT_DONE: return JOB_QUEUED;
		case JE_CLIENT_GONE: return JOB_CANCELLED;
		case JE_SHUTDOWN: return JOB_HANDED_BACK;
		default: return -1;
		}
	case JOB_QUEUED:
	case JOB_RETRIED:
		switch (ev) {
		case JE_SENT: return JOB_SENT;
		case JE_GRANT_LOCAL: return JOB_GRANTED;
		case JE_HAND_BACK: return JOB_HANDED_BACK;
		case JE_CLIENT_GONE: return JOB_CANCELLED;
		case JE_SHUTDOWN: return JOB_HANDED_BACK;
		case JE_NEED: return JOB_NEED;
		default: return -1;
		}
	case JOB_NEED:
		switch (ev) {
		case JE_SENT: return JOB_SENT;
		case JE_RETRY: return JOB_RETRIED;
		case JE_HAND_BACK: return JOB_HANDED_BACK;
		case JE_CLIENT_GONE: return JOB_CANCELLED;
		case JE_SHUTDOWN: return JOB_HANDED_BACK;
		default: return -1;
		}
	case JOB_SENT:
	case JOB_RUNNING:
		switch (ev) {
		case JE_ACKED: return s == JOB_SENT ? JOB_RUNNING : -1;
		case JE_TAKEOVER: return JOB_SENT;
		case JE_RETRY: return JOB_RETRIED;
		case JE_GRANT_LOCAL: return JOB_GRANTED;
		case JE_RESULT: return JOB_DONE;
		case JE_HAND_BACK: return JOB_HANDED_BACK;
		case JE_CLIENT_GONE: return JOB_CANCELLING;
		case JE_SHUTDOWN: return JOB_HANDED_BACK;
		default: return -1;
		}
	case JOB_CANCELLING:
		return ev == JE_CANCEL_DONE || ev == JE_SHUTDOWN ? JOB_CANCELLED : -1;
	default:
		return -1;	/* an end state: nothing more happens */
	}
}

bool job_waiting(const struct job *j)
{
	return j->state == JOB_QUEUED || j->state == JOB_RETRIED;
}

bool job_on_node(const struct job *j)
{
	return j->state == JOB_SENT || j->state == JOB_RUNNING;
}

int job_set_state(struct job *j, enum job_state to, enum job_event ev)
{
	enum job_state from = j->state;

	if (job_next(from, ev) != (int)to) {
		log_warn("job %llu: illegal event %s in state %s (to %s) refused",
			 (unsigned long long)j->id, job_event_name(ev), job_state_name(from),
			 job_state_name(to));
		return -EINVAL;
	}
	j->state = to;
	log_debug("job %llu: %s -> %s (%s)", (unsigned long long)j->id, job_state_name(from),
		  job_state_name(to), job_event_name(ev));
	return 0;
}

/* ---- ends ---- */

void job_end(struct job *j, enum job_state to, enum job_event ev)
{
	if (job_set_state(j, to, ev) < 0)
		log_err("job %llu: ended from state %s anyway", (unsigned long long)j->id,
			job_state_name(j->state));
	if (j->prev)
		j->prev->next = j->next;
	else
		jobs_head = j->next;
	if (j->next)
		j->next->prev = j->prev;
	if (j->conn)
		conn_job_gone(j->conn);
	proto_submit_free(&j->sub);
	job_tree_free(j);
	free(j->frame);
	guard_release(j->held);
	free(j);
}

void job_finish(struct job *j, const struct proto_answer *a, enum job_state to,
		enum job_event ev)
{
	if (j->conn && conn_waiting(j->conn))
		conn_answer(j->conn, a);
	job_end(j, to, ev);
}

void job_recovered(const struct job *j, uint64_t now)
{
	if ((j->attempts || j->node_faults || j->misses || j->copied) && j->t_first &&
	    now - j->t_first > hub.fo.recovery_us_max)
		hub.fo.recovery_us_max = now - j->t_first;
}

void job_fail_with(struct job *j, struct proto_answer *a)
{
	job_recovered(j, now_us());
	a->outcome = HUB_FAILED;
	a->queue_us = now_us() - j->t_submit;
	a->total_us = a->queue_us;
	hub.jobs_failed++;
	reasons_hub_failed(a->o.error);
	log_info("job %llu (%s): failed on the farm, compiled locally: %s",
		 (unsigned long long)j->id, j->sub.source[0] ? j->sub.source : j->sub.d.input_name,
		 a->o.error);
	job_finish(j, a, JOB_HANDED_BACK, JE_HAND_BACK);
}

void job_fail(struct job *j, const char *why)
{
	struct proto_answer a = { .outcome = HUB_FAILED };
	snprintf(a.o.error, sizeof a.o.error, "%s", why);
	job_fail_with(j, &a);
}

void job_release_node(struct job *j)
{
	if (j->node && j->node->running)
		j->node->running--;
	j->node = NULL;
	hub.need_sched = true;
}

/* ---- retries ---- */

/* Back to the head of the queue: it waited its turn already. */
static void job_to_head(struct job *j)
{
	if (!j->prev)
		return;
	j->prev->next = j->next;
	if (j->next)
		j->next->prev = j->prev;
	j->prev = NULL;
	j->next = jobs_head;
	jobs_head->prev = j;
	jobs_head = j;
}

void job_requeue(struct job *j, const char *why, enum fo_class cls)
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
	hub.need_sched = true;
	if (j->state == JOB_CANCELLING) {
		job_end(j, JOB_CANCELLED, JE_CANCEL_DONE);
		return;
	}
	if (copy_promote(j))
		return;
	if (cls == FO_LOCAL) {
		hub.fo.fallbacks++;
		job_fail(j, j->why);
		return;
	}
	if (cls != FO_NODE || ++j->node_faults > FO_MAX_NODE_FAULTS)
		j->attempts++;
	if (j->attempts > hub.retries) {
		job_fail(j, j->why);
		return;
	}
	log_info("job %llu: retrying (%d/%d) after %s", (unsigned long long)j->id, j->attempts,
		 hub.retries, j->why);
	hub.jobs_retried++;
	job_set_state(j, JOB_RETRIED, JE_RETRY);
	j->deadline = 0;
	j->t_submit = j->t_submit ? j->t_submit : now_us();
	job_to_head(j);
}

void job_retry(struct job *j, const char *why)
{
	job_requeue(j, why, FO_RETRY);
}

void job_resend(struct job *j)
{
	job_set_state(j, JOB_RETRIED, JE_RETRY);
	j->deadline = 0;
	job_to_head(j);
	hub.need_sched = true;
}

void job_client_gone(struct job *j)
{
	j->conn = NULL;
	if (j->copy)
		copy_drop(j, true);
	if (job_on_node(j)) {
		log_debug("job %llu: client left, cancelling on %s", (unsigned long long)j->id,
			  node_label(j->node));
		send_cancel(j->node, j->id);
		job_set_state(j, JOB_CANCELLING, JE_CLIENT_GONE);
	} else if (job_waiting(j) || j->state == JOB_IDENT) {
		log_debug("job %llu: client left while queued", (unsigned long long)j->id);
		job_end(j, JOB_CANCELLED, JE_CLIENT_GONE);
	} else if (j->state == JOB_NEED) {
		log_debug("job %llu: client left before its blobs", (unsigned long long)j->id);
		job_release_node(j);
		job_end(j, JOB_CANCELLED, JE_CLIENT_GONE);
	}
}

void jobs_node_down(struct node *n, int reason)
{
	prove_node_down(n);
	for (struct job *j = jobs_head, *next; j; j = next) {
		next = j->next;
		if (j->node == n)
			job_retry(j, reason == -ESTALE ? "node restarted" : "link down");
		else if (j->copy == n)
			copy_drop(j, false);
	}
}

void jobs_on_acked(struct node *n, uint64_t msg_id)
{
	if (n->hold)	/* the board has a tree JOB's input definitions */
		holdings_dict_acked(n->hold, msg_id);
	for (struct job *j = jobs_head; j; j = j->next) {
		if (j->node == n && j->msg_id == msg_id) {
			if (j->state == JOB_SENT)
				job_set_state(j, JOB_RUNNING, JE_ACKED);
			return;
		}
		if (j->copy == n && j->copy_msg_id == msg_id) {
			j->copy_acked = true;
			return;
		}
	}
}

struct job *jobs_find(uint64_t id)
{
	for (struct job *j = jobs_head; j; j = j->next)
		if (j->id == id)
			return j;
	return NULL;
}

void jobs_shutdown(void)
{
	struct proto_answer a = { .outcome = HUB_FAILED };
	snprintf(a.o.error, sizeof a.o.error, "hubd is shutting down");
	for (struct job *j = jobs_head, *next; j; j = next) {
		next = j->next;
		if (j->node && !job_waiting(j) && j->state != JOB_NEED)
			send_cancel(j->node, j->id);
		if (j->copy)
			send_cancel(j->copy, j->id);
		if (j->conn && conn_waiting(j->conn))
			conn_answer_now(j->conn, &a);
		job_end(j, j->state == JOB_CANCELLING ? JOB_CANCELLED : JOB_HANDED_BACK,
			JE_SHUTDOWN);
	}
}

/* ---- SUBMIT and identification ---- */

void jobs_on_ident(uint64_t tag, const struct ident_result *r, void *user)
{
	struct job *j = jobs_find(tag);
	(void)user;

	if (!j || j->state != JOB_IDENT)
		return;
	if (r->rc == 0) {
		j->cid = r->id;
		j->cid_ok = true;
		if (pairs_note(&hub.asked, &j->cid, j->sub.d.args, j->sub.d.nargs))
			log_verdicts(&j->cid);
	} else {
		snprintf(j->why, sizeof j->why, "compiler %.100s not identified: %.70s",
			 j->sub.compiler, r->why);
	}
	job_set_state(j, JOB_QUEUED, JE_IDENT_DONE);
	hub.need_sched = true;
}

/* Sets the job's identity, or starts finding it (IDENT), or says why not
 * (QUEUED with `why`: it can only be compiled locally). */
void jobs_identify(struct conn *c, struct job *j)
{
	struct ident_result r;
	char why[160];
	int rc;

	if (j->sub.d.cwd[0] != '/') {
		/* the node maps its dir to it (DW_AT_comp_dir): no guessing */
		snprintf(j->why, sizeof j->why, "working directory not absolute");
		job_set_state(j, JOB_QUEUED, JE_REFUSED);
		return;
	}
	if ((j->tree ? job_tree_admit(j, why, sizeof why) : admit_job(&j->sub, why, sizeof why)) < 0) {
		snprintf(j->why, sizeof j->why, "job refused by the node policy: %s", why);
		job_set_state(j, JOB_QUEUED, JE_REFUSED);
		return;
	}
	rc = ident_lookup(conn_fd(c), j->sub.compiler, j->id, &r);
	if (rc >= 0) {
		job_set_state(j, JOB_IDENT, JE_IDENT_START);
		if (rc > 0)	/* known already: answered at once */
			jobs_on_ident(j->id, &r, NULL);
		return;
	}
	snprintf(j->why, sizeof j->why, "compiler %.100s not identified: %.70s",
		 j->sub.compiler, r.why);
	job_set_state(j, JOB_QUEUED, JE_REFUSED);
}

struct job *jobs_submit_decoded(struct conn *c, uint8_t *frame, size_t held,
				const struct proto_submit *sub)
{
	struct job *j = calloc(1, sizeof *j), *t;

	if (!j)
		return NULL;
	j->sub = *sub;
	j->frame = frame;
	j->held = held;
	j->id = hub.next_job_id++;
	j->conn = c;
	j->t_submit = now_us();
	j->state = JOB_NEW;
	hub.jobs_total++;
	/* Append to the job list (FIFO); the caller identifies it. */
	if (!jobs_head) {
		jobs_head = j;
	} else {
		for (t = jobs_head; t->next; t = t->next)
			;
		t->next = j;
		j->prev = t;
	}
	hub.need_sched = true;
	return j;
}

struct job *jobs_submit(struct conn *c, uint8_t *frame, size_t len, size_t held)
{
	struct proto_submit sub;
	struct job *j;
	int rc = proto_decode_submit(frame, len, &sub);

	if (rc < 0) {
		log_warn("malformed job from a client: %s", strerror(-rc));
		return NULL;
	}
	j = jobs_submit_decoded(c, frame, held, &sub);
	if (!j) {
		proto_submit_free(&sub);
		return NULL;
	}
	jobs_count_text(j->sub.text_why);
	jobs_identify(c, j);
	log_debug("job %llu queued: %s (%zu bytes)", (unsigned long long)j->id,
		  j->sub.source[0] ? j->sub.source : j->sub.d.input_name, j->sub.d.input_len);
	return j;
}

/* ---- the node's RESULT ---- */

/* The answer to dcc for a compile that ran: the node's outcome, whole,
 * its object rewritten for a pair (fixed). */
static void result_answer(struct job *j, struct node *n, const struct job_result *r,
			  const struct buf *fixed, uint64_t t)
{
	struct proto_answer a = { .outcome = HUB_DONE, .o = r->o };

	snprintf(a.node, sizeof a.node, "%s", n->name[0] ? n->name : n->peer);
	a.o.error[0] = 0;	/* the node's notes are not dcc's (verify below) */
	if (fixed) {
		a.o.obj = fixed->data;
		a.o.obj_len = fixed->len;
	}
	a.o.cpu_us = 0;
	a.queue_us = j->t_dispatch - j->t_submit;
	a.total_us = t - j->t_submit;
	if (r->o.status == 0 && !r->o.out_len && !r->o.err_len && r->o.obj_len)	/* verify.h */
		verify_on_done(a.node, &j->cid, j->sub.source[0] ? j->sub.source : j->sub.d.input_name,
			       a.o.error, sizeof a.o.error);
	log_debug("job %llu done on %s: status %d, obj %zu bytes", (unsigned long long)j->id,
		  node_label(n), r->o.status, r->o.obj_len);
	job_finish(j, &a, JOB_DONE, JE_RESULT);
}

/* The compile ran on n: measures n, answers dcc. */
static void result_done(struct job *j, struct node *n, const struct job_result *r)
{
	struct buf fixed = BUF_INIT;
	uint64_t t = now_us();
	double took = (double)(t - j->t_dispatch);

	if (took > 0 && job_size(j) > 0)
		n->speed = sched_update_speed(n->speed, (double)job_size(j) / took);
	fo_measure(&n->fo, job_size(j), t - j->t_dispatch);
	fo_success(&n->fo);
	job_recovered(j, t);
	n->jobs_done++;
	if (n->running)
		n->running--;
	bool patched = j->pair && r->o.obj_len;	/* a proven pair: the hub compiler's ident */
	if (patched && equiv_comment_patch(r->o.obj, r->o.obj_len, j->pair->ident, &fixed)) {
		buf_free(&fixed);
		job_retry(j, "object of a proven pair refused by the ident rewrite");
		return;
	}
	result_answer(j, n, r, patched ? &fixed : NULL, t);
	buf_free(&fixed);
	hub.need_sched = true;
}

static void on_result(struct node *n, const struct job_result *r);

void jobs_on_result(struct node *n, const uint8_t *data, size_t len)
{
	struct job_result r;
	int rc = job_decode_result(data, len, &r);

	if (rc < 0) {
		log_warn("%s: malformed RESULT (%zu bytes) dropped", node_label(n), len);
		return;
	}
	n->bytes_in += len;
	jobs_tree_on_result(n, &r, data, len);
	if (prove_on_result(n, &r)) {	/* a canary job (hub/prove.h) */
		job_result_free(&r);
		return;
	}
	on_result(n, &r);
	job_result_free(&r);
}

static void on_result(struct node *n, const struct job_result *rp)
{
	const struct job_result r = *rp;
	struct job *j = jobs_find(r.job_id);

	if (!j || (j->node != n && j->copy != n)) {
		log_debug("%s: RESULT for job %llu that is no longer here", node_label(n),
			  (unsigned long long)r.job_id);
		fo_cancelled_result(n);
		return;
	}
	if (r.farm_error == -ENOENT && n->hold)
		for (size_t i = 0; i < r.nmissing; i++)	/* whichever copy it was */
			holdings_forget(n->hold, r.missing[i]);
	if (fo_result(j, n, &r))
		return;
	if (j->state == JOB_CANCELLING) {
		if (n->running)
			n->running--;
		job_end(j, JOB_CANCELLED, JE_CANCEL_DONE);
		hub.need_sched = true;
		return;
	}
	if (j->tree && j->travel)
		toolchain_result(n, &j->cid, r.farm_error, r.o.error);
	if (r.farm_error && jobs_tree_result(j, n, &r))
		return;
	if (r.farm_error) {
		char why[200];
		enum fo_class cls = fo_classify(r.farm_error);
		snprintf(why, sizeof why, "%.150s (%.40s)", r.o.error[0] ? r.o.error : "node refused",
			 strerror(-r.farm_error));
		fo_node_error(n, cls, why);
		job_requeue(j, why, cls);
		return;
	}
	result_done(j, n, &r);
}
