/*
 * prove_trust.c — the trust rule of hub/prove.h: which compiler hubd runs
 * for a proof, which files of proofs it reads; and its state directory.
 */
#include "prove.h"
#include "prove_int.h"
#include "hub.h"
#include "privsep.h"

#include "../lib/log.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct prove_state prove_st;

bool prove_file_trusted(const char *path, uid_t uid, char *why, size_t len)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, len, "%s: not a regular file", path);
		return false;
	}
	if (st.st_uid != 0 && st.st_uid != uid) {
		snprintf(why, len, "%s: owned by uid %u, not root nor hubd's user", path,
			 (unsigned)st.st_uid);
		return false;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, len, "%s: writable by group or others", path);
		return false;
	}
	return true;
}

/* p and every directory above it: owned by root, no group/other write. */
static bool root_chain(char *p, char *why, size_t len)
{
	for (;;) {
		struct stat st;
		char *slash;
		if (stat(p, &st) < 0) {
			snprintf(why, len, "%s: %s", p, strerror(errno));
			return false;
		}
		if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
			snprintf(why, len, "%s is %s", p, st.st_uid != 0 ? "not owned by root"
				 : "writable by group or others");
			return false;
		}
		slash = strrchr(p, '/');
		if (!slash || slash == p) {
			if (slash && p[1]) {	/* "/usr": then "/" */
				p[1] = 0;
				continue;
			}
			return true;
		}
		*slash = 0;
	}
}

bool prove_compiler_trusted(const char *path, char *out, size_t outlen, char *why, size_t len)
{
	char real[PATH_MAX];
	struct stat st;

	if (!realpath(path, real)) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return false;
	}
	if (stat(real, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, len, "%s: not a regular file", real);
		return false;
	}
	if (out && snprintf(out, outlen, "%s", real) >= (int)outlen) {
		snprintf(why, len, "%s: path too long", real);
		return false;
	}
	if (!root_chain(real, why, len)) {
		char w[200];
		snprintf(w, sizeof w, "%s", why);
		snprintf(why, len, "%s is not a system compiler (%s)", path, w);
		return false;
	}
	return true;
}

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The canary directory: the option, the installed one beside hubd
 * (PREFIX/sbin/hubd -> PREFIX/share/usbfarm/canaries, install.mk), or the
 * source tree's beside the build (build/bin/hubd -> scripts/lib/canaries). */
static void canary_dir(const char *opt, char *out, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n;

	if (opt) {
		snprintf(out, len, "%s", opt);
		return;
	}
	snprintf(out, len, "/usr/share/usbfarm/canaries");
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return;
	exe[n] = 0;
	for (int up = 0; up < 3; up++) {
		char *s = strrchr(exe, '/');
		if (!s)
			return;
		*s = 0;
		if (up == 1) {	/* PREFIX */
			snprintf(out, len, "%.*s/share/usbfarm/canaries",
				 (int)(len > 40 ? len - 40 : 0), exe);
			if (is_dir(out))
				return;
		}
	}
	snprintf(out, len, "%.*s/scripts/lib/canaries", (int)(len > 40 ? len - 40 : 0), exe);
	if (!is_dir(out))
		snprintf(out, len, "/usr/share/usbfarm/canaries");
}

static void state_dir(const char *opt, char *out, size_t len)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (opt)
		snprintf(out, len, "%s", opt);
	else if (privsep_root())
		snprintf(out, len, "/var/lib/usbfarm/hubd");
	else if (x && x[0] == '/')
		snprintf(out, len, "%s/usbfarm", x);
	else
		snprintf(out, len, "%s/.local/state/usbfarm", home ? home : "/tmp");
}

/* mkdir -p of the state dir's parents; the dir itself owned by us */
static int make_state_dir(const char *d)
{
	char p[sizeof prove_st.state];

	snprintf(p, sizeof p, "%s", d);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			if (mkdir(p, 0755) < 0 && errno != EEXIST)
				return -errno;
			*s = '/';
		}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (privsep_root() && chown(p, privsep_uid(), privsep_gid()) < 0)
		return -errno;
	if (chmod(p, 0755) < 0)
		return -errno;
	return 0;
}

static void load_proofs(void)
{
	char path[sizeof prove_st.state + 8], why[300];
	struct pairs t;
	uid_t us = privsep_root() ? privsep_uid() : getuid();

	snprintf(path, sizeof path, "%s/pairs", prove_st.state);
	if (access(path, F_OK) < 0)
		return;
	if (!prove_file_trusted(path, us, why, sizeof why)) {
		log_warn("proofs not loaded: %s", why);
		return;
	}
	if (pairs_load(&t, path) < 0) {
		log_warn("proofs not loaded: %s unreadable", path);
		return;
	}
	for (size_t i = 0; i < t.n && hub.pairs.n < PAIRS_MAX; i++)
		if (!pairs_find(&hub.pairs, t.e[i].p.hub_fp, t.e[i].p.board_fp))
			hub.pairs.e[hub.pairs.n++] = t.e[i];
	log_info("%zu proven pairs loaded from %s", t.n, path);
}

int prove_init(const char *state, const char *canaries)
{
	int rc;

	state_dir(state, prove_st.state, sizeof prove_st.state);
	canary_dir(canaries, prove_st.canaries, sizeof prove_st.canaries);
	rc = make_state_dir(prove_st.state);
	if (rc < 0) {
		log_warn("state directory %s: %s: pairs are not proven by hubd", prove_st.state,
			 strerror(-rc));
		prove_st.state[0] = 0;
		return rc;
	}
	rc = prove_load_canaries();
	if (rc < 0) {
		log_warn("canaries in %s: %s: pairs are not proven by hubd", prove_st.canaries,
			 strerror(-rc));
		prove_st.state[0] = 0;
		return rc;
	}
	load_proofs();
	return 0;
}
