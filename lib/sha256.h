/*
 * sha256.h — SHA-256 (FIPS 180-4), for fingerprints; not for secrets.
 *
 * Nettle's implementation (libnettle, with its x86_64 SHA-NI and ARM
 * assembly chosen at run time) behind this project's own names. The state
 * is nettle's struct sha256_ctx held in opaque storage, so that callers
 * need neither nettle's headers nor see its macros (nettle's own
 * sha256_init and sha256_update are macros for nettle_sha256_*):
 * lib/sha256.c checks at compile time that the storage fits.
 */
#ifndef USBFARM_SHA256_H
#define USBFARM_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	union {
		uint64_t align;
		unsigned char b[112];
	} ctx;			/* nettle's struct sha256_ctx; only sha256.c looks inside */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *p, size_t n);
/* The digest of what was hashed since sha256_init; s must be initialised
 * again before it is used for another message. */
void sha256_final(struct sha256 *s, uint8_t out[static 32]);
/* The first n bytes of a digest as 2n lowercase hex digits and a NUL. */
void sha256_hex(const uint8_t *d, size_t n, char *out);
/* One call: out = SHA-256(p[0..n)). */
void sha256(const void *p, size_t n, uint8_t out[static 32]);

#endif
