/*
 * pairs.c — the proven-pairs table and the per-node decision (pairs.h).
 * Pure except pairs_load(), which only reads a file.
 */
#include "pairs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool hex32(const char *s, size_t l)
{
	if (l != 32)
		return false;
	for (size_t i = 0; i < l; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* "name=value" for one class; false if the word is not a class. */
static bool class_word(struct equiv_pair *p, const char *w, size_t l, bool *bad)
{
	for (unsigned c = 0; c < EQ_NCLASSES; c++) {
		const char *n = equiv_class_name((enum equiv_class)c);
		size_t nl = strlen(n);
		if (l > nl && !strncmp(w, n, nl) && w[nl] == '=') {
			const char *v = w + nl + 1;
			size_t vl = l - nl - 1;
			if (vl == 4 && !strncmp(v, "same", 4))
				p->state[c] = EQ_SAME;
			else if (vl == 7 && !strncmp(v, "differs", 7))
				p->state[c] = EQ_DIFFERS;
			else
				*bad = true;
			return true;
		}
	}
	return false;
}

static bool parse_line(struct pair_entry *e, const char *l, size_t ll)
{
	size_t k = 0, field = 0;
	bool bad = false;

	memset(e, 0, sizeof *e);
	while (k < ll && !bad) {
		size_t ws;
		while (k < ll && l[k] == ' ')
			k++;
		ws = k;
		if (field >= 3 && ll - k > 6 && !strncmp(l + k, "ident=", 6)) {
			size_t il = ll - k - 6;
			if (il == 0 || il >= sizeof e->ident || strncmp(l + k + 6, "GCC: (", 6))
				return false;
			memcpy(e->ident, l + k + 6, il);
			e->ident[il] = 0;
			return true;	/* the ident is last: to the end of the line */
		}
		while (k < ll && l[k] != ' ')
			k++;
		if (k == ws)
			break;
		if (field == 0)
			bad = k - ws != 4 || strncmp(l + ws, "pair", 4);
		else if (field == 1 || field == 2) {
			bad = !hex32(l + ws, k - ws);
			if (!bad)
				memcpy(field == 1 ? e->p.hub_fp : e->p.board_fp, l + ws, 32);
		} else if (!class_word(&e->p, l + ws, k - ws, &bad))
			bad = true;
		field++;
	}
	return false;	/* no ident: a pair whose objects we cannot make right */
}

int pairs_parse(struct pairs *t, const char *text, size_t len)
{
	size_t i = 0;

	memset(t, 0, sizeof *t);
	while (i < len) {
		const char *l = text + i, *e = memchr(l, '\n', len - i);
		size_t ll = e ? (size_t)(e - l) : len - i;
		i += ll + 1;
		if (!ll || l[0] == '#')
			continue;
		if (t->n < PAIRS_MAX && parse_line(&t->e[t->n], l, ll))
			t->n++;
		else
			t->bad_lines++;
	}
	return 0;
}

int pairs_load(struct pairs *t, const char *path)
{
	struct buf b = BUF_INIT;
	int r = buf_read_file(&b, path, 1u << 20);
	if (r == 0)
		r = pairs_parse(t, (const char *)b.data, b.len);
	buf_free(&b);
	return r;
}

int pairs_format(const struct pair_entry *e, char *out, size_t len)
{
	size_t used;
	int n = snprintf(out, len, "pair %s %s", e->p.hub_fp, e->p.board_fp);

	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	used = (size_t)n;
	for (unsigned c = 0; c < EQ_NCLASSES; c++) {
		if (e->p.state[c] == EQ_UNPROVEN)
			continue;
		n = snprintf(out + used, len - used, " %s=%s", equiv_class_name((enum equiv_class)c),
			     e->p.state[c] == EQ_SAME ? "same" : "differs");
		if (n < 0 || (size_t)n >= len - used)
			return -ENOSPC;
		used += (size_t)n;
	}
	n = snprintf(out + used, len - used, " ident=%s", e->ident);
	if (n < 0 || (size_t)n >= len - used)
		return -ENOSPC;
	return (int)(used + (size_t)n);
}

int pairs_save(const struct pairs *t, const char *path)
{
	struct buf b = BUF_INIT;
	char tmp[512], line[400];
	int fd, rc = 0;

	static const char hdr[] = "# proven pairs (hub/pairs.h), written by hubd\n";
	buf_put(&b, hdr, sizeof hdr - 1);
	for (size_t i = 0; i < t->n; i++) {
		int n;
		bool any = false;
		for (unsigned c = 0; c < EQ_NCLASSES; c++)
			any |= t->e[i].p.state[c] != EQ_UNPROVEN;
		if (!any || !t->e[i].ident[0] || (n = pairs_format(&t->e[i], line, sizeof line)) < 0)
			continue;
		buf_put(&b, line, (size_t)n);
		buf_put(&b, "\n", 1);
	}
	if (!buf_ok(&b) || snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
		buf_free(&b);
		return -ENOMEM;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		rc = -errno;
	else {
		rc = write_full(fd, b.data, b.len);
		if (rc == 0 && fsync(fd) < 0)
			rc = -errno;
		if (close(fd) < 0 && rc == 0)
			rc = -errno;
		if (rc == 0 && rename(tmp, path) < 0)
			rc = -errno;
		if (rc < 0)
			unlink(tmp);
	}
	buf_free(&b);
	return rc;
}

struct pair_entry *pairs_find(struct pairs *t, const char *hub, const char *board)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (!strcmp(t->e[i].p.hub_fp, hub) && !strcmp(t->e[i].p.board_fp, board))
			return &t->e[i];
	return NULL;
}

static const struct pair_entry *find(const struct pairs *t, const char *hub, const char *board)
{
	return pairs_find((struct pairs *)t, hub, board);
}

static bool differs(const struct equiv_pair *p, unsigned classes)
{
	for (unsigned c = 0; c < EQ_NCLASSES; c++)
		if ((classes & EQ_MASK(c)) && p->state[c] == EQ_DIFFERS)
			return true;
	return false;
}

static enum pairs_verdict pick(const struct pairs *t, const struct compiler_id *have, size_t nhave,
			       const struct compiler_id *want, unsigned classes,
			       const struct compiler_id **use, const struct pair_entry **pe,
			       char *why, size_t whylen)
{
	const struct compiler_id *cand = NULL;

	*use = NULL;
	*pe = NULL;
	if (why && whylen)
		why[0] = 0;
	for (size_t i = 0; i < nhave; i++)
		if (compiler_match(&have[i], want)) {
			*use = &have[i];
			return PAIRS_EXACT;
		}
	for (size_t i = 0; i < nhave; i++) {
		const struct pair_entry *e;
		if (strcmp(have[i].kind, want->kind) || strcmp(have[i].triple, want->triple) ||
		    strcmp(have[i].version, want->version))
			continue;
		cand = &have[i];
		e = find(t, want->fingerprint, have[i].fingerprint);
		if (e && equiv_job_ok(&e->p, classes)) {
			*use = &have[i];
			*pe = e;
			return PAIRS_VIA;
		}
		if (why && e && e->busy && !differs(&e->p, classes))
			snprintf(why, whylen, "%s", e->note);
		else if (why && e)
			equiv_why(&e->p, classes, why, whylen);
	}
	if (why && whylen && !why[0]) {
		if (cand)
			snprintf(why, whylen, "%s %s %s: another build (fingerprint %.8s, yours %.8s), "
				 "no canary proof yet", cand->kind, cand->version, cand->triple,
				 cand->fingerprint, want->fingerprint);
		else
			snprintf(why, whylen, "offers no %s %s for %s", want->kind, want->version,
				 want->triple);
	}
	return PAIRS_NO;
}

enum pairs_verdict pairs_pick(const struct pairs *t, const struct compiler_id *have, size_t nhave,
			      const struct compiler_id *want, char *const *argv, int argc,
			      const struct compiler_id **use, const struct pair_entry **pe,
			      char *why, size_t whylen)
{
	return pick(t, have, nhave, want, equiv_classes(argv, argc), use, pe, why, whylen);
}

bool pairs_note(struct pairs_seen *s, const struct compiler_id *want, char *const *argv, int argc)
{
	unsigned classes = equiv_classes(argv, argc);
	for (size_t i = 0; i < s->n; i++)
		if (compiler_match(&s->a[i].id, want)) {
			bool more = (s->a[i].classes | classes) != s->a[i].classes;
			s->a[i].classes |= classes;
			s->a[i].jobs++;
			return more;
		}
	if (s->n >= PAIRS_ASKED_MAX)
		return false;
	s->a[s->n++] = (struct pairs_asked){ *want, classes, 1 };
	return true;
}

void pairs_verdict(const struct pairs *t, const struct pairs_asked *a,
		   const struct compiler_id *have, size_t nhave, char *out, size_t len)
{
	const struct compiler_id *use;
	const struct pair_entry *pe;
	char why[240];
	enum pairs_verdict v = pick(t, have, nhave, &a->id, a->classes, &use, &pe, why, sizeof why);

	if (v == PAIRS_EXACT) {
		snprintf(out, len, "serves it (the same compiler)");
	} else if (v == PAIRS_VIA) {
		snprintf(out, len, "serves it: another build (%.8s), proven byte-identical by canaries; "
			 "objects get your ident", use->fingerprint);
	} else if (a->classes != EQ_MASK(EQ_BASE) &&
		   pick(t, have, nhave, &a->id, EQ_MASK(EQ_BASE), &use, &pe, NULL, 0) == PAIRS_VIA) {
		snprintf(out, len, "serves your jobs without those flags; %s", why);
	} else {
		snprintf(out, len, "does not serve it: %s", why);
	}
}

/* over several compilers: one that a proof may yet make serve wins */
static int no_rank(enum pairs_no k)
{
	static const int r[] = { [PN_NONE] = 9, [PN_PROVING] = 5, [PN_UNPROVEN] = 4,
				 [PN_DIFFERS] = 3, [PN_REFUSED] = 2, [PN_NO_COMPILER] = 1 };
	return r[k];
}

/* one board compiler c of the job's release */
static enum pairs_no no_one(const struct pairs *t, const struct compiler_id *c,
			    const struct compiler_id *want, unsigned classes, unsigned *cls)
{
	const struct pair_entry *e = find(t, want->fingerprint, c->fingerprint);

	if (!e)
		return PN_UNPROVEN;
	if (equiv_job_ok(&e->p, classes))
		return PN_NONE;
	for (unsigned k = 0; k < EQ_NCLASSES; k++)
		if ((classes & EQ_MASK(k)) && e->p.state[k] == EQ_DIFFERS) {
			*cls = k;
			return PN_DIFFERS;
		}
	return e->busy == PAIRS_PROVING ? PN_PROVING : e->busy == PAIRS_REFUSED ? PN_REFUSED
										: PN_UNPROVEN;
}

enum pairs_no pairs_no_kind(const struct pairs *t, const struct compiler_id *have, size_t nhave,
			    const struct compiler_id *want, unsigned classes, unsigned *cls)
{
	enum pairs_no k = PN_NO_COMPILER;

	for (size_t i = 0; i < nhave; i++) {
		unsigned c = EQ_BASE;
		enum pairs_no o;
		if (compiler_match(&have[i], want))
			return PN_NONE;
		if (strcmp(have[i].kind, want->kind) || strcmp(have[i].triple, want->triple) ||
		    strcmp(have[i].version, want->version))
			continue;
		o = no_one(t, &have[i], want, classes, &c);
		if (no_rank(o) > no_rank(k)) {
			k = o;
			if (o == PN_DIFFERS && cls)
				*cls = c;
		}
		if (k == PN_NONE)
			break;
	}
	return k;
}
