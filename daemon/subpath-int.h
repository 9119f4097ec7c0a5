/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The receive path's private types and the functions its files share:
 * subpath.c (IPC requests, program exit, connection states),
 * subpath-park.c (commands waiting for their session to come up),
 * subpath-admin.c (durable names by name, status lines),
 * subpath-deliver.c (frames from AMPS to programs), subpath-sub.c (a
 * subscription's life upstream, DISCARD, QUEUE_ACK), subpath-out.c
 * (frames out, lookups), subpath-acl.c (the allow rules on deliveries)
 * and subpath-stats.c.  Nothing else includes it.
 */

#ifndef AMPSD_SUBPATH_INT_H
#define AMPSD_SUBPATH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "amps.h"
#include "conn.h"
#include "ipc.h"
#include "qack.h"
#include "submgr.h"
#include "subpath.h"

struct bookmarkstore;
struct conf;
struct event;

/*
 * One upstream session: sessions 0 .. nconns - 1 are the configured
 * connections, nconns + i is connection i's delta session (delta
 * subscriptions only: PROTOCOL.md §11.2), which has no bookmark store
 * and is started on its first use.
 */
struct sp_conn {
	struct conn		*conn;
	const char		*name;		/* the configured connection's */
	struct bookmarkstore	*bs;		/* NULL for a delta session */
	int			 up;		/* logged on */
	int			 failed;	/* down after a failure (backoff,
						   gave up), until up again */
	uint64_t		 acl_dropped;	/* deliveries the rules refused
						   (on the connection's entry) */
};

/*
 * A command that waits for its session to come up (docs/IPC.md §5,
 * "While AMPS is unreachable"): a copy of the request, run again when
 * the session is up, or answered DISCONNECTED when its TIMEOUT_MS
 * passes first or the session gives up.
 */
struct sp_park {
	struct subpath		*sp;
	struct ipc_client	*cl;
	uint32_t		 sess;
	struct ipcwire_msg	 m;		/* fields point into buf */
	uint8_t			*buf;
	struct event		*timer;
	struct sp_park		*next;
};

/* An upstream command to build (absent strings are NULL, numbers 0). */
struct sp_up {
	const char	*c;
	const char	*cid;
	const char	*t;
	const char	*sub_id;
	const char	*query_id;
	const char	*f;
	const char	*o;
	const char	*bm;
	const char	*orderby;
	const char	*sow_keys;
	const char	*k;
	const char	*x;
	uint32_t	 bs;
	uint32_t	 top_n;
	uint32_t	 acks;
	const void	*hdrs;		/* checked HEADERS (cmdhdr.c) */
	size_t		 hlen;
	const void	*data;
	size_t		 len;
};

/* A MESSAGE or ACK to a program (absent strings NULL). */
struct sp_msg {
	uint16_t	 type;		/* AMPSIPC_MESSAGE or AMPSIPC_ACK */
	uint32_t	 cmd;
	const char	*topic;
	const void	*data;
	size_t		 len;
	const char	*x;
	const char	*k;
	const char	*options;
	const char	*sub_id;
	const char	*query_id;
	const char	*bm;
	const char	*reason;
	const char	*ts;
	const char	*lp;
	const char	*user_id;
	uint32_t	 ack;
	uint32_t	 status;
	uint32_t	 errcode;
	uint32_t	 backlog;
	uint32_t	 connid;
	int		 has_seq;
	uint64_t	 seq;
	int		 has_gseq;
	uint64_t	 gseq;
	uint64_t	 stats[6];	/* MATCHES .. RECORDS_DELETED */
	uint64_t	 has_stats;	/* bit per stats[] entry */
};

struct subpath {
	struct conf		*conf;
	struct sp_conn		*conns;		/* nsess sessions */
	size_t			 nconns;	/* configured connections */
	size_t			 nsess;		/* 2 * nconns */
	size_t			 def;
	struct sp_park		*parked;
	struct sp_park		*held;		/* behind their publishes */
	/* Does the program have publishes not yet upstream before a
	 * command for this session?  (server.c; NULL: never) */
	int			(*unsent)(void *, struct ipc_client *,
				    uint32_t);
	void			*unsent_arg;
	struct submgr		*sm;
	struct qack		*qa;		/* pending queue acks */
	struct event		*qtimer;	/* oldest pending ack due */
	char			*wbuf;		/* upstream frame */
	size_t			 wcap;
	uint8_t			*ebuf;		/* IPC frame */
	size_t			 ecap;
	char			*arena;		/* unescaped header strings */
	size_t			 acap;
	size_t			 alen;
	uint64_t		 dropped;	/* no route */
	struct store_set	*set;
	subpath_acl_fn		 acl;		/* delivery check (subpath-acl.c) */
	void			*acl_arg;
	const uint64_t		*acl_gen;	/* the rules' generation */
};

/*
 * Durable flow control: a durable subscription with more than this
 * delivered but not discarded is detached (unsubscribed upstream) until
 * the program has discarded everything, then resumed from its bookmark
 * store.  Below the per-program output bound of ipc.c (64 MiB).
 */
#define SP_FLOW_MSGS	20000
#define SP_FLOW_BYTES	(16U * 1024 * 1024)

/*
 * Slow plain subscribers: a subscription that is not durable with more
 * than this of its messages queued and unread by its program is ended
 * (TOO_FAR_BEHIND) while the program's connection and its other
 * subscriptions go on.  Below the per-program output bound of ipc.c
 * (out_max, 64 MiB), past which the whole program is dropped.
 */
#define SP_PLAIN_MAX_BYTES	(16U * 1024 * 1024)

/* Subscriptions one program may hold (bad input must not exhaust us). */
#define SP_MAX_SUBS	10000

/*
 * The receive path's layers: each file calls only the ones listed after
 * it (subpath-out.c is the bottom).
 */

/* The configured connection of session sess. */
#define SP_CONF(sp, sess)	((sess) >= (sp)->nconns ? \
	(uint32_t)((sess) - (sp)->nconns) : (uint32_t)(sess))

/* subpath-park.c (called by subpath.c) */
int	sp_park(struct subpath *, struct ipc_client *,
	    const struct ipcwire_msg *, uint32_t);
struct sp_park *sp_park_take(struct subpath *, uint32_t);
void	sp_park_free(struct sp_park *);
void	sp_park_fail(struct subpath *, uint32_t);
void	sp_park_closed(struct subpath *, struct ipc_client *);
void	sp_hold(struct subpath *, struct ipc_client *,
	    const struct ipcwire_msg *, uint32_t);
int	sp_holds(struct subpath *, struct ipc_client *);

/* subpath-admin.c (called by subpath.c) */
int	sp_unsub_durable(struct subpath *, struct ipc_client *,
	    const struct ipcwire_msg *, const char *, int);

/* subpath-sub.c */
void	sp_send_sub(struct subpath *, struct submgr_sub *);
void	sp_drop_sub(struct subpath *, struct submgr_sub *, uint32_t,
	    const char *, int);
void	sp_detach(struct subpath *, struct submgr_sub *);
void	sp_resume(struct subpath *, struct submgr_sub *);
void	sp_qack_add(struct subpath *, struct submgr_sub *, uint32_t,
	    const char *, const char *, const char *);
void	sp_qack_flush_sub(struct subpath *, struct submgr_sub *);
void	sp_qack_timer_cb(int, short, void *);

/* subpath-acl.c (beside subpath-out.c at the bottom) */
int	sp_acl_allow(struct subpath *, struct ipc_client *, uint32_t,
	    struct submgr_acl *, const char *);

/* subpath-out.c */
void	sp_send_up(struct subpath *, uint32_t, const struct sp_up *);
void	sp_send_msg(struct subpath *, struct ipc_client *, uint32_t,
	    const struct sp_msg *);
void	sp_stream_end(struct subpath *, struct ipc_client *, uint32_t,
	    uint32_t, const char *);
void	sp_stream_end_q(struct ipc_client *, uint32_t, uint32_t,
	    const char *, int);
int	sp_conn_of(struct subpath *, const struct ipcwire_msg *);
void	sp_down_text(struct subpath *, uint32_t, char *, size_t);
void	sp_ack_down(struct subpath *, struct ipc_client *, uint32_t,
	    uint32_t, const char *, uint32_t, int, const char *);
void	sp_ack_pending(struct subpath *, struct ipc_client *, uint32_t,
	    uint32_t, const char *, uint32_t, int);
int	sp_store_has(struct subpath *, size_t, const char *);
int64_t	sp_store_owner(struct subpath *, size_t, const char *);
int64_t	sp_durable_owner(struct subpath *, const char *);
int	sp_durable_may(struct subpath *, struct ipc_client *, uint32_t,
	    const char *, int);

#endif /* AMPSD_SUBPATH_INT_H */
