/*
 * holdings.c — a board's store as hubd knows it (see holdings.h): a chained
 * hash table of blob hashes (the hash's own first bytes are the key: it is
 * SHA-256) threaded on one LRU list, most recently used at the head; and
 * the board's input table: a chained hash table of inputs (FNV-1a of all
 * their fields) and the list of those pending an acknowledgement.
 */
#include "holdings.h"
#include "../lib/job.h"
#include "../lib/lru.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct hold {
	uint8_t hash[32];
	uint64_t size;
	struct hold *next;		/* bucket chain */
	struct lru_node lru;		/* on holdings.lru */
};

/* One input of the board's table. */
struct dent {
	struct dent *next;	/* bucket chain */
	uint64_t key;		/* FNV-1a of the fields */
	uint64_t msg;		/* pending: the last JOB that defined it */
	uint32_t id;
	bool confirmed, pending;
	uint8_t kind;
	uint8_t hash[32];
	uint64_t size;
	uint32_t mode, path_len, target_len;
	char text[];		/* path, then target */
};

struct dict {
	struct dent **bucket;
	size_t nbucket;		/* a power of two, or 0 */
	struct dent **byid;	/* next_id of them, NULL past a reset */
	size_t capid;
	struct dent **pend;	/* entries pending an ack (each once) */
	size_t npend, cappend;
	uint32_t next_id;	/* ids are never reused in a generation */
	uint32_t base, counter;	/* the generation: base << 32 | counter */
};

struct holdings {
	struct hold **bucket;
	size_t nbucket;		/* a power of two, or 0 */
	struct lru_list lru;	/* every entry; newest: most recently used */
	struct holdings_stats st;
	struct dict d;
};

static void dict_clear(struct holdings *h);

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
	dict_clear(h);
	free(h->d.bucket);
	free(h->d.byid);
	free(h->d.pend);
	free(h);
}

bool holdings_set_store(struct holdings *h, uint64_t store_id, uint64_t cap)
{
	bool reset = store_id != h->st.store_id;

	/* a board (re)announcing itself: its input table, in noded's memory,
	 * may be gone (a restart keeps the store, not the table) */
	holdings_dict_reset(h);
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

/* ---- the board's input table ---- */

static uint64_t fnv(uint64_t k, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		k = (k ^ b[i]) * 0x100000001b3ull;
	return k;
}

static uint64_t in_key(const struct job_input *in)
{
	uint64_t k = fnv(0xcbf29ce484222325ull, &in->kind, 1);

	k = fnv(k, in->path, in->path_len);
	if (in->kind == JOB_IN_LINK)
		k = fnv(fnv(k, "\0", 1), in->target, in->target_len);
	if (in->kind == JOB_IN_FILE) {
		k = fnv(k, in->hash, sizeof in->hash);
		k = fnv(k, &in->size, sizeof in->size);
		k = fnv(k, &in->mode, sizeof in->mode);
	}
	return k;
}

static bool in_same(const struct dent *e, const struct job_input *in)
{
	if (e->kind != in->kind || e->path_len != in->path_len ||
	    memcmp(e->text, in->path, in->path_len))
		return false;
	if (in->kind == JOB_IN_LINK)
		return e->target_len == in->target_len &&
		       !memcmp(e->text + e->path_len, in->target, in->target_len);
	if (in->kind == JOB_IN_FILE)
		return !memcmp(e->hash, in->hash, 32) && e->size == in->size &&
		       e->mode == in->mode;
	return true;
}

static uint64_t in_text(const struct job_input *in)
{
	return (uint64_t)in->path_len + (in->kind == JOB_IN_LINK ? in->target_len : 0);
}

static void dict_clear(struct holdings *h)
{
	struct dict *d = &h->d;

	for (size_t i = 0; i < d->nbucket; i++)
		for (struct dent *e = d->bucket[i], *next; e; e = next) {
			next = e->next;
			free(e);
		}
	if (d->nbucket)
		memset(d->bucket, 0, d->nbucket * sizeof *d->bucket);
	d->npend = 0;
	d->next_id = 0;
	h->st.dict_entries = h->st.dict_pending = 0;
	h->st.dict_bytes = 0;
}

uint64_t holdings_dict_gen(struct holdings *h)
{
	struct dict *d = &h->d;

	while (!d->base) {	/* hubd's own: another hubd's table is not ours */
		uint32_t r = 0;
		if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
			r = (uint32_t)(uintptr_t)h ^ 0x5bd1e995u;
		d->base = r;
		d->counter = 1;
	}
	h->st.dict_gen = (uint64_t)d->base << 32 | d->counter;
	return h->st.dict_gen;
}

void holdings_dict_reset(struct holdings *h)
{
	dict_clear(h);
	(void)holdings_dict_gen(h);
	if (++h->d.counter == 0)	/* after 2^32 resets: a new base */
		h->d.base = 0;
	h->st.dict_resets++;
	(void)holdings_dict_gen(h);
}

/* Doubles the table's buckets: 0 or -ENOMEM. */
static int dict_grow(struct dict *d)
{
	size_t n = d->nbucket ? d->nbucket * 2 : 256;
	struct dent **nb = calloc(n, sizeof *nb);

	if (!nb)
		return -ENOMEM;
	for (size_t i = 0; i < d->nbucket; i++)
		for (struct dent *e = d->bucket[i], *next; e; e = next) {
			next = e->next;
			e->next = nb[e->key & (n - 1)];
			nb[e->key & (n - 1)] = e;
		}
	free(d->bucket);
	d->bucket = nb;
	d->nbucket = n;
	return 0;
}

static struct dent *dict_new(struct holdings *h, const struct job_input *in, uint64_t key)
{
	struct dict *d = &h->d;
	uint64_t len = in_text(in);
	struct dent *e;

	if (d->next_id >= JOB_DICT_MAX || h->st.dict_bytes + len > JOB_DICT_BYTES)
		return NULL;
	if (h->st.dict_entries >= d->nbucket && dict_grow(d) < 0)
		return NULL;
	if (d->next_id >= d->capid) {
		size_t n = d->capid ? d->capid * 2 : 1024;
		struct dent **nv = realloc(d->byid, n * sizeof *nv);
		if (!nv)
			return NULL;
		d->byid = nv;
		d->capid = n;
	}
	if (!(e = calloc(1, sizeof *e + len)))
		return NULL;
	d->byid[d->next_id] = e;
	e->key = key;
	e->id = d->next_id++;
	e->kind = in->kind;
	memcpy(e->hash, in->hash, 32);
	e->size = in->size;
	e->mode = in->mode;
	e->path_len = in->path_len;
	memcpy(e->text, in->path, in->path_len);
	if (in->kind == JOB_IN_LINK) {
		e->target_len = in->target_len;
		memcpy(e->text + in->path_len, in->target, in->target_len);
	}
	e->next = d->bucket[key & (d->nbucket - 1)];
	d->bucket[key & (d->nbucket - 1)] = e;
	h->st.dict_entries++;
	h->st.dict_bytes += len;
	return e;
}

int holdings_dict_lookup(struct holdings *h, const struct job_input *in, uint32_t *id,
			 bool *confirmed)
{
	struct dict *d = &h->d;
	uint64_t key = in_key(in);
	struct dent *e = NULL;

	(void)holdings_dict_gen(h);
	*id = JOB_DICT_NONE;
	*confirmed = false;
	if (d->nbucket)
		for (e = d->bucket[key & (d->nbucket - 1)]; e; e = e->next)
			if (e->key == key && in_same(e, in))
				break;
	if (!e && !(e = dict_new(h, in, key)))
		return 0;	/* full (or no memory for the table): it travels whole */
	*id = e->id;
	*confirmed = e->confirmed;
	return 0;
}


void holdings_dict_sent(struct holdings *h, uint64_t msg_id, const uint32_t *ids, size_t n)
{
	struct dict *d = &h->d;

	for (size_t i = 0; i < n; i++) {
		struct dent *e = ids[i] < d->next_id ? d->byid[ids[i]] : NULL;
		if (!e || e->confirmed)
			continue;
		if (!e->pending) {
			if (d->npend == d->cappend) {
				size_t c = d->cappend ? d->cappend * 2 : 256;
				struct dent **nv = realloc(d->pend, c * sizeof *nv);
				if (!nv)
					continue;	/* stays unconfirmed: defined again */
				d->pend = nv;
				d->cappend = c;
			}
			d->pend[d->npend++] = e;
			e->pending = true;
		}
		e->msg = msg_id;
	}
	h->st.dict_pending = d->npend;
}

void holdings_dict_acked(struct holdings *h, uint64_t msg_id)
{
	struct dict *d = &h->d;
	size_t k = 0;

	for (size_t i = 0; i < d->npend; i++) {
		struct dent *e = d->pend[i];
		if (e->msg == msg_id) {
			e->pending = false;
			e->confirmed = true;
		} else {
			d->pend[k++] = e;
		}
	}
	d->npend = k;
	h->st.dict_pending = k;
}
