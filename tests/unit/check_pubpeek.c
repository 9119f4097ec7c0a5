/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for daemon/pubstore-peek.c: pubstore_peek() counts the
 * unpersisted and quarantined rows of a closed publish store without
 * writing anything, says "not a publish store" for other SQLite files
 * and "cannot tell" (with the reason) for a store with a -wal or
 * -journal beside it, a damaged (bad header, truncated), missing or
 * non-regular file;
 * pubstore_census() reports every pub-*.db of a directory and returns 0
 * only when all of them are provably empty.  Real SQLite files in a
 * temporary directory per test.
 */

#include "config.h"

#include <sys/stat.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "pubstore.h"
#include "store_testutil.h"

/* A closed publish store at name holding the rows 1..n, discarded up to d. */
static void
make_store(const char *name, int n, int d)
{
	struct pubstore		*ps;
	struct pubstore_rec	 r;
	uint64_t		 seq;
	char			*cause = NULL;
	int			 i;

	ps = pubstore_open(tu_path(name), STORE_SYNC_FULL, STORE_CREATE,
	    &cause);
	ck_assert_msg(ps != NULL, "open %s: %s", name, cause ? cause : "?");
	memset(&r, 0, sizeof r);
	r.kind = PUBSTORE_PUBLISH;
	r.topic = "orders";
	r.topic_len = 6;
	r.hdr = "";
	r.data = "{\"id\":1}";
	r.data_len = 8;
	for (i = 1; i <= n; i++)
		ck_assert_int_eq(pubstore_append(ps, &r, &seq), 0);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	if (d > 0) {
		pubstore_discard_upto(ps, (uint64_t)d);
		ck_assert_int_eq(pubstore_commit(ps), 0);
	}
	pubstore_close(ps);
	ck_assert(tu_exists(tu_path(name)));
}

/* Run sql on the SQLite file name (closed afterwards: no -wal left). */
static void
sql_on(const char *name, const char *sql)
{
	sqlite3	*db;
	char	*err = NULL, wal[64];

	ck_assert_int_eq(sqlite3_open(tu_path(name), &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK,
	    "%s: %s", sql, err ? err : "?");
	sqlite3_close(db);
	snprintf(wal, sizeof wal, "%s-wal", name);
	ck_assert(!tu_exists(tu_path(wal)));
}

/* pubstore_peek on name: its return, and why when -1. */
static int
peek(const char *name, struct pubstore_peek *pk)
{
	return (pubstore_peek(tu_path(name), pk));
}

/* pubstore_peek on name says a publish store holding rows and q. */
static void
peek_is(const char *name, uint64_t rows, uint64_t q)
{
	struct pubstore_peek	pk;

	ck_assert_int_eq(peek(name, &pk), 0);
	ck_assert_uint_eq(pk.rows, rows);
	ck_assert_uint_eq(pk.quarantined, q);
}

/* An SQLite file of another application at name. */
static void
make_foreign(const char *name)
{
	sql_on(name, "PRAGMA application_id = 42; CREATE TABLE t (x);");
}

/* Counts, quarantine included, and nothing written or created. */
START_TEST(test_peek_counts)
{
	void			*before, *after;
	size_t			 lb, la;

	make_store("pub-a.db", 5, 2);
	sql_on("pub-a.db", "INSERT INTO quarantine SELECT seq, kind, topic, "
	    "hdr, data, crc, 'test' FROM pub WHERE seq = 4;"
	    "DELETE FROM pub WHERE seq = 4;");
	ck_assert(!tu_exists(tu_path("pub-a.db-wal")));
	before = tu_read(tu_path("pub-a.db"), &lb);
	peek_is("pub-a.db", 2, 1);		/* 3 and 5; 4 quarantined */
	after = tu_read(tu_path("pub-a.db"), &la);
	ck_assert(la == lb && memcmp(before, after, lb) == 0);
	free(before);
	free(after);
	ck_assert(!tu_exists(tu_path("pub-a.db-wal")));
	ck_assert(!tu_exists(tu_path("pub-a.db-shm")));

	make_store("pub-e.db", 3, 3);			/* all persisted */
	peek_is("pub-e.db", 0, 0);
}
END_TEST

/* A store of schema version 1 (no quarantine table) is counted. */
START_TEST(test_peek_v1)
{
	sql_on("pub-v1.db", "PRAGMA journal_mode=WAL;"
	    "CREATE TABLE pub (seq INTEGER PRIMARY KEY, kind INTEGER NOT "
	    "NULL, topic BLOB NOT NULL, hdr BLOB NOT NULL, data BLOB NOT "
	    "NULL);"
	    "INSERT INTO pub VALUES (7, 1, x'6f', x'', x'7b7d');"
	    "PRAGMA application_id = 1095585858; PRAGMA user_version = 1;");
	peek_is("pub-v1.db", 1, 0);
}
END_TEST

/* Other SQLite files are not publish stores; the rest cannot be told. */
START_TEST(test_peek_refusals)
{
	struct pubstore_peek	pk;
	struct stat		sb;

	make_foreign("pub-x.bm.db");
	ck_assert_int_eq(peek("pub-x.bm.db", &pk), 1);
	tu_write(tu_path("pub-empty.db"), "", 0);
	ck_assert_int_eq(peek("pub-empty.db", &pk), 1);

	make_store("pub-w.db", 2, 0);
	tu_write(tu_path("pub-w.db-wal"), "", 0);
	ck_assert_int_eq(peek("pub-w.db", &pk), -1);
	ck_assert_msg(strstr(pk.why, "a -wal file is next to it") != NULL,
	    "why: %s", pk.why);
	ck_assert_int_eq(unlink(tu_path("pub-w.db-wal")), 0);
	tu_write(tu_path("pub-w.db-journal"), "", 0);
	ck_assert_int_eq(peek("pub-w.db", &pk), -1);
	ck_assert_msg(strstr(pk.why, "a -journal file") != NULL, "why: %s",
	    pk.why);

	tu_write(tu_path("pub-junk.db"), "not a database at all, no, no", 30);
	ck_assert_int_eq(peek("pub-junk.db", &pk), -1);
	ck_assert_msg(strncmp(pk.why, "not a SQLite database", 21) == 0,
	    "why: %s", pk.why);
	tu_write(tu_path("pub-byte.db"), "x", 1);	/* SQLite would take it */
	ck_assert_int_eq(peek("pub-byte.db", &pk), -1);
	make_store("pub-t.db", 50, 0);
	ck_assert_int_eq(stat(tu_path("pub-t.db"), &sb), 0);
	ck_assert_int_eq(truncate(tu_path("pub-t.db"), sb.st_size - 1), 0);
	ck_assert_int_eq(peek("pub-t.db", &pk), -1);
	ck_assert_msg(strncmp(pk.why, "truncated", 9) == 0, "why: %s", pk.why);
	ck_assert_int_eq(peek("pub-none.db", &pk), -1);
	ck_assert_str_eq(pk.why, "No such file or directory");
	ck_assert(!tu_exists(tu_path("pub-none.db")));
	ck_assert_int_eq(mkdir(tu_path("pub-dir.db"), 0700), 0);
	ck_assert_int_eq(peek("pub-dir.db", &pk), -1);
	ck_assert_str_eq(pk.why, "not a regular file");
	ck_assert_int_eq(rmdir(tu_path("pub-dir.db")), 0);
}
END_TEST

/* pubstore_census on the test directory: its return, out and err. */
static int
census(char **out, char **err)
{
	FILE	*fo, *fe;
	size_t	 lo, le;
	int	 rc;

	ck_assert((fo = open_memstream(out, &lo)) != NULL);
	ck_assert((fe = open_memstream(err, &le)) != NULL);
	rc = pubstore_census(tu_dir, fo, fe);
	fclose(fo);
	fclose(fe);
	return (rc);
}

/* Expect rc and exactly the lines want (each '@' is the directory). */
static void
census_is(int rc, const char *want)
{
	char		*out, *err, exp[2048];
	size_t		 n = 0;

	for (; *want != '\0' && n + sizeof tu_dir < sizeof exp; want++) {
		if (*want == '@')
			n += (size_t)snprintf(exp + n, sizeof exp - n, "%s",
			    tu_dir);
		else
			exp[n++] = *want;
	}
	exp[n] = '\0';
	ck_assert_int_eq(census(&out, &err), rc);
	ck_assert_str_eq(out, exp);
	ck_assert_str_eq(err, "");
	free(out);
	free(err);
}

START_TEST(test_census)
{
	char	*out, *err, *p;

	census_is(0, "");				/* nothing there */
	make_store("pub-a.db", 4, 4);
	make_store("main.bm.db", 0, 0);		/* not a pub-* name */
	make_foreign("pub-x.bm.db");
	tu_write(tu_path("notes.txt"), "x", 1);
	census_is(0, "@/pub-a.db: 0 unpersisted message(s)\n");

	make_store("pub-b.db", 3, 1);
	census_is(1, "@/pub-a.db: 0 unpersisted message(s)\n"
	    "@/pub-b.db: 2 unpersisted message(s)\n");

	sql_on("pub-a.db", "INSERT INTO quarantine VALUES (9, 1, x'6f', "
	    "x'', x'7b7d', 0, 'test');");
	census_is(1, "@/pub-a.db: 0 unpersisted message(s), 1 quarantined "
	    "(damaged, never sent)\n"
	    "@/pub-b.db: 2 unpersisted message(s)\n");

	sql_on("pub-a.db", "DELETE FROM quarantine;");
	make_store("pub-b.db", 0, 3);		/* the same file, emptied */
	census_is(0, "@/pub-a.db: 0 unpersisted message(s)\n"
	    "@/pub-b.db: 0 unpersisted message(s)\n");

	make_store("pub-c.db", 0, 0);
	tu_write(tu_path("pub-c.db-wal"), "", 0);
	census_is(1, "@/pub-a.db: 0 unpersisted message(s)\n"
	    "@/pub-b.db: 0 unpersisted message(s)\n"
	    "@/pub-c.db: cannot tell (a -wal file is next to it: an ampsd "
	    "has it open, or was stopped without closing it)\n");

	/* A directory that cannot be listed. */
	p = strdup(tu_path("gone"));
	snprintf(tu_dir + strlen(tu_dir), sizeof tu_dir - strlen(tu_dir),
	    "/gone");
	ck_assert_int_eq(census(&out, &err), 1);
	ck_assert_str_eq(out, "");
	ck_assert(strstr(err, p) != NULL);
	ck_assert(strstr(err, "No such file or directory") != NULL);
	*strrchr(tu_dir, '/') = '\0';
	free(out);
	free(err);
	free(p);
}
END_TEST

static Suite *
pubpeek_suite(void)
{
	Suite	*s = suite_create("pubpeek");
	TCase	*tc = tcase_create("peek");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, tu_setup, tu_teardown);
	tcase_add_test(tc, test_peek_counts);
	tcase_add_test(tc, test_peek_v1);
	tcase_add_test(tc, test_peek_refusals);
	tcase_add_test(tc, test_census);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(pubpeek_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
