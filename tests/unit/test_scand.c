/* test_scand.c — the scan server (hub/scand*.c): its wire (round trips,
 * every truncation refused, counts over what the frame holds), the
 * directory check, and a real server process (forked, in the foreground)
 * shared by two connections: scans, a remembered input, stats, SIGTERM. */
#include "scand.h"
#include "../lib/test.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_wire(void)
{
	struct buf b = BUF_INIT;

	T_CASE("scand_req_roundtrip") {
		char *argv[] = { "gcc", "-Iinc", "-c", "a.c", NULL };
		struct scand_req q = { .argv = argv, .argc = 4 }, d;
		strcpy(q.compiler, "/usr/bin/gcc");
		strcpy(q.cwd, "/home/u");
		T_CHECK(scand_encode_req(&b, &q) == 0, "encode");
		T_CHECK(scand_type(b.data + 4, b.len - 4) == SCAND_SCAN, "type");
		T_CHECK(scand_decode_req(b.data + 4, b.len - 4, &d) == 0 && d.argc == 4 &&
			!strcmp(d.argv[3], "a.c") && !strcmp(d.cwd, "/home/u") &&
			!strcmp(d.compiler, "/usr/bin/gcc"), "decode");
		scand_req_free(&d);
		for (size_t k = 4; k < b.len; k++)
			T_CHECK(scand_decode_req(b.data + 4, k - 4, &d) < 0, "cut %zu", k);
		buf_free(&b);
		strcpy(q.cwd, "rel");
		T_CHECK(scand_encode_req(&b, &q) == -EINVAL, "relative cwd");
		buf_free(&b);
	}
	T_CASE("scand_res_roundtrip") {
		struct scan_input in[2] = { { "/p/a.c", "a.c", { 1, 2 }, 10, 0100644 },
					    { "/p/inc", "inc", { 0 }, 0, 040755 } };
		struct scan_link ln[1] = { { "/p/l.h", "inc/l.h" } };
		struct scan_gap gp[1] = { { "/p/a.c", "FOO(x)", true } };
		struct scand_res x = { .rc = 0, .scan_us = 42 }, d;
		x.r = (struct scan_result){ .in = in, .nin = 2, .links = ln, .nlinks = 1, .gaps = gp,
					    .ngaps = 1, .incomplete = true, .scanned = 3 };
		T_CHECK(scand_encode_res(&b, &x) == 0, "encode");
		T_CHECK(scand_decode_res(b.data + 4, b.len - 4, &d) == 0, "decode");
		T_CHECK(d.scan_us == 42 && d.r.nin == 2 && !strcmp(d.r.in[1].spelled, "inc") &&
			d.r.in[0].sha256[1] == 2 && d.r.in[0].size == 10 && d.r.in[1].mode == 040755 &&
			d.r.nlinks == 1 && !strcmp(d.r.links[0].target, "inc/l.h") && d.r.ngaps == 1 &&
			d.r.gaps[0].remembered && !strcmp(d.r.gaps[0].text, "FOO(x)") &&
			d.r.incomplete && d.r.scanned == 3, "fields");
		scan_result_free(&d.r);
		for (size_t k = 4; k < b.len; k++)
			T_CHECK(scand_decode_res(b.data + 4, k - 4, &d) == -EPROTO, "cut %zu", k);
		/* the input count (after rc, err, scan_us, 2 flags, 3 counters) */
		size_t at = 4 + 2 + 4 + 2 + 8 + 3 + 24;
		T_CHECK(b.data[at + 3] == 2, "count found");
		memcpy(b.data + at, "\0\x0f\xff\xff", 4);
		T_CHECK(scand_decode_res(b.data + 4, b.len - 4, &d) == -EPROTO, "huge count");
		buf_free(&b);
		in[1].spelled = "";
		T_CHECK(scand_encode_res(&b, &x) == -EINVAL, "empty name encoded");
		buf_free(&b);
	}
	T_CASE("scand_remember_ack_stats") {
		char *names[] = { "/p/gen.h", "/usr/include/x.h" };
		struct scand_remember m = { .names = names, .n = 2 }, d;
		struct scand_stats st = { .pid = 7, .scans = 9, .ft.hits = 5 }, ds;
		int32_t rc;
		strcpy(m.file, "/p/a.c");
		T_CHECK(scand_encode_remember(&b, &m) == 0 &&
			scand_decode_remember(b.data + 4, b.len - 4, &d) == 0 && d.n == 2 &&
			!strcmp(d.names[1], names[1]) && !strcmp(d.file, "/p/a.c"), "remember");
		scand_remember_free(&d);
		for (size_t k = 4; k < b.len; k++)
			T_CHECK(scand_decode_remember(b.data + 4, k - 4, &d) == -EPROTO, "cut %zu", k);
		buf_free(&b);
		names[0] = "gen.h";
		T_CHECK(scand_encode_remember(&b, &m) == -EINVAL, "relative name");
		buf_free(&b);
		T_CHECK(scand_encode_ack(&b, -ENOMEM) == 0 &&
			scand_decode_ack(b.data + 4, b.len - 4, &rc) == 0 && rc == -ENOMEM, "ack");
		buf_free(&b);
		T_CHECK(scand_encode_stats(&b, &st) == 0 &&
			scand_decode_stats(b.data + 4, b.len - 4, &ds) == 0 && ds.pid == 7 &&
			ds.scans == 9 && ds.ft.hits == 5, "stats");
		T_CHECK(scand_decode_stats(b.data + 4, b.len - 5, &ds) == -EPROTO, "stats cut");
		buf_free(&b);
	}
}

static void test_dir(const char *tmp)
{
	char d[PATH_MAX], l[PATH_MAX], why[PATH_MAX + 64];

	T_CASE("scand_dir_checked") {
		snprintf(d, sizeof d, "%s/ok", tmp);
		T_CHECK(scand_dir_check(d, why, sizeof why) == 0, "made: %s", why);
		struct stat st;
		T_CHECK(stat(d, &st) == 0 && (st.st_mode & 0777) == 0700, "mode 0%o",
			(unsigned)(st.st_mode & 0777));
		snprintf(d, sizeof d, "%s/open", tmp);
		mkdir(d, 0700);
		chmod(d, 0777);
		T_CHECK(scand_dir_check(d, why, sizeof why) == -EPERM && strstr(why, "writable"),
			"world-writable: %s", why);
		snprintf(l, sizeof l, "%s/link", tmp);
		snprintf(d, sizeof d, "%s/ok", tmp);
		T_CHECK(symlink(d, l) == 0 && scand_dir_check(l, why, sizeof why) == -ENOTDIR,
			"a symlink: %s", why);
		if (getuid() == 0) {
			snprintf(d, sizeof d, "%s/theirs", tmp);
			mkdir(d, 0700);
			T_CHECK(chown(d, 65534, 65534) == 0 &&
				scand_dir_check(d, why, sizeof why) == -EPERM && strstr(why, "owned"),
				"another user's: %s", why);
		}
	}
}

static pid_t start_server_idle(const char *idle)
{
	char *argv[] = { "dcc", "--scan-server", "--foreground", "--idle", (char *)idle, NULL };
	pid_t p = fork();

	if (p == 0)
		_exit(scand_main(5, argv));
	return p;
}

static pid_t start_server(void)
{
	return start_server_idle("600");
}

static int connect_to_started(int *fd, char *why, size_t wl)
{
	int rc = -1;

	/* the server binds after its fork: poll for it (a bound, not a deadline) */
	for (int i = 0; i < 1000 && rc < 0; i++) {
		rc = scand_connect(NULL, fd, why, wl);
		if (rc < 0)
			usleep(10000);
	}
	return rc;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_server(const char *tmp)
{
	char src[PATH_MAX], why[PATH_MAX + 128], run[256], logp[PATH_MAX];
	char *argv[] = { "cc", "-nostdinc", "-c", src, NULL };
	struct scand_req q = { .argv = argv, .argc = 4 };
	struct scand_res r1, r2;
	struct scand_stats st;
	int fd1 = -1, fd2 = -1, status = -1;
	pid_t p;

	snprintf(run, sizeof run, "%s/run", tmp);
	mkdir(run, 0700);
	setenv("XDG_RUNTIME_DIR", run, 1);
	snprintf(src, sizeof src, "%s/a.c", tmp);
	write_file(src, "#include \"a.h\"\n#include GEN(x)\nint a;\n");
	snprintf(why, sizeof why, "%s/a.h", tmp);
	write_file(why, "int h;\n");
	strcpy(q.cwd, tmp);
	T_CASE("scand_server_shared") {
		T_CHECK(scand_connect(NULL, &fd1, why, sizeof why) == -ENOENT, "none yet: %s", why);
		p = start_server();
		T_CHECK(p > 0 && connect_to_started(&fd1, why, sizeof why) == 0, "connect: %s", why);
		T_CHECK(scand_connect(NULL, &fd2, why, sizeof why) == 0, "second client: %s", why);
		T_CHECK(scand_scan(fd1, &q, &r1, why, sizeof why) == 0 && r1.rc == 0, "scan: %s %s",
			why, r1.r.err);
		T_CHECK(r1.r.nin == 2 && r1.r.ngaps == 1 && r1.r.incomplete, "%zu inputs %zu gaps",
			r1.r.nin, r1.r.ngaps);
		T_CHECK(!r1.time_macros, "no time macro in a.c, a.h");
		char gen[PATH_MAX + 8];
		snprintf(gen, sizeof gen, "%s/gen.h", tmp);
		write_file(gen, "const char *g = __TIME__;\n");
		char *names[] = { gen };
		struct scand_remember m = { .names = names, .n = 1 };
		snprintf(m.file, sizeof m.file, "%s", r1.r.in[0].path);
		T_CHECK(scand_remember(fd2, &m, why, sizeof why) == 0, "remember: %s", why);
		T_CHECK(scand_scan(fd2, &q, &r2, why, sizeof why) == 0 && r2.rc == 0, "scan 2");
		T_CHECK(r2.time_macros, "gen.h names __TIME__");
		T_CHECK(r2.r.nin == 3 && !r2.r.incomplete && r2.r.remembered == 1,
			"the other client's remembered input: %zu inputs, incomplete %d", r2.r.nin,
			r2.r.incomplete);
		T_CHECK(scand_stats(fd1, &st, why, sizeof why) == 0 && st.pid == (uint32_t)p &&
			st.clients == 2 && st.scans == 2 && st.remembers == 1 && st.ft.jobs == 2,
			"stats: pid %u clients %llu scans %llu table jobs %llu", st.pid,
			(unsigned long long)st.clients, (unsigned long long)st.scans,
			(unsigned long long)st.ft.jobs);
		scan_result_free(&r1.r);
		scan_result_free(&r2.r);
		close(fd1);
		close(fd2);
		T_CHECK(kill(p, SIGTERM) == 0 && waitpid(p, &status, 0) == p &&
			WIFEXITED(status) && WEXITSTATUS(status) == 0, "SIGTERM: status %d", status);
		snprintf(logp, sizeof logp, "%s/usbfarm/scan.log", run);
		struct buf lb = BUF_INIT;
		T_CHECK(buf_read_file(&lb, logp, 1 << 20) == 0, "log");
		buf_put(&lb, "", 1);
		T_CHECK(lb.data && strstr((char *)lb.data, "signal 15: exiting") &&
			strstr((char *)lb.data, "remembered 1 inputs"), "log says: %s",
			lb.data ? (char *)lb.data : "");
		buf_free(&lb);
		snprintf(logp, sizeof logp, "%s/usbfarm/scan.sock", run);
		T_CHECK(access(logp, F_OK) < 0, "socket left behind");
	}
}

/* The log has text (the server's own lines). */
static bool log_has(const char *run, const char *text)
{
	char p[PATH_MAX];
	struct buf b = BUF_INIT;
	bool yes;

	snprintf(p, sizeof p, "%s/usbfarm/scan.log", run);
	yes = buf_read_file(&b, p, 1 << 20) == 0 && (buf_put(&b, "", 1), b.data) &&
	      strstr((char *)b.data, text);
	buf_free(&b);
	return yes;
}

static void test_server_ends(const char *tmp)
{
	char run[256], why[PATH_MAX + 128], sock[PATH_MAX];
	int fd = -1, status = -1;
	pid_t p;

	snprintf(run, sizeof run, "%s/run", tmp);
	snprintf(sock, sizeof sock, "%s/usbfarm/scan.sock", run);
	T_CASE("scand_idle_exit") {
		p = start_server_idle("1");
		T_CHECK(p > 0 && connect_to_started(&fd, why, sizeof why) == 0, "connect: %s", why);
		close(fd);
		/* no deadline here: a server that never idles out hangs the test */
		T_CHECK(waitpid(p, &status, 0) == p && WIFEXITED(status) && !WEXITSTATUS(status),
			"status %d", status);
		T_CHECK(log_has(run, "no client for 1 s: exiting") && access(sock, F_OK) < 0,
			"log or socket");
	}
	T_CASE("scand_exits_when_its_socket_goes") {
		p = start_server();
		T_CHECK(p > 0 && connect_to_started(&fd, why, sizeof why) == 0, "connect: %s", why);
		close(fd);
		T_CHECK(unlink(sock) == 0, "unlink");
		T_CHECK(waitpid(p, &status, 0) == p && WIFEXITED(status) && !WEXITSTATUS(status),
			"status %d", status);
		T_CHECK(log_has(run, "is gone or another server's: exiting"), "log");
	}
}

int main(void)
{
	char tmp[] = "/tmp/test_scand.XXXXXX";

	if (!mkdtemp(tmp))
		return 1;
	test_wire();
	test_dir(tmp);
	test_server(tmp);
	test_server_ends(tmp);
	char cmd[64];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	if (system(cmd) != 0)
		return 1;
	return t_done();
}
