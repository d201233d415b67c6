/*
 * sha256.h — SHA-256 (FIPS 180-4), for fingerprints; not for secrets.
 */
#ifndef USBFARM_SHA256_H
#define USBFARM_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;		/* bytes hashed so far */
	uint8_t blk[64];
	size_t n;		/* bytes in blk */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *p, size_t n);
void sha256_final(struct sha256 *s, uint8_t out[static 32]);
/* The first n bytes of a digest as 2n lowercase hex digits and a NUL. */
void sha256_hex(const uint8_t *d, size_t n, char *out);
/* One call: out = SHA-256(p[0..n)). */
void sha256(const void *p, size_t n, uint8_t out[static 32]);

#endif
