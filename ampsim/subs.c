/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * subs.c: subscriptions (§4.5, §4.6): creation from a command with its
 * options (§13), replace / pause / resume, unsubscribe, fan-out of
 * published messages (filters, delta output, OOF for SOW topics, select,
 * conflation, sids).  Bookmark replays live in replay.c.
 *
 * Invariants:
 *  1. A subscription is in its session's list and in all_subs (with its
 *     topic index, subindex.c); both are updated together (sub_free).
 *     The fan-out offers a message to the candidates subindex.c gives
 *     for its topic, in all_subs order, which are all the subscriptions
 *     whose topic may match.
 *  2. A bookmark subscription that is replaying (replay.c) is skipped by
 *     the live
 *     fan-out: the message is already in the log (publish appends before
 *     fanning out) and the replay reaches it in log order; when the replay
 *     catches up with the end of the log it becomes live in the same
 *     callback, so nothing is lost or duplicated.
 *  3. Live bookmark subscriptions only receive logged messages.
 *  4. Queue subscriptions (sub->q) receive nothing from fan-out; the queue
 *     module delivers to them.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ampsim.h"
#include "filter.h"
#include "jsondoc.h"
#include "sowstore.h"
#include "topicmatch.h"

static void	sub_conf_add(struct sub *, struct msg *, const char *,
		    size_t);
static void	sub_page_update(struct sub *, struct msg *, const char *);
static void	sub_conf_put(struct sub *, struct msg *, const char *,
		    const char *, size_t);

/* The parsed document of a message (NULL when not JSON). */
json_t *
msg_doc(struct msg *m)
{
	json_error_t	err;

	if (!m->doc_tried) {
		m->doc_tried = 1;
		m->doc = json_loadb(m->data, m->dlen, JSON_DECODE_ANY, &err);
		m->doc_owned = m->doc != NULL;
	}
	return (m->doc);
}

/* Find a subscription of s by id. */
struct sub *
sub_find(struct sess *s, const char *id)
{
	struct sub	*sub;

	TAILQ_FOREACH(sub, &s->subs, sentry)
		if (strcmp(sub->sub_id, id) == 0)
			return (sub);
	return (NULL);
}

/* Free a subscription and unlink it. */
void
sub_free(struct sub *sub)
{
	size_t	i;

	if (sub->q != NULL)
		queue_sub_gone(sub);
	TAILQ_REMOVE(&sub->s->subs, sub, sentry);
	subindex_unlink(sub);
	if (sub->ev_replay != NULL)
		event_free(sub->ev_replay);
	if (sub->ev_persisted != NULL)
		event_free(sub->ev_persisted);
	if (sub->ev_conf != NULL)
		event_free(sub->ev_conf);
	if (sub->conf_pending != NULL)
		json_decref(sub->conf_pending);
	if (sub->conf_sent != NULL)
		json_decref(sub->conf_sent);
	for (i = 0; i < sub->nconf_keys; i++)
		free(sub->conf_keys[i]);
	free(sub->conf_keys);
	topicmatch_free(sub->tm);
	filter_free(sub->flt);
	jdoc_select_free(sub->sel);
	jdoc_orderby_free(sub->page_ob);
	if (sub->page_keys != NULL)
		json_decref(sub->page_keys);
	free(sub->sub_id);
	free(sub->cid);
	free(sub->topic);
	free(sub);
}

/* Connection closed: drop all its subscriptions. */
void
subs_sess_closed(struct sess *s)
{
	struct sub	*sub;

	while ((sub = TAILQ_FIRST(&s->subs)) != NULL)
		sub_free(sub);
}

/* Fail a subscribe-family command on its processed ack. */
static void
sub_fail(struct sess *s, struct cmd *c, const char *reason)
{
	const char	*id = c->sub_id ? c->sub_id : (c->cid ? c->cid : "-");
	char		 e1[64], e2[96];

	sim_log(LOG_INFO, "subs: %s: %s %s failed: %s", s->label,
	    sim_escape_log(c->cname, slen(c->cname), e1, sizeof e1),
	    sim_escape_log(id, strlen(id), e2, sizeof e2), reason);
	ack_send(s, c, AMPS_ACK_PROCESSED, "failure", reason);
}

/* Split "[/a,/b]" into paths. */
static char **
split_bracket_list(const char *v, size_t *n)
{
	char		**out = NULL;
	const char	*p, *e, *c;
	size_t		 len = strlen(v);

	*n = 0;
	if (len >= 2 && v[0] == '[' && v[len - 1] == ']') {
		v++;
		len -= 2;
	}
	p = v;
	e = v + len;
	while (p < e) {
		c = memchr(p, ',', (size_t)(e - p));
		if (c == NULL)
			c = e;
		while (p < c && *p == ' ')
			p++;
		if (c > p) {
			out = xrealloc(out, (*n + 1) * sizeof *out);
			out[(*n)++] = xstrndup(p, (size_t)(c - p));
		}
		p = c + 1;
	}
	return (out);
}

/*
 * Build a subscription from a command (not yet linked).  flags: 1 = sow
 * family (oof etc. still apply).  On failure sends the failure ack and
 * returns NULL.
 */
struct sub *
sub_create(struct sess *s, struct cmd *c, int flags)
{
	struct sub	*sub;
	char		 err[256], val[1024];
	long long	 ms;
	int		 non_regex;

	if (c->topic == NULL || c->topic[0] == '\0') {
		sub_fail(s, c, "invalid topic");
		return (NULL);
	}
	sub = xcalloc(1, sizeof *sub);
	sub->s = s;
	sub->cmd = c->c;
	sub->acks = c->acks;
	sub->sub_id = xstrdup(c->sub_id ? c->sub_id : (c->cid ? c->cid :
	    "0"));
	sub->cid = c->cid ? xstrdup(c->cid) : NULL;
	sub->topic = xstrdup(c->topic);
	sub->delta = c->c == AMPS_CMD_DELTA_SUBSCRIBE ||
	    c->c == AMPS_CMD_SOW_AND_DELTA_SUBSCRIBE;
	non_regex = cmd_opt(c, "non_regex_topic", NULL, 0);
	sub->tm = topicmatch_new(c->topic, strlen(c->topic), non_regex, err,
	    sizeof err);
	if (sub->tm == NULL) {
		sub_fail(s, c, "bad regex topic");
		goto fail;
	}
	if (c->filter != NULL && c->filter[0] != '\0') {
		sub->flt = filter_compile(c->filter, strlen(c->filter), err,
		    sizeof err);
		if (sub->flt == NULL) {
			sub_fail(s, c, "bad filter");
			goto fail;
		}
	}
	sub->oof = cmd_opt(c, "oof", NULL, 0) ||
	    amps_hdr_eq(&c->h, AMPS_F_SEND_OOF, "true");
	sub->paused = cmd_opt(c, "pause", NULL, 0);
	sub->timestamp = cmd_opt(c, "timestamp", NULL, 0);
	sub->no_empties = cmd_opt(c, "no_empties", NULL, 0);
	sub->no_sowkey = cmd_opt(c, "no_sowkey", NULL, 0);
	sub->bm_opt = cmd_opt(c, "bookmark", NULL, 0);
	if (cmd_opt(c, "select", val, sizeof val)) {
		size_t l = strlen(val);
		const char *p = val;

		if (l >= 2 && val[0] == '[' && val[l - 1] == ']') {
			p = val + 1;
			l -= 2;
		}
		if ((sub->sel = jdoc_select_compile(p, l)) == NULL) {
			sub_fail(s, c, "invalid options");
			goto fail;
		}
	}
	if (cmd_opt(c, "conflation", val, sizeof val) &&
	    strcmp(val, "none") != 0) {
		ms = strcmp(val, "auto") == 0 ? 1000 :
		    sim_parse_interval_ms(val, strlen(val));
		if (ms <= 0) {
			sub_fail(s, c, "invalid options");
			goto fail;
		}
		sub->conf_ms = (unsigned)ms;
		if (cmd_opt(c, "conflation_key", val, sizeof val))
			sub->conf_keys = split_bracket_list(val,
			    &sub->nconf_keys);
	}
	if (cmd_opt(c, "top_n", val, sizeof val))
		sub->top_n = strtoull(val, NULL, 10);
	else if (c->has_top_n && !(flags & 1))
		sub->top_n = c->top_n;
	if (cmd_opt(c, "rate", val, sizeof val) &&
	    replay_parse_rate(sub, val) != 0) {
		sub_fail(s, c, "invalid options");
		goto fail;
	}
	if (cmd_opt(c, "rate_max_gap", val, sizeof val)) {
		ms = sim_parse_interval_ms(val, strlen(val));
		if (ms <= 0) {
			sub_fail(s, c, "invalid options");
			goto fail;
		}
		sub->rate_max_gap_ms = (unsigned)ms;
	}
	return (sub);
fail:
	topicmatch_free(sub->tm);
	filter_free(sub->flt);
	jdoc_select_free(sub->sel);
	free(sub->sub_id);
	free(sub->cid);
	free(sub->topic);
	free(sub);
	return (NULL);
}

/* Link a built subscription into both lists. */
static void
sub_link(struct sub *sub)
{
	TAILQ_INSERT_TAIL(&sub->s->subs, sub, sentry);
	subindex_link(sub);
}

/* Apply pause or resume to the listed sub_ids; 1 if handled. */
static int
sub_pause_resume(struct sess *s, struct cmd *c)
{
	struct amps_list_iter	 it;
	const char		*item;
	size_t			 ilen;
	struct sub		*sub;
	char			 id[256];
	int			 pause, resume, n = 0;

	pause = cmd_opt(c, "pause", NULL, 0);
	resume = cmd_opt(c, "resume", NULL, 0);
	if ((!pause && !resume) || c->sub_id == NULL)
		return (0);
	amps_list_begin(&it, c->sub_id, strlen(c->sub_id));
	while (amps_list_next(&it, &item, &ilen) == 1) {
		snprintf(id, sizeof id, "%.*s", (int)ilen, item);
		if ((sub = sub_find(s, id)) == NULL)
			continue;
		n++;
		if (pause && !sub->paused && sub->bm_sub && !sub->replaying &&
		    !sub->fully_durable) {
			/*
			 * A live bookmark subscription was fed by the fan-out,
			 * which does not move replay_pos: everything logged so
			 * far was delivered or did not match, so the resume
			 * replays from the end of the log as it is now.
			 */
			sub->replay_pos = txlog_count();
		}
		if (pause)
			sub->paused = 1;
		else if (sub->paused) {
			sub->paused = 0;
			if (sub->bm_sub)
				sub_replay_schedule(sub, 0);
		}
	}
	/* Unknown ids with pause and a topic: a new paused subscription. */
	if (n == 0 && pause && c->topic != NULL)
		return (0);
	if (c->acks & AMPS_ACK_PROCESSED)
		ack_send(s, c, AMPS_ACK_PROCESSED, "success", NULL);
	return (1);
}

/* Handle subscribe / delta_subscribe. */
void
subscribe_cmd(struct sess *s, struct cmd *c)
{
	struct sub		*sub, *old;
	struct simqueue		*q;
	struct sub_ack_extra	 e;
	char			 o[48];
	int			 replace;

	if (sub_pause_resume(s, c))
		return;
	if ((sub = sub_create(s, c, 0)) == NULL)
		return;
	replace = cmd_opt(c, "replace", NULL, 0);
	old = sub_find(s, sub->sub_id);
	if (old != NULL && !replace) {
		sub_fail(s, c, "subscription already exists");
		sub->s = s;
		TAILQ_INSERT_TAIL(&s->subs, sub, sentry);
		subindex_link(sub);
		sub_free(sub);
		return;
	}
	memset(&e, 0, sizeof e);
	q = c->bm == NULL ? conf_queue(c->topic, strlen(c->topic)) : NULL;
	if (q != NULL) {
		if (old != NULL && old->q == q) {
			/* replace keeps the leases (§10.2). */
			if (queue_subscribe(s, c, sub, old) != 0) {
				sub_link(sub);
				sub_free(sub);
				return;
			}
			sub_link(sub);
			sub_free(sub);
			sub = old;
		} else {
			sub_link(sub);
			if (queue_subscribe(s, c, sub, NULL) != 0) {
				sub_free(sub);
				return;
			}
			if (old != NULL)
				sub_free(old);
		}
		snprintf(o, sizeof o, "max_backlog=%u", sub->backlog);
		e.o = o;
		if (c->acks & AMPS_ACK_PROCESSED)
			ack_send_ex(s, c, AMPS_ACK_PROCESSED, "success", NULL,
			    sub_ack_extra_cb, &e);
		queue_dispatch_all(q);
		return;
	}
	if (c->bm != NULL && sub_start_bookmark(s, c, sub) != 0) {
		sub_link(sub);
		sub_free(sub);
		return;
	}
	if (old != NULL)
		sub_free(old);
	sub_link(sub);
	if (sim_verbose >= LOG_DEBUG) {
		char e1[96], e2[256];

		sim_log(LOG_DEBUG, "subs: %s: %s %s on %s%s", s->label,
		    c->cname, sim_escape_log(sub->sub_id, strlen(sub->sub_id),
		    e1, sizeof e1), sim_escape_log(sub->topic,
		    strlen(sub->topic), e2, sizeof e2),
		    sub->bm_sub ? " (bookmark)" : "");
	}
	if (c->acks & AMPS_ACK_PROCESSED)
		ack_send(s, c, AMPS_ACK_PROCESSED, "success", NULL);
	if (sub->bm_sub && !sub->paused)
		sub_replay_schedule(sub, 0);
}

/* Handle unsubscribe: one id, a comma list, or "all". */
void
unsubscribe_cmd(struct sess *s, struct cmd *c)
{
	struct amps_list_iter	 it;
	const char		*item;
	size_t			 ilen;
	struct sub		*sub;
	char			 id[256];

	if (c->sub_id != NULL && strcmp(c->sub_id, "all") == 0)
		subs_sess_closed(s);
	else if (c->sub_id != NULL) {
		amps_list_begin(&it, c->sub_id, strlen(c->sub_id));
		while (amps_list_next(&it, &item, &ilen) == 1) {
			snprintf(id, sizeof id, "%.*s", (int)ilen, item);
			if ((sub = sub_find(s, id)) != NULL)
				sub_free(sub);
		}
	}
	/* Queries run to completion inside one callback: nothing to cancel. */
	if (c->acks & AMPS_ACK_PROCESSED)
		ack_send(s, c, AMPS_ACK_PROCESSED, "success", NULL);
}

/* Write a p / oof frame for sub. */
static void
sub_write(struct sub *sub, struct msg *m, const char *cname,
    const char *sids, const char *reason, const char *data, size_t dlen,
    const char *lp, const char *qbm)
{
	struct amps_wr	 w;
	struct hbuf	 hb;
	char		 ts[40];
	json_t		*proj = NULL;
	char		*pdata = NULL;

	hbuf_get(&hb, HBUF_NEED(slen(m->topic) + slen(sids) +
	    slen(sub->sub_id) + slen(qbm) + sizeof m->bm + slen(m->k) +
	    slen(m->x) + slen(lp) + slen(reason)));
	amps_wr_begin(&w, hb.p, hb.cap);
	amps_wr_cstr(&w, AMPS_F_C, cname);
	amps_wr_cstr(&w, AMPS_F_T, m->topic);
	if (sids != NULL)
		amps_wr_cstr(&w, AMPS_F_SIDS, sids);
	else
		amps_wr_cstr(&w, AMPS_F_SUB_ID, sub->sub_id);
	if (qbm != NULL)
		amps_wr_cstr(&w, AMPS_F_BM, qbm);
	else if (m->bm[0] != '\0' && (sub->bm_sub || sub->bm_opt))
		amps_wr_cstr(&w, AMPS_F_BM, m->bm);
	if (m->k != NULL && !sub->no_sowkey)
		amps_wr_cstr(&w, AMPS_F_K, m->k);
	if (m->x != NULL)
		amps_wr_cstr(&w, AMPS_F_X, m->x);
	if (sub->timestamp) {
		amps_ts_format(ts, sizeof ts, m->ts);
		amps_wr_cstr(&w, AMPS_F_TS, ts);
	}
	if (lp != NULL)
		amps_wr_cstr(&w, AMPS_F_LP, lp);
	if (reason != NULL)
		amps_wr_cstr(&w, AMPS_F_REASON, reason);
	if (sub->sel != NULL && data != NULL) {
		json_error_t	 err;
		json_t		*d = json_loadb(data, dlen, 0, &err);

		if (d != NULL) {
			proj = jdoc_select_apply(sub->sel, d);
			json_decref(d);
			if (proj != NULL &&
			    (pdata = json_dumps(proj, JSON_COMPACT)) != NULL) {
				data = pdata;
				dlen = strlen(pdata);
			}
		}
	}
	sess_send_wr(sub->s, &w, data, dlen);
	hbuf_free(&hb);
	free(pdata);
	if (proj != NULL)
		json_decref(proj);
}

/* Deliver m to sub (payload override for deltas), with conflation. */
void
sub_deliver(struct sub *sub, struct msg *m, const char *payload)
{
	const char	*d = payload ? payload : m->data;
	size_t		 dl = payload ? strlen(payload) : m->dlen;

	if (sub->conf_ms > 0 && !sub->bm_sub) {
		sub_conf_add(sub, m, d, dl);
		return;
	}
	sub_write(sub, m, "p", NULL, NULL, d, dl, NULL, NULL);
}

/* Deliver a queue message (bm and lp). */
void
sub_deliver_queue(struct sub *sub, struct msg *m, const char *bm,
    const char *lp)
{
	sub_write(sub, m, "p", NULL, NULL, m->data, m->dlen, lp, bm);
}

/* Send an OOF to sub with reason and payload. */
void
sub_oof(struct sub *sub, struct msg *m, const char *reason,
    const char *data, size_t dlen)
{
	json_t	*last;

	if (sub->conf_ms > 0 && (m->k != NULL || sub->nconf_keys > 0)) {
		/* Conflated: the OOF carries what the subscriber last got,
		 * and a later update in the interval replaces it (§9.5). */
		if (sub->conf_sent != NULL && m->k != NULL &&
		    (last = json_object_get(sub->conf_sent, m->k)) != NULL) {
			data = json_string_value(last);
			dlen = json_string_length(last);
		}
		sub_conf_put(sub, m, reason, data, dlen);
		return;
	}
	sub_write(sub, m, "oof", NULL, reason, data, dlen, NULL, NULL);
}

/* Conflation: key of m for sub. */
static void
sub_conf_key(struct sub *sub, struct msg *m, char *out, size_t cap)
{
	size_t	i, o = 0;
	json_t	*d;
	char	*v;

	if (sub->nconf_keys == 0) {
		snprintf(out, cap, "%s", m->k ? m->k : "");
		return;
	}
	out[0] = '\0';
	d = msg_doc(m);
	for (i = 0; i < sub->nconf_keys && d != NULL; i++) {
		const json_t *j = jdoc_path(d, sub->conf_keys[i]);

		v = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
		o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s|",
		    v ? v : "null");
		free(v);
		if (o >= cap)
			break;
	}
}

/* Conflation timer: send the latest message per key. */
static void
sub_conf_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct sub	*sub = arg;
	const char	*key, *kind, *data;
	json_t		*v, *pending = sub->conf_pending;
	struct msg	 m;
	size_t		 dlen;

	sub->conf_pending = NULL;
	if (pending == NULL)
		return;
	if (sub->conf_sent == NULL)
		sub->conf_sent = json_object();
	json_object_foreach(pending, key, v) {
		memset(&m, 0, sizeof m);
		m.topic = json_string_value(json_array_get(v, 0));
		m.k = json_string_value(json_array_get(v, 1));
		data = json_string_value(json_array_get(v, 2));
		dlen = json_string_length(json_array_get(v, 2));
		snprintf(m.bm, sizeof m.bm, "%s",
		    json_string_value(json_array_get(v, 3)));
		m.x = json_string_value(json_array_get(v, 4));
		m.ts = json_integer_value(json_array_get(v, 5));
		kind = json_string_value(json_array_get(v, 6));
		if (kind == NULL) {
			sub_write(sub, &m, "p", NULL, NULL, data, dlen, NULL,
			    NULL);
			if (m.k != NULL)
				json_object_set_new_nocheck(sub->conf_sent, m.k,
				    json_stringn_nocheck(data, dlen));
		} else {
			sub_write(sub, &m, "oof", NULL, kind, data, dlen,
			    NULL, NULL);
			if (m.k != NULL)
				json_object_del(sub->conf_sent, m.k);
		}
	}
	json_decref(pending);
}

/* Conflation: remember the latest message for its key. */
static void
sub_conf_add(struct sub *sub, struct msg *m, const char *d, size_t dl)
{
	if (m->k == NULL && sub->nconf_keys == 0) {
		sub_write(sub, m, "p", NULL, NULL, d, dl, NULL, NULL);
		return;
	}
	sub_conf_put(sub, m, NULL, d, dl);
}

/*
 * Conflation: remember the latest message (kind NULL) or OOF (kind =
 * reason) for m's key; the timer sends them.  Payloads are kept as
 * unchecked strings (any bytes).
 */
static void
sub_conf_put(struct sub *sub, struct msg *m, const char *kind,
    const char *d, size_t dl)
{
	struct timeval	 tv;
	char		 key[512];
	json_t		*v;

	sub_conf_key(sub, m, key, sizeof key);
	v = json_array();
	json_array_append_new(v, json_string_nocheck(m->topic));
	json_array_append_new(v, m->k ? json_string_nocheck(m->k) :
	    json_null());
	json_array_append_new(v, json_stringn_nocheck(d, dl));
	json_array_append_new(v, json_string_nocheck(m->bm));
	json_array_append_new(v, m->x ? json_string_nocheck(m->x) :
	    json_null());
	json_array_append_new(v, json_integer((json_int_t)m->ts));
	json_array_append_new(v, kind ? json_string_nocheck(kind) :
	    json_null());
	if (sub->conf_pending == NULL)
		sub->conf_pending = json_object();
	json_object_del(sub->conf_pending, key);	/* keep newest last */
	json_object_set_new_nocheck(sub->conf_pending, key, v);
	if (sub->ev_conf == NULL)
		sub->ev_conf = event_new(sim_base, -1, 0, sub_conf_cb, sub);
	if (!event_pending(sub->ev_conf, EV_TIMEOUT, NULL)) {
		tv.tv_sec = sub->conf_ms / 1000;
		tv.tv_usec = (sub->conf_ms % 1000) * 1000;
		event_add(sub->ev_conf, &tv);
	}
}

/*
 * Whether another, non-delta subscription of the same connection takes m:
 * then delta subscriptions get the full message too (§11.2).
 */
static int
sess_has_full_match(struct sess *s, struct msg *m, const json_t *d)
{
	struct sub	*o;

	TAILQ_FOREACH(o, &s->subs, sentry) {
		if (o->delta || o->paused || o->replaying || o->q != NULL ||
		    o->ended || o->paged)
			continue;
		if (!topicmatch_match(o->tm, m->topic, strlen(m->topic)))
			continue;
		if (o->flt == NULL || filter_match(o->flt, d))
			return (1);
	}
	return (0);
}

/* sids mode: a session's pending full-message matches. */
struct sids_acc {
	struct sess	*s;
	struct sub	*first;
	struct sbuf	 ids;
};

/* Fan a published message out to every matching live subscription. */
void
subs_fanout(struct msg *m)
{
	struct subindex_iter	 it;
	struct sub	*sub;
	json_t		*d, *dj;
	char		*ds;
	char *const	*keys;
	size_t		 nkeys = 0, tlen = strlen(m->topic), i, nacc = 0;
	int		 now, before, changed;
	struct sids_acc	*acc = NULL;

	subindex_begin(&it, m->topic);
	while ((sub = subindex_next(&it)) != NULL) {
		if (sub->paused || sub->replaying || sub->q != NULL ||
		    sub->ended || sub->s->state == SESS_DEAD)
			continue;
		if (sub->bm_sub && m->bm[0] == '\0')
			continue;	/* not in the transaction log */
		if (sub->replay_q != NULL) {
			if (!queue_feeds_topic(sub->replay_q, m->topic))
				continue;
		} else if (!topicmatch_match(sub->tm, m->topic, tlen))
			continue;
		if (sub->range && sub_range_live_over(sub, m->ts))
			continue;
		if (sub->paged) {
			if (m->st == sub->page_st)
				sub_page_update(sub, m, NULL);
			continue;
		}
		d = NULL;
		if (sub->flt != NULL || (sub->delta && m->old_doc != NULL)) {
			d = msg_doc(m);
			if (d == NULL && sub->flt != NULL)
				continue;
		}
		now = sub->flt == NULL || filter_match(sub->flt, d);
		before = m->old_doc != NULL && (sub->flt == NULL ||
		    filter_match(sub->flt, m->old_doc));
		if (!now) {
			if (sub->oof && before)
				sub_oof(sub, m, "match", m->data, m->dlen);
			continue;
		}
		if (sub->delta && m->st != NULL && before &&
		    m->old_doc != NULL && d != NULL &&
		    !sess_has_full_match(sub->s, m, d)) {
			keys = sow_key_paths(m->st->store, &nkeys);
			dj = jdoc_delta(m->old_doc, d, keys, nkeys, &changed);
			if (dj == NULL)
				continue;
			if (changed == 0 && sub->no_empties) {
				json_decref(dj);
				continue;
			}
			ds = json_dumps(dj, JSON_COMPACT);
			json_decref(dj);
			if (ds != NULL)
				sub_deliver(sub, m, ds);
			free(ds);
			continue;
		}
		if (conf.sids && sub->conf_ms == 0 && sub->sel == NULL &&
		    !sub->bm_sub) {
			for (i = 0; i < nacc; i++)
				if (acc[i].s == sub->s)
					break;
			if (i == nacc) {
				acc = xrealloc(acc, (nacc + 1) * sizeof *acc);
				memset(&acc[nacc], 0, sizeof *acc);
				acc[nacc].s = sub->s;
				acc[nacc].first = sub;
				nacc++;
			} else
				sbuf_add(&acc[i].ids, ",", 1);
			sbuf_add(&acc[i].ids, sub->sub_id,
			    strlen(sub->sub_id));
			continue;
		}
		sub_deliver(sub, m, NULL);
	}
	for (i = 0; i < nacc; i++) {
		sbuf_add(&acc[i].ids, "", 1);
		if (acc[i].s->state != SESS_DEAD)
			sub_write(acc[i].first, m, "p", acc[i].ids.p, NULL,
			    m->data, m->dlen, NULL, NULL);
		sbuf_free(&acc[i].ids);
	}
	free(acc);
}

/* A SOW record left the SOW: OOF to subscriptions that had it in focus. */
void
subs_oof_removed(struct msg *m, const char *reason)
{
	struct subindex_iter	 it;
	struct sub		*sub;
	size_t			 tlen = strlen(m->topic);

	subindex_begin(&it, m->topic);
	while ((sub = subindex_next(&it)) != NULL) {
		if ((!sub->oof && !sub->paged) || sub->paused ||
		    sub->replaying || sub->q != NULL ||
		    sub->s->state == SESS_DEAD)
			continue;
		if (!topicmatch_match(sub->tm, m->topic, tlen))
			continue;
		if (sub->paged) {
			sub_page_update(sub, m, reason);
			continue;
		}
		if (sub->flt != NULL && (m->doc == NULL ||
		    !filter_match(sub->flt, m->doc)))
			continue;
		sub_oof(sub, m, reason, m->data, m->dlen);
	}
}

/* The current window of a paginated subscription (referenced records). */
static void
sub_page_query(struct sub *sub, struct sow_reclist *out)
{
	struct sow_query	q;
	struct sow_stats	stats;

	sow_query_init(&q);
	q.filter = sub->flt;
	q.orderby = sub->page_ob;
	q.top_n = sub->page_top;
	q.skip_n = sub->page_skip;
	memset(out, 0, sizeof *out);
	sow_query(sub->page_st->store, &q, out, &stats);
}

/* Remember the window the initial query returned. */
void
sub_page_init(struct sub *sub)
{
	struct sow_reclist	out;
	size_t			i;

	sub->page_keys = json_object();
	sub_page_query(sub, &out);
	for (i = 0; i < out.n; i++)
		json_object_set_new(sub->page_keys, out.v[i]->key,
		    json_true());
	sow_reclist_free(&out);
}

/*
 * A write (or removal, with reason) on a paginated subscription's topic:
 * recompute the window; records entering it, and the written record if it
 * stays in it, are delivered; records leaving it get an OOF (§9.4).
 */
static void
sub_page_update(struct sub *sub, struct msg *m, const char *removed)
{
	struct sow_reclist	 out;
	struct sow_record	*r;
	struct msg		 mm;
	json_t			*nk, *v;
	const char		*key;
	size_t			 i;

	nk = json_object();
	sub_page_query(sub, &out);
	for (i = 0; i < out.n; i++) {
		r = out.v[i];
		json_object_set_new(nk, r->key, json_true());
		if (json_object_get(sub->page_keys, r->key) != NULL &&
		    (removed != NULL || m->k == NULL ||
		    strcmp(r->key, m->k) != 0))
			continue;
		memset(&mm, 0, sizeof mm);
		mm.topic = sub->page_st->name;
		mm.k = r->key;
		mm.x = r->cid;
		mm.ts = (int64_t)r->ts;
		if (r->bookmark != NULL)
			snprintf(mm.bm, sizeof mm.bm, "%s", r->bookmark);
		sub_write(sub, &mm, "p", NULL, NULL, r->data, r->datalen,
		    NULL, NULL);
	}
	sow_reclist_free(&out);
	json_object_foreach(sub->page_keys, key, v) {
		if (json_object_get(nk, key) != NULL || !sub->oof)
			continue;
		if (removed != NULL && m->k != NULL && strcmp(key, m->k) == 0) {
			sub_oof(sub, m, removed, m->data, m->dlen);
			continue;
		}
		if ((r = sow_lookup_ref(sub->page_st->store, key)) == NULL)
			continue;
		memset(&mm, 0, sizeof mm);
		mm.topic = sub->page_st->name;
		mm.k = r->key;
		mm.x = r->cid;
		sub_oof(sub, &mm, "match", r->data, r->datalen);
		sow_record_unref(r);
	}
	json_decref(sub->page_keys);
	sub->page_keys = nk;
}
