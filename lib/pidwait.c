/* pidwait.c — a child's end awaited on its pidfd (see pidwait.h). */
#include "pidwait.h"
#include "clock.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* 1 ended (a zombie), 0 running, negative errno */
static int ended(pid_t pid)
{
	siginfo_t si = { 0 };

	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return -errno;
	return si.si_pid != 0;
}

int pid_wait_ended(pid_t pid, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	int pidfd, rc;

	if (pid <= 0)
		return -EINVAL;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0 && errno != ENOSYS)
		return errno == ESRCH ? -ECHILD : -errno;
	for (;;) {
		uint64_t t = now_ms();
		struct pollfd p = { pidfd, POLLIN, 0 };

		rc = ended(pid);
		if (rc != 0 || t >= end)
			break;
		if (pidfd < 0)
			usleep(2000);
		else if (poll(&p, 1, (int)(end - t)) < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	return rc;
}
