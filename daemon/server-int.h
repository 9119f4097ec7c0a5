/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The server's private types (struct server and its per-connection
 * struct server_conn) and the functions its files share.  Included by
 * server.c (creation, handler table, flush phase), publish.c (the
 * publish path), server-acl.c (allow rules), server-status.c (STATUS
 * text), server-metrics.c (the snapshot behind STATUS and /metrics),
 * server-reload.c (configuration reload) and server-drain.c (SIGTERM
 * drain).  Nothing else includes this file: other modules see server.h.
 */

#ifndef AMPSD_SERVER_INT_H
#define AMPSD_SERVER_INT_H

#include <sys/types.h>

#include <regex.h>
#include <stdint.h>

#include "conn.h"
#include "ipc.h"
#include "metrics.h"

struct conf;
struct conf_conn;
struct committer;
struct conn;
struct event;
struct pubstore;
struct store;
struct store_set;
struct server;
struct server_drain;

/* A request waiting for the commit (or, with err, for its turn). */
struct publish_pending {
	struct ipc_client	*cl;
	uint32_t		 reqid;
	uint32_t		 connid;
	uint64_t		 seq;
	uint32_t		 err;		/* refused at append */
	char			*why;		/* its text, or NULL */
	int			 quiet;		/* no STORED, not tracked: a
						   sow_delete answered by its
						   acks (subpath.c) */
	char			*refused;	/* AMPS refused it before its
						   reply: the reason */
};

/* A stored message not yet persisted: who to tell on ack or failure. */
struct publish_track {
	struct ipc_client	*cl;
	uint32_t		 reqid;
	uint64_t		 seq;
};

/*
 * A PUBLISH_FLUSH in progress: per connection, the last sequence the
 * program had stored when it asked (0: nothing to wait for there).
 */
struct publish_waiter {
	struct server		*srv;
	struct ipc_client	*cl;
	uint32_t		 reqid;
	uint64_t		*target;	/* srv->nconns entries */
	uint64_t		 ticket;	/* the program's requests
						   queued before it */
	struct event		*timer;
	struct publish_waiter	*next;
};

/* A compiled allow rule. */
struct server_allow {
	int			 what;
	int			 any;		/* name "*" */
	int			 all;		/* topic matches every topic */
	int			 is_group;
	uid_t			 uid;
	gid_t			 gid;
	uid_t			*members;	/* group members' uids */
	size_t			 nmembers;
	regex_t			 re;		/* ^(topic)$ */
};

/* A renumbering at logon: rows above after moved up by delta. */
struct publish_renum {
	uint64_t	 after;
	uint64_t	 delta;
};

/* AMPS refused an adoptable row. */
struct publish_adopt_fail {
	uint64_t	 seq;
	char		*reason;
};

struct server_conn {
	struct server		*srv;
	struct conf_conn	*cc;
	uint32_t		 id;
	struct pubstore		*ps;
	struct conn		*conn;
	struct conn		*dconn;		/* delta session, id nconns + id */
	struct publish_track	*track;
	size_t			 thead;
	size_t			 tlen;
	size_t			 tcap;
	struct server_allow	*allows;
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
	/*
	 * Adoption (publish-adopt.c): rows at or below adopt_hi were in
	 * the store at startup; the renumberings made since; refusals of
	 * adoptable rows since.
	 */
	uint64_t		 adopt_hi;
	struct publish_renum	*renums;
	size_t			 nrenums;
	struct publish_adopt_fail *fails;
	size_t			 nfails;
	size_t			 cfails;
	/* Counters for status and metrics (server-metrics.c). */
	uint64_t		 published;	/* STORED replies */
	uint64_t		 failed_writes;	/* store refused or lost */
	uint64_t		 refused;	/* AMPS failure acks */
};

struct server {
	struct conf		*conf;
	struct server_conn	*conns;
	size_t			 nconns;
	size_t			 nconns_conf;	/* conf->nconns: ids above are
						   delta sessions */
	struct server_conn	*def;
	struct store_set	*set;
	struct publish_pending	*pending;
	size_t			 npending;
	size_t			 cpending;
	uint64_t		 answer_pass;	/* publish_answer() calls */
	int			 answer_due;	/* a pending fate may be known */
	struct committer	*cm;		/* the commit thread */
	struct event		*cm_ev;		/* ... its wake-up pipe */
	struct publish_waiter	*waiters;
	struct ipc		*ipc;
	struct event		*probe;		/* 1 s: retry degraded stores */
	struct subpath		*sp;		/* the receive path */
	uint64_t		 started;	/* monotonic ms */
	double			 started_wall;	/* Unix seconds */
	uid_t			 self;
	uint64_t		 acl_gen;	/* bumped when allow rules change */
	/* Group commit figures (server-metrics.c): [0] publish stores,
	 * [1] bookmark stores; latency of every commit. */
	uint64_t		 commits[2];
	uint64_t		 commit_failures[2];
	struct metrics_hist	 commit_hist;
	int			 draining;	/* SIGTERM: refuse new work */
	struct server_drain	*drain;		/* server-drain.c, per conn */
};

/* A snapshot for STATUS and /metrics, with the storage it points into. */
struct server_snap {
	struct metrics_snap	 m;
	struct conn_status	*st;		/* one per connection */
};

/* server.c */
struct server_conn *server_find(struct server *, const char *);
void		 server_conn_reason(const struct conn_status *, char *,
		     size_t);

/*
 * What the publish path (publish.c, publish-flush.c) keeps per program: the answer pass that left one
 * of its replies waiting (publish_answer), how many of its stored
 * requests were queued in `pending` and how many of those were answered
 * (in order, so a flush waiter knows when every STORED before it has
 * gone), and per connection the last sequence it appended, what its
 * PUBLISH_FLUSH waits for.  Allocated at the handshake or on first use,
 * freed by publish_closed().
 */
struct publish_client {
	uint64_t	 blocked;
	uint64_t	 queued;
	uint64_t	 answered;
	uint64_t	*adopted;	/* per connection: highest seq adopted
					   (publish-adopt.c); in last[]'s
					   allocation */
	uint64_t	 last[];
};


/* publish.c: the IPC handlers and the conn upcalls (arg: the server). */
int		 publish_h(struct ipc_client *, const struct ipcwire_msg *,
		     void *);
int		 publish_sow_delete(struct server *, struct ipc_client *,
		     const struct ipcwire_msg *);
void		 publish_persisted(struct conn *, uint64_t, void *);
void		 publish_failed(struct conn *, uint64_t, const char *, void *);
void		 publish_renumbered(struct conn *, uint64_t, uint64_t, void *);

/* publish-adopt.c: publishes of an earlier daemon that programs adopt. */
void		 publish_adopt_init(struct server_conn *);
uint64_t	 publish_adopt_claim(struct server *, struct server_conn *,
		     struct ipc_client *, uint64_t);
void		 publish_adopt_failed(struct server *, struct server_conn *,
		     uint64_t, const char *);
void		 publish_adopt_renumbered(struct server_conn *, uint64_t,
		     uint64_t);
void		 publish_adopt_free(struct server_conn *);
void		 publish_answer(struct server *);
void		 publish_hello(struct server *, struct ipc_client *);
void		 publish_closed(struct server *, struct ipc_client *);
void		 publish_free(struct server *);
uint64_t	 publish_done_seq(struct server_conn *);
uint32_t	 publish_store_err(struct server_conn *);
struct publish_client *publish_client(struct server *, struct ipc_client *);

/* publish-flush.c: PUBLISH_FLUSH and commands after publishes. */
void		 publish_flush_upstream(struct server *);
void		 publish_check_waiters(struct server *);
void		 publish_waiter_done(struct server *, struct publish_waiter *,
		     int);
int		 publish_flush_h(struct ipc_client *,
		     const struct ipcwire_msg *, void *);
int		 publish_unsent(void *, struct ipc_client *, uint32_t);

/* server-acl.c */
int		 server_acl_build(const struct conf_conn *,
		     struct server_allow **, size_t *, char **);
void		 server_acl_free(struct server_allow *, size_t);
int		 server_acl_compile(struct server_conn *, char **);
int		 server_acl(void *, uid_t, gid_t, const char *, const char *,
		     enum ipc_op, const char **);
int		 server_acl_deliver(void *, uid_t, gid_t, uint32_t,
		     const char *);

/* server-metrics.c */
void		 server_snapshot(struct server *, struct server_snap *);
void		 server_snapshot_free(struct server_snap *);
void		 server_commit_observed(void *, struct store *, double, int);

/* server-status.c */
int		 server_status_h(struct ipc_client *,
		     const struct ipcwire_msg *, void *);

#endif /* AMPSD_SERVER_INT_H */
