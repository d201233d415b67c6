/*
 * guard.h — hubd's caps on its clients (the unix socket), so that no number
 * of local clients can exhaust hubd's memory or descriptors or stall it:
 *
 *   max_clients  connections open at once; one more is accepted and closed
 *                at once (its dcc compiles locally);
 *   max_message  bytes one request may announce; a larger announcement
 *                closes the connection before anything is allocated;
 *   max_held     bytes of client requests hubd holds at once (unfinished
 *                requests plus queued jobs): memory grows only with bytes
 *                actually received, never with what a header announced, and
 *                a connection whose next bytes would pass this cap is closed.
 *                The first GUARD_READ_CHUNK of each connection is always
 *                granted (small requests are served during a flood): memory
 *                <= max_held + max_clients * GUARD_READ_CHUNK;
 *   idle_s       seconds a connection may make no progress while hubd reads
 *                its request or writes its answer (waiting for a node or
 *                holding a local slot is not idle).
 * Out of descriptors (EMFILE/ENFILE on accept): hubd closes a spare
 * descriptor it keeps for this, accepts and closes the waiting connection
 * (that dcc compiles locally at once), and pauses accepting briefly if even
 * that fails; one log line when an episode starts, one when it ends.
 */
#ifndef USBFARM_HUB_GUARD_H
#define USBFARM_HUB_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUARD_MAX_CLIENTS 1000
#define GUARD_MAX_MESSAGE ((size_t)200 << 20)	/* > JOB_MAX_INPUT + headers */
#define GUARD_MAX_HELD ((size_t)1 << 30)
#define GUARD_IDLE_S 30
#define GUARD_READ_CHUNK ((size_t)64 << 10)	/* first allocation of a request */

struct guard_cfg {
	int max_clients;
	size_t max_message;
	size_t max_held;
	int idle_s;
};

void guard_init(const struct guard_cfg *cfg);
const struct guard_cfg *guard_cfg(void);

/* Accepts one connection under the caps. >= 0: a new client fd; -1: none
 * now (EAGAIN, or refused and closed: nclients at the cap, or out of
 * descriptors). */
int guard_accept(int listen_fd, size_t nclients);
/* The listening socket may be polled now; else *timeout_ms is lowered to
 * when it may again. */
bool guard_may_accept(int *timeout_ms);

/* A request's announced length is within max_message. */
bool guard_announce_ok(size_t len);
/* Takes n more bytes of held memory, false (nothing taken) past max_held;
 * a connection's first chunk (first: at most GUARD_READ_CHUNK) is always
 * granted, so a small request is served even while others hold the cap. */
bool guard_hold(size_t n, bool first);
void guard_release(size_t n);
size_t guard_held(void);

/* Counters for logs and status. */
uint64_t guard_refused(void);

#endif
