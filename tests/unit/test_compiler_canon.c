/* test_compiler_canon.c — compiler_canon() on RECORDED real outputs
 * (tests/fixtures/compilers/NAME/{v,as}: `-v -S` of an empty C file and the
 * assembler's --version through the driver) of native and cross gcc 12 and
 * clang 14, table-driven: what each identity says (GMP/MPFR line and
 * assembler included), which pairs are the same
 * compiler modulo the vendor's package version, and that paths, quoting
 * and build directories do not leak
 * into an identity. Run from the tree's root (tests/run does). */
#include "compiler.h"
#include "../lib/test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIX "tests/fixtures/compilers/"

struct rec {
	struct buf v, as;
};

static bool load(const char *name, struct rec *r)
{
	char p[256];
	r->v = (struct buf)BUF_INIT;
	r->as = (struct buf)BUF_INIT;
	snprintf(p, sizeof p, FIX "%s/v", name);
	if (buf_read_file(&r->v, p, 1 << 20))
		return false;
	snprintf(p, sizeof p, FIX "%s/as", name);
	return buf_read_file(&r->as, p, 1 << 20) == 0;
}

static void unload(struct rec *r)
{
	buf_free(&r->v);
	buf_free(&r->as);
}

/* canon of (v, as) as a NUL-terminated malloc'd string, or NULL */
static char *canon_of(const struct buf *v, const struct buf *as, bool *clang)
{
	struct buf o = BUF_INIT;
	size_t n;
	if (compiler_canon((const char *)v->data, v->len, (const char *)as->data, as->len,
			   &o, clang)) {
		buf_free(&o);
		return NULL;
	}
	buf_put(&o, "", 1);
	return (char *)buf_steal(&o, &n);
}

static char *canon_named(const char *name, bool *clang)
{
	struct rec r;
	char *c = NULL;
	if (load(name, &r))
		c = canon_of(&r.v, &r.as, clang);
	unload(&r);
	return c;
}

/* the canon without its "version:" line (the vendor package version) */
static void drop_version(char *c)
{
	char *v = strstr(c, "version: "), *e;
	if (v && (v == c || v[-1] == '\n') && (e = strchr(v, '\n')))
		memmove(v, e + 1, strlen(e + 1) + 1);
}

/* replaces the first `from` in b with `to` */
static bool subst(struct buf *b, const char *from, const char *to)
{
	struct buf n = BUF_INIT;
	const char *s = (const char *)b->data;
	const char *f = memmem(s, b->len, from, strlen(from));
	if (!f)
		return false;
	buf_put(&n, s, (size_t)(f - s));
	buf_put(&n, to, strlen(to));
	buf_put(&n, f + strlen(from), b->len - (size_t)(f - s) - strlen(from));
	buf_free(b);
	*b = n;
	return buf_ok(b);
}

static const struct {
	const char *name, *target, *as_target, *version, *defaults;
	bool clang;
} fixtures[] = {
	{ "gcc-12-x86_64-native", "x86_64-linux-gnu", "x86_64-linux-gnu",
	  "gcc version 12.2.0 (Debian 12.2.0-14+deb12u1)", "-mtune=generic -march=x86-64", false },
	{ "gcc-12-aarch64-cross", "aarch64-linux-gnu", "aarch64-linux-gnu",
	  "gcc version 12.2.0 (Debian 12.2.0-14)", "-mlittle-endian -mabi=lp64", false },
	{ "gcc-12-armhf-cross", "arm-linux-gnueabihf", "arm-linux-gnueabihf",
	  "gcc version 12.2.0 (Debian 12.2.0-14)", "-mfloat-abi=hard", false },
	{ "gcc-12-arm64-board-native", "aarch64-linux-gnu", "aarch64-linux-gnu",
	  "gcc version 12.2.0 (Debian 12.2.0-14+deb12u1)", "-mlittle-endian -mabi=lp64", false },
	{ "gcc-12-arm64-board-x86_64-cross", "x86_64-linux-gnu", "x86_64-linux-gnu",
	  "gcc version 12.2.0 (Debian 12.2.0-14)", "-mtune=generic -march=x86-64", false },
	{ "clang-14-x86_64", "x86_64-pc-linux-gnu", NULL,
	  "Debian clang version 14.0.6", NULL, true },
};

enum rel { SAME, SAME_BUT_VERSION, DIFFERENT };
static const struct {
	const char *a, *b;
	enum rel rel;
} pairs[] = {
	/* the two cross-architecture pairs: one compiler, two package
	 * builds; only the ident (package version) tells them apart here, and
	 * that is why the identity keeps it (canaries decide the rest) */
	{ "gcc-12-x86_64-native", "gcc-12-arm64-board-x86_64-cross", SAME_BUT_VERSION },
	{ "gcc-12-aarch64-cross", "gcc-12-arm64-board-native", SAME_BUT_VERSION },
	{ "gcc-12-x86_64-native", "gcc-12-aarch64-cross", DIFFERENT },
	{ "gcc-12-aarch64-cross", "gcc-12-armhf-cross", DIFFERENT },
	{ "gcc-12-x86_64-native", "clang-14-x86_64", DIFFERENT },
	{ "gcc-12-x86_64-native", "gcc-12-x86_64-native", SAME },
};

static void line_checks(const char *c, const char *name)
{
	const char *l = c;
	while (*l) {
		const char *e = strchr(l, '\n');
		size_t ll = e ? (size_t)(e - l) : strlen(l);
		T_CHECK(!memchr(l, '/', ll), "%s: a path in '%.*s'", name, (int)ll, l);
		T_CHECK(!memchr(l, '\'', ll), "%s: a quote fragment in '%.*s'", name, (int)ll, l);
		T_CHECK(memmem(l, ll, ": ", 2), "%s: not key: value '%.*s'", name, (int)ll, l);
		l += ll + (e ? 1 : 0);
	}
}

static void fixture_cases(void)
{
	for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
		char name[96], want[160];
		bool clang = !fixtures[i].clang;
		snprintf(name, sizeof name, "canon %s", fixtures[i].name);
		T_CASE(name) {
			char *c = canon_named(fixtures[i].name, &clang);
			T_CHECK(c, "canon failed (fixture missing or unparsed)");
			if (!c)
				break;
			T_CHECK(clang == fixtures[i].clang, "clang %d", clang);
			snprintf(want, sizeof want, "\ntarget: %s\n", fixtures[i].target);
			T_CHECK(strstr(c, want) || !strncmp(c, want + 1, strlen(want + 1)),
				"no '%s' in\n%s", want + 1, c);
			snprintf(want, sizeof want, "version: %s\n", fixtures[i].version);
			T_CHECK(strstr(c, want), "no '%s' in\n%s", want, c);
			T_CHECK(strstr(c, "\nas: "), "no assembler line");
			if (fixtures[i].as_target) {
				snprintf(want, sizeof want, "\nas-target: %s\n", fixtures[i].as_target);
				T_CHECK(strstr(c, want), "no '%s'", want + 1);
				T_CHECK(strstr(c, "\nlibs: GMP version "), "no GMP/MPFR line");
				T_CHECK(strstr(c, "GNU assembler (GNU Binutils for Debian) 2.40"), "as version");
			}
			if (fixtures[i].defaults) {
				snprintf(want, sizeof want, "\ndefaults: %s", fixtures[i].defaults);
				T_CHECK(strstr(c, want), "no '%s'", want + 1);
			}
			T_CHECK(!strstr(c, "12.2.0-14'") && !strstr(c, "pkgversion"),
				"package version split into the configure words");
			line_checks(c, fixtures[i].name);
			free(c);
		}
	}
}

static void pair_cases(void)
{
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		char name[160];
		bool cl;
		snprintf(name, sizeof name, "pair %s vs %s", pairs[i].a, pairs[i].b);
		T_CASE(name) {
			char *a = canon_named(pairs[i].a, &cl), *b = canon_named(pairs[i].b, &cl);
			T_CHECK(a && b, "canon failed");
			if (a && b) {
				bool same = !strcmp(a, b);
				drop_version(a);
				drop_version(b);
				bool same_nv = !strcmp(a, b);
				T_CHECK(pairs[i].rel != SAME || same, "differ:\n%s\n--\n%s", a, b);
				T_CHECK(pairs[i].rel != SAME_BUT_VERSION || (!same && same_nv),
					"want same but the version (same %d, without version %d):\n%s\n--\n%s",
					same, same_nv, a, b);
				T_CHECK(pairs[i].rel != DIFFERENT || !same_nv, "same without version");
			}
			free(a);
			free(b);
		}
	}
}

/* one recorded output, one change: does the identity follow? */
static void mutation_case(const char *name, const char *file, const char *from,
			  const char *to, bool must_differ)
{
	T_CASE(name) {
		struct rec r;
		bool cl;
		char *a = NULL, *b = NULL;
		T_CHECK(load("gcc-12-x86_64-native", &r), "fixture");
		a = canon_of(&r.v, &r.as, &cl);
		T_CHECK(subst(!strcmp(file, "v") ? &r.v : &r.as, from, to), "'%s' not in %s", from, file);
		b = canon_of(&r.v, &r.as, &cl);
		T_CHECK(a && b, "canon failed");
		if (a && b)
			T_CHECK(must_differ ? strcmp(a, b) != 0 : strcmp(a, b) == 0,
				"%s: identity %s", from, must_differ ? "unchanged" : "changed");
		free(a);
		free(b);
		unload(&r);
	}
}

static void mutation_cases(void)
{
	/* a package built elsewhere: the random build dir of the offload targets */
	mutation_case("offload_build_path_ignored", "v", "/build/reproducible-path/gcc-12-12.2.0",
		      "/build/gcc-12-Xq7Zk2/gcc-12-12.2.0", false);
	mutation_case("compiler_path_ignored", "v", "COLLECT_GCC=/usr/bin/gcc-12",
		      "COLLECT_GCC=/opt/cross/bin/x86_64-linux-gnu-gcc-12", false);
	mutation_case("package_version_counts", "v", "gcc version 12.2.0 (Debian 12.2.0-14+deb12u1)",
		      "gcc version 12.2.0 (Debian 12.2.0-14+deb12u2)", true);
	mutation_case("assembler_version_counts", "as", "2.40", "2.41", true);
	mutation_case("assembler_target_counts", "as", "target of `x86_64-linux-gnu'",
		      "target of `i686-linux-gnu'", true);
	mutation_case("mpfr_version_counts", "v", "MPFR version 4.2.0", "MPFR version 4.1.1", true);
	mutation_case("default_arch_counts", "v", "'-march=x86-64'", "'-march=x86-64-v3'", true);
	mutation_case("configure_option_counts", "v", "--enable-default-pie", "--disable-default-pie", true);
	mutation_case("runtime_lib_option_ignored", "v", "--with-target-system-zlib=auto",
		      "--without-target-system-zlib", false);
	T_CASE("no_assembler_refused") {
		struct rec r;
		struct buf o = BUF_INIT;
		bool cl;
		T_CHECK(load("gcc-12-x86_64-native", &r), "fixture");
		T_CHECK(compiler_canon((const char *)r.v.data, r.v.len, "", 0, &o, &cl) == -EINVAL,
			"gcc without an assembler accepted");
		T_CHECK(compiler_canon("", 0, (const char *)r.as.data, r.as.len, &o, &cl) == -EINVAL,
			"no version line accepted");
		buf_free(&o);
		unload(&r);
	}
}

int main(void)
{
	fixture_cases();
	pair_cases();
	mutation_cases();
	return t_done();
}
