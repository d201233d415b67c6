/*
 * policy.c — the one contract between hub and node (policy.h): which
 * compile arguments, input and output names a node accepts, how gcc maps
 * names, and the job's language.
 *
 * Pure functions of their arguments: no I/O, no global state, so dcc, hubd
 * and noded (and the fuzzers) all get the same answer.
 */
#include "policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARG_LEN POLICY_ARG_MAX
#define MAX_ARGS POLICY_ARGS_MAX

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

/* The languages a node compiles, each with the suffixes gcc reads as it. */
static const struct { const char *lang, *suffixes; } langs[] = {
	{ "c", ".c" },
	{ "c++", ".cc.cp.cxx.cpp.CPP.c++.C" },
	{ "objective-c", ".m" },
	{ "objective-c++", ".mm.M" },
	{ "assembler", ".s" },
	{ "assembler-with-cpp", ".S.sx" },	/* tree jobs only (x_lang_ok) */
	{ "cpp-output", ".i" },
	{ "c++-cpp-output", ".ii" },
	{ "objective-c-cpp-output", ".mi" },
	{ "objective-c++-cpp-output", ".mii" },
};

bool policy_input_suffix_ok(const char *name)
{
	const char *dot = name ? strrchr(name, '.') : NULL;
	size_t l;

	if (!dot || strchr(dot, '/') || !dot[1])
		return false;
	l = strlen(dot);
	for (size_t i = 0; i < sizeof langs / sizeof langs[0]; i++)
		for (const char *q = langs[i].suffixes; (q = strstr(q, dot)); q++)
			if (q[l] == 0 || q[l] == '.')
				return true;
	return false;
}

const char *policy_job_lang(char *const *args, int nargs)
{
	const char *l = NULL;
	for (int i = 0; i < nargs && args[i]; i++) {
		if (!strcmp(args[i], "-x") && i + 1 < nargs)
			l = args[++i];
		else if (!strncmp(args[i], "-x", 2) && args[i][2])
			l = args[i] + 2;
	}
	for (size_t i = 0; l && i < sizeof langs / sizeof langs[0]; i++)
		if (!strcmp(l, langs[i].lang))
			return langs[i].lang;
	return NULL;
}

static bool x_lang_ok(const char *l)
{
	static const char *const ok[] = { "c", "c++", "objective-c",
		"objective-c++", "assembler", "cpp-output",
		"c++-cpp-output", "objective-c-cpp-output",
		"objective-c++-cpp-output", NULL };
	/* = langs[]: "none" and "assembler-with-cpp" (a node preprocesses
	 * nothing) are not there */
	for (int i = 0; ok[i]; i++)
		if (!strcmp(l, ok[i]))
			return true;
	return false;
}

/* Assembler options a compile may pass (-Wa,… pieces, -Xassembler): an
 * allow-list, each exact or "NAME=VALUE" with a plain VALUE. gas takes
 * one-dash and abbreviated long options, so nothing else is matched by
 * prefix: --al=F, -MD=F, -a… and friends never pass. */
static bool as_opt_ok(const char *o, size_t l)
{
	static const char *const exact[] = { "--noexecstack", "--execstack", "--64", "--32",
		"--gdwarf-2", "--gdwarf-3", "--gdwarf-4", "--gdwarf-5", "--gdwarf-sections",
		"--nocompress-debug-sections", "--fatal-warnings", "--no-warn", "--warn",
		"-W", "-EL", "-EB", "-mthumb", "-marm", "-mno-warn-deprecated", "--generate-missing-build-notes=no",
		NULL };
	static const char *const valued[] = { "--compress-debug-sections=",
		"-mrelax-relocations=", "-mx86-used-note=", "-march=", "-mcpu=", "-mfpu=",
		"-mfloat-abi=", "-mimplicit-it=", "-mtune=", "--size-check=",
		"-mabi=", NULL };

	for (int i = 0; exact[i]; i++)
		if (strlen(exact[i]) == l && !memcmp(o, exact[i], l))
			return true;
	for (int i = 0; valued[i]; i++) {
		size_t k = strlen(valued[i]);
		if (l <= k || memcmp(o, valued[i], k))
			continue;
		for (size_t j = k; j < l; j++)
			if (!(o[j] == '-' || o[j] == '_' || o[j] == '.' || o[j] == '+' ||
			      (o[j] >= 'a' && o[j] <= 'z') || (o[j] >= 'A' && o[j] <= 'Z') ||
			      (o[j] >= '0' && o[j] <= '9')))
				return false;
		return true;
	}
	return false;
}

static bool wa_ok(const char *list)
{
	if (!*list)
		return false;
	while (*list) {
		const char *e = strchr(list, ',');
		size_t l = e ? (size_t)(e - list) : strlen(list);
		if (!as_opt_ok(list, l))
			return false;
		list += l;
		if (*list)
			list++;
	}
	return true;
}

/* Options a compile may always pass, exactly. */
static const char *const safe_words[] = {
	"-w", "-ansi", "-pedantic", "-pedantic-errors", "-pthread", "-pipe",
	"-fpreprocessed", "-fdirectives-only", "-p", "-pg", "-Wpedantic",
	"-fno-working-directory", "-fworking-directory", "-nostdinc", "-nostdinc++",
	NULL
};

/* -f options with a value (NAME=...) a node allows, by prefix. */
static const char *const f_valued_ok[] = {
	"-fvisibility=", "-fabi-version=", "-fmax-errors=", "-ftemplate-depth=",
	"-fconstexpr-", "-fdiagnostics-", "-fstack-", "-fcf-protection",
	"-fmessage-length=", "-ftabstop=", "-fpermitted-flt-eval-methods=",
	"-fexcess-precision=", "-ffp-contract=", "-ftls-model=", "-fzero-call-used-regs=",
	"-fstrong-eval-order", "-fno-", "-flimit-function-alignment", "-falign-",
	"-fpatchable-function-entry=", "-ftrivial-auto-var-init=", "-fasan-shadow-offset=",
	"-fsso-struct=", "-fchar8_t", "-fmin-function-alignment=", "-fstrict-flex-arrays",
	"-fharden", "-fcoroutines", "-fconcepts", "-fsched", "-fira-", "-flive-patching=",
	"-fprofile-update=", "-fvect-cost-model", "-fsimd-cost-model", "-frandom-seed=",
	NULL
};

static bool in_words(const char *a, const char *const *w)
{
	for (int i = 0; w[i]; i++)
		if (!strcmp(a, w[i]))
			return true;
	return false;
}

static bool in_prefixes(const char *a, const char *const *p)
{
	for (int i = 0; p[i]; i++)
		if (starts(a, p[i]))
			return true;
	return false;
}

/* An option whose value is the next argument (-x, -Xassembler, --param):
 * 1 (the value checked too), 0 (not one of them) or -EPERM. */
static int check_pair(char *const *args, int nargs, int i, int *nx, char *why, size_t whylen)
{
	const char *a = args[i], *v = i + 1 < nargs ? args[i + 1] : NULL;

	if (!strcmp(a, "-x")) {
		if (!v || !x_lang_ok(v))
			return refuse(why, whylen, "-x %s: language not allowed", v ? v : "");
		(*nx)++;
		return 1;
	}
	if (!strcmp(a, "-Xassembler")) {
		if (!v || !wa_ok(v))
			return refuse(why, whylen, "-Xassembler %s: not allowed", v ? v : "");
		return 1;
	}
	if (!strcmp(a, "--param")) {
		if (!v || strchr(v, '/'))
			return refuse(why, whylen, "--param: bad value%s", "");
		return 1;
	}
	return 0;
}

/* The allow-listed families, each with its denials; no member may name a
 * file. 0 or -EPERM. */
static int check_family(const char *a, char *why, size_t whylen)
{
	if (strchr(a, '/'))
		return refuse(why, whylen, "%s: names a path", a);
	if (a[1] == 'O' || a[1] == 'W' || starts(a, "-std=") || starts(a, "--std="))
		return 0;
	if (a[1] == 'g')
		return 0;	/* debug info options name no files */
	if (a[1] == 'm')
		return strstr(a, "=native") ? refuse(why, whylen, "%s: host-dependent", a) : 0;
	if (a[1] == 'f') {
		if (f_denied(a))
			return refuse(why, whylen, "%s: not allowed on a node", a);
		if (starts(a, "-fsanitize") || !strchr(a, '=') || in_prefixes(a, f_valued_ok))
			return 0;
		return refuse(why, whylen, "%s: option value not on the allow-list", a);
	}
	if (starts(a, "--param="))
		return 0;
	return refuse(why, whylen, "%s: not on the allow-list", a);
}

/* One option on its own. 0 or -EPERM; counts -c/-S and -xLANG. */
static int check_one(const char *a, int *ncs, int *nx, char *why, size_t whylen)
{
	if (a[0] != '-')
		return refuse(why, whylen, "%s: not an option (inputs are the node's)", a);
	if (!strcmp(a, "-c") || !strcmp(a, "-S")) {
		(*ncs)++;
		return 0;
	}
	if (in_words(a, safe_words))
		return 0;
	if (starts(a, "-x")) {
		if (!x_lang_ok(a + 2))
			return refuse(why, whylen, "%s: language not allowed", a);
		(*nx)++;
		return 0;
	}
	if (starts(a, "-Wa,"))
		return wa_ok(a + 4) ? 0 : refuse(why, whylen, "%s: assembler option not allowed", a);
	if (starts(a, "-Wp,") || starts(a, "-Wl,") || starts(a, "-Xlinker") ||
	    starts(a, "-Xpreprocessor") || starts(a, "-Xclang"))
		return refuse(why, whylen, "%s: not allowed on a node", a);
	if (is_prefix_map(a))
		return 0;	/* only rewrites names in the output */
	return check_family(a, why, whylen);
}

int policy_check_args(char *const *args, int nargs, char *why, size_t whylen)
{
	int ncs = 0, nx = 0, r;

	if (nargs < 0 || nargs > MAX_ARGS)
		return refuse(why, whylen, "too many arguments%s", "");
	for (int i = 0; i < nargs; i++) {
		if (!args[i])
			return refuse(why, whylen, "missing argument%s", "");
		if (strlen(args[i]) > MAX_ARG_LEN)
			return refuse(why, whylen, "argument too long%s", "");
		if (args[i][0] == '-' && (r = check_pair(args, nargs, i, &nx, why, whylen))) {
			if (r < 0)
				return r;
			i++;
			continue;
		}
		if ((r = check_one(args[i], &ncs, &nx, why, whylen)))
			return r;
	}
	if (ncs != 1)
		return refuse(why, whylen, "a job is a compile: exactly one -c or -S%s", "");
	if (nx != 1)
		return refuse(why, whylen, "a job names its language: exactly one -x%s", "");
	return 0;
}

char *policy_map_name(char *const *args, int nargs, const char *name, bool macro)
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

char *policy_comp_dir(char *const *args, int nargs, const char *hub_cwd)
{
	return policy_map_name(args, nargs, hub_cwd, false);
}

/* Walks the components of an input name. For a relative name: *ups, the
 * levels it climbs above the cwd; for an absolute one, -1 if it climbs
 * above "/". false for a name that does not end in a file component. */
bool policy_name_walk(const char *p, int *ups)
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

bool policy_input_name_ok(const char *p)
{
	size_t l;
	int ups;

	if (!p || !*p)
		return false;
	l = strnlen(p, POLICY_NAME_MAX);
	if (l >= POLICY_NAME_MAX)
		return false;
	for (size_t k = 0; k < l; k++)
		if ((unsigned char)p[k] < 0x20 || p[k] == 0x7f)
			return false;
	if (!policy_name_walk(p, &ups))
		return false;
	for (const char *c = p; *c; c++)	/* no component reads as an option or @file */
		if ((c == p || c[-1] == '/') && (*c == '-' || *c == '@'))
			return false;
	if (p[0] == '/')
		return ups == 0 && !strchr(p, '=');
	return p[0] != '-' && ups <= POLICY_MAX_UPS;
}

bool policy_output_name_ok(const char *p)
{
	const char *c = p;

	if (!p || !*p || *p == '/' || strnlen(p, POLICY_NAME_MAX) >= POLICY_NAME_MAX)
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
		if (c[0] == '-' || c[0] == '@')
			return false;	/* would read as an option or a response file */
		c += l;
		if (*c) {
			c++;
			if (!*c)
				return false;	/* trailing slash */
		}
	}
	return true;
}
