/*
 * linkframes — raw usbfarm-EtherType frames for testing what sits between
 * two link ends (the fault forwarder, shaping), without the transport.
 *
 *   linkframes send --iface IF --count N [--seed S] [--batch B] [--pause-us U]
 *   linkframes recv --iface IF [--seed S] [--linger-ms MS]
 *
 * `send` sends N frames of EtherType 0x88B5 (random sizes 64..MTU, content
 * derived from (seed, sequence number)) to the broadcast address, B frames
 * per sendmmsg with U microseconds between batches (so nothing is lost to
 * queues on the way), then, after a pause, a few end markers of EtherType
 * 0x88B6 (not subject to faults) telling the receiver how many were sent.
 *
 * `recv` counts frames until it sees the end marker (plus --linger-ms, 200
 * by default, for frames still held back), then prints one line per counter:
 *   sent N          (from the end marker)
 *   frames N        every 0x88B5 frame received
 *   intact N        distinct sequence numbers received intact
 *   dups N          intact frames whose sequence number was already seen
 *   corrupt N       frames whose content does not match their sequence number
 *   reordered N     intact frames with a sequence number below the highest seen
 *   missing N       sent - intact
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ET_DATA 0x88B5
#define ET_END 0x88B6
#define MAGIC 0x55464654u /* "UFFT" */
#define HDR 14

static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* payload of frame `seq`: magic, seq, length, then bytes from (seed, seq) */
static size_t fill(uint8_t *p, size_t cap, uint64_t seed, uint32_t seq)
{
	uint64_t s = mix(seed * 0x9E3779B97F4A7C15ull + seq);
	size_t len = 64 + s % (cap - 64 + 1);
	uint32_t v[3] = { htonl(MAGIC), htonl(seq), htonl((uint32_t)len) };
	memcpy(p, v, 12);
	for (size_t i = 12; i < len; i++) {
		if ((i & 7) == 4)
			s = mix(s + i);
		p[i] = (uint8_t)(s >> ((i & 7) * 8));
	}
	return len;
}

static int open_sock(const char *ifname, uint16_t proto, int *ifindex, unsigned *mtu)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(proto));
	if (fd < 0) {
		perror("linkframes: socket");
		exit(1);
	}
	*ifindex = (int)if_nametoindex(ifname);
	if (!*ifindex) {
		fprintf(stderr, "linkframes: no interface %s\n", ifname);
		exit(1);
	}
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(proto),
				   .sll_ifindex = *ifindex };
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("linkframes: bind");
		exit(1);
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	*mtu = ioctl(fd, SIOCGIFMTU, &ifr) == 0 ? (unsigned)ifr.ifr_mtu : 1500;
	int sz = 8 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	return fd;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int do_send(const char *ifname, uint32_t count, uint64_t seed, unsigned batch, long pause_us)
{
	int ifindex;
	unsigned mtu;
	int fd = open_sock(ifname, ET_DATA, &ifindex, &mtu);
	if (mtu > 9000)
		mtu = 9000;
	uint8_t (*bufs)[HDR + 9000] = calloc(batch, sizeof(*bufs));
	struct mmsghdr *msgs = calloc(batch, sizeof(*msgs));
	struct iovec *iov = calloc(batch, sizeof(*iov));
	if (!bufs || !msgs || !iov)
		return 1;
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = ifindex, .sll_halen = 6,
				  .sll_protocol = htons(ET_DATA) };
	memset(to.sll_addr, 0xff, 6);
	uint32_t seq = 0;
	while (seq < count) {
		unsigned n = 0;
		for (; n < batch && seq + n < count; n++) {
			uint8_t *f = bufs[n];
			memset(f, 0xff, 6);
			memset(f + 6, 0x02, 6);
			f[12] = ET_DATA >> 8;
			f[13] = ET_DATA & 0xff;
			size_t len = fill(f + HDR, mtu, seed, seq + n);
			iov[n] = (struct iovec){ f, HDR + len };
			memset(&msgs[n], 0, sizeof(msgs[n]));
			msgs[n].msg_hdr.msg_iov = &iov[n];
			msgs[n].msg_hdr.msg_iovlen = 1;
			msgs[n].msg_hdr.msg_name = &to;
			msgs[n].msg_hdr.msg_namelen = sizeof(to);
		}
		int r = sendmmsg(fd, msgs, n, 0);
		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
				sleep_us(1000);
				continue;
			}
			perror("linkframes: sendmmsg");
			return 1;
		}
		seq += (uint32_t)r;
		if (pause_us)
			sleep_us(pause_us);
	}
	/* let held-back frames out before the end marker overtakes them */
	sleep_us(100000);
	int efd = open_sock(ifname, ET_END, &ifindex, &mtu);
	uint8_t end[HDR + 64];
	memset(end, 0xff, 6);
	memset(end + 6, 0x02, 6);
	end[12] = ET_END >> 8;
	end[13] = ET_END & 0xff;
	memset(end + HDR, 0, 64);
	uint32_t v[2] = { htonl(MAGIC), htonl(count) };
	memcpy(end + HDR, v, 8);
	to.sll_protocol = htons(ET_END);
	for (int i = 0; i < 5; i++) {
		(void)sendto(efd, end, sizeof(end), 0, (struct sockaddr *)&to, sizeof(to));
		sleep_us(20000);
	}
	printf("sent %" PRIu32 "\n", count);
	free(bufs);
	free(msgs);
	free(iov);
	close(fd);
	close(efd);
	return 0;
}

static int do_recv(const char *ifname, uint64_t seed, long linger_ms, long timeout_ms)
{
	int ifindex;
	unsigned mtu;
	int fd = open_sock(ifname, ET_DATA, &ifindex, &mtu);
	int efd = open_sock(ifname, ET_END, &ifindex, &mtu);
	if (mtu > 9000)
		mtu = 9000;
	size_t cap = 1u << 16;
	uint8_t *buf = malloc(cap), *want = malloc(cap);
	size_t seen_cap = 1u << 20;
	uint8_t *seen = calloc(seen_cap, 1);
	if (!buf || !want || !seen)
		return 1;
	uint64_t frames = 0, intact = 0, dups = 0, corrupt = 0, reordered = 0;
	int64_t sent = -1, highest = -1;
	long waited = 0;
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = efd, .events = POLLIN } };
		long to = sent >= 0 ? linger_ms : 1000;
		int n = poll(p, 2, (int)to);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			if (sent >= 0)
				break;
			waited += to;
			if (timeout_ms && waited >= timeout_ms) {
				fprintf(stderr, "linkframes: no end marker after %ld ms\n", waited);
				break;
			}
			continue;
		}
		if (p[1].revents & POLLIN) {
			ssize_t r = recv(efd, buf, cap, 0);
			uint32_t v[2];
			if (r >= HDR + 8) {
				memcpy(v, buf + HDR, 8);
				if (ntohl(v[0]) == MAGIC)
					sent = ntohl(v[1]);
			}
		}
		if (!(p[0].revents & POLLIN))
			continue;
		ssize_t r = recv(fd, buf, cap, 0);
		if (r < 0)
			continue;
		frames++;
		size_t len = (size_t)r;
		uint32_t v[3];
		bool ok = false;
		uint32_t seq = 0;
		if (len >= HDR + 12) {
			memcpy(v, buf + HDR, 12);
			seq = ntohl(v[1]);
			if (ntohl(v[0]) == MAGIC && seq < seen_cap * 8) {
				size_t wl = fill(want, mtu, seed, seq);
				ok = wl == len - HDR && memcmp(want, buf + HDR, wl) == 0;
			}
		}
		if (!ok) {
			corrupt++;
			continue;
		}
		if (seen[seq / 8] & (1u << (seq % 8))) {
			dups++;
			continue;
		}
		seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
		intact++;
		if ((int64_t)seq < highest)
			reordered++;
		else
			highest = seq;
	}
	printf("sent %" PRId64 "\nframes %" PRIu64 "\nintact %" PRIu64 "\ndups %" PRIu64
	       "\ncorrupt %" PRIu64 "\nreordered %" PRIu64 "\nmissing %" PRId64 "\n",
	       sent, frames, intact, dups, corrupt, reordered, sent - (int64_t)intact);
	free(buf);
	free(want);
	free(seen);
	return sent >= 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "batch", required_argument, NULL, 'b' },
		{ "pause-us", required_argument, NULL, 'p' },
		{ "linger-ms", required_argument, NULL, 'l' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ 0 }
	};
	if (argc < 2) {
		fprintf(stderr, "usage: linkframes send|recv --iface IF [options]\n");
		return 2;
	}
	const char *mode = argv[1], *ifname = NULL;
	uint32_t count = 1000;
	uint64_t seed = 1;
	unsigned batch = 16;
	long pause_us = 500, linger_ms = 200, timeout_ms = 60000;
	optind = 2;
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'i': ifname = optarg; break;
		case 'n': count = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'b': batch = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'p': pause_us = strtol(optarg, NULL, 0); break;
		case 'l': linger_ms = strtol(optarg, NULL, 0); break;
		case 't': timeout_ms = strtol(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	if (!ifname || batch < 1 || batch > 1024 || count > (8u << 20)) {
		fprintf(stderr, "linkframes: need --iface; batch 1..1024; count <= 8M\n");
		return 2;
	}
	if (!strcmp(mode, "send"))
		return do_send(ifname, count, seed, batch, pause_us);
	if (!strcmp(mode, "recv"))
		return do_recv(ifname, seed, linger_ms, timeout_ms);
	fprintf(stderr, "linkframes: mode must be send or recv\n");
	return 2;
}
