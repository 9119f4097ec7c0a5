/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Conformance tests for ampsim, part 2: subscriptions, SOW, delta,
 * bookmarks and queues (PROTOCOL.md §17.4 scenarios 12-29 and 32).  Same rules
 * as part 1: a real server per test, deadlines, flush barriers.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "conformance.h"
#include "testutil.h"

/* Subscribe with acks processed; assert success. */
static void
subscribe(struct tc *t, const char *cmd, const char *id, const char *topic,
    const char *filter, const char *opts)
{
	char	f[512] = "", o[512] = "";

	if (filter != NULL)
		snprintf(f, sizeof f, ",\"f\":\"%s\"", filter);
	if (opts != NULL)
		snprintf(o, sizeof o, ",\"o\":\"%s\"", opts);
	tc_sendf(t, NULL, "{\"c\":\"%s\",\"cid\":\"%s\",\"sub_id\":\"%s\","
	    "\"t\":\"%s\",\"a\":\"processed\"%s%s}", cmd, id, id, topic, f, o);
	EXPECT_ACK(t, "processed", "success");
}

/* Publish a JSON payload to topic. */
static void
pub(struct tc *t, const char *topic, const char *data)
{
	tc_sendf(t, data, "{\"c\":\"p\",\"t\":\"%s\"}", topic);
}

/* 12: filter selects deliveries. */
START_TEST(subscribe_filter)
{
	struct tc	*s, *p;

	START(NULL);
	s = CLIENT("s");
	p = CLIENT("p");
	subscribe(s, "subscribe", "1", "orders", "/qty > 50", NULL);
	pub(p, "orders", "{\"id\":1,\"qty\":10}");
	pub(p, "orders", "{\"id\":2,\"qty\":100}");
	BARRIER(p);
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_payload(s), "{\"id\":2,\"qty\":100}");
	ck_assert(strlen(tc_str(s, AMPS_F_K)) > 0);
	BARRIER(s);
	STOP();
}
END_TEST

/* 13, 17: failure reasons of subscribe / sow. */
START_TEST(failures)
{
	struct tc	*t;

	START(NULL);
	t = CLIENT("f");
	tc_send(t, "{\"c\":\"subscribe\",\"cid\":\"1\",\"t\":\"orders\","
	    "\"a\":\"processed\",\"f\":\"/qty >>> 1\"}", NULL);
	EXPECT_ACK(t, "processed", "failure");
	ck_assert_str_eq(tc_str(t, AMPS_F_REASON), "bad filter");
	tc_send(t, "{\"c\":\"subscribe\",\"cid\":\"2\",\"t\":\"(orders\","
	    "\"a\":\"processed\"}", NULL);
	EXPECT_ACK(t, "processed", "failure");
	ck_assert_str_eq(tc_str(t, AMPS_F_REASON), "bad regex topic");
	tc_send(t, "{\"c\":\"sow\",\"cid\":\"3\",\"t\":\"nosow\","
	    "\"a\":\"processed,completed\"}", NULL);
	EXPECT_ACK(t, "processed", "failure");
	ck_assert_str_eq(tc_str(t, AMPS_F_REASON), "invalid topic");
	tc_send(t, "{\"c\":\"sow\",\"cid\":\"4\",\"t\":\"orders\","
	    "\"a\":\"processed\",\"bs\":10001}", NULL);
	EXPECT_ACK(t, "processed", "failure");
	tc_send(t, "{\"c\":\"subscribe\",\"cid\":\"5\",\"t\":\"x\","
	    "\"a\":\"processed\"}", NULL);
	EXPECT_ACK(t, "processed", "success");
	tc_send(t, "{\"c\":\"subscribe\",\"cid\":\"6\",\"sub_id\":\"5\","
	    "\"t\":\"x\",\"a\":\"processed\"}", NULL);
	EXPECT_ACK(t, "processed", "failure");
	ck_assert_str_eq(tc_str(t, AMPS_F_REASON),
	    "subscription already exists");
	BARRIER(t);
	STOP();
}
END_TEST

/* 14: regex topics deliver the concrete topic. */
START_TEST(regex_topic)
{
	struct tc	*s, *p;

	START(NULL);
	s = CLIENT("s");
	p = CLIENT("p");
	subscribe(s, "subscribe", "r", "^orders\\\\.", NULL, NULL);
	pub(p, "orders.eu", "{\"a\":1}");
	pub(p, "ordersXus", "{\"a\":2}");
	pub(p, "orders.us", "{\"a\":3}");
	BARRIER(p);
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_str(s, AMPS_F_T), "orders.eu");
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_str(s, AMPS_F_T), "orders.us");
	BARRIER(s);
	STOP();
}
END_TEST

/* 15, 16: batching 10/10/5, group_begin/end always. */
START_TEST(sow_batching)
{
	struct tc	*t;
	char		 d[64];
	int		 i, total = 0, frames = 0;
	struct amps_sow_iter it;
	struct amps_hdr	 rh;
	const char	*data;
	size_t		 dl;

	START(NULL);
	t = CLIENT("t");
	tc_send(t, "{\"c\":\"sow\",\"cid\":\"e\",\"t\":\"orders\","
	    "\"a\":\"processed,completed\",\"bs\":10}", NULL);
	EXPECT_ACK(t, "processed", "success");
	EXPECT_CMD(t, "group_begin");
	ck_assert_str_eq(tc_str(t, AMPS_F_QUERY_ID), "e");
	EXPECT_CMD(t, "group_end");
	EXPECT_ACK(t, "completed", "success");
	for (i = 1; i <= 25; i++) {
		snprintf(d, sizeof d, "{\"id\":%d,\"qty\":%d}", i, i);
		pub(t, "orders", d);
	}
	tc_send(t, "{\"c\":\"sow\",\"cid\":\"q\",\"t\":\"orders\","
	    "\"a\":\"processed,completed\",\"bs\":10}", NULL);
	EXPECT_ACK(t, "processed", "success");
	EXPECT_CMD(t, "group_begin");
	for (;;) {
		RECV(t);
		if (tc_is(t, "group_end", NULL))
			break;
		ck_assert(tc_is(t, "sow", NULL));
		frames++;
		ck_assert_uint_eq(tc_num(t, AMPS_F_BS), frames < 3 ? 10 : 5);
		amps_sow_begin(&it, &t->h, t->frame, t->flen);
		while (amps_sow_next(&it, &rh, &data, &dl) == 1) {
			total++;
			ck_assert(amps_hdr_has(&rh, AMPS_F_K));
			ck_assert(amps_hdr_has(&rh, AMPS_F_L));
		}
	}
	ck_assert_int_eq(frames, 3);
	ck_assert_int_eq(total, 25);
	EXPECT_ACK(t, "completed", "success");
	STOP();
}
END_TEST

/* 18: sow_and_subscribe + oof match / deleted. */
START_TEST(sow_and_subscribe_oof)
{
	struct tc	*s, *p;
	char		 k7[64];

	START(NULL);
	s = CLIENT("s");
	p = CLIENT("p");
	pub(p, "orders", "{\"id\":7,\"qty\":100}");
	pub(p, "orders", "{\"id\":9,\"qty\":1}");
	BARRIER(p);
	tc_send(s, "{\"c\":\"sow_and_subscribe\",\"cid\":\"2\",\"t\":"
	    "\"orders\",\"sub_id\":\"2\",\"a\":\"processed\",\"bs\":10,"
	    "\"f\":\"/qty > 50\",\"o\":\"oof\"}", NULL);
	EXPECT_ACK(s, "processed", "success");
	EXPECT_CMD(s, "group_begin");
	EXPECT_CMD(s, "sow");
	ck_assert_uint_eq(tc_num(s, AMPS_F_BS), 1);
	EXPECT_CMD(s, "group_end");
	pub(p, "orders", "{\"id\":8,\"qty\":60}");
	pub(p, "orders", "{\"id\":7,\"qty\":10}");
	tc_send(p, "{\"c\":\"sow_delete\",\"cid\":\"5\",\"t\":\"orders\","
	    "\"a\":\"stats\",\"f\":\"/id = 8\"}", NULL);
	EXPECT_ACK(p, "stats", "success");
	ck_assert_uint_eq(tc_num(p, AMPS_F_RECORDS_DELETED), 1);
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_payload(s), "{\"id\":8,\"qty\":60}");
	EXPECT_CMD(s, "oof");
	ck_assert_str_eq(tc_str(s, AMPS_F_REASON), "match");
	ck_assert_str_eq(tc_payload(s), "{\"id\":7,\"qty\":10}");
	snprintf(k7, sizeof k7, "%s", tc_str(s, AMPS_F_K));
	EXPECT_CMD(s, "oof");
	ck_assert_str_eq(tc_str(s, AMPS_F_REASON), "deleted");
	ck_assert_str_eq(tc_payload(s), "{\"id\":8,\"qty\":60}");
	ck_assert_str_ne(tc_str(s, AMPS_F_K), k7);
	BARRIER(s);
	STOP();
}
END_TEST

/* 19: top_n / orderby / skip_n and stats. */
START_TEST(sow_top_n_orderby)
{
	struct tc	*t;
	char		 d[64];
	int		 i;
	struct amps_sow_iter it;
	struct amps_hdr	 rh;
	const char	*data;
	size_t		 dl;

	START(NULL);
	t = CLIENT("t");
	for (i = 1; i <= 10; i++) {
		snprintf(d, sizeof d, "{\"id\":%d,\"v\":%d}", i, i * 7 % 11);
		pub(t, "orders", d);
	}
	tc_send(t, "{\"c\":\"sow\",\"cid\":\"q\",\"t\":\"orders\",\"a\":"
	    "\"completed,stats\",\"bs\":10,\"top_n\":3,\"orderby\":\"/v DESC\","
	    "\"o\":\"skip_n=1\"}", NULL);
	EXPECT_CMD(t, "group_begin");
	EXPECT_CMD(t, "sow");
	ck_assert_uint_eq(tc_num(t, AMPS_F_BS), 3);
	amps_sow_begin(&it, &t->h, t->frame, t->flen);
	ck_assert_int_eq(amps_sow_next(&it, &rh, &data, &dl), 1);
	/* v values 7,3,10,6,2,9,5,1,8,4 -> DESC skip 1: 9, 8, 7. */
	ck_assert(dl > 0 && strstr(data, "\"v\":9") != NULL);
	EXPECT_CMD(t, "group_end");
	EXPECT_ACK(t, "completed", "success");
	EXPECT_ACK(t, "stats", "success");
	ck_assert_uint_eq(tc_num(t, AMPS_F_RECORDS_RETURNED), 3);
	ck_assert_uint_eq(tc_num(t, AMPS_F_MATCHES), 10);
	ck_assert_uint_eq(tc_num(t, AMPS_F_TOPIC_MATCHES), 10);
	STOP();
}
END_TEST

/* 20: sow_delete by filter, keys, data. */
START_TEST(sow_delete_forms)
{
	struct tc	*t;
	char		 k[64], d[64];
	int		 i;

	START(NULL);
	t = CLIENT("t");
	for (i = 1; i <= 5; i++) {
		snprintf(d, sizeof d, "{\"id\":%d}", i);
		pub(t, "orders", d);
	}
	/* Learn the key of id 1 from a query. */
	tc_send(t, "{\"c\":\"sow\",\"cid\":\"q\",\"t\":\"orders\","
	    "\"f\":\"/id = 1\"}", NULL);
	EXPECT_CMD(t, "group_begin");
	EXPECT_CMD(t, "sow");
	{
		struct amps_sow_iter it;
		struct amps_hdr	 rh;
		const char	*data;
		size_t		 dl;

		amps_sow_begin(&it, &t->h, t->frame, t->flen);
		ck_assert_int_eq(amps_sow_next(&it, &rh, &data, &dl), 1);
		ck_assert_int_ge(amps_hdr_str(&rh, AMPS_F_K, k, sizeof k), 1);
	}
	EXPECT_CMD(t, "group_end");
	tc_sendf(t, NULL, "{\"c\":\"sow_delete\",\"cid\":\"1\",\"t\":"
	    "\"orders\",\"a\":\"stats\",\"sow_keys\":\"%s\"}", k);
	EXPECT_ACK(t, "stats", "success");
	ck_assert_uint_eq(tc_num(t, AMPS_F_RECORDS_DELETED), 1);
	tc_send(t, "{\"c\":\"sow_delete\",\"cid\":\"2\",\"t\":\"orders\","
	    "\"a\":\"stats\"}", "{\"id\":2}");
	EXPECT_ACK(t, "stats", "success");
	ck_assert_uint_eq(tc_num(t, AMPS_F_RECORDS_DELETED), 1);
	tc_send(t, "{\"c\":\"sow_delete\",\"cid\":\"3\",\"t\":\"orders\","
	    "\"a\":\"processed,stats\",\"f\":\"1=1\"}", NULL);
	EXPECT_ACK(t, "processed", "success");
	EXPECT_ACK(t, "stats", "success");
	ck_assert_uint_eq(tc_num(t, AMPS_F_RECORDS_DELETED), 3);
	ck_assert_uint_eq(tc_num(t, AMPS_F_MATCHES), 3);
	STOP();
}
END_TEST

/* 21: delta publish merge and delta subscriptions, no_empties. */
START_TEST(delta)
{
	struct tc	*s, *p, *ds;

	START(NULL);
	s = CLIENT("s");
	ds = CLIENT("ds");
	p = CLIENT("p");
	pub(p, "orders", "{\"id\":7,\"qty\":100,\"px\":3}");
	BARRIER(p);
	subscribe(ds, "delta_subscribe", "d", "orders", NULL, "no_empties");
	subscribe(s, "subscribe", "f", "orders", NULL, NULL);
	tc_send(p, "{\"c\":\"delta_publish\",\"t\":\"orders\"}",
	    "{\"id\":7,\"qty\":150}");
	EXPECT_CMD(ds, "p");
	ck_assert_str_eq(tc_str(ds, AMPS_F_SUB_ID), "d");
	ck_assert_str_eq(tc_payload(ds), "{\"id\":7,\"qty\":150}");
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_str(s, AMPS_F_SUB_ID), "f");
	ck_assert_str_eq(tc_payload(s), "{\"id\":7,\"qty\":150,\"px\":3}");
	/* A delta that changes nothing: only the full subscriber. */
	tc_send(p, "{\"c\":\"delta_publish\",\"t\":\"orders\"}",
	    "{\"id\":7,\"qty\":150}");
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_str(s, AMPS_F_SUB_ID), "f");
	BARRIER(p);
	BARRIER(s);
	BARRIER(ds);
	/* Full and delta on one connection: both get the full message. */
	subscribe(s, "delta_subscribe", "d2", "orders", NULL, NULL);
	tc_send(p, "{\"c\":\"delta_publish\",\"t\":\"orders\"}",
	    "{\"id\":7,\"qty\":160}");
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_payload(s), "{\"id\":7,\"qty\":160,\"px\":3}");
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_payload(s), "{\"id\":7,\"qty\":160,\"px\":3}");
	EXPECT_CMD(ds, "p");
	ck_assert_str_eq(tc_payload(ds), "{\"id\":7,\"qty\":160}");
	BARRIER(s);
	tc_send(p, "{\"c\":\"sow\",\"cid\":\"q\",\"t\":\"orders\"}", NULL);
	EXPECT_CMD(p, "group_begin");
	EXPECT_CMD(p, "sow");
	ck_assert(strstr(tc_payload(p), "{\"id\":7,\"qty\":160,\"px\":3}")
	    != NULL);
	STOP();
}
END_TEST

/* 22, 23, 25: bookmark replay from EPOCH, resume, not found. */
START_TEST(bookmarks)
{
	struct tc	*s, *p;
	char		 bm3[64], d[64];
	int		 i;

	START(NULL);
	p = CLIENT("pub");
	for (i = 1; i <= 5; i++) {
		snprintf(d, sizeof d, "{\"n\":%d}", i);
		tc_sendf(p, d, "{\"c\":\"p\",\"t\":\"log\",\"s\":%d}", i);
	}
	BARRIER(p);
	s = CLIENT("sub");
	tc_send(s, "{\"c\":\"subscribe\",\"cid\":\"1\",\"t\":\"log\","
	    "\"sub_id\":\"b\",\"bm\":\"0\",\"a\":\"processed,completed\"}",
	    NULL);
	EXPECT_ACK(s, "processed", "success");
	for (i = 1; i <= 5; i++) {
		EXPECT_CMD(s, "p");
		snprintf(d, sizeof d, "%llu|%d|", (unsigned long long)
		    amps_name_hash("pub", 3), i);
		ck_assert_str_eq(tc_str(s, AMPS_F_BM), d);
		if (i == 3)
			snprintf(bm3, sizeof bm3, "%s", d);
	}
	EXPECT_ACK(s, "completed", "success");
	ck_assert_str_eq(tc_str(s, AMPS_F_BM), d);
	/* Live after the replay. */
	tc_send(p, "{\"c\":\"p\",\"t\":\"log\",\"s\":6}", "{\"n\":6}");
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_payload(s), "{\"n\":6}");
	/* Resume after message 3 (as a list with an unknown entry). */
	tc_sendf(s, NULL, "{\"c\":\"subscribe\",\"cid\":\"2\",\"t\":\"log\","
	    "\"sub_id\":\"c\",\"bm\":\"%s,999|1|\",\"a\":\"processed\"}", bm3);
	EXPECT_ACK(s, "processed", "success");
	for (i = 4; i <= 6; i++) {
		EXPECT_CMD(s, "p");
		ck_assert_str_eq(tc_str(s, AMPS_F_SUB_ID), "c");
	}
	BARRIER(s);
	/* Not found: fail, and the default (now). */
	tc_send(s, "{\"c\":\"subscribe\",\"cid\":\"3\",\"t\":\"log\","
	    "\"bm\":\"12|34|\",\"a\":\"processed\","
	    "\"o\":\"bookmark_not_found=fail\"}", NULL);
	EXPECT_ACK(s, "processed", "failure");
	tc_send(s, "{\"c\":\"subscribe\",\"cid\":\"4\",\"t\":\"log\","
	    "\"bm\":\"12|34|\",\"a\":\"processed,completed\"}", NULL);
	EXPECT_ACK(s, "processed", "success");
	EXPECT_ACK(s, "completed", "success");
	BARRIER(s);
	/* Replays survive a restart. */
	CLOSE(s);
	CLOSE(p);
	ck_assert_int_eq(tc_srv_restart(&srv), 0);
	s = CLIENT("sub");
	tc_sendf(s, NULL, "{\"c\":\"subscribe\",\"cid\":\"1\",\"t\":\"log\","
	    "\"bm\":\"%s\",\"a\":\"processed,completed\"}", bm3);
	EXPECT_ACK(s, "processed", "success");
	for (i = 4; i <= 6; i++)
		EXPECT_CMD(s, "p");
	EXPECT_ACK(s, "completed", "success");
	STOP();
}
END_TEST

/* 26, 27: queue backlog, ack, cancel, redelivery on disconnect. */
START_TEST(queue)
{
	struct tc	*a, *b, *p;
	char		 bm[5][64], d[64];
	int		 i;

	START(NULL);
	a = CLIENT("qa");
	p = CLIENT("qp");
	tc_send(a, "{\"c\":\"subscribe\",\"cid\":\"1\",\"t\":\"work\","
	    "\"a\":\"processed\",\"o\":\"max_backlog=2\"}", NULL);
	EXPECT_ACK(a, "processed", "success");
	ck_assert_str_eq(tc_str(a, AMPS_F_O), "max_backlog=2");
	for (i = 0; i < 5; i++) {
		snprintf(d, sizeof d, "{\"job\":%d}", i);
		pub(p, "work-in", d);
	}
	BARRIER(p);
	for (i = 0; i < 2; i++) {
		EXPECT_CMD(a, "p");
		ck_assert_str_eq(tc_str(a, AMPS_F_T), "work");
		ck_assert(strlen(tc_str(a, AMPS_F_LP)) == 23);
		snprintf(bm[i], sizeof bm[i], "%s", tc_str(a, AMPS_F_BM));
	}
	BARRIER(a);	/* exactly two */
	tc_sendf(a, NULL, "{\"c\":\"sow_delete\",\"cid\":\"9\",\"t\":\"work\","
	    "\"bm\":\"%s\"}", bm[0]);
	EXPECT_CMD(a, "p");
	ck_assert_str_eq(tc_payload(a), "{\"job\":2}");
	snprintf(bm[2], sizeof bm[2], "%s", tc_str(a, AMPS_F_BM));
	/* cancel returns job 1; it comes back (first in FIFO order). */
	tc_sendf(a, NULL, "{\"c\":\"sow_delete\",\"t\":\"work\",\"bm\":\"%s\","
	    "\"o\":\"cancel\"}", bm[1]);
	EXPECT_CMD(a, "p");
	ck_assert_str_eq(tc_payload(a), "{\"job\":1}");
	BARRIER(a);
	/* Two bookmarks in one ack (auto-ack batching): 3 and 4 follow. */
	tc_sendf(a, NULL, "{\"c\":\"sow_delete\",\"t\":\"work\","
	    "\"bm\":\"%s,%s\"}", bm[1], bm[2]);
	EXPECT_CMD(a, "p");
	ck_assert_str_eq(tc_payload(a), "{\"job\":3}");
	EXPECT_CMD(a, "p");
	ck_assert_str_eq(tc_payload(a), "{\"job\":4}");
	/* Disconnect: both leases go to another subscriber. */
	b = CLIENT("qb");
	tc_send(b, "{\"c\":\"subscribe\",\"cid\":\"1\",\"t\":\"work\","
	    "\"a\":\"processed\",\"o\":\"max_backlog=5\"}", NULL);
	EXPECT_ACK(b, "processed", "success");
	ck_assert_str_eq(tc_str(b, AMPS_F_O), "max_backlog=5");
	BARRIER(b);
	CLOSE(a);
	EXPECT_CMD(b, "p");
	ck_assert_str_eq(tc_payload(b), "{\"job\":3}");
	EXPECT_CMD(b, "p");
	ck_assert_str_eq(tc_payload(b), "{\"job\":4}");
	STOP();
}
END_TEST

/* 28, 29: unsubscribe all; replace. */
START_TEST(unsubscribe_replace)
{
	struct tc	*s, *p;

	START(NULL);
	s = CLIENT("s");
	p = CLIENT("p");
	subscribe(s, "subscribe", "x", "t", "/v = 1", NULL);
	subscribe(s, "subscribe", "x", "t", "/v = 2", "replace");
	subscribe(s, "subscribe", "y", "u", NULL, NULL);
	pub(p, "t", "{\"v\":1}");
	pub(p, "t", "{\"v\":2}");
	BARRIER(p);
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_payload(s), "{\"v\":2}");
	tc_send(s, "{\"c\":\"unsubscribe\",\"cid\":\"u\",\"sub_id\":\"all\","
	    "\"a\":\"processed\"}", NULL);
	EXPECT_ACK(s, "processed", "success");
	pub(p, "t", "{\"v\":2}");
	pub(p, "u", "{}");
	BARRIER(p);
	BARRIER(s);
	STOP();
}
END_TEST

/* 32: escaping in filters; UTF-8 topics; options timestamp, select. */
START_TEST(escaping_and_options)
{
	struct tc	*s, *p;

	START(NULL);
	s = CLIENT("s");
	p = CLIENT("p");
	subscribe(s, "subscribe", "e", "t\xc3\xa9", "/n = 'a\\\"b\\\\\\\\c'",
	    "timestamp,select=[-/,+/n]");
	pub(p, "t\xc3\xa9", "{\"n\":\"a\\\"b\\\\c\",\"z\":1}");
	pub(p, "t\xc3\xa9", "{\"n\":\"other\"}");
	BARRIER(p);
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_str(s, AMPS_F_T), "t\xc3\xa9");
	ck_assert_str_eq(tc_payload(s), "{\"n\":\"a\\\"b\\\\c\"}");
	ck_assert_uint_eq(strlen(tc_str(s, AMPS_F_TS)), 23);
	BARRIER(s);
	STOP();
}
END_TEST

/* sids mode: one frame per connection for several matches, in order. */
START_TEST(sids_mode)
{
	const char	*args[] = { "--sids", NULL };
	struct tc	*s, *p;

	START(args);
	s = CLIENT("s");
	p = CLIENT("p");
	subscribe(s, "subscribe", "a", "t", NULL, NULL);
	subscribe(s, "subscribe", "b", "t", NULL, NULL);
	pub(p, "t", "{}");
	BARRIER(p);
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_str(s, AMPS_F_SIDS), "a,b");
	BARRIER(s);
	/* Literal subscriptions (indexed by topic) and a regex one, in the
	 * order they were made, whatever list they are filed in. */
	subscribe(s, "subscribe", "c", "^t$", NULL, NULL);
	subscribe(s, "subscribe", "d", "u", NULL, NULL);
	subscribe(s, "subscribe", "e", "t", NULL, NULL);
	pub(p, "t", "{}");
	pub(p, "u", "{}");
	BARRIER(p);
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_str(s, AMPS_F_SIDS), "a,b,c,e");
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_str(s, AMPS_F_SIDS), "d");
	BARRIER(s);
	STOP();
}
END_TEST

/* Paginated sow_and_subscribe: top_n + skip_n + orderby window. */
START_TEST(paginated)
{
	struct tc	*s, *p;
	int		 i;
	char		 d[64];

	START(NULL);
	s = CLIENT("s");
	p = CLIENT("p");
	for (i = 1; i <= 4; i++) {
		snprintf(d, sizeof d, "{\"id\":%d,\"v\":%d}", i, i * 10);
		pub(p, "orders", d);
	}
	BARRIER(p);
	tc_send(s, "{\"c\":\"sow_and_subscribe\",\"cid\":\"1\",\"t\":"
	    "\"orders\",\"a\":\"processed\",\"bs\":10,\"top_n\":2,"
	    "\"orderby\":\"/v DESC\",\"o\":\"oof,skip_n=1\"}", NULL);
	EXPECT_ACK(s, "processed", "success");
	EXPECT_CMD(s, "group_begin");
	EXPECT_CMD(s, "sow");
	ck_assert_uint_eq(tc_num(s, AMPS_F_BS), 2);
	EXPECT_CMD(s, "group_end");
	/* 40,35,30,20: id 5 enters, id 2 leaves. */
	pub(p, "orders", "{\"id\":5,\"v\":35}");
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_payload(s), "{\"id\":5,\"v\":35}");
	EXPECT_CMD(s, "oof");
	ck_assert_str_eq(tc_str(s, AMPS_F_REASON), "match");
	ck_assert_str_eq(tc_payload(s), "{\"id\":2,\"v\":20}");
	/* An update inside the window is delivered. */
	pub(p, "orders", "{\"id\":3,\"v\":31}");
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_payload(s), "{\"id\":3,\"v\":31}");
	/* An update outside the window is not. */
	pub(p, "orders", "{\"id\":1,\"v\":11}");
	BARRIER(p);
	BARRIER(s);
	/* Deleting id 4 shifts the window: id 2 enters, id 5 leaves. */
	tc_send(p, "{\"c\":\"sow_delete\",\"t\":\"orders\",\"f\":\"/id = 4\"}",
	    NULL);
	EXPECT_CMD(s, "p");
	ck_assert_str_eq(tc_payload(s), "{\"id\":2,\"v\":20}");
	EXPECT_CMD(s, "oof");
	ck_assert_str_eq(tc_payload(s), "{\"id\":5,\"v\":35}");
	STOP();
}
END_TEST

/* Historical queries (§9.6): the SOW as of a bookmark, then the log. */
START_TEST(historical)
{
	struct tc	*t, *p;
	char		 b[4][64];
	int		 i;

	START(NULL);
	p = CLIENT("hp");
	tc_send(p, "{\"c\":\"p\",\"t\":\"orders\",\"s\":1}", "{\"id\":1,\"v\":1}");
	tc_send(p, "{\"c\":\"p\",\"t\":\"orders\",\"s\":2}", "{\"id\":1,\"v\":2}");
	tc_send(p, "{\"c\":\"p\",\"t\":\"orders\",\"s\":3}", "{\"id\":2,\"v\":3}");
	BARRIER(p);
	for (i = 1; i <= 3; i++)
		snprintf(b[i], sizeof b[i], "%llu|%d|", (unsigned long long)
		    amps_name_hash("hp", 2), i);
	t = CLIENT("ht");
	tc_sendf(t, NULL, "{\"c\":\"sow\",\"cid\":\"1\",\"t\":\"orders\","
	    "\"bm\":\"%s\",\"bs\":10}", b[1]);
	EXPECT_CMD(t, "group_begin");
	EXPECT_CMD(t, "sow");
	ck_assert_uint_eq(tc_num(t, AMPS_F_BS), 1);
	ck_assert(strstr(t->frame, "{\"id\":1,\"v\":1}") != NULL);
	EXPECT_CMD(t, "group_end");
	tc_sendf(t, NULL, "{\"c\":\"sow\",\"cid\":\"2\",\"t\":\"orders\","
	    "\"bm\":\"20000101T000000Z\"}");
	EXPECT_CMD(t, "group_begin");
	EXPECT_CMD(t, "group_end");
	tc_send(t, "{\"c\":\"sow\",\"cid\":\"3\",\"t\":\"orders\","
	    "\"bm\":\"9|9|\",\"a\":\"processed\"}", NULL);
	EXPECT_ACK(t, "processed", "failure");
	/* sow_and_subscribe at b1: state then the rest of the log, live. */
	tc_sendf(t, NULL, "{\"c\":\"sow_and_subscribe\",\"cid\":\"4\","
	    "\"t\":\"orders\",\"bm\":\"%s\",\"bs\":10,"
	    "\"a\":\"processed,completed\"}", b[1]);
	EXPECT_ACK(t, "processed", "success");
	EXPECT_CMD(t, "group_begin");
	EXPECT_CMD(t, "sow");
	ck_assert_uint_eq(tc_num(t, AMPS_F_BS), 1);
	EXPECT_CMD(t, "group_end");
	EXPECT_ACK(t, "completed", "success");
	EXPECT_CMD(t, "p");
	ck_assert_str_eq(tc_str(t, AMPS_F_BM), b[2]);
	EXPECT_CMD(t, "p");
	ck_assert_str_eq(tc_str(t, AMPS_F_BM), b[3]);
	tc_send(p, "{\"c\":\"p\",\"t\":\"orders\",\"s\":4}", "{\"id\":3}");
	EXPECT_CMD(t, "p");
	ck_assert_str_eq(tc_payload(t), "{\"id\":3}");
	BARRIER(t);
	STOP();
}
END_TEST

/* The suite. */
static Suite *
suite(void)
{
	Suite	*s = suite_create("ampsim conformance: data");
	TCase	*tc = tcase_create("data");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, subscribe_filter);
	tcase_add_test(tc, failures);
	tcase_add_test(tc, regex_topic);
	tcase_add_test(tc, sow_batching);
	tcase_add_test(tc, sow_and_subscribe_oof);
	tcase_add_test(tc, sow_top_n_orderby);
	tcase_add_test(tc, sow_delete_forms);
	tcase_add_test(tc, delta);
	tcase_add_test(tc, bookmarks);
	tcase_add_test(tc, queue);
	tcase_add_test(tc, unsubscribe_replace);
	tcase_add_test(tc, escaping_and_options);
	tcase_add_test(tc, sids_mode);
	tcase_add_test(tc, paginated);
	tcase_add_test(tc, historical);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite. */
int
main(void)
{
	return (check_main(suite()));
}
