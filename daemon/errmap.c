/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * errmap.c: the map from an AMPS failure reason (the `reason` of a
 * failure ack, docs/PROTOCOL.md §6.3) to an IPC error code (enum
 * ampsipc_error, docs/IPC.md §6), following the exception kinds of the
 * AMPS clients (docs/PROTOCOL.md §16.1, §16.2).  Used for refused
 * publishes, refused commands and refused logons alike; and the map
 * from why an upstream connection is down (enum errmap_conn) to the
 * same codes.  Pure logic.
 *
 * Invariants: a reason not in the table, or none, maps to
 * AMPSIPC_E_COMMAND; case is ignored.  Every enum errmap_conn value but
 * NONE maps to a code that is not OK.
 */

#include "config.h"

#include <stddef.h>
#include <strings.h>

#include "ampsipc-wire.h"
#include "errmap.h"

/* Map an AMPS failure reason to an IPC error code. */
uint32_t
errmap_reason(const char *reason)
{
	static const struct {
		const char	*reason;
		uint32_t	 code;
	} map[] = {
		{ "auth failure",		AMPSIPC_E_AUTHENTICATION },
		{ "not entitled",		AMPSIPC_E_NOT_ENTITLED },
		{ "bad filter",			AMPSIPC_E_BAD_FILTER },
		{ "bad regex topic",		AMPSIPC_E_BAD_REGEX_TOPIC },
		{ "bad regex",			AMPSIPC_E_BAD_REGEX_TOPIC },
		{ "invalid topic",		AMPSIPC_E_INVALID_TOPIC },
		{ "name in use",		AMPSIPC_E_NAME_IN_USE },
		{ "subscription already exists", AMPSIPC_E_SUB_EXISTS },
		{ "already exists",		AMPSIPC_E_SUB_EXISTS },
	};
	size_t	i;

	if (reason == NULL)
		return (AMPSIPC_E_COMMAND);
	for (i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcasecmp(reason, map[i].reason) == 0)
			return (map[i].code);
	return (AMPSIPC_E_COMMAND);
}

/*
 * Map why a connection is down to the AMPS client's exception kind
 * (docs/PROTOCOL.md §16.1): a refused or unreachable server is
 * ConnectionRefusedError, a TLS failure ConnectionError, a refused
 * logon its reason's kind (AuthenticationError, NameInUseError, ...),
 * a timeout or giving up TimedOutError, a lost connection
 * DisconnectedError, unreadable data StreamError.  reason is the logon
 * failure's text (ERRMAP_CONN_LOGON), else unused.
 */
uint32_t
errmap_conn(enum errmap_conn why, const char *reason)
{
	switch (why) {
	case ERRMAP_CONN_NONE:
		return (AMPSIPC_E_OK);
	case ERRMAP_CONN_REFUSED:
		return (AMPSIPC_E_CONNECTION_REFUSED);
	case ERRMAP_CONN_TLS:
		return (AMPSIPC_E_CONNECTION);
	case ERRMAP_CONN_AUTH:
		return (AMPSIPC_E_AUTHENTICATION);
	case ERRMAP_CONN_NAME_IN_USE:
		return (AMPSIPC_E_NAME_IN_USE);
	case ERRMAP_CONN_LOGON:
		return (errmap_reason(reason));
	case ERRMAP_CONN_TIMEOUT:
	case ERRMAP_CONN_GAVE_UP:
		return (AMPSIPC_E_TIMED_OUT);
	case ERRMAP_CONN_LOST:
		return (AMPSIPC_E_DISCONNECTED);
	case ERRMAP_CONN_PROTOCOL:
		return (AMPSIPC_E_STREAM);
	}
	return (AMPSIPC_E_UNKNOWN);
}

/* A short name of why a connection is down, for status ("-" if up). */
const char *
errmap_conn_name(enum errmap_conn why)
{
	static const char *const names[] = { "-", "connection-refused",
	    "tls", "authentication", "name-in-use", "logon-refused",
	    "timed-out", "disconnected", "bad-data", "gave-up" };

	if ((size_t)why >= sizeof names / sizeof names[0])
		return ("unknown");
	return (names[why]);
}
