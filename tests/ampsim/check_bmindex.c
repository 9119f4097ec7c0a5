/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for ampsim/bmindex.c: every (publisher, sequence) put is
 * found with its latest record index over many blocks and publishers,
 * absent pairs are not found, a repeated identity takes the latest
 * record, out-of-order puts (which ampsim itself never makes) are kept
 * exactly, no block is ever moved once made, and blocks made ahead by
 * bmindex_prefault() are the ones the puts then fill.
 */

#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "bmindex.h"
#include "testutil.h"

#define NPUB	7
#define NSEQ	100000

/* Publisher ids spread over the range, 0 included. */
static uint64_t
pubid(uint64_t i)
{
	return (i * 0x9e3779b97f4a7c15ULL);
}

START_TEST(test_in_order)
{
	struct bmindex	 x = { 0 };
	uint64_t	 i, p, v, idx = 0;

	/* Interleaved publishers, sequences with gaps (3, 6, 9, ...). */
	for (i = 1; i <= NSEQ; i++)
		for (p = 0; p < NPUB; p++)
			bmindex_put(&x, pubid(p), i * 3, idx++);
	ck_assert_uint_eq(x.n, (uint64_t)NPUB * NSEQ);
	idx = 0;
	for (i = 1; i <= NSEQ; i++)
		for (p = 0; p < NPUB; p++) {
			ck_assert_msg(bmindex_get(&x, pubid(p), i * 3, &v),
			    "pub %llu seq %llu lost", (unsigned long long)p,
			    (unsigned long long)i * 3);
			ck_assert_uint_eq(v, idx);
			idx++;
			ck_assert(!bmindex_get(&x, pubid(p), i * 3 - 1, &v));
		}
	for (p = 0; p < NPUB; p++)
		ck_assert_uint_eq(bmindex_max(&x, pubid(p)), NSEQ * 3);
	ck_assert(!bmindex_get(&x, pubid(NPUB), 3, &v));
	ck_assert(!bmindex_get(&x, pubid(0), 0, &v));
	ck_assert(!bmindex_get(&x, pubid(0), NSEQ * 3 + 3, &v));
	ck_assert_uint_eq(bmindex_max(&x, pubid(NPUB)), 0);
	bmindex_free(&x);
	ck_assert(!bmindex_get(&x, pubid(0), 3, &v));
	ck_assert_uint_eq(x.n, 0);
}
END_TEST

/* The same identity again (sow_delete of many records): latest wins. */
START_TEST(test_repeat)
{
	struct bmindex	 x = { 0 };
	uint64_t	 v;

	bmindex_put(&x, 42, 5, 0);
	bmindex_put(&x, 42, 5, 1);
	bmindex_put(&x, 42, 5, 2);
	bmindex_put(&x, 42, 6, 3);
	ck_assert_uint_eq(x.n, 2);
	ck_assert(bmindex_get(&x, 42, 5, &v));
	ck_assert_uint_eq(v, 2);
	/* An earlier identity again, not the last one. */
	bmindex_put(&x, 42, 5, 4);
	ck_assert(bmindex_get(&x, 42, 5, &v));
	ck_assert_uint_eq(v, 4);
	ck_assert(bmindex_get(&x, 42, 6, &v));
	ck_assert_uint_eq(v, 3);
	ck_assert_uint_eq(bmindex_max(&x, 42), 6);
	ck_assert_uint_eq(x.n, 2);
	bmindex_free(&x);
}
END_TEST

/* Out of order (invariant 3): kept exactly, max unchanged. */
START_TEST(test_out_of_order)
{
	struct bmindex	 x = { 0 };
	uint64_t	 i, v;

	for (i = 0; i < 1000; i++)
		bmindex_put(&x, 1, 1000 + i * 2, i);
	/* Odd ones, in reverse, below the last: the ooo path. */
	for (i = 999; i > 0; i--)
		bmindex_put(&x, 1, 1000 + i * 2 - 1, 10000 + i);
	bmindex_put(&x, 1, 7, 77);
	for (i = 0; i < 1000; i++) {
		ck_assert(bmindex_get(&x, 1, 1000 + i * 2, &v));
		ck_assert_uint_eq(v, i);
	}
	for (i = 1; i < 1000; i++) {
		ck_assert(bmindex_get(&x, 1, 1000 + i * 2 - 1, &v));
		ck_assert_uint_eq(v, 10000 + i);
	}
	ck_assert(bmindex_get(&x, 1, 7, &v));
	ck_assert_uint_eq(v, 77);
	ck_assert(!bmindex_get(&x, 1, 8, &v));
	ck_assert(!bmindex_get(&x, 1, 999, &v));
	ck_assert_uint_eq(bmindex_max(&x, 1), 1000 + 999 * 2);
	ck_assert_uint_eq(x.n, 1000 + 999 + 1);
	/* An ooo identity again updates it. */
	bmindex_put(&x, 1, 7, 78);
	ck_assert(bmindex_get(&x, 1, 7, &v));
	ck_assert_uint_eq(v, 78);
	ck_assert_uint_eq(x.n, 1000 + 999 + 1);
	bmindex_free(&x);
}
END_TEST

/* Blocks are never moved or resized once made (invariant 4). */
START_TEST(test_blocks_stay)
{
	struct bmindex	 x = { 0 };
	struct bmblk	*first, *second;
	struct bmpub	*p;
	uint64_t	 i, v;
	size_t		 k;

	bmindex_put(&x, 9, 1, 0);
	p = x.pubs[0];
	first = p->blk[0];
	for (i = 2; i <= 40; i++)
		bmindex_put(&x, 9, i, i);
	ck_assert_uint_ge(p->nblk, 2);
	second = p->blk[1];
	for (i = 41; i <= 200000; i++)
		bmindex_put(&x, 9, i, i);
	ck_assert_ptr_eq(p->blk[0], first);
	ck_assert_ptr_eq(p->blk[1], second);
	for (k = 0; k + 1 < p->nblk; k++) {
		ck_assert_uint_eq(p->blk[k]->n, p->blk[k]->cap);
		ck_assert_uint_le(p->blk[k]->cap, 8192);
		ck_assert(p->blk[k]->e[p->blk[k]->n - 1].seq <
		    p->blk[k + 1]->e[0].seq);
	}
	ck_assert_uint_eq(p->n, 200000);
	ck_assert(bmindex_get(&x, 9, 1, &v));
	ck_assert_uint_eq(v, 0);
	ck_assert(bmindex_get(&x, 9, 123457, &v));
	ck_assert_uint_eq(v, 123457);
	bmindex_free(&x);
}
END_TEST

/*
 * Prefault (invariant 6): interleaved with puts of two publishers, with
 * budgets too small to finish in one call; each block made ahead becomes
 * the publisher's next block, and every entry is found as without it.
 */
START_TEST(test_prefault)
{
	struct bmindex	 x = { 0 };
	struct bmblk	*ahead[2] = { NULL, NULL };
	struct bmpub	*p;
	uint64_t	 i, v, q;
	size_t		 budget, k, made = 0, taken = 0, nblk[2] = { 0, 0 };

	/* Nothing to prefault before the first put. */
	budget = 1 << 20;
	ck_assert_int_eq(bmindex_prefault(&x, &budget), 0);
	ck_assert_uint_eq(budget, 1 << 20);
	for (i = 1; i <= 100000; i++) {
		q = i % 3 == 0;		/* publisher 1 gets a third */
		bmindex_put(&x, 100 + q, i, i);
		p = x.pubs[q];
		ck_assert_ptr_eq(x.hot, p);
		if (p->nblk != nblk[q]) {	/* a block was started */
			if (ahead[q] != NULL) {
				ck_assert_ptr_eq(p->blk[p->nblk - 1], ahead[q]);
				taken++;
			}
			ahead[q] = NULL;
			nblk[q] = p->nblk;
		}
		if (i % 7 == 0) {
			budget = 4096;	/* one page at a time */
			(void)bmindex_prefault(&x, &budget);
			if (p->next != NULL && ahead[q] == NULL) {
				ahead[q] = p->next;
				ck_assert_uint_eq(p->next->n, 0);
				made++;
			}
		}
	}
	ck_assert_uint_gt(made, 10);
	ck_assert_uint_ge(taken + 2, made);
	for (q = 0; q < 2; q++) {
		p = x.pubs[q];
		for (k = 0; k + 1 < p->nblk; k++)
			ck_assert_uint_eq(p->blk[k]->n, p->blk[k]->cap);
	}
	for (i = 1; i <= 100000; i++) {
		ck_assert(bmindex_get(&x, 100 + (i % 3 == 0), i, &v));
		ck_assert_uint_eq(v, i);
		ck_assert(!bmindex_get(&x, 100 + (i % 3 != 0), i, &v));
	}
	/* 100000 % 3 == 1: publisher 100's. */
	ck_assert_uint_eq(bmindex_max(&x, 100), 100000);
	ck_assert_uint_eq(x.n, 100000);
	bmindex_free(&x);		/* frees a block made ahead, too */
}
END_TEST

static Suite *
bmindex_suite(void)
{
	Suite	*s = suite_create("bmindex");
	TCase	*tc = tcase_create("bmindex");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_in_order);
	tcase_add_test(tc, test_repeat);
	tcase_add_test(tc, test_out_of_order);
	tcase_add_test(tc, test_blocks_stay);
	tcase_add_test(tc, test_prefault);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (check_main(bmindex_suite()));
}
