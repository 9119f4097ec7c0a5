/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * pubstore-db.c: the SQLite file of a durable publish store (PROTOCOL.md
 * §7.2-§7.5; DESIGN.md §4 promise 1, §7), under pubstore-sqlite.c, which
 * keeps the rows in memory and commits them here in batches
 * (pubstore-db.h).  It owns three tables in the file (via store.c),
 * schema version 2:
 *
 *	pub(seq INTEGER PRIMARY KEY, kind, topic, hdr, data, crc)
 *		one row per publish/delta_publish/sow_delete not yet
 *		reported persisted by the server; seq is the rowid, so rows
 *		are appended at the right of the b-tree and deleted from
 *		the left.  crc is the CRC-32C of (seq, kind, topic, hdr,
 *		data) as store_crc_int()/store_crc_blob() compute it.
 *	meta(k, v): 'next_seq' = the floor of the next sequence;
 *		'acked' = the highest seq the server reported persisted
 *		(rows up to it are deleted); 'sent' = the transmit horizon:
 *		no row above it has ever been handed to a socket.
 *	quarantine(seq, kind, topic, hdr, data, crc, why)
 *		rows that failed their checksum, kept for inspection and
 *		never sent.
 *
 * Version 1 (no crc, no acked, no sent, no quarantine) is migrated in
 * place: every row gets the checksum of what it holds, 'sent' becomes
 * next_seq - 1 (any old row may have been sent: it keeps its number),
 * 'acked' 0.  store.c refuses a newer version with a clear message.
 *
 * A batch is one transaction: a logon's renumbering, the inserts (each
 * with its checksum), the delete of the persisted prefix (one DELETE per
 * commit, never a transaction of its own while appends are flowing),
 * the deletes of refused rows, the meta rows, then COMMIT (an fdatasync
 * with synchronous=FULL).  pubdb_apply() may run on the commit thread
 * (committer.c): it touches only the batch and this file's connection,
 * which nothing else uses meanwhile.  It never prints.
 *
 * Invariants:
 *  1. On disk, every committed seq is covered either by a row still
 *     present or by meta.next_seq: a batch that deletes rows or follows
 *     a seed carries the floor (pubstore-sqlite.c builds it so).  On
 *     open, next = max(meta.next_seq, max(pub.seq) + 1, 1).
 *  2. A batch is all or nothing: a failed statement rolls the
 *     transaction back (store.c invariant 4) and the batch reports
 *     ok = 0; the store's state and error say why.
 *  3. Every row written carries the checksum of its own (final) seq and
 *     fields; a row read back whose checksum does not match is reported
 *     damaged and never passed as good (pubdb_read()).
 */

#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "pubqueue.h"
#include "pubstore-db.h"
#include "store.h"

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
	/* 1 -> 2: checksums, persisted point, transmit horizon, quarantine */
	"ALTER TABLE pub ADD COLUMN crc INTEGER NOT NULL DEFAULT 0;"
	"UPDATE pub SET crc = ampsd_crc32c(seq, kind, topic, hdr, data);"
	"INSERT INTO meta (k, v) VALUES ('acked', 0);"
	"INSERT INTO meta (k, v) SELECT 'sent', max(v - 1, "
	"  coalesce((SELECT max(seq) FROM pub), 0)) FROM meta "
	"  WHERE k = 'next_seq';"
	"CREATE TABLE quarantine ("
	"  seq INTEGER PRIMARY KEY,"
	"  kind INTEGER NOT NULL,"
	"  topic BLOB NOT NULL,"
	"  hdr BLOB NOT NULL,"
	"  data BLOB NOT NULL,"
	"  crc INTEGER NOT NULL,"
	"  why TEXT NOT NULL);",
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
	sqlite3_stmt	*st_set_meta;
	sqlite3_stmt	*st_get_meta;
	sqlite3_stmt	*st_max;
	sqlite3_stmt	*st_read;
	sqlite3_stmt	*st_count;
	sqlite3_stmt	*st_min_above;
	sqlite3_stmt	*st_renum_neg;
	sqlite3_stmt	*st_renum_set;
	sqlite3_stmt	*st_quarantine;
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

/* Read meta.k into *v; -1 on error (a missing key reads as 0). */
static int
pubdb_meta(struct pubdb *db, const char *k, int64_t *v)
{
	sqlite3_bind_text(db->st_get_meta, 1, k, -1, SQLITE_STATIC);
	return (pubdb_scalar(db, db->st_get_meta, v));
}

/* Write meta.k = v in the open transaction; 0 or -1. */
static int
pubdb_set_meta(struct pubdb *db, const char *k, uint64_t v)
{
	sqlite3_bind_text(db->st_set_meta, 1, k, -1, SQLITE_STATIC);
	sqlite3_bind_int64(db->st_set_meta, 2, (sqlite3_int64)v);
	return (store_exec(db->st, db->st_set_meta) == -1 ? -1 : 0);
}

/* Set *cause to a copy of msg (if cause is not NULL). */
static void
pubdb_cause(char **cause, const char *msg)
{
	if (cause != NULL && asprintf(cause, "%s", msg) == -1)
		*cause = NULL;
}

/* The checksum of a row (invariant 6; the SQL ampsd_crc32c() agrees). */
static uint32_t
pubstore_rowcrc(uint64_t seq, int kind, const void *topic, size_t topic_len,
    const void *hdr, size_t hdr_len, const void *data, size_t data_len)
{
	uint32_t	 crc;

	crc = store_crc_int(0, (int64_t)seq);
	crc = store_crc_int(crc, kind);
	crc = store_crc_blob(crc, topic, topic_len);
	crc = store_crc_blob(crc, hdr, hdr_len);
	return (store_crc_blob(crc, data, data_len));
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
	int64_t		 next, max, acked, sent;
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
	    "data, crc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &db->st_ins,
	    cause) != 0 ||
	    store_prepare(db->st, "DELETE FROM pub WHERE seq <= ?1",
	    &db->st_del_upto, cause) != 0 ||
	    store_prepare(db->st, "DELETE FROM pub WHERE seq = ?1",
	    &db->st_del_one, cause) != 0 ||
	    store_prepare(db->st, "UPDATE meta SET v = ?2 WHERE k = ?1",
	    &db->st_set_meta, cause) != 0 ||
	    store_prepare(db->st, "SELECT v FROM meta WHERE k = ?1",
	    &db->st_get_meta, cause) != 0 ||
	    store_prepare(db->st, "SELECT max(seq) FROM pub", &db->st_max,
	    cause) != 0 ||
	    store_prepare(db->st, "SELECT seq, kind, topic, hdr, data, crc "
	    "FROM pub WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
	    &db->st_read, cause) != 0 ||
	    store_prepare(db->st, "SELECT count(*) FROM pub WHERE seq > ?1 "
	    "AND seq <= ?2", &db->st_count, cause) != 0 ||
	    store_prepare(db->st, "SELECT min(seq) FROM pub WHERE seq > ?1",
	    &db->st_min_above, cause) != 0 ||
	    store_prepare(db->st, "UPDATE pub SET seq = -seq WHERE seq > ?1",
	    &db->st_renum_neg, cause) != 0 ||
	    store_prepare(db->st, "UPDATE pub SET seq = ?1 - seq, crc = "
	    "ampsd_crc32c(?1 - seq, kind, topic, hdr, data) WHERE seq < 0",
	    &db->st_renum_set, cause) != 0 ||
	    store_prepare(db->st, "INSERT OR REPLACE INTO quarantine (seq, "
	    "kind, topic, hdr, data, crc, why) SELECT seq, kind, topic, hdr, "
	    "data, crc, ?2 FROM pub WHERE seq = ?1", &db->st_quarantine,
	    cause) != 0)
		goto fail;
	if (pubdb_meta(db, "next_seq", &next) != 0 ||
	    pubdb_meta(db, "acked", &acked) != 0 ||
	    pubdb_meta(db, "sent", &sent) != 0 ||
	    pubdb_scalar(db, db->st_max, &max) != 0) {
		pubdb_cause(cause, store_error(db->st));
		goto fail;
	}
	if (next < 1 || max < 0 || acked < 0 || sent < 0) {
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
	/* A persisted point beyond the counter cannot be: clamp it. */
	info->acked = (uint64_t)acked < info->next ? (uint64_t)acked :
	    info->next - 1;
	info->sent = (uint64_t)sent;
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

/* Insert one queued record with its checksum (invariant 3). */
static int
pubdb_insert(struct pubdb *db, const struct pubqueue_rec *r)
{
	sqlite3_stmt	*st = db->st_ins;

	sqlite3_bind_int64(st, 1, (sqlite3_int64)r->seq);
	sqlite3_bind_int(st, 2, r->kind);
	pubstore_bind(st, 3, PUBQUEUE_TOPIC(r), r->topic_len);
	pubstore_bind(st, 4, PUBQUEUE_HDR(r), r->hdr_len);
	pubstore_bind(st, 5, PUBQUEUE_DATA(r), r->data_len);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)pubstore_rowcrc(r->seq,
	    r->kind, PUBQUEUE_TOPIC(r), r->topic_len, PUBQUEUE_HDR(r),
	    r->hdr_len, PUBQUEUE_DATA(r), r->data_len));
	return (pubdb_exec(db, st));
}

/*
 * Apply a batch in one transaction (invariant 2).  Safe on the commit
 * thread: it uses only b and db.
 */
void
pubdb_apply(struct pubdb *db, struct pubdb_batch *b)
{
	double		 t0 = pubdb_now();
	size_t		 i;

	b->ok = 0;
	b->deleted = 0;
	b->renumbered = 0;
	if (store_begin(db->st) != 0)
		goto out;
	if (b->renum_delta > 0) {
		sqlite3_bind_int64(db->st_renum_neg, 1,
		    (sqlite3_int64)b->renum_after);
		if (pubdb_exec(db, db->st_renum_neg) == -1)
			goto commit;
		b->renumbered = (uint64_t)store_changes(db->st);
		sqlite3_bind_int64(db->st_renum_set, 1,
		    (sqlite3_int64)b->renum_delta);
		if (pubdb_exec(db, db->st_renum_set) == -1)
			goto commit;
	}
	for (i = 0; i < b->nrecs; i++)
		if (pubdb_insert(db, b->recs[i]) == -1)
			goto commit;
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
	if ((b->floor > 0 && pubdb_set_meta(db, "next_seq", b->floor) != 0) ||
	    (b->acked > 0 && pubdb_set_meta(db, "acked", b->acked) != 0) ||
	    (b->sent > 0 && pubdb_set_meta(db, "sent", b->sent) != 0))
		goto commit;
commit:
	/* After a failed statement this only reports the loss. */
	b->ok = store_commit(db->st) == 0;
out:
	b->secs = pubdb_now() - t0;
}

/*
 * Move row seq to the quarantine table, with the floor, in a transaction
 * of its own (invariant 3).  Returns 0 or -1.
 */
int
pubdb_quarantine(struct pubdb *db, uint64_t seq, uint64_t floor,
    const char *why)
{
	if (store_begin(db->st) != 0)
		return (-1);
	sqlite3_bind_int64(db->st_quarantine, 1, (sqlite3_int64)seq);
	sqlite3_bind_text(db->st_quarantine, 2, why, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(db->st_del_one, 1, (sqlite3_int64)seq);
	if (pubdb_exec(db, db->st_quarantine) == -1 ||
	    pubdb_exec(db, db->st_del_one) == -1 ||
	    pubdb_set_meta(db, "next_seq", floor) != 0) {
		(void)store_commit(db->st);	/* reports the loss */
		return (-1);
	}
	return (store_commit(db->st));
}

/*
 * Rows in (after, upto], ascending, skipping skip[] (sorted), at most
 * limit; a row that fails its checksum is passed damaged, then the read
 * stops and *bad names it (invariant 3).
 */
int64_t
pubdb_read(struct pubdb *db, uint64_t after, uint64_t upto,
    const uint64_t *skip, size_t nskip, size_t limit,
    pubstore_replay_cb cb, void *arg, uint64_t *bad)
{
	sqlite3_stmt		*st = db->st_read;
	struct pubstore_rec	 r;
	int64_t			 n = 0, crc;
	size_t			 k = 0;
	int			 rc;

	*bad = 0;
	if (after >= upto || upto > (uint64_t)INT64_MAX)
		return (0);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)upto);
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
		crc = sqlite3_column_int64(st, 5);
		if (crc != (int64_t)pubstore_rowcrc(r.seq, (int)r.kind,
		    r.topic, r.topic_len, r.hdr, r.hdr_len, r.data,
		    r.data_len) || r.topic_len == 0 ||
		    (r.kind != PUBSTORE_PUBLISH &&
		    r.kind != PUBSTORE_DELTA_PUBLISH &&
		    r.kind != PUBSTORE_SOW_DELETE)) {
			r.damaged = 1;
			*bad = r.seq;
		}
		n++;
		if (cb(&r, arg) != 0 || *bad != 0 ||
		    (limit != 0 && (size_t)n == limit)) {
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

/* The lowest seq of a row above after (0: none); -1 on error. */
int
pubdb_min_above(struct pubdb *db, uint64_t after, uint64_t *m)
{
	int64_t	 v;

	*m = 0;
	sqlite3_bind_int64(db->st_min_above, 1, (sqlite3_int64)after);
	if (pubdb_scalar(db, db->st_min_above, &v) != 0 || v < 0)
		return (-1);
	*m = (uint64_t)v;
	return (0);
}

/* The underlying store (probe, metrics, tests). */
struct store *
pubdb_store(struct pubdb *db)
{
	return (db->st);
}
