/*
 * hubd.c — the dispatcher: one poll loop owning the node links and the unix
 * socket that dcc and hubctl talk to.
 *
 * Jobs arrive from dcc (SUBMIT), wait in one FIFO queue, and leave it to a
 * node (JOB over the node's link), to a local slot (ANSWER HUB_LOCAL; dcc
 * compiles and holds the slot until it closes the connection) or as
 * HUB_FAILED (dcc compiles locally, unaccounted). Policy, in order:
 *   1. a node with a free slot that offers the job's compiler (identity
 *      match), has not failed this job and is not backed off, best by
 *      sched_pick() (schedule.h: a much slower board waits for a fast slot);
 *   2. else a free local slot;
 *   3. else wait. A job no node could ever take (no node up offers its
 *      compiler) waits only for a local slot, and fails at once when there
 *      are no local slots (--local-slots 0) or when it already failed on a
 *      node and no other node can take it.
 * A farm-side failure (link down, node restarted, RESULT with farm_error)
 * sends the job back to the head of the queue, excluded from the nodes that
 * failed it, at most --retries times; then HUB_FAILED. Failover rules
 * (failover.h, applied by copies.c): a per-job deadline
 * from the node's measured speed and the job's size (--job-timeout is its
 * cap); a miss backs the node off and starts a second copy elsewhere or
 * hands the job back to dcc; node-side errors back the node off without
 * spending the job's retries; near the end of a build, stragglers on slow
 * nodes get backup copies on fast ones. First result wins; the other copy
 * is cancelled and its slot counted until its RESULT comes.
 * A dcc that goes away cancels its job (CANCEL to the node; the slot stays
 * taken until the node's RESULT for it, so the node is never oversubscribed).
 *
 * This file is the program: options, setup, the poll loop, shutdown. The
 * parts, each with its state machine in its header:
 *   nodes.c     boards: links, session up/down, netlink, enrollment
 *   jobs.c      a job's life (the one enum), SUBMIT, ends, retries, RESULT
 *   dispatch.c  the FIFO pass: a node, a local slot, or wait
 *   copies.c    deadlines, second copies, backups (failover.c's rules)
 *   conns.c     client connections: read, answer, keepalive, local slots
 *   status.c    the STATUS answer
 *   hub.c       the options and counters they share (hub.h)
 */
#include "conns.h"
#include "guard.h"
#include "hub.h"
#include "ident.h"
#include "opener.h"
#include "jobs.h"
#include "nodes.h"
#include "power.h"
#include "watchdog.h"
#include "privsep.h"
#include "proto.h"
#include "client.h"
#include "verify.h"
#include "enroll.h"
#include "prove.h"
#include "toolchain.h"

#include "../lib/clock.h"
#include "../lib/ifwatch.h"
#include "../lib/log.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal;
static struct ifwatch *ifw;	/* carrier and hot-unplug events; NULL if netlink is unavailable */
static const char *prove_opt_state, *prove_opt_canaries;	/* --state-dir, --canaries */

/* ---- options ---- */

static void read_config(const char *path)
{
	FILE *f = fopen(path, "re");
	char line[512];
	int lineno = 0;
	if (!f)
		fatal("cannot open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, f)) {
		char key[64], val[256];
		lineno++;
		char *h = strchr(line, '#');
		if (h)
			*h = 0;
		int n = sscanf(line, "%63s %255s", key, val);
		if (n <= 0)
			continue;
		if (n == 2 && !strcmp(key, "iface"))
			nodes_add(val);
		else
			fatal("%s:%d: unknown line (expected: iface NAME)", path, lineno);
	}
	fclose(f);
}

static void usage(FILE *to, int code)
{
	fprintf(to,
"Usage: hubd [OPTIONS] [IFACE...]\n"
"\n"
"The usbfarm dispatcher. Opens a link on each IFACE (the hub side of a board's\n"
"USB Ethernet, or a veth of the virtual farm), learns each node's slots and\n"
"compilers, and serves dcc and hubctl on a unix socket. Each compile job goes\n"
"to the fastest idle node that has the job's compiler, else to a free local\n"
"slot (dcc compiles it on this machine), else waits in a FIFO queue. Jobs that\n"
"fail on the farm side (link lost, node restarted or refusing, timeout) are\n"
"retried on other nodes, then handed back to dcc to compile locally: a build\n"
"never fails because of the farm.\n"
"\n"
"Options:\n"
"  -c, --config FILE      read interfaces from FILE: lines 'iface NAME', '#' comments\n"
"  -s, --socket PATH      unix socket (default: $USBFARM_SOCKET, else\n"
"                         /run/usbfarm/hubd.sock as root, else\n"
"                         $XDG_RUNTIME_DIR/usbfarm/hubd.sock, else\n"
"                         /tmp/usbfarm-$UID/hubd.sock). As root, a missing\n"
"                         directory is created 0750 and the socket is 0660, both\n"
"                         owned by the --user and the --group: every member of\n"
"                         the group can use dcc. Not as root: 0700 and 0660,\n"
"                         this user's clients only.\n"
"  -u, --user NAME        started as root, hubd runs as NAME (default usbfarm,\n"
"                         else nobody) with no capabilities; its link opener\n"
"                         keeps only CAP_NET_RAW/CAP_NET_ADMIN; compilers named\n"
"                         by clients are run (to identify them) only as the\n"
"                         client's own uid, gid and groups\n"
"  -g, --group NAME       the socket's group (default usbfarm)\n"
"  -l, --local-slots N    compile jobs this machine runs itself at once\n"
"                         (default max(1, CPUs/2): the other half of the CPUs\n"
"                         stays free for preprocessing, linking and make)\n"
"  -t, --job-timeout S    a node has S seconds for one job, then the job is\n"
"                         cancelled there and retried (default 300; 0: none)\n"
"  -r, --retries N        farm-side retries of one job on other nodes before\n"
"                         it is compiled locally (default 2)\n"
"      --pairs FILE       proven (hub compiler, board compiler) pairs\n"
"                         (scripts/pair-prove): a board whose compiler is\n"
"                         another build of yours serves the flag classes\n"
"                         proven byte-identical, its objects given your ident\n"
"                         (read only if owned by root or you, and writable by\n"
"                         nobody else; hubd proves pairs itself: hub/prove.h)\n"
"      --state-dir DIR    hubd's own proofs (DIR/pairs) and canary compiles\n"
"                         (default /var/lib/usbfarm/hubd as root)\n"
"      --canaries DIR     the canary sources (default PREFIX/share/usbfarm/canaries\n"
"                         beside hubd, else the source tree's scripts/lib/canaries)\n"
"  -f, --foreground       stay in the foreground (the default; hubd does not\n"
"                         daemonize, run it under systemd or similar)\n"
"      --syslog           log to syslog instead of stderr\n"
"      --verify RATE      verify RATE %% of remote jobs (default 1): dcc compiles\n"
"                         them locally too and compares; a board whose object\n"
"                         differs is quarantined for that compiler (verify.h)\n"
"      --forget-after S   a USB board whose interface was removed stays in\n"
"                         hubctl status as \"gone\" for S seconds (default %u;\n"
"                         0: it leaves at once), then leaves; plugged back\n"
"                         meanwhile, it keeps its entry\n"
"      --auto-power-cycle[=S]  a USB board whose link is up but silent for S\n"
"                         seconds (default %d) gets its hub port power-cycled\n"
"                         by hubd (at most once per %d s per port; the hub\n"
"                         must switch ports one by one); off by default\n"
"  -v, --verbose          log every job (debug)\n"
"  -h, --help             this help\n"
"\nCaps on clients (a client past one is closed; its dcc compiles locally):\n"
"      --max-clients N    connections at once (default %d; one more is accepted\n"
"                         and closed at once)\n"
"      --max-message B    bytes one request may announce (default %zu MiB;\n"
"                         nothing is allocated before the check, memory grows\n"
"                         only with bytes received)\n"
"      --max-held B       bytes of requests held at once, unfinished or queued\n"
"                         (default %zu MiB); the first 64 KiB of each connection\n"
"                         always fit, so small requests pass a flood\n"
"      --client-idle S    seconds without progress while a request is read or\n"
"                         an answer written (default %d; waiting for a node or\n"
"                         holding a local slot is not idle). A client waiting\n"
"                         for a node gets a keepalive every %d ms.\n"
"  Out of file descriptors, a new connection is accepted on a spare one and\n"
"  closed at once (its dcc compiles locally); one log line per episode.\n"
"\n"
"Processes: the dispatcher (no capabilities), the link opener \"hubd-opener\"\n"
"(CAP_NET_RAW, CAP_NET_ADMIN: brings boards up, opens each link's socket for a\n"
"configured interface or a usbfarm board only) and the compiler identifier\n"
"(CAP_SETUID, CAP_SETGID). If the link opener dies, hubd says so and exits\n"
"with status 1 (the service restarts it): it could not open links any more.\n"
"\n"
"Signals: SIGTERM and SIGINT stop hubd; clients still waiting are told to\n"
"compile locally.\n"
"See also: hubctl status, dcc(1), noded(8).\n",
		NODES_FORGET_S_DEFAULT, WATCHDOG_DEFAULT_S, WATCHDOG_INTERVAL_S,
		GUARD_MAX_CLIENTS, GUARD_MAX_MESSAGE >> 20, GUARD_MAX_HELD >> 20, GUARD_IDLE_S,
		PROTO_KEEPALIVE_MS);
	exit(code);
}

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int parse_int(const char *s, const char *what, int lo, int hi)
{
	char *e;
	long v;
	errno = 0;
	v = strtol(s, &e, 10);
	if (errno || *e || e == s || v < lo || v > hi)
		fatal("bad %s '%s' (expected %d..%d)", what, s, lo, hi);
	return (int)v;
}

/* Options into hub (hub.h), the guard's caps, and the run-as user/group. */
static void parse_options(int argc, char **argv, struct guard_cfg *gc, bool *use_syslog,
			  const char **user, const char **group)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "local-slots", required_argument, NULL, 'l' },
		{ "job-timeout", required_argument, NULL, 't' },
		{ "retries", required_argument, NULL, 'r' },
		{ "pairs", required_argument, NULL, 'P' },
		{ "state-dir", required_argument, NULL, 'D' },
		{ "canaries", required_argument, NULL, 'K' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "syslog", no_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "verify", required_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "user", required_argument, NULL, 'u' },
		{ "group", required_argument, NULL, 'g' },
		{ "max-clients", required_argument, NULL, 'C' },
		{ "max-message", required_argument, NULL, 'M' },
		{ "max-held", required_argument, NULL, 'H' },
		{ "client-idle", required_argument, NULL, 'I' },
		{ "forget-after", required_argument, NULL, 'F' },
		{ "auto-power-cycle", optional_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int o;

	hub.local_slots = ncpu > 1 ? (int)(ncpu / 2) : 1;
	hub.job_timeout_s = 300;
	hub.retries = 2;
	while ((o = getopt_long(argc, argv, "c:s:l:t:r:u:g:fvh", opts, NULL)) != -1) {
		switch (o) {
		case 'c': read_config(optarg); break;
		case 's':
			if (snprintf(hub.socket_path, sizeof hub.socket_path, "%s", optarg) >=
			    (int)sizeof hub.socket_path)
				fatal("socket path too long");
			break;
		case 'l': hub.local_slots = parse_int(optarg, "--local-slots", 0, 4096); break;
		case 't': hub.job_timeout_s = parse_int(optarg, "--job-timeout", 0, 86400); break;
		case 'r': hub.retries = parse_int(optarg, "--retries", 0, 63); break;
		case 'P': {
			char why[300];	/* the trust rule: hub/prove.h */
			if (!prove_file_trusted(optarg, getuid(), why, sizeof why))
				fatal("--pairs: %s", why);
			if (pairs_load(&hub.pairs, optarg))
				fatal("--pairs %s: cannot read", optarg);
			break;
		}
		case 'D': prove_opt_state = optarg; break;
		case 'K': prove_opt_canaries = optarg; break;
		case 'f': break;
		case 'S': *use_syslog = true; break;
		case 'v': hub.verbose++; break;
		case 'V':
			if (verify_set_rate(optarg) < 0)
				fatal("--verify: a percentage 0..100, not '%s'", optarg);
			break;
		case 'h': usage(stdout, 0); break;
		case 'u': *user = optarg; break;
		case 'g': *group = optarg; break;
		case 'C': gc->max_clients = parse_int(optarg, "--max-clients", 1, 1000000); break;
		case 'M': gc->max_message = (size_t)parse_int(optarg, "--max-message", 1024,
							      (int)PROTO_MAX_FRAME); break;
		case 'H': gc->max_held = (size_t)parse_int(optarg, "--max-held", 1 << 20, INT_MAX); break;
		case 'I': gc->idle_s = parse_int(optarg, "--client-idle", 1, 86400); break;
		case 'F': nodes_forget_s = (unsigned)parse_int(optarg, "--forget-after", 0, 86400); break;
		case 'W':
			watchdog_silent_s = optarg ? (unsigned)parse_int(optarg, "--auto-power-cycle", 1, 86400)
						   : WATCHDOG_DEFAULT_S;
			break;
		default: usage(stderr, 2); break;
		}
	}
	for (int i = optind; i < argc; i++)
		nodes_add(argv[i]);
}

/* ---- setup ---- */

static void open_socket(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(hub.socket_path) >= sizeof sa.sun_path)
		fatal("socket path too long: %s", hub.socket_path);
	int drc = privsep_socket_dir(hub.socket_path);
	if (drc < 0)
		fatal("cannot create the directory of %s: %s", hub.socket_path, strerror(-drc));
	/* Another hubd already there? A stale socket is removed. */
	if (proto_connect(hub.socket_path, &fd) == 0) {
		close(fd);
		fatal("another hubd is listening on %s", hub.socket_path);
	}
	unlink(hub.socket_path);
	strcpy(sa.sun_path, hub.socket_path);
	hub.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (hub.listen_fd < 0)
		fatal("socket: %s", strerror(errno));
	mode_t old = umask(0117);
	if (bind(hub.listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		fatal("bind %s: %s", hub.socket_path, strerror(errno));
	umask(old);
	drc = privsep_socket_bound(hub.socket_path);
	if (drc < 0)
		fatal("chmod/chown %s: %s", hub.socket_path, strerror(-drc));
	if (listen(hub.listen_fd, 256) < 0)
		fatal("listen: %s", strerror(errno));
}

static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Everything before the loop: privileges, socket, identifier, links. */
static void setup(const struct guard_cfg *gc, bool use_syslog, const char *user,
		  const char *group)
{
	char host[64] = "hub";

	log_init("hubd", hub.verbose, use_syslog);
	privsep_init(user, group);
	guard_init(gc);
	if (!hub.socket_path[0] && hub_socket_path(hub.socket_path, sizeof hub.socket_path) < 0)
		fatal("socket path too long");
	if (nnodes == 0)
		log_warn("no interfaces given: every job goes to local slots");
	gethostname(host, sizeof host - 1);
	snprintf(hub.ident, sizeof hub.ident, "hub-%.50s", host);
	setup_signals();
	open_socket();
	int irc = ident_start();
	if (irc < 0)
		fatal("cannot start the compiler identifier: %s", strerror(-irc));
	for (int i = 0; i < nnodes; i++)
		if (opener_allow(nodes[i].iface) < 0)
			fatal("bad interface name '%s'", nodes[i].iface);
	if ((irc = opener_start()) < 0)
		fatal("cannot start the link opener: %s", strerror(-irc));
	(void)prove_init(prove_opt_state, prove_opt_canaries);	/* says why if off */
	if (watchdog_silent_s && (irc = power_start()) < 0)
		fatal("cannot start the port-power helper: %s", strerror(-irc));
	privsep_drop_dispatcher();
	hub.started = now_us();
	hub.next_job_id = ((uint64_t)time(NULL) << 20) | 1;
	int wrc = ifwatch_open(nodes_on_ifevent, NULL, &ifw);
	if (wrc < 0)
		log_warn("netlink: %s: carrier loss is noticed by keepalives only", strerror(-wrc));
	for (int i = 0; i < nnodes; i++)
		node_open(&nodes[i]);
	enroll_scan(NULL, nodes_enroll_found, NULL);
	log_info("listening on %s; %d interface(s), %d local slot(s), job timeout %d s, %d retries",
		 hub.socket_path, nnodes, hub.local_slots, hub.job_timeout_s, hub.retries);
	log_info("client caps: %d connections, %zu bytes per request, %zu bytes held, idle %d s",
		 gc->max_clients, gc->max_message, gc->max_held, gc->idle_s);
}

/* ---- the loop ---- */

/* One round's poll set: listener, identifier, netlink, links, clients. */
struct pollset {
	struct pollfd *pfd;
	struct node **node;	/* per slot: its node, or NULL */
	struct conn **conn;	/* from first_conn on */
	size_t cap, n, ident, ifw, first_node, first_conn;
};

static void pollset_grow(struct pollset *ps, size_t want)
{
	if (want <= ps->cap)
		return;
	ps->cap = want * 2;
	free(ps->pfd);
	free(ps->node);
	free(ps->conn);
	ps->pfd = calloc(ps->cap, sizeof *ps->pfd);
	ps->node = calloc(ps->cap, sizeof *ps->node);
	ps->conn = calloc(ps->cap, sizeof *ps->conn);
	if (!ps->pfd || !ps->node || !ps->conn)
		fatal("out of memory");
}

/* The links' part of the poll set; relink timers lower *timeout. */
static void pollset_links(struct pollset *ps, uint64_t now, int *timeout)
{
	ps->first_node = ps->n;
	for (int i = 0; i < nnodes; i++) {
		struct node *nd = &nodes[i];
		if (!nd->link) {
			if (nd->relink_at) {
				int ms = nd->relink_at > now ? (int)((nd->relink_at - now) / 1000) + 1 : 0;
				if (ms < *timeout)
					*timeout = ms;
			}
			continue;
		}
		ps->pfd[ps->n] = (struct pollfd){ link_fd(nd->link),
			(short)(POLLIN | (link_want_write(nd->link) ? POLLOUT : 0)), 0 };
		ps->node[ps->n++] = nd;
		int t = link_timeout_ms(nd->link);
		if (t >= 0 && t < *timeout)
			*timeout = t;
	}
}

/* Builds the poll set and returns the poll timeout (ms). */
static int pollset_build(struct pollset *ps)
{
	int timeout = 1000;
	uint64_t now;

	pollset_grow(ps, 3 + (size_t)nnodes + conns_count());
	ps->n = 0;
	conns_timers(&timeout);
	ps->pfd[ps->n++] = (struct pollfd){ guard_may_accept(&timeout) ? hub.listen_fd : -1,
					    POLLIN, 0 };
	ps->ident = ps->n;
	ps->pfd[ps->n++] = (struct pollfd){ ident_fd(), POLLIN, 0 };
	ps->ifw = 0;
	if (ifw) {
		ps->ifw = ps->n;
		ps->pfd[ps->n++] = (struct pollfd){ ifwatch_fd(ifw), POLLIN, 0 };
	}
	now = now_us();
	pollset_links(ps, now, &timeout);
	ps->first_conn = ps->n;
	ps->n += conns_pollfds(ps->pfd + ps->n, ps->conn + ps->n);
	return fo_timeout_ms(now, timeout);
}

/* After poll: clients, the identifier, carrier events, links, timers. */
static void pollset_handle(struct pollset *ps, int rc)
{
	if (rc > 0 && (ps->pfd[0].revents & POLLIN))
		conns_accept(hub.listen_fd);
	if (rc > 0 && ps->pfd[ps->ident].revents)
		ident_process(jobs_on_ident, NULL);
	/* Carrier events first: a session ended here fails its jobs over
	 * before its link is processed below. A node_dead() here leaves a
	 * NULL link in this round's poll set, which the loop below skips. */
	if (rc > 0 && ps->ifw && (ps->pfd[ps->ifw].revents & POLLIN) &&
	    ifwatch_process(ifw) == -ENOBUFS)
		nodes_resync_carrier();
	enroll_retry(nodes_enroll_found, NULL);
	if (rc > 0)
		conns_handle(ps->pfd + ps->first_conn, ps->conn + ps->first_conn,
			     ps->n - ps->first_conn);
	/* Every link gets processed every round: timers run on their own clock. */
	for (size_t i = ps->first_node; i < ps->first_conn; i++) {
		struct node *nd = ps->node[i];
		if (!nd->link)
			continue;
		int lr = link_process(nd->link);
		if (lr < 0 || link_state(nd->link) == LINK_DEAD)
			node_dead(nd, lr < 0 ? lr : -ENODEV, NE_LINK_DEAD);
	}
	uint64_t now = now_us();
	nodes_relink_due(now);
	watchdog_tick(now);
	fo_tick(now);
	prove_tick();
}

static void loop(void)
{
	struct pollset ps = { 0 };

	while (!stop_signal) {
		opener_check();	/* gone: hubd says so and exits */
		if (hub.need_sched)
			schedule();
		conns_reap();
		int timeout = pollset_build(&ps);
		int rc = poll(ps.pfd, ps.n, timeout);
		if (rc < 0 && errno != EINTR)
			fatal("poll: %s", strerror(errno));
		pollset_handle(&ps, rc);
	}
	free(ps.pfd);
	free(ps.node);
	free(ps.conn);
}

/* Clients still waiting are told to compile locally; cancels go out. */
static void shutdown_all(void)
{
	ifwatch_close(ifw);
	ifw = NULL;
	jobs_shutdown();
	nodes_free_all();
	conns_free_all();
	toolchain_free_all();
	ident_stop();
	close(hub.listen_fd);
	unlink(hub.socket_path);
}

int main(int argc, char **argv)
{
	bool use_syslog = false;
	const char *user = NULL, *group = NULL;
	struct guard_cfg gc = { GUARD_MAX_CLIENTS, GUARD_MAX_MESSAGE, GUARD_MAX_HELD, GUARD_IDLE_S };

	parse_options(argc, argv, &gc, &use_syslog, &user, &group);
	setup(&gc, use_syslog, user, group);
	loop();
	log_info("signal %d: shutting down", (int)stop_signal);
	shutdown_all();
	return 0;
}
