/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Conformance test for a replicated ampsim pair (PROTOCOL.md §17.4 scenario 30,
 * server side): a client failing over from A to B finds its publishes,
 * its last sequence in the logon ack and the same bookmarks; with
 * --repl-sync persisted acks wait until the peer has the message.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "conformance.h"
#include "testutil.h"

static struct tc_srv	srv_b;

/* Connect and log on to a given server. */
static struct tc *
client_at(struct tc_srv *s, const char *name, uint64_t *seq)
{
	struct tc	*t = conf_connect(s);

	ck_assert_int_eq(tc_logon(t, name, seq), 0);
	return (t);
}

/* 30: failover between replicas. */
START_TEST(replicated_pair)
{
	const char	*args_a[] = { "--repl-port", "0", "--repl-sync",
			    "--ack-conflation", "0", NULL };
	const char	*args_b[5] = { "--repl-port", "0", "--peer", NULL, NULL };
	char		 peer[64], cmd[96], d[64], bm5[64];
	struct tc	*pa, *pb, *sb, *sa;
	uint64_t	 seq;
	int		 i;

	START(args_a);
	ck_assert_int_gt(srv.repl_port, 0);
	snprintf(peer, sizeof peer, "127.0.0.1:%d", srv.repl_port);
	args_b[3] = peer;
	ck_assert_int_eq(tc_srv_start(&srv_b, args_b), 0);
	snprintf(cmd, sizeof cmd, "peer 127.0.0.1:%d", srv_b.repl_port);
	ck_assert_int_eq(tc_admin(&srv, cmd, NULL, 0), 0);

	/* Publish on A; each persisted ack means B has the message. */
	pa = client_at(&srv, "pubber", NULL);
	for (i = 1; i <= 5; i++) {
		snprintf(d, sizeof d, "{\"id\":%d,\"n\":%d}", i, i);
		tc_sendf(pa, d, "{\"c\":\"p\",\"cid\":\"%d\",\"t\":\"orders\","
		    "\"a\":\"persisted\",\"s\":%d}", i, i);
	}
	for (i = 1; i <= 5; i++) {
		EXPECT_ACK(pa, "persisted", "success");
		ck_assert_uint_eq(tc_num(pa, AMPS_F_S), (unsigned)i);
	}
	CLOSE(pa);

	/* Fail over to B: last sequence, SOW, same bookmarks. */
	pb = client_at(&srv_b, "pubber", &seq);
	ck_assert_uint_eq(seq, 5);
	sb = client_at(&srv_b, "reader", NULL);
	tc_send(sb, "{\"c\":\"subscribe\",\"cid\":\"1\",\"t\":\"orders\","
	    "\"bm\":\"0\",\"a\":\"processed,completed\"}", NULL);
	EXPECT_ACK(sb, "processed", "success");
	for (i = 1; i <= 5; i++) {
		EXPECT_CMD(sb, "p");
		snprintf(d, sizeof d, "%llu|%d|", (unsigned long long)
		    amps_name_hash("pubber", 6), i);
		ck_assert_str_eq(tc_str(sb, AMPS_F_BM), d);
	}
	snprintf(bm5, sizeof bm5, "%s", d);
	EXPECT_ACK(sb, "completed", "success");
	tc_send(sb, "{\"c\":\"sow\",\"cid\":\"2\",\"t\":\"orders\","
	    "\"a\":\"completed,stats\",\"bs\":10}", NULL);
	EXPECT_CMD(sb, "group_begin");
	EXPECT_CMD(sb, "sow");
	ck_assert_uint_eq(tc_num(sb, AMPS_F_BS), 5);
	EXPECT_CMD(sb, "group_end");
	EXPECT_ACK(sb, "completed", "success");
	EXPECT_ACK(sb, "stats", "success");

	/* A duplicate replayed to B is dropped; s=6 on B reaches A. */
	sa = client_at(&srv, "watcher", NULL);
	tc_sendf(sa, NULL, "{\"c\":\"subscribe\",\"cid\":\"1\",\"t\":"
	    "\"orders\",\"bm\":\"%s\",\"a\":\"processed,completed\"}", bm5);
	EXPECT_ACK(sa, "processed", "success");
	EXPECT_ACK(sa, "completed", "success");
	tc_send(pb, "{\"c\":\"p\",\"t\":\"orders\",\"s\":5}", "{\"id\":5}");
	tc_send(pb, "{\"c\":\"p\",\"t\":\"orders\",\"s\":6}", "{\"id\":6}");
	BARRIER(pb);
	EXPECT_CMD(sa, "p");
	snprintf(d, sizeof d, "%llu|6|", (unsigned long long)
	    amps_name_hash("pubber", 6));
	ck_assert_str_eq(tc_str(sa, AMPS_F_BM), d);
	ck_assert_str_eq(tc_payload(sa), "{\"id\":6}");

	/* Sync: with the peer unreachable the persisted ack is held, and
	 * a fully_durable subscription does not see the message yet. */
	tc_send(sa, "{\"c\":\"subscribe\",\"cid\":\"fd\",\"sub_id\":\"fd\","
	    "\"t\":\"orders\",\"bm\":\"0|1|\",\"a\":\"processed\","
	    "\"o\":\"fully_durable\"}", NULL);
	EXPECT_ACK(sa, "processed", "success");
	ck_assert_int_eq(tc_admin(&srv, "peer 127.0.0.1:1", NULL, 0), 0);
	pa = client_at(&srv, "pubber", &seq);
	ck_assert_uint_eq(seq, 6);
	tc_send(pa, "{\"c\":\"p\",\"cid\":\"7\",\"t\":\"orders\","
	    "\"a\":\"persisted\",\"s\":7}", "{\"id\":7}");
	BARRIER(pa);
	EXPECT_CMD(sa, "p");		/* the plain bookmark subscription */
	ck_assert_str_eq(tc_str(sa, AMPS_F_SUB_ID), "1");
	BARRIER(sa);			/* ... but not the fully durable one */
	ck_assert_int_eq(tc_admin(&srv, cmd, NULL, 0), 0);
	EXPECT_ACK(pa, "persisted", "success");
	ck_assert_uint_eq(tc_num(pa, AMPS_F_S), 7);
	EXPECT_CMD(sa, "p");
	ck_assert_str_eq(tc_str(sa, AMPS_F_SUB_ID), "fd");
	ck_assert_str_eq(tc_payload(sa), "{\"id\":7}");
	tc_srv_destroy(&srv_b);
	STOP();
}
END_TEST

/* The suite. */
static Suite *
suite(void)
{
	Suite	*s = suite_create("ampsim conformance: replication");
	TCase	*tc = tcase_create("replica");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, replicated_pair);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite. */
int
main(void)
{
	return (check_main(suite()));
}
