/*
 * link_table.h — the two small containers the link carries (link_table.c):
 *
 *   struct htab  a chained hash table keyed by u32, intrusive (the caller
 *                embeds a struct hnode and owns the memory). Invariant: n is
 *                the number of nodes reachable from b; nb is 0 or a power of
 *                two; it grows (x4) when n reaches nb, never shrinks.
 *   struct seqq  a growable FIFO of (seq, transmission order) pairs, a ring
 *                over v[cap]; head is the oldest, n how many.
 *
 * Neither frees what it points to; both report allocation failure as -ENOMEM
 * and are then unchanged.
 */
#ifndef USBFARM_LINK_TABLE_H
#define USBFARM_LINK_TABLE_H

#include <stddef.h>
#include <stdint.h>

#define container_of(p, T, f) ((T *)((char *)(p) - offsetof(T, f)))

struct hnode {
	struct hnode *next;
	uint32_t key;
};

struct htab {
	struct hnode **b;
	size_t nb, n;
};

struct hnode *htab_get(const struct htab *t, uint32_t key);
int htab_put(struct htab *t, struct hnode *h);	/* 0 or -ENOMEM */
void htab_del(struct htab *t, struct hnode *h);	/* h must be in t */
/* Forgets every node (the caller frees them); keeps the buckets. */
void htab_clear(struct htab *t);
void htab_free(struct htab *t);

struct seqq {
	struct { uint32_t seq; uint64_t order; } *v;
	size_t cap, head, n;
};

int seqq_push(struct seqq *q, uint32_t seq, uint64_t order); /* 0 or -ENOMEM */
void seqq_pop(struct seqq *q);	/* q->n > 0 */
static inline uint32_t seqq_seq(const struct seqq *q) { return q->v[q->head].seq; }
static inline uint64_t seqq_order(const struct seqq *q) { return q->v[q->head].order; }

#endif
