/*
 * proto_tree.c — the tree-job messages on hubd's socket (issue 11, see
 * proto.h): SUBMIT_TREE (a job's inputs by hash), NEED (which inputs' bytes
 * hubd wants), BLOBS (those bytes). Decoders read through the bounds-checked
 * cursor, must consume the frame exactly, and check every count against its
 * cap and against what the frame can still hold before they allocate.
 */
#include "proto.h"
#include "proto_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The smallest wire size of one input (kind, path length, one path byte). */
#define IN_MIN_WIRE 6u

static bool path_ok(const char *p, size_t len, bool absolute)
{
	return len > 0 && len <= JOB_INPUT_PATH_MAX && p && !memchr(p, 0, len) &&
	       (!absolute || p[0] == '/');
}

static bool input_ok(const struct job_input *in)
{
	if (in->kind > JOB_IN_DIR || !path_ok(in->path, in->path_len, true))
		return false;
	if (in->kind == JOB_IN_LINK)
		return path_ok(in->target, in->target_len, false);
	if (in->kind == JOB_IN_FILE)
		return in->size <= JOB_BLOB_MAX && (in->mode & ~07777u) == 0;
	return true;
}

/* ---- SUBMIT_TREE ---- */

int proto_encode_submit_tree(struct buf *b, const struct proto_submit_tree *s)
{
	const struct job_tree *t = &s->t;
	int rc;

	if (s->s.d.input_len || t->nin == 0 || t->nin > JOB_MAX_INPUTS || t->nblob ||
	    strnlen(t->deps_name, sizeof t->deps_name) >= sizeof t->deps_name)
		return -EINVAL;
	for (size_t i = 0; i < t->nin; i++)
		if (!input_ok(&t->in[i]))
			return -EINVAL;
	proto_begin(b, PROTO_SUBMIT_TREE);
	rc = proto_put_submit(b, &s->s);
	if (rc < 0)
		return rc;
	buf_u32(b, (uint32_t)t->nin);
	for (size_t i = 0; i < t->nin; i++) {
		const struct job_input *in = &t->in[i];
		buf_u8(b, in->kind);
		buf_blob(b, in->path, in->path_len);
		if (in->kind == JOB_IN_LINK)
			buf_blob(b, in->target, in->target_len);
		if (in->kind == JOB_IN_FILE) {
			buf_put(b, in->hash, sizeof in->hash);
			buf_u64(b, in->size);
			buf_u32(b, in->mode);
		}
	}
	buf_str(b, t->deps_name);
	buf_u8(b, t->complete);
	buf_u64(b, s->scan_us);
	buf_u8(b, s->learned);
	return proto_end(b);
}

static void get_input(struct cursor *c, struct job_input *in)
{
	size_t l;

	in->kind = cur_u8(c);
	in->path = (const char *)cur_blob(c, JOB_INPUT_PATH_MAX, &l);
	in->path_len = (uint32_t)l;
	if (in->kind == JOB_IN_LINK) {
		in->target = (const char *)cur_blob(c, JOB_INPUT_PATH_MAX, &l);
		in->target_len = (uint32_t)l;
	}
	if (in->kind == JOB_IN_FILE) {
		cur_copy(c, in->hash, sizeof in->hash);
		in->size = cur_u64(c);
		in->mode = cur_u32(c);
	}
	if (!c->err && !input_ok(in))
		c->err = true;
}

int proto_decode_submit_tree(const uint8_t *p, size_t len, struct proto_submit_tree *s)
{
	struct cursor c = cur_init(p, len);
	struct job_tree *t = &s->t;
	size_t n;
	int rc;

	memset(s, 0, sizeof *s);
	proto_head(&c, PROTO_SUBMIT_TREE);
	rc = proto_get_submit(&c, &s->s);
	if (rc < 0)
		goto fail;
	n = cur_u32(&c);
	if (c.err || n == 0 || n > JOB_MAX_INPUTS || n > cur_left(&c) / IN_MIN_WIRE)
		goto fail;
	t->in = calloc(n, sizeof *t->in);
	if (!t->in) {
		rc = -ENOMEM;
		goto fail;
	}
	t->nin = n;
	for (size_t i = 0; i < n && !c.err; i++)
		get_input(&c, &t->in[i]);
	cur_str(&c, t->deps_name, sizeof t->deps_name);
	uint8_t complete = cur_u8(&c);
	if (complete > 1)
		c.err = true;
	t->complete = complete;
	s->scan_us = cur_u64(&c);
	uint8_t learned = cur_u8(&c);
	if (complete > 1 || learned > 1)
		c.err = true;
	s->learned = learned;
	if (cur_done(&c))
		return 0;
fail:
	proto_submit_tree_free(s);
	return rc < 0 ? rc : -EPROTO;
}

void proto_submit_tree_free(struct proto_submit_tree *s)
{
	proto_submit_free(&s->s);
	free(s->t.in);
	s->t.in = NULL;
	s->t.nin = 0;
}

/* ---- NEED ---- */

int proto_encode_need(struct buf *b, const struct proto_need *n)
{
	if (n->n == 0 || n->n > PROTO_MAX_NEED)
		return -EINVAL;
	for (size_t i = 1; i < n->n; i++)
		if (n->idx[i] <= n->idx[i - 1])
			return -EINVAL;	/* strictly increasing: no index twice */
	proto_begin(b, PROTO_NEED);
	buf_u32(b, (uint32_t)n->n);
	for (size_t i = 0; i < n->n; i++)
		buf_u32(b, n->idx[i]);
	return proto_end(b);
}

int proto_decode_need(const uint8_t *p, size_t len, struct proto_need *n)
{
	struct cursor c = cur_init(p, len);
	size_t k;

	memset(n, 0, sizeof *n);
	proto_head(&c, PROTO_NEED);
	k = cur_u32(&c);
	if (c.err || k == 0 || k > PROTO_MAX_NEED || k != cur_left(&c) / 4)
		return -EPROTO;
	n->idx = calloc(k, sizeof *n->idx);
	if (!n->idx)
		return -ENOMEM;
	n->n = k;
	for (size_t i = 0; i < k; i++) {
		n->idx[i] = cur_u32(&c);
		if (i && n->idx[i] <= n->idx[i - 1])
			c.err = true;
	}
	if (!cur_done(&c)) {
		proto_need_free(n);
		return -EPROTO;
	}
	return 0;
}

void proto_need_free(struct proto_need *n)
{
	free(n->idx);
	n->idx = NULL;
	n->n = 0;
}

/* ---- BLOBS ---- */

int proto_encode_blobs(struct buf *b, const struct proto_blobs *bl)
{
	if (bl->n == 0 || bl->n > PROTO_MAX_NEED)
		return -EINVAL;
	for (size_t i = 0; i < bl->n; i++) {
		const struct proto_blob *x = &bl->b[i];
		if (x->len > JOB_BLOB_MAX || (x->changed && x->len) || (x->len && !x->data) ||
		    (i && x->idx <= bl->b[i - 1].idx))
			return -EINVAL;
	}
	proto_begin(b, PROTO_BLOBS);
	buf_u32(b, (uint32_t)bl->n);
	for (size_t i = 0; i < bl->n; i++) {
		buf_u32(b, bl->b[i].idx);
		buf_u8(b, bl->b[i].changed);
		buf_blob(b, bl->b[i].data, bl->b[i].len);
	}
	return proto_end(b);
}

int proto_decode_blobs(const uint8_t *p, size_t len, struct proto_blobs *bl)
{
	struct cursor c = cur_init(p, len);
	size_t k;

	memset(bl, 0, sizeof *bl);
	proto_head(&c, PROTO_BLOBS);
	k = cur_u32(&c);
	/* each blob takes at least 9 bytes (index, flag, length) */
	if (c.err || k == 0 || k > PROTO_MAX_NEED || k > cur_left(&c) / 9)
		return -EPROTO;
	bl->b = calloc(k, sizeof *bl->b);
	if (!bl->b)
		return -ENOMEM;
	bl->n = k;
	for (size_t i = 0; i < k && !c.err; i++) {
		struct proto_blob *x = &bl->b[i];
		uint8_t ch;
		x->idx = cur_u32(&c);
		ch = cur_u8(&c);
		x->data = cur_blob(&c, JOB_BLOB_MAX, &x->len);
		x->changed = ch;
		if (ch > 1 || (ch && x->len) || (i && x->idx <= bl->b[i - 1].idx))
			c.err = true;
	}
	if (!cur_done(&c)) {
		proto_blobs_free(bl);
		return -EPROTO;
	}
	return 0;
}

void proto_blobs_free(struct proto_blobs *bl)
{
	free(bl->b);
	bl->b = NULL;
	bl->n = 0;
}

/* ---- STATUS: tree jobs ---- */

void proto_put_tree_status(struct buf *b, const struct tree_counters *t)
{
	const uint64_t v[] = { t->jobs, t->sent, t->fallback, t->needs, t->blobs, t->blob_bytes,
			       t->resends, t->unsent, t->incomplete, t->changed, t->refused,
			       t->learned, t->text, t->text_other };
	uint8_t n = 0;

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		buf_u64(b, v[i]);
	while (n < STATUS_TEXT_WHYS && t->text_why[n].why[0])
		n++;
	buf_u8(b, n);
	for (uint8_t i = 0; i < n; i++) {
		buf_str(b, t->text_why[i].why);
		buf_u64(b, t->text_why[i].n);
	}
}

void proto_get_tree_status(struct cursor *c, struct tree_counters *t)
{
	uint64_t *v[] = { &t->jobs, &t->sent, &t->fallback, &t->needs, &t->blobs, &t->blob_bytes,
			  &t->resends, &t->unsent, &t->incomplete, &t->changed, &t->refused,
			  &t->learned, &t->text, &t->text_other };
	uint8_t n;

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		*v[i] = cur_u64(c);
	n = cur_u8(c);
	if (n > STATUS_TEXT_WHYS) {
		c->err = true;
		return;
	}
	for (uint8_t i = 0; i < n && !c->err; i++) {
		cur_str(c, t->text_why[i].why, sizeof t->text_why[i].why);
		t->text_why[i].n = cur_u64(c);
		if (!t->text_why[i].why[0])
			c->err = true;
	}
}

void proto_put_node_store(struct buf *b, const struct status_node *n)
{
	const struct status_store *s = &n->store;
	const struct job_telemetry *t = &n->tele;
	const uint64_t v[] = { s->store_id, s->store_cap, s->tree_jobs, s->blobs_sent,
			       s->blob_bytes, s->held_blobs, s->held_bytes, t->store_bytes,
			       t->store_blobs, t->store_hits, t->store_misses, t->store_corrupt };

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		buf_u64(b, v[i]);
}

void proto_get_node_store(struct cursor *c, struct status_node *n)
{
	struct status_store *s = &n->store;
	struct job_telemetry *t = &n->tele;
	uint64_t *v[] = { &s->store_id, &s->store_cap, &s->tree_jobs, &s->blobs_sent,
			  &s->blob_bytes, &s->held_blobs, &s->held_bytes, &t->store_bytes,
			  &t->store_blobs, &t->store_hits, &t->store_misses, &t->store_corrupt };

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		*v[i] = cur_u64(c);
}
