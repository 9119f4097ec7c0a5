/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * sowcmd.c: the State of the World commands over sowstore (§9): sow
 * queries with batching, sow_and_subscribe / sow_and_delta_subscribe
 * (atomic snapshot + registration), sow_delete in its forms (§4.10), the
 * SOW side of publish (upsert / delta merge), expiration, historical
 * queries, and rebuilding the SOW from the transaction log at startup.
 * sow_delete lives in sowdelete.c.
 *
 * Invariants:
 *  1. A query's frames (group_begin, sow batches, group_end, completed,
 *     stats) are queued in one callback: nothing else can interleave on
 *     the connection (§4.7).
 *  2. sow_and_subscribe links the subscription and takes the snapshot in
 *     the same callback; since publishes are processed one at a time on
 *     the same loop, no update is lost or duplicated between them.
 *  3. Every `sow` frame's `bs` is the number of records it holds; every
 *     record header carries `l` (§2.4).
 *  4. Records removed by expiry produce OOF `expired` (previous state)
 *     for subscriptions that asked for oof.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ampsim.h"
#include "filter.h"
#include "jsondoc.h"
#include "sowstore.h"
#include "topicmatch.h"

#define SOW_BS_MAX	10000

static struct event	*ev_expire;

static void	sow_expiry_schedule(void);

/* Monotonic microseconds (expiry clock). */
static uint64_t
mono_usec(void)
{
	return (sim_mono_ms() * 1000);
}

/* Rebuild one SOW record from a log record at startup. */
void
sow_load_txrec(const struct txrec *r)
{
	struct simtopic		*st;
	struct sow_meta		 meta;
	struct sow_reclist	 out;
	struct sow_stats	 stats;
	const char		*keys[1];
	char			 bm[48];

	if (!r->logged || r->type == TXREC_SEQ)
		return;
	if ((st = conf_sow_topic(r->topic, strlen(r->topic))) == NULL)
		return;
	memset(&out, 0, sizeof out);
	if (r->type == TXREC_DELETE) {
		if (r->k == NULL)
			return;
		keys[0] = r->k;
		sow_delete_keys(st->store, keys, 1, &out, &stats);
		sow_reclist_free(&out);
		return;
	}
	txlog_bm(r, bm, sizeof bm);
	memset(&meta, 0, sizeof meta);
	meta.bookmark = bm;
	meta.cid = r->x;
	meta.ts = (uint64_t)r->ts;
	sow_upsert(st->store, r->data, r->dlen, NULL, r->k, &meta, NULL,
	    NULL);
}

/* Create the SOW stores and reload them from the log. */
void
sow_init(void)
{
	struct simtopic	*st;
	size_t		 n = 0;

	TAILQ_FOREACH(st, &conf.topics, entry) {
		st->store = sow_create(st->name, st->keys, st->nkeys,
		    st->expiration);
		/* A merge may not outgrow what a publish may send (and so
		 * a log record, TXLOG_FRAME_MAX >= frame_max). */
		sow_set_max_len(st->store, conf.frame_max);
	}
	txlog_each(sow_load_txrec);
	TAILQ_FOREACH(st, &conf.topics, entry)
		n += sow_count(st->store);
	if (n > 0)
		sim_log(LOG_INFO, "sow: %zu records rebuilt from the log", n);
}

/* Apply a publish or delta_publish to a SOW topic. */
int
sow_publish(struct simtopic *st, const struct cmd *c, int delta,
    const char *bm, struct sow_record **cur, struct sow_record **prev,
    const char **reason)
{
	struct sow_meta	meta;
	int		rc;

	memset(&meta, 0, sizeof meta);
	meta.bookmark = bm;
	meta.cid = c->x;
	meta.ts = (uint64_t)sim_wall_usec();
	if (c->has_e && st->expiration && c->e > 0)
		meta.expire_at = mono_usec() + c->e * 1000000;
	*cur = *prev = NULL;
	if (delta)
		rc = sow_delta_upsert(st->store, c->payload, c->plen, NULL,
		    c->k, &meta, cur, prev);
	else
		rc = sow_upsert(st->store, c->payload, c->plen, NULL, c->k,
		    &meta, cur, prev);
	if (rc == SOW_ERR_PARSE) {
		*reason = "parse error";	/* UNVERIFIED text */
		return (-1);
	}
	if (rc == SOW_ERR_TOOBIG) {
		*reason = "message too large";	/* UNVERIFIED text */
		return (-1);
	}
	if (rc < 0) {
		*reason = "invalid sow key";	/* UNVERIFIED text */
		return (-1);
	}
	if (meta.expire_at != 0)
		sow_expiry_schedule();
	return (0);
}

/* Expiry timer: remove expired records, OOF `expired`. */
static void
sow_expire_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct simtopic		*st;
	struct sow_reclist	 out;
	struct msg		 m;
	size_t			 i;

	TAILQ_FOREACH(st, &conf.topics, entry) {
		memset(&out, 0, sizeof out);
		sow_expire(st->store, mono_usec(), &out);
		for (i = 0; i < out.n; i++) {
			memset(&m, 0, sizeof m);
			m.topic = st->name;
			m.data = out.v[i]->data;
			m.dlen = out.v[i]->datalen;
			m.k = out.v[i]->key;
			m.x = out.v[i]->cid;
			m.doc = out.v[i]->doc;
			m.doc_tried = 1;
			m.ts = sim_wall_usec();
			subs_oof_removed(&m, "expired");
		}
		sow_reclist_free(&out);
	}
	sow_expiry_schedule();
}

/* Arm the expiry timer for the earliest expiring record. */
static void
sow_expiry_schedule(void)
{
	struct simtopic	*st;
	struct timeval	 tv;
	uint64_t	 next = 0, t, now = mono_usec();

	TAILQ_FOREACH(st, &conf.topics, entry) {
		t = sow_next_expiry(st->store);
		if (t != 0 && (next == 0 || t < next))
			next = t;
	}
	if (ev_expire == NULL)
		ev_expire = event_new(sim_base, -1, 0, sow_expire_cb, NULL);
	if (next == 0) {
		event_del(ev_expire);
		return;
	}
	t = (next > now ? next - now : 0) + 1000;
	tv.tv_sec = (time_t)(t / 1000000);
	tv.tv_usec = (suseconds_t)(t % 1000000);
	event_add(ev_expire, &tv);
}

/* Query context: one batch being assembled. */
struct qctx {
	struct sess	*s;
	const char	*qid;
	const char	*sub_id;
	const char	*topic;
	uint64_t	 bs;
	int		 timestamp;
	int		 no_sowkey;
	struct jdoc_select *sel;
	struct sbuf	 recs;
	uint64_t	 nrecs;
	uint64_t	 returned;
};

/* Send the batch assembled so far. */
static void
q_flush(struct qctx *q)
{
	struct amps_wr	w;
	struct hbuf	hb;

	if (q->nrecs == 0)
		return;
	hbuf_get(&hb, HBUF_NEED(slen(q->topic) + slen(q->qid) +
	    slen(q->sub_id)));
	amps_wr_begin(&w, hb.p, hb.cap);
	amps_wr_cstr(&w, AMPS_F_C, "sow");
	amps_wr_cstr(&w, AMPS_F_T, q->topic);
	amps_wr_cstr(&w, AMPS_F_QUERY_ID, q->qid);
	if (q->sub_id != NULL)
		amps_wr_cstr(&w, AMPS_F_SUB_ID, q->sub_id);
	wr_num(&w, AMPS_F_BS, q->nrecs);
	sess_send_wr(q->s, &w, q->recs.p, q->recs.len);
	hbuf_free(&hb);
	q->recs.len = 0;
	q->nrecs = 0;
}

/* Add one record to the batch. */
static void
q_add(struct qctx *q, const char *topic, const char *k, const char *bm,
    const char *x, uint64_t ts, const char *data, size_t dlen,
    const json_t *doc)
{
	struct amps_wr	 w;
	struct hbuf	 hb;
	char		 tsbuf[40], *pdata = NULL;
	json_t		*proj;
	long long	 n;

	if (q->topic != NULL && strcmp(q->topic, topic) != 0)
		q_flush(q);
	q->topic = topic;
	if (q->sel != NULL && doc != NULL &&
	    (proj = jdoc_select_apply(q->sel, doc)) != NULL) {
		pdata = json_dumps(proj, JSON_COMPACT);
		json_decref(proj);
		if (pdata != NULL) {
			data = pdata;
			dlen = strlen(pdata);
		}
	}
	hbuf_get(&hb, HBUF_NEED(slen(k) + slen(bm) + slen(x)));
	amps_wr_begin_bare(&w, hb.p, hb.cap);
	if (k != NULL && !q->no_sowkey)
		amps_wr_cstr(&w, AMPS_F_K, k);
	if (bm != NULL)
		amps_wr_cstr(&w, AMPS_F_BM, bm);
	if (x != NULL)
		amps_wr_cstr(&w, AMPS_F_X, x);
	if (q->timestamp && ts != 0) {
		amps_ts_format(tsbuf, sizeof tsbuf, (int64_t)ts);
		amps_wr_cstr(&w, AMPS_F_TS, tsbuf);
	}
	wr_num(&w, AMPS_F_L, dlen);
	n = amps_wr_finish(&w, NULL, 0);
	if (n > 0 && (size_t)n <= hb.cap) {
		sbuf_add(&q->recs, hb.p, (size_t)n);
		sbuf_add(&q->recs, data, dlen);
		q->nrecs++;
		q->returned++;
	}
	hbuf_free(&hb);
	free(pdata);
	if (q->nrecs >= q->bs)
		q_flush(q);
}

/* Send group_begin / group_end. */
static void
q_group(struct qctx *q, const char *what)
{
	struct amps_wr	w;
	struct hbuf	hb;

	hbuf_get(&hb, HBUF_NEED(slen(q->qid)));
	amps_wr_begin(&w, hb.p, hb.cap);
	amps_wr_cstr(&w, AMPS_F_C, what);
	amps_wr_cstr(&w, AMPS_F_QUERY_ID, q->qid);
	sess_send_wr(q->s, &w, NULL, 0);
	hbuf_free(&hb);
}

/* Write query_id and the statistics of a completed / stats ack. */
void
qack_extra_cb(struct amps_wr *w, void *arg)
{
	struct qack_extra	*e = arg;

	if (e->sub_id != NULL)
		amps_wr_cstr(w, AMPS_F_SUB_ID, e->sub_id);
	if (e->qid != NULL)
		amps_wr_cstr(w, AMPS_F_QUERY_ID, e->qid);
	if (e->st == NULL)
		return;
	wr_num(w, AMPS_F_MATCHES, e->st->matches);
	wr_num(w, AMPS_F_TOPIC_MATCHES, e->st->topic_matches);
	if (e->deleted)
		wr_num(w, AMPS_F_RECORDS_DELETED, e->st->records_deleted);
	else
		wr_num(w, AMPS_F_RECORDS_RETURNED, e->st->records_returned);
}

/* Split a comma list into an array of NUL-terminated strings. */
char **
keys_split(const char *s, size_t *n)
{
	struct amps_list_iter	 it;
	const char		*item;
	size_t			 ilen;
	char			**v = NULL;

	*n = 0;
	amps_list_begin(&it, s, strlen(s));
	while (amps_list_next(&it, &item, &ilen) == 1) {
		v = xrealloc(v, (*n + 1) * sizeof *v);
		v[(*n)++] = xstrndup(item, ilen);
	}
	return (v);
}

/* Free a key array. */
void
keys_free(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Options of a query that can fail validation. */
struct qopts {
	struct filter		*flt;
	struct jdoc_orderby	*ob;
	struct jdoc_select	*sel;
	struct topicmatch	*tm;
	char			**keys;
	size_t			 nkeys;
	size_t			 top_n;
	size_t			 skip_n;
	uint64_t		 bs;
};

/* Release query options. */
static void
qopts_free(struct qopts *o)
{
	filter_free(o->flt);
	jdoc_orderby_free(o->ob);
	jdoc_select_free(o->sel);
	topicmatch_free(o->tm);
	keys_free(o->keys, o->nkeys);
}

/* Validate and compile a query's options; reason on failure. */
static int
qopts_parse(struct cmd *c, struct qopts *o, const char **reason)
{
	char	err[256], val[1024];
	size_t	l;

	memset(o, 0, sizeof *o);
	o->top_n = SOW_TOP_ALL;
	if (c->topic == NULL || c->topic[0] == '\0') {
		*reason = "invalid topic";
		return (-1);
	}
	o->tm = topicmatch_new(c->topic, strlen(c->topic),
	    cmd_opt(c, "non_regex_topic", NULL, 0), err, sizeof err);
	if (o->tm == NULL) {
		*reason = "bad regex topic";
		return (-1);
	}
	o->bs = c->has_bs ? c->bs : 1;
	if (o->bs == 0)
		o->bs = 1;
	if (o->bs > SOW_BS_MAX) {
		*reason = "invalid batch size";	/* UNVERIFIED text */
		return (-1);
	}
	if (c->filter != NULL && c->filter[0] != '\0' &&
	    (o->flt = filter_compile(c->filter, strlen(c->filter), err,
	    sizeof err)) == NULL) {
		*reason = "bad filter";
		return (-1);
	}
	if (c->orderby != NULL && c->orderby[0] != '\0' &&
	    (o->ob = jdoc_orderby_compile(c->orderby,
	    strlen(c->orderby))) == NULL) {
		*reason = "invalid order by";	/* UNVERIFIED text */
		return (-1);
	}
	if (cmd_opt(c, "select", val, sizeof val)) {
		l = strlen(val);
		if (l >= 2 && val[0] == '[' && val[l - 1] == ']') {
			val[l - 1] = '\0';
			memmove(val, val + 1, l - 1);
			l -= 2;
		}
		if ((o->sel = jdoc_select_compile(val, l)) == NULL) {
			*reason = "invalid options";
			return (-1);
		}
	}
	if (c->has_top_n)
		o->top_n = (size_t)c->top_n;
	if (cmd_opt(c, "top_n", val, sizeof val))
		o->top_n = (size_t)strtoull(val, NULL, 10);
	if (cmd_opt(c, "skip_n", val, sizeof val))
		o->skip_n = (size_t)strtoull(val, NULL, 10);
	else if (amps_hdr_has(&c->h, AMPS_F_SKIP_N)) {
		uint64_t v;
		if (amps_hdr_u64(&c->h, AMPS_F_SKIP_N, &v) == 0)
			o->skip_n = (size_t)v;
	}
	if (c->sow_keys != NULL)
		o->keys = keys_split(c->sow_keys, &o->nkeys);
	return (0);
}

/*
 * The SOW of st as it was before log position pos (§9.6): a temporary
 * store rebuilt from the transaction log.  Expiration is not replayed.
 */
static struct sowstore *
sow_history(const struct simtopic *st, size_t pos)
{
	struct sowstore		*h;
	const struct txrec	*r;
	struct sow_meta		 meta;
	struct sow_reclist	 out;
	struct sow_stats	 stats;
	const char		*keys[1];
	char			 bm[48];
	size_t			 i;

	h = sow_create(st->name, st->keys, st->nkeys, 0);
	for (i = 0; i < pos && (r = txlog_get(i)) != NULL; i++) {
		if (!r->logged || r->type == TXREC_SEQ ||
		    strcmp(r->topic, st->name) != 0)
			continue;
		if (r->type == TXREC_DELETE) {
			if (r->k == NULL)
				continue;
			keys[0] = r->k;
			memset(&out, 0, sizeof out);
			sow_delete_keys(h, keys, 1, &out, &stats);
			sow_reclist_free(&out);
			continue;
		}
		txlog_bm(r, bm, sizeof bm);
		memset(&meta, 0, sizeof meta);
		meta.bookmark = bm;
		meta.cid = r->x;
		meta.ts = (uint64_t)r->ts;
		sow_upsert(h, r->data, r->dlen, NULL, r->k, &meta, NULL, NULL);
	}
	return (h);
}

/*
 * Run the query part: every matching SOW topic in config order.  hist is
 * a log position for historical queries on topics with history, or -1.
 */
static void
sow_run(struct sess *s, struct cmd *c, struct qopts *o, const char *qid,
    const char *sub_id, const struct filter *exclude, struct sow_stats *tot,
    long long hist)
{
	struct sowstore		*store, *tmp;
	struct simtopic		*st;
	struct sow_query	 q;
	struct sow_reclist	 out;
	struct sow_stats	 stats;
	struct qctx		 qc;
	size_t			 i, left = o->top_n;

	memset(&qc, 0, sizeof qc);
	qc.s = s;
	qc.qid = qid;
	qc.sub_id = sub_id;
	qc.bs = o->bs;
	qc.timestamp = cmd_opt(c, "timestamp", NULL, 0);
	qc.no_sowkey = cmd_opt(c, "no_sowkey", NULL, 0);
	qc.sel = o->sel;
	memset(tot, 0, sizeof *tot);
	q_group(&qc, "group_begin");
	TAILQ_FOREACH(st, &conf.topics, entry) {
		if (!topicmatch_match(o->tm, st->name, strlen(st->name)))
			continue;
		sow_query_init(&q);
		q.filter = o->flt;
		q.keys = (const char *const *)o->keys;
		q.nkeys = o->nkeys;
		q.orderby = o->ob;
		q.top_n = left;
		q.skip_n = o->skip_n;
		memset(&out, 0, sizeof out);
		tmp = NULL;
		store = st->store;
		if (hist >= 0 && st->history)
			store = tmp = sow_history(st, (size_t)hist);
		sow_query(store, &q, &out, &stats);
		sow_free(tmp);	/* the records keep their own references */
		tot->topic_matches += stats.topic_matches;
		tot->matches += stats.matches;
		for (i = 0; i < out.n; i++) {
			if (exclude != NULL &&
			    filter_match(exclude, out.v[i]->doc))
				continue;
			q_add(&qc, st->name, out.v[i]->key,
			    out.v[i]->bookmark, out.v[i]->cid, out.v[i]->ts,
			    out.v[i]->data, out.v[i]->datalen, out.v[i]->doc);
			tot->records_returned++;
		}
		if (left != SOW_TOP_ALL)
			left -= out.n < left ? out.n : left;
		sow_reclist_free(&out);
	}
	q_flush(&qc);
	sbuf_free(&qc.recs);
	q_group(&qc, "group_end");
}

/* The query id: query_id, else cid, else sub_id. */
static const char *
query_id_of(const struct cmd *c)
{
	if (c->query_id != NULL)
		return (c->query_id);
	if (c->cid != NULL)
		return (c->cid);
	return (c->sub_id != NULL ? c->sub_id : "0");
}

/* Whether any configured SOW topic matches. */
static int
sow_any_topic(const struct topicmatch *tm)
{
	struct simtopic	*st;

	TAILQ_FOREACH(st, &conf.topics, entry)
		if (topicmatch_match(tm, st->name, strlen(st->name)))
			return (1);
	return (0);
}

/* Whether any topic the query matches keeps history. */
static int
sow_any_history(const struct topicmatch *tm)
{
	struct simtopic	*st;

	TAILQ_FOREACH(st, &conf.topics, entry)
		if (st->history &&
		    topicmatch_match(tm, st->name, strlen(st->name)))
			return (1);
	return (0);
}

/*
 * The log position of a historical query (§9.6): -1 for none (no `bm`,
 * NOW, or no matching topic keeps history: AMPS then ignores `bm`), -2
 * with *reason when the bookmark cannot be used.
 */
static long long
sow_hist_pos(struct cmd *c, struct qopts *o, const char **reason)
{
	enum amps_bm_kind	k;
	long long		pos;

	if (c->bm == NULL || !sow_any_history(o->tm))
		return (-1);
	k = amps_bm_classify(c->bm, strlen(c->bm));
	if (k == AMPS_BM_NOW)
		return (-1);
	if (k == AMPS_BM_RANGE || k == AMPS_BM_INVALID) {
		*reason = "invalid bookmark";
		return (-2);
	}
	pos = bm_resolve(c->bm, BMNF_FAIL, reason);
	if (pos < 0) {
		*reason = "invalid bookmark";
		return (-2);
	}
	return (pos);
}

/* Send completed and stats acks. */
static void
sow_finish(struct sess *s, struct cmd *c, const char *qid,
    const char *sub_id, const struct sow_stats *tot)
{
	struct qack_extra	e;

	memset(&e, 0, sizeof e);
	e.qid = qid;
	e.sub_id = sub_id;
	if (c->acks & AMPS_ACK_COMPLETED)
		ack_send_ex(s, c, AMPS_ACK_COMPLETED, "success", NULL,
		    qack_extra_cb, &e);
	e.st = tot;
	if (c->acks & AMPS_ACK_STATS)
		ack_send_ex(s, c, AMPS_ACK_STATS, "success", NULL,
		    qack_extra_cb, &e);
}

/* Handle sow. */
void
sow_cmd(struct sess *s, struct cmd *c)
{
	struct qopts		 o;
	struct sow_stats	 tot;
	struct simqueue		*q;
	const char		*reason = NULL, *qid = query_id_of(c);
	long long		 hist = -1;

	if (c->topic != NULL &&
	    (q = conf_queue(c->topic, strlen(c->topic))) != NULL) {
		queue_sow(s, c, q);
		return;
	}
	if (qopts_parse(c, &o, &reason) != 0 ||
	    (!sow_any_topic(o.tm) && (reason = "invalid topic")) ||
	    (hist = sow_hist_pos(c, &o, &reason)) == -2) {
		ack_send(s, c, AMPS_ACK_PROCESSED, "failure", reason);
		qopts_free(&o);
		return;
	}
	if (c->acks & AMPS_ACK_PROCESSED)
		ack_send(s, c, AMPS_ACK_PROCESSED, "success", NULL);
	sow_run(s, c, &o, qid, NULL, NULL, &tot, hist);
	sow_finish(s, c, qid, NULL, &tot);
	qopts_free(&o);
}

/* Handle sow_and_subscribe / sow_and_delta_subscribe. */
void
sow_and_subscribe_cmd(struct sess *s, struct cmd *c)
{
	struct qopts		 o;
	struct sow_stats	 tot;
	struct sub		*sub, *old;
	struct filter		*exclude = NULL, *own_all = NULL;
	char			 fe[64];
	long long		 hist = -1;
	const char		*reason = NULL, *qid;
	int			 replace;

	if (qopts_parse(c, &o, &reason) != 0) {
		ack_send(s, c, AMPS_ACK_PROCESSED, "failure", reason);
		qopts_free(&o);
		return;
	}
	if (o.skip_n != 0 && topicmatch_is_regex(o.tm)) {
		/* Pagination is not allowed with regex topics (§12.8). */
		ack_send(s, c, AMPS_ACK_PROCESSED, "failure",
		    "invalid options");
		qopts_free(&o);
		return;
	}
	if (c->bm != NULL && amps_bm_classify(c->bm, strlen(c->bm)) !=
	    AMPS_BM_NOW && (topicmatch_is_regex(o.tm) ||
	    !sow_any_history(o.tm))) {
		/* Without History only NOW is allowed (§9.6). */
		ack_send(s, c, AMPS_ACK_PROCESSED, "failure",
		    "invalid bookmark");
		qopts_free(&o);
		return;
	}
	if ((hist = sow_hist_pos(c, &o, &reason)) == -2) {
		ack_send(s, c, AMPS_ACK_PROCESSED, "failure", reason);
		qopts_free(&o);
		return;
	}
	if ((sub = sub_create(s, c, 1)) == NULL) {
		qopts_free(&o);
		return;
	}
	replace = cmd_opt(c, "replace", NULL, 0);
	old = sub_find(s, sub->sub_id);
	TAILQ_INSERT_TAIL(&s->subs, sub, sentry);
	subindex_link(sub);
	if (old != NULL && !replace) {
		ack_send(s, c, AMPS_ACK_PROCESSED, "failure",
		    "subscription already exists");
		sub_free(sub);
		qopts_free(&o);
		return;
	}
	if (c->bm != NULL) {
		sub->bm_sub = 1;	/* NOW: live, with bookmarks */
	}
	qid = query_id_of(c);
	if (c->acks & AMPS_ACK_PROCESSED)
		ack_send(s, c, AMPS_ACK_PROCESSED, "success", NULL);
	if (old != NULL) {
		/* replace: only records newly in scope; OOF for leavers. */
		struct simtopic		*st;
		struct sow_reclist	 out;
		struct sow_query	 q;
		struct sow_stats	 stats;
		struct msg		 m;
		size_t			 i;

		exclude = old->flt;
		TAILQ_FOREACH(st, &conf.topics, entry) {
			if (!sub->oof || !topicmatch_match(old->tm, st->name,
			    strlen(st->name)))
				continue;
			sow_query_init(&q);
			q.filter = old->flt;
			memset(&out, 0, sizeof out);
			sow_query(st->store, &q, &out, &stats);
			for (i = 0; i < out.n; i++) {
				if (topicmatch_match(sub->tm, st->name,
				    strlen(st->name)) && (sub->flt == NULL ||
				    filter_match(sub->flt, out.v[i]->doc)))
					continue;
				memset(&m, 0, sizeof m);
				m.topic = st->name;
				m.k = out.v[i]->key;
				m.x = out.v[i]->cid;
				sub_oof(sub, &m, "match", out.v[i]->data,
				    out.v[i]->datalen);
			}
			sow_reclist_free(&out);
		}
		if (exclude == NULL)
			exclude = own_all = filter_compile("1=1", 3, fe,
			    sizeof fe);
	}
	sow_run(s, c, &o, qid, sub->sub_id, exclude, &tot, hist);
	filter_free(own_all);
	if (o.skip_n != 0 &&
	    (sub->page_st = conf_sow_topic(c->topic, strlen(c->topic))) != NULL) {
		/* top_n + skip_n: a paginated subscription (§9.4). */
		sub->paged = 1;
		sub->page_ob = o.ob;
		o.ob = NULL;
		sub->page_top = o.top_n;
		sub->page_skip = o.skip_n;
		sub_page_init(sub);
	}
	if (old != NULL)
		sub_free(old);
	sow_finish(s, c, qid, sub->sub_id, &tot);
	qopts_free(&o);
	if (hist >= 0) {
		/* Historical state, then the log from that point (§4.8). */
		sub->bm_sub = 1;
		sub->replay_pos = (size_t)hist;
		sub->replay_end = (size_t)-1;	/* completed was the query's */
		sub_replay_schedule(sub, 0);
	}
}
