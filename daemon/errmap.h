/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * AMPS failure reasons -> IPC error codes (docs/PROTOCOL.md §16.2,
 * docs/IPC.md §5).  The one place the daemon maps a reason string from
 * a failure ack to what a program is told.  Pure: see errmap.c.
 */

#ifndef AMPSD_ERRMAP_H
#define AMPSD_ERRMAP_H

#include <stdint.h>

uint32_t	 errmap_reason(const char *);

#endif /* AMPSD_ERRMAP_H */
