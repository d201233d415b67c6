/* test_nodes.c — hubd's node state machine (hub/nodes.c): every (state,
 * event) pair through node_set_state() against the table written out here;
 * the node's serving state derived from its link (node_up()); the node
 * table's life of a removed board: gone, listed until --forget-after, then
 * a free slot that the next board reuses, its counters kept if it comes
 * back in time. */
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
	{ NODE_NOLINK, NE_REMOVED, NODE_GONE },
	{ NODE_LINKED, NE_REMOVED, NODE_GONE },
	{ NODE_GONE, NE_OPENED, NODE_LINKED },
	{ NODE_GONE, NE_OPEN_FAILED, NODE_NOLINK },
	{ NODE_GONE, NE_FORGOTTEN, NODE_FREE },
};

static int listed(void)
{
	int k = 0;
	for (int i = 0; i < nnodes; i++)
		k += node_listed(&nodes[i]);
	return k;
}

/* Three boards enrolled; the middle one's interface is removed. */
static void removed_board(void)
{
	const uint64_t t0 = 1000000000u;
	struct node *a = nodes_add("enxa"), *b = nodes_add("enxb"), *c = nodes_add("enxc");

	a->enrolled = b->enrolled = c->enrolled = true;
	b->sessions = 3;
	snprintf(b->peer, sizeof b->peer, "BOARD-B");
	nodes_forget_s = 30;
	T_CASE("nodes a removed board is gone, still listed, not relinked") {
		node_removed(b, t0);
		T_CHECK(b->state == NODE_GONE, "state %s", node_state_name(b->state));
		T_CHECK(listed() == 3, "%d listed", listed());
		T_CHECK(b->relink_at == 0 && !b->link && !node_up(b), "relink %llu",
			(unsigned long long)b->relink_at);
		T_CHECK(b->removals == 1, "%llu removals", (unsigned long long)b->removals);
		node_removed(b, t0 + 5000000u);	/* a second GONE event: no change */
		T_CHECK(b->removals == 1 && b->forget_at == t0 + 30000000u, "forget at %llu",
			(unsigned long long)b->forget_at);
	}
	T_CASE("nodes a gone board plugged back keeps its entry") {
		T_CHECK(nodes_find("enxb") == b, "not found by its stable name");
		T_CHECK(nodes_add("enxb") == b && nnodes == 3, "%d nodes", nnodes);
		nodes_forget_due(t0 + 29999999u);
		T_CHECK(b->state == NODE_GONE && b->sessions == 3, "state %s sessions %llu",
			node_state_name(b->state), (unsigned long long)b->sessions);
	}
	T_CASE("nodes a gone board leaves the table after --forget-after") {
		nodes_forget_due(t0 + 30000000u);
		T_CHECK(b->state == NODE_FREE, "state %s", node_state_name(b->state));
		T_CHECK(listed() == 2 && nnodes == 3, "%d listed of %d", listed(), nnodes);
		T_CHECK(nodes_find("enxb") == NULL, "a forgotten board is still found");
		T_CHECK(node_set_state(b, NODE_LINKED, NE_OPENED) < 0, "a free slot opened");
	}
	T_CASE("nodes a free slot is reused, fresh") {
		struct node *d = nodes_add("enxd");
		T_CHECK(d == b && d->idx == 1 && nnodes == 3, "slot %d of %d", d->idx, nnodes);
		T_CHECK(d->state == NODE_NOLINK && d->sessions == 0 && !d->enrolled && !d->peer[0],
			"state %s sessions %llu", node_state_name(d->state),
			(unsigned long long)d->sessions);
		T_CHECK(!strcmp(d->iface, "enxd") && listed() == 3, "%s, %d listed", d->iface, listed());
	}
	T_CASE("nodes forgotten at once with --forget-after 0; the table shrinks") {
		nodes_forget_s = 0;
		node_removed(c, t0);
		T_CHECK(c->state == NODE_GONE, "state %s", node_state_name(c->state));
		nodes_forget_due(t0);
		T_CHECK(c->state == NODE_FREE && nnodes == 2, "state %s, %d nodes",
			node_state_name(c->state), nnodes);
	}
	T_CASE("nodes a named interface goes NOLINK, never gone") {
		struct node *v = nodes_add("veth0");
		struct ifw_info in = { .event = IFW_GONE };
		snprintf(in.name, sizeof in.name, "veth0");
		nodes_on_ifevent(&in, NULL);
		T_CHECK(v->state == NODE_NOLINK && node_listed(v), "state %s", node_state_name(v->state));
		snprintf(in.name, sizeof in.name, "enxa");
		nodes_on_ifevent(&in, NULL);
		T_CHECK(a->state == NODE_GONE, "enrolled: state %s", node_state_name(a->state));
	}
}

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
		T_CHECK(!strcmp(node_state_name(NODE_GONE), "gone"), "%s", node_state_name(NODE_GONE));
	}
	removed_board();
	return t_done();
}
