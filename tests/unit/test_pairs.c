/* test_pairs.c — hub/pairs.c: the --pairs file (good lines used, bad ones
 * counted, never half used) and the per-node decision: an exact identity
 * wins, a proven pair serves only its proven classes, anything else says
 * why in words. */
#include "pairs.h"
#include "proto.h"
#include "../lib/test.h"

#include <stdio.h>
#include <string.h>

#define HUBFP "d7561e1376fd5c6c893525cfe8b23f1d"
#define BRDFP "91ae4a1f00112233445566778899aabb"
#define OTHFP "0123456789abcdef0123456789abcdef"

static struct compiler_id id(const char *triple, const char *version, const char *fp)
{
	struct compiler_id c;
	memset(&c, 0, sizeof c);
	strcpy(c.kind, "gcc");
	snprintf(c.triple, sizeof c.triple, "%s", triple);
	snprintf(c.version, sizeof c.version, "%s", version);
	snprintf(c.fingerprint, sizeof c.fingerprint, "%s", fp);
	return c;
}

static const char *file =
	"# proven by scripts/pair-prove\n"
	"pair " HUBFP " " BRDFP " base=same stack-protector=differs stack-clash=same "
	"ident=GCC: (Debian 12.2.0-14+deb12u1) 12.2.0\n"
	"pair " HUBFP " " OTHFP " base=same\n"			/* no ident: unusable */
	"pair XYZ " OTHFP " base=same ident=GCC: (x) 1\n"	/* bad fingerprint */
	"pair " HUBFP " " OTHFP " base=maybe ident=GCC: (x) 1\n"	/* bad verdict */
	"pear " HUBFP " " OTHFP " base=same ident=GCC: (x) 1\n"
	"pair " HUBFP " " OTHFP " colour=same ident=GCC: (x) 1\n";

static void verdict_cases(const struct pairs *tp, const struct compiler_id *wp,
			  const struct compiler_id *board);

int main(void)
{
	struct pairs t;
	struct compiler_id want = id("x86_64-linux-gnu", "12.2.0", HUBFP);
	struct compiler_id board[2] = { id("x86_64-linux-gnu", "12.2.0", BRDFP),
					id("aarch64-linux-gnu", "12.2.0", OTHFP) };
	const struct compiler_id *use;
	const struct pair_entry *pe;
	char why[300];

	T_CASE("parse") {
		T_CHECK(pairs_parse(&t, file, strlen(file)) == 0, "parse");
		T_CHECK(t.n == 1, "%zu pairs", t.n);
		T_CHECK(t.bad_lines == 5, "%zu bad lines", t.bad_lines);
		T_CHECK(!strcmp(t.e[0].ident, "GCC: (Debian 12.2.0-14+deb12u1) 12.2.0"), "ident '%s'",
			t.e[0].ident);
		T_CHECK(t.e[0].p.state[EQ_BASE] == EQ_SAME &&
			t.e[0].p.state[EQ_STACK_PROTECTOR] == EQ_DIFFERS &&
			t.e[0].p.state[EQ_STACK_CLASH] == EQ_SAME, "states");
	}
	T_CASE("pick_exact_wins") {
		struct compiler_id both[2] = { board[0], want };
		char *argv[] = { "gcc", "-O2", "-c", "a.c" };
		T_CHECK(pairs_pick(&t, both, 2, &want, argv, 4, &use, &pe, why, sizeof why) ==
			PAIRS_EXACT && use == &both[1] && !pe, "not the exact compiler");
	}
	T_CASE("pick_via_pair") {
		char *argv[] = { "gcc", "-O2", "-g", "-c", "a.c" };
		T_CHECK(pairs_pick(&t, board, 2, &want, argv, 5, &use, &pe, why, sizeof why) ==
			PAIRS_VIA && use == &board[0] && pe == &t.e[0], "pair not used");
	}
	T_CASE("pick_refuses_unproven_class") {
		char *argv[] = { "gcc", "-O2", "-fstack-protector-strong", "-c", "a.c" };
		T_CHECK(pairs_pick(&t, board, 2, &want, argv, 5, &use, &pe, why, sizeof why) ==
			PAIRS_NO && !use, "stack-protector job sent");
		T_CHECK(strstr(why, "stack-protector code differs"), "why: %s", why);
	}
	T_CASE("pick_no_proof_says_so") {
		struct pairs empty = { .n = 0 };
		char *argv[] = { "gcc", "-c", "a.c" };
		T_CHECK(pairs_pick(&empty, board, 2, &want, argv, 3, &use, &pe, why, sizeof why) ==
			PAIRS_NO, "sent without a proof");
		T_CHECK(strstr(why, "another build") && strstr(why, "no canary proof"), "why: %s", why);
		T_CHECK(pairs_pick(&empty, &board[1], 1, &want, argv, 3, &use, &pe, why, sizeof why) ==
			PAIRS_NO && strstr(why, "offers no gcc 12.2.0 for x86_64-linux-gnu"), "why: %s", why);
	}
	T_CASE("pick_other_version_never") {
		struct compiler_id old = id("x86_64-linux-gnu", "12.1.0", BRDFP);
		char *argv[] = { "gcc", "-c", "a.c" };
		T_CHECK(pairs_pick(&t, &old, 1, &want, argv, 3, &use, &pe, why, sizeof why) == PAIRS_NO,
			"a pair across versions");
	}
	verdict_cases(&t, &want, board);
	return t_done();
}

static void verdict_cases(const struct pairs *tp, const struct compiler_id *wp,
			  const struct compiler_id *board)
{
	const struct pairs t = *tp;
	const struct compiler_id want = *wp;
	T_CASE("verdict_words") {
		struct pairs_seen seen = { .n = 0 };
		char *plain[] = { "gcc", "-O2", "-c", "a.c" };
		char *ssp[] = { "gcc", "-O2", "-fstack-protector-strong", "-c", "a.c" };
		char v[300];
		pairs_note(&seen, &want, plain, 4);
		pairs_note(&seen, &want, plain, 4);
		T_CHECK(seen.n == 1 && seen.a[0].jobs == 2, "noted %zu", seen.n);
		pairs_verdict(&t, &seen.a[0], board, 2, v, sizeof v);
		T_CHECK(!strncmp(v, "serves it: another build", 24), "verdict: %s", v);
		pairs_note(&seen, &want, ssp, 5);
		pairs_verdict(&t, &seen.a[0], board, 2, v, sizeof v);
		T_CHECK(strstr(v, "serves your jobs without those flags") &&
			strstr(v, "stack-protector code differs"), "verdict: %s", v);
		pairs_verdict(&t, &seen.a[0], &board[1], 1, v, sizeof v);
		T_CHECK(!strncmp(v, "does not serve it: offers no gcc", 32), "verdict: %s", v);
		pairs_verdict(&t, &seen.a[0], &want, 1, v, sizeof v);
		T_CHECK(!strcmp(v, "serves it (the same compiler)"), "verdict: %s", v);
	}
	T_CASE("status_serve_lines_roundtrip") {
		char lines[2][STATUS_SERVE_MAX] = { "gcc 12.2.0 x86_64-linux-gnu d7561e13\tboard1\tserves it",
						    "gcc 12.2.0 x86_64-linux-gnu d7561e13\tboard2\tdoes not" };
		struct hub_status st = { .uptime_s = 5, .nserve = 2, .serve = lines }, back;
		struct buf b = BUF_INIT;
		T_CHECK(proto_encode_status(&b, &st) == 0, "encode");
		T_CHECK(b.len > 4 && proto_decode_status(b.data + 4, b.len - 4, &back) == 0, "decode");
		T_CHECK(back.nserve == 2 && !strcmp(back.serve[1], lines[1]), "lines lost");
		for (size_t cut = 0; cut + 5 < b.len; cut += 3) {
			struct hub_status x;
			if (proto_decode_status(b.data + 4, cut, &x) == 0) {
				T_CHECK(0, "truncated status at %zu accepted", cut);
				proto_status_free(&x);
				break;
			}
		}
		proto_status_free(&back);
		buf_free(&b);
	}
}
