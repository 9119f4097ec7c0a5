/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * check_powerloss_bm: power loss against the real bookmark store
 * (DESIGN.md §4 promises 2 and 5; bookmarkstore.c, bmtrack.c).
 *
 * The contract under test (bookmarkstore.h, subpath-sub.c): a
 * DISCARD and a subscription's definition are durable once the pass's
 * commit returned 0; only then does ampsd answer what the program sent
 * after them (the PING of a durable consumer).  Logged but undiscarded
 * bookmarks are never written: after a restart they come again.
 *
 * Each cycle creates a bookmark store, then runs a writer through
 * crashvfs (the default VFS for the writer only, so bookmarkstore_open()
 * and store.c run unchanged).  Per pass, for each of PB_NSUB durable
 * subscriptions: log a few new messages of three publishers (their
 * bookmarks "P|seq|", seqs increasing per publisher), discard some of
 * the outstanding ones (mostly the oldest, so the resume point moves;
 * sometimes a random one, so out-of-order discard rows are written and
 * later deleted when they pop); now and then (re)define a subscription
 * with a new filter; then bookmarkstore_commit().  Every discard and
 * definition of a pass whose commit returned 0 is "reported durable".
 * At a crash point chosen from the cycle's seed the disk loses
 * (CV_DROP) or tears (CV_TEAR) what was not synced.  The store is then
 * reopened through the unix VFS and each subscription's whole stream is
 * logged again in its order, as AMPS would replay it from EPOCH:
 *
 *  1. the store opens (never corrupt, never refused) and takes a commit;
 *  2. every durably defined subscription is there, with the filter of
 *     its last durable definition or of a later one that was in flight
 *     (an older filter is a lost definition, like a missing one);
 *  3. every durably discarded bookmark is suppressed as a duplicate
 *     (lost = 0: a committed discard never comes back);
 *  4. no bookmark that was never discarded is suppressed, and
 *     MOST_RECENT (single bookmark and per-publisher list) is not past
 *     any of them (skipped = 0: no gap, in every mode).
 *
 * To reach crash points inside checkpoints in a short run, the writer
 * checkpoints after PB_CKPT WAL frames instead of SQLite's 1000 (PRAGMA
 * wal_autocheckpoint: the same code path, sooner).  With
 * synchronous=FULL all four must hold at every crash point; with
 * synchronous=NORMAL check 3 must fail at some point (the proof that the
 * test can fail), the others must still hold.  The base seed is printed
 * and can be set with POWERLOSS_SEED.
 */

#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bookmarkstore.h"
#include "crashvfs.h"
#include "powerloss.h"
#include "store.h"
#include "testutil.h"

#define PB_PASSES	60
#define PB_NSUB		3
#define PB_NPUB		3
#define PB_MAXLOG	6	/* new messages per sub and pass, at most */
#define PB_MAXDISC	6	/* discards per sub and pass, at most */
#define PB_MAXMSG	(PB_PASSES * PB_MAXLOG)
#define PB_CKPT		16	/* wal_autocheckpoint of every connection */

static const uint64_t	 pb_pubs[PB_NPUB] = { 11, 2222, 333333 };

/* One message of a subscription's stream. */
struct pb_msg {
	uint64_t	 pub;
	uint64_t	 seq;
	int		 disc_pass;	/* pass of its discard, -1: none */
};

/* One durable subscription as the writer drove it. */
struct pb_sub {
	char		 id[8];
	int		 def_first;	/* pass of its first define, -1 */
	int		 def_last;	/* pass of its latest define */
	int		 def_durable;	/* latest define durable, -1 */
	struct pb_msg	 m[PB_MAXMSG];
	int		 n;
	uint64_t	 pubseq[PB_NPUB];
};

/* What one writer run reported and what the checker found. */
struct pb_run {
	uint64_t	 rng;
	int		 last_ok;	/* last pass whose commit returned 0 */
	struct pb_sub	 s[PB_NSUB];
	uint64_t	 ndurable;	/* durable discards */
	uint64_t	 nooo;		/* out-of-order discards attempted */
	uint64_t	 lost;		/* durable discards delivered again */
	uint64_t	 lost_defs;	/* durable definitions missing */
	uint64_t	 skipped;	/* never discarded, yet suppressed */
	uint64_t	 bad;		/* wrong filter, unknown resume point */
	int		 open_failed;
	char		 why[512];
};

/* Totals of one test, printed at the end. */
struct pb_totals {
	struct pw_crashes	 cv;
	uint64_t	 durable;
	uint64_t	 ooo;
	uint64_t	 lost;
	uint64_t	 lost_defs;
	uint64_t	 skipped;
	uint64_t	 bad;
	uint64_t	 open_failed;
	uint64_t	 lossy_cycles;
};

static uint64_t	 pb_seed = 20260402;
static char	 pb_dir[] = "/tmp/powerloss-bm.XXXXXX";

/*
 * Make the writer's connection checkpoint every PB_CKPT WAL frames (a
 * statement prepared through store.c, finalized by bookmarkstore_close()).
 */
static void
pb_ckpt(struct bookmarkstore *bs)
{
	sqlite3_stmt	*st;
	char		*cause = NULL, sql[64];

	snprintf(sql, sizeof sql, "PRAGMA wal_autocheckpoint = %d", PB_CKPT);
	ck_assert_msg(store_prepare(bookmarkstore_store(bs), sql, &st,
	    &cause) == 0, "%s", cause);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), PB_CKPT);
	sqlite3_reset(st);
}

/* The bookmark of m. */
static void
pb_bm(const struct pb_msg *m, char *buf, size_t cap)
{
	snprintf(buf, cap, "%" PRIu64 "|%" PRIu64 "|", m->pub, m->seq);
}

/* Define (or redefine) sub i at pass; the filter names the pass. */
static int
pb_define(struct bookmarkstore *bs, struct pb_sub *s, int pass)
{
	struct bookmarkstore_sub	 d;
	char				 filter[32];

	snprintf(filter, sizeof filter, "/v > %d", pass);
	memset(&d, 0, sizeof d);
	d.sub_id = s->id;
	d.topic = "orders";
	d.filter = filter;
	d.options = "";
	d.start = NULL;		/* EPOCH */
	if (bookmarkstore_define(bs, &d) == -1)
		return (-1);
	if (s->def_first == -1)
		s->def_first = pass;
	s->def_last = pass;
	return (0);
}

/* Log up to PB_MAXLOG new messages on s (they are delivered). */
static void
pb_log(struct bookmarkstore *bs, struct pb_run *r, struct pb_sub *s)
{
	struct pb_msg	*m;
	char		 bm[64];
	int		 i, n, p;

	n = (int)(pw_rand(&r->rng) % (PB_MAXLOG + 1));
	for (i = 0; i < n && s->n < PB_MAXMSG; i++) {
		p = (int)(pw_rand(&r->rng) % PB_NPUB);
		m = &s->m[s->n++];
		m->pub = pb_pubs[p];
		m->seq = ++s->pubseq[p];
		m->disc_pass = -1;
		pb_bm(m, bm, sizeof bm);
		ck_assert_int_eq(bookmarkstore_log(bs, s->id, bm, strlen(bm)),
		    BMTRACK_NEW);
	}
}

/*
 * Discard up to PB_MAXDISC outstanding messages of s: three in four the
 * oldest, else a random one (out of order).  -1 when the store failed.
 */
static int
pb_discard(struct bookmarkstore *bs, struct pb_run *r, struct pb_sub *s,
    int pass)
{
	struct pb_msg	*m;
	char		 bm[64];
	int		 i, j, n, first, nout, pick, rc;

	n = (int)(pw_rand(&r->rng) % (PB_MAXDISC + 1));
	for (i = 0; i < n; i++) {
		first = -1;
		nout = 0;
		for (j = 0; j < s->n; j++) {
			if (s->m[j].disc_pass != -1)
				continue;
			if (first == -1)
				first = j;
			nout++;
		}
		if (nout == 0)
			break;
		if (pw_rand(&r->rng) % 4 != 0)
			pick = first;
		else {
			pick = (int)(pw_rand(&r->rng) % (uint64_t)nout);
			for (j = first; j < s->n; j++) {
				if (s->m[j].disc_pass == -1 && pick-- == 0)
					break;
			}
			pick = j;
			r->nooo += pick != first;
		}
		m = &s->m[pick];
		m->disc_pass = pass;
		pb_bm(m, bm, sizeof bm);
		rc = bookmarkstore_discard(bs, s->id, bm, strlen(bm));
		if (rc == -1) {
			ck_assert_msg(crashvfs_crashed(), "discard %s failed "
			    "without a crash: %s", bm,
			    bookmarkstore_error(bs));
			return (-1);
		}
		ck_assert_int_le(rc, 1);
	}
	return (0);
}

/* A fresh store at path through the unix VFS, closed cleanly. */
static void
pb_create(const char *path, enum store_durability dur)
{
	struct bookmarkstore	*bs;
	char			*cause = NULL, p[300];

	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-commits", path);	/* the store's marker */
	unlink(p);
	ck_assert_int_eq(crashvfs_register(0), 0);
	bs = bookmarkstore_open(path, dur, STORE_CREATE, &cause);
	ck_assert_msg(bs != NULL, "create %s: %s", path, cause);
	bookmarkstore_close(bs);
}

/*
 * The writer: passes of logs, discards and definitions, each committed,
 * through crashvfs until the crash (or the end).  Fills r.
 */
static void
pb_write(const char *path, enum store_durability dur, uint64_t seed,
    struct pb_run *r)
{
	struct bookmarkstore	*bs;
	struct pb_sub		*s;
	char			*cause = NULL;
	int			 pass, i, j;

	memset(r, 0, sizeof *r);
	r->rng = seed;
	r->last_ok = -1;
	for (i = 0; i < PB_NSUB; i++) {
		snprintf(r->s[i].id, sizeof r->s[i].id, "d%d", i);
		r->s[i].def_first = r->s[i].def_last = -1;
		r->s[i].def_durable = -1;
	}
	ck_assert_int_eq(crashvfs_register(1), 0);
	bs = bookmarkstore_open(path, dur, 0, &cause);
	if (bs == NULL) {
		ck_assert_msg(crashvfs_crashed(), "open failed without a "
		    "crash: %s", cause);
		free(cause);
		goto out;
	}
	pb_ckpt(bs);
	for (pass = 0; pass < PB_PASSES; pass++) {
		for (i = 0; i < PB_NSUB; i++) {
			s = &r->s[i];
			/* d0, d1 from the start, d2 later; a new filter now
			 * and then. */
			if ((s->def_first == -1 && (i < 2 || pass == 8)) ||
			    (s->def_first != -1 && pass % 11 == 5 &&
			    i == pass % PB_NSUB)) {
				if (pb_define(bs, s, pass) == -1)
					goto close;
			}
			if (s->def_first == -1)
				continue;
			pb_log(bs, r, s);
			if (pb_discard(bs, r, s, pass) == -1)
				goto close;
		}
		if (bookmarkstore_commit(bs) != 0)
			goto close;
		r->last_ok = pass;
		for (i = 0; i < PB_NSUB; i++) {
			s = &r->s[i];
			if (s->def_last != -1)
				s->def_durable = s->def_last;
			for (j = 0; j < s->n; j++)
				r->ndurable += s->m[j].disc_pass == pass;
		}
	}
close:
	bookmarkstore_close(bs);
out:
	ck_assert_int_eq(crashvfs_register(0), 0);
}

/* Whether message j of s was durably discarded. */
static int
pb_durable(const struct pb_run *r, const struct pb_sub *s, int j)
{
	return (s->m[j].disc_pass != -1 && s->m[j].disc_pass <= r->last_ok);
}

/* foreach callback: check the filter of each definition (check 2). */
static int
pb_check_def(const struct bookmarkstore_sub *d, void *arg)
{
	struct pb_run	*r = arg;
	struct pb_sub	*s = NULL;
	int		 i, pass;

	for (i = 0; i < PB_NSUB; i++) {
		if (strcmp(r->s[i].id, d->sub_id) == 0)
			s = &r->s[i];
	}
	if (s == NULL || sscanf(d->filter, "/v > %d", &pass) != 1 ||
	    pass > s->def_last || strcmp(d->topic, "orders") != 0) {
		snprintf(r->why, sizeof r->why, "definition %s: topic %s "
		    "filter %s", d->sub_id, d->topic, d->filter);
		r->bad++;
	} else if (pass < s->def_durable)
		r->lost_defs++;		/* a committed redefinition */
	return (0);
}

/*
 * Check 4 for MOST_RECENT: the single resume bookmark and every
 * "P|max|" of the list cover only messages that were discarded.
 */
static void
pb_check_resume(struct bookmarkstore *bs, struct pb_run *r,
    struct pb_sub *s)
{
	char		 out[1024], bm[64], *p, *e;
	uint64_t	 pub, max;
	int		 j, at = -1;

	ck_assert_int_lt(bookmarkstore_most_recent(bs, s->id, BMTRACK_SINGLE,
	    out, sizeof out), (int)sizeof out);
	if (strcmp(out, "0") != 0) {
		for (j = 0; j < s->n && at == -1; j++) {
			pb_bm(&s->m[j], bm, sizeof bm);
			if (strcmp(bm, out) == 0)
				at = j;
		}
		if (at == -1) {
			snprintf(r->why, sizeof r->why, "%s: resume point %.200s "
			    "was never delivered", s->id, out);
			r->bad++;
		}
		for (j = 0; j <= at; j++)
			r->skipped += s->m[j].disc_pass == -1;
	}
	ck_assert_int_lt(bookmarkstore_most_recent(bs, s->id, BMTRACK_LIST,
	    out, sizeof out), (int)sizeof out);
	if (strcmp(out, "0") == 0)
		return;
	for (p = out; *p != '\0'; p = *e == ',' ? e + 1 : e) {
		pub = strtoull(p, &e, 10);
		if (*e != '|') {
			r->bad++;
			return;
		}
		max = strtoull(e + 1, &e, 10);
		if (*e++ != '|') {
			r->bad++;
			return;
		}
		for (j = 0; j < s->n; j++) {
			if (s->m[j].pub == pub && s->m[j].seq <= max &&
			    s->m[j].disc_pass == -1)
				r->skipped++;
		}
	}
}

/* Reopen through unix and check what survived (checks 1-4). */
static void
pb_verify(const char *path, enum store_durability dur, struct pb_run *r)
{
	struct bookmarkstore	*bs;
	struct pb_sub		*s;
	char			*cause = NULL, bm[64];
	int			 i, j, rc;

	bs = bookmarkstore_open(path, dur, 0, &cause);
	if (bs == NULL) {
		snprintf(r->why, sizeof r->why, "reopen: %s", cause);
		free(cause);
		r->open_failed = 1;
		return;
	}
	bookmarkstore_foreach(bs, pb_check_def, r);
	for (i = 0; i < PB_NSUB; i++) {
		s = &r->s[i];
		if (bmtrack_get(bookmarkstore_tracker(bs), s->id) == NULL) {
			r->lost_defs += s->def_durable != -1;
			for (j = 0; j < s->n; j++)
				r->lost += pb_durable(r, s, j);
			continue;
		}
		pb_check_resume(bs, r, s);
		/* The replay of the whole stream, in order. */
		for (j = 0; j < s->n; j++) {
			pb_bm(&s->m[j], bm, sizeof bm);
			rc = bookmarkstore_log(bs, s->id, bm, strlen(bm));
			if (rc == BMTRACK_DUPLICATE)
				r->skipped += s->m[j].disc_pass == -1;
			else
				r->lost += pb_durable(r, s, j);
		}
	}
	ck_assert_msg(bookmarkstore_commit(bs) == 0, "commit after reopen: "
	    "%s", bookmarkstore_error(bs));
	bookmarkstore_close(bs);
}

/* What crashvfs_cycle() runs: recreate the store, run the writer. */
static void
pb_job_run(void *arg)
{
	struct pw_job	*j = arg;

	pb_create(j->path, j->dur);
	pb_write(j->path, j->dur, j->seed, j->run);
}

/*
 * One cycle (crashvfs_cycle(): a dry run of the seed to count its
 * operations, then the real run crashing at a point drawn from the seed,
 * or in sync at_sync), then the check.
 */
static void
pb_cycle(enum store_durability dur, enum cv_mode mode, uint64_t seed,
    uint64_t at_sync, struct pb_totals *tot)
{
	struct pb_run	*r;
	struct pw_job	 job;
	struct cv_stats	 st;
	char		 path[256];

	r = calloc(1, sizeof *r);
	ck_assert_ptr_nonnull(r);
	snprintf(path, sizeof path, "%s/main.bm.db", pb_dir);
	job = (struct pw_job){ path, dur, seed, r };
	pw_cycle(&job, mode, at_sync, pb_job_run, &tot->cv, &st);
	pb_verify(path, dur, r);

	tot->durable += r->ndurable;
	tot->ooo += r->nooo;
	tot->lost += r->lost;
	tot->lost_defs += r->lost_defs;
	tot->skipped += r->skipped;
	tot->bad += r->bad;
	tot->open_failed += r->open_failed;
	tot->lossy_cycles += (r->lost + r->lost_defs) > 0;
	/* In every mode: the store opens, no gap, nothing malformed. */
	ck_assert_msg(!r->open_failed, "seed %" PRIu64 ": %s", seed, r->why);
	ck_assert_msg(r->skipped == 0 && r->bad == 0, "seed %" PRIu64
	    " crash at op %" PRIu64 ": skipped %" PRIu64 " bad %" PRIu64
	    " %s", seed, st.ops, r->skipped, r->bad, r->why);
	if (dur == STORE_SYNC_FULL)
		ck_assert_msg(r->lost == 0 && r->lost_defs == 0, "seed %"
		    PRIu64 " crash at op %" PRIu64 ": lost discards %" PRIu64
		    " lost definitions %" PRIu64, seed, st.ops, r->lost,
		    r->lost_defs);
	free(r);
}

/* Print a test's figures (the numbers docs/RELIABILITY.md quotes). */
static void
pb_report(const char *name, const struct pb_totals *t)
{
	printf("powerloss-bm %s: seed %" PRIu64 " cycles %" PRIu64
	    " crashes %" PRIu64 " durable-discards %" PRIu64
	    " out-of-order %" PRIu64 " lost %" PRIu64 " lost-definitions %"
	    PRIu64 " skipped %" PRIu64 " bad %" PRIu64 " reopen-failed %"
	    PRIu64 " lossy-cycles %" PRIu64 " unsynced-writes %" PRIu64
	    " sectors-dropped %" PRIu64 " sectors-kept %" PRIu64 "\n",
	    name, pb_seed, t->cv.cycles, t->cv.crashes, t->durable, t->ooo,
	    t->lost, t->lost_defs, t->skipped, t->bad, t->open_failed,
	    t->lossy_cycles, t->cv.unsynced, t->cv.sectors_lost,
	    t->cv.sectors_kept);
	fflush(stdout);
}

/* FULL, random crash points, unsynced writes all lost. */
START_TEST(full_drop)
{
	struct pb_totals	 t;
	uint64_t		 i;

	memset(&t, 0, sizeof t);
	for (i = 0; i < 60; i++)
		pb_cycle(STORE_SYNC_FULL, CV_DROP, pb_seed + i, 0, &t);
	pb_report("full/drop", &t);
	ck_assert_uint_gt(t.cv.crashes, 40);
	ck_assert_uint_gt(t.durable, 0);
	ck_assert_uint_eq(t.lost, 0);
}
END_TEST

/* FULL, random crash points, unsynced writes torn sector by sector. */
START_TEST(full_tear)
{
	struct pb_totals	 t;
	uint64_t		 i;

	memset(&t, 0, sizeof t);
	for (i = 0; i < 60; i++)
		pb_cycle(STORE_SYNC_FULL, CV_TEAR, pb_seed + 1000 + i, 0, &t);
	pb_report("full/tear", &t);
	ck_assert_uint_gt(t.cv.sectors_lost, 0);
	ck_assert_uint_gt(t.cv.sectors_kept, 0);
	ck_assert_uint_eq(t.lost, 0);
}
END_TEST

/*
 * FULL, a crash inside every sync of one seed's run in turn (counted by a
 * dry run), dropped and torn alternately.
 */
START_TEST(full_every_sync)
{
	struct pb_totals	 t;
	struct pw_job		 job;
	char			 path[256];
	uint64_t		 n, nsync;

	snprintf(path, sizeof path, "%s/main.bm.db", pb_dir);
	job = (struct pw_job){ path, STORE_SYNC_FULL, pb_seed + 2000,
	    calloc(1, sizeof (struct pb_run)) };
	ck_assert_ptr_nonnull(job.run);
	nsync = crashvfs_count(CV_COUNT_SYNC, job.seed, pb_job_run, &job);
	free(job.run);
	ck_assert_uint_gt(nsync, PB_PASSES);
	memset(&t, 0, sizeof t);
	for (n = 1; n <= nsync; n++)
		pb_cycle(STORE_SYNC_FULL, n % 2 ? CV_DROP : CV_TEAR,
		    pb_seed + 2000, n, &t);
	pb_report("full/every-sync", &t);
	ck_assert_uint_eq(t.cv.crashes, nsync);
	ck_assert_uint_eq(t.lost, 0);
}
END_TEST

/* NORMAL: the same checker must catch lost committed discards. */
START_TEST(normal_detects_loss)
{
	struct pb_totals	 t;
	uint64_t		 i;

	memset(&t, 0, sizeof t);
	for (i = 0; i < 40; i++)
		pb_cycle(STORE_SYNC_NORMAL, CV_DROP, pb_seed + 4000 + i, 0, &t);
	pb_report("normal/drop", &t);
	ck_assert_msg(t.lossy_cycles > 0, "synchronous=NORMAL lost nothing: "
	    "the power-loss test has no teeth");
}
END_TEST

/* Create the scratch directory. */
static void
pb_setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(pb_dir));
}

/* Remove the scratch directory. */
static void
pb_teardown(void)
{
	pw_rmdir(pb_dir, "/tmp/powerloss-bm.XXXXXX", "main.bm.db");
}

/* The suite. */
int
main(void)
{
	Suite		*s = suite_create("powerloss-bm");
	TCase		*tc = tcase_create("crashvfs");

	pb_seed = pw_seed("powerloss-bm", pb_seed, "");
	tcase_add_checked_fixture(tc, pb_setup, pb_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, full_drop);
	tcase_add_test(tc, full_tear);
	tcase_add_test(tc, full_every_sync);
	tcase_add_test(tc, normal_detects_loss);
	suite_add_tcase(s, tc);
	return (check_main(s));
}
