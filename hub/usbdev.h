/*
 * usbdev.h — a board's place on the USB tree and its port's power, through
 * libusb (and the kernel's port `disable` attribute where there is one).
 *
 * A board is named by its USB device's sysfs name ("1-2.4": bus 1, port 4
 * of the hub on port 2 of root hub 1), which hub/enroll.c reads from the
 * interface. usbdev_locate() asks libusb for the device's port path and
 * speed. usbdev_power_cycle() cuts and restores power to the port the board
 * hangs on: the parent hub must switch power per port (wHubCharacteristics
 * bits 1:0 == 01, read from its hub descriptor with libusb), else it
 * refuses with -ENOTSUP; then it writes 1 and 0 to the kernel's
 * `<hub>-port<N>/disable` attribute when that exists, or sends the hub
 * class requests ClearPortFeature/SetPortFeature(PORT_POWER) with libusb.
 * Library convention: 0 / negative errno; a sentence for the user in WHY.
 */
#ifndef USBFARM_HUB_USBDEV_H
#define USBFARM_HUB_USBDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USBDEV_MAX_DEPTH 7	/* USB allows 7 tiers: at most 6 hub ports below the root */

struct usbdev_place {
	unsigned bus;
	uint8_t ports[USBDEV_MAX_DEPTH];
	int nports;
	unsigned speed_mbps;	/* 0 unknown */
};

/* Splits a sysfs USB device name "B-P1.P2...": 0 or -EINVAL. */
int usbdev_parse_busport(const char *busport, struct usbdev_place *p);
/* "port 4 of hub 1-2" / "port 1 of root hub 1" */
void usbdev_describe(const struct usbdev_place *p, char *out, size_t cap);
/* The port-power switching mode from wHubCharacteristics: true when per port. */
bool usbdev_per_port_power(uint16_t whc);

/* libusb: the device at BUS/DEVNUM (sysfs busnum/devnum): its port path
 * and speed. 0, -ENODEV, -EIO. */
int usbdev_locate(unsigned bus, unsigned devnum, struct usbdev_place *p);

enum usbdev_via { USBDEV_VIA_ANY, USBDEV_VIA_SYSFS, USBDEV_VIA_LIBUSB };

/* Power-cycles the port of the device named BUSPORT, OFF_MS off. VIA picks
 * the path (ANY: the kernel attribute when it exists). 0; -ENOTSUP the hub
 * has no per-port power switching; -ENODEV; -EACCES; -EIO. WHY says what
 * was done or why not. */
int usbdev_power_cycle(const char *busport, unsigned off_ms, enum usbdev_via via, char *why, size_t cap);

#endif
