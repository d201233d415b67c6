/*
 * usbdev.c — port paths, speeds and port power through libusb and sysfs
 * (see usbdev.h). usbdev_locate() keeps one libusb context and device list
 * for the process (hubctl status asks once per node: one enumeration, not
 * one per node); usbdev_power_cycle() opens and closes its own.
 */
#include "usbdev.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libusb.h>

#define USB_DT_HUB 0x29
#define USB_DT_SS_HUB 0x2a
#define USB_PORT_FEAT_POWER 8

int usbdev_parse_busport(const char *s, struct usbdev_place *p)
{
	char *end;
	unsigned long v;

	memset(p, 0, sizeof *p);
	v = strtoul(s, &end, 10);
	if (end == s || *end != '-' || v == 0 || v > 255)
		return -EINVAL;
	p->bus = (unsigned)v;
	s = end + 1;
	for (;;) {
		v = strtoul(s, &end, 10);
		if (end == s || v == 0 || v > 255 || p->nports == USBDEV_MAX_DEPTH)
			return -EINVAL;
		p->ports[p->nports++] = (uint8_t)v;
		if (*end == 0)
			return 0;
		if (*end != '.')
			return -EINVAL;
		s = end + 1;
	}
}

/* The sysfs name of the hub the device hangs on: "usbB" or "B-P1...". */
static void parent_name(const struct usbdev_place *p, char *out, size_t cap)
{
	int n;
	if (p->nports <= 1) {
		snprintf(out, cap, "usb%u", p->bus);
		return;
	}
	n = snprintf(out, cap, "%u-", p->bus);
	for (int i = 0; i < p->nports - 1 && n > 0 && (size_t)n < cap; i++)
		n += snprintf(out + n, cap - (size_t)n, "%s%u", i ? "." : "", p->ports[i]);
}

void usbdev_describe(const struct usbdev_place *p, char *out, size_t cap)
{
	char hub[64];
	if (p->nports == 0) {
		snprintf(out, cap, "root hub %u", p->bus);
		return;
	}
	parent_name(p, hub, sizeof hub);
	if (p->nports == 1)
		snprintf(out, cap, "port %u of root hub %u", p->ports[0], p->bus);
	else
		snprintf(out, cap, "port %u of hub %s", p->ports[p->nports - 1], hub);
}

bool usbdev_per_port_power(uint16_t whc)
{
	return (whc & 0x3) == 0x1;
}

static unsigned speed_mbps(int s)
{
	switch (s) {
	case LIBUSB_SPEED_LOW: return 1;	/* 1.5 */
	case LIBUSB_SPEED_FULL: return 12;
	case LIBUSB_SPEED_HIGH: return 480;
	case LIBUSB_SPEED_SUPER: return 5000;
	case LIBUSB_SPEED_SUPER_PLUS: return 10000;
	default: return 0;
	}
}

int usbdev_locate(unsigned bus, unsigned devnum, struct usbdev_place *p)
{
	static libusb_context *ctx;
	static libusb_device **list;
	static ssize_t n = -1;

	memset(p, 0, sizeof *p);
	if (!ctx) {
		if (libusb_init(&ctx) < 0) {
			ctx = NULL;
			return -EIO;
		}
		n = libusb_get_device_list(ctx, &list);
	}
	for (ssize_t i = 0; i < n; i++) {
		libusb_device *d = list[i];
		if (libusb_get_bus_number(d) != bus || libusb_get_device_address(d) != devnum)
			continue;
		p->bus = bus;
		int k = libusb_get_port_numbers(d, p->ports, USBDEV_MAX_DEPTH);
		p->nports = k < 0 ? 0 : k;
		p->speed_mbps = speed_mbps(libusb_get_device_speed(d));
		return 0;
	}
	return -ENODEV;
}

/* The libusb device of the hub P hangs on (a root hub has no port path). */
static libusb_device *find_parent(libusb_device **list, ssize_t n, const struct usbdev_place *p)
{
	for (ssize_t i = 0; i < n; i++) {
		uint8_t ports[USBDEV_MAX_DEPTH];
		libusb_device *d = list[i];
		if (libusb_get_bus_number(d) != p->bus)
			continue;
		int k = libusb_get_port_numbers(d, ports, USBDEV_MAX_DEPTH);
		if (k != p->nports - 1 || (k > 0 && memcmp(ports, p->ports, (size_t)k) != 0))
			continue;
		struct libusb_device_descriptor dd;
		if (libusb_get_device_descriptor(d, &dd) == 0 && dd.bDeviceClass == LIBUSB_CLASS_HUB)
			return d;
	}
	return NULL;
}

static int usb_errno(int rc)
{
	switch (rc) {
	case LIBUSB_ERROR_ACCESS: return -EACCES;
	case LIBUSB_ERROR_NO_DEVICE: case LIBUSB_ERROR_NOT_FOUND: return -ENODEV;
	case LIBUSB_ERROR_NOT_SUPPORTED: return -ENOTSUP;
	case LIBUSB_ERROR_PIPE: return -EPIPE;
	default: return -EIO;
	}
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int write_attr(const char *path, const char *v)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -errno;
	int rc = fputs(v, f) < 0 ? -EIO : 0;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* The kernel's <hub>-port<N>/disable attribute, if this kernel has one. */
static bool disable_attr(const struct usbdev_place *p, char *out, size_t cap)
{
	const char *root = getenv("USBFARM_SYSFS");
	char hub[64], pat[PATH_MAX];
	glob_t g;
	bool found = false;

	parent_name(p, hub, sizeof hub);
	snprintf(pat, sizeof pat, "%s/bus/usb/devices/%s/*/%s-port%u/disable", root && *root ? root : "/sys",
		 hub, hub, p->ports[p->nports - 1]);
	if (glob(pat, 0, NULL, &g) == 0 && g.gl_pathc == 1) {
		snprintf(out, cap, "%s", g.gl_pathv[0]);
		found = true;
	}
	globfree(&g);
	return found;
}

/* Reads the hub's descriptor; 0 and *whc, or -errno. */
static int hub_characteristics(libusb_device_handle *h, bool superspeed, uint16_t *whc)
{
	unsigned char d[32];
	int rc = libusb_control_transfer(h, LIBUSB_ENDPOINT_IN | LIBUSB_REQUEST_TYPE_CLASS | LIBUSB_RECIPIENT_DEVICE,
					 LIBUSB_REQUEST_GET_DESCRIPTOR,
					 (uint16_t)((superspeed ? USB_DT_SS_HUB : USB_DT_HUB) << 8), 0, d, sizeof d, 2000);
	if (rc < 0)
		return usb_errno(rc);
	if (rc < 5)
		return -EIO;
	*whc = (uint16_t)(d[3] | d[4] << 8);
	return 0;
}

static int port_power(libusb_device_handle *h, unsigned port, bool on)
{
	int rc = libusb_control_transfer(h, LIBUSB_ENDPOINT_OUT | LIBUSB_REQUEST_TYPE_CLASS | LIBUSB_RECIPIENT_OTHER,
					 on ? LIBUSB_REQUEST_SET_FEATURE : LIBUSB_REQUEST_CLEAR_FEATURE,
					 USB_PORT_FEAT_POWER, (uint16_t)port, NULL, 0, 2000);
	return rc < 0 ? usb_errno(rc) : 0;
}

static int cycle(libusb_device *hub, const struct usbdev_place *p, unsigned off_ms, enum usbdev_via via,
		 char *why, size_t cap)
{
	libusb_device_handle *h = NULL;
	char hn[64], attr[PATH_MAX];
	unsigned port = p->ports[p->nports - 1];
	uint16_t whc = 0;
	int rc;

	parent_name(p, hn, sizeof hn);
	rc = libusb_open(hub, &h);
	if (rc < 0) {
		snprintf(why, cap, "cannot open hub %s: %s", hn, libusb_strerror(rc));
		return usb_errno(rc);
	}
	rc = hub_characteristics(h, libusb_get_device_speed(hub) >= LIBUSB_SPEED_SUPER, &whc);
	if (rc < 0) {
		snprintf(why, cap, "cannot read the hub descriptor of %s: %s", hn, strerror(-rc));
	} else if (!usbdev_per_port_power(whc)) {
		snprintf(why, cap, "hub %s has no per-port power switching (wHubCharacteristics 0x%04x: %s)", hn, whc,
			 (whc & 3) == 0 ? "ganged" : "no power switching");
		rc = -ENOTSUP;
	} else if (via != USBDEV_VIA_LIBUSB && disable_attr(p, attr, sizeof attr)) {
		rc = write_attr(attr, "1");
		sleep_ms(off_ms);
		int rc2 = write_attr(attr, "0");
		rc = rc < 0 ? rc : rc2;
		snprintf(why, cap, "port %u of %s: %s through %s", port, hn, rc < 0 ? strerror(-rc) : "power cycled", attr);
	} else if (via == USBDEV_VIA_SYSFS) {
		snprintf(why, cap, "port %u of %s: no kernel disable attribute", port, hn);
		rc = -ENOENT;
	} else {
		rc = port_power(h, port, false);
		sleep_ms(off_ms);
		int rc2 = port_power(h, port, true);
		rc = rc < 0 ? rc : rc2;
		snprintf(why, cap, "port %u of %s: %s with Clear/SetPortFeature(PORT_POWER) (libusb)", port, hn,
			 rc < 0 ? strerror(-rc) : "power cycled");
	}
	libusb_close(h);
	return rc;
}

int usbdev_power_cycle(const char *busport, unsigned off_ms, enum usbdev_via via, char *why, size_t cap)
{
	struct usbdev_place p;
	libusb_context *ctx;
	libusb_device **list;
	ssize_t n;
	int rc;

	if (usbdev_parse_busport(busport, &p) < 0) {
		snprintf(why, cap, "'%s' is not a USB device name", busport);
		return -EINVAL;
	}
	if (libusb_init(&ctx) < 0) {
		snprintf(why, cap, "libusb: cannot initialise");
		return -EIO;
	}
	n = libusb_get_device_list(ctx, &list);
	libusb_device *hub = n > 0 ? find_parent(list, n, &p) : NULL;
	if (!hub) {
		snprintf(why, cap, "no hub above %s in libusb's device list", busport);
		rc = -ENODEV;
	} else {
		rc = cycle(hub, &p, off_ms, via, why, cap);
	}
	if (n >= 0)
		libusb_free_device_list(list, 1);
	libusb_exit(ctx);
	return rc;
}
