/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for daemon/store.c: creation rules, refusal of garbage,
 * truncated, corrupt, foreign and newer files (leaving them byte-for-byte
 * untouched), migrations, pragmas, the degraded state and store sets.
 * Every handle is opened inside the test body, in a temporary directory.
 */

#include "config.h"

#include <sys/stat.h>

#include <check.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pubstore.h"
#include "store.h"
#include "store_testutil.h"
#include "testutil.h"

static const char *const t_mig1[] = {
	"CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB NOT NULL);",
};
static const char *const t_mig2[] = {
	"CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB NOT NULL);",
	"ALTER TABLE t ADD COLUMN w INTEGER NOT NULL DEFAULT 7;",
};
static const struct store_schema schema1 = { "test store", 0x54455354,
    t_mig1, 1 };
static const struct store_schema schema2 = { "test store", 0x54455354,
    t_mig2, 2 };
static const struct store_schema other = { "other store", 0x4f544852,
    t_mig1, 1 };

/* Open with STORE_CREATE, asserting success. */
static struct store *
must_open(const char *name, const struct store_schema *sc)
{
	struct store	*s;
	char		*cause = NULL;

	s = store_open(tu_path(name), sc, STORE_SYNC_FULL, STORE_CREATE,
	    &cause);
	ck_assert_msg(s != NULL, "open: %s", cause ? cause : "?");
	return (s);
}

/* Insert n rows of size bytes in one transaction; returns commit's r. */
static int
fill(struct store *s, int n, int size)
{
	sqlite3_stmt	*st;
	char		*cause = NULL;
	int		 i;

	ck_assert_int_eq(store_prepare(s, "INSERT INTO t (v) VALUES "
	    "(zeroblob(?1))", &st, &cause), 0);
	for (i = 0; i < n; i++) {
		if (store_begin(s) != 0)
			return (-1);
		sqlite3_bind_int(st, 1, size);
		if (store_exec(s, st) == -1)
			break;
	}
	return (store_commit(s));
}

/* Expect open of name to fail with a cause containing what; file intact. */
static void
expect_refused(const char *name, const struct store_schema *sc, int flags,
    const char *what)
{
	struct store	*s;
	unsigned char	*before, *after;
	size_t		 blen = 0, alen = 0;
	char		*cause = NULL;

	before = tu_read(tu_path(name), &blen);
	s = store_open(tu_path(name), sc, STORE_SYNC_FULL, flags, &cause);
	ck_assert_msg(s == NULL, "%s was accepted", name);
	ck_assert_msg(cause != NULL && strstr(cause, what) != NULL,
	    "cause \"%s\" lacks \"%s\"", cause ? cause : "(null)", what);
	free(cause);
	after = tu_read(tu_path(name), &alen);
	if (before == NULL) {
		ck_assert_msg(after == NULL, "a refused file was created");
		return;
	}
	ck_assert(after != NULL);
	ck_assert_uint_eq(alen, blen);
	ck_assert_msg(memcmp(before, after, alen) == 0, "file modified");
	free(before);
	free(after);
}

START_TEST(test_create_and_reopen)
{
	struct store	*s;

	s = must_open("a.db", &schema1);
	ck_assert_int_eq(store_state(s), STORE_OK);
	ck_assert_int_eq(fill(s, 10, 100), 0);
	ck_assert_uint_eq(store_commits(s), 1);
	ck_assert_str_eq(store_error(s), "");
	store_close(s);
	s = must_open("a.db", &schema1);
	store_close(s);
	ck_assert(tu_exists(tu_path("a.db")));
}
END_TEST

START_TEST(test_missing_not_created)
{
	expect_refused("none.db", &schema1, 0, "not allowed");
	ck_assert(!tu_exists(tu_path("none.db")));
}
END_TEST

START_TEST(test_missing_with_wal_refused)
{
	ck_assert_int_eq(tu_write(tu_path("w.db-wal"), "x", 1), 0);
	expect_refused("w.db", &schema1, STORE_CREATE, "lost data");
	ck_assert(!tu_exists(tu_path("w.db")));
}
END_TEST

START_TEST(test_fresh_dir_rule)
{
	struct store	*s;
	char		*cause = NULL;

	s = store_open(tu_path("first.db"), &schema1, STORE_SYNC_FULL,
	    STORE_CREATE_FRESH_DIR, &cause);
	ck_assert_msg(s != NULL, "open: %s", cause ? cause : "?");
	store_close(s);
	expect_refused("second.db", &schema1, STORE_CREATE_FRESH_DIR,
	    "already holds stores");
}
END_TEST

START_TEST(test_garbage_refused)
{
	char	 junk[3000];
	size_t	 i;

	for (i = 0; i < sizeof junk; i++)
		junk[i] = (char)(i * 13 + 1);
	ck_assert_int_eq(tu_write(tu_path("g.db"), junk, sizeof junk), 0);
	expect_refused("g.db", &schema1, STORE_CREATE, "not a SQLite");
	/* A short file, too. */
	ck_assert_int_eq(tu_write(tu_path("h.db"), "SQLite", 6), 0);
	expect_refused("h.db", &schema1, STORE_CREATE, "not a SQLite");
}
END_TEST

START_TEST(test_truncated_refused)
{
	struct store	*s;
	unsigned char	*p;
	size_t		 len;

	s = must_open("t.db", &schema1);
	ck_assert_int_eq(fill(s, 200, 1000), 0);
	store_close(s);		/* checkpoints the WAL into t.db */
	ck_assert(!tu_exists(tu_path("t.db-wal")));
	p = tu_read(tu_path("t.db"), &len);
	ck_assert(p != NULL && len > 8 * 4096);
	/* Cut at a page boundary: only the header betrays it. */
	ck_assert_int_eq(truncate(tu_path("t.db"), (off_t)(len / 2 / 4096 *
	    4096)), 0);
	expect_refused("t.db", &schema1, STORE_CREATE, "truncated");
	/* Cut in the middle of a page. */
	ck_assert_int_eq(tu_write(tu_path("u.db"), p, len / 2 + 100), 0);
	expect_refused("u.db", &schema1, STORE_CREATE, "truncated");
	free(p);
}
END_TEST

START_TEST(test_corrupt_page_refused)
{
	struct store	*s;
	unsigned char	*p;
	size_t		 len, off;

	s = must_open("c.db", &schema1);
	ck_assert_int_eq(fill(s, 300, 50), 0);
	store_close(s);
	p = tu_read(tu_path("c.db"), &len);
	ck_assert(p != NULL && len >= 4 * 4096);
	/* Scribble over a b-tree page (not page 1), keeping the size. */
	for (off = 2 * 4096; off < 3 * 4096; off++)
		p[off] = 0xa5;
	ck_assert_int_eq(tu_write(tu_path("c.db"), p, len), 0);
	free(p);
	expect_refused("c.db", &schema1, STORE_CREATE, "corrupt");
}
END_TEST

START_TEST(test_foreign_refused)
{
	struct store	*s;
	sqlite3		*db;

	/* Another ampsd store kind. */
	s = must_open("o.db", &other);
	store_close(s);
	expect_refused("o.db", &schema1, STORE_CREATE, "not an ampsd");

	/* Somebody else's SQLite database with tables, no application_id. */
	ck_assert_int_eq(sqlite3_open(tu_path("f.db"), &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "CREATE TABLE x (a); INSERT INTO x "
	    "VALUES (1)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	expect_refused("f.db", &schema1, STORE_CREATE, "not an ampsd");
}
END_TEST

START_TEST(test_newer_schema_refused)
{
	struct store	*s;

	s = must_open("n.db", &schema2);
	store_close(s);
	expect_refused("n.db", &schema1, STORE_CREATE, "newer");
}
END_TEST

START_TEST(test_migration)
{
	struct store	*s;
	sqlite3		*db;
	sqlite3_stmt	*st;

	s = must_open("m.db", &schema1);
	ck_assert_int_eq(fill(s, 3, 10), 0);
	store_close(s);
	s = must_open("m.db", &schema2);
	store_close(s);

	ck_assert_int_eq(sqlite3_open(tu_path("m.db"), &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*), sum(w) FROM "
	    "t", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 3);
	ck_assert_int_eq(sqlite3_column_int(st, 1), 21);
	sqlite3_finalize(st);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1,
	    &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 2);
	sqlite3_finalize(st);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1,
	    &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
}
END_TEST

START_TEST(test_degraded_and_recovery)
{
	struct store	*s;
	int		 i;

	s = must_open("d.db", &schema1);
	ck_assert_int_eq(store_set_size_limit(s, 48 * 1024), 0);
	/* Commit row by row until the quota stops us: the file is full. */
	for (i = 0; i < 400; i++) {
		if (fill(s, 1, 1000) != 0)
			break;
	}
	ck_assert_int_lt(i, 400);
	ck_assert_int_eq(store_state(s), STORE_DEGRADED);
	ck_assert_msg(strstr(store_error(s), "full") != NULL, "%s",
	    store_error(s));
	ck_assert_int_eq(store_in_txn(s), 0);
	ck_assert_int_eq(store_begin(s), -1);
	ck_assert_int_eq(store_probe(s), -1);
	ck_assert_int_eq(store_set_size_limit(s, 0), 0);
	ck_assert_int_eq(store_probe(s), 0);
	ck_assert_int_eq(store_state(s), STORE_OK);
	ck_assert_int_eq(fill(s, 100, 1000), 0);
	store_close(s);
}
END_TEST

/* store_last_rows(): rows of the last commit, by kind; reset per txn. */
START_TEST(test_last_rows)
{
	struct store		*s;
	struct store_rows	 r;
	sqlite3_stmt		*ins, *del, *upd, *sel;
	char			*cause = NULL;
	int			 i;

	s = must_open("rows.db", &schema1);
	ck_assert_int_eq(store_prepare(s, "INSERT INTO t (v) VALUES (x'01')",
	    &ins, &cause), 0);
	ck_assert_int_eq(store_prepare(s, "  DELETE FROM t WHERE k <= ?1",
	    &del, &cause), 0);
	ck_assert_int_eq(store_prepare(s, "UPDATE t SET v = x'02'", &upd,
	    &cause), 0);
	ck_assert_int_eq(store_prepare(s, "SELECT count(*) FROM t", &sel,
	    &cause), 0);
	ck_assert_int_eq(store_begin(s), 0);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(store_exec(s, ins), SQLITE_DONE);
	ck_assert_int_eq(store_exec(s, sel), SQLITE_ROW);	/* not counted */
	ck_assert_int_eq(store_commit(s), 0);
	store_last_rows(s, &r);
	ck_assert_uint_eq(r.inserted, 5);
	ck_assert_uint_eq(r.deleted, 0);
	ck_assert_uint_eq(r.updated, 0);

	ck_assert_int_eq(store_begin(s), 0);
	sqlite3_bind_int(del, 1, 2);
	ck_assert_int_eq(store_exec(s, del), SQLITE_DONE);
	ck_assert_int_eq(store_exec(s, upd), SQLITE_DONE);
	ck_assert_int_eq(store_commit(s), 0);
	store_last_rows(s, &r);
	ck_assert_uint_eq(r.inserted, 0);
	ck_assert_uint_eq(r.deleted, 2);
	ck_assert_uint_eq(r.updated, 3);

	/* A rolled-back transaction leaves the last commit's figures. */
	ck_assert_int_eq(store_begin(s), 0);
	ck_assert_int_eq(store_exec(s, ins), SQLITE_DONE);
	store_rollback(s);
	store_last_rows(s, &r);
	ck_assert_uint_eq(r.inserted, 0);
	ck_assert_uint_eq(r.deleted, 2);
	store_close(s);
}
END_TEST

START_TEST(test_store_set)
{
	struct store_set	*set;
	struct store		*a, *b;
	sqlite3_stmt		*st;
	char			*cause = NULL;

	a = must_open("a.db", &schema1);
	b = must_open("b.db", &schema1);
	ck_assert((set = store_set_create()) != NULL);
	ck_assert_int_eq(store_set_add(set, a), 0);
	ck_assert_int_eq(store_set_add(set, b), 0);
	ck_assert_int_eq(store_flush(set), 0);		/* nothing open */
	ck_assert_uint_eq(store_commits(a), 0);

	ck_assert_int_eq(store_prepare(a, "INSERT INTO t (v) VALUES (x'01')",
	    &st, &cause), 0);
	ck_assert_int_eq(store_begin(a), 0);
	ck_assert_int_eq(store_exec(a, st), SQLITE_DONE);
	ck_assert_int_eq(store_flush(set), 0);
	ck_assert_uint_eq(store_commits(a), 1);
	ck_assert_uint_eq(store_commits(b), 0);

	/* A failing store is counted; the other one still commits. */
	ck_assert_int_eq(store_set_size_limit(b, 16 * 1024), 0);
	ck_assert_int_eq(fill(b, 100, 2000), -1);
	ck_assert_int_eq(store_begin(a), 0);
	ck_assert_int_eq(store_exec(a, st), SQLITE_DONE);
	ck_assert_int_eq(store_flush(set), 0);	/* b's loss already reported */
	ck_assert_uint_eq(store_commits(a), 2);
	store_set_remove(set, b);
	store_set_free(set);
	store_close(a);
	store_close(b);
}
END_TEST

/* What the store-set observer of test_observer saw. */
struct observed {
	struct store	*last;
	int		 ok;
	int		 failed;
	double		 max;
};

static void
observe_cb(void *arg, struct store *s, double secs, int ok)
{
	struct observed	*o = arg;

	o->last = s;
	if (ok)
		o->ok++;
	else
		o->failed++;
	if (secs > o->max)
		o->max = secs;
	ck_assert(secs >= 0);
}

/* store_flush tells the observer about each commit, and only those. */
START_TEST(test_observer)
{
	struct store_set	*set;
	struct store		*a, *b;
	struct observed		 o;
	sqlite3_stmt		*st, *big;
	char			*cause = NULL;

	memset(&o, 0, sizeof o);
	a = must_open("a.db", &schema1);
	b = must_open("b.db", &schema1);
	ck_assert_str_eq(store_kind(a), schema1.kind);
	ck_assert((set = store_set_create()) != NULL);
	ck_assert_int_eq(store_set_add(set, a), 0);
	ck_assert_int_eq(store_set_add(set, b), 0);
	store_set_observe(set, observe_cb, &o);
	ck_assert_int_eq(store_flush(set), 0);		/* nothing open */
	ck_assert_int_eq(o.ok + o.failed, 0);
	ck_assert_int_eq(store_prepare(a, "INSERT INTO t (v) VALUES (x'01')",
	    &st, &cause), 0);
	ck_assert_int_eq(store_begin(a), 0);
	ck_assert_int_eq(store_exec(a, st), SQLITE_DONE);
	ck_assert_int_eq(store_flush(set), 0);
	ck_assert_int_eq(o.ok, 1);
	ck_assert_ptr_eq(o.last, a);
	ck_assert(o.max < 60);
	/* A lost transaction is reported as a failed commit. */
	ck_assert_int_eq(store_set_size_limit(b, 16 * 1024), 0);
	ck_assert_int_eq(fill(b, 100, 2000), -1);
	ck_assert_int_eq(store_begin(a), 0);
	ck_assert_int_eq(store_exec(a, st), SQLITE_DONE);
	store_set_observe(set, NULL, NULL);
	ck_assert_int_eq(store_flush(set), 0);
	ck_assert_int_eq(o.ok, 1);			/* nobody listening */
	store_set_observe(set, observe_cb, &o);
	ck_assert_int_eq(store_set_size_limit(b, 0), 0);
	ck_assert_int_eq(store_probe(b), 0);
	ck_assert_int_eq(store_set_size_limit(b, 16 * 1024), 0);
	ck_assert_int_eq(store_prepare(b, "INSERT INTO t (v) VALUES "
	    "(zeroblob(100000))", &big, &cause), 0);
	ck_assert_int_eq(store_begin(b), 0);
	ck_assert_int_eq(store_exec(b, big), -1);	/* full: txn lost */
	ck_assert_int_eq(store_flush(set), 1);
	ck_assert_int_eq(o.failed, 1);
	ck_assert_ptr_eq(o.last, b);
	store_set_free(set);
	store_close(a);
	store_close(b);
}
END_TEST

START_TEST(test_pubstore_truncated_wal_kept)
{
	struct pubstore	*ps;
	char		*cause = NULL;

	/* Empty main file plus a WAL: never reinitialised. */
	ck_assert_int_eq(tu_write(tu_path("p.pub.db"), "", 0), 0);
	ck_assert_int_eq(tu_write(tu_path("p.pub.db-wal"), "junk", 4), 0);
	ps = pubstore_open(tu_path("p.pub.db"), STORE_SYNC_FULL, STORE_CREATE,
	    &cause);
	ck_assert(ps == NULL);
	ck_assert(cause != NULL && strstr(cause, "lost data") != NULL);
	free(cause);
}
END_TEST

/* Bytes of a file, -1 if it cannot be stat()ed. */
static long long
file_size(const char *path)
{
	struct stat	sb;

	return (stat(path, &sb) == 0 ? (long long)sb.st_size : -1);
}

/* Rows in table t, through a connection of the test's own. */
static int
count_rows(const char *path)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	int		 n = -1;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1,
	    &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return (n);
}

/*
 * STORE_CKPT_THREAD (store.c invariant 10): the WAL goes past the mark,
 * the thread checkpoints it into the database file (which grows from
 * its first pages by megabytes of rows) while the main connection has no
 * automatic checkpoint; closing joins the thread and the rows are there.
 */
START_TEST(test_ckpt_thread)
{
	struct store	*s;
	char		*cause = NULL;
	long long	 before;
	int		 i, waited;

	s = store_open(tu_path("c.db"), &schema1, STORE_SYNC_NORMAL,
	    STORE_CREATE | STORE_CKPT_THREAD, &cause);
	ck_assert_msg(s != NULL, "open: %s", cause ? cause : "?");
	ck_assert_uint_eq(store_checkpoints(s), 0);
	before = file_size(tu_path("c.db"));
	ck_assert_int_lt(before, 64 * 1024);
	/* 30 commits of 50 rows of 4000 bytes: about 1 500 WAL pages. */
	for (i = 0; i < 30; i++)
		ck_assert_int_eq(fill(s, 50, 4000), 0);
	for (waited = 0; store_checkpoints(s) == 0 && waited < 10000;
	    waited += 10)
		usleep(10000);
	ck_assert_msg(store_checkpoints(s) >= 1, "no checkpoint in 10 s");
	ck_assert_msg(file_size(tu_path("c.db")) >= 1024LL * 1024,
	    "database file %lld bytes after the checkpoint",
	    file_size(tu_path("c.db")));
	store_close(s);
	ck_assert_int_eq(count_rows(tu_path("c.db")), 30 * 50);
}
END_TEST

/* Closing while the thread may be checkpointing: no hang, nothing lost. */
START_TEST(test_ckpt_close_busy)
{
	struct store	*s;
	char		*cause = NULL;
	int		 round, i;

	for (round = 0; round < 5; round++) {
		s = store_open(tu_path("b.db"), &schema1, STORE_SYNC_FULL,
		    STORE_CREATE | STORE_CKPT_THREAD, &cause);
		ck_assert_msg(s != NULL, "open: %s", cause ? cause : "?");
		for (i = 0; i < 12; i++)
			ck_assert_int_eq(fill(s, 50, 4000), 0);
		store_close(s);		/* the thread may be mid-checkpoint */
		ck_assert_int_eq(count_rows(tu_path("b.db")),
		    (round + 1) * 12 * 50);
	}
	/* Without the flag the counter stays 0 (SQLite checkpoints). */
	s = must_open("b.db", &schema1);
	ck_assert_int_eq(fill(s, 50, 4000), 0);
	ck_assert_uint_eq(store_checkpoints(s), 0);
	store_close(s);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite	*s = suite_create("store");
	TCase	*open = tu_tcase("open", 30);
	TCase	*refuse = tu_tcase("refuse", 30);
	TCase	*health = tu_tcase("health", 60);

	tcase_add_test(open, test_create_and_reopen);
	tcase_add_test(open, test_missing_not_created);
	tcase_add_test(open, test_missing_with_wal_refused);
	tcase_add_test(open, test_fresh_dir_rule);
	tcase_add_test(open, test_migration);
	tcase_add_test(refuse, test_garbage_refused);
	tcase_add_test(refuse, test_truncated_refused);
	tcase_add_test(refuse, test_corrupt_page_refused);
	tcase_add_test(refuse, test_foreign_refused);
	tcase_add_test(refuse, test_newer_schema_refused);
	tcase_add_test(refuse, test_pubstore_truncated_wal_kept);
	tcase_add_test(health, test_degraded_and_recovery);
	tcase_add_test(health, test_store_set);
	tcase_add_test(health, test_last_rows);
	tcase_add_test(health, test_observer);
	tcase_add_test(health, test_ckpt_thread);
	tcase_add_test(health, test_ckpt_close_busy);
	suite_add_tcase(s, open);
	suite_add_tcase(s, refuse);
	suite_add_tcase(s, health);
	return (s);
}

int
main(void)
{
	return (check_main(store_suite()));
}
