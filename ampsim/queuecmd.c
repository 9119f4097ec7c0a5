/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * queuecmd.c: message queues (§10) over queuestore: enqueue on publish to
 * an underlying topic, subscribe with a granted backlog, deliveries with
 * `bm` and `lp`, acknowledgement by sow_delete (or the `ack` command
 * form) with a bookmark list and cancel/expire, lease expiry and
 * redelivery when a subscriber goes away.
 *
 * Invariants:
 *  1. Every queued message has the bookmark of its log record; that
 *     bookmark is the handle the consumer acknowledges.
 *  2. After anything that can free a backlog slot or add a message
 *     (publish, ack, subscribe, unsubscribe, disconnect, lease expiry)
 *     queue_dispatch_all() runs for that queue.
 *  3. The lease timer is armed for the earliest lease of any queue.
 *  4. A subscriber of a closing connection never receives a delivery:
 *     the whole owner is removed from the queue before dispatching.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ampsim.h"
#include "filter.h"
#include "queuestore.h"

static struct event	*ev_lease;
static uint64_t		 next_qid = 1;

static void	queue_lease_schedule(void);

/* Monotonic microseconds (lease clock). */
static uint64_t
mono_usec(void)
{
	return (sim_mono_ms() * 1000);
}

/* Create the queue stores. */
void
queue_init(void)
{
	struct simqueue		*q;
	struct queue_config	 qc;

	TAILQ_FOREACH(q, &conf.queues, entry) {
		memset(&qc, 0, sizeof qc);
		qc.name = q->name;
		qc.semantics = q->sem == QSEM_AT_MOST_ONCE ?
		    QUEUE_AT_MOST_ONCE : QUEUE_AT_LEAST_ONCE;
		qc.lease_period = (uint64_t)q->lease_ms * 1000;
		qc.max_backlog = q->max_backlog;
		qc.max_deliveries = q->max_deliveries;
		qc.max_cancels = q->max_cancels;
		q->store = queue_create(&qc);
	}
}

/* Whether topic t feeds queue q. */
static int
queue_feeds(const struct simqueue *q, const char *t)
{
	size_t	i;

	if (strcmp(q->name, t) == 0)
		return (1);
	for (i = 0; i < q->ntopics; i++)
		if (strcmp(q->topics[i], t) == 0)
			return (1);
	return (0);
}

/* Exported form of queue_feeds. */
int
queue_feeds_topic(const struct simqueue *q, const char *t)
{
	return (queue_feeds(q, t));
}

/* Whether topic t is the underlying topic of some queue. */
int
queue_is_underlying(const char *t)
{
	struct simqueue	*q;

	TAILQ_FOREACH(q, &conf.queues, entry)
		if (queue_feeds(q, t))
			return (1);
	return (0);
}

/* A published message: enqueue on every queue it feeds. */
void
queue_publish(struct msg *m)
{
	struct simqueue	*q;

	TAILQ_FOREACH(q, &conf.queues, entry) {
		if (!queue_feeds(q, m->topic))
			continue;
		if (m->bm[0] == '\0') {
			sim_log(LOG_WARN, "queue: %s: message without a "
			    "bookmark not queued", q->name);
			continue;
		}
		if (queue_enqueue(q->store, m->bm, m->topic, m->data, m->dlen,
		    m->k, m->x, msg_doc(m)) != 0)
			continue;
		queue_dispatch_all(q);
	}
}

/* Format the lease expiry (monotonic usec) as an ISO wall-clock time. */
static void
lease_format(uint64_t until, char *out, size_t cap)
{
	uint64_t	now = mono_usec();
	int64_t		wall = sim_wall_usec();

	wall += until > now ? (int64_t)(until - now) : 0;
	amps_ts_format(out, cap, wall);
}

/* Deliver everything the queue can hand out now. */
void
queue_dispatch_all(struct simqueue *q)
{
	struct queue_assignlist	 al;
	struct sub		*sub;
	struct msg		 m;
	char			 lp[40];
	size_t			 i, n;

	memset(&al, 0, sizeof al);
	queue_dispatch(q->store, mono_usec(), &al);
	for (i = 0; i < al.n; i++) {
		sub = al.v[i].ctx;
		memset(&m, 0, sizeof m);
		m.topic = q->name;
		m.data = al.v[i].msg->data;
		m.dlen = al.v[i].msg->len;
		m.k = al.v[i].msg->key;
		m.x = al.v[i].msg->cid;
		m.ts = sim_wall_usec();
		lease_format(al.v[i].lease_until, lp, sizeof lp);
		sub_deliver_queue(sub, &m, al.v[i].msg->bookmark, lp);
	}
	n = al.n;
	queue_assignlist_free(&al);
	if (n > 0 || ev_lease == NULL)
		queue_lease_schedule();
}

/* Lease timer: break expired leases and redeliver. */
static void
queue_lease_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct simqueue	*q;
	size_t		 n;

	TAILQ_FOREACH(q, &conf.queues, entry) {
		n = queue_lease_expired(q->store, mono_usec());
		if (n > 0) {
			sim_log(LOG_DEBUG, "queue: %s: %zu leases expired",
			    q->name, n);
			queue_dispatch_all(q);
		}
	}
	queue_lease_schedule();
}

/* Arm the lease timer for the earliest lease of any queue. */
static void
queue_lease_schedule(void)
{
	struct simqueue	*q;
	struct timeval	 tv;
	uint64_t	 next = 0, t, now = mono_usec();

	TAILQ_FOREACH(q, &conf.queues, entry) {
		t = queue_next_lease_expiry(q->store);
		if (t != 0 && (next == 0 || t < next))
			next = t;
	}
	if (ev_lease == NULL)
		ev_lease = event_new(sim_base, -1, 0, queue_lease_cb, NULL);
	if (next == 0) {
		event_del(ev_lease);
		return;
	}
	t = (next > now ? next - now : 0) + 1000;
	tv.tv_sec = (time_t)(t / 1000000);
	tv.tv_usec = (suseconds_t)(t % 1000000);
	event_add(ev_lease, &tv);
}

/*
 * Register sub (or update old, for replace) on its queue.  Returns 0, or
 * -1 after a failure ack.
 */
int
queue_subscribe(struct sess *s, struct cmd *c, struct sub *sub,
    struct sub *old)
{
	struct simqueue	*q = conf_queue(c->topic, strlen(c->topic));
	struct filter	*tmp;
	char		 val[32];
	unsigned long	 req = 0;

	if (cmd_opt(c, "max_backlog", val, sizeof val)) {
		req = strtoul(val, NULL, 10);
		if (req == 0) {
			ack_send(s, c, AMPS_ACK_PROCESSED, "failure",
			    "invalid options");
			return (-1);
		}
	}
	if (old != NULL) {
		old->backlog = queue_update_subscriber(q->store, old->qid,
		    sub->flt, (unsigned)req);
		tmp = old->flt;
		old->flt = sub->flt;
		sub->flt = tmp;
		return (0);
	}
	sub->q = q;
	sub->qid = next_qid++;
	sub->backlog = queue_add_subscriber(q->store, sub->qid, s->id, sub,
	    sub->flt, (unsigned)req);
	if (sim_verbose >= LOG_DEBUG) {
		char e[96];

		sim_log(LOG_DEBUG, "queue: %s: %s subscribed %s, backlog %u",
		    q->name, s->label, sim_escape_log(sub->sub_id,
		    strlen(sub->sub_id), e, sizeof e), sub->backlog);
	}
	return (0);
}

/* A queue subscription goes away: return its messages, redeliver. */
void
queue_sub_gone(struct sub *sub)
{
	struct simqueue	*q = sub->q;
	int		 n;

	sub->q = NULL;
	if (sub->s->state == SESS_DEAD)
		n = queue_remove_owner(q->store, sub->s->id);
	else
		n = queue_remove_subscriber(q->store, sub->qid);
	if (n > 0)
		sim_log(LOG_DEBUG, "queue: %s: %d messages returned", q->name,
		    n);
	queue_dispatch_all(q);
}

/*
 * Counters of ack commands (mode ack, by bookmark list) for the admin
 * "qacks" request: how many, how many bookmarks, and the sizes of the
 * last QACK_SIZES ones, oldest first.
 */
#define QACK_SIZES	32
static uint64_t	qack_frames, qack_bms;
static size_t	qack_sizes[QACK_SIZES];

/* Admin "qacks": "frames=N bookmarks=M sizes=a,b,c" (last sizes). */
void
queue_ack_stats(char *out, size_t cap)
{
	size_t	i, first, len;
	int	n;

	n = snprintf(out, cap, "frames=%llu bookmarks=%llu sizes=",
	    (unsigned long long)qack_frames, (unsigned long long)qack_bms);
	if (n < 0 || (size_t)n >= cap)
		return;
	len = (size_t)n;
	first = qack_frames > QACK_SIZES ? qack_frames - QACK_SIZES : 0;
	for (i = first; i < qack_frames && len < cap; i++) {
		n = snprintf(out + len, cap - len, "%s%zu", i > first ? "," :
		    "", qack_sizes[i % QACK_SIZES]);
		if (n < 0)
			return;
		len += (size_t)n;
	}
}

/* Count the bookmarks of a comma list. */
static size_t
queue_bm_count(const char *bm)
{
	size_t	n = 1;

	for (; *bm != '\0'; bm++)
		n += *bm == ',';
	return (n);
}

/* sow_delete / ack on a queue topic (§10.4). */
int
queue_ack_cmd(struct sess *s, struct cmd *c, struct simqueue *q)
{
	enum queue_ack_mode	 mode = QUEUE_ACK;
	struct filter		*flt;
	char			 err[256];
	size_t			 n = 0, ignored = 0;

	if (cmd_opt(c, "cancel", NULL, 0))
		mode = QUEUE_CANCEL;
	else if (cmd_opt(c, "expire", NULL, 0))
		mode = QUEUE_EXPIRE;
	if (c->bm != NULL) {
		n = queue_ack_list(q->store, s->id, c->bm, strlen(c->bm), mode,
		    &ignored);
		if (mode == QUEUE_ACK) {
			qack_sizes[qack_frames++ % QACK_SIZES] =
			    queue_bm_count(c->bm);
			qack_bms += queue_bm_count(c->bm);
		}
	}
	else if (c->filter != NULL) {
		flt = filter_compile(c->filter, strlen(c->filter), err,
		    sizeof err);
		if (flt == NULL) {
			ack_send(s, c, AMPS_ACK_PROCESSED, "failure",
			    "bad filter");
			return (-1);
		}
		n = queue_ack_filter(q->store, flt);
		filter_free(flt);
	} else {
		ack_send(s, c, AMPS_ACK_PROCESSED, "failure",
		    "invalid options");
		return (-1);
	}
	sim_log(LOG_DEBUG, "queue: %s: %s acked %zu (%zu ignored)", q->name,
	    s->label, n, ignored);
	if (c->acks & AMPS_ACK_PROCESSED)
		ack_send(s, c, AMPS_ACK_PROCESSED, "success", NULL);
	queue_dispatch_all(q);
	return (0);
}

/* Batch state of a sow on a queue. */
struct qsow {
	struct sess	*s;
	struct cmd	*c;
	const char	*qid;
	struct filter	*flt;
	uint64_t	 bs;
	struct sbuf	 recs;
	uint64_t	 n;
	uint64_t	 total;
	const char	*name;
};

/* Send a batch of queue records. */
static void
qsow_flush(struct qsow *q)
{
	struct amps_wr	w;
	struct hbuf	hb;

	if (q->n == 0)
		return;
	hbuf_get(&hb, HBUF_NEED(slen(q->name) + slen(q->qid)));
	amps_wr_begin(&w, hb.p, hb.cap);
	amps_wr_cstr(&w, AMPS_F_C, "sow");
	amps_wr_cstr(&w, AMPS_F_T, q->name);
	amps_wr_cstr(&w, AMPS_F_QUERY_ID, q->qid);
	wr_num(&w, AMPS_F_BS, q->n);
	sess_send_wr(q->s, &w, q->recs.p, q->recs.len);
	hbuf_free(&hb);
	q->recs.len = 0;
	q->n = 0;
}

/* One available queue message into the batch. */
static int
qsow_cb(const struct queue_msg *qm, void *arg)
{
	struct qsow	*q = arg;
	struct amps_wr	 w;
	struct hbuf	 hb;
	json_t		*doc;
	json_error_t	 err;
	long long	 n;
	int		 ok = 1;

	if (q->flt != NULL) {
		doc = json_loadb(qm->data, qm->len, 0, &err);
		ok = doc != NULL && filter_match(q->flt, doc);
		if (doc != NULL)
			json_decref(doc);
	}
	if (!ok)
		return (0);
	hbuf_get(&hb, HBUF_NEED(slen(qm->key) + slen(qm->bookmark)));
	amps_wr_begin_bare(&w, hb.p, hb.cap);
	if (qm->key != NULL)
		amps_wr_cstr(&w, AMPS_F_K, qm->key);
	amps_wr_cstr(&w, AMPS_F_BM, qm->bookmark);
	wr_num(&w, AMPS_F_L, qm->len);
	n = amps_wr_finish(&w, NULL, 0);
	if (n < 0 || (size_t)n > hb.cap) {
		hbuf_free(&hb);
		return (0);
	}
	sbuf_add(&q->recs, hb.p, (size_t)n);
	hbuf_free(&hb);
	sbuf_add(&q->recs, qm->data, qm->len);
	q->n++;
	q->total++;
	if (q->n >= q->bs)
		qsow_flush(q);
	return (0);
}

/* sow on a queue: a read-only view of the available messages. */
void
queue_sow(struct sess *s, struct cmd *c, struct simqueue *q)
{
	struct qsow	qs;
	struct amps_wr	w;
	struct hbuf	hb;
	char		err[256];

	memset(&qs, 0, sizeof qs);
	qs.s = s;
	qs.c = c;
	qs.name = q->name;
	qs.qid = c->query_id ? c->query_id : (c->cid ? c->cid : "0");
	qs.bs = c->has_bs && c->bs > 0 ? c->bs : 1;
	if (qs.bs > 10000) {
		ack_send(s, c, AMPS_ACK_PROCESSED, "failure",
		    "invalid batch size");
		return;
	}
	if (c->filter != NULL && (qs.flt = filter_compile(c->filter,
	    strlen(c->filter), err, sizeof err)) == NULL) {
		ack_send(s, c, AMPS_ACK_PROCESSED, "failure", "bad filter");
		return;
	}
	if (c->acks & AMPS_ACK_PROCESSED)
		ack_send(s, c, AMPS_ACK_PROCESSED, "success", NULL);
	hbuf_get(&hb, HBUF_NEED(slen(qs.qid)));
	amps_wr_begin(&w, hb.p, hb.cap);
	amps_wr_cstr(&w, AMPS_F_C, "group_begin");
	amps_wr_cstr(&w, AMPS_F_QUERY_ID, qs.qid);
	sess_send_wr(s, &w, NULL, 0);
	queue_foreach_available(q->store, qsow_cb, &qs);
	qsow_flush(&qs);
	sbuf_free(&qs.recs);
	amps_wr_begin(&w, hb.p, hb.cap);
	amps_wr_cstr(&w, AMPS_F_C, "group_end");
	amps_wr_cstr(&w, AMPS_F_QUERY_ID, qs.qid);
	sess_send_wr(s, &w, NULL, 0);
	hbuf_free(&hb);
	if (c->acks & AMPS_ACK_COMPLETED)
		ack_send(s, c, AMPS_ACK_COMPLETED, "success", NULL);
	filter_free(qs.flt);
}
