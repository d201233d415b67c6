/*
 * dcc_io.h — what dcc's two paths (hub/dcc.c: directives-only text,
 * hub/dcc_tree.c: inputs by hash) share: running the compiler with its
 * output captured, writing an output atomically.
 */
#ifndef USBFARM_HUB_DCC_IO_H
#define USBFARM_HUB_DCC_IO_H

#include "../lib/buf.h"

#define DCC_PP_CAP (512u << 20)	/* captured stdout (preprocessed output) */
#define DCC_ERR_CAP (16u << 20)	/* captured stderr */

/* Runs argv with stdout into out and stderr into err (stdin kept). The
 * status (spawn_wait's), or -errno (-EFBIG: over a cap). */
int dcc_run_capture(const char *path, char **argv, struct buf *out, struct buf *err);
/* Writes data to path atomically: a temp file in the same directory, then
 * rename, mode 0666 less the umask. 0 or -errno; the temp file never
 * survives. */
int dcc_write_atomic(const char *path, const struct buf *data);

#endif
