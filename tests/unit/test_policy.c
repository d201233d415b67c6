/* test_policy.c — the hub–node contract (lib/policy.h): the argument
 * allow-list (compile only, explicit language, assembler options by name),
 * input and output names, suffixes, prefix maps as gcc applies them. */
#include "policy.h"
#include "../lib/test.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arow {
	const char *args;	/* space-separated */
	bool ok;
};

static const struct arow arows[] = {
	{ "-c", true },
	{ "-S", true },
	{ "-O2 -g -c", true },
	{ "-Os -Wall -Wextra -Werror -Wno-unused -c", true },
	{ "-std=gnu11 -pedantic -c", true },
	{ "-fPIC -fno-strict-aliasing -fstack-protector-strong -c", true },
	{ "-fpreprocessed -fdirectives-only -c", true },
	{ "-nostdinc -nostdinc++ -fno-working-directory -fworking-directory -c", true },
	{ "-g -fdebug-prefix-map=/home/u/p=/build -fmacro-prefix-map=/home/u/p/= -c", true },
	{ "-fdebug-prefix-map=/tmp/usbfarm-job.x=/home/u/p -c", true },
	{ "-x c++ -c", true },
	{ "-x objective-c -c", true },
	{ "-fdebug-prefix-map=/home/u/src=/src -c", true },
	{ "-ffile-prefix-map=/a=/b -fmacro-prefix-map=/a=. -c", true },
	{ "-m64 -mavx2 -march=x86-64-v2 -c", true },
	{ "-gsplit-dwarf -gdwarf-5 -gno-record-gcc-switches -c", true },
	{ "-x c -c", true },
	{ "-xc++ -c", true },
	{ "-Wa,--noexecstack -c", true },
	{ "--param max-inline-insns-single=100 -c", true },
	{ "-fvisibility=hidden -frandom-seed=abc -c", true },
	{ "-fplugin=x.so -c", false },
	{ "-fplugin-arg-x-y=1 -c", false },
	{ "-B/tmp -c", false },
	{ "-B -c", false },
	{ "-specs=x -c", false },
	{ "-wrapper gdb -c", false },
	{ "@args.rsp", false },
	{ "-o /tmp/x.o", false },
	{ "-c a.c", false },
	{ "-I/usr/include -c", false },
	{ "-Iinc -c", false },
	{ "-isystem /x -c", false },
	{ "-L/lib -c", false },
	{ "-include /etc/passwd -c", false },
	{ "--sysroot=/x -c", false },
	{ "--sysroot /x -c", false },
	{ "-fprofile-generate=/tmp -c", false },
	{ "-fprofile-use -c", false },
	{ "-save-temps -c", false },
	{ "-save-temps=obj -c", false },
	{ "-dumpdir /tmp/ -c", false },
	{ "-dumpbase x -c", false },
	{ "-aux-info out -c", false },
	{ "-fdump-tree-all -c", false },
	{ "-fstack-usage -c", false },
	{ "-march=native -c", false },
	{ "-mtune=native -c", false },
	{ "-x ada -c", false },
	{ "-Wa,-adhln=/tmp/l -c", false },
	{ "-Wa,--MD,x -c", false },
	{ "-Wp,-MD,x -c", false },
	{ "-Wl,-T,/x -c", false },
	{ "-Xassembler /x -c", false },
	{ "-fsanitize-ignorelist=/x -c", false },
	{ "-D X -c", false },
	{ "-MD -c", false },
	{ "-flto -c", false },
	{ "-fcallgraph-info -c", false },
	{ "-fopt-info-all=/tmp/x -c", false },
	{ "-frecord-gcc-switches -c", false },
	/* compile only, one explicit language (issue 6 item 3) */
	{ "-O2", false },
	{ "-c -S", false },
	{ "-c -x c -x c++", false },
	{ "-c -x none", false },
	{ "-c -x assembler-with-cpp", false },
	{ "-c -x assembler", true },
	{ "-c -x cpp-output", true },
	/* assembler options by name only (gas takes abbreviations) */
	{ "-Wa,--al=F -c", false },
	{ "-Wa,-MD=F -c", false },
	{ "-Xassembler --al=F -c", false },
	{ "-Wa,-a=F -c", false },
	{ "-Wa,--listing-lhs-width=9 -c", false },
	{ "-Wa,--noexecstack,--64 -c", true },
	{ "-Wa,-mrelax-relocations=no -c", true },
	{ "-Wa,-mrelax-relocations=/etc/x -c", false },
	{ "-Wa, -c", false },
	{ "-Xassembler --noexecstack -c", true },
	{ "-Wl,-T,x -c", false },
	{ "-Xlinker -T -c", false },
	{ "-wrapper /bin/sh,-c,id -c", false },
};

int main(void)
{
	char why[200];

	for (size_t i = 0; i < sizeof arows / sizeof arows[0]; i++) {
		char name[160];
		int n;
		char full[200];
		/* a job names its language: rows without -x get -x c */
		snprintf(full, sizeof full, "%s%s", arows[i].args,
			 strstr(arows[i].args, "-x") ? "" : " -x c");
		char **v = t_split(full, &n);
		snprintf(name, sizeof name, "check_args %s: %s", arows[i].ok ? "allow" : "refuse",
			 arows[i].args);
		T_CASE(name) {
			why[0] = 0;
			int r = policy_check_args(v, n, why, sizeof why);
			T_CHECK((r == 0) == arows[i].ok, "rc %d (%s)", r, why);
			if (!arows[i].ok)
				T_CHECK(r == -EPERM && why[0], "refusal without -EPERM or reason");
		}
		t_split_free(v, n);
	}

	static const struct { const char *p; bool ok; } prow[] = {
		{ "a.i", true }, { "src/a.c", true }, { "drivers/tty/x.c", true }, { "obj/a.o", true }, { "a/b/c.o", true }, { "x..y.o", true },
		{ "", false }, { "/abs.o", false }, { "../a.o", false }, { "obj/../../a.o", false },
		{ "obj/..", false }, { "./a.o", false }, { "obj//a.o", false }, { "obj/", false },
		{ "-o", false }, { "a\nb", false }, { "a\x7f", false },
		{ "@b", false }, { "obj/@b.o", false }, { "obj/-b.o", false }, { "a/@a.o", false },
	};
	for (size_t i = 0; i < sizeof prow / sizeof prow[0]; i++) {
		char name[80];
		snprintf(name, sizeof name, "output_name %s '%s'", prow[i].ok ? "ok" : "bad",
			 prow[i].p[0] == '\n' ? "nl" : prow[i].p);
		for (char *c = name; *c; c++)
			if (*c < 0x20 || *c == 0x7f)
				*c = '?';
		T_CASE(name) {
			T_CHECK(policy_output_name_ok(prow[i].p) == prow[i].ok, "wrong verdict");
		}
	}
	T_CASE("output_name_over_long") {
		char l[600];
		memset(l, 'a', sizeof l - 1);
		l[sizeof l - 1] = 0;
		T_CHECK(!policy_output_name_ok(l), "600-char name accepted");
		T_CHECK(!policy_output_name_ok(NULL), "NULL accepted");
	}

	static const struct { const char *p; bool ok; } nrow[] = {
		{ "a.c", true }, { "src/a.c", true }, { "../src/a.c", true }, { "./a.c", true },
		{ "src/../a.c", true }, { "src//a.c", true }, { "/w/src/a.c", true },
		{ "/w/build/../src/a.c", true }, { "/a.c", true }, { "x=y.c", true },
		{ "", false }, { "/", false }, { "src/", false }, { "src/..", false }, { "..", false },
		{ "/../a.c", false }, { "/w/../../a.c", false }, { "/w/x=y.c", false },
		{ "-a.c", false }, { "a\nb.c", false }, { "a.c/.", false },
		{ "@a/../@a.c", false }, { "@a.c", false }, { "src/@a.c", false }, { "src/-a.c", false },
		{ "/w/@x/a.c", false }, { "a@b.c", true }, { "a-b.c", true },
	};
	for (size_t i = 0; i < sizeof nrow / sizeof nrow[0]; i++) {
		char name[80];
		snprintf(name, sizeof name, "input_name %s '%s'", nrow[i].ok ? "ok" : "bad",
			 nrow[i].p);
		for (char *c = name; *c; c++)
			if (*c < 0x20)
				*c = '?';
		T_CASE(name) {
			T_CHECK(policy_input_name_ok(nrow[i].p) == nrow[i].ok, "wrong verdict");
		}
	}
	T_CASE("output_name_shared_limit") {
		char l[POLICY_NAME_MAX + 1];
		memset(l, 'a', POLICY_NAME_MAX - 1);
		l[POLICY_NAME_MAX - 1] = 0;
		T_CHECK(policy_output_name_ok(l), "%d-byte name refused (dcc and node share the limit)",
			POLICY_NAME_MAX - 1);
		l[POLICY_NAME_MAX - 1] = 'a';
		l[POLICY_NAME_MAX] = 0;
		T_CHECK(!policy_output_name_ok(l), "%d-byte name accepted", POLICY_NAME_MAX);
	}
	T_CASE("input_suffix") {
		T_CHECK(policy_input_suffix_ok("a.c") && policy_input_suffix_ok("s/a.cpp") &&
			policy_input_suffix_ok("a.C") && policy_input_suffix_ok("a.s") &&
			policy_input_suffix_ok("a.i") && policy_input_suffix_ok("x/y.ii") &&
			policy_input_suffix_ok("a.S") && policy_input_suffix_ok("a.sx"),
			"a source suffix refused (.S: a tree job's, preprocessed on the board)");
		T_CHECK(!policy_input_suffix_ok("x.lds") && !policy_input_suffix_ok("a.f") &&
			!policy_input_suffix_ok("a") && !policy_input_suffix_ok("a.c/b") &&
			!policy_input_suffix_ok("a.o") && !policy_input_suffix_ok("a.") &&
			!policy_input_suffix_ok("a.sxx") && !policy_input_suffix_ok(NULL),
			"a non-source suffix accepted");
		char *a1[] = { "-c", "-x", "c++" }, *a2[] = { "-c" }, *a3[] = { "-xnone", "-c" };
		T_CHECK(policy_job_lang(a1, 3) && !strcmp(policy_job_lang(a1, 3), "c++") &&
			!policy_job_lang(a2, 1) && !policy_job_lang(a3, 2), "job_lang");
	}
	T_CASE("input_name_limits") {
		char l[600];
		int n = 0;
		memset(l, 'a', sizeof l - 1);
		l[sizeof l - 1] = 0;
		T_CHECK(!policy_input_name_ok(l), "600-char name accepted");
		T_CHECK(!policy_input_name_ok(NULL), "NULL accepted");
		for (int i = 0; i < POLICY_MAX_UPS; i++)
			n += snprintf(l + n, sizeof l - (size_t)n, "../");
		snprintf(l + n, sizeof l - (size_t)n, "a.c");
		T_CHECK(policy_input_name_ok(l), "%d levels refused", POLICY_MAX_UPS);
		snprintf(l + n, sizeof l - (size_t)n, "../a.c");
		T_CHECK(!policy_input_name_ok(l), "%d levels accepted", POLICY_MAX_UPS + 1);
	}
	T_CASE("map_name_debug_vs_macro") {
		char *args[] = { "-fdebug-prefix-map=/w=/D", "-fmacro-prefix-map=/w/=",
				 "-ffile-prefix-map=/w/src=/F", "-fdebug-prefix-map=/w/src/a=/A" };
		char *a = policy_map_name(args, 4, "/w/src/a.c", false);
		char *b = policy_map_name(args, 4, "/w/src/a.c", true);
		char *c = policy_map_name(args, 4, "/w/inc/h.h", true);
		char *d = policy_map_name(args, 4, "/w/src", false);
		T_CHECK(a && !strcmp(a, "/A.c"), "debug '%s'", a);
		T_CHECK(b && !strcmp(b, "/F/a.c"), "macro '%s'", b);
		T_CHECK(c && !strcmp(c, "inc/h.h"), "macro '%s'", c);
		T_CHECK(d && !strcmp(d, "/F"), "debug dir '%s'", d);
		free(a), free(b), free(c), free(d);
	}

	static const struct { const char *args, *cwd, *want; } crow[] = {
		{ "-g -c", "/home/u/proj", "/home/u/proj" },
		{ "-fdebug-prefix-map=/home/u=/b", "/home/u/proj", "/b/proj" },
		{ "-ffile-prefix-map=/home/u/proj=.", "/home/u/proj", "." },
		{ "-fdebug-prefix-map=/home/u/proj=", "/home/u/proj", "" },
		{ "-fdebug-prefix-map=/home=/A -fdebug-prefix-map=/home/u=/B", "/home/u/proj", "/B/proj" },
		{ "-fdebug-prefix-map=/home/u=/B -ffile-prefix-map=/home=/A", "/home/u/proj", "/A/u/proj" },
		{ "-fdebug-prefix-map=/x=/y", "/home/u/proj", "/home/u/proj" },
		{ "-fmacro-prefix-map=/home/u/proj/= -fprofile-prefix-map=/home=/p", "/home/u/proj",
		  "/home/u/proj" },
		{ "-fdebug-prefix-map=/home/u", "/home/u/proj", "/home/u/proj" },
		{ "-fdebug-prefix-map=/home/u=/a=b", "/home/u/proj", "/a=b/proj" },
		{ "-fdebug-prefix-map=/home/u/pr=/q", "/home/u/proj", "/qoj" },	/* gcc: plain prefix */
	};
	for (size_t i = 0; i < sizeof crow / sizeof crow[0]; i++) {
		char name[200];
		int n;
		char **v = t_split(crow[i].args, &n);
		snprintf(name, sizeof name, "comp_dir %s", crow[i].args);
		T_CASE(name) {
			char *c = policy_comp_dir(v, n, crow[i].cwd);
			T_CHECK(c && !strcmp(c, crow[i].want), "'%s', want '%s'", c ? c : "(null)",
				crow[i].want);
			free(c);
		}
		t_split_free(v, n);
	}
	return t_done();
}
