/*
 * enroll.c — is this interface one of our boards (sysfs), and bring it up
 * (libnl-route). See enroll.h for the rules; nothing here logs.
 */
#include "enroll.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

#include "../lib/cursor.h"
#include "proto.h"

/* how far above the net device's `device` the USB device may be (the USB
 * interface is one level; allow a few for drivers with extra layers) */
#define MAX_UP 4

static const char *sysroot(const char *root)
{
	if (root)
		return root;
	const char *e = getenv("USBFARM_SYSFS");
	return e && *e ? e : "/sys";
}

bool enroll_ifname_ok(const char *name)
{
	size_t n = name ? strnlen(name, IFNAMSIZ) : 0;
	if (n == 0 || n >= IFNAMSIZ || strchr(name, '/'))
		return false;
	return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* The first line of DIR/NAME without its newline; false if unreadable. */
static bool attr(const char *dir, const char *name, char *out, size_t cap)
{
	char path[PATH_MAX];
	FILE *f;
	bool ok = false;

	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
		return false;
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fgets(out, (int)cap, f)) {
		out[strcspn(out, "\n")] = 0;
		ok = true;
	}
	fclose(f);
	return ok;
}

static bool attr_hex(const char *dir, const char *name, unsigned *v)
{
	char s[16], *end;
	if (!attr(dir, name, s, sizeof s))
		return false;
	unsigned long x = strtoul(s, &end, 16);
	if (end == s || *end || x > 0xffff)
		return false;
	*v = (unsigned)x;
	return true;
}

static unsigned attr_uint(const char *dir, const char *name)
{
	char s[16];
	return attr(dir, name, s, sizeof s) ? (unsigned)strtoul(s, NULL, 10) : 0;
}

/* Climbs from the net device's `device` to the nearest directory that has
 * idVendor, without leaving ROOT/devices. */
static int usb_dir(const char *root, const char *ifname, char dir[PATH_MAX])
{
	char path[PATH_MAX], top[PATH_MAX], rroot[PATH_MAX];
	char *s;

	if (snprintf(path, sizeof path, "%s/class/net/%s", root, ifname) >= (int)sizeof path)
		return -ENAMETOOLONG;
	if (access(path, F_OK) < 0)
		return -ENODEV;
	strcat(path, "/device");
	if (!realpath(path, dir))
		return -ENOENT;		/* a virtual device: veth, lo, ... */
	if (!realpath(root, rroot))
		return -ENOENT;
	if (snprintf(top, sizeof top, "%s/devices/", rroot) >= (int)sizeof top)
		return -ENAMETOOLONG;
	for (int up = 0; up <= MAX_UP; up++) {
		if (strncmp(dir, top, strlen(top)) != 0)
			return -ENOENT;
		char v[8];
		if (attr(dir, "idVendor", v, sizeof v))
			return 0;
		s = strrchr(dir, '/');
		if (!s)
			return -ENOENT;
		*s = 0;
	}
	return -ENOENT;
}

int enroll_usb_of(const char *root, const char *ifname, struct enroll_usb *u)
{
	char dir[PATH_MAX];
	int rc;

	memset(u, 0, sizeof *u);
	if (!enroll_ifname_ok(ifname))
		return -EINVAL;
	rc = usb_dir(sysroot(root), ifname, dir);
	if (rc < 0)
		return rc;
	if (!attr_hex(dir, "idVendor", &u->vid) || !attr_hex(dir, "idProduct", &u->pid))
		return -ENOENT;
	attr(dir, "product", u->product, sizeof u->product);
	attr(dir, "serial", u->serial, sizeof u->serial);
	attr(dir, "speed", u->speed, sizeof u->speed);
	u->busnum = attr_uint(dir, "busnum");
	u->devnum = attr_uint(dir, "devnum");
	snprintf(u->busport, sizeof u->busport, "%s", strrchr(dir, '/') + 1);
	return 0;
}

bool enroll_is_ours(const struct enroll_usb *u)
{
	return u->vid == ENROLL_VID && u->pid == ENROLL_PID && !strcmp(u->product, ENROLL_PRODUCT);
}

bool enroll_busport_ok(const char *busport)
{
	size_t n = busport ? strnlen(busport, sizeof ((struct enroll_usb *)0)->busport) : 0;
	if (n == 0 || n >= sizeof ((struct enroll_usb *)0)->busport || !strchr(busport, '-'))
		return false;
	return strspn(busport, "0123456789-.") == n && busport[0] != '-' && busport[0] != '.';
}

int enroll_busport_ours(const char *root, const char *busport)
{
	char dir[PATH_MAX], product[128] = "";
	struct enroll_usb u = { 0 };

	if (!enroll_busport_ok(busport))
		return -EINVAL;
	if (snprintf(dir, sizeof dir, "%s/bus/usb/devices/%s", sysroot(root), busport) >=
	    (int)sizeof dir)
		return -ENAMETOOLONG;
	if (access(dir, F_OK) < 0)
		return -ENODEV;
	if (!attr_hex(dir, "idVendor", &u.vid) || !attr_hex(dir, "idProduct", &u.pid))
		return 0;
	attr(dir, "product", product, sizeof product);
	snprintf(u.product, sizeof u.product, "%s", product);
	return enroll_is_ours(&u) ? 1 : 0;
}

int enroll_check(const char *ifname, struct enroll_usb *u)
{
	struct enroll_usb tmp;
	if (!u)
		u = &tmp;
	int rc = enroll_usb_of(NULL, ifname, u);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	return enroll_is_ours(u) ? 1 : 0;
}

static int nl_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_NOMEM: return -ENOMEM;
	case NLE_OBJ_NOTFOUND: case NLE_NODEV: return -ENODEV;
	case NLE_PERM: return -EPERM;
	case NLE_NOACCESS: return -EACCES;
	case NLE_INVAL: case NLE_RANGE: return -EINVAL;
	case NLE_BUSY: return -EBUSY;
	default: return -EIO;
	}
}

static int link_change(struct nl_sock *sk, struct rtnl_link *orig, unsigned mtu)
{
	struct rtnl_link *chg = rtnl_link_alloc();
	int rc;

	if (!chg)
		return -NLE_NOMEM;
	rtnl_link_set_flags(chg, IFF_UP);
	if (mtu)
		rtnl_link_set_mtu(chg, mtu);
	rc = rtnl_link_change(sk, orig, chg, 0);
	rtnl_link_put(chg);
	return rc;
}

int enroll_link_up(const char *ifname, unsigned mtu)
{
	struct nl_sock *sk;
	struct rtnl_link *orig = NULL;
	int rc;

	if (!enroll_ifname_ok(ifname))
		return -EINVAL;
	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	rc = nl_connect(sk, NETLINK_ROUTE);
	if (rc == 0)
		rc = rtnl_link_get_kernel(sk, 0, ifname, &orig);
	if (rc == 0 && mtu && rtnl_link_get_mtu(orig) == mtu)
		mtu = 0;
	if (rc == 0 && !(mtu == 0 && (rtnl_link_get_flags(orig) & IFF_UP))) {
		rc = link_change(sk, orig, mtu);
		if (rc < 0 && mtu)	/* the device's limit is lower: keep its MTU */
			rc = link_change(sk, orig, 0);
	}
	if (orig)
		rtnl_link_put(orig);
	nl_socket_free(sk);
	return rc < 0 ? nl_errno(rc) : 0;
}

int enroll_scan(const char *root, void (*cb)(const char *ifname, void *user), void *user)
{
	char path[PATH_MAX];
	struct dirent *e;
	struct enroll_usb u;
	int found = 0;
	DIR *d;

	root = sysroot(root);
	if (snprintf(path, sizeof path, "%s/class/net", root) >= (int)sizeof path)
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !enroll_ifname_ok(e->d_name))
			continue;
		if (enroll_usb_of(root, e->d_name, &u) == 0 && enroll_is_ours(&u)) {
			found++;
			cb(e->d_name, user);
		}
	}
	closedir(d);
	return found;
}

/* ---- waiting for udev ---- */

static char pending[ENROLL_PENDING_MAX][IFNAMSIZ];

static const char *udevrun(void)
{
	const char *e = getenv("USBFARM_UDEV");
	return e && *e ? e : "/run/udev";
}

/* 1 udev is running and has not finished with IFACE; 0 it has or is not
 * running; -ENODEV the interface is gone. */
static int udev_busy(const char *ifname)
{
	char path[PATH_MAX], idx[16];

	if (snprintf(path, sizeof path, "%s/control", udevrun()) >= (int)sizeof path || access(path, F_OK) < 0)
		return 0;
	if (snprintf(path, sizeof path, "%s/class/net/%s", sysroot(NULL), ifname) >= (int)sizeof path ||
	    !attr(path, "ifindex", idx, sizeof idx))
		return -ENODEV;
	char db[PATH_MAX], again[16];
	if (snprintf(db, sizeof db, "%s/data/n%s", udevrun(), idx) >= (int)sizeof db)
		return 0;
	if (access(db, F_OK) < 0)
		return 1;
	/* udev may have renamed the interface and written its entry between
	 * the ifindex read and the entry's check: the name must still be that
	 * interface, else it is gone (the renamed one comes as a new name). */
	if (!attr(path, "ifindex", again, sizeof again) || strcmp(again, idx) != 0)
		return -ENODEV;
	return 0;
}

bool enroll_wait_udev(const char *ifname)
{
	int free_slot = -1;

	/* gone (-ENODEV: renamed by udev since the caller looked) counts as
	 * busy: remembered, enroll_retry() forgets it. Enrolling it would make
	 * a node under a kernel name that the next board gets, and bringing
	 * that one up would make udev's rename of it fail. */
	if (!enroll_ifname_ok(ifname) || udev_busy(ifname) == 0)
		return false;
	for (int i = 0; i < ENROLL_PENDING_MAX; i++) {
		if (!strcmp(pending[i], ifname))
			return true;
		if (!pending[i][0] && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return false;	/* too many at once: do not wait for this one */
	snprintf(pending[free_slot], sizeof pending[free_slot], "%s", ifname);
	return true;
}

void enroll_retry(void (*cb)(const char *ifname, void *user), void *user)
{
	for (int i = 0; i < ENROLL_PENDING_MAX; i++) {
		if (!pending[i][0])
			continue;
		int b = udev_busy(pending[i]);
		if (b == 1)
			continue;
		char name[IFNAMSIZ];
		memcpy(name, pending[i], sizeof name);
		pending[i][0] = 0;
		if (b == 0)
			cb(name, user);
	}
}

/* ---- the ENROLL request on hubd's socket ---- */

int enroll_encode_req(struct buf *b, const char *ifname)
{
	if (!enroll_ifname_ok(ifname))
		return -EINVAL;
	proto_begin(b, PROTO_ENROLL_REQ);
	buf_str(b, ifname);
	return proto_end(b);
}

int enroll_decode_req(const uint8_t *p, size_t len, char ifname[16])
{
	struct cursor c = cur_init(p, len);
	if (cur_u8(&c) != PROTO_VERSION || cur_u8(&c) != PROTO_ENROLL_REQ)
		return -EPROTO;
	if (!cur_str(&c, ifname, 16) || !cur_done(&c) || !enroll_ifname_ok(ifname))
		return -EPROTO;
	return 0;
}

int enroll_encode_answer(struct buf *b, int status, const char *msg)
{
	proto_begin(b, PROTO_ENROLL);
	buf_u32(b, (uint32_t)status);
	buf_str(b, strnlen(msg, ENROLL_MSG_MAX) < ENROLL_MSG_MAX ? msg : "(message too long)");
	return proto_end(b);
}

int enroll_decode_answer(const uint8_t *p, size_t len, int *status, char *msg, size_t cap)
{
	struct cursor c = cur_init(p, len);
	if (cur_u8(&c) != PROTO_VERSION || cur_u8(&c) != PROTO_ENROLL)
		return -EPROTO;
	uint32_t s = cur_u32(&c);
	if (!cur_str(&c, msg, cap) || !cur_done(&c))
		return -EPROTO;
	*status = (int)(int32_t)s;
	return 0;
}

int enroll_serve(struct buf *out, const uint8_t *p, size_t len, int (*enroll)(const char *ifname))
{
	char name[16], msg[ENROLL_MSG_MAX];
	int rc = enroll_decode_req(p, len, name);

	if (rc < 0)
		return rc;
	rc = enroll(name);
	if (rc > 0)
		snprintf(msg, sizeof msg, "%s: enrolled", name);
	else if (rc == 0)
		snprintf(msg, sizeof msg, "%s: not a usbfarm board (its USB device is not %04x:%04x \"%s\")",
			 name, ENROLL_VID, ENROLL_PID, ENROLL_PRODUCT);
	else if (rc == -EINPROGRESS)
		snprintf(msg, sizeof msg, "%s: a usbfarm board; enrolled once udev has finished with it", name);
	else
		snprintf(msg, sizeof msg, "%s: %s", name, strerror(-rc));
	buf_free(out);
	return enroll_encode_answer(out, rc, msg);
}
