/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for daemon/outq.c: per-request accounting of queued
 * MESSAGE bytes across partial writes, dropping one request's unstarted
 * messages (or all), and urgent frames, always keeping the frame being
 * written whole and the byte stream framed.
 */

#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ampsipc-wire.h"
#include "outq.h"
#include "testutil.h"

/* Append a frame of len bytes (>= 17): type, reqid, filler byte tag. */
static void
put(struct outq *q, uint16_t type, uint32_t reqid, size_t len, uint8_t tag)
{
	uint8_t	*p = outq_reserve(q, len);

	ck_assert_ptr_nonnull(p);
	memset(p, tag, len);
	p[0] = (uint8_t)len;
	p[1] = (uint8_t)(len >> 8);
	p[2] = (uint8_t)(len >> 16);
	p[3] = (uint8_t)(len >> 24);
	p[4] = (uint8_t)type;
	p[5] = (uint8_t)(type >> 8);
	p[6] = p[7] = 0;
	p[8] = (uint8_t)reqid;
	p[9] = (uint8_t)(reqid >> 8);
	p[10] = (uint8_t)(reqid >> 16);
	p[11] = (uint8_t)(reqid >> 24);
	outq_commit(q, len);
}

/* A 24-byte STREAM_END frame filled with 'U', for outq_urgent(). */
static void
urgent_frame(uint8_t fr[24])
{
	memset(fr, 'U', 24);
	fr[0] = 24;
	fr[1] = fr[2] = fr[3] = 0;
	fr[4] = AMPSIPC_STREAM_END & 0xff;
	fr[5] = AMPSIPC_STREAM_END >> 8;
}

/*
 * Write everything out in steps of step bytes and return the filler
 * tags of the frames in order (checks the framing on the way); the
 * first skip bytes are the rest of a frame already started ('<' then
 * stands for it when its last byte is right).
 */
static char *
drain(struct outq *q, size_t step, size_t skip, char *tags, size_t cap)
{
	uint8_t		 all[65536];
	const uint8_t	*p;
	size_t		 n = 0, len, k, o, t = 0;

	while ((p = outq_head(q, &len)), len > 0) {
		k = len < step ? len : step;
		ck_assert_uint_le(n + k, sizeof all);
		memcpy(all + n, p, k);
		n += k;
		outq_consume(q, k);
	}
	if (skip > 0) {
		ck_assert_uint_ge(n, skip);
		tags[t++] = '<';
	}
	for (o = skip; o < n; ) {
		len = (size_t)all[o] | ((size_t)all[o + 1] << 8) |
		    ((size_t)all[o + 2] << 16);
		ck_assert_uint_ge(len, AMPSIPC_HDR_LEN + 1);
		ck_assert_uint_le(o + len, n);
		ck_assert_uint_lt(t + 1, cap);
		tags[t++] = (char)all[o + len - 1];
		o += len;
	}
	tags[t] = '\0';
	return (tags);
}

START_TEST(test_accounting)
{
	struct outq	q;
	char		tags[64];
	const uint8_t	*p;
	size_t		len;

	outq_init(&q);
	put(&q, AMPSIPC_MESSAGE, 7, 100, 'a');
	put(&q, AMPSIPC_ACK, 7, 50, 'b');		/* not a MESSAGE */
	put(&q, AMPSIPC_MESSAGE, 8, 40, 'c');
	put(&q, AMPSIPC_MESSAGE, 7, 30, 'd');
	ck_assert_uint_eq(outq_queued(&q, 7), 130);
	ck_assert_uint_eq(outq_queued(&q, 8), 40);
	ck_assert_uint_eq(outq_queued(&q, 9), 0);
	ck_assert_uint_eq(outq_pending(&q), 220);
	/* a partial write keeps the frame counted until it is out */
	p = outq_head(&q, &len);
	ck_assert_ptr_nonnull(p);
	outq_consume(&q, 99);
	ck_assert_uint_eq(outq_queued(&q, 7), 130);
	outq_consume(&q, 1);
	ck_assert_uint_eq(outq_queued(&q, 7), 30);
	outq_consume(&q, 50 + 40 + 10);
	ck_assert_uint_eq(outq_queued(&q, 8), 0);
	ck_assert_uint_eq(outq_queued(&q, 7), 30);
	ck_assert_str_eq(drain(&q, 7, 20, tags, sizeof tags), "<");
	ck_assert_uint_eq(outq_queued(&q, 7), 0);
	ck_assert_uint_eq(outq_pending(&q), 0);
	outq_free(&q);
}
END_TEST

START_TEST(test_drop_keeps_frame_in_progress)
{
	struct outq	q;
	char		tags[64];

	outq_init(&q);
	put(&q, AMPSIPC_MESSAGE, 7, 100, 'a');
	put(&q, AMPSIPC_MESSAGE, 8, 40, 'b');
	put(&q, AMPSIPC_MESSAGE, 7, 30, 'c');
	put(&q, AMPSIPC_ERROR, 7, 20, 'd');		/* kept: not a MESSAGE */
	put(&q, AMPSIPC_MESSAGE, 7, 30, 'e');
	outq_consume(&q, 10);			/* 'a' has started */
	ck_assert_uint_eq(outq_drop(&q, 7), 2);	/* 'c' and 'e' */
	ck_assert_uint_eq(outq_queued(&q, 7), 100);
	ck_assert_uint_eq(outq_queued(&q, 8), 40);
	ck_assert_uint_eq(outq_drop(&q, 9), 0);
	ck_assert_str_eq(drain(&q, 13, 90, tags, sizeof tags), "<bd");
	outq_free(&q);
}
END_TEST

START_TEST(test_urgent_and_drop_all)
{
	struct outq	q;
	char		tags[64];
	uint8_t		fr[24];

	outq_init(&q);
	urgent_frame(fr);
	/* empty queue: the urgent frame is simply first */
	ck_assert_int_eq(outq_urgent(&q, fr, sizeof fr), 0);
	put(&q, AMPSIPC_MESSAGE, 7, 100, 'a');
	put(&q, AMPSIPC_MESSAGE, 7, 100, 'b');
	outq_consume(&q, sizeof fr + 1);	/* 'a' started */
	ck_assert_int_eq(outq_urgent(&q, fr, sizeof fr), 0);
	ck_assert_uint_eq(outq_queued(&q, 7), 200);
	ck_assert_str_eq(drain(&q, 3, 99, tags, sizeof tags), "<Ub");
	/* at a frame boundary the urgent frame goes before all */
	put(&q, AMPSIPC_MESSAGE, 7, 100, 'a');
	put(&q, AMPSIPC_MESSAGE, 7, 100, 'b');
	ck_assert_int_eq(outq_urgent(&q, fr, sizeof fr), 0);
	ck_assert_str_eq(drain(&q, 1000, 0, tags, sizeof tags), "Uab");
	/* drop_all keeps the started frame and the replies */
	put(&q, AMPSIPC_MESSAGE, 7, 100, 'a');
	put(&q, AMPSIPC_MESSAGE, 8, 100, 'b');
	put(&q, AMPSIPC_STORED, 0, 30, 's');
	put(&q, AMPSIPC_MESSAGE, 9, 100, 'c');
	outq_consume(&q, 1);
	ck_assert_uint_eq(outq_drop_all(&q), 2);
	ck_assert_uint_eq(outq_queued(&q, 8), 0);
	ck_assert_uint_eq(outq_queued(&q, 7), 100);
	ck_assert_uint_eq(outq_drop_all(&q), 0);
	ck_assert_int_eq(outq_urgent(&q, fr, sizeof fr), 0);
	ck_assert_str_eq(drain(&q, 1000, 99, tags, sizeof tags), "<Us");
	outq_free(&q);
}
END_TEST

START_TEST(test_many_ids)
{
	struct outq	q;
	char		tags[64];
	uint32_t	id;
	size_t		i;

	outq_init(&q);
	/* many ids: the table grows and shrinks back by deletion */
	for (i = 0; i < 3000; i++)
		put(&q, AMPSIPC_MESSAGE, (uint32_t)(i * 7919U), 20, 'x');
	for (i = 0; i < 3000; i++)
		ck_assert_uint_eq(outq_queued(&q, (uint32_t)(i * 7919U)), 20);
	for (i = 0; i < 1500; i++)
		outq_consume(&q, 20);
	for (i = 0; i < 3000; i++) {
		id = (uint32_t)(i * 7919U);
		ck_assert_uint_eq(outq_queued(&q, id), i < 1500 ? 0 : 20);
	}
	ck_assert_uint_eq(q.nacct, 1500);
	while (outq_pending(&q) > 0)
		outq_consume(&q, 20);
	ck_assert_uint_eq(q.nacct, 0);
	ck_assert_str_eq(drain(&q, 5, 0, tags, sizeof tags), "");
	outq_shrink(&q, 0);
	ck_assert_ptr_null(q.buf);
	outq_free(&q);
}
END_TEST

START_TEST(test_hold)
{
	struct outq	 q;
	char		 tags[64];
	const uint8_t	*p;
	size_t		 len;
	uint8_t		 fr[24];

	outq_init(&q);
	urgent_frame(fr);
	put(&q, AMPSIPC_MESSAGE, 7, 100, 'a');
	outq_hold(&q);
	put(&q, AMPSIPC_OK, 0, 20, 'k');		/* a reply: held */
	put(&q, AMPSIPC_MESSAGE, 7, 100, 'b');
	outq_hold(&q);				/* keeps the first point */
	ck_assert_uint_eq(outq_sendable(&q), 100);
	p = outq_head(&q, &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(len, 100);
	outq_consume(&q, 40);
	/* dropping before the point moves it; the urgent frame may go now */
	ck_assert_int_eq(outq_urgent(&q, fr, sizeof fr), 0);
	ck_assert_uint_eq(outq_sendable(&q), 60 + sizeof fr);
	ck_assert_uint_eq(outq_drop(&q, 7), 1);	/* 'b', after the point */
	ck_assert_uint_eq(outq_sendable(&q), 60 + sizeof fr);
	outq_consume(&q, 60 + sizeof fr);
	ck_assert_uint_eq(outq_sendable(&q), 0);
	ck_assert_uint_eq(outq_pending(&q), 20);
	outq_release(&q);
	ck_assert_str_eq(drain(&q, 7, 0, tags, sizeof tags), "k");
	/* a message before the point dropped: the point moves back */
	put(&q, AMPSIPC_MESSAGE, 7, 100, 'a');
	put(&q, AMPSIPC_MESSAGE, 8, 100, 'c');
	outq_hold(&q);
	put(&q, AMPSIPC_OK, 0, 20, 'k');
	ck_assert_uint_eq(outq_drop(&q, 7), 1);
	ck_assert_uint_eq(outq_sendable(&q), 100);
	outq_consume(&q, 100);
	ck_assert_uint_eq(outq_sendable(&q), 0);
	outq_release(&q);
	ck_assert_str_eq(drain(&q, 1000, 0, tags, sizeof tags), "k");
	outq_free(&q);
}
END_TEST

static Suite *
outq_suite(void)
{
	Suite	*s = suite_create("outq");
	TCase	*tc = tcase_create("outq");

	tcase_add_test(tc, test_accounting);
	tcase_add_test(tc, test_drop_keeps_frame_in_progress);
	tcase_add_test(tc, test_urgent_and_drop_all);
	tcase_add_test(tc, test_many_ids);
	tcase_add_test(tc, test_hold);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (check_main(outq_suite()));
}
