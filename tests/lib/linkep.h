/*
 * linkep.h — what the link's unit tests share (test_link.c, test_link_hostile.c):
 * a deterministic PRNG, an endpoint (a link and what its callbacks saw), and
 * pump(), which drives links until a condition holds. Deadlines only bound a
 * test that hangs; no assertion depends on timing.
 */
#ifndef USBFARM_TESTS_LINKEP_H
#define USBFARM_TESTS_LINKEP_H

#include "link.h"
#include "clock.h"

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MTU 1500
#define GUARD_MS 40000 /* a hang fails the case, it does not pass it */


/* ---- a deterministic PRNG ---- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static inline void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t s = seed | 1;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t v = rng_next(&s);
		memcpy(p + i, &v, 8);
	}
	for (; i < n; i++)
		p[i] = (uint8_t)rng_next(&s);
}

/* ---- an endpoint: a link and what its callbacks saw ---- */

#define MAXMSG 4096
#define MAXSENT 4096

struct rmsg {
	uint32_t stream;
	uint8_t *data;
	size_t len;
};

struct ep {
	const char *name;
	struct link *l;
	int ups, downs, last_down;
	struct link_peer peer;
	struct rmsg msgs[MAXMSG];
	unsigned nmsgs;
	uint64_t sent_id[MAXSENT];
	int sent_status[MAXSENT];
	unsigned nsent;
	uint64_t sent_bytes_cb;
};

static inline void cb_up(struct link *l, const struct link_peer *p, void *u)
{
	struct ep *e = u;
	(void)l;
	e->ups++;
	e->peer = *p;
}

static inline void cb_down(struct link *l, int reason, void *u)
{
	struct ep *e = u;
	(void)l;
	e->downs++;
	e->last_down = reason;
}

static inline void cb_message(struct link *l, uint32_t stream, uint8_t *data, size_t len, void *u)
{
	struct ep *e = u;
	(void)l;
	if (e->nmsgs < MAXMSG) {
		e->msgs[e->nmsgs].stream = stream;
		e->msgs[e->nmsgs].data = data;
		e->msgs[e->nmsgs].len = len;
		e->nmsgs++;
	} else {
		free(data);
	}
}

static inline void cb_sent(struct link *l, uint64_t id, int status, void *u)
{
	struct ep *e = u;
	(void)l;
	if (e->nsent < MAXSENT) {
		e->sent_id[e->nsent] = id;
		e->sent_status[e->nsent] = status;
		e->nsent++;
	}
}

static const struct link_callbacks cbs = { .up = cb_up, .down = cb_down, .message = cb_message, .sent = cb_sent };

static inline void ep_clear_msgs(struct ep *e)
{
	for (unsigned i = 0; i < e->nmsgs; i++)
		free(e->msgs[i].data);
	e->nmsgs = 0;
}

static inline int ep_open(struct ep *e, const char *name, struct link_io *io, struct link_config *cfg)
{
	struct link_config def;
	memset(e, 0, sizeof *e);
	e->name = name;
	if (!cfg) {
		memset(&def, 0, sizeof def);
		cfg = &def;
	}
	if (!cfg->ident)
		cfg->ident = name;
	return link_new(io, cfg, &cbs, e, &e->l);
}

static inline void ep_close(struct ep *e)
{
	link_free(e->l);
	e->l = NULL;
	ep_clear_msgs(e);
}

/* Drives the given links until cond() holds. Returns false on the guard deadline. */
static inline bool pump(struct ep **eps, int n, bool (*cond)(void *), void *arg, int guard_ms)
{
	uint64_t end = now_ms() + (uint64_t)guard_ms;
	struct pollfd p[4];
	for (;;) {
		if (cond(arg))
			return true;
		if (now_ms() > end)
			return false;
		int t = 50;
		for (int i = 0; i < n; i++) {
			int lt = link_timeout_ms(eps[i]->l);
			if (lt >= 0 && lt < t)
				t = lt;
			p[i].fd = link_fd(eps[i]->l);
			p[i].events = (short)(POLLIN | (link_want_write(eps[i]->l) ? POLLOUT : 0));
			p[i].revents = 0;
		}
		poll(p, (nfds_t)n, t);
		for (int i = 0; i < n; i++)
			link_process(eps[i]->l);
	}
}

struct two {
	struct ep *a, *b;
	unsigned want_a, want_b; /* messages each should have received */
	unsigned sent_a, sent_b; /* sent callbacks each should have seen */
};

static inline bool both_up(void *arg)
{
	struct two *t = arg;
	return link_state(t->a->l) == LINK_UP && link_state(t->b->l) == LINK_UP &&
	       t->a->ups > 0 && t->b->ups > 0;
}

static inline bool all_done(void *arg)
{
	struct two *t = arg;
	return t->a->nmsgs >= t->want_a && t->b->nmsgs >= t->want_b && t->a->nsent >= t->sent_a &&
	       t->b->nsent >= t->sent_b;
}

static inline bool a_down(void *arg)
{
	struct two *t = arg;
	return t->a->downs >= 1 && t->a->nsent >= t->sent_a;
}

#endif
