/*
 * copies.c — the failover hooks of a RUNNING job (jobs.h), applying the
 * rules of failover.c: its deadline from the node's measured speed, a
 * deadline miss (the node backed off; a second copy elsewhere, or dcc),
 * node-side errors, backup copies of stragglers near the end of a build,
 * and the first-result-wins race between two copies.
 *
 * Owns: job->copy and its times, node->fo.cancelling, hub.fo's counters.
 * Invariants: a cancelled copy's node keeps the slot counted (running)
 * until its RESULT comes (fo_cancelled_result) or its session ends; a node
 * that missed a job's deadline is in the job's `tried` set, so the late
 * RESULT of its cancelled copy never passes for a new one.
 */
#include "jobs.h"
#include "hub.h"

#include "../lib/clock.h"
#include "../lib/log.h"

#include <stdint.h>

uint64_t job_deadline(const struct job *j, const struct node *n, uint64_t now)
{
	return now + fo_deadline_us(&n->fo, nodes_slowest_spmb(), job_size(j),
				    hub_job_cap_us());
}

void cancel_on(struct node *n, uint64_t id)
{
	send_cancel(n, id);
	n->fo.cancelling++;
}

/* A RESULT for a job no longer here: the answer to one of our cancels. */
void fo_cancelled_result(struct node *n)
{
	if (!n->fo.cancelling)
		return;
	n->fo.cancelling--;
	if (n->running)
		n->running--;
	hub.need_sched = true;
}

/* The job's second copy ends: cancelled (cancel) or already gone. */
void copy_drop(struct job *j, bool cancel)
{
	struct node *c = j->copy;
	j->copy = NULL;
	if (!c)
		return;
	if (cancel)
		cancel_on(c, j->id);
	else if (c->running)
		c->running--;
	hub.need_sched = true;
}

/* The primary is gone (its node failed it): the copy, if any, takes over
 * (SENT again, RUNNING at once if the link acknowledged the copy). */
bool copy_promote(struct job *j)
{
	if (!j->copy)
		return false;
	j->node = j->copy;
	j->msg_id = j->copy_msg_id;
	j->copy = NULL;
	j->t_dispatch = j->copy_dispatch;
	j->deadline = j->copy_deadline;
	job_set_state(j, JOB_SENT, JE_TAKEOVER);
	if (j->copy_acked)
		job_set_state(j, JOB_RUNNING, JE_ACKED);
	hub.need_sched = true;
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
					fo_expected_us(&j->node->fo, job_size(j)),
					fo_expected_us(&m->fo, job_size(j))))
		return false;
	if (job_send(j, m, &j->copy_msg_id) < 0)
		return false;
	j->copy = m;
	j->copy_acked = false;
	j->copy_dispatch = now;
	j->copy_deadline = job_deadline(j, m, now);
	m->running++;
	m->last_dispatch = now;
	j->copied = true;
	hub.fo.backups_started++;
	log_info("job %llu: %s copy on %s (running on %s for %.1f s)", (unsigned long long)j->id,
		 backup ? "backup" : "second", node_label(m), node_label(j->node),
		 (double)(now - j->t_dispatch) / 1e6);
	return true;
}

/* A node failed a job for a reason of its own: backed off at once. */
void fo_node_error(struct node *n, enum fo_class cls, const char *why)
{
	if (cls != FO_NODE)
		return;
	n->fo.node_errors++;
	hub.fo.node_errors++;
	fo_backoff(&n->fo, now_us());
	hub.fo.backoffs++;
	log_warn("%s: node error (%s): backed off for %.1f s", node_label(n), why,
		 (double)(n->fo.backoff_until - now_us()) / 1e6);
}

/* A RESULT for a job with two copies. true: handled here. */
bool fo_result(struct job *j, struct node *n, const struct job_result *r)
{
	if (!j->copy)
		return false;
	if (r->farm_error) {
		fo_node_error(n, fo_classify(r->farm_error), r->o.error);
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
		hub.fo.backups_won++;
		j->node = n;
		j->t_dispatch = j->copy_dispatch;
		j->copy = loser;
	}
	copy_drop(j, true);
	return false;
}

/* The copy on n missed its deadline: n is suspect; a copy elsewhere, or dcc. */
static void job_missed(struct job *j, struct node *n, uint64_t now)
{
	log_warn("job %llu: missed its deadline on %s (%.1f s): node backed off",
		 (unsigned long long)j->id, node_label(n),
		 (double)(now - (n == j->copy ? j->copy_dispatch : j->t_dispatch)) / 1e6);
	n->fo.misses++;
	hub.fo.deadline_misses++;
	fo_backoff(&n->fo, now);
	hub.fo.backoffs++;
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
	hub.fo.fallbacks++;
	hub.need_sched = true;
	if (hub.local_used < hub.local_slots)
		grant_local(j);
	else
		job_fail(j, "deadline missed, no other node free");
}

/* Deadlines, expired backoffs, and backup copies near the end of a build. */
void fo_tick(uint64_t now)
{
	bool queued = false;

	for (struct job *j = jobs_head, *next; j; j = next) {
		next = j->next;
		queued |= job_waiting(j);
		if (j->state == JOB_CANCELLING && j->node && j->deadline && j->deadline <= now)
			job_retry(j, "cancelled job timed out");
		else if (job_on_node(j) && j->deadline && j->deadline <= now)
			job_missed(j, j->node, now);
		else if (job_on_node(j) && j->copy && j->copy_deadline <= now)
			job_missed(j, j->copy, now);
	}
	for (int i = 0; i < nnodes; i++)
		if (nodes[i].fo.backoff_until && nodes[i].fo.backoff_until <= now) {
			nodes[i].fo.backoff_until = 0;
			hub.need_sched = true;
		}
	if (queued || now < hub.fo_tick_at)
		return;
	hub.fo_tick_at = now + 200000u;
	for (struct job *j = jobs_head; j; j = j->next)
		if (job_on_node(j) && j->conn && !j->copy && j->misses == 0)
			(void)copy_start(j, now, true);
}

/* poll timeout: the nearest deadline or backoff end, or the next backup look. */
int fo_timeout_ms(uint64_t now, int timeout)
{
	uint64_t next = UINT64_MAX;
	bool running = false;

	for (struct job *j = jobs_head; j; j = j->next) {
		if (j->deadline && j->deadline < next)
			next = j->deadline;
		if (j->copy && j->copy_deadline < next)
			next = j->copy_deadline;
		running |= job_on_node(j);
	}
	for (int i = 0; i < nnodes; i++)
		if (nodes[i].fo.backoff_until && nodes[i].fo.backoff_until < next)
			next = nodes[i].fo.backoff_until;
	if (running && hub.fo_tick_at < next)
		next = hub.fo_tick_at > now ? hub.fo_tick_at : now + 200000u;
	if (next != UINT64_MAX) {
		int ms = next > now ? (int)((next - now) / 1000) + 1 : 0;
		if (ms < timeout)
			timeout = ms;
	}
	return timeout;
}
