/*
 * power.h — hubd's port-power helper, "hubd-power": the process that
 * power-cycles a board's USB port for the watchdog (hub/watchdog.c, hubd
 * --auto-power-cycle). Started only with that option, before the
 * dispatcher drops its privileges (privsep.h).
 *
 * The helper runs as the run-as user with CAP_DAC_OVERRIDE only: the
 * kernel's `<hub>-port<N>/disable` attribute and /dev/bus/usb are root's
 * files, nothing else is needed. It acts only on a USB device that is one
 * of our boards (enroll_busport_ours(): our VID:PID and product string,
 * read from sysfs by the helper itself), and answers each request with one
 * answer: usbdev_power_cycle()'s status (0, -ENOTSUP: the hub cannot switch
 * that port, -errno) and its sentence.
 *
 * The dispatcher never waits for it: power_request() sends (at most one
 * request outstanding), power_poll() takes the answer when it is there.
 * Wire (SOCK_SEQPACKET): request u32 off_ms, u16 length + busport; answer
 * u32 status (two's complement), u16 length + sentence.
 */
#ifndef USBFARM_HUB_POWER_H
#define USBFARM_HUB_POWER_H

#include <stdbool.h>
#include <stddef.h>

#define POWER_WHY_MAX 256

/* Forks the helper (hubd still root, or not root at all: then it keeps
 * what hubd has). 0 or -errno. */
int power_start(void);
/* Is a request outstanding? */
bool power_busy(void);
/* Asks for BUSPORT's port off for OFF_MS, then on. 0; -EBUSY one is
 * outstanding; -ENOTCONN no helper; -errno. */
int power_request(const char *busport, unsigned off_ms);
/* 1 and the answer (STATUS, WHY) when it has come, 0 not yet (or nothing
 * outstanding), -errno when the helper is gone. */
int power_poll(int *status, char *why, size_t cap);

#endif
