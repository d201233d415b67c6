/*
 * clock.h — the one monotonic time helper (CLOCK_MONOTONIC: never jumps with
 * the wall clock), for deadlines and durations everywhere in usbfarm: no
 * other file reads CLOCK_MONOTONIC itself.
 */
#ifndef USBFARM_CLOCK_H
#define USBFARM_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t now_us(void)
{
	return now_ns() / 1000u;
}

static inline uint64_t now_ms(void)
{
	return now_us() / 1000u;
}

#endif
