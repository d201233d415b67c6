/*
 * verify.h — verified builds: our objects are byte-identical to a local
 * compile, so the hub can check the farm.
 *
 * hubd --verify RATE (percent, default VERIFY_DEFAULT_RATE) samples remote
 * jobs that succeeded with no output: their ANSWER carries the note
 * "verify:<token>" in its error field (unused on HUB_DONE otherwise). dcc
 * then compiles locally from the original command — so every output file,
 * the .d and the .dwo included, is the local compile's, and the job uses
 * the local object — compares the node's object (and .dwo) with it, and
 * sends HUBX_VERIFY_REPORT (token, match, detail) to hubd. A mismatch
 * quarantines that board for that compiler at once (no further job of that
 * compiler goes there until hubd restarts), is logged loudly with the list
 * of every object that board produced for that compiler since hubd
 * started, and is shown by hubctl status. dcc says it on stderr too.
 *
 * Invariants: at most VERIFY_PENDING tokens wait for a report (the oldest
 * is forgotten), VERIFY_PRODUCED object names are remembered, at most
 * VERIFY_QUARANTINE_MAX quarantines; a report must name a pending token
 * (random 64-bit), so nobody quarantines a board by guessing.
 */
#ifndef USBFARM_HUB_VERIFY_H
#define USBFARM_HUB_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../lib/buf.h"
#include "../lib/compiler.h"

#define VERIFY_DEFAULT_RATE 1.0
#define VERIFY_TAG "verify:"
#define VERIFY_PENDING 4096
#define VERIFY_PRODUCED 65536
#define VERIFY_QUARANTINE_MAX 64
#define VERIFY_LIST_MAX 64	/* object names per quarantine in hubctl status */

struct cursor;

/* ---- hubd side ---- */

/* 0..100; parse of the option. 0 or -EINVAL. */
int verify_set_rate(const char *arg);
/* A job of compiler id finished on node (status 0, no output, an object):
 * remembers that node produced `object` and, for a sampled job, writes the
 * note into note[0..len). */
void verify_on_done(const char *node, const struct compiler_id *id, const char *object,
		    char *note, size_t len);
bool verify_quarantined(const char *node, const struct compiler_id *id);
void verify_handle_report(struct cursor *c);
void verify_encode(struct buf *b);

/* ---- dcc side ---- */

struct verify_job {
	const char *compiler;	/* the real compiler */
	char **argv;		/* the original command */
	const char *output, *dwo;	/* local paths; dwo NULL without -gsplit-dwarf */
	const struct buf *obj, *rdwo;	/* what the node returned */
	const char *token;	/* the note after VERIFY_TAG */
	const char *node, *source;
	int err_fd;		/* where a mismatch is said */
};

/* Compiles locally (the outputs are the local compile's), compares,
 * reports to hubd. Returns the local compile's exit status (or 127). */
int verify_locally(const struct verify_job *v);

/* ---- hubctl side ---- */

struct verify_quarantine {
	char node[64], compiler[128], source[256], detail[128];
	uint64_t age_s;
	uint32_t nobjects;	/* that board produced for that compiler */
	size_t nlisted;
	char (*objects)[256];	/* decode: malloc'd, nlisted names */
};

struct verify_status {
	double rate;
	uint64_t sampled, matched, mismatched, unreported;
	size_t nq;
	struct verify_quarantine q[VERIFY_QUARANTINE_MAX];
};

bool verify_decode(struct cursor *c, struct verify_status *st);
void verify_status_free(struct verify_status *st);
void verify_print_text(FILE *f, const struct verify_status *st);
void verify_print_json(FILE *f, const struct verify_status *st);

#endif
