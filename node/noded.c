/*
 * noded.c — the node daemon: options, setup, and its one poll loop (the
 * job side, one worker process per running job, is workers.c).
 *
 * The loop owns the link and never blocks: it polls the link, the netlink
 * socket and the workers' pipes (workers_pollfds), and fires its timers:
 * TELEMETRY every TELEMETRY_MS while the session is up, and, while there is
 * no link (it died: the gadget went away), an attempt to reopen it every
 * RELINK_MS; the workers' pipes are served all the while. Every JOB gets
 * exactly one RESULT (workers.h). A lost session kills every running job:
 * the hub has already failed them over.
 *
 * Privileges: the raw socket needs root or CAP_NET_RAW; jobs do not. Run as
 * root, noded runs each compile in the sandbox (sandbox.h) as its slot's
 * own uid (slots.h: a reserved range, one block per noded, held by a lock).
 * Where the sandbox cannot be made it says so at start and refuses every
 * job, unless started with --insecure-no-sandbox.
 *
 * Whole-job cleanup: a worker and its sandbox die with their parent
 * (PR_SET_PDEATHSIG, chained: noded -> worker -> the job's PID 1, whose
 * death ends its PID namespace). A job that did not end by itself (cancel,
 * session lost, worker died, shutdown) is followed by slot_clean(): every
 * process of the slot's uid killed, the slot's dir emptied, before the slot
 * takes the next job. At start, slots_claim() does the same for whatever a
 * predecessor killed by SIGKILL left.
 *
 * Limits: each is min(the hub's request, this node's ceiling); the
 * ceilings are options, the memory one sized from the board's RAM.
 */
#include "log.h"
#include "../lib/clock.h"

#include "../lib/compiler.h"
#include "../lib/ifwatch.h"
#include "../lib/job.h"
#include "../lib/link.h"
#include "exec.h"
#include "exec_job.h"
#include "noded_store.h"
#include "sandbox.h"
#include "store.h"
#include "workers.h"
#include "slots.h"
#include "telemetry.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TELEMETRY_MS 2000
#define RELINK_MS 1000	/* between attempts to reopen a dead link */
static struct {
	const char *iface;
	char ident[LINK_IDENT_MAX];
	char name[JOB_NODE_NAME_MAX];
	const char *tmp_root;
	uid_t uid_base;		/* of the reserved range (--uid-base) */
	struct workers_cfg sv;	/* slots, ceilings, sandbox, compilers: workers.h */
	struct compiler_id *compilers;	/* sv.compilers */
	int verbose;
	struct link *link;
	struct link_config cfg;
	/* the poll loop's timers (µs, monotonic; 0: off) */
	uint64_t next_tele;	/* TELEMETRY, while the session is up */
	uint64_t relink_at;	/* reopening the link, while there is none */
	uint8_t hello[LINK_APP_HELLO_MAX];
	size_t hello_len;
	bool hello_complete;
	struct noded_store_opts store;	/* --store, --store-cap, --no-store */
	uint64_t store_id, store_cap;	/* as NODEINFO announces them */
} N;

static volatile sig_atomic_t stop_signal;

/* ---- link callbacks ---- */

static void send_telemetry(void)
{
	struct job_telemetry t;
	struct buf b = BUF_INIT;

	telemetry_read(&t);
	t.running = (uint16_t)workers_running();
	t.slots = (uint16_t)N.sv.slots;
	noded_store_telemetry(&N.sv, &t);
	job_encode_telemetry(&b, &t);
	workers_send(0, &b);
	buf_free(&b);
}

static void on_up(struct link *l, const struct link_peer *peer, void *user)
{
	(void)l;
	(void)user;
	log_info("session up with %s", peer->ident);
	if (!N.hello_complete) {
		struct job_nodeinfo ni = { .slots = (uint16_t)N.sv.slots, .complete = true,
				    .compilers = N.compilers, .ncompilers = N.sv.ncompilers,
				    .store_id = N.store_id, .store_cap = N.store_cap };
		struct buf b = BUF_INIT;
		snprintf(ni.name, sizeof ni.name, "%s", N.name);
		job_encode_nodeinfo(&b, &ni, (size_t)-1);
		workers_send(0, &b);
		buf_free(&b);
	}
	send_telemetry();
	N.next_tele = now_us() + TELEMETRY_MS * 1000u;
}

static void on_down(struct link *l, int reason, void *user)
{
	(void)l;
	(void)user;
	log_info("session down: %s; stopping %d running job(s)", strerror(-reason), workers_running());
	workers_kill_all(WEV_LINK_LOST);
}

static void on_message(struct link *l, uint32_t stream, uint8_t *data, size_t len, void *user)
{
	(void)l;
	(void)stream;
	(void)user;
	workers_message(data, len);
	free(data);
}

static const struct link_callbacks cb = {
	.up = on_up,
	.down = on_down,
	.message = on_message,
};

/* ---- setup ---- */

static void usage(FILE *to, int code)
{
	fprintf(to,
"Usage: noded [OPTIONS] [IFACE]\n"
"\n"
"The usbfarm node daemon. Serves compile jobs from the hub over the link on\n"
"IFACE (default usb0: the board's USB gadget Ethernet). It offers the\n"
"compilers found on $PATH (or those given with --compilers), runs each job\n"
"with the local compiler of the same identity in a private temp dir, one\n"
"process per slot, and sends back the object, stdout, stderr and status.\n"
"\n"
"Options:\n"
"  -i, --id ID            identity told to the hub (default: /etc/machine-id,\n"
"                         else the hostname)\n"
"  -n, --slots N          jobs at once (default: the number of CPUs)\n"
"      --uid-base UID     start of the reserved uid range the slots run as\n"
"                         (default %u; %u blocks of %u, one per noded; no\n"
"                         user or group of the system may have an id there)\n"
"      --insecure-no-sandbox  run jobs without the sandbox (no namespaces):\n"
"                         only where the kernel refuses them, never silently\n"
"      --launcher PROG    run each compiler as PROG COMPILER ARGS... (e.g. an\n"
"                         emulator's runner; PROG must be in --toolchain)\n"
"      --toolchain DIRS   ':'-separated paths a job sees read-only (default\n"
"                         %s)\n"
"      --max-mem SIZE     ceiling of a job's address space (default: the\n"
"                         board's RAM, at least 512M; K/M/G suffixes)\n"
"      --max-cpu SEC      ceiling of a job's CPU time (default 600)\n"
"      --max-time SEC     ceiling of a job's wall time (default 900)\n"
"      --max-procs N      processes of one job (default 64)\n"
"      --max-files N      open files of one job's process (default 256)\n"
"      --store DIR        the board's store of tree jobs' inputs (default\n"
"                         " STORE_DIR_DEFAULT "; its id kept in DIR/id)\n"
"      --store-cap SIZE   the store's size cap (default 2G; K/M/G suffixes)\n"
"      --no-store         take no tree jobs (text jobs only)\n"
"  -C, --compilers LIST   offer only these compilers: comma-separated absolute\n"
"                         paths (identified directly) or kinds (gcc, g++,\n"
"                         clang, clang++) filtering the $PATH scan\n"
"  -T, --tmpdir DIR       where job directories are made (default $TMPDIR or /tmp)\n"
"      --syslog           log to syslog instead of stderr\n"
"  -v, --verbose          log every job\n"
"  -h, --help             this help\n"
"\n"
"SIGTERM and SIGINT stop noded; running jobs are killed (the hub retries them\n"
"elsewhere).\n", SLOTS_UID_BASE, SLOTS_BLOCKS, SLOTS_BLOCK_UIDS, SANDBOX_RO_DEFAULT);
	exit(code);
}

/* The board's interface lost carrier (host unplugged) or went away. */
static void on_ifevent(const struct ifw_info *in, void *user)
{
	(void)user;
	if (strcmp(in->name, N.iface) != 0 || !N.link)
		return;
	if (in->event != IFW_CARRIER_UP && link_state(N.link) == LINK_UP) {
		log_info("%s: %s: ending the session now", N.iface, ifw_event_name(in->event));
		link_reset(N.link, -ENETDOWN);
	}
}

/* "512M", "4G", "1000000": bytes; 0 if bad. */
static uint64_t parse_size(const char *a)
{
	char *e;
	unsigned long long v = strtoull(a, &e, 10);
	int sh = *e == 'K' || *e == 'k' ? 10 : *e == 'M' || *e == 'm' ? 20 :
		 *e == 'G' || *e == 'g' ? 30 : 0;
	if (e == a || (sh && e[1]) || (!sh && *e) || v > (1ull << 40))
		return 0;
	return (uint64_t)v << sh;
}

static uint32_t parse_u32(const char *a, const char *opt, uint32_t lo, uint32_t hi)
{
	char *e;
	unsigned long v = strtoul(a, &e, 10);
	if (e == a || *e || v < lo || v > hi)
		fatal("bad %s '%s' (%u..%u)", opt, a, (unsigned)lo, (unsigned)hi);
	return (uint32_t)v;
}

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void default_ident(void)
{
	char host[64] = "node";
	FILE *f = fopen("/etc/machine-id", "re");
	char mid[64];

	gethostname(host, sizeof host - 1);
	host[sizeof host - 1] = 0;
	snprintf(N.name, sizeof N.name, "%s", host);
	if (f && fscanf(f, "%40s", mid) == 1 && strlen(mid) >= 8) {
		snprintf(N.ident, sizeof N.ident, "%s", mid);
	} else {
		snprintf(N.ident, sizeof N.ident, "%s", host);
	}
	if (f)
		fclose(f);
}

static void load_compilers(const char *allow)
{
	struct compiler_id *scan = NULL;
	size_t nscan = 0;
	bool need_scan = false;
	char *list = NULL, *tok, *save;

	if (allow) {
		list = strdup(allow);
		if (!list)
			fatal("out of memory");
		for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			if (*tok != '/')
				need_scan = true;
		free(list);
	}
	if (!allow || need_scan) {
		int rc = compiler_scan(&scan, &nscan);
		if (rc < 0)
			log_warn("compiler scan failed: %s", strerror(-rc));
	}
	N.compilers = calloc(nscan + JOB_MAX_COMPILERS, sizeof *N.compilers);
	if (!N.compilers)
		fatal("out of memory");
	if (!allow) {
		for (size_t i = 0; i < nscan && N.sv.ncompilers < JOB_MAX_COMPILERS; i++)
			N.compilers[N.sv.ncompilers++] = scan[i];
	} else {
		list = strdup(allow);
		if (!list)
			fatal("out of memory");
		for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (*tok == '/') {
				struct compiler_id id;
				int rc = compiler_identify(tok, &id);
				if (rc < 0) {
					log_warn("compiler %s: %s (not offered)", tok, strerror(-rc));
					continue;
				}
				if (N.sv.ncompilers < JOB_MAX_COMPILERS)
					N.compilers[N.sv.ncompilers++] = id;
			} else {
				for (size_t i = 0; i < nscan; i++)
					if (!strcmp(scan[i].kind, tok) && N.sv.ncompilers < JOB_MAX_COMPILERS)
						N.compilers[N.sv.ncompilers++] = scan[i];
			}
		}
		free(list);
	}
	free(scan);
	for (size_t i = 0; i < N.sv.ncompilers; i++) {
		char d[160];
		compiler_describe(&N.compilers[i], d, sizeof d);
		log_info("offers %s (%s)", d, N.compilers[i].path);
	}
	if (!N.sv.ncompilers)
		log_warn("no compilers to offer: every job will be refused");
}

/* The ceilings not given as options: memory from the board's RAM. */
static void default_ceilings(void)
{
	struct sysinfo si;
	uint64_t ram = 0;

	if (sysinfo(&si) == 0)
		ram = (uint64_t)si.totalram * si.mem_unit;
	if (!N.sv.ceil.mem_bytes)
		N.sv.ceil.mem_bytes = ram > (512ull << 20) ? ram : 512ull << 20;
	if (!N.sv.ceil.cpu_s)
		N.sv.ceil.cpu_s = 600;
	if (!N.sv.ceil.timeout_ms)
		N.sv.ceil.timeout_ms = 900000;
	if (!N.sv.ceil.nproc)
		N.sv.ceil.nproc = 64;
	if (!N.sv.ceil.nofile)
		N.sv.ceil.nofile = 256;
}

/* The sandbox checked, the slots' uid block claimed, what a predecessor
 * left ended, one dir per slot. */
static void setup_jobs(void)
{
	const char *root = N.tmp_root ? N.tmp_root : getenv("TMPDIR");
	char why[300];
	int rc;

	default_ceilings();
	if (!root || !*root)
		root = "/tmp";
	if (N.sv.launch.insecure) {
		log_warn("--insecure-no-sandbox: jobs run WITHOUT the sandbox (only the uid "
			 "drop and limits)");
	} else if (geteuid() != 0) {
		snprintf(N.sv.refuse, sizeof N.sv.refuse, "this node has no sandbox (noded is not root)");
	} else if (sandbox_probe(why, sizeof why) < 0) {
		snprintf(N.sv.refuse, sizeof N.sv.refuse, "this node has no sandbox: %.150s", why);
	}
	if (N.sv.refuse[0])
		log_warn("%s: every job is refused (--insecure-no-sandbox runs them without)",
			 N.sv.refuse);
	if (N.sv.launch.launcher && (N.sv.launch.launcher[0] != '/' || access(N.sv.launch.launcher, X_OK)))
		fatal("--launcher %s: not an absolute path of a program", N.sv.launch.launcher);
	rc = slots_claim(&N.sv.sl, N.uid_base, root, why, sizeof why);
	if (rc < 0)
		fatal("slots: %s", why);
	for (int i = 0; i < N.sv.slots; i++) {
		char p[4200];
		workers_slot_dir(i, p, sizeof p);
		if (mkdir(p, 0711) && errno != EEXIST)
			fatal("%s: %s", p, strerror(errno));
	}
	log_info("slots: uids %u..%u (block %u), jobs under %s; before starting: ended %u "
		 "leftover process(es), removed %u stale entr%s; ceilings: %llu MiB, %u s CPU, "
		 "%u s wall, %u procs, %u files", (unsigned)slots_uid(&N.sv.sl, 0),
		 (unsigned)slots_uid(&N.sv.sl, N.sv.slots - 1), N.sv.sl.block, N.sv.sl.root, N.sv.sl.killed,
		 N.sv.sl.swept, N.sv.sl.swept == 1 ? "y" : "ies",
		 (unsigned long long)(N.sv.ceil.mem_bytes >> 20), (unsigned)N.sv.ceil.cpu_s,
		 (unsigned)(N.sv.ceil.timeout_ms / 1000), (unsigned)N.sv.ceil.nproc,
		 (unsigned)N.sv.ceil.nofile);
}

/* ---- options ---- */

static const struct option long_opts[] = {
	{ "id", required_argument, NULL, 'i' },
	{ "slots", required_argument, NULL, 'n' },
	{ "user", required_argument, NULL, 'u' },
	{ "uid-base", required_argument, NULL, 1 },
	{ "insecure-no-sandbox", no_argument, NULL, 2 },
	{ "launcher", required_argument, NULL, 3 },
	{ "toolchain", required_argument, NULL, 4 },
	{ "max-mem", required_argument, NULL, 5 },
	{ "max-cpu", required_argument, NULL, 6 },
	{ "max-time", required_argument, NULL, 7 },
	{ "max-procs", required_argument, NULL, 8 },
	{ "max-files", required_argument, NULL, 9 },
	{ "store", required_argument, NULL, 10 },
	{ "store-cap", required_argument, NULL, 11 },
	{ "no-store", no_argument, NULL, 12 },
	{ "compilers", required_argument, NULL, 'C' },
	{ "tmpdir", required_argument, NULL, 'T' },
	{ "syslog", no_argument, NULL, 'S' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* One option of the job side (limits, sandbox, slots); false: not one. */
static bool job_option(int o, const char *arg)
{
	struct workers_ceil *c = &N.sv.ceil;

	switch (o) {
	case 'n': {
		char *e;
		long v = strtol(arg, &e, 10);
		if (*e || v < 1 || v > 1024)
			fatal("bad --slots '%s' (1..1024)", arg);
		N.sv.slots = (int)v;
		break;
	}
	case 1: N.uid_base = parse_u32(arg, "--uid-base", 1000,
				       0xfffffffeu - SLOTS_BLOCKS * SLOTS_BLOCK_UIDS); break;
	case 2: N.sv.launch.insecure = true; break;
	case 3: N.sv.launch.launcher = arg; break;
	case 4: N.sv.launch.ro_paths = arg; break;
	case 5: if (!(c->mem_bytes = parse_size(arg)))
			fatal("bad --max-mem '%s'", arg);
		break;
	case 6: c->cpu_s = parse_u32(arg, "--max-cpu", 1, 86400); break;
	case 7: c->timeout_ms = 1000 * parse_u32(arg, "--max-time", 1, 86400); break;
	case 8: c->nproc = parse_u32(arg, "--max-procs", 4, 4096); break;
	case 9: c->nofile = parse_u32(arg, "--max-files", 16, 65536); break;
	case 10: N.store.dir = arg; break;
	case 11: if (!(N.store.cap = parse_size(arg)))
			fatal("bad --store-cap '%s'", arg);
		break;
	case 12: N.store.disabled = true; break;
	default: return false;
	}
	return true;
}

/* The command line into N; *allow: --compilers; *use_syslog. */
static void parse_options(int argc, char **argv, const char **allow, bool *use_syslog)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int o;

	N.sv.slots = ncpu > 0 ? (int)ncpu : 1;
	N.uid_base = SLOTS_UID_BASE;
	default_ident();
	while ((o = getopt_long(argc, argv, "i:n:u:C:T:vh", long_opts, NULL)) != -1) {
		if (job_option(o, optarg))
			continue;
		switch (o) {
		case 'i':
			if (!*optarg || strlen(optarg) >= sizeof N.ident)
				fatal("--id must be 1..%d bytes", LINK_IDENT_MAX - 1);
			snprintf(N.ident, sizeof N.ident, "%s", optarg);
			snprintf(N.name, sizeof N.name, "%s", optarg);
			break;
		case 'u': fatal("--user is gone: each slot runs as a uid of its own (--uid-base)");
		case 'C': *allow = optarg; break;
		case 'T': N.tmp_root = optarg; break;
		case 'S': *use_syslog = true; break;
		case 'v': N.verbose++; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, 2); break;
		}
	}
	if (argc - optind > 1)
		usage(stderr, 2);
	N.iface = optind < argc ? argv[optind] : "usb0";
}

/* ---- setup ---- */

/* The HELLO blob: as many compilers as fit; the rest in a NODEINFO message. */
static void setup_hello(void)
{
	struct job_nodeinfo ni = { .slots = (uint16_t)N.sv.slots, .complete = true,
				    .compilers = N.compilers, .ncompilers = N.sv.ncompilers,
				    .store_id = N.store_id, .store_cap = N.store_cap };
	struct buf hb = BUF_INIT;
	int rc;

	snprintf(ni.name, sizeof ni.name, "%s", N.name);
	rc = job_encode_nodeinfo(&hb, &ni, LINK_APP_HELLO_MAX);
	if (rc < 0 || !buf_ok(&hb))
		fatal("cannot encode the node info");
	memcpy(N.hello, hb.data, hb.len);
	N.hello_len = hb.len;
	N.hello_complete = (size_t)rc == N.sv.ncompilers;
	buf_free(&hb);
	N.cfg = (struct link_config){ .ident = N.ident, .app_hello = N.hello,
				      .app_hello_len = N.hello_len };
}

/* Opens the link on N.iface: 0 or -errno (N.link stays NULL). */
static int open_link(void)
{
	struct link_io *io;
	int rc = link_io_packet(N.iface, &io);

	if (rc == 0)
		rc = link_new(io, &N.cfg, &cb, NULL, &N.link);
	if (rc < 0)
		N.link = NULL;
	workers_set_link(N.link);
	return rc;
}

static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* ---- the poll loop: fds, timers ---- */

/* Fires the timers that are due: TELEMETRY while the session is up; the
 * link reopened while there is none (the gadget may come back: replug). */
static void timers_fire(uint64_t now)
{
	if (N.link && link_state(N.link) == LINK_UP && now >= N.next_tele) {
		send_telemetry();
		N.next_tele = now + TELEMETRY_MS * 1000u;
	}
	if (!N.link && now >= N.relink_at) {
		if (open_link() == 0)
			log_info("link on %s reopened", N.iface);
		else
			N.relink_at = now + RELINK_MS * 1000u;
	}
}

/* ms until the next timer or link deadline, at most 1000. */
static int loop_timeout(uint64_t now)
{
	int timeout = N.link ? link_timeout_ms(N.link) : -1;
	uint64_t at = 0;

	if (N.link && link_state(N.link) == LINK_UP)
		at = N.next_tele;
	else if (!N.link)
		at = N.relink_at;
	if (at) {
		int t = at > now ? (int)((at - now) / 1000) + 1 : 0;
		if (timeout < 0 || t < timeout)
			timeout = t;
	}
	return timeout < 0 || timeout > 1000 ? 1000 : timeout;
}

/* The link died (the gadget went away): its jobs end, the relink timer
 * starts. */
static void link_lost(int rc)
{
	log_warn("link on %s is dead: %s; reopening", N.iface, strerror(rc < 0 ? -rc : ENODEV));
	workers_kill_all(WEV_LINK_LOST);
	link_free(N.link);
	N.link = NULL;
	workers_set_link(NULL);
	N.relink_at = now_us() + RELINK_MS * 1000u;
}

/* One round: poll the link, the netlink socket and the workers' pipes. */
static void poll_once(struct ifwatch *ifw, struct pollfd *pfd, int *widx)
{
	nfds_t n = 0, first_worker;
	uint64_t now = now_us();
	int rc, timeout;

	timers_fire(now);
	timeout = loop_timeout(now);
	if (N.link) {
		pfd[n] = (struct pollfd){ link_fd(N.link),
					  (short)(POLLIN | (link_want_write(N.link) ? POLLOUT : 0)), 0 };
		widx[n++] = -1;
	}
	if (ifw) {
		pfd[n] = (struct pollfd){ ifwatch_fd(ifw), POLLIN, 0 };
		widx[n++] = -2;
	}
	first_worker = n;
	n += workers_pollfds(pfd + n, widx + n);
	rc = poll(pfd, n, timeout);
	if (rc < 0 && errno != EINTR)
		fatal("poll: %s", strerror(errno));
	for (nfds_t i = 0; rc > 0 && i < n; i++) {
		if (!pfd[i].revents || widx[i] == -1)
			continue;
		if (widx[i] == -2)
			ifwatch_process(ifw);
		else if (i >= first_worker)
			workers_readable(widx[i]);
	}
	if (!N.link)
		return;
	rc = link_process(N.link);
	if (rc < 0 || link_state(N.link) == LINK_DEAD)
		link_lost(rc);
}

/* Options, setup, then the poll loop until SIGTERM/SIGINT. */
int main(int argc, char **argv)
{
	const char *allow = NULL;
	bool use_syslog = false;
	struct ifwatch *ifw = NULL;
	struct pollfd *pfd;
	int *widx, rc;

	parse_options(argc, argv, &allow, &use_syslog);
	log_init("noded", N.verbose, use_syslog);
	workers_init(&N.sv);	/* the config by pointer: filled in below */
	setup_jobs();
	load_compilers(allow);
	N.sv.compilers = N.compilers;
	noded_store_setup(&N.sv, &N.store, &N.store_id, &N.store_cap);
	setup_hello();
	rc = open_link();
	if (rc < 0)
		fatal("cannot open %s: %s", N.iface, strerror(-rc));
	setup_signals();
	log_info("serving on %s as %s: %d slot(s), %zu compiler(s)", N.iface, N.ident, N.sv.slots,
		 N.sv.ncompilers);
	/* Netlink: a lost carrier (the host side unplugged) ends the session at
	 * once instead of at the keepalive deadline; running jobs stop then. */
	rc = ifwatch_open(on_ifevent, NULL, &ifw);
	if (rc < 0)
		log_warn("netlink: %s: carrier loss is noticed by keepalives only", strerror(-rc));
	pfd = calloc((size_t)N.sv.slots + 2, sizeof *pfd);
	widx = calloc((size_t)N.sv.slots + 2, sizeof *widx);
	if (!pfd || !widx)
		fatal("out of memory");
	while (!stop_signal)
		poll_once(ifw, pfd, widx);
	log_info("signal %d: stopping", (int)stop_signal);
	workers_shutdown();
	if (N.link)
		link_free(N.link);
	ifwatch_close(ifw);
	noded_store_close(&N.sv);
	free(N.compilers);
	free(pfd);
	free(widx);
	return 0;
}
