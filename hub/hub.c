/*
 * hub.c — the one instance of hubd's shared options and counters (hub.h).
 * Owns nothing else; every module writes only its own fields (see hub.h).
 */
#include "hub.h"

struct hub hub = { .listen_fd = -1 };

uint64_t hub_job_cap_us(void)
{
	return hub.job_timeout_s > 0 ? (uint64_t)hub.job_timeout_s * 1000000u : 0;
}
