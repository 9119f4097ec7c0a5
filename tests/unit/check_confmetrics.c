/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for the `metrics` statement of ampsd.conf (conf-metrics.c):
 * address forms, the loopback rule and allow-remote, exact error lines,
 * and the dump read back.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_testutil.h"
#include "testutil.h"

#define CONN \
	"connection \"main\" {\n" \
	"\tclient-name \"h1-ampsd\";\n" \
	"\tserver \"tcp://127.0.0.1:9007/amps/json\";\n" \
	"}\n"

static const struct {
	const char	*text;		/* followed by CONN */
	const char	*addr;
	unsigned	 port;
	int		 loopback;
	int		 remote;
} good[] = {
	{ "metrics listen 127.0.0.1:9187;\n", "127.0.0.1", 9187, 1, 0 },
	{ "metrics listen \"127.8.9.10:0\";\n", "127.8.9.10", 0, 1, 0 },
	{ "metrics listen [::1]:65535;\n", "::1", 65535, 1, 0 },
	{ "metrics listen 127.0.0.1:1 allow-remote no;\n", "127.0.0.1", 1,
	  1, 0 },
	{ "metrics listen 10.1.2.3:9187 allow-remote yes;\n", "10.1.2.3",
	  9187, 0, 1 },
	{ "metrics listen [::]:9187 allow-remote yes;\n", "::", 9187, 0, 1 },
	{ "metrics listen 0.0.0.0:80 allow-remote yes;\n", "0.0.0.0", 80, 0,
	  1 },
	/* Without a port: CONF_METRICS_PORT. */
	{ "metrics listen 127.0.0.1;\n", "127.0.0.1", 19007, 1, 0 },
	{ "metrics listen [::1];\n", "::1", 19007, 1, 0 },
	{ "metrics listen 0.0.0.0 allow-remote yes;\n", "0.0.0.0", 19007, 0,
	  1 },
};

static const struct {
	const char	*text;		/* followed by CONN */
	const char	*errors;
} bad[] = {
	{ "metrics listen 10.0.0.1:9187;\n",
	  "t.conf:1: metrics listen \"10.0.0.1:9187\": not a loopback "
	  "address (127.0.0.0/8 or ::1); add \"allow-remote yes\" to serve "
	  "metrics to other hosts" },
	{ "\n\nmetrics listen 0.0.0.0:9187 allow-remote no;\n",
	  "t.conf:3: metrics listen \"0.0.0.0:9187\": not a loopback "
	  "address (127.0.0.0/8 or ::1); add \"allow-remote yes\" to serve "
	  "metrics to other hosts" },
	{ "metrics listen [::ffff:127.0.0.1]:1;\n",
	  "t.conf:1: metrics listen \"[::ffff:127.0.0.1]:1\": not a loopback "
	  "address (127.0.0.0/8 or ::1); add \"allow-remote yes\" to serve "
	  "metrics to other hosts" },
	{ "metrics listen localhost:9187;\n",
	  "t.conf:1: metrics listen \"localhost:9187\": expected a numeric "
	  "IPv4 or [IPv6] address" },
	{ "metrics listen 127.0.0.1.5;\n",
	  "t.conf:1: metrics listen \"127.0.0.1.5\": expected a numeric "
	  "IPv4 or [IPv6] address" },
	{ "metrics listen [::1;\n",
	  "t.conf:1: metrics listen \"[::1\": an IPv6 address is written "
	  "[ADDR]:PORT" },
	{ "metrics listen 127.0.0.1:65536;\n",
	  "t.conf:1: metrics listen \"127.0.0.1:65536\": expected a port "
	  "from 0 to 65535" },
	{ "metrics listen 127.0.0.1:;\n",
	  "t.conf:1: metrics listen \"127.0.0.1:\": expected a port from 0 "
	  "to 65535" },
	{ "metrics listen 127.0.0.1:9x;\n",
	  "t.conf:1: metrics listen \"127.0.0.1:9x\": expected a port from 0 "
	  "to 65535" },
	{ "metrics listen ::1:9187;\n",
	  "t.conf:1: metrics listen \"::1:9187\": an IPv6 address is "
	  "written [ADDR]:PORT" },
	{ "metrics listen [::1]9187;\n",
	  "t.conf:1: metrics listen \"[::1]9187\": an IPv6 address is "
	  "written [ADDR]:PORT" },
	{ "metrics listen [zz]:1;\n",
	  "t.conf:1: metrics listen \"[zz]:1\": expected a numeric IPv6 "
	  "address in brackets" },
	{ "metrics listen :1;\n",
	  "t.conf:1: metrics listen \":1\": expected a numeric IPv4 or "
	  "[IPv6] address" },
	{ "metrics bind 127.0.0.1:1;\n",
	  "t.conf:1: metrics: expected \"listen\", got \"bind\"" },
	{ "metrics listen;\n",
	  "t.conf:1: metrics listen: expected a value, got \";\"" },
	{ "metrics listen 127.0.0.1:1 allow-remote maybe;\n",
	  "t.conf:1: metrics allow-remote: expected yes or no, got "
	  "\"maybe\"" },
	{ "metrics listen 127.0.0.1:1 frob;\n",
	  "t.conf:1: metrics: expected allow-remote or \";\", got \"frob\"" },
	{ "metrics listen 127.0.0.1:1;\nmetrics listen 127.0.0.1:2;\n",
	  "t.conf:2: metrics given twice (first at line 1)" },
};

/* Without the statement nothing listens. */
START_TEST(test_off_by_default)
{
	struct conf	*c;
	char		*got;

	got = ct_run(CONN, &c);
	ck_assert_str_eq(got, "");
	ck_assert_ptr_null(c->metrics.listen);
	free(got);
	conf_free(c);
}
END_TEST

/* Each good statement lands in the right fields. */
START_TEST(test_good)
{
	struct conf	*c;
	char		*got, *text;

	if (asprintf(&text, "%s%s", good[_i].text, CONN) == -1)
		ck_abort_msg("asprintf");
	got = ct_run(text, &c);
	ck_assert_msg(strcmp(got, "") == 0, "case %d: %s", _i, got);
	ck_assert_ptr_nonnull(c->metrics.listen);
	ck_assert_str_eq(c->metrics.addr, good[_i].addr);
	ck_assert_uint_eq(c->metrics.port, good[_i].port);
	ck_assert_int_eq(c->metrics.loopback, good[_i].loopback);
	ck_assert_int_eq(c->metrics.allow_remote, good[_i].remote);
	ck_assert_int_eq(c->metrics.line, 1);
	free(got);
	free(text);
	conf_free(c);
}
END_TEST

/* Each bad statement gives exactly the expected error lines. */
START_TEST(test_bad)
{
	char	*got, *text;

	if (asprintf(&text, "%s%s", bad[_i].text, CONN) == -1)
		ck_abort_msg("asprintf");
	got = ct_run(text, NULL);
	ck_assert_msg(strcmp(got, bad[_i].errors) == 0,
	    "case %d:\n got: %s\nwant: %s", _i, got, bad[_i].errors);
	free(got);
	free(text);
}
END_TEST

/* The address splitter on its own, including its output bound. */
START_TEST(test_addr)
{
	char		 addr[64], tiny[4];
	uint16_t	 port = 1;
	int		 loop = -1;

	ck_assert_ptr_null(conf_metrics_addr("127.255.0.1:0", addr,
	    sizeof addr, &port, &loop));
	ck_assert_str_eq(addr, "127.255.0.1");
	ck_assert_uint_eq(port, 0);
	ck_assert_int_eq(loop, 1);
	ck_assert_ptr_null(conf_metrics_addr("128.0.0.1:5", addr,
	    sizeof addr, &port, &loop));
	ck_assert_int_eq(loop, 0);
	ck_assert_ptr_null(conf_metrics_addr("[0:0:0:0:0:0:0:1]:7", addr,
	    sizeof addr, &port, &loop));
	ck_assert_int_eq(loop, 1);
	ck_assert_uint_eq(port, 7);
	ck_assert_ptr_nonnull(conf_metrics_addr("127.0.0.1:1", tiny,
	    sizeof tiny, &port, &loop));
	ck_assert_ptr_nonnull(conf_metrics_addr("", addr, sizeof addr, &port,
	    &loop));
	ck_assert_ptr_nonnull(conf_metrics_addr("[", addr, sizeof addr,
	    &port, &loop));
	ck_assert_ptr_nonnull(conf_metrics_addr("127.0.0.1:000001", addr,
	    sizeof addr, &port, &loop));
	ck_assert_ptr_nonnull(conf_metrics_addr("1.2.3.4.5:1", addr,
	    sizeof addr, &port, &loop));
}
END_TEST

/* conf_dump prints the statement, and it reads back the same. */
START_TEST(test_dump)
{
	struct conf	*c, *c2;
	char		*got, *out;

	got = ct_run("metrics listen [::]:9 allow-remote yes;\n" CONN, &c);
	ck_assert_str_eq(got, "");
	free(got);
	out = ct_dump(c);
	ck_assert_ptr_nonnull(strstr(out,
	    "metrics listen \"[::]:9\" allow-remote yes;\n"));
	got = ct_run(out, &c2);
	ck_assert_str_eq(got, "");
	ck_assert_str_eq(c2->metrics.addr, "::");
	ck_assert_uint_eq(c2->metrics.port, 9);
	ck_assert_int_eq(c2->metrics.allow_remote, 1);
	free(got);
	free(out);
	conf_free(c);
	conf_free(c2);
}
END_TEST

/* The test cases of this file. */
static Suite *
confmetrics_suite(void)
{
	Suite	*s = suite_create("confmetrics");
	TCase	*tc = tcase_create("metrics");

	tcase_add_test(tc, test_off_by_default);
	tcase_add_loop_test(tc, test_good, 0, sizeof good / sizeof good[0]);
	tcase_add_loop_test(tc, test_bad, 0, sizeof bad / sizeof bad[0]);
	tcase_add_test(tc, test_addr);
	tcase_add_test(tc, test_dump);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; exit status says whether every test passed. */
int
main(void)
{
	return (check_main(confmetrics_suite()));
}
