/* test_watchdog.c — hubd --auto-power-cycle's rule (hub/watchdog.c): the
 * silence of a link from its received-frame count (restarted by a frame
 * or a new link), the verdict against the limit and the per-port interval. */
#include "../../hub/watchdog.h"
#include "../lib/test.h"

#define S 1000000ull

int main(void)
{
	struct wd_seen w = { 0 };
	int a = 0, b = 0;	/* two links' addresses */
	const uint64_t t0 = 100 * S;

	T_CASE("watchdog a new link starts its silence at zero") {
		T_CHECK(wd_observe(&w, &a, 5, t0) == 0, "silent at once");
		T_CHECK(wd_observe(&w, &a, 5, t0 + 3 * S) == 3 * S, "3 s of silence: %llu",
			(unsigned long long)(wd_observe(&w, &a, 5, t0 + 3 * S)));
	}
	T_CASE("watchdog a frame ends the silence") {
		T_CHECK(wd_observe(&w, &a, 6, t0 + 4 * S) == 0, "a new frame not seen");
		T_CHECK(wd_observe(&w, &a, 6, t0 + 9 * S) == 5 * S, "silence since the frame");
	}
	T_CASE("watchdog another link (same count) starts again") {
		T_CHECK(wd_observe(&w, &b, 6, t0 + 10 * S) == 0, "the old link's silence kept");
		T_CHECK(wd_observe(&w, NULL, 6, t0 + 11 * S) == 0, "unwatched kept silence");
	}
	T_CASE("watchdog the verdict: fine, cycle, held back") {
		T_CHECK(wd_judge(true, 9 * S, 10, 0, t0, 600) == WD_FINE, "cycled before the limit");
		T_CHECK(wd_judge(true, 10 * S, 10, 0, t0, 600) == WD_CYCLE, "not cycled at the limit");
		T_CHECK(wd_judge(true, 60 * S, 10, t0 - 599 * S, t0, 600) == WD_HELD,
			"cycled twice within the interval");
		T_CHECK(wd_judge(true, 60 * S, 10, t0 - 600 * S, t0, 600) == WD_CYCLE,
			"not cycled once the interval passed");
		T_CHECK(wd_judge(true, 1000 * S, 0, 0, t0, 600) == WD_FINE, "cycled while off");
	}
	T_CASE("watchdog a board that never answered is left alone") {
		T_CHECK(wd_judge(false, 1000 * S, 10, 0, t0, 600) == WD_FINE,
			"a board still booting (no session yet) was cycled");
	}
	return t_done();
}
