/*
 * sandbox.c — the compiler's launch (sandbox.h): namespaces, the new root,
 * the uid drop, limits, seccomp, exec.
 *
 * The child is started by lib/spawn.c (argv before the fork, errors back
 * through a CLOEXEC pipe); this file gives it its hooks: pre_ids() (still
 * root, in the new namespaces: the new root) and post_ids() (with the
 * slot's ids: no_new_privs, limits, seccomp, the caller's job setup). The
 * hooks only make syscalls on memory prepared before the fork (no malloc,
 * no stdio streams).
 */
#include "sandbox.h"

#include "../lib/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)

const char *sandbox_stage_name(int stage)
{
	static const char *const n[] = { "spawn", "stdio", "namespaces", "mounts", "ids",
		"limits", "seccomp", "job setup", "exec" };
	return stage >= 0 && stage <= SB_EXEC ? n[stage] : "?";
}

/* ---- the new root (child, still root, in its own mount namespace) ---- */

/* dst = a + b, false if it does not fit. */
static bool join(char *dst, size_t len, const char *a, const char *b)
{
	return (size_t)snprintf(dst, len, "%s%s", a, b) < len;
}

/* mkdir -p of an absolute path, 0755. */
static int mkdir_p(char *path)
{
	for (char *s = path + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = 0;
		if (mkdir(path, 0755) && errno != EEXIST) {
			*s = c;
			return errno;
		}
		*s = c;
		if (!c)
			return 0;
	}
}

/* Binds src at stage+src (dir or file), read-only unless rw; always nosuid,
 * nodev unless dev (the device nodes). 0 or an errno. */
static int bind_at(const char *stage, const char *src, bool rw, bool dev)
{
	char dst[PATH_MAX];
	struct stat st;
	unsigned long fl = MS_BIND | MS_REMOUNT | MS_NOSUID | (dev ? 0 : MS_NODEV) |
			   (rw ? 0 : MS_RDONLY);

	if (lstat(src, &st))
		return errno == ENOENT ? 0 : errno;	/* absent here: nothing to see */
	if (!join(dst, sizeof dst, stage, src))
		return ENAMETOOLONG;
	if (S_ISLNK(st.st_mode)) {
		char tgt[PATH_MAX];
		ssize_t n = readlink(src, tgt, sizeof tgt - 1);
		char *s = strrchr(dst, '/');
		if (n < 0)
			return errno;
		tgt[n] = 0;
		*s = 0;
		int r = s > dst + strlen(stage) ? mkdir_p(dst) : 0;
		*s = '/';
		if (r)
			return r;
		return symlink(tgt, dst) && errno != EEXIST ? errno : 0;
	}
	if (S_ISDIR(st.st_mode)) {
		if (mkdir_p(dst))
			return errno;
	} else {
		char *s = strrchr(dst, '/');
		*s = 0;
		int r = mkdir_p(dst);
		*s = '/';
		if (r)
			return r;
		int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0)
			return errno;
		close(fd);
	}
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) || mount(NULL, dst, NULL, fl, NULL))
		return errno;
	return 0;
}

static int make_root(const struct sandbox_cfg *cfg)
{
	static const char *const devs[] = { "/dev/null", "/dev/zero", "/dev/full",
					    "/dev/random", "/dev/urandom" };
	const char *st = cfg->stage_dir, *ro = cfg->ro_paths ? cfg->ro_paths : SANDBOX_RO_DEFAULT;
	char p[PATH_MAX];
	int r;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return errno;
	if (cfg->root_tree ? mount(cfg->root_tree, st, NULL, MS_BIND, NULL)
			   : mount("tmpfs", st, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k"))
		return errno;
	while (*ro) {
		const char *e = strchr(ro, ':');
		size_t l = e ? (size_t)(e - ro) : strlen(ro);
		if (l >= sizeof p)
			return ENAMETOOLONG;
		memcpy(p, ro, l);
		p[l] = 0;
		if (p[0] == '/' && (r = bind_at(st, p, false, false)))
			return r;
		ro += l + (e ? 1 : 0);
	}
	for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++)
		if ((r = bind_at(st, devs[i], true, true)))
			return r;
	if (!join(p, sizeof p, st, "/proc") || mkdir_p(p))
		return errno ? errno : ENAMETOOLONG;
	if (mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		return errno;
	if ((r = bind_at(st, cfg->job_dir, true, false)))
		return r;
	if (chdir(st) || syscall(SYS_pivot_root, ".", "."))
		return errno;
	/* the old root is stacked under the new one: detach it */
	if (umount2(".", MNT_DETACH) || chdir("/"))
		return errno;
	/* a bind (the tree) is remounted as a bind: never its filesystem */
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_NOSUID | MS_NODEV |
		  (cfg->root_tree && cfg->root_tree_rw ? 0 : MS_RDONLY) |
		  (cfg->root_tree ? MS_BIND : 0), NULL))
		return errno;
	/* cosmetic (our own UTS namespace): systemd's ProtectHostname= forbids it */
	if (sethostname("usbfarm-job", 11)) {
		/* keep the board's name */
	}
	return 0;
}

/* ---- seccomp: refuse what a compile never needs and a breakout would ---- */

#if defined(__x86_64__)
#define SB_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SB_ARCH AUDIT_ARCH_AARCH64
#elif defined(__arm__)
#define SB_ARCH AUDIT_ARCH_ARM
#elif defined(__i386__)
#define SB_ARCH AUDIT_ARCH_I386
#endif

#define SC_NR offsetof(struct seccomp_data, nr)
#define SC_ARCH offsetof(struct seccomp_data, arch)
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SC_ARG0_LO offsetof(struct seccomp_data, args[0])
#else
#define SC_ARG0_LO (offsetof(struct seccomp_data, args[0]) + 4)
#endif
#define DENY(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
		 BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM)

static int install_seccomp(void)
{
#ifdef SB_ARCH
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SC_ARCH),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SB_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SC_NR),
#ifdef __x86_64__
		/* the x32 ABI: never */
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
#endif
		/* clone3's flags are in memory: make libc fall back to clone */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		/* clone with a new namespace */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SC_ARG0_LO),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x7E020000u, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SC_NR),
		DENY(__NR_unshare), DENY(__NR_setns), DENY(__NR_ptrace),
		DENY(__NR_process_vm_readv), DENY(__NR_process_vm_writev),
		DENY(__NR_keyctl), DENY(__NR_add_key), DENY(__NR_request_key),
		DENY(__NR_bpf), DENY(__NR_perf_event_open), DENY(__NR_userfaultfd),
		DENY(__NR_mount), DENY(__NR_umount2), DENY(__NR_pivot_root),
		DENY(__NR_chroot), DENY(__NR_init_module), DENY(__NR_finit_module),
		DENY(__NR_delete_module), DENY(__NR_kexec_load),
		DENY(__NR_io_uring_setup), DENY(__NR_io_uring_enter),
		DENY(__NR_io_uring_register), DENY(__NR_open_by_handle_at),
		DENY(__NR_fsopen), DENY(__NR_fsmount), DENY(__NR_fspick),
		DENY(__NR_open_tree), DENY(__NR_move_mount), DENY(__NR_swapon),
		DENY(__NR_swapoff), DENY(__NR_reboot), DENY(__NR_acct),
		DENY(__NR_syslog), DENY(__NR_quotactl),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { (unsigned short)(sizeof f / sizeof f[0]), f };
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return errno;
#endif
	return 0;
}

/* ---- the child's hooks (lib/spawn.h) ---- */

struct hook_ctx {
	const struct sandbox_cfg *cfg;
	sandbox_hook unpriv;
	void *arg;
};

static int set_limit(int res, uint64_t v)
{
	struct rlimit rl = { (rlim_t)v, (rlim_t)v };
	return setrlimit(res, &rl) ? errno : 0;
}

static int set_limits(const struct sandbox_limits *l)
{
	struct rlimit cpu = { (rlim_t)l->cpu_s, (rlim_t)l->cpu_s + 5 };
	int r;

	if (setrlimit(RLIMIT_CPU, &cpu))
		return errno;
	if ((r = set_limit(RLIMIT_AS, l->as_bytes)) || (r = set_limit(RLIMIT_FSIZE, l->fsize_bytes)) ||
	    (r = set_limit(RLIMIT_NOFILE, l->nofile)) || (r = set_limit(RLIMIT_CORE, 0)))
		return r;
	/* per real uid: the slot's own uid counts only this job */
	return set_limit(RLIMIT_NPROC, l->nproc);
}

/* Still root, in the new namespaces: the new root. */
static int pre_ids(void *arg, int *stage)
{
	const struct hook_ctx *h = arg;
	*stage = SB_MOUNTS;
	return h->cfg->insecure ? 0 : make_root(h->cfg);
}

/* With the slot's ids: no new privileges, limits, seccomp, the job's setup. */
static int post_ids(void *arg, int *stage)
{
	const struct hook_ctx *h = arg;
	int r;

	*stage = SB_IDS;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return errno;
	*stage = SB_LIMITS;
	if ((r = set_limits(&h->cfg->lim)))
		return r;
	*stage = SB_SECCOMP;
	if (!h->cfg->insecure && (r = install_seccomp()))
		return r;
	*stage = SB_SETUP;
	umask(022);
	return h->unpriv ? h->unpriv(h->arg) : 0;
}

pid_t sandbox_spawn(const struct sandbox_cfg *cfg, char *const *argv, int outfd, int errfd,
		    sandbox_hook unpriv, void *arg, struct sandbox_err *se)
{
	char *largv[1024 + 2];
	struct hook_ctx h = { cfg, unpriv, arg };
	struct spawn_opts o = { .argv = argv, .envp = cfg->envp, .cwd = cfg->cwd, .fd_in = -1,
				.fd_out = outfd, .fd_err = errfd, .pdeathsig = SIGKILL,
				.pre_ids = pre_ids, .post_ids = post_ids, .arg = &h };
	struct spawn_err e;
	pid_t pid;

	if (cfg->launcher) {
		size_t n = 0;
		largv[n++] = (char *)cfg->launcher;
		while (argv[n - 1] && n < sizeof largv / sizeof largv[0] - 1) {
			largv[n] = argv[n - 1];
			n++;
		}
		if (argv[n - 1])
			return -E2BIG;
		largv[n] = NULL;
		o.argv = largv;
	}
	o.set_ids = cfg->uid && geteuid() == 0;
	o.uid = cfg->uid;
	o.gid = cfg->gid;
	o.new_pgrp = cfg->insecure;
	o.clone_flags = cfg->insecure ? 0 : NS_FLAGS;
	pid = spawn_start(&o, &e);
	if (se) {
		se->stage = e.stage == SPAWN_STAGE_EXEC ? SB_EXEC
			    : e.stage == SPAWN_STAGE_IDS ? SB_IDS
			    : e.stage == SPAWN_STAGE_FDS ? SB_FDS
			    : e.stage == SPAWN_STAGE_CWD ? SB_SETUP : e.stage;
		se->err = e.err;
	}
	return pid;
}

void sandbox_kill(const struct sandbox_cfg *cfg, pid_t pid)
{
	if (pid <= 0)
		return;
	if (cfg->insecure)
		kill(-pid, SIGKILL);
	kill(pid, SIGKILL);	/* PID 1 of the job: the namespace dies with it */
}

int sandbox_probe(char *why, size_t whylen)
{
	int st;
	pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(NS_FLAGS | SIGCHLD), NULL, NULL,
				   NULL, NULL);
	if (pid < 0) {
		int e = errno;
		snprintf(why, whylen, "cannot make namespaces (clone: %s)", strerror(e));
		return -e;
	}
	if (pid == 0) {
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
			_exit(10);
		if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
			_exit(11);
		if (getpid() != 1)
			_exit(12);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || install_seccomp())
			_exit(13);	/* e.g. under qemu-user, which refuses seccomp */
		_exit(0);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		int c = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		snprintf(why, whylen, "a child in new namespaces cannot %s (%d)",
			 c == 13 ? "install its seccomp filter" : "set up its mounts", c);
		return -EPERM;
	}
	return 0;
}
