/* ifwatch.c — rtnetlink link events through libnl-route (see ifwatch.h). */
#include "ifwatch.h"

#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

/* <net/if.h> stops at the BSD flags; the kernel ABI value of "carrier up": */
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

struct ifwatch {
	struct nl_sock *sk;
	ifwatch_cb cb;
	void *user;
	int nlmsg_type; /* of the message being parsed */
};

static int nl_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_NOMEM: return -ENOMEM;
	case NLE_AGAIN: return -EAGAIN;
	case NLE_OBJ_NOTFOUND: return -ENODEV;
	case NLE_NODEV: return -ENODEV;
	case NLE_PERM: return -EPERM;
	case NLE_NOACCESS: return -EACCES;
	case NLE_DUMP_INTR: return -EINTR;
	default: return -EIO;
	}
}

static void fill_info(struct rtnl_link *link, bool gone, struct ifw_info *info)
{
	const char *name = rtnl_link_get_name(link);
	unsigned flags = rtnl_link_get_flags(link);

	memset(info, 0, sizeof *info);
	if (name) {
		strncpy(info->name, name, sizeof info->name - 1);
	}
	info->ifindex = rtnl_link_get_ifindex(link);
	info->mtu = rtnl_link_get_mtu(link);
	if (gone)
		info->event = IFW_GONE;
	else if ((flags & IFF_UP) && (flags & IFF_LOWER_UP))
		info->event = IFW_CARRIER_UP;
	else
		info->event = IFW_CARRIER_DOWN;
}

static void on_object(struct nl_object *obj, void *arg)
{
	struct ifwatch *w = arg;
	struct ifw_info info;

	if (strcmp(nl_object_get_type(obj), "route/link") != 0)
		return;
	fill_info((struct rtnl_link *)obj, w->nlmsg_type == RTM_DELLINK, &info);
	if (info.name[0])
		w->cb(&info, w->user);
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct ifwatch *w = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct sockaddr_nl *src = nlmsg_get_src(msg);

	/* Only the kernel speaks here. */
	if (src && src->nl_pid != 0)
		return NL_SKIP;
	if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK)
		return NL_SKIP;
	w->nlmsg_type = h->nlmsg_type;
	nl_msg_parse(msg, on_object, w);
	return NL_OK;
}

int ifwatch_open(ifwatch_cb cb, void *user, struct ifwatch **out)
{
	struct ifwatch *w = calloc(1, sizeof *w);
	int rc;

	if (!w)
		return -ENOMEM;
	w->cb = cb;
	w->user = user;
	w->sk = nl_socket_alloc();
	if (!w->sk) {
		free(w);
		return -ENOMEM;
	}
	nl_socket_disable_seq_check(w->sk);
	nl_socket_modify_cb(w->sk, NL_CB_VALID, NL_CB_CUSTOM, on_valid, w);
	rc = nl_connect(w->sk, NETLINK_ROUTE);
	if (rc == 0)
		rc = nl_socket_add_membership(w->sk, RTNLGRP_LINK);
	if (rc == 0)
		rc = nl_socket_set_nonblocking(w->sk);
	if (rc < 0) {
		nl_socket_free(w->sk);
		free(w);
		return nl_errno(rc);
	}
	*out = w;
	return 0;
}

int ifwatch_fd(const struct ifwatch *w)
{
	return nl_socket_get_fd(w->sk);
}

int ifwatch_process(struct ifwatch *w)
{
	for (;;) {
		int rc = nl_recvmsgs_default(w->sk);
		if (rc >= 0)
			continue;
		if (rc == -NLE_AGAIN)
			return 0;
		if (rc == -NLE_NOMEM)
			return -ENOBUFS; /* the kernel's socket buffer overflowed */
		return nl_errno(rc);
	}
}

void ifwatch_close(struct ifwatch *w)
{
	if (!w)
		return;
	nl_socket_free(w->sk);
	free(w);
}

int ifwatch_query(const char *name, struct ifw_info *info)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *link = NULL;
	int rc;

	if (!sk)
		return -ENOMEM;
	rc = nl_connect(sk, NETLINK_ROUTE);
	if (rc == 0)
		rc = rtnl_link_get_kernel(sk, 0, name, &link);
	if (rc < 0) {
		nl_socket_free(sk);
		return nl_errno(rc);
	}
	fill_info(link, false, info);
	rtnl_link_put(link);
	nl_socket_free(sk);
	return 0;
}

const char *ifw_event_name(enum ifw_event e)
{
	switch (e) {
	case IFW_CARRIER_UP: return "carrier up";
	case IFW_CARRIER_DOWN: return "carrier down";
	case IFW_GONE: return "gone";
	}
	return "?";
}
