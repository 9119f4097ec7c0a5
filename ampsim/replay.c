/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * replay.c: bookmark (replay) subscriptions over the transaction log
 * (§8.3, §8.4): resolving EPOCH, NOW, bookmark ids, comma lists (earliest
 * found), timestamps and ranges to log positions; the replay itself (in
 * chunks, with `rate` and `top_n`); `completed` and periodic `persisted`
 * acks; bookmark subscriptions to queues (plain replays of the underlying
 * topics).
 *
 * Invariants:
 *  1. A replaying subscription receives log records strictly in log
 *     order, each at most once; it turns live (sub->replaying = 0) in the
 *     same callback in which it reaches the end of the log.
 *  2. `completed` is sent once: at the log position current when the
 *     subscription was placed, or, for a range, at the range end, after
 *     which a range subscription receives nothing more.
 *  3. Range begin "[" starts at the bookmark, "(" after it; end "]"
 *     includes the end bookmark, ")" stops before it.  Timestamps compare
 *     with the record's log time.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ampsim.h"
#include "filter.h"
#include "topicmatch.h"

static void	sub_range_end(struct sub *);
static int	replay_x_wait(struct sub *, const struct txrec *);
static int	sub_range_over(struct sub *, size_t, int64_t);
static long long range_resolve(struct sub *, const char *, enum bmnf,
		    const char **);

/* Fail a bookmark subscription on its processed ack. */
static void
sub_fail(struct sess *s, struct cmd *c, const char *reason)
{
	const char	*id = c->sub_id ? c->sub_id : (c->cid ? c->cid : "-");
	char		 e1[64], e2[96];

	sim_log(LOG_INFO, "replay: %s: %s %s failed: %s", s->label,
	    sim_escape_log(c->cname, slen(c->cname), e1, sizeof e1),
	    sim_escape_log(id, strlen(id), e2, sizeof e2), reason);
	ack_send(s, c, AMPS_ACK_PROCESSED, "failure", reason);
}

/* Resolve one bookmark item to a start index; -1 = not found. */
static long long
bm_item_start(const char *p, size_t len, int incl)
{
	uint64_t	pub, seq;
	int64_t		usec;
	long long	idx;

	switch (amps_bm_classify(p, len)) {
	case AMPS_BM_EPOCH:
		return (0);
	case AMPS_BM_NOW:
		return ((long long)txlog_count());
	case AMPS_BM_ID:
		if (faults.bm_not_found)
			return (-1);
		if (amps_bm_parse(p, len, &pub, &seq) != 0)
			return (-1);
		if ((idx = txlog_find(pub, seq)) < 0)
			return (-1);
		return (incl ? idx : idx + 1);
	case AMPS_BM_TIMESTAMP:
		if (amps_ts_parse(p, len, &usec) != 0)
			return (-1);
		return ((long long)txlog_find_ts(usec));
	default:
		return (-2);
	}
}

/* Resolve a bookmark (single or list) to a start index; <0 on failure. */
long long
bm_resolve(const char *bm, enum bmnf nf, const char **reason)
{
	struct amps_list_iter	 it;
	const char		*item;
	size_t			 ilen;
	long long		 best = -1, v;
	enum amps_bm_kind	 k;

	k = amps_bm_classify(bm, strlen(bm));
	if (k == AMPS_BM_INVALID || k == AMPS_BM_RANGE) {
		*reason = "invalid bookmark";
		return (-2);
	}
	amps_list_begin(&it, bm, strlen(bm));
	while (amps_list_next(&it, &item, &ilen) == 1) {
		v = bm_item_start(item, ilen, 0);
		if (v == -2) {
			*reason = "invalid bookmark";
			return (-2);
		}
		if (v >= 0 && (best < 0 || v < best))
			best = v;
	}
	if (best >= 0)
		return (best);
	switch (nf) {
	case BMNF_EPOCH:
		return (0);
	case BMNF_NOW:
		return ((long long)txlog_count());
	default:
		*reason = "bookmark not found";
		return (-1);
	}
}

/* Write sub_id / bm / o of a subscription ack. */
void
sub_ack_extra_cb(struct amps_wr *w, void *arg)
{
	struct sub_ack_extra	*e = arg;

	if (e->sub_id != NULL)
		amps_wr_cstr(w, AMPS_F_SUB_ID, e->sub_id);
	if (e->bm != NULL)
		amps_wr_cstr(w, AMPS_F_BM, e->bm);
	if (e->o != NULL)
		amps_wr_cstr(w, AMPS_F_O, e->o);
}

/* The bookmark of the last log record before index end ("0" if none). */
static void
bm_before(size_t end, char *out, size_t cap)
{
	const struct txrec	*r;

	if (end == 0 || (r = txlog_get(end - 1)) == NULL)
		snprintf(out, cap, "0");
	else
		txlog_bm(r, out, cap);
}

/* Periodic persisted ack of a bookmark subscription (§8.4). */
static void
sub_persisted_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct sub		*sub = arg;
	struct sub_ack_extra	 e;
	struct cmd		 c;
	char			 bm[48];

	txlog_flush();
	/* Written locally and, with --repl-sync, acknowledged by the peer. */
	bm_before(repl_durable_count(), bm, sizeof bm);
	memset(&c, 0, sizeof c);
	c.cid = sub->cid;
	e.sub_id = sub->sub_id;
	e.bm = bm;
	e.o = NULL;
	ack_send_ex(sub->s, &c, AMPS_ACK_PERSISTED, "success", NULL,
	    sub_ack_extra_cb, &e);
}

/* Whether record r is a candidate for subscription sub. */
static int
sub_wants_rec(struct sub *sub, const struct txrec *r, struct msg *m)
{
	if (r->type != TXREC_PUBLISH || !r->logged)
		return (0);
	if (sub->replay_q != NULL) {
		if (!queue_feeds_topic(sub->replay_q, r->topic))
			return (0);
	} else if (!topicmatch_match(sub->tm, r->topic, strlen(r->topic)))
		return (0);
	memset(m, 0, sizeof *m);
	m->topic = r->topic;
	m->data = r->data;
	m->dlen = r->dlen;
	m->x = r->x;
	m->k = r->k;
	m->ts = r->ts;
	txlog_bm(r, m->bm, sizeof m->bm);
	if (sub->flt != NULL) {
		json_t *d = msg_doc(m);
		int ok = d != NULL && filter_match(sub->flt, d);

		if (m->doc_owned)
			json_decref(m->doc);
		m->doc = NULL;
		m->doc_owned = 0;
		m->doc_tried = 0;
		return (ok);
	}
	return (1);
}

/* Replay step: deliver a chunk of the log to a bookmark subscription. */
static void
sub_replay_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct sub		*sub = arg;
	const struct txrec	*r;
	struct sub_ack_extra	 e;
	struct cmd		 c;
	struct msg		 m;
	char			 bm[48];
	size_t			 budget, n, dlen;
	int			 wait;

	if (sub->paused)
		return;
	n = sub->fully_durable ? repl_durable_count() : txlog_count();
	budget = 2000;
	if (sub->rate > 0) {
		/*
		 * rate=N: a credit of N messages per second, refilled by
		 * elapsed time, at most a tenth of a second's worth (and at
		 * least one message) banked; the first message goes at once.
		 */
		uint64_t now = sim_mono_ms();
		double	 cap = sub->rate / 10 > 1 ? sub->rate / 10 : 1;

		if (sub->msg_t == 0)
			sub->msg_credit = 1;
		else
			sub->msg_credit += sub->rate *
			    (double)(now - sub->msg_t) / 1000.0;
		if (sub->msg_credit > cap)
			sub->msg_credit = cap;
		sub->msg_t = now;
		budget = (size_t)sub->msg_credit;
		if (budget == 0) {
			wait = (int)((1 - sub->msg_credit) * 1000.0 /
			    sub->rate) + 1;
			sub_replay_schedule(sub, wait);
			return;
		}
	}
	if (sub->rate_bytes > 0) {
		uint64_t now = sim_mono_ms();

		if (sub->bytes_t == 0)
			sub->bytes_t = now;
		sub->bytes_credit += sub->rate_bytes *
		    (double)(now - sub->bytes_t) / 1000.0;
		if (sub->bytes_credit > sub->rate_bytes)
			sub->bytes_credit = sub->rate_bytes;	/* 1 s burst */
		sub->bytes_t = now;
	}
	while (sub->replay_pos < n && budget > 0) {
		if (sub->s->out.len - sub->s->out_off > conf.out_limit / 2)
			break;
		r = txlog_get(sub->replay_pos);
		if (sub_range_over(sub, sub->replay_pos, r->ts)) {
			sub_range_end(sub);
			return;
		}
		if (sub->rate_x > 0 && (wait = replay_x_wait(sub, r)) > 0) {
			sub_replay_schedule(sub, wait);
			return;
		}
		sub->replay_pos++;
		if (sub->top_n && sub->sent >= sub->top_n)
			continue;
		if (!sub_wants_rec(sub, r, &m))
			continue;
		dlen = r->dlen;
		sub_deliver(sub, &m, NULL);
		sub->sent++;
		budget--;
		if (sub->rate > 0)
			sub->msg_credit -= 1;
		if (sub->s->state == SESS_DEAD)
			return;
		if (sub->rate_bytes > 0) {
			sub->bytes_credit -= (double)dlen;
			if (sub->bytes_credit < 0) {
				wait = (int)(-sub->bytes_credit * 1000.0 /
				    sub->rate_bytes) + 1;
				sub_replay_schedule(sub, wait);
				return;
			}
		}
	}
	if (sub->range && sub->rend_idx != (size_t)-1 &&
	    sub->replay_pos >= sub->rend_idx) {
		sub_range_end(sub);
		return;
	}
	if (!sub->range && sub->replay_end != (size_t)-1 &&
	    sub->replay_pos >= sub->replay_end) {
		if (sub->acks & AMPS_ACK_COMPLETED) {
			bm_before(sub->replay_end, bm, sizeof bm);
			memset(&c, 0, sizeof c);
			c.cid = sub->cid;
			e.sub_id = sub->sub_id;
			e.bm = bm;
			e.o = NULL;
			ack_send_ex(sub->s, &c, AMPS_ACK_COMPLETED, "success",
			    NULL, sub_ack_extra_cb, &e);
		}
		sub->replay_end = (size_t)-1;
	}
	if (sub->replay_pos >= n) {
		/* Live from now on; fully_durable ones keep reading the log
		 * as records become durable (replay_durable_kick). */
		if (!sub->fully_durable)
			sub->replaying = 0;
		return;
	}
	if (sub->rate > 0) {
		/* Next message when a whole credit has built up again. */
		wait = sub->msg_credit >= 1 ? 1 : (int)((1 - sub->msg_credit) *
		    1000.0 / sub->rate) + 1;
		sub_replay_schedule(sub, wait);
		return;
	}
	sub_replay_schedule(sub, 1);
}

/*
 * rate=N (messages/s), rate=NKB / NMB / NB (bytes/s), rate=FX (F times
 * the original publish rate).  Returns 0 or -1.
 */
int
replay_parse_rate(struct sub *sub, const char *v)
{
	char	*end;
	double	 d = strtod(v, &end);

	if (end == v || d <= 0)
		return (-1);
	if (*end == '\0')
		sub->rate = d;
	else if (strcmp(end, "X") == 0 || strcmp(end, "x") == 0)
		sub->rate_x = d;
	else if (strcmp(end, "B") == 0)
		sub->rate_bytes = d;
	else if (strcmp(end, "KB") == 0)
		sub->rate_bytes = d * 1024;
	else if (strcmp(end, "MB") == 0)
		sub->rate_bytes = d * 1024 * 1024;
	else
		return (-1);
	return (0);
}

/*
 * rate=FX pacing: milliseconds to wait before record r may go out (0 =
 * now).  Gaps longer than rate_max_gap are shortened to it.
 */
static int
replay_x_wait(struct sub *sub, const struct txrec *r)
{
	uint64_t	now = sim_mono_ms();
	double		due_ms;

	if (sub->x_t0 == 0) {
		sub->x_t0 = now;
		sub->x_ts0 = r->ts;
	}
	due_ms = (double)(r->ts - sub->x_ts0) / 1000.0 / sub->rate_x;
	if (due_ms <= (double)(now - sub->x_t0))
		return (0);
	due_ms -= (double)(now - sub->x_t0);
	if (sub->rate_max_gap_ms > 0 && due_ms > sub->rate_max_gap_ms) {
		/* Shift the timeline so this gap is rate_max_gap long. */
		sub->x_ts0 += (int64_t)((due_ms - sub->rate_max_gap_ms) *
		    1000.0 * sub->rate_x);
		due_ms = sub->rate_max_gap_ms;
	}
	return (due_ms < 1 ? 1 : (int)due_ms);
}

/* Run the replay again after ms milliseconds. */
void
sub_replay_schedule(struct sub *sub, int ms)
{
	struct timeval	tv;

	if (sub->ev_replay == NULL)
		sub->ev_replay = event_new(sim_base, -1, 0, sub_replay_cb, sub);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	sub->replaying = 1;
	event_add(sub->ev_replay, &tv);
}

/* Start a bookmark subscription; returns -1 after a failure ack. */
int
sub_start_bookmark(struct sess *s, struct cmd *c, struct sub *sub)
{
	struct timeval	 tv;
	const char	*reason = NULL;
	char		 val[16];
	enum bmnf	 nf = conf.bmnf_default;
	long long	 start;

	if (sub->delta) {
		sub_fail(s, c, "invalid options");
		return (-1);
	}
	/* A bookmark subscription to a queue replays its topics (§8.4). */
	sub->replay_q = conf_queue(sub->topic, strlen(sub->topic));
	subindex_refile(sub);
	if (!topicmatch_is_regex(sub->tm) && sub->replay_q == NULL &&
	    !conf_txlogged(sub->topic, strlen(sub->topic))) {
		sub_fail(s, c, "invalid topic");
		return (-1);
	}
	if (cmd_opt(c, "bookmark_not_found", val, sizeof val)) {
		if (strcmp(val, "epoch") == 0)
			nf = BMNF_EPOCH;
		else if (strcmp(val, "now") == 0)
			nf = BMNF_NOW;
		else if (strcmp(val, "fail") == 0)
			nf = BMNF_FAIL;
		else {
			sub_fail(s, c, "invalid options");
			return (-1);
		}
	}
	if (amps_bm_classify(c->bm, strlen(c->bm)) == AMPS_BM_RANGE)
		start = range_resolve(sub, c->bm, nf, &reason);
	else
		start = bm_resolve(c->bm, nf, &reason);
	if (start < 0) {
		sub_fail(s, c, reason);
		return (-1);
	}
	sub->bm_sub = 1;
	sub->fully_durable = cmd_opt(c, "fully_durable", NULL, 0);
	sub->replay_pos = (size_t)start;
	sub->replay_end = txlog_count();
	sub->replaying = 1;
	if (sub->acks & AMPS_ACK_PERSISTED) {
		sub->ev_persisted = event_new(sim_base, -1, EV_PERSIST,
		    sub_persisted_cb, sub);
		tv.tv_sec = conf.bm_persisted_ms / 1000;
		tv.tv_usec = (conf.bm_persisted_ms % 1000) * 1000;
		event_add(sub->ev_persisted, &tv);
	}
	return (0);
}


/* Resolve the end of a range: one item, latest wins. */
static void
range_end_item(struct sub *sub, const char *p, size_t len, int incl)
{
	uint64_t	pub, seq;
	int64_t		usec;
	long long	idx;
	size_t		e;

	switch (amps_bm_classify(p, len)) {
	case AMPS_BM_ID:
		if (amps_bm_parse(p, len, &pub, &seq) != 0 ||
		    (idx = txlog_find(pub, seq)) < 0)
			return;
		e = incl ? (size_t)idx + 1 : (size_t)idx;
		if (sub->rend_idx == (size_t)-1 || e > sub->rend_idx)
			sub->rend_idx = e;
		sub->rend_known = 1;
		break;
	case AMPS_BM_TIMESTAMP:
		if (amps_ts_parse(p, len, &usec) != 0)
			return;
		if (sub->rend_ts == 0 || usec > sub->rend_ts)
			sub->rend_ts = usec;
		sub->rend_incl = incl;
		sub->rend_known = 1;
		break;
	case AMPS_BM_NOW:
		e = txlog_count();
		if (sub->rend_idx == (size_t)-1 || e > sub->rend_idx)
			sub->rend_idx = e;
		sub->rend_known = 1;
		break;
	default:
		break;
	}
}

/*
 * Resolve a range "[a:b)" (§8.3): returns the start index (or < 0 with
 * *reason) and sets the end on sub.
 */
static long long
range_resolve(struct sub *sub, const char *bm, enum bmnf nf,
    const char **reason)
{
	struct amps_list_iter	 it;
	const char		*item, *colon;
	size_t			 len = strlen(bm), ilen;
	long long		 best = -1, v;
	int			 bincl, eincl;

	if (len < 3 || (bm[0] != '[' && bm[0] != '(') ||
	    (bm[len - 1] != ']' && bm[len - 1] != ')') ||
	    (colon = memchr(bm, ':', len)) == NULL) {
		*reason = "invalid bookmark";
		return (-2);
	}
	bincl = bm[0] == '[';
	eincl = bm[len - 1] == ']';
	sub->range = 1;
	sub->rend_idx = (size_t)-1;
	amps_list_begin(&it, colon + 1, (size_t)(bm + len - 1 - colon - 1));
	while (amps_list_next(&it, &item, &ilen) == 1)
		range_end_item(sub, item, ilen, eincl);
	amps_list_begin(&it, bm + 1, (size_t)(colon - bm - 1));
	while (amps_list_next(&it, &item, &ilen) == 1) {
		v = bm_item_start(item, ilen, bincl);
		if (v == -2) {
			*reason = "invalid bookmark";
			return (-2);
		}
		if (v >= 0 && (best < 0 || v < best))
			best = v;
	}
	if (best >= 0)
		return (best);
	switch (nf) {
	case BMNF_EPOCH:
		return (0);
	case BMNF_NOW:
		return ((long long)txlog_count());
	default:
		*reason = "bookmark not found";
		return (-1);
	}
}

/* Whether the record at index i with time ts is past the range end. */
static int
sub_range_over(struct sub *sub, size_t i, int64_t ts)
{
	if (!sub->range)
		return (0);
	if (sub->rend_idx != (size_t)-1 && i >= sub->rend_idx)
		return (1);
	if (sub->rend_ts != 0 &&
	    (sub->rend_incl ? ts > sub->rend_ts : ts >= sub->rend_ts))
		return (1);
	return (0);
}

/* A live message for a range subscription: 1 if the range is over. */
int
sub_range_live_over(struct sub *sub, int64_t ts)
{
	if (!sub->range)
		return (0);
	if (sub_range_over(sub, txlog_count() - 1, ts)) {
		sub_range_end(sub);
		return (1);
	}
	return (0);
}

/* The range is complete: completed ack, then nothing more. */
static void
sub_range_end(struct sub *sub)
{
	struct sub_ack_extra	 e;
	struct cmd		 c;
	char			 bm[48];

	if (sub->ended)
		return;
	sub->ended = 1;
	sub->replaying = 0;
	if (sub->acks & AMPS_ACK_COMPLETED) {
		bm_before(sub->replay_pos, bm, sizeof bm);
		memset(&c, 0, sizeof c);
		c.cid = sub->cid;
		e.sub_id = sub->sub_id;
		e.bm = bm;
		e.o = NULL;
		ack_send_ex(sub->s, &c, AMPS_ACK_COMPLETED, "success", NULL,
		    sub_ack_extra_cb, &e);
	}
}

/* Wake every caught-up fully_durable subscription (new durable records). */
void
replay_durable_kick(void)
{
	struct sub	*sub;
	size_t		 n = repl_durable_count();

	TAILQ_FOREACH(sub, &all_subs, gentry)
		if (sub->fully_durable && !sub->paused && !sub->ended &&
		    sub->replay_pos < n && sub->ev_replay != NULL &&
		    !event_pending(sub->ev_replay, EV_TIMEOUT, NULL))
			sub_replay_schedule(sub, 0);
}
