/*
 * test_enroll.c — hub/enroll.c: which interfaces are our boards, decided
 * from a fake sysfs tree (the net device's USB parent: VID:PID and product,
 * never the name), the scan at start, interface-name checks, the ENROLL
 * request/answer codec, and enroll_link_up on lo in a private network
 * namespace (root only; the real cdc_ether case runs in make check-usb).
 */
#include "../../hub/enroll.h"
#include "../../hub/proto.h"
#include "../../lib/ifwatch.h"
#include "../lib/test.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[PATH_MAX];

static void put(const char *rel, const char *text)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	FILE *f = fopen(p, "w");
	if (!f) { perror(p); exit(2); }
	fprintf(f, "%s\n", text);
	fclose(f);
}

static void mk(const char *rel)
{
	char cmd[PATH_MAX * 2];
	snprintf(cmd, sizeof cmd, "mkdir -p '%s/%s'", root, rel);
	if (system(cmd) != 0) exit(2);
}

/* class/net/NAME, its device link pointing at DEV (relative to root, or absolute) */
static void netdev(const char *name, const char *dev)
{
	char d[PATH_MAX * 2], l[PATH_MAX * 2];
	snprintf(d, sizeof d, "class/net/%s", name);
	mk(d);
	if (!dev)
		return;
	snprintf(l, sizeof l, "%s/class/net/%s/device", root, name);
	if (dev[0] == '/')
		snprintf(d, sizeof d, "%s", dev);
	else
		snprintf(d, sizeof d, "../../../%s", dev);
	if (symlink(d, l) < 0) { perror(l); exit(2); }
}

static void usbdev(const char *dir, const char *vid, const char *pid, const char *product, const char *serial)
{
	char p[PATH_MAX];
	mk(dir);
	snprintf(p, sizeof p, "%s/idVendor", dir); put(p, vid);
	snprintf(p, sizeof p, "%s/idProduct", dir); put(p, pid);
	snprintf(p, sizeof p, "%s/product", dir); put(p, product);
	snprintf(p, sizeof p, "%s/serial", dir); put(p, serial);
	snprintf(p, sizeof p, "%s/speed", dir); put(p, "480");
	snprintf(p, sizeof p, "%s/busnum", dir); put(p, "1");
	snprintf(p, sizeof p, "%s/devnum", dir); put(p, "7");
}

#define HC "devices/pci0000:00/0000:00:14.0/usb1"

static void make_tree(void)
{
	snprintf(root, sizeof root, "/tmp/usbfarm-enroll-u4.XXXXXX");
	if (!mkdtemp(root)) { perror("mkdtemp"); exit(2); }
	usbdev(HC, "1d6b", "0002", "xHCI Host Controller", "0000:00:14.0");	/* root hub */
	/* ours, on port 1 */
	usbdev(HC "/1-1", "1d6b", "0104", "usbfarm node", "B0ARD-1");
	mk(HC "/1-1/1-1:1.0/net/enx02aabbccdd01");
	netdev("enx02aabbccdd01", HC "/1-1/1-1:1.0");
	/* ours, behind an external hub on 1-2, port 4 */
	usbdev(HC "/1-2", "05e3", "0610", "USB2.1 Hub", "");
	usbdev(HC "/1-2/1-2.4", "1d6b", "0104", "usbfarm node", "B0ARD-2");
	mk(HC "/1-2/1-2.4/1-2.4:1.0");
	netdev("usbfarm-B0ARD-2", HC "/1-2/1-2.4/1-2.4:1.0");
	/* a USB Ethernet dongle that the kernel happened to call usb0 */
	usbdev(HC "/1-3", "0b95", "1790", "AX88179", "0000249B1E");
	mk(HC "/1-3/1-3:1.0");
	netdev("usb0", HC "/1-3/1-3:1.0");
	/* our VID:PID but another product string (another configfs gadget) */
	usbdev(HC "/1-5", "1d6b", "0104", "Multifunction Composite Gadget", "X");
	mk(HC "/1-5/1-5:1.0");
	netdev("usb1", HC "/1-5/1-5:1.0");
	/* not on USB: a veth; the board side of a gadget; a link out of the tree */
	netdev("veth0", NULL);
	mk("devices/platform/dummy_udc.0/gadget.0");
	netdev("usb2", "devices/platform/dummy_udc.0/gadget.0");
	netdev("evil", "/sys/devices/virtual/net/lo");
}

static int check1(const char *name)
{
	return enroll_check(name, NULL);
}

static void scan_cb(const char *name, void *user)
{
	char *seen = user;
	size_t n = strlen(seen);
	snprintf(seen + n, 256 - n, "[%s]", name);
}

static void test_match(void)
{
	struct enroll_usb u;

	T_CASE("enroll_ours_direct_port") {
		T_CHECK(enroll_usb_of(NULL, "enx02aabbccdd01", &u) == 0, "not found");
		T_CHECK(u.vid == 0x1d6b && u.pid == 0x0104, "%04x:%04x", u.vid, u.pid);
		T_CHECK(!strcmp(u.serial, "B0ARD-1"), "serial %s", u.serial);
		T_CHECK(!strcmp(u.busport, "1-1") && u.busnum == 1 && u.devnum == 7, "port %s", u.busport);
		T_CHECK(!strcmp(u.speed, "480"), "speed %s", u.speed);
		T_CHECK(enroll_check("enx02aabbccdd01", NULL) == 1, "not ours");
	}
	T_CASE("enroll_ours_behind_hub") {
		T_CHECK(enroll_check("usbfarm-B0ARD-2", &u) == 1, "not ours");
		T_CHECK(!strcmp(u.busport, "1-2.4") && !strcmp(u.serial, "B0ARD-2"), "%s %s", u.busport, u.serial);
	}
	T_CASE("enroll_dongle_named_usb0_refused") {
		T_CHECK(enroll_check("usb0", &u) == 0, "a dongle was taken");
		T_CHECK(u.vid == 0x0b95, "read %04x", u.vid);
	}
	T_CASE("enroll_same_id_other_product_refused")
		T_CHECK(enroll_check("usb1", NULL) == 0, "product not checked");
	T_CASE("enroll_not_usb_refused") {
		T_CHECK(enroll_check("veth0", NULL) == 0, "veth taken");
		T_CHECK(enroll_check("usb2", NULL) == 0, "gadget side taken");
		T_CHECK(enroll_check("evil", NULL) == 0, "a link out of the sysfs root was followed");
	}
	T_CASE("enroll_busport_ours_only_boards") {
		/* bus/usb/devices/NAME: links into devices/, as the kernel makes them */
		const char *const devs[] = { "1-1", "1-2", "1-2.4", "1-3", "1-5" };
		char l[PATH_MAX * 2], t[PATH_MAX];
		mk("bus/usb/devices");
		for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++) {
			snprintf(l, sizeof l, "%s/bus/usb/devices/%s", root, devs[i]);
			snprintf(t, sizeof t, "../../../" HC "/%s%s%s", strchr(devs[i], '.') ? "1-2/" : "", devs[i], "");
			if (symlink(t, l) < 0) { perror(l); exit(2); }
		}
		T_CHECK(enroll_busport_ours(NULL, "1-1") == 1, "a board on a root port");
		T_CHECK(enroll_busport_ours(NULL, "1-2.4") == 1, "a board behind a hub");
		T_CHECK(enroll_busport_ours(NULL, "1-2") == 0, "a hub");
		T_CHECK(enroll_busport_ours(NULL, "1-3") == 0, "a dongle");
		T_CHECK(enroll_busport_ours(NULL, "1-5") == 0, "another gadget's product");
		T_CHECK(enroll_busport_ours(NULL, "1-9") == -ENODEV, "missing");
		T_CHECK(enroll_busport_ours(NULL, "../1-1") == -EINVAL, "a path");
		T_CHECK(enroll_busport_ours(NULL, "usb1") == -EINVAL, "a root hub's name");
		T_CHECK(enroll_busport_ours(NULL, "") == -EINVAL && !enroll_busport_ok("-1") &&
			!enroll_busport_ok("1-1/x") && enroll_busport_ok("3-1.2.4"), "names");
	}
	T_CASE("enroll_missing_and_bad_names") {
		T_CHECK(enroll_check("nosuch", NULL) == -ENODEV, "missing");
		T_CHECK(enroll_check("../class", NULL) == -EINVAL, "slash");
		T_CHECK(enroll_check("..", NULL) == -EINVAL, "dotdot");
		T_CHECK(enroll_check("", NULL) == -EINVAL, "empty");
		T_CHECK(enroll_check("abcdefghijklmnop", NULL) == -EINVAL, "16 bytes");
		T_CHECK(enroll_ifname_ok("abcdefghijklmno"), "15 bytes refused");
	}
}

static void test_scan_codec(void)
{
	T_CASE("enroll_scan_finds_exactly_ours") {
		char seen[256] = "";
		int n = enroll_scan(NULL, scan_cb, seen);
		T_CHECK(n == 2, "found %d", n);
		T_CHECK(strstr(seen, "[enx02aabbccdd01]") && strstr(seen, "[usbfarm-B0ARD-2]"), "seen %s", seen);
	}
	T_CASE("enroll_codec") {
		struct buf b = BUF_INIT;
		char name[16], msg[ENROLL_MSG_MAX];
		int st;
		T_CHECK(enroll_encode_req(&b, "enx02aabbccdd01") == 0, "encode");
		T_CHECK(enroll_decode_req(b.data + 4, b.len - 4, name) == 0 && !strcmp(name, "enx02aabbccdd01"), "req");
		T_CHECK(proto_type(b.data + 4, b.len - 4) == PROTO_ENROLL_REQ, "type");
		for (size_t cut = 0; cut < b.len - 4; cut++)
			T_CHECK(enroll_decode_req(b.data + 4, cut, name) < 0, "truncated at %zu accepted", cut);
		T_CHECK(enroll_encode_req(&b, "a/b") < 0, "bad name encoded");
		buf_free(&b);
		/* a name that is no interface name is refused on decode too */
		struct buf r = BUF_INIT;
		proto_begin(&r, PROTO_ENROLL_REQ);
		buf_str(&r, "..");
		proto_end(&r);
		T_CHECK(enroll_decode_req(r.data + 4, r.len - 4, name) < 0, "'..' decoded");
		buf_free(&r);
		T_CHECK(enroll_encode_answer(&b, -ENODEV, "x: gone") == 0, "encode answer");
		T_CHECK(enroll_decode_answer(b.data + 4, b.len - 4, &st, msg, sizeof msg) == 0 && st == -ENODEV &&
			!strcmp(msg, "x: gone"), "answer %d %s", st, msg);
		T_CHECK(enroll_decode_answer(b.data + 4, b.len - 5, &st, msg, sizeof msg) < 0, "short answer");
		buf_free(&b);
	}
	T_CASE("enroll_serve") {
		struct buf req = BUF_INIT, out = BUF_INIT;
		char msg[ENROLL_MSG_MAX];
		int st;
		enroll_encode_req(&req, "usb0");
		T_CHECK(enroll_serve(&out, req.data + 4, req.len - 4, check1) == 0, "serve");
		T_CHECK(enroll_decode_answer(out.data + 4, out.len - 4, &st, msg, sizeof msg) == 0 && st == 0 &&
			strstr(msg, "not a usbfarm board"), "answer %d %s", st, msg);
		buf_free(&req);
		enroll_encode_req(&req, "usbfarm-B0ARD-2");
		enroll_serve(&out, req.data + 4, req.len - 4, check1);
		T_CHECK(enroll_decode_answer(out.data + 4, out.len - 4, &st, msg, sizeof msg) == 0 && st == 1, "ours %d", st);
		T_CHECK(enroll_serve(&out, req.data + 4, 3, check1) < 0, "malformed served");
		buf_free(&req);
		buf_free(&out);
	}
}

static void test_udev_and_link(void)
{
	T_CASE("enroll_waits_for_udev") {
		char udev[PATH_MAX + 8], seen[256] = "";
		snprintf(udev, sizeof udev, "%s/udev", root);
		setenv("USBFARM_UDEV", udev, 1);
		put("class/net/enx02aabbccdd01/ifindex", "7");
		T_CHECK(!enroll_wait_udev("enx02aabbccdd01"), "waits without udev running");
		mk("udev/data");
		put("udev/control", "");
		T_CHECK(enroll_wait_udev("enx02aabbccdd01"), "udev running, no db entry: no wait");
		T_CHECK(enroll_wait_udev("enx02aabbccdd01"), "second ask");
		enroll_retry(scan_cb, seen);
		T_CHECK(seen[0] == 0, "retried before udev finished: %s", seen);
		put("udev/data/n7", "");
		enroll_retry(scan_cb, seen);
		T_CHECK(!strcmp(seen, "[enx02aabbccdd01]"), "after udev: %s", seen);
		seen[0] = 0;
		enroll_retry(scan_cb, seen);
		T_CHECK(seen[0] == 0, "handed out twice: %s", seen);
		T_CHECK(!enroll_wait_udev("enx02aabbccdd01"), "waits after udev finished");
		/* renamed away while waiting: forgotten, not handed out */
		put("class/net/usbfarm-B0ARD-2/ifindex", "8");
		T_CHECK(enroll_wait_udev("usbfarm-B0ARD-2"), "no wait");
		char cmd[PATH_MAX * 3];
		snprintf(cmd, sizeof cmd, "mv '%s/class/net/usbfarm-B0ARD-2' '%s/class/net/renamed'", root, root);
		T_CHECK(system(cmd) == 0, "mv");
		enroll_retry(scan_cb, seen);
		T_CHECK(seen[0] == 0, "gone name handed out: %s", seen);
		/* renamed between the caller's check and this one (the
		 * ncm_udev_stable_names flake): wait, then forget it */
		T_CHECK(enroll_wait_udev("usbfarm-B0ARD-2"), "a name gone already was not held back");
		enroll_retry(scan_cb, seen);
		T_CHECK(seen[0] == 0, "gone name handed out: %s", seen);
		unsetenv("USBFARM_UDEV");
	}
	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0) {
		t_skip("enroll_link_up", "needs root to make a private network namespace");
	} else T_CASE("enroll_link_up") {
		struct ifw_info in;
		T_CHECK(ifwatch_query("lo", &in) == 0 && in.event == IFW_CARRIER_DOWN, "lo not down at first");
		T_CHECK(enroll_link_up("lo", 1500) == 0, "link up");
		T_CHECK(ifwatch_query("lo", &in) == 0 && in.event == IFW_CARRIER_UP && in.mtu == 1500,
			"lo: %s mtu %u", ifw_event_name(in.event), in.mtu);
		T_CHECK(enroll_link_up("lo", 0) == 0 && ifwatch_query("lo", &in) == 0 && in.mtu == 1500, "mtu kept");
		T_CHECK(enroll_link_up("nosuch0", 1500) == -ENODEV, "missing interface");
	}
}

int main(void)
{
	make_tree();
	setenv("USBFARM_SYSFS", root, 1);
	test_match();
	test_scan_codec();
	test_udev_and_link();
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	if (system(cmd) != 0)
		return 2;
	return t_done();
}
