/*
 * pathwalk.c — the one PATH search (pathwalk.h). No I/O but getcwd().
 */
#include "pathwalk.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int pathwalk(const char *path, bool relative_ok, pathwalk_fn fn, void *arg)
{
	char *copy, *save = NULL;
	int r = 0;

	if (!path)
		path = getenv("PATH");
	if (!path)
		path = PATHWALK_DEFAULT;
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	for (char *d = strtok_r(copy, ":", &save); d && !r; d = strtok_r(NULL, ":", &save)) {
		char cwd[PATH_MAX], full[PATH_MAX];
		if (d[0] == '/') {
			r = fn(d, arg);
			continue;
		}
		if (!relative_ok || !getcwd(cwd, sizeof cwd))
			continue;
		if ((size_t)snprintf(full, sizeof full, "%s/%s", cwd, d) >= sizeof full)
			continue;
		r = fn(full, arg);
	}
	free(copy);
	return r;
}
