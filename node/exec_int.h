/*
 * exec_int.h — what exec.c (text jobs) and exec_tree.c (tree jobs) share
 * inside the executor (exec.h): one job's state and the stages both use.
 * Not an API: nothing outside node/exec*.c includes it.
 */
#ifndef USBFARM_NODE_EXEC_INT_H
#define USBFARM_NODE_EXEC_INT_H

#include "exec.h"
#include "sandbox.h"

#include <limits.h>

struct exec_tree_run;

/* One job's state through the stages of exec_run(). */
struct run {
	const struct exec_job *job;
	struct exec_result *res;
	char top[PATH_MAX], dir[PATH_MAX + 4], stage[PATH_MAX + 4];
	char cwd_rel[128], phys[EXEC_NAME_MAX + 128], cwd[PATH_MAX + 256];
	char out_rel[128 + EXEC_NAME_MAX + 8], dwo_rel[128 + EXEC_NAME_MAX + 8];
	char dwo[EXEC_NAME_MAX + 8], inpath[PATH_MAX + EXEC_NAME_MAX + 8];
	char env_tmp[PATH_MAX + 16], env_home[PATH_MAX + 16];
	char *envp[5];
	char **argv;
	char *maps[4];
	int dirfd;		/* j/, root's fd */
	sandbox_hook setup;	/* the child's side: job_setup, or exec_tree's */
	struct exec_tree_run *tr;	/* a tree job's state (exec_tree.c); NULL: text */
	bool made;
	uint64_t out_cap, text_cap, start, deadline;
	uid_t uid;
	gid_t gid;
	struct sandbox_cfg sb;
};
/* Sets res's farm error and why; returns err. */
int exec_fail(struct exec_result *res, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Opens rel under dirfd for root: no symlink, no "..", no other mount on
 * the way, never blocking on a FIFO. fd or -errno. */
int exec_open_beneath(int dirfd, const char *rel, int flags);
/* Reads an output under dirfd: a regular file of the slot's, one link, at
 * most cap. 0 or -errno (-E2BIG over cap). */
int exec_read_out(const struct run *r, int dirfd, const char *rel, struct buf *b, uint64_t cap);
/* The .dwo of an output name (gcc's rule). */
int exec_dwo_name(const char *out, char *dst, size_t len);
/* Removes dir and everything in it, never following a link. */
void exec_rm_tree(const char *dir);
/* The private dir: top (root's, 0711), j/ (the slot's, r->dirfd), s/. */
int exec_make_dirs(struct run *r);
/* r->sb from the job (limits, ids, env, job dir, stage, cwd r->cwd). */
void exec_sandbox_setup(struct run *r);
/* Runs r->argv in the sandbox (r->setup as its hook): 0 when it ran (its
 * wait status in *st), else the farm error. */
int exec_run_compiler(struct run *r, int *st);
/* The compiler's wait status as res->status; a node limit's signal is a
 * farm error. */
int exec_status(struct exec_result *res, int st);

/* exec_tree.c: the whole run of a tree job (r->job->tree set); and the
 * release of its tree, whatever happened (a no-op for text jobs). */
int exec_tree_run(struct run *r);
/* exec_travel.c: the identity of the tree's driver (a travelling
 * toolchain, exec.h exec_tree.travel), computed in the job's sandbox with
 * its tree: 0 when it is the job's, else -EPERM ("toolchain refused: ").
 * r->sb set up; the runs' outputs are not the job's. */
int exec_travel_check(struct run *r);
void exec_tree_end(struct run *r);

#endif
