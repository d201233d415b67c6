/*
 * job.c — the hub<->node message codec (see job.h).
 *
 * Layout of each message (after the two-byte version/type header):
 *   JOB       u64 id, compiler, u16 nargs, nargs x str, str input_name,
 *             str output_name, str hub_cwd, u8 flags (bit0 want_dwo, bit1
 *             tree, bit2 utf8), u32 cpu_s, u64 mem, u64 out_bytes, u32 timeout_ms,
 *             blob input (empty for a tree job), then for a tree job only:
 *             u64 dict_gen, u32 nin, nin x (input, u32 id), u32 nref, nref x
 *             varint (the first id, then each id minus the one before: the
 *             ids strictly increasing), u32 nblob, nblob x (hash, blob
 *             bytes), str deps_name, u8 complete, u32 toolchain_n
 *   RESULT    u64 id, i32 status, i32 farm_error, str error, u64 wall_us,
 *             u64 cpu_us, u64 node_us, blob out, blob err, blob obj, blob dwo,
 *             blob dep, u8 dep_lz (0 the file, 1 packed: job_dep.c),
 *             u32 nmissing, nmissing x hash, u32 nunsent, nunsent x name
 *   CANCEL    u64 id
 *   TELEMETRY u32 load, u16 running, u16 slots, i32 temp, u32 fcur, u32 fmax,
 *             u64 mem_total, u64 mem_avail, u64 store_bytes, u64 store_blobs,
 *             u64 store_hits, u64 store_misses, u64 store_corrupt
 *   NODEINFO  u16 slots, u8 complete, str name, u64 store_id, u64 store_cap,
 *             u16 n, n x compiler
 * compiler = compiler_encode()'s form (lib/compiler.c; no path).
 * input    = u8 kind, path; FILE: hash, u64 size, u32 mode; LINK: path
 *            (the target); DIR: nothing more.
 * path     = u16 length (1..JOB_INPUT_PATH_MAX), bytes without NUL; an
 *            input's path starts with '/'. hash = 32 bytes.
 * varint   = LEB128: 7 bits a byte, low first, at most 5 bytes, no more
 *            than 32 bits, no needless trailing zero byte.
 */
#include "job.h"
#include "argv_wire.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_header(struct buf *b, enum job_msg_type t)
{
	buf_u8(b, JOB_WIRE_VERSION);
	buf_u8(b, (uint8_t)t);
}

static bool get_header(struct cursor *c, enum job_msg_type want)
{
	uint8_t v = cur_u8(c), t = cur_u8(c);
	if (c->err || v != JOB_WIRE_VERSION || t != want) {
		c->err = true;
		return false;
	}
	return true;
}

int job_peek_type(const void *msg, size_t len, enum job_msg_type *type)
{
	const uint8_t *p = msg;
	if (len < 2 || p[0] != JOB_WIRE_VERSION || p[1] < JOB_MSG_JOB ||
	    p[1] > JOB_MSG_NODEINFO)
		return -EPROTO;
	*type = (enum job_msg_type)p[1];
	return 0;
}

/* ---- checks (an identity's wire form is compiler.c's) ---- */

static bool fits(const char *s, size_t cap)
{
	return strnlen(s, cap) < cap;
}

static bool cwd_ok(const char *cwd)
{
	return cwd[0] == '/' && fits(cwd, JOB_CWD_MAX);
}

/* ---- the job description and outcome ---- */

int job_desc_set_names(struct job_desc *d, const char *input_name, const char *output_name,
		       const char *cwd)
{
	if (!fits(input_name, JOB_NAME_MAX) || !fits(output_name, JOB_NAME_MAX) ||
	    !fits(cwd, JOB_CWD_MAX))
		return -ENAMETOOLONG;
	snprintf(d->input_name, sizeof d->input_name, "%s", input_name);
	snprintf(d->output_name, sizeof d->output_name, "%s", output_name);
	snprintf(d->cwd, sizeof d->cwd, "%s", cwd);
	return 0;
}

bool job_desc_ok(const struct job_desc *d)
{
	return argv_wire_check(d->args, d->nargs) == 0 && fits(d->input_name, JOB_NAME_MAX) &&
	       fits(d->output_name, JOB_NAME_MAX) && fits(d->cwd, JOB_CWD_MAX) &&
	       d->input_len <= JOB_MAX_INPUT && (d->input_len == 0 || d->input);
}

void job_desc_put_args(struct buf *b, const struct job_desc *d)
{
	argv_wire_encode(b, d->args, d->nargs);
}

int job_desc_get_args(struct cursor *c, struct job_desc *d)
{
	int nargs = 0;

	d->args = argv_wire_decode(c, &nargs);
	if (!d->args)
		return c->err ? -EPROTO : -ENOMEM;
	d->nargs = nargs;
	return 0;
}

void job_desc_free(struct job_desc *d)
{
	free(d->args);
	d->args = NULL;
	d->nargs = 0;
}

bool job_outcome_ok(const struct job_outcome *o)
{
	return o->out_len <= JOB_MAX_TEXT && o->err_len <= JOB_MAX_TEXT &&
	       o->obj_len <= JOB_MAX_OUTPUT && o->dwo_len <= JOB_MAX_OUTPUT &&
	       o->dep_len <= JOB_MAX_TEXT && (o->dep_len == 0 || o->dep) &&
	       fits(o->error, JOB_ERROR_MAX);
}

/* ---- a tree job's inputs and blobs (JOB), a RESULT's names ---- */

#define JOB_FLAG_DWO 1u
#define JOB_FLAG_TREE 2u
#define JOB_FLAG_UTF8 4u
#define INPUT_WIRE_MIN 7u	/* kind, u16 path length, u32 id (a DIR; its path >= 1 more) */
#define BLOB_WIRE_MIN 36u	/* hash, u32 length */
#define NAME_WIRE_MIN 3u	/* u16 length, one byte */

static bool path_ok(const char *p, size_t n)
{
	return p && n >= 1 && n <= JOB_INPUT_PATH_MAX && !memchr(p, 0, n);
}

static void put_path(struct buf *b, const char *p, size_t n)
{
	buf_u16(b, (uint16_t)n);
	buf_put(b, p, n);
}

/* A path (a view into the message), or NULL with the cursor's err set. */
static const char *get_path(struct cursor *c, uint32_t *len)
{
	uint16_t n = cur_u16(c);
	const uint8_t *p = cur_take(c, n);

	*len = 0;
	if (!p || !path_ok((const char *)p, n)) {
		c->err = true;
		return NULL;
	}
	*len = n;
	return (const char *)p;
}

static bool input_ok(const struct job_input *in)
{
	if (in->kind > JOB_IN_DIR || !path_ok(in->path, in->path_len) || in->path[0] != '/')
		return false;
	if (in->kind == JOB_IN_FILE)
		return in->size <= JOB_BLOB_MAX && (in->mode & ~07777u) == 0;
	if (in->kind == JOB_IN_LINK)
		return path_ok(in->target, in->target_len);
	return true;
}

/* toolchain_n: the last entries, at most all of them, the first of
 * which (the driver) a file or a link; sent whole, never kept in the
 * board's input table (id NONE), so they stay the last of the inputs the
 * board resolves (tree_wire_resolve puts the refs first). */
static bool toolchain_ok(const struct job_tree *t)
{
	if (t->toolchain_n == 0)
		return true;
	if (t->toolchain_n > t->nin || t->in[t->nin - t->toolchain_n].kind == JOB_IN_DIR)
		return false;
	for (size_t i = t->nin - t->toolchain_n; t->dict_gen && i < t->nin; i++)
		if (t->in[i].id != JOB_DICT_NONE)
			return false;
	return true;
}

/* An input's id on the wire: NONE without a table, else NONE or a table
 * id (an encoder without a table writes NONE whatever in->id says). */
static bool id_ok(const struct job_tree *t, uint32_t id)
{
	return id == JOB_DICT_NONE || (t->dict_gen && id < JOB_DICT_MAX);
}

static void put_varint(struct buf *b, uint32_t v)
{
	while (v >= 0x80) {
		buf_u8(b, (uint8_t)(v | 0x80));
		v >>= 7;
	}
	buf_u8(b, (uint8_t)v);
}

static uint32_t get_varint(struct cursor *c)
{
	uint32_t v = 0;

	for (int i = 0; i < 5; i++) {
		uint8_t x = cur_u8(c);
		if (c->err)
			return 0;
		if (i == 4 && x > 0x0f) {
			c->err = true;	/* over 32 bits */
			return 0;
		}
		v |= (uint32_t)(x & 0x7f) << (7 * i);
		if (!(x & 0x80)) {
			if (i && !x)
				c->err = true;	/* a needless zero byte */
			return v;
		}
	}
	c->err = true;
	return 0;
}

static bool tree_ok(const struct job_tree *t)
{
	uint64_t bytes = 0;

	if (t->nin > JOB_MAX_INPUTS || t->nblob > JOB_MAX_BLOBS || (t->nin && !t->in) ||
	    (t->nblob && !t->blob) || !fits(t->deps_name, JOB_NAME_MAX) || !toolchain_ok(t))
		return false;
	if (t->nref > JOB_MAX_INPUTS - t->nin || (t->nref && (!t->ref || !t->dict_gen)))
		return false;
	for (size_t i = 0; i < t->nin; i++)
		if (!input_ok(&t->in[i]) || (t->dict_gen && !id_ok(t, t->in[i].id)))
			return false;
	for (size_t i = 0; i < t->nref; i++)
		if (t->ref[i] >= JOB_DICT_MAX || (i && t->ref[i] <= t->ref[i - 1]))
			return false;
	for (size_t i = 0; i < t->nblob; i++) {
		const struct job_blob *bl = &t->blob[i];
		if (bl->len > JOB_BLOB_MAX || (bl->len && !bl->data))
			return false;
		bytes += bl->len;
		if (bytes > JOB_MAX_INPUT)
			return false;
	}
	return true;
}

static void put_tree(struct buf *b, const struct job_tree *t)
{
	buf_u64(b, t->dict_gen);
	buf_u32(b, (uint32_t)t->nin);
	for (size_t i = 0; i < t->nin; i++) {
		const struct job_input *in = &t->in[i];
		buf_u8(b, in->kind);
		put_path(b, in->path, in->path_len);
		if (in->kind == JOB_IN_FILE) {
			buf_put(b, in->hash, sizeof in->hash);
			buf_u64(b, in->size);
			buf_u32(b, in->mode);
		} else if (in->kind == JOB_IN_LINK) {
			put_path(b, in->target, in->target_len);
		}
		buf_u32(b, t->dict_gen ? in->id : JOB_DICT_NONE);	/* no table: no ids */
	}
	buf_u32(b, (uint32_t)t->nref);
	for (size_t i = 0; i < t->nref; i++)
		put_varint(b, i ? t->ref[i] - t->ref[i - 1] : t->ref[0]);
	buf_u32(b, (uint32_t)t->nblob);
	for (size_t i = 0; i < t->nblob; i++) {
		buf_put(b, t->blob[i].hash, sizeof t->blob[i].hash);
		buf_blob(b, t->blob[i].data, t->blob[i].len);
	}
	buf_str(b, t->deps_name);
	buf_u8(b, t->complete ? 1 : 0);
	buf_u32(b, t->toolchain_n);
}

static void get_input(struct cursor *c, struct job_input *in)
{
	in->kind = cur_u8(c);
	in->path = get_path(c, &in->path_len);
	if (in->kind == JOB_IN_FILE) {
		cur_copy(c, in->hash, sizeof in->hash);
		in->size = cur_u64(c);
		in->mode = cur_u32(c);
	} else if (in->kind == JOB_IN_LINK) {
		in->target = get_path(c, &in->target_len);
	}
	in->id = cur_u32(c);
	if (!c->err && !input_ok(in))
		c->err = true;
}

/* The refs: each id at least one byte; strictly increasing, in range. */
static int get_refs(struct cursor *c, struct job_tree *t)
{
	uint32_t n = cur_u32(c), id = 0;

	if (c->err || n > JOB_MAX_INPUTS - t->nin || n > cur_left(c) || (n && !t->dict_gen))
		return -EPROTO;
	if (n && !(t->ref = malloc(n * sizeof *t->ref)))
		return -ENOMEM;
	t->nref = n;
	for (uint32_t i = 0; i < n && !c->err; i++) {
		uint32_t d = get_varint(c);
		if ((i && d == 0) || d >= JOB_DICT_MAX - id)
			c->err = true;
		id = i ? id + d : d;
		t->ref[i] = id;
	}
	return c->err ? -EPROTO : 0;
}

/* The tree part; arrays allocated only as far as the bytes left could
 * describe them. -EPROTO or -ENOMEM leave what was allocated in t (the
 * caller's job_spec_free releases it). */
static int get_tree(struct cursor *c, struct job_tree *t)
{
	uint64_t bytes = 0;
	uint32_t n;
	int rc;

	t->dict_gen = cur_u64(c);
	n = cur_u32(c);
	if (c->err || n > JOB_MAX_INPUTS || (uint64_t)n * INPUT_WIRE_MIN > cur_left(c))
		return -EPROTO;
	if (n && !(t->in = calloc(n, sizeof *t->in)))
		return -ENOMEM;
	t->nin = n;
	for (uint32_t i = 0; i < n && !c->err; i++) {
		get_input(c, &t->in[i]);
		if (!c->err && !id_ok(t, t->in[i].id))
			c->err = true;
	}
	if (c->err)
		return -EPROTO;
	if ((rc = get_refs(c, t)) < 0)
		return rc;
	n = cur_u32(c);
	if (c->err || n > JOB_MAX_BLOBS || (uint64_t)n * BLOB_WIRE_MIN > cur_left(c))
		return -EPROTO;
	if (n && !(t->blob = calloc(n, sizeof *t->blob)))
		return -ENOMEM;
	t->nblob = n;
	for (uint32_t i = 0; i < n && !c->err; i++) {
		struct job_blob *bl = &t->blob[i];
		cur_copy(c, bl->hash, sizeof bl->hash);
		bl->data = cur_blob(c, JOB_BLOB_MAX, &bl->len);
		bytes += bl->len;
		if (bytes > JOB_MAX_INPUT)
			c->err = true;
	}
	cur_str(c, t->deps_name, sizeof t->deps_name);
	uint8_t complete = cur_u8(c);
	if (complete > 1)
		c->err = true;
	t->complete = complete;
	t->toolchain_n = cur_u32(c);
	if (!c->err && !toolchain_ok(t))
		c->err = true;
	return c->err ? -EPROTO : 0;
}

static bool names_ok(const struct job_result *r)
{
	if (r->nmissing > JOB_MAX_NAMES || r->nunsent > JOB_MAX_NAMES ||
	    (r->nmissing && !r->missing) || (r->nunsent && !r->unsent))
		return false;
	for (size_t i = 0; i < r->nunsent; i++)
		if (!r->unsent[i] ||
		    !path_ok(r->unsent[i], strnlen(r->unsent[i], JOB_INPUT_PATH_MAX + 1)))
			return false;
	return true;
}

static void put_names(struct buf *b, const struct job_result *r)
{
	buf_u32(b, (uint32_t)r->nmissing);
	buf_put(b, r->missing, r->nmissing * sizeof *r->missing);
	buf_u32(b, (uint32_t)r->nunsent);
	for (size_t i = 0; i < r->nunsent; i++)
		put_path(b, r->unsent[i], strlen(r->unsent[i]));
}

/* The unsent names as one block: the pointers (NULL-terminated), then the
 * NUL-terminated strings; a first pass over the views sizes it. */
static int get_unsent(struct cursor *c, struct job_result *r)
{
	uint32_t n = cur_u32(c), l;
	struct cursor scan;
	size_t total = 0;
	char **v, *s;

	if (c->err || n > JOB_MAX_NAMES || (uint64_t)n * NAME_WIRE_MIN > cur_left(c))
		return -EPROTO;
	if (!n)
		return 0;
	scan = *c;
	for (uint32_t i = 0; i < n; i++) {
		get_path(&scan, &l);
		total += (size_t)l + 1;
	}
	if (scan.err)
		return -EPROTO;
	v = malloc((n + 1) * sizeof *v + total);
	if (!v)
		return -ENOMEM;
	s = (char *)(v + n + 1);
	for (uint32_t i = 0; i < n; i++) {
		const char *p = get_path(c, &l);
		memcpy(s, p, l);
		s[l] = 0;
		v[i] = s;
		s += (size_t)l + 1;
	}
	v[n] = NULL;
	r->unsent = v;
	r->nunsent = n;
	return 0;
}

static int get_names(struct cursor *c, struct job_result *r)
{
	uint32_t n = cur_u32(c);

	if (c->err || n > JOB_MAX_NAMES || (uint64_t)n * sizeof *r->missing > cur_left(c))
		return -EPROTO;
	if (n) {
		r->missing = malloc(n * sizeof *r->missing);
		if (!r->missing)
			return -ENOMEM;
		cur_copy(c, r->missing, n * sizeof *r->missing);
		r->nmissing = n;
	}
	return get_unsent(c, r);
}

/* ---- JOB ---- */

int job_encode_job(struct buf *b, const struct job_spec *j)
{
	const struct job_desc *d = &j->d;

	if (!compiler_wire_ok(&j->compiler) || !job_desc_ok(d) || !cwd_ok(d->cwd))
		return -EINVAL;
	if (j->tree && (d->input_len || !tree_ok(&j->t)))
		return -EINVAL;
	put_header(b, JOB_MSG_JOB);
	buf_u64(b, j->job_id);
	compiler_encode(b, &j->compiler);
	job_desc_put_args(b, d);
	buf_str(b, d->input_name);
	buf_str(b, d->output_name);
	buf_str(b, d->cwd);
	buf_u8(b, (uint8_t)((d->want_dwo ? JOB_FLAG_DWO : 0) | (j->tree ? JOB_FLAG_TREE : 0) |
			    (d->utf8 ? JOB_FLAG_UTF8 : 0)));
	buf_u32(b, j->limits.cpu_s);
	buf_u64(b, j->limits.mem_bytes);
	buf_u64(b, j->limits.out_bytes);
	buf_u32(b, j->limits.timeout_ms);
	buf_blob(b, d->input, d->input_len);
	if (j->tree)
		put_tree(b, &j->t);
	return 0;
}

int job_decode_job(const void *msg, size_t len, struct job_spec *j)
{
	struct cursor c = cur_init(msg, len);
	struct job_desc *d = &j->d;
	int rc;

	memset(j, 0, sizeof *j);
	get_header(&c, JOB_MSG_JOB);
	j->job_id = cur_u64(&c);
	compiler_decode(&c, &j->compiler);
	if (c.err)
		return -EPROTO;
	rc = job_desc_get_args(&c, d);
	if (rc < 0)
		return rc;
	cur_str(&c, d->input_name, sizeof d->input_name);
	cur_str(&c, d->output_name, sizeof d->output_name);
	if (cur_str(&c, d->cwd, sizeof d->cwd) && !cwd_ok(d->cwd))
		c.err = true;
	uint8_t flags = cur_u8(&c);
	if (flags & ~(JOB_FLAG_DWO | JOB_FLAG_TREE | JOB_FLAG_UTF8))
		c.err = true;
	d->want_dwo = flags & JOB_FLAG_DWO;
	d->utf8 = flags & JOB_FLAG_UTF8;
	j->tree = flags & JOB_FLAG_TREE;
	j->limits.cpu_s = cur_u32(&c);
	j->limits.mem_bytes = cur_u64(&c);
	j->limits.out_bytes = cur_u64(&c);
	j->limits.timeout_ms = cur_u32(&c);
	d->input = cur_blob(&c, JOB_MAX_INPUT, &d->input_len);
	rc = 0;
	if (j->tree && !c.err)
		rc = d->input_len ? -EPROTO : get_tree(&c, &j->t);
	if (rc == 0 && !cur_done(&c))
		rc = -EPROTO;
	if (rc < 0)
		job_spec_free(j);
	return rc;
}

void job_spec_free(struct job_spec *j)
{
	job_desc_free(&j->d);
	free(j->t.in);
	free(j->t.blob);
	free(j->t.ref);
	j->t.in = NULL;
	j->t.blob = NULL;
	j->t.ref = NULL;
	j->t.nin = j->t.nblob = j->t.nref = 0;
}

/* ---- RESULT ---- */

int job_encode_result(struct buf *b, const struct job_result *r)
{
	const struct job_outcome *o = &r->o;

	if (!job_outcome_ok(o) || !names_ok(r))
		return -EINVAL;
	put_header(b, JOB_MSG_RESULT);
	buf_u64(b, r->job_id);
	buf_u32(b, (uint32_t)o->status);
	buf_u32(b, (uint32_t)r->farm_error);
	buf_str(b, o->error);
	buf_u64(b, o->wall_us);
	buf_u64(b, o->cpu_us);
	buf_u64(b, r->node_us);
	buf_blob(b, o->out, o->out_len);
	buf_blob(b, o->err, o->err_len);
	buf_blob(b, o->obj, o->obj_len);
	buf_blob(b, o->dwo, o->dwo_len);
	buf_blob(b, o->dep, o->dep_len);
	buf_u8(b, r->dep_lz ? 1 : 0);
	put_names(b, r);
	return 0;
}

int job_decode_result(const void *msg, size_t len, struct job_result *r)
{
	struct cursor c = cur_init(msg, len);
	struct job_outcome *o = &r->o;
	int rc;

	memset(r, 0, sizeof *r);
	get_header(&c, JOB_MSG_RESULT);
	r->job_id = cur_u64(&c);
	o->status = (int32_t)cur_u32(&c);
	r->farm_error = (int32_t)cur_u32(&c);
	cur_str(&c, o->error, sizeof o->error);
	o->wall_us = cur_u64(&c);
	o->cpu_us = cur_u64(&c);
	r->node_us = cur_u64(&c);
	o->out = cur_blob(&c, JOB_MAX_TEXT, &o->out_len);
	o->err = cur_blob(&c, JOB_MAX_TEXT, &o->err_len);
	o->obj = cur_blob(&c, JOB_MAX_OUTPUT, &o->obj_len);
	o->dwo = cur_blob(&c, JOB_MAX_OUTPUT, &o->dwo_len);
	o->dep = cur_blob(&c, JOB_MAX_TEXT, &o->dep_len);
	uint8_t dep_lz = cur_u8(&c);
	r->dep_lz = dep_lz == 1;
	/* A farm error is negative; a status is an exit code or 128+signal. */
	if (r->farm_error > 0 || o->status < 0 || o->status > 255 || dep_lz > 1)
		c.err = true;
	rc = c.err ? -EPROTO : get_names(&c, r);
	if (rc == 0 && !cur_done(&c))
		rc = -EPROTO;
	if (rc < 0) {
		job_result_free(r);
		memset(r, 0, sizeof *r);
	}
	return rc;
}

void job_result_free(struct job_result *r)
{
	free(r->missing);
	free(r->unsent);
	free(r->dep_buf);
	r->missing = NULL;
	r->unsent = NULL;
	r->dep_buf = NULL;
	r->nmissing = r->nunsent = 0;
}

/* ---- CANCEL ---- */

int job_encode_cancel(struct buf *b, uint64_t job_id)
{
	put_header(b, JOB_MSG_CANCEL);
	buf_u64(b, job_id);
	return 0;
}

int job_decode_cancel(const void *msg, size_t len, uint64_t *job_id)
{
	struct cursor c = cur_init(msg, len);
	get_header(&c, JOB_MSG_CANCEL);
	*job_id = cur_u64(&c);
	return cur_done(&c) ? 0 : -EPROTO;
}

/* ---- TELEMETRY ---- */

int job_encode_telemetry(struct buf *b, const struct job_telemetry *t)
{
	put_header(b, JOB_MSG_TELEMETRY);
	buf_u32(b, t->load_milli);
	buf_u16(b, t->running);
	buf_u16(b, t->slots);
	buf_u32(b, (uint32_t)t->temp_mc);
	buf_u32(b, t->freq_cur_khz);
	buf_u32(b, t->freq_max_khz);
	buf_u64(b, t->mem_total_kb);
	buf_u64(b, t->mem_avail_kb);
	buf_u64(b, t->store_bytes);
	buf_u64(b, t->store_blobs);
	buf_u64(b, t->store_hits);
	buf_u64(b, t->store_misses);
	buf_u64(b, t->store_corrupt);
	return 0;
}

int job_decode_telemetry(const void *msg, size_t len, struct job_telemetry *t)
{
	struct cursor c = cur_init(msg, len);
	memset(t, 0, sizeof *t);
	get_header(&c, JOB_MSG_TELEMETRY);
	t->load_milli = cur_u32(&c);
	t->running = cur_u16(&c);
	t->slots = cur_u16(&c);
	t->temp_mc = (int32_t)cur_u32(&c);
	t->freq_cur_khz = cur_u32(&c);
	t->freq_max_khz = cur_u32(&c);
	t->mem_total_kb = cur_u64(&c);
	t->mem_avail_kb = cur_u64(&c);
	t->store_bytes = cur_u64(&c);
	t->store_blobs = cur_u64(&c);
	t->store_hits = cur_u64(&c);
	t->store_misses = cur_u64(&c);
	t->store_corrupt = cur_u64(&c);
	if (!cur_done(&c)) {
		memset(t, 0, sizeof *t);
		return -EPROTO;
	}
	return 0;
}

/* ---- NODEINFO ---- */

int job_encode_nodeinfo(struct buf *b, const struct job_nodeinfo *ni, size_t max_len)
{
	size_t used, n = 0, limit = ni->ncompilers;

	if (!fits(ni->name, sizeof ni->name))
		return -EINVAL;
	for (size_t i = 0; i < ni->ncompilers; i++)
		if (!compiler_wire_ok(&ni->compilers[i]))
			return -EINVAL;
	if (limit > JOB_MAX_COMPILERS)
		limit = JOB_MAX_COMPILERS;
	used = 2 + 2 + 1 + 2 + strlen(ni->name) + 16 + 2;
	if (used > max_len)
		return -EINVAL;
	while (n < limit && used + compiler_wire_len(&ni->compilers[n]) <= max_len)
		used += compiler_wire_len(&ni->compilers[n++]);

	put_header(b, JOB_MSG_NODEINFO);
	buf_u16(b, ni->slots);
	buf_u8(b, n == ni->ncompilers ? 1 : 0);
	buf_str(b, ni->name);
	buf_u64(b, ni->store_id);
	buf_u64(b, ni->store_cap);
	buf_u16(b, (uint16_t)n);
	for (size_t i = 0; i < n; i++)
		compiler_encode(b, &ni->compilers[i]);
	return (int)n;
}

int job_decode_nodeinfo(const void *msg, size_t len, struct job_nodeinfo *ni)
{
	struct cursor c = cur_init(msg, len);
	uint8_t complete;
	uint16_t n;

	memset(ni, 0, sizeof *ni);
	get_header(&c, JOB_MSG_NODEINFO);
	ni->slots = cur_u16(&c);
	complete = cur_u8(&c);
	cur_str(&c, ni->name, sizeof ni->name);
	ni->store_id = cur_u64(&c);
	ni->store_cap = cur_u64(&c);
	n = cur_u16(&c);
	if (c.err || complete > 1 || n > JOB_MAX_COMPILERS)
		return -EPROTO;
	ni->complete = complete;
	if (n) {
		ni->compilers = calloc(n, sizeof *ni->compilers);
		if (!ni->compilers)
			return -ENOMEM;
	}
	for (uint16_t i = 0; i < n; i++)
		compiler_decode(&c, &ni->compilers[i]);
	ni->ncompilers = n;
	if (!cur_done(&c)) {
		job_nodeinfo_free(ni);
		return -EPROTO;
	}
	return 0;
}

void job_nodeinfo_free(struct job_nodeinfo *ni)
{
	free(ni->compilers);
	ni->compilers = NULL;
	ni->ncompilers = 0;
}
