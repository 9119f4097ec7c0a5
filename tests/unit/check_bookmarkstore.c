/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for daemon/bookmarkstore.c: durable subscriptions survive
 * close/reopen and a child that _exit()s without closing, with the same
 * MOST_RECENT; out-of-order discards stay suppressed after a restart;
 * uncommitted progress is redelivered, never skipped; purge; persisted
 * acks; refusal of a publish store file.  Every store is opened inside
 * the test body, in a temporary directory.
 */

#include "config.h"

#include <sys/wait.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bookmarkstore.h"
#include "pubstore.h"
#include "store_testutil.h"
#include "testutil.h"

#define PUB_A	"9518329128413381245"

static const char *
bm(int seq)
{
	static char	 buf[8][64];
	static int	 i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof buf[i], PUB_A "|%d|", seq);
	return (buf[i]);
}

static struct bookmarkstore *
open_bs(void)
{
	struct bookmarkstore	*bs;
	char			*cause = NULL;

	bs = bookmarkstore_open(tu_path("c.bm.db"), STORE_SYNC_FULL,
	    STORE_CREATE, &cause);
	ck_assert_msg(bs != NULL, "open: %s", cause ? cause : "?");
	return (bs);
}

static void
define(struct bookmarkstore *bs, const char *id)
{
	struct bookmarkstore_sub	 d;

	memset(&d, 0, sizeof d);
	d.sub_id = id;
	d.topic = "orders";
	d.filter = "/qty > 10";
	d.options = "bookmark_not_found=epoch";
	d.start = "recent";
	ck_assert_msg(bookmarkstore_define(bs, &d) == 0, "define: %s",
	    bookmarkstore_error(bs));
}

static int
lg(struct bookmarkstore *bs, const char *id, int seq)
{
	return (bookmarkstore_log(bs, id, bm(seq), strlen(bm(seq))));
}

static int
dc(struct bookmarkstore *bs, const char *id, int seq)
{
	return (bookmarkstore_discard(bs, id, bm(seq), strlen(bm(seq))));
}

static const char *
recent(struct bookmarkstore *bs, const char *id)
{
	static char	 out[256];

	bookmarkstore_most_recent(bs, id, BMTRACK_SINGLE, out, sizeof out);
	return (out);
}

/* foreach callback: check the stored definition. */
static int
def_cb(const struct bookmarkstore_sub *d, void *arg)
{
	int	*n = arg;

	ck_assert_str_eq(d->sub_id, "audit-1");
	ck_assert_str_eq(d->topic, "orders");
	ck_assert_str_eq(d->filter, "/qty > 10");
	ck_assert_str_eq(d->options, "bookmark_not_found=epoch");
	ck_assert_str_eq(d->start, "0");	/* "recent" = EPOCH */
	(*n)++;
	return (0);
}

START_TEST(test_reopen_same_most_recent)
{
	struct bookmarkstore	*bs = open_bs();
	int			 i, n = 0;

	define(bs, "audit-1");
	for (i = 1; i <= 5; i++)
		ck_assert_int_eq(lg(bs, "audit-1", i), BMTRACK_NEW);
	for (i = 1; i <= 3; i++)
		ck_assert_int_eq(dc(bs, "audit-1", i), 1);
	ck_assert_int_eq(bookmarkstore_commit(bs), 0);
	ck_assert_str_eq(recent(bs, "audit-1"), bm(3));
	bookmarkstore_close(bs);

	bs = open_bs();
	ck_assert_str_eq(recent(bs, "audit-1"), bm(3));
	ck_assert_int_eq(bookmarkstore_foreach(bs, def_cb, &n), 1);
	ck_assert_int_eq(n, 1);
	/* Replay after the restart: 1-3 are duplicates, 4-5 delivered. */
	for (i = 1; i <= 3; i++)
		ck_assert_int_eq(lg(bs, "audit-1", i), BMTRACK_DUPLICATE);
	for (i = 4; i <= 5; i++)
		ck_assert_int_eq(lg(bs, "audit-1", i), BMTRACK_NEW);
	ck_assert_str_eq(recent(bs, "nobody"), "0");
	ck_assert_int_eq(lg(bs, "nobody", 1), -1);
	bookmarkstore_close(bs);
}
END_TEST

START_TEST(test_child_exit)
{
	struct bookmarkstore	*bs;
	pid_t			 pid;
	int			 status, i;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		struct bookmarkstore_sub	 d;
		char				*cause = NULL;

		bs = bookmarkstore_open(tu_path("c.bm.db"), STORE_SYNC_FULL,
		    STORE_CREATE, &cause);
		if (bs == NULL)
			_exit(2);
		memset(&d, 0, sizeof d);
		d.sub_id = "audit-1";
		d.topic = "orders";
		if (bookmarkstore_define(bs, &d) != 0)
			_exit(3);
		for (i = 1; i <= 10; i++)
			bookmarkstore_log(bs, "audit-1", bm(i), strlen(bm(i)));
		for (i = 1; i <= 6; i++)
			bookmarkstore_discard(bs, "audit-1", bm(i),
			    strlen(bm(i)));
		bookmarkstore_discard(bs, "audit-1", bm(8), strlen(bm(8)));
		if (bookmarkstore_commit(bs) != 0)
			_exit(4);
		/* Discarded but never committed: must come back. */
		bookmarkstore_discard(bs, "audit-1", bm(7), strlen(bm(7)));
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);

	bs = open_bs();
	ck_assert_str_eq(recent(bs, "audit-1"), bm(6));
	ck_assert_int_eq(lg(bs, "audit-1", 6), BMTRACK_DUPLICATE);
	ck_assert_int_eq(lg(bs, "audit-1", 7), BMTRACK_NEW);	/* redelivered */
	ck_assert_int_eq(lg(bs, "audit-1", 8), BMTRACK_DUPLICATE);
	ck_assert_int_eq(lg(bs, "audit-1", 9), BMTRACK_NEW);
	ck_assert_int_eq(dc(bs, "audit-1", 7), 1);
	ck_assert_str_eq(recent(bs, "audit-1"), bm(8));
	ck_assert_int_eq(bookmarkstore_commit(bs), 0);
	bookmarkstore_close(bs);

	bs = open_bs();
	ck_assert_str_eq(recent(bs, "audit-1"), bm(8));
	bookmarkstore_close(bs);
}
END_TEST

START_TEST(test_out_of_order_durable)
{
	struct bookmarkstore	*bs = open_bs();
	int			 i;

	define(bs, "s");
	for (i = 1; i <= 5; i++)
		lg(bs, "s", i);
	ck_assert_int_eq(dc(bs, "s", 2), 0);
	ck_assert_int_eq(dc(bs, "s", 4), 0);
	ck_assert_int_eq(bookmarkstore_commit(bs), 0);
	bookmarkstore_close(bs);

	bs = open_bs();
	ck_assert_str_eq(recent(bs, "s"), "0");
	ck_assert_int_eq(lg(bs, "s", 1), BMTRACK_NEW);
	ck_assert_int_eq(lg(bs, "s", 2), BMTRACK_DUPLICATE);
	ck_assert_int_eq(lg(bs, "s", 3), BMTRACK_NEW);
	ck_assert_int_eq(lg(bs, "s", 4), BMTRACK_DUPLICATE);
	ck_assert_int_eq(lg(bs, "s", 5), BMTRACK_NEW);
	ck_assert_int_eq(dc(bs, "s", 1), 1);
	ck_assert_str_eq(recent(bs, "s"), bm(2));
	ck_assert_int_eq(dc(bs, "s", 3), 1);
	ck_assert_str_eq(recent(bs, "s"), bm(4));
	ck_assert_int_eq(bookmarkstore_commit(bs), 0);
	bookmarkstore_close(bs);

	bs = open_bs();
	ck_assert_str_eq(recent(bs, "s"), bm(4));
	ck_assert_int_eq(lg(bs, "s", 5), BMTRACK_NEW);
	bookmarkstore_close(bs);
}
END_TEST

START_TEST(test_restored_discard_pops_on_log)
{
	struct bookmarkstore	*bs = open_bs();
	int			 i;

	define(bs, "s");
	for (i = 1; i <= 3; i++)
		lg(bs, "s", i);
	ck_assert_int_eq(dc(bs, "s", 2), 0);
	ck_assert_int_eq(dc(bs, "s", 3), 0);
	ck_assert_int_eq(bookmarkstore_commit(bs), 0);
	bookmarkstore_close(bs);

	/* Message 1 was processed in another life; 2 and 3 come back. */
	bs = open_bs();
	ck_assert_int_eq(lg(bs, "s", 2), BMTRACK_DUPLICATE);
	ck_assert_int_eq(lg(bs, "s", 3), BMTRACK_DUPLICATE);
	ck_assert_str_eq(recent(bs, "s"), bm(3));
	ck_assert_int_eq(bookmarkstore_commit(bs), 0);
	bookmarkstore_close(bs);

	bs = open_bs();
	ck_assert_str_eq(recent(bs, "s"), bm(3));
	bookmarkstore_close(bs);
}
END_TEST

START_TEST(test_purge_and_redefine)
{
	struct bookmarkstore		*bs = open_bs();
	struct bookmarkstore_sub	 d;

	define(bs, "s");
	define(bs, "t");
	lg(bs, "s", 1);
	dc(bs, "s", 1);
	lg(bs, "t", 1);
	dc(bs, "t", 1);
	ck_assert_int_eq(bookmarkstore_commit(bs), 0);
	ck_assert_int_eq(bookmarkstore_purge(bs, "s"), 0);
	/* Redefining keeps progress and start, updates the filter. */
	memset(&d, 0, sizeof d);
	d.sub_id = "t";
	d.topic = "orders";
	d.filter = "/qty > 99";
	d.start = "0|1|";
	ck_assert_int_eq(bookmarkstore_define(bs, &d), 0);
	ck_assert_int_eq(bookmarkstore_commit(bs), 0);
	bookmarkstore_close(bs);

	bs = open_bs();
	ck_assert_str_eq(recent(bs, "s"), "0");
	ck_assert_int_eq(lg(bs, "s", 1), -1);
	ck_assert_str_eq(recent(bs, "t"), bm(1));
	ck_assert_str_eq(bmsub_start(bmtrack_get(bookmarkstore_tracker(bs),
	    "t")), "0");
	bookmarkstore_close(bs);
}
END_TEST

START_TEST(test_persisted_durable)
{
	struct bookmarkstore	*bs = open_bs();

	define(bs, "s");
	ck_assert_int_eq(bookmarkstore_persisted(bs, "s", bm(57),
	    strlen(bm(57))), 0);		/* replay not completed */
	ck_assert_int_eq(bookmarkstore_live(bs, "s", 1), 0);
	ck_assert_int_eq(bookmarkstore_live(bs, "nobody", 1), -1);
	ck_assert_int_eq(bookmarkstore_persisted(bs, "s", bm(57),
	    strlen(bm(57))), 1);
	ck_assert_int_eq(bookmarkstore_commit(bs), 0);
	bookmarkstore_close(bs);
	bs = open_bs();
	ck_assert_str_eq(recent(bs, "s"), bm(57));
	ck_assert_int_eq(lg(bs, "s", 57), BMTRACK_DUPLICATE);
	bookmarkstore_close(bs);
}
END_TEST

START_TEST(test_define_bounds)
{
	struct bookmarkstore		*bs = open_bs();
	struct bookmarkstore_sub	 d;

	memset(&d, 0, sizeof d);
	ck_assert_int_eq(bookmarkstore_define(bs, &d), -1);
	d.sub_id = "";
	ck_assert_int_eq(bookmarkstore_define(bs, &d), -1);
	ck_assert(strstr(bookmarkstore_error(bs), "subscription") != NULL);
	ck_assert_int_eq(bookmarkstore_discard(bs, "none", "1|1|", 4), -1);
	bookmarkstore_close(bs);
}
END_TEST

START_TEST(test_refuse_publish_store)
{
	struct pubstore		*ps;
	struct bookmarkstore	*bs;
	char			*cause = NULL;

	ps = pubstore_open(tu_path("c.bm.db"), STORE_SYNC_FULL, STORE_CREATE,
	    &cause);
	ck_assert(ps != NULL);
	pubstore_close(ps);
	bs = bookmarkstore_open(tu_path("c.bm.db"), STORE_SYNC_FULL,
	    STORE_CREATE, &cause);
	ck_assert(bs == NULL);
	ck_assert_msg(cause != NULL && strstr(cause, "not an ampsd bookmark "
	    "store") != NULL, "cause: %s", cause ? cause : "(null)");
	free(cause);
}
END_TEST

/*
 * STORE_MEMORY: the same store in a private in-memory database; nothing
 * is written to disk, two memory stores of the same name are separate,
 * and one closed and opened again starts empty.
 */
START_TEST(test_memory)
{
	struct bookmarkstore	*bs, *bs2;
	char			*cause = NULL;

	bs = bookmarkstore_open(tu_path("m.bm.db"), STORE_MEMORY,
	    STORE_CREATE, &cause);
	ck_assert_msg(bs != NULL, "open: %s", cause ? cause : "?");
	bs2 = bookmarkstore_open(tu_path("m.bm.db"), STORE_MEMORY,
	    STORE_CREATE, &cause);
	ck_assert_ptr_nonnull(bs2);
	define(bs, "audit-1");
	ck_assert_int_eq(lg(bs, "audit-1", 1), BMTRACK_NEW);
	ck_assert_int_eq(lg(bs, "audit-1", 2), BMTRACK_NEW);
	ck_assert_int_eq(lg(bs, "audit-1", 3), BMTRACK_NEW);
	ck_assert_int_eq(dc(bs, "audit-1", 2), 0);	/* out of order */
	ck_assert_int_eq(dc(bs, "audit-1", 1), 1);
	ck_assert_int_eq(bookmarkstore_commit(bs), 0);
	ck_assert_str_eq(recent(bs, "audit-1"), bm(2));
	ck_assert_int_eq(lg(bs, "audit-1", 2), BMTRACK_DUPLICATE);
	ck_assert_int_eq(bookmarkstore_state(bs), STORE_OK);
	ck_assert_str_eq(recent(bs2, "audit-1"), "0");
	ck_assert(!tu_exists(tu_path("m.bm.db")));
	ck_assert(!tu_exists(tu_path("m.bm.db-wal")));
	bookmarkstore_close(bs2);
	bookmarkstore_close(bs);
	bs = bookmarkstore_open(tu_path("m.bm.db"), STORE_MEMORY,
	    STORE_CREATE, &cause);
	ck_assert_ptr_nonnull(bs);
	ck_assert_str_eq(recent(bs, "audit-1"), "0");
	bookmarkstore_close(bs);
}
END_TEST

static Suite *
bookmarkstore_suite(void)
{
	Suite	*s = suite_create("bookmarkstore");
	TCase	*dur = tu_tcase("durable", 30);
	TCase	*misc = tu_tcase("misc", 30);

	tcase_add_test(dur, test_reopen_same_most_recent);
	tcase_add_test(dur, test_child_exit);
	tcase_add_test(dur, test_out_of_order_durable);
	tcase_add_test(dur, test_restored_discard_pops_on_log);
	tcase_add_test(dur, test_persisted_durable);
	tcase_add_test(misc, test_purge_and_redefine);
	tcase_add_test(misc, test_define_bounds);
	tcase_add_test(misc, test_refuse_publish_store);
	tcase_add_test(misc, test_memory);
	suite_add_tcase(s, dur);
	suite_add_tcase(s, misc);
	return (s);
}

int
main(void)
{
	return (check_main(bookmarkstore_suite()));
}
