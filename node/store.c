/*
 * store.c — the board's content-addressed store (store.h).
 *
 * The index is a chained hash table of struct blob (keyed by the first 8
 * bytes of the SHA-256, already uniform) threaded on one LRU list
 * (lib/lru.h: newest .. oldest). Everything on disk is reached through
 * st->objfd with names "xx/<hex>" that this file builds itself (never from
 * input), opened with O_NOFOLLOW. A blob is trusted only when this process
 * hashed its bytes: written here, or re-hashed at first use per (inode,
 * mtime, size).
 */
#include "store.h"
#include "store_int.h"

#include "../lib/buf.h"
#include "../lib/lru.h"
#include "../lib/sha256.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- names and hashing ---- */

void store_hex(const uint8_t hash[static STORE_HASH_LEN], char hex[static 65])
{
	sha256_hex(hash, STORE_HASH_LEN, hex);
}

static int nib(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int store_from_hex(const char *hex, uint8_t hash[static STORE_HASH_LEN])
{
	for (int i = 0; i < STORE_HASH_LEN; i++) {
		int a = nib(hex[2 * i]), b = a < 0 ? -1 : nib(hex[2 * i + 1]);
		if (a < 0 || b < 0)
			return -EINVAL;
		hash[i] = (uint8_t)(a << 4 | b);
	}
	return hex[64] ? -EINVAL : 0;
}

/* "xx/<hex>" relative to objfd. */
void st_blob_name(const uint8_t *hash, char name[static 68])
{
	char hex[65];
	store_hex(hash, hex);
	memcpy(name, hex, 2);
	name[2] = '/';
	memcpy(name + 3, hex, 65);
}

static int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static uint64_t ts_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

/* SHA-256 of everything fd holds from offset 0: 0, or -errno. */
int st_hash_fd(int fd, uint8_t out[static STORE_HASH_LEN], uint64_t *len)
{
	uint8_t tmp[1 << 16];
	struct sha256 s;
	uint64_t off = 0;

	sha256_init(&s);
	for (;;) {
		ssize_t r = pread(fd, tmp, sizeof tmp, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		sha256_update(&s, tmp, (size_t)r);
		off += (uint64_t)r;
	}
	sha256_final(&s, out);
	*len = off;
	return 0;
}

/* ---- the index ---- */

static size_t slot_of(const struct store *st, const uint8_t *hash)
{
	uint64_t k;
	memcpy(&k, hash, sizeof k);
	return (size_t)k & (st->tabsz - 1);
}

struct blob *st_find(const struct store *st, const uint8_t *hash)
{
	for (struct blob *b = st->tab[slot_of(st, hash)]; b; b = b->next)
		if (!memcmp(b->hash, hash, STORE_HASH_LEN))
			return b;
	return NULL;
}

static struct blob *blob_of(struct lru_node *e)
{
	return e ? LRU_ENTRY(e, struct blob, lru) : NULL;
}

static int grow(struct store *st)
{
	size_t nsz = st->tabsz ? st->tabsz * 2 : 1024;
	struct blob **nt = calloc(nsz, sizeof *nt);

	if (!nt)
		return -ENOMEM;
	for (size_t i = 0; i < st->tabsz; i++)
		for (struct blob *b = st->tab[i], *nx; b; b = nx) {
			uint64_t k;
			nx = b->next;
			memcpy(&k, b->hash, sizeof k);
			b->next = nt[(size_t)k & (nsz - 1)];
			nt[(size_t)k & (nsz - 1)] = b;
		}
	free(st->tab);
	st->tab = nt;
	st->tabsz = nsz;
	return 0;
}

/* A new index entry at the MRU end (the caller fixes its place). */
struct blob *st_add(struct store *st, const uint8_t *hash, const struct stat *sb)
{
	struct blob *b;

	if (st->n >= st->tabsz && grow(st))
		return NULL;
	b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	memcpy(b->hash, hash, STORE_HASH_LEN);
	b->size = (uint64_t)sb->st_size;
	b->ino = (uint64_t)sb->st_ino;
	b->mtime_ns = ts_ns(&sb->st_mtim);
	b->used = (int64_t)ts_ns(&sb->st_atim);
	b->gen = st->gen;
	b->next = st->tab[slot_of(st, hash)];
	st->tab[slot_of(st, hash)] = b;
	lru_push_newest(&st->lru, &b->lru);
	st->n++;
	st->s.blobs++;
	st->s.bytes += b->size;
	return b;
}

void st_drop(struct store *st, struct blob *b)
{
	struct blob **pp = &st->tab[slot_of(st, b->hash)];

	while (*pp != b)
		pp = &(*pp)->next;
	*pp = b->next;
	lru_remove(&st->lru, &b->lru);
	st->n--;
	st->s.blobs--;
	st->s.bytes -= b->size + (b->has_x ? b->xsize : 0);
	if (b->pins)
		st->s.pinned--;
	free(b);
}

/* Marks b used now: MRU in memory; its atime is written by
 * store_sync_lru() (batched: a blob used by many jobs costs one write). */
void st_touch(struct store *st, struct blob *b)
{
	/* explicit ns (the kernel's own "now" is jiffy-coarse): one order */
	int64_t t = now_ns();
	struct blob *m = blob_of(st->lru.newest);

	if (m && t <= m->used)
		t = m->used + 1;
	b->used = t;
	b->dirty = true;
	lru_touch(&st->lru, &b->lru);
}

uint64_t store_sync_lru(struct store *st)
{
	uint64_t n = 0;

	for (struct blob *b = blob_of(st->lru.newest); b; b = blob_of(b->lru.older)) {
		char name[68];
		struct timespec ts[2] = {
			{ (time_t)(b->used / 1000000000), (long)(b->used % 1000000000) },
			{ 0, UTIME_OMIT } };
		if (!b->dirty)
			continue;
		st_blob_name(b->hash, name);
		/* best effort: the order across restarts, not correctness */
		if (utimensat(st->objfd, name, ts, AT_SYMLINK_NOFOLLOW) == 0)
			n++;
		b->dirty = false;
	}
	return n;
}

/* Updates the index from what is on disk now (blob's new size/inode
 * forget its verification). */
void st_refresh(struct store *st, struct blob *b, const struct stat *sb)
{
	uint64_t m = ts_ns(&sb->st_mtim);

	if (b->ino != (uint64_t)sb->st_ino || b->mtime_ns != m || b->size != (uint64_t)sb->st_size)
		b->verified = false;
	st->s.bytes = st->s.bytes - b->size + (uint64_t)sb->st_size;
	b->size = (uint64_t)sb->st_size;
	b->ino = (uint64_t)sb->st_ino;
	b->mtime_ns = m;
}

static int by_used(const void *a, const void *b)
{
	const struct blob *x = *(struct blob *const *)a, *y = *(struct blob *const *)b;
	return x->used < y->used ? 1 : x->used > y->used ? -1 : 0;
}

/* Puts the LRU list in atime order (newest first). */
static int sort_lru(struct store *st)
{
	struct blob **v = malloc((st->n ? st->n : 1) * sizeof *v);
	size_t k = 0;

	if (!v)
		return -ENOMEM;
	for (struct blob *b = blob_of(st->lru.newest); b; b = blob_of(b->lru.older))
		v[k++] = b;
	qsort(v, k, sizeof *v, by_used);
	lru_init(&st->lru);
	for (size_t i = 0; i < k; i++)
		lru_push_oldest(&st->lru, &v[i]->lru);
	free(v);
	return 0;
}

/* One fan-out dir of the rescan. */
static int scan_sub(struct store *st, int sub)
{
	char xx[3];
	uint8_t hash[STORE_HASH_LEN];
	int fd;
	DIR *d;
	struct dirent *de;

	snprintf(xx, sizeof xx, "%02x", sub);
	fd = openat(st->objfd, xx, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;	/* no blob there yet */
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		struct stat sb;
		struct blob *b;
		char hex[65];
		size_t l = strlen(de->d_name);
		memcpy(hex, de->d_name, 64 < l ? 64 : l);
		hex[64 < l ? 64 : l] = 0;
		if ((l != 64 && (l != 66 || strcmp(de->d_name + 64, ".x"))) ||
		    store_from_hex(hex, hash) || memcmp(de->d_name, xx, 2))
			continue;	/* not a blob name */
		if (l == 66) {		/* an executable variant */
			if (st_scan_x(st, dirfd(d), de->d_name, hash)) {
				closedir(d);
				return -ENOMEM;
			}
			continue;
		}
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) || !S_ISREG(sb.st_mode))
			continue;
		if ((b = st_find(st, hash))) {
			st_refresh(st, b, &sb);
			b->gen = st->gen;
		} else if (!(b = st_add(st, hash, &sb))) {
			closedir(d);
			return -ENOMEM;
		}
	}
	closedir(d);
	return 0;
}

/* The index from the directory: adds what is new, drops what is gone. */
static int rescan(struct store *st)
{
	int r;

	st->gen++;
	for (int i = 0; i < 256; i++)
		if ((r = scan_sub(st, i)))
			return r;
	for (struct blob *b = blob_of(st->lru.newest), *nx; b; b = nx) {
		nx = blob_of(b->lru.older);
		if (b->gen != st->gen)
			st_drop(st, b);
		else if (b->has_x && b->xgen != st->gen)
			st_x_set(st, b, NULL);	/* its .x is gone */
	}
	return sort_lru(st);
}

/* ---- open/close ---- */

static int mkdir_p(const char *path)
{
	char p[PATH_MAX];
	size_t l = strlen(path);

	if (l == 0 || l >= sizeof p)
		return -ENAMETOOLONG;
	memcpy(p, path, l + 1);
	for (char *s = p + 1;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		*s = 0;
		if (mkdir(p, 0755) && errno != EEXIST)
			return -errno;
		*s = c;
		if (!c)
			return 0;
	}
}

static int open_dirs(struct store *st)
{
	int dfd, r;

	if ((r = mkdir_p(st->dir)))
		return r;
	dfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (mkdirat(dfd, "objects", 0755) && errno != EEXIST) {
		r = -errno;
		goto out;
	}
	st->objfd = openat(dfd, "objects", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	st->lockfd = openat(dfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (st->objfd < 0 || st->lockfd < 0) {
		r = -errno;
		goto out;
	}
	r = 0;	/* the fan-out dirs are made at their first blob */
	st_vset_open(st, dfd);
out:
	close(dfd);
	return r;
}

int store_open(const struct store_cfg *cfg, struct store **out)
{
	struct store *st = calloc(1, sizeof *st);
	const char *dir = cfg && cfg->dir ? cfg->dir : STORE_DIR_DEFAULT;
	int r;

	if (!st)
		return -ENOMEM;
	st->objfd = st->lockfd = st->vfd = -1;
	st->cap = cfg && cfg->cap_bytes ? cfg->cap_bytes : STORE_CAP_DEFAULT;
	st->durable = cfg && cfg->durable;
	st->lookup_only = cfg && cfg->lookup_only;
	if (dir[0] != '/' || strlen(dir) >= sizeof st->dir) {
		r = -EINVAL;
		goto fail;
	}
	strcpy(st->dir, dir);
	if ((r = open_dirs(st)) || (r = grow(st)))
		goto fail;
	if (st->lookup_only) {
		*out = st;
		return 0;
	}
	if (flock(st->lockfd, LOCK_SH)) {
		r = -errno;
		goto fail;
	}
	r = rescan(st);
	flock(st->lockfd, LOCK_UN);
	if (r)
		goto fail;
	*out = st;
	return 0;
fail:
	store_close(st);
	return r;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	store_sync_lru(st);
	while (st->lru.newest)
		st_drop(st, blob_of(st->lru.newest));
	free(st->tab);
	if (st->objfd >= 0)
		close(st->objfd);
	if (st->lockfd >= 0)
		close(st->lockfd);
	st_vset_close(st);
	free(st);
}

/* ---- eviction ---- */

int store_lock_shared(struct store *st)
{
	if (st->shared++ == 0 && flock(st->lockfd, LOCK_SH)) {
		st->shared = 0;
		return -errno;
	}
	return 0;
}

void store_unlock(struct store *st)
{
	if (st->shared > 0 && --st->shared == 0)
		flock(st->lockfd, LOCK_UN);
}

uint64_t store_evict_to(struct store *st, uint64_t target)
{
	uint64_t n = 0;

	if (st->lookup_only || flock(st->lockfd, LOCK_EX))
		return 0;
	st->evicting = true;	/* the rescan removes orphan .x names */
	if (rescan(st))
		goto out;
	for (struct blob *b = blob_of(st->lru.oldest), *pv; b && st->s.bytes > target; b = pv) {
		char name[68];
		struct stat sb;
		pv = blob_of(b->lru.newer);
		if (b->pins)
			continue;
		st_blob_name(b->hash, name);
		if (fstatat(st->objfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && sb.st_nlink > 1)
			continue;	/* a job tree (of any process) links it */
		if (st_evict_x(st, b))
			continue;	/* its .x is linked (or could not go): both stay */
		if (unlinkat(st->objfd, name, 0) && errno != ENOENT)
			continue;
		st_drop(st, b);
		st->s.evictions++;
		n++;
	}
out:
	st->evicting = false;
	flock(st->lockfd, st->shared ? LOCK_SH : LOCK_UN);
	return n;
}

/* ---- lookups ---- */

/* Deletes the blob named name if it is still the inode found corrupt. */
void st_delete_corrupt(struct store *st, const char *name, ino_t ino)
{
	struct stat sb;

	if (fstatat(st->objfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && sb.st_ino == ino)
		unlinkat(st->objfd, name, 0);
	st->s.corrupt++;
}

/* The verified blob's fd or -ENOENT (missing, or corrupt: deleted). */
int st_lookup(struct store *st, const uint8_t *hash, struct blob **bp)
{
	char name[68];
	struct blob *b = st_find(st, hash);
	struct stat sb;
	int fd, r;

	st_blob_name(hash, name);
	fd = openat(st->objfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		r = fd < 0 && errno != ENOENT ? -errno : -ENOENT;
		if (fd >= 0)
			close(fd);
		if (b)
			st_drop(st, b);
		return r;
	}
	if (b)
		st_refresh(st, b, &sb);
	else if (!(b = st_add(st, hash, &sb))) {
		close(fd);
		return -ENOMEM;
	}
	if ((r = st_verify(st, fd, hash, &sb, &b->verified)) <= 0) {
		close(fd);
		if (r < 0)
			return r;
		st_delete_corrupt(st, name, sb.st_ino);
		st_drop(st, b);
		return -ENOENT;
	}
	*bp = b;
	return fd;
}

int st_verify(struct store *st, int fd, const uint8_t hash[static STORE_HASH_LEN],
	      const struct stat *sb, bool *verified)
{
	uint8_t got[STORE_HASH_LEN];
	uint64_t len;
	int r;

	if (!*verified && st_vset_known(st, hash, sb)) {
		*verified = true;	/* hashed sound by another process of this run */
		st->s.trusted++;
	}
	if (*verified)
		return 1;
	if ((r = st_hash_fd(fd, got, &len)) < 0)
		return r;
	st->s.verified_bytes += len;
	if (memcmp(got, hash, STORE_HASH_LEN) || len != (uint64_t)sb->st_size)
		return 0;
	*verified = true;
	st_vset_add(st, hash, sb);
	return 1;
}

int store_get(struct store *st, const uint8_t hash[static STORE_HASH_LEN], uint64_t *size)
{
	struct blob *b = NULL;
	int fd = st_lookup(st, hash, &b);

	if (fd < 0) {
		st->s.misses++;
		return fd;
	}
	st->s.hits++;
	st_touch(st, b);
	if (size)
		*size = b->size;
	return fd;
}

/* Links the file open as fd as dirfd/name: 0 or -errno. */
int st_link_fd(int fd, int dirfd, const char *name)
{
	char proc[64];

	/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc/self/fd does not */
	if (linkat(fd, "", dirfd, name, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != ENOENT && errno != EPERM)
		return -errno;
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW) ? -errno : 0;
}

int store_link(struct store *st, const uint8_t hash[static STORE_HASH_LEN], int dirfd,
	       const char *name, uint64_t *size)
{
	int fd = store_get(st, hash, size), r;

	if (fd < 0)
		return fd;
	r = st_link_fd(fd, dirfd, name);
	close(fd);
	return r;
}

size_t store_have(struct store *st, const uint8_t (*hashes)[STORE_HASH_LEN], size_t n,
		  bool *have)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		char name[68];
		struct stat sb;
		struct blob *b = st_find(st, hashes[i]);
		st_blob_name(hashes[i], name);
		have[i] = fstatat(st->objfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
			  S_ISREG(sb.st_mode);
		if (have[i] && b)
			st_refresh(st, b, &sb);
		else if (have[i])
			b = st_add(st, hashes[i], &sb);	/* another process's: now indexed */
		else if (b)
			st_drop(st, b);
		if (have[i] && b) {	/* its .x (a worker's, maybe): counted */
			char xn[70];
			st_x_name(hashes[i], xn);
			bool x = fstatat(st->objfd, xn, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
				 S_ISREG(sb.st_mode);
			st_x_set(st, b, x ? &sb : NULL);
		}
		k += have[i];
	}
	return k;
}

/* ---- insertion ---- */

/* Writes data as a new file linked at name (O_TMPFILE: never seen partial;
 * a named temp + rename where the filesystem has no O_TMPFILE). Returns
 * the written file's fd or -errno; -EEXIST when another writer was first. */
static int write_blob(struct store *st, const char *name, const void *data, size_t len)
{
	char sub[3] = { name[0], name[1], 0 }, proc[64], tmp[96];
	int fd = openat(st->objfd, sub, O_TMPFILE | O_RDWR | O_CLOEXEC, 0444), r;
	bool named = false;

	if (fd < 0 && errno == ENOENT) {	/* the fan-out dir's first blob */
		if (mkdirat(st->objfd, sub, 0755) && errno != EEXIST)
			return -errno;
		fd = openat(st->objfd, sub, O_TMPFILE | O_RDWR | O_CLOEXEC, 0444);
	}

	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		snprintf(tmp, sizeof tmp, "%s/.tmp.%d.%lld", sub, (int)getpid(), (long long)now_ns());
		fd = openat(st->objfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
		named = true;
	}
	if (fd < 0)
		return -errno;
	if ((r = write_full(fd, data, len)) || (st->durable && fsync(fd) && (r = -errno)))
		goto fail;
	if (named) {
		if (renameat(st->objfd, tmp, st->objfd, name) && (r = -errno))
			goto fail;
	} else {
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
		if (linkat(AT_FDCWD, proc, st->objfd, name, AT_SYMLINK_FOLLOW)) {
			r = -errno;
			goto fail;
		}
	}
	if (st->durable) {
		int d = openat(st->objfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (d >= 0) {
			fsync(d);
			close(d);
		}
	}
	return fd;
fail:
	if (named)
		unlinkat(st->objfd, tmp, 0);
	close(fd);
	return r;
}

int store_put(struct store *st, const uint8_t hash[static STORE_HASH_LEN], const void *data,
	      size_t len)
{
	uint8_t got[STORE_HASH_LEN];
	char name[68];
	struct blob *b = NULL;
	struct stat sb;
	int fd;

	if (st->lookup_only)
		return -EPERM;
	if ((uint64_t)len > STORE_BLOB_MAX)
		return -EFBIG;
	sha256(data, len, got);
	if (memcmp(got, hash, STORE_HASH_LEN))
		return -EBADMSG;
	if ((fd = st_lookup(st, hash, &b)) >= 0) {
		close(fd);
		st_touch(st, b);
		return 0;
	}
	st_blob_name(hash, name);
	fd = write_blob(st, name, data, len);
	if (fd == -EEXIST)
		return 0;	/* a concurrent writer's: complete, verified at use */
	if (fd < 0)
		return fd;
	if (fstat(fd, &sb) == 0 && (b = st_add(st, hash, &sb))) {
		b->verified = true;	/* these bytes were hashed above */
		st_vset_add(st, hash, &sb);
		st_touch(st, b);
	}
	close(fd);
	st->s.inserts++;
	if (st->s.bytes > st->cap)
		store_evict_to(st, st->cap / 10 * 9);
	return b ? 0 : -ENOMEM;
}

/* ---- pins, stats ---- */

int store_pin(struct store *st, const uint8_t hash[static STORE_HASH_LEN])
{
	struct blob *b = st_find(st, hash);

	if (!b)
		return -ENOENT;
	if (b->pins++ == 0)
		st->s.pinned++;
	return 0;
}

void store_unpin(struct store *st, const uint8_t hash[static STORE_HASH_LEN])
{
	struct blob *b = st_find(st, hash);

	if (b && b->pins && --b->pins == 0)
		st->s.pinned--;
}

void store_stats(const struct store *st, struct store_stats *out)
{
	*out = st->s;
}

const char *store_dir(const struct store *st)
{
	return st->dir;
}
