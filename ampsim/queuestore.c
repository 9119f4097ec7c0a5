/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * queuestore: one ampsim message queue (PROTOCOL.md §10.6).  Owns its messages,
 * its subscriber records, a bookmark index and a lease-expiry heap.  It
 * never does I/O or reads a clock; the server passes "now".
 *
 * A message moves between three states:
 *
 *	enqueue -> AVAILABLE --dispatch--> LEASED (at-least-once)
 *	                     --dispatch--> SENT   (at-most-once)
 *	LEASED --ack/expire--> freed
 *	LEASED --cancel/lease timer/subscriber removed--> AVAILABLE
 *	         (or freed when max_cancels/max_deliveries is reached)
 *	SENT --ack/cancel/expire/lease timer/subscriber removed--> freed
 *
 * Invariants:
 *  1. A message is in the FIFO list iff it is AVAILABLE or LEASED; the
 *     FIFO list is sorted by seq, because messages are only appended and
 *     returned messages never left it.
 *  2. A message is LEASED or SENT iff holder != NULL; it is then on the
 *     holder's held list and in the lease heap, and the holder's held
 *     count equals the length of that list.  No message has two holders.
 *  3. navail counts AVAILABLE messages; nheld counts LEASED + SENT.
 *  4. Every live message is in the bookmark map; bookmarks are unique.
 *  5. dispatch never gives a subscriber more than its backlog.
 *  6. Allocation failure aborts (test server).
 */

#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "queuestore.h"
#include "strmap.h"

enum qmsg_state {
	QM_AVAILABLE,
	QM_LEASED,
	QM_SENT
};

struct qsub;

struct qmsg {
	struct queue_msg	 pub;		/* must be first */
	TAILQ_ENTRY(qmsg)	 fifo;
	TAILQ_ENTRY(qmsg)	 held;
	struct strmap_node	 hnode;
	struct theap_node	 lnode;
	enum qmsg_state		 state;
	struct qsub		*holder;
	json_t			*doc;		/* NULL until needed */
	int			 docbad;	/* payload did not parse */
	int			 has_avoid;
	uint64_t		 avoid;		/* last holder's id */
};
TAILQ_HEAD(qmsgs, qmsg);

struct qsub {
	TAILQ_ENTRY(qsub)	 link;
	uint64_t		 id;
	uint64_t		 owner;
	void			*ctx;
	const struct filter	*filter;
	unsigned		 backlog;
	unsigned		 nheld;
	struct qmsgs		 held;
};
TAILQ_HEAD(qsubs, qsub);

struct queuestore {
	struct queue_config	 cfg;		/* name points to our copy */
	char			*name;
	struct qmsgs		 fifo;
	struct qsubs		 subs;
	struct qsub		*rr;		/* next to try, NULL = head */
	struct strmap		 map;
	struct theap		 leases;
	uint64_t		 nextseq;
	size_t			 navail;
	size_t			 nheld;
	size_t			 nsubs;
	struct queue_counts	 c;
};

/* Allocate or abort. */
static void *
xmalloc(size_t size)
{
	void	*p;

	if ((p = malloc(size == 0 ? 1 : size)) == NULL)
		abort();
	return (p);
}

/* Copy len bytes plus a NUL; NULL stays NULL. */
static char *
xmemdup0(const char *s, size_t len)
{
	char	*p;

	if (s == NULL)
		return (NULL);
	p = xmalloc(len + 1);
	if (len > 0)
		memcpy(p, s, len);
	p[len] = '\0';
	return (p);
}

/* Copy a string; NULL stays NULL. */
static char *
xstrdup0(const char *s)
{
	return (s == NULL ? NULL : xmemdup0(s, strlen(s)));
}

/* Free the array of an assignment list. */
void
queue_assignlist_free(struct queue_assignlist *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* Append one assignment. */
static void
queue_assignlist_add(struct queue_assignlist *l, const struct queue_assign *a)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 16 : l->cap * 2;
		if (l->cap > SIZE_MAX / sizeof *l->v)
			abort();
		if ((l->v = realloc(l->v, l->cap * sizeof *l->v)) == NULL)
			abort();
	}
	l->v[l->n++] = *a;
}

/* Create a queue. */
struct queuestore *
queue_create(const struct queue_config *cfg)
{
	struct queuestore	*q;

	q = xmalloc(sizeof *q);
	memset(q, 0, sizeof *q);
	q->cfg = *cfg;
	q->name = xstrdup0(cfg->name != NULL ? cfg->name : "");
	q->cfg.name = q->name;
	if (q->cfg.lease_period == 0)
		q->cfg.lease_period = 30ULL * 1000 * 1000;
	if (q->cfg.max_backlog == 0)
		q->cfg.max_backlog = QUEUE_DEFAULT_MAX_BACKLOG;
	TAILQ_INIT(&q->fifo);
	TAILQ_INIT(&q->subs);
	strmap_init(&q->map);
	theap_init(&q->leases);
	q->nextseq = 1;
	return (q);
}

/* Free one message that is in no list but the map. */
static void
queue_msg_free(struct queuestore *q, struct qmsg *m)
{
	strmap_remove(&q->map, &m->hnode);
	free(m->pub.bookmark);
	free(m->pub.topic);
	free(m->pub.data);
	free(m->pub.key);
	free(m->pub.cid);
	json_decref(m->doc);
	free(m);
}

/* Free the queue. */
void
queue_free(struct queuestore *q)
{
	struct qsub	*s;
	struct qmsg	*m;

	if (q == NULL)
		return;
	while ((s = TAILQ_FIRST(&q->subs)) != NULL) {
		while ((m = TAILQ_FIRST(&s->held)) != NULL) {
			TAILQ_REMOVE(&s->held, m, held);
			if (m->state == QM_SENT)
				queue_msg_free(q, m);
		}
		TAILQ_REMOVE(&q->subs, s, link);
		free(s);
	}
	while ((m = TAILQ_FIRST(&q->fifo)) != NULL) {
		TAILQ_REMOVE(&q->fifo, m, fifo);
		queue_msg_free(q, m);
	}
	strmap_free(&q->map);
	theap_free(&q->leases);
	free(q->name);
	free(q);
}

/* The queue topic. */
const char *
queue_name(const struct queuestore *q)
{
	return (q->name);
}

/* Delivery semantics. */
enum queue_semantics
queue_semantics(const struct queuestore *q)
{
	return (q->cfg.semantics);
}

/* Lease period in usec. */
uint64_t
queue_lease_period(const struct queuestore *q)
{
	return (q->cfg.lease_period);
}

/* Fill counters. */
void
queue_get_counts(const struct queuestore *q, struct queue_counts *c)
{
	*c = q->c;
	c->available = q->navail;
	c->leased = q->nheld;
	c->subscribers = q->nsubs;
}

/* Find a live message by bookmark. */
static struct qmsg *
queue_lookup(const struct queuestore *q, const char *bookmark)
{
	struct strmap_node	*nd;

	if (bookmark == NULL || (nd = strmap_find(&q->map, bookmark)) == NULL)
		return (NULL);
	return (STRMAP_ENTRY(nd, struct qmsg, hnode));
}

/* Append a message to the FIFO. */
int
queue_enqueue(struct queuestore *q, const char *bookmark, const char *topic,
    const char *data, size_t len, const char *key, const char *cid,
    json_t *doc)
{
	struct qmsg	*m;

	if (bookmark == NULL || queue_lookup(q, bookmark) != NULL)
		return (-1);
	m = xmalloc(sizeof *m);
	memset(m, 0, sizeof *m);
	m->pub.bookmark = xstrdup0(bookmark);
	m->pub.topic = xstrdup0(topic != NULL ? topic : "");
	m->pub.data = xmemdup0(data != NULL ? data : "", data != NULL ?
	    len : 0);
	m->pub.len = data != NULL ? len : 0;
	m->pub.key = xstrdup0(key);
	m->pub.cid = xstrdup0(cid);
	m->pub.seq = q->nextseq++;
	m->lnode.idx = THEAP_NONE;
	m->state = QM_AVAILABLE;
	if (doc != NULL)
		m->doc = json_incref(doc);
	TAILQ_INSERT_TAIL(&q->fifo, m, fifo);
	strmap_insert(&q->map, &m->hnode, m->pub.bookmark);
	q->navail++;
	q->c.enqueued++;
	return (0);
}

/* Find a subscriber by id. */
static struct qsub *
queue_sub(const struct queuestore *q, uint64_t id)
{
	struct qsub	*s;

	TAILQ_FOREACH(s, &q->subs, link) {
		if (s->id == id)
			return (s);
	}
	return (NULL);
}

/* The backlog granted for a requested max_backlog (0 = absent). */
static unsigned
queue_grant(const struct queuestore *q, unsigned requested)
{
	if (requested == 0)
		return (1);
	return (requested < q->cfg.max_backlog ? requested :
	    q->cfg.max_backlog);
}

/* Register a subscriber. */
unsigned
queue_add_subscriber(struct queuestore *q, uint64_t id, uint64_t owner,
    void *ctx, const struct filter *filter, unsigned requested)
{
	struct qsub	*s;

	if (queue_sub(q, id) != NULL)
		return (0);
	s = xmalloc(sizeof *s);
	memset(s, 0, sizeof *s);
	s->id = id;
	s->owner = owner;
	s->ctx = ctx;
	s->filter = filter;
	s->backlog = queue_grant(q, requested);
	TAILQ_INIT(&s->held);
	TAILQ_INSERT_TAIL(&q->subs, s, link);
	q->nsubs++;
	return (s->backlog);
}

/* Replace a subscriber's filter and backlog, keeping its leases. */
unsigned
queue_update_subscriber(struct queuestore *q, uint64_t id,
    const struct filter *filter, unsigned requested)
{
	struct qsub	*s;

	if ((s = queue_sub(q, id)) == NULL)
		return (0);
	s->filter = filter;
	s->backlog = queue_grant(q, requested);
	return (s->backlog);
}

/* Detach m from its holder (slot freed, lease cancelled). */
static void
queue_release(struct queuestore *q, struct qmsg *m)
{
	struct qsub	*s = m->holder;

	TAILQ_REMOVE(&s->held, m, held);
	s->nheld--;
	q->nheld--;
	theap_remove(&q->leases, &m->lnode);
	m->holder = NULL;
	m->has_avoid = 1;
	m->avoid = s->id;
}

/* Remove m from the queue entirely; it must not be held. */
static void
queue_drop(struct queuestore *q, struct qmsg *m)
{
	if (m->state == QM_AVAILABLE)
		q->navail--;
	if (m->state != QM_SENT)
		TAILQ_REMOVE(&q->fifo, m, fifo);
	queue_msg_free(q, m);
}

/*
 * Put a released at-least-once message back at its FIFO position, unless
 * limit (max_deliveries or max_cancels) is reached by count: then drop.
 */
static void
queue_return(struct queuestore *q, struct qmsg *m, unsigned limit,
    unsigned count)
{
	if (m->state == QM_SENT) {
		queue_drop(q, m);
		return;
	}
	if (limit != 0 && count >= limit) {
		q->c.dropped++;
		queue_drop(q, m);
		return;
	}
	m->state = QM_AVAILABLE;
	q->navail++;
	q->c.returned++;
}

/* Remove a subscriber, returning its leases. */
int
queue_remove_subscriber(struct queuestore *q, uint64_t id)
{
	struct qsub	*s;
	struct qmsg	*m;
	int		 n = 0;

	if ((s = queue_sub(q, id)) == NULL)
		return (-1);
	while ((m = TAILQ_FIRST(&s->held)) != NULL) {
		queue_release(q, m);
		if (m->state == QM_LEASED)
			n++;
		queue_return(q, m, q->cfg.max_deliveries,
		    m->pub.deliveries);
	}
	if (q->rr == s)
		q->rr = TAILQ_NEXT(s, link);
	TAILQ_REMOVE(&q->subs, s, link);
	q->nsubs--;
	free(s);
	return (n);
}

/* Remove every subscriber of owner. */
int
queue_remove_owner(struct queuestore *q, uint64_t owner)
{
	struct qsub	*s, *next;
	int		 n = 0;

	for (s = TAILQ_FIRST(&q->subs); s != NULL; s = next) {
		next = TAILQ_NEXT(s, link);
		if (s->owner == owner) {
			queue_remove_subscriber(q, s->id);
			n++;
		}
	}
	return (n);
}

/* Messages held by a subscriber. */
int
queue_subscriber_held(const struct queuestore *q, uint64_t id)
{
	struct qsub	*s;

	if ((s = queue_sub(q, id)) == NULL)
		return (-1);
	return ((int)s->nheld);
}

/* The parsed document of m, or NULL if it does not parse. */
static const json_t *
queue_doc(struct qmsg *m)
{
	json_error_t	err;

	if (m->doc == NULL && !m->docbad) {
		m->doc = json_loadb(m->pub.data, m->pub.len, JSON_DECODE_ANY,
		    &err);
		if (m->doc == NULL)
			m->docbad = 1;
	}
	return (m->doc);
}

/* 1 when s may take m now; avoid excludes m's previous holder. */
static int
queue_can_take(struct qsub *s, struct qmsg *m, int avoid)
{
	const json_t	*doc;

	if (s->nheld >= s->backlog)
		return (0);
	if (avoid && m->has_avoid && m->avoid == s->id)
		return (0);
	if (s->filter == NULL)
		return (1);
	if ((doc = queue_doc(m)) == NULL)
		return (0);
	return (filter_match(s->filter, doc));
}

/* Choose the subscriber for m, round-robin from q->rr; NULL if none. */
static struct qsub *
queue_pick(struct queuestore *q, struct qmsg *m)
{
	struct qsub	*start, *s;
	int		 pass;

	start = q->rr != NULL ? q->rr : TAILQ_FIRST(&q->subs);
	if (start == NULL)
		return (NULL);
	for (pass = 0; pass < 2; pass++) {
		s = start;
		do {
			if (queue_can_take(s, m, pass == 0))
				return (s);
			if ((s = TAILQ_NEXT(s, link)) == NULL)
				s = TAILQ_FIRST(&q->subs);
		} while (s != start);
		if (!m->has_avoid)
			break;
	}
	return (NULL);
}

/* Give m to s until lease_until. */
static void
queue_lease(struct queuestore *q, struct qmsg *m, struct qsub *s,
    uint64_t lease_until)
{
	q->navail--;
	if (q->cfg.semantics == QUEUE_AT_MOST_ONCE) {
		TAILQ_REMOVE(&q->fifo, m, fifo);
		m->state = QM_SENT;
	} else
		m->state = QM_LEASED;
	m->holder = s;
	m->has_avoid = 0;
	m->pub.deliveries++;
	TAILQ_INSERT_TAIL(&s->held, m, held);
	s->nheld++;
	q->nheld++;
	m->lnode.when = lease_until;
	m->lnode.tie = m->pub.seq;
	theap_insert(&q->leases, &m->lnode);
	q->c.delivered++;
}

/* Deliver what can be delivered. */
size_t
queue_dispatch(struct queuestore *q, uint64_t now,
    struct queue_assignlist *out)
{
	struct qmsg		*m, *next;
	struct qsub		*s;
	struct queue_assign	 a;
	uint64_t		 free_slots = 0;
	size_t			 n = 0;

	TAILQ_FOREACH(s, &q->subs, link) {
		if (s->nheld < s->backlog)
			free_slots += s->backlog - s->nheld;
	}
	for (m = TAILQ_FIRST(&q->fifo); m != NULL && free_slots > 0 &&
	    q->navail > 0; m = next) {
		next = TAILQ_NEXT(m, fifo);
		if (m->state != QM_AVAILABLE)
			continue;
		if ((s = queue_pick(q, m)) == NULL)
			continue;
		q->rr = TAILQ_NEXT(s, link);
		a.sub = s->id;
		a.ctx = s->ctx;
		a.msg = &m->pub;
		a.lease_until = now + q->cfg.lease_period;
		queue_lease(q, m, s, a.lease_until);
		queue_assignlist_add(out, &a);
		free_slots--;
		n++;
	}
	return (n);
}

/* Apply one acknowledgement mode to a held message. */
static void
queue_settle(struct queuestore *q, struct qmsg *m, enum queue_ack_mode mode)
{
	queue_release(q, m);
	switch (mode) {
	case QUEUE_ACK:
		q->c.acked++;
		queue_drop(q, m);
		break;
	case QUEUE_CANCEL:
		q->c.cancelled++;
		m->pub.cancels++;
		queue_return(q, m, q->cfg.max_cancels, m->pub.cancels);
		break;
	case QUEUE_EXPIRE:
		q->c.expired++;
		queue_drop(q, m);
		break;
	}
}

/* Acknowledge one bookmark for owner. */
int
queue_ack(struct queuestore *q, uint64_t owner, const char *bookmark,
    enum queue_ack_mode mode)
{
	struct qmsg	*m;

	if ((m = queue_lookup(q, bookmark)) == NULL || m->holder == NULL ||
	    m->holder->owner != owner)
		return (0);
	queue_settle(q, m, mode);
	return (1);
}

/* Acknowledge a comma list of bookmarks. */
size_t
queue_ack_list(struct queuestore *q, uint64_t owner, const char *list,
    size_t len, enum queue_ack_mode mode, size_t *ignored)
{
	size_t	 i = 0, start, end, done = 0, skipped = 0;
	char	*bm;

	while (list != NULL && i < len) {
		start = i;
		while (i < len && list[i] != ',')
			i++;
		end = i;
		if (i < len)
			i++;		/* the comma */
		while (start < end && list[start] == ' ')
			start++;
		while (end > start && list[end - 1] == ' ')
			end--;
		if (start == end)
			continue;
		bm = xmemdup0(list + start, end - start);
		if (queue_ack(q, owner, bm, mode))
			done++;
		else
			skipped++;
		free(bm);
	}
	if (ignored != NULL)
		*ignored = skipped;
	return (done);
}

/* Remove every message matching f, held or not. */
size_t
queue_ack_filter(struct queuestore *q, const struct filter *f)
{
	struct qmsg	*m, *next;
	struct qsub	*s;
	const json_t	*doc;
	size_t		 n = 0;

	for (m = TAILQ_FIRST(&q->fifo); m != NULL; m = next) {
		next = TAILQ_NEXT(m, fifo);
		if (f != NULL && ((doc = queue_doc(m)) == NULL ||
		    !filter_match(f, doc)))
			continue;
		if (m->holder != NULL)
			queue_release(q, m);
		q->c.acked++;
		queue_drop(q, m);
		n++;
	}
	TAILQ_FOREACH(s, &q->subs, link) {
		for (m = TAILQ_FIRST(&s->held); m != NULL; m = next) {
			next = TAILQ_NEXT(m, held);
			if (m->state != QM_SENT || (f != NULL &&
			    ((doc = queue_doc(m)) == NULL ||
			    !filter_match(f, doc))))
				continue;
			queue_release(q, m);
			q->c.acked++;
			queue_drop(q, m);
			n++;
		}
	}
	return (n);
}

/* Break the leases that ran out. */
size_t
queue_lease_expired(struct queuestore *q, uint64_t now)
{
	struct theap_node	*nd;
	struct qmsg		*m;
	size_t			 n = 0;

	while ((nd = theap_min(&q->leases)) != NULL && nd->when <= now) {
		m = STRMAP_ENTRY(nd, struct qmsg, lnode);
		queue_release(q, m);
		q->c.lease_expired++;
		queue_return(q, m, q->cfg.max_deliveries,
		    m->pub.deliveries);
		n++;
	}
	return (n);
}

/* Earliest lease end, 0 if none. */
uint64_t
queue_next_lease_expiry(const struct queuestore *q)
{
	struct theap_node	*nd;

	if ((nd = theap_min(&q->leases)) == NULL)
		return (0);
	return (nd->when);
}

/* Walk the available messages in FIFO order. */
int
queue_foreach_available(const struct queuestore *q,
    int (*cb)(const struct queue_msg *, void *), void *arg)
{
	struct qmsg	*m;
	int		 rv;

	TAILQ_FOREACH(m, &q->fifo, fifo) {
		if (m->state != QM_AVAILABLE)
			continue;
		if ((rv = cb(&m->pub, arg)) != 0)
			return (rv);
	}
	return (0);
}

/* A message by bookmark. */
const struct queue_msg *
queue_find(const struct queuestore *q, const char *bookmark)
{
	struct qmsg	*m;

	if ((m = queue_lookup(q, bookmark)) == NULL)
		return (NULL);
	return (&m->pub);
}

/* 1 when bookmark is held by subscriber id. */
int
queue_is_held_by(const struct queuestore *q, const char *bookmark,
    uint64_t id)
{
	struct qmsg	*m;

	if ((m = queue_lookup(q, bookmark)) == NULL || m->holder == NULL)
		return (0);
	return (m->holder->id == id);
}
