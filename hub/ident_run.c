/*
 * ident_run.c — the identifier process (see ident.h, ident_run.h).
 *
 * One poll loop over the dispatcher's socket and the pipes of its running
 * children (at most IDENT_MAX_RUNNING; a request beyond that is answered
 * -EBUSY at once). Each child takes its client's ids from the kernel,
 * becomes exactly that client (groups, gid, uid; no capabilities left for a
 * non-root client), runs compiler_identify() and writes one struct
 * ident_rep into its pipe. A child still running at its deadline has its
 * process group killed. The children are started by lib/spawn.c (its fn
 * mode): the ids the kernel reports for the connection are read here, the
 * child takes them (groups, gid, uid), clears its capabilities and checks
 * they held in spawn's hooks, and a failure there comes back as an error
 * before it runs anything. Invariants: the identifier itself never runs a
 * client's file; no child runs with an id the kernel did not report for
 * the client's connection; every request gets exactly one reply.
 */
#include "ident_run.h"
#include "../lib/clock.h"
#include "privsep.h"
#include "../lib/pathwalk.h"
#include "../lib/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IDENT_MAX_GROUPS 1024

struct run {
	bool used;
	uint64_t serial;
	pid_t pid;
	int fd;
	uint64_t deadline;
	struct ident_rep rep;
	size_t got;
};

static struct run R[IDENT_MAX_RUNNING];

static void reply(int sp, struct ident_rep *rep)
{
	rep->res.why[sizeof rep->res.why - 1] = 0;
	/* The dispatcher gone: the next recv sees it and ends the loop. */
	(void)send(sp, rep, sizeof *rep, MSG_NOSIGNAL);
}

static void reply_err(int sp, uint64_t serial, int rc, const char *why)
{
	struct ident_rep rep;
	memset(&rep, 0, sizeof rep);
	rep.serial = serial;
	rep.res.rc = rc;
	snprintf(rep.res.why, sizeof rep.res.why, "%s", why);
	reply(sp, &rep);
}

/* One request and its fd. 1: got one; 0: malformed (dropped); -1: EOF. */
static int recv_req(int sp, struct ident_req *rq, int *cfd)
{
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { rq, sizeof *rq };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
	struct cmsghdr *cm;
	int nfd = 0;
	ssize_t n;

	*cfd = -1;
	n = recvmsg(sp, &m, MSG_CMSG_CLOEXEC);
	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
		return -1;
	if (n < 0)
		return 0;
	for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
			if (nfd++ == 0)
				*cfd = fd;
			else
				close(fd);
		}
	}
	if ((size_t)n != sizeof *rq || nfd != 1 || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    !memchr(rq->path, 0, sizeof rq->path)) {
		if (*cfd >= 0)
			close(*cfd);
		*cfd = -1;
		return 0;
	}
	return 1;
}

/* The identity the kernel reports for the client of cfd. */
struct client {
	struct ucred cr;
	gid_t groups[IDENT_MAX_GROUPS];
	size_t ngroups;
	bool switch_ids;	/* become the client (hubd was root) */
	const struct ident_req *rq;
};

/* Our stages in the child (lib/spawn.h: the caller's numbers). */
enum { ST_KEEPCAPS = 1, ST_CAPS, ST_HELD, ST_NNP };

/* Reads c's credentials from cfd. 0 or -EPERM (why set). */
static int client_of(int cfd, struct client *c, char *why, size_t wlen)
{
	socklen_t cl = sizeof c->cr, gl = sizeof c->groups;

	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &c->cr, &cl) < 0 ||
	    getsockopt(cfd, SOL_SOCKET, SO_PEERGROUPS, c->groups, &gl) < 0) {
		snprintf(why, wlen, "cannot read the client's credentials: %s", strerror(errno));
		return -EPERM;
	}
	c->ngroups = gl / sizeof(gid_t);
	if (!c->switch_ids && c->cr.uid != geteuid()) {
		snprintf(why, wlen, "hubd runs as uid %u, not root: it identifies "
			 "compilers for uid %u only", (unsigned)geteuid(), (unsigned)geteuid());
		return -EPERM;
	}
	return 0;
}

/* Before the id change: no capability survives it. */
static int keepcaps_off(void *arg, int *stage)
{
	(void)arg;
	*stage = ST_KEEPCAPS;
	return prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 ? errno : 0;
}

/* After it: exactly the client's ids, no capability left, none gained
 * by exec later. */
static int ids_held(void *arg, int *stage)
{
	const struct client *c = arg;
	int rc;

	if (c->switch_ids) {
		*stage = ST_CAPS;
		if ((rc = privsep_caps_clear()) < 0)
			return -rc;
		*stage = ST_HELD;
		if (getuid() != c->cr.uid || geteuid() != c->cr.uid || getgid() != c->cr.gid ||
		    privsep_caps() != 0)
			return EPERM;
	}
	*stage = ST_NNP;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? errno : 0;
}

/* The child's work, as the client: identify, write one ident_rep to
 * stdout (the answer pipe). No identity cache on disk (hubd keeps its
 * own), English output, a CPU cap. */
static int identify(void *arg)
{
	const struct client *c = arg;
	struct ident_rep rep;
	struct rlimit cpu = { 20, 20 };
	int rc;

	memset(&rep, 0, sizeof rep);
	rep.serial = c->rq->serial;
	clearenv();
	setenv("PATH", PATHWALK_DEFAULT, 1);
	umask(077);
	setrlimit(RLIMIT_CPU, &cpu);
	rc = compiler_identify(c->rq->path, &rep.res.id);
	if (rc < 0)
		snprintf(rep.res.why, sizeof rep.res.why, "%s",
			 rc == -EINVAL ? "not a compiler hubd knows" : strerror(-rc));
	rep.res.rc = rc;
	return write(1, &rep, sizeof rep) == (ssize_t)sizeof rep ? 0 : 1;
}

/* Why a child could not start. */
static void start_failed(char *why, size_t wlen, const struct client *c, pid_t rc,
			 const struct spawn_err *e)
{
	if (e->stage == SPAWN_STAGE_IDS || e->stage == ST_KEEPCAPS || e->stage == ST_CAPS)
		snprintf(why, wlen, "cannot become uid %u: %s", (unsigned)c->cr.uid,
			 strerror((int)-rc));
	else if (e->stage == ST_HELD)
		snprintf(why, wlen, "the switch to uid %u did not hold", (unsigned)c->cr.uid);
	else
		snprintf(why, wlen, "cannot start the identification: %s", strerror((int)-rc));
}

/* A child (lib/spawn.c, fn mode) for rq, as the client of cfd; its answer
 * comes through the pipe r->fd. 0, or -errno with why set. */
static int spawn_child(struct run *r, const struct ident_req *rq, int cfd, bool switch_ids,
		       char *why, size_t wlen)
{
	static struct client c;	/* the child's copy is its own after the fork */
	struct spawn_opts o = { .fd_in = -1, .fd_err = 2, .new_pgrp = true, .cwd = "/",
				.pdeathsig = SIGKILL, .pre_ids = keepcaps_off,
				.post_ids = ids_held, .fn = identify, .arg = &c };
	struct spawn_err e;
	int p[2], rc;
	pid_t pid;

	memset(&c, 0, sizeof c);
	c.switch_ids = switch_ids;
	c.rq = rq;
	if ((rc = client_of(cfd, &c, why, wlen)) < 0)
		return rc;
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(why, wlen, "pipe failed");
		return -errno;
	}
	o.fd_out = p[1];
	if (switch_ids) {
		o.set_ids = true;
		o.uid = c.cr.uid;
		o.gid = c.cr.gid;
		o.groups = c.groups;
		o.ngroups = c.ngroups;
	}
	pid = spawn_start(&o, &e);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		start_failed(why, wlen, &c, pid, &e);
		return (int)pid;
	}
	r->pid = pid;
	r->fd = p[0];
	return 0;
}

static void start(int sp, const struct ident_req *rq, int cfd, bool switch_ids)
{
	struct run *r = NULL;
	char why[sizeof r->rep.res.why];
	int rc;

	for (int i = 0; i < IDENT_MAX_RUNNING && !r; i++)
		if (!R[i].used)
			r = &R[i];
	if (!r) {
		close(cfd);
		reply_err(sp, rq->serial, -EBUSY, "too many compilers being identified at once");
		return;
	}
	memset(r, 0, sizeof *r);
	rc = spawn_child(r, rq, cfd, switch_ids, why, sizeof why);
	close(cfd);
	if (rc < 0) {
		reply_err(sp, rq->serial, rc, why);
		return;
	}
	r->used = true;
	r->serial = rq->serial;
	r->deadline = now_ms() + IDENT_TIMEOUT_MS;
}

static void finish(int sp, struct run *r, bool timed_out)
{
	if (timed_out) {
		kill(-r->pid, SIGKILL);
		kill(r->pid, SIGKILL);
	}
	waitpid(r->pid, NULL, 0);
	close(r->fd);
	if (timed_out)
		reply_err(sp, r->serial, -ETIMEDOUT, "the compiler took too long to identify");
	else if (r->got != sizeof r->rep || r->rep.serial != r->serial)
		reply_err(sp, r->serial, -EIO, "identification ended without an answer");
	else
		reply(sp, &r->rep);
	r->used = false;
}

static void child_readable(int sp, struct run *r)
{
	ssize_t n = read(r->fd, (char *)&r->rep + r->got, sizeof r->rep - r->got);
	if (n < 0 && errno == EINTR)
		return;
	if (n > 0) {
		r->got += (size_t)n;
		if (r->got < sizeof r->rep)
			return;
	}
	finish(sp, r, false);
}

void ident_serve(int sp, bool switch_ids)
{
	struct pollfd pf[1 + IDENT_MAX_RUNNING];
	struct run *who[1 + IDENT_MAX_RUNNING];

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		size_t n = 0;
		uint64_t now = now_ms();
		int timeout = -1;

		pf[n] = (struct pollfd){ sp, POLLIN, 0 };
		who[n++] = NULL;
		for (int i = 0; i < IDENT_MAX_RUNNING; i++) {
			if (!R[i].used)
				continue;
			int ms = R[i].deadline > now ? (int)(R[i].deadline - now) : 0;
			if (timeout < 0 || ms < timeout)
				timeout = ms;
			pf[n] = (struct pollfd){ R[i].fd, POLLIN, 0 };
			who[n++] = &R[i];
		}
		if (poll(pf, n, timeout) < 0 && errno != EINTR)
			_exit(1);
		for (size_t i = 1; i < n; i++)
			if (pf[i].revents)
				child_readable(sp, who[i]);
		now = now_ms();
		for (int i = 0; i < IDENT_MAX_RUNNING; i++)
			if (R[i].used && R[i].deadline <= now)
				finish(sp, &R[i], true);
		if (pf[0].revents) {
			struct ident_req rq;
			int cfd, got = recv_req(sp, &rq, &cfd);
			if (got < 0)
				break;
			if (got > 0)
				start(sp, &rq, cfd, switch_ids);
		}
	}
	for (int i = 0; i < IDENT_MAX_RUNNING; i++)
		if (R[i].used) {
			kill(-R[i].pid, SIGKILL);
			waitpid(R[i].pid, NULL, 0);
		}
	_exit(0);
}
