/*
 * linkpeer — one end of a usbfarm link for integration tests (lib/link.h over
 * link_io_packet): sends a seeded workload of messages on many streams while
 * verifying what the other end sends, both directions at once.
 *
 *   linkpeer --iface IF --seed S --peer-seed S2 [--msgs N] [--peer-msgs N2]
 *            [--streams K] [--max-size BYTES] [--window BYTES] [--ident NAME]
 *            [--restart-ok] [--exit-on-down] [--die-after-rx BYTES]
 *            [--mark-after-rx BYTES:FILE]
 *            [--watch-carrier] [--dead-ms MS] [--keepalive-ms MS]
 *            [--no-compress] [--timeout-s T] [--linger-ms MS] [--quiet]
 *
 * Workload: message g (0..N-1) goes on stream g % K as that stream's message
 * g / K. Its size and bytes are a function of (seed, stream, index): most are
 * small, a few large (one of exactly --max-size, default 64 MiB, and one of
 * 0 bytes), half of them compressible. The receiver recomputes every message
 * from the peer's seed, so it checks each arrives intact, exactly once and in
 * order on its stream; anything else is a violation (printed on stderr).
 *
 * Every link_send gets exactly one `sent` callback (checked): acknowledged,
 * or failed with the session's down reason (counted as failed, by reason).
 *
 * When a peer has all its messages acknowledged and all the peer's received,
 * it sends DONE on a control stream; it exits once it has also received the
 * peer's DONE (and lingers --linger-ms, default 1000, acknowledging
 * retransmissions).
 *
 * Session end: by default a session that ends before the workload is done is
 * a failure. --restart-ok: when the peer comes back (new epoch) the workload
 * starts over in the new session (both ends start from message 0) and the
 * run succeeds once one session completes it. --exit-on-down: the first
 * down ends the run (exit 3) after counting what failed. A DEAD link (device
 * gone) also ends the run with exit 3. --die-after-rx: _exit(9) without any
 * cleanup once BYTES of messages arrived (a crashing peer, mid-transfer).
 * --mark-after-rx: write FILE once BYTES of messages arrived (so a test can
 * act mid-transfer without guessing times).
 * --watch-carrier: also watch rtnetlink and call link_reset() when the
 * interface loses carrier or disappears, as hubd/noded do.
 *
 * Output, on stdout at the end, one `name value` per line: result (ok,
 * violation, down, timeout, error), counts, and link_get_stats().
 * Exit: 0 ok, 1 violation, 2 usage, 3 down / dead, 4 timeout, 5 signal.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "link.h"
#include "clock.h"
#include "../lib/tool.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000 /* linux/if.h, which clashes with net/if.h */
#endif

#define CTRL_STREAM 0xFFFF0000u
#define DONE_MAGIC "LINKPEER-DONE"

/* ---- options ---- */
static const char *o_iface, *o_ident = "linkpeer";
static uint64_t o_seed = 1, o_peer_seed = 2;
static uint32_t o_msgs = 1000, o_peer_msgs = UINT32_MAX, o_streams = 16;
static size_t o_max_size = 64u << 20, o_window = 16u << 20;
static bool o_restart_ok, o_exit_on_down, o_watch_carrier, o_no_compress, o_quiet;
static uint64_t o_die_after_rx, o_mark_after_rx;
static const char *o_mark_file;
static bool marked;
static uint32_t o_dead_ms, o_keepalive_ms;
static long o_timeout_s = 600, o_linger_ms = 1000;

/* ---- the workload ---- */
static uint64_t mix(uint64_t z)
{
	z += 0x9E3779B97F4A7C15ull;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint64_t msg_key(uint64_t seed, uint32_t stream, uint32_t idx)
{
	return mix(mix(seed * 0x100000001B3ull ^ stream) ^ ((uint64_t)idx << 20));
}

static size_t msg_size(uint64_t seed, uint32_t stream, uint32_t idx)
{
	if (stream == 0 && idx == 3)
		return o_max_size;
	if (stream == 0 && idx == 1)
		return 0;
	uint64_t r = msg_key(seed, stream, idx), r2 = mix(r);
	unsigned c = (unsigned)(r % 1000);
	size_t s;
	if (c < 600)
		s = r2 % 257;
	else if (c < 850)
		s = 256 + r2 % (16384 - 256);
	else if (c < 970)
		s = 16384 + r2 % (262144 - 16384);
	else if (c < 999)
		s = 262144 + r2 % ((2u << 20) - 262144);
	else
		s = (2u << 20) + r2 % (o_max_size > (2u << 20) ? o_max_size - (2u << 20) + 1 : 1);
	return s > o_max_size ? o_max_size : s;
}

/* Bytes [off, off+len) of the message, off a multiple of 8. */
static void msg_fill(uint64_t key, uint8_t *p, size_t off, size_t len)
{
	bool compressible = (key >> 40) & 1;
	for (size_t i = 0; i < len; i += 8) {
		uint64_t w = (off + i) / 8;
		uint64_t v = compressible ? mix(key + (w % 512)) ^ (w / 512) : mix(key + w);
		size_t n = len - i < 8 ? len - i : 8;
		memcpy(p + i, &v, n);
	}
}

static uint8_t *msg_make(uint64_t seed, uint32_t stream, uint32_t idx, size_t *len)
{
	*len = msg_size(seed, stream, idx);
	uint8_t *p = malloc(*len ? *len : 1);
	if (p)
		msg_fill(msg_key(seed, stream, idx), p, 0, *len);
	return p;
}

/* Compares data against the message; returns the first differing offset or -1. */
static long long msg_check(uint64_t key, const uint8_t *data, size_t len)
{
	uint8_t chunk[65536];
	for (size_t off = 0; off < len; off += sizeof(chunk)) {
		size_t n = len - off < sizeof(chunk) ? len - off : sizeof(chunk);
		msg_fill(key, chunk, off, n);
		if (memcmp(chunk, data + off, n)) {
			for (size_t i = 0; i < n; i++)
				if (chunk[i] != data[off + i])
					return (long long)(off + i);
		}
	}
	return -1;
}

static uint32_t stream_count(uint32_t total, uint32_t s)
{
	return s >= total ? 0 : (total - s + o_streams - 1) / o_streams;
}

/* ---- msg id accounting: every link_send gets exactly one sent callback ---- */
struct idset {
	uint64_t *keys; /* 0 empty, UINT64_MAX tombstone, else id+1 */
	size_t cap, used, live;
};
static struct idset pending;

static size_t ids_slot(const struct idset *s, uint64_t k)
{
	return (size_t)(mix(k) & (s->cap - 1));
}

static void ids_rehash(struct idset *s, size_t cap)
{
	uint64_t *old = s->keys;
	size_t ocap = s->cap;
	s->keys = calloc(cap, sizeof(uint64_t));
	if (!s->keys) {
		perror("linkpeer: calloc");
		exit(1);
	}
	s->cap = cap;
	s->used = s->live = 0;
	for (size_t i = 0; i < ocap; i++) {
		if (old[i] && old[i] != UINT64_MAX) {
			size_t j = ids_slot(s, old[i]);
			while (s->keys[j])
				j = (j + 1) & (cap - 1);
			s->keys[j] = old[i];
			s->used++;
			s->live++;
		}
	}
	free(old);
}

static void ids_add(struct idset *s, uint64_t id)
{
	if ((s->used + 1) * 2 > s->cap) {
		size_t cap = 1024;
		while (cap < s->live * 4)
			cap *= 2; /* a power of two: slots are masked */
		ids_rehash(s, cap);
	}
	uint64_t k = id + 1;
	size_t j = ids_slot(s, k);
	while (s->keys[j] && s->keys[j] != UINT64_MAX)
		j = (j + 1) & (s->cap - 1);
	if (!s->keys[j])
		s->used++;
	s->keys[j] = k;
	s->live++;
}

static bool ids_del(struct idset *s, uint64_t id)
{
	if (!s->cap)
		return false;
	uint64_t k = id + 1;
	for (size_t j = ids_slot(s, k), n = 0; s->keys[j] && n < s->cap; j = (j + 1) & (s->cap - 1), n++) {
		if (s->keys[j] == k) {
			s->keys[j] = UINT64_MAX;
			s->live--;
			return true;
		}
	}
	return false;
}

/* ---- run state ---- */
struct peer {
	struct link *l;
	uint32_t session;		/* sessions seen up */
	bool up;
	/* this session's workload */
	uint32_t next_send;		/* g of the next message to queue */
	uint32_t acked_this;		/* data messages acknowledged this session */
	uint32_t *rx_next;		/* per stream: next expected index */
	uint32_t rx_this;		/* data messages received this session */
	bool done_sent, peer_done;
	uint64_t done_id;
	/* totals */
	uint64_t msgs_sent, bytes_sent, msgs_acked, bytes_acked, msgs_failed;
	uint64_t msgs_rx, bytes_rx, violations, late_callbacks, unknown_callbacks;
	uint64_t fail_by_reason[4];	/* ESTALE, ETIMEDOUT, ENETDOWN/ENODEV, other */
	uint64_t downs, spurious_downs;
	uint64_t send_errors;
	int last_down;
	bool dead, timed_out, ended_down;
};
static struct peer P;

/* id -> size for bytes accounting of acknowledged messages: a small map */
struct idsize {
	uint64_t id;
	size_t size;
};
static struct idsize *isz;
static size_t isz_cap;

static void isz_put(uint64_t id, size_t size)
{
	if (!isz_cap) {
		isz_cap = 1 << 16;
		isz = calloc(isz_cap, sizeof(*isz));
	}
	for (;;) {
		size_t j = (size_t)(mix(id) & (isz_cap - 1));
		for (size_t n = 0; n < 64; n++, j = (j + 1) & (isz_cap - 1)) {
			if (!isz[j].id) {
				isz[j].id = id + 1;
				isz[j].size = size;
				return;
			}
		}
		/* crowded: grow */
		struct idsize *old = isz;
		size_t ocap = isz_cap;
		isz_cap *= 2;
		isz = calloc(isz_cap, sizeof(*isz));
		for (size_t i = 0; i < ocap; i++)
			if (old[i].id)
				isz_put(old[i].id - 1, old[i].size);
		free(old);
	}
}

static size_t isz_take(uint64_t id)
{
	if (!isz_cap)
		return 0;
	size_t j = (size_t)(mix(id) & (isz_cap - 1));
	for (size_t n = 0; n < 64; n++, j = (j + 1) & (isz_cap - 1)) {
		if (isz[j].id == id + 1) {
			size_t s = isz[j].size;
			/* backward-shift delete is overkill: mark with a size-keeping hole */
			isz[j].id = 0;
			/* re-place followers of the cluster so lookups still find them */
			size_t k = (j + 1) & (isz_cap - 1);
			while (isz[k].id) {
				struct idsize e = isz[k];
				isz[k].id = 0;
				isz_put(e.id - 1, e.size);
				k = (k + 1) & (isz_cap - 1);
			}
			return s;
		}
		if (!isz[j].id)
			break;
	}
	return 0;
}

static void say(const char *fmt, ...)
{
	if (o_quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "linkpeer[%s]: ", o_ident);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void violation(const char *fmt, ...)
{
	va_list ap;
	if (P.violations++ >= 20) {
		if (P.violations == 21)
			fprintf(stderr, "linkpeer[%s]: (further violations only counted)\n", o_ident);
		return;
	}
	va_start(ap, fmt);
	fprintf(stderr, "linkpeer[%s]: VIOLATION: ", o_ident);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void session_reset(void)
{
	P.next_send = 0;
	P.acked_this = 0;
	P.rx_this = 0;
	P.done_sent = P.peer_done = false;
	memset(P.rx_next, 0, o_streams * sizeof(uint32_t));
}

static void cb_up(struct link *l, const struct link_peer *peer, void *user)
{
	(void)l;
	(void)user;
	P.session++;
	P.up = true;
	say("session %u up: peer '%s' epoch %016" PRIx64 " max_frame %u", P.session, peer->ident,
	    peer->epoch, peer->max_frame);
	if (P.session > 1) {
		if (!o_restart_ok)
			violation("a second session came up without --restart-ok");
		/* the contract: everything in flight failed when the last session ended */
		if (pending.live) {
			violation("%zu messages of the last session got no sent callback", pending.live);
			free(pending.keys);
			memset(&pending, 0, sizeof(pending));
		}
		session_reset();
	}
}

static void cb_down(struct link *l, int reason, void *user)
{
	(void)l;
	(void)user;
	if (!P.up)
		P.spurious_downs++; /* down without a session up: the contract says one per session */
	P.up = false;
	P.downs++;
	P.last_down = reason;
	say("session %u down: %s (%d)", P.session, strerror(-reason), reason);
	if (o_exit_on_down)
		P.ended_down = true;
}

static void cb_message(struct link *l, uint32_t stream, uint8_t *data, size_t len, void *user)
{
	(void)l;
	(void)user;
	if (stream == CTRL_STREAM) {
		if (len == strlen(DONE_MAGIC) && !memcmp(data, DONE_MAGIC, len)) {
			if (P.peer_done)
				violation("DONE received twice");
			P.peer_done = true;
		} else {
			violation("unknown control message of %zu bytes", len);
		}
		free(data);
		return;
	}
	P.msgs_rx++;
	P.bytes_rx += len;
	if (stream >= o_streams) {
		violation("message on unknown stream %u (%zu bytes)", stream, len);
		free(data);
		return;
	}
	uint32_t idx = P.rx_next[stream];
	if (idx >= stream_count(o_peer_msgs, stream)) {
		violation("stream %u: extra message (%zu bytes) after all %u expected", stream, len, idx);
		free(data);
		return;
	}
	size_t want = msg_size(o_peer_seed, stream, idx);
	long long bad = want == len ? msg_check(msg_key(o_peer_seed, stream, idx), data, len) : -2;
	if (bad != -1) {
		/* classify: a later message (loss/reorder) or an earlier one (dup)? */
		const char *what = "corrupt";
		for (int d = -3; d <= 3; d++) {
			if (d == 0 || (int64_t)idx + d < 0)
				continue;
			uint32_t j = (uint32_t)((int64_t)idx + d);
			if (msg_size(o_peer_seed, stream, j) == len &&
			    msg_check(msg_key(o_peer_seed, stream, j), data, len) == -1) {
				what = d < 0 ? "duplicate of an earlier message" : "skipped ahead (lost or reordered)";
				idx = j;
				break;
			}
		}
		if (bad == -2)
			violation("stream %u message %u: %zu bytes, expected %zu: %s", stream, P.rx_next[stream], len, want, what);
		else
			violation("stream %u message %u: content differs at byte %lld: %s", stream, idx, bad, what);
		if (strstr(what, "skipped"))
			P.rx_next[stream] = idx + 1;
		free(data);
		return;
	}
	P.rx_next[stream]++;
	P.rx_this++;
	free(data);
	if (o_mark_file && !marked && P.bytes_rx >= o_mark_after_rx) {
		FILE *f = fopen(o_mark_file, "w");
		if (f) {
			fprintf(f, "%" PRIu64 "\n", P.bytes_rx);
			fclose(f);
		}
		marked = true;
	}
	if (o_die_after_rx && P.bytes_rx >= o_die_after_rx) {
		fprintf(stderr, "linkpeer[%s]: dying after %" PRIu64 " bytes received (--die-after-rx)\n",
			o_ident, P.bytes_rx);
		_exit(9);
	}
}

static void cb_sent(struct link *l, uint64_t msg_id, int status, void *user)
{
	(void)l;
	(void)user;
	if (P.done_sent && msg_id == P.done_id) {
		if (status)
			say("our DONE failed (%d); fine if the peer already finished", status);
		return;
	}
	if (!ids_del(&pending, msg_id)) {
		P.unknown_callbacks++;
		violation("sent callback for unknown or already completed id %" PRIu64 " (status %d)", msg_id, status);
		return;
	}
	size_t sz = isz_take(msg_id);
	if (status == 0) {
		P.msgs_acked++;
		P.bytes_acked += sz;
		P.acked_this++;
	} else {
		P.msgs_failed++;
		int k = status == -ESTALE ? 0 : status == -ETIMEDOUT ? 1
			: (status == -ENETDOWN || status == -ENODEV || status == -ENXIO) ? 2 : 3;
		P.fail_by_reason[k]++;
	}
}

/* ---- carrier watch (optional) ---- */
static int nl_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -1;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Returns 0, -ENETDOWN (carrier lost) or -ENODEV (gone) for our ifindex. */
static int nl_read(int fd, int ifindex)
{
	char buf[16384];
	int verdict = 0;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK)
				continue;
			struct ifinfomsg *ifi = NLMSG_DATA(h);
			if (ifi->ifi_index != ifindex)
				continue;
			if (h->nlmsg_type == RTM_DELLINK)
				verdict = -ENODEV;
			else if (!(ifi->ifi_flags & IFF_LOWER_UP) && !verdict)
				verdict = -ENETDOWN;
		}
	}
	return verdict;
}

static volatile sig_atomic_t got_signal;
static void on_signal(int s)
{
	got_signal = s;
}

static bool workload_done(void)
{
	uint32_t want_rx = o_peer_msgs;
	return P.up && P.next_send >= o_msgs && P.acked_this >= o_msgs && P.rx_this >= want_rx;
}

static void feed(void)
{
	while (P.up && P.next_send < o_msgs && link_send_backlog(P.l) < o_window) {
		uint32_t g = P.next_send, s = g % o_streams, idx = g / o_streams;
		size_t len;
		uint8_t *m = msg_make(o_seed, s, idx, &len);
		if (!m) {
			violation("out of memory making message %u", g);
			return;
		}
		uint64_t id;
		int r = link_send(P.l, s, m, len, &id);
		free(m);
		if (r < 0) {
			if (r != -ENOTCONN) {
				violation("link_send(stream %u, %zu bytes): %s", s, len, strerror(-r));
				P.send_errors++;
			}
			return;
		}
		ids_add(&pending, id);
		isz_put(id, len);
		P.msgs_sent++;
		P.bytes_sent += len;
		P.next_send++;
	}
	if (P.up && !P.done_sent && workload_done()) {
		if (link_send(P.l, CTRL_STREAM, DONE_MAGIC, strlen(DONE_MAGIC), &P.done_id) == 0)
			P.done_sent = true;
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: linkpeer --iface IF --seed S --peer-seed S2 [--msgs N] [--peer-msgs N2]\n"
		   "       [--streams K] [--max-size BYTES] [--window BYTES] [--ident NAME]\n"
		   "       [--restart-ok] [--exit-on-down] [--die-after-rx BYTES] [--watch-carrier]\n"
		   "       [--mark-after-rx BYTES:FILE]\n"
		   "       [--dead-ms MS] [--keepalive-ms MS] [--no-compress] [--timeout-s T]\n"
		   "       [--linger-ms MS] [--quiet]\n");
}

static unsigned long long num(const char *o, const char *s)
{
	return tool_num("linkpeer", o, s);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iface", 1, NULL, 'i' }, { "ident", 1, NULL, 'I' }, { "seed", 1, NULL, 's' },
		{ "peer-seed", 1, NULL, 'S' }, { "msgs", 1, NULL, 'n' }, { "peer-msgs", 1, NULL, 'N' },
		{ "streams", 1, NULL, 'k' }, { "max-size", 1, NULL, 'm' }, { "window", 1, NULL, 'w' },
		{ "restart-ok", 0, NULL, 'r' }, { "exit-on-down", 0, NULL, 'x' },
		{ "die-after-rx", 1, NULL, 'd' }, { "watch-carrier", 0, NULL, 'c' },
		{ "dead-ms", 1, NULL, 'D' }, { "keepalive-ms", 1, NULL, 'K' },
		{ "no-compress", 0, NULL, 'z' }, { "timeout-s", 1, NULL, 't' },
		{ "linger-ms", 1, NULL, 'L' }, { "quiet", 0, NULL, 'q' }, { "help", 0, NULL, 'h' },
		{ "mark-after-rx", 1, NULL, 'M' },
		{ 0 }
	};
	int o;
	while ((o = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
		switch (o) {
		case 'i': o_iface = optarg; break;
		case 'I': o_ident = optarg; break;
		case 's': o_seed = num("seed", optarg); break;
		case 'S': o_peer_seed = num("peer-seed", optarg); break;
		case 'n': o_msgs = (uint32_t)num("msgs", optarg); break;
		case 'N': o_peer_msgs = (uint32_t)num("peer-msgs", optarg); break;
		case 'k': o_streams = (uint32_t)num("streams", optarg); break;
		case 'm': o_max_size = num("max-size", optarg); break;
		case 'w': o_window = num("window", optarg); break;
		case 'r': o_restart_ok = true; break;
		case 'x': o_exit_on_down = true; break;
		case 'd': o_die_after_rx = num("die-after-rx", optarg); break;
		case 'c': o_watch_carrier = true; break;
		case 'D': o_dead_ms = (uint32_t)num("dead-ms", optarg); break;
		case 'K': o_keepalive_ms = (uint32_t)num("keepalive-ms", optarg); break;
		case 'z': o_no_compress = true; break;
		case 't': o_timeout_s = (long)num("timeout-s", optarg); break;
		case 'L': o_linger_ms = (long)num("linger-ms", optarg); break;
		case 'q': o_quiet = true; break;
		case 'M': {
			char *colon = strchr(optarg, ':');
			if (!colon) {
				fprintf(stderr, "linkpeer: --mark-after-rx BYTES:FILE\n");
				return 2;
			}
			*colon = 0;
			o_mark_after_rx = num("mark-after-rx", optarg);
			o_mark_file = colon + 1;
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!o_iface || optind != argc || o_streams < 1 || o_streams > 65536 || o_max_size < 1) {
		usage(stderr);
		return 2;
	}
	if (o_peer_msgs == UINT32_MAX)
		o_peer_msgs = o_msgs;
	P.rx_next = calloc(o_streams, sizeof(uint32_t));

	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	struct link_io *io;
	int r = link_io_packet(o_iface, &io);
	if (r < 0) {
		fprintf(stderr, "linkpeer: link_io_packet(%s): %s\n", o_iface, strerror(-r));
		return 3;
	}
	struct link_config cfg = {
		.ident = o_ident, .keepalive_ms = o_keepalive_ms, .dead_ms = o_dead_ms,
		.max_msg = o_max_size > LINK_MAX_MSG_DEFAULT ? o_max_size : 0,
		.no_compress = o_no_compress,
	};
	struct link_callbacks cb = { .up = cb_up, .down = cb_down, .message = cb_message, .sent = cb_sent };
	r = link_new(io, &cfg, &cb, NULL, &P.l);
	if (r < 0) {
		fprintf(stderr, "linkpeer: link_new: %s\n", strerror(-r));
		return 3;
	}
	int ifindex = (int)if_nametoindex(o_iface);
	int nl = o_watch_carrier ? nl_open() : -1;
	if (o_watch_carrier && nl < 0)
		fprintf(stderr, "linkpeer: rtnetlink: %s (carrier not watched)\n", strerror(errno));

	uint64_t start = now_ms(), deadline = start + (uint64_t)o_timeout_s * 1000, linger_until = 0;
	const char *result = "ok";
	int rc = 0;
	for (;;) {
		feed();
		uint64_t now = now_ms();
		if (P.done_sent && P.peer_done && workload_done() && !linger_until)
			linger_until = now + (uint64_t)o_linger_ms;
		if (linger_until && now >= linger_until)
			break;
		if (P.ended_down) {
			result = "down";
			rc = 3;
			break;
		}
		if (got_signal) {
			result = "signal";
			rc = 5;
			break;
		}
		if (now >= deadline) {
			P.timed_out = true;
			result = "timeout";
			rc = 4;
			break;
		}
		struct pollfd pfd[2] = { { .fd = link_fd(P.l), .events = POLLIN }, { .fd = nl, .events = POLLIN } };
		if (link_want_write(P.l))
			pfd[0].events |= POLLOUT;
		int to = link_timeout_ms(P.l);
		int cap = 200;
		if (linger_until && (int)(linger_until - now) < cap)
			cap = (int)(linger_until - now);
		if (to < 0 || to > cap)
			to = cap;
		int n = poll(pfd, nl >= 0 ? 2 : 1, to);
		if (n < 0 && errno != EINTR) {
			perror("linkpeer: poll");
			result = "error";
			rc = 1;
			break;
		}
		if (nl >= 0 && n > 0 && (pfd[1].revents & POLLIN)) {
			int v = nl_read(nl, ifindex);
			if (v) {
				say("rtnetlink: %s, resetting the link", v == -ENODEV ? "interface gone" : "carrier down");
				link_reset(P.l, v);
			}
		}
		r = link_process(P.l);
		if (r < 0 || link_state(P.l) == LINK_DEAD) {
			say("link dead: %s", strerror(r < 0 ? -r : EIO));
			P.dead = true;
			result = "down";
			rc = 3;
			break;
		}
	}
	if ((P.ended_down || P.dead) && pending.live)
		violation("the session ended but %zu messages in flight got no sent callback", pending.live);
	if (P.violations) {
		result = "violation";
		rc = 1;
	} else if (rc == 0 && P.session > 1 && !o_restart_ok) {
		result = "violation";
		rc = 1;
	}

	struct link_stats st;
	link_get_stats(P.l, &st);
	uint64_t el = now_ms() - start;
	printf("result %s\n", result);
	printf("elapsed_ms %" PRIu64 "\n", el);
	printf("sessions %u\n", P.session);
	printf("downs %" PRIu64 "\n", P.downs);
	printf("last_down %d\n", P.last_down);
	printf("spurious_downs %" PRIu64 "\n", P.spurious_downs);
	printf("msgs_sent %" PRIu64 "\nbytes_sent %" PRIu64 "\n", P.msgs_sent, P.bytes_sent);
	printf("msgs_acked %" PRIu64 "\nbytes_acked %" PRIu64 "\n", P.msgs_acked, P.bytes_acked);
	printf("msgs_failed %" PRIu64 "\n", P.msgs_failed);
	printf("failed_estale %" PRIu64 "\nfailed_etimedout %" PRIu64 "\nfailed_enetdown %" PRIu64
	       "\nfailed_other %" PRIu64 "\n", P.fail_by_reason[0], P.fail_by_reason[1], P.fail_by_reason[2],
	       P.fail_by_reason[3]);
	printf("msgs_unresolved %zu\n", pending.live);
	printf("msgs_rx %" PRIu64 "\nbytes_rx %" PRIu64 "\n", P.msgs_rx, P.bytes_rx);
	printf("violations %" PRIu64 "\n", P.violations);
	printf("this_session_sent %u\nthis_session_acked %u\nthis_session_rx %u\n", P.next_send, P.acked_this, P.rx_this);
#define S(f) printf("link.%s %" PRIu64 "\n", #f, (uint64_t)st.f)
	S(frames_tx); S(frames_rx); S(bytes_tx); S(bytes_rx); S(msgs_tx); S(msgs_rx);
	S(payload_tx); S(payload_rx); S(retransmits); S(timeouts);
	S(drop_crc); S(drop_short); S(drop_dup); S(drop_stale); S(drop_foreign); S(drop_window); S(drop_bad);
	S(sessions); S(epoch_changes); S(srtt_us); S(rto_us); S(cwnd); S(inflight);
#undef S
	fflush(stdout);
	link_free(P.l);
	/* the link's callbacks during free (if any) must not count after this */
	if (nl >= 0)
		close(nl);
	free(P.rx_next);
	free(pending.keys);
	free(isz);
	return rc;
}
