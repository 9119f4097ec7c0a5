/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * sowdelete.c: sow_delete (§4.10, §9.8) in its forms — by filter, by
 * sow_keys, by data, by a single `k` — and its queue form (routed to
 * queuecmd.c), plus the replicated form used by replica.c.
 *
 * Invariants:
 *  1. sow_delete is a state-changing command: it takes part in sequence
 *     numbering and duplicate detection like a publish (§4.10, §7.1).
 *  2. Every deleted record produces OOF `deleted` with its previous state
 *     for subscriptions that asked for oof, and one TXREC_DELETE log
 *     record with the command's identity.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ampsim.h"
#include "filter.h"
#include "sowstore.h"

/* OOF `deleted` and log records for deleted records. */
static void
sow_deleted(struct simtopic *st, struct sow_reclist *out, uint64_t pub,
    uint64_t seq, int logged)
{
	struct msg	m;
	size_t		i;

	for (i = 0; i < out->n; i++) {
		memset(&m, 0, sizeof m);
		m.topic = st->name;
		m.data = out->v[i]->data;
		m.dlen = out->v[i]->datalen;
		m.k = out->v[i]->key;
		m.x = out->v[i]->cid;
		m.doc = out->v[i]->doc;
		m.doc_tried = 1;
		m.ts = sim_wall_usec();
		if (logged)
			txlog_append(TXREC_DELETE, pub, seq, st->name, NULL,
			    m.k, m.data, m.dlen, 1);
		subs_oof_removed(&m, "deleted");
	}
}

/* Handle sow_delete (and the `ack` command form of queue acks). */
void
sow_delete_cmd(struct sess *s, struct cmd *c)
{
	struct simtopic		*st;
	struct simqueue		*q;
	struct sow_reclist	 out;
	struct sow_stats	 stats;
	struct qack_extra	 e;
	struct filter		*flt = NULL;
	char			 err[256], **keys = NULL;
	const char		*kv[1];
	size_t			 nkeys = 0;
	uint64_t		 pub = 0, seq = 0;
	int			 rc, logged;
	size_t			 before;

	if (c->topic != NULL &&
	    (q = conf_queue(c->topic, strlen(c->topic))) != NULL) {
		queue_ack_cmd(s, c, q);
		return;
	}
	if (c->c == AMPS_CMD_ACK) {
		sess_kill(s, "unknown command ack (not a queue topic)");
		return;
	}
	if (c->forced != NULL) {
		if (c->acks & AMPS_ACK_PROCESSED)
			ack_send(s, c, AMPS_ACK_PROCESSED, "failure",
			    c->forced);
		if (c->acks & AMPS_ACK_STATS)
			ack_send(s, c, AMPS_ACK_STATS, "failure", c->forced);
		pack_failure(s, c, c->forced);
		return;
	}
	if (c->topic == NULL ||
	    (st = conf_sow_topic(c->topic, strlen(c->topic))) == NULL) {
		ack_send(s, c, AMPS_ACK_PROCESSED, "failure", "invalid topic");
		pack_failure(s, c, "invalid topic");
		return;
	}
	if (c->filter != NULL && (flt = filter_compile(c->filter,
	    strlen(c->filter), err, sizeof err)) == NULL) {
		ack_send(s, c, AMPS_ACK_PROCESSED, "failure", "bad filter");
		pack_failure(s, c, "bad filter");
		return;
	}
	if (publish_identity(s, c, &pub, &seq)) {
		/* Duplicate state change: acknowledge like a publish. */
		filter_free(flt);
		if (c->acks & AMPS_ACK_PROCESSED)
			ack_send(s, c, AMPS_ACK_PROCESSED, "success", NULL);
		pack_success(s, c);
		return;
	}
	memset(&out, 0, sizeof out);
	memset(&stats, 0, sizeof stats);
	if (c->sow_keys != NULL) {
		keys = keys_split(c->sow_keys, &nkeys);
		rc = sow_delete_keys(st->store, (const char *const *)keys,
		    nkeys, &out, &stats);
	} else if (flt != NULL)
		rc = sow_delete_filter(st->store, flt, &out, &stats);
	else if (c->plen > 0)
		rc = sow_delete_data(st->store, c->payload, c->plen, NULL,
		    c->k, &out, &stats);
	else if (c->k != NULL) {
		kv[0] = c->k;
		rc = sow_delete_keys(st->store, kv, 1, &out, &stats);
	} else
		rc = SOW_ERR_NOKEY;
	keys_free(keys, nkeys);
	filter_free(flt);
	if (rc < 0) {
		const char *r = rc == SOW_ERR_PARSE ? "parse error" :
		    "invalid options";
		ack_send(s, c, AMPS_ACK_PROCESSED, "failure", r);
		pack_failure(s, c, r);
		sow_reclist_free(&out);
		return;
	}
	logged = conf_txlogged(st->name, strlen(st->name));
	before = txlog_count();
	sow_deleted(st, &out, pub, seq, logged);
	if (c->has_seq && (out.n == 0 || !logged))
		txlog_append(TXREC_SEQ, pub, seq, st->name, NULL, NULL, NULL,
		    0, 0);
	sow_reclist_free(&out);
	if (c->acks & AMPS_ACK_PROCESSED)
		ack_send(s, c, AMPS_ACK_PROCESSED, "success", NULL);
	memset(&e, 0, sizeof e);
	e.qid = c->query_id;
	if (c->acks & AMPS_ACK_COMPLETED)
		ack_send_ex(s, c, AMPS_ACK_COMPLETED, "success", NULL,
		    qack_extra_cb, &e);
	e.st = &stats;
	e.deleted = 1;
	if (c->acks & AMPS_ACK_STATS)
		ack_send_ex(s, c, AMPS_ACK_STATS, "success", NULL,
		    qack_extra_cb, &e);
	if (txlog_count() > before &&
	    repl_defer_ack(s, c, txlog_count() - 1))
		return;
	pack_success(s, c);
}

/* Replicated sow_delete: delete keys (comma list) of topic with identity. */
void
sow_deleted_keys(const char *topic, const char *keys_csv, uint64_t pub,
    uint64_t seq)
{
	struct simtopic		*st;
	struct sow_reclist	 out;
	struct sow_stats	 stats;
	char			**keys;
	size_t			 nkeys;

	if ((st = conf_sow_topic(topic, strlen(topic))) == NULL)
		return;
	keys = keys_split(keys_csv, &nkeys);
	memset(&out, 0, sizeof out);
	sow_delete_keys(st->store, (const char *const *)keys, nkeys, &out,
	    &stats);
	keys_free(keys, nkeys);
	sow_deleted(st, &out, pub, seq, conf_txlogged(topic, strlen(topic)));
	if (out.n == 0)
		txlog_append(TXREC_SEQ, pub, seq, topic, NULL, NULL, NULL, 0,
		    0);
	sow_reclist_free(&out);
}
