/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * publish.c: publish and delta_publish (§4.3, §4.4), publisher identity
 * and duplicate detection (§7.1, §7.8), persisted acks in both modes
 * (§6.6), and flush (§4.12).
 *
 * Invariants:
 *  1. A state-changing command with `s` from client name N is accepted
 *     only if s > the highest sequence ever accepted from N (on any
 *     connection, before or after a restart: the transaction log holds
 *     it); otherwise it is a duplicate and has no effect.
 *  2. Publishes without `s` get the server publisher id and the next
 *     server sequence, so every logged message has a unique bookmark.
 *  3. A persisted ack (success) for sequence N is only sent after the
 *     log record of N was written by txlog_flush().
 *  4. Conflated mode (per connection, ack_conflation_ms > 0): at most one
 *     pending success; a failure first sends the pending success, then
 *     the failure, so acks stay in sequence order (§6.6).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ampsim.h"
#include "sowstore.h"

static uint64_t	server_seq;	/* last sequence of the server publisher */

/* Extra fields of a persisted ack: s and bm. */
struct pack_extra {
	uint64_t	 pub;
	uint64_t	 seq;
};

/* Write s and bm. */
static void
pack_extra_cb(struct amps_wr *w, void *arg)
{
	struct pack_extra	*e = arg;
	char			 bm[48];

	wr_num(w, AMPS_F_S, e->seq);
	amps_bm_format(bm, sizeof bm, e->pub, e->seq);
	amps_wr_cstr(w, AMPS_F_BM, bm);
}

/* Send the pending conflated success now. */
void
pack_flush(struct sess *s)
{
	struct pack_extra	e;

	if (!s->pa_have)
		return;
	txlog_flush();
	s->pa_have = 0;
	e.pub = s->namehash;
	e.seq = s->pa_seq;
	ack_send_ex(s, NULL, AMPS_ACK_PERSISTED, "success", NULL,
	    pack_extra_cb, &e);
}

/* Conflation timer. */
static void
pack_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	pack_flush(arg);
}

/* A command was persisted: ack now (with cid) or conflate (without). */
void
pack_success(struct sess *s, const struct cmd *c)
{
	struct pack_extra	e;
	struct timeval		tv;

	if (!(c->acks & AMPS_ACK_PERSISTED))
		return;
	if (s->ack_conflation_ms == 0 || !c->has_seq) {
		txlog_flush();
		e.pub = s->namehash;
		e.seq = c->seq;
		ack_send_ex(s, c, AMPS_ACK_PERSISTED, "success", NULL,
		    c->has_seq ? pack_extra_cb : NULL, &e);
		return;
	}
	if (!s->pa_have || c->seq > s->pa_seq)
		s->pa_seq = c->seq;
	s->pa_have = 1;
	if (s->ev_pa == NULL)
		s->ev_pa = event_new(sim_base, -1, 0, pack_timer_cb, s);
	if (!event_pending(s->ev_pa, EV_TIMEOUT, NULL)) {
		tv.tv_sec = s->ack_conflation_ms / 1000;
		tv.tv_usec = (s->ack_conflation_ms % 1000) * 1000;
		event_add(s->ev_pa, &tv);
	}
}

/* A command failed: split the conflated run around it (§6.6). */
void
pack_failure(struct sess *s, const struct cmd *c, const char *reason)
{
	struct pack_extra	e;

	if (!(c->acks & AMPS_ACK_PERSISTED))
		return;
	pack_flush(s);
	e.pub = s->namehash;
	e.seq = c->seq;
	ack_send_ex(s, s->ack_conflation_ms == 0 || !c->has_seq ? c : NULL,
	    AMPS_ACK_PERSISTED, "failure", reason,
	    c->has_seq ? pack_extra_cb : NULL, &e);
}

/*
 * Identity of a state-changing command: (client hash, s) or (server id,
 * next server seq).  Returns 1 for a duplicate (nothing assigned).
 */
int
publish_identity(struct sess *s, const struct cmd *c, uint64_t *pub,
    uint64_t *seq)
{
	if (c->has_seq) {
		if (c->seq <= names_last_seq(s->namehash))
			return (1);
		*pub = s->namehash;
		*seq = c->seq;
		return (0);
	}
	if (server_seq == 0)
		server_seq = txlog_pub_max(sim_pubid);
	*pub = sim_pubid;
	*seq = ++server_seq;
	return (0);
}

/* Acknowledge a duplicate per the configured mode (§7.6). */
static void
publish_duplicate(struct sess *s, struct cmd *c)
{
	sim_log(LOG_DEBUG, "publish: %s: duplicate s=%llu (last %llu)",
	    s->label, (unsigned long long)c->seq,
	    (unsigned long long)names_last_seq(s->namehash));
	if (conf.dupack == DUPACK_FAILURE) {
		if (c->acks & AMPS_ACK_PROCESSED)
			ack_send(s, c, AMPS_ACK_PROCESSED, "failure",
			    "duplicate");
		pack_failure(s, c, "duplicate");
		return;
	}
	if (c->acks & AMPS_ACK_PROCESSED)
		ack_send(s, c, AMPS_ACK_PROCESSED, "success", NULL);
	pack_success(s, c);
}

/* Fail a publish on every requested ack. */
static void
publish_fail(struct sess *s, struct cmd *c, const char *reason)
{
	sim_log(LOG_INFO, "publish: %s: failed: %s", s->label, reason);
	if (c->acks & AMPS_ACK_PROCESSED)
		ack_send(s, c, AMPS_ACK_PROCESSED, "failure", reason);
	if (c->acks & AMPS_ACK_COMPLETED)
		ack_send(s, c, AMPS_ACK_COMPLETED, "failure", reason);
	pack_failure(s, c, reason);
}

/*
 * Apply a publish with a known identity (pub, seq): SOW upsert or delta
 * merge, transaction log, fan-out, queues.  Used for client publishes and
 * for records replicated from the peer.  Returns the log index (>= 0), -2
 * when nothing was logged, or -1 with *reason.
 */
long long
publish_apply(struct cmd *c, int delta, uint64_t pub, uint64_t seq,
    int has_identity, const char **reason)
{
	struct simtopic		*st;
	struct sow_record	*cur = NULL, *prev = NULL;
	struct msg		 m;
	long long		 idx = -2;
	int			 logged;

	logged = conf_txlogged(c->topic, strlen(c->topic)) ||
	    queue_is_underlying(c->topic);
	memset(&m, 0, sizeof m);
	m.topic = c->topic;
	m.data = c->payload;
	m.dlen = c->plen;
	m.x = c->x;
	m.ts = sim_wall_usec();
	if (logged)
		amps_bm_format(m.bm, sizeof m.bm, pub, seq);

	st = conf_sow_topic(c->topic, strlen(c->topic));
	if (st != NULL) {
		if (sow_publish(st, c, delta, logged ? m.bm : NULL, &cur,
		    &prev, reason) != 0)
			return (-1);
		m.st = st;
		m.data = cur->data;
		m.dlen = cur->datalen;
		m.k = cur->key;
		m.doc = cur->doc;
		m.doc_tried = 1;
		if (cur->cid != NULL)
			m.x = cur->cid;
		if (prev != NULL) {
			m.old_doc = prev->doc;
			m.old_data = prev->data;
			m.old_dlen = prev->datalen;
		}
	}
	if (logged || has_identity)
		idx = (long long)txlog_append(logged ? TXREC_PUBLISH :
		    TXREC_SEQ, pub, seq, c->topic, m.x, m.k, m.data, m.dlen,
		    logged);

	subs_fanout(&m);
	queue_publish(&m);
	if (m.doc_owned)
		json_decref(m.doc);
	sow_record_unref(cur);
	sow_record_unref(prev);
	return (idx);
}

/* Handle publish / delta_publish. */
void
publish_cmd(struct sess *s, struct cmd *c)
{
	const char	*reason = NULL;
	uint64_t	 pub, seq;
	long long	 idx;

	if (c->forced != NULL) {
		publish_fail(s, c, c->forced);
		return;
	}
	if (c->topic == NULL || c->topic[0] == '\0') {
		publish_fail(s, c, "invalid topic");
		return;
	}
	if (publish_identity(s, c, &pub, &seq)) {
		publish_duplicate(s, c);
		return;
	}
	idx = publish_apply(c, c->c == AMPS_CMD_DELTA_PUBLISH, pub, seq,
	    c->has_seq, &reason);
	if (idx == -1) {
		publish_fail(s, c, reason);
		return;
	}
	if (c->acks & AMPS_ACK_PROCESSED)
		ack_send(s, c, AMPS_ACK_PROCESSED, "success", NULL);
	if (c->acks & AMPS_ACK_COMPLETED)
		ack_send(s, c, AMPS_ACK_COMPLETED, "success", NULL);
	if (idx >= 0 && repl_defer_ack(s, c, (size_t)idx))
		return;
	pack_success(s, c);
}

/* Handle flush (§4.12): everything before it is already processed. */
void
flush_cmd(struct sess *s, struct cmd *c)
{
	if (c->acks & AMPS_ACK_PROCESSED)
		ack_send(s, c, AMPS_ACK_PROCESSED, "success", NULL);
	if (c->acks & AMPS_ACK_COMPLETED)
		ack_send(s, c, AMPS_ACK_COMPLETED, "success", NULL);
	if (c->acks & AMPS_ACK_PERSISTED) {
		pack_flush(s);
		txlog_flush();
		if (!repl_defer_flush(s, c))
			ack_send(s, c, AMPS_ACK_PERSISTED, "success", NULL);
	}
}
