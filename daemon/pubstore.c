/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * pubstore.c: the publish store's interface (pubstore.h) in front of its
 * two backends, the SQLite store (pubstore-sqlite.c) and the memory store
 * (pubstore-mem.c).  It owns the checks every record passes before a
 * backend sees it (lengths, kind) and the dispatch through the backend's
 * operations (pubstore-int.h); callers never know which backend they
 * hold.  It never prints.
 *
 * Invariants:
 *  1. A backend's append() only sees records within the PUBSTORE_MAX_*
 *     limits, with a non-empty topic and a known kind.
 *  2. ps->err holds the message of this file's own refusal, cleared by
 *     every call that may fail; pubstore_error() prefers it to the
 *     backend's.
 */

#include "config.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pubqueue.h"
#include "pubstore-int.h"

/* Remember a refusal of our own (invariant 2). */
static void __attribute__((__format__(printf, 2, 3)))
ps_seterr(struct pubstore *ps, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(ps->err, sizeof ps->err, fmt, ap);
	va_end(ap);
}

/* The rows a backend holds in memory, for its replay. */
int64_t
pubstore_replay_queue(const struct pubqueue *q, uint64_t after, size_t limit,
    int64_t n, pubstore_replay_cb cb, void *arg)
{
	struct pubqueue_rec	*qr;
	struct pubstore_rec	 r;
	size_t			 i;

	memset(&r, 0, sizeof r);
	for (i = pubqueue_find_after(q, after); i < q->n; i++) {
		qr = pubqueue_at(q, i);
		if (qr->dead)
			continue;
		r.seq = qr->seq;
		r.kind = (enum pubstore_kind)qr->kind;
		r.topic = PUBQUEUE_TOPIC(qr);
		r.topic_len = qr->topic_len;
		r.hdr = PUBQUEUE_HDR(qr);
		r.hdr_len = qr->hdr_len;
		r.data = PUBQUEUE_DATA(qr);
		r.data_len = qr->data_len;
		n++;
		if (cb(&r, arg) != 0 || (limit != 0 && (size_t)n == limit))
			break;
	}
	return (n);
}

int
pubstore_discard_mark(struct pubstore *ps, uint64_t *seq)
{
	if (*seq > ps->next - 1)
		*seq = ps->next - 1;
	if (*seq <= ps->discarded)
		return (0);
	ps->discarded = *seq;
	return (1);
}

/* Close either backend.  Accepts NULL. */
void
pubstore_close(struct pubstore *ps)
{
	if (ps != NULL)
		ps->ops->close(ps);
}

/* Check the record (invariant 1), then append it. */
int
pubstore_append(struct pubstore *ps, const struct pubstore_rec *rec,
    uint64_t *seq)
{
	assert(ps != NULL && rec != NULL && seq != NULL);
	ps->err[0] = '\0';
	if (rec->topic == NULL || rec->topic_len == 0 ||
	    rec->topic_len > PUBSTORE_MAX_TOPIC) {
		ps_seterr(ps, "publish store: topic length %zu out of "
		    "range (1..%d)", rec->topic_len, PUBSTORE_MAX_TOPIC);
		return (-1);
	}
	if (rec->hdr_len > PUBSTORE_MAX_HDR ||
	    rec->data_len > PUBSTORE_MAX_DATA) {
		ps_seterr(ps, "publish store: header (%zu) or payload "
		    "(%zu) too long", rec->hdr_len, rec->data_len);
		return (-1);
	}
	if (rec->kind != PUBSTORE_PUBLISH &&
	    rec->kind != PUBSTORE_DELTA_PUBLISH &&
	    rec->kind != PUBSTORE_SOW_DELETE) {
		ps_seterr(ps, "publish store: bad kind %d", (int)rec->kind);
		return (-1);
	}
	if (ps->next - 1 >= PUBSTORE_SEQ_MAX) {
		ps_seterr(ps, "publish store: sequence exhausted");
		return (-1);
	}
	return (ps->ops->append(ps, rec, seq));
}

void
pubstore_discard_upto(struct pubstore *ps, uint64_t seq)
{
	ps->ops->discard_upto(ps, seq);
}

int
pubstore_fail(struct pubstore *ps, uint64_t seq)
{
	ps->err[0] = '\0';
	return (ps->ops->fail(ps, seq));
}

void
pubstore_seed(struct pubstore *ps, uint64_t s)
{
	ps->ops->seed(ps, s);
}

int64_t
pubstore_replay(struct pubstore *ps, uint64_t after_seq, size_t limit,
    pubstore_replay_cb cb, void *arg)
{
	assert(cb != NULL);
	ps->err[0] = '\0';
	return (ps->ops->replay(ps, after_seq, limit, cb, arg));
}

int
pubstore_commit(struct pubstore *ps)
{
	return (ps->ops->commit(ps));
}

int
pubstore_logon(struct pubstore *ps, uint64_t s, struct pubstore_logon *lo)
{
	assert(lo != NULL);
	memset(lo, 0, sizeof *lo);
	ps->err[0] = '\0';
	if (s > PUBSTORE_SEQ_MAX / 2) {
		ps_seterr(ps, "publish store: server sequence %llu out of "
		    "range", (unsigned long long)s);
		return (-1);
	}
	return (ps->ops->logon(ps, s, lo));
}

/* The link went down (0), or up without a logon (tests). */
void
pubstore_set_online(struct pubstore *ps, int on)
{
	ps->online = on != 0;
}

int
pubstore_online(const struct pubstore *ps)
{
	return (ps->online);
}

/* What may be sent: committed and inside the transmit horizon. */
uint64_t
pubstore_sendable_seq(const struct pubstore *ps)
{
	return (ps->durable < ps->horizon ? ps->durable : ps->horizon);
}

uint64_t
pubstore_sent_horizon(const struct pubstore *ps)
{
	return (ps->horizon);
}

uint64_t
pubstore_quarantined(const struct pubstore *ps)
{
	return (ps->quarantined);
}

uint64_t
pubstore_renumbered(const struct pubstore *ps)
{
	return (ps->renumbered);
}

uint64_t
pubstore_acked_seq(const struct pubstore *ps)
{
	return (ps->ops->acked_seq(ps));
}

const char *
pubstore_notice(const struct pubstore *ps)
{
	return (ps->ops->notice(ps));
}

int
pubstore_flush(struct pubstore *ps)
{
	return (ps->ops->flush(ps));
}

int
pubstore_seq_state(const struct pubstore *ps, uint64_t seq)
{
	return (ps->ops->seq_state(ps, seq));
}

void
pubstore_set_committer(struct pubstore *ps, struct committer *cm,
    pubstore_commit_fn fn, void *arg)
{
	ps->ops->set_committer(ps, cm, fn, arg);
}

int
pubstore_probe(struct pubstore *ps)
{
	return (ps->ops->probe(ps));
}

uint64_t
pubstore_unpersisted(struct pubstore *ps)
{
	return (ps->ops->unpersisted(ps));
}

uint64_t
pubstore_acked(const struct pubstore *ps)
{
	return (ps->acked);
}

uint64_t
pubstore_last_seq(const struct pubstore *ps)
{
	return (ps->next - 1);
}

uint64_t
pubstore_durable_seq(const struct pubstore *ps)
{
	return (ps->durable);
}

uint64_t
pubstore_discarded_seq(const struct pubstore *ps)
{
	return (ps->discarded);
}

size_t
pubstore_pending_commit(const struct pubstore *ps)
{
	return (ps->ops->pending_commit(ps));
}

enum store_state
pubstore_state(const struct pubstore *ps)
{
	return (ps->ops->state(ps));
}

/* Our own refusal if any, else the backend's last error. */
const char *
pubstore_error(const struct pubstore *ps)
{
	if (ps->err[0] != '\0')
		return (ps->err);
	return (ps->ops->error(ps));
}

struct store *
pubstore_store(struct pubstore *ps)
{
	return (ps->ops->store(ps));
}

const char *
pubstore_medium(const struct pubstore *ps)
{
	return (ps->ops->medium);
}

void
pubstore_memory(const struct pubstore *ps, struct pubstore_memory *m)
{
	memset(m, 0, sizeof *m);
	if (ps->ops->memory != NULL)
		ps->ops->memory(ps, m);
}
