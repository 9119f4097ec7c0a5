/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for loop.c (the flush phase runs after every pass, deferred
 * frees run after the flush, loop_exit ends the loop, SIGTERM shuts down
 * cleanly) and log.c (log_safe escaping).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "loop.h"
#include "testutil.h"

static char	trace[64];
static size_t	ntrace;
static int	passes_left;

/* Append one event letter to the trace. */
static void
mark(char c)
{
	if (ntrace + 1 < sizeof trace)
		trace[ntrace++] = c;
	trace[ntrace] = '\0';
}

/* Flush hook: 'F'; ends the loop after passes_left passes. */
static void
flush_cb(void *arg)
{
	mark('F');
	if (--passes_left == 0)
		loop_exit(7);
}

/* Deferred free: 'D'. */
static void
free_cb(void *arg)
{
	mark('D');
}

/* Timer: 'T', and queue a deferred free. */
static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	mark('T');
	loop_defer_free(free_cb, NULL);
}

/* The flush hook runs after the pass, deferred frees after the flush. */
START_TEST(test_flush_then_free)
{
	struct event	*ev;
	struct timeval	 tv = { 0, 1000 };

	log_init(1, 0, 0);
	loop_init();
	loop_set_flush(flush_cb, NULL);
	ev = evtimer_new(loop_base(), timer_cb, NULL);
	evtimer_add(ev, &tv);
	passes_left = 1;
	ck_assert_int_eq(loop_run(), 7);
	ck_assert_str_eq(trace, "TFD");
	ck_assert_uint_eq(loop_passes(), 1);
	event_free(ev);
	loop_done();
}
END_TEST

/* Timer: send ourselves SIGTERM. */
static void
kill_cb(evutil_socket_t fd, short what, void *arg)
{
	kill(getpid(), SIGTERM);
}

/* SIGTERM ends the loop cleanly with status 0, after a last flush. */
START_TEST(test_sigterm)
{
	struct event	*ev;
	struct timeval	 tv = { 0, 1000 };

	log_init(1, 0, 0);
	loop_init();
	loop_set_flush(flush_cb, NULL);
	passes_left = 1000;
	ev = evtimer_new(loop_base(), kill_cb, NULL);
	evtimer_add(ev, &tv);
	ck_assert_int_eq(loop_run(), 0);
	ck_assert(loop_exiting());
	ck_assert_ptr_nonnull(strchr(trace, 'F'));	/* flushed at the end */
	event_free(ev);
	loop_done();
}
END_TEST

/* loop_now_ms() advances with real time. */
START_TEST(test_monotonic)
{
	uint64_t	a, b;

	a = loop_now_ms();
	usleep(20000);
	b = loop_now_ms();
	ck_assert_uint_ge(b - a, 15);
}
END_TEST

/* log_safe escapes control bytes, backslashes and non-ASCII, and cuts. */
START_TEST(test_log_safe)
{
	char	long_s[1000];

	ck_assert_str_eq(log_safe("orders", 100), "orders");
	ck_assert_str_eq(log_safe("a\nb\x1b[31m\\", 100),
	    "a\\x0ab\\x1b[31m\\\\");
	ck_assert_str_eq(log_safe("\xc3\xa9", 100), "\\xc3\\xa9");
	ck_assert_str_eq(log_safe("abcdef", 3), "abc...");
	ck_assert_str_eq(log_safe(NULL, 3), "(null)");
	memset(long_s, 'x', sizeof long_s - 1);
	long_s[sizeof long_s - 1] = '\0';
	ck_assert_uint_lt(strlen(log_safe(long_s, 5000)), 512);
}
END_TEST

/* The test cases of this file. */
static Suite *
loop_suite(void)
{
	Suite	*s = suite_create("loop");
	TCase	*tc = tcase_create("loop");

	tcase_add_test(tc, test_flush_then_free);
	tcase_add_test(tc, test_sigterm);
	tcase_add_test(tc, test_monotonic);
	tcase_add_test(tc, test_log_safe);
	tcase_set_timeout(tc, 10);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite (each test in its own process: Check's default). */
int
main(void)
{
	return (check_main(loop_suite()));
}
