/*
 * test_ifwatch.c — carrier, MTU and removal events from rtnetlink, on a veth
 * pair made inside a private network namespace (unshare), so the machine's
 * own interfaces are never touched. Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN).
 */
#include "ifwatch.h"
#include "../lib/test.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct seen {
	int up, down, gone;
	unsigned last_mtu;
};

static void on_event(const struct ifw_info *in, void *user)
{
	struct seen *s = user;
	if (strcmp(in->name, "tifw0") != 0)
		return;
	if (in->event == IFW_CARRIER_UP)
		s->up++;
	else if (in->event == IFW_CARRIER_DOWN)
		s->down++;
	else
		s->gone++;
	s->last_mtu = in->mtu;
}

/* Drains events for up to ms milliseconds or until cond holds. */
static void pump(struct ifwatch *w, int ms, int *counter)
{
	int start = *counter;
	for (int waited = 0; waited < ms && *counter == start; waited += 50) {
		struct pollfd p = { ifwatch_fd(w), POLLIN, 0 };
		if (poll(&p, 1, 50) > 0)
			ifwatch_process(w);
	}
}

static int sh(const char *cmd)
{
	int rc = system(cmd);
	return rc;
}

int main(void)
{
	struct ifwatch *w = NULL;
	struct seen s = { 0 };

	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0) {
		t_skip("ifwatch", "needs root to make a private network namespace");
		return 0;
	}
	T_CASE("ifwatch_open") {
		T_CHECK(ifwatch_open(on_event, &s, &w) == 0, "ifwatch_open failed");
	}
	if (!w)
		return t_done();
	T_CASE("query_missing_is_enodev") {
		struct ifw_info in;
		T_CHECK(ifwatch_query("tifw0", &in) == -ENODEV, "query of a missing interface");
	}
	T_CASE("carrier_up_event_and_query") {
		T_CHECK(sh("ip link add tifw0 mtu 1400 type veth peer name tifw1 && "
			   "ip link set tifw0 up && ip link set tifw1 up") == 0, "ip link add failed");
		pump(w, 3000, &s.up);
		T_CHECK(s.up >= 1, "no carrier-up event");
		struct ifw_info in;
		T_CHECK(ifwatch_query("tifw0", &in) == 0, "query failed");
		T_CHECK(in.event == IFW_CARRIER_UP && in.mtu == 1400 && in.ifindex > 0,
			"query: event %d mtu %u", in.event, in.mtu);
	}
	T_CASE("peer_down_is_carrier_down") {
		T_CHECK(sh("ip link set tifw1 down") == 0, "ip link set down failed");
		pump(w, 3000, &s.down);
		T_CHECK(s.down >= 1, "no carrier-down event when the peer went down");
		struct ifw_info in;
		T_CHECK(ifwatch_query("tifw0", &in) == 0 && in.event == IFW_CARRIER_DOWN,
			"query says %d", in.event);
	}
	T_CASE("mtu_change_reported") {
		T_CHECK(sh("ip link set tifw0 mtu 1500") == 0, "ip link set mtu failed");
		int before = s.down + s.up;
		int total = before;
		for (int i = 0; i < 60 && s.last_mtu != 1500; i++) {
			pump(w, 50, &total);
			total = s.down + s.up;
		}
		T_CHECK(s.last_mtu == 1500, "last mtu seen %u", s.last_mtu);
	}
	T_CASE("removal_is_gone") {
		T_CHECK(sh("ip link del tifw0") == 0, "ip link del failed");
		pump(w, 3000, &s.gone);
		T_CHECK(s.gone >= 1, "no gone event");
	}
	ifwatch_close(w);
	return t_done();
}
