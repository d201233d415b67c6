/*
 * test_link_hostile.c — the link against a peer that does not play by the
 * rules (the test speaks raw frames over the socketpair): the receiver's caps
 * on open messages and held bytes, its stall deadline and completeness by
 * coverage, with the counters checked; and the state machine: every change
 * reported through the trace hook, no callback inside a transition.
 */
#include "link.h"
#include "frame.h"
#include "../lib/test.h"
#include "../lib/linkep.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* ---- a hostile peer: the test speaks raw frames to a link over the socketpair ---- */

#define PAY (MTU - FRAME_DATA_OVERHEAD) /* the payload of a full DATA frame */

struct raw {
	struct ep a;		/* the link under attack */
	struct link_io *io;	/* the hostile end */
	uint64_t asess, bsess;
	uint32_t seq;		/* the next DATA seq */
};

/* Opens a link with cfg and brings it UP by hand-made HELLO_ACK. */
static bool raw_open(struct raw *r, struct link_config *cfg)
{
	struct link_io *io[2];
	uint8_t buf[MTU], *bp[1] = { buf };
	size_t len = 0;
	struct frame f;

	memset(r, 0, sizeof *r);
	if (link_io_pair(MTU, io) < 0)
		return false;
	r->io = io[1];
	if (ep_open(&r->a, "a", io[0], cfg) < 0)
		return false;
	link_process(r->a.l);
	if (r->io->ops->recv(r->io, bp, MTU, &len, 1) != 1 || frame_parse(buf, len, &f) ||
	    f.type != FT_HELLO)
		return false;
	r->asess = f.src;
	r->bsess = 0xbbbb;
	struct frame_hello h = { .version = LINK_PROTO_VERSION, .boot = 0xbbbb, .max_frame = MTU };
	strcpy(h.ident, "hostile");
	uint8_t out[MTU];
	struct iovec v = { out, frame_put_hello(out, MTU, FT_HELLO_ACK, r->bsess, r->asess, &h) };
	r->io->ops->send(r->io, &v, 1);
	link_process(r->a.l);
	return link_state(r->a.l) == LINK_UP;
}

/* Drains what the link sent (ACKs), so neither socket fills. */
static void raw_drain(struct raw *r)
{
	static uint8_t bufs[16][MTU];
	uint8_t *bp[16];
	size_t lens[16];
	for (int i = 0; i < 16; i++)
		bp[i] = bufs[i];
	while (r->io->ops->recv(r->io, bp, MTU, lens, 16) > 0)
		;
}

/* Sends one DATA frame (payload: a pattern of off), the link processing it. */
static void raw_data(struct raw *r, uint32_t seq, uint32_t msg, uint32_t off, uint32_t total,
		     uint32_t len)
{
	static uint8_t pay[MTU];
	uint8_t out[MTU];
	for (uint32_t i = 0; i < len; i++)
		pay[i] = (uint8_t)((off + i) * 131 + 7);
	struct frame_data d = { .seq = seq, .stream = 3, .msg = msg, .off = off, .total = total,
				.payload = pay, .len = len };
	struct iovec v = { out, frame_put_data(out, MTU, r->bsess, r->asess, &d) };
	while (r->io->ops->send(r->io, &v, 1) != 1) {
		link_process(r->a.l);
		raw_drain(r);
	}
	link_process(r->a.l);
	raw_drain(r);
}

static void raw_close(struct raw *r)
{
	r->io->ops->close(r->io);
	ep_close(&r->a);
}

static struct link_stats raw_stats(const struct raw *r)
{
	struct link_stats s;
	link_get_stats(r->a.l, &s);
	return s;
}

/* 20,000 messages announced at the real cap (256 MiB), one frame each. */
static void case_hostile_many_open(void)
{
	static struct raw r;
	T_CASE("hostile_20000_open_messages_capped") {
		T_CHECK(raw_open(&r, NULL), "up");
		for (uint32_t i = 0; i < 20000; i++)
			raw_data(&r, i, i, 0, LINK_MAX_MSG_DEFAULT, PAY);
		struct link_stats s = raw_stats(&r);
		T_CHECK(s.rx_open == 8192, "open %u", s.rx_open);
		/* refused, not acknowledged: the window then closes on the rest */
		T_CHECK(s.drop_open > 0 && s.drop_open + s.drop_window == 20000 - 8192,
			"drop_open %llu window %llu", (unsigned long long)s.drop_open,
			(unsigned long long)s.drop_window);
		/* what arrived, not what was announced: ~1.5 KB each, under 16 MiB in all */
		T_CHECK(s.rx_held_peak < (16u << 20) && s.rx_held <= s.rx_held_peak,
			"held %llu peak %llu", (unsigned long long)s.rx_held,
			(unsigned long long)s.rx_held_peak);
		T_CHECK(s.rx_held >= 8192u * PAY, "held %llu < data", (unsigned long long)s.rx_held);
		T_CHECK(r.a.nmsgs == 0 && r.a.downs == 0, "msgs %u downs %d", r.a.nmsgs, r.a.downs);
		raw_close(&r);
	}
}

/* Bytes held by unfinished messages stay under rx_held_max (2 x max_msg). */
static void case_hostile_held_cap(void)
{
	static struct raw r;
	T_CASE("hostile_missing_last_frames_held_capped_then_stalled") {
		struct link_config c = { .max_msg = 200 * PAY, .rx_stall_ms = 300 };
		T_CHECK(raw_open(&r, &c), "up");
		uint32_t total = 200 * PAY, seq = 0;
		/* 6 messages, each every frame but its last (seq order: message by message) */
		for (uint32_t k = 0; k < 6; k++) {
			uint32_t msg = seq;
			for (uint32_t f = 0; f < 199; f++)
				raw_data(&r, seq++, msg, f * PAY, total, PAY);
		}
		struct link_stats s = raw_stats(&r);
		T_CHECK(s.rx_held <= 2u * total && s.rx_held_peak <= 2u * total, "held %llu peak %llu cap %u",
			(unsigned long long)s.rx_held, (unsigned long long)s.rx_held_peak, 2 * total);
		T_CHECK(s.drop_held > 0, "the cap never refused a frame");
		T_CHECK(r.a.nmsgs == 0, "delivered %u", r.a.nmsgs);
		/* nothing more comes: the stall deadline drops them and ends the session */
		struct ep *eps[1] = { &r.a };
		struct two t = { &r.a, &r.a, 0, 0, 0, 0 };
		T_CHECK(pump(eps, 1, a_down, &t, GUARD_MS), "never dropped");
		s = raw_stats(&r);
		T_CHECK(r.a.last_down == -ETIMEDOUT, "reason %d", r.a.last_down);
		T_CHECK(s.rx_stalled >= 1 && s.rx_open == 0 && s.rx_held == 0,
			"stalled %llu open %u held %llu", (unsigned long long)s.rx_stalled, s.rx_open,
			(unsigned long long)s.rx_held);
		raw_close(&r);
	}
}

/* Completeness is coverage: overlapping and duplicate parts never complete a message. */
static void case_hostile_overlap(void)
{
	static struct raw r;
	T_CASE("hostile_overlapping_offsets_never_deliver") {
		T_CHECK(raw_open(&r, NULL), "up");
		/* offsets 0, 500, 500 of a 3000-byte message (1500 bytes "counted") */
		raw_data(&r, 0, 0, 0, 3000, 500);
		raw_data(&r, 1, 0, 500, 3000, 500);
		raw_data(&r, 2, 0, 500, 3000, 500);
		/* frames of the sender's shape, one part twice under two seqs */
		raw_data(&r, 3, 3, 0, 3 * PAY, PAY);
		raw_data(&r, 4, 3, PAY, 3 * PAY, PAY);
		raw_data(&r, 5, 3, PAY, 3 * PAY, PAY);
		/* a short frame that is not the last; an index its seq cannot have */
		raw_data(&r, 6, 3, 0, 3 * PAY, 100);
		raw_data(&r, 7, 7, 2 * PAY, 3 * PAY, PAY);
		struct link_stats s = raw_stats(&r);
		T_CHECK(r.a.nmsgs == 0, "delivered %u", r.a.nmsgs);
		T_CHECK(s.drop_bad == 5, "bad %llu", (unsigned long long)s.drop_bad);
		T_CHECK(s.drop_overlap == 1, "overlap %llu", (unsigned long long)s.drop_overlap);
		T_CHECK(s.rx_open == 1, "open %u", s.rx_open);
		/* the missing part completes it, intact */
		raw_data(&r, 8, 3, 2 * PAY, 3 * PAY, PAY);
		T_CHECK(r.a.nmsgs == 1 && r.a.msgs[0].len == 3 * PAY, "delivered %u", r.a.nmsgs);
		bool same = r.a.nmsgs == 1;
		for (uint32_t i = 0; same && i < 3 * PAY; i++)
			same = r.a.msgs[0].data[i] == (uint8_t)(i * 131 + 7);
		T_CHECK(same, "content");
		s = raw_stats(&r);
		T_CHECK(s.rx_open == 0 && s.rx_held == 0, "open %u held %llu", s.rx_open,
			(unsigned long long)s.rx_held);
		raw_close(&r);
	}
}

/* ---- the state machine: every change traced, callbacks never inside a transition ---- */

struct tlog {
	char lines[64][64];
	unsigned n;
	struct link *l;		/* the link whose callbacks record here */
	bool reset_in_message;	/* the message callback calls link_reset */
	bool in_cb;		/* a callback is running */
	bool nested;		/* a callback ran while another was running */
};

static void tlog_add(struct tlog *t, const char *s)
{
	if (t->n < 64)
		snprintf(t->lines[t->n++], sizeof t->lines[0], "%s", s);
}

static void tr_enter(struct tlog *t)
{
	if (t->in_cb)
		t->nested = true;
	t->in_cb = true;
}

static void tr_trace(struct link *l, const char *from, const char *to, const char *ev, int reason,
		     void *u)
{
	struct tlog *t = u;
	char b[64];
	(void)l;
	tr_enter(t);
	snprintf(b, sizeof b, "%s>%s %s %d", from, to, ev, reason);
	tlog_add(t, b);
	t->in_cb = false;
}

static void tr_up(struct link *l, const struct link_peer *p, void *u)
{
	struct tlog *t = u;
	(void)p;
	tr_enter(t);
	tlog_add(t, "UP");
	/* allowed from a callback: queue a message */
	link_send(l, 1, "from-up", 7, NULL);
	t->in_cb = false;
}

static void tr_down(struct link *l, int reason, void *u)
{
	struct tlog *t = u;
	char b[64];
	(void)l;
	tr_enter(t);
	snprintf(b, sizeof b, "DOWN %d", reason);
	tlog_add(t, b);
	t->in_cb = false;
}

static void tr_message(struct link *l, uint32_t stream, uint8_t *data, size_t len, void *u)
{
	struct tlog *t = u;
	char b[64];
	tr_enter(t);
	snprintf(b, sizeof b, "MSG %u %zu", stream, len);
	tlog_add(t, b);
	free(data);
	if (t->reset_in_message) {
		t->reset_in_message = false;
		link_reset(l, -ENETDOWN); /* ends the session: its down comes after we return */
		tlog_add(t, "RESET RETURNED");
	}
	t->in_cb = false;
}

static bool tlog_has(const struct tlog *t, const char *s, unsigned *at)
{
	for (unsigned i = 0; i < t->n; i++)
		if (!strcmp(t->lines[i], s)) {
			if (at)
				*at = i;
			return true;
		}
	return false;
}

static bool tlogs_up(void *arg)
{
	struct tlog **t = arg;
	return tlog_has(t[0], "UP", NULL) && tlog_has(t[1], "UP", NULL);
}

static bool tlog_down(void *arg)
{
	struct tlog **t = arg;
	return tlog_has(t[0], "DOWN -100", NULL) && tlog_has(t[1], "DOWN -104", NULL);
}

static void case_fsm_trace_reentry(void)
{
	static struct tlog ta, tb;
	static const struct link_callbacks tcb = { .up = tr_up, .down = tr_down,
						   .message = tr_message, .trace = tr_trace };
	struct link_io *io[2];
	struct link *la, *lb;
	T_CASE("fsm_traced_and_callbacks_after_transitions") {
		memset(&ta, 0, sizeof ta);
		memset(&tb, 0, sizeof tb);
		struct link_config c = { 0 };
		T_CHECK(link_io_pair(MTU, io) == 0, "pair");
		T_CHECK(link_new(io[0], &c, &tcb, &ta, &la) == 0 && link_new(io[1], &c, &tcb, &tb, &lb) == 0,
			"new");
		ta.l = la;
		tb.l = lb;
		tb.reset_in_message = true;
		struct tlog *both[2] = { &ta, &tb };
		uint64_t end = now_ms() + GUARD_MS;
		while (!tlogs_up(both) && now_ms() < end) {
			link_process(la);
			link_process(lb);
		}
		T_CHECK(tlogs_up(both), "never up");
		/* the handshake, as traced: hello > peer > up (or hello > up through peer) */
		T_CHECK(tlog_has(&ta, "peer>up hello-ack 0", NULL) || tlog_has(&ta, "peer>up hello 0", NULL) ||
			tlog_has(&ta, "peer>up data 0", NULL) || tlog_has(&ta, "peer>up ack 0", NULL),
			"a: no peer>up in the trace (first: %s)", ta.lines[0]);
		T_CHECK(tlog_has(&ta, "hello>peer hello 0", NULL) || tlog_has(&ta, "hello>peer hello-ack 0", NULL),
			"a: no hello>peer");
		/* b gets a's "from-up", resets from inside the message callback */
		while (!tlog_down(both) && now_ms() < end) {
			link_process(la);
			link_process(lb);
		}
		unsigned m = 0, r = 0, d = 0, tr = 0;
		T_CHECK(tlog_has(&tb, "MSG 1 7", &m) && tlog_has(&tb, "RESET RETURNED", &r) &&
			tlog_has(&tb, "DOWN -100", &d) && tlog_has(&tb, "up>hello carrier -100", &tr),
			"b's log: %u lines, last %s", tb.n, tb.n ? tb.lines[tb.n - 1] : "");
		T_CHECK(m < r && r < tr && tr < d, "order: message %u, reset returned %u, trace %u, down %u",
			m, r, tr, d);
		T_CHECK(tlog_has(&ta, "up>hello reset -104", NULL), "a: the peer's RESET not traced");
		T_CHECK(!ta.nested && !tb.nested, "a callback ran inside another");
		link_free(la);
		link_free(lb);
	}
}

int main(void)
{
	case_hostile_many_open();
	case_hostile_held_cap();
	case_hostile_overlap();
	case_fsm_trace_reentry();
	return t_done();
}
