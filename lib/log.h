/*
 * log.h — the one logging path of the daemons (hubd, noded): stderr with a
 * timestamp and the program name, or syslog. The library proper never logs
 * (it returns errors); the daemons call this, and it lives in lib/ only so
 * that hub/ and node/ share it without including each other.
 */
#ifndef USBFARM_LIB_LOG_H
#define USBFARM_LIB_LOG_H

#include <stdbool.h>

void log_init(const char *prog, int verbose, bool use_syslog);
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs and exits 1. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
