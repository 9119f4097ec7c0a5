/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * subpath-deliver.c: frames from AMPS to programs (docs/PROTOCOL.md §5.7
 * routing).  Calls subpath-sub.c and subpath-out.c below it.
 *
 *   ack        -> by cid to the waiting command (submgr_cmd): forwarded
 *                 when the program asked for that ack type (failures
 *                 always); a failed subscribe removes the subscription;
 *                 the terminal ack of a query ends its stream
 *                 (STREAM_END); `completed` puts a durable subscription
 *                 live in its bookmark store
 *   p, oof     -> by sids / sub_id (upstream ids) to each subscription;
 *                 durable ones log the bookmark first and drop
 *                 duplicates (PROTOCOL.md §8.6); queue messages are leased
 *   sow, group_begin, group_end -> by query_id (= our cid) to the command
 *
 * Invariants:
 *  1. Every string taken from an AMPS header is unescaped into the arena,
 *     which is sized for the whole frame before the first one, so no
 *     pointer into it moves while the frame is handled.
 *  2. Nothing here trusts a length from AMPS: the codec (amps_hdr_parse,
 *     amps_sow_next) has checked them; IPC frames are sized by a counting
 *     pass before they are written.
 *  3. A message goes only to the program that owns the subscription or
 *     command, tagged with that program's request id and local ids.
 *  4. A plain (not durable) subscription never has more than
 *     SP_PLAIN_MAX_BYTES of its messages (plus one) queued for its
 *     program: past that it is ended with TOO_FAR_BEHIND
 *     (sp_too_far_behind); a durable one detaches instead
 *     (subpath-sub.c).
 *  5. Every p, oof and SOW record passes the allow rules for its
 *     concrete topic (sp_acl_allow, subpath-acl.c) before anything else
 *     happens to it: a refused one is not logged in a bookmark store,
 *     leased or queued; a refused queue message's lease is returned
 *     upstream at once and its subscription ended (sp_queue_refused).
 */

#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amps.h"
#include "ampsipc-wire.h"
#include "bookmarkstore.h"
#include "conn.h"
#include "errmap.h"
#include "ipc.h"
#include "log.h"
#include "subpath.h"
#include "subpath-int.h"
#include "xmalloc.h"

/* Make room for the unescaped strings of a frame of len bytes. */
static void
sp_arena_reset(struct subpath *sp, size_t len)
{
	size_t	need = len + 2 * AMPS_F__COUNT + 64;

	if (need > sp->acap) {
		free(sp->arena);
		sp->arena = xmalloc(need);
		sp->acap = need;
	}
	sp->alen = 0;
}

/* A header field unescaped into the arena; NULL when absent or bad. */
static const char *
sp_get(struct subpath *sp, const struct amps_hdr *h, enum amps_field f)
{
	const struct amps_view	*v;
	char			*out;
	int			 n;

	if (!amps_hdr_has(h, f))
		return (NULL);
	v = amps_hdr_view(h, f);
	if (v == NULL || sp->acap - sp->alen < (size_t)v->len + 1)
		return (NULL);
	out = sp->arena + sp->alen;
	if (!v->esc) {
		memcpy(out, v->p, v->len);
		out[v->len] = '\0';
		n = (int)v->len;
	} else if ((n = amps_hdr_str(h, f, out, sp->acap - sp->alen)) < 0)
		return (NULL);
	sp->alen += (size_t)n + 1;
	return (out);
}

/*
 * A plain subscription whose program has more than SP_PLAIN_MAX_BYTES
 * of its messages unread: end it (docs/IPC.md §9).  Its unsent messages
 * leave the program's output, it is unsubscribed upstream (its leases
 * returned), and STREAM_END(TOO_FAR_BEHIND) goes ahead of the rest of
 * the program's output.  The program's other subscriptions and its
 * publishes go on.
 */
static void
sp_too_far_behind(struct subpath *sp, struct submgr_sub *s, size_t queued)
{
	struct ipc_client	*cl = s->client;
	uint32_t		 reqid = s->reqid;
	size_t			 dropped;
	char			 reason[160];

	dropped = ipc_client_drop_queued(cl, reqid);
	log_info("subscription %s: program pid %ld has %zu bytes of its "
	    "messages unread; ended (too far behind), %zu unsent dropped",
	    s->up_id, (long)ipc_client_pid(cl), queued, dropped);
	snprintf(reason, sizeof reason, "too far behind: more than %u MiB "
	    "of this subscription's messages unread",
	    SP_PLAIN_MAX_BYTES / (1024 * 1024));
	sp_drop_sub(sp, s, 0, NULL, 0);
	sp_stream_end_q(cl, reqid, AMPSIPC_E_TOO_FAR_BEHIND, reason, 1);
}

/* The ack bit of an ack frame (0 if unknown). */
static uint32_t
sp_ack_bit(const struct amps_hdr *h)
{
	const struct amps_view	*v = amps_hdr_view(h, AMPS_F_A);
	unsigned		 mask = 0;

	if (v == NULL || amps_ack_parse(v->p, v->len, &mask) != 0)
		return (0);
	return (mask);
}

/* Terminal acks of a command: after them it is forgotten. */
static uint32_t
sp_need(const struct submgr_cmd *c)
{
	return (c->up_acks & (AMPSIPC_ACK_PROCESSED | AMPSIPC_ACK_COMPLETED |
	    (c->cmd == AMPSIPC_CMD_SOW_DELETE || c->cmd == AMPSIPC_CMD_SOW ?
	    AMPSIPC_ACK_STATS : 0)));
}

/*
 * A periodic persisted ack of a bookmark subscription (PROTOCOL.md §8.4).  It
 * is not fed to the bookmark store (§8.6 rule 4 is optional): the server
 * may send it before the messages up to its bookmark reached us, and a
 * resume point moved there would then drop them as duplicates.  Only
 * forwarded when the program asked for persisted acks.  Returns 1 if it
 * was one and is done with.
 */
static int
sp_persisted(struct subpath *sp, uint32_t connid, const struct amps_hdr *h)
{
	struct submgr_sub	*s;
	const char		*sid, *bm;

	if ((sid = sp_get(sp, h, AMPS_F_SUB_ID)) == NULL ||
	    (bm = sp_get(sp, h, AMPS_F_BM)) == NULL ||
	    (s = submgr_sub_find(sp->sm, sid)) == NULL)
		return (0);
	return (!(s->user_acks & AMPSIPC_ACK_PERSISTED));
}

/* An ack from AMPS. */
static void
sp_ack(struct subpath *sp, uint32_t connid, const struct amps_hdr *h)
{
	static const enum amps_field stats_f[6] = { AMPS_F_MATCHES,
	    AMPS_F_TOPIC_MATCHES, AMPS_F_RECORDS_RETURNED,
	    AMPS_F_RECORDS_INSERTED, AMPS_F_RECORDS_UPDATED,
	    AMPS_F_RECORDS_DELETED };
	struct submgr_cmd	*c;
	struct submgr_sub	*s;
	struct sp_msg		 m;
	const char		*cid, *status;
	uint32_t		 bit;
	int			 ok, i;

	bit = sp_ack_bit(h);
	if (bit == AMPSIPC_ACK_PERSISTED && sp_persisted(sp, connid, h))
		return;
	if ((cid = sp_get(sp, h, AMPS_F_CID)) == NULL ||
	    (c = submgr_cmd_find(sp->sm, cid)) == NULL ||
	    c->connid != connid)
		return;
	status = sp_get(sp, h, AMPS_F_STATUS);
	ok = status == NULL || strcmp(status, "success") == 0;
	s = c->sub;
	if (c->flags & SUBMGR_CMD_DETACH) {	/* old messages are all in */
		submgr_cmd_remove(sp->sm, c);
		if (s != NULL) {
			s->flags &= ~SUBMGR_UNSUBBING;
			sp_resume(sp, s);
		}
		return;
	}
	memset(&m, 0, sizeof m);
	m.type = AMPSIPC_ACK;
	m.cmd = (uint32_t)c->cmd;
	m.ack = bit;
	m.status = ok ? AMPSIPC_STATUS_SUCCESS : AMPSIPC_STATUS_FAILURE;
	m.reason = sp_get(sp, h, AMPS_F_REASON);
	m.topic = sp_get(sp, h, AMPS_F_T);
	m.options = sp_get(sp, h, AMPS_F_O);
	m.bm = sp_get(sp, h, AMPS_F_BM);
	m.sub_id = c->local_id;
	m.query_id = c->query_id;
	m.connid = SP_CONF(sp, connid);
	for (i = 0; i < 6; i++)
		if (amps_hdr_u64(h, stats_f[i], &m.stats[i]) == 0)
			m.has_stats |= 1U << i;
	c->seen |= bit;
	if (!ok) {
		m.errcode = errmap_reason(m.reason);
		log_debug("subscription: %s %s failed: %s",
		    ipcwire_cmd_name((uint32_t)c->cmd), c->cid,
		    m.reason != NULL ? log_safe(m.reason, 100) : "-");
		if (c->flags & (SUBMGR_CMD_RESUB | SUBMGR_CMD_EARLY))
			sp_stream_end(sp, c->client, c->reqid, m.errcode,
			    m.reason != NULL ? m.reason : "resubscribe failed");
		else
			sp_send_msg(sp, c->client, c->reqid, &m);
		if (s != NULL && !(c->flags & SUBMGR_CMD_TRANSIENT))
			sp_drop_sub(sp, s, 0, NULL, 0);
		submgr_cmd_remove(sp->sm, c);
		return;
	}
	if (s != NULL && bit == AMPSIPC_ACK_PROCESSED) {
		s->granted = (uint32_t)submgr_opts_num(m.options,
		    "max_backlog", s->granted);
		m.backlog = s->granted;
	}
	if (s != NULL && bit == AMPSIPC_ACK_COMPLETED && s->durable != NULL &&
	    sp->conns[connid].bs != NULL)
		(void)bookmarkstore_live(sp->conns[connid].bs, s->durable, 1);
	if ((c->user_acks & bit) && !(c->flags & SUBMGR_CMD_RESUB) &&
	    !(bit == AMPSIPC_ACK_PROCESSED && (c->flags & SUBMGR_CMD_EARLY)) &&
	    !(s != NULL && bit == AMPSIPC_ACK_PROCESSED &&
	    (s->flags & SUBMGR_CONFIRMED) && !(c->flags &
	    SUBMGR_CMD_TRANSIENT)))
		sp_send_msg(sp, c->client, c->reqid, &m);
	if (s != NULL && bit == AMPSIPC_ACK_PROCESSED &&
	    !(c->flags & SUBMGR_CMD_TRANSIENT)) {
		s->flags |= SUBMGR_CONFIRMED;
		s->flags &= ~SUBMGR_EARLY;
	}
	if ((c->seen & sp_need(c)) == sp_need(c)) {
		if ((c->flags & SUBMGR_CMD_TRANSIENT) || c->sub == NULL)
			sp_stream_end(sp, c->client, c->reqid, 0, NULL);
		submgr_cmd_remove(sp->sm, c);
	}
}

/*
 * A queue message the allow rules refuse to s's program (invariant 5):
 * its lease goes back upstream at once, and the subscription ends, or
 * AMPS would offer the message to it again and again.
 */
static void
sp_queue_refused(struct subpath *sp, uint32_t connid, struct submgr_sub *s,
    const struct sp_msg *m)
{
	struct sp_up	u;

	memset(&u, 0, sizeof u);
	u.c = "sow_delete";
	u.t = m->topic != NULL ? m->topic : s->topic;
	u.bm = m->bm;
	u.o = "cancel";
	sp_send_up(sp, connid, &u);
	sp_drop_sub(sp, s, AMPSIPC_E_NOT_PERMITTED, "a queue message of a "
	    "topic the allow rules do not allow was returned; subscription "
	    "ended", 1);
}

/* One p / oof for subscription s. */
static void
sp_publish_one(struct subpath *sp, uint32_t connid, struct submgr_sub *s,
    struct sp_msg *m)
{
	struct sp_conn	*pc = &sp->conns[connid];
	size_t		 queued;
	int		 rc;

	if (s->client == NULL || s->connid != connid ||
	    (s->flags & SUBMGR_DETACHED))
		return;		/* detached: replayed after the resume */
	if (!sp_acl_allow(sp, s->client, connid, &s->acl, m->topic)) {
		if (m->lp != NULL && m->bm != NULL)
			sp_queue_refused(sp, connid, s, m);
		return;		/* never logged: a resume sends it again */
	}
	if (m->bm != NULL && m->cmd == AMPSIPC_CMD_PUBLISH) {
		if (s->durable != NULL && pc->bs != NULL) {
			rc = bookmarkstore_log(pc->bs, s->durable, m->bm,
			    strlen(m->bm));
			if (rc == BMTRACK_DUPLICATE) {
				s->duplicates++;
				return;
			}
		} else if (s->bookmark != NULL) {
			free(s->last_bm);
			s->last_bm = xstrdup(m->bm);
		}
		if (m->lp != NULL) {
			if (s->flags & SUBMGR_AUTO_ACK)
				sp_qack_add(sp, s, connid, m->topic != NULL ?
				    m->topic : s->topic, NULL, m->bm);
			else
				submgr_lease_add(s, m->topic, m->bm);
		}
	}
	m->sub_id = s->local_id;
	s->delivered++;
	sp_send_msg(sp, s->client, s->reqid, m);
	if (s->durable == NULL) {
		if ((queued = ipc_client_queued_req(s->client, s->reqid)) >
		    SP_PLAIN_MAX_BYTES)
			sp_too_far_behind(sp, s, queued);
		return;
	}
	if (s->durable != NULL && m->bm != NULL &&
	    m->cmd == AMPSIPC_CMD_PUBLISH) {
		submgr_flow_push(s, (uint32_t)m->len + 256);
		if (s->fcount > SP_FLOW_MSGS || s->fbytes > SP_FLOW_BYTES)
			sp_detach(sp, s);
	}
}

/* A p or oof: route by sids or sub_id. */
static void
sp_publish(struct subpath *sp, uint32_t connid, const struct amps_hdr *h,
    enum amps_cmd cmd, const char *data, size_t len)
{
	struct amps_list_iter	 it;
	struct submgr_sub	*s;
	struct sp_msg		 m;
	const char		*sids, *sid, *item;
	char			 one[600];
	size_t			 ilen;

	memset(&m, 0, sizeof m);
	m.type = AMPSIPC_MESSAGE;
	m.cmd = cmd == AMPS_CMD_OOF ? AMPSIPC_CMD_OOF : AMPSIPC_CMD_PUBLISH;
	m.topic = sp_get(sp, h, AMPS_F_T);
	m.data = data;
	m.len = len;
	m.x = sp_get(sp, h, AMPS_F_X);
	m.k = sp_get(sp, h, AMPS_F_K);
	m.bm = sp_get(sp, h, AMPS_F_BM);
	m.reason = cmd == AMPS_CMD_OOF ? sp_get(sp, h, AMPS_F_REASON) : NULL;
	m.ts = sp_get(sp, h, AMPS_F_TS);
	m.lp = sp_get(sp, h, AMPS_F_LP);
	m.user_id = sp_get(sp, h, AMPS_F_USER_ID);
	m.has_seq = amps_hdr_u64(h, AMPS_F_S, &m.seq) == 0;
	m.connid = SP_CONF(sp, connid);
	if ((sids = sp_get(sp, h, AMPS_F_SIDS)) != NULL) {
		amps_list_begin(&it, sids, strlen(sids));
		while (amps_list_next(&it, &item, &ilen) == 1) {
			if (ilen >= sizeof one)
				continue;
			memcpy(one, item, ilen);
			one[ilen] = '\0';
			if ((s = submgr_sub_find(sp->sm, one)) != NULL)
				sp_publish_one(sp, connid, s, &m);
		}
		return;
	}
	if ((sid = sp_get(sp, h, AMPS_F_SUB_ID)) != NULL &&
	    (s = submgr_sub_find(sp->sm, sid)) != NULL)
		sp_publish_one(sp, connid, s, &m);
	else
		sp->dropped++;
}

/* sow, group_begin, group_end: route by query_id to the command. */
static void
sp_query(struct subpath *sp, uint32_t connid, const struct amps_hdr *h,
    enum amps_cmd cmd, const char *data, size_t len)
{
	struct amps_sow_iter	 it;
	struct amps_hdr		 rec;
	struct submgr_cmd	*c;
	struct sp_msg		 m;
	const char		*qid, *rdata, *outer;
	size_t			 rlen, mark;

	if ((qid = sp_get(sp, h, AMPS_F_QUERY_ID)) == NULL)
		qid = sp_get(sp, h, AMPS_F_CID);
	if (qid == NULL || (c = submgr_cmd_find(sp->sm, qid)) == NULL ||
	    c->client == NULL) {
		sp->dropped++;
		return;
	}
	memset(&m, 0, sizeof m);
	m.type = AMPSIPC_MESSAGE;
	m.sub_id = c->local_id;
	m.query_id = c->query_id;
	m.connid = SP_CONF(sp, connid);
	if (cmd != AMPS_CMD_SOW) {
		m.cmd = cmd == AMPS_CMD_GROUP_BEGIN ? AMPSIPC_CMD_GROUP_BEGIN :
		    AMPSIPC_CMD_GROUP_END;
		m.topic = sp_get(sp, h, AMPS_F_T);
		m.data = "";
		sp_send_msg(sp, c->client, c->reqid, &m);
		return;
	}
	m.cmd = AMPSIPC_CMD_SOW;
	outer = sp_get(sp, h, AMPS_F_T);
	mark = sp->alen;
	/* The iterator wants the body with the outer header in front. */
	amps_sow_begin(&it, h, data - h->hdr_len, len + h->hdr_len);
	while (amps_sow_next(&it, &rec, &rdata, &rlen) == 1) {
		sp->alen = mark;
		/* The record's own topic, else the batch's (PROTOCOL.md §2.4). */
		if ((m.topic = sp_get(sp, &rec, AMPS_F_T)) == NULL)
			m.topic = outer;
		if (!sp_acl_allow(sp, c->client, connid, &c->acl, m.topic))
			continue;
		m.k = sp_get(sp, &rec, AMPS_F_K);
		m.x = sp_get(sp, &rec, AMPS_F_X);
		m.bm = sp_get(sp, &rec, AMPS_F_BM);
		m.ts = sp_get(sp, &rec, AMPS_F_TS);
		m.has_gseq = amps_hdr_u64(&rec, AMPS_F_GSEQ, &m.gseq) == 0;
		m.data = rdata;
		m.len = rlen;
		sp_send_msg(sp, c->client, c->reqid, &m);
	}
}

/* conn upcall: a frame from AMPS that is not the publish store's. */
void
subpath_frame(struct conn *c, const struct amps_hdr *h, const char *data,
    size_t len, void *arg)
{
	struct subpath	*sp = arg;
	uint32_t	 connid = conn_id(c);
	enum amps_cmd	 cmd = amps_hdr_cmd(h);

	sp_arena_reset(sp, h->hdr_len + len);
	switch (cmd) {
	case AMPS_CMD_ACK:
		sp_ack(sp, connid, h);
		break;
	case AMPS_CMD_PUBLISH:
	case AMPS_CMD_OOF:
		sp_publish(sp, connid, h, cmd, data, len);
		break;
	case AMPS_CMD_SOW:
	case AMPS_CMD_GROUP_BEGIN:
	case AMPS_CMD_GROUP_END:
		sp_query(sp, connid, h, cmd, data, len);
		break;
	default:
		log_debug("subscription: ignoring \"%s\" from AMPS",
		    amps_cmd_name(cmd));
		break;
	}
}
