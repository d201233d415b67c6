/*
 * conns.c — client connections (conns.h): the transition table and its one
 * writer, reading a request under guard.c's caps, writing answers and
 * keepalives, the idle cap, accepting and reaping.
 *
 * Owns: the list of connections, each one's buffers and state, and
 * hub.local_used (changed only in conn_set_state()). What a request asks is
 * answered elsewhere: a SUBMIT becomes a job (jobs.c), STATUS is status.c's,
 * ENROLL enroll.c's, notes and verify reports reasons.c's.
 */
#include "conns.h"
#include "client.h"
#include "enroll.h"
#include "guard.h"
#include "hub.h"
#include "jobs.h"
#include "nodes.h"
#include "reasons.h"
#include "status.h"

#include "../lib/clock.h"
#include "../lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static struct conn *conns;
static size_t nconns;

static const char *const state_names[CONN_NSTATES] = {
	"read", "wait", "answer", "answer-local", "local", "need", "closed",
};
static const char *const event_names[CONN_NEVENTS] = {
	"submit", "reply", "handled", "bad", "local", "written", "idle", "gone", "error",
	"need", "blobs",
};

const char *conn_state_name(enum conn_state s)
{
	return (unsigned)s < CONN_NSTATES ? state_names[s] : "?";
}

const char *conn_event_name(enum conn_event e)
{
	return (unsigned)e < CONN_NEVENTS ? event_names[e] : "?";
}

bool conn_state_holds_local(enum conn_state s)
{
	return s == CONN_ANSWER_LOCAL || s == CONN_LOCAL;
}

int conn_next(enum conn_state s, enum conn_event ev)
{
	if (s >= CONN_CLOSED)
		return -1;
	if (ev == CE_GONE || ev == CE_ERROR)
		return CONN_CLOSED;
	switch (s) {
	case CONN_READ:
		switch (ev) {
		case CE_SUBMIT: return CONN_WAIT;
		case CE_REPLY: return CONN_ANSWER;
		case CE_HANDLED:
		case CE_BAD:
		case CE_IDLE: return CONN_CLOSED;
		default: return -1;
		}
	case CONN_WAIT:
		switch (ev) {
		case CE_REPLY: return CONN_ANSWER;
		case CE_LOCAL: return CONN_ANSWER_LOCAL;
		case CE_NEED: return CONN_NEED;
		default: return -1;
		}
	case CONN_NEED:
		switch (ev) {
		case CE_BLOBS: return CONN_WAIT;
		case CE_REPLY: return CONN_ANSWER;
		case CE_BAD:
		case CE_IDLE: return CONN_CLOSED;
		default: return -1;
		}
	case CONN_ANSWER:
		return ev == CE_WRITTEN || ev == CE_IDLE ? CONN_CLOSED : -1;
	case CONN_ANSWER_LOCAL:
		return ev == CE_WRITTEN ? CONN_LOCAL : ev == CE_IDLE ? CONN_CLOSED : -1;
	default:
		return -1;	/* LOCAL: only the client's leaving ends it */
	}
}

int conn_set_state(struct conn *c, enum conn_state to, enum conn_event ev)
{
	enum conn_state from = c->state;

	if (conn_next(from, ev) != (int)to) {
		log_warn("client fd %d: illegal event %s in state %s (to %s) refused", c->fd,
			 conn_event_name(ev), conn_state_name(from), conn_state_name(to));
		return -EINVAL;
	}
	c->state = to;
	if (!conn_state_holds_local(from) && conn_state_holds_local(to)) {
		hub.local_used++;
	} else if (conn_state_holds_local(from) && !conn_state_holds_local(to)) {
		hub.local_used--;
		hub.need_sched = true;
	}
	log_debug("client fd %d: %s -> %s (%s)", c->fd, conn_state_name(from),
		  conn_state_name(to), conn_event_name(ev));
	return 0;
}

bool conn_waiting(const struct conn *c)
{
	return c->state == CONN_WAIT || c->state == CONN_NEED;
}

int conn_fd(const struct conn *c)
{
	return c->fd;
}

void conn_job_gone(struct conn *c)
{
	c->job = NULL;
}

size_t conns_count(void)
{
	return nconns;
}

uint32_t conns_clients(const struct conn *but)
{
	uint32_t n = 0;
	for (struct conn *k = conns; k; k = k->next)
		if (k != but && k->state != CONN_CLOSED)
			n++;
	return n;
}

/* ---- writing ---- */

static void conn_flush(struct conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t w = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			conn_set_state(c, CONN_CLOSED, CE_ERROR);
			return;
		}
		c->out_off += (size_t)w;
		c->last_io = now_us();
	}
	buf_free(&c->out);
	c->out_off = 0;
	if (c->state == CONN_ANSWER)
		conn_set_state(c, CONN_CLOSED, CE_WRITTEN);
	else if (c->state == CONN_ANSWER_LOCAL)
		conn_set_state(c, CONN_LOCAL, CE_WRITTEN);
	/* WAIT: a keepalive went out; the answer is still to come */
}

void conn_answer(struct conn *c, const struct proto_answer *a)
{
	struct buf ans = BUF_INIT;

	if (proto_encode_answer(&ans, a) < 0) {
		/* An output over a cap, or no memory: the client compiles locally. */
		struct proto_answer f = { .outcome = HUB_FAILED };
		snprintf(f.o.error, sizeof f.o.error, "result too large for the local protocol");
		buf_free(&ans);
		if (proto_encode_answer(&ans, &f) < 0) {
			conn_set_state(c, CONN_CLOSED, CE_ERROR);
			return;
		}
	}
	if (c->out_off < c->out.len) {
		/* the rest of a keepalive goes first */
		struct buf both = BUF_INIT;
		buf_put(&both, c->out.data + c->out_off, c->out.len - c->out_off);
		buf_put(&both, ans.data, ans.len);
		buf_free(&ans);
		if (!buf_ok(&both)) {
			buf_free(&both);
			conn_set_state(c, CONN_CLOSED, CE_ERROR);
			return;
		}
		ans = both;
	}
	buf_free(&c->out);
	c->out = ans;
	c->out_off = 0;
	if (a->outcome == HUB_LOCAL)
		conn_set_state(c, CONN_ANSWER_LOCAL, CE_LOCAL);
	else
		conn_set_state(c, CONN_ANSWER, CE_REPLY);
	conn_flush(c);
}

void conn_answer_now(struct conn *c, const struct proto_answer *a)
{
	conn_answer(c, a);
	/* Best effort: a short blocking write of the small answer. */
	int fl = fcntl(c->fd, F_GETFL);
	fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK);
	conn_flush(c);
}

/* Appends frame to what is still unsent (a keepalive's rest first). */
static int conn_queue(struct conn *c, struct buf *frame)
{
	if (c->out_off < c->out.len) {
		struct buf both = BUF_INIT;
		buf_put(&both, c->out.data + c->out_off, c->out.len - c->out_off);
		buf_put(&both, frame->data, frame->len);
		buf_free(frame);
		if (!buf_ok(&both)) {
			buf_free(&both);
			return -ENOMEM;
		}
		*frame = both;
	}
	buf_free(&c->out);
	c->out = *frame;
	c->out_off = 0;
	return 0;
}

int conn_need(struct conn *c, const struct proto_need *n)
{
	struct buf b = BUF_INIT;
	int rc = proto_encode_need(&b, n);

	if (rc == 0)
		rc = conn_queue(c, &b);
	if (rc < 0) {
		buf_free(&b);
		conn_set_state(c, CONN_CLOSED, CE_ERROR);
		return rc;
	}
	/* the next request on it is the BLOBS */
	c->hdr_got = 0;
	c->frame_len = c->frame_got = 0;
	c->last_io = now_us();
	conn_set_state(c, CONN_NEED, CE_NEED);
	conn_flush(c);
	return c->state == CONN_CLOSED ? -EPIPE : 0;
}

void conn_reply(struct conn *c)
{
	c->out_off = 0;
	if (conn_set_state(c, CONN_ANSWER, CE_REPLY) == 0)
		conn_flush(c);
}

/* WAIT: tells dcc that hubd is alive (dcc gives up on a silent hubd).
 * Skipped while an earlier one is still unsent: they never pile up. */
static void conn_keepalive(struct conn *c, uint64_t now)
{
	c->next_ka = now + PROTO_KEEPALIVE_MS * 1000u;
	if (c->out_off < c->out.len)
		return;
	buf_free(&c->out);
	c->out_off = 0;
	proto_begin(&c->out, PROTO_KEEPALIVE);
	if (proto_end(&c->out) < 0) {
		buf_free(&c->out);
		return;
	}
	conn_flush(c);
}

/* ---- reading ---- */

static void conn_drop_frame(struct conn *c)
{
	free(c->frame);
	c->frame = NULL;
	guard_release(c->frame_cap);
	c->frame_cap = 0;
}

static void conn_submit(struct conn *c)
{
	bool tree = proto_type(c->frame, c->frame_len) == PROTO_SUBMIT_TREE;
	struct job *j = (tree ? jobs_submit_tree : jobs_submit)(c, c->frame, c->frame_len,
								c->frame_cap);

	if (!j) {
		conn_set_state(c, CONN_CLOSED, CE_BAD);
		return;
	}
	c->frame = NULL;	/* the job's now */
	c->frame_cap = 0;
	c->job = j;
	c->next_ka = j->t_submit + PROTO_KEEPALIVE_MS * 1000u;
	conn_set_state(c, CONN_WAIT, CE_SUBMIT);
}

/* NEED: the BLOBS, handed to the job. */
static void conn_blobs(struct conn *c)
{
	if (!c->job || proto_type(c->frame, c->frame_len) != PROTO_BLOBS) {
		log_warn("client answered a NEED with something else: closed");
		conn_set_state(c, CONN_CLOSED, CE_BAD);
		return;
	}
	conn_set_state(c, CONN_WAIT, CE_BLOBS);
	c->next_ka = now_us() + PROTO_KEEPALIVE_MS * 1000u;
	jobs_on_blobs(c->job, c->frame, c->frame_len, c->frame_cap);
	c->frame = NULL;	/* the job's now */
	c->frame_cap = 0;
}

static void conn_request(struct conn *c)
{
	int k;

	if (c->state == CONN_NEED) {
		conn_blobs(c);
		return;
	}
	switch (proto_type(c->frame, c->frame_len)) {
	case PROTO_SUBMIT:
	case PROTO_SUBMIT_TREE:
		conn_submit(c);
		return;
	case PROTO_STATUS_REQ:
		conn_drop_frame(c);
		buf_free(&c->out);
		k = status_answer(&c->out, c) < 0 ? -1 : 1;
		break;
	case PROTO_ENROLL_REQ:
		k = enroll_serve(&c->out, c->frame, c->frame_len, nodes_enroll_iface) < 0 ? -1 : 1;
		conn_drop_frame(c);
		break;
	default:
		/* reasons.h / verify.h: local-compile notes, verify reports, their status */
		k = hubx_request(c->frame, c->frame_len, &c->out);
		conn_drop_frame(c);
		if (k < 0)
			log_warn("client sent an unknown request: closed");
		break;
	}
	if (k == 1)
		conn_reply(c);
	else
		conn_set_state(c, CONN_CLOSED, k == 0 ? CE_HANDLED : CE_BAD);
}

/* The client went away (ev CE_GONE: EOF, error, or bytes where none
 * belong; CE_IDLE: the idle cap), or its connection is freed. */
static void conn_gone(struct conn *c, enum conn_event ev)
{
	struct job *j = c->job;

	if (j) {
		c->job = NULL;
		job_client_gone(j);
	}
	if (c->state != CONN_CLOSED)
		conn_set_state(c, CONN_CLOSED, ev);
}

/* Room for the next bytes of the request: memory follows the bytes that
 * actually arrived (doubling, at most frame_len), under guard_hold(). */
static int conn_grow(struct conn *c)
{
	size_t nc = c->frame_cap ? c->frame_cap * 2 : GUARD_READ_CHUNK;
	uint8_t *p;

	if (nc > c->frame_len)
		nc = c->frame_len;
	if (!guard_hold(nc - c->frame_cap, c->frame_cap == 0)) {
		log_warn("requests held reach --max-held (%zu bytes): a client is closed",
			 guard_cfg()->max_held);
		conn_set_state(c, CONN_CLOSED, CE_BAD);
		return -ENOBUFS;
	}
	p = realloc(c->frame, nc);
	if (!p) {
		guard_release(nc - c->frame_cap);
		log_warn("no memory for a %zu-byte request", nc);
		conn_set_state(c, CONN_CLOSED, CE_BAD);
		return -ENOMEM;
	}
	c->frame = p;
	c->frame_cap = nc;
	return 0;
}

/* The request's header is in: its length, checked before anything is allocated. */
static int conn_header(struct conn *c)
{
	long n = proto_frame_len(c->hdr);
	if (n < 0 || !guard_announce_ok((size_t)n)) {
		log_warn("client announced a request of %s: closed",
			 n < 0 ? "a bad length" : "more than --max-message");
		conn_set_state(c, CONN_CLOSED, CE_BAD);
		return -EPROTO;
	}
	c->frame_len = (size_t)n;
	return 0;
}

/* Nothing more is expected after the request: EOF means the client left. */
static void conn_unexpected(struct conn *c)
{
	uint8_t x[64];
	ssize_t r = recv(c->fd, x, sizeof x, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	conn_gone(c, CE_GONE);
}

static void conn_readable(struct conn *c)
{
	for (;;) {
		ssize_t r;
		if (c->state != CONN_READ && c->state != CONN_NEED) {
			conn_unexpected(c);
			return;
		}
		if (c->hdr_got < 4) {
			r = recv(c->fd, c->hdr + c->hdr_got, 4 - c->hdr_got, MSG_DONTWAIT);
		} else {
			if (c->frame_got == c->frame_cap && conn_grow(c) < 0)
				return;
			r = recv(c->fd, c->frame + c->frame_got, c->frame_cap - c->frame_got,
				 MSG_DONTWAIT);
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0) {
			conn_gone(c, CE_GONE);
			return;
		}
		c->last_io = now_us();
		if (c->hdr_got < 4) {
			c->hdr_got += (size_t)r;
			if (c->hdr_got == 4 && conn_header(c) < 0)
				return;
		} else {
			c->frame_got += (size_t)r;
			if (c->frame_got == c->frame_len) {
				conn_request(c);
				return;
			}
		}
	}
}

/* ---- the loop's part ---- */

static void conn_free(struct conn *c)
{
	if (c->job)
		conn_gone(c, CE_GONE);
	close(c->fd);
	free(c->frame);
	guard_release(c->frame_cap);
	buf_free(&c->out);
	free(c);
	nconns--;
}

void conns_accept(int listen_fd)
{
	for (int k = 0; k < 64; k++) {
		int fd = guard_accept(listen_fd, nconns);
		if (fd < 0)
			return;
		struct conn *c = calloc(1, sizeof *c);
		if (!c) {
			close(fd);
			return;
		}
		c->fd = fd;
		c->state = CONN_READ;	/* the initial state */
		c->last_io = now_us();
		c->next = conns;
		conns = c;
		nconns++;
	}
}

void conns_timers(int *timeout)
{
	uint64_t now = now_us(), idle = (uint64_t)guard_cfg()->idle_s * 1000000u;
	for (struct conn *c = conns; c; c = c->next) {
		uint64_t due;
		bool writing = c->state == CONN_ANSWER || c->state == CONN_ANSWER_LOCAL;
		if (c->state == CONN_READ || c->state == CONN_NEED || writing) {
			if (now - c->last_io >= idle) {
				log_info("client idle for %d s (%s): closed", guard_cfg()->idle_s,
					 writing ? "answer unread" : c->state == CONN_NEED ?
					 "blobs not sent" : "request unfinished");
				conn_gone(c, CE_IDLE);
				continue;
			}
			due = c->last_io + idle;
		} else if (c->state == CONN_WAIT) {
			if (now >= c->next_ka)
				conn_keepalive(c, now);
			due = c->next_ka;
		} else {
			continue;
		}
		int ms = due > now ? (int)((due - now) / 1000) + 1 : 0;
		if (ms < *timeout)
			*timeout = ms;
	}
}

void conns_reap(void)
{
	struct conn **pp = &conns;
	while (*pp) {
		struct conn *c = *pp;
		if (c->state == CONN_CLOSED) {
			*pp = c->next;
			conn_free(c);
		} else {
			pp = &c->next;
		}
	}
}

size_t conns_pollfds(struct pollfd *pfd, struct conn **who)
{
	size_t n = 0;
	for (struct conn *c = conns; c; c = c->next) {
		short ev = POLLIN;
		if (c->state == CONN_ANSWER || c->state == CONN_ANSWER_LOCAL ||
		    c->out_off < c->out.len)
			ev |= POLLOUT;
		pfd[n] = (struct pollfd){ c->fd, ev, 0 };
		who[n++] = c;
	}
	return n;
}

void conns_handle(const struct pollfd *pfd, struct conn **who, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct conn *c = who[i];
		if (c->state == CONN_CLOSED)
			continue;
		if (pfd[i].revents & POLLOUT &&
		    (c->state == CONN_ANSWER || c->state == CONN_ANSWER_LOCAL ||
		     c->state == CONN_WAIT || c->state == CONN_NEED))
			conn_flush(c);
		if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
			conn_readable(c);
	}
}

void conns_free_all(void)
{
	while (conns) {
		struct conn *c = conns;
		conns = c->next;
		c->job = NULL;
		close(c->fd);
		free(c->frame);
		buf_free(&c->out);
		free(c);
	}
	nconns = 0;
}
