/*
 * scand_proto.h — the wire between dcc and its user's scan server
 * (`dcc --scan-server`, hub/scand.c) on a unix socket only that user
 * reaches: frames of u32 length (big-endian, <= SCAND_MAX_FRAME) then the
 * payload, which starts with SCAND_VERSION and a type byte. On one
 * connection, any number of requests, each answered before the next:
 *   SCAN     (argv, cwd, compiler)   -> RESULT (scan_job()'s result or its error)
 *   REMEMBER (file, names)           -> ACK    (scan_remember()'s return)
 *   STATS_REQ                        -> STATS  (the server's pid, counters, table)
 * Decoders read through the bounds-checked cursor, must consume the frame
 * exactly and check every count against its cap and against what the
 * frame can still hold before they allocate. Decoded strings are malloc'd
 * (a RESULT decodes into a struct scan_result: scan_result_free()).
 */
#ifndef USBFARM_HUB_SCAND_PROTO_H
#define USBFARM_HUB_SCAND_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "filetab.h"
#include "scan.h"
#include "../lib/buf.h"

#define SCAND_VERSION 1
#define SCAND_MAX_FRAME (64u << 20)
#define SCAND_PATH_MAX 4096u		/* a path in a request or result, NUL included */
#define SCAND_MAX_ITEMS 200000u		/* inputs, links or gaps of one result */

enum scand_type {
	SCAND_SCAN = 1,
	SCAND_RESULT = 2,
	SCAND_REMEMBER = 3,
	SCAND_ACK = 4,
	SCAND_STATS_REQ = 5,
	SCAND_STATS = 6,
};

struct scand_req {
	char compiler[SCAND_PATH_MAX];
	char cwd[SCAND_PATH_MAX];
	char **argv;		/* decode: one malloc'd block (scand_req_free) */
	int argc;
};

struct scand_res {
	int32_t rc;		/* scan_job()'s: 0 or -errno (r.err says why) */
	uint64_t scan_us;	/* the scan's time in the server */
	/* an input names __DATE__, __TIME__ or __TIMESTAMP__ (a superset: the
	 * bytes, not the tokens), or could not be checked */
	bool time_macros;
	/* an input names gas's .incbin or .include (a superset, the bytes) */
	bool gas_reads;
	struct scan_result r;	/* decode: malloc'd (scan_result_free) */
};

struct scand_remember {
	char file[SCAND_PATH_MAX];
	char **names;		/* decode: malloc'd (scand_remember_free) */
	size_t n;
};

struct scand_stats {
	uint32_t pid;
	uint64_t uptime_s, clients, scans, scan_errors, remembers;
	struct filetab_stats ft;
};

/* Starts a frame (reserves the length); scand_end fills it in: 0 or
 * -ENOMEM / -EMSGSIZE. */
void scand_begin(struct buf *b, enum scand_type t);
int scand_end(struct buf *b);
/* The payload's type, or -EPROTO. */
int scand_type(const uint8_t *p, size_t len);

int scand_encode_req(struct buf *b, const struct scand_req *q);
int scand_decode_req(const uint8_t *p, size_t len, struct scand_req *q);
void scand_req_free(struct scand_req *q);
int scand_encode_res(struct buf *b, const struct scand_res *r);
int scand_decode_res(const uint8_t *p, size_t len, struct scand_res *r);
int scand_encode_remember(struct buf *b, const struct scand_remember *m);
int scand_decode_remember(const uint8_t *p, size_t len, struct scand_remember *m);
void scand_remember_free(struct scand_remember *m);
int scand_encode_ack(struct buf *b, int32_t rc);
int scand_decode_ack(const uint8_t *p, size_t len, int32_t *rc);
int scand_encode_stats(struct buf *b, const struct scand_stats *s);
int scand_decode_stats(const uint8_t *p, size_t len, struct scand_stats *s);

/* One frame from fd into b (b emptied first): the payload is b->data,
 * b->len bytes. 0, -EPROTO (length over the cap), -EPIPE (closed), or
 * -errno (EAGAIN: the socket's timeout). */
int scand_recv(int fd, struct buf *b);
/* Writes a frame built with scand_begin/scand_end: 0 or -errno. */
int scand_send(int fd, const struct buf *b);

#endif
