/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * pubstore-mem.c: the memory backend of the publish store
 * (`durability memory`, pubstore.h, docs/DESIGN.md §3 "Publish").  The
 * rows of one upstream connection live in a pubqueue (pubqueue.c) in the
 * daemon's memory: they survive program restarts and upstream failover,
 * not a daemon crash or restart, like an AMPS HA client's memory publish
 * store.  Semantics are otherwise those of the SQLite store: sequence
 * numbers, replay after logon, discards on persisted acks, failures,
 * counts; a commit is immediate, so a row is "stored" once it is
 * enqueued.  pubstore.c has checked every record before append().  It
 * never prints.
 *
 * Invariants:
 *  1. next > every seq handed out; it never decreases.  It starts at the
 *     wall clock in microseconds (pubstore.h), then follows appends and
 *     logon seeds.
 *  2. The queue holds exactly the rows appended, not discarded (seq >
 *     discarded) and not failed (dead records are not counted).
 *  3. The records' bytes (pubqueue rec_bytes) never exceed limit (when
 *     limit > 0): an append that would pass it is refused with an error
 *     naming the limit, and nothing changes.
 *  4. durable == the last seq appended (or next - 1 before any append):
 *     every append is durable as soon as it returns.
 *  5. Transmit horizon, as in the SQLite store (pubstore-sqlite.c
 *     invariant 7) but in memory: horizon >= every seq handed to a
 *     socket; appends while online raise it (an append is this store's
 *     commit), rows are sent only up to min(durable, horizon), and a
 *     logon renumbers the rows above it that the server's sequence
 *     would cover, by one delta that keeps their order.
 */

#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pubqueue.h"
#include "pubstore-int.h"

/*
 * base (pubstore-int.h) holds next (invariant 1), durable (4), the
 * discard point, acked, the horizon (5), online and renumbered.
 */
struct pubmem {
	struct pubstore	 base;		/* first: see pubstore-int.h */
	struct pubqueue	 q;
	uint64_t	 limit;		/* records' bytes, 0: none */
	char		 err[256];
};

static const struct pubstore_ops mem_ops;

/* Remember an error. */
static void __attribute__((__format__(printf, 2, 3)))
mem_seterr(struct pubmem *pm, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(pm->err, sizeof pm->err, fmt, ap);
	va_end(ap);
}

/* Open an empty memory store (invariant 1 for the first seq). */
struct pubstore *
pubstore_open_memory(uint64_t limit, char **cause)
{
	struct pubmem	*pm;
	struct timespec	 ts;
	uint64_t	 us = 0;

	if ((pm = calloc(1, sizeof *pm)) == NULL) {
		if (cause != NULL)
			*cause = strdup("out of memory");
		return (NULL);
	}
	pm->base.ops = &mem_ops;
	pubqueue_init(&pm->q);
	if (clock_gettime(CLOCK_REALTIME, &ts) == 0 && ts.tv_sec > 0)
		us = (uint64_t)ts.tv_sec * 1000000 +
		    (uint64_t)ts.tv_nsec / 1000;
	pm->base.next = us > 0 && us < PUBSTORE_SEQ_MAX / 2 ? us : 1;
	pm->base.durable = pm->base.next - 1;
	pm->limit = limit;
	return (&pm->base);
}

static void
mem_close(struct pubstore *b)
{
	struct pubmem	*pm = (struct pubmem *)b;

	pubqueue_free(&pm->q);
	free(pm);
}

/* Enqueue a copy of the record (invariants 1, 3, 4). */
static int
mem_append(struct pubstore *b, const struct pubstore_rec *rec, uint64_t *seq)
{
	struct pubmem	*pm = (struct pubmem *)b;
	size_t		 size;

	pm->err[0] = '\0';
	size = pubqueue_rec_size(rec->topic_len, rec->hdr_len, rec->data_len);
	if (pm->limit > 0 && pm->q.rec_bytes + size > pm->limit) {
		mem_seterr(pm, "memory publish store full: %llu bytes in %zu "
		    "message(s) not yet persisted, limit %llu bytes "
		    "(durability memory limit)",
		    (unsigned long long)pm->q.rec_bytes, pm->q.live,
		    (unsigned long long)pm->limit);
		return (-1);
	}
	if (pubqueue_push(&pm->q, pm->base.next, (int)rec->kind, rec->topic,
	    rec->topic_len, rec->hdr, rec->hdr_len, rec->data,
	    rec->data_len) == NULL) {
		mem_seterr(pm, "memory publish store: out of memory");
		return (-1);
	}
	*seq = pm->base.next;
	pm->base.durable = pm->base.next;
	if (pm->base.online)
		pm->base.horizon = pm->base.next;		/* invariant 5 */
	pm->base.next++;
	return (0);
}

/* Persisted up to seq: drop those rows now (invariant 2). */
static void
mem_discard_upto(struct pubstore *b, uint64_t seq)
{
	struct pubmem	*pm = (struct pubmem *)b;

	if (!pubstore_discard_mark(b, &seq))
		return;
	pm->base.acked += pubqueue_pop_upto(&pm->q, seq);
}

/* AMPS refused seq: drop that row.  1 if it was there, else 0. */
static int
mem_fail(struct pubstore *b, uint64_t seq)
{
	struct pubmem	*pm = (struct pubmem *)b;

	pm->err[0] = '\0';
	if (seq == 0 || seq <= pm->base.discarded)
		return (0);
	return (pubqueue_remove(&pm->q, seq));
}

/* Logon ack: next = max(next, s + 1) (invariant 1). */
static void
mem_seed(struct pubstore *b, uint64_t s)
{
	struct pubmem	*pm = (struct pubmem *)b;

	if (s >= PUBSTORE_SEQ_MAX)
		s = PUBSTORE_SEQ_MAX;
	if (s + 1 > pm->base.next)
		pm->base.next = s + 1;
}

/*
 * Logon with the server's sequence s (invariant 5): renumber the rows
 * above the horizon that s would cover, take everything <= s as
 * persisted, seed, go online.  Memory cannot fail.
 */
static int
mem_logon(struct pubstore *b, uint64_t s, struct pubstore_logon *lo)
{
	struct pubmem		*pm = (struct pubmem *)b;
	struct pubqueue_rec	*r;
	uint64_t		 h = pm->base.horizon, delta = 0;
	size_t			 i, first;

	lo->horizon = h;
	first = pubqueue_find_after(&pm->q, h);
	for (i = first; i < pm->q.n && pubqueue_at(&pm->q, i)->dead; i++)
		;
	if (i < pm->q.n && (r = pubqueue_at(&pm->q, i))->seq <= s) {
		delta = s + 1 - r->seq;
		if (pm->base.next - 1 + delta > PUBSTORE_SEQ_MAX) {
			mem_seterr(pm, "memory publish store: sequence "
			    "exhausted");
			return (-1);
		}
		lo->first = r->seq;
		lo->last = pm->base.next - 1;
		lo->after = h;
		lo->delta = delta;
		for (i = first; i < pm->q.n; i++) {
			r = pubqueue_at(&pm->q, i);
			r->seq += delta;
			if (!r->dead)
				lo->renumbered++;
		}
		if (pm->base.durable > h)
			pm->base.durable += delta;
		pm->base.next += delta;
		pm->base.renumbered += lo->renumbered;
	}
	if (s > h)
		for (i = pubqueue_find_after(&pm->q, pm->base.discarded);
		    i < pm->q.n && pubqueue_at(&pm->q, i)->seq <= h; i++)
			if (!pubqueue_at(&pm->q, i)->dead)
				lo->assumed++;
	mem_discard_upto(b, s);
	mem_seed(b, s);
	pm->base.online = 1;
	pm->base.horizon = pm->base.next - 1;
	return (0);
}

static uint64_t
mem_acked_seq(const struct pubstore *b)
{
	return (b->discarded);
}

static const char *
mem_notice(const struct pubstore *b)
{
	return ("");
}

/* Rows above max(after_seq, discard point), in order, at most limit. */
static int64_t
mem_replay(struct pubstore *b, uint64_t after_seq, size_t limit,
    pubstore_replay_cb cb, void *arg)
{
	struct pubmem		*pm = (struct pubmem *)b;

	if (after_seq < pm->base.discarded)
		after_seq = pm->base.discarded;
	return (pubstore_replay_queue(&pm->q, after_seq, limit, 0, cb, arg));
}

/* Nothing to commit: every append is durable (invariant 4). */
static int
mem_commit(struct pubstore *b)
{
	return (0);
}

/* Every append is durable already (invariant 4). */
static int
mem_flush(struct pubstore *b)
{
	return (0);
}

static int
mem_seq_state(const struct pubstore *b, uint64_t seq)
{
	return (1);
}

/* No commits, so no thread and nothing to tell. */
static void
mem_set_committer(struct pubstore *b, struct committer *cm,
    pubstore_commit_fn fn, void *arg)
{
}

/* Never degraded. */
static int
mem_probe(struct pubstore *b)
{
	return (0);
}

static uint64_t
mem_unpersisted(struct pubstore *b)
{
	return (((struct pubmem *)b)->q.live);
}

static size_t
mem_pending_commit(const struct pubstore *b)
{
	return (0);
}

static enum store_state
mem_state(const struct pubstore *b)
{
	return (STORE_OK);
}

static const char *
mem_error(const struct pubstore *b)
{
	return (((const struct pubmem *)b)->err);
}

static struct store *
mem_store(struct pubstore *b)
{
	return (NULL);
}

/* Bytes held by the records and their limit. */
static void
mem_memory(const struct pubstore *b, struct pubstore_memory *m)
{
	const struct pubmem	*pm = (const struct pubmem *)b;

	m->used = pm->q.rec_bytes;
	m->limit = pm->limit;
}

static const struct pubstore_ops mem_ops = {
	.medium = "memory",
	.close = mem_close,
	.append = mem_append,
	.discard_upto = mem_discard_upto,
	.fail = mem_fail,
	.seed = mem_seed,
	.replay = mem_replay,
	.commit = mem_commit,
	.flush = mem_flush,
	.seq_state = mem_seq_state,
	.set_committer = mem_set_committer,
	.logon = mem_logon,
	.acked_seq = mem_acked_seq,
	.notice = mem_notice,
	.probe = mem_probe,
	.unpersisted = mem_unpersisted,
	.pending_commit = mem_pending_commit,
	.state = mem_state,
	.error = mem_error,
	.store = mem_store,
	.memory = mem_memory,
};
