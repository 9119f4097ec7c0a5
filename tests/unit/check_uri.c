/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for codec/amps-uri.c: connection strings (PROTOCOL.md §1.1).
 *
 * Tables of good URIs (every field checked), bad URIs (error kind, a word
 * the message must name, the struct left zeroed, the password never in the
 * message) and amps_uri_redact cases.  Each table row is one Check loop
 * test, so a failure names its row.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amps.h"
#include "testutil.h"

#define TCP	AMPS_TRANSPORT_TCP
#define TCPS	AMPS_TRANSPORT_TCPS
#define UNIX	AMPS_TRANSPORT_UNIX
#define D	10, 1		/* default linger, keepalive */

struct good {
	const char		*s;
	enum amps_transport	 transport;
	const char		*user;
	const char		*password;
	const char		*host;
	unsigned		 port;
	const char		*protocol;
	const char		*mt;
	const char		*path;
	unsigned		 set;
	int			 nodelay, sndbuf, rcvbuf, linger, keepalive;
};

static const struct good goods[] = {
	{ "tcp://localhost:9007/amps/json", TCP, NULL, NULL, "localhost",
	    9007, "amps", "json", NULL, 0, 0, 0, 0, D },
	{ "tcp://localhost:9007/amps/json?tcp_nodelay=true&tcp_sndbuf=100000",
	    TCP, NULL, NULL, "localhost", 9007, "amps", "json", NULL,
	    AMPS_URI_NODELAY | AMPS_URI_SNDBUF, 1, 100000, 0, D },
	{ "tcps://user:s3cret@amps.example.com:9443/amps/json", TCPS, "user",
	    "s3cret", "amps.example.com", 9443, "amps", "json", NULL, 0,
	    0, 0, 0, D },
	{ "tcp://svc%40corp:p%40ss%3Aw%2Fd%25@host:1/amps", TCP, "svc@corp",
	    "p@ss:w/d%", "host", 1, "amps", NULL, NULL, 0, 0, 0, 0, D },
	{ "tcp://u%3a1:a:b:c@h:2/amps", TCP, "u:1", "a:b:c", "h", 2, "amps",
	    NULL, NULL, 0, 0, 0, 0, D },
	{ "tcp://%C3%A9t%C3%A9:%7e%21@h:2/amps", TCP, "\xc3\xa9t\xc3\xa9",
	    "~!", "h", 2, "amps", NULL, NULL, 0, 0, 0, 0, D },
	{ "tcp://[::1]:9007/amps/json", TCP, NULL, NULL, "::1", 9007, "amps",
	    "json", NULL, 0, 0, 0, 0, D },
	{ "tcp://u@[fe80::1:2]:65535/amps/bson", TCP, "u", NULL, "fe80::1:2",
	    65535, "amps", "bson", NULL, 0, 0, 0, 0, D },
	{ "tcps://a:b@[::ffff:192.0.2.1]:443/amps", TCPS, "a", "b",
	    "::ffff:192.0.2.1", 443, "amps", NULL, NULL, 0, 0, 0, 0, D },
	{ "unix://localhost:0/amps/json?path=/sockets/the-amps-socket", UNIX,
	    NULL, NULL, "localhost", 0, "amps", "json",
	    "/sockets/the-amps-socket", 0, 0, 0, 0, D },
	{ "unix://x:7/amps?path=/tmp/a%20b.sock&tcp_nodelay=1", UNIX, NULL,
	    NULL, "x", 7, "amps", NULL, "/tmp/a b.sock", AMPS_URI_NODELAY, 1,
	    0, 0, D },
	{ "unix://localhost:0/amps/json?path=/a&path=/b", UNIX, NULL, NULL,
	    "localhost", 0, "amps", "json", "/b", 0, 0, 0, 0, D },
	{ "tcp://h:1/fix", TCP, NULL, NULL, "h", 1, "fix", NULL, NULL, 0,
	    0, 0, 0, D },
	{ "tcp://h:1/nvfix", TCP, NULL, NULL, "h", 1, "nvfix", NULL, NULL, 0,
	    0, 0, 0, D },
	{ "tcp://h:1/xml", TCP, NULL, NULL, "h", 1, "xml", NULL, NULL, 0,
	    0, 0, 0, D },
	{ "TCP://h:1/AMPS/json", TCP, NULL, NULL, "h", 1, "amps", "json",
	    NULL, 0, 0, 0, 0, D },
	{ "Unix://h:0/amps?path=p", UNIX, NULL, NULL, "h", 0, "amps", NULL,
	    "p", 0, 0, 0, 0, D },
	{ "tcp://h:1/amps/json?tcp_linger=0&tcp_keepalive=no&tcp_rcvbuf=65536",
	    TCP, NULL, NULL, "h", 1, "amps", "json", NULL,
	    AMPS_URI_LINGER | AMPS_URI_KEEPALIVE | AMPS_URI_RCVBUF, 0, 0,
	    65536, 0, 0 },
	{ "tcp://h:1/amps?tcp_linger=2147483647&tcp_sndbuf=0", TCP, NULL,
	    NULL, "h", 1, "amps", NULL, NULL,
	    AMPS_URI_LINGER | AMPS_URI_SNDBUF, 0, 0, 0, 2147483647, 1 },
	{ "tcp://h:1/amps?tcp_sndbuf=2147483647&tcp_rcvbuf=007", TCP, NULL,
	    NULL, "h", 1, "amps", NULL, NULL,
	    AMPS_URI_SNDBUF | AMPS_URI_RCVBUF, 0, 2147483647, 7, D },
	{ "tcp://h:1/amps?tcp_nodelay=YES&tcp_keepalive=FALSE", TCP, NULL,
	    NULL, "h", 1, "amps", NULL, NULL,
	    AMPS_URI_NODELAY | AMPS_URI_KEEPALIVE, 1, 0, 0, 10, 0 },
	{ "tcp://h:1/amps?tcp_nodelay=t&tcp_keepalive=f", TCP, NULL, NULL, "h",
	    1, "amps", NULL, NULL, AMPS_URI_NODELAY | AMPS_URI_KEEPALIVE, 1,
	    0, 0, 10, 0 },
	{ "tcp://h:1/amps?tcp_nodelay=Y&tcp_keepalive=N", TCP, NULL, NULL, "h",
	    1, "amps", NULL, NULL, AMPS_URI_NODELAY | AMPS_URI_KEEPALIVE, 1,
	    0, 0, 10, 0 },
	{ "tcp://h:1/amps?tcp_nodelay=1&tcp_keepalive=0", TCP, NULL, NULL, "h",
	    1, "amps", NULL, NULL, AMPS_URI_NODELAY | AMPS_URI_KEEPALIVE, 1,
	    0, 0, 10, 0 },
	{ "tcp://h:1/amps?tcp_nodelay=0&tcp_keepalive=1", TCP, NULL, NULL, "h",
	    1, "amps", NULL, NULL, AMPS_URI_NODELAY | AMPS_URI_KEEPALIVE, 0,
	    0, 0, 10, 1 },
	{ "tcp://h:1/amps?tcp_nodelay=1&&tcp_nodelay=no&", TCP, NULL, NULL,
	    "h", 1, "amps", NULL, NULL, AMPS_URI_NODELAY, 0, 0, 0, D },
	{ "tcp://h:1/amps?tcp%5fnodelay=tru%65", TCP, NULL, NULL, "h", 1,
	    "amps", NULL, NULL, AMPS_URI_NODELAY, 1, 0, 0, D },
	{ "tcp://h:1/amps?", TCP, NULL, NULL, "h", 1, "amps", NULL, NULL, 0,
	    0, 0, 0, D },
	{ "tcp://user:@h:1/amps", TCP, "user", "", "h", 1, "amps", NULL, NULL,
	    0, 0, 0, 0, D },
	{ "tcp://:pw@h:1/amps", TCP, "", "pw", "h", 1, "amps", NULL, NULL, 0,
	    0, 0, 0, D },
	{ "tcp://127.0.0.1:0009007/amps/json", TCP, NULL, NULL, "127.0.0.1",
	    9007, "amps", "json", NULL, 0, 0, 0, 0, D },
	{ "tcp://my_host-1.example:1/amps/my-type.v2", TCP, NULL, NULL,
	    "my_host-1.example", 1, "amps", "my-type.v2", NULL, 0, 0, 0, 0,
	    D },
};

struct bad {
	const char	*s;
	int		 rc;
	const char	*word;		/* the message must contain this */
};

#define URI	AMPS_E_URI
#define OPT	AMPS_E_TRANSPORT_OPT
#define TYPE	AMPS_E_TRANSPORT_TYPE

static const struct bad bads[] = {
	/* Shape. */
	{ "", URI, "://" },
	{ "localhost:9007/amps", URI, "://" },
	{ "tcp:/h:1/amps", URI, "://" },
	{ "://h:1/amps", URI, "transport" },
	{ "tc$p://h:1/amps", URI, "transport" },
	{ "tcp://h/amps", URI, "port" },
	{ "tcp://h:/amps", URI, "port" },
	{ "tcp://h:0/amps", URI, "port" },
	{ "tcps://h:0/amps", URI, "port" },
	{ "tcp://h:65536/amps", URI, "port" },
	{ "tcp://h:99999999999999999999999/amps", URI, "port" },
	{ "tcp://h:-1/amps", URI, "port" },
	{ "tcp://h:1a/amps", URI, "port" },
	{ "tcp://h:+1/amps", URI, "port" },
	{ "tcp://:1/amps", URI, "host" },
	{ "tcp://u:SECRETPW@:1/amps", URI, "host" },
	{ "tcp://h!:1/amps", URI, "host" },
	{ "tcp://h:1", URI, "protocol" },
	{ "tcp://h:1/", URI, "protocol" },
	{ "tcp://h:1?tcp_nodelay=1", URI, "protocol" },
	{ "tcp://h:1/http", URI, "protocol" },
	{ "tcp://u:SECRETPW@h:1/bogus", URI, "protocol" },
	{ "tcp://h:1//json", URI, "protocol" },
	{ "tcp://h:1/amps/json/extra", URI, "segments" },
	{ "tcp://h:1/amps/", URI, "message type" },
	{ "tcp://h:1/amps/js%6fn", URI, "message type" },
	{ "tcp://h:1/fix/json", URI, "fix" },
	{ "tcp://h:1/xml/xml", URI, "xml" },
	{ "tcp://[::1/amps", URI, "]" },
	{ "tcp://[]:1/amps", URI, "IPv6" },
	{ "tcp://[::g]:1/amps", URI, "IPv6" },
	{ "tcp://[::1]/amps", URI, "port" },
	{ "tcp://[::1]x:1/amps", URI, "port" },
	{ "tcp://::1:9007/amps", URI, "host" },
	{ "tcp://ho st:1/amps", URI, "offset 8" },
	{ "tcp://h:1/amps\n", URI, "offset 14" },
	{ "tcp://h:1/amps?path=a\tb", URI, "offset" },
	{ "tcp://u:SECRETPW%4@h:1/amps", URI, "password" },
	{ "tcp://u:SECRETPW%zz@h:1/amps", URI, "password" },
	{ "tcp://u%0:SECRETPW@h:1/amps", URI, "user" },
	{ "tcp://u%00:SECRETPW@h:1/amps", URI, "user" },
	{ "tcp://u:SECRET@PW@h:1/amps", URI, "%40" },
	{ "tcp://u@x@h:1/amps", URI, "%40" },
	{ "unix://localhost:0/amps?path=%G1", URI, "value" },
	{ "tcp://h:1/amps?tcp_n%zzodelay=1", URI, "name" },
	{ "unix://localhost/amps?path=/a", URI, "port" },
	{ "unix://:0/amps?path=/a", URI, "host" },
	/* Scheme. */
	{ "http://h:1/amps", TYPE, "http" },
	{ "udp://h:1/amps", TYPE, "udp" },
	{ "tcpx://h:1/amps", TYPE, "tcpx" },
	{ "ws://u:SECRETPW@h:1/amps", TYPE, "ws" },
	{ "tcp4://h:1/amps", TYPE, "tcp4" },
	/* Parameters. */
	{ "tcp://h:1/amps?bogus=1", OPT, "bogus" },
	{ "tcp://h:1/amps?TCP_NODELAY=1", OPT, "TCP_NODELAY" },
	{ "tcp://h:1/amps?tcp_nodelay=maybe", OPT, "tcp_nodelay" },
	{ "tcp://h:1/amps?tcp_nodelay=", OPT, "tcp_nodelay" },
	{ "tcp://h:1/amps?tcp_nodelay", OPT, "tcp_nodelay" },
	{ "tcp://h:1/amps?tcp_nodelay=yess", OPT, "tcp_nodelay" },
	{ "tcp://h:1/amps?tcp_keepalive=2", OPT, "tcp_keepalive" },
	{ "tcp://h:1/amps?tcp_keepalive=on", OPT, "tcp_keepalive" },
	{ "tcp://h:1/amps?tcp_sndbuf=-1", OPT, "tcp_sndbuf" },
	{ "tcp://h:1/amps?tcp_sndbuf=abc", OPT, "tcp_sndbuf" },
	{ "tcp://h:1/amps?tcp_sndbuf=", OPT, "tcp_sndbuf" },
	{ "tcp://h:1/amps?tcp_sndbuf=2147483648", OPT, "tcp_sndbuf" },
	{ "tcp://h:1/amps?tcp_sndbuf=99999999999999999999", OPT, "tcp_sndbuf" },
	{ "tcp://h:1/amps?tcp_rcvbuf=1.5", OPT, "tcp_rcvbuf" },
	{ "tcp://h:1/amps?tcp_rcvbuf=+5", OPT, "tcp_rcvbuf" },
	{ "tcp://h:1/amps?tcp_rcvbuf=1k", OPT, "tcp_rcvbuf" },
	{ "tcp://h:1/amps?tcp_linger=x", OPT, "tcp_linger" },
	{ "tcp://h:1/amps?tcp_linger=-5", OPT, "tcp_linger" },
	{ "tcp://h:1/amps?tcp_linger=10s", OPT, "tcp_linger" },
	{ "tcp://h:1/amps?path=/x", OPT, "path" },
	{ "tcps://h:1/amps?path=/x", OPT, "path" },
	{ "unix://localhost:0/amps/json", OPT, "path" },
	{ "unix://localhost:0/amps/json?tcp_nodelay=1", OPT, "path" },
	{ "unix://localhost:0/amps/json?path=", OPT, "path" },
	{ "tcp://h:1/amps?compression=zlib", OPT, "compression" },
	{ "tcp://h:1/amps?http_preflight=true", OPT, "http_preflight" },
	{ "tcp://h:1/amps?=1", OPT, "parameter" },
	{ "tcp://u:SECRETPW@h:1/amps?x=SECRETPW2", OPT, "x" },
	{ "tcp://h:1/amps?tcp_nodelay=1&tcp_sndbuf=q", OPT, "tcp_sndbuf" },
};

/* A struct amps_uri is "empty" when it is all zero. */
static int
uri_is_zero(const struct amps_uri *u)
{
	static const struct amps_uri	zero;

	return (u->user == NULL && u->password == NULL && u->host == NULL &&
	    u->protocol == NULL && u->message_type == NULL &&
	    u->path == NULL && memcmp(u, &zero, sizeof zero) == 0);
}

/* Compare two possibly NULL strings. */
static void
check_str(const char *what, const char *got, const char *want,
    const char *uri)
{
	if (want == NULL)
		ck_assert_msg(got == NULL, "%s: %s: got \"%s\", want NULL",
		    uri, what, got);
	else {
		ck_assert_msg(got != NULL, "%s: %s: got NULL, want \"%s\"",
		    uri, what, want);
		ck_assert_msg(strcmp(got, want) == 0,
		    "%s: %s: got \"%s\", want \"%s\"", uri, what, got, want);
	}
}

/* Each good URI parses to exactly the expected fields. */
START_TEST(test_good)
{
	const struct good	*g = &goods[_i];
	struct amps_uri		 u;
	char			 err[256];
	int			 rc;

	rc = amps_uri_parse(g->s, &u, err, sizeof err);
	ck_assert_msg(rc == 0, "%s: rc %d: %s", g->s, rc, err);
	ck_assert_int_eq(u.transport, g->transport);
	check_str("user", u.user, g->user, g->s);
	check_str("password", u.password, g->password, g->s);
	check_str("host", u.host, g->host, g->s);
	ck_assert_uint_eq(u.port, g->port);
	check_str("protocol", u.protocol, g->protocol, g->s);
	check_str("message_type", u.message_type, g->mt, g->s);
	check_str("path", u.path, g->path, g->s);
	ck_assert_uint_eq(u.set, g->set);
	ck_assert_int_eq(u.tcp_nodelay, g->nodelay);
	ck_assert_int_eq(u.tcp_sndbuf, g->sndbuf);
	ck_assert_int_eq(u.tcp_rcvbuf, g->rcvbuf);
	ck_assert_int_eq(u.tcp_linger, g->linger);
	ck_assert_int_eq(u.tcp_keepalive, g->keepalive);
	amps_uri_free(&u);
	ck_assert(uri_is_zero(&u));
	amps_uri_free(&u);		/* twice is harmless */
}
END_TEST

/* Each bad URI gives its error kind and a clear, password-free message. */
START_TEST(test_bad)
{
	const struct bad	*b = &bads[_i];
	struct amps_uri		 u;
	char			 err[256];
	int			 rc;

	memset(&u, 0xa5, sizeof u);
	strcpy(err, "untouched");
	rc = amps_uri_parse(b->s, &u, err, sizeof err);
	ck_assert_msg(rc == b->rc, "%s: rc %d, want %d (%s)", b->s, rc, b->rc,
	    err);
	ck_assert_msg(uri_is_zero(&u), "%s: struct not zeroed", b->s);
	ck_assert_msg(strcmp(err, "untouched") != 0 && err[0] != '\0',
	    "%s: no message", b->s);
	ck_assert_msg(strstr(err, b->word) != NULL,
	    "%s: message \"%s\" does not name \"%s\"", b->s, err, b->word);
	ck_assert_msg(strstr(err, "SECRET") == NULL && strstr(err, "PW") ==
	    NULL, "%s: message \"%s\" leaks the password", b->s, err);
	amps_uri_free(&u);
}
END_TEST

/* Bad URIs with no message buffer, and with a tiny one. */
START_TEST(test_bad_noerr)
{
	struct amps_uri	u;
	char		err[8];

	/* No message buffer at all, and a tiny one (truncated, terminated). */
	ck_assert_int_eq(amps_uri_parse(bads[_i].s, &u, NULL, 0), bads[_i].rc);
	ck_assert(uri_is_zero(&u));
	ck_assert_int_eq(amps_uri_parse(bads[_i].s, &u, err, sizeof err),
	    bads[_i].rc);
	ck_assert_uint_lt(strlen(err), sizeof err);
}
END_TEST

/* A NULL URI, and very long pieces (no arbitrary limits). */
START_TEST(test_null_and_long)
{
	struct amps_uri	 u;
	char		 err[64], *s, *user;
	size_t		 n = 100000, i;

	ck_assert_int_eq(amps_uri_parse(NULL, &u, err, sizeof err),
	    AMPS_E_URI);
	ck_assert(uri_is_zero(&u));

	/* No arbitrary limits: a 100 kB user name and path. */
	s = malloc(3 * n + 100);
	user = malloc(n + 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(user);
	for (i = 0; i < n; i++)
		user[i] = 'a' + i % 26;
	user[n] = '\0';
	snprintf(s, 3 * n + 100, "unix://%s:pw@localhost:0/amps?path=/%s",
	    user, user);
	ck_assert_int_eq(amps_uri_parse(s, &u, err, sizeof err), 0);
	ck_assert_str_eq(u.user, user);
	ck_assert_uint_eq(strlen(u.path), n + 1);
	ck_assert_str_eq(u.path + 1, user);
	amps_uri_free(&u);
	free(s);
	free(user);
}
END_TEST

struct redact {
	const char	*s;
	const char	*want;
};

static const struct redact redacts[] = {
	{ "tcp://user:s3cret@h:1/amps", "tcp://user:****@h:1/amps" },
	{ "tcps://u:p%40ss@[::1]:9007/amps/json?tcp_nodelay=1",
	    "tcps://u:****@[::1]:9007/amps/json?tcp_nodelay=1" },
	{ "tcp://user@h:1/amps", "tcp://user@h:1/amps" },
	{ "tcp://h:1/amps/json", "tcp://h:1/amps/json" },
	{ "tcp://[::1]:9007/amps", "tcp://[::1]:9007/amps" },
	{ "tcp://u:p@ss@h:1/amps", "tcp://u:****@h:1/amps" },
	{ "tcp://u:@h:1/amps", "tcp://u:****@h:1/amps" },
	{ "tcp://:@h:1/amps", "tcp://:****@h:1/amps" },
	{ "tcp://u:a/b@h:1/amps", "tcp://u:****@h:1/amps" },
	{ "unix://localhost:0/amps?path=/a@b:c",
	    "unix://localhost:0/amps?path=/a@b:c" },
	{ "garbage", "garbage" },
	{ "u:pw@h", "u:****@h" },
	{ "", "" },
};

/* amps_uri_redact hides exactly the password. */
START_TEST(test_redact)
{
	const struct redact	*r = &redacts[_i];
	char			 out[128];
	int			 n;

	memset(out, 'X', sizeof out);
	n = amps_uri_redact(r->s, out, sizeof out);
	ck_assert_int_eq(n, (int)strlen(r->want));
	ck_assert_str_eq(out, r->want);
}
END_TEST

/* amps_uri_redact into buffers that are too small. */
START_TEST(test_redact_short)
{
	const char	*s = "tcp://user:s3cret@h:1/amps";
	const char	*want = "tcp://user:****@h:1/amps";
	char		 out[64];
	size_t		 cap;

	/* Every short buffer gets a terminated prefix and no password. */
	for (cap = 1; cap <= strlen(want); cap++) {
		memset(out, 'X', sizeof out);
		ck_assert_int_eq(amps_uri_redact(s, out, cap), AMPS_E_NOSPACE);
		ck_assert_uint_eq(strlen(out), cap - 1);
		ck_assert(strncmp(out, want, cap - 1) == 0);
		ck_assert_ptr_null(strstr(out, "s3"));
	}
	ck_assert_int_eq(amps_uri_redact(s, out, 0), AMPS_E_NOSPACE);
	ck_assert_int_eq(amps_uri_redact(s, out, strlen(want) + 1),
	    (int)strlen(want));
}
END_TEST

/* Build the suite. */
static Suite *
uri_suite(void)
{
	Suite	*s = suite_create("uri");
	TCase	*tc;

	tc = tcase_create("good");
	tcase_set_timeout(tc, 10);
	tcase_add_loop_test(tc, test_good, 0, sizeof goods / sizeof goods[0]);
	tcase_add_test(tc, test_null_and_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad");
	tcase_set_timeout(tc, 10);
	tcase_add_loop_test(tc, test_bad, 0, sizeof bads / sizeof bads[0]);
	tcase_add_loop_test(tc, test_bad_noerr, 0,
	    sizeof bads / sizeof bads[0]);
	suite_add_tcase(s, tc);

	tc = tcase_create("redact");
	tcase_set_timeout(tc, 10);
	tcase_add_loop_test(tc, test_redact, 0,
	    sizeof redacts / sizeof redacts[0]);
	tcase_add_test(tc, test_redact_short);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; the exit status is non-zero when a check failed. */
int
main(void)
{
	return (check_main(uri_suite()));
}
