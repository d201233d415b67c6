/*
 * job.c — the hub<->node message codec (see job.h).
 *
 * Layout of each message (after the two-byte version/type header):
 *   JOB       u64 id, compiler, u16 nargs, nargs x str, str input_name,
 *             str output_name, str hub_cwd, u8 flags (bit0 want_dwo), u32 cpu_s,
 *             u64 mem, u64 out_bytes, u32 timeout_ms, blob input
 *   RESULT    u64 id, i32 status, i32 farm_error, str error, u64 wall_us,
 *             u64 cpu_us, u64 node_us, blob out, blob err, blob obj, blob dwo
 *   CANCEL    u64 id
 *   TELEMETRY u32 load, u16 running, u16 slots, i32 temp, u32 fcur, u32 fmax,
 *             u64 mem_total, u64 mem_avail
 *   NODEINFO  u16 slots, u8 complete, str name, u16 n, n x compiler
 * compiler = compiler_encode()'s form (lib/compiler.c; no path).
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
	       fits(o->error, JOB_ERROR_MAX);
}

/* ---- JOB ---- */

int job_encode_job(struct buf *b, const struct job_spec *j)
{
	const struct job_desc *d = &j->d;

	if (!compiler_wire_ok(&j->compiler) || !job_desc_ok(d) || !cwd_ok(d->cwd))
		return -EINVAL;
	put_header(b, JOB_MSG_JOB);
	buf_u64(b, j->job_id);
	compiler_encode(b, &j->compiler);
	job_desc_put_args(b, d);
	buf_str(b, d->input_name);
	buf_str(b, d->output_name);
	buf_str(b, d->cwd);
	buf_u8(b, d->want_dwo ? 1 : 0);
	buf_u32(b, j->limits.cpu_s);
	buf_u64(b, j->limits.mem_bytes);
	buf_u64(b, j->limits.out_bytes);
	buf_u32(b, j->limits.timeout_ms);
	buf_blob(b, d->input, d->input_len);
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
	if (flags & ~1u)
		c.err = true;
	d->want_dwo = flags & 1;
	j->limits.cpu_s = cur_u32(&c);
	j->limits.mem_bytes = cur_u64(&c);
	j->limits.out_bytes = cur_u64(&c);
	j->limits.timeout_ms = cur_u32(&c);
	d->input = cur_blob(&c, JOB_MAX_INPUT, &d->input_len);
	if (!cur_done(&c)) {
		job_spec_free(j);
		return -EPROTO;
	}
	return 0;
}

void job_spec_free(struct job_spec *j)
{
	job_desc_free(&j->d);
}

/* ---- RESULT ---- */

int job_encode_result(struct buf *b, const struct job_result *r)
{
	const struct job_outcome *o = &r->o;

	if (!job_outcome_ok(o))
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
	return 0;
}

int job_decode_result(const void *msg, size_t len, struct job_result *r)
{
	struct cursor c = cur_init(msg, len);
	struct job_outcome *o = &r->o;

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
	/* A farm error is negative; a status is an exit code or 128+signal. */
	if (r->farm_error > 0 || o->status < 0 || o->status > 255)
		c.err = true;
	if (!cur_done(&c)) {
		memset(r, 0, sizeof *r);
		return -EPROTO;
	}
	return 0;
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
	used = 2 + 2 + 1 + 2 + strlen(ni->name) + 2;
	if (used > max_len)
		return -EINVAL;
	while (n < limit && used + compiler_wire_len(&ni->compilers[n]) <= max_len)
		used += compiler_wire_len(&ni->compilers[n++]);

	put_header(b, JOB_MSG_NODEINFO);
	buf_u16(b, ni->slots);
	buf_u8(b, n == ni->ncompilers ? 1 : 0);
	buf_str(b, ni->name);
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
