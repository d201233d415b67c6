/*
 * argv_wire.c — an argument vector on the wire (argv_wire.h). Decoding
 * sizes and checks everything in a first pass over a copy of the cursor,
 * then allocates once.
 */
#include "argv_wire.h"
#include "job.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int argv_wire_check(char *const *args, int nargs)
{
	size_t total = 0;

	if (nargs < 0 || nargs > JOB_MAX_ARGS)
		return -EINVAL;
	for (int i = 0; i < nargs; i++) {
		size_t l = strnlen(args[i], JOB_MAX_ARG_LEN);
		if (l >= JOB_MAX_ARG_LEN)
			return -EINVAL;
		total += l + 1;
	}
	return total > JOB_MAX_ARGS_BYTES ? -EINVAL : 0;
}

void argv_wire_encode(struct buf *b, char *const *args, int nargs)
{
	buf_u16(b, (uint16_t)nargs);
	for (int i = 0; i < nargs; i++)
		buf_str(b, args[i]);
}

char **argv_wire_decode(struct cursor *c, int *nargs)
{
	struct cursor scan;
	size_t text = 0;
	char **argv, *p;
	int n = cur_u16(c);

	*nargs = 0;
	if (c->err || n > JOB_MAX_ARGS) {
		c->err = true;
		return NULL;
	}
	scan = *c;
	for (int i = 0; i < n; i++) {
		uint16_t l = cur_u16(&scan);
		const uint8_t *s = scan.err || l >= JOB_MAX_ARG_LEN ? NULL : cur_take(&scan, l);
		if (!s || memchr(s, 0, l)) {
			c->err = true;
			return NULL;
		}
		text += (size_t)l + 1;
	}
	if (text > JOB_MAX_ARGS_BYTES) {
		c->err = true;
		return NULL;
	}
	argv = malloc((size_t)(n + 1) * sizeof *argv + text + 1);
	if (!argv)
		return NULL;
	p = (char *)(argv + n + 1);
	for (int i = 0; i < n; i++) {
		uint16_t l = cur_u16(c);
		const uint8_t *s = cur_take(c, l);
		argv[i] = p;
		memcpy(p, s, l);
		p[l] = 0;
		p += l + 1;
	}
	argv[n] = NULL;
	*nargs = n;
	return argv;
}
