/*
 * privsep.c — hubd's user, capabilities and socket ownership (privsep.h).
 *
 * Capabilities are set with the raw capset(2) system call (no libcap): the
 * masks are small and fixed. Invariant: after privsep_become() the process
 * has no uid 0 (real, effective, saved), its bounding set holds only the
 * kept capabilities (read back, not assumed), and no_new_privs is set; any
 * step that fails is an error, never a silently weaker drop.
 */
#include "privsep.h"
#include "log.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct {
	bool root;
	uid_t uid;
	gid_t gid;		/* run-as user's primary group */
	gid_t sock_gid;		/* group of the socket and its directory */
} P;

bool privsep_root(void) { return P.root; }
uid_t privsep_uid(void) { return P.uid; }
gid_t privsep_gid(void) { return P.gid; }

void privsep_init(const char *user, const char *group)
{
	const char *u = user ? user : PRIVSEP_DEFAULT_USER;
	const char *g = group ? group : PRIVSEP_DEFAULT_GROUP;
	struct passwd *pw;
	struct group *gr;

	P.root = geteuid() == 0;
	P.uid = geteuid();
	P.gid = getegid();
	P.sock_gid = getegid();
	if (!P.root)
		return;
	pw = getpwnam(u);
	if (!pw && !user) {
		log_warn("user %s does not exist: hubd runs as nobody (create it: "
			 "useradd -r -s /usr/sbin/nologin %s)", u, u);
		pw = getpwnam("nobody");
	}
	if (!pw)
		fatal("user %s does not exist (--user)", u);
	if (pw->pw_uid == 0)
		fatal("--user %s is root: hubd does not serve clients as root", u);
	P.uid = pw->pw_uid;
	P.gid = pw->pw_gid;
	gr = getgrnam(g);
	if (!gr && group)
		fatal("group %s does not exist (--group)", g);
	if (gr) {
		P.sock_gid = gr->gr_gid;
	} else {
		P.sock_gid = P.gid;
		log_warn("group %s does not exist: only root can use dcc with this hubd "
			 "(create it: groupadd -r %s; add users to it)", g, g);
	}
}

int privsep_socket_dir(const char *path)
{
	char dir[256];
	char *s;

	if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
		return -ENAMETOOLONG;
	s = strrchr(dir, '/');
	if (!s || s == dir)
		return 0;
	*s = 0;
	if (mkdir(dir, P.root ? 0750 : 0700) < 0)
		return errno == EEXIST ? 0 : -errno;
	/* Only a directory hubd created is given away; an existing one (say
	 * /tmp) keeps its owner and mode. */
	if (P.root && (chown(dir, P.uid, P.sock_gid) < 0 || chmod(dir, 0750) < 0))
		return -errno;
	return 0;
}

int privsep_socket_bound(const char *path)
{
	if (P.root && chown(path, P.uid, P.sock_gid) < 0)
		return -errno;
	if (chmod(path, 0660) < 0)
		return -errno;
	return 0;
}

static int caps_apply(uint64_t keep)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof d);
	d[0].effective = d[0].permitted = (uint32_t)keep;
	d[1].effective = d[1].permitted = (uint32_t)(keep >> 32);
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

int privsep_caps_clear(void)
{
	return caps_apply(0);
}

uint64_t privsep_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof d);
	if (syscall(SYS_capget, &h, d) < 0)
		return ~0ull;
	return (uint64_t)d[0].effective | ((uint64_t)d[1].effective << 32) |
	       (uint64_t)d[0].permitted | ((uint64_t)d[1].permitted << 32);
}

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int n = -1;
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n >= 0 && n < 64 ? n : 40;
}

int privsep_become(uid_t uid, gid_t gid, uint64_t keep)
{
	int last = last_cap();
	uid_t r, e, s;

	if (uid == 0)
		return -EINVAL;
	for (int c = 0; c <= last; c++)
		if (!(keep & PRIVSEP_CAP(c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 &&
		    errno != EINVAL)
			return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	if (prctl(PR_SET_KEEPCAPS, keep ? 1 : 0, 0, 0, 0) < 0)
		return -errno;
	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0)
		return -errno;
	if (caps_apply(keep) < 0)
		return -errno;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	/* verify: no way back to root, nothing beyond `keep` */
	if (getresuid(&r, &e, &s) < 0 || r != uid || e != uid || s != uid)
		return -EPERM;
	if (privsep_caps() & ~keep)
		return -EPERM;
	for (int c = 0; c <= last; c++)
		if (!(keep & PRIVSEP_CAP(c)) && prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			return -EPERM;
	if (!(keep & PRIVSEP_CAP(CAP_SETUID)) && setuid(0) == 0)
		return -EPERM;
#ifdef __SANITIZE_ADDRESS__
	/* LeakSanitizer stops the world through ptrace of its own threads,
	 * which a non-dumpable process refuses. Sanitized test builds only. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	return 0;
}

void privsep_drop_dispatcher(void)
{
	int rc;

	if (!P.root) {
		/* hubd started by a normal user changes no ids, but whatever
		 * capabilities it was given (file or ambient) stay with the opener */
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
			fatal("cannot clear the ambient capabilities: %s", strerror(errno));
		if (privsep_caps() && (privsep_caps_clear() < 0 || privsep_caps()))
			fatal("cannot drop the capabilities hubd was started with");
		return;
	}
	rc = privsep_become(P.uid, P.gid, 0);
	if (rc < 0)
		fatal("cannot drop privileges to uid %u: %s", (unsigned)P.uid, strerror(-rc));
	log_info("running as uid %u gid %u with no capabilities (permitted, effective, bounding: "
		 "none); links come from the link opener", (unsigned)P.uid, (unsigned)P.gid);
}
