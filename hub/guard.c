/*
 * guard.c — the caps on hubd's clients (guard.h). Invariant: held is the sum
 * of every guard_hold() not yet released and never exceeds max_held; the
 * spare descriptor is open except for the instant of an EMFILE accept.
 */
#include "guard.h"
#include "../lib/clock.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PAUSE_MS 200

static struct {
	struct guard_cfg cfg;
	size_t held;
	int spare;
	bool emfile, full;	/* an episode under way */
	uint64_t refused, episode_refused;
	uint64_t paused_until;	/* ms, monotonic */
} G = { .spare = -1 };

void guard_init(const struct guard_cfg *cfg)
{
	G.cfg = *cfg;
	G.spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

const struct guard_cfg *guard_cfg(void)
{
	return &G.cfg;
}

static void episode_end(void)
{
	if (G.emfile)
		log_warn("file descriptors available again: %llu connection(s) were "
			 "refused meanwhile (their dcc compiled locally)",
			 (unsigned long long)G.episode_refused);
	if (G.full)
		log_warn("below the connection cap again: %llu connection(s) were "
			 "refused meanwhile", (unsigned long long)G.episode_refused);
	G.emfile = G.full = false;
	G.episode_refused = 0;
}

static void refuse(void)
{
	G.refused++;
	G.episode_refused++;
}

/* EMFILE/ENFILE: one log line per episode; the waiting client is told at
 * once through the spare descriptor; a pause if even that fails. */
static void out_of_fds(int listen_fd, int err)
{
	if (!G.emfile) {
		log_warn("accept: %s: refusing new connections until descriptors are "
			 "free (limit: ulimit -n; cap: --max-clients %d)",
			 err == ENFILE ? "system file table full" : "out of file descriptors",
			 G.cfg.max_clients);
		G.emfile = true;
	}
	if (G.spare >= 0) {
		close(G.spare);
		G.spare = -1;
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			refuse();
		}
		G.spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	if (G.spare < 0)
		G.paused_until = now_ms() + PAUSE_MS;
}

int guard_accept(int listen_fd, size_t nclients)
{
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE)
			out_of_fds(listen_fd, errno);
		else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			 errno != ECONNABORTED)
			log_warn("accept: %m");
		return -1;
	}
	if (nclients >= (size_t)G.cfg.max_clients) {
		if (!G.full)
			log_warn("%zu clients connected (--max-clients): refusing new "
				 "connections", nclients);
		G.full = true;
		refuse();
		close(fd);
		return -1;
	}
	if (G.emfile || G.full)
		episode_end();
	return fd;
}

bool guard_may_accept(int *timeout_ms)
{
	uint64_t now = now_ms();
	if (G.spare < 0 && G.paused_until <= now)
		G.spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (G.paused_until <= now)
		return true;
	if ((int)(G.paused_until - now) < *timeout_ms)
		*timeout_ms = (int)(G.paused_until - now) + 1;
	return false;
}

bool guard_announce_ok(size_t len)
{
	return len <= G.cfg.max_message;
}

bool guard_hold(size_t n, bool first)
{
	if (!first && (G.held > G.cfg.max_held || n > G.cfg.max_held - G.held))
		return false;
	G.held += n;
	return true;
}

void guard_release(size_t n)
{
	G.held = n > G.held ? 0 : G.held - n;
}

size_t guard_held(void)
{
	return G.held;
}

uint64_t guard_refused(void)
{
	return G.refused;
}
