/*
 * filetab.c — the hub's file table (filetab.h states the contract).
 *
 * Invariants: a node is in the path map exactly once and on the LRU list
 * exactly once; node->content, when set, holds one reference; a content is
 * in the identity map exactly while its reference count is positive;
 * t->mem is the sum of the accounted bytes of every node and content.
 * Nodes with epoch == t->epoch are never evicted.
 */
#include "filetab.h"
#include "lru.h"
#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct content {
	struct content *hnext;
	uint64_t hash;
	struct filetab_id id;
	unsigned refs;
	bool racy;
	uint32_t epoch;		/* the job it was hashed in */
	size_t bytes;
	struct filetab_content c;
};

struct node {
	struct node *hnext;
	struct lru_node lru;
	uint64_t hash;
	uint32_t epoch;
	uint32_t mark_epoch;	/* mark is this job's when == epoch and has_mark */
	bool has_mark;
	size_t mark;
	int err;		/* 0, or the errno of lstat */
	bool racy;		/* timestamps within racy_ns of the check */
	bool neg_ok;		/* absent: neg_dir is the parent's identity then */
	struct filetab_id id, neg_dir;
	char *link;
	struct content *content;
	size_t bytes;
	char path[];
};

struct filetab {
	struct node **nb;	/* path map */
	size_t nbuckets, nnodes;
	struct content **cb;	/* identity map */
	size_t cbuckets, ncontents;
	struct lru_list lru;	/* every node; newest: most recently used */
	uint32_t epoch;
	int64_t now_ns;		/* the job's start: the check time, conservatively */
	size_t mem, cap;
	int64_t racy_ns;
	struct filetab_stats st;
};

#define HASH_BASIS 1469598103934665603ull	/* hash_str("") */

/* FNV-1a of s, continued from h: hash_more(hash_str(a), b) = hash_str(a b),
 * so a walk hashes each component once, not its whole path again. */
static uint64_t hash_more(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static uint64_t hash_str(const char *s)
{
	return hash_more(HASH_BASIS, s);
}

static uint64_t hash_id(const struct filetab_id *id)
{
	uint64_t v[5] = { id->dev, id->ino, id->size, (uint64_t)id->mtime_ns, (uint64_t)id->ctime_ns };
	uint64_t h = 1469598103934665603ull;
	for (int i = 0; i < 5; i++)
		h = (h ^ v[i]) * 1099511628211ull, h ^= h >> 29;
	return h;
}

static bool id_eq(const struct filetab_id *a, const struct filetab_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns && a->mode == b->mode;
}

static void id_from_stat(struct filetab_id *id, const struct stat *st)
{
	id->dev = (uint64_t)st->st_dev;
	id->ino = (uint64_t)st->st_ino;
	id->size = (uint64_t)st->st_size;
	id->mode = (uint32_t)st->st_mode;
	id->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
	id->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
}

static bool is_racy(const struct filetab *t, const struct filetab_id *id)
{
	int64_t m = id->mtime_ns > id->ctime_ns ? id->mtime_ns : id->ctime_ns;
	return t->racy_ns > 0 && m > t->now_ns - t->racy_ns;
}

struct filetab *filetab_new(const struct filetab_cfg *cfg)
{
	struct filetab *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->cap = cfg && cfg->mem_cap ? cfg->mem_cap : FILETAB_DEFAULT_MEM;
	t->racy_ns = cfg && cfg->racy_ns >= 0 ? cfg->racy_ns : FILETAB_DEFAULT_RACY_NS;
	t->nbuckets = t->cbuckets = 1024;
	t->nb = calloc(t->nbuckets, sizeof *t->nb);
	t->cb = calloc(t->cbuckets, sizeof *t->cb);
	if (!t->nb || !t->cb) {
		free(t->nb);
		free(t->cb);
		free(t);
		return NULL;
	}
	t->mem = (t->nbuckets + t->cbuckets) * sizeof(void *);
	return t;
}

/* ---- contents ---- */

static void content_unref(struct filetab *t, struct content *c)
{
	struct content **pp;
	if (!c || --c->refs)
		return;
	for (pp = &t->cb[c->hash & (t->cbuckets - 1)]; *pp; pp = &(*pp)->hnext)
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	t->ncontents--;
	t->mem -= c->bytes;
	scan_lex_free(&c->c.dirs);
	free(c);
}

static struct content *content_find(struct filetab *t, const struct filetab_id *id)
{
	uint64_t h = hash_id(id);
	for (struct content *c = t->cb[h & (t->cbuckets - 1)]; c; c = c->hnext)
		if (c->hash == h && id_eq(&c->id, id))
			return c;
	return NULL;
}

static void content_grow(struct filetab *t)
{
	size_t nb = t->cbuckets * 2;
	struct content **b = calloc(nb, sizeof *b);
	if (!b)
		return;		/* longer chains, still correct */
	for (size_t i = 0; i < t->cbuckets; i++)
		for (struct content *c = t->cb[i], *nx; c; c = nx) {
			nx = c->hnext;
			c->hnext = b[c->hash & (nb - 1)];
			b[c->hash & (nb - 1)] = c;
		}
	free(t->cb);
	t->mem += (nb - t->cbuckets) * sizeof *b;
	t->cb = b;
	t->cbuckets = nb;
}

static void node_set_content(struct filetab *t, struct node *n, struct content *c)
{
	if (n->content == c)
		return;
	if (c)
		c->refs++;
	content_unref(t, n->content);
	n->content = c;
}

/* ---- nodes ---- */

static struct node *node_of(struct lru_node *e)
{
	return e ? LRU_ENTRY(e, struct node, lru) : NULL;
}

static void node_free(struct filetab *t, struct node *n)
{
	struct node **pp;
	for (pp = &t->nb[n->hash & (t->nbuckets - 1)]; *pp; pp = &(*pp)->hnext)
		if (*pp == n) {
			*pp = n->hnext;
			break;
		}
	lru_remove(&t->lru, &n->lru);
	node_set_content(t, n, NULL);
	t->nnodes--;
	t->mem -= n->bytes;
	free(n->link);
	free(n);
}

/* Evicts nodes of earlier jobs, least recently used first, while over cap. */
static void evict(struct filetab *t)
{
	struct node *old;

	while (t->mem > t->cap && (old = node_of(t->lru.oldest)) && old->epoch != t->epoch) {
		node_free(t, old);
		t->st.evictions++;
	}
}

static void node_grow(struct filetab *t)
{
	size_t nb = t->nbuckets * 2;
	struct node **b = calloc(nb, sizeof *b);
	if (!b)
		return;
	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct node *n = t->nb[i], *nx; n; n = nx) {
			nx = n->hnext;
			n->hnext = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	free(t->nb);
	t->mem += (nb - t->nbuckets) * sizeof *b;
	t->nb = b;
	t->nbuckets = nb;
}

static struct node *node_find(struct filetab *t, const char *path, uint64_t h)
{
	for (struct node *n = t->nb[h & (t->nbuckets - 1)]; n; n = n->hnext)
		if (n->hash == h && strcmp(n->path, path) == 0)
			return n;
	return NULL;
}

static struct node *node_new(struct filetab *t, const char *path, uint64_t h)
{
	size_t l = strlen(path);
	struct node *n;

	evict(t);
	if (!(n = calloc(1, sizeof *n + l + 1)))
		return NULL;
	memcpy(n->path, path, l + 1);
	n->hash = h;
	n->bytes = sizeof *n + l + 1;
	n->epoch = t->epoch - 1;
	n->hnext = t->nb[h & (t->nbuckets - 1)];
	t->nb[h & (t->nbuckets - 1)] = n;
	lru_push_newest(&t->lru, &n->lru);
	t->nnodes++;
	t->mem += n->bytes;
	if (t->nnodes > t->nbuckets)
		node_grow(t);
	return n;
}

static void node_set_link(struct filetab *t, struct node *n, const char *link)
{
	if (n->link) {
		t->mem -= strlen(n->link) + 1;
		n->bytes -= strlen(n->link) + 1;
		free(n->link);
		n->link = NULL;
	}
	if (link && (n->link = strdup(link))) {
		t->mem += strlen(link) + 1;
		n->bytes += strlen(link) + 1;
	}
}

/* lstat of one path whose parent (NULL for "/") was checked in this job. */
static int node_lstat(struct filetab *t, struct node *n, const struct node *parent)
{
	struct stat st;
	struct filetab_id id;
	char lk[PATH_MAX];
	ssize_t ll;

	t->st.lstats++;
	if (lstat(n->path, &st) != 0) {
		n->err = errno;
		memset(&n->id, 0, sizeof n->id);
		node_set_content(t, n, NULL);
		node_set_link(t, n, NULL);
		n->neg_ok = n->err == ENOENT && parent;
		if (n->neg_ok)
			n->neg_dir = parent->id;
		return 0;
	}
	id_from_stat(&id, &st);
	if (S_ISLNK(st.st_mode) && (!n->link || !id_eq(&id, &n->id) || n->racy)) {
		if ((ll = readlink(n->path, lk, sizeof lk - 1)) < 0) {
			n->err = errno;
			return 0;
		}
		lk[ll] = '\0';
		node_set_link(t, n, lk);
		if (!n->link)
			return -ENOMEM;
	} else if (!S_ISLNK(st.st_mode))
		node_set_link(t, n, NULL);
	n->err = 0;
	n->neg_ok = false;
	n->id = id;
	n->racy = is_racy(t, &id);
	return 0;
}

/* The node of `path` (h = hash_str(path)) as checked in this job. */
static int node_check_h(struct filetab *t, const char *path, uint64_t h,
			const struct node *parent, struct node **out)
{
	struct node *n = node_find(t, path, h);
	int r;

	if (n && n->epoch == t->epoch)
		goto done;
	if (n && n->err == ENOENT && n->neg_ok && parent && parent->epoch == t->epoch &&
	    !parent->racy && !parent->err && id_eq(&parent->id, &n->neg_dir)) {
		t->st.neg_hits++;
		goto stamp;
	}
	if (!n && !(n = node_new(t, path, h)))
		return -ENOMEM;
	if ((r = node_lstat(t, n, parent)))
		return r;
stamp:
	n->epoch = t->epoch;
done:
	lru_touch(&t->lru, &n->lru);
	*out = n;
	return 0;
}

static int node_check(struct filetab *t, const char *path, const struct node *parent,
		      struct node **out)
{
	return node_check_h(t, path, hash_str(path), parent, out);
}

void filetab_begin(struct filetab *t)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	t->now_ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	t->epoch++;
	t->st.jobs++;
	evict(t);
}

static void fill(struct filetab_file *f, struct node *n)
{
	f->phys = n->path;
	f->id = n->id;
	f->link = n->link;
	f->node = n;
}

/* A resolution in progress: the physical path so far and what remains. */
struct walk {
	char phys[PATH_MAX];
	size_t pl;		/* strlen(phys); 0 means "/" */
	uint64_t h;		/* hash_str(phys), phys as the string it is ("" for "/") */
	char rest[PATH_MAX];
	size_t ri;		/* next unread byte of rest */
	struct node *dir;	/* the node of phys */
	int links;
};

/* Replaces what remains by target + "/" + remainder (a symlink). */
static int walk_push(struct walk *w, const char *target)
{
	char tmp[PATH_MAX];
	int k = snprintf(tmp, sizeof tmp, "%s/%s", target, w->rest + w->ri);
	if (k < 0 || (size_t)k >= sizeof tmp)
		return -ENAMETOOLONG;
	memcpy(w->rest, tmp, (size_t)k + 1);
	w->ri = 0;
	return 0;
}

/* One component c (not "." nor ""); last: nothing follows it. */
static int walk_step(struct filetab *t, struct walk *w, const char *c, bool last,
		     filetab_walk_fn fn, void *arg)
{
	struct filetab_file f;
	struct node *n;
	uint64_t h;
	int r;

	if (strcmp(c, "..") == 0) {
		if (w->pl == 0)
			return 0;
		fill(&f, w->dir);
		f.link = NULL;
		if (fn)
			fn(arg, &f);
		w->pl = (size_t)(strrchr(w->phys, '/') - w->phys);
		w->phys[w->pl] = '\0';
		w->h = hash_str(w->phys);
		return node_check(t, w->pl ? w->phys : "/", NULL, &w->dir);
	}
	if (w->pl + 1 + strlen(c) + 1 > sizeof w->phys)
		return -ENAMETOOLONG;
	w->phys[w->pl] = '/';
	strcpy(w->phys + w->pl + 1, c);
	h = hash_more(w->h, w->phys + w->pl);
	r = node_check_h(t, w->phys, h, w->dir, &n);
	w->phys[w->pl] = '\0';
	if (r)
		return r;
	if (n->err)
		return -n->err;
	if (S_ISLNK(n->id.mode)) {
		if (++w->links > FILETAB_MAX_LINKS)
			return -ELOOP;
		fill(&f, n);
		if (fn)
			fn(arg, &f);
		if ((r = walk_push(w, n->link)))
			return r;
		if (n->link[0] == '/') {
			w->pl = 0;
			w->phys[0] = '\0';
			w->h = HASH_BASIS;
			return node_check(t, "/", NULL, &w->dir);
		}
		return 0;
	}
	if (!last && !S_ISDIR(n->id.mode))
		return -ENOTDIR;
	w->pl += 1 + strlen(c);
	memcpy(w->phys, n->path, w->pl + 1);
	w->h = h;
	w->dir = n;
	return 0;
}

/* Walks what remains of w->rest from w->phys (w->dir). */
static int walk_run(struct filetab *t, struct walk *w, struct filetab_file *f,
		    filetab_walk_fn fn, void *arg)
{
	int r;
	while (w->rest[w->ri]) {
		char c[NAME_MAX + 1];
		size_t s = w->ri, e, k;
		while (w->rest[s] == '/')
			s++;
		for (e = s; w->rest[e] && w->rest[e] != '/'; e++)
			;
		w->ri = e;
		if (e == s || (e - s == 1 && w->rest[s] == '.'))
			continue;
		if (e - s > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(c, w->rest + s, e - s);
		c[e - s] = '\0';
		for (k = e; w->rest[k] == '/' || (w->rest[k] == '.' && (w->rest[k + 1] == '/' || !w->rest[k + 1])); k++)
			;
		if ((r = walk_step(t, w, c, !w->rest[k], fn, arg)))
			return r;
	}
	fill(f, w->dir);
	f->link = NULL;
	return 0;
}

int filetab_resolve(struct filetab *t, const char *abspath, struct filetab_file *f,
		    filetab_walk_fn fn, void *arg)
{
	struct walk w;	/* not zeroed: 8 KiB per lookup */
	size_t al = strlen(abspath);
	int r;

	t->st.lookups++;
	if (abspath[0] != '/')
		return -EINVAL;
	if (al >= sizeof w.rest)
		return -ENAMETOOLONG;
	memcpy(w.rest, abspath, al + 1);
	w.ri = w.pl = 0;
	w.phys[0] = '\0';
	w.h = HASH_BASIS;
	w.links = 0;
	if ((r = node_check(t, "/", NULL, &w.dir)))
		return r;
	return walk_run(t, &w, f, fn, arg);
}

int filetab_resolve_at(struct filetab *t, const struct filetab_file *dir, const char *rel,
		       struct filetab_file *f, filetab_walk_fn fn, void *arg)
{
	struct walk w;
	struct node *d = dir->node;
	size_t rl = strlen(rel), pl = strlen(d->path);

	t->st.lookups++;
	if (rel[0] == '/' || d->epoch != t->epoch || d->err || !S_ISDIR(d->id.mode))
		return -EINVAL;
	if (rl >= sizeof w.rest || pl >= sizeof w.phys)
		return -ENAMETOOLONG;
	memcpy(w.rest, rel, rl + 1);
	w.ri = 0;
	w.pl = strcmp(d->path, "/") ? pl : 0;
	memcpy(w.phys, d->path, w.pl);
	w.phys[w.pl] = '\0';
	w.h = w.pl ? d->hash : HASH_BASIS;
	w.links = 0;
	w.dir = d;
	return walk_run(t, &w, f, fn, arg);
}

/* Reads and hashes an open regular file; *fid is its identity before the
 * read, *moved set if it changed while read. */
static int read_hash(int fd, struct filetab_id *fid, bool *moved, struct content *c,
		     struct filetab *t)
{
	struct stat st, st2;
	struct filetab_id id2;
	char *p = NULL;
	size_t len = 0;
	int r = 0;

	if (fstat(fd, &st) != 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > FILETAB_MAX_FILE)
		return -EFBIG;
	id_from_stat(fid, &st);
	if (!(p = malloc((size_t)st.st_size + 1)))
		return -ENOMEM;
	for (;;) {
		ssize_t k = read(fd, p + len, (size_t)st.st_size + 1 - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			goto out;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		if (len > (size_t)st.st_size)
			break;	/* grew while read: hashed again next job */
	}
	if (fstat(fd, &st2) != 0) {
		r = -errno;
		goto out;
	}
	id_from_stat(&id2, &st2);
	*moved = !id_eq(fid, &id2) || len != (size_t)st.st_size;
	sha256(p, len, c->c.sha256);
	c->c.size = len;
	c->c.time_macros = len && (memmem(p, len, "__DATE__", 8) || memmem(p, len, "__TIME__", 8) ||
				   memmem(p, len, "__TIMESTAMP__", 13));
	c->c.gas_reads = len && (memmem(p, len, ".incbin", 7) || memmem(p, len, ".include", 8));
	t->st.bytes_hashed += len;
	r = scan_lex(p, len, &c->c.dirs);
out:
	free(p);
	return r;
}

/* Hashes the file of n now: a new content, or an existing racy one of the
 * same identity updated in place. */
static int rehash(struct filetab *t, struct node *n, struct content **out)
{
	struct content tmp = { 0 }, *c;
	struct filetab_id fid;
	bool moved = false;
	int fd, r;

	fd = open(n->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	r = read_hash(fd, &fid, &moved, &tmp, t);
	close(fd);
	if (r)
		return r;
	t->st.rehashes++;
	if (!id_eq(&fid, &n->id)) {
		n->id = fid;	/* changed since lstat: what was read counts */
		moved = true;
	}
	if ((c = content_find(t, &fid))) {
		t->mem -= c->bytes;
		scan_lex_free(&c->c.dirs);
	} else if (!(c = calloc(1, sizeof *c))) {
		scan_lex_free(&tmp.c.dirs);
		return -ENOMEM;
	} else {
		c->id = fid;
		c->hash = hash_id(&fid);
		c->hnext = t->cb[c->hash & (t->cbuckets - 1)];
		t->cb[c->hash & (t->cbuckets - 1)] = c;
		if (++t->ncontents > t->cbuckets)
			content_grow(t);
	}
	c->c = tmp.c;
	c->racy = moved || is_racy(t, &fid);
	c->epoch = t->epoch;
	c->bytes = sizeof *c + scan_lex_bytes(&c->c.dirs);
	t->mem += c->bytes;
	node_set_content(t, n, c);
	*out = c;
	return 0;
}

int filetab_content(struct filetab *t, const struct filetab_file *f,
		    const struct filetab_content **out)
{
	struct node *n = f->node;
	struct content *c = n->content;
	int r;

	if (n->epoch != t->epoch || n->err || !S_ISREG(n->id.mode))
		return n->err ? -n->err : -EINVAL;
	/* only a content of this very identity: the node's old one may have
	 * been hashed again in this job for another path (a rename) */
	if (c && id_eq(&c->id, &n->id) && (c->epoch == t->epoch || !c->racy))
		goto hit;
	if ((c = content_find(t, &n->id)) && (c->epoch == t->epoch || !c->racy)) {
		node_set_content(t, n, c);
		goto hit;
	}
	if (c && c->racy)
		t->st.racy_rehashes++;
	if ((r = rehash(t, n, &c)))
		return r;
	*out = &c->c;
	return 0;
hit:
	t->st.hits++;
	*out = &c->c;
	return 0;
}

bool filetab_mark_get(const struct filetab_file *f, size_t *v)
{
	const struct node *n = f->node;
	if (!n->has_mark || n->mark_epoch != n->epoch)
		return false;
	*v = n->mark;
	return true;
}

void filetab_mark_set(const struct filetab_file *f, size_t v)
{
	struct node *n = f->node;
	n->has_mark = true;
	n->mark_epoch = n->epoch;
	n->mark = v;
}

void filetab_get_stats(const struct filetab *t, struct filetab_stats *s)
{
	*s = t->st;
	s->nodes = t->nnodes;
	s->contents = t->ncontents;
	s->mem = t->mem;
}

void filetab_free(struct filetab *t)
{
	if (!t)
		return;
	while (t->lru.newest)
		node_free(t, node_of(t->lru.newest));
	free(t->nb);
	free(t->cb);
	free(t);
}
