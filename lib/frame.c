/*
 * frame.c — encode and parse link frames (format in frame.h). The parser
 * reads only through a cursor and refuses any frame that is not consumed
 * exactly (DATA: the payload is, by definition, the rest).
 */
#include "frame.h"
#include "crc32c.h"
#include "cursor.h"

#include <string.h>

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
	return put32(put32(p, (uint32_t)(v >> 32)), (uint32_t)v);
}

static uint8_t *put_hdr(uint8_t *p, uint8_t type, uint64_t src, uint64_t dst)
{
	p = put16(p, FRAME_MAGIC);
	*p++ = FRAME_VERSION;
	*p++ = type;
	p = put64(p, src);
	return put64(p, dst);
}

static size_t finish(uint8_t *out, uint8_t *end)
{
	size_t n = (size_t)(end - out);
	put32(end, crc32c(0, out, n));
	return n + FRAME_CRC;
}

size_t frame_put_hello(uint8_t *out, size_t cap, uint8_t type, uint64_t src, uint64_t dst,
		       const struct frame_hello *h)
{
	size_t il = strnlen(h->ident, LINK_IDENT_MAX);
	if (il >= LINK_IDENT_MAX || h->app_len > LINK_APP_HELLO_MAX ||
	    FRAME_HDR + 22 + 2 + il + 4 + h->app_len + FRAME_CRC > cap)
		return 0;
	uint8_t *p = put_hdr(out, type, src, dst);
	p = put16(p, h->version);
	p = put64(p, h->boot);
	p = put32(p, h->caps);
	p = put32(p, h->max_frame);
	p = put16(p, (uint16_t)il);
	memcpy(p, h->ident, il);
	p += il;
	p = put32(p, (uint32_t)h->app_len);
	if (h->app_len)
		memcpy(p, h->app, h->app_len);
	return finish(out, p + h->app_len);
}

size_t frame_put_data(uint8_t *out, size_t cap, uint64_t src, uint64_t dst,
		      const struct frame_data *d)
{
	if (FRAME_DATA_OVERHEAD + (size_t)d->len > cap)
		return 0;
	uint8_t *p = put_hdr(out, FT_DATA, src, dst);
	p = put32(p, d->seq);
	p = put32(p, d->stream);
	p = put32(p, d->msg);
	p = put32(p, d->prev);
	p = put32(p, d->off);
	p = put32(p, d->total);
	*p++ = d->flags;
	if (d->len)
		memcpy(p, d->payload, d->len);
	return finish(out, p + d->len);
}

size_t frame_put_ack(uint8_t *out, size_t cap, uint64_t src, uint64_t dst,
		     const struct frame_ack *a)
{
	if (a->n > FRAME_SACK_MAX || FRAME_HDR + 9 + 8 * (size_t)a->n + FRAME_CRC > cap)
		return 0;
	uint8_t *p = put_hdr(out, FT_ACK, src, dst);
	p = put32(p, a->cum);
	p = put32(p, a->rwnd);
	*p++ = a->n;
	for (unsigned i = 0; i < a->n; i++) {
		p = put32(p, a->sack[i][0]);
		p = put32(p, a->sack[i][1]);
	}
	return finish(out, p);
}

size_t frame_put_empty(uint8_t *out, size_t cap, uint8_t type, uint64_t src, uint64_t dst)
{
	if (FRAME_HDR + FRAME_CRC > cap)
		return 0;
	return finish(out, put_hdr(out, type, src, dst));
}

static int parse_hello(struct cursor *c, struct frame_hello *h)
{
	h->version = cur_u16(c);
	h->boot = cur_u64(c);
	h->caps = cur_u32(c);
	h->max_frame = cur_u32(c);
	uint16_t il = cur_u16(c);
	if (!c->err && il >= LINK_IDENT_MAX)
		return FRAME_EBAD;
	const uint8_t *ip = cur_take(c, il);
	uint32_t al = cur_u32(c);
	if (!c->err && al > LINK_APP_HELLO_MAX)
		return FRAME_EBAD;
	h->app = cur_take(c, al);
	h->app_len = al;
	if (c->err)
		return FRAME_ESHORT;
	if ((il && memchr(ip, 0, il)) || h->boot == 0 || h->max_frame < FRAME_MIN_MTU ||
	    !cur_done(c))
		return FRAME_EBAD;
	memcpy(h->ident, ip, il);
	h->ident[il] = 0;
	return 0;
}

static int parse_data(struct cursor *c, struct frame_data *d)
{
	d->seq = cur_u32(c);
	d->stream = cur_u32(c);
	d->msg = cur_u32(c);
	d->prev = cur_u32(c);
	d->off = cur_u32(c);
	d->total = cur_u32(c);
	d->flags = cur_u8(c);
	if (c->err)
		return FRAME_ESHORT;
	d->len = (uint32_t)cur_left(c);
	d->payload = cur_take(c, d->len);
	if ((d->flags & ~FF_ALL) || d->off > d->total || d->len > d->total - d->off ||
	    (d->len == 0 && d->total != 0) || (d->off == 0) != (d->msg == d->seq) ||
	    ((d->flags & FF_PREV) && d->prev == d->msg) || (!(d->flags & FF_PREV) && d->prev))
		return FRAME_EBAD;
	return 0;
}

static int parse_ack(struct cursor *c, struct frame_ack *a)
{
	a->cum = cur_u32(c);
	a->rwnd = cur_u32(c);
	a->n = cur_u8(c);
	if (c->err)
		return FRAME_ESHORT;
	if (a->n > FRAME_SACK_MAX)
		return FRAME_EBAD;
	for (unsigned i = 0; i < a->n; i++) {
		a->sack[i][0] = cur_u32(c);
		a->sack[i][1] = cur_u32(c);
		/* ranges are non-empty, above cum, and not absurdly wide */
		if (!c->err && ((int32_t)(a->sack[i][0] - a->cum) <= 0 ||
				(int32_t)(a->sack[i][1] - a->sack[i][0]) <= 0 ||
				a->sack[i][1] - a->cum > (1u << 24)))
			return FRAME_EBAD;
	}
	if (c->err)
		return FRAME_ESHORT;
	return cur_done(c) ? 0 : FRAME_EBAD;
}

int frame_parse(const uint8_t *p, size_t len, struct frame *f)
{
	struct cursor c;
	uint32_t want;

	memset(f, 0, sizeof *f);
	if (len < 3)
		return FRAME_ESHORT;
	if (((p[0] << 8) | p[1]) != FRAME_MAGIC || p[2] != FRAME_VERSION)
		return FRAME_EFOREIGN;
	if (len < FRAME_HDR + FRAME_CRC)
		return FRAME_ESHORT;
	c = cur_init(p + len - FRAME_CRC, FRAME_CRC);
	want = cur_u32(&c);
	if (crc32c(0, p, len - FRAME_CRC) != want)
		return FRAME_ECRC;

	c = cur_init(p, len - FRAME_CRC);
	cur_take(&c, 3);
	f->type = cur_u8(&c);
	f->src = cur_u64(&c);
	f->dst = cur_u64(&c);
	if (f->src == 0)
		return FRAME_EBAD;
	switch (f->type) {
	case FT_HELLO:
	case FT_HELLO_ACK:
		return parse_hello(&c, &f->u.hello);
	case FT_DATA:
		return parse_data(&c, &f->u.data);
	case FT_ACK:
		return parse_ack(&c, &f->u.ack);
	case FT_KEEPALIVE:
	case FT_RESET:
		return cur_done(&c) ? 0 : FRAME_EBAD;
	default:
		return FRAME_EBAD;
	}
}
