/*
 * exec_tree.c — a tree job through the executor (exec.h, struct
 * exec_tree): the checks (policy_check_tree_args, the hub's names), the private
 * dir (exec_make_dirs) with the tree assembled in it (top/r, tree_build:
 * the compile's cwd made, the outputs' dirs given to the slot), the real
 * compiler run with the tree as its root at the hub's cwd with the hub's
 * names, the outputs read back from the tree by root (openat2, regular
 * files of the slot's), the read-set check of the dependency output.
 *
 * Answers (exec_result): the compiler's status and outputs; or farm
 * errors: -ENOENT with the missing blobs; -EXDEV with the names read that
 * the manifest lacks; -ENOEXEC for a failing compile of a job that was
 * not complete (stdout and stderr kept); -EPERM for what is refused.
 */
#include "exec_int.h"
#include "store.h"
#include "tree.h"

#include "../lib/clock.h"
#include "../lib/job.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OWN_DEPS "own.d"	/* the node's -MF, in the job dir */
#define TREE_NAME "r"

struct exec_tree_run {
	struct tree *t;
	char out[JOB_CWD_MAX + EXEC_NAME_MAX], dwo[JOB_CWD_MAX + EXEC_NAME_MAX + 8];
	char dep[JOB_CWD_MAX + EXEC_NAME_MAX];
	char dirs[3][JOB_CWD_MAX + EXEC_NAME_MAX + 8];
	const char *mk[2], *rw[4];
	char own_dep[PATH_MAX + 16], root[PATH_MAX + 8];
	int treefd;
};

/* A clean absolute path: "/" then components neither empty, "." nor "..". */
static bool clean_abs(const char *p)
{
	if (p[0] != '/' || !p[1])
		return false;
	for (const char *c = p + 1; *c;) {
		const char *e = strchr(c, '/');
		size_t l = e ? (size_t)(e - c) : strlen(c);
		if (!l || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += l + (e ? 1 : 0);
		if (e && !*c)
			return false;
	}
	return true;
}

/* name (relative to cwd, or absolute) as a clean absolute path into dst,
 * and its dir into dir. 0 or -EPERM. */
static int at_hub(const char *cwd, const char *name, char *dst, size_t len, char *dir)
{
	int n = name[0] == '/' ? snprintf(dst, len, "%s", name)
			       : snprintf(dst, len, "%s/%s", cwd, name);
	char *s;

	if (n < 0 || (size_t)n >= len || !clean_abs(dst))
		return -EPERM;
	strcpy(dir, dst);
	s = strrchr(dir, '/');
	if (s == dir)
		return -EPERM;	/* an output right under "/" */
	*s = 0;
	return 0;
}

static int check_tree_job(struct run *r, struct exec_tree_run *tr)
{
	const struct exec_job *job = r->job;
	const struct exec_tree *tj = job->tree;
	char why[200];
	int nrw = 0;

	if (!job->compiler || job->compiler[0] != '/' ||
	    (!tj->travel && access(job->compiler, X_OK)))
		return exec_fail(r->res, -ENOENT, "no compiler %s", job->compiler ? job->compiler : "");
	if (job->launch.insecure || job->launch.launcher || !tj->ro_paths || geteuid() != 0)
		return exec_fail(r->res, -EPERM, "this node cannot run tree jobs (no sandbox root)");
	if (!policy_input_name_ok(job->input_name) || !policy_input_suffix_ok(job->input_name))
		return exec_fail(r->res, -EPERM, "refused: bad input name");
	if (!job->hub_cwd || !clean_abs(job->hub_cwd) || strlen(job->hub_cwd) >= sizeof r->cwd)
		return exec_fail(r->res, -EPERM, "refused: bad hub cwd");
	if (!policy_output_name_ok(job->output_name))
		return exec_fail(r->res, -EPERM, "refused: bad output name");
	if (policy_check_tree_args(job->args, job->nargs, why, sizeof why))
		return exec_fail(r->res, -EPERM, "refused: %s", why);
	if (!tj->m || !tj->m->checked)
		return exec_fail(r->res, -EINVAL, "manifest not checked");
	/* the driver, through the tree's own links, an executable file of
	 * the tree: nothing else (no board file, no /proc magic link) runs */
	const struct tree_entry *drv = tj->travel ? manifest_resolve(tj->m, job->compiler) : NULL;
	if (tj->travel && (tj->ro_paths[0] || !drv || !(drv->mode & 0111)))
		return exec_fail(r->res, -EPERM, "toolchain refused: its driver %s is not an "
				 "executable file of the tree", job->compiler);
	if (at_hub(job->hub_cwd, job->output_name, tr->out, sizeof tr->out, tr->dirs[nrw]))
		return exec_fail(r->res, -EPERM, "refused: bad output name");
	tr->rw[nrw] = tr->dirs[nrw], nrw++;
	if (job->want_dwo) {
		char d[EXEC_NAME_MAX + 8];
		if (exec_dwo_name(job->output_name, d, sizeof d) ||
		    at_hub(job->hub_cwd, d, tr->dwo, sizeof tr->dwo, tr->dirs[nrw]))
			return exec_fail(r->res, -EPERM, "refused: bad output name");
		tr->rw[nrw] = tr->dirs[nrw], nrw++;
	}
	if (tj->deps_name[0]) {
		if ((tj->deps_name[0] != '/' && !policy_output_name_ok(tj->deps_name)) ||
		    at_hub(job->hub_cwd, tj->deps_name, tr->dep, sizeof tr->dep, tr->dirs[nrw]))
			return exec_fail(r->res, -EPERM, "refused: bad dependency file name");
		tr->rw[nrw] = tr->dirs[nrw], nrw++;
	}
	tr->rw[nrw] = NULL;
	if (manifest_find(tj->m, tr->out) || (job->want_dwo && manifest_find(tj->m, tr->dwo)) ||
	    (tj->deps_name[0] && manifest_find(tj->m, tr->dep)))
		return exec_fail(r->res, -EPERM, "refused: an output is one of the inputs");
	snprintf(r->cwd, sizeof r->cwd, "%s", job->hub_cwd);
	tr->mk[0] = r->cwd;
	tr->mk[1] = NULL;
	return 0;
}

/* The missing list into res (the hub's answer: every hash once). */
static void give_missing(struct exec_result *res, struct tree_missing *miss)
{
	size_t n = miss->n < JOB_MAX_NAMES ? miss->n : JOB_MAX_NAMES;

	res->missing = (uint8_t(*)[32])miss->hash;
	res->nmissing = n;
	miss->hash = NULL;
	exec_fail(res, -ENOENT, "%zu blob(s) missing from the store", miss->n);
}

static int build(struct run *r, struct exec_tree_run *tr)
{
	const struct exec_tree *tj = r->job->tree;
	struct tree_missing miss = { NULL, 0 };
	char why[300] = "";
	int top = open(r->top, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), rc;
	struct tree_req rq = { tj->store, tj->m, top, TREE_NAME, tj->ro_paths, r->dir,
			       tr->mk, tr->rw, r->uid, r->gid };

	if (top < 0)
		return exec_fail(r->res, -errno, "open temp dir: %s", strerror(errno));
	rc = tree_build(&rq, &tr->t, &miss, why, sizeof why);
	if (rc == 0)
		tr->treefd = openat(top, TREE_NAME, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(top);
	if (rc == -ENOENT) {
		give_missing(r->res, &miss);
		return -ENOENT;
	}
	if (rc)
		return exec_fail(r->res, rc == -ENOMEM ? -ENOMEM : rc == -EIO ? -EIO : -EPERM,
				 "tree refused: %s", why);
	if (tr->treefd < 0)
		return exec_fail(r->res, -EIO, "open tree: %s", strerror(errno));
	r->res->tree_us = tree_stats(tr->t)->build_us;
	snprintf(tr->root, sizeof tr->root, "%s/" TREE_NAME, r->top);
	return 0;
}

/* The child's side (the slot's ids): the job dir's TMPDIR. An errno. */
static int tree_setup(void *arg)
{
	struct run *r = arg;
	int d = open(r->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), e = 0;

	if (d < 0)
		return errno;
	if (mkdirat(d, "tmp", 0700) && errno != EEXIST)
		e = errno;
	close(d);
	return e;
}

/* compiler, the job's args, [-MD -MF own], input, -o output: the hub's
 * command, its names untouched. */
static int tree_argv(struct run *r, struct exec_tree_run *tr)
{
	const struct exec_job *job = r->job;
	int n = 0;

	r->argv = calloc((size_t)job->nargs + 8, sizeof *r->argv);
	if (!r->argv)
		return exec_fail(r->res, -ENOMEM, "out of memory");
	r->argv[n++] = (char *)job->compiler;
	for (int i = 0; i < job->nargs; i++)
		r->argv[n++] = job->args[i];
	if (!job->tree->deps_name[0]) {
		snprintf(tr->own_dep, sizeof tr->own_dep, "%s/" OWN_DEPS, r->dir);
		r->argv[n++] = "-MD";
		r->argv[n++] = "-MF";
		r->argv[n++] = tr->own_dep;
	}
	r->argv[n++] = (char *)job->input_name;
	r->argv[n++] = "-o";
	r->argv[n++] = (char *)job->output_name;
	r->argv[n] = NULL;
	return 0;
}

/* The unsent names into res (at most JOB_MAX_NAMES). */
static int give_unsent(struct exec_result *res, struct tree_names *u)
{
	size_t n = u->n < JOB_MAX_NAMES ? u->n : JOB_MAX_NAMES;

	for (size_t i = n; i < u->n; i++)
		free(u->v[i]);
	res->unsent = u->v;
	res->nunsent = n;
	return exec_fail(res, -EXDEV, "the compile read %zu name(s) the job did not send", u->n);
}

/* The outputs from the tree, the dependency output checked. */
static int collect_tree(struct run *r, struct exec_tree_run *tr)
{
	struct exec_result *res = r->res;
	const struct exec_tree *tj = r->job->tree;
	struct buf own = BUF_INIT, *deps = tj->deps_name[0] ? &res->dep : &own;
	struct tree_names u = { NULL, 0 };
	int rc;

	if ((rc = exec_read_out(r, tr->treefd, tr->out + 1, &res->obj, r->out_cap)) ||
	    (r->job->want_dwo && (rc = exec_read_out(r, tr->treefd, tr->dwo + 1, &res->dwo,
						     r->out_cap))))
		return exec_fail(res, rc == -E2BIG ? -E2BIG : -EIO, "read output: %s",
				 strerror(-rc));
	rc = tj->deps_name[0] ? exec_read_out(r, tr->treefd, tr->dep + 1, deps, JOB_MAX_TEXT)
			      : exec_read_out(r, r->dirfd, OWN_DEPS, deps, JOB_MAX_TEXT);
	if (rc) {
		buf_free(&own);
		return exec_fail(res, -EIO, "read the dependency output: %s", strerror(-rc));
	}
	rc = tree_readset_check(tj->m, (const char *)deps->data, deps->len, r->job->hub_cwd, &u);
	buf_free(&own);
	if (rc < 0)
		return exec_fail(res, -EIO, "dependency output: %s", strerror(-rc));
	if (rc > 0)
		return give_unsent(res, &u);
	tree_names_free(&u);
	return 0;
}

int exec_tree_run(struct run *r)
{
	struct exec_tree_run *tr = calloc(1, sizeof *tr);
	int st = 0, rc;

	if (!tr)
		return exec_fail(r->res, -ENOMEM, "out of memory");
	tr->treefd = -1;
	r->tr = tr;
	r->setup = tree_setup;
	if ((rc = check_tree_job(r, tr)) || (rc = exec_make_dirs(r)) || (rc = build(r, tr)))
		return rc;
	exec_sandbox_setup(r);
	r->sb.ro_paths = r->job->tree->ro_paths;
	r->sb.root_tree = tr->root;
	r->sb.root_tree_rw = true;
	if (r->job->tree->travel && !r->job->tree->travel_verified && (rc = exec_travel_check(r)))
		return rc;
	if ((rc = tree_argv(r, tr)))
		return rc;
	r->start = now_us();	/* wall_us: the compile's own, the tree's is tree_us */
	if ((rc = exec_run_compiler(r, &st)) || (rc = exec_status(r->res, st)))
		return rc;
	if (r->res->status)
		return r->job->tree->complete ? 0
		       : exec_fail(r->res, -ENOEXEC, "the compile failed (status %d) and the job "
				   "was not complete", r->res->status);
	return collect_tree(r, tr);
}

void exec_tree_end(struct run *r)
{
	struct exec_tree_run *tr = r->tr;

	if (!tr)
		return;
	if (tr->treefd >= 0)
		close(tr->treefd);
	tree_release(tr->t);
	free(tr);
	r->tr = NULL;
}
