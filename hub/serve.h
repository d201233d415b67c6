/*
 * serve.h — printing hubd's "which board serves which compiler, and why
 * not" status lines (hub/serve.c) for hubctl status (text, --json "serves").
 */
#ifndef USBFARM_HUB_SERVE_H
#define USBFARM_HUB_SERVE_H

#include <stdio.h>

#include "proto.h"

void serve_print_text(const struct hub_status *st);
/* Appends ,"serves":[{"compiler","node","verdict","serves"}…] to an open object. */
void serve_print_json(FILE *f, const struct hub_status *st);

#endif
