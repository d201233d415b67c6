/* test_conns.c — hubd's client connections (hub/conns.c): every (state,
 * event) pair through conn_set_state() against the table written out here,
 * and the local slot it counts: held exactly in ANSWER_LOCAL and LOCAL. */
#include "conns.h"
#include "hub.h"
#include "../lib/fsm.h"

static struct conn C;

static int next(int s, int ev) { return conn_next(s, ev); }
static void put(int s)
{
	C.state = s;
	hub.local_used = conn_state_holds_local(s) ? 1 : 0;
}
static int get(void) { return C.state; }
static int set(int to, int ev) { return conn_set_state(&C, to, ev); }
static const char *sname(int s) { return conn_state_name(s); }
static const char *ename(int ev) { return conn_event_name(ev); }

#define GONE(s) { s, CE_GONE, CONN_CLOSED }, { s, CE_ERROR, CONN_CLOSED }
static const struct fsm_row rows[] = {
	{ CONN_READ, CE_SUBMIT, CONN_WAIT },
	{ CONN_READ, CE_REPLY, CONN_ANSWER },
	{ CONN_READ, CE_HANDLED, CONN_CLOSED },
	{ CONN_READ, CE_BAD, CONN_CLOSED },
	{ CONN_READ, CE_IDLE, CONN_CLOSED },
	{ CONN_WAIT, CE_REPLY, CONN_ANSWER },
	{ CONN_WAIT, CE_LOCAL, CONN_ANSWER_LOCAL },
	{ CONN_ANSWER, CE_WRITTEN, CONN_CLOSED },
	{ CONN_ANSWER, CE_IDLE, CONN_CLOSED },
	{ CONN_ANSWER_LOCAL, CE_WRITTEN, CONN_LOCAL },
	{ CONN_ANSWER_LOCAL, CE_IDLE, CONN_CLOSED },
	GONE(CONN_READ), GONE(CONN_WAIT), GONE(CONN_ANSWER), GONE(CONN_ANSWER_LOCAL),
	GONE(CONN_LOCAL),
};

int main(void)
{
	const struct fsm_ops ops = { CONN_NSTATES, CONN_NEVENTS, next, put, get, set, sname, ename };
	C.fd = -1;
	int legal = fsm_check("conn", &ops, rows, sizeof rows / sizeof rows[0]);
	T_CASE("conn every row reached") {
		T_CHECK(legal == (int)(sizeof rows / sizeof rows[0]), "%d legal pairs", legal);
	}
	/* the slot follows the state on every legal transition */
	T_CASE("conn local slot follows the state") {
		for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
			put(rows[i].from);
			hub.need_sched = false;
			int before = hub.local_used;
			T_CHECK(conn_set_state(&C, rows[i].to, rows[i].ev) == 0, "row %zu", i);
			int want = conn_state_holds_local(rows[i].to) ? 1 : 0;
			T_CHECK(hub.local_used == want, "%s -> %s: local_used %d, want %d",
				conn_state_name(rows[i].from), conn_state_name(rows[i].to),
				hub.local_used, want);
			T_CHECK(hub.need_sched == (before > want), "%s -> %s: need_sched %d",
				conn_state_name(rows[i].from), conn_state_name(rows[i].to),
				hub.need_sched);
		}
	}
	T_CASE("conn a refused event keeps the slot") {
		put(CONN_LOCAL);
		T_CHECK(conn_set_state(&C, CONN_WAIT, CE_SUBMIT) < 0 && hub.local_used == 1,
			"local_used %d", hub.local_used);
	}
	T_CASE("conn the whole life of a local compile") {
		put(CONN_READ);
		T_CHECK(conn_set_state(&C, CONN_WAIT, CE_SUBMIT) == 0, "submit");
		T_CHECK(conn_set_state(&C, CONN_ANSWER_LOCAL, CE_LOCAL) == 0 && hub.local_used == 1,
			"granted: %d", hub.local_used);
		T_CHECK(conn_set_state(&C, CONN_LOCAL, CE_WRITTEN) == 0 && hub.local_used == 1,
			"written: %d", hub.local_used);
		T_CHECK(conn_set_state(&C, CONN_CLOSED, CE_GONE) == 0 && hub.local_used == 0,
			"closed: %d", hub.local_used);
		T_CHECK(conn_waiting(&C) == false, "closed waits");
	}
	return t_done();
}
