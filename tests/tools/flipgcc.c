/*
 * flipgcc.c — a test-only dishonest compiler for farm_verify.sh: installed
 * as DIR/gcc (a symlink) and offered by one node (noded --compilers
 * DIR/gcc), it runs the real compiler FLIPGCC_REAL (default /usr/bin/gcc)
 * with the same arguments and argv[0] = the real path, so every probe
 * (-v, -dumpmachine, ...) and therefore the identity are the real gcc's;
 * after a successful `-c ... -o FILE` it flips one byte in the middle of
 * FILE when it is a regular file (a probe's -o /dev/null is left alone,
 * as the identity code compiles to it). Never installed, never used outside tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef FLIPGCC_REAL
#define FLIPGCC_REAL "/usr/bin/gcc"
#endif

static int flip(const char *path)
{
	struct stat st;
	unsigned char c;
	int fd = open(path, O_RDWR | O_CLOEXEC), r = -1;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		close(fd);	/* -o /dev/null (an identity probe): nothing to flip */
		return 0;
	}
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		off_t at = st.st_size / 2;
		if (pread(fd, &c, 1, at) == 1) {
			c ^= 0x5a;
			if (pwrite(fd, &c, 1, at) == 1)
				r = 0;
		}
	}
	close(fd);
	return r;
}

int main(int argc, char **argv)
{
	const char *out = NULL;
	int compile = 0, st;
	pid_t pid;

	(void)argc;
	for (int i = 1; argv[i]; i++) {
		if (!strcmp(argv[i], "-c"))
			compile = 1;
		else if (!strcmp(argv[i], "-o") && argv[i + 1])
			out = argv[i + 1];
	}
	argv[0] = FLIPGCC_REAL;
	if (!compile || !out) {
		execv(FLIPGCC_REAL, argv);
		return 127;
	}
	pid = fork();
	if (pid < 0)
		return 127;
	if (pid == 0) {
		execv(FLIPGCC_REAL, argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 127;
	if (!WIFEXITED(st))
		return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	if (WEXITSTATUS(st) == 0 && flip(out) < 0)
		return 1;
	return WEXITSTATUS(st);
}
