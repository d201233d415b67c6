/* test_nodes.c — hubd's node state machine (hub/nodes.c): every (state,
 * event) pair through node_set_state() against the table written out here;
 * the node's serving state derived from its link (node_up()). */
#include "nodes.h"
#include "../lib/fsm.h"

static struct node N;

static int next(int s, int ev) { return node_next(s, ev); }
static void put(int s) { N.state = s; }
static int get(void) { return N.state; }
static int set(int to, int ev) { return node_set_state(&N, to, ev); }
static const char *sname(int s) { return node_state_name(s); }
static const char *ename(int ev) { return node_event_name(ev); }

static const struct fsm_row rows[] = {
	{ NODE_NOLINK, NE_OPENED, NODE_LINKED },
	{ NODE_NOLINK, NE_OPEN_FAILED, NODE_NOLINK },
	{ NODE_LINKED, NE_LINK_DEAD, NODE_NOLINK },
	{ NODE_LINKED, NE_IFACE_GONE, NODE_NOLINK },
};

int main(void)
{
	const struct fsm_ops ops = { NODE_NSTATES, NODE_NEVENTS, next, put, get, set, sname, ename };
	snprintf(N.iface, sizeof N.iface, "test0");
	int legal = fsm_check("node", &ops, rows, sizeof rows / sizeof rows[0]);
	T_CASE("node every row reached") {
		T_CHECK(legal == (int)(sizeof rows / sizeof rows[0]), "%d legal pairs", legal);
	}
	T_CASE("node not up without a link") {
		N.link = NULL;
		N.state = NODE_NOLINK;
		T_CHECK(!node_up(&N), "a node with no link is up");
	}
	T_CASE("node names") {
		T_CHECK(!strcmp(node_state_name(NODE_LINKED), "linked"), "%s",
			node_state_name(NODE_LINKED));
		T_CHECK(!strcmp(node_state_name(NODE_NSTATES), "?"), "out of range named");
		T_CHECK(!strcmp(node_event_name(NODE_NEVENTS), "?"), "out of range named");
	}
	return t_done();
}
