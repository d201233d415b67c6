/*
 * lz.c — LZO1X-1 via liblzo2. Untrusted input is only decoded with
 * lzo1x_decompress_safe into a buffer of the announced (capped) size.
 */
#include "lz.h"
#include "cursor.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <lzo/lzo1x.h>

static pthread_once_t lz_once = PTHREAD_ONCE_INIT;
static int lz_ok;

static void lz_init(void)
{
	lz_ok = lzo_init() == LZO_E_OK;
}

/*
 * Inputs this big are first probed on two samples (the start and the middle);
 * they are skipped when neither shrinks. Compressing incompressible bytes
 * costs about 1 ns a byte, so a 64 KiB message would pay ~65 us to learn
 * nothing; two 4 KiB samples cost a few.
 */
#define PROBE_MIN (16u << 10)
#define PROBE_LEN (4u << 10)
static int pays(size_t in, size_t out)
{
	return out + in / 32 < in;
}

int lz_compress(const void *src, size_t len, uint8_t **out, size_t *out_len)
{
	uint8_t *wrk = NULL, *dst = NULL;
	lzo_uint dl;
	int rc = 0;

	*out = NULL;
	*out_len = 0;
	pthread_once(&lz_once, lz_init);
	if (!lz_ok || len < 64 || len > 0xffffffffu)
		return 0;
	wrk = malloc(LZO1X_1_MEM_COMPRESS);
	if (!wrk)
		return -ENOMEM;
	if (len >= PROBE_MIN) {
		dst = malloc(PROBE_LEN + PROBE_LEN / 16 + 64 + 3);
		if (!dst) {
			rc = -ENOMEM;
			goto out;
		}
		const uint8_t *mid = (const uint8_t *)src + (len / 2 & ~(size_t)4095);
		dl = 0;
		if (lzo1x_1_compress(src, PROBE_LEN, dst, &dl, wrk) != LZO_E_OK)
			goto out;
		if (!pays(PROBE_LEN, dl)) {
			dl = 0;
			if (lzo1x_1_compress(mid, PROBE_LEN, dst, &dl, wrk) != LZO_E_OK ||
			    !pays(PROBE_LEN, dl))
				goto out;
		}
		free(dst);
	}
	dst = malloc(LZ_HDR + len + len / 16 + 64 + 3);
	if (!dst) {
		rc = -ENOMEM;
		goto out;
	}
	dl = 0;
	if (lzo1x_1_compress(src, len, dst + LZ_HDR, &dl, wrk) != LZO_E_OK ||
	    !pays(len, dl + LZ_HDR))
		goto out;
	dst[0] = (uint8_t)(len >> 24);
	dst[1] = (uint8_t)(len >> 16);
	dst[2] = (uint8_t)(len >> 8);
	dst[3] = (uint8_t)len;
	*out_len = dl + LZ_HDR;
	uint8_t *shrunk = realloc(dst, *out_len);
	*out = shrunk ? shrunk : dst;
	dst = NULL;
	rc = 1;
out:
	free(dst);
	free(wrk);
	return rc;
}

/* The one decoder: dict NULL for none (lzo1x_decompress_safe), else its
 * tail (dict_tail) as the preset dictionary. */
static int decompress(const uint8_t *src, size_t len, size_t max, const void *dict,
		      size_t dlen, uint8_t **out, size_t *out_len);

int lz_decompress(const uint8_t *src, size_t len, size_t max, uint8_t **out,
		  size_t *out_len)
{
	return decompress(src, len, max, NULL, 0, out, out_len);
}

/* ---- with a preset dictionary ---- */

static void dict_tail(const void **dict, size_t *dlen)
{
	if (*dlen > LZ_DICT_MAX) {
		*dict = (const uint8_t *)*dict + (*dlen - LZ_DICT_MAX);
		*dlen = LZ_DICT_MAX;
	}
}

int lz_compress_dict(const void *src, size_t len, const void *dict, size_t dlen, uint8_t **out,
		     size_t *out_len)
{
	uint8_t *wrk, *dst;
	lzo_uint dl = 0;

	*out = NULL;
	*out_len = 0;
	pthread_once(&lz_once, lz_init);
	if (!lz_ok || len < 16 || len > 0xffffffffu)
		return 0;
	dict_tail(&dict, &dlen);
	wrk = malloc(LZO1X_999_MEM_COMPRESS);
	dst = malloc(LZ_HDR + len + len / 16 + 64 + 3);
	if (!wrk || !dst) {
		free(wrk);
		free(dst);
		return -ENOMEM;
	}
	if (lzo1x_999_compress_dict(src, len, dst + LZ_HDR, &dl, wrk, dict, dlen) != LZO_E_OK ||
	    dl + LZ_HDR >= len) {
		free(wrk);
		free(dst);
		return 0;
	}
	free(wrk);
	dst[0] = (uint8_t)(len >> 24);
	dst[1] = (uint8_t)(len >> 16);
	dst[2] = (uint8_t)(len >> 8);
	dst[3] = (uint8_t)len;
	*out_len = dl + LZ_HDR;
	*out = dst;
	return 1;
}

int lz_decompress_dict(const uint8_t *src, size_t len, size_t max, const void *dict, size_t dlen,
		       uint8_t **out, size_t *out_len)
{
	dict_tail(&dict, &dlen);
	return decompress(src, len, max, dict, dlen, out, out_len);
}

static int decompress(const uint8_t *src, size_t len, size_t max, const void *dict,
		      size_t dlen, uint8_t **out, size_t *out_len)
{
	struct cursor c = cur_init(src, len);
	uint32_t raw = cur_u32(&c);
	lzo_uint dl;
	uint8_t *dst;
	int e;

	*out = NULL;
	*out_len = 0;
	pthread_once(&lz_once, lz_init);
	if (c.err || !lz_ok)
		return -EBADMSG;
	if (raw > max)
		return -EMSGSIZE;
	dst = malloc(raw ? raw : 1);
	if (!dst)
		return -ENOMEM;
	dl = raw;
	e = dict ? lzo1x_decompress_dict_safe(src + LZ_HDR, len - LZ_HDR, dst, &dl, NULL,
					      dict, dlen)
		 : lzo1x_decompress_safe(src + LZ_HDR, len - LZ_HDR, dst, &dl, NULL);
	if (e != LZO_E_OK || dl != raw) {
		free(dst);
		return -EBADMSG;
	}
	*out = dst;
	*out_len = raw;
	return 0;
}
