/*
 * exec.c — the node-side job executor (exec.h).
 *
 * exec_run(): check names and arguments → private dir (mkdtemp, 0700) →
 * write the input (at its relative path) → build argv (job args, then our
 * -fdebug-prefix-map, then input -o output) → fork; the child makes its own process
 * group, drops privileges, sets limits, closes every other fd and execs the
 * compiler directly (exec failure comes back through a CLOEXEC pipe) → the
 * parent drains stdout/stderr with caps until exit or the wall deadline
 * (then SIGKILL to the group) → read the outputs with caps → remove the dir.
 * Every path after mkdtemp ends in the same cleanup.
 */
#include "exec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEF_CPU_S 600
#define DEF_MEM (4ull << 30)
#define DEF_OUT (512ull << 20)
#define DEF_TIMEOUT_MS 900000
#define MAX_ARG_LEN 4096
#define MAX_ARGS 1024

/* ---- the argument policy --------------------------------------------- */

static bool starts(const char *a, const char *p)
{
	return !strncmp(a, p, strlen(p));
}

static int refuse(char *why, size_t wl, const char *fmt, const char *a)
{
	if (why && wl)
		snprintf(why, wl, fmt, a);
	return -EPERM;
}

/* -f options that run programs, read or write files, or are otherwise not
 * for a node; everything else under -f is allowed. */
static bool f_denied(const char *a)
{
	static const char *const deny[] = {
		"-fplugin", "-fprofile", "-fauto-profile", "-fdump-",
		"-fcallgraph-info", "-fstack-usage", "-fopt-info",
		"-fcompare-debug", "-frepo", "-fbranch-probabilities",
		"-ftest-coverage", "-fprofile-arcs", "-fsave-optimization-record",
		"-fdiagnostics-format=sarif-file", "-flto", "-fdebug-types",
		"-fsanitize-blacklist", "-fsanitize-ignorelist",
		"-fsanitize-coverage-allowlist", "-fsanitize-coverage-ignorelist",
		"-frecord-gcc-switches", "-ftime-trace", "-fmodule",
		"-fconstexpr-cache", "-fdeps-", "-finstrument-functions-exclude",
		"-fcoverage", "-fpch", "-fltrans", "-fresolution", "-fwpa",
		"-fdiagnostics-add-output", "-fdiagnostics-set-output", NULL };
	for (int i = 0; deny[i]; i++)
		if (starts(a, deny[i]))
			return true;
	return false;
}

/* Allowed prefix-map forms: "-f…-prefix-map=OLD=NEW" only rewrite names. */
static bool is_prefix_map(const char *a)
{
	return starts(a, "-fdebug-prefix-map=") || starts(a, "-ffile-prefix-map=") ||
	       starts(a, "-fmacro-prefix-map=") || starts(a, "-fprofile-prefix-map=");
}

static bool x_lang_ok(const char *l)
{
	static const char *const ok[] = { "c", "c++", "objective-c",
		"objective-c++", "assembler", "assembler-with-cpp", "cpp-output",
		"c++-cpp-output", "objective-c-cpp-output",
		"objective-c++-cpp-output", "none", NULL };
	for (int i = 0; ok[i]; i++)
		if (!strcmp(l, ok[i]))
			return true;
	return false;
}

/* -Wa,… pieces: options only, no listings, no files, no paths. */
static bool wa_ok(const char *list)
{
	while (*list) {
		const char *e = strchr(list, ',');
		size_t l = e ? (size_t)(e - list) : strlen(list);
		if (!l || list[0] != '-' || memchr(list, '/', l) ||
		    !strncmp(list, "-a", 2) || !strncmp(list, "--MD", 4) ||
		    !strncmp(list, "-o", 2) || !strncmp(list, "-I", 2) ||
		    !strncmp(list, "@", 1) || !strncmp(list, "--defsym", 8) ||
		    !strncmp(list, "--gdwarf-cie", 12) || !strncmp(list, "-Z", 2))
			return false;
		list += l;
		if (*list)
			list++;
	}
	return true;
}

int exec_check_args(char *const *args, int nargs, char *why, size_t whylen)
{
	if (nargs < 0 || nargs > MAX_ARGS)
		return refuse(why, whylen, "too many arguments%s", "");
	for (int i = 0; i < nargs; i++) {
		const char *a = args[i];

		if (!a)
			return refuse(why, whylen, "missing argument%s", "");
		if (strlen(a) > MAX_ARG_LEN)
			return refuse(why, whylen, "argument too long%s", "");
		if (a[0] != '-')
			return refuse(why, whylen, "%s: not an option (inputs are the node's)", a);
		/* exact safe words */
		if (!strcmp(a, "-c") || !strcmp(a, "-S") || !strcmp(a, "-w") ||
		    !strcmp(a, "-ansi") || !strcmp(a, "-pedantic") ||
		    !strcmp(a, "-pedantic-errors") || !strcmp(a, "-pthread") ||
		    !strcmp(a, "-pipe") || !strcmp(a, "-fpreprocessed") ||
		    !strcmp(a, "-fdirectives-only") || !strcmp(a, "-p") ||
		    !strcmp(a, "-pg") || !strcmp(a, "-Wpedantic") ||
		    !strcmp(a, "-fno-working-directory") ||
		    !strcmp(a, "-fworking-directory") || !strcmp(a, "-nostdinc") ||
		    !strcmp(a, "-nostdinc++"))
			continue;
		if (!strcmp(a, "-x")) {
			if (i + 1 >= nargs || !x_lang_ok(args[i + 1]))
				return refuse(why, whylen, "-x %s: language not allowed",
					      i + 1 < nargs ? args[i + 1] : "");
			i++;
			continue;
		}
		if (starts(a, "-x")) {
			if (!x_lang_ok(a + 2))
				return refuse(why, whylen, "%s: language not allowed", a);
			continue;
		}
		if (!strcmp(a, "-Xassembler")) {
			if (i + 1 >= nargs || !wa_ok(args[i + 1]))
				return refuse(why, whylen, "-Xassembler %s: not allowed",
					      i + 1 < nargs ? args[i + 1] : "");
			i++;
			continue;
		}
		if (starts(a, "-Wa,")) {
			if (!wa_ok(a + 4))
				return refuse(why, whylen, "%s: assembler option not allowed", a);
			continue;
		}
		if (starts(a, "-Wp,") || starts(a, "-Wl,") || starts(a, "-Xlinker") ||
		    starts(a, "-Xpreprocessor") || starts(a, "-Xclang"))
			return refuse(why, whylen, "%s: not allowed on a node", a);
		if (is_prefix_map(a))
			continue;	/* only rewrites names in the output */
		/* everything below is an allow-listed family with denials;
		 * no member may name a file */
		if (strchr(a, '/'))
			return refuse(why, whylen, "%s: names a path", a);
		if (a[1] == 'O' || a[1] == 'W' || starts(a, "-std=") ||
		    starts(a, "--std="))
			continue;
		if (a[1] == 'g')
			continue;	/* debug info options name no files */
		if (a[1] == 'm') {
			if (strstr(a, "=native"))
				return refuse(why, whylen, "%s: host-dependent", a);
			continue;
		}
		if (a[1] == 'f') {
			if (f_denied(a))
				return refuse(why, whylen, "%s: not allowed on a node", a);
			if (starts(a, "-fsanitize") || !strchr(a, '=') ||
			    starts(a, "-fvisibility=") || starts(a, "-fabi-version=") ||
			    starts(a, "-fmax-errors=") || starts(a, "-ftemplate-depth=") ||
			    starts(a, "-fconstexpr-") || starts(a, "-fdiagnostics-") ||
			    starts(a, "-fstack-") || starts(a, "-fcf-protection") ||
			    starts(a, "-fmessage-length=") || starts(a, "-ftabstop=") ||
			    starts(a, "-fpermitted-flt-eval-methods=") ||
			    starts(a, "-fexcess-precision=") || starts(a, "-ffp-contract=") ||
			    starts(a, "-ftls-model=") || starts(a, "-fzero-call-used-regs=") ||
			    starts(a, "-fstrong-eval-order") || starts(a, "-fno-") ||
			    starts(a, "-flimit-function-alignment") ||
			    starts(a, "-falign-") || starts(a, "-fpatchable-function-entry=") ||
			    starts(a, "-ftrivial-auto-var-init=") ||
			    starts(a, "-fasan-shadow-offset=") || starts(a, "-fsso-struct=") ||
			    starts(a, "-fchar8_t") || starts(a, "-fmin-function-alignment=") ||
			    starts(a, "-fstrict-flex-arrays") || starts(a, "-fharden") ||
			    starts(a, "-fcoroutines") || starts(a, "-fconcepts") ||
			    starts(a, "-fsched") || starts(a, "-fira-") ||
			    starts(a, "-flive-patching=") || starts(a, "-fprofile-update=") ||
			    starts(a, "-fvect-cost-model") || starts(a, "-fsimd-cost-model") ||
			    starts(a, "-frandom-seed="))
				continue;
			return refuse(why, whylen, "%s: option value not on the allow-list", a);
		}
		if (!strcmp(a, "--param")) {
			if (i + 1 >= nargs || strchr(args[i + 1], '/'))
				return refuse(why, whylen, "--param: bad value%s", "");
			i++;
			continue;
		}
		if (starts(a, "--param="))
			continue;
		return refuse(why, whylen, "%s: not on the allow-list", a);
	}
	return 0;
}

char *exec_comp_dir(char *const *args, int nargs, const char *hub_cwd)
{
	const char *nw = NULL, *rest = hub_cwd;
	size_t nl = 0;
	char *r;

	for (int i = 0; i < nargs; i++) {
		const char *a = args[i], *v, *eq;
		if (starts(a, "-fdebug-prefix-map="))
			v = a + strlen("-fdebug-prefix-map=");
		else if (starts(a, "-ffile-prefix-map="))
			v = a + strlen("-ffile-prefix-map=");
		else
			continue;
		eq = strchr(v, '=');	/* gcc: OLD ends at the first '=' */
		if (!eq || strncmp(hub_cwd, v, (size_t)(eq - v)))
			continue;
		nw = eq + 1;
		nl = strlen(nw);
		rest = hub_cwd + (eq - v);
	}
	r = malloc(nl + strlen(rest) + 1);
	if (!r)
		return NULL;
	if (nl)
		memcpy(r, nw, nl);
	strcpy(r + nl, rest);
	return r;
}

bool exec_safe_relpath(const char *p)
{
	const char *c = p;

	if (!p || !*p || *p == '/' || strlen(p) > 255)
		return false;
	while (*c) {
		const char *e = strchr(c, '/');
		size_t l = e ? (size_t)(e - c) : strlen(c);
		if (l == 0 || (l == 1 && c[0] == '.') ||
		    (l == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		for (size_t k = 0; k < l; k++)
			if ((unsigned char)c[k] < 0x20 || c[k] == 0x7f)
				return false;
		if (c[0] == '-' && c == p)
			return false;	/* would read as an option */
		c += l;
		if (*c) {
			c++;
			if (!*c)
				return false;	/* trailing slash */
		}
	}
	return true;
}

/* ---- helpers ----------------------------------------------------------- */

static uint64_t now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static int fail(struct exec_result *res, int err, const char *fmt, ...)
{
	va_list ap;
	res->farm_error = err;
	va_start(ap, fmt);
	vsnprintf(res->error, sizeof res->error, fmt, ap);
	va_end(ap);
	return err;
}

/* Removes the contents of dirfd recursively, never following symlinks. */
static void rm_tree_at(int dirfd, int depth)
{
	DIR *d;
	struct dirent *e;
	int fd = dup(dirfd);

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (unlinkat(dirfd, e->d_name, 0) == 0)
			continue;
		if (errno == EISDIR && depth < 64) {
			int sub = openat(dirfd, e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				rm_tree_at(sub, depth + 1);
				close(sub);
			}
			unlinkat(dirfd, e->d_name, AT_REMOVEDIR);
		}
	}
	closedir(d);
}

static void rm_tree(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		/* a compiler may leave unwritable dirs: make ours writable */
		rm_tree_at(fd, 0);
		close(fd);
	}
	rmdir(dir);
}

/* Creates the parent directories of rel (relative) under dirfd. */
static int mkparents(int dirfd, const char *rel, uid_t uid, gid_t gid)
{
	char tmp[256];
	size_t l = strlen(rel);

	if (l >= sizeof tmp)
		return -ENAMETOOLONG;
	memcpy(tmp, rel, l + 1);
	for (char *s = tmp; (s = strchr(s, '/')); s++) {
		*s = 0;
		if (mkdirat(dirfd, tmp, 0700) && errno != EEXIST)
			return -errno;
		/* the unprivileged compiler writes the output there */
		if (uid && fchownat(dirfd, tmp, uid, gid, AT_SYMLINK_NOFOLLOW))
			return -errno;
		*s = '/';
	}
	return 0;
}

static int read_out_at(int dirfd, const char *rel, struct buf *b, uint64_t cap)
{
	int fd = openat(dirfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	int r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > cap) {
		close(fd);
		return -E2BIG;
	}
	r = buf_read_fd(b, fd, (size_t)cap);
	close(fd);
	if (r == -EFBIG)
		r = -E2BIG;
	return r;
}

/* The dwo of "obj/a.o" is "obj/a.dwo" (gcc: dumpdir + dumpbase + .dwo). */
static int dwo_name(const char *out, char *dst, size_t len)
{
	const char *b = strrchr(out, '/');
	const char *d;
	size_t keep;

	b = b ? b + 1 : out;
	d = strrchr(b, '.');
	keep = d && d != b ? (size_t)(d - out) : strlen(out);
	if (keep + 5 > len)
		return -ENAMETOOLONG;
	memcpy(dst, out, keep);
	strcpy(dst + keep, ".dwo");
	return 0;
}

static void close_from(int lowfd)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0u, 0) == 0)
		return;
#endif
	long max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = lowfd; fd < max; fd++)
		close(fd);
}

/* Child side: never returns. */
static void child(const char *dir, char *const *argv, int outfd, int errfd,
		  int statfd, const struct exec_limits *lim, uint64_t out_cap)
{
	struct rlimit rl;
	int e, nullfd;

	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	nullfd = open("/dev/null", O_RDONLY);
	if (nullfd < 0 || dup2(nullfd, 0) < 0 || dup2(outfd, 1) < 0 ||
	    dup2(errfd, 2) < 0)
		goto err;
	if (statfd != 3) {
		if (dup2(statfd, 3) < 0)
			goto err;
		statfd = 3;
	}
	fcntl(3, F_SETFD, FD_CLOEXEC);
	close_from(4);
	if (lim->uid && geteuid() == 0) {
		if (setgroups(0, NULL) || setgid(lim->gid ? lim->gid : lim->uid) ||
		    setuid(lim->uid))
			goto err;
	}
	rl.rlim_cur = lim->cpu_s ? lim->cpu_s : DEF_CPU_S;
	rl.rlim_max = rl.rlim_cur + 5;
	if (setrlimit(RLIMIT_CPU, &rl))
		goto err;
	rl.rlim_cur = rl.rlim_max = lim->mem_bytes ? lim->mem_bytes : DEF_MEM;
	if (setrlimit(RLIMIT_AS, &rl))
		goto err;
	/* temp files (the assembler input) count too: allow some headroom */
	rl.rlim_cur = rl.rlim_max = out_cap * 4 + (64u << 20);
	if (setrlimit(RLIMIT_FSIZE, &rl))
		goto err;
	rl.rlim_cur = rl.rlim_max = 0;
	setrlimit(RLIMIT_CORE, &rl);
	umask(022);
	if (chdir(dir))
		goto err;
	execv(argv[0], argv);
err:
	e = errno;
	if (write(statfd, &e, sizeof e) < 0) {
		/* nothing more to say */
	}
	_exit(127);
}

/* Reads what is available on fd into b, keeping at most cap bytes;
 * returns false at EOF. */
static bool drain(int fd, struct buf *b, uint64_t cap, bool *over)
{
	char tmp[65536];
	ssize_t r = read(fd, tmp, sizeof tmp);

	if (r < 0)
		return errno == EINTR || errno == EAGAIN;
	if (r == 0)
		return false;
	if (b->len + (uint64_t)r > cap) {
		*over = true;
		return true;
	}
	buf_put(b, tmp, (size_t)r);
	return true;
}

int exec_run(const struct exec_job *job, struct exec_result *res)
{
	char why[200], dir[PATH_MAX], dwo[300];
	const char *root;
	char **argv = NULL, *map = NULL, *comp = NULL;
	int dirfd = -1, po[2] = { -1, -1 }, pe[2] = { -1, -1 }, ps[2] = { -1, -1 };
	uint64_t out_cap, start = now_us(), deadline;
	pid_t pid = -1;
	bool made = false, over = false, timed_out = false;
	struct rusage ru;
	int st = 0, r, n;

	memset(&ru, 0, sizeof ru);
	memset(res, 0, sizeof *res);
	out_cap = job->limits.out_bytes ? job->limits.out_bytes : DEF_OUT;
	deadline = start + 1000ull * (job->limits.timeout_ms ? job->limits.timeout_ms
							      : DEF_TIMEOUT_MS);

	if (!job->compiler || job->compiler[0] != '/')
		return fail(res, -ENOENT, "compiler path must be absolute");
	if (access(job->compiler, X_OK))
		return fail(res, -ENOENT, "%s: %s", job->compiler, strerror(errno));
	if (!exec_safe_relpath(job->input_name))
		return fail(res, -EPERM, "bad input name");
	if (job->hub_cwd && (job->hub_cwd[0] != '/' ||
			     strnlen(job->hub_cwd, EXEC_CWD_MAX) >= EXEC_CWD_MAX))
		return fail(res, -EPERM, "bad hub cwd");
	if (!exec_safe_relpath(job->output_name))
		return fail(res, -EPERM, "bad output name");
	if (!strcmp(job->input_name, job->output_name))
		return fail(res, -EPERM, "input and output names clash");
	if (exec_check_args(job->args, job->nargs, why, sizeof why))
		return fail(res, -EPERM, "refused: %s", why);
	if (job->want_dwo && (dwo_name(job->output_name, dwo, sizeof dwo) ||
			      !strcmp(dwo, job->input_name)))
		return fail(res, -EPERM, "bad output name");
	if ((uint64_t)job->input_len > out_cap * 2)
		return fail(res, -E2BIG, "input too large");

	root = job->tmp_root;
	if (!root)
		root = getenv("TMPDIR");
	if (!root || !*root)
		root = "/tmp";
	if (snprintf(dir, sizeof dir, "%s/usbfarm-job.XXXXXX", root) >= (int)sizeof dir) {
		r = fail(res, -ENAMETOOLONG, "temp root too long");
		goto out;
	}
	if (!mkdtemp(dir)) {
		r = fail(res, -errno, "mkdtemp %s: %s", root, strerror(errno));
		goto out;
	}
	made = true;
	{
		/* gcc names its cwd by getcwd() (our $PWD is not the dir):
		 * the map must name the dir the same way */
		char real[PATH_MAX];
		if (!realpath(dir, real)) {
			r = fail(res, -errno, "realpath %s: %s", dir, strerror(errno));
			goto out;
		}
		strcpy(dir, real);	/* the same dir: removed by this name too */
	}

	/* argv: compiler, job args, our prefix map (last: it wins for the
	 * private dir), input -o output */
	argv = calloc((size_t)job->nargs + 6, sizeof *argv);
	if (!argv) {
		r = fail(res, -ENOMEM, "out of memory");
		goto out;
	}
	n = 0;
	argv[n++] = (char *)job->compiler;
	for (int i = 0; i < job->nargs; i++)
		argv[n++] = job->args[i];
	if (job->hub_cwd) {
		if (strchr(dir, '=')) {	/* gcc's OLD would end there */
			r = fail(res, -EINVAL, "temp dir %s contains '='", dir);
			goto out;
		}
		comp = exec_comp_dir(job->args, job->nargs, job->hub_cwd);
		map = comp ? malloc(strlen("-fdebug-prefix-map==") + strlen(dir) +
				    strlen(comp) + 1) : NULL;
		if (!map) {
			r = fail(res, -ENOMEM, "out of memory");
			goto out;
		}
		sprintf(map, "-fdebug-prefix-map=%s=%s", dir, comp);
		argv[n++] = map;
	}
	argv[n++] = (char *)job->input_name;
	argv[n++] = "-o";
	argv[n++] = (char *)job->output_name;
	argv[n] = NULL;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		r = fail(res, -errno, "open temp dir: %s", strerror(errno));
		goto out;
	}
	r = mkparents(dirfd, job->input_name,
		      job->limits.uid && geteuid() == 0 ? job->limits.uid : 0,
		      job->limits.gid ? job->limits.gid : job->limits.uid);
	if (r) {
		r = fail(res, r, "input dirs: %s", strerror(-r));
		goto out;
	}
	{
		int fd = openat(dirfd, job->input_name,
				O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			r = fail(res, -errno, "create input: %s", strerror(errno));
			goto out;
		}
		r = write_full(fd, job->input, job->input_len);
		if (!r && job->limits.uid && geteuid() == 0 &&
		    fchown(fd, job->limits.uid, job->limits.gid ? job->limits.gid
								 : job->limits.uid))
			r = -errno;
		if (close(fd) && !r)
			r = -errno;
		if (r) {
			r = fail(res, r, "write input: %s", strerror(-r));
			goto out;
		}
	}
	r = mkparents(dirfd, job->output_name,
		      job->limits.uid && geteuid() == 0 ? job->limits.uid : 0,
		      job->limits.gid ? job->limits.gid : job->limits.uid);
	if (r) {
		r = fail(res, r, "output dirs: %s", strerror(-r));
		goto out;
	}
	if (job->limits.uid && geteuid() == 0) {
		/* the unprivileged compiler must write into the job dir */
		if (fchown(dirfd, job->limits.uid, job->limits.gid ? job->limits.gid
								: job->limits.uid)) {
			r = fail(res, -errno, "chown temp dir: %s", strerror(errno));
			goto out;
		}
	}

	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC) || pipe2(ps, O_CLOEXEC)) {
		r = fail(res, -errno, "pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = fail(res, -errno, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(dir, argv, po[1], pe[1], ps[1], &job->limits, out_cap);
	setpgid(pid, pid);	/* both sides, so the kill below never misses */
	close(po[1]), po[1] = -1;
	close(pe[1]), pe[1] = -1;
	close(ps[1]), ps[1] = -1;

	{
		bool o_open = true, e_open = true;
		while (o_open || e_open) {
			struct pollfd pf[2] = { { o_open ? po[0] : -1, POLLIN, 0 },
						{ e_open ? pe[0] : -1, POLLIN, 0 } };
			uint64_t t = now_us();
			int ms;
			if (t >= deadline) {
				timed_out = true;
				break;
			}
			ms = (int)((deadline - t + 999) / 1000);
			if (ms > 1000)
				ms = 1000;
			if (poll(pf, 2, ms) < 0 && errno != EINTR)
				break;
			if (o_open && (pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
				o_open = drain(po[0], &res->out, out_cap, &over);
			if (e_open && (pf[1].revents & (POLLIN | POLLHUP | POLLERR)))
				e_open = drain(pe[0], &res->err, out_cap, &over);
			if (over) {
				kill(-pid, SIGKILL);
				break;
			}
		}
	}
	if (timed_out) {
		kill(-pid, SIGKILL);
	} else {
		/* pipes closed: wait for the exit, still under the deadline */
		for (;;) {
			pid_t w = wait4(pid, &st, WNOHANG, &ru);
			if (w == pid) {
				pid = -1;
				break;
			}
			if (w < 0 && errno != EINTR)
				break;
			if (now_us() >= deadline) {
				timed_out = true;
				kill(-pid, SIGKILL);
				break;
			}
			usleep(2000);
		}
	}
	if (pid > 0) {
		while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
			;
		pid = -1;
	}
	/* stray grandchildren of the compiler, if any */
	res->wall_us = now_us() - start;
	res->cpu_us = (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
		      (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
	{
		int e = 0;
		if (read(ps[0], &e, sizeof e) == (ssize_t)sizeof e && e) {
			r = fail(res, -e, "exec %s: %s", job->compiler, strerror(e));
			goto out;
		}
	}
	if (timed_out) {
		r = fail(res, -ETIMEDOUT, "compile timed out after %u ms",
			 (unsigned)((res->wall_us + 500) / 1000));
		goto out;
	}
	if (over) {
		r = fail(res, -E2BIG, "compiler output over the cap");
		goto out;
	}
	if (!buf_ok(&res->out) || !buf_ok(&res->err)) {
		r = fail(res, -ENOMEM, "out of memory");
		goto out;
	}
	if (WIFSIGNALED(st)) {
		int sig = WTERMSIG(st);
		if (sig == SIGXCPU || sig == SIGXFSZ || sig == SIGKILL) {
			r = fail(res, -E2BIG, "compiler hit a node limit (signal %d)", sig);
			goto out;
		}
		res->status = 128 + sig;
	} else {
		res->status = WEXITSTATUS(st);
	}
	if (res->status == 0) {
		r = read_out_at(dirfd, job->output_name, &res->obj, out_cap);
		if (r) {
			r = fail(res, r == -E2BIG ? -E2BIG : -EIO, "read output %s: %s",
				 job->output_name, strerror(-r));
			goto out;
		}
		if (job->want_dwo) {
			r = read_out_at(dirfd, dwo, &res->dwo, out_cap);
			if (r) {
				r = fail(res, r == -E2BIG ? -E2BIG : -EIO, "read %s: %s",
					 dwo, strerror(-r));
				goto out;
			}
		}
	}
	r = 0;
out:
	if (pid > 0) {
		kill(-pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
		if (ps[i] >= 0)
			close(ps[i]);
	}
	if (dirfd >= 0)
		close(dirfd);
	if (made)
		rm_tree(dir);
	free(argv);
	free(map);
	free(comp);
	if (r) {
		buf_free(&res->obj);
		buf_free(&res->dwo);
	}
	return r;
}

void exec_result_free(struct exec_result *res)
{
	buf_free(&res->out);
	buf_free(&res->err);
	buf_free(&res->obj);
	buf_free(&res->dwo);
}
