/*
 * power.c — hubd's port-power helper (power.h): its codec, the helper
 * process (its drop, its policy, the power cycle) and the dispatcher's side
 * (start, one request outstanding, the answer taken without waiting).
 *
 * Invariants: the helper answers every datagram with exactly one answer
 * and then reads the next; it cycles only a port whose device is one of
 * our boards (read by itself from sysfs). The dispatcher never blocks on
 * it (requests and answers MSG_DONTWAIT).
 */
#include "power.h"
#include "enroll.h"
#include "privsep.h"
#include "usbdev.h"

#include "../lib/buf.h"
#include "../lib/cursor.h"
#include "../lib/log.h"

#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define POWER_CAPS PRIVSEP_CAP(CAP_DAC_OVERRIDE)
#define POWER_OFF_MS_MAX 60000u

static struct {
	int sp;			/* the dispatcher's end; -1: no helper */
	bool busy;
} P = { -1, false };

/* ---- the helper process ---- */

static void answer(int sp, int status, const char *why)
{
	struct buf b = { 0 };
	buf_u32(&b, (uint32_t)status);
	buf_str(&b, why);
	if (buf_ok(&b))
		while (send(sp, b.data, b.len, MSG_NOSIGNAL) < 0)
			if (errno != EINTR)
				_exit(errno == EPIPE ? 0 : 1);	/* the dispatcher is gone */
	buf_free(&b);
}

static void serve_one(int sp, const uint8_t *p, size_t len)
{
	struct cursor c = cur_init(p, len);
	char busport[32], why[POWER_WHY_MAX] = "";
	uint32_t off_ms = cur_u32(&c);
	int rc;

	if (!cur_str(&c, busport, sizeof busport) || !cur_done(&c) || off_ms > POWER_OFF_MS_MAX) {
		answer(sp, -EPROTO, "malformed request");
		return;
	}
	rc = enroll_busport_ours(NULL, busport);
	if (rc != 1) {
		snprintf(why, sizeof why, "USB device %s is %s: refused", busport,
			 rc == 0 ? "not a usbfarm board" : strerror(rc < 0 ? -rc : EINVAL));
		answer(sp, rc < 0 ? rc : -EPERM, why);
		return;
	}
	rc = usbdev_power_cycle(busport, off_ms, USBDEV_VIA_ANY, why, sizeof why);
	answer(sp, rc, why);
}

static void __attribute__((noreturn)) power_main(void)
{
	uint8_t buf[256];
	pid_t hubd = getppid();

	prctl(PR_SET_NAME, "hubd-power", 0, 0, 0);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN);	/* ^C is for hubd: it ends us */
	signal(SIGHUP, SIG_IGN);
	if (privsep_root()) {
		int rc = privsep_become(privsep_uid(), privsep_gid(), POWER_CAPS);
		if (rc < 0) {
			log_err("port-power helper: cannot drop privileges: %s", strerror(-rc));
			_exit(1);
		}
	} else if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		_exit(1);
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != hubd)
		_exit(0);
	log_info("port-power helper: pid %d, uid %u, %s", (int)getpid(), (unsigned)getuid(),
		 privsep_caps() == POWER_CAPS ? "CAP_DAC_OVERRIDE only" : "hubd's own rights");
	for (;;) {
		ssize_t n = recv(3, buf, sizeof buf, MSG_TRUNC);
		if (n == 0)
			_exit(0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if ((size_t)n > sizeof buf)
			answer(3, -EPROTO, "request too long");
		else
			serve_one(3, buf, (size_t)n);
	}
}

/* ---- the dispatcher's side ---- */

int power_start(void)
{
	int fd = -1;
	pid_t pid = privsep_fork_helper(&fd);

	if (pid < 0)
		return (int)pid;
	if (pid == 0)
		power_main();
	P.sp = fd;
	return 0;
}

bool power_busy(void)
{
	return P.busy;
}

int power_request(const char *busport, unsigned off_ms)
{
	struct buf b = { 0 };
	int rc = 0;

	if (P.sp < 0)
		return -ENOTCONN;
	if (P.busy)
		return -EBUSY;
	buf_u32(&b, off_ms);
	buf_str(&b, busport);
	if (!buf_ok(&b))
		rc = -ENOMEM;
	else if (send(P.sp, b.data, b.len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		rc = -errno;
	else
		P.busy = true;
	buf_free(&b);
	return rc;
}

int power_poll(int *status, char *why, size_t cap)
{
	uint8_t buf[POWER_WHY_MAX + 16];
	ssize_t n;

	if (P.sp < 0)
		return -ENOTCONN;
	if (!P.busy)
		return 0;
	n = recv(P.sp, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	P.busy = false;
	if (n == 0) {
		close(P.sp);
		P.sp = -1;
		return -EPIPE;
	}
	struct cursor c = cur_init(buf, (size_t)n > sizeof buf ? 0 : (size_t)n);
	*status = (int)cur_u32(&c);
	if (!cur_str(&c, why, cap) || !cur_done(&c))
		return -EPROTO;
	return 1;
}
