/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for daemon/qack.c: queue-ack batching by count, timeout,
 * granted backlog, urgency (owner and connection), options, drops, and
 * the order and owners of what is emitted.
 */

#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qack.h"
#include "testutil.h"

#define MAXGOT	64

static char	got[MAXGOT][256];
static size_t	gotn[MAXGOT];
static void	*gotown[MAXGOT];
static int	ngot;

/* Record one emitted chunk as "connid topic opt list". */
static void
emit(uint32_t connid, const char *topic, const char *opt, const char *list,
    size_t n, void *const *owners, void *arg)
{
	(void)arg;
	ck_assert_int_lt(ngot, MAXGOT);
	snprintf(got[ngot], sizeof got[0], "%u %s %s %s", connid, topic,
	    *opt != '\0' ? opt : "-", list);
	gotn[ngot] = n;
	gotown[ngot] = n > 0 ? owners[n - 1] : NULL;
	ngot++;
}

/* Add ids first..last as bookmarks "1|i|" one at a time. */
static void
add_range(struct qack *q, const struct qack_policy *p, int first, int last,
    uint32_t cap, void *owner, uint64_t now)
{
	char	bm[32];
	int	i;

	for (i = first; i <= last; i++) {
		snprintf(bm, sizeof bm, "1|%d|", i);
		ck_assert_uint_eq(qack_add(q, 0, "work", NULL, bm, p, cap,
		    owner, now), 1);
	}
}

START_TEST(test_count_then_timeout)
{
	struct qack_policy	 p = { 10, 200 };
	struct qack		*q = qack_create();
	uint64_t		 when;

	ngot = 0;
	add_range(q, &p, 1, 25, 0, NULL, 1000);
	ck_assert_uint_eq(qack_pending(q), 25);
	/* 10, 10 at once; 5 wait for their timeout */
	ck_assert_uint_eq(qack_take(q, 1000, emit, NULL), 2);
	ck_assert_uint_eq(gotn[0], 10);
	ck_assert_uint_eq(gotn[1], 10);
	ck_assert_str_eq(got[0], "0 work - 1|1|,1|2|,1|3|,1|4|,1|5|,1|6|,"
	    "1|7|,1|8|,1|9|,1|10|");
	ck_assert_uint_eq(qack_pending(q), 5);
	ck_assert_int_eq(qack_deadline(q, &when), 1);
	ck_assert_uint_eq(when, 1200);
	ck_assert_uint_eq(qack_take(q, 1199, emit, NULL), 0);
	ck_assert_uint_eq(qack_take(q, 1200, emit, NULL), 1);
	ck_assert_str_eq(got[2], "0 work - 1|21|,1|22|,1|23|,1|24|,1|25|");
	ck_assert_uint_eq(qack_pending(q), 0);
	ck_assert_int_eq(qack_deadline(q, &when), 0);
	qack_free(q);
}
END_TEST

START_TEST(test_timeout_from_oldest)
{
	struct qack_policy	 p = { 10, 200 };
	struct qack		*q = qack_create();
	uint64_t		 when;

	ngot = 0;
	add_range(q, &p, 1, 3, 0, NULL, 100);
	add_range(q, &p, 4, 5, 0, NULL, 250);
	ck_assert_int_eq(qack_deadline(q, &when), 1);
	ck_assert_uint_eq(when, 300);		/* the oldest decides */
	ck_assert_uint_eq(qack_take(q, 299, emit, NULL), 0);
	ck_assert_uint_eq(qack_take(q, 300, emit, NULL), 1);
	ck_assert_uint_eq(gotn[0], 5);		/* and all go with it */
	qack_free(q);
}
END_TEST

START_TEST(test_backlog_caps_chunks)
{
	struct qack_policy	 p = { 10, 1000 };
	struct qack		*q = qack_create();
	int			 i;

	ngot = 0;
	/* granted backlog 4 < batch 10: chunks of 4 go without waiting */
	add_range(q, &p, 1, 9, 4, NULL, 0);
	ck_assert_uint_eq(qack_take(q, 0, emit, NULL), 2);
	ck_assert_uint_eq(gotn[0], 4);
	ck_assert_uint_eq(gotn[1], 4);
	ck_assert_uint_eq(qack_pending(q), 1);
	/* a timeout flush is capped too */
	add_range(q, &p, 10, 12, 0, NULL, 0);
	ck_assert_uint_eq(qack_take(q, 1000, emit, NULL), 1);
	ck_assert_uint_eq(gotn[2], 4);
	for (i = 0; i < ngot; i++)
		ck_assert_uint_le(gotn[i], 4);
	qack_free(q);
}
END_TEST

START_TEST(test_urge)
{
	struct qack_policy	 p = { 100, 60000 };
	struct qack		*q = qack_create();
	int			 a, b;
	char			 bm[16];

	ngot = 0;
	add_range(q, &p, 1, 3, 0, &a, 0);
	ck_assert_uint_eq(qack_add(q, 0, "other", NULL, "2|1|", &p, 0, &b,
	    0), 1);
	ck_assert_uint_eq(qack_add(q, 1, "work", NULL, "3|1|", &p, 0, &a,
	    0), 1);
	ck_assert_uint_eq(qack_take(q, 10, emit, NULL), 0);
	/* urging a sends both batches holding its acks, not b's */
	qack_urge(q, &a);
	ck_assert_uint_eq(qack_take(q, 10, emit, NULL), 2);
	ck_assert_ptr_eq(gotown[0], &a);
	ck_assert_ptr_eq(gotown[1], &a);
	ck_assert_uint_eq(qack_pending(q), 1);
	/* urgency is spent by a take */
	add_range(q, &p, 4, 4, 0, &a, 20);
	ck_assert_uint_eq(qack_take(q, 20, emit, NULL), 0);
	/* a connection */
	qack_urge_conn(q, 0);
	ck_assert_uint_eq(qack_take(q, 20, emit, NULL), 2);
	ck_assert_uint_eq(qack_pending(q), 0);
	/* forget: acks stay, owned by nobody */
	snprintf(bm, sizeof bm, "9|9|");
	qack_add(q, 0, "work", NULL, bm, &p, 0, &a, 30);
	qack_forget(q, &a);
	qack_urge(q, &a);
	ck_assert_uint_eq(qack_take(q, 30, emit, NULL), 0);
	qack_urge_conn(q, 0);
	ck_assert_uint_eq(qack_take(q, 30, emit, NULL), 1);
	ck_assert_ptr_null(gotown[ngot - 1]);
	qack_free(q);
}
END_TEST

START_TEST(test_options_and_lists)
{
	struct qack_policy	 p = { 10, 1000 };
	struct qack		*q = qack_create();

	ngot = 0;
	/* a comma list counts per bookmark; empty items are skipped */
	ck_assert_uint_eq(qack_add(q, 2, "w", NULL, "1|1|,,1|2|", &p, 0,
	    NULL, 0), 2);
	/* cancel and expire never wait */
	ck_assert_uint_eq(qack_add(q, 2, "w", "cancel", "1|3|", &p, 0, NULL,
	    0), 1);
	ck_assert_uint_eq(qack_add(q, 2, "w", "expire", "1|4|,1|5|", &p, 0,
	    NULL, 0), 2);
	ck_assert_uint_eq(qack_add(q, 2, "w", NULL, "", &p, 0, NULL, 0), 0);
	ck_assert_uint_eq(qack_take(q, 0, emit, NULL), 2);
	ck_assert_str_eq(got[0], "2 w expire 1|4|,1|5|");
	ck_assert_str_eq(got[1], "2 w cancel 1|3|");
	ck_assert_uint_eq(qack_pending(q), 2);
	qack_drop_conn(q, 2);
	ck_assert_uint_eq(qack_pending(q), 0);
	ck_assert_uint_eq(qack_take(q, 5000, emit, NULL), 0);
	qack_free(q);
}
END_TEST

START_TEST(test_batch_one_and_many)
{
	struct qack_policy	 p = { 1, 1000 };
	struct qack		*q = qack_create();
	int			 i;

	ngot = 0;
	/* the default policy: every ack is its own command, in order */
	add_range(q, &p, 1, 5, 0, NULL, 0);
	ck_assert_uint_eq(qack_take(q, 0, emit, NULL), 5);
	ck_assert_str_eq(got[4], "0 work - 1|5|");
	/* a long run reuses the FIFO without losing order */
	ngot = 0;
	p.batch = 7;
	for (i = 0; i < 50; i++) {
		add_range(q, &p, 100 + i * 3, 102 + i * 3, 0, NULL, 0);
		(void)qack_take(q, 0, emit, NULL);
		ngot = 0;
	}
	ck_assert_uint_eq(qack_pending(q), 150 % 7);
	ck_assert_uint_eq(qack_take(q, 1000, emit, NULL), 1);
	ck_assert_str_eq(got[0], "0 work - 1|247|,1|248|,1|249|");
	qack_free(q);
}
END_TEST

/* Emit callback that drops the connection, as a failed send does. */
static void
emit_drop(uint32_t connid, const char *topic, const char *opt,
    const char *list, size_t n, void *const *owners, void *arg)
{
	emit(connid, topic, opt, list, n, owners, NULL);
	qack_drop_conn(arg, connid);
}

START_TEST(test_drop_inside_take)
{
	struct qack_policy	 p = { 2, 1000 };
	struct qack		*q = qack_create();

	ngot = 0;
	add_range(q, &p, 1, 6, 0, NULL, 0);
	ck_assert_uint_eq(qack_add(q, 1, "w", NULL, "9|1|", &p, 0, NULL, 0),
	    1);
	/* the first chunk's send "fails": the rest of connection 0 goes */
	ck_assert_uint_eq(qack_take(q, 5000, emit_drop, q), 2);
	ck_assert_uint_eq(qack_pending(q), 0);
	ck_assert_uint_eq(qack_take(q, 5000, emit, NULL), 0);
	qack_free(q);
}
END_TEST

static Suite *
qack_suite(void)
{
	Suite	*s = suite_create("qack");
	TCase	*tc = tcase_create("qack");

	tcase_add_test(tc, test_count_then_timeout);
	tcase_add_test(tc, test_timeout_from_oldest);
	tcase_add_test(tc, test_backlog_caps_chunks);
	tcase_add_test(tc, test_urge);
	tcase_add_test(tc, test_options_and_lists);
	tcase_add_test(tc, test_batch_one_and_many);
	tcase_add_test(tc, test_drop_inside_take);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (check_main(qack_suite()));
}
