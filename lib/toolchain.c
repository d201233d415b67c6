/*
 * toolchain.c — the files a compiler needs to run (toolchain.h): what a
 * board's tree job sandbox binds over the tree (node/tree_toolchain.c),
 * and what hubd packs to make a compiler travel (hub/toolchain.c): the
 * compiler's executables (the
 * driver by the path the job runs and its real one, cc1, as, and objcopy
 * where the driver finds one: -gsplit-dwarf runs it), the shared
 * libraries they load and glibc's C.UTF-8 locale files (a job's
 * diagnostics in UTF-8), never a directory (on Debian cc1 lives in
 * /usr/lib/gcc/<triple>/<v>/ beside gcc's own include dir, which must come
 * from the manifest).
 *
 * It runs the machine's own programs (the driver's -print-prog-name, ldd),
 * never a job's, through lib/spawn.c with a deadline; their output is
 * bounded. Every name is absolute, with no ':' (the list's separator);
 * each symlink hop is named too, since the tree recreates links and binds
 * files.
 */
#include "toolchain.h"

#include "buf.h"
#include "spawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUN_MS 20000
#define RUN_CAP (256u << 10)
#define MAX_PATHS 256

struct paths {
	char *v[MAX_PATHS];
	size_t n;
};

static int64_t mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* argv's stdout into out (capped); the exit status or -errno. */
static int run(char *const *argv, struct buf *out)
{
	static char *const envp[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", NULL };
	int p[2], st;
	int64_t deadline = mono_ms() + RUN_MS;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	struct spawn_opts o = { .argv = argv, .envp = envp, .fd_in = -1, .fd_out = p[1],
				.fd_err = -1, .new_pgrp = true, .pdeathsig = SIGKILL };
	pid_t pid = spawn_start(&o, NULL);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return pid;
	}
	for (;;) {
		struct pollfd pf = { p[0], POLLIN, 0 };
		char tmp[4096];
		int64_t left = deadline - mono_ms();
		if (left <= 0 || (poll(&pf, 1, (int)left) < 0 && errno != EINTR)) {
			kill(-pid, SIGKILL);
			break;
		}
		ssize_t n = read(p[0], tmp, sizeof tmp);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		if (out->len + (size_t)n <= RUN_CAP)
			buf_put(out, tmp, (size_t)n);
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!buf_ok(out))
		return -ENOMEM;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* p (absolute) with "." and ".." and repeated '/' removed lexically, in
 * place: the tree's mount points are clean paths, and each one is made
 * of real dirs in the tree, where the kernel resolves a link's relative
 * text this way too. */
static void clean_path(char *p)
{
	size_t o = 0;

	for (size_t i = 0; p[i];) {
		size_t l;
		while (p[i] == '/')
			i++;
		l = strcspn(p + i, "/");
		if (l == 0)
			break;
		if (l == 2 && p[i] == '.' && p[i + 1] == '.') {
			while (o > 0 && p[--o] != '/')
				;
		} else if (!(l == 1 && p[i] == '.')) {
			p[o++] = '/';
			memmove(p + o, p + i, l);
			o += l;
		}
		i += l;
	}
	if (o == 0)
		p[o++] = '/';
	p[o] = 0;
}

/* Adds p and, while it is a symlink, every hop it leads to. */
static int add(struct paths *ps, const char *p)
{
	char cur[PATH_MAX], t[PATH_MAX], nx[2 * PATH_MAX];
	struct stat sb;

	if (p[0] != '/' || strchr(p, ':') || strlen(p) >= sizeof cur)
		return -EINVAL;
	strcpy(cur, p);
	for (int hops = 0; hops < 40; hops++) {
		bool seen = false;
		for (size_t i = 0; i < ps->n; i++)
			seen |= !strcmp(ps->v[i], cur);
		if (!seen) {
			if (ps->n == MAX_PATHS || !(ps->v[ps->n] = strdup(cur)))
				return -E2BIG;
			ps->n++;
		}
		if (lstat(cur, &sb) || !S_ISLNK(sb.st_mode))
			return 0;
		ssize_t n = readlink(cur, t, sizeof t - 1);
		if (n <= 0)
			return -EINVAL;
		t[n] = 0;
		if (t[0] == '/')
			snprintf(nx, sizeof nx, "%s", t);
		else
			snprintf(nx, sizeof nx, "%.*s/%s", (int)(strrchr(cur, '/') - cur), cur, t);
		clean_path(nx);
		if (strlen(nx) >= sizeof cur || strchr(nx, ':'))
			return -EINVAL;
		strcpy(cur, nx);
	}
	return -ELOOP;
}

/* The program the driver runs for name (-print-prog-name), absolute. */
static int prog_path(const char *driver, const char *name, char *dst, size_t len)
{
	char opt[64];
	struct buf b = BUF_INIT;
	snprintf(opt, sizeof opt, "-print-prog-name=%s", name);
	char *argv[] = { (char *)driver, opt, NULL };
	int r = run(argv, &b);

	if (r == 0) {
		size_t l = strcspn((const char *)b.data, "\n");
		if (!b.len || l >= len || l >= b.len) {
			r = -EINVAL;
		} else if (b.data[0] == '/') {
			memcpy(dst, b.data, l);
			dst[l] = 0;
		} else {	/* a bare name: found in the sandbox's PATH */
			r = -ENOENT;
			for (const char *d = "/usr/bin\0/bin\0"; *d && r; d += strlen(d) + 1)
				if (snprintf(dst, len, "%s/%.*s", d, (int)l, (const char *)b.data) <
					    (int)len && access(dst, X_OK) == 0)
					r = 0;
		}
	} else if (r > 0) {
		r = -EINVAL;
	}
	buf_free(&b);
	return r;
}

/* The libraries ldd names for bin: "x => /path (addr)" and "/path (addr)". */
static int add_libs(struct paths *ps, const char *bin)
{
	struct buf b = BUF_INIT;
	char *argv[] = { "/usr/bin/ldd", (char *)bin, NULL };
	int r = run(argv, &b);

	buf_put(&b, "", 1);
	for (char *save = NULL, *l = r == 0 && buf_ok(&b) ? strtok_r((char *)b.data, "\n", &save)
							   : NULL;
	     l && !r; l = strtok_r(NULL, "\n", &save)) {
		char *a = strstr(l, "=> ");
		a = a ? a + 3 : l + strspn(l, " \t");
		if (*a != '/')
			continue;	/* linux-vdso.so.1, "not a dynamic executable" */
		a[strcspn(a, " \t")] = 0;
		r = add(ps, a);
	}
	buf_free(&b);
	return r > 0 ? -EINVAL : r;
}

/* The files of glibc's C.UTF-8 locale (Debian: /usr/lib/locale/C.utf8,
 * one level of subdirs), so a job run with LC_ALL=C.UTF-8 (job.h utf8)
 * gets it: setlocale() fails as a whole when one category is missing.
 * None on a board without it (the job then runs in C). 0 or -errno. */
static int add_locale(struct paths *ps)
{
	static const char *const dirs[] = { "/usr/lib/locale/C.utf8",
					    "/usr/lib/locale/C.utf8/LC_MESSAGES" };
	int r = 0;

	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0] && !r; i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *e;
		while (d && !r && (e = readdir(d))) {
			char p[PATH_MAX];
			struct stat sb;
			snprintf(p, sizeof p, "%s/%s", dirs[i], e->d_name);
			if (e->d_name[0] != '.' && lstat(p, &sb) == 0 && S_ISREG(sb.st_mode))
				r = add(ps, p);
		}
		if (d)
			closedir(d);
	}
	return r;
}

/* clang finds "its" GCC installation (the C++ headers' dirs) by the
 * crtbegin.o in it: the one -print-libgcc-file-name names, if any. */
static int add_gcc_install(struct paths *ps, const char *driver)
{
	char *argv[] = { (char *)driver, "-print-libgcc-file-name", NULL };
	char real[PATH_MAX], *s;
	struct buf b = BUF_INIT;
	int r = run(argv, &b);

	buf_put(&b, "", 1);
	if (r == 0 && buf_ok(&b)) {
		((char *)b.data)[strcspn((char *)b.data, "\n")] = 0;
		if (realpath((char *)b.data, real) && (s = strrchr(real, '/')) &&
		    (size_t)(s - real) + 12 < sizeof real) {
			strcpy(s, "/crtbegin.o");
			if (access(real, R_OK) == 0) {
				buf_free(&b);
				return add(ps, real);
			}
		}
	}
	buf_free(&b);
	return 0;
}

int toolchain_paths(const char *compiler, const char *cc1, struct buf *out, char *why,
		    size_t whylen)
{
	struct paths ps = { .n = 0 };
	char driver[PATH_MAX], progs[3][PATH_MAX];
	/* "": the driver compiles in-process (clang -cc1): as only. objcopy:
	 * gcc's -gsplit-dwarf runs it (--extract-dwo); optional */
	bool inproc = cc1 && !cc1[0];
	const char *names[3] = { inproc ? "as" : cc1 ? cc1 : "cc1", "as", "objcopy" };
	int r = 0, nprogs = inproc ? 1 : 3;

	if (!realpath(compiler, driver))
		r = -errno;
	for (int i = 0; i < nprogs && !r; i++)
		if ((r = prog_path(driver, names[i], progs[i], sizeof progs[i])) && i == 2)
			r = 0, nprogs = 2;
		else if (r)
			snprintf(why, whylen, "%s -print-prog-name=%s: %s", driver, names[i],
				 strerror(-r));
	if (!r && inproc && (r = add_gcc_install(&ps, driver)))
		snprintf(why, whylen, "%s's GCC installation: %s", driver, strerror(-r));
	/* the path the job runs (its hops: /usr/bin/cc -> /etc/alternatives/cc
	 * -> ...), then the driver's real one */
	if (!r && compiler[0] == '/' && (r = add(&ps, compiler)))
		snprintf(why, whylen, "%s: %s", compiler, strerror(-r));
	if (!r && !(r = add(&ps, driver)))
		for (int i = 0; i < nprogs && !r; i++)
			r = add(&ps, progs[i]);
	for (int i = 0; i <= nprogs && !r; i++)
		if ((r = add_libs(&ps, i ? progs[i - 1] : driver)))
			snprintf(why, whylen, "ldd %s: %s", i ? progs[i - 1] : driver,
				 strerror(-r));
	if (!r && access("/etc/ld.so.cache", R_OK) == 0)
		r = add(&ps, "/etc/ld.so.cache");
	if (!r && (r = add_locale(&ps)))
		snprintf(why, whylen, "the C.UTF-8 locale: %s", strerror(-r));
	for (size_t i = 0; i < ps.n; i++) {
		if (!r) {
			if (i)
				buf_put(out, ":", 1);
			buf_put(out, ps.v[i], strlen(ps.v[i]));
		}
		free(ps.v[i]);
	}
	if (!r)
		buf_put(out, "", 1);
	if (!r && !buf_ok(out))
		r = -ENOMEM;
	if (r && why && !why[0])
		snprintf(why, whylen, "%s: %s", compiler, strerror(-r));
	return r;
}
