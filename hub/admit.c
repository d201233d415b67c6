/* admit.c — the node's policy applied by hubd before dispatch (admit.h). */
#include "admit.h"

#include "../node/exec.h"

#include <errno.h>
#include <stdio.h>

int admit_job(const struct proto_submit *s, char *why, size_t whylen)
{
	const char *what = NULL;
	size_t line;

	if (exec_check_args(s->args, s->nargs, why, whylen) < 0)
		return -EPERM;
	/* gcc reads "@name" as a response file and "-name" as an option
	 * (issue 6 item 3); refused here until the shared policy does it */
	if (s->input_name[0] == '@' || s->input_name[0] == '-' ||
	    s->output_name[0] == '@' || s->output_name[0] == '-') {
		snprintf(why, whylen, "a name starting with '@' or '-'");
		return -EPERM;
	}
	if (!exec_input_name_ok(s->input_name)) {
		snprintf(why, whylen, "input name refused by the node policy");
		return -EPERM;
	}
	if (!exec_safe_relpath(s->output_name)) {
		snprintf(why, whylen, "output name refused by the node policy");
		return -EPERM;
	}
	line = exec_find_include(s->input, s->input_len, &what);
	if (line) {
		snprintf(why, whylen, "line %zu of the text is %s (a node refuses it)", line,
			 what ? what : "an include-like directive");
		return -EPERM;
	}
	return 0;
}
