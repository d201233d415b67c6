/*
 * link_rx.c — the receiver: what arrives in DATA frames becomes whole
 * messages, delivered once, in order per stream.
 *
 * Owns: the receive bitmap over the window (rcv_nxt, rcv_hi, bits), the open
 * messages (imsgs, waiting, the stall list), the bytes they hold, and when
 * an ACK is owed (ack, unacked, delack_at).
 *
 * Invariants:
 *   - every seq below rcv_nxt was received; bits holds, ring-indexed, the
 *     seqs in [rcv_nxt, rcv_hi) received out of order; nothing at or beyond
 *     rcv_nxt + rwnd_adv() is accepted.
 *   - a frame is accepted only in the shape a sender cuts a message: frame
 *     k at offset k x max_pay, all full but the last, k <= seq - msg. A
 *     message is complete when every one of its frame indices has been
 *     received (coverage, never a byte count): a part received twice under
 *     two seqs counts once (drop_overlap).
 *   - memory follows what arrived: a message's buffer and coverage bitmap
 *     grow (geometrically, never past the message) only as far as its frames
 *     reach; rx_held, the bytes of every open message, never passes
 *     rx_held_max (a frame that would is refused, unacknowledged); at most
 *     RX_OPEN_MAX messages are open.
 *   - the stall list holds every open message, least recent progress
 *     first; one that got no new frame for rx_stall_us is dropped, which
 *     ends the session (its sender believes those frames delivered).
 *   - a complete message is delivered (queued for the message callback)
 *     once the previous unfinished message on its stream (the sender's
 *     `prev`) has been; until then it waits in `waiting`, keyed by prev.
 */
#include "link_int.h"
#include "lz.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/* The next SACK range [*start, *end) at or above *s, below rcv_hi. False: none. */
static bool sack_range(const struct link *l, uint32_t *s, uint32_t *start)
{
	while (seq_lt(*s, l->rcv_hi) && !bit_get(l, *s)) {
		uint32_t i = *s & RING_MASK;
		*s += (i & 63) == 0 && l->bits[i >> 6] == 0 ? 64 : 1;
	}
	if (!seq_lt(*s, l->rcv_hi))
		return false;
	*start = *s;
	while (seq_lt(*s, l->rcv_hi) && bit_get(l, *s)) {
		uint32_t i = *s & RING_MASK;
		*s += (i & 63) == 0 && l->bits[i >> 6] == ~0ull ? 64 : 1;
	}
	if (seq_lt(l->rcv_hi, *s))
		*s = l->rcv_hi;
	return true;
}

void rx_send_ack(struct link *l)
{
	struct frame_ack a;
	memset(&a, 0, sizeof a);
	a.cum = l->rcv_nxt;
	a.rwnd = rwnd_adv(l);
	/* SACK ranges of received frames above the first hole, lowest first */
	uint32_t s = l->rcv_nxt, start;
	while (a.n < FRAME_SACK_MAX && sack_range(l, &s, &start)) {
		a.sack[a.n][0] = start;
		a.sack[a.n][1] = s;
		a.n++;
	}
	size_t len = frame_put_ack(l->cbuf, l->io->mtu, l->sess, l->peer_sess, &a);
	if (sess_send_ctrl(l, len) == 1) {
		l->unacked = 0;
		l->ack = ACK_NONE;
		l->delack_at = 0;
	}
}

bool rx_ack_due(const struct link *l)
{
	return l->ack == ACK_NOW || (l->ack == ACK_DELAYED && l->now >= l->delack_at) ||
	       l->unacked >= ACK_EVERY;
}

/* The ACK policy, once per receive batch: true when an ACK is owed now. */
bool rx_after_batch(struct link *l)
{
	if (l->unacked >= ACK_EVERY)
		l->ack = ACK_NOW;
	if (l->ack == ACK_NOW)
		return true;
	if (l->unacked && l->ack == ACK_NONE) {
		l->ack = ACK_DELAYED;
		l->delack_at = l->now + DELACK_US;
	}
	return false;
}

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
	htab_del(&l->imsgs, &m->h);
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

/* Queues m for the message callback, then whatever waited for it. */
static void deliver(struct link *l, struct imsg *m)
{
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
				fsm_post(l, EV_PROTO, -EPROTO);
				return;
			}
		} else {
			m->buf = NULL;
			if (!data && !(data = malloc(1))) {
				imsg_drop(l, m);
				fsm_post(l, EV_PROTO, -ENOMEM);
				return;
			}
		}
		imsg_drop(l, m);
		l->st.msgs_rx++;
		l->st.payload_rx += len;
		notify_message(l, stream, data, len);
		struct hnode *w = htab_get(&l->waiting, key);
		m = NULL;
		if (w) {
			htab_del(&l->waiting, w);
			m = container_of(w, struct imsg, w);
		}
	}
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
	if (htab_put(&l->imsgs, &m->h) < 0) {
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
		l->ack = ACK_NOW; /* out of order: tell the sender soon */
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
		struct hnode *h = htab_get(&l->imsgs, msg);
		m = h ? container_of(h, struct imsg, h) : NULL;
	}
	return m;
}

/* A DATA frame of the session (the state machine calls this only when UP). */
void rx_on_data(struct link *l, const struct frame_data *d)
{
	uint32_t ahead = d->seq - l->rcv_nxt;
	struct imsg *m;
	int64_t idx;

	if (seq_lt(d->seq, l->rcv_nxt) || (ahead < RING && bit_get(l, d->seq))) {
		l->st.drop_dup++;
		l->ack = ACK_NOW;
		return;
	}
	if (ahead >= rwnd_adv(l)) {
		l->st.drop_window++;
		return;
	}
	if (seq_lt(d->seq, d->msg) || d->total > l->max_msg || (idx = data_index(l, d)) < 0) {
		l->st.drop_bad++;
		return;
	}
	m = imsg_find(l, d->msg);
	if (!m && !(m = imsg_open(l, d)))
		return;
	if (m->stream != d->stream || m->total != d->total || m->flags != d->flags ||
	    m->prev != d->prev || m->complete) {
		l->st.drop_bad++;
		return;
	}
	l->last_im = m;
	int rc = imsg_room(l, m, (uint32_t)idx);
	if (rc < 0) {
		if (rc == -ENOBUFS)
			l->st.drop_held++;
		return; /* not acknowledged: it comes again when there is room */
	}
	uint64_t bit = 1ull << (idx & 63);
	if (m->have[idx / 64] & bit) {
		l->st.drop_overlap++; /* a new seq for a part we have: never counted twice */
		seq_mark(l, d->seq);
		return;
	}
	m->have[idx / 64] |= bit;
	m->covered++;
	if (d->len)
		memcpy(m->buf + d->off, d->payload, d->len);
	seq_mark(l, d->seq);
	imsg_touch(l, m);
	if (m->covered < m->nframes)
		return;
	m->complete = true;
	if ((m->flags & FF_PREV) &&
	    (!seq_received(l, m->prev) || htab_get(&l->imsgs, m->prev))) {
		m->w.key = m->prev;
		if (htab_get(&l->waiting, m->prev) || htab_put(&l->waiting, &m->w) < 0) {
			l->st.drop_bad++;
			fsm_post(l, EV_PROTO, -EPROTO);
		}
		return;
	}
	deliver(l, m);
}

/*
 * Stall deadline: an unfinished message (or a complete one held for its
 * predecessor) that got no new frame for rx_stall_us is dropped. The sender
 * believes those frames delivered, so the stream's order cannot be kept:
 * the session ends (-ETIMEDOUT) and every message in flight fails.
 */
uint64_t rx_stall_at(const struct link *l)
{
	return l->stall_old ? l->stall_old->last_us + l->rx_stall_us : 0;
}

/* Drops every stalled message (the state machine then ends the session). */
void rx_drop_stalled(struct link *l)
{
	while (l->stall_old && l->now >= rx_stall_at(l)) {
		struct imsg *m = l->stall_old;
		if (m->complete)
			htab_del(&l->waiting, &m->w);
		imsg_drop(l, m);
		l->st.rx_stalled++;
	}
}


static void free_imsg(struct imsg *m)
{
	free(m->have);
	free(m->buf);
	free(m);
}

void rx_clear(struct link *l)
{
	for (size_t i = 0; i < l->imsgs.nb; i++)
		for (struct hnode *h = l->imsgs.b[i], *nh; h; h = nh) {
			nh = h->next;
			free_imsg(container_of(h, struct imsg, h));
		}
	htab_clear(&l->imsgs);
	htab_clear(&l->waiting);
	l->last_im = NULL;
	l->stall_old = l->stall_new = NULL;
	l->rx_held = 0;
	memset(l->bits, 0, RING / 8);
	l->rcv_nxt = l->rcv_hi = 0;
	l->unacked = 0;
	l->ack = ACK_NONE;
	l->delack_at = 0;
}

void rx_free(struct link *l)
{
	if (l->bits)
		rx_clear(l);
	htab_free(&l->imsgs);
	htab_free(&l->waiting);
	free(l->bits);
}
