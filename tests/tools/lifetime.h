/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * lifetime.h: a bound on how long a test program may run, for the
 * programs the integration and reliability scenarios start (subtest,
 * pubtest, ampsub, fakeamps, faultproxy, ipcraw, jsoncheck).
 *
 * Invariants:
 *  1. lifetime_start(PROG, SECS) arms SIGALRM once: after SECS seconds
 *     (AMPSD_TEST_LIFETIME=N in the environment overrides, 0 disables)
 *     the program writes "PROG: still running after N s (lifetime
 *     limit): WHAT" to stderr and exits 124, so a program that waits for
 *     something that never happens ends by itself with a message even
 *     when no script or harness stops it.
 *  2. The handler uses only async-signal-safe calls (write, _exit).
 */

#ifndef LIFETIME_H
#define LIFETIME_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char	lifetime_msg[256];
static size_t	lifetime_len;

static inline void
lifetime_expired(int sig)
{
	(void)sig;
	(void)!write(STDERR_FILENO, lifetime_msg, lifetime_len);
	_exit(124);
}

/* Arm the bound; WHAT says what the program was waiting for. */
static inline void
lifetime_start(const char *prog, unsigned secs, const char *what)
{
	struct sigaction	 sa;
	const char		*e = getenv("AMPSD_TEST_LIFETIME");
	int			 n;

	if (e != NULL && *e != '\0')
		secs = (unsigned)strtoul(e, NULL, 10);
	if (secs == 0)
		return;
	n = snprintf(lifetime_msg, sizeof lifetime_msg,
	    "%s: still running after %u s (lifetime limit): %s\n", prog, secs,
	    what);
	lifetime_len = n < 0 ? 0 : (size_t)n >= sizeof lifetime_msg ?
	    sizeof lifetime_msg - 1 : (size_t)n;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = lifetime_expired;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(secs);
}

#endif /* LIFETIME_H */
