/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for libampsipc/ampsipc-stream.c: deep copies, FIFO order
 * and client-side conflation by sow key (PROTOCOL.md §9.9).
 */

#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ampsipc-int.h"
#include "testutil.h"

/* A message with a sow key and data. */
static struct ipclib_qmsg *
msg(int command, const char *key, const char *data)
{
	struct ampsipc_message	m;

	memset(&m, 0, sizeof m);
	m.command = command;
	m.sow_key = key;
	m.topic = "t";
	m.data = data;
	m.len = strlen(data);
	return (ipclib_qmsg_copy(&m, 1));
}

START_TEST(test_copy)
{
	struct ipclib_qmsg	*q = msg(AMPSIPC_C_PUBLISH, "k", "abc");

	ck_assert_str_eq(q->m.sow_key, "k");
	ck_assert_str_eq(q->m.bookmark, "");	/* never NULL */
	ck_assert_int_eq(memcmp(q->m.data, "abc", 3), 0);
	ck_assert_uint_eq(q->m.len, 3);
	free(q);
}
END_TEST

START_TEST(test_fifo)
{
	struct ipclib_sq	 sq = { 0 };
	struct ipclib_qmsg	*q;
	char			 buf[16];
	int			 i;

	for (i = 0; i < 200; i++) {
		snprintf(buf, sizeof buf, "%d", i);
		ck_assert_int_eq(ipclib_sq_push(&sq, msg(AMPSIPC_C_PUBLISH,
		    "k", buf), 0), 0);
	}
	for (i = 0; i < 200; i++) {
		q = ipclib_sq_pop(&sq);
		snprintf(buf, sizeof buf, "%d", i);
		ck_assert_str_eq(q->m.data, buf);
		free(q);
	}
	ck_assert_ptr_null(ipclib_sq_pop(&sq));
	ipclib_sq_clear(&sq);
}
END_TEST

START_TEST(test_conflate)
{
	struct ipclib_sq	 sq = { 0 };
	struct ipclib_qmsg	*q;

	ipclib_sq_push(&sq, msg(AMPSIPC_C_PUBLISH, "a", "a1"), 1);
	ipclib_sq_push(&sq, msg(AMPSIPC_C_PUBLISH, "b", "b1"), 1);
	ck_assert_int_eq(ipclib_sq_push(&sq, msg(AMPSIPC_C_PUBLISH, "a",
	    "a2"), 1), 1);
	ipclib_sq_push(&sq, msg(AMPSIPC_C_PUBLISH, "", "nokey"), 1);
	ipclib_sq_push(&sq, msg(AMPSIPC_C_PUBLISH, "", "nokey2"), 1);
	ipclib_sq_push(&sq, msg(AMPSIPC_C_OOF, "a", "oof"), 1);
	ck_assert_uint_eq(sq.count, 5);
	ck_assert_uint_eq(sq.conflated, 1);
	q = ipclib_sq_pop(&sq);
	ck_assert_str_eq(q->m.data, "a2");	/* latest, at a's place */
	free(q);
	q = ipclib_sq_pop(&sq);
	ck_assert_str_eq(q->m.data, "b1");
	free(q);
	ipclib_sq_clear(&sq);
}
END_TEST

static Suite *
stream_suite(void)
{
	Suite	*s = suite_create("substream");
	TCase	*tc = tcase_create("substream");

	tcase_add_test(tc, test_copy);
	tcase_add_test(tc, test_fifo);
	tcase_add_test(tc, test_conflate);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (check_main(stream_suite()));
}
