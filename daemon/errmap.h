/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * AMPS failure reasons -> IPC error codes (docs/PROTOCOL.md §16.2,
 * docs/IPC.md §6).  The one place the daemon maps a reason string from
 * a failure ack, or why a connection is down, to what a program is
 * told.  Pure: see errmap.c.
 */

#ifndef AMPSD_ERRMAP_H
#define AMPSD_ERRMAP_H

#include <stdint.h>

uint32_t	 errmap_reason(const char *);

/*
 * Why an upstream connection is not up (conn.c classifies each
 * failure), mapped by errmap_conn() to the AMPS client's exception kind
 * a program is told in CONN_STATE and status (docs/IPC.md §4, §7).
 */
enum errmap_conn {
	ERRMAP_CONN_NONE = 0,	/* no failure since the last logon */
	ERRMAP_CONN_REFUSED,	/* connect refused, unreachable, no address */
	ERRMAP_CONN_TLS,	/* TLS handshake or certificate verification */
	ERRMAP_CONN_AUTH,	/* logon: auth failure */
	ERRMAP_CONN_NAME_IN_USE, /* logon: client name in use */
	ERRMAP_CONN_LOGON,	/* logon refused for another reason */
	ERRMAP_CONN_TIMEOUT,	/* connect or logon took too long */
	ERRMAP_CONN_LOST,	/* read/write error, closed, no heartbeat */
	ERRMAP_CONN_PROTOCOL,	/* the server sent something unreadable */
	ERRMAP_CONN_GAVE_UP,	/* the reconnect give-up time passed */
};

uint32_t	 errmap_conn(enum errmap_conn, const char *);
const char	*errmap_conn_name(enum errmap_conn);

#endif /* AMPSD_ERRMAP_H */
