/*
 * test_opener.c — hub/opener.c and the adopting half of lib/rawio.c: the
 * request parser's table (every refused form), then, as root in a private
 * network namespace with a veth pair and a fake sysfs that makes one end a
 * usbfarm board, the real opener process: its capability sets, links opened
 * for a configured interface and for a board, a board brought up with an
 * MTU, refusals (not allowed, missing, malformed, oversized) after which it
 * keeps serving, the adopt checks (wrong socket kinds refused), and the
 * dispatcher exiting when the opener is killed.
 */
#include "../../hub/opener.h"
#include "../../hub/privsep.h"
#include "../../lib/rawio.h"
#include "../lib/test.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct opener_req req(uint32_t op, uint32_t mtu, const char *name)
{
	struct opener_req r;
	memset(&r, 0, sizeof r);
	r.magic = OPENER_MAGIC;
	r.op = op;
	r.seq = 7;
	r.mtu = mtu;
	memcpy(r.ifname, name, strnlen(name, sizeof r.ifname));
	return r;
}

static void test_parser(void)
{
	struct opener_req r, out;
	uint8_t big[sizeof r + 1];

	T_CASE("parse-valid") {
		r = req(OPENER_OPEN, 0, "eth0");
		T_CHECK(opener_parse_req(&r, sizeof r, &out) == 0 && !strcmp(out.ifname, "eth0") &&
			out.seq == 7, "open");
		r = req(OPENER_UP, 1500, "usbfarm-1.2");
		T_CHECK(opener_parse_req(&r, sizeof r, &out) == 0 && out.mtu == 1500, "up 1500");
		r = req(OPENER_UP, 0, "abcdefghijklmno");	/* 15 bytes */
		T_CHECK(opener_parse_req(&r, sizeof r, &out) == 0, "up 0, 15-byte name");
	}
	T_CASE("parse-size") {
		r = req(OPENER_OPEN, 0, "eth0");
		T_CHECK(opener_parse_req(&r, sizeof r - 1, &out) == -EMSGSIZE, "short");
		T_CHECK(opener_parse_req(&r, 0, &out) == -EMSGSIZE, "empty");
		memset(big, 0, sizeof big);
		memcpy(big, &r, sizeof r);
		T_CHECK(opener_parse_req(big, sizeof big, &out) == -EMSGSIZE, "one byte too many");
	}
	T_CASE("parse-fields") {
		r = req(OPENER_OPEN, 0, "eth0");
		r.magic ^= 1;
		T_CHECK(opener_parse_req(&r, sizeof r, &out) == -EINVAL, "magic");
		uint32_t ops[] = { 0, 3, 0x80000001u };
		for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
			r = req(ops[i], 0, "eth0");
			T_CHECK(opener_parse_req(&r, sizeof r, &out) == -EINVAL, "op %u", ops[i]);
		}
		r = req(OPENER_OPEN, 1500, "eth0");
		T_CHECK(opener_parse_req(&r, sizeof r, &out) == -EINVAL, "open with an mtu");
		uint32_t mtus[] = { 1, 255, 65536, 0xffffffffu };
		for (size_t i = 0; i < sizeof mtus / sizeof mtus[0]; i++) {
			r = req(OPENER_UP, mtus[i], "eth0");
			T_CHECK(opener_parse_req(&r, sizeof r, &out) == -EINVAL, "mtu %u", mtus[i]);
		}
	}
	T_CASE("parse-names") {
		const char *bad[] = { "", ".", "..", "a/b", "/", "../x", "a:b", "a b", "\tx", "x\n",
				      "\x7f", "\xc3\xa9th0" };
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			r = req(OPENER_OPEN, 0, bad[i]);
			T_CHECK(opener_parse_req(&r, sizeof r, &out) == -EINVAL, "name #%zu '%s'", i, bad[i]);
		}
		r = req(OPENER_OPEN, 0, "");
		memset(r.ifname, 'a', sizeof r.ifname);		/* 16 bytes, no NUL */
		T_CHECK(opener_parse_req(&r, sizeof r, &out) == -EINVAL, "no NUL");
		r = req(OPENER_OPEN, 0, "eth0");
		r.ifname[6] = 'x';				/* bytes after the NUL */
		T_CHECK(opener_parse_req(&r, sizeof r, &out) == -EINVAL, "garbage after NUL");
		T_CHECK(opener_name_ok("usb0") && opener_name_ok("enx0011223344") && !opener_name_ok("..") &&
			!opener_name_ok("a/b") && !opener_name_ok("abcdefghijklmnop"), "name_ok");
	}
}

/* ---- the live opener (root) ---- */

static char root[PATH_MAX];

static void sh(const char *fmt, const char *arg)
{
	char cmd[PATH_MAX * 2 + 256];
	snprintf(cmd, sizeof cmd, fmt, arg, arg, arg);
	if (system(cmd) != 0) {
		fprintf(stderr, "failed: %s\n", cmd);
		exit(2);
	}
}

/* A fake sysfs where p2ob0 is our board (usbfarm VID:PID, product) and
 * p2oc0, lo are not on USB; readable by the opener's user. */
static void fake_sysfs(void)
{
	snprintf(root, sizeof root, "/tmp/test_opener.XXXXXX");
	if (!mkdtemp(root))
		exit(2);
	sh("mkdir -p %s/devices/usb1/1-1/1-1:1.0 %s/class/net/p2ob0 %s/class/net/p2oc0", root);
	sh("cd %s/devices/usb1/1-1 && echo 1d6b >idVendor && echo 0104 >idProduct && "
	   "echo 'usbfarm node' >product && echo s1 >serial && echo 480 >speed", root);
	sh("ln -s ../../../devices/usb1/1-1/1-1:1.0 %s/class/net/p2ob0/device && chmod -R a+rX %s", root);
	setenv("USBFARM_SYSFS", root, 1);
}

static unsigned long status_hex(pid_t pid, const char *key)
{
	char path[64], line[256];
	unsigned long v = ~0ul;
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return v;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			v = strtoul(line + strlen(key) + 1, NULL, 16);
	fclose(f);
	return v;
}

static int if_flags_mtu(const char *name, int *mtu)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), fl = -1;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		fl = ifr.ifr_flags;
		if (ioctl(s, SIOCGIFMTU, &ifr) == 0)
			*mtu = ifr.ifr_mtu;
	}
	if (s >= 0)
		close(s);
	return fl;
}

/* Sends raw bytes to the opener, returns its answer's status (seq in *seq). */
static int raw(const void *p, size_t len, uint32_t *seq)
{
	struct opener_ans a;
	memset(&a, 0, sizeof a);
	if (send(opener_fd(), p, len, MSG_NOSIGNAL) != (ssize_t)len)
		return 1000;
	if (recv(opener_fd(), &a, sizeof a, 0) != (ssize_t)sizeof a || a.magic != OPENER_MAGIC)
		return 1001;
	*seq = a.seq;
	return a.status;
}

static void test_live_open(void)
{
	T_CASE("opener-caps") {
		pid_t p = opener_pid();
		char comm[64] = "", path[64];
		snprintf(path, sizeof path, "/proc/%d/comm", (int)p);
		FILE *f = fopen(path, "re");
		if (f) {
			if (!fgets(comm, sizeof comm, f))
				comm[0] = 0;
			fclose(f);
		}
		T_CHECK(!strcmp(comm, "hubd-opener\n"), "comm '%s'", comm);
		T_CHECK(status_hex(p, "CapPrm") == 0x3000 && status_hex(p, "CapEff") == 0x3000 &&
			status_hex(p, "CapBnd") == 0x3000, "CapPrm %lx CapEff %lx CapBnd %lx",
			status_hex(p, "CapPrm"), status_hex(p, "CapEff"), status_hex(p, "CapBnd"));
		T_CHECK(status_hex(p, "CapInh") == 0 && status_hex(p, "CapAmb") == 0 &&
			status_hex(p, "NoNewPrivs") == 1, "inheritable/ambient/no_new_privs");
	}
	T_CASE("open-configured") {
		struct link_io *io = NULL;
		int rc = opener_open("p2oc0", &io);
		T_CHECK(rc == 0 && io && io->mtu == 1500, "rc %d", rc);
		if (io)
			io->ops->close(io);
	}
	T_CASE("open-cost") {
		/* a measurement, printed (no assertion on time): a link opened
		 * through the opener against one opened in this process */
		struct timespec t0, t1, t2;
		struct link_io *io[2][20];
		int n = 20, bad = 0;
		/* opens only (closing a packet socket waits for an RCU grace period) */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int i = 0; i < n; i++)
			bad += opener_open("p2oc0", &io[0][i]) != 0;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		for (int i = 0; i < n; i++)
			bad += link_io_packet("p2oc0", &io[1][i]) != 0;
		clock_gettime(CLOCK_MONOTONIC, &t2);
		for (int k = 0; k < 2; k++)
			for (int i = 0; i < n; i++)
				if (io[k][i])
					io[k][i]->ops->close(io[k][i]);
		T_CHECK(bad == 0, "%d opens failed", bad);
		double a = (double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
		double b = (double)(t2.tv_sec - t1.tv_sec) * 1e6 + (double)(t2.tv_nsec - t1.tv_nsec) / 1e3;
		printf("# link open: %.0f us through the opener, %.0f us in-process (mean of %d)\n",
		       a / n, b / n, n);
	}
	T_CASE("up-board-with-mtu") {
		int mtu = 0, fl = if_flags_mtu("p2ob0", &mtu);
		T_CHECK(fl >= 0 && !(fl & IFF_UP), "p2ob0 not down at first (%x)", fl);
		T_CHECK(opener_link_up("p2ob0", 1400) == 0, "up");
		fl = if_flags_mtu("p2ob0", &mtu);
		T_CHECK(fl >= 0 && (fl & IFF_UP) && mtu == 1400, "flags %x mtu %d", fl, mtu);
		struct link_io *io = NULL;
		T_CHECK(opener_open("p2ob0", &io) == 0 && io && io->mtu == 1400, "open the board");
		if (io)
			io->ops->close(io);
	}
	T_CASE("refused-not-allowed-or-missing") {
		struct link_io *io = NULL;
		T_CHECK(opener_open("lo", &io) == -EPERM && !io, "lo is neither configured nor a board");
		T_CHECK(opener_link_up("lo", 1500) == -EPERM, "lo up");
		T_CHECK(opener_open("nosuch0", &io) == -ENODEV, "missing interface");
		T_CHECK(opener_link_up("nosuch0", 0) == -ENODEV, "missing interface up");
	}
}

static void test_live_raw(void)
{
	pid_t before = opener_pid();

	T_CASE("refused-malformed-keeps-serving") {
		struct opener_req r = req(OPENER_OPEN, 0, "p2oc0");
		uint8_t big[4096];
		uint32_t seq = 1;
		memset(big, 0, sizeof big);
		memcpy(big, &r, sizeof r);
		T_CHECK(raw(big, sizeof big, &seq) == -EMSGSIZE && seq == 0, "4096 bytes");
		T_CHECK(raw(big, sizeof r + 1, &seq) == -EMSGSIZE, "one byte too many");
		T_CHECK(raw(big, 3, &seq) == -EMSGSIZE, "3 bytes");
		const char *bad[] = { "", "..", "a/b", "../../etc", "abcdefghijklmno\x01" };
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			r = req(OPENER_OPEN, 0, "");
			memcpy(r.ifname, bad[i], strlen(bad[i]) < sizeof r.ifname ? strlen(bad[i]) : sizeof r.ifname);
			T_CHECK(raw(&r, sizeof r, &seq) == -EINVAL, "name '%s'", bad[i]);
		}
		r = req(OPENER_UP, 17, "p2ob0");
		T_CHECK(raw(&r, sizeof r, &seq) == -EINVAL, "mtu 17");
		r = req(9, 0, "p2ob0");
		T_CHECK(raw(&r, sizeof r, &seq) == -EINVAL, "op 9");
		r = req(OPENER_UP, 0, "p2ob0");
		T_CHECK(raw(&r, sizeof r, &seq) == 0 && seq == 7, "a valid raw request still served");
		struct link_io *io = NULL;
		T_CHECK(opener_open("p2oc0", &io) == 0 && io, "and a real open after all of it");
		if (io)
			io->ops->close(io);
		T_CHECK(opener_pid() == before && kill(before, 0) == 0, "same opener, alive");
	}
}

static void test_adopt(void)
{
	T_CASE("adopt-refuses-other-sockets") {
		struct link_io *io = NULL;
		int fd, idx, p[2];
		T_CHECK(link_io_packet_socket("p2oc0", NULL, &fd, &idx) == 0, "socket");
		T_CHECK(link_io_packet_adopt(fd, idx + 1, NULL, &io) == -EADDRNOTAVAIL && !io, "other ifindex");
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		T_CHECK(link_io_packet_adopt(fd, idx, NULL, &io) == -EAFNOSUPPORT, "udp");
		fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(0x88B5));
		T_CHECK(link_io_packet_adopt(fd, idx, NULL, &io) == -EPROTOTYPE, "SOCK_RAW");
		fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
		struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
					   .sll_ifindex = idx };
		T_CHECK(bind(fd, (struct sockaddr *)&sll, sizeof sll) == 0, "bind ETH_P_ALL");
		T_CHECK(link_io_packet_adopt(fd, idx, NULL, &io) == -EADDRNOTAVAIL, "other EtherType");
		T_CHECK(pipe(p) == 0 && link_io_packet_adopt(p[0], idx, NULL, &io) == -ENOTSOCK, "a pipe");
		close(p[1]);
		T_CHECK(fcntl(p[0], F_GETFD) < 0, "refused fd closed");
	}
}

static void test_opener_killed(void)
{
	T_CASE("dispatcher-exits-when-opener-killed") {
		pid_t p = opener_pid(), c;
		int st = 0;
		T_CHECK(kill(p, SIGKILL) == 0, "kill");
		c = fork();
		if (c == 0) {
			for (int i = 0; i < 500; i++) {
				opener_check();
				usleep(10000);
			}
			_exit(0);	/* never noticed */
		}
		T_CHECK(c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 1,
			"status %x", st);
		waitpid(p, NULL, 0);
	}
}

int main(void)
{
	test_parser();
	if (geteuid() != 0) {
		t_skip("opener-live", "needs root (a network namespace, the opener's drop)");
		return t_done();
	}
	if (unshare(CLONE_NEWNET) < 0) {
		printf("FAIL opener-live: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 1;
	}
	sh("ip link add p2ob0 type veth peer name p2oc0 && ip link set p2oc0 up", "");
	fake_sysfs();
	privsep_init(NULL, NULL);
	T_CASE("allow") {
		T_CHECK(opener_allow("p2oc0") == 0 && opener_allow("a/b") == -EINVAL, "allow");
	}
	/* the opener logs into a file of its own (its lines would interleave
	 * with ours), which is checked at the end */
	char logpath[PATH_MAX + 16];
	snprintf(logpath, sizeof logpath, "%s/opener.log", root);
	int logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), saved = dup(2);
	if (logfd < 0 || saved < 0 || dup2(logfd, 2) < 0 || opener_start() < 0 || dup2(saved, 2) < 0) {
		printf("FAIL opener-live: opener_start\n");
		return 1;
	}
	close(saved);
	close(logfd);
	for (int i = 0; i < 200 && status_hex(opener_pid(), "CapEff") != 0x3000; i++)
		usleep(10000);	/* until it has dropped */
	test_live_open();
	test_live_raw();
	test_adopt();
	test_opener_killed();
	T_CASE("opener-says-what-it-refused") {
		static char cmd[3 * (PATH_MAX + 16) + 512];
		snprintf(cmd, sizeof cmd, "grep -q 'link opener: refused a malformed request (4096 bytes)' '%s' && "
			 "grep -q 'link opener: lo is neither configured nor a usbfarm board: refused' '%s' && "
			 "grep -q 'link opener: pid [0-9]*, uid [1-9][0-9]*, CAP_NET_RAW and CAP_NET_ADMIN only' '%s'",
			 logpath, logpath, logpath);
		T_CHECK(system(cmd) == 0, "%s", logpath);
	}
	sh("rm -rf '%s'", root);
	return t_done();
}
