/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * systemd readiness and watchdog notifications (sd_notify protocol)
 * without libsystemd.  Every call does nothing outside systemd.
 */

#ifndef AMPSD_SDNOTIFY_H
#define AMPSD_SDNOTIFY_H

int	sdnotify(const char *state);
void	sdnotify_watchdog_start(void);
void	sdnotify_watchdog_stop(void);

#endif /* AMPSD_SDNOTIFY_H */
