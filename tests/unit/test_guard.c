/* test_guard.c — hubd's caps on clients (guard.c: announced length, held
 * bytes, connection cap, out of descriptors), the keepalive frame (proto.c)
 * and dcc's per-build markers (buildonce.c), on real sockets. */
#include "buildonce.h"
#include "guard.h"
#include "proto.h"
#include "../lib/test.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static char dir[] = "/tmp/test_guard.XXXXXX";

static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0)
		return -1;
	return fd;
}

/* The client end sees EOF (the server closed it) within a second. */
static bool sees_eof(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char c;
	return poll(&p, 1, 1000) == 1 && recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

int main(void)
{
	struct guard_cfg gc = { 3, 1000, 4 * GUARD_READ_CHUNK, 30 };
	char sock[64];

	if (!mkdtemp(dir))
		return 1;
	snprintf(sock, sizeof sock, "%s/s", dir);
	guard_init(&gc);
	T_CASE("announce_cap") {
		T_CHECK(guard_announce_ok(1000), "at the cap");
		T_CHECK(!guard_announce_ok(1001), "past the cap");
	}
	T_CASE("held_cap_first_chunk_always") {
		T_CHECK(guard_hold(4 * GUARD_READ_CHUNK, false), "up to the cap");
		T_CHECK(!guard_hold(1, false), "past the cap refused");
		T_CHECK(guard_held() == 4 * GUARD_READ_CHUNK, "nothing taken by a refusal");
		T_CHECK(guard_hold(GUARD_READ_CHUNK, true), "a first chunk fits anyway");
		T_CHECK(!guard_hold(1, false), "still past the cap");
		guard_release(5 * GUARD_READ_CHUNK);
		T_CHECK(guard_held() == 0, "all released");
	}
	T_CASE("max_clients_closes_one_more") {
		int lfd = listen_at(sock), cl[4], sv[4], n = 0;
		for (int i = 0; i < 4; i++) {
			struct sockaddr_un sa = { .sun_family = AF_UNIX };
			snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
			cl[i] = socket(AF_UNIX, SOCK_STREAM, 0);
			T_CHECK(connect(cl[i], (struct sockaddr *)&sa, sizeof sa) == 0, "connect %d", i);
			sv[i] = guard_accept(lfd, (size_t)n);
			if (sv[i] >= 0)
				n++;
		}
		T_CHECK(n == 3 && sv[3] < 0, "accepted %d", n);
		T_CHECK(sees_eof(cl[3]), "the one past the cap is closed at once");
		T_CHECK(guard_refused() == 1, "counted");
		for (int i = 0; i < 4; i++) {
			close(cl[i]);
			if (sv[i] >= 0)
				close(sv[i]);
		}
		close(lfd);
	}
	T_CASE("out_of_descriptors_closes_at_once") {
		int lfd = listen_at(sock), cfd, filler[64], nf = 0;
		struct rlimit old, low;
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
		cfd = socket(AF_UNIX, SOCK_STREAM, 0);
		T_CHECK(connect(cfd, (struct sockaddr *)&sa, sizeof sa) == 0, "connect");
		getrlimit(RLIMIT_NOFILE, &old);
		low = old;
		low.rlim_cur = (rlim_t)cfd + 8;
		setrlimit(RLIMIT_NOFILE, &low);
		while (nf < 64 && (filler[nf] = open("/dev/null", O_RDONLY)) >= 0)
			nf++;
		T_CHECK(errno == EMFILE, "descriptors used up");
		T_CHECK(guard_accept(lfd, 0) < 0, "nothing accepted");
		T_CHECK(sees_eof(cfd), "the waiting client is told at once (spare descriptor)");
		for (int i = 0; i < nf; i++)
			close(filler[i]);
		setrlimit(RLIMIT_NOFILE, &old);
		close(cfd);
		close(lfd);
	}
	T_CASE("keepalive_frame") {
		struct buf b = BUF_INIT;
		proto_begin(&b, PROTO_KEEPALIVE);
		T_CHECK(proto_end(&b) == 0 && b.len == 6, "6 bytes");
		T_CHECK(proto_frame_len(b.data) == 2, "length 2");
		T_CHECK(proto_type(b.data + 4, 2) == PROTO_KEEPALIVE, "type");
		buf_free(&b);
	}
	T_CASE("once_per_build_and_silent_marker") {
		char rt[160];
		snprintf(rt, sizeof rt, "%s/rt", dir);
		mkdir(rt, 0700);
		setenv("XDG_RUNTIME_DIR", rt, 1);
		T_CHECK(once_per_build("t", "/x/hubd.sock"), "first");
		T_CHECK(!once_per_build("t", "/x/hubd.sock"), "second of the same build");
		T_CHECK(once_per_build("t", "/y/hubd.sock"), "another socket");
		T_CHECK(!hub_silent_recent("/x/hubd.sock"), "not silent yet");
		hub_silent_mark("/x/hubd.sock");
		T_CHECK(hub_silent_recent("/x/hubd.sock"), "silent now");
		T_CHECK(!hub_silent_recent("/y/hubd.sock"), "per socket");
		chmod(rt, 0777);	/* a dir others may write: never used */
		char mk[200];
		snprintf(mk, sizeof mk, "%s/usbfarm-dcc", rt);
		chmod(mk, 0777);
		T_CHECK(!hub_silent_recent("/x/hubd.sock"), "unsafe dir ignored");
		T_CHECK(once_per_build("t", "/x/hubd.sock"), "unsafe dir: said again");
	}
	char cmd[200];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return t_done();
}
