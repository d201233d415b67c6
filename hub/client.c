/*
 * client.c — dcc's side of hubd's unix socket (see client.h, proto.h).
 *
 * Never fails: every problem becomes HUB_FAILED with a reason, and dcc
 * compiles locally. Connecting to a socket nobody listens on fails at once
 * (ENOENT / ECONNREFUSED), so a build without hubd is not slowed down.
 * Nothing waits on hubd without a deadline: connect PROTO_CONNECT_MS, each
 * send HUB_SEND_MS without progress, and while the job waits or runs
 * HUB_SILENT_MS without a byte (hubd sends a keepalive every
 * PROTO_KEEPALIVE_MS). A dcc that hits a deadline marks hubd silent
 * (buildonce.h): the next dcc processes compile locally at once for a few
 * seconds, then try hubd again. A socket that exists but cannot be opened
 * (EACCES: not in hubd's group) is said on stderr once per build.
 */
#include "buildonce.h"
#include "../lib/clock.h"
#include "client.h"
#include "proto.h"
#include "sha256.h"

#include <grp.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int hub_socket_path(char *buf, size_t len)
{
	const char *env = getenv("USBFARM_SOCKET");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (env && *env)
		n = snprintf(buf, len, "%s", env);
	else if (geteuid() == 0 || access("/run/usbfarm/hubd.sock", W_OK) == 0)
		n = snprintf(buf, len, "/run/usbfarm/hubd.sock");
	else if (xdg && *xdg == '/')
		n = snprintf(buf, len, "%s/usbfarm/hubd.sock", xdg);
	else
		n = snprintf(buf, len, "/tmp/usbfarm-%u/hubd.sock", (unsigned)getuid());
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

static void failed(struct hub_result *res, const char *fmt, ...)
{
	va_list ap;
	res->outcome = HUB_FAILED;
	va_start(ap, fmt);
	vsnprintf(res->error, sizeof res->error, fmt, ap);
	va_end(ap);
}

static void put(struct buf *b, const uint8_t *p, size_t n)
{
	buf_put(b, p, n);
}

static bool is_timeout(int rc)
{
	return rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -ETIMEDOUT;
}

/* The socket is there but this user may not open it: say so, once. */
static void say_no_access(const char *path, int rc)
{
	char dir[256], *s, grp[64] = "";
	struct stat st;

	if (!once_per_build("noaccess", path))
		return;
	snprintf(dir, sizeof dir, "%s", path);
	s = strrchr(dir, '/');
	if (s && s != dir)
		*s = 0;
	if (stat(path, &st) == 0 || stat(dir, &st) == 0) {
		struct group *g = getgrgid(st.st_gid);
		if (g)
			snprintf(grp, sizeof grp, "%s", g->gr_name);
	}
	fprintf(stderr, "dcc: cannot open hubd's socket %s: %s; this build compiles "
		"locally (add the user to group %s, then log in again; said once per "
		"build)\n", path, strerror(-rc), grp[0] ? grp : "usbfarm");
}

/* The next frame that is not a keepalive; *payload malloc'd. */
static int read_answer(int fd, uint8_t **payload, long *len)
{
	uint8_t hdr[4];
	for (;;) {
		int rc = read_full(fd, hdr, sizeof hdr);
		long n;
		if (rc < 0)
			return rc;
		n = proto_frame_len(hdr);
		if (n < 0)
			return -EPROTO;
		*payload = malloc((size_t)n);
		if (!*payload)
			return -ENOMEM;
		rc = read_full(fd, *payload, (size_t)n);
		if (rc < 0 || proto_type(*payload, (size_t)n) != PROTO_KEEPALIVE) {
			*len = n;
			return rc;
		}
		free(*payload);
		*payload = NULL;
	}
}

/* Copies the answer's fields and outputs (they point into its frame). */
static int take_answer(const struct proto_answer *a, struct hub_result *res)
{
	const struct job_outcome *o = &a->o;

	res->status = o->status;
	put(&res->dep, o->dep, o->dep_len);
	res->unsent = a->unsent;	/* the answer's: now the result's */
	res->nunsent = a->nunsent;
	snprintf(res->node, sizeof res->node, "%s", a->node);
	snprintf(res->error, sizeof res->error, "%s", o->error);
	res->queue_us = a->queue_us;
	res->compile_us = o->wall_us;
	put(&res->out, o->out, o->out_len);
	put(&res->err, o->err, o->err_len);
	put(&res->obj, o->obj, o->obj_len);
	put(&res->dwo, o->dwo, o->dwo_len);
	if (!buf_ok(&res->out) || !buf_ok(&res->err) || !buf_ok(&res->obj) ||
	    !buf_ok(&res->dwo) || !buf_ok(&res->dep)) {
		buf_free(&res->dep);
		buf_free(&res->out);
		buf_free(&res->err);
		buf_free(&res->obj);
		buf_free(&res->dwo);
		return -ENOMEM;
	}
	return 0;
}

/* The SUBMIT header for job (the input bytes follow it unencoded). */
static int encode_job(const struct hub_job *job, struct buf *head, struct hub_result *res)
{
	struct proto_submit s;
	int rc;

	memset(&s, 0, sizeof s);
	if (snprintf(s.compiler, sizeof s.compiler, "%s", job->compiler ? job->compiler : "") >=
	    (int)sizeof s.compiler) {
		failed(res, "job names too long for the farm");
		return -EINVAL;
	}
	/* the node names the cwd in DW_AT_comp_dir: whole or not at all */
	if (job->d.cwd[0] != '/') {
		failed(res, "working directory not absolute or too long for the farm");
		return -EINVAL;
	}
	snprintf(s.source, sizeof s.source, "%s", job->source ? job->source : "");
	snprintf(s.text_why, sizeof s.text_why, "%s", job->text_why ? job->text_why : "");
	s.d = job->d;
	s.preprocess_us = job->preprocess_us;
	rc = proto_encode_submit_head(head, &s);
	if (rc < 0)
		failed(res, "job not representable for the farm (%s)", strerror(-rc));
	return rc;
}

/* Connects to hubd at path and sends the SUBMIT (head, then the input:
 * write_full, dcc ignores SIGPIPE). The socket, or -1 (res failed). */
static int submit(const char *path, const struct buf *head, const struct hub_job *job,
		  struct hub_result *res)
{
	int fd, rc = proto_connect(path, &fd);

	if (rc == -EACCES || rc == -EPERM)
		say_no_access(path, rc);
	if (rc < 0) {
		if (is_timeout(rc))
			hub_silent_mark(path);
		failed(res, "hubd not reachable at %s: %s", path,
		       is_timeout(rc) ? "connect timed out" : strerror(-rc));
		return -1;
	}
	rc = proto_set_deadlines(fd, HUB_SEND_MS, HUB_SILENT_MS);
	if (rc == 0)
		rc = write_full(fd, head->data, head->len);
	if (rc == 0)
		rc = write_full(fd, job->d.input, job->d.input_len);
	if (rc < 0) {
		if (is_timeout(rc))
			hub_silent_mark(path);
		failed(res, "sending the job to hubd: %s",
		       is_timeout(rc) ? "no progress within the deadline" : strerror(-rc));
		close(fd);
		return -1;
	}
	return fd;
}

/* Connects to hubd at path and sends the frame: the socket, or -1 (res
 * failed). */
static int submit_frame(const char *path, const struct buf *frame, struct hub_result *res)
{
	struct hub_job none;

	memset(&none, 0, sizeof none);
	return submit(path, frame, &none, res);
}

/* Why reading hubd's next frame failed. */
static void read_failed(int rc, const char *path, struct hub_result *res)
{
	if (is_timeout(rc))
		hub_silent_mark(path);
	failed(res, "%s", is_timeout(rc) ? "hubd silent past the deadline" :
	       rc == -EPIPE ? "hubd closed the connection (no answer)" :
	       rc == -EPROTO ? "malformed answer from hubd" : strerror(-rc));
}

/* The ANSWER payload into res. With HUB_LOCAL the socket moves to res
 * (the local slot lasts until hub_result_free) and *fd becomes -1. */
static void answer_of(const uint8_t *payload, long n, int *fd, struct hub_result *res)
{
	struct proto_answer a;

	if (proto_type(payload, (size_t)n) != PROTO_ANSWER ||
	    proto_decode_answer(payload, (size_t)n, &a) < 0) {
		failed(res, "malformed answer from hubd");
	} else if (take_answer(&a, res) < 0) {
		failed(res, "out of memory for the result");
	} else if (a.outcome == HUB_FALLBACK) {
		res->outcome = HUB_FALLBACK;
	} else if (a.outcome == HUB_DONE) {
		res->outcome = HUB_DONE;
	} else if (a.outcome == HUB_LOCAL) {
		res->outcome = HUB_LOCAL;
		res->fd = *fd;
		*fd = -1;
	} else {
		res->outcome = HUB_FAILED;
		if (!res->error[0])
			snprintf(res->error, sizeof res->error, "farm failed");
	}
}

static void receive(int *fd, const char *path, struct hub_result *res)
{
	uint8_t *payload = NULL;
	long n;
	int rc = read_answer(*fd, &payload, &n);

	if (rc < 0)
		read_failed(rc, path, res);
	else
		answer_of(payload, n, fd, res);
	free(payload);
}

void hub_client_compile(const struct hub_job *job, struct hub_result *res)
{
	struct buf head = BUF_INIT;
	char path[256];
	uint64_t t0 = now_us();
	int fd = -1;

	memset(res, 0, sizeof *res);
	res->fd = -1;
	if (hub_socket_path(path, sizeof path) < 0) {
		failed(res, "hubd socket path too long");
		return;
	}
	if (encode_job(job, &head, res) < 0)
		goto out;
	if (hub_silent_recent(path)) {
		failed(res, "hubd left a dcc waiting past its deadline moments ago "
		       "(within %d s)", HUB_SILENT_SKIP_S);
		goto out;
	}
	fd = submit(path, &head, job, res);
	if (fd >= 0)
		receive(&fd, path, res);
out:
	res->total_us = now_us() - t0;
	if (fd >= 0)
		close(fd);
	buf_free(&head);
}

void hub_result_free(struct hub_result *res)
{
	buf_free(&res->dep);
	for (size_t i = 0; i < res->nunsent; i++)
		free(res->unsent[i]);
	free(res->unsent);
	res->unsent = NULL;
	res->nunsent = 0;
	buf_free(&res->out);
	buf_free(&res->err);
	buf_free(&res->obj);
	buf_free(&res->dwo);
	if (res->fd >= 0)
		close(res->fd);
	res->fd = -1;
}

/* ---- tree jobs (issue 11) ---- */

/* Input idx's bytes into b, now; changed when they no longer hash to the
 * submitted hash (or cannot be read). 0 or -ENOMEM. */
static int read_input(const struct job_input *in, struct buf *b, bool *changed)
{
	char path[JOB_INPUT_PATH_MAX + 1];
	uint8_t h[32];
	int rc;

	memcpy(path, in->path, in->path_len);
	path[in->path_len] = 0;
	rc = buf_read_file(b, path, JOB_BLOB_MAX);
	if (rc == -ENOMEM)
		return rc;
	if (rc == 0)
		sha256(b->data, b->len, h);
	*changed = rc < 0 || b->len != in->size || memcmp(h, in->hash, 32);
	if (*changed)
		buf_free(b);
	return 0;
}

/* A NEED answered with one BLOBS: 0 or -errno (why in res). */
static int send_blobs(int fd, const struct hub_tree_job *tj, const uint8_t *p, long n,
		      struct hub_result *res)
{
	struct proto_need need;
	struct proto_blobs bl = { NULL, 0 };
	struct buf *data = NULL, out = BUF_INIT;
	int rc = proto_decode_need(p, (size_t)n, &need);

	if (rc < 0) {
		failed(res, "malformed NEED from hubd");
		return rc;
	}
	bl.b = calloc(need.n, sizeof *bl.b);
	data = calloc(need.n, sizeof *data);
	rc = bl.b && data ? 0 : -ENOMEM;
	for (size_t i = 0; i < need.n && rc == 0; i++) {
		const struct job_input *in = need.idx[i] < tj->t.nin ? &tj->t.in[need.idx[i]] : NULL;
		if (!in || in->kind != JOB_IN_FILE) {
			rc = -EPROTO;
			break;
		}
		bl.b[i].idx = need.idx[i];
		rc = read_input(in, &data[i], &bl.b[i].changed);
		bl.b[i].data = data[i].data;
		bl.b[i].len = data[i].len;
		res->changed |= bl.b[i].changed;
		res->blob_bytes += data[i].len;
	}
	bl.n = need.n;
	if (rc == 0 && (rc = proto_encode_blobs(&out, &bl)) == 0)
		rc = write_full(fd, out.data, out.len);
	if (rc < 0)
		failed(res, "answering hubd's NEED: %s", strerror(-rc));
	res->needs++;
	res->blobs_sent += need.n;
	for (size_t i = 0; data && i < need.n; i++)
		buf_free(&data[i]);
	free(data);
	free(bl.b);
	buf_free(&out);
	proto_need_free(&need);
	return rc;
}

static void receive_tree(int *fd, const char *path, const struct hub_tree_job *tj,
			 struct hub_result *res)
{
	for (;;) {
		uint8_t *payload = NULL;
		long n;
		int rc = read_answer(*fd, &payload, &n);

		if (rc < 0) {
			read_failed(rc, path, res);
		} else if (proto_type(payload, (size_t)n) == PROTO_NEED) {
			rc = send_blobs(*fd, tj, payload, n, res);
			free(payload);
			if (rc == 0)
				continue;
			return;
		} else {
			answer_of(payload, n, fd, res);
		}
		free(payload);
		return;
	}
}

void hub_client_compile_tree(const struct hub_tree_job *tj, struct hub_result *res)
{
	struct proto_submit_tree st;
	struct buf head = BUF_INIT, frame = BUF_INIT;
	char path[256];
	uint64_t t0 = now_us();
	int fd = -1, rc;

	memset(res, 0, sizeof *res);
	res->fd = -1;
	if (hub_socket_path(path, sizeof path) < 0) {
		failed(res, "hubd socket path too long");
		return;
	}
	if (encode_job(&tj->job, &head, res) < 0)	/* checks the fields */
		goto out;
	memset(&st, 0, sizeof st);
	snprintf(st.s.compiler, sizeof st.s.compiler, "%s", tj->job.compiler);
	snprintf(st.s.source, sizeof st.s.source, "%s", tj->job.source ? tj->job.source : "");
	st.s.d = tj->job.d;
	st.t = tj->t;
	st.scan_us = tj->scan_us;
	st.learned = tj->learned;
	if ((rc = proto_encode_submit_tree(&frame, &st)) < 0) {
		failed(res, "tree job not representable for the farm (%s)", strerror(-rc));
		goto out;
	}
	if (hub_silent_recent(path)) {
		failed(res, "hubd left a dcc waiting past its deadline moments ago "
		       "(within %d s)", HUB_SILENT_SKIP_S);
		goto out;
	}
	fd = submit_frame(path, &frame, res);
	if (fd >= 0)
		receive_tree(&fd, path, tj, res);
out:
	res->total_us = now_us() - t0;
	if (fd >= 0)
		close(fd);
	buf_free(&head);
	buf_free(&frame);
}
