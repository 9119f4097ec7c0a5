/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for daemon/bmtrack.c, the PROTOCOL.md §8.6 bookmark-store
 * algorithm: conformance scenarios 23 (resume after discarding 1-3 of 5)
 * and 24 (duplicate suppression on replay), out-of-order discards, the
 * per-publisher list (option B), the persisted-ack rule, EPOCH for
 * unknown subscriptions, restore after restart, and bounds.
 */

#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmtrack.h"
#include "testutil.h"

#define PUB_A	"9518329128413381245"
#define PUB_B	"7094790850998930143"

static struct bmtrack	*bt;

static void
setup(void)
{
	bt = bmtrack_create();
	ck_assert(bt != NULL);
}

static void
teardown(void)
{
	bmtrack_free(bt);
	bt = NULL;
}

/* "<pub>|<seq>|" in a rotating static buffer. */
static const char *
bm(const char *pub, int seq)
{
	static char	 buf[8][64];
	static int	 i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof buf[i], "%s|%d|", pub, seq);
	return (buf[i]);
}

static int
logbm(struct bmsub *s, const char *b)
{
	return (bmtrack_log(s, b, strlen(b)));
}

static int
disc(struct bmsub *s, const char *b)
{
	return (bmtrack_discard(s, b, strlen(b), NULL, NULL));
}

/* most_recent of sub_id as a static string. */
static const char *
recent(const char *sub_id, int flags)
{
	static char	 out[512];

	ck_assert_int_lt(bmtrack_most_recent(bt, sub_id, flags, out,
	    sizeof out), (int)sizeof out);
	return (out);
}

START_TEST(test_scenario_23_resume)
{
	struct bmsub	*s = bmtrack_add(bt, "audit-1", "0");
	int		 i;

	for (i = 1; i <= 5; i++)
		ck_assert_int_eq(logbm(s, bm(PUB_A, i)), BMTRACK_NEW);
	ck_assert_str_eq(recent("audit-1", BMTRACK_SINGLE), "0");
	ck_assert_int_eq(disc(s, bm(PUB_A, 1)), 1);
	ck_assert_int_eq(disc(s, bm(PUB_A, 2)), 1);
	ck_assert_int_eq(disc(s, bm(PUB_A, 3)), 1);
	ck_assert_str_eq(recent("audit-1", BMTRACK_SINGLE), bm(PUB_A, 3));
	ck_assert_str_eq(recent("audit-1", BMTRACK_LIST), bm(PUB_A, 3));
	ck_assert_uint_eq(bmsub_queued(s), 2);
}
END_TEST

START_TEST(test_scenario_24_duplicates)
{
	struct bmsub	*s = bmtrack_add(bt, "audit-1", "0");
	int		 i;

	for (i = 1; i <= 5; i++)
		logbm(s, bm(PUB_A, i));
	for (i = 1; i <= 3; i++)
		disc(s, bm(PUB_A, i));
	/* The server replays 1-5 from an older bookmark. */
	for (i = 1; i <= 3; i++)
		ck_assert_int_eq(logbm(s, bm(PUB_A, i)), BMTRACK_DUPLICATE);
	for (i = 4; i <= 5; i++)
		ck_assert_int_eq(logbm(s, bm(PUB_A, i)), BMTRACK_REDELIVERY);
	ck_assert_uint_eq(bmsub_queued(s), 2);	/* not queued twice */
	ck_assert_int_eq(disc(s, bm(PUB_A, 4)), 1);
	ck_assert_int_eq(disc(s, bm(PUB_A, 5)), 1);
	ck_assert_uint_eq(bmsub_queued(s), 0);
	ck_assert_int_eq(logbm(s, bm(PUB_A, 5)), BMTRACK_DUPLICATE);
	ck_assert_int_eq(logbm(s, bm(PUB_A, 6)), BMTRACK_NEW);
}
END_TEST

START_TEST(test_out_of_order)
{
	struct bmsub	*s = bmtrack_add(bt, "x", NULL);
	int		 i;

	for (i = 1; i <= 5; i++)
		logbm(s, bm(PUB_A, i));
	ck_assert_int_eq(disc(s, bm(PUB_A, 2)), 0);
	ck_assert_int_eq(disc(s, bm(PUB_A, 4)), 0);
	ck_assert_int_eq(disc(s, bm(PUB_A, 4)), 2);	/* again */
	ck_assert_str_eq(recent("x", 0), "0");
	/* Discarded but behind an undiscarded one: still a duplicate. */
	ck_assert_int_eq(logbm(s, bm(PUB_A, 2)), BMTRACK_DUPLICATE);
	ck_assert_int_eq(logbm(s, bm(PUB_A, 3)), BMTRACK_REDELIVERY);
	ck_assert_int_eq(disc(s, bm(PUB_A, 1)), 1);
	ck_assert_str_eq(recent("x", 0), bm(PUB_A, 2));
	ck_assert_int_eq(disc(s, bm(PUB_A, 3)), 1);
	ck_assert_str_eq(recent("x", 0), bm(PUB_A, 4));
	ck_assert_uint_eq(bmsub_queued(s), 1);
	ck_assert_int_eq(disc(s, bm(PUB_A, 9)), -1);	/* never logged */
	ck_assert_int_eq(disc(s, bm(PUB_A, 3)), 2);	/* already popped */
}
END_TEST

/* Pop callback: record the order and the deferred flags. */
struct pops {
	char	 bms[8][64];
	int	 deferred[8];
	int	 n;
};

static void
pop_cb(const char *b, size_t len, int deferred, void *arg)
{
	struct pops	*p = arg;

	ck_assert_int_lt(p->n, 8);
	snprintf(p->bms[p->n], sizeof p->bms[p->n], "%.*s", (int)len, b);
	p->deferred[p->n] = deferred;
	p->n++;
}

START_TEST(test_pop_callback)
{
	struct bmsub	*s = bmtrack_add(bt, "x", "0");
	struct pops	 p;
	int		 i;

	memset(&p, 0, sizeof p);
	for (i = 1; i <= 3; i++)
		logbm(s, bm(PUB_A, i));
	ck_assert_int_eq(bmtrack_discard(s, bm(PUB_A, 3), 0 + strlen(bm(PUB_A,
	    3)), pop_cb, &p), 0);
	ck_assert_int_eq(p.n, 0);
	ck_assert_int_eq(bmtrack_discard(s, bm(PUB_A, 2), strlen(bm(PUB_A,
	    2)), pop_cb, &p), 0);
	ck_assert_int_eq(bmtrack_discard(s, bm(PUB_A, 1), strlen(bm(PUB_A,
	    1)), pop_cb, &p), 1);
	ck_assert_int_eq(p.n, 3);
	ck_assert_str_eq(p.bms[0], bm(PUB_A, 1));
	ck_assert_int_eq(p.deferred[0], 0);
	ck_assert_str_eq(p.bms[2], bm(PUB_A, 3));
	ck_assert_int_eq(p.deferred[2], 1);
}
END_TEST

START_TEST(test_per_publisher_list)
{
	struct bmsub	*s = bmtrack_add(bt, "x", "0");
	char		 out[256], want[256];

	logbm(s, bm(PUB_A, 10));
	logbm(s, bm(PUB_B, 3));
	logbm(s, bm(PUB_A, 11));
	logbm(s, bm(PUB_B, 4));
	disc(s, bm(PUB_A, 10));
	disc(s, bm(PUB_B, 3));
	disc(s, bm(PUB_A, 11));
	ck_assert_str_eq(recent("x", BMTRACK_SINGLE), bm(PUB_A, 11));
	snprintf(want, sizeof want, "%s,%s", bm(PUB_A, 11), bm(PUB_B, 3));
	ck_assert_str_eq(recent("x", BMTRACK_LIST), want);
	ck_assert_int_eq(bmsub_popped_list(s, out, sizeof out),
	    (int)strlen(want));
	ck_assert_str_eq(out, want);
	/* Duplicates per publisher. */
	ck_assert_int_eq(logbm(s, bm(PUB_B, 2)), BMTRACK_DUPLICATE);
	ck_assert_int_eq(logbm(s, bm(PUB_B, 4)), BMTRACK_REDELIVERY);
	ck_assert_int_eq(logbm(s, bm(PUB_B, 5)), BMTRACK_NEW);
	ck_assert_int_eq(logbm(s, bm(PUB_A, 11)), BMTRACK_DUPLICATE);
}
END_TEST

START_TEST(test_persisted_rule)
{
	struct bmsub	*s = bmtrack_add(bt, "x", "0");

	logbm(s, bm(PUB_A, 1));
	/* Replay running: the queue may be empty, still no advance. */
	disc(s, bm(PUB_A, 1));
	ck_assert_int_eq(bmtrack_persisted(s, bm(PUB_A, 7), strlen(bm(PUB_A,
	    7))), 0);
	ck_assert_str_eq(recent("x", 0), bm(PUB_A, 1));
	bmtrack_live(s, 1);
	logbm(s, bm(PUB_A, 2));
	/* Something outstanding: no advance. */
	ck_assert_int_eq(bmtrack_persisted(s, bm(PUB_A, 7), strlen(bm(PUB_A,
	    7))), 0);
	ck_assert_str_eq(recent("x", 0), bm(PUB_A, 1));
	disc(s, bm(PUB_A, 2));
	ck_assert_str_eq(recent("x", 0), bm(PUB_A, 2));
	/* Nothing outstanding: the resume point moves to the ack's bm. */
	ck_assert_int_eq(bmtrack_persisted(s, bm(PUB_B, 57), strlen(bm(PUB_B,
	    57))), 1);
	ck_assert_str_eq(recent("x", 0), bm(PUB_B, 57));
	ck_assert_int_eq(logbm(s, bm(PUB_B, 57)), BMTRACK_DUPLICATE);
	ck_assert_int_eq(logbm(s, bm(PUB_B, 58)), BMTRACK_NEW);
	/* Not a bookmark id, or not news: no move. */
	ck_assert_int_eq(bmtrack_persisted(s, "20240101T000000Z", 16), 0);
	ck_assert_int_eq(bmtrack_persisted(s, "", 0), -1);
}
END_TEST

START_TEST(test_unknown_and_start)
{
	struct bmsub	*s;

	ck_assert_str_eq(recent("nobody", 0), "0");
	ck_assert(bmtrack_get(bt, "nobody") == NULL);
	bmtrack_add(bt, "r", "recent");
	ck_assert_str_eq(recent("r", 0), "0");
	bmtrack_add(bt, "ts", "20240101T000000Z");
	ck_assert_str_eq(recent("ts", BMTRACK_LIST), "20240101T000000Z");
	/* NOW start with nothing popped: the persisted point, once known. */
	s = bmtrack_add(bt, "now", "0|1|");
	ck_assert_str_eq(recent("now", 0), "0|1|");
	logbm(s, bm(PUB_A, 1));
	bmtrack_persisted(s, bm(PUB_A, 5), strlen(bm(PUB_A, 5)));
	ck_assert_str_eq(recent("now", 0), bm(PUB_A, 5));
	/* An existing subscription keeps its start. */
	ck_assert(bmtrack_add(bt, "ts", "0") == bmtrack_get(bt, "ts"));
	ck_assert_str_eq(bmsub_start(bmtrack_get(bt, "ts")),
	    "20240101T000000Z");
}
END_TEST

START_TEST(test_purge)
{
	struct bmsub	*s = bmtrack_add(bt, "p", "0");

	logbm(s, bm(PUB_A, 1));
	disc(s, bm(PUB_A, 1));
	ck_assert_str_eq(recent("p", 0), bm(PUB_A, 1));
	bmtrack_purge(bt, "p");
	ck_assert_str_eq(recent("p", 0), "0");
	bmtrack_purge(bt, "p");		/* no-op */
	s = bmtrack_add(bt, "p", "0");
	ck_assert_int_eq(logbm(s, bm(PUB_A, 1)), BMTRACK_NEW);
}
END_TEST

START_TEST(test_restore)
{
	struct bmsub	*s = bmtrack_add(bt, "r", "0");
	char		 list[128];
	int		 i;

	snprintf(list, sizeof list, "%s,garbage,%s", bm(PUB_A, 3),
	    bm(PUB_B, 9));
	ck_assert_int_eq(bmsub_restore(s, bm(PUB_A, 3), list), 0);
	ck_assert_int_eq(bmsub_restore_discarded(s, bm(PUB_A, 5),
	    strlen(bm(PUB_A, 5))), 0);
	ck_assert_int_eq(bmsub_restore_discarded(s, bm(PUB_A, 2),
	    strlen(bm(PUB_A, 2))), 1);		/* already covered */
	ck_assert_str_eq(recent("r", 0), bm(PUB_A, 3));

	/* Replay from 3: 4 new, 5 was discarded, 6 new. */
	ck_assert_int_eq(logbm(s, bm(PUB_A, 3)), BMTRACK_DUPLICATE);
	ck_assert_int_eq(logbm(s, bm(PUB_A, 4)), BMTRACK_NEW);
	ck_assert_int_eq(logbm(s, bm(PUB_A, 5)), BMTRACK_DUPLICATE);
	ck_assert_int_eq(logbm(s, bm(PUB_A, 6)), BMTRACK_NEW);
	ck_assert_int_eq(logbm(s, bm(PUB_B, 9)), BMTRACK_DUPLICATE);
	ck_assert_int_eq(disc(s, bm(PUB_A, 4)), 1);
	ck_assert_str_eq(recent("r", 0), bm(PUB_A, 5));	/* 5 popped too */
	ck_assert_int_eq(disc(s, bm(PUB_A, 6)), 1);

	/* A restored discard that comes back first pops via settle. */
	s = bmtrack_add(bt, "q", "0");
	ck_assert_int_eq(bmsub_restore_discarded(s, bm(PUB_A, 1),
	    strlen(bm(PUB_A, 1))), 0);
	ck_assert_int_eq(logbm(s, bm(PUB_A, 1)), BMTRACK_DUPLICATE);
	ck_assert_int_eq(bmtrack_settle(s, NULL, NULL), 1);
	ck_assert_str_eq(recent("q", 0), bm(PUB_A, 1));
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(bmtrack_settle(s, NULL, NULL), 0);
}
END_TEST

START_TEST(test_unparsable_and_bounds)
{
	struct bmsub	*s = bmtrack_add(bt, "u", "0");
	static char	 longbm[BMTRACK_MAX_BM + 2];
	char		 small[8];

	ck_assert_int_eq(logbm(s, "20240101T000000Z"), BMTRACK_NEW);
	ck_assert_int_eq(logbm(s, "20240101T000000Z"), BMTRACK_REDELIVERY);
	ck_assert_int_eq(disc(s, "20240101T000000Z"), 1);
	ck_assert_str_eq(recent("u", BMTRACK_LIST), "20240101T000000Z");
	ck_assert_int_eq(logbm(s, "20240101T000000Z"), BMTRACK_NEW);
	memset(longbm, '1', sizeof longbm - 1);
	ck_assert_int_eq(bmtrack_log(s, longbm, strlen(longbm)), -1);
	ck_assert_int_eq(bmtrack_log(s, "", 0), -1);
	ck_assert_int_eq(bmtrack_discard(s, longbm, strlen(longbm), NULL,
	    NULL), -1);
	/* snprintf-like truncation. */
	ck_assert_int_eq(bmtrack_most_recent(bt, "u", 0, small, sizeof small),
	    16);
	ck_assert_str_eq(small, "2024010");
	ck_assert_int_eq(bmtrack_most_recent(bt, "u", 0, NULL, 0), 16);
}
END_TEST

START_TEST(test_many)
{
	struct bmsub	*s = bmtrack_add(bt, "m", "0");
	int		 i;

	/* Enough entries to grow the hash table several times. */
	for (i = 1; i <= 5000; i++)
		ck_assert_int_eq(logbm(s, bm(PUB_A, i)), BMTRACK_NEW);
	for (i = 5000; i >= 2; i--)
		ck_assert_int_eq(disc(s, bm(PUB_A, i)), 0);
	ck_assert_int_eq(disc(s, bm(PUB_A, 1)), 1);
	ck_assert_uint_eq(bmsub_queued(s), 0);
	ck_assert_str_eq(recent("m", 0), bm(PUB_A, 5000));
}
END_TEST

static Suite *
bmtrack_suite(void)
{
	Suite	*s = suite_create("bmtrack");
	TCase	*spec = tcase_create("spec");
	TCase	*state = tcase_create("state");

	tcase_add_checked_fixture(spec, setup, teardown);
	tcase_add_checked_fixture(state, setup, teardown);
	tcase_set_timeout(spec, 10);
	tcase_set_timeout(state, 10);
	tcase_add_test(spec, test_scenario_23_resume);
	tcase_add_test(spec, test_scenario_24_duplicates);
	tcase_add_test(spec, test_out_of_order);
	tcase_add_test(spec, test_per_publisher_list);
	tcase_add_test(spec, test_persisted_rule);
	tcase_add_test(spec, test_unknown_and_start);
	tcase_add_test(state, test_pop_callback);
	tcase_add_test(state, test_purge);
	tcase_add_test(state, test_restore);
	tcase_add_test(state, test_unparsable_and_bounds);
	tcase_add_test(state, test_many);
	suite_add_tcase(s, spec);
	suite_add_tcase(s, state);
	return (s);
}

int
main(void)
{
	return (check_main(bmtrack_suite()));
}
