/* sha256.c — SHA-256 (see sha256.h): Nettle's, under lib/sha256.h's names. */
#include <nettle/sha2.h>
/* nettle's sha256_init and sha256_update are macros for nettle_sha256_*;
 * here those two names are ours (sha256.h), nettle's are called by their
 * full names. */
#undef sha256_init
#undef sha256_update
#include "sha256.h"

_Static_assert(sizeof(struct sha256_ctx) <= sizeof(((struct sha256 *)0)->ctx),
	       "struct sha256 too small for nettle's sha256_ctx");
_Static_assert(_Alignof(struct sha256_ctx) <= _Alignof(struct sha256),
	       "struct sha256 less aligned than nettle's sha256_ctx");
_Static_assert(SHA256_DIGEST_SIZE == 32, "SHA-256 digest is 32 bytes");

static struct sha256_ctx *ctx(struct sha256 *s)
{
	return (struct sha256_ctx *)(void *)s->ctx.b;
}

void sha256_init(struct sha256 *s)
{
	nettle_sha256_init(ctx(s));
}

void sha256_update(struct sha256 *s, const void *p, size_t n)
{
	if (n)
		nettle_sha256_update(ctx(s), n, p);
}

void sha256_final(struct sha256 *s, uint8_t out[static 32])
{
	nettle_sha256_digest(ctx(s), SHA256_DIGEST_SIZE, out);
}

void sha256(const void *p, size_t n, uint8_t out[static 32])
{
	struct sha256 s;
	sha256_init(&s);
	sha256_update(&s, p, n);
	sha256_final(&s, out);
}

void sha256_hex(const uint8_t *d, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = x[d[i] >> 4];
		out[2 * i + 1] = x[d[i] & 15];
	}
	out[2 * n] = 0;
}
