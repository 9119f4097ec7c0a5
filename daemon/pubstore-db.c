/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * pubstore-db.c: the SQLite file of a durable publish store (PROTOCOL.md
 * §7.2-§7.5; DESIGN.md §4 promise 1, §7), under pubstore-sqlite.c, which
 * keeps the rows in memory and commits them here in batches
 * (pubstore-db.h).  It owns two tables in the file (via store.c):
 *
 *	pub(seq INTEGER PRIMARY KEY, kind, topic, hdr, data)
 *		one row per publish/delta_publish/sow_delete not yet
 *		reported persisted by the server; seq is the rowid, so rows
 *		are appended at the right of the b-tree and deleted from
 *		the left.
 *	meta(k, v): 'next_seq' = the floor of the next sequence.
 *
 * A batch is one transaction: its inserts, the delete of the persisted
 * prefix (one DELETE per commit, never a transaction of its own while
 * appends are flowing), the deletes of refused rows, the sequence floor,
 * then COMMIT (an fdatasync with synchronous=FULL).  pubdb_apply() may
 * run on the commit thread (committer.c): it touches only the batch and
 * this file's connection, which nothing else uses meanwhile.  It never
 * prints.
 *
 * Invariants:
 *  1. On disk, every committed seq is covered either by a row still
 *     present or by meta.next_seq: a batch that deletes rows or follows
 *     a seed carries the floor (pubstore-sqlite.c builds it so).  On
 *     open, next = max(meta.next_seq, max(pub.seq) + 1, 1).
 *  2. A batch is all or nothing: a failed statement rolls the
 *     transaction back (store.c invariant 4) and the batch reports
 *     ok = 0; the store's state and error say why.
 */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "pubqueue.h"
#include "pubstore-db.h"
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

struct pubdb {
	struct store	*st;
	sqlite3_stmt	*st_ins;
	sqlite3_stmt	*st_del_upto;
	sqlite3_stmt	*st_del_one;
	sqlite3_stmt	*st_set_next;
	sqlite3_stmt	*st_get_next;
	sqlite3_stmt	*st_max;
	sqlite3_stmt	*st_read;
	sqlite3_stmt	*st_count;
};

/* Read a single integer from a one-row query; -1 on error. */
static int
pubdb_scalar(struct pubdb *db, sqlite3_stmt *st, int64_t *v)
{
	int	 rc;

	*v = 0;
	rc = store_step(db->st, st);
	if (rc == -1)
		return (-1);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	return (0);
}

/* Set *cause to a copy of msg (if cause is not NULL). */
static void
pubdb_cause(char **cause, const char *msg)
{
	if (cause != NULL && asprintf(cause, "%s", msg) == -1)
		*cause = NULL;
}

/*
 * Open the file (store_open()'s checks and flags) and read its counters
 * (invariant 1).  NULL with *cause set; the file is then untouched.
 */
struct pubdb *
pubdb_open(const char *path, enum store_durability dur, int flags,
    struct pubdb_info *info, char **cause)
{
	struct pubdb	*db;
	int64_t		 next, max;
	char		 buf[512];

	if ((db = calloc(1, sizeof *db)) == NULL) {
		pubdb_cause(cause, "out of memory");
		return (NULL);
	}
	if ((db->st = store_open(path, &pubstore_schema, dur, flags,
	    cause)) == NULL) {
		free(db);
		return (NULL);
	}
	if (store_prepare(db->st, "INSERT INTO pub (seq, kind, topic, hdr, "
	    "data) VALUES (?1, ?2, ?3, ?4, ?5)", &db->st_ins, cause) != 0 ||
	    store_prepare(db->st, "DELETE FROM pub WHERE seq <= ?1",
	    &db->st_del_upto, cause) != 0 ||
	    store_prepare(db->st, "DELETE FROM pub WHERE seq = ?1",
	    &db->st_del_one, cause) != 0 ||
	    store_prepare(db->st, "UPDATE meta SET v = ?1 WHERE k = "
	    "'next_seq'", &db->st_set_next, cause) != 0 ||
	    store_prepare(db->st, "SELECT v FROM meta WHERE k = 'next_seq'",
	    &db->st_get_next, cause) != 0 ||
	    store_prepare(db->st, "SELECT max(seq) FROM pub", &db->st_max,
	    cause) != 0 ||
	    store_prepare(db->st, "SELECT seq, kind, topic, hdr, data FROM "
	    "pub WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
	    &db->st_read, cause) != 0 ||
	    store_prepare(db->st, "SELECT count(*) FROM pub WHERE seq > ?1 "
	    "AND seq <= ?2", &db->st_count, cause) != 0)
		goto fail;
	if (pubdb_scalar(db, db->st_get_next, &next) != 0 ||
	    pubdb_scalar(db, db->st_max, &max) != 0) {
		pubdb_cause(cause, store_error(db->st));
		goto fail;
	}
	if (next < 1 || max < 0) {
		snprintf(buf, sizeof buf, "%s: publish store has a bad "
		    "sequence counter (%lld, max %lld); refusing to use it",
		    path, (long long)next, (long long)max);
		pubdb_cause(cause, buf);
		goto fail;
	}
	info->next_disk = (uint64_t)next;
	info->max = (uint64_t)max;
	info->next = info->next_disk;
	if (info->max + 1 > info->next)
		info->next = info->max + 1;
	return (db);
fail:
	pubdb_close(db);
	return (NULL);
}

/* Close; nothing is left uncommitted here (batches are whole). */
void
pubdb_close(struct pubdb *db)
{
	if (db == NULL)
		return;
	store_close(db->st);
	free(db);
}

/* Bind a blob, never as NULL (a zero-length blob for len 0). */
static int
pubstore_bind(sqlite3_stmt *st, int i, const void *p, size_t len)
{
	if (len == 0 || p == NULL)
		return (sqlite3_bind_zeroblob(st, i, 0));
	return (sqlite3_bind_blob(st, i, p, (int)len, SQLITE_STATIC));
}

/* Monotonic seconds. */
static double
pubdb_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* Step one bound write statement of the batch; -1 lost the transaction. */
static int
pubdb_exec(struct pubdb *db, sqlite3_stmt *st)
{
	return (store_exec(db->st, st) == -1 ? -1 : 0);
}

/*
 * Apply a batch in one transaction (invariant 2).  Safe on the commit
 * thread: it uses only b and db.
 */
void
pubdb_apply(struct pubdb *db, struct pubdb_batch *b)
{
	struct pubqueue_rec	*r;
	double			 t0 = pubdb_now();
	size_t			 i;

	b->ok = 0;
	b->deleted = 0;
	if (store_begin(db->st) != 0)
		goto out;
	for (i = 0; i < b->nrecs; i++) {
		r = b->recs[i];
		sqlite3_bind_int64(db->st_ins, 1, (sqlite3_int64)r->seq);
		sqlite3_bind_int(db->st_ins, 2, r->kind);
		pubstore_bind(db->st_ins, 3, PUBQUEUE_TOPIC(r), r->topic_len);
		pubstore_bind(db->st_ins, 4, PUBQUEUE_HDR(r), r->hdr_len);
		pubstore_bind(db->st_ins, 5, PUBQUEUE_DATA(r), r->data_len);
		if (pubdb_exec(db, db->st_ins) == -1)
			goto commit;
	}
	if (b->discard > 0) {
		sqlite3_bind_int64(db->st_del_upto, 1,
		    (sqlite3_int64)b->discard);
		if (pubdb_exec(db, db->st_del_upto) == -1)
			goto commit;
		b->deleted = (uint64_t)store_changes(db->st);
	}
	for (i = 0; i < b->nfails; i++) {
		sqlite3_bind_int64(db->st_del_one, 1,
		    (sqlite3_int64)b->fails[i]);
		if (pubdb_exec(db, db->st_del_one) == -1)
			goto commit;
	}
	if (b->floor > 0) {
		sqlite3_bind_int64(db->st_set_next, 1,
		    (sqlite3_int64)b->floor);
		if (pubdb_exec(db, db->st_set_next) == -1)
			goto commit;
	}
commit:
	/* After a failed statement this only reports the loss. */
	b->ok = store_commit(db->st) == 0;
out:
	b->secs = pubdb_now() - t0;
}

/* Rows in (after, upto], ascending, skipping skip[] (sorted). */
int64_t
pubdb_read(struct pubdb *db, uint64_t after, uint64_t upto,
    const uint64_t *skip, size_t nskip, size_t limit,
    pubstore_replay_cb cb, void *arg)
{
	sqlite3_stmt		*st = db->st_read;
	struct pubstore_rec	 r;
	int64_t			 n = 0;
	size_t			 k = 0;
	int			 rc;

	if (after >= upto || upto > (uint64_t)INT64_MAX)
		return (0);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)upto);
	sqlite3_bind_int64(st, 3, -1);
	while ((rc = store_step(db->st, st)) == SQLITE_ROW) {
		memset(&r, 0, sizeof r);
		r.seq = (uint64_t)sqlite3_column_int64(st, 0);
		while (k < nskip && skip[k] < r.seq)
			k++;
		if (k < nskip && skip[k] == r.seq)
			continue;
		r.kind = (enum pubstore_kind)sqlite3_column_int(st, 1);
		r.topic = sqlite3_column_blob(st, 2);
		r.topic_len = (size_t)sqlite3_column_bytes(st, 2);
		r.hdr = sqlite3_column_blob(st, 3);
		r.hdr_len = (size_t)sqlite3_column_bytes(st, 3);
		r.data = sqlite3_column_blob(st, 4);
		r.data_len = (size_t)sqlite3_column_bytes(st, 4);
		n++;
		if (cb(&r, arg) != 0 || (limit != 0 && (size_t)n == limit)) {
			sqlite3_reset(st);
			break;
		}
	}
	sqlite3_clear_bindings(st);
	return (rc == -1 ? -1 : n);
}

/* Rows in (after, upto]. */
int
pubdb_count(struct pubdb *db, uint64_t after, uint64_t upto, uint64_t *n)
{
	int64_t	 v;

	*n = 0;
	if (after >= upto || upto > (uint64_t)INT64_MAX)
		return (0);
	sqlite3_bind_int64(db->st_count, 1, (sqlite3_int64)after);
	sqlite3_bind_int64(db->st_count, 2, (sqlite3_int64)upto);
	if (pubdb_scalar(db, db->st_count, &v) != 0 || v < 0)
		return (-1);
	*n = (uint64_t)v;
	return (0);
}

/* The underlying store (probe, metrics, tests). */
struct store *
pubdb_store(struct pubdb *db)
{
	return (db->st);
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
