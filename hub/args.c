/*
 * args.c — dcc's argument classifier and response-file expander (args.h).
 *
 * args_plan() runs in phases: argv expanded (@file) → one scan over it that
 * records what matters (mode, inputs, output, dependency options, debug
 * level) and routes every argument to the local preprocess command, the
 * node compile arguments, both, or neither (the per-option rules are in
 * args_rules.c) → the whole-command rules (args_rules.c, a table) →
 * naming (outputs, the node's input name) → the two commands built and
 * checked against the node's policy. The first rule that makes a job local
 * wins and names the reason; a local plan keeps only argv and the reason.
 */
#include "args_int.h"
#include "../lib/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- small vectors of owned strings ---------------------------------- */

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

/* ---- the plan, phase 1: argv expanded -------------------------------- */

/* @file expansion into p->argv. 0: go on; 1: local (reason set; the
 * original argv kept: the real compiler reports the bad response file as
 * it would); -ENOMEM. */
static int plan_expand(char *const *argv, int argc, struct args_plan *p)
{
	char **v = NULL;
	int n = 0, cap = 0, r = args_expand(argv, argc, &p->argv, &p->argc);

	if (r == -ENOMEM)
		return r;
	if (!r) {
		if (p->argc >= 1)
			return 0;
		snprintf(p->reason, sizeof p->reason, "no compiler");
		return 1;
	}
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
	return 1;
}

/* ---- phase 2: the argv scan -------------------------------------------- */

/* A non-option argument: the source, or another input. */
static void scan_input(struct scan *s, const char *a)
{
	bool is_src;
	enum args_lang l;

	if (!strcmp(a, "-")) {
		go_local(s, "input from stdin", NULL);
		s->nother++;
		return;
	}
	l = args_lang_of(a, s->o->cxx_driver, &is_src);
	if (s->src_lang_known)
		l = s->src_lang, is_src = true;
	if (!is_src) {
		s->nother++;
		return;
	}
	s->nsrc++;
	s->src = a;
	s->src_x = s->src_lang_known ? s->x_now : NULL;
	s->p->lang = l;
	vadd(&s->cpp, a);
}

static void route(struct scan *s, enum route rt, const char *a, const char *val)
{
	if (rt == R_BOTH || rt == R_CPP) {
		vadd(&s->cpp, a);
		if (val)
			vadd(&s->cpp, val);
	}
	if (rt == R_BOTH || rt == R_NODE) {
		vadd(&s->node, a);
		if (val)
			vadd(&s->node, val);
	}
}

/* An option with its value attached (-DX -Ifoo -oout -xc -MFfile -lm -Lx
 * -Bdir --sysroot=d), classified by its name. */
static void scan_attached(struct scan *s, const char *a)
{
	const char *val = NULL;
	char opt[32];

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
	if (!strcmp(opt, "-B")) {
		go_local(s, "%s: compiler search path", a);
		return;
	}
	route(s, args_classify_opt(s, opt[0] ? opt : a, val), a, NULL);
}

/* Every argument in order: what matters recorded in s, each routed to the
 * local preprocess command, the node's arguments, both or neither. */
static void scan_argv(struct scan *s)
{
	struct args_plan *p = s->p;

	vadd(&s->cpp, p->argv[0]);
	for (int i = 1; i < p->argc; i++) {
		const char *a = p->argv[i];

		if (a[0] != '-' || !a[1]) {
			scan_input(s, a);
		} else if (args_takes_sep(a)) {
			if (i + 1 >= p->argc) {
				go_local(s, "%s: missing argument", a);
				break;
			}
			route(s, args_classify_opt(s, a, p->argv[i + 1]), a, p->argv[i + 1]);
			i++;
		} else {
			scan_attached(s, a);
		}
	}
}

/* ---- phase 3: naming --------------------------------------------------- */

/* The name the node compiles the source under: the same name, as given
 * (DW_AT_name, __BASE_FILE__, the language by extension: the node
 * compiles that very string, or maps its mirror of an absolute one
 * back); for .S (fully preprocessed here, assembled there) STEM.s. */
static char *node_input_name(const struct args_plan *p)
{
	char *stem, *name;

	if (p->lang != ARGS_LANG_ASM_CPP)
		return strdup(p->source);
	stem = with_suffix(base_name(p->source), "");
	if (stem && (!*stem || !safe_rel(stem) || stem[0] == '-')) {
		free(stem);
		stem = strdup("input");
	}
	if (!stem)
		return NULL;
	name = malloc(strlen(stem) + 3);
	if (name)
		sprintf(name, "%s.s", stem);
	free(stem);
	return name;
}

/* Outputs and names. 0: named; 1: local after all (reason in s);
 * -ENOMEM. */
static int plan_names(struct scan *s)
{
	struct args_plan *p = s->p;

	p->compile_S = s->S;
	p->source = strdup(s->src);
	p->output = s->out ? strdup(s->out)
			   : with_suffix(base_name(s->src), s->S ? ".s" : ".o");
	if (!p->source || !p->output)
		return -ENOMEM;
	p->want_dwo = s->split && s->debug > 0;
	if (safe_rel(p->output)) {
		p->output_name = strdup(p->output);
	} else if (p->want_dwo) {
		/* the .dwo name is recorded in the object: must be the same */
		go_local(s, "-gsplit-dwarf with an absolute or ../ output", NULL);
		return 1;
	} else {
		const char *b = base_name(p->output);
		p->output_name = strdup(safe_rel(b) ? b : (s->S ? "out.s" : "out.o"));
	}
	if (p->want_dwo) {
		p->dwo = with_suffix(p->output, ".dwo");
		if (p->dwo && args_not_regular(p->dwo, true)) {
			go_local(s, "%s: .dwo output is not a regular file", p->dwo);
			return 1;
		}
	}
	if (!s->out && args_not_regular(p->output, true)) {
		/* the default output (a.o) exists and is no file */
		go_local(s, "%s: output is not a regular file", p->output);
		return 1;
	}
	p->input_name = node_input_name(p);
	if (!p->output_name || !p->input_name || (p->want_dwo && !p->dwo))
		return -ENOMEM;
	/* never plan a job under a name the node would refuse: it would only
	 * cost a round of retries before the local compile */
	if (!policy_input_name_ok(p->input_name)) {
		go_local(s, "%s: not a source name a node accepts", p->input_name);
		return 1;
	}
	return 0;
}

/* ---- phase 4: the two commands ------------------------------------------ */

/* The local preprocess command's tail and the node's compile arguments.
 * 0: built; 1: local (a node would refuse them); -ENOMEM. */
static int plan_commands(struct scan *s)
{
	struct args_plan *p = s->p;
	char why[100];

	vadd(&s->cpp, "-E");
	if (p->lang != ARGS_LANG_ASM_CPP)
		vadd(&s->cpp, "-fdirectives-only");
	if (s->dep_md && !s->user_mf) {
		char *d = with_suffix(s->out ? s->out : base_name(s->src), ".d");
		if (!d)
			return -ENOMEM;
		vadd(&s->cpp, "-MF");
		vadd(&s->cpp, d);
		free(d);
	}
	if (s->dep_md && !s->user_mt && s->out) {
		vadd(&s->cpp, "-MQ");
		vadd(&s->cpp, s->out);
	}
	/* the node's compile arguments: the source's language as here */
	vadd(&s->node, s->S ? "-S" : "-c");
	vadd(&s->node, "-x");	/* always explicit: the node compiles only */
	vadd(&s->node, s->src_x && p->lang != ARGS_LANG_ASM_CPP ? s->src_x : lang_word(p->lang));
	if (s->cpp.oom || s->node.oom)
		return -ENOMEM;
	/* the node's own check, so no job is planned that it refuses */
	if (policy_check_args(s->node.v, s->node.n, why, sizeof why)) {
		go_local(s, "a node would refuse: %s", why);
		return 1;
	}
	if (!policy_input_suffix_ok(p->input_name)) {
		go_local(s, "%s: not a source suffix a node compiles", p->input_name);
		return 1;
	}
	return 0;
}

/* Local after the scan: only argv and the reason stay. */
static void plan_local(struct scan *s)
{
	struct args_plan *p = s->p;

	snprintf(p->reason, sizeof p->reason, "%s", s->local);
	free(p->source), p->source = NULL;
	free(p->output), p->output = NULL;
	free(p->dwo), p->dwo = NULL;
	free(p->output_name), p->output_name = NULL;
	free(p->input_name), p->input_name = NULL;
	args_free_vec(s->cpp.v);
	args_free_vec(s->node.v);
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
	r = plan_expand(argv, argc, p);
	if (r)
		return r < 0 ? r : 0;
	scan_argv(&s);
	r = s.cpp.oom || s.node.oom ? -ENOMEM : 0;
	if (!r)
		args_command_rules(&s);
	if (!r && !s.local)
		r = plan_names(&s);
	if (!r && !s.local)
		r = plan_commands(&s);
	if (r < 0) {
		args_free_vec(s.cpp.v);
		args_free_vec(s.node.v);
		args_plan_free(p);
		return r;
	}
	if (s.local) {
		plan_local(&s);
		return 0;
	}
	p->cpp_argv = s.cpp.v;
	p->cpp_argc = s.cpp.n;
	p->node_args = s.node.v;
	p->node_nargs = s.node.n;
	p->distribute = true;
	snprintf(p->reason, sizeof p->reason, "distributable");
	return 0;
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
