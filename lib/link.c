/*
 * link.c — the link session: handshake, keepalive, and reliable, ordered,
 * multiplexed messages over frames (frame.h) on one link_io.
 *
 * Session: each end has a boot epoch (random) and a session epoch
 * (boot + generation, bumped whenever a session ends). Every frame carries
 * the sender's session epoch and the receiver's as known; frames of any other
 * session are stale and dropped. States: HELLO -> UP -> HELLO (session ended)
 * or DEAD (device gone). Transitions only in go_up() and sess_down().
 *
 * Device errors: a send or receive that finds the device down or gone only
 * notes the error (io_err); io_check() acts on it at a safe point (between
 * frames, after sending), never from inside a transition: -ENETDOWN ends the
 * session (UP -> HELLO, quiet: HELLOs keep being tried, their failures are
 * not news), anything else makes the link DEAD. The rest of a receive batch
 * is dropped once the device failed. go_up() sends its HELLO_ACK before it
 * changes state and stays in HELLO when that send finds the device failed,
 * so `down` is called exactly once per session that had an `up`.
 *
 * Sender: messages are queued per stream; the streams with unsent bytes take
 * turns, one frame each, so a big message never holds up another stream.
 * Every frame gets the next link-wide sequence number; a ring of RING slots
 * indexed by seq remembers what each in-flight frame carried (a message and an
 * offset, never a copy). ACKs carry the cumulative seq, up to 32 SACK ranges
 * and the receiver's window. A frame is lost when a frame transmitted
 * DUPTHRESH transmissions after it has been acknowledged (first
 * transmissions are checked in seq order, retransmissions in a FIFO, both
 * O(1) amortized), or when the RTO (RFC 6298 SRTT/RTTVAR, Karn's rule)
 * expires. Congestion: slow start then AIMD (x0.7 once per window of loss).
 * A qdisc that refuses a frame (ENOBUFS) is backpressure, not loss: the frame
 * stays queued here and sending pauses briefly. A message is acknowledged (sent
 * callback 0) when all its frames are and all earlier messages on its stream
 * were.
 *
 * Receiver: a frame's payload goes straight into its message's buffer (any
 * order); a bitmap over the window finds duplicates. A complete message is
 * delivered once the previous unfinished message on its stream (named by the
 * sender in each frame, `prev`) has been delivered, so order holds per
 * stream and streams never wait for each other.
 */
#include "link.h"
#include "frame.h"
#include "lz.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define RING 8192u		/* frames in flight at most (power of two) */
#define RING_MASK (RING - 1)
#define TX_BATCH 64
#define RX_BATCH 64
#define RX_ROUNDS 16		/* receive batches per link_process */
#define ACK_EVERY 16		/* frames received before an immediate ACK */
#define DELACK_US 1000
#define DUPTHRESH 3
#define CWND_INIT 32
#define CWND_MIN 4
#define RTO_INIT_US 200000
#define RTO_MIN_US 20000
#define RTO_MAX_US 1000000
#define NOBUFS_PAUSE_US 500
#define HELLO_MAX_MS 100
#define RX_OPEN_MAX RING		/* unfinished messages held per link */
#define RX_STALL_MIN_MS 10000	/* default stall deadline: the larger of this and 3 x dead_ms */

#define container_of(p, T, f) ((T *)((char *)(p) - offsetof(T, f)))

static inline bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }

/* ---- a chained hash table keyed by u32, intrusive ---- */

struct hnode {
	struct hnode *next;
	uint32_t key;
};

struct htab {
	struct hnode **b;
	size_t nb, n;
};

static size_t hidx(const struct htab *t, uint32_t k)
{
	return (size_t)((k * 2654435761u) >> 8) & (t->nb - 1);
}

static struct hnode *hget(const struct htab *t, uint32_t k)
{
	if (!t->nb)
		return NULL;
	for (struct hnode *h = t->b[hidx(t, k)]; h; h = h->next)
		if (h->key == k)
			return h;
	return NULL;
}

static int hput(struct htab *t, struct hnode *h)
{
	if (t->n >= t->nb) {
		size_t nb = t->nb ? t->nb * 4 : 64;
		struct hnode **b = calloc(nb, sizeof *b);
		if (!b)
			return -ENOMEM;
		struct htab nt = { b, nb, t->n };
		for (size_t i = 0; i < t->nb; i++)
			for (struct hnode *x = t->b[i], *nx; x; x = nx) {
				nx = x->next;
				size_t j = hidx(&nt, x->key);
				x->next = b[j];
				b[j] = x;
			}
		free(t->b);
		*t = nt;
	}
	size_t i = hidx(t, h->key);
	h->next = t->b[i];
	t->b[i] = h;
	t->n++;
	return 0;
}

static void hdel(struct htab *t, struct hnode *h)
{
	for (struct hnode **pp = &t->b[hidx(t, h->key)]; *pp; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			t->n--;
			return;
		}
}

/* ---- state ---- */

struct ostream;

struct omsg {			/* an outgoing message */
	uint64_t id;
	struct ostream *st;
	struct omsg *next;	/* in its stream's queue, or the done list */
	uint8_t *wire;
	uint32_t wire_len;
	size_t raw_len;
	bool compressed, started, all_sent, has_prev;
	uint32_t msg_seq, prev_seq;
	uint32_t next_off;
	uint32_t frames_sent, frames_acked;
};

struct ostream {
	struct hnode h;		/* key: stream id */
	struct omsg *head, *tail; /* unfinished messages, in order */
	struct omsg *sending;	/* first message with bytes not yet sent */
	struct ostream *anext, *aprev; /* ring of streams with bytes to send */
	bool active;
};

enum { S_ACKED = 1, S_PIPE = 2, S_RTXQ = 4, S_RETX = 8 };

struct slot {
	struct omsg *m;
	uint64_t order;		/* transmission number of its last transmission */
	uint64_t sent_us;
	uint32_t off;
	uint16_t len;
	uint8_t st;
};

struct imsg {			/* an incoming message */
	struct hnode h;		/* key: msg seq */
	struct hnode w;		/* in `waiting`, key: prev seq (complete, held) */
	struct imsg *older, *newer; /* the stall list, by last progress */
	uint64_t last_us;	/* when it last got a new frame */
	uint32_t stream, total, prev;
	uint32_t nframes, covered; /* frames it has; distinct ones received */
	uint8_t flags;
	bool complete;
	uint8_t *buf;		/* cap bytes, grown as frames arrive */
	size_t cap;
	uint64_t *have;		/* bitmap of frame indices received */
	uint32_t have_words;
};

struct u32q {			/* a growable FIFO of (seq, order) */
	struct { uint32_t seq; uint64_t order; } *v;
	size_t cap, head, n;
};

struct link {
	struct link_io *io;
	struct link_callbacks cb;
	void *user;
	enum link_state state;
	char ident[LINK_IDENT_MAX];
	uint32_t caps;
	uint8_t app[LINK_APP_HELLO_MAX];
	size_t app_len;
	uint32_t keepalive_us, dead_us, hello_us;
	size_t max_msg;
	bool no_compress;

	uint64_t boot, gen, sess;	/* our epochs */
	bool peer_known;
	uint64_t peer_sess;
	struct link_peer peer;
	uint32_t max_frame, max_pay;
	uint64_t sess_count;		/* bumped by every sess_down, to notice callbacks' effects */
	int io_err;			/* device error noted by I/O, acted on by io_check() */

	uint64_t now;
	uint64_t last_rx, last_tx, hello_at;
	struct link_stats st;

	/* sender */
	struct htab streams;
	struct ostream *active;		/* round-robin cursor */
	struct omsg *done_head, *done_tail;
	struct slot *ring;
	uint32_t snd_una, snd_nxt, rtx_scan, recover;
	bool in_recovery;
	uint32_t cwnd, ssthresh, cwnd_acc, pipe, peer_rwnd;
	uint64_t order, max_acked_order;
	struct u32q rtxq, rtxfifo;
	uint64_t rto_at;		/* 0: not armed */
	uint64_t tlp_at;		/* tail loss probe, 0: not armed */
	uint32_t srtt, rttvar, rto;	/* us */
	uint64_t next_msg_id;
	size_t backlog;
	bool want_write;
	uint64_t pause_until;
	uint8_t *txbuf;
	struct iovec txv[TX_BATCH];
	unsigned tx_cnt, tx_off;
	uint8_t *cbuf;			/* control frames */

	/* receiver */
	uint64_t *bits;			/* RING bits, ring-indexed by seq */
	uint32_t rcv_nxt, rcv_hi;
	uint32_t unacked;
	bool ack_now;
	uint64_t delack_at;
	struct htab imsgs, waiting;
	struct imsg *last_im;
	struct imsg *stall_old, *stall_new; /* every open message, least recent progress first */
	size_t rx_held, rx_held_max;	/* bytes held by unfinished messages; their cap */
	uint64_t rx_stall_us;
	uint8_t *rxbuf;
	uint8_t *rxp[RX_BATCH];
	size_t rxlen[RX_BATCH];
};

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int q_push(struct u32q *q, uint32_t seq, uint64_t order)
{
	if (q->n == q->cap) {
		size_t nc = q->cap ? q->cap * 2 : 256;
		void *nv = malloc(nc * sizeof q->v[0]);
		if (!nv)
			return -ENOMEM;
		for (size_t i = 0; i < q->n; i++)
			memcpy((char *)nv + i * sizeof q->v[0], &q->v[(q->head + i) % q->cap],
			       sizeof q->v[0]);
		free(q->v);
		q->v = nv;
		q->cap = nc;
		q->head = 0;
	}
	q->v[(q->head + q->n) % q->cap].seq = seq;
	q->v[(q->head + q->n) % q->cap].order = order;
	q->n++;
	return 0;
}

static void q_pop(struct u32q *q)
{
	q->head = (q->head + 1) % q->cap;
	q->n--;
}

/* ---- frames out ---- */

static uint64_t pto(const struct link *l);

/* Notes a device error for io_check(); a gone device outranks a down one. */
static void io_note(struct link *l, int err)
{
	if (!l->io_err || l->io_err == -ENETDOWN)
		l->io_err = err;
}

static void send_ctrl(struct link *l, size_t len)
{
	struct iovec v = { l->cbuf, len };
	int rc;
	if (!len)
		return;
	rc = l->io->ops->send(l->io, &v, 1);
	if (rc == 1) {
		l->st.frames_tx++;
		l->st.bytes_tx += len;
		l->last_tx = l->now;
	} else if (rc < 0 && rc != -EAGAIN && rc != -ENOBUFS) {
		io_note(l, rc);
	}
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
	send_ctrl(l, frame_put_hello(l->cbuf, l->io->mtu, type, l->sess,
				     l->peer_known ? l->peer_sess : 0, &h));
}

static void send_empty(struct link *l, uint8_t type)
{
	send_ctrl(l, frame_put_empty(l->cbuf, l->io->mtu, type, l->sess, l->peer_sess));
}

static bool bit_get(const struct link *l, uint32_t s)
{
	uint32_t i = s & RING_MASK;
	return (l->bits[i >> 6] >> (i & 63)) & 1;
}

static void bit_set(struct link *l, uint32_t s, bool v)
{
	uint32_t i = s & RING_MASK;
	if (v)
		l->bits[i >> 6] |= 1ull << (i & 63);
	else
		l->bits[i >> 6] &= ~(1ull << (i & 63));
}

static uint32_t rwnd_adv(const struct link *l)
{
	uint32_t w = RING;
	if (l->io->rx_frames && l->io->rx_frames < w)
		w = l->io->rx_frames < 16 ? 16 : l->io->rx_frames;
	return w;
}

static void send_ack(struct link *l)
{
	struct frame_ack a;
	memset(&a, 0, sizeof a);
	a.cum = l->rcv_nxt;
	a.rwnd = rwnd_adv(l);
	/* SACK ranges of received frames above the first hole, lowest first */
	uint32_t s = l->rcv_nxt;
	while (seq_lt(s, l->rcv_hi) && a.n < FRAME_SACK_MAX) {
		while (seq_lt(s, l->rcv_hi) && !bit_get(l, s)) {
			uint32_t i = s & RING_MASK;
			if ((i & 63) == 0 && l->bits[i >> 6] == 0)
				s += 64;
			else
				s++;
		}
		if (!seq_lt(s, l->rcv_hi))
			break;
		uint32_t start = s;
		while (seq_lt(s, l->rcv_hi) && bit_get(l, s)) {
			uint32_t i = s & RING_MASK;
			if ((i & 63) == 0 && l->bits[i >> 6] == ~0ull)
				s += 64;
			else
				s++;
		}
		if (seq_lt(l->rcv_hi, s))
			s = l->rcv_hi;
		a.sack[a.n][0] = start;
		a.sack[a.n][1] = s;
		a.n++;
	}
	size_t len = frame_put_ack(l->cbuf, l->io->mtu, l->sess, l->peer_sess, &a);
	uint64_t before = l->st.frames_tx;
	send_ctrl(l, len);
	if (l->st.frames_tx != before) {
		l->unacked = 0;
		l->ack_now = false;
		l->delack_at = 0;
	}
}

/* ---- session transitions ---- */

static void free_omsg(struct omsg *m)
{
	free(m->wire);
	free(m);
}

static void flush_done(struct link *l)
{
	while (l->done_head) {
		struct omsg *m = l->done_head;
		l->done_head = m->next;
		if (!l->done_head)
			l->done_tail = NULL;
		uint64_t id = m->id;
		free_omsg(m);
		if (l->cb.sent)
			l->cb.sent(l, id, 0, l->user);
	}
}

static void free_imsg(struct imsg *m)
{
	free(m->have);
	free(m->buf);
	free(m);
}

/* Forgets all per-session transport state; fails outgoing messages with `reason`. */
static void clear_session(struct link *l, int reason)
{
	struct omsg *fail = NULL, **tail = &fail;

	for (size_t i = 0; i < l->streams.nb; i++) {
		struct hnode *h = l->streams.b[i], *nh;
		for (; h; h = nh) {
			nh = h->next;
			struct ostream *st = container_of(h, struct ostream, h);
			*tail = st->head;
			while (*tail)
				tail = &(*tail)->next;
			free(st);
		}
		l->streams.b[i] = NULL;
	}
	l->streams.n = 0;
	l->active = NULL;
	for (size_t i = 0; i < l->imsgs.nb; i++) {
		struct hnode *h = l->imsgs.b[i], *nh;
		for (; h; h = nh) {
			nh = h->next;
			free_imsg(container_of(h, struct imsg, h));
		}
		l->imsgs.b[i] = NULL;
	}
	l->imsgs.n = 0;
	for (size_t i = 0; i < l->waiting.nb; i++)
		l->waiting.b[i] = NULL;
	l->waiting.n = 0;
	l->last_im = NULL;
	l->stall_old = l->stall_new = NULL;
	l->rx_held = 0;
	memset(l->ring, 0, RING * sizeof l->ring[0]);
	memset(l->bits, 0, RING / 8);
	l->snd_una = l->snd_nxt = l->rtx_scan = l->recover = 0;
	l->in_recovery = false;
	l->cwnd = CWND_INIT;
	l->ssthresh = RING;
	l->cwnd_acc = l->pipe = 0;
	l->peer_rwnd = 64;
	l->order = l->max_acked_order = 0;
	l->rtxq.n = l->rtxfifo.n = 0;
	l->rto_at = l->tlp_at = 0;
	l->srtt = l->rttvar = 0;
	l->rto = RTO_INIT_US;
	l->backlog = 0;
	l->tx_cnt = l->tx_off = 0;
	l->want_write = false;
	l->pause_until = 0;
	l->rcv_nxt = l->rcv_hi = 0;
	l->unacked = 0;
	l->ack_now = false;
	l->delack_at = 0;

	/* completed messages are reported as such, then the rest fail */
	flush_done(l);
	while (fail) {
		struct omsg *m = fail;
		fail = m->next;
		uint64_t id = m->id;
		free_omsg(m);
		if (l->cb.sent)
			l->cb.sent(l, id, reason, l->user);
	}
}

static void new_sess_epoch(struct link *l)
{
	l->gen++;
	l->sess = l->boot + l->gen;
	if (!l->sess)
		l->sess = 1;
}

/*
 * Ends the session (UP -> HELLO), or the link (DEAD) when `dead`. `tell`: send
 * the peer a RESET first (best effort; a device error it meets is only noted).
 * The state changes before anything else, so nothing below (a send, a
 * callback) can end the same session twice.
 */
static void sess_down_tell(struct link *l, int reason, bool dead, bool tell)
{
	bool was_up = l->state == LINK_UP;

	l->state = dead ? LINK_DEAD : LINK_HELLO;
	if (was_up && tell)
		send_empty(l, FT_RESET); /* still in the old session's epochs */
	l->sess_count++;
	new_sess_epoch(l);
	l->peer_known = false;
	l->hello_at = 0;
	clear_session(l, reason);
	if (was_up && l->cb.down)
		l->cb.down(l, reason, l->user);
}

static void sess_down(struct link *l, int reason, bool dead)
{
	sess_down_tell(l, reason, dead, !dead && reason != -ESTALE);
}

/*
 * Acts on a noted device error: -ENETDOWN ends the session (the carrier may
 * come back: HELLO), anything else the link (DEAD). Returns true when there
 * was one; the caller stops working on frames of the failed device.
 */
static bool io_check(struct link *l)
{
	int err = l->io_err;

	if (!err)
		return false;
	l->io_err = 0;
	if (err == -ENETDOWN) {
		if (l->state == LINK_UP)
			sess_down_tell(l, err, false, false);
	} else if (l->state != LINK_DEAD) {
		sess_down_tell(l, err, true, false);
	}
	return true;
}

static void go_up(struct link *l)
{
	/* acknowledge first: a device that fails it gets no session (no up, no down) */
	send_hello(l, FT_HELLO_ACK);
	if (l->io_err)
		return;
	l->state = LINK_UP;
	l->st.sessions++;
	l->max_frame = l->peer.max_frame < l->io->mtu ? l->peer.max_frame : l->io->mtu;
	l->max_pay = l->max_frame - FRAME_DATA_OVERHEAD;
	l->last_rx = l->now;
	if (l->cb.up)
		l->cb.up(l, &l->peer, l->user);
}

/* ---- sender ---- */

static void stream_activate(struct link *l, struct ostream *st)
{
	if (st->active)
		return;
	st->active = true;
	if (!l->active) {
		st->anext = st->aprev = st;
		l->active = st;
	} else {
		st->anext = l->active;
		st->aprev = l->active->aprev;
		st->aprev->anext = st;
		l->active->aprev = st;
	}
}

static void stream_deactivate(struct link *l, struct ostream *st)
{
	if (!st->active)
		return;
	st->active = false;
	if (st->anext == st) {
		l->active = NULL;
	} else {
		st->aprev->anext = st->anext;
		st->anext->aprev = st->aprev;
		if (l->active == st)
			l->active = st->anext;
	}
}

/* Moves finished messages at the head of st to the done list; frees st when empty. */
static void stream_complete(struct link *l, struct ostream *st)
{
	while (st->head && st->head->all_sent &&
	       st->head->frames_acked == st->head->frames_sent) {
		struct omsg *m = st->head;
		st->head = m->next;
		if (!st->head)
			st->tail = NULL;
		m->next = NULL;
		if (l->done_tail)
			l->done_tail->next = m;
		else
			l->done_head = m;
		l->done_tail = m;
		l->backlog -= m->raw_len;
		l->st.msgs_tx++;
		l->st.payload_tx += m->raw_len;
	}
	if (!st->head) {
		stream_deactivate(l, st);
		hdel(&l->streams, &st->h);
		free(st);
	}
}

static void encode_slot(struct link *l, uint32_t seq, uint8_t *out)
{
	struct slot *sl = &l->ring[seq & RING_MASK];
	struct omsg *m = sl->m;
	struct frame_data d;
	d.seq = seq;
	d.stream = m->st->h.key;
	d.msg = m->msg_seq;
	d.prev = m->has_prev ? m->prev_seq : 0;
	d.off = sl->off;
	d.total = m->wire_len;
	d.flags = (uint8_t)((m->compressed ? FF_COMPRESSED : 0) | (m->has_prev ? FF_PREV : 0));
	d.payload = m->wire + sl->off;
	d.len = sl->len;
	size_t n = frame_put_data(out, l->max_frame, l->sess, l->peer_sess, &d);
	l->txv[l->tx_cnt].iov_base = out;
	l->txv[l->tx_cnt].iov_len = n;
	l->tx_cnt++;
}

/* Assigns the next seq to the next frame of the next stream in turn. */
static bool next_new_frame(struct link *l)
{
	uint32_t limit = l->peer_rwnd < RING ? l->peer_rwnd : RING;
	if (l->snd_nxt - l->snd_una >= limit || !l->active)
		return false;
	struct ostream *st = l->active;
	struct omsg *m = st->sending;
	uint32_t seq = l->snd_nxt++;
	struct slot *sl = &l->ring[seq & RING_MASK];

	if (!m->started) {
		m->started = true;
		m->msg_seq = seq;
		/* the previous message on the stream, if still unfinished */
		struct omsg *p = st->head;
		if (p != m) {
			while (p->next != m)
				p = p->next;
			m->has_prev = true;
			m->prev_seq = p->msg_seq;
		}
	}
	uint32_t left = m->wire_len - m->next_off;
	sl->m = m;
	sl->off = m->next_off;
	sl->len = (uint16_t)(left < l->max_pay ? left : l->max_pay);
	sl->st = S_PIPE;
	sl->order = ++l->order;
	sl->sent_us = l->now;
	l->pipe++;
	m->next_off += sl->len;
	m->frames_sent++;
	if (m->next_off == m->wire_len) {
		m->all_sent = true;
		st->sending = m->next;
	}
	l->active = st->anext;
	if (!st->sending)
		stream_deactivate(l, st);
	encode_slot(l, seq, l->txbuf + (size_t)l->tx_cnt * l->io->mtu);
	return true;
}

static void congestion(struct link *l)
{
	if (l->in_recovery)
		return;
	l->in_recovery = true;
	l->recover = l->snd_nxt;
	uint32_t c = l->cwnd * 7 / 10;
	l->ssthresh = l->cwnd = c < CWND_MIN ? CWND_MIN : c;
	l->cwnd_acc = 0;
}

/* 1: all sent; 0: blocked; <0: fatal */
static int tx_flush(struct link *l)
{
	while (l->tx_off < l->tx_cnt) {
		int rc = l->io->ops->send(l->io, &l->txv[l->tx_off], l->tx_cnt - l->tx_off);
		if (rc > 0) {
			for (int i = 0; i < rc; i++)
				l->st.bytes_tx += l->txv[l->tx_off + (unsigned)i].iov_len;
			l->st.frames_tx += (unsigned)rc;
			l->tx_off += (unsigned)rc;
			l->last_tx = l->now;
			continue;
		}
		if (rc == 0 || rc == -EAGAIN) {
			l->want_write = true;
			return 0;
		}
		if (rc == -ENOBUFS) {
			/* the qdisc is full: backpressure, not loss (the frame
			 * was not sent and goes out later); wait for it to drain */
			l->pause_until = l->now + NOBUFS_PAUSE_US;
			return 0;
		}
		return rc;
	}
	l->tx_cnt = l->tx_off = 0;
	return 1;
}

static int tx_data(struct link *l)
{
	l->want_write = false;
	for (;;) {
		int rc = tx_flush(l);
		if (rc < 0)
			io_note(l, rc);
		if (rc <= 0)
			return 0;
		if (l->state != LINK_UP || l->now < l->pause_until)
			return 0;
		while (l->tx_cnt < TX_BATCH && l->pipe < l->cwnd) {
			if (l->rtxq.n) {
				uint32_t seq = l->rtxq.v[l->rtxq.head].seq;
				struct slot *sl = &l->ring[seq & RING_MASK];
				q_pop(&l->rtxq);
				if (seq_lt(seq, l->snd_una) || (sl->st & S_ACKED) ||
				    !(sl->st & S_RTXQ))
					continue;
				sl->st = (uint8_t)((sl->st & ~S_RTXQ) | S_RETX | S_PIPE);
				sl->order = ++l->order;
				sl->sent_us = l->now;
				l->pipe++;
				l->st.retransmits++;
				if (q_push(&l->rtxfifo, seq, sl->order) < 0) {
					io_note(l, -ENOMEM);
					return 0;
				}
				encode_slot(l, seq, l->txbuf + (size_t)l->tx_cnt * l->io->mtu);
				continue;
			}
			if (!next_new_frame(l))
				break;
		}
		if (!l->tx_cnt)
			return 0;
		if (!l->rto_at)
			l->rto_at = l->now + l->rto;
		if (!l->tlp_at)
			l->tlp_at = l->now + pto(l);
	}
}

/* The probe timeout: a little over two round trips plus the peer's ACK delay. */
static uint64_t pto(const struct link *l)
{
	uint64_t t = l->srtt ? 2u * l->srtt + DELACK_US : 10000u;
	return t < 2000 ? 2000 : t > l->rto ? l->rto : t;
}

static void mark_lost(struct link *l, uint32_t seq, struct slot *sl)
{
	if (sl->st & S_PIPE) {
		sl->st &= (uint8_t)~S_PIPE;
		l->pipe--;
	}
	sl->st |= S_RTXQ;
	(void)q_push(&l->rtxq, seq, 0); /* on ENOMEM the RTO recovers it */
}

static void slot_acked(struct link *l, struct slot *sl, uint64_t *rtt_order, uint64_t *rtt_sent)
{
	sl->st |= S_ACKED;
	if (sl->st & S_PIPE) {
		sl->st &= (uint8_t)~S_PIPE;
		l->pipe--;
	}
	if (sl->order > l->max_acked_order)
		l->max_acked_order = sl->order;
	if (!(sl->st & S_RETX) && sl->order > *rtt_order) {
		*rtt_order = sl->order;
		*rtt_sent = sl->sent_us;
	}
	struct omsg *m = sl->m;
	m->frames_acked++;
	if (m->all_sent && m->frames_acked == m->frames_sent && m->st->head == m)
		stream_complete(l, m->st);
}

static void rtt_sample(struct link *l, uint64_t sent)
{
	uint32_t r = l->now > sent ? (uint32_t)(l->now - sent) : 1;
	if (!l->srtt) {
		l->srtt = r;
		l->rttvar = r / 2;
	} else {
		uint32_t d = l->srtt > r ? l->srtt - r : r - l->srtt;
		l->rttvar = (3 * l->rttvar + d) / 4;
		l->srtt = (7 * l->srtt + r) / 8;
	}
	uint32_t rto = l->srtt + (4 * l->rttvar > 1000 ? 4 * l->rttvar : 1000);
	l->rto = rto < RTO_MIN_US ? RTO_MIN_US : rto > RTO_MAX_US ? RTO_MAX_US : rto;
}

static void on_ack(struct link *l, const struct frame_ack *a)
{
	uint64_t rtt_order = 0, rtt_sent = 0;
	uint32_t acked = 0;

	if (seq_lt(l->snd_nxt, a->cum)) {
		l->st.drop_bad++;
		return;
	}
	l->peer_rwnd = a->rwnd < 16 ? 16 : a->rwnd > RING ? RING : a->rwnd;
	while (seq_lt(l->snd_una, a->cum)) {
		struct slot *sl = &l->ring[l->snd_una & RING_MASK];
		if (!(sl->st & S_ACKED)) {
			slot_acked(l, sl, &rtt_order, &rtt_sent);
			acked++;
		}
		sl->m = NULL;
		sl->st = 0;
		l->snd_una++;
	}
	for (unsigned i = 0; i < a->n; i++) {
		uint32_t s = a->sack[i][0], e = a->sack[i][1];
		if (seq_lt(s, l->snd_una))
			s = l->snd_una;
		if (seq_lt(l->snd_nxt, e))
			e = l->snd_nxt;
		for (; seq_lt(s, e); s++) {
			struct slot *sl = &l->ring[s & RING_MASK];
			if (!(sl->st & S_ACKED)) {
				slot_acked(l, sl, &rtt_order, &rtt_sent);
				acked++;
			}
		}
	}
	if (rtt_order)
		rtt_sample(l, rtt_sent);
	if (l->in_recovery && !seq_lt(l->snd_una, l->recover))
		l->in_recovery = false;
	if (acked && !l->in_recovery) {
		if (l->cwnd < l->ssthresh) {
			l->cwnd += acked;
		} else {
			l->cwnd_acc += acked;
			while (l->cwnd_acc >= l->cwnd) {
				l->cwnd_acc -= l->cwnd;
				l->cwnd++;
			}
		}
		if (l->cwnd > RING)
			l->cwnd = RING;
	}
	/* loss: first transmissions, in seq (= transmission) order */
	bool lost = false;
	if (seq_lt(l->rtx_scan, l->snd_una))
		l->rtx_scan = l->snd_una;
	while (seq_lt(l->rtx_scan, l->snd_nxt)) {
		struct slot *sl = &l->ring[l->rtx_scan & RING_MASK];
		if (!(sl->st & (S_ACKED | S_RETX | S_RTXQ))) {
			if (sl->order + DUPTHRESH >= l->max_acked_order)
				break;
			mark_lost(l, l->rtx_scan, sl);
			lost = true;
		}
		l->rtx_scan++;
	}
	/* loss of retransmissions, in their transmission order */
	while (l->rtxfifo.n) {
		uint32_t seq = l->rtxfifo.v[l->rtxfifo.head].seq;
		uint64_t ord = l->rtxfifo.v[l->rtxfifo.head].order;
		struct slot *sl = &l->ring[seq & RING_MASK];
		if (seq_lt(seq, l->snd_una) || (sl->st & S_ACKED) || sl->order != ord ||
		    (sl->st & S_RTXQ)) {
			q_pop(&l->rtxfifo);
			continue;
		}
		if (ord + DUPTHRESH >= l->max_acked_order)
			break;
		q_pop(&l->rtxfifo);
		mark_lost(l, seq, sl);
		lost = true;
	}
	if (lost)
		congestion(l);
	if (acked) {
		l->rto_at = l->snd_una != l->snd_nxt ? l->now + l->rto : 0;
		l->tlp_at = l->snd_una != l->snd_nxt ? l->now + pto(l) : 0;
	}
}

/*
 * Tail loss probe (after RFC 8985): nothing acknowledged for a PTO. Resend
 * the last unacknowledged frame so that its ACK (with SACK) shows any hole
 * and fast retransmit repairs it, instead of waiting for the RTO.
 */
static void on_tlp(struct link *l)
{
	l->tlp_at = 0;
	if (l->snd_una == l->snd_nxt || l->rtxq.n)
		return;
	for (uint32_t s = l->snd_nxt - 1; !seq_lt(s, l->snd_una); s--) {
		struct slot *sl = &l->ring[s & RING_MASK];
		if (!(sl->st & (S_ACKED | S_RTXQ))) {
			mark_lost(l, s, sl);
			if (l->pipe >= l->cwnd)
				l->cwnd = l->pipe + 1; /* the probe goes out now */
			return;
		}
	}
}

static void on_rto(struct link *l)
{
	l->rto_at = 0;
	if (l->snd_una == l->snd_nxt)
		return;
	l->st.timeouts++;
	uint32_t half = l->pipe / 2;
	l->ssthresh = half < CWND_MIN ? CWND_MIN : half;
	l->cwnd = CWND_MIN;
	l->cwnd_acc = 0;
	l->in_recovery = true;
	l->recover = l->snd_nxt;
	l->rto = l->rto * 2 > RTO_MAX_US ? RTO_MAX_US : l->rto * 2;
	for (uint32_t s = l->snd_una; seq_lt(s, l->snd_nxt); s++) {
		struct slot *sl = &l->ring[s & RING_MASK];
		if (!(sl->st & (S_ACKED | S_RTXQ)))
			mark_lost(l, s, sl);
	}
	l->pipe = 0;
	l->rtx_scan = l->snd_nxt;
	l->rto_at = l->now + l->rto;
	l->tlp_at = 0;
}

/* ---- receiver ---- */

static bool seq_received(const struct link *l, uint32_t s)
{
	if (seq_lt(s, l->rcv_nxt))
		return true;
	if (s - l->rcv_nxt >= RING)
		return false;
	return bit_get(l, s);
}

static size_t imsg_bytes(const struct imsg *m)
{
	return sizeof *m + m->cap + (size_t)m->have_words * sizeof m->have[0];
}

/* Unlinks m from the open set and the stall list, frees it, gives back its bytes. */
static void imsg_drop(struct link *l, struct imsg *m)
{
	hdel(&l->imsgs, &m->h);
	if (l->last_im == m)
		l->last_im = NULL;
	if (m->older)
		m->older->newer = m->newer;
	else
		l->stall_old = m->newer;
	if (m->newer)
		m->newer->older = m->older;
	else
		l->stall_new = m->older;
	l->rx_held -= imsg_bytes(m);
	free(m->have);
	free(m->buf);
	free(m);
}

/* Moves m to the new end of the stall list (it made progress now). */
static void imsg_touch(struct link *l, struct imsg *m)
{
	m->last_us = l->now;
	if (l->stall_new == m)
		return;
	if (m->older)
		m->older->newer = m->newer;
	else if (l->stall_old == m)
		l->stall_old = m->newer;
	if (m->newer)
		m->newer->older = m->older;
	m->older = l->stall_new;
	m->newer = NULL;
	if (l->stall_new)
		l->stall_new->newer = m;
	else
		l->stall_old = m;
	l->stall_new = m;
}

/*
 * Makes room in m for frame `idx`: the coverage bitmap and the buffer grow
 * (geometrically, never past the message) only as far as frames arrive, and
 * only within the link's budget of held bytes. -ENOBUFS: over the budget.
 */
static int imsg_room(struct link *l, struct imsg *m, uint32_t idx)
{
	uint32_t words = m->have_words, need_w = idx / 64 + 1;
	size_t cap = m->cap, end = (size_t)(idx + 1) * l->max_pay;

	if (end > m->total)
		end = m->total;
	if (need_w > words)
		words = need_w > 2 * words ? need_w : 2 * words;
	if (words > (m->nframes + 63) / 64)
		words = (m->nframes + 63) / 64;
	if (end > cap)
		cap = end > 2 * cap ? end : (2 * cap < m->total ? 2 * cap : m->total);
	size_t add = (cap - m->cap) + (size_t)(words - m->have_words) * sizeof m->have[0];
	if (!add)
		return 0;
	if (l->rx_held + add > l->rx_held_max || l->rx_held + add < l->rx_held)
		return -ENOBUFS;
	if (words > m->have_words) {
		uint64_t *h = realloc(m->have, words * sizeof *h);
		if (!h)
			return -ENOMEM;
		memset(h + m->have_words, 0, (words - m->have_words) * sizeof *h);
		m->have = h;
		l->rx_held += (words - m->have_words) * sizeof *h;
		m->have_words = words;
	}
	if (cap > m->cap) {
		uint8_t *b = realloc(m->buf, cap);
		if (!b)
			return -ENOMEM;
		m->buf = b;
		l->rx_held += cap - m->cap;
		m->cap = cap;
	}
	if (l->rx_held > l->st.rx_held_peak)
		l->st.rx_held_peak = l->rx_held;
	return 0;
}

/* Delivers m and then whatever waited for it. */
static int deliver(struct link *l, struct imsg *m)
{
	uint64_t sc = l->sess_count;
	while (m) {
		uint8_t *data = m->buf;
		size_t len = m->total;
		uint32_t key = m->h.key, stream = m->stream;
		if (m->covered != m->nframes || m->cap < m->total)
			abort(); /* our own invariant: only a fully covered message is delivered */
		if (m->flags & FF_COMPRESSED) {
			/* LZO1X expands at most ~255:1: a header claiming more is refused
			 * before anything the size of the claim is allocated */
			size_t most = (size_t)m->total * 256 + 4096;
			int rc = lz_decompress(m->buf, m->total, most < l->max_msg ? most : l->max_msg,
					       &data, &len);
			if (rc < 0) {
				imsg_drop(l, m);
				l->st.drop_bad++;
				sess_down(l, -EPROTO, false);
				return -1;
			}
		} else {
			m->buf = NULL;
			if (!data && !(data = malloc(1))) {
				imsg_drop(l, m);
				sess_down(l, -ENOMEM, false);
				return -1;
			}
		}
		imsg_drop(l, m);
		l->st.msgs_rx++;
		l->st.payload_rx += len;
		if (l->cb.message)
			l->cb.message(l, stream, data, len, l->user);
		else
			free(data);
		if (l->sess_count != sc)
			return -1;
		struct hnode *w = hget(&l->waiting, key);
		m = NULL;
		if (w) {
			hdel(&l->waiting, w);
			m = container_of(w, struct imsg, w);
		}
	}
	return 0;
}

/*
 * The frame's place in its message, checked against the one way a sender
 * cuts a message: frame k at offset k * max_pay, every frame full but the
 * last, and no frame earlier in seq than its index allows. Returns the
 * index, or -1.
 */
static int64_t data_index(const struct link *l, const struct frame_data *d)
{
	uint32_t pay = l->max_pay;
	if (d->off % pay || (d->total && d->off >= d->total) || (!d->total && d->off))
		return -1;
	uint32_t left = d->total - d->off;
	if (d->len != (left < pay ? left : pay))
		return -1;
	uint32_t idx = d->off / pay;
	if (idx > d->seq - d->msg)
		return -1;
	return idx;
}

/* A new unfinished message for d's first frame to arrive, or NULL (counted). */
static struct imsg *imsg_open(struct link *l, const struct frame_data *d)
{
	struct imsg *m;

	if (d->msg != d->seq && seq_received(l, d->msg)) {
		l->st.drop_bad++; /* a message we already finished */
		return NULL;
	}
	if (l->imsgs.n >= RX_OPEN_MAX) {
		l->st.drop_open++;
		return NULL;
	}
	if (l->rx_held + sizeof *m > l->rx_held_max) {
		l->st.drop_held++;
		return NULL;
	}
	m = calloc(1, sizeof *m);
	if (!m)
		return NULL; /* not acknowledged: it will come again */
	m->h.key = d->msg;
	m->stream = d->stream;
	m->total = d->total;
	m->nframes = d->total ? (d->total + l->max_pay - 1) / l->max_pay : 1;
	m->flags = d->flags;
	m->prev = d->prev;
	if (hput(&l->imsgs, &m->h) < 0) {
		free(m);
		return NULL;
	}
	l->rx_held += sizeof *m;
	if (l->rx_held > l->st.rx_held_peak)
		l->st.rx_held_peak = l->rx_held;
	imsg_touch(l, m);
	return m;
}

/* Marks seq received and advances the cumulative point. */
static void seq_mark(struct link *l, uint32_t seq)
{
	bit_set(l, seq, true);
	if (seq_lt(l->rcv_hi, seq + 1))
		l->rcv_hi = seq + 1;
	if (seq != l->rcv_nxt)
		l->ack_now = true; /* out of order: tell the sender soon */
	while (bit_get(l, l->rcv_nxt) && seq_lt(l->rcv_nxt, l->rcv_hi)) {
		bit_set(l, l->rcv_nxt, false);
		l->rcv_nxt++;
	}
	l->unacked++;
}

static struct imsg *imsg_find(struct link *l, uint32_t msg)
{
	struct imsg *m = l->last_im;
	if (!m || m->h.key != msg) {
		struct hnode *h = hget(&l->imsgs, msg);
		m = h ? container_of(h, struct imsg, h) : NULL;
	}
	return m;
}

/* Returns -1 when the session changed under us (stop processing). */
static int on_data(struct link *l, const struct frame_data *d)
{
	uint32_t ahead = d->seq - l->rcv_nxt;
	struct imsg *m;
	int64_t idx;

	if (seq_lt(d->seq, l->rcv_nxt) || (ahead < RING && bit_get(l, d->seq))) {
		l->st.drop_dup++;
		l->ack_now = true;
		return 0;
	}
	if (ahead >= rwnd_adv(l)) {
		l->st.drop_window++;
		return 0;
	}
	if (seq_lt(d->seq, d->msg) || d->total > l->max_msg || (idx = data_index(l, d)) < 0) {
		l->st.drop_bad++;
		return 0;
	}
	m = imsg_find(l, d->msg);
	if (!m && !(m = imsg_open(l, d)))
		return 0;
	if (m->stream != d->stream || m->total != d->total || m->flags != d->flags ||
	    m->prev != d->prev || m->complete) {
		l->st.drop_bad++;
		return 0;
	}
	l->last_im = m;
	int rc = imsg_room(l, m, (uint32_t)idx);
	if (rc < 0) {
		if (rc == -ENOBUFS)
			l->st.drop_held++;
		return 0; /* not acknowledged: it comes again when there is room */
	}
	uint64_t bit = 1ull << (idx & 63);
	if (m->have[idx / 64] & bit) {
		l->st.drop_overlap++; /* a new seq for a part we have: never counted twice */
		seq_mark(l, d->seq);
		return 0;
	}
	m->have[idx / 64] |= bit;
	m->covered++;
	if (d->len)
		memcpy(m->buf + d->off, d->payload, d->len);
	seq_mark(l, d->seq);
	imsg_touch(l, m);
	if (m->covered < m->nframes)
		return 0;
	m->complete = true;
	if ((m->flags & FF_PREV) &&
	    (!seq_received(l, m->prev) || hget(&l->imsgs, m->prev))) {
		m->w.key = m->prev;
		if (hget(&l->waiting, m->prev) || hput(&l->waiting, &m->w) < 0) {
			l->st.drop_bad++;
			sess_down(l, -EPROTO, false);
			return -1;
		}
		return 0;
	}
	return deliver(l, m);
}

/*
 * Stall deadline: an unfinished message (or a complete one held for its
 * predecessor) that got no new frame for rx_stall_us is dropped. The sender
 * believes those frames delivered, so the stream's order cannot be kept:
 * the session ends (-ETIMEDOUT) and every message in flight fails.
 */
static uint64_t stall_at(const struct link *l)
{
	return l->stall_old ? l->stall_old->last_us + l->rx_stall_us : 0;
}

static void stall_check(struct link *l)
{
	if (!l->stall_old || l->now < stall_at(l))
		return;
	while (l->stall_old && l->now >= stall_at(l)) {
		struct imsg *m = l->stall_old;
		if (m->complete)
			hdel(&l->waiting, &m->w);
		imsg_drop(l, m);
		l->st.rx_stalled++;
	}
	sess_down(l, -ETIMEDOUT, false);
}

/* ---- frames in ---- */

static int on_frame(struct link *l, const uint8_t *p, size_t len)
{
	struct frame f;
	int rc = frame_parse(p, len, &f);

	switch (rc) {
	case 0:
		break;
	case FRAME_ESHORT:
		l->st.drop_short++;
		return 0;
	case FRAME_ECRC:
		l->st.drop_crc++;
		return 0;
	case FRAME_EFOREIGN:
		l->st.drop_foreign++;
		return 0;
	default:
		l->st.drop_bad++;
		return 0;
	}

	if (f.type == FT_HELLO || f.type == FT_HELLO_ACK) {
		const struct frame_hello *h = &f.u.hello;
		if (h->version != LINK_PROTO_VERSION || h->boot == l->boot) {
			/* another protocol version, or our own frame looped back */
			l->st.drop_foreign++;
			return 0;
		}
		if (l->state == LINK_UP) {
			if (h->boot != l->peer.epoch) {
				l->st.epoch_changes++;
				sess_down(l, -ESTALE, false);
			} else if (f.src != l->peer_sess) {
				sess_down(l, -ECONNRESET, false);
			} else {
				l->last_rx = l->now;
				if (f.type == FT_HELLO)
					send_hello(l, FT_HELLO_ACK);
				return 0;
			}
			if (l->state != LINK_HELLO || l->io_err)
				return -1;
		}
		l->peer.version = h->version;
		memcpy(l->peer.ident, h->ident, sizeof l->peer.ident);
		l->peer.epoch = h->boot;
		l->peer.caps = h->caps;
		l->peer.max_frame = h->max_frame;
		memcpy(l->peer.app, h->app, h->app_len);
		l->peer.app_len = h->app_len;
		l->peer_sess = f.src;
		l->peer_known = true;
		if (f.dst == l->sess) {
			go_up(l);
			return -1; /* the up callback may have changed anything */
		}
		if (f.type == FT_HELLO)
			send_hello(l, FT_HELLO_ACK);
		return 0;
	}

	if (!l->peer_known || f.src != l->peer_sess || f.dst != l->sess) {
		l->st.drop_stale++;
		return 0;
	}
	l->last_rx = l->now;
	if (l->state == LINK_HELLO) {
		/* the peer is up with us: its HELLO_ACK was lost, this says the same */
		uint64_t sc = l->sess_count;
		go_up(l);
		if (l->sess_count != sc || l->state != LINK_UP)
			return -1;
	}
	switch (f.type) {
	case FT_DATA:
		return on_data(l, &f.u.data);
	case FT_ACK:
		on_ack(l, &f.u.ack);
		return 0;
	case FT_RESET:
		sess_down(l, -ECONNRESET, false);
		return -1;
	default: /* KEEPALIVE */
		return 0;
	}
}

static int rx(struct link *l)
{
	for (int round = 0; round < RX_ROUNDS; round++) {
		for (int i = 0; i < RX_BATCH; i++)
			if (!l->rxp[i])
				l->rxp[i] = l->rxbuf + (size_t)i * l->io->mtu;
		int n = l->io->ops->recv(l->io, l->rxp, l->io->mtu, l->rxlen, RX_BATCH);
		if (n < 0)
			io_note(l, n);
		if (n <= 0)
			return 0;
		for (int i = 0; i < n; i++) {
			l->st.frames_rx++;
			l->st.bytes_rx += l->rxlen[i];
			on_frame(l, l->rxp[i], l->rxlen[i]);
			if (l->io_err || l->state == LINK_DEAD)
				return 0; /* the device failed: the rest of the batch is moot */
		}
		if (l->state == LINK_UP) {
			if (l->unacked >= ACK_EVERY || l->ack_now)
				send_ack(l);
			else if (l->unacked && !l->delack_at)
				l->delack_at = l->now + DELACK_US;
			if (l->io_err)
				return 0;
		}
		if (n < RX_BATCH)
			return 0;
	}
	return 0;
}

/* ---- API ---- */

int link_new(struct link_io *io, const struct link_config *cfg,
	     const struct link_callbacks *cb, void *user, struct link **out)
{
	struct link *l;
	int rc = -ENOMEM;

	*out = NULL;
	if (!io || !cfg || !cb || cfg->app_hello_len > LINK_APP_HELLO_MAX ||
	    (cfg->app_hello_len && !cfg->app_hello) ||
	    (cfg->ident && strlen(cfg->ident) >= LINK_IDENT_MAX) || io->mtu < FRAME_MIN_MTU ||
	    io->mtu > 65535 || (cfg->max_msg && cfg->max_msg > 0xfffff000u)) {
		rc = -EINVAL;
		goto fail;
	}
	l = calloc(1, sizeof *l);
	if (!l)
		goto fail;
	l->io = io;
	l->cb = *cb;
	l->user = user;
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
	while (!l->boot) {
		if (getrandom(&l->boot, sizeof l->boot, 0) != sizeof l->boot) {
			l->boot = now_us() ^ ((uint64_t)(uintptr_t)l << 16);
		}
	}
	l->gen = (uint64_t)-1;
	new_sess_epoch(l);
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
	l->state = LINK_HELLO;
	clear_session(l, 0);
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
	if (l->ring && l->bits)
		clear_session(l, -ECANCELED);
	free(l->streams.b);
	free(l->imsgs.b);
	free(l->waiting.b);
	free(l->rtxq.v);
	free(l->rtxfifo.v);
	free(l->ring);
	free(l->bits);
	free(l->txbuf);
	free(l->rxbuf);
	free(l->cbuf);
	if (l->io)
		l->io->ops->close(l->io);
	free(l);
}

int link_fd(const struct link *l)
{
	return l->io->ops->fd(l->io);
}

bool link_want_write(const struct link *l)
{
	return l->state == LINK_UP && l->want_write;
}

static bool tx_ready(const struct link *l)
{
	if (l->state != LINK_UP || l->want_write)
		return false;
	if (l->tx_off < l->tx_cnt)
		return true;
	if (l->pipe >= l->cwnd)
		return false;
	uint32_t limit = l->peer_rwnd < RING ? l->peer_rwnd : RING;
	return l->rtxq.n || (l->active && l->snd_nxt - l->snd_una < limit);
}

int link_timeout_ms(const struct link *l)
{
	uint64_t now = now_us(), at = UINT64_MAX;

	if (l->state == LINK_DEAD)
		return -1;
	if (l->io_err)
		return 0;
	if (l->state == LINK_HELLO) {
		at = l->hello_at;
	} else {
		at = l->last_tx + l->keepalive_us;
		if (l->last_rx + l->dead_us < at)
			at = l->last_rx + l->dead_us;
		if (l->rto_at && l->rto_at < at)
			at = l->rto_at;
		if (l->tlp_at && l->tlp_at < at)
			at = l->tlp_at;
		if (l->delack_at && l->delack_at < at)
			at = l->delack_at;
		if (l->stall_old && stall_at(l) < at)
			at = stall_at(l);
		if (tx_ready(l))
			at = l->pause_until > now && l->pause_until < at ? l->pause_until : now;
	}
	if (at <= now)
		return 0;
	uint64_t ms = (at - now + 999) / 1000;
	return ms > 60000 ? 60000 : (int)ms;
}

int link_process(struct link *l)
{
	if (l->state == LINK_DEAD)
		return -ENODEV;
	l->now = now_us();
	rx(l);
	io_check(l);
	if (l->state == LINK_DEAD)
		return -ENODEV;
	l->now = now_us();
	if (l->state == LINK_HELLO) {
		if (l->now >= l->hello_at) {
			send_hello(l, FT_HELLO);
			l->hello_at = l->now + l->hello_us;
		}
	} else {
		stall_check(l);
		if (l->state != LINK_UP) {
			/* a stalled message ended the session */
		} else if (l->now >= l->last_rx + l->dead_us) {
			sess_down(l, -ETIMEDOUT, false);
		} else {
			if (l->rto_at && l->now >= l->rto_at)
				on_rto(l);
			else if (l->tlp_at && l->now >= l->tlp_at)
				on_tlp(l);
			if (l->ack_now || (l->delack_at && l->now >= l->delack_at) ||
			    l->unacked >= ACK_EVERY)
				send_ack(l);
			if (!l->io_err)
				tx_data(l);
			if (!l->io_err && l->now >= l->last_tx + l->keepalive_us)
				send_empty(l, FT_KEEPALIVE);
		}
	}
	io_check(l);
	flush_done(l);
	return l->state == LINK_DEAD ? -ENODEV : 0;
}

enum link_state link_state(const struct link *l)
{
	return l->state;
}

const struct link_peer *link_peer(const struct link *l)
{
	return l->state == LINK_UP ? &l->peer : NULL;
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
	struct omsg *m;
	struct ostream *st;
	struct hnode *h;
	size_t clen = 0;
	int rc;

	if (l->state != LINK_UP)
		return -ENOTCONN;
	if (len > l->max_msg)
		return -EMSGSIZE;
	if (len && !data)
		return -EINVAL;
	m = calloc(1, sizeof *m);
	if (!m)
		return -ENOMEM;
	m->raw_len = len;
	rc = l->no_compress ? 0 : lz_compress(data, len, &m->wire, &clen);
	if (rc < 0)
		goto fail;
	m->compressed = rc == 1;
	if (m->compressed)
		len = clen;
	m->wire_len = (uint32_t)len;
	if (!m->compressed) {
		m->wire = malloc(len ? len : 1);
		if (!m->wire) {
			rc = -ENOMEM;
			goto fail;
		}
		if (len)
			memcpy(m->wire, data, len);
	}
	h = hget(&l->streams, stream);
	if (h) {
		st = container_of(h, struct ostream, h);
	} else {
		st = calloc(1, sizeof *st);
		if (!st) {
			rc = -ENOMEM;
			goto fail;
		}
		st->h.key = stream;
		if (hput(&l->streams, &st->h) < 0) {
			free(st);
			rc = -ENOMEM;
			goto fail;
		}
	}
	m->st = st;
	m->id = l->next_msg_id++;
	l->backlog += m->raw_len;
	if (st->tail)
		st->tail->next = m;
	else
		st->head = m;
	st->tail = m;
	if (!st->sending)
		st->sending = m;
	stream_activate(l, st);
	if (msg_id)
		*msg_id = m->id;
	return 0;
fail:
	if (m)
		free(m->wire);
	free(m);
	return rc;
}

size_t link_send_backlog(const struct link *l)
{
	return l->backlog;
}

void link_reset(struct link *l, int reason)
{
	if (l->state == LINK_UP)
		sess_down(l, reason < 0 ? reason : -ECONNRESET, false);
	/* a device error the RESET met is acted on by the next link_process */
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
