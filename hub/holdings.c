/*
 * holdings.c — a board's store as hubd knows it (see holdings.h): a chained
 * hash table of blob hashes (the hash's own first bytes are the key: it is
 * SHA-256) threaded on one LRU list, most recently used at the head.
 */
#include "holdings.h"
#include "../lib/lru.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct hold {
	uint8_t hash[32];
	uint64_t size;
	struct hold *next;		/* bucket chain */
	struct lru_node lru;		/* on holdings.lru */
};

struct holdings {
	struct hold **bucket;
	size_t nbucket;		/* a power of two, or 0 */
	struct lru_list lru;	/* every entry; newest: most recently used */
	struct holdings_stats st;
};

/* The bucket of hash among n (a power of two). */
static size_t slot_of(size_t n, const uint8_t hash[32])
{
	uint64_t k;
	memcpy(&k, hash, sizeof k);
	return (size_t)(k & (n - 1));
}

static size_t slot(const struct holdings *h, const uint8_t hash[32])
{
	return slot_of(h->nbucket, hash);
}

static struct hold **find(struct holdings *h, const uint8_t hash[32])
{
	struct hold **p;

	if (!h->nbucket)
		return NULL;
	for (p = &h->bucket[slot(h, hash)]; *p; p = &(*p)->next)
		if (!memcmp((*p)->hash, hash, 32))
			return p;
	return NULL;
}

static struct hold *oldest(const struct holdings *h)
{
	return h->lru.oldest ? LRU_ENTRY(h->lru.oldest, struct hold, lru) : NULL;
}

/* Unlinks and frees the entry *p points to. */
static void drop(struct holdings *h, struct hold **p)
{
	struct hold *e = *p;

	*p = e->next;
	lru_remove(&h->lru, &e->lru);
	h->st.blobs--;
	h->st.bytes -= e->size;
	free(e);
}

static void evict_to(struct holdings *h, uint64_t bytes, size_t blobs)
{
	while (oldest(h) && (h->st.bytes > bytes || h->st.blobs > blobs)) {
		drop(h, find(h, oldest(h)->hash));
		h->st.evicted++;
	}
}

static void clear(struct holdings *h)
{
	while (oldest(h))
		drop(h, find(h, oldest(h)->hash));
}

struct holdings *holdings_new(void)
{
	return calloc(1, sizeof(struct holdings));
}

void holdings_free(struct holdings *h)
{
	if (!h)
		return;
	clear(h);
	free(h->bucket);
	free(h);
}

bool holdings_set_store(struct holdings *h, uint64_t store_id, uint64_t cap)
{
	bool reset = store_id != h->st.store_id;

	if (reset) {
		clear(h);
		h->st.resets++;
	}
	h->st.store_id = store_id;
	h->st.cap = store_id ? cap : 0;
	evict_to(h, h->st.cap, HOLDINGS_MAX_ENTRIES);
	return reset;
}

bool holdings_has(struct holdings *h, const uint8_t hash[32])
{
	struct hold **p = find(h, hash);

	if (!p)
		return false;
	lru_touch(&h->lru, &(*p)->lru);
	return true;
}

/* Doubles the bucket array (the chains are rehashed): 0 or -ENOMEM. */
static int grow(struct holdings *h)
{
	size_t n = h->nbucket ? h->nbucket * 2 : 64;
	struct hold **nb = calloc(n, sizeof *nb);

	if (!nb)
		return -ENOMEM;
	for (size_t i = 0; i < h->nbucket; i++)
		for (struct hold *e = h->bucket[i], *next; e; e = next) {
			next = e->next;
			e->next = nb[slot_of(n, e->hash)];
			nb[slot_of(n, e->hash)] = e;
		}
	free(h->bucket);
	h->bucket = nb;
	h->nbucket = n;
	return 0;
}

int holdings_add(struct holdings *h, const uint8_t hash[32], uint64_t size)
{
	struct hold *e;

	if (holdings_has(h, hash))
		return 0;
	if (size > h->st.cap)
		return 0;	/* the store cannot keep it either */
	if (h->st.blobs >= h->nbucket && h->nbucket < HOLDINGS_MAX_ENTRIES && grow(h) < 0)
		return -ENOMEM;
	e = calloc(1, sizeof *e);
	if (!e)
		return -ENOMEM;
	memcpy(e->hash, hash, 32);
	e->size = size;
	e->next = h->bucket[slot(h, hash)];
	h->bucket[slot(h, hash)] = e;
	lru_push_newest(&h->lru, &e->lru);
	h->st.blobs++;
	h->st.bytes += size;
	evict_to(h, h->st.cap, HOLDINGS_MAX_ENTRIES);
	return 0;
}

void holdings_forget(struct holdings *h, const uint8_t hash[32])
{
	struct hold **p = find(h, hash);

	if (p) {
		drop(h, p);
		h->st.forgotten++;
	}
}

void holdings_get_stats(const struct holdings *h, struct holdings_stats *st)
{
	*st = h->st;
}
