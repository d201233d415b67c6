/*
 * tool.h — small helpers shared by the test and benchmark tools in
 * tests/tools/ (each tool is one .c file, so these are static inline).
 */
#ifndef USBFARM_TOOL_H
#define USBFARM_TOOL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* A non-negative number with an optional k/M/G (binary) suffix, for option
 * --OPT of program PROG; exits 2 with a message on anything else. */
static inline unsigned long long tool_num(const char *prog, const char *opt, const char *s)
{
	char *e;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &e, 0);
	if (errno || e == s || s[0] == '-')
		goto bad;
	switch (*e) {
	case 'k': case 'K': v <<= 10; e++; break;
	case 'm': case 'M': v <<= 20; e++; break;
	case 'g': case 'G': v <<= 30; e++; break;
	}
	if (*e)
		goto bad;
	return v;
bad:
	fprintf(stderr, "%s: --%s: bad number '%s'\n", prog, opt, s);
	exit(2);
}

#endif
