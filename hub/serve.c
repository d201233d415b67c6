/*
 * serve.c — hubctl's view of "which board serves which compiler jobs asked
 * for, and why not" (the status lines hubd makes with pairs_verdict(),
 * "COMPILER\tNODE\tVERDICT"), as text and as JSON. A line without two tabs
 * is shown whole as the verdict; nothing here trusts the line's content
 * beyond being a NUL-terminated string (JSON output escapes every byte).
 */
#include "serve.h"

#include <string.h>

static void json_esc(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* splits a line into its three fields (pointers into it, lengths) */
static void fields(const char *l, const char **f, size_t *fl)
{
	const char *t1 = strchr(l, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
	if (!t2) {
		f[0] = f[1] = "";
		fl[0] = fl[1] = 0;
		f[2] = l, fl[2] = strlen(l);
		return;
	}
	f[0] = l, fl[0] = (size_t)(t1 - l);
	f[1] = t1 + 1, fl[1] = (size_t)(t2 - t1 - 1);
	f[2] = t2 + 1, fl[2] = strlen(t2 + 1);
}

void serve_print_text(const struct hub_status *st)
{
	size_t prev_len = 0;
	const char *prev = NULL;

	if (!st->nserve)
		return;
	printf("\ncompilers jobs asked for, and which boards serve them:\n");
	for (size_t i = 0; i < st->nserve; i++) {
		const char *f[3];
		size_t fl[3];
		fields(st->serve[i], f, fl);
		if (!prev || fl[0] != prev_len || memcmp(prev, f[0], fl[0]))
			printf("  %.*s\n", (int)fl[0], f[0]);
		prev = f[0], prev_len = fl[0];
		printf("    %.*s: %.*s\n", (int)fl[1], f[1], (int)fl[2], f[2]);
	}
}

void serve_print_json(FILE *f, const struct hub_status *st)
{
	fputs(",\"serves\":[", f);
	for (size_t i = 0; i < st->nserve; i++) {
		const char *v[3];
		size_t vl[3];
		fields(st->serve[i], v, vl);
		fputs(i ? ",{\"compiler\":" : "{\"compiler\":", f);
		json_esc(f, v[0], vl[0]);
		fputs(",\"node\":", f);
		json_esc(f, v[1], vl[1]);
		fputs(",\"verdict\":", f);
		json_esc(f, v[2], vl[2]);
		fprintf(f, ",\"serves\":%s}", !strncmp(v[2], "serves it", 9) ? "true" : "false");
	}
	fputc(']', f);
}
