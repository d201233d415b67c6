/* test_scan.c — the hub's include scanner (hub/scan.h, scan_lex.h,
 * scan_cc.h): the directive lexer against tricky text (table), the -v
 * search-list parser and the argv reader; then each adversarial layout of
 * issue 11 built in a temp dir and checked against the real gcc: the
 * dependency list of `gcc ... -M` must be a SUBSET of the scan's inputs,
 * and for every file gcc read the scan's hash is the file's current one. */
#include "scan.h"
#include "scan_cc.h"
#include "scan_lex.h"
#include "../lib/test.h"
#include "../lib/scandeps.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- the lexer ---- */

/* The directives as one line: inc"a" inc<a> next<a> imp"a" emb"a"
 * has"a" hasnext<a> comp[TEXT] def{N="x"} def{N=<x>} def{N=ID} def{N}
 * and "once" when #pragma once. */
static void render(const struct scan_directives *ds, char *out, size_t len)
{
	static const char *const k[] = { "inc", "next", "imp", "emb", "has", "hasnext", "def" };
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < ds->n && o < len; i++) {
		const struct scan_directive *d = &ds->d[i];
		const char *op = scan_operand(ds, d);
		int w;
		if (d->kind == SCAN_DEFINE)
			w = d->form == SCAN_OPAQUE ? snprintf(out + o, len - o, "%sdef{%s}", o ? " " : "", scan_define_name(ds, d)) :
			    snprintf(out + o, len - o, "%sdef{%s=%s%s%s}", o ? " " : "", scan_define_name(ds, d),
				     d->form == SCAN_QUOTE ? "\"" : d->form == SCAN_ANGLE ? "<" : "", op,
				     d->form == SCAN_QUOTE ? "\"" : d->form == SCAN_ANGLE ? ">" : "");
		else if (d->form == SCAN_COMPUTED)
			w = snprintf(out + o, len - o, "%s%s[%s]", o ? " " : "", k[d->kind], op);
		else
			w = snprintf(out + o, len - o, "%s%s%s%s%s", o ? " " : "", k[d->kind],
				     d->form == SCAN_QUOTE ? "\"" : "<", op, d->form == SCAN_QUOTE ? "\"" : ">");
		o += (size_t)w;
	}
	if (ds->pragma_once && o < len)
		snprintf(out + o, len - o, "%sonce", o ? " " : "");
}

struct lrow {
	const char *name, *text, *want;
};

static const struct lrow lrows[] = {
	{ "plain forms", "#include \"a.h\"\n#include <b.h>\n#include_next <c.h>\n#import \"d.h\"\n",
	  "inc\"a.h\" inc<b.h> next<c.h> imp\"d.h\"" },
	{ "blanks and comments around #", "  #  include \"a.h\"\n\t#\tinclude<b.h>\n/**/#/**/include/**/\"c.h\"\n",
	  "inc\"a.h\" inc<b.h> inc\"c.h\"" },
	{ "digraph %:", "%:include \"a.h\"\n %: include <b.h>\n", "inc\"a.h\" inc<b.h>" },
	{ "line continuations", "#inc\\\nlude \"a.h\"\n#include \\\n <b.h>\n# \\  \ninclude \"c.h\"\n",
	  "inc\"a.h\" inc<b.h> inc\"c.h\"" },
	{ "CRLF lines", "#include \"a.h\"\r\n#include <b.h>\r\n", "inc\"a.h\" inc<b.h>" },
	{ "block comment hides lines", "/*\n#include \"no.h\"\n*/\n#include \"yes.h\"\n", "inc\"yes.h\"" },
	{ "glibc fcntl-linux.h: #include in a comment", "/* The tests:\n   #include <fcntl.h>\n   int main() {} */\n",
	  "" },
	{ "line comment", "// #include \"no.h\"\n#include \"yes.h\" // <no2.h>\n", "inc\"yes.h\"" },
	{ "a /* in a string opens no comment", "char *s = \"/*\";\n#include \"yes.h\"\nchar *t = \"*/\";\n",
	  "inc\"yes.h\"" },
	{ "quote in a char literal", "char c = '\"';\n#include \"yes.h\"\nchar d = '\\'';\n#include \"y2.h\"\n",
	  "inc\"yes.h\" inc\"y2.h\"" },
	{ "escaped quote in a string", "char *s = \"a\\\"/*\";\n#include \"yes.h\"\n", "inc\"yes.h\"" },
	{ "not first on the line", "int x; #include \"no.h\"\n#define S(x) #x\n", "def{S}" },
	{ "C++ raw string hides lines", "const char *r = R\"x(\n#include \"no.h\"\n)x\";\n#include \"yes.h\"\n",
	  "inc\"yes.h\"" },
	{ "raw string with prefix and empty delimiter", "auto r = u8R\"(\n#include \"no.h\"\n)\";\n#include \"yes.h\"\n",
	  "inc\"yes.h\"" },
	{ "R without a raw string", "int R = 1; char *s = R\"not raw\";\n#include \"yes.h\"\n", "inc\"yes.h\"" },
	{ "digit separators", "int n = 1'000'000; /* '\n#include \"no.h\"\n*/\n#include \"yes.h\"\n",
	  "inc\"yes.h\"" },
	{ "computed includes", "#include MACRO\n#include FOO(x, y)\n#include  A /* c */ B\n",
	  "inc[MACRO] inc[FOO(x, y)] inc[A B]" },
	{ "__has_include in #if and #elif", "#if __has_include(<a.h>) && __has_include ( \"b.h\" )\n#elif __has_include_next(<c.h>)\n#endif\n",
	  "has<a.h> has\"b.h\" hasnext<c.h>" },
	{ "__has_include computed and old spelling", "#if __has_include(MAC(x))\n#elif __has_include__(<d.h>)\n#endif\n",
	  "has[MAC(x)] has<d.h>" },
	{ "defined(__has_include) is no operand", "#if defined(__has_include)\n#ifdef __has_include\n#endif\n#endif\n", "" },
	{ "__has_include in a #define", "#define HAVE_A __has_include(<a.h>)\n", "has<a.h> def{HAVE_A}" },
	{ "__has_include outside a directive", "int x = __has_include(<no.h>);\n", "" },
	{ "simple defines", "#define H \"h.h\"\n#define A <a.h>\n#define I OTHER\n#define F(x) <x>\n#define E\n#define C 1 + 2\n",
	  "def{H=\"h.h\"} def{A=<a.h>} def{I=OTHER} def{F} def{E} def{C}" },
	{ "#pragma once", "#pragma once\n#include \"a.h\"\n", "inc\"a.h\" once" },
	{ "#pragma other", "#pragma GCC system_header\n", "" },
	{ "#embed", "#embed \"blob.bin\"\n", "emb\"blob.bin\"" },
	{ "UTF-8 BOM", "\xEF\xBB\xBF#include \"a.h\"\n", "inc\"a.h\"" },
	{ "no newline at the end", "#include \"a.h\"", "inc\"a.h\"" },
	{ "unterminated header names", "#include \"a.h\n#include <b.h\n", "inc[\"a.h] inc[<b.h]" },
	{ "comment spanning lines inside a directive", "#include \"a.h\" /* one\n#include \"no.h\" */\n#include \"b.h\"\n",
	  "inc\"a.h\" inc\"b.h\"" },
	{ "unterminated comment", "#include \"a.h\"\n/* #include \"no.h\"\n", "inc\"a.h\"" },
	{ "empty and null directives", "#\n# \n#include\n", "inc[]" },
};

static void t_lex(void)
{
	for (size_t i = 0; i < sizeof lrows / sizeof lrows[0]; i++) {
		char name[128], got[1024];
		struct scan_directives ds;
		snprintf(name, sizeof name, "scan_lex: %s", lrows[i].name);
		T_CASE(name) {
			int r = scan_lex(lrows[i].text, strlen(lrows[i].text), &ds);
			T_CHECK(r == 0, "scan_lex: %d", r);
			render(&ds, got, sizeof got);
			T_CHECK(!strcmp(got, lrows[i].want), "got '%s', want '%s'", got, lrows[i].want);
			bool comp = false;
			for (size_t k = 0; k < ds.n; k++)
				comp |= ds.d[k].form == SCAN_COMPUTED && ds.d[k].kind != SCAN_DEFINE;
			T_CHECK(ds.computed == comp, "computed flag");
			scan_lex_free(&ds);
		}
	}
}

/* ---- the -v search list and argv ---- */

static const char gcc_v[] =
	"Using built-in specs.\n"
	"ignoring nonexistent directory \"/usr/local/include/x86_64-linux-gnu\"\n"
	"ignoring nonexistent directory \"missing\"\n"
	"ignoring duplicate directory \"/usr/include\"\n"
	"#include \"...\" search starts here:\n"
	" q\n"
	"#include <...> search starts here:\n"
	" include\n"
	" /usr/lib/gcc/x86_64-linux-gnu/12/include\n"
	" /usr/include\n"
	" /Library/Frameworks (framework directory)\n"
	"End of search list.\n"
	" /not/a/dir\n";

static void t_chain(void)
{
	struct scan_chain c;
	T_CASE("scan_cc: the search list of gcc -v") {
		T_CHECK(scan_chain_parse(gcc_v, sizeof gcc_v - 1, &c) == 0, "parse");
		T_CHECK(c.n == 5 && c.quote_n == 1, "n %zu quote_n %zu", c.n, c.quote_n);
		T_CHECK(c.n == 5 && !strcmp(c.dirs[0], "q") && !strcmp(c.dirs[1], "include") &&
			!strcmp(c.dirs[3], "/usr/include") && !strcmp(c.dirs[4], "/Library/Frameworks"), "dirs");
		T_CHECK(c.nabsent == 2 && !strcmp(c.absent[1], "missing"), "absent %zu", c.nabsent);
		scan_chain_free(&c);
	}
	T_CASE("scan_cc: no end marker is an error") {
		T_CHECK(scan_chain_parse(gcc_v, 200, &c) == -EINVAL, "truncated");
		T_CHECK(scan_chain_parse("", 0, &c) == -EINVAL, "empty");
	}
}

static void t_argv(void)
{
	struct scan_opts o;
	char err[128];
	int argc;
	char **v;

	T_CASE("scan_cc: argv: source, -include/-imacros order, -D, the query") {
		v = t_split("gcc -c -o a.o -Iinc -I /abs -iquote q -isystem s -idirafter d -include i1.h "
			    "-imacros m.h -include i2.h -DH=\"h.h\" -D X -O2 -m32 -nostdinc -Wall src/a.c", &argc);
		T_CHECK(scan_parse_argv(v, (size_t)argc, &o, err, sizeof err) == 0, "parse: %s", err);
		T_CHECK(o.source && !strcmp(o.source, "src/a.c") && !strcmp(o.lang, "c"), "source");
		T_CHECK(o.nincludes == 2 && !strcmp(o.includes[1], "i2.h") && o.nimacros == 1, "includes");
		T_CHECK(o.ndefines == 2 && !strcmp(o.defines[0], "H=\"h.h\"") && !strcmp(o.defines[1], "X"), "defines");
		T_CHECK(o.nquery == 11 && o.query_relative && !o.preinclude, "query %zu", o.nquery);
		scan_opts_free(&o);
		t_split_free(v, argc);
	}
	T_CASE("scan_cc: argv: languages") {
		const char *const rows[][2] = {
			{ "g++ -c a.c", "c++" }, { "gcc -c a.cc", "c++" }, { "gcc -x c++ -c a.h", "c++" },
			{ "gcc -c a.S", "assembler-with-cpp" }, { "cc -c a.i", "cpp-output" },
			{ "x86_64-linux-gnu-g++-12 -c a.c", "c++" }, { "gcc -xc -c a.cpp", "c" },
		};
		for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
			v = t_split(rows[i][0], &argc);
			T_CHECK(scan_parse_argv(v, (size_t)argc, &o, err, sizeof err) == 0 &&
				!strcmp(o.lang, rows[i][1]), "%s: %s", rows[i][0], o.lang ? o.lang : err);
			scan_opts_free(&o);
			t_split_free(v, argc);
		}
	}
	T_CASE("scan_cc: argv: no input, two inputs") {
		v = t_split("gcc -c -o a.o", &argc);
		T_CHECK(scan_parse_argv(v, (size_t)argc, &o, err, sizeof err) == -EINVAL, "no input");
		t_split_free(v, argc);
		v = t_split("gcc -c a.c b.c", &argc);
		T_CHECK(scan_parse_argv(v, (size_t)argc, &o, err, sizeof err) == -EINVAL, "two inputs");
		t_split_free(v, argc);
	}
}

/* ---- layouts against the real gcc ---- */

static char dir[256];
static struct scan *S;

static const char *P(const char *rel)
{
	static char p[8][PATH_MAX];
	static int k;
	k = (k + 1) % 8;
	snprintf(p[k], sizeof p[k], "%s/%s", dir, rel);
	return p[k];
}

/* Writes dir/rel (parents made). */
static void mk(const char *rel, const char *text)
{
	char p[PATH_MAX], *s;
	FILE *f;
	snprintf(p, sizeof p, "%s", P(rel));
	for (s = p + strlen(dir) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	if (!(f = fopen(p, "w"))) {
		perror(p);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static void mkdirs(const char *rel)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/x", rel);
	mk(p, "");
	unlink(P(p));
}

/* An old mtime, so the entry is not racy and absent names are trusted. */
static void age(const char *rel)
{
	struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	utimensat(AT_FDCWD, P(rel), ts, AT_SYMLINK_NOFOLLOW);
}

static int scan(const char *cmd, struct scan_result *r)
{
	int argc, rc;
	char **v = t_split(cmd, &argc);
	struct scan_job j = { .argv = v, .argc = (size_t)argc, .cwd = dir };
	rc = scan_job(S, &j, r);
	if (rc)
		printf("     scan_job(%s): %s\n", cmd, r->err);
	t_split_free(v, argc);
	return rc;
}

static bool has(const struct scan_result *r, const char *rel)
{
	char real[PATH_MAX];
	return realpath(P(rel), real) && scandeps_find(r, real) >= 0;
}

static bool has_link(const struct scan_result *r, const char *rel)
{
	for (size_t i = 0; i < r->nlinks; i++)
		if (!strcmp(r->links[i].path, P(rel)))
			return true;
	return false;
}

/* gcc's own -M list for cmd (run without a shell, in dir) must be a
 * subset of r's inputs. */
static bool subset(const char *cmd, const struct scan_result *r, char *why, size_t wl)
{
	int argc, n, st = 0;
	char **v = t_split(cmd, &argc);
	pid_t pid;

	v[argc++] = strdup("-M");
	v[argc++] = strdup("-MF");
	v[argc++] = strdup("deps.d");
	fflush(stdout);
	if ((pid = fork()) == 0) {
		int fd;
		if (chdir(dir) != 0 || (fd = open("gcc.err", O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
			_exit(127);
		dup2(fd, 2);
		execvp(v[0], v);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	t_split_free(v, argc);
	if (pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(why, wl, "gcc failed: %s (see %s/gcc.err)", cmd, dir);
		return false;
	}
	return scandeps_check(r, dir, P("deps.d"), &n, why, wl) == 0 && n > 0;
}

/* Scans cmd, checks the subset; the result stays in *r for more checks. */
#define SCAN_OK(cmd, r)                                                          \
	do {                                                                     \
		char why_[PATH_MAX + 128] = "";                                  \
		T_CHECK(scan((cmd), (r)) == 0, "scan failed");                   \
		T_CHECK(subset((cmd), (r), why_, sizeof why_), "subset: %s", why_); \
	} while (0)

static void t_two_dirs(void)
{
	struct scan_result r;
	T_CASE("layout: the same header name in two -I dirs: the first wins") {
		mk("two/i1/same.h", "int one;\n");
		mk("two/i2/same.h", "int two;\n");
		mk("two/t.c", "#include <same.h>\n");
		SCAN_OK("gcc -c -Itwo/i1 -Itwo/i2 two/t.c", &r);
		T_CHECK(has(&r, "two/i1/same.h") && !has(&r, "two/i2/same.h"), "wrong one");
		scan_result_free(&r);
	}
}

static void t_created_later(void)
{
	struct scan_result r;
	T_CASE("layout: a header created between two jobs in an earlier dir wins") {
		mk("late/e2/late.h", "int e2;\n");
		mkdirs("late/e1");
		mk("late/t.c", "#include <late.h>\n");
		age("late/e1");
		age("late/e2");
		SCAN_OK("gcc -c -Ilate/e1 -Ilate/e2 late/t.c", &r);
		T_CHECK(has(&r, "late/e2/late.h"), "e2");
		scan_result_free(&r);
		SCAN_OK("gcc -c -Ilate/e1 -Ilate/e2 late/t.c", &r);	/* absent names trusted */
		scan_result_free(&r);
		mk("late/e1/late.h", "int e1;\n");
		SCAN_OK("gcc -c -Ilate/e1 -Ilate/e2 late/t.c", &r);
		T_CHECK(has(&r, "late/e1/late.h") && !has(&r, "late/e2/late.h"), "the new header lost");
		scan_result_free(&r);
	}
	T_CASE("layout: a search dir that did not exist, created later, is asked again") {
		mk("late2/e2/l2.h", "int e2;\n");
		mk("late2/t.c", "#include <l2.h>\n");
		SCAN_OK("gcc -c -Ilate2/e1 -Ilate2/e2 late2/t.c", &r);
		T_CHECK(has(&r, "late2/e2/l2.h"), "e2");
		scan_result_free(&r);
		mk("late2/e1/l2.h", "int e1;\n");
		SCAN_OK("gcc -c -Ilate2/e1 -Ilate2/e2 late2/t.c", &r);
		T_CHECK(has(&r, "late2/e1/l2.h") && r.chain_asked, "the new dir's header lost");
		scan_result_free(&r);
	}
}

static void t_include_next(void)
{
	struct scan_result r;
	T_CASE("layout: #include_next continues after the includer's dir") {
		mk("nx/n1/x.h", "#include_next <x.h>\nint n1;\n");
		mk("nx/n2/x.h", "#include_next <x.h>\nint n2;\n");
		mk("nx/n3/x.h", "int n3;\n");
		mk("nx/n0/x.h", "int n0_never;\n");
		mk("nx/t.c", "#include <x.h>\n#include \"q.h\"\n");
		mk("nx/q.h", "#include_next <q.h>\n");
		mk("nx/n1/q.h", "int q1;\n");
		SCAN_OK("gcc -c -iquote nx/n0 -Inx/n1 -Inx/n2 -Inx/n3 nx/t.c", &r);
		T_CHECK(has(&r, "nx/n1/x.h") && has(&r, "nx/n2/x.h") && has(&r, "nx/n3/x.h"), "chain");
		T_CHECK(has(&r, "nx/n1/q.h") && has(&r, "nx/q.h"), "beside the includer, then the chain");
		scan_result_free(&r);
	}
}

static void t_pragma_once(void)
{
	struct scan_result r;
	T_CASE("layout: #pragma once reached by two paths") {
		mk("po/real/once.h", "#pragma once\n#include \"inner.h\"\n");
		mk("po/real/inner.h", "int inner;\n");
		symlink("real", P("po/alias"));
		mk("po/t.c", "#include \"real/once.h\"\n#include \"alias/once.h\"\n#include \"real/../real/once.h\"\n");
		SCAN_OK("gcc -c po/t.c", &r);
		T_CHECK(has(&r, "po/real/once.h") && has(&r, "po/real/inner.h"), "once.h");
		T_CHECK(has_link(&r, "po/alias"), "the dir link");
		scan_result_free(&r);
	}
}

static void t_symlinks(void)
{
	struct scan_result r;
	T_CASE("layout: symlinked headers and dirs; quote includes from the link's dir") {
		mk("sl/real/real.h", "#include \"sib.h\"\n");
		mk("sl/real/sib.h", "int wrong_sib;\n");
		mk("sl/sib.h", "int right_sib;\n");
		mk("sl/real/deep.h", "int deep;\n");
		symlink("real/real.h", P("sl/lh.h"));
		symlink("real", P("sl/ld"));
		mk("sl/t.c", "#include \"lh.h\"\n#include \"ld/deep.h\"\n");
		SCAN_OK("gcc -c sl/t.c", &r);
		T_CHECK(has(&r, "sl/sib.h"), "the link dir's sib.h");
		T_CHECK(has_link(&r, "sl/lh.h") && has_link(&r, "sl/ld"), "links: %zu", r.nlinks);
		scan_result_free(&r);
	}
}

static void t_has_include(void)
{
	struct scan_result r;
	T_CASE("layout: __has_include: found ones are inputs, a later one is seen") {
		mk("hi/t.c", "#if __has_include(\"hi.h\")\n#endif\n#if __has_include(<later.h>)\n#include <later.h>\n#endif\n");
		mk("hi/hi.h", "int hi;\n");
		mkdirs("hi/inc");
		age("hi/inc");
		SCAN_OK("gcc -c -Ihi/inc hi/t.c", &r);
		T_CHECK(has(&r, "hi/hi.h"), "hi.h not sent: the board would answer 0");
		scan_result_free(&r);
		mk("hi/inc/later.h", "int later;\n");
		SCAN_OK("gcc -c -Ihi/inc hi/t.c", &r);
		T_CHECK(has(&r, "hi/inc/later.h"), "later.h");
		scan_result_free(&r);
	}
}

static void t_computed(void)
{
	struct scan_result r;
	T_CASE("layout: computed includes through defines and -D") {
		mk("cm/c1.h", "int c1;\n");
		mk("cm/c3.h", "int c3;\n");
		mk("cm/cfg.h", "#define HDR2 HDR\n");
		mk("cm/t.c", "#include \"cfg.h\"\n#define HDR \"c1.h\"\n#include HDR2\n#include CFG\n");
		SCAN_OK("gcc -c -DCFG=\"c3.h\" cm/t.c", &r);
		T_CHECK(has(&r, "cm/c1.h") && has(&r, "cm/c3.h") && !r.incomplete && !r.ngaps, "gaps %zu", r.ngaps);
		scan_result_free(&r);
	}
	T_CASE("layout: a function-like computed include is a gap, remembered inputs close it") {
		mk("cm/c2.h", "int c2;\n");
		mk("cm/f.c", "#define STR(x) #x\n#define XSTR(x) STR(x)\n#include XSTR(c2.h)\n");
		T_CHECK(scan("gcc -c cm/f.c", &r) == 0, "scan");	/* gcc reads c2.h: not a subset */
		T_CHECK(r.incomplete && r.ngaps == 1 && !strcmp(r.gaps[0].text, "XSTR(c2.h)") &&
			!strcmp(r.gaps[0].file, P("cm/f.c")), "gap");
		scan_result_free(&r);
		const char *extra[] = { P("cm/c2.h") };
		T_CHECK(scan_remember(S, P("cm/f.c"), extra, 1) == 0, "remember");
		SCAN_OK("gcc -c cm/f.c", &r);
		T_CHECK(!r.incomplete && r.ngaps == 1 && r.gaps[0].remembered && r.remembered == 1 &&
			has(&r, "cm/c2.h"), "remembered");
		scan_result_free(&r);
	}
}

static void t_rewritten_deleted(void)
{
	struct scan_result r;
	T_CASE("layout: a header rewritten between two scans (autoconf.h), same size and mtime") {
		mk("rw/gen/autoconf.h", "#define CONFIG_A 1\n");
		mk("rw/t.c", "#include \"gen/autoconf.h\"\n");
		age("rw/gen/autoconf.h");
		SCAN_OK("gcc -c rw/t.c", &r);
		scan_result_free(&r);
		mk("rw/gen/autoconf.h", "#define CONFIG_B 1\n");
		age("rw/gen/autoconf.h");
		SCAN_OK("gcc -c rw/t.c", &r);	/* the hash check is the current bytes' */
		scan_result_free(&r);
	}
	T_CASE("layout: a header deleted between two scans") {
		mk("del/t.c", "#if __has_include(\"del.h\")\n#include \"del.h\"\n#endif\n");
		mk("del/del.h", "int del;\n");
		SCAN_OK("gcc -c del/t.c", &r);
		T_CHECK(has(&r, "del/del.h"), "del.h");
		scan_result_free(&r);
		unlink(P("del/del.h"));
		SCAN_OK("gcc -c del/t.c", &r);
		T_CHECK(!has(&r, "del/del.h") && r.nin == 2, "deleted header still in: %zu", r.nin);
		scan_result_free(&r);
	}
}

static void t_text(void)
{
	struct scan_result r;
	T_CASE("layout: comments and strings create no include; continuations and digraphs do") {
		mk("tx/t.c", "/* #include \"in_comment.h\" */\nconst char *s = \"/*\";\n#include \"after_string.h\"\n"
			     "char c = '\"';\n#include \"after_char.h\"\n#inc\\\nlude \"cont.h\"\n%:include \"digraph.h\"\n"
			     "  #  include \"spaced.h\"\n");
		const char *hs[] = { "in_comment.h", "after_string.h", "after_char.h", "cont.h", "digraph.h", "spaced.h" };
		for (size_t i = 0; i < 6; i++) {
			char p[64];
			snprintf(p, sizeof p, "tx/%s", hs[i]);
			mk(p, "int x;\n");
		}
		SCAN_OK("gcc -c tx/t.c", &r);
		T_CHECK(!has(&r, "tx/in_comment.h"), "the comment's include followed");
		T_CHECK(has(&r, "tx/after_string.h") && has(&r, "tx/after_char.h") && has(&r, "tx/cont.h") &&
			has(&r, "tx/digraph.h") && has(&r, "tx/spaced.h"), "one missed");
		scan_result_free(&r);
	}
	T_CASE("layout: a C++ raw string hides its #include (g++)") {
		mk("tx/raw.cc", "const char *r = R\"x(\n#include \"raw.h\"\n)x\";\n#include \"after_raw.h\"\n");
		mk("tx/raw.h", "#error raw\n");
		mk("tx/after_raw.h", "int after_raw;\n");
		SCAN_OK("g++ -c tx/raw.cc", &r);
		T_CHECK(!has(&r, "tx/raw.h") && has(&r, "tx/after_raw.h"), "raw string");
		scan_result_free(&r);
	}
}

static void t_cmdline(void)
{
	struct scan_result r;
	T_CASE("layout: -include, -imacros and #include inside them") {
		mk("cl/pre.h", "#include \"pre2.h\"\n");
		mk("cl/pre2.h", "int pre2;\n");
		mk("cl/inc/mac.h", "#include <macdep.h>\n#define M 1\n");
		mk("cl/inc/macdep.h", "#define MD 1\n");
		mk("cl/t.c", "int t;\n");
		SCAN_OK("gcc -c -Icl/inc -include cl/pre.h -imacros mac.h cl/t.c", &r);
		T_CHECK(has(&r, "cl/pre.h") && has(&r, "cl/pre2.h") && has(&r, "cl/inc/mac.h") &&
			has(&r, "cl/inc/macdep.h"), "cmdline files");
		scan_result_free(&r);
	}
	T_CASE("layout: -iquote, -isystem, -idirafter in gcc's order") {
		mk("or/iq/o.h", "int iq;\n");
		mk("or/is/o.h", "int is;\n");
		mk("or/is/o3.h", "int is3;\n");
		mk("or/ia/o2.h", "int ia;\n");
		mk("or/ia/o3.h", "int ia3;\n");
		mk("or/t.c", "#include \"o.h\"\n#include <o2.h>\n#include <o3.h>\n");
		SCAN_OK("gcc -c -iquote or/iq -isystem or/is -idirafter or/ia or/t.c", &r);
		T_CHECK(has(&r, "or/iq/o.h") && !has(&r, "or/is/o.h") && has(&r, "or/ia/o2.h") &&
			has(&r, "or/is/o3.h") && !has(&r, "or/ia/o3.h"), "order");
		scan_result_free(&r);
	}
}

static void t_glibc(void)
{
	static const char *const rows[][3] = {
		{ "ul/stdio.c", "#include <stdio.h>\nint main(void) { puts(\"\"); }\n", "gcc -c -O2 ul/stdio.c" },
		{ "ul/fcntl.c", "#include <fcntl.h>\n#include <unistd.h>\n", "gcc -c -D_GNU_SOURCE ul/fcntl.c" },
		{ "ul/mount.c", "#include <sys/mount.h>\n#include <sys/stat.h>\n", "gcc -c ul/mount.c" },
		{ "ul/m32.c", "#include <stdint.h>\n#include <limits.h>\n", "gcc -c -m64 -std=c11 ul/m32.c" },
		{ "ul/io.cc", "#include <iostream>\n#include <vector>\n#include <string>\nint main() { std::cout << 1; }\n",
		  "g++ -c -std=gnu++17 ul/io.cc" },
	};
	struct scan_result r;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char name[128];
		snprintf(name, sizeof name, "userland: %s", rows[i][2]);
		T_CASE(name) {
			mk(rows[i][0], rows[i][1]);
			SCAN_OK(rows[i][2], &r);
			scan_result_free(&r);
			SCAN_OK(rows[i][2], &r);	/* warm: the same answer from the table */
			scan_result_free(&r);
		}
	}
}

static void t_control(void)
{
	struct scan_result r;
	T_CASE("control: the subset check itself fails on a changed or unsent file") {
		char why[PATH_MAX + 128] = "";
		int n;
		mk("ctl/t.c", "#include \"c.h\"\n");
		mk("ctl/c.h", "int c;\n");
		SCAN_OK("gcc -c ctl/t.c", &r);
		mk("ctl/c.h", "int changed;\n");	/* after the scan: its hash is stale */
		T_CHECK(!subset("gcc -c ctl/t.c", &r, why, sizeof why) && strstr(why, "hash"),
			"a stale hash passed: %s", why);
		size_t keep = r.nin;
		r.nin = 1;	/* only the source: c.h and stdc-predef.h unsent */
		T_CHECK(scandeps_check(&r, dir, P("deps.d"), &n, why, sizeof why) >= 2 && strstr(why, "not in"),
			"a missing file passed: %s", why);
		r.nin = keep;
		scan_result_free(&r);
	}
}

int main(void)
{
	t_lex();
	t_chain();
	t_argv();
	snprintf(dir, sizeof dir, "/tmp/test_scan.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	if (!(S = scan_new(NULL)))
		return 1;
	if (system("command -v gcc >/dev/null && command -v g++ >/dev/null") != 0) {
		t_skip("scan layouts", "gcc/g++ missing (build-essential)");
	} else {
		t_control();
		t_two_dirs();
		t_created_later();
		t_include_next();
		t_pragma_once();
		t_symlinks();
		t_has_include();
		t_computed();
		t_rewritten_deleted();
		t_text();
		t_cmdline();
		t_glibc();
	}
	scan_free(S);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return t_done();
}
