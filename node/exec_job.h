/*
 * exec_job.h — the executor (exec.h) fed from, and answering in, the one
 * job description and the one job outcome (lib/job.h): the only place
 * where their fields meet the executor's. noded (a JOB from the link) and
 * the loopback test hub (a SUBMIT) both go through here.
 *
 * Invariant: both are views, nothing is copied or owned: ej points into d
 * (d must outlive ej), o into res's buffers (res must outlive o).
 */
#ifndef USBFARM_NODE_EXEC_JOB_H
#define USBFARM_NODE_EXEC_JOB_H

#include "exec.h"

#include "../lib/job.h"

/* The job part of ej from d; the caller sets compiler, tmp_root, limits, launch. */
void exec_job_from_desc(struct exec_job *ej, const struct job_desc *d);
/* What the executor did, as an outcome (status as the executor gave it). */
void exec_outcome(const struct exec_result *res, struct job_outcome *o);

#endif
