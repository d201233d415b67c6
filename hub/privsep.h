/*
 * privsep.h — hubd's privilege separation: who hubd runs as, which
 * capabilities each of its processes keeps, and who may use its socket.
 *
 * hubd started by root ends up as three processes, none of them root:
 *   - the dispatcher (hubd.c: links, the unix socket, every byte a client
 *     or a node sends) runs as the run-as user (--user, default `usbfarm`,
 *     else `nobody`) with no capability at all: permitted, effective,
 *     inheritable, ambient and bounding sets empty, no_new_privs. It gets
 *     every link's socket from the opener;
 *   - the link opener (opener.c) runs as the same user with only
 *     CAP_NET_RAW and CAP_NET_ADMIN: on request it brings a board's
 *     interface up and opens and binds its AF_PACKET socket, for
 *     interfaces hubd was configured with or that are usbfarm boards, and
 *     passes the socket back (SCM_RIGHTS);
 *   - the identifier (ident.c) runs as the same user with only CAP_SETUID
 *     and CAP_SETGID: it runs a client's compiler in a child that has the
 *     client's own uid, gid and groups (read by the kernel, SO_PEERCRED /
 *     SO_PEERGROUPS) and no capabilities.
 * Every drop fails closed: hubd exits if a drop cannot be verified.
 * The socket's directory is created 0750 and the socket is 0660, both owned
 * by the run-as user and the socket group (--group, default `usbfarm`): any
 * member of that group can use dcc. hubd started by a normal user changes
 * no ids (it serves its own user only: ident.c refuses other uids).
 */
#ifndef USBFARM_HUB_PRIVSEP_H
#define USBFARM_HUB_PRIVSEP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PRIVSEP_DEFAULT_USER "usbfarm"
#define PRIVSEP_DEFAULT_GROUP "usbfarm"

/* Capability bit masks for privsep_become(). */
#define PRIVSEP_CAP(c) (1ull << (c))

/* Resolves the run-as user and the socket group (NULL: the defaults, with
 * their documented fallbacks; a name given explicitly must exist). Root
 * only; a no-op otherwise. Exits on error (fatal). */
void privsep_init(const char *user, const char *group);
bool privsep_root(void);
uid_t privsep_uid(void);
gid_t privsep_gid(void);	/* the run-as user's primary group */

/* Creates the directory of the socket at path if missing (0750 owned by the
 * run-as user and the socket group as root, else 0700). 0 or -errno. */
int privsep_socket_dir(const char *path);
/* After bind: the socket gets mode 0660 and, as root, the run-as user and
 * the socket group. 0 or -errno. */
int privsep_socket_bound(const char *path);

/* Becomes uid/gid (supplementary groups: gid only) keeping exactly the
 * capabilities in `keep` (permitted and effective; bounding set reduced to
 * them, nothing inheritable or ambient), sets no_new_privs. Must be root.
 * 0 or -errno; verified: nothing beyond `keep` in the permitted, effective
 * and bounding sets (and unless `keep` holds CAP_SETUID, setuid(0) must
 * fail). */
int privsep_become(uid_t uid, gid_t gid, uint64_t keep);

/* The dispatcher's drop (as root: to the run-as user with no capability
 * left in any set, no_new_privs; started by a normal user: ambient,
 * permitted and effective capabilities cleared, ids unchanged). Call after
 * the socket is bound and the identifier and the opener are started. Exits
 * on error (fatal). */
void privsep_drop_dispatcher(void);

/* Drops every capability (permitted, effective). 0 or -errno. */
int privsep_caps_clear(void);
/* The effective and permitted capabilities of this process, one mask. */
uint64_t privsep_caps(void);

#endif
