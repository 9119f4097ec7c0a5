/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for the publish store (daemon/pubstore*.c): sequence
 * numbering across reopen and total discard, discard_upto, fail, seed,
 * replay order, kill -9 safety and the disk-full (degraded) path of the
 * SQLite store; the same operations and the bound of the memory store.  Every store is opened inside the
 * test body (Check's per-test child), in a temporary directory.
 */

#include "config.h"

#include <sys/wait.h>

#include <check.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "committer.h"
#include "pubstore.h"
#include "store_testutil.h"
#include "testutil.h"

/* A publish on "orders" with data[0..len) and no header. */
static void
orders_rec(struct pubstore_rec *r, const void *data, size_t len)
{
	memset(r, 0, sizeof *r);
	r->kind = PUBSTORE_PUBLISH;
	r->topic = "orders";
	r->topic_len = 6;
	r->data = data;
	r->data_len = len;
}

/* Append one publish with payload "msg-<i>"; returns its seq. */
static uint64_t
append(struct pubstore *ps, int i)
{
	struct pubstore_rec	 r;
	char			 data[64], hdr[32];
	uint64_t		 seq = 0;

	snprintf(data, sizeof data, "msg-%d", i);
	snprintf(hdr, sizeof hdr, "\"x\":\"c%d\"", i);
	orders_rec(&r, data, strlen(data));
	r.hdr = hdr;
	r.hdr_len = strlen(hdr);
	ck_assert_msg(pubstore_append(ps, &r, &seq) == 0, "append: %s",
	    pubstore_error(ps));
	return (seq);
}

/* Open (creating) the store "p.pub.db" in the test directory. */
static struct pubstore *
open_ps(void)
{
	struct pubstore	*ps;
	char		*cause = NULL;

	ps = pubstore_open(tu_path("p.pub.db"), STORE_SYNC_FULL, STORE_CREATE,
	    &cause);
	ck_assert_msg(ps != NULL, "open: %s", cause ? cause : "?");
	return (ps);
}

/* Replay collector. */
struct collect {
	uint64_t	 seqs[256];
	char		 data[256][16];
	size_t		 n;
	size_t		 stop_at;	/* 0: never */
};

static int
collect_cb(const struct pubstore_rec *r, void *arg)
{
	struct collect	*c = arg;

	ck_assert_uint_lt(c->n, 256);
	ck_assert_int_eq(r->kind, PUBSTORE_PUBLISH);
	ck_assert_uint_eq(r->topic_len, 6);
	ck_assert(memcmp(r->topic, "orders", 6) == 0);
	c->seqs[c->n] = r->seq;
	snprintf(c->data[c->n], sizeof c->data[c->n], "%.*s",
	    (int)r->data_len, (const char *)r->data);
	c->n++;
	return (c->stop_at != 0 && c->n == c->stop_at);
}

START_TEST(test_seq_increasing)
{
	struct pubstore	*ps = open_ps();
	uint64_t	 prev = 0, s;
	int		 i;

	ck_assert_uint_eq(pubstore_last_seq(ps), 0);
	for (i = 0; i < 50; i++) {
		s = append(ps, i);
		ck_assert_uint_gt(s, prev);
		prev = s;
	}
	ck_assert_uint_eq(prev, 50);
	ck_assert_uint_eq(pubstore_pending_commit(ps), 50);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	ck_assert_uint_eq(pubstore_pending_commit(ps), 0);
	ck_assert_uint_eq(pubstore_durable_seq(ps), 50);
	pubstore_close(ps);

	ps = open_ps();
	ck_assert_uint_eq(pubstore_last_seq(ps), 50);
	ck_assert_uint_eq(pubstore_unpersisted(ps), 50);
	ck_assert_uint_eq(append(ps, 51), 51);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	pubstore_close(ps);
}
END_TEST

START_TEST(test_seq_after_all_discarded)
{
	struct pubstore	*ps = open_ps();
	int		 i;

	for (i = 0; i < 10; i++)
		append(ps, i);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	pubstore_discard_upto(ps, 10);
	ck_assert_uint_eq(pubstore_unpersisted(ps), 0);
	ck_assert_int_eq(pubstore_commit(ps), 0);	/* delete-only txn */
	pubstore_close(ps);

	ps = open_ps();
	ck_assert_uint_eq(pubstore_unpersisted(ps), 0);
	ck_assert_uint_eq(pubstore_last_seq(ps), 10);
	ck_assert_uint_eq(append(ps, 11), 11);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	pubstore_close(ps);
}
END_TEST

START_TEST(test_discard_upto)
{
	struct pubstore	*ps = open_ps();
	struct collect	 c;
	uint64_t	 commits;
	int		 i;

	for (i = 1; i <= 20; i++)
		append(ps, i);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	commits = store_commits(pubstore_store(ps));

	/* The delete joins the next append's transaction: one commit. */
	pubstore_discard_upto(ps, 7);
	ck_assert_uint_eq(pubstore_discarded_seq(ps), 7);
	ck_assert_uint_eq(pubstore_unpersisted(ps), 13);
	append(ps, 21);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	ck_assert_uint_eq(store_commits(pubstore_store(ps)), commits + 1);

	memset(&c, 0, sizeof c);
	ck_assert_int_eq(pubstore_replay(ps, 0, 0, collect_cb, &c), 14);
	ck_assert_uint_eq(c.seqs[0], 8);
	ck_assert_uint_eq(c.seqs[13], 21);

	/* Going backwards is a no-op; beyond the last seq is clamped. */
	pubstore_discard_upto(ps, 3);
	ck_assert_uint_eq(pubstore_discarded_seq(ps), 7);
	pubstore_discard_upto(ps, 1000);
	ck_assert_uint_eq(pubstore_discarded_seq(ps), 21);
	ck_assert_uint_eq(append(ps, 22), 22);	/* not hidden */
	ck_assert_uint_eq(pubstore_unpersisted(ps), 1);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	pubstore_close(ps);

	ps = open_ps();
	ck_assert_uint_eq(pubstore_unpersisted(ps), 1);
	pubstore_close(ps);
}
END_TEST

/*
 * pubstore_acked counts the rows persisted acks removed, once they are
 * committed: not the seqs skipped over, not failed rows.
 */
START_TEST(test_acked_count)
{
	struct pubstore	*ps = open_ps();
	int		 i;

	for (i = 1; i <= 10; i++)
		append(ps, i);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	ck_assert_uint_eq(pubstore_acked(ps), 0);
	pubstore_discard_upto(ps, 4);
	ck_assert_uint_eq(pubstore_acked(ps), 0);	/* not committed yet */
	ck_assert_int_eq(pubstore_commit(ps), 0);
	ck_assert_uint_eq(pubstore_acked(ps), 4);
	ck_assert_int_eq(pubstore_fail(ps, 6), 1);	/* refused: not acked */
	ck_assert_int_eq(pubstore_commit(ps), 0);
	pubstore_discard_upto(ps, 7);
	pubstore_discard_upto(ps, 8);			/* conflated */
	ck_assert_int_eq(pubstore_commit(ps), 0);
	ck_assert_uint_eq(pubstore_acked(ps), 7);	/* 5, 7, 8 */
	pubstore_discard_upto(ps, 8);			/* nothing new */
	ck_assert_int_eq(pubstore_commit(ps), 0);
	ck_assert_uint_eq(pubstore_acked(ps), 7);
	pubstore_close(ps);
}
END_TEST

/*
 * pubstore_peek_count: counts the rows of a closed store without writing
 * anything (bytes unchanged, no -wal/-shm created), whatever the file's
 * name holds; refuses while a -wal exists, and foreign or missing files.
 */
START_TEST(test_peek_count)
{
	struct pubstore	*ps = open_ps();
	const char	*odd;
	uint64_t	 n = 99;
	void		*before, *after;
	size_t		 lb, la;
	char		*path;
	int		 i;

	for (i = 1; i <= 5; i++)
		append(ps, i);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	pubstore_discard_upto(ps, 2);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	ck_assert_int_eq(pubstore_peek_count(tu_path("p.pub.db"), &n), -1);
	pubstore_close(ps);

	path = strdup(tu_path("p.pub.db"));
	odd = tu_path("o%3F?#d.db");
	ck_assert_int_eq(rename(path, odd), 0);
	free(path);
	before = tu_read(odd, &lb);
	ck_assert_int_eq(pubstore_peek_count(odd, &n), 0);
	ck_assert_uint_eq(n, 3);
	after = tu_read(odd, &la);
	ck_assert_uint_eq(la, lb);
	ck_assert(memcmp(before, after, lb) == 0);
	free(before);
	free(after);
	ck_assert(!tu_exists(tu_path("o%3F?#d.db-wal")));
	ck_assert(!tu_exists(tu_path("o%3F?#d.db-shm")));

	tu_write(tu_path("junk.db"), "not a database at all", 21);
	ck_assert_int_eq(pubstore_peek_count(tu_path("junk.db"), &n), -1);
	ck_assert_int_eq(pubstore_peek_count(tu_path("none.db"), &n), -1);
	ck_assert(!tu_exists(tu_path("none.db")));
}
END_TEST

START_TEST(test_replay_order)
{
	struct pubstore	*ps = open_ps();
	struct collect	 c;
	size_t		 i;

	for (i = 1; i <= 30; i++)
		append(ps, (int)i);
	/* Uncommitted rows are visible to replay on the same handle. */
	memset(&c, 0, sizeof c);
	ck_assert_int_eq(pubstore_replay(ps, 10, 0, collect_cb, &c), 20);
	for (i = 0; i < c.n; i++) {
		ck_assert_uint_eq(c.seqs[i], 11 + i);
		ck_assert_int_eq(atoi(c.data[i] + 4), (int)(11 + i));
	}
	ck_assert_int_eq(pubstore_commit(ps), 0);

	/* Slices via limit, and a callback that stops. */
	memset(&c, 0, sizeof c);
	ck_assert_int_eq(pubstore_replay(ps, 0, 12, collect_cb, &c), 12);
	ck_assert_int_eq(pubstore_replay(ps, c.seqs[11], 12, collect_cb, &c),
	    12);
	ck_assert_int_eq(pubstore_replay(ps, c.seqs[23], 12, collect_cb, &c),
	    6);
	ck_assert_uint_eq(c.n, 30);
	for (i = 0; i < 30; i++)
		ck_assert_uint_eq(c.seqs[i], i + 1);
	memset(&c, 0, sizeof c);
	c.stop_at = 3;
	ck_assert_int_eq(pubstore_replay(ps, 0, 0, collect_cb, &c), 3);
	pubstore_close(ps);
}
END_TEST

START_TEST(test_fail_one)
{
	struct pubstore	*ps = open_ps();
	struct collect	 c;
	int		 i;

	for (i = 1; i <= 5; i++)
		append(ps, i);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	ck_assert_int_eq(pubstore_fail(ps, 3), 1);
	ck_assert_int_eq(pubstore_fail(ps, 3), 0);
	ck_assert_int_eq(pubstore_fail(ps, 99), 0);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	pubstore_close(ps);

	ps = open_ps();
	memset(&c, 0, sizeof c);
	ck_assert_int_eq(pubstore_replay(ps, 0, 0, collect_cb, &c), 4);
	ck_assert_uint_eq(c.seqs[0], 1);
	ck_assert_uint_eq(c.seqs[1], 2);
	ck_assert_uint_eq(c.seqs[2], 4);
	ck_assert_uint_eq(c.seqs[3], 5);
	ck_assert_uint_eq(append(ps, 6), 6);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	/* Failing the newest row must not let its number come back. */
	ck_assert_int_eq(pubstore_fail(ps, 6), 1);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	pubstore_close(ps);
	ps = open_ps();
	ck_assert_uint_eq(append(ps, 7), 7);
	pubstore_close(ps);
}
END_TEST

START_TEST(test_seed)
{
	struct pubstore	*ps = open_ps();

	append(ps, 1);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	/* Logon ack says the server has up to 41. */
	pubstore_discard_upto(ps, 41);
	pubstore_seed(ps, 41);
	ck_assert_uint_eq(pubstore_last_seq(ps), 41);
	ck_assert_int_eq(pubstore_commit(ps), 0);	/* persists floor */
	pubstore_close(ps);

	ps = open_ps();
	ck_assert_uint_eq(pubstore_last_seq(ps), 41);
	ck_assert_uint_eq(pubstore_unpersisted(ps), 0);
	ck_assert_uint_eq(append(ps, 2), 42);
	/* A lower seed never moves the counter back. */
	pubstore_seed(ps, 5);
	ck_assert_uint_eq(append(ps, 3), 43);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	pubstore_close(ps);
}
END_TEST

START_TEST(test_kill_safety)
{
	struct collect	 c;
	struct pubstore	*ps;
	pid_t		 pid;
	int		 status, i;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		char	*cause = NULL;

		ps = pubstore_open(tu_path("p.pub.db"), STORE_SYNC_FULL,
		    STORE_CREATE, &cause);
		if (ps == NULL)
			_exit(2);
		for (i = 1; i <= 100; i++) {
			struct pubstore_rec	 r;
			char			 d[16];
			uint64_t		 s;

			snprintf(d, sizeof d, "msg-%d", i);
			orders_rec(&r, d, strlen(d));
			if (pubstore_append(ps, &r, &s) != 0)
				_exit(3);
			if (i % 25 == 0 && i <= 75 && pubstore_commit(ps) != 0)
				_exit(4);
		}
		_exit(0);	/* 25 rows uncommitted, no close */
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);

	ps = open_ps();
	memset(&c, 0, sizeof c);
	ck_assert_int_eq(pubstore_replay(ps, 0, 0, collect_cb, &c), 75);
	for (i = 0; i < 75; i++) {
		ck_assert_uint_eq(c.seqs[i], (uint64_t)i + 1);
		ck_assert_int_eq(atoi(c.data[i] + 4), i + 1);
	}
	ck_assert_uint_gt(append(ps, 76), 75);
	pubstore_close(ps);
}
END_TEST

START_TEST(test_disk_full)
{
	struct pubstore		*ps = open_ps();
	struct pubstore_rec	 r;
	struct collect		 c;
	static char		 big[3000];
	uint64_t		 s, last_ok = 0, lost_first = 0, handed;
	int			 i, failed = 0;

	ck_assert_int_eq(pubstore_commit(ps), 0);
	ck_assert_int_eq(store_set_size_limit(pubstore_store(ps), 64 * 1024),
	    0);
	memset(big, 'x', sizeof big);
	orders_rec(&r, big, sizeof big);

	/* Commit every 5 appends until the quota bites. */
	for (i = 0; i < 200 && !failed; i++) {
		if (pubstore_append(ps, &r, &s) != 0) {
			failed = 1;
			break;
		}
		if (lost_first == 0)
			lost_first = s;
		if (i % 5 == 4) {
			if (pubstore_commit(ps) != 0) {
				failed = 2;
				break;
			}
			last_ok = s;
			lost_first = 0;
		}
	}
	ck_assert_msg(failed != 0, "quota never reached");
	handed = s;		/* the last number an append handed out */
	ck_assert_int_eq(pubstore_state(ps), STORE_DEGRADED);
	ck_assert_msg(strstr(pubstore_error(ps), "full") != NULL,
	    "error: %s", pubstore_error(ps));
	/* Whatever this pass appended is reported lost. */
	if (failed == 1)
		ck_assert_int_eq(pubstore_commit(ps), -1);
	ck_assert_uint_eq(pubstore_durable_seq(ps), last_ok);

	/* Refused while degraded, with a clear message; probe fails. */
	ck_assert_int_eq(pubstore_append(ps, &r, &s), -1);
	ck_assert_msg(strstr(pubstore_error(ps), "degraded") != NULL,
	    "error: %s", pubstore_error(ps));
	ck_assert_int_eq(store_probe(pubstore_store(ps)), -1);
	ck_assert_int_eq(pubstore_state(ps), STORE_DEGRADED);

	/* Raise the limit: the probe commits and the store recovers. */
	ck_assert_int_eq(store_set_size_limit(pubstore_store(ps), 0), 0);
	ck_assert_int_eq(store_probe(pubstore_store(ps)), 0);
	ck_assert_int_eq(pubstore_state(ps), STORE_OK);
	ck_assert_int_eq(pubstore_append(ps, &r, &s), 0);
	ck_assert_uint_gt(s, handed);	/* lost numbers not reused */
	ck_assert_int_eq(pubstore_commit(ps), 0);
	pubstore_close(ps);

	/* After reopen: exactly the committed rows plus the new one. */
	ps = open_ps();
	ck_assert_uint_eq(pubstore_unpersisted(ps), last_ok + 1);
	memset(&c, 0, sizeof c);
	r.data = NULL;
	ck_assert_int_eq(pubstore_replay(ps, last_ok, 0, collect_cb, &c), 1);
	ck_assert_uint_eq(c.seqs[0], s);
	pubstore_close(ps);
}
END_TEST

START_TEST(test_limits)
{
	struct pubstore		*ps = open_ps();
	struct pubstore_rec	 r;
	uint64_t		 s;

	memset(&r, 0, sizeof r);
	r.kind = PUBSTORE_PUBLISH;
	r.topic = "";
	r.topic_len = 0;
	ck_assert_int_eq(pubstore_append(ps, &r, &s), -1);
	ck_assert(strstr(pubstore_error(ps), "topic") != NULL);
	r.topic = "t";
	r.topic_len = PUBSTORE_MAX_TOPIC + 1;
	ck_assert_int_eq(pubstore_append(ps, &r, &s), -1);
	r.topic_len = 1;
	r.kind = (enum pubstore_kind)9;
	ck_assert_int_eq(pubstore_append(ps, &r, &s), -1);
	/* Empty payload and header are fine. */
	r.kind = PUBSTORE_SOW_DELETE;
	ck_assert_int_eq(pubstore_append(ps, &r, &s), 0);
	ck_assert_uint_eq(s, 1);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	ck_assert_int_eq(pubstore_state(ps), STORE_OK);
	pubstore_close(ps);
}
END_TEST

/*
 * A commit that fails loses what it carried; the numbers are not reused
 * and the rows never come back, while the committed ones stay.
 */
START_TEST(test_lost_txn_not_reused)
{
	struct pubstore		*ps = open_ps();
	struct pubstore_rec	 r;
	static char		 big[200000];
	uint64_t		 s2, s3;

	append(ps, 1);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	ck_assert_int_eq(store_set_size_limit(pubstore_store(ps), 16384), 0);
	memset(big, 'x', sizeof big);
	orders_rec(&r, big, sizeof big);
	ck_assert_int_eq(pubstore_append(ps, &r, &s2), 0);
	ck_assert_int_eq(pubstore_append(ps, &r, &s3), 0);
	ck_assert_int_eq(pubstore_seq_state(ps, s2), 0);
	ck_assert_int_eq(pubstore_commit(ps), -1);	/* the file is full */
	ck_assert_uint_eq(pubstore_durable_seq(ps), 1);
	ck_assert_int_eq(pubstore_seq_state(ps, 1), 1);
	ck_assert_int_eq(pubstore_seq_state(ps, s2), -1);
	ck_assert_int_eq(pubstore_seq_state(ps, s3), -1);
	ck_assert_int_eq(store_set_size_limit(pubstore_store(ps), 0), 0);
	ck_assert_int_eq(pubstore_probe(ps), 0);
	ck_assert_uint_eq(append(ps, 4), 4);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	ck_assert_int_eq(pubstore_seq_state(ps, 4), 1);
	ck_assert_int_eq(pubstore_seq_state(ps, s3), -1);
	ck_assert_uint_eq(pubstore_unpersisted(ps), 2);
	pubstore_close(ps);
}
END_TEST

START_TEST(test_refuse_garbage)
{
	struct pubstore	*ps;
	unsigned char	 junk[4096], *back;
	char		*cause = NULL;
	size_t		 len, i;

	for (i = 0; i < sizeof junk; i++)
		junk[i] = (unsigned char)(i * 7 + 3);
	ck_assert_int_eq(tu_write(tu_path("p.pub.db"), junk, sizeof junk), 0);
	ps = pubstore_open(tu_path("p.pub.db"), STORE_SYNC_FULL, STORE_CREATE,
	    &cause);
	ck_assert(ps == NULL);
	ck_assert_msg(cause != NULL && strstr(cause, "not a SQLite") != NULL,
	    "cause: %s", cause ? cause : "(null)");
	free(cause);
	back = tu_read(tu_path("p.pub.db"), &len);
	ck_assert(back != NULL);
	ck_assert_uint_eq(len, sizeof junk);
	ck_assert(memcmp(back, junk, len) == 0);
	free(back);
}
END_TEST

/* What the commit observer saw. */
struct obs {
	int	 n;
	int	 ok;
};

static void
observe_cb(void *arg, struct pubstore *ps, double secs, int ok)
{
	struct obs	*o = arg;

	ck_assert(secs >= 0);
	o->n++;
	o->ok += ok;
}

/* Wait (bounded) for the commit thread, then run the done()s. */
static void
reap(struct committer *cm)
{
	struct pollfd	 pfd;

	pfd.fd = committer_fd(cm);
	pfd.events = POLLIN;
	ck_assert_msg(poll(&pfd, 1, 20000) == 1, "no batch finished in 20 s");
	committer_reap(cm);
}

/*
 * Group commits on the commit thread: a batch's outcome shows only when
 * it is reaped; appends made meanwhile wait for the next batch; rows
 * evicted from memory are read back from the file in order, merged with
 * the queued ones; close waits for the batch in flight.
 */
START_TEST(test_async)
{
	struct pubstore		*ps = open_ps();
	struct committer	*cm;
	struct collect		 c;
	struct obs		 o = { 0, 0 };
	char			*cause = NULL;
	int			 i;

	cm = committer_create(&cause);
	ck_assert_msg(cm != NULL, "committer: %s", cause ? cause : "?");
	pubstore_set_committer(ps, cm, observe_cb, &o);
	for (i = 1; i <= 100; i++)
		append(ps, i);
	ck_assert_int_eq(pubstore_flush(ps), 0);
	for (i = 101; i <= 150; i++)
		append(ps, i);
	ck_assert_int_eq(pubstore_flush(ps), 0);	/* waits its turn */
	ck_assert_int_eq(pubstore_seq_state(ps, 100), 0);
	ck_assert_uint_eq(pubstore_durable_seq(ps), 0);
	ck_assert_uint_eq(pubstore_pending_commit(ps), 150);
	reap(cm);
	ck_assert_int_eq(o.n, 1);
	ck_assert_int_eq(o.ok, 1);
	ck_assert_uint_eq(pubstore_durable_seq(ps), 100);
	ck_assert_int_eq(pubstore_seq_state(ps, 100), 1);
	ck_assert_int_eq(pubstore_seq_state(ps, 101), 0);
	ck_assert_int_eq(pubstore_flush(ps), 0);
	reap(cm);
	ck_assert_uint_eq(pubstore_durable_seq(ps), 150);
	ck_assert_int_eq(o.ok, 2);

	/* Evict every committed row: replay reads them from the file. */
	pubstore_set_cache(ps, 0);
	append(ps, 151);
	pubstore_discard_upto(ps, 10);
	ck_assert_uint_eq(pubstore_unpersisted(ps), 141);
	memset(&c, 0, sizeof c);
	ck_assert_int_eq(pubstore_replay(ps, 0, 0, collect_cb, &c), 141);
	for (i = 0; i < 141; i++)
		ck_assert_uint_eq(c.seqs[i], (uint64_t)i + 11);
	ck_assert_int_eq(atoi(c.data[140] + 4), 151);
	memset(&c, 0, sizeof c);
	c.stop_at = 5;
	ck_assert_int_eq(pubstore_replay(ps, 20, 0, collect_cb, &c), 5);
	ck_assert_uint_eq(c.seqs[4], 25);
	ck_assert_int_eq(pubstore_fail(ps, 30), 1);	/* on disk only */
	memset(&c, 0, sizeof c);
	ck_assert_int_eq(pubstore_replay(ps, 28, 3, collect_cb, &c), 3);
	ck_assert_uint_eq(c.seqs[1], 31);

	/* A batch in flight at close is waited for, not lost. */
	ck_assert_int_eq(pubstore_flush(ps), 0);
	pubstore_close(ps);
	ck_assert_int_eq(o.n, 3);
	committer_free(cm);
	ps = open_ps();
	ck_assert_uint_eq(pubstore_last_seq(ps), 151);
	ck_assert_uint_eq(pubstore_unpersisted(ps), 140);	/* not 30 */
	pubstore_close(ps);
}
END_TEST

/* Open a memory store with limit bytes. */
static struct pubstore *
open_mem(uint64_t limit)
{
	struct pubstore	*ps;
	char		*cause = NULL;

	ps = pubstore_open_memory(limit, &cause);
	ck_assert_msg(ps != NULL, "open: %s", cause ? cause : "?");
	ck_assert_str_eq(pubstore_medium(ps), "memory");
	ck_assert_ptr_null(pubstore_store(ps));
	return (ps);
}

/*
 * The memory store: numbers start at the wall clock in microseconds and
 * increase; every append is durable at once; replay, discard, fail,
 * seed and the counts behave as in the SQLite store.
 */
START_TEST(test_mem_rows)
{
	struct pubstore	*ps = open_mem(0);
	struct collect	 c;
	uint64_t	 first, s;
	int		 i;

	first = append(ps, 1);
	ck_assert_uint_gt(first, 1000000000000000ULL);	/* after 2001 */
	ck_assert_uint_eq(pubstore_durable_seq(ps), first);
	ck_assert_uint_eq(pubstore_pending_commit(ps), 0);
	for (i = 2; i <= 20; i++)
		ck_assert_uint_eq(append(ps, i), first + (uint64_t)i - 1);
	ck_assert_int_eq(pubstore_commit(ps), 0);
	ck_assert_uint_eq(pubstore_unpersisted(ps), 20);
	ck_assert_uint_eq(pubstore_durable_seq(ps), first + 19);

	/* Replay in slices and with a stop, like conn_pump(). */
	memset(&c, 0, sizeof c);
	ck_assert_int_eq(pubstore_replay(ps, first + 4, 10, collect_cb, &c),
	    10);
	ck_assert_uint_eq(c.seqs[0], first + 5);
	ck_assert_int_eq(atoi(c.data[9] + 4), 15);
	c.stop_at = 11;
	ck_assert_int_eq(pubstore_replay(ps, c.seqs[9], 0, collect_cb, &c),
	    1);

	/* Persisted ack and a failure. */
	pubstore_discard_upto(ps, first + 4);
	ck_assert_uint_eq(pubstore_discarded_seq(ps), first + 4);
	ck_assert_uint_eq(pubstore_acked(ps), 5);
	ck_assert_int_eq(pubstore_fail(ps, first + 6), 1);
	ck_assert_int_eq(pubstore_fail(ps, first + 6), 0);
	ck_assert_int_eq(pubstore_fail(ps, first + 2), 0);	/* discarded */
	ck_assert_uint_eq(pubstore_unpersisted(ps), 14);
	memset(&c, 0, sizeof c);
	ck_assert_int_eq(pubstore_replay(ps, 0, 0, collect_cb, &c), 14);
	ck_assert_uint_eq(c.seqs[0], first + 5);
	ck_assert_uint_eq(c.seqs[1], first + 7);

	/* A logon seed above moves the counter; below does not. */
	pubstore_seed(ps, first + 100);
	ck_assert_uint_eq(append(ps, 21), first + 101);
	pubstore_seed(ps, 5);
	ck_assert_uint_eq(append(ps, 22), first + 102);
	pubstore_discard_upto(ps, UINT64_MAX);		/* clamped */
	ck_assert_uint_eq(pubstore_discarded_seq(ps), first + 102);
	ck_assert_uint_eq(pubstore_unpersisted(ps), 0);
	ck_assert_uint_eq(pubstore_acked(ps), 21);
	s = append(ps, 23);
	ck_assert_uint_eq(s, first + 103);		/* not hidden */
	ck_assert_uint_eq(pubstore_unpersisted(ps), 1);
	ck_assert_int_eq(pubstore_state(ps), STORE_OK);
	ck_assert_int_eq(pubstore_probe(ps), 0);
	pubstore_close(ps);
}
END_TEST

/*
 * The bound: an append that would pass it is refused with an error
 * naming the limit (it contains "full", which the daemon maps to
 * DISK_FULL) and changes nothing; discards make room again.
 */
START_TEST(test_mem_limit)
{
	struct pubstore		*ps = open_mem(4096);
	struct pubstore_memory	 m;
	struct pubstore_rec	 r;
	static char		 data[1000];
	uint64_t		 s, last = 0;
	int			 n = 0;

	orders_rec(&r, data, sizeof data);
	while (pubstore_append(ps, &r, &s) == 0) {
		last = s;
		n++;
		ck_assert_int_lt(n, 10);
	}
	ck_assert_int_eq(n, 3);
	ck_assert_msg(strstr(pubstore_error(ps), "full") != NULL &&
	    strstr(pubstore_error(ps), "limit 4096") != NULL, "error: %s",
	    pubstore_error(ps));
	ck_assert_uint_eq(pubstore_last_seq(ps), last);	/* nothing taken */
	pubstore_memory(ps, &m);
	ck_assert_uint_eq(m.limit, 4096);
	ck_assert_uint_le(m.used, 4096);
	ck_assert_uint_gt(m.used, 3000);
	pubstore_discard_upto(ps, last - 1);
	ck_assert_int_eq(pubstore_append(ps, &r, &s), 0);
	ck_assert_uint_eq(s, last + 1);
	pubstore_close(ps);
}
END_TEST

/*
 * The memory store keeps a transmit horizon like the SQLite store: rows
 * appended offline are not sendable; a logon renumbers those the
 * server's sequence would cover, in order, and raises the horizon.
 */
START_TEST(test_mem_logon)
{
	struct pubstore		*ps = open_mem(0);
	struct pubstore_logon	 lo;
	struct collect		 c;
	uint64_t		 first;

	first = append(ps, 1);
	append(ps, 2);
	append(ps, 3);
	ck_assert_uint_eq(pubstore_sendable_seq(ps), 0);
	/* A server holding numbers below ours: nothing moves. */
	ck_assert_int_eq(pubstore_logon(ps, 5, &lo), 0);
	ck_assert_uint_eq(lo.renumbered, 0);
	ck_assert_uint_eq(pubstore_sendable_seq(ps), first + 2);
	ck_assert_uint_eq(pubstore_sent_horizon(ps), first + 2);
	append(ps, 4);				/* online: sendable */
	ck_assert_uint_eq(pubstore_sendable_seq(ps), first + 3);
	pubstore_set_online(ps, 0);
	append(ps, 5);				/* offline: not */
	append(ps, 6);
	ck_assert_uint_eq(pubstore_sendable_seq(ps), first + 3);
	/* A server already past our offline rows: they move above it. */
	ck_assert_int_eq(pubstore_logon(ps, first + 100, &lo), 0);
	ck_assert_uint_eq(lo.horizon, first + 3);
	ck_assert_uint_eq(lo.renumbered, 2);
	ck_assert_uint_eq(lo.first, first + 4);
	ck_assert_uint_eq(lo.delta, 97);
	ck_assert_uint_eq(lo.assumed, 4);	/* rows <= horizon */
	memset(&c, 0, sizeof c);
	ck_assert_int_eq(pubstore_replay(ps, 0, 0, collect_cb, &c), 2);
	ck_assert_uint_eq(c.seqs[0], first + 101);
	ck_assert_int_eq(atoi(c.data[0] + 4), 5);
	ck_assert_uint_eq(c.seqs[1], first + 102);
	ck_assert_uint_eq(pubstore_sendable_seq(ps), first + 102);
	ck_assert_uint_eq(append(ps, 7), first + 103);
	ck_assert_uint_eq(pubstore_renumbered(ps), 2);
	pubstore_close(ps);
}
END_TEST

static Suite *
pubstore_suite(void)
{
	Suite	*s = suite_create("pubstore");
	TCase	*seq = tu_tcase("sequence", 30);
	TCase	*rows = tu_tcase("rows", 30);
	TCase	*fail = tu_tcase("failure", 60);
	TCase	*mem = tcase_create("memory");

	tcase_add_test(seq, test_seq_increasing);
	tcase_add_test(seq, test_seq_after_all_discarded);
	tcase_add_test(seq, test_seed);
	tcase_add_test(seq, test_lost_txn_not_reused);
	tcase_add_test(rows, test_discard_upto);
	tcase_add_test(rows, test_replay_order);
	tcase_add_test(rows, test_acked_count);
	tcase_add_test(rows, test_fail_one);
	tcase_add_test(rows, test_peek_count);
	tcase_add_test(rows, test_limits);
	tcase_add_test(fail, test_kill_safety);
	tcase_add_test(fail, test_disk_full);
	tcase_add_test(fail, test_refuse_garbage);
	suite_add_tcase(s, seq);
	suite_add_tcase(s, rows);
	tcase_add_test(rows, test_async);
	tcase_add_test(mem, test_mem_rows);
	tcase_add_test(mem, test_mem_limit);
	tcase_add_test(mem, test_mem_logon);
	suite_add_tcase(s, fail);
	suite_add_tcase(s, mem);
	return (s);
}

int
main(void)
{
	return (check_main(pubstore_suite()));
}
