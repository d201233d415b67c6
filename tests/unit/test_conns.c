/* test_conns.c — hubd's client connections (hub/conns.c): every (state,
 * event) pair through conn_set_state() against the table written out here,
 * and the local slot it counts: held exactly in ANSWER_LOCAL and LOCAL;
 * then a real client on a unix socket through conns.c, jobs.c and
 * dispatch.c (no identifier, no nodes): granted a local slot that is held
 * until it closes, or handed back when there are no local slots. */
#include "client.h"
#include "conns.h"
#include "guard.h"
#include "hub.h"
#include "jobs.h"
#include "../lib/fsm.h"

#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>

static struct conn C;

static int next(int s, int ev) { return conn_next(s, ev); }
static void put(int s)
{
	C.state = s;
	hub.local_used = conn_state_holds_local(s) ? 1 : 0;
}
static int get(void) { return C.state; }
static int set(int to, int ev) { return conn_set_state(&C, to, ev); }
static const char *sname(int s) { return conn_state_name(s); }
static const char *ename(int ev) { return conn_event_name(ev); }

#define GONE(s) { s, CE_GONE, CONN_CLOSED }, { s, CE_ERROR, CONN_CLOSED }
static const struct fsm_row rows[] = {
	{ CONN_READ, CE_SUBMIT, CONN_WAIT },
	{ CONN_READ, CE_REPLY, CONN_ANSWER },
	{ CONN_READ, CE_HANDLED, CONN_CLOSED },
	{ CONN_READ, CE_BAD, CONN_CLOSED },
	{ CONN_READ, CE_IDLE, CONN_CLOSED },
	{ CONN_WAIT, CE_REPLY, CONN_ANSWER },
	{ CONN_WAIT, CE_LOCAL, CONN_ANSWER_LOCAL },
	{ CONN_ANSWER, CE_WRITTEN, CONN_CLOSED },
	{ CONN_ANSWER, CE_IDLE, CONN_CLOSED },
	{ CONN_ANSWER_LOCAL, CE_WRITTEN, CONN_LOCAL },
	{ CONN_ANSWER_LOCAL, CE_IDLE, CONN_CLOSED },
	{ CONN_WAIT, CE_NEED, CONN_NEED },
	{ CONN_NEED, CE_BLOBS, CONN_WAIT },
	{ CONN_NEED, CE_REPLY, CONN_ANSWER },
	{ CONN_NEED, CE_BAD, CONN_CLOSED },
	{ CONN_NEED, CE_IDLE, CONN_CLOSED },
	GONE(CONN_READ), GONE(CONN_WAIT), GONE(CONN_ANSWER), GONE(CONN_ANSWER_LOCAL),
	GONE(CONN_LOCAL), GONE(CONN_NEED),
};

/* One loop round of hubd's client part: poll the connections, handle them,
 * schedule, reap. */
static void round_once(void)
{
	struct pollfd pfd[8];
	struct conn *who[8];
	size_t n;

	if (hub.need_sched)
		schedule();
	conns_reap();
	n = conns_pollfds(pfd, who);
	if (n && poll(pfd, n, 2000) > 0)
		conns_handle(pfd, who, n);
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4) < 0)
		return -1;
	return fd;
}

/* A client's SUBMIT, and hubd's rounds until its ANSWER is read (or 20 rounds). */
static int submit_and_answer(int lfd, const char *path, struct proto_answer *a, uint8_t **frame)
{
	static char *args[] = { "-x", "c", "-c", NULL };
	struct proto_submit s = { .compiler = "/nonexistent/gcc", .source = "a.c" };
	struct buf b = BUF_INIT;
	uint8_t hdr[4];
	int fd = -1;

	s.d.args = args;
	s.d.nargs = 3;
	s.d.input = (const uint8_t *)"int x;\n";
	s.d.input_len = 7;
	(void)job_desc_set_names(&s.d, "a.c", "a.o", "/w");
	if (proto_connect(path, &fd) < 0 || proto_encode_submit_head(&b, &s) < 0)
		return -1;
	buf_put(&b, s.d.input, s.d.input_len);
	conns_accept(lfd);
	if (!buf_ok(&b) || send(fd, b.data, b.len, 0) != (ssize_t)b.len)
		return -1;
	buf_free(&b);
	for (int i = 0; i < 20; i++) {
		round_once();
		if (recv(fd, hdr, 4, MSG_DONTWAIT | MSG_PEEK) == 4)
			break;
	}
	long n = recv(fd, hdr, 4, MSG_DONTWAIT) == 4 ? proto_frame_len(hdr) : -1;
	*frame = n > 0 ? malloc((size_t)n) : NULL;
	if (!*frame || recv(fd, *frame, (size_t)n, MSG_WAITALL) != n ||
	    proto_decode_answer(*frame, (size_t)n, a) < 0)
		return -1;
	return fd;
}

static void test_real_client(void)
{
	char dir[] = "/tmp/test_conns.XXXXXX", path[64];
	struct guard_cfg gc = { 8, GUARD_MAX_MESSAGE, GUARD_MAX_HELD, GUARD_IDLE_S };
	struct proto_answer a;
	uint8_t *frame = NULL;
	int lfd, fd;

	guard_init(&gc);
	T_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof path, "%s/s", dir);
	lfd = listen_unix(path);
	T_CASE("conn a real client: local slot held until it closes") {
		hub.local_slots = 1;
		hub.local_used = 0;
		fd = submit_and_answer(lfd, path, &a, &frame);
		T_CHECK(fd >= 0 && a.outcome == HUB_LOCAL, "answer %d", fd >= 0 ? a.outcome : -1);
		T_CHECK(hub.local_used == 1 && hub.jobs_local == 1, "local_used %d, jobs_local %llu",
			hub.local_used, (unsigned long long)hub.jobs_local);
		T_CHECK(jobs_head == NULL, "the job outlived its grant");
		close(fd);
		for (int i = 0; i < 20 && conns_count(); i++)
			round_once();
		T_CHECK(hub.local_used == 0 && conns_count() == 0, "after close: local_used %d, %zu conns",
			hub.local_used, conns_count());
		free(frame);
	}
	T_CASE("conn a real client: handed back with no local slots") {
		hub.local_slots = 0;
		fd = submit_and_answer(lfd, path, &a, &frame);
		T_CHECK(fd >= 0 && a.outcome == HUB_FAILED, "answer %d", fd >= 0 ? a.outcome : -1);
		T_CHECK(fd >= 0 && strstr(a.o.error, "not identified"), "error '%s'", a.o.error);
		T_CHECK(hub.local_used == 0 && hub.jobs_failed == 1 && jobs_head == NULL,
			"local_used %d, failed %llu", hub.local_used, (unsigned long long)hub.jobs_failed);
		for (int i = 0; i < 20 && conns_count(); i++)
			round_once();
		T_CHECK(conns_count() == 0, "%zu conns left (the answer is written: closed)", conns_count());
		close(fd);
		free(frame);
	}
	close(lfd);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct fsm_ops ops = { CONN_NSTATES, CONN_NEVENTS, next, put, get, set, sname, ename };
	C.fd = -1;
	int legal = fsm_check("conn", &ops, rows, sizeof rows / sizeof rows[0]);
	T_CASE("conn every row reached") {
		T_CHECK(legal == (int)(sizeof rows / sizeof rows[0]), "%d legal pairs", legal);
	}
	/* the slot follows the state on every legal transition */
	T_CASE("conn local slot follows the state") {
		for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
			put(rows[i].from);
			hub.need_sched = false;
			int before = hub.local_used;
			T_CHECK(conn_set_state(&C, rows[i].to, rows[i].ev) == 0, "row %zu", i);
			int want = conn_state_holds_local(rows[i].to) ? 1 : 0;
			T_CHECK(hub.local_used == want, "%s -> %s: local_used %d, want %d",
				conn_state_name(rows[i].from), conn_state_name(rows[i].to),
				hub.local_used, want);
			T_CHECK(hub.need_sched == (before > want), "%s -> %s: need_sched %d",
				conn_state_name(rows[i].from), conn_state_name(rows[i].to),
				hub.need_sched);
		}
	}
	T_CASE("conn a refused event keeps the slot") {
		put(CONN_LOCAL);
		T_CHECK(conn_set_state(&C, CONN_WAIT, CE_SUBMIT) < 0 && hub.local_used == 1,
			"local_used %d", hub.local_used);
	}
	T_CASE("conn the whole life of a local compile") {
		put(CONN_READ);
		T_CHECK(conn_set_state(&C, CONN_WAIT, CE_SUBMIT) == 0, "submit");
		T_CHECK(conn_set_state(&C, CONN_ANSWER_LOCAL, CE_LOCAL) == 0 && hub.local_used == 1,
			"granted: %d", hub.local_used);
		T_CHECK(conn_set_state(&C, CONN_LOCAL, CE_WRITTEN) == 0 && hub.local_used == 1,
			"written: %d", hub.local_used);
		T_CHECK(conn_set_state(&C, CONN_CLOSED, CE_GONE) == 0 && hub.local_used == 0,
			"closed: %d", hub.local_used);
		T_CHECK(conn_waiting(&C) == false, "closed waits");
	}
	hub.local_used = 0;
	test_real_client();
	return t_done();
}
