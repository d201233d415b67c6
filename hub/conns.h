/*
 * conns.h — hubd's client connections (dcc, hubctl) on its unix socket: one
 * request per connection, read, answered, then closed or held.
 *
 *   state          event        when                                 next
 *   READ           CE_SUBMIT    a SUBMIT read: its job waits         WAIT
 *   READ           CE_REPLY     a STATUS/ENROLL/notes request read   ANSWER
 *   READ           CE_HANDLED   a request that wants no answer       CLOSED
 *   READ           CE_BAD       bad length, over a cap, malformed,   CLOSED
 *                               unknown, no memory
 *   WAIT           CE_REPLY     the job's ANSWER (done, failed)      ANSWER
 *   WAIT           CE_LOCAL     ANSWER HUB_LOCAL: a local slot       ANSWER_LOCAL
 *   ANSWER         CE_WRITTEN   all written                          CLOSED
 *   ANSWER_LOCAL   CE_WRITTEN   all written: dcc compiles, the slot  LOCAL
 *                               is held until it closes
 *   WAIT           CE_NEED      a tree job's NEED: BLOBS expected    NEED
 *   NEED           CE_BLOBS     the BLOBS read (the job's now)       WAIT
 *   NEED           CE_REPLY     the job's ANSWER (handed back)       ANSWER
 *   NEED           CE_BAD       not a BLOBS, over a cap              CLOSED
 *   READ, NEED, ANSWER, ANSWER_LOCAL  CE_IDLE  no progress for       CLOSED
 *                               --client-idle
 *   any but CLOSED CE_GONE      EOF, error, or bytes where none      CLOSED
 *                               belong (the client left)
 *   any but CLOSED CE_ERROR     a write failed, an answer did not    CLOSED
 *                               encode
 *   anything else               refused and logged (a bug)           same
 *
 * A WAIT connection gets a KEEPALIVE every PROTO_KEEPALIVE_MS (no state
 * change; a half-written one is finished before the answer). A NEED one
 * reads (a BLOBS, under the same caps as a request) while dcc reads files.
 *
 * Invariants: the local slot is held exactly in ANSWER_LOCAL and LOCAL:
 * conn_set_state() counts hub.local_used up on entering them and down on
 * leaving them, and nowhere else changes it; job != NULL only in WAIT (and
 * in CLOSED until the connection is reaped, which cancels the job); CLOSED
 * connections are freed by conns_reap() before the next poll.
 */
#ifndef USBFARM_HUB_CONNS_H
#define USBFARM_HUB_CONNS_H

#include "proto.h"

#include "../lib/buf.h"

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum conn_state {
	CONN_READ,
	CONN_WAIT,
	CONN_ANSWER,
	CONN_ANSWER_LOCAL,
	CONN_LOCAL,
	CONN_NEED,
	CONN_CLOSED,
	CONN_NSTATES
};

enum conn_event {
	CE_SUBMIT,
	CE_REPLY,
	CE_HANDLED,
	CE_BAD,
	CE_LOCAL,
	CE_WRITTEN,
	CE_IDLE,
	CE_GONE,
	CE_ERROR,
	CE_NEED,
	CE_BLOBS,
	CONN_NEVENTS
};

struct job;

struct conn {
	int fd;
	enum conn_state state;	/* written by conn_set_state() only */
	uint8_t hdr[4];
	size_t hdr_got;
	uint8_t *frame;
	size_t frame_len, frame_got, frame_cap;	/* frame_cap: allocated and held */
	struct buf out;
	size_t out_off;
	uint64_t last_io;	/* last progress reading or writing (idle cap) */
	uint64_t next_ka;	/* WAIT: when the next keepalive is due */
	struct job *job;
	struct conn *next;
};

const char *conn_state_name(enum conn_state s);
const char *conn_event_name(enum conn_event e);
/* The table above: the next state, or -1 if ev is illegal in s. */
int conn_next(enum conn_state s, enum conn_event ev);
/* The one writer of c->state (and of hub.local_used); logs the change.
 * -EINVAL (state kept, logged) if the table has no such transition. */
int conn_set_state(struct conn *c, enum conn_state to, enum conn_event ev);
/* Holds a local slot in this state. */
bool conn_state_holds_local(enum conn_state s);

/* A job's client, still waiting for its answer (WAIT or NEED). */
bool conn_waiting(const struct conn *c);
/* Writes a NEED (WAIT -> NEED): 0, or -errno (the connection closed). */
int conn_need(struct conn *c, const struct proto_need *n);
int conn_fd(const struct conn *c);
/* Writes the job's answer (WAIT -> ANSWER or ANSWER_LOCAL). */
void conn_answer(struct conn *c, const struct proto_answer *a);
/* The same at shutdown: a short blocking write. */
void conn_answer_now(struct conn *c, const struct proto_answer *a);
/* Writes c->out (a reply the caller put there): READ -> ANSWER. */
void conn_reply(struct conn *c);
/* The job ended: it no longer points at c (jobs.c calls this). */
void conn_job_gone(struct conn *c);

/* ---- the loop's part ---- */
size_t conns_count(void);
/* Connections not CLOSED, except `but`. */
uint32_t conns_clients(const struct conn *but);
void conns_accept(int listen_fd);
/* Idle cap and keepalives; lowers *timeout to the next due time. */
void conns_timers(int *timeout);
/* Frees the CLOSED ones. */
void conns_reap(void);
/* Adds one pollfd per connection to pfd (room for conns_count()), and
 * handles them after poll. */
size_t conns_pollfds(struct pollfd *pfd, struct conn **who);
void conns_handle(const struct pollfd *pfd, struct conn **who, size_t n);
void conns_free_all(void);

#endif
