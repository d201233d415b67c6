/*
 * watchdog.c — the automatic power-cycle of silent boards (watchdog.h): the
 * rule (wd_observe, wd_judge: no I/O, unit-tested) and its part of hubd's
 * loop (which nodes, their ports, the helper's answers, log and counter).
 *
 * Owns: the per-node samples and the per-port times of the last cycle.
 * Reads nodes[] (never writes it): the node's session ends by itself when
 * the port goes dark (netlink: the interface is removed, nodes.c).
 */
#include "watchdog.h"
#include "enroll.h"
#include "hub.h"
#include "nodes.h"
#include "power.h"

#include "../lib/ifwatch.h"
#include "../lib/log.h"

#include <stdio.h>
#include <string.h>

unsigned watchdog_silent_s;

static struct wd_seen seen[MAX_NODES];
static bool held_said[MAX_NODES];	/* "held back" logged for this silence */
static struct {
	char busport[32];
	uint64_t at;
} ports[MAX_NODES];
static char busy_port[32];

uint64_t wd_observe(struct wd_seen *w, const void *link, uint64_t frames, uint64_t now)
{
	if (w->link != link || frames != w->frames || now < w->since) {
		w->link = link;
		w->frames = frames;
		w->since = now;
	}
	return now - w->since;
}

enum wd_verdict wd_judge(bool answered, uint64_t silent_us, unsigned silent_s,
			 uint64_t last_cycle, uint64_t now, unsigned interval_s)
{
	if (!answered || !silent_s || silent_us < (uint64_t)silent_s * 1000000u)
		return WD_FINE;
	if (last_cycle && now - last_cycle < (uint64_t)interval_s * 1000000u)
		return WD_HELD;
	return WD_CYCLE;
}

/* The port's slot: found, else a free one, else the oldest. */
static uint64_t *port_last(const char *busport)
{
	int k = 0;
	for (int i = 0; i < MAX_NODES; i++) {
		if (!strcmp(ports[i].busport, busport))
			return &ports[i].at;
		if (ports[i].at < ports[k].at)
			k = i;
	}
	snprintf(ports[k].busport, sizeof ports[k].busport, "%s", busport);
	ports[k].at = 0;
	return &ports[k].at;
}

static void take_answer(void)
{
	char why[POWER_WHY_MAX] = "";
	int status = 0, rc = power_poll(&status, why, sizeof why);

	if (rc == 0)
		return;
	if (rc < 0) {
		log_warn("auto power-cycle: the port-power helper is gone (%s): watchdog off",
			 strerror(-rc));
		watchdog_silent_s = 0;
		return;
	}
	if (status == 0) {
		hub.fo.power_cycles++;
		log_info("auto power-cycle of USB %s done: %s", busy_port, why);
	} else {
		log_warn("auto power-cycle of USB %s failed: %s (%s)", busy_port, why,
			 strerror(-status));
	}
}

/* Node N is silent past the limit: cycle its port, or say why not. */
static void act(struct node *n, int i, uint64_t silent, uint64_t now)
{
	struct ifw_info in;
	struct enroll_usb u;

	if (ifwatch_query(n->iface, &in) < 0 || in.event != IFW_CARRIER_UP)
		return;		/* not "link up": carrier loss has its own path */
	if (enroll_check(n->iface, &u) != 1)
		return;
	uint64_t *last = port_last(u.busport);
	enum wd_verdict v = wd_judge(n->sessions > 0, silent, watchdog_silent_s, *last, now,
				     WATCHDOG_INTERVAL_S);
	if (v == WD_HELD) {
		if (!held_said[i])
			log_warn("%s: node %s silent for %.0f s, but USB %s was power-cycled %.0f s ago: "
				 "held back (at most once per %d s)", n->iface, n->peer, silent / 1e6,
				 u.busport, (now - *last) / 1e6, WATCHDOG_INTERVAL_S);
		held_said[i] = true;
		return;
	}
	int rc = power_request(u.busport, WATCHDOG_OFF_MS);
	if (rc < 0) {	/* the helper is gone (it could not drop to its one capability?) */
		log_warn("%s: cannot ask for the power-cycle of USB %s: %s: watchdog off", n->iface,
			 u.busport, strerror(-rc));
		watchdog_silent_s = 0;
		return;
	}
	*last = now;
	snprintf(busy_port, sizeof busy_port, "%s", u.busport);
	log_warn("%s: node %s silent for %.0f s with its link up: auto power-cycle of USB %s "
		 "(port off %d ms)", n->iface, n->peer[0] ? n->peer : "?", silent / 1e6, u.busport,
		 WATCHDOG_OFF_MS);
}

void watchdog_tick(uint64_t now)
{
	if (!watchdog_silent_s)
		return;
	take_answer();
	for (int i = 0; i < nnodes; i++) {
		struct node *n = &nodes[i];
		struct link_stats ls;
		if (!n->enrolled || !n->link || !n->sessions) {
			seen[i].link = NULL;
			held_said[i] = false;
			continue;
		}
		link_get_stats(n->link, &ls);
		uint64_t before = seen[i].since;
		uint64_t silent = wd_observe(&seen[i], n->link, ls.frames_rx, now);
		if (seen[i].since != before)
			held_said[i] = false;
		if (silent >= (uint64_t)watchdog_silent_s * 1000000u && !power_busy())
			act(n, i, silent, now);
	}
}
