/*
 * scan_map.h — a string → pointer map for the include scanner's per-job
 * sets (files followed, inputs, links, defines) and its remembered inputs.
 * Keys are copied; values are the caller's (smap_free() can free them).
 */
#ifndef USBFARM_HUB_SCAN_MAP_H
#define USBFARM_HUB_SCAN_MAP_H

#include <stddef.h>
#include <stdint.h>

struct smap {
	char **k;
	void **v;
	size_t cap, n;
};

/* The value slot of k, or NULL when k is not in the map. */
void **smap_get(struct smap *m, const char *k);
/* Inserts k (copied, value NULL) unless present; *slot = its value slot
 * (valid until the next insertion). 1 if new, 0 if it was there, -ENOMEM. */
int smap_put(struct smap *m, const char *k, void ***slot);
/* Frees the keys, each value with freev (if given), and the map. */
void smap_free(struct smap *m, void (*freev)(void *));

#endif
