/*
 * buildonce.h — what one dcc process tells the next ones of the same build:
 * markers in a private directory of the user ($XDG_RUNTIME_DIR/usbfarm-dcc,
 * else /tmp/usbfarm-dcc-$UID; 0700, owned by the user, else not used).
 *
 * A build is the outermost make/ninja among dcc's ancestors (its pid and
 * start time, so a reused pid is another build); without one, dcc's parent.
 * once_per_build(what, socket) is true for exactly one dcc of a build (an
 * O_EXCL marker named by what, the socket path and the build): dcc uses it
 * to say "cannot open hubd's socket" once per build, not once per job.
 * hub_silent_mark()/hub_silent_recent() remember, for HUB_SILENT_SKIP_S
 * seconds, that hubd left a dcc waiting past its deadline: the dcc
 * processes after it compile locally at once instead of each waiting out
 * its own deadline; after that they try hubd again (a restarted or resumed
 * hubd is picked up by itself).
 */
#ifndef USBFARM_HUB_BUILDONCE_H
#define USBFARM_HUB_BUILDONCE_H

#include <stdbool.h>

#define HUB_SILENT_SKIP_S 5

bool once_per_build(const char *what, const char *socket);
void hub_silent_mark(const char *socket);
bool hub_silent_recent(const char *socket);

#endif
