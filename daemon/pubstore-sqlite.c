/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * pubstore-sqlite.c: the durable backend of the publish store of one
 * upstream connection (pubstore.h; PROTOCOL.md §7.2-§7.5; DESIGN.md §3
 * "Publish", §4 promise 1, §5 rules 1-2).  pubstore.c has checked every
 * record before append().
 *
 * An append copies the row into an in-memory queue (pubqueue.c) and
 * hands out its sequence number; nothing touches the disk.  The flush
 * phase (pubstore_flush()) turns what the passes appended, discarded and
 * refused into one batch, committed in one transaction of the SQLite
 * file (pubstore-db.c): on the commit thread (committer.c) when one is
 * set, the loop going on reading and preparing the next batch while the
 * disk syncs, or inline.  Rows are read back for sending from the queue,
 * not from the file; the queue lets go of a committed row when AMPS has
 * persisted it, or early (it is "evicted": on disk only, read back from
 * the file if needed) when the queue holds more than `cache` bytes.  It
 * never prints.
 *
 * Hand-off rule (committer.h): while a batch is in flight the loop does
 * not touch the file's connection, the batch, or the records the batch
 * points to (they are neither freed nor changed: pops stop below the
 * batch's first row, kills and evictions wait for its completion).
 * Anything that must read the file first waits for the batch
 * (committer_wait()).
 *
 * Invariants:
 *  1. next > every seq ever handed out; it never decreases, even when a
 *     batch is lost (numbers of lost rows are not reused while the
 *     process lives; after a crash they may be, which is harmless: a row
 *     is sent upstream only after its commit, so AMPS never saw them).
 *     A batch that deletes rows or follows a seed carries the floor
 *     meta.next_seq = next (pubstore-db.c invariant 1).
 *  2. durable is the highest seq whose batch committed; queued the
 *     highest seq handed to a batch.  durable <= queued <= next - 1.
 *     Rows in (queued, next) are only in the queue.
 *  3. Every row present (not discarded, failed or lost) with seq <=
 *     evicted is on disk and not in the queue; every one above it is in
 *     the queue.  evicted <= durable.
 *  4. discard_pending >= discard_applied; rows <= discard_pending are
 *     invisible to replay and counting even before the DELETE commits,
 *     and discard_pending never exceeds next - 1.
 *  5. fails[] (sorted) holds refused seqs <= queued whose DELETE has not
 *     committed; replay skips them.
 *  6. A failed batch loses every row above durable (the batch's and any
 *     appended since): they are killed in the queue, their range is
 *     remembered in lost[] for pubstore_seq_state(), and the store is
 *     DEGRADED until a probe commits (appends are refused meanwhile).
 *     lost[] keeps the last PS_LOST ranges, far more than the replies of
 *     one pass can refer to (a failure costs at least a probe interval).
 *  7. Transmit horizon: sent_disk (meta.sent, committed) >= every seq
 *     any process ever handed to a socket.  A batch built while online
 *     raises it to next - 1 at its commit, and rows are sent only up to
 *     pubstore_sendable_seq() = min(durable, sent_disk).  So a row above
 *     it was never transmitted and pubstore_logon() may renumber it: it
 *     first commits everything pending, then moves the rows above the
 *     horizon that the server's sequence would cover, on disk in one
 *     transaction and, once that committed, in the queue and in every
 *     mark above the horizon, by one delta that keeps their order.
 *  8. Rows read back from the file pass their checksum or are reported
 *     damaged and quarantined (pubstore-db.c invariant 3); rows sent from
 *     the queue never left memory.
 */

#include "config.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "committer.h"
#include "pubqueue.h"
#include "pubstore-db.h"
#include "pubstore-int.h"
#include "store.h"

#define PS_LOST		64
#define PS_CACHE	(32ULL * 1024 * 1024)

static const struct pubstore_ops sql_ops;

/*
 * base (pubstore-int.h) holds next (invariant 1), durable (2),
 * discarded = the pending discard point (4), acked, horizon = meta.sent
 * (7), online, renumbered and quarantined.
 */
struct pubsql {
	struct pubstore		 base;		/* first: pubstore-int.h */
	struct pubdb		*db;
	struct pubqueue		 q;
	struct committer	*cm;		/* NULL: commit inline */
	pubstore_commit_fn	 observe;
	void			*observe_arg;

	struct committer_job	 job;
	struct pubdb_batch	 b;		/* built, or in flight */
	size_t			 caprecs;
	uint64_t		 b_first;	/* first seq of b.recs, 0 */
	uint64_t		 b_last;	/* last seq of b.recs, 0 */
	int			 b_floor;	/* b carries a dirty floor */
	int			 inflight;

	uint64_t		 next_disk;	/* meta.next_seq, committed */
	uint64_t		 queued;
	uint64_t		 evicted;	/* invariant 3 */
	uint64_t		 discard_applied;
	int			 floor_dirty;	/* seed or fail since */
	uint64_t		 acked_disk;	/* meta.acked, committed */
	uint64_t		*fails;		/* invariant 5 */
	size_t			 nfails;
	size_t			 capfails;
	struct {
		uint64_t	 lo, hi;
	}			 lost[PS_LOST];	/* invariant 6 */
	size_t			 nlost;
	uint64_t		 cache;
	enum store_state	 state;		/* the store's, while */
	char			 err[512];	/* ... a batch is out */
};

/* Grow an array of n elements of size sz to hold one more.  0 or -1. */
static int
ps_grow(void **v, size_t *cap, size_t n, size_t sz)
{
	void	*nv;
	size_t	 ncap;

	if (n < *cap)
		return (0);
	ncap = *cap == 0 ? 64 : *cap * 2;
	if ((nv = reallocarray(*v, ncap, sz)) == NULL)
		return (-1);
	*v = nv;
	*cap = ncap;
	return (0);
}

/* Open the store at path.  See pubstore.h.  NULL with *cause set. */
struct pubstore *
pubstore_open(const char *path, enum store_durability dur, int flags,
    char **cause)
{
	struct pubsql		*ps;
	struct pubdb_info	 info;

	if ((ps = calloc(1, sizeof *ps)) == NULL) {
		if (cause != NULL)
			*cause = strdup("out of memory");
		return (NULL);
	}
	if ((ps->db = pubdb_open(path, dur, flags, &info, cause)) == NULL) {
		free(ps);
		return (NULL);
	}
	ps->base.ops = &sql_ops;
	pubqueue_init(&ps->q);
	ps->base.next = info.next;
	ps->next_disk = info.next_disk;
	ps->base.durable = ps->queued = ps->base.next - 1;
	ps->evicted = info.max;		/* invariant 3: all on disk */
	ps->acked_disk = info.acked;
	ps->base.discarded = ps->discard_applied = info.acked;
	ps->base.horizon = info.sent;
	ps->cache = PS_CACHE;
	return (&ps->base);
}

/* Health: the batch's while one is in flight, else the store's. */
static enum store_state
ps_state(const struct pubsql *ps)
{
	return (ps->inflight ? ps->state : store_state(pubdb_store(ps->db)));
}

/* The last failure: the store's, or its copy while a batch is out. */
static const char *
ps_error(const struct pubsql *ps)
{
	return (ps->inflight ? ps->err : store_error(pubdb_store(ps->db)));
}

/* Let the queue go of what it no longer needs (invariants 3, 4). */
static void
ps_trim(struct pubsql *ps)
{
	struct pubqueue_rec	*r;
	uint64_t		 upto = ps->base.discarded;

	if (ps->inflight && ps->b_first > 0 && upto >= ps->b_first)
		upto = ps->b_first - 1;
	pubqueue_pop_upto(&ps->q, upto);
	while (!ps->inflight && ps->q.rec_bytes > ps->cache && ps->q.n > 0) {
		r = pubqueue_at(&ps->q, 0);
		if (r->seq > ps->base.durable)
			break;
		ps->evicted = r->seq;
		pubqueue_pop_upto(&ps->q, r->seq);
	}
}

/* Insert seq into the sorted fails[] (no duplicate).  0 or -1. */
static int
ps_add_fail(struct pubsql *ps, uint64_t seq)
{
	size_t	 i;

	for (i = 0; i < ps->nfails && ps->fails[i] < seq; i++)
		;
	if (i < ps->nfails && ps->fails[i] == seq)
		return (0);
	if (ps_grow((void **)&ps->fails, &ps->capfails, ps->nfails,
	    sizeof *ps->fails) != 0)
		return (-1);
	memmove(ps->fails + i + 1, ps->fails + i,
	    (ps->nfails - i) * sizeof *ps->fails);
	ps->fails[i] = seq;
	ps->nfails++;
	return (0);
}

/*
 * Build the batch of this flush: the rows appended since the last one,
 * the discard, the fails, the floor.  Returns 0 when there is nothing to
 * commit, 1 when b is ready, -1 when memory ran out (nothing changed).
 */
static int
ps_build(struct pubsql *ps)
{
	struct pubdb_batch	*b = &ps->b;
	struct pubqueue_rec	*r;
	size_t			 i, n = 0;

	for (i = pubqueue_find_after(&ps->q, ps->queued); i < ps->q.n; i++)
		if (!pubqueue_at(&ps->q, i)->dead)
			n++;
	if (n > ps->caprecs) {
		free(b->recs);
		if ((b->recs = calloc(n, sizeof *b->recs)) == NULL) {
			ps->caprecs = 0;
			return (-1);
		}
		ps->caprecs = n;
	}
	b->nrecs = 0;
	ps->b_first = ps->b_last = 0;
	for (i = pubqueue_find_after(&ps->q, ps->queued); i < ps->q.n; i++) {
		r = pubqueue_at(&ps->q, i);
		if (r->dead)
			continue;
		b->recs[b->nrecs++] = r;
		if (ps->b_first == 0)
			ps->b_first = r->seq;
		ps->b_last = r->seq;
	}
	b->discard = ps->base.discarded > ps->discard_applied ?
	    ps->base.discarded : 0;
	b->acked = b->discard > ps->acked_disk ? b->discard : 0;
	b->fails = ps->fails;
	b->nfails = ps->nfails;
	ps->b_floor = ps->floor_dirty;
	b->floor = (b->discard > 0 || b->nfails > 0 || ps->floor_dirty) &&
	    ps->base.next != ps->next_disk ? ps->base.next : 0;
	b->sent = ps->base.online && ps->base.next - 1 > ps->base.horizon ?
	    ps->base.next - 1 : 0;
	b->renum_after = b->renum_delta = 0;
	if (b->nrecs == 0 && b->discard == 0 && b->nfails == 0 &&
	    b->floor == 0 && b->sent == 0) {
		ps->floor_dirty = 0;	/* the floor is on disk already */
		return (0);
	}
	/* The fails travel with the batch (back on failure). */
	ps->fails = NULL;
	ps->nfails = ps->capfails = 0;
	ps->queued = ps->base.next - 1;
	return (1);
}

/* Remember a lost range (invariant 6), dropping the oldest if full. */
static void
ps_lose(struct pubsql *ps, uint64_t lo, uint64_t hi)
{
	if (lo > hi)
		return;
	if (ps->nlost == PS_LOST) {
		memmove(ps->lost, ps->lost + 1, (PS_LOST - 1) *
		    sizeof *ps->lost);
		ps->nlost--;
	}
	ps->lost[ps->nlost].lo = lo;
	ps->lost[ps->nlost].hi = hi;
	ps->nlost++;
}

/* The batch is over (loop's thread): apply its outcome. */
static void
ps_done(void *arg)
{
	struct pubsql		*ps = arg;
	struct pubdb_batch	*b = &ps->b;
	size_t			 i;

	ps->inflight = 0;
	if (b->ok) {
		if (ps->b_last > ps->base.durable)
			ps->base.durable = ps->b_last;
		if (b->discard > ps->discard_applied)
			ps->discard_applied = b->discard;
		if (b->floor > ps->next_disk)
			ps->next_disk = b->floor;
		if (ps->b_floor)
			ps->floor_dirty = 0;
		if (b->acked > ps->acked_disk)
			ps->acked_disk = b->acked;
		if (b->sent > ps->base.horizon)
			ps->base.horizon = b->sent;
		ps->base.acked += b->deleted;
		free(b->fails);
	} else {
		/* Invariant 6: everything above durable is gone. */
		ps_lose(ps, ps->base.durable + 1, ps->base.next - 1);
		for (i = pubqueue_find_after(&ps->q, ps->base.durable);
		    i < ps->q.n; i++)
			pubqueue_at(&ps->q, i)->dead = 1;
		ps->queued = ps->base.next - 1;
		for (i = 0; i < b->nfails; i++)
			(void)ps_add_fail(ps, b->fails[i]);
		free(b->fails);
	}
	b->fails = NULL;
	b->nfails = 0;
	ps->b_first = ps->b_last = 0;
	ps_trim(ps);
	if (ps->observe != NULL)
		ps->observe(ps->observe_arg, &ps->base, b->secs, b->ok);
}

/* The commit thread's part: one transaction (pubstore-db.c). */
static void
ps_run(void *arg)
{
	struct pubsql	*ps = arg;

	pubdb_apply(ps->db, &ps->b);
}

/* Wait for the batch in flight, if any (the file is ours afterwards). */
static void
ps_wait(struct pubsql *ps)
{
	if (ps->inflight)
		committer_wait(ps->cm, &ps->job);
}

/* The flush phase: submit (or commit inline) what the passes wrote. */
static int
sql_flush(struct pubstore *base)
{
	struct pubsql	*ps = (struct pubsql *)base;
	int		 r;

	if (ps->inflight)
		return (0);	/* the next batch waits for this one */
	if (ps_state(ps) == STORE_DEGRADED)
		return (0);	/* until a probe commits (invariant 6) */
	if ((r = ps_build(ps)) <= 0)
		return (r);
	if (ps->cm != NULL) {
		ps->inflight = 1;
		ps->state = store_state(pubdb_store(ps->db));
		snprintf(ps->err, sizeof ps->err, "%s",
		    store_error(pubdb_store(ps->db)));
		ps->job.run = ps_run;
		ps->job.done = ps_done;
		ps->job.arg = ps;
		committer_submit(ps->cm, &ps->job);
		return (0);
	}
	pubdb_apply(ps->db, &ps->b);
	r = ps->b.ok ? 0 : -1;
	ps_done(ps);
	return (r);
}

/* Commit everything now (pubstore.h): wait, then flush inline. */
static int
sql_commit(struct pubstore *base)
{
	struct pubsql		*ps = (struct pubsql *)base;
	struct committer	*cm = ps->cm;
	int			 r;

	ps_wait(ps);
	ps->cm = NULL;
	r = sql_flush(base);
	ps->cm = cm;
	return (r);
}

/* Close: wait for the batch in flight; what was not flushed is lost. */
static void
sql_close(struct pubstore *base)
{
	struct pubsql	*ps = (struct pubsql *)base;

	ps_wait(ps);
	pubdb_close(ps->db);
	pubqueue_free(&ps->q);
	free(ps->b.recs);
	free(ps->fails);
	free(ps);
}

/* Append into the queue with the next number (invariants 1, 6). */
static int
sql_append(struct pubstore *base, const struct pubstore_rec *rec,
    uint64_t *seq)
{
	struct pubsql	*ps = (struct pubsql *)base;

	if (ps_state(ps) == STORE_DEGRADED) {
		snprintf(ps->base.err, sizeof ps->base.err, "%s",
		    *ps_error(ps) != '\0' ? ps_error(ps) :
		    "publish store degraded, writes refused");
		return (-1);
	}
	if (pubqueue_push(&ps->q, ps->base.next, (int)rec->kind, rec->topic,
	    rec->topic_len, rec->hdr, rec->hdr_len, rec->data,
	    rec->data_len) == NULL) {
		snprintf(ps->base.err, sizeof ps->base.err, "publish store: "
		    "out of memory");
		return (-1);
	}
	*seq = ps->base.next++;
	return (0);
}

/* Persisted up to seq: hidden now, deleted by the next batch. */
static void
sql_discard_upto(struct pubstore *base, uint64_t seq)
{
	struct pubsql	*ps = (struct pubsql *)base;

	if (!pubstore_discard_mark(base, &seq))
		return;
	while (ps->nfails > 0 && ps->fails[0] <= seq) {
		ps->nfails--;
		memmove(ps->fails, ps->fails + 1, ps->nfails *
		    sizeof *ps->fails);
	}
	ps_trim(ps);
}

/*
 * AMPS refused seq: forget it.  Returns 1 when a row may have been
 * there (it is deleted by the next batch if it reached the file), 0
 * when certainly not, -1 when memory ran out.
 */
static int
sql_fail(struct pubstore *base, uint64_t seq)
{
	struct pubsql		*ps = (struct pubsql *)base;
	struct pubqueue_rec	*r = NULL;
	size_t			 i;

	if (seq == 0 || seq > ps->base.next - 1 || seq <= ps->base.discarded)
		return (0);
	i = pubqueue_find_after(&ps->q, seq - 1);
	if (i < ps->q.n && (r = pubqueue_at(&ps->q, i))->seq == seq) {
		if (r->dead)
			return (0);
		pubqueue_remove(&ps->q, seq);
	} else if (seq > ps->evicted)
		return (0);		/* lost, or never there */
	if (seq <= ps->queued) {
		for (i = 0; i < ps->nfails; i++)
			if (ps->fails[i] == seq)
				return (0);
		if (ps_add_fail(ps, seq) != 0) {
			snprintf(ps->base.err, sizeof ps->base.err,
			    "publish store: out of memory");
			return (-1);
		}
	}
	ps->floor_dirty = 1;
	return (1);
}

/* Seed from the logon ack's s: next = max(next, s + 1). */
static void
sql_seed(struct pubstore *base, uint64_t s)
{
	struct pubsql	*ps = (struct pubsql *)base;

	if (s >= PUBSTORE_SEQ_MAX)
		s = PUBSTORE_SEQ_MAX;
	if (s + 1 > ps->base.next) {
		ps->base.next = s + 1;
		ps->floor_dirty = 1;
	}
}

/*
 * A row read back failed its checksum (invariant 8): move it to the
 * quarantine table now, in a transaction of its own, and say so.
 */
static void
ps_quarantine(struct pubsql *ps, uint64_t seq)
{
	ps->base.quarantined++;
	if (pubdb_quarantine(ps->db, seq, ps->base.next, "checksum mismatch "
	    "(found on replay)") != 0) {
		snprintf(ps->base.err, sizeof ps->base.err, "publish store: "
		    "cannot quarantine damaged message %llu: %.300s",
		    (unsigned long long)seq, ps_error(ps));
		return;
	}
	ps->next_disk = ps->base.next;
	snprintf(ps->base.err, sizeof ps->base.err, "publish store: message "
	    "%llu failed its checksum; moved to the quarantine table of "
	    "%.300s", (unsigned long long)seq,
	    store_path(pubdb_store(ps->db)));
}

/* Passes the file's rows on to the caller's callback, noting a stop. */
struct ps_relay {
	pubstore_replay_cb	 cb;
	void			*arg;
	int			 stopped;
};

static int
ps_relay_cb(const struct pubstore_rec *r, void *arg)
{
	struct ps_relay	*rl = arg;

	return (rl->stopped = rl->cb(r, rl->arg) != 0);
}

/*
 * Rows above max(after_seq, discard point), ascending, at most limit
 * (0: all): evicted ones from the file (waiting for the batch in flight
 * first), then the queue's.  Returns the count passed to cb, or -1.
 */
static int64_t
sql_replay(struct pubstore *base, uint64_t after, size_t limit,
    pubstore_replay_cb cb, void *arg)
{
	struct pubsql		*ps = (struct pubsql *)base;
	struct ps_relay		 rl;
	int64_t			 n = 0;
	uint64_t		 bad;

	if (after < ps->base.discarded)
		after = ps->base.discarded;
	if (after < ps->evicted) {
		ps_wait(ps);
		rl.cb = cb;
		rl.arg = arg;
		rl.stopped = 0;
		n = pubdb_read(ps->db, after, ps->evicted, ps->fails,
		    ps->nfails, limit, ps_relay_cb, &rl, &bad);
		if (bad != 0)
			ps_quarantine(ps, bad);
		if (n < 0 || bad != 0 || rl.stopped ||
		    (limit != 0 && (size_t)n >= limit))
			return (n);
		after = ps->evicted;
	}
	return (pubstore_replay_queue(&ps->q, after, limit, n, cb, arg));
}

/* Rows not yet discarded (a count of the file's part: status only). */
static uint64_t
sql_unpersisted(struct pubstore *base)
{
	struct pubsql	*ps = (struct pubsql *)base;
	uint64_t	 n = 0;
	size_t		 i;

	if (ps->evicted > ps->base.discarded) {
		ps_wait(ps);
		if (pubdb_count(ps->db, ps->base.discarded, ps->evicted,
		    &n) != 0)
			n = 0;
		for (i = 0; i < ps->nfails; i++)
			if (ps->fails[i] <= ps->evicted && n > 0)
				n--;
	}
	for (i = pubqueue_find_after(&ps->q, ps->base.discarded);
	    i < ps->q.n; i++)
		if (!pubqueue_at(&ps->q, i)->dead)
			n++;
	return (n);
}

/* Whether seq is durable (1), lost (-1) or not decided yet (0). */
static int
sql_seq_state(const struct pubstore *base, uint64_t seq)
{
	const struct pubsql	*ps = (const struct pubsql *)base;
	size_t			 i;

	for (i = 0; i < ps->nlost; i++)
		if (seq >= ps->lost[i].lo && seq <= ps->lost[i].hi)
			return (-1);
	return (seq <= ps->base.durable ? 1 : 0);
}

/* Leave DEGRADED with a probe commit (never while a batch is out). */
static int
sql_probe(struct pubstore *base)
{
	struct pubsql	*ps = (struct pubsql *)base;

	if (ps->inflight)
		return (-1);
	return (store_probe(pubdb_store(ps->db)));
}

/* Commit on cm's thread from now on (NULL: inline). */
static void
sql_set_committer(struct pubstore *base, struct committer *cm,
    pubstore_commit_fn fn, void *arg)
{
	struct pubsql	*ps = (struct pubsql *)base;

	ps_wait(ps);
	ps->cm = sqlite3_threadsafe() ? cm : NULL;
	ps->observe = fn;
	ps->observe_arg = arg;
}

/* Rows appended and not committed yet (in flight included). */
static size_t
sql_pending_commit(const struct pubstore *base)
{
	const struct pubsql	*ps = (const struct pubsql *)base;
	size_t			 i, n = 0;

	for (i = pubqueue_find_after(&ps->q, ps->base.durable); i < ps->q.n; i++)
		if (!pubqueue_at(&ps->q, i)->dead)
			n++;
	return (n);
}

static enum store_state
sql_state(const struct pubstore *base)
{
	return (ps_state((const struct pubsql *)base));
}

static const char *
sql_error(const struct pubstore *base)
{
	return (ps_error((const struct pubsql *)base));
}

static struct store *
sql_store(struct pubstore *base)
{
	return (pubdb_store(((struct pubsql *)base)->db));
}

/* Bytes the queue holds, and the bound past which it evicts. */
static void
sql_memory(const struct pubstore *base, struct pubstore_memory *m)
{
	const struct pubsql	*ps = (const struct pubsql *)base;

	m->used = ps->q.rec_bytes;
	m->limit = 0;
}

/* Shift a mark above the horizon h by delta (a logon's renumbering). */
static void
ps_shift(uint64_t *v, uint64_t h, uint64_t delta)
{
	if (*v > h)
		*v += delta;
}

/*
 * Logon with the server's sequence s (pubstore.h; invariant 7): commit
 * what is pending, then one transaction that renumbers the rows above
 * the horizon that s would cover, takes everything <= s as persisted,
 * seeds the counter and raises the horizon; only once it committed, the
 * same in memory.
 */
static int
sql_logon(struct pubstore *base, uint64_t s, struct pubstore_logon *lo)
{
	struct pubsql		*ps = (struct pubsql *)base;
	struct pubdb_batch	 lb, *b = &lb;
	uint64_t		 h, m, delta = 0, n = 0, disc, nnext;
	size_t			 i;

	if (sql_commit(base) != 0 || ps_state(ps) == STORE_DEGRADED)
		return (-1);
	h = ps->base.horizon;
	lo->horizon = h;
	if (pubdb_min_above(ps->db, h, &m) != 0)
		return (-1);
	if (m > 0 && m <= s) {
		delta = s + 1 - m;
		if (ps->base.next - 1 + delta > PUBSTORE_SEQ_MAX) {
			snprintf(ps->base.err, sizeof ps->base.err,
			    "publish store: sequence exhausted");
			return (-1);
		}
	}
	if (s > h && pubdb_count(ps->db, ps->base.discarded, h, &n) != 0)
		return (-1);
	nnext = ps->base.next + delta > s + 1 ? ps->base.next + delta : s + 1;
	disc = s > ps->base.discarded ? s : ps->base.discarded;
	memset(b, 0, sizeof *b);
	b->renum_after = h;
	b->renum_delta = delta;
	b->discard = disc > ps->discard_applied ? disc : 0;
	b->acked = b->discard > ps->acked_disk ? b->discard : 0;
	b->floor = nnext != ps->next_disk ? nnext : 0;
	b->sent = nnext - 1 > ps->base.horizon ? nnext - 1 : 0;
	pubdb_apply(ps->db, b);
	if (ps->observe != NULL)
		ps->observe(ps->observe_arg, base, b->secs, b->ok);
	if (!b->ok)
		return (-1);		/* nothing moved, still offline */
	if (delta > 0) {
		for (i = pubqueue_find_after(&ps->q, h); i < ps->q.n; i++)
			pubqueue_at(&ps->q, i)->seq += delta;
		ps_shift(&ps->base.durable, h, delta);
		ps_shift(&ps->queued, h, delta);
		ps_shift(&ps->evicted, h, delta);
		for (i = 0; i < ps->nlost; i++) {
			ps_shift(&ps->lost[i].lo, h, delta);
			ps_shift(&ps->lost[i].hi, h, delta);
		}
		lo->renumbered = b->renumbered;
		lo->after = h;
		lo->delta = delta;
		lo->first = m;
		lo->last = ps->base.next - 1;
		ps->base.renumbered += b->renumbered;
	}
	lo->assumed = n;
	ps->base.next = nnext;
	if (b->floor > 0)
		ps->next_disk = b->floor;
	ps->floor_dirty = 0;
	ps->base.discarded = disc;
	if (b->discard > 0)
		ps->discard_applied = b->discard;
	if (b->acked > 0)
		ps->acked_disk = b->acked;
	if (b->sent > 0)
		ps->base.horizon = b->sent;
	ps->base.acked += b->deleted;
	ps->base.online = 1;
	ps_trim(ps);
	return (0);
}

static uint64_t
sql_acked_seq(const struct pubstore *base)
{
	return (((const struct pubsql *)base)->acked_disk);
}

/* What the open found (store.c's lost-commit check), or "". */
static const char *
sql_notice(const struct pubstore *base)
{
	return (store_notice(pubdb_store(((const struct pubsql *)base)->db)));
}

/* Tests: the queue's bound (bytes) past which committed rows leave it. */
void
pubstore_set_cache(struct pubstore *base, uint64_t bytes)
{
	struct pubsql	*ps = (struct pubsql *)base;

	if (base->ops != &sql_ops)
		return;
	ps->cache = bytes;
	ps_trim(ps);
}

static const struct pubstore_ops sql_ops = {
	.medium = "sqlite",
	.close = sql_close,
	.append = sql_append,
	.discard_upto = sql_discard_upto,
	.fail = sql_fail,
	.seed = sql_seed,
	.replay = sql_replay,
	.commit = sql_commit,
	.flush = sql_flush,
	.seq_state = sql_seq_state,
	.set_committer = sql_set_committer,
	.logon = sql_logon,
	.acked_seq = sql_acked_seq,
	.notice = sql_notice,
	.probe = sql_probe,
	.unpersisted = sql_unpersisted,
	.pending_commit = sql_pending_commit,
	.state = sql_state,
	.error = sql_error,
	.store = sql_store,
	.memory = sql_memory,
};
