/* test_spawn.c — lib/spawn.c: a program that runs gives its pid and its own
 * status; one that cannot run gives -errno and the stage (never an exit
 * status), the child reaped; fds, environment, cwd, process group, the
 * id change (as root) and CLOEXEC of every other fd; spawn_run() waits and
 * gives the status (128 + signal), -errno when nothing ran. */
#include "spawn.h"
#include "slots.h"
#include "../lib/buf.h"
#include "../lib/test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs argv with stdout captured; returns the exit status or -errno. */
static int run(struct spawn_opts *o, struct buf *out, struct spawn_err *e)
{
	int p[2], st;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	o->fd_out = p[1];
	pid = spawn_start(o, e);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return (int)pid;
	}
	buf_read_fd(out, p[0], 1 << 20);
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int fail_hook(void *arg, int *stage)
{
	(void)arg;
	*stage = 7;
	return EROFS;
}

static bool has(const struct buf *b, const char *s)
{
	return b->len && memmem(b->data, b->len, s, strlen(s));
}

int main(void)
{
	struct spawn_err e;
	struct buf out = BUF_INIT;

	T_CASE("runs_and_returns_status") {
		char *argv[] = { "/bin/sh", "-c", "echo hi; exit 3", NULL };
		struct spawn_opts o = { .argv = argv, .fd_in = -1, .fd_err = -1 };
		int st = run(&o, &out, &e);
		T_CHECK(st == 3 && has(&out, "hi"), "status %d", st);
	}
	buf_free(&out);
	T_CASE("exec_failure_is_an_error_not_a_status") {
		char *argv[] = { "/nonexistent/prog", NULL };
		struct spawn_opts o = { .argv = argv, .fd_in = -1, .fd_err = -1 };
		int st = run(&o, &out, &e);
		T_CHECK(st == -ENOENT && e.stage == SPAWN_STAGE_EXEC && e.err == ENOENT,
			"got %d stage %d err %d", st, e.stage, e.err);
		T_CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "child not reaped");
	}
	T_CASE("hook_failure_reports_its_stage") {
		char *argv[] = { "/bin/true", NULL };
		struct spawn_opts o = { .argv = argv, .fd_in = -1, .fd_err = -1,
					.post_ids = fail_hook };
		int st = run(&o, &out, &e);
		T_CHECK(st == -EROFS && e.stage == 7, "got %d stage %d", st, e.stage);
	}
	T_CASE("clean_env_and_cwd") {
		char *argv[] = { "/bin/sh", "-c", "env; pwd", NULL };
		char *envp[] = { "ONLY=1", NULL };
		struct spawn_opts o = { .argv = argv, .envp = envp, .cwd = "/usr", .fd_in = -1,
					.fd_err = -1 };
		setenv("SPAWN_LEAK", "x", 1);
		int st = run(&o, &out, &e);
		T_CHECK(st == 0 && has(&out, "ONLY=1") && !has(&out, "SPAWN_LEAK") &&
				has(&out, "/usr\n"), "%.*s", (int)out.len, (const char *)out.data);
	}
	buf_free(&out);
	T_CASE("other_fds_closed") {
		int leak = open("/dev/null", O_RDONLY);	/* not CLOEXEC */
		char cmd[64];
		snprintf(cmd, sizeof cmd, "test -e /proc/self/fd/%d && echo LEAK; echo done", leak);
		char *argv[] = { "/bin/sh", "-c", cmd, NULL };
		struct spawn_opts o = { .argv = argv, .fd_in = -1, .fd_err = -1 };
		int st = run(&o, &out, &e);
		T_CHECK(st == 0 && has(&out, "done") && !has(&out, "LEAK"), "fd %d leaked", leak);
		close(leak);
	}
	buf_free(&out);
	T_CASE("own_process_group") {
		char *argv[] = { "/bin/sh", "-c", "ps -o pgid= -p $$; echo $$", NULL };
		struct spawn_opts o = { .argv = argv, .fd_in = -1, .fd_err = -1, .new_pgrp = true };
		int st = run(&o, &out, &e);
		long pg = 0, pid = 0;
		if (out.len) {
			buf_put(&out, "", 1);
			sscanf((const char *)out.data, "%ld %ld", &pg, &pid);
		}
		T_CHECK(st == 0 && pg && pg == pid, "pgid %ld pid %ld", pg, pid);
	}
	buf_free(&out);
	T_CASE("run_waits_and_gives_status") {
		char *ok[] = { "/bin/sh", "-c", "exit 5", NULL };
		char *sig[] = { "/bin/sh", "-c", "kill -TERM $$", NULL };
		char *none[] = { "/nonexistent/prog", NULL };
		int a = spawn_run(ok[0], ok), b = spawn_run(sig[0], sig);
		int c = spawn_run(none[0], none);
		T_CHECK(a == 5, "exit 5 gave %d", a);
		T_CHECK(b == 128 + 15, "SIGTERM gave %d", b);
		T_CHECK(c == -ENOENT, "a missing program gave %d, not -ENOENT", c);
		T_CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "a child left unreaped");
	}
	if (geteuid() == 0) {
		T_CASE("ids_dropped") {
			/* a slot uid of a block we hold (node/slots.h) */
			struct slots sl;
			char want[64];
			T_CHECK(slots_reserve(&sl, SLOTS_UID_BASE) == 0, "no uid block");
			uid_t u = slots_uid(&sl, 2);
			char *argv[] = { "/bin/sh", "-c", "id -u; id -g; id -G", NULL };
			struct spawn_opts o = { .argv = argv, .fd_in = -1, .fd_err = -1,
						.set_ids = true, .uid = u, .gid = u };
			int st = run(&o, &out, &e);
			snprintf(want, sizeof want, "%u\n%u\n%u\n", (unsigned)u, (unsigned)u, (unsigned)u);
			T_CHECK(st == 0 && has(&out, want), "%.*s", (int)out.len, (const char *)out.data);
			close(sl.lockfd);
		}
		buf_free(&out);
	} else {
		t_skip("ids_dropped", "not root");
	}
	return t_done();
}
