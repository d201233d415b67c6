/*
 * watchdog.h — hubd --auto-power-cycle[=SECONDS] (off by default): a board
 * whose link is up (interface there, carrier up) but silent — no frame of
 * any kind from it, neither keepalive, telemetry nor HELLO — for SECONDS,
 * on a USB port of ours, has its port power-cycled once by hubd itself
 * (through the port-power helper, power.h; the hub must switch ports one by
 * one, else usbdev refuses and that is logged). A port is cycled at most
 * once per WATCHDOG_INTERVAL_S; a silence inside that window is logged
 * ("held back"), not acted on. Each cycle is logged and counted
 * (hub.fo.power_cycles, `hubctl status`: failover.power_cycles). A real
 * board reboots; the node comes back by re-enrolling (nodes.c).
 *
 * Only boards that enrollment made are watched (an interface named on the
 * command line has no known port), and only once they have had a session
 * (the node entry's `sessions`, kept across a replug: a board that has
 * never answered may still be booting). Silence is measured from the link's
 * received-frame counter, sampled every round of hubd's loop.
 */
#ifndef USBFARM_HUB_WATCHDOG_H
#define USBFARM_HUB_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>

#define WATCHDOG_DEFAULT_S 60
#define WATCHDOG_INTERVAL_S 600	/* at most one cycle per port in 10 minutes */
#define WATCHDOG_OFF_MS 2000	/* the port's power off this long */

/* --auto-power-cycle: seconds of silence; 0: off */
extern unsigned watchdog_silent_s;

/* What the watchdog remembers of one node's link. */
struct wd_seen {
	const void *link;	/* NULL: not watched yet */
	uint64_t frames;	/* frames received at `since` */
	uint64_t since;		/* when a frame was last seen arriving (us) */
};

/* Samples LINK's received-frame count FRAMES at NOW: a new link, or a new
 * count, restarts the silence. Returns the silence so far (us). */
uint64_t wd_observe(struct wd_seen *w, const void *link, uint64_t frames, uint64_t now);

enum wd_verdict {
	WD_FINE,	/* not silent long enough */
	WD_CYCLE,	/* cycle the port now */
	WD_HELD		/* silent, but the port was cycled less than INTERVAL ago */
};
/* The rule: a node that ANSWERED once (had a session: it "stops
 * answering"; a board still booting, whose noded never spoke, is left
 * alone), SILENT_US of silence against SILENT_S; LAST_CYCLE (0: never)
 * against INTERVAL_S. */
enum wd_verdict wd_judge(bool answered, uint64_t silent_us, unsigned silent_s,
			 uint64_t last_cycle, uint64_t now, unsigned interval_s);

/* hubd's loop, every round: takes the helper's answer, watches each node. */
void watchdog_tick(uint64_t now);

#endif
