/*
 * rawio.c — the link's frame I/O: an AF_PACKET socket on one interface
 * (link_io_packet) and a SOCK_SEQPACKET socketpair for tests (link_io_pair).
 * Both batch with sendmmsg and never block.
 *
 * Receiving on AF_PACKET goes through a PACKET_MMAP ring (TPACKET_V2,
 * packet_mmap.rst): no receive syscall and no per-frame socket buffer while
 * frames are waiting, the link reads them in place (one copy). TPACKET_V3
 * would wake the poller once per block instead of per frame, but it hands
 * over a block that is not full only on its retire timer (a jiffy or more,
 * 4 ms at HZ=250), which costs request/reply latency. Without the
 * ring (setsockopt refused) it falls back to recvmmsg. Device errors the
 * kernel reports on the socket (sk_err: ENETDOWN when the device goes down)
 * are picked up with SO_ERROR when the ring is empty.
 *
 * An AF_PACKET I/O is made in two halves (rawio.h): the socket, its ring
 * request, forced buffer sizes and bind need CAP_NET_RAW/CAP_NET_ADMIN
 * (link_io_packet_socket); adopting it (checks, ring mapping, MTU) needs
 * nothing (link_io_packet_adopt), so hubd's dispatcher holds no capability.
 */
#include "rawio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define IO_BATCH 64
#define RING_BLOCK (1u << 17)	/* bytes per ring block */
#define RING_BLOCKS 32
#define RING_FRAME 2048		/* bytes per ring slot: header, address, frame */
#define RING_FRAMES (RING_BLOCK / RING_FRAME * RING_BLOCKS)

struct rawio {
	struct link_io io;
	int fd;
	bool packet;		/* AF_PACKET (else socketpair) */
	int ifindex;
	bool have_peer;
	uint8_t peer[ETH_ALEN];
	/* TPACKET_V2 receive ring (ring == NULL: recvmmsg) */
	uint8_t *ring;
	size_t ring_len;
	unsigned slot;			/* the next slot to read */
};

static int map_err(int e)
{
	switch (e) {
	case ENXIO:
	case ENODEV:
	case EPIPE:
	case ECONNRESET:
	case ENOTCONN:
		return -ENODEV;
	case ENETDOWN:
	case ENETUNREACH:
		return -ENETDOWN;
	case ENOBUFS: /* qdisc full: try again later, not a loss */
		return -ENOBUFS;
	case EWOULDBLOCK:
	case EINTR:
	case ENOMEM:
		return -EAGAIN;
	default:
		return -e;
	}
}

static int raw_send(struct link_io *io, const struct iovec *frames, unsigned n)
{
	struct rawio *r = (struct rawio *)io;
	struct mmsghdr mm[IO_BATCH];
	struct sockaddr_ll to;
	unsigned done = 0;

	if (r->packet) {
		memset(&to, 0, sizeof to);
		to.sll_family = AF_PACKET;
		to.sll_protocol = htons(LINK_ETHERTYPE);
		to.sll_ifindex = r->ifindex;
		to.sll_halen = ETH_ALEN;
		if (r->have_peer)
			memcpy(to.sll_addr, r->peer, ETH_ALEN);
		else
			memset(to.sll_addr, 0xff, ETH_ALEN);
	}
	while (done < n) {
		unsigned k = n - done < IO_BATCH ? n - done : IO_BATCH;
		memset(mm, 0, sizeof(mm[0]) * k);
		for (unsigned i = 0; i < k; i++) {
			mm[i].msg_hdr.msg_iov = (struct iovec *)&frames[done + i];
			mm[i].msg_hdr.msg_iovlen = 1;
			if (r->packet) {
				mm[i].msg_hdr.msg_name = &to;
				mm[i].msg_hdr.msg_namelen = sizeof to;
			}
		}
		int rc = sendmmsg(r->fd, mm, k, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (rc < 0) {
			int e = map_err(errno);
			if (e == -EAGAIN || done)
				return (int)done;
			return e;
		}
		done += (unsigned)rc;
		if ((unsigned)rc < k)
			break;
	}
	return (int)done;
}

static void learn_peer(struct rawio *r, const struct sockaddr_ll *from)
{
	if (from->sll_halen == ETH_ALEN && !(from->sll_addr[0] & 1) &&
	    (!r->have_peer || memcmp(r->peer, from->sll_addr, ETH_ALEN))) {
		memcpy(r->peer, from->sll_addr, ETH_ALEN);
		r->have_peer = true;
	}
}

/* Copies up to n frames out of the ring's user-owned slots, in order. */
static int ring_recv(struct rawio *r, uint8_t **bufs, size_t cap, size_t *lens, unsigned n)
{
	int out = 0;

	while ((unsigned)out < n) {
		struct tpacket2_hdr *h = (void *)(r->ring + (size_t)r->slot * RING_FRAME);
		uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
		if (!(st & TP_STATUS_USER))
			break;
		const struct sockaddr_ll *from =
			(const void *)((const uint8_t *)h + TPACKET_ALIGN(sizeof *h));
		size_t len = h->tp_snaplen;
		/* the kernel's layout, checked anyway */
		if (h->tp_net >= TPACKET2_HDRLEN && h->tp_net <= RING_FRAME &&
		    len <= (size_t)(RING_FRAME - h->tp_net) && from->sll_pkttype != PACKET_OUTGOING) {
			learn_peer(r, from);
			if (len > cap)
				len = cap; /* truncated: its checksum will not match */
			memcpy(bufs[out], (const uint8_t *)h + h->tp_net, len);
			lens[out++] = len;
		}
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		r->slot = (r->slot + 1) % RING_FRAMES;
	}
	if (out == 0) {
		/* nothing waiting: an error the kernel left on the socket? */
		int err = 0;
		socklen_t el = sizeof err;
		if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err) {
			int e = map_err(err);
			if (e != -EAGAIN && e != -ENOBUFS)
				return e;
		}
	}
	return out;
}

static int raw_recv(struct link_io *io, uint8_t **bufs, size_t cap, size_t *lens, unsigned n)
{
	struct rawio *r = (struct rawio *)io;
	struct mmsghdr mm[IO_BATCH];
	struct iovec iov[IO_BATCH];
	struct sockaddr_ll from[IO_BATCH];
	int rc, out = 0;

	if (r->ring)
		return ring_recv(r, bufs, cap, lens, n);
	if (n > IO_BATCH)
		n = IO_BATCH;
	memset(mm, 0, sizeof(mm[0]) * n);
	for (unsigned i = 0; i < n; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = cap;
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		if (r->packet) {
			mm[i].msg_hdr.msg_name = &from[i];
			mm[i].msg_hdr.msg_namelen = sizeof from[i];
		}
	}
	rc = recvmmsg(r->fd, mm, n, MSG_DONTWAIT, NULL);
	if (rc < 0) {
		int e = map_err(errno);
		return e == -EAGAIN || e == -ENOBUFS ? 0 : e;
	}
	for (int i = 0; i < rc; i++) {
		size_t len = mm[i].msg_len;
		if (r->packet) {
			if (from[i].sll_pkttype == PACKET_OUTGOING)
				continue;
			learn_peer(r, &from[i]);
		} else if (len == 0) {
			/* SOCK_SEQPACKET: an empty read is the peer closing */
			return out ? out : -ENODEV;
		}
		if (mm[i].msg_hdr.msg_flags & MSG_TRUNC)
			len = cap; /* the frame's checksum will not match */
		if (out != i) {
			uint8_t *t = bufs[out];
			bufs[out] = bufs[i];
			bufs[i] = t;
		}
		lens[out++] = len;
	}
	return out;
}

static int raw_fd(struct link_io *io)
{
	return ((struct rawio *)io)->fd;
}

static void raw_close(struct link_io *io)
{
	struct rawio *r = (struct rawio *)io;
	if (r->ring)
		munmap(r->ring, r->ring_len);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}

static const struct link_io_ops raw_ops = {
	.send = raw_send,
	.recv = raw_recv,
	.fd = raw_fd,
	.close = raw_close,
};

/* Asks for the TPACKET_V2 receive ring (the privileged half: before bind, so
 * no frame is queued outside it). On failure the socket stays TPACKET_V1
 * with no ring: the version tells the adopting half which it got. */
static void ring_request(int fd)
{
	int v = TPACKET_V2;
	struct tpacket_req req;

	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0)
		return;
	memset(&req, 0, sizeof req);
	req.tp_block_size = RING_BLOCK;
	req.tp_block_nr = RING_BLOCKS;
	req.tp_frame_size = RING_FRAME;
	req.tp_frame_nr = RING_FRAMES;
	if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) {
		v = TPACKET_V1;
		(void)setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v);
	}
}

/* Maps the ring ring_request() made; when that fails the ring is torn down
 * again (frames then wait in the socket buffer, read with recvmmsg). */
static void ring_map(struct rawio *r)
{
	int v = 0;
	socklen_t vl = sizeof v;
	struct tpacket_req req;

	if (getsockopt(r->fd, SOL_PACKET, PACKET_VERSION, &v, &vl) < 0 || v != TPACKET_V2)
		return;
	r->ring_len = (size_t)RING_BLOCK * RING_BLOCKS;
	void *m = mmap(NULL, r->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (m != MAP_FAILED) {
		r->ring = m;
		return;
	}
	memset(&req, 0, sizeof req);
	(void)setsockopt(r->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req);
	v = TPACKET_V1;
	(void)setsockopt(r->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v);
	r->ring_len = 0;
}

static void set_buf(int fd, int force_opt, int opt, int bytes)
{
	if (bytes <= 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof bytes) < 0)
		(void)setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof bytes);
}

int link_io_packet_socket(const char *ifname, const struct link_io_opts *o, int *fd,
			  int *ifindex)
{
	struct link_io_opts def = { 0 };
	struct sockaddr_ll sll;
	unsigned idx;
	int s, rc;

	*fd = -1;
	if (!o)
		o = &def;
	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	s = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(LINK_ETHERTYPE));
	if (s < 0)
		return -errno;
	idx = if_nametoindex(ifname);
	if (idx == 0 || idx > INT_MAX) {
		rc = idx ? -ERANGE : -errno;
		goto fail;
	}
	ring_request(s);
	set_buf(s, SO_RCVBUFFORCE, SO_RCVBUF, o->rcvbuf ? o->rcvbuf : LINK_IO_RCVBUF_DEFAULT);
	set_buf(s, SO_SNDBUFFORCE, SO_SNDBUF, o->sndbuf ? o->sndbuf : LINK_IO_SNDBUF_DEFAULT);
	memset(&sll, 0, sizeof sll);
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(LINK_ETHERTYPE);
	sll.sll_ifindex = (int)idx;
	if (bind(s, (struct sockaddr *)&sll, sizeof sll) < 0) {
		rc = -errno;
		goto fail;
	}
	*fd = s;
	*ifindex = (int)idx;
	return 0;
fail:
	close(s);
	return rc;
}

/* Is FD an AF_PACKET datagram socket bound to IFINDEX and our EtherType? */
static int check_packet_socket(int fd, int ifindex)
{
	struct sockaddr_ll sll;
	socklen_t sl = sizeof sll;
	int v = 0;
	socklen_t vl = sizeof v;

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &vl) < 0)
		return errno == ENOTSOCK ? -ENOTSOCK : -errno;
	if (v != AF_PACKET)
		return -EAFNOSUPPORT;
	vl = sizeof v;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &vl) < 0)
		return -errno;
	if (v != SOCK_DGRAM)
		return -EPROTOTYPE;
	memset(&sll, 0, sizeof sll);
	if (getsockname(fd, (struct sockaddr *)&sll, &sl) < 0)
		return -errno;
	if (sl < sizeof sll - sizeof sll.sll_addr || sll.sll_family != AF_PACKET ||
	    sll.sll_protocol != htons(LINK_ETHERTYPE) || ifindex <= 0 || sll.sll_ifindex != ifindex)
		return -EADDRNOTAVAIL;
	return 0;
}

int link_io_packet_adopt(int fd, int ifindex, const struct link_io_opts *o, struct link_io **out)
{
	struct rawio *r;
	struct ifreq ifr;
	int rc, fl, rcvbuf = 0;
	socklen_t sl = sizeof rcvbuf;

	*out = NULL;
	if (fd < 0)
		return -EBADF;
	rc = check_packet_socket(fd, ifindex);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	r = calloc(1, sizeof *r);
	if (!r) {
		close(fd);
		return -ENOMEM;
	}
	r->packet = true;
	r->fd = fd;
	r->ifindex = ifindex;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		rc = -errno;
		goto fail;
	}
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_ifindex = ifindex;
	if (ioctl(fd, SIOCGIFNAME, &ifr) < 0 || ioctl(fd, SIOCGIFMTU, &ifr) < 0) {
		rc = -errno;
		goto fail;
	}
	if (ifr.ifr_mtu < 256) {
		rc = -EMSGSIZE;
		goto fail;
	}
	r->io.mtu = (uint32_t)ifr.ifr_mtu;
	if (o && o->mtu && o->mtu < r->io.mtu)
		r->io.mtu = o->mtu < 256 ? 256 : o->mtu;
	ring_map(r);
	/* what fits in the receive buffer, at a conservative per-frame truesize;
	 * ring: its slots, when a frame fits one (else the ring only truncates) */
	if (r->ring && r->io.mtu + TPACKET2_HDRLEN + 64 <= RING_FRAME)
		r->io.rx_frames = RING_FRAMES;
	else if (r->ring)
		r->io.rx_frames = 64;
	else if (getsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &sl) == 0 && rcvbuf > 0)
		r->io.rx_frames = (uint32_t)rcvbuf / (r->io.mtu + 1024);
	r->io.ops = &raw_ops;
	*out = &r->io;
	return 0;
fail:
	raw_close(&r->io);
	return rc;
}

int link_io_packet_opts(const char *ifname, const struct link_io_opts *o, struct link_io **out)
{
	int fd, ifindex, rc;

	*out = NULL;
	rc = link_io_packet_socket(ifname, o, &fd, &ifindex);
	if (rc < 0)
		return rc;
	return link_io_packet_adopt(fd, ifindex, o, out);
}

int link_io_packet(const char *ifname, struct link_io **out)
{
	return link_io_packet_opts(ifname, NULL, out);
}

int link_io_pair(uint32_t mtu, struct link_io *out[2])
{
	struct rawio *r[2] = { NULL, NULL };
	int sv[2];

	out[0] = out[1] = NULL;
	if (mtu < 256 || mtu > 65535)
		return -EINVAL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	for (int i = 0; i < 2; i++) {
		r[i] = calloc(1, sizeof *r[i]);
		if (!r[i]) {
			free(r[0]);
			close(sv[0]);
			close(sv[1]);
			return -ENOMEM;
		}
		r[i]->fd = sv[i];
		r[i]->io.ops = &raw_ops;
		r[i]->io.mtu = mtu;
	}
	out[0] = &r[0]->io;
	out[1] = &r[1]->io;
	return 0;
}
