/*
 * loophub — a stand-in for hubd in tests of dcc without a farm (it replaces
 * dcc's old in-process DCC_LOOPBACK mode, so dcc itself has no test mode):
 *
 *   loophub SOCKET
 *
 * Listens on SOCKET (mode 0600) until SIGTERM/SIGINT. Each connection is
 * served by a child: one SUBMIT (read under PROTO_MAX_FRAME, decoded by
 * proto.c), run by the node's executor in this process (node/exec.h
 * exec_run, as noded's worker does), answered HUB_DONE from node "loopback"
 * with the compiler's status and outputs, or HUB_FAILED with the executor's
 * error. While it runs, a keepalive goes out every PROTO_KEEPALIVE_MS (dcc
 * gives up on a silent hub). The compiler is run by its path from the job:
 * only for tests, never a service.
 */
#include "proto.h"

#include "../../node/exec.h"
#include "../../node/exec_job.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* A child writing a keepalive every PROTO_KEEPALIVE_MS until killed. */
static pid_t keepalive(int fd)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	struct buf b = BUF_INIT;
	proto_begin(&b, PROTO_KEEPALIVE);
	if (proto_end(&b) < 0)
		_exit(1);
	for (;;) {
		usleep(PROTO_KEEPALIVE_MS * 1000u);
		if (send(fd, b.data, b.len, MSG_NOSIGNAL) < 0)
			_exit(0);
	}
}

static void answer_failed(struct proto_answer *a, const char *why)
{
	memset(a, 0, sizeof *a);
	a->outcome = 2;	/* HUB_FAILED */
	snprintf(a->o.error, sizeof a->o.error, "loophub: %s", why);
}

static void serve(int fd)
{
	struct proto_submit s;
	struct proto_answer a;
	struct exec_job ej;
	struct exec_result er;
	struct buf out = BUF_INIT;
	uint8_t hdr[4], *frame;
	long n;
	pid_t ka;

	if (read_full(fd, hdr, sizeof hdr) < 0 || (n = proto_frame_len(hdr)) < 0 ||
	    !(frame = malloc((size_t)n)) || read_full(fd, frame, (size_t)n) < 0 ||
	    proto_type(frame, (size_t)n) != PROTO_SUBMIT ||
	    proto_decode_submit(frame, (size_t)n, &s) < 0)
		_exit(1);
	memset(&ej, 0, sizeof ej);
	ej.compiler = s.compiler;
	exec_job_from_desc(&ej, &s.d);	/* the one job description, whole */
	ej.launch.insecure = true;	/* a test stand-in, as the user: no sandbox */
	ka = keepalive(fd);
	exec_run(&ej, &er);
	if (ka > 0) {
		kill(ka, SIGKILL);
		waitpid(ka, NULL, 0);
	}
	if (er.farm_error) {
		answer_failed(&a, er.error);
	} else {
		memset(&a, 0, sizeof a);
		a.outcome = 0;	/* HUB_DONE */
		exec_outcome(&er, &a.o);	/* the one job outcome */
		a.o.error[0] = 0;
		snprintf(a.node, sizeof a.node, "loopback");
	}
	if (proto_encode_answer(&out, &a) < 0) {
		buf_free(&out);
		answer_failed(&a, "result too large");
		if (proto_encode_answer(&out, &a) < 0)
			_exit(1);
	}
	if (write_full(fd, out.data, out.len) < 0)
		_exit(1);
	exec_result_free(&er);
	proto_submit_free(&s);
	free(frame);
	buf_free(&out);
	_exit(0);
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sigaction sg = { .sa_handler = on_signal };
	int lfd;

	if (argc != 2 || strlen(argv[1]) >= sizeof sa.sun_path) {
		fprintf(stderr, "usage: loophub SOCKET\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	sigaction(SIGTERM, &sg, NULL);
	sigaction(SIGINT, &sg, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN);	/* children reaped by the kernel */
	unlink(argv[1]);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	umask(0077);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 64) < 0) {
		fprintf(stderr, "loophub: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	while (!stop) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (fork() == 0) {
			close(lfd);
			signal(SIGCHLD, SIG_DFL);	/* exec_run waits for its compiler */
			serve(fd);
		}
		close(fd);
	}
	unlink(argv[1]);
	return 0;
}
