/*
 * tree.c — the manifest's checks and the job tree's assembly (tree.h); the
 * read-set check is in tree_deps.c.
 *
 * Invariants: every path is checked (manifest_add_*: form; manifest_check:
 * the whole) before tree_build() looks at it; tree_build() refuses the
 * mount points that meet the manifest and collects missing blobs before it
 * makes anything; root makes entries only with *at() calls on directory
 * fds it opened itself one checked component at a time (O_NOFOLLOW,
 * openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so no symlink (of the
 * manifest or planted) is ever followed by root.
 */
#include "tree.h"
#include "slots.h"

#include "../lib/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct tree {
	struct store *st;
	const struct manifest *m;
	int dirfd;
	char name[TREE_NAME_MAX + 1];
	bool *pinned;		/* per entry: this tree holds a pin of its blob */
	struct tree_missing miss;	/* blobs not in the store (may repeat) */
	struct tree_stats s;
	const char *rw;		/* the rw dir each_mount() checks against */
};

static int why_set(char *why, size_t len, int err, const char *fmt, ...)
{
	va_list ap;
	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* ---- the manifest ---- */

void manifest_init(struct manifest *m)
{
	memset(m, 0, sizeof *m);
}

void manifest_free(struct manifest *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->e[i].path);
		free(m->e[i].target);
	}
	free(m->e);
	manifest_init(m);
}

/* The form of one path: absolute, no NUL, components neither empty nor
 * "." nor "..", each and all within their caps, not "/" itself. */
static bool path_ok(const char *p, size_t len)
{
	size_t depth = 0, comp = 0;

	if (len < 2 || len >= TREE_PATH_MAX || p[0] != '/' || p[len - 1] == '/' ||
	    memchr(p, 0, len))
		return false;
	for (size_t i = 1; i <= len; i++) {
		if (i < len && p[i] != '/') {
			comp++;
			continue;
		}
		const char *c = p + i - comp;
		if (comp == 0 || comp > TREE_NAME_MAX || (comp == 1 && c[0] == '.') ||
		    (comp == 2 && c[0] == '.' && c[1] == '.') || ++depth > TREE_MAX_DEPTH)
			return false;
		comp = 0;
	}
	return true;
}

static int add(struct manifest *m, enum tree_kind k, const char *path, size_t plen,
	       const char *tgt, size_t tlen)
{
	struct tree_entry *e;

	if (m->n >= TREE_MAX_ENTRIES)
		return -E2BIG;
	if (!path_ok(path, plen))
		return -EINVAL;
	if (k == TREE_LINK && (tlen == 0 || tlen >= TREE_PATH_MAX || memchr(tgt, 0, tlen)))
		return -EINVAL;
	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 256;
		struct tree_entry *ne = realloc(m->e, nc * sizeof *ne);
		if (!ne)
			return -ENOMEM;
		m->e = ne;
		m->cap = nc;
	}
	e = &m->e[m->n];
	memset(e, 0, sizeof *e);
	e->kind = k;
	e->path = strndup(path, plen);
	e->target = k == TREE_LINK ? strndup(tgt, tlen) : NULL;
	if (!e->path || (k == TREE_LINK && !e->target)) {
		free(e->path);
		free(e->target);
		return -ENOMEM;
	}
	m->n++;
	m->checked = false;
	return 0;
}

int manifest_add_file(struct manifest *m, const char *path, size_t plen,
		      const uint8_t hash[static STORE_HASH_LEN], uint64_t size, uint32_t mode)
{
	int r;

	if ((mode & ~0777u) || size > STORE_BLOB_MAX)
		return -EINVAL;
	if ((r = add(m, TREE_FILE, path, plen, NULL, 0)))
		return r;
	memcpy(m->e[m->n - 1].hash, hash, STORE_HASH_LEN);
	m->e[m->n - 1].size = size;
	m->e[m->n - 1].mode = mode;
	m->bytes += size;
	return 0;
}

int manifest_add_link(struct manifest *m, const char *path, size_t plen, const char *target,
		      size_t tlen)
{
	return add(m, TREE_LINK, path, plen, target, tlen);
}

int manifest_add_dir(struct manifest *m, const char *path, size_t plen)
{
	return add(m, TREE_DIR, path, plen, NULL, 0);
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct tree_entry *)a)->path, ((const struct tree_entry *)b)->path);
}

static const struct tree_entry *find_n(const struct manifest *m, const char *p, size_t len)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *q = m->e[mid].path;
		int c = strncmp(q, p, len);
		if (c == 0)
			c = q[len] ? 1 : 0;
		if (c == 0)
			return &m->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct tree_entry *manifest_find(const struct manifest *m, const char *path)
{
	return m->checked ? find_n(m, path, strlen(path)) : NULL;
}

/* The first ancestor of p (a proper "/"-prefix) that is no directory in
 * m, or NULL. */
static const struct tree_entry *blocking_ancestor(const struct manifest *m, const char *p)
{
	for (const char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		const struct tree_entry *e = find_n(m, p, (size_t)(s - p));
		if (e && e->kind != TREE_DIR)
			return e;
	}
	return NULL;
}

/* Some entry strictly below dir p? (They sort together from p + "/".) */
static bool has_below(const struct manifest *m, const char *p)
{
	size_t lo = 0, hi = m->n, l = strlen(p);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strncmp(m->e[mid].path, p, l);
		if (c == 0)
			c = (unsigned char)m->e[mid].path[l] < '/' ? -1 : m->e[mid].path[l] == '/' ? 0 : 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->n && !strncmp(m->e[lo].path, p, l) && m->e[lo].path[l] == '/';
}

int manifest_check(struct manifest *m, char *why, size_t whylen)
{
	if (m->bytes > TREE_MAX_BYTES)
		return why_set(why, whylen, -E2BIG, "manifest: %llu bytes of files, cap %llu",
			       (unsigned long long)m->bytes, (unsigned long long)TREE_MAX_BYTES);
	if (m->n)
		qsort(m->e, m->n, sizeof *m->e, by_path);
	m->checked = true;
	for (size_t i = 0; i < m->n; i++) {
		const struct tree_entry *b;
		if (i && !strcmp(m->e[i - 1].path, m->e[i].path))
			goto bad_dup;
		if ((b = blocking_ancestor(m, m->e[i].path))) {
			m->checked = false;
			return why_set(why, whylen, -EINVAL, "manifest: %s goes through the %s %s",
				       m->e[i].path, b->kind == TREE_LINK ? "symlink" : "file",
				       b->path);
		}
		continue;
bad_dup:
		m->checked = false;
		return why_set(why, whylen, -EINVAL, "manifest: %s twice", m->e[i].path);
	}
	return 0;
}

/* ---- directories under the tree, for root ---- */

/* One component under dfd: made (0755, when mk) and opened as a directory,
 * never through a symlink. fd or -errno. */
static int open_sub(int dfd, const char *comp, bool mk)
{
	struct open_how how = { .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
					   RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV };
	bool made = false;
	long fd;

	for (int tries = 0;; tries++) {
		fd = syscall(SYS_openat2, dfd, comp, &how, sizeof how);
		if (fd < 0 && errno == ENOSYS)
			fd = openat(dfd, comp, (int)how.flags);
		if (fd >= 0 || errno != ENOENT || !mk || tries)
			break;
		made = mkdirat(dfd, comp, 0755) == 0;	/* then open what is there */
		if (!made && errno != EEXIST)
			return -errno;
	}
	if (fd < 0)
		return -errno;
	if (made && fchmod((int)fd, 0755)) {	/* whatever the umask */
		int e = -errno;
		close((int)fd);
		return e;
	}
	return (int)fd;
}

/* The open directories from the tree's root down to one dir: fd[0] the
 * root; fd[i] the dir ending at path[end[i]]. */
struct dstack {
	int fd[TREE_MAX_DEPTH + 1];
	size_t end[TREE_MAX_DEPTH + 1];
	int depth;
	char path[TREE_PATH_MAX];
};

static void ds_pop_to(struct dstack *d, int depth)
{
	while (d->depth > depth)
		close(d->fd[d->depth--]);
	d->path[d->end[d->depth]] = 0;
}

/* Makes d the directory p[0..len) (an absolute checked path, "" = root):
 * keeps the common part open, makes and opens the rest. 0 or -errno. */
static int ds_go(struct dstack *d, const char *p, size_t len)
{
	int keep = 0;
	size_t at;

	for (int i = 1; i <= d->depth; i++) {
		size_t e = d->end[i];
		if (e <= len && !memcmp(d->path, p, e) && (e == len || p[e] == '/'))
			keep = i;
		else
			break;
	}
	ds_pop_to(d, keep);
	at = d->end[keep];
	while (at < len) {
		const char *c = p + at + 1, *s = memchr(c, '/', len - at - 1);
		size_t cl = s ? (size_t)(s - c) : len - at - 1;
		char comp[TREE_NAME_MAX + 1];
		int fd;
		memcpy(comp, c, cl);
		comp[cl] = 0;
		if (d->depth >= (int)TREE_MAX_DEPTH)
			return -ENAMETOOLONG;
		if ((fd = open_sub(d->fd[d->depth], comp, true)) < 0)
			return fd;
		d->fd[++d->depth] = fd;
		memcpy(d->path + at, p + at, cl + 1);
		at += cl + 1;
		d->end[d->depth] = at;
		d->path[at] = 0;
	}
	return 0;
}

/* ---- the entries ---- */

/* A copy of the blob (the store on another filesystem: -EXDEV). */
static int copy_blob(struct tree *t, const struct tree_entry *e, int dfd, const char *leaf,
		     uint64_t *sizep)
{
	uint64_t size, off = 0;
	int in = store_get(t->st, e->hash, &size), out, r = 0;
	mode_t mode = e->mode & 0111 ? 0555 : 0444;

	if (in < 0)
		return in;
	*sizep = size;
	out = openat(dfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		r = -errno;
		goto done;
	}
	while (off < size && !r) {
		char buf[65536];
		ssize_t n = pread(in, buf, sizeof buf, (off_t)off);
		if (n <= 0)
			r = n < 0 ? -errno : -EIO;
		else if ((r = write_full(out, buf, (size_t)n)) == 0)
			off += (uint64_t)n;
	}
	if (!r && fchmod(out, mode))
		r = -errno;
	close(out);
	t->s.copied++;
done:
	close(in);
	return r;
}

/* A file: its verified blob linked (or copied) and pinned; a blob the
 * store lacks is listed, not made. 0 or -errno. */
static int make_file(struct tree *t, size_t i, int dfd, const char *leaf)
{
	const struct tree_entry *e = &t->m->e[i];
	uint64_t size = 0;
	int r;

	t->s.files++;
	t->s.bytes += e->size;
	/* exec bits: the blob's 0555 variant (store.h), made once per store */
	r = e->mode & 0111 ? store_link_exec(t->st, e->hash, dfd, leaf, &size)
			   : store_link(t->st, e->hash, dfd, leaf, &size);
	if (r == 0)
		t->s.linked++;
	else if (r == -EXDEV || ((e->mode & 0111) && (r == -EACCES || r == -EPERM || r == -EROFS)))
		r = copy_blob(t, e, dfd, leaf, &size);	/* or no .x could be made here */
	if (r == -ENOENT) {
		void *nv = realloc(t->miss.hash, (t->miss.n + 1) * STORE_HASH_LEN);
		if (!nv)
			return -ENOMEM;
		t->miss.hash = nv;
		memcpy(t->miss.hash[t->miss.n++], e->hash, STORE_HASH_LEN);
		return 0;
	}
	if (r)
		return r;
	t->pinned[i] = store_pin(t->st, e->hash) == 0;
	return size == e->size ? 0 : -EBADMSG;	/* the manifest lied about its size */
}

static int make_entry(struct tree *t, struct dstack *d, size_t i)
{
	const struct tree_entry *e = &t->m->e[i];
	const char *leaf = strrchr(e->path, '/');
	int r = ds_go(d, e->path, (size_t)(leaf - e->path)), dfd = d->fd[d->depth];

	leaf++;
	if (r)
		return r;
	switch (e->kind) {
	case TREE_FILE:
		return make_file(t, i, dfd, leaf);
	case TREE_LINK:
		t->s.links++;
		return symlinkat(e->target, dfd, leaf) ? -errno : 0;
	case TREE_DIR:
		t->s.dirs++;
		r = open_sub(dfd, leaf, true);
		if (r >= 0)
			close(r);
		return r < 0 ? r : 0;
	}
	return -EINVAL;
}

/* ---- mount points ---- */

/* The mount points of a tree: each path of ro, the job dir, the sandbox's
 * /dev nodes and /proc, one at a time through fn. 0 or fn's error. */
typedef int (*mount_fn)(struct tree *, struct dstack *, const char *, bool dir, char *,
			size_t);

static int each_mount(const struct tree_req *req, mount_fn fn,
		      struct tree *t, struct dstack *d, char *why, size_t whylen)
{
	static const char *const fixed[] = { "/dev/null", "/dev/zero", "/dev/full",
					     "/dev/random", "/dev/urandom", "/proc" };
	const char *ro = req->ro_paths;
	char p[TREE_PATH_MAX];
	int r;

	while (*ro) {
		const char *e = strchr(ro, ':');
		size_t l = e ? (size_t)(e - ro) : strlen(ro);
		if (l >= sizeof p)
			return why_set(why, whylen, -ENAMETOOLONG, "toolchain path too long");
		memcpy(p, ro, l);
		p[l] = 0;
		if (l && (r = fn(t, d, p, false, why, whylen)))
			return r;
		ro += l + (e ? 1 : 0);
	}
	if (req->job_dir && (r = fn(t, d, req->job_dir, true, why, whylen)))
		return r;
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if ((r = fn(t, d, fixed[i], false, why, whylen)))
			return r;
	return 0;
}

/* Refuses a mount point the manifest meets (before anything is made). */
static int mount_conflict(struct tree *t, struct dstack *d, const char *p, bool dir,
			  char *why, size_t whylen)
{
	const struct tree_entry *e;
	struct stat sb;

	(void)d;
	if (!path_ok(p, strlen(p)))
		return why_set(why, whylen, -EINVAL, "mount point %s: not a clean absolute path", p);
	if ((e = blocking_ancestor(t->m, p)) || (e = find_n(t->m, p, strlen(p))))
		if (e->kind != TREE_DIR || strcmp(e->path, p))
			return why_set(why, whylen, -EPERM, "manifest %s %s meets the sandbox's %s",
				       e->kind == TREE_LINK ? "symlink" : "entry", e->path, p);
	if ((dir || (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))) && has_below(t->m, p))
		return why_set(why, whylen, -EPERM, "the board's dir %s would hide manifest files",
			       p);
	return 0;
}

/* Makes the mount point of board path p: its dirs, then a dir, an empty
 * file or the same symlink as on the board (absent here: nothing; dir:
 * a dir whatever the board has now). */
static int make_mount(struct tree *t, struct dstack *d, const char *p, bool dir, char *why,
		      size_t whylen)
{
	const char *leaf = strrchr(p, '/');
	struct stat sb;
	char tgt[TREE_PATH_MAX];
	int r, fd;

	if (dir)
		sb.st_mode = S_IFDIR;
	else if (lstat(p, &sb))
		return 0;
	if ((r = ds_go(d, p, (size_t)(leaf - p))))
		return why_set(why, whylen, r, "mount point %s: %s", p, strerror(-r));
	leaf++;
	t->s.mounts++;
	if (S_ISDIR(sb.st_mode)) {
		fd = open_sub(d->fd[d->depth], leaf, true);
		r = fd < 0 ? fd : (close(fd), 0);
	} else if (S_ISLNK(sb.st_mode)) {
		ssize_t n = readlink(p, tgt, sizeof tgt - 1);
		tgt[n < 0 ? 0 : n] = 0;
		r = n <= 0 ? -EINVAL
		    : symlinkat(tgt, d->fd[d->depth], leaf) && errno != EEXIST ? -errno : 0;
	} else {
		fd = openat(d->fd[d->depth], leaf, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
			    0644);
		r = fd < 0 ? -errno : (close(fd), 0);
	}
	return r ? why_set(why, whylen, r, "mount point %s: %s", p, strerror(-r)) : 0;
}

/* ---- the job's own dirs ---- */

/* A rw dir must neither be, hold nor lie under a mount point p. */
static int rw_conflict(struct tree *t, struct dstack *d, const char *p, bool dir, char *why,
		       size_t whylen)
{
	size_t a = strlen(t->rw), b = strlen(p), n = a < b ? a : b;

	(void)d;
	(void)dir;
	if (!memcmp(t->rw, p, n) && (a == b || (a < b ? p[a] : t->rw[b]) == '/'))
		return why_set(why, whylen, -EPERM, "writable dir %s meets the sandbox's %s",
			       t->rw, p);
	return 0;
}

/* tree_req's mk_dirs, then its rw_dirs given to the job's ids. */
static int make_own_dirs(struct tree *t, const struct tree_req *req, struct dstack *d,
			 char *why, size_t whylen)
{
	for (int pass = 0; pass < 2; pass++) {
		const char *const *v = pass ? req->rw_dirs : req->mk_dirs;
		for (; v && *v; v++) {
			const char *p = *v;
			const struct tree_entry *e;
			int r;
			if (!path_ok(p, strlen(p)))
				return why_set(why, whylen, -EINVAL, "dir %s: not a clean absolute path", p);
			if ((e = blocking_ancestor(t->m, p)) ||
			    ((e = find_n(t->m, p, strlen(p))) && e->kind != TREE_DIR))
				return why_set(why, whylen, -EPERM, "dir %s meets manifest %s", p, e->path);
			t->rw = p;
			if (pass && (r = each_mount(req, rw_conflict, t, d, why, whylen)))
				return r;
			if ((r = ds_go(d, p, strlen(p))))
				return why_set(why, whylen, r, "dir %s: %s", p, strerror(-r));
			if (pass && (fchown(d->fd[d->depth], req->rw_uid, req->rw_gid) ||
				     fchmod(d->fd[d->depth], 0755)))
				return why_set(why, whylen, -errno, "dir %s: %s", p, strerror(errno));
		}
	}
	return 0;
}

/* ---- the build ---- */

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int by_hash(const void *a, const void *b)
{
	return memcmp(a, b, STORE_HASH_LEN);
}

/* The missing list, each hash once, handed to the caller. */
static size_t give_missing(struct tree *t, struct tree_missing *miss)
{
	size_t n = 0;

	if (t->miss.n)
		qsort(t->miss.hash, t->miss.n, STORE_HASH_LEN, by_hash);
	for (size_t i = 0; i < t->miss.n; i++)
		if (!n || memcmp(t->miss.hash[n - 1], t->miss.hash[i], STORE_HASH_LEN))
			memmove(t->miss.hash[n++], t->miss.hash[i], STORE_HASH_LEN);
	if (miss) {
		miss->hash = t->miss.hash;
		miss->n = n;
	} else {
		free(t->miss.hash);
	}
	t->miss = (struct tree_missing){ 0 };
	return n;
}

/* The tree itself, one lookup per file (the missing case, rare, is
 * undone by the caller), then the mount points. */
static int assemble(struct tree *t, const struct tree_req *req, char *why, size_t whylen)
{
	struct dstack d = { .depth = 0 };
	int r = 0;

	d.fd[0] = open_sub(req->dirfd, req->name, false);
	if (d.fd[0] < 0)
		return why_set(why, whylen, d.fd[0], "tree dir: %s", strerror(-d.fd[0]));
	d.path[0] = 0;
	for (size_t i = 0; i < t->m->n && !r; i++)
		if ((r = make_entry(t, &d, i)))
			why_set(why, whylen, r, "%s: %s", t->m->e[i].path,
				r == -EBADMSG ? "size differs from its blob" : strerror(-r));
	if (!r && t->miss.n)
		r = why_set(why, whylen, -ENOENT, "%zu files' blobs missing", t->miss.n);
	if (!r)
		r = each_mount(req, make_mount, t, &d, why, whylen);
	if (!r)
		r = make_own_dirs(t, req, &d, why, whylen);
	ds_pop_to(&d, 0);
	close(d.fd[0]);
	return r;
}

int tree_build(const struct tree_req *req, struct tree **out, struct tree_missing *miss,
	       char *why, size_t whylen)
{
	struct tree *t;
	uint64_t t0 = now_us();
	int r;

	if (miss)
		*miss = (struct tree_missing){ 0 };
	if (!req->m->checked || !req->ro_paths || strlen(req->name) > TREE_NAME_MAX ||
	    strchr(req->name, '/') || !strcmp(req->name, ".") || !strcmp(req->name, ".."))
		return why_set(why, whylen, -EINVAL, "tree_build: bad request");
	if (!(t = calloc(1, sizeof *t)) || !(t->pinned = calloc(req->m->n + 1, sizeof *t->pinned))) {
		free(t);
		return -ENOMEM;
	}
	t->st = req->store;
	t->m = req->m;
	t->dirfd = req->dirfd;
	strcpy(t->name, req->name);
	if ((r = each_mount(req, mount_conflict, t, NULL, why, whylen)))
		goto fail;
	if (mkdirat(req->dirfd, req->name, 0755) || fchmodat(req->dirfd, req->name, 0755, 0)) {
		r = why_set(why, whylen, -errno, "tree dir %s: %s", req->name, strerror(errno));
		goto fail;
	}
	/* shared: no process evicts between a blob's check and its link */
	if ((r = store_lock_shared(t->st))) {
		tree_release(t);
		return r;
	}
	r = assemble(t, req, why, whylen);
	store_unlock(t->st);
	if (r) {
		give_missing(t, r == -ENOENT ? miss : NULL);
		tree_release(t);	/* nothing is left of it */
		return r;
	}
	t->s.build_us = now_us() - t0;
	*out = t;
	return 0;
fail:
	free(t->pinned);
	free(t);
	return r;
}

const struct tree_stats *tree_stats(const struct tree *t)
{
	return &t->s;
}

void tree_release(struct tree *t)
{
	int fd;

	if (!t)
		return;
	fd = open_sub(t->dirfd, t->name, false);
	if (fd >= 0) {
		slots_empty_dir(fd);
		close(fd);
		unlinkat(t->dirfd, t->name, AT_REMOVEDIR);
	}
	for (size_t i = 0; i < t->m->n; i++)
		if (t->pinned[i])
			store_unpin(t->st, t->m->e[i].hash);
	free(t->pinned);
	free(t->miss.hash);
	free(t);
}
