/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for the libampsipc message-format helpers
 * (libampsipc/ampsipc-format.c): composite builder and parser, NVFIX and
 * FIX builders and shredders.  Exact bytes of known payloads (the
 * protocol notes' "Data=0<SOH>"), round trips with empty values, values
 * holding '=', custom separators, caller buffers that are too small,
 * malformed input of every kind, and large random round trips from a
 * fixed printed seed.
 */

#include "config.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ampsipc-format.h"
#include "testutil.h"

#define SEED	20260501u

/* Small deterministic generator, so failures reproduce from the seed. */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return (*s);
}

/* Does view v hold exactly the len bytes at p? */
static int
view_is(const struct ampsipc_fmt_view *v, const void *p, size_t len)
{
	return (v->len == len && (len == 0 || memcmp(v->ptr, p, len) == 0));
}

/* Does view v hold exactly the NUL-terminated string s? */
static int
view_str(const struct ampsipc_fmt_view *v, const char *s)
{
	return (view_is(v, s, strlen(s)));
}

/* ---------------------------------------------------------------- */
/* Composite                                                          */
/* ---------------------------------------------------------------- */

START_TEST(test_composite_zero_parts)
{
	struct ampsipc_composite_builder	cb;
	struct ampsipc_composite_parser		cp;
	struct ampsipc_fmt_view			v;
	const char				*d;
	size_t					 len = 99;

	ampsipc_composite_builder_init(&cb, NULL, 0);
	d = ampsipc_composite_data(&cb, &len);
	ck_assert_uint_eq(len, 0);
	ck_assert_uint_eq(ampsipc_composite_builder_count(&cb), 0);

	ck_assert_int_eq(ampsipc_composite_parse(&cp, d, len), 0);
	ck_assert_uint_eq(ampsipc_composite_count(&cp), 0);
	ck_assert_int_eq(ampsipc_composite_parse(&cp, NULL, 0), 0);
	ck_assert_uint_eq(ampsipc_composite_count(&cp), 0);
	errno = 0;
	ck_assert_int_eq(ampsipc_composite_part(&cp, 0, &v), -1);
	ck_assert_int_eq(errno, ERANGE);
	ampsipc_composite_builder_free(&cb);
	ampsipc_composite_builder_free(NULL);
}
END_TEST

START_TEST(test_composite_json_binary)
{
	static const char		 json[] = "{\"id\":42}";
	static const unsigned char	 bin[] = { 0x00, 0xff, 0x01, 0x00,
					    0x80, 0x7f, 0x00 };
	struct ampsipc_composite_builder cb;
	struct ampsipc_composite_parser	 cp;
	struct ampsipc_fmt_view		 v;
	unsigned char			 want[64];
	const char			*d;
	size_t				 len, jl = strlen(json), n = 0;

	ampsipc_composite_builder_init(&cb, NULL, 0);
	ck_assert_int_eq(ampsipc_composite_append(&cb, json, jl), 0);
	ck_assert_int_eq(ampsipc_composite_append(&cb, bin, sizeof bin), 0);
	ck_assert_int_eq(ampsipc_composite_append(&cb, NULL, 0), 0);
	ck_assert_uint_eq(ampsipc_composite_builder_count(&cb), 3);

	/* Exact bytes: 4-byte big-endian length, then the part. */
	want[n++] = 0; want[n++] = 0; want[n++] = 0;
	want[n++] = (unsigned char)jl;
	memcpy(want + n, json, jl);
	n += jl;
	want[n++] = 0; want[n++] = 0; want[n++] = 0; want[n++] = sizeof bin;
	memcpy(want + n, bin, sizeof bin);
	n += sizeof bin;
	want[n++] = 0; want[n++] = 0; want[n++] = 0; want[n++] = 0;
	d = ampsipc_composite_data(&cb, &len);
	ck_assert_uint_eq(len, n);
	ck_assert(memcmp(d, want, n) == 0);

	ck_assert_int_eq(ampsipc_composite_parse(&cp, d, len), 0);
	ck_assert_uint_eq(ampsipc_composite_count(&cp), 3);
	ck_assert_int_eq(ampsipc_composite_part(&cp, 0, &v), 0);
	ck_assert(view_is(&v, json, jl));
	ck_assert_int_eq(ampsipc_composite_part(&cp, 1, &v), 0);
	ck_assert(view_is(&v, bin, sizeof bin));
	ck_assert_int_eq(ampsipc_composite_part(&cp, 2, &v), 0);
	ck_assert_uint_eq(v.len, 0);
	/* Backwards rescans and still finds the right bytes. */
	ck_assert_int_eq(ampsipc_composite_part(&cp, 1, &v), 0);
	ck_assert(view_is(&v, bin, sizeof bin));
	ck_assert_int_eq(ampsipc_composite_part(&cp, 0, &v), 0);
	ck_assert(view_is(&v, json, jl));
	ck_assert_int_eq(ampsipc_composite_part(&cp, 3, &v), -1);
	ck_assert_int_eq(errno, ERANGE);

	/* Reset keeps the buffer and builds again from nothing. */
	ampsipc_composite_builder_reset(&cb);
	ck_assert_uint_eq(ampsipc_composite_builder_count(&cb), 0);
	ck_assert_int_eq(ampsipc_composite_append(&cb, "x", 1), 0);
	d = ampsipc_composite_data(&cb, &len);
	ck_assert_uint_eq(len, 5);
	ck_assert(memcmp(d, "\0\0\0\001x", 5) == 0);
	ampsipc_composite_builder_free(&cb);
	ck_assert_ptr_null(ampsipc_composite_data(&cb, &len));
	ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(test_composite_caller_buffer)
{
	struct ampsipc_composite_builder cb;
	char				 buf[16], snap[16];
	size_t				 len;

	memset(buf, 0xaa, sizeof buf);
	ampsipc_composite_builder_init(&cb, buf, 12);
	ck_assert_int_eq(ampsipc_composite_append(&cb, "abcd", 4), 0);
	ck_assert_int_eq(ampsipc_composite_append(&cb, "", 0), 0);
	memcpy(snap, buf, sizeof buf);
	/* 4 + 1 more would need 13 of 12: refused, nothing changes. */
	errno = 0;
	ck_assert_int_eq(ampsipc_composite_append(&cb, "z", 1), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert(memcmp(snap, buf, sizeof buf) == 0);
	ck_assert_uint_eq(ampsipc_composite_builder_count(&cb), 2);
	ck_assert_ptr_eq(ampsipc_composite_data(&cb, &len), buf);
	ck_assert_uint_eq(len, 12);
	/* Never wrote past the size given. */
	ck_assert_int_eq((unsigned char)buf[12], 0xaa);

	ck_assert_int_eq(ampsipc_composite_append(&cb, NULL, 1), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ampsipc_composite_append(NULL, "a", 1), -1);
	ck_assert_int_eq(errno, EINVAL);

	/* free() leaves the caller's buffer alone; the builder then grows. */
	ampsipc_composite_builder_free(&cb);
	ck_assert_int_eq(ampsipc_composite_append(&cb, "z", 1), 0);
	ck_assert_ptr_ne(ampsipc_composite_data(&cb, &len), buf);
	ck_assert_uint_eq(len, 5);
	ampsipc_composite_builder_free(&cb);
}
END_TEST

START_TEST(test_composite_malformed)
{
	static const struct {
		const char	*bytes;
		size_t		 len;
	} bad[] = {
		{ "\0", 1 },
		{ "\0\0", 2 },
		{ "\0\0\0", 3 },
		{ "\0\0\0\001", 4 },		/* 1 promised, 0 there */
		{ "\0\0\0\003ab", 6 },
		{ "\0\0\0\001a\0\0", 7 },	/* short 2nd header */
		{ "\0\0\0\001a\0\0\0\002b", 10 },
		{ "\377\377\377\377abcd", 8 },
		{ "\200\0\0\0", 4 },
	};
	struct ampsipc_composite_parser	cp;
	struct ampsipc_fmt_view		v;
	size_t				i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		errno = 0;
		ck_assert_msg(ampsipc_composite_parse(&cp, bad[i].bytes,
		    bad[i].len) == -1, "case %zu accepted", i);
		ck_assert_int_eq(errno, EBADMSG);
		ck_assert_uint_eq(ampsipc_composite_count(&cp), 0);
		ck_assert_int_eq(ampsipc_composite_part(&cp, 0, &v), -1);
	}
	ck_assert_int_eq(ampsipc_composite_parse(&cp, NULL, 4), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ampsipc_composite_parse(NULL, "", 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* A good prefix of a good payload parses; the exact one too. */
	ck_assert_int_eq(ampsipc_composite_parse(&cp,
	    "\0\0\0\001a\0\0\0\0", 9), 0);
	ck_assert_uint_eq(ampsipc_composite_count(&cp), 2);
}
END_TEST

START_TEST(test_composite_random)
{
	struct ampsipc_composite_builder cb;
	struct ampsipc_composite_parser	 cp;
	struct ampsipc_fmt_view		 v;
	unsigned char			*parts[64];
	size_t				 lens[64], n, i, k, len, round;
	uint32_t			 s = SEED;
	const char			*d;

	printf("check_format: composite random round trips, seed %u\n",
	    SEED);
	for (round = 0; round < 200; round++) {
		/* Start tiny so the builder must grow many times. */
		ampsipc_composite_builder_init(&cb, NULL, 1);
		n = rnd(&s) % 64;
		for (i = 0; i < n; i++) {
			lens[i] = rnd(&s) % 3 == 0 ? 0 : rnd(&s) % 5000;
			parts[i] = malloc(lens[i] + 1);
			ck_assert_ptr_nonnull(parts[i]);
			for (k = 0; k < lens[i]; k++)
				parts[i][k] = (unsigned char)rnd(&s);
			ck_assert_int_eq(ampsipc_composite_append(&cb,
			    parts[i], lens[i]), 0);
		}
		d = ampsipc_composite_data(&cb, &len);
		ck_assert_int_eq(ampsipc_composite_parse(&cp, d, len), 0);
		ck_assert_uint_eq(ampsipc_composite_count(&cp), n);
		for (i = 0; i < n; i++) {
			ck_assert_int_eq(ampsipc_composite_part(&cp, i, &v), 0);
			ck_assert_msg(view_is(&v, parts[i], lens[i]),
			    "seed %u round %zu part %zu", SEED, round, i);
		}
		/* Random access, and every truncation is refused. */
		for (i = 0; n > 0 && i < 10; i++) {
			k = rnd(&s) % n;
			ck_assert_int_eq(ampsipc_composite_part(&cp, k, &v), 0);
			ck_assert(view_is(&v, parts[k], lens[k]));
		}
		if (len > 0) {
			k = rnd(&s) % len;
			if (ampsipc_composite_parse(&cp, d, k) == 0)
				ck_assert_uint_lt(ampsipc_composite_count(&cp),
				    n);
			else
				ck_assert_int_eq(errno, EBADMSG);
			ck_assert_int_eq(ampsipc_composite_parse(&cp, d,
			    len - 1), -1);
		}
		for (i = 0; i < n; i++)
			free(parts[i]);
		ampsipc_composite_builder_free(&cb);
	}
}
END_TEST

/* ---------------------------------------------------------------- */
/* NVFIX                                                              */
/* ---------------------------------------------------------------- */

START_TEST(test_nvfix_spec_example)
{
	struct ampsipc_nvfix_builder	nb;
	struct ampsipc_nvfix_shredder	ns;
	struct ampsipc_fmt_view		n, v;
	const char			*d;
	size_t				 len;

	ck_assert_int_eq(ampsipc_nvfix_builder_init(&nb, NULL, 0, 0), 0);
	ck_assert_int_eq(ampsipc_nvfix_append_str(&nb, "Data", "0"), 0);
	d = ampsipc_nvfix_data(&nb, &len);
	ck_assert_uint_eq(len, 7);
	ck_assert(memcmp(d, "Data=0\001", 7) == 0);

	ck_assert_int_eq(ampsipc_nvfix_shred(&ns, "Data=0\001", 7, 0), 0);
	ck_assert_uint_eq(ampsipc_nvfix_count(&ns), 1);
	ck_assert_int_eq(ampsipc_nvfix_get_str(&ns, "Data", &v), 0);
	ck_assert(view_str(&v, "0"));
	ck_assert_int_eq(ampsipc_nvfix_next(&ns, &n, &v), 1);
	ck_assert(view_str(&n, "Data"));
	ck_assert(view_str(&v, "0"));
	ck_assert_int_eq(ampsipc_nvfix_next(&ns, &n, &v), 0);
	ampsipc_nvfix_builder_free(&nb);
}
END_TEST

START_TEST(test_nvfix_roundtrip)
{
	static const char		*names[] = { "sym", "empty", "expr",
					    "sym", "last" };
	static const char		*values[] = { "IBM", "", "a=b==c",
					    "MSFT", "=" };
	struct ampsipc_nvfix_builder	 nb;
	struct ampsipc_nvfix_shredder	 ns;
	struct ampsipc_fmt_view		 n, v;
	const char			*d;
	size_t				 len, i;

	ck_assert_int_eq(ampsipc_nvfix_builder_init(&nb, NULL, 4,
	    AMPSIPC_FMT_SOH), 0);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(ampsipc_nvfix_append_str(&nb, names[i],
		    values[i]), 0);
	d = ampsipc_nvfix_data(&nb, &len);
	ck_assert_uint_eq(len, strlen("sym=IBM\001empty=\001expr=a=b==c\001"
	    "sym=MSFT\001last==\001"));
	ck_assert(memcmp(d, "sym=IBM\001empty=\001expr=a=b==c\001"
	    "sym=MSFT\001last==\001", len) == 0);

	ck_assert_int_eq(ampsipc_nvfix_shred(&ns, d, len, 0), 0);
	ck_assert_uint_eq(ampsipc_nvfix_count(&ns), 5);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(ampsipc_nvfix_next(&ns, &n, &v), 1);
		ck_assert(view_str(&n, names[i]));
		ck_assert(view_str(&v, values[i]));
	}
	ck_assert_int_eq(ampsipc_nvfix_next(&ns, &n, &v), 0);
	ck_assert_int_eq(ampsipc_nvfix_next(&ns, NULL, NULL), 0);

	/* Lookups: first occurrence wins, the cursor does not move. */
	ampsipc_nvfix_rewind(&ns);
	ck_assert_int_eq(ampsipc_nvfix_next(&ns, &n, NULL), 1);
	ck_assert_int_eq(ampsipc_nvfix_get_str(&ns, "sym", &v), 0);
	ck_assert(view_str(&v, "IBM"));
	ck_assert_int_eq(ampsipc_nvfix_get_str(&ns, "empty", &v), 0);
	ck_assert_uint_eq(v.len, 0);
	ck_assert_int_eq(ampsipc_nvfix_get_str(&ns, "expr", &v), 0);
	ck_assert(view_str(&v, "a=b==c"));
	ck_assert_int_eq(ampsipc_nvfix_get_str(&ns, "last", &v), 0);
	ck_assert(view_str(&v, "="));
	ck_assert_int_eq(ampsipc_nvfix_get(&ns, "symbol", 3, NULL), 0);
	errno = 0;
	ck_assert_int_eq(ampsipc_nvfix_get_str(&ns, "sy", &v), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(ampsipc_nvfix_get_str(&ns, "symx", &v), -1);
	ck_assert_int_eq(ampsipc_nvfix_get_str(&ns, "", &v), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(ampsipc_nvfix_next(&ns, &n, NULL), 1);
	ck_assert(view_str(&n, "empty"));

	/* The last field may lack its separator. */
	ck_assert_int_eq(ampsipc_nvfix_shred(&ns, "a=1\001b=", 6, 0), 0);
	ck_assert_uint_eq(ampsipc_nvfix_count(&ns), 2);
	ck_assert_int_eq(ampsipc_nvfix_get_str(&ns, "b", &v), 0);
	ck_assert_uint_eq(v.len, 0);
	/* No fields at all. */
	ck_assert_int_eq(ampsipc_nvfix_shred(&ns, NULL, 0, 0), 0);
	ck_assert_uint_eq(ampsipc_nvfix_count(&ns), 0);
	ck_assert_int_eq(ampsipc_nvfix_next(&ns, &n, &v), 0);
	ck_assert_int_eq(ampsipc_nvfix_get_str(&ns, "a", &v), -1);

	ampsipc_nvfix_builder_reset(&nb);
	ampsipc_nvfix_data(&nb, &len);
	ck_assert_uint_eq(len, 0);
	ampsipc_nvfix_builder_free(&nb);
}
END_TEST

START_TEST(test_nvfix_custom_separator)
{
	struct ampsipc_nvfix_builder	nb;
	struct ampsipc_nvfix_shredder	ns;
	struct ampsipc_fmt_view		n, v;
	char				buf[32];
	const char			*d;
	size_t				 len;

	ck_assert_int_eq(ampsipc_nvfix_builder_init(&nb, buf, sizeof buf,
	    '|'), 0);
	ck_assert_int_eq(ampsipc_nvfix_append_str(&nb, "a", "1"), 0);
	/* SOH is an ordinary byte now. */
	ck_assert_int_eq(ampsipc_nvfix_append_str(&nb, "b\001", "x\001y"), 0);
	ck_assert_int_eq(ampsipc_nvfix_append_str(&nb, "c", "p|q"), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ampsipc_nvfix_append_str(&nb, "c|", "q"), -1);
	ck_assert_int_eq(errno, EINVAL);
	d = ampsipc_nvfix_data(&nb, &len);
	ck_assert_ptr_eq(d, buf);
	ck_assert_uint_eq(len, 11);
	ck_assert(memcmp(d, "a=1|b\001=x\001y|", 11) == 0);

	ck_assert_int_eq(ampsipc_nvfix_shred(&ns, d, len, '|'), 0);
	ck_assert_uint_eq(ampsipc_nvfix_count(&ns), 2);
	ck_assert_int_eq(ampsipc_nvfix_get(&ns, "b\001", 2, &v), 0);
	ck_assert(view_str(&v, "x\001y"));
	ck_assert_int_eq(ampsipc_nvfix_next(&ns, &n, &v), 1);
	ck_assert(view_str(&n, "a"));
	ck_assert(view_str(&v, "1"));
	/* Read with SOH the field "=x" has no name. */
	ck_assert_int_eq(ampsipc_nvfix_shred(&ns, d, len, 0), -1);
	ck_assert_int_eq(errno, EBADMSG);
	ck_assert_int_eq(ampsipc_nvfix_shred(&ns, "a=1|b=2|", 8, 0), 0);
	ck_assert_uint_eq(ampsipc_nvfix_count(&ns), 1);
	ck_assert_int_eq(ampsipc_nvfix_next(&ns, &n, &v), 1);
	ck_assert(view_str(&v, "1|b=2|"));

	/* '=' cannot separate fields. */
	ck_assert_int_eq(ampsipc_nvfix_builder_init(&nb, NULL, 0, '='), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ampsipc_nvfix_shred(&ns, "a=1", 3, '='), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(ampsipc_nvfix_count(&ns), 0);
}
END_TEST

START_TEST(test_nvfix_builder_rules)
{
	struct ampsipc_nvfix_builder	nb;
	char				buf[10], snap[10];
	size_t				len;

	memset(buf, 0x55, sizeof buf);
	ck_assert_int_eq(ampsipc_nvfix_builder_init(&nb, buf, 8, 0), 0);
	ck_assert_int_eq(ampsipc_nvfix_append_str(&nb, "", "v"), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ampsipc_nvfix_append_str(&nb, "a=b", "v"), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ampsipc_nvfix_append_str(&nb, "a\001", "v"), -1);
	ck_assert_int_eq(ampsipc_nvfix_append_str(&nb, "a", "v\001"), -1);
	ck_assert_int_eq(ampsipc_nvfix_append(&nb, "a", 1, NULL, 1), -1);
	ck_assert_int_eq(ampsipc_nvfix_append(&nb, NULL, 0, "v", 1), -1);
	ck_assert_int_eq(ampsipc_nvfix_append_str(&nb, "a", NULL), -1);
	ck_assert_int_eq(ampsipc_nvfix_append_str(NULL, "a", "v"), -1);
	ck_assert_int_eq(errno, EINVAL);
	ampsipc_nvfix_data(&nb, &len);
	ck_assert_uint_eq(len, 0);

	/* 7 of 8 bytes; a field that does not fit is refused whole. */
	ck_assert_int_eq(ampsipc_nvfix_append(&nb, "ab", 2, "xyz", 3), 0);
	ck_assert_int_eq(ampsipc_nvfix_append(&nb, "c", 1, NULL, 0), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_int_eq(ampsipc_nvfix_append(&nb, "c", 1, "1", 1), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	memcpy(snap, buf, sizeof buf);
	ampsipc_nvfix_builder_reset(&nb);
	ck_assert_int_eq(ampsipc_nvfix_append(&nb, "abcdef", 6, "", 0), 0);
	ck_assert(memcmp(buf, "abcdef=\001", 8) == 0);
	ck_assert_int_eq(buf[8], 0x55);
	ck_assert(memcmp(snap, "ab=xyz\001", 7) == 0);
	ck_assert_int_eq(ampsipc_nvfix_append(&nb, "a", 1, "", 0), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert(memcmp(buf, "abcdef=\001", 8) == 0);
	ampsipc_nvfix_data(&nb, &len);
	ck_assert_uint_eq(len, 8);
}
END_TEST

START_TEST(test_nvfix_malformed)
{
	static const char *bad[] = {
		"abc",			/* no '=' */
		"=v\001",		/* empty name */
		"\001",			/* empty field */
		"a=1\001\001b=2\001",
		"a=1\001junk\001",
		"a=1\001junk",
		"a=1\001=",
		"\001a=1",
	};
	struct ampsipc_nvfix_shredder	ns;
	struct ampsipc_fmt_view		n, v;
	size_t				i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		errno = 0;
		ck_assert_msg(ampsipc_nvfix_shred(&ns, bad[i], strlen(bad[i]),
		    0) == -1, "case %zu accepted", i);
		ck_assert_int_eq(errno, EBADMSG);
		ck_assert_uint_eq(ampsipc_nvfix_count(&ns), 0);
		ck_assert_int_eq(ampsipc_nvfix_next(&ns, &n, &v), 0);
		ck_assert_int_eq(ampsipc_nvfix_get_str(&ns, "a", &v), -1);
	}
	ck_assert_int_eq(ampsipc_nvfix_shred(&ns, NULL, 3, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ampsipc_nvfix_shred(NULL, "a=1", 3, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ampsipc_nvfix_next(NULL, &n, &v), 0);
	/* The length given is what counts, not a NUL. */
	ck_assert_int_eq(ampsipc_nvfix_shred(&ns, "a=1\001bc", 5, 0), -1);
	ck_assert_int_eq(ampsipc_nvfix_shred(&ns, "a=1\001bc", 4, 0), 0);
	ck_assert_int_eq(ampsipc_nvfix_shred(&ns, "a=\0\001", 4, 0), 0);
	ck_assert_int_eq(ampsipc_nvfix_get_str(&ns, "a", &v), 0);
	ck_assert(view_is(&v, "\0", 1));
}
END_TEST

/* Random bytes for a name (no '=' or sep) or a value (no sep). */
static void
fill(uint32_t *s, char *p, size_t len, char sep, int name)
{
	size_t	i;
	char	c;

	for (i = 0; i < len; i++) {
		do
			c = (char)rnd(s);
		while (c == sep || (name && c == '='));
		p[i] = c;
	}
}

START_TEST(test_nvfix_random)
{
	static const char		 seps[] = { 0, '|', ';', '\n',
					    '\001' };
	struct ampsipc_nvfix_builder	 nb;
	struct ampsipc_nvfix_shredder	 ns;
	struct ampsipc_fmt_view		 n, v;
	char				 names[100][40], values[100][300];
	size_t				 nl[100], vl[100], count, i, j, k;
	size_t				 len, round;
	uint32_t			 s = SEED;
	const char			*d;
	char				 sep, real;

	printf("check_format: NVFIX random round trips, seed %u\n", SEED);
	for (round = 0; round < 300; round++) {
		sep = seps[rnd(&s) % sizeof seps];
		real = sep != 0 ? sep : AMPSIPC_FMT_SOH;
		ck_assert_int_eq(ampsipc_nvfix_builder_init(&nb, NULL, 0, sep),
		    0);
		count = rnd(&s) % 100;
		for (i = 0; i < count; i++) {
			nl[i] = 1 + rnd(&s) % sizeof names[0];
			vl[i] = rnd(&s) % 4 == 0 ? 0 :
			    rnd(&s) % sizeof values[0];
			fill(&s, names[i], nl[i], real, 1);
			fill(&s, values[i], vl[i], real, 0);
			/* Some values are full of '='. */
			if (vl[i] > 0 && rnd(&s) % 3 == 0)
				memset(values[i], '=', vl[i] / 2 + 1);
			ck_assert_int_eq(ampsipc_nvfix_append(&nb, names[i],
			    nl[i], values[i], vl[i]), 0);
		}
		d = ampsipc_nvfix_data(&nb, &len);
		ck_assert_int_eq(ampsipc_nvfix_shred(&ns, d, len, sep), 0);
		ck_assert_uint_eq(ampsipc_nvfix_count(&ns), count);
		for (i = 0; i < count; i++) {
			ck_assert_int_eq(ampsipc_nvfix_next(&ns, &n, &v), 1);
			ck_assert_msg(view_is(&n, names[i], nl[i]) &&
			    view_is(&v, values[i], vl[i]),
			    "seed %u round %zu field %zu", SEED, round, i);
		}
		ck_assert_int_eq(ampsipc_nvfix_next(&ns, &n, &v), 0);
		for (i = 0; count > 0 && i < 5; i++) {
			k = rnd(&s) % count;
			ck_assert_int_eq(ampsipc_nvfix_get(&ns, names[k], nl[k],
			    &v), 0);
			/* The first field of that name (names may repeat). */
			for (j = 0; nl[j] != nl[k] ||
			    memcmp(names[j], names[k], nl[k]) != 0; j++)
				;
			ck_assert(view_is(&v, values[j], vl[j]));
		}
		ampsipc_nvfix_builder_free(&nb);
	}
}
END_TEST

/* ---------------------------------------------------------------- */
/* FIX                                                                */
/* ---------------------------------------------------------------- */

START_TEST(test_fix_roundtrip)
{
	struct ampsipc_fix_builder	fb;
	struct ampsipc_fix_shredder	fs;
	struct ampsipc_fmt_view		v;
	const char			*d, *want;
	size_t				 len;
	int				 tag;

	ck_assert_int_eq(ampsipc_fix_builder_init(&fb, NULL, 0, 0), 0);
	ck_assert_int_eq(ampsipc_fix_append_str(&fb, 35, "D"), 0);
	ck_assert_int_eq(ampsipc_fix_append_str(&fb, 55, "IBM"), 0);
	ck_assert_int_eq(ampsipc_fix_append(&fb, 58, "a=b", 3), 0);
	ck_assert_int_eq(ampsipc_fix_append(&fb, 0, NULL, 0), 0);
	ck_assert_int_eq(ampsipc_fix_append_str(&fb, INT_MAX, "max"), 0);
	ck_assert_int_eq(ampsipc_fix_append_str(&fb, 55, "dup"), 0);
	want = "35=D\00155=IBM\00158=a=b\0010=\0012147483647=max\00155=dup\001";
	d = ampsipc_fix_data(&fb, &len);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert(memcmp(d, want, len) == 0);

	ck_assert_int_eq(ampsipc_fix_shred(&fs, d, len, 0), 0);
	ck_assert_uint_eq(ampsipc_fix_count(&fs), 6);
	ck_assert_int_eq(ampsipc_fix_next(&fs, &tag, &v), 1);
	ck_assert_int_eq(tag, 35);
	ck_assert(view_str(&v, "D"));
	ck_assert_int_eq(ampsipc_fix_next(&fs, &tag, &v), 1);
	ck_assert_int_eq(tag, 55);
	ck_assert_int_eq(ampsipc_fix_next(&fs, &tag, &v), 1);
	ck_assert_int_eq(tag, 58);
	ck_assert(view_str(&v, "a=b"));
	ck_assert_int_eq(ampsipc_fix_next(&fs, &tag, &v), 1);
	ck_assert_int_eq(tag, 0);
	ck_assert_uint_eq(v.len, 0);
	ck_assert_int_eq(ampsipc_fix_next(&fs, &tag, NULL), 1);
	ck_assert_int_eq(tag, INT_MAX);
	ck_assert_int_eq(ampsipc_fix_next(&fs, NULL, &v), 1);
	ck_assert(view_str(&v, "dup"));
	ck_assert_int_eq(ampsipc_fix_next(&fs, &tag, &v), 0);

	/* Lookup by tag, as a filter's /55 would. */
	ck_assert_int_eq(ampsipc_fix_get(&fs, 55, &v), 0);
	ck_assert(view_str(&v, "IBM"));
	ck_assert_int_eq(ampsipc_fix_get(&fs, INT_MAX, &v), 0);
	ck_assert(view_str(&v, "max"));
	ck_assert_int_eq(ampsipc_fix_get(&fs, 0, NULL), 0);
	errno = 0;
	ck_assert_int_eq(ampsipc_fix_get(&fs, 5, &v), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(ampsipc_fix_get(&fs, -1, &v), -1);
	ck_assert_int_eq(errno, ENOENT);
	ampsipc_fix_rewind(&fs);
	ck_assert_int_eq(ampsipc_fix_next(&fs, &tag, NULL), 1);
	ck_assert_int_eq(tag, 35);

	/* Leading zeros name the same tag; no trailing separator is fine. */
	ck_assert_int_eq(ampsipc_fix_shred(&fs, "055=x\00144=1.5", 12, 0), 0);
	ck_assert_int_eq(ampsipc_fix_get(&fs, 55, &v), 0);
	ck_assert(view_str(&v, "x"));
	ck_assert_int_eq(ampsipc_fix_get(&fs, 44, &v), 0);
	ck_assert(view_str(&v, "1.5"));

	/* Builder rules. */
	ck_assert_int_eq(ampsipc_fix_append_str(&fb, -1, "x"), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ampsipc_fix_append_str(&fb, 1, "x\001"), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ampsipc_fix_append_str(&fb, 1, NULL), -1);
	ck_assert_int_eq(ampsipc_fix_append(&fb, 1, NULL, 2), -1);
	ck_assert_int_eq(ampsipc_fix_append_str(NULL, 1, "x"), -1);
	ampsipc_fix_data(&fb, &len);
	ck_assert_uint_eq(len, strlen(want));
	ampsipc_fix_builder_reset(&fb);
	ck_assert_ptr_nonnull(ampsipc_fix_data(&fb, &len));
	ck_assert_uint_eq(len, 0);
	ampsipc_fix_builder_free(&fb);
	ampsipc_fix_builder_free(NULL);
}
END_TEST

START_TEST(test_fix_separator_and_buffer)
{
	struct ampsipc_fix_builder	fb;
	struct ampsipc_fix_shredder	fs;
	struct ampsipc_fmt_view		v;
	char				buf[13];
	const char			*d;
	size_t				 len;
	int				 tag;

	ck_assert_int_eq(ampsipc_fix_builder_init(&fb, NULL, 0, '7'), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ampsipc_fix_builder_init(&fb, NULL, 0, '='), -1);
	ck_assert_int_eq(ampsipc_fix_shred(&fs, "1=2", 3, '0'), -1);
	ck_assert_int_eq(errno, EINVAL);

	ck_assert_int_eq(ampsipc_fix_builder_init(&fb, buf, sizeof buf, ';'),
	    0);
	ck_assert_int_eq(ampsipc_fix_append_str(&fb, 1, "a"), 0);
	ck_assert_int_eq(ampsipc_fix_append_str(&fb, 22, "bc"), 0);
	ck_assert_int_eq(ampsipc_fix_append_str(&fb, 3, "x;"), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* 4 + 6 of 13 bytes used: "3=;" fits, "3=d;" does not. */
	ck_assert_int_eq(ampsipc_fix_append_str(&fb, 3, "d"), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_int_eq(ampsipc_fix_append_str(&fb, 3, ""), 0);
	d = ampsipc_fix_data(&fb, &len);
	ck_assert_uint_eq(len, 13);
	ck_assert(memcmp(d, "1=a;22=bc;3=;", 13) == 0);

	ck_assert_int_eq(ampsipc_fix_shred(&fs, d, len, ';'), 0);
	ck_assert_uint_eq(ampsipc_fix_count(&fs), 3);
	ck_assert_int_eq(ampsipc_fix_get(&fs, 22, &v), 0);
	ck_assert(view_str(&v, "bc"));
	ck_assert_int_eq(ampsipc_fix_next(&fs, &tag, &v), 1);
	ck_assert_int_eq(tag, 1);
	/* With SOH it is one field whose tag is "1" and value the rest. */
	ck_assert_int_eq(ampsipc_fix_shred(&fs, d, len, 0), 0);
	ck_assert_uint_eq(ampsipc_fix_count(&fs), 1);
}
END_TEST

START_TEST(test_fix_malformed)
{
	static const char *bad[] = {
		"x=1\001",
		"=1\001",
		"12a=1\001",
		" 1=1\001",
		"+1=1\001",
		"-1=1\001",
		"2147483648=1\001",
		"99999999999999999999=1\001",
		"1=1\001\001",
		"1=1\00155",
		"\001",
	};
	struct ampsipc_fix_shredder	fs;
	struct ampsipc_fmt_view		v;
	size_t				i;
	int				tag;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		errno = 0;
		ck_assert_msg(ampsipc_fix_shred(&fs, bad[i], strlen(bad[i]),
		    0) == -1, "case %zu accepted", i);
		ck_assert_int_eq(errno, EBADMSG);
		ck_assert_uint_eq(ampsipc_fix_count(&fs), 0);
		ck_assert_int_eq(ampsipc_fix_next(&fs, &tag, &v), 0);
		ck_assert_int_eq(ampsipc_fix_get(&fs, 1, &v), -1);
	}
	ck_assert_int_eq(ampsipc_fix_shred(&fs, "2147483647=1\001", 13, 0), 0);
	ck_assert_int_eq(ampsipc_fix_shred(&fs, "0000000000001=1", 15, 0), 0);
	ck_assert_int_eq(ampsipc_fix_get(&fs, 1, &v), 0);
	ck_assert_int_eq(ampsipc_fix_shred(&fs, NULL, 1, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ampsipc_fix_shred(NULL, "1=1", 3, 0), -1);
	ck_assert_int_eq(ampsipc_fix_get(NULL, 1, &v), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ampsipc_fix_next(NULL, &tag, &v), 0);
}
END_TEST

START_TEST(test_fix_random)
{
	struct ampsipc_fix_builder	 fb;
	struct ampsipc_fix_shredder	 fs;
	struct ampsipc_fmt_view		 v;
	char				 values[200][100];
	size_t				 vl[200], count, i, len, round;
	int				 tags[200], tag;
	uint32_t			 s = SEED + 1;
	const char			*d;

	printf("check_format: FIX random round trips, seed %u\n", SEED + 1);
	for (round = 0; round < 300; round++) {
		ck_assert_int_eq(ampsipc_fix_builder_init(&fb, NULL, 0, 0), 0);
		count = rnd(&s) % 200;
		for (i = 0; i < count; i++) {
			/* Distinct tags (index in the low digits). */
			tags[i] = (int)(rnd(&s) % 1000000) * 1000 + (int)i;
			if (rnd(&s) % 4 == 0)
				tags[i] = (int)i;
			vl[i] = rnd(&s) % sizeof values[0];
			fill(&s, values[i], vl[i], AMPSIPC_FMT_SOH, 0);
			ck_assert_int_eq(ampsipc_fix_append(&fb, tags[i],
			    values[i], vl[i]), 0);
		}
		d = ampsipc_fix_data(&fb, &len);
		ck_assert_int_eq(ampsipc_fix_shred(&fs, d, len, 0), 0);
		ck_assert_uint_eq(ampsipc_fix_count(&fs), count);
		for (i = 0; i < count; i++) {
			ck_assert_int_eq(ampsipc_fix_next(&fs, &tag, &v), 1);
			ck_assert_msg(tag == tags[i] &&
			    view_is(&v, values[i], vl[i]),
			    "seed %u round %zu field %zu", SEED + 1, round, i);
		}
		ck_assert_int_eq(ampsipc_fix_next(&fs, &tag, &v), 0);
		for (i = 0; i < count; i += 1 + count / 7) {
			ck_assert_int_eq(ampsipc_fix_get(&fs, tags[i], &v), 0);
			ck_assert(view_is(&v, values[i], vl[i]));
		}
		ampsipc_fix_builder_free(&fb);
	}
}
END_TEST

static Suite *
format_suite(void)
{
	Suite	*s = suite_create("format");
	TCase	*tc;

	tc = tcase_create("composite");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_composite_zero_parts);
	tcase_add_test(tc, test_composite_json_binary);
	tcase_add_test(tc, test_composite_caller_buffer);
	tcase_add_test(tc, test_composite_malformed);
	tcase_add_test(tc, test_composite_random);
	suite_add_tcase(s, tc);

	tc = tcase_create("nvfix");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_nvfix_spec_example);
	tcase_add_test(tc, test_nvfix_roundtrip);
	tcase_add_test(tc, test_nvfix_custom_separator);
	tcase_add_test(tc, test_nvfix_builder_rules);
	tcase_add_test(tc, test_nvfix_malformed);
	tcase_add_test(tc, test_nvfix_random);
	suite_add_tcase(s, tc);

	tc = tcase_create("fix");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_fix_roundtrip);
	tcase_add_test(tc, test_fix_separator_and_buffer);
	tcase_add_test(tc, test_fix_malformed);
	tcase_add_test(tc, test_fix_random);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (check_main(format_suite()));
}
