/*
 * reasons.h — "say why": every compile that stays local is counted by
 * reason, and a build no board can help says so once.
 *
 * dcc tells hubd each decision to keep a job local with one small frame on
 * hubd's socket (HUBX_NOTE_LOCAL, fire and forget: a non-blocking connect
 * and send with a short deadline; no answer is read, a full or missing
 * hubd is ignored, the build is never slowed or failed by it). hubd counts
 * by a short label (reasons_label) and counts its own local decisions (a
 * local slot, a farm failure) the same way. hubctl fetches the table with
 * HUBX_STATUS_REQ -> HUBX_STATUS, which also carries the verification
 * state (verify.h).
 *
 * The extension frames use the framing and PROTO_VERSION of proto.h, with
 * type numbers from 32 up so they never collide with proto.h's own.
 *
 * Invariants: the table holds at most REASONS_MAX labels (more go to
 * "other"); a label is at most REASON_LABEL_MAX-1 printable bytes; every
 * decoder reads through a bounded cursor and consumes its frame exactly.
 */
#ifndef USBFARM_HUB_REASONS_H
#define USBFARM_HUB_REASONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../lib/buf.h"

enum hubx_type {
	HUBX_NOTE_LOCAL = 32,	/* dcc -> hubd: str label; no reply */
	HUBX_VERIFY_REPORT = 33,	/* dcc -> hubd: verify.h; no reply */
	HUBX_STATUS_REQ = 34,	/* hubctl -> hubd */
	HUBX_STATUS = 35,	/* hubd -> hubctl: reasons, then verification */
};

#define REASONS_MAX 48
#define REASON_LABEL_MAX 64
#define HUBX_SEND_MS 100	/* deadline of a fire-and-forget frame */

/* ---- dcc side ---- */

/* The short label of a free-text reason ("an include-like directive left
 * in the ..." -> "include-like line"). */
void reasons_label(const char *why, char *out, size_t len);
/* Tells hubd that this compile stays local, and why. Never fails. */
void reasons_tell(const char *why);
/* Sends one whole frame to hubd without waiting for an answer: 0 or -errno. */
int hubx_send(const struct buf *frame);
/* Writes "dcc: MSG\n" to fd unless it was already said in this build
 * (buildonce.h: the outermost make among dcc's parents). */
void reasons_say_once(int fd, const char *msg);

/* ---- hubd side ---- */

void reasons_count(const char *label);
/* hubd gives a job a local slot. why: hubd's reason the job cannot go to a
 * node ("" if none: all boards busy); nofarm: no board up serves it;
 * pair: then, the label of why (hub/prove.h: prove_local_label(), e.g.
 * "stack-protector code differs on every board", "not proven yet
 * (proving)"), NULL for "no board offers the compiler". Counts it, and
 * fills note (the ANSWER's error, which dcc says once per build) when no
 * board at all can take jobs of this compiler. */
void reasons_hub_local(const char *why, bool cid_ok, bool nofarm, const char *pair, char *note,
		       size_t len);
/* hubd fails a job over to dcc (why: hubd's reason). Counts it. */
void reasons_hub_failed(const char *why);
/*
 * A frame of the extension types: -EPROTO when it is not one (the caller
 * handles it), 0 handled with nothing to answer, 1 with the answer frame
 * in *reply.
 */
int hubx_request(const uint8_t *p, size_t len, struct buf *reply);

/* ---- hubctl side ---- */

struct reason_count {
	char label[REASON_LABEL_MAX];
	uint64_t n;
};

struct hubx_status;	/* verify.h */

struct reasons_status {
	uint64_t total;
	size_t n;
	struct reason_count r[REASONS_MAX + 1];
};

void reasons_encode(struct buf *b);
struct cursor;
bool reasons_decode(struct cursor *c, struct reasons_status *st);
/* "412 compiles local: 380 include-like line, 20 conftest, 12 -g3" */
void reasons_print_text(FILE *f, const struct reasons_status *st);
/* ,"local_reasons":{"total":N,"by_reason":{"label":n,...}} */
void reasons_print_json(FILE *f, const struct reasons_status *st);
void reasons_json_str(FILE *f, const char *s);
struct verify_status;
/* HUBX_STATUS_REQ -> both tables. 0, or -errno (an older hubd: -EPROTO). */
int hubx_fetch_status(const char *path, struct reasons_status *r, struct verify_status *v);

#endif
