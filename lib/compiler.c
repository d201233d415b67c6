/*
 * compiler.c — compiler identity (compiler.h).
 *
 * compiler_identify() runs the binary four times (no shell, LC_ALL=C,
 * stdin /dev/null, 10 s cap each):
 *   -dumpmachine                      → triple
 *   -dumpfullversion (else -dumpversion) → version
 *   -v -S -x c|c++ /dev/null -o /dev/null → how the compiler was built
 *     (a real compile: gcc prints the GMP/MPFR/MPC/isl line only then)
 *   -c -x assembler -Wa,--version /dev/null -o /dev/null → the assembler
 *     the driver runs (the assembler makes the object: it is part of the
 *     identity)
 * and reduces the two descriptions to canonical lines (compiler_canon(),
 * lib/compiler_canon.c). The fingerprint is SHA-256 over kind, triple,
 * version and those lines (first 16 bytes, hex). -dumpspecs is
 * deliberately left out: a native and a cross build of the same compiler
 * differ there mostly in paths (the dynamic linker, startfiles, sysroot),
 * which matter for linking, not for compiling preprocessed input; the
 * defaults that change code generation are in "Configured with:" and in
 * the options the driver adds (canonical "defaults:").
 *
 * The kind comes from the names along the symlink chain (the first that
 * says gcc/g++/clang/clang++; "cc" and "c++" defer), checked against the -v
 * output. A chain that passes through ccache, distcc, dcc, icecc or sccache
 * is a wrapper, not a compiler.
 *
 * Identities are cached by (path, dev, inode, size, mtime) in
 * $XDG_CACHE_HOME/usbfarm/compilers (else ~/.cache/usbfarm/compilers); any
 * change of the binary is a miss. The cache is an optimisation only: a file
 * that is not ours or does not parse is ignored.
 */
#include "compiler.h"
#include "clock.h"
#include "pathwalk.h"
#include "spawn.h"
#include "sha256.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
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

extern char **environ;

#define RUN_CAP (256u << 10)
#define RUN_TIMEOUT_MS 10000
#define CACHE_MAX_BYTES (1u << 20)
#define CACHE_MAX_LINES 256

/* ---- running the compiler --------------------------------------------- */

/* Our environment with the messages in English (LC_ALL=C, LANGUAGE=C);
 * the strings are environ's; free() the array. NULL: out of memory. */
static char **english_env(void)
{
	size_t ne = 0;
	char **env;

	for (char **e = environ; *e; e++)
		ne++;
	env = calloc(ne + 3, sizeof *env);
	if (!env)
		return NULL;
	ne = 0;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "LC_ALL=", 7) && strncmp(*e, "LANGUAGE=", 9))
			env[ne++] = *e;
	env[ne++] = "LC_ALL=C";
	env[ne++] = "LANGUAGE=C";
	env[ne] = NULL;
	return env;
}

/* Reads fd into out (the first RUN_CAP bytes kept) until EOF or an error;
 * false when the deadline (ms, monotonic) came first. */
static bool drain_until(int fd, struct buf *out, uint64_t deadline)
{
	for (;;) {
		struct pollfd pf = { fd, POLLIN, 0 };
		uint64_t now = now_ms();
		char tmp[4096];
		ssize_t n;

		if (now >= deadline)
			return false;
		if (poll(&pf, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			return true;
		if (!pf.revents)
			continue;
		n = read(fd, tmp, sizeof tmp);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return true;
		if (out->len + (size_t)n <= RUN_CAP)
			buf_put(out, tmp, (size_t)n);
	}
}

/* Runs argv (argv[0] = path; lib/spawn.c, in its own process group, stdin
 * /dev/null), stdout+stderr into out, killed at RUN_TIMEOUT_MS. Returns
 * the exit status (>= 0; 128 + signal) or -errno (-ETIMEDOUT). */
static int run(const char *path, char *const *argv, struct buf *out)
{
	struct spawn_opts o = { .path = path, .argv = argv, .fd_in = -1, .new_pgrp = true };
	int p[2], st;
	pid_t pid;
	bool in_time;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	o.fd_out = o.fd_err = p[1];
	o.envp = english_env();
	pid = o.envp ? spawn_start(&o, NULL) : -ENOMEM;
	free((void *)o.envp);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return (int)pid;
	}
	in_time = drain_until(p[0], out, now_ms() + RUN_TIMEOUT_MS);
	if (!in_time) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	close(p[0]);
	st = spawn_wait(pid);
	if (st < 0)
		return st;
	if (!in_time)
		return -ETIMEDOUT;
	return buf_ok(out) ? st : -ENOMEM;
}

/* First line of a run's output, trimmed, into dst. */
static int run_line(const char *path, const char *opt, char *dst, size_t cap)
{
	struct buf b = BUF_INIT;
	char *argv[] = { (char *)path, (char *)opt, NULL };
	int r = run(path, argv, &b);
	size_t l = 0;

	if (r == 0) {
		while (l < b.len && b.data[l] != '\n' && b.data[l] != '\r')
			l++;
		if (l == 0 || l >= cap)
			r = -EINVAL;
		else {
			memcpy(dst, b.data, l);
			dst[l] = 0;
			for (size_t i = 0; i < l; i++)
				if (dst[i] <= ' ' || dst[i] > '~')
					r = -EINVAL;
		}
	} else if (r > 0) {
		r = -EINVAL;
	}
	buf_free(&b);
	return r;
}

/* ---- names -------------------------------------------------------------- */

static const char *base_of(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static bool is_wrapper_name(const char *b)
{
	static const char *const w[] = { "ccache", "distcc", "dcc", "icecc",
					 "sccache", "buildcache", NULL };
	for (int i = 0; w[i]; i++)
		if (!strcmp(b, w[i]))
			return true;
	return false;
}

enum kind_guess { K_NONE, K_GCC, K_GXX, K_CLANG, K_CLANGXX, K_BAD };

static enum kind_guess kind_of_name(const char *b, bool *cxx)
{
	static const char *const tools[] = { "-ar", "-nm", "-ranlib", "-cpp",
		"-format", "-tidy", "-check", "-query", "-apply-replacements",
		"-scan-deps", "-cl", "-repl", "-doc", "-offload", "-linker",
		"-extdef", "-rename", "-move", "-reorder", "-include-fixer",
		"-change-namespace", "-refactor", "-nvlink", NULL };
	for (int i = 0; tools[i]; i++) {
		const char *t = strstr(b, tools[i]);
		if (t && (strstr(b, "gcc") || strstr(b, "clang")))
			return K_BAD;
	}
	if (strstr(b, "clang++"))
		return K_CLANGXX;
	if (strstr(b, "clang"))
		return K_CLANG;
	if (strstr(b, "g++"))
		return K_GXX;
	if (strstr(b, "gcc"))
		return K_GCC;
	{
		size_t l = strlen(b);
		if ((l >= 3 && !strcmp(b + l - 3, "c++")) || strstr(b, "c++-"))
			*cxx = true;
	}
	return K_NONE;
}

/* Walks the symlink chain of path: wrapper check and the first decisive
 * name. 0, -EINVAL (wrapper or not a compiler name) or -errno. */
static int name_chain(const char *path, enum kind_guess *kind, bool *cxx)
{
	char cur[PATH_MAX], link[PATH_MAX];
	*kind = K_NONE;
	*cxx = false;

	if (strlen(path) >= sizeof cur)
		return -ENAMETOOLONG;
	strcpy(cur, path);
	for (int hop = 0; hop < 32; hop++) {
		const char *b = base_of(cur);
		enum kind_guess k;
		ssize_t n;

		if (is_wrapper_name(b))
			return -EINVAL;
		k = kind_of_name(b, cxx);
		if (k == K_BAD && *kind == K_NONE)
			return -EINVAL;
		if (*kind == K_NONE && k != K_BAD)
			*kind = k;
		n = readlink(cur, link, sizeof link - 1);
		if (n < 0)
			return 0;	/* not a symlink: end of the chain */
		link[n] = 0;
		if (link[0] == '/') {
			strcpy(cur, link);
		} else {
			char *s = strrchr(cur, '/');
			size_t dl = s ? (size_t)(s - cur + 1) : 0;
			if (dl + (size_t)n >= sizeof cur)
				return -ENAMETOOLONG;
			memcpy(cur + dl, link, (size_t)n + 1);
		}
	}
	return -ELOOP;
}

/* ---- the cache -------------------------------------------------------- */

static int cache_path(char *dst, size_t len)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;
	if (x && x[0] == '/')
		n = snprintf(dst, len, "%s/usbfarm/compilers", x);
	else if (home && home[0] == '/')
		n = snprintf(dst, len, "%s/.cache/usbfarm/compilers", home);
	else
		return -ENOENT;
	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

static void cache_key(char *dst, size_t len, const char *path, const struct stat *st)
{
	snprintf(dst, len, "v2\t%s\t%llu\t%llu\t%lld\t%lld.%09ld\t", path,
		 (unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
		 (long long)st->st_size, (long long)st->st_mtim.tv_sec,
		 st->st_mtim.tv_nsec);
}

static int cache_read(struct buf *b)
{
	char p[PATH_MAX];
	struct stat st;
	int fd, r;

	if (cache_path(p, sizeof p))
		return -ENOENT;
	fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		close(fd);
		return -EPERM;
	}
	r = buf_read_fd(b, fd, CACHE_MAX_BYTES);
	close(fd);
	return r;
}

static bool field(const char **p, const char *end, char *dst, size_t cap)
{
	const char *t = memchr(*p, '\t', (size_t)(end - *p));
	size_t l;
	if (!t)
		t = end;
	l = (size_t)(t - *p);
	if (l == 0 || l >= cap)
		return false;
	memcpy(dst, *p, l);
	dst[l] = 0;
	*p = t < end ? t + 1 : t;
	return true;
}

static bool cache_lookup(const char *key, struct compiler_id *id)
{
	struct buf b = BUF_INIT;
	size_t kl = strlen(key), i = 0;
	bool found = false;

	if (cache_read(&b))
		return false;
	while (i < b.len && !found) {
		const char *l = (const char *)b.data + i;
		const char *e = memchr(l, '\n', b.len - i);
		size_t ll = e ? (size_t)(e - l) : b.len - i;
		i += ll + 1;
		if (ll > kl && !memcmp(l, key, kl)) {
			const char *p = l + kl, *end = l + ll;
			struct compiler_id t;
			memset(&t, 0, sizeof t);
			if (field(&p, end, t.kind, sizeof t.kind) &&
			    field(&p, end, t.triple, sizeof t.triple) &&
			    field(&p, end, t.version, sizeof t.version) &&
			    field(&p, end, t.fingerprint, sizeof t.fingerprint) &&
			    p == end && strlen(t.fingerprint) == 32) {
				memcpy(id->kind, t.kind, sizeof t.kind);
				memcpy(id->triple, t.triple, sizeof t.triple);
				memcpy(id->version, t.version, sizeof t.version);
				memcpy(id->fingerprint, t.fingerprint, sizeof t.fingerprint);
				found = true;
			}
		}
	}
	buf_free(&b);
	return found;
}

static int mkdirs_for(const char *file)
{
	char d[PATH_MAX];
	size_t l = strlen(file);
	if (l >= sizeof d)
		return -ENAMETOOLONG;
	memcpy(d, file, l + 1);
	for (char *s = d + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		if (mkdir(d, 0700) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return 0;
}

static void cache_store(const char *key, const char *path, const struct compiler_id *id)
{
	char p[PATH_MAX], tmp[PATH_MAX + 16];
	struct buf old = BUF_INIT, nw = BUF_INIT;
	char kpath[PATH_MAX + 8];
	size_t i = 0;
	int lines = 0, fd;

	if (strpbrk(path, "\t\n") || cache_path(p, sizeof p) || mkdirs_for(p))
		return;
	snprintf(kpath, sizeof kpath, "v2\t%s\t", path);
	if (cache_read(&old) == 0) {
		/* keep other paths' entries, the newest last; cap the count */
		while (i < old.len) {
			const char *l = (const char *)old.data + i;
			const char *e = memchr(l, '\n', old.len - i);
			size_t ll = e ? (size_t)(e - l) : old.len - i;
			i += ll + 1;
			if (ll && strncmp(l, kpath, strlen(kpath)) && lines < CACHE_MAX_LINES - 1) {
				buf_put(&nw, l, ll);
				buf_put(&nw, "\n", 1);
				lines++;
			}
		}
	}
	buf_free(&old);
	buf_put(&nw, key, strlen(key));
	buf_put(&nw, id->kind, strlen(id->kind));
	buf_put(&nw, "\t", 1);
	buf_put(&nw, id->triple, strlen(id->triple));
	buf_put(&nw, "\t", 1);
	buf_put(&nw, id->version, strlen(id->version));
	buf_put(&nw, "\t", 1);
	buf_put(&nw, id->fingerprint, strlen(id->fingerprint));
	buf_put(&nw, "\n", 1);
	if (!buf_ok(&nw))
		goto out;
	snprintf(tmp, sizeof tmp, "%s.XXXXXX", p);
	fd = mkstemp(tmp);
	if (fd < 0)
		goto out;
	if (write_full(fd, nw.data, nw.len) || fchmod(fd, 0600) || close(fd)) {
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, p))
		unlink(tmp);
out:
	buf_free(&nw);
}

/* ---- the self-description ------------------------------------------- */

/* Runs the -v compile and the assembler's --version through the driver and
 * reduces both to canonical lines in *canon. 0 or -EINVAL. */
static int describe(const char *path, bool cxx, struct buf *canon, bool *clang)
{
	char *vargv[] = { (char *)path, "-v", "-S", "-x", cxx ? "c++" : "c",
			  "/dev/null", "-o", "/dev/null", NULL };
	char *aargv[] = { (char *)path, "-c", "-x", "assembler", "-Wa,--version",
			  "/dev/null", "-o", "/dev/null", NULL };
	struct buf vb = BUF_INIT, ab = BUF_INIT;
	int r = -EINVAL;

	if (run(path, vargv, &vb) == 0 && run(path, aargv, &ab) == 0 &&
	    compiler_canon((const char *)vb.data, vb.len, (const char *)ab.data,
			   ab.len, canon, clang) == 0)
		r = 0;
	buf_free(&vb);
	buf_free(&ab);
	if (r)
		buf_free(canon);
	return r;
}

/* ---- identify ------------------------------------------------------- */

static int fingerprint(struct compiler_id *id, const struct buf *canon);
static bool kind_ok(const char *k);

static bool printable(const char *s)
{
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

int compiler_identify(const char *path, struct compiler_id *id)
{
	struct stat st;
	enum kind_guess k;
	bool cxx, clang = false;
	char key[PATH_MAX + 128];
	struct buf canon = BUF_INIT;
	int r;

	memset(id, 0, sizeof *id);
	if (!path || path[0] != '/' || strlen(path) >= sizeof id->path)
		return -EINVAL;
	if (stat(path, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) || access(path, X_OK))
		return -EACCES;
	r = name_chain(path, &k, &cxx);
	if (r)
		return r;
	strcpy(id->path, path);

	cache_key(key, sizeof key, path, &st);
	if (cache_lookup(key, id))
		return 0;

	r = run_line(path, "-dumpmachine", id->triple, sizeof id->triple);
	if (r)
		return r == -ENOENT ? -ENOENT : -EINVAL;
	if (run_line(path, "-dumpfullversion", id->version, sizeof id->version) &&
	    run_line(path, "-dumpversion", id->version, sizeof id->version))
		return -EINVAL;
	r = describe(path, cxx || k == K_GXX || k == K_CLANGXX, &canon, &clang);
	if (r)
		return r;
	if (k == K_NONE)
		k = clang ? (cxx ? K_CLANGXX : K_CLANG) : (cxx ? K_GXX : K_GCC);
	/* a name that lies (gcc that is clang) is named by what it is */
	if (clang && (k == K_GCC || k == K_GXX))
		k = k == K_GXX ? K_CLANGXX : K_CLANG;
	if (!clang && (k == K_CLANG || k == K_CLANGXX))
		k = k == K_CLANGXX ? K_GXX : K_GCC;
	strcpy(id->kind, k == K_GCC ? "gcc" : k == K_GXX ? "g++" :
			 k == K_CLANG ? "clang" : "clang++");
	r = fingerprint(id, &canon);
	buf_free(&canon);
	if (r)
		return r;
	cache_store(key, path, id);
	return 0;
}

/* id's fingerprint from its kind, triple, version and canonical lines. */
static int fingerprint(struct compiler_id *id, const struct buf *canon)
{
	struct sha256 h;
	uint8_t dg[32];

	if (!printable(id->triple) || !printable(id->version))
		return -EINVAL;
	sha256_init(&h);
	sha256_update(&h, id->kind, strlen(id->kind) + 1);
	sha256_update(&h, id->triple, strlen(id->triple) + 1);
	sha256_update(&h, id->version, strlen(id->version) + 1);
	sha256_update(&h, canon->data, canon->len);
	sha256_final(&h, dg);
	sha256_hex(dg, 16, id->fingerprint);
	return 0;
}

/* The first line of out, trimmed, printable, into dst. */
static int first_line(const char *out, size_t len, char *dst, size_t cap)
{
	size_t l = 0;

	while (l < len && out[l] != '\n' && out[l] != '\r')
		l++;
	if (l == 0 || l >= cap)
		return -EINVAL;
	memcpy(dst, out, l);
	dst[l] = 0;
	return printable(dst) ? 0 : -EINVAL;
}

int compiler_identity_of(const char *kind, const struct compiler_outputs *o,
			 struct compiler_id *id)
{
	struct buf canon = BUF_INIT;
	bool clang = false;
	int r;

	memset(id, 0, sizeof *id);
	if (!kind_ok(kind))
		return -EINVAL;
	snprintf(id->kind, sizeof id->kind, "%s", kind);
	if (first_line(o->machine, o->machine_len, id->triple, sizeof id->triple) ||
	    first_line(o->version, o->version_len, id->version, sizeof id->version))
		return -EINVAL;
	r = compiler_canon(o->v, o->v_len, o->as, o->as_len, &canon, &clang);
	if (r == 0 && clang != !strncmp(kind, "clang", 5))
		r = -EINVAL;	/* the family the driver names is not the kind's */
	if (r == 0)
		r = fingerprint(id, &canon);
	buf_free(&canon);
	return r;
}

bool compiler_match(const struct compiler_id *a, const struct compiler_id *b)
{
	return !strcmp(a->kind, b->kind) && !strcmp(a->triple, b->triple) &&
	       !strcmp(a->version, b->version) &&
	       !strcmp(a->fingerprint, b->fingerprint);
}

/* ---- scan ---------------------------------------------------------------- */

static bool scan_name(const char *n)
{
	static const char *const pat[] = {
		"gcc", "g++", "cc", "c++", "clang", "clang++",
		"gcc-[0-9]*", "g++-[0-9]*", "clang-[0-9]*", "clang++-[0-9]*",
		"*-linux-gnu*-gcc", "*-linux-gnu*-gcc-[0-9]*",
		"*-linux-gnu*-g++", "*-linux-gnu*-g++-[0-9]*",
		"*-linux-*-gcc", "*-linux-*-g++", "*-linux-*-gcc-[0-9]*",
		"*-linux-*-g++-[0-9]*", NULL };
	for (int i = 0; pat[i]; i++)
		if (!fnmatch(pat[i], n, 0))
			return true;
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir that look like compilers, sorted, into *names (malloc'd,
 * each malloc'd; *nn of them, also on error). 0, or -ENOMEM. An unreadable
 * directory has no names. */
static int scan_dir(const char *dir, char ***names, size_t *nn)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t capn = 0;
	int r = 0;

	*names = NULL;
	*nn = 0;
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (!scan_name(e->d_name))
			continue;
		if (*nn == capn) {
			size_t nc = capn ? capn * 2 : 16;
			char **t = realloc(*names, nc * sizeof *t);
			if (!t) {
				r = -ENOMEM;
				break;
			}
			*names = t, capn = nc;
		}
		(*names)[*nn] = strdup(e->d_name);
		if (!(*names)[*nn]) {
			r = -ENOMEM;
			break;
		}
		(*nn)++;
	}
	closedir(d);
	if (*nn)
		qsort(*names, *nn, sizeof **names, cmp_str);
	return r;
}

/* What a scan has found so far. */
struct scan_acc {
	struct compiler_id *v;
	size_t cnt, cap;
	char **seen;		/* paths identified (a directory listed twice) */
	size_t nseen, capseen;
};

static bool seen_before(struct scan_acc *a, const char *full)
{
	for (size_t k = 0; k < a->nseen; k++)
		if (!strcmp(a->seen[k], full))
			return true;
	return false;
}

/* Records full as seen and id as found (unless an alias of one found:
 * a symlinked /bin, gcc vs gcc-12 collapse by identity). 0 or -ENOMEM. */
static int scan_add(struct scan_acc *a, const char *full, const struct compiler_id *id)
{
	if (a->nseen == a->capseen) {
		size_t nc = a->capseen ? a->capseen * 2 : 32;
		char **t = realloc(a->seen, nc * sizeof *t);
		if (!t)
			return -ENOMEM;
		a->seen = t, a->capseen = nc;
	}
	a->seen[a->nseen] = strdup(full);
	if (a->seen[a->nseen])
		a->nseen++;
	for (size_t k = 0; k < a->cnt; k++)
		if (compiler_match(&a->v[k], id))
			return 0;
	if (a->cnt == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 8;
		struct compiler_id *t = realloc(a->v, nc * sizeof *t);
		if (!t)
			return -ENOMEM;
		a->v = t, a->cap = nc;
	}
	a->v[a->cnt++] = *id;
	return 0;
}

/* One PATH directory (absolute: relative entries are not trusted). */
static int scan_path_dir(const char *dir, void *arg)
{
	struct scan_acc *a = arg;
	char **names = NULL;
	size_t nn = 0;
	int r = scan_dir(dir, &names, &nn);

	for (size_t i = 0; i < nn && !r; i++) {
		char full[PATH_MAX];
		struct compiler_id id;

		if ((size_t)snprintf(full, sizeof full, "%s/%s", dir, names[i]) >= sizeof full)
			continue;
		if (seen_before(a, full) || compiler_identify(full, &id))
			continue;
		r = scan_add(a, full, &id);
	}
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	return r;
}

int compiler_scan(struct compiler_id **list, size_t *n)
{
	struct scan_acc a;
	int r;

	memset(&a, 0, sizeof a);
	*list = NULL;
	*n = 0;
	r = pathwalk(NULL, false, scan_path_dir, &a);
	for (size_t k = 0; k < a.nseen; k++)
		free(a.seen[k]);
	free(a.seen);
	if (r) {
		free(a.v);
		return r;
	}
	*list = a.v;
	*n = a.cnt;
	return 0;
}

/* ---- wire -------------------------------------------------------------- */

void compiler_encode(struct buf *b, const struct compiler_id *id)
{
	buf_str(b, id->kind);
	buf_str(b, id->triple);
	buf_str(b, id->version);
	buf_str(b, id->fingerprint);
}

static bool kind_ok(const char *k)
{
	return !strcmp(k, "gcc") || !strcmp(k, "g++") || !strcmp(k, "clang") ||
	       !strcmp(k, "clang++");
}

static bool hex32(const char *s)
{
	size_t i;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == 32;
}

static bool fits(const char *s, size_t cap)
{
	return strnlen(s, cap) < cap;
}

bool compiler_wire_ok(const struct compiler_id *id)
{
	return fits(id->kind, sizeof id->kind) && fits(id->triple, sizeof id->triple) &&
	       fits(id->version, sizeof id->version) &&
	       fits(id->fingerprint, sizeof id->fingerprint) && kind_ok(id->kind) &&
	       id->triple[0] && printable(id->triple) && id->version[0] &&
	       printable(id->version) && hex32(id->fingerprint);
}

size_t compiler_wire_len(const struct compiler_id *id)
{
	return 8 + strlen(id->kind) + strlen(id->triple) + strlen(id->version) +
	       strlen(id->fingerprint);
}

bool compiler_decode(struct cursor *c, struct compiler_id *id)
{
	memset(id, 0, sizeof *id);
	cur_str(c, id->kind, sizeof id->kind);
	cur_str(c, id->triple, sizeof id->triple);
	cur_str(c, id->version, sizeof id->version);
	cur_str(c, id->fingerprint, sizeof id->fingerprint);
	if (c->err || !compiler_wire_ok(id)) {
		c->err = true;
		memset(id, 0, sizeof *id);
		return false;
	}
	return true;
}

void compiler_describe(const struct compiler_id *id, char *out, size_t len)
{
	snprintf(out, len, "%s %s %s %.8s", id->kind, id->version, id->triple,
		 id->fingerprint);
}
