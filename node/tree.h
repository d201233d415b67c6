/*
 * tree.h — a job's input tree, assembled from the board's store (store.h)
 * so the compiler, with the tree as its root (sandbox.h, cfg.root_tree),
 * sees every file of the hub at the hub's absolute path and none of the
 * board's own headers.
 *
 * The manifest (what the hub sends; untrusted) lists files (absolute path,
 * SHA-256, size, mode), symlinks (path → target text) and directories.
 * manifest_check() refuses: a relative path, an empty / "." / ".."
 * component, "//", a trailing "/", NUL in a path or target, a path or
 * target or component over its cap, more than TREE_MAX_ENTRIES entries or
 * TREE_MAX_BYTES of files, a duplicate path, a path through a symlink of
 * the manifest or through one of its files, a mode other than permission
 * bits (no setuid/setgid/sticky).
 *
 * tree_build() makes <dirfd>/<name> (root's, 0755) and in it every
 * directory on the way (0755), every file as a hard link of the store's
 * verified blob (read-only, 0444; for a mode with execute bits its 0555
 * variant, store.h; a copy when the store is on another filesystem), every symlink
 * recreated verbatim (resolved only inside the sandbox, never by root), and
 * the mount points the sandbox needs over it: the toolchain paths (the
 * sandbox's ro_paths, each a board file, dir or symlink), the job dir,
 * /dev's nodes and /proc. A mount point the manifest would meet (a
 * manifest symlink or file on its way, a manifest entry at it or under it:
 * the board's file would hide the hub's) refuses the job. Root creates
 * everything with *at() calls on directory fds opened one component at a
 * time with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so nothing
 * lands outside the tree whatever the manifest says. Each file costs one
 * store lookup (verification at the blob's first use in this process).
 * Blobs the store lacks (or found corrupt) are all reported, each hash
 * once, and nothing of the tree is left: the protocol's "missing" answer.
 *
 * The job's writable dirs (tree_req.rw_dirs): why a tree the job may
 * write in is safe. Every file of the manifest is root's and 0444 (0555),
 * every other dir root's 0755, the mount points are binds of their own
 * (read-only, or the job dir): so the job's uid can write only in the
 * rw dirs (where it may also unlink or rename the inputs there: its own
 * job's, nothing shared, since the store's blob is another name of the
 * inode, which stays root's 0444). Root never follows anything the job
 * made: it reads outputs by openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS)
 * and removes the tree without following links.
 *
 * tree_readset_check() reads the compile's own make-style dependency
 * output (gcc -MD -MF: "\ " spaces, "\#", "$$", "\" continuations, -MP's
 * empty rules) and resolves every prerequisite (relative ones against the
 * compile's cwd) through the manifest's own symlinks; a name that is not
 * a file of the manifest the tree was built from is returned as unsent.
 */
#ifndef USBFARM_NODE_TREE_H
#define USBFARM_NODE_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define TREE_MAX_ENTRIES 200000u
#define TREE_MAX_BYTES (4ull << 30)	/* all files of one manifest */
#define TREE_PATH_MAX 4096u		/* a path or a target, NUL included */
#define TREE_NAME_MAX 255u		/* one component */
#define TREE_MAX_DEPTH 128u		/* components of a path */

enum tree_kind { TREE_FILE, TREE_LINK, TREE_DIR };

struct tree_entry {
	char *path;		/* absolute, checked */
	char *target;		/* TREE_LINK: the link's text */
	uint8_t hash[STORE_HASH_LEN];	/* TREE_FILE */
	uint64_t size;
	uint32_t mode;		/* TREE_FILE: permission bits */
	enum tree_kind kind;
};

struct manifest {
	struct tree_entry *e;
	size_t n, cap;
	uint64_t bytes;
	bool checked;		/* manifest_check passed: sorted by path */
};

void manifest_init(struct manifest *m);
void manifest_free(struct manifest *m);
/* Adds one entry (path and target as bytes with their lengths, as from
 * the wire: NUL inside is refused later). 0, -ENOMEM, or -E2BIG over the
 * entry cap. */
int manifest_add_file(struct manifest *m, const char *path, size_t plen,
		      const uint8_t hash[static STORE_HASH_LEN], uint64_t size, uint32_t mode);
int manifest_add_link(struct manifest *m, const char *path, size_t plen, const char *target,
		      size_t tlen);
int manifest_add_dir(struct manifest *m, const char *path, size_t plen);
/* The whole-manifest checks above; sorts. 0, or -EINVAL/-E2BIG and why. */
int manifest_check(struct manifest *m, char *why, size_t whylen);
/* The entry of path (exact, no symlink resolution), or NULL. Checked only. */
const struct tree_entry *manifest_find(const struct manifest *m, const char *path);

struct tree_req {
	struct store *store;
	const struct manifest *m;	/* checked; must outlive the tree */
	int dirfd;			/* root's dir the tree is made in */
	const char *name;		/* one component; must not exist */
	const char *ro_paths;		/* the sandbox's toolchain list (':'), not NULL */
	const char *job_dir;		/* absolute; NULL: none */
	/* Directories made after the rest (absolute, clean, NULL-terminated
	 * lists; NULL: none), each missing one on the way root's 0755:
	 * mk_dirs stay root's (the compile's cwd); rw_dirs are then given to
	 * rw_uid/rw_gid (0755): where a tree job writes its outputs at their
	 * hub paths. A rw dir that is, holds or lies under a mount point, or
	 * meets a manifest symlink or file, refuses the job (-EPERM). */
	const char *const *mk_dirs;
	const char *const *rw_dirs;
	unsigned rw_uid, rw_gid;
};

struct tree_stats {
	uint64_t files, linked, copied, links, dirs, mounts, bytes;
	uint64_t build_us;
};

struct tree;

/* The list of blobs a build found missing (malloc'd; free it). */
struct tree_missing {
	uint8_t (*hash)[STORE_HASH_LEN];
	size_t n;
};

/* 0 and *out; -ENOENT with *miss filled when blobs are missing (the tree
 * removed); -EPERM when a mount point meets the manifest (nothing made);
 * -EBADMSG when a file's size is not its blob's; other -errno. why says
 * what. Holds the store's shared lock while it links (no process evicts
 * meanwhile). The tree's blobs stay pinned until tree_release(). */
int tree_build(const struct tree_req *req, struct tree **out, struct tree_missing *miss,
	       char *why, size_t whylen);
/* The tree's path under dirfd ("<name>") and its stats. */
const struct tree_stats *tree_stats(const struct tree *t);
/* Removes the tree (never following a link), unpins, frees. */
void tree_release(struct tree *t);

/* Names the compile read that the manifest lacks (malloc'd strings). */
struct tree_names {
	char **v;
	size_t n;
};
void tree_names_free(struct tree_names *u);

/* The file entry path names in m (checked), following m's own symlinks
 * lexically as the kernel does in a tree built from m; NULL if none. */
const struct tree_entry *manifest_resolve(const struct manifest *m, const char *path);

/* The read-set check: how many prerequisites of deps are not files of m
 * (their names in *unsent), or -EINVAL for a malformed or over-long
 * dependency text, -ENOMEM. cwd: the compile's (absolute). */
int tree_readset_check(const struct manifest *m, const char *deps, size_t len, const char *cwd,
		       struct tree_names *unsent);

/* A JOB's tree part (lib/job.h) here (tree_wire.c): its blobs into the
 * store (-EBADMSG: one does not hash to its name), its inputs as a
 * checked manifest (freed on failure). 0 or -errno and why. */
struct job_tree;
int tree_wire_put_blobs(struct store *st, const struct job_tree *t, char *why, size_t whylen);
int tree_wire_manifest(const struct job_tree *t, struct manifest *m, char *why, size_t whylen);

/* The board's input table (lib/job.h, struct job_tree: "paths sent once
 * per board"), one per noded, in its memory: at most JOB_DICT_MAX ids and
 * JOB_DICT_BYTES of path and target text (a definition past that is not
 * kept; a later ref to it is stale). tree_wire_resolve() applies a JOB's
 * table part: a new generation empties the table; every input with an id
 * is kept under it (a copy); every ref becomes the input it names, so t
 * lists every input in full (t->in reallocated, refs freed; the inputs'
 * views then point into the table too, valid until the next resolve).
 * A ref the table does not hold in this generation, or any ref of an
 * older generation: -ESTALE, t unchanged but the definitions kept.
 * 0, -ESTALE or -ENOMEM, and why. */
struct tree_dict;
struct tree_dict *tree_dict_new(void);
void tree_dict_free(struct tree_dict *d);
int tree_wire_resolve(struct tree_dict *d, struct job_tree *t, char *why, size_t whylen);
/* What the table holds now: entries, their text bytes, its generation. */
void tree_dict_stats(const struct tree_dict *d, size_t *n, uint64_t *bytes, uint64_t *gen);

/* The sandbox's ro_paths for a tree job of compiler (tree_toolchain.c):
 * the driver (the path given and its real path), the cc1 it runs (cc1:
 * "cc1", "cc1plus"; NULL "cc1"; "" none: clang compiles in-process, and
 * then the crtbegin.o by which it finds its GCC installation), its as, its objcopy when there is one
 * (-gsplit-dwarf), the shared libraries each loads (ldd), /etc/ld.so.cache,
 * the files of the C.UTF-8 locale (/usr/lib/locale/C.utf8) where present,
 * every symlink hop; files only, ':'-separated, NUL-terminated into out.
 * Probed once per compiler (at noded's start). 0 or -errno and why. */
struct buf;
int tree_toolchain(const char *compiler, const char *cc1, struct buf *out, char *why,
		   size_t whylen);

#endif
