/*
 * fuzz_link.c — a link fed frames from the fuzzer through a fake link_io.
 * Input: records of [u8 flags][u16 length][bytes]. Flags: bit 0 fix the
 * CRC, bit 1 write our session epoch as the destination (so frames reach the
 * session and reassembly logic), bit 2 call link_process after this frame.
 * Everything the link sends is discarded.
 *
 * The link runs with the real caps (max_msg and rx_held_max at their
 * defaults: 256 MiB, 512 MiB), so what a hostile peer can make it hold is
 * what is checked: after every link_process the bytes held by unfinished
 * messages stay under the cap, the open messages under RX_OPEN_MAX (8192),
 * nothing is held outside a session, and every delivered message fits max_msg.
 * (The link itself aborts if it ever delivers a message it has not covered.)
 */
#include "link.h"
#include "frame.h"
#include "crc32c.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EPOCH 0x1111

struct fio {
	struct link_io io;
	const uint8_t *p;
	size_t left;
	bool stop;
};

static int f_send(struct link_io *io, const struct iovec *v, unsigned n)
{
	(void)io;
	(void)v;
	return (int)n;
}

static int f_recv(struct link_io *io, uint8_t **bufs, size_t cap, size_t *lens, unsigned n)
{
	struct fio *f = (struct fio *)io;
	unsigned out = 0;
	while (out < n && f->left >= 3 && !f->stop) {
		uint8_t fl = f->p[0];
		size_t len = (size_t)(f->p[1] << 8 | f->p[2]);
		f->p += 3;
		f->left -= 3;
		if (len > f->left)
			len = f->left;
		if (len > cap)
			len = cap;
		memcpy(bufs[out], f->p, len);
		f->p += len;
		f->left -= len;
		if ((fl & 2) && len >= 20) {
			for (int i = 0; i < 8; i++)
				bufs[out][12 + i] = (uint8_t)((uint64_t)EPOCH >> (56 - 8 * i));
		}
		if ((fl & 1) && len >= 4) {
			uint32_t c = crc32c(0, bufs[out], len - 4);
			bufs[out][len - 4] = (uint8_t)(c >> 24);
			bufs[out][len - 3] = (uint8_t)(c >> 16);
			bufs[out][len - 2] = (uint8_t)(c >> 8);
			bufs[out][len - 1] = (uint8_t)c;
		}
		lens[out++] = len;
		if (fl & 4)
			f->stop = true;
	}
	return (int)out;
}

static int f_fd(struct link_io *io)
{
	(void)io;
	return -1;
}

static void f_close(struct link_io *io)
{
	free(io);
}

static const struct link_io_ops f_ops = { f_send, f_recv, f_fd, f_close };

static void on_msg(struct link *l, uint32_t s, uint8_t *d, size_t n, void *u)
{
	(void)l;
	(void)s;
	(void)u;
	if (n > LINK_MAX_MSG_DEFAULT || !d)
		abort();
	free(d);
}

static void check_caps(const struct link *l)
{
	struct link_stats st;
	link_get_stats(l, &st);
	if (st.rx_held > 2ull * LINK_MAX_MSG_DEFAULT || st.rx_held_peak > 2ull * LINK_MAX_MSG_DEFAULT ||
	    st.rx_open > 8192 || (link_state(l) != LINK_UP && (st.rx_held || st.rx_open))) {
		fprintf(stderr, "fuzz_link: caps broken: held %llu peak %llu open %u state %s\n",
			(unsigned long long)st.rx_held, (unsigned long long)st.rx_held_peak, st.rx_open,
			link_state_name(link_state(l)));
		abort();
	}
}

static void on_up(struct link *l, const struct link_peer *p, void *u)
{
	(void)p;
	(void)u;
	link_send(l, 1, "hello", 5, NULL);
	link_send(l, 2, NULL, 0, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fio *f = calloc(1, sizeof *f);
	struct link *l;
	struct link_config cfg = { .ident = "fuzz", .epoch = EPOCH }; /* the real caps */
	struct link_callbacks cb = { .up = on_up, .message = on_msg };

	f->io.ops = &f_ops;
	f->io.mtu = 1500;
	f->p = data;
	f->left = size;
	if (link_new(&f->io, &cfg, &cb, NULL, &l) < 0)
		return 0;
	for (int i = 0; i < 64 && f->left >= 3; i++) {
		f->stop = false;
		int rc = link_process(l);
		check_caps(l);
		if (rc < 0)
			break;
	}
	link_free(l);
	return 0;
}
