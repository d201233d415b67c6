/*
 * scand.h — the per-user scan server (issue 11): one process per user,
 * `dcc --scan-server`, holds the include scanner (hub/scan.h: its file
 * table, the compilers' search lists, the inputs remembered from compiles'
 * dependency output) for every dcc process of that user. It runs as the
 * user, not in hubd: hubd's dispatcher runs as `usbfarm` and must not read
 * users' files for them.
 *
 * Where: the directory $XDG_RUNTIME_DIR/usbfarm, else /tmp/usbfarm-$UID,
 * made 0700 and checked (a directory, not a link, owned by the user, not
 * writable by group or others) before anything in it is used: scan.sock
 * (0600), scan.lock (one server holds it), scan.pid, scan.log (what the
 * server did). The server and its clients check each other's uid
 * (SO_PEERCRED): only the same user is served.
 *
 * Life: dcc starts it on first use (scand_connect), daemonized (its own
 * session, stdio on /dev/null and the log); two dccs starting it at once
 * end with one server (the lock; the loser exits when the winner answers).
 * It exits after --idle seconds without a client (default
 * SCAND_IDLE_S, or $DCC_SCAN_IDLE), on SIGTERM/SIGINT/SIGHUP, and within
 * SCAND_CHECK_MS once its socket is removed (its directory deleted) or
 * replaced.
 */
#ifndef USBFARM_HUB_SCAND_H
#define USBFARM_HUB_SCAND_H

#include <stdbool.h>
#include <stddef.h>

#include "scand_proto.h"

#define SCAND_IDLE_S 600
#define SCAND_MAX_CLIENTS 256
#define SCAND_IO_MS 5000	/* a request or answer without progress */
#define SCAND_START_MS 3000	/* a started server must answer by then */
#define SCAND_CHECK_MS 5000	/* how often the server checks its socket is still there */

/* The directory's path into buf: 0 or -ENAMETOOLONG. */
int scand_dir(char *buf, size_t len);
/* Makes the directory if missing (0700) and checks it: 0, or -errno with
 * why set ("… is owned by uid 0, not 1000"). */
int scand_dir_check(const char *dir, char *why, size_t wlen);

/* `dcc --scan-server [--foreground] [--idle S]`: the server's main. */
int scand_main(int argc, char **argv);

/* dcc's side (scand_client.c). Connects to the server, starting it (as
 * `self --scan-server`, self the absolute path of dcc) when none answers:
 * 0 and *fd, or -errno with why set. */
int scand_connect(const char *self, int *fd, char *why, size_t wlen);
/* One request, one answer, on a connected fd: 0, or -errno with why set
 * (the result's own error is res->rc / res->r.err). */
int scand_scan(int fd, const struct scand_req *q, struct scand_res *res, char *why, size_t wlen);
int scand_remember(int fd, const struct scand_remember *m, char *why, size_t wlen);
int scand_stats(int fd, struct scand_stats *st, char *why, size_t wlen);

/* `dcc --scan [--stats] CC ARGS...`: the compile's inputs as the server
 * scans them ("in SHA|dir SIZE PATH SPELLED", "link PATH TARGET", "gap FILE
 * TEXT", "incomplete 0|1", "server PID SCAN_US"); with --stats the server's
 * counters. The exit code (0, 1: the scan failed, 2: usage). */
int scand_cli(const char *self, int argc, char **argv);

#endif
