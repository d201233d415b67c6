/*
 * slots.h — the uids and the directory a noded's slots run jobs with, and
 * what a dead predecessor left behind.
 *
 * Each slot runs its jobs as a uid of its own, from a reserved range that
 * no user of the system has (no passwd or group entry; checked): so
 * RLIMIT_NPROC counts one job, a job cannot signal or ptrace another, and
 * every process a job left is found by its uid. The range is cut into
 * SLOTS_BLOCKS blocks of SLOTS_BLOCK_UIDS uids; a noded holds one block for
 * its lifetime through an flock() on /run/usbfarm/uids.<block>.lock, so
 * several noded on one machine (the virtual farm) never share uids, and the
 * kernel frees a block the moment its holder dies, even by SIGKILL.
 * Nothing is written to /etc: the ids need no entry (so no installer step).
 *
 * slots_claim() takes the first free block and, before any work, ends
 * every process of a uid of ANY block nobody holds (a predecessor's
 * orphans: held blocks belong to live noded), holding each such block while
 * it does. The block's job root <tmp_root>/usbfarm-noded.<block> (root's,
 * 0711, never a symlink or someone else's) is emptied: stale job dirs go.
 */
#ifndef USBFARM_NODE_SLOTS_H
#define USBFARM_NODE_SLOTS_H

#include <stddef.h>
#include <sys/types.h>

#define SLOTS_UID_BASE 1500000000u	/* default start of the reserved range */
#define SLOTS_BLOCK_UIDS 1024u		/* = the most slots a noded has */
#define SLOTS_BLOCKS 64u
#define SLOTS_LOCK_DIR "/run/usbfarm"

struct slots {
	unsigned block;
	uid_t base;		/* uid of slot 0: range base + block * SLOTS_BLOCK_UIDS */
	int lockfd;
	char root[4096];	/* the job root of this block */
	unsigned killed;	/* orphan processes ended at claim */
	unsigned swept;		/* stale entries removed from the job root */
};

/* 0, or -errno and why. range_base: SLOTS_UID_BASE unless configured. */
int slots_claim(struct slots *s, uid_t range_base, const char *tmp_root, char *why,
		size_t whylen);
/* uid (= gid) of slot i. */
uid_t slots_uid(const struct slots *s, int i);
/* Ends every process whose real, effective or saved uid is in
 * [lo, lo + n): kill them until none is left. Returns how many it killed. */
unsigned slots_kill_uids(uid_t lo, uid_t n);
/* Removes the contents of dir (never following links). Returns entries removed. */
unsigned slots_empty_dir(int dirfd);

#endif
