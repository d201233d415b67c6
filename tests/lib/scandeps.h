/*
 * scandeps.h — the include scanner's subset check, shared by
 * tests/unit/test_scan.c and tests/tools/scanjob.c: every file of a gcc
 * dependency file (-M/-MD output, make syntax) must be an input of the
 * scan (compared by realpath) whose SHA-256 is that of the file's current
 * bytes. Header-only; tests only.
 */
#ifndef USBFARM_TESTS_SCANDEPS_H
#define USBFARM_TESTS_SCANDEPS_H

#include "scan.h"
#include "sha256.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The next path of a dependency list (make syntax: "\ " and "$$" escapes,
 * backslash-newline continuations); NULL at the end. Malloc'd. */
static inline char *scandeps_next(const char **pp)
{
	const char *p = *pp;
	char tmp[PATH_MAX];
	size_t o = 0;
	while (*p == ' ' || *p == '\t' || *p == '\n' || (*p == '\\' && p[1] == '\n'))
		p += *p == '\\' ? 2 : 1;
	if (!*p)
		return NULL;
	while (*p && *p != ' ' && *p != '\t' && *p != '\n' && o + 1 < sizeof tmp) {
		if (*p == '\\' && p[1] == '\n')
			break;
		if ((*p == '\\' && (p[1] == ' ' || p[1] == '#')) || (*p == '$' && p[1] == '$'))
			p++;
		tmp[o++] = *p++;
	}
	tmp[o] = '\0';
	*pp = p;
	return strdup(tmp);
}

static inline int scandeps_sha(const char *p, uint8_t out[32])
{
	struct buf b = BUF_INIT;
	int r = buf_read_file(&b, p, 1u << 28);
	if (!r)
		sha256(b.data, b.len, out);
	buf_free(&b);
	return r;
}

/* The index of the input at physical path `real`, or -1. */
static inline long scandeps_find(const struct scan_result *r, const char *real)
{
	for (size_t i = 0; i < r->nin; i++)
		if (!strcmp(r->in[i].path, real))
			return (long)i;
	return -1;
}

/* Checks the dependency file (relative names relative to cwd). Returns the
 * number of problems (the first in why), or -1 if it cannot be read;
 * *ndeps = files in it. */
static inline int scandeps_check(const struct scan_result *r, const char *cwd, const char *depfile,
				 int *ndeps, char *why, size_t wl)
{
	struct buf b = BUF_INIT;
	const char *p;
	char *d;
	int bad = 0;

	*ndeps = 0;
	if (buf_read_file(&b, depfile, 1u << 26) || (buf_u8(&b, 0), !buf_ok(&b))) {
		buf_free(&b);
		snprintf(why, wl, "cannot read %s", depfile);
		return -1;
	}
	p = strchr((const char *)b.data, ':');
	p = p ? p + 1 : "";
	while ((d = scandeps_next(&p))) {
		char abs[PATH_MAX * 2], real[PATH_MAX];
		uint8_t h[32];
		long i;
		if (d[0] && d[strlen(d) - 1] == ':') {	/* -MP: phony targets follow */
			free(d);
			break;
		}
		(*ndeps)++;
		snprintf(abs, sizeof abs, "%s%s%s", d[0] == '/' ? "" : cwd, d[0] == '/' ? "" : "/", d);
		if (!realpath(abs, real)) {
			if (!bad++)
				snprintf(why, wl, "%s: %s", d, strerror(errno));
		} else if ((i = scandeps_find(r, real)) < 0) {
			if (!bad++)
				snprintf(why, wl, "gcc read %s, not in the scan's %zu inputs", real, r->nin);
		} else if (scandeps_sha(real, h) || memcmp(h, r->in[i].sha256, 32)) {
			if (!bad++)
				snprintf(why, wl, "%s: the scan's hash is not the file's", real);
		}
		free(d);
	}
	buf_free(&b);
	return bad;
}

#endif
