/* test_sched.c — the scheduler's slow-board rule (schedule.c) and the failover
 * rules (failover.c): deadlines, error classes, backoff, backup copies and the
 * status codec, all table-driven on given times (no clock). */
#include "schedule.h"
#include "failover.h"
#include "../lib/test.h"

#include <errno.h>
#include <string.h>

#define U INT32_MIN
#define S 1000000ull	/* one second in us */
#define MB (1024u * 1024u)

struct slow_case {
	const char *name;
	size_t n;
	struct sched_cand c[4];
	unsigned ahead;
	int want;
};

static const struct slow_case slows[] = {
	/* the 5 %-CPU board: 20x slower, its fast peers busy, short queue: wait */
	{ "slow_board_waits_for_fast_slot", 3,
	  { { 2.0, 2, 2, U, 0 }, { 2.0, 2, 2, U, 0 }, { 0.1, 0, 2, U, 0 } }, 0, -1 },
	{ "slow_board_waits_short_queue", 3,
	  { { 2.0, 2, 2, U, 0 }, { 2.0, 2, 2, U, 0 }, { 0.1, 0, 2, U, 0 } }, 10, -1 },
	/* 4 fast slots, 80 ahead: a fast slot is ~21 job times away, the slow one 20 */
	{ "slow_board_helps_long_queue", 3,
	  { { 2.0, 2, 2, U, 0 }, { 2.0, 2, 2, U, 0 }, { 0.1, 0, 2, U, 0 } }, 80, 2 },
	{ "fast_free_slot_preferred", 3,
	  { { 2.0, 1, 2, U, 9 }, { 2.0, 2, 2, U, 0 }, { 0.1, 0, 2, U, 0 } }, 0, 0 },
	{ "within_ratio_is_fed", 2, { { 2.0, 2, 2, U, 0 }, { 0.6, 0, 2, U, 0 } }, 0, 1 },
	{ "beyond_ratio_waits", 2, { { 2.0, 2, 2, U, 0 }, { 0.4, 0, 2, U, 0 } }, 0, -1 },
	{ "unmeasured_is_fed", 2, { { 2.0, 2, 2, U, 0 }, { 0, 0, 2, U, 0 } }, 0, 1 },
	{ "all_slow_alone_is_fed", 1, { { 0.1, 0, 2, U, 0 } }, 0, 0 },
	{ "all_busy", 2, { { 2.0, 2, 2, U, 0 }, { 1.0, 1, 1, U, 0 } }, 0, -1 },
};

struct deadline_case {
	const char *name;
	double spmb, slowest;
	size_t len;
	uint64_t cap, want;
};

static const struct deadline_case deadlines[] = {
	{ "floor_for_fast_small", 0.5, 0, 10000, 300 * S, FO_FLOOR_US },
	{ "scales_with_size", 2.0, 0, 4 * MB, 300 * S, 32 * S },	/* 4 x 2 s/MB x 4 MB */
	{ "scales_with_slowness", 8.0, 0, 1 * MB, 300 * S, 32 * S },
	{ "tiny_counts_as_min_bytes", 200.0, 0, 10, 300 * S, 50 * S },	/* 4 x 200 / 16 */
	{ "capped_by_job_timeout", 50.0, 0, 8 * MB, 300 * S, 300 * S },
	{ "no_cap", 50.0, 0, 8 * MB, 0, 1600 * S },
	{ "unmeasured_borrows_slowest", 0, 4.0, 2 * MB, 300 * S, 64 * S },
	{ "nothing_measured", 0, 0, 2 * MB, 300 * S, FO_UNKNOWN_US },
	{ "nothing_measured_cap", 0, 0, 2 * MB, 20 * S, 20 * S },
};

struct class_case {
	int err;
	enum fo_class want;
};

static const struct class_case classes[] = {
	{ -ENOSPC, FO_NODE }, { -EDQUOT, FO_NODE }, { -ENOENT, FO_NODE }, { -EIO, FO_NODE },
	{ -EMFILE, FO_NODE }, { -EAGAIN, FO_NODE }, { -ENOMEM, FO_NODE }, { -EACCES, FO_NODE },
	{ -EBUSY, FO_NODE }, { -E2BIG, FO_LOCAL }, { -EPERM, FO_LOCAL }, { -EPROTO, FO_LOCAL },
	{ -ETIMEDOUT, FO_RETRY }, { -ECANCELED, FO_RETRY }, { -EEXIST, FO_RETRY },
	{ -ENETDOWN, FO_RETRY },
};

struct backup_case {
	const char *name;
	uint64_t elapsed, here, there;
	bool want;
};

static const struct backup_case backups[] = {
	{ "slow_straggler", 2 * S, 30 * S, 1 * S, true },
	{ "too_young", S / 2, 30 * S, 1 * S / 10, false },
	{ "nearly_done", 28 * S, 30 * S, 1 * S, false },
	{ "unmeasured_here", 5 * S, 0, 1 * S, false },
	{ "overran_twice_over", 70 * S, 30 * S, 10 * S, true },
	{ "just_past_estimate", 35 * S, 30 * S, 1 * S, false },
	{ "equal_nodes", 2 * S, 4 * S, 4 * S, false },
	{ "other_unmeasured", 5 * S, 30 * S, 0, false },
};

int main(void)
{
	for (size_t i = 0; i < sizeof slows / sizeof slows[0]; i++)
		T_CASE(slows[i].name) {
			int got = sched_pick(slows[i].c, slows[i].n, slows[i].ahead);
			T_CHECK(got == slows[i].want, "picked %d, want %d", got, slows[i].want);
		}
	for (size_t i = 0; i < sizeof deadlines / sizeof deadlines[0]; i++)
		T_CASE(deadlines[i].name) {
			struct fo_node n = { .spmb = deadlines[i].spmb };
			uint64_t got = fo_deadline_us(&n, deadlines[i].slowest, deadlines[i].len,
						      deadlines[i].cap);
			uint64_t w = deadlines[i].want;
			T_CHECK(got + 1000 >= w && got <= w + 1000, "deadline %llu us, want %llu",
				(unsigned long long)got, (unsigned long long)w);
		}
	T_CASE("classify") {
		for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
			T_CHECK(fo_classify(classes[i].err) == classes[i].want, "%s: %s, want %s",
				strerror(-classes[i].err), fo_class_name(fo_classify(classes[i].err)),
				fo_class_name(classes[i].want));
	}
	for (size_t i = 0; i < sizeof backups / sizeof backups[0]; i++)
		T_CASE(backups[i].name) {
			bool got = fo_backup_wanted(backups[i].elapsed, backups[i].here, backups[i].there);
			T_CHECK(got == backups[i].want, "backup %d, want %d", got, backups[i].want);
		}
	T_CASE("measure_ewma") {
		struct fo_node n = { 0 };
		fo_measure(&n, 2 * MB, 4 * S);
		T_CHECK(n.spmb > 1.99 && n.spmb < 2.01, "first sample as is: %f", n.spmb);
		fo_measure(&n, 1 * MB, 10 * S);
		T_CHECK(n.spmb > 2.0 && n.spmb < 10.0, "moves toward 10: %f", n.spmb);
		double before = n.spmb;
		fo_measure(&n, 1 * MB, 0);
		T_CHECK(n.spmb == before, "zero time ignored");
		T_CHECK(fo_expected_us(&n, 1 * MB) == (uint64_t)(n.spmb * 1e6), "expected");
	}
	T_CASE("backoff_exponential_and_recovery") {
		static const uint64_t want[] = { 1, 2, 4, 8, 16, 32, 60, 60 };
		struct fo_node n = { 0 };
		uint64_t t = 1000 * S;
		for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
			fo_backoff(&n, t);
			T_CHECK(n.backoff_until == t + want[k] * S, "failure %zu: %llu s", k + 1,
				(unsigned long long)((n.backoff_until - t) / S));
			T_CHECK(!fo_available(&n, t + want[k] * S - 1), "out during backoff");
			T_CHECK(fo_available(&n, t + want[k] * S), "back after it");
		}
		T_CHECK(n.backoffs == 8, "counted");
		fo_success(&n);
		fo_backoff(&n, t);
		T_CHECK(n.backoff_until == t + S, "after a success it starts again at 1 s");
	}
	T_CASE("status_codec") {
		struct fo_counters c = { 1, 2, 3, 4, 5, 6, 7, 13 }, d;
		struct fo_node_status s = { 8, 9, 10, 11, 12 }, e;
		struct buf b = BUF_INIT;
		fo_encode_counters(&b, &c);
		fo_encode_node(&b, &s);
		struct cursor cur = cur_init(b.data, b.len);
		fo_decode_counters(&cur, &d);
		fo_decode_node(&cur, &e);
		T_CHECK(cur_done(&cur) && !memcmp(&c, &d, sizeof c) && e.misses == 8 &&
			e.node_errors == 9 && e.backoffs == 10 && e.backoff_ms == 11 &&
			e.deadline_ms == 12, "round trip");
		struct cursor cut = cur_init(b.data, b.len - 1);
		fo_decode_counters(&cut, &d);
		fo_decode_node(&cut, &e);
		T_CHECK(cut.err, "truncation seen");
		buf_free(&b);
	}
	return t_done();
}
