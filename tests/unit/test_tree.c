/*
 * test_tree.c — node/tree.c and node/tree_deps.c: every refused manifest
 * form (table), the tree's files, links, dirs and mount points, the
 * mount points the manifest may not meet, the missing list (absent and
 * corrupt blobs), pins held until release, and the read-set check's
 * parsing of gcc's dependency syntax (table).
 */
#include "tree.h"
#include "../lib/test.h"

#include "../lib/buf.h"
#include "../lib/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];
static int rootfd;

static void hash_of(const char *s, uint8_t h[32])
{
	sha256(s, strlen(s), h);
}

/* ---- refused manifests ---- */

enum op { F, L, D };
struct ent { enum op op; const char *path; size_t plen; const char *tgt; uint32_t mode;
	     uint64_t size; };

static char longcomp[300], longpath[5000], deep[400];

static const struct {
	const char *name;
	struct ent e[3];
	int add_err, check_err;	/* the add of the last entry / the check */
} refusals[] = {
	{ "tree_refuse_relative", { { F, "usr/include/a.h", 0, NULL, 0644, 1 } }, -EINVAL, 0 },
	{ "tree_refuse_empty", { { F, "", 0, NULL, 0644, 1 } }, -EINVAL, 0 },
	{ "tree_refuse_root", { { D, "/", 0, NULL, 0, 0 } }, -EINVAL, 0 },
	{ "tree_refuse_double_slash", { { F, "/usr//a.h", 0, NULL, 0644, 1 } }, -EINVAL, 0 },
	{ "tree_refuse_dot", { { F, "/usr/./a.h", 0, NULL, 0644, 1 } }, -EINVAL, 0 },
	{ "tree_refuse_dotdot", { { F, "/usr/../etc/passwd", 0, NULL, 0644, 1 } }, -EINVAL, 0 },
	{ "tree_refuse_trailing_dotdot", { { D, "/usr/..", 0, NULL, 0, 0 } }, -EINVAL, 0 },
	{ "tree_refuse_trailing_slash", { { F, "/usr/a.h/", 0, NULL, 0644, 1 } }, -EINVAL, 0 },
	{ "tree_refuse_nul_in_path", { { F, "/usr/a\0b.h", 10, NULL, 0644, 1 } }, -EINVAL, 0 },
	{ "tree_refuse_long_component", { { F, longcomp, 0, NULL, 0644, 1 } }, -EINVAL, 0 },
	{ "tree_refuse_long_path", { { F, longpath, 0, NULL, 0644, 1 } }, -EINVAL, 0 },
	{ "tree_refuse_deep_path", { { F, deep, 0, NULL, 0644, 1 } }, -EINVAL, 0 },
	{ "tree_refuse_setuid_mode", { { F, "/a", 0, NULL, 04755, 1 } }, -EINVAL, 0 },
	{ "tree_refuse_sticky_mode", { { F, "/a", 0, NULL, 01644, 1 } }, -EINVAL, 0 },
	{ "tree_refuse_type_bits_mode", { { F, "/a", 0, NULL, 0100644, 1 } }, -EINVAL, 0 },
	{ "tree_refuse_oversized_file", { { F, "/a", 0, NULL, 0644, STORE_BLOB_MAX + 1 } },
	  -EINVAL, 0 },
	{ "tree_refuse_empty_target", { { L, "/a", 0, "", 0, 0 } }, -EINVAL, 0 },
	{ "tree_refuse_nul_in_target", { { L, "/a", 0, "x\0y", 0, 3 } }, -EINVAL, 0 },
	{ "tree_refuse_long_target", { { L, "/a", 0, longpath, 0, 0 } }, -EINVAL, 0 },
	{ "tree_refuse_duplicate_files", { { F, "/a.h", 0, NULL, 0644, 1 },
					   { F, "/a.h", 0, NULL, 0644, 1 } }, 0, -EINVAL },
	{ "tree_refuse_duplicate_file_link", { { F, "/a.h", 0, NULL, 0644, 1 },
					       { L, "/a.h", 0, "b.h", 0, 0 } }, 0, -EINVAL },
	{ "tree_refuse_through_symlink", { { L, "/usr/include/sys", 0, "/etc", 0, 0 },
					   { F, "/usr/include/sys/x.h", 0, NULL, 0644, 1 } },
	  0, -EINVAL },
	{ "tree_refuse_through_relative_symlink", { { L, "/inc", 0, "../../../tmp", 0, 0 },
						    { D, "/inc/evil", 0, NULL, 0, 0 } },
	  0, -EINVAL },
	{ "tree_refuse_through_file", { { F, "/a.h", 0, NULL, 0644, 1 },
					{ F, "/a.h/b.h", 0, NULL, 0644, 1 } }, 0, -EINVAL },
};

static void t_refusals(void)
{
	memset(longcomp, 'a', 299);
	longcomp[0] = '/';
	for (size_t i = 0; i < sizeof longpath - 1; i++)
		longpath[i] = i % 100 == 0 ? '/' : 'b';
	for (size_t i = 0; i < 129; i++)
		memcpy(deep + 2 * i, "/d", 2);
	for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
		T_CASE(refusals[i].name) {
			struct manifest m;
			char why[200] = "";
			int r = 0;
			uint8_t h[32] = { 1 };
			manifest_init(&m);
			for (int k = 0; k < 3 && refusals[i].e[k].path; k++) {
				const struct ent *e = &refusals[i].e[k];
				size_t pl = e->plen ? e->plen : strlen(e->path);
				r = e->op == F ? manifest_add_file(&m, e->path, pl, h, e->size, e->mode)
				    : e->op == L ? manifest_add_link(&m, e->path, pl, e->tgt,
								     e->size ? e->size : strlen(e->tgt))
				    : manifest_add_dir(&m, e->path, pl);
				if (r)
					break;
			}
			T_CHECK(r == refusals[i].add_err, "add: %d, want %d", r, refusals[i].add_err);
			if (!r) {
				r = manifest_check(&m, why, sizeof why);
				T_CHECK(r == refusals[i].check_err, "check: %d (%s), want %d", r, why,
					refusals[i].check_err);
			}
			manifest_free(&m);
		}
	}
	T_CASE("tree_refuse_entry_cap") {
		struct manifest m;
		char p[32];
		int r = 0;
		manifest_init(&m);
		for (unsigned i = 0; i <= TREE_MAX_ENTRIES && !r; i++) {
			snprintf(p, sizeof p, "/d%u", i);
			r = manifest_add_dir(&m, p, strlen(p));
		}
		T_CHECK(r == -E2BIG && m.n == TREE_MAX_ENTRIES, "%d after %zu", r, m.n);
		manifest_free(&m);
	}
	T_CASE("tree_refuse_total_bytes") {
		struct manifest m;
		char p[32], why[200];
		uint8_t h[32] = { 2 };
		manifest_init(&m);
		for (unsigned i = 0; i < 17; i++) {
			snprintf(p, sizeof p, "/big%u", i);
			T_CHECK(manifest_add_file(&m, p, strlen(p), h, STORE_BLOB_MAX, 0644) == 0, "add");
		}
		T_CHECK(manifest_check(&m, why, sizeof why) == -E2BIG, "over TREE_MAX_BYTES");
		manifest_free(&m);
	}
}

/* ---- building ---- */

static struct store *store_at(const char *sub)
{
	char d[128];
	struct store *st = NULL;
	snprintf(d, sizeof d, "%s/%s", root, sub);
	struct store_cfg c = { .dir = d };
	T_CHECK(store_open(&c, &st) == 0, "store_open");
	return st;
}

/* Adds file path with content s to m, and to the store when st. */
static void file(struct manifest *m, struct store *st, const char *path, const char *s,
		 uint32_t mode)
{
	uint8_t h[32];
	hash_of(s, h);
	T_CHECK(manifest_add_file(m, path, strlen(path), h, strlen(s), mode) == 0, "add %s", path);
	if (st)
		T_CHECK(store_put(st, h, s, strlen(s)) == 0, "put %s", path);
}

static void lnk(struct manifest *m, const char *path, const char *tgt)
{
	T_CHECK(manifest_add_link(m, path, strlen(path), tgt, strlen(tgt)) == 0, "add %s", path);
}

static bool lstat_in(const char *tree, const char *p, struct stat *sb)
{
	char q[512];
	snprintf(q, sizeof q, "%s/%s%s", root, tree, p);
	return lstat(q, sb) == 0;
}

static void t_build(void)
{
	T_CASE("tree_build_files_links_dirs_mounts") {
		struct store *st = store_at("s1");
		struct manifest m;
		struct tree *t = NULL;
		char why[256] = "", ro[512], tc[128], q[512];
		struct stat sb, sb2;
		manifest_init(&m);
		file(&m, st, "/usr/include/stdio.h", "int printf(const char *, ...);\n", 0644);
		file(&m, st, "/usr/include/bits/types.h", "typedef int x;\n", 0644);
		file(&m, st, "/w/src/a.c", "#include <stdio.h>\n", 0644);
		file(&m, st, "/w/tools/gen.sh", "#!/bin/sh\n", 0755);
		lnk(&m, "/usr/include/asm", "asm-generic");
		lnk(&m, "/w/abs", "/usr/include");
		T_CHECK(manifest_add_dir(&m, "/w/build", 8) == 0, "dir");
		T_CHECK(manifest_check(&m, why, sizeof why) == 0, "check: %s", why);
		/* the board's toolchain: a dir, a file, a symlink */
		snprintf(tc, sizeof tc, "%s/board", root);
		mkdir(tc, 0755);
		snprintf(q, sizeof q, "%s/libexec", tc);
		mkdir(q, 0755);
		snprintf(q, sizeof q, "%s/cc", tc);
		close(open(q, O_WRONLY | O_CREAT, 0755));
		snprintf(q, sizeof q, "%s/gcc", tc);
		symlink("cc", q);
		snprintf(ro, sizeof ro, "%s/libexec:%s/cc:%s/gcc::/nonexistent/x", tc, tc, tc);
		struct tree_req rq = { st, &m, rootfd, "t1", ro, "/tmp/usbfarm-job.X/j", NULL, NULL, 0, 0 };
		int r = tree_build(&rq, &t, NULL, why, sizeof why);
		T_CHECK(r == 0, "build: %d %s", r, why);
		T_CHECK(lstat_in("t1", "/usr/include/stdio.h", &sb) && S_ISREG(sb.st_mode) &&
			(sb.st_mode & 0777) == 0444 && sb.st_nlink == 2, "a hard link of the blob");
		T_CHECK(lstat_in("t1", "/w/tools/gen.sh", &sb) && (sb.st_mode & 0777) == 0555 &&
			sb.st_nlink == 2, "an executable: a hard link of the blob's .x");
		T_CHECK(lstat_in("t1", "/usr/include/asm", &sb) && S_ISLNK(sb.st_mode), "symlink");
		snprintf(q, sizeof q, "%s/t1/w/abs", root);
		char txt[64] = "";
		T_CHECK(readlink(q, txt, sizeof txt) == 12 && !memcmp(txt, "/usr/include", 12),
			"verbatim text");
		T_CHECK(lstat_in("t1", "/w/build", &sb) && S_ISDIR(sb.st_mode) &&
			(sb.st_mode & 0777) == 0755, "dir 0755");
		snprintf(q, sizeof q, "%s/libexec", tc);
		T_CHECK(lstat_in("t1", q, &sb) && S_ISDIR(sb.st_mode), "toolchain dir mount point");
		snprintf(q, sizeof q, "%s/cc", tc);
		T_CHECK(lstat_in("t1", q, &sb) && S_ISREG(sb.st_mode) && sb.st_size == 0,
			"toolchain file mount point");
		snprintf(q, sizeof q, "%s/gcc", tc);
		T_CHECK(lstat_in("t1", q, &sb) && S_ISLNK(sb.st_mode), "toolchain symlink");
		T_CHECK(lstat_in("t1", "/dev/null", &sb) && S_ISREG(sb.st_mode), "/dev/null point");
		T_CHECK(lstat_in("t1", "/proc", &sb) && S_ISDIR(sb.st_mode), "/proc point");
		T_CHECK(lstat_in("t1", "/tmp/usbfarm-job.X/j", &sb) && S_ISDIR(sb.st_mode), "job dir");
		T_CHECK(!lstat_in("t1", "/nonexistent", &sb), "absent board path: nothing");
		const struct tree_stats *ts = t ? tree_stats(t) : NULL;
		T_CHECK(ts && ts->files == 4 && ts->linked == 4 && ts->copied == 0 && ts->links == 2,
			"stats");
		struct store_stats ss;
		store_stats(st, &ss);
		T_CHECK(ss.hits == 4 && ss.misses == 0 && ss.pinned == 4,
			"one hit per file: %llu hits %llu misses %llu pinned",
			(unsigned long long)ss.hits, (unsigned long long)ss.misses,
			(unsigned long long)ss.pinned);
		/* pinned and linked: not evicted; after release: evictable */
		T_CHECK(store_evict_to(st, 0) == 0, "nothing evicted while the tree lives");
		tree_release(t);
		T_CHECK(!lstat_in("t1", "", &sb2), "tree removed");
		T_CHECK(store_evict_to(st, 0) == 4, "all four evictable after release");
		manifest_free(&m);
		store_close(st);
	}
}

static void t_missing(void)
{
	T_CASE("tree_missing_list") {
		struct store *st = store_at("s2");
		struct manifest m;
		struct tree *t = NULL;
		struct tree_missing miss;
		struct store_stats ss;
		char why[256] = "", p[256], hex[65];
		struct stat sb;
		uint8_t ha[32], hb[32], hc[32];
		manifest_init(&m);
		file(&m, st, "/a.h", "A\n", 0644);
		file(&m, NULL, "/b.h", "B\n", 0644);
		file(&m, st, "/c.h", "C\n", 0644);
		file(&m, NULL, "/d/e.h", "B\n", 0644);	/* the same blob twice */
		hash_of("A\n", ha), hash_of("B\n", hb), hash_of("C\n", hc);
		/* corrupt c's blob in place */
		store_hex(hc, hex);
		snprintf(p, sizeof p, "%s/s2/objects/%.2s/%s", root, hex, hex);
		int fd = open(p, O_WRONLY | O_TRUNC);
		T_CHECK(fd >= 0 && write(fd, "X\n", 2) == 2, "corrupt");
		close(fd);
		T_CHECK(manifest_check(&m, why, sizeof why) == 0, "check %s", why);
		struct tree_req rq = { st, &m, rootfd, "t2", "", NULL, NULL, NULL, 0, 0 };
		int r = tree_build(&rq, &t, &miss, why, sizeof why);
		T_CHECK(r == -ENOENT, "build: %d %s", r, why);
		T_CHECK(miss.n == 2, "missing %zu (each hash once)", miss.n);
		bool sb_b = false, sb_c = false;
		for (size_t i = 0; i < miss.n; i++) {
			sb_b |= !memcmp(miss.hash[i], hb, 32);
			sb_c |= !memcmp(miss.hash[i], hc, 32);
			T_CHECK(memcmp(miss.hash[i], ha, 32), "a is present");
		}
		T_CHECK(sb_b && sb_c, "b (absent) and c (corrupt) listed");
		free(miss.hash);
		T_CHECK(!lstat_in("t2", "", &sb), "nothing left");
		store_stats(st, &ss);
		T_CHECK(ss.corrupt == 1 && ss.pinned == 0, "corrupt %llu, pinned %llu",
			(unsigned long long)ss.corrupt, (unsigned long long)ss.pinned);
		T_CHECK(store_put(st, hb, "B\n", 2) == 0 && store_put(st, hc, "C\n", 2) == 0, "resend");
		r = tree_build(&rq, &t, &miss, why, sizeof why);
		T_CHECK(r == 0 && miss.n == 0, "after the resend: %d %s", r, why);
		if (!r)
			tree_release(t);
		manifest_free(&m);
		store_close(st);
	}
}

static void t_size_lie(void)
{
	T_CASE("tree_size_not_the_blobs") {
		struct store *st = store_at("s4");
		struct manifest m;
		struct tree *t = NULL;
		char why[256] = "";
		struct stat sb;
		uint8_t h[32];
		manifest_init(&m);
		hash_of("AB\n", h);
		T_CHECK(store_put(st, h, "AB\n", 3) == 0, "put");
		T_CHECK(manifest_add_file(&m, "/x.h", 4, h, 300, 0644) == 0, "add");
		T_CHECK(manifest_check(&m, why, sizeof why) == 0, "check");
		struct tree_req rq = { st, &m, rootfd, "t4", "", NULL, NULL, NULL, 0, 0 };
		int r = tree_build(&rq, &t, NULL, why, sizeof why);
		T_CHECK(r == -EBADMSG, "build: %d (%s)", r, why);
		T_CHECK(!lstat_in("t4", "", &sb), "nothing left");
		struct store_stats ss;
		store_stats(st, &ss);
		T_CHECK(ss.pinned == 0, "no pin left: %llu", (unsigned long long)ss.pinned);
		manifest_free(&m);
		store_close(st);
	}
}

static void t_mount_conflicts(void)
{
	char tc[128], hdr[160];
	snprintf(tc, sizeof tc, "%s/board2", root);
	mkdir(tc, 0755);
	snprintf(hdr, sizeof hdr, "%s/include/x.h", tc);
	static const struct { const char *name; int kind; } cases[] = {
		{ "tree_mount_symlink_on_the_way", 0 },
		{ "tree_mount_manifest_file_at_it", 1 },
		{ "tree_mount_board_dir_hides_manifest", 2 },
		{ "tree_mount_job_dir_through_symlink", 3 },
		{ "tree_mount_proc_is_a_manifest_file", 4 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		T_CASE(cases[i].name) {
			struct store *st = store_at("s3");
			struct manifest m;
			struct tree *t = NULL;
			char why[256] = "", nm[16];
			struct stat sb;
			manifest_init(&m);
			if (cases[i].kind == 0)
				lnk(&m, "/usr/bin", "/etc");
			if (cases[i].kind == 1)
				file(&m, st, "/usr/bin/true", "not true\n", 0644);
			if (cases[i].kind == 2)
				file(&m, st, hdr, "hub header\n", 0644);
			if (cases[i].kind == 3)
				lnk(&m, "/tmp", "/");
			if (cases[i].kind == 4)
				file(&m, st, "/proc", "x\n", 0644);
			T_CHECK(manifest_check(&m, why, sizeof why) == 0, "check %s", why);
			char ro[256];
			snprintf(ro, sizeof ro, "/usr/bin/true:%s", tc);
			snprintf(nm, sizeof nm, "m%zu", i);
			struct tree_req rq = { st, &m, rootfd, nm, ro, "/tmp/usbfarm-job.Y/j", NULL, NULL, 0, 0 };
			int r = tree_build(&rq, &t, NULL, why, sizeof why);
			T_CHECK(r == -EPERM, "build: %d (%s)", r, why);
			T_CHECK(!lstat_in(nm, "", &sb), "nothing made");
			if (!r)
				tree_release(t);
			manifest_free(&m);
			store_close(st);
		}
	}
	T_CASE("tree_name_exists_refused") {
		struct store *st = store_at("s3");
		struct manifest m;
		struct tree *t = NULL;
		char why[256], q[128];
		manifest_init(&m);
		T_CHECK(manifest_check(&m, why, sizeof why) == 0, "check");
		snprintf(q, sizeof q, "%s/planted", root);
		T_CHECK(symlink("/etc", q) == 0, "plant");
		struct tree_req rq = { st, &m, rootfd, "planted", "", NULL, NULL, NULL, 0, 0 };
		T_CHECK(tree_build(&rq, &t, NULL, why, sizeof why) == -EEXIST, "refused");
		struct tree_req rq2 = { st, &m, rootfd, "../x", "", NULL, NULL, NULL, 0, 0 };
		T_CHECK(tree_build(&rq2, &t, NULL, why, sizeof why) == -EINVAL, "bad name");
		manifest_free(&m);
		store_close(st);
	}
}

/* ---- the read-set check ---- */

static void t_readset(void)
{
	static const struct { const char *name, *deps; int want; const char *unsent; } cases[] = {
		{ "readset_all_sent", "a.o: a.c /usr/include/stdio.h\n", 0, NULL },
		{ "readset_continuations",
		  "a.o: a.c \\\n /usr/include/stdio.h \\\n  /usr/include/bits/types.h\n", 0, NULL },
		{ "readset_crlf_continuation", "a.o: a.c \\\r\n /usr/include/stdio.h\r\n", 0, NULL },
		{ "readset_escaped_space", "a.o: a.c dir\\ with\\ space/h.h\n", 0, NULL },
		{ "readset_dollar", "a.o: a.c a$$b.h\n", 0, NULL },
		{ "readset_hash_escape", "a.o: a.c x\\#1.h\n", 0, NULL },
		{ "readset_comment", "# made by gcc\na.o: a.c # trailing\n", 0, NULL },
		{ "readset_mp_empty_rules", "a.o: a.c /usr/include/stdio.h\n/usr/include/stdio.h:\n",
		  0, NULL },
		{ "readset_relative_dotdot", "a.o: a.c ../inc/x.h\n", 0, NULL },
		{ "readset_through_relative_symlink", "a.o: a.c /usr/include/asm/types.h\n", 0, NULL },
		{ "readset_through_absolute_symlink", "a.o: a.c /w/abs/stdio.h\n", 0, NULL },
		{ "readset_symlink_then_dotdot", "a.o: /usr/include/asm/../stdio.h\n", 0, NULL },
		{ "readset_unsent_header", "a.o: a.c /usr/include/zlib.h\n", 1, "/usr/include/zlib.h" },
		{ "readset_unsent_relative", "a.o: a.c gen.h\n", 1, "gen.h" },
		{ "readset_unsent_counted_once", "a.o: gen.h\nb.o: gen.h\n", 1, "gen.h" },
		{ "readset_dir_is_not_a_file", "a.o: /usr/include\n", 1, "/usr/include" },
		{ "readset_file_as_dir", "a.o: /usr/include/stdio.h/x\n", 1,
		  "/usr/include/stdio.h/x" },
		{ "readset_two_backslashes_separate", "a.o: a.c\\\\ /usr/include/stdio.h\n", 1,
		  "a.c\\" },
		{ "readset_symlink_loop", "a.o: /loop/x.h\n", 1, "/loop/x.h" },
		{ "readset_malformed_no_colon", "a.o a.c\n", -EINVAL, NULL },
		{ "readset_empty_is_fine", "", 0, NULL },
	};
	struct manifest m;
	char why[200];
	uint8_t h[32] = { 3 };
	static const char *const files[] = { "/w/b/a.c", "/usr/include/stdio.h",
		"/usr/include/bits/types.h", "/w/b/dir with space/h.h", "/w/b/a$b.h",
		"/w/b/x#1.h", "/w/inc/x.h", "/usr/include/asm-generic/types.h" };
	manifest_init(&m);
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		manifest_add_file(&m, files[i], strlen(files[i]), h, 1, 0644);
	lnk(&m, "/usr/include/asm", "asm-generic");
	lnk(&m, "/w/abs", "/usr/include");
	lnk(&m, "/loop", "/loop2");
	lnk(&m, "/loop2", "/loop");
	T_CASE("readset_manifest") {
		T_CHECK(manifest_check(&m, why, sizeof why) == 0, "%s", why);
	}
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		T_CASE(cases[i].name) {
			struct tree_names u;
			int r = tree_readset_check(&m, cases[i].deps, strlen(cases[i].deps), "/w/b", &u);
			T_CHECK(r == cases[i].want, "got %d, want %d (%s)", r, cases[i].want,
				r > 0 ? u.v[0] : "");
			if (r > 0 && cases[i].unsent)
				T_CHECK(!strcmp(u.v[0], cases[i].unsent), "unsent %s", u.v[0]);
			if (r >= 0)
				tree_names_free(&u);
		}
	}
	T_CASE("readset_overlong_word") {
		static char big[6000];
		struct tree_names u;
		memcpy(big, "a.o: ", 5);
		memset(big + 5, 'x', sizeof big - 7);
		big[sizeof big - 2] = '\n';
		T_CHECK(tree_readset_check(&m, big, strlen(big), "/w/b", &u) == -EINVAL, "refused");
	}
	manifest_free(&m);
}

static void t_toolchain(void)
{
	T_CASE("tree_toolchain_gcc") {
		struct buf b = BUF_INIT;
		char why[256] = "", real[4096];
		int r = tree_toolchain("/usr/bin/gcc", NULL, &b, why, sizeof why);
		T_CHECK(r == 0, "%d %s", r, why);
		const char *l = r == 0 ? (const char *)b.data : "";
		T_CHECK(realpath("/usr/bin/gcc", real) && strstr(l, real), "the driver %s", real);
		T_CHECK(strstr(l, "/cc1:") || strstr(l, "/cc1\0"), "cc1: %s", l);
		T_CHECK(strstr(l, "/libc.so.6") && strstr(l, "/etc/ld.so.cache"), "libc, ld.so.cache");
		T_CHECK(!strstr(l, "/include"), "no include dir");
		char *c = strdup(l), *save = NULL;
		for (char *p = strtok_r(c, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
			struct stat sb;
			T_CHECK(p[0] == '/' && lstat(p, &sb) == 0 && !S_ISDIR(sb.st_mode),
				"%s: an absolute file", p);
		}
		free(c);
		buf_free(&b);
		r = tree_toolchain("/nonexistent/gcc", NULL, &b, why, sizeof why);
		T_CHECK(r == -ENOENT, "a missing compiler: %d", r);
		buf_free(&b);
	}
}

/* Two trees (two workers' lookup-only handles, as noded's) link one .x of
 * an executable: made once, the same inode in both; the parent counts it. */
static void t_exec_shared(void)
{
	T_CASE("tree_exec_variant_shared") {
		struct store *st = store_at("sx"), *w1 = NULL, *w2 = NULL;
		struct manifest m;
		struct tree *a = NULL, *b = NULL;
		char why[256] = "", d[128];
		struct stat sa, sb;
		struct store_stats s1, s2, sp;
		const char *cc1 = "\177ELF pretend cc1 bytes";
		uint8_t h[32];
		bool have = false;
		manifest_init(&m);
		file(&m, st, "/usr/libexec/cc1", cc1, 0755);
		file(&m, st, "/w/a.c", "int a;\n", 0644);
		T_CHECK(manifest_check(&m, why, sizeof why) == 0, "check: %s", why);
		snprintf(d, sizeof d, "%s/sx", root);
		struct store_cfg c = { .dir = d, .lookup_only = true };
		T_CHECK(store_open(&c, &w1) == 0 && store_open(&c, &w2) == 0, "worker handles");
		struct tree_req ra = { w1, &m, rootfd, "xa", "", "/tmp/j", NULL, NULL, 0, 0 };
		struct tree_req rb = { w2, &m, rootfd, "xb", "", "/tmp/j", NULL, NULL, 0, 0 };
		T_CHECK(tree_build(&ra, &a, NULL, why, sizeof why) == 0, "tree a: %s", why);
		T_CHECK(tree_build(&rb, &b, NULL, why, sizeof why) == 0, "tree b: %s", why);
		T_CHECK(lstat_in("xa", "/usr/libexec/cc1", &sa) && lstat_in("xb", "/usr/libexec/cc1", &sb),
			"both linked");
		T_CHECK(sa.st_ino == sb.st_ino && (sa.st_mode & 0777) == 0555 && sa.st_nlink == 3,
			"one inode, 0555, the .x and two trees: ino %lu/%lu nlink %lu",
			(unsigned long)sa.st_ino, (unsigned long)sb.st_ino, (unsigned long)sa.st_nlink);
		store_stats(w1, &s1);
		store_stats(w2, &s2);
		T_CHECK(s1.exec_made + s2.exec_made == 1, "made once: %llu + %llu",
			(unsigned long long)s1.exec_made, (unsigned long long)s2.exec_made);
		T_CHECK(tree_stats(a)->copied == 0 && tree_stats(b)->copied == 0, "no copy");
		hash_of(cc1, h);
		store_have(st, (const uint8_t (*)[32])h, 1, &have);
		store_stats(st, &sp);
		T_CHECK(have && sp.bytes == 2 * strlen(cc1) + 7, "the parent counts the .x: %llu",
			(unsigned long long)sp.bytes);
		T_CHECK(store_evict_to(st, 0) == 0, "nothing evicted while trees link it");
		tree_release(a);
		tree_release(b);
		store_close(w1);
		store_close(w2);
		T_CHECK(store_evict_to(st, 0) == 2, "both blobs evictable after release");
		store_stats(st, &sp);
		T_CHECK(sp.bytes == 0 && sp.blobs == 0, "nothing left counted: %llu",
			(unsigned long long)sp.bytes);
		manifest_free(&m);
		store_close(st);
	}
}

int main(void)
{
	strcpy(root, "/tmp/test_tree.XXXXXX");
	if (!mkdtemp(root) || (rootfd = open(root, O_RDONLY | O_DIRECTORY)) < 0) {
		printf("FAIL test_tree: mkdtemp\n");
		return 1;
	}
	t_refusals();
	t_build();
	t_exec_shared();
	t_missing();
	t_size_lie();
	t_mount_conflicts();
	t_readset();
	t_toolchain();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	if (system(cmd)) {
		/* leftover temp dir */
	}
	return t_done();
}
