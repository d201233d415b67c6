/*
 * args_tree.c — the tree path's arguments and dependency file name (see
 * args_tree.h).
 */
#include "args_tree.h"
#include "args_int.h"
#include "../lib/policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Appends a copy of s (NULL-terminated vector); oom sticks. */
static void vadd(struct vec *v, const char *s)
{
	char **nv;

	if (v->oom)
		return;
	if (v->n + 2 > v->cap) {
		int cap = v->cap ? v->cap * 2 : 16;
		nv = realloc(v->v, (size_t)cap * sizeof *nv);
		if (!nv) {
			v->oom = true;
			return;
		}
		v->v = nv;
		v->cap = cap;
	}
	if (!(v->v[v->n] = strdup(s))) {
		v->oom = true;
		return;
	}
	v->v[++v->n] = NULL;
}

/* What the argument walk found. */
struct walk {
	bool md;		/* -MD / -MMD */
	const char *mf;		/* -MF's value */
	const char *wp_dep;	/* -Wp,-MD,FILE / -Wp,-MMD,FILE */
	const char *out;
	bool src_seen;
	const char *why;
};

/* -Wp,... with a dependency option: its file, else NULL (why set when it
 * names one the tree path does not handle). */
static const char *wp_dep_file(const char *a, struct walk *w)
{
	const char *p = a + 4;

	if (starts(p, "-MD,") && !strchr(p + 4, ','))
		return p + 4;
	if (starts(p, "-MMD,") && !strchr(p + 5, ','))
		return p + 5;
	if (strstr(a, ",-M"))
		w->why = "-Wp, with a dependency option other than -MD,FILE / -MMD,FILE";
	return NULL;
}

/* One argument (val: its separate value or NULL): true to keep it. */
static bool keep(struct walk *w, const struct args_plan *p, const char *a, const char *val)
{
	if (a[0] != '-' || !a[1]) {
		if (!w->src_seen && !strcmp(a, p->source)) {
			w->src_seen = true;
			return false;
		}
		return true;
	}
	if (!strcmp(a, "-o")) {
		w->out = val;
		return false;
	}
	if (a[1] == 'o' && a[2]) {
		w->out = a + 2;
		return false;
	}
	if (!strcmp(a, "-MD") || !strcmp(a, "-MMD"))
		w->md = true;
	else if (!strcmp(a, "-MF"))
		w->mf = val;
	else if (starts(a, "-MF") && a[3])
		w->mf = a + 3;
	else if (starts(a, "-Wp,") && (val = wp_dep_file(a, w)))
		w->wp_dep = val;
	return true;
}

/* gcc's default dependency file of -MD: the -o name's stem + .d, else the
 * source's base name's. malloc'd. */
static char *default_deps(const char *out, const char *src)
{
	const char *base = out ? out : base_name(src);
	const char *dot = strrchr(base, '.'), *slash = strrchr(base, '/');
	size_t stem = dot && (!slash || dot > slash) && dot != base ? (size_t)(dot - base)
							 : strlen(base);
	char *d = malloc(stem + 3);

	if (d) {
		memcpy(d, base, stem);
		memcpy(d + stem, ".d", 3);
	}
	return d;
}

static int walk_args(const struct args_plan *p, struct walk *w, struct vec *v)
{
	for (int i = 1; i < p->argc; i++) {
		const char *a = p->argv[i], *val = NULL;
		if (a[0] == '-' && a[1] && args_takes_sep(a)) {
			if (i + 1 >= p->argc)
				return -EINVAL;
			val = p->argv[++i];
		}
		if (keep(w, p, a, val)) {
			vadd(v, a);
			if (val)
				vadd(v, val);
		}
	}
	return v->oom ? -ENOMEM : 0;
}

/* What a board's own check (lib/policy.h, policy_check_tree_args) would
 * refuse goes the directives-only way at once, not after a round trip. 0,
 * or -1 with why. */
static int board_would_take(char **args, int nargs, char *why, size_t wl)
{
	char w[160];

	if (policy_check_tree_args(args, nargs, w, sizeof w) == 0)
		return 0;
	snprintf(why, wl, "a board would refuse the tree job: %s", w);
	return -1;
}

int args_tree_plan(const struct args_plan *p, struct args_tree *t, char *why, size_t wl)
{
	struct walk w;
	struct vec v;
	int rc;

	memset(t, 0, sizeof *t);
	memset(&w, 0, sizeof w);
	memset(&v, 0, sizeof v);
	if (!p->distribute || (p->lang != ARGS_LANG_C && p->lang != ARGS_LANG_CXX &&
			       p->lang != ARGS_LANG_ASM_CPP)) {
		snprintf(why, wl, "%s", p->distribute ? "not C, C++ or assembler with cpp" : p->reason);
		return 1;
	}
	rc = walk_args(p, &w, &v);
	/* the node compiles with an explicit language (lib/policy.h), the
	 * source's as here: the text plan's -x, last, so it is the source's;
	 * a .S is preprocessed there, by the real gcc, not assembled as .s */
	if (rc == 0 && p->lang == ARGS_LANG_ASM_CPP) {
		vadd(&v, "-x");
		vadd(&v, "assembler-with-cpp");
		rc = v.oom ? -ENOMEM : 0;
	}
	for (int i = 0; rc == 0 && p->lang != ARGS_LANG_ASM_CPP && i + 1 < p->node_nargs; i++)
		if (!strcmp(p->node_args[i], "-x")) {
			vadd(&v, "-x");
			vadd(&v, p->node_args[i + 1]);
			rc = v.oom ? -ENOMEM : 0;
			break;
		}
	if (rc == 0 && (!w.src_seen || w.why)) {
		snprintf(why, wl, "%s", w.why ? w.why : "the source is not a plain argument");
		rc = 1;
	}
	if (rc == 0 && board_would_take(v.v, v.n, why, wl) < 0)
		rc = 1;
	if (rc == 0 && (w.md || w.wp_dep) && strcmp(p->output, p->output_name)) {
		/* the board's -o is output_name: the rule's target would differ */
		snprintf(why, wl, "a dependency file with -o outside the working directory");
		rc = 1;
	}
	if (rc == 0) {
		t->deps_name = w.wp_dep ? strdup(w.wp_dep) : !w.md ? strdup("")
			     : w.mf ? strdup(w.mf) : default_deps(w.out, p->source);
		t->input_name = strdup(p->source);
		if (!t->deps_name || !t->input_name)
			rc = -ENOMEM;
	}
	if (rc != 0) {
		args_free_vec(v.v);
		free(t->deps_name);
		free(t->input_name);
		memset(t, 0, sizeof *t);
		if (rc == -EINVAL) {
			snprintf(why, wl, "an option without its value");
			rc = 1;
		}
		return rc;
	}
	t->args = v.v;
	t->nargs = v.n;
	return 0;
}

void args_tree_free(struct args_tree *t)
{
	args_free_vec(t->args);
	free(t->deps_name);
	free(t->input_name);
	memset(t, 0, sizeof *t);
}
