/*
 * equiv.c — trusted (hub compiler, board compiler) pairs and the ident
 * rewrite of their objects (equiv.h).
 *
 * The ELF rewrite reads every header field through bounds-checked getters
 * (the object comes from a board: untrusted bytes) and never writes past
 * the buffer it sized itself. Invariants of its output: every byte outside
 * .comment, the moved offsets and e_shoff is the input's; the sections keep
 * their order; the layout obeys the same rule the input was checked to
 * obey.
 */
#include "equiv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- flag classes ----------------------------------------------------- */

static const char *const class_names[EQ_NCLASSES] = {
	"base", "stack-protector", "stack-clash" };
static const char *const class_why[EQ_NCLASSES] = {
	"code differs for every job",
	"stack-protector code differs: jobs with -fstack-protector* stay local",
	"stack-clash code differs: jobs with -fstack-clash-protection stay local" };

const char *equiv_class_name(enum equiv_class c)
{
	return (unsigned)c < EQ_NCLASSES ? class_names[c] : "?";
}

unsigned equiv_classes(char *const *argv, int argc)
{
	bool ssp = false, clash = false;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-fstack-protector") || !strcmp(a, "-fstack-protector-strong") ||
		    !strcmp(a, "-fstack-protector-all") || !strcmp(a, "-fstack-protector-explicit"))
			ssp = true;
		else if (!strcmp(a, "-fno-stack-protector"))
			ssp = false;
		else if (!strcmp(a, "-fstack-clash-protection"))
			clash = true;
		else if (!strcmp(a, "-fno-stack-clash-protection"))
			clash = false;
	}
	return EQ_MASK(EQ_BASE) | (ssp ? EQ_MASK(EQ_STACK_PROTECTOR) : 0) |
	       (clash ? EQ_MASK(EQ_STACK_CLASH) : 0);
}

bool equiv_job_ok(const struct equiv_pair *p, unsigned classes)
{
	for (unsigned c = 0; c < EQ_NCLASSES; c++)
		if ((classes & EQ_MASK(c)) && p->state[c] != EQ_SAME)
			return false;
	return true;
}

void equiv_why(const struct equiv_pair *p, unsigned classes, char *out, size_t len)
{
	size_t used = 0;

	if (len)
		out[0] = 0;
	for (unsigned c = 0; c < EQ_NCLASSES && used < len; c++) {
		int n;
		if (!(classes & EQ_MASK(c)) || p->state[c] == EQ_SAME)
			continue;
		if (p->state[c] == EQ_DIFFERS)
			n = snprintf(out + used, len - used, "%s%s", used ? "; " : "", class_why[c]);
		else
			n = snprintf(out + used, len - used, "%snot yet proven for %s code",
				     used ? "; " : "", class_names[c]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* ---- ELF ---------------------------------------------------------------- */

struct elf {
	const uint8_t *d;
	size_t len;
	bool is64;
	uint64_t shoff;
	unsigned shnum, shentsize, shstrndx;
};

struct sec {
	uint64_t off, size, align, name;
	uint32_t type;
	unsigned idx;
	bool at_pos;	/* NOBITS placed at the running position, not aligned */
};

static bool get(const struct elf *e, uint64_t off, unsigned n, uint64_t *v)
{
	*v = 0;
	if (off > e->len || n > e->len - off)
		return false;
	for (unsigned i = 0; i < n; i++)
		*v |= (uint64_t)e->d[off + i] << (8 * i);
	return true;
}

static void put(uint8_t *d, uint64_t off, unsigned n, uint64_t v)
{
	for (unsigned i = 0; i < n; i++)
		d[off + i] = (uint8_t)(v >> (8 * i));
}

static int elf_open(struct elf *e, const uint8_t *d, size_t len)
{
	uint64_t type, v;

	memset(e, 0, sizeof *e);
	e->d = d, e->len = len;
	if (len < 52 || memcmp(d, "\x7f" "ELF", 4) || d[5] != 1 || (d[4] != 1 && d[4] != 2))
		return -EINVAL;
	e->is64 = d[4] == 2;
	if (!get(e, 16, 2, &type) || type != 1)	/* ET_REL */
		return -EINVAL;
	if (e->is64) {
		if (!get(e, 40, 8, &e->shoff))
			return -EINVAL;
		if (!get(e, 58, 2, &v) || (e->shentsize = (unsigned)v) != 64)
			return -EINVAL;
		get(e, 60, 2, &v), e->shnum = (unsigned)v;
		get(e, 62, 2, &v), e->shstrndx = (unsigned)v;
	} else {
		if (!get(e, 32, 4, &e->shoff))
			return -EINVAL;
		if (!get(e, 46, 2, &v) || (e->shentsize = (unsigned)v) != 40)
			return -EINVAL;
		get(e, 48, 2, &v), e->shnum = (unsigned)v;
		get(e, 50, 2, &v), e->shstrndx = (unsigned)v;
	}
	if (e->shnum < 2 || e->shnum > 4096 || e->shstrndx >= e->shnum ||
	    e->shoff > len || (uint64_t)e->shnum * e->shentsize > len - e->shoff)
		return -EINVAL;
	return 0;
}

/* field offsets in a section header: name, type, offset, size, align */
static bool sec_read(const struct elf *e, unsigned i, struct sec *s)
{
	uint64_t h = e->shoff + (uint64_t)i * e->shentsize, t = 0;
	bool ok;
	s->idx = i;
	if (e->is64)
		ok = get(e, h, 4, &s->name) && get(e, h + 4, 4, &t) && get(e, h + 24, 8, &s->off) &&
		     get(e, h + 32, 8, &s->size) && get(e, h + 48, 8, &s->align);
	else
		ok = get(e, h, 4, &s->name) && get(e, h + 4, 4, &t) && get(e, h + 16, 4, &s->off) &&
		     get(e, h + 20, 4, &s->size) && get(e, h + 32, 4, &s->align);
	s->type = (uint32_t)t;
	if (!s->align)
		s->align = 1;
	return ok && (s->type == 8 /* NOBITS */ || (s->off <= e->len && s->size <= e->len - s->off)) &&
	       s->align <= 4096 && !(s->align & (s->align - 1));
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static int cmp_sec(const void *a, const void *b)
{
	const struct sec *x = a, *y = b;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Index of .comment among s[0..n) (sorted), or -1. */
static int find_comment(const struct elf *e, const struct sec *s, unsigned n)
{
	struct sec str;
	if (!sec_read(e, e->shstrndx, &str) || str.type != 3)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		if (s[i].name >= str.size || str.size - s[i].name < 9)
			continue;
		if (!memcmp(e->d + str.off + s[i].name, ".comment", 9))
			return (int)i;
	}
	return -1;
}

/* The new .comment: each "GCC: (" string replaced by ident, the others and
 * the leading empty string kept. */
static int new_comment(const uint8_t *c, size_t n, const char *ident, struct buf *out)
{
	size_t i = 0;
	bool found = false;

	if (!n || c[n - 1] != 0)
		return -EINVAL;
	while (i < n) {
		const uint8_t *z = memchr(c + i, 0, n - i);
		size_t l = (size_t)(z - (c + i));
		if (l >= 6 && !memcmp(c + i, "GCC: (", 6)) {
			buf_put(out, ident, strlen(ident) + 1);
			found = true;
		} else {
			buf_put(out, c + i, l + 1);
		}
		i += l + 1;
	}
	if (!found)
		return -EINVAL;
	return buf_ok(out) ? 0 : -ENOMEM;
}

/* Checks that s[0..n) (sorted, the section header table included as the
 * entry with idx == shnum) follow the assembler's layout rule, padding
 * zero, nothing after the last. */
static bool layout_ok(const struct elf *e, struct sec *s, unsigned n)
{
	uint64_t pos = e->is64 ? 64 : 52;
	for (unsigned i = 0; i < n; i++) {
		uint64_t want = align_up(pos, s[i].align);
		if (s[i].type == 8) {	/* NOBITS: no file bytes */
			if (s[i].off != pos && s[i].off != want)
				return false;
			s[i].at_pos = s[i].off == pos;
			continue;
		}
		if (s[i].off != want)
			return false;
		for (uint64_t k = pos; k < want; k++)
			if (e->d[k])
				return false;
		pos = want + s[i].size;
	}
	return pos == e->len;
}

static void write_shdr(const struct elf *e, uint8_t *d, uint64_t shoff, unsigned i,
		       uint64_t off, uint64_t size)
{
	uint64_t h = shoff + (uint64_t)i * e->shentsize;
	if (e->is64) {
		put(d, h + 24, 8, off);
		put(d, h + 32, 8, size);
	} else {
		put(d, h + 16, 4, off);
		put(d, h + 20, 4, size);
	}
}

/* Lays s[0..n) out again with .comment (sorted index ci) of size csz. */
static int relayout(const struct elf *e, struct sec *s, unsigned n, int ci,
		    const struct buf *com, struct buf *out)
{
	uint64_t pos = e->is64 ? 64 : 52, shoff = 0, *noff;
	uint8_t *d;

	noff = calloc(n, sizeof *noff);
	if (!noff)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		uint64_t size = (int)i == ci ? com->len : s[i].size;
		if (s[i].type == 8) {
			noff[i] = s[i].at_pos ? pos : align_up(pos, s[i].align);
			continue;
		}
		noff[i] = align_up(pos, s[i].align);
		pos = noff[i] + size;
		if (s[i].idx == e->shnum)
			shoff = noff[i];
	}
	out->len = 0;
	if (buf_reserve(out, (size_t)pos)) {
		free(noff);
		return -ENOMEM;
	}
	d = out->data;
	memset(d, 0, (size_t)pos);
	memcpy(d, e->d, e->is64 ? 64 : 52);
	for (unsigned i = 0; i < n; i++) {
		if (s[i].type == 8)
			continue;
		if ((int)i == ci)
			memcpy(d + noff[i], com->data, com->len);
		else
			memcpy(d + noff[i], e->d + s[i].off, (size_t)s[i].size);
	}
	put(d, e->is64 ? 40 : 32, e->is64 ? 8 : 4, shoff);
	for (unsigned i = 0; i < n; i++)
		if (s[i].idx != e->shnum)
			write_shdr(e, d, shoff, s[i].idx, noff[i],
				   (int)i == ci ? com->len : s[i].size);
	out->len = (size_t)pos;
	free(noff);
	return 0;
}

int equiv_comment_patch(const uint8_t *obj, size_t len, const char *ident, struct buf *out)
{
	struct elf e;
	struct sec *s = NULL;
	struct buf com = BUF_INIT;
	unsigned n = 0;
	int ci, r;

	if (!ident || strncmp(ident, "GCC: (", 6) || strlen(ident) > 512)
		return -EINVAL;
	r = elf_open(&e, obj, len);
	if (r)
		return r;
	s = calloc(e.shnum + 1, sizeof *s);
	if (!s)
		return -ENOMEM;
	for (unsigned i = 1; i < e.shnum; i++)
		if (!sec_read(&e, i, &s[n++])) {
			r = -EINVAL;
			goto out;
		}
	/* the section header table, as one more item of the layout */
	s[n++] = (struct sec){ .off = e.shoff, .size = (uint64_t)e.shnum * e.shentsize,
			       .align = e.is64 ? 8 : 4, .type = 1, .idx = e.shnum };
	qsort(s, n, sizeof *s, cmp_sec);
	ci = find_comment(&e, s, n);
	r = -EINVAL;
	if (ci < 0 || s[ci].type != 1 || !layout_ok(&e, s, n))
		goto out;
	r = new_comment(obj + s[ci].off, (size_t)s[ci].size, ident, &com);
	if (!r)
		r = relayout(&e, s, n, ci, &com, out);
out:
	buf_free(&com);
	free(s);
	return r;
}

int equiv_comment_ident(const uint8_t *obj, size_t len, char *out, size_t cap)
{
	struct elf e;
	struct sec *s;
	unsigned n = 0;
	int ci, r = -EINVAL;

	if (elf_open(&e, obj, len))
		return -EINVAL;
	s = calloc(e.shnum, sizeof *s);
	if (!s)
		return -ENOMEM;
	for (unsigned i = 1; i < e.shnum; i++)
		if (!sec_read(&e, i, &s[n++]))
			goto out;
	ci = find_comment(&e, s, n);
	if (ci >= 0 && s[ci].type == 1) {
		const uint8_t *c = obj + s[ci].off;
		size_t sz = (size_t)s[ci].size, i = 0;
		while (i < sz) {
			const uint8_t *z = memchr(c + i, 0, sz - i);
			size_t l = z ? (size_t)(z - (c + i)) : sz - i;
			if (z && l >= 6 && !memcmp(c + i, "GCC: (", 6) && l < cap) {
				memcpy(out, c + i, l);
				out[l] = 0;
				r = 0;
				break;
			}
			i += l + 1;
		}
	}
out:
	free(s);
	return r;
}
