/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for jsondoc (PROTOCOL.md §9.1, §9.4, §11, §12.3, §13): paths and
 * array flattening, SowKeys, delta merge, delta output, select and
 * orderby.
 */

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsondoc.h"
#include "testutil.h"

/* Parse JSON text or fail the test. */
static json_t *
J(const char *text)
{
	json_error_t	 je;
	json_t		*j;

	j = json_loads(text, JSON_DECODE_ANY, &je);
	ck_assert_msg(j != NULL, "bad test JSON '%s': %s", text, je.text);
	return (j);
}

/* Compact encoding, keeping field order. */
static char *
enc(const json_t *j)
{
	char	*s;

	s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	ck_assert_ptr_nonnull(s);
	return (s);
}

/* Assert that j encodes exactly to want (field order matters). */
static void
assert_json(const json_t *j, const char *want, const char *what)
{
	char	*s;

	ck_assert_msg(j != NULL, "%s: NULL result", what);
	s = enc(j);
	ck_assert_msg(strcmp(s, want) == 0, "%s: got %s, want %s", what, s,
	    want);
	free(s);
}

/* Strict paths and flattened path values. */
START_TEST(test_paths)
{
	json_t		*doc, *vals;
	const json_t	*v;

	doc = J("{\"a\":{\"b\":5,\"c\":[1,2,[3,4]]},\"odd name\":1,"
	    "\"@x\":\"att\",\"55\":\"IBM\",\"items\":[{\"q\":1},{\"q\":2},"
	    "{\"z\":3},{\"q\":[4,5]}],\"n\":null}");
	v = jdoc_path(doc, "/a/b");
	ck_assert(json_is_integer(v) && json_integer_value(v) == 5);
	v = jdoc_path(doc, "/a/c[1]");
	ck_assert(json_integer_value(v) == 2);
	v = jdoc_path(doc, "/a/c[2][0]");
	ck_assert(json_integer_value(v) == 3);
	ck_assert_ptr_null(jdoc_path(doc, "/a/c[9]"));
	ck_assert_ptr_null(jdoc_path(doc, "/a/x"));
	ck_assert_ptr_null(jdoc_path(doc, "/a/b/c"));
	ck_assert_ptr_nonnull(jdoc_path(doc, "[/odd name]"));
	ck_assert_ptr_nonnull(jdoc_path(doc, "/@x"));
	ck_assert_str_eq(json_string_value(jdoc_path(doc, "/55")), "IBM");
	ck_assert(json_is_null(jdoc_path(doc, "/n")));
	ck_assert_ptr_eq(jdoc_path(doc, "/"), doc);
	ck_assert_ptr_null(jdoc_path(doc, "/items/q"));
	ck_assert_int_eq(json_integer_value(jdoc_path(doc, "/items[1]/q")),
	    2);
	/* malformed paths never resolve */
	ck_assert_ptr_null(jdoc_path(doc, ""));
	ck_assert_ptr_null(jdoc_path(doc, "a"));
	ck_assert_ptr_null(jdoc_path(doc, "//a"));
	ck_assert_ptr_null(jdoc_path(doc, "/a/"));
	ck_assert_ptr_null(jdoc_path(doc, "/a/c[x]"));
	ck_assert_ptr_null(jdoc_path(doc, "/a/c[1"));
	ck_assert_ptr_null(jdoc_path(doc, "[/odd name"));
	ck_assert_ptr_null(jdoc_path(NULL, "/a"));

	vals = jdoc_path_values(doc, "/items/q");
	assert_json(vals, "[1,2,4,5]", "values /items/q");
	json_decref(vals);
	vals = jdoc_path_values(doc, "/a/c");
	assert_json(vals, "[1,2,3,4]", "values /a/c");
	json_decref(vals);
	vals = jdoc_path_values(doc, "/a/b");
	assert_json(vals, "[5]", "values /a/b");
	json_decref(vals);
	vals = jdoc_path_values(doc, "/nope");
	assert_json(vals, "[]", "values /nope");
	json_decref(vals);
	vals = jdoc_path_values(doc, "/n");
	assert_json(vals, "[null]", "values /n");
	json_decref(vals);
	json_decref(doc);
}
END_TEST

/* Reference FNV-1a 64 over bytes, for checking jdoc_sowkey. */
static uint64_t
ref_fnv(const char *s, size_t len)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	size_t		 i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return (h);
}

/* SowKeys are FNV-1a 64 over topic and canonical key values. */
START_TEST(test_sowkey)
{
	char		*id[] = { "/id" };
	char		*two[] = { "/id", "/k" };
	char		*nested[] = { "/o" };
	json_t		*a, *b, *c, *d;
	uint64_t	 ka, kb, kc;

	a = J("{\"id\":7,\"qty\":100,\"k\":\"x\",\"o\":{\"p\":1,\"q\":2}}");
	b = J("{\"qty\":999,\"o\":{\"q\":2,\"p\":1},\"k\":\"x\",\"id\":7}");
	c = J("{\"id\":8,\"k\":\"x\"}");
	d = J("{\"qty\":1}");

	ck_assert_int_eq(jdoc_sowkey(a, "orders", id, 1, &ka), 0);
	ck_assert(ka == ref_fnv("orders\x1f" "7", 8));
	ck_assert_int_eq(jdoc_sowkey(a, "orders", two, 2, &ka), 0);
	ck_assert(ka == ref_fnv("orders\x1f" "7\x1f\"x\"", 12));
	/* stable, and independent of field order and non-key fields */
	ck_assert_int_eq(jdoc_sowkey(b, "orders", two, 2, &kb), 0);
	ck_assert(ka == kb);
	ck_assert_int_eq(jdoc_sowkey(a, "orders", nested, 1, &ka), 0);
	ck_assert_int_eq(jdoc_sowkey(b, "orders", nested, 1, &kb), 0);
	ck_assert(ka == kb);
	ck_assert(ka == ref_fnv("orders\x1f{\"p\":1,\"q\":2}", 20));
	/* different value or topic: different key */
	ck_assert_int_eq(jdoc_sowkey(a, "orders", id, 1, &ka), 0);
	ck_assert_int_eq(jdoc_sowkey(c, "orders", id, 1, &kc), 0);
	ck_assert(ka != kc);
	ck_assert_int_eq(jdoc_sowkey(a, "trades", id, 1, &kc), 0);
	ck_assert(ka != kc);
	/* missing key */
	ck_assert_int_eq(jdoc_sowkey(d, "orders", id, 1, &kc), -1);
	ck_assert_int_eq(jdoc_sowkey(c, "orders", nested, 1, &kc), -1);
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(d);
}
END_TEST

struct mcase {
	const char	*old, *delta, *want;
};

/* Delta merge (§11.1), including PROTOCOL.md §17.4 scenario 21. */
START_TEST(test_merge)
{
	static const struct mcase rows[] = {
		/* §17.4 scenario 21 */
		{ "{\"id\":7,\"qty\":100,\"px\":3}", "{\"id\":7,\"qty\":150}",
		  "{\"id\":7,\"qty\":150,\"px\":3}" },
		/* §11.1 rule 3: nested objects merge */
		{ "{\"a\":{\"b\":1,\"c\":2}}", "{\"a\":{\"b\":5}}",
		  "{\"a\":{\"b\":5,\"c\":2}}" },
		/* arrays replace */
		{ "{\"id\":1,\"p\":[1,2,3]}", "{\"p\":[9]}",
		  "{\"id\":1,\"p\":[9]}" },
		/* null ignored, fields cannot be removed */
		{ "{\"id\":1,\"x\":2}", "{\"x\":null}", "{\"id\":1,\"x\":2}" },
		{ "{\"id\":1,\"a\":{\"b\":1}}", "{\"a\":{\"b\":null}}",
		  "{\"id\":1,\"a\":{\"b\":1}}" },
		/* new fields appended, original order kept */
		{ "{\"z\":1,\"a\":2}", "{\"n\":3,\"z\":4}",
		  "{\"z\":4,\"a\":2,\"n\":3}" },
		{ "{\"a\":1}", "{\"b\":{\"c\":1,\"d\":null}}",
		  "{\"a\":1,\"b\":{\"c\":1}}" },
		/* an object replaces a scalar and vice versa */
		{ "{\"a\":1}", "{\"a\":{\"b\":2}}", "{\"a\":{\"b\":2}}" },
		{ "{\"a\":{\"b\":2}}", "{\"a\":3}", "{\"a\":3}" },
		/* deep */
		{ "{\"a\":{\"b\":{\"c\":1,\"d\":2}}}",
		  "{\"a\":{\"b\":{\"d\":3,\"e\":4}}}",
		  "{\"a\":{\"b\":{\"c\":1,\"d\":3,\"e\":4}}}" },
		/* unchanged value still yields the same record */
		{ "{\"id\":1}", "{\"id\":1}", "{\"id\":1}" },
	};
	json_t	*old, *delta, *out;
	char	*before;
	size_t	 i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		old = J(rows[i].old);
		delta = J(rows[i].delta);
		before = enc(old);
		out = jdoc_merge(old, delta);
		assert_json(out, rows[i].want, rows[i].delta);
		/* inputs untouched */
		assert_json(old, before, "old unchanged");
		free(before);
		json_decref(out);
		json_decref(old);
		json_decref(delta);
	}
	/* no old record: the delta itself (nulls dropped) */
	delta = J("{\"id\":1,\"x\":null}");
	out = jdoc_merge(NULL, delta);
	assert_json(out, "{\"id\":1}", "merge onto NULL");
	json_decref(out);
	json_decref(delta);
}
END_TEST

struct dcase {
	const char	*old, *new, *want;
	int		 changed;
};

/* Delta output (§11.2) with /id as key. */
START_TEST(test_delta)
{
	static const struct dcase rows[] = {
		/* §17.4 scenario 21 */
		{ "{\"id\":7,\"qty\":100,\"px\":3}",
		  "{\"id\":7,\"qty\":150,\"px\":3}",
		  "{\"id\":7,\"qty\":150}", 1 },
		/* nothing changed: keys only, changed = 0 (no_empties) */
		{ "{\"id\":7,\"qty\":100}", "{\"id\":7,\"qty\":100}",
		  "{\"id\":7}", 0 },
		/* nested change is re-nested */
		{ "{\"id\":1,\"a\":{\"b\":1,\"c\":2}}",
		  "{\"id\":1,\"a\":{\"b\":5,\"c\":2}}",
		  "{\"id\":1,\"a\":{\"b\":5}}", 1 },
		/* new fields and whole arrays */
		{ "{\"id\":1,\"p\":[1,2]}", "{\"id\":1,\"p\":[1,3],\"n\":true}",
		  "{\"id\":1,\"p\":[1,3],\"n\":true}", 2 },
		{ "{\"id\":1,\"p\":[1,2]}", "{\"id\":1,\"p\":[1,2]}",
		  "{\"id\":1}", 0 },
		/* type change counts */
		{ "{\"id\":1,\"x\":1}", "{\"id\":1,\"x\":\"1\"}",
		  "{\"id\":1,\"x\":\"1\"}", 1 },
		{ "{\"id\":1,\"x\":1}", "{\"id\":1,\"x\":1.0}",
		  "{\"id\":1,\"x\":1.0}", 1 },
	};
	char	*keys[] = { "/id" };
	json_t	*old, *new, *out;
	size_t	 i;
	int	 changed;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		old = J(rows[i].old);
		new = J(rows[i].new);
		changed = -1;
		out = jdoc_delta(old, new, keys, 1, &changed);
		assert_json(out, rows[i].want, rows[i].new);
		ck_assert_msg(changed == rows[i].changed, "%s: changed %d",
		    rows[i].new, changed);
		json_decref(out);
		json_decref(old);
		json_decref(new);
	}
}
END_TEST

/* Nested and multiple key paths, inserts, no keys. */
START_TEST(test_delta_keys)
{
	char	*nested[] = { "/k/a", "/id" };
	json_t	*old, *new, *out;
	int	 changed;

	/* nested and multiple keys, keys kept in document order */
	old = J("{\"id\":1,\"k\":{\"a\":2,\"b\":3},\"v\":1}");
	new = J("{\"id\":1,\"k\":{\"a\":2,\"b\":3},\"v\":2}");
	out = jdoc_delta(old, new, nested, 2, &changed);
	assert_json(out, "{\"id\":1,\"k\":{\"a\":2},\"v\":2}", "nested key");
	ck_assert_int_eq(changed, 1);
	json_decref(out);
	/* no old record: everything is new */
	out = jdoc_delta(NULL, new, nested, 2, &changed);
	assert_json(out, "{\"id\":1,\"k\":{\"a\":2,\"b\":3},\"v\":2}",
	    "insert");
	ck_assert_int_eq(changed, 2);
	json_decref(out);
	/* no keys */
	out = jdoc_delta(old, new, NULL, 0, &changed);
	assert_json(out, "{\"v\":2}", "no keys");
	json_decref(out);
	ck_assert_ptr_null(jdoc_delta(old, NULL, NULL, 0, &changed));
	json_decref(old);
	json_decref(new);
}
END_TEST

struct scase {
	const char	*spec, *want;
};

/* Select projection table and rejected specs. */
START_TEST(test_select)
{
	static const char *doc_text = "{\"id\":1,\"complaint\":\"late\","
	    "\"a\":{\"b\":2,\"c\":3,\"d\":{\"e\":4}},\"x\":[1,2],\"y\":null}";
	static const struct scase rows[] = {
		{ "-/,+/id,+/complaint", "{\"id\":1,\"complaint\":\"late\"}" },
		{ "[-/,+/id,+/complaint]", "{\"id\":1,\"complaint\":\"late\"}" },
		{ "+/", "{\"id\":1,\"complaint\":\"late\",\"a\":{\"b\":2,"
		  "\"c\":3,\"d\":{\"e\":4}},\"x\":[1,2],\"y\":null}" },
		{ "-/", "{}" },
		{ "-/a,-/x,-/y", "{\"id\":1,\"complaint\":\"late\"}" },
		{ "+/id", "{\"id\":1}" },
		{ "-/,+/a/b", "{\"a\":{\"b\":2}}" },
		{ "-/, +/a, -/a/c", "{\"a\":{\"b\":2,\"d\":{\"e\":4}}}" },
		{ "+/,-/a,+/a/d/e", "{\"id\":1,\"complaint\":\"late\","
		  "\"a\":{\"d\":{\"e\":4}},\"x\":[1,2],\"y\":null}" },
		{ "-/,+/a,-/a/b,-/a/c,-/a/d", "{\"a\":{}}" },
		{ "-/,+/nope", "{}" },
		{ "-/,+/id/deeper", "{}" },
		/* equal paths: the later rule wins */
		{ "-/,+/id,-/id", "{}" },
		{ "-/,-/id,+/id", "{\"id\":1}" },
	};
	static const char *bad[] = { "", "id", "+id", "+/id,", ",+/id",
	    "+/a[0]", "*/a", "+/a,,-/b", "+" };
	struct jdoc_select	*sel;
	json_t			*doc, *out;
	size_t			 i;

	doc = J(doc_text);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		sel = jdoc_select_compile(rows[i].spec, strlen(rows[i].spec));
		ck_assert_msg(sel != NULL, "select '%s' rejected",
		    rows[i].spec);
		out = jdoc_select_apply(sel, doc);
		assert_json(out, rows[i].want, rows[i].spec);
		json_decref(out);
		jdoc_select_free(sel);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(jdoc_select_compile(bad[i], strlen(bad[i])) ==
		    NULL, "select '%s' accepted", bad[i]);
	jdoc_select_free(NULL);
	json_decref(doc);
}
END_TEST

struct ocase {
	const char	*spec, *a, *b;
	int		 sign;
};

/* Orderby comparison table and rejected specs. */
START_TEST(test_orderby)
{
	static const struct ocase rows[] = {
		{ "/n", "{\"n\":1}", "{\"n\":2}", -1 },
		{ "/n ASC", "{\"n\":2}", "{\"n\":1}", 1 },
		{ "/n DESC", "{\"n\":1}", "{\"n\":2}", 1 },
		{ "/n desc", "{\"n\":1}", "{\"n\":2}", 1 },
		{ "/n", "{\"n\":10}", "{\"n\":9}", 1 },
		{ "/n", "{\"n\":2}", "{\"n\":2.0}", 0 },
		{ "/n", "{\"n\":1.5}", "{\"n\":2}", -1 },
		{ "/n", "{\"n\":-1}", "{\"n\":0}", -1 },
		/* strings bytewise, numbers before strings */
		{ "/s", "{\"s\":\"B\"}", "{\"s\":\"a\"}", -1 },
		{ "/s", "{\"s\":\"10\"}", "{\"s\":\"9\"}", -1 },
		{ "/s", "{\"s\":\"ab\"}", "{\"s\":\"abc\"}", -1 },
		{ "/s", "{\"s\":99}", "{\"s\":\"a\"}", -1 },
		{ "/s DESC", "{\"s\":99}", "{\"s\":\"a\"}", 1 },
		/* NULL / missing first ascending, last descending */
		{ "/n", "{}", "{\"n\":1}", -1 },
		{ "/n", "{\"n\":null}", "{\"n\":-5}", -1 },
		{ "/n", "{\"n\":\"\"}", "{\"n\":-5}", -1 },
		{ "/n", "{}", "{\"n\":null}", 0 },
		{ "/n DESC", "{}", "{\"n\":1}", 1 },
		/* several keys */
		{ "/orderDate DESC, /customerName ASC",
		  "{\"orderDate\":5,\"customerName\":\"b\"}",
		  "{\"orderDate\":5,\"customerName\":\"a\"}", 1 },
		{ "/orderDate DESC, /customerName ASC",
		  "{\"orderDate\":6,\"customerName\":\"b\"}",
		  "{\"orderDate\":5,\"customerName\":\"a\"}", -1 },
		{ "/a/b, [/odd name] DESC",
		  "{\"a\":{\"b\":1},\"odd name\":1}",
		  "{\"a\":{\"b\":1},\"odd name\":2}", 1 },
		{ "/n", "{\"n\":1}", "{\"n\":1}", 0 },
	};
	static const char *bad[] = { "", "n", "/n UP", "/n,", ",/n",
	    "/n ASC DESC", "/", "[/x" };
	struct jdoc_orderby	*ob;
	json_t			*a, *b;
	size_t			 i;
	int			 c, s;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		ob = jdoc_orderby_compile(rows[i].spec, strlen(rows[i].spec));
		ck_assert_msg(ob != NULL, "orderby '%s' rejected",
		    rows[i].spec);
		a = J(rows[i].a);
		b = J(rows[i].b);
		c = jdoc_orderby_cmp(ob, a, b);
		s = (c > 0) - (c < 0);
		ck_assert_msg(s == rows[i].sign, "%s: %s vs %s gave %d",
		    rows[i].spec, rows[i].a, rows[i].b, c);
		/* antisymmetric */
		c = jdoc_orderby_cmp(ob, b, a);
		ck_assert_int_eq((c > 0) - (c < 0), -rows[i].sign);
		json_decref(a);
		json_decref(b);
		jdoc_orderby_free(ob);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(jdoc_orderby_compile(bad[i], strlen(bad[i])) ==
		    NULL, "orderby '%s' accepted", bad[i]);
	jdoc_orderby_free(NULL);
}
END_TEST

/* Build the suite. */
static Suite *
jsondoc_suite(void)
{
	Suite	*s = suite_create("jsondoc");
	TCase	*tc = tcase_create("jsondoc");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_paths);
	tcase_add_test(tc, test_sowkey);
	tcase_add_test(tc, test_merge);
	tcase_add_test(tc, test_delta);
	tcase_add_test(tc, test_delta_keys);
	tcase_add_test(tc, test_select);
	tcase_add_test(tc, test_orderby);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; exit status is non-zero when a check failed. */
int
main(void)
{
	return (check_main(jsondoc_suite()));
}
