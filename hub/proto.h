/*
 * proto.h — the local protocol on hubd's unix socket (dcc and hubctl <-> hubd).
 *
 * A stream of frames: u32 length (big-endian, <= PROTO_MAX_FRAME) then the
 * payload, which starts with PROTO_VERSION and a type byte. One request per
 * connection:
 *   dcc:    SUBMIT -> KEEPALIVE* ANSWER. While the job waits or runs, hubd
 *           sends a KEEPALIVE (no body) every PROTO_KEEPALIVE_MS: dcc
 *           gives up on a hubd silent for longer than its deadline. On
 *           ANSWER(HUB_LOCAL) dcc keeps the connection open while it
 *           compiles; closing it releases the local slot. A connection
 *           closed before the ANSWER cancels the job.
 *   dcc, a tree job (issue 11): SUBMIT_TREE -> (KEEPALIVE | NEED)* ANSWER.
 *           hubd sends NEED (which inputs' bytes, by index into the
 *           SUBMIT_TREE's inputs) when the board it chose lacks them (as far
 *           as hubd knows, or as the board said); dcc answers each NEED with
 *           one BLOBS, read from its files now and hashed: a file whose
 *           hash is no longer the submitted one is sent as changed (no
 *           bytes) and hubd answers HUB_FAILED ("input changed"). NEED can
 *           come again (a retry, another board). ANSWER(HUB_FALLBACK): no
 *           board takes tree jobs now: dcc uses the directives-only SUBMIT
 *           on a new connection.
 *   hubctl: STATUS_REQ -> STATUS.
 * Decoded byte strings point into the frame (it must outlive them); args and
 * node arrays are malloc'd and released by the *_free functions.
 */
#ifndef USBFARM_HUB_PROTO_H
#define USBFARM_HUB_PROTO_H

#include "failover.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/buf.h"
#include "../lib/compiler.h"
#include "../lib/cursor.h"
#include "../lib/job.h"

#define PROTO_VERSION 1
#define PROTO_MAX_FRAME (256u << 20)
#define PROTO_MAX_NODES 256
#define PROTO_KEEPALIVE_MS 1000

enum proto_type {
	PROTO_SUBMIT = 1,
	PROTO_ANSWER = 2,
	PROTO_STATUS_REQ = 3,
	PROTO_STATUS = 4,
	PROTO_KEEPALIVE = 5,
	PROTO_ENROLL_REQ = 6,	/* hubctl enroll IFACE (hub/enroll.h) */
	PROTO_ENROLL = 7,
	PROTO_SUBMIT_TREE = 8,	/* dcc -> hubd: a job by hash */
	PROTO_NEED = 9,		/* hubd -> dcc */
	PROTO_BLOBS = 10,	/* dcc -> hubd */
};

/* SUBMIT: the job description (lib/job.h; its cwd absolute: dcc refuses to
 * submit otherwise) and what only the hub wants to know. */
struct proto_submit {
	char compiler[COMPILER_PATH_MAX];
	struct job_desc d;	/* decode: args malloc'd */
	char source[1024];
	uint64_t preprocess_us;
	/* SUBMIT: why not the tree path ("--inputs=text", "scan server: …");
	 * hubd counts text jobs by it. "" in a SUBMIT_TREE. */
	char text_why[96];
};

/* SUBMIT_TREE: a SUBMIT without input bytes (s.d.input empty) and the
 * job's inputs by hash (lib/job.h: struct job_tree; no blobs in it:
 * they come in BLOBS). */
struct proto_submit_tree {
	struct proto_submit s;
	struct job_tree t;	/* decode: t.in malloc'd, views into the frame */
	uint64_t scan_us;	/* time the scan took (trace) */
	/* dcc learned a computed include's inputs by running the compiler's
	 * -M for this job (counted by hubd) */
	bool learned;
};

/* NEED: indices into the SUBMIT_TREE's t.in (each a JOB_IN_FILE). */
#define PROTO_MAX_NEED JOB_MAX_BLOBS
struct proto_need {
	uint32_t *idx;		/* decode: malloc'd */
	size_t n;
};

/* BLOBS: the bytes of each needed input, in NEED's order; changed[i]: the
 * file no longer hashes to the submitted hash (no bytes for it). */
struct proto_blob {
	uint32_t idx;
	bool changed;
	const uint8_t *data;	/* a view into the frame */
	size_t len;
};
struct proto_blobs {
	struct proto_blob *b;	/* decode: malloc'd */
	size_t n;
};

/* ANSWER: the job outcome (lib/job.h; o.wall_us is the compile time, cpu_us
 * is not sent) and where and how long. */
struct proto_answer {
	uint8_t outcome;	/* enum hub_outcome (HUB_FALLBACK: tree jobs only) */
	char node[64];
	struct job_outcome o;
	uint64_t queue_us, total_us;
	/* A tree job: names the board's compile read that were not sent
	 * (job_result.unsent), for dcc to remember in its scanner; decode:
	 * malloc'd (proto_answer_free). o.dep is the dependency file. */
	char **unsent;
	size_t nunsent;
};

/* Tree jobs (issue 11), for hubctl status. */
#define STATUS_TEXT_WHYS 8
struct tree_counters {
	uint64_t jobs;		/* SUBMIT_TREE jobs */
	uint64_t sent;		/* of them sent to a board */
	uint64_t fallback;	/* answered HUB_FALLBACK: no board with a store */
	uint64_t needs;		/* NEED messages to dcc */
	uint64_t blobs, blob_bytes;	/* blobs sent to boards with JOBs */
	uint64_t resends;	/* a board lacked blobs (RESULT -ENOENT): sent again */
	uint64_t unsent;	/* the compile read what was not sent (-EXDEV): local */
	uint64_t incomplete;	/* an incomplete job's compile failed (-ENOEXEC): local */
	uint64_t changed;	/* an input changed before dcc sent it: local */
	uint64_t refused;	/* a board refused the tree job: directives-only */
	uint64_t learned;	/* jobs whose computed includes dcc learned */
	uint64_t text;		/* SUBMITs (the directives-only path), by why: */
	struct tree_text_why {
		char why[64];
		uint64_t n;
	} text_why[STATUS_TEXT_WHYS];	/* the first reasons seen; the rest: */
	uint64_t text_other;
};

/* A node's store and what hubd sent it (tree jobs). */
struct status_store {
	uint64_t store_id, store_cap;
	uint64_t tree_jobs, blobs_sent, blob_bytes;
	uint64_t held_blobs, held_bytes;	/* its holdings as hubd believes them */
};

/* Travelling toolchains (toolchain.h tc_counters). */
struct status_toolchain {
	uint64_t packs, sent, blobs, bytes, verified, refused, travel_jobs;
};

#define STATUS_COMPILER_MAX 128
struct status_node {
	char iface[32];
	char state[16];		/* link state name */
	char peer[64];		/* peer identity */
	char name[64];		/* node's own name */
	uint64_t epoch;
	uint16_t slots, running;
	uint64_t jobs_done, jobs_failed;	/* done: compiler ran; failed: farm-side */
	uint64_t bytes_out, bytes_in;		/* job/result payload, raw */
	uint64_t wire_tx, wire_rx, frames_tx, frames_rx, retransmits, drops;
	uint64_t sessions;
	uint32_t srtt_us;
	uint32_t speed;		/* measured input KB/s, 0: not measured yet */
	struct job_telemetry tele;
	bool has_tele;
	struct fo_node_status fo;	/* failover.h */
	struct status_store store;	/* tele.store_* are the node's own counters */
	size_t ncompilers;
	char (*compilers)[STATUS_COMPILER_MAX];	/* decode: malloc'd */
};

/* one line per (compiler jobs asked for, node): "COMPILER\tNODE\tVERDICT" (hub/pairs.h) */
#define STATUS_SERVE_MAX 384
#define STATUS_SERVE_LINES 128
struct hub_status {
	uint64_t uptime_s;
	uint16_t local_slots, local_used;
	uint32_t queued, clients;
	uint64_t jobs_total, jobs_remote, jobs_local, jobs_failed, jobs_retried;
	struct fo_counters fo;	/* failover.h */
	struct tree_counters tree;
	size_t nnodes;
	struct status_node *nodes;	/* decode: malloc'd */
	size_t nserve;
	char (*serve)[STATUS_SERVE_MAX];	/* decode: malloc'd */
	struct status_toolchain tc;
};

/* Frame header: 4 bytes. Returns the payload length or -EPROTO. */
long proto_frame_len(const uint8_t hdr[4]);
/* Starts a frame in b (reserves the length); proto_end fills it in. */
void proto_begin(struct buf *b, enum proto_type t);
int proto_end(struct buf *b);

/* SUBMIT is sent as a header frame part plus the input bytes (no copy):
 * encode_submit_head writes the whole frame except the input bytes. */
int proto_encode_submit_head(struct buf *b, const struct proto_submit *s);
int proto_decode_submit(const uint8_t *p, size_t len, struct proto_submit *s);
void proto_submit_free(struct proto_submit *s);

int proto_encode_answer(struct buf *b, const struct proto_answer *a);
int proto_decode_answer(const uint8_t *p, size_t len, struct proto_answer *a);
void proto_answer_free(struct proto_answer *a);

int proto_encode_submit_tree(struct buf *b, const struct proto_submit_tree *s);
int proto_decode_submit_tree(const uint8_t *p, size_t len, struct proto_submit_tree *s);
void proto_submit_tree_free(struct proto_submit_tree *s);
int proto_encode_need(struct buf *b, const struct proto_need *n);
int proto_decode_need(const uint8_t *p, size_t len, struct proto_need *n);
void proto_need_free(struct proto_need *n);
int proto_encode_blobs(struct buf *b, const struct proto_blobs *bl);
int proto_decode_blobs(const uint8_t *p, size_t len, struct proto_blobs *bl);
void proto_blobs_free(struct proto_blobs *bl);

int proto_encode_status(struct buf *b, const struct hub_status *st);
int proto_decode_status(const uint8_t *p, size_t len, struct hub_status *st);
/* The STATUS's tree parts (proto_tree.c): the hub's counters, a node's. */
void proto_put_tree_status(struct buf *b, const struct tree_counters *t);
void proto_get_tree_status(struct cursor *c, struct tree_counters *t);
void proto_put_node_store(struct buf *b, const struct status_node *n);
void proto_get_node_store(struct cursor *c, struct status_node *n);
void proto_status_free(struct hub_status *st);

/* Connects to hubd's socket at path (CLOEXEC), at most PROTO_CONNECT_MS
 * (-ETIMEDOUT); every later send or receive on it waits at most
 * PROTO_IO_MS without progress (EAGAIN) until proto_set_deadlines() says
 * otherwise. 0 or -errno. */
#define PROTO_CONNECT_MS 2000
#define PROTO_IO_MS 10000
int proto_connect(const char *path, int *fd);
/* Per-call limits without progress on fd's sends and receives (ms; 0: none). */
int proto_set_deadlines(int fd, int send_ms, int recv_ms);

/* Type of a payload, or -EPROTO. */
int proto_type(const uint8_t *p, size_t len);

#endif
