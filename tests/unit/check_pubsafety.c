/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for the publish store's data-safety checks
 * (docs/RELIABILITY.md findings 23 to 25):
 *
 *  - a changed byte inside a stored row passes quick_check but fails the
 *    row's checksum on replay: reported, quarantined, never passed on as
 *    good;
 *  - a WAL left by a crashed writer (the child _exits without closing,
 *    as after kill -9) and damaged in the middle makes SQLite's recovery
 *    stop early: the commit counter refuses the store (FULL) or reports
 *    it (NORMAL); the same crash without damage, and clean reopens, are
 *    accepted (no false positive);
 *  - an empty or missing store file beside its commit counter file is
 *    refused, never replaced by a new empty store;
 *  - rows never sent are renumbered above the server's sequence at logon
 *    in their order; rows that may have been sent keep their numbers;
 *  - a schema version 1 store is migrated (checksums computed, every old
 *    row kept with its number) and a newer one is refused.
 */

#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "pubstore.h"
#include "store_testutil.h"
#include "testutil.h"

/* Append one publish with payload "payload-<i>-xxxxxxxx"; its seq. */
static uint64_t
append(struct pubstore *ps, int i)
{
	struct pubstore_rec	 r;
	char			 data[64];
	uint64_t		 seq = 0;

	snprintf(data, sizeof data, "payload-%05d-xxxxxxxx", i);
	memset(&r, 0, sizeof r);
	r.kind = PUBSTORE_PUBLISH;
	r.topic = "orders";
	r.topic_len = 6;
	r.hdr = "\"x\":\"c\"";
	r.hdr_len = 7;
	r.data = data;
	r.data_len = strlen(data);
	ck_assert_msg(pubstore_append(ps, &r, &seq) == 0, "append: %s",
	    pubstore_error(ps));
	return (seq);
}

static struct pubstore *
open_dur(enum store_durability dur, char **cause)
{
	return (pubstore_open(tu_path("p.pub.db"), dur, STORE_CREATE, cause));
}

static struct pubstore *
open_ok(void)
{
	struct pubstore	*ps;
	char		*cause = NULL;

	ps = open_dur(STORE_SYNC_FULL, &cause);
	ck_assert_msg(ps != NULL, "open: %s", cause ? cause : "?");
	return (ps);
}

/* Replay collector: seqs, payload numbers, damaged flags. */
struct got {
	uint64_t	 seq[600];
	int		 num[600];
	int		 damaged[600];
	size_t		 n;
};

static int
got_cb(const struct pubstore_rec *r, void *arg)
{
	struct got	*g = arg;
	char		 buf[64];

	ck_assert_uint_lt(g->n, 600);
	g->seq[g->n] = r->seq;
	g->damaged[g->n] = r->damaged;
	g->num[g->n] = -1;
	if (!r->damaged && r->data_len < sizeof buf) {
		memcpy(buf, r->data, r->data_len);
		buf[r->data_len] = '\0';
		ck_assert(sscanf(buf, "payload-%d-", &g->num[g->n]) == 1);
	}
	g->n++;
	return (0);
}

static char	 damage_err[256];	/* the error after a damaged row */

/* Replay everything after `after` (every slice) into g. */
static void
replay_all(struct pubstore *ps, uint64_t after, struct got *g)
{
	int64_t	 n;

	memset(g, 0, sizeof *g);
	do {
		n = pubstore_replay(ps, after, 0, got_cb, g);
		ck_assert_msg(n >= 0, "replay: %s", pubstore_error(ps));
		if (g->n > 0 && g->damaged[g->n - 1])
			snprintf(damage_err, sizeof damage_err, "%s",
			    pubstore_error(ps));
		if (g->n > 0)
			after = g->seq[g->n - 1];
	} while (n > 0 && g->n > 0 && g->damaged[g->n - 1]);
}

/* Flip the byte at offset off of path (or 16 bytes when len16). */
static void
flip(const char *path, off_t off, int len16)
{
	unsigned char	 b[16];
	int		 fd, i, n = len16 ? 16 : 1;

	ck_assert_int_ne(fd = open(path, O_RDWR), -1);
	ck_assert_int_eq(pread(fd, b, (size_t)n, off), n);
	for (i = 0; i < n; i++)
		b[i] ^= 0x5a;
	ck_assert_int_eq(pwrite(fd, b, (size_t)n, off), n);
	close(fd);
}

/* Offset of the first occurrence of needle in the file at path. */
static off_t
find(const char *path, const char *needle)
{
	unsigned char	*p;
	size_t		 len, i, nl = strlen(needle);

	ck_assert_ptr_nonnull(p = tu_read(path, &len));
	for (i = 0; i + nl <= len; i++)
		if (memcmp(p + i, needle, nl) == 0) {
			free(p);
			return ((off_t)i);
		}
	free(p);
	ck_abort_msg("%s not found in %s", needle, path);
	return (-1);
}

/* Finding 24 (b): one changed byte in a row is caught before sending. */
START_TEST(test_row_checksum)
{
	struct pubstore	*ps;
	struct got	 g;
	sqlite3		*db;
	sqlite3_stmt	*st;
	char		 path[512];
	int		 i;

	ps = open_ok();
	for (i = 1; i <= 5; i++)
		append(ps, i);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	pubstore_close(ps);
	snprintf(path, sizeof path, "%s", tu_path("p.pub.db"));
	ck_assert(!tu_exists(tu_path("p.pub.db-wal")));	/* checkpointed */
	flip(path, find(path, "payload-00003") + 10, 0);

	ps = open_ok();			/* quick_check does not see it */
	replay_all(ps, 0, &g);
	ck_assert_uint_eq(g.n, 5);
	for (i = 0; i < 5; i++) {
		ck_assert_uint_eq(g.seq[i], (uint64_t)i + 1);
		ck_assert_int_eq(g.damaged[i], i == 2);
		if (i != 2)
			ck_assert_int_eq(g.num[i], i + 1);
	}
	ck_assert_uint_eq(pubstore_quarantined(ps), 1);
	ck_assert_msg(strstr(damage_err, "checksum") != NULL &&
	    strstr(damage_err, "quarantine") != NULL, "error: %s",
	    damage_err);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	pubstore_close(ps);

	/* Committed: gone from the store, kept in quarantine. */
	ps = open_ok();
	replay_all(ps, 0, &g);
	ck_assert_uint_eq(g.n, 4);
	ck_assert_uint_eq(g.seq[2], 4);
	ck_assert_uint_eq(pubstore_last_seq(ps), 5);
	pubstore_close(ps);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT seq, why FROM "
	    "quarantine", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 3);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
}
END_TEST

/*
 * A writer that commits n rows, one commit per 5, and _exits without
 * closing (the state kill -9 leaves: the -wal holds the commits).
 */
static void
crash_writer(enum store_durability dur, int n)
{
	struct pubstore	*ps;
	pid_t		 pid;
	int		 status, i;

	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		if ((ps = open_dur(dur, NULL)) == NULL)
			_exit(2);
		for (i = 1; i <= n; i++) {
			append(ps, i);
			if (i % 5 == 0 && pubstore_commit(ps) != 0)
				_exit(3);
		}
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Finding 24 (a): WAL recovery that stops early is detected. */
START_TEST(test_wal_lost_commits)
{
	struct pubstore	*ps;
	struct stat	 sb;
	struct got	 g;
	unsigned char	*before, *after;
	size_t		 blen, alen;
	char		*cause = NULL, wal[512];

	/* No damage: the crashed writer's 500 rows are all there. */
	crash_writer(STORE_SYNC_FULL, 500);
	ps = open_ok();
	replay_all(ps, 0, &g);
	ck_assert_uint_eq(g.n, 500);
	pubstore_close(ps);
	ps = open_ok();			/* clean close, reopen: fine too */
	pubstore_close(ps);

	/* Damage 16 bytes in the middle of a crashed writer's -wal. */
	tu_teardown();
	tu_setup();
	crash_writer(STORE_SYNC_FULL, 500);
	snprintf(wal, sizeof wal, "%s", tu_path("p.pub.db-wal"));
	ck_assert_int_eq(stat(wal, &sb), 0);
	ck_assert_int_gt(sb.st_size, 64 * 1024);
	flip(wal, sb.st_size / 2, 1);
	before = tu_read(wal, &blen);
	ps = open_dur(STORE_SYNC_FULL, &cause);
	ck_assert_msg(ps == NULL, "a store that lost commits was opened");
	ck_assert_msg(cause != NULL && strstr(cause, "lost") != NULL &&
	    strstr(cause, "-commits") != NULL, "cause: %s", cause);
	free(cause);
	after = tu_read(wal, &alen);
	ck_assert(blen == alen && memcmp(before, after, blen) == 0);
	free(before);
	free(after);

	/* synchronous=NORMAL: opened, with a notice saying what was lost. */
	ps = open_dur(STORE_SYNC_NORMAL, &cause);
	ck_assert_msg(ps != NULL, "open: %s", cause);
	ck_assert_msg(strstr(store_notice(pubstore_store(ps)), "lost") !=
	    NULL, "notice: %s", store_notice(pubstore_store(ps)));
	replay_all(ps, 0, &g);
	ck_assert_uint_lt(g.n, 500);
	pubstore_close(ps);
}
END_TEST

/* Finding 23: an empty store where one existed is refused. */
START_TEST(test_empty_store_refused)
{
	struct pubstore	*ps;
	char		*cause = NULL, path[512];

	ps = open_ok();
	append(ps, 1);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	pubstore_close(ps);
	snprintf(path, sizeof path, "%s", tu_path("p.pub.db"));
	ck_assert_int_eq(truncate(path, 0), 0);
	ps = open_dur(STORE_SYNC_FULL, &cause);
	ck_assert_msg(ps == NULL, "an emptied store was recreated");
	ck_assert_msg(strstr(cause, "commit counter") != NULL, "cause: %s",
	    cause);
	free(cause);
	ck_assert_int_eq(unlink(path), 0);
	ps = open_dur(STORE_SYNC_FULL, &cause);
	ck_assert_msg(ps == NULL, "a removed store was recreated");
	free(cause);
	/* The operator's way out: remove the counter file too. */
	ck_assert_int_eq(unlink(tu_path("p.pub.db-commits")), 0);
	ps = open_ok();
	ck_assert_uint_eq(pubstore_last_seq(ps), 0);
	pubstore_close(ps);
}
END_TEST

/* Finding 23: never-sent rows move above the server's sequence. */
START_TEST(test_renumber_unsent)
{
	struct pubstore		*ps;
	struct pubstore_logon	 lo;
	struct got		 g;
	int			 i;

	/* A fresh store, AMPS unreachable: 5 rows, never sent. */
	ps = open_ok();
	for (i = 1; i <= 5; i++)
		ck_assert_uint_eq(append(ps, i), (uint64_t)i);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	ck_assert_uint_eq(pubstore_sendable_seq(ps), 0);
	pubstore_close(ps);

	/* AMPS holds 100 for the client name: they become 101..105. */
	ps = open_ok();
	ck_assert_uint_eq(pubstore_sent_horizon(ps), 0);
	ck_assert_int_eq(pubstore_logon(ps, 100, &lo), 0);
	ck_assert_uint_eq(lo.renumbered, 5);
	ck_assert_uint_eq(lo.first, 1);
	ck_assert_uint_eq(lo.last, 5);
	ck_assert_uint_eq(lo.after, 0);
	ck_assert_uint_eq(lo.delta, 100);
	ck_assert_uint_eq(pubstore_sendable_seq(ps), 105);
	ck_assert_uint_eq(pubstore_sent_horizon(ps), 105);
	replay_all(ps, 100, &g);
	ck_assert_uint_eq(g.n, 5);
	for (i = 0; i < 5; i++) {
		ck_assert_uint_eq(g.seq[i], 101 + (uint64_t)i);
		ck_assert_int_eq(g.num[i], i + 1);
		ck_assert_int_eq(g.damaged[i], 0);
	}
	ck_assert_uint_eq(append(ps, 6), 106);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	ck_assert_uint_eq(pubstore_sendable_seq(ps), 106);
	pubstore_close(ps);

	/* Durable: after reopen the numbers and the horizon are kept. */
	ps = open_ok();
	ck_assert_uint_eq(pubstore_sent_horizon(ps), 106);
	ck_assert_uint_eq(pubstore_sendable_seq(ps), 106);
	replay_all(ps, 0, &g);
	ck_assert_uint_eq(g.n, 6);
	ck_assert_uint_eq(g.seq[0], 101);
	ck_assert_uint_eq(g.seq[5], 106);
	pubstore_close(ps);
}
END_TEST

/* Finding 23: rows that may have been sent keep their numbers. */
START_TEST(test_sent_rows_keep_numbers)
{
	struct pubstore		*ps;
	struct pubstore_logon	 lo;
	struct got		 g;
	int			 i;

	ps = open_ok();
	ck_assert_int_eq(pubstore_logon(ps, 0, &lo), 0);
	for (i = 1; i <= 3; i++)
		append(ps, i);			/* online: may be sent */
	ck_assert_int_eq(pubstore_commit(ps), 0);
	ck_assert_uint_eq(pubstore_sent_horizon(ps), 3);
	pubstore_set_online(ps, 0);		/* the link went down */
	for (i = 4; i <= 5; i++)
		append(ps, i);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	ck_assert_uint_eq(pubstore_sent_horizon(ps), 3);
	ck_assert_uint_eq(pubstore_sendable_seq(ps), 3);
	pubstore_close(ps);

	/* Server has 2: 1-2 persisted, 3 replayed as 3, 4-5 keep theirs. */
	ps = open_ok();
	ck_assert_int_eq(pubstore_logon(ps, 2, &lo), 0);
	ck_assert_uint_eq(lo.renumbered, 0);
	ck_assert_uint_eq(lo.assumed, 0);
	replay_all(ps, 2, &g);
	ck_assert_uint_eq(g.n, 3);
	ck_assert_uint_eq(g.seq[0], 3);
	ck_assert_uint_eq(g.seq[2], 5);
	ck_assert_uint_eq(pubstore_sendable_seq(ps), 5);
	pubstore_close(ps);

	/* Same files, server has 10 (not ours): 3 is taken as persisted
	 * and said so; 4-5, never sent, become 11-12 after it. */
	tu_teardown();
	tu_setup();
	ps = open_ok();
	ck_assert_int_eq(pubstore_logon(ps, 0, &lo), 0);
	for (i = 1; i <= 3; i++)
		append(ps, i);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	pubstore_set_online(ps, 0);
	for (i = 4; i <= 5; i++)
		append(ps, i);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	ck_assert_int_eq(pubstore_logon(ps, 10, &lo), 0);
	ck_assert_uint_eq(lo.assumed, 3);
	ck_assert_uint_eq(lo.renumbered, 2);
	ck_assert_uint_eq(lo.first, 4);
	ck_assert_uint_eq(lo.delta, 7);
	replay_all(ps, 10, &g);
	ck_assert_uint_eq(g.n, 2);
	ck_assert_uint_eq(g.seq[0], 11);
	ck_assert_int_eq(g.num[0], 4);
	ck_assert_uint_eq(g.seq[1], 12);
	ck_assert_int_eq(g.num[1], 5);
	ck_assert_uint_eq(append(ps, 6), 13);
	pubstore_close(ps);
}
END_TEST

/* Build a schema version 1 store by hand, as ampsd 0.1 wrote it. */
static void
make_v1(const char *path, int version)
{
	sqlite3		*db;
	char		 sql[1024];
	int		 i;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA journal_mode=WAL;"
	    "CREATE TABLE store_probe (b BLOB NOT NULL);"
	    "CREATE TABLE pub (seq INTEGER PRIMARY KEY, kind INTEGER NOT "
	    "NULL, topic BLOB NOT NULL, hdr BLOB NOT NULL, data BLOB NOT "
	    "NULL);"
	    "CREATE TABLE meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL) "
	    "WITHOUT ROWID;"
	    "INSERT INTO meta VALUES ('next_seq', 8);"
	    "PRAGMA application_id = 1095585858;", NULL, NULL, NULL),
	    SQLITE_OK);
	for (i = 5; i <= 7; i++) {
		snprintf(sql, sizeof sql, "INSERT INTO pub VALUES (%d, 1, "
		    "CAST('orders' AS BLOB), CAST('\"x\":\"c\"' AS BLOB), "
		    "CAST('payload-%05d-xxxxxxxx' AS BLOB))", i, i);
		ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL),
		    SQLITE_OK);
	}
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", version);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* Schema versions: 1 is migrated forward, a newer one is refused. */
START_TEST(test_schema_versions)
{
	struct pubstore		*ps;
	struct pubstore_logon	 lo;
	struct got		 g;
	unsigned char		*before, *after;
	size_t			 blen, alen;
	char			*cause = NULL, path[512];
	int			 i;

	snprintf(path, sizeof path, "%s", tu_path("p.pub.db"));
	make_v1(path, 1);
	ps = open_ok();
	ck_assert_uint_eq(pubstore_last_seq(ps), 7);
	/* Old rows may have been sent: the horizon covers them. */
	ck_assert_uint_eq(pubstore_sent_horizon(ps), 7);
	replay_all(ps, 0, &g);
	ck_assert_uint_eq(g.n, 3);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(g.seq[i], 5 + (uint64_t)i);
		ck_assert_int_eq(g.damaged[i], 0);
		ck_assert_int_eq(g.num[i], 5 + i);
	}
	ck_assert_int_eq(pubstore_logon(ps, 100, &lo), 0);
	ck_assert_uint_eq(lo.renumbered, 0);	/* kept: maybe sent */
	ck_assert_uint_eq(lo.assumed, 3);
	pubstore_close(ps);

	/* A store from a newer ampsd: refused, untouched. */
	tu_teardown();
	tu_setup();
	snprintf(path, sizeof path, "%s", tu_path("p.pub.db"));
	make_v1(path, 3);
	before = tu_read(path, &blen);
	ps = open_dur(STORE_SYNC_FULL, &cause);
	ck_assert_msg(ps == NULL, "a newer schema was opened");
	ck_assert_msg(strstr(cause, "newer") != NULL, "cause: %s", cause);
	free(cause);
	after = tu_read(path, &alen);
	ck_assert(blen == alen && memcmp(before, after, blen) == 0);
	ck_assert(!tu_exists(tu_path("p.pub.db-commits")));
	free(before);
	free(after);
}
END_TEST

static Suite *
pubsafety_suite(void)
{
	Suite	*s = suite_create("pubsafety");
	TCase	*tc = tu_tcase("safety", 120);

	tcase_add_test(tc, test_row_checksum);
	tcase_add_test(tc, test_wal_lost_commits);
	tcase_add_test(tc, test_empty_store_refused);
	tcase_add_test(tc, test_renumber_unsent);
	tcase_add_test(tc, test_sent_rows_keep_numbers);
	tcase_add_test(tc, test_schema_versions);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (check_main(pubsafety_suite()));
}
