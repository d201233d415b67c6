/*
 * link.h — usbfarm's link transport: reliable, ordered, multiplexed messages
 * over one point-to-point Ethernet link (raw frames, EtherType 0x88B5, no IP).
 *
 * One `struct link` is one end of one link. It is driven by the caller's poll
 * loop and never blocks, never logs, never exits: errors come back as
 * negative errno values and through the callbacks.
 *
 *   - link_fd() is the fd to poll: POLLIN always, POLLOUT when
 *     link_want_write() is true.
 *   - link_timeout_ms() is how long the caller may sleep at most.
 *   - link_process() is called after every wake-up (readable, writable or
 *     timeout); it reads frames, runs timers, sends what it may, and then
 *     invokes the callbacks, in the order things happened: a callback never
 *     runs inside a state change (link_reset() from a callback is fine; its
 *     `down` comes after the callback returns). Callbacks may call
 *     link_send() and link_reset() but must not free the link.
 *
 * Inside: link.c (this API, the notification queue), link_session.c (the
 * state machine: its table of states and events is there), link_tx.c
 * (sender), link_rx.c (receiver), link_table.c (hash table, FIFO); they
 * share link_int.h.
 *
 * Session: both ends send HELLO (version, identity, random boot epoch, caps,
 * largest frame, an opaque application blob) until the peer's HELLO is seen,
 * then the session is UP. Keepalives flow while idle. A peer whose epoch
 * changes (it restarted) or whose keepalive deadline passes ends the session:
 * every message in flight in either direction fails (sent callback with a
 * negative status), `down` is called with the reason, and the link goes back
 * to handshaking so a restarted peer is picked up again.
 *
 * Messages: up to `max_msg` bytes (default 256 MiB, at least 64 MiB), on a
 * stream id chosen by the sender. Messages on one stream are delivered in
 * the order they were sent, exactly once, intact; streams do not block each
 * other. Payloads are LZO1X-1 compressed where it pays.
 *
 * What a peer can make the receiver hold is capped: memory only as frames
 * arrive, at most rx_held_max bytes (default 2 x max_msg) in unfinished
 * messages, at most 8192 of them, none stalled longer than rx_stall_ms; a
 * message is complete when every part of it has arrived (coverage).
 */
#ifndef USBFARM_LINK_H
#define USBFARM_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define LINK_ETHERTYPE 0x88B5
#define LINK_PROTO_VERSION 1
#define LINK_IDENT_MAX 64	     /* identity string, bytes incl. NUL */
#define LINK_APP_HELLO_MAX 1024	     /* opaque application blob in HELLO */
#define LINK_MAX_MSG_DEFAULT (256u << 20)

/* ---- raw frame I/O: the ops table (AF_PACKET, socketpair, test doubles) ---- */

struct link_io;

struct link_io_ops {
	/*
	 * Sends up to n frames (each a payload without Ethernet header). Returns
	 * how many were accepted (0..n), or -errno. -EAGAIN / a short count means
	 * "full, wait for POLLOUT". -ENOBUFS (added): the qdisc dropped it,
	 * retry after a short pause (POLLOUT would not wait). -ENETDOWN, -ENXIO,
	 * -ENODEV: the device is down or gone.
	 */
	int (*send)(struct link_io *io, const struct iovec *frames, unsigned n);
	/*
	 * Receives up to n frames into bufs[i] (each `cap` bytes), lengths in
	 * lens[i]. Returns the count (0 when nothing is waiting) or -errno.
	 */
	int (*recv)(struct link_io *io, uint8_t **bufs, size_t cap, size_t *lens,
		    unsigned n);
	int (*fd)(struct link_io *io);
	void (*close)(struct link_io *io); /* frees io */
};

struct link_io {
	const struct link_io_ops *ops;
	uint32_t mtu; /* largest frame payload this I/O carries */
	/* Added: frames the receive side can buffer (0: unknown). The link never
	 * lets the peer have more than this in flight (receiver-advertised window). */
	uint32_t rx_frames;
};

/*
 * AF_PACKET socket on interface `ifname`, EtherType 0x88B5, non-blocking,
 * batched (sendmmsg/recvmmsg). mtu is read from the interface. Frames go to
 * the peer's MAC once it is learned (from its first frame), broadcast before.
 */
int link_io_packet(const char *ifname, struct link_io **out);

/* Added: link_io_packet with options; zero fields mean the defaults. */
#define LINK_IO_RCVBUF_DEFAULT (2 << 20)
#define LINK_IO_SNDBUF_DEFAULT (64 << 10)
struct link_io_opts {
	int rcvbuf;	/* SO_RCVBUF(FORCE) bytes */
	int sndbuf;	/* SO_SNDBUF(FORCE) bytes; the qdisc queue is bounded by it */
	uint32_t mtu;	/* use at most this frame size (below the interface MTU) */
};
int link_io_packet_opts(const char *ifname, const struct link_io_opts *o,
			struct link_io **out);
/* A connected pair of I/Os over a SOCK_SEQPACKET socketpair (tests). */
int link_io_pair(uint32_t mtu, struct link_io *out[2]);

/* ---- the link ---- */

enum link_state {
	LINK_HELLO,	/* handshaking: sending HELLO, waiting for the peer's */
	LINK_UP,	/* session established */
	LINK_DEAD,	/* device gone or fatal error: free it */
};

struct link_peer {
	uint16_t version;
	char ident[LINK_IDENT_MAX];
	uint64_t epoch;
	uint32_t caps;
	uint32_t max_frame;
	uint8_t app[LINK_APP_HELLO_MAX];
	size_t app_len;
};

struct link_stats {
	uint64_t frames_tx, frames_rx, bytes_tx, bytes_rx; /* on the wire */
	uint64_t msgs_tx, msgs_rx;			   /* completed messages */
	uint64_t payload_tx, payload_rx;		   /* message bytes, before compression */
	uint64_t retransmits, timeouts;
	uint64_t drop_crc, drop_short, drop_dup, drop_stale, drop_foreign,
		drop_window, drop_bad;	/* frames dropped, by cause */
	uint64_t sessions, epoch_changes;
	uint32_t srtt_us, rto_us, cwnd, inflight;
	/* Added (receiver caps): DATA frames refused because the bytes held by
	 * unfinished messages would pass rx_held_max, because RX_OPEN_MAX
	 * messages are already open, or because they carry a part of their
	 * message already received under another seq (never counted twice). */
	uint64_t drop_held, drop_open, drop_overlap;
	uint64_t rx_stalled;		/* unfinished messages dropped by the stall deadline */
	uint64_t rx_held, rx_held_peak;	/* bytes held by unfinished messages: now, highest */
	uint32_t rx_open;		/* unfinished messages now */
};

struct link;

struct link_callbacks {
	/* Session established with `peer`. */
	void (*up)(struct link *l, const struct link_peer *peer, void *user);
	/* Session ended: -ETIMEDOUT (keepalives missed, or a message stalled), -ESTALE (peer restarted),
	 * -ENETDOWN / -ENODEV (device down or gone), -ECONNRESET (peer said so). */
	void (*down)(struct link *l, int reason, void *user);
	/* A whole message. `data` is malloc'd and now belongs to the callee. */
	void (*message)(struct link *l, uint32_t stream, uint8_t *data, size_t len,
			void *user);
	/* A message sent with link_send() was acknowledged (status 0) or failed
	 * (status < 0, the session's down reason). Optional. */
	void (*sent)(struct link *l, uint64_t msg_id, int status, void *user);
	/* Added, optional: every change of the session's state, for the
	 * caller's log: the state before and after ("hello", "peer", "up",
	 * "dead"), the event that caused it and the reason (0 or -errno). */
	void (*trace)(struct link *l, const char *from, const char *to, const char *event,
		      int reason, void *user);
};

struct link_config {
	const char *ident;		/* our identity (board serial / hub name) */
	uint32_t caps;			/* capability bits, opaque to the link */
	const uint8_t *app_hello;	/* opaque blob sent in HELLO (may be NULL) */
	size_t app_hello_len;		/* <= LINK_APP_HELLO_MAX */
	uint32_t keepalive_ms;		/* 0: default 500 */
	uint32_t dead_ms;		/* 0: default 3000 (no frame for this long: down) */
	size_t max_msg;			/* 0: LINK_MAX_MSG_DEFAULT */
	bool no_compress;		/* never compress payloads */
	uint64_t epoch;			/* 0: random */
	/* Added: receiver caps. Bytes held by unfinished messages (buffers and
	 * bookkeeping, allocated only as frames arrive): 0 = 2 x max_msg; a
	 * frame that would pass it is refused (not acknowledged, so resent).
	 * An unfinished message with no new frame for rx_stall_ms (0: the
	 * larger of 10 s and 3 x dead_ms) is dropped and ends the session
	 * (-ETIMEDOUT), since its sender believes the frames it has delivered. */
	size_t rx_held_max;
	uint32_t rx_stall_ms;
};

/* Takes ownership of io (closed by link_free, also on failure). */
int link_new(struct link_io *io, const struct link_config *cfg,
	     const struct link_callbacks *cb, void *user, struct link **out);
void link_free(struct link *l);

int link_fd(const struct link *l);
bool link_want_write(const struct link *l);
int link_timeout_ms(const struct link *l); /* -1: no timer pending */
/* Does all pending work. Returns 0, or -errno when the link is now DEAD. */
int link_process(struct link *l);

enum link_state link_state(const struct link *l);
const struct link_peer *link_peer(const struct link *l); /* NULL unless UP */
void link_get_stats(const struct link *l, struct link_stats *st);
uint64_t link_epoch(const struct link *l);

/*
 * Queues a message (the bytes are copied). Returns 0 and its id in *msg_id
 * (may be NULL), -ENOTCONN unless UP, -EMSGSIZE over max_msg, -ENOMEM.
 */
int link_send(struct link *l, uint32_t stream, const void *data, size_t len,
	      uint64_t *msg_id);
/* Bytes queued but not yet acknowledged (for the caller's own backpressure). */
size_t link_send_backlog(const struct link *l);

/* Ends the session now (e.g. netlink said carrier down): as a timeout, with `reason`. */
void link_reset(struct link *l, int reason);

/* Convenience for tools and tests: poll one link until cond(user) is true or
 * timeout_ms passes. Returns 0 when cond became true, -ETIMEDOUT, or -errno. */
int link_run(struct link *l, int timeout_ms, bool (*cond)(void *), void *user);

const char *link_state_name(enum link_state s);

#endif
