/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * systemd readiness, watchdog and status notifications (sd_notify
 * protocol) without libsystemd.  Every call does nothing outside
 * systemd.
 */

#ifndef AMPSD_SDNOTIFY_H
#define AMPSD_SDNOTIFY_H

typedef void	(*sdnotify_status_fn)(void *, char *, size_t);

int	sdnotify(const char *state);
void	sdnotify_watchdog_start(void);
void	sdnotify_watchdog_stop(void);
void	sdnotify_status_start(sdnotify_status_fn, void *);
void	sdnotify_status_stop(void);

#endif /* AMPSD_SDNOTIFY_H */
