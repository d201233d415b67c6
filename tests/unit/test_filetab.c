/* test_filetab.c — the hub's file table (hub/filetab.h): content hashes by
 * identity, one lstat per path per job, absent names trusted only while
 * their directory is unchanged, racy entries hashed again, symlinks and
 * ".." resolved physically, bounded memory. Real files in a temp dir. */
#include "filetab.h"
#include "sha256.h"
#include "../lib/test.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[256];

static void put(const char *name, const char *text)
{
	char p[PATH_MAX];
	FILE *f;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	f = fopen(p, "w");
	if (!f) {
		perror(p);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static const char *path(const char *name)
{
	static char p[4][PATH_MAX];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
	return p[k];
}

/* Sets a file's mtime to `sec` (so it is not racy) */
static void age(const char *name, time_t sec)
{
	struct timespec ts[2] = { { sec, 0 }, { sec, 0 } };
	utimensat(AT_FDCWD, path(name), ts, 0);
}

static struct filetab_stats stats(struct filetab *t)
{
	struct filetab_stats s;
	filetab_get_stats(t, &s);
	return s;
}

static int content_of(struct filetab *t, const char *name, const struct filetab_content **c)
{
	struct filetab_file f;
	int r = filetab_resolve(t, path(name), &f, NULL, NULL);
	return r ? r : filetab_content(t, &f, c);
}

static bool same_sha(const struct filetab_content *c, const char *text)
{
	uint8_t h[32];
	sha256(text, strlen(text), h);
	return memcmp(h, c->sha256, 32) == 0;
}

static int nlinks, ndirs;
static char lastlink[PATH_MAX];
static void walk(void *arg, const struct filetab_file *f)
{
	(void)arg;
	if (f->link) {
		nlinks++;
		snprintf(lastlink, sizeof lastlink, "%s", f->phys);
	} else
		ndirs++;
}

static void t_hash_and_hits(void)
{
	struct filetab_cfg cfg = { 0, 0 };	/* never racy: hits are deterministic */
	struct filetab *t = filetab_new(&cfg);
	const struct filetab_content *c;

	T_CASE("filetab: hashed once, then hits while the identity holds") {
		put("a.h", "#include <b.h>\n#pragma once\n");
		age("a.h", 1000000000);
		filetab_begin(t);
		T_CHECK(content_of(t, "a.h", &c) == 0, "content");
		T_CHECK(same_sha(c, "#include <b.h>\n#pragma once\n"), "sha");
		T_CHECK(c->dirs.n == 1 && c->dirs.pragma_once, "directives %zu", c->dirs.n);
		T_CHECK(stats(t).rehashes == 1, "rehashes %llu", (unsigned long long)stats(t).rehashes);
		filetab_begin(t);
		T_CHECK(content_of(t, "a.h", &c) == 0 && same_sha(c, "#include <b.h>\n#pragma once\n"), "again");
		T_CHECK(stats(t).rehashes == 1 && stats(t).hits == 1, "hit");
	}
	T_CASE("filetab: one lstat per path per job") {
		uint64_t l0 = stats(t).lstats;
		filetab_begin(t);
		content_of(t, "a.h", &c);
		uint64_t l1 = stats(t).lstats;
		content_of(t, "a.h", &c);
		content_of(t, "a.h", &c);
		T_CHECK(stats(t).lstats == l1, "lstats grew within a job");
		T_CHECK(l1 > l0, "not re-checked in a new job");
	}
	T_CASE("filetab: a content's time macros are found as it is hashed, and again when it changes") {
		put("t.h", "int x; /* __DATE */\n");
		age("t.h", 1000000100);
		filetab_begin(t);
		T_CHECK(content_of(t, "t.h", &c) == 0 && !c->time_macros, "none in t.h");
		put("t.h", "const char *s = __TIMESTAMP__;\n");
		age("t.h", 1000000200);
		filetab_begin(t);
		T_CHECK(content_of(t, "t.h", &c) == 0 && c->time_macros, "__TIMESTAMP__ not found");
		put("t.h", "__DATE__\n");
		age("t.h", 1000000300);
		filetab_begin(t);
		T_CHECK(content_of(t, "t.h", &c) == 0 && c->time_macros, "__DATE__ not found");
		put("t.h", "int y;\n");
		age("t.h", 1000000400);
		filetab_begin(t);
		T_CHECK(content_of(t, "t.h", &c) == 0 && !c->time_macros && same_sha(c, "int y;\n"),
			"the old content's flag kept");
		T_CHECK(!c->gas_reads, "no gas read in t.h");
		put("t.h", "\t.section .rodata\n\t.incbin \"blob.bin\"\n");
		age("t.h", 1000000500);
		filetab_begin(t);
		T_CHECK(content_of(t, "t.h", &c) == 0 && c->gas_reads && !c->time_macros,
			".incbin not found");
		put("t.h", "#include <a.h>\n");
		age("t.h", 1000000600);
		filetab_begin(t);
		T_CHECK(content_of(t, "t.h", &c) == 0 && !c->gas_reads, "#include taken for gas's .include");
		put("t.h", "\t.include \"m.inc\"\n");
		age("t.h", 1000000700);
		filetab_begin(t);
		T_CHECK(content_of(t, "t.h", &c) == 0 && c->gas_reads, ".include not found");
	}
	T_CASE("filetab: an owner's mark holds for its job only") {
		struct filetab_file f, g;
		size_t v = 0;
		filetab_begin(t);
		T_CHECK(filetab_resolve(t, path("a.h"), &f, NULL, NULL) == 0, "resolve");
		T_CHECK(!filetab_mark_get(&f, &v), "a mark before any was set");
		filetab_mark_set(&f, 7);
		T_CHECK(filetab_resolve(t, path("a.h"), &g, NULL, NULL) == 0 &&
			filetab_mark_get(&g, &v) && v == 7, "the same job's mark: %zu", v);
		T_CHECK(filetab_resolve(t, path("t.h"), &g, NULL, NULL) == 0 &&
			!filetab_mark_get(&g, &v), "another path's mark");
		filetab_begin(t);
		T_CHECK(filetab_resolve(t, path("a.h"), &g, NULL, NULL) == 0 &&
			!filetab_mark_get(&g, &v), "an earlier job's mark kept");
	}
	T_CASE("filetab: a file rewritten with the same size and mtime is hashed again (ctime)") {
		put("a.h", "#include <c.h>\n#pragma once\n");
		age("a.h", 1000000000);
		filetab_begin(t);
		T_CHECK(content_of(t, "a.h", &c) == 0 && same_sha(c, "#include <c.h>\n#pragma once\n"),
			"stale content");
	}
	filetab_free(t);
}

static void t_racy(void)
{
	struct filetab_cfg cfg = { 0, 1000000000000000000LL };	/* everything racy */
	struct filetab *t = filetab_new(&cfg);
	const struct filetab_content *c;

	T_CASE("filetab: a racy file is hashed again in the next job, not within one") {
		put("r.h", "int r;\n");
		filetab_begin(t);
		content_of(t, "r.h", &c);
		content_of(t, "r.h", &c);
		T_CHECK(stats(t).rehashes == 1, "within a job: %llu", (unsigned long long)stats(t).rehashes);
		filetab_begin(t);
		content_of(t, "r.h", &c);
		T_CHECK(stats(t).rehashes == 2 && stats(t).racy_rehashes == 1, "next job: %llu",
			(unsigned long long)stats(t).rehashes);
	}
	T_CASE("filetab: absent names under a racy directory are probed again") {
		struct filetab_file f;
		filetab_begin(t);
		T_CHECK(filetab_resolve(t, path("nope.h"), &f, NULL, NULL) == -ENOENT, "absent");
		filetab_begin(t);
		uint64_t n0 = stats(t).neg_hits;
		T_CHECK(filetab_resolve(t, path("nope.h"), &f, NULL, NULL) == -ENOENT, "absent");
		T_CHECK(stats(t).neg_hits == n0, "trusted a racy directory");
	}
	T_CASE("filetab: a file renamed away and a new one in its place: each its own hash") {
		const struct filetab_content *cm, *cn;
		put("mv.h", "int old;\n");
		filetab_begin(t);
		T_CHECK(content_of(t, "mv.h", &c) == 0, "old");
		rename(path("mv.h"), path("mv2.h"));
		put("mv.h", "int new;\n");
		filetab_begin(t);
		T_CHECK(content_of(t, "mv2.h", &cm) == 0 && same_sha(cm, "int old;\n"), "moved file");
		T_CHECK(content_of(t, "mv.h", &cn) == 0 && same_sha(cn, "int new;\n"), "the new file got the old hash");
	}
	filetab_free(t);
}

static void t_absent(void)
{
	struct filetab_cfg cfg = { 0, 0 };
	struct filetab *t = filetab_new(&cfg);
	struct filetab_file f;

	T_CASE("filetab: an absent name is answered by its directory's identity") {
		mkdir(path("neg"), 0755);
		age("neg", 1000000000);
		filetab_begin(t);
		T_CHECK(filetab_resolve(t, path("neg/x.h"), &f, NULL, NULL) == -ENOENT, "absent");
		filetab_begin(t);
		uint64_t l0 = stats(t).lstats;
		T_CHECK(filetab_resolve(t, path("neg/x.h"), &f, NULL, NULL) == -ENOENT, "absent");
		T_CHECK(stats(t).neg_hits == 1, "neg_hits %llu", (unsigned long long)stats(t).neg_hits);
		/* "/", dir, neg, neg: lstat'ed again; x.h: not */
		T_CHECK(stats(t).lstats - l0 == (uint64_t)(4 + (strchr(dir + 1, '/') ? 1 : 0)) ||
			stats(t).lstats - l0 < 10, "lstats %llu", (unsigned long long)(stats(t).lstats - l0));
	}
	T_CASE("filetab: a name created later is seen (its directory changed)") {
		put("neg/x.h", "int x;\n");
		filetab_begin(t);
		T_CHECK(filetab_resolve(t, path("neg/x.h"), &f, NULL, NULL) == 0, "not seen");
	}
	T_CASE("filetab: a deleted file is absent in the next job") {
		unlink(path("neg/x.h"));
		filetab_begin(t);
		T_CHECK(filetab_resolve(t, path("neg/x.h"), &f, NULL, NULL) == -ENOENT, "still there");
	}
	filetab_free(t);
}

static void t_links(void)
{
	struct filetab *t = filetab_new(NULL);
	const struct filetab_content *c, *c2;
	struct filetab_file f;
	char want[PATH_MAX];

	T_CASE("filetab: symlinked file and dir resolve physically, links reported") {
		mkdir(path("real"), 0755);
		mkdir(path("real/sub"), 0755);
		put("real/sub/h.h", "int h;\n");
		symlink("real/sub", path("ldir"));
		symlink("h.h", path("real/sub/lh.h"));
		nlinks = ndirs = 0;
		filetab_begin(t);
		T_CHECK(filetab_resolve(t, path("ldir/lh.h"), &f, walk, NULL) == 0, "resolve");
		snprintf(want, sizeof want, "%s", path("real/sub/h.h"));
		T_CHECK(!strcmp(f.phys, want), "phys %s", f.phys);
		T_CHECK(nlinks == 2, "links %d", nlinks);
		T_CHECK(filetab_content(t, &f, &c) == 0, "content");
		T_CHECK(content_of(t, "real/sub/h.h", &c2) == 0 && c == c2, "content not shared");
	}
	T_CASE("filetab: \"..\" after a symlinked dir is its target's parent") {
		put("real/p.h", "int p;\n");
		nlinks = ndirs = 0;
		filetab_begin(t);
		T_CHECK(filetab_resolve(t, path("ldir/../p.h"), &f, walk, NULL) == 0, "resolve");
		T_CHECK(!strcmp(f.phys, path("real/p.h")), "phys %s", f.phys);
		T_CHECK(ndirs == 1, "climbed dirs %d", ndirs);
	}
	T_CASE("filetab: a symlink loop is ELOOP, a file as a dir ENOTDIR") {
		symlink("loop", path("loop"));
		filetab_begin(t);
		T_CHECK(filetab_resolve(t, path("loop/x.h"), &f, NULL, NULL) == -ELOOP, "loop");
		T_CHECK(filetab_resolve(t, path("real/p.h/x.h"), &f, NULL, NULL) == -ENOTDIR, "notdir");
	}
	filetab_free(t);
}

static void t_evict(void)
{
	struct filetab_cfg cfg = { 64 << 10, 0 };
	struct filetab *t = filetab_new(&cfg);
	const struct filetab_content *c;
	char name[64];

	T_CASE("filetab: memory stays under the cap across jobs; a job's own entries stay") {
		mkdir(path("many"), 0755);
		for (int i = 0; i < 400; i++) {
			snprintf(name, sizeof name, "many/f%03d.h", i);
			put(name, "#include <stdio.h>\n#define X 1\n");
		}
		size_t worst = 0;
		int bad = 0;
		for (int i = 0; i < 400; i++) {
			snprintf(name, sizeof name, "many/f%03d.h", i);
			filetab_begin(t);	/* evicts earlier jobs' entries down to the cap */
			if (stats(t).mem > worst)
				worst = stats(t).mem;
			bad += content_of(t, name, &c) != 0;
		}
		T_CHECK(!bad, "%d lookups failed", bad);
		T_CHECK(worst <= cfg.mem_cap, "mem %zu at the start of a job", worst);
		T_CHECK(stats(t).evictions > 0, "no eviction");
		filetab_begin(t);
		for (int i = 0; i < 400; i++) {	/* one job over the cap: nothing of it evicted */
			snprintf(name, sizeof name, "many/f%03d.h", i);
			content_of(t, name, &c);
		}
		T_CHECK(content_of(t, "many/f000.h", &c) == 0 && c->dirs.n == 2, "entry of this job lost");
		T_CHECK(stats(t).mem > cfg.mem_cap, "cap is soft within a job");
		filetab_begin(t);
		T_CHECK(stats(t).mem <= cfg.mem_cap, "evicted at the next job: %zu", stats(t).mem);
	}
	filetab_free(t);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_filetab.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	t_hash_and_hits();
	t_racy();
	t_absent();
	t_links();
	t_evict();
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return t_done();
}
