/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for the HA policy: server rotation, retry of the current
 * server after a disconnect, exact delay sequences and give-up, and the
 * reload entry points (new server list, new policy).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <stdlib.h>

#include "connha.h"
#include "testutil.h"

/* Next delay, asserting the strategy did not give up. */
static uint64_t
delay(struct connha *h, uint64_t now)
{
	uint64_t	d = 12345;

	ck_assert_int_eq(connha_next_delay(h, now, &d), 0);
	return (d);
}

/* Exponential delays: 0, then 200 ms x 1.5 up to 5 s; servers rotate. */
START_TEST(test_exponential_sequence)
{
	static const uint64_t want[] = { 0, 200, 300, 450, 675, 1012, 1518,
	    2277, 3415, 5000, 5000 };
	struct connha_policy	p;
	struct connha		h;
	size_t			i;

	connha_default_policy(&p);
	p.giveup_ms = 0;
	connha_init(&h, 3, &p, 1);
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		ck_assert_uint_eq(delay(&h, 1000 * i), want[i]);
		ck_assert_uint_eq(connha_current(&h), i % 3);
		connha_report_failure(&h, 1000 * i);
	}
	ck_assert_uint_eq(connha_failures(&h, 0), 4);
	connha_free(&h);
}
END_TEST

/* Fixed delays, and give-up once the streak passes the give-up time. */
START_TEST(test_fixed_and_giveup)
{
	struct connha_policy	p = { CONNHA_FIXED, 1000, 1000, 1.0, 3500, 0 };
	struct connha		h;
	uint64_t		t = 100, d;

	connha_init(&h, 2, &p, 1);
	ck_assert_uint_eq(delay(&h, t), 0);
	connha_report_failure(&h, t);		/* streak starts at 100 */
	ck_assert_uint_eq(delay(&h, t), 1000);
	t += 1000;
	connha_report_failure(&h, t);
	ck_assert_uint_eq(delay(&h, t), 1000);	/* 2100 <= 3600 */
	t += 1000;
	connha_report_failure(&h, t);
	ck_assert_uint_eq(delay(&h, t), 1000);	/* 3100 */
	t += 1000;
	connha_report_failure(&h, t);
	/* 3100 + 1000 > 100 + 3500: give up */
	ck_assert_int_eq(connha_next_delay(&h, t, &d), CONNHA_GIVE_UP);
	connha_free(&h);
}
END_TEST

/* After a stable link drops, the same server is retried first, at once. */
START_TEST(test_retry_current_after_disconnect)
{
	struct connha_policy	p;
	struct connha		h;

	connha_default_policy(&p);
	connha_init(&h, 3, &p, 1);
	ck_assert_uint_eq(delay(&h, 0), 0);
	connha_report_failure(&h, 0);			/* 0 -> 1 */
	ck_assert_uint_eq(delay(&h, 0), 200);
	connha_report_success(&h, 200);			/* up on 1 */
	ck_assert_uint_eq(connha_failures(&h, 1), 0);
	/* Stable for 10 s (>= max 5 s): immediate retry of server 1. */
	connha_report_disconnect(&h, 10200);
	ck_assert_uint_eq(connha_current(&h), 1);
	ck_assert_uint_eq(delay(&h, 10200), 0);
	connha_report_failure(&h, 10200);		/* 1 -> 2 */
	ck_assert_uint_eq(connha_current(&h), 2);
	ck_assert_uint_eq(delay(&h, 10200), 200);
	ck_assert_uint_eq(delay(&h, 10400), 300);
	connha_free(&h);
}
END_TEST

/* A link that drops at once keeps escalating instead of spinning. */
START_TEST(test_flapping_escalates)
{
	struct connha_policy	p;
	struct connha		h;
	uint64_t		t = 0;

	connha_default_policy(&p);
	connha_init(&h, 1, &p, 1);
	ck_assert_uint_eq(delay(&h, t), 0);
	connha_report_success(&h, t);
	t += 10;
	connha_report_disconnect(&h, t);	/* up only 10 ms */
	ck_assert_uint_eq(delay(&h, t), 200);
	connha_report_success(&h, t);
	t += 10;
	connha_report_disconnect(&h, t);
	ck_assert_uint_eq(delay(&h, t), 300);
	ck_assert_uint_eq(connha_current(&h), 0);
	connha_free(&h);
}
END_TEST

/*
 * RELIABILITY.md finding 26: with the default policy a connection retries
 * for ever (a day of failures here), the wait capped at the maximum.
 */
START_TEST(test_default_never_gives_up)
{
	struct connha_policy	p;
	struct connha		h;
	uint64_t		t = 0, d;

	connha_default_policy(&p);
	ck_assert_uint_eq(p.giveup_ms, 0);
	connha_init(&h, 2, &p, 1);
	while (t < 24ULL * 3600 * 1000) {
		ck_assert_int_eq(connha_next_delay(&h, t, &d), 0);
		ck_assert_uint_le(d, CONNHA_DEFAULT_MAX_MS);
		t += d + 10;
		connha_report_failure(&h, t);
	}
	connha_free(&h);
}
END_TEST

/*
 * Finding 29: a link that went silent (heartbeat timeout: a hung server
 * still accepts TCP) fails over to the next server first, after at most
 * the first back-off delay; a plain disconnect retries the same server.
 * Failover time = heartbeat timeout + that delay + one logon round trip.
 */
START_TEST(test_hung_server_fails_over)
{
	struct connha_policy	p;
	struct connha		h;

	connha_default_policy(&p);
	connha_init(&h, 2, &p, 1);
	ck_assert_uint_eq(delay(&h, 0), 0);
	connha_report_success(&h, 0);			/* up on 0 */
	connha_report_hung(&h, 60000);			/* stable, then silent */
	ck_assert_uint_eq(connha_current(&h), 1);
	ck_assert_uint_eq(connha_failures(&h, 0), 1);
	ck_assert_uint_eq(delay(&h, 60000), 0);
	connha_report_success(&h, 60010);		/* up on 1 */
	connha_report_hung(&h, 60500);			/* silent soon after */
	ck_assert_uint_eq(connha_current(&h), 0);
	ck_assert_uint_le(delay(&h, 60500), p.initial_ms);
	connha_free(&h);

	/* One server: a silent link is retried like a disconnect. */
	connha_init(&h, 1, &p, 1);
	ck_assert_uint_eq(delay(&h, 0), 0);
	connha_report_success(&h, 0);
	connha_report_hung(&h, 60000);
	ck_assert_uint_eq(connha_current(&h), 0);
	ck_assert_uint_eq(delay(&h, 60000), 0);
	connha_free(&h);
}
END_TEST

/* A streak that starts with a disconnect gives up after the give-up time. */
START_TEST(test_giveup_from_disconnect)
{
	struct connha_policy	p;
	struct connha		h;
	uint64_t		t, d;

	connha_default_policy(&p);
	p.giveup_ms = 60000;			/* give up after 60 s */
	connha_init(&h, 2, &p, 1);
	ck_assert_uint_eq(delay(&h, 0), 0);
	connha_report_success(&h, 0);
	connha_report_disconnect(&h, 100000);
	t = 100000;
	for (;;) {
		if (connha_next_delay(&h, t, &d) == CONNHA_GIVE_UP)
			break;
		t += d;
		connha_report_failure(&h, t);
		ck_assert_uint_lt(t, 100000 + 60000 + 1);
	}
	ck_assert_uint_gt(t + 5000, 100000 + 60000);
	connha_free(&h);
}
END_TEST

/* Jitter keeps each delay within [3/4 d, d] and varies it. */
START_TEST(test_jitter_bounds)
{
	struct connha_policy	p = { CONNHA_FIXED, 1000, 1000, 1.0, 0, 1 };
	struct connha		h;
	uint64_t		d;
	int			i, differ = 0;

	connha_init(&h, 1, &p, 42);
	(void)delay(&h, 0);
	for (i = 0; i < 100; i++) {
		connha_report_failure(&h, 0);
		d = delay(&h, 0);
		ck_assert_uint_ge(d, 750);
		ck_assert_uint_le(d, 1000);
		if (d != 1000)
			differ++;
	}
	ck_assert_int_gt(differ, 50);
	connha_free(&h);
}
END_TEST

/* connha_policy_check rejects inconsistent policies. */
/*
 * A reload changes the list and the policy: the current index moves,
 * failure counts restart, the escalation is clamped, and the streak (so
 * the give-up deadline) is kept (rule 7).
 */
START_TEST(test_reload)
{
	struct connha_policy	p, fixed = { CONNHA_FIXED, 700, 700, 1.0,
	    0, 0 };
	struct connha		h;
	uint64_t		d;

	connha_default_policy(&p);
	p.giveup_ms = 10000;
	connha_init(&h, 3, &p, 1);
	ck_assert_uint_eq(delay(&h, 0), 0);
	connha_report_failure(&h, 0);		/* streak starts at 0 */
	ck_assert_uint_eq(delay(&h, 100), 200);
	connha_report_failure(&h, 100);
	ck_assert_uint_eq(delay(&h, 400), 300);
	connha_report_failure(&h, 400);
	ck_assert_uint_eq(delay(&h, 800), 450);
	ck_assert_uint_eq(connha_current(&h), 0);
	ck_assert_uint_eq(connha_failures(&h, 0), 1);

	/* Two servers now; the current one is the second of the new list. */
	connha_set_servers(&h, 2, 1);
	ck_assert_uint_eq(connha_current(&h), 1);
	ck_assert_uint_eq(connha_failures(&h, 0), 0);
	ck_assert_uint_eq(connha_failures(&h, 1), 0);
	connha_report_failure(&h, 900);
	ck_assert_uint_eq(connha_current(&h), 0);
	connha_set_servers(&h, 1, 5);		/* out of range: first */
	ck_assert_uint_eq(connha_current(&h), 0);
	connha_set_servers(&h, 0, 0);
	ck_assert_uint_eq(connha_current(&h), 0);

	/* Exponential 675 ms next; a smaller max clamps it. */
	p.max_ms = 500;
	connha_set_policy(&h, &p);
	ck_assert_uint_eq(delay(&h, 1000), 500);
	connha_report_failure(&h, 1000);
	connha_set_policy(&h, &fixed);
	ck_assert_uint_eq(delay(&h, 2000), 700);
	connha_report_failure(&h, 2000);
	/* The streak began at 0: a 3 s give-up has already passed. */
	fixed.giveup_ms = 3000;
	connha_set_policy(&h, &fixed);
	ck_assert_int_eq(connha_next_delay(&h, 2500, &d), CONNHA_GIVE_UP);
	connha_free(&h);
}
END_TEST

START_TEST(test_policy_check)
{
	struct connha_policy	p;

	connha_default_policy(&p);
	ck_assert_ptr_null(connha_policy_check(&p));
	p.factor = 0.5;
	ck_assert_ptr_nonnull(connha_policy_check(&p));
	connha_default_policy(&p);
	p.max_ms = 100;
	ck_assert_ptr_nonnull(connha_policy_check(&p));
}
END_TEST

/* The test cases of this file. */
static Suite *
connha_suite(void)
{
	Suite	*s = suite_create("connha");
	TCase	*tc = tcase_create("policy");

	tcase_add_test(tc, test_exponential_sequence);
	tcase_add_test(tc, test_fixed_and_giveup);
	tcase_add_test(tc, test_retry_current_after_disconnect);
	tcase_add_test(tc, test_flapping_escalates);
	tcase_add_test(tc, test_giveup_from_disconnect);
	tcase_add_test(tc, test_default_never_gives_up);
	tcase_add_test(tc, test_hung_server_fails_over);
	tcase_add_test(tc, test_jitter_bounds);
	tcase_add_test(tc, test_policy_check);
	tcase_add_test(tc, test_reload);
	tcase_set_timeout(tc, 10);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; exit status says whether every test passed. */
int
main(void)
{
	return (check_main(connha_suite()));
}
