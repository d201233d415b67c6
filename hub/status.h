/*
 * status.h — hubd's answer to hubctl status: the hub's counters, every
 * node (its link's state and statistics, what it offers, failover figures)
 * and which boards serve the compilers jobs asked for. It reads the other
 * modules' state and changes none; it has no state of its own.
 */
#ifndef USBFARM_HUB_STATUS_H
#define USBFARM_HUB_STATUS_H

#include "../lib/buf.h"

struct conn;

/* Encodes the STATUS frame into out (the request's own connection `self`
 * is not counted among the clients). 0, or -errno. */
int status_answer(struct buf *out, const struct conn *self);

#endif
