/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * sdlisten.c: the sd_listen_fds protocol, written out.  A service
 * manager that created the IPC socket (systemd's ampsd.socket, or any
 * launcher doing the same) passes it as descriptor 3 and sets
 * LISTEN_PID to our pid and LISTEN_FDS to the number of descriptors
 * (LISTEN_FDNAMES optionally names them).  ampsd takes exactly one
 * socket; ipc.c then adopts it (struct ipc_config, fd) instead of
 * creating the socket itself, so programs queue in the socket's backlog
 * while ampsd restarts and the path never disappears.
 *
 * It owns nothing after it returns: the descriptor goes to ipc.c.
 *
 * Invariants:
 *   (1) The variables are honoured only when LISTEN_PID is our pid, so a
 *       child that inherited the environment by mistake ignores them.
 *   (2) LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES are removed from the
 *       environment on every call, so nothing we start inherits them.
 *   (3) Every number is parsed in full and range-checked; anything
 *       malformed, or more than one descriptor, is an error with a
 *       message, never a guess.
 *   (4) The descriptor returned is close-on-exec; whether it is a
 *       listening unix stream socket is checked by ipc.c.
 *   (5) Must run before detaching (the fork changes our pid) and before
 *       anything else opens descriptors that could be mistaken for 3.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdlisten.h"

/* Parse a whole decimal number in [1, max]; -1 if it is anything else. */
static long long
sdlisten_number(const char *s, long long max)
{
	char		*end;
	long long	 v;

	if (s == NULL || *s < '0' || *s > '9')
		return (-1);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > max)
		return (-1);
	return (v);
}

/* Set *cause to an allocated message (NULL if even that fails). */
static void __attribute__((__format__(printf, 2, 3)))
sdlisten_cause(char **cause, const char *fmt, ...)
{
	char	buf[256];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (asprintf(cause, "socket activation: %s", buf) == -1)
		*cause = NULL;
}

/*
 * The inherited listening socket, if a service manager passed one to
 * this process: returns the descriptor (3), -1 if there is none (the
 * variables are absent or meant for another process), or -2 with *cause
 * set to an allocated message (the caller frees it) if they are
 * malformed or name more than one socket.  The variables are unset in
 * every case (invariant 2).
 */
int
sdlisten(char **cause)
{
	const char	*spid, *sfds;
	char		 pidbuf[32], fdsbuf[32];
	long long	 pid, nfds;
	int		 fd, flags;

	*cause = NULL;
	spid = getenv("LISTEN_PID");
	sfds = getenv("LISTEN_FDS");
	if (spid == NULL && sfds == NULL) {
		unsetenv("LISTEN_FDNAMES");
		return (-1);
	}
	/* Copy before unsetenv() frees them; both are short numbers. */
	snprintf(pidbuf, sizeof pidbuf, "%s", spid != NULL ? spid : "");
	snprintf(fdsbuf, sizeof fdsbuf, "%s", sfds != NULL ? sfds : "");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");

	if ((pid = sdlisten_number(pidbuf, INT_MAX)) == -1) {
		sdlisten_cause(cause, "bad LISTEN_PID \"%s\"", pidbuf);
		return (-2);
	}
	if ((pid_t)pid != getpid())
		return (-1);		/* invariant 1 */
	if ((nfds = sdlisten_number(fdsbuf, INT_MAX - SDLISTEN_FD_START)) ==
	    -1) {
		sdlisten_cause(cause, "bad LISTEN_FDS \"%s\"", fdsbuf);
		return (-2);
	}
	if (nfds != 1) {
		sdlisten_cause(cause, "expected one socket, LISTEN_FDS is "
		    "%lld", nfds);
		return (-2);
	}
	fd = SDLISTEN_FD_START;
	if ((flags = fcntl(fd, F_GETFD)) == -1 ||
	    fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1) {
		sdlisten_cause(cause, "descriptor %d: %s", fd,
		    strerror(errno));
		return (-2);
	}
	return (fd);
}
