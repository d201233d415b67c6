/*
 * slots.c — the slots' uid block, its lock, orphans and stale dirs (slots.h).
 *
 * Invariant: a process with a uid of a block is killed only while this
 * noded holds that block's lock, so a live noded's jobs are never touched.
 */
#include "slots.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

uid_t slots_uid(const struct slots *s, int i)
{
	return s->base + (uid_t)i;
}

/* No user and no group of the system has an id in the range. */
static int range_unused(uid_t lo, uid_t n, char *why, size_t wl)
{
	struct passwd *pw;
	struct group *gr;
	int r = 0;

	setpwent();
	while (!r && (pw = getpwent()))
		if (pw->pw_uid >= lo && pw->pw_uid - lo < n) {
			snprintf(why, wl, "user %s has uid %u, inside the slots' reserved range "
				 "%u..%u (--uid-base)", pw->pw_name, (unsigned)pw->pw_uid,
				 (unsigned)lo, (unsigned)(lo + n - 1));
			r = -EEXIST;
		}
	endpwent();
	setgrent();
	while (!r && (gr = getgrent()))
		if (gr->gr_gid >= lo && gr->gr_gid - lo < n) {
			snprintf(why, wl, "group %s has gid %u, inside the slots' reserved range",
				 gr->gr_name, (unsigned)gr->gr_gid);
			r = -EEXIST;
		}
	endgrent();
	return r;
}

/* Whether a /proc/PID/status names a uid in [lo, lo + n). */
static bool proc_in_range(int procfd, const char *pid, uid_t lo, uid_t n)
{
	char path[64], buf[2048];
	ssize_t l;
	int fd;
	char *u;
	unsigned long v[4];

	snprintf(path, sizeof path, "%s/status", pid);
	fd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	l = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (l <= 0)
		return false;
	buf[l] = 0;
	u = strstr(buf, "\nState:");
	if (u && (strchr("ZX", u[8]) || strchr("ZX", u[7])))
		return false;	/* dead already: holds nothing, runs nothing */
	u = strstr(buf, "\nUid:");
	if (!u || sscanf(u + 5, "%lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3]) != 4)
		return false;
	for (int i = 0; i < 4; i++)
		if (v[i] >= lo && v[i] - lo < n)
			return true;
	return false;
}

unsigned slots_kill_uids(uid_t lo, uid_t n)
{
	unsigned killed = 0;
	int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (procfd < 0)
		return 0;
	/* until a whole pass finds none: a dying tree may still fork */
	for (int pass = 0; pass < 100; pass++) {
		unsigned found = 0;
		int fd = dup(procfd);
		DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
		struct dirent *e;
		if (!d) {
			if (fd >= 0)
				close(fd);
			break;
		}
		while ((e = readdir(d))) {
			if (e->d_name[0] < '1' || e->d_name[0] > '9')
				continue;
			if (proc_in_range(procfd, e->d_name, lo, n) &&
			    kill((pid_t)atoi(e->d_name), SIGKILL) == 0)
				found++;
		}
		closedir(d);
		killed += found;
		if (!found)
			break;
		usleep(10000);
	}
	close(procfd);
	return killed;
}

static unsigned empty_at(int dirfd, int depth)
{
	unsigned n = 0;
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		n++;
		if (unlinkat(dirfd, e->d_name, 0) == 0)
			continue;
		if ((errno == EISDIR || errno == EPERM) && depth < 64) {
			int sub = openat(dirfd, e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				empty_at(sub, depth + 1);
				close(sub);
			}
			unlinkat(dirfd, e->d_name, AT_REMOVEDIR);
		}
	}
	closedir(d);
	return n;
}

unsigned slots_empty_dir(int dirfd)
{
	return empty_at(dirfd, 0);
}

/* A root-owned dir we may trust: made or found, never a symlink, owned by
 * us, writable by nobody else; its fd, or -errno. */
static int own_dir(const char *path, mode_t mode)
{
	struct stat st;
	int fd;

	if (mkdir(path, mode) && errno != EEXIST)
		return -errno;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_uid != geteuid() || (st.st_mode & 022) || fchmod(fd, mode)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

static int lock_block(const char *dir, unsigned b)
{
	char p[4200];
	int fd;

	snprintf(p, sizeof p, "%s/uids.%u.lock", dir, b);
	fd = open(p, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		close(fd);
		return -EWOULDBLOCK;
	}
	return fd;
}

/* Empties <tmp_root>/usbfarm-noded.<b> if it is ours: entries removed. */
static unsigned empty_block_root(const char *tmp_root, unsigned b)
{
	char p[4200];
	struct stat st;
	unsigned n = 0;
	int fd;

	snprintf(p, sizeof p, "%s/usbfarm-noded.%u", tmp_root, b);
	fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (!fstat(fd, &st) && st.st_uid == geteuid() && !(st.st_mode & 022))
		n = slots_empty_dir(fd);
	close(fd);
	return n;
}

/* Ends the orphans of every block nobody holds and removes their job dirs
 * (taking each lock while at it). */
static void sweep_free_blocks(struct slots *s, const char *lockdir, uid_t range_base,
			      const char *tmp_root)
{
	for (unsigned b = 0; b < SLOTS_BLOCKS; b++) {
		int fd = b == s->block ? -1 : lock_block(lockdir, b);
		if (b != s->block && fd < 0)
			continue;	/* a live noded's */
		s->killed += slots_kill_uids(range_base + b * SLOTS_BLOCK_UIDS, SLOTS_BLOCK_UIDS);
		if (b != s->block)
			s->swept += empty_block_root(tmp_root, b);
		if (fd >= 0)
			close(fd);
	}
}

int slots_claim(struct slots *s, uid_t range_base, const char *tmp_root, char *why,
		size_t whylen)
{
	char lockdir[4096];
	int dfd, r;

	memset(s, 0, sizeof *s);
	s->lockfd = -1;
	if (geteuid() == 0) {
		if ((r = range_unused(range_base, SLOTS_BLOCKS * SLOTS_BLOCK_UIDS, why, whylen)))
			return r;
		snprintf(lockdir, sizeof lockdir, "%s", SLOTS_LOCK_DIR);
	} else {
		snprintf(lockdir, sizeof lockdir, "%s/usbfarm-locks.%u", tmp_root,
			 (unsigned)geteuid());
	}
	if ((dfd = own_dir(lockdir, 0755)) < 0) {
		snprintf(why, whylen, "%s: %s", lockdir, strerror(-dfd));
		return dfd;
	}
	close(dfd);
	for (s->block = 0; s->block < SLOTS_BLOCKS; s->block++)
		if ((s->lockfd = lock_block(lockdir, s->block)) >= 0)
			break;
	if (s->lockfd < 0) {
		snprintf(why, whylen, "all %u slot uid blocks are held by running noded",
			 SLOTS_BLOCKS);
		return -EBUSY;
	}
	s->base = range_base + s->block * SLOTS_BLOCK_UIDS;
	if (geteuid() == 0)
		sweep_free_blocks(s, lockdir, range_base, tmp_root);
	snprintf(s->root, sizeof s->root, "%s/usbfarm-noded.%u", tmp_root, s->block);
	if ((dfd = own_dir(s->root, 0711)) < 0) {
		snprintf(why, whylen, "job root %s: %s (not ours, or not a dir)", s->root,
			 strerror(-dfd));
		close(s->lockfd);
		s->lockfd = -1;
		return dfd;
	}
	s->swept += slots_empty_dir(dfd);
	close(dfd);
	return 0;
}
