/*
 * exec_job.c — the executor's view of lib/job.h's job description and
 * outcome (exec_job.h). Owns nothing: views in both directions.
 */
#include "exec_job.h"

#include <stdio.h>
#include <string.h>

void exec_job_from_desc(struct exec_job *ej, const struct job_desc *d)
{
	ej->args = d->args;
	ej->nargs = d->nargs;
	ej->input_name = d->input_name;
	ej->input = d->input;
	ej->input_len = d->input_len;
	ej->output_name = d->output_name;
	ej->want_dwo = d->want_dwo;
	ej->utf8 = d->utf8;
	ej->hub_cwd = d->cwd;
}

void exec_outcome(const struct exec_result *res, struct job_outcome *o)
{
	memset(o, 0, sizeof *o);
	o->status = res->status;
	snprintf(o->error, sizeof o->error, "%s", res->error);
	o->out = res->out.data;
	o->out_len = res->out.len;
	o->err = res->err.data;
	o->err_len = res->err.len;
	o->obj = res->obj.data;
	o->obj_len = res->obj.len;
	o->dwo = res->dwo.data;
	o->dwo_len = res->dwo.len;
	o->wall_us = res->wall_us;
	o->cpu_us = res->cpu_us;
}
