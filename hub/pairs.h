/*
 * pairs.h — hubd's table of proven (hub compiler, board compiler) pairs
 * (hub/equiv.h has the rule) and the decision "may this node serve this
 * job, and with which of its compilers".
 *
 * The table is a text file written by scripts/pair-prove, one line per
 * pair:
 *   pair HUBFP BOARDFP base=same|differs stack-protector=… stack-clash=… ident=GCC: (…) …
 * (the ident, last, to the end of the line: the hub compiler's own, put
 * into every object such a pair makes). A class not named is unproven. A
 * line that does not parse is skipped and counted, never half used.
 * Invariant: pairs_pick() returns a pair only for a node compiler of the
 * job's kind, triple and version whose pair is EQ_SAME for every class of
 * the job; an exact identity match always wins (no rewrite needed).
 */
#ifndef USBFARM_HUB_PAIRS_H
#define USBFARM_HUB_PAIRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "equiv.h"

#define PAIRS_MAX 64
#define PAIRS_IDENT_MAX 160

/* busy: PAIRS_PROVING while hubd's canary jobs run for classes without a
 * verdict (note says how far: "proving board2's gcc 12.2.0 (1a2b3c4d):
 * 3/12 canaries, stack-protector class"), PAIRS_REFUSED when hubd will not
 * prove it (note says why). The classes already proven keep serving. */
enum pairs_busy { PAIRS_IDLE = 0, PAIRS_PROVING, PAIRS_REFUSED };
#define PAIRS_NOTE_MAX 128

struct pair_entry {
	struct equiv_pair p;
	char ident[PAIRS_IDENT_MAX];
	uint8_t busy;		/* enum pairs_busy */
	char note[PAIRS_NOTE_MAX];
};

struct pairs {
	struct pair_entry e[PAIRS_MAX];
	size_t n;
	size_t bad_lines;
};

/* Parses the text of a pairs file into t (replacing it). 0 or -EINVAL
 * (nothing usable at all in a non-empty text is not an error: bad lines
 * are counted). */
int pairs_parse(struct pairs *t, const char *text, size_t len);
/* Reads and parses a file. 0 or -errno. */
int pairs_load(struct pairs *t, const char *path);
/* One entry as a line of the file (no newline): its length, or -ENOSPC. */
int pairs_format(const struct pair_entry *e, char *out, size_t len);
/* Writes every entry with a proven class and an ident to path (temp file + rename, mode
 * 0644). 0 or -errno. */
int pairs_save(const struct pairs *t, const char *path);
/* The entry of (hub fingerprint, board fingerprint), or NULL. */
struct pair_entry *pairs_find(struct pairs *t, const char *hub_fp, const char *board_fp);

/* What a node can do for a job asked for `want` with argv (the compile
 * arguments): PAIRS_EXACT (a compiler of the very identity), PAIRS_VIA
 * (*use = the node's compiler, *pe = the proven pair whose ident the
 * result must get), or PAIRS_NO (why in words, if why != NULL). */
enum pairs_verdict { PAIRS_NO, PAIRS_EXACT, PAIRS_VIA };
enum pairs_verdict pairs_pick(const struct pairs *t, const struct compiler_id *have, size_t nhave,
			      const struct compiler_id *want, char *const *argv, int argc,
			      const struct compiler_id **use, const struct pair_entry **pe,
			      char *why, size_t whylen);

/* The compilers jobs asked for (so hubctl status can say, per board, whether
 * it serves each and why not): identity, the union of the jobs' flag
 * classes, the number of jobs. */
#define PAIRS_ASKED_MAX 16
struct pairs_asked {
	struct compiler_id id;
	unsigned classes;
	uint64_t jobs;
};
struct pairs_seen {
	struct pairs_asked a[PAIRS_ASKED_MAX];
	size_t n;
};
/* Counts a job asked for `want`; the first PAIRS_ASKED_MAX identities are
 * kept. True the first time an identity (or a new flag class of it) is seen:
 * the caller logs the boards' verdicts then, once. */
bool pairs_note(struct pairs_seen *s, const struct compiler_id *want, char *const *argv, int argc);
/* "serves it (the same compiler)", "serves it: another build, proven …",
 * or "does not serve it: <why>", for the jobs asked for a->id with the
 * classes seen so far. */
void pairs_verdict(const struct pairs *t, const struct pairs_asked *a,
		   const struct compiler_id *have, size_t nhave, char *out, size_t len);

/* Why no board compiler of `have` serves a job (want, classes), as a kind
 * hubctl status counts jobs kept local by: PN_NONE (one serves it),
 * PN_NO_COMPILER (no build of that release at all), PN_UNPROVEN (a build,
 * no proof and none running), PN_REFUSED (hubd will not prove it),
 * PN_PROVING (a proof is running), PN_DIFFERS (proven different for a class
 * of the job: *cls, if cls != NULL). The first of PROVING, DIFFERS,
 * REFUSED, UNPROVEN, NO_COMPILER over the compilers wins. */
enum pairs_no { PN_NONE, PN_NO_COMPILER, PN_UNPROVEN, PN_REFUSED, PN_PROVING, PN_DIFFERS };
enum pairs_no pairs_no_kind(const struct pairs *t, const struct compiler_id *have, size_t nhave,
			    const struct compiler_id *want, unsigned classes, unsigned *cls);

#endif
