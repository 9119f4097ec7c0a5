/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for codec/amps-options.c: the options splitter (PROTOCOL.md §13)
 * and ack-type lists (PROTOCOL.md §6.1).  Inputs are exact-size heap copies (no
 * NUL after them) so AddressSanitizer catches over-reads.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ------------------------------------------------------------- options */

#define MAXOPT	6

struct opt_case {
	const char	*s;
	int		 n;		/* options before the end or error */
	int		 rc;		/* 0 (clean end) or AMPS_E_OPTIONS */
	const char	*name[MAXOPT];
	const char	*value[MAXOPT];	/* NULL: bare name */
};

static const struct opt_case opt_cases[] = {
	{ "oof, conflation=1m, conflation_key=[/a,/b], select=[-/,+/id]", 4, 0,
	    { "oof", "conflation", "conflation_key", "select" },
	    { NULL, "1m", "[/a,/b]", "[-/,+/id]" } },
	{ "start,5", 2, 0, { "start", "5" }, { NULL, NULL } },
	{ "", 0, 0, { NULL }, { NULL } },
	{ "  \t ", 0, 0, { NULL }, { NULL } },
	{ ",,oof,,", 1, 0, { "oof" }, { NULL } },
	{ "replace", 1, 0, { "replace" }, { NULL } },
	{ "top_n=10,skip_n=5", 2, 0, { "top_n", "skip_n" }, { "10", "5" } },
	{ " a = b ", 1, 0, { "a" }, { "b" } },
	{ "x=", 1, 0, { "x" }, { "" } },
	{ "x= ,y", 2, 0, { "x", "y" }, { "", NULL } },
	{ "x=[a,[b,c]],y", 2, 0, { "x", "y" }, { "[a,[b,c]]", NULL } },
	{ "grouping=[/a],projection=[/a,SUM(/b) AS /b]", 2, 0,
	    { "grouping", "projection" }, { "[/a]", "[/a,SUM(/b) AS /b]" } },
	{ "bookmark_not_found=epoch", 1, 0, { "bookmark_not_found" },
	    { "epoch" } },
	{ "rate=1.5X,rate_max_gap=3s,live", 3, 0,
	    { "rate", "rate_max_gap", "live" }, { "1.5X", "3s", NULL } },
	{ "k=a=b", 1, 0, { "k" }, { "a=b" } },
	{ "[a,b]", 1, 0, { "[a,b]" }, { NULL } },
	{ "x=[],y=[ ]", 2, 0, { "x", "y" }, { "[]", "[ ]" } },
	{ "select=[-/,+/id,+/complaint]", 1, 0, { "select" },
	    { "[-/,+/id,+/complaint]" } },
	{ "a b,c", 2, 0, { "a b", "c" }, { NULL, NULL } },
	/* Errors, possibly after some good options. */
	{ "x=[a,b", 0, AMPS_E_OPTIONS, { NULL }, { NULL } },
	{ "x=a]", 0, AMPS_E_OPTIONS, { NULL }, { NULL } },
	{ "]", 0, AMPS_E_OPTIONS, { NULL }, { NULL } },
	{ "[", 0, AMPS_E_OPTIONS, { NULL }, { NULL } },
	{ "a,b]", 1, AMPS_E_OPTIONS, { "a" }, { NULL } },
	{ "x=[a]]", 0, AMPS_E_OPTIONS, { NULL }, { NULL } },
	{ "x=[[a]", 0, AMPS_E_OPTIONS, { NULL }, { NULL } },
	{ "oof, x=[", 1, AMPS_E_OPTIONS, { "oof" }, { NULL } },
	{ "=5", 0, AMPS_E_OPTIONS, { NULL }, { NULL } },
	{ " = 5", 0, AMPS_E_OPTIONS, { NULL }, { NULL } },
	{ "a,=b,c", 1, AMPS_E_OPTIONS, { "a" }, { NULL } },
};

/* Each options string splits into exactly the expected options. */
START_TEST(test_opts)
{
	const struct opt_case	*c = &opt_cases[_i];
	struct amps_opts_iter	 it;
	struct amps_opt		 o;
	size_t			 len;
	char			*s = dup_exact(c->s, &len);
	int			 n = 0, rc;

	amps_opts_begin(&it, s, len);
	while ((rc = amps_opts_next(&it, &o)) == 1) {
		ck_assert_msg(n < c->n, "\"%s\": extra option %.*s", c->s,
		    (int)o.name_len, o.name);
		ck_assert_msg(o.name_len == strlen(c->name[n]) &&
		    memcmp(o.name, c->name[n], o.name_len) == 0,
		    "\"%s\": option %d name \"%.*s\", want \"%s\"", c->s, n,
		    (int)o.name_len, o.name, c->name[n]);
		if (c->value[n] == NULL)
			ck_assert_msg(o.value == NULL && o.value_len == 0,
			    "\"%s\": option %d has a value", c->s, n);
		else
			ck_assert_msg(o.value != NULL &&
			    o.value_len == strlen(c->value[n]) &&
			    memcmp(o.value, c->value[n], o.value_len) == 0,
			    "\"%s\": option %d value \"%.*s\", want \"%s\"",
			    c->s, n, (int)o.value_len,
			    o.value != NULL ? o.value : "", c->value[n]);
		n++;
	}
	ck_assert_msg(rc == c->rc, "\"%s\": rc %d, want %d", c->s, rc, c->rc);
	ck_assert_msg(n == c->n, "\"%s\": %d options, want %d", c->s, n, c->n);
	/* The end, and an error, are sticky. */
	ck_assert_int_eq(amps_opts_next(&it, &o), c->rc);
	free(s);
}
END_TEST

struct find_case {
	const char	*s;
	const char	*name;
	int		 rc;
	const char	*value;		/* when rc == 1; NULL = bare */
};

static const struct find_case finds[] = {
	{ "oof, conflation=1m, conflation_key=[/a,/b]", "conflation", 1,
	    "1m" },
	{ "oof, conflation=1m, conflation_key=[/a,/b]", "conflation_key", 1,
	    "[/a,/b]" },
	{ "oof, conflation=1m, conflation_key=[/a,/b]", "oof", 1, NULL },
	{ "oof, conflation=1m, conflation_key=[/a,/b]", "conf", 0, NULL },
	{ "oof, conflation=1m, conflation_key=[/a,/b]", "OOF", 0, NULL },
	{ "oof, conflation=1m", "missing", 0, NULL },
	{ "", "oof", 0, NULL },
	{ "a=1,a=2", "a", 1, "1" },
	{ "max_backlog=5", "max_backlog", 1, "5" },
	{ "x=[/a,oof]", "oof", 0, NULL },
	{ "oof,x=[", "oof", AMPS_E_OPTIONS, NULL },
	{ "x=[,oof", "oof", AMPS_E_OPTIONS, NULL },
	{ "oof,]", "missing", AMPS_E_OPTIONS, NULL },
};

/* amps_opts_find finds the first match and reports bad strings. */
START_TEST(test_find)
{
	const struct find_case	*f = &finds[_i];
	struct amps_opt		 o;
	size_t			 len;
	char			*s = dup_exact(f->s, &len);
	int			 rc;

	memset(&o, 0, sizeof o);
	rc = amps_opts_find(s, len, f->name, &o);
	ck_assert_msg(rc == f->rc, "find %s in \"%s\": rc %d, want %d",
	    f->name, f->s, rc, f->rc);
	if (rc == 1) {
		ck_assert_uint_eq(o.name_len, strlen(f->name));
		ck_assert(memcmp(o.name, f->name, o.name_len) == 0);
		if (f->value == NULL)
			ck_assert_ptr_null(o.value);
		else {
			ck_assert_ptr_nonnull(o.value);
			ck_assert_uint_eq(o.value_len, strlen(f->value));
			ck_assert(memcmp(o.value, f->value, o.value_len) == 0);
		}
	}
	ck_assert_int_eq(amps_opts_find(s, len, f->name, NULL), f->rc);
	free(s);
}
END_TEST

/* ----------------------------------------------------------- ack types */

struct ack_case {
	const char	*s;
	int		 rc;
	unsigned	 mask;
};

static const struct ack_case acks[] = {
	{ "received", 0, AMPS_ACK_RECEIVED },
	{ "parsed", 0, AMPS_ACK_PARSED },
	{ "processed", 0, AMPS_ACK_PROCESSED },
	{ "persisted", 0, AMPS_ACK_PERSISTED },
	{ "completed", 0, AMPS_ACK_COMPLETED },
	{ "stats", 0, AMPS_ACK_STATS },
	{ "none", 0, 0 },
	{ "", 0, 0 },
	{ "processed,completed", 0, 20 },
	{ " processed , completed ", 0, 20 },
	{ "received,parsed,processed,persisted,completed,stats", 0, 63 },
	{ "stats,received", 0, 33 },
	{ "processed,processed", 0, 4 },
	{ "none,processed", 0, 4 },
	{ "processed,", 0, 4 },
	{ "processed,completed,persisted", 0, 28 },
	{ "bogus", AMPS_E_ACKTYPE, 0 },
	{ "Processed", AMPS_E_ACKTYPE, 0 },
	{ "process", AMPS_E_ACKTYPE, 0 },
	{ "processedx", AMPS_E_ACKTYPE, 0 },
	{ "processed;completed", AMPS_E_ACKTYPE, 0 },
	{ "processed completed", AMPS_E_ACKTYPE, 0 },
	{ "processed,bogus", AMPS_E_ACKTYPE, 0 },
	{ "1", AMPS_E_ACKTYPE, 0 },
	{ "nonee", AMPS_E_ACKTYPE, 0 },
};

/* Each ack list parses to its mask, or fails leaving it untouched. */
START_TEST(test_ack_parse)
{
	const struct ack_case	*a = &acks[_i];
	unsigned		 mask = 0xdead;
	size_t			 len;
	char			*s = dup_exact(a->s, &len);

	ck_assert_msg(amps_ack_parse(s, len, &mask) == a->rc,
	    "\"%s\": wrong rc", a->s);
	ck_assert_uint_eq(mask, a->rc == 0 ? a->mask : 0xdead);
	free(s);
}
END_TEST

/* amps_ack_format: values, bad masks, truncation, round trip. */
START_TEST(test_ack_format)
{
	char		out[128];
	unsigned	m, back;
	int		n;

	ck_assert_int_eq(amps_ack_format(out, sizeof out, 0), 4);
	ck_assert_str_eq(out, "none");
	ck_assert_int_eq(amps_ack_format(out, sizeof out, 1), 8);
	ck_assert_str_eq(out, "received");
	ck_assert_int_eq(amps_ack_format(out, sizeof out, 20), 19);
	ck_assert_str_eq(out, "processed,completed");
	ck_assert_int_eq(amps_ack_format(out, sizeof out, 33), 14);
	ck_assert_str_eq(out, "received,stats");
	ck_assert_int_eq(amps_ack_format(out, sizeof out, AMPS_ACK_ALL), 51);
	ck_assert_str_eq(out,
	    "received,parsed,processed,persisted,completed,stats");
	ck_assert_int_eq(amps_ack_format(out, sizeof out, 64), AMPS_E_ACKTYPE);
	ck_assert_int_eq(amps_ack_format(out, sizeof out, 0xffffffffu),
	    AMPS_E_ACKTYPE);

	/* Truncation: snprintf-like. */
	memset(out, 'X', sizeof out);
	ck_assert_int_eq(amps_ack_format(out, 5, 20), 19);
	ck_assert_str_eq(out, "proc");
	memset(out, 'X', sizeof out);
	ck_assert_int_eq(amps_ack_format(out, 0, 20), 19);
	ck_assert_int_eq(out[0], 'X');
	ck_assert_int_eq(amps_ack_format(out, 11, 20), 19);
	ck_assert_str_eq(out, "processed,");

	/* Every mask round-trips. */
	for (m = 0; m <= AMPS_ACK_ALL; m++) {
		n = amps_ack_format(out, sizeof out, m);
		ck_assert_int_eq(n, (int)strlen(out));
		ck_assert_ptr_null(strchr(out, ' '));
		ck_assert_int_eq(amps_ack_parse(out, (size_t)n, &back), 0);
		ck_assert_uint_eq(back, m);
	}
}
END_TEST

/* amps_ack_name of each bit, of none and of non-bits. */
START_TEST(test_ack_name)
{
	ck_assert_str_eq(amps_ack_name(AMPS_ACK_NONE), "none");
	ck_assert_str_eq(amps_ack_name(AMPS_ACK_RECEIVED), "received");
	ck_assert_str_eq(amps_ack_name(AMPS_ACK_PARSED), "parsed");
	ck_assert_str_eq(amps_ack_name(AMPS_ACK_PROCESSED), "processed");
	ck_assert_str_eq(amps_ack_name(AMPS_ACK_PERSISTED), "persisted");
	ck_assert_str_eq(amps_ack_name(AMPS_ACK_COMPLETED), "completed");
	ck_assert_str_eq(amps_ack_name(AMPS_ACK_STATS), "stats");
	ck_assert_ptr_null(amps_ack_name(3));
	ck_assert_ptr_null(amps_ack_name(64));
	ck_assert_ptr_null(amps_ack_name(0x80000000u));
}
END_TEST

/* Build the suite. */
static Suite *
options_suite(void)
{
	Suite	*s = suite_create("options");
	TCase	*tc;

	tc = tcase_create("options");
	tcase_set_timeout(tc, 10);
	tcase_add_loop_test(tc, test_opts, 0,
	    sizeof opt_cases / sizeof opt_cases[0]);
	tcase_add_loop_test(tc, test_find, 0, sizeof finds / sizeof finds[0]);
	suite_add_tcase(s, tc);

	tc = tcase_create("acktypes");
	tcase_set_timeout(tc, 10);
	tcase_add_loop_test(tc, test_ack_parse, 0,
	    sizeof acks / sizeof acks[0]);
	tcase_add_test(tc, test_ack_format);
	tcase_add_test(tc, test_ack_name);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; the exit status is non-zero when a check failed. */
int
main(void)
{
	return (check_main(options_suite()));
}
