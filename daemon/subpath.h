/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The receive path (architecture §3 "Subscription", "Queues"): IPC
 * COMMAND / DISCARD / QUEUE_ACK handling, upstream subscribe/sow
 * commands, routing of deliveries and acks back to programs,
 * resubscription after failover, durable bookmark subscriptions and
 * queue acks.  The bookkeeping is in submgr.c; see subpath.c.
 */

#ifndef AMPSD_SUBPATH_H
#define AMPSD_SUBPATH_H

#include <stddef.h>
#include <stdio.h>

#include "conn.h"
#include "ipc.h"

struct conf;
struct store_set;
struct subpath;

struct subpath	*subpath_create(struct conf *, struct conn **, size_t,
		    struct store_set *, char **);
void		 subpath_free(struct subpath *);
int		 subpath_command(struct subpath *, struct ipc_client *,
		    const struct ipc_cmd *);
int		 subpath_discard(struct subpath *, struct ipc_client *,
		    const struct ipc_cmd *);
int		 subpath_queue_ack(struct subpath *, struct ipc_client *,
		    const struct ipc_cmd *);
void		 subpath_closed(struct subpath *, struct ipc_client *);
void		 subpath_frame(struct subpath *, struct conn *,
		    const struct amps_hdr *, const char *, size_t);
void		 subpath_state(struct subpath *, struct conn *,
		    enum conn_state);
void		 subpath_flush(struct subpath *);
void		 subpath_stop(struct subpath *);
size_t		 subpath_nsubs(const struct subpath *);
void		 subpath_status(struct subpath *, FILE *, int);

/* subpath-stats.c */
void		 subpath_foreach_sub(struct subpath *, void (*)(
		    struct ipc_client *, int, uint64_t, void *), void *);

#endif /* AMPSD_SUBPATH_H */
