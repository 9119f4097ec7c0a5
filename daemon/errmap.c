/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * errmap.c: the map from an AMPS failure reason (the `reason` of a
 * failure ack, docs/PROTOCOL.md §6.3) to an IPC error code (enum
 * ampsipc_error, docs/IPC.md §5), following the exception kinds of the
 * AMPS clients (docs/PROTOCOL.md §16.2).  Used for refused publishes,
 * refused commands and refused logons alike.  Pure logic.
 *
 * Invariant: a reason not in the table, or none, maps to
 * AMPSIPC_E_COMMAND; case is ignored.
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
