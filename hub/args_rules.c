/*
 * args_rules.c — the classifier's rules (args_int.h): which options go to
 * the local preprocess run, the node, both or neither; which options make
 * a job local (a table: first match wins, its reason names the option);
 * and the rules that need the whole command (a table, in order: the first
 * that holds names the reason). args.c scans argv and builds the commands.
 *
 * Invariants: an option matches at most one row of local_opts (the order
 * is kept anyway); the reasons are the user's (dcc -v, hubctl status
 * counts them by text): change one only on purpose.
 */
#include "args_int.h"

#include <stdlib.h>
#include <sys/stat.h>

/* ---- languages and option lists -------------------------------------- */

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
bool args_takes_sep(const char *a)
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

/* ---- per option --------------------------------------------------------- */

/* Mode, output and language: -c -S -E -o -x. */
static bool mode_opt(struct scan *s, const char *a, const char *val, enum route *rt)
{
	bool known;

	*rt = R_NONE;
	if (!strcmp(a, "-c"))
		s->c = true;
	else if (!strcmp(a, "-S"))
		s->S = true;
	else if (!strcmp(a, "-E")) {
		s->E = true;
		go_local(s, "-E: preprocessing only", NULL);
	} else if (!strcmp(a, "-o")) {
		s->out = val;
		s->nout++;
	} else if (!strcmp(a, "-x")) {
		*rt = R_CPP;
		if (!strcmp(val, "none")) {
			s->src_lang_known = false;
			s->x_now = NULL;
			return true;
		}
		s->src_lang = lang_of_x(val, &known);
		s->src_lang_known = true;
		s->x_now = val;
		if (!known)
			go_local(s, "-x %s: language not distributed", val);
	} else {
		return false;
	}
	return true;
}

/* Dependency options (the local preprocess run only). */
static enum route dep_opt(struct scan *s, const char *a)
{
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

/* Preprocessor options: dependencies, -Wp, -A, -D/-I/…; the ones the node
 * needs as well. */
static bool cpp_opt(struct scan *s, const char *a, const char *val, enum route *rt)
{
	*rt = R_CPP;
	if (a[1] == 'M') {
		*rt = dep_opt(s, a);
	} else if (starts(a, "-Wp,")) {
		/* -Wp,-MD,file and -Wp,-MMD,file are honoured by the local
		 * preprocess run exactly as by cc1; other -Wp options are
		 * preprocessor options too, unless they change its mode. */
		if (wp_changes_mode(a + 4))
			go_local(s, "%s: preprocessor mode option", a);
		if (!s->recorded_cpp && wp_recorded(a + 4))
			s->recorded_cpp = a;
	} else if (!strcmp(a, "-A") || (!strcmp(a, "-Xpreprocessor") &&
					cpp_piece_recorded(val, strlen(val)))) {
		if (!s->recorded_cpp)	/* a literal: `a` may be a loop buffer */
			s->recorded_cpp = a[1] == 'A' ? "-A" : "-Xpreprocessor";
	} else if (in_list(a, cpp_val_opts)) {
		/* R_CPP */
	} else if (!strcmp(a, "-nostdinc") || !strcmp(a, "-nostdinc++") ||
		   !strcmp(a, "-fworking-directory") || !strcmp(a, "-fno-working-directory")) {
		/* the node preprocesses the text again: no stdc-predef.h
		 * there either when not here; -f[no-]working-directory is
		 * recorded in DW_AT_producer, so the node's compile must see it */
		*rt = R_BOTH;
	} else {
		return false;
	}
	return true;
}

/* Options that keep a job local: they run other programs, read or write
 * other files, depend on this machine, change preprocessing, or are
 * informational. */
enum match { EXACT, PREFIX, LONGER /* a prefix, and more than it */ };
static const struct opt_rule {
	enum match m;
	const char *opt;
	const char *why;	/* at most one %s: the option */
} local_opts[] = {
	{ PREFIX, "-fplugin", "%s: compiler plugin" },
	{ PREFIX, "-specs", "%s: spec file" },
	{ EXACT, "-B", "-B: compiler search path" },
	{ EXACT, "-wrapper", "-wrapper: runs another program" },
	{ PREFIX, "-save-temps", "%s: keeps temporary files" },
	{ EXACT, "-fsyntax-only", "-fsyntax-only: no output" },
	{ PREFIX, "-march=native", "%s: depends on this machine's CPU" },
	{ PREFIX, "-mtune=native", "%s: depends on this machine's CPU" },
	{ PREFIX, "-mcpu=native", "%s: depends on this machine's CPU" },
	{ EXACT, "-fprofile-arcs", "%s: profiling/coverage files" },
	{ EXACT, "-ftest-coverage", "%s: profiling/coverage files" },
	{ EXACT, "--coverage", "%s: profiling/coverage files" },
	{ PREFIX, "-fprofile-generate", "%s: profiling/coverage files" },
	{ PREFIX, "-fprofile-use", "%s: profiling/coverage files" },
	{ PREFIX, "-fauto-profile", "%s: profiling/coverage files" },
	{ EXACT, "-fprofile-correction", "%s: profiling/coverage files" },
	{ PREFIX, "-fprofile-dir", "%s: profiling/coverage files" },
	{ EXACT, "-fbranch-probabilities", "%s: profiling/coverage files" },
	{ EXACT, "-frepo", "-frepo: extra output files" },
	{ LONGER, "-d", "%s: dump or aux-name option" },
	{ PREFIX, "-fdump-", "%s: writes extra files" },
	{ PREFIX, "-fcallgraph-info", "%s: writes extra files" },
	{ EXACT, "-fstack-usage", "%s: writes extra files" },
	{ EXACT, "-aux-info", "%s: writes extra files" },
	{ PREFIX, "-fopt-info", "%s: writes extra files" },
	{ EXACT, "-fcompare-debug", "%s: writes extra files" },
	{ PREFIX, "-fcompare-debug=", "%s: writes extra files" },
	{ EXACT, "-Wunused-macros", "%s: incompatible with -fdirectives-only" },
	{ EXACT, "-Werror=unused-macros", "%s: incompatible with -fdirectives-only" },
	{ PREFIX, "-traditional", "%s: changes preprocessing" },
	{ EXACT, "-undef", "%s: changes preprocessing" },
	{ EXACT, "-C", "%s: changes preprocessing" },
	{ EXACT, "-CC", "%s: changes preprocessing" },
	{ EXACT, "-P", "%s: changes preprocessing" },
	{ EXACT, "-H", "%s: changes preprocessing" },
	{ EXACT, "-trigraphs", "%s: changes preprocessing" },
	{ EXACT, "-fpch-preprocess", "%s: changes preprocessing" },
	{ EXACT, "-fdirectives-only", "%s: changes preprocessing" },
	{ EXACT, "-fpreprocessed", "%s: changes preprocessing" },
	{ EXACT, "-remap", "%s: changes preprocessing" },
	{ PREFIX, "-finput-charset", "%s: changes preprocessing" },
	{ PREFIX, "-fexec-charset", "%s: changes preprocessing" },
	{ PREFIX, "-fwide-exec-charset", "%s: changes preprocessing" },
	{ EXACT, "-frecord-gcc-switches", "%s: object would record the node's switches" },
	{ PREFIX, "-flto", "%s: object would record the node's switches" },
	{ PREFIX, "-ffat-lto", "%s: object would record the node's switches" },
	{ EXACT, "-v", "%s: informational" },
	{ EXACT, "-###", "%s: informational" },
	{ EXACT, "--help", "%s: informational" },
	{ PREFIX, "--help=", "%s: informational" },
	{ EXACT, "--version", "%s: informational" },
	{ PREFIX, "-print-", "%s: informational" },
	{ EXACT, "-Q", "%s: informational" },
	{ EXACT, "-ftime-report", "%s: informational" },
	{ PREFIX, "-ftime-trace", "%s: informational" },
	{ EXACT, "-Xclang", "%s: clang/darwin option" },
	{ EXACT, "-target", "%s: clang/darwin option" },
	{ EXACT, "--target", "%s: clang/darwin option" },
	{ EXACT, "-arch", "%s: clang/darwin option" },
};

static const struct opt_rule *local_rule(const char *a)
{
	for (size_t i = 0; i < sizeof local_opts / sizeof local_opts[0]; i++) {
		const struct opt_rule *r = &local_opts[i];
		if (r->m == EXACT ? !strcmp(a, r->opt)
				  : starts(a, r->opt) && (r->m == PREFIX || strcmp(a, r->opt)))
			return r;
	}
	return NULL;
}

/* The options that go to the node only, or that are only recorded. */
static bool node_opt(struct scan *s, const char *a, const char *val, enum route *rt)
{
	*rt = R_NODE;
	if (starts(a, "-Wa,")) {
		if (wa_has_files(a + 4))
			go_local(s, "%s: assembler listing or file", a);
	} else if (!strcmp(a, "-Xassembler")) {
		if (val[0] != '-' || starts(val, "-a") || starts(val, "--MD") ||
		    strchr(val, '/'))
			go_local(s, "-Xassembler %s: assembler file option", val);
	} else if (!strcmp(a, "-pipe")) {
		*rt = R_CPP;
	} else {
		return false;
	}
	return true;
}

enum route args_classify_opt(struct scan *s, const char *a, const char *val)
{
	const struct opt_rule *lr;
	enum route rt;

	if (mode_opt(s, a, val, &rt) || cpp_opt(s, a, val, &rt))
		return rt;
	if (!strcmp(a, "-pedantic") || !strcmp(a, "-Wpedantic") ||
	    !strcmp(a, "-pedantic-errors") || !strcmp(a, "-Werror=pedantic") ||
	    !strcmp(a, "-Wsystem-headers"))
		s->pedantic = true;
	/* the tree path compiles the real files: only the text's limits go */
	if ((lr = local_rule(a)) && !(s->o->tree && strstr(lr->why, "-fdirectives-only")))
		go_local(s, lr->why, a);
	else if (node_opt(s, a, val, &rt))
		return rt;
	else if (!strcmp(a, "-fverbose-asm"))
		s->verbose_asm = true;
	else if (a[1] == 'g')
		debug_opt(s, a);
	return linker_only(a) ? R_NONE : R_BOTH;
}

/* ---- the whole command ------------------------------------------------- */

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
bool args_not_regular(const char *path, bool nofollow)
{
	struct stat st;

	if ((nofollow ? lstat(path, &st) : stat(path, &st)) != 0)
		return false;
	return !S_ISREG(st.st_mode);
}


static bool r_clang(const struct scan *s) { return s->o->clang && !s->o->tree; }
static bool r_no_mode(const struct scan *s) { return !s->c && !s->S; }
static bool r_two_modes(const struct scan *s) { return s->c && s->S; }
static bool r_no_src(const struct scan *s) { return s->nsrc == 0; }
static bool r_srcs(const struct scan *s) { return s->nsrc > 1; }
static bool r_other(const struct scan *s) { return s->nother; }
static bool r_src_odd(const struct scan *s) { return args_not_regular(s->src, false); }
static bool r_out_odd(const struct scan *s)
{
	return s->out && (!strcmp(s->out, "/dev/null") || args_not_regular(s->out, true));
}
static bool r_no_lang(const struct scan *s) { return s->p->lang == ARGS_LANG_NONE; }
static bool r_outs(const struct scan *s) { return s->nout > 1; }
static bool r_stdout(const struct scan *s) { return s->out && !strcmp(s->out, "-"); }
static bool r_conftest(const struct scan *s)
{
	return starts(base_name(s->src), "conftest.") || starts(base_name(s->src), "tmp.conftest.");
}
static bool r_src_name(const struct scan *s)
{
	return s->p->lang != ARGS_LANG_ASM_CPP && src_name_problem(s->src);
}
static bool r_g3(const struct scan *s) { return s->debug >= 3; }
static bool r_recorded(const struct scan *s)
{
	return s->debug > 0 && s->record && s->recorded_cpp && !s->o->tree;
}
static bool r_pedantic(const struct scan *s)
{
	return s->pedantic && s->p->lang != ARGS_LANG_ASM_CPP && !s->o->tree;
}
static bool r_asm_g_S(const struct scan *s)
{
	return s->p->lang == ARGS_LANG_ASM_CPP && (s->debug > 0 || s->S);
}
static bool r_vasm_S(const struct scan *s) { return s->verbose_asm && s->S; }
static bool r_split_S(const struct scan *s) { return s->split && s->debug > 0 && s->S; }

/* In order: the first that holds makes the job local. */
static const struct cmd_rule {
	bool (*holds)(const struct scan *s);
	enum { W_NONE, W_SRC, W_OUT, W_RECORDED, W_SRC_NAME } arg;
	const char *why;	/* at most one %s: arg */
} cmd_rules[] = {
	{ r_clang, W_NONE, "clang: directives-only mode is gcc's" },
	{ r_no_mode, W_NONE, "neither -c nor -S: link or other" },
	{ r_two_modes, W_NONE, "both -c and -S" },
	{ r_no_src, W_NONE, "no source file" },
	{ r_srcs, W_NONE, "several source files" },
	{ r_other, W_NONE, "extra input files" },
	{ r_src_odd, W_SRC, "%s: input is not a regular file (a compiler probe)" },
	{ r_out_odd, W_OUT, "-o %s: output is not a regular file" },
	{ r_no_lang, W_SRC, "%s: not a language we distribute" },
	{ r_outs, W_NONE, "several -o" },
	{ r_stdout, W_NONE, "-o -: output to stdout" },
	{ r_conftest, W_SRC, "%s: autoconf test" },
	{ r_src_name, W_SRC_NAME, "%s" },
	{ r_g3, W_NONE, "-g3: macro debug info names the built-in and "
			"header macros the node does not see as such" },
	{ r_recorded, W_RECORDED, "%s with -g: DW_AT_producer would not list it" },
	{ r_pedantic, W_NONE, "-pedantic/-Wsystem-headers: the node would warn "
			      "about the line markers" },
	{ r_asm_g_S, W_NONE, "assembler source with -g or -S" },
	{ r_vasm_S, W_NONE, "-fverbose-asm lists the switches" },
	{ r_split_S, W_NONE, "-gsplit-dwarf with -S" },
};

void args_command_rules(struct scan *s)
{
	char why[sizeof s->localbuf];

	if (s->local)
		return;
	for (size_t i = 0; i < sizeof cmd_rules / sizeof cmd_rules[0]; i++) {
		const struct cmd_rule *r = &cmd_rules[i];
		if (!r->holds(s))
			continue;
		switch (r->arg) {
		case W_SRC: go_local(s, r->why, s->src); break;
		case W_OUT: go_local(s, r->why, s->out); break;
		case W_RECORDED: go_local(s, r->why, s->recorded_cpp); break;
		case W_SRC_NAME:
			snprintf(why, sizeof why, "%.60s: %s", s->src, src_name_problem(s->src));
			go_local(s, r->why, why);
			break;
		default: go_local(s, r->why, NULL); break;
		}
		return;
	}
}
