/*
 * frame.h — the link's frame codec (untrusted bytes in, checked structs out).
 *
 * Every frame (the Ethernet payload, EtherType 0x88B5), integers big-endian:
 *
 *   0  u16 magic 0x5546 ("UF")      2  u8 version (1)     3  u8 type
 *   4  u64 src: sender's session epoch
 *  12  u64 dst: receiver's session epoch as the sender knows it (0: unknown)
 *  20  body (by type)
 *  -4  u32 CRC32C of every byte before it
 *
 *   HELLO, HELLO_ACK: u16 proto version, u64 boot epoch, u32 caps,
 *       u32 max frame, u16+ident (< LINK_IDENT_MAX), u32+app (<= LINK_APP_HELLO_MAX)
 *   DATA:  u32 seq, u32 stream, u32 msg (seq of the message's first frame),
 *          u32 prev (msg of the previous unfinished message on the stream,
 *          valid with FF_PREV), u32 off, u32 total (message length on the
 *          wire), u8 flags, then the payload (the rest of the frame)
 *   ACK:   u32 cum (next seq expected), u32 rwnd (frames), u8 n,
 *          n x (u32 start, u32 end) SACK ranges [start, end) above cum
 *   KEEPALIVE, RESET: empty body
 *
 * frame_parse returns a negative FRAME_E* code naming the drop counter.
 */
#ifndef USBFARM_FRAME_H
#define USBFARM_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "link.h"

#define FRAME_MAGIC 0x5546
#define FRAME_VERSION 1
#define FRAME_HDR 20
#define FRAME_CRC 4
#define FRAME_DATA_HDR (FRAME_HDR + 25)
#define FRAME_DATA_OVERHEAD (FRAME_DATA_HDR + FRAME_CRC)
#define FRAME_SACK_MAX 32
#define FRAME_MIN_MTU 256 /* a peer announcing less is refused */

enum frame_type {
	FT_HELLO = 1,
	FT_HELLO_ACK = 2,
	FT_DATA = 3,
	FT_ACK = 4,
	FT_KEEPALIVE = 5,
	FT_RESET = 6,
};

enum {
	FF_COMPRESSED = 1, /* DATA: the message is lz.h-compressed */
	FF_PREV = 2,	   /* DATA: `prev` is valid */
	FF_ALL = 3,
};

enum frame_err {
	FRAME_ESHORT = -1,   /* shorter than its header or body says */
	FRAME_ECRC = -2,     /* checksum mismatch */
	FRAME_EFOREIGN = -3, /* not our magic / version */
	FRAME_EBAD = -4,     /* a field out of range, unknown type, bytes left over */
};

struct frame_hello {
	uint16_t version;
	uint64_t boot;
	uint32_t caps;
	uint32_t max_frame;
	char ident[LINK_IDENT_MAX];
	const uint8_t *app; /* points into the frame */
	size_t app_len;
};

struct frame_data {
	uint32_t seq, stream, msg, prev, off, total;
	uint8_t flags;
	const uint8_t *payload; /* points into the frame */
	uint32_t len;
};

struct frame_ack {
	uint32_t cum, rwnd;
	uint8_t n;
	uint32_t sack[FRAME_SACK_MAX][2];
};

struct frame {
	uint8_t type;
	uint64_t src, dst;
	union {
		struct frame_hello hello;
		struct frame_data data;
		struct frame_ack ack;
	} u;
};

/* Checks and decodes one frame. 0 or a FRAME_E* code. */
int frame_parse(const uint8_t *p, size_t len, struct frame *f);

/*
 * Encoders write a whole frame (CRC included) into out[cap] and return its
 * length, or 0 when it does not fit.
 */
size_t frame_put_hello(uint8_t *out, size_t cap, uint8_t type, uint64_t src, uint64_t dst,
		       const struct frame_hello *h);
/* The payload is copied from d->payload (d->len bytes). */
size_t frame_put_data(uint8_t *out, size_t cap, uint64_t src, uint64_t dst,
		      const struct frame_data *d);
size_t frame_put_ack(uint8_t *out, size_t cap, uint64_t src, uint64_t dst,
		     const struct frame_ack *a);
/* KEEPALIVE, RESET */
size_t frame_put_empty(uint8_t *out, size_t cap, uint8_t type, uint64_t src, uint64_t dst);

#endif
