/*
 * ifwatch.h — what the kernel says about network interfaces, from rtnetlink
 * through libnl-route: carrier up/down, MTU, interfaces appearing and going.
 *
 * The daemons poll ifwatch_fd() beside their links and call
 * ifwatch_process() when it is readable; the callback then names the
 * interface and what happened, so a carrier loss ends that link's session at
 * once (link_reset) instead of after the keepalive deadline, and a board
 * plugged back in is reopened without waiting for a retry timer. Only
 * messages from the kernel (netlink port 0) are accepted.
 */
#ifndef USBFARM_IFWATCH_H
#define USBFARM_IFWATCH_H

#include <stdbool.h>

enum ifw_event {
	IFW_CARRIER_UP,		/* the interface exists, is up and has carrier */
	IFW_CARRIER_DOWN,	/* it exists but is down or lost carrier */
	IFW_GONE,		/* it was removed */
};

struct ifw_info {
	char name[16];
	int ifindex;
	unsigned mtu;
	enum ifw_event event;
};

typedef void (*ifwatch_cb)(const struct ifw_info *info, void *user);

struct ifwatch;

/* Subscribes to link events. 0 or -errno. */
int ifwatch_open(ifwatch_cb cb, void *user, struct ifwatch **out);
int ifwatch_fd(const struct ifwatch *w);
/* Reads every pending event and calls the callback for each. 0 or -errno
 * (-ENOBUFS: the kernel dropped events; callers should re-query the
 * interfaces they care about with ifwatch_query). */
int ifwatch_process(struct ifwatch *w);
void ifwatch_close(struct ifwatch *w);

/* The current state of one interface. 0, or -ENODEV when it does not exist. */
int ifwatch_query(const char *name, struct ifw_info *info);

const char *ifw_event_name(enum ifw_event e);

#endif
