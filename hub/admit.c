/* admit.c — the node's policy (lib/policy.h) applied by hubd before
 * dispatch (admit.h): a job a node would refuse is never sent. */
#include "admit.h"

#include "../lib/policy.h"

#include <errno.h>
#include <stdio.h>

int admit_job(const struct proto_submit *s, char *why, size_t whylen)
{
	if (policy_check_args(s->d.args, s->d.nargs, why, whylen) < 0)
		return -EPERM;
	if (!policy_input_name_ok(s->d.input_name)) {
		snprintf(why, whylen, "input name refused by the node policy");
		return -EPERM;
	}
	if (!policy_output_name_ok(s->d.output_name)) {
		snprintf(why, whylen, "output name refused by the node policy");
		return -EPERM;
	}
	return 0;
}
