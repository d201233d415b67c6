/*
 * crc32c.c — CRC-32C: hardware (x86 SSE4.2) when available, else
 * slicing-by-8 tables built once on first use.
 */
#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#define POLY 0x82F63B78u

static uint32_t tab[8][256];
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

static void tab_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (POLY & (0u - (c & 1)));
		tab[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			tab[t][i] = (tab[t - 1][i] >> 8) ^ tab[0][tab[t - 1][i] & 0xff];
}

uint32_t crc32c_sw(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;
	pthread_once(&tab_once, tab_init);
	crc = ~crc;
	while (n && ((uintptr_t)b & 7)) {
		crc = (crc >> 8) ^ tab[0][(crc ^ *b++) & 0xff];
		n--;
	}
	while (n >= 8) {
		uint32_t lo, hi;
		memcpy(&lo, b, 4);
		memcpy(&hi, b + 4, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		lo = __builtin_bswap32(lo);
		hi = __builtin_bswap32(hi);
#endif
		lo ^= crc;
		crc = tab[7][lo & 0xff] ^ tab[6][(lo >> 8) & 0xff] ^
		      tab[5][(lo >> 16) & 0xff] ^ tab[4][lo >> 24] ^
		      tab[3][hi & 0xff] ^ tab[2][(hi >> 8) & 0xff] ^
		      tab[1][(hi >> 16) & 0xff] ^ tab[0][hi >> 24];
		b += 8;
		n -= 8;
	}
	while (n--)
		crc = (crc >> 8) ^ tab[0][(crc ^ *b++) & 0xff];
	return ~crc;
}

#if defined(__x86_64__)
#include <nmmintrin.h>

__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const void *p,
							      size_t n)
{
	const uint8_t *b = p;
	uint64_t c = ~crc;
	while (n && ((uintptr_t)b & 7)) {
		c = _mm_crc32_u8((uint32_t)c, *b++);
		n--;
	}
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, b, 8);
		c = _mm_crc32_u64(c, v);
		b += 8;
		n -= 8;
	}
	while (n--)
		c = _mm_crc32_u8((uint32_t)c, *b++);
	return ~(uint32_t)c;
}

static int have_hw = -1;

uint32_t crc32c(uint32_t crc, const void *p, size_t n)
{
	if (__builtin_expect(have_hw < 0, 0)) {
		__builtin_cpu_init();
		have_hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
	}
	return have_hw ? crc32c_hw(crc, p, n) : crc32c_sw(crc, p, n);
}
#else
uint32_t crc32c(uint32_t crc, const void *p, size_t n)
{
	return crc32c_sw(crc, p, n);
}
#endif
