/*
 * link_tx.c — the sender: messages queued by link_send() go out as DATA
 * frames and come back acknowledged.
 *
 * Owns: the per-stream queues (streams, the round-robin ring of streams
 * with bytes to send), the in-flight ring of RING slots (snd_una, snd_nxt),
 * loss detection (rtx_scan, rtxq, rtxfifo), RTT/RTO/TLP timers, congestion
 * (cc, cwnd, ssthresh), the peer's window, the batch being sent and why
 * sending waits (tx_wait).
 *
 * Invariants:
 *   - the streams with unsent bytes take turns, one frame each, so a big
 *     message never holds up another stream; every frame gets the next
 *     link-wide seq; slot[seq % RING] says what an in-flight frame carried
 *     (a message and an offset, never a copy); snd_nxt - snd_una <=
 *     min(peer_rwnd, RING).
 *   - pipe counts the slots with SL_PIPE (sent, not acknowledged, not
 *     presumed lost) and new frames go out only while pipe < cwnd.
 *   - a frame is lost when a frame transmitted DUPTHRESH transmissions after
 *     it has been acknowledged (first transmissions checked in seq order,
 *     retransmissions in a FIFO, both O(1) amortized), or when the RTO
 *     (RFC 6298 SRTT/RTTVAR, Karn's rule) expires; a tail loss probe (after
 *     RFC 8985) resends the last frame after a PTO without ACKs.
 *   - congestion: slow start, then AIMD (x0.7 once per window of loss:
 *     CC_RECOVERY until snd_una passes `recover`).
 *   - a qdisc that refuses a frame (ENOBUFS) is backpressure, not loss: the
 *     frame stays queued here and sending pauses (TXW_PAUSE) briefly; a full
 *     socket (EAGAIN) waits for POLLOUT (TXW_POLLOUT).
 *   - a message is acknowledged (sent notice 0) when all its frames are and
 *     all earlier messages on its stream were; backlog is the raw bytes of
 *     the messages not yet acknowledged.
 */
#include "link_int.h"
#include "lz.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t pto(const struct link *l);
static void mark_lost(struct link *l, uint32_t seq, struct slot *sl);

static void free_omsg(struct omsg *m)
{
	free(m->wire);
	free(m);
}

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

/* Reports finished messages at the head of st (sent callback 0); frees st when empty. */
static void stream_complete(struct link *l, struct ostream *st)
{
	while (st->head && st->head->all_sent &&
	       st->head->frames_acked == st->head->frames_sent) {
		struct omsg *m = st->head;
		st->head = m->next;
		if (!st->head)
			st->tail = NULL;
		l->backlog -= m->raw_len;
		l->st.msgs_tx++;
		l->st.payload_tx += m->raw_len;
		notify_sent(l, m->id, 0);
		free_omsg(m);
	}
	if (!st->head) {
		stream_deactivate(l, st);
		htab_del(&l->streams, &st->h);
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
	sl->st = SL_PIPE;
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
	if (l->cc == CC_RECOVERY)
		return;
	l->cc = CC_RECOVERY;
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
			l->tx_wait = TXW_POLLOUT;
			return 0;
		}
		if (rc == -ENOBUFS) {
			/* the qdisc is full: backpressure, not loss (the frame
			 * was not sent and goes out later); wait for it to drain */
			l->tx_wait = TXW_PAUSE;
			l->pause_until = l->now + NOBUFS_PAUSE_US;
			return 0;
		}
		return rc;
	}
	l->tx_cnt = l->tx_off = 0;
	return 1;
}

/* The next frame to retransmit, encoded. 1: one, 0: none queued, <0: fatal. */
static int next_retransmit(struct link *l)
{
	while (l->rtxq.n) {
		uint32_t seq = seqq_seq(&l->rtxq);
		struct slot *sl = &l->ring[seq & RING_MASK];
		seqq_pop(&l->rtxq);
		if (seq_lt(seq, l->snd_una) || (sl->st & SL_ACKED) || !(sl->st & SL_RTXQ))
			continue;
		sl->st = (uint8_t)((sl->st & ~SL_RTXQ) | SL_RETX | SL_PIPE);
		sl->order = ++l->order;
		sl->sent_us = l->now;
		l->pipe++;
		l->st.retransmits++;
		if (seqq_push(&l->rtxfifo, seq, sl->order) < 0)
			return -ENOMEM;
		encode_slot(l, seq, l->txbuf + (size_t)l->tx_cnt * l->io->mtu);
		return 1;
	}
	return 0;
}

/* Sends what the window allows: retransmissions first, then new frames. */
void tx_send(struct link *l)
{
	if (l->tx_wait == TXW_POLLOUT || (l->tx_wait == TXW_PAUSE && l->now >= l->pause_until))
		l->tx_wait = TXW_NONE;
	for (;;) {
		int rc = tx_flush(l);
		if (rc < 0)
			fsm_post(l, rc == -ENETDOWN ? EV_IO_DOWN : EV_IO_FATAL, rc);
		if (rc <= 0 || l->tx_wait == TXW_PAUSE)
			return;
		while (l->tx_cnt < TX_BATCH && l->pipe < l->cwnd) {
			rc = next_retransmit(l);
			if (rc < 0) {
				fsm_post(l, EV_IO_FATAL, rc);
				return;
			}
			if (!rc && !next_new_frame(l))
				break;
		}
		if (!l->tx_cnt)
			return;
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
	if (sl->st & SL_PIPE) {
		sl->st &= (uint8_t)~SL_PIPE;
		l->pipe--;
	}
	sl->st |= SL_RTXQ;
	(void)seqq_push(&l->rtxq, seq, 0); /* on ENOMEM the RTO recovers it */
}

static void slot_acked(struct link *l, struct slot *sl, uint64_t *rtt_order, uint64_t *rtt_sent)
{
	sl->st |= SL_ACKED;
	if (sl->st & SL_PIPE) {
		sl->st &= (uint8_t)~SL_PIPE;
		l->pipe--;
	}
	if (sl->order > l->max_acked_order)
		l->max_acked_order = sl->order;
	if (!(sl->st & SL_RETX) && sl->order > *rtt_order) {
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

/* Marks what a->cum and the SACK ranges acknowledge; returns how many frames. */
static uint32_t ack_ranges(struct link *l, const struct frame_ack *a)
{
	uint64_t rtt_order = 0, rtt_sent = 0;
	uint32_t acked = 0;

	while (seq_lt(l->snd_una, a->cum)) {
		struct slot *sl = &l->ring[l->snd_una & RING_MASK];
		if (!(sl->st & SL_ACKED)) {
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
			if (!(sl->st & SL_ACKED)) {
				slot_acked(l, sl, &rtt_order, &rtt_sent);
				acked++;
			}
		}
	}
	if (rtt_order)
		rtt_sample(l, rtt_sent);
	return acked;
}

/* Slow start, then additive increase; not while recovering from a loss. */
static void cwnd_grow(struct link *l, uint32_t acked)
{
	if (l->cc == CC_RECOVERY && !seq_lt(l->snd_una, l->recover))
		l->cc = CC_OPEN;
	if (acked && l->cc == CC_OPEN) {
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
}

/* Frames DUPTHRESH transmissions older than the newest acknowledged are lost. */
static bool detect_loss(struct link *l)
{
	/* first transmissions, in seq (= transmission) order */
	bool lost = false;
	if (seq_lt(l->rtx_scan, l->snd_una))
		l->rtx_scan = l->snd_una;
	while (seq_lt(l->rtx_scan, l->snd_nxt)) {
		struct slot *sl = &l->ring[l->rtx_scan & RING_MASK];
		if (!(sl->st & (SL_ACKED | SL_RETX | SL_RTXQ))) {
			if (sl->order + DUPTHRESH >= l->max_acked_order)
				break;
			mark_lost(l, l->rtx_scan, sl);
			lost = true;
		}
		l->rtx_scan++;
	}
	/* retransmissions, in their transmission order */
	while (l->rtxfifo.n) {
		uint32_t seq = seqq_seq(&l->rtxfifo);
		uint64_t ord = seqq_order(&l->rtxfifo);
		struct slot *sl = &l->ring[seq & RING_MASK];
		if (seq_lt(seq, l->snd_una) || (sl->st & SL_ACKED) || sl->order != ord ||
		    (sl->st & SL_RTXQ)) {
			seqq_pop(&l->rtxfifo);
			continue;
		}
		if (ord + DUPTHRESH >= l->max_acked_order)
			break;
		seqq_pop(&l->rtxfifo);
		mark_lost(l, seq, sl);
		lost = true;
	}
	return lost;
}

void tx_on_ack(struct link *l, const struct frame_ack *a)
{
	if (seq_lt(l->snd_nxt, a->cum)) {
		l->st.drop_bad++;
		return;
	}
	l->peer_rwnd = a->rwnd < 16 ? 16 : a->rwnd > RING ? RING : a->rwnd;
	uint32_t acked = ack_ranges(l, a);
	cwnd_grow(l, acked);
	if (detect_loss(l))
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
void tx_on_tlp(struct link *l)
{
	l->tlp_at = 0;
	if (l->snd_una == l->snd_nxt || l->rtxq.n)
		return;
	for (uint32_t s = l->snd_nxt - 1; !seq_lt(s, l->snd_una); s--) {
		struct slot *sl = &l->ring[s & RING_MASK];
		if (!(sl->st & (SL_ACKED | SL_RTXQ))) {
			mark_lost(l, s, sl);
			if (l->pipe >= l->cwnd)
				l->cwnd = l->pipe + 1; /* the probe goes out now */
			return;
		}
	}
}

void tx_on_rto(struct link *l)
{
	l->rto_at = 0;
	if (l->snd_una == l->snd_nxt)
		return;
	l->st.timeouts++;
	uint32_t half = l->pipe / 2;
	l->ssthresh = half < CWND_MIN ? CWND_MIN : half;
	l->cwnd = CWND_MIN;
	l->cwnd_acc = 0;
	l->cc = CC_RECOVERY;
	l->recover = l->snd_nxt;
	l->rto = l->rto * 2 > RTO_MAX_US ? RTO_MAX_US : l->rto * 2;
	for (uint32_t s = l->snd_una; seq_lt(s, l->snd_nxt); s++) {
		struct slot *sl = &l->ring[s & RING_MASK];
		if (!(sl->st & (SL_ACKED | SL_RTXQ)))
			mark_lost(l, s, sl);
	}
	l->pipe = 0;
	l->rtx_scan = l->snd_nxt;
	l->rto_at = l->now + l->rto;
	l->tlp_at = 0;
}


bool tx_ready(const struct link *l)
{
	if (l->state != S_UP || l->tx_wait == TXW_POLLOUT)
		return false;
	if (l->tx_off < l->tx_cnt)
		return true;
	if (l->pipe >= l->cwnd)
		return false;
	uint32_t limit = l->peer_rwnd < RING ? l->peer_rwnd : RING;
	return l->rtxq.n || (l->active && l->snd_nxt - l->snd_una < limit);
}

/* Forgets all per-session sender state; fails every queued message with `reason`. */
void tx_clear(struct link *l, int reason)
{
	struct omsg *fail = NULL, **tail = &fail;

	for (size_t i = 0; i < l->streams.nb; i++)
		for (struct hnode *h = l->streams.b[i], *nh; h; h = nh) {
			nh = h->next;
			struct ostream *st = container_of(h, struct ostream, h);
			*tail = st->head;
			while (*tail)
				tail = &(*tail)->next;
			free(st);
		}
	htab_clear(&l->streams);
	l->active = NULL;
	memset(l->ring, 0, RING * sizeof l->ring[0]);
	l->snd_una = l->snd_nxt = l->rtx_scan = l->recover = 0;
	l->cc = CC_OPEN;
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
	l->tx_wait = TXW_NONE;
	l->pause_until = 0;
	while (fail) {
		struct omsg *m = fail;
		fail = m->next;
		notify_sent(l, m->id, reason);
		free_omsg(m);
	}
}

void tx_free(struct link *l)
{
	if (l->ring)
		tx_clear(l, -ECANCELED);
	htab_free(&l->streams);
	free(l->rtxq.v);
	free(l->rtxfifo.v);
	free(l->ring);
	free(l->txbuf);
}

static struct ostream *stream_get(struct link *l, uint32_t stream)
{
	struct hnode *h = htab_get(&l->streams, stream);
	if (h)
		return container_of(h, struct ostream, h);
	struct ostream *st = calloc(1, sizeof *st);
	if (!st)
		return NULL;
	st->h.key = stream;
	if (htab_put(&l->streams, &st->h) < 0) {
		free(st);
		return NULL;
	}
	return st;
}

/* Queues a copy of data (compressed where it pays) on its stream. */
int tx_enqueue(struct link *l, uint32_t stream, const void *data, size_t len, uint64_t *msg_id)
{
	struct omsg *m = calloc(1, sizeof *m);
	struct ostream *st;
	size_t clen = 0;
	int rc;

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
	rc = -ENOMEM;
	if (!m->compressed) {
		m->wire = malloc(len ? len : 1);
		if (!m->wire)
			goto fail;
		if (len)
			memcpy(m->wire, data, len);
	}
	if (!(st = stream_get(l, stream)))
		goto fail;
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
	free(m->wire);
	free(m);
	return rc;
}
