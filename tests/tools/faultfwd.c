/*
 * faultfwd — a user-space fault injector between two Ethernet interfaces.
 *
 *   faultfwd --a IFACE --b IFACE [--loss PCT] [--dup PCT] [--reorder PCT]
 *            [--corrupt PCT] [--delay MS] [--hold-ms MS] [--seed N]
 *            [--ethertype 0xNNNN] [--stats FILE]
 *
 * Every frame that arrives on a is sent on b and vice versa (AF_PACKET,
 * ETH_P_ALL, batched with recvmmsg/sendmmsg). Frames of the usbfarm
 * EtherType (0x88B5 unless --ethertype) suffer faults drawn from a seeded
 * PRNG, one independent generator per direction so a run repeats:
 *
 *   loss     the frame is dropped
 *   corrupt  1 to 3 random bits flipped past the Ethernet header
 *   dup      the frame is sent twice
 *   reorder  the frame is held back until 1 to 3 later frames of the same
 *            direction went out, or --hold-ms (default 5) passed
 *   delay    every frame waits MS milliseconds (a FIFO: order is kept)
 *
 * Other frames (IPv6 neighbour discovery and the like) are forwarded as they
 * are and only counted. The counters, per direction, are written to --stats
 * (atomically, `name value` per line) once the sockets are bound (so a
 * starter can wait for the file), on SIGUSR1, on SIGTERM/SIGINT and at exit,
 * and printed on stdout at the same times. Exits 0 on SIGTERM/SIGINT or when
 * an interface disappears, 1 on errors.
 *
 * This is what netem would do, for kernels without netem.
 */
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define FRAME_CAP 65600		/* a veth can hand us GRO'd or jumbo frames */
#define OUTQ_HIGH 20000		/* stop reading a side while this much waits */

struct frame {
	struct frame *next;
	uint64_t due_ns;	/* delay line: when it leaves; hold: deadline */
	int countdown;		/* hold: later frames still to pass it */
	bool reorder;
	size_t len;
	uint8_t data[];
};

struct fifo {
	struct frame *head, *tail;
	size_t n;
};

struct counters {
	uint64_t rx, rx_bytes, rx_ours, passthrough;
	uint64_t dropped, duplicated, reordered, corrupted, delayed;
	uint64_t tx, tx_bytes, tx_errors, truncated, kernel_drops;
};

struct dir {
	const char *name;	/* "a2b" / "b2a" */
	int rx_fd, tx_fd;
	uint64_t rng;
	struct fifo delay_line, hold, outq;
	struct counters c;
};

static double p_loss, p_dup, p_reorder, p_corrupt;
static unsigned delay_ms, hold_ms = 5;
static uint16_t ethertype = 0x88B5;
static const char *stats_path, *if_a, *if_b;
static uint64_t seed = 1;
static struct dir dirs[2];
static volatile sig_atomic_t want_stats, want_exit;

/* splitmix64: small, fast, good enough to decide fates */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static bool chance(uint64_t *s, double p)
{
	if (p <= 0)
		return false;
	return (double)(rnd(s) >> 11) * (1.0 / 9007199254740992.0) < p;
}

static void fifo_push(struct fifo *q, struct frame *f)
{
	f->next = NULL;
	if (q->tail)
		q->tail->next = f;
	else
		q->head = f;
	q->tail = f;
	q->n++;
}

static struct frame *fifo_pop(struct fifo *q)
{
	struct frame *f = q->head;
	if (f) {
		q->head = f->next;
		if (!q->head)
			q->tail = NULL;
		q->n--;
	}
	return f;
}

static void fifo_free(struct fifo *q)
{
	struct frame *f;
	while ((f = fifo_pop(q)))
		free(f);
}

static struct frame *frame_new(const uint8_t *data, size_t len)
{
	struct frame *f = malloc(sizeof(*f) + len);
	if (!f) {
		perror("faultfwd: malloc");
		exit(1);
	}
	memset(f, 0, sizeof(*f));
	f->len = len;
	memcpy(f->data, data, len);
	return f;
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_stats = 1;
	else
		want_exit = 1;
}

static void write_counters(FILE *out)
{
	fprintf(out, "# faultfwd a=%s b=%s loss=%g dup=%g reorder=%g corrupt=%g delay=%u seed=%" PRIu64 "\n",
		if_a, if_b, p_loss * 100, p_dup * 100, p_reorder * 100, p_corrupt * 100, delay_ms, seed);
	for (int d = 0; d < 2; d++) {
		const struct counters *c = &dirs[d].c;
		const char *n = dirs[d].name;
#define C(field) fprintf(out, "%s.%s %" PRIu64 "\n", n, #field, c->field)
		C(rx); C(rx_bytes); C(rx_ours); C(passthrough);
		C(dropped); C(duplicated); C(reordered); C(corrupted); C(delayed);
		C(tx); C(tx_bytes); C(tx_errors); C(truncated); C(kernel_drops);
#undef C
	}
}

static void poll_kernel_drops(void)
{
	for (int d = 0; d < 2; d++) {
		struct tpacket_stats st;
		socklen_t sl = sizeof(st);
		if (getsockopt(dirs[d].rx_fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl) == 0)
			dirs[d].c.kernel_drops += st.tp_drops;
	}
}

static void dump_stats(void)
{
	poll_kernel_drops();
	write_counters(stdout);
	fflush(stdout);
	if (!stats_path)
		return;
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", stats_path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "faultfwd: %s: %s\n", tmp, strerror(errno));
		return;
	}
	write_counters(f);
	if (fclose(f) != 0 || rename(tmp, stats_path) != 0)
		fprintf(stderr, "faultfwd: %s: %s\n", stats_path, strerror(errno));
}

static int open_iface(const char *name, int *ifindex)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0) {
		fprintf(stderr, "faultfwd: socket: %s\n", strerror(errno));
		exit(1);
	}
	unsigned idx = if_nametoindex(name);
	if (!idx) {
		fprintf(stderr, "faultfwd: no interface %s\n", name);
		exit(1);
	}
	*ifindex = (int)idx;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = (int)idx };
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		fprintf(stderr, "faultfwd: bind %s: %s\n", name, strerror(errno));
		exit(1);
	}
	struct packet_mreq mr = { .mr_ifindex = (int)idx, .mr_type = PACKET_MR_PROMISC };
	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
		fprintf(stderr, "faultfwd: promisc %s: %s (continuing)\n", name, strerror(errno));
#ifdef PACKET_IGNORE_OUTGOING
	int one = 1;
	(void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
#endif
	int sz = 16 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	/* discard whatever arrived between socket() and bind() on other devices */
	uint8_t junk[64];
	while (recv(fd, junk, sizeof(junk), MSG_DONTWAIT | MSG_TRUNC) >= 0)
		;
	return fd;
}

/* Moves the held frames for which due() says so to the output queue, in
 * their order; due() is asked once per held frame. */
static void release_held(struct dir *d, bool (*due)(struct frame *, uint64_t), uint64_t now)
{
	struct frame **pp = &d->hold.head, *h, *prev = NULL;
	while ((h = *pp)) {
		if (due(h, now)) {
			*pp = h->next;
			if (d->hold.tail == h)
				d->hold.tail = prev;
			d->hold.n--;
			fifo_push(&d->outq, h);
		} else {
			prev = h;
			pp = &h->next;
		}
	}
}

/* A held frame goes once enough later frames have passed it ... */
static bool counted_down(struct frame *h, uint64_t now)
{
	(void)now;
	return --h->countdown <= 0;
}

/* ... or once its hold time is over. */
static bool deadline_passed(struct frame *h, uint64_t now)
{
	return h->due_ns <= now;
}

/* A frame leaves the fault stage: to the wire, or held back for reordering. */
static void release(struct dir *d, struct frame *f, uint64_t now)
{
	if (f->reorder) {
		f->reorder = false;
		f->countdown = 1 + (int)(rnd(&d->rng) % 3);
		f->due_ns = now + (uint64_t)hold_ms * 1000000u;
		fifo_push(&d->hold, f);
		return;
	}
	fifo_push(&d->outq, f);
	/* every frame that passes counts down the held ones */
	release_held(d, counted_down, now);
}

/* Time-driven work: delay line and hold deadlines. */
static void run_timers(struct dir *d, uint64_t now)
{
	while (d->delay_line.head && d->delay_line.head->due_ns <= now)
		release(d, fifo_pop(&d->delay_line), now);
	release_held(d, deadline_passed, now);
}

static int64_t next_timer_ms(uint64_t now)
{
	uint64_t next = UINT64_MAX;
	for (int i = 0; i < 2; i++) {
		struct dir *d = &dirs[i];
		if (d->delay_line.head && d->delay_line.head->due_ns < next)
			next = d->delay_line.head->due_ns;
		for (struct frame *h = d->hold.head; h; h = h->next)
			if (h->due_ns < next)
				next = h->due_ns;
	}
	if (next == UINT64_MAX)
		return -1;
	if (next <= now)
		return 0;
	return (int64_t)((next - now + 999999) / 1000000);
}

static void ingest(struct dir *d, uint8_t *data, size_t len, uint64_t now)
{
	d->c.rx++;
	d->c.rx_bytes += len;
	bool ours = len >= 14 && ((uint16_t)(data[12] << 8 | data[13])) == ethertype;
	if (!ours) {
		d->c.passthrough++;
		fifo_push(&d->outq, frame_new(data, len));
		return;
	}
	d->c.rx_ours++;
	if (chance(&d->rng, p_loss)) {
		d->c.dropped++;
		return;
	}
	struct frame *f = frame_new(data, len);
	if (chance(&d->rng, p_corrupt) && len > 14) {
		int bits = 1 + (int)(rnd(&d->rng) % 3);
		for (int i = 0; i < bits; i++) {
			size_t pos = 14 + rnd(&d->rng) % (len - 14);
			f->data[pos] ^= (uint8_t)(1u << (rnd(&d->rng) % 8));
		}
		d->c.corrupted++;
	}
	struct frame *dup = NULL;
	if (chance(&d->rng, p_dup)) {
		dup = frame_new(f->data, len);
		d->c.duplicated++;
	}
	if (chance(&d->rng, p_reorder)) {
		f->reorder = true;
		d->c.reordered++;
	}
	if (delay_ms) {
		f->due_ns = now + (uint64_t)delay_ms * 1000000u;
		fifo_push(&d->delay_line, f);
		d->c.delayed++;
		if (dup) {
			dup->due_ns = f->due_ns;
			fifo_push(&d->delay_line, dup);
		}
	} else {
		release(d, f, now);
		if (dup)
			release(d, dup, now);
	}
}

/* Reads one batch. Returns frames read, 0 if none, -errno if the device is gone. */
static int read_batch(struct dir *d)
{
	static uint8_t bufs[BATCH][FRAME_CAP];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_ll from[BATCH];
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ bufs[i], FRAME_CAP };
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &from[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
	}
	int n = recvmmsg(d->rx_fd, msgs, BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		return -errno;
	}
	uint64_t now = now_ns();
	for (int i = 0; i < n; i++) {
		if (from[i].sll_pkttype == PACKET_OUTGOING)
			continue;
		if (msgs[i].msg_len > FRAME_CAP || (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)) {
			d->c.truncated++;
			continue;
		}
		ingest(d, bufs[i], msgs[i].msg_len, now);
	}
	return n;
}

/* Sends what is queued. Returns 0, or -EAGAIN when the socket is full. */
static int flush(struct dir *d)
{
	while (d->outq.head) {
		struct mmsghdr msgs[BATCH];
		struct iovec iov[BATCH];
		int n = 0;
		memset(msgs, 0, sizeof(msgs));
		for (struct frame *f = d->outq.head; f && n < BATCH; f = f->next, n++) {
			iov[n] = (struct iovec){ f->data, f->len };
			msgs[n].msg_hdr.msg_iov = &iov[n];
			msgs[n].msg_hdr.msg_iovlen = 1;
		}
		int r = sendmmsg(d->tx_fd, msgs, (unsigned)n, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -EAGAIN;
			if (errno == EINTR)
				continue;
			/* the first frame could not go (ENOBUFS, EMSGSIZE, ENETDOWN...): drop it */
			r = 0;
			struct frame *f = fifo_pop(&d->outq);
			d->c.tx_errors++;
			free(f);
		}
		for (int i = 0; i < r; i++) {
			struct frame *f = fifo_pop(&d->outq);
			d->c.tx++;
			d->c.tx_bytes += f->len;
			free(f);
		}
	}
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: faultfwd --a IFACE --b IFACE [--loss PCT] [--dup PCT] [--reorder PCT]\n"
		"                [--corrupt PCT] [--delay MS] [--hold-ms MS] [--seed N]\n"
		"                [--ethertype 0xNNNN] [--stats FILE]\n");
}

static double parse_pct(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || v < 0 || v > 100) {
		fprintf(stderr, "faultfwd: --%s: bad percentage '%s'\n", opt, s);
		exit(2);
	}
	return v / 100.0;
}

static unsigned long long parse_num(const char *opt, const char *s, unsigned long long max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v > max || s[0] == '-') {
		fprintf(stderr, "faultfwd: --%s: bad number '%s'\n", opt, s);
		exit(2);
	}
	return v;
}

static bool iface_gone(const char *name)
{
	return if_nametoindex(name) == 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "a", required_argument, NULL, 'a' },
		{ "b", required_argument, NULL, 'b' },
		{ "loss", required_argument, NULL, 'l' },
		{ "dup", required_argument, NULL, 'd' },
		{ "reorder", required_argument, NULL, 'r' },
		{ "corrupt", required_argument, NULL, 'c' },
		{ "delay", required_argument, NULL, 'D' },
		{ "hold-ms", required_argument, NULL, 'H' },
		{ "seed", required_argument, NULL, 's' },
		{ "ethertype", required_argument, NULL, 'e' },
		{ "stats", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'a': if_a = optarg; break;
		case 'b': if_b = optarg; break;
		case 'l': p_loss = parse_pct("loss", optarg); break;
		case 'd': p_dup = parse_pct("dup", optarg); break;
		case 'r': p_reorder = parse_pct("reorder", optarg); break;
		case 'c': p_corrupt = parse_pct("corrupt", optarg); break;
		case 'D': delay_ms = (unsigned)parse_num("delay", optarg, 60000); break;
		case 'H': hold_ms = (unsigned)parse_num("hold-ms", optarg, 60000); break;
		case 's': seed = parse_num("seed", optarg, UINT64_MAX); break;
		case 'e': ethertype = (uint16_t)parse_num("ethertype", optarg, 0xffff); break;
		case 'S': stats_path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!if_a || !if_b || optind != argc) {
		usage(stderr);
		return 2;
	}

	sigset_t block, empty;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigemptyset(&empty);
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	int ia, ib;
	int fa = open_iface(if_a, &ia), fb = open_iface(if_b, &ib);
	dirs[0] = (struct dir){ .name = "a2b", .rx_fd = fa, .tx_fd = fb, .rng = seed * 2 + 1 };
	dirs[1] = (struct dir){ .name = "b2a", .rx_fd = fb, .tx_fd = fa, .rng = seed * 2 + 2 };
	(void)rnd(&dirs[0].rng);
	(void)rnd(&dirs[1].rng);
	poll_kernel_drops(); /* reset the kernel's counters */
	dirs[0].c.kernel_drops = dirs[1].c.kernel_drops = 0;
	dump_stats(); /* also says "ready" to whoever started us */

	int rc = 0;
	bool blocked[2] = { false, false }; /* tx side of dir i is full */
	while (!want_exit) {
		if (want_stats) {
			want_stats = 0;
			dump_stats();
		}
		uint64_t now = now_ns();
		for (int i = 0; i < 2; i++)
			run_timers(&dirs[i], now);
		for (int i = 0; i < 2; i++)
			blocked[i] = flush(&dirs[i]) == -EAGAIN;

		/* fds: 0 = a, 1 = b. dir 0 reads a and writes b. */
		struct pollfd pfd[2] = { { .fd = fa }, { .fd = fb } };
		for (int i = 0; i < 2; i++) {
			if (dirs[i].outq.n < OUTQ_HIGH)
				pfd[i].events |= POLLIN;  /* dir i reads fd i */
			if (blocked[i])
				pfd[1 - i].events |= POLLOUT; /* and writes fd 1-i */
		}
		int64_t to = next_timer_ms(now);
		struct timespec ts, *tsp = NULL;
		if (to >= 0) {
			ts.tv_sec = to / 1000;
			ts.tv_nsec = (to % 1000) * 1000000;
			tsp = &ts;
		}
		int n = ppoll(pfd, 2, tsp, &empty);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("faultfwd: ppoll");
			rc = 1;
			break;
		}
		bool gone = false;
		for (int i = 0; i < 2; i++) {
			if (pfd[i].revents & (POLLERR | POLLNVAL)) {
				int err = 0;
				socklen_t el = sizeof(err);
				getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &err, &el);
				if (iface_gone(i == 0 ? if_a : if_b))
					gone = true;
			}
			if (pfd[i].revents & POLLIN) {
				/* drain a few batches, then let the other side run */
				for (int k = 0; k < 8; k++) {
					int r = read_batch(&dirs[i]);
					if (r < 0) {
						if (iface_gone(i == 0 ? if_a : if_b))
							gone = true;
						break;
					}
					if (r < BATCH)
						break;
					if (dirs[i].outq.n >= OUTQ_HIGH)
						break;
				}
			}
		}
		if (gone) {
			fprintf(stderr, "faultfwd: an interface disappeared, exiting\n");
			break;
		}
	}
	for (int i = 0; i < 2; i++)
		flush(&dirs[i]);
	dump_stats();
	for (int i = 0; i < 2; i++) {
		fifo_free(&dirs[i].delay_line);
		fifo_free(&dirs[i].hold);
		fifo_free(&dirs[i].outq);
	}
	close(fa);
	close(fb);
	return rc;
}
