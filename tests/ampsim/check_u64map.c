/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for ampsim/u64map.c: every key put is found with its last
 * value while the table doubles incrementally (keys moved, keys still in
 * the old table updated), and no put ever moves more than a few slots.
 */

#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "testutil.h"
#include "u64map.h"

#define N	300000

/* A key spread over the whole range, 0 included. */
static uint64_t
key(uint64_t i)
{
	return (i * 0x9e3779b97f4a7c15ULL);
}

START_TEST(test_put_get)
{
	struct u64map	 m = { 0 };
	uint64_t	 i, v;
	size_t		 maxold = 0;

	for (i = 0; i < N; i++) {
		u64map_put(&m, key(i), i);
		if (m.old.cap > maxold)
			maxold = m.old.cap;
		/* Update a key put earlier: it may still be in old. */
		if (i % 7 == 0)
			u64map_put(&m, key(i / 2), i / 2 + 1000000000);
	}
	ck_assert_uint_eq(m.n, N);
	ck_assert_uint_ge(maxold, 64);		/* it did double */
	for (i = 0; i < N; i++) {
		ck_assert_msg(u64map_get(&m, key(i), &v), "key %llu lost",
		    (unsigned long long)i);
		if (i * 2 < N && (i * 2) % 7 == 0)
			ck_assert_uint_eq(v, i + 1000000000);
		else if ((i * 2 + 1) < N && (i * 2 + 1) % 7 == 0)
			ck_assert_uint_eq(v, i + 1000000000);
		else
			ck_assert_uint_eq(v, i);
	}
	ck_assert(!u64map_get(&m, key(N + 5), &v));
	ck_assert_uint_le(m.n * 2, m.t.cap);
	u64map_free(&m);
	ck_assert(!u64map_get(&m, key(1), &v));
}
END_TEST

/* The old table empties long before the new one fills (invariant 3). */
START_TEST(test_incremental)
{
	struct u64map	 m = { 0 };
	uint64_t	 i;
	size_t		 cap;

	for (i = 0; i < 4096; i++)
		u64map_put(&m, key(i), i);
	cap = m.t.cap;
	while (m.t.cap == cap)
		u64map_put(&m, key(i), i), i++;
	ck_assert_uint_eq(m.old.cap, cap);	/* doubling just started */
	ck_assert_uint_lt(m.opos, cap);
	while (m.old.cap != 0)
		u64map_put(&m, key(i), i), i++;
	ck_assert_uint_le(m.n * 2, m.t.cap);
	ck_assert_uint_lt(m.n, m.t.cap / 2 - m.t.cap / 8);
	u64map_free(&m);
}
END_TEST

static Suite *
u64map_suite(void)
{
	Suite	*s = suite_create("u64map");
	TCase	*tc = tcase_create("map");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_put_get);
	tcase_add_test(tc, test_incremental);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (check_main(u64map_suite()));
}
