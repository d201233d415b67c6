/*
 * prove.h — hubd proves (hub compiler, board compiler) pairs itself, by
 * canary compiles compared byte for byte (the rule is hub/equiv.h's; the
 * table is hub/pairs.h's).
 *
 * When jobs ask for a hub compiler and a board offers another build of the
 * same release (kind, triple, version equal, fingerprint not) that no
 * proof covers — a new board, an upgraded compiler, a board restarted with
 * another one — hubd proves the pair in the background, one pair at a
 * time, for the flag classes jobs asked for (base always) that have no
 * verdict yet (a later job of another class starts a proof of that one):
 *   1. local: a child of the dispatcher (no privilege at all: the run-as
 *      user, no capability, no_new_privs) preprocesses every canary of the
 *      canary directory with the hub compiler and compiles each with every
 *      flag set of every class (PROVE_SETS), in the proof's own directory
 *      under hubd's state directory;
 *   2. board: each (canary, flag set) goes to a board offering the board
 *      compiler as an ordinary JOB (the JOB names the compiler by identity:
 *      no new message), with ids from PROVE_ID_BASE up so they are never a
 *      user's job; a canary job is sent only while no user job waits, so
 *      it never goes ahead of one (prove_pick());
 *   3. the board's object gets the hub's ident (equiv_comment_patch()) and
 *      must equal the local one byte for byte; a class is "same" only if
 *      every canary of every flag set of it is; the verdict is kept per
 *      (hub fingerprint, board fingerprint, class) in hub.pairs and saved.
 * While it runs, the pair's entry is PAIRS_PROVING and its note says how
 * far ("proving board2's gcc 12.2.0 (1a2b3c4d): 3/12 canaries,
 * stack-protector class"): hubctl status shows it, and jobs of that pair
 * stay local with the reason "not proven yet (proving)".
 *
 * Trust rule: hubd trusts only proofs it made itself (its own local
 * compile, the board's object) or a file the machine's administrator
 * wrote. It runs local canary compiles only with a system compiler:
 * prove_compiler_trusted(), the resolved file and every directory above it
 * owned by root and writable by nobody else (no group/other write bit, a
 * sticky /tmp included), so no user can swap it; any other compiler's
 * pairs are PAIRS_REFUSED, said in words. Proofs live in STATE/pairs
 * (hubd's state directory, --state-dir, created owned by the run-as user,
 * mode 0755, never writable by a client) across restarts; that file and a
 * --pairs FILE (scripts/pair-prove's output) are read only if
 * prove_file_trusted(): owned by root or by hubd's own user, no
 * group/other write bit.
 *
 * Invariants: at most one proof runs; a canary job counts in its node's
 * `running` from its send to its RESULT or the node's end; an entry of
 * hub.pairs is never moved (proofs hold its index).
 */
#ifndef USBFARM_HUB_PROVE_H
#define USBFARM_HUB_PROVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../lib/compiler.h"

#define PROVE_ID_BASE (1ull << 62)	/* canary job ids: no user job has one */
#define PROVE_CANARIES 8		/* canaries read from the directory, at most */
#define PROVE_SETS 6			/* flag sets, over all classes */
#define PROVE_TASKS (PROVE_CANARIES * PROVE_SETS)
#define PROVE_RETRIES 3			/* farm-side failures of one canary job */

struct node;
struct job_result;

/* Options: the state directory (NULL: /var/lib/usbfarm/hubd as root, else
 * $XDG_STATE_HOME or ~/.local/state/usbfarm) and the canary directory (NULL:
 * PREFIX/share/usbfarm/canaries beside PREFIX/sbin/hubd, else
 * scripts/lib/canaries beside the build's bin/, else
 * /usr/share/usbfarm/canaries). Call before privileges are dropped: creates the state
 * directory (owned by the run-as user) and loads STATE/pairs into hub.pairs
 * if it is trusted. 0 or -errno (then proving is off and said). */
int prove_init(const char *state_dir, const char *canary_dir);

/* The trust rule (above): the resolved path into out (what hubd runs: a
 * symlink changed later changes nothing). why: in words, when false. */
bool prove_compiler_trusted(const char *path, char *out, size_t outlen, char *why, size_t len);
/* path is owned by root or by `uid` and has no group/other write bit. */
bool prove_file_trusted(const char *path, uid_t uid, char *why, size_t len);

/* One canary job to do: its class, canary, flag set, and where it is. */
struct prove_task {
	uint8_t cls, canary, set;
	bool sent, done, same;
	uint8_t retries;
	struct node *node;
	uint64_t id;
};
/* The next task to send (index), or -1: none left unsent, or a user job
 * waits (user_waiting > 0: canaries never go ahead of one). Pure. */
int prove_pick(const struct prove_task *t, size_t n, unsigned user_waiting);

/* From schedule(), after the user jobs: starts a proof that is due, sends
 * canary jobs to free slots while no user job waits. */
void prove_schedule(void);
/* A RESULT from n: true if it was a canary job's (consumed). */
bool prove_on_result(struct node *n, const struct job_result *r);
/* n's link ended: its canary jobs go again elsewhere (or later). */
void prove_node_down(struct node *n);
/* Every loop round: reaps the local compile child. */
void prove_tick(void);

/* The reason label of a job no board serves, if a pair is why ("stack-
 * protector code differs on every board", "not proven yet (proving)",
 * "not proven: not a system compiler"), or NULL (no board offers a build
 * of its compiler). */
const char *prove_local_label(const struct compiler_id *want, char *const *argv, int argc,
			      char *buf, size_t len);

#endif
