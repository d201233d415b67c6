/*
 * buildonce.c — markers shared by the dcc processes of one build
 * (buildonce.h). Invariant: a marker is only ever read or created in a
 * directory that lstat shows is a real directory owned by this uid with no
 * group or other access; anything else and no marker is used (the caller
 * then says its message every time rather than never).
 */
#include "buildonce.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MARKER_MAX_AGE_S (24 * 3600)

static int marker_dir(char *dir, size_t len)
{
	const char *x = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	int n;

	if (x && x[0] == '/')
		n = snprintf(dir, len, "%s/usbfarm-dcc", x);
	else
		n = snprintf(dir, len, "/tmp/usbfarm-dcc-%u", (unsigned)getuid());
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077))
		return -EPERM;
	return 0;
}

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

/* ppid, comm and start time of pid from /proc/PID/stat. */
static int proc_stat(pid_t pid, pid_t *ppid, char *comm, size_t clen,
		     unsigned long long *start)
{
	char p[64], b[1024], *l, *r;
	FILE *f;
	size_t n;

	snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
	f = fopen(p, "re");
	if (!f)
		return -1;
	n = fread(b, 1, sizeof b - 1, f);
	fclose(f);
	b[n] = 0;
	l = strchr(b, '(');
	r = strrchr(b, ')');
	if (!l || !r || r < l)
		return -1;
	snprintf(comm, clen, "%.*s", (int)(r - l - 1), l + 1);
	/* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt cmajflt utime stime cutime cstime priority nice threads
	 * itrealvalue starttime */
	int ip;
	if (sscanf(r + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
			  "%*d %*d %*d %*d %llu", &ip, start) != 2)
		return -1;
	*ppid = ip;
	return 0;
}

static void build_id(char *out, size_t len)
{
	pid_t pid = getppid(), ppid, best = pid;
	unsigned long long start = 0, best_start = 0;
	char comm[64];

	for (int depth = 0; pid > 1 && depth < 64; depth++) {
		if (proc_stat(pid, &ppid, comm, sizeof comm, &start) < 0)
			break;
		if (depth == 0 || !strcmp(comm, "make") || !strcmp(comm, "gmake") ||
		    !strcmp(comm, "ninja") || !strcmp(comm, "samu")) {
			best = pid;
			best_start = start;
		}
		pid = ppid;
	}
	snprintf(out, len, "%d-%llu", (int)best, best_start);
}

static void sweep(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	time_t now = time(NULL);

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat st;
		if (strncmp(e->d_name, "once-", 5))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    now - st.st_mtime > MARKER_MAX_AGE_S)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

bool once_per_build(const char *what, const char *socket)
{
	char dir[256], id[64], p[512];
	int fd;

	if (marker_dir(dir, sizeof dir) < 0)
		return true;
	build_id(id, sizeof id);
	snprintf(p, sizeof p, "%s/once-%s-%016llx-%s", dir, what,
		 (unsigned long long)fnv(socket), id);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return errno != EEXIST;
	close(fd);
	sweep(dir);
	return true;
}

static int silent_path(const char *socket, char *p, size_t len)
{
	char dir[256];
	if (marker_dir(dir, sizeof dir) < 0)
		return -1;
	snprintf(p, len, "%s/silent-%016llx", dir, (unsigned long long)fnv(socket));
	return 0;
}

void hub_silent_mark(const char *socket)
{
	char p[512];
	int fd;

	if (silent_path(socket, p, sizeof p) < 0)
		return;
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	futimens(fd, NULL);
	close(fd);
}

bool hub_silent_recent(const char *socket)
{
	char p[512];
	struct stat st;
	struct timespec now;

	if (silent_path(socket, p, sizeof p) < 0 || lstat(p, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	clock_gettime(CLOCK_REALTIME, &now);
	return now.tv_sec >= st.st_mtim.tv_sec && now.tv_sec - st.st_mtim.tv_sec < HUB_SILENT_SKIP_S;
}
