/*
 * sbprobe — a job that got code execution, for the node's sandbox tests:
 * noded runs it as its --launcher, i.e. as `sbprobe COMPILER ARGS… INPUT
 * -o OUTPUT` inside the job's sandbox, with the slot's ids. What it does
 * is read from the first line of INPUT ("// probe: ACTION [ARG]"):
 *
 *   report       print what the job can see and do to stderr, one
 *                `PROBE name value` line each (ARG: a canary file to look
 *                for), then exec the compiler
 *   symlink-out  make OUTPUT a symlink to ARG (and "etc" -> /etc): the
 *                node must not read through it
 *   fifo-out     make OUTPUT a FIFO: the node must not block on it
 *   linger       leave a process behind (setsid, own group, sleeping), then
 *                exec the compiler: it must not outlive the job
 *   hang         start children and sleep: for cancel / timeout / kill -9
 *   escape       as hang, but each child in its own session
 * Without a directive it just execs the compiler.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void say(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const char *name, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "PROBE %s ", name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *err_of(int ok)
{
	return ok ? "visible" : strerror(errno);
}

/* Entries of a dir, comma-separated, or the error. */
static void list(const char *name, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char buf[1024] = "";
	size_t n = 0;

	if (!d) {
		say(name, "%s", strerror(errno));
		return;
	}
	while ((e = readdir(d)) && n + 80 < sizeof buf)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", n ? "," : "", e->d_name);
	closedir(d);
	say(name, "[%s]", buf);
}

static void status_line(const char *key)
{
	char buf[4096], *p;
	FILE *f = fopen("/proc/self/status", "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = 0;
	p = strstr(buf, key);
	if (p) {
		char *e = strchr(p, '\n');
		if (e)
			*e = 0;
		p += strlen(key);
		while (*p == ' ' || *p == '\t')
			p++;
	}
	say(key, "%s", p ? p : "?");
}

static void report(const char *canary)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(80),
				  .sin_addr.s_addr = htonl(0x01010101) };
	struct if_nameindex *ifs = if_nameindex();
	char cwd[4096] = "", up[4200], buf[256] = "";
	int s = socket(AF_INET, SOCK_STREAM, 0);

	say("uid", "%u %u", (unsigned)getuid(), (unsigned)geteuid());
	say("gid", "%u %u", (unsigned)getgid(), (unsigned)getegid());
	say("pid", "%d", (int)getpid());
	status_line("NoNewPrivs:");
	status_line("CapEff:");
	status_line("Seccomp:");
	say("etc_passwd", "%s", err_of(access("/etc/passwd", F_OK) == 0));
	say("etc_shadow", "%s", err_of(access("/etc/shadow", F_OK) == 0));
	list("home", "/home");
	list("root_dir", "/");
	list("tmp", "/tmp");
	list("proc", "/proc");
	say("canary", "%s", canary[0] ? err_of(access(canary, F_OK) == 0) : "(none)");
	say("net_connect", "%s", s < 0 ? strerror(errno)
			    : err_of(connect(s, (struct sockaddr *)&sa, sizeof sa) == 0));
	for (size_t i = 0, n = 0; ifs && ifs[i].if_index; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", n ? "," : "", ifs[i].if_name);
	say("ifaces", "[%s]", buf);
	say("kill_1", "%s", err_of(kill(1, 0) == 0));
	say("unshare_user", "%s", err_of(unshare(CLONE_NEWUSER) == 0));
	say("write_usr", "%s", err_of(open("/usr/sbprobe", O_WRONLY | O_CREAT, 0644) >= 0));
	say("write_root", "%s", err_of(open("/sbprobe", O_WRONLY | O_CREAT, 0644) >= 0));
	if (getcwd(cwd, sizeof cwd)) {
		/* <slot dir>/usbfarm-job.X/j/t: the slot dir, and the job root above */
		snprintf(up, sizeof up, "%s/../../..", cwd);
		list("slot_dir", up);
		snprintf(up, sizeof up, "%s/../../../..", cwd);
		list("job_root", up);
	}
	{
		extern char **environ;
		int k = 0;
		while (environ[k])
			k++;
		say("env_count", "%d", k);
	}
	say("tmpdir", "%s", getenv("TMPDIR") ? getenv("TMPDIR") : "(none)");
}

static void sleeper(bool own_session)
{
	if (fork() == 0) {
		if (own_session)
			setsid();
		else
			setpgid(0, 0);
		for (;;)
			pause();
	}
}

int main(int argc, char **argv)
{
	char line[256] = "", act[32] = "", arg[200] = "";
	const char *input, *output;
	FILE *f;

	if (argc < 5)
		return 2;
	input = argv[argc - 3];
	output = argv[argc - 1];
	f = fopen(input, "r");
	if (f && fgets(line, sizeof line, f))
		sscanf(line, "// probe: %31s %199s", act, arg);
	if (f)
		fclose(f);
	if (!strcmp(act, "report")) {
		report(arg);
	} else if (!strcmp(act, "symlink-out")) {
		say("symlink_etc", "%s", err_of(symlink("/etc", "etc") == 0));
		say("symlink_out", "%s", err_of(symlink(arg[0] ? arg : "/etc/shadow", output) == 0));
		return 0;
	} else if (!strcmp(act, "fifo-out")) {
		say("fifo_out", "%s", err_of(mkfifo(output, 0644) == 0));
		return 0;
	} else if (!strcmp(act, "linger")) {
		sleeper(true);
		say("linger", "left a process");
	} else if (!strcmp(act, "hang") || !strcmp(act, "escape")) {
		for (int i = 0; i < 3; i++)
			sleeper(!strcmp(act, "escape"));
		for (;;)
			pause();
	}
	execv(argv[1], argv + 1);
	say("exec", "%s", strerror(errno));
	return 127;
}
