/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for the content filter (PROTOCOL.md §12): table-driven checks of
 * three-valued results (a filter F is NULL when neither F nor NOT (F)
 * matches), the §12.7 examples, precedence, coercion, arrays, functions,
 * syntax errors and a deterministic fuzz pass that must never crash.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "testutil.h"

#define T	1
#define F	0
#define N	(-1)

static const char	*doc_text =
    "{\"sender\":\"mom\",\"status\":\"ACTIVE\",\"id\":42,"
    "\"Order\":{\"Instrument\":{\"Symbol\":\"IBM\"},\"Px\":90.5},"
    "\"client\":{\"country\":\"US\"},\"A\":50,\"data\":\"cat\","
    "\"qty\":100,\"px\":3.5,\"s2\":\"2.000\",\"empty\":\"\",\"nul\":null,"
    "\"flag\":true,\"off\":false,\"tags\":[\"a\",\"b\",\"c\"],"
    "\"items\":[{\"qty\":1},{\"qty\":5}],\"odd name\":7,\"@attr\":\"x\","
    "\"55\":\"IBM\",\"arr\":[10,20,30],\"neg\":-7,\"emptyarr\":[],"
    "\"nested\":{\"a\":{\"b\":5}},\"num_s\":\"12\",\"obj\":{},"
    "\"path\":\"a\\\\b\",\"zero\":0,\"nularr\":[null],"
    "\"mixed\":[null,3],\"word\":\"Hello World\"}";

struct fcase {
	const char	*filter;
	int		 expect;	/* T, F or N */
};

/* Three-valued result of text against doc: T, F or N; -2 if bad. */
static int
tri(const char *text, const json_t *doc)
{
	struct filter	*f, *nf;
	char		 err[256], buf[1024];
	int		 m, nm;

	f = filter_compile(text, strlen(text), err, sizeof err);
	if (f == NULL)
		return (-2);
	snprintf(buf, sizeof buf, "NOT (%s)", text);
	nf = filter_compile(buf, strlen(buf), err, sizeof err);
	ck_assert_ptr_nonnull(nf);
	m = filter_match(f, doc);
	nm = filter_match(nf, doc);
	filter_free(f);
	filter_free(nf);
	ck_assert_msg(!(m && nm), "%s: both F and NOT F true", text);
	return (m ? T : nm ? F : N);
}

/* Run a table against the standard document. */
static void
run_table(const struct fcase *c, size_t n)
{
	json_error_t	 je;
	json_t		*doc;
	size_t		 i;
	int		 got;

	doc = json_loads(doc_text, 0, &je);
	ck_assert_msg(doc != NULL, "doc: %s", je.text);
	for (i = 0; i < n; i++) {
		got = tri(c[i].filter, doc);
		ck_assert_msg(got == c[i].expect, "%s: got %d, want %d",
		    c[i].filter, got, c[i].expect);
	}
	json_decref(doc);
}

#define RUN(tab)	run_table(tab, sizeof tab / sizeof tab[0])

/* Every example filter of PROTOCOL.md §12.7, plus a negative twin. */
START_TEST(test_spec_examples)
{
	static const struct fcase c[] = {
		{ "/sender = 'mom'", T },
		{ "/sender = 'dad'", F },
		{ "/status = 'ACTIVE'", T },
		{ "/id IN (42, 64, 37)", T },
		{ "/id IN (43, 64, 37)", F },
		{ "(/Order/Instrument/Symbol == 'IBM') AND "
		  "(/Order/Px >= 90.00 AND /Order/Px < 91.00)", T },
		{ "(/Order/Instrument/Symbol == 'IBM') AND "
		  "(/Order/Px >= 91.00 AND /Order/Px < 92.00)", F },
		{ "/client/country LIKE \"(?i)^us$\"", T },
		{ "/client/country LIKE \"^us$\"", F },
		{ "/optionalField IS NULL", T },
		{ "/optionalField IS NOT NULL", F },
		{ "/A BETWEEN 0 AND 100", T },
		{ "/A BETWEEN 51 AND 100", F },
		{ "NOT /data IN ('zebra','lion')", T },
		{ "NOT /data IN ('zebra','cat')", F },
		{ "1=1", T },
		{ "1=0", F },
	};

	RUN(c);
}
END_TEST

/* NULL comparisons, AND/OR/NOT truth tables, IS NULL, IN/BETWEEN/LIKE. */
START_TEST(test_null_logic)
{
	static const struct fcase c[] = {
		/* comparisons with NULL are never TRUE */
		{ "/missing = 1", N },
		{ "/missing != 1", N },
		{ "/missing <> 1", N },
		{ "/nul = NULL", N },
		{ "/nul != NULL", N },
		{ "NULL = NULL", N },
		{ "/missing < 1", N },
		/* AND truth table */
		{ "1=1 AND 1=1", T },
		{ "1=1 AND 1=0", F },
		{ "1=0 AND 1=1", F },
		{ "1=0 AND 1=0", F },
		{ "1=1 AND /missing=1", N },
		{ "/missing=1 AND 1=1", N },
		{ "1=0 AND /missing=1", F },
		{ "/missing=1 AND 1=0", F },
		{ "/missing=1 AND /missing=2", N },
		/* OR truth table */
		{ "1=1 OR 1=0", T },
		{ "1=0 OR 1=0", F },
		{ "1=1 OR /missing=1", T },
		{ "/missing=1 OR 1=1", T },
		{ "1=0 OR /missing=1", N },
		{ "/missing=1 OR 1=0", N },
		{ "/missing=1 OR /missing=2", N },
		/* NOT */
		{ "NOT 1=1", F },
		{ "NOT 1=0", T },
		{ "NOT /missing=1", N },
		{ "NOT NOT 1=1", T },
		/* IS NULL forms; the empty string is NULL */
		{ "/nul IS NULL", T },
		{ "/empty IS NULL", T },
		{ "/empty = ''", N },
		{ "'' = ''", N },
		{ "'' IS NULL", T },
		{ "/sender IS NULL", F },
		{ "/sender IS NOT NULL", T },
		{ "NOT /missing IS NULL", F },
		{ "NOT /sender IS NULL", T },
		{ "/obj IS NULL", F },
		{ "/emptyarr IS NULL", T },
		{ "/nularr IS NULL", T },
		{ "/mixed IS NULL", F },
		/* IN / BETWEEN with NULL */
		{ "/missing IN (1, 2)", N },
		{ "/missing NOT IN (1, 2)", N },
		{ "/id IN (1, NULL)", N },
		{ "/id IN (42, NULL)", T },
		{ "/id NOT IN (1, NULL)", N },
		{ "/id NOT IN (1, 2)", T },
		{ "/id NOT IN (42, 2)", F },
		{ "/missing BETWEEN 1 AND 2", N },
		{ "/missing NOT BETWEEN 1 AND 2", N },
		{ "/A BETWEEN NULL AND 100", N },
		{ "/A BETWEEN NULL AND 10", F },
		{ "/A NOT BETWEEN 60 AND 100", T },
		{ "/A NOT BETWEEN 50 AND 50", F },
		{ "/missing LIKE 'x'", N },
		{ "/missing NOT LIKE 'x'", N },
		{ "/missing + 1 = 1", N },
		{ "/missing BEGINS WITH ('a')", N },
	};

	RUN(c);
}
END_TEST

/* OR < AND < NOT < comparison < + - < * / % < unary minus; any case. */
START_TEST(test_precedence)
{
	static const struct fcase c[] = {
		/* a OR b AND c is a OR (b AND c) */
		{ "1=1 OR 1=0 AND 1=0", T },
		{ "(1=1 OR 1=0) AND 1=0", F },
		{ "1=0 AND 1=0 OR 1=1", T },
		{ "1=0 AND (1=0 OR 1=1)", F },
		/* NOT binds tighter than AND */
		{ "NOT 1=0 AND 1=0", F },
		{ "NOT (1=0 AND 1=0)", T },
		/* arithmetic precedence */
		{ "1 + 2 * 3 = 7", T },
		{ "(1 + 2) * 3 = 9", T },
		{ "10 - 2 - 3 = 5", T },
		{ "-2 * 3 = -6", T },
		{ "- -2 = 2", T },
		{ "2 * -3 = -6", T },
		{ "/qty / 10 = 10", T },
		{ "/qty MOD 7 = 2", T },
		{ "/qty % 7 = 2", T },
		{ "/qty*2 = 200", T },
		{ "/qty-1 = 99", T },
		{ "/qty - /A = 50", T },
		/* keywords are case-insensitive */
		{ "/id in (42) and not /A between 0 and 10 or 1=0", T },
		{ "/sender is not null", T },
		{ "/sender like 'o'", T },
		{ "/qty mod 7 = 2", T },
		{ "true", T },
		{ "false", F },
		{ "NULL", N },
	};

	RUN(c);
}
END_TEST

/* Mixed types, integer arithmetic, booleans, escapes, raw strings. */
START_TEST(test_coercion)
{
	static const struct fcase c[] = {
		{ "'2.000' <> '2.0'", T },
		{ "'2.000' = '2.0'", F },
		{ "2 = 2.0", T },
		{ "2 == 2.0", T },
		{ "'abc' > 5", T },
		{ "5 < 'abc'", T },
		{ "'abc' = 5", F },
		{ "/s2 = 2", T },
		{ "/s2 = '2'", F },
		{ "/num_s = 12", T },
		{ "/num_s > 9", T },
		{ "/num_s > '9'", F },
		{ "'10' < '9'", T },
		{ "10 > 9", T },
		{ "1.5e1 = 15", T },
		{ "6.022E23 > 1", T },
		{ "/px = 3.5", T },
		{ "/px > 3", T },
		{ "/neg = -7", T },
		{ "/neg < -6.5", T },
		{ "18446744073709551615 > 9223372036854775807", T },
		{ "9223372036854775808 > 9223372036854775807", T },
		{ "-9223372036854775808 < 0", T },
		{ "18446744073709551615 = 18446744073709551615", T },
		{ "1 / 5 = 0", T },
		{ "7 / 2 = 3", T },
		{ "-7 / 2 = -3", T },
		{ "7.0 / 2 = 3.5", T },
		{ "-7 % 3 = -1", T },
		{ "7 % -3 = 1", T },
		{ "-7 MOD 3 = -1", T },
		{ "-7.5 % 2 = -1.5", T },
		{ "1 / 0 = 1", N },
		{ "1 % 0 = 1", N },
		{ "1.0 / 0 = 1", N },
		{ "(1 / 0) IS NULL", T },
		{ "'4' + 1 = 5", T },
		{ "'x' + 1 = 5", N },
		{ "9223372036854775807 + 1 = 9223372036854775808", T },
		/* booleans: equal to the strings and the keywords */
		{ "/flag = TRUE", T },
		{ "/flag = 'true'", T },
		{ "/flag = 'TRUE'", F },
		{ "/off = FALSE", T },
		{ "/off = 'false'", T },
		{ "/flag = 1", T },
		{ "/off = 0", T },
		{ "/flag", T },
		{ "/off", F },
		{ "/flag AND /qty = 100", T },
		{ "(/qty > 1) = TRUE", T },
		{ "/zero", F },
		{ "/qty", T },
		/* string escapes and raw strings */
		{ "'a\\tb' = \"a\tb\"", T },
		{ "'\\x41\\102' = 'AB'", T },
		{ "'\\q' = 'q'", T },
		{ "'it\\'s' = \"it's\"", T },
		{ "/path = 'a\\\\b'", T },
		{ "/path = r'a\\b'", T },
		{ "/path LIKE r'^a\\\\b$'", T },
		{ "/path LIKE R'\\\\'", T },
	};

	RUN(c);
}
END_TEST

/* Nested, indexed, bracketed, attribute and digit identifiers. */
START_TEST(test_identifiers)
{
	static const struct fcase c[] = {
		{ "/nested/a/b = 5", T },
		{ "/nested/a = 5", N },
		{ "/nested/a/b/c = 5", N },
		{ "[/odd name] = 7", T },
		{ "[/odd name]=7 AND /id=42", T },
		{ "/@attr = 'x'", T },
		{ "/55 = 'IBM'", T },
		{ "/arr[0] = 10", T },
		{ "/arr[2] = 30", T },
		{ "/arr[3] IS NULL", T },
		{ "/items[1]/qty = 5", T },
		{ "/items[0]/qty = 5", F },
		{ "/tags[1] = 'b'", T },
	};

	RUN(c);
}
END_TEST

/* Array-aware comparisons: any element; arithmetic uses the first. */
START_TEST(test_arrays)
{
	static const struct fcase c[] = {
		{ "/tags = 'b'", T },
		{ "/tags = 'z'", F },
		{ "/tags != 'a'", T },
		{ "/tags IN ('x', 'c')", T },
		{ "/tags NOT IN ('x', 'c')", F },
		{ "/tags LIKE '^c$'", T },
		{ "/tags NOT LIKE '^c$'", F },
		{ "/items/qty = 5", T },
		{ "/items/qty > 4", T },
		{ "/items/qty > 5", F },
		{ "/items/qty BETWEEN 2 AND 4", F },
		{ "/items/qty BETWEEN 4 AND 6", T },
		{ "/arr = 20", T },
		{ "/arr + 1 = 11", T },
		{ "/arr * 1 = 20", F },
		{ "/emptyarr = 1", N },
		{ "/mixed = 3", T },
		{ "/mixed = 4", N },
		{ "/arr = /arr", T },
		{ "5 IN (/arr, /items/qty)", T },
		{ "UPPER(/tags) = 'A'", T },
	};

	RUN(c);
}
END_TEST

/* LIKE is unanchored, case-sensitive PCRE; BEGINS/ENDS WITH are literal. */
START_TEST(test_like_affix)
{
	static const struct fcase c[] = {
		{ "/word LIKE 'World'", T },
		{ "/word LIKE 'world'", F },
		{ "/word LIKE '(?i)world'", T },
		{ "/word LIKE '^World'", F },
		{ "/word LIKE '^Hello'", T },
		{ "/word LIKE 'World$'", T },
		{ "/word LIKE 'o.W'", T },
		{ "/word LIKE 'H%'", F },
		{ "/qty LIKE '^10'", T },
		{ "/word BEGINS WITH ('Hel', 'x')", T },
		{ "/word BEGINS WITH ('hel')", F },
		{ "/word ENDS WITH ('x', 'World')", T },
		{ "/word NOT ENDS WITH ('World')", F },
		{ "/word NOT BEGINS WITH ('World')", T },
		{ "/word BEGINS WITH ('Hello World and more')", F },
	};

	RUN(c);
}
END_TEST

/* The optional functions. */
START_TEST(test_functions)
{
	static const struct fcase c[] = {
		{ "UPPER(/sender) = 'MOM'", T },
		{ "LOWER(/status) = 'active'", T },
		{ "LEN(/word) = 11", T },
		{ "LEN(/missing) IS NULL", T },
		{ "INSTR(/word, 'World') = 7", T },
		{ "INSTR(/word, 'xyz') = 0", T },
		{ "INSTR_I(/word, 'WORLD') = 7", T },
		{ "STREQUAL_I(/status, 'active')", T },
		{ "COALESCE(/missing, /nul, /sender) = 'mom'", T },
		{ "COALESCE(/missing) IS NULL", T },
		{ "IF(/qty > 50, 'big', 'small') = 'big'", T },
		{ "IF(/missing > 50, 'big', 'small') = 'small'", T },
		{ "SUBSTR(/word, 7) = 'World'", T },
		{ "SUBSTR(/word, 1, 5) = 'Hello'", T },
		{ "upper(/sender) = 'MOM'", T },
	};

	RUN(c);
}
END_TEST

/* Syntax errors are rejected with a "bad filter" message. */
START_TEST(test_bad_filters)
{
	static const char *bad[] = {
		"", "   ", "/qty >>> 1", "/qty >> 1", "(/a = 1", "/a = 1)",
		"((/a = 1)", "/a = 1 junk", "/a = 1 /b = 2", "/a LIKE /b",
		"/a LIKE 5", "/a LIKE '('", "/a LIKE '[a-'", "/a =",
		"= 1", "AND", "/a AND", "NOT", "/a IN ()", "/a IN (1,)",
		"/a IN 1", "/a BETWEEN 1", "/a BETWEEN 1 OR 2",
		"/a IS", "/a IS 5", "/a NOT = 1", "/a = 'unterminated",
		"/a = \"x", "[/unterminated", "[/]", "/a[x] = 1", "/a[1 = 1",
		"/a BEGINS ('x')", "/a BEGINS WITH (/b)", "/a ENDS WITH 'x'",
		"1abc = 1", "1e = 1", "/a ! 1", "/a = 1 ;", "FOO(/a) = 1",
		"UPPER(/a, /b) = 1", "IF(1=1, 2) = 2", "/a = 1 AND OR 1=1",
		"/a / = 2", "- = 1", "/a = #", "/a = NOT 1", "MOD",
		"1 = 1 = 1", "/a IS NOT", "'x' 'y'", "r'x",
		"/a = \0x",
	};
	char		 err[256];
	struct filter	*f;
	size_t		 i, len;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		len = strlen(bad[i]);
		if (i == sizeof bad / sizeof bad[0] - 1)
			len = 6;	/* embedded NUL */
		err[0] = '\0';
		f = filter_compile(bad[i], len, err, sizeof err);
		ck_assert_msg(f == NULL, "accepted bad filter '%s'", bad[i]);
		ck_assert_msg(strncmp(err, "bad filter", 10) == 0,
		    "'%s': message '%s'", bad[i], err);
	}
	/* NULL text and tiny error buffers are safe. */
	ck_assert_ptr_null(filter_compile(NULL, 0, NULL, 0));
	ck_assert_ptr_null(filter_compile("(", 1, err, 1));
	ck_assert_int_eq(filter_match(NULL, NULL), 0);
	filter_free(NULL);
}
END_TEST

/* Hostile nesting is rejected instead of exhausting the stack. */
START_TEST(test_deep_nesting)
{
	char		*buf, err[256];
	struct filter	*f;
	size_t		 i, n = 100000;

	buf = malloc(2 * n + 8);
	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < n; i++)
		buf[i] = '(';
	memcpy(buf + n, "1=1", 3);
	for (i = 0; i < n; i++)
		buf[n + 3 + i] = ')';
	f = filter_compile(buf, 2 * n + 3, err, sizeof err);
	ck_assert_ptr_null(f);
	for (i = 0; i < n; i++)
		buf[i] = (i % 4 == 3) ? ' ' : "NOT"[i % 4];
	f = filter_compile(buf, n, err, sizeof err);
	ck_assert_ptr_null(f);
	for (i = 0; i < n; i++)
		buf[i] = '-';
	f = filter_compile(buf, n, err, sizeof err);
	ck_assert_ptr_null(f);
	/* Moderate nesting is fine. */
	f = filter_compile("((((((((((1=1))))))))))", 23, err, sizeof err);
	ck_assert_ptr_nonnull(f);
	filter_free(f);
	free(buf);
}
END_TEST

/* Random token soup compiles or fails cleanly and evaluates safely. */
START_TEST(test_fuzz_no_crash)
{
	static const char *atoms[] = {
		"/a", "/b/c", "[/x y]", "/t[0]", "1", "2.5", "-", "'s'",
		"\"q\"", "r'\\d'", "(", ")", ",", "=", "!=", "<>", "<",
		">=", "+", " / ", "*", "%", "AND", "OR", "NOT", "IN",
		"BETWEEN", "LIKE", "IS", "NULL", "BEGINS", "WITH", "ENDS",
		"MOD", "UPPER(", "IF(", "COALESCE(", "'", "[", "]", "\\",
		"1e9", "9999999999999999999999", "TRUE",
	};
	json_t		*doc;
	struct filter	*f;
	char		 buf[512], err[128];
	unsigned int	 seed = 12345;
	size_t		 i, k, len, na = sizeof atoms / sizeof atoms[0];
	int		 ok = 0;

	doc = json_loads("{\"a\":[1,\"2\",null],\"b\":{\"c\":\"x\"},"
	    "\"x y\":3,\"t\":[{\"a\":1}]}", 0, NULL);
	ck_assert_ptr_nonnull(doc);
	for (i = 0; i < 20000; i++) {
		len = 0;
		for (k = 0; k < 1 + i % 12; k++) {
			const char *a;

			seed = seed * 1103515245 + 12345;
			a = atoms[(seed >> 16) % na];
			if (len + strlen(a) + 2 >= sizeof buf)
				break;
			memcpy(buf + len, a, strlen(a));
			len += strlen(a);
			buf[len++] = ' ';
		}
		f = filter_compile(buf, len, err, sizeof err);
		if (f != NULL) {
			ok++;
			(void)filter_match(f, doc);
			filter_free(f);
		}
	}
	ck_assert_int_gt(ok, 0);
	json_decref(doc);
}
END_TEST

/* One compiled filter evaluates many documents. */
START_TEST(test_compile_once_match_many)
{
	struct filter	*f;
	json_t		*d1, *d2;
	char		 err[128];
	const char	*text = "/id > 10 AND /name LIKE '^a'";

	f = filter_compile(text, strlen(text), err, sizeof err);
	ck_assert_msg(f != NULL, "%s", err);
	d1 = json_pack("{s:i,s:s}", "id", 11, "name", "abc");
	d2 = json_pack("{s:i,s:s}", "id", 11, "name", "bcd");
	ck_assert_int_eq(filter_match(f, d1), 1);
	ck_assert_int_eq(filter_match(f, d2), 0);
	ck_assert_int_eq(filter_match(f, d1), 1);
	json_decref(d1);
	json_decref(d2);
	filter_free(f);
}
END_TEST

/* Build the suite. */
static Suite *
filter_suite(void)
{
	Suite	*s = suite_create("filter");
	TCase	*sem = tcase_create("semantics");
	TCase	*syn = tcase_create("syntax");

	tcase_set_timeout(sem, 30);
	tcase_set_timeout(syn, 60);
	tcase_add_test(sem, test_spec_examples);
	tcase_add_test(sem, test_null_logic);
	tcase_add_test(sem, test_precedence);
	tcase_add_test(sem, test_coercion);
	tcase_add_test(sem, test_identifiers);
	tcase_add_test(sem, test_arrays);
	tcase_add_test(sem, test_like_affix);
	tcase_add_test(sem, test_functions);
	tcase_add_test(sem, test_compile_once_match_many);
	tcase_add_test(syn, test_bad_filters);
	tcase_add_test(syn, test_deep_nesting);
	tcase_add_test(syn, test_fuzz_no_crash);
	suite_add_tcase(s, sem);
	suite_add_tcase(s, syn);
	return (s);
}

/* Run the suite; exit status is non-zero when a check failed. */
int
main(void)
{
	return (check_main(filter_suite()));
}
