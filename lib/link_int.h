/*
 * link_int.h — what the parts of the link share (not a public API: only
 * lib/link*.c include it). The parts, one file each:
 *
 *   link.c          the public API (link.h): create, free, send, poll
 *                   helpers; the queue of notifications and the one place
 *                   that runs the callbacks (notify_flush).
 *   link_session.c  the session state machine: states, events, the one
 *                   transition function and change_state(); handshake,
 *                   keepalive, epochs, frame dispatch, timers.
 *   link_tx.c       the sender: per-stream queues, seqs, the in-flight ring,
 *                   ACK/SACK processing, loss detection, RTO, TLP, cwnd.
 *   link_rx.c       the receiver: duplicate detection, reassembly by
 *                   coverage, its caps (held bytes, open messages, stall
 *                   deadline), in-order delivery per stream, ACKs, window.
 *   link_table.c    the hash table and FIFO they use.
 *
 * struct link is one flat struct; each field is owned (written) by the part
 * named in its group's comment and only read by the others.
 */
#ifndef USBFARM_LINK_INT_H
#define USBFARM_LINK_INT_H

#include "link.h"
#include "frame.h"
#include "link_table.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#define RING 8192u		/* frames in flight at most (power of two) */
#define RING_MASK (RING - 1)
#define TX_BATCH 64
#define RX_BATCH 64
#define RX_ROUNDS 16		/* receive batches per link_process */
#define ACK_EVERY 16		/* frames received before an immediate ACK */
#define DELACK_US 1000
#define DUPTHRESH 3
#define CWND_INIT 32
#define CWND_MIN 4
#define RTO_INIT_US 200000
#define RTO_MIN_US 20000
#define RTO_MAX_US 1000000
#define NOBUFS_PAUSE_US 500
#define HELLO_MAX_MS 100
#define RX_OPEN_MAX RING	/* unfinished messages held per link */
#define RX_STALL_MIN_MS 10000	/* default stall deadline: the larger of this and 3 x dead_ms */
#define EVQ_MAX 4		/* queued I/O events (a gone device replaces a down one) */

static inline bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }

/* The session's states (link_session.c has the table). */
enum sess_state {
	S_HELLO,	/* sending HELLO; no peer known */
	S_PEER,		/* a peer's HELLO seen; waiting for it to show it knows our session */
	S_UP,		/* session established */
	S_DEAD,		/* device gone or fatal error */
};

/* Everything that can happen to a link. */
enum link_event {
	EV_HELLO,	/* frame: a peer's HELLO */
	EV_HELLO_ACK,	/* frame: a peer's HELLO_ACK */
	EV_DATA,	/* frame: DATA of a session */
	EV_ACK,		/* frame: ACK of a session */
	EV_KEEPALIVE,	/* frame: KEEPALIVE of a session */
	EV_RESET,	/* frame: the peer ends the session */
	EV_HELLO_TIMER,	/* time to (re)send our HELLO */
	EV_KA_TIMER,	/* nothing sent for keepalive_ms */
	EV_DEAD_TIMER,	/* nothing heard for dead_ms */
	EV_STALL_TIMER,	/* an unfinished message got nothing for rx_stall_ms */
	EV_RTO_TIMER,	/* the retransmission timer */
	EV_TLP_TIMER,	/* the tail loss probe */
	EV_ACK_DUE,	/* an ACK is owed now (delayed-ACK timer, count, disorder) */
	EV_SEND,	/* the sender may send (poll said writable, or a timer) */
	EV_IO_DOWN,	/* I/O error: -ENETDOWN (carrier may come back) */
	EV_IO_FATAL,	/* I/O error: device gone, or out of memory */
	EV_PROTO,	/* the peer broke the protocol (bad compressed data, a loop of prevs) */
	EV_CARRIER,	/* link_reset(): the caller saw carrier go down */
	EV_CLOSE,	/* link_free() */
};

enum cc_state { CC_OPEN, CC_RECOVERY };		/* sender: congestion */
enum tx_wait { TXW_NONE, TXW_POLLOUT, TXW_PAUSE }; /* sender: why it is not sending */
enum ack_state { ACK_NONE, ACK_DELAYED, ACK_NOW }; /* receiver: an ACK owed? */

struct ostream;

struct omsg {			/* an outgoing message */
	uint64_t id;
	struct ostream *st;
	struct omsg *next;	/* in its stream's queue */
	uint8_t *wire;
	uint32_t wire_len;
	size_t raw_len;
	bool compressed, started, all_sent, has_prev;
	uint32_t msg_seq, prev_seq;
	uint32_t next_off;
	uint32_t frames_sent, frames_acked;
};

struct ostream {
	struct hnode h;		/* key: stream id */
	struct omsg *head, *tail; /* unfinished messages, in order */
	struct omsg *sending;	/* first message with bytes not yet sent */
	struct ostream *anext, *aprev; /* ring of streams with bytes to send */
	bool active;
};

enum { SL_ACKED = 1, SL_PIPE = 2, SL_RTXQ = 4, SL_RETX = 8 };

struct slot {			/* one in-flight frame, ring-indexed by seq */
	struct omsg *m;
	uint64_t order;		/* transmission number of its last transmission */
	uint64_t sent_us;
	uint32_t off;
	uint16_t len;
	uint8_t st;
};

struct imsg {			/* an incoming message */
	struct hnode h;		/* key: msg seq */
	struct hnode w;		/* in `waiting`, key: prev seq (complete, held) */
	struct imsg *older, *newer; /* the stall list, by last progress */
	uint64_t last_us;	/* when it last got a new frame */
	uint32_t stream, total, prev;
	uint32_t nframes, covered; /* frames it has; distinct ones received */
	uint8_t flags;
	bool complete;
	uint8_t *buf;		/* cap bytes, grown as frames arrive */
	size_t cap;
	uint64_t *have;		/* bitmap of frame indices received */
	uint32_t have_words;
};

enum notice_kind { N_TRACE, N_UP, N_DOWN, N_MESSAGE, N_SENT };

struct notice {			/* a callback owed, run by notify_flush() */
	uint8_t kind;
	uint8_t from, to, ev;	/* N_TRACE */
	int status;		/* N_DOWN reason, N_SENT status, N_TRACE reason */
	uint32_t stream;	/* N_MESSAGE */
	uint64_t id;		/* N_SENT */
	uint8_t *data;		/* N_MESSAGE, owned by the queue until delivered */
	size_t len;
};

struct link {
	/* configuration (link.c, fixed after link_new) */
	struct link_io *io;
	struct link_callbacks cb;
	void *user;
	char ident[LINK_IDENT_MAX];
	uint32_t caps;
	uint8_t app[LINK_APP_HELLO_MAX];
	size_t app_len;
	uint32_t keepalive_us, dead_us, hello_us;
	size_t max_msg;
	bool no_compress;
	uint64_t now;			/* time of this link_process */
	struct link_stats st;		/* counters: each part bumps its own */

	/* notifications (link.c) */
	struct notice *nq;
	size_t nq_cap, nq_head, nq_n;
	bool flushing;			/* notify_flush is running (a callback called in) */

	/* session (link_session.c) */
	enum sess_state state;
	uint64_t boot, gen, sess;	/* our epochs */
	uint64_t peer_sess;		/* valid unless S_HELLO */
	struct link_peer peer;
	uint32_t max_frame, max_pay;
	uint64_t last_rx, last_tx, hello_at;
	struct { enum link_event ev; int arg; } evq[EVQ_MAX]; /* I/O events, run after the transition */
	unsigned evq_n;
	uint8_t *cbuf;			/* control frames */
	uint8_t *rxbuf;
	uint8_t *rxp[RX_BATCH];
	size_t rxlen[RX_BATCH];

	/* sender (link_tx.c) */
	struct htab streams;
	struct ostream *active;		/* round-robin cursor */
	struct slot *ring;
	uint32_t snd_una, snd_nxt, rtx_scan, recover;
	enum cc_state cc;
	uint32_t cwnd, ssthresh, cwnd_acc, pipe, peer_rwnd;
	uint64_t order, max_acked_order;
	struct seqq rtxq, rtxfifo;
	uint64_t rto_at;		/* 0: not armed */
	uint64_t tlp_at;		/* tail loss probe, 0: not armed */
	uint32_t srtt, rttvar, rto;	/* us */
	uint64_t next_msg_id;
	size_t backlog;
	enum tx_wait tx_wait;
	uint64_t pause_until;		/* with TXW_PAUSE */
	uint8_t *txbuf;
	struct iovec txv[TX_BATCH];
	unsigned tx_cnt, tx_off;

	/* receiver (link_rx.c) */
	uint64_t *bits;			/* RING bits, ring-indexed by seq */
	uint32_t rcv_nxt, rcv_hi;
	uint32_t unacked;
	enum ack_state ack;
	uint64_t delack_at;		/* with ACK_DELAYED */
	struct htab imsgs, waiting;
	struct imsg *last_im;
	struct imsg *stall_old, *stall_new; /* every open message, least recent progress first */
	size_t rx_held, rx_held_max;	/* bytes held by unfinished messages; their cap */
	uint64_t rx_stall_us;
};

/* link.c: notifications, delivered after the transition that caused them */
void notify_trace(struct link *l, enum sess_state from, enum sess_state to,
		  enum link_event ev, int reason);
void notify_up(struct link *l);
void notify_down(struct link *l, int reason);
void notify_message(struct link *l, uint32_t stream, uint8_t *data, size_t len);
void notify_sent(struct link *l, uint64_t id, int status);
void notify_flush(struct link *l);
void notify_free(struct link *l);

/* link_session.c */
void fsm_event(struct link *l, enum link_event ev, int arg);
void fsm_post(struct link *l, enum link_event ev, int arg); /* queued: I/O errors, protocol */
bool fsm_pending(const struct link *l);
void fsm_drain(struct link *l);
int sess_send_ctrl(struct link *l, size_t len);	/* the send's result, errors posted */
void sess_receive(struct link *l);		/* every frame waiting */
void sess_timers(struct link *l);		/* events of the timers due now */
uint64_t sess_next_timer(const struct link *l, uint64_t now); /* UINT64_MAX: none */
const char *sess_state_name(enum sess_state s);
const char *link_event_name(enum link_event ev);

/* link_tx.c */
void tx_clear(struct link *l, int reason);	/* forgets the session, fails its messages */
void tx_free(struct link *l);
int tx_enqueue(struct link *l, uint32_t stream, const void *data, size_t len, uint64_t *msg_id);
void tx_on_ack(struct link *l, const struct frame_ack *a);
void tx_on_rto(struct link *l);
void tx_on_tlp(struct link *l);
void tx_send(struct link *l);
bool tx_ready(const struct link *l);

/* link_rx.c */
void rx_clear(struct link *l);			/* forgets the session's partial messages */
void rx_free(struct link *l);
void rx_on_data(struct link *l, const struct frame_data *d);
void rx_send_ack(struct link *l);
bool rx_ack_due(const struct link *l);
bool rx_after_batch(struct link *l);		/* the ACK policy per batch: an ACK owed now? */
uint64_t rx_stall_at(const struct link *l);	/* 0: nothing open */
void rx_drop_stalled(struct link *l);

#endif
