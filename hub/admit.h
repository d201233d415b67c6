/*
 * admit.h — hubd's check of every job against the node's policy before the
 * job goes to a node: the same argument, name and text rules the node
 * applies, so a job a node would refuse is never sent (it compiles locally
 * at once) and a hostile client's job never reaches a board unchecked.
 *
 * Today the rules are node/exec.h's (exec_check_args, exec_input_name_ok,
 * exec_safe_relpath, exec_find_include), plus names starting with '@' or
 * '-' (a response file or an option to gcc), which the node does not refuse
 * yet; when the shared lib/policy.h lands this file is the one place that
 * switches to it.
 */
#ifndef USBFARM_HUB_ADMIT_H
#define USBFARM_HUB_ADMIT_H

#include <stddef.h>

#include "proto.h"

/* 0 when a node would accept the job, else -EPERM and why. */
int admit_job(const struct proto_submit *s, char *why, size_t whylen);

#endif
