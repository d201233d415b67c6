/* test_lru.c — lib/lru.h against a model: the list's order (walked from
 * newest and from oldest), its length and ends, and lru_on after every step
 * of random pushes, removals and touches, compared with an array kept in
 * the same order by plain code; the edge cases (empty list, one entry,
 * touching the newest, the oldest, one not on the list), LRU_ENTRY, and a
 * list rebuilt with lru_init + lru_push_oldest (the store's sort). */
#include "lru.h"
#include "../lib/test.h"

#include <stdint.h>
#include <string.h>

#define N 64

struct item {
	int id;
	struct lru_node lru;
	char tail[3];
};

static struct item it[N];
static int model[N], mlen;	/* model[0] newest */

static int index_of(int id)
{
	for (int i = 0; i < mlen; i++)
		if (model[i] == id)
			return i;
	return -1;
}

static void m_remove(int id)
{
	int i = index_of(id);
	memmove(model + i, model + i + 1, (size_t)(mlen - i - 1) * sizeof *model);
	mlen--;
}

static void m_newest(int id)
{
	memmove(model + 1, model, (size_t)mlen * sizeof *model);
	model[0] = id;
	mlen++;
}

/* the list equals the model: both directions, ends, len, membership */
static int same(const struct lru_list *l, const char *step, int k)
{
	int i = 0, bad = 0;
	const struct lru_node *prev = NULL;

	for (const struct lru_node *n = l->newest; n && i <= N; n = n->older, i++) {
		const struct item *x = LRU_ENTRY(n, const struct item, lru);
		if (i >= mlen || x->id != model[i] || n->newer != prev)
			bad = 1;
		prev = n;
	}
	if (i != mlen || l->oldest != prev || l->len != (size_t)mlen)
		bad = 1;
	i = mlen - 1;
	for (const struct lru_node *n = l->oldest; n && i >= -1; n = n->newer, i--)
		if (i < 0 || LRU_ENTRY(n, const struct item, lru)->id != model[i])
			bad = 1;
	if (i != -1)
		bad = 1;
	for (int j = 0; j < N; j++)
		if (lru_on(l, &it[j].lru) != (index_of(j) >= 0))
			bad = 1;
	T_CHECK(!bad, "%s, step %d: list differs from the model (len %zu, model %d)",
		step, k, l->len, mlen);
	return !bad;
}

int main(void)
{
	struct lru_list l;
	uint32_t x = 88172645u;

	for (int i = 0; i < N; i++)
		it[i].id = i;
	T_CASE("lru_empty_and_one") {
		lru_init(&l);
		same(&l, "empty", 0);
		lru_touch(&l, &it[5].lru);
		m_newest(5);
		same(&l, "one touched in", 0);
		lru_touch(&l, &it[5].lru);
		same(&l, "the newest touched", 0);
		lru_remove(&l, &it[5].lru);
		m_remove(5);
		same(&l, "emptied", 0);
		T_CHECK(!it[5].lru.newer && !it[5].lru.older, "removed node keeps links");
	}
	T_CASE("lru_entry") {
		T_CHECK(LRU_ENTRY(&it[7].lru, struct item, lru) == &it[7], "wrong entry");
	}
	T_CASE("lru_random_against_model") {
		lru_init(&l);
		mlen = 0;
		for (int k = 0; k < 20000; k++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			int id = (int)(x % N), op = (int)((x >> 8) % 4);
			bool on = index_of(id) >= 0;
			const char *what = "touch";
			if (op == 0 && !on) {
				lru_push_newest(&l, &it[id].lru);
				m_newest(id);
				what = "push_newest";
			} else if (op == 1 && !on) {
				lru_push_oldest(&l, &it[id].lru);
				model[mlen++] = id;
				what = "push_oldest";
			} else if (op == 2 && on) {
				lru_remove(&l, &it[id].lru);
				m_remove(id);
				what = "remove";
			} else {
				lru_touch(&l, &it[id].lru);
				if (on)
					m_remove(id);
				m_newest(id);
			}
			if (!same(&l, what, k))
				break;
		}
		T_CHECK(mlen > 0, "the walk never filled the list");
	}
	T_CASE("lru_rebuilt_in_order") {
		/* what node/store.c's sort does: forget, thread again oldest-wards */
		int order[N];
		for (int i = 0; i < mlen; i++)
			order[i] = model[mlen - 1 - i];	/* reversed */
		int n = mlen;
		lru_init(&l);
		mlen = 0;
		for (int i = 0; i < n; i++) {
			lru_push_oldest(&l, &it[order[i]].lru);
			model[mlen++] = order[i];
		}
		same(&l, "rebuilt", 0);
		T_CHECK(n == 0 || LRU_ENTRY(l.oldest, struct item, lru)->id == order[n - 1],
			"oldest is not the last pushed");
	}
	return t_done();
}
