/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * subpath-queue.c: what programs say about messages they received
 * (architecture §3 "Subscription" and "Queues").
 *
 *   DISCARD    -> bookmarkstore_discard(); committed in the loop's flush
 *                 phase with the other stores, before any reply queued in
 *                 the same pass is written; also for a durable name whose
 *                 stream ended at a disconnect (the program still holds
 *                 and discards its messages)
 *   QUEUE_ACK  -> the lease is released and the ack batched; in the flush
 *                 phase each batch goes upstream as sow_delete with a
 *                 comma-joined bm, chunks capped at the granted backlog
 *
 * Durable flow control (slow consumers):
 *
 *	attached --more than SP_FLOW_* delivered, not discarded--> detached
 *	   ^          (unsubscribed upstream; deliveries dropped)      |
 *	   +------ every delivered message discarded: resubscribed ----+
 *	                from the bookmark store (MOST_RECENT)
 *
 * Invariants:
 *  1. A detached subscription never delivers; nothing it drops was
 *     logged in the bookmark store, so the resumed replay sends it.
 *  2. Queue acks of one pass reach AMPS in that pass's flush phase.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amps.h"
#include "ampsipc-wire.h"
#include "bmtrack.h"
#include "bookmarkstore.h"
#include "conn.h"
#include "ipc.h"
#include "log.h"
#include "subpath.h"
#include "subpath-int.h"

/* Detach durable s: the program is behind (SP_FLOW_*). */
void
sp_detach(struct subpath *sp, struct submgr_sub *s)
{
	struct sp_up	u;

	log_info("durable subscription %s: program pid %ld is %zu messages "
	    "(%llu bytes) behind; detached until it catches up",
	    log_safe(s->durable, 100), (long)ipc_client_pid(s->client),
	    s->fcount, (unsigned long long)s->fbytes);
	s->flags |= SUBMGR_DETACHED;
	memset(&u, 0, sizeof u);
	u.c = "unsubscribe";
	u.sub_id = s->up_id;
	sp_send_up(sp, s->connid, &u);
}

/*
 * A DISCARD for a durable name without a live subscription: a stream
 * ended by an upstream disconnect whose program still works through the
 * messages it had (or a subscription just unsubscribed).  The discard
 * must still reach the bookmark store, or the next MOST_RECENT would
 * bring those messages back.  The store of the connection that defines
 * the name takes it.  Returns bookmarkstore_discard()'s result, -1 if
 * no store knows the name.
 */
static int
sp_discard_orphan(struct subpath *sp, const char *name, const char *bm)
{
	size_t	i;

	for (i = 0; i < sp->nconns; i++) {
		if (sp->conns[i].bs == NULL || bmtrack_get(
		    bookmarkstore_tracker(sp->conns[i].bs), name) == NULL)
			continue;
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
subpath_discard(struct subpath *sp, struct ipc_client *cl,
    const struct ipc_cmd *m)
{
	struct submgr_sub	*s;
	const char		*bm = ipcwire_str(m, AMPSIPC_T_BOOKMARK);
	const char		*sid = ipcwire_str(m, AMPSIPC_T_SUB_ID);
	int			 rc;

	s = submgr_sub_local(sp->sm, ipc_client_id(cl), sid);
	if (s == NULL || s->durable == NULL ||
	    sp->conns[s->connid].bs == NULL) {
		if (sp_discard_orphan(sp, sid, bm) == -1)
			ipc_client_reply_error(cl, m->hdr.reqid,
			    AMPSIPC_E_COMMAND, "discard: no durable "
			    "subscription by that name delivered that "
			    "bookmark");
		return (0);
	}
	rc = bookmarkstore_discard(sp->conns[s->connid].bs, s->durable, bm,
	    strlen(bm));
	if (rc == -1)
		ipc_client_reply_error(cl, m->hdr.reqid, AMPSIPC_E_COMMAND,
		    "discard: bookmark not delivered on this subscription");
	if (rc == 0 || rc == 1)
		submgr_flow_pop(s);
	if ((s->flags & SUBMGR_DETACHED) && s->fcount == 0) {
		s->flags &= ~SUBMGR_DETACHED;
		log_info("durable subscription %s: program caught up; "
		    "resuming from the bookmark store",
		    log_safe(s->durable, 100));
		if (sp->conns[s->connid].up)
			sp_send_sub(sp, s);
	}
	return (0);
}

/* IPC QUEUE_ACK: ack, cancel or expire leased messages (batched). */
int
subpath_queue_ack(struct subpath *sp, struct ipc_client *cl,
    const struct ipc_cmd *m)
{
	struct amps_list_iter	 it;
	struct submgr_sub	*s = NULL, *t;
	const char		*opt = ipcwire_str(m, AMPSIPC_T_OPTIONS);
	const char		*bm = ipcwire_str(m, AMPSIPC_T_BOOKMARK), *item;
	const char		*sid = ipcwire_str(m, AMPSIPC_T_SUB_ID);
	char			 one[1100];
	size_t			 ilen;
	int			 connid;

	if (opt != NULL && strcmp(opt, "cancel") != 0 &&
	    strcmp(opt, "expire") != 0)
	{
		ipc_client_reply_error(cl, m->hdr.reqid, AMPSIPC_E_COMMAND,
		    "queue ack option must be cancel or expire");
		return (0);
	}
	if (sid != NULL)
		s = submgr_sub_local(sp->sm, ipc_client_id(cl), sid);
	if (s != NULL)
		connid = (int)s->connid;
	else if ((connid = sp_conn_of(sp, m)) < 0)
		return (AMPSIPC_E_NO_SUCH_CONNECTION);
	amps_list_begin(&it, bm, strlen(bm));
	while (amps_list_next(&it, &item, &ilen) == 1) {
		if (ilen >= sizeof one)
			continue;
		memcpy(one, item, ilen);
		one[ilen] = '\0';
		if (s != NULL)
			(void)submgr_lease_drop(s, one);
		else		/* no sub_id: whichever of its leases it is */
			for (t = submgr_sub_first(sp->sm); t != NULL;
			    t = t->next)
				if (t->client == cl && t->nleases > 0 &&
				    submgr_lease_drop(t, one))
					break;
	}
	submgr_qack_add(sp->sm, (uint32_t)connid,
	    ipcwire_str(m, AMPSIPC_T_TOPIC), opt, bm,
	    s != NULL ? s->granted : 0);
	return (0);
}

/* Flush-phase callback: one queue-ack chunk upstream. */
static void
sp_qack_cb(uint32_t connid, const char *topic, const char *opt,
    const char *list, void *arg)
{
	struct sp_up	u;

	memset(&u, 0, sizeof u);
	u.c = "sow_delete";
	u.t = topic;
	u.bm = list;
	u.o = *opt != '\0' ? opt : NULL;
	sp_send_up(arg, connid, &u);
}

/* The loop's flush phase: send the queue acks of this pass. */
void
subpath_flush(struct subpath *sp)
{
	(void)submgr_qack_take(sp->sm, sp_qack_cb, sp);
}
