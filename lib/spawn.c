/*
 * spawn.c — start a program safely (spawn.h).
 *
 * Invariant: after fork/clone the child touches only memory prepared
 * before it and makes syscalls; its only ways out are execve() or
 * child_fail() (one struct spawn_err on the pipe, _exit(127)).
 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

const char *spawn_stage_name(int stage)
{
	switch (stage) {
	case SPAWN_STAGE_FDS: return "stdio";
	case SPAWN_STAGE_IDS: return "ids";
	case SPAWN_STAGE_CWD: return "cwd";
	case SPAWN_STAGE_EXEC: return "exec";
	default: return NULL;
	}
}

static void __attribute__((noreturn)) child_fail(int fd, int stage, int err)
{
	struct spawn_err e = { stage, err ? err : EIO };
	if (write(fd, &e, sizeof e) < 0) {
		/* the parent is gone */
	}
	_exit(127);
}

/* Every fd above 2 closes at exec (the error pipe too). */
static void cloexec_from_3(void)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) == 0)
		return;
#endif
	for (int fd = 3; fd < 4096; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* Every fd above 2 closed (fn mode: no exec will close them). */
static void close_from_3(void)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3u, ~0u, 0u) == 0)
		return;
#endif
	for (int fd = 3; fd < 4096; fd++)
		close(fd);
}

/* fd onto target, or /dev/null when fd < 0. */
static int set_fd(int fd, int target)
{
	int nfd = fd;
	if (fd < 0 && (nfd = open("/dev/null", target ? O_WRONLY : O_RDONLY)) < 0)
		return -1;
	if (nfd != target && dup2(nfd, target) < 0)
		return -1;
	return 0;
}

static void __attribute__((noreturn)) child(const struct spawn_opts *o, int efd)
{
	sigset_t none;
	int stage = 0, r;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	if (o->new_pgrp)
		setpgid(0, 0);
	/* the error pipe must not land on 0..2 */
	if (efd <= 2) {
		int n = fcntl(efd, F_DUPFD_CLOEXEC, 3);
		if (n < 0)
			_exit(127);
		efd = n;
	}
	if (set_fd(o->fd_in, 0) || set_fd(o->fd_out, 1) || set_fd(o->fd_err, 2))
		child_fail(efd, SPAWN_STAGE_FDS, errno);
	if (o->pre_ids && (r = o->pre_ids(o->arg, &stage)))
		child_fail(efd, stage, r);
	if (o->set_ids) {
		if (setgroups(o->ngroups, o->groups) || setresgid(o->gid, o->gid, o->gid) ||
		    setresuid(o->uid, o->uid, o->uid))
			child_fail(efd, SPAWN_STAGE_IDS, errno);
		if ((o->uid && (geteuid() == 0 || getuid() == 0)) ||
		    (o->gid && (getegid() == 0 || getgid() == 0)))
			child_fail(efd, SPAWN_STAGE_IDS, EPERM);	/* never go on as root */
	}
	if (o->pdeathsig) {
		struct pollfd pf = { efd, POLLOUT, 0 };
		if (prctl(PR_SET_PDEATHSIG, o->pdeathsig))
			child_fail(efd, SPAWN_STAGE_IDS, errno);
		/* the parent died before that (its read end is gone)? */
		if (poll(&pf, 1, 0) == 1 && (pf.revents & POLLERR))
			_exit(127);
	}
	if (o->post_ids && (r = o->post_ids(o->arg, &stage)))
		child_fail(efd, stage, r);
	if (o->cwd && chdir(o->cwd))
		child_fail(efd, SPAWN_STAGE_CWD, errno);
	if (o->fn) {
		close_from_3();	/* the error pipe too: spawn_start() returns */
		_exit(o->fn(o->arg));
	}
	cloexec_from_3();
	execve(o->path ? o->path : o->argv[0], o->argv, o->envp ? o->envp : environ);
	child_fail(efd, SPAWN_STAGE_EXEC, errno);
}

pid_t spawn_start(const struct spawn_opts *o, struct spawn_err *e)
{
	struct spawn_err got = { 0, 0 };
	int p[2], st;
	ssize_t n;
	pid_t pid;

	if (e)
		*e = got;
	if (!o->fn && (!o->argv || !o->argv[0]))
		return -EINVAL;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	if (o->clone_flags)	/* fork()'s semantics, in new namespaces */
		pid = (pid_t)syscall(SYS_clone, o->clone_flags | SIGCHLD, NULL, NULL, NULL, NULL);
	else
		pid = fork();
	if (pid < 0) {
		int err = errno;
		close(p[0]);
		close(p[1]);
		return -err;
	}
	if (pid == 0) {
		close(p[0]);
		child(o, p[1]);
	}
	close(p[1]);
	if (o->new_pgrp)
		setpgid(pid, pid);	/* both sides, so a kill never misses */
	/* EOF: the program runs (the pipe closed at exec) */
	while ((n = read(p[0], &got, sizeof got)) < 0 && errno == EINTR)
		;
	close(p[0]);
	if (n == (ssize_t)sizeof got && got.err) {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (e)
			*e = got;
		return -got.err;
	}
	return pid;
}

int spawn_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

int spawn_run(const char *path, char *const *argv)
{
	struct spawn_opts o = { .path = path, .argv = argv, .fd_in = 0, .fd_out = 1, .fd_err = 2 };
	pid_t pid = spawn_start(&o, NULL);

	return pid < 0 ? (int)pid : spawn_wait(pid);
}
