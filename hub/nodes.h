/*
 * nodes.h — hubd's boards: one struct node per interface, its link, what the
 * node told us (slots, compilers, telemetry) and what we measured of it.
 *
 * The node's own state says only whether it has a link; whether the node
 * serves is the LINK's state, read through node_up() (never copied): a node
 * is up exactly while its link's session is (link_state() == LINK_UP).
 *
 *   state      event            action                              next
 *   NOLINK     NE_OPENED        link_new() on the interface worked  LINKED
 *   NOLINK     NE_OPEN_FAILED   retry in RELINK_MS                  NOLINK
 *   LINKED     NE_LINK_DEAD     the link's jobs fail over (as a     NOLINK
 *                               session down), link freed, retry
 *                               in RELINK_MS
 *   LINKED     NE_IFACE_GONE    the same (netlink: interface gone)  NOLINK
 *   LINKED     NE_REMOVED       an enrolled board's interface was   GONE
 *                               removed: jobs fail over, link freed,
 *                               no relink; forgotten at forget_at
 *   NOLINK     NE_REMOVED       the same, no link to free           GONE
 *   GONE       NE_OPENED        re-plugged (the same stable name    LINKED
 *                               enrolled again): the entry and its
 *                               counters are reused
 *   GONE       NE_OPEN_FAILED   re-plugged, not openable: relink    NOLINK
 *   GONE       NE_FORGOTTEN     gone for --forget-after seconds:    FREE
 *                               the slot leaves the table (status)
 *   anything else               refused and logged (a bug)          same
 *
 * Only nodes that enrollment made (USB boards, `enrolled`) are removed; an
 * interface named on the command line stays NOLINK and is relinked when it
 * comes back (a veth of the virtual farm). A FREE slot has an empty iface,
 * no link and is reused by the next nodes_add(); loops over nodes[] see it
 * as a node that is not up (status leaves it out).
 *
 * The relink timer (relink_at) and a netlink carrier-up (on_ifevent) are
 * what bring an NOLINK node to NE_OPENED/NE_OPEN_FAILED. Session up and down
 * (the link's callbacks) change no node state: they reset the node's
 * running count and hand its jobs to jobs.c.
 *
 * Invariants: node_state == NODE_LINKED iff link != NULL; `running` counts
 * the job copies sent to it whose RESULT is still due (cancelled ones
 * included, see fo.cancelling); nodes[i].idx == i.
 */
#ifndef USBFARM_HUB_NODES_H
#define USBFARM_HUB_NODES_H

#include "failover.h"
#include "holdings.h"

#include "../lib/compiler.h"
#include "../lib/ifwatch.h"
#include "../lib/job.h"
#include "../lib/link.h"

#include <stdbool.h>
#include <stdint.h>

#define MAX_NODES 64
#define RELINK_MS 2000

enum node_state {
	NODE_NOLINK,	/* no link: interface missing or not openable; relink_at set */
	NODE_LINKED,	/* a link is open; up or not is link_state()'s */
	NODE_GONE,	/* an enrolled board's interface was removed; shown until forget_at */
	NODE_FREE,	/* an unused slot (a gone board forgotten) */
	NODE_NSTATES
};

enum node_event {
	NE_OPENED,
	NE_OPEN_FAILED,
	NE_LINK_DEAD,
	NE_IFACE_GONE,
	NE_REMOVED,
	NE_FORGOTTEN,
	NODE_NEVENTS
};

struct node {
	int idx;
	char iface[32];
	struct link *link;
	enum node_state state;	/* written by node_set_state() only */
	uint64_t relink_at;	/* when to retry opening the interface */
	bool enrolled;		/* made by enrollment (a USB board), not named at start */
	uint64_t forget_at;	/* NODE_GONE: when the slot is freed */
	uint64_t removals;	/* times its interface was removed */
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
	/* tree jobs (issue 11): the node's store as its NODEINFO says (id 0:
	 * none, no tree jobs) and what hubd believes it holds */
	uint64_t store_id, store_cap;
	struct holdings *hold;	/* NULL until the node has a store */
	uint64_t tree_jobs, blobs_sent, blob_bytes_sent;
};

extern struct node nodes[MAX_NODES];
extern int nnodes;

const char *node_state_name(enum node_state s);
const char *node_event_name(enum node_event e);
/* The transition table above: the next state, or -1 if ev is illegal in s. */
int node_next(enum node_state s, enum node_event ev);
/* The one writer of n->state; logs the change. -EINVAL (state kept, logged)
 * if the table has no such transition. */
int node_set_state(struct node *n, enum node_state to, enum node_event ev);

/* Serving: a link whose session is up. */
/* In the table (what status lists): not a FREE slot. */
bool node_listed(const struct node *n);
bool node_up(const struct node *n);
/* Takes tree jobs: up, with a store (and the memory to track it). */
bool node_has_store(const struct node *n);
const char *node_label(const struct node *n);

/* Adds IFACE (fatal on a bad name or too many) in a FREE slot or a new
 * one, and returns it; an existing one is kept and returned. */
struct node *nodes_add(const char *iface);
/* How long a removed board stays in the table as "gone" (hubd
 * --forget-after; 0: it leaves at once). */
#define NODES_FORGET_S_DEFAULT 30
extern unsigned nodes_forget_s;
/* An enrolled board's interface was removed (NE_REMOVED): its jobs fail
 * over, its link is freed, it is GONE until NOW + nodes_forget_s. */
void node_removed(struct node *n, uint64_t now);
/* GONE nodes whose time is up become FREE (NE_FORGOTTEN). */
void nodes_forget_due(uint64_t now);
struct node *nodes_find(const char *iface);
/* Opens n's link (NE_OPENED), or arms the relink timer (NE_OPEN_FAILED). */
void node_open(struct node *n);
/* The link died or the interface went: jobs fail over, link freed. */
void node_dead(struct node *n, int rc, enum node_event ev);
/* The slowest measured up node's seconds per MB (deadline of unmeasured ones). */
double nodes_slowest_spmb(void);

/* netlink (ifwatch.h): carrier lost ends the session now; a gone interface
 * closes the link; one that comes back is opened without waiting. */
void nodes_on_ifevent(const struct ifw_info *in, void *user);
/* Events were lost (netlink overflow): asks each interface's state. */
void nodes_resync_carrier(void);
/* Enrollment (hub/enroll.c): NAME may be a board's interface; if its USB
 * device is ours, bring it up and give it a node. 1 / 0 not ours / -errno. */
int nodes_enroll_iface(const char *name);
void nodes_enroll_found(const char *name, void *user);
/* The loop's part: poll timeout for relink timers, links processed, relinks
 * due (and gone boards forgotten: nodes_forget_due()). */
void nodes_relink_due(uint64_t now);
void nodes_free_all(void);

#endif
