/*
 * linkbench — one end of a transport benchmark, over the usbfarm link or TCP,
 * with the same workload and the same measurement code for both.
 *
 *   linkbench --link IFACE          --role a|b --test bulk|rpc [options]
 *   linkbench --tcp ADDR:PORT       --role a|b --test bulk|rpc [options]
 *
 * Role a is the client (hub side; for TCP it connects), b the server (board
 * side; for TCP it listens on ADDR:PORT).
 *
 *   --test bulk --bytes N [--chunk C]   both ends send N bytes at the same
 *        time (link: messages of C bytes, default 1 MiB, at most --window
 *        bytes unacknowledged; TCP: one connection, full duplex). Each end
 *        reports how long it took to receive the peer's N bytes.
 *   --test rpc --count N --size S --streams K   a sends N requests of S bytes
 *        (default 64 KiB), K outstanding at a time (link: one per stream on
 *        K streams; TCP: K connections, one per stream, 4-byte length
 *        framing), b answers each with S bytes on the same stream/connection.
 *        a reports the request/reply pairs completed per second.
 *
 * Payload: pseudo-random bytes (incompressible: the link's compression must
 * not inflate its goodput; with compression on, as by default, it pays the
 * cost of finding out). The clock starts when the session is up (link) or
 * the connection(s) established (TCP). CPU: getrusage(RUSAGE_SELF) at exit,
 * user+sys of the whole process. Output: `name value` lines on stdout.
 * Exit 0, 1 on error, 4 on --timeout-s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "link.h"
#include "clock.h"
#include "../lib/tool.h"

#define CTRL_STREAM 0xFFFF0000u

static const char *o_link, *o_tcp, *o_test = "bulk";
static char o_role = 'a';
static uint64_t o_bytes = 256ull << 20;
static size_t o_chunk = 1u << 20, o_size = 64u << 10, o_window = 8u << 20;
static uint32_t o_count = 1000, o_streams = 16;
static long o_timeout_s = 120;
static bool o_no_compress;

static uint8_t *payload; /* max(chunk, size) random bytes, shared by all sends */
static size_t payload_len;

static void die(const char *what)
{
	fprintf(stderr, "linkbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* ---- results, common to both modes ---- */
static uint64_t t_start, t_rx_done, t_end;
static uint64_t rx_bytes, tx_bytes, rpc_done;

static void report(const char *mode, int rc)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	double cs = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	printf("mode %s\ntest %s\nrole %c\nresult %s\n", mode, o_test, o_role, rc == 0 ? "ok" : rc == 4 ? "timeout" : "error");
	printf("rx_bytes %" PRIu64 "\ntx_bytes %" PRIu64 "\n", rx_bytes, tx_bytes);
	printf("rx_ms %.3f\n", t_rx_done > t_start ? (t_rx_done - t_start) / 1000.0 : 0.0);
	printf("elapsed_ms %.3f\n", t_end > t_start ? (t_end - t_start) / 1000.0 : 0.0);
	if (!strcmp(o_test, "rpc"))
		printf("rpc_done %" PRIu64 "\n", rpc_done);
	printf("cpu_user_s %.3f\ncpu_sys_s %.3f\ncpu_s %.3f\n", cu, cs, cu + cs);
}

/* ======================= the usbfarm link ======================= */
static struct link *L;
static bool l_up, l_peer_done, l_done_sent, l_failed;
static uint64_t l_queued;		/* bulk: bytes handed to link_send */
static uint32_t l_sent_rpc, *l_busy;	/* rpc (a): requests sent; per-stream outstanding */

static void l_up_cb(struct link *l, const struct link_peer *peer, void *u)
{
	(void)l; (void)peer; (void)u;
	if (!l_up && !t_start)
		t_start = now_us();
	l_up = true;
}

static void l_down_cb(struct link *l, int reason, void *u)
{
	(void)l; (void)u;
	fprintf(stderr, "linkbench: session down: %s\n", strerror(-reason));
	l_up = false;
	l_failed = true;
}

static void l_msg_cb(struct link *l, uint32_t stream, uint8_t *data, size_t len, void *u)
{
	(void)u;
	free(data);
	if (stream == CTRL_STREAM) {
		l_peer_done = true;
		return;
	}
	rx_bytes += len;
	if (!strcmp(o_test, "bulk")) {
		if (rx_bytes >= o_bytes && !t_rx_done)
			t_rx_done = now_us();
		return;
	}
	if (o_role == 'b') {
		/* the reply, on the same stream */
		if (link_send(l, stream, payload, o_size, NULL) == 0)
			tx_bytes += o_size;
		else
			l_failed = true;
		return;
	}
	rpc_done++;
	if (stream < o_streams)
		l_busy[stream] = 0;
	if (rpc_done >= o_count && !t_rx_done)
		t_rx_done = now_us();
}

static void l_sent_cb(struct link *l, uint64_t id, int status, void *u)
{
	(void)l; (void)id; (void)u;
	if (status)
		l_failed = true;
}

static void l_feed(void)
{
	if (!l_up)
		return;
	if (!strcmp(o_test, "bulk")) {
		while (l_queued < o_bytes && link_send_backlog(L) < o_window) {
			size_t n = o_bytes - l_queued < o_chunk ? (size_t)(o_bytes - l_queued) : o_chunk;
			if (link_send(L, (uint32_t)((l_queued / o_chunk) % o_streams), payload, n, NULL) < 0)
				return;
			l_queued += n;
			tx_bytes += n;
		}
	} else if (o_role == 'a') {
		for (uint32_t s = 0; s < o_streams && l_sent_rpc < o_count; s++) {
			if (l_busy[s])
				continue;
			if (link_send(L, s, payload, o_size, NULL) < 0)
				return;
			l_busy[s] = 1;
			l_sent_rpc++;
			tx_bytes += o_size;
		}
	}
}

static bool l_my_part_done(void)
{
	if (!strcmp(o_test, "bulk"))
		return rx_bytes >= o_bytes && l_queued >= o_bytes && link_send_backlog(L) == 0;
	if (o_role == 'a')
		return rpc_done >= o_count;
	return l_peer_done; /* the server is done when the client says so */
}

static int run_link(void)
{
	struct link_io *io;
	int r = link_io_packet(o_link, &io);
	if (r < 0) {
		fprintf(stderr, "linkbench: link_io_packet(%s): %s\n", o_link, strerror(-r));
		return 1;
	}
	struct link_config cfg = { .ident = o_role == 'a' ? "bench-a" : "bench-b", .no_compress = o_no_compress };
	struct link_callbacks cb = { .up = l_up_cb, .down = l_down_cb, .message = l_msg_cb, .sent = l_sent_cb };
	r = link_new(io, &cfg, &cb, NULL, &L);
	if (r < 0) {
		fprintf(stderr, "linkbench: link_new: %s\n", strerror(-r));
		return 1;
	}
	l_busy = calloc(o_streams, sizeof(uint32_t));
	uint64_t deadline = now_us() + (uint64_t)o_timeout_s * 1000000, linger = 0;
	int rc = 0;
	for (;;) {
		l_feed();
		uint64_t now = now_us();
		if (!l_done_sent && l_up && l_my_part_done()) {
			if (!t_end)
				t_end = now;
			if (link_send(L, CTRL_STREAM, "done", 4, NULL) == 0)
				l_done_sent = true;
		}
		if (l_done_sent && l_peer_done && !linger)
			linger = now + 300000; /* acknowledge the peer's last retransmissions */
		if (linger && now >= linger)
			break;
		if (l_failed && !linger) {
			rc = 1;
			break;
		}
		if (now >= deadline) {
			rc = 4;
			break;
		}
		struct pollfd p = { .fd = link_fd(L), .events = POLLIN };
		if (link_want_write(L))
			p.events |= POLLOUT;
		int to = link_timeout_ms(L);
		if (to < 0 || to > 100)
			to = 100;
		if (poll(&p, 1, to) < 0 && errno != EINTR)
			die("poll");
		if (link_process(L) < 0) {
			rc = 1;
			break;
		}
	}
	if (!t_end)
		t_end = now_us();
	report("link", rc);
	struct link_stats st;
	link_get_stats(L, &st);
	printf("link.frames_tx %" PRIu64 "\nlink.frames_rx %" PRIu64 "\nlink.retransmits %" PRIu64
	       "\nlink.bytes_tx %" PRIu64 "\nlink.bytes_rx %" PRIu64 "\nlink.srtt_us %u\nlink.cwnd %u\n",
	       st.frames_tx, st.frames_rx, st.retransmits, st.bytes_tx, st.bytes_rx, st.srtt_us, st.cwnd);
	printf("link.timeouts %" PRIu64 "\nlink.drop_dup %" PRIu64 "\nlink.drop_window %" PRIu64 "\n",
	       st.timeouts, st.drop_dup, st.drop_window);
	link_free(L);
	free(l_busy);
	return rc;
}

/* ============================ TCP ============================ */
struct conn {
	int fd;
	/* tx */
	uint64_t tx_left;	/* bulk: bytes still to write; rpc: bytes of the current frame */
	size_t tx_off;
	uint8_t hdr[4];
	bool tx_hdr_done;
	/* rx */
	uint8_t rhdr[4];
	size_t rhdr_got;
	uint64_t rx_left;	/* rpc: bytes of the current frame still to read */
};

static struct sockaddr_in tcp_addr(void)
{
	char host[64];
	const char *colon = strrchr(o_tcp, ':');
	if (!colon || (size_t)(colon - o_tcp) >= sizeof(host)) {
		fprintf(stderr, "linkbench: --tcp ADDR:PORT\n");
		exit(2);
	}
	memcpy(host, o_tcp, (size_t)(colon - o_tcp));
	host[colon - o_tcp] = 0;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1)) };
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "linkbench: bad address %s\n", host);
		exit(2);
	}
	return sa;
}

static void set_nb(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	int one = 1;
	if (!strcmp(o_test, "rpc"))
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* rpc frame start on c: a 4-byte length and o_size bytes */
static void tcp_start_frame(struct conn *c)
{
	uint32_t n = htonl((uint32_t)o_size);
	memcpy(c->hdr, &n, 4);
	c->tx_hdr_done = false;
	c->tx_off = 0;
	c->tx_left = o_size;
}

/* Writes what it can. Returns -1 on error. */
static int tcp_write(struct conn *c)
{
	while (c->tx_left || (!c->tx_hdr_done && !strcmp(o_test, "rpc") && c->tx_left)) {
		struct iovec iov[2];
		int n = 0;
		if (!strcmp(o_test, "rpc") && !c->tx_hdr_done) {
			iov[n++] = (struct iovec){ c->hdr + c->tx_off, 4 - c->tx_off };
			iov[n++] = (struct iovec){ payload, (size_t)c->tx_left };
		} else {
			size_t len = c->tx_left < payload_len ? (size_t)c->tx_left : payload_len;
			iov[n++] = (struct iovec){ payload, len };
		}
		ssize_t w = writev(c->fd, iov, n);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -1;
		}
		size_t ww = (size_t)w;
		if (!strcmp(o_test, "rpc") && !c->tx_hdr_done) {
			size_t h = 4 - c->tx_off;
			if (ww < h) {
				c->tx_off += ww;
				continue;
			}
			ww -= h;
			c->tx_hdr_done = true;
		}
		c->tx_left -= ww;
		tx_bytes += ww;
	}
	return 0;
}

static uint8_t rbuf[1 << 20];

/* Reads what it can; for rpc returns the number of whole frames completed. */
static int tcp_read(struct conn *c, bool *eof)
{
	int frames = 0;
	for (;;) {
		if (!strcmp(o_test, "rpc") && c->rx_left == 0) {
			ssize_t r = read(c->fd, c->rhdr + c->rhdr_got, 4 - c->rhdr_got);
			if (r == 0) { *eof = true; return frames; }
			if (r < 0) return errno == EAGAIN || errno == EINTR ? frames : -1;
			c->rhdr_got += (size_t)r;
			if (c->rhdr_got < 4)
				continue;
			uint32_t n;
			memcpy(&n, c->rhdr, 4);
			c->rx_left = ntohl(n);
			c->rhdr_got = 0;
			if (c->rx_left == 0) {
				frames++;
				continue;
			}
		}
		size_t want = sizeof(rbuf);
		if (!strcmp(o_test, "rpc") && c->rx_left < want)
			want = (size_t)c->rx_left;
		ssize_t r = read(c->fd, rbuf, want);
		if (r == 0) { *eof = true; return frames; }
		if (r < 0) return errno == EAGAIN || errno == EINTR ? frames : -1;
		rx_bytes += (uint64_t)r;
		if (!strcmp(o_test, "rpc")) {
			c->rx_left -= (uint64_t)r;
			if (c->rx_left == 0)
				frames++;
		}
	}
}

static int run_tcp(void)
{
	struct sockaddr_in sa = tcp_addr();
	uint32_t nconn = !strcmp(o_test, "rpc") ? o_streams : 1;
	struct conn *cs = calloc(nconn, sizeof(*cs));
	if (o_role == 'b') {
		int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int one = 1;
		setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 128) < 0)
			die("listen");
		printf("listening\n");
		fflush(stdout);
		for (uint32_t i = 0; i < nconn; i++) {
			cs[i].fd = accept(ls, NULL, NULL);
			if (cs[i].fd < 0)
				die("accept");
			set_nb(cs[i].fd);
		}
		close(ls);
	} else {
		for (uint32_t i = 0; i < nconn; i++) {
			int tries = 0;
			for (;;) {
				cs[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
				if (connect(cs[i].fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
					break;
				close(cs[i].fd);
				if (++tries > 100)
					die("connect");
				usleep(50000);
			}
			set_nb(cs[i].fd);
		}
	}
	t_start = now_us();
	uint32_t rpc_sent = 0;
	if (!strcmp(o_test, "bulk")) {
		cs[0].tx_left = o_bytes;
	} else if (o_role == 'a') {
		for (uint32_t i = 0; i < nconn && rpc_sent < o_count; i++, rpc_sent++)
			tcp_start_frame(&cs[i]);
	}
	uint64_t deadline = now_us() + (uint64_t)o_timeout_s * 1000000;
	struct pollfd *p = calloc(nconn, sizeof(*p));
	int rc = 0;
	uint32_t eofs = 0;
	bool *eof = calloc(nconn, sizeof(bool));
	for (;;) {
		bool done;
		if (!strcmp(o_test, "bulk"))
			done = rx_bytes >= o_bytes && cs[0].tx_left == 0;
		else if (o_role == 'a')
			done = rpc_done >= o_count;
		else
			done = eofs == nconn;
		if (done)
			break;
		if (now_us() >= deadline) {
			rc = 4;
			break;
		}
		for (uint32_t i = 0; i < nconn; i++) {
			p[i] = (struct pollfd){ .fd = eof[i] ? -1 : cs[i].fd, .events = POLLIN };
			if (cs[i].tx_left)
				p[i].events |= POLLOUT;
		}
		if (poll(p, nconn, 100) < 0 && errno != EINTR)
			die("poll");
		for (uint32_t i = 0; i < nconn; i++) {
			struct conn *c = &cs[i];
			if (p[i].revents & POLLOUT && tcp_write(c) < 0)
				die("write");
			if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
				bool e = false;
				int f = tcp_read(c, &e);
				if (f < 0)
					die("read");
				if (e && !eof[i]) {
					eof[i] = true;
					eofs++;
				}
				if (!strcmp(o_test, "bulk")) {
					if (rx_bytes >= o_bytes && !t_rx_done)
						t_rx_done = now_us();
					continue;
				}
				for (int k = 0; k < f; k++) {
					if (o_role == 'b') {
						/* one reply per request: requests are strictly alternating */
						tcp_start_frame(c);
					} else {
						rpc_done++;
						if (rpc_sent < o_count) {
							tcp_start_frame(c);
							rpc_sent++;
						}
					}
				}
				if (c->tx_left && tcp_write(c) < 0)
					die("write");
				if (o_role == 'a' && rpc_done >= o_count && !t_rx_done)
					t_rx_done = now_us();
			}
		}
	}
	t_end = now_us();
	for (uint32_t i = 0; i < nconn; i++)
		close(cs[i].fd);
	report("tcp", rc);
	free(cs);
	free(p);
	free(eof);
	return rc;
}

static unsigned long long num(const char *o, const char *s)
{
	return tool_num("linkbench", o, s);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "link", 1, NULL, 'l' }, { "tcp", 1, NULL, 't' }, { "role", 1, NULL, 'r' },
		{ "test", 1, NULL, 'T' }, { "bytes", 1, NULL, 'B' }, { "chunk", 1, NULL, 'c' },
		{ "count", 1, NULL, 'n' }, { "size", 1, NULL, 's' }, { "streams", 1, NULL, 'k' },
		{ "window", 1, NULL, 'w' }, { "timeout-s", 1, NULL, 'o' }, { "no-compress", 0, NULL, 'z' },
		{ 0 }
	};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'l': o_link = optarg; break;
		case 't': o_tcp = optarg; break;
		case 'r': o_role = optarg[0]; break;
		case 'T': o_test = optarg; break;
		case 'B': o_bytes = num("bytes", optarg); break;
		case 'c': o_chunk = num("chunk", optarg); break;
		case 'n': o_count = (uint32_t)num("count", optarg); break;
		case 's': o_size = num("size", optarg); break;
		case 'k': o_streams = (uint32_t)num("streams", optarg); break;
		case 'w': o_window = num("window", optarg); break;
		case 'o': o_timeout_s = (long)num("timeout-s", optarg); break;
		case 'z': o_no_compress = true; break;
		default: return 2;
		}
	}
	if (!!o_link == !!o_tcp || (o_role != 'a' && o_role != 'b') ||
	    (strcmp(o_test, "bulk") && strcmp(o_test, "rpc")) || !o_chunk || !o_streams || !o_size) {
		fprintf(stderr, "usage: linkbench --link IFACE|--tcp ADDR:PORT --role a|b --test bulk|rpc\n"
				"       [--bytes N] [--chunk C] [--count N] [--size S] [--streams K]\n"
				"       [--window W] [--timeout-s T] [--no-compress]\n");
		return 2;
	}
	payload_len = o_chunk > o_size ? o_chunk : o_size;
	payload = malloc(payload_len);
	uint64_t s = 0x243F6A8885A308D3ull;
	for (size_t i = 0; i < payload_len; i++) {
		s ^= s << 13; s ^= s >> 7; s ^= s << 17;
		payload[i] = (uint8_t)(s >> 24);
	}
	int rc = o_link ? run_link() : run_tcp();
	free(payload);
	return rc;
}
