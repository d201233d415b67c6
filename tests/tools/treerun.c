/*
 * treerun.c — node/store.c, node/tree.c and node/sandbox.c together, with
 * no protocol: plays the hub (a manifest made from real files, the store
 * filled from them) and the board (the tree assembled from the store, the
 * real compiler run in the sandbox with the tree as its root, the
 * read-set check of its dependency output). For tests/integration/
 * store_tree.sh and scripts/bench-store. Root (the sandbox).
 *
 *   treerun fill STORE LIST
 *       the files named in LIST (one absolute path a line; symlinks on the
 *       way become manifest symlinks) into the store
 *   treerun run STORE LIST CWD RO OUTDIR [--omit PATH]... -- ARGV...
 *       the tree from LIST (minus each omitted path), ARGV run in the
 *       sandbox at CWD with RO (sandbox.h's ro_paths: the toolchain) bound
 *       over the tree; "{J}" in ARGV is the job dir; every file the job
 *       left in the job dir is copied to OUTDIR; *.d files are checked.
 *       Prints `tree …`, `missing HASH`, `unsent NAME` lines; exits with
 *       the compiler's status, else 3 (blobs missing), 4 (unsent files),
 *       5 (tree refused), 1 (anything else).
 *   treerun toolchain COMPILER [CC1]
 *       prints tree_toolchain()'s ro_paths for COMPILER
 *   treerun bench STORE LIST RUNS RO
 *       BENCH lines: tree assembly per job (median of RUNS), store insert
 *       rate, first-use verification cost.
 *
 * The job dirs are made under $TREERUN_TMP (default /tmp): it must be the
 * store's filesystem for the tree's hard links.
 */
#include "sandbox.h"
#include "slots.h"
#include "store.h"
#include "tree.h"

#include "../lib/buf.h"
#include "../lib/sha256.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

/* CPU time of this process (user + system). */
static uint64_t cpu_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static bool have(const struct manifest *m, const char *p)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->e[i].path, p))
			return true;
	return false;
}

/* p with "." and ".." removed lexically (p absolute). */
static void normalize(char *p)
{
	char out[PATH_MAX] = "";
	size_t ol = 0;
	for (char *s = strtok(p, "/"); s; s = strtok(NULL, "/")) {
		if (!strcmp(s, "."))
			continue;
		if (!strcmp(s, "..")) {
			char *u = strrchr(out, '/');
			ol = u ? (size_t)(u - out) : 0;
			out[ol] = 0;
			continue;
		}
		ol += (size_t)snprintf(out + ol, sizeof out - ol, "/%s", s);
	}
	strcpy(p, ol ? out : "/");
}

/* Adds path p: each symlink on its way as a manifest symlink (then the
 * target's own path), the file at its end. With st, the file's bytes go
 * into the store too. */
static int add_path(struct manifest *m, struct store *st, const char *p, int depth,
		    uint64_t *bytes)
{
	char q[PATH_MAX], t[PATH_MAX], next[2 * PATH_MAX];
	size_t l = strlen(p);
	struct stat sb;

	if (depth > 40 || l >= sizeof q)
		return -ELOOP;
	for (size_t i = 1; i <= l; i++) {
		if (i < l && p[i] != '/')
			continue;
		memcpy(q, p, i);
		q[i] = 0;
		if (lstat(q, &sb))
			return -errno;
		if (S_ISLNK(sb.st_mode)) {
			ssize_t n = readlink(q, t, sizeof t - 1);
			if (n <= 0)
				return -EINVAL;
			t[n] = 0;
			if (!have(m, q) && manifest_add_link(m, q, i, t, (size_t)n))
				return -EINVAL;
			if (t[0] == '/')
				snprintf(next, sizeof next, "%s%s", t, p + i);
			else
				snprintf(next, sizeof next, "%.*s/%s%s",
					 (int)(strrchr(q, '/') - q), q, t, p + i);
			normalize(next);
			return add_path(m, st, next, depth + 1, bytes);
		}
		if (i < l)
			continue;
		if (S_ISDIR(sb.st_mode))
			return have(m, q) ? 0 : manifest_add_dir(m, q, i);
		if (!S_ISREG(sb.st_mode) || have(m, q))
			return 0;
		struct buf b = BUF_INIT;
		uint8_t h[32];
		int r = buf_read_file(&b, q, STORE_BLOB_MAX);
		if (r < 0)
			return r;
		sha256(b.data, b.len, h);
		r = manifest_add_file(m, q, i, h, b.len, sb.st_mode & 0777);
		if (!r && st)
			r = store_put(st, h, b.data, b.len);
		*bytes += b.len;
		buf_free(&b);
		return r;
	}
	return 0;
}

/* The manifest of LIST minus the omitted paths (checked). */
static int load(struct manifest *m, struct store *st, const char *list, char **omit, int nomit,
		uint64_t *bytes)
{
	FILE *f = fopen(list, "r");
	char line[PATH_MAX], why[256];
	int r = 0;

	if (!f)
		return -errno;
	manifest_init(m);
	while (!r && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		bool skip = !line[0];
		for (int i = 0; i < nomit; i++)
			skip |= !strcmp(line, omit[i]);
		if (!skip && (r = add_path(m, st, line, 0, bytes)))
			fprintf(stderr, "treerun: %s: %s\n", line, strerror(-r));
	}
	fclose(f);
	if (!r && (r = manifest_check(m, why, sizeof why)))
		fprintf(stderr, "treerun: %s\n", why);
	return r;
}

static struct store *open_store(const char *dir)
{
	struct store_cfg c = { .dir = dir };
	struct store *st = NULL;
	int r = store_open(&c, &st);
	if (r)
		fprintf(stderr, "treerun: store %s: %s\n", dir, strerror(-r));
	return st;
}

/* ---- run ---- */

struct job {
	char top[PATH_MAX], j[PATH_MAX + 8], s[PATH_MAX + 8], r[PATH_MAX + 8];
	int topfd;
	struct slots slot;
	uid_t uid;
};

static int job_dirs(struct job *jb)
{
	char real[PATH_MAX];
	const char *tmp_root = getenv("TREERUN_TMP");	/* the store's filesystem */
	snprintf(jb->top, sizeof jb->top, "%s/treerun.t2.XXXXXX", tmp_root ? tmp_root : "/tmp");
	if (!mkdtemp(jb->top) || !realpath(jb->top, real) || chmod(real, 0711))
		return -errno;
	strcpy(jb->top, real);
	snprintf(jb->j, sizeof jb->j, "%s/j", jb->top);
	snprintf(jb->s, sizeof jb->s, "%s/s", jb->top);
	snprintf(jb->r, sizeof jb->r, "%s/r", jb->top);
	jb->topfd = open(jb->top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (slots_reserve(&jb->slot, SLOTS_UID_BASE) < 0)
		return -EAGAIN;
	jb->uid = slots_uid(&jb->slot, 0);
	char tmp[PATH_MAX + 16];
	snprintf(tmp, sizeof tmp, "%s/tmp", jb->j);
	if (jb->topfd < 0 || mkdir(jb->j, 0700) || mkdir(jb->s, 0700) || mkdir(tmp, 0700) ||
	    chown(jb->j, jb->uid, jb->uid) || chown(tmp, jb->uid, jb->uid))
		return -errno;
	return 0;
}

/* argv with "{J}" replaced by the job dir (malloc'd strings). */
static char **job_argv(char **in, int n, const char *j)
{
	char **v = calloc((size_t)n + 1, sizeof *v);
	for (int i = 0; v && i < n; i++) {
		char *at = strstr(in[i], "{J}");
		size_t l = strlen(in[i]) + strlen(j) + 1;
		v[i] = malloc(l);
		if (at)
			snprintf(v[i], l, "%.*s%s%s", (int)(at - in[i]), in[i], j, at + 3);
		else
			strcpy(v[i], in[i]);
	}
	return v;
}

/* Copies the job's files to out; checks each *.d. Returns unsent count. */
static int collect(const struct job *jb, const struct manifest *m, const char *cwd,
		   const char *out)
{
	DIR *d = opendir(jb->j);
	struct dirent *de;
	int unsent = 0;

	while (d && (de = readdir(d))) {
		char p[PATH_MAX + 300], q[PATH_MAX + 300];
		struct buf b = BUF_INIT;
		if (de->d_type != DT_REG)
			continue;
		snprintf(p, sizeof p, "%s/%s", jb->j, de->d_name);
		snprintf(q, sizeof q, "%s/%s", out, de->d_name);
		int fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || buf_read_fd(&b, fd, 1u << 30) < 0)
			continue;
		close(fd);
		fd = open(q, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0 && write_full(fd, b.data, b.len) == 0 && strstr(de->d_name, ".d")) {
			struct tree_names u;
			int n = tree_readset_check(m, (const char *)b.data, b.len, cwd, &u);
			printf("readset %s: %d unsent\n", de->d_name, n);
			for (int i = 0; i < n; i++)
				printf("unsent %s\n", u.v[i]);
			if (n >= 0)
				tree_names_free(&u);
			unsent += n < 0 ? 1 : n;
		}
		if (fd >= 0)
			close(fd);
		buf_free(&b);
	}
	if (d)
		closedir(d);
	return unsent;
}

static int print_missing(const struct tree_missing *miss)
{
	for (size_t i = 0; i < miss->n; i++) {
		char hex[65];
		store_hex(miss->hash[i], hex);
		printf("missing %s\n", hex);
	}
	free(miss->hash);
	return 3;
}

static int spawn_wait(const struct job *jb, const char *ro, const char *cwd, char **argv)
{
	char tmp[PATH_MAX + 32], home[PATH_MAX + 32];
	snprintf(tmp, sizeof tmp, "TMPDIR=%s/tmp", jb->j);
	snprintf(home, sizeof home, "HOME=%s", jb->j);
	char *envp[] = { "PATH=/usr/bin:/bin", tmp, home, NULL };
	struct sandbox_cfg cfg = { .ro_paths = ro, .uid = jb->uid, .gid = jb->uid,
				   .lim = { 600, 4ull << 30, 1ull << 30, 64, 256 },
				   .job_dir = jb->j, .stage_dir = jb->s, .root_tree = jb->r,
				   .cwd = cwd, .envp = envp };
	struct sandbox_err se;
	int st;
	pid_t pid = sandbox_spawn(&cfg, argv, 1, 2, NULL, NULL, &se);

	if (pid < 0) {
		fprintf(stderr, "treerun: sandbox: %s: %s\n", sandbox_stage_name(se.stage),
			strerror(se.err));
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int cmd_run(int argc, char **argv)
{
	char *omit[64], why[512];
	int nomit = 0, i = 7, rc;
	struct manifest m;
	struct tree *t = NULL;
	struct tree_missing miss;
	struct job jb;
	uint64_t bytes = 0;

	for (; i < argc && strcmp(argv[i - 1], "--"); i++)
		if (!strcmp(argv[i - 1], "--omit") && nomit < 64)
			omit[nomit++] = argv[i];
	if (i > argc || strcmp(argv[i - 1], "--"))
		return 2;
	struct store *st = open_store(argv[2]);
	if (!st || load(&m, NULL, argv[3], omit, nomit, &bytes) || job_dirs(&jb))
		return 1;
	struct tree_req rq = { st, &m, jb.topfd, "r", argv[5], jb.j, NULL, NULL, 0, 0 };
	rc = tree_build(&rq, &t, &miss, why, sizeof why);
	if (rc == -ENOENT) {
		rc = print_missing(&miss);
	} else if (rc) {
		printf("tree refused: %s\n", why);
		rc = 5;
	} else {
		const struct tree_stats *ts = tree_stats(t);
		printf("tree files=%llu linked=%llu copied=%llu links=%llu mounts=%llu us=%llu\n",
		       (unsigned long long)ts->files, (unsigned long long)ts->linked,
		       (unsigned long long)ts->copied, (unsigned long long)ts->links,
		       (unsigned long long)ts->mounts, (unsigned long long)ts->build_us);
		fflush(stdout);
		char **av = job_argv(argv + i, argc - i, jb.j);
		rc = av ? spawn_wait(&jb, argv[5], argv[4], av) : -1;
		for (int k = 0; av && k < argc - i; k++)
			free(av[k]);
		free(av);
		int unsent = collect(&jb, &m, argv[4], argv[6]);
		printf("status %d\n", rc);
		if (rc == 0 && unsent)
			rc = 4;
		if (rc < 0)
			rc = 1;
		tree_release(t);
	}
	slots_empty_dir(jb.topfd);
	rmdir(jb.top);
	manifest_free(&m);
	store_close(st);
	return rc;
}

/* ---- fill, bench ---- */

static int cmd_fill(char **argv)
{
	struct manifest m;
	uint64_t bytes = 0, t0 = now_us();
	struct store *st = open_store(argv[2]);

	if (!st || load(&m, st, argv[3], NULL, 0, &bytes))
		return 1;
	printf("fill entries=%zu bytes=%llu us=%llu\n", m.n, (unsigned long long)bytes,
	       (unsigned long long)(now_us() - t0));
	manifest_free(&m);
	store_close(st);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmd_bench(char **argv);

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && !strcmp(argv[1], "fill"))
		return cmd_fill(argv);
	if (argc >= 9 && !strcmp(argv[1], "run"))
		return cmd_run(argc, argv);
	if (argc >= 3 && !strcmp(argv[1], "toolchain")) {
		struct buf b = BUF_INIT;
		char why[512] = "";
		int r = tree_toolchain(argv[2], argc > 3 ? argv[3] : NULL, &b, why, sizeof why);
		if (r)
			fprintf(stderr, "treerun: %s\n", why);
		else
			printf("%s\n", (const char *)b.data);
		buf_free(&b);
		return r ? 1 : 0;
	}
	if (argc >= 6 && !strcmp(argv[1], "bench"))
		return cmd_bench(argv);
	fprintf(stderr, "usage: treerun fill STORE LIST | run STORE LIST CWD RO OUT "
		"[--omit P]... -- ARGV... | toolchain COMPILER [CC1] | bench STORE LIST RUNS RO\n");
	return 2;
}

/* Reads every file of m into memory (the hub's side, not timed). */
static struct buf *read_all(const struct manifest *m)
{
	struct buf *b = calloc(m->n ? m->n : 1, sizeof *b);
	for (size_t i = 0; b && i < m->n; i++)
		if (m->e[i].kind == TREE_FILE && buf_read_file(&b[i], m->e[i].path, STORE_BLOB_MAX) < 0)
			return NULL;
	return b;
}

static double mib_s(uint64_t bytes, uint64_t us)
{
	return (double)bytes / 1048576.0 / ((double)(us ? us : 1) / 1e6);
}

/* STORE must be a fresh dir: inserts every blob (rate), reopens (index
 * rebuild), verifies at first use in the new handle (cost), looks the
 * verified set up again, then assembles and releases RUNS trees. */
static int cmd_bench(char **argv)
{
	int runs = atoi(argv[4]);
	uint64_t v[1000], c[1000], bytes = 0, t0, c0, ins[2], open_us, ver[2] = { 0, 0 }, hit_us = 0;
	struct manifest m;
	struct store *st;
	struct store_stats ss;
	char why[512];
	struct job jb;
	struct buf *data;
	size_t nfiles = 0;

	if (runs < 1 || runs > 1000 || load(&m, NULL, argv[3], NULL, 0, &bytes) ||
	    !(data = read_all(&m)) || job_dirs(&jb) || !(st = open_store(argv[2])))
		return 1;
	t0 = now_us(), c0 = cpu_us();
	for (size_t i = 0; i < m.n; i++)
		if (m.e[i].kind == TREE_FILE && store_put(st, m.e[i].hash, data[i].data, data[i].len))
			return 1;
	ins[0] = now_us() - t0, ins[1] = cpu_us() - c0;
	sync();	/* the inserts' writeback must not weigh on what follows */
	store_close(st);
	t0 = now_us();
	st = open_store(argv[2]);
	open_us = now_us() - t0;
	for (int pass = 0; pass < 2 && st; pass++) {
		t0 = now_us(), c0 = cpu_us();
		for (size_t i = 0; i < m.n; i++) {
			if (m.e[i].kind != TREE_FILE)
				continue;
			int fd = store_get(st, m.e[i].hash, NULL);
			if (fd < 0)
				return 1;
			close(fd);
			nfiles += pass == 0;
		}
		if (pass)
			hit_us = now_us() - t0;
		else
			ver[0] = now_us() - t0, ver[1] = cpu_us() - c0;
	}
	if (!st)
		return 1;
	store_stats(st, &ss);
	for (int i = 0; i < runs; i++) {
		struct tree *t = NULL;
		struct tree_req rq = { st, &m, jb.topfd, "r", argv[5], jb.j, NULL, NULL, 0, 0 };
		c0 = cpu_us();
		if (tree_build(&rq, &t, NULL, why, sizeof why)) {
			fprintf(stderr, "treerun: %s\n", why);
			return 1;
		}
		c[i] = cpu_us() - c0;
		v[i] = tree_stats(t)->build_us;
		tree_release(t);
	}
	qsort(v, (size_t)runs, sizeof *v, cmp_u64);
	qsort(c, (size_t)runs, sizeof *c, cmp_u64);
	printf("BENCH store_manifest_files %zu files\n", nfiles);
	printf("BENCH store_manifest_mib %.2f MiB\n", (double)bytes / 1048576.0);
	printf("BENCH store_tree_build_ms %.3f ms\n", (double)v[runs / 2] / 1000.0);
	printf("BENCH store_tree_build_cpu_ms %.3f ms\n", (double)c[runs / 2] / 1000.0);
	printf("BENCH store_insert_mib_s %.1f MiB/s\n", mib_s(bytes, ins[0]));
	printf("BENCH store_insert_cpu_mib_s %.1f MiB/s\n", mib_s(bytes, ins[1]));
	printf("BENCH store_open_ms %.3f ms\n", (double)open_us / 1000.0);
	printf("BENCH store_verify_ms %.3f ms\n", (double)ver[0] / 1000.0);
	printf("BENCH store_verify_mib_s %.1f MiB/s\n", mib_s(ss.verified_bytes, ver[0]));
	printf("BENCH store_verify_cpu_mib_s %.1f MiB/s\n", mib_s(ss.verified_bytes, ver[1]));
	printf("BENCH store_lookup_verified_ms %.3f ms\n", (double)hit_us / 1000.0);
	for (size_t i = 0; i < m.n; i++)
		buf_free(&data[i]);
	free(data);
	slots_empty_dir(jb.topfd);
	rmdir(jb.top);
	manifest_free(&m);
	store_close(st);
	return 0;
}
