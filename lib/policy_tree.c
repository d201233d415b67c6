/*
 * policy_tree.c — the argument check of a tree job (policy.h,
 * policy_check_tree_args()), the node's and so the hub's (a job is never
 * planned that a node refuses): policy_check_args()'s allow-list (compile only, one -x, no
 * file-naming option outside it) plus the preprocessor options a real
 * compile needs, since a tree job is preprocessed on the board: include
 * dirs and files, macros, dependency output. Their names resolve inside
 * the sandbox, whose root is the job's tree (the hub's files, the
 * toolchain, the job dir): the sandbox is the boundary; this is the second
 * line (no response file, no program or plugin named, nothing written
 * outside the job's own dirs but the dependency file the hub names).
 */
#include "policy.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Options with a value, separate ("-I" "dir") or attached ("-Idir"). */
static const char *const valued[] = { "-I", "-iquote", "-isystem", "-idirafter", "-include",
				      "-imacros", "-D", "-U", "-MF", "-MT", "-MQ", NULL };
/* Options on their own. */
static const char *const alone[] = { "-MD", "-MMD", "-MP", "-nostdinc", "-nostdinc++",
				     "-undef", "-pedantic", "-pedantic-errors", NULL };

static int refuse(char *why, size_t whylen, const char *fmt, const char *a)
{
	snprintf(why, whylen, fmt, a);
	return -EPERM;
}

/* The length of the valued option a starts with (0: none). */
static size_t valued_len(const char *a)
{
	size_t best = 0;

	for (int i = 0; valued[i]; i++) {
		size_t l = strlen(valued[i]);
		if (!strncmp(a, valued[i], l) && l > best)
			best = l;
	}
	return best;
}

/* -Wp,-MD,FILE and -Wp,-MMD,FILE (the kernel's form): FILE without ','. */
static bool wp_deps(const char *a)
{
	const char *f = !strncmp(a, "-Wp,-MD,", 8) ? a + 8 : !strncmp(a, "-Wp,-MMD,", 9) ? a + 9 : NULL;
	return f && *f && !strchr(f, ',');
}

int policy_check_tree_args(char *const *args, int nargs, char *why, size_t whylen)
{
	char **rest;
	int n = 0, r = 0;

	if (nargs < 0 || nargs > POLICY_ARGS_MAX)
		return refuse(why, whylen, "too many arguments%s", "");
	rest = calloc((size_t)nargs + 1, sizeof *rest);
	if (!rest)
		return -ENOMEM;
	for (int i = 0; i < nargs && !r; i++) {
		const char *a = args[i];
		size_t vl;
		bool own = false;
		if (!a) {
			r = refuse(why, whylen, "missing argument%s", "");
			break;
		}
		for (int k = 0; alone[k]; k++)
			own |= !strcmp(a, alone[k]);
		if (own || wp_deps(a))
			continue;
		if ((vl = valued_len(a)) && a[vl] == 0) {
			const char *v = i + 1 < nargs ? args[i + 1] : NULL;
			/* gcc reads an argument "@F" as a response file */
			if (!v || !*v || v[0] == '@')
				r = refuse(why, whylen, "%s: bad value", a);
			i++;
			continue;
		}
		if (vl)
			continue;	/* attached: never starts with '@' */
		/* a tree job preprocesses: assembler-with-cpp is gas after cpp,
		 * checked as the assembler's job (its -Wa, allow-list) */
		if (!strcmp(a, "-xassembler-with-cpp")) {
			rest[n++] = "-xassembler";
			continue;
		}
		if (!strcmp(a, "-x") && i + 1 < nargs && args[i + 1] &&
		    !strcmp(args[i + 1], "assembler-with-cpp")) {
			rest[n++] = "-x";
			rest[n++] = "assembler";
			i++;
			continue;
		}
		rest[n++] = (char *)a;
	}
	if (!r)
		r = policy_check_args(rest, n, why, whylen) ? -EPERM : 0;
	free(rest);
	return r;
}
