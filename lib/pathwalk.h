/*
 * pathwalk.h — the one PATH search of usbfarm (dcc finding the real
 * compiler, noded and the identity code scanning for compilers).
 *
 * Invariant: the entries are visited in PATH order, empty entries skipped
 * (as ":"-tokenising does); with no PATH the default below is searched.
 * A relative entry is visited against the working directory only when the
 * caller allows it, else skipped (it is not trusted).
 */
#ifndef USBFARM_LIB_PATHWALK_H
#define USBFARM_LIB_PATHWALK_H

#include <stdbool.h>

#define PATHWALK_DEFAULT "/usr/local/bin:/usr/bin:/bin"

/* fn(dir, arg) per entry: 0 goes on, anything else stops the walk. */
typedef int (*pathwalk_fn)(const char *dir, void *arg);

/* Walks path (NULL: $PATH, else PATHWALK_DEFAULT). Returns what the fn
 * that stopped it returned, 0 when every entry was visited, -ENOMEM. A
 * relative entry is "CWD/entry" when relative_ok (skipped when the cwd
 * is unknown or the name too long). */
int pathwalk(const char *path, bool relative_ok, pathwalk_fn fn, void *arg);

#endif
