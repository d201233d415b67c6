/* pick.c — node choice (see pick.h for the policy). */
#include "pick.h"

#define SCHED_ALPHA 0.3

double sched_score(const struct sched_cand *c, double optimistic)
{
	double s = c->speed > 0 ? c->speed : optimistic;
	if (c->slots)
		s *= 1.0 - 0.5 * (double)c->running / (double)c->slots;
	if (c->temp_mc != INT32_MIN) {
		if (c->temp_mc >= 85000)
			s *= 0.5;
		else if (c->temp_mc >= 75000)
			s *= 0.8;
	}
	return s;
}

int sched_pick(const struct sched_cand *c, size_t n)
{
	double best_speed = 0, optimistic, best = -1;
	int pick = -1;

	for (size_t i = 0; i < n; i++)
		if (c[i].speed > best_speed)
			best_speed = c[i].speed;
	optimistic = best_speed > 0 ? best_speed * 1.25 : 1.0;
	for (size_t i = 0; i < n; i++) {
		double s = sched_score(&c[i], optimistic);
		/* Within 2 % counts as a tie: the least recently used wins. */
		if (pick < 0 || s > best * 1.02 ||
		    (s >= best * 0.98 && c[i].last_dispatch < c[pick].last_dispatch)) {
			if (pick < 0 || s > best)
				best = s;
			pick = (int)i;
		}
	}
	return pick;
}

double sched_update_speed(double speed, double sample)
{
	if (sample <= 0)
		return speed;
	if (speed <= 0)
		return sample;
	return speed + SCHED_ALPHA * (sample - speed);
}
