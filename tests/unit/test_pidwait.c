/* test_pidwait.c — lib/pidwait: a child that has ended is seen at once and
 * left unreaped; one that ends while we wait (released through a pipe
 * closed just before the call, so it is still running when the wait
 * begins) is waited for; one that does not end is not reported ended at
 * the deadline; a pid that is not our child, or was reaped, is -ECHILD. */
#include "pidwait.h"
#include "../lib/test.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* a child blocked reading fd until it closes, then ending with status 7 */
static pid_t child_on_pipe(int *wfd)
{
	int p[2];
	pid_t c;
	char b;

	if (pipe(p) < 0)
		return -1;
	c = fork();
	if (c == 0) {
		close(p[1]);
		while (read(p[0], &b, 1) > 0)
			;
		_exit(7);
	}
	close(p[0]);
	*wfd = p[1];
	return c;
}

int main(void)
{
	int st = 0, w = -1;
	pid_t c;

	T_CASE("ended-child-seen-and-not-reaped") {
		c = fork();
		if (c == 0)
			_exit(3);
		T_CHECK(c > 0, "fork");
		T_CHECK(pid_wait_ended(c, 10000) == 1, "not seen ended");
		T_CHECK(pid_wait_ended(c, 0) == 1, "not seen ended with no time");
		T_CHECK(waitpid(c, &st, WNOHANG) == c && WIFEXITED(st) && WEXITSTATUS(st) == 3,
			"reaped or lost: status %x", st);
		T_CHECK(pid_wait_ended(c, 0) == -ECHILD, "reaped child not -ECHILD");
	}
	T_CASE("ending-child-waited-for") {
		for (int i = 0; i < 20; i++) {
			c = child_on_pipe(&w);
			T_CHECK(c > 0, "fork");
			if (c <= 0)
				break;
			close(w);
			int r = pid_wait_ended(c, 30000);
			T_CHECK(r == 1, "round %d: %d, not waited for", i, r);
			T_CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 7,
				"round %d: status %x", i, st);
		}
	}
	T_CASE("running-child-not-ended-at-deadline") {
		c = child_on_pipe(&w);
		T_CHECK(c > 0, "fork");
		T_CHECK(pid_wait_ended(c, 0) == 0, "reported ended with no time");
		T_CHECK(pid_wait_ended(c, 50) == 0, "reported ended after 50 ms");
		kill(c, SIGKILL);
		T_CHECK(pid_wait_ended(c, 30000) == 1, "killed child not seen ended");
		T_CHECK(waitpid(c, &st, 0) == c && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
			"status %x", st);
		close(w);
	}
	T_CASE("not-our-child") {
		T_CHECK(pid_wait_ended(getppid(), 0) == -ECHILD, "parent");
		T_CHECK(pid_wait_ended(getpid(), 0) == -ECHILD, "self");
		T_CHECK(pid_wait_ended(0, 0) == -EINVAL && pid_wait_ended(-1, 0) == -EINVAL, "pid <= 0");
	}
	return t_done();
}
