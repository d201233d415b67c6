/* test_holdings.c — a board's store as hubd knows it (hub/holdings.c):
 * add/has/forget, LRU eviction at the byte cap, reset on a new store id,
 * growth past many buckets. */
#include "holdings.h"
#include "../lib/test.h"

#include <string.h>

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
	return t_done();
}
