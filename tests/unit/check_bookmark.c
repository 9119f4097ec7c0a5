/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for codec/amps-bookmark.c (PROTOCOL.md §8.1-8.3): bookmark ids,
 * classification of special values, lists and ranges, timestamps (with a
 * random round trip checked against gmtime_r, seed printed, AMPS_TEST_SEED
 * to try another), the FNV-1a client-name hash and comma-list iteration.
 *
 * Every parse is given an exact-size heap copy of its input (no NUL after
 * it), so an over-read shows up under AddressSanitizer.
 */

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amps.h"
#include "testutil.h"

/* An exact-size copy of s without a terminating NUL. */
static char *
dup_exact(const char *s, size_t *len)
{
	char	*p;

	*len = strlen(s);
	p = malloc(*len > 0 ? *len : 1);
	ck_assert_ptr_nonnull(p);
	memcpy(p, s, *len);
	return (p);
}

/* ------------------------------------------------------------ bm_parse */

struct bm_good {
	const char	*s;
	uint64_t	 pub, seq;
};

static const struct bm_good bm_goods[] = {
	{ "934814|44321|", 934814, 44321 },
	{ "1234567|123583190|", 1234567, 123583190 },
	{ "7094790850998930143|0|", 7094790850998930143ULL, 0 },
	{ "0|1|", 0, 1 },
	{ "0|0|", 0, 0 },
	{ "007|08|", 7, 8 },
	{ "18446744073709551615|18446744073709551615|", UINT64_MAX,
	    UINT64_MAX },
};

/* Each good bookmark id parses to its two numbers. */
START_TEST(test_bm_parse_good)
{
	const struct bm_good	*g = &bm_goods[_i];
	uint64_t		 pub = 1, seq = 1;
	size_t			 len;
	char			*s = dup_exact(g->s, &len);

	ck_assert_int_eq(amps_bm_parse(s, len, &pub, &seq), 0);
	ck_assert_uint_eq(pub, g->pub);
	ck_assert_uint_eq(seq, g->seq);
	ck_assert_int_eq(amps_bm_parse(s, len, NULL, NULL), 0);
	free(s);
}
END_TEST

static const char *const bm_bads[] = {
	"", "|", "||", "|||", "1|", "1|2", "1|2|3|", "1|2||", "||1|",
	"18446744073709551616|1|", "1|18446744073709551616|",
	"99999999999999999999|1|", "a|1|", " 1|2|", "1 |2|", "1|2| ",
	"-1|2|", "+1|2|", "1||", "|1|", "0", "recent", "20150102T123500Z",
	"1|2|,3|4|", "0x1|2|", "1,|2|",
};

/* Each bad bookmark id is rejected and the outputs untouched. */
START_TEST(test_bm_parse_bad)
{
	uint64_t	 pub = 77, seq = 88;
	size_t		 len;
	char		*s = dup_exact(bm_bads[_i], &len);

	ck_assert_msg(amps_bm_parse(s, len, &pub, &seq) == AMPS_E_BOOKMARK,
	    "accepted \"%s\"", bm_bads[_i]);
	ck_assert_uint_eq(pub, 77);
	ck_assert_uint_eq(seq, 88);
	free(s);
}
END_TEST

/* amps_bm_format: values, truncation, round trip. */
START_TEST(test_bm_format)
{
	char	out[64];
	size_t	i;

	ck_assert_int_eq(amps_bm_format(out, sizeof out, 934814, 44321), 13);
	ck_assert_str_eq(out, "934814|44321|");
	ck_assert_int_eq(amps_bm_format(out, sizeof out, 0, 1), 4);
	ck_assert_str_eq(out, AMPS_BOOKMARK_NOW);
	ck_assert_int_eq(amps_bm_format(out, sizeof out, UINT64_MAX,
	    UINT64_MAX), 42);
	ck_assert_str_eq(out, "18446744073709551615|18446744073709551615|");

	/* Truncation: snprintf-like. */
	memset(out, 'X', sizeof out);
	ck_assert_int_eq(amps_bm_format(out, 5, 934814, 44321), 13);
	ck_assert_str_eq(out, "9348");
	memset(out, 'X', sizeof out);
	ck_assert_int_eq(amps_bm_format(out, 0, 934814, 44321), 13);
	ck_assert_int_eq(out[0], 'X');
	ck_assert_int_eq(amps_bm_format(out, 13, 934814, 44321), 13);
	ck_assert_str_eq(out, "934814|44321");

	/* Round trip over a spread of values. */
	for (i = 0; i < 64; i++) {
		uint64_t	p = (UINT64_MAX >> i) ^ i, q = 1ULL << i;
		uint64_t	p2, q2;
		int		n = amps_bm_format(out, sizeof out, p, q);

		ck_assert_int_eq(amps_bm_parse(out, (size_t)n, &p2, &q2), 0);
		ck_assert_uint_eq(p2, p);
		ck_assert_uint_eq(q2, q);
	}
}
END_TEST

/* ------------------------------------------------------------ classify */

struct cls {
	const char		*s;
	enum amps_bm_kind	 kind;
};

static const struct cls classes[] = {
	{ "0", AMPS_BM_EPOCH },
	{ "0|1|", AMPS_BM_NOW },
	{ "recent", AMPS_BM_MOST_RECENT },
	{ "1|2|", AMPS_BM_ID },
	{ "0|0|", AMPS_BM_ID },
	{ "9518329128413381245|40|", AMPS_BM_ID },
	{ "20150102T123500Z", AMPS_BM_TIMESTAMP },
	{ "20150102T123500", AMPS_BM_TIMESTAMP },
	{ "20240321T220952.535075Z", AMPS_BM_TIMESTAMP },
	{ "1|2|,3|4|", AMPS_BM_LIST },
	{ "1|2|, 20150102T123500Z", AMPS_BM_LIST },
	{ "0,0|1|", AMPS_BM_LIST },
	{ "9518329128413381245|7|,9518329128413381245|8|", AMPS_BM_LIST },
	{ "1|2|,", AMPS_BM_ID },
	{ ",,1|2|,,", AMPS_BM_ID },
	{ " 0 ,", AMPS_BM_EPOCH },
	{ "[20200604T000000:20200605T000000)", AMPS_BM_RANGE },
	{ "(1|2|:3|4|]", AMPS_BM_RANGE },
	{ "[1|2|,3|4|:20200605T000000]", AMPS_BM_RANGE },
	{ "( 1|2| , 3|4| : 5|6| )", AMPS_BM_RANGE },
	{ "[0:0|1|)", AMPS_BM_RANGE },
	{ "[20200604T000000.5Z:20991231T235959Z]", AMPS_BM_RANGE },
	/* Invalid. */
	{ "", AMPS_BM_INVALID },
	{ ",,", AMPS_BM_INVALID },
	{ " ", AMPS_BM_INVALID },
	{ " 0", AMPS_BM_INVALID },
	{ "00", AMPS_BM_INVALID },
	{ "1", AMPS_BM_INVALID },
	{ "0|1", AMPS_BM_INVALID },
	{ "RECENT", AMPS_BM_INVALID },
	{ "recent,1|2|", AMPS_BM_INVALID },
	{ "1|2|,recent", AMPS_BM_INVALID },
	{ "1|2|,x", AMPS_BM_INVALID },
	{ "1|2|,20150230T000000", AMPS_BM_INVALID },
	{ "20150102T123500+01", AMPS_BM_INVALID },
	{ "[20200604T000000:]", AMPS_BM_INVALID },
	{ "[:20200604T000000]", AMPS_BM_INVALID },
	{ "[a:b)", AMPS_BM_INVALID },
	{ "[1|2|:3|4|", AMPS_BM_INVALID },
	{ "1|2|:3|4|)", AMPS_BM_INVALID },
	{ "[1|2|3|4|]", AMPS_BM_INVALID },
	{ "[1|2|:3|4|:5|6|]", AMPS_BM_INVALID },
	{ "{1|2|:3|4|}", AMPS_BM_INVALID },
	{ "[recent:1|2|)", AMPS_BM_INVALID },
	{ "[1|2|:recent)", AMPS_BM_INVALID },
	{ "[1|2|:3|4|)x", AMPS_BM_INVALID },
	{ "[[1|2|:3|4|])", AMPS_BM_INVALID },
	{ "[", AMPS_BM_INVALID },
	{ "(", AMPS_BM_INVALID },
	{ "[]", AMPS_BM_INVALID },
	{ "(:)", AMPS_BM_INVALID },
	{ "[:]", AMPS_BM_INVALID },
	{ "[,:,]", AMPS_BM_INVALID },
};

/* Each string classifies as the expected kind. */
START_TEST(test_classify)
{
	const struct cls	*c = &classes[_i];
	size_t			 len;
	char			*s = dup_exact(c->s, &len);

	ck_assert_msg(amps_bm_classify(s, len) == c->kind,
	    "\"%s\": kind %d, want %d", c->s, amps_bm_classify(s, len),
	    c->kind);
	free(s);
}
END_TEST

/* ---------------------------------------------------------- timestamps */

struct ts_good {
	const char	*s;
	int64_t		 usec;
	const char	*canon;		/* amps_ts_format of usec */
};

static const struct ts_good ts_goods[] = {
	{ "19700101T000000Z", 0, "19700101T000000.000000Z" },
	{ "19700101T000000", 0, "19700101T000000.000000Z" },
	{ "19700101T000000.000001Z", 1, "19700101T000000.000001Z" },
	{ "19691231T235959.999999Z", -1, "19691231T235959.999999Z" },
	{ "20150102T123500Z", 1420202100000000LL, "20150102T123500.000000Z" },
	{ "20000229T000000Z", 951782400000000LL, "20000229T000000.000000Z" },
	{ "20240229T120000.5Z", 1709208000500000LL,
	    "20240229T120000.500000Z" },
	{ "20240321T220952.535075Z", 1711058992535075LL,
	    "20240321T220952.535075Z" },
	{ "20240321T220952.123456789Z", 1711058992123456LL,
	    "20240321T220952.123456Z" },
	{ "20240321T220952.1234567", 1711058992123456LL,
	    "20240321T220952.123456Z" },
	{ "20240321T220952.000000000", 1711058992000000LL,
	    "20240321T220952.000000Z" },
	{ "19000228T235959Z", -2203891201000000LL,
	    "19000228T235959.000000Z" },
	{ "21000301T000000Z", 4107542400000000LL, "21000301T000000.000000Z" },
	{ "99991231T235959.999999Z", 253402300799999999LL,
	    "99991231T235959.999999Z" },
	{ "00010101T000000Z", -62135596800000000LL,
	    "00010101T000000.000000Z" },
	{ "00000101T000000Z", -62167219200000000LL,
	    "00000101T000000.000000Z" },
	{ "16000229T000000Z", -11670998400000000LL,
	    "16000229T000000.000000Z" },
	{ "20380119T031408Z", 2147483648000000LL, "20380119T031408.000000Z" },
	{ "19991231T235959Z", 946684799000000LL, "19991231T235959.000000Z" },
	{ "20000101T000000Z", 946684800000000LL, "20000101T000000.000000Z" },
	{ "20161231T235959Z", 1483228799000000LL, "20161231T235959.000000Z" },
	{ "20170101T000000Z", 1483228800000000LL, "20170101T000000.000000Z" },
};

/* Each good timestamp gives its microseconds and canonical form. */
START_TEST(test_ts_parse_good)
{
	const struct ts_good	*g = &ts_goods[_i];
	int64_t			 t = 42;
	size_t			 len;
	char			*s = dup_exact(g->s, &len), out[32];

	ck_assert_msg(amps_ts_parse(s, len, &t) == 0, "rejected %s", g->s);
	ck_assert_msg(t == g->usec, "%s: %" PRId64 ", want %" PRId64, g->s, t,
	    g->usec);
	ck_assert_int_eq(amps_ts_parse(s, len, NULL), 0);
	ck_assert_int_eq(amps_ts_format(out, sizeof out, t), 23);
	ck_assert_str_eq(out, g->canon);
	free(s);
}
END_TEST

static const char *const ts_bads[] = {
	"", "2024", "19000229T000000Z", "21000229T000000Z",
	"20230229T000000Z", "20240230T000000Z", "20240431T000000Z",
	"20240631T000000Z", "20240931T000000Z", "20241131T000000Z",
	"20240132T000000Z", "20241301T000000Z", "20240001T000000Z",
	"20240100T000000Z", "20240101T240000Z", "20240101T236000Z",
	"20240101T235960Z", "20240101T000000.Z", "20240101T000000.",
	"20240101T000000.1234567890Z", "20240101T000000z",
	"20240101T000000+0000", "20240101T000000ZZ", "20240101T000000Z ",
	"20240101 000000", "2024-01-01T00:00:00Z", "20240101t000000Z",
	"2024010T000000Z", "20240101T00000Z", "20240101T0000000Z",
	"20240101T000000.12a", "20240101T000000,5Z", " 20240101T000000",
	"-2024010T000000Z", "+2024010T000000Z", "2024O101T000000Z",
	"20240101T000000.5.5", "20240101T000000Z.5", "0", "1|2|",
};

/* Each bad timestamp is rejected and the output untouched. */
START_TEST(test_ts_parse_bad)
{
	int64_t	 t = 42;
	size_t	 len;
	char	*s = dup_exact(ts_bads[_i], &len);

	ck_assert_msg(amps_ts_parse(s, len, &t) == AMPS_E_BOOKMARK,
	    "accepted \"%s\"", ts_bads[_i]);
	ck_assert_int_eq(t, 42);
	ck_assert_int_eq(amps_bm_classify(s, len), len == 1 ? AMPS_BM_EPOCH :
	    len == 4 && memcmp(s, "1|2|", 4) == 0 ? AMPS_BM_ID :
	    AMPS_BM_INVALID);
	free(s);
}
END_TEST

/* Every day of a leap and a common year, and the days after them. */
START_TEST(test_ts_calendar)
{
	static const int mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	static const int years[] = { 1900, 1999, 2000, 2023, 2024, 2100 };
	char	 buf[32];
	int64_t	 t, prev;
	size_t	 yi;
	int	 y, m, d, leap, max;

	for (yi = 0; yi < sizeof years / sizeof years[0]; yi++) {
		y = years[yi];
		leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		prev = INT64_MIN;
		for (m = 1; m <= 12; m++) {
			max = mdays[m - 1] + (m == 2 && leap);
			for (d = 1; d <= 32; d++) {
				snprintf(buf, sizeof buf, "%04d%02d%02dT000000",
				    y, m, d);
				if (d > max) {
					ck_assert_msg(amps_ts_parse(buf,
					    strlen(buf), &t) == AMPS_E_BOOKMARK,
					    "accepted %s", buf);
					continue;
				}
				ck_assert_msg(amps_ts_parse(buf, strlen(buf),
				    &t) == 0, "rejected %s", buf);
				if (prev != INT64_MIN)
					ck_assert_int_eq(t - prev,
					    86400LL * 1000000);
				prev = t;
			}
		}
	}
}
END_TEST

/* amps_ts_format at the epoch, the year limits and short buffers. */
START_TEST(test_ts_format_edges)
{
	char	out[32];

	ck_assert_int_eq(amps_ts_format(out, sizeof out, 0), 23);
	ck_assert_str_eq(out, "19700101T000000.000000Z");
	ck_assert_int_eq(amps_ts_format(out, sizeof out, -1), 23);
	ck_assert_str_eq(out, "19691231T235959.999999Z");
	ck_assert_int_eq(amps_ts_format(out, sizeof out, -86400000000LL), 23);
	ck_assert_str_eq(out, "19691231T000000.000000Z");

	/* Year 0 and 9999 are the limits. */
	ck_assert_int_eq(amps_ts_format(out, sizeof out,
	    -62167219200000000LL), 23);
	ck_assert_str_eq(out, "00000101T000000.000000Z");
	ck_assert_int_eq(amps_ts_format(out, sizeof out,
	    -62167219200000000LL - 1), AMPS_E_RANGE);
	ck_assert_int_eq(amps_ts_format(out, sizeof out,
	    253402300799999999LL), 23);
	ck_assert_int_eq(amps_ts_format(out, sizeof out,
	    253402300800000000LL), AMPS_E_RANGE);
	ck_assert_int_eq(amps_ts_format(out, sizeof out, INT64_MAX),
	    AMPS_E_RANGE);
	ck_assert_int_eq(amps_ts_format(out, sizeof out, INT64_MIN),
	    AMPS_E_RANGE);

	/* Truncation: snprintf-like. */
	memset(out, 'X', sizeof out);
	ck_assert_int_eq(amps_ts_format(out, 10, 0), 23);
	ck_assert_str_eq(out, "19700101T");
	memset(out, 'X', sizeof out);
	ck_assert_int_eq(amps_ts_format(out, 0, 0), 23);
	ck_assert_int_eq(out[0], 'X');
	ck_assert_int_eq(amps_ts_format(out, 23, 0), 23);
	ck_assert_str_eq(out, "19700101T000000.000000");
	ck_assert_int_eq(amps_ts_format(out, 24, 0), 23);
	ck_assert_str_eq(out, "19700101T000000.000000Z");
}
END_TEST

/*
 * Random times over years 0000..9999: format, parse back, and compare the
 * seconds part with gmtime_r (an independent, TZ-free oracle).
 */
START_TEST(test_ts_roundtrip)
{
	const int64_t	 lo = -62167219200000000LL;	/* 0000-01-01 */
	const int64_t	 hi = 253402300799999999LL;	/* 9999-12-31 */
	char		 out[32], want[32];
	struct tm	 tm;
	time_t		 secs;
	int64_t		 t, back;
	int		 i;

	test_rng_seed("test_ts_roundtrip", 0x5eed2026a3b5c7d9ULL);
	for (i = 0; i < 200000; i++) {
		if (i % 4 == 0)		/* near the epoch, often negative */
			t = (int64_t)(test_rng_next() % 8000000000000000ULL) -
			    4000000000000000LL;
		else
			t = lo + (int64_t)(test_rng_next() %
			    (uint64_t)(hi - lo + 1));
		ck_assert_int_eq(amps_ts_format(out, sizeof out, t), 23);
		ck_assert_int_eq(amps_ts_parse(out, 23, &back), 0);
		ck_assert_msg(back == t, "%s: %" PRId64 " != %" PRId64, out,
		    back, t);

		secs = (time_t)((t - ((t % 1000000) + 1000000) % 1000000) /
		    1000000);
		ck_assert_ptr_nonnull(gmtime_r(&secs, &tm));
		snprintf(want, sizeof want, "%04d%02d%02dT%02d%02d%02d",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
		ck_assert_msg(strncmp(out, want, 15) == 0, "%" PRId64
		    ": %s, gmtime says %s", t, out, want);
	}
}
END_TEST

/* ---------------------------------------------------------- name hash */

/* amps_name_hash against FNV-1a 64 reference values. */
START_TEST(test_name_hash)
{
	ck_assert_uint_eq(amps_name_hash("", 0), 0xcbf29ce484222325ULL);
	ck_assert_uint_eq(amps_name_hash("a", 1), 0xaf63dc4c8601ec8cULL);
	ck_assert_uint_eq(amps_name_hash("foobar", 6), 0x85944171f73967e8ULL);
	ck_assert_uint_eq(amps_name_hash("daemon-a", 8),
	    0x7a08242baa7e100bULL);
	/* Length, not NUL, ends the name. */
	ck_assert_uint_eq(amps_name_hash("foobarXYZ", 6),
	    0x85944171f73967e8ULL);
	ck_assert_uint_ne(amps_name_hash("a\0b", 3), amps_name_hash("a", 1));
}
END_TEST

/* --------------------------------------------------------------- lists */

struct list_case {
	const char	*s;
	size_t		 len;		/* 0: strlen(s) */
	const char	*items[5];	/* NULL-terminated */
};

static const struct list_case lists[] = {
	{ "a,b", 0, { "a", "b", NULL } },
	{ " a , b ", 0, { "a", "b", NULL } },
	{ ",,a,,b,,", 0, { "a", "b", NULL } },
	{ "", 0, { NULL } },
	{ " , ,\t, ", 0, { NULL } },
	{ "a", 0, { "a", NULL } },
	{ "a b, c", 0, { "a b", "c", NULL } },
	{ "\ta\t,\tb c\t", 0, { "a", "b c", NULL } },
	{ "a,b,c", 3, { "a", "b", NULL } },
	{ "a,b,c", 2, { "a", NULL } },
	{ "1|2|,3|4|,5|6|", 0, { "1|2|", "3|4|", "5|6|", NULL } },
	{ "x,,,,,,,,,,,,,,,,,,,,,,,,,y", 0, { "x", "y", NULL } },
};

/* Comma-list iteration gives exactly the expected items. */
START_TEST(test_list)
{
	const struct list_case	*l = &lists[_i];
	struct amps_list_iter	 it;
	const char		*item;
	size_t			 len, ilen, n = 0;
	char			*s;

	s = dup_exact(l->s, &len);
	if (l->len != 0)
		len = l->len;
	amps_list_begin(&it, s, len);
	while (amps_list_next(&it, &item, &ilen) == 1) {
		ck_assert_msg(l->items[n] != NULL, "\"%s\": extra item %.*s",
		    l->s, (int)ilen, item);
		ck_assert_msg(ilen == strlen(l->items[n]) &&
		    memcmp(item, l->items[n], ilen) == 0,
		    "\"%s\": item %zu is \"%.*s\", want \"%s\"", l->s, n,
		    (int)ilen, item, l->items[n]);
		n++;
	}
	ck_assert_msg(l->items[n] == NULL, "\"%s\": missing item %s", l->s,
	    l->items[n]);
	/* The end is sticky. */
	ck_assert_int_eq(amps_list_next(&it, &item, &ilen), 0);
	free(s);
}
END_TEST

/* Build the suite. */
static Suite *
bookmark_suite(void)
{
	Suite	*s = suite_create("bookmark");
	TCase	*tc;

	tc = tcase_create("id");
	tcase_set_timeout(tc, 10);
	tcase_add_loop_test(tc, test_bm_parse_good, 0,
	    sizeof bm_goods / sizeof bm_goods[0]);
	tcase_add_loop_test(tc, test_bm_parse_bad, 0,
	    sizeof bm_bads / sizeof bm_bads[0]);
	tcase_add_test(tc, test_bm_format);
	tcase_add_test(tc, test_name_hash);
	suite_add_tcase(s, tc);

	tc = tcase_create("classify");
	tcase_set_timeout(tc, 10);
	tcase_add_loop_test(tc, test_classify, 0,
	    sizeof classes / sizeof classes[0]);
	tcase_add_loop_test(tc, test_list, 0, sizeof lists / sizeof lists[0]);
	suite_add_tcase(s, tc);

	tc = tcase_create("timestamp");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_ts_parse_good, 0,
	    sizeof ts_goods / sizeof ts_goods[0]);
	tcase_add_loop_test(tc, test_ts_parse_bad, 0,
	    sizeof ts_bads / sizeof ts_bads[0]);
	tcase_add_test(tc, test_ts_calendar);
	tcase_add_test(tc, test_ts_format_edges);
	tcase_add_test(tc, test_ts_roundtrip);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; the exit status is non-zero when a check failed. */
int
main(void)
{
	return (check_main(bookmark_suite()));
}
