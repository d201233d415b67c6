/*
 * sandbox.h — how noded launches a compiler: the one place that knows.
 *
 * sandbox_spawn() starts argv[0] as the job's process, in one of two modes:
 *
 *  sandboxed (cfg->insecure false, needs root): the child is created by
 *    clone() in new mount, PID, network, IPC and UTS namespaces; it is PID 1
 *    of its PID namespace, so when it exits or is killed every process it
 *    started dies with it (the kernel ends the namespace). Its root is an
 *    empty read-only tmpfs holding only: the toolchain dirs of cfg->ro_paths
 *    bound read-only (nosuid, nodev), /dev/{null,zero,full,random,urandom},
 *    its own /proc, and the job dir, bound read-write at the very path it
 *    has outside (so no name the compiler sees changes: objects stay
 *    byte-identical). No network but a down loopback.
 *  insecure (--insecure-no-sandbox): a plain fork in its own process group;
 *    only the uid drop, the limits and the environment below apply.
 *
 * In both: setgroups(0), setresgid/setresuid to the slot's own ids (when
 * started as root), PR_SET_NO_NEW_PRIVS, a seccomp filter (sandboxed only)
 * that refuses new namespaces, ptrace, bpf, keyrings, io_uring, mounts and
 * module loading; rlimits (CPU, AS, FSIZE, NPROC, NOFILE, CORE = 0);
 * PR_SET_PDEATHSIG(SIGKILL), so a dying parent takes the job with it; stdin
 * /dev/null; the environment is exactly cfg->envp. Then the caller's
 * `unpriv` hook runs with the slot's ids (it lays out the job dir: nothing
 * in a job dir is made by root) and argv is exec'd directly, never through
 * a shell; with cfg->launcher set, argv becomes [launcher, argv...] (a
 * wrapper program such as an emulator runner: noded itself knows nothing
 * of it).
 *
 * Errors of the child before exec come back through lib/spawn.c's CLOEXEC
 * pipe as a struct sandbox_err.
 */
#ifndef USBFARM_NODE_SANDBOX_H
#define USBFARM_NODE_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The toolchain every sandbox sees read-only unless told otherwise:
 * directories are bound, symlinks (merged /usr) recreated, missing skipped. */
#define SANDBOX_RO_DEFAULT "/usr:/bin:/sbin:/lib:/lib64:/lib32:/libx32:/etc/ld.so.cache:" \
	"/etc/alternatives"
#define SANDBOX_RO_MAX 16

struct sandbox_limits {
	uint64_t cpu_s, as_bytes, fsize_bytes;
	uint64_t nproc, nofile;
};

struct sandbox_cfg {
	bool insecure;		/* no namespaces: see above */
	const char *launcher;	/* NULL, or an absolute program run with argv after it */
	const char *ro_paths;	/* ':'-separated absolute paths; NULL: SANDBOX_RO_DEFAULT */
	uid_t uid;		/* the slot's ids; 0: no switch (not root) */
	gid_t gid;
	struct sandbox_limits lim;
	const char *job_dir;	/* absolute, bound read-write (sandboxed) */
	const char *stage_dir;	/* an empty root-owned dir, not under job_dir: the
				 * new root is mounted there in the child's own
				 * mount namespace (sandboxed only) */
	const char *root_tree;	/* NULL, or a dir (node/tree.h) bound read-only as
				 * the root instead of the empty tmpfs: ro_paths,
				 * /dev, /proc and the job dir are mounted over it
				 * at the mount points tree_build() made */
	bool root_tree_rw;	/* the root_tree bind stays writable (a tree job
				 * writes its outputs at their hub paths): what a
				 * job may write there is what permission bits
				 * allow its uid (tree.h), nothing else */
	const char *cwd;	/* absolute; the child's cwd at exec */
	char *const *envp;
};

/* Stages of the child, for errors. */
enum sandbox_stage {
	SB_OK, SB_FDS, SB_NAMESPACES, SB_MOUNTS, SB_IDS, SB_LIMITS, SB_SECCOMP,
	SB_SETUP, SB_EXEC,
};

struct sandbox_err {
	int stage;		/* enum sandbox_stage */
	int err;		/* errno */
};

/* The child's hook, run after the drop, before exec: 0 or an errno. */
typedef int (*sandbox_hook)(void *arg);

/* Starts the child with stdout/stderr on outfd/errfd (lib/spawn.h).
 * Returns its pid once the program runs, or -errno when anything before
 * exec failed (then *se says where, and the child is reaped). */
pid_t sandbox_spawn(const struct sandbox_cfg *cfg, char *const *argv, int outfd, int errfd,
		    sandbox_hook unpriv, void *arg, struct sandbox_err *se);

/* Ends the job: SIGKILL to the child (sandboxed: the namespace goes with it;
 * insecure: its process group). */
void sandbox_kill(const struct sandbox_cfg *cfg, pid_t pid);

/* 0 if this kernel and these privileges can make the sandbox (tried for
 * real: a child in every namespace), else -errno and why. */
int sandbox_probe(char *why, size_t whylen);

const char *sandbox_stage_name(int stage);

#endif
