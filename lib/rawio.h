/*
 * rawio.h — the AF_PACKET link I/O (rawio.c) in its two halves, so that the
 * process that holds CAP_NET_RAW/CAP_NET_ADMIN (hubd's link opener,
 * hub/opener.c) makes and binds the socket and the process that parses
 * untrusted bytes (hubd's dispatcher) uses it with no capability at all.
 *
 *   link_io_packet_socket()  privileged: socket(AF_PACKET, SOCK_DGRAM,
 *                            EtherType 0x88B5), the TPACKET_V2 receive ring
 *                            requested, buffer sizes forced, bound to the
 *                            interface. Nothing the caller learns from the
 *                            wire is involved.
 *   link_io_packet_adopt()   unprivileged: takes such a socket (passed with
 *                            SCM_RIGHTS), checks that it is one (AF_PACKET,
 *                            SOCK_DGRAM, bound to the expected ifindex and
 *                            EtherType), maps the ring, reads the MTU.
 *
 * link_io_packet_opts() (link.h) is the two in one process (noded).
 * Invariant: an adopted I/O is never one the checks refused; on refusal the
 * fd is closed, never used. Library convention: 0 / -errno, no logging.
 */
#ifndef USBFARM_LIB_RAWIO_H
#define USBFARM_LIB_RAWIO_H

#include "link.h"

/* The bound socket in *fd (non-blocking, close-on-exec) and its interface's
 * index in *ifindex. Needs CAP_NET_RAW (and CAP_NET_ADMIN for buffer sizes
 * beyond the sysctl limits; without it the plain limits apply). O may be
 * NULL. 0 or -errno (*fd = -1). */
int link_io_packet_socket(const char *ifname, const struct link_io_opts *o, int *fd,
			  int *ifindex);

/* Adopts FD, a socket link_io_packet_socket() made for interface IFINDEX:
 * -ENOTSOCK / -EPROTOTYPE / -EAFNOSUPPORT / -EADDRNOTAVAIL when it is not an
 * AF_PACKET datagram socket bound to IFINDEX and EtherType 0x88B5, -EMSGSIZE
 * when the interface's MTU is below 256. FD belongs to the I/O on success
 * and is closed on failure. O may be NULL (only o->mtu is used here). */
int link_io_packet_adopt(int fd, int ifindex, const struct link_io_opts *o,
			 struct link_io **out);

#endif
