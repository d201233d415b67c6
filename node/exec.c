/*
 * exec.c — the node-side job executor (exec.h).
 *
 * exec_run(): check names and arguments (lib/policy.h) → the private dir
 * (root: mkdtemp 0711, j/ given to the slot's uid, s/ the mount stage) →
 * argv (job args, our prefix maps, input -o output) → sandbox_spawn(): in
 * the child, with the slot's ids, job_setup() lays out j/ and writes the
 * input, then the compiler is exec'd → the parent drains stdout/stderr with
 * caps until exit or the wall deadline (then the whole job is killed: its
 * PID namespace) → the outputs are read through exec_open_beneath() → the dir is
 * removed. Every path after mkdtemp ends in the same cleanup, and the dir
 * is removed only once no process of the job is left.
 */
#include "exec.h"
#include "exec_int.h"
#include "../lib/clock.h"
#include "sandbox.h"
#include "slots.h"

#include "../lib/job.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
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
#define DEF_TIMEOUT_MS 900000
#define DEF_NPROC 64
#define DEF_NOFILE 256

/* ---- helpers ----------------------------------------------------------- */

int exec_fail(struct exec_result *res, int err, const char *fmt, ...)
{
	va_list ap;
	res->farm_error = err;
	va_start(ap, fmt);
	vsnprintf(res->error, sizeof res->error, fmt, ap);
	va_end(ap);
	return err;
}

/* Removes dir and everything in it, never following a link (slots.h). */
void exec_rm_tree(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		slots_empty_dir(fd);
		close(fd);
	}
	rmdir(dir);
}

/* mkdir under dirfd (the child's side: the slot's ids own what it makes). */
static int mkdir_at(int dirfd, const char *rel)
{
	return mkdirat(dirfd, rel, 0700) && errno != EEXIST ? errno : 0;
}

/* Creates the parent directories of rel (relative) under dirfd: an errno. */
static int mkparents(int dirfd, const char *rel)
{
	char tmp[EXEC_NAME_MAX];
	size_t l = strlen(rel);
	int r;

	if (l >= sizeof tmp)
		return ENAMETOOLONG;
	memcpy(tmp, rel, l + 1);
	for (char *s = tmp; (s = strchr(s, '/')); s++) {
		*s = 0;
		if ((r = mkdir_at(dirfd, tmp)))
			return r;
		*s = '/';
	}
	return 0;
}

/*
 * The job dir's layout (exec.h): the compiler's cwd, "t" plus one "/u" per
 * level the input name climbs (cwd, relative to the job dir), and phys,
 * where the input lands ("t/…" or "r/…", normalized). With dirfd >= 0 it
 * also makes every directory on the way (the child's side). The name was
 * checked by policy_input_name_ok(). 0 or an errno.
 */
static int lay_out(int dirfd, const char *name, char *cwd, size_t cwdlen, char *phys,
		   size_t physlen)
{
	int ups, r;
	size_t n;
	const char *c = name;

	policy_name_walk(name, &ups);
	if (cwdlen < 2 + 2 * (size_t)POLICY_MAX_UPS + 1 || physlen < 2)
		return ENAMETOOLONG;
	strcpy(cwd, "t");
	if (dirfd >= 0 && (r = mkdir_at(dirfd, cwd)))
		return r;
	for (int i = 0; name[0] != '/' && i < ups; i++) {
		strcat(cwd, "/u");
		if (dirfd >= 0 && (r = mkdir_at(dirfd, cwd)))
			return r;
	}
	if (name[0] == '/') {
		strcpy(phys, "r");
		if (dirfd >= 0 && (r = mkdir_at(dirfd, phys)))
			return r;
	} else {
		if (strlen(cwd) >= physlen)
			return ENAMETOOLONG;
		strcpy(phys, cwd);
	}
	n = strlen(phys);
	while (*c) {
		const char *e = strchr(c, '/');
		size_t l = e ? (size_t)(e - c) : strlen(c);
		if (l == 0 || (l == 1 && c[0] == '.')) {
			/* here */
		} else if (l == 2 && c[0] == '.' && c[1] == '.') {
			char *s = strrchr(phys, '/');
			if (!s)
				return EINVAL;	/* cannot happen: checked */
			*s = 0;
			n = (size_t)(s - phys);
		} else {
			if (n + 1 + l >= physlen)
				return ENAMETOOLONG;
			phys[n++] = '/';
			memcpy(phys + n, c, l);
			n += l;
			phys[n] = 0;
			if (e && dirfd >= 0 && (r = mkdir_at(dirfd, phys)))
				return r;
		}
		c += l;
		if (*c)
			c++;
	}
	return 0;
}

/* The child's side (sandbox_spawn's hook, the slot's ids): makes the job
 * dir's layout, the input, the outputs' dirs and TMPDIR. An errno. */
static int job_setup(void *arg)
{
	struct run *r = arg;
	const struct exec_job *job = r->job;
	char cwd[sizeof r->cwd_rel], phys[sizeof r->phys];
	int d = open(r->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), fd, e, c;

	if (d < 0)
		return errno;
	if ((e = lay_out(d, job->input_name, cwd, sizeof cwd, phys, sizeof phys)) ||
	    (e = mkdir_at(d, "tmp")))
		goto out;
	fd = openat(d, phys, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		e = errno;
		goto out;
	}
	e = -write_full(fd, job->input, job->input_len);
	if (close(fd) && !e)
		e = errno;
	if (e)
		goto out;
	c = openat(d, cwd, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (c < 0) {
		e = errno;
		goto out;
	}
	e = mkparents(c, job->output_name);
	close(c);
out:
	close(d);
	return e;
}

/*
 * Opens rel under dirfd for root without letting the job redirect it: no
 * symlink, no "..", no magic link, no other mount on the way
 * (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), never blocking on a FIFO.
 * Kernels before openat2: one component at a time with O_NOFOLLOW.
 */
int exec_open_beneath(int dirfd, const char *rel, int flags)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
						    O_NOCTTY),
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
					   RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV };
	char part[EXEC_NAME_MAX + 128];
	long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
	int cur, next;

	if (fd >= 0 || errno != ENOSYS)
		return fd >= 0 ? (int)fd : -errno;
	if (strlen(rel) >= sizeof part || rel[0] == '/')
		return -EINVAL;
	strcpy(part, rel);
	cur = dup(dirfd);
	for (char *c = part, *e; cur >= 0; c = e + 1) {
		e = strchr(c, '/');
		if (e)
			*e = 0;
		if (!strcmp(c, "..") || !strcmp(c, "."))
			next = -1, errno = EXDEV;
		else
			next = openat(cur, c, e ? O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
						 : (int)how.flags);
		close(cur);
		if (!e || next < 0)
			return next < 0 ? -errno : next;
		cur = next;
	}
	return -errno;
}

/* Reads an output: a regular file of the slot's, one link, at most cap. */
int exec_read_out(const struct run *r, int dirfd, const char *rel, struct buf *b, uint64_t cap)
{
	int fd = exec_open_beneath(dirfd, rel, O_RDONLY), rc;
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    (r->uid && st.st_uid != r->uid)) {
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > cap) {
		close(fd);
		return -E2BIG;
	}
	rc = buf_read_fd(b, fd, (size_t)cap);
	close(fd);
	return rc == -EFBIG ? -E2BIG : rc;
}

/* The dwo of "obj/a.o" is "obj/a.dwo" (gcc: dumpdir + dumpbase + .dwo). */
int exec_dwo_name(const char *out, char *dst, size_t len)
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

/* opt + dir + mid + "=" + nw (a prefix map whose OLD is dir + mid),
 * malloc'd; NULL when out of memory or when nw is NULL. */
static char *prefix_map(const char *opt, const char *dir, const char *mid, const char *nw)
{
	size_t l;
	char *m;

	if (!nw)
		return NULL;
	l = strlen(opt) + strlen(dir) + strlen(mid) + 1 + strlen(nw) + 1;
	m = malloc(l);
	if (m)
		snprintf(m, l, "%s%s%s=%s", opt, dir, mid, nw);
	return m;
}


/* Before anything runs: the job is one lib/policy.h accepts. */
static int check_job(struct run *r)
{
	const struct exec_job *job = r->job;
	struct exec_result *res = r->res;
	char why[200];

	if (!job->compiler || job->compiler[0] != '/')
		return exec_fail(res, -ENOENT, "compiler path must be absolute");
	if (access(job->compiler, X_OK))
		return exec_fail(res, -ENOENT, "%s: %s", job->compiler, strerror(errno));
	if (!policy_input_name_ok(job->input_name))
		return exec_fail(res, -EPERM, "refused: bad input name");
	if (job->hub_cwd && (job->hub_cwd[0] != '/' ||
			     strnlen(job->hub_cwd, EXEC_CWD_MAX) >= EXEC_CWD_MAX))
		return exec_fail(res, -EPERM, "refused: bad hub cwd");
	if (!policy_output_name_ok(job->output_name))
		return exec_fail(res, -EPERM, "refused: bad output name");
	if (policy_check_args(job->args, job->nargs, why, sizeof why))
		return exec_fail(res, -EPERM, "refused: %s", why);
	if (!policy_input_suffix_ok(job->input_name))
		return exec_fail(res, -EPERM, "refused: input %s does not end in a source suffix",
			    job->input_name);
	if (job->want_dwo && exec_dwo_name(job->output_name, r->dwo, sizeof r->dwo))
		return exec_fail(res, -EPERM, "refused: bad output name");
	if ((uint64_t)job->input_len > JOB_MAX_INPUT)
		return exec_fail(res, -E2BIG, "input too large");
	if (!job->launch.insecure && geteuid() != 0)
		return exec_fail(res, -EPERM, "the sandbox needs root (noded --insecure-no-sandbox "
			    "runs jobs without it)");
	if (job->launch.launcher && job->launch.launcher[0] != '/')
		return exec_fail(res, -ENOENT, "launcher path must be absolute");
	return 0;
}

/* The private dir: top (root's, 0711), j/ (the slot's), s/ (the stage). */
int exec_make_dirs(struct run *r)
{
	const char *root = r->job->tmp_root;
	char real[PATH_MAX];
	int top, rc = 0;

	if (!root)
		root = getenv("TMPDIR");
	if (!root || !*root)
		root = "/tmp";
	if (snprintf(r->top, sizeof r->top, "%s/usbfarm-job.XXXXXX", root) >= (int)sizeof r->top)
		return exec_fail(r->res, -ENAMETOOLONG, "temp root too long");
	if (!mkdtemp(r->top))
		return exec_fail(r->res, -errno, "mkdtemp %s: %s", root, strerror(errno));
	r->made = true;
	/* gcc names its cwd by getcwd(): the maps must name the dir so too */
	if (!realpath(r->top, real))
		return exec_fail(r->res, -errno, "realpath %s: %s", r->top, strerror(errno));
	strcpy(r->top, real);	/* the same dir: removed by this name too */
	if (strchr(r->top, '='))	/* gcc's OLD would end there */
		return exec_fail(r->res, -EINVAL, "temp dir %s contains '='", r->top);
	snprintf(r->dir, sizeof r->dir, "%s/j", r->top);
	snprintf(r->stage, sizeof r->stage, "%s/s", r->top);
	top = open(r->top, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (top < 0)
		return exec_fail(r->res, -errno, "open temp dir: %s", strerror(errno));
	if (fchmod(top, 0711) || mkdirat(top, "j", 0700) || mkdirat(top, "s", 0700))
		rc = -errno;
	if (!rc) {
		/* a dir made this instant in a dir only root writes: given away */
		r->dirfd = openat(top, "j", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (r->dirfd < 0 || (r->uid && fchown(r->dirfd, r->uid, r->gid)))
			rc = -errno;
	}
	close(top);
	if (rc)
		return exec_fail(r->res, rc, "job dir: %s", strerror(-rc));
	return 0;
}

/* A text job's layout of j/ (exec.h), as names. */
static int text_layout(struct run *r)
{
	int rc = lay_out(-1, r->job->input_name, r->cwd_rel, sizeof r->cwd_rel, r->phys,
		     sizeof r->phys);
	if (rc)
		return exec_fail(r->res, -rc, "input dirs: %s", strerror(rc));
	/* the input must not be one of the outputs */
	snprintf(r->out_rel, sizeof r->out_rel, "%s/%s", r->cwd_rel, r->job->output_name);
	snprintf(r->dwo_rel, sizeof r->dwo_rel, "%s/%s", r->cwd_rel, r->dwo);
	if (!strcmp(r->out_rel, r->phys) || (r->job->want_dwo && !strcmp(r->dwo_rel, r->phys)))
		return exec_fail(r->res, -EPERM, "refused: input and output names clash");
	snprintf(r->cwd, sizeof r->cwd, "%s/%s", r->dir, r->cwd_rel);
	return 0;
}

/* argv: compiler, job args, our prefix maps (last: they win for our
 * names), input -o output. */
static int build_argv(struct run *r)
{
	const struct exec_job *job = r->job;
	int n = 0;

	r->argv = calloc((size_t)job->nargs + 9, sizeof *r->argv);
	if (!r->argv)
		return exec_fail(r->res, -ENOMEM, "out of memory");
	r->argv[n++] = (char *)job->compiler;
	for (int i = 0; i < job->nargs; i++)
		r->argv[n++] = job->args[i];
	if (job->hub_cwd) {
		char *comp = policy_comp_dir(job->args, job->nargs, job->hub_cwd);
		r->maps[0] = prefix_map("-fdebug-prefix-map=", r->cwd, "", comp);
		free(comp);
		if (!r->maps[0])
			return exec_fail(r->res, -ENOMEM, "out of memory");
		r->argv[n++] = r->maps[0];
	}
	if (job->input_name[0] == '/') {
		/* the input's dir, then the input itself (wins for its own
		 * name), each as the job's own maps make the hub's name;
		 * "<dir>/r" + a hub name = its node name */
		const char *in = job->input_name;
		size_t dl = (size_t)(strrchr(in, '/') - in);
		char *hdir = strndup(in, dl);
		char *d = hdir && dl ? policy_map_name(job->args, job->nargs, hdir, false) : NULL;
		char *f = policy_map_name(job->args, job->nargs, in, false);
		char *m = policy_map_name(job->args, job->nargs, in, true);
		char rdir[EXEC_NAME_MAX + 2], rin[EXEC_NAME_MAX + 2];

		snprintf(rdir, sizeof rdir, "/r%.*s", (int)dl, in);
		snprintf(rin, sizeof rin, "/r%s", in);
		r->maps[1] = dl ? prefix_map("-fdebug-prefix-map=", r->dir, rdir, d) : NULL;
		r->maps[2] = prefix_map("-fdebug-prefix-map=", r->dir, rin, f);
		r->maps[3] = prefix_map("-fmacro-prefix-map=", r->dir, rin, m);
		free(hdir), free(d), free(f), free(m);
		if ((dl && !r->maps[1]) || !r->maps[2] || !r->maps[3])
			return exec_fail(r->res, -ENOMEM, "out of memory");
		for (int i = 1; i < 4; i++)
			if (r->maps[i])
				r->argv[n++] = r->maps[i];
		snprintf(r->inpath, sizeof r->inpath, "%s%s", r->dir, rin);
		r->argv[n++] = r->inpath;	/* gcc gets the node's absolute path */
	} else {
		r->argv[n++] = (char *)job->input_name;
	}
	r->argv[n++] = "-o";
	r->argv[n++] = (char *)job->output_name;
	r->argv[n] = NULL;
	return 0;
}

/* The sandbox's configuration for this job (sandbox.h). */
void exec_sandbox_setup(struct run *r)
{
	const struct exec_limits *l = &r->job->limits;
	struct sandbox_cfg *sb = &r->sb;

	sb->insecure = r->job->launch.insecure;
	sb->launcher = r->job->launch.launcher;
	sb->ro_paths = r->job->launch.ro_paths;
	sb->uid = r->uid;
	sb->gid = r->gid;
	sb->lim.cpu_s = l->cpu_s ? l->cpu_s : DEF_CPU_S;
	sb->lim.as_bytes = l->mem_bytes ? l->mem_bytes : DEF_MEM;
	/* temp files (the assembler's input) count too: some headroom */
	sb->lim.fsize_bytes = r->out_cap * 2 + (64u << 20);
	sb->lim.nproc = l->nproc ? l->nproc : DEF_NPROC;
	sb->lim.nofile = l->nofile ? l->nofile : DEF_NOFILE;
	sb->job_dir = r->dir;
	sb->stage_dir = r->stage;
	sb->cwd = r->cwd;
	snprintf(r->env_tmp, sizeof r->env_tmp, "TMPDIR=%s/tmp", r->dir);
	snprintf(r->env_home, sizeof r->env_home, "HOME=%s", r->dir);
	r->envp[0] = "PATH=/usr/bin:/bin";
	r->envp[1] = r->env_tmp;
	r->envp[2] = r->env_home;
	/* the diagnostics' charset as the user's (job.h); glibc's C.UTF-8 is
	 * built in: no locale file is needed in the sandbox */
	r->envp[3] = r->job->utf8 ? "LC_ALL=C.UTF-8" : "LC_ALL=C";
	r->envp[4] = NULL;
	sb->envp = r->envp;
}

/* Drains stdout/stderr until both close, the deadline or a cap. */
static void drain_all(struct run *r, int o, int e, bool *timed_out, bool *over)
{
	bool o_open = true, e_open = true;

	while (o_open || e_open) {
		struct pollfd pf[2] = { { o_open ? o : -1, POLLIN, 0 },
					{ e_open ? e : -1, POLLIN, 0 } };
		uint64_t t = now_us();
		int ms;
		if (t >= r->deadline) {
			*timed_out = true;
			return;
		}
		ms = (int)((r->deadline - t + 999) / 1000);
		if (poll(pf, 2, ms > 1000 ? 1000 : ms) < 0 && errno != EINTR)
			return;
		if (o_open && (pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
			o_open = drain(o, &r->res->out, r->text_cap, over);
		if (e_open && (pf[1].revents & (POLLIN | POLLHUP | POLLERR)))
			e_open = drain(e, &r->res->err, r->text_cap, over);
		if (*over)
			return;
	}
}

/* Until the job's process ends or the deadline: its pidfd polled (no
 * polling loop); where the kernel has no pidfd_open, a 2 ms sleep. */
static void wait_exit_or_deadline(const struct run *r, int pidfd)
{
	uint64_t t = now_us();
	int ms = t >= r->deadline ? 0 : (int)((r->deadline - t + 999) / 1000);
	struct pollfd pf = { pidfd, POLLIN, 0 };

	if (pidfd < 0) {
		usleep(2000);
		return;
	}
	if (poll(&pf, 1, ms > 1000 ? 1000 : ms) < 0 && errno != EINTR)
		usleep(2000);
}

/* Waits for the job's process; kills the whole job at the deadline. */
static pid_t wait_job(struct run *r, pid_t pid, int *st, struct rusage *ru, bool *timed_out)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	pid_t ret = pid;

	if (*timed_out)
		sandbox_kill(&r->sb, pid);
	for (;;) {
		pid_t w = wait4(pid, st, *timed_out ? 0 : WNOHANG, ru);
		if (w == pid) {
			ret = -1;
			break;
		}
		if (w < 0 && errno != EINTR)
			break;
		if (!*timed_out && now_us() >= r->deadline) {
			*timed_out = true;
			sandbox_kill(&r->sb, pid);
		}
		if (!*timed_out)
			wait_exit_or_deadline(r, pidfd);
	}
	if (pidfd >= 0)
		close(pidfd);
	return ret;
}

/* Runs the compiler: 0 when it ran (its status in *st), else the farm error. */
int exec_run_compiler(struct run *r, int *st)
{
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, rc = 0;
	bool over = false, timed_out = false;
	struct sandbox_err se = { 0, 0 };
	struct rusage ru;
	pid_t pid;

	memset(&ru, 0, sizeof ru);
	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC)) {
		rc = exec_fail(r->res, -errno, "pipe: %s", strerror(errno));
		goto out;
	}
	pid = sandbox_spawn(&r->sb, r->argv, po[1], pe[1], r->setup, r, &se);
	if (pid < 0) {
		rc = exec_fail(r->res, se.stage == SB_EXEC || !se.err ? pid : -EIO, "%s %s: %s",
			  sandbox_stage_name(se.stage), r->argv[0], strerror((int)-pid));
		goto out;
	}
	close(po[1]), po[1] = -1;
	close(pe[1]), pe[1] = -1;
	drain_all(r, po[0], pe[0], &timed_out, &over);
	if (over)
		sandbox_kill(&r->sb, pid);
	if (wait_job(r, pid, st, &ru, &timed_out) > 0) {
		sandbox_kill(&r->sb, pid);
		while (waitpid(pid, st, 0) < 0 && errno == EINTR)
			;
	}
	if (r->sb.insecure)	/* its process group: strays of the compiler */
		kill(-pid, SIGKILL);
	r->res->wall_us = now_us() - r->start;
	r->res->cpu_us = (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
			 (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
	if (timed_out)
		rc = exec_fail(r->res, -ETIMEDOUT, "compile timed out after %u ms",
			  (unsigned)((r->res->wall_us + 500) / 1000));
	else if (over)
		rc = exec_fail(r->res, -E2BIG, "compiler output over the cap");
	else if (!buf_ok(&r->res->out) || !buf_ok(&r->res->err))
		rc = exec_fail(r->res, -ENOMEM, "out of memory");
out:
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	return rc;
}

/* The compiler's answer, and its outputs when it succeeded. */
int exec_status(struct exec_result *res, int st)
{
	if (WIFSIGNALED(st)) {
		int sig = WTERMSIG(st);
		if (sig == SIGXCPU || sig == SIGXFSZ || sig == SIGKILL || sig == SIGSYS)
			return exec_fail(res, -E2BIG, "compiler hit a node limit (signal %d)", sig);
		res->status = 128 + sig;
	} else {
		res->status = WEXITSTATUS(st);
	}
	return 0;
}

static int collect(struct run *r, int st)
{
	struct exec_result *res = r->res;
	int rc = exec_status(res, st);

	if (rc || res->status)
		return rc;
	rc = exec_read_out(r, r->dirfd, r->out_rel, &res->obj, r->out_cap);
	if (rc)
		return exec_fail(res, rc == -E2BIG ? -E2BIG : -EIO, "read output %s: %s",
			    r->job->output_name, strerror(-rc));
	if (r->job->want_dwo && (rc = exec_read_out(r, r->dirfd, r->dwo_rel, &res->dwo, r->out_cap)))
		return exec_fail(res, rc == -E2BIG ? -E2BIG : -EIO, "read %s: %s", r->dwo,
			    strerror(-rc));
	return 0;
}

int exec_run(const struct exec_job *job, struct exec_result *res)
{
	struct run *r = calloc(1, sizeof *r);
	int st = 0, rc;

	memset(res, 0, sizeof *res);
	if (!r)
		return exec_fail(res, -ENOMEM, "out of memory");
	r->job = job;
	r->res = res;
	r->dirfd = -1;
	r->start = now_us();
	r->out_cap = job->limits.out_bytes && job->limits.out_bytes < JOB_MAX_OUTPUT
			     ? job->limits.out_bytes : JOB_MAX_OUTPUT;
	r->text_cap = r->out_cap < JOB_MAX_TEXT ? r->out_cap : JOB_MAX_TEXT;
	r->deadline = r->start + 1000ull * (job->limits.timeout_ms ? job->limits.timeout_ms
								    : DEF_TIMEOUT_MS);
	r->uid = job->limits.uid && geteuid() == 0 ? job->limits.uid : 0;
	r->gid = job->limits.gid ? job->limits.gid : job->limits.uid;

	if (job->tree) {
		rc = exec_tree_run(r);
		goto out;
	}
	r->setup = job_setup;
	if ((rc = check_job(r)) || (rc = exec_make_dirs(r)) || (rc = text_layout(r)) ||
	    (rc = build_argv(r)))
		goto out;
	exec_sandbox_setup(r);
	if ((rc = exec_run_compiler(r, &st)) || (rc = collect(r, st)))
		goto out;
out:
	exec_tree_end(r);
	if (r->dirfd >= 0)
		close(r->dirfd);
	if (r->made)
		exec_rm_tree(r->top);
	free(r->argv);
	for (int i = 0; i < 4; i++)
		free(r->maps[i]);
	free(r);
	if (rc) {
		buf_free(&res->obj);
		buf_free(&res->dwo);
		buf_free(&res->dep);
	}
	return rc;
}

void exec_result_free(struct exec_result *res)
{
	buf_free(&res->dep);
	free(res->missing);
	for (size_t i = 0; i < res->nunsent; i++)
		free(res->unsent[i]);
	free(res->unsent);
	res->missing = NULL;
	res->unsent = NULL;
	res->nmissing = res->nunsent = 0;
	buf_free(&res->out);
	buf_free(&res->err);
	buf_free(&res->obj);
	buf_free(&res->dwo);
}
