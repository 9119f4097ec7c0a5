/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for daemon/submgr.c: id namespacing, subscription and
 * command bookkeeping, leases, option helpers and
 * the reason -> error mapping.
 */

#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amps.h"
#include "ampsipc-wire.h"
#include "cmdhdr.h"
#include "errmap.h"
#include "submgr.h"
#include "testutil.h"

START_TEST(test_up_id)
{
	char	buf[64];

	ck_assert_int_gt(submgr_up_id(7, "a", 0, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "c7.a");
	ck_assert_int_gt(submgr_up_id(7, "a", 1, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "d.a");
	ck_assert_int_eq(submgr_up_id(7, "a,b", 0, buf, sizeof buf), -1);
	ck_assert_int_eq(submgr_up_id(7, "all", 0, buf, sizeof buf), -1);
	ck_assert_int_eq(submgr_up_id(7, "", 0, buf, sizeof buf), -1);
}
END_TEST

START_TEST(test_namespaces)
{
	struct submgr		*sm = submgr_create();
	struct submgr_sub	*a, *b, *d;
	int			 x, y;

	a = submgr_sub_new(sm, &x, 1, "s", NULL);
	b = submgr_sub_new(sm, &y, 2, "s", NULL);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_ne(a->up_id, b->up_id);
	ck_assert_ptr_null(submgr_sub_new(sm, &x, 1, "s", NULL));
	ck_assert_ptr_eq(submgr_sub_local(sm, 1, "s"), a);
	ck_assert_ptr_eq(submgr_sub_local(sm, 2, "s"), b);
	ck_assert_ptr_eq(submgr_sub_find(sm, b->up_id), b);
	d = submgr_sub_new(sm, &x, 1, "mine", "dur");
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->up_id, "d.dur");
	ck_assert_ptr_eq(submgr_sub_durable(sm, "dur"), d);
	ck_assert_ptr_eq(submgr_sub_local(sm, 1, "mine"), d);
	/* one attachment per durable name, whatever the program */
	ck_assert_ptr_null(submgr_sub_new(sm, &y, 2, "other", "dur"));
	ck_assert_uint_eq(submgr_nsubs(sm), 3);
	submgr_sub_remove(sm, d);
	ck_assert_ptr_null(submgr_sub_durable(sm, "dur"));
	ck_assert_ptr_nonnull(submgr_sub_new(sm, &y, 2, "other", "dur"));
	submgr_free(sm);
}
END_TEST

/*
 * Many subscriptions: the hash grows past its first size and every one
 * is found by its upstream id; removals from the middle, the head and
 * the tail of the list keep the others findable and listed.
 */
START_TEST(test_many)
{
	struct submgr		*sm = submgr_create();
	static struct submgr_sub *v[5000];
	struct submgr_sub	*s;
	char			 id[32];
	size_t			 i, n;
	int			 x;

	for (i = 0; i < 5000; i++) {
		snprintf(id, sizeof id, "s%zu", i);
		ck_assert_ptr_nonnull(v[i] = submgr_sub_new(sm, &x, i % 7,
		    id, NULL));
	}
	ck_assert_uint_eq(submgr_nsubs(sm), 5000);
	for (i = 0; i < 5000; i++)
		ck_assert_ptr_eq(submgr_sub_find(sm, v[i]->up_id), v[i]);
	for (i = 0; i < 5000; i += 3)
		submgr_sub_remove(sm, v[i]);
	submgr_sub_remove(sm, v[4999]);		/* the list's head */
	submgr_sub_remove(sm, v[1]);		/* and near its tail */
	for (i = 0; i < 5000; i++) {
		snprintf(id, sizeof id, "c%zu.s%zu", i % 7, i);
		if (i % 3 == 0 || i == 4999 || i == 1)
			ck_assert_ptr_null(submgr_sub_find(sm, id));
		else
			ck_assert_ptr_eq(submgr_sub_find(sm, id), v[i]);
	}
	for (n = 0, s = submgr_sub_first(sm); s != NULL; s = s->next)
		n++;
	ck_assert_uint_eq(n, submgr_nsubs(sm));
	ck_assert_uint_eq(n, 5000 - 1667 - 2);
	submgr_free(sm);
}
END_TEST

START_TEST(test_cmds)
{
	struct submgr		*sm = submgr_create();
	struct submgr_cmd	*c1, *c2;
	struct submgr_sub	*s;
	int			 x;

	c1 = submgr_cmd_new(sm, 0);
	c2 = submgr_cmd_new(sm, 1);
	ck_assert_str_ne(c1->cid, c2->cid);
	ck_assert_ptr_eq(submgr_cmd_find(sm, c2->cid), c2);
	s = submgr_sub_new(sm, &x, 1, "s", NULL);
	c1->sub = s;
	submgr_sub_remove(sm, s);
	ck_assert_ptr_null(c1->sub);	/* invariant 3 */
	submgr_cmd_remove(sm, c1);
	ck_assert_ptr_null(submgr_cmd_find(sm, c1 == c2 ? "" : "ampsd-1"));
	submgr_free(sm);
}
END_TEST

static char	got[8][128];
static int	ngot;

static void
lease_cb(const char *topic, const char *s, void *arg)
{
	(void)arg;
	snprintf(got[ngot++], sizeof got[0], "%s:%s", topic, s);
}

START_TEST(test_leases)
{
	struct submgr		*sm = submgr_create();
	struct submgr_sub	*s;
	char			*topic = NULL;
	int			 x;

	s = submgr_sub_new(sm, &x, 1, "q", NULL);
	s->topic = strdup("q");		/* the subscription's topic */
	submgr_lease_add(s, NULL, "1|1|");
	submgr_lease_add(s, "q", "1|2|");
	submgr_lease_add(s, NULL, "1|3|");
	ck_assert_int_eq(submgr_lease_drop(s, "1|2|", &topic), 1);
	ck_assert_str_eq(topic, "q");
	free(topic);
	ck_assert_int_eq(submgr_lease_drop(s, "1|2|", NULL), 0);
	ngot = 0;
	submgr_lease_chunks(s, 1, lease_cb, NULL);
	ck_assert_int_eq(ngot, 2);
	ck_assert_str_eq(got[0], "q:1|1|");
	ck_assert_str_eq(got[1], "q:1|3|");
	ngot = 0;
	submgr_lease_chunks(s, 0, lease_cb, NULL);
	ck_assert_int_eq(ngot, 1);
	ck_assert_str_eq(got[0], "q:1|1|,1|3|");
	submgr_free(sm);
}
END_TEST

/* A regex subscription leases messages of several topics. */
START_TEST(test_lease_topics)
{
	struct submgr		*sm = submgr_create();
	struct submgr_sub	*s;
	char			*topic = NULL;
	int			 x;

	s = submgr_sub_new(sm, &x, 1, "r", NULL);
	s->topic = strdup("q\\..*");
	submgr_lease_add(s, "q.a", "1|1|");
	submgr_lease_add(s, "q.a", "1|2|");
	submgr_lease_add(s, "q.b", "1|3|");
	submgr_lease_add(s, "q.a", "1|4|");
	submgr_lease_add(s, "q.a", "1|5|");
	submgr_lease_add(s, "q.a", "1|6|");
	ngot = 0;
	submgr_lease_chunks(s, 2, lease_cb, NULL);
	ck_assert_int_eq(ngot, 4);
	ck_assert_str_eq(got[0], "q.a:1|1|,1|2|");
	ck_assert_str_eq(got[1], "q.b:1|3|");
	ck_assert_str_eq(got[2], "q.a:1|4|,1|5|");
	ck_assert_str_eq(got[3], "q.a:1|6|");
	ck_assert_int_eq(submgr_lease_drop(s, "1|3|", &topic), 1);
	ck_assert_str_eq(topic, "q.b");
	free(topic);
	ck_assert_int_eq(submgr_lease_drop(s, "1|3|", &topic), 0);
	submgr_lease_clear(s);
	ck_assert_uint_eq(s->nleases, 0);
	ngot = 0;
	submgr_lease_chunks(s, 0, lease_cb, NULL);
	ck_assert_int_eq(ngot, 0);
	submgr_free(sm);
}
END_TEST

START_TEST(test_opts)
{
	char	*s;

	s = submgr_opts_strip("oof,replace,max_backlog=3", "replace");
	ck_assert_str_eq(s, "oof,max_backlog=3");
	free(s);
	ck_assert_ptr_null(submgr_opts_strip("replace", "replace"));
	ck_assert_int_eq(submgr_opts_has("a,pause", "pause"), 1);
	ck_assert_int_eq(submgr_opts_has("a,paused", "pause"), 0);
	ck_assert_uint_eq(submgr_opts_num("max_backlog=5", "max_backlog", 0),
	    5);
	ck_assert_uint_eq(submgr_opts_num("max_backlog=x", "max_backlog", 1),
	    1);
	ck_assert_uint_eq(errmap_reason("bad filter"),
	    AMPSIPC_E_BAD_FILTER);
	ck_assert_uint_eq(errmap_reason("Bad Regex"),
	    AMPSIPC_E_BAD_REGEX_TOPIC);
	ck_assert_uint_eq(errmap_reason("invalid topic"),
	    AMPSIPC_E_INVALID_TOPIC);
	ck_assert_uint_eq(errmap_reason("something else"),
	    AMPSIPC_E_COMMAND);
}
END_TEST

/* Why a connection is down maps to the AMPS exception kinds. */
START_TEST(test_errmap_conn)
{
	int	w;

	ck_assert_uint_eq(errmap_conn(ERRMAP_CONN_NONE, NULL), AMPSIPC_E_OK);
	for (w = ERRMAP_CONN_REFUSED; w <= ERRMAP_CONN_GAVE_UP; w++) {
		ck_assert_uint_ne(errmap_conn(w, "x"), AMPSIPC_E_OK);
		ck_assert_str_ne(errmap_conn_name(w), "-");
	}
	ck_assert_uint_eq(errmap_conn(ERRMAP_CONN_REFUSED, NULL),
	    AMPSIPC_E_CONNECTION_REFUSED);
	ck_assert_uint_eq(errmap_conn(ERRMAP_CONN_TLS, NULL),
	    AMPSIPC_E_CONNECTION);
	ck_assert_uint_eq(errmap_conn(ERRMAP_CONN_AUTH, NULL),
	    AMPSIPC_E_AUTHENTICATION);
	ck_assert_uint_eq(errmap_conn(ERRMAP_CONN_NAME_IN_USE, NULL),
	    AMPSIPC_E_NAME_IN_USE);
	ck_assert_uint_eq(errmap_conn(ERRMAP_CONN_LOGON, "not entitled"),
	    AMPSIPC_E_NOT_ENTITLED);
	ck_assert_uint_eq(errmap_conn(ERRMAP_CONN_LOGON, "odd"),
	    AMPSIPC_E_COMMAND);
	ck_assert_uint_eq(errmap_conn(ERRMAP_CONN_GAVE_UP, NULL),
	    AMPSIPC_E_TIMED_OUT);
	ck_assert_uint_eq(errmap_conn(ERRMAP_CONN_LOST, NULL),
	    AMPSIPC_E_DISCONNECTED);
	ck_assert_uint_eq(errmap_conn(ERRMAP_CONN_PROTOCOL, NULL),
	    AMPSIPC_E_STREAM);
	ck_assert_str_eq(errmap_conn_name(ERRMAP_CONN_NONE), "-");
}
END_TEST

/* Extra header fields: what is accepted, refused and written. */
START_TEST(test_cmdhdr)
{
	static const char ok[] = "send_oof\0true\0timestamp\0x\0";
	static const char dup[] = "ts\0a\0timestamp\0b\0";
	static const char own[] = "cid\0x\0";
	static const char field[] = "f\0/x = 1\0";
	static const char unknown[] = "no_such\0x\0";
	static const char bad[] = "send_oof\0true";
	struct amps_wr	 w;
	char		 err[160], buf[256];

	ck_assert_int_eq(cmdhdr_check(ok, sizeof ok - 1, err, sizeof err), 0);
	ck_assert_int_eq(cmdhdr_check(dup, sizeof dup - 1, err, sizeof err),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "twice"));
	ck_assert_int_eq(cmdhdr_check(own, sizeof own - 1, err, sizeof err),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "set by ampsd"));
	ck_assert_int_eq(cmdhdr_check(field, sizeof field - 1, err,
	    sizeof err), -1);
	ck_assert_int_eq(cmdhdr_check(unknown, sizeof unknown - 1, err,
	    sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "no_such"));
	ck_assert_int_eq(cmdhdr_check(bad, sizeof bad - 1, err, sizeof err),
	    -1);
	ck_assert_int_eq(cmdhdr_check("", 0, err, sizeof err), 0);
	amps_wr_begin_fields(&w, buf, sizeof buf);
	cmdhdr_write(&w, ok, sizeof ok - 1);
	ck_assert_uint_lt(w.len, sizeof buf);
	buf[w.len] = '\0';
	ck_assert_str_eq(buf, "\"send_oof\":\"true\",\"ts\":\"x\"");
}
END_TEST

/* A command with a cid of its own (a stored sow_delete). */
START_TEST(test_cmd_cid)
{
	struct submgr		*sm = submgr_create();
	struct submgr_cmd	*c;

	c = submgr_cmd_new_cid(sm, 3, "sd-42");
	ck_assert_str_eq(c->cid, "sd-42");
	ck_assert_ptr_eq(submgr_cmd_find(sm, "sd-42"), c);
	ck_assert_uint_eq(c->connid, 3);
	submgr_cmd_remove(sm, c);
	ck_assert_ptr_null(submgr_cmd_find(sm, "sd-42"));
	submgr_free(sm);
}
END_TEST

static Suite *
submgr_suite(void)
{
	Suite	*s = suite_create("submgr");
	TCase	*tc = tcase_create("submgr");

	tcase_add_test(tc, test_up_id);
	tcase_add_test(tc, test_namespaces);
	tcase_add_test(tc, test_many);
	tcase_add_test(tc, test_cmds);
	tcase_add_test(tc, test_leases);
	tcase_add_test(tc, test_lease_topics);
	tcase_add_test(tc, test_opts);
	tcase_add_test(tc, test_errmap_conn);
	tcase_add_test(tc, test_cmdhdr);
	tcase_add_test(tc, test_cmd_cid);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (check_main(submgr_suite()));
}
