/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * subpath-sub.c: one subscription's life upstream, and what programs say
 * about the messages they received (docs/DESIGN.md §3 "Subscription" and
 * "Queues").  Calls only subpath-out.c below it.
 *
 *   sp_send_sub  subscribe upstream (first time, or again after a
 *                reconnect or a detach), durable ones from their
 *                bookmark store, paused ones paused
 *   sp_drop_sub  end a subscription: its pending acks, then cancels of
 *                its leases, then the unsubscribe, then STREAM_END
 *   DISCARD    -> bookmarkstore_discard(); committed in the loop's flush
 *                 phase with the other stores, before any reply queued in
 *                 the same pass is written; also for a durable name whose
 *                 stream ended at a disconnect (the program still holds
 *                 and discards its messages)
 *   QUEUE_ACK  -> a lease the program holds is released and the ack
 *                 batched per (connection, topic, option) in qack.c, on
 *                 the leased message's topic (a bookmark the program
 *                 does not hold is refused, never sent); in the flush
 *                 phase what the connection's `queue-ack batch N timeout
 *                 DUR` makes due goes upstream as sow_delete with a
 *                 comma-joined bm (chunks of min(N, granted backlog));
 *                 a timer wakes the loop when the oldest pending ack is
 *                 DUR old.  Acks of a subscription whose unacked leases
 *                 plus pending acks reach its granted backlog are sent
 *                 at once (AMPS would stop delivering to it).
 *
 * Durable flow control (slow consumers):
 *
 *	attached --more than SP_FLOW_* delivered, not discarded--> detached
 *	   ^          (unsubscribed upstream; deliveries dropped)      |
 *	   +--- every delivered message discarded AND the unsubscribe -+
 *	        acked: resubscribed from the bookmark store (MOST_RECENT)
 *	        (sp_detach, sp_resume)
 *
 * Invariants:
 *  1. A detached subscription never delivers; nothing it drops was
 *     logged in the bookmark store, so the resumed replay sends it.
 *     No message of the old upstream subscription can arrive after the
 *     resume: the resume waits for the unsubscribe's ack.
 *  2. A queue ack waits upstream-bound at most its connection's
 *     timeout, and never while its subscription's backlog is full;
 *     cancel and expire go in the flush phase of their pass.
 *  3. A subscription's pending acks go upstream before its unsubscribe
 *     (sp_qack_flush_sub) and before a shutdown (subpath_stop); when the
 *     connection drops they are dropped (AMPS breaks the leases).
 */

#include "config.h"

#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "amps.h"
#include "ampsipc-wire.h"
#include "bmtrack.h"
#include "bookmarkstore.h"
#include "conf.h"
#include "conn.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "qack.h"
#include "subpath.h"
#include "subpath-int.h"
#include "xmalloc.h"

/*
 * Detach durable s: the program is behind (SP_FLOW_*).  The unsubscribe
 * asks for its processed ack: messages AMPS had already sent for the old
 * subscription arrive before that ack (one stream, in order) and are
 * dropped while detached.  Resuming before the ack would let them
 * through as live messages ahead of the replay, and the replay's older
 * messages would then be taken for duplicates and lost.
 */
void
sp_detach(struct subpath *sp, struct submgr_sub *s)
{
	struct submgr_cmd	*c;
	struct sp_up		 u;

	log_info("durable subscription %s: program pid %ld is %zu messages "
	    "(%llu bytes) behind; detached until it catches up",
	    log_safe(s->durable, 100), (long)ipc_client_pid(s->client),
	    s->fcount, (unsigned long long)s->fbytes);
	s->flags |= SUBMGR_DETACHED | SUBMGR_UNSUBBING;
	c = submgr_cmd_new(sp->sm, s->connid);
	c->client = s->client;
	c->reqid = s->reqid;
	c->cmd = AMPSIPC_CMD_UNSUBSCRIBE;
	c->flags = SUBMGR_CMD_DETACH;
	c->sub = s;
	c->up_acks = AMPSIPC_ACK_PROCESSED;
	memset(&u, 0, sizeof u);
	u.c = "unsubscribe";
	u.cid = c->cid;
	u.sub_id = s->up_id;
	u.acks = AMPSIPC_ACK_PROCESSED;
	sp_send_up(sp, s->connid, &u);
}

/*
 * Resume detached s once both hold: the program has discarded all it
 * was given, and AMPS acked the detach's unsubscribe.
 */
void
sp_resume(struct subpath *sp, struct submgr_sub *s)
{
	if (!(s->flags & SUBMGR_DETACHED) || s->fcount != 0 ||
	    (s->flags & SUBMGR_UNSUBBING))
		return;
	s->flags &= ~SUBMGR_DETACHED;
	log_info("durable subscription %s: program caught up; resuming from "
	    "the bookmark store", log_safe(s->durable, 100));
	if (sp->conns[s->connid].up)
		sp_send_sub(sp, s);
}

/*
 * A DISCARD for a durable name without a live subscription: a stream
 * ended by an upstream disconnect whose program still works through the
 * messages it had (or a subscription just unsubscribed).  The discard
 * must still reach the bookmark store, or the next MOST_RECENT would
 * bring those messages back.  The store of the connection that defines
 * the name takes it, if the sender may discard for it: no other program
 * has the name attached, and the sender is its recorded owner, root or
 * the daemon's own user (RELIABILITY.md finding 13, sp_durable_may).
 * Returns bookmarkstore_discard()'s result, -1 if no store knows the
 * name, -2 if another program has it attached, -3 if the sender's uid
 * may not (already answered NOT_PERMITTED).
 */
static int
sp_discard_orphan(struct subpath *sp, struct ipc_client *cl, uint32_t reqid,
    const char *name, const char *bm)
{
	size_t	i;

	for (i = 0; i < sp->nconns; i++) {
		if (!sp_store_has(sp, i, name))
			continue;
		if (submgr_sub_durable(sp->sm, name) != NULL)
			return (-2);
		if (!sp_durable_may(sp, cl, reqid, name, (int)i))
			return (-3);
		return (bookmarkstore_discard(sp->conns[i].bs, name, bm,
		    strlen(bm)));
	}
	return (-1);
}

/*
 * IPC DISCARD: a durable subscription processed a message.  A discard
 * that cannot be applied gets a (non-fatal) ERROR, never silence.
 */
int
subpath_discard(struct ipc_client *cl, const struct ipcwire_msg *m, void *arg)
{
	struct subpath		*sp = arg;
	struct submgr_sub	*s;
	const char		*bm = ipcwire_str(m, AMPSIPC_T_BOOKMARK);
	const char		*sid = ipcwire_str(m, AMPSIPC_T_SUB_ID);
	int			 rc;

	s = submgr_sub_local(sp->sm, ipc_client_id(cl), sid);
	if (s == NULL || s->durable == NULL ||
	    sp->conns[s->connid].bs == NULL) {
		rc = sp_discard_orphan(sp, cl, m->hdr.reqid, sid, bm);
		if (rc == -1)
			ipc_client_reply_error(cl, m->hdr.reqid,
			    AMPSIPC_E_COMMAND, "discard: no durable "
			    "subscription by that name delivered that "
			    "bookmark");
		else if (rc == -2)
			ipc_client_reply_error(cl, m->hdr.reqid,
			    AMPSIPC_E_NOT_PERMITTED, "discard: the durable "
			    "subscription is attached to another program");
		return (0);
	}
	rc = bookmarkstore_discard(sp->conns[s->connid].bs, s->durable, bm,
	    strlen(bm));
	if (rc == -1)
		ipc_client_reply_error(cl, m->hdr.reqid, AMPSIPC_E_COMMAND,
		    "discard: bookmark not delivered on this subscription");
	if (rc == 0 || rc == 1)
		submgr_flow_pop(s);
	sp_resume(sp, s);
	return (0);
}

/*
 * Batch acks (bm: one bookmark or a list) of owner s (may be NULL) on
 * connection connid, and urge them out when s would otherwise run out
 * of backlog: its unacked leases plus its pending acks reach the granted
 * backlog (or the backlog is unknown), and AMPS would stop delivering.
 */
void
sp_qack_add(struct subpath *sp, struct submgr_sub *s, uint32_t connid,
    const char *topic, const char *opt, const char *bm)
{
	struct qack_policy	pol;
	size_t			n;

	if (connid >= sp->nsess || topic == NULL || bm == NULL)
		return;
	/* Read each time: a reload changes queue-ack in place (live). */
	pol.batch = sp->conf->conns[SP_CONF(sp, connid)]->ack_batch;
	pol.timeout_ms = sp->conf->conns[SP_CONF(sp, connid)]->ack_timeout_ms;
	n = qack_add(sp->qa, connid, topic, opt, bm, &pol,
	    s != NULL ? s->granted : 0, s, loop_now_ms());
	if (s == NULL)
		return;
	s->qpending += (uint32_t)n;
	if (s->granted == 0 || s->nleases + s->qpending >= s->granted)
		qack_urge(sp->qa, s);
}

/*
 * The subscription of program cl holding the lease of bm, preferring s
 * (the one the program named); its lease is dropped and *topic set to
 * the leased message's topic (the caller frees it).  NULL if none of
 * the program's subscriptions holds it.
 */
static struct submgr_sub *
sp_lease_take(struct subpath *sp, struct ipc_client *cl,
    struct submgr_sub *s, const char *bm, char **topic)
{
	struct submgr_sub	*t;

	if (s != NULL && submgr_lease_drop(s, bm, topic))
		return (s);
	for (t = submgr_sub_first(sp->sm); t != NULL; t = t->next)
		if (t != s && t->client == cl && t->nleases > 0 &&
		    submgr_lease_drop(t, bm, topic))
			return (t);
	return (NULL);
}

/*
 * IPC QUEUE_ACK: ack, cancel or expire leased messages (batched).  Only
 * a lease the program holds is settled, with the leased message's topic
 * on the session that holds it, as AMPS settles only the leases of the
 * connection that sends the ack (PROTOCOL.md §10): another program's
 * lease, or one already settled or broken by a disconnect, is not sent
 * upstream, and the program gets one (non-fatal) ERROR for the frame.
 */
int
subpath_queue_ack(struct ipc_client *cl, const struct ipcwire_msg *m,
    void *arg)
{
	struct subpath		*sp = arg;
	struct amps_list_iter	 it;
	struct submgr_sub	*s = NULL, *owner;
	const char		*opt = ipcwire_str(m, AMPSIPC_T_OPTIONS);
	const char		*bm = ipcwire_str(m, AMPSIPC_T_BOOKMARK), *item;
	const char		*sid = ipcwire_str(m, AMPSIPC_T_SUB_ID);
	char			 one[1100], first[64], why[200], *topic;
	size_t			 ilen, refused = 0;

	if (opt != NULL && strcmp(opt, "cancel") != 0 &&
	    strcmp(opt, "expire") != 0)
	{
		ipc_client_reply_error(cl, m->hdr.reqid, AMPSIPC_E_COMMAND,
		    "queue ack option must be cancel or expire");
		return (0);
	}
	if (sid != NULL)
		s = submgr_sub_local(sp->sm, ipc_client_id(cl), sid);
	amps_list_begin(&it, bm, strlen(bm));
	while (amps_list_next(&it, &item, &ilen) == 1) {
		if (ilen == 0)
			continue;
		owner = NULL;
		if (ilen < sizeof one) {
			memcpy(one, item, ilen);
			one[ilen] = '\0';
			owner = sp_lease_take(sp, cl, s, one, &topic);
		}
		if (owner == NULL) {
			if (refused++ == 0)
				snprintf(first, sizeof first, "%.*s",
				    (int)(ilen < 40 ? ilen : 40), item);
			continue;
		}
		sp_qack_add(sp, owner, owner->connid, topic, opt, one);
		free(topic);
	}
	if (refused > 0) {
		snprintf(why, sizeof why, "queue ack: %zu bookmark(s) not "
		    "leased to this program (first %s): not sent to AMPS",
		    refused, first);
		log_debug("program %llu: %s",
		    (unsigned long long)ipc_client_id(cl), log_safe(why, 200));
		ipc_client_reply_error(cl, m->hdr.reqid,
		    AMPSIPC_E_NOT_PERMITTED, why);
	}
	return (0);
}

/* qack_take() callback: one sow_delete upstream; owners are lighter. */
static void
sp_qack_emit(uint32_t connid, const char *topic, const char *opt,
    const char *list, size_t n, void *const *owners, void *arg)
{
	struct submgr_sub	*s;
	struct sp_up		 u;
	size_t			 i;

	for (i = 0; i < n; i++)
		if ((s = owners[i]) != NULL && s->qpending > 0)
			s->qpending--;
	memset(&u, 0, sizeof u);
	u.c = "sow_delete";
	u.t = topic;
	u.bm = list;
	u.o = *opt != '\0' ? opt : NULL;
	log_trace(TRACE_CONN, "queue ack: %zu bookmark(s) on %s%s%s", n,
	    log_safe(topic, 100), *opt != '\0' ? " " : "", opt);
	sp_send_up(arg, connid, &u);
}

/* Send what is due, then wake up when the oldest pending ack is due. */
static void
sp_qack_run(struct subpath *sp)
{
	struct timeval	tv;
	uint64_t	now = loop_now_ms(), when;

	(void)qack_take(sp->qa, now, sp_qack_emit, sp);
	if (sp->qtimer == NULL)
		return;
	if (!qack_deadline(sp->qa, &when)) {
		evtimer_del(sp->qtimer);
		return;
	}
	when = when > now ? when - now : 1;
	tv.tv_sec = (time_t)(when / 1000);
	tv.tv_usec = (suseconds_t)(when % 1000) * 1000;
	evtimer_add(sp->qtimer, &tv);
}

/*
 * Before s goes away: the pending acks of its connection go upstream
 * now (its own, and any the program sent without a sub_id we could tie
 * to a lease: they may be for s).
 */
void
sp_qack_flush_sub(struct subpath *sp, struct submgr_sub *s)
{
	uint64_t	when;

	if (qack_deadline(sp->qa, &when)) {
		qack_urge_conn(sp->qa, s->connid);
		sp_qack_run(sp);
	}
	qack_forget(sp->qa, s);
	s->qpending = 0;
}

/* Timer: the oldest pending ack is due (sent in the flush phase). */
void
sp_qack_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	/* Nothing here: the flush phase after this pass sends it. */
}

/* Shutdown: every pending queue ack goes upstream now. */
void
subpath_stop(struct subpath *sp)
{
	size_t	i;

	for (i = 0; i < sp->nsess; i++)
		qack_urge_conn(sp->qa, (uint32_t)i);
	sp_qack_run(sp);
}

/* The loop's flush phase: send the queue acks that are due. */
void
subpath_flush(struct subpath *sp)
{
	sp_qack_run(sp);
}

/* Send the subscription s upstream (first time or again). */
void
sp_send_sub(struct subpath *sp, struct submgr_sub *s)
{
	struct sp_conn		*pc = &sp->conns[s->connid];
	struct submgr_cmd	*c;
	struct sp_up		 u;
	char			 bm[4096], extra[64], *opts = NULL, *prev;
	const char		*bmp = s->bookmark;
	int			 resub = (s->flags & SUBMGR_CONFIRMED) != 0;

	c = submgr_cmd_new(sp->sm, s->connid);
	c->client = s->client;
	c->reqid = s->reqid;
	c->cmd = s->cmd;
	c->sub = s;
	c->local_id = xstrdup(s->local_id);
	if (s->query_id != NULL)
		c->query_id = xstrdup(s->query_id);
	if (resub)
		c->flags |= SUBMGR_CMD_RESUB;
	else if (s->flags & SUBMGR_EARLY)
		c->flags |= SUBMGR_CMD_EARLY;
	if (s->durable != NULL && pc->bs != NULL) {
		if (resub || bmp == NULL || strcmp(bmp, "recent") == 0) {
			if (bookmarkstore_most_recent(pc->bs, s->durable,
			    BMTRACK_LIST, bm, sizeof bm) >= (int)sizeof bm)
				snprintf(bm, sizeof bm, "0");
			bmp = bm;
		}
		(void)bookmarkstore_live(pc->bs, s->durable, 0);
	} else if (resub && s->bookmark != NULL && s->last_bm != NULL)
		bmp = s->last_bm;
	c->user_acks = s->user_acks;
	c->up_acks = AMPSIPC_ACK_PROCESSED | (s->user_acks &
	    (AMPSIPC_ACK_RECEIVED | AMPSIPC_ACK_STATS));
	if (bmp != NULL || s->cmd == AMPSIPC_CMD_SOW_AND_SUBSCRIBE ||
	    s->cmd == AMPSIPC_CMD_SOW_AND_DELTA_SUBSCRIBE)
		c->up_acks |= AMPSIPC_ACK_COMPLETED;
	memset(&u, 0, sizeof u);
	u.c = ipcwire_cmd_name((uint32_t)s->cmd);
	u.cid = c->cid;
	u.t = s->topic;
	u.sub_id = s->up_id;
	if (s->cmd == AMPSIPC_CMD_SOW_AND_SUBSCRIBE ||
	    s->cmd == AMPSIPC_CMD_SOW_AND_DELTA_SUBSCRIBE)
		u.query_id = c->cid;
	u.f = s->filter;
	xasprintf(&opts, "%s", s->options != NULL ? s->options : "");
	if (s->max_backlog != 0) {
		snprintf(extra, sizeof extra, "max_backlog=%u", s->max_backlog);
		prev = opts;
		xasprintf(&opts, "%s%s%s", prev, *prev ? "," : "", extra);
		free(prev);
	}
	if (s->skip_n != 0) {
		snprintf(extra, sizeof extra, "skip_n=%u", s->skip_n);
		prev = opts;
		xasprintf(&opts, "%s%s%s", prev, *prev ? "," : "", extra);
		free(prev);
	}
	if (s->flags & SUBMGR_PAUSED) {	/* as the program left it */
		prev = opts;
		xasprintf(&opts, "%s%spause", prev, *prev ? "," : "");
		free(prev);
	}
	u.o = *opts != '\0' ? opts : NULL;
	u.bm = bmp;
	u.orderby = s->orderby;
	u.sow_keys = s->sow_keys;
	u.bs = s->bs;
	u.top_n = s->top_n;
	u.acks = c->up_acks;
	u.hdrs = s->hdrs;
	u.hlen = s->hlen;
	log_debug("connection %s: subscribe %s (%s) bm=%s%s", pc->name,
	    s->up_id, log_safe(s->topic != NULL ? s->topic : "", 100),
	    bmp != NULL ? log_safe(bmp, 200) : "-", resub ? " (again)" : "");
	sp_send_up(sp, s->connid, &u);
	free(opts);
}

/* Cancel s's leases upstream (chunk callback). */
struct sp_cancel_arg {
	struct subpath		*sp;
	struct submgr_sub	*s;
};

static void
sp_cancel_chunk(const char *topic, const char *list, void *arg)
{
	struct sp_cancel_arg	*a = arg;
	struct sp_up		 u;

	memset(&u, 0, sizeof u);
	u.c = "sow_delete";
	u.t = topic;
	u.bm = list;
	u.o = "cancel";
	sp_send_up(a->sp, a->s->connid, &u);
}

/*
 * End subscription s: cancel its leases and unsubscribe upstream, tell
 * the program (STREAM_END code/reason) if notify, and forget it.
 */
void
sp_drop_sub(struct subpath *sp, struct submgr_sub *s, uint32_t code,
    const char *reason, int notify)
{
	struct sp_cancel_arg	a;
	struct sp_up		u;

	/*
	 * A send below may fail the connection, and subpath_state() then
	 * runs at once: it leaves a sub being dropped to us.
	 */
	s->flags |= SUBMGR_DROPPING;
	/*
	 * Acks the program sent before this end must reach AMPS before the
	 * unsubscribe: AMPS returns an unsubscribed subscription's leased
	 * messages to the queue, and a later ack of them is too late.
	 */
	sp_qack_flush_sub(sp, s);	/* its acks before its cancels */
	if (s->nleases > 0) {
		a.sp = sp;
		a.s = s;
		log_debug("subscription %s: returning %zu leased message(s)",
		    s->up_id, s->nleases);
		submgr_lease_chunks(s, 1000, sp_cancel_chunk, &a);
	}
	memset(&u, 0, sizeof u);
	u.c = "unsubscribe";
	u.sub_id = s->up_id;
	sp_send_up(sp, s->connid, &u);
	if (notify)
		sp_stream_end(sp, s->client, s->reqid, code, reason);
	submgr_sub_remove(sp->sm, s);
}
