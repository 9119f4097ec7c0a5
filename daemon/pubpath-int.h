/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Private to pubpath.c (publish path), pubpath-acl.c (allow rules),
 * pubpath-status.c (STATUS text), pubpath-metrics.c (the snapshot
 * behind STATUS and /metrics), pubpath-reload.c (configuration reload)
 * and pubpath-drain.c (SIGTERM drain).  Nothing else includes this file.
 */

#ifndef AMPSD_PUBPATH_INT_H
#define AMPSD_PUBPATH_INT_H

#include <sys/types.h>

#include <regex.h>
#include <stdint.h>

#include "conn.h"
#include "ipc.h"
#include "metrics.h"

struct conf;
struct conf_conn;
struct conn;
struct event;
struct pubstore;
struct store;
struct store_set;
struct pubpath;
struct pp_drain;

/* A request waiting for the commit (or, with err, for its turn). */
struct pp_pending {
	struct ipc_client	*cl;
	uint32_t		 reqid;
	uint32_t		 connid;
	uint64_t		 seq;
	uint32_t		 err;		/* refused at append */
};

/* A stored message not yet persisted: who to tell on ack or failure. */
struct pp_track {
	struct ipc_client	*cl;
	uint32_t		 reqid;
	uint64_t		 seq;
};

/* A PUBLISH_FLUSH in progress. */
struct pp_waiter {
	struct pubpath		*pp;
	struct ipc_client	*cl;
	uint32_t		 reqid;
	uint32_t		 connid;
	uint64_t		 target;
	struct event		*timer;
	struct pp_waiter	*next;
};

/* A compiled allow rule. */
struct pp_allow {
	int			 what;
	int			 any;		/* name "*" */
	int			 is_group;
	uid_t			 uid;
	gid_t			 gid;
	uid_t			*members;	/* group members' uids */
	size_t			 nmembers;
	regex_t			 re;
};

struct pp_conn {
	struct pubpath		*pp;
	struct conf_conn	*cc;
	uint32_t		 id;
	struct pubstore		*ps;
	struct conn		*conn;
	struct pp_track		*track;
	size_t			 thead;
	size_t			 tlen;
	size_t			 tcap;
	struct pp_allow		*allows;
	size_t			 nallows;
	/*
	 * Settled point: every seq <= settled was persisted or refused by
	 * AMPS.  Refusals above it wait in failed[] (sorted, few) until the
	 * gap below them closes.  Flush waiters compare against this, so no
	 * SQL count is needed.
	 */
	uint64_t		 settled;
	uint64_t		*failed;
	size_t			 nfailed;
	/* Counters for status and metrics (pubpath-metrics.c). */
	uint64_t		 published;	/* STORED replies */
	uint64_t		 failed_writes;	/* store refused or lost */
	uint64_t		 refused;	/* AMPS failure acks */
};

struct pubpath {
	struct conf		*conf;
	struct pp_conn		*conns;
	size_t			 nconns;
	struct pp_conn		*def;
	struct store_set	*set;
	struct pp_pending	*pending;
	size_t			 npending;
	size_t			 cpending;
	struct pp_waiter	*waiters;
	struct ipc		*ipc;
	struct event		*probe;		/* 1 s: retry degraded stores */
	struct subpath		*sp;		/* the receive path */
	uint64_t		 started;	/* monotonic ms */
	double			 started_wall;	/* Unix seconds */
	uid_t			 self;
	/* Group commit figures (pubpath-metrics.c): [0] publish stores,
	 * [1] bookmark stores; latency of every commit. */
	uint64_t		 commits[2];
	uint64_t		 commit_failures[2];
	struct metrics_hist	 commit_hist;
	int			 draining;	/* SIGTERM: refuse new work */
	struct pp_drain		*drain;		/* pubpath-drain.c, per conn */
};

/* A snapshot for STATUS and /metrics, with the storage it points into. */
struct pp_snap {
	struct metrics_snap	 m;
	struct conn_status	*st;		/* one per connection */
};

/* pubpath.c */
struct pp_conn	*pubpath_find(struct pubpath *, const char *);
uint32_t	 pubpath_store_err(struct pp_conn *);

/* pubpath-acl.c */
int		 pubpath_acl_build(const struct conf_conn *, struct pp_allow **,
		     size_t *, char **);
void		 pubpath_acl_free(struct pp_allow *, size_t);
int		 pubpath_acl_compile(struct pp_conn *, char **);
int		 pubpath_acl(void *, uid_t, gid_t, const char *, const char *,
		     enum ipc_op);

/* pubpath-metrics.c */
void		 pubpath_snapshot(struct pubpath *, struct pp_snap *);
void		 pubpath_snapshot_free(struct pp_snap *);
void		 pubpath_commit_observed(void *, struct store *, double, int);

/* pubpath-status.c */
int		 pubpath_status_h(struct ipc_client *, const struct ipc_cmd *,
		     void *);

#endif /* AMPSD_PUBPATH_INT_H */
