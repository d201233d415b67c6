/* schedule.c — node choice (see schedule.h for the policy). Pure: no clock, no I/O. */
#include "schedule.h"

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

static double best_speed(const struct sched_cand *c, size_t n)
{
	double b = 0;
	for (size_t i = 0; i < n; i++)
		if (c[i].speed > b)
			b = c[i].speed;
	return b;
}

int sched_too_slow(const struct sched_cand *c, size_t n, size_t i, unsigned ahead)
{
	double best = best_speed(c, n), ratio;
	unsigned fast_slots = 0;

	if (c[i].speed <= 0 || best <= 0)
		return 0;
	ratio = best / c[i].speed;
	if (ratio <= SCHED_SLOW_RATIO)
		return 0;
	for (size_t k = 0; k < n; k++)
		if (c[k].speed <= 0 || best / c[k].speed <= SCHED_SLOW_RATIO)
			fast_slots += c[k].slots;
	if (!fast_slots)
		return 0;
	return ratio > (double)ahead / (double)fast_slots + 1.0;
}

int sched_pick(const struct sched_cand *c, size_t n, unsigned ahead)
{
	double bs = best_speed(c, n), optimistic, best = -1;
	int pick = -1;

	optimistic = bs > 0 ? bs * 1.25 : 1.0;
	for (size_t i = 0; i < n; i++) {
		if (c[i].running >= c[i].slots || sched_too_slow(c, n, i, ahead))
			continue;
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
