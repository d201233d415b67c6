/* test_exec.c — the node-side executor: the argument allow-list, relative
 * path checks, and real runs of gcc (object produced, stderr captured,
 * temp dir removed; refused, timed-out and over-cap jobs). */
#include "exec.h"
#include "../lib/test.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
};

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static const char *find_gcc(void)
{
	static const char *const c[] = { "/usr/bin/gcc", "/usr/local/bin/gcc", "/bin/gcc", NULL };
	for (int i = 0; c[i]; i++)
		if (access(c[i], X_OK) == 0)
			return c[i];
	return NULL;
}

int main(void)
{
	char why[200];

	for (size_t i = 0; i < sizeof arows / sizeof arows[0]; i++) {
		char name[160];
		int n;
		char **v = t_split(arows[i].args, &n);
		snprintf(name, sizeof name, "check_args %s: %s", arows[i].ok ? "allow" : "refuse",
			 arows[i].args);
		T_CASE(name) {
			why[0] = 0;
			int r = exec_check_args(v, n, why, sizeof why);
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
	};
	for (size_t i = 0; i < sizeof prow / sizeof prow[0]; i++) {
		char name[80];
		snprintf(name, sizeof name, "safe_relpath %s '%s'", prow[i].ok ? "ok" : "bad",
			 prow[i].p[0] == '\n' ? "nl" : prow[i].p);
		for (char *c = name; *c; c++)
			if (*c < 0x20 || *c == 0x7f)
				*c = '?';
		T_CASE(name) {
			T_CHECK(exec_safe_relpath(prow[i].p) == prow[i].ok, "wrong verdict");
		}
	}
	T_CASE("safe_relpath_long") {
		char l[400];
		memset(l, 'a', sizeof l - 1);
		l[sizeof l - 1] = 0;
		T_CHECK(!exec_safe_relpath(l), "400-char name accepted");
		T_CHECK(!exec_safe_relpath(NULL), "NULL accepted");
	}

	/* include-like directives: refused (line number) or allowed (0) */
	static const struct { const char *name, *text; size_t line; } irow[] = {
		{ "plain", "#include \"/etc/shadow\"\n", 1 },
		{ "angle", "int x;\n#include </etc/shadow>\n", 2 },
		{ "include_next", "  #include_next <stdio.h>\n", 1 },
		{ "import", "#import \"/etc/passwd\"\n", 1 },
		{ "embed", "const char d[] = {\n#embed \"/etc/shadow\"\n};\n", 2 },
		{ "pragma_dependency", "#pragma GCC dependency \"/etc/shadow\"\n", 1 },
		{ "blanks", " \t\f\v#  \t include \"x\"\n", 1 },
		{ "comment_before_hash", "/* c */ # /* c */ include \"x\"\n", 1 },
		{ "multiline_comment_before_hash", "/* a\nb */ #include \"x\"\n", 1 },
		{ "splice_in_keyword", "#inc\\\nlude \"x\"\n", 1 },
		{ "splice_after_hash", "#\\\ninclude \"x\"\n", 1 },
		{ "splice_before_hash", "\\\n#include \"x\"\n", 1 },
		{ "splice_crlf", "#inc\\\r\nlude \"x\"\r\n", 1 },
		{ "splice_with_blank", "int a; \\ \n#include \"x\"\n", 2 },
		{ "digraph", "%:include \"x\"\n", 1 },
		{ "digraph_spliced", "%\\\n: include \"x\"\n", 1 },
		{ "trigraph_hash", "int q;\n?\?=include \"x\"\n", 2 },
		{ "trigraph_splice", "#inc?\?/\nlude \"x\"\n", 1 },
		{ "lone_cr_newline", "int a;\r#include \"x\"\r", 1 },
		{ "after_string", "char *s = \"a\";\n#include \"x\"\n", 2 },
		{ "after_unterminated_string", "char *s = \"a /*\n#include \"x\"\n*/\n", 2 },
		{ "after_char_with_quote", "char c = '\"';\n#include \"x\"\n", 2 },
		{ "after_line_comment", "// a \"b\" /*\n#include \"x\"\n", 2 },
		{ "c89_slash_slash", "int a = 1 //* c */ 2\n;\n#include \"x\"\n", 3 },
		{ "raw_string_hides_comment", "const char *r = R\"d( \" /* )d\";\n#include \"x\"\n*/\n", 2 },
		{ "raw_prefix_u8", "auto r = u8R\"(/*)\";\n#include \"x\"\n", 2 },
		{ "raw_in_c_mode", "int R; char *s = R\"x(\n#include \"x\"\n)x\";\n", 2 },
		{ "digit_separator", "int n = 1'000 /* ' */;\n#include \"x\"\n", 2 },
		{ "no_digit_separator", "char c = 'a' /* ' */;\n#include \"x\"\n", 2 },
		{ "escaped_quote", "char *s = \"\\\" /* \";\n#include \"x\"\n", 2 },
		{ "no_final_newline", "int a;\n#include \"x\"", 2 },
		{ "include_macro", "#define H \"/etc/shadow\"\n#include H\n", 2 },
		{ "allowed_plain_code", "int x;\nint y = 2;\n", 0 },
		{ "allowed_define", "#define INC \"#include <x>\"\n#define include 1\n", 0 },
		{ "allowed_string", "const char *s = \"#include <stdio.h>\";\n", 0 },
		{ "allowed_string_lines", "const char *s = \"a\"\n  \"#include <stdio.h>\";\n", 0 },
		/* conservative by design: every physical line start counts, even
		 * inside a comment (a false alarm only means a local compile) */
		{ "comment_line_start_is_flagged", "/*\n#include \"x\"\n */\nint y;\n", 2 },
		{ "allowed_doc_comment", "/**\n * #include <foo.h>\n * #import x\n */\n", 0 },
		{ "allowed_line_comment", "// #include \"x\"\nint z;\n", 0 },
		{ "spliced_comment_line_start_is_flagged", "int a; // x \\\n#include \"x\"\nint b;\n", 2 },
		{ "allowed_other_directives", "# 1 \"src/a.c\"\n#pragma once\n#pragma GCC diagnostic push\n"
		  "#define X 1\n#undef X\n#line 4\n#ident \"x\"\n#includes 1\n#pragma GCC dep\n", 0 },
		{ "allowed_line_markers", "# 0 \"/w/src/a.c\"\n# 1 \"/usr/include/stdio.h\" 1 3 4\n", 0 },
		{ "allowed_hash_mid_line", "int a; #include \"x\"\n", 0 },
		{ "allowed_stringify", "#define S(x) #x\nconst char *s = S(include);\n", 0 },
		{ "allowed_empty", "", 0 },
	};
	for (size_t i = 0; i < sizeof irow / sizeof irow[0]; i++) {
		char name[120];
		snprintf(name, sizeof name, "find_include %s", irow[i].name);
		T_CASE(name) {
			const char *what = NULL;
			size_t l = exec_find_include((const uint8_t *)irow[i].text,
						     strlen(irow[i].text), &what);
			T_CHECK(l == irow[i].line, "line %zu, want %zu (%s)", l, irow[i].line,
				what ? what : "-");
			T_CHECK(!l || what, "no keyword named");
		}
	}
	T_CASE("find_include_big_clean_input") {
		/* a big input with every dialect trigger: all dialects run */
		size_t cap = 1u << 20, len = 0;
		char *big = malloc(cap);
		while (len + 200 < cap)
			len += (size_t)snprintf(big + len, cap - len,
				"/* comment\n * #include <x> */ int a%zu = 1'0; // c ?\?=\n"
				"const char *s%zu = R\"(x)\" \"#include\\\" \\ \n\";\r\n", len, len);
		T_CHECK(exec_find_include((const uint8_t *)big, len, NULL) == 0, "false positive");
		free(big);
	}

	static const struct { const char *p; bool ok; } nrow[] = {
		{ "a.c", true }, { "src/a.c", true }, { "../src/a.c", true }, { "./a.c", true },
		{ "src/../a.c", true }, { "src//a.c", true }, { "/w/src/a.c", true },
		{ "/w/build/../src/a.c", true }, { "/a.c", true }, { "x=y.c", true },
		{ "", false }, { "/", false }, { "src/", false }, { "src/..", false }, { "..", false },
		{ "/../a.c", false }, { "/w/../../a.c", false }, { "/w/x=y.c", false },
		{ "-a.c", false }, { "a\nb.c", false }, { "a.c/.", false },
	};
	for (size_t i = 0; i < sizeof nrow / sizeof nrow[0]; i++) {
		char name[80];
		snprintf(name, sizeof name, "input_name %s '%s'", nrow[i].ok ? "ok" : "bad",
			 nrow[i].p);
		for (char *c = name; *c; c++)
			if (*c < 0x20)
				*c = '?';
		T_CASE(name) {
			T_CHECK(exec_input_name_ok(nrow[i].p) == nrow[i].ok, "wrong verdict");
		}
	}
	T_CASE("input_name_limits") {
		char l[600];
		int n = 0;
		memset(l, 'a', sizeof l - 1);
		l[sizeof l - 1] = 0;
		T_CHECK(!exec_input_name_ok(l), "600-char name accepted");
		T_CHECK(!exec_input_name_ok(NULL), "NULL accepted");
		for (int i = 0; i < EXEC_MAX_UPS; i++)
			n += snprintf(l + n, sizeof l - (size_t)n, "../");
		snprintf(l + n, sizeof l - (size_t)n, "a.c");
		T_CHECK(exec_input_name_ok(l), "%d levels refused", EXEC_MAX_UPS);
		snprintf(l + n, sizeof l - (size_t)n, "../a.c");
		T_CHECK(!exec_input_name_ok(l), "%d levels accepted", EXEC_MAX_UPS + 1);
	}
	T_CASE("map_name_debug_vs_macro") {
		char *args[] = { "-fdebug-prefix-map=/w=/D", "-fmacro-prefix-map=/w/=",
				 "-ffile-prefix-map=/w/src=/F", "-fdebug-prefix-map=/w/src/a=/A" };
		char *a = exec_map_name(args, 4, "/w/src/a.c", false);
		char *b = exec_map_name(args, 4, "/w/src/a.c", true);
		char *c = exec_map_name(args, 4, "/w/inc/h.h", true);
		char *d = exec_map_name(args, 4, "/w/src", false);
		T_CHECK(a && !strcmp(a, "/A.c"), "debug '%s'", a);
		T_CHECK(b && !strcmp(b, "/F/a.c"), "macro '%s'", b);
		T_CHECK(c && !strcmp(c, "inc/h.h"), "macro '%s'", c);
		T_CHECK(d && !strcmp(d, "/F"), "debug dir '%s'", d);
		free(a), free(b), free(c), free(d);
	}

	const char *gcc = find_gcc();
	char root[] = "/tmp/test_exec.XXXXXX";
	if (!gcc || !mkdtemp(root)) {
		t_skip("exec_run", "no gcc or no temp dir");
		return t_done();
	}
	const char *src = "int f(int x) { return x * 2; }\n";

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
			char *c = exec_comp_dir(v, n, crow[i].cwd);
			T_CHECK(c && !strcmp(c, crow[i].want), "'%s', want '%s'", c ? c : "(null)",
				crow[i].want);
			free(c);
		}
		t_split_free(v, n);
	}
	const char *warn_src = "# 1 \"w.c\"\nint g(void) { int y; return y; }\n";

	T_CASE("exec_run_gcc_object_in_subdir") {
		char *args[] = { "-O2", "-c" };
		struct exec_job j = { .compiler = gcc, .args = args, .nargs = 2,
				      .input_name = "x.c", .input = (const uint8_t *)src,
				      .input_len = strlen(src), .output_name = "obj/sub/x.o",
				      .hub_cwd = "/home/u/proj", .tmp_root = root };
		struct exec_result r;
		int rc = exec_run(&j, &r);
		T_CHECK(rc == 0 && r.farm_error == 0, "rc %d: %s", rc, r.error);
		T_CHECK(r.status == 0, "status %d, stderr %.*s", r.status, (int)r.err.len,
			(const char *)r.err.data);
		T_CHECK(r.obj.len > 64 && !memcmp(r.obj.data, "\177ELF", 4), "no ELF object (%zu bytes)",
			r.obj.len);
		T_CHECK(r.wall_us > 0, "no wall time");
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
		exec_result_free(&r);
	}
	T_CASE("exec_run_source_in_subdir_debug_names_hub") {
		/* compiled as the hub's src/a.c: DW_AT_name and __BASE_FILE__
		 * are "src/a.c", DW_AT_comp_dir the hub's cwd, never our dir */
		const char *dsrc = "const char *bf = __BASE_FILE__;\nint h(int x) { return x + 1; }\n";
		char *args[] = { "-g", "-O0", "-c" };
		struct exec_job j = { .compiler = gcc, .args = args, .nargs = 3,
				      .input_name = "src/deep/a.c", .input = (const uint8_t *)dsrc,
				      .input_len = strlen(dsrc), .output_name = "obj/a.o",
				      .hub_cwd = "/home/u/proj-hub", .tmp_root = root };
		struct exec_result r;
		int rc = exec_run(&j, &r);
		T_CHECK(rc == 0 && r.status == 0 && r.obj.len > 0, "rc %d (%s) status %d: %.*s", rc,
			r.error, r.status, (int)r.err.len, (const char *)r.err.data);
		T_CHECK(r.obj.len && memmem(r.obj.data, r.obj.len, "/home/u/proj-hub", 16),
			"hub cwd not in the object");
		T_CHECK(r.obj.len && memmem(r.obj.data, r.obj.len, "src/deep/a.c", 12),
			"source name not in the object");
		T_CHECK(r.obj.len && !memmem(r.obj.data, r.obj.len, root, strlen(root)),
			"the node's dir leaked into the object");
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
		exec_result_free(&r);
	}
	T_CASE("exec_run_user_map_over_node_dir") {
		/* the user's map also matches the node's dir (/tmp/...): ours
		 * is last and wins there; the user's still applies to the hub cwd */
		const char *dsrc = "int k(void) { return 3; }\n";
		char map[300];
		snprintf(map, sizeof map, "-fdebug-prefix-map=%.200s=/USERMAP", root);
		char *args[] = { "-g", map, "-fdebug-prefix-map=/home/u=/build", "-c" };
		struct exec_job j = { .compiler = gcc, .args = args, .nargs = 4,
				      .input_name = "k.c", .input = (const uint8_t *)dsrc,
				      .input_len = strlen(dsrc), .output_name = "k.o",
				      .hub_cwd = "/home/u/projq", .tmp_root = root };
		struct exec_result r;
		int rc = exec_run(&j, &r);
		T_CHECK(rc == 0 && r.status == 0, "rc %d (%s) status %d", rc, r.error, r.status);
		T_CHECK(r.obj.len && memmem(r.obj.data, r.obj.len, "/build/projq", 12),
			"user map not applied to the hub cwd");
		T_CHECK(r.obj.len && !memmem(r.obj.data, r.obj.len, "/USERMAP", 8),
			"user map won over ours for the node dir");
		exec_result_free(&r);
	}
	T_CASE("exec_run_bad_hub_cwd_refused") {
		char *args[] = { "-c" };
		struct exec_job j = { .compiler = gcc, .args = args, .nargs = 1,
				      .input_name = "x.c", .input = (const uint8_t *)src,
				      .input_len = strlen(src), .output_name = "x.o",
				      .hub_cwd = "home/u", .tmp_root = root };
		struct exec_result r;
		T_CHECK(exec_run(&j, &r) == -EPERM, "relative hub cwd accepted");
		exec_result_free(&r);
		char *lng = malloc(EXEC_CWD_MAX + 1);
		memset(lng, 'a', EXEC_CWD_MAX);
		lng[0] = '/';
		lng[EXEC_CWD_MAX] = 0;
		j.hub_cwd = lng;
		T_CHECK(exec_run(&j, &r) == -EPERM, "over-long hub cwd accepted");
		exec_result_free(&r);
		free(lng);
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
	}
	T_CASE("exec_run_stderr_captured") {
		char *args[] = { "-O2", "-Wall", "-c" };
		struct exec_job j = { .compiler = gcc, .args = args, .nargs = 3,
				      .input_name = "w.i", .input = (const uint8_t *)warn_src,
				      .input_len = strlen(warn_src), .output_name = "w.o",
				      .tmp_root = root };
		struct exec_result r;
		exec_run(&j, &r);
		T_CHECK(r.farm_error == 0 && r.status == 0, "farm %d status %d", r.farm_error, r.status);
		T_CHECK(r.err.len && memmem(r.err.data, r.err.len, "uninitialized", 13),
			"warning not captured: %.*s", (int)r.err.len, (const char *)r.err.data);
		T_CHECK(r.cpu_us > 0, "no cpu time");
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
		exec_result_free(&r);
	}
	T_CASE("exec_run_compile_error_is_status") {
		const char *bad = "int f( { }\n";
		char *args[] = { "-c" };
		struct exec_job j = { .compiler = gcc, .args = args, .nargs = 1,
				      .input_name = "b.i", .input = (const uint8_t *)bad,
				      .input_len = strlen(bad), .output_name = "b.o",
				      .tmp_root = root };
		struct exec_result r;
		int rc = exec_run(&j, &r);
		T_CHECK(rc == 0 && r.status == 1, "rc %d status %d", rc, r.status);
		T_CHECK(r.err.len > 0 && r.obj.len == 0, "stderr %zu obj %zu", r.err.len, r.obj.len);
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
		exec_result_free(&r);
	}
	T_CASE("exec_run_refused_job") {
		char *args[] = { "-c", "-fplugin=/tmp/evil.so" };
		struct exec_job j = { .compiler = gcc, .args = args, .nargs = 2,
				      .input_name = "x.i", .input = (const uint8_t *)src,
				      .input_len = strlen(src), .output_name = "x.o",
				      .tmp_root = root };
		struct exec_result r;
		int rc = exec_run(&j, &r);
		T_CHECK(rc == -EPERM && r.farm_error == -EPERM && strstr(r.error, "plugin"),
			"rc %d: %s", rc, r.error);
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
		exec_result_free(&r);
	}
	T_CASE("exec_run_bad_names_refused") {
		char *args[] = { "-c" };
		struct exec_job j = { .compiler = gcc, .args = args, .nargs = 1,
				      .input_name = "/../x.i", .input = (const uint8_t *)src,
				      .input_len = strlen(src), .output_name = "x.o",
				      .tmp_root = root };
		struct exec_result r;
		T_CHECK(exec_run(&j, &r) == -EPERM, "input above / accepted");
		exec_result_free(&r);
		j.input_name = "/etc/a=b/x.c";
		T_CHECK(exec_run(&j, &r) == -EPERM, "absolute input with '=' accepted");
		exec_result_free(&r);
		j.input_name = "src/";
		T_CHECK(exec_run(&j, &r) == -EPERM, "directory input accepted");
		exec_result_free(&r);
		/* "../u/x.c" from the cwd <dir>/t/u is the output "x.c" */
		j.input_name = "../u/x.c";
		j.output_name = "x.c";
		T_CHECK(exec_run(&j, &r) == -EPERM, "input = output through .. accepted");
		exec_result_free(&r);
		j.input_name = "src/../x.c";
		T_CHECK(exec_run(&j, &r) == -EPERM, "input = output through src/.. accepted");
		exec_result_free(&r);
		j.output_name = "x.o";
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
		j.input_name = "src/x.c";
		j.output_name = "src/x.c";
		T_CHECK(exec_run(&j, &r) == -EPERM, "input = output accepted");
		exec_result_free(&r);
		j.input_name = "x.i";
		j.output_name = "/tmp/x.o";
		T_CHECK(exec_run(&j, &r) == -EPERM, "absolute output accepted");
		exec_result_free(&r);
		j.output_name = "x.o";
		j.compiler = "/nonexistent/gcc";
		T_CHECK(exec_run(&j, &r) == -ENOENT, "missing compiler not -ENOENT");
		exec_result_free(&r);
	}
	T_CASE("exec_run_absolute_source_names_hub") {
		/* CMake: an absolute source; the node compiles a mirror of it
		 * and maps DW_AT_name, the line table and __BASE_FILE__ back */
		const char *asrc = "# 0 \"/w/proj/src/a.c\"\n# 1 \"/w/proj/src/a.c\"\n"
				   "const char *bf = __BASE_FILE__;\nconst char *f = __FILE__;\n"
				   "int h(int x) { return x + 1; }\n";
		char *args[] = { "-g", "-O0", "-c" };
		struct exec_job j = { .compiler = gcc, .args = args, .nargs = 3,
				      .input_name = "/w/proj/src/a.c", .input = (const uint8_t *)asrc,
				      .input_len = strlen(asrc), .output_name = "CMakeFiles/x.dir/a.c.o",
				      .hub_cwd = "/w/proj/build", .tmp_root = root };
		struct exec_result r;
		int rc = exec_run(&j, &r);
		T_CHECK(rc == 0 && r.status == 0 && r.obj.len > 0, "rc %d (%s) status %d: %.*s", rc,
			r.error, r.status, (int)r.err.len, (const char *)r.err.data);
		T_CHECK(r.obj.len && memmem(r.obj.data, r.obj.len, "/w/proj/src/a.c", 16),
			"hub source name not in the object");
		T_CHECK(r.obj.len && memmem(r.obj.data, r.obj.len, "/w/proj/build", 13),
			"hub cwd not in the object");
		T_CHECK(r.obj.len && !memmem(r.obj.data, r.obj.len, root, strlen(root)),
			"the node's dir leaked into the object");
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
		exec_result_free(&r);
		/* the user's maps apply to the hub's name, as on the hub */
		char *args2[] = { "-g", "-fdebug-prefix-map=/w/proj=/P", "-fmacro-prefix-map=/w/proj/=",
				  "-c" };
		j.args = args2;
		j.nargs = 4;
		rc = exec_run(&j, &r);
		T_CHECK(rc == 0 && r.status == 0, "rc %d (%s) status %d", rc, r.error, r.status);
		T_CHECK(r.obj.len && memmem(r.obj.data, r.obj.len, "/P/src/a.c", 10) &&
				memmem(r.obj.data, r.obj.len, "/P/build", 8) &&
				memmem(r.obj.data, r.obj.len, "src/a.c", 8) &&
				!memmem(r.obj.data, r.obj.len, "/w/proj", 7),
			"user maps not applied as on the hub");
		T_CHECK(r.obj.len && !memmem(r.obj.data, r.obj.len, root, strlen(root)),
			"the node's dir leaked into the object");
		exec_result_free(&r);
	}
	T_CASE("exec_run_vpath_source") {
		/* autotools VPATH: ../../src/a.c from the build dir, -gsplit-dwarf */
		const char *vsrc = "# 0 \"../../src/a.c\"\n# 1 \"../../src/a.c\"\n"
				   "const char *bf = __BASE_FILE__;\nint v(void) { return 7; }\n";
		char *args[] = { "-g", "-gsplit-dwarf", "-c" };
		struct exec_job j = { .compiler = gcc, .args = args, .nargs = 3,
				      .input_name = "../../src/a.c", .input = (const uint8_t *)vsrc,
				      .input_len = strlen(vsrc), .output_name = "sub/a.o",
				      .want_dwo = true, .hub_cwd = "/w/b/x", .tmp_root = root };
		struct exec_result r;
		int rc = exec_run(&j, &r);
		T_CHECK(rc == 0 && r.status == 0 && r.obj.len > 0 && r.dwo.len > 0,
			"rc %d (%s) status %d: %.*s", rc, r.error, r.status, (int)r.err.len,
			(const char *)r.err.data);
		T_CHECK(r.obj.len && memmem(r.obj.data, r.obj.len, "/w/b/x", 6) &&
				memmem(r.obj.data, r.obj.len, "sub/a.dwo", 9),
			"hub cwd or dwo name not in the object");
		T_CHECK(r.dwo.len && memmem(r.dwo.data, r.dwo.len, "../../src/a.c", 13),
			"source name not in the dwo");
		T_CHECK(r.obj.len && r.dwo.len && !memmem(r.obj.data, r.obj.len, root, strlen(root)) &&
				!memmem(r.dwo.data, r.dwo.len, root, strlen(root)),
			"the node's dir leaked into the outputs");
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
		exec_result_free(&r);
	}
	T_CASE("exec_run_refuses_include") {
		const char *evil = "int a;\n# /**/ include \"/etc/passwd\"\n";
		char *args[] = { "-c" };
		struct exec_job j = { .compiler = gcc, .args = args, .nargs = 1,
				      .input_name = "e.c", .input = (const uint8_t *)evil,
				      .input_len = strlen(evil), .output_name = "e.o",
				      .tmp_root = root };
		struct exec_result r;
		int rc = exec_run(&j, &r);
		T_CHECK(rc == -EPERM && r.farm_error == -EPERM && strstr(r.error, "line 2") &&
				strstr(r.error, "include"), "rc %d: %s", rc, r.error);
		T_CHECK(r.obj.len == 0 && r.err.len == 0, "compiler ran");
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
		exec_result_free(&r);
		/* in a string, or in a comment but not at a line start: compiled */
		const char *fine = "/* see #include \"/etc/passwd\"\n * #include <x>\n*/\nconst char *s = \"#include <x>\";\n";
		j.input = (const uint8_t *)fine;
		j.input_len = strlen(fine);
		rc = exec_run(&j, &r);
		T_CHECK(rc == 0 && r.status == 0 && r.obj.len > 0, "rc %d (%s)", rc, r.error);
		exec_result_free(&r);
	}
	T_CASE("exec_run_timeout_kills") {
		/* a compile that takes long: many template-like expansions */
		struct exec_job j;
		struct exec_result r;
		size_t cap = 4u << 20, len = 0;
		char *big = malloc(cap);
		char *args[] = { "-O3", "-c" };
		for (int i = 0; len + 100 < cap; i++)
			len += (size_t)snprintf(big + len, cap - len,
						"int f%d(int x){return x*%d+f%d(x-1);}\n", i, i,
						i ? i - 1 : 0);
		memset(&j, 0, sizeof j);
		j.compiler = gcc, j.args = args, j.nargs = 2, j.input_name = "t.i";
		j.input = (const uint8_t *)big, j.input_len = len, j.output_name = "t.o";
		j.tmp_root = root;
		j.limits.timeout_ms = 200;
		int rc = exec_run(&j, &r);
		T_CHECK(rc == -ETIMEDOUT, "rc %d (%s), status %d", rc, r.error, r.status);
		T_CHECK(r.wall_us < 5000000, "took %llu us", (unsigned long long)r.wall_us);
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
		exec_result_free(&r);
		free(big);
	}
	T_CASE("exec_run_output_cap") {
		/* stderr over the cap: one warning per function */
		size_t cap = 1u << 20, len = 0;
		char *big = malloc(cap);
		char *args[] = { "-Wall", "-c" };
		struct exec_job j;
		struct exec_result r;
		for (int i = 0; len + 100 < cap && i < 3000; i++)
			len += (size_t)snprintf(big + len, cap - len,
						"int g%d(void){int y;return y;}\n", i);
		memset(&j, 0, sizeof j);
		j.compiler = gcc, j.args = args, j.nargs = 2, j.input_name = "c.i";
		j.input = (const uint8_t *)big, j.input_len = len, j.output_name = "c.o";
		j.tmp_root = root;
		j.limits.out_bytes = 4096;
		int rc = exec_run(&j, &r);
		T_CHECK(rc == -E2BIG, "rc %d (%s) err %zu", rc, r.error, r.err.len);
		T_CHECK(r.err.len <= 4096 && r.obj.len == 0, "cap not kept: err %zu obj %zu",
			r.err.len, r.obj.len);
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
		exec_result_free(&r);
		free(big);
	}
	if (geteuid() == 0) {
		T_CASE("exec_run_drops_to_uid") {
			/* as nobody: the job dir and output subdirs must be writable
			 * for it, and the compiler must really run as that user */
			char *args[] = { "-c" };
			const char *who = "int u = 42;\n";
			struct exec_job j = { .compiler = gcc, .args = args, .nargs = 1,
					      .input_name = "u.i", .input = (const uint8_t *)who,
					      .input_len = strlen(who), .output_name = "o/u.o",
					      .tmp_root = root };
			struct exec_result r;
			j.limits.uid = 65534;
			j.limits.gid = 65534;
			chmod(root, 0755);
			int rc = exec_run(&j, &r);
			T_CHECK(rc == 0 && r.status == 0 && r.obj.len > 0, "rc %d (%s) status %d: %.*s",
				rc, r.error, r.status, (int)r.err.len, (const char *)r.err.data);
			T_CHECK(count_entries(root) == 0, "temp dir left behind");
			exec_result_free(&r);
		}
	} else {
		t_skip("exec_run_drops_to_uid", "not root");
	}
	rmdir(root);
	return t_done();
}
