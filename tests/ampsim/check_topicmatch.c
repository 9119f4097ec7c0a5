/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for topic matching (PROTOCOL.md §12.8): regex detection,
 * unanchored matching, non_regex_topic, malformed patterns.
 */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "topicmatch.h"
#include "testutil.h"

struct tcase_row {
	const char	*pattern;
	int		 non_regex;
	const char	*topic;
	int		 is_regex;
	int		 match;
};

/* Regex detection and unanchored matching (§12.8 examples). */
START_TEST(test_table)
{
	static const struct tcase_row rows[] = {
		{ "orders", 0, "orders", 0, 1 },
		{ "orders", 0, "orders2", 0, 0 },
		{ "orders", 0, "myorders", 0, 0 },
		{ "orders", 0, "", 0, 0 },
		{ "a/b", 0, "a/b", 0, 1 },
		{ "trade.info", 0, "trade/info", 1, 1 },
		{ "trade.info", 0, "trade-info", 1, 1 },
		{ "trade.info", 0, "every/trade/info", 1, 1 },
		{ "trade.info", 0, "tradeinfo", 1, 0 },
		{ "^orders\\.", 0, "orders.eu", 1, 1 },
		{ "^orders\\.", 0, "orders_eu", 1, 0 },
		{ "^orders\\.", 0, "x.orders.eu", 1, 0 },
		{ "^trade$", 0, "trade", 1, 1 },
		{ "^trade$", 0, "trades", 1, 0 },
		{ "^client.*", 0, "client", 1, 1 },
		{ "^client.*", 0, "clients", 1, 1 },
		{ "^client.*", 0, "myclient", 1, 0 },
		{ ".*trade.*", 0, "NYSEtrades", 1, 1 },
		{ "(a|b)x", 0, "bx", 1, 1 },
		{ "a+", 0, "caat", 1, 1 },
		{ "colou?r", 0, "color", 1, 1 },
		{ "[0-9]{3}", 0, "ab123", 1, 1 },
		{ "[0-9]{3}", 0, "ab12", 1, 0 },
		{ "x$", 0, "box", 1, 1 },
		{ "a\\b", 0, "a b", 1, 1 },
		{ "(?i)^ORDERS$", 0, "orders", 1, 1 },
		/* non_regex forces an exact comparison */
		{ "trade.info", 1, "trade.info", 0, 1 },
		{ "trade.info", 1, "trade/info", 0, 0 },
		{ "^orders", 1, "orders", 0, 0 },
		{ "(", 1, "(", 0, 1 },
	};
	struct topicmatch	*tm;
	char			 err[256];
	size_t			 i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct tcase_row *r = &rows[i];

		tm = topicmatch_new(r->pattern, strlen(r->pattern),
		    r->non_regex, err, sizeof err);
		ck_assert_msg(tm != NULL, "%s: %s", r->pattern, err);
		ck_assert_msg(topicmatch_is_regex(tm) == r->is_regex,
		    "%s: is_regex", r->pattern);
		ck_assert_msg(topicmatch_match(tm, r->topic,
		    strlen(r->topic)) == r->match, "%s vs %s", r->pattern,
		    r->topic);
		topicmatch_free(tm);
	}
}
END_TEST

/* Malformed patterns fail with "bad regex topic". */
START_TEST(test_bad_regex)
{
	static const char *bad[] = { "(", "a(b", "[a-", "*x", "a{2,1}",
	    "\\", "(?<", "a)" };
	struct topicmatch	*tm;
	char			 err[256];
	size_t			 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		tm = topicmatch_new(bad[i], strlen(bad[i]), 0, err, sizeof err);
		ck_assert_msg(tm == NULL, "accepted '%s'", bad[i]);
		ck_assert_msg(strncmp(err, "bad regex topic", 15) == 0,
		    "'%s': '%s'", bad[i], err);
	}
	ck_assert_ptr_null(topicmatch_new("(", 1, 0, NULL, 0));
}
END_TEST

/* Only len bytes of pattern and topic are used. */
START_TEST(test_lengths)
{
	struct topicmatch	*tm;
	char			 err[64];

	/* Only len bytes of the pattern and the topic are used. */
	tm = topicmatch_new("ordersXYZ", 6, 0, err, sizeof err);
	ck_assert_ptr_nonnull(tm);
	ck_assert_int_eq(topicmatch_is_regex(tm), 0);
	ck_assert_int_eq(topicmatch_match(tm, "orders!!", 6), 1);
	ck_assert_int_eq(topicmatch_match(tm, "orders!!", 7), 0);
	topicmatch_free(tm);
	tm = topicmatch_new("^a.c$$$", 5, 0, err, sizeof err);
	ck_assert_ptr_nonnull(tm);
	ck_assert_int_eq(topicmatch_match(tm, "abcd", 3), 1);
	ck_assert_int_eq(topicmatch_match(tm, "abcd", 4), 0);
	ck_assert_int_eq(topicmatch_match(NULL, "x", 1), 0);
	topicmatch_free(tm);
	topicmatch_free(NULL);
}
END_TEST

/* Build the suite. */
static Suite *
topicmatch_suite(void)
{
	Suite	*s = suite_create("topicmatch");
	TCase	*tc = tcase_create("match");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_bad_regex);
	tcase_add_test(tc, test_lengths);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; exit status is non-zero when a check failed. */
int
main(void)
{
	return (check_main(topicmatch_suite()));
}
