/*
 * linkcpu — the link's CPU cost without a network: two links in one process
 * over link_io_pair (a SOCK_SEQPACKET socketpair), each sending BYTES to the
 * other at once in 1 MiB messages (incompressible, compression on as by
 * default), at most 8 MiB unacknowledged per direction. Prints
 * `cpu_s_per_gib X` (user+sys of the process per GiB moved, both directions
 * counted) and `wall_s X`. CPU time, unlike bench-link's goodput, hardly
 * depends on what else the machine is running, so it compares two builds of
 * the link on a shared machine.
 *
 *   linkcpu [MIB]     (default 512 MiB each way)
 */
#include "link.h"
#include "clock.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define CHUNK (1u << 20)
#define WINDOW (8u << 20)

struct end {
	struct link *l;
	size_t to_send, rx;
};

static void on_msg(struct link *l, uint32_t s, uint8_t *d, size_t n, void *u)
{
	struct end *e = u;
	(void)l;
	(void)s;
	e->rx += n;
	free(d);
}

static void feed(struct end *e, const uint8_t *payload)
{
	while (e->to_send && link_state(e->l) == LINK_UP && link_send_backlog(e->l) < WINDOW) {
		size_t n = e->to_send < CHUNK ? e->to_send : CHUNK;
		if (link_send(e->l, 1, payload, n, NULL) < 0)
			return;
		e->to_send -= n;
	}
}

int main(int argc, char **argv)
{
	size_t bytes = (size_t)(argc > 1 ? atol(argv[1]) : 512) << 20;
	struct link_io *io[2];
	struct end e[2] = { { NULL, bytes, 0 }, { NULL, bytes, 0 } };
	struct link_callbacks cb = { .message = on_msg };
	struct link_config cfg = { 0 };
	uint8_t *payload = malloc(CHUNK);
	uint64_t s = 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < CHUNK; i++) {
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		payload[i] = (uint8_t)s;
	}
	if (!payload || link_io_pair(1500, io) < 0 || link_new(io[0], &cfg, &cb, &e[0], &e[0].l) < 0 ||
	    link_new(io[1], &cfg, &cb, &e[1], &e[1].l) < 0) {
		fprintf(stderr, "linkcpu: setup failed\n");
		return 1;
	}
	uint64_t t0 = now_us(), end = t0 + 600000000ull;
	while ((e[0].rx < bytes || e[1].rx < bytes) && now_us() < end) {
		struct pollfd p[2];
		int t = 50;
		for (int i = 0; i < 2; i++) {
			feed(&e[i], payload);
			int lt = link_timeout_ms(e[i].l);
			if (lt >= 0 && lt < t)
				t = lt;
			p[i].fd = link_fd(e[i].l);
			p[i].events = (short)(POLLIN | (link_want_write(e[i].l) ? POLLOUT : 0));
		}
		poll(p, 2, t);
		for (int i = 0; i < 2; i++)
			link_process(e[i].l);
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		     (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	double gib = (double)(e[0].rx + e[1].rx) / (1u << 30);
	printf("result %s\ncpu_s_per_gib %.3f\nwall_s %.3f\n",
	       e[0].rx >= bytes && e[1].rx >= bytes ? "ok" : "timeout", gib > 0 ? cpu / gib : 0,
	       (double)(now_us() - t0) / 1e6);
	link_free(e[0].l);
	link_free(e[1].l);
	free(payload);
	return 0;
}
