/*
 * ident.h — the identities of the compilers hubd's clients name, found
 * without ever running a client's file as anyone but that client.
 *
 * A SUBMIT names its compiler by path. hubd does not run it: ident_start()
 * forks the identifier, a process that keeps only CAP_SETUID/CAP_SETGID
 * (privsep.h). For each lookup the dispatcher passes it the client's
 * connection (SCM_RIGHTS); the identifier reads the client's uid, gid and
 * groups from the kernel (SO_PEERCRED, SO_PEERGROUPS) and runs
 * compiler_identify() in a child with exactly those ids, no capabilities,
 * no_new_privs, a clean environment (no on-disk identity cache) and a
 * deadline (IDENT_TIMEOUT_MS, then its process group is killed). hubd run by
 * a normal user identifies only for clients of its own uid.
 *
 * Results are cached in the dispatcher keyed by (client uid, path, device,
 * inode, size, mtime) as the dispatcher stats the path: one user's answer is
 * never another user's, and any change of the file is a miss. A path the
 * dispatcher cannot stat is identified every time, never cached. Lookups are
 * asynchronous: the poll loop never waits for a compiler.
 */
#ifndef USBFARM_HUB_IDENT_H
#define USBFARM_HUB_IDENT_H

#include <stdint.h>

#include "../lib/compiler.h"

/* One identification, all its runs: longer than lib/compiler.c's own 10 s
 * per run, so a run that hangs is ended (its process group killed) by
 * compiler.c before the identifier kills the child; what a compiler starts
 * in a session of its own is the client's own process, as when the client
 * runs it. */
#define IDENT_TIMEOUT_MS 12000
#define IDENT_RETRY_MS 30000	/* a timed-out identification is tried again after */
#define IDENT_MAX_RUNNING 8	/* identifications at once */
#define IDENT_MAX_PER_UID 4	/* of them for one client uid */
#define IDENT_CACHE_MAX 256	/* cached identities (oldest evicted) */

struct ident_result {
	int rc;			/* 0, or -errno (the reason in why) */
	struct compiler_id id;	/* rc == 0 */
	char why[160];
};

/* Forks the identifier (as root: it drops to the run-as user keeping
 * CAP_SETUID/CAP_SETGID). Call after privsep_init(), before the
 * dispatcher's drop. 0 or -errno. */
int ident_start(void);
/* The dispatcher's end, to poll for POLLIN; -1 when the identifier is gone. */
int ident_fd(void);
/* 1: known now (*out filled); 0: under way, `tag` comes back through
 * ident_process(); <0: cannot ask (*out->why says why). */
int ident_lookup(int client_fd, const char *path, uint64_t tag, struct ident_result *out);
typedef void (*ident_done_fn)(uint64_t tag, const struct ident_result *r, void *user);
/* Reads the identifier's answers; cb once per waiting tag (tags whose job
 * is gone are the caller's to ignore). */
void ident_process(ident_done_fn cb, void *user);
/* Ends the identifier and frees the cache. */
void ident_stop(void);

#endif
