/*
 * schedule.h — node choice for one job, as a pure function so it is unit-tested
 * (was pick.h; not "sched.h", which -Ihub would put in front of <sched.h>).
 *
 * Policy: the caller passes every node that is up, offers the job's compiler,
 * has not failed this job and is not backed off (failover.h), busy or not.
 * Among those with a free slot, pick the highest score:
 *     score = speed x (1 - 0.5 x running/slots) x thermal
 * speed is the EWMA (alpha 0.3) of measured input bytes per microsecond from
 * dispatch to result; a node with no measurement yet is optimistic (1.25 x
 * the best measured speed, or 1.0 when nothing is measured), so new nodes get
 * work and are measured at once. thermal: 0.5 at >= 85 C, 0.8 at >= 75 C.
 * Ties (within 2 %) go to the node that was given a job least recently
 * (round robin), so equal nodes share the work.
 *
 * Slow boards: a free node whose measured speed is more than SCHED_SLOW_RATIO
 * times below the best candidate's (busy ones included) is not fed, unless
 * the queue is deep enough that it still finishes first: with `ahead` jobs
 * queued before this one and F slots on the fast nodes (speed within the
 * ratio of the best, or not measured), a fast slot is about ahead/F + 1 job
 * times away, so the slow node is used only when best/speed <= ahead/F + 1.
 * A board at 5 % of a CPU next to normal ones therefore stops getting jobs
 * once measured, except in a long queue where it still helps.
 */
#ifndef USBFARM_HUB_SCHEDULE_H
#define USBFARM_HUB_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#define SCHED_SLOW_RATIO 4.0	/* equal boards differ by up to ~3x on a busy host */

struct sched_cand {
	double speed;		/* bytes/us, 0: unknown */
	unsigned running, slots;
	int32_t temp_mc;	/* INT32_MIN: unknown */
	uint64_t last_dispatch;	/* monotonic us of its last job */
};

double sched_score(const struct sched_cand *c, double optimistic);
/* Index of the best candidate with a free slot, -1 when none may take the
 * job now. ahead: jobs queued before this one, still waiting. */
int sched_pick(const struct sched_cand *c, size_t n, unsigned ahead);
/* Is candidate i held back as much slower than the best (rule above)? */
int sched_too_slow(const struct sched_cand *c, size_t n, size_t i, unsigned ahead);
/* Folds one measurement into an EWMA speed. */
double sched_update_speed(double speed, double sample);

#endif
