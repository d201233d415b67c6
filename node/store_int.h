/*
 * store_int.h — what node/store.c and node/store_exec.c share: the index's
 * records and the handle, and the helpers both use. Not an interface:
 * everything else goes through store.h.
 */
#ifndef USBFARM_NODE_STORE_INT_H
#define USBFARM_NODE_STORE_INT_H

#include "store.h"

#include "../lib/lru.h"

#include <limits.h>
#include <sys/stat.h>
#include <sys/types.h>

struct blob {
	uint8_t hash[STORE_HASH_LEN];
	uint64_t size, ino, mtime_ns;
	int64_t used;		/* last use, CLOCK_REALTIME ns (the blob's atime) */
	uint32_t pins;
	bool verified;
	bool dirty;		/* used since its atime was last written */
	unsigned gen;		/* last rescan that saw it */
	/* its executable variant <hex>.x (store.h), when on disk */
	bool has_x, xverified;
	uint64_t xsize, xino, xmtime_ns;
	unsigned xgen;		/* last rescan that saw the .x */
	struct blob *next;
	struct lru_node lru;
};

struct store {
	char dir[PATH_MAX];
	int objfd, lockfd;
	uint64_t cap;
	bool durable, lookup_only;
	bool evicting;		/* in store_evict_to (the exclusive lock held) */
	int shared;		/* store_lock_shared depth */
	unsigned gen;
	struct blob **tab;
	size_t tabsz, n;
	struct lru_list lru;	/* every blob; newest: most recently used */
	struct store_stats s;
	int vfd;		/* <dir>/verified (store_vset.c), or -1 */
	struct vrec *vrec;	/* its records, sorted (lookup-only handles) */
	size_t nvrec;
};

/* store.c */
void st_blob_name(const uint8_t *hash, char name[static 68]);	/* "xx/<hex>" */
int st_hash_fd(int fd, uint8_t out[static STORE_HASH_LEN], uint64_t *len);
/* Whether fd, a name of hash (sb its stat), holds hash's bytes, checked
 * once: *verified already, or the verified set knows it (trusted), or
 * hashed now (then *verified and added to the set). 1 sound, 0 corrupt,
 * -errno. */
int st_verify(struct store *st, int fd, const uint8_t hash[static STORE_HASH_LEN],
	      const struct stat *sb, bool *verified);
struct blob *st_find(const struct store *st, const uint8_t *hash);
struct blob *st_add(struct store *st, const uint8_t *hash, const struct stat *sb);
void st_drop(struct store *st, struct blob *b);
void st_touch(struct store *st, struct blob *b);
void st_refresh(struct store *st, struct blob *b, const struct stat *sb);
void st_delete_corrupt(struct store *st, const char *name, ino_t ino);
int st_lookup(struct store *st, const uint8_t *hash, struct blob **bp);
int st_link_fd(int fd, int dirfd, const char *name);

/* store_exec.c */
void st_x_name(const uint8_t *hash, char name[static 70]);	/* "xx/<hex>.x" */
/* b's .x is on disk as sb (counted in bytes), or gone (sb NULL). */
void st_x_set(struct store *st, struct blob *b, const struct stat *sb);
/* A rescan's "xx/<hex>.x" in dir dfd (leaf: its name there). 0 or -ENOMEM. */
int st_scan_x(struct store *st, int dfd, const char *leaf, const uint8_t *hash);
/* Eviction of b's .x: 0 (removed or none), 1 linked elsewhere, -errno. */
int st_evict_x(struct store *st, struct blob *b);

/* store_vset.c: the verified set shared across one noded run's processes */
void st_vset_open(struct store *st, int dfd);	/* dfd: the store's dir */
void st_vset_close(struct store *st);
/* A record matches sb's inode, size and mtime: hashed sound by a process. */
bool st_vset_known(const struct store *st, const uint8_t *hash, const struct stat *sb);
void st_vset_add(struct store *st, const uint8_t *hash, const struct stat *sb);

#endif
