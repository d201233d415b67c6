/* test_equiv.c — hub/equiv.c: the ident rewrite against the real assembler
 * and the pair rule.
 *
 * An object "from another package build" is made as that build makes it:
 * the same cc1 output with another `.ident` line, assembled by the same
 * assembler. The rewrite of that object with the hub's ident must be byte
 * for byte the hub's own object, for x86_64 (ELF64), aarch64 (ELF64) and
 * armhf (ELF32), with and without -g and with many sections. Malformed and
 * truncated objects are refused, never crash. Then the flag classes and the
 * words said for a pair that does not serve a job. */
#include "equiv.h"
#include "../lib/test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/test_equiv.XXXXXX";

static const char *src =
	"#include <stddef.h>\n"
	"struct s { int a; char b[40]; };\n"
	"static int tab[64] = { 1, 2, 3 };\n"
	"int g(struct s *p, size_t n) { char buf[64]; for (size_t i = 0; i < n && i < 64; i++)\n"
	"  buf[i] = p->b[i % 40]; return buf[n % 64] + tab[n % 64]; }\n"
	"double h(double x) { return x * 3.5 + (double)sizeof(struct s); }\n"
	"const char *k(void) { return \"a string for .rodata\"; }\n";

static int sh(const char *cmd)
{
	return system(cmd);
}

static bool have_cc(const char *cc)
{
	char c[300];
	snprintf(c, sizeof c, "command -v %s >/dev/null 2>&1", cc);
	return sh(c) == 0;
}

/* hub.o: cc FLAGS; other.o: the same assembly with another .ident */
static bool make_pair(const char *cc, const char *flags, struct buf *hub, struct buf *other)
{
	char c[1200], p[300];
	FILE *f;

	snprintf(p, sizeof p, "%s/x.c", dir);
	f = fopen(p, "w");
	if (!f)
		return false;
	fputs(src, f);
	fclose(f);
	snprintf(c, sizeof c,
		 "cd %s && %s %s -S x.c -o x.s && %s %s -c x.s -o hub.o && "
		 "sed 's/^[[:space:]]*\\.ident[[:space:]].*/\t.ident\t\"GCC: (Debian 12.2.0-99other1) 12.2.0\"/' x.s >y.s && "
		 "! cmp -s x.s y.s && %s %s -c y.s -o other.o",
		 dir, cc, flags, cc, flags, cc, flags);
	if (sh(c) != 0)
		return false;
	snprintf(p, sizeof p, "%s/hub.o", dir);
	if (buf_read_file(hub, p, 64u << 20))
		return false;
	snprintf(p, sizeof p, "%s/other.o", dir);
	return buf_read_file(other, p, 64u << 20) == 0;
}

static void patch_case(const char *cc, const char *flags)
{
	char name[200];
	snprintf(name, sizeof name, "patch %s %s", cc, flags);
	if (!have_cc(cc)) {
		t_skip(name, "compiler not installed (scripts/install-deps --arm)");
		return;
	}
	T_CASE(name) {
		struct buf hub = BUF_INIT, other = BUF_INIT, out = BUF_INIT;
		char id[600] = "", oid[600] = "";
		T_CHECK(make_pair(cc, flags, &hub, &other), "could not build the pair");
		T_CHECK(hub.len != other.len || memcmp(hub.data, other.data, hub.len),
			"the two objects are the same already");
		T_CHECK(equiv_comment_ident(hub.data, hub.len, id, sizeof id) == 0, "hub ident");
		T_CHECK(equiv_comment_ident(other.data, other.len, oid, sizeof oid) == 0 &&
			!strcmp(oid, "GCC: (Debian 12.2.0-99other1) 12.2.0"), "other ident '%s'", oid);
		T_CHECK(equiv_comment_patch(other.data, other.len, id, &out) == 0, "refused");
		T_CHECK(out.len == hub.len && !memcmp(out.data, hub.data, hub.len),
			"patched object differs from the hub's (%zu vs %zu bytes)", out.len, hub.len);
		/* and back: the hub's object with the other ident is the other's */
		T_CHECK(equiv_comment_patch(hub.data, hub.len, oid, &out) == 0 &&
			out.len == other.len && !memcmp(out.data, other.data, other.len),
			"reverse patch differs");
		buf_free(&hub);
		buf_free(&other);
		buf_free(&out);
	}
}

static void refusal_cases(void)
{
	T_CASE("refuses_malformed") {
		struct buf hub = BUF_INIT, other = BUF_INIT, out = BUF_INIT;
		char id[600];
		size_t bad = 0;
		T_CHECK(make_pair("gcc", "-O2", &hub, &other), "pair");
		T_CHECK(equiv_comment_patch((const uint8_t *)"not an object", 13, "GCC: (x) 1", &out) ==
			-EINVAL, "text accepted");
		T_CHECK(equiv_comment_patch(other.data, other.len, "clang version 14", &out) == -EINVAL,
			"non-GCC ident accepted");
		/* every truncation is refused and read within bounds (ASan) */
		for (size_t cut = 0; cut < other.len; cut += cut < 128 ? 1 : 7)
			if (equiv_comment_patch(other.data, cut, "GCC: (a) 1", &out) == 0)
				bad++;
		T_CHECK(bad == 0, "%zu truncations accepted", bad);
		/* flipped header bytes: refused or rewritten, never a crash */
		for (size_t i = 0; i < 64 && i < other.len; i++) {
			other.data[i] ^= 0x5a;
			(void)equiv_comment_patch(other.data, other.len, "GCC: (a) 1", &out);
			(void)equiv_comment_ident(other.data, other.len, id, sizeof id);
			other.data[i] ^= 0x5a;
		}
		buf_free(&hub);
		buf_free(&other);
		buf_free(&out);
	}
	T_CASE("refuses_no_ident") {
		char c[400], p[300];
		struct buf o = BUF_INIT, out = BUF_INIT;
		snprintf(c, sizeof c, "cd %s && gcc -O2 -fno-ident -c x.c -o noid.o", dir);
		T_CHECK(sh(c) == 0, "compile");
		snprintf(p, sizeof p, "%s/noid.o", dir);
		T_CHECK(buf_read_file(&o, p, 1 << 24) == 0, "read");
		T_CHECK(equiv_comment_patch(o.data, o.len, "GCC: (a) 1", &out) == -EINVAL,
			"object without an ident patched");
		buf_free(&o);
		buf_free(&out);
	}
}

static void class_cases(void)
{
	static const struct {
		const char *cmd;
		unsigned want;
	} t[] = {
		{ "gcc -O2 -c a.c", EQ_MASK(EQ_BASE) },
		{ "gcc -O2 -fstack-protector-strong -c a.c", EQ_MASK(EQ_BASE) | EQ_MASK(EQ_STACK_PROTECTOR) },
		{ "gcc -fstack-protector -fno-stack-protector -c a.c", EQ_MASK(EQ_BASE) },
		{ "gcc -fno-stack-protector -fstack-protector-all -c a.c",
		  EQ_MASK(EQ_BASE) | EQ_MASK(EQ_STACK_PROTECTOR) },
		{ "gcc -fstack-clash-protection -fstack-protector-explicit -c a.c",
		  EQ_MASK(EQ_BASE) | EQ_MASK(EQ_STACK_PROTECTOR) | EQ_MASK(EQ_STACK_CLASH) },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char name[120];
		snprintf(name, sizeof name, "classes %s", t[i].cmd);
		T_CASE(name) {
			int argc;
			char **argv = t_split(t[i].cmd, &argc);
			unsigned got = equiv_classes(argv, argc);
			T_CHECK(got == t[i].want, "classes %#x, want %#x", got, t[i].want);
			t_split_free(argv, argc);
		}
	}
	T_CASE("pair_rule_and_words") {
		struct equiv_pair p = { .state = { EQ_SAME, EQ_DIFFERS, EQ_UNPROVEN } };
		char why[300];
		unsigned base = EQ_MASK(EQ_BASE), ssp = base | EQ_MASK(EQ_STACK_PROTECTOR);
		T_CHECK(equiv_job_ok(&p, base), "base job refused");
		T_CHECK(!equiv_job_ok(&p, ssp), "stack-protector job sent where code differs");
		T_CHECK(!equiv_job_ok(&p, base | EQ_MASK(EQ_STACK_CLASH)), "unproven class sent");
		equiv_why(&p, base, why, sizeof why);
		T_CHECK(why[0] == 0, "a reason for a served job: %s", why);
		equiv_why(&p, ssp, why, sizeof why);
		T_CHECK(strstr(why, "stack-protector code differs: jobs with -fstack-protector* stay local"),
			"words: %s", why);
		equiv_why(&p, base | EQ_MASK(EQ_STACK_CLASH), why, sizeof why);
		T_CHECK(strstr(why, "not yet proven"), "words: %s", why);
		struct equiv_pair none = { .state = { EQ_DIFFERS } };
		T_CHECK(!equiv_job_ok(&none, base), "base differs, still sent");
	}
}

int main(void)
{
	char c[300];
	if (!mkdtemp(dir)) {
		printf("FAIL setup: mkdtemp\n");
		return 1;
	}
	patch_case("gcc", "-O2");
	patch_case("gcc", "-O2 -g");
	patch_case("gcc", "-O0 -g -ffunction-sections -fdata-sections");
	patch_case("aarch64-linux-gnu-gcc", "-O2 -g");
	patch_case("aarch64-linux-gnu-gcc", "-O2 -fstack-protector-strong");
	patch_case("arm-linux-gnueabihf-gcc", "-O2 -g");
	patch_case("arm-linux-gnueabihf-gcc", "-Os -ffunction-sections");
	refusal_cases();
	class_cases();
	snprintf(c, sizeof c, "rm -rf '%s'", dir);
	if (sh(c) != 0)
		printf("# could not remove %s\n", dir);
	return t_done();
}
