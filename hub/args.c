/*
 * args.c — dcc's argument classifier and response-file expander (args.h).
 *
 * One pass over the expanded argv records what matters (mode, inputs,
 * output, dependency options, debug level) and routes every argument to the
 * local preprocess command, the node compile arguments, both, or neither.
 * The first rule that makes a job local wins and names the reason.
 */
#include "args.h"
#include "../lib/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- small vectors of owned strings ---------------------------------- */

struct vec {
	char **v;
	int n, cap;
	bool oom;
};

static int vec_push_owned(char ***v, int *n, int *cap, char *s)
{
	if (!s)
		return -ENOMEM;
	if (*n + 2 > *cap) {
		int nc = *cap ? *cap * 2 : 16;
		char **nv = realloc(*v, (size_t)nc * sizeof *nv);
		if (!nv) {
			free(s);
			return -ENOMEM;
		}
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
	return 0;
}

static void vadd(struct vec *v, const char *s)
{
	if (v->oom)
		return;
	if (vec_push_owned(&v->v, &v->n, &v->cap, strdup(s)))
		v->oom = true;
}

void args_free_vec(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* ---- response files -------------------------------------------------- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

int args_split_resp(const char *text, size_t len, char ***v, int *n, int *cap)
{
	size_t i = 0;
	char *w = malloc(len + 1);
	int r = 0;

	if (!w)
		return -ENOMEM;
	while (i < len) {
		size_t wl = 0;
		bool sq = false, dq = false, bs = false;

		while (i < len && is_space(text[i]))
			i++;
		if (i >= len)
			break;
		for (; i < len; i++) {
			char c = text[i];
			if (c == 0) {
				r = -EINVAL;
				goto out;
			}
			if (bs) {
				bs = false;
				w[wl++] = c;
			} else if (c == '\\') {
				bs = true;
			} else if (sq) {
				if (c == '\'')
					sq = false;
				else
					w[wl++] = c;
			} else if (dq) {
				if (c == '"')
					dq = false;
				else
					w[wl++] = c;
			} else if (is_space(c)) {
				break;
			} else if (c == '\'') {
				sq = true;
			} else if (c == '"') {
				dq = true;
			} else {
				w[wl++] = c;
			}
		}
		if (sq || dq) {
			r = -EINVAL;
			goto out;
		}
		/* A trailing lone backslash is dropped, as libiberty does. */
		if (*n >= ARGS_MAX_ARGS) {
			r = -E2BIG;
			goto out;
		}
		w[wl] = 0;
		r = vec_push_owned(v, n, cap, strdup(w));
		if (r)
			goto out;
	}
out:
	free(w);
	return r;
}

static int read_small_file(const char *path, char **data, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, l = 0;
	char *d;

	if (fd < 0)
		return -errno;
	d = malloc(cap);
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r;
		if (l == cap) {
			char *nd;
			if (cap > ARGS_RESP_MAX_BYTES) {
				free(d);
				close(fd);
				return -EFBIG;
			}
			nd = realloc(d, cap * 2);
			if (!nd) {
				free(d);
				close(fd);
				return -ENOMEM;
			}
			d = nd;
			cap *= 2;
		}
		r = read(fd, d + l, cap - l);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			free(d);
			close(fd);
			return (int)r;
		}
		if (r == 0)
			break;
		l += (size_t)r;
	}
	close(fd);
	if (l > ARGS_RESP_MAX_BYTES) {
		free(d);
		return -EFBIG;
	}
	*data = d;
	*len = l;
	return 0;
}

static int expand_into(char *const *argv, int argc, int depth, char ***v,
		       int *n, int *cap)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		int r;

		if (a[0] == '@' && a[1]) {
			char *data = NULL, **sub = NULL;
			size_t len = 0;
			int sn = 0, scap = 0;

			if (depth >= ARGS_RESP_MAX_DEPTH)
				return -ELOOP;
			r = read_small_file(a + 1, &data, &len);
			if (r == -ENOENT || r == -EACCES || r == -EISDIR)
				return -ENOENT;
			if (r)
				return r;
			r = args_split_resp(data, len, &sub, &sn, &scap);
			free(data);
			if (!r)
				r = expand_into(sub, sn, depth + 1, v, n, cap);
			for (int k = 0; k < sn; k++)
				free(sub[k]);
			free(sub);
			if (r)
				return r;
			continue;
		}
		if (*n >= ARGS_MAX_ARGS)
			return -E2BIG;
		r = vec_push_owned(v, n, cap, strdup(a));
		if (r)
			return r;
	}
	return 0;
}

int args_expand(char *const *argv, int argc, char ***out, int *outc)
{
	char **v = NULL;
	int n = 0, cap = 0, r;

	v = calloc(1, sizeof *v);
	if (!v)
		return -ENOMEM;
	cap = 1;
	r = expand_into(argv, argc, 0, &v, &n, &cap);
	if (r) {
		args_free_vec(v);
		return r;
	}
	*out = v;
	*outc = n;
	return 0;
}

/* ---- names ------------------------------------------------------------ */

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static const char *ext_of(const char *p)
{
	const char *b = base_name(p), *d = strrchr(b, '.');
	return d && d != b ? d : "";
}

/* p with the suffix of its last component replaced by `suffix`. */
static char *with_suffix(const char *p, const char *suffix)
{
	const char *b = base_name(p), *d = strrchr(b, '.');
	size_t keep = d && d != b ? (size_t)(d - p) : strlen(p);
	char *r = malloc(keep + strlen(suffix) + 1);
	if (!r)
		return NULL;
	memcpy(r, p, keep);
	strcpy(r + keep, suffix);
	return r;
}

enum args_lang args_lang_of(const char *name, bool cxx_driver, bool *is_source)
{
	const char *e = ext_of(name);
	static const char *const cxx[] = { ".cc", ".cp", ".cxx", ".cpp", ".CPP",
					   ".c++", ".C", NULL };
	static const char *const other_src[] = {
		".i", ".ii", ".mi", ".mii", ".s", ".h", ".hh", ".hpp", ".hxx",
		".H", ".tcc", ".F", ".f", ".f90", ".for", ".ads", ".adb", ".d",
		".go", ".sx", NULL };

	*is_source = true;
	if (!strcmp(e, ".c"))
		return cxx_driver ? ARGS_LANG_CXX : ARGS_LANG_C;
	for (int i = 0; cxx[i]; i++)
		if (!strcmp(e, cxx[i]))
			return ARGS_LANG_CXX;
	if (!strcmp(e, ".m"))
		return ARGS_LANG_OBJC;
	if (!strcmp(e, ".mm") || !strcmp(e, ".M"))
		return ARGS_LANG_OBJCXX;
	if (!strcmp(e, ".S"))
		return ARGS_LANG_ASM_CPP;
	for (int i = 0; other_src[i]; i++)
		if (!strcmp(e, other_src[i]))
			return ARGS_LANG_NONE;
	*is_source = false;
	return ARGS_LANG_NONE;
}

static enum args_lang lang_of_x(const char *x, bool *known)
{
	*known = true;
	if (!strcmp(x, "c"))
		return ARGS_LANG_C;
	if (!strcmp(x, "c++"))
		return ARGS_LANG_CXX;
	if (!strcmp(x, "objective-c"))
		return ARGS_LANG_OBJC;
	if (!strcmp(x, "objective-c++"))
		return ARGS_LANG_OBJCXX;
	if (!strcmp(x, "assembler-with-cpp"))
		return ARGS_LANG_ASM_CPP;
	*known = false;
	return ARGS_LANG_NONE;
}

/* ---- option tables ----------------------------------------------------- */

/* Options whose value may be the next argument (when not attached). */
static const char *const sep_opts[] = {
	"-o", "-x", "-D", "-U", "-I", "-include", "-imacros", "-isystem",
	"-idirafter", "-iprefix", "-iwithprefix", "-iwithprefixbefore",
	"-iquote", "-isysroot", "-imultilib", "-imultiarch", "-MF", "-MT",
	"-MQ", "-A", "-Xpreprocessor", "-Xassembler", "-Xlinker", "-aux-info",
	"-u", "-T", "-l", "-L", "-e", "-z", "--param", "-wrapper", "-B",
	"-specs", "--sysroot", "-dumpdir", "-dumpbase", "-dumpbase-ext",
	"-Xclang", "-target", "--target", "-arch", "-G", NULL
};

/* Of those, the ones that exist only in the separate form (no attached
 * value: "-include" must not swallow "-includefoo"...). Values attached are
 * recognised for single-letter options and -M[FTQ]. */
static bool takes_sep(const char *a)
{
	for (int i = 0; sep_opts[i]; i++)
		if (!strcmp(a, sep_opts[i]))
			return true;
	return false;
}

/* Preprocessor-only options with a value (separate or attached): they go to
 * the local preprocess run only. */
static const char *const cpp_val_opts[] = {
	"-D", "-U", "-I", "-include", "-imacros", "-isystem", "-idirafter",
	"-iprefix", "-iwithprefix", "-iwithprefixbefore", "-iquote",
	"-isysroot", "-imultilib", "-imultiarch", "-A", "-Xpreprocessor",
	"--sysroot", NULL
};

static bool in_list(const char *a, const char *const *l)
{
	for (int i = 0; l[i]; i++)
		if (!strcmp(a, l[i]))
			return true;
	return false;
}

static bool starts(const char *a, const char *p)
{
	return !strncmp(a, p, strlen(p));
}

/* Linker-only: irrelevant with -c/-S; kept out of the node's arguments. */
static bool linker_only(const char *a)
{
	static const char *const exact[] = {
		"-static", "-shared", "-pie", "-no-pie", "-static-pie",
		"-rdynamic", "-nostdlib", "-nostartfiles", "-nodefaultlibs",
		"-s", "-static-libgcc", "-shared-libgcc", "-static-libstdc++",
		"-symbolic", NULL };
	return in_list(a, exact) || starts(a, "-Wl,") || starts(a, "-l") ||
	       starts(a, "-L") || starts(a, "-Xlinker") || !strcmp(a, "-u") ||
	       !strcmp(a, "-T") || !strcmp(a, "-e") || !strcmp(a, "-z");
}

/* Walks the comma-separated pieces of a -Wa,/-Wp, list. */
static bool any_piece(const char *list, bool (*bad)(const char *, size_t))
{
	while (*list) {
		const char *e = strchr(list, ',');
		size_t l = e ? (size_t)(e - list) : strlen(list);
		if (bad(list, l))
			return true;
		list += l;
		if (*list)
			list++;
	}
	return false;
}

static bool piece_is(const char *p, size_t l, const char *w)
{
	return l == strlen(w) && !strncmp(p, w, l);
}

static bool wa_bad(const char *p, size_t l)
{
	return (l >= 2 && !strncmp(p, "-a", 2)) || (l >= 4 && !strncmp(p, "--MD", 4)) ||
	       memchr(p, '/', l) || (l && p[0] != '-');
}

static bool wa_has_files(const char *list)
{
	return any_piece(list, wa_bad);
}

static bool wp_bad(const char *p, size_t l)
{
	static const char *const ok_m[] = { "-MD", "-MMD", "-MF", "-MT", "-MQ",
					    "-MP", "-MG", NULL };
	if (l >= 2 && p[0] == '-' && p[1] == 'M') {
		for (int i = 0; ok_m[i]; i++)
			if (piece_is(p, l, ok_m[i]))
				return false;
		return true;
	}
	return piece_is(p, l, "-E") || piece_is(p, l, "-P") ||
	       piece_is(p, l, "-C") || piece_is(p, l, "-CC") ||
	       piece_is(p, l, "-fdirectives-only") || piece_is(p, l, "-dM") ||
	       piece_is(p, l, "-dD") || piece_is(p, l, "-H") ||
	       piece_is(p, l, "-traditional-cpp") || piece_is(p, l, "-undef") ||
	       piece_is(p, l, "-fpreprocessed");
}

/* -Wp,-MD,dep.d: "-MD" is followed by its file name piece; a file name is
 * never a mode change, so pieces not starting with '-' are fine. */
static bool wp_changes_mode(const char *list)
{
	return any_piece(list, wp_bad);
}

/* A preprocessor option that cc1 receives and gcc records in
 * DW_AT_producer (-A, -f…, -std=…), unlike -D/-U/-I/-i…/-M…, which it
 * leaves out: the node, which never sees it, would record other switches. */
static bool cpp_piece_recorded(const char *p, size_t l)
{
	if (!l || p[0] != '-')
		return false;	/* a value */
	return !(l >= 2 && strchr("DUIMi", p[1]));
}

static bool wp_recorded(const char *list)
{
	return any_piece(list, cpp_piece_recorded);
}

/* ---- the classifier ---------------------------------------------------- */

struct scan {
	struct args_plan *p;
	const struct args_opts *o;
	const char *local;	/* first local reason */
	char localbuf[160];
	bool c, S, E;
	const char *out;
	int nout;
	const char *src;
	int nsrc, nother;
	enum args_lang src_lang;
	bool src_lang_known;
	bool dep_md;		/* driver -MD / -MMD */
	bool user_mf, user_mt;
	int debug;		/* debug level, last -g option wins */
	bool record;		/* -grecord-gcc-switches (gcc's default) */
	bool split;
	bool verbose_asm;
	bool pedantic;		/* the node would warn about line markers */
	const char *recorded_cpp;	/* cpp-only option DW_AT_producer names */
	const char *x_now;	/* current -x value (NULL: none) */
	const char *src_x;	/* the -x in force for the source */
	struct vec cpp, node;
};

static void go_local(struct scan *s, const char *fmt, const char *arg)
{
	if (s->local)
		return;
	snprintf(s->localbuf, sizeof s->localbuf, fmt, arg ? arg : "");
	s->local = s->localbuf;
}

static void debug_opt(struct scan *s, const char *a)
{
	const char *lvl = NULL;

	if (!strcmp(a, "-g0")) {
		s->debug = 0;
		return;
	}
	if (!strcmp(a, "-grecord-gcc-switches")) {
		s->record = true;
		return;
	}
	if (!strcmp(a, "-gno-record-gcc-switches")) {
		s->record = false;
		return;
	}
	if (!strcmp(a, "-gsplit-dwarf")) {
		s->split = true;
		return;
	}
	if (!strcmp(a, "-gno-split-dwarf")) {
		s->split = false;
		return;
	}
	if (!strcmp(a, "-g"))
		lvl = "";
	else if (starts(a, "-ggdb"))
		lvl = a + 5;
	else if (starts(a, "-gdwarf"))
		lvl = "";	/* -gdwarf-N names a version, not a level */
	else if (starts(a, "-gstabs") || starts(a, "-gxcoff") ||
		 starts(a, "-gvms"))
		lvl = a[strlen(a) - 1] >= '0' && a[strlen(a) - 1] <= '9'
			      ? a + strlen(a) - 1 : "";
	else if (a[2] >= '0' && a[2] <= '9' && !a[3])
		lvl = a + 2;
	if (!lvl)
		return;	/* -gz, -gcolumn-info, -gstrict-dwarf, …: no level change */
	if (!*lvl) {
		if (s->debug == 0)
			s->debug = 2;
	} else {
		s->debug = atoi(lvl);
	}
}

/* An option's verdict, and where it goes. */
enum route { R_BOTH, R_CPP, R_NODE, R_NONE };

static enum route classify_opt(struct scan *s, const char *a, const char *val)
{
	/* mode */
	if (!strcmp(a, "-c")) {
		s->c = true;
		return R_NONE;
	}
	if (!strcmp(a, "-S")) {
		s->S = true;
		return R_NONE;
	}
	if (!strcmp(a, "-E")) {
		s->E = true;
		go_local(s, "-E: preprocessing only", NULL);
		return R_NONE;
	}
	if (!strcmp(a, "-o")) {
		s->out = val;
		s->nout++;
		return R_NONE;
	}
	if (!strcmp(a, "-x")) {
		bool known;
		if (!strcmp(val, "none")) {
			s->src_lang_known = false;
			s->x_now = NULL;
			return R_CPP;
		}
		s->src_lang = lang_of_x(val, &known);
		s->src_lang_known = true;
		s->x_now = val;
		if (!known)
			go_local(s, "-x %s: language not distributed", val);
		return R_CPP;
	}

	/* dependency options: local preprocess run only */
	if (a[1] == 'M') {
		if (!strcmp(a, "-MD") || !strcmp(a, "-MMD")) {
			s->dep_md = true;
			return R_CPP;
		}
		if (!strcmp(a, "-MG") || !strcmp(a, "-MP"))
			return R_CPP;
		if (!strcmp(a, "-MF")) {
			s->user_mf = true;
			return R_CPP;
		}
		if (!strcmp(a, "-MT") || !strcmp(a, "-MQ")) {
			s->user_mt = true;
			return R_CPP;
		}
		go_local(s, "%s: dependency listing only (implies -E)", a);
		return R_NONE;
	}
	if (starts(a, "-Wp,")) {
		/* -Wp,-MD,file and -Wp,-MMD,file are honoured by the local
		 * preprocess run exactly as by cc1; other -Wp options are
		 * preprocessor options too, unless they change its mode. */
		if (wp_changes_mode(a + 4))
			go_local(s, "%s: preprocessor mode option", a);
		if (!s->recorded_cpp && wp_recorded(a + 4))
			s->recorded_cpp = a;
		return R_CPP;
	}
	if (!strcmp(a, "-A") || (!strcmp(a, "-Xpreprocessor") &&
				 cpp_piece_recorded(val, strlen(val)))) {
		if (!s->recorded_cpp)	/* a literal: `a` may be a loop buffer */
			s->recorded_cpp = a[1] == 'A' ? "-A" : "-Xpreprocessor";
		return R_CPP;
	}
	if (in_list(a, cpp_val_opts))
		return R_CPP;
	/* the node preprocesses the text again: no stdc-predef.h there either
	 * when not here; -f[no-]working-directory is recorded in
	 * DW_AT_producer, so the node's compile must see it */
	if (!strcmp(a, "-nostdinc") || !strcmp(a, "-nostdinc++") ||
	    !strcmp(a, "-fworking-directory") || !strcmp(a, "-fno-working-directory"))
		return R_BOTH;
	if (!strcmp(a, "-pedantic") || !strcmp(a, "-Wpedantic") ||
	    !strcmp(a, "-pedantic-errors") || !strcmp(a, "-Werror=pedantic") ||
	    !strcmp(a, "-Wsystem-headers"))
		s->pedantic = true;

	/* things that run other programs or read/write other files */
	if (starts(a, "-fplugin"))
		go_local(s, "%s: compiler plugin", a);
	else if (starts(a, "-specs"))
		go_local(s, "%s: spec file", a);
	else if (!strcmp(a, "-B"))
		go_local(s, "-B: compiler search path", NULL);
	else if (!strcmp(a, "-wrapper"))
		go_local(s, "-wrapper: runs another program", NULL);
	else if (starts(a, "-save-temps"))
		go_local(s, "%s: keeps temporary files", a);
	else if (!strcmp(a, "-fsyntax-only"))
		go_local(s, "-fsyntax-only: no output", NULL);
	else if (starts(a, "-march=native") || starts(a, "-mtune=native") ||
		 starts(a, "-mcpu=native"))
		go_local(s, "%s: depends on this machine's CPU", a);
	else if (!strcmp(a, "-fprofile-arcs") || !strcmp(a, "-ftest-coverage") ||
		 !strcmp(a, "--coverage") || starts(a, "-fprofile-generate") ||
		 starts(a, "-fprofile-use") || starts(a, "-fauto-profile") ||
		 !strcmp(a, "-fprofile-correction") ||
		 starts(a, "-fprofile-dir") ||
		 !strcmp(a, "-fbranch-probabilities"))
		go_local(s, "%s: profiling/coverage files", a);
	else if (!strcmp(a, "-frepo"))
		go_local(s, "-frepo: extra output files", NULL);
	else if (a[1] == 'd' && strcmp(a, "-d") != 0)
		go_local(s, "%s: dump or aux-name option", a);
	else if (starts(a, "-fdump-") || starts(a, "-fcallgraph-info") ||
		 !strcmp(a, "-fstack-usage") || !strcmp(a, "-aux-info") ||
		 starts(a, "-fopt-info") || !strcmp(a, "-fcompare-debug") ||
		 starts(a, "-fcompare-debug="))
		go_local(s, "%s: writes extra files", a);
	else if (starts(a, "-Wa,")) {
		if (wa_has_files(a + 4))
			go_local(s, "%s: assembler listing or file", a);
		return R_NODE;
	} else if (!strcmp(a, "-Xassembler")) {
		if (val[0] != '-' || starts(val, "-a") || starts(val, "--MD") ||
		    strchr(val, '/'))
			go_local(s, "-Xassembler %s: assembler file option", val);
		return R_NODE;
	} else if (!strcmp(a, "-Wunused-macros") ||
		   !strcmp(a, "-Werror=unused-macros"))
		go_local(s, "%s: incompatible with -fdirectives-only", a);
	else if (starts(a, "-traditional") || !strcmp(a, "-undef") ||
		 !strcmp(a, "-C") || !strcmp(a, "-CC") || !strcmp(a, "-P") ||
		 !strcmp(a, "-H") || !strcmp(a, "-trigraphs") ||
		 !strcmp(a, "-fpch-preprocess") ||
		 !strcmp(a, "-fdirectives-only") ||
		 !strcmp(a, "-fpreprocessed") || !strcmp(a, "-remap") ||
		 starts(a, "-finput-charset") || starts(a, "-fexec-charset") ||
		 starts(a, "-fwide-exec-charset"))
		go_local(s, "%s: changes preprocessing", a);
	else if (!strcmp(a, "-frecord-gcc-switches") || starts(a, "-flto") ||
		 starts(a, "-ffat-lto"))
		go_local(s, "%s: object would record the node's switches", a);
	else if (!strcmp(a, "-fverbose-asm"))
		s->verbose_asm = true;
	else if (!strcmp(a, "-v") || !strcmp(a, "-###") || !strcmp(a, "--help") ||
		 starts(a, "--help=") || !strcmp(a, "--version") ||
		 starts(a, "-print-") || !strcmp(a, "-Q") ||
		 !strcmp(a, "-ftime-report") || starts(a, "-ftime-trace"))
		go_local(s, "%s: informational", a);
	else if (!strcmp(a, "-pipe"))
		return R_CPP;
	else if (a[1] == 'g')
		debug_opt(s, a);
	else if (!strcmp(a, "-Xclang") || !strcmp(a, "-target") ||
		 !strcmp(a, "--target") || !strcmp(a, "-arch"))
		go_local(s, "%s: clang/darwin option", a);

	if (linker_only(a))
		return R_NONE;
	return R_BOTH;
}

/* An output name the node takes as it is (lib/policy.h: one limit). */
static bool safe_rel(const char *p)
{
	return policy_output_name_ok(p);
}

/* The -x word of a language the node compiles. */
static const char *lang_word(enum args_lang l)
{
	switch (l) {
	case ARGS_LANG_CXX: return "c++";
	case ARGS_LANG_OBJC: return "objective-c";
	case ARGS_LANG_OBJCXX: return "objective-c++";
	case ARGS_LANG_ASM_CPP: return "assembler";	/* preprocessed here */
	default: return "c";
	}
}

/* Why the node could not compile a source under this name (it compiles
 * the very string: relative names from a cwd as deep as the name climbs,
 * absolute ones from a mirror mapped back with prefix maps), or NULL.
 * The node's own check is policy_input_name_ok(). */
static const char *src_name_problem(const char *p)
{
	int depth = 0, low = 0;
	const char *c = p;
	bool file = false;

	if (strlen(p) >= ARGS_NAME_MAX)
		return "source path too long for the farm";
	for (const char *k = p; *k; k++)
		if ((unsigned char)*k < 0x20 || *k == 0x7f)
			return "control character in the source path";
	while (*c) {
		const char *e = strchr(c, '/');
		size_t l = e ? (size_t)(e - c) : strlen(c);
		file = false;
		if (l == 2 && c[0] == '.' && c[1] == '.') {
			if (--depth < low)
				low = depth;
		} else if (l && !(l == 1 && c[0] == '.')) {
			depth++;
			file = !e;
		}
		c += l;
		if (*c)
			c++;
	}
	if (!file)
		return "source path does not end in a file name";
	if (p[0] == '/' && low < 0)
		return "absolute source path climbing above /";
	if (p[0] == '/' && strchr(p, '='))
		return "absolute source path with '=' (it would end a prefix map's OLD)";
	if (p[0] != '/' && -low > ARGS_MAX_UPS)
		return "source path climbing too many .. levels";
	return NULL;
}

/* An existing path that is not a regular file (a device, FIFO, directory;
 * with nofollow a symlink too): compiler probes, e.g. the kernel's
 * `-c -x c /dev/null -o .../null`. A missing one is fine. */
static bool not_regular(const char *path, bool nofollow)
{
	struct stat st;

	if ((nofollow ? lstat(path, &st) : stat(path, &st)) != 0)
		return false;
	return !S_ISREG(st.st_mode);
}

int args_plan(char *const *argv, int argc, const struct args_opts *opts,
	      struct args_plan *p)
{
	static const struct args_opts no_opts;
	struct scan s;
	int r;

	memset(p, 0, sizeof *p);
	memset(&s, 0, sizeof s);
	s.p = p;
	s.o = opts ? opts : &no_opts;
	s.record = true;

	r = args_expand(argv, argc, &p->argv, &p->argc);
	if (r == -ENOMEM)
		return r;
	if (r) {
		/* keep the original argv for the caller; the real compiler
		 * reports the bad response file as it would. */
		char **v = NULL;
		int n = 0, cap = 0;
		for (int i = 0; i < argc; i++)
			if (vec_push_owned(&v, &n, &cap, strdup(argv[i]))) {
				args_free_vec(v);
				return -ENOMEM;
			}
		p->argv = v;
		p->argc = n;
		snprintf(p->reason, sizeof p->reason, "response file: %s",
			 r == -ELOOP ? "nested too deep" :
			 r == -EFBIG ? "too big" :
			 r == -E2BIG ? "too many arguments" :
			 r == -EINVAL ? "bad quoting" : "cannot be read");
		return 0;
	}
	if (p->argc < 1) {
		snprintf(p->reason, sizeof p->reason, "no compiler");
		return 0;
	}

	vadd(&s.cpp, p->argv[0]);
	for (int i = 1; i < p->argc; i++) {
		const char *a = p->argv[i], *val = NULL;
		char opt[32];
		enum route rt;

		if (a[0] != '-' || !a[1]) {
			bool is_src;
			enum args_lang l;
			if (!strcmp(a, "-")) {
				go_local(&s, "input from stdin", NULL);
				s.nother++;
				continue;
			}
			l = args_lang_of(a, s.o->cxx_driver, &is_src);
			if (s.src_lang_known)
				l = s.src_lang, is_src = true;
			if (!is_src) {
				s.nother++;
				continue;
			}
			s.nsrc++;
			s.src = a;
			s.src_x = s.src_lang_known ? s.x_now : NULL;
			p->lang = l;
			vadd(&s.cpp, a);
			continue;
		}
		/* split the option from its value */
		if (takes_sep(a)) {
			if (i + 1 >= p->argc) {
				go_local(&s, "%s: missing argument", a);
				break;
			}
			val = p->argv[i + 1];
			rt = classify_opt(&s, a, val);
			if (rt == R_BOTH || rt == R_CPP) {
				vadd(&s.cpp, a);
				vadd(&s.cpp, val);
			}
			if (rt == R_BOTH || rt == R_NODE) {
				vadd(&s.node, a);
				vadd(&s.node, val);
			}
			i++;
			continue;
		}
		/* attached values: -DX -Ifoo -oout -xc -MFfile -lm -Lx -Bdir */
		opt[0] = 0;
		if (strchr("DUIoxABlL", a[1]) && a[2]) {
			opt[0] = '-', opt[1] = a[1], opt[2] = 0;
			val = a + 2;
		} else if (a[1] == 'M' && strchr("FTQ", a[2]) && a[2] && a[3]) {
			opt[0] = '-', opt[1] = 'M', opt[2] = a[2], opt[3] = 0;
			val = a + 3;
		} else if (starts(a, "--sysroot=")) {
			strcpy(opt, "--sysroot");
			val = a + 10;
		}
		if (opt[0]) {
			if (!strcmp(opt, "-B")) {
				go_local(&s, "%s: compiler search path", a);
				continue;
			}
			rt = classify_opt(&s, opt, val);
		} else {
			rt = classify_opt(&s, a, NULL);
		}
		if (rt == R_BOTH || rt == R_CPP)
			vadd(&s.cpp, a);
		if (rt == R_BOTH || rt == R_NODE)
			vadd(&s.node, a);
	}

	if (s.cpp.oom || s.node.oom) {
		r = -ENOMEM;
		goto fail;
	}

	/* decisions that need the whole command */
	if (!s.local) {
		if (s.o->clang)
			go_local(&s, "clang: directives-only mode is gcc's", NULL);
		else if (!s.c && !s.S)
			go_local(&s, "neither -c nor -S: link or other", NULL);
		else if (s.c && s.S)
			go_local(&s, "both -c and -S", NULL);
		else if (s.nsrc == 0)
			go_local(&s, "no source file", NULL);
		else if (s.nsrc > 1)
			go_local(&s, "several source files", NULL);
		else if (s.nother)
			go_local(&s, "extra input files", NULL);
		else if (not_regular(s.src, false))
			go_local(&s, "%s: input is not a regular file (a compiler probe)", s.src);
		else if (s.out && (!strcmp(s.out, "/dev/null") || not_regular(s.out, true)))
			go_local(&s, "-o %s: output is not a regular file", s.out);
		else if (p->lang == ARGS_LANG_NONE)
			go_local(&s, "%s: not a language we distribute", s.src);
		else if (s.nout > 1)
			go_local(&s, "several -o", NULL);
		else if (s.out && !strcmp(s.out, "-"))
			go_local(&s, "-o -: output to stdout", NULL);
		else if (starts(base_name(s.src), "conftest.") ||
			 starts(base_name(s.src), "tmp.conftest."))
			go_local(&s, "%s: autoconf test", s.src);
		else if (p->lang != ARGS_LANG_ASM_CPP && src_name_problem(s.src)) {
			char why[sizeof s.localbuf];
			snprintf(why, sizeof why, "%.60s: %s", s.src, src_name_problem(s.src));
			go_local(&s, "%s", why);
		}
		else if (s.debug >= 3)
			go_local(&s, "-g3: macro debug info names the built-in and "
				     "header macros the node does not see as such", NULL);
		else if (s.debug > 0 && s.record && s.recorded_cpp)
			go_local(&s, "%s with -g: DW_AT_producer would not list it",
				 s.recorded_cpp);
		else if (s.pedantic && p->lang != ARGS_LANG_ASM_CPP)
			go_local(&s, "-pedantic/-Wsystem-headers: the node would warn "
				     "about the line markers", NULL);
		else if (p->lang == ARGS_LANG_ASM_CPP && (s.debug > 0 || s.S))
			go_local(&s, "assembler source with -g or -S", NULL);
		else if (s.verbose_asm && s.S)
			go_local(&s, "-fverbose-asm lists the switches", NULL);
		else if (s.split && s.debug > 0 && s.S)
			go_local(&s, "-gsplit-dwarf with -S", NULL);
	}
	if (s.local) {
		snprintf(p->reason, sizeof p->reason, "%s", s.local);
		args_free_vec(s.cpp.v);
		args_free_vec(s.node.v);
		return 0;
	}

	/* distributable: outputs and names */
	p->compile_S = s.S;
	p->source = strdup(s.src);
	p->output = s.out ? strdup(s.out)
			  : with_suffix(base_name(s.src), s.S ? ".s" : ".o");
	if (!p->source || !p->output) {
		r = -ENOMEM;
		goto fail;
	}
	p->want_dwo = s.split && s.debug > 0;
	if (safe_rel(p->output))
		p->output_name = strdup(p->output);
	else if (p->want_dwo) {
		/* the .dwo name is recorded in the object: must be the same */
		go_local(&s, "-gsplit-dwarf with an absolute or ../ output", NULL);
		goto late_local;
	} else {
		const char *b = base_name(p->output);
		p->output_name = strdup(safe_rel(b) ? b : (s.S ? "out.s" : "out.o"));
	}
	if (p->want_dwo) {
		p->dwo = with_suffix(p->output, ".dwo");
		if (p->dwo && not_regular(p->dwo, true)) {
			go_local(&s, "%s: .dwo output is not a regular file", p->dwo);
			goto late_local;
		}
	}
	if (!s.out && not_regular(p->output, true)) {
		/* the default output (a.o) exists and is no file */
		go_local(&s, "%s: output is not a regular file", p->output);
		goto late_local;
	}
	if (p->lang != ARGS_LANG_ASM_CPP) {
		/* the same name, as given: DW_AT_name, __BASE_FILE__, the
		 * language by extension (the node compiles that very
		 * string, or maps its mirror of an absolute one back) */
		p->input_name = strdup(s.src);
	} else {
		/* .S: fully preprocessed here, assembled there */
		const char *b = base_name(p->source);
		char *stem = with_suffix(b, "");
		if (stem && (!*stem || !safe_rel(stem) || stem[0] == '-')) {
			free(stem);
			stem = strdup("input");
		}
		if (stem) {
			p->input_name = malloc(strlen(stem) + 5);
			if (p->input_name)
				sprintf(p->input_name, "%s.s", stem);
			free(stem);
		}
	}
	if (!p->output_name || !p->input_name || (p->want_dwo && !p->dwo)) {
		r = -ENOMEM;
		goto fail;
	}
	/* never plan a job under a name the node would refuse: it would only
	 * cost a round of retries before the local compile */
	if (!policy_input_name_ok(p->input_name)) {
		go_local(&s, "%s: not a source name a node accepts", p->input_name);
		free(p->input_name), p->input_name = NULL;
		goto late_local;
	}

	/* the local preprocess command */
	if (p->lang == ARGS_LANG_ASM_CPP) {
		vadd(&s.cpp, "-E");
	} else {
		vadd(&s.cpp, "-E");
		vadd(&s.cpp, "-fdirectives-only");
	}
	if (s.dep_md) {
		if (!s.user_mf) {
			char *d = s.out ? with_suffix(s.out, ".d")
					: with_suffix(base_name(s.src), ".d");
			if (!d) {
				r = -ENOMEM;
				goto fail;
			}
			vadd(&s.cpp, "-MF");
			vadd(&s.cpp, d);
			free(d);
		}
		if (!s.user_mt && s.out) {
			vadd(&s.cpp, "-MQ");
			vadd(&s.cpp, s.out);
		}
	}
	/* the node's compile arguments: the source's language as here */
	vadd(&s.node, s.S ? "-S" : "-c");
	vadd(&s.node, "-x");	/* always explicit: the node compiles only */
	vadd(&s.node, s.src_x && p->lang != ARGS_LANG_ASM_CPP ? s.src_x : lang_word(p->lang));
	if (s.cpp.oom || s.node.oom) {
		r = -ENOMEM;
		goto fail;
	}
	{	/* the node's own check, so no job is planned that it refuses */
		char why[100];
		if (policy_check_args(s.node.v, s.node.n, why, sizeof why)) {
			go_local(&s, "a node would refuse: %s", why);
			goto late_local;
		}
		if (!policy_input_suffix_ok(p->input_name)) {
			go_local(&s, "%s: not a source suffix a node compiles", p->input_name);
			goto late_local;
		}
	}
	p->cpp_argv = s.cpp.v;
	p->cpp_argc = s.cpp.n;
	p->node_args = s.node.v;
	p->node_nargs = s.node.n;
	p->distribute = true;
	snprintf(p->reason, sizeof p->reason, "distributable");
	return 0;
late_local:
	/* local after all: only argv and the reason stay */
	snprintf(p->reason, sizeof p->reason, "%s", s.local);
	free(p->source), p->source = NULL;
	free(p->output), p->output = NULL;
	free(p->dwo), p->dwo = NULL;
	free(p->output_name), p->output_name = NULL;
	args_free_vec(s.cpp.v);
	args_free_vec(s.node.v);
	return 0;
fail:
	args_free_vec(s.cpp.v);
	args_free_vec(s.node.v);
	args_plan_free(p);
	return r;
}

void args_plan_free(struct args_plan *p)
{
	args_free_vec(p->argv);
	args_free_vec(p->cpp_argv);
	args_free_vec(p->node_args);
	free(p->source);
	free(p->output);
	free(p->dwo);
	free(p->input_name);
	free(p->output_name);
	memset(p, 0, sizeof *p);
}

/* ---- the node's source -------------------------------------------------- */

/* If line [p, e) is a line marker `# N "name"...`, sets the quoted name
 * (raw, escapes kept) and returns true. */
static bool line_marker(const uint8_t *p, const uint8_t *e, const uint8_t **name,
			size_t *nlen)
{
	const uint8_t *q;

	if (e - p < 5 || p[0] != '#' || p[1] != ' ' || p[2] < '0' || p[2] > '9')
		return false;
	for (p += 2; p < e && *p >= '0' && *p <= '9'; p++)
		;
	if (e - p < 3 || p[0] != ' ' || p[1] != '"')
		return false;
	p += 2;
	for (q = p; q < e && *q != '"'; q++)
		if (*q == '\\' && q + 1 < e)
			q++;
	if (q >= e)
		return false;
	*name = p;
	*nlen = (size_t)(q - p);
	return true;
}

int args_node_source(uint8_t *text, size_t *len, const char *cwd)
{
	const uint8_t *r = text, *end = text + *len;
	uint8_t *w = text;
	size_t cwdl = strlen(cwd), lineno = 0;
	bool builtin = false, past = false;

	if (!*len)
		return 0;
	while (r < end) {
		const uint8_t *nl = memchr(r, '\n', (size_t)(end - r));
		const uint8_t *le = nl ? nl : end, *next = nl ? nl + 1 : end;
		const uint8_t *name;
		size_t nlen;
		bool drop = false, marker = lineno > 0 && line_marker(r, le, &name, &nlen);

		if (lineno == 1 && marker && nlen >= 3 && !memcmp(name + nlen - 2, "//", 2)) {
			/* the working-directory marker: must name our cwd */
			if (nlen != cwdl + 2 || memcmp(name, cwd, cwdl))
				return -EINVAL;
			drop = true;
		} else if (marker && !past) {
			/* gcc writes the block once, at the top: a line that
			 * looks like its marker further down (in a comment) is
			 * left alone */
			builtin = nlen == 10 && !memcmp(name, "<built-in>", 10);
			past = !builtin;
		}
		if (builtin)
			drop = true;
		if (!drop) {
			memmove(w, r, (size_t)(next - r));
			w += next - r;
		}
		r = next;
		lineno++;
	}
	*len = (size_t)(w - text);
	return 0;
}

static bool ident_char(uint8_t c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c >= 0x80;
}

const char *args_time_macro(const uint8_t *text, size_t len)
{
	static const char *const m[] = { "__DATE__", "__TIME__", "__TIMESTAMP__", NULL };
	const uint8_t *p = text, *end = text + len;

	/* every candidate starts with "__": look for the pairs */
	while (p < end) {
		const uint8_t *u = memchr(p, '_', (size_t)(end - p));
		if (!u)
			break;
		if (u == text || !ident_char(u[-1]))
			for (int i = 0; m[i]; i++) {
				size_t ml = strlen(m[i]);
				if ((size_t)(end - u) >= ml && !memcmp(u, m[i], ml) &&
				    ((size_t)(end - u) == ml || !ident_char(u[ml])))
					return m[i];
			}
		/* skip the rest of this identifier */
		for (p = u; p < end && ident_char(*p); p++)
			;
	}
	return NULL;
}
