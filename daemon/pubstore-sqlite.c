/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * pubstore-sqlite.c: the durable backend of the publish store of one
 * upstream connection (pubstore.h; PROTOCOL.md §7.2-§7.5; DESIGN.md §3
 * "Publish", §4 promise 1, §7).  pubstore.c has checked every record
 * before append().
 *
 * It owns two tables in its own SQLite file (via store.c):
 *
 *	pub(seq INTEGER PRIMARY KEY, kind, topic, hdr, data)
 *		one row per publish/delta_publish/sow_delete not yet
 *		reported persisted by the server; seq is the rowid, so rows
 *		are appended at the right of the b-tree and deleted from
 *		the left.
 *	meta(k, v): 'next_seq' = the floor of the next sequence.
 *
 * Writes join the store's batched transaction of the event-loop pass;
 * deletes for persisted acks are deferred to that transaction's
 * pre-commit hook (one DELETE per pass, never a transaction of their own
 * while appends are flowing).  It never prints.
 *
 * Invariants:
 *
 *  1. next > every seq ever handed out, in memory.  On disk, every
 *     committed seq is covered either by a row still present or by
 *     meta.next_seq: any transaction that deletes rows (discard, fail)
 *     or follows a seed also writes meta.next_seq = next.  So the counter
 *     survives the deletion of every row, close/reopen and kill -9, and
 *     transactions that only append (the common case: persisted acks
 *     are conflated) write no extra row.  On open,
 *     next = max(meta.next_seq, max(pub.seq) + 1, 1).
 *
 *  2. next never decreases, even when a transaction is lost: numbers of
 *     lost rows are not reused while the process lives.  (After a crash
 *     they may be, which is harmless: rows are sent upstream only after
 *     their commit succeeded, so a lost number was never seen by AMPS.)
 *
 *  3. discard_pending >= discard_applied; rows <= discard_pending are
 *     invisible to replay and counting even before the DELETE runs.
 *     discard_pending never exceeds next - 1, so a discard can never hide
 *     a row appended later.
 *
 *  4. durable is the highest seq whose transaction committed; rows with
 *     seq in (durable, next) are either in the open transaction or lost.
 */

#include "config.h"

#include <sys/stat.h>

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "pubstore-int.h"
#include "store.h"

/* "AMPB": the application_id of publish store files. */
#define PUBSTORE_APPID		0x414d5042

static const char *const pubstore_migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE pub ("
	"  seq INTEGER PRIMARY KEY,"
	"  kind INTEGER NOT NULL,"
	"  topic BLOB NOT NULL,"
	"  hdr BLOB NOT NULL,"
	"  data BLOB NOT NULL);"
	"CREATE TABLE meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL) "
	"  WITHOUT ROWID;"
	"INSERT INTO meta (k, v) VALUES ('next_seq', 1);",
};

static const struct store_schema pubstore_schema = {
	"publish store",
	PUBSTORE_APPID,
	pubstore_migrations,
	(int)(sizeof pubstore_migrations / sizeof pubstore_migrations[0]),
};

static const struct pubstore_ops sql_ops;

struct pubsql {
	struct pubstore	 base;		  /* first: see pubstore-int.h */
	struct store	*st;

	uint64_t	 next;		  /* next seq to hand out */
	uint64_t	 next_disk;	  /* meta.next_seq, committed */
	uint64_t	 next_txn;	  /* meta.next_seq written in txn */
	uint64_t	 discard_pending; /* highest seq to discard */
	uint64_t	 discard_applied; /* committed DELETE up to here */
	uint64_t	 discard_txn;	  /* DELETE run in the open txn */
	uint64_t	 durable;	  /* highest committed seq */
	uint64_t	 txn_last;	  /* last seq appended in open txn */
	size_t		 pending;	  /* appends in open txn */
	uint64_t	 acked;		  /* rows deleted by discards, committed */
	uint64_t	 acked_txn;	  /* ... in the open txn */
	int		 floor_dirty;	  /* seed/fail: write next_seq */
	int		 floor_txn;	  /* next_seq written in open txn */

	sqlite3_stmt	*st_ins;
	sqlite3_stmt	*st_del_upto;
	sqlite3_stmt	*st_del_one;
	sqlite3_stmt	*st_set_next;
	sqlite3_stmt	*st_get_next;
	sqlite3_stmt	*st_max;
	sqlite3_stmt	*st_replay;
	sqlite3_stmt	*st_count;
};

/* Pre-commit hook: deferred DELETE and the sequence floor (inv. 1, 3). */
static int
pubstore_precommit(void *arg)
{
	struct pubsql	*ps = arg;

	int		 deleting = ps->floor_dirty;

	if (ps->discard_pending > ps->discard_applied) {
		sqlite3_bind_int64(ps->st_del_upto, 1,
		    (sqlite3_int64)ps->discard_pending);
		if (store_exec(ps->st, ps->st_del_upto) == -1)
			return (-1);
		ps->acked_txn = (uint64_t)store_changes(ps->st);
		ps->discard_txn = ps->discard_pending;
		deleting = 1;
	}
	ps->floor_txn = ps->floor_dirty;
	if (deleting && ps->next != ps->next_disk) {
		sqlite3_bind_int64(ps->st_set_next, 1, (sqlite3_int64)ps->next);
		if (store_exec(ps->st, ps->st_set_next) == -1)
			return (-1);
		ps->next_txn = ps->next;
	}
	return (0);
}

/* Post-commit hook: advance the committed marks, or forget the txn. */
static void
pubstore_postcommit(void *arg, int ok)
{
	struct pubsql	*ps = arg;

	if (ok) {
		if (ps->discard_txn > ps->discard_applied)
			ps->discard_applied = ps->discard_txn;
		if (ps->next_txn > ps->next_disk)
			ps->next_disk = ps->next_txn;
		if (ps->floor_txn)
			ps->floor_dirty = 0;
		if (ps->pending > 0 && ps->txn_last > ps->durable)
			ps->durable = ps->txn_last;
		ps->acked += ps->acked_txn;
	}
	ps->acked_txn = 0;
	ps->discard_txn = 0;
	ps->next_txn = 0;
	ps->floor_txn = 0;
	ps->pending = 0;
}

/* Whether deferred work deserves a transaction at flush time. */
static int
pubstore_needtxn(void *arg)
{
	struct pubsql	*ps = arg;

	return (ps->discard_pending > ps->discard_applied ||
	    (ps->floor_dirty && ps->next != ps->next_disk));
}

/* Read a single integer from a one-row query; -1 on error. */
static int
pubstore_scalar(struct pubsql *ps, sqlite3_stmt *st, int64_t *v)
{
	int	 rc;

	*v = 0;
	rc = store_step(ps->st, st);
	if (rc == -1)
		return (-1);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	return (0);
}

/*
 * Open the publish store at path.  See pubstore.h.  Returns NULL with
 * *cause set on failure; the file is then untouched.
 */
struct pubstore *
pubstore_open(const char *path, enum store_durability dur, int flags,
    char **cause)
{
	struct pubsql		*ps;
	struct store_hooks	 h;
	int64_t			 next, max;

	if ((ps = calloc(1, sizeof *ps)) == NULL) {
		if (cause != NULL)
			*cause = strdup("out of memory");
		return (NULL);
	}
	ps->base.ops = &sql_ops;
	if ((ps->st = store_open(path, &pubstore_schema, dur, flags,
	    cause)) == NULL) {
		free(ps);
		return (NULL);
	}
	if (store_prepare(ps->st, "INSERT INTO pub (seq, kind, topic, hdr, "
	    "data) VALUES (?1, ?2, ?3, ?4, ?5)", &ps->st_ins, cause) != 0 ||
	    store_prepare(ps->st, "DELETE FROM pub WHERE seq <= ?1",
	    &ps->st_del_upto, cause) != 0 ||
	    store_prepare(ps->st, "DELETE FROM pub WHERE seq = ?1",
	    &ps->st_del_one, cause) != 0 ||
	    store_prepare(ps->st, "UPDATE meta SET v = ?1 WHERE k = "
	    "'next_seq'", &ps->st_set_next, cause) != 0 ||
	    store_prepare(ps->st, "SELECT v FROM meta WHERE k = 'next_seq'",
	    &ps->st_get_next, cause) != 0 ||
	    store_prepare(ps->st, "SELECT max(seq) FROM pub", &ps->st_max,
	    cause) != 0 ||
	    store_prepare(ps->st, "SELECT seq, kind, topic, hdr, data FROM "
	    "pub WHERE seq > ?1 ORDER BY seq LIMIT ?2", &ps->st_replay,
	    cause) != 0 ||
	    store_prepare(ps->st, "SELECT count(*) FROM pub WHERE seq > ?1",
	    &ps->st_count, cause) != 0)
		goto fail;

	if (pubstore_scalar(ps, ps->st_get_next, &next) != 0 ||
	    pubstore_scalar(ps, ps->st_max, &max) != 0) {
		if (cause != NULL && asprintf(cause, "%s",
		    store_error(ps->st)) == -1)
			*cause = NULL;
		goto fail;
	}
	if (next < 1 || max < 0) {
		if (cause != NULL && asprintf(cause, "%s: publish store has "
		    "a bad sequence counter (%lld, max %lld); refusing to use "
		    "it", path, (long long)next, (long long)max) == -1)
			*cause = NULL;
		goto fail;
	}
	ps->next = (uint64_t)next;
	if ((uint64_t)max + 1 > ps->next)
		ps->next = (uint64_t)max + 1;
	ps->next_disk = (uint64_t)next;
	ps->durable = ps->next - 1;

	memset(&h, 0, sizeof h);
	h.precommit = pubstore_precommit;
	h.postcommit = pubstore_postcommit;
	h.needtxn = pubstore_needtxn;
	h.arg = ps;
	store_set_hooks(ps->st, &h);
	return (&ps->base);
fail:
	store_close(ps->st);
	free(ps);
	return (NULL);
}

/* Close: uncommitted rows are rolled back.  Accepts NULL. */
static void
sql_close(struct pubstore *b)
{
	struct pubsql	*ps = (struct pubsql *)b;

	store_close(ps->st);
	free(ps);
}

/* Bind a blob, never as NULL (a zero-length blob for len 0). */
static int
pubstore_bind(sqlite3_stmt *st, int i, const void *p, size_t len)
{
	if (len == 0 || p == NULL)
		return (sqlite3_bind_zeroblob(st, i, 0));
	return (sqlite3_bind_blob(st, i, p, (int)len, SQLITE_STATIC));
}

/*
 * Append one command with the next sequence number (invariant 1).
 *
 * The row joins this pass's transaction; it is durable only once
 * pubstore_commit() (or store_flush() on a set holding this store) has
 * returned 0, so the caller queues the client's "stored" reply and the
 * upstream send until then.  rec's buffers are copied by SQLite before
 * this returns.  Returns 0 with *seq set, or -1: the store degraded, or
 * SQLite failing (pubstore_error() says which).
 */
static int
sql_append(struct pubstore *b, const struct pubstore_rec *rec,
    uint64_t *seq)
{
	struct pubsql	*ps = (struct pubsql *)b;
	sqlite3_stmt	*st = ps->st_ins;
	uint64_t	 s;

	if (store_begin(ps->st) != 0)
		return (-1);

	s = ps->next;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)s);
	sqlite3_bind_int(st, 2, (int)rec->kind);
	pubstore_bind(st, 3, rec->topic, rec->topic_len);
	pubstore_bind(st, 4, rec->hdr, rec->hdr_len);
	pubstore_bind(st, 5, rec->data, rec->data_len);
	if (store_exec(ps->st, st) == -1)
		return (-1);
	ps->next = s + 1;		/* invariant 2: even if later lost */
	ps->txn_last = s;
	ps->pending++;
	*seq = s;
	return (0);
}

/*
 * Everything up to seq is persisted upstream: delete it in the next
 * commit (invariant 3).  Callable any time; never fails.
 */
static void
sql_discard_upto(struct pubstore *b, uint64_t seq)
{
	struct pubsql	*ps = (struct pubsql *)b;

	assert(ps != NULL);
	if (seq > ps->next - 1)
		seq = ps->next - 1;
	if (seq > ps->discard_pending)
		ps->discard_pending = seq;
}

/*
 * Remove entry seq after a failure persisted ack, in this pass's
 * transaction.  Returns 1 if a row went, 0 if there was none, -1 on error.
 */
static int
sql_fail(struct pubstore *b, uint64_t seq)
{
	struct pubsql	*ps = (struct pubsql *)b;

	assert(ps != NULL);
	if (seq == 0 || seq > PUBSTORE_SEQ_MAX || seq <= ps->discard_pending)
		return (0);
	if (store_begin(ps->st) != 0)
		return (-1);
	sqlite3_bind_int64(ps->st_del_one, 1, (sqlite3_int64)seq);
	if (store_exec(ps->st, ps->st_del_one) == -1)
		return (-1);
	if (store_changes(ps->st) == 0)
		return (0);
	ps->floor_dirty = 1;
	return (1);
}

/*
 * Seed from the logon ack's s: next = max(next, s + 1).  Persisted by
 * the next commit (the flush opens one for it).
 */
static void
sql_seed(struct pubstore *b, uint64_t s)
{
	struct pubsql	*ps = (struct pubsql *)b;

	assert(ps != NULL);
	if (s >= PUBSTORE_SEQ_MAX)
		s = PUBSTORE_SEQ_MAX;
	if (s + 1 > ps->next) {
		ps->next = s + 1;
		ps->floor_dirty = 1;
	}
}

/*
 * Replay rows with seq > max(after_seq, discard point), ascending, at
 * most limit of them (0: all).  Returns the count passed to cb, or -1.
 */
static int64_t
sql_replay(struct pubstore *b, uint64_t after_seq, size_t limit,
    pubstore_replay_cb cb, void *arg)
{
	struct pubsql		*ps = (struct pubsql *)b;
	sqlite3_stmt		*st = ps->st_replay;
	struct pubstore_rec	 r;
	int64_t			 n = 0;
	int			 rc;

	assert(ps != NULL && cb != NULL);
	if (after_seq < ps->discard_pending)
		after_seq = ps->discard_pending;
	if (after_seq > PUBSTORE_SEQ_MAX)
		return (0);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)after_seq);
	sqlite3_bind_int64(st, 2, limit == 0 || limit > INT64_MAX ? -1 :
	    (sqlite3_int64)limit);
	while ((rc = store_step(ps->st, st)) == SQLITE_ROW) {
		memset(&r, 0, sizeof r);
		r.seq = (uint64_t)sqlite3_column_int64(st, 0);
		r.kind = (enum pubstore_kind)sqlite3_column_int(st, 1);
		r.topic = sqlite3_column_blob(st, 2);
		r.topic_len = (size_t)sqlite3_column_bytes(st, 2);
		r.hdr = sqlite3_column_blob(st, 3);
		r.hdr_len = (size_t)sqlite3_column_bytes(st, 3);
		r.data = sqlite3_column_blob(st, 4);
		r.data_len = (size_t)sqlite3_column_bytes(st, 4);
		n++;
		if (cb(&r, arg) != 0) {
			sqlite3_reset(st);
			break;
		}
	}
	sqlite3_clear_bindings(st);
	if (rc == -1)
		return (-1);
	return (n);
}

/* Commit this pass (see pubstore.h). */
static int
sql_commit(struct pubstore *b)
{
	struct pubsql	*ps = (struct pubsql *)b;

	return (store_commit(ps->st));
}

/* See pubstore.h.  The path is percent-encoded into a file: URI. */
int
pubstore_peek_count(const char *path, uint64_t *n)
{
	static const char	 hex[] = "0123456789ABCDEF";
	struct stat		 sb;
	sqlite3			*db = NULL;
	sqlite3_stmt		*st = NULL;
	char			*wal, *uri, *u;
	const char		*p;
	int			 rc = -1, appid = 0;

	if (asprintf(&wal, "%s-wal", path) == -1)
		return (-1);
	if (lstat(wal, &sb) == 0 || errno != ENOENT) {
		free(wal);
		return (-1);
	}
	free(wal);
	if ((uri = malloc(strlen(path) * 3 + sizeof "file:?mode=ro&"
	    "immutable=1")) == NULL)
		return (-1);
	u = uri + strlen(strcpy(uri, "file:"));
	for (p = path; *p != '\0'; p++) {
		if (*p == '%' || *p == '?' || *p == '#') {
			*u++ = '%';
			*u++ = hex[(unsigned char)*p >> 4];
			*u++ = hex[(unsigned char)*p & 0xf];
		} else
			*u++ = *p;
	}
	strcpy(u, "?mode=ro&immutable=1");
	if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		goto out;
	appid = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if ((uint32_t)appid != PUBSTORE_APPID)
		goto out;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM pub", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		goto out;
	*n = (uint64_t)sqlite3_column_int64(st, 0);
	rc = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(uri);
	return (rc);
}

/* Rows not yet discarded; an SQL count (status only). */
static uint64_t
sql_unpersisted(struct pubstore *b)
{
	struct pubsql	*ps = (struct pubsql *)b;
	int64_t	 v;

	sqlite3_bind_int64(ps->st_count, 1,
	    (sqlite3_int64)ps->discard_pending);
	if (pubstore_scalar(ps, ps->st_count, &v) != 0 || v < 0)
		return (0);
	return ((uint64_t)v);
}

/* Rows removed because AMPS persisted them (committed), since open. */
static uint64_t
sql_acked(const struct pubstore *b)
{
	const struct pubsql	*ps = (const struct pubsql *)b;

	return (ps->acked);
}

/* Last sequence handed out (0 if none). */
static uint64_t
sql_last_seq(const struct pubstore *b)
{
	const struct pubsql	*ps = (const struct pubsql *)b;

	return (ps->next - 1);
}

/* Highest committed sequence (invariant 4). */
static uint64_t
sql_durable_seq(const struct pubstore *b)
{
	const struct pubsql	*ps = (const struct pubsql *)b;

	return (ps->durable);
}

/* Highest discard point requested. */
static uint64_t
sql_discarded_seq(const struct pubstore *b)
{
	const struct pubsql	*ps = (const struct pubsql *)b;

	return (ps->discard_pending);
}

/* Appends in the open transaction. */
static size_t
sql_pending_commit(const struct pubstore *b)
{
	const struct pubsql	*ps = (const struct pubsql *)b;

	return (ps->pending);
}

/* Health of the underlying store. */
static enum store_state
sql_state(const struct pubstore *b)
{
	const struct pubsql	*ps = (const struct pubsql *)b;

	return (store_state(ps->st));
}

/* The last error: ours if any, else the store's. */
static const char *
sql_error(const struct pubstore *b)
{
	const struct pubsql	*ps = (const struct pubsql *)b;

	return (store_error(ps->st));
}

/* The underlying store, to add to a store_set. */
static struct store *
sql_store(struct pubstore *b)
{
	struct pubsql	*ps = (struct pubsql *)b;

	return (ps->st);
}

/* Leave DEGRADED with a probe commit (store.h). */
static int
sql_probe(struct pubstore *b)
{
	struct pubsql	*ps = (struct pubsql *)b;

	return (store_probe(ps->st));
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
	.probe = sql_probe,
	.unpersisted = sql_unpersisted,
	.acked = sql_acked,
	.last_seq = sql_last_seq,
	.durable_seq = sql_durable_seq,
	.discarded_seq = sql_discarded_seq,
	.pending_commit = sql_pending_commit,
	.state = sql_state,
	.error = sql_error,
	.store = sql_store,
	.memory = NULL,
};
