/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for daemon/topic.c: the topic rules every request is held
 * to (length, strict UTF-8, no control characters), which topics AMPS
 * reads as regular expressions, and which allow-rule patterns match
 * every topic.
 */

#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topic.h"
#include "testutil.h"

/* topic_check() of a C string. */
static int
check_str(const char *s, char *why, size_t cap)
{
	return (topic_check(s, strlen(s), why, cap));
}

START_TEST(test_good)
{
	static const char *const good[] = { "orders", "a", "grp.x|orders",
	    "caf\xc3\xa9", "\xe2\x82\xac-prices", "\xf0\x9f\x98\x80",
	    "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf", "with space", "~/a/b" };
	char		 why[128];
	size_t		 i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(check_str(good[i], why, sizeof why) == 0,
		    "refused good topic %zu: %s", i, why);
}
END_TEST

START_TEST(test_bad_utf8)
{
	static const char *const bad[] = {
		"\xff",			/* never valid */
		"ab\xc3",		/* truncated 2-byte sequence */
		"\xe2\x82",		/* truncated 3-byte sequence */
		"\xc0\xaf",		/* overlong '/' */
		"\xe0\x80\xaf",		/* overlong, 3 bytes */
		"\xf0\x80\x80\xaf",	/* overlong, 4 bytes */
		"\xed\xa0\x80",		/* surrogate U+D800 */
		"\xed\xbf\xbf",		/* surrogate U+DFFF */
		"\xf4\x90\x80\x80",	/* U+110000 */
		"\xf8\x88\x80\x80\x80",	/* 5-byte form */
		"a\x80z",		/* lone continuation byte */
		"\xc3\x28",		/* bad continuation */
	};
	char		 why[128];
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(check_str(bad[i], why, sizeof why) == -1,
		    "accepted bad topic %zu", i);
		ck_assert_msg(strstr(why, "not valid UTF-8") != NULL,
		    "topic %zu: %s", i, why);
	}
	ck_assert_int_eq(check_str("ab\xff", why, sizeof why), -1);
	ck_assert_str_eq(why, "topic is not valid UTF-8 (byte 3 of 3)");
}
END_TEST

START_TEST(test_controls)
{
	static const char *const bad[] = { "a\nb", "\t", "x\x1b[0m", "del\x7f",
	    "c1\xc2\x85" };
	char		 why[128];
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_int_eq(check_str(bad[i], why, sizeof why), -1);
		ck_assert_msg(strstr(why, "control character") != NULL,
		    "topic %zu: %s", i, why);
	}
	/* An embedded NUL counts (the length is the field's, not strlen). */
	ck_assert_int_eq(topic_check("ab\0cd", 5, why, sizeof why), -1);
	ck_assert_str_eq(why, "topic holds a control character (byte 3 of 5)");
}
END_TEST

START_TEST(test_length)
{
	char	*big, why[128];

	ck_assert_int_eq(topic_check("", 0, why, sizeof why), -1);
	ck_assert_str_eq(why, "empty topic");
	ck_assert_int_eq(topic_check(NULL, 0, NULL, 0), -1);
	big = malloc(TOPIC_MAX_LEN + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, 't', TOPIC_MAX_LEN + 1);
	big[TOPIC_MAX_LEN + 1] = '\0';
	ck_assert_int_eq(topic_check(big, TOPIC_MAX_LEN, why, sizeof why), 0);
	ck_assert_int_eq(topic_check(big, TOPIC_MAX_LEN + 1, why, sizeof why),
	    -1);
	ck_assert_str_eq(why, "topic of 65537 bytes is longer than 65536");
	/* A short buffer for the reason is filled and terminated. */
	ck_assert_int_eq(topic_check(big, TOPIC_MAX_LEN + 1, why, 6), -1);
	ck_assert_str_eq(why, "topic");
	free(big);
}
END_TEST

START_TEST(test_regex)
{
	static const char *const re[] = { "grp.x", "a*", "a+", "a?", "^a",
	    "a$", "[ab]", "(a)", "a{2}", "a|b", "a\\.b", "]", "}" };
	static const char *const lit[] = { "orders", "a/b-c_d:e", "caf\xc3\xa9",
	    "a,b", "a b" };
	size_t			 i;

	for (i = 0; i < sizeof re / sizeof re[0]; i++)
		ck_assert_msg(topic_is_regex(re[i]), "%s", re[i]);
	for (i = 0; i < sizeof lit / sizeof lit[0]; i++)
		ck_assert_msg(!topic_is_regex(lit[i]), "%s", lit[i]);
}
END_TEST

START_TEST(test_pattern_all)
{
	ck_assert(topic_pattern_is_all(".*"));
	ck_assert(topic_pattern_is_all("^.*$"));
	ck_assert(topic_pattern_is_all("^(.*)$"));
	ck_assert(!topic_pattern_is_all(".+"));
	ck_assert(!topic_pattern_is_all("grp\\..*"));
	ck_assert(!topic_pattern_is_all(".*x"));
	ck_assert(!topic_pattern_is_all(""));
}
END_TEST

static Suite *
topic_suite(void)
{
	Suite	*s = suite_create("topic");
	TCase	*tc = tcase_create("topic");

	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_bad_utf8);
	tcase_add_test(tc, test_controls);
	tcase_add_test(tc, test_length);
	tcase_add_test(tc, test_regex);
	tcase_add_test(tc, test_pattern_all);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (check_main(topic_suite()));
}
