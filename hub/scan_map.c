/*
 * scan_map.c — the include scanner's string map (scan_map.h): open
 * addressing, linear probing, load at most 1/2, keys copied.
 *
 * Invariants: cap is 0 or a power of two; n keys are set; a slot's value is
 * meaningful only where its key is set.
 */
#include "scan_map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t shash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h ^ (h >> 31);
}

static size_t smap_slot(const struct smap *m, const char *k)
{
	size_t i = shash(k) & (m->cap - 1);
	while (m->k[i] && strcmp(m->k[i], k))
		i = (i + 1) & (m->cap - 1);
	return i;
}

void **smap_get(struct smap *m, const char *k)
{
	size_t i;
	if (!m->cap)
		return NULL;
	i = smap_slot(m, k);
	return m->k[i] ? &m->v[i] : NULL;
}

static int smap_grow(struct smap *m)
{
	struct smap g = { .cap = m->cap ? m->cap * 2 : 64 };
	if (!(g.k = calloc(g.cap, sizeof *g.k)) || !(g.v = calloc(g.cap, sizeof *g.v))) {
		free(g.k);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++)
		if (m->k[i]) {
			size_t j = smap_slot(&g, m->k[i]);
			g.k[j] = m->k[i];
			g.v[j] = m->v[i];
		}
	g.n = m->n;
	free(m->k);
	free(m->v);
	*m = g;
	return 0;
}

/* Inserts k (copied) unless present; *slot = its value slot. 1 if new, 0 if
 * it was there, -ENOMEM. */
int smap_put(struct smap *m, const char *k, void ***slot)
{
	size_t i;
	if ((m->n + 1) * 2 > m->cap && smap_grow(m))
		return -ENOMEM;
	i = smap_slot(m, k);
	*slot = &m->v[i];
	if (m->k[i])
		return 0;
	if (!(m->k[i] = strdup(k)))
		return -ENOMEM;
	m->v[i] = NULL;
	m->n++;
	return 1;
}

void smap_free(struct smap *m, void (*freev)(void *))
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->k[i]) {
			free(m->k[i]);
			if (freev)
				freev(m->v[i]);
		}
	free(m->k);
	free(m->v);
	memset(m, 0, sizeof *m);
}
