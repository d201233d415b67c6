/*
 * telemetry.h — the board's own figures for a TELEMETRY message (noded
 * only; the message itself is lib/job.h's).
 */
#ifndef USBFARM_NODE_TELEMETRY_H
#define USBFARM_NODE_TELEMETRY_H

#include "../lib/job.h"

/* Fills t from /proc and /sys (whatever is present); running and slots
 * are the caller's. */
void telemetry_read(struct job_telemetry *t);

#endif
