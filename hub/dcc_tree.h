/*
 * dcc_tree.h — dcc's tree path (issue 11): a job's inputs by hash. The
 * user's scan server (scand.h) finds the inputs; hubd picks a board with a
 * store and NEEDs what it lacks; the board compiles the real files at this
 * machine's paths, so objects, .dwo, dependency files, stdout and stderr
 * are the local compile's, and a compile that warns or fails is reported
 * as the board's compiler said it, once.
 *
 * The mode: `dcc --inputs=hash|text` or DCC_INPUTS (default hash).
 */
#ifndef USBFARM_HUB_DCC_TREE_H
#define USBFARM_HUB_DCC_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "args.h"

/* dcc_tree_run's answers besides an exit code */
#define DCC_TREE_TEXT (-1)	/* use the directives-only path (why set) */
#define DCC_TREE_LOCAL (-2)	/* compile locally (why set) */

struct dcc_tree_call {
	const char *self;	/* dcc's own absolute path (starts the scan server) */
	const char *compiler;	/* the real compiler, absolute */
	char **argv;		/* the command (argv[0] the compiler) */
	const char *cwd;	/* as gcc names it */
	const struct args_plan *plan;	/* made with opts.tree, distributable */
	int note_fd;		/* where dcc's own notes go (-1: none) */
};

/* Whether the tree path is on (DCC_INPUTS, default hash). */
bool dcc_tree_mode(void);
/* The job through the tree path: its exit code (outputs written, or the
 * board's compile error printed), or DCC_TREE_TEXT / DCC_TREE_LOCAL with
 * why set. */
int dcc_tree_run(const struct dcc_tree_call *c, char *why, size_t wlen);

#endif
