/*
 * proto.c — frames and messages on hubd's unix socket (see proto.h).
 * Every decoder reads through a bounds-checked cursor and must consume the
 * frame exactly; every count and length has its cap (the argv's are
 * lib/argv_wire.c's, shared with the hub–node JOB message).
 */
#include "proto.h"
#include "client.h"
#include "proto_int.h"
#include "../lib/argv_wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

long proto_frame_len(const uint8_t hdr[4])
{
	uint32_t n = ((uint32_t)hdr[0] << 24) | ((uint32_t)hdr[1] << 16) |
		     ((uint32_t)hdr[2] << 8) | hdr[3];
	if (n < 2 || n > PROTO_MAX_FRAME)
		return -EPROTO;
	return (long)n;
}

void proto_begin(struct buf *b, enum proto_type t)
{
	buf_u32(b, 0);
	buf_u8(b, PROTO_VERSION);
	buf_u8(b, (uint8_t)t);
}

/* The frame's length n (the payload, big-endian) into its header. */
static int put_len(struct buf *b, size_t n)
{
	if (n > PROTO_MAX_FRAME)
		return -EMSGSIZE;
	b->data[0] = (uint8_t)(n >> 24);
	b->data[1] = (uint8_t)(n >> 16);
	b->data[2] = (uint8_t)(n >> 8);
	b->data[3] = (uint8_t)n;
	return 0;
}

int proto_end(struct buf *b)
{
	if (!buf_ok(b) || b->len < 6)
		return -ENOMEM;
	return put_len(b, b->len - 4);
}

int proto_type(const uint8_t *p, size_t len)
{
	if (len < 2 || p[0] != PROTO_VERSION || p[1] < PROTO_SUBMIT || p[1] > PROTO_BLOBS)
		return -EPROTO;
	return p[1];
}

bool proto_head(struct cursor *c, enum proto_type t)
{
	if (cur_u8(c) != PROTO_VERSION || cur_u8(c) != t)
		c->err = true;
	return !c->err;
}

static bool fits(const char *s, size_t cap)
{
	return strnlen(s, cap) < cap;
}

/* ---- SUBMIT ---- */

int proto_put_submit(struct buf *b, const struct proto_submit *s)
{
	const struct job_desc *d = &s->d;

	if (!job_desc_ok(d) || !fits(s->compiler, sizeof s->compiler) ||
	    !fits(s->source, sizeof s->source) || !fits(s->text_why, sizeof s->text_why))
		return -EINVAL;
	buf_str(b, s->compiler);
	job_desc_put_args(b, d);
	buf_str(b, d->input_name);
	buf_str(b, d->output_name);
	buf_u8(b, (uint8_t)((d->want_dwo ? 1 : 0) | (d->utf8 ? 2 : 0)));
	buf_str(b, d->cwd);
	buf_str(b, s->source);
	buf_u64(b, s->preprocess_us);
	buf_str(b, s->text_why);
	return buf_ok(b) ? 0 : -ENOMEM;
}

int proto_encode_submit_head(struct buf *b, const struct proto_submit *s)
{
	int rc;

	proto_begin(b, PROTO_SUBMIT);
	rc = proto_put_submit(b, s);
	if (rc < 0)
		return rc;
	buf_u32(b, (uint32_t)s->d.input_len);
	if (!buf_ok(b))
		return -ENOMEM;
	return put_len(b, b->len - 4 + s->d.input_len);
}

int proto_get_submit(struct cursor *c, struct proto_submit *s)
{
	struct job_desc *d = &s->d;
	int rc;

	cur_str(c, s->compiler, sizeof s->compiler);
	if (c->err)
		return -EPROTO;
	rc = job_desc_get_args(c, d);	/* the one argv codec, with its caps */
	if (rc < 0)
		return rc;
	cur_str(c, d->input_name, sizeof d->input_name);
	cur_str(c, d->output_name, sizeof d->output_name);
	uint8_t fl = cur_u8(c);	/* bit 0: want_dwo, bit 1: utf8 */
	if (fl > 3)
		c->err = true;
	d->want_dwo = fl & 1;
	d->utf8 = fl & 2;
	cur_str(c, d->cwd, sizeof d->cwd);
	cur_str(c, s->source, sizeof s->source);
	s->preprocess_us = cur_u64(c);
	cur_str(c, s->text_why, sizeof s->text_why);
	return 0;
}

int proto_decode_submit(const uint8_t *p, size_t len, struct proto_submit *s)
{
	struct cursor c = cur_init(p, len);
	struct job_desc *d = &s->d;
	int rc;

	memset(s, 0, sizeof *s);
	proto_head(&c, PROTO_SUBMIT);
	rc = proto_get_submit(&c, s);
	if (rc < 0)
		return rc;
	d->input = cur_blob(&c, JOB_MAX_INPUT, &d->input_len);
	if (!cur_done(&c)) {
		proto_submit_free(s);
		return -EPROTO;
	}
	return 0;
}

void proto_submit_free(struct proto_submit *s)
{
	job_desc_free(&s->d);
}

/* ---- ANSWER ---- */

int proto_encode_answer(struct buf *b, const struct proto_answer *a)
{
	const struct job_outcome *o = &a->o;

	if (!job_outcome_ok(o) || !fits(a->node, sizeof a->node) || a->outcome > HUB_FALLBACK ||
	    o->dep_len > JOB_MAX_TEXT || a->nunsent > JOB_MAX_NAMES)
		return -EINVAL;
	for (size_t i = 0; i < a->nunsent; i++)
		if (!a->unsent[i] || !a->unsent[i][0] || strlen(a->unsent[i]) > JOB_INPUT_PATH_MAX)
			return -EINVAL;
	proto_begin(b, PROTO_ANSWER);
	buf_u8(b, a->outcome);
	buf_u32(b, (uint32_t)o->status);
	buf_str(b, a->node);
	buf_str(b, o->error);
	buf_u64(b, a->queue_us);
	buf_u64(b, o->wall_us);
	buf_u64(b, a->total_us);
	buf_blob(b, o->out, o->out_len);
	buf_blob(b, o->err, o->err_len);
	buf_blob(b, o->obj, o->obj_len);
	buf_blob(b, o->dwo, o->dwo_len);
	buf_blob(b, o->dep, o->dep_len);
	buf_u32(b, (uint32_t)a->nunsent);
	for (size_t i = 0; i < a->nunsent; i++)
		buf_blob(b, a->unsent[i], strlen(a->unsent[i]));
	return proto_end(b);
}

/* An ANSWER's unsent names (each a u32-length string, no NUL): 0, or -ENOMEM;
 * c->err when malformed. */
static int decode_unsent(struct cursor *c, struct proto_answer *a)
{
	size_t n = cur_u32(c);

	/* each name takes at least its 4-byte length: n is checked before the
	 * allocation against what the frame can hold */
	if (c->err || n > JOB_MAX_NAMES || n > cur_left(c) / 4) {
		c->err = true;
		return 0;
	}
	if (!n)
		return 0;
	a->unsent = calloc(n, sizeof *a->unsent);
	if (!a->unsent)
		return -ENOMEM;
	for (size_t i = 0; i < n && !c->err; i++) {
		size_t l;
		const uint8_t *t = cur_blob(c, JOB_INPUT_PATH_MAX, &l);
		if (!t || !l || memchr(t, 0, l)) {
			c->err = true;
			break;
		}
		a->unsent[i] = strndup((const char *)t, l);
		if (!a->unsent[i])
			return -ENOMEM;
		a->nunsent = i + 1;
	}
	return 0;
}

int proto_decode_answer(const uint8_t *p, size_t len, struct proto_answer *a)
{
	struct cursor c = cur_init(p, len);
	struct job_outcome *o = &a->o;
	int rc;

	memset(a, 0, sizeof *a);
	proto_head(&c, PROTO_ANSWER);
	a->outcome = cur_u8(&c);
	o->status = (int32_t)cur_u32(&c);
	cur_str(&c, a->node, sizeof a->node);
	cur_str(&c, o->error, sizeof o->error);
	a->queue_us = cur_u64(&c);
	o->wall_us = cur_u64(&c);
	a->total_us = cur_u64(&c);
	o->out = cur_blob(&c, JOB_MAX_TEXT, &o->out_len);
	o->err = cur_blob(&c, JOB_MAX_TEXT, &o->err_len);
	o->obj = cur_blob(&c, JOB_MAX_OUTPUT, &o->obj_len);
	o->dwo = cur_blob(&c, JOB_MAX_OUTPUT, &o->dwo_len);
	o->dep = cur_blob(&c, JOB_MAX_TEXT, &o->dep_len);
	rc = decode_unsent(&c, a);
	if (a->outcome > HUB_FALLBACK || o->status < 0 || o->status > 255)
		c.err = true;
	if (rc || !cur_done(&c)) {
		proto_answer_free(a);
		memset(a, 0, sizeof *a);
		return rc ? rc : -EPROTO;
	}
	return 0;
}

void proto_answer_free(struct proto_answer *a)
{
	for (size_t i = 0; i < a->nunsent; i++)
		free(a->unsent[i]);
	free(a->unsent);
	a->unsent = NULL;
	a->nunsent = 0;
}

/* ---- STATUS ---- */

int proto_encode_status(struct buf *b, const struct hub_status *st)
{
	if (st->nnodes > PROTO_MAX_NODES)
		return -EINVAL;
	proto_begin(b, PROTO_STATUS);
	buf_u64(b, st->uptime_s);
	buf_u16(b, st->local_slots);
	buf_u16(b, st->local_used);
	buf_u32(b, st->queued);
	buf_u32(b, st->clients);
	buf_u64(b, st->jobs_total);
	buf_u64(b, st->jobs_remote);
	buf_u64(b, st->jobs_local);
	buf_u64(b, st->jobs_failed);
	buf_u64(b, st->jobs_retried);
	fo_encode_counters(b, &st->fo);
	proto_put_tree_status(b, &st->tree);
	buf_u16(b, (uint16_t)st->nnodes);
	for (size_t i = 0; i < st->nnodes; i++) {
		const struct status_node *n = &st->nodes[i];
		size_t nc = n->ncompilers > JOB_MAX_COMPILERS ? JOB_MAX_COMPILERS : n->ncompilers;
		buf_str(b, n->iface);
		buf_str(b, n->state);
		buf_str(b, n->peer);
		buf_str(b, n->name);
		buf_u64(b, n->epoch);
		buf_u16(b, n->slots);
		buf_u16(b, n->running);
		buf_u64(b, n->jobs_done);
		buf_u64(b, n->jobs_failed);
		buf_u64(b, n->bytes_out);
		buf_u64(b, n->bytes_in);
		buf_u64(b, n->wire_tx);
		buf_u64(b, n->wire_rx);
		buf_u64(b, n->frames_tx);
		buf_u64(b, n->frames_rx);
		buf_u64(b, n->retransmits);
		buf_u64(b, n->drops);
		buf_u64(b, n->sessions);
		buf_u32(b, n->srtt_us);
		buf_u32(b, n->speed);
		buf_u8(b, n->has_tele);
		buf_u32(b, n->tele.load_milli);
		buf_u16(b, n->tele.running);
		buf_u16(b, n->tele.slots);
		buf_u32(b, (uint32_t)n->tele.temp_mc);
		buf_u32(b, n->tele.freq_cur_khz);
		buf_u32(b, n->tele.freq_max_khz);
		buf_u64(b, n->tele.mem_total_kb);
		buf_u64(b, n->tele.mem_avail_kb);
		fo_encode_node(b, &n->fo);
		proto_put_node_store(b, n);
		buf_u16(b, (uint16_t)nc);
		for (size_t k = 0; k < nc; k++)
			buf_str(b, n->compilers[k]);
	}
	if (st->nserve > STATUS_SERVE_LINES)
		return -EINVAL;
	buf_u16(b, (uint16_t)st->nserve);
	for (size_t k = 0; k < st->nserve; k++)
		buf_str(b, st->serve[k]);
	const uint64_t tc[] = { st->tc.packs, st->tc.sent, st->tc.blobs, st->tc.bytes,
				st->tc.verified, st->tc.refused, st->tc.travel_jobs };
	for (size_t k = 0; k < sizeof tc / sizeof tc[0]; k++)
		buf_u64(b, tc[k]);
	return proto_end(b);
}

/* One node of a STATUS: 0, or -ENOMEM; c->err when malformed. */
static int decode_node(struct cursor *c, struct status_node *n)
{
	size_t nc;
	uint8_t ht;

	cur_str(c, n->iface, sizeof n->iface);
	cur_str(c, n->state, sizeof n->state);
	cur_str(c, n->peer, sizeof n->peer);
	cur_str(c, n->name, sizeof n->name);
	n->epoch = cur_u64(c);
	n->slots = cur_u16(c);
	n->running = cur_u16(c);
	n->jobs_done = cur_u64(c);
	n->jobs_failed = cur_u64(c);
	n->bytes_out = cur_u64(c);
	n->bytes_in = cur_u64(c);
	n->wire_tx = cur_u64(c);
	n->wire_rx = cur_u64(c);
	n->frames_tx = cur_u64(c);
	n->frames_rx = cur_u64(c);
	n->retransmits = cur_u64(c);
	n->drops = cur_u64(c);
	n->sessions = cur_u64(c);
	n->srtt_us = cur_u32(c);
	n->speed = cur_u32(c);
	ht = cur_u8(c);
	if (ht > 1)
		c->err = true;
	n->has_tele = ht;
	n->tele.load_milli = cur_u32(c);
	n->tele.running = cur_u16(c);
	n->tele.slots = cur_u16(c);
	n->tele.temp_mc = (int32_t)cur_u32(c);
	n->tele.freq_cur_khz = cur_u32(c);
	n->tele.freq_max_khz = cur_u32(c);
	n->tele.mem_total_kb = cur_u64(c);
	n->tele.mem_avail_kb = cur_u64(c);
	fo_decode_node(c, &n->fo);
	proto_get_node_store(c, n);
	nc = cur_u16(c);
	if (c->err || nc > JOB_MAX_COMPILERS) {
		c->err = true;
		return 0;
	}
	if (nc && !(n->compilers = calloc(nc, sizeof *n->compilers)))
		return -ENOMEM;
	n->ncompilers = nc;
	for (size_t k = 0; k < nc; k++)
		cur_str(c, n->compilers[k], STATUS_COMPILER_MAX);
	return 0;
}

/* Which board serves which compiler asked for, and why not: 0 or -ENOMEM. */
static int decode_serve(struct cursor *c, struct hub_status *st)
{
	size_t ns = cur_u16(c);

	if (ns > STATUS_SERVE_LINES) {
		c->err = true;
		return 0;
	}
	if (!ns)
		return 0;
	st->serve = calloc(ns, sizeof *st->serve);
	if (!st->serve)
		return -ENOMEM;
	st->nserve = ns;
	for (size_t k = 0; k < ns; k++)
		cur_str(c, st->serve[k], STATUS_SERVE_MAX);
	return 0;
}

int proto_decode_status(const uint8_t *p, size_t len, struct hub_status *st)
{
	struct cursor c = cur_init(p, len);
	size_t nn;
	int rc = 0;

	memset(st, 0, sizeof *st);
	proto_head(&c, PROTO_STATUS);
	st->uptime_s = cur_u64(&c);
	st->local_slots = cur_u16(&c);
	st->local_used = cur_u16(&c);
	st->queued = cur_u32(&c);
	st->clients = cur_u32(&c);
	st->jobs_total = cur_u64(&c);
	st->jobs_remote = cur_u64(&c);
	st->jobs_local = cur_u64(&c);
	st->jobs_failed = cur_u64(&c);
	st->jobs_retried = cur_u64(&c);
	fo_decode_counters(&c, &st->fo);
	proto_get_tree_status(&c, &st->tree);
	nn = cur_u16(&c);
	if (c.err || nn > PROTO_MAX_NODES)
		return -EPROTO;
	if (nn && !(st->nodes = calloc(nn, sizeof *st->nodes)))
		return -ENOMEM;
	st->nnodes = nn;
	for (size_t i = 0; i < nn && !c.err && !rc; i++)
		rc = decode_node(&c, &st->nodes[i]);
	if (!c.err && !rc)
		rc = decode_serve(&c, st);
	uint64_t *tc[] = { &st->tc.packs, &st->tc.sent, &st->tc.blobs, &st->tc.bytes,
			   &st->tc.verified, &st->tc.refused, &st->tc.travel_jobs };
	for (size_t k = 0; k < sizeof tc / sizeof tc[0] && !rc; k++)
		*tc[k] = cur_u64(&c);
	if (rc || !cur_done(&c)) {
		proto_status_free(st);
		return rc ? rc : -EPROTO;
	}
	return 0;
}

void proto_status_free(struct hub_status *st)
{
	for (size_t i = 0; i < st->nnodes; i++)
		free(st->nodes[i].compilers);
	free(st->nodes);
	st->nodes = NULL;
	st->nnodes = 0;
	free(st->serve);
	st->serve = NULL;
	st->nserve = 0;
}

static int set_timeo(int fd, int opt, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	return setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv) < 0 ? -errno : 0;
}

int proto_set_deadlines(int fd, int send_ms, int recv_ms)
{
	int rc = set_timeo(fd, SO_SNDTIMEO, send_ms);
	return rc < 0 ? rc : set_timeo(fd, SO_RCVTIMEO, recv_ms);
}

int proto_connect(const char *path, int *out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	if (strlen(path) >= sizeof sa.sun_path)
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a unix connect blocks while the listener's backlog is full (a frozen
	 * hubd): SO_SNDTIMEO bounds it */
	rc = proto_set_deadlines(fd, PROTO_CONNECT_MS, PROTO_IO_MS);
	if (rc == 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		rc = errno == EAGAIN || errno == EINPROGRESS ? -ETIMEDOUT : -errno;
	if (rc == 0)
		rc = proto_set_deadlines(fd, PROTO_IO_MS, PROTO_IO_MS);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}
