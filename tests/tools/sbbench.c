/*
 * sbbench.c — the cost of the sandbox per job, for scripts/bench-sandbox.
 *
 *   sbbench MODE RUNS SOURCE [COMPILER]
 *
 * Compiles SOURCE (C, -O2 -c) RUNS times and prints the medians of wall and
 * CPU time per job (the job's processes: wait4() rusage of the child tree)
 * as `BENCH sandbox_<MODE>_{wall,cpu}_ms V ms`. CPU is everything the job
 * cost, this tool's side included, read from a cpuacct cgroup the tool
 * runs in (bwrap's PID 1 is not a waited-for child of ours, so rusage
 * would miss it); kernel work deferred to workers (a network namespace's
 * teardown) is not in it. MODE:
 *   plain     fork + exec of the compiler in a temp dir: no isolation at all
 *   insecure  noded's exec_run() with --insecure-no-sandbox (uid drop, limits)
 *   direct    noded's exec_run() as shipped: our clone()/namespaces sandbox
 *   bwrap     bubblewrap with the same view (namespaces, read-only /usr,
 *             own /proc and /dev, the job dir, clean environment), as root
 * Run as root (direct and bwrap need it).
 */
#include "exec.h"
#include "../lib/clock.h"
#include "slots.h"
#include "../lib/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS 200
#define CG "/sys/fs/cgroup/cpuacct"

static char cg[128];

static void put(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fprintf(f, "%ld\n", v);
		fclose(f);
	}
}

/* Into a cgroup of our own: its CPU counter covers the whole job. */
static void cg_enter(void)
{
	char p[200];
	snprintf(cg, sizeof cg, CG "/s1-sbbench.%d", (int)getpid());
	if (mkdir(cg, 0755)) {
		cg[0] = 0;
		return;
	}
	snprintf(p, sizeof p, "%s/cgroup.procs", cg);
	put(p, (long)getpid());
}

static void cg_leave(void)
{
	if (!cg[0])
		return;
	put(CG "/cgroup.procs", (long)getpid());
	rmdir(cg);
}

/* CPU ns of the cgroup so far; 0 without one. */
static uint64_t cg_cpu(void)
{
	char p[200];
	unsigned long long v = 0;
	FILE *f;
	snprintf(p, sizeof p, "%s/cpuacct.usage", cg);
	f = cg[0] ? fopen(p, "r") : NULL;
	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* fork + exec argv in dir; wall and CPU of the child tree. */
static int run_cmd(char **argv, const char *dir, uint64_t *wall, uint64_t *cpu)
{
	struct rusage ru;
	uint64_t t0 = now_us();
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);
		dup2(nul, 0);
		if (chdir(dir))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	if (wait4(pid, &st, 0, &ru) < 0)
		return -errno;
	*wall = now_us() - t0;
	*cpu = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

static struct slots slot;	/* a block held, so no noded sweeps our uid */

static int run_exec(const char *cc, struct buf *src, bool insecure, uint64_t *wall,
		    uint64_t *cpu)
{
	char *args[] = { "-O2", "-c", "-x", "c" };
	struct exec_job j = { .compiler = cc, .args = args, .nargs = 4, .input_name = "a.c",
			      .input = src->data, .input_len = src->len, .output_name = "a.o",
			      .hub_cwd = "/w" };
	struct exec_result r;
	uint64_t t0 = now_us();
	int rc;

	j.launch.insecure = insecure;
	j.limits.uid = j.limits.gid = slots_uid(&slot, 0);
	rc = exec_run(&j, &r);
	*wall = now_us() - t0;
	*cpu = r.cpu_us;
	if (!rc && r.status)
		rc = -EIO;
	if (rc)
		fprintf(stderr, "sbbench: %s (status %d)\n", r.error, r.status);
	exec_result_free(&r);
	return rc;
}

int main(int argc, char **argv)
{
	static uint64_t wall[MAX_RUNS], cpu[MAX_RUNS];
	const char *mode, *cc;
	char dir[] = "/tmp/sbbench.XXXXXX", srcp[64], *cmd[64];
	struct buf src = BUF_INIT;
	int runs, fd, n = 0, failed = 0;

	if (argc < 4 || (runs = atoi(argv[2])) < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "usage: sbbench plain|insecure|direct|bwrap RUNS SOURCE [CC]\n");
		return 2;
	}
	mode = argv[1];
	cc = argc > 4 ? argv[4] : "/usr/bin/gcc";
	fd = open(argv[3], O_RDONLY);
	if (fd < 0 || buf_read_fd(&src, fd, 64u << 20) < 0 || !mkdtemp(dir)) {
		perror(argv[3]);
		return 1;
	}
	close(fd);
	snprintf(srcp, sizeof srcp, "%s/a.c", dir);
	fd = open(srcp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write_full(fd, src.data, src.len) < 0)
		return 1;
	close(fd);
	if (!strcmp(mode, "plain")) {
		char *c[] = { (char *)cc, "-O2", "-c", "-x", "c", "a.c", "-o", "a.o", NULL };
		memcpy(cmd, c, sizeof c);
	} else if (!strcmp(mode, "bwrap")) {
		char *c[] = { "/usr/bin/bwrap", "--unshare-all", "--die-with-parent",
			"--new-session", "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
			"--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
			"--ro-bind", "/etc/alternatives", "/etc/alternatives", "--ro-bind",
			"/etc/ld.so.cache", "/etc/ld.so.cache", "--dev", "/dev", "--proc", "/proc",
			"--bind", dir, dir, "--chdir", dir, "--clearenv", "--setenv", "PATH",
			"/usr/bin", (char *)cc, "-O2", "-c", "-x", "c", "a.c", "-o", "a.o", NULL };
		memcpy(cmd, c, sizeof c);
	} else if (strcmp(mode, "insecure") && strcmp(mode, "direct")) {
		fprintf(stderr, "sbbench: unknown mode %s\n", mode);
		return 2;
	}
	if (slots_reserve(&slot, SLOTS_UID_BASE) < 0) {
		fprintf(stderr, "sbbench: no free slot uid block\n");
		return 1;
	}
	cg_enter();
	for (int i = 0; i < runs + 1; i++) {	/* the first run warms caches */
		uint64_t w = 0, c = 0, c0 = cg_cpu();
		int rc = !strcmp(mode, "plain") || !strcmp(mode, "bwrap")
				 ? run_cmd(cmd, dir, &w, &c)
				 : run_exec(cc, &src, !strcmp(mode, "insecure"), &w, &c);
		if (cg[0])
			c = (cg_cpu() - c0) / 1000;
		if (rc) {
			/* a shared machine: the OOM killer or a neighbour may end a
			 * run; it is not counted, and too many end the benchmark */
			fprintf(stderr, "sbbench %s: run %d failed: %s\n", mode, i, strerror(-rc));
			if (++failed > runs / 2) {
				cg_leave();
				return 1;
			}
			continue;
		}
		if (i) {
			wall[n] = w;
			cpu[n++] = c;
		}
	}
	cg_leave();
	if (!n)
		return 1;
	qsort(wall, (size_t)n, sizeof *wall, cmp);
	qsort(cpu, (size_t)n, sizeof *cpu, cmp);
	printf("BENCH sandbox_%s_wall_ms %.2f ms\n", mode, (double)wall[n / 2] / 1000.0);
	printf("BENCH sandbox_%s_cpu_ms %.2f ms\n", mode, (double)cpu[n / 2] / 1000.0);
	unlink(srcp);
	snprintf(srcp, sizeof srcp, "%s/a.o", dir);
	unlink(srcp);
	rmdir(dir);
	buf_free(&src);
	return 0;
}
