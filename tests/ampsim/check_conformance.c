/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Conformance tests for ampsim, part 1: sessions and publishing (PROTOCOL.md
 * §17.4 scenarios 1-11, 31, bad input, the fuzz corpus, restarts).
 * Each test starts a real ampsim in a temporary directory and talks to
 * it over real sockets with the test client; waits have deadlines and
 * "nothing arrived" is proven with a flush barrier, never with a sleep.
 */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "conformance.h"
#include "testutil.h"

/* 1: logon success: s=0, bm, client_name, version. */
START_TEST(logon_success)
{
	struct tc	*t;

	START(NULL);
	t = tc_connect(srv.port);
	ck_assert_ptr_nonnull(t);
	tc_send(t, "{\"c\":\"logon\",\"cid\":\"0\",\"client_name\":\"daemon-a\","
	    "\"a\":\"processed\",\"version\":\"5.3.4.0.1:c\",\"mt\":\"json\"}",
	    NULL);
	EXPECT_ACK(t, "processed", "success");
	ck_assert_str_eq(tc_str(t, AMPS_F_CID), "0");
	ck_assert_uint_eq(tc_num(t, AMPS_F_S), 0);
	ck_assert(tc_has(t, AMPS_F_S));
	ck_assert_str_eq(tc_str(t, AMPS_F_CLIENT_NAME), "daemon-a");
	ck_assert(strlen(tc_str(t, AMPS_F_VERSION)) > 0);
	{
		char bm[64];
		snprintf(bm, sizeof bm, "%llu|0|", (unsigned long long)
		    amps_name_hash("daemon-a", 8));
		ck_assert_str_eq(tc_str(t, AMPS_F_BM), bm);
	}
	CLOSE(t);
	STOP();
}
END_TEST

/* 2: logon failure with bad credentials; the server closes. */
START_TEST(logon_auth_failure)
{
	const char	*args[] = { "--user", "svc", "--password", "s3cret",
			    NULL };
	struct tc	*t;

	START(args);
	t = tc_connect(srv.port);
	tc_send(t, "{\"c\":\"logon\",\"cid\":\"0\",\"client_name\":\"a\","
	    "\"a\":\"processed\",\"user_id\":\"svc\",\"pw\":\"wrong\"}", NULL);
	EXPECT_ACK(t, "processed", "failure");
	ck_assert_str_eq(tc_str(t, AMPS_F_REASON), "auth failure");
	ck_assert(tc_wait_closed(t, 3000));
	CLOSE(t);
	t = tc_connect(srv.port);
	tc_send(t, "{\"c\":\"logon\",\"cid\":\"0\",\"client_name\":\"a\","
	    "\"a\":\"processed\",\"user_id\":\"svc\",\"pw\":\"s3cret\"}",
	    NULL);
	EXPECT_ACK(t, "processed", "success");
	ck_assert(!tc_has(t, AMPS_F_REASON));
	CLOSE(t);
	STOP();
}
END_TEST

/* 3: logon retry: challenge in reason, new pw accepted. */
START_TEST(logon_retry)
{
	const char	*args[] = { "--logon-retry", "1", NULL };
	struct tc	*t;
	char		 pw[128];

	START(args);
	t = tc_connect(srv.port);
	tc_send(t, "{\"c\":\"logon\",\"cid\":\"0\",\"client_name\":\"a\","
	    "\"a\":\"processed\",\"user_id\":\"u\",\"pw\":\"x\"}", NULL);
	EXPECT_ACK(t, "processed", "retry");
	ck_assert(strlen(tc_str(t, AMPS_F_REASON)) > 0);
	snprintf(pw, sizeof pw, "%s", tc_str(t, AMPS_F_PW));
	ck_assert(strlen(pw) > 0);
	tc_sendf(t, NULL, "{\"c\":\"logon\",\"cid\":\"1\",\"client_name\":"
	    "\"a\",\"a\":\"processed\",\"user_id\":\"u\",\"pw\":\"%s\"}", pw);
	EXPECT_ACK(t, "processed", "success");
	ck_assert_str_eq(tc_str(t, AMPS_F_CID), "1");
	CLOSE(t);
	STOP();
}
END_TEST

/* 4: same name, same user: the old connection is dropped. */
START_TEST(name_in_use_same_user)
{
	struct tc	*a, *b;

	START(NULL);
	a = CLIENT("dup");
	b = CLIENT("dup");
	ck_assert(tc_wait_closed(a, 3000));
	BARRIER(b);
	CLOSE(a);
	CLOSE(b);
	STOP();
}
END_TEST

/* 5: same name, different user: the new logon fails. */
START_TEST(name_in_use_other_user)
{
	struct tc	*a, *b;

	START(NULL);
	a = tc_connect(srv.port);
	tc_send(a, "{\"c\":\"logon\",\"cid\":\"0\",\"client_name\":\"n\","
	    "\"a\":\"processed\",\"user_id\":\"u1\"}", NULL);
	EXPECT_ACK(a, "processed", "success");
	b = tc_connect(srv.port);
	tc_send(b, "{\"c\":\"logon\",\"cid\":\"0\",\"client_name\":\"n\","
	    "\"a\":\"processed\",\"user_id\":\"u2\"}", NULL);
	EXPECT_ACK(b, "processed", "failure");
	ck_assert_str_eq(tc_str(b, AMPS_F_REASON), "name in use");
	BARRIER(a);
	CLOSE(a);
	CLOSE(b);
	STOP();
}
END_TEST

/* Logon must come first; a second logon is refused. */
START_TEST(logon_required)
{
	struct tc	*t;

	START(NULL);
	t = tc_connect(srv.port);
	tc_send(t, "{\"c\":\"subscribe\",\"cid\":\"1\",\"t\":\"x\","
	    "\"a\":\"processed\"}", NULL);
	EXPECT_ACK(t, "processed", "failure");
	ck_assert_str_eq(tc_str(t, AMPS_F_REASON), "logon required");
	ck_assert(tc_wait_closed(t, 3000));
	CLOSE(t);
	t = tc_connect(srv.port);
	tc_send(t, "{\"c\":\"p\",\"t\":\"x\"}", "{}");
	ck_assert(tc_wait_closed(t, 3000));
	CLOSE(t);
	t = CLIENT("twice");
	tc_send(t, "{\"c\":\"logon\",\"cid\":\"5\",\"client_name\":\"twice\","
	    "\"a\":\"processed\"}", NULL);
	EXPECT_ACK(t, "processed", "failure");
	BARRIER(t);
	CLOSE(t);
	STOP();
}
END_TEST

/* 6: heartbeats every second, watchdog at 2 s, the stop fault. */
START_TEST(heartbeat)
{
	struct tc	*t;

	START(NULL);
	t = CLIENT("hb");
	t->skip_hb = 0;
	tc_send(t, "{\"c\":\"heartbeat\",\"cid\":\"1\",\"o\":\"start,1\","
	    "\"a\":\"processed\"}", NULL);
	EXPECT_ACK(t, "processed", "success");
	ck_assert_int_eq(tc_recv(t, 2500), 1);
	ck_assert(tc_is(t, "heartbeat", NULL));
	tc_send(t, "{\"c\":\"heartbeat\",\"o\":\"beat\"}", NULL);
	ck_assert_int_eq(tc_recv(t, 2500), 1);
	ck_assert(tc_is(t, "heartbeat", NULL));
	/* Silent client: the watchdog (2 x 1 s) closes the connection. */
	ck_assert(tc_wait_closed(t, 5000));
	CLOSE(t);
	/* Stopped server heartbeats: none arrive, beats keep us alive. */
	ck_assert_int_eq(tc_admin(&srv, "fault no_heartbeats=1", NULL, 0), 0);
	t = CLIENT("hb2");
	t->skip_hb = 0;
	tc_send(t, "{\"c\":\"heartbeat\",\"o\":\"start,1\"}", NULL);
	BARRIER(t);
	ck_assert_uint_eq(t->heartbeats, 0);
	CLOSE(t);
	STOP();
}
END_TEST

/* 7: fire-and-forget publish reaches a subscriber verbatim. */
START_TEST(publish_fire_and_forget)
{
	struct tc	*p, *s;

	START(NULL);
	s = CLIENT("sub");
	p = CLIENT("pub");
	tc_send(s, "{\"c\":\"subscribe\",\"cid\":\"1\",\"t\":\"news\","
	    "\"a\":\"processed\"}", NULL);
	EXPECT_ACK(s, "processed", "success");
	tc_send(p, "{\"c\":\"p\",\"t\":\"news\"}", "{\"a\":\"b\\\"c\"}");
	BARRIER(p);
	RECV(s);
	ck_assert(tc_is(s, "p", NULL));
	ck_assert_str_eq(tc_str(s, AMPS_F_T), "news");
	ck_assert_str_eq(tc_str(s, AMPS_F_SUB_ID), "1");
	ck_assert_str_eq(tc_payload(s), "{\"a\":\"b\\\"c\"}");
	CLOSE(p);
	CLOSE(s);
	STOP();
}
END_TEST

/* 8: s=1..5 with persisted: one conflated ack s=5 without cid. */
START_TEST(persisted_conflated)
{
	struct tc	*p;
	int		 i;

	START(NULL);
	p = tc_connect(srv.port);
	tc_send(p, "{\"c\":\"logon\",\"cid\":\"0\",\"client_name\":\"pc\","
	    "\"a\":\"processed\",\"o\":\"ack_conflation=100ms\"}", NULL);
	EXPECT_ACK(p, "processed", "success");
	for (i = 1; i <= 5; i++)
		tc_sendf(p, "{\"id\":1}", "{\"c\":\"p\",\"cid\":\"%d\","
		    "\"t\":\"t8\",\"a\":\"persisted\",\"s\":%d}", i + 1, i);
	EXPECT_ACK(p, "persisted", "success");
	ck_assert_uint_eq(tc_num(p, AMPS_F_S), 5);
	ck_assert(!tc_has(p, AMPS_F_CID));
	BARRIER(p);
	CLOSE(p);
	STOP();
}
END_TEST

/* 8b: --ack-conflation 0: one persisted ack per command, with cid. */
START_TEST(persisted_immediate)
{
	const char	*args[] = { "--ack-conflation", "0", NULL };
	struct tc	*p;
	int		 i;

	START(args);
	p = CLIENT("pi");
	for (i = 1; i <= 3; i++)
		tc_sendf(p, "{\"id\":1}", "{\"c\":\"p\",\"cid\":\"c%d\","
		    "\"t\":\"t8\",\"a\":\"persisted\",\"s\":%d}", i, i);
	for (i = 1; i <= 3; i++) {
		char cid[8];

		EXPECT_ACK(p, "persisted", "success");
		snprintf(cid, sizeof cid, "c%d", i);
		ck_assert_str_eq(tc_str(p, AMPS_F_CID), cid);
		ck_assert_uint_eq(tc_num(p, AMPS_F_S), (unsigned)i);
	}
	CLOSE(p);
	STOP();
}
END_TEST

/* 9: failure in the middle: success s=2, failure s=3, success s=5. */
START_TEST(persisted_failure_split)
{
	struct tc	*p;
	int		 i;

	START(NULL);
	p = CLIENT("pf");
	for (i = 1; i <= 2; i++)
		tc_sendf(p, "{}", "{\"c\":\"p\",\"t\":\"t9\",\"a\":"
		    "\"persisted\",\"s\":%d}", i);
	BARRIER(p);
	ck_assert_int_eq(tc_admin(&srv, "fault fail_reason=not entitled",
	    NULL, 0), 0);
	ck_assert_int_eq(tc_admin(&srv, "fault fail_cmd=p", NULL, 0), 0);
	for (i = 3; i <= 5; i++)
		tc_sendf(p, "{}", "{\"c\":\"p\",\"t\":\"t9\",\"a\":"
		    "\"persisted\",\"s\":%d}", i);
	EXPECT_ACK(p, "persisted", "success");
	ck_assert_uint_eq(tc_num(p, AMPS_F_S), 2);
	EXPECT_ACK(p, "persisted", "failure");
	ck_assert_uint_eq(tc_num(p, AMPS_F_S), 3);
	ck_assert_str_eq(tc_str(p, AMPS_F_REASON), "not entitled");
	EXPECT_ACK(p, "persisted", "success");
	ck_assert_uint_eq(tc_num(p, AMPS_F_S), 5);
	CLOSE(p);
	STOP();
}
END_TEST

/* 10, 11: duplicates across connections and restarts; logon s. */
START_TEST(replay_and_restart)
{
	struct tc	*p, *s;
	uint64_t	 seq;
	int		 i;

	START(NULL);
	s = CLIENT("watch");
	tc_send(s, "{\"c\":\"subscribe\",\"cid\":\"1\",\"t\":\"t10\","
	    "\"a\":\"processed\"}", NULL);
	EXPECT_ACK(s, "processed", "success");
	p = CLIENT("replayer");
	for (i = 1; i <= 6; i++)
		tc_sendf(p, "{\"n\":1}", "{\"c\":\"p\",\"t\":\"t10\","
		    "\"s\":%d}", i);
	BARRIER(p);
	CLOSE(p);
	p = tc_connect(srv.port);
	ck_assert_int_eq(tc_logon(p, "replayer", &seq), 0);
	ck_assert_uint_eq(seq, 6);
	/* Replaying 5..8: 5 and 6 are duplicates, 7 and 8 are new. */
	for (i = 5; i <= 8; i++)
		tc_sendf(p, "{\"n\":2}", "{\"c\":\"p\",\"cid\":\"%d\",\"t\":"
		    "\"t10\",\"a\":\"processed\",\"s\":%d}", i, i);
	for (i = 5; i <= 8; i++)
		EXPECT_ACK(p, "processed", "success");
	BARRIER(p);
	for (i = 0; i < 8; i++) {
		RECV(s);
		ck_assert(tc_is(s, "p", NULL));
	}
	BARRIER(s);	/* exactly 8 deliveries */
	CLOSE(p);
	CLOSE(s);
	/* After a restart the log still knows s=8; s=40 then s=41. */
	ck_assert_int_eq(tc_srv_restart(&srv), 0);
	p = tc_connect(srv.port);
	ck_assert_int_eq(tc_logon(p, "replayer", &seq), 0);
	ck_assert_uint_eq(seq, 8);
	tc_send(p, "{\"c\":\"p\",\"t\":\"t10\",\"s\":40}", "{}");
	BARRIER(p);
	CLOSE(p);
	ck_assert_int_eq(tc_srv_restart(&srv), 0);
	p = tc_connect(srv.port);
	ck_assert_int_eq(tc_logon(p, "replayer", &seq), 0);
	ck_assert_uint_eq(seq, 40);
	CLOSE(p);
	STOP();
}
END_TEST

/* A torn record at the end of the log is cut off at restart. */
START_TEST(torn_log_tail)
{
	struct tc	*p;
	uint64_t	 seq;
	char		 path[512];
	FILE		*f;
	int		 i;

	START(NULL);
	p = CLIENT("torn");
	for (i = 1; i <= 3; i++)
		tc_sendf(p, "{}", "{\"c\":\"p\",\"t\":\"x\",\"s\":%d}", i);
	BARRIER(p);
	CLOSE(p);
	tc_srv_stop(&srv);
	snprintf(path, sizeof path, "%s/txlog.dat", srv.logdir);
	ck_assert_ptr_nonnull(f = fopen(path, "ab"));
	fwrite("\x40\x00\x00\x00\x01\x01\x05", 1, 7, f);	/* torn */
	fclose(f);
	ck_assert_int_eq(tc_srv_restart(&srv), 0);
	p = tc_connect(srv.port);
	ck_assert_int_eq(tc_logon(p, "torn", &seq), 0);
	ck_assert_uint_eq(seq, 3);
	tc_send(p, "{\"c\":\"p\",\"t\":\"x\",\"s\":4}", "{}");
	BARRIER(p);
	tc_close(p);
	ck_assert_int_eq(tc_srv_restart(&srv), 0);
	p = tc_connect(srv.port);
	ck_assert_int_eq(tc_logon(p, "torn", &seq), 0);
	ck_assert_uint_eq(seq, 4);
	tc_close(p);
	STOP();
}
END_TEST

/* 7.6: --dup-ack failure answers duplicates with failure/duplicate. */
START_TEST(duplicate_failure_mode)
{
	const char	*args[] = { "--dup-ack", "failure", "--ack-conflation",
			    "0", NULL };
	struct tc	*p;

	START(args);
	p = CLIENT("d");
	tc_send(p, "{\"c\":\"p\",\"cid\":\"1\",\"t\":\"x\",\"a\":\"persisted\","
	    "\"s\":1}", "{}");
	EXPECT_ACK(p, "persisted", "success");
	tc_send(p, "{\"c\":\"p\",\"cid\":\"2\",\"t\":\"x\",\"a\":\"persisted\","
	    "\"s\":1}", "{}");
	EXPECT_ACK(p, "persisted", "failure");
	ck_assert_str_eq(tc_str(p, AMPS_F_REASON), "duplicate");
	ck_assert_uint_eq(tc_num(p, AMPS_F_S), 1);
	CLOSE(p);
	STOP();
}
END_TEST

/* 12: malformed frames and unknown commands close only that client. */
START_TEST(bad_input)
{
	struct tc	*good, *bad;
	static const char garbage[] = "\x00\x00\x00\x05hello";
	static const char huge[] = "\xff\xff\xff\xff{}";

	START(NULL);
	good = CLIENT("good");
	bad = CLIENT("bad1");
	tc_send_raw(bad, garbage, sizeof garbage - 1);
	ck_assert(tc_wait_closed(bad, 3000));
	CLOSE(bad);
	bad = CLIENT("bad2");
	tc_send(bad, "{\"c\":\"frobnicate\",\"cid\":\"1\"}", NULL);
	ck_assert(tc_wait_closed(bad, 3000));
	CLOSE(bad);
	bad = CLIENT("bad3");
	tc_send_raw(bad, huge, sizeof huge - 1);
	ck_assert(tc_wait_closed(bad, 3000));
	CLOSE(bad);
	bad = CLIENT("bad4");
	tc_send(bad, "{\"c\":\"p\",\"t\":\"a\\q\"}", "{}");
	ck_assert(tc_wait_closed(bad, 3000));
	CLOSE(bad);
	BARRIER(good);
	CLOSE(good);
	STOP();
}
END_TEST

/* Feed every frame of the fuzz corpus; ampsim must survive. */
START_TEST(fuzz_corpus)
{
	struct tc	*t, *good;
	DIR		*d;
	struct dirent	*de;
	char		 dir[1024], path[2048], buf[65536];
	const char	*src = getenv("top_srcdir");
	FILE		*f;
	size_t		 n, files = 0;

	START(NULL);
	snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/frame",
	    src ? src : ".");
	if ((d = opendir(dir)) == NULL) {
		STOP();
		return;		/* corpus not there yet */
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		n = fread(buf, 1, sizeof buf, f);
		fclose(f);
		/* Raw, before logon, and after logon. */
		t = tc_connect(srv.port);
		ck_assert_ptr_nonnull(t);
		tc_send_raw(t, buf, n);
		tc_recv(t, 50);
		CLOSE(t);
		t = CLIENT("fuzz");
		tc_send_raw(t, buf, n);
		tc_recv(t, 50);
		CLOSE(t);
		files++;
	}
	closedir(d);
	good = CLIENT("survivor");
	BARRIER(good);
	CLOSE(good);
	ck_assert_int_eq(tc_admin(&srv, "ping", NULL, 0), 0);
	ck_assert(files > 0);
	STOP();
}
END_TEST

/* A deterministic pseudo-random generator for the command storm. */
static uint32_t
storm_rand(uint32_t *st)
{
	*st = *st * 1103515245u + 12345u;
	return ((*st >> 16) & 0x7fff);
}

#define PICK(st, a)	((a)[storm_rand(st) % (sizeof (a) / sizeof (a)[0])])

/* Random but well-formed commands with odd values; ampsim must live. */
START_TEST(command_storm)
{
	static const char *cmds[] = { "p", "publish", "delta_publish",
	    "subscribe", "delta_subscribe", "sow", "sow_and_subscribe",
	    "sow_and_delta_subscribe", "sow_delete", "unsubscribe", "flush",
	    "heartbeat", "ack", "logon", "start_timer" };
	static const char *topics[] = { "orders", "work", "work-in", "log",
	    ".*", "^ord", "(bad", "orders|log", "" };
	static const char *filters[] = { "/id > 1", "/qty >>> 1", "1=1",
	    "/a IN (1,2)", "NOT /x IS NULL", "((((", "" };
	static const char *opts[] = { "oof", "replace", "pause", "resume",
	    "max_backlog=2", "conflation=10ms", "select=[-/,+/id]",
	    "top_n=2", "skip_n=1,oof", "bookmark_not_found=fail", "rate=5",
	    "rate=1KB", "cancel", "expire", "start,1", "stop", "[[[", "" };
	static const char *bms[] = { "0", "0|1|", "123|4|",
	    "20200101T000000Z", "[0:29990101T000000Z)", "garbage",
	    "1|1|,2|2|", "" };
	static const char *acks[] = { "processed", "persisted",
	    "completed,stats", "received,processed,persisted,completed,stats",
	    "bogus", "" };
	static const char *data[] = { "", "{\"id\":1,\"qty\":5}",
	    "{\"id\":2,\"a\":{\"b\":[1,2]}}", "not json", "{\"job\":1}",
	    "[1,2]" };
	struct tc	*t;
	uint32_t	 st = 20261122;
	char		 hdr[1024], name[16];
	int		 conn, i;

	START(NULL);
	for (conn = 0; conn < 30; conn++) {
		t = tc_connect(srv.port);
		ck_assert_ptr_nonnull(t);
		snprintf(name, sizeof name, "storm%u", storm_rand(&st) % 4);
		tc_sendf(t, NULL, "{\"c\":\"logon\",\"cid\":\"0\","
		    "\"client_name\":\"%s\",\"a\":\"processed\"}", name);
		for (i = 0; i < 150; i++) {
			snprintf(hdr, sizeof hdr, "{\"c\":\"%s\",\"cid\":"
			    "\"%d\",\"t\":\"%s\",\"f\":\"%s\",\"o\":\"%s\","
			    "\"bm\":\"%s\",\"a\":\"%s\",\"s\":%u,"
			    "\"sub_id\":\"%u\",\"bs\":%u,\"top_n\":%u}",
			    PICK(&st, cmds), i, PICK(&st, topics),
			    PICK(&st, filters), PICK(&st, opts),
			    PICK(&st, bms), PICK(&st, acks),
			    storm_rand(&st) % 20, storm_rand(&st) % 3,
			    storm_rand(&st) % 12, storm_rand(&st) % 4);
			if (storm_rand(&st) % 4 == 0)
				memmove(hdr + 1, hdr + 1 + storm_rand(&st) % 3,
				    strlen(hdr + 1));	/* some get mangled */
			if (tc_send(t, hdr, PICK(&st, data)) != 0)
				break;
		}
		tc_recv(t, 20);
		tc_close(t);
	}
	t = CLIENT("after-the-storm");
	BARRIER(t);
	ck_assert_int_eq(tc_admin(&srv, "ping", NULL, 0), 0);
	STOP();
}
END_TEST

/* 31: byte-by-byte writes and 50 frames per write decode correctly. */
START_TEST(framing_faults)
{
	struct tc	*p, *s;
	int		 i;

	START(NULL);
	s = CLIENT("s31");
	p = CLIENT("p31");
	tc_send(s, "{\"c\":\"subscribe\",\"cid\":\"1\",\"t\":\"f\","
	    "\"a\":\"processed\"}", NULL);
	EXPECT_ACK(s, "processed", "success");
	ck_assert_int_eq(tc_admin(&srv, "fault write_bytewise=1", NULL, 0), 0);
	tc_send(p, "{\"c\":\"p\",\"t\":\"f\"}", "{\"bytewise\":true}");
	RECV(s);
	ck_assert_str_eq(tc_payload(s), "{\"bytewise\":true}");
	ck_assert_int_eq(tc_admin(&srv, "fault write_bytewise=0", NULL, 0), 0);
	ck_assert_int_eq(tc_admin(&srv, "fault write_batch=50", NULL, 0), 0);
	for (i = 0; i < 50; i++)
		tc_sendf(p, "{\"i\":1}", "{\"c\":\"p\",\"t\":\"f\"}");
	for (i = 0; i < 50; i++) {
		RECV(s);
		ck_assert(tc_is(s, "p", NULL));
	}
	ck_assert_int_eq(tc_admin(&srv, "fault write_batch=0", NULL, 0), 0);
	CLOSE(p);
	CLOSE(s);
	STOP();
}
END_TEST

/* Fault: quoted numbers, drop after N frames, disconnect by name. */
START_TEST(misc_faults)
{
	struct tc	*t;
	char		 reply[256];

	START(NULL);
	ck_assert_int_eq(tc_admin(&srv, "fault quote_numbers=1", NULL, 0), 0);
	t = CLIENT("q");
	ck_assert(tc_str(t, AMPS_F_S)[0] == '0');
	ck_assert(t->h.v[AMPS_F_S].quoted);
	CLOSE(t);
	ck_assert_int_eq(tc_admin(&srv, "fault quote_numbers=0", NULL, 0), 0);
	t = CLIENT("victim");
	ck_assert_int_eq(tc_admin(&srv, "disconnect victim", reply,
	    sizeof reply), 0);
	ck_assert_str_eq(reply, "ok 1\n");
	ck_assert(tc_wait_closed(t, 3000));
	CLOSE(t);
	ck_assert_int_eq(tc_admin(&srv, "fault drop_on_cmd=sow", NULL, 0), 0);
	t = CLIENT("d2");
	tc_send(t, "{\"c\":\"sow\",\"cid\":\"1\",\"t\":\"orders\"}", NULL);
	ck_assert(tc_wait_closed(t, 3000));
	CLOSE(t);
	ck_assert_int_eq(tc_admin(&srv, "fault deny_acks=processed", NULL,
	    0), 0);
	t = CLIENT_NOACK("d3");
	tc_send(t, "{\"c\":\"flush\",\"cid\":\"1\",\"a\":\"processed,"
	    "completed\"}", NULL);
	EXPECT_ACK(t, "completed", "success");
	CLOSE(t);
	STOP();
}
END_TEST

/* Unix-domain transport. */
START_TEST(unix_socket)
{
	char		 path[512];
	const char	*args[] = { "--unix", path, NULL };
	struct tc	*t;

	snprintf(path, sizeof path, "/tmp/ampsim-unix-%d.sock", (int)getpid());
	START(args);
	t = tc_connect_unix(path);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(tc_logon(t, "u", NULL), 0);
	BARRIER(t);
	CLOSE(t);
	STOP();
	unlink(path);
}
END_TEST

/* The suite. */
static Suite *
suite(void)
{
	Suite	*s = suite_create("ampsim conformance: sessions");
	TCase	*tc = tcase_create("sessions");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, logon_success);
	tcase_add_test(tc, logon_auth_failure);
	tcase_add_test(tc, logon_retry);
	tcase_add_test(tc, name_in_use_same_user);
	tcase_add_test(tc, name_in_use_other_user);
	tcase_add_test(tc, logon_required);
	tcase_add_test(tc, heartbeat);
	tcase_add_test(tc, publish_fire_and_forget);
	tcase_add_test(tc, persisted_conflated);
	tcase_add_test(tc, persisted_immediate);
	tcase_add_test(tc, persisted_failure_split);
	tcase_add_test(tc, replay_and_restart);
	tcase_add_test(tc, duplicate_failure_mode);
	tcase_add_test(tc, torn_log_tail);
	tcase_add_test(tc, bad_input);
	tcase_add_test(tc, fuzz_corpus);
	tcase_add_test(tc, command_storm);
	tcase_add_test(tc, framing_faults);
	tcase_add_test(tc, misc_faults);
	tcase_add_test(tc, unix_socket);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite. */
int
main(void)
{
	return (check_main(suite()));
}
