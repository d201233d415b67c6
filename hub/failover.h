/*
 * failover.h — hubd's rules for jobs that go wrong on a node, as pure
 * functions (no clock, no I/O: times are passed in) so they are unit-tested.
 *
 * Deadlines. Each node keeps an EWMA (alpha 0.3) of seconds per MB of job
 * input, dispatch to result; inputs count as at least FO_MIN_BYTES (a tiny
 * file still costs a compiler start). A job's deadline on a node is
 *     clamp(FO_FACTOR x s/MB x MB, FO_FLOOR_US, cap)
 * where cap is hubd's --job-timeout. A node not measured yet borrows the
 * slowest measured node's figure (times 2), or gets FO_UNKNOWN_US.
 * A missed deadline marks the node suspect (backed off, below) and the job
 * gets a second copy elsewhere, or goes back to dcc; the first result wins
 * and the other copy is cancelled.
 *
 * Errors a node reports (RESULT farm_error, -errno) are classified:
 *   FO_NODE  the board's own trouble (disk full, missing compiler, sandbox
 *            or worker failure, out of memory/fds/processes): the node is
 *            backed off at once and the job does not spend a retry on it;
 *   FO_LOCAL the job itself cannot be done by a node (too large, hit a node
 *            limit, refused): dcc compiles it locally at once;
 *   FO_RETRY anything else (timeouts, races): retried elsewhere, counted.
 *
 * Backoff: a node's k-th consecutive failure (node error or missed deadline)
 * keeps it out of the pool for min(FO_BACKOFF_BASE_US x 2^(k-1),
 * FO_BACKOFF_MAX_US); after that it takes jobs again (probation), and one
 * result without a farm error resets k to 0 (recovery).
 *
 * Backup tasks: when the queue is empty and a faster node has a free slot,
 * a job running on a slow node gets a second copy there if that copy is
 * expected to finish first by a margin (fo_backup_wanted): both nodes are
 * measured, the time left on its node (its estimate minus the time run; the
 * time run again when it overran its estimate twice over) is more than
 * 2 x the estimate there, and it has run at least FO_BACKUP_MIN_US.
 */
#ifndef USBFARM_HUB_FAILOVER_H
#define USBFARM_HUB_FAILOVER_H

#include "../lib/buf.h"
#include "../lib/cursor.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FO_MIN_BYTES (64u * 1024u)
#define FO_FACTOR 4.0
#define FO_FLOOR_US 10000000ull		/* 10 s */
#define FO_UNKNOWN_US 60000000ull	/* 60 s: no node measured yet */
#define FO_BACKOFF_BASE_US 1000000ull	/* 1 s */
#define FO_BACKOFF_MAX_US 60000000ull	/* 60 s */
#define FO_BACKUP_MIN_US 1000000ull	/* a job younger than 1 s gets no backup */
#define FO_MAX_NODE_FAULTS 8		/* per job; beyond, node errors spend retries */

enum fo_class { FO_RETRY, FO_NODE, FO_LOCAL };

/* Per node, kept by hubd in its node. */
struct fo_node {
	double spmb;		/* EWMA seconds per MB; 0: not measured */
	uint64_t backoff_until;	/* monotonic us; 0: none */
	unsigned level;		/* consecutive failures */
	unsigned cancelling;	/* cancelled copies whose RESULT is still due */
	uint64_t misses, node_errors, backoffs;
};

/* Hub-wide counters (hubctl status). */
struct fo_counters {
	uint64_t fallbacks;	/* handed back to dcc by a rule here: FO_LOCAL, or a miss */
	uint64_t deadline_misses, backups_started, backups_won, backoffs, node_errors;
	uint64_t recovery_us_max;	/* longest dispatch-to-recovery of a missed job */
	uint64_t power_cycles;		/* silent boards' ports cycled by hubd (watchdog.h) */
};

/* What hubctl shows of a node. */
struct fo_node_status {
	uint64_t misses, node_errors, backoffs;
	uint32_t backoff_ms;	/* left, 0: in the pool */
	uint32_t deadline_ms;	/* of a 64 KiB job now */
};

enum fo_class fo_classify(int farm_error);
const char *fo_class_name(enum fo_class c);

/* Folds one result (input bytes, dispatch-to-result time) into n->spmb. */
void fo_measure(struct fo_node *n, size_t input_len, uint64_t took_us);
/* Expected run time of a job of input_len on n, 0 when n is not measured. */
uint64_t fo_expected_us(const struct fo_node *n, size_t input_len);
/* Deadline length (rule above). slowest_spmb: the slowest measured node's
 * figure, 0 if none; cap_us 0: no cap. */
uint64_t fo_deadline_us(const struct fo_node *n, double slowest_spmb, size_t input_len,
			uint64_t cap_us);

/* A failure on n at now: backs it off (exponential). */
void fo_backoff(struct fo_node *n, uint64_t now);
/* A good result: recovery. */
void fo_success(struct fo_node *n);
bool fo_available(const struct fo_node *n, uint64_t now);

/* Should a job running for elapsed_us, expected to take here_us on its node
 * (0: unknown), get a copy on a node where it is expected to take there_us? */
bool fo_backup_wanted(uint64_t elapsed_us, uint64_t here_us, uint64_t there_us);

void fo_node_status(const struct fo_node *n, uint64_t now, double slowest_spmb,
		    uint64_t cap_us, struct fo_node_status *s);

/* Codec of the status parts (appended by proto.c to its STATUS message). */
void fo_encode_counters(struct buf *b, const struct fo_counters *c);
void fo_decode_counters(struct cursor *c, struct fo_counters *f);
void fo_encode_node(struct buf *b, const struct fo_node_status *s);
void fo_decode_node(struct cursor *c, struct fo_node_status *s);

/* hubctl's output of them: a JSON member list (",\"failover\":{...}"), text. */
void fo_print_json(FILE *f, const struct fo_counters *c);
void fo_print_node_json(FILE *f, const struct fo_node_status *s);
void fo_print_text(FILE *f, const struct fo_counters *c);
void fo_print_node_text(FILE *f, const struct fo_node_status *s);

#endif
