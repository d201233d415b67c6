/*
 * status.c — the STATUS answer (status.h), assembled from nodes.c, jobs.c,
 * conns.c and hub.h's counters. Read only: it changes no state. Invariant:
 * every allocation of one answer is freed before status_answer() returns.
 */
#include "status.h"
#include "conns.h"
#include "hub.h"
#include "jobs.h"
#include "nodes.h"
#include "proto.h"
#include "toolchain.h"

#include "../lib/clock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One node's line: its link's state and figures, what it offers. */
static void status_node(const struct node *n, struct status_node *s, uint64_t now)
{
	struct link_stats ls;

	snprintf(s->iface, sizeof s->iface, "%s", n->iface);
	snprintf(s->state, sizeof s->state, "%s",
		 n->link ? link_state_name(link_state(n->link)) : node_state_name(n->state));
	snprintf(s->peer, sizeof s->peer, "%s", n->peer);
	snprintf(s->name, sizeof s->name, "%s", n->name);
	s->epoch = n->epoch;
	s->slots = n->slots;
	s->running = n->running;
	s->jobs_done = n->jobs_done;
	s->jobs_failed = n->jobs_failed;
	s->bytes_out = n->bytes_out;
	s->bytes_in = n->bytes_in;
	s->sessions = n->sessions;
	if (n->link) {
		link_get_stats(n->link, &ls);
		s->wire_tx = ls.bytes_tx;
		s->wire_rx = ls.bytes_rx;
		s->frames_tx = ls.frames_tx;
		s->frames_rx = ls.frames_rx;
		s->retransmits = ls.retransmits;
		s->drops = ls.drop_crc + ls.drop_short + ls.drop_dup + ls.drop_stale +
			   ls.drop_foreign + ls.drop_window + ls.drop_bad;
		s->srtt_us = ls.srtt_us;
	}
	s->speed = (uint32_t)(n->speed * 1e6 / 1024.0);
	fo_node_status(&n->fo, now, nodes_slowest_spmb(), hub_job_cap_us(), &s->fo);
	s->tele = n->tele;
	s->has_tele = n->has_tele;
	s->store = (struct status_store){ n->store_id, n->store_cap, n->tree_jobs, n->blobs_sent,
					  n->blob_bytes_sent, 0, 0 };
	if (n->hold) {
		struct holdings_stats hs;
		holdings_get_stats(n->hold, &hs);
		s->store.held_blobs = hs.blobs;
		s->store.held_bytes = hs.bytes;
	}
	if (node_up(n) && n->ncompilers) {
		char (*comp)[STATUS_COMPILER_MAX] = calloc(n->ncompilers, sizeof *comp);
		if (comp) {
			for (size_t k = 0; k < n->ncompilers; k++)
				compiler_describe(&n->compilers[k], comp[k], sizeof comp[k]);
			s->compilers = comp;
			s->ncompilers = n->ncompilers;
		}
	}
}

/* "COMPILER\tNODE\tVERDICT" per (compiler jobs asked for, node up). */
static void status_serve(struct hub_status *st, char (*serve)[STATUS_SERVE_MAX])
{
	for (size_t a = 0; serve && a < hub.asked.n; a++)
		for (int i = 0; i < nnodes && st->nserve < STATUS_SERVE_LINES; i++) {
			char d[100], v[260];
			if (!node_up(&nodes[i]))
				continue;
			compiler_describe(&hub.asked.a[a].id, d, sizeof d);
			pairs_verdict(&hub.pairs, &hub.asked.a[a], nodes[i].compilers,
				      nodes[i].ncompilers, v, sizeof v);
			if (!strncmp(v, "does not serve", 14))	/* a travelling one? */
				toolchain_verdict(&nodes[i], &hub.asked.a[a].id, v, sizeof v);
			snprintf(serve[st->nserve++], STATUS_SERVE_MAX, "%s\t%s\t%s", d,
				 node_label(&nodes[i]), v);
		}
	st->serve = serve;
}

int status_answer(struct buf *out, const struct conn *self)
{
	struct hub_status st;
	struct status_node sn[MAX_NODES];
	uint64_t now = now_us();
	int rc;

	memset(&st, 0, sizeof st);
	memset(sn, 0, sizeof sn);
	st.uptime_s = (now - hub.started) / 1000000u;
	st.local_slots = (uint16_t)hub.local_slots;
	st.local_used = (uint16_t)hub.local_used;
	for (struct job *j = jobs_head; j; j = j->next)
		if (job_waiting(j))
			st.queued++;
	st.clients = conns_clients(self);	/* not counting this status request */
	st.jobs_total = hub.jobs_total;
	st.jobs_remote = hub.jobs_remote;
	st.jobs_local = hub.jobs_local;
	st.jobs_failed = hub.jobs_failed;
	st.jobs_retried = hub.jobs_retried;
	st.fo = hub.fo;
	st.tree = hub.tree;
	st.tc = (struct status_toolchain){ tc_counters.packs, tc_counters.sent, tc_counters.blobs,
					   tc_counters.bytes, tc_counters.verified,
					   tc_counters.refused, tc_counters.travel_jobs };
	st.nodes = sn;
	for (int i = 0; i < nnodes; i++)
		if (node_listed(&nodes[i]))	/* a forgotten board's slot is not */
			status_node(&nodes[i], &sn[st.nnodes++], now);
	char (*serve)[STATUS_SERVE_MAX] = calloc(STATUS_SERVE_LINES, sizeof *serve);
	status_serve(&st, serve);
	rc = proto_encode_status(out, &st);
	for (size_t i = 0; i < st.nnodes; i++)
		free(sn[i].compilers);
	free(serve);
	return rc < 0 ? rc : 0;
}
