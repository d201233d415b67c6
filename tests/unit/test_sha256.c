/* test_sha256.c — lib/sha256 (nettle underneath) against the FIPS 180-4 /
 * NIST example vectors (empty, "abc", the 448- and 896-bit messages, one
 * million 'a'), messages of 'a' around the padding boundaries (55, 56, 63,
 * 64, 65, 119, 120 bytes; digests from coreutils' sha256sum), streaming in
 * odd chunk sizes (including empty updates) equal to one call, a context
 * used again after sha256_final, and sha256_hex. */
#include "sha256.h"
#include "../lib/test.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *hexof(const uint8_t d[32])
{
	static char h[65];
	sha256_hex(d, 32, h);
	return h;
}

/* digest of p[0..n) fed in pieces of the sizes in step[] (cycled) */
static void streamed(const void *p, size_t n, const size_t *step, size_t nstep, uint8_t out[32])
{
	struct sha256 s;
	const uint8_t *b = p;
	size_t i = 0, k = 0;

	sha256_init(&s);
	while (i < n) {
		size_t take = step[k++ % nstep];
		if (take > n - i)
			take = n - i;
		sha256_update(&s, b + i, take);
		sha256_update(&s, b + i, 0);
		i += take;
	}
	sha256_final(&s, out);
}

static const struct { const char *msg, *digest; } nist[] = {
	{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
	  "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
};

static const struct { size_t n; const char *digest; } as[] = {
	{ 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
	{ 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
	{ 63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34" },
	{ 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
	{ 65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0" },
	{ 119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb" },
	{ 120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c" },
};

static const char million_a[] =
	"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

int main(void)
{
	uint8_t d[32];
	const size_t odd[] = { 1, 3, 7, 63, 64, 65, 127, 1000, 4093 };
	const size_t one = 1;
	size_t big = 1000000;
	char *a = malloc(big);

	if (!a)
		return 1;
	memset(a, 'a', big);

	T_CASE("sha256_nist_vectors") {
		for (size_t i = 0; i < sizeof nist / sizeof nist[0]; i++) {
			sha256(nist[i].msg, strlen(nist[i].msg), d);
			T_CHECK(!strcmp(hexof(d), nist[i].digest), "\"%.10s...\" (%zu bytes): %s",
				nist[i].msg, strlen(nist[i].msg), hexof(d));
		}
	}
	T_CASE("sha256_million_a") {
		sha256(a, big, d);
		T_CHECK(!strcmp(hexof(d), million_a), "one call: %s", hexof(d));
		streamed(a, big, odd, sizeof odd / sizeof odd[0], d);
		T_CHECK(!strcmp(hexof(d), million_a), "odd chunks: %s", hexof(d));
	}
	T_CASE("sha256_padding_boundaries") {
		for (size_t i = 0; i < sizeof as / sizeof as[0]; i++) {
			sha256(a, as[i].n, d);
			T_CHECK(!strcmp(hexof(d), as[i].digest), "%zu x 'a': %s", as[i].n, hexof(d));
			streamed(a, as[i].n, &one, 1, d);
			T_CHECK(!strcmp(hexof(d), as[i].digest), "%zu x 'a' bytewise: %s", as[i].n, hexof(d));
		}
	}
	T_CASE("sha256_streaming_every_chunk_size") {
		/* a message with no repeating pattern, so a lost or doubled
		 * piece changes the digest */
		uint8_t m[3000], want[32];
		uint32_t x = 2463534242u;
		for (size_t i = 0; i < sizeof m; i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			m[i] = (uint8_t)x;
		}
		sha256(m, sizeof m, want);
		for (size_t step = 1; step <= 200; step++) {
			streamed(m, sizeof m, &step, 1, d);
			T_CHECK(!memcmp(d, want, 32), "pieces of %zu differ", step);
		}
		streamed(m, sizeof m, odd, sizeof odd / sizeof odd[0], d);
		T_CHECK(!memcmp(d, want, 32), "odd pieces differ");
		m[1234] ^= 1;
		sha256(m, sizeof m, d);
		T_CHECK(memcmp(d, want, 32), "one bit flipped, same digest");
	}
	T_CASE("sha256_context_reused") {
		struct sha256 s;
		sha256_init(&s);
		sha256_update(&s, "not this", 8);
		sha256_final(&s, d);
		sha256_init(&s);
		sha256_update(&s, "ab", 2);
		sha256_update(&s, "c", 1);
		sha256_final(&s, d);
		T_CHECK(!strcmp(hexof(d), nist[1].digest), "abc after reuse: %s", hexof(d));
	}
	T_CASE("sha256_hex") {
		const uint8_t v[4] = { 0x00, 0x9f, 0xa0, 0xff };
		char h[9];
		memset(h, 'x', sizeof h);
		sha256_hex(v, 4, h);
		T_CHECK(!strcmp(h, "009fa0ff"), "4 bytes: %s", h);
		sha256_hex(v, 2, h);
		T_CHECK(!strcmp(h, "009f"), "prefix of 2: %s", h);
		sha256_hex(v, 0, h);
		T_CHECK(h[0] == 0, "empty: not terminated");
	}
	free(a);
	return t_done();
}
