/*
 * args_tree.h — the tree path's part of dcc's classifier (issue 11): from a
 * distributable plan (args.h, made with opts.tree), the arguments a board
 * compiles the real source with and the dependency file the job writes.
 *
 * The node compiles d.input_name at the hub's paths with the job's own
 * arguments (preprocessor options included: it preprocesses) and adds
 * `<input_name> -o <output_name>` itself; so the arguments are the
 * command's after @file expansion without the compiler, the source and
 * -o. The dependency file (deps_name, relative to the cwd or absolute): the
 * -MF of -MD/-MMD, the file of -Wp,-MD,FILE / -Wp,-MMD,FILE, else gcc's
 * default for -MD (the -o name with .d, else the source's base name with
 * .d); -MT/-MQ/-MP stay in the arguments. Pure: no file is read.
 */
#ifndef USBFARM_HUB_ARGS_TREE_H
#define USBFARM_HUB_ARGS_TREE_H

#include "args.h"

struct args_tree {
	char **args;		/* NULL-terminated, owned */
	int nargs;
	/* The name the board compiles: the source's as given, for every
	 * language (a .S too: the board preprocesses it; the text plan's
	 * input_name is then STEM.s). Owned. */
	char *input_name;
	char *deps_name;	/* "" when the job writes none; owned */
};

/* 0 (t filled), 1 (the tree path cannot take it: why set; the directives-
 * only path may), or -ENOMEM. */
int args_tree_plan(const struct args_plan *p, struct args_tree *t, char *why, size_t wl);
void args_tree_free(struct args_tree *t);

#endif
