/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * bookmarkstore.c: durable bookmark subscriptions (DESIGN.md §3,
 * §4 promise 2; PROTOCOL.md §8.5-§8.6).  It owns the in-memory bmtrack of one
 * upstream connection and two tables in its SQLite file (via store.c):
 *
 *	sub(sub_id, topic, filter, options, start, resume, popped)
 *		one row per durable subscription: its definition, the
 *		resume point and the popped per-publisher maxima
 *		("P|max|,..." as produced by bmsub_popped_list()).
 *	disc(sub_id, bm)
 *		bookmarks discarded out of order (behind an undiscarded
 *		one), so they are still suppressed after a restart.
 *
 * Logged but undiscarded bookmarks are never written: after a restart
 * the subscription resumes at `resume`, which precedes them, so they are
 * delivered again (at-least-once).  This keeps the per-message cost to
 * memory only; disk is touched per discard, and progress rows are
 * written once per sub per loop pass by the pre-commit hook.  It never
 * prints.
 *
 * Invariants:
 *
 *  1. After a successful commit, for every sub: sub.resume and
 *     sub.popped equal bmtrack's state as of the end of that pass, and
 *     disc holds every bookmark discarded out of order and not yet
 *     popped (plus, at worst, stale rows already covered by popped,
 *     which open() deletes: compaction).
 *  2. A sub whose progress changed is marked dirty until a commit that
 *     wrote it succeeds; a lost transaction keeps it dirty.
 *  3. Out-of-order discards and their removal on pop are written in the
 *     pass's transaction before the progress row, so a crash between
 *     commits loses at most a pass, which is redelivered, never skipped.
 */

#include "config.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "bmtrack.h"
#include "bookmarkstore.h"
#include "store.h"

/* "AMPK": the application_id of bookmark store files. */
#define BOOKMARKSTORE_APPID	0x414d504b

static const char *const bookmarkstore_migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE sub ("
	"  sub_id TEXT PRIMARY KEY,"
	"  topic TEXT NOT NULL,"
	"  filter TEXT NOT NULL,"
	"  options TEXT NOT NULL,"
	"  start TEXT NOT NULL,"
	"  resume TEXT NOT NULL DEFAULT '',"
	"  popped TEXT NOT NULL DEFAULT '') WITHOUT ROWID;"
	"CREATE TABLE disc ("
	"  sub_id TEXT NOT NULL,"
	"  bm TEXT NOT NULL,"
	"  PRIMARY KEY (sub_id, bm)) WITHOUT ROWID;",
	/* 1 -> 2: the uid of the program that defined it (-1: unknown) */
	"ALTER TABLE sub ADD COLUMN owner INTEGER NOT NULL DEFAULT -1;",
};

static const struct store_schema bookmarkstore_schema = {
	"bookmark store",
	BOOKMARKSTORE_APPID,
	bookmarkstore_migrations,
	(int)(sizeof bookmarkstore_migrations /
	    sizeof bookmarkstore_migrations[0]),
};

/* One durable subscription's definition and dirty flag. */
struct bsub {
	struct bsub	*next;
	char		*id;
	char		*topic;
	char		*filter;
	char		*options;
	int64_t		 owner;		/* uid, -1 = unknown */
	struct bmsub	*t;
	int		 dirty;
	int		 dirty_txn;	/* written in the open txn */
};

struct bookmarkstore {
	struct store	*st;
	struct bmtrack	*bt;
	struct bsub	*subs;
	int		 ndirty;

	sqlite3_stmt	*st_upsert;
	sqlite3_stmt	*st_progress;
	sqlite3_stmt	*st_sub_del;
	sqlite3_stmt	*st_disc_del_sub;
	sqlite3_stmt	*st_disc_ins;
	sqlite3_stmt	*st_disc_del;
	sqlite3_stmt	*st_load_sub;
	sqlite3_stmt	*st_load_disc;

	struct bsub	*cur;		/* pop callback context */
	int		 poperr;
	char		 err[256];
};

/* Remember an error of our own. */
static void __attribute__((__format__(printf, 2, 3)))
bookmarkstore_seterr(struct bookmarkstore *bs, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(bs->err, sizeof bs->err, fmt, ap);
	va_end(ap);
}

/* Find the definition of sub_id. */
static struct bsub *
bsub_find(struct bookmarkstore *bs, const char *sub_id)
{
	struct bsub	*b;

	for (b = bs->subs; b != NULL; b = b->next) {
		if (strcmp(b->id, sub_id) == 0)
			return (b);
	}
	return (NULL);
}

/* Free a definition (not its bmsub, which bmtrack owns). */
static void
bsub_free(struct bsub *b)
{
	free(b->id);
	free(b->topic);
	free(b->filter);
	free(b->options);
	free(b);
}

/* Replace *dst by a copy of s ("" for NULL).  0 or -1. */
static int
bs_strset(char **dst, const char *s)
{
	char	*p;

	if ((p = strdup(s != NULL ? s : "")) == NULL)
		return (-1);
	free(*dst);
	*dst = p;
	return (0);
}

/* Bind text (NUL-terminated, "" for NULL). */
static void
bs_bind(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s != NULL ? s : "", -1, SQLITE_STATIC);
}

/* Write one sub's progress row (inside the open transaction). */
static int
bookmarkstore_write_progress(struct bookmarkstore *bs, struct bsub *b)
{
	char	 buf[4096], *list = buf;
	int	 n, r;

	n = bmsub_popped_list(b->t, buf, sizeof buf);
	if (n < 0)
		return (-1);
	if ((size_t)n >= sizeof buf) {
		if ((list = malloc((size_t)n + 1)) == NULL)
			return (-1);
		bmsub_popped_list(b->t, list, (size_t)n + 1);
	}
	bs_bind(bs->st_progress, 1, b->id);
	bs_bind(bs->st_progress, 2, bmsub_resume(b->t));
	bs_bind(bs->st_progress, 3, list);
	r = store_exec(bs->st, bs->st_progress);
	if (list != buf)
		free(list);
	return (r == -1 ? -1 : 0);
}

/* Pre-commit hook: write dirty progress rows (invariant 2). */
static int
bookmarkstore_precommit(void *arg)
{
	struct bookmarkstore	*bs = arg;
	struct bsub		*b;

	if (bs->ndirty == 0)
		return (0);
	for (b = bs->subs; b != NULL; b = b->next) {
		if (!b->dirty)
			continue;
		if (bookmarkstore_write_progress(bs, b) != 0)
			return (-1);
		b->dirty_txn = 1;
	}
	return (0);
}

/* Post-commit hook: clear what was written, or keep it dirty. */
static void
bookmarkstore_postcommit(void *arg, int ok)
{
	struct bookmarkstore	*bs = arg;
	struct bsub		*b;

	for (b = bs->subs; b != NULL; b = b->next) {
		if (ok && b->dirty_txn && b->dirty) {
			b->dirty = 0;
			bs->ndirty--;
		}
		b->dirty_txn = 0;
	}
}

/* Whether dirty progress deserves a transaction at flush time. */
static int
bookmarkstore_needtxn(void *arg)
{
	struct bookmarkstore	*bs = arg;

	return (bs->ndirty > 0);
}

/* Mark b dirty. */
static void
bsub_dirty(struct bookmarkstore *bs, struct bsub *b)
{
	if (!b->dirty) {
		b->dirty = 1;
		bs->ndirty++;
	}
}

/* Cause helper for open. */
static void
bs_cause(char **cause, const char *msg)
{
	if (cause != NULL)
		*cause = strdup(msg);
}

/* (sub_id, bm) pairs found stale while loading, flattened. */
struct bs_stale {
	char	**v;
	size_t	 n;
	size_t	 cap;
};

/* Remember a stale pair.  0 or -1. */
static int
bs_stale_add(struct bs_stale *sl, const char *id, const char *bm)
{
	char	**nv;
	size_t	 ncap;

	if (sl->n + 2 > sl->cap) {
		ncap = sl->cap == 0 ? 16 : sl->cap * 2;
		if ((nv = reallocarray(sl->v, ncap, sizeof *nv)) == NULL)
			return (-1);
		sl->v = nv;
		sl->cap = ncap;
	}
	if ((sl->v[sl->n] = strdup(id)) == NULL)
		return (-1);
	if ((sl->v[sl->n + 1] = strdup(bm)) == NULL) {
		free(sl->v[sl->n]);
		return (-1);
	}
	sl->n += 2;
	return (0);
}

/* Free the stale pairs. */
static void
bs_stale_free(struct bs_stale *sl)
{
	size_t	 i;

	for (i = 0; i < sl->n; i++)
		free(sl->v[i]);
	free(sl->v);
}

/* Load every sub and out-of-order discard; compact stale discards. */
static int
bookmarkstore_load(struct bookmarkstore *bs, char **cause)
{
	sqlite3_stmt	*st;
	struct bsub	*b;
	struct bs_stale	 stale = { NULL, 0, 0 };
	const char	*id, *bm;
	size_t		 i;
	int		 rc, r;

	st = bs->st_load_sub;
	while ((rc = store_step(bs->st, st)) == SQLITE_ROW) {
		id = (const char *)sqlite3_column_text(st, 0);
		if (id == NULL || (b = calloc(1, sizeof *b)) == NULL)
			goto oom;
		if (bs_strset(&b->id, id) != 0 ||
		    bs_strset(&b->topic, (const char *)
		    sqlite3_column_text(st, 1)) != 0 ||
		    bs_strset(&b->filter, (const char *)
		    sqlite3_column_text(st, 2)) != 0 ||
		    bs_strset(&b->options, (const char *)
		    sqlite3_column_text(st, 3)) != 0 ||
		    (b->t = bmtrack_add(bs->bt, id, (const char *)
		    sqlite3_column_text(st, 4))) == NULL ||
		    bmsub_restore(b->t, (const char *)
		    sqlite3_column_text(st, 5), (const char *)
		    sqlite3_column_text(st, 6)) != 0) {
			bsub_free(b);
			goto oom;
		}
		b->owner = sqlite3_column_int64(st, 7);
		b->next = bs->subs;
		bs->subs = b;
	}
	if (rc == -1)
		goto sqlerr;

	st = bs->st_load_disc;
	while ((rc = store_step(bs->st, st)) == SQLITE_ROW) {
		id = (const char *)sqlite3_column_text(st, 0);
		bm = (const char *)sqlite3_column_text(st, 1);
		if (id == NULL || bm == NULL)
			continue;
		if ((b = bsub_find(bs, id)) == NULL)
			r = 1;		/* orphan */
		else if ((r = bmsub_restore_discarded(b->t, bm,
		    strlen(bm))) == -1)
			goto oom;
		if (r == 1 && bs_stale_add(&stale, id, bm) != 0)
			goto oom;
	}
	if (rc == -1)
		goto sqlerr;
	if (stale.n > 0) {
		/* Compaction: drop rows the popped prefix covers. */
		if (store_begin(bs->st) != 0)
			goto sqlerr;
		for (i = 0; i < stale.n; i += 2) {
			bs_bind(bs->st_disc_del, 1, stale.v[i]);
			bs_bind(bs->st_disc_del, 2, stale.v[i + 1]);
			if (store_exec(bs->st, bs->st_disc_del) == -1)
				goto sqlerr;
		}
		if (store_commit(bs->st) != 0)
			goto sqlerr;
	}
	bs_stale_free(&stale);
	return (0);
oom:
	sqlite3_reset(st);
	bs_stale_free(&stale);
	bs_cause(cause, "bookmark store: out of memory while loading");
	return (-1);
sqlerr:
	bs_stale_free(&stale);
	bs_cause(cause, store_error(bs->st));
	return (-1);
}

/*
 * Open the bookmark store at path and load it.  See bookmarkstore.h.
 */
struct bookmarkstore *
bookmarkstore_open(const char *path, enum store_durability dur, int flags,
    char **cause)
{
	struct bookmarkstore	*bs;
	struct store_hooks	 h;

	if ((bs = calloc(1, sizeof *bs)) == NULL ||
	    (bs->bt = bmtrack_create()) == NULL) {
		free(bs);
		bs_cause(cause, "out of memory");
		return (NULL);
	}
	if ((bs->st = store_open(path, &bookmarkstore_schema, dur, flags,
	    cause)) == NULL) {
		bmtrack_free(bs->bt);
		free(bs);
		return (NULL);
	}
	if (store_prepare(bs->st, "INSERT INTO sub (sub_id, topic, filter, "
	    "options, start, owner) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON "
	    "CONFLICT (sub_id) DO UPDATE SET topic = excluded.topic, "
	    "filter = excluded.filter, options = excluded.options, "
	    "owner = excluded.owner", &bs->st_upsert, cause) != 0 ||
	    store_prepare(bs->st, "UPDATE sub SET resume = ?2, popped = ?3 "
	    "WHERE sub_id = ?1", &bs->st_progress, cause) != 0 ||
	    store_prepare(bs->st, "DELETE FROM sub WHERE sub_id = ?1",
	    &bs->st_sub_del, cause) != 0 ||
	    store_prepare(bs->st, "DELETE FROM disc WHERE sub_id = ?1",
	    &bs->st_disc_del_sub, cause) != 0 ||
	    store_prepare(bs->st, "INSERT OR IGNORE INTO disc (sub_id, bm) "
	    "VALUES (?1, ?2)", &bs->st_disc_ins, cause) != 0 ||
	    store_prepare(bs->st, "DELETE FROM disc WHERE sub_id = ?1 AND "
	    "bm = ?2", &bs->st_disc_del, cause) != 0 ||
	    store_prepare(bs->st, "SELECT sub_id, topic, filter, options, "
	    "start, resume, popped, owner FROM sub", &bs->st_load_sub,
	    cause) != 0 ||
	    store_prepare(bs->st, "SELECT sub_id, bm FROM disc",
	    &bs->st_load_disc, cause) != 0)
		goto fail;

	memset(&h, 0, sizeof h);
	h.precommit = bookmarkstore_precommit;
	h.postcommit = bookmarkstore_postcommit;
	h.needtxn = bookmarkstore_needtxn;
	h.arg = bs;
	store_set_hooks(bs->st, &h);
	if (bookmarkstore_load(bs, cause) != 0)
		goto fail;
	return (bs);
fail:
	bookmarkstore_close(bs);
	return (NULL);
}

/* Close; uncommitted writes are rolled back.  Accepts NULL. */
void
bookmarkstore_close(struct bookmarkstore *bs)
{
	struct bsub	*b, *nb;

	if (bs == NULL)
		return;
	store_close(bs->st);
	for (b = bs->subs; b != NULL; b = nb) {
		nb = b->next;
		bsub_free(b);
	}
	bmtrack_free(bs->bt);
	free(bs);
}

/*
 * Define or redefine a durable subscription (see bookmarkstore.h).  The
 * definition is written in this pass's transaction.  Returns 0 or -1.
 */
int
bookmarkstore_define(struct bookmarkstore *bs,
    const struct bookmarkstore_sub *def)
{
	struct bsub	*b;
	int		 created = 0;

	assert(bs != NULL && def != NULL);
	bs->err[0] = '\0';
	if (def->sub_id == NULL || *def->sub_id == '\0' ||
	    strlen(def->sub_id) > BMTRACK_MAX_BM ||
	    (def->topic != NULL && strlen(def->topic) >
	    BOOKMARKSTORE_MAX_FIELD) ||
	    (def->filter != NULL && strlen(def->filter) >
	    BOOKMARKSTORE_MAX_FIELD) ||
	    (def->options != NULL && strlen(def->options) >
	    BOOKMARKSTORE_MAX_FIELD) ||
	    (def->start != NULL && strlen(def->start) > BMTRACK_MAX_BM)) {
		bookmarkstore_seterr(bs, "bookmark store: empty or over-long "
		    "subscription field");
		return (-1);
	}
	if (store_begin(bs->st) != 0)
		return (-1);
	if ((b = bsub_find(bs, def->sub_id)) == NULL) {
		if ((b = calloc(1, sizeof *b)) == NULL ||
		    bs_strset(&b->id, def->sub_id) != 0 ||
		    (b->t = bmtrack_add(bs->bt, def->sub_id, def->start)) ==
		    NULL) {
			if (b != NULL)
				bsub_free(b);
			bookmarkstore_seterr(bs, "bookmark store: out of "
			    "memory");
			return (-1);
		}
		created = 1;
	}
	if (bs_strset(&b->topic, def->topic) != 0 ||
	    bs_strset(&b->filter, def->filter) != 0 ||
	    bs_strset(&b->options, def->options) != 0) {
		bookmarkstore_seterr(bs, "bookmark store: out of memory");
		goto fail;
	}
	bs_bind(bs->st_upsert, 1, b->id);
	bs_bind(bs->st_upsert, 2, b->topic);
	bs_bind(bs->st_upsert, 3, b->filter);
	bs_bind(bs->st_upsert, 4, b->options);
	bs_bind(bs->st_upsert, 5, bmsub_start(b->t));
	b->owner = def->owner;
	sqlite3_bind_int64(bs->st_upsert, 6, (sqlite3_int64)def->owner);
	if (store_exec(bs->st, bs->st_upsert) == -1)
		goto fail;
	if (created) {
		b->next = bs->subs;
		bs->subs = b;
	}
	return (0);
fail:
	if (created) {
		bmtrack_purge(bs->bt, b->id);
		bsub_free(b);
	}
	return (-1);
}

/* Delete sub_id and its progress in this pass's transaction.  0 or -1. */
int
bookmarkstore_purge(struct bookmarkstore *bs, const char *sub_id)
{
	struct bsub	**pp, *b;

	assert(bs != NULL && sub_id != NULL);
	bs->err[0] = '\0';
	if (store_begin(bs->st) != 0)
		return (-1);
	bs_bind(bs->st_sub_del, 1, sub_id);
	if (store_exec(bs->st, bs->st_sub_del) == -1)
		return (-1);
	bs_bind(bs->st_disc_del_sub, 1, sub_id);
	if (store_exec(bs->st, bs->st_disc_del_sub) == -1)
		return (-1);
	for (pp = &bs->subs; (b = *pp) != NULL; pp = &b->next) {
		if (strcmp(b->id, sub_id) == 0) {
			*pp = b->next;
			if (b->dirty)
				bs->ndirty--;
			bsub_free(b);
			break;
		}
	}
	bmtrack_purge(bs->bt, sub_id);
	return (0);
}

/* Visit every subscription's definition. */
int
bookmarkstore_foreach(struct bookmarkstore *bs, bookmarkstore_cb cb,
    void *arg)
{
	struct bookmarkstore_sub d;
	struct bsub		*b;
	int			 n = 0;

	for (b = bs->subs; b != NULL; b = b->next) {
		d.sub_id = b->id;
		d.topic = b->topic;
		d.filter = b->filter;
		d.options = b->options;
		d.start = bmsub_start(b->t);
		d.owner = b->owner;
		n++;
		if (cb(&d, arg) != 0)
			break;
	}
	return (n);
}

/* Pop callback: an out-of-order discard left the queue; drop its row. */
static void
bookmarkstore_pop_cb(const char *bm, size_t len, int deferred, void *arg)
{
	struct bookmarkstore	*bs = arg;

	if (!deferred || bs->poperr)
		return;
	bs_bind(bs->st_disc_del, 1, bs->cur->id);
	sqlite3_bind_text(bs->st_disc_del, 2, bm, (int)len, SQLITE_STATIC);
	if (store_exec(bs->st, bs->st_disc_del) == -1)
		bs->poperr = 1;
}

/* Log bm for sub_id (memory only).  See bookmarkstore.h. */
int
bookmarkstore_log(struct bookmarkstore *bs, const char *sub_id,
    const char *bm, size_t len)
{
	struct bsub	*b;
	int		 r;

	if ((b = bsub_find(bs, sub_id)) == NULL)
		return (-1);
	r = bmtrack_log(b->t, bm, len);
	if (r == BMTRACK_DUPLICATE && bmsub_queued(b->t) > 0 &&
	    store_begin(bs->st) == 0) {
		/* A restored discard came back: it may pop at once. */
		bs->cur = b;
		bs->poperr = 0;
		if (bmtrack_settle(b->t, bookmarkstore_pop_cb, bs) == 1)
			bsub_dirty(bs, b);
	}
	return (r);
}

/*
 * Discard bm on sub_id: in memory at once, on disk in this pass's
 * transaction.  Returns 1 (advanced), 0 (recorded or already
 * discarded) or -1; on a store error the discard is still in effect in
 * memory.
 */
int
bookmarkstore_discard(struct bookmarkstore *bs, const char *sub_id,
    const char *bm, size_t len)
{
	struct bsub	*b;
	int		 r, began;

	assert(bs != NULL && sub_id != NULL);
	bs->err[0] = '\0';
	if ((b = bsub_find(bs, sub_id)) == NULL) {
		bookmarkstore_seterr(bs, "bookmark store: unknown "
		    "subscription");
		return (-1);
	}
	began = (store_begin(bs->st) == 0);
	bs->cur = b;
	bs->poperr = !began;
	r = bmtrack_discard(b->t, bm, len, bookmarkstore_pop_cb, bs);
	if (r == -1) {
		bookmarkstore_seterr(bs, "bookmark store: bookmark not "
		    "delivered on this subscription");
		return (-1);
	}
	if (r == 1)
		bsub_dirty(bs, b);
	else if (r == 0 && began) {
		/* Out of order: remember it across a restart. */
		bs_bind(bs->st_disc_ins, 1, b->id);
		sqlite3_bind_text(bs->st_disc_ins, 2, bm, (int)len,
		    SQLITE_STATIC);
		if (store_exec(bs->st, bs->st_disc_ins) == -1)
			return (-1);
	}
	if (!began || bs->poperr)
		return (-1);
	return (r == 1 ? 1 : 0);
}

/* A persisted ack for sub_id; progress written at the next commit. */
int
bookmarkstore_persisted(struct bookmarkstore *bs, const char *sub_id,
    const char *bm, size_t len)
{
	struct bsub	*b;
	int		 r;

	if ((b = bsub_find(bs, sub_id)) == NULL)
		return (-1);
	r = bmtrack_persisted(b->t, bm, len);
	if (r == 1)
		bsub_dirty(bs, b);
	return (r);
}

/* Replay of sub_id over (1) or starting (0). */
int
bookmarkstore_live(struct bookmarkstore *bs, const char *sub_id, int on)
{
	struct bsub	*b;

	if ((b = bsub_find(bs, sub_id)) == NULL)
		return (-1);
	bmtrack_live(b->t, on);
	return (0);
}

/* MOST_RECENT for sub_id (EPOCH when unknown). */
int
bookmarkstore_most_recent(struct bookmarkstore *bs, const char *sub_id,
    int flags, char *out, size_t cap)
{
	return (bmtrack_most_recent(bs->bt, sub_id, flags, out, cap));
}

/* Commit this pass's writes. */
int
bookmarkstore_commit(struct bookmarkstore *bs)
{
	return (store_commit(bs->st));
}

/* The in-memory tracker (owned by the store; read-only use). */
struct bmtrack *
bookmarkstore_tracker(struct bookmarkstore *bs)
{
	return (bs->bt);
}

/* Health of the underlying store. */
enum store_state
bookmarkstore_state(const struct bookmarkstore *bs)
{
	return (store_state(bs->st));
}

/* The last error: ours if any, else the store's. */
const char *
bookmarkstore_error(const struct bookmarkstore *bs)
{
	if (bs->err[0] != '\0')
		return (bs->err);
	return (store_error(bs->st));
}

/* The underlying store, to add to a store_set. */
struct store *
bookmarkstore_store(struct bookmarkstore *bs)
{
	return (bs->st);
}
