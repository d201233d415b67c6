/*
 * noded.c — the node daemon: one link to the hub, one worker process per
 * running job.
 *
 * The parent owns the link and never blocks: it decodes each JOB, forks a
 * worker (which runs exec_run() and writes the encoded RESULT to a CLOEXEC
 * pipe, then exits), reads the workers' pipes in the same poll loop, and
 * sends each RESULT. Every JOB gets exactly one RESULT: the compiler's, or a
 * farm error (no such compiler, busy, worker died, cancelled). CANCEL kills
 * the worker's process group. A lost session kills every running job: the
 * hub has already failed them over. TELEMETRY goes out every few seconds.
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

#include "../lib/compiler.h"
#include "../lib/ifwatch.h"
#include "../lib/job.h"
#include "../lib/link.h"
#include "exec.h"
#include "exec_job.h"
#include "sandbox.h"
#include "slots.h"

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
#define RESULT_PIPE_MAX ((size_t)JOB_MAX_OUTPUT * 2 + (size_t)JOB_MAX_TEXT * 2 + 4096)

struct worker {
	bool used;
	bool dirty;		/* ended from outside: slot_clean() before reuse */
	uint64_t job_id;
	pid_t pid;
	int fd;			/* read end of the result pipe */
	struct buf res;
	bool cancelled;
	uint64_t t_start;
};

static struct {
	const char *iface;
	char ident[LINK_IDENT_MAX];
	char name[JOB_NODE_NAME_MAX];
	int slots;
	const char *tmp_root;
	struct slots sl;
	uid_t uid_base;		/* of the reserved range (--uid-base) */
	struct exec_launch launch;
	char refuse[200];	/* non-empty: every job is refused, and why */
	struct {
		uint32_t cpu_s, timeout_ms, nproc, nofile;
		uint64_t mem_bytes;
	} ceil;
	int verbose;
	struct compiler_id *compilers;
	size_t ncompilers;
	struct link *link;
	struct worker *w;
	uint64_t next_tele;
	uint64_t jobs_done, jobs_refused;
	uint8_t hello[LINK_APP_HELLO_MAX];
	size_t hello_len;
	bool hello_complete;
} N;

static volatile sig_atomic_t stop_signal;

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int running(void)
{
	int r = 0;
	for (int i = 0; i < N.slots; i++)
		r += N.w[i].used;
	return r;
}

static void send_msg(uint64_t job_id, struct buf *b)
{
	int rc;
	if (!N.link)
		return;
	if (!buf_ok(b)) {
		log_warn("job %llu: out of memory encoding a message", (unsigned long long)job_id);
		return;
	}
	rc = link_send(N.link, job_id ? job_stream(job_id) : 0, b->data, b->len, NULL);
	if (rc < 0)
		log_warn("job %llu: cannot send: %s", (unsigned long long)job_id, strerror(-rc));
}

static void send_farm_error(uint64_t job_id, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void send_farm_error(uint64_t job_id, int err, const char *fmt, ...)
{
	struct job_result r;
	struct buf b = BUF_INIT;
	va_list ap;

	memset(&r, 0, sizeof r);
	r.job_id = job_id;
	r.farm_error = err < 0 ? err : -EIO;
	va_start(ap, fmt);
	vsnprintf(r.o.error, sizeof r.o.error, fmt, ap);
	va_end(ap);
	log_info("job %llu refused: %s", (unsigned long long)job_id, r.o.error);
	N.jobs_refused++;
	job_encode_result(&b, &r);
	send_msg(job_id, &b);
	buf_free(&b);
}

static const struct compiler_id *find_compiler(const struct compiler_id *want)
{
	for (size_t i = 0; i < N.ncompilers; i++)
		if (compiler_match(&N.compilers[i], want))
			return &N.compilers[i];
	return NULL;
}

_Static_assert(EXEC_CWD_MAX == JOB_CWD_MAX, "exec and job agree on the hub cwd cap");

/* In the worker: run the job, write the encoded RESULT, exit. */
/* min(the hub's request, our ceiling); 0 asks for the ceiling. */
static uint64_t eff(uint64_t req, uint64_t ceiling)
{
	return req && req < ceiling ? req : ceiling;
}

/* The slot's own dir under the job root. */
static void slot_dir(int slot, char *p, size_t len)
{
	snprintf(p, len, "%s/%d", N.sl.root, slot);
}

/* After a job that did not end by itself: no process of the slot's uid
 * and nothing in its dir is left (see the top). */
static void slot_clean(int slot)
{
	char p[4200];
	int fd;
	unsigned k = geteuid() == 0 ? slots_kill_uids(slots_uid(&N.sl, slot), 1) : 0;

	slot_dir(slot, p, sizeof p);
	fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	unsigned n = fd >= 0 ? slots_empty_dir(fd) : 0;
	if (fd >= 0)
		close(fd);
	if (k || n)
		log_info("slot %d: ended %u process(es), removed %u entr%s", slot, k, n,
			 n == 1 ? "y" : "ies");
}

static void __attribute__((noreturn)) worker_main(int wfd, const struct job_spec *s,
						   const struct compiler_id *cc, uint64_t t0,
						   int slot)
{
	char dir[4200];

	struct exec_job ej;
	struct exec_result er;
	struct job_result r;
	struct buf b = BUF_INIT;

	memset(&ej, 0, sizeof ej);
	ej.compiler = cc->path;
	exec_job_from_desc(&ej, &s->d);	/* its cwd absolute, checked by job_decode_job */
	slot_dir(slot, dir, sizeof dir);
	ej.tmp_root = dir;
	ej.limits.cpu_s = (uint32_t)eff(s->limits.cpu_s, N.ceil.cpu_s);
	ej.limits.mem_bytes = eff(s->limits.mem_bytes, N.ceil.mem_bytes);
	ej.limits.out_bytes = eff(s->limits.out_bytes, JOB_MAX_OUTPUT);
	ej.limits.timeout_ms = (uint32_t)eff(s->limits.timeout_ms, N.ceil.timeout_ms);
	ej.limits.nproc = N.ceil.nproc;
	ej.limits.nofile = N.ceil.nofile;
	if (geteuid() == 0)
		ej.limits.uid = ej.limits.gid = slots_uid(&N.sl, slot);
	ej.launch = N.launch;
	exec_run(&ej, &er);

	memset(&r, 0, sizeof r);
	r.job_id = s->job_id;
	r.farm_error = er.farm_error > 0 ? -er.farm_error : er.farm_error;
	exec_outcome(&er, &r.o);
	r.o.status = er.status < 0 || er.status > 255 ? 255 : er.status;
	r.node_us = now_us() - t0;
	if (job_encode_result(&b, &r) < 0) {
		struct job_result f;
		memset(&f, 0, sizeof f);
		f.job_id = s->job_id;
		f.farm_error = -E2BIG;
		snprintf(f.o.error, sizeof f.o.error, "outputs over the protocol's caps");
		buf_free(&b);
		job_encode_result(&b, &f);
	}
	if (!buf_ok(&b) || write_full(wfd, b.data, b.len) < 0)
		_exit(2);
	_exit(0);
}

static void start_job(uint8_t *data, size_t len)
{
	struct job_spec s;
	const struct compiler_id *cc;
	struct worker *w = NULL;
	int p[2], rc;
	pid_t pid;
	uint64_t t0 = now_us();

	rc = job_decode_job(data, len, &s);
	if (rc < 0) {
		/* The id is the first field after the header; answer if readable. */
		struct cursor c = cur_init(data, len);
		cur_u16(&c);
		uint64_t id = cur_u64(&c);
		log_warn("malformed JOB (%zu bytes): %s", len, strerror(-rc));
		if (!c.err)
			send_farm_error(id, -EPROTO, "malformed job");
		return;
	}
	if (N.refuse[0]) {
		send_farm_error(s.job_id, -EPERM, "%s", N.refuse);
		goto out;
	}
	cc = find_compiler(&s.compiler);
	if (!cc) {
		char d[160];
		compiler_describe(&s.compiler, d, sizeof d);
		send_farm_error(s.job_id, -ENOENT, "no compiler %s on this node", d);
		goto out;
	}
	for (int i = 0; i < N.slots; i++)
		if (N.w[i].used && N.w[i].job_id == s.job_id) {
			send_farm_error(s.job_id, -EEXIST, "job already running");
			goto out;
		}
	for (int i = 0; i < N.slots && !w; i++)
		if (!N.w[i].used)
			w = &N.w[i];
	if (!w) {
		send_farm_error(s.job_id, -EBUSY, "all %d slots busy", N.slots);
		goto out;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		send_farm_error(s.job_id, -errno, "pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		send_farm_error(s.job_id, -errno, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		goto out;
	}
	if (pid == 0) {
		pid_t parent = getppid();
		setpgid(0, 0);
		/* the worker, and through it the job, dies with noded */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		close(p[0]);
		worker_main(p[1], &s, cc, t0, (int)(w - N.w));
	}
	setpgid(pid, pid);
	close(p[1]);
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	memset(w, 0, sizeof *w);
	w->used = true;
	w->job_id = s.job_id;
	w->pid = pid;
	w->fd = p[0];
	w->t_start = t0;
	log_debug("job %llu: started (pid %d, %zu bytes, %s)", (unsigned long long)s.job_id,
		  (int)pid, s.d.input_len, s.d.input_name);
out:
	job_spec_free(&s);
}

static void worker_kill(struct worker *w)
{
	if (!w->used)
		return;
	kill(-w->pid, SIGKILL);
	kill(w->pid, SIGKILL);
	w->cancelled = true;
	w->dirty = true;
}

/* The worker's pipe reached EOF (or failed): reap it and answer. */
static void worker_done(struct worker *w)
{
	int st = 0;
	enum job_msg_type t;
	struct job_result r;

	while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
		;
	/* The compiler may have left grandchildren: the group goes. */
	kill(-w->pid, SIGKILL);
	close(w->fd);
	if (w->dirty || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		slot_clean((int)(w - N.w));
	if (w->cancelled) {
		if (N.link && link_state(N.link) == LINK_UP)
			send_farm_error(w->job_id, -ECANCELED, "cancelled");
	} else if (WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
		   job_peek_type(w->res.data, w->res.len, &t) == 0 && t == JOB_MSG_RESULT &&
		   job_decode_result(w->res.data, w->res.len, &r) == 0 && r.job_id == w->job_id) {
		N.jobs_done++;
		log_debug("job %llu: done, status %d, %zu-byte object, %llu ms",
			  (unsigned long long)w->job_id, r.o.status, r.o.obj_len,
			  (unsigned long long)((now_us() - w->t_start) / 1000));
		if (r.farm_error)
			log_info("job %llu: not run: %s", (unsigned long long)w->job_id, r.o.error);
		send_msg(w->job_id, &w->res);
	} else {
		send_farm_error(w->job_id, -EIO, "worker died (%s %d)",
				WIFSIGNALED(st) ? "signal" : "exit",
				WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	}
	buf_free(&w->res);
	memset(w, 0, sizeof *w);
	w->fd = -1;
}

static void worker_readable(struct worker *w)
{
	for (;;) {
		if (buf_reserve(&w->res, 1 << 16) < 0) {
			worker_kill(w);
			worker_done(w);
			return;
		}
		ssize_t r = read(w->fd, w->res.data + w->res.len, w->res.cap - w->res.len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			worker_done(w);
			return;
		}
		w->res.len += (size_t)r;
		if (w->res.len > RESULT_PIPE_MAX) {
			worker_kill(w);
			w->dirty = true;
			buf_free(&w->res);
			w->cancelled = false; /* answered as "worker died" */
			worker_done(w);
			return;
		}
	}
}

/* ---- link callbacks ---- */

static void send_telemetry(void)
{
	struct job_telemetry t;
	struct buf b = BUF_INIT;

	job_telemetry_read(&t);
	t.running = (uint16_t)running();
	t.slots = (uint16_t)N.slots;
	job_encode_telemetry(&b, &t);
	send_msg(0, &b);
	buf_free(&b);
}

static void on_up(struct link *l, const struct link_peer *peer, void *user)
{
	(void)l;
	(void)user;
	log_info("session up with %s", peer->ident);
	if (!N.hello_complete) {
		struct job_nodeinfo ni = { (uint16_t)N.slots, true, "", N.compilers, N.ncompilers };
		struct buf b = BUF_INIT;
		snprintf(ni.name, sizeof ni.name, "%s", N.name);
		job_encode_nodeinfo(&b, &ni, (size_t)-1);
		send_msg(0, &b);
		buf_free(&b);
	}
	send_telemetry();
	N.next_tele = now_us() + TELEMETRY_MS * 1000u;
}

static void on_down(struct link *l, int reason, void *user)
{
	(void)l;
	(void)user;
	log_info("session down: %s; stopping %d running job(s)", strerror(-reason), running());
	for (int i = 0; i < N.slots; i++)
		worker_kill(&N.w[i]);
}

static void on_message(struct link *l, uint32_t stream, uint8_t *data, size_t len, void *user)
{
	enum job_msg_type t;
	uint64_t id;
	(void)l;
	(void)stream;
	(void)user;

	if (job_peek_type(data, len, &t) < 0) {
		log_warn("unknown message (%zu bytes) dropped", len);
	} else if (t == JOB_MSG_JOB) {
		start_job(data, len);
	} else if (t == JOB_MSG_CANCEL) {
		if (job_decode_cancel(data, len, &id) == 0) {
			for (int i = 0; i < N.slots; i++)
				if (N.w[i].used && N.w[i].job_id == id) {
					log_debug("job %llu: cancelled", (unsigned long long)id);
					worker_kill(&N.w[i]);
				}
		}
	} else {
		log_warn("unexpected message type %d dropped", t);
	}
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
		for (size_t i = 0; i < nscan && N.ncompilers < JOB_MAX_COMPILERS; i++)
			N.compilers[N.ncompilers++] = scan[i];
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
				if (N.ncompilers < JOB_MAX_COMPILERS)
					N.compilers[N.ncompilers++] = id;
			} else {
				for (size_t i = 0; i < nscan; i++)
					if (!strcmp(scan[i].kind, tok) && N.ncompilers < JOB_MAX_COMPILERS)
						N.compilers[N.ncompilers++] = scan[i];
			}
		}
		free(list);
	}
	free(scan);
	for (size_t i = 0; i < N.ncompilers; i++) {
		char d[160];
		compiler_describe(&N.compilers[i], d, sizeof d);
		log_info("offers %s (%s)", d, N.compilers[i].path);
	}
	if (!N.ncompilers)
		log_warn("no compilers to offer: every job will be refused");
}

/* The ceilings not given as options: memory from the board's RAM. */
static void default_ceilings(void)
{
	struct sysinfo si;
	uint64_t ram = 0;

	if (sysinfo(&si) == 0)
		ram = (uint64_t)si.totalram * si.mem_unit;
	if (!N.ceil.mem_bytes)
		N.ceil.mem_bytes = ram > (512ull << 20) ? ram : 512ull << 20;
	if (!N.ceil.cpu_s)
		N.ceil.cpu_s = 600;
	if (!N.ceil.timeout_ms)
		N.ceil.timeout_ms = 900000;
	if (!N.ceil.nproc)
		N.ceil.nproc = 64;
	if (!N.ceil.nofile)
		N.ceil.nofile = 256;
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
	if (N.launch.insecure) {
		log_warn("--insecure-no-sandbox: jobs run WITHOUT the sandbox (only the uid "
			 "drop and limits)");
	} else if (geteuid() != 0) {
		snprintf(N.refuse, sizeof N.refuse, "this node has no sandbox (noded is not root)");
	} else if (sandbox_probe(why, sizeof why) < 0) {
		snprintf(N.refuse, sizeof N.refuse, "this node has no sandbox: %.150s", why);
	}
	if (N.refuse[0])
		log_warn("%s: every job is refused (--insecure-no-sandbox runs them without)",
			 N.refuse);
	if (N.launch.launcher && (N.launch.launcher[0] != '/' || access(N.launch.launcher, X_OK)))
		fatal("--launcher %s: not an absolute path of a program", N.launch.launcher);
	rc = slots_claim(&N.sl, N.uid_base, root, why, sizeof why);
	if (rc < 0)
		fatal("slots: %s", why);
	for (int i = 0; i < N.slots; i++) {
		char p[4200];
		slot_dir(i, p, sizeof p);
		if (mkdir(p, 0711) && errno != EEXIST)
			fatal("%s: %s", p, strerror(errno));
	}
	log_info("slots: uids %u..%u (block %u), jobs under %s; before starting: ended %u "
		 "leftover process(es), removed %u stale entr%s; ceilings: %llu MiB, %u s CPU, "
		 "%u s wall, %u procs, %u files", (unsigned)slots_uid(&N.sl, 0),
		 (unsigned)slots_uid(&N.sl, N.slots - 1), N.sl.block, N.sl.root, N.sl.killed,
		 N.sl.swept, N.sl.swept == 1 ? "y" : "ies",
		 (unsigned long long)(N.ceil.mem_bytes >> 20), (unsigned)N.ceil.cpu_s,
		 (unsigned)(N.ceil.timeout_ms / 1000), (unsigned)N.ceil.nproc,
		 (unsigned)N.ceil.nofile);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
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
		{ "compilers", required_argument, NULL, 'C' },
		{ "tmpdir", required_argument, NULL, 'T' },
		{ "syslog", no_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *allow = NULL;
	bool use_syslog = false;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct link_io *io;
	int o, rc;

	N.slots = ncpu > 0 ? (int)ncpu : 1;
	N.uid_base = SLOTS_UID_BASE;
	default_ident();
	while ((o = getopt_long(argc, argv, "i:n:u:C:T:vh", opts, NULL)) != -1) {
		switch (o) {
		case 'i':
			if (!*optarg || strlen(optarg) >= sizeof N.ident)
				fatal("--id must be 1..%d bytes", LINK_IDENT_MAX - 1);
			snprintf(N.ident, sizeof N.ident, "%s", optarg);
			snprintf(N.name, sizeof N.name, "%s", optarg);
			break;
		case 'n': {
			char *e;
			long v = strtol(optarg, &e, 10);
			if (*e || v < 1 || v > 1024)
				fatal("bad --slots '%s' (1..1024)", optarg);
			N.slots = (int)v;
			break;
		}
		case 'u': fatal("--user is gone: each slot runs as a uid of its own (--uid-base)");
		case 1: N.uid_base = parse_u32(optarg, "--uid-base", 1000,
					       0xfffffffeu - SLOTS_BLOCKS * SLOTS_BLOCK_UIDS); break;
		case 2: N.launch.insecure = true; break;
		case 3: N.launch.launcher = optarg; break;
		case 4: N.launch.ro_paths = optarg; break;
		case 5: if (!(N.ceil.mem_bytes = parse_size(optarg)))
				fatal("bad --max-mem '%s'", optarg);
			break;
		case 6: N.ceil.cpu_s = parse_u32(optarg, "--max-cpu", 1, 86400); break;
		case 7: N.ceil.timeout_ms = 1000 * parse_u32(optarg, "--max-time", 1, 86400); break;
		case 8: N.ceil.nproc = parse_u32(optarg, "--max-procs", 4, 4096); break;
		case 9: N.ceil.nofile = parse_u32(optarg, "--max-files", 16, 65536); break;
		case 'C': allow = optarg; break;
		case 'T': N.tmp_root = optarg; break;
		case 'S': use_syslog = true; break;
		case 'v': N.verbose++; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, 2); break;
		}
	}
	if (argc - optind > 1)
		usage(stderr, 2);
	N.iface = optind < argc ? argv[optind] : "usb0";
	log_init("noded", N.verbose, use_syslog);

	setup_jobs();

	load_compilers(allow);
	N.w = calloc((size_t)N.slots, sizeof *N.w);
	if (!N.w)
		fatal("out of memory");
	for (int i = 0; i < N.slots; i++)
		N.w[i].fd = -1;

	/* The HELLO blob: as many compilers as fit; the rest in a NODEINFO message. */
	struct job_nodeinfo ni = { (uint16_t)N.slots, true, "", N.compilers, N.ncompilers };
	struct buf hb = BUF_INIT;
	snprintf(ni.name, sizeof ni.name, "%s", N.name);
	rc = job_encode_nodeinfo(&hb, &ni, LINK_APP_HELLO_MAX);
	if (rc < 0 || !buf_ok(&hb))
		fatal("cannot encode the node info");
	memcpy(N.hello, hb.data, hb.len);
	N.hello_len = hb.len;
	N.hello_complete = (size_t)rc == N.ncompilers;
	buf_free(&hb);

	rc = link_io_packet(N.iface, &io);
	if (rc < 0)
		fatal("cannot open %s: %s", N.iface, strerror(-rc));
	struct link_config cfg = { .ident = N.ident, .app_hello = N.hello,
				   .app_hello_len = N.hello_len };
	rc = link_new(io, &cfg, &cb, NULL, &N.link);
	if (rc < 0)
		fatal("cannot start the link on %s: %s", N.iface, strerror(-rc));

	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	log_info("serving on %s as %s: %d slot(s), %zu compiler(s)", N.iface, N.ident, N.slots,
		 N.ncompilers);

	/* Netlink: a lost carrier (the host side unplugged) ends the session at
	 * once instead of at the keepalive deadline; running jobs stop then. */
	struct ifwatch *ifw = NULL;
	rc = ifwatch_open(on_ifevent, NULL, &ifw);
	if (rc < 0)
		log_warn("netlink: %s: carrier loss is noticed by keepalives only", strerror(-rc));

	struct pollfd *pfd = calloc((size_t)N.slots + 2, sizeof *pfd);
	int *widx = calloc((size_t)N.slots + 2, sizeof *widx);
	if (!pfd || !widx)
		fatal("out of memory");
	while (!stop_signal) {
		nfds_t n = 0;
		int timeout = link_timeout_ms(N.link);
		uint64_t now = now_us();

		if (link_state(N.link) == LINK_UP) {
			if (now >= N.next_tele) {
				send_telemetry();
				N.next_tele = now + TELEMETRY_MS * 1000u;
			}
			int t = (int)((N.next_tele - now) / 1000) + 1;
			if (timeout < 0 || t < timeout)
				timeout = t;
		}
		pfd[n].fd = link_fd(N.link);
		pfd[n].events = (short)(POLLIN | (link_want_write(N.link) ? POLLOUT : 0));
		pfd[n].revents = 0;
		widx[n++] = -1;
		if (ifw) {
			pfd[n].fd = ifwatch_fd(ifw);
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			widx[n++] = -2;
		}
		for (int i = 0; i < N.slots; i++)
			if (N.w[i].used) {
				pfd[n].fd = N.w[i].fd;
				pfd[n].events = POLLIN;
				pfd[n].revents = 0;
				widx[n++] = i;
			}
		if (timeout < 0 || timeout > 1000)
			timeout = 1000;
		rc = poll(pfd, n, timeout);
		if (rc < 0 && errno != EINTR)
			fatal("poll: %s", strerror(errno));
		for (nfds_t i = 1; rc > 0 && i < n; i++) {
			if (!pfd[i].revents)
				continue;
			if (widx[i] == -2)
				ifwatch_process(ifw);
			else if (N.w[widx[i]].used)
				worker_readable(&N.w[widx[i]]);
		}
		rc = link_process(N.link);
		if (rc < 0 || link_state(N.link) == LINK_DEAD) {
			log_warn("link on %s is dead: %s; reopening", N.iface,
				 strerror(rc < 0 ? -rc : ENODEV));
			for (int i = 0; i < N.slots; i++)
				worker_kill(&N.w[i]);
			link_free(N.link);
			N.link = NULL;
			while (!stop_signal && !N.link) {
				/* The gadget may come back (replug): keep trying. */
				for (int i = 0; i < N.slots; i++)
					if (N.w[i].used)
						worker_readable(&N.w[i]);
				sleep(1);
				if (link_io_packet(N.iface, &io) == 0 &&
				    link_new(io, &cfg, &cb, NULL, &N.link) < 0)
					N.link = NULL;
			}
			if (N.link)
				log_info("link on %s reopened", N.iface);
			else
				break;
		}
	}
	log_info("signal %d: stopping", (int)stop_signal);
	for (int i = 0; i < N.slots; i++)
		if (N.w[i].used) {
			worker_kill(&N.w[i]);
			while (waitpid(N.w[i].pid, NULL, 0) < 0 && errno == EINTR)
				;
			close(N.w[i].fd);
			buf_free(&N.w[i].res);
			slot_clean(i);
		}
	if (N.link)
		link_free(N.link);
	ifwatch_close(ifw);
	free(N.w);
	free(N.compilers);
	free(pfd);
	free(widx);
	return 0;
}
