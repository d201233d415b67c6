/*
 * spawn.h — the one way usbfarm starts a program (as git's run-command):
 * everything the child needs (argv, environment, fds) is built before the
 * fork; the child only makes syscalls; if anything fails before the
 * program runs (a hook, the id change, execve itself) the child reports
 * {stage, errno} through a CLOEXEC pipe and exits 127, and spawn_start()
 * returns that error with the child already reaped. So a caller never
 * mistakes "could not run" for the program's own exit status.
 *
 * Order in the child: signals reset and unblocked; optional new process
 * group; fds 0/1/2 set (-1: /dev/null); pre_ids hook (still with the
 * caller's privileges: e.g. mounts); setgroups(0) + setresgid +
 * setresuid when set_ids (and a check that root is really gone);
 * PR_SET_PDEATHSIG (and an exit if the parent is already gone); post_ids
 * hook (with the new ids); chdir; every fd above 2 marked CLOEXEC; execve.
 * With clone_flags (CLONE_NEW* namespaces) the child is made by clone()
 * with fork() semantics, so in a new PID namespace it is PID 1 there.
 *
 * With fn instead of a program (the identifier's children: our own code,
 * run as a client), the same steps are taken up to the chdir; then the
 * error pipe and every fd above 2 are closed (spawn_start() returns) and
 * the child exits with fn(arg). fn runs as an ordinary process: only a
 * single-threaded caller may use it (the child has the caller's memory,
 * malloc included).
 */
#ifndef USBFARM_LIB_SPAWN_H
#define USBFARM_LIB_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

struct spawn_err {
	int stage;		/* the caller's stage numbers; SPAWN_* below for ours */
	int err;		/* errno; 0 = none */
};

enum {
	SPAWN_STAGE_FDS = 100,
	SPAWN_STAGE_IDS,
	SPAWN_STAGE_CWD,
	SPAWN_STAGE_EXEC,
};

/* A hook in the child: 0, or an errno with *stage set. */
typedef int (*spawn_hook)(void *arg, int *stage);

struct spawn_opts {
	const char *path;	/* program (absolute); NULL: argv[0] */
	char *const *argv;
	char *const *envp;	/* NULL: the caller's environment */
	const char *cwd;	/* NULL: unchanged */
	int fd_in, fd_out, fd_err;	/* the child's 0, 1, 2; -1: /dev/null */
	bool set_ids;
	uid_t uid;
	gid_t gid;
	const gid_t *groups;	/* with set_ids: the supplementary groups */
	size_t ngroups;		/* (0: none) */
	bool new_pgrp;		/* its own process group (kill(-pid) ends it all) */
	int pdeathsig;		/* 0, or the signal the child gets when its parent
				 * dies (set after the id change, which clears it) */
	unsigned long clone_flags;	/* CLONE_NEW*; 0: plain fork */
	spawn_hook pre_ids, post_ids;
	int (*fn)(void *arg);	/* run instead of a program (see above) */
	void *arg;
};

/* The child's pid once the program runs, or -errno (then *e, if given,
 * says where; the child is reaped). */
pid_t spawn_start(const struct spawn_opts *o, struct spawn_err *e);
/* Waits for pid (EINTR-safe): its exit status, 128 + the signal that
 * ended it, or -errno. */
int spawn_wait(pid_t pid);
/* Runs path (argv[0] as given) with the caller's stdio and environment and
 * waits: the status as spawn_wait(), or -errno when it could not start. */
int spawn_run(const char *path, char *const *argv);
/* "exec", "ids", … for our stages; NULL for the caller's own. */
const char *spawn_stage_name(int stage);

#endif
