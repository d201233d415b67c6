/*
 * ident_run.h — internal to ident.c / ident_run.c: the messages between the
 * dispatcher and the identifier process (a SOCK_SEQPACKET socketpair, one
 * fixed-size struct per message) and the identifier's entry point.
 *
 * request:  struct ident_req, with the client's connection as SCM_RIGHTS
 * reply:    struct ident_rep (the same struct goes from the identifier's
 *           child to the identifier through a pipe)
 * A message of any other size, or a request without exactly one fd, is
 * refused; every string is NUL-terminated inside its array or refused.
 */
#ifndef USBFARM_HUB_IDENT_RUN_H
#define USBFARM_HUB_IDENT_RUN_H

#include "ident.h"

#include <stdbool.h>

struct ident_req {
	uint64_t serial;
	char path[COMPILER_PATH_MAX];
};

struct ident_rep {
	uint64_t serial;
	struct ident_result res;
};

/* The identifier's main loop on its end of the socketpair; never returns.
 * switch_ids: hubd is root (the identifier holds CAP_SETUID/CAP_SETGID and
 * each child becomes its client); else each child refuses a client whose
 * uid is not the identifier's. */
void ident_serve(int sp, bool switch_ids) __attribute__((noreturn));

#endif
