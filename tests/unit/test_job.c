/* test_job.c — the hub<->node codec: round trips, every truncation refused,
 * trailing bytes refused, oversize counts and lengths refused, versions checked. */
#include "job.h"
#include "lz.h"
#include "telemetry.h"
#include "../lib/test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct compiler_id gcc_id = { "gcc", "x86_64-linux-gnu", "12.2.0",
					   "0123456789abcdef0123456789abcdef", "/usr/bin/gcc" };
static const struct compiler_id clang_id = { "clang", "aarch64-linux-gnu", "14.0.6",
					     "fedcba9876543210fedcba9876543210", "" };

static char *args3[] = { "-O2", "-g", "-c", NULL };
static const uint8_t input[] = "int main(void) { return 0; }\n";

static void make_job(struct job_spec *j)
{
	memset(j, 0, sizeof *j);
	j->job_id = 0x1122334455667788ull;
	j->compiler = gcc_id;
	j->d.args = args3;
	j->d.nargs = 3;
	strcpy(j->d.input_name, "a.i");
	j->d.input = input;
	j->d.input_len = sizeof input - 1;
	strcpy(j->d.output_name, "obj/a.o");
	strcpy(j->d.cwd, "/home/u/proj");
	j->d.want_dwo = true;
	j->limits.cpu_s = 60;
	j->limits.mem_bytes = 1ull << 32;
	j->limits.out_bytes = 5 << 20;
	j->limits.timeout_ms = 120000;
}

/* A JOB's bytes up to nargs, with a valid compiler identity. */
static void job_head(struct buf *b)
{
	buf_u8(b, JOB_WIRE_VERSION); buf_u8(b, JOB_MSG_JOB); buf_u64(b, 1);
	compiler_encode(b, &gcc_id);
}

static void make_result(struct job_result *r)
{
	memset(r, 0, sizeof *r);
	r->job_id = 42;
	r->o.status = 1;
	r->farm_error = 0;
	strcpy(r->o.error, "");
	r->o.out = (const uint8_t *)"out";
	r->o.out_len = 3;
	r->o.err = (const uint8_t *)"a.c:1: error: x";
	r->o.err_len = 15;
	r->o.obj = (const uint8_t *)"\x7f" "ELF\0\0\1";
	r->o.obj_len = 7;
	r->o.dwo = NULL;
	r->o.dwo_len = 0;
	r->o.wall_us = 1234;
	r->o.cpu_us = 999;
	r->node_us = 2000;
}

/* A tree job: a file, a link, a dir; two blobs. */
static const char src_txt[] = "#include \"a.h\"\nint f(void) { return A; }\n";
static const char hdr_txt[] = "#define A 1\n";
static struct job_input tree_in[3];
static struct job_blob tree_blob[2];

static void set_input(struct job_input *in, uint8_t kind, const char *path, const char *target)
{
	memset(in, 0, sizeof *in);
	in->kind = kind;
	in->path = path;
	in->path_len = (uint32_t)strlen(path);
	if (target) {
		in->target = target;
		in->target_len = (uint32_t)strlen(target);
	}
}

static void make_tree_job(struct job_spec *j)
{
	make_job(j);
	j->d.input = NULL;
	j->d.input_len = 0;
	strcpy(j->d.input_name, "src/a.c");
	j->tree = true;
	set_input(&tree_in[0], JOB_IN_FILE, "/home/u/proj/src/a.c", NULL);
	memset(tree_in[0].hash, 0xab, 32);
	tree_in[0].size = sizeof src_txt - 1;
	tree_in[0].mode = 0644;
	set_input(&tree_in[1], JOB_IN_LINK, "/home/u/proj/src/a.h", "../inc/a.h");
	set_input(&tree_in[2], JOB_IN_DIR, "/home/u/proj/obj", NULL);
	memset(tree_blob[0].hash, 0xab, 32);
	tree_blob[0].data = (const uint8_t *)src_txt;
	tree_blob[0].len = sizeof src_txt - 1;
	memset(tree_blob[1].hash, 0xcd, 32);
	tree_blob[1].data = (const uint8_t *)hdr_txt;
	tree_blob[1].len = sizeof hdr_txt - 1;
	j->t.in = tree_in;
	j->t.nin = 3;
	j->t.blob = tree_blob;
	j->t.nblob = 2;
	strcpy(j->t.deps_name, "obj/a.d");
	j->t.complete = true;
	j->d.utf8 = true;
}

static uint8_t res_missing[2][32];
static char *res_unsent[3] = { "/usr/include/stdio.h", "/home/u/proj/gen.h", NULL };

static void make_tree_result(struct job_result *r)
{
	make_result(r);
	r->farm_error = -ENOENT;
	r->o.dep = (const uint8_t *)"obj/a.o: src/a.c src/a.h\n";
	r->o.dep_len = strlen((const char *)r->o.dep);
	memset(res_missing[0], 0x11, 32);
	memset(res_missing[1], 0x22, 32);
	r->missing = res_missing;
	r->nmissing = 2;
	r->unsent = res_unsent;
	r->nunsent = 2;
}

/* The tree part of a JOB by hand, after a text job's fields with the tree
 * flag: job_head(), no args, names, cwd, flags, limits, empty input. */
static void tree_head(struct buf *b)
{
	job_head(b);
	buf_u16(b, 0); buf_str(b, "a.c"); buf_str(b, "a.o"); buf_str(b, "/w");
	buf_u8(b, 2); buf_u32(b, 0); buf_u64(b, 0); buf_u64(b, 0); buf_u32(b, 0);
	buf_u32(b, 0);
	buf_u64(b, 0);		/* no input table */
}

static void tree_tail(struct buf *b)
{
	buf_u32(b, 0);		/* no refs */
	buf_u32(b, 0);		/* no blobs */
	buf_str(b, "");
	buf_u8(b, 1);
	buf_u32(b, 0);		/* the board's own toolchain */
}

/* A JOB with one input of kind k, path p (plen bytes) and the rest. */
static int decode_one_input(uint8_t k, const char *p, size_t plen, uint64_t size, uint32_t mode,
			    const char *target, size_t tlen)
{
	struct buf b = BUF_INIT;
	struct job_spec d;
	uint8_t h[32] = { 0 };
	int rc;

	tree_head(&b);
	buf_u32(&b, 1);
	buf_u8(&b, k);
	buf_u16(&b, (uint16_t)plen);
	buf_put(&b, p, plen);
	if (k == JOB_IN_FILE) {
		buf_put(&b, h, 32); buf_u64(&b, size); buf_u32(&b, mode);
	} else if (k == JOB_IN_LINK) {
		buf_u16(&b, (uint16_t)tlen);
		buf_put(&b, target, tlen);
	}
	buf_u32(&b, JOB_DICT_NONE);
	tree_tail(&b);
	rc = job_decode_job(b.data, b.len, &d);
	if (rc == 0)
		job_spec_free(&d);
	buf_free(&b);
	return rc;
}

/* One decoder, type-erased, for the truncation/trailing tables. */
static int decode_any(enum job_msg_type t, const uint8_t *p, size_t n)
{
	int rc;
	switch (t) {
	case JOB_MSG_JOB: {
		struct job_spec j;
		rc = job_decode_job(p, n, &j);
		if (rc == 0)
			job_spec_free(&j);
		return rc;
	}
	case JOB_MSG_RESULT: {
		struct job_result r;
		rc = job_decode_result(p, n, &r);
		if (rc == 0)
			job_result_free(&r);
		return rc;
	}
	case JOB_MSG_CANCEL: {
		uint64_t id;
		return job_decode_cancel(p, n, &id);
	}
	case JOB_MSG_TELEMETRY: {
		struct job_telemetry tl;
		return job_decode_telemetry(p, n, &tl);
	}
	case JOB_MSG_NODEINFO: {
		struct job_nodeinfo ni;
		rc = job_decode_nodeinfo(p, n, &ni);
		if (rc == 0)
			job_nodeinfo_free(&ni);
		return rc;
	}
	}
	return -EINVAL;
}

/* A tree job's .d packed against its inputs (job_dep.c): the way back. */
static void t_dep_pack(void)
{
	enum { N = 120 };
	static char paths[N][96];
	struct job_input in[N];
	struct buf dep = BUF_INIT;
	const char *cwd = "/home/u/linux";

	memset(in, 0, sizeof in);
	buf_put(&dep, "init/main.o: init/main.c", 24);
	for (int i = 0; i < N; i++) {
		static const char *const w[] = { "sched", "mm", "fs", "net", "irq", "time", "cpu",
						 "page", "list", "spinlock", "atomic", "bitops" };
		unsigned h = (unsigned)i * 2654435761u;
		snprintf(paths[i], sizeof paths[i], "%s/%s/%s/%s_%s%u.h", cwd,
			 i % 2 ? "include/linux" : "arch/x86/include/asm", w[h % 12],
			 w[(h >> 8) % 12], w[(h >> 16) % 12], (h >> 24) % 97);
		in[i].kind = JOB_IN_FILE;
		in[i].path = paths[N - 1 - i];	/* another order than the .d's */
		in[i].path_len = (uint32_t)strlen(in[i].path);
	}
	for (int i = 0; i < N; i++) {	/* the .d names them relative, in include order */
		buf_put(&dep, " \\\n  ", 5);
		buf_put(&dep, paths[i] + strlen(cwd) + 1, strlen(paths[i]) - strlen(cwd) - 1);
	}
	buf_put(&dep, "\n", 1);
	T_CASE("dep_pack_roundtrip") {
		struct job_result r, d;
		struct buf b = BUF_INIT;
		uint8_t *z;
		size_t zl = 0;
		memset(&r, 0, sizeof r);
		r.job_id = 5;
		r.o.dep = dep.data;
		r.o.dep_len = dep.len;
		T_CHECK(job_result_pack_dep(&r, in, N, cwd) == 1 && r.dep_lz, "packed");
		T_CHECK(lz_compress(dep.data, dep.len, &z, &zl) == 1, "lz");
		free(z);
		T_CHECK(r.o.dep_len * 3 < zl * 2, "packed %zu bytes, LZO alone %zu, raw %zu", r.o.dep_len,
			zl, dep.len);
		T_CHECK(job_encode_result(&b, &r) == 0 && job_decode_result(b.data, b.len, &d) == 0 &&
			d.dep_lz, "on the wire");
		const char *seeds = getenv("TEST_JOB_SEEDS");
		if (seeds) {	/* a fuzz seed with a packed .d */
			char path[4096];
			snprintf(path, sizeof path, "%s/result_dep_packed", seeds);
			FILE *f = fopen(path, "wb");
			T_CHECK(f && fwrite(b.data, 1, b.len, f) == b.len && fclose(f) == 0, "seed");
		}
		/* the hub's inputs in yet another order: the same dictionary */
		struct job_input rev[N];
		for (int i = 0; i < N; i++)
			rev[i] = in[(i * 7) % N];
		T_CHECK(job_result_unpack_dep(&d, rev, N, cwd) == 0 && !d.dep_lz &&
			d.o.dep_len == dep.len && !memcmp(d.o.dep, dep.data, dep.len), "unpacked");
		job_result_free(&d);
		/* other inputs: the CRC refuses what another dictionary makes */
		T_CHECK(job_decode_result(b.data, b.len, &d) == 0, "decode");
		T_CHECK(job_result_unpack_dep(&d, in, N - 1, cwd) == -EBADMSG, "other inputs");
		job_result_free(&d);
		T_CHECK(job_decode_result(b.data, b.len, &d) == 0, "decode");
		T_CHECK(job_result_unpack_dep(&d, in, N, "/home/u") == -EBADMSG, "other cwd");
		job_result_free(&d);
		/* every corruption of the packed bytes and every truncation refused */
		size_t bad = 0;
		for (size_t i = 0; i < r.o.dep_len; i++) {
			struct job_result c = r;
			uint8_t tmp[8192];
			memcpy(tmp, r.o.dep, r.o.dep_len);
			tmp[i] ^= 0x5a;
			c.o.dep = tmp;
			c.dep_buf = NULL;
			if (job_result_unpack_dep(&c, in, N, cwd) == 0 &&
			    !(c.o.dep_len == dep.len && !memcmp(c.o.dep, dep.data, dep.len)))
				bad++;
			free(c.dep_buf);
			c = r;
			c.o.dep_len = i;
			c.dep_buf = NULL;
			if (job_result_unpack_dep(&c, in, N, cwd) == 0)
				bad++;
			free(c.dep_buf);
		}
		T_CHECK(bad == 0, "%zu corrupt or short forms decoded to other bytes", bad);
		/* dep_lz other than 0/1 on the wire */
		b.data[b.len - 8 - 1] = 2;
		T_CHECK(job_decode_result(b.data, b.len, &d) == -EPROTO, "dep_lz 2");
		buf_free(&b);
		free(r.dep_buf);
		/* small or not packed: unchanged */
		memset(&r, 0, sizeof r);
		r.o.dep = (const uint8_t *)"a.o: a.c\n";
		r.o.dep_len = 9;
		T_CHECK(job_result_pack_dep(&r, in, N, cwd) == 0 && !r.dep_lz && r.o.dep_len == 9,
			"small .d as it is");
		T_CHECK(job_result_unpack_dep(&r, in, N, cwd) == 0 && r.o.dep_len == 9, "unpacked");
	}
	buf_free(&dep);
}

int main(void)
{
#define NMSG 8
	struct buf msgs[NMSG] = { BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT,
				  BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT };
	enum job_msg_type types[NMSG] = { JOB_MSG_JOB, JOB_MSG_RESULT, JOB_MSG_CANCEL,
					  JOB_MSG_TELEMETRY, JOB_MSG_NODEINFO, JOB_MSG_JOB,
					  JOB_MSG_JOB, JOB_MSG_RESULT };

	T_CASE("job_roundtrip") {
		struct job_spec j, d;
		make_job(&j);
		T_CHECK(job_encode_job(&msgs[0], &j) == 0 && buf_ok(&msgs[0]), "encode");
		T_CHECK(job_decode_job(msgs[0].data, msgs[0].len, &d) == 0, "decode");
		T_CHECK(d.job_id == j.job_id, "id");
		T_CHECK(!strcmp(d.compiler.kind, "gcc") && !strcmp(d.compiler.triple, gcc_id.triple) &&
			!strcmp(d.compiler.version, "12.2.0") &&
			!strcmp(d.compiler.fingerprint, gcc_id.fingerprint), "compiler");
		T_CHECK(d.compiler.path[0] == 0, "path must not travel");
		T_CHECK(d.d.nargs == 3 && !strcmp(d.d.args[0], "-O2") && !strcmp(d.d.args[2], "-c") &&
			d.d.args[3] == NULL, "args");
		T_CHECK(!strcmp(d.d.input_name, "a.i") && !strcmp(d.d.output_name, "obj/a.o"), "names");
		T_CHECK(!strcmp(d.d.cwd, "/home/u/proj"), "hub_cwd '%s'", d.d.cwd);
		T_CHECK(d.d.input_len == j.d.input_len && !memcmp(d.d.input, input, j.d.input_len), "input");
		T_CHECK(d.d.want_dwo && d.limits.cpu_s == 60 && d.limits.mem_bytes == 1ull << 32 &&
			d.limits.out_bytes == 5 << 20 && d.limits.timeout_ms == 120000, "limits");
		job_spec_free(&d);
	}
	T_CASE("job_zero_args_empty_input") {
		struct job_spec j, d;
		struct buf b = BUF_INIT;
		make_job(&j);
		j.d.nargs = 0;
		j.d.input = NULL;
		j.d.input_len = 0;
		T_CHECK(job_encode_job(&msgs[5], &j) == 0, "encode");
		T_CHECK(job_decode_job(msgs[5].data, msgs[5].len, &d) == 0, "decode");
		T_CHECK(d.d.nargs == 0 && d.d.args && d.d.args[0] == NULL && d.d.input_len == 0, "empty");
		job_spec_free(&d);
		buf_free(&b);
	}
	T_CASE("result_roundtrip") {
		struct job_result r, d;
		make_result(&r);
		T_CHECK(job_encode_result(&msgs[1], &r) == 0, "encode");
		T_CHECK(job_decode_result(msgs[1].data, msgs[1].len, &d) == 0, "decode");
		T_CHECK(d.job_id == 42 && d.o.status == 1 && d.farm_error == 0, "ids");
		T_CHECK(d.o.out_len == 3 && !memcmp(d.o.out, "out", 3), "out");
		T_CHECK(d.o.err_len == 15 && !memcmp(d.o.err, r.o.err, 15), "err");
		T_CHECK(d.o.obj_len == 7 && !memcmp(d.o.obj, r.o.obj, 7), "obj");
		T_CHECK(d.o.dwo_len == 0, "dwo");
		T_CHECK(d.o.wall_us == 1234 && d.o.cpu_us == 999 && d.node_us == 2000, "times");
	}
	T_CASE("result_farm_error") {
		struct job_result r, d;
		struct buf b = BUF_INIT;
		make_result(&r);
		r.farm_error = -ENOENT;
		strcpy(r.o.error, "no such compiler");
		T_CHECK(job_encode_result(&b, &r) == 0, "encode");
		T_CHECK(job_decode_result(b.data, b.len, &d) == 0, "decode");
		T_CHECK(d.farm_error == -ENOENT && !strcmp(d.o.error, "no such compiler"), "farm error");
		buf_free(&b);
	}
	T_CASE("cancel_roundtrip") {
		uint64_t id = 0;
		job_encode_cancel(&msgs[2], 77);
		T_CHECK(job_decode_cancel(msgs[2].data, msgs[2].len, &id) == 0 && id == 77, "cancel");
	}
	T_CASE("telemetry_roundtrip") {
		struct job_telemetry t = { 1500, 2, 4, 61234, 1200000, 1800000, 4000000, 3000000,
					   1ull << 33, 70000, 123456, 789, 3 }, d;
		job_encode_telemetry(&msgs[3], &t);
		T_CHECK(job_decode_telemetry(msgs[3].data, msgs[3].len, &d) == 0, "decode");
		T_CHECK(!memcmp(&t, &d, sizeof t), "fields differ");
		struct job_telemetry r;
		telemetry_read(&r);
		T_CHECK(r.mem_total_kb > 0, "/proc/meminfo not read");
	}
	T_CASE("nodeinfo_roundtrip") {
		struct compiler_id list[2] = { gcc_id, clang_id };
		struct job_nodeinfo ni = { 4, true, "board-1", list, 2, 0x8877665544332211ull,
					   2ull << 30 }, d;
		T_CHECK(job_encode_nodeinfo(&msgs[4], &ni, 1024) == 2, "encode");
		T_CHECK(msgs[4].len <= 1024, "too long");
		T_CHECK(job_decode_nodeinfo(msgs[4].data, msgs[4].len, &d) == 0, "decode");
		T_CHECK(d.slots == 4 && d.complete && !strcmp(d.name, "board-1") && d.ncompilers == 2,
			"fields");
		T_CHECK(d.store_id == ni.store_id && d.store_cap == 2ull << 30, "store");
		T_CHECK(d.ncompilers == 2 && !strcmp(d.compilers[1].kind, "clang") &&
			!strcmp(d.compilers[1].triple, "aarch64-linux-gnu") &&
			!strcmp(d.compilers[0].fingerprint, gcc_id.fingerprint), "compilers");
		job_nodeinfo_free(&d);
	}
	T_CASE("nodeinfo_cut_to_hello_size") {
		struct compiler_id many[40];
		struct buf b = BUF_INIT;
		struct job_nodeinfo d;
		for (int i = 0; i < 40; i++)
			many[i] = i % 2 ? clang_id : gcc_id;
		struct job_nodeinfo ni = { 2, true, "n", many, 40, 0, 0 };
		int n = job_encode_nodeinfo(&b, &ni, 1024);
		T_CHECK(n > 0 && n < 40, "encoded %d", n);
		T_CHECK(b.len <= 1024, "blob %zu > 1024", b.len);
		T_CHECK(job_decode_nodeinfo(b.data, b.len, &d) == 0 && !d.complete &&
			d.ncompilers == (size_t)n, "incomplete flag");
		job_nodeinfo_free(&d);
		buf_free(&b);
		/* Unlimited: all of them, complete. */
		T_CHECK(job_encode_nodeinfo(&b, &ni, 1 << 20) == 40, "full list");
		T_CHECK(job_decode_nodeinfo(b.data, b.len, &d) == 0 && d.complete &&
			d.ncompilers == 40, "full decode");
		job_nodeinfo_free(&d);
		buf_free(&b);
	}
	T_CASE("tree_job_roundtrip") {
		struct job_spec j, d;
		make_tree_job(&j);
		T_CHECK(job_encode_job(&msgs[6], &j) == 0 && buf_ok(&msgs[6]), "encode");
		T_CHECK(job_decode_job(msgs[6].data, msgs[6].len, &d) == 0, "decode");
		T_CHECK(d.tree && d.d.want_dwo && d.d.utf8 && d.d.input_len == 0 && d.t.complete,
			"flags");
		T_CHECK(!strcmp(d.d.input_name, "src/a.c") && !strcmp(d.t.deps_name, "obj/a.d"),
			"names");
		T_CHECK(d.t.nin == 3 && d.t.nblob == 2, "counts %zu %zu", d.t.nin, d.t.nblob);
		if (d.t.nin == 3 && d.t.nblob == 2) {
			const struct job_input *f = &d.t.in[0], *l = &d.t.in[1], *dir = &d.t.in[2];
			T_CHECK(f->kind == JOB_IN_FILE && f->path_len == 20 &&
				!memcmp(f->path, "/home/u/proj/src/a.c", 20) &&
				!memcmp(f->hash, tree_in[0].hash, 32) && f->size == sizeof src_txt - 1 &&
				f->mode == 0644 && !f->target, "file");
			T_CHECK(l->kind == JOB_IN_LINK && l->target_len == 10 &&
				!memcmp(l->target, "../inc/a.h", 10) && l->size == 0, "link");
			T_CHECK(dir->kind == JOB_IN_DIR && dir->path_len == 16, "dir");
			/* views into the message, not copies */
			T_CHECK((const uint8_t *)f->path > msgs[6].data &&
				(const uint8_t *)f->path < msgs[6].data + msgs[6].len, "path view");
			T_CHECK(d.t.blob[1].len == sizeof hdr_txt - 1 &&
				!memcmp(d.t.blob[1].data, hdr_txt, d.t.blob[1].len) &&
				d.t.blob[1].hash[0] == 0xcd && d.t.blob[0].hash[31] == 0xab, "blobs");
			T_CHECK(d.t.blob[0].data > msgs[6].data &&
				d.t.blob[0].data < msgs[6].data + msgs[6].len, "blob view");
		}
		job_spec_free(&d);
		T_CHECK(d.t.in == NULL && d.t.blob == NULL, "freed");
	}
	T_CASE("tree_job_toolchain_n") {
		/* the hub's toolchain in the tree: the last n inputs, the
		 * first of them a file or a link */
		struct job_spec j, d;
		struct buf b = BUF_INIT;
		make_tree_job(&j);
		j.t.toolchain_n = 2;	/* the link and the dir: the driver a link */
		T_CHECK(job_encode_job(&b, &j) == 0, "encode 2");
		T_CHECK(job_decode_job(b.data, b.len, &d) == 0 && d.t.toolchain_n == 2, "decode 2");
		job_spec_free(&d);
		buf_free(&b);
		j.t.toolchain_n = 3;
		T_CHECK(job_encode_job(&b, &j) == 0, "encode all");
		T_CHECK(job_decode_job(b.data, b.len, &d) == 0 && d.t.toolchain_n == 3, "decode all");
		job_spec_free(&d);
		buf_free(&b);
		j.t.toolchain_n = 0;
		T_CHECK(job_encode_job(&b, &j) == 0 && job_decode_job(b.data, b.len, &d) == 0 &&
			d.t.toolchain_n == 0, "none: the board's own");
		job_spec_free(&d);
		buf_free(&b);
		/* the encoder refuses what the decoder would */
		j.t.toolchain_n = 1;	/* the first of them a dir */
		T_CHECK(job_encode_job(&b, &j) == -EINVAL && b.len == 0, "encode: driver a dir");
		j.t.toolchain_n = 4;
		T_CHECK(job_encode_job(&b, &j) == -EINVAL && b.len == 0, "encode: over nin");
		buf_free(&b);
		/* by hand: the decoder refuses both */
		uint8_t h[32] = { 0 };
		for (uint32_t n = 1; n <= 2; n++) {
			tree_head(&b);
			buf_u32(&b, 1);
			buf_u8(&b, n == 1 ? JOB_IN_DIR : JOB_IN_FILE);
			buf_u16(&b, 2); buf_put(&b, "/d", 2);
			if (n == 2) {
				buf_put(&b, h, 32); buf_u64(&b, 0); buf_u32(&b, 0555);
			}
			buf_u32(&b, JOB_DICT_NONE);
			buf_u32(&b, 0); buf_u32(&b, 0); buf_str(&b, ""); buf_u8(&b, 1);
			buf_u32(&b, n);	/* 1: a dir as the driver; 2: more than nin */
			T_CHECK(job_decode_job(b.data, b.len, &d) == -EPROTO, "decode refuses %u", n);
			buf_free(&b);
		}
		/* and a file as the driver is fine */
		tree_head(&b);
		buf_u32(&b, 1);
		buf_u8(&b, JOB_IN_FILE);
		buf_u16(&b, 2); buf_put(&b, "/d", 2);
		buf_put(&b, h, 32); buf_u64(&b, 0); buf_u32(&b, 0555);
		buf_u32(&b, JOB_DICT_NONE);
		buf_u32(&b, 0); buf_u32(&b, 0); buf_str(&b, ""); buf_u8(&b, 1); buf_u32(&b, 1);
		T_CHECK(job_decode_job(b.data, b.len, &d) == 0 && d.t.toolchain_n == 1, "a file");
		job_spec_free(&d);
		buf_free(&b);
		/* with an input table: the toolchain is sent whole, never kept
		 * in the board's table (it must stay the last of the inputs) */
		j.t.dict_gen = 7;
		j.t.toolchain_n = 2;
		for (size_t i = 0; i < j.t.nin; i++)
			j.t.in[i].id = JOB_DICT_NONE;
		j.t.in[0].id = 5;	/* the job's own input: fine */
		T_CHECK(job_encode_job(&b, &j) == 0 && job_decode_job(b.data, b.len, &d) == 0 &&
			d.t.toolchain_n == 2 && d.t.in[0].id == 5, "table: own input by id");
		job_spec_free(&d);
		buf_free(&b);
		j.t.in[j.t.nin - 1].id = 6;	/* a toolchain entry by id */
		T_CHECK(job_encode_job(&b, &j) == -EINVAL && b.len == 0, "table: toolchain entry by id");
		buf_free(&b);
	}
	T_CASE("tree_job_table_roundtrip") {
		/* ids on inputs, refs as varint deltas: 0, 1, 127, 128, 16384,
		 * JOB_DICT_MAX - 1 (one to three bytes each) */
		static uint32_t refs[] = { 0, 1, 128, 255, 16639, JOB_DICT_MAX - 1 };
		struct job_spec j, d;
		struct buf b = BUF_INIT;
		make_tree_job(&j);
		j.t.dict_gen = 0x1234567800000002ull;
		tree_in[0].id = 7;
		tree_in[1].id = JOB_DICT_NONE;
		tree_in[2].id = JOB_DICT_MAX - 2;
		j.t.ref = refs;
		j.t.nref = 6;
		T_CHECK(job_encode_job(&b, &j) == 0 && buf_ok(&b), "encode");
		T_CHECK(job_decode_job(b.data, b.len, &d) == 0, "decode");
		T_CHECK(d.t.dict_gen == j.t.dict_gen && d.t.nin == 3 && d.t.nref == 6, "counts");
		if (d.t.nin == 3 && d.t.nref == 6) {
			T_CHECK(d.t.in[0].id == 7 && d.t.in[1].id == JOB_DICT_NONE &&
				d.t.in[2].id == JOB_DICT_MAX - 2, "ids");
			T_CHECK(!memcmp(d.t.ref, refs, sizeof refs), "refs");
		}
		job_spec_free(&d);
		T_CHECK(d.t.ref == NULL && d.t.nref == 0, "freed");
		const char *seeds = getenv("TEST_JOB_SEEDS");
		if (seeds) {	/* a fuzz seed with a table (see the end of main) */
			char path[4096];
			snprintf(path, sizeof path, "%s/job_tree_table", seeds);
			FILE *f = fopen(path, "wb");
			T_CHECK(f && fwrite(b.data, 1, b.len, f) == b.len && fclose(f) == 0, "seed");
		}
		/* every truncation refused */
		for (size_t n = 0; n < b.len; n++)
			if (job_decode_job(b.data, n, &d) == 0) {
				job_spec_free(&d);
				T_CHECK(0, "truncated at %zu decoded", n);
				break;
			}
		buf_free(&b);
		/* the encoder refuses refs out of order, out of range, refs or
		 * ids without a table */
		refs[1] = 0;
		T_CHECK(job_encode_job(&b, &j) == -EINVAL, "refs not increasing");
		refs[1] = 1;
		refs[5] = JOB_DICT_MAX;
		T_CHECK(job_encode_job(&b, &j) == -EINVAL, "ref over the table");
		refs[5] = JOB_DICT_MAX - 1;
		tree_in[0].id = JOB_DICT_MAX;
		T_CHECK(job_encode_job(&b, &j) == -EINVAL, "id over the table");
		tree_in[0].id = 7;
		j.t.dict_gen = 0;
		T_CHECK(job_encode_job(&b, &j) == -EINVAL, "refs without a table");
		j.t.nref = 0;
		T_CHECK(job_encode_job(&b, &j) == 0 && job_decode_job(b.data, b.len, &d) == 0 &&
			d.t.in[0].id == JOB_DICT_NONE, "no table: ids not sent");
		job_spec_free(&d);
		buf_free(&b);
		tree_in[0].id = tree_in[1].id = tree_in[2].id = 0;
	}
	T_CASE("tree_job_table_hostile") {
		struct buf b = BUF_INIT;
		struct job_spec d;
		/* a table id with no table */
		tree_head(&b);
		b.len -= 8;
		buf_u64(&b, 0);
		buf_u32(&b, 1); buf_u8(&b, JOB_IN_DIR); buf_u16(&b, 1); buf_u8(&b, '/');
		buf_u32(&b, 3);
		tree_tail(&b);
		T_CHECK(job_decode_job(b.data, b.len, &d) == -EPROTO, "id without a table");
		buf_free(&b);
		/* refs: without a table, count over the bytes, a zero delta, a
		 * varint with a needless zero, a varint over 32 bits, over the table */
		static const struct { uint64_t gen; uint32_t n; const char *v; size_t len;
				      const char *what; } bad[] = {
			{ 0, 1, "\x01", 1, "ref without a table" },
			{ 5, 100, "\x01\x01", 2, "count over the bytes" },
			{ 5, 2, "\x01\x00", 2, "zero delta" },
			{ 5, 1, "\x81\x00", 2, "needless zero byte" },
			{ 5, 1, "\xff\xff\xff\xff\x1f", 5, "over 32 bits" },
			{ 5, 1, "\x80\x80\x04", 3, "ref = JOB_DICT_MAX" },
			{ 5, 2, "\xff\xff\x03\x01", 4, "second ref = JOB_DICT_MAX" },
		};
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			tree_head(&b);
			b.len -= 8;
			buf_u64(&b, bad[i].gen);
			buf_u32(&b, 0);
			buf_u32(&b, bad[i].n);
			buf_put(&b, bad[i].v, bad[i].len);
			buf_u32(&b, 0); buf_str(&b, ""); buf_u8(&b, 1); buf_u32(&b, 0);
			T_CHECK(job_decode_job(b.data, b.len, &d) == -EPROTO, "%s", bad[i].what);
			buf_free(&b);
		}
		/* and the same form well made decodes */
		tree_head(&b);
		b.len -= 8;
		buf_u64(&b, 5); buf_u32(&b, 0); buf_u32(&b, 2);
		buf_put(&b, "\xfe\xff\x03", 3);
		buf_put(&b, "\x01", 1);
		buf_u32(&b, 0); buf_str(&b, ""); buf_u8(&b, 1); buf_u32(&b, 0);
		T_CHECK(job_decode_job(b.data, b.len, &d) == 0 && d.t.nref == 2 &&
			d.t.ref[0] == JOB_DICT_MAX - 2 && d.t.ref[1] == JOB_DICT_MAX - 1, "good refs");
		job_spec_free(&d);
		buf_free(&b);
	}
	T_CASE("tree_job_empty_and_incomplete") {
		struct job_spec j, d;
		struct buf b = BUF_INIT;
		make_tree_job(&j);
		j.t.nin = 0;
		j.t.nblob = 0;
		j.t.deps_name[0] = 0;
		j.t.complete = false;
		T_CHECK(job_encode_job(&b, &j) == 0, "encode");
		T_CHECK(job_decode_job(b.data, b.len, &d) == 0 && d.tree && !d.t.complete &&
			d.t.nin == 0 && !d.t.in && d.t.deps_name[0] == 0, "decode");
		job_spec_free(&d);
		buf_free(&b);
		/* a text job carries no tree part even when t is set */
		make_tree_job(&j);
		j.tree = false;
		T_CHECK(job_encode_job(&b, &j) == 0, "text encode");
		T_CHECK(job_decode_job(b.data, b.len, &d) == 0 && !d.tree && d.t.nin == 0 && d.d.utf8,
			"text (utf8 travels with text jobs too)");
		job_spec_free(&d);
		buf_free(&b);
	}
	T_CASE("tree_result_roundtrip") {
		struct job_result r, d;
		make_tree_result(&r);
		T_CHECK(job_encode_result(&msgs[7], &r) == 0, "encode");
		T_CHECK(job_decode_result(msgs[7].data, msgs[7].len, &d) == 0, "decode");
		T_CHECK(d.farm_error == -ENOENT && d.o.dep_len == r.o.dep_len &&
			!memcmp(d.o.dep, r.o.dep, r.o.dep_len), "dep");
		T_CHECK(d.nmissing == 2 && d.missing && d.missing[0][0] == 0x11 &&
			d.missing[1][31] == 0x22, "missing");
		T_CHECK(d.nunsent == 2 && d.unsent && !strcmp(d.unsent[0], res_unsent[0]) &&
			!strcmp(d.unsent[1], res_unsent[1]) && d.unsent[2] == NULL, "unsent");
		job_result_free(&d);
		T_CHECK(!d.missing && !d.unsent && !d.nmissing && !d.nunsent, "freed");
		job_result_free(&d);	/* twice is harmless */
	}
	T_CASE("tree_input_checks") {
		char lng[JOB_INPUT_PATH_MAX + 1];
		lng[0] = '/';
		memset(lng + 1, 'p', sizeof lng - 1);
		T_CHECK(decode_one_input(JOB_IN_FILE, "/a", 2, 10, 0755, NULL, 0) == 0, "good file");
		T_CHECK(decode_one_input(JOB_IN_LINK, "/l", 2, 0, 0, "t", 1) == 0, "good link");
		T_CHECK(decode_one_input(JOB_IN_DIR, "/d", 2, 0, 0, NULL, 0) == 0, "good dir");
		T_CHECK(decode_one_input(JOB_IN_DIR, lng, JOB_INPUT_PATH_MAX, 0, 0, NULL, 0) == 0,
			"path at the cap");
		T_CHECK(decode_one_input(JOB_IN_DIR, lng, JOB_INPUT_PATH_MAX + 1, 0, 0, NULL, 0) ==
			-EPROTO, "path over the cap");
		T_CHECK(decode_one_input(JOB_IN_DIR, "", 0, 0, 0, NULL, 0) == -EPROTO, "empty path");
		T_CHECK(decode_one_input(JOB_IN_DIR, "rel", 3, 0, 0, NULL, 0) == -EPROTO, "relative");
		T_CHECK(decode_one_input(JOB_IN_DIR, "/a\0b", 4, 0, 0, NULL, 0) == -EPROTO,
			"NUL in path");
		T_CHECK(decode_one_input(3, "/a", 2, 0, 0, NULL, 0) == -EPROTO, "kind 3");
		T_CHECK(decode_one_input(JOB_IN_FILE, "/a", 2, JOB_BLOB_MAX + 1ull, 0644, NULL, 0) ==
			-EPROTO, "size over the cap");
		T_CHECK(decode_one_input(JOB_IN_FILE, "/a", 2, JOB_BLOB_MAX, 0644, NULL, 0) == 0,
			"size at the cap");
		T_CHECK(decode_one_input(JOB_IN_FILE, "/a", 2, 1, 010644, NULL, 0) == -EPROTO,
			"file type bits in mode");
		T_CHECK(decode_one_input(JOB_IN_LINK, "/l", 2, 0, 0, "", 0) == -EPROTO, "empty target");
		T_CHECK(decode_one_input(JOB_IN_LINK, "/l", 2, 0, 0, "a\0", 2) == -EPROTO,
			"NUL in target");
		T_CHECK(decode_one_input(JOB_IN_LINK, "/l", 2, 0, 0, lng, JOB_INPUT_PATH_MAX + 1) ==
			-EPROTO, "target over the cap");
	}
	T_CASE("tree_caps_refused") {
		struct buf b = BUF_INIT;
		struct job_spec d;
		/* counts over their caps */
		tree_head(&b);
		buf_u32(&b, JOB_MAX_INPUTS + 1);
		T_CHECK(job_decode_job(b.data, b.len, &d) == -EPROTO, "inputs cap");
		buf_free(&b);
		/* a count at the cap with too few bytes behind it: refused
		 * before anything is allocated for it */
		tree_head(&b);
		buf_u32(&b, JOB_MAX_INPUTS);
		buf_u8(&b, JOB_IN_DIR); buf_u16(&b, 1); buf_u8(&b, '/');
		T_CHECK(job_decode_job(b.data, b.len, &d) == -EPROTO, "inputs count vs bytes");
		buf_free(&b);
		tree_head(&b);
		buf_u32(&b, 0); buf_u32(&b, 0); buf_u32(&b, JOB_MAX_BLOBS + 1);
		T_CHECK(job_decode_job(b.data, b.len, &d) == -EPROTO, "blobs cap");
		buf_free(&b);
		/* one blob over JOB_BLOB_MAX */
		uint8_t h[32] = { 0 };
		tree_head(&b);
		buf_u32(&b, 0); buf_u32(&b, 0); buf_u32(&b, 1); buf_put(&b, h, 32); buf_u32(&b, JOB_BLOB_MAX + 1);
		T_CHECK(job_decode_job(b.data, b.len, &d) == -EPROTO, "blob cap");
		buf_free(&b);
		/* blobs over JOB_MAX_INPUT in all: two of 100 MiB */
		size_t big = 100u << 20;
		uint8_t *zero = calloc(1, big);
		T_CHECK(zero != NULL, "calloc");
		if (zero) {
			tree_head(&b);
			buf_u32(&b, 0); buf_u32(&b, 0); buf_u32(&b, 2);
			buf_put(&b, h, 32); buf_blob(&b, zero, big);
			buf_put(&b, h, 32); buf_blob(&b, zero, big);
			tree_tail(&b);
			T_CHECK(buf_ok(&b) && job_decode_job(b.data, b.len, &d) == -EPROTO,
				"blob bytes cap");
			buf_free(&b);
		}
		free(zero);
		/* deps_name over its cap; complete other than 0/1 */
		char name[JOB_NAME_MAX + 1];
		memset(name, 'n', sizeof name - 1);
		name[sizeof name - 1] = 0;
		tree_head(&b);
		buf_u32(&b, 0); buf_u32(&b, 0); buf_u32(&b, 0); buf_str(&b, name); buf_u8(&b, 1);
		buf_u32(&b, 0);
		T_CHECK(job_decode_job(b.data, b.len, &d) == -EPROTO, "deps_name cap");
		buf_free(&b);
		tree_head(&b);
		buf_u32(&b, 0); buf_u32(&b, 0); buf_u32(&b, 0); buf_str(&b, "a.d"); buf_u8(&b, 2);
		buf_u32(&b, 0);
		T_CHECK(job_decode_job(b.data, b.len, &d) == -EPROTO, "complete 2");
		buf_free(&b);
		tree_head(&b);
		buf_u32(&b, 0); buf_u32(&b, 0); buf_u32(&b, 0); buf_str(&b, "a.d"); buf_u8(&b, 1);
		buf_u32(&b, 0);
		T_CHECK(job_decode_job(b.data, b.len, &d) == 0, "the same well-formed refused");
		job_spec_free(&d);
		buf_free(&b);
		/* a tree job with text input */
		job_head(&b);
		buf_u16(&b, 0); buf_str(&b, "a.c"); buf_str(&b, "a.o"); buf_str(&b, "/w");
		buf_u8(&b, 2); buf_u32(&b, 0); buf_u64(&b, 0); buf_u64(&b, 0); buf_u32(&b, 0);
		buf_blob(&b, "x", 1);
		tree_tail(&b);
		T_CHECK(job_decode_job(b.data, b.len, &d) == -EPROTO, "tree with input");
		buf_free(&b);
	}
	T_CASE("tree_result_caps_refused") {
		struct buf b = BUF_INIT;
		struct job_result r;
		/* RESULT's fields up to dwo, then the tail under test */
#define RES_HEAD() do { buf_u8(&b, JOB_WIRE_VERSION); buf_u8(&b, JOB_MSG_RESULT); \
		buf_u64(&b, 1); buf_u32(&b, 0); buf_u32(&b, (uint32_t)-EXDEV); buf_str(&b, ""); \
		buf_u64(&b, 0); buf_u64(&b, 0); buf_u64(&b, 0); \
		for (int k = 0; k < 4; k++) buf_u32(&b, 0); } while (0)
		RES_HEAD(); buf_u32(&b, JOB_MAX_TEXT + 1);
		T_CHECK(job_decode_result(b.data, b.len, &r) == -EPROTO, "dep cap");
		buf_free(&b);
		RES_HEAD(); buf_u32(&b, 0); buf_u8(&b, 0); buf_u32(&b, JOB_MAX_NAMES + 1);
		T_CHECK(job_decode_result(b.data, b.len, &r) == -EPROTO, "missing cap");
		buf_free(&b);
		RES_HEAD(); buf_u32(&b, 0); buf_u8(&b, 0); buf_u32(&b, 0); buf_u32(&b, JOB_MAX_NAMES + 1);
		T_CHECK(job_decode_result(b.data, b.len, &r) == -EPROTO, "unsent cap");
		buf_free(&b);
		static const struct { const char *s; size_t n; int want; } names[] = {
			{ "a", 1, 0 }, { "", 0, -EPROTO }, { "a\0b", 3, -EPROTO },
		};
		for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
			RES_HEAD(); buf_u32(&b, 0); buf_u8(&b, 0); buf_u32(&b, 0); buf_u32(&b, 1);
			buf_u16(&b, (uint16_t)names[k].n); buf_put(&b, names[k].s, names[k].n);
			int rc = job_decode_result(b.data, b.len, &r);
			T_CHECK(rc == names[k].want, "unsent name %zu: %d", k, rc);
			if (rc == 0) {
				T_CHECK(r.nunsent == 1 && !strcmp(r.unsent[0], names[k].s), "name");
				job_result_free(&r);
			}
			buf_free(&b);
		}
		/* a failing decode after names were allocated frees them (ASan) */
		RES_HEAD(); buf_u32(&b, 0); buf_u8(&b, 0); buf_u32(&b, 1); buf_put(&b, res_missing[0], 32);
		buf_u32(&b, 1); buf_u16(&b, 1); buf_u8(&b, 'x'); buf_u8(&b, 0);
		T_CHECK(job_decode_result(b.data, b.len, &r) == -EPROTO && !r.missing && !r.unsent,
			"trailing after names");
		buf_free(&b);
#undef RES_HEAD
	}
	T_CASE("tree_encoders_refuse_what_decoders_would") {
		struct job_spec j;
		struct job_result r;
		struct buf b = BUF_INIT;
		struct job_input bad;
		make_tree_job(&j);
		j.d.input = input;
		j.d.input_len = 3;
		T_CHECK(job_encode_job(&b, &j) == -EINVAL && b.len == 0, "tree with input");
		make_tree_job(&j);
		set_input(&bad, JOB_IN_FILE, "rel/a.h", NULL);
		j.t.in = &bad;
		j.t.nin = 1;
		T_CHECK(job_encode_job(&b, &j) == -EINVAL && b.len == 0, "relative path");
		set_input(&bad, JOB_IN_FILE, "/a.h", NULL);
		bad.mode = 04755;
		T_CHECK(job_encode_job(&b, &j) == 0, "setuid bits are the manifest's to refuse");
		buf_free(&b);
		bad.mode = 0100644;
		T_CHECK(job_encode_job(&b, &j) == -EINVAL && b.len == 0, "type bits");
		set_input(&bad, JOB_IN_LINK, "/l", "");
		T_CHECK(job_encode_job(&b, &j) == -EINVAL && b.len == 0, "empty target");
		set_input(&bad, 7, "/l", NULL);
		T_CHECK(job_encode_job(&b, &j) == -EINVAL && b.len == 0, "kind");
		make_tree_job(&j);
		j.t.nin = JOB_MAX_INPUTS + 1;
		T_CHECK(job_encode_job(&b, &j) == -EINVAL && b.len == 0, "inputs");
		make_tree_job(&j);
		j.t.nblob = JOB_MAX_BLOBS + 1;
		T_CHECK(job_encode_job(&b, &j) == -EINVAL && b.len == 0, "blobs");
		make_tree_job(&j);
		tree_blob[0].len = JOB_BLOB_MAX + 1ull;
		T_CHECK(job_encode_job(&b, &j) == -EINVAL && b.len == 0, "blob size");
		tree_blob[0].len = JOB_MAX_INPUT;
		T_CHECK(job_encode_job(&b, &j) == -EINVAL && b.len == 0, "blob bytes in all");
		make_tree_job(&j);
		memset(j.t.deps_name, 'x', sizeof j.t.deps_name);
		T_CHECK(job_encode_job(&b, &j) == -EINVAL && b.len == 0, "unterminated deps_name");
		make_tree_result(&r);
		r.nmissing = JOB_MAX_NAMES + 1;
		T_CHECK(job_encode_result(&b, &r) == -EINVAL && b.len == 0, "missing");
		make_tree_result(&r);
		char *empty[1] = { "" };
		r.unsent = empty;
		r.nunsent = 1;
		T_CHECK(job_encode_result(&b, &r) == -EINVAL && b.len == 0, "empty unsent");
		make_tree_result(&r);
		r.o.dep_len = JOB_MAX_TEXT + 1;
		T_CHECK(job_encode_result(&b, &r) == -EINVAL && b.len == 0, "dep");
		make_tree_job(&j);	/* tree_blob back to its sizes */
	}
	T_CASE("every_truncation_refused") {
		for (int m = 0; m < NMSG; m++)
			for (size_t n = 0; n < msgs[m].len; n++)
				T_CHECK(decode_any(types[m], msgs[m].data, n) == -EPROTO,
					"msg %d cut at %zu accepted", m, n);
	}
	T_CASE("trailing_byte_refused") {
		for (int m = 0; m < NMSG; m++) {
			struct buf b = BUF_INIT;
			buf_put(&b, msgs[m].data, msgs[m].len);
			T_CHECK(decode_any(types[m], b.data, b.len) == 0, "msg %d itself", m);
			buf_u8(&b, 0);
			T_CHECK(decode_any(types[m], b.data, b.len) == -EPROTO, "msg %d + 1 byte", m);
			buf_free(&b);
		}
	}
	T_CASE("wrong_version_or_type_refused") {
		for (int m = 0; m < NMSG; m++) {
			struct buf b = BUF_INIT;
			enum job_msg_type t;
			buf_put(&b, msgs[m].data, msgs[m].len);
			T_CHECK(job_peek_type(b.data, b.len, &t) == 0 && t == types[m], "peek %d", m);
			b.data[0] = JOB_WIRE_VERSION + 1;
			T_CHECK(decode_any(types[m], b.data, b.len) == -EPROTO, "version %d", m);
			T_CHECK(job_peek_type(b.data, b.len, &t) == -EPROTO, "peek version %d", m);
			b.data[0] = JOB_WIRE_VERSION;
			b.data[1] = (uint8_t)(types[m] == JOB_MSG_CANCEL ? JOB_MSG_JOB : JOB_MSG_CANCEL);
			T_CHECK(decode_any(types[m], b.data, b.len) == -EPROTO, "type %d", m);
			buf_free(&b);
		}
	}
	T_CASE("oversize_counts_and_lengths_refused") {
		struct buf b = BUF_INIT;
		struct job_spec d;
		struct job_nodeinfo ni;
		struct job_result r;
		/* nargs over the cap */
		job_head(&b);
		buf_u16(&b, JOB_MAX_ARGS + 1);
		T_CHECK(job_decode_job(b.data, b.len, &d) == -EPROTO, "nargs cap");
		buf_free(&b);
		/* an input blob claiming more than the cap */
		job_head(&b);
		buf_u16(&b, 0); buf_str(&b, "a.c"); buf_str(&b, "a.o"); buf_str(&b, "/w");
		buf_u8(&b, 0); buf_u32(&b, 0); buf_u64(&b, 0); buf_u64(&b, 0); buf_u32(&b, 0);
		buf_u32(&b, JOB_MAX_INPUT + 1);
		T_CHECK(job_decode_job(b.data, b.len, &d) == -EPROTO, "input cap");
		buf_free(&b);
		/* unknown flag bit */
		job_head(&b);
		buf_u16(&b, 0); buf_str(&b, "a.c"); buf_str(&b, "a.o"); buf_str(&b, "/w");
		buf_u8(&b, 8); buf_u32(&b, 0); buf_u64(&b, 0); buf_u64(&b, 0); buf_u32(&b, 0);
		buf_u32(&b, 0);
		T_CHECK(job_decode_job(b.data, b.len, &d) == -EPROTO, "flag bits");
		buf_free(&b);
		/* the same bytes are valid with flags 0 (the tests above test
		 * what they say) */
		job_head(&b);
		buf_u16(&b, 0); buf_str(&b, "a.c"); buf_str(&b, "a.o"); buf_str(&b, "/w");
		buf_u8(&b, 0); buf_u32(&b, 0); buf_u64(&b, 0); buf_u64(&b, 0); buf_u32(&b, 0);
		buf_u32(&b, 0);
		T_CHECK(job_decode_job(b.data, b.len, &d) == 0, "well-formed job refused");
		job_spec_free(&d);
		buf_free(&b);
		/* hub_cwd: relative, empty, over the cap */
		static const char *const bad_cwd[] = { "w", "", NULL };
		for (int k = 0; bad_cwd[k]; k++) {
			job_head(&b);
			buf_u16(&b, 0); buf_str(&b, "a.c"); buf_str(&b, "a.o");
			buf_str(&b, bad_cwd[k]);
			buf_u8(&b, 0); buf_u32(&b, 0); buf_u64(&b, 0); buf_u64(&b, 0);
			buf_u32(&b, 0); buf_u32(&b, 0);
			T_CHECK(job_decode_job(b.data, b.len, &d) == -EPROTO, "hub_cwd '%s'",
				bad_cwd[k]);
			buf_free(&b);
		}
		{
			char lng[JOB_CWD_MAX + 1];
			memset(lng, 'd', sizeof lng - 1);
			lng[0] = '/';
			lng[sizeof lng - 1] = 0;
			job_head(&b);
			buf_u16(&b, 0); buf_str(&b, "a.c"); buf_str(&b, "a.o"); buf_str(&b, lng);
			buf_u8(&b, 0); buf_u32(&b, 0); buf_u64(&b, 0); buf_u64(&b, 0);
			buf_u32(&b, 0); buf_u32(&b, 0);
			T_CHECK(job_decode_job(b.data, b.len, &d) == -EPROTO, "hub_cwd cap");
			buf_free(&b);
		}
		/* an identity compiler_decode refuses (fingerprint not hex) */
		buf_u8(&b, JOB_WIRE_VERSION); buf_u8(&b, JOB_MSG_JOB); buf_u64(&b, 1);
		buf_str(&b, "gcc"); buf_str(&b, "t"); buf_str(&b, "1"); buf_str(&b, "f");
		buf_u16(&b, 0); buf_str(&b, "a.c"); buf_str(&b, "a.o"); buf_str(&b, "/w");
		buf_u8(&b, 0); buf_u32(&b, 0); buf_u64(&b, 0); buf_u64(&b, 0); buf_u32(&b, 0);
		buf_u32(&b, 0);
		T_CHECK(job_decode_job(b.data, b.len, &d) == -EPROTO, "bad fingerprint");
		buf_free(&b);
		/* compiler kind longer than its field */
		buf_u8(&b, JOB_WIRE_VERSION); buf_u8(&b, JOB_MSG_JOB); buf_u64(&b, 1);
		buf_str(&b, "a-very-long-compiler-kind"); buf_str(&b, "t"); buf_str(&b, "1");
		buf_str(&b, "f"); buf_u16(&b, 0);
		T_CHECK(job_decode_job(b.data, b.len, &d) == -EPROTO, "kind cap");
		buf_free(&b);
		/* too many compilers */
		buf_u8(&b, JOB_WIRE_VERSION); buf_u8(&b, JOB_MSG_NODEINFO); buf_u16(&b, 1);
		buf_u8(&b, 1); buf_str(&b, "n"); buf_u16(&b, JOB_MAX_COMPILERS + 1);
		T_CHECK(job_decode_nodeinfo(b.data, b.len, &ni) == -EPROTO, "compiler count cap");
		buf_free(&b);
		/* obj over the cap */
		buf_u8(&b, JOB_WIRE_VERSION); buf_u8(&b, JOB_MSG_RESULT); buf_u64(&b, 1);
		buf_u32(&b, 0); buf_u32(&b, 0); buf_str(&b, ""); buf_u64(&b, 0); buf_u64(&b, 0);
		buf_u64(&b, 0); buf_u32(&b, 0); buf_u32(&b, 0); buf_u32(&b, JOB_MAX_OUTPUT + 1);
		T_CHECK(job_decode_result(b.data, b.len, &r) == -EPROTO, "obj cap");
		buf_free(&b);
		/* positive farm_error, status out of range */
		struct job_result x;
		make_result(&x);
		x.farm_error = 5;
		job_encode_result(&b, &x);
		T_CHECK(job_decode_result(b.data, b.len, &r) == -EPROTO, "positive farm_error");
		buf_free(&b);
		make_result(&x);
		x.o.status = 300;
		job_encode_result(&b, &x);
		T_CHECK(job_decode_result(b.data, b.len, &r) == -EPROTO, "status 300");
		buf_free(&b);
	}
	T_CASE("encoder_refuses_what_decoder_would") {
		struct job_spec j;
		struct buf b = BUF_INIT;
		char big[JOB_MAX_ARG_LEN + 1];
		char *a[1] = { big };
		make_job(&j);
		memset(big, 'x', sizeof big - 1);
		big[sizeof big - 1] = 0;
		j.d.args = a;
		j.d.nargs = 1;
		T_CHECK(job_encode_job(&b, &j) == -EINVAL && b.len == 0, "long arg");
		make_job(&j);
		j.d.nargs = JOB_MAX_ARGS + 1;
		T_CHECK(job_encode_job(&b, &j) == -EINVAL && b.len == 0, "nargs");
		make_job(&j);
		j.d.input_len = (size_t)JOB_MAX_INPUT + 1;
		T_CHECK(job_encode_job(&b, &j) == -EINVAL && b.len == 0, "input");
		make_job(&j);
		strcpy(j.d.cwd, "rel/dir");
		T_CHECK(job_encode_job(&b, &j) == -EINVAL && b.len == 0, "relative hub_cwd");
		make_job(&j);
		j.d.cwd[0] = 0;
		T_CHECK(job_encode_job(&b, &j) == -EINVAL && b.len == 0, "empty hub_cwd");
		make_job(&j);
		memset(j.d.cwd, 'x', sizeof j.d.cwd);	/* no NUL within the cap */
		j.d.cwd[0] = '/';
		T_CHECK(job_encode_job(&b, &j) == -EINVAL && b.len == 0, "unterminated hub_cwd");
		make_job(&j);
		strcpy(j.compiler.fingerprint, "not-hex");
		T_CHECK(job_encode_job(&b, &j) == -EINVAL && b.len == 0, "bad identity");
		make_job(&j);
		strcpy(j.compiler.kind, "tcc");
		T_CHECK(job_encode_job(&b, &j) == -EINVAL && b.len == 0, "unknown kind");
	}
	T_CASE("large_input_64MiB") {
		struct job_spec j, d;
		struct buf b = BUF_INIT;
		size_t n = 64u << 20;
		uint8_t *big = malloc(n);
		T_CHECK(big != NULL, "malloc");
		if (big) {
			for (size_t i = 0; i < n; i++)
				big[i] = (uint8_t)(i * 131 + (i >> 12));
			make_job(&j);
			j.d.input = big;
			j.d.input_len = n;
			T_CHECK(job_encode_job(&b, &j) == 0 && buf_ok(&b), "encode");
			T_CHECK(job_decode_job(b.data, b.len, &d) == 0, "decode");
			T_CHECK(d.d.input_len == n && !memcmp(d.d.input, big, n), "content");
			job_spec_free(&d);
		}
		free(big);
		buf_free(&b);
	}
	T_CASE("stream_never_zero") {
		T_CHECK(job_stream(0) != 0 && job_stream(0xfffffffeull) != 0 &&
			job_stream(UINT64_MAX) != 0 && job_stream(1) != job_stream(2), "stream");
	}
	t_dep_pack();
	/* TEST_JOB_SEEDS=DIR writes the messages as fuzz seeds
	 * (tests/fuzz/seeds/fuzz_job is made so). */
	const char *seeds = getenv("TEST_JOB_SEEDS");
	static const char *const seed_name[NMSG] = { "job", "result", "cancel", "telemetry",
						     "nodeinfo", "job_empty", "job_tree",
						     "result_tree" };
	for (int m = 0; seeds && m < NMSG; m++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", seeds, seed_name[m]);
		FILE *f = fopen(path, "wb");
		T_CHECK(f && fwrite(msgs[m].data, 1, msgs[m].len, f) == msgs[m].len &&
			fclose(f) == 0, "seed %s", path);
	}
	for (int m = 0; m < NMSG; m++)
		buf_free(&msgs[m]);
	return t_done();
}
