/*
 * nodes.c — hubd's boards (nodes.h): the node table, its one state writer,
 * the link callbacks (session up/down, messages), opening and relinking,
 * netlink carrier events and enrollment.
 *
 * Owns: nodes[], nnodes, every field of struct node except `running`, `fo`
 * and the job counters, which jobs.c keeps while it sends and ends jobs.
 * Invariant: a node is up iff its link's session is (node_up()); jobs.c is
 * told of every session end (jobs_node_down) before the link is freed.
 */
#include "nodes.h"
#include "enroll.h"
#include "hub.h"
#include "jobs.h"
#include "opener.h"

#include "../lib/clock.h"
#include "../lib/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct node nodes[MAX_NODES];
int nnodes;
unsigned nodes_forget_s = NODES_FORGET_S_DEFAULT;

static const char *const state_names[NODE_NSTATES] = { "nolink", "linked", "gone", "free" };
static const char *const event_names[NODE_NEVENTS] = { "opened", "open-failed", "link-dead",
						       "iface-gone", "removed", "forgotten" };

const char *node_state_name(enum node_state s)
{
	return (unsigned)s < NODE_NSTATES ? state_names[s] : "?";
}

const char *node_event_name(enum node_event e)
{
	return (unsigned)e < NODE_NEVENTS ? event_names[e] : "?";
}

int node_next(enum node_state s, enum node_event ev)
{
	switch (s) {
	case NODE_NOLINK:
		switch (ev) {
		case NE_OPENED: return NODE_LINKED;
		case NE_OPEN_FAILED: return NODE_NOLINK;
		case NE_REMOVED: return NODE_GONE;
		default: return -1;
		}
	case NODE_LINKED:
		switch (ev) {
		case NE_LINK_DEAD:
		case NE_IFACE_GONE: return NODE_NOLINK;
		case NE_REMOVED: return NODE_GONE;
		default: return -1;
		}
	case NODE_GONE:
		switch (ev) {
		case NE_OPENED: return NODE_LINKED;
		case NE_OPEN_FAILED: return NODE_NOLINK;
		case NE_FORGOTTEN: return NODE_FREE;
		default: return -1;
		}
	default:
		return -1;
	}
}

int node_set_state(struct node *n, enum node_state to, enum node_event ev)
{
	enum node_state from = n->state;

	if (node_next(from, ev) != (int)to) {
		log_warn("%s: node: illegal event %s in state %s (to %s) refused", node_label(n),
			 node_event_name(ev), node_state_name(from), node_state_name(to));
		return -EINVAL;
	}
	n->state = to;
	if (from != to)
		log_debug("%s: node %s -> %s (%s)", node_label(n), node_state_name(from),
			  node_state_name(to), node_event_name(ev));
	return 0;
}

bool node_up(const struct node *n)
{
	return n->link && link_state(n->link) == LINK_UP;
}

bool node_listed(const struct node *n)
{
	return n->state != NODE_FREE;
}

const char *node_label(const struct node *n)
{
	return n->iface;
}

struct node *nodes_find(const char *iface)
{
	for (int i = 0; i < nnodes; i++)
		if (nodes[i].state != NODE_FREE && !strcmp(nodes[i].iface, iface))
			return &nodes[i];
	return NULL;
}

static bool nodes_free_slot(void)
{
	for (int i = 0; i < nnodes; i++)
		if (nodes[i].state == NODE_FREE)
			return true;
	return false;
}

struct node *nodes_add(const char *name)
{
	struct node *n;
	int i;

	if (!*name || strlen(name) >= sizeof nodes[0].iface)
		fatal("bad interface name '%s'", name);
	if ((n = nodes_find(name)))
		return n;
	for (i = 0; i < nnodes && nodes[i].state != NODE_FREE; i++)
		;
	if (i == nnodes && nnodes >= MAX_NODES)
		fatal("too many interfaces (at most %d)", MAX_NODES);
	if (i == nnodes)
		nnodes++;
	n = &nodes[i];
	memset(n, 0, sizeof *n);	/* a fresh node: NODE_NOLINK */
	n->idx = i;
	snprintf(n->iface, sizeof n->iface, "%s", name);
	return n;
}

double nodes_slowest_spmb(void)
{
	double m = 0;
	for (int i = 0; i < nnodes; i++)
		if (node_up(&nodes[i]) && nodes[i].fo.spmb > m)
			m = nodes[i].fo.spmb;
	return m;
}

/* ---- link callbacks ---- */

/* The store a NODEINFO names: a new id (a new or emptied store) forgets
 * what hubd believed the old one held; the same id keeps it (a noded
 * restart with its store kept). */
static void node_set_store(struct node *n, uint64_t id, uint64_t cap)
{
	if (id && !n->hold && !(n->hold = holdings_new()))
		log_warn("%s: no memory to track its store: no tree jobs for it", node_label(n));
	if (n->hold && holdings_set_store(n->hold, id, cap) && id)
		log_info("%s: store %016llx, cap %llu MiB: its holdings start empty", node_label(n),
			 (unsigned long long)id, (unsigned long long)(cap >> 20));
	n->store_id = id;
	n->store_cap = cap;
}

bool node_has_store(const struct node *n)
{
	return node_up(n) && n->store_id && n->hold;
}

static void node_set_info(struct node *n, struct job_nodeinfo *ni)
{
	free(n->compilers);
	n->compilers = ni->compilers;
	n->ncompilers = ni->ncompilers;
	ni->compilers = NULL;
	ni->ncompilers = 0;
	n->slots = ni->slots;
	snprintf(n->name, sizeof n->name, "%s", ni->name);
	node_set_store(n, ni->store_id, ni->store_cap);
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
		node_set_store(n, 0, 0);
		log_warn("%s: node %s up, but its node info is unreadable: no jobs for it",
			 node_label(n), n->peer);
	}
	hub.need_sched = true;
}

/* The session ended (the link's `down`, or the link dies while up). */
static void session_down(struct node *n, int reason)
{
	log_info("%s: node %s down: %s", node_label(n), n->peer, strerror(-reason));
	jobs_node_down(n, reason);
	n->running = 0;
	n->fo.cancelling = 0;
	hub.need_sched = true;
}

static void on_down(struct link *l, int reason, void *user)
{
	(void)l;
	session_down(user, reason);
}

static void on_message(struct link *l, uint32_t stream, uint8_t *data, size_t len, void *user)
{
	struct node *n = user;
	enum job_msg_type t;
	struct job_nodeinfo ni;
	(void)l;
	(void)stream;

	if (job_peek_type(data, len, &t) < 0) {
		log_warn("%s: unknown message (%zu bytes) dropped", node_label(n), len);
		free(data);
		return;
	}
	switch (t) {
	case JOB_MSG_RESULT:
		jobs_on_result(n, data, len);
		break;
	case JOB_MSG_TELEMETRY:
		if (job_decode_telemetry(data, len, &n->tele) == 0)
			n->has_tele = true;
		break;
	case JOB_MSG_NODEINFO:
		if (job_decode_nodeinfo(data, len, &ni) == 0) {
			node_set_info(n, &ni);
			log_info("%s: node info: %u slots, %zu compilers", node_label(n), n->slots,
				 n->ncompilers);
			hub.need_sched = true;
		}
		break;
	default:
		log_warn("%s: unexpected message type %d dropped", node_label(n), t);
		break;
	}
	free(data);
}

/* A message of ours acknowledged (0) or failed (the session's end: on_down
 * hands its jobs back). */
static void on_sent(struct link *l, uint64_t msg_id, int status, void *user)
{
	(void)l;
	if (status == 0)
		jobs_on_acked(user, msg_id);
}

static const struct link_callbacks node_cb = {
	.up = on_up,
	.down = on_down,
	.message = on_message,
	.sent = on_sent,
};

/* ---- opening, dying, relinking ---- */

void node_open(struct node *n)
{
	struct link_io *io;
	struct link_config cfg = { .ident = hub.ident };
	int rc = opener_open(n->iface, &io);	/* the link opener makes the socket */

	if (rc == 0)
		rc = link_new(io, &cfg, &node_cb, n, &n->link);
	if (rc < 0) {
		if (n->relink_at == 0)
			log_warn("%s: cannot open link: %s (retrying)", n->iface, strerror(-rc));
		n->link = NULL;
		n->relink_at = now_us() + RELINK_MS * 1000u;
		node_set_state(n, NODE_NOLINK, NE_OPEN_FAILED);
		return;
	}
	log_info("%s: link open, waiting for a node", n->iface);
	n->relink_at = 0;
	node_set_state(n, NODE_LINKED, NE_OPENED);
}

void node_dead(struct node *n, int rc, enum node_event ev)
{
	log_warn("%s: link dead: %s", n->iface, strerror(-rc));
	if (node_up(n))
		session_down(n, rc);
	link_free(n->link);
	n->link = NULL;
	n->relink_at = now_us() + RELINK_MS * 1000u;
	node_set_state(n, NODE_NOLINK, ev);
}

void nodes_relink_due(uint64_t now)
{
	nodes_forget_due(now);
	for (int i = 0; i < nnodes; i++)
		if (!nodes[i].link && nodes[i].relink_at && nodes[i].relink_at <= now)
			node_open(&nodes[i]);
}

/* ---- removed boards: gone, then forgotten ---- */

void node_removed(struct node *n, uint64_t now)
{
	if (n->state == NODE_GONE || n->state == NODE_FREE)
		return;
	if (node_up(n))
		session_down(n, -ENODEV);
	link_free(n->link);
	n->link = NULL;
	n->relink_at = 0;	/* no relink: a re-plug enrolls it again */
	n->forget_at = now + (uint64_t)nodes_forget_s * 1000000u;
	n->removals++;
	node_set_state(n, NODE_GONE, NE_REMOVED);
	log_info("%s: board %s removed: gone, forgotten in %u s unless it comes back",
		 n->iface, n->peer[0] ? n->peer : "?", nodes_forget_s);
}

void nodes_forget_due(uint64_t now)
{
	for (int i = 0; i < nnodes; i++) {
		struct node *n = &nodes[i];
		if (n->state != NODE_GONE || n->forget_at > now)
			continue;
		log_info("%s: board %s forgotten (gone %u s)", n->iface,
			 n->peer[0] ? n->peer : "?", nodes_forget_s);
		node_set_state(n, NODE_FREE, NE_FORGOTTEN);
		free(n->compilers);
		n->compilers = NULL;
		n->ncompilers = 0;
		n->iface[0] = 0;
	}
	while (nnodes > 0 && nodes[nnodes - 1].state == NODE_FREE)
		nnodes--;
}

void nodes_free_all(void)
{
	for (int i = 0; i < nnodes; i++) {
		if (nodes[i].link) {
			/* Let the cancels go out. */
			(void)link_process(nodes[i].link);
			link_free(nodes[i].link);
			nodes[i].link = NULL;
		}
		free(nodes[i].compilers);
		nodes[i].compilers = NULL;
		holdings_free(nodes[i].hold);
		nodes[i].hold = NULL;
	}
}

/* ---- netlink and enrollment ---- */

void nodes_resync_carrier(void)
{
	for (int i = 0; i < nnodes; i++) {
		struct ifw_info in;
		if (ifwatch_query(nodes[i].iface, &in) < 0) {
			memset(&in, 0, sizeof in);
			in.event = IFW_GONE;
		}
		snprintf(in.name, sizeof in.name, "%s", nodes[i].iface);
		nodes_on_ifevent(&in, NULL);
	}
}

void nodes_on_ifevent(const struct ifw_info *in, void *user)
{
	(void)user;
	if (in->event != IFW_GONE)
		nodes_enroll_iface(in->name);
	for (int i = 0; i < nnodes; i++) {
		struct node *n = &nodes[i];
		if (strcmp(n->iface, in->name) != 0)
			continue;
		switch (in->event) {
		case IFW_CARRIER_DOWN:
			if (node_up(n)) {
				log_info("%s: carrier down: ending the session now", n->iface);
				n->carrier_losses++;
				link_reset(n->link, -ENETDOWN);
			}
			break;
		case IFW_GONE:
			if (n->enrolled)
				node_removed(n, now_us());
			else if (n->link)
				node_dead(n, -ENODEV, NE_IFACE_GONE);
			break;
		case IFW_CARRIER_UP:
			if (!n->link && n->state != NODE_GONE)
				node_open(n);
			break;
		}
	}
}

int nodes_enroll_iface(const char *name)
{
	struct enroll_usb u;
	struct node *n;
	int rc = enroll_check(name, &u);

	if (rc <= 0)
		return rc;
	n = nodes_find(name);
	if (!n) {
		if (nnodes >= MAX_NODES && !nodes_free_slot())
			return -ENOSPC;
		if (enroll_wait_udev(name))
			return -EINPROGRESS;	/* udev renames it first; enroll_retry() comes back */
		n = nodes_add(name);
		n->enrolled = true;
		log_info("%s: enrolled board %s (USB %s, %s Mbit/s)", name, u.serial, u.busport, u.speed);
	} else if (n->state == NODE_GONE) {
		log_info("%s: board %s plugged back (USB %s): enrolled again", name, u.serial,
			 u.busport);
	}
	/* setting it up and its MTU needs CAP_NET_ADMIN, which only the link
	 * opener holds: it does it for us */
	rc = opener_link_up(name, ENROLL_MTU);
	if (rc < 0)
		log_warn("%s: cannot bring it up: %s", name, strerror(-rc));
	if (!n->link)
		node_open(n);
	return 1;
}

void nodes_enroll_found(const char *name, void *user)
{
	(void)user;
	nodes_enroll_iface(name);
}
