/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Read-only figures of the receive path for status and metrics
 * (server-metrics.c): every program subscription with its owner, whether
 * it is durable, and how many delivered messages still wait for the
 * program's discard (durable) or ack (queue leases).  Changes nothing.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>

#include "subpath.h"
#include "subpath-int.h"

/*
 * Call fn(client, durable, pending, arg) once per program subscription;
 * client is the owning struct ipc_client.  fn must not change the
 * receive path.
 */
void
subpath_foreach_sub(struct subpath *sp, void (*fn)(struct ipc_client *, int,
    uint64_t, void *), void *arg)
{
	struct submgr_sub	*s;

	if (sp == NULL)
		return;
	for (s = submgr_sub_first(sp->sm); s != NULL; s = s->next)
		fn(s->client, (s->flags & SUBMGR_DURABLE) != 0,
		    (uint64_t)s->fcount + s->nleases, arg);
}
