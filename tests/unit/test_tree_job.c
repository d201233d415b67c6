/*
 * test_tree_job.c — what noded adds to the tree for tree jobs:
 * policy_check_tree_args() (lib/policy_tree.c; table: what a tree job may pass, what it may not),
 * tree_wire_put_blobs() (a blob must hash to its name), tree_wire_manifest()
 * (the wire's inputs as a checked manifest; hostile ones refused), and
 * tree_build()'s own dirs (the compile's cwd made root's, the outputs'
 * dirs given to the job's ids; refused where they meet a mount point or a
 * manifest symlink or file), and the board's input table
 * (tree_wire_resolve: definitions kept, refs made whole, generations, an
 * unknown id stale, never guessed, the text bound).
 */
#include "tree.h"
#include "../lib/test.h"

#include "../lib/job.h"
#include "../lib/policy.h"
#include "../lib/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];
static int rootfd;

/* ---- the arguments ---- */

#define A(...) { __VA_ARGS__, NULL }
static const struct {
	const char *name;
	const char *args[16];
	int want;
} arg_cases[] = {
	{ "args_plain_compile", A("-x", "c", "-O2", "-g", "-c"), 0 },
	{ "args_include_dirs", A("-x", "c", "-Iinclude", "-I", "/w/inc", "-isystem", "sys",
				 "-iquote", "q", "-idirafter", "d", "-c"), 0 },
	{ "args_macros_and_forced", A("-x", "c", "-DX=1", "-D", "Y", "-UZ", "-include", "cfg.h",
				      "-imacros", "m.h", "-c"), 0 },
	{ "args_deps", A("-x", "c", "-MD", "-MF", "obj/a.d", "-MT", "a.o", "-MP", "-c"), 0 },
	{ "args_wp_deps", A("-x", "c", "-Wp,-MMD,obj/.a.o.d", "-nostdinc", "-c"), 0 },
	{ "args_pedantic", A("-x", "c", "-pedantic", "-Wpedantic", "-std=c11", "-c"), 0 },
	{ "args_no_compile", A("-x", "c", "-O2"), -EPERM },
	{ "args_no_language", A("-c", "-Iinc"), -EPERM },
	{ "args_response_file_value", A("-x", "c", "-I", "@evil", "-c"), -EPERM },
	{ "args_response_file", A("-x", "c", "@evil", "-c"), -EPERM },
	{ "args_value_eats_compile", A("-x", "c", "-I", "-c"), -EPERM },
	{ "args_missing_value", A("-x", "c", "-c", "-I"), -EPERM },
	{ "args_output", A("-x", "c", "-c", "-o", "/etc/x"), -EPERM },
	{ "args_prefix_B", A("-x", "c", "-c", "-B/w/evil/"), -EPERM },
	{ "args_plugin", A("-x", "c", "-c", "-fplugin=/w/p.so"), -EPERM },
	{ "args_wp_other", A("-x", "c", "-c", "-Wp,-MD,a.d,-include,/etc/x"), -EPERM },
	{ "args_linker", A("-x", "c", "-c", "-Wl,-T,x"), -EPERM },
	{ "args_specs", A("-x", "c", "-c", "-specs=/w/s"), -EPERM },
	/* a .S: gas after the board's cpp, the assembler's allow-list */
	{ "args_asm_cpp", A("-x", "assembler-with-cpp", "-D__ASSEMBLY__", "-Iinclude",
			    "-Wp,-MMD,arch/.a.o.d", "-Wa,--noexecstack", "-c"), 0 },
	{ "args_asm_cpp_attached", A("-xassembler-with-cpp", "-c"), 0 },
	{ "args_asm_cpp_bad_wa", A("-x", "assembler-with-cpp", "-Wa,-a=/etc/x", "-c"), -EPERM },
	{ "args_asm_cpp_two_x", A("-x", "assembler-with-cpp", "-x", "c", "-c"), -EPERM },
	{ "args_asm_cpp_x_last", A("-c", "-x"), -EPERM },
};

static void t_args(void)
{
	for (size_t i = 0; i < sizeof arg_cases / sizeof arg_cases[0]; i++) {
		T_CASE(arg_cases[i].name) {
			char why[200] = "";
			int n = 0;
			while (arg_cases[i].args[n])
				n++;
			int r = policy_check_tree_args((char *const *)arg_cases[i].args, n, why,
							   sizeof why);
			T_CHECK(r == arg_cases[i].want, "%d (%s)", r, why);
			T_CHECK(r == 0 || why[0], "a refusal says why");
		}
	}
}

/* ---- the wire ---- */

static struct store *store_at(const char *sub)
{
	char d[128];
	struct store *st = NULL;
	snprintf(d, sizeof d, "%s/%s", root, sub);
	struct store_cfg c = { .dir = d };
	T_CHECK(store_open(&c, &st) == 0, "store_open");
	return st;
}

static void input(struct job_input *in, uint8_t kind, const char *p, const char *tgt)
{
	memset(in, 0, sizeof *in);
	in->kind = kind;
	in->path = p;
	in->path_len = (uint32_t)strlen(p);
	in->target = tgt;
	in->target_len = tgt ? (uint32_t)strlen(tgt) : 0;
	in->mode = 0644;
}

static void t_wire(void)
{
	static const char a[] = "int a;\n", b[] = "int b;\n";
	struct job_blob bl[2];
	struct job_tree t;

	memset(&t, 0, sizeof t);
	sha256(a, sizeof a - 1, bl[0].hash);
	bl[0].data = (const uint8_t *)a, bl[0].len = sizeof a - 1;
	sha256(b, sizeof b - 1, bl[1].hash);
	bl[1].data = (const uint8_t *)a, bl[1].len = sizeof a - 1;	/* a's bytes, b's name */
	t.blob = bl;
	T_CASE("wire_blobs_stored") {
		struct store *st = store_at("w1");
		char why[200] = "";
		bool have[1];
		t.nblob = 1;
		T_CHECK(st && tree_wire_put_blobs(st, &t, why, sizeof why) == 0, "%s", why);
		T_CHECK(st && store_have(st, (const uint8_t(*)[32])bl[0].hash, 1, have) == 1, "stored");
		store_close(st);
	}
	T_CASE("wire_blob_hash_mismatch_refused") {
		struct store *st = store_at("w2");
		char why[200] = "";
		bool have[1];
		t.nblob = 2;
		T_CHECK(st && tree_wire_put_blobs(st, &t, why, sizeof why) == -EBADMSG, "refused");
		T_CHECK(strstr(why, "do not hash to its name"), "why: %s", why);
		T_CHECK(st && store_have(st, (const uint8_t(*)[32])bl[1].hash, 1, have) == 0,
			"nothing under the lying name");
		store_close(st);
	}
	static const struct {
		const char *name;
		uint8_t kind[2];
		const char *path[2], *tgt[2];
		int want;
	} mf[] = {
		{ "wire_manifest_ok", { JOB_IN_FILE, JOB_IN_LINK }, { "/w/a.c", "/w/l" },
		  { NULL, "a.c" }, 0 },
		{ "wire_manifest_dotdot", { JOB_IN_FILE, JOB_IN_DIR }, { "/w/../etc/x", "/w" },
		  { NULL, NULL }, -EINVAL },
		{ "wire_manifest_through_link", { JOB_IN_LINK, JOB_IN_FILE }, { "/w/l", "/w/l/x" },
		  { "/etc", NULL }, -EINVAL },
		{ "wire_manifest_duplicate", { JOB_IN_FILE, JOB_IN_DIR }, { "/w/a", "/w/a" },
		  { NULL, NULL }, -EINVAL },
		{ "wire_manifest_kind", { 7, JOB_IN_DIR }, { "/w/a", "/w/b" }, { NULL, NULL },
		  -EINVAL },
	};
	for (size_t i = 0; i < sizeof mf / sizeof mf[0]; i++) {
		T_CASE(mf[i].name) {
			struct job_input in[2];
			struct manifest m;
			char why[200] = "";
			for (int k = 0; k < 2; k++)
				input(&in[k], mf[i].kind[k], mf[i].path[k], mf[i].tgt[k]);
			t.in = in;
			t.nin = 2;
			int r = tree_wire_manifest(&t, &m, why, sizeof why);
			T_CHECK(r == mf[i].want, "%d (%s)", r, why);
			if (r == 0) {
				T_CHECK(m.checked && m.n == 2 && manifest_find(&m, "/w/a.c"), "entries");
				manifest_free(&m);
			}
		}
	}
}

/* ---- the job's own dirs ---- */

static void t_dirs(void)
{
	uid_t uid = geteuid() == 0 ? 1500099999u : geteuid();
	static const char src[] = "int x;\n";
	uint8_t h[32];

	sha256(src, sizeof src - 1, h);
	T_CASE("dirs_cwd_and_writable") {
		struct store *st = store_at("d1");
		struct manifest m;
		struct tree *t = NULL;
		struct stat sb;
		char why[256] = "", q[512];
		const char *mk[] = { "/w/proj", NULL }, *rw[] = { "/w/proj/obj/x", "/w/proj", NULL };
		manifest_init(&m);
		manifest_add_file(&m, "/w/proj/a.c", 11, h, sizeof src - 1, 0644);
		T_CHECK(st && store_put(st, h, src, sizeof src - 1) == 0, "put");
		T_CHECK(manifest_check(&m, why, sizeof why) == 0, "%s", why);
		struct tree_req rq = { st, &m, rootfd, "t1", "", NULL, mk, rw, uid, uid };
		int r = tree_build(&rq, &t, NULL, why, sizeof why);
		T_CHECK(r == 0, "build: %d %s", r, why);
		snprintf(q, sizeof q, "%s/t1/w/proj/obj/x", root);
		T_CHECK(lstat(q, &sb) == 0 && S_ISDIR(sb.st_mode) && sb.st_uid == uid &&
			(sb.st_mode & 0777) == 0755, "the output dir is the job's");
		snprintf(q, sizeof q, "%s/t1/w/proj/obj", root);
		T_CHECK(lstat(q, &sb) == 0 && sb.st_uid == 0, "on the way: root's");
		snprintf(q, sizeof q, "%s/t1/w/proj/a.c", root);
		T_CHECK(lstat(q, &sb) == 0 && sb.st_uid == geteuid() && (sb.st_mode & 0777) == 0444,
			"the input stays the store's 0444");
		tree_release(t);
		manifest_free(&m);
		store_close(st);
	}
	static const struct {
		const char *name, *rw, *ro, *job;
		int want;
	} bad[] = {
		{ "dirs_rw_holds_mount_point", "/w", "/w/tool/cc", NULL, -EPERM },
		{ "dirs_rw_under_job_dir", "/j/x/sub", "", "/j/x", -EPERM },
		{ "dirs_rw_is_proc", "/proc", "", NULL, -EPERM },
		{ "dirs_rw_through_manifest_link", "/w/l/out", "", NULL, -EPERM },
		{ "dirs_rw_at_manifest_file", "/w/proj/a.c", "", NULL, -EPERM },
		{ "dirs_rw_not_clean", "/w/../etc", "", NULL, -EINVAL },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		T_CASE(bad[i].name) {
			struct store *st = store_at("d2");
			struct manifest m;
			struct tree *t = NULL;
			struct stat sb;
			char why[256] = "", q[512], name[16];
			const char *rw[] = { bad[i].rw, NULL };
			manifest_init(&m);
			manifest_add_file(&m, "/w/proj/a.c", 11, h, sizeof src - 1, 0644);
			manifest_add_link(&m, "/w/l", 4, "/etc", 4);
			store_put(st, h, src, sizeof src - 1);
			T_CHECK(manifest_check(&m, why, sizeof why) == 0, "%s", why);
			snprintf(name, sizeof name, "b%zu", i);
			struct tree_req rq = { st, &m, rootfd, name, bad[i].ro, bad[i].job, NULL, rw,
					       uid, uid };
			int r = tree_build(&rq, &t, NULL, why, sizeof why);
			T_CHECK(r == bad[i].want, "%d (%s)", r, why);
			snprintf(q, sizeof q, "%s/%s", root, name);
			T_CHECK(lstat(q, &sb) != 0, "nothing left of the tree");
			if (r == 0)
				tree_release(t);
			manifest_free(&m);
			store_close(st);
		}
	}
}

/* ---- the board's input table ---- */

/* A JOB's tree part as the decoder leaves it: in[] and ref[] malloc'd. */
static void dict_job(struct job_tree *t, uint64_t gen, size_t nin, const char *const *path,
		     const uint32_t *id, size_t nref, const uint32_t *ref)
{
	memset(t, 0, sizeof *t);
	t->dict_gen = gen;
	t->in = calloc(nin + 1, sizeof *t->in);
	t->ref = nref ? malloc(nref * sizeof *t->ref) : NULL;
	t->nin = nin;
	t->nref = nref;
	for (size_t i = 0; i < nin; i++) {
		t->in[i].kind = JOB_IN_FILE;
		t->in[i].path = path[i];
		t->in[i].path_len = (uint32_t)strlen(path[i]);
		t->in[i].hash[0] = (uint8_t)(i + 1);
		t->in[i].size = i;
		t->in[i].mode = 0644;
		t->in[i].id = id[i];
	}
	if (nref)
		memcpy(t->ref, ref, nref * sizeof *ref);
}

static void dict_job_free(struct job_tree *t)
{
	free(t->in);
	free(t->ref);
}

/* The path of t's input i as a string (tests: short paths). */
static const char *in_path(const struct job_tree *t, size_t i)
{
	static char p[64];
	snprintf(p, sizeof p, "%.*s", (int)t->in[i].path_len, t->in[i].path);
	return p;
}

static void t_dict(void)
{
	const uint64_t g1 = 0xabcd000000000005ull;
	struct tree_dict *d = tree_dict_new();
	struct job_tree t;
	struct manifest m;
	char why[200] = "";
	size_t n;
	uint64_t bytes, gen;

	T_CASE("dict_defs_then_refs") {
		const char *p[] = { "/w/a.h", "/w/b.h", "/w/n.h" };
		const uint32_t id[] = { 0, 9, JOB_DICT_NONE };
		dict_job(&t, g1, 3, p, id, 0, NULL);
		T_CHECK(d && tree_wire_resolve(d, &t, why, sizeof why) == 0 && t.nin == 3, "%s", why);
		dict_job_free(&t);
		tree_dict_stats(d, &n, &bytes, &gen);
		T_CHECK(n == 2 && bytes == 12 && gen == g1, "kept %zu %llu", n,
			(unsigned long long)bytes);
		/* the next job: a ref to each and one new definition */
		const char *p2[] = { "/w/c.c" };
		const uint32_t id2[] = { 1 }, ref[] = { 0, 9 };
		dict_job(&t, g1, 1, p2, id2, 2, ref);
		T_CHECK(tree_wire_resolve(d, &t, why, sizeof why) == 0, "%s", why);
		T_CHECK(t.nin == 3 && t.nref == 0 && !t.ref, "made whole: %zu", t.nin);
		if (t.nin == 3) {
			/* the refs first, the inputs sent whole last (in their
			 * order: job.h toolchain_n names the last of them) */
			T_CHECK(!strcmp(in_path(&t, 0), "/w/a.h") && t.in[0].hash[0] == 1 &&
				t.in[0].size == 0 && t.in[0].id == 0, "ref 0: %s", in_path(&t, 0));
			T_CHECK(!strcmp(in_path(&t, 1), "/w/b.h") && t.in[1].hash[0] == 2 &&
				t.in[1].size == 1, "ref 9: %s", in_path(&t, 1));
			T_CHECK(!strcmp(in_path(&t, 2), "/w/c.c"), "sent whole, last: %s", in_path(&t, 2));
			T_CHECK(tree_wire_manifest(&t, &m, why, sizeof why) == 0, "manifest: %s", why);
			manifest_free(&m);
		}
		dict_job_free(&t);
	}
	T_CASE("dict_unknown_id_stale") {
		const char *p[] = { "/w/e.h" };
		const uint32_t id[] = { 20 }, ref[] = { 0, 21 };
		dict_job(&t, g1, 1, p, id, 2, ref);
		T_CHECK(tree_wire_resolve(d, &t, why, sizeof why) == -ESTALE, "stale");
		T_CHECK(t.nin == 1 && t.nref == 2, "t unchanged");
		T_CHECK(strstr(why, "1 of 2 inputs"), "why: %s", why);
		dict_job_free(&t);
		const uint32_t ref2[] = { 20 };
		dict_job(&t, g1, 0, NULL, NULL, 1, ref2);
		T_CHECK(tree_wire_resolve(d, &t, why, sizeof why) == 0 && t.nin == 1 &&
			!strcmp(in_path(&t, 0), "/w/e.h"), "the stale job's definitions kept");
		dict_job_free(&t);
	}
	T_CASE("dict_duplicate_refused_by_manifest") {
		const char *p[] = { "/w/a.h" };
		const uint32_t id[] = { JOB_DICT_NONE }, ref[] = { 0 };
		dict_job(&t, g1, 1, p, id, 1, ref);
		T_CHECK(tree_wire_resolve(d, &t, why, sizeof why) == 0, "%s", why);
		T_CHECK(tree_wire_manifest(&t, &m, why, sizeof why) == -EINVAL, "duplicate path");
		dict_job_free(&t);
	}
	T_CASE("dict_generations") {
		const uint32_t ref[] = { 0 };
		/* older counter, same base: refs stale, definitions ignored */
		const char *p[] = { "/w/old.h" };
		const uint32_t id[] = { 0 };
		dict_job(&t, g1 - 1, 1, p, id, 0, NULL);
		T_CHECK(tree_wire_resolve(d, &t, why, sizeof why) == 0, "an older job, whole");
		dict_job_free(&t);
		dict_job(&t, g1, 0, NULL, NULL, 1, ref);
		T_CHECK(tree_wire_resolve(d, &t, why, sizeof why) == 0 &&
			!strcmp(in_path(&t, 0), "/w/a.h"), "not overwritten by an older job");
		dict_job_free(&t);
		dict_job(&t, g1 - 1, 0, NULL, NULL, 1, ref);
		T_CHECK(tree_wire_resolve(d, &t, why, sizeof why) == -ESTALE, "older refs stale");
		dict_job_free(&t);
		/* a newer counter empties the table */
		dict_job(&t, g1 + 1, 0, NULL, NULL, 1, ref);
		T_CHECK(tree_wire_resolve(d, &t, why, sizeof why) == -ESTALE, "newer: emptied");
		dict_job_free(&t);
		tree_dict_stats(d, &n, &bytes, &gen);
		T_CHECK(n == 0 && bytes == 0 && gen == g1 + 1, "empty at %llx", (unsigned long long)gen);
		/* another base (another hubd), even with a lower counter: emptied */
		dict_job(&t, 0x1111000000000001ull, 1, p, id, 0, NULL);
		T_CHECK(tree_wire_resolve(d, &t, why, sizeof why) == 0, "another hubd");
		dict_job_free(&t);
		tree_dict_stats(d, &n, &bytes, &gen);
		T_CHECK(n == 1 && gen == 0x1111000000000001ull, "its table");
		/* no table at all: nothing touched */
		dict_job(&t, 0, 0, NULL, NULL, 0, NULL);
		T_CHECK(tree_wire_resolve(d, &t, why, sizeof why) == 0, "gen 0");
		dict_job_free(&t);
		tree_dict_stats(d, &n, &bytes, &gen);
		T_CHECK(n == 1, "untouched");
	}
	T_CASE("dict_text_bound") {
		/* 2100 paths of 4000 bytes are over JOB_DICT_BYTES: the last are
		 * not kept, a ref to one is stale */
		enum { N = 2100, L = 4000 };
		char *big = malloc((size_t)N * (L + 1));
		const char **p = malloc(N * sizeof *p);
		uint32_t *id = malloc(N * sizeof *id);
		T_CHECK(big && p && id, "malloc");
		if (big && p && id) {
			for (unsigned i = 0; i < N; i++) {
				char *q = big + (size_t)i * (L + 1);
				memset(q, 'x', L);
				q[0] = '/';
				snprintf(q + 1, 11, "%010u", i);
				q[11] = 'x';
				q[L] = 0;
				p[i] = q;
				id[i] = i;
			}
			dict_job(&t, g1 + 2, N, p, id, 0, NULL);
			T_CHECK(tree_wire_resolve(d, &t, why, sizeof why) == 0, "%s", why);
			dict_job_free(&t);
			tree_dict_stats(d, &n, &bytes, &gen);
			T_CHECK(n < N && bytes <= JOB_DICT_BYTES, "kept %zu, %llu bytes", n,
				(unsigned long long)bytes);
			const uint32_t ref[] = { N - 1 };
			dict_job(&t, g1 + 2, 0, NULL, NULL, 1, ref);
			T_CHECK(tree_wire_resolve(d, &t, why, sizeof why) == -ESTALE, "not kept: stale");
			dict_job_free(&t);
		}
		free(big);
		free(p);
		free(id);
	}
	tree_dict_free(d);
}

int main(void)
{
	strcpy(root, "/tmp/test_tree_job.XXXXXX");
	if (!mkdtemp(root) || (rootfd = open(root, O_RDONLY | O_DIRECTORY)) < 0) {
		printf("FAIL test_tree_job: mkdtemp\n");
		return 1;
	}
	t_args();
	t_wire();
	t_dirs();
	t_dict();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	if (system(cmd)) {
		/* leftover temp dir */
	}
	return t_done();
}
