/*
 * store.h — the board's content-addressed store: blobs on disk named by
 * their SHA-256 (lib/sha256.h), shared by a noded's slots and by several
 * nodeds on one machine.
 *
 * Layout under dir (default STORE_DIR_DEFAULT): objects/xx/<64 hex> (xx =
 * the first byte; each fan-out dir made at its first blob), each blob
 * root-owned, mode 0444, never written in place; objects/xx/<hex>.x, the
 * blob's executable variant (the same bytes, root-owned, mode 0555: what a
 * job tree links for a manifest entry with exec bits, which a 0444 blob
 * cannot be execve'd as; node/store_exec.c); lock (flock: shared while a
 * caller links blobs out, exclusive while one evicts).
 *
 * Invariants:
 *  - A name is only ever created by linking a fully written O_TMPFILE whose
 *    bytes this process hashed to that name (store_put refuses a mismatch;
 *    a .x is a copy of the verified blob hashed as it is written): no
 *    reader sees a partial blob under its final name.
 *  - A .x is made at the first store_link_exec of its blob, by whichever
 *    handle asks, a lookup-only one (a worker's) included: it adds no new
 *    content (only a copy of a blob already there and verified), it is
 *    made under the caller's shared lock (tree.c holds it while it links),
 *    so no eviction runs meanwhile, and two makers at once are one: the
 *    second's link fails with EEXIST and it uses the first's .x. The
 *    parent (a full handle) counts a worker's .x when its store_have or a
 *    rescan sees it. A .x is one with its blob: in the bytes (the blob's
 *    size twice), in store_have's answer only through its blob, kept while
 *    either name is linked elsewhere (st_nlink > 1) or the blob is pinned,
 *    evicted with it (the .x first), found by the rescan at open; a .x
 *    whose blob is gone is removed by the next eviction's rescan.
 *  - No fsync by default: the store is a cache. A crash may leave a blob
 *    truncated or zero-filled, but a process uses a blob only after it
 *    re-hashed it itself once per (inode, mtime, size) (the verified set,
 *    in memory) or wrote it itself, or after another process of the same
 *    noded run did: <dir>/verified (node/store_vset.c) holds a record
 *    (hash, inode, size, mtime) per blob or .x a process hashed sound; a
 *    lookup-only handle (a worker's, one per job) reads it at open and
 *    trusts a blob that matches a record, so a blob is hashed once per
 *    run, not once per job. Every full handle's open (a noded start: so
 *    after any crash or reboot) empties it. A blob damaged after its
 *    verification is caught when its mtime or size changed (any write
 *    through the filesystem; ctime cannot serve: every tree link changes
 *    it) by the next process that uses it, else (a write that restored
 *    the mtime, bit rot below the filesystem) at the next noded start or
 *    by the handle's own re-hash of another inode; a blob (or .x)
 *    that does not hash to its name is deleted, counted (corrupt) and
 *    reported missing (a corrupt .x is made again from its blob).
 *    cfg.durable adds fsync of the blob and its dir.
 *  - The in-memory index (hash → size, inode, last use, pins) is rebuilt
 *    from the directory at open (one fstatat per blob: bounded by the cap);
 *    a blob another process added is found by fstatat when asked for, one
 *    it removed is dropped from the index when found gone. LRU order
 *    survives restarts through the blobs' atime, written in batches by
 *    store_sync_lru() (and store_close).
 *  - Eviction (when the index's bytes exceed the cap, down to 90 % of it)
 *    rescans the directory under the exclusive lock first (so two nodeds'
 *    blobs are counted once), then removes least recently used blobs that
 *    are neither pinned here nor linked elsewhere (st_nlink > 1: a job
 *    tree of any process holds it). Pinned bytes may exceed the cap.
 *  - One handle per process, opened after any fork (an flock belongs to
 *    the open file description: a handle inherited across fork shares its
 *    lock with the parent). Not thread-safe.
 *  - Errors are negative errno; the store never logs or exits.
 */
#ifndef USBFARM_NODE_STORE_H
#define USBFARM_NODE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_DIR_DEFAULT "/var/lib/usbfarm/store"
#define STORE_HASH_LEN 32
#define STORE_CAP_DEFAULT (2ull << 30)		/* 2 GiB */
#define STORE_BLOB_MAX (256ull << 20)		/* one blob at most */

struct store;

struct store_cfg {
	const char *dir;	/* NULL: STORE_DIR_DEFAULT; made if absent */
	uint64_t cap_bytes;	/* 0: STORE_CAP_DEFAULT */
	bool durable;		/* fsync blobs and their dir (see above) */
	/* A handle that only looks blobs up (a noded worker's, one per job):
	 * no index rebuilt at open (each blob is found on disk when asked
	 * for, as one another process added), so opening costs nothing
	 * whatever the store holds; store_put refuses (-EPERM) and it never
	 * evicts. Its LRU marks are written at store_close as any handle's. */
	bool lookup_only;
};

struct store_stats {
	uint64_t bytes, blobs;		/* in the index now */
	uint64_t hits, misses;		/* store_open / store_have answers */
	uint64_t inserts, evictions;	/* blobs written here, removed here */
	uint64_t corrupt;		/* blobs found not to hash to their name */
	uint64_t verified_bytes;	/* bytes re-hashed on first use */
	uint64_t pinned;		/* blobs with pins now */
	uint64_t exec_made;		/* .x variants made here */
	uint64_t trusted;		/* taken as verified from <dir>/verified */
};

/* 0 and *out, or -errno. Makes dir and dir/objects when missing. */
int store_open(const struct store_cfg *cfg, struct store **out);
void store_close(struct store *st);

/* Adds a blob of len bytes named hash; -EBADMSG if the bytes do not hash
 * to it, -EFBIG over STORE_BLOB_MAX. 0 also when it was already there
 * (then verified, and replaced if corrupt). May evict. */
int store_put(struct store *st, const uint8_t hash[static STORE_HASH_LEN], const void *data,
	      size_t len);

/* A read-only fd of the verified blob (O_RDONLY|O_CLOEXEC; the caller
 * closes it) and its size; -ENOENT when missing or found corrupt (then
 * deleted and counted). Counts a hit or a miss; marks it used. */
int store_get(struct store *st, const uint8_t hash[static STORE_HASH_LEN], uint64_t *size);

/* Links the verified blob as dirfd/name (the exact inode verified: linkat
 * of its fd) and gives its size; counts a hit or a miss and marks it used,
 * as store_get. -ENOENT when missing or corrupt, -EXDEV on another
 * filesystem (then copy from store_get), -EEXIST when name exists. */
int store_link(struct store *st, const uint8_t hash[static STORE_HASH_LEN], int dirfd,
	       const char *name, uint64_t *size);

/* store_link for an executable: links the blob's .x variant (mode 0555),
 * made first when missing or found corrupt (store.h above; counted in
 * exec_made), verified once per process as a blob is. Counts a hit or a
 * miss. -ENOENT when the blob is missing or corrupt; -EXDEV, -EEXIST as
 * store_link (on -EXDEV copy from store_get and chmod). */
int store_link_exec(struct store *st, const uint8_t hash[static STORE_HASH_LEN], int dirfd,
		    const char *name, uint64_t *size);

/* "Which of these do you have?": have[i] = blob i is in the store (index
 * or disk; not re-hashed here: store_get does that). Returns how many are
 * present. Counts no hits or misses. */
size_t store_have(struct store *st, const uint8_t (*hashes)[STORE_HASH_LEN], size_t n,
		  bool *have);

/* Pins keep a blob from eviction while a job uses it (counted: pin twice,
 * unpin twice). store_pin of a blob not in the index: -ENOENT. */
int store_pin(struct store *st, const uint8_t hash[static STORE_HASH_LEN]);
void store_unpin(struct store *st, const uint8_t hash[static STORE_HASH_LEN]);

/* Shared lock while blobs are linked out of the store (tree.c), so no
 * process evicts a blob between its store_get and its link. 0 or -errno. */
int store_lock_shared(struct store *st);
void store_unlock(struct store *st);

/* Writes the atime of every blob used since the last call (the LRU order
 * a restart sees): noded calls it from a timer, store_close() too.
 * Returns how many were written. */
uint64_t store_sync_lru(struct store *st);

/* Evicts now as if over cap (down to target bytes); returns blobs removed. */
uint64_t store_evict_to(struct store *st, uint64_t target);

void store_stats(const struct store *st, struct store_stats *out);
const char *store_dir(const struct store *st);

/* hash <-> 64 lowercase hex digits (+ NUL). from_hex: 0 or -EINVAL. */
void store_hex(const uint8_t hash[static STORE_HASH_LEN], char hex[static 65]);
int store_from_hex(const char *hex, uint8_t hash[static STORE_HASH_LEN]);

#endif
