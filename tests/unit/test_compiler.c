/* test_compiler.c — compiler identity on this machine: one compiler under
 * several names matches, gcc vs g++ does not; the wire form round-trips and
 * refuses truncated or malformed input (SHA-256's vectors: test_sha256.c). */
#include "compiler.h"
#include "../lib/test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool have(const char *p)
{
	return access(p, X_OK) == 0;
}

/* A command's stdout and stderr, whole (LC_ALL=C as compiler.c runs it). */
static size_t output_of(const char *cmd, char *dst, size_t cap)
{
	char full[300];
	snprintf(full, sizeof full, "LC_ALL=C LANGUAGE=C %s 2>&1", cmd);
	FILE *f = popen(full, "r");
	size_t n = f ? fread(dst, 1, cap - 1, f) : 0;
	if (f)
		pclose(f);
	dst[n] = 0;
	return n;
}

/* compiler_identity_of() from the outputs of cc (a board's way: the driver
 * run in its sandbox) as compiler_identify() of it. */
static int identity_of_run(const char *cc, const char *kind, const char *lang,
			   struct compiler_id *id, bool tamper)
{
	static char m[256], ver[256], v[16384], as[4096];
	char cmd[200];
	struct compiler_outputs o;

	snprintf(cmd, sizeof cmd, "%s -dumpmachine", cc);
	o.machine_len = output_of(cmd, m, sizeof m);
	snprintf(cmd, sizeof cmd, "%s -dumpfullversion", cc);
	o.version_len = output_of(cmd, ver, sizeof ver);
	snprintf(cmd, sizeof cmd, "%s -v -S -x %s /dev/null -o /dev/null", cc, lang);
	o.v_len = output_of(cmd, v, sizeof v);
	snprintf(cmd, sizeof cmd, "%s -c -x assembler -Wa,--version /dev/null -o /dev/null", cc);
	o.as_len = output_of(cmd, as, sizeof as);
	if (tamper) {
		char *d = strstr(as, "2.");	/* the assembler's version */
		if (d)
			d[0] = '9';
	}
	o.machine = m, o.version = ver, o.v = v, o.as = as;
	return compiler_identity_of(kind, &o, id);
}

int main(void)
{
	char cache[] = "/tmp/test_compiler.XXXXXX";
	struct compiler_id gcc, alt, gxx;

	/* a private cache, so the test neither reads nor pollutes the user's */
	if (mkdtemp(cache))
		setenv("XDG_CACHE_HOME", cache, 1);

	if (!have("/usr/bin/gcc")) {
		t_skip("identify", "no /usr/bin/gcc");
		return t_done();
	}
	T_CASE("identify_gcc") {
		int r = compiler_identify("/usr/bin/gcc", &gcc);
		T_CHECK(r == 0, "rc %d", r);
		T_CHECK(!strcmp(gcc.kind, "gcc"), "kind %s", gcc.kind);
		T_CHECK(strlen(gcc.triple) > 3 && strchr(gcc.triple, '-'), "triple %s", gcc.triple);
		T_CHECK(gcc.version[0] >= '1' && gcc.version[0] <= '9' && strchr(gcc.version, '.'),
			"version %s", gcc.version);
		T_CHECK(strlen(gcc.fingerprint) == 32, "fingerprint %s", gcc.fingerprint);
		T_CHECK(!strcmp(gcc.path, "/usr/bin/gcc"), "path %s", gcc.path);
	}
	T_CASE("identify_cached_same") {
		struct compiler_id again;
		char p[300];
		snprintf(p, sizeof p, "%s/usbfarm/compilers", cache);
		T_CHECK(access(p, R_OK) == 0, "no cache file written at %s", p);
		T_CHECK(compiler_identify("/usr/bin/gcc", &again) == 0 && compiler_match(&gcc, &again),
			"second (cached) identity differs");
	}
	{
		static const char *const same[] = { "/usr/bin/gcc-12", "/usr/bin/x86_64-linux-gnu-gcc-12",
						    "/usr/bin/x86_64-linux-gnu-gcc", "/usr/bin/cc" };
		for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
			char name[128];
			snprintf(name, sizeof name, "same_compiler %s", same[i]);
			if (!have(same[i])) {
				t_skip(name, "not installed");
				continue;
			}
			if (!strcmp(same[i], "/usr/bin/cc")) {
				char r1[4096], r2[4096];
				if (!realpath("/usr/bin/cc", r1) || !realpath("/usr/bin/gcc", r2) ||
				    strcmp(r1, r2)) {
					t_skip(name, "cc is not gcc here");
					continue;
				}
			}
			T_CASE(name) {
				int r = compiler_identify(same[i], &alt);
				T_CHECK(r == 0, "rc %d", r);
				T_CHECK(compiler_match(&gcc, &alt), "%s %s %s %s vs %s %s %s %s", gcc.kind,
					gcc.triple, gcc.version, gcc.fingerprint, alt.kind, alt.triple,
					alt.version, alt.fingerprint);
			}
		}
	}
	if (have("/usr/bin/g++")) {
		T_CASE("gcc_not_gxx") {
			T_CHECK(compiler_identify("/usr/bin/g++", &gxx) == 0, "identify g++");
			T_CHECK(!strcmp(gxx.kind, "g++"), "kind %s", gxx.kind);
			T_CHECK(!compiler_match(&gcc, &gxx), "gcc matches g++");
			T_CHECK(strcmp(gcc.fingerprint, gxx.fingerprint), "same fingerprint");
		}
	} else {
		t_skip("gcc_not_gxx", "no g++");
	}
	T_CASE("different_version_no_match") {
		struct compiler_id other = gcc;
		strcpy(other.version, "11.3.0");
		T_CHECK(!compiler_match(&gcc, &other), "version ignored");
		other = gcc;
		other.fingerprint[0] = other.fingerprint[0] == 'a' ? 'b' : 'a';
		T_CHECK(!compiler_match(&gcc, &other), "fingerprint ignored");
		other = gcc;
		strcpy(other.triple, "aarch64-linux-gnu");
		T_CHECK(!compiler_match(&gcc, &other), "triple ignored");
	}
	if (have("/usr/bin/clang")) {
		T_CASE("clang_kind") {
			struct compiler_id c;
			T_CHECK(compiler_identify("/usr/bin/clang", &c) == 0 && !strcmp(c.kind, "clang"),
				"clang: kind %s", c.kind);
			T_CHECK(!compiler_match(&gcc, &c), "clang matches gcc");
		}
	}
	T_CASE("wrappers_and_nonsense_refused") {
		struct compiler_id x;
		char link[300];
		T_CHECK(compiler_identify("/nonexistent/gcc", &x) < 0, "missing accepted");
		T_CHECK(compiler_identify("gcc", &x) < 0, "relative accepted");
		T_CHECK(compiler_identify("/bin/true", &x) < 0, "/bin/true is a compiler?");
		/* a symlink named gcc to something named ccache is a wrapper */
		snprintf(link, sizeof link, "%s/ccache", cache);
		if (symlink("/usr/bin/gcc", link) == 0) {
			char l2[300];
			snprintf(l2, sizeof l2, "%s/gcc", cache);
			T_CHECK(symlink(link, l2) == 0, "symlink");
			T_CHECK(compiler_identify(l2, &x) < 0, "gcc -> ccache accepted as a compiler");
			unlink(l2);
			unlink(link);
		}
	}
	T_CASE("scan_finds_gcc_once") {
		struct compiler_id *list;
		size_t n;
		int found = 0;
		T_CHECK(compiler_scan(&list, &n) == 0, "scan failed");
		for (size_t i = 0; i < n; i++)
			if (compiler_match(&list[i], &gcc))
				found++;
		T_CHECK(found == 1, "gcc found %d times in %zu", found, n);
		for (size_t i = 0; i < n; i++)
			for (size_t k = i + 1; k < n; k++)
				T_CHECK(!compiler_match(&list[i], &list[k]), "duplicate identity");
		free(list);
	}
	T_CASE("wire_roundtrip") {
		struct buf b = BUF_INIT;
		struct compiler_id d;
		compiler_encode(&b, &gcc);
		struct cursor c = cur_init(b.data, b.len);
		T_CHECK(compiler_decode(&c, &d) && cur_done(&c), "decode failed");
		T_CHECK(compiler_match(&gcc, &d) && d.path[0] == 0, "round trip differs or sent path");
		for (size_t cut = 0; cut < b.len; cut++) {
			struct cursor t = cur_init(b.data, cut);
			T_CHECK(!compiler_decode(&t, &d), "truncated at %zu accepted", cut);
		}
		buf_free(&b);
	}
	T_CASE("wire_rejects_malformed") {
		struct compiler_id bad = gcc, d;
		struct buf b = BUF_INIT;
		strcpy(bad.kind, "rustc");
		compiler_encode(&b, &bad);
		struct cursor c = cur_init(b.data, b.len);
		T_CHECK(!compiler_decode(&c, &d), "unknown kind accepted");
		buf_free(&b);
		bad = gcc;
		strcpy(bad.fingerprint, "XYZ");
		compiler_encode(&b, &bad);
		c = cur_init(b.data, b.len);
		T_CHECK(!compiler_decode(&c, &d), "bad fingerprint accepted");
		buf_free(&b);
	}
	T_CASE("identity_of_outputs") {
		struct compiler_id got;
		T_CHECK(identity_of_run("/usr/bin/gcc", "gcc", "c", &got, false) == 0 &&
			compiler_match(&got, &gcc) && !got.path[0], "gcc: %s %s", got.kind,
			got.fingerprint);
		T_CHECK(identity_of_run("/usr/bin/gcc", "clang", "c", &got, false) == -EINVAL,
			"the other family refused");
		T_CHECK(identity_of_run("/usr/bin/gcc", "gcc", "c", &got, true) != 0 ||
			!compiler_match(&got, &gcc), "another assembler is another identity");
		T_CHECK(identity_of_run("/usr/bin/gcc", "cc", "c", &got, false) == -EINVAL,
			"an unknown kind");
		if (have("/usr/bin/g++") && compiler_identify("/usr/bin/g++", &gxx) == 0)
			T_CHECK(identity_of_run("/usr/bin/g++", "g++", "c++", &got, false) == 0 &&
				compiler_match(&got, &gxx), "g++");
	}
	T_CASE("describe") {
		char s[128];
		compiler_describe(&gcc, s, sizeof s);
		T_CHECK(strstr(s, gcc.version) && strstr(s, gcc.triple) && !strncmp(s, "gcc ", 4),
			"describe: %s", s);
	}
	{
		char cmd[400];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", cache);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", cache);
	}
	return t_done();
}
