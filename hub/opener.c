/*
 * opener.c — hubd's link opener (opener.h): the request parser, the opener
 * process (its drop, its policy, its two operations) and the dispatcher's
 * side (start, requests, noticing the opener is gone).
 *
 * Invariants: the opener answers every datagram it reads with exactly one
 * answer and then reads the next (a refusal never ends it); it acts only on
 * a request opener_parse_req() accepted, for an interface that exists and
 * is allowed; it passes an fd only with a status-0 OPEN answer and closes
 * its own copy right after. The dispatcher has at most one request
 * outstanding and accepts only the answer with that request's seq.
 */
#include "opener.h"
#include "enroll.h"
#include "log.h"
#include "privsep.h"

#include "../lib/pidwait.h"
#include "../lib/rawio.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define NET_CAPS (PRIVSEP_CAP(CAP_NET_RAW) | PRIVSEP_CAP(CAP_NET_ADMIN))

static struct {
	char allowed[OPENER_MAX_ALLOWED][IFNAMSIZ];
	int nallowed;
	int sp;			/* the dispatcher's end */
	pid_t pid;
	uint32_t seq;
} O = { .sp = -1, .pid = -1 };

int opener_pid(void) { return (int)O.pid; }
int opener_fd(void) { return O.sp; }

/* ---- the request ---- */

int opener_name_ok(const char *name)
{
	size_t n = strnlen(name, IFNAMSIZ);

	if (n == 0 || n >= IFNAMSIZ || !strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c <= ' ' || c >= 0x7f || c == '/' || c == ':')
			return 0;
	}
	return 1;
}

int opener_parse_req(const void *p, size_t len, struct opener_req *out)
{
	struct opener_req r;
	size_t n;

	if (len != sizeof r)
		return -EMSGSIZE;
	memcpy(&r, p, sizeof r);
	if (r.magic != OPENER_MAGIC || (r.op != OPENER_OPEN && r.op != OPENER_UP))
		return -EINVAL;
	if (r.op == OPENER_OPEN ? r.mtu != 0 : r.mtu != 0 && (r.mtu < 256 || r.mtu > 65535))
		return -EINVAL;
	n = strnlen(r.ifname, sizeof r.ifname);
	if (n == sizeof r.ifname || !opener_name_ok(r.ifname))
		return -EINVAL;
	for (size_t i = n; i < sizeof r.ifname; i++)
		if (r.ifname[i])
			return -EINVAL;
	*out = r;
	return 0;
}

/* ---- the opener process ---- */

static bool allowed(const char *name)
{
	for (int i = 0; i < O.nallowed; i++)
		if (!strcmp(O.allowed[i], name))
			return true;
	return enroll_check(name, NULL) == 1;
}

/* Exists and allowed: 0, -ENODEV, -EPERM. */
static int policy(const char *name)
{
	if (if_nametoindex(name) == 0)
		return -ENODEV;
	return allowed(name) ? 0 : -EPERM;
}

static int serve_open(const char *name, int *fd, int *ifindex)
{
	char now[IFNAMSIZ];
	int rc = link_io_packet_socket(name, NULL, fd, ifindex);

	if (rc < 0)
		return rc;
	/* bound by index: is that still the interface the policy judged? */
	if (!if_indextoname((unsigned)*ifindex, now) || strcmp(now, name) != 0 || policy(name) < 0) {
		close(*fd);
		*fd = -1;
		return -EAGAIN;
	}
	return 0;
}

static void answer(int sp, const struct opener_ans *a, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { (void *)a, sizeof *a };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		memset(&ctl, 0, sizeof ctl);
		m.msg_control = ctl.buf;
		m.msg_controllen = sizeof ctl.buf;
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof fd);
	}
	while (sendmsg(sp, &m, MSG_NOSIGNAL) < 0) {
		if (errno != EINTR)
			_exit(errno == EPIPE ? 0 : 1);	/* the dispatcher is gone */
	}
}

/* One datagram read, one answer sent. */
static void serve_one(int sp, const uint8_t *p, size_t len)
{
	struct opener_req r;
	struct opener_ans a = { .magic = OPENER_MAGIC };
	int fd = -1, rc = opener_parse_req(p, len, &r);

	if (rc < 0) {
		log_warn("link opener: refused a malformed request (%zu bytes): %s", len, strerror(-rc));
		a.status = rc;
		answer(sp, &a, -1);
		return;
	}
	a.seq = r.seq;
	rc = policy(r.ifname);
	if (rc == 0 && r.op == OPENER_UP)
		rc = enroll_link_up(r.ifname, r.mtu);
	else if (rc == 0)
		rc = serve_open(r.ifname, &fd, &a.ifindex);
	if (rc == -EPERM)
		log_warn("link opener: %s is neither configured nor a usbfarm board: refused", r.ifname);
	else if (rc < 0)
		log_warn("link opener: %s %s: %s", r.op == OPENER_UP ? "up" : "open", r.ifname,
			 strerror(-rc));
	a.status = rc;
	answer(sp, &a, fd);
	if (fd >= 0)
		close(fd);
}

static void __attribute__((noreturn)) serve(int sp)
{
	uint8_t buf[512];

	for (;;) {
		struct iovec iov = { buf, sizeof buf };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
		/* MSG_TRUNC: the datagram's real length; no control buffer, so an
		 * fd sent along is closed by the kernel, never received */
		ssize_t n = recvmsg(sp, &m, MSG_TRUNC);
		if (n == 0)
			_exit(0);		/* the dispatcher closed its end */
		if (n < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		serve_one(sp, buf, (size_t)n);
	}
}

/* In the child: fd 3 is the socket; become the opener, then serve. */
static void __attribute__((noreturn)) opener_main(void)
{
	uint64_t caps;
	pid_t hubd = getppid();

	prctl(PR_SET_NAME, "hubd-opener", 0, 0, 0);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN);	/* a terminal's ^C is for hubd: it ends us */
	signal(SIGHUP, SIG_IGN);
	if (privsep_root()) {
		int rc = privsep_become(privsep_uid(), privsep_gid(), NET_CAPS);
		if (rc < 0) {
			log_err("link opener: cannot drop privileges: %s", strerror(-rc));
			_exit(1);
		}
	} else if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		_exit(1);
	}
	/* after the drop: a change of uid clears the parent-death signal */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != hubd)
		_exit(0);	/* hubd is already gone */
	caps = privsep_caps();
	log_info("link opener: pid %d, uid %u, %s", (int)getpid(), (unsigned)getuid(),
		 caps == NET_CAPS ? "CAP_NET_RAW and CAP_NET_ADMIN only"
				  : caps ? "the capabilities hubd was started with" : "no capabilities");
	serve(3);
}

/* ---- the dispatcher's side ---- */

int opener_allow(const char *ifname)
{
	if (!opener_name_ok(ifname))
		return -EINVAL;
	for (int i = 0; i < O.nallowed; i++)
		if (!strcmp(O.allowed[i], ifname))
			return 0;
	if (O.nallowed >= OPENER_MAX_ALLOWED)
		return -ENOSPC;
	snprintf(O.allowed[O.nallowed++], IFNAMSIZ, "%s", ifname);
	return 0;
}

int opener_start(void)
{
	int fd = -1;
	pid_t pid = privsep_fork_helper(&fd);

	if (pid < 0)
		return (int)pid;
	if (pid == 0) {
		opener_main();
	}
	O.sp = fd;
	O.pid = pid;
	return 0;
}

/* Up to half a second for the opener to have ended (its socket closes
 * before it is a zombie), so that gone() can say how it did. */
static void wait_zombie(void)
{
	if (O.pid > 0)
		(void)pid_wait_ended(O.pid, 500);
}

/* The opener is gone (or broken): say so and exit. */
static void __attribute__((noreturn)) gone(const char *what)
{
	char how[64] = "is gone";
	int st;

	if (O.pid > 0 && waitpid(O.pid, &st, WNOHANG) == O.pid) {
		if (WIFSIGNALED(st))
			snprintf(how, sizeof how, "was killed by signal %d (%s)", WTERMSIG(st),
				 strsignal(WTERMSIG(st)));
		else if (WIFEXITED(st))
			snprintf(how, sizeof how, "exited with status %d", WEXITSTATUS(st));
	}
	fatal("the link opener (pid %d) %s (%s): hubd cannot open any link without it "
	      "(relinks, enrollment): exiting", (int)O.pid, how, what);
}

void opener_check(void)
{
	struct pollfd p = { O.sp, POLLIN, 0 };

	if (O.sp < 0)
		return;
	/* nothing is outstanding between requests: anything readable is the
	 * end of the socket (or a stray answer, equally broken) */
	if (poll(&p, 1, 0) > 0) {
		wait_zombie();
		gone(p.revents & POLLIN ? "its socket closed" : "its socket failed");
	}
}

/* The one fd an OPEN answer carries (-1 if none); any other is closed. */
static int take_fd(struct msghdr *m)
{
	int fd = -1;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int f;
			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
			if (fd < 0)
				fd = f;
			else
				close(f);
		}
	}
	return fd;
}

/* One request, its answer (*fd: the socket an OPEN got, else -1). The
 * opener's refusal is a->status; a broken opener ends hubd. */
static void request(uint32_t op, const char *ifname, unsigned mtu, struct opener_ans *a, int *fd)
{
	struct opener_req r = { .magic = OPENER_MAGIC, .op = op, .seq = ++O.seq, .mtu = mtu };
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { a, sizeof *a };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			    .msg_controllen = sizeof ctl.buf };
	struct pollfd p = { O.sp, POLLIN, 0 };
	ssize_t n;
	int rc;

	*fd = -1;
	snprintf(r.ifname, sizeof r.ifname, "%s", ifname);
	while ((n = send(O.sp, &r, sizeof r, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof r)
		gone(n < 0 ? strerror(errno) : "short send");
	while ((rc = poll(&p, 1, OPENER_TIMEOUT_MS)) < 0 && errno == EINTR)
		;
	if (rc == 0)
		gone("no answer in 10 s");
	while ((n = recvmsg(O.sp, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	*fd = n > 0 ? take_fd(&m) : -1;
	if (n == 0) {
		wait_zombie();
		gone("its socket closed");
	}
	if (n != (ssize_t)sizeof *a || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    a->magic != OPENER_MAGIC || a->seq != r.seq || a->status > 0 ||
	    (*fd >= 0) != (op == OPENER_OPEN && a->status == 0)) {
		if (*fd >= 0)
			close(*fd);
		gone(n < 0 ? strerror(errno) : "a malformed answer");
	}
}

int opener_link_up(const char *ifname, unsigned mtu)
{
	struct opener_ans a;
	int fd;

	if (!opener_name_ok(ifname) || mtu > 65535)
		return -EINVAL;
	if (O.sp < 0)
		return -ENOTCONN;
	request(OPENER_UP, ifname, mtu, &a, &fd);
	return a.status;
}

int opener_open(const char *ifname, struct link_io **out)
{
	struct opener_ans a;
	int fd;

	*out = NULL;
	if (!opener_name_ok(ifname))
		return -EINVAL;
	if (O.sp < 0)
		return -ENOTCONN;
	request(OPENER_OPEN, ifname, 0, &a, &fd);
	if (a.status < 0)
		return a.status;
	return link_io_packet_adopt(fd, a.ifindex, NULL, out);
}
