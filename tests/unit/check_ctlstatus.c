/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for `ampsctl status` output (ampsctl/ampsctl-status.c):
 * the JSON is valid for any text (checked by tests/tools/jsoncheck.c)
 * and types its values as documented; the table shows the daemon lines,
 * one row per connection, per program, per subscription and per durable
 * name; -raw passes the text through; ampsctl ping's connection lines
 * count what is up and show why the rest is not.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define JSONCHECK_NO_MAIN
#include "../tools/jsoncheck.c"

int	ctl_status_print(const char *, int, FILE *);
int	ctl_status_conns(const char *, FILE *, int *, int *);

static const char sample[] =
    "ampsd version=0.1.0 pid=11408 uptime_s=3601 clients=2 passes=24 "
    "subscriptions=3 durable_subscriptions=1 start_time=1795323979\n"
    "conn name=main id=0 default=1 state=connected "
    "server=tcp://127.0.0.1:41789/amps/json client_name=smoke next_seq=101 "
    "persisted_seq=100 unpersisted=0 store=ok detail=ready since_ms=2085 "
    "server_index=1/1 sent_seq=100 logon_seq=50 connects=1 failures=0 "
    "last_error=- reconnects=0 published=50 acked=50 failed_writes=0 "
    "refused=0 sent=50 replayed=0\n"
    "conn name=123 id=1 default=0 state=backoff server=- client_name=x "
    "unpersisted=7 store=degraded detail=backoff server_index=1/2 "
    "last_error=connect:_\"refused\"_\\x01 reconnects=12 published=7 "
    "acked=0 failed_writes=2 refused=1 sent=0 replayed=0\n"
    "store kind=publish commits=3 failures=0\n"
    "store kind=bookmark commits=0 failures=0\n"
    "commit count=3 sum_s=0.001288 le_0.0001=0 le_0.00025=0 le_0.0005=2 "
    "le_0.001=3 le_0.0025=3 le_0.005=3 le_0.01=3 le_0.025=3 le_0.05=3 "
    "le_0.1=3 le_0.25=3 le_0.5=3 le_1=3 le_inf=3\n"
    "prog uid=0 name=ampsctl clients=1 subscriptions=0 pending=0 "
    "queued_bytes=0\n"
    "prog uid=1000 name=- clients=1 subscriptions=3 pending=9 "
    "queued_bytes=4096\n";

/* Subscription lines (docs/IPC.md §7), a sub id that looks numeric. */
static const char subs[] =
    "ampsd version=0.1.0 pid=7 uptime_s=5 clients=2 subscriptions=2 "
    "durable_subscriptions=1\n"
    "sub id=orders kind=plain conn=main client=3 pid=812 uid=1000 name=- "
    "delivered=120 queued_bytes=0 leases=0 topic=orders\n"
    "sub id=42 kind=durable conn=main client=4 pid=815 uid=1000 name=dur2 "
    "delivered=5 queued_bytes=64 leases=0 topic=orders.eu\n"
    "durable name=dur2 conn=main owner_uid=1000 attached=1 pid=815 "
    "state=live topic=orders.eu\n"
    "durable name=dur1 conn=main owner_uid=1000 attached=0 pid=- "
    "state=idle topic=orders\n";

/* Print text in mode into a string (caller frees). */
static char *
print(const char *text, int mode)
{
	char	*out = NULL;
	size_t	 len = 0;
	FILE	*f;

	f = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(ctl_status_print(text, mode, f), 0);
	fclose(f);
	return (out);
}

/* Whether s is one valid JSON text. */
static int
valid(const char *s)
{
	size_t	off = 0;

	return (jsoncheck(s, strlen(s), &off));
}

/* The checker itself refuses bad JSON (so a pass means something). */
START_TEST(test_checker)
{
	static const char *const bad[] = {
		"", "{", "{\"a\":}", "{\"a\" 1}", "[1,]", "[01]", "[1.]",
		"\"a\x01\"", "\"\\x\"", "nul", "{} {}", "[\"\\u12\"]",
		"{a:1}", "[1e]",
	};
	size_t	i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!valid(bad[i]), "accepted %s", bad[i]);
	ck_assert(valid(" {\"a\":[1,-0.5e+3,\"\\u00e9\\n\",true,null,{}]}\n"));
}
END_TEST

/* JSON of a full status: valid, values typed as documented. */
START_TEST(test_json)
{
	char	*out = print(sample, 1);

	ck_assert_msg(valid(out), "invalid JSON:\n%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\"ampsd\": {\"version\":\"0.1.0\","
	    "\"pid\":11408,\"uptime_s\":3601,"));
	ck_assert_ptr_nonnull(strstr(out, "\"name\":\"123\",\"id\":1,"
	    "\"default\":0,\"state\":\"backoff\",\"server\":null,"));
	ck_assert_ptr_nonnull(strstr(out, "\"server_index\":\"1/2\""));
	/* Free text: '_' is a space again, quotes and backslashes escaped. */
	ck_assert_ptr_nonnull(strstr(out, "\"last_error\":\"connect: \\\""
	    "refused\\\" \\\\x01\""));
	ck_assert_ptr_nonnull(strstr(out, "\"last_error\":null"));
	ck_assert_ptr_nonnull(strstr(out, "\"published\":50,\"acked\":50,"));
	ck_assert_ptr_nonnull(strstr(out, "\"stores\": [\n    {\"kind\":"
	    "\"publish\",\"commits\":3,\"failures\":0},"));
	ck_assert_ptr_nonnull(strstr(out, "\"commit\": {\"count\":3,"
	    "\"sum_s\":0.001288,\"le_0.0001\":0,"));
	ck_assert_ptr_nonnull(strstr(out, "{\"uid\":1000,\"name\":null,"
	    "\"clients\":1,\"subscriptions\":3,\"pending\":9,"
	    "\"queued_bytes\":4096}"));
	free(out);
}
END_TEST

/* Subscriptions and durable names in JSON: arrays, ids as strings. */
START_TEST(test_json_subs)
{
	char	*out = print(subs, 1);

	ck_assert_msg(valid(out), "invalid JSON:\n%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\"subscriptions\": [\n    "
	    "{\"id\":\"orders\",\"kind\":\"plain\",\"conn\":\"main\","
	    "\"client\":3,\"pid\":812,\"uid\":1000,\"name\":null,"
	    "\"delivered\":120,\"queued_bytes\":0,\"leases\":0,"
	    "\"topic\":\"orders\"},\n    {\"id\":\"42\","));
	ck_assert_ptr_nonnull(strstr(out, "\"durable\": [\n    "
	    "{\"name\":\"dur2\",\"conn\":\"main\",\"owner_uid\":1000,"
	    "\"attached\":1,\"pid\":815,\"state\":\"live\","
	    "\"topic\":\"orders.eu\"},\n    {\"name\":\"dur1\","));
	ck_assert_ptr_nonnull(strstr(out, "\"pid\":null,\"state\":\"idle\""));
	free(out);
	/* Without sub lines: empty arrays; "id" of a conn stays a number. */
	out = print(sample, 1);
	ck_assert_msg(valid(out), "invalid JSON:\n%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\"subscriptions\": [],\n  "
	    "\"durable\": []\n}\n"));
	ck_assert_ptr_nonnull(strstr(out, "\"name\":\"main\",\"id\":0,"));
	free(out);
}
END_TEST

/* Whatever the text holds, the JSON stays valid (invariant 1). */
START_TEST(test_json_hostile)
{
	static const char *const texts[] = {
		"",
		"\n\n\n",
		"junk\n=x\nconn noequals a=b ==c d=\n",
		"ampsd version=\x01\x7f\xc3\xa9 pid=-1 x=1e5 y=1e z=.5 w=0x10\n",
		"conn name=\"\\ state=\t\n",
		"prog a=1 a=2 a=3\n",
		"commit count=1 le_inf=1\n",
		"sub id=\"\\\x01\xff kind=\x7f topic=a\"b\\ client=1e999x\n"
		"durable name=\" conn= =x pid==\n",
		"sub\ndurable\nsub id=1 id=2 id\n",
	};
	char	*out, *big, *p;
	size_t	 i;

	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		out = print(texts[i], 1);
		ck_assert_msg(valid(out), "case %zu:\n%s", i, out);
		free(out);
	}
	out = print(texts[3], 1);
	/* UTF-8 kept as it is, control characters escaped. */
	ck_assert_ptr_nonnull(strstr(out, "\"version\":\"\\u0001\\u007f"
	    "\xc3\xa9\",\"pid\":-1,\"x\":1e5,\"y\":\"1e\",\"z\":\".5\","
	    "\"w\":\"0x10\""));
	free(out);
	/* A line with more pairs than are kept (CTL_MAXKV). */
	big = malloc(100 * 8 + 16);
	p = big + sprintf(big, "conn");
	for (i = 0; i < 100; i++)
		p += sprintf(p, " k%zu=%zu", i, i);
	out = print(big, 1);
	ck_assert_msg(valid(out), "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\"k63\":63}"));
	ck_assert_ptr_null(strstr(out, "\"k64\""));
	free(out);
	free(big);
}
END_TEST

/* The table: daemon lines, connection rows, programs. */
START_TEST(test_table)
{
	char	*out = print(sample, 0);

	ck_assert_msg(strncmp(out, "ampsd 0.1.0, pid 11408, up 1h00m01s, 2 "
	    "client(s), 3 subscription(s) (1 durable)\n"
	    "store commits: publish 3 (0 failed), bookmark 0 (0 failed)\n"
	    "commit time: 3 commits, mean 0.429 ms, p50 <= 0.5 ms, "
	    "p99 <= 1 ms\n\n"
	    "CONNECTION  STATE      UNPERSISTED  PERSISTED_SEQ  PUBLISHED  "
	    "ACKED  WRITE_ERRORS  REFUSED  SENT  REPLAYED  RECONNECTS  STORE"
	    "     SERVER\n"
	    "main*       connected            0            100         50     "
	    "50             0        0    50         0           0  ok        "
	    "tcp://127.0.0.1:41789/amps/json\n"
	    "123         backoff              7              -          7      "
	    "0             2        1     0         0          12  degraded  "
	    "-\n"
	    "(* the default connection)\n"
	    "123: last error: connect: \"refused\" \\x01\n\n"
	    "PROGRAM   UID  CLIENTS  SUBSCRIPTIONS  PENDING  QUEUED_BYTES\n"
	    "ampsctl     0        1              0        0             0\n"
	    "-        1000        1              3        9          4096\n",
	    strlen(out) + 1) == 0, "table:\n%s", out);
	free(out);
}
END_TEST

/* The table's subscription and durable sections. */
START_TEST(test_table_subs)
{
	char	*out = print(subs, 0);

	ck_assert_msg(strcmp(out, "ampsd 0.1.0, pid 7, up 5s, 2 client(s), "
	    "2 subscription(s) (1 durable)\n\n"
	    "SUBSCRIPTION  KIND     CONN  CLIENT  PID   UID  NAME  DELIVERED  "
	    "QUEUED_BYTES  LEASES  TOPIC\n"
	    "orders        plain    main       3  812  1000  -           120  "
	    "           0       0  orders\n"
	    "42            durable  main       4  815  1000  dur2          5  "
	    "          64       0  orders.eu\n\n"
	    "DURABLE  CONN  OWNER_UID  ATTACHED  PID  STATE  TOPIC\n"
	    "dur2     main       1000         1  815  live   orders.eu\n"
	    "dur1     main       1000         0    -  idle   orders\n") == 0,
	    "table:\n%s", out);
	free(out);
}
END_TEST

/* Quantiles beyond the last bound; no commits; a status without store. */
START_TEST(test_table_edges)
{
	char	*out;

	out = print("commit count=10 sum_s=25 le_0.5=1 le_1=2 le_inf=10\n", 0);
	ck_assert_str_eq(out, "commit time: 10 commits, mean 2500.000 ms, "
	    "p50 > 1000 ms, p99 > 1000 ms\n");
	free(out);
	out = print("commit count=0 sum_s=0 le_1=0 le_inf=0\n", 0);
	ck_assert_str_eq(out, "commit time: no commits yet\n");
	free(out);
	out = print("ampsd version=0.0.9 pid=1 uptime_s=90061 clients=0 "
	    "subscriptions=0\n", 0);
	ck_assert_str_eq(out, "ampsd 0.0.9, pid 1, up 1d01h01m01s, 0 "
	    "client(s), 0 subscription(s)\n");
	free(out);
}
END_TEST

/* -raw: the text as it came, with a final newline. */
START_TEST(test_raw)
{
	char	*out;

	out = print("ampsd a=1", 2);
	ck_assert_str_eq(out, "ampsd a=1\n");
	free(out);
	out = print(sample, 2);
	ck_assert_str_eq(out, sample);
	free(out);
}
END_TEST

/* The test cases of this file. */
/* ampsctl ping: a line per connection, the down one with its error. */
START_TEST(test_conns)
{
	char	*out = NULL;
	size_t	 len = 0;
	FILE	*f;
	int	 up, total;

	f = open_memstream(&out, &len);
	ck_assert_int_eq(ctl_status_conns(sample, f, &up, &total), 0);
	fclose(f);
	ck_assert_int_eq(up, 1);
	ck_assert_int_eq(total, 2);
	ck_assert_str_eq(out, "main: connected tcp://127.0.0.1:41789/amps/json\n"
	    "123: backoff, last error: connect: \"refused\" \\x01\n");
	free(out);
	out = NULL;
	f = open_memstream(&out, &len);
	ck_assert_int_eq(ctl_status_conns("ampsd version=1\n"
	    "conn name=a state=recovering server=tcp://h:1/amps/json "
	    "last_error=x\n", f, &up, &total), 0);
	fclose(f);
	ck_assert_int_eq(up, 1);
	ck_assert_int_eq(total, 1);
	ck_assert_str_eq(out, "a: recovering tcp://h:1/amps/json\n");
	free(out);
}
END_TEST

static Suite *
ctlstatus_suite(void)
{
	Suite	*s = suite_create("ctlstatus");
	TCase	*tc = tcase_create("status");

	tcase_add_test(tc, test_checker);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_json_subs);
	tcase_add_test(tc, test_json_hostile);
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_table_subs);
	tcase_add_test(tc, test_table_edges);
	tcase_add_test(tc, test_raw);
	tcase_add_test(tc, test_conns);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; exit status says whether every test passed. */
int
main(void)
{
	return (check_main(ctlstatus_suite()));
}
