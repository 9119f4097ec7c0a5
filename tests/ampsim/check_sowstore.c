/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for ampsim/sowstore.c: PROTOCOL.md §17.4 scenarios 15, 16, 19,
 * 20 and 21 at the store level, user keys, errors, expiration order and
 * record lifetime.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ampsim_testutil.h"
#include "filter.h"
#include "jsondoc.h"
#include "sowstore.h"
#include "testutil.h"

static char *idpath[] = { "/id" };

/* A store keyed by /id. */
static struct sowstore *
mkstore(int expiration)
{
	return (sow_create("orders", idpath, 1, expiration));
}

/* Publish a string payload; returns the upsert result. */
static int
pub(struct sowstore *s, const char *json, uint64_t expire_at)
{
	struct sow_meta	meta = { "bm", NULL, 1, expire_at };

	return (sow_upsert(s, json, strlen(json), NULL, NULL, &meta, NULL,
	    NULL));
}

/* Integer field of a record. */
static long long
field(const struct sow_record *r, const char *name)
{
	return (json_integer_value(json_object_get(r->doc, name)));
}

/* Publish n records {"id":i,"px":px(i)}. */
static void
fill(struct sowstore *s, int n)
{
	char	buf[128];
	int	i;

	for (i = 1; i <= n; i++) {
		snprintf(buf, sizeof buf, "{\"id\":%d,\"px\":%d,\"g\":%d}", i,
		    (i * 7) % 10, i % 2);
		ck_assert_int_eq(pub(s, buf, 0), SOW_INSERTED);
	}
}

/* Scenario 15: 25 records, all returned with their keys. */
START_TEST(test_query_all)
{
	struct sowstore		*s = mkstore(0);
	struct sow_reclist	 l = { NULL, 0, 0 };
	struct sow_query	 q;
	struct sow_stats	 st;
	char			 key[32];
	size_t			 i;

	fill(s, 25);
	ck_assert_uint_eq(sow_count(s), 25);
	sow_query_init(&q);
	ck_assert_uint_eq(sow_query(s, &q, &l, &st), 25);
	ck_assert_uint_eq(l.n, 25);
	ck_assert_uint_eq(st.topic_matches, 25);
	ck_assert_uint_eq(st.matches, 25);
	ck_assert_uint_eq(st.records_returned, 25);
	for (i = 0; i < l.n; i++) {
		ck_assert_int_eq(field(l.v[i], "id"), (long long)i + 1);
		ck_assert_int_eq(sow_key_of(s, l.v[i]->doc, NULL, key,
		    sizeof key), 0);
		ck_assert_str_eq(l.v[i]->key, key);
		ck_assert_uint_eq(strspn(key, "0123456789"), strlen(key));
		ck_assert_str_eq(l.v[i]->bookmark, "bm");
		ck_assert_uint_eq(l.v[i]->seq, i + 1);
		if (i > 0)
			ck_assert_str_ne(l.v[i]->key, l.v[i - 1]->key);
	}
	sow_reclist_free(&l);
	sow_free(s);
}
END_TEST

/* Scenario 16: empty SOW. */
START_TEST(test_query_empty)
{
	struct sowstore		*s = mkstore(0);
	struct sow_reclist	 l = { NULL, 0, 0 };
	struct sow_query	 q;
	struct sow_stats	 st;

	sow_query_init(&q);
	ck_assert_uint_eq(sow_query(s, &q, &l, &st), 0);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_uint_eq(st.topic_matches, 0);
	ck_assert_uint_eq(st.matches, 0);
	ck_assert_uint_eq(sow_next_expiry(s), 0);
	sow_reclist_free(&l);
	sow_free(s);
}
END_TEST

/* An update returns the previous record and keeps the position. */
START_TEST(test_update)
{
	struct sowstore		*s = mkstore(0);
	struct sow_record	*cur, *prev;
	struct sow_meta		 meta = { "b2", "c2", 5, 0 };
	const char		*v2 = "{\"id\":2,\"px\":99}";

	fill(s, 3);
	ck_assert_int_eq(sow_upsert(s, v2, strlen(v2), NULL, NULL, &meta,
	    &cur, &prev), SOW_UPDATED);
	ck_assert_ptr_nonnull(prev);
	ck_assert_int_eq(field(prev, "px"), 4);
	ck_assert_int_eq(field(cur, "px"), 99);
	ck_assert_str_eq(cur->data, v2);
	ck_assert_uint_eq(cur->datalen, strlen(v2));
	ck_assert_str_eq(cur->key, prev->key);
	ck_assert_uint_eq(cur->seq, 2);
	ck_assert_uint_eq(cur->version, 2);
	ck_assert_str_eq(cur->cid, "c2");
	ck_assert_uint_eq(sow_count(s), 3);
	sow_free(s);
	/* Records outlive the store while referenced. */
	ck_assert_str_eq(prev->bookmark, "bm");
	ck_assert_int_eq(field(cur, "id"), 2);
	sow_record_unref(prev);
	sow_record_unref(cur);
}
END_TEST

/* Scenario 19: orderby, top_n, skip_n and the counts. */
START_TEST(test_topn_orderby)
{
	struct sowstore		*s = mkstore(0);
	struct sow_reclist	 l = { NULL, 0, 0 };
	struct sow_query	 q;
	struct sow_stats	 st;
	struct jdoc_orderby	*ob;
	struct filter		*f;
	const char		*spec = "/px DESC";
	size_t			 i;

	fill(s, 10);	/* px: 7 4 1 8 5 2 9 6 3 0 for id 1..10 */
	ob = jdoc_orderby_compile(spec, strlen(spec));
	ck_assert_ptr_nonnull(ob);
	sow_query_init(&q);
	q.orderby = ob;
	q.top_n = 3;
	ck_assert_uint_eq(sow_query(s, &q, &l, &st), 3);
	ck_assert_uint_eq(st.matches, 10);
	ck_assert_uint_eq(st.records_returned, 3);
	ck_assert(st.matches > st.records_returned);
	ck_assert_int_eq(field(l.v[0], "px"), 9);
	ck_assert_int_eq(field(l.v[1], "px"), 8);
	ck_assert_int_eq(field(l.v[2], "px"), 7);
	sow_reclist_clear(&l);

	q.skip_n = 2;
	ck_assert_uint_eq(sow_query(s, &q, &l, &st), 3);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(field(l.v[i], "px"), 7 - (long long)i);
	sow_reclist_clear(&l);

	q.skip_n = 8;
	ck_assert_uint_eq(sow_query(s, &q, &l, &st), 2);
	ck_assert_int_eq(field(l.v[1], "px"), 0);
	sow_reclist_clear(&l);

	/* Filter + top_n: matches counts the filtered set. */
	f = at_mkfilter("/g = 1");
	q.filter = f;
	q.skip_n = 0;
	q.top_n = 2;
	ck_assert_uint_eq(sow_query(s, &q, &l, &st), 2);
	ck_assert_uint_eq(st.topic_matches, 10);
	ck_assert_uint_eq(st.matches, 5);
	ck_assert_uint_eq(st.records_returned, 2);
	ck_assert_int_eq(field(l.v[0], "px"), 9);
	ck_assert_int_eq(field(l.v[1], "px"), 7);
	sow_reclist_clear(&l);

	/* top_n = 0 counts without returning. */
	q.top_n = 0;
	ck_assert_uint_eq(sow_query(s, &q, &l, &st), 0);
	ck_assert_uint_eq(st.matches, 5);
	ck_assert_uint_eq(l.n, 0);

	/* Without orderby: insertion order, skip then top. */
	q.orderby = NULL;
	q.filter = NULL;
	q.skip_n = 3;
	q.top_n = 4;
	ck_assert_uint_eq(sow_query(s, &q, &l, &st), 4);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(field(l.v[i], "id"), (long long)i + 4);
	sow_reclist_free(&l);
	filter_free(f);
	jdoc_orderby_free(ob);
	sow_free(s);
}
END_TEST

/* Orderby ties keep insertion order. */
START_TEST(test_orderby_stable)
{
	struct sowstore		*s = mkstore(0);
	struct sow_reclist	 l = { NULL, 0, 0 };
	struct sow_query	 q;
	struct sow_stats	 st;
	struct jdoc_orderby	*ob;
	const char		*spec = "/g ASC";
	size_t			 i;

	fill(s, 20);
	ob = jdoc_orderby_compile(spec, strlen(spec));
	ck_assert_ptr_nonnull(ob);
	sow_query_init(&q);
	q.orderby = ob;
	ck_assert_uint_eq(sow_query(s, &q, &l, &st), 20);
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(field(l.v[i], "id"), 2 * (long long)i + 2);
		ck_assert_int_eq(field(l.v[i + 10], "id"),
		    2 * (long long)i + 1);
	}
	sow_reclist_free(&l);
	jdoc_orderby_free(ob);
	sow_free(s);
}
END_TEST

/* sow_keys queries: list order, unknown and duplicate keys skipped. */
START_TEST(test_query_keys)
{
	struct sowstore		*s = mkstore(0);
	struct sow_reclist	 l = { NULL, 0, 0 };
	struct sow_record	*r3, *r5;
	struct sow_query	 q;
	struct sow_stats	 st;
	const char		*keys[4];

	fill(s, 6);
	r3 = sow_lookup_ref(s, "nope");
	ck_assert_ptr_null(r3);
	sow_query_init(&q);
	ck_assert_uint_eq(sow_query(s, &q, &l, &st), 6);
	r3 = sow_record_ref(l.v[2]);
	r5 = sow_record_ref(l.v[4]);
	sow_reclist_clear(&l);
	keys[0] = r5->key;
	keys[1] = "12345";
	keys[2] = r3->key;
	keys[3] = r5->key;
	q.keys = keys;
	q.nkeys = 4;
	ck_assert_uint_eq(sow_query(s, &q, &l, &st), 2);
	ck_assert_uint_eq(st.topic_matches, 2);
	ck_assert_int_eq(field(l.v[0], "id"), 5);
	ck_assert_int_eq(field(l.v[1], "id"), 3);
	sow_reclist_free(&l);
	sow_record_unref(r3);
	sow_record_unref(r5);
	sow_free(s);
}
END_TEST

/* Scenario 20: the three sow_delete forms. */
START_TEST(test_delete_forms)
{
	struct sowstore		*s = mkstore(0);
	struct sow_reclist	 l = { NULL, 0, 0 };
	struct sow_stats	 st;
	struct filter		*f;
	struct sow_record	*r;
	const char		*keys[3], *d3 = "{\"id\":3,\"px\":1000}";
	char			 k1[32], k2[32];
	json_t			*doc;

	fill(s, 10);
	/* By keys. */
	doc = json_pack("{si}", "id", 1);
	ck_assert_int_eq(sow_key_of(s, doc, NULL, k1, sizeof k1), 0);
	json_decref(doc);
	doc = json_pack("{si}", "id", 2);
	ck_assert_int_eq(sow_key_of(s, doc, NULL, k2, sizeof k2), 0);
	json_decref(doc);
	keys[0] = k1;
	keys[1] = "777";
	keys[2] = k2;
	ck_assert_int_eq(sow_delete_keys(s, keys, 3, &l, &st), 2);
	ck_assert_uint_eq(st.records_deleted, 2);
	ck_assert_uint_eq(st.matches, 2);
	ck_assert_int_eq(field(l.v[0], "id"), 1);
	ck_assert_int_eq(field(l.v[1], "id"), 2);
	ck_assert_uint_eq(sow_count(s), 8);
	sow_reclist_clear(&l);

	/* By data: the stored (previous) state comes back. */
	ck_assert_int_eq(sow_delete_data(s, d3, strlen(d3), NULL, NULL, &l,
	    &st), 1);
	ck_assert_uint_eq(st.records_deleted, 1);
	ck_assert_int_eq(field(l.v[0], "px"), 1);
	ck_assert_int_eq(sow_delete_data(s, d3, strlen(d3), NULL, NULL, &l,
	    &st), 0);
	ck_assert_uint_eq(st.records_deleted, 0);
	ck_assert_int_eq(sow_delete_data(s, "{", 1, NULL, NULL, &l, &st),
	    SOW_ERR_PARSE);
	ck_assert_int_eq(sow_delete_data(s, "{}", 2, NULL, NULL, &l, &st),
	    SOW_ERR_NOKEY);
	ck_assert_uint_eq(sow_count(s), 7);
	sow_reclist_clear(&l);

	/* By filter. */
	f = at_mkfilter("/g = 0");
	ck_assert_int_eq(sow_delete_filter(s, f, &l, &st), 4);
	ck_assert_uint_eq(st.topic_matches, 7);
	ck_assert_uint_eq(st.matches, 4);
	ck_assert_uint_eq(st.records_deleted, 4);
	filter_free(f);
	sow_reclist_clear(&l);
	f = at_mkfilter("1=1");
	ck_assert_int_eq(sow_delete_filter(s, f, &l, &st), 3);
	ck_assert_uint_eq(st.records_deleted, 3);
	ck_assert_uint_eq(st.matches, 3);
	ck_assert_uint_eq(sow_count(s), 0);
	r = sow_record_ref(l.v[0]);
	sow_reclist_free(&l);
	ck_assert_int_eq(field(r, "id"), 5);
	sow_record_unref(r);
	filter_free(f);
	/* The store still works after being emptied. */
	fill(s, 2);
	ck_assert_uint_eq(sow_count(s), 2);
	sow_free(s);
}
END_TEST

/* Scenario 21: delta merge. */
START_TEST(test_delta)
{
	struct sowstore		*s = mkstore(0);
	struct sow_record	*cur, *prev;
	struct sow_meta		 m1 = { "b1", "cid1", 1, 0 };
	struct sow_meta		 m2 = { "b2", NULL, 2, 0 };
	const char		*full = "{\"id\":7,\"qty\":100,\"px\":3}";
	const char		*delta = "{\"id\":7,\"qty\":150}";
	const char		*nul = "{\"id\":7,\"px\":null}";
	const char		*rec, *big = "{\"id\":7,\"zz\":1}";
	const char		*fits = "{\"id\":7,\"z\":1}";
	json_t			*want, *d;
	char *const		*kp;
	size_t			 nk;
	int			 changed;

	ck_assert_int_eq(sow_delta_upsert(s, full, strlen(full), NULL, NULL,
	    &m1, &cur, &prev), SOW_INSERTED);
	ck_assert_ptr_null(prev);
	ck_assert_str_eq(cur->data, full);
	sow_record_unref(cur);
	ck_assert_int_eq(sow_delta_upsert(s, delta, strlen(delta), NULL,
	    NULL, &m2, &cur, &prev), SOW_UPDATED);
	want = json_pack("{si si si}", "id", 7, "qty", 150, "px", 3);
	ck_assert(json_equal(cur->doc, want));
	d = json_loadb(cur->data, cur->datalen, 0, NULL);
	ck_assert(json_equal(d, want));
	json_decref(d);
	ck_assert_int_eq(field(prev, "qty"), 100);
	ck_assert_str_eq(cur->cid, "cid1");
	ck_assert_str_eq(cur->bookmark, "b2");
	ck_assert_uint_eq(cur->seq, prev->seq);
	/* What a delta subscriber would get. */
	kp = sow_key_paths(s, &nk);
	d = jdoc_delta(prev->doc, cur->doc, kp, nk, &changed);
	json_decref(want);
	want = json_pack("{si si}", "id", 7, "qty", 150);
	ck_assert(json_equal(d, want));
	ck_assert_int_eq(changed, 1);
	json_decref(d);
	json_decref(want);
	sow_record_unref(cur);
	sow_record_unref(prev);
	/* NULL fields are skipped, not removed. */
	ck_assert_int_eq(sow_delta_upsert(s, nul, strlen(nul), NULL, NULL,
	    &m2, &cur, NULL), SOW_UPDATED);
	ck_assert_int_eq(field(cur, "px"), 3);
	sow_record_unref(cur);
	ck_assert_uint_eq(sow_count(s), 1);
	/* A merge longer than max_len is refused and changes nothing; one
	 * of max_len exactly is not. */
	rec = "{\"id\":7,\"qty\":150,\"px\":3}";
	sow_set_max_len(s, strlen(rec) + strlen(",\"z\":1"));
	ck_assert_int_eq(sow_delta_upsert(s, big, strlen(big), NULL, NULL,
	    &m2, &cur, &prev), SOW_ERR_TOOBIG);
	ck_assert_ptr_null(cur);
	ck_assert_ptr_null(prev);
	ck_assert_int_eq(sow_delta_upsert(s, fits, strlen(fits), NULL, NULL,
	    &m2, &cur, &prev), SOW_UPDATED);
	ck_assert_str_eq(prev->data, rec);	/* as before the refusal */
	ck_assert_uint_eq(cur->datalen, strlen(rec) + 6);
	sow_record_unref(cur);
	sow_record_unref(prev);
	sow_free(s);
}
END_TEST

/* User-keyed topics and write errors. */
START_TEST(test_user_keys_errors)
{
	struct sowstore		*s = sow_create("blobs", NULL, 0, 0);
	struct sowstore		*p = mkstore(0);
	struct sow_reclist	 l = { NULL, 0, 0 };
	struct sow_stats	 st;
	struct sow_meta		 meta = { NULL, NULL, 0, 0 };
	struct sow_record	*cur;

	ck_assert(sow_user_keyed(s));
	ck_assert(!sow_user_keyed(p));
	ck_assert_int_eq(sow_upsert(s, "{}", 2, NULL, NULL, &meta, &cur,
	    NULL), SOW_ERR_NOKEY);
	ck_assert_ptr_null(cur);
	ck_assert_int_eq(sow_upsert(s, "{\"a\":1}", 7, NULL, "K1", &meta,
	    &cur, NULL), SOW_INSERTED);
	ck_assert_str_eq(cur->key, "K1");
	ck_assert_ptr_null(cur->bookmark);
	sow_record_unref(cur);
	ck_assert_int_eq(sow_upsert(s, "{\"a\":2}", 7, NULL, "K1", &meta,
	    NULL, NULL), SOW_UPDATED);
	ck_assert_int_eq(sow_upsert(s, "{\"a\":3}", 7, NULL, "K2", &meta,
	    NULL, NULL), SOW_INSERTED);
	ck_assert_uint_eq(sow_count(s), 2);
	ck_assert_int_eq(sow_delete_data(s, NULL, 0, NULL, "K1", &l, &st), 1);
	ck_assert_int_eq(field(l.v[0], "a"), 2);
	sow_reclist_free(&l);

	ck_assert_int_eq(pub(p, "not json", 0), SOW_ERR_PARSE);
	ck_assert_int_eq(pub(p, "{\"x\":1}", 0), SOW_ERR_NOKEY);
	ck_assert_uint_eq(sow_count(p), 0);
	sow_free(s);
	sow_free(p);
}
END_TEST

/* Expiration: order, next_expiry, updates, disabled stores. */
START_TEST(test_expiration)
{
	struct sowstore		*s = mkstore(1), *n = mkstore(0);
	struct sow_reclist	 l = { NULL, 0, 0 };

	ck_assert_int_eq(pub(s, "{\"id\":1}", 300), SOW_INSERTED);
	ck_assert_int_eq(pub(s, "{\"id\":2}", 100), SOW_INSERTED);
	ck_assert_int_eq(pub(s, "{\"id\":3}", 200), SOW_INSERTED);
	ck_assert_int_eq(pub(s, "{\"id\":4}", 0), SOW_INSERTED);
	ck_assert_int_eq(pub(s, "{\"id\":5}", 200), SOW_INSERTED);
	ck_assert_uint_eq(sow_next_expiry(s), 100);
	ck_assert_uint_eq(sow_expire(s, 99, &l), 0);
	ck_assert_uint_eq(sow_expire(s, 150, &l), 1);
	ck_assert_int_eq(field(l.v[0], "id"), 2);
	sow_reclist_clear(&l);
	ck_assert_uint_eq(sow_next_expiry(s), 200);
	/* An update moves the expiry (here: later). */
	ck_assert_int_eq(pub(s, "{\"id\":3,\"v\":2}", 250), SOW_UPDATED);
	ck_assert_uint_eq(sow_expire(s, 260, &l), 2);
	ck_assert_int_eq(field(l.v[0], "id"), 5);
	ck_assert_int_eq(field(l.v[1], "id"), 3);
	ck_assert_int_eq(field(l.v[1], "v"), 2);
	sow_reclist_clear(&l);
	/* An update without expiry clears it. */
	ck_assert_int_eq(pub(s, "{\"id\":1}", 0), SOW_UPDATED);
	ck_assert_uint_eq(sow_next_expiry(s), 0);
	ck_assert_uint_eq(sow_expire(s, 10000, &l), 0);
	ck_assert_uint_eq(sow_count(s), 2);

	ck_assert_int_eq(pub(n, "{\"id\":1}", 50), SOW_INSERTED);
	ck_assert_uint_eq(sow_next_expiry(n), 0);
	ck_assert_uint_eq(sow_expire(n, 100, &l), 0);
	sow_reclist_free(&l);
	sow_free(s);
	sow_free(n);
}
END_TEST

/* Many records, random expiries: removed in expiry order, none lost. */
START_TEST(test_bulk)
{
	struct sowstore		*s = mkstore(1);
	struct sow_reclist	 l = { NULL, 0, 0 };
	struct sow_stats	 st;
	struct filter		*f;
	char			 buf[96];
	unsigned		 i, n = 100000;
	uint64_t		 last = 0, t;
	size_t			 j, total = 0;

	test_rng_seed("test_bulk", 20260101);
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof buf, "{\"id\":%u,\"v\":%u}",
		    (unsigned)(test_rng_next() % 50000), i);
		pub(s, buf, 1 + (uint64_t)(test_rng_next() % 1000000));
	}
	f = at_mkfilter("/v >= 0");
	for (t = 0; t <= 1000000; t += 50000) {
		sow_expire(s, t, &l);
		for (j = total; j < l.n; j++) {
			ck_assert_uint_le(l.v[j]->expire_at, t);
			ck_assert_uint_ge(l.v[j]->expire_at, last);
			last = l.v[j]->expire_at;
		}
		total = l.n;
		if (sow_count(s) > 0) {
			ck_assert_uint_gt(sow_next_expiry(s), t);
		}
	}
	ck_assert_uint_eq(sow_count(s), 0);
	ck_assert_uint_le(total, 50000);
	ck_assert_uint_gt(total, 40000);
	sow_reclist_clear(&l);
	ck_assert_int_eq(sow_delete_filter(s, f, &l, &st), 0);
	filter_free(f);
	sow_reclist_free(&l);
	sow_free(s);
}
END_TEST

/* Build the suite. */
static Suite *
sowstore_suite(void)
{
	Suite	*s = suite_create("sowstore");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_query_all);
	tcase_add_test(tc, test_query_empty);
	tcase_add_test(tc, test_update);
	tcase_add_test(tc, test_topn_orderby);
	tcase_add_test(tc, test_orderby_stable);
	tcase_add_test(tc, test_query_keys);
	tcase_add_test(tc, test_delete_forms);
	tcase_add_test(tc, test_delta);
	tcase_add_test(tc, test_user_keys_errors);
	tcase_add_test(tc, test_expiration);
	tcase_add_test(tc, test_bulk);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (check_main(sowstore_suite()));
}
