/*
 * pidwait.h — waiting for a child process to end, with a deadline, on a
 * pidfd (pidfd_open(2) + poll): no sleeping in steps.
 */
#ifndef USBFARM_PIDWAIT_H
#define USBFARM_PIDWAIT_H

#include <sys/types.h>

/* Until pid, a child of the caller, has ended or timeout_ms have passed
 * (CLOCK_MONOTONIC). The child is not reaped (its status is still there for
 * waitpid). Returns 1 when it has ended, 0 when it has not by the deadline,
 * -ECHILD when pid is not a child of ours (or was reaped already), another
 * negative errno on failure. Where the kernel has no pidfd_open (before
 * 5.3), it looks every 2 ms instead. */
int pid_wait_ended(pid_t pid, int timeout_ms);

#endif
