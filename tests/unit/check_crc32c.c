/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for daemon/crc32c.c: the standard check vectors, the
 * incremental form, and the hardware path against the portable one on
 * random buffers of every alignment (fixed seed).
 */

#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "testutil.h"

uint32_t	crc32c_update_sw(uint32_t, const void *, size_t);

START_TEST(test_vectors)
{
	unsigned char	 zeros[32], ones[32], inc[32];
	int		 i;

	memset(zeros, 0, sizeof zeros);
	memset(ones, 0xff, sizeof ones);
	for (i = 0; i < 32; i++)
		inc[i] = (unsigned char)i;
	/* RFC 3720 B.4 and the usual "123456789" check value. */
	ck_assert_uint_eq(crc32c_update(0, "123456789", 9), 0xe3069283u);
	ck_assert_uint_eq(crc32c_update(0, zeros, 32), 0x8a9136aau);
	ck_assert_uint_eq(crc32c_update(0, ones, 32), 0x62a8ab43u);
	ck_assert_uint_eq(crc32c_update(0, inc, 32), 0x46dd794eu);
	ck_assert_uint_eq(crc32c_update_sw(0, "123456789", 9), 0xe3069283u);
	ck_assert_uint_eq(crc32c_update(0, "", 0), 0);
	ck_assert_uint_eq(crc32c_update(0x1234, "", 0), 0x1234);
}
END_TEST

START_TEST(test_incremental_and_paths)
{
	unsigned char	*buf;
	uint32_t	 whole, parts;
	size_t		 n, off, cut, i;

	srandom(12);
	buf = malloc(4096 + 16);
	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < 4096 + 16; i++)
		buf[i] = (unsigned char)random();
	for (i = 0; i < 2000; i++) {
		off = (size_t)random() % 16;
		n = (size_t)random() % 4096;
		cut = n == 0 ? 0 : (size_t)random() % n;
		whole = crc32c_update(0, buf + off, n);
		ck_assert_uint_eq(whole, crc32c_update_sw(0, buf + off, n));
		parts = crc32c_update(0, buf + off, cut);
		parts = crc32c_update(parts, buf + off + cut, n - cut);
		ck_assert_uint_eq(whole, parts);
	}
	/* One flipped bit anywhere changes the value. */
	whole = crc32c_update(0, buf, 1000);
	for (i = 0; i < 1000 * 8; i += 37) {
		buf[i / 8] ^= (unsigned char)(1u << (i % 8));
		ck_assert_uint_ne(crc32c_update(0, buf, 1000), whole);
		buf[i / 8] ^= (unsigned char)(1u << (i % 8));
	}
	free(buf);
}
END_TEST

static Suite *
crc32c_suite(void)
{
	Suite	*s = suite_create("crc32c");
	TCase	*tc = tcase_create("crc32c");

	tcase_add_test(tc, test_vectors);
	tcase_add_test(tc, test_incremental_and_paths);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (check_main(crc32c_suite()));
}
