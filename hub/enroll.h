/*
 * enroll.h — which network interfaces are usbfarm boards, and making them
 * ready for a link.
 *
 * An interface is one of our boards when its USB device (the nearest sysfs
 * ancestor of /sys/class/net/IFACE/device that has idVendor) has our
 * VID:PID *and* our product string (gadget/usbfarm-gadget sets the same
 * three). Only sysfs attributes decide, never the interface's name: kernel
 * names are racy and a random USB Ethernet adapter may be called usb0 too.
 * A net device that is not on USB (a veth, the board side of a gadget) is
 * never ours.
 *
 * The sysfs root is "/sys" unless $USBFARM_SYSFS names another (tests use a
 * fake tree). Interface names from clients are checked before they reach a
 * path. Library convention: 0 / negative errno, no logging.
 *
 * Also here: the ENROLL request of hubd's socket (hubctl enroll IFACE),
 * framed like hub/proto.h's messages: version, type, then for the request
 * the name (u16 length + bytes); for the answer a u32 status (two's
 * complement: 1 enrolled, 0 not one of ours, -errno) and a message.
 */
#ifndef USBFARM_HUB_ENROLL_H
#define USBFARM_HUB_ENROLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/buf.h"

#define ENROLL_VID 0x1d6bu
#define ENROLL_PID 0x0104u
#define ENROLL_PRODUCT "usbfarm node"
/* the host side of a cdc_ether/cdc_ncm link takes at most 1500 */
#define ENROLL_MTU 1500u
#define ENROLL_MSG_MAX 256

struct enroll_usb {
	unsigned vid, pid;
	char product[128];
	char serial[128];
	char busport[32];	/* the USB device's sysfs name: "1-1.3" = bus 1, ports 1.3 */
	unsigned busnum, devnum;
	char speed[16];		/* Mbit/s as sysfs says it: "480", "5000" */
};

/* A valid interface name: 1..15 bytes, no '/', not "." or "..". */
bool enroll_ifname_ok(const char *name);

/* The USB device behind IFACE under sysfs root ROOT (NULL: $USBFARM_SYSFS
 * or /sys). 0; -ENODEV no such interface; -ENOENT it is not on USB;
 * -EINVAL bad name. */
int enroll_usb_of(const char *root, const char *ifname, struct enroll_usb *u);

/* Has U our VID:PID and product string? */
bool enroll_is_ours(const struct enroll_usb *u);

/* 1 when IFACE is one of our boards (U filled, may be NULL), 0 when it is
 * not (not USB, another device), -errno on a bad name or missing IFACE. */
int enroll_check(const char *ifname, struct enroll_usb *u);

/* A USB device's sysfs name ("1-1.3"): digits, '-' and '.', a '-' in it. */
bool enroll_busport_ok(const char *busport);
/* 1 when the USB device ROOT/bus/usb/devices/BUSPORT (ROOT as above) has
 * our VID:PID and product string, 0 when it is another device, -ENODEV
 * none, -EINVAL a bad name. (The port-power helper's policy.) */
int enroll_busport_ours(const char *root, const char *busport);

/* Brings IFACE up with MTU (0: leave it) through libnl-route; an MTU the
 * device refuses is left as it is. 0 or -errno. */
int enroll_link_up(const char *ifname, unsigned mtu);

/* Calls CB for every interface in ROOT/class/net that is one of ours. The
 * number found, or -errno. */
int enroll_scan(const char *root, void (*cb)(const char *ifname, void *user), void *user);

/*
 * udev renames interfaces (80-usbfarm-hub.rules) and a renamed interface
 * must be down, so while udev is running (/run/udev/control exists) a new
 * interface is enrolled only once udev has finished with it (its database
 * entry /run/udev/data/n<ifindex> exists). enroll_wait_udev() says whether
 * IFACE must wait (also when it is gone: renamed since the caller saw it)
 * and, if so, remembers it (at most ENROLL_PENDING_MAX);
 * enroll_retry(), called from the daemon's loop, hands each remembered
 * interface that udev has finished with to CB and forgets those that went
 * away (renamed or removed). $USBFARM_UDEV names another /run/udev.
 */
#define ENROLL_PENDING_MAX 32
bool enroll_wait_udev(const char *ifname);
void enroll_retry(void (*cb)(const char *ifname, void *user), void *user);

/* hubd socket request/answer (types PROTO_ENROLL_REQ/PROTO_ENROLL). */
int enroll_encode_req(struct buf *b, const char *ifname);
int enroll_decode_req(const uint8_t *p, size_t len, char ifname[16]);
int enroll_encode_answer(struct buf *b, int status, const char *msg);
int enroll_decode_answer(const uint8_t *p, size_t len, int *status, char *msg, size_t cap);
/* hubd's side: decodes the request in P, calls ENROLL(ifname) (1 / 0 /
 * -errno as enroll_check; -EINPROGRESS: ours, waiting for udev) and writes the answer into OUT. 0, or -EPROTO
 * for a malformed request (close the connection). */
int enroll_serve(struct buf *out, const uint8_t *p, size_t len, int (*enroll)(const char *ifname));

#endif
