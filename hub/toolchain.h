/*
 * toolchain.h — compilers travel (issue 11 item 7): a board of the hub's
 * architecture with a store that offers no compiler of a tree job's
 * identity gets hubd's own toolchain in the job's tree, as blobs of its
 * store, and checks its identity there (node/exec_tree.c).
 *
 * A pack is what lib/toolchain.h names for the hub's compiler (driver,
 * every symlink hop, cc1 or cc1plus, as, objcopy, the shared libraries
 * they load, the dynamic loader, ld.so.cache, the C.UTF-8 locale): each
 * file by SHA-256, size and mode at its hub path, each symlink by its
 * text. Built once per (compiler path, identity), in a thread, from the
 * first job that asks, and kept (also a failure, with why); the files are read whole
 * into memory, so a JOB carries them from there. The trust rule: only a
 * compiler whose every file and link is root's and no file writable by
 * group or others travels (hubd reads system compilers as its own user).
 *
 * A board's architecture is read from its compilers' triples: a board
 * runs the hub's binaries when one of them targets the hub's machine
 * (uname). A board that offers no compiler at all is not known to be one.
 *
 * The counters and what each board was sent are hubd's own (one thread).
 */
#ifndef USBFARM_HUB_TOOLCHAIN_H
#define USBFARM_HUB_TOOLCHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/compiler.h"
#include "../lib/job.h"

#define TC_MAX_PACKS 16
#define TC_MAX_BYTES (128u << 20)	/* one pack's files */
#define TC_MAX_FILES 256		/* = lib/toolchain.c's MAX_PATHS */

struct tc_pack {
	char path[COMPILER_PATH_MAX];	/* the driver as jobs run it */
	struct compiler_id id;
	bool ok;
	char why[200];			/* !ok: why it does not travel */
	/* in[0] the driver (the path jobs run); paths and targets point
	 * into the pack's own strings; data[i] the file's bytes (links NULL) */
	struct job_input *in;
	uint8_t **data;
	size_t n, files;
	uint64_t bytes, lz_bytes;	/* the files' sizes; LZO1X-1 of each, summed */
	uint64_t build_us;
};

struct tc_counters {
	uint64_t packs;		/* built (ok) */
	uint64_t sent;		/* JOBs that carried blobs of a pack */
	uint64_t blobs, bytes;	/* pack blobs carried, their bytes */
	uint64_t verified;	/* a board's first success with a pack */
	uint64_t refused;	/* a board refused a pack (its identity) */
	uint64_t travel_jobs;	/* tree jobs sent with the hub's toolchain */
};
extern struct tc_counters tc_counters;

/* Builds a pack of the compiler at path (kind says cc1/cc1plus/none):
 * 0, or -errno with p->why. p is the caller's; toolchain_pack_free(). */
int toolchain_pack_build(const struct compiler_id *id, struct tc_pack *p);
void toolchain_pack_free(struct tc_pack *p);

/* The cached pack of id (id->path), or NULL while it is being built (in
 * a thread of its own, started at the first ask: the poll loop never
 * waits for a pack; jobs asked meanwhile do not travel) or when the table
 * is full. Check ->ok. */
const struct tc_pack *toolchain_pack(const struct compiler_id *id);

struct node;
/* Whether n runs the hub's binaries (its compilers' triples, above). */
bool toolchain_board_arch_ok(const struct node *n);
/* The pack a tree job of id carries to n: n has a store and the hub's
 * architecture, the pack is ok and n has not refused it (while its store
 * lasts); the caller knows that n offers no compiler of id. NULL: the job
 * does not travel to n. */
const struct tc_pack *toolchain_for(const struct node *n, const struct compiler_id *id);

/* The JOB's tree t (a copy of the job's: t->in the job's nin inputs) with
 * the pack appended: *in (malloc'd, the caller frees it) holds both,
 * t->in and t->nin point there, t->toolchain_n = p->n, the pack's ids
 * JOB_DICT_NONE (sent whole, never kept in the board's input table).
 * 0 or -ENOMEM. */
int toolchain_add_inputs(const struct tc_pack *p, struct job_tree *t, struct job_input **in);

/* A JOB carrying k of p's blobs went to n; a RESULT of a travelling job
 * came back from n (farm_error 0: it ran; -EPERM whose reason names the
 * toolchain: refused). Counters and what status says per board. */
void toolchain_sent(const struct node *n, const struct tc_pack *p, size_t k, uint64_t bytes);
void toolchain_result(const struct node *n, const struct compiler_id *id, int farm_error,
		      const char *why);

/* Per board, for hubctl status: how many packs it serves (ok, its arch,
 * none of its own compilers of that identity) and their bytes; the
 * i-th of them (i < that count) and whether n verified it. */
size_t toolchain_board_packs(const struct node *n, uint64_t *bytes);
const struct tc_pack *toolchain_board_pack(const struct node *n, size_t i, bool *verified);

/* hubctl status's verdict for n and id when the hub's toolchain of id
 * travels to n: "serves it with the hub's own toolchain (N files, B bytes,
 * Z on the link; verified on it | not used yet | refused: ...)"; false
 * (v untouched) when it does not. */
bool toolchain_verdict(const struct node *n, const struct compiler_id *id, char *v, size_t len);

/* Every pack freed (hubd's exit). */
void toolchain_free_all(void);

#endif
