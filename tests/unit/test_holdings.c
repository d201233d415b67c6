/* test_holdings.c — a board's store as hubd knows it (hub/holdings.c):
 * add/has/forget, LRU eviction at the byte cap, reset on a new store id,
 * growth past many buckets; the board's input table: ids, confirmation on
 * the acknowledgement, every field telling inputs apart, the bounds, the
 * reset's new generation. */
#include "holdings.h"
#include "../lib/job.h"
#include "../lib/test.h"

#include <stdio.h>
#include <string.h>

static struct job_input file_in(const char *path, uint8_t h0)
{
	struct job_input in;

	memset(&in, 0, sizeof in);
	in.kind = JOB_IN_FILE;
	in.path = path;
	in.path_len = (uint32_t)strlen(path);
	memset(in.hash, h0, 32);
	in.size = 10;
	in.mode = 0644;
	return in;
}

static void t_dict(void)
{
	uint32_t id, id2;
	bool conf;
	struct holdings_stats st;

	T_CASE("dict_confirmed_on_ack_only") {
		struct holdings *h = holdings_new();
		struct job_input a = file_in("/src/a.h", 1), b = file_in("/src/b.h", 2);
		uint64_t g = holdings_dict_gen(h);
		T_CHECK(g != 0 && holdings_dict_gen(h) == g, "a stable generation");
		T_CHECK(holdings_dict_lookup(h, &a, &id, &conf) == 0 && id == 0 && !conf, "new a");
		T_CHECK(holdings_dict_lookup(h, &b, &id2, &conf) == 0 && id2 == 1 && !conf, "new b");
		T_CHECK(holdings_dict_lookup(h, &a, &id, &conf) == 0 && id == 0 && !conf,
			"a again: the same id, still to define");
		uint32_t ids[] = { 0, 1 };
		holdings_dict_sent(h, 7, ids, 1);
		holdings_dict_sent(h, 8, ids + 1, 1);
		holdings_dict_acked(h, 99);
		holdings_dict_lookup(h, &a, &id, &conf);
		T_CHECK(!conf, "another message's ack confirms nothing");
		holdings_dict_acked(h, 7);
		holdings_dict_lookup(h, &a, &id, &conf);
		T_CHECK(id == 0 && conf, "a confirmed by its JOB's ack");
		holdings_dict_lookup(h, &b, &id, &conf);
		T_CHECK(id == 1 && !conf, "b not yet");
		/* b defined again by a later JOB: the earlier ack is not enough */
		holdings_dict_sent(h, 9, ids + 1, 1);
		holdings_dict_acked(h, 8);
		holdings_dict_lookup(h, &b, &id, &conf);
		T_CHECK(!conf, "b pending on its last definition");
		holdings_dict_acked(h, 9);
		holdings_dict_lookup(h, &b, &id, &conf);
		T_CHECK(conf, "b confirmed");
		holdings_get_stats(h, &st);
		T_CHECK(st.dict_entries == 2 && st.dict_pending == 0 && st.dict_bytes == 16,
			"stats %zu %zu %llu", st.dict_entries, st.dict_pending,
			(unsigned long long)st.dict_bytes);
		/* reset: empty, a newer generation of the same base */
		holdings_dict_reset(h);
		uint64_t g2 = holdings_dict_gen(h);
		T_CHECK(g2 >> 32 == g >> 32 && (uint32_t)g2 == (uint32_t)g + 1, "gen %llx -> %llx",
			(unsigned long long)g, (unsigned long long)g2);
		holdings_dict_acked(h, 9);
		T_CHECK(holdings_dict_lookup(h, &b, &id, &conf) == 0 && id == 0 && !conf,
			"after the reset: b is new");
		holdings_free(h);
	}
	T_CASE("dict_every_field_counts") {
		struct holdings *h = holdings_new();
		struct job_input v[6];
		v[0] = file_in("/s/x.h", 1);
		v[1] = file_in("/s/x.h", 2);	/* another hash */
		v[2] = file_in("/s/x.h", 1);
		v[2].size = 11;
		v[3] = file_in("/s/x.h", 1);
		v[3].mode = 0755;
		v[4] = file_in("/s/x.h", 1);
		v[4].kind = JOB_IN_DIR;
		v[5] = file_in("/s/x.h", 1);
		v[5].kind = JOB_IN_LINK;
		v[5].target = "y.h";
		v[5].target_len = 3;
		for (uint32_t i = 0; i < 6; i++) {
			holdings_dict_lookup(h, &v[i], &id, &conf);
			T_CHECK(id == i, "input %u: id %u", i, id);
		}
		struct job_input l2 = v[5];
		l2.target = "z.h";
		holdings_dict_lookup(h, &l2, &id, &conf);
		T_CHECK(id == 6, "another target");
		holdings_free(h);
	}
	T_CASE("dict_bounded") {
		struct holdings *h = holdings_new();
		char p[32];
		uint32_t last = 0;
		for (unsigned i = 0; i < JOB_DICT_MAX + 5; i++) {
			snprintf(p, sizeof p, "/d/%u", i);
			struct job_input in = file_in(p, 3);
			holdings_dict_lookup(h, &in, &id, &conf);
			if (i < JOB_DICT_MAX)
				last = id;
			else
				T_CHECK(id == JOB_DICT_NONE, "past the cap: no id (%u)", id);
		}
		T_CHECK(last == JOB_DICT_MAX - 1, "ids 0..MAX-1 (%u)", last);
		holdings_dict_reset(h);
		/* text bound: 3000 paths of 4000 bytes is over JOB_DICT_BYTES */
		static char big[4001];
		memset(big, 'p', 4000);
		big[0] = '/';
		unsigned none = 0;
		for (unsigned i = 0; i < 3000; i++) {
			snprintf(big + 1, 12, "%010u", i);
			big[11] = 'p';
			struct job_input in = file_in(big, 4);
			holdings_dict_lookup(h, &in, &id, &conf);
			none += id == JOB_DICT_NONE;
		}
		holdings_get_stats(h, &st);
		T_CHECK(none > 0 && st.dict_bytes <= JOB_DICT_BYTES, "%u without id, %llu bytes", none,
			(unsigned long long)st.dict_bytes);
		holdings_free(h);
	}
}

static void hash_of(uint8_t h[32], unsigned i)
{
	memset(h, 0, 32);
	h[0] = (uint8_t)i;	/* the table keys on the first 8 bytes */
	h[1] = (uint8_t)(i >> 8);
	h[2] = (uint8_t)(i >> 16);
	h[20] = (uint8_t)i;
	h[21] = (uint8_t)(i >> 8);
	h[22] = (uint8_t)(i >> 16);
}

int main(void)
{
	uint8_t a[32], b[32], c[32];
	struct holdings_stats st;

	hash_of(a, 1);
	hash_of(b, 2);
	hash_of(c, 9);
	memcpy(c, a, 8);	/* the same table key as a: only the rest tells them apart */
	T_CASE("holdings_no_store_holds_nothing") {
		struct holdings *h = holdings_new();
		T_CHECK(h && holdings_add(h, a, 10) == 0 && !holdings_has(h, a), "held without a store");
		holdings_free(h);
	}
	T_CASE("holdings_add_has_forget") {
		struct holdings *h = holdings_new();
		T_CHECK(holdings_set_store(h, 42, 1000), "a first store is a reset");
		T_CHECK(holdings_add(h, a, 10) == 0 && holdings_add(h, c, 20) == 0, "add");
		T_CHECK(holdings_has(h, a) && holdings_has(h, c) && !holdings_has(h, b), "has");
		T_CHECK(holdings_add(h, a, 10) == 0, "add again");
		holdings_get_stats(h, &st);
		T_CHECK(st.blobs == 2 && st.bytes == 30, "%zu blobs %llu bytes", st.blobs,
			(unsigned long long)st.bytes);
		holdings_forget(h, a);
		T_CHECK(!holdings_has(h, a) && holdings_has(h, c), "forgotten");
		holdings_get_stats(h, &st);
		T_CHECK(st.blobs == 1 && st.bytes == 20 && st.forgotten == 1, "stats after forget");
		holdings_free(h);
	}
	T_CASE("holdings_lru_at_cap") {
		struct holdings *h = holdings_new();
		holdings_set_store(h, 7, 100);
		holdings_add(h, a, 40);
		holdings_add(h, b, 40);
		T_CHECK(holdings_has(h, a), "a used again: b is now the oldest");
		holdings_add(h, c, 40);
		T_CHECK(holdings_has(h, a) && holdings_has(h, c) && !holdings_has(h, b),
			"the least recently used went");
		holdings_get_stats(h, &st);
		T_CHECK(st.bytes == 80 && st.evicted == 1, "bytes %llu evicted %llu",
			(unsigned long long)st.bytes, (unsigned long long)st.evicted);
		T_CHECK(holdings_add(h, b, 101) == 0 && !holdings_has(h, b), "over the cap kept");
		holdings_set_store(h, 7, 50);
		T_CHECK(!holdings_has(h, a) && holdings_has(h, c), "a smaller cap evicts");
		holdings_free(h);
	}
	T_CASE("holdings_reset_on_new_store") {
		struct holdings *h = holdings_new();
		holdings_set_store(h, 7, 100);
		holdings_add(h, a, 1);
		T_CHECK(!holdings_set_store(h, 7, 100) && holdings_has(h, a), "same store kept");
		T_CHECK(holdings_set_store(h, 8, 100) && !holdings_has(h, a), "new store empties");
		holdings_add(h, a, 1);
		T_CHECK(holdings_set_store(h, 0, 0) && !holdings_has(h, a), "store gone");
		holdings_free(h);
	}
	T_CASE("holdings_many") {
		struct holdings *h = holdings_new();
		uint8_t x[32];
		unsigned n = 50000, miss = 0;
		holdings_set_store(h, 1, (uint64_t)n * 10);
		for (unsigned i = 0; i < n; i++) {
			hash_of(x, i);
			T_CHECK(holdings_add(h, x, 10) == 0, "add %u", i);
		}
		for (unsigned i = 0; i < n; i++) {
			hash_of(x, i);
			miss += !holdings_has(h, x);
		}
		hash_of(x, n);
		T_CHECK(miss == 0 && !holdings_has(h, x), "%u missing", miss);
		holdings_get_stats(h, &st);
		T_CHECK(st.blobs == n && st.evicted == 0, "%zu blobs", st.blobs);
		holdings_free(h);
	}
	t_dict();
	return t_done();
}
