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

static inline int t_done(void)
{
	return t_failed_cases ? 1 : 0;
}

#endif
