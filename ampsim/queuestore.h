/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * One ampsim message queue (PROTOCOL.md §10, esp. §10.6).  Pure logic: no I/O,
 * no clocks; "now" is a monotonic time in microseconds passed in.
 *
 * Model: messages are kept in FIFO (enqueue) order.  Each is AVAILABLE,
 * LEASED to one subscriber (at-least-once), or SENT (at-most-once: gone
 * from the queue, but it still occupies one backlog slot of the
 * subscriber until acknowledged).  A message returned to the queue
 * (cancel, lease expiry, subscriber removal) regains its original FIFO
 * position.  Subscribers are identified by a caller-chosen 64-bit id and
 * belong to an "owner" (the connection): acknowledgements name the owner,
 * because a sow_delete carries no sub_id, and only affect messages held
 * by a subscriber of that owner.
 *
 * Ownership: the queue owns its messages.  A const struct queue_msg *
 * handed out (assignments, foreach) stays valid until the next call that
 * can remove a message: queue_ack*, queue_lease_expired,
 * queue_remove_subscriber, queue_remove_owner, queue_free.  enqueue and
 * dispatch never free messages.
 *
 * Memory exhaustion aborts the process (this is a test server).
 */
#ifndef AMPSIM_QUEUESTORE_H
#define AMPSIM_QUEUESTORE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct filter;

enum queue_semantics {
	QUEUE_AT_LEAST_ONCE,
	QUEUE_AT_MOST_ONCE
};

/* Default MaxPerSubscriptionBacklog when the configuration gives 0. */
#define QUEUE_DEFAULT_MAX_BACKLOG	10000

struct queue_config {
	const char		*name;		/* queue topic (copied) */
	enum queue_semantics	 semantics;
	uint64_t		 lease_period;	/* usec; 0 = 30 s */
	unsigned		 max_backlog;	/* MaxPerSubscriptionBacklog;
						   0 = default above */
	unsigned		 max_deliveries; /* 0 = unlimited */
	unsigned		 max_cancels;	/* 0 = unlimited */
};

/* A queued message.  Read-only for the caller. */
struct queue_msg {
	char		*bookmark;	/* unique handle, acknowledged by it */
	char		*topic;		/* underlying topic published to */
	char		*data;		/* raw payload; data[len] is a NUL */
	size_t		 len;
	char		*key;		/* k, or NULL */
	char		*cid;		/* correlation id (x), or NULL */
	uint64_t	 seq;		/* FIFO position, 1, 2, ... */
	unsigned	 deliveries;	/* times delivered so far */
	unsigned	 cancels;	/* times cancelled so far */
};

/* One delivery decided by queue_dispatch. */
struct queue_assign {
	uint64_t		 sub;		/* subscriber id */
	void			*ctx;		/* its ctx (add_subscriber) */
	const struct queue_msg	*msg;
	uint64_t		 lease_until;	/* usec, now + lease period */
};

struct queue_assignlist {
	struct queue_assign	*v;
	size_t			 n;
	size_t			 cap;
};
/* Free the array; the list becomes empty. */
void		 queue_assignlist_free(struct queue_assignlist *);

/* Counters (for stats and tests). */
struct queue_counts {
	size_t		 available;	/* in the FIFO, deliverable */
	size_t		 leased;	/* leased or sent-not-yet-acked */
	size_t		 subscribers;
	uint64_t	 enqueued;
	uint64_t	 delivered;	/* deliveries, including redeliveries */
	uint64_t	 acked;
	uint64_t	 cancelled;
	uint64_t	 expired;	/* explicit expire acks */
	uint64_t	 lease_expired;	/* leases broken by the timer */
	uint64_t	 returned;	/* back to the FIFO for any reason */
	uint64_t	 dropped;	/* removed by max_deliveries/max_cancels */
};

struct queuestore;

/* Create a queue from cfg (copied). */
struct queuestore *queue_create(const struct queue_config *cfg);
/* Free the queue and its messages.  NULL is allowed. */
void		 queue_free(struct queuestore *);
const char	*queue_name(const struct queuestore *);
enum queue_semantics queue_semantics(const struct queuestore *);
uint64_t	 queue_lease_period(const struct queuestore *);
void		 queue_get_counts(const struct queuestore *,
		    struct queue_counts *);

/*
 * Append a message at the tail of the FIFO.  All strings and data are
 * copied; doc (optional parsed payload, for filters) gets a reference
 * taken.  key and cid may be NULL.  Returns 0, or -1 when the bookmark is
 * already in the queue (nothing changed).
 */
int		 queue_enqueue(struct queuestore *, const char *bookmark,
		    const char *topic, const char *data, size_t len,
		    const char *key, const char *cid, json_t *doc);

/*
 * Register subscriber id (unique within the queue) of owner.  requested
 * is the max_backlog option, 0 when absent.  The granted backlog is
 * min(requested, max_backlog) or 1 when absent (§10.2); it is returned
 * (the server sends "max_backlog=<granted>").  filter (borrowed, may be
 * NULL) restricts what this subscriber is given; it must outlive the
 * registration.  ctx is returned in assignments.  Returns 0 when the id
 * is already registered.
 */
unsigned	 queue_add_subscriber(struct queuestore *, uint64_t id,
		    uint64_t owner, void *ctx, const struct filter *filter,
		    unsigned requested);
/*
 * replace on a queue subscription: recompute the backlog and swap the
 * filter, keeping the leases (§10.2).  A backlog smaller than the number
 * held just delays new deliveries.  Returns the granted backlog, or 0 if
 * id is unknown.
 */
unsigned	 queue_update_subscriber(struct queuestore *, uint64_t id,
		    const struct filter *filter, unsigned requested);
/*
 * Remove a subscriber: its leases are returned to the FIFO at once in
 * their original positions (at-least-once; at-most-once messages are
 * simply forgotten).  Returns the number of messages returned, -1 if id
 * is unknown.
 */
int		 queue_remove_subscriber(struct queuestore *, uint64_t id);
/* Remove every subscriber of owner (connection closed); returns count. */
int		 queue_remove_owner(struct queuestore *, uint64_t owner);
/* Messages held by subscriber id, or -1 if unknown. */
int		 queue_subscriber_held(const struct queuestore *, uint64_t id);

/*
 * Deliver available messages, in FIFO order, to subscribers with a free
 * backlog slot (and whose filter matches), round-robin.  A message that
 * was cancelled or whose lease expired prefers a subscriber other than
 * the one that last held it, if one can take it.  Appends the decisions
 * to out and returns how many.  At-least-once: each message becomes
 * LEASED until now + lease period.  At-most-once: it leaves the queue
 * (SENT) and only holds the slot until acked or its lease time passes.
 */
size_t		 queue_dispatch(struct queuestore *, uint64_t now,
		    struct queue_assignlist *out);

/* What an acknowledgement does (§10.4). */
enum queue_ack_mode {
	QUEUE_ACK,		/* remove: consumed */
	QUEUE_CANCEL,		/* return to the FIFO, redeliverable */
	QUEUE_EXPIRE		/* remove as expired */
};

/*
 * Acknowledge one bookmark for owner.  Returns 1 when the message was
 * held by a subscriber of owner (the slot is freed; call queue_dispatch
 * afterwards), 0 when ignored (unknown, available, or someone else's).
 * On at-most-once queues every mode just frees the slot.  A cancel that
 * reaches max_cancels drops the message instead of returning it.
 */
int		 queue_ack(struct queuestore *, uint64_t owner,
		    const char *bookmark, enum queue_ack_mode mode);
/*
 * Acknowledge a comma-separated list of bookmarks (the bm field).
 * Returns the number applied; *ignored (may be NULL) gets the rest.
 */
size_t		 queue_ack_list(struct queuestore *, uint64_t owner,
		    const char *list, size_t len, enum queue_ack_mode mode,
		    size_t *ignored);
/*
 * sow_delete with a filter on a queue: remove every message (available or
 * held by anyone) whose document matches (NULL = all), freeing slots.
 * Messages enqueued without doc are parsed on demand; unparsable ones
 * never match.  Returns the number removed.
 */
size_t		 queue_ack_filter(struct queuestore *, const struct filter *);

/*
 * Break every lease with lease_until <= now: at-least-once messages go
 * back to the FIFO (or are dropped at max_deliveries), at-most-once slots
 * are freed.  Returns the number of leases broken.
 */
size_t		 queue_lease_expired(struct queuestore *, uint64_t now);
/* Earliest lease_until of any held message, 0 when none. */
uint64_t	 queue_next_lease_expiry(const struct queuestore *);

/*
 * Read-only view of the available messages (sow on a queue) in FIFO
 * order.  cb must not modify the queue; a nonzero return stops the walk
 * and is returned.
 */
int		 queue_foreach_available(const struct queuestore *,
		    int (*cb)(const struct queue_msg *, void *), void *arg);
/* Find a message by bookmark (available or held), or NULL. */
const struct queue_msg *queue_find(const struct queuestore *,
		    const char *bookmark);
/* 1 when bookmark is currently held by subscriber id. */
int		 queue_is_held_by(const struct queuestore *,
		    const char *bookmark, uint64_t id);

#endif /* AMPSIM_QUEUESTORE_H */
