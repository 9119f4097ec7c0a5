/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for the configuration parser and checker: tables of good and
 * bad configurations with the exact error lines expected, long lines, and
 * the credential secrecy check on files.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "conf_testutil.h"
#include "testutil.h"

#define OK_BASE \
	"connection \"main\" {\n" \
	"\tclient-name \"h1-ampsd\";\n" \
	"\tserver \"tcp://127.0.0.1:9007/amps/json\";\n" \
	"}\n"

static const struct {
	const char	*text;
	const char	*errors;
} bad[] = {
	{ "bogus;\n", "t.conf:1: unknown keyword \"bogus\"" },
	{ "\n\nconnection \"a\" {\n client-name \"x\";\n server "
	  "\"tcp://h:1/amps/json\";\n frob 3;\n}\n",
	  "t.conf:6: connection \"a\": unknown keyword \"frob\"" },
	{ "connection \"a\" {\n client-name \"x\";\n server "
	  "\"tcp://h:1/amps/json\";\n heartbeat 5;\n}\n",
	  "t.conf:4: heartbeat: invalid duration \"5\" (use a number with "
	  "ms, s, m or h)" },
	{ "connection \"a\" {\n client-name \"x\";\n server \"tcp://h:1/"
	  "amps/json\"\n}\n",
	  "t.conf:4: server: expected a URI, got \"}\"" },
	{ "socket \"/x\" mode 999;\n",
	  "t.conf:1: socket mode: expected an octal mode like 0660, got "
	  "\"999\"" },
	{ "state-directory \"/v\";\nconnection \"a\" {\n server \"abc\";\n"
	  "}\n",
	  "t.conf:2: connection \"a\": client-name missing\n"
	  "t.conf:3: connection \"a\": server \"abc\": missing \"://\"" },
	{ "log level loud;\nlog trace connection,bogus;\n",
	  "t.conf:1: log level: expected info, debug or trace, got "
	  "\"loud\"\n"
	  "t.conf:2: log trace: unknown category \"bogus\" (connection, "
	  "ipc, store, wire, all)" },
	{ "connection \"a\" {\n client-name \"x\";\n server "
	  "\"tcp://h:1/amps/json\";\n}\n"
	  "connection \"b\" {\n client-name \"x\";\n server "
	  "\"tcp://h:2/amps/json\";\n}\n",
	  "t.conf:5: connection \"b\": client-name also used by connection "
	  "\"a\"\n"
	  "t.conf: no default connection (put \"default;\" in one "
	  "connection block)" },
	{ "connection \"a\" {\n default;\n client-name \"x\";\n server "
	  "\"tcp://h:1/amps/json\";\n}\n"
	  "connection \"b\" {\n default;\n client-name \"y\";\n server "
	  "\"tcp://h:2/amps/json\";\n}\n",
	  "t.conf:6: connection \"b\": more than one default connection "
	  "(\"a\" is one already)" },
	{ "connection \"a\" {\n client-name \"x\";\n server "
	  "\"tcp://h:1/amps/json\";\n reconnect exponential initial 2s "
	  "max 1s;\n heartbeat 1500ms;\n}\n",
	  "t.conf:1: connection \"a\": heartbeat must be whole seconds\n"
	  "t.conf:1: connection \"a\": reconnect: maximum delay is smaller "
	  "than the initial delay" },
	{ "connection \"a\" {\n client-name \"x\";\n server "
	  "\"tcp://h:1/amps/json\";\n tls {\n  verify maybe;\n  ca \"/c\";\n"
	  " }\n}\n",
	  "t.conf:5: tls verify: expected yes or no, got \"maybe\"" },
	{ "connection \"a\" {\n client-name \"x\";\n server \"tcp://h:1/"
	  "amps/json\";\n allow publish user \"al\" topic \"(\";\n"
	  " allow frob user \"al\" topic \"x\";\n}\n",
	  "t.conf:5: allow: expected publish, subscribe or all, got "
	  "\"frob\"" },
	{ "connection \"a\" {\n client-name \"x;\n",
	  "t.conf:2: unterminated string\n"
	  "t.conf:1: connection \"a\": missing \"}\"" },
	{ "", "t.conf: no connection defined" },
	{ "connection \"a\" {\n client-name \"x\";\n server "
	  "\"tcp://h:1/amps/json\";\n",
	  "t.conf:1: connection \"a\": missing \"}\"" },
	{ "connection \"a\" {\n client-name \"x\";\n server "
	  "\"tcp://h:1/amps/json\";\n heartbeat 5s timeout 5s;\n"
	  " reconnect sometimes;\n durability maybe;\n}\n",
	  "t.conf:5: reconnect: expected fixed or exponential, got "
	  "\"sometimes\"\n"
	  "t.conf:6: durability: expected full, normal or memory, got "
	  "\"maybe\"" },
	{ "connection \"a\" {\n client-name \"x\";\n server "
	  "\"tcp://h:1/amps/json\";\n durability memory limit lots;\n"
	  " durability memory 5M;\n}\n",
	  "t.conf:4: durability memory limit: expected a size (bytes, or a "
	  "number with K, M or G), got \"lots\"\n"
	  "t.conf:5: durability memory: expected limit or \";\", got "
	  "\"5M\"" },
	{ "connection \"a\" {\n client-name \"x\";\n client-name \"y\";\n"
	  " server \"tcp://h:1/amps/json\";\n}\n}\n",
	  "t.conf:3: client-name given twice\n"
	  "t.conf:6: unexpected \"}\"" },
	{ "connection \"a\" {\n client-name \"x\";\n server "
	  "\"tcp://h:1/amps/json\";\n}\n"
	  "connection \"a\" {\n client-name \"y\";\n server "
	  "\"tcp://h:1/amps/json\";\n}\n",
	  "t.conf:5: connection \"a\" defined twice" },
	{ "connection \"a\" {\n client-name \"x\";\n server "
	  "\"tcp://h:1/amps/json\";\n heartbeat 5s timeout 3s;\n}\n",
	  "t.conf:1: connection \"a\": heartbeat timeout must be longer than "
	  "the interval" },
	{ "connection \"../x\" {\n client-name \"x\";\n server "
	  "\"tcp://h:1/amps/json\";\n}\n",
	  "t.conf:1: connection \"../x\": name must be 1 to 64 letters, "
	  "digits, '.', '_' or '-' (not starting with '.')" },
	{ "connection \"a\" {\n client-name \"x\";\n server "
	  "\"tcps://h:1/amps/json\";\n tls {\n  cert \"/c\";\n }\n}\n",
	  "t.conf:4: connection \"a\": tls cert and key go together" },
	{ "connection \"a\" {\n client-name \"x\";\n server "
	  "\"tcp://h:1/amps/json\";\n tls {\n  ca \"/c\";\n }\n}\n",
	  "t.conf:4: connection \"a\": tls settings but no tcps:// server" },
	{ "connection \"a\" {\n client-name \"x[1]\";\n server "
	  "\"tcp://h:1/amps/json\";\n}\n",
	  "t.conf:1: connection \"a\": client-name must be non-empty, "
	  "without control characters or brackets" },
	{ "log file \"ampsd.log\";\nshutdown-timeout 5;\nlog file;\n"
	  "log loudly;\nconnection \"a\" {\n client-name \"x\";\n server "
	  "\"tcp://h:1/amps/json\";\n}\n",
	  "t.conf:2: shutdown-timeout: invalid duration \"5\" (use a number "
	  "with ms, s, m or h)\n"
	  "t.conf:3: log file: expected a value, got \";\"\n"
	  "t.conf:4: log: expected stderr, syslog, file, level or trace, got "
	  "\"loudly\"" },
	{ "log file \"ampsd.log\";\nconnection \"a\" {\n client-name "
	  "\"x\";\n server \"tcp://h:1/amps/json\";\n}\n",
	  "t.conf: log file must be an absolute path" },
	{ "connection \"a\" {\n client-name \"x\";\n server "
	  "\"tcp://u:pw@h:1/fix\" \"tcp://h:2/nvfix\";\n server "
	  "\"unix://localhost:0/xml?path=/s\";\n}\n",
	  "t.conf:3: connection \"a\": server \"tcp://u:****@h:1/fix\": "
	  "protocol \"fix\" is a legacy header protocol ampsd cannot speak; "
	  "use /amps/<message type> (e.g. /amps/fix)\n"
	  "t.conf:3: connection \"a\": server \"tcp://h:2/nvfix\": protocol "
	  "\"nvfix\" is a legacy header protocol ampsd cannot speak; use "
	  "/amps/<message type> (e.g. /amps/nvfix)\n"
	  "t.conf:4: connection \"a\": server "
	  "\"unix://localhost:0/xml?path=/s\": protocol \"xml\" is a legacy "
	  "header protocol ampsd cannot speak; use /amps/<message type> "
	  "(e.g. /amps/xml)" },
};

/* The amps protocol takes any message type, or none. */
START_TEST(test_amps_message_types)
{
	static const char *const mt[] = { "", "/json", "/fix", "/nvfix",
	    "/xml", "/bson", "/my-type" };
	char	 text[256], *got;
	size_t	 i;

	for (i = 0; i < sizeof mt / sizeof mt[0]; i++) {
		snprintf(text, sizeof text, "connection \"a\" {\n client-name "
		    "\"x\";\n server \"tcp://h:1/amps%s\";\n}\n", mt[i]);
		got = ct_run(text, NULL);
		ck_assert_msg(*got == '\0', "/amps%s: %s", mt[i], got);
		free(got);
	}
}
END_TEST

/* Each bad configuration gives exactly the expected error lines. */
START_TEST(test_bad)
{
	char	*got;

	got = ct_run(bad[_i].text, NULL);
	ck_assert_msg(strcmp(got, bad[_i].errors) == 0,
	    "case %d:\n got: %s\nwant: %s", _i, got, bad[_i].errors);
	free(got);
}
END_TEST

/* Every statement of the grammar lands in the right field. */
START_TEST(test_full)
{
	static const char text[] =
	    "# comment\n"
	    "socket \"/run/a.sock\" mode 0600 group \"amps\";\n"
	    "state-directory \"/var/lib/x\";\n"
	    "log stderr;\nlog level debug;\nlog trace connection,wire ipc;\n"
	    "connection \"main\" {\n"
	    "\tdefault;\n"
	    "\tclient-name \"h1-ampsd\";\n"
	    "\tserver \"tcp://127.0.0.1:9007/amps/json?tcp_nodelay=true\";\n"
	    "\tserver \"tcps://amps.example:9443/amps/json\" "
	    "\"unix://localhost:0/amps/json?path=/tmp/s\";\n"
	    "\theartbeat 5s timeout 12s;\n"
	    "\tlogon-timeout 3s;\n"
	    "\treconnect exponential initial 200ms max 5s factor 1.5 "
	    "give-up 1m jitter yes;\n"
	    "\ttls { ca \"/etc/ca.pem\"; verify no; server-name \"amps\"; }\n"
	    "\tdurability normal;\n"
	    "\tqueue-ack batch 10 timeout 500ms;\n"
	    "\tallow publish user \"alice\" topic \"orders.*\";\n"
	    "\tallow subscribe,publish group \"ops\" topic \".*\";\n"
	    "}\n"
	    "connection \"other\" { client-name \"h1-other\"; server "
	    "\"tcp://h:1/amps/json\"; reconnect fixed 2s give-up never; "
	    "heartbeat off; durability memory limit 64M; }\n";
	struct conf		*c;
	struct conf_conn	*cc;
	char			*got;

	got = ct_run(text, &c);
	ck_assert_str_eq(got, "");
	free(got);
	ck_assert_str_eq(c->socket_path, "/run/a.sock");
	ck_assert_uint_eq(c->socket_mode, 0600);
	ck_assert_str_eq(c->socket_group, "amps");
	ck_assert_int_eq(c->log_target, CONF_LOG_STDERR);
	ck_assert_int_eq(c->log_verbose, 1);
	ck_assert_uint_eq(c->log_trace, 0xb);
	ck_assert_uint_eq(c->nconns, 2);
	cc = conf_default_conn(c);
	ck_assert_ptr_nonnull(cc);
	ck_assert_str_eq(cc->name, "main");
	ck_assert_uint_eq(cc->nservers, 3);
	ck_assert_int_eq(cc->servers[2].line, 11);
	ck_assert_uint_eq(cc->heartbeat_ms, 5000);
	ck_assert_uint_eq(conf_conn_timeout(cc), 12000);
	ck_assert_uint_eq(cc->logon_timeout_ms, 3000);
	ck_assert_int_eq(cc->reconnect.kind, CONNHA_EXPONENTIAL);
	ck_assert_uint_eq(cc->reconnect.initial_ms, 200);
	ck_assert_uint_eq(cc->reconnect.max_ms, 5000);
	ck_assert(cc->reconnect.factor == 1.5);
	ck_assert_uint_eq(cc->reconnect.giveup_ms, 60000);
	ck_assert_int_eq(cc->reconnect.jitter, 1);
	ck_assert_int_eq(cc->tls.verify, 0);
	ck_assert_str_eq(cc->tls.ca, "/etc/ca.pem");
	ck_assert_int_eq(cc->durability, CONF_DURABILITY_NORMAL);
	ck_assert_uint_eq(cc->ack_batch, 10);
	ck_assert_uint_eq(cc->nallows, 2);
	ck_assert_int_eq(cc->allows[1].what, 3);
	ck_assert_int_eq(cc->allows[1].is_group, 1);
	cc = conf_find_conn(c, "other");
	ck_assert_int_eq(cc->reconnect.kind, CONNHA_FIXED);
	ck_assert_uint_eq(cc->reconnect.giveup_ms, 0);
	ck_assert_uint_eq(cc->heartbeat_ms, 0);
	ck_assert_int_eq(cc->durability, CONF_DURABILITY_MEMORY);
	ck_assert_uint_eq(cc->memory_limit, 64ULL * 1024 * 1024);
	ck_assert_int_eq(c->has_secrets, 0);
	ck_assert_uint_eq(c->shutdown_ms, CONF_DEFAULT_SHUTDOWN_MS);
	conf_free(c);
}
END_TEST

/* log file and shutdown-timeout; the last log target wins. */
START_TEST(test_log_file)
{
	struct conf	*c;
	char		*got, *out;

	got = ct_run("log syslog;\nlog file \"/var/log/ampsd.log\";\n"
	    "shutdown-timeout 1500ms;\nconnection \"a\" { client-name "
	    "\"x\"; server \"tcp://h:1/amps/json\"; }\n", &c);
	ck_assert_str_eq(got, "");
	free(got);
	ck_assert_int_eq(c->log_target, CONF_LOG_FILE);
	ck_assert_str_eq(c->log_file, "/var/log/ampsd.log");
	ck_assert_uint_eq(c->shutdown_ms, 1500);
	out = ct_dump(c);
	ck_assert_ptr_nonnull(strstr(out, "log file \"/var/log/ampsd.log\";\n"
	    "shutdown-timeout 1500ms;\n"));
	free(out);
	conf_free(c);

	got = ct_run("log file \"/x.log\";\nlog stderr;\nconnection \"a\" { "
	    "client-name \"x\"; server \"tcp://h:1/amps/json\"; }\n", &c);
	ck_assert_str_eq(got, "");
	free(got);
	ck_assert_int_eq(c->log_target, CONF_LOG_STDERR);
	conf_free(c);
}
END_TEST

/* A single connection becomes the default; timeout is 2 x heartbeat. */
START_TEST(test_single_is_default)
{
	struct conf	*c;
	char		*got;

	got = ct_run(OK_BASE, &c);
	ck_assert_str_eq(got, "");
	ck_assert_ptr_nonnull(conf_default_conn(c));
	ck_assert_uint_eq(conf_conn_timeout(conf_default_conn(c)), 20000);
	/* RELIABILITY.md finding 26: by default a connection never gives up. */
	ck_assert_uint_eq(conf_default_conn(c)->reconnect.giveup_ms, 0);
	ck_assert_uint_eq(conf_conn_logon_timeout(conf_default_conn(c)),
	    10000);
	free(got);
	conf_free(c);
}
END_TEST

/* Finding 29: the logon timeout follows the heartbeat unless set. */
START_TEST(test_logon_timeout_default)
{
	static const struct {
		const char	*line;
		uint64_t	 want;
	} v[] = {
		{ "heartbeat 1s timeout 3s;", 3000 },
		{ "heartbeat 2s;", 4000 },
		{ "heartbeat 30s;", 10000 },
		{ "heartbeat off;", 10000 },
		{ "heartbeat 1s; logon-timeout 7s;", 7000 },
	};
	struct conf	*c;
	char		 text[512], *got;
	size_t		 i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		snprintf(text, sizeof text, "connection \"main\" {\n"
		    "\tclient-name \"c\";\n"
		    "\tserver \"tcp://127.0.0.1:9007/amps/json\";\n"
		    "\t%s\n}\n", v[i].line);
		got = ct_run(text, &c);
		ck_assert_msg(*got == '\0', "%s: %s", v[i].line, got);
		ck_assert_uint_eq(conf_conn_logon_timeout(conf_default_conn(c)),
		    v[i].want);
		free(got);
		conf_free(c);
	}
	got = ct_run("connection \"main\" {\n\tclient-name \"c\";\n"
	    "\tserver \"tcp://h:1/amps/json\";\n\tlogon-timeout 0s;\n}\n",
	    NULL);
	ck_assert_msg(strstr(got, "logon-timeout must not be 0") != NULL,
	    "got: %s", got);
	free(got);
}
END_TEST

/* Durations need a unit and stay in range. */
START_TEST(test_durations)
{
	uint64_t	ms;

	ck_assert_int_eq(conf_parse_duration("250ms", &ms), 0);
	ck_assert_uint_eq(ms, 250);
	ck_assert_int_eq(conf_parse_duration("3m", &ms), 0);
	ck_assert_uint_eq(ms, 180000);
	ck_assert_int_eq(conf_parse_duration("2h", &ms), 0);
	ck_assert_uint_eq(ms, 7200000);
	ck_assert_int_eq(conf_parse_duration("5", &ms), -1);
	ck_assert_int_eq(conf_parse_duration("s", &ms), -1);
	ck_assert_int_eq(conf_parse_duration("-1s", &ms), -1);
	ck_assert_int_eq(conf_parse_duration("5sec", &ms), -1);
	ck_assert_int_eq(conf_parse_duration("99999999999999999999s", &ms),
	    -1);
}
END_TEST

/* 200 servers on one line, and a 100 KB topic expression. */
/* 200 servers on one line and a 100 KB topic expression parse. */
START_TEST(test_long_lines)
{
	struct conf	*c;
	char		*text, *got, *p;
	size_t		 cap = 400 * 1024, i;

	text = malloc(cap);
	p = text;
	p += sprintf(p, "connection \"a\" { client-name \"x\"; server");
	for (i = 0; i < 200; i++)
		p += sprintf(p, " \"tcp://host%zu.example.net:%zu/amps/json"
		    "?tcp_nodelay=true\"", i, 9000 + i);
	p += sprintf(p, "; allow subscribe user \"u\" topic \"");
	for (i = 0; i < 100 * 1024 / 8; i++)
		p += sprintf(p, "abcdefg|");
	p += sprintf(p, "z\"; }\n");
	got = ct_run(text, &c);
	ck_assert_str_eq(got, "");
	ck_assert_uint_eq(c->conns[0]->nservers, 200);
	ck_assert_uint_gt(strlen(c->conns[0]->allows[0].topic), 100 * 1024);
	free(got);
	conf_free(c);
	free(text);
}
END_TEST

/* Write text to a temporary file with the given mode; returns its path. */
static char *
tmpconf(const char *text, mode_t mode)
{
	char	*path = strdup("/tmp/check_conf.XXXXXX");
	int	 fd;

	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
	fchmod(fd, mode);
	close(fd);
	return (path);
}

/* Files with credentials must be private; missing files are reported. */
START_TEST(test_secrecy)
{
	static const char text[] = "connection \"a\" { client-name \"x\"; "
	    "server \"tcp://u:secret@h:1/amps/json\"; }\n";
	struct conf_errs	 errs = { NULL, 0 };
	struct conf		*c;
	char			*path, want[256];

	path = tmpconf(text, 0644);
	c = conf_new();
	ck_assert_int_eq(conf_parse_file(c, path, &errs), -1);
	ck_assert_uint_eq(errs.n, 1);
	snprintf(want, sizeof want, "%s: holds credentials but is accessible "
	    "by group or others (mode 0644); chmod 600 it", path);
	ck_assert_str_eq(errs.v[0], want);
	conf_errs_free(&errs);
	conf_free(c);
	chmod(path, 0600);
	c = conf_new();
	ck_assert_int_eq(conf_parse_file(c, path, &errs), 0);
	ck_assert_int_eq(conf_check(c, &errs), 0);
	conf_free(c);
	unlink(path);
	free(path);

	/* No credentials: a world-readable file is fine. */
	path = tmpconf(OK_BASE, 0644);
	c = conf_new();
	ck_assert_int_eq(conf_parse_file(c, path, &errs), 0);
	conf_free(c);
	unlink(path);
	free(path);

	c = conf_new();
	ck_assert_int_eq(conf_parse_file(c, "/nonexistent/x.conf", &errs), -1);
	ck_assert_str_eq(errs.v[0], "/nonexistent/x.conf: No such file or "
	    "directory");
	conf_errs_free(&errs);
	conf_free(c);
}
END_TEST

/* conf_check_files: TLS files must exist and the key must be private. */
START_TEST(test_files)
{
	struct conf_errs	 errs = { NULL, 0 };
	struct conf		*c;
	char			*key, *text, want[512];

	key = tmpconf("not really a key", 0644);
	if (asprintf(&text, "connection \"a\" {\n client-name \"x\";\n "
	    "server \"tcps://h:1/amps/json\";\n tls {\n  ca \"/nonexistent/"
	    "ca.pem\";\n  cert \"%s\";\n  key \"%s\";\n }\n}\n", key,
	    key) == -1)
		ck_abort();
	c = conf_new();
	ck_assert_int_eq(conf_parse_buffer(c, "t.conf", text, strlen(text),
	    &errs), 0);
	ck_assert_int_eq(conf_check(c, &errs), 0);
	ck_assert_int_eq(conf_check_files(c, &errs), -1);
	ck_assert_uint_eq(errs.n, 2);
	ck_assert_str_eq(errs.v[0], "t.conf:4: connection \"a\": tls ca "
	    "\"/nonexistent/ca.pem\": No such file or directory");
	snprintf(want, sizeof want, "t.conf:4: connection \"a\": tls key "
	    "\"%s\" is accessible by group or others (mode 0644); chmod 600 "
	    "it", key);
	ck_assert_str_eq(errs.v[1], want);
	conf_errs_free(&errs);
	chmod(key, 0600);
	ck_assert_int_eq(conf_check_files(c, &errs), -1);	/* ca still */
	ck_assert_uint_eq(errs.n, 1);
	conf_errs_free(&errs);
	conf_free(c);
	unlink(key);
	free(key);
	free(text);
}
END_TEST

/* conf_dump redacts passwords and prints the allow rules. */
START_TEST(test_dump)
{
	struct conf	*c;
	char		*got, *out;

	got = ct_run("connection \"a\" { client-name \"x\"; server "
	    "\"tcp://u:secret@h:1/amps/json\"; allow all group \"g\" topic "
	    "\".*\"; }\n", &c);
	ck_assert_str_eq(got, "");
	out = ct_dump(c);
	ck_assert_ptr_null(strstr(out, "secret"));
	ck_assert_ptr_nonnull(strstr(out, "allow all group \"g\" topic "
	    "\".*\";"));
	ck_assert_ptr_nonnull(strstr(out, "heartbeat 10000ms timeout "
	    "20000ms;"));
	free(out);
	free(got);
	conf_free(c);
}
END_TEST

/* The test cases of this file. */
static Suite *
conf_suite(void)
{
	Suite	*s = suite_create("conf");
	TCase	*tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_bad, 0, sizeof bad / sizeof bad[0]);
	tcase_add_test(tc, test_amps_message_types);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_log_file);
	tcase_add_test(tc, test_single_is_default);
	tcase_add_test(tc, test_logon_timeout_default);
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_long_lines);
	tcase_add_test(tc, test_secrecy);
	tcase_add_test(tc, test_files);
	tcase_add_test(tc, test_dump);
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; exit status says whether every test passed. */
int
main(void)
{
	return (check_main(conf_suite()));
}
