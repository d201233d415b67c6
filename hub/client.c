/*
 * client.c — dcc's side of hubd's unix socket (see client.h, proto.h).
 *
 * Never fails: every problem becomes HUB_FAILED with a reason, and dcc
 * compiles locally. Connecting to a socket nobody listens on fails at once
 * (ENOENT / ECONNREFUSED), so a build without hubd is not slowed down.
 */
#include "client.h"
#include "proto.h"

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

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void failed(struct hub_result *res, const char *fmt, ...)
{
	va_list ap;
	res->outcome = HUB_FAILED;
	va_start(ap, fmt);
	vsnprintf(res->error, sizeof res->error, fmt, ap);
	va_end(ap);
}

/* send(2) with MSG_NOSIGNAL over two pieces, owning EINTR and short writes. */
static int send_two(int fd, const void *a, size_t alen, const void *b, size_t blen)
{
	const void *p[2] = { a, b };
	size_t n[2] = { alen, blen };
	for (int i = 0; i < 2; i++) {
		const uint8_t *q = p[i];
		size_t left = n[i];
		while (left) {
			ssize_t w = send(fd, q, left, MSG_NOSIGNAL);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			q += w;
			left -= (size_t)w;
		}
	}
	return 0;
}

static void put(struct buf *b, const uint8_t *p, size_t n)
{
	buf_put(b, p, n);
}

void hub_client_compile(const struct hub_job *job, struct hub_result *res)
{
	struct proto_submit s;
	struct proto_answer a;
	struct buf head = BUF_INIT;
	uint8_t hdr[4], *payload = NULL;
	char path[256];
	uint64_t t0 = now_us();
	long n;
	int fd = -1, rc;

	memset(res, 0, sizeof *res);
	res->fd = -1;

	if (hub_socket_path(path, sizeof path) < 0) {
		failed(res, "hubd socket path too long");
		return;
	}
	memset(&s, 0, sizeof s);
	if (snprintf(s.compiler, sizeof s.compiler, "%s", job->compiler ? job->compiler : "") >=
		    (int)sizeof s.compiler ||
	    snprintf(s.input_name, sizeof s.input_name, "%s", job->input_name ? job->input_name : "") >=
		    (int)sizeof s.input_name ||
	    snprintf(s.output_name, sizeof s.output_name, "%s",
		     job->output_name ? job->output_name : "") >= (int)sizeof s.output_name) {
		failed(res, "job names too long for the farm");
		return;
	}
	/* the node names the cwd in DW_AT_comp_dir: whole or not at all */
	if (!job->cwd || job->cwd[0] != '/' ||
	    snprintf(s.cwd, sizeof s.cwd, "%s", job->cwd) >= (int)sizeof s.cwd) {
		failed(res, "working directory not absolute or too long for the farm");
		return;
	}
	snprintf(s.source, sizeof s.source, "%s", job->source ? job->source : "");
	s.args = (char **)job->args;
	s.nargs = job->nargs;
	s.want_dwo = job->want_dwo;
	s.preprocess_us = job->preprocess_us;
	s.input = job->input;
	s.input_len = job->input_len;
	rc = proto_encode_submit_head(&head, &s);
	if (rc < 0) {
		failed(res, "job not representable for the farm (%s)", strerror(-rc));
		goto out;
	}

	rc = proto_connect(path, &fd);
	if (rc < 0) {
		failed(res, "hubd not reachable at %s: %s", path, strerror(-rc));
		goto out;
	}
	rc = send_two(fd, head.data, head.len, job->input, job->input_len);
	if (rc < 0) {
		failed(res, "sending the job to hubd: %s", strerror(-rc));
		goto out;
	}
	rc = read_full(fd, hdr, sizeof hdr);
	if (rc < 0) {
		failed(res, "hubd closed the connection (%s)",
		       rc == -EPIPE ? "no answer" : strerror(-rc));
		goto out;
	}
	n = proto_frame_len(hdr);
	if (n < 0) {
		failed(res, "malformed answer from hubd");
		goto out;
	}
	payload = malloc((size_t)n);
	if (!payload) {
		failed(res, "out of memory for hubd's answer");
		goto out;
	}
	rc = read_full(fd, payload, (size_t)n);
	if (rc < 0) {
		failed(res, "reading hubd's answer: %s", strerror(-rc));
		goto out;
	}
	if (proto_type(payload, (size_t)n) != PROTO_ANSWER ||
	    proto_decode_answer(payload, (size_t)n, &a) < 0) {
		failed(res, "malformed answer from hubd");
		goto out;
	}
	res->status = a.status;
	snprintf(res->node, sizeof res->node, "%s", a.node);
	snprintf(res->error, sizeof res->error, "%s", a.error);
	res->queue_us = a.queue_us;
	res->compile_us = a.compile_us;
	put(&res->out, a.out, a.out_len);
	put(&res->err, a.err, a.err_len);
	put(&res->obj, a.obj, a.obj_len);
	put(&res->dwo, a.dwo, a.dwo_len);
	if (!buf_ok(&res->out) || !buf_ok(&res->err) || !buf_ok(&res->obj) ||
	    !buf_ok(&res->dwo)) {
		buf_free(&res->out);
		buf_free(&res->err);
		buf_free(&res->obj);
		buf_free(&res->dwo);
		failed(res, "out of memory for the result");
		goto out;
	}
	switch (a.outcome) {
	case HUB_DONE:
		res->outcome = HUB_DONE;
		break;
	case HUB_LOCAL:
		res->outcome = HUB_LOCAL;
		res->fd = fd;	/* held: the local slot lasts until hub_result_free */
		fd = -1;
		break;
	default:
		res->outcome = HUB_FAILED;
		if (!res->error[0])
			snprintf(res->error, sizeof res->error, "farm failed");
		break;
	}
out:
	res->total_us = now_us() - t0;
	if (fd >= 0)
		close(fd);
	free(payload);
	buf_free(&head);
}

void hub_result_free(struct hub_result *res)
{
	buf_free(&res->out);
	buf_free(&res->err);
	buf_free(&res->obj);
	buf_free(&res->dwo);
	if (res->fd >= 0)
		close(res->fd);
	res->fd = -1;
}
