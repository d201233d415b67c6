/*
 * test_link.c — the link session and its reliability, over link_io_pair
 * (a socketpair) and over an in-process fault layer that drops, duplicates,
 * reorders and corrupts frames with a fixed seed. Deadlines only bound a
 * test that hangs; no assertion depends on timing.
 */
#include "link.h"
#include "clock.h"
#include "frame.h"
#include "crc32c.h"
#include "../lib/test.h"
#include "../lib/linkep.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


/* ---- fault layer: wraps another link_io; faults applied on receive ---- */

struct fault {
	struct link_io io;
	struct link_io *inner;
	bool own_inner;
	uint64_t rng;
	unsigned drop, dup, reorder, corrupt; /* per mille */
	uint8_t *held[64];
	size_t held_len[64];
	unsigned nheld;
	uint64_t n_drop, n_dup, n_reorder, n_corrupt;
};

static bool roll(struct fault *f, unsigned pm)
{
	return pm && rng_next(&f->rng) % 1000 < pm;
}

static int fault_send(struct link_io *io, const struct iovec *v, unsigned n)
{
	struct fault *f = (struct fault *)io;
	return f->inner->ops->send(f->inner, v, n);
}

/*
 * Takes up to n/2 frames from the inner I/O and returns them damaged:
 * dropped, bit-flipped, duplicated (the copy comes later in the batch or in
 * the next call) or reordered (swapped with a later frame of the batch, or
 * held for the next call when it is the last).
 */
static int fault_recv(struct link_io *io, uint8_t **bufs, size_t cap, size_t *lens, unsigned n)
{
	struct fault *f = (struct fault *)io;
	uint8_t *fr[64];
	size_t fl[64];
	unsigned nf = 0, out = 0;

	/* frames held back by the last call come first, i.e. late */
	while (f->nheld && nf < 32) {
		f->nheld--;
		fr[nf] = f->held[f->nheld];
		fl[nf++] = f->held_len[f->nheld];
	}
	unsigned want = (n < 64 ? n : 64) / 2;
	if (want > 32 - (nf < 32 ? nf : 32))
		want = 32 - nf;
	if (want) {
		uint8_t *tmp[32];
		size_t tl[32];
		for (unsigned i = 0; i < want; i++)
			tmp[i] = malloc(cap);
		int rc = f->inner->ops->recv(f->inner, tmp, cap, tl, want);
		for (int i = 0; i < rc; i++) {
			fr[nf] = tmp[i];
			fl[nf++] = tl[i];
			tmp[i] = NULL;
		}
		for (unsigned i = 0; i < want; i++)
			free(tmp[i]);
		if (rc < 0 && !nf)
			return rc;
	}
	for (unsigned i = 0; i < nf; i++) {
		if (roll(f, f->drop)) {
			f->n_drop++;
			free(fr[i]);
			fr[i] = NULL;
			continue;
		}
		if (roll(f, f->corrupt) && fl[i]) {
			fr[i][rng_next(&f->rng) % fl[i]] ^= (uint8_t)(1u << (rng_next(&f->rng) % 8));
			f->n_corrupt++;
		}
		if (roll(f, f->dup) && nf < 64) {
			fr[nf] = malloc(cap);
			memcpy(fr[nf], fr[i], fl[i]);
			fl[nf++] = fl[i];
			f->n_dup++;
		}
		if (roll(f, f->reorder)) {
			f->n_reorder++;
			if (i + 1 < nf) {
				unsigned j = i + 1 + (unsigned)(rng_next(&f->rng) % (nf - i - 1));
				uint8_t *t = fr[i];
				size_t tl2 = fl[i];
				fr[i] = fr[j];
				fl[i] = fl[j];
				fr[j] = t;
				fl[j] = tl2;
				i--; /* look at what moved here */
				continue;
			}
			if (f->nheld < 64) {
				f->held[f->nheld] = fr[i];
				f->held_len[f->nheld++] = fl[i];
				fr[i] = NULL;
				continue;
			}
		}
	}
	for (unsigned i = 0; i < nf; i++) {
		if (!fr[i])
			continue;
		if (out < n) {
			memcpy(bufs[out], fr[i], fl[i]);
			lens[out++] = fl[i];
		}
		free(fr[i]);
	}
	return (int)out;
}

static int fault_fd(struct link_io *io)
{
	struct fault *f = (struct fault *)io;
	return f->inner->ops->fd(f->inner);
}

static void fault_close(struct link_io *io)
{
	struct fault *f = (struct fault *)io;
	while (f->nheld)
		free(f->held[--f->nheld]);
	if (f->own_inner)
		f->inner->ops->close(f->inner);
	free(f);
}

static const struct link_io_ops fault_ops = { fault_send, fault_recv, fault_fd, fault_close };

static struct link_io *fault_wrap(struct link_io *inner, bool own, uint64_t seed, unsigned drop,
				  unsigned dup, unsigned reorder, unsigned corrupt)
{
	struct fault *f = calloc(1, sizeof *f);
	f->io.ops = &fault_ops;
	f->io.mtu = inner->mtu;
	f->inner = inner;
	f->own_inner = own;
	f->rng = seed | 1;
	f->drop = drop;
	f->dup = dup;
	f->reorder = reorder;
	f->corrupt = corrupt;
	return &f->io;
}

static bool open_pair(struct ep *a, struct ep *b, struct link_config *ca, struct link_config *cb,
		      bool faulty, uint64_t seed)
{
	struct link_io *io[2];
	if (link_io_pair(MTU, io) < 0)
		return false;
	if (faulty) {
		io[0] = fault_wrap(io[0], true, seed, 50, 20, 250, 10);
		io[1] = fault_wrap(io[1], true, seed * 7 + 3, 50, 20, 250, 10);
	}
	if (ep_open(a, "alpha", io[0], ca) < 0) {
		io[1]->ops->close(io[1]);
		return false;
	}
	if (ep_open(b, "beta", io[1], cb) < 0)
		return false;
	struct two t = { a, b, 0, 0, 0, 0 };
	struct ep *eps[2] = { a, b };
	return pump(eps, 2, both_up, &t, GUARD_MS);
}

/* A message body that names itself: stream, index, length, then seeded bytes. */
static uint8_t *make_msg(uint32_t stream, uint32_t idx, size_t len, bool compressible)
{
	uint8_t *p = malloc(len ? len : 1);
	if (compressible) {
		for (size_t i = 0; i < len; i++)
			p[i] = (uint8_t)("the quick brown fox jumps over the lazy dog "[i % 44] +
					 (i / 4096) % 3);
	} else {
		fill_random(p, len, ((uint64_t)stream << 32 | idx) * 0x9e3779b97f4a7c15ull + len);
	}
	if (len >= 12) {
		memcpy(p, &stream, 4);
		memcpy(p + 4, &idx, 4);
		uint32_t l32 = (uint32_t)len;
		memcpy(p + 8, &l32, 4);
	}
	return p;
}

static bool check_msg(const struct rmsg *m, uint32_t stream, uint32_t idx, size_t len,
		      bool compressible)
{
	if (m->stream != stream || m->len != len || !m->data)
		return false;
	uint8_t *want = make_msg(stream, idx, len, compressible);
	bool ok = memcmp(want, m->data, len) == 0;
	free(want);
	return ok;
}

static int count_status(const struct ep *e, int status)
{
	int n = 0;
	for (unsigned i = 0; i < e->nsent; i++)
		n += e->sent_status[i] == status;
	return n;
}

/* ---- cases ---- */

static void case_handshake(void)
{
	static struct ep a, b;
	uint8_t app[LINK_APP_HELLO_MAX];
	fill_random(app, sizeof app, 42);
	struct link_config ca = { .ident = "hub-1", .caps = 0x5, .app_hello = app,
				  .app_hello_len = sizeof app, .epoch = 0x1111 };
	struct link_config cb = { .ident = "node-7", .caps = 0xa, .epoch = 0x2222 };
	T_CHECK(open_pair(&a, &b, &ca, &cb, false, 0), "no handshake");
	T_CHECK(a.ups == 1 && b.ups == 1, "ups %d %d", a.ups, b.ups);
	T_CHECK(!strcmp(a.peer.ident, "node-7") && !strcmp(b.peer.ident, "hub-1"), "idents");
	T_CHECK(a.peer.epoch == 0x2222 && b.peer.epoch == 0x1111, "epochs");
	T_CHECK(a.peer.caps == 0xa && b.peer.caps == 0x5, "caps");
	T_CHECK(b.peer.app_len == sizeof app && !memcmp(b.peer.app, app, sizeof app), "app blob");
	T_CHECK(a.peer.app_len == 0, "empty app blob");
	T_CHECK(a.peer.max_frame == MTU && a.peer.version == LINK_PROTO_VERSION, "max frame/version");
	T_CHECK(link_peer(a.l) && link_epoch(a.l) == 0x1111, "link_peer/link_epoch");
	T_CHECK(link_send(a.l, 1, "x", 1, NULL) == 0, "send when up");
	ep_close(&a);
	ep_close(&b);
}

static void case_not_up_and_too_big(void)
{
	static struct ep a, b;
	struct link_io *io[2];
	T_CHECK(link_io_pair(MTU, io) == 0, "pair");
	struct link_config ca = { .max_msg = 1000 };
	ep_open(&a, "a", io[0], &ca);
	ep_open(&b, "b", io[1], NULL);
	T_CHECK(link_state(a.l) == LINK_HELLO, "starts in hello");
	T_CHECK(link_send(a.l, 1, "x", 1, NULL) == -ENOTCONN, "send before up");
	T_CHECK(link_peer(a.l) == NULL, "peer before up");
	struct two t = { &a, &b, 0, 0, 0, 0 };
	struct ep *eps[2] = { &a, &b };
	T_CHECK(pump(eps, 2, both_up, &t, GUARD_MS), "up");
	static uint8_t big[1001];
	T_CHECK(link_send(a.l, 1, big, 1001, NULL) == -EMSGSIZE, "over max_msg");
	T_CHECK(link_send(a.l, 1, big, 1000, NULL) == 0, "at max_msg");
	ep_close(&a);
	ep_close(&b);
}

struct sizecase {
	size_t len;
	bool compressible;
};

static void run_sizes(const char *name, const struct sizecase *sc, unsigned n, bool faulty,
		      bool no_compress)
{
	static struct ep a, b;
	T_CASE(name) {
		struct link_config ca = { .no_compress = no_compress };
		if (!open_pair(&a, &b, &ca, NULL, faulty, 12345)) {
			T_CHECK(0, "no handshake");
			break;
		}
		uint64_t ids[64];
		size_t total = 0;
		for (unsigned i = 0; i < n; i++) {
			uint8_t *m = make_msg(9, i, sc[i].len, sc[i].compressible);
			T_CHECK(link_send(a.l, 9, m, sc[i].len, &ids[i]) == 0, "send %u", i);
			total += sc[i].len;
			free(m);
		}
		T_CHECK(link_send_backlog(a.l) == total, "backlog %zu", link_send_backlog(a.l));
		struct two t = { &a, &b, 0, n, n, 0 };
		struct ep *eps[2] = { &a, &b };
		T_CHECK(pump(eps, 2, all_done, &t, GUARD_MS), "not delivered: got %u/%u sent %u",
			b.nmsgs, n, a.nsent);
		T_CHECK(b.nmsgs == n, "count %u", b.nmsgs);
		for (unsigned i = 0; i < n && i < b.nmsgs; i++)
			T_CHECK(check_msg(&b.msgs[i], 9, i, sc[i].len, sc[i].compressible),
				"message %u (len %zu) wrong", i, sc[i].len);
		for (unsigned i = 0; i < a.nsent && i < n; i++)
			T_CHECK(a.sent_id[i] == ids[i] && a.sent_status[i] == 0, "sent cb %u", i);
		T_CHECK(link_send_backlog(a.l) == 0, "backlog after");
		struct link_stats sa, sb;
		link_get_stats(a.l, &sa);
		link_get_stats(b.l, &sb);
		T_CHECK(sa.msgs_tx == n && sb.msgs_rx == n, "msg counters");
		T_CHECK(sa.payload_tx == total && sb.payload_rx == total, "payload counters");
		if (!faulty)
			T_CHECK(sb.drop_crc + sb.drop_short + sb.drop_bad + sb.drop_window + sb.drop_stale == 0,
				"drops on a clean pair");
		T_CHECK(a.downs == 0 && b.downs == 0, "session went down");
		if (getenv("T_VERBOSE"))
			fprintf(stderr, "  a: frames %llu rtx %llu rto %llu srtt %u rto %u cwnd %u; b: crc %llu dup %llu\n",
				(unsigned long long)sa.frames_tx, (unsigned long long)sa.retransmits,
				(unsigned long long)sa.timeouts, sa.srtt_us, sa.rto_us, sa.cwnd,
				(unsigned long long)sb.drop_crc, (unsigned long long)sb.drop_dup);
		ep_close(&a);
		ep_close(&b);
	}
}

static void case_compression(void)
{
	static struct ep a, b;
	T_CASE("compression_pays") {
		T_CHECK(open_pair(&a, &b, NULL, NULL, false, 0), "up");
		size_t len = 1 << 20;
		uint8_t *m = make_msg(3, 0, len, true);
		link_send(a.l, 3, m, len, NULL);
		free(m);
		struct two t = { &a, &b, 0, 1, 1, 0 };
		struct ep *eps[2] = { &a, &b };
		T_CHECK(pump(eps, 2, all_done, &t, GUARD_MS), "delivered");
		T_CHECK(b.nmsgs == 1 && check_msg(&b.msgs[0], 3, 0, len, true), "intact");
		struct link_stats sa;
		link_get_stats(a.l, &sa);
		T_CHECK(sa.bytes_tx < len / 4, "compressible MiB took %llu wire bytes",
			(unsigned long long)sa.bytes_tx);
		ep_close(&a);
		ep_close(&b);
	}
}

/* Many streams interleaved, both directions, order per stream. */
static void run_streams(const char *name, bool faulty, uint64_t seed, unsigned nstreams,
			unsigned per, size_t maxlen)
{
	static struct ep a, b;
	T_CASE(name) {
		if (!open_pair(&a, &b, NULL, NULL, faulty, seed)) {
			T_CHECK(0, "no handshake");
			break;
		}
		uint64_t s = seed;
		size_t lens[2][64][64];
		bool comp[2][64][64];
		for (unsigned k = 0; k < per; k++)
			for (unsigned st = 0; st < nstreams; st++)
				for (int dir = 0; dir < 2; dir++) {
					size_t len = rng_next(&s) % 4 == 0 ? rng_next(&s) % maxlen
									   : rng_next(&s) % 3000;
					bool c = rng_next(&s) % 2;
					lens[dir][st][k] = len;
					comp[dir][st][k] = c;
					uint8_t *m = make_msg(100 + st, k, len, c);
					int rc = link_send(dir ? b.l : a.l, 100 + st, m, len, NULL);
					T_CHECK(rc == 0, "send %d", rc);
					free(m);
				}
		unsigned n = nstreams * per;
		struct two t = { &a, &b, n, n, n, n };
		struct ep *eps[2] = { &a, &b };
		T_CHECK(pump(eps, 2, all_done, &t, GUARD_MS), "not done: a got %u b got %u of %u",
			a.nmsgs, b.nmsgs, n);
		for (int dir = 0; dir < 2; dir++) {
			struct ep *r = dir ? &a : &b;
			unsigned next[64] = { 0 };
			T_CHECK(r->nmsgs == n, "%s got %u of %u", r->name, r->nmsgs, n);
			for (unsigned i = 0; i < r->nmsgs; i++) {
				uint32_t st = r->msgs[i].stream - 100;
				if (st >= nstreams) {
					T_CHECK(0, "bad stream %u", r->msgs[i].stream);
					continue;
				}
				unsigned k = next[st]++;
				if (k >= per) {
					T_CHECK(0, "extra message on stream %u", st);
					continue;
				}
				T_CHECK(check_msg(&r->msgs[i], 100 + st, k, lens[dir][st][k], comp[dir][st][k]),
					"%s: stream %u message %u wrong or out of order", r->name, st, k);
			}
		}
		T_CHECK(count_status(&a, 0) == (int)n && count_status(&b, 0) == (int)n, "sent cbs");
		T_CHECK(a.downs == 0 && b.downs == 0, "session went down");
		if (faulty) {
			struct link_stats sb;
			link_get_stats(b.l, &sb);
			T_CHECK(sb.drop_crc > 0 && sb.drop_dup > 0, "fault layer inactive? crc %llu dup %llu",
				(unsigned long long)sb.drop_crc, (unsigned long long)sb.drop_dup);
			struct link_stats sa;
			link_get_stats(a.l, &sa);
			T_CHECK(sa.retransmits > 0, "no retransmits under loss");
		}
		ep_close(&a);
		ep_close(&b);
	}
}

static bool got1(void *arg)
{
	struct ep *e = arg;
	return e->nmsgs >= 1;
}

/* A small message on another stream is not held up behind a big one. */
static void case_no_hol(void)
{
	static struct ep a, b;
	T_CASE("streams_do_not_block_each_other") {
		T_CHECK(open_pair(&a, &b, NULL, NULL, false, 0), "up");
		size_t big = 8 << 20;
		uint8_t *m = make_msg(1, 0, big, false);
		link_send(a.l, 1, m, big, NULL);
		free(m);
		link_send(a.l, 2, "small", 5, NULL);
		struct ep *eps[2] = { &a, &b };
		T_CHECK(pump(eps, 2, got1, &b, GUARD_MS), "nothing");
		T_CHECK(b.nmsgs >= 1 && b.msgs[0].stream == 2 && b.msgs[0].len == 5,
			"first delivered was stream %u len %zu", b.msgs[0].stream, b.msgs[0].len);
		struct two t = { &a, &b, 0, 2, 2, 0 };
		T_CHECK(pump(eps, 2, all_done, &t, GUARD_MS), "both");
		T_CHECK(b.nmsgs == 2 && check_msg(&b.msgs[1], 1, 0, big, false), "big intact");
		ep_close(&a);
		ep_close(&b);
	}
}

static bool a_down_then_up(void *arg)
{
	struct two *t = arg;
	return t->a->downs >= 1 && t->a->nsent >= t->sent_a && both_up(arg) && t->a->ups >= 2 &&
	       t->b->ups >= 1;
}

/* The peer restarts (new epoch): in-flight messages fail -ESTALE, then a new session. */
static void case_peer_restart(void)
{
	static struct ep a, b, b2;
	T_CASE("peer_restart_fails_inflight_estale") {
		struct link_io *io[2];
		link_io_pair(MTU, io);
		struct link_io *shared = io[1];
		ep_open(&a, "a", io[0], NULL);
		ep_open(&b, "b", fault_wrap(shared, false, 1, 0, 0, 0, 0), NULL);
		struct two t = { &a, &b, 0, 0, 0, 0 };
		struct ep *eps[2] = { &a, &b };
		T_CHECK(pump(eps, 2, both_up, &t, GUARD_MS), "up");
		uint64_t old_epoch = a.peer.epoch;
		/* b gets a message in both directions half-way, then stops */
		size_t big = 4 << 20;
		uint8_t *m = make_msg(5, 0, big, false);
		for (int i = 0; i < 3; i++)
			link_send(a.l, 5, m, big, NULL);
		link_send(b.l, 6, m, big, NULL);
		free(m);
		for (int i = 0; i < 2; i++) {
			link_process(a.l);
			link_process(b.l);
		}
		T_CHECK(a.nsent == 0, "acknowledged before restart");
		link_free(b.l); /* b "restarts" on the same wire */
		b.l = NULL;
		ep_clear_msgs(&b);
		ep_open(&b2, "b", fault_wrap(shared, true, 1, 0, 0, 0, 0), NULL);
		struct two t2 = { &a, &b2, 0, 0, 3, 0 };
		struct ep *eps2[2] = { &a, &b2 };
		T_CHECK(pump(eps2, 2, a_down_then_up, &t2, GUARD_MS), "no down/up: downs %d ups %d",
			a.downs, a.ups);
		T_CHECK(a.last_down == -ESTALE, "down reason %d", a.last_down);
		T_CHECK(count_status(&a, -ESTALE) == 3, "failed %d of 3 with -ESTALE",
			count_status(&a, -ESTALE));
		T_CHECK(a.nmsgs == 0, "a partial message was delivered");
		T_CHECK(a.peer.epoch != old_epoch && a.peer.epoch == link_epoch(b2.l), "new epoch");
		struct link_stats sa;
		link_get_stats(a.l, &sa);
		T_CHECK(sa.epoch_changes == 1 && sa.sessions == 2, "epoch_changes %llu sessions %llu",
			(unsigned long long)sa.epoch_changes, (unsigned long long)sa.sessions);
		/* the new session works */
		link_send(a.l, 5, "again", 5, NULL);
		struct two t3 = { &a, &b2, 0, 1, 4, 0 };
		T_CHECK(pump(eps2, 2, all_done, &t3, GUARD_MS), "new session delivers");
		T_CHECK(b2.nmsgs == 1 && b2.msgs[0].len == 5, "message after restart");
		ep_close(&a);
		ep_close(&b2);
	}
}

static void case_keepalive_timeout(void)
{
	static struct ep a, b;
	T_CASE("keepalive_timeout_fails_inflight_etimedout") {
		struct link_config ca = { .keepalive_ms = 50, .dead_ms = 300 };
		struct link_config cb = { .keepalive_ms = 50, .dead_ms = 300 };
		T_CHECK(open_pair(&a, &b, &ca, &cb, false, 0), "up");
		/* idle for longer than dead_ms: keepalives keep it up */
		struct two t = { &a, &b, 1, 1, 0, 0 };
		struct ep *eps[2] = { &a, &b };
		uint64_t end = now_ms() + 700;
		while (now_ms() < end)
			pump(eps, 2, all_done, &t, 20);
		T_CHECK(a.downs == 0 && b.downs == 0, "idle session died");
		uint8_t *m = make_msg(1, 0, 200000, false);
		link_send(a.l, 1, m, 200000, NULL);
		link_send(a.l, 2, m, 10, NULL);
		free(m);
		/* b is silent from now on */
		struct two t2 = { &a, &b, 0, 0, 2, 0 };
		struct ep *only_a[1] = { &a };
		T_CHECK(pump(only_a, 1, a_down, &t2, GUARD_MS), "never timed out");
		T_CHECK(a.last_down == -ETIMEDOUT, "reason %d", a.last_down);
		T_CHECK(count_status(&a, -ETIMEDOUT) == 2, "failed with -ETIMEDOUT: %d",
			count_status(&a, -ETIMEDOUT));
		T_CHECK(link_state(a.l) == LINK_HELLO, "back to hello");
		T_CHECK(link_send(a.l, 1, "x", 1, NULL) == -ENOTCONN, "send after down");
		/* b wakes up: both re-handshake (b learns of the reset from a) */
		struct two t3 = { &a, &b, 0, 0, 0, 0 };
		T_CHECK(pump(eps, 2, both_up, &t3, GUARD_MS) && a.ups == 2, "re-handshake");
		ep_close(&a);
		ep_close(&b);
	}
}

static bool b_down(void *arg)
{
	struct two *t = arg;
	return t->b->downs >= 1 && t->b->nsent >= t->sent_b;
}

static void case_reset(void)
{
	static struct ep a, b;
	T_CASE("link_reset_tells_peer") {
		T_CHECK(open_pair(&a, &b, NULL, NULL, false, 0), "up");
		uint8_t *m = make_msg(1, 0, 500000, false);
		link_send(b.l, 1, m, 500000, NULL);
		free(m);
		link_process(b.l);
		link_reset(a.l, -ENETDOWN);
		T_CHECK(a.downs == 1 && a.last_down == -ENETDOWN, "a down reason %d", a.last_down);
		struct two t = { &a, &b, 0, 0, 0, 1 };
		struct ep *eps[2] = { &a, &b };
		T_CHECK(pump(eps, 2, b_down, &t, GUARD_MS), "b not told");
		T_CHECK(b.last_down == -ECONNRESET, "b reason %d", b.last_down);
		T_CHECK(count_status(&b, -ECONNRESET) == 1, "b's message failed");
		T_CHECK(pump(eps, 2, both_up, &t, GUARD_MS) && a.ups == 2 && b.ups == 2, "again up");
		ep_close(&a);
		ep_close(&b);
	}
}

/* A link on one end, the test speaking raw frames on the other. */
static void case_drop_counters(void)
{
	static struct ep a;
	T_CASE("drop_counters_by_cause") {
		struct link_io *io[2];
		link_io_pair(MTU, io);
		struct link_io *raw = io[1];
		ep_open(&a, "a", io[0], NULL);
		link_process(a.l);
		uint8_t buf[MTU], *bp[1] = { buf };
		size_t len = 0;
		struct frame f;
		int n = raw->ops->recv(raw, bp, MTU, &len, 1);
		T_CHECK(n == 1 && frame_parse(buf, len, &f) == 0 && f.type == FT_HELLO, "hello");
		uint64_t asess = f.src, bsess = 0xbbbb;
		struct frame_hello h = { .version = LINK_PROTO_VERSION, .boot = 0xbbbb, .max_frame = MTU };
		strcpy(h.ident, "raw");
		uint8_t out[MTU];
		size_t ol = frame_put_hello(out, MTU, FT_HELLO_ACK, bsess, asess, &h);
		struct iovec v = { out, ol };
		raw->ops->send(raw, &v, 1);
		link_process(a.l);
		T_CHECK(link_state(a.l) == LINK_UP && a.ups == 1, "up");

		struct frame_data d = { .seq = 0, .stream = 4, .msg = 0, .off = 0, .total = 2,
					.payload = (const uint8_t *)"hi", .len = 2 };
		struct {
			const char *name;
			int kind;
			size_t off;
		} tab[] = {
			{ "good", 0, 0 },   { "dup", 0, 0 },	 { "crc", 1, 30 },   { "short", 2, 10 },
			{ "foreign", 3, 0 }, { "stale", 4, 0 }, { "window", 5, 0 }, { "bad", 6, 0 },
		};
		for (unsigned i = 0; i < sizeof tab / sizeof tab[0]; i++) {
			struct frame_data dd = d;
			uint64_t src = bsess, dst = asess;
			if (tab[i].kind == 4)
				src = 0x1234;
			if (tab[i].kind == 5)
				dd.seq = dd.msg = 100000;
			if (tab[i].kind == 6)
				dd.off = 3;
			ol = frame_put_data(out, MTU, src, dst, &dd);
			if (tab[i].kind == 1)
				out[tab[i].off] ^= 0x10;
			if (tab[i].kind == 2)
				ol = tab[i].off;
			if (tab[i].kind == 3)
				out[0] = 'X';
			if (tab[i].kind == 6) { /* valid checksum over a bad field */
				uint32_t c = crc32c(0, out, ol - 4);
				out[ol - 4] = (uint8_t)(c >> 24);
				out[ol - 3] = (uint8_t)(c >> 16);
				out[ol - 2] = (uint8_t)(c >> 8);
				out[ol - 1] = (uint8_t)c;
			}
			v.iov_len = ol;
			raw->ops->send(raw, &v, 1);
			link_process(a.l);
		}
		struct link_stats s;
		link_get_stats(a.l, &s);
		T_CHECK(a.nmsgs == 1 && a.msgs[0].len == 2 && !memcmp(a.msgs[0].data, "hi", 2),
			"exactly the good message, %u", a.nmsgs);
		T_CHECK(s.drop_dup == 1, "dup %llu", (unsigned long long)s.drop_dup);
		T_CHECK(s.drop_crc == 1, "crc %llu", (unsigned long long)s.drop_crc);
		T_CHECK(s.drop_short == 1, "short %llu", (unsigned long long)s.drop_short);
		T_CHECK(s.drop_foreign == 1, "foreign %llu", (unsigned long long)s.drop_foreign);
		T_CHECK(s.drop_stale == 1, "stale %llu", (unsigned long long)s.drop_stale);
		T_CHECK(s.drop_window == 1, "window %llu", (unsigned long long)s.drop_window);
		T_CHECK(s.drop_bad == 1, "bad %llu", (unsigned long long)s.drop_bad);
		raw->ops->close(raw);
		ep_close(&a);
	}
}

/* ---- a device that fails: sends fail once armed, receiving goes on ---- */

struct failio {
	struct link_io io;
	struct link_io *inner;
	int err;		/* 0: pass through; else every send fails with it */
	unsigned netdown_first;	/* the first this-many failing sends say -ENETDOWN instead */
	unsigned fails;
};

static int failio_send(struct link_io *io, const struct iovec *v, unsigned n)
{
	struct failio *f = (struct failio *)io;
	if (!f->err)
		return f->inner->ops->send(f->inner, v, n);
	return f->fails++ < f->netdown_first ? -ENETDOWN : f->err;
}

static int failio_recv(struct link_io *io, uint8_t **bufs, size_t cap, size_t *lens, unsigned n)
{
	struct failio *f = (struct failio *)io;
	return f->inner->ops->recv(f->inner, bufs, cap, lens, n);
}

static int failio_fd(struct link_io *io)
{
	struct failio *f = (struct failio *)io;
	return f->inner->ops->fd(f->inner);
}

static void failio_close(struct link_io *io)
{
	struct failio *f = (struct failio *)io;
	f->inner->ops->close(f->inner);
	free(f);
}

static const struct link_io_ops failio_ops = { failio_send, failio_recv, failio_fd, failio_close };

static bool a_dead(void *arg)
{
	struct two *t = arg;
	return link_state(t->a->l) == LINK_DEAD;
}

static bool nsent_a(void *arg)
{
	struct two *t = arg;
	return t->a->nsent >= t->sent_a && t->b->nmsgs >= t->want_b;
}

/*
 * The cable is pulled mid-transfer: after the handshake, with messages in
 * flight both ways and the peer's frames still queued, every send of `a`
 * fails with `err` (the first `netdown_first` with -ENETDOWN: a device going
 * down, then gone). `down` comes exactly once, every message in flight fails
 * with the down reason, and nothing more happens however long `a` is driven:
 * -ENETDOWN leaves it quietly handshaking (and it comes up again once the
 * carrier is back), anything else makes it DEAD.
 */
static void run_unplug(const char *name, int err, unsigned netdown_first)
{
	static struct ep a, b;
	T_CASE(name) {
		struct link_io *io[2];
		T_CHECK(link_io_pair(MTU, io) == 0, "pair");
		struct failio *f = calloc(1, sizeof *f);
		f->io.ops = &failio_ops;
		f->io.mtu = io[0]->mtu;
		f->inner = io[0];
		T_CHECK(ep_open(&a, "alpha", &f->io, NULL) == 0 && ep_open(&b, "beta", io[1], NULL) == 0,
			"open");
		struct two t = { &a, &b, 0, 0, 0, 0 };
		struct ep *eps[2] = { &a, &b };
		T_CHECK(pump(eps, 2, both_up, &t, GUARD_MS), "up");
		/* one small message completes both ways, so the session is known to work */
		link_send(a.l, 9, "ping", 4, NULL);
		struct two t1 = { &a, &b, 0, 1, 1, 0 };
		T_CHECK(pump(eps, 2, nsent_a, &t1, GUARD_MS), "first message");
		uint8_t *m = make_msg(1, 0, 300000, false);
		for (uint32_t i = 0; i < 8; i++) {
			link_send(a.l, i % 4, m, 300000, NULL);
			link_send(b.l, i % 4, m, 300000, NULL);
		}
		free(m);
		for (int i = 0; i < 3; i++) {
			link_process(a.l);
			link_process(b.l);
		}
		link_process(b.l); /* a's socket has b's frames waiting */
		int want = netdown_first ? -ENETDOWN : err;
		f->err = err;
		f->netdown_first = netdown_first;
		int rc = link_process(a.l);
		T_CHECK(a.ups == 1 && a.downs == 1, "ups %d downs %d after the unplug", a.ups, a.downs);
		T_CHECK(a.last_down == want, "down reason %d, want %d", a.last_down, want);
		T_CHECK(a.nsent == 9 && count_status(&a, want) == 8, "%u sent callbacks, %d failed", a.nsent,
			count_status(&a, want));
		for (int i = 0; i < 200; i++) {
			rc = link_process(a.l);
			link_process(b.l);
		}
		if (netdown_first) { /* later HELLOs find the device gone */
			struct two td = { &a, &b, 0, 0, 0, 0 };
			T_CHECK(pump(eps, 2, a_dead, &td, GUARD_MS), "never dead");
			rc = link_process(a.l);
		}
		T_CHECK(a.ups == 1 && a.downs == 1, "ups %d downs %d later", a.ups, a.downs);
		if (err == -ENETDOWN) {
			T_CHECK(rc == 0 && link_state(a.l) == LINK_HELLO, "rc %d state %s", rc,
				link_state_name(link_state(a.l)));
			f->err = 0; /* the carrier is back */
			T_CHECK(pump(eps, 2, both_up, &t, GUARD_MS) && a.ups == 2 && a.downs == 1,
				"up again: ups %d downs %d", a.ups, a.downs);
		} else {
			T_CHECK(rc == -ENODEV && link_state(a.l) == LINK_DEAD, "rc %d state %s", rc,
				link_state_name(link_state(a.l)));
		}
		ep_close(&a);
		ep_close(&b);
	}
}

/* T_VERBOSE=1: how long each case took, on stderr */
static void lap(void)
{
	static uint64_t last;
	uint64_t now = now_ms();
	if (last && getenv("T_VERBOSE"))
		fprintf(stderr, "  (%llu ms)\n", (unsigned long long)(now - last));
	last = now;
}

int main(void)
{
	lap();
	T_CASE("handshake") case_handshake();
	lap();
	T_CASE("send_not_up_and_over_max") case_not_up_and_too_big();
	lap();

	static const struct sizecase small[] = {
		{ 0, false }, { 1, false }, { 1400, false }, { 1451, false }, { 1452, false },
		{ 1500, false }, { 2902, false }, { 3000, true }, { 0, false }, { 65536, false },
	};
	run_sizes("sizes_0_1_mtu", small, sizeof small / sizeof small[0], false, false);
	lap();
	static const struct sizecase mib[] = { { 1 << 20, false }, { 1 << 20, true } };
	run_sizes("size_1mib", mib, 2, false, false);
	lap();
	static const struct sizecase big[] = { { 64u << 20, false } };
	run_sizes("size_64mib", big, 1, false, false);
	lap();
	static const struct sizecase nc[] = { { 100000, true }, { 5, false } };
	run_sizes("no_compress", nc, 2, false, true);
	lap();
	case_compression();
	lap();
	run_streams("streams_interleaved_both_directions", false, 7, 16, 12, 200000);
	lap();
	case_no_hol();
	lap();
	case_peer_restart();
	lap();
	case_keepalive_timeout();
	lap();
	case_reset();
	lap();
	case_drop_counters();
	lap();
	run_unplug("unplug_enetdown_one_down_then_hello", -ENETDOWN, 0);
	lap();
	run_unplug("unplug_enodev_one_down_then_dead", -ENODEV, 0);
	lap();
	run_unplug("unplug_down_then_gone_one_down", -ENODEV, 3);
	lap();
	run_sizes("lossy_sizes", small, sizeof small / sizeof small[0], true, false);
	lap();
	run_streams("lossy_streams_exactly_once_in_order", true, 99, 8, 10, 400000);
	lap();
	static const struct sizecase lossy_big[] = { { 4u << 20, false }, { 1u << 20, true } };
	run_sizes("lossy_4mib", lossy_big, 2, true, false);
	lap();
	return t_done();
}
