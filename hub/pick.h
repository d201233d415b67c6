/*
 * pick.h — node choice for one job, as a pure function so it is unit-tested.
 *
 * Policy: among nodes that are up, have a free slot, offer the job's
 * compiler and have not failed this job before (the caller filters), pick the
 * highest score:
 *     score = speed x (1 - 0.5 x running/slots) x thermal
 * speed is the EWMA (alpha 0.3) of measured input bytes per microsecond from
 * dispatch to result; a node with no measurement yet is optimistic (1.25 x
 * the best measured speed, or 1.0 when nothing is measured), so new nodes get
 * work and are measured at once. thermal: 0.5 at >= 85 C, 0.8 at >= 75 C.
 * Ties go to the node that was given a job least recently (round robin), so
 * equal nodes share the work.
 */
#ifndef USBFARM_HUB_PICK_H
#define USBFARM_HUB_PICK_H

#include <stddef.h>
#include <stdint.h>

struct sched_cand {
	double speed;		/* bytes/us, 0: unknown */
	unsigned running, slots;
	int32_t temp_mc;	/* INT32_MIN: unknown */
	uint64_t last_dispatch;	/* monotonic us of its last job */
};

double sched_score(const struct sched_cand *c, double optimistic);
/* Index of the best candidate, -1 when n == 0. */
int sched_pick(const struct sched_cand *c, size_t n);
/* Folds one measurement into an EWMA speed. */
double sched_update_speed(double speed, double sample);

#endif
