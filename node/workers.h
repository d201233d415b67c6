/*
 * workers.h — noded's job side: each JOB from the hub runs in a worker
 * process of its own (one per slot), which runs exec_run() and writes the
 * encoded RESULT to a CLOEXEC pipe; the daemon's poll loop reads the
 * pipes (workers_pollfds, workers_readable). Every JOB gets exactly one
 * answer: the compiler's RESULT, or a farm error (malformed, refused, no
 * such compiler, busy, worker died, cancelled).
 *
 * A worker is a state machine; worker_set_state() is the one place that
 * changes (and logs) its state:
 *
 *   state    event                      next     what happens
 *   IDLE     START (a JOB)              RUNNING  forked, in its own process group
 *   RUNNING  EXITED (pipe EOF)          IDLE     its RESULT sent; "worker died"
 *                                                if it did not exit 0 with one
 *                                                (then the slot is cleaned)
 *   RUNNING  CANCEL, LINK_LOST          KILLED   its process group SIGKILLed
 *   KILLED   EXITED                     IDLE     "cancelled" (if the link is up);
 *                                                the slot cleaned
 *   any      TOO_BIG (result > cap)     IDLE     killed, reaped, "worker died",
 *                                                the slot cleaned
 *   any      NOMEM (result buffer)      IDLE     killed, reaped, "cancelled",
 *                                                the slot cleaned
 *   any      SHUTDOWN                   IDLE     killed, reaped, the slot
 *                                                cleaned; no answer (noded stops)
 *
 * The slot is cleaned (slot_clean: every process of its uid ended, its
 * dir emptied) after every job that did not end by itself, before the
 * slot takes the next one.
 */
#ifndef USBFARM_NODE_WORKERS_H
#define USBFARM_NODE_WORKERS_H

#include "exec.h"
#include "slots.h"
#include "../lib/buf.h"
#include "../lib/compiler.h"
#include "../lib/link.h"

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

enum worker_state { WORKER_IDLE, WORKER_RUNNING, WORKER_KILLED };
enum worker_event {
	WEV_START, WEV_EXITED, WEV_CANCEL, WEV_LINK_LOST, WEV_TOO_BIG, WEV_NOMEM,
	WEV_SHUTDOWN,
};

/* This node's ceilings: a job's limit is min(the hub's request, these). */
struct workers_ceil {
	uint32_t cpu_s, timeout_ms, nproc, nofile;
	uint64_t mem_bytes;
};

/* Tree jobs (lib/job.h struct job_tree): the store and each compiler's
 * toolchain for the sandbox (tree_toolchain). */
struct workers_tree {
	bool on;			/* tree jobs taken (else refused: -EPERM) */
	const char *store_dir;		/* each worker opens its own handle there */
	uint64_t store_cap;
	struct store *store;		/* noded's own handle: blobs put on receipt */
	char **ro_paths;		/* per compiler; NULL: that one takes none */
};

struct workers_cfg {
	int slots;
	struct workers_tree tree;
	struct slots sl;		/* the claimed uid block and job root */
	struct exec_launch launch;
	char refuse[200];		/* non-empty: every job is refused, and why */
	struct workers_ceil ceil;
	const struct compiler_id *compilers;
	size_t ncompilers;
};

/* Takes the configuration (kept by pointer: it outlives serving). */
void workers_init(const struct workers_cfg *cfg);
/* The link answers go to (NULL while there is none). */
void workers_set_link(struct link *l);
/* Sends one message on the job's stream (0: the control stream). */
void workers_send(uint64_t job_id, struct buf *b);
/* A JOB or CANCEL message from the hub (data stays the caller's). */
void workers_message(uint8_t *data, size_t len);
/* Every running worker gets ev (CANCEL or LINK_LOST: killed, answered
 * when its pipe ends). */
void workers_kill_all(enum worker_event ev);
/* Workers not idle. */
int workers_running(void);
/* Adds each running worker's pipe to pfd (idx[k] = its slot); returns
 * how many. pfd and idx have room for slots entries. */
size_t workers_pollfds(struct pollfd *pfd, int *idx);
/* The pipe of slot's worker is readable. */
void workers_readable(int slot);
/* Every worker killed, reaped, its slot cleaned; nothing answered. */
void workers_shutdown(void);
/* The store lookups the workers made (their own handles): found, not
 * found, found corrupt; summed since start. */
void workers_store_counts(uint64_t *hits, uint64_t *misses, uint64_t *corrupt);
/* The slot's own dir under the job root. */
void workers_slot_dir(int slot, char *p, size_t len);

#endif
