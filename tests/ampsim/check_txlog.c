/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsim's transaction log read back (ampsim/txlog.c): ampsim keeps only
 * where each record is, and replays read the records from the log file
 * (or, without -d, from a memory file).  These tests log enough records,
 * of varied sizes and one bigger than the read window, that a replay
 * reads across many windows, from the file and from the write buffer,
 * and check every replayed payload byte for byte, in order, with the
 * right bookmarks: from the start, from a bookmark in the middle, and
 * (on disk) after a restart and more publishes.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "conformance.h"
#include "testutil.h"

#define NMSG	2400		/* messages on topic "big" */
#define HUGE_AT	1200		/* this one is bigger than the read window */
#define HUGE_LEN (300 * 1024)

/* The payload of message i (1-based) into buf; returns its length. */
static size_t
payload(int i, char *buf, size_t cap)
{
	size_t	pad = i == HUGE_AT ? HUGE_LEN : (size_t)(i * 37 % 1500) + 10;
	size_t	n, j;

	n = (size_t)snprintf(buf, cap, "{\"i\":%d,\"pad\":\"", i);
	ck_assert_uint_lt(n + pad + 3, cap);
	for (j = 0; j < pad; j++)
		buf[n++] = (char)('a' + (i + j) % 26);
	buf[n++] = '"';
	buf[n++] = '}';
	buf[n] = '\0';
	return (n);
}

/*
 * Publish messages first..last on "big", message i with sequence i; after
 * every seventh, one on "other" from a second publisher (it must not come
 * back on a replay of "big").
 */
static void
publish_range(struct tc *p, struct tc *q, int first, int last)
{
	static char	buf[HUGE_LEN + 64];
	size_t		n;
	int		i;

	for (i = first; i <= last; i++) {
		n = payload(i, buf, sizeof buf);
		ck_assert_uint_eq(strlen(buf), n);
		tc_sendf(p, buf, "{\"c\":\"p\",\"t\":\"big\",\"s\":%d}", i);
		if (i % 7 == 0)
			tc_sendf(q, "{\"x\":1}", "{\"c\":\"p\",\"t\":\"other\","
			    "\"s\":%d}", i);
	}
	BARRIER(p);
	BARRIER(q);
}

/*
 * Replay "big" from bookmark bm and expect messages first..last, each
 * payload exact; the bookmark of message keep_at goes to keep_bm.
 */
static void
expect_replay(struct tc *s, const char *sub_id, const char *bm, int first,
    int last, int keep_at, char *keep_bm, size_t keep_cap)
{
	static char	buf[HUGE_LEN + 64];
	char		pfx[64];
	const char	*got;
	size_t		n, pl;
	int		i;

	tc_sendf(s, NULL, "{\"c\":\"subscribe\",\"cid\":\"%s\",\"sub_id\":"
	    "\"%s\",\"t\":\"big\",\"bm\":\"%s\",\"a\":\"processed,completed\"}",
	    sub_id, sub_id, bm);
	EXPECT_ACK(s, "processed", "success");
	for (i = first; i <= last; i++) {
		EXPECT_CMD(s, "p");
		ck_assert_str_eq(tc_str(s, AMPS_F_T), "big");
		n = payload(i, buf, sizeof buf);
		ck_assert_msg(s->plen == n && memcmp(s->payload, buf, n) == 0,
		    "message %d: %zu bytes back, %zu logged", i, s->plen, n);
		/* The bookmark is "<publisher>|<i>|". */
		got = tc_str(s, AMPS_F_BM);
		pl = strcspn(got, "|");
		snprintf(pfx, sizeof pfx, "|%d|", i);
		ck_assert_msg(strcmp(got + pl, pfx) == 0, "message %d: "
		    "bookmark %s", i, got);
		if (i == keep_at)
			snprintf(keep_bm, keep_cap, "%s", got);
	}
	EXPECT_ACK(s, "completed", "success");
	BARRIER(s);	/* nothing else came */
}

/* The whole read-back scenario against srv, already started. */
static void
read_back(int on_disk)
{
	struct tc	*p, *q, *s;
	char		 mid[64] = "";

	p = CLIENT("pub");
	q = CLIENT("pub-other");
	publish_range(p, q, 1, NMSG);
	s = CLIENT("sub");
	expect_replay(s, "all", "0", 1, NMSG, NMSG / 3, mid, sizeof mid);
	ck_assert(mid[0] != '\0');
	/* From a bookmark: what follows it. */
	expect_replay(s, "mid", mid, NMSG / 3 + 1, NMSG, 0, NULL, 0);
	if (!on_disk)
		return;
	CLOSE(p);
	CLOSE(q);
	CLOSE(s);
	ck_assert_int_eq(tc_srv_restart(&srv), 0);
	p = CLIENT("pub");
	q = CLIENT("pub-other");
	publish_range(p, q, NMSG + 1, NMSG + 50);
	s = CLIENT("sub");
	expect_replay(s, "all", "0", 1, NMSG + 50, 0, NULL, 0);
	expect_replay(s, "mid", mid, NMSG / 3 + 1, NMSG + 50, 0, NULL, 0);
}

START_TEST(read_back_file)
{
	START(NULL);
	read_back(1);
	STOP();
}
END_TEST

START_TEST(read_back_memory)
{
	ck_assert_int_eq(tc_srv_start_memory(&srv, NULL), 0);
	read_back(0);
	STOP();
}
END_TEST

/* The suite. */
static Suite *
suite(void)
{
	Suite	*s = suite_create("ampsim: the log read back");
	TCase	*tc = tcase_create("txlog");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, read_back_file);
	tcase_add_test(tc, read_back_memory);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite. */
int
main(void)
{
	return (check_main(suite()));
}
