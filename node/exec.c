/*
 * exec.c — the node-side job executor (exec.h).
 *
 * exec_run(): check names and arguments → private dir (mkdtemp, 0700) →
 * write the input (at its relative path) → build argv (job args, then our
 * -fdebug-prefix-map, then input -o output) → fork; the child makes its own process
 * group, drops privileges, sets limits, closes every other fd and execs the
 * compiler directly (exec failure comes back through a CLOEXEC pipe) → the
 * parent drains stdout/stderr with caps until exit or the wall deadline
 * (then SIGKILL to the group) → read the outputs with caps → remove the dir.
 * Every path after mkdtemp ends in the same cleanup.
 */
#include "exec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEF_CPU_S 600
#define DEF_MEM (4ull << 30)
#define DEF_OUT (512ull << 20)
#define DEF_TIMEOUT_MS 900000
#define MAX_ARG_LEN 4096
#define MAX_ARGS 1024

/* ---- the argument policy --------------------------------------------- */

static bool starts(const char *a, const char *p)
{
	return !strncmp(a, p, strlen(p));
}

static int refuse(char *why, size_t wl, const char *fmt, const char *a)
{
	if (why && wl)
		snprintf(why, wl, fmt, a);
	return -EPERM;
}

/* -f options that run programs, read or write files, or are otherwise not
 * for a node; everything else under -f is allowed. */
static bool f_denied(const char *a)
{
	static const char *const deny[] = {
		"-fplugin", "-fprofile", "-fauto-profile", "-fdump-",
		"-fcallgraph-info", "-fstack-usage", "-fopt-info",
		"-fcompare-debug", "-frepo", "-fbranch-probabilities",
		"-ftest-coverage", "-fprofile-arcs", "-fsave-optimization-record",
		"-fdiagnostics-format=sarif-file", "-flto", "-fdebug-types",
		"-fsanitize-blacklist", "-fsanitize-ignorelist",
		"-fsanitize-coverage-allowlist", "-fsanitize-coverage-ignorelist",
		"-frecord-gcc-switches", "-ftime-trace", "-fmodule",
		"-fconstexpr-cache", "-fdeps-", "-finstrument-functions-exclude",
		"-fcoverage", "-fpch", "-fltrans", "-fresolution", "-fwpa",
		"-fdiagnostics-add-output", "-fdiagnostics-set-output", NULL };
	for (int i = 0; deny[i]; i++)
		if (starts(a, deny[i]))
			return true;
	return false;
}

/* Allowed prefix-map forms: "-f…-prefix-map=OLD=NEW" only rewrite names. */
static bool is_prefix_map(const char *a)
{
	return starts(a, "-fdebug-prefix-map=") || starts(a, "-ffile-prefix-map=") ||
	       starts(a, "-fmacro-prefix-map=") || starts(a, "-fprofile-prefix-map=");
}

static bool x_lang_ok(const char *l)
{
	static const char *const ok[] = { "c", "c++", "objective-c",
		"objective-c++", "assembler", "assembler-with-cpp", "cpp-output",
		"c++-cpp-output", "objective-c-cpp-output",
		"objective-c++-cpp-output", "none", NULL };
	for (int i = 0; ok[i]; i++)
		if (!strcmp(l, ok[i]))
			return true;
	return false;
}

/* -Wa,… pieces: options only, no listings, no files, no paths. */
static bool wa_ok(const char *list)
{
	while (*list) {
		const char *e = strchr(list, ',');
		size_t l = e ? (size_t)(e - list) : strlen(list);
		if (!l || list[0] != '-' || memchr(list, '/', l) ||
		    !strncmp(list, "-a", 2) || !strncmp(list, "--MD", 4) ||
		    !strncmp(list, "-o", 2) || !strncmp(list, "-I", 2) ||
		    !strncmp(list, "@", 1) || !strncmp(list, "--defsym", 8) ||
		    !strncmp(list, "--gdwarf-cie", 12) || !strncmp(list, "-Z", 2))
			return false;
		list += l;
		if (*list)
			list++;
	}
	return true;
}

int exec_check_args(char *const *args, int nargs, char *why, size_t whylen)
{
	if (nargs < 0 || nargs > MAX_ARGS)
		return refuse(why, whylen, "too many arguments%s", "");
	for (int i = 0; i < nargs; i++) {
		const char *a = args[i];

		if (!a)
			return refuse(why, whylen, "missing argument%s", "");
		if (strlen(a) > MAX_ARG_LEN)
			return refuse(why, whylen, "argument too long%s", "");
		if (a[0] != '-')
			return refuse(why, whylen, "%s: not an option (inputs are the node's)", a);
		/* exact safe words */
		if (!strcmp(a, "-c") || !strcmp(a, "-S") || !strcmp(a, "-w") ||
		    !strcmp(a, "-ansi") || !strcmp(a, "-pedantic") ||
		    !strcmp(a, "-pedantic-errors") || !strcmp(a, "-pthread") ||
		    !strcmp(a, "-pipe") || !strcmp(a, "-fpreprocessed") ||
		    !strcmp(a, "-fdirectives-only") || !strcmp(a, "-p") ||
		    !strcmp(a, "-pg") || !strcmp(a, "-Wpedantic") ||
		    !strcmp(a, "-fno-working-directory") ||
		    !strcmp(a, "-fworking-directory") || !strcmp(a, "-nostdinc") ||
		    !strcmp(a, "-nostdinc++"))
			continue;
		if (!strcmp(a, "-x")) {
			if (i + 1 >= nargs || !x_lang_ok(args[i + 1]))
				return refuse(why, whylen, "-x %s: language not allowed",
					      i + 1 < nargs ? args[i + 1] : "");
			i++;
			continue;
		}
		if (starts(a, "-x")) {
			if (!x_lang_ok(a + 2))
				return refuse(why, whylen, "%s: language not allowed", a);
			continue;
		}
		if (!strcmp(a, "-Xassembler")) {
			if (i + 1 >= nargs || !wa_ok(args[i + 1]))
				return refuse(why, whylen, "-Xassembler %s: not allowed",
					      i + 1 < nargs ? args[i + 1] : "");
			i++;
			continue;
		}
		if (starts(a, "-Wa,")) {
			if (!wa_ok(a + 4))
				return refuse(why, whylen, "%s: assembler option not allowed", a);
			continue;
		}
		if (starts(a, "-Wp,") || starts(a, "-Wl,") || starts(a, "-Xlinker") ||
		    starts(a, "-Xpreprocessor") || starts(a, "-Xclang"))
			return refuse(why, whylen, "%s: not allowed on a node", a);
		if (is_prefix_map(a))
			continue;	/* only rewrites names in the output */
		/* everything below is an allow-listed family with denials;
		 * no member may name a file */
		if (strchr(a, '/'))
			return refuse(why, whylen, "%s: names a path", a);
		if (a[1] == 'O' || a[1] == 'W' || starts(a, "-std=") ||
		    starts(a, "--std="))
			continue;
		if (a[1] == 'g')
			continue;	/* debug info options name no files */
		if (a[1] == 'm') {
			if (strstr(a, "=native"))
				return refuse(why, whylen, "%s: host-dependent", a);
			continue;
		}
		if (a[1] == 'f') {
			if (f_denied(a))
				return refuse(why, whylen, "%s: not allowed on a node", a);
			if (starts(a, "-fsanitize") || !strchr(a, '=') ||
			    starts(a, "-fvisibility=") || starts(a, "-fabi-version=") ||
			    starts(a, "-fmax-errors=") || starts(a, "-ftemplate-depth=") ||
			    starts(a, "-fconstexpr-") || starts(a, "-fdiagnostics-") ||
			    starts(a, "-fstack-") || starts(a, "-fcf-protection") ||
			    starts(a, "-fmessage-length=") || starts(a, "-ftabstop=") ||
			    starts(a, "-fpermitted-flt-eval-methods=") ||
			    starts(a, "-fexcess-precision=") || starts(a, "-ffp-contract=") ||
			    starts(a, "-ftls-model=") || starts(a, "-fzero-call-used-regs=") ||
			    starts(a, "-fstrong-eval-order") || starts(a, "-fno-") ||
			    starts(a, "-flimit-function-alignment") ||
			    starts(a, "-falign-") || starts(a, "-fpatchable-function-entry=") ||
			    starts(a, "-ftrivial-auto-var-init=") ||
			    starts(a, "-fasan-shadow-offset=") || starts(a, "-fsso-struct=") ||
			    starts(a, "-fchar8_t") || starts(a, "-fmin-function-alignment=") ||
			    starts(a, "-fstrict-flex-arrays") || starts(a, "-fharden") ||
			    starts(a, "-fcoroutines") || starts(a, "-fconcepts") ||
			    starts(a, "-fsched") || starts(a, "-fira-") ||
			    starts(a, "-flive-patching=") || starts(a, "-fprofile-update=") ||
			    starts(a, "-fvect-cost-model") || starts(a, "-fsimd-cost-model") ||
			    starts(a, "-frandom-seed="))
				continue;
			return refuse(why, whylen, "%s: option value not on the allow-list", a);
		}
		if (!strcmp(a, "--param")) {
			if (i + 1 >= nargs || strchr(args[i + 1], '/'))
				return refuse(why, whylen, "--param: bad value%s", "");
			i++;
			continue;
		}
		if (starts(a, "--param="))
			continue;
		return refuse(why, whylen, "%s: not on the allow-list", a);
	}
	return 0;
}

char *exec_map_name(char *const *args, int nargs, const char *name, bool macro)
{
	const char *nw = NULL, *rest = name;
	size_t nl = 0;
	char *r;

	for (int i = 0; i < nargs; i++) {
		const char *a = args[i], *v, *eq;
		if (starts(a, "-ffile-prefix-map="))
			v = a + strlen("-ffile-prefix-map=");
		else if (!macro && starts(a, "-fdebug-prefix-map="))
			v = a + strlen("-fdebug-prefix-map=");
		else if (macro && starts(a, "-fmacro-prefix-map="))
			v = a + strlen("-fmacro-prefix-map=");
		else
			continue;
		eq = strchr(v, '=');	/* gcc: OLD ends at the first '=' */
		if (!eq || strncmp(name, v, (size_t)(eq - v)))
			continue;
		nw = eq + 1;
		nl = strlen(nw);
		rest = name + (eq - v);
	}
	r = malloc(nl + strlen(rest) + 1);
	if (!r)
		return NULL;
	if (nl)
		memcpy(r, nw, nl);
	strcpy(r + nl, rest);
	return r;
}

char *exec_comp_dir(char *const *args, int nargs, const char *hub_cwd)
{
	return exec_map_name(args, nargs, hub_cwd, false);
}

/* Walks the components of an input name. For a relative name: *ups, the
 * levels it climbs above the cwd; for an absolute one, -1 if it climbs
 * above "/". false for a name that does not end in a file component. */
static bool name_walk(const char *p, int *ups)
{
	int depth = 0, low = 0;
	const char *c = p;
	bool last_file = false;

	while (*c) {
		const char *e = strchr(c, '/');
		size_t l = e ? (size_t)(e - c) : strlen(c);
		last_file = false;
		if (l == 0 || (l == 1 && c[0] == '.')) {
			/* "//" or "./": where we are */
		} else if (l == 2 && c[0] == '.' && c[1] == '.') {
			if (--depth < low)
				low = depth;
		} else {
			depth++;
			last_file = !e;
		}
		c += l;
		if (*c)
			c++;
	}
	*ups = -low;
	return last_file;
}

bool exec_input_name_ok(const char *p)
{
	size_t l;
	int ups;

	if (!p || !*p)
		return false;
	l = strnlen(p, EXEC_NAME_MAX);
	if (l >= EXEC_NAME_MAX)
		return false;
	for (size_t k = 0; k < l; k++)
		if ((unsigned char)p[k] < 0x20 || p[k] == 0x7f)
			return false;
	if (!name_walk(p, &ups))
		return false;
	if (p[0] == '/')
		return ups == 0 && !strchr(p, '=');
	return p[0] != '-' && ups <= EXEC_MAX_UPS;
}

bool exec_safe_relpath(const char *p)
{
	const char *c = p;

	if (!p || !*p || *p == '/' || strlen(p) > 255)
		return false;
	while (*c) {
		const char *e = strchr(c, '/');
		size_t l = e ? (size_t)(e - c) : strlen(c);
		if (l == 0 || (l == 1 && c[0] == '.') ||
		    (l == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		for (size_t k = 0; k < l; k++)
			if ((unsigned char)c[k] < 0x20 || c[k] == 0x7f)
				return false;
		if (c[0] == '-' && c == p)
			return false;	/* would read as an option */
		c += l;
		if (*c) {
			c++;
			if (!*c)
				return false;	/* trailing slash */
		}
	}
	return true;
}

/* ---- include-like directives in the input -------------------------------- */

/*
 * One pass over the physical line starts, conservative by construction: a
 * directive the compiler sees begins at the start of some physical line
 * (after blanks, comments and line splices), in every dialect; this scanner
 * looks at EVERY physical line start, without asking whether it lies inside
 * a comment or a literal. So it misses nothing a compiler could read as a
 * directive, and its only error is a false alarm on a line inside a comment
 * or a multi-line literal, which costs a local compile of that file.
 * Newlines are '\n', "\r\n" and a lone '\r'; splices are '\\' or "??/"
 * followed by blanks and a newline; '#' may be spelt "%:" or "??=".
 */

static bool inc_blank(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\f' || c == '\v';
}

/* Length of the newline at p (0 if none). */
static size_t inc_nl(const uint8_t *p, const uint8_t *e)
{
	if (p >= e)
		return 0;
	if (*p == '\n')
		return 1;
	if (*p == '\r')
		return p + 1 < e && p[1] == '\n' ? 2 : 1;
	return 0;
}

/* Length of the line splice at p (0 if none). */
static size_t inc_splice(const uint8_t *p, const uint8_t *e)
{
	const uint8_t *q;
	size_t nl;

	if (p < e && *p == '\\')
		q = p + 1;
	else if (e - p >= 3 && p[0] == '?' && p[1] == '?' && p[2] == '/')
		q = p + 3;
	else
		return 0;
	while (q < e && inc_blank(*q))
		q++;
	nl = inc_nl(q, e);
	return nl ? (size_t)(q + nl - p) : 0;
}

/* Skips blanks, splices and block comments. */
static const uint8_t *inc_skip(const uint8_t *p, const uint8_t *e)
{
	for (;;) {
		size_t n;
		if (p < e && inc_blank(*p)) {
			p++;
		} else if ((n = inc_splice(p, e))) {
			p += n;
		} else if (e - p >= 2 && p[0] == '/' && p[1] == '*') {
			const uint8_t *end = memmem(p + 2, (size_t)(e - p - 2), "*/", 2);
			if (!end)
				return e;
			p = end + 2;
		} else {
			return p;
		}
	}
}

/* The logical character at p, splices skipped; -1 at the end. */
static int inc_char(const uint8_t **pp, const uint8_t *e)
{
	const uint8_t *p = *pp;
	size_t n;

	while ((n = inc_splice(p, e)))
		p += n;
	if (p >= e) {
		*pp = p;
		return -1;
	}
	*pp = p + 1;
	return *p;
}

/* Reads an identifier (splices skipped) into w, cut at wl-1 bytes. */
static const uint8_t *inc_ident(const uint8_t *p, const uint8_t *e, char *w, size_t wl)
{
	size_t n = 0;
	for (;;) {
		const uint8_t *q = p;
		int c = inc_char(&q, e);
		if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9')))
			break;
		if (n + 1 < wl)
			w[n++] = (char)c;
		p = q;
	}
	w[n] = 0;
	return p;
}

/* If a directive that opens a file starts at the line start p: its name. */
static const char *inc_directive(const uint8_t *p, const uint8_t *e)
{
	static const char *const opens[] = { "include", "include_next", "import", "embed" };
	char w[16];
	int c;

	p = inc_skip(p, e);
	if (p >= e)
		return NULL;
	if (e - p >= 3 && p[0] == '?' && p[1] == '?' && p[2] == '=') {
		p += 3;
	} else {
		c = inc_char(&p, e);
		if (c == '%') {
			if (inc_char(&p, e) != ':')
				return NULL;
		} else if (c != '#') {
			return NULL;
		}
	}
	p = inc_ident(inc_skip(p, e), e, w, sizeof w);
	for (size_t i = 0; i < sizeof opens / sizeof opens[0]; i++)
		if (!strcmp(w, opens[i]))
			return opens[i];
	if (strcmp(w, "pragma") != 0)
		return NULL;
	p = inc_ident(inc_skip(p, e), e, w, sizeof w);
	if (strcmp(w, "GCC") != 0)
		return NULL;
	inc_ident(inc_skip(p, e), e, w, sizeof w);
	return strcmp(w, "dependency") ? NULL : "pragma GCC dependency";
}

size_t exec_find_include(const uint8_t *text, size_t len, const char **what)
{
	const uint8_t *e = text + len, *p = text;

	if (!text || !len)
		return 0;
	while (p < e) {
		const char *k = inc_directive(p, e);
		if (k) {
			size_t line = 1;
			for (const uint8_t *q = text; q < p; q++)
				line += *q == '\n';
			if (what)
				*what = k;
			return line;
		}
		/* the next physical line start: after the first '\n' or '\r' */
		const uint8_t *nx = memchr(p, '\n', (size_t)(e - p));
		const uint8_t *cr = memchr(p, '\r', (size_t)((nx ? nx : e) - p));
		p = cr ? cr : nx ? nx : e;
		p += inc_nl(p, e);
	}
	return 0;
}

/* ---- helpers ----------------------------------------------------------- */

static uint64_t now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static int fail(struct exec_result *res, int err, const char *fmt, ...)
{
	va_list ap;
	res->farm_error = err;
	va_start(ap, fmt);
	vsnprintf(res->error, sizeof res->error, fmt, ap);
	va_end(ap);
	return err;
}

/* Removes the contents of dirfd recursively, never following symlinks. */
static void rm_tree_at(int dirfd, int depth)
{
	DIR *d;
	struct dirent *e;
	int fd = dup(dirfd);

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (unlinkat(dirfd, e->d_name, 0) == 0)
			continue;
		if (errno == EISDIR && depth < 64) {
			int sub = openat(dirfd, e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				rm_tree_at(sub, depth + 1);
				close(sub);
			}
			unlinkat(dirfd, e->d_name, AT_REMOVEDIR);
		}
	}
	closedir(d);
}

static void rm_tree(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		/* a compiler may leave unwritable dirs: make ours writable */
		rm_tree_at(fd, 0);
		close(fd);
	}
	rmdir(dir);
}

/* Creates the parent directories of rel (relative) under dirfd. */
static int mkparents(int dirfd, const char *rel, uid_t uid, gid_t gid)
{
	char tmp[256];
	size_t l = strlen(rel);

	if (l >= sizeof tmp)
		return -ENAMETOOLONG;
	memcpy(tmp, rel, l + 1);
	for (char *s = tmp; (s = strchr(s, '/')); s++) {
		*s = 0;
		if (mkdirat(dirfd, tmp, 0700) && errno != EEXIST)
			return -errno;
		/* the unprivileged compiler writes the output there */
		if (uid && fchownat(dirfd, tmp, uid, gid, AT_SYMLINK_NOFOLLOW))
			return -errno;
		*s = '/';
	}
	return 0;
}

/* mkdir under dirfd, owned by the job's user when dropping privileges. */
static int mkdir_owned(int dirfd, const char *rel, uid_t uid, gid_t gid)
{
	if (mkdirat(dirfd, rel, 0700) && errno != EEXIST)
		return -errno;
	if (uid && fchownat(dirfd, rel, uid, gid, AT_SYMLINK_NOFOLLOW))
		return -errno;
	return 0;
}

/*
 * The job dir's layout (exec.h): makes the compiler's cwd, "t" plus one
 * "/u" per level the input name climbs (cwd, relative to the job dir), and
 * every directory the input name passes through, and sets phys to where
 * the input lands ("t/…" or "r/…", normalized). The name was checked by
 * exec_input_name_ok(). 0 or -errno.
 */
static int lay_out(int dirfd, const char *name, uid_t uid, gid_t gid, char *cwd,
		   size_t cwdlen, char *phys, size_t physlen)
{
	int ups, r;
	size_t n;
	const char *c = name;

	name_walk(name, &ups);
	if (cwdlen < 2 + 2 * (size_t)EXEC_MAX_UPS + 1 || physlen < 2)
		return -ENAMETOOLONG;
	strcpy(cwd, "t");
	if ((r = mkdir_owned(dirfd, cwd, uid, gid)))
		return r;
	for (int i = 0; name[0] != '/' && i < ups; i++) {
		strcat(cwd, "/u");
		if ((r = mkdir_owned(dirfd, cwd, uid, gid)))
			return r;
	}
	if (name[0] == '/') {
		strcpy(phys, "r");
		if ((r = mkdir_owned(dirfd, phys, uid, gid)))
			return r;
	} else {
		if (strlen(cwd) >= physlen)
			return -ENAMETOOLONG;
		strcpy(phys, cwd);
	}
	n = strlen(phys);
	while (*c) {
		const char *e = strchr(c, '/');
		size_t l = e ? (size_t)(e - c) : strlen(c);
		if (l == 0 || (l == 1 && c[0] == '.')) {
			/* here */
		} else if (l == 2 && c[0] == '.' && c[1] == '.') {
			char *s = strrchr(phys, '/');
			if (!s)
				return -EINVAL;	/* cannot happen: checked */
			*s = 0;
			n = (size_t)(s - phys);
		} else {
			if (n + 1 + l >= physlen)
				return -ENAMETOOLONG;
			phys[n++] = '/';
			memcpy(phys + n, c, l);
			n += l;
			phys[n] = 0;
			if (e && (r = mkdir_owned(dirfd, phys, uid, gid)))
				return r;
		}
		c += l;
		if (*c)
			c++;
	}
	return 0;
}

static int read_out_at(int dirfd, const char *rel, struct buf *b, uint64_t cap)
{
	int fd = openat(dirfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	int r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > cap) {
		close(fd);
		return -E2BIG;
	}
	r = buf_read_fd(b, fd, (size_t)cap);
	close(fd);
	if (r == -EFBIG)
		r = -E2BIG;
	return r;
}

/* The dwo of "obj/a.o" is "obj/a.dwo" (gcc: dumpdir + dumpbase + .dwo). */
static int dwo_name(const char *out, char *dst, size_t len)
{
	const char *b = strrchr(out, '/');
	const char *d;
	size_t keep;

	b = b ? b + 1 : out;
	d = strrchr(b, '.');
	keep = d && d != b ? (size_t)(d - out) : strlen(out);
	if (keep + 5 > len)
		return -ENAMETOOLONG;
	memcpy(dst, out, keep);
	strcpy(dst + keep, ".dwo");
	return 0;
}

static void close_from(int lowfd)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0u, 0) == 0)
		return;
#endif
	long max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = lowfd; fd < max; fd++)
		close(fd);
}

/* Child side: never returns. */
static void child(const char *dir, char *const *argv, int outfd, int errfd,
		  int statfd, const struct exec_limits *lim, uint64_t out_cap)
{
	struct rlimit rl;
	int e, nullfd;

	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	nullfd = open("/dev/null", O_RDONLY);
	if (nullfd < 0 || dup2(nullfd, 0) < 0 || dup2(outfd, 1) < 0 ||
	    dup2(errfd, 2) < 0)
		goto err;
	if (statfd != 3) {
		if (dup2(statfd, 3) < 0)
			goto err;
		statfd = 3;
	}
	fcntl(3, F_SETFD, FD_CLOEXEC);
	close_from(4);
	if (lim->uid && geteuid() == 0) {
		if (setgroups(0, NULL) || setgid(lim->gid ? lim->gid : lim->uid) ||
		    setuid(lim->uid))
			goto err;
	}
	rl.rlim_cur = lim->cpu_s ? lim->cpu_s : DEF_CPU_S;
	rl.rlim_max = rl.rlim_cur + 5;
	if (setrlimit(RLIMIT_CPU, &rl))
		goto err;
	rl.rlim_cur = rl.rlim_max = lim->mem_bytes ? lim->mem_bytes : DEF_MEM;
	if (setrlimit(RLIMIT_AS, &rl))
		goto err;
	/* temp files (the assembler input) count too: allow some headroom */
	rl.rlim_cur = rl.rlim_max = out_cap * 4 + (64u << 20);
	if (setrlimit(RLIMIT_FSIZE, &rl))
		goto err;
	rl.rlim_cur = rl.rlim_max = 0;
	setrlimit(RLIMIT_CORE, &rl);
	umask(022);
	if (chdir(dir))
		goto err;
	execv(argv[0], argv);
err:
	e = errno;
	if (write(statfd, &e, sizeof e) < 0) {
		/* nothing more to say */
	}
	_exit(127);
}

/* Reads what is available on fd into b, keeping at most cap bytes;
 * returns false at EOF. */
static bool drain(int fd, struct buf *b, uint64_t cap, bool *over)
{
	char tmp[65536];
	ssize_t r = read(fd, tmp, sizeof tmp);

	if (r < 0)
		return errno == EINTR || errno == EAGAIN;
	if (r == 0)
		return false;
	if (b->len + (uint64_t)r > cap) {
		*over = true;
		return true;
	}
	buf_put(b, tmp, (size_t)r);
	return true;
}

/* opt + dir + mid + "=" + nw (a prefix map whose OLD is dir + mid),
 * malloc'd; NULL when out of memory or when nw is NULL. */
static char *prefix_map(const char *opt, const char *dir, const char *mid, const char *nw)
{
	size_t l;
	char *m;

	if (!nw)
		return NULL;
	l = strlen(opt) + strlen(dir) + strlen(mid) + 1 + strlen(nw) + 1;
	m = malloc(l);
	if (m)
		snprintf(m, l, "%s%s%s=%s", opt, dir, mid, nw);
	return m;
}

int exec_run(const struct exec_job *job, struct exec_result *res)
{
	char why[200], dir[PATH_MAX], dwo[300], cwd_rel[128], phys[EXEC_NAME_MAX + 128];
	char cwd[PATH_MAX + 128], outp[PATH_MAX + EXEC_NAME_MAX + 8];
	const char *root, *what = NULL;
	char **argv = NULL, *maps[4] = { NULL, NULL, NULL, NULL };
	int dirfd = -1, cwdfd = -1, po[2] = { -1, -1 }, pe[2] = { -1, -1 }, ps[2] = { -1, -1 };
	uint64_t out_cap, start = now_us(), deadline;
	pid_t pid = -1;
	bool made = false, over = false, timed_out = false;
	bool abs_in = job->input_name && job->input_name[0] == '/';
	uid_t uid;
	gid_t gid;
	struct rusage ru;
	size_t line;
	int st = 0, r, n;

	memset(&ru, 0, sizeof ru);
	memset(res, 0, sizeof *res);
	out_cap = job->limits.out_bytes ? job->limits.out_bytes : DEF_OUT;
	deadline = start + 1000ull * (job->limits.timeout_ms ? job->limits.timeout_ms
							      : DEF_TIMEOUT_MS);
	uid = job->limits.uid && geteuid() == 0 ? job->limits.uid : 0;
	gid = job->limits.gid ? job->limits.gid : job->limits.uid;

	if (!job->compiler || job->compiler[0] != '/')
		return fail(res, -ENOENT, "compiler path must be absolute");
	if (access(job->compiler, X_OK))
		return fail(res, -ENOENT, "%s: %s", job->compiler, strerror(errno));
	if (!exec_input_name_ok(job->input_name))
		return fail(res, -EPERM, "bad input name");
	if (job->hub_cwd && (job->hub_cwd[0] != '/' ||
			     strnlen(job->hub_cwd, EXEC_CWD_MAX) >= EXEC_CWD_MAX))
		return fail(res, -EPERM, "bad hub cwd");
	if (!exec_safe_relpath(job->output_name))
		return fail(res, -EPERM, "bad output name");
	if (exec_check_args(job->args, job->nargs, why, sizeof why))
		return fail(res, -EPERM, "refused: %s", why);
	if (job->want_dwo && dwo_name(job->output_name, dwo, sizeof dwo))
		return fail(res, -EPERM, "bad output name");
	if ((uint64_t)job->input_len > out_cap * 2)
		return fail(res, -E2BIG, "input too large");
	line = exec_find_include(job->input, job->input_len, &what);
	if (line)
		return fail(res, -EPERM, "refused: input line %zu is a %s directive (the hub "
			    "resolves every include; a node never reads its own files)",
			    line, what);

	root = job->tmp_root;
	if (!root)
		root = getenv("TMPDIR");
	if (!root || !*root)
		root = "/tmp";
	if (snprintf(dir, sizeof dir, "%s/usbfarm-job.XXXXXX", root) >= (int)sizeof dir) {
		r = fail(res, -ENAMETOOLONG, "temp root too long");
		goto out;
	}
	if (!mkdtemp(dir)) {
		r = fail(res, -errno, "mkdtemp %s: %s", root, strerror(errno));
		goto out;
	}
	made = true;
	{
		/* gcc names its cwd by getcwd() (our $PWD is not the dir):
		 * the map must name the dir the same way */
		char real[PATH_MAX];
		if (!realpath(dir, real)) {
			r = fail(res, -errno, "realpath %s: %s", dir, strerror(errno));
			goto out;
		}
		strcpy(dir, real);	/* the same dir: removed by this name too */
	}
	if (strchr(dir, '=')) {	/* gcc's OLD would end there */
		r = fail(res, -EINVAL, "temp dir %s contains '='", dir);
		goto out;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		r = fail(res, -errno, "open temp dir: %s", strerror(errno));
		goto out;
	}
	if (uid && fchown(dirfd, uid, gid)) {
		r = fail(res, -errno, "chown temp dir: %s", strerror(errno));
		goto out;
	}
	r = lay_out(dirfd, job->input_name, uid, gid, cwd_rel, sizeof cwd_rel, phys, sizeof phys);
	if (r) {
		r = fail(res, r, "input dirs: %s", strerror(-r));
		goto out;
	}
	/* the input must not be one of the outputs */
	if ((size_t)snprintf(outp, sizeof outp, "%s/%s", cwd_rel, job->output_name) >= sizeof outp ||
	    !strcmp(outp, phys)) {
		r = fail(res, -EPERM, "input and output names clash");
		goto out;
	}
	if (job->want_dwo &&
	    ((size_t)snprintf(outp, sizeof outp, "%s/%s", cwd_rel, dwo) >= sizeof outp ||
	     !strcmp(outp, phys))) {
		r = fail(res, -EPERM, "input and .dwo names clash");
		goto out;
	}
	snprintf(cwd, sizeof cwd, "%s/%s", dir, cwd_rel);

	/* argv: compiler, job args, our prefix maps (last: they win for our
	 * names), input -o output */
	argv = calloc((size_t)job->nargs + 9, sizeof *argv);
	if (!argv) {
		r = fail(res, -ENOMEM, "out of memory");
		goto out;
	}
	n = 0;
	argv[n++] = (char *)job->compiler;
	for (int i = 0; i < job->nargs; i++)
		argv[n++] = job->args[i];
	if (job->hub_cwd) {
		char *comp = exec_comp_dir(job->args, job->nargs, job->hub_cwd);
		maps[0] = prefix_map("-fdebug-prefix-map=", cwd, "", comp);
		free(comp);
		if (!maps[0]) {
			r = fail(res, -ENOMEM, "out of memory");
			goto out;
		}
		argv[n++] = maps[0];
	}
	if (abs_in) {
		/* the input's dir, then the input itself (wins for its own
		 * name), each as the job's own maps make the hub's name;
		 * "<dir>/r" + a hub name = its node name */
		const char *in = job->input_name;
		size_t dl = (size_t)(strrchr(in, '/') - in);
		char *hdir = strndup(in, dl);
		char *d = hdir && dl ? exec_map_name(job->args, job->nargs, hdir, false) : NULL;
		char *f = exec_map_name(job->args, job->nargs, in, false);
		char *m = exec_map_name(job->args, job->nargs, in, true);
		char rdir[EXEC_NAME_MAX + 2], rin[EXEC_NAME_MAX + 2];

		snprintf(rdir, sizeof rdir, "/r%.*s", (int)dl, in);
		snprintf(rin, sizeof rin, "/r%s", in);
		maps[1] = dl ? prefix_map("-fdebug-prefix-map=", dir, rdir, d) : NULL;
		maps[2] = prefix_map("-fdebug-prefix-map=", dir, rin, f);
		maps[3] = prefix_map("-fmacro-prefix-map=", dir, rin, m);
		free(hdir), free(d), free(f), free(m);
		if ((dl && !maps[1]) || !maps[2] || !maps[3]) {
			r = fail(res, -ENOMEM, "out of memory");
			goto out;
		}
		for (int i = 1; i < 4; i++)
			if (maps[i])
				argv[n++] = maps[i];
		/* gcc gets the node's absolute path */
		snprintf(outp, sizeof outp, "%s%s", dir, rin);
		argv[n++] = outp;
	} else {
		argv[n++] = (char *)job->input_name;
	}
	argv[n++] = "-o";
	argv[n++] = (char *)job->output_name;
	argv[n] = NULL;

	{
		int fd = openat(dirfd, phys,
				O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			r = fail(res, -errno, "create input: %s", strerror(errno));
			goto out;
		}
		r = write_full(fd, job->input, job->input_len);
		if (!r && uid && fchown(fd, uid, gid))
			r = -errno;
		if (close(fd) && !r)
			r = -errno;
		if (r) {
			r = fail(res, r, "write input: %s", strerror(-r));
			goto out;
		}
	}
	cwdfd = openat(dirfd, cwd_rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cwdfd < 0) {
		r = fail(res, -errno, "open job cwd: %s", strerror(errno));
		goto out;
	}
	r = mkparents(cwdfd, job->output_name, uid, gid);
	if (r) {
		r = fail(res, r, "output dirs: %s", strerror(-r));
		goto out;
	}

	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC) || pipe2(ps, O_CLOEXEC)) {
		r = fail(res, -errno, "pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = fail(res, -errno, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(cwd, argv, po[1], pe[1], ps[1], &job->limits, out_cap);
	setpgid(pid, pid);	/* both sides, so the kill below never misses */
	close(po[1]), po[1] = -1;
	close(pe[1]), pe[1] = -1;
	close(ps[1]), ps[1] = -1;

	{
		bool o_open = true, e_open = true;
		while (o_open || e_open) {
			struct pollfd pf[2] = { { o_open ? po[0] : -1, POLLIN, 0 },
						{ e_open ? pe[0] : -1, POLLIN, 0 } };
			uint64_t t = now_us();
			int ms;
			if (t >= deadline) {
				timed_out = true;
				break;
			}
			ms = (int)((deadline - t + 999) / 1000);
			if (ms > 1000)
				ms = 1000;
			if (poll(pf, 2, ms) < 0 && errno != EINTR)
				break;
			if (o_open && (pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
				o_open = drain(po[0], &res->out, out_cap, &over);
			if (e_open && (pf[1].revents & (POLLIN | POLLHUP | POLLERR)))
				e_open = drain(pe[0], &res->err, out_cap, &over);
			if (over) {
				kill(-pid, SIGKILL);
				break;
			}
		}
	}
	if (timed_out) {
		kill(-pid, SIGKILL);
	} else {
		/* pipes closed: wait for the exit, still under the deadline */
		for (;;) {
			pid_t w = wait4(pid, &st, WNOHANG, &ru);
			if (w == pid) {
				pid = -1;
				break;
			}
			if (w < 0 && errno != EINTR)
				break;
			if (now_us() >= deadline) {
				timed_out = true;
				kill(-pid, SIGKILL);
				break;
			}
			usleep(2000);
		}
	}
	if (pid > 0) {
		while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
			;
		pid = -1;
	}
	/* stray grandchildren of the compiler, if any */
	res->wall_us = now_us() - start;
	res->cpu_us = (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
		      (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
	{
		int e = 0;
		if (read(ps[0], &e, sizeof e) == (ssize_t)sizeof e && e) {
			r = fail(res, -e, "exec %s: %s", job->compiler, strerror(e));
			goto out;
		}
	}
	if (timed_out) {
		r = fail(res, -ETIMEDOUT, "compile timed out after %u ms",
			 (unsigned)((res->wall_us + 500) / 1000));
		goto out;
	}
	if (over) {
		r = fail(res, -E2BIG, "compiler output over the cap");
		goto out;
	}
	if (!buf_ok(&res->out) || !buf_ok(&res->err)) {
		r = fail(res, -ENOMEM, "out of memory");
		goto out;
	}
	if (WIFSIGNALED(st)) {
		int sig = WTERMSIG(st);
		if (sig == SIGXCPU || sig == SIGXFSZ || sig == SIGKILL) {
			r = fail(res, -E2BIG, "compiler hit a node limit (signal %d)", sig);
			goto out;
		}
		res->status = 128 + sig;
	} else {
		res->status = WEXITSTATUS(st);
	}
	if (res->status == 0) {
		r = read_out_at(cwdfd, job->output_name, &res->obj, out_cap);
		if (r) {
			r = fail(res, r == -E2BIG ? -E2BIG : -EIO, "read output %s: %s",
				 job->output_name, strerror(-r));
			goto out;
		}
		if (job->want_dwo) {
			r = read_out_at(cwdfd, dwo, &res->dwo, out_cap);
			if (r) {
				r = fail(res, r == -E2BIG ? -E2BIG : -EIO, "read %s: %s",
					 dwo, strerror(-r));
				goto out;
			}
		}
	}
	r = 0;
out:
	if (pid > 0) {
		kill(-pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
		if (ps[i] >= 0)
			close(ps[i]);
	}
	if (cwdfd >= 0)
		close(cwdfd);
	if (dirfd >= 0)
		close(dirfd);
	if (made)
		rm_tree(dir);
	free(argv);
	for (int i = 0; i < 4; i++)
		free(maps[i]);
	if (r) {
		buf_free(&res->obj);
		buf_free(&res->dwo);
	}
	return r;
}

void exec_result_free(struct exec_result *res)
{
	buf_free(&res->out);
	buf_free(&res->err);
	buf_free(&res->obj);
	buf_free(&res->dwo);
}
