/*
 * holdings.h — what one board's store holds, as far as hubd knows (issue
 * 11): a set of blob hashes with their sizes, so a tree job carries only
 * the blobs its board lacks.
 *
 * Optimistic: a blob counts as held once a JOB that carried it was sent
 * (holdings_add); the board's "missing" answer (RESULT -ENOENT) is the
 * safety net (holdings_forget, then the blob is sent again). Bounded like
 * the board's store: at most `cap` bytes (the node's store_cap), least
 * recently used first out, and at most HOLDINGS_MAX_ENTRIES hashes (hubd's
 * own memory). A changed store_id (a new or emptied store) empties the set.
 * No I/O, no logging; one per node session, not shared between threads.
 */
#ifndef USBFARM_HUB_HOLDINGS_H
#define USBFARM_HUB_HOLDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HOLDINGS_MAX_ENTRIES (1u << 20)

struct holdings;
struct job_input;

struct holdings_stats {
	size_t blobs;		/* hashes held now */
	uint64_t bytes;		/* their sizes */
	uint64_t cap;		/* the store's cap (bytes) */
	uint64_t store_id;
	uint64_t evicted, forgotten, resets;
	/* the board's input table (below) */
	size_t dict_entries, dict_pending;
	uint64_t dict_bytes, dict_gen, dict_resets;
};

struct holdings *holdings_new(void);
void holdings_free(struct holdings *h);
/* The board's store as its NODEINFO says (id 0: none, nothing is held).
 * A different id than before empties the set (true), the same keeps it;
 * a smaller cap evicts down to it. The input table (below) starts a new
 * generation either way: noded's table does not outlive noded. */
bool holdings_set_store(struct holdings *h, uint64_t store_id, uint64_t cap);
/* Whether the board holds hash (and marks it used now). */
bool holdings_has(struct holdings *h, const uint8_t hash[32]);
/* The board holds hash now (a JOB carrying it was sent, or it was in a
 * job the board served): added or marked used; older blobs are evicted
 * while the set is over its cap. A blob larger than the cap is not kept.
 * 0 or -ENOMEM. */
int holdings_add(struct holdings *h, const uint8_t hash[32], uint64_t size);
/* The board said it lacks hash. */
void holdings_forget(struct holdings *h, const uint8_t hash[32]);
void holdings_get_stats(const struct holdings *h, struct holdings_stats *st);

/*
 * The board's input table as hubd knows it (lib/job.h, struct job_tree:
 * "paths sent once per board"): each input (kind, path, target, hash,
 * size, mode: all of it) hubd defined to the board, under the id it chose.
 * An id is confirmed once the link acknowledged a JOB that defined it (the
 * board applies a JOB's definitions on receipt, before it answers); until
 * then every JOB defines it again (the same id), so a JOB overtaking
 * another on the link never names what the board has not seen. Bounded as
 * the board's table is (JOB_DICT_MAX ids, JOB_DICT_BYTES of text); when
 * full, new inputs travel whole without an id. A NODEINFO (a session's
 * HELLO: noded may have restarted) and the board's -ESTALE answer reset
 * it: a new generation.
 */
/* The generation JOBs carry (never 0). */
uint64_t holdings_dict_gen(struct holdings *h);
/* in's id: *confirmed (a ref will do), else the id to define it under
 * (JOB_DICT_NONE: the table is full). 0 or -ENOMEM. */
int holdings_dict_lookup(struct holdings *h, const struct job_input *in, uint32_t *id,
			 bool *confirmed);
/* A JOB defining ids[] went as link message msg_id: pending until acked. */
void holdings_dict_sent(struct holdings *h, uint64_t msg_id, const uint32_t *ids, size_t n);
void holdings_dict_acked(struct holdings *h, uint64_t msg_id);
/* The board lost its table (or must be assumed to): empty, a new generation. */
void holdings_dict_reset(struct holdings *h);

#endif
