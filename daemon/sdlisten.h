/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * systemd socket activation (sd_listen_fds protocol) without libsystemd:
 * the listening IPC socket inherited as descriptor 3.
 */

#ifndef AMPSD_SDLISTEN_H
#define AMPSD_SDLISTEN_H

#define SDLISTEN_FD_START	3	/* SD_LISTEN_FDS_START */

int	sdlisten(char **cause);

#endif /* AMPSD_SDLISTEN_H */
