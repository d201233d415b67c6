/*
 * scan_cc.c — a compile command's header-search options, and the
 * compiler's own search list from its `-v` output (scan_cc.h).
 *
 * Invariants: scan_opts points into the caller's argv (only the arrays are
 * ours); scan_chain owns its strings; a parsed chain has at most
 * SCAN_CC_MAX_DIRS dirs and nothing but lines between the markers gcc and
 * clang print.
 */
#include "scan_cc.h"
#include "filetab.h"
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Options whose value is the next argument when not joined. */
static const char *const sep_opts[] = {
	"-o", "-x", "-D", "-U", "-I", "-include", "-imacros", "-isystem", "-iquote",
	"-idirafter", "-iprefix", "-iwithprefix", "-iwithprefixbefore", "-isysroot",
	"-imultilib", "-imultiarch", "-MF", "-MT", "-MQ", "-Xpreprocessor",
	"-Xassembler", "-Xlinker", "-Xclang", "-aux-info", "-A", "-L", "-T", "-u",
	"-z", "-e", "-wrapper", "-dumpbase", "-dumpbase-ext", "-dumpdir", "--param",
	"-B", "--sysroot", "-target", "-arch", "-cxx-isystem", "-G",
};

/* Of those, the ones that decide the search list. */
static const char *const query_opts[] = {
	"-I", "-isystem", "-iquote", "-idirafter", "-iprefix", "-iwithprefix",
	"-iwithprefixbefore", "-isysroot", "-imultilib", "-imultiarch", "-B",
	"--sysroot", "-target", "-cxx-isystem",
};

static bool in(const char *s, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return true;
	return false;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The joined form "-Ifoo" of a query option: its name length, else 0. */
static size_t joined_query(const char *a)
{
	static const char *const j[] = { "-iwithprefixbefore", "-iwithprefix", "-iprefix",
		"-idirafter", "-isystem", "-iquote", "-isysroot", "-I", "-B", "--sysroot=" };
	for (size_t i = 0; i < N(j); i++)
		if (strncmp(a, j[i], strlen(j[i])) == 0 && a[strlen(j[i])])
			return strlen(j[i]);
	return 0;
}

static const char *lang_of(const char *src, bool cxx, bool *pre)
{
	const char *dot = strrchr(src, '.');
	static const struct { const char *ext, *lang; } t[] = {
		{ "c", "c" }, { "cc", "c++" }, { "cp", "c++" }, { "cxx", "c++" },
		{ "cpp", "c++" }, { "CPP", "c++" }, { "c++", "c++" }, { "C", "c++" },
		{ "m", "objective-c" }, { "mm", "objective-c++" }, { "M", "objective-c++" },
		{ "S", "assembler-with-cpp" }, { "sx", "assembler-with-cpp" },
		{ "h", "c-header" }, { "hh", "c++-header" }, { "hpp", "c++-header" },
		{ "H", "c++-header" }, { "hxx", "c++-header" },
	};
	*pre = false;
	if (!dot || strchr(dot, '/'))
		return cxx ? "c++" : "c";
	dot++;
	if (!strcmp(dot, "i") || !strcmp(dot, "ii") || !strcmp(dot, "s") || !strcmp(dot, "mi")) {
		*pre = true;
		return "cpp-output";
	}
	for (size_t i = 0; i < N(t); i++)
		if (strcmp(dot, t[i].ext) == 0)
			return cxx && !strcmp(t[i].lang, "c") ? "c++" :
			       cxx && !strcmp(t[i].lang, "c-header") ? "c++-header" : t[i].lang;
	return cxx ? "c++" : "c";
}

static int push(const char ***v, size_t *n, const char *s)
{
	const char **nv = realloc(*v, (*n + 1) * sizeof *nv);
	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = s;
	*v = nv;
	return 0;
}

/* One option at argv[*i] (and its separate value): recorded in o. */
static int one_opt(char *const *argv, size_t argc, size_t *i, struct scan_opts *o,
		   const char **xlang)
{
	const char *a = argv[*i], *v = NULL;
	size_t jl;
	int r = 0;

	if (in(a, sep_opts, N(sep_opts)) && *i + 1 < argc)
		v = argv[++*i];
	if (!strcmp(a, "-x") && v)
		*xlang = strcmp(v, "none") ? v : NULL;
	else if (!strncmp(a, "-x", 2) && a[2])
		*xlang = strcmp(a + 2, "none") ? a + 2 : NULL;
	else if (!strcmp(a, "-include") && v)
		r = push(&o->includes, &o->nincludes, v);
	else if (!strcmp(a, "-imacros") && v)
		r = push(&o->imacros, &o->nimacros, v);
	else if (!strcmp(a, "-D") && v)
		r = push(&o->defines, &o->ndefines, v);
	else if (!strncmp(a, "-D", 2) && a[2])
		r = push(&o->defines, &o->ndefines, a + 2);
	else if (!strcmp(a, "-ffreestanding") || !strcmp(a, "-fno-hosted"))
		o->preinclude = false;
	else if (!strcmp(a, "-fhosted"))
		o->preinclude = true;
	else if (!strcmp(a, "-I-")) {
		o->ignore_source_dir = true;
		r = push(&o->query, &o->nquery, a);
	} else if (v && in(a, query_opts, N(query_opts))) {
		o->query_relative |= v[0] != '/';
		if (!(r = push(&o->query, &o->nquery, a)))
			r = push(&o->query, &o->nquery, v);
	} else if ((jl = joined_query(a))) {
		o->query_relative |= a[jl] != '/';
		r = push(&o->query, &o->nquery, a);
	} else if (!strncmp(a, "-m", 2) || !strncmp(a, "-nostdinc", 9) ||
		   !strncmp(a, "-stdlib=", 8) || !strncmp(a, "-specs=", 7) ||
		   !strncmp(a, "--target=", 9) || !strcmp(a, "-no-canonical-prefixes"))
		r = push(&o->query, &o->nquery, a);
	return r;
}

int scan_parse_argv(char *const *argv, size_t argc, struct scan_opts *o,
		    char *err, size_t errlen)
{
	const char *drv = argc ? strrchr(argv[0], '/') : NULL, *xlang = NULL;
	const char *srclang = NULL;
	bool cxx;
	int r;

	memset(o, 0, sizeof *o);
	o->preinclude = true;
	drv = drv ? drv + 1 : argc ? argv[0] : "";
	cxx = strstr(drv, "++") != NULL;
	for (size_t i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] == '-' && a[1]) {
			if ((r = one_opt(argv, argc, &i, o, &xlang)))
				goto fail;
			continue;
		}
		if (o->source) {
			snprintf(err, errlen, "several inputs (%s, %s)", o->source, a);
			r = -EINVAL;
			goto fail;
		}
		o->source = a;
		srclang = xlang;
	}
	for (size_t i = 0; i < o->nquery; i++)
		if (!strcmp(o->query[i], "-nostdinc"))
			o->preinclude = false;
	if (!o->source) {
		snprintf(err, errlen, "no input file");
		r = -EINVAL;
		goto fail;
	}
	if (srclang) {
		o->lang = srclang;
		o->preprocessed = !strcmp(srclang, "cpp-output") || !strcmp(srclang, "c++-cpp-output") ||
				  !strcmp(srclang, "assembler");
	} else
		o->lang = lang_of(o->source, cxx, &o->preprocessed);
	return 0;
fail:
	scan_opts_free(o);
	return r;
}

void scan_opts_free(struct scan_opts *o)
{
	free(o->includes);
	free(o->imacros);
	free(o->defines);
	free(o->query);
	memset(o, 0, sizeof *o);
}

static int chain_add(char ***v, size_t *n, const char *s, size_t len)
{
	char **nv, *d;
	if (*n >= SCAN_CC_MAX_DIRS)
		return -E2BIG;
	if (!(d = strndup(s, len)))
		return -ENOMEM;
	if (!(nv = realloc(*v, (*n + 1) * sizeof *nv))) {
		free(d);
		return -ENOMEM;
	}
	nv[(*n)++] = d;
	*v = nv;
	return 0;
}

/* One line of -v output in state *st (0 before, 1 quote, 2 bracket, 3 done). */
static int chain_line(struct scan_chain *c, const char *l, size_t ll, int *st)
{
	static const char ign[] = "ignoring nonexistent directory \"";
	static const char fw[] = " (framework directory)";

	if (ll >= sizeof ign && !memcmp(l, ign, sizeof ign - 1) && l[ll - 1] == '"')
		return chain_add(&c->absent, &c->nabsent, l + sizeof ign - 1, ll - sizeof ign);
	if (ll == 34 && !memcmp(l, "#include \"...\" search starts here:", 34))
		*st = 1;
	else if (ll == 34 && !memcmp(l, "#include <...> search starts here:", 34))
		*st = 2;
	else if (ll == 19 && !memcmp(l, "End of search list.", 19))
		*st = 3;
	else if ((*st == 1 || *st == 2) && ll > 1 && l[0] == ' ') {
		l++, ll--;
		if (ll > sizeof fw - 1 && !memcmp(l + ll - (sizeof fw - 1), fw, sizeof fw - 1))
			ll -= sizeof fw - 1;
		int r = chain_add(&c->dirs, &c->n, l, ll);
		if (!r && *st == 1)
			c->quote_n = c->n;
		return r;
	}
	return 0;
}

int scan_chain_parse(const char *v, size_t len, struct scan_chain *c)
{
	int st = 0, r = 0;
	size_t i = 0;

	memset(c, 0, sizeof *c);
	while (i < len && st != 3) {
		const char *nl = memchr(v + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - v) : len;
		size_t ll = e - i;
		if (ll && v[i + ll - 1] == '\r')
			ll--;
		if ((r = chain_line(c, v + i, ll, &st)))
			break;
		i = e + 1;
	}
	if (!r && st != 3)
		r = -EINVAL;
	if (r)
		scan_chain_free(c);
	return r;
}

void scan_chain_free(struct scan_chain *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->dirs[i]);
	for (size_t i = 0; i < c->nabsent; i++)
		free(c->absent[i]);
	free(c->dirs);
	free(c->absent);
	memset(c, 0, sizeof *c);
}

char **scan_query_argv(const char *compiler, const struct scan_opts *o)
{
	static const char *const tail[] = { "-E", "-v", "-x", NULL, "/dev/null", "-o", "/dev/null" };
	size_t n = 1 + o->nquery + N(tail) + 1, k = 0;
	char **v = calloc(n, sizeof *v);
	if (!v)
		return NULL;
	v[k++] = (char *)compiler;
	for (size_t i = 0; i < o->nquery; i++)
		v[k++] = (char *)o->query[i];
	for (size_t i = 0; i < N(tail); i++)
		v[k++] = (char *)(tail[i] ? tail[i] : !strcmp(o->lang, "cpp-output") ? "c" : o->lang);
	v[k] = NULL;
	return v;
}

/* argv[0] as a path to exec: itself if it has a '/', else found on $PATH. */
static int exec_path(const char *a0, char *out, size_t len)
{
	const char *p = getenv("PATH");
	if (strchr(a0, '/')) {
		snprintf(out, len, "%s", a0);
		return 0;
	}
	for (p = p ? p : "/usr/bin:/bin"; *p;) {
		const char *e = strchr(p, ':');
		size_t dl = e ? (size_t)(e - p) : strlen(p);
		snprintf(out, len, "%.*s/%s", (int)dl, dl ? p : ".", a0);
		if (access(out, X_OK) == 0)
			return 0;
		p += dl + (e ? 1 : 0);
	}
	return -ENOENT;
}

int scan_run_default(void *arg, char *const argv[], const char *cwd, struct buf *out)
{
	char path[4096];
	char **env = NULL;
	size_t ne = 0, k = 0;
	int pfd[2], st = 0, r;
	pid_t pid;

	(void)arg;
	if ((r = exec_path(argv[0], path, sizeof path)))
		return r;
	for (char **e = environ; *e; e++)
		ne++;
	if (!(env = calloc(ne + 2, sizeof *env)))
		return -ENOMEM;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "LC_ALL=", 7) && strncmp(*e, "LANGUAGE=", 9))
			env[k++] = *e;
	env[k++] = "LC_ALL=C";
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		free(env);
		return -errno;
	}
	struct spawn_opts so = { .path = path, .argv = argv, .envp = env, .cwd = cwd,
				 .fd_in = -1, .fd_out = pfd[1], .fd_err = pfd[1] };
	pid = spawn_start(&so, NULL);
	close(pfd[1]);
	free(env);
	if (pid < 0) {
		close(pfd[0]);
		return (int)pid;
	}
	r = buf_read_fd(out, pfd[0], 1u << 20);
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!r && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		r = -EIO;
	return r;
}

/* ---- the cache of search lists ---- */

struct chain_ent {
	struct chain_ent *next;
	char *key;
	size_t klen;
	struct scan_chain ch;
};

struct scan_chains {
	struct chain_ent *head;	/* most recently used first */
	size_t n;
};

struct scan_chains *scan_chains_new(void)
{
	return calloc(1, sizeof(struct scan_chains));
}

static void ent_free(struct chain_ent *e)
{
	scan_chain_free(&e->ch);
	free(e->key);
	free(e);
}

void scan_chains_free(struct scan_chains *c)
{
	if (!c)
		return;
	while (c->head) {
		struct chain_ent *e = c->head;
		c->head = e->next;
		ent_free(e);
	}
	free(c);
}

static void chain_key(struct buf *k, struct filetab *ft, const char *compiler,
		      const char *cwd, const struct scan_opts *o)
{
	struct filetab_file f;
	char id[128] = "";
	if (compiler[0] == '/' && filetab_resolve(ft, compiler, &f, NULL, NULL) == 0)
		snprintf(id, sizeof id, "%llu:%llu:%llu:%lld:%lld", (unsigned long long)f.id.dev,
			 (unsigned long long)f.id.ino, (unsigned long long)f.id.size,
			 (long long)f.id.mtime_ns, (long long)f.id.ctime_ns);
	buf_put(k, compiler, strlen(compiler) + 1);
	buf_put(k, id, strlen(id) + 1);
	buf_put(k, o->lang, strlen(o->lang) + 1);
	if (o->query_relative)
		buf_put(k, cwd, strlen(cwd));
	buf_u8(k, 0);
	for (size_t i = 0; i < o->nquery; i++)
		buf_put(k, o->query[i], strlen(o->query[i]) + 1);
	buf_u8(k, 0);
}

/* A cached list still holds if every dir it ignored is still absent. */
static bool chain_fresh(const struct scan_chain *ch, struct filetab *ft, const char *cwd)
{
	for (size_t i = 0; i < ch->nabsent; i++) {
		char p[4096];
		struct filetab_file f;
		if (ch->absent[i][0] == '/')
			snprintf(p, sizeof p, "%s", ch->absent[i]);
		else
			snprintf(p, sizeof p, "%s/%s", cwd, ch->absent[i]);
		if (filetab_resolve(ft, p, &f, NULL, NULL) != -ENOENT)
			return false;
	}
	return true;
}

static int chain_ask(scan_run_fn run, void *arg, const char *compiler, const char *cwd,
		     const struct scan_opts *o, struct scan_chain *ch, char *err, size_t errlen)
{
	struct buf out = BUF_INIT;
	char **argv = scan_query_argv(compiler, o);
	int r;

	if (!argv)
		return -ENOMEM;
	r = run(arg, argv, cwd, &out);
	if (!r)
		r = scan_chain_parse((const char *)out.data, out.len, ch);
	if (r)
		snprintf(err, errlen, "the search list of %s -x %s: %s", compiler, o->lang,
			 r == -EINVAL ? "no search list in its -v output" : strerror(-r));
	free(argv);
	buf_free(&out);
	return r;
}

int scan_chains_get(struct scan_chains *c, struct filetab *ft, scan_run_fn run, void *arg,
		    const char *compiler, const char *cwd, const struct scan_opts *o,
		    const struct scan_chain **out, bool *asked, char *err, size_t errlen)
{
	struct buf k = BUF_INIT;
	struct chain_ent **pp, *e = NULL;
	int r = 0;

	*asked = false;
	chain_key(&k, ft, compiler, cwd, o);
	if (!buf_ok(&k))
		return -ENOMEM;
	for (pp = &c->head; *pp; pp = &(*pp)->next)
		if ((*pp)->klen == k.len && !memcmp((*pp)->key, k.data, k.len))
			break;
	if (*pp) {
		e = *pp;
		*pp = e->next;
		c->n--;
		if (!chain_fresh(&e->ch, ft, cwd)) {
			ent_free(e);
			e = NULL;
		}
	}
	if (!e) {
		if (!(e = calloc(1, sizeof *e)) || !(e->key = malloc(k.len))) {
			free(e);
			buf_free(&k);
			return -ENOMEM;
		}
		memcpy(e->key, k.data, k.len);
		e->klen = k.len;
		if ((r = chain_ask(run, arg, compiler, cwd, o, &e->ch, err, errlen))) {
			ent_free(e);
			buf_free(&k);
			return r;
		}
		*asked = true;
	}
	e->next = c->head;
	c->head = e;
	if (++c->n > SCAN_CC_MAX_CHAINS) {
		for (pp = &c->head; (*pp)->next; pp = &(*pp)->next)
			;
		ent_free(*pp);
		*pp = NULL;
		c->n--;
	}
	*out = &e->ch;
	buf_free(&k);
	return 0;
}
