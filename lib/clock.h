/*
 * clock.h — the one monotonic time helper (CLOCK_MONOTONIC: never jumps with
 * the wall clock), for deadlines and durations everywhere in usbfarm.
 */
#ifndef USBFARM_CLOCK_H
#define USBFARM_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static inline uint64_t now_ms(void)
{
	return now_us() / 1000u;
}

#endif
