/*
 * scand.c — the per-user scan server's process (see scand.h): the
 * directory and its checks, the lock that makes one server per user, the
 * one poll loop (the listener and up to SCAND_MAX_CLIENTS connections;
 * a readable connection's request is read whole, with SCAND_IO_MS per call
 * without progress, then answered), the idle timer and the signals.
 * Requests are served one at a time: a scan is a few ms once the table is
 * warm, and one struct scan serves them all.
 */
#include "scand.h"
#include "../lib/clock.h"
#include "../lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int scand_dir(char *buf, size_t len)
{
	const char *x = getenv("XDG_RUNTIME_DIR");
	int n;

	if (x && x[0] == '/')
		n = snprintf(buf, len, "%s/usbfarm", x);
	else
		n = snprintf(buf, len, "/tmp/usbfarm-%u", (unsigned)getuid());
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int scand_dir_check(const char *dir, char *why, size_t wlen)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		snprintf(why, wlen, "cannot make %s: %s", dir, strerror(e));
		return -e;
	}
	if (lstat(dir, &st) < 0) {
		int e = errno;
		snprintf(why, wlen, "%s: %s", dir, strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, wlen, "%s is not a directory", dir);
		return -ENOTDIR;
	}
	if (st.st_uid != getuid()) {
		snprintf(why, wlen, "%s is owned by uid %u, not %u", dir, (unsigned)st.st_uid,
			 (unsigned)getuid());
		return -EPERM;
	}
	if (st.st_mode & 022) {
		snprintf(why, wlen, "%s is writable by others (mode %04o)", dir,
			 (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

struct server {
	struct scan *scan;
	char dir[PATH_MAX - 32], sock[PATH_MAX];
	int lfd, lockfd;
	struct pollfd pfd[1 + SCAND_MAX_CLIENTS];
	size_t n;		/* pfd entries in use; [0] is the listener */
	uint64_t start_ms, last_ms;
	unsigned idle_s;
	struct scand_stats st;
	dev_t sock_dev;		/* the socket we bound */
	ino_t sock_ino;
	bool sock_lost;		/* removed or replaced: not ours to unlink */
};

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig)
{
	stop_sig = sig;
}

/* The peer's uid is ours: true. */
static bool peer_is_us(int fd)
{
	struct ucred cr;
	socklen_t l = sizeof cr;

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) == 0 && cr.uid == getuid();
}

/* Connects to path once: true when a server of ours answers there. */
static bool someone_serves(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;
	bool ok;

	if (strlen(path) >= sizeof sa.sun_path)
		return false;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && peer_is_us(fd);
	close(fd);
	return ok;
}

/* The lock: 0 (ours), 1 (another server serves: we are not needed), or
 * -errno. While another holds the lock and does not serve yet (starting,
 * or exiting), wait for one or the other, up to SCAND_START_MS. */
static int take_lock(struct server *s)
{
	char p[PATH_MAX];
	uint64_t end = now_ms() + SCAND_START_MS;

	snprintf(p, sizeof p, "%s/scan.lock", s->dir);
	s->lockfd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s->lockfd < 0)
		return -errno;
	for (;;) {
		if (flock(s->lockfd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK)
			return -errno;
		if (someone_serves(s->sock))
			return 1;
		if (now_ms() > end)
			return -EBUSY;
		usleep(20000);
	}
}

static int listen_on(struct server *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, rc = 0;

	if (strlen(s->sock) >= sizeof sa.sun_path)
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, s->sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	(void)unlink(s->sock);	/* a dead server's: we hold the lock */
	old = umask(077);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 128) < 0)
		rc = -errno;
	umask(old);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	struct stat st;
	if (lstat(s->sock, &st) == 0) {
		s->sock_dev = st.st_dev;
		s->sock_ino = st.st_ino;
	}
	s->lfd = fd;
	return 0;
}

static void write_pid(const struct server *s)
{
	char p[PATH_MAX];
	char t[24];
	int fd, n;

	snprintf(p, sizeof p, "%s/scan.pid", s->dir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		n = snprintf(t, sizeof t, "%d\n", (int)getpid());
		(void)write_full(fd, t, (size_t)n);
		close(fd);
	}
}

/* ---- requests ---- */

static int do_scan(struct server *s, const struct buf *in, struct buf *out)
{
	struct scand_req q;
	struct scand_res res;
	struct scan_job job;
	uint64_t t0;
	int rc = scand_decode_req(in->data, in->len, &q);

	if (rc < 0)
		return rc;
	memset(&res, 0, sizeof res);
	job = (struct scan_job){ q.argv, (size_t)q.argc, q.compiler[0] ? q.compiler : NULL,
				 q.cwd };
	t0 = now_us();
	res.rc = scan_job(s->scan, &job, &res.r);
	res.scan_us = now_us() - t0;
	s->st.scans++;
	if (res.rc == 0)
		res.time_macros = res.r.time_macros;	/* found as the file table hashed */
	if (res.rc == 0)
		res.gas_reads = res.r.gas_reads;
	if (res.rc < 0) {
		s->st.scan_errors++;
		log_info("scan %s in %s: %s", q.argv[q.argc - 1], q.cwd, res.r.err);
	} else {
		log_info("scan %s: %zu inputs, %zu gaps%s, %llu us",
			 res.r.nin ? res.r.in[0].spelled : q.argv[q.argc - 1],
			 res.r.nin, res.r.ngaps, res.r.incomplete ? " (incomplete)" : "",
			 (unsigned long long)res.scan_us);
	}
	rc = scand_encode_res(out, &res);
	if (rc < 0) {
		/* too large for the wire: an error answer, the dcc goes the
		 * directives-only way */
		int32_t e = rc;
		scan_result_free(&res.r);
		memset(&res, 0, sizeof res);
		res.rc = e;
		snprintf(res.r.err, sizeof res.r.err, "the result does not fit the wire: %s",
			 strerror(-e));
		out->len = 0;
		rc = scand_encode_res(out, &res);
	}
	scan_result_free(&res.r);
	scand_req_free(&q);
	return rc;
}

static int do_remember(struct server *s, const struct buf *in, struct buf *out)
{
	struct scand_remember m;
	int rc = scand_decode_remember(in->data, in->len, &m);

	if (rc < 0)
		return rc;
	rc = scan_remember(s->scan, m.file, (const char *const *)m.names, m.n);
	s->st.remembers++;
	log_info("remembered %zu inputs for %s%s", m.n, m.file, rc < 0 ? ": failed" : "");
	scand_remember_free(&m);
	return scand_encode_ack(out, rc);
}

static int do_stats(struct server *s, struct buf *out)
{
	s->st.pid = (uint32_t)getpid();
	s->st.uptime_s = (now_ms() - s->start_ms) / 1000;
	scan_get_stats(s->scan, &s->st.ft);
	return scand_encode_stats(out, &s->st);
}

/* One request on fd, answered: 0, or <0 to close the connection. */
static int serve_one(struct server *s, int fd)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	int rc = scand_recv(fd, &in);

	if (rc == 0) {
		switch (scand_type(in.data, in.len)) {
		case SCAND_SCAN: rc = do_scan(s, &in, &out); break;
		case SCAND_REMEMBER: rc = do_remember(s, &in, &out); break;
		case SCAND_STATS_REQ: rc = in.len == 2 ? do_stats(s, &out) : -EPROTO; break;
		default: rc = -EPROTO;
		}
		if (rc == 0)
			rc = scand_send(fd, &out);
		if (rc < 0 && rc != -EPIPE)
			log_warn("a client's request: %s; closed", strerror(-rc));
	}
	buf_free(&in);
	buf_free(&out);
	return rc;
}

/* ---- the loop ---- */

static void accept_one(struct server *s)
{
	struct timeval tv = { SCAND_IO_MS / 1000, (SCAND_IO_MS % 1000) * 1000 };
	int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (!peer_is_us(fd) || s->n >= 1 + SCAND_MAX_CLIENTS) {
		log_warn("%s; closed", s->n >= 1 + SCAND_MAX_CLIENTS ? "too many clients"
								     : "a client of another uid");
		close(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	s->pfd[s->n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	s->st.clients++;
}

/* The socket at s->sock is still the one we bound (not removed with its
 * directory, not replaced by another server's). */
static bool sock_is_ours(const struct server *s)
{
	struct stat st;

	return lstat(s->sock, &st) == 0 && st.st_ino == s->sock_ino && st.st_dev == s->sock_dev;
}

static void loop(struct server *s)
{
	while (!stop_sig) {
		uint64_t now = now_ms(), idle_end = s->last_ms + s->idle_s * 1000ull;
		int to = s->n > 1 ? SCAND_CHECK_MS
				  : (idle_end > now ? (int)(idle_end - now) : 0), rc;

		if (s->n == 1 && now >= idle_end) {
			log_info("no client for %u s: exiting", s->idle_s);
			return;
		}
		if (!sock_is_ours(s)) {
			log_info("%s is gone or another server's: exiting", s->sock);
			s->sock_lost = true;
			return;
		}
		rc = poll(s->pfd, s->n, to < SCAND_CHECK_MS ? to : SCAND_CHECK_MS);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll: %s", strerror(errno));
			return;
		}
		if (rc == 0)
			continue;	/* a timer: idle, or the socket's check */
		s->last_ms = now_ms();
		for (size_t i = s->n; i-- > 1;)
			if (s->pfd[i].revents && serve_one(s, s->pfd[i].fd) < 0) {
				close(s->pfd[i].fd);
				s->pfd[i] = s->pfd[--s->n];
			}
		if (s->pfd[0].revents & POLLIN)
			accept_one(s);
	}
	log_info("signal %d: exiting", (int)stop_sig);
}

/* Its own session, stdio away from the dcc that started it (make waits on
 * the pipes it holds): the parent exits at once (dcc reaps it), the child
 * serves. */
static void daemonize(void)
{
	pid_t p = fork();
	int fd;

	if (p < 0)
		fatal("fork: %s", strerror(errno));
	if (p > 0)
		_exit(0);
	(void)setsid();
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

static int parse_opts(int argc, char **argv, bool *fg, unsigned *idle)
{
	const char *e = getenv("DCC_SCAN_IDLE");

	*idle = e && atoi(e) > 0 ? (unsigned)atoi(e) : SCAND_IDLE_S;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--foreground"))
			*fg = true;
		else if (!strcmp(argv[i], "--idle") && i + 1 < argc && atoi(argv[i + 1]) > 0)
			*idle = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--scan-server")) {
			fprintf(stderr, "usage: dcc --scan-server [--foreground] [--idle SECONDS]\n");
			return -1;
		}
	}
	return 0;
}

/* The log: scan.log in the directory, on stderr. */
static void open_log(const struct server *s)
{
	static char prog[32];
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof p, "%s/scan.log", s->dir);
	fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0 && fd != 2) {
		dup2(fd, 2);
		close(fd);
	}
	snprintf(prog, sizeof prog, "scand[%d]", (int)getpid());
	log_init(prog, getenv("DCC_SCAN_DEBUG") ? 1 : 0, false);
}

static int setup(struct server *s, char *why, size_t wl)
{
	int rc = scand_dir(s->dir, sizeof s->dir);

	if (rc == 0)
		rc = scand_dir_check(s->dir, why, wl);
	else
		snprintf(why, wl, "the directory's name is too long");
	if (rc < 0)
		return rc;
	snprintf(s->sock, sizeof s->sock, "%s/scan.sock", s->dir);
	open_log(s);
	rc = take_lock(s);
	if (rc == 1) {
		log_info("another server serves %s: not needed", s->sock);
		return 1;
	}
	if (rc == 0)
		rc = listen_on(s);
	if (rc < 0) {
		snprintf(why, wl, "%s: %s", s->sock, strerror(-rc));
		log_err("%s", why);
		return rc;
	}
	s->scan = scan_new(NULL);
	if (!s->scan) {
		snprintf(why, wl, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int scand_main(int argc, char **argv)
{
	static struct server s;	/* large: not on the stack */
	struct sigaction sa = { .sa_handler = on_signal };
	char why[PATH_MAX + 64] = "";
	bool fg = false;
	int rc;

	if (parse_opts(argc, argv, &fg, &s.idle_s) < 0)
		return 2;
	if (!fg)
		daemonize();
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	s.lfd = s.lockfd = -1;
	rc = setup(&s, why, sizeof why);
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "dcc --scan-server: %s\n", why);
		return rc < 0 ? 1 : 0;
	}
	write_pid(&s);
	s.start_ms = s.last_ms = now_ms();
	s.pfd[0] = (struct pollfd){ .fd = s.lfd, .events = POLLIN };
	s.n = 1;
	log_info("serving %s (uid %u, idle exit after %u s)", s.sock, (unsigned)getuid(), s.idle_s);
	loop(&s);
	if (!s.sock_lost) {
		unlink(s.sock);	/* before the lock goes: a new server binds its own */
		snprintf(why, sizeof why, "%s/scan.pid", s.dir);
		unlink(why);
	}
	log_info("%llu clients, %llu scans (%llu failed), %llu remembered",
		 (unsigned long long)s.st.clients, (unsigned long long)s.st.scans,
		 (unsigned long long)s.st.scan_errors, (unsigned long long)s.st.remembers);
	scan_free(s.scan);
	return 0;
}
