/*
 * scand_client.c — dcc's side of the scan server (see scand.h): find it,
 * start it when none answers, one request at a time with deadlines.
 */
#include "scand.h"
#include "proto.h"
#include "../lib/clock.h"
#include "sha256.h"
#include "../lib/spawn.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* One connect: 0 and *fd, or -errno. The server must be our uid. */
static int try_connect(const char *path, int *out)
{
	struct ucred cr;
	socklen_t l = sizeof cr;
	int fd, rc = proto_connect(path, &fd);	/* hubd's socket's connect, bounded */

	if (rc < 0)
		return rc;
	rc = proto_set_deadlines(fd, SCAND_IO_MS, SCAND_IO_MS);
	if (rc == 0 && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) < 0)
		rc = -errno;
	else if (rc == 0 && cr.uid != getuid())
		rc = -EPERM;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

/* Starts `self --scan-server`: it daemonizes (the process we start exits
 * at once and is reaped here). 0 or -errno. */
static int start_server(const char *self)
{
	char *argv[] = { "dcc", "--scan-server", NULL };
	struct spawn_opts o = { .path = self, .argv = argv, .fd_in = -1, .fd_out = -1,
				.fd_err = -1 };
	pid_t pid = spawn_start(&o, NULL);
	int st;

	if (pid < 0)
		return (int)pid;
	st = spawn_wait(pid);
	return st == 0 ? 0 : -ECHILD;
}

int scand_connect(const char *self, int *fd, char *why, size_t wlen)
{
	char dir[PATH_MAX - 32], sock[PATH_MAX];
	uint64_t end;
	int rc = scand_dir(dir, sizeof dir);

	if (rc < 0) {
		snprintf(why, wlen, "the scan server's directory name is too long");
		return rc;
	}
	rc = scand_dir_check(dir, why, wlen);
	if (rc < 0)
		return rc;
	snprintf(sock, sizeof sock, "%s/scan.sock", dir);
	rc = try_connect(sock, fd);
	if (rc == 0)
		return 0;
	if (rc != -ENOENT && rc != -ECONNREFUSED) {
		snprintf(why, wlen, "%s: %s", sock, strerror(-rc));
		return rc;
	}
	if (!self || (rc = start_server(self)) < 0) {
		snprintf(why, wlen, "cannot start the scan server: %s",
			 self ? strerror(-rc) : "dcc's own path unknown");
		return self ? rc : -ENOENT;
	}
	end = now_ms() + SCAND_START_MS;
	while ((rc = try_connect(sock, fd)) < 0 && now_ms() < end)
		usleep(10000);
	if (rc < 0)
		snprintf(why, wlen, "the scan server started but %s did not answer in %d ms: %s "
			 "(see %s/scan.log)", sock, SCAND_START_MS, strerror(-rc), dir);
	return rc;
}

/* Sends the frame in out, reads the answer of type t into in: 0 or -errno. */
static int call(int fd, const struct buf *out, struct buf *in, enum scand_type t, char *why,
		size_t wlen)
{
	int rc = scand_send(fd, out);

	if (rc == 0)
		rc = scand_recv(fd, in);
	if (rc == 0 && scand_type(in->data, in->len) != (int)t)
		rc = -EPROTO;
	if (rc < 0)
		snprintf(why, wlen, "the scan server: %s",
			 rc == -EAGAIN ? "no answer in time" : strerror(-rc));
	return rc;
}

int scand_scan(int fd, const struct scand_req *q, struct scand_res *res, char *why, size_t wlen)
{
	struct buf out = BUF_INIT, in = BUF_INIT;
	int rc = scand_encode_req(&out, q);

	if (rc < 0)
		snprintf(why, wlen, "the command does not fit the scan server's request");
	else if ((rc = call(fd, &out, &in, SCAND_RESULT, why, wlen)) == 0 &&
		 (rc = scand_decode_res(in.data, in.len, res)) < 0)
		snprintf(why, wlen, "the scan server's answer: %s", strerror(-rc));
	buf_free(&out);
	buf_free(&in);
	return rc;
}

int scand_remember(int fd, const struct scand_remember *m, char *why, size_t wlen)
{
	struct buf out = BUF_INIT, in = BUF_INIT;
	int32_t ack = 0;
	int rc = scand_encode_remember(&out, m);

	if (rc < 0)
		snprintf(why, wlen, "the names do not fit the scan server's request");
	else if ((rc = call(fd, &out, &in, SCAND_ACK, why, wlen)) == 0 &&
		 (rc = scand_decode_ack(in.data, in.len, &ack)) == 0 && ack < 0) {
		rc = ack;
		snprintf(why, wlen, "the scan server could not remember them: %s", strerror(-rc));
	}
	buf_free(&out);
	buf_free(&in);
	return rc;
}

int scand_stats(int fd, struct scand_stats *st, char *why, size_t wlen)
{
	struct buf out = BUF_INIT, in = BUF_INIT;
	int rc;

	scand_begin(&out, SCAND_STATS_REQ);
	rc = scand_end(&out);
	if (rc == 0 && (rc = call(fd, &out, &in, SCAND_STATS, why, wlen)) == 0 &&
	    (rc = scand_decode_stats(in.data, in.len, st)) < 0)
		snprintf(why, wlen, "the scan server's stats: %s", strerror(-rc));
	buf_free(&out);
	buf_free(&in);
	return rc;
}

static void print_result(const struct scand_res *x)
{
	const struct scan_result *r = &x->r;
	char h[65];

	for (size_t i = 0; i < r->nin; i++) {
		sha256_hex(r->in[i].sha256, 32, h);
		printf("in %s %llu %s %s\n", S_ISDIR(r->in[i].mode) ? "dir" : h,
		       (unsigned long long)r->in[i].size, r->in[i].path, r->in[i].spelled);
	}
	for (size_t i = 0; i < r->nlinks; i++)
		printf("link %s %s\n", r->links[i].path, r->links[i].target);
	for (size_t i = 0; i < r->ngaps; i++)
		printf("gap %s %s\n", r->gaps[i].file, r->gaps[i].text);
	printf("incomplete %d\n", r->incomplete);
}

static void print_stats(const struct scand_stats *s)
{
	printf("server pid %u uptime %llu s clients %llu scans %llu failed %llu remembered %llu\n",
	       s->pid, (unsigned long long)s->uptime_s, (unsigned long long)s->clients,
	       (unsigned long long)s->scans, (unsigned long long)s->scan_errors,
	       (unsigned long long)s->remembers);
	printf("table jobs %llu lookups %llu lstats %llu hits %llu rehashes %llu bytes_hashed %llu "
	       "nodes %zu mem %zu\n", (unsigned long long)s->ft.jobs,
	       (unsigned long long)s->ft.lookups, (unsigned long long)s->ft.lstats,
	       (unsigned long long)s->ft.hits, (unsigned long long)s->ft.rehashes,
	       (unsigned long long)s->ft.bytes_hashed, s->ft.nodes, s->ft.mem);
}

int scand_cli(const char *self, int argc, char **argv)
{
	struct scand_req q = { .argv = argv + 1, .argc = argc - 1 };
	struct scand_res res;
	struct scand_stats st;
	bool stats = argc > 1 && !strcmp(argv[1], "--stats");
	char why[PATH_MAX + 128];
	int fd, rc;

	if (stats) {
		q.argv++;
		q.argc--;
	}
	if ((q.argc < 1 && !stats) || !getcwd(q.cwd, sizeof q.cwd)) {
		fprintf(stderr, "usage: dcc --scan [--stats] [CC ARGS...]\n");
		return 2;
	}
	if (scand_connect(self, &fd, why, sizeof why) < 0) {
		fprintf(stderr, "dcc --scan: %s\n", why);
		return 1;
	}
	rc = 0;
	if (q.argc >= 1) {
		rc = scand_scan(fd, &q, &res, why, sizeof why);
		if (rc == 0 && res.rc < 0)
			snprintf(why, sizeof why, "%s", res.r.err);
		if (rc == 0 && res.rc == 0)
			print_result(&res);
		if (rc == 0) {
			rc = res.rc;
			scan_result_free(&res.r);
		}
	}
	if (rc == 0 && stats && (rc = scand_stats(fd, &st, why, sizeof why)) == 0)
		print_stats(&st);
	close(fd);
	if (rc < 0)
		fprintf(stderr, "dcc --scan: %s\n", why);
	return rc < 0 ? 1 : 0;
}
