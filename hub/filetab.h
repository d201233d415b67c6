/*
 * filetab.h — the hub's file table: path → what is there now, and file
 * content → SHA-256 and its parsed directives (scan_lex.h), for one
 * long-lived owner (hubd's include scanner). No globals, no threads: the
 * owner passes its table to every call.
 *
 * Two maps:
 *   - nodes, by PHYSICAL absolute path (no symlink in any directory
 *     component; the last one may be a symlink): what lstat said in the
 *     current job (type, dev, ino, size, mode, mtime_ns, ctime_ns; a
 *     symlink's target text), or "absent" (ENOENT);
 *   - contents, by (dev, ino, size, mtime_ns, ctime_ns): the SHA-256 of the
 *     bytes and their directive list, shared by every path to that file
 *     (hard links, symlinks).
 *
 * Freshness (the rules a job can rely on):
 *   - every path is lstat'ed at most once per job (filetab_begin() starts a
 *     job) and at least once in every job that looks it up, except:
 *   - an absent name is not re-probed while its directory's identity (dev,
 *     ino, mtime_ns, ctime_ns, re-checked in this job) is what it was when
 *     the name was found absent: creating, renaming or deleting an entry
 *     changes the directory's mtime, so a header created later is seen;
 *   - racy entries, as in git's index: a file or directory whose mtime or
 *     ctime is within `racy_ns` of the moment it was checked may still
 *     change without its timestamps moving; its content is hashed again in
 *     the next job (a directory's absent names are probed again) until its
 *     timestamps are older than that;
 *   - a file whose identity changed while it was read is hashed again in
 *     the next job too.
 * Resolution walks components itself (as the kernel does, ".." after a
 * symlink is the physical parent), reports every symlink passed and every
 * directory ".." climbed out of, and opens files with O_NOFOLLOW.
 *
 * Memory: nodes and contents are accounted in bytes; above `mem_cap` the
 * least recently used nodes of earlier jobs are evicted (a content goes with
 * the last node that refers to it). Nodes used by the current job are never
 * evicted, so pointers returned during a job stay valid until the next
 * filetab_begin().
 */
#ifndef USBFARM_HUB_FILETAB_H
#define USBFARM_HUB_FILETAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "scan_lex.h"

#define FILETAB_MAX_FILE (64u << 20)	/* larger files are not read: -EFBIG */
#define FILETAB_MAX_LINKS 40		/* symlinks per resolution (as Linux) */

struct filetab;

struct filetab_cfg {
	size_t mem_cap;		/* bytes; 0: FILETAB_DEFAULT_MEM */
	int64_t racy_ns;	/* < 0: FILETAB_DEFAULT_RACY_NS; 0: never racy */
};
#define FILETAB_DEFAULT_MEM (256u << 20)
/* 2 s: ext4/xfs/btrfs stamp from a coarse clock (a tick); FAT and some
 * network file systems keep 1–2 s. */
#define FILETAB_DEFAULT_RACY_NS 2000000000LL

struct filetab_id {
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
	uint32_t mode;
};

struct filetab_content {
	uint8_t sha256[32];
	uint64_t size;
	bool time_macros;	/* the bytes name __DATE__, __TIME__ or __TIMESTAMP__ */
	bool gas_reads;		/* the bytes name .incbin or .include (gas reads a
				 * file of its own: no scan or .d names it) */
	struct scan_directives dirs;
};

/* What a lookup found; valid until the next filetab_begin(). */
struct filetab_file {
	const char *phys;	/* physical absolute path */
	struct filetab_id id;
	const char *link;	/* symlink target text (only in walk callbacks) */
	void *node;		/* the table's own entry (opaque) */
};

struct filetab_stats {
	uint64_t jobs, lookups;
	uint64_t lstats;	/* lstat calls */
	uint64_t neg_hits;	/* absent names answered by their directory's identity */
	uint64_t hits;		/* contents used without reading */
	uint64_t rehashes;	/* contents read and hashed (first time or changed) */
	uint64_t racy_rehashes;	/* of them: the entry was racy */
	uint64_t bytes_hashed;
	uint64_t evictions;
	size_t nodes, contents, mem;
};

/* Called for each symlink a resolution passes (path = the link's physical
 * path, link = its target text) and each directory it climbs out of with
 * ".." (link = NULL): the job's tree must have them. */
typedef void (*filetab_walk_fn)(void *arg, const struct filetab_file *f);

struct filetab *filetab_new(const struct filetab_cfg *cfg);
void filetab_free(struct filetab *t);
/* A new job: every path is checked again when next looked up. */
void filetab_begin(struct filetab *t);

/* Resolves an absolute path, following every symlink. 0 and *f (the
 * physical file: regular, directory or other), or -errno (-ENOENT,
 * -ENOTDIR, -ELOOP, -EACCES, -ENAMETOOLONG, -ENOMEM). */
int filetab_resolve(struct filetab *t, const char *abspath, struct filetab_file *f,
		    filetab_walk_fn fn, void *arg);
/* The same for `rel` (relative, may have several components, "..")
 * below a directory `dir` resolved by filetab_resolve() in this job: what
 * filetab_resolve(dir->phys + "/" + rel) would answer, without walking
 * dir's own components again. */
int filetab_resolve_at(struct filetab *t, const struct filetab_file *dir, const char *rel,
		       struct filetab_file *f, filetab_walk_fn fn, void *arg);
/* The content of a regular file found by filetab_resolve() in this job:
 * hashed and parsed now, or from the table when its identity is unchanged
 * and not racy. 0 and *c (valid until the next filetab_begin()), or -errno. */
int filetab_content(struct filetab *t, const struct filetab_file *f,
		    const struct filetab_content **c);

void filetab_get_stats(const struct filetab *t, struct filetab_stats *s);

/* One value per path for the owner's own use within a job (the scanner:
 * the path's input index), kept on the table's entry so a path seen again
 * is known without hashing its name: f from a lookup in this job. get:
 * true and *v if set in this job (any earlier job's value is gone). */
bool filetab_mark_get(const struct filetab_file *f, size_t *v);
void filetab_mark_set(const struct filetab_file *f, size_t v);

#endif
