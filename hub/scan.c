/*
 * scan.c — the include scanner (scan.h states what it follows and why).
 *
 * One job: the source, -imacros and -include files are the roots; a
 * worklist of (path as spelled, where it was found) is followed until
 * empty; then computed includes are resolved through the job's simple
 * defines, which may add files, until nothing changes.
 *
 * Invariants: an item is followed once per (found-at, spelled path); an
 * input appears once per physical path; a symlink once per path; every
 * string in a result is the result's own; pointers into the file table
 * live only during the job (filetab.h).
 */
#include "scan.h"
#include "scan_cc.h"
#include "scan_int.h"
#include "scan_map.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SCAN_DEFINE_DEPTH 8

enum { FOUND_PRIMARY = -1, FOUND_INCLUDER = -2, FOUND_CWD = -3, FOUND_ABS = -4 };

/* ---- one job ---- */

struct item {
	char *spelled;
	int found;		/* index in the chain, or FOUND_* */
	size_t in;		/* its input */
	const struct filetab_content *c;
};

struct walkrec {
	char *path, *link;	/* link NULL: a directory climbed out of */
	uint32_t mode;
};

struct def {
	uint8_t form;
	const char *body;
};

struct defl {
	size_t n;
	struct def *v;
	size_t upto;		/* inputs searched for this name so far */
};

struct job {
	struct scan *s;
	const struct scan_job *j;
	struct scan_opts o;
	const struct scan_chain *ch;
	struct scan_result *res;
	struct item *items;
	size_t nitems, done;
	struct smap visited, inputs, links, defs, dirs;
	struct walkrec *walk;
	size_t nwalk;
	const struct filetab_content **cont;	/* per input; NULL for dirs */
	struct dirc **chd;	/* the chain's dirs by index (owned by dirs) */
	int err;		/* the first hard error (-ENOMEM) */
};

/* Arrays grow by doubling at 0, 8, 16, 32, ... elements. */
#define GROW(arr, n) \
	((n) == 0 || ((n) >= 8 && ((n) & ((n) - 1)) == 0) ? \
	 grow_((void **)&(arr), (n) ? (n) * 2 : 8, sizeof *(arr)) : 0)

static int grow_(void **p, size_t n, size_t sz)
{
	void *q = realloc(*p, n * sz);
	if (!q)
		return -ENOMEM;
	*p = q;
	return 0;
}

static void job_oom(struct job *jb, int r)
{
	if (r < 0 && !jb->err)
		jb->err = r;
}

static void walk_cb(void *arg, const struct filetab_file *f)
{
	struct job *jb = arg;
	struct walkrec w = { strdup(f->phys), f->link ? strdup(f->link) : NULL, f->id.mode };
	if (!w.path || (f->link && !w.link) || GROW(jb->walk, jb->nwalk)) {
		free(w.path);
		free(w.link);
		job_oom(jb, -ENOMEM);
		return;
	}
	jb->walk[jb->nwalk++] = w;
}

static void walk_drop(struct job *jb)
{
	for (size_t i = 0; i < jb->nwalk; i++) {
		free(jb->walk[i].path);
		free(jb->walk[i].link);
	}
	jb->nwalk = 0;
}

static void add_gap(struct job *jb, const char *file, const char *text);
static int add_dir(struct job *jb, const char *path, uint32_t mode);

/* The symlinks and climbed directories of a successful resolution. */
static void walk_commit(struct job *jb)
{
	struct scan_result *r = jb->res;
	for (size_t i = 0; i < jb->nwalk && !jb->err; i++) {
		struct walkrec *w = &jb->walk[i];
		void **slot;
		int k;
		if (!w->link) {
			job_oom(jb, add_dir(jb, w->path, w->mode));
			continue;
		}
		if ((k = smap_put(&jb->links, w->path, &slot)) <= 0) {
			job_oom(jb, k);
			continue;
		}
		if (GROW(r->links, r->nlinks)) {
			job_oom(jb, -ENOMEM);
			continue;
		}
		r->links[r->nlinks++] = (struct scan_link){ w->path, w->link };
		w->path = w->link = NULL;
	}
	walk_drop(jb);
}

/* A new input (file or directory) at physical path; its index in *idx.
 * 1 if new, 0 if known, -errno. */
static int input_put(struct job *jb, const char *phys, size_t *idx)
{
	struct scan_result *r = jb->res;
	void **slot;
	int k = smap_put(&jb->inputs, phys, &slot);
	if (k <= 0) {
		if (k == 0)
			*idx = (size_t)(uintptr_t)*slot - 1;
		return k;
	}
	if (GROW(r->in, r->nin))
		return -ENOMEM;
	memset(&r->in[r->nin], 0, sizeof r->in[r->nin]);
	if (!(r->in[r->nin].path = strdup(phys)))
		return -ENOMEM;
	*slot = (void *)(uintptr_t)(r->nin + 1);
	*idx = r->nin++;
	return 1;
}

static int add_dir(struct job *jb, const char *path, uint32_t mode)
{
	size_t i;
	int k = input_put(jb, path, &i);
	if (k == 1) {
		if (GROW(jb->cont, i))
			return -ENOMEM;
		jb->cont[i] = NULL;
		jb->res->in[i].mode = mode;
		if (!(jb->res->in[i].spelled = strdup(path)))
			return -ENOMEM;
	}
	return k < 0 ? k : 0;
}

static void add_gap(struct job *jb, const char *file, const char *text)
{
	struct scan_result *r = jb->res;
	void **rem = smap_get(&jb->s->remember, file);
	for (size_t i = 0; i < r->ngaps; i++)
		if (!strcmp(r->gaps[i].file, file) && !strcmp(r->gaps[i].text, text))
			return;
	if (GROW(r->gaps, r->ngaps)) {
		job_oom(jb, -ENOMEM);
		return;
	}
	r->gaps[r->ngaps] = (struct scan_gap){ strdup(file), strdup(text), rem && *rem };
	if (!r->gaps[r->ngaps].file || !r->gaps[r->ngaps].text) {
		free(r->gaps[r->ngaps].file);
		free(r->gaps[r->ngaps].text);
		job_oom(jb, -ENOMEM);
		return;
	}
	if (!r->gaps[r->ngaps].remembered)
		r->incomplete = true;
	r->ngaps++;
}

static int push_item(struct job *jb, const char *spelled, int found, size_t in);
static int try_path(struct job *jb, const char *spelled, int found, bool follow);

/* A regular file found: its input (hashed), the inputs remembered for it,
 * and (follow) an item to follow. */
static void take_file(struct job *jb, const char *spelled, int found, const struct filetab_file *f,
		      bool follow)
{
	struct scan_result *r = jb->res;
	const struct filetab_content *c = NULL;
	void **rem;
	size_t i;
	int k;

	walk_commit(jb);
	if (filetab_mark_get(f, &i))
		k = 0;	/* this job's input already: no map lookup */
	else if ((k = input_put(jb, f->phys, &i)) < 0)
		return job_oom(jb, k);
	else
		filetab_mark_set(f, i);
	if (k == 1) {
		int e;
		if (GROW(jb->cont, i))
			return job_oom(jb, -ENOMEM);
		jb->cont[i] = NULL;
		if ((e = filetab_content(jb->s->ft, f, &c)) == -ENOMEM)
			return job_oom(jb, e);
		if (e) {
			add_gap(jb, f->phys, "(unreadable)");
			return;
		}
		jb->cont[i] = c;
		memcpy(r->in[i].sha256, c->sha256, 32);
		r->in[i].size = c->size;
		r->time_macros |= c->time_macros;
		r->gas_reads |= c->gas_reads;
		r->in[i].mode = f->id.mode;
		if (!(r->in[i].spelled = strdup(spelled)))
			return job_oom(jb, -ENOMEM);
		if ((rem = smap_get(&jb->s->remember, f->phys)) && *rem) {
			struct remembered *m = *rem;
			for (size_t x = 0; x < m->n; x++)
				job_oom(jb, try_path(jb, m->paths[x], FOUND_ABS, true));
			r->remembered += m->n;
		}
	}
	if (follow && jb->cont[i])
		job_oom(jb, push_item(jb, spelled, found, i));
}

/* Tries one candidate. 1: found (taken), 0: not there, -errno. */
/* "dir" + "/" + name as gcc joins them ("" + name is name). */
static int join(char *out, size_t len, const char *dir, size_t dl, const char *name)
{
	size_t nl = strlen(name), sep = dl && dir[dl - 1] != '/';	/* no printf: once per probe */
	if (dl + sep + nl >= len)
		return -ENAMETOOLONG;
	memcpy(out, dir, dl);
	out[dl] = '/';
	memcpy(out + dl + sep, name, nl + 1);
	return 0;
}

/* The found / not-found tail of a probe. */
static int probe_done(struct job *jb, int r, const struct filetab_file *f, const char *spelled,
		      int found, bool follow)
{
	if (r == 0 && S_ISREG(f->id.mode)) {
		take_file(jb, spelled, found, f, follow);
		return jb->err ? jb->err : 1;
	}
	walk_drop(jb);
	if (r == -ENOMEM)
		return r;
	if (r == 0 && !S_ISDIR(f->id.mode))
		add_gap(jb, f->phys, "(not a regular file)");
	else if (r && r != -ENOENT && r != -ENOTDIR)
		add_gap(jb, spelled, "(cannot be resolved)");	/* EACCES, ELOOP: gcc stops */
	return 0;
}

/* Tries one full path (absolute, or relative to the cwd). 1: found
 * (taken), 0: not there, -errno. */
static int try_path(struct job *jb, const char *spelled, int found, bool follow)
{
	char abs[PATH_MAX];
	struct filetab_file f;
	int k;

	if (spelled[0] == '/')
		k = snprintf(abs, sizeof abs, "%s", spelled);
	else
		k = snprintf(abs, sizeof abs, "%s/%s", jb->j->cwd, spelled);
	if (k < 0 || (size_t)k >= sizeof abs)
		return 0;
	jb->res->probes++;
	return probe_done(jb, filetab_resolve(jb->s->ft, abs, &f, walk_cb, jb), &f, spelled, found, follow);
}

/* A search or includer directory as resolved in this job (once). */
struct dirc {
	int err;
	struct filetab_file f;
	struct walkrec *w;	/* the links and climbed dirs on the way to it */
	size_t nw;
};

static void dirc_free(void *p)
{
	struct dirc *d = p;
	if (!d)
		return;
	for (size_t i = 0; i < d->nw; i++) {
		free(d->w[i].path);
		free(d->w[i].link);
	}
	free(d->w);
	free(d);
}

/* The directory dir[0..dl) ("" is the cwd) of this job. */
static struct dirc *dir_get(struct job *jb, const char *dir, size_t dl)
{
	char key[PATH_MAX], abs[PATH_MAX];
	void **slot;
	struct dirc *d;
	int k;

	if (dl >= sizeof key)
		return NULL;
	memcpy(key, dir, dl);
	key[dl] = '\0';
	if ((k = smap_put(&jb->dirs, key, &slot)) < 0 || (!k && *slot))
		return k < 0 ? NULL : *slot;
	if (!(d = calloc(1, sizeof *d)))
		return NULL;
	k = key[0] == '/' ? snprintf(abs, sizeof abs, "%s", key) :
			    snprintf(abs, sizeof abs, "%s/%s", jb->j->cwd, key);
	walk_drop(jb);
	d->err = k < 0 || (size_t)k >= sizeof abs ? -ENAMETOOLONG :
		 filetab_resolve(jb->s->ft, abs, &d->f, walk_cb, jb);
	if (!d->err && !S_ISDIR(d->f.id.mode))
		d->err = -ENOTDIR;
	d->w = jb->walk;	/* the dir's own walk records move here */
	d->nw = jb->nwalk;
	jb->walk = NULL;
	jb->nwalk = 0;
	*slot = d;
	return d;
}

/* Chain dir i of this job: dir_get() once, then by index (every probe). */
static struct dirc *chain_dir(struct job *jb, size_t i)
{
	if (!jb->chd && !(jb->chd = calloc(jb->ch->n, sizeof *jb->chd)))
		return NULL;
	if (!jb->chd[i])
		jb->chd[i] = dir_get(jb, jb->ch->dirs[i], strlen(jb->ch->dirs[i]));
	return jb->chd[i];
}

/* Tries dir + name (spelled as gcc joins them); found >= 0: dir is chain
 * dir `found`. 1 found, 0 not, -errno. */
static int try_in(struct job *jb, const char *dir, size_t dl, const char *name, int found, bool follow)
{
	char sp[PATH_MAX];
	struct filetab_file f;
	struct dirc *d;
	int r;

	if (join(sp, sizeof sp, dir, dl, name))
		return 0;
	if (!(d = found >= 0 ? chain_dir(jb, (size_t)found) : dir_get(jb, dir, dl)))
		return -ENOMEM;
	jb->res->probes++;
	if (d->err)
		return 0;
	r = filetab_resolve_at(jb->s->ft, &d->f, name, &f, walk_cb, jb);
	for (size_t i = 0; r == 0 && S_ISREG(f.id.mode) && i < d->nw; i++)
		walk_cb(jb, &(struct filetab_file){ .phys = d->w[i].path, .link = d->w[i].link,
						    .id.mode = d->w[i].mode });
	return probe_done(jb, r, &f, sp, found, follow);
}

/* Finds `name` (form, kind) for an includer, as gcc's search_path_head and
 * the chain walk do. 1 found, 0 not, -errno. */
static int resolve(struct job *jb, const struct item *from, int kind, int form,
		   const char *name, bool follow)
{
	const struct scan_chain *ch = jb->ch;
	bool next = (kind == SCAN_INCLUDE_NEXT || kind == SCAN_HAS_INCLUDE_NEXT) &&
		    from->found != FOUND_PRIMARY && from->found != FOUND_ABS;
		size_t start;
	int r;

	if (!*name)
		return 0;
	if (name[0] == '/')
		return try_path(jb, name, FOUND_ABS, follow);
	if (next)
		start = from->found >= 0 ? (size_t)from->found + 1 : 0;
	else if (form == SCAN_ANGLE)
		start = ch->quote_n;
	else {
		start = 0;
		if (!jb->o.ignore_source_dir) {
			const char *sl = strrchr(from->spelled, '/');
			size_t dl = sl ? (size_t)(sl - from->spelled) + 1 : 0;
			if ((r = try_in(jb, from->spelled, dl, name, FOUND_INCLUDER, follow)))
				return r;
		}
	}
	for (size_t d = start; d < ch->n; d++)
		if ((r = try_in(jb, ch->dirs[d], strlen(ch->dirs[d]), name, (int)d, follow)))
			return r;
	return 0;
}

static int push_item(struct job *jb, const char *spelled, int found, size_t in)
{
	char key[PATH_MAX + 16];
	unsigned v = (unsigned)(found + 4);	/* >= 0: FOUND_* are -1..-4 */
	size_t sl = strlen(spelled);
	void **slot;
	int k;

	/* (found, spelled) as 4 hex digits then the name: no printf per include */
	if (v > 0xffff || sl + 5 > sizeof key)
		snprintf(key, sizeof key, "%d|%s", found, spelled);	/* '|' is no hex digit */
	else {
		for (int i = 3; i >= 0; i--, v >>= 4)
			key[i] = "0123456789abcdef"[v & 15];
		memcpy(key + 4, spelled, sl + 1);
	}
	if ((k = smap_put(&jb->visited, key, &slot)) <= 0)
		return k;
	if (GROW(jb->items, jb->nitems))
		return -ENOMEM;
	if (!(jb->items[jb->nitems].spelled = strdup(spelled)))
		return -ENOMEM;
	jb->items[jb->nitems].found = found;
	jb->items[jb->nitems].c = jb->cont[in];
	jb->items[jb->nitems].in = in;
	jb->nitems++;
	return 1;
}

/* ---- computed includes ---- */

static int def_add(struct defl *l, uint8_t form, const char *body)
{
	if (GROW(l->v, l->n))
		return -ENOMEM;
	l->v[l->n++] = (struct def){ form, body };
	return 0;
}

static bool is_identifier(const char *t)
{
	if (!*t || (*t >= '0' && *t <= '9'))
		return false;
	for (; *t; t++)
		if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
		      (*t >= '0' && *t <= '9') || *t == '_'))
			return false;
	return true;
}

/* The definitions of one name: from -D, then from every input's #defines;
 * looked up lazily (only names a computed include needs), extended when
 * inputs were added since. NULL on -ENOMEM. */
static struct defl *defs_of(struct job *jb, const char *name)
{
	void **slot;
	struct defl *l;
	int k = smap_put(&jb->defs, name, &slot), r = 0;
	size_t nl = strlen(name);

	if (k < 0)
		return NULL;
	if (!(l = *slot)) {
		if (!(l = *slot = calloc(1, sizeof *l)))
			return NULL;
		for (size_t i = 0; i < jb->o.ndefines && !r; i++) {
			const char *d = jb->o.defines[i], *eq = strchr(d, '=');
			const char *b = eq ? eq + 1 : "1";
			size_t bl = strlen(b);
			if ((eq ? (size_t)(eq - d) : strlen(d)) != nl || strncmp(d, name, nl))
				continue;
			if (bl >= 2 && ((b[0] == '"' && b[bl - 1] == '"') || (b[0] == '<' && b[bl - 1] == '>')))
				r = def_add(l, b[0] == '"' ? SCAN_QUOTE : SCAN_ANGLE, b);
			else
				r = def_add(l, is_identifier(b) ? SCAN_COMPUTED : SCAN_OPAQUE, b);
		}
	}
	for (; l->upto < jb->res->nin && !r; l->upto++) {
		const struct filetab_content *c = jb->cont[l->upto];
		for (size_t k2 = 0; c && k2 < c->dirs.n && !r; k2++) {
			const struct scan_directive *d = &c->dirs.d[k2];
			if (d->kind == SCAN_DEFINE && d->name_len == nl &&
			    !memcmp(scan_define_name(&c->dirs, d), name, nl))
				r = def_add(l, d->form, scan_operand(&c->dirs, d));
		}
	}
	return r ? NULL : l;
}

/* Expands NAME through the defines, resolving every header name it can
 * stand for. false: some definition cannot be followed (a gap). */
static bool expand(struct job *jb, const struct item *from, int kind, const char *name, int depth)
{
	struct defl *l = defs_of(jb, name);
	bool ok = l && l->n && depth < SCAN_DEFINE_DEPTH;

	if (!l)
		job_oom(jb, -ENOMEM);

	for (size_t i = 0; l && i < l->n && depth < SCAN_DEFINE_DEPTH; i++) {
		const struct def *d = &l->v[i];
		bool follow = kind == SCAN_INCLUDE || kind == SCAN_INCLUDE_NEXT || kind == SCAN_IMPORT;
		if (d->form == SCAN_QUOTE || d->form == SCAN_ANGLE) {
			char hn[SCAN_LEX_MAX_OPERAND + 1];
			const char *b = d->body;
			size_t bl = strlen(b);
			if (b[0] == '"' || b[0] == '<') {	/* from -D: with the delimiters */
				snprintf(hn, sizeof hn, "%.*s", (int)(bl - 2), b + 1);
				b = hn;
			}
			job_oom(jb, resolve(jb, from, kind, d->form, b, follow));
		} else if (d->form == SCAN_COMPUTED)
			ok &= expand(jb, from, kind, d->body, depth + 1);
		else
			ok = false;
	}
	return ok;
}

struct pend {
	size_t item, dir;
};

/* One round over the computed directives; gaps recorded only when `final`. */
static void computed_round(struct job *jb, const struct pend *p, size_t np, bool final)
{
	for (size_t i = 0; i < np && !jb->err; i++) {
		struct item from = jb->items[p[i].item];
		const struct scan_directives *ds = &from.c->dirs;
		const struct scan_directive *d = &ds->d[p[i].dir];
		const char *text = scan_operand(ds, d);
		bool ok = is_identifier(text) && expand(jb, &from, d->kind, text, 0);
		if (!ok && final)
			add_gap(jb, jb->res->in[from.in].path, text);
	}
}

/* ---- following ---- */

static int follow(struct job *jb, size_t idx, struct pend **pend, size_t *np)
{
	struct item from = jb->items[idx];
	const struct scan_directives *ds = &from.c->dirs;

	jb->res->scanned++;
	for (size_t k = 0; k < ds->n && !jb->err; k++) {
		const struct scan_directive *d = &ds->d[k];
		bool fol = d->kind == SCAN_INCLUDE || d->kind == SCAN_INCLUDE_NEXT || d->kind == SCAN_IMPORT;
		if (d->kind == SCAN_DEFINE)
			continue;
		if (d->form == SCAN_COMPUTED) {
			if (GROW(*pend, *np))
				return -ENOMEM;
			(*pend)[(*np)++] = (struct pend){ idx, k };
			continue;
		}
		job_oom(jb, resolve(jb, &from, d->kind, d->form, scan_operand(ds, d), fol));
	}
	return jb->err;
}

/* Follows everything, then the computed includes until nothing changes. */
static int close_over(struct job *jb)
{
	struct pend *pend = NULL;
	size_t np = 0, before;
	int r = 0;

	for (;;) {
		while (jb->done < jb->nitems && !r)
			r = follow(jb, jb->done++, &pend, &np);
		if (r || !np)
			break;
		before = jb->nitems;
		computed_round(jb, pend, np, false);
		if ((r = jb->err))
			break;
		if (jb->nitems == before) {
			computed_round(jb, pend, np, true);
			r = jb->err;
			break;
		}
	}
	free(pend);
	return r;
}

/* -imacros / -include NAME: the cwd ("./"), then the quote chain. */
static int cmdline_file(struct job *jb, const char *name)
{
	int r;
	if (name[0] == '/')
		return try_path(jb, name, FOUND_ABS, true);
	if ((r = try_in(jb, "./", 2, name, FOUND_CWD, true)))
		return r;
	for (size_t d = 0; d < jb->ch->n; d++)
		if ((r = try_in(jb, jb->ch->dirs[d], strlen(jb->ch->dirs[d]), name, (int)d, true)))
			return r;
	return 0;
}

/* ---- the job ---- */

static void job_free(struct job *jb)
{
	for (size_t i = 0; i < jb->nitems; i++)
		free(jb->items[i].spelled);
	free(jb->items);
	walk_drop(jb);
	free(jb->walk);
	free(jb->cont);
	free(jb->chd);
	smap_free(&jb->visited, NULL);
	smap_free(&jb->inputs, NULL);
	smap_free(&jb->links, NULL);
	smap_free(&jb->dirs, dirc_free);
	for (size_t i = 0; i < jb->defs.cap; i++)
		if (jb->defs.k[i] && jb->defs.v[i]) {
			free(((struct defl *)jb->defs.v[i])->v);
			free(jb->defs.v[i]);
		}
	smap_free(&jb->defs, NULL);
	scan_opts_free(&jb->o);
}

/* The roots: the source, then -imacros and -include files. */
static int roots(struct job *jb, const char *compiler)
{
	struct scan_result *res = jb->res;
	int r;

	if (!jb->o.preprocessed &&
	    (r = scan_chains_get(jb->s->chains, jb->s->ft, jb->s->run, jb->s->run_arg, compiler,
				 jb->j->cwd, &jb->o, &jb->ch, &res->chain_asked, res->err,
				 sizeof res->err)))
		return r;
	if ((r = try_path(jb, jb->o.source, FOUND_PRIMARY, !jb->o.preprocessed)) <= 0) {
		snprintf(res->err, sizeof res->err, "%s: %s", jb->o.source,
			 r ? strerror(-r) : "no such regular file");
		return r ? r : -ENOENT;
	}
	if (jb->o.preprocessed)
		return 0;
	if (jb->o.preinclude && jb->nitems &&
	    (r = resolve(jb, &jb->items[0], SCAN_INCLUDE, SCAN_ANGLE, "stdc-predef.h", true)) < 0)
		return r;
	for (size_t i = 0; i < jb->o.nimacros + jb->o.nincludes; i++) {
		const char *f = i < jb->o.nimacros ? jb->o.imacros[i] : jb->o.includes[i - jb->o.nimacros];
		if ((r = cmdline_file(jb, f)) < 0)
			return r;
	}
	return 0;
}

int scan_job(struct scan *s, const struct scan_job *job, struct scan_result *res)
{
	struct job jb = { .s = s, .j = job, .res = res };
	const char *compiler = job->compiler ? job->compiler : job->argc ? job->argv[0] : "";
	int r;

	memset(res, 0, sizeof *res);
	filetab_begin(s->ft);
	if (!job->cwd || job->cwd[0] != '/') {
		snprintf(res->err, sizeof res->err, "the job's cwd is not absolute");
		return -EINVAL;
	}
	if ((r = scan_parse_argv(job->argv, job->argc, &jb.o, res->err, sizeof res->err)))
		return r;
	if (!(r = roots(&jb, compiler)))
		r = jb.err ? jb.err : close_over(&jb);
	if (!r)
		r = jb.err;
	if (r == -ENOMEM)
		snprintf(res->err, sizeof res->err, "out of memory");
	job_free(&jb);
	if (r) {
		char keep[sizeof res->err];
		memcpy(keep, res->err, sizeof keep);
		scan_result_free(res);
		memcpy(res->err, keep, sizeof keep);
	}
	return r;
}

void scan_result_free(struct scan_result *res)
{
	for (size_t i = 0; i < res->nin; i++) {
		free(res->in[i].path);
		free(res->in[i].spelled);
	}
	for (size_t i = 0; i < res->nlinks; i++) {
		free(res->links[i].path);
		free(res->links[i].target);
	}
	for (size_t i = 0; i < res->ngaps; i++) {
		free(res->gaps[i].file);
		free(res->gaps[i].text);
	}
	free(res->in);
	free(res->links);
	free(res->gaps);
	memset(res, 0, sizeof *res);
}
