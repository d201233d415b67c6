/*
 * proto_int.h — what proto.c shares with proto_tree.c (the tree-job
 * messages): the SUBMIT fields both submits carry, the message head check.
 * Not for other modules.
 */
#ifndef USBFARM_HUB_PROTO_INT_H
#define USBFARM_HUB_PROTO_INT_H

#include "proto.h"
#include "../lib/cursor.h"

/* The SUBMIT fields before the input bytes: 0, -EINVAL (a field does not
 * fit its cap) or -ENOMEM. */
int proto_put_submit(struct buf *b, const struct proto_submit *s);
/* Reads them: 0 (c->err when malformed) or -errno of the argv codec;
 * s->d.args is malloc'd even on c->err (proto_submit_free). */
int proto_get_submit(struct cursor *c, struct proto_submit *s);
/* Version and type: false (c->err) when not t. */
bool proto_head(struct cursor *c, enum proto_type t);

#endif
