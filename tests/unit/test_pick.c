/* test_pick.c — hubd's node choice (schedule.c) and the local protocol codec
 * (proto.c): policy table, round trips, truncations and caps. */
#include "proto.h"
#include "schedule.h"
#include "../lib/test.h"

#include <errno.h>
#include <string.h>

#define U INT32_MIN

struct pick_case {
	const char *name;
	size_t n;
	struct sched_cand c[4];
	int want;
};

static const struct pick_case picks[] = {
	{ "none", 0, { { 0, 0, 0, 0, 0 } }, -1 },
	{ "fastest_idle_wins", 3,
	  { { 1.0, 0, 2, U, 0 }, { 3.0, 0, 2, U, 0 }, { 2.0, 0, 2, U, 0 } }, 1 },
	{ "unknown_is_optimistic", 2, { { 2.0, 0, 2, U, 5 }, { 0.0, 0, 2, U, 9 } }, 1 },
	{ "busy_fast_vs_idle_slow", 2, { { 2.0, 3, 4, U, 0 }, { 1.5, 0, 4, U, 0 } }, 1 },
	{ "hot_node_demoted", 2, { { 2.0, 0, 2, 90000, 0 }, { 1.2, 0, 2, 50000, 0 } }, 1 },
	{ "warm_node_demoted_a_little", 2, { { 2.0, 0, 2, 78000, 0 }, { 1.7, 0, 2, U, 0 } }, 1 },
	{ "tie_least_recent", 3,
	  { { 1.0, 0, 1, U, 30 }, { 1.0, 0, 1, U, 10 }, { 1.0, 0, 1, U, 20 } }, 1 },
	{ "near_tie_least_recent", 2, { { 1.01, 0, 1, U, 30 }, { 1.0, 0, 1, U, 10 } }, 1 },
	{ "all_unknown_round_robin", 3,
	  { { 0, 0, 2, U, 7 }, { 0, 0, 2, U, 3 }, { 0, 0, 2, U, 5 } }, 1 },
};

int main(void)
{
	for (size_t i = 0; i < sizeof picks / sizeof picks[0]; i++)
		T_CASE(picks[i].name) {
			int got = sched_pick(picks[i].c, picks[i].n, 0);
			T_CHECK(got == picks[i].want, "picked %d, want %d", got, picks[i].want);
		}
	T_CASE("ewma") {
		double s = sched_update_speed(0, 2.0);
		T_CHECK(s == 2.0, "first sample taken as is");
		s = sched_update_speed(s, 1.0);
		T_CHECK(s > 1.0 && s < 2.0, "moves toward the sample");
		T_CHECK(sched_update_speed(s, 0) == s, "zero sample ignored");
	}
	T_CASE("submit_roundtrip") {
		char *args[] = { "-O2", "-c" };
		struct proto_submit s, d;
		struct buf b = BUF_INIT;
		const char *in = "int x;";
		memset(&s, 0, sizeof s);
		strcpy(s.compiler, "/usr/bin/gcc");
		s.d.args = args;
		s.d.nargs = 2;
		strcpy(s.d.input_name, "x.i");
		strcpy(s.d.output_name, "x.o");
		s.d.want_dwo = true;
		strcpy(s.d.cwd, "/src");
		strcpy(s.source, "x.c");
		s.preprocess_us = 77;
		s.d.input = (const uint8_t *)in;
		s.d.input_len = 6;
		T_CHECK(proto_encode_submit_head(&b, &s) == 0, "encode");
		buf_put(&b, in, 6);
		long n = proto_frame_len(b.data);
		T_CHECK(n == (long)b.len - 4, "frame length %ld vs %zu", n, b.len);
		T_CHECK(proto_type(b.data + 4, b.len - 4) == PROTO_SUBMIT, "type");
		T_CHECK(proto_decode_submit(b.data + 4, b.len - 4, &d) == 0, "decode");
		T_CHECK(!strcmp(d.compiler, "/usr/bin/gcc") && d.d.nargs == 2 &&
			!strcmp(d.d.args[1], "-c") && d.d.want_dwo && d.preprocess_us == 77 &&
			d.d.input_len == 6 && !memcmp(d.d.input, in, 6) && !strcmp(d.source, "x.c"),
			"fields");
		proto_submit_free(&d);
		for (size_t k = 4; k < b.len - 1; k++)
			T_CHECK(proto_decode_submit(b.data + 4, k - 4, &d) == -EPROTO,
				"truncated at %zu accepted", k);
		buf_u8(&b, 0);
		T_CHECK(proto_decode_submit(b.data + 4, b.len - 4, &d) == -EPROTO, "trailing");
		buf_free(&b);
	}
	T_CASE("answer_roundtrip") {
		struct proto_answer a = { .outcome = 0, .o.status = 1 }, d;
		struct buf b = BUF_INIT;
		strcpy(a.node, "node1");
		a.o.err = (const uint8_t *)"warning";
		a.o.err_len = 7;
		a.o.obj = (const uint8_t *)"OBJ";
		a.o.obj_len = 3;
		T_CHECK(proto_encode_answer(&b, &a) == 0, "encode");
		T_CHECK(proto_decode_answer(b.data + 4, b.len - 4, &d) == 0, "decode");
		T_CHECK(d.o.status == 1 && !strcmp(d.node, "node1") && d.o.err_len == 7 &&
			d.o.obj_len == 3 && !memcmp(d.o.obj, "OBJ", 3), "fields");
		for (size_t k = 4; k < b.len; k++)
			T_CHECK(proto_decode_answer(b.data + 4, k - 4, &d) == -EPROTO, "cut %zu", k);
		b.data[6] = 4; /* outcome out of range (3 is HUB_FALLBACK) */
		T_CHECK(proto_decode_answer(b.data + 4, b.len - 4, &d) == -EPROTO, "outcome 4");
		buf_free(&b);
	}
	T_CASE("status_roundtrip") {
		char comps[2][STATUS_COMPILER_MAX] = { "gcc 12.2.0 x86_64-linux-gnu abcd",
						       "g++ 12.2.0 x86_64-linux-gnu ef01" };
		struct status_node nodes[2];
		struct hub_status st, d;
		struct buf b = BUF_INIT;
		memset(&st, 0, sizeof st);
		memset(nodes, 0, sizeof nodes);
		st.local_slots = 2;
		st.jobs_total = 10;
		st.nnodes = 2;
		st.nodes = nodes;
		strcpy(nodes[0].iface, "veth1");
		strcpy(nodes[0].state, "UP");
		nodes[0].jobs_done = 5;
		nodes[0].ncompilers = 2;
		nodes[0].compilers = comps;
		nodes[0].has_tele = true;
		nodes[0].tele.temp_mc = JOB_TEMP_UNKNOWN;
		strcpy(nodes[1].iface, "veth2");
		T_CHECK(proto_encode_status(&b, &st) == 0, "encode");
		T_CHECK(proto_decode_status(b.data + 4, b.len - 4, &d) == 0, "decode");
		T_CHECK(d.nnodes == 2 && d.local_slots == 2 && d.jobs_total == 10 &&
			d.nodes[0].jobs_done == 5 && d.nodes[0].ncompilers == 2 &&
			!strcmp(d.nodes[0].compilers[1], comps[1]) && d.nodes[0].has_tele &&
			d.nodes[0].tele.temp_mc == JOB_TEMP_UNKNOWN &&
			!strcmp(d.nodes[1].iface, "veth2"), "fields");
		proto_status_free(&d);
		for (size_t k = 4; k < b.len; k++)
			T_CHECK(proto_decode_status(b.data + 4, k - 4, &d) == -EPROTO, "cut %zu", k);
		buf_free(&b);
	}
	T_CASE("frame_length_caps") {
		uint8_t big[4] = { 0x7f, 0xff, 0xff, 0xff }, tiny[4] = { 0, 0, 0, 1 };
		T_CHECK(proto_frame_len(big) == -EPROTO, "over PROTO_MAX_FRAME");
		T_CHECK(proto_frame_len(tiny) == -EPROTO, "shorter than a header");
		uint8_t v2[2] = { PROTO_VERSION + 1, PROTO_SUBMIT };
		T_CHECK(proto_type(v2, 2) == -EPROTO, "other version");
	}
	return t_done();
}
