/*
 * lz.h — LZO1X-1 message compression for the link.
 *
 * A compressed message is `u32 raw length (big-endian)` followed by the
 * LZO1X-1 stream. lz_compress only produces it when it is smaller than the
 * input; lz_decompress refuses a raw length over `max` before allocating and
 * checks that the stream decodes to exactly that many bytes.
 */
#ifndef USBFARM_LZ_H
#define USBFARM_LZ_H

#include <stddef.h>
#include <stdint.h>

#define LZ_HDR 4

/*
 * Returns 1 and a malloc'd compressed message in *out / *out_len when it
 * pays (saves at least 1/32 of the input), 0 when it does not (nothing
 * allocated), or -ENOMEM. Inputs over 4 GiB are never compressed.
 */
int lz_compress(const void *src, size_t len, uint8_t **out, size_t *out_len);
/*
 * Decodes a compressed message. Returns 0 and a malloc'd buffer (at least
 * one byte allocated, so *out is never NULL on success), -EMSGSIZE when the
 * raw length is over max, -EBADMSG for a corrupt stream, -ENOMEM.
 */
int lz_decompress(const uint8_t *src, size_t len, size_t max, uint8_t **out,
		  size_t *out_len);

/*
 * The same format made with LZO1X-999 against a preset dictionary both
 * ends know (a tree job's dependency file against its inputs' names: most
 * of its bytes become matches into it). Only the last LZ_DICT_MAX bytes
 * of dict are used. Same returns as lz_compress / lz_decompress; slower to
 * make (for small texts), as fast to decode.
 */
#define LZ_DICT_MAX 0xbfffu
int lz_compress_dict(const void *src, size_t len, const void *dict, size_t dlen, uint8_t **out,
		     size_t *out_len);
int lz_decompress_dict(const uint8_t *src, size_t len, size_t max, const void *dict, size_t dlen,
		       uint8_t **out, size_t *out_len);

#endif
