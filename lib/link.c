/*
 * link.c — the link's public API (link.h) and its notifications.
 *
 * The parts of the link (link_int.h lists them) never run a callback: what
 * a callback should hear (up, down, message, sent, trace) is queued in nq,
 * in the order it happened, and notify_flush() delivers the queue at the end
 * of each entry point (link_process, link_reset), after every transition
 * has finished. A callback that calls back in (link_send, link_reset) only
 * adds to the queue; the flush that is running delivers it. A message's
 * bytes belong to the queue until delivered (freed with the link if never).
 */
#include "link_int.h"
#include "clock.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* ---- notifications ---- */

static struct notice *notice_new(struct link *l)
{
	if (l->nq_n == l->nq_cap) {
		size_t nc = l->nq_cap ? l->nq_cap * 2 : 64;
		struct notice *q = malloc(nc * sizeof *q);
		if (!q) {
			fsm_post(l, EV_IO_FATAL, -ENOMEM);
			return NULL;
		}
		for (size_t i = 0; i < l->nq_n; i++)
			q[i] = l->nq[(l->nq_head + i) % l->nq_cap];
		free(l->nq);
		l->nq = q;
		l->nq_cap = nc;
		l->nq_head = 0;
	}
	struct notice *n = &l->nq[(l->nq_head + l->nq_n++) % l->nq_cap];
	memset(n, 0, sizeof *n);
	return n;
}

void notify_trace(struct link *l, enum sess_state from, enum sess_state to,
		  enum link_event ev, int reason)
{
	struct notice *n;
	if (!l->cb.trace || !(n = notice_new(l)))
		return;
	n->kind = N_TRACE;
	n->from = (uint8_t)from;
	n->to = (uint8_t)to;
	n->ev = (uint8_t)ev;
	n->status = reason;
}

void notify_up(struct link *l)
{
	struct notice *n = notice_new(l);
	if (n)
		n->kind = N_UP;
}

void notify_down(struct link *l, int reason)
{
	struct notice *n = notice_new(l);
	if (n) {
		n->kind = N_DOWN;
		n->status = reason;
	}
}

void notify_message(struct link *l, uint32_t stream, uint8_t *data, size_t len)
{
	struct notice *n = notice_new(l);
	if (!n) {
		free(data);
		return;
	}
	n->kind = N_MESSAGE;
	n->stream = stream;
	n->data = data;
	n->len = len;
}

void notify_sent(struct link *l, uint64_t id, int status)
{
	struct notice *n;
	if (!l->cb.sent || !(n = notice_new(l)))
		return;
	n->kind = N_SENT;
	n->id = id;
	n->status = status;
}

static void notice_run(struct link *l, struct notice *n)
{
	const struct link_callbacks *cb = &l->cb;

	switch (n->kind) {
	case N_TRACE:
		if (cb->trace)
			cb->trace(l, sess_state_name(n->from), sess_state_name(n->to),
				  link_event_name(n->ev), n->status, l->user);
		break;
	case N_UP:
		if (cb->up)
			cb->up(l, &l->peer, l->user);
		break;
	case N_DOWN:
		if (cb->down)
			cb->down(l, n->status, l->user);
		break;
	case N_MESSAGE:
		if (cb->message)
			cb->message(l, n->stream, n->data, n->len, l->user);
		else
			free(n->data);
		break;
	case N_SENT:
		if (cb->sent)
			cb->sent(l, n->id, n->status, l->user);
		break;
	}
}

void notify_flush(struct link *l)
{
	if (l->flushing)
		return; /* called from a callback: the running flush delivers it */
	l->flushing = true;
	while (l->nq_n) {
		struct notice n = l->nq[l->nq_head];
		l->nq_head = (l->nq_head + 1) % l->nq_cap;
		l->nq_n--;
		notice_run(l, &n);
	}
	l->flushing = false;
}

void notify_free(struct link *l)
{
	for (; l->nq_n; l->nq_n--, l->nq_head = (l->nq_head + 1) % l->nq_cap)
		if (l->nq[l->nq_head].kind == N_MESSAGE)
			free(l->nq[l->nq_head].data);
	free(l->nq);
	l->nq = NULL;
	l->nq_cap = 0;
}

/* ---- create, free ---- */

static int config_check(const struct link_io *io, const struct link_config *cfg,
			const struct link_callbacks *cb)
{
	if (!io || !cfg || !cb || cfg->app_hello_len > LINK_APP_HELLO_MAX ||
	    (cfg->app_hello_len && !cfg->app_hello) ||
	    (cfg->ident && strlen(cfg->ident) >= LINK_IDENT_MAX) || io->mtu < FRAME_MIN_MTU ||
	    io->mtu > 65535 || (cfg->max_msg && cfg->max_msg > 0xfffff000u))
		return -EINVAL;
	return 0;
}

static void config_apply(struct link *l, const struct link_config *cfg)
{
	if (cfg->ident)
		strcpy(l->ident, cfg->ident);
	l->caps = cfg->caps;
	if (cfg->app_hello_len)
		memcpy(l->app, cfg->app_hello, cfg->app_hello_len);
	l->app_len = cfg->app_hello_len;
	l->keepalive_us = (cfg->keepalive_ms ? cfg->keepalive_ms : 500) * 1000u;
	l->dead_us = (cfg->dead_ms ? cfg->dead_ms : 3000) * 1000u;
	l->hello_us = l->keepalive_us < HELLO_MAX_MS * 1000u ? l->keepalive_us : HELLO_MAX_MS * 1000u;
	l->max_msg = cfg->max_msg ? cfg->max_msg : LINK_MAX_MSG_DEFAULT;
	l->rx_held_max = cfg->rx_held_max ? cfg->rx_held_max : 2 * l->max_msg;
	if (cfg->rx_stall_ms)
		l->rx_stall_us = (uint64_t)cfg->rx_stall_ms * 1000u;
	else
		l->rx_stall_us = 3 * (uint64_t)l->dead_us > RX_STALL_MIN_MS * 1000ull
					 ? 3 * (uint64_t)l->dead_us : RX_STALL_MIN_MS * 1000ull;
	l->no_compress = cfg->no_compress;
	l->boot = cfg->epoch;
	while (!l->boot)
		if (getrandom(&l->boot, sizeof l->boot, 0) != sizeof l->boot)
			l->boot = now_us() ^ ((uint64_t)(uintptr_t)l << 16);
	l->gen = 0;
	l->sess = l->boot ? l->boot : 1;
}

int link_new(struct link_io *io, const struct link_config *cfg,
	     const struct link_callbacks *cb, void *user, struct link **out)
{
	struct link *l;
	int rc;

	*out = NULL;
	if ((rc = config_check(io, cfg, cb)) < 0)
		goto fail;
	rc = -ENOMEM;
	if (!(l = calloc(1, sizeof *l)))
		goto fail;
	l->io = io;
	l->cb = *cb;
	l->user = user;
	config_apply(l, cfg);
	l->next_msg_id = 1;
	l->ring = calloc(RING, sizeof l->ring[0]);
	l->bits = calloc(RING / 64, sizeof l->bits[0]);
	l->txbuf = malloc((size_t)TX_BATCH * io->mtu);
	l->rxbuf = malloc((size_t)RX_BATCH * io->mtu);
	l->cbuf = malloc(io->mtu);
	if (!l->ring || !l->bits || !l->txbuf || !l->rxbuf || !l->cbuf) {
		l->io = NULL;
		link_free(l);
		goto fail;
	}
	l->state = S_HELLO;
	tx_clear(l, 0);
	rx_clear(l);
	l->now = now_us();
	*out = l;
	return 0;
fail:
	io->ops->close(io);
	return rc;
}

void link_free(struct link *l)
{
	if (!l)
		return;
	/* no callbacks from here on */
	memset(&l->cb, 0, sizeof l->cb);
	if (l->ring && l->bits && l->cbuf && l->io)
		fsm_event(l, EV_CLOSE, -ECANCELED);
	tx_free(l);
	rx_free(l);
	notify_free(l);
	free(l->rxbuf);
	free(l->cbuf);
	if (l->io)
		l->io->ops->close(l->io);
	free(l);
}

/* ---- driving it ---- */

int link_fd(const struct link *l)
{
	return l->io->ops->fd(l->io);
}

bool link_want_write(const struct link *l)
{
	return l->state == S_UP && l->tx_wait == TXW_POLLOUT;
}

int link_timeout_ms(const struct link *l)
{
	uint64_t now = now_us(), at = sess_next_timer(l, now);

	if (at == UINT64_MAX)
		return -1;
	if (at <= now)
		return 0;
	uint64_t ms = (at - now + 999) / 1000;
	return ms > 60000 ? 60000 : (int)ms;
}

int link_process(struct link *l)
{
	if (l->state == S_DEAD)
		return -ENODEV;
	l->now = now_us();
	fsm_drain(l);
	sess_receive(l);
	fsm_drain(l);
	if (l->state != S_DEAD) {
		l->now = now_us();
		sess_timers(l);
		fsm_drain(l);
	}
	notify_flush(l);
	return l->state == S_DEAD ? -ENODEV : 0;
}

void link_reset(struct link *l, int reason)
{
	if (l->state == S_UP)
		fsm_event(l, EV_CARRIER, reason < 0 ? reason : -ECONNRESET);
	/* a device error the RESET met is acted on by the next link_process */
	notify_flush(l);
}

int link_run(struct link *l, int timeout_ms, bool (*cond)(void *), void *user)
{
	uint64_t end = now_us() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000u;

	for (;;) {
		if (cond && cond(user))
			return 0;
		uint64_t now = now_us();
		if (now >= end)
			return -ETIMEDOUT;
		int t = link_timeout_ms(l);
		int left = (int)((end - now + 999) / 1000);
		if (t < 0 || t > left)
			t = left;
		struct pollfd p = { link_fd(l), POLLIN | (link_want_write(l) ? POLLOUT : 0), 0 };
		if (poll(&p, 1, t) < 0 && errno != EINTR)
			return -errno;
		int rc = link_process(l);
		if (rc < 0)
			return rc;
	}
}

/* ---- asking it ---- */

enum link_state link_state(const struct link *l)
{
	switch (l->state) {
	case S_UP:
		return LINK_UP;
	case S_DEAD:
		return LINK_DEAD;
	default:
		return LINK_HELLO;
	}
}

const char *link_state_name(enum link_state s)
{
	switch (s) {
	case LINK_HELLO:
		return "hello";
	case LINK_UP:
		return "up";
	case LINK_DEAD:
		return "dead";
	}
	return "?";
}

const struct link_peer *link_peer(const struct link *l)
{
	return l->state == S_UP ? &l->peer : NULL;
}

void link_get_stats(const struct link *l, struct link_stats *st)
{
	*st = l->st;
	st->srtt_us = l->srtt;
	st->rto_us = l->rto;
	st->cwnd = l->cwnd;
	st->inflight = l->pipe;
	st->rx_held = l->rx_held;
	st->rx_open = (uint32_t)l->imsgs.n;
}

uint64_t link_epoch(const struct link *l)
{
	return l->boot;
}

int link_send(struct link *l, uint32_t stream, const void *data, size_t len, uint64_t *msg_id)
{
	if (l->state != S_UP)
		return -ENOTCONN;
	if (len > l->max_msg)
		return -EMSGSIZE;
	if (len && !data)
		return -EINVAL;
	return tx_enqueue(l, stream, data, len, msg_id);
}

size_t link_send_backlog(const struct link *l)
{
	return l->backlog;
}
