/*
 * link_session.c — the session: handshake, keepalive, epochs, and the state
 * machine every event of the link goes through.
 *
 * Owns: the state, our epochs (boot, gen, sess), the peer (peer, peer_sess,
 * max_frame, max_pay), the session timers (hello_at, last_rx, last_tx), the
 * queue of events raised inside a transition (evq), control frames out and
 * frames in.
 *
 * Epochs: each end has a boot epoch (random) and a session epoch (boot +
 * generation, bumped whenever a session ends). Every frame carries the
 * sender's session epoch and the receiver's as known; frames of any other
 * session are stale and dropped (before any event is raised).
 *
 * States and events (fsm(): switch on the state, then on the event; the
 * state changes only in change_state(), which queues the trace and the
 * up/down notification). "end(R)" fails every message in flight with R,
 * forgets both directions, takes a new session epoch and queues `down`
 * with R; "+RESET" tells the peer first.
 *
 *   state  event                          action                          next
 *   HELLO  HELLO_TIMER                    send HELLO                      HELLO
 *   HELLO  HELLO, HELLO_ACK               learn the peer                  PEER, then as PEER
 *   PEER   HELLO_TIMER                    send HELLO (naming its session) PEER
 *   PEER   HELLO, HELLO_ACK naming us     learn, send HELLO_ACK           UP
 *   PEER   HELLO, HELLO_ACK not naming us learn; a HELLO is answered      PEER
 *   PEER   DATA, ACK, KEEPALIVE, RESET    (its HELLO_ACK was lost) send   UP, then as UP
 *                                         HELLO_ACK
 *   UP     HELLO, HELLO_ACK same session  a HELLO is answered             UP
 *   UP     HELLO, HELLO_ACK new boot      end(-ESTALE)                    HELLO, then as HELLO
 *   UP     HELLO, HELLO_ACK same boot,    end(-ECONNRESET) +RESET         HELLO, then as HELLO
 *          other session
 *   UP     DATA / ACK / KEEPALIVE         receiver / sender / nothing     UP
 *   UP     RESET                          end(-ECONNRESET) +RESET         HELLO
 *   UP     DEAD_TIMER                     end(-ETIMEDOUT) +RESET          HELLO
 *   UP     STALL_TIMER                    drop stalled messages,          HELLO
 *                                         end(-ETIMEDOUT) +RESET
 *   UP     RTO_TIMER, TLP_TIMER, SEND     sender                          UP
 *   UP     ACK_DUE / KA_TIMER             send ACK / KEEPALIVE            UP
 *   UP     PROTO, CARRIER                 end(arg) +RESET                 HELLO
 *   UP     IO_DOWN                        end(-ENETDOWN)                  HELLO
 *   HELLO, PEER  IO_DOWN                  nothing (HELLOs keep trying)    same
 *   HELLO, PEER, UP  IO_FATAL, CLOSE      end(arg) (down only if UP)      DEAD
 *   DEAD   anything                       nothing                         DEAD
 *
 * Invariants: no callback runs inside a transition (notifications are
 * queued, link.c delivers them after); an event raised inside a transition
 * (a device error met by a send, a protocol error found by the receiver) is
 * queued in evq and runs after it (fsm_drain), a gone device replacing a
 * down one; `down` comes exactly once per session that had an `up`; going
 * UP sends the HELLO_ACK first and stays put when that send finds the device
 * failed (no up, so no down); once a device error is queued, the rest of a
 * receive batch is dropped.
 */
#include "link_int.h"

#include <errno.h>
#include <string.h>

const char *sess_state_name(enum sess_state s)
{
	static const char *const n[] = { "hello", "peer", "up", "dead" };
	return (unsigned)s < sizeof n / sizeof n[0] ? n[s] : "?";
}

const char *link_event_name(enum link_event ev)
{
	static const char *const n[] = {
		"hello", "hello-ack", "data", "ack", "keepalive", "reset", "hello-timer",
		"keepalive-timer", "dead-timer", "stall-timer", "rto-timer", "tlp-timer",
		"ack-due", "send", "io-down", "io-fatal", "proto", "carrier", "close",
	};
	return (unsigned)ev < sizeof n / sizeof n[0] ? n[ev] : "?";
}

/* ---- the event queue ---- */

void fsm_post(struct link *l, enum link_event ev, int arg)
{
	for (unsigned i = 0; i < l->evq_n; i++) {
		if (l->evq[i].ev == ev)
			return;
		if (ev == EV_IO_FATAL && l->evq[i].ev == EV_IO_DOWN) {
			l->evq[i].ev = ev; /* a gone device outranks a down one */
			l->evq[i].arg = arg;
			return;
		}
	}
	if (l->evq_n == EVQ_MAX)
		l->evq_n--; /* only distinct events queue: the last gives way */
	l->evq[l->evq_n].ev = ev;
	l->evq[l->evq_n].arg = arg;
	l->evq_n++;
}

bool fsm_pending(const struct link *l)
{
	return l->evq_n > 0;
}

static bool io_pending(const struct link *l)
{
	for (unsigned i = 0; i < l->evq_n; i++)
		if (l->evq[i].ev == EV_IO_DOWN || l->evq[i].ev == EV_IO_FATAL)
			return true;
	return false;
}

void fsm_drain(struct link *l)
{
	while (l->evq_n) {
		enum link_event ev = l->evq[0].ev;
		int arg = l->evq[0].arg;
		l->evq_n--;
		memmove(&l->evq[0], &l->evq[1], l->evq_n * sizeof l->evq[0]);
		fsm_event(l, ev, arg);
	}
}

/* ---- control frames out ---- */

int sess_send_ctrl(struct link *l, size_t len)
{
	struct iovec v = { l->cbuf, len };
	int rc;
	if (!len)
		return 0;
	rc = l->io->ops->send(l->io, &v, 1);
	if (rc == 1) {
		l->st.frames_tx++;
		l->st.bytes_tx += len;
		l->last_tx = l->now;
	} else if (rc < 0 && rc != -EAGAIN && rc != -ENOBUFS) {
		fsm_post(l, rc == -ENETDOWN ? EV_IO_DOWN : EV_IO_FATAL, rc);
	}
	return rc;
}

static void send_hello(struct link *l, uint8_t type)
{
	struct frame_hello h;
	memset(&h, 0, sizeof h);
	h.version = LINK_PROTO_VERSION;
	h.boot = l->boot;
	h.caps = l->caps;
	h.max_frame = l->io->mtu;
	memcpy(h.ident, l->ident, sizeof h.ident);
	h.app = l->app;
	h.app_len = l->app_len;
	sess_send_ctrl(l, frame_put_hello(l->cbuf, l->io->mtu, type, l->sess,
					  l->state != S_HELLO ? l->peer_sess : 0, &h));
}

static void send_empty(struct link *l, uint8_t type)
{
	sess_send_ctrl(l, frame_put_empty(l->cbuf, l->io->mtu, type, l->sess, l->peer_sess));
}

/* ---- transitions ---- */

/* The one place the state changes; it queues the trace and up/down. */
static void change_state(struct link *l, enum sess_state to, enum link_event ev, int reason)
{
	enum sess_state from = l->state;

	if (from == to)
		return;
	l->state = to;
	notify_trace(l, from, to, ev, reason);
	if (to == S_UP) {
		l->st.sessions++;
		notify_up(l);
	} else if (from == S_UP) {
		notify_down(l, reason);
	}
}

/* end(reason): the session is over (HELLO), or the link (DEAD). */
static void session_end(struct link *l, enum sess_state to, enum link_event ev, int reason,
			bool tell)
{
	if (l->state == S_UP && tell)
		send_empty(l, FT_RESET); /* still in the old session's epochs */
	tx_clear(l, reason);
	rx_clear(l);
	l->gen++;
	l->sess = l->boot + l->gen;
	if (!l->sess)
		l->sess = 1;
	l->hello_at = 0;
	change_state(l, to, ev, reason);
}

static void go_up(struct link *l, enum link_event ev)
{
	/* acknowledge first: a device that fails it gets no session (no up, no down) */
	send_hello(l, FT_HELLO_ACK);
	if (io_pending(l))
		return;
	l->max_frame = l->peer.max_frame < l->io->mtu ? l->peer.max_frame : l->io->mtu;
	l->max_pay = l->max_frame - FRAME_DATA_OVERHEAD;
	l->last_rx = l->now;
	change_state(l, S_UP, ev, 0);
}

static void learn_peer(struct link *l, enum link_event ev, const struct frame *f)
{
	const struct frame_hello *h = &f->u.hello;

	l->peer.version = h->version;
	memcpy(l->peer.ident, h->ident, sizeof l->peer.ident);
	l->peer.epoch = h->boot;
	l->peer.caps = h->caps;
	l->peer.max_frame = h->max_frame;
	memcpy(l->peer.app, h->app, h->app_len);
	l->peer.app_len = h->app_len;
	l->peer_sess = f->src;
	change_state(l, S_PEER, ev, 0);
	if (f->dst == l->sess)
		go_up(l, ev);
	else if (ev == EV_HELLO)
		send_hello(l, FT_HELLO_ACK);
}

static void fsm(struct link *l, enum link_event ev, const struct frame *f, int arg);

/* HELLO and PEER: the handshake. */
static void fsm_hello(struct link *l, enum link_event ev, const struct frame *f, int arg)
{
	switch (ev) {
	case EV_HELLO_TIMER:
		send_hello(l, FT_HELLO);
		l->hello_at = l->now + l->hello_us;
		break;
	case EV_HELLO:
	case EV_HELLO_ACK:
		learn_peer(l, ev, f);
		break;
	case EV_DATA:
	case EV_ACK:
	case EV_KEEPALIVE:
	case EV_RESET:
		/* only from the peer's session to ours (PEER): it is up with us */
		go_up(l, ev);
		if (l->state == S_UP)
			fsm(l, ev, f, arg);
		break;
	case EV_IO_FATAL:
	case EV_CLOSE:
		session_end(l, S_DEAD, ev, arg, false);
		break;
	default: /* IO_DOWN: HELLOs keep trying; the rest concern sessions */
		break;
	}
}

/* UP: a HELLO from the peer while the session is up. */
static void up_hello(struct link *l, enum link_event ev, const struct frame *f)
{
	if (f->u.hello.boot != l->peer.epoch) {
		l->st.epoch_changes++;
		session_end(l, S_HELLO, ev, -ESTALE, false);
	} else if (f->src != l->peer_sess) {
		session_end(l, S_HELLO, ev, -ECONNRESET, true);
	} else {
		if (ev == EV_HELLO)
			send_hello(l, FT_HELLO_ACK);
		return;
	}
	if (!io_pending(l))
		fsm(l, ev, f, 0); /* the new peer, in HELLO */
}

static void fsm_up(struct link *l, enum link_event ev, const struct frame *f, int arg)
{
	switch (ev) {
	case EV_HELLO:
	case EV_HELLO_ACK:
		up_hello(l, ev, f);
		break;
	case EV_DATA:
		rx_on_data(l, &f->u.data);
		break;
	case EV_ACK:
		tx_on_ack(l, &f->u.ack);
		break;
	case EV_KEEPALIVE:
		break;
	case EV_RESET:
		session_end(l, S_HELLO, ev, -ECONNRESET, true);
		break;
	case EV_DEAD_TIMER:
		session_end(l, S_HELLO, ev, -ETIMEDOUT, true);
		break;
	case EV_STALL_TIMER:
		rx_drop_stalled(l);
		session_end(l, S_HELLO, ev, -ETIMEDOUT, true);
		break;
	case EV_RTO_TIMER:
		tx_on_rto(l);
		break;
	case EV_TLP_TIMER:
		tx_on_tlp(l);
		break;
	case EV_ACK_DUE:
		rx_send_ack(l);
		break;
	case EV_SEND:
		tx_send(l);
		break;
	case EV_KA_TIMER:
		send_empty(l, FT_KEEPALIVE);
		break;
	case EV_PROTO:
	case EV_CARRIER:
		session_end(l, S_HELLO, ev, arg, true);
		break;
	case EV_IO_DOWN:
		session_end(l, S_HELLO, ev, -ENETDOWN, false);
		break;
	case EV_IO_FATAL:
	case EV_CLOSE:
		session_end(l, S_DEAD, ev, arg, false);
		break;
	case EV_HELLO_TIMER:
		break;
	}
}

/* The transition function: on the state, then on the event. */
static void fsm(struct link *l, enum link_event ev, const struct frame *f, int arg)
{
	switch (l->state) {
	case S_HELLO:
	case S_PEER:
		fsm_hello(l, ev, f, arg);
		break;
	case S_UP:
		fsm_up(l, ev, f, arg);
		break;
	case S_DEAD:
		break;
	}
}

void fsm_event(struct link *l, enum link_event ev, int arg)
{
	fsm(l, ev, NULL, arg);
}

/* ---- frames in ---- */

static const enum link_event frame_event[] = {
	[FT_HELLO] = EV_HELLO, [FT_HELLO_ACK] = EV_HELLO_ACK, [FT_DATA] = EV_DATA,
	[FT_ACK] = EV_ACK, [FT_KEEPALIVE] = EV_KEEPALIVE, [FT_RESET] = EV_RESET,
};

/* Checks a frame, counts a drop, or raises its event. */
static void on_frame(struct link *l, const uint8_t *p, size_t len)
{
	struct frame f;

	switch (frame_parse(p, len, &f)) {
	case 0:
		break;
	case FRAME_ESHORT:
		l->st.drop_short++;
		return;
	case FRAME_ECRC:
		l->st.drop_crc++;
		return;
	case FRAME_EFOREIGN:
		l->st.drop_foreign++;
		return;
	default:
		l->st.drop_bad++;
		return;
	}
	if (f.type == FT_HELLO || f.type == FT_HELLO_ACK) {
		if (f.u.hello.version != LINK_PROTO_VERSION || f.u.hello.boot == l->boot) {
			/* another protocol version, or our own frame looped back */
			l->st.drop_foreign++;
			return;
		}
	} else if (l->state == S_HELLO || f.src != l->peer_sess || f.dst != l->sess) {
		l->st.drop_stale++;
		return;
	} else {
		l->last_rx = l->now;
	}
	fsm(l, frame_event[f.type], &f, 0);
}

void sess_receive(struct link *l)
{
	for (int round = 0; round < RX_ROUNDS; round++) {
		for (int i = 0; i < RX_BATCH; i++)
			if (!l->rxp[i])
				l->rxp[i] = l->rxbuf + (size_t)i * l->io->mtu;
		int n = l->io->ops->recv(l->io, l->rxp, l->io->mtu, l->rxlen, RX_BATCH);
		if (n < 0)
			fsm_post(l, n == -ENETDOWN ? EV_IO_DOWN : EV_IO_FATAL, n);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			l->st.frames_rx++;
			l->st.bytes_rx += l->rxlen[i];
			on_frame(l, l->rxp[i], l->rxlen[i]);
			bool io = io_pending(l);
			fsm_drain(l);
			if (io || l->state == S_DEAD)
				return; /* the device failed: the rest of the batch is moot */
		}
		if (l->state == S_UP && rx_after_batch(l)) {
			fsm(l, EV_ACK_DUE, NULL, 0);
			if (io_pending(l))
				return;
		}
		if (n < RX_BATCH)
			return;
	}
}

/* ---- timers ---- */

void sess_timers(struct link *l)
{
	if (l->state == S_HELLO || l->state == S_PEER) {
		if (l->now >= l->hello_at)
			fsm(l, EV_HELLO_TIMER, NULL, 0);
		return;
	}
	if (l->state != S_UP)
		return;
	uint64_t stall = rx_stall_at(l);
	if (stall && l->now >= stall)
		fsm(l, EV_STALL_TIMER, NULL, 0);
	else if (l->now >= l->last_rx + l->dead_us)
		fsm(l, EV_DEAD_TIMER, NULL, 0);
	if (l->state != S_UP)
		return;
	if (l->rto_at && l->now >= l->rto_at)
		fsm(l, EV_RTO_TIMER, NULL, 0);
	else if (l->tlp_at && l->now >= l->tlp_at)
		fsm(l, EV_TLP_TIMER, NULL, 0);
	if (rx_ack_due(l))
		fsm(l, EV_ACK_DUE, NULL, 0);
	if (!io_pending(l))
		fsm(l, EV_SEND, NULL, 0);
	if (!io_pending(l) && l->now >= l->last_tx + l->keepalive_us)
		fsm(l, EV_KA_TIMER, NULL, 0);
}

uint64_t sess_next_timer(const struct link *l, uint64_t now)
{
	uint64_t at;

	if (l->state == S_DEAD)
		return UINT64_MAX;
	if (l->evq_n)
		return now;
	if (l->state != S_UP)
		return l->hello_at;
	at = l->last_tx + l->keepalive_us;
	if (l->last_rx + l->dead_us < at)
		at = l->last_rx + l->dead_us;
	if (l->rto_at && l->rto_at < at)
		at = l->rto_at;
	if (l->tlp_at && l->tlp_at < at)
		at = l->tlp_at;
	if (l->ack != ACK_NONE && l->delack_at && l->delack_at < at)
		at = l->delack_at;
	uint64_t stall = rx_stall_at(l);
	if (stall && stall < at)
		at = stall;
	if (tx_ready(l))
		at = l->pause_until > now && l->pause_until < at ? l->pause_until : now;
	return at;
}
