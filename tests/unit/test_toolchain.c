/* test_toolchain.c — hubd's travelling toolchain packs (hub/toolchain.c)
 * built from the real compilers of this machine: which files (the driver
 * first, cc1 or cc1plus as the driver names them, as, the dynamic loader,
 * libc), each file's hash and size as on disk, no directory, each path
 * once; the trust rule (a group-writable copy of the driver does not
 * travel); the job's inputs with the pack appended; the cache; a board's
 * architecture from its compilers' triples. Prints the pack's figures
 * ("# pack ...": files, bytes, LZO bytes, build time). */
#include "../../hub/toolchain.h"
#include "../../hub/nodes.h"
#include "../../lib/sha256.h"
#include "../lib/test.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

/* The first line of a command's output (no shell metacharacters in cmd). */
static int line_of(const char *cmd, char *dst, size_t len)
{
	FILE *f = popen(cmd, "r");
	int ok = f && fgets(dst, (int)len, f) != NULL;

	if (f)
		pclose(f);
	if (ok)
		dst[strcspn(dst, "\n")] = 0;
	return ok ? 0 : -1;
}

static const struct job_input *find(const struct tc_pack *p, const char *path)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->in[i].path_len == strlen(path) && !memcmp(p->in[i].path, path, p->in[i].path_len))
			return &p->in[i];
	return NULL;
}

/* Some entry whose real file is real (through any of its link hops). */
static bool has_real(const struct tc_pack *p, const char *real)
{
	char r[PATH_MAX], q[PATH_MAX];

	if (!realpath(real, r))
		return false;
	for (size_t i = 0; i < p->n; i++) {
		snprintf(q, sizeof q, "%.*s", (int)p->in[i].path_len, p->in[i].path);
		char rq[PATH_MAX];
		if (p->in[i].kind == JOB_IN_FILE && realpath(q, rq) && !strcmp(rq, r))
			return true;
	}
	return false;
}

/* Every file's bytes, hash and size as on disk; no dir; each path once. */
static bool files_true(const struct tc_pack *p, char *why, size_t wl)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct job_input *in = &p->in[i];
		char path[PATH_MAX];
		struct stat st;
		uint8_t h[32];
		snprintf(path, sizeof path, "%.*s", (int)in->path_len, in->path);
		for (size_t k = 0; k < i; k++)
			if (p->in[k].path_len == in->path_len &&
			    !memcmp(p->in[k].path, in->path, in->path_len)) {
				snprintf(why, wl, "%.200s twice", path);
				return false;
			}
		if (in->kind == JOB_IN_DIR || lstat(path, &st)) {
			snprintf(why, wl, "%.200s: a dir, or gone", path);
			return false;
		}
		if (in->kind == JOB_IN_LINK) {
			char t[PATH_MAX];
			ssize_t n = readlink(path, t, sizeof t);
			if (!S_ISLNK(st.st_mode) || n != (ssize_t)in->target_len ||
			    memcmp(t, in->target, (size_t)n)) {
				snprintf(why, wl, "%.200s: not the link it says", path);
				return false;
			}
			continue;
		}
		sha256(p->data[i], in->size, h);
		if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != in->size ||
		    memcmp(h, in->hash, 32) || in->mode != (st.st_mode & 0777u)) {
			snprintf(why, wl, "%.200s: size, mode or hash not the file's", path);
			return false;
		}
	}
	return true;
}

static int identify(const char *path, struct compiler_id *id)
{
	return compiler_identify(path, id);
}

static void check_gcc(void)
{
	struct compiler_id id;
	struct tc_pack p;
	char cc1[PATH_MAX], as[PATH_MAX], why[300] = "";

	if (identify("/usr/bin/gcc", &id)) {
		t_skip("toolchain_pack_gcc", "no /usr/bin/gcc here");
		return;
	}
	T_CASE("toolchain_pack_gcc") {
		int rc = toolchain_pack_build(&id, &p);
		T_CHECK(rc == 0 && p.ok, "built: %s", p.why);
		if (rc == 0) {
			T_CHECK(p.in[0].path_len == 12 && !memcmp(p.in[0].path, "/usr/bin/gcc", 12),
				"the driver first");
			T_CHECK(line_of("/usr/bin/gcc -print-prog-name=cc1", cc1, sizeof cc1) == 0 &&
				has_real(&p, cc1), "cc1 (%s)", cc1);
			T_CHECK(line_of("/usr/bin/gcc -print-prog-name=as", as, sizeof as) == 0,
				"as named");
			char asr[PATH_MAX + 16];
			if (as[0] != '/')
				snprintf(asr, sizeof asr, "/usr/bin/%s", as);
			else
				snprintf(asr, sizeof asr, "%s", as);
			T_CHECK(has_real(&p, asr), "as (%s)", asr);
			T_CHECK(!find(&p, "/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus"), "no cc1plus");
			T_CHECK(has_real(&p, "/lib64/ld-linux-x86-64.so.2") ||
				has_real(&p, "/lib/ld-linux-aarch64.so.1"), "the dynamic loader");
			T_CHECK(has_real(&p, "/lib/x86_64-linux-gnu/libc.so.6") ||
				has_real(&p, "/lib/aarch64-linux-gnu/libc.so.6"), "libc");
			T_CHECK(files_true(&p, why, sizeof why), "%s", why);
			T_CHECK(p.files > 5 && p.bytes > (1u << 20) && p.lz_bytes < p.bytes &&
				p.lz_bytes > 0, "figures %zu %llu %llu", p.files,
				(unsigned long long)p.bytes, (unsigned long long)p.lz_bytes);
			printf("# pack gcc: %zu entries, %zu files, %llu bytes, %llu LZO bytes, "
			       "built in %llu ms\n", p.n, p.files, (unsigned long long)p.bytes,
			       (unsigned long long)p.lz_bytes,
			       (unsigned long long)(p.build_us / 1000));
		}
		toolchain_pack_free(&p);
	}
}

static void check_gxx_clang(void)
{
	struct compiler_id id;
	struct tc_pack p;
	char cc1plus[PATH_MAX], why[300] = "";

	if (identify("/usr/bin/g++", &id) == 0) {
		T_CASE("toolchain_pack_gxx") {
			T_CHECK(toolchain_pack_build(&id, &p) == 0, "built: %s", p.why);
			T_CHECK(line_of("/usr/bin/g++ -print-prog-name=cc1plus", cc1plus,
					sizeof cc1plus) == 0 && has_real(&p, cc1plus), "cc1plus");
			T_CHECK(p.ok && files_true(&p, why, sizeof why), "%s", why);
			printf("# pack g++: %zu files, %llu bytes, %llu LZO bytes\n", p.files,
			       (unsigned long long)p.bytes, (unsigned long long)p.lz_bytes);
			toolchain_pack_free(&p);
		}
	}
	if (identify("/usr/bin/clang", &id) == 0) {
		/* Debian's clang 14 loads libLLVM (over 100 MB): over the
		 * pack's cap, it does not travel (and says why); were it
		 * under, its GCC installation's crtbegin.o is in it */
		T_CASE("toolchain_pack_clang") {
			int rc = toolchain_pack_build(&id, &p);
			bool crt = false;
			for (size_t i = 0; p.ok && i < p.n; i++)
				crt |= p.in[i].path_len > 11 &&
				       !memcmp(p.in[i].path + p.in[i].path_len - 11, "/crtbegin.o", 11);
			T_CHECK(rc == 0 ? crt && files_true(&p, why, sizeof why)
					: rc == -EFBIG && !p.ok && strstr(p.why, "too large"),
				"%d %s %s", rc, p.why, why);
			printf("# pack clang: %s\n", rc == 0 ? "built" : p.why);
			toolchain_pack_free(&p);
		}
	}
}

/* A copy of the driver that group and others may write does not travel
 * (it finds its cc1 through <dir>/lib/gcc, a link to the real one). */
static void check_trust(void)
{
	char dir[] = "/tmp/test_toolchain.XXXXXX", cp[80], cmd[300];
	struct compiler_id id;
	struct tc_pack p;

	if (!mkdtemp(dir) || identify("/usr/bin/gcc", &id)) {
		t_skip("toolchain_pack_untrusted", "no temp dir or no gcc");
		return;
	}
	snprintf(cp, sizeof cp, "%s/bin/gcc", dir);
	snprintf(cmd, sizeof cmd, "mkdir %s/bin %s/lib && ln -s /usr/lib/gcc %s/lib/gcc && "
		 "cp /usr/bin/x86_64-linux-gnu-gcc-12 %s", dir, dir, dir, cp);
	T_CASE("toolchain_pack_untrusted") {
		T_CHECK(system(cmd) == 0 && chmod(cp, 0777) == 0, "the copy");
		snprintf(id.path, sizeof id.path, "%s", cp);
		int rc = toolchain_pack_build(&id, &p);
		T_CHECK(rc == -EPERM && !p.ok && strstr(p.why, cp), "refused: %d %s", rc, p.why);
		toolchain_pack_free(&p);
		T_CHECK(chmod(cp, 0755) == 0, "chmod");
		rc = toolchain_pack_build(&id, &p);
		T_CHECK(rc < 0 && !p.ok, "unclean or not root's: %d %s", rc, p.why);
		toolchain_pack_free(&p);
		snprintf(id.path, sizeof id.path, "%s/none", dir);
		rc = toolchain_pack_build(&id, &p);
		T_CHECK(rc < 0 && !p.ok && p.why[0], "missing: %d %s", rc, p.why);
		toolchain_pack_free(&p);
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		T_CHECK(system(cmd) == 0, "cleanup");
	}
}

/* The pack of id once its thread built it (at most 60 s). */
static const struct tc_pack *ready(const struct compiler_id *id)
{
	const struct tc_pack *p = NULL;

	for (int i = 0; i < 6000 && !(p = toolchain_pack(id)); i++)
		usleep(10000);
	return p;
}

static void check_inputs_and_cache(void)
{
	struct compiler_id id;
	struct job_input mine[2];
	struct job_tree t;
	struct job_input *all = NULL;

	if (identify("/usr/bin/gcc", &id)) {
		t_skip("toolchain_add_inputs", "no gcc");
		return;
	}
	T_CASE("toolchain_add_inputs") {
		/* built in a thread: NULL at first, then the same pack */
		const struct tc_pack *p = toolchain_pack(&id);
		T_CHECK(!p, "not ready at the first ask");
		p = ready(&id);
		T_CHECK(p && p->ok && toolchain_pack(&id) == p, "cached");
		memset(mine, 0, sizeof mine);
		mine[0].kind = JOB_IN_FILE;
		mine[0].path = "/w/a.c";
		mine[0].path_len = 6;
		mine[1].kind = JOB_IN_DIR;
		mine[1].path = "/w/o";
		mine[1].path_len = 4;
		memset(&t, 0, sizeof t);
		t.in = mine;
		t.nin = 2;
		if (p && p->ok) {
			T_CHECK(toolchain_add_inputs(p, &t, &all) == 0 && t.in == all &&
				t.nin == 2 + p->n && t.toolchain_n == p->n, "appended");
			T_CHECK(all && all[0].path == mine[0].path && all[2].path == p->in[0].path,
				"the job's first, then the driver");
		}
		free(all);
		struct compiler_id bad = id;
		snprintf(bad.path, sizeof bad.path, "/nonexistent/gcc");
		const struct tc_pack *q = ready(&bad);
		T_CHECK(q && !q->ok && q->why[0] && toolchain_pack(&bad) == q, "failure kept: %s",
			q ? q->why : "");
		toolchain_free_all();
	}
}

static void check_arch(void)
{
	struct node n;
	struct compiler_id c[2];
	struct utsname u;
	char tr[80];

	uname(&u);
	T_CASE("toolchain_board_arch") {
		memset(&n, 0, sizeof n);
		memset(c, 0, sizeof c);
		n.compilers = c;
		T_CHECK(!toolchain_board_arch_ok(&n), "no compilers: not known");
		snprintf(tr, sizeof tr, "%.40s-linux-gnu", u.machine);
		snprintf(c[0].triple, sizeof c[0].triple, "%.60s", tr);
		n.ncompilers = 1;
		T_CHECK(toolchain_board_arch_ok(&n), "%s", tr);
		snprintf(c[0].triple, sizeof c[0].triple, "%s", strcmp(u.machine, "aarch64") ?
			 "aarch64-linux-gnu" : "x86_64-linux-gnu");
		T_CHECK(!toolchain_board_arch_ok(&n), "another arch");
		snprintf(c[1].triple, sizeof c[1].triple, "%.40s-pc-linux-gnu", u.machine);
		n.ncompilers = 2;
		T_CHECK(toolchain_board_arch_ok(&n), "one of its compilers (clang's triple)");
		snprintf(c[1].triple, sizeof c[1].triple, "%.40sx-linux-gnu", u.machine);
		T_CHECK(!toolchain_board_arch_ok(&n), "a longer machine name is another");
	}
}

int main(void)
{
	check_gcc();
	check_gxx_clang();
	check_trust();
	check_inputs_and_cache();
	check_arch();
	return t_done();
}
