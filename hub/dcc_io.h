/*
 * dcc_io.h — what dcc's two paths (hub/dcc.c: directives-only text,
 * hub/dcc_tree.c: inputs by hash) share: running the compiler with its
 * output captured, writing an output atomically.
 */
#ifndef USBFARM_HUB_DCC_IO_H
#define USBFARM_HUB_DCC_IO_H

#include "../lib/buf.h"

#include <stdbool.h>

#define DCC_PP_CAP (512u << 20)	/* captured stdout (preprocessed output) */
#define DCC_ERR_CAP (16u << 20)	/* captured stderr */

/* Runs argv with stdout into out and stderr into err (stdin kept). The
 * status (spawn_wait's), or -errno (-EFBIG: over a cap). */
int dcc_run_capture(const char *path, char **argv, struct buf *out, struct buf *err);
/* Writes data to path atomically: a temp file in the same directory, then
 * rename, mode 0666 less the umask. 0 or -errno; the temp file never
 * survives. */
int dcc_write_atomic(const char *path, const struct buf *data);

/* The user's locale as a compile's diagnostics see it. utf8: LC_ALL, else
 * LC_CTYPE, else LANG names a UTF-8 charset (the board then runs the
 * compiler with LC_ALL=C.UTF-8: the same quotes). translated: the
 * messages' locale (LC_ALL, else LC_MESSAGES, else LANG; LANGUAGE where
 * that is not C) is neither C, POSIX nor English: its name, else NULL (a
 * board's compiler speaks English). */
bool dcc_locale_utf8(void);
const char *dcc_locale_translated(void);

#endif
