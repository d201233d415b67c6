/*
 * buf.h — a growable byte buffer, and big-endian writers that match cursor.h.
 *
 * Invariants: `data` is NULL or points to `cap` allocated bytes, `len <= cap`.
 * A failed allocation sets `oom` and every later write is ignored, so an
 * encoder writes everything and checks buf_ok() once. buf_free() leaves an
 * empty buffer that may be reused.
 */
#ifndef USBFARM_BUF_H
#define USBFARM_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	bool oom;
};

#define BUF_INIT { NULL, 0, 0, false }

/* Ensures room for `extra` more bytes. 0 or -ENOMEM. */
int buf_reserve(struct buf *b, size_t extra);
void buf_free(struct buf *b);
/* Gives the bytes to the caller (to free()); the buffer becomes empty. */
uint8_t *buf_steal(struct buf *b, size_t *len);
static inline bool buf_ok(const struct buf *b) { return !b->oom; }

void buf_put(struct buf *b, const void *p, size_t n);
void buf_u8(struct buf *b, uint8_t v);
void buf_u16(struct buf *b, uint16_t v);
void buf_u32(struct buf *b, uint32_t v);
void buf_u64(struct buf *b, uint64_t v);
/* u32 length + bytes (read back with cur_blob). */
void buf_blob(struct buf *b, const void *p, size_t n);
/* u16 length + bytes, no NUL (read back with cur_str); fails (oom) if >= 65535. */
void buf_str(struct buf *b, const char *s);

/* Reads a whole file (at most `max` bytes) into b. 0 or -errno (-EFBIG). */
int buf_read_file(struct buf *b, const char *path, size_t max);
/* Reads all of fd until EOF (at most `max` bytes). 0 or -errno. */
int buf_read_fd(struct buf *b, int fd, size_t max);

/* write(2)/read(2) that own EINTR and short transfers. 0 or -errno (-EPIPE at EOF for read). */
int write_full(int fd, const void *p, size_t n);
int read_full(int fd, void *p, size_t n);

#endif
