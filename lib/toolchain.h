/*
 * toolchain.h — the files a compiler runs with (lib/toolchain.c), found on
 * this machine by running its own driver (-print-prog-name, -print-libgcc-
 * file-name) and ldd: the driver (the path given, every symlink hop, its
 * real file), the cc1 it runs (cc1: "cc1", "cc1plus"; NULL "cc1"; "" none:
 * clang compiles in-process, and then the crtbegin.o by which it finds its
 * GCC installation), its as, its objcopy when there is one (-gsplit-dwarf),
 * the shared libraries each loads (ldd: the dynamic loader included),
 * /etc/ld.so.cache, the files of the C.UTF-8 locale (/usr/lib/locale/
 * C.utf8) where present. Files and symlinks only, never a directory; every
 * name absolute, clean, without ':'.
 *
 * Two users: a board binds these over a tree job's tree (node/tree.h
 * tree_toolchain), and hubd packs its own into a job's tree when a board
 * lacks the compiler (hub/toolchain.h).
 */
#ifndef USBFARM_TOOLCHAIN_H
#define USBFARM_TOOLCHAIN_H

#include <stddef.h>

#include "buf.h"

/* The list above, ':'-separated and NUL-terminated, appended to out (in
 * no promised order, each name once). 0 or -errno
 * and why. Runs programs (each with a deadline): not for a poll loop's
 * every turn, once per compiler. */
int toolchain_paths(const char *compiler, const char *cc1, struct buf *out, char *why,
		    size_t whylen);

#endif
