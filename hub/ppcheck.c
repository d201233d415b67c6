/*
 * ppcheck.c — owns the decision "the directives-only text of this job is
 * not a faithful source" (see ppcheck.h for the list of constructs, found
 * by experiment with gcc 12).
 *
 * Invariants: never writes to its inputs; never reads a file that is not a
 * regular file of at most PPCHECK_FILE_MAX bytes; every read of the text is
 * bounded by its end; on any doubt (a file that cannot be read, too many
 * files, no memory) the answer is "keep local", never "faithful".
 */
#include "ppcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WORD_MAX 64

void ppcheck_opts_from_argv(char *const *argv, int argc, struct ppcheck_opts *o)
{
	memset(o, 0, sizeof *o);
	for (int i = 1; i < argc && argv[i]; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-fopenmp") || !strcmp(a, "-fopenmp-simd"))
			o->openmp = true;
		else if (!strcmp(a, "-fno-openmp") || !strcmp(a, "-fno-openmp-simd"))
			;	/* conservative: one of them may still be on */
		else if (!strcmp(a, "-fopenacc"))
			o->openacc = true;
		else if (!strncmp(a, "-fopenacc-dim=", 14))
			o->openacc = true;
	}
}

static bool is_ident(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '$';
}

/* A backslash-newline (or backslash-CR-LF) at p: its length, else 0. */
static size_t splice_at(const char *p, const char *end)
{
	if (p < end && *p == '\\') {
		if (p + 1 < end && p[1] == '\n')
			return 2;
		if (p + 2 < end && p[1] == '\r' && p[2] == '\n')
			return 3;
	}
	return 0;
}

/* Skips blanks, splices and comments (a block comment may cross lines, a
 * line comment ends the line); stops at a newline or anything else. */
static const char *skip_blank(const char *p, const char *end)
{
	while (p < end) {
		size_t s = splice_at(p, end);
		if (s) {
			p += s;
		} else if (*p == ' ' || *p == '\t' || *p == '\f' || *p == '\v' || *p == '\r') {
			p++;
		} else if (*p == '/' && p + 1 < end && p[1] == '*') {
			const char *q = p + 2;
			while (q + 1 < end && !(q[0] == '*' && q[1] == '/'))
				q++;
			p = q + 1 < end ? q + 2 : end;
		} else if (*p == '/' && p + 1 < end && p[1] == '/') {
			const char *q = memchr(p, '\n', (size_t)(end - p));
			return q ? q : end;
		} else {
			break;
		}
	}
	return p;
}

/* Reads an identifier (splices removed) into w; returns the end. */
static const char *read_word(const char *p, const char *end, char *w)
{
	size_t n = 0;
	while (p < end) {
		size_t s = splice_at(p, end);
		if (s) {
			p += s;
			continue;
		}
		if (!is_ident((unsigned char)*p))
			break;
		if (n + 1 < WORD_MAX)
			w[n++] = *p;
		p++;
	}
	w[n] = 0;
	return p;
}

static int say(char *why, size_t len, const char *what, const char *name, size_t line)
{
	if (line)
		snprintf(why, len, "%s (%s:%zu)", what, name, line);
	else
		snprintf(why, len, "%s (%s)", what, name);
	return 1;
}

/* The verdict on `#pragma w1 w2`: a reason, or NULL when carried. */
static const char *pragma_verdict(const char *w1, const char *w2, const struct ppcheck_opts *o)
{
	if (!strcmp(w1, "message"))
		return "#pragma message is dropped by -fdirectives-only";
	if (!strcmp(w1, "redefine_extname"))
		return "#pragma redefine_extname is dropped by -fdirectives-only";
	if (!strcmp(w1, "push_macro") || !strcmp(w1, "pop_macro"))
		return "#pragma push_macro/pop_macro: the node would not restore the macro";
	if (!strcmp(w1, "GCC") && !strcmp(w2, "poison"))
		return "#pragma GCC poison does not reach the node";
	if (!strcmp(w1, "omp") && o->openmp)
		return "#pragma omp with -fopenmp is dropped by -fdirectives-only";
	if (!strcmp(w1, "acc") && o->openacc)
		return "#pragma acc with -fopenacc is dropped by -fdirectives-only";
	return NULL;
}

/* A directive starting at line start p: the reason it is one the
 * directives-only text does not carry, or NULL. */
static const char *check_line(const char *p, const char *end, const struct ppcheck_opts *o)
{
	char w0[WORD_MAX], w1[WORD_MAX], w2[WORD_MAX];

	p = skip_blank(p, end);
	if (p >= end)
		return NULL;
	if (*p == '%' && p + 1 < end && p[1] == ':')
		return "a directive spelled with the digraph %: (-fdirectives-only does not see it)";
	if (*p != '#')
		return NULL;
	p = read_word(skip_blank(p + 1, end), end, w0);
	if (strcmp(w0, "pragma"))
		return NULL;
	p = read_word(skip_blank(p, end), end, w1);
	w2[0] = 0;
	if (!strcmp(w1, "GCC") || !strcmp(w1, "STDC"))
		read_word(skip_blank(p, end), end, w2);
	return pragma_verdict(w1, w2, o);
}

/* Could the '#' (or "%:") at h be the first token of a line? Walks back
 * over blanks; a comment or a splice before it counts as "maybe". */
static bool maybe_line_start(const char *t, const char *h)
{
	while (h > t && (h[-1] == ' ' || h[-1] == '\t' || h[-1] == '\f' || h[-1] == '\v' ||
			 h[-1] == '\r'))
		h--;
	return h == t || h[-1] == '\n' || (h - t >= 2 && h[-2] == '*' && h[-1] == '/');
}

static const char *line_start(const char *t, const char *h)
{
	while (h > t && h[-1] != '\n')
		h--;
	return h;
}

static size_t line_number(const char *t, const char *h)
{
	size_t ln = 1;
	for (const char *q = t; (q = memchr(q, '\n', (size_t)(h - q))) != NULL; q++)
		ln++;
	return ln;
}

int ppcheck_file_text(const char *p, size_t n, const char *name,
		      const struct ppcheck_opts *o, char *why, size_t whylen)
{
	const char *t = p, *end = p + n, *h, *v;
	static const char lead[2] = { '#', '%' };

	/* only a '#' or a "%:" that may start a line can be a directive */
	for (int k = 0; k < 2; k++)
		for (const char *q = t; q < end && (h = memchr(q, lead[k], (size_t)(end - q))); q = h + 1)
			if ((k == 0 || (h + 1 < end && h[1] == ':')) && maybe_line_start(t, h) &&
			    (v = check_line(line_start(t, h), end, o)))
				return say(why, whylen, v, name, line_number(t, h));
	return 0;
}

/* ---- the files named by line markers ------------------------------------ */

struct nameset {
	char **slot;
	size_t cap, n;
};

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

/* 1 if added, 0 if already there, -ENOMEM / -E2BIG. Takes s either way. */
static int nameset_add(struct nameset *ns, char *s)
{
	if (ns->n + 1 > ns->cap / 2) {
		size_t nc = ns->cap ? ns->cap * 2 : 256;
		char **ns2;
		if (ns->n >= PPCHECK_FILES_MAX) {
			free(s);
			return -E2BIG;
		}
		ns2 = calloc(nc, sizeof *ns2);
		if (!ns2) {
			free(s);
			return -ENOMEM;
		}
		for (size_t i = 0; i < ns->cap; i++) {
			size_t j;
			if (!ns->slot[i])
				continue;
			for (j = fnv(ns->slot[i]) & (nc - 1); ns2[j]; j = (j + 1) & (nc - 1))
				;
			ns2[j] = ns->slot[i];
		}
		free(ns->slot);
		ns->slot = ns2;
		ns->cap = nc;
	}
	for (size_t j = fnv(s) & (ns->cap - 1);; j = (j + 1) & (ns->cap - 1)) {
		if (!ns->slot[j]) {
			ns->slot[j] = s;
			ns->n++;
			return 1;
		}
		if (!strcmp(ns->slot[j], s)) {
			free(s);
			return 0;
		}
	}
}

static void nameset_free(struct nameset *ns)
{
	for (size_t i = 0; i < ns->cap; i++)
		free(ns->slot[i]);
	free(ns->slot);
}

/* The name of a line marker `# N "name" ...` at line start p, unescaped
 * (gcc writes \\, \" and \ooo), malloc'd; NULL when p is not one. */
static char *marker_name(const char *p, const char *end, bool *entered)
{
	char *s;
	size_t n = 0;

	if (end - p < 5 || p[0] != '#' || p[1] != ' ' || p[2] < '0' || p[2] > '9')
		return NULL;
	p += 2;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (end - p < 2 || p[0] != ' ' || p[1] != '"')
		return NULL;
	p += 2;
	s = malloc((size_t)(end - p) < 4096 ? (size_t)(end - p) + 1 : 4097);
	if (!s)
		return NULL;
	while (p < end && *p != '"' && *p != '\n' && n < 4096) {
		if (*p == '\\' && p + 1 < end && p[1] >= '0' && p[1] <= '7') {
			int v = 0, k = 0;
			for (p++; k < 3 && p < end && *p >= '0' && *p <= '7'; k++, p++)
				v = v * 8 + (*p - '0');
			s[n++] = (char)v;
			continue;
		}
		if (*p == '\\' && p + 1 < end)
			p++;
		s[n++] = *p++;
	}
	if (p >= end || *p != '"' || n == 0) {
		free(s);
		return NULL;
	}
	s[n] = 0;
	/* flag 1: the preprocessor entered (read) this file */
	*entered = end - p >= 3 && p[1] == ' ' && p[2] == '1' && (end - p == 3 || p[3] == ' ');
	return s;
}

/* Reads and checks one file. 0 faithful, 1 local (why set). */
/* Reads a regular file of at most PPCHECK_FILE_MAX bytes into *b (reused
 * between files). 0, or -errno / -EFBIG / -EINVAL (not a regular file). */
static int slurp(const char *name, char **b, size_t *cap, size_t *len)
{
	struct stat st;
	size_t got = 0;
	int fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY), r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		r = -EINVAL;
	else if (st.st_size > (off_t)PPCHECK_FILE_MAX)
		r = -EFBIG;
	else if ((size_t)st.st_size + 1 > *cap) {
		char *nb = realloc(*b, (size_t)st.st_size + 1);
		if (nb) {
			*b = nb;
			*cap = (size_t)st.st_size + 1;
		} else {
			r = -ENOMEM;
		}
	}
	while (!r && got < (size_t)st.st_size) {
		ssize_t n = read(fd, *b + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* shrank while we read: what we have */
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return r;
}

static bool word_in(const char *t, const char *end, const char *word);

/* Checks one file. must: the preprocessor read it (flag 1, or the first
 * marker); else the name may be a #line fiction whose text is in a file
 * read. again: entered once before, and a _Pragma is built by a macro:
 * only `once` matters then (the hub included it again). */
static int check_file(const char *name, bool must, bool again, const struct ppcheck_opts *o,
		      char **b, size_t *cap, char *why, size_t whylen)
{
	size_t len = 0;
	int rc = slurp(name, b, cap, &len);

	if (rc < 0 && !must)
		return 0;
	if (rc < 0)
		return say(why, whylen, rc == -EINVAL || rc == -EFBIG ?
			   "an input file that is not a regular file of a sane size" :
			   "cannot re-read a file the preprocessor read", name, 0);
	if (again)
		return word_in(*b, *b + len, "once") ?
			say(why, whylen, "a header entered again may hold a _Pragma(once) "
			    "built by a macro, which the hub's preprocessing does not see", name, 0) : 0;
	return ppcheck_file_text(*b, len, name, o, why, whylen);
}

static int check_files(const char *t, const char *end, const struct ppcheck_opts *o,
		       bool built, char *why, size_t whylen)
{
	struct nameset ns = { NULL, 0, 0 };
	bool first = true;
	char *b = NULL;
	size_t cap = 0;
	int r = 0;

	for (const char *p = t; p < end && !r;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		bool entered = false;
		char *name = *p == '#' ? marker_name(p, nl ? nl : end, &entered) : NULL;
		if (name && name[0] != '<') {
			char *keep = strdup(name);
			int a = keep ? nameset_add(&ns, keep) : -ENOMEM;
			if (a < 0)
				r = say(why, whylen, "too many files or out of memory checking "
					"the preprocessed text", name, 0);
			else if (a == 1 || (built && entered))
				r = check_file(name, entered || first, a == 0, o, &b, &cap, why, whylen);
		}
		if (name)
			first = false;
		free(name);
		if (!nl)
			break;
		p = nl + 1;
	}
	nameset_free(&ns);
	free(b);
	return r;
}

/* ---- _Pragma in the text (run by the node, never by the hub) ------------- */

static const char *skip_space(const char *p, const char *end)
{
	for (;;) {
		p = skip_blank(p, end);
		if (p < end && *p == '\n')
			p++;
		else
			return p;
	}
}

/* A pragma the hub's own directive processing needed to see. */
static bool hub_state_pragma(const char *w1, const char *w2)
{
	return !strcmp(w1, "once") || !strcmp(w1, "push_macro") ||
	       !strcmp(w1, "pop_macro") || (!strcmp(w1, "GCC") && !strcmp(w2, "poison"));
}

/* p after `_Pragma`: 1 literal naming a hub-state pragma, 0 another
 * literal, 2 not a literal (built by a macro). */
static int pragma_operand(const char *p, const char *end)
{
	char lit[256], w1[WORD_MAX], w2[WORD_MAX];
	size_t n = 0;
	const char *q;

	p = skip_space(p, end);
	if (p >= end || *p != '(')
		return 2;
	p = skip_space(p + 1, end);
	while (p < end && (*p == 'L' || *p == 'u' || *p == 'U' || *p == '8'))
		p++;
	if (p >= end || *p != '"')
		return 2;
	for (p++; p < end && *p != '"' && *p != '\n' && n + 1 < sizeof lit; p++) {
		if (*p == '\\' && p + 1 < end && (p[1] == '"' || p[1] == '\\'))
			p++;
		lit[n++] = *p;
	}
	lit[n] = 0;
	q = read_word(skip_blank(lit, lit + n), lit + n, w1);
	w2[0] = 0;
	if (!strcmp(w1, "GCC"))
		read_word(skip_blank(q, lit + n), lit + n, w2);
	return hub_state_pragma(w1, w2);
}

/* Occurrences of word in t as a whole identifier; for "once" only as a
 * macro argument of its own (`(once)`, `, once,`), for "poison" only after
 * GCC: the spellings a pragma built by a macro needs. */
static bool word_in(const char *t, const char *end, const char *word)
{
	size_t wl = strlen(word);

	for (const char *p = t; p < end;) {
		const char *h = memmem(p, (size_t)(end - p), word, wl), *a, *b;
		if (!h)
			return false;
		p = h + wl;
		if ((h > t && is_ident((unsigned char)h[-1]) && word[0] != '_') ||
		    (p < end && is_ident((unsigned char)*p)))
			continue;
		for (b = h; b > t && (b[-1] == ' ' || b[-1] == '\t'); b--)
			;
		a = skip_blank(p, end);
		if (!strcmp(word, "once")) {
			if (b > t && (b[-1] == '(' || b[-1] == ',') && a < end && (*a == ')' || *a == ','))
				return true;
		} else if (!strcmp(word, "poison")) {
			if (b - t >= 3 && !memcmp(b - 3, "GCC", 3))
				return true;
		} else if (!strcmp(word, "_macro")) {
			/* push_macro / pop_macro */
			if ((h - t >= 4 && !memcmp(h - 4, "push", 4) &&
			     (h - 4 == t || !is_ident((unsigned char)h[-5]))) ||
			    (h - t >= 3 && !memcmp(h - 3, "pop", 3) &&
			     (h - 3 == t || !is_ident((unsigned char)h[-4]))))
				return true;
		} else {
			return true;
		}
	}
	return false;
}

/* *built: some _Pragma operand is not a literal (a macro builds it). */
static int check_pragma_ops(const char *t, const char *end, bool *built, char *why, size_t whylen)
{

	for (const char *p = t; p < end;) {
		const char *h = memmem(p, (size_t)(end - p), "_Pragma", 7);
		int k;
		if (!h)
			break;
		p = h + 7;
		if ((h > t && is_ident((unsigned char)h[-1])) || (p < end && is_ident((unsigned char)*p)))
			continue;
		k = pragma_operand(p, end);
		if (k == 1)
			return say(why, whylen, "_Pragma(\"once\"/\"push_macro\"/\"pop_macro\"/"
				   "\"GCC poison\") is not seen by the hub's preprocessing",
				   "in the text", 0);
		if (k == 2)
			*built = true;
	}
	if (*built && (word_in(t, end, "_macro") || word_in(t, end, "poison")))
		return say(why, whylen, "a _Pragma built by a macro may be once/push_macro/"
			   "pop_macro/GCC poison, which the hub's preprocessing does not see",
			   "in the text", 0);
	return 0;
}

int ppcheck_text(const uint8_t *text, size_t len, const struct ppcheck_opts *o,
		 char *why, size_t whylen)
{
	const char *t = (const char *)text, *end = t + len;
	bool built = false;

	if (check_pragma_ops(t, end, &built, why, whylen))
		return 1;
	return check_files(t, end, o, built, why, whylen);
}
