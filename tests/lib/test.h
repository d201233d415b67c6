/*
 * test.h — the unit-test convention: every test program prints one line per
 * case, `ok NAME`, `FAIL NAME: why` or `skip NAME: why`, and exits non-zero
 * if any case failed. tests/run counts those lines into the closing
 * `N passed, N failed, N skipped`.
 *
 *   T_CHECK(cond, fmt, ...)  inside a case: records a failure, continues
 *   T_CASE(name) { ... }     runs a block as one case
 *   return t_done();         at the end of main
 */
#ifndef USBFARM_TEST_H
#define USBFARM_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_failed_cases, t_passed_cases, t_case_failed;
static const char *t_case_name;

static inline void t_begin(const char *name)
{
	t_case_name = name;
	t_case_failed = 0;
}

static inline void t_end(void)
{
	if (t_case_failed)
		t_failed_cases++;
	else {
		t_passed_cases++;
		printf("ok %s\n", t_case_name);
	}
	fflush(stdout);
}

static inline void t_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	if (!t_case_failed)
		printf("FAIL %s: ", t_case_name);
	else
		printf("     %s: ", t_case_name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" (%s:%d)\n", file, line);
	fflush(stdout);
	t_case_failed = 1;
}

static inline void t_skip(const char *name, const char *why)
{
	printf("skip %s: %s\n", name, why);
	fflush(stdout);
}

#define T_CHECK(cond, ...)                                      \
	do {                                                    \
		if (!(cond))                                    \
			t_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

#define T_CASE(name) \
	for (int t_once_ = (t_begin(name), 1); t_once_; t_once_ = 0, t_end())

/* Splits a command line at spaces into a malloc'd argv (at most 63 words,
 * NULL-terminated); free it with t_split_free(). */
static inline char **t_split(const char *cmd, int *argc)
{
	char *c = strdup(cmd), *save = NULL;
	char **v = calloc(64, sizeof *v);
	int n = 0;
	for (char *t = strtok_r(c, " ", &save); t && n < 63; t = strtok_r(NULL, " ", &save))
		v[n++] = strdup(t);
	free(c);
	*argc = n;
	return v;
}

static inline void t_split_free(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static inline int t_done(void)
{
	return t_failed_cases ? 1 : 0;
}

#endif
