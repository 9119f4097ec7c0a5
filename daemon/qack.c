/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * qack.c: pending queue acknowledgements, batched per (upstream
 * connection, topic, option), and the policy deciding when a batch
 * goes upstream as one `sow_delete` with comma-joined bookmarks
 * (PROTOCOL.md §10.5: a batch goes when it reaches ack_batch_size,
 * capped to the granted backlog, or when ack_timeout passes).  Pure
 * logic: the caller gives the monotonic time and sends what qack_take()
 * emits.
 *
 * A batch's chunk size is limit = min(policy batch, smallest granted
 * backlog of the acks in it).  qack_take(now) emits, per batch:
 *
 *	urgent, an option (cancel / expire), or the oldest pending ack
 *	added at least timeout_ms before now
 *		-> everything, in chunks of at most limit
 *	otherwise
 *		-> chunks of exactly limit while that many are pending;
 *		   the rest waits (for more acks or its timeout)
 *
 * A batch is urgent when qack_urge() named an owner with an ack in it
 * (the daemon does so when that subscription's unacked messages plus
 * its pending acks reach its granted backlog, so AMPS never stops
 * delivering because an ack sits here), or qack_urge_conn() its
 * connection (before an unsubscribe or a shutdown).
 *
 * Invariants:
 *  1. Acks leave in the order they were added, per batch.
 *  2. No emitted chunk holds more than limit bookmarks (and at least 1).
 *  3. After qack_take(now) no batch holds an ack that was due at now:
 *     qack_deadline() is then in the future, or there is nothing.
 *  4. A batch with no acks does not exist (outside qack_take(), whose
 *     emit callback may drop the batch's connection: qack_drop_conn()
 *     then only empties it, and qack_take() unlinks it).
 */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amps.h"
#include "qack.h"
#include "xmalloc.h"

/* One pending bookmark. */
struct qack_ent {
	char		*bm;
	void		*owner;
	uint64_t	 t;		/* when it was added */
};

struct qack_batch {
	uint32_t		 connid;
	char			*topic;
	char			*opt;		/* "" = a plain ack */
	struct qack_policy	 pol;
	uint32_t		 cap;		/* 0 = no backlog known */
	int			 urgent;
	struct qack_ent		*ent;		/* FIFO: ent[head..n) */
	size_t			 head;
	size_t			 n;
	size_t			 size;
	struct qack_batch	*next;
};

struct qack {
	struct qack_batch	*batches;
	size_t			 pending;
	int			 taking;	/* inside qack_take() */
	char			*buf;		/* a chunk being joined */
	size_t			 bufcap;
	void			**owners;	/* its owners */
	size_t			 ocap;
};

/* An empty set of batches. */
struct qack *
qack_create(void)
{
	return (xcalloc(1, sizeof(struct qack)));
}

/* Free one batch and what it holds. */
static void
qack_batch_free(struct qack_batch *b)
{
	size_t	i;

	for (i = b->head; i < b->n; i++)
		free(b->ent[i].bm);
	free(b->ent);
	free(b->topic);
	free(b->opt);
	free(b);
}

/* Free everything. */
void
qack_free(struct qack *q)
{
	struct qack_batch	*b;

	if (q == NULL)
		return;
	while ((b = q->batches) != NULL) {
		q->batches = b->next;
		qack_batch_free(b);
	}
	free(q->buf);
	free(q->owners);
	free(q);
}

/* Acks waiting in b. */
static size_t
qack_count(const struct qack_batch *b)
{
	return (b->n - b->head);
}

/* The batch's chunk size (at least 1). */
static size_t
qack_limit(const struct qack_batch *b)
{
	size_t	lim = b->pol.batch != 0 ? b->pol.batch : 1;

	if (b->cap != 0 && b->cap < lim)
		lim = b->cap;
	return (lim);
}

/* Append one bookmark to b. */
static void
qack_push(struct qack_batch *b, const char *bm, size_t len, void *owner,
    uint64_t now)
{
	if (b->head > 0 && b->head == b->n)
		b->head = b->n = 0;
	if (b->n == b->size) {
		if (b->head > 0) {
			memmove(b->ent, b->ent + b->head,
			    (b->n - b->head) * sizeof *b->ent);
			b->n -= b->head;
			b->head = 0;
		}
		if (b->n == b->size) {
			b->size = b->size != 0 ? b->size * 2 : 16;
			b->ent = xreallocarray(b->ent, b->size,
			    sizeof *b->ent);
		}
	}
	b->ent[b->n].bm = xmalloc(len + 1);
	memcpy(b->ent[b->n].bm, bm, len);
	b->ent[b->n].bm[len] = '\0';
	b->ent[b->n].owner = owner;
	b->ent[b->n].t = now;
	b->n++;
}

/* Add bookmarks to the batch of (connid, topic, opt). */
size_t
qack_add(struct qack *q, uint32_t connid, const char *topic, const char *opt,
    const char *bm, const struct qack_policy *pol, uint32_t cap, void *owner,
    uint64_t now)
{
	struct qack_batch	*b;
	struct amps_list_iter	 it;
	const char		*item;
	size_t			 ilen, added = 0;

	if (opt == NULL)
		opt = "";
	if (topic == NULL)
		topic = "";
	for (b = q->batches; b != NULL; b = b->next)
		if (b->connid == connid && strcmp(b->topic, topic) == 0 &&
		    strcmp(b->opt, opt) == 0)
			break;
	if (b == NULL) {
		b = xcalloc(1, sizeof *b);
		b->connid = connid;
		b->topic = xstrdup(topic);
		b->opt = xstrdup(opt);
		b->next = q->batches;
		q->batches = b;
	}
	b->pol = *pol;		/* the connection's current policy */
	if (cap != 0 && (b->cap == 0 || cap < b->cap))
		b->cap = cap;
	amps_list_begin(&it, bm, strlen(bm));
	while (amps_list_next(&it, &item, &ilen) == 1) {
		if (ilen == 0)
			continue;
		qack_push(b, item, ilen, owner, now);
		added++;
	}
	q->pending += added;
	if (qack_count(b) == 0) {	/* invariant 4 */
		q->batches = b->next;
		qack_batch_free(b);
	}
	return (added);
}

/* Mark the batches holding an ack of owner urgent. */
void
qack_urge(struct qack *q, const void *owner)
{
	struct qack_batch	*b;
	size_t			 i;

	for (b = q->batches; b != NULL; b = b->next)
		for (i = b->head; i < b->n && !b->urgent; i++)
			if (b->ent[i].owner == owner)
				b->urgent = 1;
}

/* Mark every batch of a connection urgent. */
void
qack_urge_conn(struct qack *q, uint32_t connid)
{
	struct qack_batch	*b;

	for (b = q->batches; b != NULL; b = b->next)
		if (b->connid == connid)
			b->urgent = 1;
}

/* Forget an owner that is going away. */
void
qack_forget(struct qack *q, const void *owner)
{
	struct qack_batch	*b;
	size_t			 i;

	for (b = q->batches; b != NULL; b = b->next)
		for (i = b->head; i < b->n; i++)
			if (b->ent[i].owner == owner)
				b->ent[i].owner = NULL;
}

/* Emit the first k acks of b as one chunk and remove them. */
static void
qack_emit(struct qack *q, struct qack_batch *b, size_t k, qack_emit_fn fn,
    void *arg)
{
	struct qack_ent	*e;
	size_t		 i, len = 0, need = 1, blen;

	for (i = 0; i < k; i++)
		need += strlen(b->ent[b->head + i].bm) + 1;
	if (need > q->bufcap) {
		q->bufcap = need;
		q->buf = xreallocarray(q->buf, q->bufcap, 1);
	}
	if (k > q->ocap) {
		q->ocap = k;
		q->owners = xreallocarray(q->owners, q->ocap,
		    sizeof *q->owners);
	}
	for (i = 0; i < k; i++) {
		e = &b->ent[b->head + i];
		if (i > 0)
			q->buf[len++] = ',';
		blen = strlen(e->bm);
		memcpy(q->buf + len, e->bm, blen);
		len += blen;
		q->owners[i] = e->owner;
		free(e->bm);
	}
	q->buf[len] = '\0';
	b->head += k;
	q->pending -= k;
	fn(b->connid, b->topic, b->opt, q->buf, k, q->owners, arg);
}

/* Whether all of b is due at now. */
static int
qack_due(const struct qack_batch *b, uint64_t now)
{
	return (b->urgent || *b->opt != '\0' ||
	    b->ent[b->head].t + b->pol.timeout_ms <= now);
}

/* Emit what is due at now. */
size_t
qack_take(struct qack *q, uint64_t now, qack_emit_fn fn, void *arg)
{
	struct qack_batch	**bp, *b;
	size_t			  chunks = 0, lim, k;

	q->taking = 1;
	for (bp = &q->batches; (b = *bp) != NULL;) {
		lim = qack_limit(b);
		if (qack_due(b, now)) {
			while ((k = qack_count(b)) > 0) {
				qack_emit(q, b, k < lim ? k : lim, fn, arg);
				chunks++;
			}
		} else
			while (qack_count(b) >= lim) {
				qack_emit(q, b, lim, fn, arg);
				chunks++;
			}
		b->urgent = 0;
		if (qack_count(b) == 0) {
			*bp = b->next;
			qack_batch_free(b);
		} else
			bp = &b->next;
	}
	q->taking = 0;
	return (chunks);
}

/* Earliest due time of a pending ack. */
int
qack_deadline(const struct qack *q, uint64_t *when)
{
	const struct qack_batch	*b;
	uint64_t		 t;
	int			 any = 0;

	for (b = q->batches; b != NULL; b = b->next) {
		if (qack_count(b) == 0)
			continue;
		t = b->urgent || *b->opt != '\0' ? 0 :
		    b->ent[b->head].t + b->pol.timeout_ms;
		if (!any || t < *when)
			*when = t;
		any = 1;
	}
	return (any);
}

/* Drop a connection's pending acks. */
void
qack_drop_conn(struct qack *q, uint32_t connid)
{
	struct qack_batch	**bp, *b;
	size_t			  i;

	for (bp = &q->batches; (b = *bp) != NULL;) {
		if (b->connid == connid && q->taking) {
			/* The emit callback's send failed the connection:
			 * empty the batch; qack_take() unlinks it. */
			for (i = b->head; i < b->n; i++)
				free(b->ent[i].bm);
			q->pending -= qack_count(b);
			b->head = b->n = 0;
			bp = &b->next;
		} else if (b->connid == connid) {
			*bp = b->next;
			q->pending -= qack_count(b);
			qack_batch_free(b);
		} else
			bp = &b->next;
	}
}

/* Bookmarks pending. */
size_t
qack_pending(const struct qack *q)
{
	return (q->pending);
}
