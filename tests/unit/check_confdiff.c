/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for conf-diff.c, the decision half of a reload: which
 * differences between two configurations are found, which are live and
 * which need a restart, the summary line, and that conf_diff_apply()
 * moves exactly the live values into the running configuration without
 * replacing its connection blocks.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf-diff.h"
#include "conf_testutil.h"
#include "testutil.h"

/* A base file; %s slots: top-level extra, block "main" extra. */
#define BASE \
	"socket \"/run/a.sock\";\n" \
	"state-directory \"/var/lib/a\";\n" \
	"%s\n" \
	"connection \"main\" {\n" \
	"\tdefault;\n" \
	"\tclient-name \"h1-main\";\n" \
	"\tserver \"tcp://127.0.0.1:9007/amps/json\";\n" \
	"%s\n" \
	"}\n" \
	"connection \"audit\" {\n" \
	"\tclient-name \"h1-audit\";\n" \
	"\tserver \"tcp://127.0.0.1:9008/amps/json\";\n" \
	"}\n"

/* Parse and check BASE with the two extras; fails the test on errors. */
static struct conf *
load(const char *top, const char *main_extra)
{
	struct conf	*c;
	char		*text, *errs;

	if (asprintf(&text, BASE, top, main_extra) == -1)
		ck_abort_msg("asprintf");
	errs = ct_run(text, &c);
	if (*errs != '\0')
		ck_abort_msg("unexpected error: %s", errs);
	free(errs);
	free(text);
	return (c);
}

/* Diff two extras against the plain base; return the summary. */
static char *
summary_of(const char *top, const char *main_extra, struct conf_diff *d)
{
	struct conf	*a = load("", ""), *b = load(top, main_extra);
	char		*s;

	conf_diff(a, b, d);
	s = conf_diff_summary(d);
	conf_free(a);
	conf_free(b);
	return (s);
}

static const struct {
	const char	*top;
	const char	*main_extra;
	unsigned	 top_bits;
	unsigned	 main_bits;
	const char	*summary;
} cases[] = {
	{ "", "", 0, 0, "no change" },
	{ "# only a comment\n", "# here too", 0, 0, "no change" },
	{ "", "\tserver \"tcp://127.0.0.1:9009/amps/json\";", 0,
	  CONF_CH_SERVERS, "applied: connection main: server" },
	{ "", "\theartbeat 5s;", 0, CONF_CH_HEARTBEAT,
	  "applied: connection main: heartbeat" },
	{ "", "\theartbeat 10s timeout 30s;", 0, CONF_CH_HEARTBEAT,
	  "applied: connection main: heartbeat" },
	{ "", "\tlogon-timeout 3s;", 0, CONF_CH_LOGON,
	  "applied: connection main: logon-timeout" },
	{ "", "\treconnect fixed 1s give-up never;", 0, CONF_CH_RECONNECT,
	  "applied: connection main: reconnect" },
	{ "", "\tserver \"tcps://127.0.0.1:9443/amps/json\";\n"
	  "\ttls { verify no; }", 0, CONF_CH_SERVERS | CONF_CH_TLS,
	  "applied: connection main: server, connection main: tls" },
	{ "", "\tallow publish user \"nobody\" topic \"^x\";", 0,
	  CONF_CH_ALLOW, "applied: connection main: allow" },
	{ "", "\tqueue-ack batch 10;", 0, CONF_CH_QUEUE_ACK,
	  "applied: connection main: queue-ack" },
	{ "log level debug;", "", CONF_CH_LOG_LEVEL, 0,
	  "applied: log level" },
	{ "log trace wire,ipc;", "", CONF_CH_LOG_TRACE, 0,
	  "applied: log trace" },
	{ "log file \"/var/log/ampsd.log\";", "", CONF_CH_LOG_TARGET, 0,
	  "applied: log target" },
	{ "log syslog facility local3;", "", CONF_CH_LOG_TARGET, 0,
	  "applied: log target" },
	{ "log syslog;", "", 0, 0, "no change" },
	{ "shutdown-timeout 1s;", "", CONF_CH_SHUTDOWN, 0,
	  "applied: shutdown-timeout" },
	{ "shutdown-timeout 5s;", "", 0, 0, "no change" },
	{ "socket \"/run/b.sock\";", "", CONF_CH_SOCKET, 0,
	  "needs a restart (old value kept): socket" },
	{ "socket \"/run/a.sock\" mode 0600;", "", CONF_CH_SOCKET, 0,
	  "needs a restart (old value kept): socket" },
	{ "state-directory \"/var/lib/b\";", "", CONF_CH_STATEDIR, 0,
	  "needs a restart (old value kept): state-directory" },
	{ "metrics listen 127.0.0.1:9187;", "", CONF_CH_METRICS, 0,
	  "needs a restart (old value kept): metrics" },
	{ "", "\tdurability normal;", 0, CONF_CH_DURABILITY,
	  "needs a restart (old value kept): connection main: durability" },
	{ "", "\tdurability memory limit 1M;", 0, CONF_CH_DURABILITY,
	  "needs a restart (old value kept): connection main: durability" },
	{ "", "\tdurability full;", 0, 0, "no change" },
	{ "log level trace;\n", "\theartbeat 2s;\n\tdurability normal;",
	  CONF_CH_LOG_LEVEL, CONF_CH_HEARTBEAT | CONF_CH_DURABILITY,
	  "applied: log level, connection main: heartbeat; needs a restart "
	  "(old value kept): connection main: durability" },
	{ "connection \"extra\" { client-name \"x3\"; server "
	  "\"tcp://h:1/amps/json\"; }", "", CONF_CH_CONNS, 0,
	  "needs a restart (old value kept): adding connection extra" },
};

/* Each single change is found, with the right bits and summary. */
START_TEST(test_cases)
{
	struct conf_diff	 d;
	char			*s;

	s = summary_of(cases[_i].top, cases[_i].main_extra, &d);
	ck_assert_str_eq(s, cases[_i].summary);
	ck_assert_uint_eq(d.top, cases[_i].top_bits);
	ck_assert_uint_eq(d.nconn, 2);
	ck_assert_uint_eq(d.conn[0], cases[_i].main_bits);
	ck_assert_uint_eq(d.conn[1], 0);
	free(s);
	conf_diff_free(&d);
}
END_TEST

/* Changing the client name, removing and renaming connections. */
START_TEST(test_refusals)
{
	static const char one[] =
	    "connection \"main\" { client-name \"h1-main\"; server "
	    "\"tcp://h:1/amps/json\"; }\n";
	static const char renamed[] =
	    "connection \"primary\" { client-name \"h1-main\"; server "
	    "\"tcp://h:1/amps/json\"; }\n";
	static const char cname[] =
	    "connection \"main\" { client-name \"h2-main\"; server "
	    "\"tcp://h:1/amps/json\"; }\n";
	struct conf_errs	 errs = { NULL, 0 };
	struct conf		*a = conf_new(), *b = conf_new(), *c = conf_new();
	struct conf_diff	 d;
	char			*s;

	ck_assert_int_eq(conf_parse_buffer(a, "a", one, strlen(one), &errs), 0);
	ck_assert_int_eq(conf_parse_buffer(b, "b", renamed, strlen(renamed),
	    &errs), 0);
	ck_assert_int_eq(conf_parse_buffer(c, "c", cname, strlen(cname),
	    &errs), 0);
	ck_assert_int_eq(conf_check(a, &errs), 0);
	ck_assert_int_eq(conf_check(b, &errs), 0);
	ck_assert_int_eq(conf_check(c, &errs), 0);

	ck_assert_int_eq(conf_diff(a, b, &d), 2);
	ck_assert_uint_eq(d.nrefused, 2);
	s = conf_diff_summary(&d);
	ck_assert_str_eq(s, "needs a restart (old value kept): removing "
	    "connection main, adding connection primary");
	free(s);
	conf_diff_free(&d);

	ck_assert_int_eq(conf_diff(a, c, &d), 1);
	ck_assert_uint_eq(d.conn[0], CONF_CH_CLIENT_NAME);
	conf_diff_apply(a, c, &d);
	ck_assert_str_eq(a->conns[0]->client_name, "h1-main");
	conf_diff_free(&d);

	conf_free(a);
	conf_free(b);
	conf_free(c);
}
END_TEST

/*
 * conf_diff_apply moves the live values in place: the running blocks
 * keep their addresses, refused values stay, and a second diff against
 * the same file lists only the refusals (invariant 2).
 */
START_TEST(test_apply)
{
	static const char top[] = "log level debug;\nlog trace wire;\n"
	    "log file \"/var/log/x.log\";\nshutdown-timeout 2s;\n"
	    "state-directory \"/elsewhere\";";
	static const char extra[] =
	    "\tserver \"tcp://127.0.0.1:9100/amps/json\" "
	    "\"tcp://127.0.0.1:9101/amps/json\";\n"
	    "\theartbeat 3s timeout 9s;\n\tlogon-timeout 2s;\n"
	    "\treconnect fixed 250ms give-up 5s;\n"
	    "\tallow all group \"*\" topic \".*\";\n"
	    "\tqueue-ack batch 7 timeout 2s;\n\tdurability normal;";
	struct conf		*run = load("", ""), *next = load(top, extra);
	struct conf		*again = load(top, extra);
	struct conf_conn	*main0 = run->conns[0], *audit0 = run->conns[1];
	struct conf_diff	 d;
	char			*s;

	conf_diff(run, next, &d);
	ck_assert_uint_eq(d.nrefused, 2);
	conf_diff_apply(run, next, &d);
	conf_diff_free(&d);

	ck_assert_ptr_eq(run->conns[0], main0);
	ck_assert_ptr_eq(run->conns[1], audit0);
	ck_assert_str_eq(main0->name, "main");
	ck_assert_int_eq(run->log_verbose, 1);
	ck_assert_uint_eq(run->log_trace, 0x8);
	ck_assert_int_eq(run->log_target, CONF_LOG_FILE);
	ck_assert_str_eq(run->log_file, "/var/log/x.log");
	ck_assert_uint_eq(run->shutdown_ms, 2000);
	ck_assert_str_eq(run->state_dir, "/var/lib/a");
	ck_assert_uint_eq(main0->nservers, 3);
	ck_assert_str_eq(main0->servers[2].uri,
	    "tcp://127.0.0.1:9101/amps/json");
	ck_assert_uint_eq(main0->heartbeat_ms, 3000);
	ck_assert_uint_eq(main0->timeout_ms, 9000);
	ck_assert_uint_eq(main0->logon_timeout_ms, 2000);
	ck_assert_int_eq(main0->reconnect.kind, CONNHA_FIXED);
	ck_assert_uint_eq(main0->reconnect.giveup_ms, 5000);
	ck_assert_uint_eq(main0->nallows, 1);
	ck_assert_uint_eq(main0->ack_batch, 7);
	ck_assert_int_eq(main0->durability, CONF_DURABILITY_FULL);
	/* next now holds the old values. */
	ck_assert_uint_eq(next->conns[0]->nservers, 1);
	ck_assert_uint_eq(next->conns[0]->nallows, 0);

	conf_diff(run, again, &d);
	s = conf_diff_summary(&d);
	ck_assert_str_eq(s, "needs a restart (old value kept): "
	    "state-directory, connection main: durability");
	free(s);
	conf_diff_free(&d);
	conf_free(run);
	conf_free(next);
	conf_free(again);
}
END_TEST

/* Connections are matched by name, not position (invariant 4). */
START_TEST(test_order)
{
	static const char ab[] =
	    "connection \"a\" { default; client-name \"ca\"; server "
	    "\"tcp://h:1/amps/json\"; }\n"
	    "connection \"b\" { client-name \"cb\"; server "
	    "\"tcp://h:2/amps/json\"; }\n";
	static const char ba[] =
	    "connection \"b\" { client-name \"cb\"; server "
	    "\"tcp://h:2/amps/json\"; heartbeat 4s; }\n"
	    "connection \"a\" { default; client-name \"ca\"; server "
	    "\"tcp://h:1/amps/json\"; }\n";
	struct conf_errs	 errs = { NULL, 0 };
	struct conf		*a = conf_new(), *b = conf_new();
	struct conf_diff	 d;

	ck_assert_int_eq(conf_parse_buffer(a, "a", ab, strlen(ab), &errs), 0);
	ck_assert_int_eq(conf_parse_buffer(b, "b", ba, strlen(ba), &errs), 0);
	ck_assert_int_eq(conf_check(a, &errs), 0);
	ck_assert_int_eq(conf_check(b, &errs), 0);
	ck_assert_int_eq(conf_diff(a, b, &d), 1);
	ck_assert_uint_eq(d.conn[0], 0);
	ck_assert_uint_eq(d.conn[1], CONF_CH_HEARTBEAT);
	conf_diff_apply(a, b, &d);
	ck_assert_uint_eq(a->conns[1]->heartbeat_ms, 4000);
	ck_assert_uint_eq(a->conns[0]->heartbeat_ms, 10000);
	conf_diff_free(&d);
	conf_free(a);
	conf_free(b);
}
END_TEST

/* The test cases of this file. */
static Suite *
confdiff_suite(void)
{
	Suite	*s = suite_create("confdiff");
	TCase	*tc = tcase_create("diff");

	tcase_add_loop_test(tc, test_cases, 0, sizeof cases / sizeof cases[0]);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_apply);
	tcase_add_test(tc, test_order);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; exit status says whether every test passed. */
int
main(void)
{
	return (check_main(confdiff_suite()));
}
