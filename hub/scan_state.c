/*
 * scan_state.c — the include scanner's long-lived state (scan.h): its file
 * table, the compiler search lists, the inputs remembered from compiles'
 * dependency output. One job's scan is scan.c.
 */
#include "scan_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void remembered_free(void *p)
{
	struct remembered *r = p;
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->paths[i]);
	free(r->paths);
	free(r);
}

struct scan *scan_new(const struct scan_cfg *cfg)
{
	struct scan *s = calloc(1, sizeof *s);
	struct filetab_cfg fc = { cfg ? cfg->mem_cap : 0, cfg ? cfg->racy_ns : -1 };
	if (!s)
		return NULL;
	if (!(s->ft = filetab_new(&fc)) || !(s->chains = scan_chains_new())) {
		filetab_free(s->ft);
		free(s);
		return NULL;
	}
	s->mem_cap = fc.mem_cap;
	s->racy_ns = fc.racy_ns;
	s->run = cfg && cfg->run ? cfg->run : scan_run_default;
	s->run_arg = cfg ? cfg->run_arg : NULL;
	return s;
}

void scan_free(struct scan *s)
{
	if (!s)
		return;
	scan_chains_free(s->chains);
	smap_free(&s->remember, remembered_free);
	filetab_free(s->ft);
	free(s);
}

void scan_get_stats(const struct scan *s, struct filetab_stats *st)
{
	filetab_get_stats(s->ft, st);
}

int scan_drop_files(struct scan *s)
{
	struct filetab *t;
	struct filetab_cfg fc = { s->mem_cap, s->racy_ns };
	if (!(t = filetab_new(&fc)))
		return -ENOMEM;
	filetab_free(s->ft);
	s->ft = t;
	return 0;
}

int scan_remember(struct scan *s, const char *file, const char *const *paths, size_t n)
{
	void **slot;
	struct remembered *r;
	int k;

	if (file[0] != '/')
		return -EINVAL;
	if ((k = smap_put(&s->remember, file, &slot)) < 0)
		return k;
	if (!(r = *slot) && !(r = *slot = calloc(1, sizeof *r)))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t j;
		if (paths[i][0] != '/')
			return -EINVAL;
		for (j = 0; j < r->n && strcmp(r->paths[j], paths[i]); j++)
			;
		if (j < r->n)
			continue;
		if (r->n >= SCAN_REMEMBER_MAX)
			return -E2BIG;
		char **np = realloc(r->paths, (r->n + 1) * sizeof *np);
		if (!np)
			return -ENOMEM;
		r->paths = np;
		if (!(r->paths[r->n] = strdup(paths[i])))
			return -ENOMEM;
		r->n++;
	}
	return 0;
}
