/*
 * argv_wire.h — the one wire form of an argument vector, used by the
 * hub–node JOB message (lib/job.c) and hubd's socket protocol (hub/proto.c):
 * u16 count, then count × (u16 length, the bytes; no NUL inside).
 *
 * Invariant: both directions enforce the same caps, lib/job.h's
 * JOB_MAX_ARGS (count), JOB_MAX_ARG_LEN (each, NUL included) and
 * JOB_MAX_ARGS_BYTES (all, a NUL each): what one side encodes the other
 * decodes, and nothing over them is allocated.
 */
#ifndef USBFARM_LIB_ARGV_WIRE_H
#define USBFARM_LIB_ARGV_WIRE_H

#include "buf.h"
#include "cursor.h"

/* 0 when args fits the caps, else -EINVAL. */
int argv_wire_check(char *const *args, int nargs);
/* Appends the vector (argv_wire_check() it first). */
void argv_wire_encode(struct buf *b, char *const *args, int nargs);
/* Reads a vector into one malloc'd block (pointers, then the text;
 * NULL-terminated: free() it). NULL with c->err set when malformed or over
 * the caps, NULL without when out of memory. */
char **argv_wire_decode(struct cursor *c, int *nargs);

#endif
