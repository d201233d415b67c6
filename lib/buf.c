/* buf.c — growable byte buffer and full reads/writes (see buf.h). */
#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int buf_reserve(struct buf *b, size_t extra)
{
	size_t want, ncap;
	uint8_t *n;

	if (b->oom)
		return -ENOMEM;
	if (extra > SIZE_MAX - b->len)
		goto fail;
	want = b->len + extra;
	if (want <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < want) {
		if (ncap > SIZE_MAX / 2) {
			ncap = want;
			break;
		}
		ncap *= 2;
	}
	n = realloc(b->data, ncap);
	if (!n)
		goto fail;
	b->data = n;
	b->cap = ncap;
	return 0;
fail:
	b->oom = true;
	return -ENOMEM;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}

uint8_t *buf_steal(struct buf *b, size_t *len)
{
	uint8_t *d = b->data;
	*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}

void buf_put(struct buf *b, const void *p, size_t n)
{
	if (n == 0 || buf_reserve(b, n) < 0)
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void buf_u8(struct buf *b, uint8_t v)
{
	buf_put(b, &v, 1);
}

void buf_u16(struct buf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	buf_put(b, x, 2);
}

void buf_u32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
			 (uint8_t)v };
	buf_put(b, x, 4);
}

void buf_u64(struct buf *b, uint64_t v)
{
	buf_u32(b, (uint32_t)(v >> 32));
	buf_u32(b, (uint32_t)v);
}

void buf_blob(struct buf *b, const void *p, size_t n)
{
	if (n > UINT32_MAX) {
		b->oom = true;
		return;
	}
	buf_u32(b, (uint32_t)n);
	buf_put(b, p, n);
}

void buf_str(struct buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n >= 65535) {
		b->oom = true;
		return;
	}
	buf_u16(b, (uint16_t)n);
	buf_put(b, s, n);
}

int buf_read_fd(struct buf *b, int fd, size_t max)
{
	for (;;) {
		ssize_t r;
		if (buf_reserve(b, 65536) < 0)
			return -ENOMEM;
		r = read(fd, b->data + b->len, b->cap - b->len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return 0;
		b->len += (size_t)r;
		if (b->len > max)
			return -EFBIG;
	}
}

int buf_read_file(struct buf *b, const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r;
	if (fd < 0)
		return -errno;
	r = buf_read_fd(b, fd, max);
	close(fd);
	return r;
}

int write_full(int fd, const void *p, size_t n)
{
	const uint8_t *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int read_full(int fd, void *p, size_t n)
{
	uint8_t *c = p;
	while (n) {
		ssize_t r = read(fd, c, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EPIPE;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}
