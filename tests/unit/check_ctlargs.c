/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for ampsctl's command line (ampsctl/ampsctl-args.c):
 * spark's single-dash flags and the GNU forms, every bad or unused
 * option named in one line, values checked, help and --version, trace's
 * option-like words, -server refused with the way to name the socket.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ampsctl.h"
#include "testutil.h"

static struct ctl_args	a;
static char		err[1024];

/* Parse a NULL-terminated command line (argv[0] is the command). */
static int
parse(const char *const *words)
{
	const struct ctl_cmd	*c;
	char			*argv[64];
	int			 argc = 0;

	while (words[argc] != NULL) {
		argv[argc] = (char *)words[argc];
		argc++;
	}
	argv[argc] = NULL;
	c = ctl_cmd_find(argv[0]);
	ck_assert_msg(c != NULL, "no command %s", argv[0]);
	return (ctl_args_parse(c, argc, argv, &a, err, sizeof err));
}

#define OK(...)	do {							\
	const char *const w_[] = { __VA_ARGS__, NULL };			\
	ck_assert_msg(parse(w_) == 0, "refused: %s", err);		\
} while (0)
#define BAD(msg, ...)	do {						\
	const char *const w_[] = { __VA_ARGS__, NULL };			\
	ck_assert_msg(parse(w_) == -1, "accepted: %s", #__VA_ARGS__);	\
	ck_assert_str_eq(err, msg);					\
} while (0)

/* spark's flags, the GNU forms, and the defaults. */
START_TEST(test_forms)
{
	OK("publish", "-topic", "t1", "-data", "{}");
	ck_assert_str_eq(a.topic, "t1");
	ck_assert_str_eq(a.data, "{}");
	ck_assert_str_eq(a.wait, "stored");
	ck_assert_int_eq(a.n, -1);
	ck_assert_int_eq(a.has_timeout, 0);
	ck_assert_ptr_null(a.sock);
	OK("publish", "--topic", "t2", "-topic=t3", "-wait", "persisted",
	    "-n", "5", "-rate", "2.5", "-expiration", "4294967295",
	    "--socket=/s", "-timeout", "0", "-delta");
	ck_assert_str_eq(a.topic, "t3");
	ck_assert_str_eq(a.wait, "persisted");
	ck_assert_int_eq(a.n, 5);
	ck_assert(a.rate == 2.5);
	ck_assert_uint_eq(a.expiration, 4294967295U);
	ck_assert_int_eq(a.has_expiration, 1);
	ck_assert_str_eq(a.sock, "/s");
	ck_assert_int_eq(a.timeout, 0);
	ck_assert_int_eq(a.has_timeout, 1);
	ck_assert_int_eq(a.delta, 1);
	OK("flush", "-timeout", "-1");
	ck_assert_int_eq(a.timeout, -1);
	ck_assert_int_eq(a.has_timeout, 1);
	/* A value that starts with '-' is a value. */
	OK("publish", "-topic", "t", "-data", "-1");
	ck_assert_str_eq(a.data, "-1");
	/* -n is -n, not a prefix of -name. */
	OK("subscribe", "-topic", "t", "-n", "3", "-subid", "s", "-durable",
	    "-bookmark", "recent", "-topn", "7", "-format", "{data}");
	ck_assert_int_eq(a.n, 3);
	ck_assert_int_eq(a.durable, 1);
	ck_assert_uint_eq(a.topn, 7);
	ck_assert_str_eq(a.fmt, "{data}");
	/* Unambiguous prefixes, as getopt_long_only allows. */
	OK("status", "-js");
	ck_assert_int_eq(a.format, 1);
	OK("status", "-raw", "-conn", "main");
	ck_assert_int_eq(a.format, 2);
	ck_assert_str_eq(a.conn, "main");
	OK("ping", "-daemon");
	ck_assert_int_eq(a.daemon_only, 1);
	OK("unsubscribe", "-name", "d1", "-force");
	ck_assert_str_eq(a.name, "d1");
	ck_assert_int_eq(a.force, 1);
}
END_TEST

/* Unknown, unused, ambiguous and incomplete options: named, one line. */
START_TEST(test_bad_options)
{
	BAD("publish: unknown option -topik", "publish", "-topik", "x");
	BAD("publish: unknown option --bogus", "publish", "-topic", "x",
	    "--bogus");
	BAD("ping: -topic is not used by this command (ampsctl help ping)",
	    "ping", "-topic", "x");
	BAD("flush: -json is not used by this command (ampsctl help flush)",
	    "flush", "-json");
	BAD("sow: -durable is not used by this command (ampsctl help sow)",
	    "sow", "-topic", "t", "-durable");
	BAD("publish: option -topic needs a value (-topic T)", "publish",
	    "-topic");
	BAD("status: -json takes no value", "status", "-json=1");
	BAD("status: unexpected argument \"extra\"", "status", "extra");
	BAD("publish: ambiguous option -d (-data, -delta, -daemon, -durable, "
	    "-discard)", "publish", "-topic", "t", "-d", "x");
	BAD("publish: unknown option -x", "publish", "-topic", "t", "-hx");
}
END_TEST

/* Values: numbers, -wait, -rate, and what commands need. */
START_TEST(test_bad_values)
{
	BAD("publish: bad value \"bogus\" for -wait (stored, persisted or "
	    "none)", "publish", "-topic", "t", "-wait", "bogus");
	BAD("subscribe: bad value \"abc\" for -n (a whole number >= 0)",
	    "subscribe", "-topic", "t", "-n", "abc");
	BAD("subscribe: bad value \"-1\" for -n (a whole number >= 0)",
	    "subscribe", "-topic", "t", "-n", "-1");
	BAD("subscribe: bad value \"12x\" for -timeout (milliseconds, -1 "
	    "(forever) or more)", "subscribe", "-topic", "t", "-timeout",
	    "12x");
	BAD("subscribe: bad value \"99999999999\" for -timeout (milliseconds, "
	    "-1 (forever) or more)", "subscribe", "-topic", "t", "-timeout",
	    "99999999999");
	BAD("ping: bad value \"-2\" for -timeout (milliseconds, -1 (forever) "
	    "or more)", "ping", "-timeout", "-2");
	BAD("publish: bad value \"nan\" for -rate (messages per second, a "
	    "number >= 0)", "publish", "-topic", "t", "-rate", "nan");
	BAD("publish: bad value \"4294967296\" for -expiration (seconds, 0 to "
	    "4294967295)", "publish", "-topic", "t", "-expiration",
	    "4294967296");
	BAD("sow: bad value \"\" for -topn (a whole number, 0 to 4294967295)",
	    "sow", "-topic", "t", "-topn", "");
	BAD("publish: -topic T is needed", "publish", "-data", "x");
	BAD("publish: -data and -file exclude each other", "publish",
	    "-topic", "t", "-data", "x", "-file", "f");
	BAD("publish: -n must be at least 1", "publish", "-topic", "t", "-n",
	    "0");
	BAD("subscribe: -durable needs -subid NAME", "subscribe", "-topic",
	    "t", "-durable");
	BAD("sow_delete: one of -filter, -keys or -data is needed",
	    "sow_delete", "-topic", "t");
	BAD("verbose: one level is needed: info, debug or trace", "verbose");
	BAD("verbose: unexpected argument \"trace\"", "verbose", "debug",
	    "trace");
}
END_TEST

/* -server is spark's AMPS server: refused, saying what to use. */
START_TEST(test_server)
{
	const char	*want = "ping: -server is not supported: ampsctl "
	    "talks to the local ampsd, not to an AMPS server; use -socket "
	    "PATH (or AMPSD_SOCKET) to name ampsd's socket";

	BAD(want, "ping", "-server", "localhost:9007");
	BAD(want, "ping", "-server");
	BAD(want, "ping", "--server=x");
	want = "trace: -server is not supported: ampsctl talks to the local "
	    "ampsd, not to an AMPS server; use -socket PATH (or AMPSD_SOCKET) "
	    "to name ampsd's socket";
	BAD(want, "trace", "-server", "h:1");
}
END_TEST

/* -h, -help, --help and --version on any command, checks skipped. */
START_TEST(test_help_version)
{
	OK("publish", "-h");
	ck_assert_int_eq(a.help, 1);
	OK("publish", "--help");
	ck_assert_int_eq(a.help, 1);
	OK("subscribe", "-help");
	ck_assert_int_eq(a.help, 1);
	OK("sow", "--version");
	ck_assert_int_eq(a.version, 1);
	OK("help", "publish");
	ck_assert_int_eq(a.nwords, 1);
	ck_assert_str_eq(a.words[0], "publish");
	OK("help");
	ck_assert_int_eq(a.nwords, 0);
}
END_TEST

/* trace: option-like words go to the daemon; -h is help. */
START_TEST(test_trace)
{
	OK("trace", "-h");
	ck_assert_int_eq(a.help, 1);
	ck_assert_int_eq(a.nwords, 0);
	OK("trace", "--help");
	ck_assert_int_eq(a.help, 1);
	OK("trace", "-wire", "+ipc", "store", "-socket", "/s", "-all",
	    "-timeout=50", "-connection");
	ck_assert_int_eq(a.help, 0);
	ck_assert_int_eq(a.nwords, 5);
	ck_assert_str_eq(a.words[0], "-wire");
	ck_assert_str_eq(a.words[1], "+ipc");
	ck_assert_str_eq(a.words[2], "store");
	ck_assert_str_eq(a.words[3], "-all");
	ck_assert_str_eq(a.words[4], "-connection");
	ck_assert_str_eq(a.sock, "/s");
	ck_assert_int_eq(a.timeout, 50);
	OK("trace");
	ck_assert_int_eq(a.nwords, 0);
	BAD("trace: option -socket needs a value (-socket P)", "trace",
	    "-socket");
	BAD("trace: bad value \"x\" for -timeout (milliseconds, -1 (forever) "
	    "or more)", "trace", "-timeout", "x");
	OK("verbose", "debug", "-socket", "/s");
	ck_assert_int_eq(a.nwords, 1);
	ck_assert_str_eq(a.words[0], "debug");
}
END_TEST

/* Help texts: every command listed; a command's help names its flags. */
START_TEST(test_help_text)
{
	static const char *const cmds[] = { "publish", "flush", "ping",
	    "status", "subscribe", "sow_and_subscribe", "sow", "sow_delete",
	    "unsubscribe", "subscriptions", "reload", "trace", "verbose",
	    "help" };
	const char	*usage = "usage: ampsctl ping [-daemon] [-socket P] "
	    "[-timeout MS]\n";
	char		*out = NULL;
	size_t		 len = 0, i;
	FILE		*f;

	f = open_memstream(&out, &len);
	ctl_help(f, NULL);
	fclose(f);
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		ck_assert_msg(strstr(out, cmds[i]) != NULL, "no %s", cmds[i]);
	free(out);
	out = NULL;
	f = open_memstream(&out, &len);
	ctl_help(f, ctl_cmd_find("ping"));
	fclose(f);
	ck_assert_msg(strncmp(out, usage, strlen(usage)) == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\n  -daemon "));
	ck_assert_ptr_null(strstr(out, "-topic"));
	ck_assert_ptr_null(strstr(out, "-server"));
	free(out);
	out = NULL;
	f = open_memstream(&out, &len);
	ctl_help(f, ctl_cmd_find("subscribe"));
	fclose(f);
	ck_assert_ptr_nonnull(strstr(out, "\n  -topic T "));
	ck_assert_ptr_nonnull(strstr(out, "\n  -n N "));
	ck_assert_ptr_null(strstr(out, "-skipn"));
	free(out);
	ck_assert_ptr_null(ctl_cmd_find("bogus"));
}
END_TEST

static Suite *
ctlargs_suite(void)
{
	Suite	*s = suite_create("ctlargs");
	TCase	*tc = tcase_create("args");

	tcase_add_test(tc, test_forms);
	tcase_add_test(tc, test_bad_options);
	tcase_add_test(tc, test_bad_values);
	tcase_add_test(tc, test_server);
	tcase_add_test(tc, test_help_version);
	tcase_add_test(tc, test_trace);
	tcase_add_test(tc, test_help_text);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; exit status says whether every test passed. */
int
main(void)
{
	return (check_main(ctlargs_suite()));
}
