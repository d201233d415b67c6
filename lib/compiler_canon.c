/*
 * compiler_canon.c — what of a compiler's self-description decides the bytes
 * it makes (compiler.h: compiler_canon()).
 *
 * Input: the output of `CC -v -S -x c /dev/null -o /dev/null` (gcc 12
 * prints the GMP/MPFR/MPC/isl line only when cc1 really compiles, so -S,
 * not -E) and of `CC -c -x assembler -Wa,--version /dev/null -o /dev/null`
 * (the assembler the driver really runs, found by the driver itself: under
 * emulation or with -B/-wrapper a path of our own choosing would be wrong).
 * Output: canonical lines, one fact each, "key: value\n", in a fixed order:
 *   version:   "gcc version 12.2.0 (Debian 12.2.0-14+deb12u1)" — with the
 *              vendor's package version: it is in every object (.comment)
 *   target:, thread:
 *   configure: one line per configure option that is not an install path
 *              nor only about the target's runtime libraries,
 *              split as the shell would (quotes honoured, so
 *              --with-pkgversion='Debian 12.2.0-14' is one word, dropped),
 *              --enable-offload-targets=T=PATH,... reduced to the names T
 *   defaults:  the -m/-f/-std options the driver adds by itself
 *              (COLLECT_GCC_OPTIONS of the compile: -march=, -mtune=,
 *              -mfloat-abi=, …)
 *   libs:      "GMP version …, MPFR version …, MPC version …, isl version …"
 *   as:        the assembler's first line ("GNU assembler (GNU Binutils for
 *              Debian) 2.40"), as-target: the target it was configured for;
 *              clang's integrated assembler is "as: integrated <version>"
 * Nothing here is a path, a host triple or a build directory, so the same
 * compiler installed natively and as a cross compiler on another host
 * gives the same lines. No I/O: a pure function of its two inputs.
 */
#include "compiler.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* configure options that say where things are installed or which machine
 * the compiler itself runs on, not what it generates */
static bool install_path_opt(const char *o, size_t l)
{
	static const char *const drop[] = {
		"--prefix", "--exec-prefix", "--bindir", "--sbindir", "--libexecdir",
		"--sysconfdir", "--libdir", "--includedir", "--oldincludedir",
		"--datarootdir", "--datadir", "--infodir", "--localedir",
		"--mandir", "--docdir", "--htmldir", "--pdfdir", "--build",
		"--host", "--program-prefix", "--program-suffix",
		"--program-transform-name", "--with-sysroot", "--with-build-sysroot",
		"--with-gxx-include-dir", "--with-bugurl", "--with-local-prefix",
		"--with-native-system-header-dir", "--with-build-time-tools",
		"--with-gcc-major-version-only", "--enable-multiarch",
		"--with-pkgversion", "--enable-languages", "--with-gxx-libcxx-include-dir",
		"--with-slibdir", "--with-as", "--with-ld", "--with-toolexeclibdir",
		"--includedir", "--with-mpfr", "--with-gmp", "--with-mpc", "--with-isl",
		"-v", NULL };
	for (int i = 0; drop[i]; i++) {
		size_t dl = strlen(drop[i]);
		if (l >= dl && !strncmp(o, drop[i], dl) && (l == dl || o[dl] == '='))
			return true;
	}
	return false;
}

/* configure options that only shape the target's runtime libraries
 * (libstdc++, libobjc, libphobos, the offload runtime), the compiler's own
 * messages or its own build, never the code it emits for a translation
 * unit: distro builds of one compiler differ here (native vs cross) */
static bool runtime_only_opt(const char *o, size_t l)
{
	static const char *const drop[] = {
		"--with-target-system-zlib", "--without-target-system-zlib",
		"--enable-objc-gc", "--with-cuda-driver", "--without-cuda-driver",
		"--enable-libstdcxx-debug", "--enable-libstdcxx-time",
		"--enable-libphobos-checking", "--enable-nls", "--disable-nls",
		"--without-included-gettext", "--enable-clocale", "--disable-werror",
		"--enable-linker-build-id", "--enable-shared", NULL };
	for (int i = 0; drop[i]; i++) {
		size_t dl = strlen(drop[i]);
		if (l >= dl && !strncmp(o, drop[i], dl) && (l == dl || o[dl] == '='))
			return true;
	}
	return false;
}

static void put_line(struct buf *out, const char *key, const char *v, size_t vl)
{
	while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\r' || v[vl - 1] == '\t'))
		vl--;
	buf_put(out, key, strlen(key));
	buf_put(out, ": ", 2);
	buf_put(out, v, vl);
	buf_put(out, "\n", 1);
}

/* Next shell word of l[*k..ll) into w (quotes removed); false at the end. */
static bool next_word(const char *l, size_t ll, size_t *k, char *w, size_t cap, size_t *wl)
{
	char q = 0;
	*wl = 0;
	while (*k < ll && (l[*k] == ' ' || l[*k] == '\t'))
		(*k)++;
	if (*k >= ll)
		return false;
	for (; *k < ll; (*k)++) {
		char c = l[*k];
		if (q) {
			if (c == q) {
				q = 0;
				continue;
			}
		} else if (c == '\'' || c == '"') {
			q = c;
			continue;
		} else if (c == ' ' || c == '\t') {
			break;
		}
		if (*wl + 1 < cap)
			w[(*wl)++] = c;
	}
	w[*wl] = 0;
	return true;
}

/* --enable-offload-targets=nvptx-none=/build/…/usr,amdgcn-amdhsa=/…: the
 * target names only (the paths are the package build's random tmp dirs). */
static void put_offload(struct buf *out, const char *w)
{
	const char *v = strchr(w, '=') + 1;
	char t[512];
	size_t tl = 0;
	bool skip = false;

	for (; *v && tl + 1 < sizeof t; v++) {
		if (*v == ',') {
			skip = false;
			t[tl++] = ',';
		} else if (*v == '=') {
			skip = true;
		} else if (!skip) {
			t[tl++] = *v;
		}
	}
	buf_put(out, "configure: --enable-offload-targets=", 36);
	buf_put(out, t, tl);
	buf_put(out, "\n", 1);
}

static void configure_lines(struct buf *out, const char *l, size_t ll)
{
	char w[1024];
	size_t k = 0, wl;
	bool first = true;

	while (next_word(l, ll, &k, w, sizeof w, &wl)) {
		if (first) {	/* the configure script's path */
			first = false;
			continue;
		}
		if (!wl || install_path_opt(w, wl) || runtime_only_opt(w, wl))
			continue;
		if (!strncmp(w, "--enable-offload-targets=", 25))
			put_offload(out, w);
		else
			put_line(out, "configure", w, wl);
	}
}

/* COLLECT_GCC_OPTIONS='-v' '-S' '-o' '/dev/null' '-mtune=generic' …: the
 * options the driver added (-m*, -f*, -std=*), in its order. */
static void defaults_line(struct buf *out, const char *l, size_t ll)
{
	char w[256], acc[1024];
	size_t k = 20, wl, al = 0;	/* after "COLLECT_GCC_OPTIONS=" */

	while (next_word(l, ll, &k, w, sizeof w, &wl)) {
		if (wl < 2 || w[0] != '-' ||
		    !(w[1] == 'm' || w[1] == 'f' || !strncmp(w, "-std=", 5)))
			continue;
		if (al + wl + 2 > sizeof acc)
			break;
		if (al)
			acc[al++] = ' ';
		memcpy(acc + al, w, wl);
		al += wl;
	}
	put_line(out, "defaults", acc, al);
}

struct canon_state {
	bool named, clang, config, defaults, libs;
};

static void canon_verbose_line(struct buf *out, struct canon_state *s, const char *l, size_t ll)
{
	const char *g;

	if (ll > 12 && !strncmp(l, "gcc version ", 12) && !s->named) {
		s->named = true;
		put_line(out, "version", l, ll);
	} else if (ll > 14 && memmem(l, ll, "clang version ", 14) && !s->named) {
		s->named = s->clang = true;
		put_line(out, "version", l, ll);
	} else if (ll > 8 && !strncmp(l, "Target: ", 8)) {
		put_line(out, "target", l + 8, ll - 8);
	} else if (ll > 14 && !strncmp(l, "Thread model: ", 14)) {
		put_line(out, "thread", l + 14, ll - 14);
	} else if (ll > 16 && !strncmp(l, "Configured with:", 16) && !s->config) {
		s->config = true;
		configure_lines(out, l + 16, ll - 16);
	} else if (ll > 20 && !strncmp(l, "COLLECT_GCC_OPTIONS=", 20) && !s->defaults) {
		s->defaults = true;
		defaults_line(out, l, ll);
	} else if (!s->libs && (g = memmem(l, ll, "GMP version", 11))) {
		s->libs = true;
		put_line(out, "libs", g, ll - (size_t)(g - l));
	}
}

/* The assembler's lines: "GNU assembler … 2.40" and "configured for a
 * target of `x86_64-linux-gnu'"; clang's integrated one names clang. */
static bool canon_as(struct buf *out, const char *t, size_t len, const char *clang_version)
{
	bool found = false;
	size_t i = 0;

	while (i < len) {
		const char *l = t + i, *e = memchr(l, '\n', len - i), *a, *b;
		size_t ll = e ? (size_t)(e - l) : len - i;
		i += ll + 1;
		if (!found && ll > 14 && memmem(l, ll, "assembler", 9) &&
		    !memmem(l, ll, "configured", 10)) {
			found = true;
			put_line(out, "as", l, ll);
		} else if ((a = memmem(l, ll, "configured for a target of `", 28))) {
			a += 28;
			b = memchr(a, '\'', ll - (size_t)(a - l));
			if (b)
				put_line(out, "as-target", a, (size_t)(b - a));
		}
	}
	if (!found && clang_version) {
		char v[300];
		int n = snprintf(v, sizeof v, "integrated %s", clang_version);
		put_line(out, "as", v, n > 0 && (size_t)n < sizeof v ? (size_t)n : 0);
		found = true;
	}
	return found;
}

int compiler_canon(const char *v, size_t vlen, const char *as, size_t aslen,
		   struct buf *out, bool *clang)
{
	struct canon_state s = { 0 };
	size_t i = 0, start = out->len;
	char cv[256] = "";

	while (i < vlen) {
		const char *l = v + i, *e = memchr(l, '\n', vlen - i);
		size_t ll = e ? (size_t)(e - l) : vlen - i;
		i += ll + 1;
		canon_verbose_line(out, &s, l, ll);
	}
	if (!s.named)
		return -EINVAL;
	if (s.clang) {	/* the version line as put, for the integrated assembler */
		const char *p = memmem(out->data + start, out->len - start, "version: ", 9);
		const char *e = p ? memchr(p, '\n', out->len - (size_t)(p - (const char *)out->data)) : NULL;
		if (p && e && (size_t)(e - p - 9) < sizeof cv) {
			memcpy(cv, p + 9, (size_t)(e - p - 9));
			cv[e - p - 9] = 0;
		}
	}
	if (!canon_as(out, as, aslen, s.clang ? cv : NULL))
		return -EINVAL;
	*clang = s.clang;
	return buf_ok(out) ? 0 : -ENOMEM;
}
