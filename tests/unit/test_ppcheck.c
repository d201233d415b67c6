/*
 * test_ppcheck.c — table-driven tests of hub/ppcheck.c (directive scan of
 * one file's text, _Pragma in the directives-only text, files named by line
 * markers) and of hub/reasons.c (labels, the count table on the wire).
 */
#include "ppcheck.h"
#include "reasons.h"
#include "verify.h"
#include "../lib/cursor.h"
#include "../lib/buf.h"
#include "../lib/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fcase {
	const char *name, *text;
	bool openmp, openacc;
	const char *want;	/* substring of why, or NULL: faithful */
};

static const struct fcase fcases[] = {
	{ "plain", "int a;\n#define X 1\n#if X\n#endif\n", false, false, NULL },
	{ "message", "int a;\n#pragma message \"x\"\n", false, false, "#pragma message" },
	{ "message-line", "\n\n\n#pragma message \"x\"\n", false, false, "(f.h:4)" },
	{ "message-spaces", "  #  pragma\tmessage(\"x\")\n", false, false, "#pragma message" },
	{ "message-comment", "/* a */ # /* b */ pragma /* c */ message \"x\"\n", false, false,
	  "#pragma message" },
	{ "message-splice", "#pra\\\ngma mes\\\nsage \"x\"\n", false, false, "#pragma message" },
	{ "message-crlf-splice", "#pragma mes\\\r\nsage \"x\"\r\n", false, false, "#pragma message" },
	{ "message-in-code", "int a; // #pragma message \"x\"\n", false, false, NULL },
	{ "message-after-code", "int a; #pragma message\n", false, false, NULL },
	{ "message-in-line-comment-start", "// #pragma message\n", false, false, NULL },
	{ "redefine_extname", "#pragma redefine_extname a b\n", false, false, "redefine_extname" },
	{ "push_macro", "#pragma push_macro(\"X\")\n", false, false, "push_macro" },
	{ "pop_macro", "#pragma pop_macro(\"X\")\n", false, false, "push_macro/pop_macro" },
	{ "poison", "#pragma GCC poison printf\n", false, false, "GCC poison" },
	{ "poison-splice", "#pragma GCC poi\\\nson x\n", false, false, "GCC poison" },
	{ "gcc-other", "#pragma GCC visibility push(hidden)\n#pragma GCC diagnostic push\n"
		       "#pragma GCC system_header\n#pragma GCC warning \"w\"\n", false, false, NULL },
	{ "pack-weak", "#pragma pack(1)\n#pragma weak f\n#pragma once\n#pragma STDC FP_CONTRACT ON\n",
	  false, false, NULL },
	{ "omp-off", "#pragma omp parallel for\n", false, false, NULL },
	{ "omp-on", "#pragma omp parallel for\n", true, false, "#pragma omp" },
	{ "acc-off", "#pragma acc parallel\n", true, false, NULL },
	{ "acc-on", "#pragma acc parallel\n", false, true, "#pragma acc" },
	{ "digraph-define", "%:define X 1\n", false, false, "digraph" },
	{ "digraph-in-code", "int a = 5 %: 3;\n", false, false, NULL },
	{ "digraph-after-comment", "/* x */ %:include <a.h>\n", false, false, "digraph" },
	{ "percent-format", "printf(\"%d\", 1);\n  \"%:x\"\n", false, false, NULL },
	{ "no-newline-end", "#pragma message", false, false, "#pragma message" },
	{ "empty", "", false, false, NULL },
	{ "hash-only", "#", false, false, NULL },
	{ "unterminated-comment", "/* #pragma message", false, false, NULL },
};

struct tcase {
	const char *name, *text, *want;
};

static const struct tcase tcases[] = {
	{ "pragma-op-message", "_Pragma(\"message(\\\"x\\\")\")\n", NULL },
	{ "pragma-op-once", "_Pragma(\"once\")\n", "_Pragma" },
	{ "pragma-op-once-L", "_Pragma ( L\"once\" )\n", "_Pragma" },
	{ "pragma-op-push", "_Pragma(\"push_macro(\\\"X\\\")\")\n", "_Pragma" },
	{ "pragma-op-poison", "_Pragma(\"GCC poison x\")\n", "_Pragma" },
	{ "pragma-op-diag", "_Pragma(\"GCC diagnostic push\")\n", NULL },
	{ "pragma-op-newline", "_Pragma\n(\n\"once\")\n", "_Pragma" },
	{ "pragma-built-diag", "#define P(x) _Pragma(#x)\nP(GCC diagnostic push)\n", NULL },
	{ "pragma-built-poison", "#define P(x) _Pragma(#x)\nP(GCC poison x)\n", "built by a macro" },
	{ "pragma-built-push", "#define P(x) _Pragma(#x)\nP(push_macro(\"X\"))\n", "built by a macro" },
	{ "pragma-built-pushmacro-ident", "#define P(x) _Pragma(#x)\nint my_push_macro;\n", NULL },
	{ "not-pragma-op", "int my_Pragma(\"once\");\n", NULL },
	{ "pragma-op-truncated", "_Pragma(\"once", "_Pragma" },
	{ "pragma-op-end", "_Pragma", NULL },
};

static void file_cases(void)
{
	for (size_t i = 0; i < sizeof fcases / sizeof fcases[0]; i++) {
		const struct fcase *c = &fcases[i];
		struct ppcheck_opts o = { c->openmp, c->openacc };
		char why[320] = "", name[64];
		int r;
		snprintf(name, sizeof name, "file-%s", c->name);
		T_CASE(name) {
			/* exact length, no NUL after: the scan must stay in bounds */
			size_t n = strlen(c->text);
			char *t = malloc(n ? n : 1);
			memcpy(t, c->text, n);
			r = ppcheck_file_text(t, n, "f.h", &o, why, sizeof why);
			free(t);
			if (c->want)
				T_CHECK(r == 1 && strstr(why, c->want), "want '%s', got %d '%s'", c->want,
					r, why);
			else
				T_CHECK(r == 0, "want faithful, got '%s'", why);
		}
	}
}

static void text_cases(void)
{
	for (size_t i = 0; i < sizeof tcases / sizeof tcases[0]; i++) {
		const struct tcase *c = &tcases[i];
		struct ppcheck_opts o = { false, false };
		char why[320] = "", name[64];
		int r;
		snprintf(name, sizeof name, "text-%s", c->name);
		T_CASE(name) {
			size_t n = strlen(c->text);
			uint8_t *t = malloc(n ? n : 1);
			memcpy(t, c->text, n);
			r = ppcheck_text(t, n, &o, why, sizeof why);
			free(t);
			if (c->want)
				T_CHECK(r == 1 && strstr(why, c->want), "want '%s', got %d '%s'", c->want,
					r, why);
			else
				T_CHECK(r == 0, "want faithful, got '%s'", why);
		}
	}
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Line markers: entered files are read; a #line fiction is not required. */
static void marker_cases(void)
{
	char dir[] = "/tmp/test_ppcheck.XXXXXX", old[4096];
	struct ppcheck_opts o = { false, false };
	char why[320];

	if (!mkdtemp(dir) || !getcwd(old, sizeof old) || chdir(dir)) {
		t_skip("markers", "no temp dir");
		return;
	}
	write_file("t.c", "#include \"h.h\"\nint a;\n");
	write_file("h.h", "#pragma message \"from h\"\n");
	write_file("ok.h", "int ok;\n");
	write_file("q\"uote.h", "#pragma GCC poison x\n");
	T_CASE("markers-entered-header") {
		const char *t = "# 0 \"t.c\"\n# 1 \"h.h\" 1\n\n# 2 \"t.c\" 2\nint a;\n";
		T_CHECK(ppcheck_text((const uint8_t *)t, strlen(t), &o, why, sizeof why) == 1 &&
			strstr(why, "h.h:1"), "got '%s'", why);
	}
	T_CASE("markers-clean") {
		const char *t = "# 0 \"t.c\"\n# 1 \"ok.h\" 1 3 4\nint ok;\n# 2 \"t.c\" 2\n";
		why[0] = 0;
		T_CHECK(ppcheck_text((const uint8_t *)t, strlen(t), &o, why, sizeof why) == 0,
			"got '%s'", why);
	}
	T_CASE("markers-line-fiction") {
		const char *t = "# 0 \"ok.h\"\n# 100 \"nonexistent.y\"\nint x;\n";
		why[0] = 0;
		T_CHECK(ppcheck_text((const uint8_t *)t, strlen(t), &o, why, sizeof why) == 0,
			"got '%s'", why);
	}
	T_CASE("markers-entered-missing") {
		const char *t = "# 0 \"ok.h\"\n# 1 \"gone.h\" 1\n";
		T_CHECK(ppcheck_text((const uint8_t *)t, strlen(t), &o, why, sizeof why) == 1 &&
			strstr(why, "cannot re-read"), "got '%s'", why);
	}
	T_CASE("markers-escaped-name") {
		const char *t = "# 0 \"ok.h\"\n# 1 \"q\\\"uote.h\" 1\n";
		T_CHECK(ppcheck_text((const uint8_t *)t, strlen(t), &o, why, sizeof why) == 1 &&
			strstr(why, "GCC poison"), "got '%s'", why);
	}
	T_CASE("markers-not-regular") {
		const char *t = "# 0 \"ok.h\"\n# 1 \"/dev/zero\" 1\n";
		T_CHECK(ppcheck_text((const uint8_t *)t, strlen(t), &o, why, sizeof why) == 1,
			"a device must not be read as a header");
	}
	unlink("t.c"), unlink("h.h"), unlink("ok.h"), unlink("q\"uote.h");
	if (chdir(old) == 0)
		rmdir(dir);
}

static void opts_cases(void)
{
	T_CASE("opts-from-argv") {
		char *a1[] = { "gcc", "-O2", "-fopenmp-simd", "-c", NULL };
		char *a2[] = { "gcc", "-fopenacc", NULL };
		char *a3[] = { "gcc", "-fopenmp", NULL };
		struct ppcheck_opts o;
		ppcheck_opts_from_argv(a1, 4, &o);
		T_CHECK(o.openmp && !o.openacc, "-fopenmp-simd");
		ppcheck_opts_from_argv(a2, 2, &o);
		T_CHECK(!o.openmp && o.openacc, "-fopenacc");
		ppcheck_opts_from_argv(a3, 1, &o);
		T_CHECK(!o.openmp, "argv[0] and argc bound");
	}
}

static void reasons_cases(void)
{
	static const struct {
		const char *why, *label;
	} lc[] = {
		{ "an include-like directive left in the preprocessed text (a node refuses it)",
		  "include-like line" },
		{ "conftest.c: autoconf test", "conftest" },
		{ "-g3: macro debug info names the built-in and command-line macros", "-g3" },
		{ "neither -c nor -S: link or other", "link or no compile" },
		{ "#pragma message is dropped by -fdirectives-only (t.c:2)", "#pragma message" },
		{ "-fprofile-arcs: profiling/coverage files", "profiling/coverage files" },
		{ "something new (x.c:3)", "something new" },
		{ "", "other" },
	};
	for (size_t i = 0; i < sizeof lc / sizeof lc[0]; i++) {
		char name[64], got[REASON_LABEL_MAX];
		snprintf(name, sizeof name, "label-%zu", i);
		T_CASE(name) {
			reasons_label(lc[i].why, got, sizeof got);
			T_CHECK(!strcmp(got, lc[i].label), "'%s' -> '%s', want '%s'", lc[i].why, got,
				lc[i].label);
		}
	}
	T_CASE("reasons-table-roundtrip") {
		struct buf b = BUF_INIT;
		struct reasons_status st;
		struct cursor c;
		char l[32];
		for (int i = 0; i < 3; i++)
			reasons_count("conftest");
		reasons_count("-g3");
		for (int i = 0; i < REASONS_MAX + 5; i++) {
			snprintf(l, sizeof l, "r%d", i);
			reasons_count(l);
		}
		reasons_encode(&b);
		c = cur_init(b.data, b.len);
		T_CHECK(reasons_decode(&c, &st) && cur_done(&c), "decodes");
		T_CHECK(st.total == 4 + REASONS_MAX + 5, "total %llu", (unsigned long long)st.total);
		T_CHECK(st.n == REASONS_MAX + 1 && !strcmp(st.r[0].label, "conftest") && st.r[0].n == 3,
			"n %zu first %s", st.n, st.r[0].label);
		T_CHECK(!strcmp(st.r[REASONS_MAX].label, "other") && st.r[REASONS_MAX].n == 7,
			"other %s %llu", st.r[REASONS_MAX].label, (unsigned long long)st.r[REASONS_MAX].n);
		for (size_t cut = 0; cut < b.len; cut++) {
			struct cursor k = cur_init(b.data, cut);
			T_CHECK(!reasons_decode(&k, &st) || !cur_done(&k), "truncated at %zu accepted", cut);
		}
		buf_free(&b);
	}
	T_CASE("hubx-request-bad-frames") {
		struct buf r = BUF_INIT;
		const uint8_t junk[][6] = { { 1, 32, 0, 9, 'a', 'b' }, { 1, 33, 0, 0, 0, 0 },
					    { 2, 34, 0, 0, 0, 0 }, { 1, 99, 0, 0, 0, 0 } };
		T_CHECK(hubx_request(junk[0], 6, &r) == 0, "short note dropped");
		T_CHECK(hubx_request(junk[1], 6, &r) == 0, "short report dropped");
		T_CHECK(hubx_request(junk[2], 6, &r) < 0, "wrong version");
		T_CHECK(hubx_request(junk[3], 6, &r) < 0, "not ours");
		T_CHECK(r.len == 0, "no reply to junk");
		buf_free(&r);
	}
}

static void verify_cases(void)
{
	T_CASE("verify-rate-parse") {
		T_CHECK(verify_set_rate("100") == 0 && verify_set_rate("0.5%") == 0 &&
			verify_set_rate("-1") < 0 && verify_set_rate("101") < 0 &&
			verify_set_rate("x") < 0 && verify_set_rate("nan") < 0, "parse");
	}
	T_CASE("verify-sample-quarantine") {
		struct compiler_id id;
		char note[256] = "";
		struct buf rep = BUF_INIT, st = BUF_INIT;
		struct cursor c;
		struct verify_status vs;
		memset(&id, 0, sizeof id);
		snprintf(id.kind, sizeof id.kind, "gcc");
		snprintf(id.version, sizeof id.version, "12.2.0");
		verify_set_rate("100");
		verify_on_done("nodeX", &id, "src/a.c", note, sizeof note);
		T_CHECK(!strncmp(note, VERIFY_TAG, strlen(VERIFY_TAG)), "sampled at 100: '%s'", note);
		T_CHECK(!verify_quarantined("nodeX", &id), "not yet");
		/* a report with another token changes nothing */
		buf_u8(&rep, 1), buf_u8(&rep, HUBX_VERIFY_REPORT);
		buf_u64(&rep, strtoull(note + strlen(VERIFY_TAG), NULL, 16) ^ 2);
		buf_u8(&rep, 0), buf_str(&rep, "differs");
		hubx_request(rep.data, rep.len, &st);
		T_CHECK(!verify_quarantined("nodeX", &id), "unknown token ignored");
		rep.len = 0;
		buf_u8(&rep, 1), buf_u8(&rep, HUBX_VERIFY_REPORT);
		buf_u64(&rep, strtoull(note + strlen(VERIFY_TAG), NULL, 16));
		buf_u8(&rep, 0), buf_str(&rep, "object differs at byte 9");
		hubx_request(rep.data, rep.len, &st);
		T_CHECK(verify_quarantined("nodeX", &id) && !verify_quarantined("nodeY", &id),
			"quarantined for that node only");
		verify_encode(&st);
		c = cur_init(st.data, st.len);
		T_CHECK(verify_decode(&c, &vs) && cur_done(&c) && vs.nq == 1 && vs.mismatched == 1 &&
			vs.q[0].nlisted == 1 && !strcmp(vs.q[0].objects[0], "src/a.c"), "status");
		verify_status_free(&vs);
		verify_set_rate("0");
		note[0] = 0;
		verify_on_done("nodeX", &id, "src/b.c", note, sizeof note);
		T_CHECK(!note[0], "rate 0 samples nothing");
		buf_free(&rep);
		buf_free(&st);
	}
}

int main(void)
{
	file_cases();
	text_cases();
	marker_cases();
	opts_cases();
	reasons_cases();
	verify_cases();
	return t_done();
}
