/* test_proto.c — the tree-job messages on hubd's socket (hub/proto_tree.c)
 * and the ANSWER's tree fields (hub/proto.c): round trips, every
 * truncation refused, caps and invariants checked on both sides. */
#include "client.h"
#include "proto.h"
#include "../lib/test.h"

#include <errno.h>
#include <string.h>

static struct job_input ins[3];

static void make_tree(struct proto_submit_tree *s, char **args)
{
	memset(s, 0, sizeof *s);
	strcpy(s->s.compiler, "/usr/bin/gcc");
	s->s.d.args = args;
	s->s.d.nargs = 3;
	strcpy(s->s.d.input_name, "src/a.c");
	strcpy(s->s.d.output_name, "a.o");
	strcpy(s->s.d.cwd, "/home/u/p");
	strcpy(s->s.source, "src/a.c");
	memset(ins, 0, sizeof ins);
	ins[0] = (struct job_input){ .kind = JOB_IN_FILE, .path = "/home/u/p/src/a.c",
				     .path_len = 17, .size = 123, .mode = 0644 };
	memset(ins[0].hash, 0xab, 32);
	ins[1] = (struct job_input){ .kind = JOB_IN_LINK, .path = "/home/u/p/inc",
				     .path_len = 13, .target = "../inc", .target_len = 6 };
	ins[2] = (struct job_input){ .kind = JOB_IN_DIR, .path = "/home/u", .path_len = 7 };
	s->t.in = ins;
	s->t.nin = 3;
	strcpy(s->t.deps_name, "a.d");
	s->t.complete = true;
	s->scan_us = 77;
}

static void test_submit_tree(void)
{
	char *args[] = { "-O2", "-c", "-MD", NULL };
	struct proto_submit_tree s, d;
	struct buf b = BUF_INIT;

	T_CASE("submit_tree_roundtrip") {
		make_tree(&s, args);
		T_CHECK(proto_encode_submit_tree(&b, &s) == 0, "encode");
		T_CHECK(proto_type(b.data + 4, b.len - 4) == PROTO_SUBMIT_TREE, "type");
		T_CHECK(proto_frame_len(b.data) == (long)(b.len - 4), "frame length");
		T_CHECK(proto_decode_submit_tree(b.data + 4, b.len - 4, &d) == 0, "decode");
		T_CHECK(d.s.d.nargs == 3 && !strcmp(d.s.d.args[2], "-MD") &&
			!strcmp(d.s.d.cwd, "/home/u/p") && d.t.nin == 3 && d.t.complete &&
			!strcmp(d.t.deps_name, "a.d") && d.scan_us == 77, "fields");
		T_CHECK(d.t.in[0].kind == JOB_IN_FILE && d.t.in[0].path_len == 17 &&
			!memcmp(d.t.in[0].path, ins[0].path, 17) && d.t.in[0].size == 123 &&
			d.t.in[0].mode == 0644 && !memcmp(d.t.in[0].hash, ins[0].hash, 32), "file");
		T_CHECK(d.t.in[1].kind == JOB_IN_LINK && d.t.in[1].target_len == 6 &&
			!memcmp(d.t.in[1].target, "../inc", 6), "link");
		T_CHECK(d.t.in[2].kind == JOB_IN_DIR && d.t.in[2].path_len == 7, "dir");
		proto_submit_tree_free(&d);
		for (size_t k = 4; k < b.len; k++)
			T_CHECK(proto_decode_submit_tree(b.data + 4, k - 4, &d) == -EPROTO,
				"cut %zu", k);
		T_CHECK(proto_decode_submit(b.data + 4, b.len - 4, &s.s) == -EPROTO,
			"decoded as a SUBMIT");
		buf_free(&b);
	}
	T_CASE("submit_tree_refused") {
		make_tree(&s, args);
		ins[0].path = "rel/a.c";
		ins[0].path_len = 7;
		T_CHECK(proto_encode_submit_tree(&b, &s) == -EINVAL, "relative path");
		make_tree(&s, args);
		ins[1].target_len = 0;
		T_CHECK(proto_encode_submit_tree(&b, &s) == -EINVAL, "empty link target");
		make_tree(&s, args);
		ins[2].kind = 3;
		T_CHECK(proto_encode_submit_tree(&b, &s) == -EINVAL, "unknown kind");
		make_tree(&s, args);
		s.t.nin = 0;
		T_CHECK(proto_encode_submit_tree(&b, &s) == -EINVAL, "no inputs");
		make_tree(&s, args);
		s.s.d.input = (const uint8_t *)"x";
		s.s.d.input_len = 1;
		T_CHECK(proto_encode_submit_tree(&b, &s) == -EINVAL, "input bytes");
		make_tree(&s, args);
		ins[0].path = "/a\0b";
		ins[0].path_len = 4;
		T_CHECK(proto_encode_submit_tree(&b, &s) == -EINVAL, "NUL in a path");
		buf_free(&b);
	}
	T_CASE("submit_tree_decode_caps") {
		make_tree(&s, args);
		T_CHECK(proto_encode_submit_tree(&b, &s) == 0, "encode");
		/* the input count (3), then the first input's kind (0) and path
		 * length (17) */
		size_t at = 0;
		for (size_t k = 6; k + 4 < b.len; k++)
			if (!memcmp(b.data + k, "\0\0\0\3\0\0\0\0\x11", 9))
				at = k;
		T_CHECK(at, "count found");
		memcpy(b.data + at, "\x00\xff\xff\xff", 4);	/* more than the frame holds */
		T_CHECK(proto_decode_submit_tree(b.data + 4, b.len - 4, &d) == -EPROTO,
			"huge count");
		memcpy(b.data + at, "\0\0\0\3", 4);
		b.data[at + 4 + 1 + 4 + 17 + 32 + 8 + 4] = 7;	/* kind of the second input */
		T_CHECK(proto_decode_submit_tree(b.data + 4, b.len - 4, &d) == -EPROTO,
			"bad kind");
		buf_free(&b);
	}
}

static void test_need_blobs(void)
{
	uint32_t idx[3] = { 0, 4, 9 };
	struct proto_need n = { idx, 3 }, dn;
	struct buf b = BUF_INIT;

	T_CASE("need_roundtrip") {
		T_CHECK(proto_encode_need(&b, &n) == 0, "encode");
		T_CHECK(proto_decode_need(b.data + 4, b.len - 4, &dn) == 0 && dn.n == 3 &&
			dn.idx[0] == 0 && dn.idx[1] == 4 && dn.idx[2] == 9, "decode");
		proto_need_free(&dn);
		for (size_t k = 4; k < b.len; k++)
			T_CHECK(proto_decode_need(b.data + 4, k - 4, &dn) == -EPROTO, "cut %zu", k);
		b.data[b.len - 1] = 4;	/* 0, 4, 4: an index twice */
		T_CHECK(proto_decode_need(b.data + 4, b.len - 4, &dn) == -EPROTO, "duplicate");
		buf_free(&b);
		idx[2] = 1;
		T_CHECK(proto_encode_need(&b, &n) == -EINVAL, "not increasing");
		n.n = 0;
		T_CHECK(proto_encode_need(&b, &n) == -EINVAL, "empty");
		n.n = PROTO_MAX_NEED + 1;
		T_CHECK(proto_encode_need(&b, &n) == -EINVAL, "over the cap");
		buf_free(&b);
	}
	T_CASE("blobs_roundtrip") {
		struct proto_blob x[2] = { { 1, false, (const uint8_t *)"int a;\n", 7 },
					   { 5, true, NULL, 0 } };
		struct proto_blobs bl = { x, 2 }, d;
		T_CHECK(proto_encode_blobs(&b, &bl) == 0, "encode");
		T_CHECK(proto_decode_blobs(b.data + 4, b.len - 4, &d) == 0 && d.n == 2 &&
			d.b[0].idx == 1 && d.b[0].len == 7 && !memcmp(d.b[0].data, "int a;\n", 7) &&
			!d.b[0].changed && d.b[1].idx == 5 && d.b[1].changed && !d.b[1].len,
			"decode");
		proto_blobs_free(&d);
		for (size_t k = 4; k < b.len; k++)
			T_CHECK(proto_decode_blobs(b.data + 4, k - 4, &d) == -EPROTO, "cut %zu", k);
		buf_free(&b);
		x[1].len = 3;
		x[1].data = (const uint8_t *)"abc";
		T_CHECK(proto_encode_blobs(&b, &bl) == -EINVAL, "changed with bytes");
		x[1].changed = false;
		x[1].idx = 1;
		T_CHECK(proto_encode_blobs(&b, &bl) == -EINVAL, "an index twice");
		buf_free(&b);
	}
}

static void test_answer_tree(void)
{
	T_CASE("answer_tree_fields") {
		char *names[] = { "/usr/include/x.h", "/home/u/p/gen.h" };
		struct proto_answer a = { .outcome = HUB_FAILED, .unsent = names, .nunsent = 2 }, d;
		struct buf b = BUF_INIT;
		a.o.dep = (const uint8_t *)"a.o: a.c\n";
		a.o.dep_len = 9;
		T_CHECK(proto_encode_answer(&b, &a) == 0, "encode");
		T_CHECK(proto_decode_answer(b.data + 4, b.len - 4, &d) == 0 && d.nunsent == 2 &&
			!strcmp(d.unsent[1], names[1]) && d.o.dep_len == 9 &&
			!memcmp(d.o.dep, "a.o: a.c\n", 9), "decode");
		proto_answer_free(&d);
		T_CHECK(d.unsent == NULL && d.nunsent == 0, "freed");
		for (size_t k = 4; k < b.len; k++)
			T_CHECK(proto_decode_answer(b.data + 4, k - 4, &d) == -EPROTO, "cut %zu", k);
		buf_free(&b);
		a.outcome = HUB_FALLBACK;
		a.nunsent = 0;
		T_CHECK(proto_encode_answer(&b, &a) == 0 &&
			proto_decode_answer(b.data + 4, b.len - 4, &d) == 0 &&
			d.outcome == HUB_FALLBACK, "fallback");
		buf_free(&b);
		names[0] = "";
		a.nunsent = 1;
		T_CHECK(proto_encode_answer(&b, &a) == -EINVAL, "empty name encoded");
		buf_free(&b);
		names[0] = "/x.h";
		T_CHECK(proto_encode_answer(&b, &a) == 0, "encode");
		b.data[b.len - 1] = 0;	/* a NUL in the name */
		T_CHECK(proto_decode_answer(b.data + 4, b.len - 4, &d) == -EPROTO, "NUL in a name");
		buf_free(&b);
	}
}

static void test_status_tree(void)
{
	T_CASE("status_tree_roundtrip") {
		struct status_node node;
		struct hub_status st, d;
		struct buf b = BUF_INIT;
		memset(&st, 0, sizeof st);
		memset(&node, 0, sizeof node);
		strcpy(node.iface, "veth1");
		node.store = (struct status_store){ 0xabcdef, 2u << 30, 5, 40, 4000, 38, 3900 };
		node.tele.store_hits = 30;
		node.tele.store_misses = 10;
		node.tele.store_bytes = 12345;
		st.nodes = &node;
		st.nnodes = 1;
		st.tree.jobs = 9;
		st.tree.resends = 1;
		st.tree.learned = 2;
		st.tree.text = 4;
		strcpy(st.tree.text_why[0].why, "--inputs=text");
		st.tree.text_why[0].n = 3;
		strcpy(st.tree.text_why[1].why, "scan: no source");
		st.tree.text_why[1].n = 1;
		T_CHECK(proto_encode_status(&b, &st) == 0, "encode");
		T_CHECK(proto_decode_status(b.data + 4, b.len - 4, &d) == 0, "decode");
		T_CHECK(d.tree.jobs == 9 && d.tree.resends == 1 && d.tree.learned == 2 &&
			d.tree.text == 4 && d.tree.text_why[1].n == 1 &&
			!strcmp(d.tree.text_why[0].why, "--inputs=text") && !d.tree.text_why[2].why[0],
			"hub counters");
		T_CHECK(d.nnodes == 1 && d.nodes[0].store.store_id == 0xabcdef &&
			d.nodes[0].store.held_bytes == 3900 && d.nodes[0].tele.store_hits == 30 &&
			d.nodes[0].tele.store_bytes == 12345, "node store");
		proto_status_free(&d);
		for (size_t k = 4; k < b.len; k++)
			T_CHECK(proto_decode_status(b.data + 4, k - 4, &d) < 0, "cut %zu", k);
		buf_free(&b);
	}
}

int main(void)
{
	test_status_tree();
	test_submit_tree();
	test_need_blobs();
	test_answer_tree();
	return t_done();
}
