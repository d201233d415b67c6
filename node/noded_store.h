/*
 * noded_store.h — noded's store and tree jobs (noded_store.c): set up at
 * start, counted in TELEMETRY, closed at the end.
 */
#ifndef USBFARM_NODE_NODED_STORE_H
#define USBFARM_NODE_NODED_STORE_H

#include "workers.h"

#include "../lib/job.h"

#include <stdbool.h>
#include <stdint.h>

struct noded_store_opts {
	const char *dir;	/* --store; NULL: STORE_DIR_DEFAULT */
	uint64_t cap;		/* --store-cap; 0: STORE_CAP_DEFAULT */
	bool disabled;		/* --no-store */
};

/* After the sandbox check and the compilers: sv->tree set up (on or not,
 * and why in the log); *id and *cap as NODEINFO announces them (0, 0:
 * no tree jobs). Needs sv->compilers. */
void noded_store_setup(struct workers_cfg *sv, const struct noded_store_opts *o,
		       uint64_t *id, uint64_t *cap);
/* The store's counters into t (the workers' lookups included). */
void noded_store_telemetry(const struct workers_cfg *sv, struct job_telemetry *t);
void noded_store_close(struct workers_cfg *sv);

#endif
