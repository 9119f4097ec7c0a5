/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for ampsim/queuestore.c: PROTOCOL.md §17.4 scenario 26, lease
 * expiry, at-most-once, round-robin, owners, filters, limits, a 1M message
 * run, and a randomized model test with a fixed, printed seed
 * (AMPS_TEST_SEED to try another).
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ampsim_testutil.h"
#include "filter.h"
#include "queuestore.h"
#include "testutil.h"

#define SEC	(1000ULL * 1000)

/* An assertion for hot loops: ck_assert reports every pass to the parent. */
#define MUST(c) do {							\
	if (!(c))							\
		ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #c);	\
} while (0)

/* A queue with the given settings. */
static struct queuestore *
mkq(enum queue_semantics sem, uint64_t lease, unsigned maxbl,
    unsigned maxdel, unsigned maxcan)
{
	struct queue_config	cfg;

	memset(&cfg, 0, sizeof cfg);
	cfg.name = "work";
	cfg.semantics = sem;
	cfg.lease_period = lease;
	cfg.max_backlog = maxbl;
	cfg.max_deliveries = maxdel;
	cfg.max_cancels = maxcan;
	return (queue_create(&cfg));
}

/* The bookmark of message i. */
static const char *
bm(unsigned i)
{
	static char	buf[4][48];
	static int	slot;

	slot = (slot + 1) % 4;
	snprintf(buf[slot], sizeof buf[slot], "9518329128413381245|%u|", i);
	return (buf[slot]);
}

/* Enqueue messages first..last with payload {"n":i}. */
static void
enq(struct queuestore *q, unsigned first, unsigned last)
{
	char		data[64];
	unsigned	i;
	int		len;

	for (i = first; i <= last; i++) {
		len = snprintf(data, sizeof data, "{\"n\":%u}", i);
		MUST(queue_enqueue(q, bm(i), "orders", data, (size_t)len,
		    NULL, NULL, NULL) == 0);
	}
}

/* Message number of an assignment (seq is the enqueue number). */
static unsigned
num(const struct queue_assign *a)
{
	return ((unsigned)a->msg->seq);
}

/* Backlog grants (§10.2). */
START_TEST(test_backlog_grant)
{
	struct queuestore	*q = mkq(QUEUE_AT_LEAST_ONCE, SEC, 3, 0, 0);
	struct queuestore	*d = mkq(QUEUE_AT_LEAST_ONCE, 0, 0, 0, 0);

	ck_assert_uint_eq(queue_add_subscriber(q, 1, 10, NULL, NULL, 0), 1);
	ck_assert_uint_eq(queue_add_subscriber(q, 2, 10, NULL, NULL, 2), 2);
	ck_assert_uint_eq(queue_add_subscriber(q, 3, 10, NULL, NULL, 10), 3);
	ck_assert_uint_eq(queue_add_subscriber(q, 3, 10, NULL, NULL, 1), 0);
	ck_assert_uint_eq(queue_update_subscriber(q, 2, NULL, 5), 3);
	ck_assert_uint_eq(queue_update_subscriber(q, 9, NULL, 5), 0);
	ck_assert_int_eq(queue_remove_subscriber(q, 9), -1);
	ck_assert_uint_eq(queue_add_subscriber(d, 1, 10, NULL, NULL, 50000),
	    QUEUE_DEFAULT_MAX_BACKLOG);
	ck_assert_uint_eq(queue_lease_period(d), 30 * SEC);
	ck_assert_str_eq(queue_name(q), "work");
	ck_assert_int_eq(queue_enqueue(q, "x", "t", "{}", 2, NULL, NULL,
	    NULL), 0);
	ck_assert_int_eq(queue_enqueue(q, "x", "t", "{}", 2, NULL, NULL,
	    NULL), -1);
	queue_free(q);
	queue_free(d);
}
END_TEST

/* Scenario 26. */
START_TEST(test_scenario26)
{
	struct queuestore	*q = mkq(QUEUE_AT_LEAST_ONCE, 30 * SEC, 10, 0,
				    0);
	struct queue_assignlist	 l = { NULL, 0, 0 };
	struct queue_counts	 c;

	ck_assert_uint_eq(queue_add_subscriber(q, 1, 10, NULL, NULL, 2), 2);
	enq(q, 1, 5);
	ck_assert_uint_eq(queue_dispatch(q, 0, &l), 2);
	ck_assert_uint_eq(num(&l.v[0]), 1);
	ck_assert_uint_eq(num(&l.v[1]), 2);
	ck_assert_uint_eq(l.v[0].sub, 1);
	ck_assert_uint_eq(l.v[0].lease_until, 30 * SEC);
	ck_assert_str_eq(l.v[1].msg->bookmark, bm(2));
	ck_assert_str_eq(l.v[1].msg->data, "{\"n\":2}");
	ck_assert_str_eq(l.v[1].msg->topic, "orders");
	l.n = 0;
	ck_assert_uint_eq(queue_dispatch(q, 1, &l), 0);
	queue_get_counts(q, &c);
	ck_assert_uint_eq(c.available, 3);
	ck_assert_uint_eq(c.leased, 2);

	/* Ack one: exactly one more. */
	ck_assert_int_eq(queue_ack(q, 10, bm(1), QUEUE_ACK), 1);
	ck_assert_int_eq(queue_ack(q, 10, bm(1), QUEUE_ACK), 0);
	ck_assert_uint_eq(queue_dispatch(q, 2, &l), 1);
	ck_assert_uint_eq(num(&l.v[0]), 3);
	l.n = 0;

	/* Cancel: redelivered (the only subscriber takes it back). */
	ck_assert_int_eq(queue_ack(q, 10, bm(2), QUEUE_CANCEL), 1);
	ck_assert_ptr_nonnull(queue_find(q, bm(2)));
	ck_assert_uint_eq(queue_dispatch(q, 3, &l), 1);
	ck_assert_uint_eq(num(&l.v[0]), 2);
	ck_assert_uint_eq(l.v[0].msg->deliveries, 2);
	ck_assert_uint_eq(l.v[0].msg->cancels, 1);
	l.n = 0;

	/* A second subscriber takes the rest; the first disconnects. */
	ck_assert_uint_eq(queue_add_subscriber(q, 2, 20, NULL, NULL, 5), 5);
	ck_assert_uint_eq(queue_dispatch(q, 4, &l), 2);
	ck_assert_uint_eq(num(&l.v[0]), 4);
	ck_assert_uint_eq(l.v[1].sub, 2);
	l.n = 0;
	ck_assert_int_eq(queue_remove_owner(q, 10), 1);
	ck_assert_int_eq(queue_subscriber_held(q, 1), -1);
	ck_assert_uint_eq(queue_dispatch(q, 5, &l), 2);
	ck_assert_uint_eq(num(&l.v[0]), 2);
	ck_assert_uint_eq(num(&l.v[1]), 3);
	ck_assert_uint_eq(l.v[0].sub, 2);
	ck_assert_uint_eq(l.v[1].sub, 2);
	ck_assert_int_eq(queue_ack(q, 10, bm(2), QUEUE_ACK), 0);
	ck_assert_int_eq(queue_subscriber_held(q, 2), 4);
	queue_get_counts(q, &c);
	ck_assert_uint_eq(c.returned, 3);
	ck_assert_uint_eq(c.delivered, 8);
	queue_assignlist_free(&l);
	queue_free(q);
}
END_TEST

/* A broken lease goes to another subscriber if one can take it. */
START_TEST(test_lease_expiry)
{
	struct queuestore	*q = mkq(QUEUE_AT_LEAST_ONCE, 1000, 10, 0, 0);
	struct queue_assignlist	 l = { NULL, 0, 0 };
	struct queue_counts	 c;

	queue_add_subscriber(q, 1, 10, NULL, NULL, 1);
	queue_add_subscriber(q, 2, 20, NULL, NULL, 1);
	enq(q, 1, 2);
	ck_assert_uint_eq(queue_next_lease_expiry(q), 0);
	ck_assert_uint_eq(queue_dispatch(q, 0, &l), 2);
	ck_assert_uint_eq(l.v[0].sub, 1);
	ck_assert_uint_eq(l.v[1].sub, 2);
	l.n = 0;
	/* Round-robin would now start at subscriber 1 again. */
	ck_assert_int_eq(queue_ack(q, 20, bm(2), QUEUE_ACK), 1);
	ck_assert_uint_eq(queue_next_lease_expiry(q), 1000);
	ck_assert_uint_eq(queue_lease_expired(q, 999), 0);
	ck_assert_uint_eq(queue_lease_expired(q, 1000), 1);
	ck_assert_uint_eq(queue_next_lease_expiry(q), 0);
	ck_assert(!queue_is_held_by(q, bm(1), 1));
	ck_assert_int_eq(queue_ack(q, 10, bm(1), QUEUE_ACK), 0);
	ck_assert_uint_eq(queue_dispatch(q, 1000, &l), 1);
	ck_assert_uint_eq(l.v[0].sub, 2);
	ck_assert_uint_eq(l.v[0].lease_until, 2000);
	ck_assert(queue_is_held_by(q, bm(1), 2));
	l.n = 0;
	/* Only the old holder left: it gets the message back. */
	ck_assert_int_eq(queue_remove_subscriber(q, 2), 1);
	ck_assert_uint_eq(queue_dispatch(q, 1500, &l), 1);
	ck_assert_uint_eq(l.v[0].sub, 1);
	ck_assert_uint_eq(queue_next_lease_expiry(q), 2500);
	queue_get_counts(q, &c);
	ck_assert_uint_eq(c.lease_expired, 1);
	ck_assert_uint_eq(c.delivered, 4);
	queue_assignlist_free(&l);
	queue_free(q);
}
END_TEST

/* At-most-once: sent messages leave the queue but hold the slot. */
START_TEST(test_at_most_once)
{
	struct queuestore	*q = mkq(QUEUE_AT_MOST_ONCE, 1000, 10, 0, 0);
	struct queue_assignlist	 l = { NULL, 0, 0 };
	struct queue_counts	 c;

	ck_assert_int_eq(queue_semantics(q), QUEUE_AT_MOST_ONCE);
	queue_add_subscriber(q, 1, 10, NULL, NULL, 2);
	enq(q, 1, 3);
	ck_assert_uint_eq(queue_dispatch(q, 0, &l), 2);
	l.n = 0;
	queue_get_counts(q, &c);
	ck_assert_uint_eq(c.available, 1);
	ck_assert_uint_eq(c.leased, 2);
	ck_assert_uint_eq(queue_dispatch(q, 0, &l), 0);
	/* Cancel frees the slot but never redelivers. */
	ck_assert_int_eq(queue_ack(q, 10, bm(1), QUEUE_CANCEL), 1);
	ck_assert_ptr_null(queue_find(q, bm(1)));
	ck_assert_uint_eq(queue_dispatch(q, 10, &l), 1);
	ck_assert_uint_eq(num(&l.v[0]), 3);
	l.n = 0;
	/* The lease time frees the remaining slots, without redelivery. */
	ck_assert_uint_eq(queue_lease_expired(q, 1010), 2);
	enq(q, 4, 4);
	ck_assert_uint_eq(queue_dispatch(q, 1010, &l), 1);
	ck_assert_uint_eq(num(&l.v[0]), 4);
	ck_assert_int_eq(queue_remove_subscriber(q, 1), 0);
	queue_get_counts(q, &c);
	ck_assert_uint_eq(c.available, 0);
	ck_assert_uint_eq(c.leased, 0);
	ck_assert_uint_eq(c.delivered, 4);
	ck_assert_uint_eq(c.returned, 0);
	queue_assignlist_free(&l);
	queue_free(q);
}
END_TEST

/* Round-robin across three subscribers. */
START_TEST(test_round_robin)
{
	struct queuestore	*q = mkq(QUEUE_AT_LEAST_ONCE, SEC, 100, 0, 0);
	struct queue_assignlist	 l = { NULL, 0, 0 };
	size_t			 i;

	queue_add_subscriber(q, 1, 10, NULL, NULL, 10);
	queue_add_subscriber(q, 2, 20, NULL, NULL, 10);
	queue_add_subscriber(q, 3, 30, NULL, NULL, 10);
	enq(q, 1, 40);
	ck_assert_uint_eq(queue_dispatch(q, 0, &l), 30);
	for (i = 0; i < 30; i++) {
		ck_assert_uint_eq(l.v[i].sub, i % 3 + 1);
		ck_assert_uint_eq(num(&l.v[i]), i + 1);
	}
	l.n = 0;
	ck_assert_int_eq(queue_subscriber_held(q, 2), 10);
	/* Freed slots are served in turn, FIFO order kept. */
	ck_assert_int_eq(queue_ack(q, 20, bm(2), QUEUE_ACK), 1);
	ck_assert_int_eq(queue_ack(q, 30, bm(3), QUEUE_ACK), 1);
	ck_assert_int_eq(queue_ack(q, 10, bm(1), QUEUE_ACK), 1);
	ck_assert_uint_eq(queue_dispatch(q, 0, &l), 3);
	ck_assert_uint_eq(l.v[0].sub, 1);
	ck_assert_uint_eq(l.v[1].sub, 2);
	ck_assert_uint_eq(l.v[2].sub, 3);
	ck_assert_uint_eq(num(&l.v[0]), 31);
	ck_assert_uint_eq(num(&l.v[2]), 33);
	queue_assignlist_free(&l);
	queue_free(q);
}
END_TEST

/* Acks name the owner; lists, spaces and strangers' bookmarks. */
START_TEST(test_ack_list_owner)
{
	struct queuestore	*q = mkq(QUEUE_AT_LEAST_ONCE, SEC, 10, 0, 0);
	struct queue_assignlist	 l = { NULL, 0, 0 };
	struct queue_counts	 c;
	char			 list[256];
	size_t			 ign;

	queue_add_subscriber(q, 1, 10, NULL, NULL, 3);
	queue_add_subscriber(q, 2, 20, NULL, NULL, 3);
	enq(q, 1, 7);
	ck_assert_uint_eq(queue_dispatch(q, 0, &l), 6);
	ck_assert(queue_is_held_by(q, bm(1), 1));
	ck_assert(queue_is_held_by(q, bm(2), 2));
	snprintf(list, sizeof list, "%s, %s,,%s ,nope,%s", bm(1), bm(2),
	    bm(3), bm(7));
	ck_assert_uint_eq(queue_ack_list(q, 10, list, strlen(list),
	    QUEUE_ACK, &ign), 2);
	ck_assert_uint_eq(ign, 3);
	ck_assert_int_eq(queue_subscriber_held(q, 1), 1);
	ck_assert_int_eq(queue_subscriber_held(q, 2), 3);
	ck_assert_int_eq(queue_ack(q, 10, bm(5), QUEUE_EXPIRE), 1);
	ck_assert_ptr_null(queue_find(q, bm(5)));
	queue_get_counts(q, &c);
	ck_assert_uint_eq(c.acked, 2);
	ck_assert_uint_eq(c.expired, 1);
	ck_assert_uint_eq(c.available, 1);
	queue_assignlist_free(&l);
	queue_free(q);
}
END_TEST

/* Filtered subscribers, and sow_delete with a filter. */
START_TEST(test_filters)
{
	struct queuestore	*q = mkq(QUEUE_AT_LEAST_ONCE, SEC, 10, 0, 0);
	struct queue_assignlist	 l = { NULL, 0, 0 };
	struct queue_counts	 c;
	struct filter		*big = at_mkfilter("/n > 3");
	struct filter		*two = at_mkfilter("/n > 1");

	queue_add_subscriber(q, 1, 10, NULL, big, 10);
	queue_add_subscriber(q, 2, 20, NULL, NULL, 1);
	enq(q, 1, 6);
	ck_assert_uint_eq(queue_dispatch(q, 0, &l), 4);
	ck_assert_uint_eq(num(&l.v[0]), 1);
	ck_assert_uint_eq(l.v[0].sub, 2);
	ck_assert_uint_eq(num(&l.v[1]), 4);
	ck_assert_uint_eq(l.v[1].sub, 1);
	ck_assert_uint_eq(num(&l.v[3]), 6);
	/* Messages 2 and 3 wait for subscriber 2. */
	queue_get_counts(q, &c);
	ck_assert_uint_eq(c.available, 2);
	/* A filter ack removes held and available messages alike. */
	ck_assert_uint_eq(queue_ack_filter(q, two), 5);
	queue_get_counts(q, &c);
	ck_assert_uint_eq(c.available, 0);
	ck_assert_uint_eq(c.leased, 1);
	ck_assert_int_eq(queue_subscriber_held(q, 1), 0);
	ck_assert_uint_eq(queue_ack_filter(q, NULL), 1);
	ck_assert_uint_eq(queue_next_lease_expiry(q), 0);
	filter_free(big);
	filter_free(two);
	queue_assignlist_free(&l);
	queue_free(q);
}
END_TEST

/* max_cancels and max_deliveries drop the message. */
START_TEST(test_limits)
{
	struct queuestore	*q = mkq(QUEUE_AT_LEAST_ONCE, 100, 10, 2, 2);
	struct queue_assignlist	 l = { NULL, 0, 0 };
	struct queue_counts	 c;

	queue_add_subscriber(q, 1, 10, NULL, NULL, 1);
	enq(q, 1, 2);
	ck_assert_uint_eq(queue_dispatch(q, 0, &l), 1);
	ck_assert_int_eq(queue_ack(q, 10, bm(1), QUEUE_CANCEL), 1);
	ck_assert_uint_eq(queue_dispatch(q, 0, &l), 1);
	ck_assert_uint_eq(num(&l.v[1]), 1);
	ck_assert_int_eq(queue_ack(q, 10, bm(1), QUEUE_CANCEL), 1);
	ck_assert_ptr_null(queue_find(q, bm(1)));
	l.n = 0;
	ck_assert_uint_eq(queue_dispatch(q, 0, &l), 1);
	ck_assert_uint_eq(num(&l.v[0]), 2);
	ck_assert_uint_eq(queue_lease_expired(q, 100), 1);
	ck_assert_uint_eq(queue_dispatch(q, 100, &l), 1);
	ck_assert_uint_eq(queue_lease_expired(q, 200), 1);
	ck_assert_ptr_null(queue_find(q, bm(2)));
	queue_get_counts(q, &c);
	ck_assert_uint_eq(c.dropped, 2);
	ck_assert_uint_eq(c.available + c.leased, 0);
	queue_assignlist_free(&l);
	queue_free(q);
}
END_TEST

/* The sow view shows available messages in FIFO order. */
static int
view_cb(const struct queue_msg *m, void *arg)
{
	char	*s = arg;
	size_t	 len = strlen(s);

	snprintf(s + len, 64 - len, "%u,", (unsigned)m->seq);
	return (0);
}

START_TEST(test_view)
{
	struct queuestore	*q = mkq(QUEUE_AT_LEAST_ONCE, SEC, 10, 0, 0);
	struct queue_assignlist	 l = { NULL, 0, 0 };
	char			 seen[64] = "";

	queue_add_subscriber(q, 1, 10, NULL, NULL, 2);
	enq(q, 1, 4);
	queue_dispatch(q, 0, &l);
	queue_foreach_available(q, view_cb, seen);
	ck_assert_str_eq(seen, "3,4,");
	ck_assert_int_eq(queue_ack(q, 10, bm(2), QUEUE_CANCEL), 1);
	seen[0] = '\0';
	queue_foreach_available(q, view_cb, seen);
	ck_assert_str_eq(seen, "2,3,4,");
	queue_assignlist_free(&l);
	queue_free(q);
}
END_TEST

/* One million messages through one subscriber: no quadratic paths. */
START_TEST(test_million)
{
	struct queuestore	*q = mkq(QUEUE_AT_LEAST_ONCE, SEC, 1000, 0, 0);
	struct queue_assignlist	 l = { NULL, 0, 0 };
	struct queue_counts	 c;
	unsigned		 n = 1000000, acked = 0, expect = 1;
	size_t			 i;

	queue_add_subscriber(q, 1, 10, NULL, NULL, 500);
	queue_add_subscriber(q, 2, 20, NULL, NULL, 500);
	enq(q, 1, n);
	while (acked < n) {
		l.n = 0;
		MUST((queue_dispatch(q, 0, &l)) > (0));
		for (i = 0; i < l.n; i++) {
			MUST((num(&l.v[i])) == (expect));
			expect++;
			MUST(queue_ack(q, l.v[i].sub * 10,
			    l.v[i].msg->bookmark, QUEUE_ACK) == 1);
			acked++;
		}
	}
	queue_get_counts(q, &c);
	MUST((c.acked) == (n));
	MUST((c.available + c.leased) == (0));
	queue_assignlist_free(&l);
	queue_free(q);
}
END_TEST

/*
 * Randomized model test.  The model tracks every message and subscriber;
 * after each operation the queue must agree with it, no message may be
 * held twice, no backlog exceeded, dispatch must hand out the oldest
 * available messages while anyone has room, and at the end every message
 * must have been settled (acked or expired) exactly once, or for
 * at-most-once delivered exactly once.
 */
#define MODEL_MSGS	2500
#define MODEL_SUBS	6
#define MODEL_OPS	20000
#define MODEL_LEASE	1000

enum { MM_NONE, MM_AVAIL, MM_HELD, MM_DONE };

struct mmsg {
	int		state;
	int		holder;		/* subscriber id when held */
	uint64_t	lease;
	unsigned	settled;	/* acks + expires that succeeded */
	unsigned	deliveries;
};

struct msub {
	int		active;
	unsigned	backlog;
	unsigned	held;
};

struct model {
	enum queue_semantics	 sem;
	struct queuestore	*q;
	struct mmsg		 m[MODEL_MSGS + 1];
	struct msub		 s[MODEL_SUBS + 1];
	unsigned		 nmsg;
	uint64_t		 now;
};

/* Owner of subscriber id: two subscribers share each owner. */
static uint64_t
owner_of(int id)
{
	return (100 + (uint64_t)(id % 3));
}

/* Release model message i from its holder. */
static void
model_release(struct model *md, unsigned i, int back)
{
	md->s[md->m[i].holder].held--;
	md->m[i].holder = 0;
	if (back && md->sem == QUEUE_AT_LEAST_ONCE)
		md->m[i].state = MM_AVAIL;
	else
		md->m[i].state = MM_DONE;
}

/* Compare queue and model. */
static void
model_check(struct model *md, int deep)
{
	struct queue_counts	c;
	unsigned		i, avail = 0, held = 0;
	int			id;

	for (i = 1; i <= md->nmsg; i++) {
		if (md->m[i].state == MM_AVAIL)
			avail++;
		if (md->m[i].state == MM_HELD)
			held++;
		if (md->sem == QUEUE_AT_MOST_ONCE)
			MUST((md->m[i].deliveries) <= (1));
		MUST((md->m[i].settled) <= (1));
		if (!deep)
			continue;
		if (md->m[i].state == MM_HELD)
			MUST(queue_is_held_by(md->q, bm(i), (uint64_t)md->m[i].holder));
		if (md->m[i].state == MM_AVAIL)
			MUST((queue_find(md->q, bm(i))) != NULL);
		if (md->m[i].state == MM_DONE)
			MUST((queue_find(md->q, bm(i))) == NULL);
	}
	queue_get_counts(md->q, &c);
	MUST((c.available) == (avail));
	MUST((c.leased) == (held));
	for (id = 1; id <= MODEL_SUBS; id++) {
		if (!md->s[id].active) {
			MUST((queue_subscriber_held(md->q, (uint64_t)id)) == (-1));
			continue;
		}
		MUST(queue_subscriber_held(md->q, (uint64_t)id) ==
		    (int)md->s[id].held);
		MUST((md->s[id].held) <= (md->s[id].backlog));
	}
}

/* Dispatch and check every assignment against the model. */
static void
model_dispatch(struct model *md)
{
	struct queue_assignlist	 l = { NULL, 0, 0 };
	size_t			 k;
	unsigned		 i, next = 1, room = 0;
	int			 id;

	queue_dispatch(md->q, md->now, &l);
	for (k = 0; k < l.n; k++) {
		i = num(&l.v[k]);
		id = (int)l.v[k].sub;
		MUST((i) <= (md->nmsg));
		MUST((md->m[i].state) == (MM_AVAIL));
		MUST(md->s[id].active);
		MUST((md->s[id].held) < (md->s[id].backlog));
		MUST((l.v[k].lease_until) == (md->now + MODEL_LEASE));
		/* FIFO: the oldest available message goes first. */
		while (md->m[next].state != MM_AVAIL)
			next++;
		MUST((i) == (next));
		md->m[i].state = MM_HELD;
		md->m[i].holder = id;
		md->m[i].lease = l.v[k].lease_until;
		md->m[i].deliveries++;
		md->s[id].held++;
	}
	queue_assignlist_free(&l);
	/* Nothing left deliverable. */
	for (id = 1; id <= MODEL_SUBS; id++) {
		if (md->s[id].active)
			room += md->s[id].backlog - md->s[id].held;
	}
	for (i = 1; i <= md->nmsg && room > 0; i++)
		MUST((md->m[i].state) != (MM_AVAIL));
}

/* A random held message, or 0. */
static unsigned
model_pick_held(struct model *md)
{
	unsigned	i, start;

	if (md->nmsg == 0)
		return (0);
	start = 1 + (unsigned)(test_rng_next() % md->nmsg);
	i = start;
	do {
		if (md->m[i].state == MM_HELD)
			return (i);
		i = i % md->nmsg + 1;
	} while (i != start);
	return (0);
}

/* One random operation. */
static void
model_step(struct model *md)
{
	unsigned	r = (unsigned)(test_rng_next() % 100), i, req, got;
	int		id = 1 + (int)(test_rng_next() % MODEL_SUBS), mode;
	uint64_t	own;

	if (r < 20) {
		if (md->nmsg < MODEL_MSGS) {
			md->nmsg++;
			enq(md->q, md->nmsg, md->nmsg);
			md->m[md->nmsg].state = MM_AVAIL;
		}
	} else if (r < 25) {
		if (md->s[id].active)
			return;
		req = (unsigned)(test_rng_next() % 5);
		got = queue_add_subscriber(md->q, (uint64_t)id, owner_of(id),
		    NULL, NULL, req);
		MUST((got) == (req == 0 ? 1 : req < 3 ? req : 3));
		md->s[id].active = 1;
		md->s[id].backlog = got;
		md->s[id].held = 0;
	} else if (r < 28) {
		if (!md->s[id].active)
			return;
		got = 0;
		for (i = 1; i <= md->nmsg; i++) {
			if (md->m[i].state == MM_HELD &&
			    md->m[i].holder == id) {
				model_release(md, i, 1);
				got++;
			}
		}
		MUST(queue_remove_subscriber(md->q, (uint64_t)id) ==
		    (md->sem == QUEUE_AT_LEAST_ONCE ? (int)got : 0));
		md->s[id].active = 0;
	} else if (r < 60) {
		model_dispatch(md);
	} else if (r < 92 && r != 80 && r != 81) {
		if ((i = model_pick_held(md)) == 0)
			return;
		own = owner_of(md->m[i].holder);
		mode = r < 80 ? QUEUE_ACK : r < 88 ? QUEUE_CANCEL :
		    QUEUE_EXPIRE;
		MUST((queue_ack(md->q, own, bm(i), mode)) == (1));
		if (mode == QUEUE_CANCEL)
			model_release(md, i, 1);
		else {
			model_release(md, i, 0);
			md->m[i].settled++;
		}
	} else if (r < 92) {
		/* Someone else's, settled or unknown: ignored. */
		i = md->nmsg == 0 ? 1 :
		    1 + (unsigned)(test_rng_next() % md->nmsg);
		own = md->m[i].state == MM_HELD ?
		    owner_of(md->m[i].holder) + 1 : owner_of(id);
		if (i <= md->nmsg && md->m[i].state == MM_HELD &&
		    owner_of(md->m[i].holder) == own)
			return;
		MUST((queue_ack(md->q, own, bm(i), QUEUE_ACK)) == (0));
	} else {
		md->now += test_rng_next() % 400;
		got = 0;
		for (i = 1; i <= md->nmsg; i++) {
			if (md->m[i].state == MM_HELD &&
			    md->m[i].lease <= md->now) {
				model_release(md, i, 1);
				got++;
			}
		}
		MUST((queue_lease_expired(md->q, md->now)) == (got));
	}
}

/* Run the model for one delivery mode. */
static void
model_run(enum queue_semantics sem, uint64_t seed)
{
	struct model	*md;
	unsigned	 op, i, guard;
	int		 id;

	test_rng_seed(sem == QUEUE_AT_LEAST_ONCE ?
	    "queue model (at-least-once)" : "queue model (at-most-once)",
	    seed);
	md = calloc(1, sizeof *md);
	MUST((md) != NULL);
	md->sem = sem;
	md->q = mkq(sem, MODEL_LEASE, 3, 0, 0);
	for (op = 0; op < MODEL_OPS; op++) {
		model_step(md);
		model_check(md, op % 500 == 0);
	}
	/* Drain: every message must be settled exactly once. */
	if (!md->s[1].active) {
		MUST((queue_add_subscriber(md->q, 1, owner_of(1), NULL, NULL, 3)) == (3));
		md->s[1].active = 1;
		md->s[1].backlog = 3;
		md->s[1].held = 0;
	}
	for (guard = 0; guard < 10 * MODEL_MSGS; guard++) {
		model_dispatch(md);
		if ((i = model_pick_held(md)) == 0)
			break;
		for (i = 1; i <= md->nmsg; i++) {
			if (md->m[i].state != MM_HELD)
				continue;
			MUST(queue_ack(md->q, owner_of(md->m[i].holder),
			    bm(i), QUEUE_ACK) == 1);
			model_release(md, i, 0);
			md->m[i].settled++;
		}
	}
	model_check(md, 1);
	for (i = 1; i <= md->nmsg; i++) {
		MUST((md->m[i].state) == (MM_DONE));
		if (sem == QUEUE_AT_MOST_ONCE)
			MUST((md->m[i].deliveries) == (1));
		else
			MUST((md->m[i].settled) == (1));
	}
	MUST((md->nmsg) > (MODEL_MSGS / 2));
	for (id = 1; id <= MODEL_SUBS; id++)
		MUST((queue_subscriber_held(md->q, (uint64_t)id)) <= (0));
	queue_free(md->q);
	free(md);
}

START_TEST(test_model_alo)
{
	model_run(QUEUE_AT_LEAST_ONCE, 0x5eed0001ULL);
}
END_TEST

START_TEST(test_model_amo)
{
	model_run(QUEUE_AT_MOST_ONCE, 0x5eed0002ULL);
}
END_TEST

/* Build the suite. */
static Suite *
queuestore_suite(void)
{
	Suite	*s = suite_create("queuestore");
	TCase	*tc = tcase_create("core");
	TCase	*tm = tcase_create("model");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_backlog_grant);
	tcase_add_test(tc, test_scenario26);
	tcase_add_test(tc, test_lease_expiry);
	tcase_add_test(tc, test_at_most_once);
	tcase_add_test(tc, test_round_robin);
	tcase_add_test(tc, test_ack_list_owner);
	tcase_add_test(tc, test_filters);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_view);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tm, 120);
	tcase_add_test(tm, test_million);
	tcase_add_test(tm, test_model_alo);
	tcase_add_test(tm, test_model_amo);
	suite_add_tcase(s, tm);
	return (s);
}

int
main(void)
{
	return (check_main(queuestore_suite()));
}
