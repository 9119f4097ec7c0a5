/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for codec/amps-sow.c (SOW batch splitting, PROTOCOL.md §2.4) and
 * amps_hdr_overlay().  The batch of PROTOCOL.md Appendix A.8 (typed in as
 * hex in appendix_a8.h) is split, and rebuilt byte for byte with
 * amps_wr_begin_bare record headers.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amps.h"
#include "appendix_a8.h"
#include "testutil.h"

#define TEST_TIMEOUT	20	/* seconds per test */

/* A.8 step 3: one batch of two records, len 177 = 00 00 00 b1. */
static const char a8_hex[] = A8_BATCH_HEX;

/* What PROTOCOL.md says the batch decodes to. */
static const char a8_outer[] =
    "{\"c\":\"sow\",\"t\":\"orders\",\"query_id\":\"4\",\"bs\":2}";
static const char *const a8_rec_hdr[2] = {
	"{\"k\":\"101\",\"bm\":\"9518329128413381245|40|\",\"l\":16}",
	"{\"k\":\"102\",\"bm\":\"9518329128413381245|41|\",\"l\":17}",
};
static const char *const a8_rec_data[2] = {
	"{\"id\":1,\"qty\":5}",
	"{\"id\":2,\"qty\":80}",
};

/*
 * Split body[0..len) (a whole sow frame body) and return the number of
 * records, or the first error.
 */
static int
count_records(const char *body, size_t len)
{
	struct amps_hdr		 outer, m;
	struct amps_sow_iter	 it;
	const char		*data;
	size_t			 dlen;
	int			 rc, n = 0;

	if ((rc = amps_hdr_parse(body, len, &outer)) != 0)
		return (rc);
	amps_sow_begin(&it, &outer, body, len);
	while ((rc = amps_sow_next(&it, &m, &data, &dlen)) == 1) {
		ck_assert(data >= body);
		ck_assert(data + dlen <= body + len);
		n++;
	}
	return (rc < 0 ? rc : n);
}

/* The A.8 batch splits into its two records with merged headers. */
START_TEST(test_a8_split)
{
	struct amps_hdr		 outer, m;
	struct amps_sow_iter	 it;
	char			 frame[256], s[64];
	const char		*body, *data;
	uint32_t		 blen;
	size_t			 n, used, dlen;
	uint64_t		 x;
	int			 i;

	n = test_hex2bin(a8_hex, frame, sizeof frame);
	ck_assert_uint_eq(n, 181);
	ck_assert(memcmp(frame, "\0\0\0\xb1", 4) == 0);
	ck_assert_int_eq(amps_frame_next(frame, n, AMPS_FRAME_MAX_DEFAULT,
	    &body, &blen, &used), 1);
	ck_assert_uint_eq(blen, 177);

	ck_assert_int_eq(amps_hdr_parse(body, blen, &outer), 0);
	ck_assert_uint_eq(outer.hdr_len, 46);
	ck_assert(memcmp(body, a8_outer, 46) == 0);
	ck_assert_int_eq(amps_hdr_cmd(&outer), AMPS_CMD_SOW);

	amps_sow_begin(&it, &outer, body, blen);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(amps_sow_next(&it, &m, &data, &dlen), 1);
		/* Outer fields, then the record's, record winning. */
		ck_assert_int_eq(amps_hdr_cmd(&m), AMPS_CMD_SOW);
		ck_assert(amps_hdr_eq(&m, AMPS_F_T, "orders"));
		ck_assert(amps_hdr_eq(&m, AMPS_F_QUERY_ID, "4"));
		ck_assert_int_eq(amps_hdr_u64(&m, AMPS_F_BS, &x), 0);
		ck_assert_uint_eq(x, 2);
		ck_assert(amps_hdr_eq(&m, AMPS_F_K, i == 0 ? "101" : "102"));
		ck_assert_int_eq(amps_hdr_str(&m, AMPS_F_BM, s, sizeof s), 23);
		ck_assert_str_eq(s, i == 0 ? "9518329128413381245|40|" :
		    "9518329128413381245|41|");
		ck_assert_int_eq(amps_hdr_u64(&m, AMPS_F_L, &x), 0);
		ck_assert_uint_eq(x, dlen);
		ck_assert_int_eq(m.norder, 7);
		ck_assert_int_eq(m.order[0], AMPS_F_C);
		ck_assert_int_eq(m.order[4], AMPS_F_K);
		ck_assert_int_eq(m.order[6], AMPS_F_L);
		/* Data and the record header right before it. */
		ck_assert_uint_eq(dlen, strlen(a8_rec_data[i]));
		ck_assert(memcmp(data, a8_rec_data[i], dlen) == 0);
		ck_assert_uint_eq(m.hdr_len, strlen(a8_rec_hdr[i]));
		ck_assert(memcmp(data - m.hdr_len, a8_rec_hdr[i],
		    m.hdr_len) == 0);
	}
	ck_assert_int_eq(amps_sow_next(&it, &m, &data, &dlen), 0);
	ck_assert_int_eq(amps_sow_next(&it, &m, &data, &dlen), 0);
}
END_TEST

/* The A.8 batch is rebuilt byte for byte from bare-written record headers. */
START_TEST(test_a8_reencode)
{
	struct amps_hdr		 outer, m, rec;
	struct amps_sow_iter	 it;
	struct amps_wr		 w;
	char			 frame[256], recs[256], out[256];
	const char		*body, *data, *rh;
	uint32_t		 blen;
	size_t			 n, used, dlen, off = 0;
	long long		 r;
	unsigned		 i;
	int			 k = 0;

	n = test_hex2bin(a8_hex, frame, sizeof frame);
	ck_assert_int_eq(amps_frame_next(frame, n, AMPS_FRAME_MAX_DEFAULT,
	    &body, &blen, &used), 1);
	ck_assert_int_eq(amps_hdr_parse(body, blen, &outer), 0);

	/* Each record header re-encoded bare, field by field, + its data. */
	amps_sow_begin(&it, &outer, body, blen);
	while (amps_sow_next(&it, &m, &data, &dlen) == 1) {
		rh = data - m.hdr_len;
		ck_assert_int_eq(amps_hdr_parse(rh, m.hdr_len, &rec), 0);
		amps_wr_begin_bare(&w, recs + off, sizeof recs - off);
		for (i = 0; i < rec.norder; i++)
			amps_wr_view(&w, rec.order[i], &rec.v[rec.order[i]]);
		r = amps_wr_finish(&w, data, dlen);
		ck_assert_int_eq(r, (long long)(m.hdr_len + dlen));
		ck_assert(memcmp(recs + off, rh, (size_t)r) == 0);

		/* The same through amps_hdr_write (bare). */
		ck_assert_int_eq(amps_hdr_write(&rec, 0, data, dlen, out,
		    sizeof out), r);
		ck_assert(memcmp(out, rh, (size_t)r) == 0);
		off += (size_t)r;
		k++;
	}
	ck_assert_int_eq(k, 2);

	/* The whole frame: outer header + the re-encoded records. */
	r = amps_hdr_write(&outer, 1, recs, off, out, sizeof out);
	ck_assert_int_eq(r, 181);
	ck_assert(memcmp(out, frame, 181) == 0);
}
END_TEST

/* Records without l, with a bad l or l beyond the frame are rejected. */
START_TEST(test_bad_records)
{
	static const struct {
		const char	*body;
		int		 rc;
	} t[] = {
		/* Outer header only: no records. */
		{ "{\"c\":\"sow\",\"bs\":0}", 0 },
		/* Records with l = 0 and bs that does not match. */
		{ "{\"c\":\"sow\",\"bs\":7}{\"l\":0}{\"l\":\"1\"}x", 2 },
		{ "{\"c\":\"sow\"}{\"k\":\"1\"}abc", AMPS_E_SOW_RECORD },
		{ "{\"c\":\"sow\"}{\"l\":4}abc", AMPS_E_SOW_RECORD },
		{ "{\"c\":\"sow\"}{\"l\":3}abc{\"l\":1}", AMPS_E_SOW_RECORD },
		{ "{\"c\":\"sow\"}{\"l\":-1}abc", AMPS_E_SOW_RECORD },
		{ "{\"c\":\"sow\"}{\"l\":\"x\"}abc", AMPS_E_SOW_RECORD },
		{ "{\"c\":\"sow\"}{\"l\":18446744073709551616}",
		  AMPS_E_SOW_RECORD },
		{ "{\"c\":\"sow\"}{\"l\":18446744073709551615}",
		  AMPS_E_SOW_RECORD },
		{ "{\"c\":\"sow\"}{\"l\":3}abcX", AMPS_E_NOT_OBJECT },
		{ "{\"c\":\"sow\"}{\"l\":3}abc{\"l\"", AMPS_E_TRUNCATED },
		{ "{\"c\":\"sow\"}{\"l\":3 abc", AMPS_E_SYNTAX },
		{ "{\"c\":\"sow\"} ", AMPS_E_TRUNCATED },
		/* msg_len is l too. */
		{ "{\"c\":\"sow\"}{\"msg_len\":2}ab{\"l\":1}c", 2 },
	};
	size_t	i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		ck_assert_msg(count_records(t[i].body, strlen(t[i].body)) ==
		    t[i].rc, "%s: %d", t[i].body,
		    count_records(t[i].body, strlen(t[i].body)));
}
END_TEST

/* An error does not advance the iterator. */
START_TEST(test_error_sticks)
{
	static const char	 body[] =
	    "{\"c\":\"sow\"}{\"l\":1}a{\"k\":\"2\"}b";
	struct amps_hdr		 outer, m;
	struct amps_sow_iter	 it;
	const char		*data;
	size_t			 dlen;

	ck_assert_int_eq(amps_hdr_parse(body, sizeof body - 1, &outer), 0);
	amps_sow_begin(&it, &outer, body, sizeof body - 1);
	ck_assert_int_eq(amps_sow_next(&it, &m, &data, &dlen), 1);
	ck_assert_int_eq(amps_sow_next(&it, &m, &data, &dlen),
	    AMPS_E_SOW_RECORD);
	ck_assert_int_eq(amps_sow_next(&it, &m, &data, &dlen),
	    AMPS_E_SOW_RECORD);

	/* A body shorter than the outer header (misuse) ends at once. */
	amps_sow_begin(&it, &outer, body, 3);
	ck_assert_int_eq(amps_sow_next(&it, &m, &data, &dlen), 0);
}
END_TEST

/* A record field (t) overrides the outer one for that record only. */
START_TEST(test_record_topic_wins)
{
	static const char	 body[] = "{\"c\":\"sow\",\"t\":\"a.*\","
	    "\"query_id\":\"q\"}{\"topic\":\"a1\",\"l\":1}x{\"l\":1}y";
	struct amps_hdr		 outer, m;
	struct amps_sow_iter	 it;
	const char		*data;
	size_t			 dlen;

	ck_assert_int_eq(amps_hdr_parse(body, sizeof body - 1, &outer), 0);
	amps_sow_begin(&it, &outer, body, sizeof body - 1);
	ck_assert_int_eq(amps_sow_next(&it, &m, &data, &dlen), 1);
	ck_assert(amps_hdr_eq(&m, AMPS_F_T, "a1"));
	ck_assert_int_eq(m.norder, 4);		/* c t query_id l */
	ck_assert_int_eq(m.order[1], AMPS_F_T);
	ck_assert_int_eq(data[0], 'x');
	ck_assert_int_eq(amps_sow_next(&it, &m, &data, &dlen), 1);
	ck_assert(amps_hdr_eq(&m, AMPS_F_T, "a.*"));	/* per record */
	ck_assert_int_eq(data[0], 'y');
	ck_assert_int_eq(amps_sow_next(&it, &m, &data, &dlen), 0);
	/* The outer header is untouched. */
	ck_assert(amps_hdr_eq(&outer, AMPS_F_T, "a.*"));
	ck_assert(!amps_hdr_has(&outer, AMPS_F_L));
}
END_TEST

/* amps_hdr_overlay works with dst aliasing outer or rec. */
START_TEST(test_overlay_alias)
{
	static const char	 o[] = "{\"c\":\"sow\",\"t\":\"T\",\"bs\":1}";
	static const char	 r[] = "{\"k\":\"K\",\"t\":\"R\",\"l\":0}";
	struct amps_hdr		 outer, rec, m;

	ck_assert_int_eq(amps_hdr_parse(o, sizeof o - 1, &outer), 0);
	ck_assert_int_eq(amps_hdr_parse(r, sizeof r - 1, &rec), 0);

	/* dst == outer: overlay in place. */
	m = outer;
	amps_hdr_overlay(&m, &m, &rec);
	ck_assert_int_eq(m.norder, 5);
	ck_assert(amps_hdr_eq(&m, AMPS_F_T, "R"));
	ck_assert(amps_hdr_eq(&m, AMPS_F_K, "K"));
	ck_assert_uint_eq(m.hdr_len, rec.hdr_len);

	/* dst == rec. */
	m = rec;
	amps_hdr_overlay(&m, &outer, &m);
	ck_assert_int_eq(m.norder, 5);
	ck_assert_int_eq(m.order[0], AMPS_F_C);
	ck_assert_int_eq(m.order[3], AMPS_F_K);
	ck_assert_int_eq(m.order[4], AMPS_F_L);
	ck_assert(amps_hdr_eq(&m, AMPS_F_T, "R"));
	ck_assert(amps_hdr_eq(&m, AMPS_F_C, "sow"));
}
END_TEST

/* The SOW test suite. */
static Suite *
sow_suite(void)
{
	Suite	*s = suite_create("sow");
	TCase	*tc = tcase_create("split");

	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, test_a8_split);
	tcase_add_test(tc, test_a8_reencode);
	tcase_add_test(tc, test_bad_records);
	tcase_add_test(tc, test_error_sticks);
	tcase_add_test(tc, test_record_topic_wins);
	tcase_add_test(tc, test_overlay_alias);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; exit non-zero when a test failed. */
int
main(void)
{
	return (check_main(sow_suite()));
}
