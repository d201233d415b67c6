/*
 * scand_proto.c — dcc <-> scan server messages (see scand_proto.h).
 */
#include "scand_proto.h"
#include "../lib/argv_wire.h"
#include "../lib/cursor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void scand_begin(struct buf *b, enum scand_type t)
{
	buf_u32(b, 0);
	buf_u8(b, SCAND_VERSION);
	buf_u8(b, (uint8_t)t);
}

int scand_end(struct buf *b)
{
	size_t n;

	if (!buf_ok(b) || b->len < 6)
		return -ENOMEM;
	n = b->len - 4;
	if (n > SCAND_MAX_FRAME)
		return -EMSGSIZE;
	b->data[0] = (uint8_t)(n >> 24);
	b->data[1] = (uint8_t)(n >> 16);
	b->data[2] = (uint8_t)(n >> 8);
	b->data[3] = (uint8_t)n;
	return 0;
}

int scand_type(const uint8_t *p, size_t len)
{
	if (len < 2 || p[0] != SCAND_VERSION || p[1] < SCAND_SCAN || p[1] > SCAND_STATS)
		return -EPROTO;
	return p[1];
}

static void head(struct cursor *c, enum scand_type t)
{
	if (cur_u8(c) != SCAND_VERSION || cur_u8(c) != t)
		c->err = true;
}

static bool fits(const char *s, size_t cap)
{
	return s && strnlen(s, cap) < cap;
}

/* A u32-length string of 1..cap-1 bytes, no NUL, into a malloc'd copy (NULL
 * with c->err when malformed, or *oom when out of memory). */
static char *get_dup(struct cursor *c, size_t cap, bool *oom)
{
	size_t l;
	const uint8_t *p = cur_blob(c, cap - 1, &l);
	char *s;

	if (!p || !l || memchr(p, 0, l)) {
		c->err = true;
		return NULL;
	}
	s = strndup((const char *)p, l);
	if (!s)
		*oom = true;
	return s;
}

static void put_str(struct buf *b, const char *s)
{
	buf_blob(b, s, strlen(s));
}

/* ---- SCAN ---- */

int scand_encode_req(struct buf *b, const struct scand_req *q)
{
	if (!fits(q->compiler, sizeof q->compiler) || !fits(q->cwd, sizeof q->cwd) ||
	    q->cwd[0] != '/' || q->argc < 1 || argv_wire_check(q->argv, q->argc))
		return -EINVAL;
	scand_begin(b, SCAND_SCAN);
	buf_str(b, q->compiler);
	buf_str(b, q->cwd);
	argv_wire_encode(b, q->argv, q->argc);
	return scand_end(b);
}

int scand_decode_req(const uint8_t *p, size_t len, struct scand_req *q)
{
	struct cursor c = cur_init(p, len);

	memset(q, 0, sizeof *q);
	head(&c, SCAND_SCAN);
	cur_str(&c, q->compiler, sizeof q->compiler);
	cur_str(&c, q->cwd, sizeof q->cwd);
	if (c.err || q->cwd[0] != '/')
		return -EPROTO;
	q->argv = argv_wire_decode(&c, &q->argc);
	if (!q->argv)
		return c.err ? -EPROTO : -ENOMEM;
	if (q->argc < 1 || !cur_done(&c)) {
		scand_req_free(q);
		return -EPROTO;
	}
	return 0;
}

void scand_req_free(struct scand_req *q)
{
	free(q->argv);
	q->argv = NULL;
	q->argc = 0;
}

/* ---- RESULT ---- */

static bool res_ok(const struct scan_result *r)
{
	if (r->nin > SCAND_MAX_ITEMS || r->nlinks > SCAND_MAX_ITEMS || r->ngaps > SCAND_MAX_ITEMS)
		return false;
	for (size_t i = 0; i < r->nin; i++)
		if (!fits(r->in[i].path, SCAND_PATH_MAX) || !r->in[i].path[0] ||
		    !fits(r->in[i].spelled, SCAND_PATH_MAX) || !r->in[i].spelled[0])
			return false;
	for (size_t i = 0; i < r->nlinks; i++)
		if (!fits(r->links[i].path, SCAND_PATH_MAX) || !r->links[i].path[0] ||
		    !fits(r->links[i].target, SCAND_PATH_MAX) || !r->links[i].target[0])
			return false;
	for (size_t i = 0; i < r->ngaps; i++)
		if (!fits(r->gaps[i].file, SCAND_PATH_MAX) || !r->gaps[i].file[0] ||
		    !fits(r->gaps[i].text, SCAND_PATH_MAX) || !r->gaps[i].text[0])
			return false;
	return true;
}

int scand_encode_res(struct buf *b, const struct scand_res *x)
{
	const struct scan_result *r = &x->r;

	if (!res_ok(r) || strnlen(r->err, sizeof r->err) >= sizeof r->err)
		return -EINVAL;
	scand_begin(b, SCAND_RESULT);
	buf_u32(b, (uint32_t)x->rc);
	buf_str(b, r->err);
	buf_u64(b, x->scan_us);
	buf_u8(b, (uint8_t)(x->time_macros | (x->gas_reads << 1)));	/* flags */
	buf_u8(b, r->incomplete);
	buf_u8(b, r->chain_asked);
	buf_u64(b, r->remembered);
	buf_u64(b, r->scanned);
	buf_u64(b, r->probes);
	buf_u32(b, (uint32_t)r->nin);
	for (size_t i = 0; i < r->nin; i++) {
		put_str(b, r->in[i].path);
		put_str(b, r->in[i].spelled);
		buf_put(b, r->in[i].sha256, 32);
		buf_u64(b, r->in[i].size);
		buf_u32(b, r->in[i].mode);
	}
	buf_u32(b, (uint32_t)r->nlinks);
	for (size_t i = 0; i < r->nlinks; i++) {
		put_str(b, r->links[i].path);
		put_str(b, r->links[i].target);
	}
	buf_u32(b, (uint32_t)r->ngaps);
	for (size_t i = 0; i < r->ngaps; i++) {
		put_str(b, r->gaps[i].file);
		put_str(b, r->gaps[i].text);
		buf_u8(b, r->gaps[i].remembered);
	}
	return scand_end(b);
}

/* A count of items each at least min bytes on the wire, then the array
 * of n items of size sz: NULL and *n = 0 when none (c->err when malformed,
 * *oom when out of memory). */
static void *get_array(struct cursor *c, size_t min, size_t sz, size_t *n, bool *oom)
{
	size_t k = cur_u32(c);
	void *a;

	*n = 0;
	if (c->err || k > SCAND_MAX_ITEMS || k > cur_left(c) / min) {
		c->err = true;
		return NULL;
	}
	if (!k)
		return NULL;
	a = calloc(k, sz);
	if (!a)
		*oom = true;
	else
		*n = k;
	return a;
}

static void get_inputs(struct cursor *c, struct scan_result *r, bool *oom)
{
	r->in = get_array(c, 4 + 1 + 4 + 1 + 32 + 8 + 4, sizeof *r->in, &r->nin, oom);
	for (size_t i = 0; i < r->nin && !c->err && !*oom; i++) {
		struct scan_input *in = &r->in[i];
		in->path = get_dup(c, SCAND_PATH_MAX, oom);
		in->spelled = get_dup(c, SCAND_PATH_MAX, oom);
		cur_copy(c, in->sha256, 32);
		in->size = cur_u64(c);
		in->mode = cur_u32(c);
	}
}

static void get_links_gaps(struct cursor *c, struct scan_result *r, bool *oom)
{
	r->links = get_array(c, 10, sizeof *r->links, &r->nlinks, oom);
	for (size_t i = 0; i < r->nlinks && !c->err && !*oom; i++) {
		r->links[i].path = get_dup(c, SCAND_PATH_MAX, oom);
		r->links[i].target = get_dup(c, SCAND_PATH_MAX, oom);
	}
	if (c->err || *oom)
		return;
	r->gaps = get_array(c, 11, sizeof *r->gaps, &r->ngaps, oom);
	for (size_t i = 0; i < r->ngaps && !c->err && !*oom; i++) {
		uint8_t rem;
		r->gaps[i].file = get_dup(c, SCAND_PATH_MAX, oom);
		r->gaps[i].text = get_dup(c, SCAND_PATH_MAX, oom);
		rem = cur_u8(c);
		if (rem > 1)
			c->err = true;
		r->gaps[i].remembered = rem;
	}
}

int scand_decode_res(const uint8_t *p, size_t len, struct scand_res *x)
{
	struct cursor c = cur_init(p, len);
	struct scan_result *r = &x->r;
	bool oom = false;
	uint8_t inc, asked, tm;

	memset(x, 0, sizeof *x);
	head(&c, SCAND_RESULT);
	x->rc = (int32_t)cur_u32(&c);
	cur_str(&c, r->err, sizeof r->err);
	x->scan_us = cur_u64(&c);
	tm = cur_u8(&c);
	inc = cur_u8(&c);
	asked = cur_u8(&c);
	if (tm > 3 || inc > 1 || asked > 1 || x->rc > 0)
		c.err = true;
	x->time_macros = tm & 1;
	x->gas_reads = tm >> 1;
	r->incomplete = inc;
	r->chain_asked = asked;
	r->remembered = cur_u64(&c);
	r->scanned = cur_u64(&c);
	r->probes = cur_u64(&c);
	get_inputs(&c, r, &oom);
	if (!c.err && !oom)
		get_links_gaps(&c, r, &oom);
	if (oom || !cur_done(&c)) {
		scan_result_free(r);
		return oom ? -ENOMEM : -EPROTO;
	}
	return 0;
}

/* ---- REMEMBER, ACK ---- */

int scand_encode_remember(struct buf *b, const struct scand_remember *m)
{
	if (!fits(m->file, sizeof m->file) || m->file[0] != '/' || m->n == 0 ||
	    m->n > SCAN_REMEMBER_MAX)
		return -EINVAL;
	for (size_t i = 0; i < m->n; i++)
		if (!fits(m->names[i], SCAND_PATH_MAX) || m->names[i][0] != '/')
			return -EINVAL;
	scand_begin(b, SCAND_REMEMBER);
	buf_str(b, m->file);
	buf_u32(b, (uint32_t)m->n);
	for (size_t i = 0; i < m->n; i++)
		put_str(b, m->names[i]);
	return scand_end(b);
}

int scand_decode_remember(const uint8_t *p, size_t len, struct scand_remember *m)
{
	struct cursor c = cur_init(p, len);
	bool oom = false;
	size_t k;

	memset(m, 0, sizeof *m);
	head(&c, SCAND_REMEMBER);
	cur_str(&c, m->file, sizeof m->file);
	k = cur_u32(&c);
	if (c.err || m->file[0] != '/' || k == 0 || k > SCAN_REMEMBER_MAX || k > cur_left(&c) / 5)
		return -EPROTO;
	m->names = calloc(k, sizeof *m->names);
	if (!m->names)
		return -ENOMEM;
	m->n = k;
	for (size_t i = 0; i < k && !c.err && !oom; i++) {
		m->names[i] = get_dup(&c, SCAND_PATH_MAX, &oom);
		if (m->names[i] && m->names[i][0] != '/')
			c.err = true;
	}
	if (oom || !cur_done(&c)) {
		scand_remember_free(m);
		return oom ? -ENOMEM : -EPROTO;
	}
	return 0;
}

void scand_remember_free(struct scand_remember *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->names[i]);
	free(m->names);
	m->names = NULL;
	m->n = 0;
}

int scand_encode_ack(struct buf *b, int32_t rc)
{
	scand_begin(b, SCAND_ACK);
	buf_u32(b, (uint32_t)rc);
	return scand_end(b);
}

int scand_decode_ack(const uint8_t *p, size_t len, int32_t *rc)
{
	struct cursor c = cur_init(p, len);

	head(&c, SCAND_ACK);
	*rc = (int32_t)cur_u32(&c);
	return cur_done(&c) && *rc <= 0 ? 0 : -EPROTO;
}

/* ---- STATS ---- */

int scand_encode_stats(struct buf *b, const struct scand_stats *s)
{
	const struct filetab_stats *f = &s->ft;

	scand_begin(b, SCAND_STATS);
	buf_u32(b, s->pid);
	buf_u64(b, s->uptime_s);
	buf_u64(b, s->clients);
	buf_u64(b, s->scans);
	buf_u64(b, s->scan_errors);
	buf_u64(b, s->remembers);
	buf_u64(b, f->jobs);
	buf_u64(b, f->lookups);
	buf_u64(b, f->lstats);
	buf_u64(b, f->neg_hits);
	buf_u64(b, f->hits);
	buf_u64(b, f->rehashes);
	buf_u64(b, f->racy_rehashes);
	buf_u64(b, f->bytes_hashed);
	buf_u64(b, f->evictions);
	buf_u64(b, f->nodes);
	buf_u64(b, f->contents);
	buf_u64(b, f->mem);
	return scand_end(b);
}

int scand_decode_stats(const uint8_t *p, size_t len, struct scand_stats *s)
{
	struct cursor c = cur_init(p, len);
	struct filetab_stats *f = &s->ft;

	memset(s, 0, sizeof *s);
	head(&c, SCAND_STATS);
	s->pid = cur_u32(&c);
	s->uptime_s = cur_u64(&c);
	s->clients = cur_u64(&c);
	s->scans = cur_u64(&c);
	s->scan_errors = cur_u64(&c);
	s->remembers = cur_u64(&c);
	f->jobs = cur_u64(&c);
	f->lookups = cur_u64(&c);
	f->lstats = cur_u64(&c);
	f->neg_hits = cur_u64(&c);
	f->hits = cur_u64(&c);
	f->rehashes = cur_u64(&c);
	f->racy_rehashes = cur_u64(&c);
	f->bytes_hashed = cur_u64(&c);
	f->evictions = cur_u64(&c);
	f->nodes = (size_t)cur_u64(&c);
	f->contents = (size_t)cur_u64(&c);
	f->mem = (size_t)cur_u64(&c);
	return cur_done(&c) ? 0 : -EPROTO;
}

/* ---- I/O ---- */

int scand_recv(int fd, struct buf *b)
{
	uint8_t h[4];
	uint32_t n;
	int rc = read_full(fd, h, 4);

	b->len = 0;
	if (rc < 0)
		return rc;
	n = ((uint32_t)h[0] << 24) | ((uint32_t)h[1] << 16) | ((uint32_t)h[2] << 8) | h[3];
	if (n < 2 || n > SCAND_MAX_FRAME)
		return -EPROTO;
	if (buf_reserve(b, n) < 0)
		return -ENOMEM;
	rc = read_full(fd, b->data, n);
	if (rc < 0)
		return rc;
	b->len = n;
	return 0;
}

int scand_send(int fd, const struct buf *b)
{
	return write_full(fd, b->data, b->len);
}
