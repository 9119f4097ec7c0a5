/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * submgr.h: the subscription manager's bookkeeping (pure: no I/O, no
 * libevent, no SQLite).  It maps programs' subscriptions to upstream
 * ones, namespaces their ids, remembers the commands waiting for acks,
 * and the queue leases each subscription holds (acks are batched in
 * qack.c).
 * subpath.c does the I/O around it.
 */

#ifndef AMPSD_SUBMGR_H
#define AMPSD_SUBMGR_H

#include <stddef.h>
#include <stdint.h>

struct submgr;

/*
 * What the delivery check of the allow rules found for a program's
 * subscription or query (subpath-acl.c); valid while the rules keep
 * generation gen.
 */
struct submgr_acl {
	uint64_t	 gen;		/* rules it was found for; 0 = not yet */
	int		 open;		/* the program may see every topic */
	int		 ok;		/* the verdict for topic */
	char		*topic;		/* the last topic checked, or NULL */
	uint64_t	 dropped;	/* deliveries refused */
};

/* One program subscription (subscribe family) kept for resubscription. */
struct submgr_sub {
	void		*client;	/* opaque: the ipc_client */
	uint64_t	 client_id;
	uint32_t	 reqid;		/* the COMMAND; tags every message */
	uint32_t	 connid;
	int		 cmd;		/* AMPSIPC_CMD_* */
	int		 flags;
#define SUBMGR_STREAM		0x01	/* synchronous: not resubscribed */
#define SUBMGR_DURABLE		0x02	/* bookmark store (durable name) */
#define SUBMGR_AUTO_ACK		0x04	/* queue: daemon acks on delivery */
#define SUBMGR_CONFIRMED	0x08	/* first processed ack forwarded */
#define SUBMGR_QUEUE		0x10	/* leased messages seen */
#define SUBMGR_DETACHED		0x20	/* durable: paused, program behind */
#define SUBMGR_DROPPING		0x40	/* sp_drop_sub() is ending it */
#define SUBMGR_UNSUBBING	0x80	/* detached: unsubscribe not acked */
#define SUBMGR_PAUSED		0x100	/* the program paused it: re-entered
					   paused (PROTOCOL.md §15.4) */
#define SUBMGR_EARLY		0x200	/* answered "accepted" while its
					   session was down; not yet acked */
	char		*local_id;	/* the program's sub_id */
	char		*up_id;		/* upstream sub_id (namespaced) */
	char		*durable;	/* bookmark store key, or NULL */
	/* definition, for resubscription */
	char		*topic;
	char		*filter;
	char		*options;	/* without "replace" */
	char		*bookmark;	/* as given (durable: may be "recent") */
	char		*orderby;
	char		*sow_keys;
	char		*query_id;
	void		*hdrs;		/* extra header fields (cmdhdr.c) */
	size_t		 hlen;
	uint32_t	 bs;
	uint32_t	 top_n;
	uint32_t	 skip_n;
	uint32_t	 max_backlog;
	uint32_t	 user_acks;	/* AMPSIPC_ACK_* the program wants */
	uint32_t	 granted;	/* queue backlog from the ack, 0 = ? */
	char		*last_bm;	/* non-durable bookmark sub: resume */
	uint64_t	 delivered;	/* messages sent to the program */
	uint64_t	 duplicates;	/* dropped by the bookmark store */
	/* durable flow control: sizes delivered and not yet discarded */
	uint32_t	*flow;		/* ring */
	size_t		 fhead;
	size_t		 fcount;
	size_t		 fcap;
	uint64_t	 fbytes;
	/* queue leases: messages delivered to the program and not acked */
	struct submgr_lease *leases;
	size_t		 nleases;
	size_t		 cleases;
	uint32_t	 qpending;	/* acked, ack not yet sent upstream */
	struct submgr_acl acl;		/* delivery check (subpath-acl.c) */
	struct submgr_sub *hnext;	/* hash chain by up_id */
	uint64_t	 hash;		/* of up_id */
	struct submgr_sub *next;	/* all subscriptions */
	struct submgr_sub *prev;
};

struct submgr_lease {
	char		*bm;
	char		*topic;
};

/* A command sent upstream and waiting for acks. */
struct submgr_cmd {
	char		 cid[24];
	uint32_t	 connid;
	void		*client;
	uint32_t	 reqid;		/* to tag acks and query results */
	int		 cmd;
	int		 flags;
#define SUBMGR_CMD_RESUB	0x01	/* a resubscription */
#define SUBMGR_CMD_TRANSIENT	0x02	/* STREAM_END after the last ack */
#define SUBMGR_CMD_DETACH	0x04	/* the unsubscribe of a detach */
#define SUBMGR_CMD_STORED	0x10	/* a sow_delete in the publish store */
#define SUBMGR_CMD_EARLY	0x08	/* first entry of an early-acked sub:
					   processed not forwarded again,
					   failure ends it (STREAM_END) */
	uint32_t	 up_acks;	/* requested upstream */
	uint32_t	 user_acks;	/* forwarded to the program */
	uint32_t	 seen;
	char		*query_id;	/* the program's, or NULL */
	char		*local_id;	/* for acks: the program's sub_id */
	struct submgr_sub *sub;		/* subscribe family, else NULL */
	struct submgr_acl acl;		/* delivery check of its results */
	struct submgr_cmd *hnext;
	struct submgr_cmd *next;
};

struct submgr	*submgr_create(void);
void		 submgr_free(struct submgr *);

/* Upstream id for a program's local id: "c<client>.<id>" / "d.<name>". */
int		 submgr_up_id(uint64_t client_id, const char *local,
		    int durable, char *out, size_t cap);
/* Whether a local id is acceptable (no comma, not empty, not "all"). */
int		 submgr_id_ok(const char *);

/* Subscriptions. */
struct submgr_sub *submgr_sub_new(struct submgr *, void *client,
		    uint64_t client_id, const char *local, const char *durable);
struct submgr_sub *submgr_sub_find(struct submgr *, const char *up_id);
struct submgr_sub *submgr_sub_local(struct submgr *, uint64_t client_id,
		    const char *local);
struct submgr_sub *submgr_sub_durable(struct submgr *, const char *name);
void		 submgr_sub_remove(struct submgr *, struct submgr_sub *);
struct submgr_sub *submgr_sub_first(struct submgr *);
size_t		 submgr_nsubs(const struct submgr *);

/*
 * Queue leases of a subscription: the bookmark and the topic of each
 * queue message delivered to its program and not acked yet (AMPS takes
 * an ack only from the connection holding the lease, PROTOCOL.md §10;
 * here that is the program).  The topic is the message's (a regex
 * subscription leases messages of several topics).
 */
int		 submgr_lease_add(struct submgr_sub *, const char *topic,
		    const char *bm);
/*
 * Forget a leased bookmark: 1 if it was leased (*topic, if topic is not
 * NULL, then holds its topic for the caller to free), 0 if not.
 */
int		 submgr_lease_drop(struct submgr_sub *, const char *bm,
		    char **topic);
void		 submgr_lease_clear(struct submgr_sub *);
/*
 * The leases joined by commas, at most max per string (0: no limit),
 * one topic per string, in lease order: cb(topic, list, arg) per chunk.
 */
void		 submgr_lease_chunks(struct submgr_sub *, size_t max,
		    void (*)(const char *, const char *, void *), void *);

/*
 * Durable flow control: a delivered message of len bytes is outstanding
 * until discarded (discards are taken in delivery order).
 */
void		 submgr_flow_push(struct submgr_sub *, uint32_t len);
void		 submgr_flow_pop(struct submgr_sub *);

/* Commands waiting for acks. */
struct submgr_cmd *submgr_cmd_new(struct submgr *, uint32_t connid);
struct submgr_cmd *submgr_cmd_new_cid(struct submgr *, uint32_t connid,
		    const char *cid);
struct submgr_cmd *submgr_cmd_find(struct submgr *, const char *cid);
void		 submgr_cmd_remove(struct submgr *, struct submgr_cmd *);
struct submgr_cmd *submgr_cmd_first(struct submgr *);
/* Clear every cmd's pointer to sub (the sub is going away). */
void		 submgr_cmd_unlink_sub(struct submgr *, struct submgr_sub *);

/*
 * Options for resubscription: o without "replace" (and without "pause"
 * when pause is 0).  Returns a new string (caller frees), or NULL.
 */
char		*submgr_opts_strip(const char *o, const char *name);
/* Whether option name is present in o. */
int		 submgr_opts_has(const char *o, const char *name);
/* The numeric value of option name in o, or def. */
uint64_t	 submgr_opts_num(const char *o, const char *name, uint64_t def);

#endif /* AMPSD_SUBMGR_H */
