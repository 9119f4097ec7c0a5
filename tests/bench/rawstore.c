/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * rawstore: the publish store's insert + delete-previous + commit pattern
 * written straight to SQLite, as the ceiling the store and the whole
 * publish path are measured against (docs/BENCHMARKS.md).
 *
 * Invariants:
 *  1. The schema and statements are those of daemon/pubstore.c's `pub`
 *     table, without the store's bookkeeping (meta rows, checks).
 *  2. Every database it creates is removed before it returns.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sqlite3.h>

#include "benchutil.h"
#include "rawstore.h"

/* Report an SQLite failure and exit (benchmark only). */
static void
rs_die(const char *what, const char *why)
{
	fprintf(stderr, "rawstore: %s: %s\n", what, why);
	exit(1);
}

/* Run one SQL statement or exit. */
static void
rs_exec(sqlite3 *db, const char *sql)
{
	char	*msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		rs_die(sql, msg != NULL ? msg : "?");
}

/* Prepare a statement or exit. */
static sqlite3_stmt *
rs_prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*st;

	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
	    NULL) != SQLITE_OK)
		rs_die(sql, sqlite3_errmsg(db));
	return (st);
}

/* Step a statement to completion and reset it, or exit. */
static void
rs_step(sqlite3 *db, sqlite3_stmt *st)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		rs_die(sqlite3_sql(st), sqlite3_errmsg(db));
	sqlite3_reset(st);
}

/* Remove a database and its -wal, -shm and -commits files. */
void
rawstore_rmdb(const char *path)
{
	char	 p[1024];

	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-commits", path);
	unlink(p);
}

/* One raw run; returns rows per second (see rawstore.h). */
double
rawstore_run(const char *path, int batch, int normal, const void *payload,
    size_t len, double secs)
{
	sqlite3		*db;
	sqlite3_stmt	*ins, *del, *begin, *commit;
	int64_t		 seq = 0, prev = 0;
	uint64_t	 rows = 0;
	double		 t0, t1;
	int		 i;

	rawstore_rmdb(path);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		rs_die(path, sqlite3_errmsg(db));
	rs_exec(db, "PRAGMA journal_mode = WAL");
	rs_exec(db, normal ? "PRAGMA synchronous = NORMAL" :
	    "PRAGMA synchronous = FULL");
	rs_exec(db, "PRAGMA secure_delete = OFF");
	rs_exec(db, "CREATE TABLE pub (seq INTEGER PRIMARY KEY, kind INTEGER "
	    "NOT NULL, topic BLOB NOT NULL, hdr BLOB NOT NULL, data BLOB NOT "
	    "NULL)");
	ins = rs_prep(db, "INSERT INTO pub (seq, kind, topic, hdr, data) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)");
	del = rs_prep(db, "DELETE FROM pub WHERE seq <= ?1");
	begin = rs_prep(db, "BEGIN IMMEDIATE");
	commit = rs_prep(db, "COMMIT");

	t0 = bu_now();
	do {
		rs_step(db, begin);
		for (i = 0; i < batch; i++) {
			sqlite3_bind_int64(ins, 1, ++seq);
			sqlite3_bind_int(ins, 2, 1);
			sqlite3_bind_blob(ins, 3, "orders", 6, SQLITE_STATIC);
			sqlite3_bind_blob(ins, 4, "\"x\":\"c\"", 7,
			    SQLITE_STATIC);
			sqlite3_bind_blob(ins, 5, payload, (int)len,
			    SQLITE_STATIC);
			rs_step(db, ins);
		}
		if (prev > 0) {
			sqlite3_bind_int64(del, 1, prev);
			rs_step(db, del);
		}
		rs_step(db, commit);
		prev = seq;
		rows += (uint64_t)batch;
		t1 = bu_now();
	} while (t1 - t0 < secs);

	sqlite3_finalize(ins);
	sqlite3_finalize(del);
	sqlite3_finalize(begin);
	sqlite3_finalize(commit);
	sqlite3_close(db);
	rawstore_rmdb(path);
	return ((double)rows / (t1 - t0));
}
