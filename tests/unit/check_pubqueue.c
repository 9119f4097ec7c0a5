/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for daemon/pubqueue.c: records keep their bytes and order
 * across block boundaries and ring growth, leave from the front (with
 * blocks freed and the byte counts exact), die in the middle, and are
 * found by seq; a seq that does not increase is refused.
 */

#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pubqueue.h"
#include "testutil.h"

/* Push seq with data "d<seq>" padded to len bytes. */
static void
push(struct pubqueue *q, uint64_t seq, size_t len)
{
	char	buf[4096];

	ck_assert_uint_le(len, sizeof buf);
	memset(buf, 'x', len);
	snprintf(buf, len > 20 ? 20 : len, "d%llu", (unsigned long long)seq);
	ck_assert_ptr_nonnull(pubqueue_push(q, seq, 1, "topic", 5, "\"x\":1",
	    5, buf, len));
}

/* The record at position i has seq and its own data. */
static void
check_at(struct pubqueue *q, size_t i, uint64_t seq)
{
	struct pubqueue_rec	*r = pubqueue_at(q, i);
	char			 want[32];

	ck_assert_uint_eq(r->seq, seq);
	ck_assert_uint_eq(r->topic_len, 5);
	ck_assert(memcmp(PUBQUEUE_TOPIC(r), "topic", 5) == 0);
	ck_assert(memcmp(PUBQUEUE_HDR(r), "\"x\":1", 5) == 0);
	snprintf(want, sizeof want, "d%llu", (unsigned long long)seq);
	ck_assert(strncmp(PUBQUEUE_DATA(r), want, strlen(want)) == 0);
}

START_TEST(test_order_and_pop)
{
	struct pubqueue	 q;
	uint64_t	 s, bytes0;
	size_t		 i;

	pubqueue_init(&q);
	ck_assert_uint_eq(pubqueue_last_seq(&q), 0);
	/* 5000 records of ~1 KB: several blocks, ring grows 1024 -> 8192. */
	for (s = 1; s <= 5000; s++)
		push(&q, s * 2, 1000);
	ck_assert_uint_eq(q.n, 5000);
	ck_assert_uint_eq(q.live, 5000);
	ck_assert_uint_eq(pubqueue_last_seq(&q), 10000);
	for (i = 0; i < 5000; i += 499)
		check_at(&q, i, (i + 1) * 2);
	ck_assert_uint_eq(q.rec_bytes,
	    5000 * pubqueue_rec_size(5, 5, 1000));
	bytes0 = q.bytes;
	ck_assert_uint_gt(bytes0, q.rec_bytes);

	/* Not increasing: refused, nothing changes. */
	ck_assert_ptr_null(pubqueue_push(&q, 10000, 1, "t", 1, NULL, 0,
	    NULL, 0));
	ck_assert_uint_eq(q.n, 5000);

	/* Lookup: first seq > after, odd afters fall between records. */
	ck_assert_uint_eq(pubqueue_find_after(&q, 0), 0);
	ck_assert_uint_eq(pubqueue_find_after(&q, 2), 1);
	ck_assert_uint_eq(pubqueue_find_after(&q, 3), 1);
	ck_assert_uint_eq(pubqueue_find_after(&q, 9999), 4999);
	ck_assert_uint_eq(pubqueue_find_after(&q, 10000), 5000);

	/* Pop most of it: blocks are freed, bytes fall. */
	ck_assert_uint_eq(pubqueue_pop_upto(&q, 9001), 4500);
	ck_assert_uint_eq(q.n, 500);
	check_at(&q, 0, 9002);
	ck_assert_uint_lt(q.bytes, bytes0);
	ck_assert_uint_eq(q.rec_bytes, 500 * pubqueue_rec_size(5, 5, 1000));

	/* Pop everything; the queue takes more afterwards. */
	ck_assert_uint_eq(pubqueue_pop_upto(&q, UINT64_MAX), 500);
	ck_assert_uint_eq(q.n, 0);
	ck_assert_uint_eq(q.rec_bytes, 0);
	push(&q, 20000, 10);
	check_at(&q, 0, 20000);
	pubqueue_free(&q);
	ck_assert_uint_eq(q.bytes, 0);
}
END_TEST

START_TEST(test_remove)
{
	struct pubqueue	 q;
	uint64_t	 s;

	pubqueue_init(&q);
	for (s = 1; s <= 10; s++)
		push(&q, s, 50);
	ck_assert_int_eq(pubqueue_remove(&q, 4), 1);
	ck_assert_int_eq(pubqueue_remove(&q, 4), 0);	/* already dead */
	ck_assert_int_eq(pubqueue_remove(&q, 11), 0);	/* never there */
	ck_assert_int_eq(pubqueue_remove(&q, 0), 0);
	ck_assert_uint_eq(q.live, 9);
	ck_assert_uint_eq(q.n, 10);
	ck_assert(pubqueue_at(&q, 3)->dead);
	ck_assert_uint_eq(q.rec_bytes, 9 * pubqueue_rec_size(5, 5, 50));
	/* The dead record leaves with the prefix but is not counted. */
	ck_assert_uint_eq(pubqueue_pop_upto(&q, 5), 4);
	ck_assert_uint_eq(q.live, 5);
	ck_assert_uint_eq(q.n, 5);
	pubqueue_free(&q);
}
END_TEST

/* A record larger than a block gets a block of its own. */
START_TEST(test_big_record)
{
	struct pubqueue	 q;
	char		*big;
	size_t		 len = 1024 * 1024;

	pubqueue_init(&q);
	push(&q, 1, 100);
	big = malloc(len);
	ck_assert_ptr_nonnull(big);
	memset(big, 'b', len);
	ck_assert_ptr_nonnull(pubqueue_push(&q, 2, 2, "t", 1, NULL, 0, big,
	    len));
	push(&q, 3, 100);
	ck_assert_uint_eq(pubqueue_at(&q, 1)->data_len, len);
	ck_assert(memcmp(PUBQUEUE_DATA(pubqueue_at(&q, 1)), big, len) == 0);
	check_at(&q, 2, 3);
	ck_assert_uint_gt(q.bytes, len);
	ck_assert_uint_eq(pubqueue_pop_upto(&q, 2), 2);
	ck_assert_uint_lt(q.bytes, len);
	check_at(&q, 0, 3);
	free(big);
	pubqueue_free(&q);
}
END_TEST

static Suite *
pubqueue_suite(void)
{
	Suite	*s = suite_create("pubqueue");
	TCase	*tc = tcase_create("queue");

	tcase_add_test(tc, test_order_and_pop);
	tcase_add_test(tc, test_remove);
	tcase_add_test(tc, test_big_record);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (check_main(pubqueue_suite()));
}
