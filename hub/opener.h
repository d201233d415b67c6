/*
 * opener.h — hubd's link opener: the one process of hubd that holds
 * CAP_NET_RAW and CAP_NET_ADMIN, so that the dispatcher, which parses every
 * byte clients and nodes send, holds no capability at all (privsep.h).
 *
 * opener_start() forks it before the dispatcher's drop. As root it becomes
 * the run-as user keeping exactly CAP_NET_RAW + CAP_NET_ADMIN (permitted,
 * effective, bounding; nothing inheritable or ambient), no_new_privs. It
 * does two things, on request over a SOCK_SEQPACKET socketpair, one request
 * at a time, nothing else:
 *   OPENER_UP    bring an interface up with an MTU (libnl-route,
 *                enroll_link_up in hub/enroll.c: an MTU the device
 *                refuses is left as it is);
 *   OPENER_OPEN  make and bind its AF_PACKET socket (link_io_packet_socket,
 *                lib/rawio.h) and pass it back with SCM_RIGHTS; the
 *                dispatcher adopts it (link_io_packet_adopt), which checks it.
 *
 * A request is exactly sizeof(struct opener_req) bytes; anything else, an
 * unknown magic or op, nonzero padding, an MTU outside 0 or 256..65535 (0
 * only for OPEN), or a bad name is refused with -EINVAL (-EMSGSIZE for a
 * wrong size) and the opener waits for the next one. A name is 1..15 bytes
 * of printable ASCII, NUL-terminated and zero-padded, none of '/', ':' or
 * spaces, not "." or "..". A valid request is then served only for an
 * interface that exists (else -ENODEV) and is either one of those hubd was
 * configured with at start (opener_allow) or one hub/enroll.c's match says
 * is a usbfarm board (else -EPERM). The interface is looked up once by
 * name, and the socket is bound by index and checked to still have that
 * name afterwards (a rename in between is -EAGAIN).
 *
 * Failure is loud: when the opener is gone (killed, crashed) or answers
 * something that is not an answer, the dispatcher logs why and exits
 * (status 1; the service manager restarts hubd): a hubd that can no
 * longer open links would lose every board that relinks, silently.
 */
#ifndef USBFARM_HUB_OPENER_H
#define USBFARM_HUB_OPENER_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/link.h"

#define OPENER_MAGIC 0x75666f70u	/* "ufop" */
#define OPENER_MAX_ALLOWED 64		/* interfaces named at start */
#define OPENER_TIMEOUT_MS 10000		/* one answer, at most */

enum opener_op {
	OPENER_OPEN = 1,
	OPENER_UP = 2,
};

/* One request, host byte order (both ends are one program on one host). */
struct opener_req {
	uint32_t magic;
	uint32_t op;
	uint32_t seq;
	uint32_t mtu;		/* OPENER_UP: 0 (leave it) or 256..65535; OPEN: 0 */
	char ifname[IFNAMSIZ];	/* NUL-terminated, zero-padded */
};

/* One answer; with OPENER_OPEN and status 0, one fd in SCM_RIGHTS. */
struct opener_ans {
	uint32_t magic;
	uint32_t seq;		/* the request's (0 for one that could not be read) */
	int32_t status;		/* 0, or -errno */
	int32_t ifindex;	/* OPENER_OPEN: the socket's interface */
};

/* The request parser: 0 and *out filled, or -EMSGSIZE / -EINVAL. */
int opener_parse_req(const void *p, size_t len, struct opener_req *out);
/* The name rule above. */
int opener_name_ok(const char *name);

/* Dispatcher side. opener_allow() before opener_start(): an interface hubd
 * was configured with (at most OPENER_MAX_ALLOWED; -ENOSPC / -EINVAL). */
int opener_allow(const char *ifname);
/* Forks the opener (as root: dropped as above). Call after privsep_init(),
 * before privsep_drop_dispatcher(). 0 or -errno. */
int opener_start(void);
/* Brings IFNAME up with MTU. 0 or -errno (the opener's refusal or libnl's;
 * -ENOTCONN before opener_start). */
int opener_link_up(const char *ifname, unsigned mtu);
/* The link I/O of IFNAME: opened by the opener, adopted here. 0 or -errno. */
int opener_open(const char *ifname, struct link_io **out);
/* Called once per round of the poll loop: exits (fatal, in words) if the
 * opener is gone. */
void opener_check(void);
/* The opener's pid and the dispatcher's end of the socketpair (tests). */
int opener_pid(void);
int opener_fd(void);

#endif
