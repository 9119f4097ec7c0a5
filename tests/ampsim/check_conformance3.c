/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Conformance tests for ampsim, part 3: timers and less common paths —
 * expiration, conflation, queue leases, slow clients, pause/resume,
 * bookmark persisted acks, top_n and timestamps on replays, the `ack`
 * command form, delayed acks, drop-after-N-frames, TLS.
 */

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <openssl/ssl.h>

#include "conformance.h"
#include "testutil.h"

/* Records expire with OOF `expired` carrying the previous state. */
START_TEST(expiration)
{
	struct tc	*s, *p;

	START(NULL);
	s = CLIENT("s");
	p = CLIENT("p");
	tc_send(s, "{\"c\":\"sow_and_subscribe\",\"cid\":\"1\",\"t\":"
	    "\"orders\",\"a\":\"processed\",\"o\":\"oof\"}", NULL);
	EXPECT_ACK(s, "processed", "success");
	EXPECT_CMD(s, "group_begin");
	EXPECT_CMD(s, "group_end");
	tc_send(p, "{\"c\":\"p\",\"t\":\"orders\",\"e\":1}",
	    "{\"id\":1,\"v\":\"old\"}");
	EXPECT_CMD(s, "p");
	EXPECT_CMD(s, "oof");
	ck_assert_str_eq(tc_str(s, AMPS_F_REASON), "expired");
	ck_assert_str_eq(tc_payload(s), "{\"id\":1,\"v\":\"old\"}");
	tc_send(p, "{\"c\":\"sow\",\"cid\":\"q\",\"t\":\"orders\"}", NULL);
	EXPECT_CMD(p, "group_begin");
	EXPECT_CMD(p, "group_end");
	STOP();
}
END_TEST

/* Conflation: three updates within the interval give one message. */
START_TEST(conflation)
{
	struct tc	*s, *p;
	int		 i, oofs = 0;

	START(NULL);
	s = CLIENT("s");
	p = CLIENT("p");
	tc_send(s, "{\"c\":\"subscribe\",\"cid\":\"1\",\"t\":\"orders\","
	    "\"a\":\"processed\",\"o\":\"conflation=200ms\"}", NULL);
	EXPECT_ACK(s, "processed", "success");
	tc_send(p, "{\"c\":\"p\",\"t\":\"orders\"}", "{\"id\":1,\"q\":1}");
	tc_send(p, "{\"c\":\"p\",\"t\":\"orders\"}", "{\"id\":1,\"q\":2}");
	tc_send(p, "{\"c\":\"p\",\"t\":\"orders\"}", "{\"id\":1,\"q\":3}");
	BARRIER(p);
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_payload(s), "{\"id\":1,\"q\":3}");
	tc_send(p, "{\"c\":\"p\",\"t\":\"orders\"}", "{\"id\":1,\"q\":4}");
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_payload(s), "{\"id\":1,\"q\":4}");
	/* Out of focus and back within one interval: only the final state;
	 * an OOF carries the data the subscriber last received (§9.5). */
	tc_send(s, "{\"c\":\"subscribe\",\"cid\":\"2\",\"t\":\"orders\","
	    "\"a\":\"processed\",\"f\":\"/q > 0\","
	    "\"o\":\"oof,conflation=200ms\"}", NULL);
	EXPECT_ACK(s, "processed", "success");
	tc_send(p, "{\"c\":\"p\",\"t\":\"orders\"}", "{\"id\":1,\"q\":0}");
	tc_send(p, "{\"c\":\"p\",\"t\":\"orders\"}", "{\"id\":1,\"q\":5}");
	/* Both subscriptions: exactly one p with q=5 each (the two
	 * conflation timers may fire in either order). */
	for (i = 0; i < 2; i++) {
		EXPECT_CMD(s, "p");
		ck_assert_str_eq(tc_payload(s), "{\"id\":1,\"q\":5}");
	}
	tc_send(p, "{\"c\":\"p\",\"t\":\"orders\"}", "{\"id\":1,\"q\":-1}");
	for (i = 0; i < 2; i++) {
		RECV(s);
		if (tc_is(s, "oof", NULL)) {
			ck_assert_str_eq(tc_str(s, AMPS_F_SUB_ID), "2");
			ck_assert_str_eq(tc_payload(s), "{\"id\":1,\"q\":5}");
			oofs++;
		} else
			ck_assert_str_eq(tc_str(s, AMPS_F_SUB_ID), "1");
	}
	ck_assert_int_eq(oofs, 1);
	STOP();
}
END_TEST

/* An unacknowledged lease expires; another subscriber gets it. */
START_TEST(queue_lease_expiry)
{
	const char	*args[] = { "--conf-line", "txlog .*", "--conf-line",
			    "queue q topic=qin lease=300ms backlog=5", NULL };
	struct tc	*a, *b, *p;
	char		 bm[64];

	START(args);
	a = CLIENT("a");
	b = CLIENT("b");
	p = CLIENT("p");
	tc_send(a, "{\"c\":\"subscribe\",\"cid\":\"1\",\"t\":\"q\","
	    "\"a\":\"processed\"}", NULL);
	EXPECT_ACK(a, "processed", "success");
	ck_assert_str_eq(tc_str(a, AMPS_F_O), "max_backlog=1");
	tc_send(p, "{\"c\":\"p\",\"t\":\"qin\"}", "{\"job\":1}");
	EXPECT_CMD(a, "p");
	snprintf(bm, sizeof bm, "%s", tc_str(a, AMPS_F_BM));
	tc_send(b, "{\"c\":\"subscribe\",\"cid\":\"1\",\"t\":\"q\","
	    "\"a\":\"processed\",\"o\":\"max_backlog=3\"}", NULL);
	EXPECT_ACK(b, "processed", "success");
	ck_assert_str_eq(tc_str(b, AMPS_F_O), "max_backlog=3");
	EXPECT_CMD(b, "p");
	ck_assert_str_eq(tc_str(b, AMPS_F_BM), bm);
	/* The `ack` command form (Go client) acknowledges it. */
	tc_sendf(b, NULL, "{\"c\":\"ack\",\"t\":\"q\",\"bm\":\"%s\"}", bm);
	tc_send(b, "{\"c\":\"sow\",\"cid\":\"s\",\"t\":\"q\","
	    "\"a\":\"completed\"}", NULL);
	EXPECT_CMD(b, "group_begin");
	EXPECT_CMD(b, "group_end");
	EXPECT_ACK(b, "completed", "success");
	STOP();
}
END_TEST

/* A client that does not read is disconnected past the output limit. */
START_TEST(slow_client)
{
	const char	*args[] = { "--out-limit", "65536", NULL };
	struct tc	*s, *p;
	char		 big[1100], reply[256];
	int		 i;

	START(args);
	s = CLIENT("slow");
	p = CLIENT("fast");
	tc_send(s, "{\"c\":\"subscribe\",\"cid\":\"1\",\"t\":\"t\","
	    "\"a\":\"processed\"}", NULL);
	EXPECT_ACK(s, "processed", "success");
	memset(big, 'x', sizeof big - 1);
	big[0] = '"';
	big[sizeof big - 2] = '"';
	big[sizeof big - 1] = '\0';
	for (i = 0; i < 4000; i++)
		tc_send(p, "{\"c\":\"p\",\"t\":\"t\"}", big);
	BARRIER(p);
	ck_assert_int_eq(tc_admin(&srv, "clients", reply, sizeof reply), 0);
	ck_assert_str_eq(reply, "ok 1 fast\n");
	ck_assert(tc_wait_closed(s, 10000));
	STOP();
}
END_TEST

/*
 * A delta_publish whose merged record would outgrow --frame-max is
 * refused with a failure ack; the record, its subscribers and the
 * server are as before, and a delta that fits still merges.
 */
START_TEST(delta_merge_too_large)
{
	const char	*args[] = { "--frame-max", "4096", NULL };
	struct tc	*s, *p;
	char		 big[2100], data[2200];

	START(args);
	s = CLIENT("s");
	p = CLIENT("p");
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	snprintf(data, sizeof data, "{\"id\":1,\"a\":\"%s\"}", big);
	tc_send(p, "{\"c\":\"p\",\"t\":\"orders\"}", data);
	BARRIER(p);
	tc_send(s, "{\"c\":\"subscribe\",\"cid\":\"1\",\"sub_id\":\"1\","
	    "\"t\":\"orders\",\"a\":\"processed\"}", NULL);
	EXPECT_ACK(s, "processed", "success");
	/* Each frame fits; the merge (about 4.2 KB) does not. */
	snprintf(data, sizeof data, "{\"id\":1,\"b\":\"%s\"}", big);
	tc_send(p, "{\"c\":\"delta_publish\",\"t\":\"orders\","
	    "\"cid\":\"d1\",\"a\":\"processed\"}", data);
	EXPECT_ACK(p, "processed", "failure");
	ck_assert_str_eq(tc_str(p, AMPS_F_REASON), "message too large");
	/* A delta that fits merges into the record as it was. */
	tc_send(p, "{\"c\":\"delta_publish\",\"t\":\"orders\","
	    "\"cid\":\"d2\",\"a\":\"processed\"}", "{\"id\":1,\"q\":5}");
	EXPECT_ACK(p, "processed", "success");
	EXPECT_CMD(s, "p");
	ck_assert(strstr(tc_payload(s), "\"q\":5") != NULL);
	ck_assert(strstr(tc_payload(s), "\"b\"") == NULL);
	ck_assert(strstr(tc_payload(s), big) != NULL);
	BARRIER(s);
	STOP();
}
END_TEST

/* Paused bookmark subscription replays on resume; top_n; persisted. */
START_TEST(pause_resume_topn_persisted)
{
	const char	*args[] = { "--bm-persisted-interval", "100", NULL };
	struct tc	*s, *p;
	int		 i;

	START(args);
	p = CLIENT("p");
	for (i = 1; i <= 4; i++)
		tc_sendf(p, "{}", "{\"c\":\"p\",\"t\":\"log\",\"s\":%d}", i);
	BARRIER(p);
	s = CLIENT("s");
	tc_send(s, "{\"c\":\"subscribe\",\"cid\":\"1\",\"sub_id\":\"r\","
	    "\"t\":\"log\",\"bm\":\"0\",\"a\":\"processed\",\"o\":\"pause\"}",
	    NULL);
	EXPECT_ACK(s, "processed", "success");
	BARRIER(s);
	tc_send(s, "{\"c\":\"subscribe\",\"cid\":\"2\",\"sub_id\":\"r\","
	    "\"a\":\"processed\",\"o\":\"resume\"}", NULL);
	EXPECT_ACK(s, "processed", "success");
	for (i = 1; i <= 4; i++)
		EXPECT_CMD(s, "p");
	tc_send(s, "{\"c\":\"subscribe\",\"cid\":\"3\",\"sub_id\":\"t\","
	    "\"t\":\"log\",\"bm\":\"0\",\"top_n\":2,\"a\":\"processed,"
	    "completed,persisted\"}", NULL);
	EXPECT_ACK(s, "processed", "success");
	EXPECT_CMD(s, "p");
	EXPECT_CMD(s, "p");
	EXPECT_ACK(s, "completed", "success");
	EXPECT_ACK(s, "persisted", "success");
	ck_assert_str_eq(tc_str(s, AMPS_F_SUB_ID), "t");
	ck_assert_str_eq(tc_str(s, AMPS_F_CID), "3");
	ck_assert(strstr(tc_str(s, AMPS_F_BM), "|4|") != NULL);
	STOP();
}
END_TEST

/*
 * A bookmark subscription that went live, then paused and resumed,
 * replays only what was logged while it was paused: the live messages
 * it already had do not come again.
 */
START_TEST(pause_live_resume)
{
	struct tc	*s, *p;

	START(NULL);
	p = CLIENT("p");
	s = CLIENT("s");
	tc_send(s, "{\"c\":\"subscribe\",\"cid\":\"1\",\"sub_id\":\"r\","
	    "\"t\":\"log\",\"bm\":\"0\",\"a\":\"processed,completed\"}", NULL);
	EXPECT_ACK(s, "processed", "success");
	EXPECT_ACK(s, "completed", "success");
	tc_send(p, "{\"c\":\"p\",\"t\":\"log\"}", "{\"n\":1}");
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_payload(s), "{\"n\":1}");
	tc_send(s, "{\"c\":\"subscribe\",\"cid\":\"2\",\"sub_id\":\"r\","
	    "\"a\":\"processed\",\"o\":\"pause\"}", NULL);
	EXPECT_ACK(s, "processed", "success");
	tc_send(p, "{\"c\":\"p\",\"t\":\"log\"}", "{\"n\":2}");
	BARRIER(p);
	tc_send(s, "{\"c\":\"subscribe\",\"cid\":\"3\",\"sub_id\":\"r\","
	    "\"a\":\"processed\",\"o\":\"resume\"}", NULL);
	EXPECT_ACK(s, "processed", "success");
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_payload(s), "{\"n\":2}");
	tc_send(p, "{\"c\":\"p\",\"t\":\"log\"}", "{\"n\":3}");
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_payload(s), "{\"n\":3}");
	STOP();
}
END_TEST

/* Timestamp bookmarks: the past replays everything, the future nothing. */
START_TEST(timestamp_bookmarks)
{
	struct tc	*s, *p;

	START(NULL);
	p = CLIENT("p");
	tc_send(p, "{\"c\":\"p\",\"t\":\"log\"}", "{\"a\":1}");
	tc_send(p, "{\"c\":\"p\",\"t\":\"log\"}", "{\"a\":2}");
	BARRIER(p);
	s = CLIENT("s");
	tc_send(s, "{\"c\":\"subscribe\",\"cid\":\"1\",\"t\":\"log\","
	    "\"bm\":\"20000101T000000Z\",\"a\":\"processed,completed\"}",
	    NULL);
	EXPECT_ACK(s, "processed", "success");
	EXPECT_CMD(s, "p");
	EXPECT_CMD(s, "p");
	EXPECT_ACK(s, "completed", "success");
	tc_send(s, "{\"c\":\"subscribe\",\"cid\":\"2\",\"t\":\"log\","
	    "\"bm\":\"29990101T000000Z\",\"a\":\"processed,completed\"}",
	    NULL);
	EXPECT_ACK(s, "processed", "success");
	EXPECT_ACK(s, "completed", "success");
	STOP();
}
END_TEST

/* Delayed acks and dropping after N frames. */
START_TEST(delay_and_drop)
{
	struct tc	*t;

	START(NULL);
	t = CLIENT("t");
	ck_assert_int_eq(tc_admin(&srv, "fault delay_ms=300", NULL, 0), 0);
	ck_assert_int_eq(tc_admin(&srv, "fault delay_acks=processed", NULL,
	    0), 0);
	tc_send(t, "{\"c\":\"subscribe\",\"cid\":\"1\",\"t\":\"x\","
	    "\"a\":\"processed\"}", NULL);
	tc_send(t, "{\"c\":\"flush\",\"cid\":\"2\",\"a\":\"completed\"}",
	    NULL);
	EXPECT_ACK(t, "completed", "success");	/* overtakes the delayed */
	EXPECT_ACK(t, "processed", "success");
	ck_assert_str_eq(tc_str(t, AMPS_F_CID), "1");
	ck_assert_int_eq(tc_admin(&srv, "fault delay_acks=0", NULL, 0), 0);
	ck_assert_int_eq(tc_admin(&srv, "fault drop_after_frames=3", NULL,
	    0), 0);
	CLOSE(t);
	t = CLIENT("u");			/* frame 1 */
	tc_send(t, "{\"c\":\"flush\",\"cid\":\"a\",\"a\":\"processed\"}",
	    NULL);				/* frame 2 */
	EXPECT_ACK(t, "processed", "success");
	tc_send(t, "{\"c\":\"flush\",\"cid\":\"b\",\"a\":\"processed\"}",
	    NULL);				/* frame 3: dropped */
	ck_assert(tc_wait_closed(t, 3000));
	STOP();
}
END_TEST

/* TLS: a logon over tcps. */
START_TEST(tls_logon)
{
	char		 cert[600], key[600], cmd[2048], port_s[16];
	const char	*args[] = { "--tls-port", "0", "--tls-cert", cert,
			    "--tls-key", key, NULL };
	char		 dir[] = "/tmp/ampsim-tls.XXXXXX", buf[4096];
	SSL_CTX		*ctx;
	SSL		*ssl;
	struct sockaddr_in sin;
	FILE		*f;
	int		 fd, n, got = 0, tls_port = -1;
	static const char logon[] =
	    "{\"c\":\"logon\",\"cid\":\"0\",\"client_name\":\"tls\","
	    "\"a\":\"processed\"}";

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cert, sizeof cert, "%s/cert.pem", dir);
	snprintf(key, sizeof key, "%s/key.pem", dir);
	snprintf(cmd, sizeof cmd, "openssl req -x509 -newkey rsa:2048 -nodes "
	    "-keyout %s -out %s -days 1 -subj /CN=localhost >/dev/null 2>&1",
	    key, cert);
	if (system(cmd) != 0) {
		fprintf(stderr, "tls_logon: no openssl command, skipped\n");
		return;
	}
	START(args);
	snprintf(cmd, sizeof cmd, "%s/port", srv.dir);
	ck_assert_ptr_nonnull(f = fopen(cmd, "r"));
	while (fgets(buf, sizeof buf, f) != NULL)
		if (sscanf(buf, "tls=%15s", port_s) == 1)
			tls_port = atoi(port_s);
	fclose(f);
	ck_assert_int_gt(tls_port, 0);
	ctx = SSL_CTX_new(TLS_client_method());
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)tls_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	ck_assert_int_eq(SSL_connect(ssl), 1);
	amps_frame_put_len(buf, sizeof logon - 1);
	memcpy(buf + 4, logon, sizeof logon - 1);
	ck_assert_int_eq(SSL_write(ssl, buf, (int)(sizeof logon + 3)),
	    (int)(sizeof logon + 3));
	while (got < 4 || got < 4 + (int)(((unsigned char)buf[2] << 8) |
	    (unsigned char)buf[3])) {
		n = SSL_read(ssl, buf + got, (int)sizeof buf - got - 1);
		ck_assert_int_gt(n, 0);
		got += n;
	}
	buf[got] = '\0';
	ck_assert(strstr(buf + 4, "\"status\":\"success\"") != NULL);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	STOP();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Ranges: [b2:b4] replays 2..4 then completed, nothing live. */
START_TEST(bookmark_range)
{
	struct tc	*s, *p;
	char		 b[6][64];
	int		 i;

	START(NULL);
	p = CLIENT("rp");
	for (i = 1; i <= 5; i++) {
		tc_sendf(p, "{}", "{\"c\":\"p\",\"t\":\"log\",\"s\":%d}", i);
		snprintf(b[i], sizeof b[i], "%llu|%d|", (unsigned long long)
		    amps_name_hash("rp", 2), i);
	}
	BARRIER(p);
	s = CLIENT("rs");
	tc_sendf(s, NULL, "{\"c\":\"subscribe\",\"cid\":\"1\",\"t\":\"log\","
	    "\"bm\":\"[%s:%s]\",\"a\":\"processed,completed\"}", b[2], b[4]);
	EXPECT_ACK(s, "processed", "success");
	for (i = 2; i <= 4; i++) {
		EXPECT_CMD(s, "p");
		ck_assert_str_eq(tc_str(s, AMPS_F_BM), b[i]);
	}
	EXPECT_ACK(s, "completed", "success");
	tc_sendf(s, NULL, "{\"c\":\"subscribe\",\"cid\":\"2\",\"t\":\"log\","
	    "\"bm\":\"(%s:%s)\",\"a\":\"processed,completed\"}", b[1], b[4]);
	EXPECT_ACK(s, "processed", "success");
	for (i = 2; i <= 3; i++) {
		EXPECT_CMD(s, "p");
		ck_assert_str_eq(tc_str(s, AMPS_F_BM), b[i]);
	}
	EXPECT_ACK(s, "completed", "success");
	/* Open-ended in time: live until the end time, which is far away. */
	tc_sendf(s, NULL, "{\"c\":\"subscribe\",\"cid\":\"3\",\"t\":\"log\","
	    "\"bm\":\"[%s:29990101T000000Z)\",\"a\":\"processed\"}", b[5]);
	EXPECT_ACK(s, "processed", "success");
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_str(s, AMPS_F_BM), b[5]);
	tc_send(p, "{\"c\":\"p\",\"t\":\"log\",\"s\":6}", "{}");
	EXPECT_CMD(s, "p");
	BARRIER(p);
	BARRIER(s);
	STOP();
}
END_TEST

/* A bookmark subscription to a queue replays its topic, no leases. */
START_TEST(queue_bookmark_replay)
{
	struct tc	*s, *p;
	char		 reply[64];

	START(NULL);
	p = CLIENT("p");
	tc_send(p, "{\"c\":\"p\",\"t\":\"work-in\"}", "{\"job\":1}");
	BARRIER(p);
	s = CLIENT("s");
	tc_send(s, "{\"c\":\"subscribe\",\"cid\":\"1\",\"t\":\"work\","
	    "\"bm\":\"0\",\"a\":\"processed,completed\"}", NULL);
	EXPECT_ACK(s, "processed", "success");
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_str(s, AMPS_F_T), "work-in");
	ck_assert(!tc_has(s, AMPS_F_LP));
	EXPECT_ACK(s, "completed", "success");
	/* Run-time switch: sids. */
	ck_assert_int_eq(tc_admin(&srv, "fault sids=1", reply, sizeof reply),
	    0);
	tc_send(p, "{\"c\":\"p\",\"t\":\"work-in\"}", "{\"job\":2}");
	EXPECT_CMD(s, "p");
	ck_assert(!tc_has(s, AMPS_F_SIDS));	/* bookmark subs keep sub_id */
	STOP();
}
END_TEST

/* Long ids and correlation ids are echoed intact (no fixed buffers). */
START_TEST(long_fields)
{
	struct tc	*s, *p;
	char		 x[3001], id[1501], hdr[8192];

	memset(x, 'A', sizeof x - 1);
	x[sizeof x - 1] = '\0';
	memset(id, 'i', sizeof id - 1);
	id[sizeof id - 1] = '\0';
	START(NULL);
	s = CLIENT("s");
	p = CLIENT("p");
	snprintf(hdr, sizeof hdr, "{\"c\":\"subscribe\",\"cid\":\"%s\","
	    "\"t\":\"orders\",\"a\":\"processed\"}", id);
	tc_send(s, hdr, NULL);
	EXPECT_ACK(s, "processed", "success");
	ck_assert_str_eq(tc_str(s, AMPS_F_CID), id);
	snprintf(hdr, sizeof hdr, "{\"c\":\"p\",\"t\":\"orders\",\"x\":\"%s\"}",
	    x);
	tc_send(p, hdr, "{\"id\":1}");
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_str(s, AMPS_F_SUB_ID), id);
	ck_assert_str_eq(tc_str(s, AMPS_F_X), x);
	snprintf(hdr, sizeof hdr, "{\"c\":\"sow\",\"cid\":\"q\",\"t\":"
	    "\"orders\",\"query_id\":\"%s\"}", id);
	tc_send(p, hdr, NULL);
	EXPECT_CMD(p, "group_begin");
	ck_assert_str_eq(tc_str(p, AMPS_F_QUERY_ID), id);
	EXPECT_CMD(p, "sow");
	{
		struct amps_sow_iter it;
		struct amps_hdr	 rh;
		const char	*data;
		size_t		 dl;
		static char	 got[4096];

		amps_sow_begin(&it, &p->h, p->frame, p->flen);
		ck_assert_int_eq(amps_sow_next(&it, &rh, &data, &dl), 1);
		ck_assert_int_eq(amps_hdr_str(&rh, AMPS_F_X, got, sizeof got),
		    3000);
		ck_assert_str_eq(got, x);
	}
	EXPECT_CMD(p, "group_end");
	STOP();
}
END_TEST

/* A configuration file: user keys, composite keys, txlog, queues. */
START_TEST(config_file)
{
	char		 dir[] = "/tmp/ampsim-conf.XXXXXX", path[256], cmd[300];
	const char	*args[] = { "-c", path, NULL };
	struct tc	*t;
	FILE		*f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/ampsim.conf", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f, "# test configuration\n"
	    "sow items user_keys\n"
	    "sow pos key=/acct,/sym\n"
	    "txlog items\n"
	    "queue jobs topic=jobs-in semantics=at-most-once backlog=3\n");
	fclose(f);
	START(args);
	t = CLIENT("t");
	tc_send(t, "{\"c\":\"p\",\"cid\":\"1\",\"t\":\"items\",\"k\":\"abc\","
	    "\"a\":\"processed\"}", "{\"v\":1}");
	EXPECT_ACK(t, "processed", "success");
	tc_send(t, "{\"c\":\"p\",\"cid\":\"2\",\"t\":\"items\","
	    "\"a\":\"processed\"}", "{\"v\":2}");
	EXPECT_ACK(t, "processed", "failure");
	tc_send(t, "{\"c\":\"sow\",\"cid\":\"3\",\"t\":\"items\"}", NULL);
	EXPECT_CMD(t, "group_begin");
	EXPECT_CMD(t, "sow");
	ck_assert(strstr(t->frame, "\"k\":\"abc\"") != NULL);
	EXPECT_CMD(t, "group_end");
	tc_send(t, "{\"c\":\"p\",\"t\":\"pos\"}", "{\"acct\":1,\"sym\":\"A\"}");
	tc_send(t, "{\"c\":\"p\",\"t\":\"pos\"}", "{\"acct\":1,\"sym\":\"B\"}");
	tc_send(t, "{\"c\":\"p\",\"t\":\"pos\"}", "{\"acct\":1,\"sym\":\"A\",\"q\":2}");
	tc_send(t, "{\"c\":\"sow\",\"cid\":\"4\",\"t\":\"pos\",\"bs\":10}", NULL);
	EXPECT_CMD(t, "group_begin");
	EXPECT_CMD(t, "sow");
	ck_assert_uint_eq(tc_num(t, AMPS_F_BS), 2);
	EXPECT_CMD(t, "group_end");
	tc_send(t, "{\"c\":\"subscribe\",\"cid\":\"5\",\"t\":\"pos\","
	    "\"bm\":\"0\",\"a\":\"processed\"}", NULL);
	EXPECT_ACK(t, "processed", "failure");
	ck_assert_str_eq(tc_str(t, AMPS_F_REASON), "invalid topic");
	tc_send(t, "{\"c\":\"subscribe\",\"cid\":\"6\",\"t\":\"jobs\","
	    "\"a\":\"processed\",\"o\":\"max_backlog=9\"}", NULL);
	EXPECT_ACK(t, "processed", "success");
	ck_assert_str_eq(tc_str(t, AMPS_F_O), "max_backlog=3");
	tc_send(t, "{\"c\":\"p\",\"t\":\"jobs-in\"}", "{\"j\":1}");
	EXPECT_CMD(t, "p");
	ck_assert_str_eq(tc_str(t, AMPS_F_T), "jobs");
	ck_assert(tc_has(t, AMPS_F_BM) && tc_has(t, AMPS_F_LP));
	STOP();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Monotonic milliseconds. */
static long long
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Replay rates: messages/s, bytes/s; all messages still arrive. */
START_TEST(replay_rates)
{
	struct tc	*s, *p;
	long long	 t0, el;
	int		 i;
	char		 d[256];

	START(NULL);
	p = CLIENT("p");
	memset(d, 'x', sizeof d - 1);
	d[0] = '"';
	d[199] = '"';
	d[200] = '\0';
	for (i = 0; i < 10; i++)
		tc_send(p, "{\"c\":\"p\",\"t\":\"log\"}", d);
	BARRIER(p);
	s = CLIENT("s");
	t0 = mono_ms();
	tc_send(s, "{\"c\":\"subscribe\",\"cid\":\"1\",\"t\":\"log\","
	    "\"bm\":\"0\",\"a\":\"processed,completed\",\"o\":\"rate=20\"}",
	    NULL);
	EXPECT_ACK(s, "processed", "success");
	for (i = 0; i < 10; i++)
		EXPECT_CMD(s, "p");
	EXPECT_ACK(s, "completed", "success");
	el = mono_ms() - t0;
	ck_assert_msg(el >= 430, "rate=20: 10 messages in %lld ms", el);
	t0 = mono_ms();
	tc_send(s, "{\"c\":\"subscribe\",\"cid\":\"2\",\"t\":\"log\","
	    "\"bm\":\"0\",\"a\":\"processed,completed\","
	    "\"o\":\"rate=4KB\"}", NULL);
	EXPECT_ACK(s, "processed", "success");
	for (i = 0; i < 10; i++)
		EXPECT_CMD(s, "p");
	EXPECT_ACK(s, "completed", "success");
	el = mono_ms() - t0;
	ck_assert_msg(el >= 250, "rate=4KB: 2000 bytes in %lld ms", el);
	tc_send(s, "{\"c\":\"subscribe\",\"cid\":\"3\",\"t\":\"log\","
	    "\"bm\":\"0\",\"a\":\"processed,completed\","
	    "\"o\":\"rate=2X,rate_max_gap=1s\"}", NULL);
	EXPECT_ACK(s, "processed", "success");
	for (i = 0; i < 10; i++)
		EXPECT_CMD(s, "p");
	EXPECT_ACK(s, "completed", "success");
	tc_send(s, "{\"c\":\"subscribe\",\"cid\":\"4\",\"t\":\"log\","
	    "\"bm\":\"0\",\"a\":\"processed\",\"o\":\"rate=fast\"}", NULL);
	EXPECT_ACK(s, "processed", "failure");
	STOP();
}
END_TEST

/* The suite. */
static Suite *
suite(void)
{
	Suite	*s = suite_create("ampsim conformance: timers and options");
	TCase	*tc = tcase_create("more");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, expiration);
	tcase_add_test(tc, conflation);
	tcase_add_test(tc, queue_lease_expiry);
	tcase_add_test(tc, slow_client);
	tcase_add_test(tc, delta_merge_too_large);
	tcase_add_test(tc, pause_resume_topn_persisted);
	tcase_add_test(tc, pause_live_resume);
	tcase_add_test(tc, timestamp_bookmarks);
	tcase_add_test(tc, delay_and_drop);
	tcase_add_test(tc, tls_logon);
	tcase_add_test(tc, bookmark_range);
	tcase_add_test(tc, queue_bookmark_replay);
	tcase_add_test(tc, long_fields);
	tcase_add_test(tc, config_file);
	tcase_add_test(tc, replay_rates);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite. */
int
main(void)
{
	return (check_main(suite()));
}
