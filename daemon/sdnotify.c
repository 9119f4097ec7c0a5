/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The sd_notify protocol, written out: one datagram with "KEY=value"
 * lines to the unix socket named by $NOTIFY_SOCKET ("@name" is an
 * abstract socket).  ampsd sends READY=1 when it accepts programs,
 * STOPPING=1 at shutdown, WATCHDOG=1 from an event-loop timer at half
 * of $WATCHDOG_USEC, so a stuck loop gets the service restarted
 * (systemd/ampsd.service has WatchdogSec=), and STATUS= (what
 * `systemctl status` shows: connections ready of total, unpersisted
 * publishes) checked every second and sent when it changed.
 *
 * Invariants:
 *   (1) Without $NOTIFY_SOCKET every function is a no-op returning 0.
 *   (2) Failures are logged, never fatal.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "loop.h"
#include "sdnotify.h"

static struct event	*sdnotify_ev;
static struct event	*sdnotify_status_ev;
static sdnotify_status_fn sdnotify_status_text;
static void		*sdnotify_status_arg;
static char		 sdnotify_status_last[256];

/*
 * Send state (e.g. "READY=1") to systemd.  Returns 1 if sent, 0 when not
 * under systemd, -1 on error (logged).
 */
int
sdnotify(const char *state)
{
	struct sockaddr_un	 sun;
	const char		*path = getenv("NOTIFY_SOCKET");
	socklen_t		 slen;
	size_t			 plen;
	int			 fd, saved;

	if (path == NULL || *path == '\0')
		return (0);
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') ||
	    plen >= sizeof sun.sun_path) {
		log_warnx("sdnotify: unusable NOTIFY_SOCKET");
		return (-1);
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	slen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("sdnotify: socket");
		return (-1);
	}
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, slen) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		log_warn("sdnotify: send \"%s\"", state);
		return (-1);
	}
	close(fd);
	return (1);
}

/* Timer: tell systemd the loop is alive. */
static void
sdnotify_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	sdnotify("WATCHDOG=1");
}

/*
 * Start the watchdog pings if systemd asked for them ($WATCHDOG_USEC,
 * and $WATCHDOG_PID, when set, names us).  Needs loop_init().
 */
void
sdnotify_watchdog_start(void)
{
	const char	*usec = getenv("WATCHDOG_USEC");
	const char	*pid = getenv("WATCHDOG_PID");
	struct timeval	 tv;
	unsigned long long u;
	char		*ep;

	if (usec == NULL || getenv("NOTIFY_SOCKET") == NULL)
		return;
	if (pid != NULL && strtol(pid, NULL, 10) != (long)getpid())
		return;
	u = strtoull(usec, &ep, 10);
	if (*ep != '\0' || u == 0)
		return;
	u /= 2;
	tv.tv_sec = (time_t)(u / 1000000);
	tv.tv_usec = (suseconds_t)(u % 1000000);
	sdnotify_ev = event_new(loop_base(), -1, EV_PERSIST,
	    sdnotify_watchdog_cb, NULL);
	if (sdnotify_ev == NULL || evtimer_add(sdnotify_ev, &tv) == -1) {
		log_warnx("sdnotify: cannot start the watchdog timer");
		return;
	}
	log_debug("sdnotify: watchdog ping every %llu us", u);
}

/* Stop the watchdog pings (shutdown). */
void
sdnotify_watchdog_stop(void)
{
	if (sdnotify_ev != NULL) {
		event_free(sdnotify_ev);
		sdnotify_ev = NULL;
	}
}

/* Timer: send STATUS= if the text changed since the last one sent. */
static void
sdnotify_status_cb(evutil_socket_t fd, short what, void *arg)
{
	char	text[sizeof sdnotify_status_last], msg[sizeof text + 8];

	sdnotify_status_text(sdnotify_status_arg, text, sizeof text);
	if (strcmp(text, sdnotify_status_last) == 0)
		return;
	snprintf(msg, sizeof msg, "STATUS=%s", text);
	if (sdnotify(msg) == 1)
		memcpy(sdnotify_status_last, text, sizeof text);
}

/*
 * Under systemd, send STATUS= with fn's text now and then every second
 * when it changed.  Needs loop_init().
 */
void
sdnotify_status_start(sdnotify_status_fn fn, void *arg)
{
	struct timeval	tv = { 1, 0 };

	if (getenv("NOTIFY_SOCKET") == NULL)
		return;
	sdnotify_status_text = fn;
	sdnotify_status_arg = arg;
	sdnotify_status_last[0] = '\0';
	sdnotify_status_ev = event_new(loop_base(), -1, EV_PERSIST,
	    sdnotify_status_cb, NULL);
	if (sdnotify_status_ev == NULL ||
	    evtimer_add(sdnotify_status_ev, &tv) == -1) {
		log_warnx("sdnotify: cannot start the status timer");
		return;
	}
	sdnotify_status_cb(-1, 0, NULL);
}

/* Stop the STATUS= updates (shutdown). */
void
sdnotify_status_stop(void)
{
	if (sdnotify_status_ev != NULL) {
		event_free(sdnotify_status_ev);
		sdnotify_status_ev = NULL;
	}
}
