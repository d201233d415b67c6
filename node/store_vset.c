/*
 * store_vset.c — the store's verified set shared by the processes of one
 * noded run (store.h): the file <dir>/verified, root's 0600, one fixed
 * record per blob (or .x) inode a process hashed in full and found sound
 * (or wrote from bytes it hashed): its hash, inode, size and mtime.
 * Appended (O_APPEND: a 64-byte write lands whole), emptied by every full
 * handle's open (a noded start: a crash or reboot between is a restart, so
 * a blob a crash damaged is hashed again), read once by a lookup-only
 * handle at its open (a worker's, one per job), which then trusts a blob
 * whose inode, size and mtime match a record instead of hashing it again.
 */
#include "store.h"
#include "store_int.h"

#include "../lib/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VSET_MAX 65536u		/* records (4 MiB): beyond, none are added */

struct vrec {
	uint8_t hash[STORE_HASH_LEN];
	uint64_t ino, size, mtime_ns, spare;
};

static int by_hash(const void *a, const void *b)
{
	return memcmp(a, b, STORE_HASH_LEN);
}

static uint64_t mt_ns(const struct stat *sb)
{
	return (uint64_t)sb->st_mtim.tv_sec * 1000000000u + (uint64_t)sb->st_mtim.tv_nsec;
}

/* Loads the records (lookup-only handles), sorted by hash. */
static void vset_load(struct store *st)
{
	struct stat sb;
	size_t n;

	if (fstat(st->vfd, &sb) || sb.st_size <= 0)
		return;
	n = (size_t)sb.st_size / sizeof(struct vrec);
	if (n > VSET_MAX)
		n = VSET_MAX;
	st->vrec = malloc(n * sizeof(struct vrec));
	if (!st->vrec)
		return;
	if (pread(st->vfd, st->vrec, n * sizeof(struct vrec), 0) != (ssize_t)(n * sizeof(struct vrec))) {
		free(st->vrec);
		st->vrec = NULL;
		return;
	}
	st->nvrec = n;
	qsort(st->vrec, n, sizeof(struct vrec), by_hash);
}

void st_vset_open(struct store *st, int dfd)
{
	int fl = O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC;

	st->vfd = openat(dfd, "verified", fl | (st->lookup_only ? 0 : O_TRUNC), 0600);
	if (st->vfd >= 0 && st->lookup_only)
		vset_load(st);	/* without it: every blob is hashed, as before */
}

void st_vset_close(struct store *st)
{
	if (st->vfd >= 0)
		close(st->vfd);
	st->vfd = -1;
	free(st->vrec);
	st->vrec = NULL;
	st->nvrec = 0;
}

bool st_vset_known(const struct store *st, const uint8_t *hash, const struct stat *sb)
{
	struct vrec *v = st->nvrec ? bsearch(hash, st->vrec, st->nvrec, sizeof *v, by_hash) : NULL;

	if (!v)
		return false;
	while (v > st->vrec && !memcmp(v[-1].hash, hash, STORE_HASH_LEN))
		v--;	/* the first of its records (a blob and its .x, or older ones) */
	for (; v < st->vrec + st->nvrec && !memcmp(v->hash, hash, STORE_HASH_LEN); v++)
		if (v->ino == (uint64_t)sb->st_ino && v->size == (uint64_t)sb->st_size &&
		    v->mtime_ns == mt_ns(sb))
			return true;
	return false;
}

void st_vset_add(struct store *st, const uint8_t *hash, const struct stat *sb)
{
	struct vrec v = { .ino = (uint64_t)sb->st_ino, .size = (uint64_t)sb->st_size,
			  .mtime_ns = mt_ns(sb) };
	struct stat fs;

	if (st->vfd < 0 || fstat(st->vfd, &fs) || (uint64_t)fs.st_size >= VSET_MAX * sizeof v)
		return;	/* best effort: a record missing only costs a hash */
	memcpy(v.hash, hash, STORE_HASH_LEN);
	if (write(st->vfd, &v, sizeof v) != (ssize_t)sizeof v) {
		/* a short append: the loader reads whole records only */
	}
}
