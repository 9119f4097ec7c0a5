/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The receive path (DESIGN.md §3 "Subscription", "Queues"): IPC
 * COMMAND / DISCARD / QUEUE_ACK handling, upstream subscribe/sow
 * commands, routing of deliveries and acks back to programs,
 * resubscription after failover, durable bookmark subscriptions and
 * queue acks.  The bookkeeping is in submgr.c; see subpath.c.
 */

#ifndef AMPSD_SUBPATH_H
#define AMPSD_SUBPATH_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conn.h"
#include "ipc.h"

struct conf;
struct store_set;
struct subpath;

/*
 * The delivery check of the allow rules (server_acl_deliver): 1 if the
 * uid/gid may receive topic from connection connid; with topic NULL, 1
 * if it may receive every topic.
 */
typedef int	(*subpath_acl_fn)(void *, uid_t, gid_t, uint32_t,
		    const char *);

struct subpath	*subpath_create(struct conf *, struct store_set *);
int		 subpath_open(struct subpath *, char **);
void		 subpath_attach(struct subpath *, uint32_t, struct conn *);
void		 subpath_free(struct subpath *);
int		 subpath_command(struct subpath *, struct ipc_client *,
		    const struct ipcwire_msg *);
void		 subpath_closed(struct subpath *, struct ipc_client *);
void		 subpath_sow_delete(struct subpath *, struct ipc_client *,
		    const struct ipcwire_msg *, uint32_t, uint64_t);
void		 subpath_release_held(struct subpath *);
void		 subpath_set_unsent(struct subpath *, int (*)(void *,
		    struct ipc_client *, uint32_t), void *);

/* subpath-sub.c: IPC handlers (arg: the subpath). */
int		 subpath_discard(struct ipc_client *,
		    const struct ipcwire_msg *, void *);
int		 subpath_queue_ack(struct ipc_client *,
		    const struct ipcwire_msg *, void *);

/* subpath-deliver.c: the conn frame upcall (arg: the subpath). */
void		 subpath_frame(struct conn *, const struct amps_hdr *,
		    const char *, size_t, void *);
void		 subpath_state(struct subpath *, struct conn *,
		    enum conn_state);
void		 subpath_flush(struct subpath *);
void		 subpath_stop(struct subpath *);
size_t		 subpath_nsubs(const struct subpath *);
void		 subpath_status(struct subpath *, FILE *, int,
		    const struct ipc_client *);

/* subpath-acl.c: gen is read at every delivery (a reload bumps it). */
void		 subpath_set_acl(struct subpath *, subpath_acl_fn, void *,
		    const uint64_t *);
uint64_t	 subpath_acl_dropped(const struct subpath *, size_t);

/* subpath-stats.c */
void		 subpath_foreach_sub(struct subpath *, void (*)(
		    struct ipc_client *, int, uint64_t, void *), void *);

#endif /* AMPSD_SUBPATH_H */
