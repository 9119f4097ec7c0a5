/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * pubstore.c: the durable publish store of one upstream connection
 * (PROTOCOL.md §7.2-§7.5; DESIGN.md §3 "Publish", §4 promise 1, §7).
 *
 * It owns three tables in its own SQLite file (via store.c), schema
 * version 2:
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
 *
 *  5. Transmit horizon: sent_disk (meta.sent, committed) >= every seq
 *     that any process ever handed to a socket.  It is raised only by a
 *     commit made while the store is online (pubstore_logon() until
 *     pubstore_set_online(0)), to next - 1 in that commit, and rows are
 *     sent only up to pubstore_sendable_seq() = min(durable, sent_disk).
 *     So a row above the horizon was never transmitted: its number may
 *     change (pubstore_logon() renumbers such rows above the server's
 *     sequence, by one delta, keeping their order and after every row
 *     at or below the horizon, which keep theirs: the server's
 *     duplicate check by seq is what protects a row that may have been
 *     sent).
 *
 *  6. Every row passed to a replay callback as good matched its crc;
 *     a row that does not is passed with damaged = 1, moved to
 *     quarantine in a transaction of its own, and never sent.
 */

#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "pubstore.h"
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

/* Highest sequence we store (SQLite integers are signed 64-bit). */
#define PUBSTORE_SEQ_MAX	((uint64_t)INT64_MAX - 1)

struct pubstore {
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
	uint64_t	 acked_disk;	  /* meta.acked, committed */
	uint64_t	 acked_seq_txn;	  /* meta.acked written in open txn */
	uint64_t	 sent_disk;	  /* meta.sent, committed (inv. 5) */
	uint64_t	 sent_txn;	  /* meta.sent written in open txn */
	int		 online;	  /* commits raise the horizon */
	uint64_t	 quarantined;	  /* damaged rows found, since open */
	uint64_t	 renumbered;	  /* rows renumbered, since open */

	sqlite3_stmt	*st_ins;
	sqlite3_stmt	*st_del_upto;
	sqlite3_stmt	*st_del_one;
	sqlite3_stmt	*st_set_meta;
	sqlite3_stmt	*st_get_meta;
	sqlite3_stmt	*st_max;
	sqlite3_stmt	*st_replay;
	sqlite3_stmt	*st_count;
	sqlite3_stmt	*st_count_range;
	sqlite3_stmt	*st_min_above;
	sqlite3_stmt	*st_renum_neg;
	sqlite3_stmt	*st_renum_set;
	sqlite3_stmt	*st_quarantine;

	char		 err[256];
};

/* Write meta.k = v in the open transaction; 0 or -1. */
static int
pubstore_set_meta(struct pubstore *ps, const char *k, uint64_t v)
{
	sqlite3_bind_text(ps->st_set_meta, 1, k, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ps->st_set_meta, 2, (sqlite3_int64)v);
	return (store_exec(ps->st, ps->st_set_meta) == -1 ? -1 : 0);
}

/*
 * Pre-commit hook: deferred DELETE, the persisted point, the sequence
 * floor and the transmit horizon (invariants 1, 3, 5).
 */
static int
pubstore_precommit(void *arg)
{
	struct pubstore	*ps = arg;

	int		 deleting = ps->floor_dirty;

	if (ps->discard_pending > ps->discard_applied) {
		sqlite3_bind_int64(ps->st_del_upto, 1,
		    (sqlite3_int64)ps->discard_pending);
		if (store_exec(ps->st, ps->st_del_upto) == -1)
			return (-1);
		ps->acked_txn = (uint64_t)store_changes(ps->st);
		ps->discard_txn = ps->discard_pending;
		deleting = 1;
		if (ps->discard_pending > ps->acked_disk) {
			if (pubstore_set_meta(ps, "acked",
			    ps->discard_pending) != 0)
				return (-1);
			ps->acked_seq_txn = ps->discard_pending;
		}
	}
	ps->floor_txn = ps->floor_dirty;
	if (deleting && ps->next != ps->next_disk) {
		if (pubstore_set_meta(ps, "next_seq", ps->next) != 0)
			return (-1);
		ps->next_txn = ps->next;
	}
	if (ps->online && ps->next - 1 > ps->sent_disk) {
		if (pubstore_set_meta(ps, "sent", ps->next - 1) != 0)
			return (-1);
		ps->sent_txn = ps->next - 1;
	}
	return (0);
}

/* Post-commit hook: advance the committed marks, or forget the txn. */
static void
pubstore_postcommit(void *arg, int ok)
{
	struct pubstore	*ps = arg;

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
		if (ps->acked_seq_txn > ps->acked_disk)
			ps->acked_disk = ps->acked_seq_txn;
		if (ps->sent_txn > ps->sent_disk)
			ps->sent_disk = ps->sent_txn;
	}
	ps->acked_seq_txn = 0;
	ps->sent_txn = 0;
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
	struct pubstore	*ps = arg;

	return (ps->discard_pending > ps->discard_applied ||
	    (ps->floor_dirty && ps->next != ps->next_disk) ||
	    (ps->online && ps->next - 1 > ps->sent_disk));
}

/* Read a single integer from a one-row query; -1 on error. */
static int
pubstore_scalar(struct pubstore *ps, sqlite3_stmt *st, int64_t *v)
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

/* Read meta.k into *v; -1 on error (a missing key reads as 0). */
static int
pubstore_meta(struct pubstore *ps, const char *k, int64_t *v)
{
	sqlite3_bind_text(ps->st_get_meta, 1, k, -1, SQLITE_STATIC);
	return (pubstore_scalar(ps, ps->st_get_meta, v));
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
 * Open the publish store at path.  See pubstore.h.  Returns NULL with
 * *cause set on failure; the file is then untouched.
 */
struct pubstore *
pubstore_open(const char *path, enum store_durability dur, int flags,
    char **cause)
{
	struct pubstore		*ps;
	struct store_hooks	 h;
	int64_t			 next, max, acked, sent;

	if ((ps = calloc(1, sizeof *ps)) == NULL) {
		if (cause != NULL)
			*cause = strdup("out of memory");
		return (NULL);
	}
	if ((ps->st = store_open(path, &pubstore_schema, dur, flags,
	    cause)) == NULL) {
		free(ps);
		return (NULL);
	}
	if (store_prepare(ps->st, "INSERT INTO pub (seq, kind, topic, hdr, "
	    "data, crc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &ps->st_ins,
	    cause) != 0 ||
	    store_prepare(ps->st, "DELETE FROM pub WHERE seq <= ?1",
	    &ps->st_del_upto, cause) != 0 ||
	    store_prepare(ps->st, "DELETE FROM pub WHERE seq = ?1",
	    &ps->st_del_one, cause) != 0 ||
	    store_prepare(ps->st, "UPDATE meta SET v = ?2 WHERE k = ?1",
	    &ps->st_set_meta, cause) != 0 ||
	    store_prepare(ps->st, "SELECT v FROM meta WHERE k = ?1",
	    &ps->st_get_meta, cause) != 0 ||
	    store_prepare(ps->st, "SELECT max(seq) FROM pub", &ps->st_max,
	    cause) != 0 ||
	    store_prepare(ps->st, "SELECT seq, kind, topic, hdr, data, crc "
	    "FROM pub WHERE seq > ?1 ORDER BY seq LIMIT ?2", &ps->st_replay,
	    cause) != 0 ||
	    store_prepare(ps->st, "SELECT count(*) FROM pub WHERE seq > ?1",
	    &ps->st_count, cause) != 0 ||
	    store_prepare(ps->st, "SELECT count(*) FROM pub WHERE seq > ?1 "
	    "AND seq <= ?2", &ps->st_count_range, cause) != 0 ||
	    store_prepare(ps->st, "SELECT min(seq) FROM pub WHERE seq > ?1",
	    &ps->st_min_above, cause) != 0 ||
	    store_prepare(ps->st, "UPDATE pub SET seq = -seq WHERE seq > ?1",
	    &ps->st_renum_neg, cause) != 0 ||
	    store_prepare(ps->st, "UPDATE pub SET seq = ?1 - seq, crc = "
	    "ampsd_crc32c(?1 - seq, kind, topic, hdr, data) WHERE seq < 0",
	    &ps->st_renum_set, cause) != 0 ||
	    store_prepare(ps->st, "INSERT OR REPLACE INTO quarantine (seq, "
	    "kind, topic, hdr, data, crc, why) SELECT seq, kind, topic, hdr, "
	    "data, crc, ?2 FROM pub WHERE seq = ?1", &ps->st_quarantine,
	    cause) != 0)
		goto fail;

	if (pubstore_meta(ps, "next_seq", &next) != 0 ||
	    pubstore_meta(ps, "acked", &acked) != 0 ||
	    pubstore_meta(ps, "sent", &sent) != 0 ||
	    pubstore_scalar(ps, ps->st_max, &max) != 0) {
		if (cause != NULL && asprintf(cause, "%s",
		    store_error(ps->st)) == -1)
			*cause = NULL;
		goto fail;
	}
	if (next < 1 || max < 0 || acked < 0 || sent < 0) {
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
	/* A persisted point beyond the counter cannot be: clamp it. */
	ps->acked_disk = (uint64_t)acked < ps->next ? (uint64_t)acked :
	    ps->next - 1;
	ps->discard_pending = ps->discard_applied = ps->acked_disk;
	ps->sent_disk = (uint64_t)sent;

	memset(&h, 0, sizeof h);
	h.precommit = pubstore_precommit;
	h.postcommit = pubstore_postcommit;
	h.needtxn = pubstore_needtxn;
	h.arg = ps;
	store_set_hooks(ps->st, &h);
	return (ps);
fail:
	store_close(ps->st);
	free(ps);
	return (NULL);
}

/* Close: uncommitted rows are rolled back.  Accepts NULL. */
void
pubstore_close(struct pubstore *ps)
{
	if (ps == NULL)
		return;
	store_close(ps->st);
	free(ps);
}

/* Remember an error of our own (not from SQLite). */
static void __attribute__((__format__(printf, 2, 3)))
pubstore_seterr(struct pubstore *ps, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(ps->err, sizeof ps->err, fmt, ap);
	va_end(ap);
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
 * this returns.  Returns 0 with *seq set, or -1: a length above the
 * PUBSTORE_MAX_* limits, a bad kind, an exhausted counter, the store
 * degraded, or SQLite failing (pubstore_error() says which).
 */
int
pubstore_append(struct pubstore *ps, const struct pubstore_rec *rec,
    uint64_t *seq)
{
	sqlite3_stmt	*st = ps->st_ins;
	uint64_t	 s;

	assert(ps != NULL && rec != NULL && seq != NULL);
	ps->err[0] = '\0';
	if (rec->topic == NULL || rec->topic_len == 0 ||
	    rec->topic_len > PUBSTORE_MAX_TOPIC) {
		pubstore_seterr(ps, "publish store: topic length %zu out of "
		    "range (1..%d)", rec->topic_len, PUBSTORE_MAX_TOPIC);
		return (-1);
	}
	if (rec->hdr_len > PUBSTORE_MAX_HDR ||
	    rec->data_len > PUBSTORE_MAX_DATA) {
		pubstore_seterr(ps, "publish store: header (%zu) or payload "
		    "(%zu) too long", rec->hdr_len, rec->data_len);
		return (-1);
	}
	if (rec->kind != PUBSTORE_PUBLISH &&
	    rec->kind != PUBSTORE_DELTA_PUBLISH &&
	    rec->kind != PUBSTORE_SOW_DELETE) {
		pubstore_seterr(ps, "publish store: bad kind %d",
		    (int)rec->kind);
		return (-1);
	}
	if (ps->next > PUBSTORE_SEQ_MAX) {
		pubstore_seterr(ps, "publish store: sequence exhausted");
		return (-1);
	}
	if (store_begin(ps->st) != 0)
		return (-1);

	s = ps->next;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)s);
	sqlite3_bind_int(st, 2, (int)rec->kind);
	pubstore_bind(st, 3, rec->topic, rec->topic_len);
	pubstore_bind(st, 4, rec->hdr, rec->hdr_len);
	pubstore_bind(st, 5, rec->data, rec->data_len);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)pubstore_rowcrc(s, rec->kind,
	    rec->topic, rec->topic_len, rec->hdr, rec->hdr_len, rec->data,
	    rec->data_len));
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
void
pubstore_discard_upto(struct pubstore *ps, uint64_t seq)
{
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
int
pubstore_fail(struct pubstore *ps, uint64_t seq)
{
	assert(ps != NULL);
	ps->err[0] = '\0';
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
void
pubstore_seed(struct pubstore *ps, uint64_t s)
{
	assert(ps != NULL);
	if (s >= PUBSTORE_SEQ_MAX)
		s = PUBSTORE_SEQ_MAX;
	if (s + 1 > ps->next) {
		ps->next = s + 1;
		ps->floor_dirty = 1;
	}
}

/*
 * Move row seq to the quarantine table in this pass's transaction
 * (invariant 6).  Returns 0 or -1.
 */
static int
pubstore_quarantine(struct pubstore *ps, uint64_t seq, const char *why)
{
	if (store_begin(ps->st) != 0)
		return (-1);
	sqlite3_bind_int64(ps->st_quarantine, 1, (sqlite3_int64)seq);
	sqlite3_bind_text(ps->st_quarantine, 2, why, -1, SQLITE_TRANSIENT);
	if (store_exec(ps->st, ps->st_quarantine) == -1)
		return (-1);
	sqlite3_bind_int64(ps->st_del_one, 1, (sqlite3_int64)seq);
	if (store_exec(ps->st, ps->st_del_one) == -1)
		return (-1);
	ps->floor_dirty = 1;		/* a delete: keep the counter */
	return (0);
}

/*
 * Replay rows with seq > max(after_seq, discard point), ascending, at
 * most limit of them (0: all).  A row whose checksum does not match is
 * passed with damaged set, then quarantined, and the replay stops there
 * (invariant 6).  Returns the count passed to cb, or -1.
 */
int64_t
pubstore_replay(struct pubstore *ps, uint64_t after_seq, size_t limit,
    pubstore_replay_cb cb, void *arg)
{
	sqlite3_stmt		*st = ps->st_replay;
	struct pubstore_rec	 r;
	int64_t			 n = 0, crc;
	int			 rc, stop;
	uint64_t		 bad = 0;
	char			 why[128];

	assert(ps != NULL && cb != NULL);
	ps->err[0] = '\0';
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
		crc = sqlite3_column_int64(st, 5);
		if (crc != (int64_t)pubstore_rowcrc(r.seq, (int)r.kind,
		    r.topic, r.topic_len, r.hdr, r.hdr_len, r.data,
		    r.data_len) || r.topic_len == 0 ||
		    (r.kind != PUBSTORE_PUBLISH &&
		    r.kind != PUBSTORE_DELTA_PUBLISH &&
		    r.kind != PUBSTORE_SOW_DELETE)) {
			r.damaged = 1;
			bad = r.seq;
		}
		n++;
		stop = cb(&r, arg);
		if (stop != 0 || bad != 0) {
			sqlite3_reset(st);
			break;
		}
	}
	sqlite3_clear_bindings(st);
	if (rc == -1)
		return (-1);
	if (bad != 0) {
		ps->quarantined++;
		snprintf(why, sizeof why, "checksum mismatch (found on "
		    "replay)");
		if (pubstore_quarantine(ps, bad, why) != 0)
			pubstore_seterr(ps, "publish store: cannot quarantine "
			    "damaged message %llu: %s", (unsigned long long)bad,
			    store_error(ps->st));
		else
			pubstore_seterr(ps, "publish store: message %llu "
			    "failed its checksum; moved to the quarantine "
			    "table of %s", (unsigned long long)bad,
			    store_path(ps->st));
	}
	return (n);
}

/*
 * The logon ack says the server holds s for our client name (see
 * pubstore.h; invariant 5).  Renumber the rows above the horizon that
 * would fall at or below s, take everything <= s as persisted, seed the
 * counter, go online, and commit at once.
 */
int
pubstore_logon(struct pubstore *ps, uint64_t s, struct pubstore_logon *lo)
{
	int64_t		 m, v;
	uint64_t	 h, delta = 0, durable = ps->durable;

	assert(ps != NULL && lo != NULL);
	memset(lo, 0, sizeof *lo);
	ps->err[0] = '\0';
	if (s > PUBSTORE_SEQ_MAX / 2) {
		pubstore_seterr(ps, "publish store: server sequence %llu out "
		    "of range", (unsigned long long)s);
		return (-1);
	}
	h = ps->sent_disk;
	lo->horizon = h;
	sqlite3_bind_int64(ps->st_min_above, 1, (sqlite3_int64)h);
	if (pubstore_scalar(ps, ps->st_min_above, &m) != 0)
		return (-1);
	if (m > 0 && (uint64_t)m <= s) {
		delta = s + 1 - (uint64_t)m;
		if (ps->next - 1 + delta > PUBSTORE_SEQ_MAX) {
			pubstore_seterr(ps, "publish store: sequence "
			    "exhausted");
			return (-1);
		}
		if (store_begin(ps->st) != 0)
			return (-1);
		sqlite3_bind_int64(ps->st_renum_neg, 1, (sqlite3_int64)h);
		if (store_exec(ps->st, ps->st_renum_neg) == -1)
			return (-1);
		lo->renumbered = (uint64_t)store_changes(ps->st);
		sqlite3_bind_int64(ps->st_renum_set, 1, (sqlite3_int64)delta);
		if (store_exec(ps->st, ps->st_renum_set) == -1)
			return (-1);
		lo->after = h;
		lo->delta = delta;
		lo->first = (uint64_t)m;
		lo->last = ps->next - 1;
		ps->next += delta;
		ps->floor_dirty = 1;
		if (ps->durable > h)
			ps->durable += delta;
		if (ps->txn_last > h)
			ps->txn_last += delta;
	}
	if (s > h) {
		/* Rows the server's number covers although it is not ours. */
		sqlite3_bind_int64(ps->st_count_range, 1,
		    (sqlite3_int64)ps->discard_pending);
		sqlite3_bind_int64(ps->st_count_range, 2, (sqlite3_int64)h);
		if (pubstore_scalar(ps, ps->st_count_range, &v) != 0)
			goto lost;
		lo->assumed = v > 0 ? (uint64_t)v : 0;
	}
	pubstore_discard_upto(ps, s);
	pubstore_seed(ps, s);
	ps->online = 1;
	if (store_commit(ps->st) != 0)
		goto lost;
	ps->renumbered += lo->renumbered;
	return (0);
lost:
	/* The renumbering did not happen: nothing moved on disk. */
	if (store_in_txn(ps->st))
		store_rollback(ps->st);
	ps->online = 0;
	ps->durable = durable;
	if (ps->err[0] == '\0')
		pubstore_seterr(ps, "%s", store_error(ps->st));
	memset(lo, 0, sizeof *lo);
	return (-1);
}

/* Whether commits raise the transmit horizon (see pubstore.h). */
void
pubstore_set_online(struct pubstore *ps, int on)
{
	ps->online = on != 0;
}

/* Whether the store is online (pubstore_logon() succeeded). */
int
pubstore_online(const struct pubstore *ps)
{
	return (ps->online);
}

/* The highest seq that may be sent now (invariant 5). */
uint64_t
pubstore_sendable_seq(const struct pubstore *ps)
{
	return (ps->durable < ps->sent_disk ? ps->durable : ps->sent_disk);
}

/* The committed transmit horizon (invariant 5). */
uint64_t
pubstore_sent_horizon(const struct pubstore *ps)
{
	return (ps->sent_disk);
}

/* Damaged rows found (and quarantined) since open. */
uint64_t
pubstore_quarantined(const struct pubstore *ps)
{
	return (ps->quarantined);
}

/* Rows renumbered by pubstore_logon() since open. */
uint64_t
pubstore_renumbered(const struct pubstore *ps)
{
	return (ps->renumbered);
}

/* The persisted point known at open, then as acks arrive. */
uint64_t
pubstore_acked_seq(const struct pubstore *ps)
{
	return (ps->acked_disk);
}

/* Commit this pass (see pubstore.h). */
int
pubstore_commit(struct pubstore *ps)
{
	return (store_commit(ps->st));
}

/* Rows not yet discarded; an SQL count (status only). */
uint64_t
pubstore_unpersisted(struct pubstore *ps)
{
	int64_t	 v;

	sqlite3_bind_int64(ps->st_count, 1,
	    (sqlite3_int64)ps->discard_pending);
	if (pubstore_scalar(ps, ps->st_count, &v) != 0 || v < 0)
		return (0);
	return ((uint64_t)v);
}

/* Rows removed because AMPS persisted them (committed), since open. */
uint64_t
pubstore_acked(const struct pubstore *ps)
{
	return (ps->acked);
}

/* Last sequence handed out (0 if none). */
uint64_t
pubstore_last_seq(const struct pubstore *ps)
{
	return (ps->next - 1);
}

/* Highest committed sequence (invariant 4). */
uint64_t
pubstore_durable_seq(const struct pubstore *ps)
{
	return (ps->durable);
}

/* Highest discard point requested. */
uint64_t
pubstore_discarded_seq(const struct pubstore *ps)
{
	return (ps->discard_pending);
}

/* Appends in the open transaction. */
size_t
pubstore_pending_commit(const struct pubstore *ps)
{
	return (ps->pending);
}

/* Health of the underlying store. */
enum store_state
pubstore_state(const struct pubstore *ps)
{
	return (store_state(ps->st));
}

/* The last error: ours if any, else the store's. */
const char *
pubstore_error(const struct pubstore *ps)
{
	if (ps->err[0] != '\0')
		return (ps->err);
	return (store_error(ps->st));
}

/* The underlying store, to add to a store_set. */
struct store *
pubstore_store(struct pubstore *ps)
{
	return (ps->st);
}
