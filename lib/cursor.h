/*
 * cursor.h — bounds-checked reader over untrusted bytes.
 *
 * Contract: every read checks `pos + n <= len` before touching memory. The
 * first failed read sets `err` and every later read fails too (and returns
 * zeroes), so a parser may read a whole structure and check `err` once at the
 * end. A message must be consumed exactly: call cur_done() last, it fails if
 * bytes are left over. Integers on the wire are big-endian.
 */
#ifndef USBFARM_CURSOR_H
#define USBFARM_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cursor {
	const uint8_t *p;
	size_t len;
	size_t pos;
	bool err;
};

static inline struct cursor cur_init(const void *p, size_t len)
{
	struct cursor c = { (const uint8_t *)p, len, 0, false };
	return c;
}

static inline size_t cur_left(const struct cursor *c)
{
	return c->err ? 0 : c->len - c->pos;
}

/* Returns a pointer to the next n bytes and advances, or NULL (and sets err). */
static inline const uint8_t *cur_take(struct cursor *c, size_t n)
{
	if (c->err || n > c->len - c->pos) {
		c->err = true;
		return NULL;
	}
	const uint8_t *r = c->p + c->pos;
	c->pos += n;
	return r;
}

static inline uint8_t cur_u8(struct cursor *c)
{
	const uint8_t *b = cur_take(c, 1);
	return b ? b[0] : 0;
}

static inline uint16_t cur_u16(struct cursor *c)
{
	const uint8_t *b = cur_take(c, 2);
	return b ? (uint16_t)((b[0] << 8) | b[1]) : 0;
}

static inline uint32_t cur_u32(struct cursor *c)
{
	const uint8_t *b = cur_take(c, 4);
	return b ? ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
			   ((uint32_t)b[2] << 8) | b[3]
		 : 0;
}

static inline uint64_t cur_u64(struct cursor *c)
{
	uint64_t hi = cur_u32(c);
	uint64_t lo = cur_u32(c);
	return (hi << 32) | lo;
}

static inline bool cur_copy(struct cursor *c, void *dst, size_t n)
{
	const uint8_t *b = cur_take(c, n);
	if (!b)
		return false;
	if (n)
		memcpy(dst, b, n);
	return true;
}

/*
 * A length-prefixed (u32) byte string of at most `max` bytes. Returns a
 * pointer into the buffer (not NUL-terminated) and its length in *n.
 */
static inline const uint8_t *cur_blob(struct cursor *c, size_t max, size_t *n)
{
	uint32_t l = cur_u32(c);
	if (l > max) {
		c->err = true;
		*n = 0;
		return NULL;
	}
	*n = l;
	return cur_take(c, l);
}

/*
 * A u16-length-prefixed string of at most `cap - 1` bytes copied into dst and
 * NUL-terminated. Embedded NUL bytes are refused.
 */
static inline bool cur_str(struct cursor *c, char *dst, size_t cap)
{
	uint16_t l = cur_u16(c);
	const uint8_t *b;
	if (c->err || cap == 0 || l >= cap) {
		c->err = true;
		if (cap)
			dst[0] = 0;
		return false;
	}
	b = cur_take(c, l);
	if (!b || (l && memchr(b, 0, l))) {
		c->err = true;
		dst[0] = 0;
		return false;
	}
	memcpy(dst, b, l);
	dst[l] = 0;
	return true;
}

/* True when everything was read without error and nothing is left over. */
static inline bool cur_done(const struct cursor *c)
{
	return !c->err && c->pos == c->len;
}

#endif
