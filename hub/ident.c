/*
 * ident.c — the dispatcher's side of compiler identification (ident.h):
 * starting the identifier, the per-uid cache, requests and answers.
 *
 * Invariants: an entry is found only by a lookup of the same client uid and
 * the same (path, dev, ino, size, mtime); a pending entry is never evicted
 * (the tags waiting on it get exactly one callback); an answer whose
 * identity would not survive the wire (compiler_wire_ok) is a failure.
 */
#include "ident.h"
#include "ident_run.h"
#include "clock.h"
#include "log.h"
#include "privsep.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct entry {
	uint64_t serial;
	uid_t uid;
	char path[COMPILER_PATH_MAX];
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	bool cacheable, pending;
	uint64_t retry_ms;	/* a timed-out answer: asked again after this */
	struct ident_result res;
	uint64_t *tags;
	size_t ntags, cap;
	uint64_t used;
	struct entry *next;
};

static struct {
	int sp;
	pid_t pid;
	struct entry *list;
	size_t n;
	uint64_t next_serial, tick;
} I = { .sp = -1, .pid = -1 };

int ident_fd(void)
{
	return I.sp;
}

int ident_start(void)
{
	int fd = -1;
	pid_t pid = privsep_fork_helper(&fd);

	if (pid < 0)
		return (int)pid;
	if (pid == 0) {
		if (privsep_root()) {
			int rc = privsep_become(privsep_uid(), privsep_gid(),
						PRIVSEP_CAP(CAP_SETUID) | PRIVSEP_CAP(CAP_SETGID));
			if (rc < 0) {
				log_err("identifier: cannot drop privileges: %s", strerror(-rc));
				_exit(1);
			}
		}
		ident_serve(3, privsep_root());
	}
	I.sp = fd;
	I.pid = pid;
	fcntl(I.sp, F_SETFL, fcntl(I.sp, F_GETFL) | O_NONBLOCK);
	return 0;
}

static void entry_free(struct entry *e)
{
	struct entry **pp = &I.list;
	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = e->next;
		I.n--;
	}
	free(e->tags);
	free(e);
}

static int add_tag(struct entry *e, uint64_t tag)
{
	if (e->ntags == e->cap) {
		size_t nc = e->cap ? e->cap * 2 : 4;
		uint64_t *t = realloc(e->tags, nc * sizeof *t);
		if (!t)
			return -ENOMEM;
		e->tags = t;
		e->cap = nc;
	}
	e->tags[e->ntags++] = tag;
	return 0;
}

/* Room for one more entry: evicts the least recently used finished one. */
static bool make_room(void)
{
	struct entry *old = NULL;
	if (I.n < IDENT_CACHE_MAX)
		return true;
	for (struct entry *e = I.list; e; e = e->next)
		if (!e->pending && (!old || e->used < old->used))
			old = e;
	if (!old)
		return false;
	entry_free(old);
	return true;
}

static int send_req(const struct entry *e, int client_fd)
{
	struct ident_req rq;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { &rq, sizeof rq };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
	struct cmsghdr *cm;

	memset(&rq, 0, sizeof rq);
	memset(&ctl, 0, sizeof ctl);
	rq.serial = e->serial;
	snprintf(rq.path, sizeof rq.path, "%s", e->path);
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &client_fd, sizeof client_fd);
	if (sendmsg(I.sp, &m, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)sizeof rq)
		return -errno;
	return 0;
}

static struct entry *find(uid_t uid, const char *path, const struct stat *st)
{
	for (struct entry *e = I.list; e; e = e->next)
		if (e->cacheable && e->uid == uid && e->dev == st->st_dev &&
		    e->ino == st->st_ino && e->size == st->st_size &&
		    e->mtime.tv_sec == st->st_mtim.tv_sec &&
		    e->mtime.tv_nsec == st->st_mtim.tv_nsec && !strcmp(e->path, path)) {
			if (!e->pending && e->res.rc == -ETIMEDOUT && now_ms() >= e->retry_ms) {
				entry_free(e);	/* a loaded machine, not the compiler: ask again */
				return NULL;
			}
			return e;
		}
	return NULL;
}

/* Identifications under way for uid: one user cannot take every slot. */
static int pending_of(uid_t uid)
{
	int n = 0;
	for (struct entry *e = I.list; e; e = e->next)
		n += e->pending && e->uid == uid;
	return n;
}

static int lookup_fail(struct ident_result *out, int rc, const char *why)
{
	memset(out, 0, sizeof *out);
	out->rc = rc;
	snprintf(out->why, sizeof out->why, "%s", why);
	return rc;
}

int ident_lookup(int client_fd, const char *path, uint64_t tag, struct ident_result *out)
{
	struct ucred cr;
	socklen_t cl = sizeof cr;
	struct stat st;
	struct entry *e;
	bool cacheable;
	int rc;

	if (strlen(path) >= COMPILER_PATH_MAX || path[0] != '/')
		return lookup_fail(out, -EINVAL, "compiler path not absolute or too long");
	if (getsockopt(client_fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0)
		return lookup_fail(out, -errno, "cannot read the client's credentials");
	cacheable = stat(path, &st) == 0;
	e = cacheable ? find(cr.uid, path, &st) : NULL;
	if (e) {
		e->used = ++I.tick;
		if (!e->pending) {
			*out = e->res;
			return 1;
		}
		if (add_tag(e, tag) < 0)
			return lookup_fail(out, -ENOMEM, "out of memory");
		return 0;
	}
	if (I.sp < 0)
		return lookup_fail(out, -EIO, "hubd's compiler identifier is not running");
	if (pending_of(cr.uid) >= IDENT_MAX_PER_UID)
		return lookup_fail(out, -EBUSY, "this user has too many compilers being identified");
	if (!make_room() || !(e = calloc(1, sizeof *e)))
		return lookup_fail(out, -EBUSY, "too many compilers being identified");
	e->serial = ++I.next_serial;
	e->uid = cr.uid;
	snprintf(e->path, sizeof e->path, "%s", path);
	e->cacheable = cacheable;
	if (cacheable) {
		e->dev = st.st_dev;
		e->ino = st.st_ino;
		e->size = st.st_size;
		e->mtime = st.st_mtim;
	}
	e->pending = true;
	e->used = ++I.tick;
	rc = add_tag(e, tag);
	if (rc == 0)
		rc = send_req(e, client_fd);
	if (rc < 0) {
		free(e->tags);
		free(e);
		return lookup_fail(out, rc, rc == -EAGAIN ? "hubd's compiler identifier is busy"
							  : "cannot reach hubd's compiler identifier");
	}
	e->next = I.list;
	I.list = e;
	I.n++;
	return 0;
}

/* Delivers e's result to its waiters; forgets what is not to be kept. */
static void deliver(struct entry *e, ident_done_fn cb, void *user)
{
	uint64_t *tags = e->tags;
	size_t n = e->ntags;
	int rc = e->res.rc;

	e->pending = false;
	e->tags = NULL;
	e->ntags = e->cap = 0;
	if (rc == 0) {
		char d[160];
		compiler_describe(&e->res.id, d, sizeof d);
		log_info("compiler %s (uid %u): %s", e->path, (unsigned)e->uid, d);
	} else {
		log_warn("compiler %s (uid %u) not identified: %s", e->path, (unsigned)e->uid,
			 e->res.why);
	}
	for (size_t i = 0; i < n; i++)
		cb(tags[i], &e->res, user);
	free(tags);
	/* a timeout is kept a while (jobs meanwhile compile locally without
	 * waiting for it), then asked again: not for as long as hubd runs */
	e->retry_ms = now_ms() + IDENT_RETRY_MS;
	if (!e->cacheable || rc == -EBUSY || rc == -EAGAIN || rc == -EIO || rc == -ENOMEM)
		entry_free(e);
}

static void identifier_gone(ident_done_fn cb, void *user)
{
	log_err("the compiler identifier ended: jobs naming new compilers compile locally");
	close(I.sp);
	I.sp = -1;
	if (I.pid > 0)
		waitpid(I.pid, NULL, 0);
	I.pid = -1;
	for (struct entry *e = I.list, *next; e; e = next) {
		next = e->next;
		if (!e->pending)
			continue;
		lookup_fail(&e->res, -EIO, "hubd's compiler identifier ended");
		deliver(e, cb, user);
	}
}

void ident_process(ident_done_fn cb, void *user)
{
	while (I.sp >= 0) {
		struct ident_rep rep;
		ssize_t n = recv(I.sp, &rep, sizeof rep, MSG_DONTWAIT | MSG_TRUNC);
		struct entry *e;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			identifier_gone(cb, user);
			return;
		}
		if ((size_t)n != sizeof rep)
			continue;
		for (e = I.list; e; e = e->next)
			if (e->pending && e->serial == rep.serial)
				break;
		if (!e)
			continue;
		e->res = rep.res;
		e->res.why[sizeof e->res.why - 1] = 0;
		if (e->res.rc > 0 || (e->res.rc == 0 && !compiler_wire_ok(&e->res.id)))
			lookup_fail(&e->res, -EPROTO, "the identifier's answer is malformed");
		if (e->res.rc == 0)
			snprintf(e->res.id.path, sizeof e->res.id.path, "%s", e->path);
		deliver(e, cb, user);
	}
}

void ident_stop(void)
{
	if (I.sp >= 0)
		close(I.sp);
	I.sp = -1;
	if (I.pid > 0) {
		kill(I.pid, SIGTERM);
		waitpid(I.pid, NULL, 0);
	}
	I.pid = -1;
	while (I.list)
		entry_free(I.list);
}
