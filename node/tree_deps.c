/*
 * tree_deps.c — the read-set check (tree.h): the compile's own make-style
 * dependency output against the manifest its tree was built from.
 *
 * The text is untrusted (the compiler ran the hub's code): every word is
 * bounded by TREE_PATH_MAX, the whole by DEPS_MAX, a line with words but
 * no rule separator is malformed. Unescaping follows what gcc's mkdeps
 * writes: a run of 2k+1 backslashes before a space or tab is k
 * backslashes and a literal blank (2k: k backslashes, then a separator),
 * "\#" is "#", "$$" is "$", backslash-newline continues the line, an
 * unescaped "#" starts a comment. Names are resolved through the
 * manifest's symlinks (as the kernel would in the tree, 40 links at most)
 * and "..", lexically on the resolved prefix.
 */
#include "tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEPS_MAX (64u << 20)
#define MAX_LINKS 40

void tree_names_free(struct tree_names *u)
{
	for (size_t i = 0; i < u->n; i++)
		free(u->v[i]);
	free(u->v);
	u->v = NULL;
	u->n = 0;
}

const struct tree_entry *manifest_resolve(const struct manifest *m, const char *path)
{
	char rest[2 * TREE_PATH_MAX], cur[TREE_PATH_MAX];
	size_t cl = 0;
	int links = 0;
	const char *p;

	if (strlen(path) >= sizeof rest)
		return NULL;
	strcpy(rest, path);
	p = rest;
	cur[0] = 0;
	while (*p) {
		const char *s;
		size_t l;
		while (*p == '/')
			p++;
		s = strchrnul(p, '/');
		l = (size_t)(s - p);
		if (l == 0 || (l == 1 && p[0] == '.')) {
			p = s;
			continue;
		}
		if (l == 2 && p[0] == '.' && p[1] == '.') {
			char *u = strrchr(cur, '/');
			cl = u ? (size_t)(u - cur) : 0;
			cur[cl] = 0;
			p = s;
			continue;
		}
		if (cl + 1 + l >= sizeof cur)
			return NULL;
		cur[cl++] = '/';
		memcpy(cur + cl, p, l);
		cl += l;
		cur[cl] = 0;
		p = s;
		const struct tree_entry *e = manifest_find(m, cur);
		if (!e || e->kind == TREE_DIR)
			continue;
		if (e->kind == TREE_FILE) {
			while (*p == '/')
				p++;
			if (*p)
				return NULL;	/* a file used as a directory */
			continue;
		}
		/* a symlink: its text, then what was left */
		char nrest[sizeof rest];
		if (++links > MAX_LINKS || strlen(e->target) + 1 + strlen(p) >= sizeof nrest)
			return NULL;
		strcpy(nrest, e->target);
		strcat(nrest, p);
		strcpy(rest, nrest);
		p = rest;
		if (rest[0] == '/')
			cl = 0;
		else
			cl = (size_t)(strrchr(cur, '/') - cur);
		cur[cl] = 0;
	}
	const struct tree_entry *e = cl ? manifest_find(m, cur) : NULL;
	return e && e->kind == TREE_FILE ? e : NULL;
}

/* One prerequisite: unsent if it resolves to no file of m. 0 or -ENOMEM. */
static int check_word(const struct manifest *m, const char *w, const char *cwd,
		      struct tree_names *u)
{
	char abs[2 * TREE_PATH_MAX];
	size_t cl = strlen(cwd);

	if (w[0] == '/')
		strcpy(abs, w);
	else if (cl + 1 + strlen(w) < sizeof abs) {
		memcpy(abs, cwd, cl);
		abs[cl] = '/';
		strcpy(abs + cl + 1, w);
	} else
		abs[0] = 0;
	if (abs[0] && manifest_resolve(m, abs))
		return 0;
	for (size_t i = 0; i < u->n; i++)
		if (!strcmp(u->v[i], w))
			return 0;
	char **nv = realloc(u->v, (u->n + 1) * sizeof *nv);
	if (!nv)
		return -ENOMEM;
	u->v = nv;
	if (!(u->v[u->n] = strdup(w)))
		return -ENOMEM;
	u->n++;
	return 0;
}

/* The tokenizer's state over one dependency text. */
struct lex {
	const char *s, *end;
	char w[TREE_PATH_MAX];
	size_t wl;
	bool prereq;		/* past the line's ':' */
	bool words;		/* the line had words */
};

/* Ends the current word: a prerequisite is checked, a target dropped. */
static int flush(struct lex *x, const struct manifest *m, const char *cwd,
		 struct tree_names *u)
{
	int r = 0;

	if (!x->wl)
		return 0;
	x->w[x->wl] = 0;
	x->words = true;
	if (x->prereq)
		r = check_word(m, x->w, cwd, u);
	x->wl = 0;
	return r;
}

static int put(struct lex *x, char c, size_t n)
{
	if (x->wl + n >= sizeof x->w)
		return -EINVAL;
	memset(x->w + x->wl, c, n);
	x->wl += n;
	return 0;
}

/* A backslash run at x->s: escapes of blanks, '#', newline. */
static int backslashes(struct lex *x, const struct manifest *m, const char *cwd,
		       struct tree_names *u)
{
	size_t k = 0;

	while (x->s < x->end && *x->s == '\\')
		k++, x->s++;
	if (x->s < x->end && (*x->s == ' ' || *x->s == '\t')) {
		if (put(x, '\\', k / 2))
			return -EINVAL;
		if (k % 2)
			return put(x, *x->s++, 1);
		return flush(x, m, cwd, u);
	}
	if (x->s < x->end && *x->s == '#' && k == 1)
		return put(x, *x->s++, 1);
	if (x->s < x->end && (*x->s == '\n' || *x->s == '\r') && k == 1) {
		if (*x->s == '\r' && x->s + 1 < x->end && x->s[1] == '\n')
			x->s++;
		x->s++;
		return flush(x, m, cwd, u);	/* a continuation: a blank */
	}
	return put(x, '\\', k);
}

/* The end of a logical line: a line of words needs its ':'. */
static int end_line(struct lex *x, const struct manifest *m, const char *cwd,
		    struct tree_names *u)
{
	int r = flush(x, m, cwd, u);
	if (!r && x->words && !x->prereq)
		r = -EINVAL;
	x->words = x->prereq = false;
	return r;
}

int tree_readset_check(const struct manifest *m, const char *deps, size_t len, const char *cwd,
		       struct tree_names *unsent)
{
	struct lex x = { .s = deps, .end = deps + len };
	int r = 0;

	*unsent = (struct tree_names){ 0 };
	if (len > DEPS_MAX || !m->checked || !cwd || cwd[0] != '/' || memchr(deps, 0, len))
		return -EINVAL;
	while (x.s < x.end && !r) {
		char c = *x.s;
		if (c == '\\') {
			r = backslashes(&x, m, cwd, unsent);
		} else if (c == '\n') {
			x.s++;
			r = end_line(&x, m, cwd, unsent);
		} else if (c == ' ' || c == '\t' || c == '\r') {
			x.s++;
			r = flush(&x, m, cwd, unsent);
		} else if (c == '#') {
			while (x.s < x.end && *x.s != '\n')
				x.s++;
		} else if (c == '$' && x.s + 1 < x.end && x.s[1] == '$') {
			x.s += 2;
			r = put(&x, '$', 1);
		} else if (c == ':' && !x.prereq &&
			   (x.s + 1 == x.end || strchr(" \t\r\n", x.s[1]))) {
			x.s++;
			r = flush(&x, m, cwd, unsent);
			x.prereq = x.words = true;
		} else {
			x.s++;
			r = put(&x, c, 1);
		}
	}
	if (!r)
		r = end_line(&x, m, cwd, unsent);
	if (r) {
		tree_names_free(unsent);
		return r;
	}
	return (int)unsent->n;
}
