/* log.c — daemon logging to stderr or syslog (see log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <time.h>

static const char *log_prog = "usbfarm";
static int log_verbose;
static bool log_syslog;

void log_init(const char *prog, int verbose, bool use_syslog)
{
	log_prog = prog;
	log_verbose = verbose;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(prog, LOG_PID, LOG_DAEMON);
}

static void vlog(int prio, const char *tag, const char *fmt, va_list ap)
{
	if (prio == LOG_DEBUG && !log_verbose)
		return;
	if (log_syslog) {
		vsyslog(prio, fmt, ap);
		return;
	}
	struct timespec ts;
	struct tm tm;
	char when[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%H:%M:%S", &tm);
	flockfile(stderr);
	fprintf(stderr, "%s.%03ld %s: %s", when, ts.tv_nsec / 1000000, log_prog, tag);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

#define LOGFN(name, prio, tag)                 \
	void name(const char *fmt, ...)        \
	{                                      \
		va_list ap;                    \
		va_start(ap, fmt);             \
		vlog(prio, tag, fmt, ap);      \
		va_end(ap);                    \
	}
LOGFN(log_debug, LOG_DEBUG, "debug: ")
LOGFN(log_info, LOG_INFO, "")
LOGFN(log_warn, LOG_WARNING, "warning: ")
LOGFN(log_err, LOG_ERR, "error: ")

void fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_ERR, "fatal: ", fmt, ap);
	va_end(ap);
	exit(1);
}
