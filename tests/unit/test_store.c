/*
 * test_store.c — node/store.c against a real directory: insertion and its
 * refusals, corruption and truncation found before use, LRU eviction under
 * the cap with pins and outside links respected, the index rebuilt at
 * restart, two processes inserting the same blobs at once, the "which do
 * you have" query.
 */
#include "store.h"
#include "../lib/test.h"

#include "../lib/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[64];

/* A blob of len bytes whose content depends on seed, and its hash. */
static uint8_t *mk(unsigned seed, size_t len, uint8_t h[32])
{
	uint8_t *p = malloc(len ? len : 1);
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
	sha256(p, len, h);
	return p;
}

static struct store *open_at(const char *sub, uint64_t cap)
{
	char d[128];
	struct store *st = NULL;
	snprintf(d, sizeof d, "%s/%s", root, sub);
	struct store_cfg c = { .dir = d, .cap_bytes = cap };
	int r = store_open(&c, &st);
	T_CHECK(r == 0, "store_open %s: %d", d, r);
	return st;
}

/* Path of blob h of store sub. */
static void path_of(const char *sub, const uint8_t h[32], char *p, size_t len)
{
	char hex[65];
	store_hex(h, hex);
	snprintf(p, len, "%s/%s/objects/%.2s/%s", root, sub, hex, hex);
}

static bool present(struct store *st, const uint8_t h[32])
{
	uint64_t sz;
	int fd = store_get(st, h, &sz);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

static void t_basic(void)
{
	T_CASE("store_put_get") {
		uint8_t h[32], h2[32], back[100];
		uint8_t *p = mk(1, 100, h);
		struct store *st = open_at("basic", 0);
		uint64_t sz = 0;
		struct store_stats s;
		T_CHECK(store_put(st, h, p, 100) == 0, "put");
		T_CHECK(store_put(st, h, p, 100) == 0, "put again");
		int fd = store_get(st, h, &sz);
		T_CHECK(fd >= 0 && sz == 100, "get %d %llu", fd, (unsigned long long)sz);
		T_CHECK(fd >= 0 && pread(fd, back, 100, 0) == 100 && !memcmp(back, p, 100), "bytes");
		if (fd >= 0)
			close(fd);
		memcpy(h2, h, 32);
		h2[5] ^= 1;
		T_CHECK(store_put(st, h2, p, 100) == -EBADMSG, "a wrong name is refused");
		T_CHECK(store_get(st, h2, NULL) == -ENOENT, "and not stored");
		store_stats(st, &s);
		T_CHECK(s.blobs == 1 && s.bytes == 100 && s.inserts == 1, "stats %llu %llu %llu",
			(unsigned long long)s.blobs, (unsigned long long)s.bytes,
			(unsigned long long)s.inserts);
		T_CHECK(s.hits == 1 && s.misses == 1, "hits %llu misses %llu",
			(unsigned long long)s.hits, (unsigned long long)s.misses);
		char hex[65];
		uint8_t h3[32];
		store_hex(h, hex);
		T_CHECK(store_from_hex(hex, h3) == 0 && !memcmp(h, h3, 32), "hex round trip");
		hex[3] = 'G';
		T_CHECK(store_from_hex(hex, h3) == -EINVAL, "bad hex");
		uint8_t e[32];
		sha256("", 0, e);
		T_CHECK(store_put(st, e, "", 0) == 0 && present(st, e), "empty blob");
		store_close(st);
		free(p);
	}
}

/* Rewrites the blob's file: mode "flip" changes one byte in place
 * (keeping the mtime when keep_mtime), "trunc" cuts it short. */
static void damage(const char *sub, const uint8_t h[32], bool trunc, bool keep_mtime)
{
	char p[256];
	struct stat sb;
	path_of(sub, h, p, sizeof p);
	stat(p, &sb);
	int fd = open(p, O_RDWR);
	if (trunc) {
		T_CHECK(fd >= 0 && ftruncate(fd, sb.st_size / 2) == 0, "truncate");
	} else {
		uint8_t c;
		T_CHECK(fd >= 0 && pread(fd, &c, 1, 7) == 1, "read byte");
		c ^= 0x40;
		T_CHECK(pwrite(fd, &c, 1, 7) == 1, "write byte");
	}
	if (keep_mtime) {
		struct timespec ts[2] = { sb.st_atim, sb.st_mtim };
		futimens(fd, ts);
	}
	close(fd);
}

static void t_corrupt(void)
{
	static const struct { const char *name; bool trunc, keep_mtime, reopen; } cases[] = {
		{ "store_corrupt_flip_same_handle", false, false, false },
		{ "store_corrupt_truncated_same_handle", true, false, false },
		{ "store_corrupt_flip_mtime_kept_after_restart", false, true, true },
		{ "store_corrupt_truncated_after_restart", true, true, true },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		T_CASE(cases[i].name) {
			char sub[32], p[256];
			uint8_t h[32], ok[32];
			uint8_t *b = mk(10 + (unsigned)i, 5000, h), *b2 = mk(99, 300, ok);
			struct store_stats s;
			snprintf(sub, sizeof sub, "corrupt%zu", i);
			struct store *st = open_at(sub, 0);
			T_CHECK(store_put(st, h, b, 5000) == 0 && store_put(st, ok, b2, 300) == 0, "put");
			damage(sub, h, cases[i].trunc, cases[i].keep_mtime);
			if (cases[i].reopen) {
				store_close(st);
				st = open_at(sub, 0);
			}
			T_CHECK(!present(st, h), "a damaged blob is reported missing");
			T_CHECK(present(st, ok), "the sound one is still served");
			store_stats(st, &s);
			T_CHECK(s.corrupt == 1, "corrupt counted: %llu", (unsigned long long)s.corrupt);
			path_of(sub, h, p, sizeof p);
			T_CHECK(access(p, F_OK) != 0, "and deleted");
			T_CHECK(store_put(st, h, b, 5000) == 0 && present(st, h), "and can be sent again");
			store_close(st);
			free(b), free(b2);
		}
	}
}

static void t_evict(void)
{
	T_CASE("store_evict_lru_order_pins_links") {
		uint8_t h[12][32];
		uint8_t *b[12];
		char p[256], ln[256];
		struct store *st = open_at("evict", 10000);
		struct store_stats s;
		for (int i = 0; i < 12; i++)
			b[i] = mk(100 + (unsigned)i, 1000, h[i]);
		for (int i = 0; i < 10; i++)
			T_CHECK(store_put(st, h[i], b[i], 1000) == 0, "put %d", i);
		/* use order now 1..9, 0 (0 most recent); pin 1; link 2 outside */
		T_CHECK(present(st, h[0]), "0");
		T_CHECK(store_pin(st, h[1]) == 0, "pin");
		path_of("evict", h[2], p, sizeof p);
		snprintf(ln, sizeof ln, "%s/evict-link", root);
		T_CHECK(link(p, ln) == 0, "outside link");
		/* 11 000 > 10 000: down to 9 000 = two blobs: 3 and 4 */
		T_CHECK(store_put(st, h[10], b[10], 1000) == 0, "put 10");
		store_stats(st, &s);
		T_CHECK(s.evictions == 2 && s.bytes == 9000, "evicted %llu, %llu bytes",
			(unsigned long long)s.evictions, (unsigned long long)s.bytes);
		bool have[12];
		store_have(st, (const uint8_t (*)[32])h, 11, have);
		for (int i = 0; i < 11; i++)
			T_CHECK(have[i] == (i != 3 && i != 4), "blob %d %s", i,
				have[i] ? "kept" : "evicted");
		store_unpin(st, h[1]);
		unlink(ln);
		/* now LRU order 1 2 5 6 7 8 9 0 10: evicting to 6000 takes 1 2 5 */
		store_evict_to(st, 6000);
		store_have(st, (const uint8_t (*)[32])h, 11, have);
		for (int i = 0; i < 11; i++)
			T_CHECK(have[i] == (i == 6 || i == 7 || i == 8 || i == 9 || i == 0 || i == 10),
				"after unpin: blob %d %s", i, have[i] ? "kept" : "evicted");
		store_close(st);
		for (int i = 0; i < 12; i++)
			free(b[i]);
	}
}

static void t_restart(void)
{
	T_CASE("store_restart_keeps_blobs_and_lru") {
		uint8_t h[6][32];
		uint8_t *b[6];
		struct store_stats s;
		struct store *st = open_at("restart", 100000);
		for (int i = 0; i < 6; i++) {
			b[i] = mk(200 + (unsigned)i, 1000, h[i]);
			T_CHECK(store_put(st, h[i], b[i], 1000) == 0, "put %d", i);
		}
		T_CHECK(present(st, h[0]) && present(st, h[1]), "use 0 then 1");
		store_close(st);
		st = open_at("restart", 100000);
		store_stats(st, &s);
		T_CHECK(s.blobs == 6 && s.bytes == 6000, "index rebuilt: %llu blobs %llu bytes",
			(unsigned long long)s.blobs, (unsigned long long)s.bytes);
		/* oldest use first: 2 3 4 5 0 1 */
		store_evict_to(st, 2000);
		bool have[6];
		store_have(st, (const uint8_t (*)[32])h, 6, have);
		for (int i = 0; i < 6; i++)
			T_CHECK(have[i] == (i < 2), "blob %d %s", i, have[i] ? "kept" : "evicted");
		T_CHECK(present(st, h[0]), "served after restart");
		store_stats(st, &s);
		T_CHECK(s.verified_bytes == 1000, "re-hashed at first use: %llu",
			(unsigned long long)s.verified_bytes);
		T_CHECK(present(st, h[0]), "again");
		store_stats(st, &s);
		T_CHECK(s.verified_bytes == 1000, "once: %llu", (unsigned long long)s.verified_bytes);
		store_close(st);
		for (int i = 0; i < 6; i++)
			free(b[i]);
	}
}

/* Two processes, each its own handle, insert the same 40 blobs at once. */
static void t_two_processes(void)
{
	T_CASE("store_two_processes_same_blobs") {
		enum { N = 40, LEN = 65536 };
		pid_t pid[2];
		int st_code[2], go[2];
		T_CHECK(pipe(go) == 0, "pipe");
		for (int k = 0; k < 2; k++) {
			pid[k] = fork();
			if (pid[k] == 0) {
				struct store *st = NULL;
				char d[128], ch;
				close(go[1]);
				if (read(go[0], &ch, 1) != 0)	/* both start when it closes */
					_exit(4);
				snprintf(d, sizeof d, "%s/shared", root);
				struct store_cfg c = { .dir = d };
				if (store_open(&c, &st))
					_exit(2);
				for (int i = 0; i < N; i++) {
					uint8_t h[32], *p = mk(300 + (unsigned)i, LEN, h);
					if (store_put(st, h, p, LEN) || !present(st, h))
						_exit(3);
					free(p);
				}
				store_close(st);
				_exit(0);
			}
		}
		close(go[0]);
		close(go[1]);
		for (int k = 0; k < 2; k++) {
			waitpid(pid[k], &st_code[k], 0);
			T_CHECK(WIFEXITED(st_code[k]) && WEXITSTATUS(st_code[k]) == 0,
				"child %d: status %d", k, st_code[k]);
		}
		struct store *st = open_at("shared", 0);
		struct store_stats s;
		for (int i = 0; i < N; i++) {
			uint8_t h[32], *p = mk(300 + (unsigned)i, LEN, h);
			T_CHECK(present(st, h), "blob %d whole", i);
			free(p);
		}
		store_stats(st, &s);
		T_CHECK(s.blobs == N && s.corrupt == 0, "%llu blobs, %llu corrupt",
			(unsigned long long)s.blobs, (unsigned long long)s.corrupt);
		store_close(st);
	}
}

static void t_have(void)
{
	T_CASE("store_have_query") {
		uint8_t h[4][32];
		uint8_t *b[4];
		bool have[4];
		struct store *a = open_at("have", 0), *o = open_at("have", 0);
		for (int i = 0; i < 4; i++)
			b[i] = mk(400 + (unsigned)i, 64, h[i]);
		T_CHECK(store_put(a, h[0], b[0], 64) == 0 && store_put(a, h[2], b[2], 64) == 0, "put");
		T_CHECK(store_put(o, h[3], b[3], 64) == 0, "put by the other handle");
		size_t n = store_have(a, (const uint8_t (*)[32])h, 4, have);
		T_CHECK(n == 3 && have[0] && !have[1] && have[2] && have[3], "%zu: %d%d%d%d", n,
			have[0], have[1], have[2], have[3]);
		T_CHECK(present(o, h[0]), "the other handle serves a blob of the first");
		store_close(a), store_close(o);
		for (int i = 0; i < 4; i++)
			free(b[i]);
	}
}

static void t_lookup_only(void)
{
	T_CASE("store_lookup_only_handle") {
		char d[128];
		uint8_t h[2][32];
		uint8_t *b0 = mk(600, 100, h[0]), *b1 = mk(601, 100, h[1]);
		struct store *w = open_at("lo", 0), *r = NULL;
		struct store_stats ss;
		snprintf(d, sizeof d, "%s/lo", root);
		struct store_cfg c = { .dir = d, .lookup_only = true };
		T_CHECK(w && store_put(w, h[0], b0, 100) == 0, "put");
		T_CHECK(store_open(&c, &r) == 0, "open lookup-only");
		store_stats(r, &ss);
		T_CHECK(ss.blobs == 0, "no index at open: %llu", (unsigned long long)ss.blobs);
		T_CHECK(present(r, h[0]) && !present(r, h[1]), "found on disk when asked for");
		store_stats(r, &ss);
		T_CHECK(ss.hits == 1 && ss.misses == 1 && ss.verified_bytes == 0 && ss.trusted == 1,
			"counted; trusted from the put's record: %llu bytes hashed",
			(unsigned long long)ss.verified_bytes);
		T_CHECK(store_put(r, h[1], b1, 100) == -EPERM, "no put");
		T_CHECK(store_evict_to(r, 0) == 0 && present(w, h[0]), "never evicts");
		store_close(r), store_close(w);
		free(b0), free(b1);
	}
}

static void t_durable_and_caps(void)
{
	T_CASE("store_durable_put_and_caps") {
		char d[128];
		uint8_t h[32];
		uint8_t *p = mk(500, 4096, h);
		struct store *st = NULL;
		snprintf(d, sizeof d, "%s/durable", root);
		struct store_cfg c = { .dir = d, .durable = true };
		T_CHECK(store_open(&c, &st) == 0, "open");
		T_CHECK(st && store_put(st, h, p, 4096) == 0 && present(st, h), "durable put");
		T_CHECK(st && store_put(st, h, p, (size_t)STORE_BLOB_MAX + 1) == -EFBIG, "blob cap");
		T_CHECK(st && store_pin(st, (const uint8_t[32]){ 9 }) == -ENOENT, "pin of an absent blob");
		store_close(st);
		struct store_cfg rel = { .dir = "relative/dir" };
		T_CHECK(store_open(&rel, &st) == -EINVAL, "a relative dir is refused");
		free(p);
	}
}

/* ---- the executable variant (<hex>.x) ---- */

/* Links blob h's .x as root/sub/<leaf> and stats it: the link's result. */
static int link_x(struct store *st, const uint8_t h[32], const char *leaf, struct stat *sb)
{
	char d[128], q[256];
	snprintf(d, sizeof d, "%s/trees", root);
	mkdir(d, 0755);
	int dfd = open(d, O_RDONLY | O_DIRECTORY);
	uint64_t sz = 0;
	int r = store_link_exec(st, h, dfd, leaf, &sz);
	snprintf(q, sizeof q, "%s/%s", d, leaf);
	if (r == 0 && lstat(q, sb))
		r = -errno;
	close(dfd);
	return r;
}

static void x_path(const char *sub, const uint8_t h[32], char *p, size_t len)
{
	path_of(sub, h, p, len);
	strncat(p, ".x", len - strlen(p) - 1);
}

static void t_exec(void)
{
	T_CASE("store_exec_variant_made_once_evicted_with_blob") {
		uint8_t h[32];
		uint8_t *p = mk(700, 9000, h);
		struct store *st = open_at("exec", 0);
		struct stat a, b, x, bl;
		struct store_stats s;
		char xp[256], bp[256];
		T_CHECK(store_put(st, h, p, 9000) == 0, "put");
		T_CHECK(link_x(st, h, "e1", &a) == 0 && link_x(st, h, "e2", &b) == 0, "two links");
		x_path("exec", h, xp, sizeof xp);
		path_of("exec", h, bp, sizeof bp);
		T_CHECK(stat(xp, &x) == 0 && x.st_ino == a.st_ino && a.st_ino == b.st_ino &&
			(x.st_mode & 07777) == 0555 && x.st_uid == getuid() && x.st_nlink == 3,
			"one .x inode, 0555, in both links (nlink %lu)", (unsigned long)x.st_nlink);
		T_CHECK(stat(bp, &bl) == 0 && bl.st_ino != x.st_ino && (bl.st_mode & 0777) == 0444 &&
			bl.st_nlink == 1, "the blob stays 0444, a name of its own");
		store_stats(st, &s);
		T_CHECK(s.exec_made == 1 && s.hits == 2 && s.bytes == 18000 && s.blobs == 1,
			"made once, counted twice the size: made %llu bytes %llu",
			(unsigned long long)s.exec_made, (unsigned long long)s.bytes);
		T_CHECK(store_evict_to(st, 0) == 0, "a linked .x keeps its blob");
		T_CHECK(access(bp, F_OK) == 0 && access(xp, F_OK) == 0, "both names kept");
		char q[256];
		snprintf(q, sizeof q, "%s/trees/e1", root);
		unlink(q);
		snprintf(q, sizeof q, "%s/trees/e2", root);
		unlink(q);
		T_CHECK(store_evict_to(st, 0) == 1, "evictable once unlinked");
		T_CHECK(access(bp, F_OK) != 0 && access(xp, F_OK) != 0, "both names removed");
		store_stats(st, &s);
		T_CHECK(s.bytes == 0 && s.blobs == 0, "nothing counted: %llu", (unsigned long long)s.bytes);
		T_CHECK(link_x(st, h, "e3", &a) == -ENOENT, "no blob: no .x (a miss)");
		store_close(st);
		free(p);
	}
	T_CASE("store_exec_variant_restart_and_corruption") {
		uint8_t h[32];
		uint8_t *p = mk(701, 7000, h);
		struct store *st = open_at("exec2", 0);
		struct stat a, b;
		struct store_stats s;
		char xp[256], bp[256], q[256];
		T_CHECK(store_put(st, h, p, 7000) == 0 && link_x(st, h, "r1", &a) == 0, "made");
		store_close(st);
		st = open_at("exec2", 0);
		store_stats(st, &s);
		T_CHECK(s.bytes == 14000 && s.blobs == 1, "the rescan at open counts both: %llu",
			(unsigned long long)s.bytes);
		T_CHECK(link_x(st, h, "r2", &b) == 0 && b.st_ino == a.st_ino, "the same .x after restart");
		store_stats(st, &s);
		T_CHECK(s.exec_made == 0 && s.verified_bytes == 7000,
			"not made again; re-hashed once there: made %llu verified %llu",
			(unsigned long long)s.exec_made, (unsigned long long)s.verified_bytes);
		/* a .x damaged on disk: found at its next verification (a new
		 * process), counted, deleted, made again from the sound blob */
		x_path("exec2", h, xp, sizeof xp);
		int fd = open(xp, O_RDWR);
		T_CHECK(fd >= 0 && pwrite(fd, "Z", 1, 100) == 1, "damage the .x");
		close(fd);
		store_close(st);
		st = open_at("exec2", 0);
		T_CHECK(link_x(st, h, "r3", &b) == 0 && b.st_ino != a.st_ino, "a new .x");
		store_stats(st, &s);
		T_CHECK(s.corrupt == 1 && s.exec_made == 1, "corrupt %llu made %llu",
			(unsigned long long)s.corrupt, (unsigned long long)s.exec_made);
		fd = open(xp, O_RDONLY);
		uint8_t c = 0;
		T_CHECK(fd >= 0 && pread(fd, &c, 1, 100) == 1 && c == p[100], "its bytes the blob's");
		close(fd);
		/* a damaged blob with no .x: missing, as for store_get */
		for (int i = 1; i <= 3; i++) {
			snprintf(q, sizeof q, "%s/trees/r%d", root, i);
			unlink(q);
		}
		unlink(xp);
		path_of("exec2", h, bp, sizeof bp);
		fd = open(bp, O_RDWR);
		T_CHECK(fd >= 0 && pwrite(fd, "Z", 1, 5) == 1, "damage the blob");
		close(fd);
		store_close(st);
		st = open_at("exec2", 0);
		T_CHECK(link_x(st, h, "r4", &b) == -ENOENT, "a corrupt blob: missing");
		store_stats(st, &s);
		T_CHECK(s.corrupt == 1 && s.exec_made == 0 && access(xp, F_OK) != 0 &&
			access(bp, F_OK) != 0, "counted, deleted, no .x made of it");
		store_close(st);
		free(p);
	}
	T_CASE("store_exec_orphan_removed_at_eviction") {
		uint8_t h[32];
		uint8_t *p = mk(702, 3000, h);
		struct store *st = open_at("exec3", 0);
		struct stat a;
		struct store_stats s;
		char xp[256], bp[256];
		T_CHECK(store_put(st, h, p, 3000) == 0 && link_x(st, h, "o1", &a) == 0, "made");
		char q[256];
		snprintf(q, sizeof q, "%s/trees/o1", root);
		unlink(q);
		path_of("exec3", h, bp, sizeof bp);
		x_path("exec3", h, xp, sizeof xp);
		unlink(bp);	/* as a crash between the two unlinks of an eviction */
		store_evict_to(st, 1ull << 40);
		store_stats(st, &s);
		T_CHECK(access(xp, F_OK) != 0 && s.bytes == 0 && s.blobs == 0,
			"the orphan .x removed by the rescan: bytes %llu", (unsigned long long)s.bytes);
		store_close(st);
		free(p);
	}
}

/* ---- the verified set shared across a run's processes ---- */

static struct store *open_lookup(const char *sub)
{
	char d[128];
	struct store *st = NULL;
	snprintf(d, sizeof d, "%s/%s", root, sub);
	struct store_cfg c = { .dir = d, .lookup_only = true };
	T_CHECK(store_open(&c, &st) == 0, "open lookup-only %s", d);
	return st;
}

static void t_vset(void)
{
	T_CASE("store_verified_once_per_run") {
		uint8_t h[32];
		uint8_t *p = mk(800, 6000, h);
		struct store *st = open_at("vset", 0), *w;
		struct store_stats s;
		struct stat a;
		T_CHECK(store_put(st, h, p, 6000) == 0, "put");
		store_close(st);
		st = open_at("vset", 0);	/* a noded start: the set emptied */
		w = open_lookup("vset");
		T_CHECK(present(w, h) && link_x(w, h, "v1", &a) == 0, "job 1 uses blob and .x");
		store_stats(w, &s);
		T_CHECK(s.verified_bytes == 6000 && s.trusted == 0,
			"job 1 hashes the blob (the .x it made as it copied): %llu",
			(unsigned long long)s.verified_bytes);
		store_close(w);
		w = open_lookup("vset");
		T_CHECK(present(w, h) && link_x(w, h, "v2", &a) == 0, "job 2 uses both");
		store_stats(w, &s);
		T_CHECK(s.verified_bytes == 0 && s.trusted == 2 && s.exec_made == 0,
			"job 2 hashes nothing: %llu bytes, %llu trusted",
			(unsigned long long)s.verified_bytes, (unsigned long long)s.trusted);
		store_close(w);
		/* damaged after its verification, through the filesystem (its
		 * mtime changes): the next job hashes it and finds it corrupt */
		char bp[256];
		path_of("vset", h, bp, sizeof bp);
		int fd = open(bp, O_RDWR);
		struct timespec ts[2] = { { 0, UTIME_OMIT }, { 12345, 0 } };
		T_CHECK(fd >= 0 && pwrite(fd, "Q", 1, 9) == 1 && futimens(fd, ts) == 0, "damage");
		close(fd);
		w = open_lookup("vset");
		T_CHECK(!present(w, h), "the damaged blob is missing to the next job");
		store_stats(w, &s);
		T_CHECK(s.corrupt == 1 && s.trusted == 0, "corrupt %llu trusted %llu",
			(unsigned long long)s.corrupt, (unsigned long long)s.trusted);
		store_close(w);
		for (int i = 1; i <= 2; i++) {
			char q[256];
			snprintf(q, sizeof q, "%s/trees/v%d", root, i);
			unlink(q);
		}
		store_close(st);
		free(p);
	}
	T_CASE("store_verified_set_emptied_at_start") {
		uint8_t h[32];
		uint8_t *p = mk(801, 5000, h);
		struct store *st = open_at("vset2", 0), *w;
		struct store_stats s;
		T_CHECK(store_put(st, h, p, 5000) == 0, "put");
		/* a write that keeps the mtime: a worker of this run still
		 * trusts it (store.h), the next noded start does not */
		damage("vset2", h, false, true);
		w = open_lookup("vset2");
		T_CHECK(present(w, h), "trusted within the run");
		store_close(w);
		store_close(st);
		st = open_at("vset2", 0);
		w = open_lookup("vset2");
		T_CHECK(!present(w, h), "after a start: hashed, corrupt");
		store_stats(w, &s);
		T_CHECK(s.corrupt == 1 && s.trusted == 0, "corrupt %llu", (unsigned long long)s.corrupt);
		store_close(w);
		store_close(st);
		free(p);
	}
}

int main(void)
{
	strcpy(root, "/tmp/test_store.XXXXXX");
	if (!mkdtemp(root)) {
		printf("FAIL test_store: mkdtemp\n");
		return 1;
	}
	t_basic();
	t_corrupt();
	t_evict();
	t_restart();
	t_two_processes();
	t_have();
	t_lookup_only();
	t_durable_and_caps();
	t_exec();
	t_vset();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	if (system(cmd)) {
		/* leftover temp dir */
	}
	return t_done();
}
