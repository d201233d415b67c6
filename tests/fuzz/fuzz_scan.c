/* fuzz_scan.c — libFuzzer harness for the include scanner's parsers of
 * untrusted text (hub/scan_lex.c: any file's bytes; hub/scan_cc.c: a
 * compiler's -v output, a job's argv). Nothing may read past the input or
 * leak; every directive's operand and name lie inside the text, are
 * NUL-terminated and as long as they say; a parsed search list has at
 * most SCAN_CC_MAX_DIRS dirs and its quote part within it. */
#include "scan_cc.h"
#include "scan_lex.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_lex(const uint8_t *data, size_t size)
{
	struct scan_directives ds;
	if (scan_lex((const char *)data, size, &ds) != 0)
		return;
	for (size_t i = 0; i < ds.n; i++) {
		const struct scan_directive *d = &ds.d[i];
		if (d->off + d->len >= ds.text_len || d->name_off + d->name_len >= ds.text_len ||
		    strlen(ds.text + d->off) != d->len || strlen(ds.text + d->name_off) != d->name_len ||
		    d->kind > SCAN_DEFINE || d->form > SCAN_OPAQUE || d->len > SCAN_LEX_MAX_OPERAND)
			abort();
		if (d->form == SCAN_COMPUTED && d->kind != SCAN_DEFINE && !ds.computed)
			abort();
	}
	scan_lex_free(&ds);
}

/* The input as an argv: NUL- or newline-separated words. */
static void check_argv(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), **v = calloc(size + 2, sizeof *v), err[128];
	size_t n = 0, s = 0;
	struct scan_opts o;
	if (!copy || !v)
		goto out;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (size_t i = 0; i <= size; i++)
		if (copy[i] == '\n' || copy[i] == '\0') {
			copy[i] = '\0';
			v[n++] = copy + s;
			s = i + 1;
		}
	if (scan_parse_argv(v, n, &o, err, sizeof err) == 0) {
		char **q = scan_query_argv(v[0], &o);
		if (!o.source || !o.lang || !q)
			abort();
		free(q);
		scan_opts_free(&o);
	}
out:
	free(copy);
	free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scan_chain c;
	check_lex(data, size);
	if (scan_chain_parse((const char *)data, size, &c) == 0) {
		if (c.n > SCAN_CC_MAX_DIRS || c.quote_n > c.n)
			abort();
		scan_chain_free(&c);
	}
	check_argv(data, size);
	return 0;
}
