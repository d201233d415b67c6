/*
 * dcc_io.c — dcc's captured compiler runs and atomic writes (dcc_io.h).
 */
#include "dcc_io.h"
#include "../lib/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int dcc_run_capture(const char *path, char **argv, struct buf *out, struct buf *err)
{
	int po[2], pe[2], st;
	pid_t pid;
	bool oo = true, eo = true, over = false;

	if (pipe2(po, O_CLOEXEC))
		return -errno;
	if (pipe2(pe, O_CLOEXEC)) {
		close(po[0]), close(po[1]);
		return -errno;
	}
	{
		struct spawn_opts o = { .path = path, .argv = argv, .fd_in = 0,
					.fd_out = po[1], .fd_err = pe[1] };
		pid = spawn_start(&o, NULL);
	}
	close(po[1]);
	close(pe[1]);
	if (pid < 0) {
		close(po[0]), close(pe[0]);
		return (int)pid;
	}
	while (oo || eo) {
		struct pollfd pf[2] = { { oo ? po[0] : -1, POLLIN, 0 },
					{ eo ? pe[0] : -1, POLLIN, 0 } };
		char tmp[65536];
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			bool *open_ = i ? &eo : &oo;
			struct buf *b = i ? err : out;
			size_t cap = i ? DCC_ERR_CAP : DCC_PP_CAP;
			ssize_t n;
			if (!*open_ || !pf[i].revents)
				continue;
			n = read(i ? pe[0] : po[0], tmp, sizeof tmp);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				*open_ = false;
				continue;
			}
			if (b->len + (size_t)n > cap)
				over = true;
			else
				buf_put(b, tmp, (size_t)n);
		}
	}
	close(po[0]);
	close(pe[0]);
	st = spawn_wait(pid);
	if (st < 0)
		return st;
	if (over)
		return -EFBIG;
	if (!buf_ok(out) || !buf_ok(err))
		return -ENOMEM;
	return st;
}

static mode_t file_mode(void)
{
	mode_t m = umask(0);
	umask(m);
	return 0666 & ~m;
}

int dcc_write_atomic(const char *path, const struct buf *data)
{
	char tmp[PATH_MAX];
	const char *b = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	int fd, r;

	if ((size_t)snprintf(tmp, sizeof tmp, "%.*s.%s.dcc-XXXXXX", (int)(b - path),
			     path, b) >= sizeof tmp)
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = write_full(fd, data->data, data->len);
	if (!r && fchmod(fd, file_mode()))
		r = -errno;
	if (close(fd) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}


/* The first of vars set and not empty, or NULL. */
static const char *first_env(const char *const *vars, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return v;
	}
	return NULL;
}

bool dcc_locale_utf8(void)
{
	static const char *const v[] = { "LC_ALL", "LC_CTYPE", "LANG" };
	const char *l = first_env(v, 3);

	return l && (strcasestr(l, "utf-8") || strcasestr(l, "utf8"));
}

static bool english(const char *l)
{
	return !strcmp(l, "C") || !strcmp(l, "POSIX") || !strncmp(l, "C.", 2) ||
	       !strncmp(l, "en", 2);
}

const char *dcc_locale_translated(void)
{
	static const char *const v[] = { "LC_ALL", "LC_MESSAGES", "LANG" };
	const char *l = first_env(v, 3), *lang = getenv("LANGUAGE");

	if (!l || !strcmp(l, "C") || !strcmp(l, "POSIX"))
		return NULL;	/* gettext ignores LANGUAGE in the C locale */
	if (!english(l))
		return l;
	if (lang && *lang && !english(lang))
		return lang;
	return NULL;
}
