/*
 * link_table.c — the link's hash table and FIFO (see link_table.h for the
 * invariants). Keys are hashed multiplicatively (Knuth), so consecutive seqs
 * and stream ids spread over the buckets.
 */
#include "link_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static size_t hidx(const struct htab *t, uint32_t k)
{
	return (size_t)((k * 2654435761u) >> 8) & (t->nb - 1);
}

struct hnode *htab_get(const struct htab *t, uint32_t k)
{
	if (!t->nb)
		return NULL;
	for (struct hnode *h = t->b[hidx(t, k)]; h; h = h->next)
		if (h->key == k)
			return h;
	return NULL;
}

static int htab_grow(struct htab *t)
{
	size_t nb = t->nb ? t->nb * 4 : 64;
	struct hnode **b = calloc(nb, sizeof *b);
	if (!b)
		return -ENOMEM;
	struct htab nt = { b, nb, t->n };
	for (size_t i = 0; i < t->nb; i++)
		for (struct hnode *x = t->b[i], *nx; x; x = nx) {
			nx = x->next;
			size_t j = hidx(&nt, x->key);
			x->next = b[j];
			b[j] = x;
		}
	free(t->b);
	*t = nt;
	return 0;
}

int htab_put(struct htab *t, struct hnode *h)
{
	if (t->n >= t->nb && htab_grow(t) < 0)
		return -ENOMEM;
	size_t i = hidx(t, h->key);
	h->next = t->b[i];
	t->b[i] = h;
	t->n++;
	return 0;
}

void htab_del(struct htab *t, struct hnode *h)
{
	for (struct hnode **pp = &t->b[hidx(t, h->key)]; *pp; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			t->n--;
			return;
		}
}

void htab_clear(struct htab *t)
{
	if (t->nb)
		memset(t->b, 0, t->nb * sizeof t->b[0]);
	t->n = 0;
}

void htab_free(struct htab *t)
{
	free(t->b);
	t->b = NULL;
	t->nb = t->n = 0;
}

int seqq_push(struct seqq *q, uint32_t seq, uint64_t order)
{
	if (q->n == q->cap) {
		size_t nc = q->cap ? q->cap * 2 : 256;
		void *nv = malloc(nc * sizeof q->v[0]);
		if (!nv)
			return -ENOMEM;
		for (size_t i = 0; i < q->n; i++)
			memcpy((char *)nv + i * sizeof q->v[0], &q->v[(q->head + i) % q->cap],
			       sizeof q->v[0]);
		free(q->v);
		q->v = nv;
		q->cap = nc;
		q->head = 0;
	}
	q->v[(q->head + q->n) % q->cap].seq = seq;
	q->v[(q->head + q->n) % q->cap].order = order;
	q->n++;
	return 0;
}

void seqq_pop(struct seqq *q)
{
	q->head = (q->head + 1) % q->cap;
	q->n--;
}
