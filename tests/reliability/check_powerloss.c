/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * check_powerloss: power loss against the real publish store
 * (DESIGN.md §4 promises 1 and 5, §5 "synchronous=FULL by default").
 *
 * Each cycle creates a publish store, then runs a writer through
 * crashvfs (made the default VFS for the writer only, so pubstore_open()
 * and store.c run unchanged): batches of appends, each followed by
 * pubstore_commit(), with persisted-ack discards joining the batches the
 * way server does.  Every seq whose commit returned 0 is "reported
 * durable" (ampsd would have answered STORED).  At a crash point chosen
 * from the cycle's seed the disk loses (CV_DROP) or tears (CV_TEAR) what
 * was not synced; the store is then reopened through the unix VFS and
 * checked:
 *
 *  1. it opens (never corrupt, never refused);
 *  2. every row is one the writer appended, with its exact bytes, in
 *     increasing order;
 *  3. every durable seq above the highest discard is present (lost = 0);
 *  4. the next seq handed out is above every durable seq (a reused
 *     number would be dropped by AMPS as a duplicate: silent loss).
 *
 * If ampsd's own checks (store-file.c) refuse the reopened file, SQLite
 * is asked directly: when it reads the store and nothing is lost, the
 * cycle counts as "refused-recoverable" (an availability problem, fatal
 * only with POWERLOSS_STRICT=1); when it cannot, the test fails.
 *
 * With synchronous=FULL all four must hold at every crash point.  With
 * synchronous=NORMAL the same checker must see loss at some point: the
 * proof that the test can fail.  The base seed is printed and can be set
 * with POWERLOSS_SEED.
 */

#include <sys/stat.h>

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "crashvfs.h"
#include "powerloss.h"
#include "pubstore.h"
#include "store.h"
#include "testutil.h"

#define PL_BATCHES	40
#define PL_MAXBATCH	24
#define PL_MAXSEQ	(PL_BATCHES * PL_MAXBATCH + 64)

/* What one writer run reported and what the checker found. */
struct pl_run {
	uint64_t	 rng;
	uint64_t	 last_appended;
	uint64_t	 max_durable;
	uint64_t	 discard_req;
	unsigned char	 durable[PL_MAXSEQ];	/* commit returned 0 */
	uint64_t	 ndurable;
	uint64_t	 lost;
	uint64_t	 reused;
	uint64_t	 bad;			/* wrong or phantom rows */
	uint64_t	 rows;
	uint64_t	 order;
	int		 open_failed;		/* not even SQLite reads it */
	int		 refused;		/* ampsd refuses, SQLite reads */
	char		 why[512];
};

/* Totals of one test, printed at the end. */
struct pl_totals {
	struct pw_crashes	 cv;
	uint64_t	 durable;
	uint64_t	 lost;
	uint64_t	 reused;
	uint64_t	 bad;
	uint64_t	 open_failed;
	uint64_t	 refused;
	uint64_t	 lossy_cycles;
};

static uint64_t	 pl_seed = 20260401;
static int	 pl_strict;	/* POWERLOSS_STRICT: refusals fail too */
static char	 pl_dir[] = "/tmp/powerloss.XXXXXX";

/* The payload of seq: its length and bytes derive from seq alone. */
static size_t
pl_payload(uint64_t seq, unsigned char *buf, size_t cap)
{
	size_t	 len = 16 + (size_t)((seq * 7919) % 700), i;

	ck_assert_uint_le(len, cap);
	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)((seq * 31 + i * 7) & 0xff);
	return (len);
}

/* A fresh store at path through the unix VFS, closed cleanly. */
static void
pl_create(const char *path, enum store_durability dur)
{
	struct pubstore	*ps;
	char		*cause = NULL, p[300];

	unlink(path);
	snprintf(p, sizeof p, "%s-commits", path);	/* the store's marker */
	unlink(p);
	ck_assert_int_eq(crashvfs_register(0), 0);
	ps = pubstore_open(path, dur, STORE_CREATE, &cause);
	ck_assert_msg(ps != NULL, "create %s: %s", path, cause);
	pubstore_close(ps);
}

/*
 * The writer: batches of appends and commits through crashvfs until the
 * crash (or the end).  Fills r with what was reported durable.
 */
static void
pl_write(const char *path, enum store_durability dur, uint64_t seed,
    struct pl_run *r)
{
	struct pubstore		*ps;
	struct pubstore_rec	 rec;
	unsigned char		 data[1024];
	char			*cause = NULL, topic[16];
	uint64_t		 seq, first, last, d;
	int			 b, i, n;

	memset(r, 0, sizeof *r);
	r->rng = seed;
	ck_assert_int_eq(crashvfs_register(1), 0);
	ps = pubstore_open(path, dur, 0, &cause);
	if (ps == NULL) {
		ck_assert_msg(crashvfs_crashed(), "open failed without a "
		    "crash: %s", cause);
		free(cause);
		goto out;
	}
	for (b = 0; b < PL_BATCHES; b++) {
		n = 1 + (int)(pw_rand(&r->rng) % PL_MAXBATCH);
		first = last = 0;
		for (i = 0; i < n; i++) {
			memset(&rec, 0, sizeof rec);
			rec.kind = PUBSTORE_PUBLISH;
			seq = r->last_appended + 1;
			snprintf(topic, sizeof topic, "t.%" PRIu64, seq % 5);
			rec.topic = topic;
			rec.topic_len = strlen(topic);
			rec.hdr = "\"x\":\"c\"";
			rec.hdr_len = 7;
			rec.data = data;
			rec.data_len = pl_payload(seq, data, sizeof data);
			if (pubstore_append(ps, &rec, &seq) == -1)
				goto close;
			ck_assert_uint_eq(seq, r->last_appended + 1);
			r->last_appended = seq;
			if (first == 0)
				first = seq;
			last = seq;
		}
		if (b % 3 == 2 && r->max_durable > 0) {
			d = pw_rand(&r->rng) % 40;
			d = d < r->max_durable ? r->max_durable - d : 0;
			if (d > r->discard_req)
				r->discard_req = d;
			pubstore_discard_upto(ps, d);
		}
		if (pubstore_commit(ps) != 0)
			goto close;
		for (seq = first; seq <= last; seq++) {
			r->durable[seq] = 1;
			r->ndurable++;
		}
		r->max_durable = last;
	}
close:
	pubstore_close(ps);
out:
	ck_assert_int_eq(crashvfs_register(0), 0);
}

/* Replay callback of the checker (checks 2). */
static int
pl_check_row(const struct pubstore_rec *rec, void *arg)
{
	struct pl_run	*r = arg;
	unsigned char	 want[1024];
	char		 topic[16];
	size_t		 len;

	r->rows++;
	if (rec->seq <= r->order || rec->seq > r->last_appended) {
		r->bad++;
		return (0);
	}
	r->order = rec->seq;
	len = pl_payload(rec->seq, want, sizeof want);
	snprintf(topic, sizeof topic, "t.%" PRIu64, rec->seq % 5);
	if (rec->data_len != len || memcmp(rec->data, want, len) != 0 ||
	    rec->topic_len != strlen(topic) ||
	    memcmp(rec->topic, topic, rec->topic_len) != 0)
		r->bad++;
	else
		r->durable[rec->seq] |= 2;	/* present */
	return (0);
}

/* Check 3: durable seqs above the highest discard that are missing. */
static void
pl_count_lost(struct pl_run *r)
{
	uint64_t	 seq;

	for (seq = r->discard_req + 1; seq <= r->max_durable; seq++) {
		if ((r->durable[seq] & 1) && !(r->durable[seq] & 2))
			r->lost++;
	}
}

/*
 * When ampsd's store checks refuse the file, ask SQLite itself (which
 * recovers from the WAL) whether anything was really lost: a refusal of
 * a recoverable store costs availability, not data.  Returns 0 if SQLite
 * could read the store (checks 2 and 4 done), -1 if not.
 */
static int
pl_verify_raw(const char *path, struct pl_run *r)
{
	struct pubstore_rec	 rec;
	sqlite3			*db;
	sqlite3_stmt		*st;
	int			 rc;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return (-1);
	}
	rc = sqlite3_prepare_v2(db, "SELECT seq, topic, data FROM pub "
	    "ORDER BY seq", -1, &st, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&rec, 0, sizeof rec);
		rec.seq = (uint64_t)sqlite3_column_int64(st, 0);
		rec.topic = sqlite3_column_blob(st, 1);
		rec.topic_len = (size_t)sqlite3_column_bytes(st, 1);
		rec.data = sqlite3_column_blob(st, 2);
		rec.data_len = (size_t)sqlite3_column_bytes(st, 2);
		pl_check_row(&rec, r);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		sqlite3_close(db);
		return (-1);
	}
	rc = sqlite3_prepare_v2(db, "SELECT max((SELECT v FROM meta WHERE "
	    "k = 'next_seq'), coalesce((SELECT max(seq) FROM pub), 0) + 1)",
	    -1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
	    (uint64_t)sqlite3_column_int64(st, 0) <= r->max_durable)
		r->reused++;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return (rc == SQLITE_OK ? 0 : -1);
}

/* Reopen through unix and check what survived (checks 1-4). */
static void
pl_verify(const char *path, enum store_durability dur, struct pl_run *r)
{
	struct pubstore		*ps;
	struct pubstore_rec	 rec;
	char			*cause = NULL;
	uint64_t		 seq;

	ps = pubstore_open(path, dur, 0, &cause);
	if (ps == NULL) {
		snprintf(r->why, sizeof r->why, "reopen: %s", cause);
		free(cause);
		if (pl_verify_raw(path, r) == -1)
			r->open_failed = 1;
		else
			r->refused = 1;
		pl_count_lost(r);
		return;
	}
	ck_assert_int_ge(pubstore_replay(ps, 0, 0, pl_check_row, r), 0);
	pl_count_lost(r);
	memset(&rec, 0, sizeof rec);
	rec.kind = PUBSTORE_PUBLISH;
	rec.topic = "next";
	rec.topic_len = 4;
	rec.hdr = "";
	rec.data = "";
	ck_assert_int_eq(pubstore_append(ps, &rec, &seq), 0);
	if (seq <= r->max_durable)
		r->reused++;
	ck_assert_int_eq(pubstore_commit(ps), 0);
	pubstore_close(ps);
}

/* What crashvfs_cycle() runs: recreate the store, run the writer. */
static void
pl_job_run(void *arg)
{
	struct pw_job	*j = arg;

	pl_create(j->path, j->dur);
	pl_write(j->path, j->dur, j->seed, j->run);
}

/*
 * One cycle (crashvfs_cycle(): a dry run of the seed to count its
 * operations, then the real run crashing at a point drawn from the seed,
 * or in sync at_sync), then the check.
 */
static void
pl_cycle(enum store_durability dur, enum cv_mode mode, uint64_t seed,
    uint64_t at_sync, struct pl_totals *tot)
{
	struct pl_run	*r;
	struct pw_job	 job;
	struct cv_stats	 st;
	char		 path[256];

	r = calloc(1, sizeof *r);
	ck_assert_ptr_nonnull(r);
	snprintf(path, sizeof path, "%s/pub-main.db", pl_dir);
	job = (struct pw_job){ path, dur, seed, r };
	pw_cycle(&job, mode, at_sync, pl_job_run, &tot->cv, &st);
	pl_verify(path, dur, r);

	tot->durable += r->ndurable;
	tot->lost += r->lost;
	tot->reused += r->reused;
	tot->bad += r->bad;
	tot->open_failed += r->open_failed;
	tot->refused += r->refused;
	if (r->refused)
		printf("powerloss: seed %" PRIu64 ": store refused although "
		    "SQLite recovers it (no data lost): %s\n", seed, r->why);
	tot->lossy_cycles += (r->lost + r->reused) > 0;
	if (dur == STORE_SYNC_FULL) {
		ck_assert_msg(!r->open_failed, "seed %" PRIu64 ": %s", seed,
		    r->why);
		ck_assert_msg(!r->refused || !pl_strict, "seed %" PRIu64
		    ": a recoverable store is refused: %s", seed, r->why);
		ck_assert_msg(r->lost == 0 && r->reused == 0 && r->bad == 0,
		    "seed %" PRIu64 " crash at op %" PRIu64 ": lost %" PRIu64
		    " reused %" PRIu64 " bad %" PRIu64, seed, st.ops, r->lost,
		    r->reused, r->bad);
	}
	free(r);
}

/* Print a test's figures (the numbers docs/RELIABILITY.md quotes). */
static void
pl_report(const char *name, const struct pl_totals *t)
{
	printf("powerloss %s: seed %" PRIu64 " cycles %" PRIu64 " crashes %"
	    PRIu64 " durable-acked %" PRIu64 " lost %" PRIu64 " reused %"
	    PRIu64 " bad %" PRIu64 " reopen-failed %" PRIu64
	    " lossy-cycles %" PRIu64 " unsynced-writes %" PRIu64
	    " sectors-dropped %" PRIu64 " sectors-kept %" PRIu64
	    " refused-recoverable %" PRIu64 "\n",
	    name, pl_seed, t->cv.cycles, t->cv.crashes, t->durable, t->lost,
	    t->reused, t->bad, t->open_failed, t->lossy_cycles, t->cv.unsynced,
	    t->cv.sectors_lost, t->cv.sectors_kept, t->refused);
	fflush(stdout);
}

/* FULL, random crash points, unsynced writes all lost. */
START_TEST(full_drop)
{
	struct pl_totals	 t;
	uint64_t		 i;

	memset(&t, 0, sizeof t);
	for (i = 0; i < 150; i++)
		pl_cycle(STORE_SYNC_FULL, CV_DROP, pl_seed + i, 0, &t);
	pl_report("full/drop", &t);
	ck_assert_uint_gt(t.cv.crashes, 100);
	ck_assert_uint_eq(t.lost, 0);
}
END_TEST

/* FULL, random crash points, unsynced writes torn sector by sector. */
START_TEST(full_tear)
{
	struct pl_totals	 t;
	uint64_t		 i;

	memset(&t, 0, sizeof t);
	for (i = 0; i < 150; i++)
		pl_cycle(STORE_SYNC_FULL, CV_TEAR, pl_seed + 1000 + i, 0, &t);
	pl_report("full/tear", &t);
	ck_assert_uint_gt(t.cv.sectors_lost, 0);
	ck_assert_uint_gt(t.cv.sectors_kept, 0);
	ck_assert_uint_eq(t.lost, 0);
}
END_TEST

/* FULL, a crash inside every sync in turn, dropped and torn. */
START_TEST(full_every_sync)
{
	struct pl_totals	 t;
	uint64_t		 n;

	memset(&t, 0, sizeof t);
	for (n = 1; n <= PL_BATCHES + 4; n++) {
		pl_cycle(STORE_SYNC_FULL, CV_DROP, pl_seed + 2000, n, &t);
		pl_cycle(STORE_SYNC_FULL, CV_TEAR, pl_seed + 3000 + n, n, &t);
	}
	pl_report("full/every-sync", &t);
	ck_assert_uint_gt(t.cv.crashes, PL_BATCHES);
	ck_assert_uint_eq(t.lost, 0);
}
END_TEST

/* NORMAL: the same checker must catch lost acknowledged rows. */
START_TEST(normal_detects_loss)
{
	struct pl_totals	 t;
	uint64_t		 i;

	memset(&t, 0, sizeof t);
	for (i = 0; i < 60; i++)
		pl_cycle(STORE_SYNC_NORMAL, CV_DROP, pl_seed + 4000 + i, 0, &t);
	pl_report("normal/drop", &t);
	ck_assert_uint_eq(t.open_failed, 0);
	ck_assert_msg(t.lossy_cycles > 0, "synchronous=NORMAL lost nothing: "
	    "the power-loss test has no teeth");
}
END_TEST

/* Create the scratch directory. */
static void
pl_setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(pl_dir));
}

/* Remove the scratch directory. */
static void
pl_teardown(void)
{
	pw_rmdir(pl_dir, "/tmp/powerloss.XXXXXX", "pub-main.db");
}

/* The suite. */
int
main(void)
{
	Suite		*s = suite_create("powerloss");
	TCase		*tc = tcase_create("crashvfs");
	const char	*strict = getenv("POWERLOSS_STRICT");

	pl_strict = strict != NULL && *strict == '1';
	pl_seed = pw_seed("powerloss", pl_seed, pl_strict ? ", strict" : "");
	tcase_add_checked_fixture(tc, pl_setup, pl_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, full_drop);
	tcase_add_test(tc, full_tear);
	tcase_add_test(tc, full_every_sync);
	tcase_add_test(tc, normal_detects_loss);
	suite_add_tcase(s, tc);
	return (check_main(s));
}
