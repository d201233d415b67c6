/* test_jobs.c — a job's life in hubd (hub/jobs.c): every (state, event)
 * pair through job_set_state() against the table written out here (the
 * one in jobs.h), which states are ends, which are on a node. */
#include "jobs.h"
#include "../lib/fsm.h"

static struct job J;

static int next(int s, int ev) { return job_next(s, ev); }
static void put(int s) { J.state = s; }
static int get(void) { return J.state; }
static int set(int to, int ev) { return job_set_state(&J, to, ev); }
static const char *sname(int s) { return job_state_name(s); }
static const char *ename(int ev) { return job_event_name(ev); }

/* what a waiting job (QUEUED or RETRIED) may do */
#define WAITING(s) { s, JE_SENT, JOB_SENT }, { s, JE_GRANT_LOCAL, JOB_GRANTED }, \
	{ s, JE_HAND_BACK, JOB_HANDED_BACK }, { s, JE_CLIENT_GONE, JOB_CANCELLED }, \
	{ s, JE_SHUTDOWN, JOB_HANDED_BACK }, { s, JE_NEED, JOB_NEED }
/* what a job on a node (SENT or RUNNING) may do */
#define ON_NODE(s) { s, JE_TAKEOVER, JOB_SENT }, { s, JE_RETRY, JOB_RETRIED }, \
	{ s, JE_GRANT_LOCAL, JOB_GRANTED }, { s, JE_RESULT, JOB_DONE }, \
	{ s, JE_HAND_BACK, JOB_HANDED_BACK }, { s, JE_CLIENT_GONE, JOB_CANCELLING }, \
	{ s, JE_SHUTDOWN, JOB_HANDED_BACK }
static const struct fsm_row rows[] = {
	{ JOB_NEW, JE_IDENT_START, JOB_IDENT },
	{ JOB_NEW, JE_REFUSED, JOB_QUEUED },
	{ JOB_IDENT, JE_IDENT_DONE, JOB_QUEUED },
	{ JOB_IDENT, JE_CLIENT_GONE, JOB_CANCELLED },
	{ JOB_IDENT, JE_SHUTDOWN, JOB_HANDED_BACK },
	WAITING(JOB_QUEUED), WAITING(JOB_RETRIED),
	{ JOB_SENT, JE_ACKED, JOB_RUNNING },
	ON_NODE(JOB_SENT), ON_NODE(JOB_RUNNING),
	{ JOB_CANCELLING, JE_CANCEL_DONE, JOB_CANCELLED },
	{ JOB_CANCELLING, JE_SHUTDOWN, JOB_CANCELLED },
	/* a tree job waiting for dcc's BLOBS, its node chosen */
	{ JOB_NEED, JE_SENT, JOB_SENT },
	{ JOB_NEED, JE_RETRY, JOB_RETRIED },
	{ JOB_NEED, JE_HAND_BACK, JOB_HANDED_BACK },
	{ JOB_NEED, JE_CLIENT_GONE, JOB_CANCELLED },
	{ JOB_NEED, JE_SHUTDOWN, JOB_HANDED_BACK },
};

int main(void)
{
	const struct fsm_ops ops = { JOB_NSTATES, JOB_NEVENTS, next, put, get, set, sname, ename };
	J.id = 42;
	int legal = fsm_check("job", &ops, rows, sizeof rows / sizeof rows[0]);
	T_CASE("job every row reached") {
		T_CHECK(legal == (int)(sizeof rows / sizeof rows[0]), "%d legal pairs", legal);
	}
	T_CASE("job end states") {
		for (int s = 0; s < JOB_NSTATES; s++) {
			bool end = s == JOB_DONE || s == JOB_GRANTED || s == JOB_HANDED_BACK ||
				   s == JOB_CANCELLED;
			T_CHECK(job_state_ended(s) == end, "%s", job_state_name(s));
			/* an end state has no way out */
			for (int ev = 0; end && ev < JOB_NEVENTS; ev++)
				T_CHECK(job_next(s, ev) < 0, "%s leaves by %s", job_state_name(s),
					job_event_name(ev));
		}
	}
	T_CASE("job waiting") {
		for (int s = 0; s < JOB_NSTATES; s++) {
			J.state = s;
			T_CHECK(job_waiting(&J) == (s == JOB_QUEUED || s == JOB_RETRIED), "%s",
				job_state_name(s));
		}
	}
	T_CASE("job on a node") {
		for (int s = 0; s < JOB_NSTATES; s++) {
			J.state = s;
			T_CHECK(job_on_node(&J) == (s == JOB_SENT || s == JOB_RUNNING), "%s",
				job_state_name(s));
		}
	}
	T_CASE("job every live state can end") {
		for (int s = JOB_IDENT; s < JOB_DONE; s++) {
			bool ends = false;
			for (int ev = 0; ev < JOB_NEVENTS; ev++)
				ends |= job_next(s, ev) >= 0 && job_state_ended(job_next(s, ev));
			T_CHECK(ends, "%s never ends", job_state_name(s));
		}
	}
	return t_done();
}
