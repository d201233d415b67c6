/*
 * jobs.h — a compile job's life in hubd, as one state machine.
 *
 * A job comes from a dcc's SUBMIT (conns.c), waits in one FIFO list, goes
 * to a node (dispatch.c), may get a second copy or a deadline miss
 * (copies.c), and ends in exactly one of four ways. Every change of
 * job->state goes through job_set_state(), which checks it against the
 * table below and logs it; the four end states are set just before the job
 * is freed (job_end()), so a job's end is one line in the log.
 *
 *   state      event             when                                next
 *   NEW        JE_IDENT_START    SUBMIT read; compiler to identify   IDENT
 *   NEW        JE_REFUSED        SUBMIT refused (cwd, policy, ident) QUEUED (why set)
 *   IDENT      JE_IDENT_DONE     identifier answered (or failed)     QUEUED
 *   QUEUED     JE_SENT           JOB queued on a node's link         SENT
 *   SENT       JE_ACKED          the link: the node has all of it    RUNNING
 *   SENT, RUNNING  JE_TAKEOVER   its node failed it, its second      SENT (then
 *                                copy takes over                     ACKED if it was)
 *   SENT, RUNNING  JE_RETRY      farm-side failure; retries left:    RETRIED
 *                                back to the head of the queue
 *   RETRIED    (as QUEUED)       it waits like a queued job          (as QUEUED)
 *   QUEUED     JE_GRANT_LOCAL    a local slot: ANSWER HUB_LOCAL      GRANTED
 *   SENT, RUNNING  JE_GRANT_LOCAL  deadline missed, a slot free     GRANTED
 *   SENT, RUNNING  JE_RESULT     the node's RESULT (first copy wins) DONE
 *   QUEUED     JE_HAND_BACK      nothing can take it: HUB_FAILED     HANDED_BACK
 *   SENT, RUNNING  JE_HAND_BACK  out of retries, a node error sent   HANDED_BACK
 *                                to dcc, a deadline with no node free
 *   IDENT, QUEUED  JE_CLIENT_GONE  dcc left before a node had it     CANCELLED
 *   SENT, RUNNING  JE_CLIENT_GONE  dcc left: CANCEL sent to the node CANCELLING
 *   CANCELLING JE_CANCEL_DONE    the node's RESULT, link down or     CANCELLED
 *                                the cancel's own deadline
 *   QUEUED     JE_NEED           a tree job's node lacks blobs dcc   NEED
 *                                has: NEED sent to dcc, the node's
 *                                slot held
 *   NEED       JE_SENT           the BLOBS came: JOB sent with them  SENT
 *   NEED       JE_RETRY          the node went meanwhile             RETRIED
 *   NEED       JE_HAND_BACK      an input changed, bad BLOBS         HANDED_BACK
 *   NEED       JE_CLIENT_GONE    dcc left                            CANCELLED
 *   NEED       JE_SHUTDOWN       hubd stops                          HANDED_BACK
 *   IDENT, QUEUED, SENT, RUNNING  JE_SHUTDOWN  hubd stops: FAILED   HANDED_BACK
 *   (RETRIED takes JE_NEED as QUEUED does)
 *   CANCELLING JE_SHUTDOWN       hubd stops                          CANCELLED
 *   anything else                refused and logged (a bug)          same
 *
 * QUEUED and RETRIED both wait (job_waiting()); RETRIED says it already
 * failed on a node (attempts, tried). SENT and RUNNING differ only in what the link said (its `sent` callback:
 * every frame of the JOB acknowledged): the node does not say when the
 * compiler starts, so RUNNING means "on the node". Both are "on a node"
 * (job_on_node()) for deadlines, copies and cancels. A second copy
 * (copy != NULL) is a detail of such a job, not a state: the first RESULT
 * ends the job, the other copy is cancelled.
 *
 * Invariants: a job is in the list (jobs_head) iff its state is not an end
 * state; conn != NULL in NEW, IDENT, QUEUED and RUNNING and NULL in
 * CANCELLING (the client left); node != NULL iff SENT, RUNNING,
 * CANCELLING or NEED (NEED: its slot held, counted in running); msg_id is the JOB message on node's link (copy_msg_id on
 * copy's);
 * node and copy are different nodes and each counts this job in `running`.
 */
#ifndef USBFARM_HUB_JOBS_H
#define USBFARM_HUB_JOBS_H

#include "failover.h"
#include "ident.h"
#include "nodes.h"
#include "schedule.h"
#include "pairs.h"
#include "proto.h"

#include "../lib/compiler.h"

#include <stdbool.h>
#include <stdint.h>

enum job_state {
	JOB_NEW,
	JOB_IDENT,
	JOB_QUEUED,
	JOB_RETRIED,
	JOB_SENT,
	JOB_RUNNING,
	JOB_CANCELLING,
	JOB_NEED,		/* a tree job waits for dcc's BLOBS, its node chosen */
	/* end states: the job is freed right after */
	JOB_DONE,
	JOB_GRANTED,
	JOB_HANDED_BACK,
	JOB_CANCELLED,
	JOB_NSTATES
};

enum job_event {
	JE_IDENT_START,
	JE_REFUSED,
	JE_IDENT_DONE,
	JE_SENT,
	JE_ACKED,
	JE_TAKEOVER,
	JE_RETRY,
	JE_GRANT_LOCAL,
	JE_RESULT,
	JE_HAND_BACK,
	JE_CLIENT_GONE,
	JE_CANCEL_DONE,
	JE_SHUTDOWN,
	JE_NEED,
	JOB_NEVENTS
};

struct conn;

#define JOB_BLOB_FRAMES 8	/* BLOBS a tree job may get (NEEDs: retries, resends) */

struct job {
	uint64_t id;
	enum job_state state;	/* written by job_set_state() only */
	struct conn *conn;	/* the dcc waiting for it */
	uint8_t *frame;		/* the SUBMIT payload; sub points into it */
	size_t held;		/* bytes of it counted by guard_hold() */
	struct proto_submit sub;
	struct compiler_id cid;
	bool cid_ok;
	const struct pair_entry *pair;	/* sent under a proven pair (hub/pairs.h) */
	struct node *node;
	uint64_t msg_id;	/* the JOB message on node's link (its `sent` callback) */
	uint64_t tried;		/* bit per node index that failed it */
	int attempts;		/* farm-side failures so far */
	uint64_t t_submit, t_dispatch, deadline;
	/* failover: a second copy on another node (first result wins) */
	struct node *copy;
	uint64_t copy_dispatch, copy_deadline, t_first;
	uint64_t copy_msg_id;
	bool copy_acked;	/* the link acknowledged the copy's JOB */
	int node_faults, misses;
	bool copied;		/* a copy was started (for the recovery figure) */
	char why[200];		/* last farm-side error */
	/* a tree job (issue 11): inputs by hash (t.in views into frame); the
	 * bytes dcc sent for input i are have[i] (views into blob_frames) */
	bool tree;
	struct job_tree t;
	uint64_t scan_us, tree_bytes;	/* tree_bytes: the files' sizes */
	struct tree_have {
		const uint8_t *p;
		size_t len;
	} *have;			/* [t.nin], NULL until a BLOBS */
	uint8_t *blob_frames[JOB_BLOB_FRAMES];
	size_t nframes, blob_held;
	bool need_out;		/* a NEED was sent, its BLOBS not read yet */
	int resends;		/* RESULT -ENOENT answered with a resend */
	bool travel;		/* last sent with the hub's toolchain (toolchain.h) */
	int stale_resends;	/* RESULT -ESTALE answered with a resend */
	struct job *prev, *next;	/* all live jobs, FIFO */
};

extern struct job *jobs_head;

const char *job_state_name(enum job_state s);
const char *job_event_name(enum job_event e);
/* The table above: the next state, or -1 if ev is illegal in s. */
int job_next(enum job_state s, enum job_event ev);
/* The one writer of j->state; logs the change. -EINVAL (state kept,
 * logged) if the table has no such transition. */
int job_set_state(struct job *j, enum job_state to, enum job_event ev);
bool job_state_ended(enum job_state s);
/* QUEUED or RETRIED: the job waits for a node or a local slot. */
bool job_waiting(const struct job *j);
/* SENT or RUNNING: the job is on a node (deadlines, copies, cancels). */
bool job_on_node(const struct job *j);

/* ---- jobs.c: life and end ---- */
/* A SUBMIT frame read by conn c: the new job (queued or being identified),
 * which owns the frame from now on; NULL (malformed, no memory): c keeps it. */
struct job *jobs_submit(struct conn *c, uint8_t *frame, size_t len, size_t held);
/* A decoded SUBMIT (sub's args are the job's now): the new job, NEW, in
 * the list, not identified yet (jobs_identify); NULL: no memory. */
struct job *jobs_submit_decoded(struct conn *c, uint8_t *frame, size_t held,
				const struct proto_submit *sub);
void jobs_identify(struct conn *c, struct job *j);
/* The same for a SUBMIT_TREE (jobs_tree.c). */
struct job *jobs_submit_tree(struct conn *c, uint8_t *frame, size_t len, size_t held);
/* A BLOBS frame from j's client (jobs_tree.c): the job owns it from now
 * on (freed, its held bytes released, when the job ends). */
void jobs_on_blobs(struct job *j, uint8_t *frame, size_t len, size_t held);
/* A tree job's RESULT whose farm_error is a tree job's own (-ENOENT,
 * -EXDEV, -ENOEXEC): handled (true), or false (as any farm error). */
/* A tree job's RESULT as it arrives (jobs_tree.c): the JOB's input
 * definitions confirmed (holdings.h); its dependency file unpacked (a
 * failure makes r a farm error -EPROTO); with hubd -v, its parts logged. */
void jobs_tree_on_result(struct node *n, struct job_result *r, const uint8_t *msg, size_t len);
bool jobs_tree_result(struct job *j, struct node *n, const struct job_result *r);
/* A SUBMIT's text_why counted (hub.tree.text). */
void jobs_count_text(const char *why);
/* The input bytes a job's deadline and speed figure count. */
size_t job_size(const struct job *j);
/* The names a tree job's node uses: 0 or -EPERM with why. */
int job_tree_admit(const struct job *j, char *why, size_t wl);
/* The JOB of a tree job for n, spec s filled but its tree (jobs_tree.c):
 * -EAGAIN when n lacks a blob dcc has not sent. */
int job_send_tree(struct job *j, struct node *n, struct job_spec *s, uint64_t *msg_id);
/* The JOB is on n's link: SENT there (from_need: the slot was held). */
void job_dispatched(struct job *j, struct node *n, uint64_t msg_id, bool from_need);
/* Frees a job's tree part (job_end). */
void job_tree_free(struct job *j);
/* Where a waiting tree job goes on n (dispatch.c): 0 (the JOB sent), 1
 * (a NEED sent to dcc: state NEED), or -errno. */
int job_tree_dispatch(struct job *j, struct node *n, uint64_t *msg_id);
struct job *jobs_find(uint64_t id);
/* Ends the job (an end state) and frees it; answers nobody. */
void job_end(struct job *j, enum job_state to, enum job_event ev);
/* Answers the job's client (if still waiting) and ends the job. */
void job_finish(struct job *j, const struct proto_answer *a, enum job_state to,
		enum job_event ev);
void job_fail(struct job *j, const char *why);
/* job_fail with the answer made by the caller (a.o.error set; a tree job's
 * unsent names). */
void job_fail_with(struct job *j, struct proto_answer *a);
/* The job no longer holds a slot on its node (node = NULL). */
void job_release_node(struct job *j);
/* SENT/RUNNING -> RETRIED, no failure counted: sent again (a tree job
 * whose board lacked blobs). */
void job_resend(struct job *j);
/* A farm-side failure on the job's node (cls: failover.h). */
void job_requeue(struct job *j, const char *why, enum fo_class cls);
void job_retry(struct job *j, const char *why);
/* The job's client left. */
void job_client_gone(struct job *j);
void jobs_node_down(struct node *n, int reason);
/* The link acknowledged message msg_id on n (its `sent` callback, status 0). */
void jobs_on_acked(struct node *n, uint64_t msg_id);
void jobs_on_result(struct node *n, const uint8_t *data, size_t len);
void jobs_on_ident(uint64_t tag, const struct ident_result *r, void *user);
void jobs_shutdown(void);
/* A job that had trouble on a node is done or handed back: recovery figure. */
void job_recovered(const struct job *j, uint64_t now);

/* ---- dispatch.c: choosing a node or a local slot ---- */
void schedule(void);
const struct compiler_id *node_compiler(const struct node *n, const struct job *j,
					const struct pair_entry **pe);
bool job_farmable(const struct job *j);
size_t job_cands(const struct job *j, const struct node *except, uint64_t now,
		 struct sched_cand *cand, struct node **cnode);
/* Queues the JOB on n's link; its message id in *msg_id. 0 or -errno. */
int job_send(struct job *j, struct node *n, uint64_t *msg_id);
void grant_local(struct job *j);
void send_cancel(struct node *n, uint64_t id);
void log_verdicts(const struct compiler_id *id);

/* ---- copies.c: deadlines, second copies, backups (failover.c's rules) ---- */
uint64_t job_deadline(const struct job *j, const struct node *n, uint64_t now);
void cancel_on(struct node *n, uint64_t id);
void fo_cancelled_result(struct node *n);
void copy_drop(struct job *j, bool cancel);
bool copy_promote(struct job *j);
void fo_node_error(struct node *n, enum fo_class cls, const char *why);
bool fo_result(struct job *j, struct node *n, const struct job_result *r);
void fo_tick(uint64_t now);
int fo_timeout_ms(uint64_t now, int timeout);

#endif
