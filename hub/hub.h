/*
 * hub.h — what hubd's modules share: its options and its counters (one
 * struct, `hub`), and the local slots. Nothing else lives here; nodes
 * (nodes.h), jobs (jobs.h), client connections (conns.h) and the status
 * answer (status.h) each own their own state.
 *
 * Invariants: `local_used` counts the connections in CONN_ANSWER_LOCAL or
 * CONN_LOCAL (conns.c changes it, in conn_set_state() only) and never exceeds
 * local_slots by more than the grants already written; `need_sched` asks the
 * loop for one schedule() pass before its next poll.
 */
#ifndef USBFARM_HUB_HUB_H
#define USBFARM_HUB_HUB_H

#include "failover.h"
#include "pairs.h"
#include "proto.h"

#include "../lib/link.h"

#include <stdbool.h>
#include <stdint.h>

struct hub {
	/* options (hubd.c) */
	char socket_path[256];
	int local_slots;
	int job_timeout_s;
	int retries;
	int verbose;
	char ident[LINK_IDENT_MAX];	/* our link identity: hub-HOSTNAME */
	struct pairs pairs;		/* --pairs FILE (hub/pairs.h) */
	/* runtime */
	int listen_fd;
	int local_used;			/* local slots held (conns.c) */
	bool need_sched;		/* run schedule() before the next poll */
	uint64_t started;
	uint64_t next_job_id;
	uint64_t jobs_total, jobs_remote, jobs_local, jobs_failed, jobs_retried;
	struct fo_counters fo;		/* failover figures for hubctl status */
	struct tree_counters tree;	/* tree jobs (proto.h) */
	uint64_t fo_tick_at;		/* next look for backup copies */
	struct pairs_seen asked;	/* compilers jobs asked for, for hubctl status */
};

extern struct hub hub;

/* --job-timeout in microseconds; 0: no cap. */
uint64_t hub_job_cap_us(void);

#endif
