/*
 * log.h — the one logging path of the daemons (hubd, noded): stderr with a
 * timestamp and the program name, or syslog. lib/ never logs; daemons do.
 */
#ifndef USBFARM_HUB_LOG_H
#define USBFARM_HUB_LOG_H

#include <stdbool.h>

void log_init(const char *prog, int verbose, bool use_syslog);
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs and exits 1. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
