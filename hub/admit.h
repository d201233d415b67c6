/*
 * admit.h — hubd's check of every job against the node's policy before the
 * job goes to a node: the same argument, name and text rules the node
 * applies (lib/policy.h), so a job a node would refuse is never sent (it
 * compiles locally at once) and a hostile client's job never reaches a
 * board unchecked.
 */
#ifndef USBFARM_HUB_ADMIT_H
#define USBFARM_HUB_ADMIT_H

#include <stddef.h>

#include "proto.h"

/* 0 when a node would accept the job, else -EPERM and why. */
int admit_job(const struct proto_submit *s, char *why, size_t whylen);

#endif
