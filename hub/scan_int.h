/*
 * scan_int.h — the long-lived scanner's state, shared by scan_state.c (its
 * life: new, free, remembered inputs, the table dropped) and scan.c (one
 * job). Not an API: scan.h is.
 */
#ifndef USBFARM_HUB_SCAN_INT_H
#define USBFARM_HUB_SCAN_INT_H

#include "filetab.h"
#include "scan.h"
#include "scan_cc.h"
#include "scan_map.h"

struct remembered {
	size_t n;
	char **paths;
};

struct scan {
	struct filetab *ft;
	scan_run_fn run;
	void *run_arg;
	struct scan_chains *chains;
	struct smap remember;		/* physical path → struct remembered */
	size_t mem_cap;			/* the file table's configuration */
	int64_t racy_ns;
};

#endif
