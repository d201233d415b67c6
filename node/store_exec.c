/*
 * store_exec.c — the executable variant of a blob (store.h): objects/xx/
 * <hex>.x, the same bytes as objects/xx/<hex> in a root-owned file of mode
 * 0555, so a job tree can hard-link a compiler's cc1 or as instead of
 * copying it. Made once, from the verified blob, by copying it into an
 * O_TMPFILE while hashing the copy and linking that in under the .x name
 * (never written in place: the store's rule for every name); found, used,
 * verified, counted and evicted with its blob.
 */
#include "store.h"
#include "store_int.h"

#include "../lib/buf.h"
#include "../lib/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void st_x_name(const uint8_t *hash, char name[static 70])
{
	st_blob_name(hash, name);
	memcpy(name + 67, ".x", 3);
}

static uint64_t ts_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

void st_x_set(struct store *st, struct blob *b, const struct stat *sb)
{
	if (b->has_x)
		st->s.bytes -= b->xsize;
	b->has_x = sb != NULL;
	if (!sb) {
		b->xverified = false;
		return;
	}
	if (b->xino != (uint64_t)sb->st_ino || b->xmtime_ns != ts_ns(&sb->st_mtim) ||
	    b->xsize != (uint64_t)sb->st_size)
		b->xverified = false;	/* another inode, or written: hash it again */
	b->xino = (uint64_t)sb->st_ino;
	b->xmtime_ns = ts_ns(&sb->st_mtim);
	b->xsize = (uint64_t)sb->st_size;
	st->s.bytes += b->xsize;
	b->xgen = st->gen;
}

int st_scan_x(struct store *st, int dfd, const char *leaf, const uint8_t *hash)
{
	char base[65];
	struct stat xs, bs;
	struct blob *b;

	memcpy(base, leaf, 64);
	base[64] = 0;
	if (fstatat(dfd, leaf, &xs, AT_SYMLINK_NOFOLLOW) || !S_ISREG(xs.st_mode))
		return 0;
	if (fstatat(dfd, base, &bs, AT_SYMLINK_NOFOLLOW) || !S_ISREG(bs.st_mode)) {
		/* an orphan (its blob found corrupt, or a crash mid-eviction):
		 * removed under the exclusive lock, unless a tree links it */
		if (st->evicting && xs.st_nlink == 1)
			unlinkat(dfd, leaf, 0);
		return 0;
	}
	if ((b = st_find(st, hash))) {
		st_refresh(st, b, &bs);
		b->gen = st->gen;
	} else if (!(b = st_add(st, hash, &bs))) {
		return -ENOMEM;
	}
	st_x_set(st, b, &xs);
	return 0;
}

int st_evict_x(struct store *st, struct blob *b)
{
	char xn[70];
	struct stat sb;

	st_x_name(b->hash, xn);
	if (fstatat(st->objfd, xn, &sb, AT_SYMLINK_NOFOLLOW)) {
		if (b->has_x)
			st_x_set(st, b, NULL);
		return 0;
	}
	if (sb.st_nlink > 1)
		return 1;	/* a job tree links the executable variant */
	if (unlinkat(st->objfd, xn, 0) && errno != ENOENT)
		return -errno;
	if (b->has_x)
		st_x_set(st, b, NULL);
	return 0;
}

/* The existing .x of hash, verified (by this process, once per inode and
 * mtime); -ENOENT when missing, when its blob is, or found corrupt (then
 * deleted and counted). */
static int x_open(struct store *st, const uint8_t *hash, struct blob **bp)
{
	char xn[70], bn[68];
	struct blob *b = st_find(st, hash);
	struct stat sb, bs;
	int fd, r;

	st_x_name(hash, xn);
	fd = openat(st->objfd, xn, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ELOOP ? -ENOENT : -errno;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -EIO;
	}
	st_blob_name(hash, bn);
	if (!b && (fstatat(st->objfd, bn, &bs, AT_SYMLINK_NOFOLLOW) || !S_ISREG(bs.st_mode) ||
		   !(b = st_add(st, hash, &bs)))) {
		close(fd);
		return -ENOENT;	/* the blob itself is the one to ask for */
	}
	st_x_set(st, b, &sb);
	if ((r = st_verify(st, fd, hash, &sb, &b->xverified)) <= 0) {
		close(fd);
		if (r < 0)
			return r;
		st_delete_corrupt(st, xn, sb.st_ino);
		st_x_set(st, b, NULL);
		return -ENOENT;
	}
	*bp = b;
	return fd;
}

/* Copies in (size bytes) to out, hashing what it copies: 0 when the copy
 * hashes to hash, -EIO when not (the blob changed under us), -errno. */
static int copy_hashed(int in, int out, uint64_t size, const uint8_t *hash)
{
	uint8_t buf[1 << 16], got[STORE_HASH_LEN];
	struct sha256 s;
	uint64_t off = 0;
	int r;

	sha256_init(&s);
	while (off < size) {
		ssize_t n = pread(in, buf, sizeof buf, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		sha256_update(&s, buf, (size_t)n);
		if ((r = write_full(out, buf, (size_t)n)))
			return r;
		off += (uint64_t)n;
	}
	sha256_final(&s, got);
	return memcmp(got, hash, STORE_HASH_LEN) ? -EIO : 0;
}

/* A new .x of hash from its verified blob: its fd, -ENOENT when the blob
 * is missing or corrupt, -EEXIST when another process linked one first. */
static int x_make(struct store *st, const uint8_t *hash, struct blob **bp)
{
	char xn[70], sub[3], tmp[96];
	struct blob *b = NULL;
	struct stat sb;
	bool named = false;
	int in = st_lookup(st, hash, &b), out, r;

	if (in < 0)
		return in;
	st_x_name(hash, xn);
	memcpy(sub, xn, 2);
	sub[2] = 0;
	out = openat(st->objfd, sub, O_TMPFILE | O_RDWR | O_CLOEXEC, 0555);
	if (out < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		snprintf(tmp, sizeof tmp, "%s/.tmp.%d.%lld.%ld", sub, (int)getpid(),
			 (long long)t.tv_sec, t.tv_nsec);
		out = openat(st->objfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0555);
		named = true;
	}
	if (out < 0) {
		r = -errno;
		goto done;
	}
	if ((r = copy_hashed(in, out, b->size, hash)) || (fchmod(out, 0555) && (r = -errno)) ||
	    (st->durable && fsync(out) && (r = -errno)))
		goto fail;
	/* never replaces: a named temp is linked (not renamed), then dropped */
	r = named ? (linkat(st->objfd, tmp, st->objfd, xn, 0) ? -errno : 0)
		  : st_link_fd(out, st->objfd, xn);
	if (r || fstat(out, &sb))
		goto fail;
	if (named)
		unlinkat(st->objfd, tmp, 0);
	st_x_set(st, b, &sb);
	b->xverified = true;	/* its bytes were hashed as they were written */
	st_vset_add(st, hash, &sb);
	st->s.exec_made++;
	*bp = b;
	close(in);
	return out;
fail:
	if (named)
		unlinkat(st->objfd, tmp, 0);
	close(out);
done:
	close(in);
	return r ? r : -EIO;
}

int store_link_exec(struct store *st, const uint8_t hash[static STORE_HASH_LEN], int dirfd,
		    const char *name, uint64_t *size)
{
	struct blob *b = NULL;
	int fd = -ENOENT, r;

	for (int i = 0; i < 2; i++) {	/* a second look: another maker won */
		if ((fd = x_open(st, hash, &b)) != -ENOENT)
			break;
		if ((fd = x_make(st, hash, &b)) != -EEXIST)
			break;
	}
	if (fd < 0) {
		st->s.misses++;
		return fd == -EEXIST ? -ENOENT : fd;
	}
	st->s.hits++;
	st_touch(st, b);
	if (size)
		*size = b->xsize;
	r = st_link_fd(fd, dirfd, name);
	close(fd);
	return r;
}
