/*
 * jobsend — a hostile hub for the node's tests: speaks the job protocol
 * (lib/job.h) over a link to one noded and sends exactly the JOB it is
 * told, with no dcc-side check, then prints the RESULT.
 *
 *   jobsend --iface IF --input FILE --input-name NAME --output-name NAME
 *           [--arg A]... [--kind gcc] [--triple x86_64] [--cwd DIR]
 *           [--mem BYTES] [--cpu S] [--timeout-ms MS] [--dwo]
 *           [--cancel-after-ms MS] [--obj-out FILE] [--wait-s S]
 *
 * Output, one `name value` per line: farm_error, error, status, obj_len,
 * node_us, wall_us, cpu_us (the node's time from JOB to RESULT, the
 * compile's wall and CPU), then `stderr` and `stdout` with the compiler's text (newlines as \n).
 * --cancel-after-ms: CANCEL the job that long after sending it (the node
 * answers -ECANCELED). Exit 0 when a RESULT came, 1 otherwise, 2 usage.
 */
#include "../lib/job.h"
#include "../lib/clock.h"
#include "../lib/link.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct {
	const char *kind, *triple;
	struct job_spec job;
	bool sent, done, have_compiler;
	uint64_t sent_at;
	int cancel_ms;
	const char *obj_out;
} S = { .kind = "gcc", .triple = "x86_64", .cancel_ms = -1 };

static void pick(const uint8_t *p, size_t len)
{
	struct job_nodeinfo ni;

	if (S.have_compiler || job_decode_nodeinfo(p, len, &ni) < 0)
		return;
	for (size_t i = 0; i < ni.ncompilers && !S.have_compiler; i++)
		if (!strcmp(ni.compilers[i].kind, S.kind) && strstr(ni.compilers[i].triple, S.triple)) {
			S.job.compiler = ni.compilers[i];
			S.have_compiler = true;
		}
	job_nodeinfo_free(&ni);
}

static void print_text(const char *name, const uint8_t *p, size_t n)
{
	printf("%s ", name);
	for (size_t i = 0; i < n && i < 4000; i++)
		if (p[i] == '\n')
			fputs("\\n", stdout);
		else if (p[i] >= 0x20 && p[i] < 0x7f)
			putchar(p[i]);
		else
			printf("\\x%02x", p[i]);
	putchar('\n');
}

static void on_up(struct link *l, const struct link_peer *peer, void *u)
{
	(void)l, (void)u;
	pick(peer->app, peer->app_len);
}

static void on_down(struct link *l, int reason, void *u)
{
	(void)l, (void)u;
	fprintf(stderr, "jobsend: session down: %s\n", strerror(-reason));
}

static void on_message(struct link *l, uint32_t st, uint8_t *data, size_t len, void *u)
{
	enum job_msg_type t;
	struct job_result r;
	(void)l, (void)st, (void)u;

	if (job_peek_type(data, len, &t) == 0 && t == JOB_MSG_NODEINFO)
		pick(data, len);
	if (job_peek_type(data, len, &t) == 0 && t == JOB_MSG_RESULT &&
	    job_decode_result(data, len, &r) == 0 && r.job_id == S.job.job_id) {
		printf("farm_error %d\nerror %s\nstatus %d\nobj_len %zu\nnode_us %llu\nwall_us %llu\n"
		       "cpu_us %llu\n", r.farm_error, r.o.error, r.o.status, r.o.obj_len,
		       (unsigned long long)r.node_us, (unsigned long long)r.o.wall_us,
		       (unsigned long long)r.o.cpu_us);
		print_text("stderr", r.o.err, r.o.err_len);
		print_text("stdout", r.o.out, r.o.out_len);
		if (S.obj_out) {
			int fd = open(S.obj_out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd < 0 || write_full(fd, r.o.obj, r.o.obj_len) < 0)
				perror(S.obj_out);
			if (fd >= 0)
				close(fd);
		}
		S.done = true;
	}
	free(data);
}

static bool step(void *u)
{
	struct link *l = u;
	struct buf b = BUF_INIT;

	if (!S.sent && S.have_compiler && link_state(l) == LINK_UP) {
		job_encode_job(&b, &S.job);
		if (buf_ok(&b) && link_send(l, job_stream(S.job.job_id), b.data, b.len, NULL) == 0) {
			S.sent = true;
			S.sent_at = now_ms();
		}
		buf_free(&b);
	}
	if (S.sent && S.cancel_ms >= 0 && now_ms() >= S.sent_at + (uint64_t)S.cancel_ms) {
		job_encode_cancel(&b, S.job.job_id);
		if (buf_ok(&b))
			link_send(l, job_stream(S.job.job_id), b.data, b.len, NULL);
		buf_free(&b);
		S.cancel_ms = -1;
	}
	return S.done;
}

static int usage(void)
{
	fprintf(stderr, "usage: jobsend --iface IF --input FILE --input-name N --output-name N "
			"[--arg A]... (see the source)\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option o[] = {
		{ "iface", 1, NULL, 'i' }, { "input", 1, NULL, 'f' },
		{ "input-name", 1, NULL, 'n' }, { "output-name", 1, NULL, 'o' },
		{ "arg", 1, NULL, 'a' }, { "kind", 1, NULL, 'k' }, { "triple", 1, NULL, 't' },
		{ "cwd", 1, NULL, 'c' }, { "mem", 1, NULL, 'm' }, { "cpu", 1, NULL, 'C' },
		{ "timeout-ms", 1, NULL, 'T' }, { "dwo", 0, NULL, 'd' },
		{ "cancel-after-ms", 1, NULL, 'x' }, { "obj-out", 1, NULL, 'O' },
		{ "wait-s", 1, NULL, 'w' }, { NULL, 0, NULL, 0 },
	};
	static char *args[JOB_MAX_ARGS];
	const char *iface = NULL, *input = NULL;
	struct buf in = BUF_INIT;
	struct link_io *io;
	struct link *l;
	int c, wait_s = 60, fd;
	struct link_callbacks cb = { .up = on_up, .down = on_down, .message = on_message };
	struct link_config cfg = { .ident = "hostile-hub" };

	snprintf(S.job.d.cwd, sizeof S.job.d.cwd, "/w");
	while ((c = getopt_long(argc, argv, "", o, NULL)) != -1) {
		switch (c) {
		case 'i': iface = optarg; break;
		case 'f': input = optarg; break;
		case 'n': snprintf(S.job.d.input_name, sizeof S.job.d.input_name, "%s", optarg); break;
		case 'o': snprintf(S.job.d.output_name, sizeof S.job.d.output_name, "%s", optarg); break;
		case 'a': if (S.job.d.nargs < JOB_MAX_ARGS) args[S.job.d.nargs++] = optarg; break;
		case 'k': S.kind = optarg; break;
		case 't': S.triple = optarg; break;
		case 'c': snprintf(S.job.d.cwd, sizeof S.job.d.cwd, "%s", optarg); break;
		case 'm': S.job.limits.mem_bytes = strtoull(optarg, NULL, 10); break;
		case 'C': S.job.limits.cpu_s = (uint32_t)atoi(optarg); break;
		case 'T': S.job.limits.timeout_ms = (uint32_t)atoi(optarg); break;
		case 'd': S.job.d.want_dwo = true; break;
		case 'x': S.cancel_ms = atoi(optarg); break;
		case 'O': S.obj_out = optarg; break;
		case 'w': wait_s = atoi(optarg); break;
		default: return usage();
		}
	}
	if (!iface || !input)
		return usage();
	fd = open(input, O_RDONLY);
	if (fd < 0 || buf_read_fd(&in, fd, JOB_MAX_INPUT) < 0) {
		perror(input);
		return 1;
	}
	close(fd);
	S.job.d.args = args;
	S.job.d.input = in.data;
	S.job.d.input_len = in.len;
	S.job.job_id = ((uint64_t)getpid() << 20) | (now_ms() & 0xfffff);
	if (link_io_packet(iface, &io) < 0 || link_new(io, &cfg, &cb, NULL, &l) < 0) {
		fprintf(stderr, "jobsend: cannot open a link on %s\n", iface);
		return 1;
	}
	c = link_run(l, wait_s * 1000, step, l);
	if (c < 0)
		fprintf(stderr, "jobsend: %s (compiler %s, sent %d)\n", strerror(-c),
			S.have_compiler ? "found" : "not offered", S.sent);
	link_free(l);
	buf_free(&in);
	return S.done ? 0 : 1;
}
