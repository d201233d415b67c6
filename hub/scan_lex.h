/*
 * scan_lex.h — the include scanner's directive parser: a pure function from
 * a file's bytes to the list of its include-like directives (hub/scan.c
 * follows them; hub/filetab.c keeps one list per file content).
 *
 * What it sees, as the preprocessor's phases 1–3 would: a UTF-8 BOM is
 * skipped; backslash-newline (also with blanks between, as gcc accepts it)
 * splices lines; comments are blanks (a block comment inside a directive
 * continues it onto the next line); string and character literals, C++11 raw
 * strings (R"d(...)d", also u8R/uR/UR/LR; also in GNU C, as gcc does) and
 * pp-numbers with digit separators (1'000) are skipped whole, so none of
 * them opens a comment or hides a line. A directive is `#` or `%:` first on
 * a logical line. `#if` is ignored: every directive in every branch is
 * reported (the scanner wants a superset).
 *
 * Reported: #include, #include_next, #import, #embed with their operand
 * ("q", <a> or the computed text, blanks collapsed); __has_include,
 * __has_include_next (and gcc 5–9's __has_include__ spellings) wherever they
 * appear on a directive line (#if, #elif, #define); object-like
 * `#define NAME BODY` whose body is one header name or one identifier (what
 * resolves `#include NAME`), every other #define by its name only (opaque);
 * `#pragma once`. Trigraphs are not replaced
 * (gcc ignores them unless -trigraphs or a strict -std: `??/` as a line
 * splice is not followed).
 *
 * Invariants: every offset/length of a directive lies inside `text`, and
 * each operand and name is a C string of exactly its length (a NUL byte in
 * the file ends it);
 * scan_lex() never reads outside [p, p+n); the result is one allocation
 * pair (entries + text) owned by the caller (scan_lex_free()).
 */
#ifndef USBFARM_HUB_SCAN_LEX_H
#define USBFARM_HUB_SCAN_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum scan_kind {
	SCAN_INCLUDE,
	SCAN_INCLUDE_NEXT,
	SCAN_IMPORT,
	SCAN_EMBED,
	SCAN_HAS_INCLUDE,
	SCAN_HAS_INCLUDE_NEXT,
	SCAN_DEFINE,		/* name = the macro, operand = its body */
};

enum scan_form {
	SCAN_QUOTE,		/* "x.h" (operand without the quotes) */
	SCAN_ANGLE,		/* <x.h> */
	SCAN_COMPUTED,		/* anything else: the tokens' text; for a
				 * define, a body that is one identifier */
	SCAN_OPAQUE,		/* a define of any other body, or function-like
				 * (only the name is kept: NAME cannot be
				 * resolved from this file's definitions alone) */
};

struct scan_directive {
	uint8_t kind;		/* enum scan_kind */
	uint8_t form;		/* enum scan_form */
	uint32_t off, len;	/* the operand in text */
	uint32_t name_off, name_len;	/* SCAN_DEFINE: the macro's name */
};

struct scan_directives {
	struct scan_directive *d;
	size_t n;
	char *text;		/* operands and names, each NUL-terminated */
	size_t text_len;
	bool pragma_once;
	bool computed;		/* an include/has_include whose operand is computed */
};

/* Parses p[0..n). 0 or -ENOMEM (out is then empty). Caps: at most
 * SCAN_LEX_MAX_DIRECTIVES entries (more: -E2BIG), operands of at most
 * SCAN_LEX_MAX_OPERAND bytes (longer ones are cut, marked computed). */
#define SCAN_LEX_MAX_DIRECTIVES 65536
#define SCAN_LEX_MAX_OPERAND 1024
int scan_lex(const char *p, size_t n, struct scan_directives *out);
void scan_lex_free(struct scan_directives *d);
/* The operand / name of d as a C string. */
static inline const char *scan_operand(const struct scan_directives *ds,
				       const struct scan_directive *d)
{
	return ds->text + d->off;
}
static inline const char *scan_define_name(const struct scan_directives *ds,
					   const struct scan_directive *d)
{
	return ds->text + d->name_off;
}
/* Heap bytes held by a parsed list (for the file table's accounting). */
size_t scan_lex_bytes(const struct scan_directives *d);

#endif
