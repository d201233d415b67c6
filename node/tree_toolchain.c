/*
 * tree_toolchain.c — which board files a tree job's sandbox binds over the
 * tree (tree.h, tree_toolchain()): the board's own toolchain as
 * lib/toolchain.h finds it. A job whose tree holds the hub's toolchain
 * (job.h job_tree.toolchain_n) binds none of these.
 */
#include "tree.h"

#include "../lib/toolchain.h"

int tree_toolchain(const char *compiler, const char *cc1, struct buf *out, char *why,
		   size_t whylen)
{
	return toolchain_paths(compiler, cc1, out, why, whylen);
}
