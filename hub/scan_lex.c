/*
 * scan_lex.c — the directive parser of the include scanner (scan_lex.h says
 * what is recognised and why). One pass over the spliced text; a copy is
 * made only when the file has a backslash-newline. Every index is checked
 * against n before it is read.
 */
#include "scan_lex.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct lx {
	const char *s;
	size_t n;
	struct scan_directives *out;
	size_t cap;		/* entries allocated in out->d */
	size_t tcap;		/* bytes allocated in out->text */
	int err;
};

static bool is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

static bool is_ident_start(char c)
{
	return is_ident(c) && !(c >= '0' && c <= '9');
}

static bool is_hblank(char c)
{
	return c == ' ' || c == '\t' || c == '\f' || c == '\v' || c == '\r';
}

/* A backslash, blanks, then a newline (\n or \r\n) at i: the length of the
 * splice, else 0. */
static size_t splice_at(const char *p, size_t n, size_t i)
{
	size_t j = i + 1;
	if (i >= n || p[i] != '\\')
		return 0;
	while (j < n && (p[j] == ' ' || p[j] == '\t' || p[j] == '\f' || p[j] == '\v'))
		j++;
	if (j < n && p[j] == '\r')
		j++;
	if (j < n && p[j] == '\n')
		return j + 1 - i;
	return 0;
}

/* The text with every line splice removed; *copy is NULL when there is none
 * (then the input is used as it is). */
static int splice(const char *p, size_t n, char **copy, size_t *len)
{
	const char *b = memchr(p, '\\', n);
	size_t i, o = 0, k;
	char *c;

	*copy = NULL;
	*len = n;
	while (b && !splice_at(p, n, (size_t)(b - p))) {
		size_t at = (size_t)(b - p) + 1;
		b = at < n ? memchr(p + at, '\\', n - at) : NULL;
	}
	if (!b)
		return 0;
	if (!(c = malloc(n)))
		return -ENOMEM;
	for (i = 0; i < n;) {
		if (p[i] == '\\' && (k = splice_at(p, n, i))) {
			i += k;
			continue;
		}
		c[o++] = p[i++];
	}
	*copy = c;
	*len = o;
	return 0;
}

/* i at "/" "*": just after the closing "*" "/", or n. */
static size_t skip_block(const char *s, size_t n, size_t i)
{
	for (i += 2; i + 1 < n; i++)
		if (s[i] == '*' && s[i + 1] == '/')
			return i + 2;
	return n;
}

/* i at "//": the newline that ends it (not consumed), or n. */
static size_t skip_line_comment(const char *s, size_t n, size_t i)
{
	const char *nl = memchr(s + i, '\n', n - i);
	return nl ? (size_t)(nl - s) : n;
}

/* i at a quote: just after its closing quote; an unterminated literal ends
 * at the newline (not consumed). */
static size_t skip_quoted(const char *s, size_t n, size_t i)
{
	char q = s[i];
	for (i++; i < n && s[i] != '\n'; i++) {
		if (s[i] == '\\' && i + 1 < n && s[i + 1] != '\n')
			i++;
		else if (s[i] == q)
			return i + 1;
	}
	return i;
}

/* i at the '"' of a raw string: just after it ends, or 0 if this is not a
 * well-formed raw string (then it is lexed as an ordinary one). */
static size_t skip_raw(const char *s, size_t n, size_t i)
{
	size_t d = i + 1, dl, j;
	while (d < n && d - (i + 1) <= 16 && s[d] != '(') {
		char c = s[d];
		if (c == ')' || c == '\\' || c == '"' || c == ' ' || c == '\t' || c == '\n')
			return 0;
		d++;
	}
	if (d >= n || s[d] != '(')
		return 0;
	dl = d - (i + 1);
	for (j = d + 1; j + dl + 1 < n; j++)
		if (s[j] == ')' && memcmp(s + j + 1, s + i + 1, dl) == 0 && s[j + 1 + dl] == '"')
			return j + dl + 2;
	return 0;
}

/* i at a digit (or '.' digit): just after the pp-number. */
static size_t skip_ppnum(const char *s, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		char c = s[i];
		if ((c == '+' || c == '-') && strchr("eEpP", s[i - 1]))
			continue;
		if (c == '\'' && i + 1 < n && is_ident(s[i + 1]))
			continue;
		if (!is_ident(c) && c != '.')
			break;
	}
	return i;
}

/* Inside a directive: skips blanks and comments (a block comment may span
 * lines; a line comment runs to the newline). */
static size_t skip_blank(const char *s, size_t n, size_t i)
{
	while (i < n) {
		if (is_hblank(s[i]))
			i++;
		else if (s[i] == '/' && i + 1 < n && s[i + 1] == '*')
			i = skip_block(s, n, i);
		else if (s[i] == '/' && i + 1 < n && s[i + 1] == '/')
			return skip_line_comment(s, n, i);
		else
			break;
	}
	return i;
}

/* The newline that ends the directive starting before i (or n). */
static size_t skip_to_eol(const char *s, size_t n, size_t i)
{
	while (i < n && s[i] != '\n') {
		if (s[i] == '/' && i + 1 < n && s[i + 1] == '*')
			i = skip_block(s, n, i);
		else if (s[i] == '/' && i + 1 < n && s[i + 1] == '/')
			return skip_line_comment(s, n, i);
		else if (s[i] == '"' || s[i] == '\'')
			i = skip_quoted(s, n, i);
		else
			i++;
	}
	return i;
}

static int text_put(struct lx *l, const char *p, size_t len, uint32_t *off)
{
	struct scan_directives *o = l->out;
	if (o->text_len + len + 1 > l->tcap) {
		size_t c = l->tcap ? l->tcap * 2 : 256;
		char *t;
		while (c < o->text_len + len + 1)
			c *= 2;
		if (!(t = realloc(o->text, c)))
			return -ENOMEM;
		o->text = t;
		l->tcap = c;
	}
	*off = (uint32_t)o->text_len;
	memcpy(o->text + o->text_len, p, len);
	o->text[o->text_len + len] = '\0';
	o->text_len += len + 1;
	return 0;
}

static void add(struct lx *l, enum scan_kind kind, enum scan_form form, const char *op,
		size_t oplen, const char *name, size_t namelen)
{
	struct scan_directives *o = l->out;
	struct scan_directive d = { .kind = (uint8_t)kind };

	if (l->err)
		return;
	oplen = strnlen(op, oplen);	/* a NUL in the text ends a name: */
	namelen = name ? strnlen(name, namelen) : 0;	/* they are C strings */
	if (oplen > SCAN_LEX_MAX_OPERAND) {
		oplen = SCAN_LEX_MAX_OPERAND;
		form = kind == SCAN_DEFINE ? SCAN_OPAQUE : SCAN_COMPUTED;
	}
	d.form = (uint8_t)form;
	if (o->n >= SCAN_LEX_MAX_DIRECTIVES) {
		l->err = -E2BIG;
		return;
	}
	if (o->n == l->cap) {
		size_t c = l->cap ? l->cap * 2 : 16;
		struct scan_directive *nd = realloc(o->d, c * sizeof *nd);
		if (!nd) {
			l->err = -ENOMEM;
			return;
		}
		o->d = nd;
		l->cap = c;
	}
	d.len = (uint32_t)oplen;
	d.name_len = (uint32_t)namelen;
	if (text_put(l, op, oplen, &d.off) || text_put(l, name ? name : "", namelen, &d.name_off)) {
		l->err = -ENOMEM;
		return;
	}
	if (form == SCAN_COMPUTED && kind != SCAN_DEFINE)
		o->computed = true;
	o->d[o->n++] = d;
}

/* The text of s[i..end) with comments and runs of blanks made one space,
 * trimmed; into a bounded buffer. */
static size_t collapse(const char *s, size_t i, size_t end, char *out, size_t cap)
{
	size_t o = 0;
	bool blank = false;
	while (i < end && o + 2 < cap) {
		if (is_hblank(s[i]) || s[i] == '\n' ||
		    (s[i] == '/' && i + 1 < end && (s[i + 1] == '*' || s[i + 1] == '/'))) {
			i = s[i] == '/' ? (s[i + 1] == '*' ? skip_block(s, end, i) : end) : i + 1;
			blank = true;
			continue;
		}
		if (blank && o)
			out[o++] = ' ';
		blank = false;
		out[o++] = s[i++];
	}
	return o;
}

/* An operand at i: "q", <a>, else computed up to `end` (or to the ')' that
 * closes it when `paren`). Adds one directive of `kind`; returns the index
 * after the operand. */
static size_t operand(struct lx *l, size_t i, size_t end, enum scan_kind kind, bool paren)
{
	const char *s = l->s;
	char buf[SCAN_LEX_MAX_OPERAND + 2];
	size_t j, depth = 0, k;

	i = skip_blank(s, end, i);
	if (i < end && (s[i] == '"' || s[i] == '<')) {
		char close = s[i] == '"' ? '"' : '>';
		for (j = i + 1; j < end && s[j] != close && s[j] != '\n'; j++)
			;
		if (j < end && s[j] == close) {
			add(l, kind, close == '"' ? SCAN_QUOTE : SCAN_ANGLE, s + i + 1, j - i - 1, NULL, 0);
			return j + 1;
		}
	}
	for (j = i; j < end; j++) {
		if (s[j] == '/' && j + 1 < end && s[j + 1] == '*')
			j = skip_block(s, end, j) - 1;
		else if (s[j] == '"' || s[j] == '\'')
			j = skip_quoted(s, end, j) - 1;
		else if (paren && s[j] == '(')
			depth++;
		else if (paren && s[j] == ')' && depth-- == 0)
			break;
	}
	k = collapse(s, i, j, buf, sizeof buf);
	add(l, kind, SCAN_COMPUTED, buf, k, NULL, 0);
	return j;
}

static bool word_is(const char *s, size_t i, size_t e, const char *w)
{
	size_t wl = strlen(w);
	return e - i == wl && memcmp(s + i, w, wl) == 0;
}

/* Every __has_include(...) between i and eol. */
static void has_includes(struct lx *l, size_t i, size_t eol)
{
	const char *s = l->s;
	while (i < eol) {
		size_t e;
		if (s[i] == '"' || s[i] == '\'') {
			i = skip_quoted(s, eol, i);
			continue;
		}
		if (s[i] == '/' && i + 1 < eol && s[i + 1] == '*') {
			i = skip_block(s, eol, i);
			continue;
		}
		if (!is_ident_start(s[i])) {
			i++;
			continue;
		}
		for (e = i; e < eol && is_ident(s[e]); e++)
			;
		bool next = word_is(s, i, e, "__has_include_next") || word_is(s, i, e, "__has_include_next__");
		bool plain = word_is(s, i, e, "__has_include") || word_is(s, i, e, "__has_include__");
		i = e;
		if (!next && !plain)
			continue;
		e = skip_blank(s, eol, e);
		if (e < eol && s[e] == '(')
			i = operand(l, e + 1, eol, next ? SCAN_HAS_INCLUDE_NEXT : SCAN_HAS_INCLUDE, true);
	}
}

/* `#define NAME BODY`: NAME and a body of one header name or identifier. */
static void define(struct lx *l, size_t i, size_t eol)
{
	const char *s = l->s;
	size_t ns, ne, b, be;

	i = skip_blank(s, eol, i);
	if (i >= eol || !is_ident_start(s[i]))
		return;
	for (ns = i, ne = i; ne < eol && is_ident(s[ne]); ne++)
		;
	has_includes(l, ne, eol);
	b = skip_blank(s, eol, ne);
	if (ne < eol && s[ne] == '(')
		b = eol;	/* function-like: opaque */
	if (b < eol && (s[b] == '"' || s[b] == '<')) {
		char close = s[b] == '"' ? '"' : '>';
		for (be = b + 1; be < eol && s[be] != close && s[be] != '\n'; be++)
			;
		if (be < eol && s[be] == close && skip_blank(s, eol, be + 1) == eol) {
			add(l, SCAN_DEFINE, close == '"' ? SCAN_QUOTE : SCAN_ANGLE, s + b + 1,
			    be - b - 1, s + ns, ne - ns);
			return;
		}
	} else if (b < eol && is_ident_start(s[b])) {
		for (be = b; be < eol && is_ident(s[be]); be++)
			;
		if (skip_blank(s, eol, be) == eol) {
			add(l, SCAN_DEFINE, SCAN_COMPUTED, s + b, be - b, s + ns, ne - ns);
			return;
		}
	}
	add(l, SCAN_DEFINE, SCAN_OPAQUE, "", 0, s + ns, ne - ns);
}

/* i at '#' or "%:" first on a line: parses the directive, returns the index
 * of the newline that ends it. */
static size_t directive(struct lx *l, size_t i)
{
	const char *s = l->s;
	size_t n = l->n, ns, ne, eol;

	i += s[i] == '#' ? 1 : 2;
	ns = skip_blank(s, n, i);
	for (ne = ns; ne < n && is_ident(s[ne]); ne++)
		;
	eol = skip_to_eol(s, n, ne);
	if (word_is(s, ns, ne, "include"))
		operand(l, ne, eol, SCAN_INCLUDE, false);
	else if (word_is(s, ns, ne, "include_next"))
		operand(l, ne, eol, SCAN_INCLUDE_NEXT, false);
	else if (word_is(s, ns, ne, "import"))
		operand(l, ne, eol, SCAN_IMPORT, false);
	else if (word_is(s, ns, ne, "embed"))
		operand(l, ne, eol, SCAN_EMBED, false);
	else if (word_is(s, ns, ne, "if") || word_is(s, ns, ne, "elif"))
		has_includes(l, ne, eol);
	else if (word_is(s, ns, ne, "define"))
		define(l, ne, eol);
	else if (word_is(s, ns, ne, "pragma")) {
		size_t w = skip_blank(s, eol, ne), we;
		for (we = w; we < eol && is_ident(s[we]); we++)
			;
		if (word_is(s, w, we, "once"))
			l->out->pragma_once = true;
	}
	return eol;
}

/* An identifier at i (already known to start one): its end; a raw string
 * right after an R prefix is skipped too. */
static size_t ident_or_raw(const char *s, size_t n, size_t i)
{
	size_t e = i, r;
	while (e < n && is_ident(s[e]))
		e++;
	if (e < n && s[e] == '"' && (word_is(s, i, e, "R") || word_is(s, i, e, "u8R") ||
				     word_is(s, i, e, "uR") || word_is(s, i, e, "UR") ||
				     word_is(s, i, e, "LR")) && (r = skip_raw(s, n, e)))
		return r;
	return e;
}

static void lex(struct lx *l)
{
	const char *s = l->s;
	size_t n = l->n, i = 0;
	bool bol = true;

	if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < n && !l->err) {
		char c = s[i];
		if (c == '\n') {
			bol = true;
			i++;
		} else if (is_hblank(c)) {
			i++;
		} else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
			i = skip_block(s, n, i);
		} else if (c == '/' && i + 1 < n && s[i + 1] == '/') {
			i = skip_line_comment(s, n, i);
		} else if (bol && (c == '#' || (c == '%' && i + 1 < n && s[i + 1] == ':'))) {
			i = directive(l, i);
		} else {
			bol = false;
			if (c == '"' || c == '\'')
				i = skip_quoted(s, n, i);
			else if (is_ident_start(c))
				i = ident_or_raw(s, n, i);
			else if ((c >= '0' && c <= '9') || (c == '.' && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9'))
				i = skip_ppnum(s, n, i);
			else
				i++;
		}
	}
}

int scan_lex(const char *p, size_t n, struct scan_directives *out)
{
	struct lx l = { .out = out };
	char *copy;
	int r;

	memset(out, 0, sizeof *out);
	if ((r = splice(p, n, &copy, &l.n)))
		return r;
	l.s = copy ? copy : p;
	lex(&l);
	free(copy);
	if (l.err) {
		scan_lex_free(out);
		return l.err;
	}
	return 0;
}

void scan_lex_free(struct scan_directives *d)
{
	free(d->d);
	free(d->text);
	memset(d, 0, sizeof *d);
}

size_t scan_lex_bytes(const struct scan_directives *d)
{
	return d->n * sizeof *d->d + d->text_len;
}
