/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsipc-sub.c: the receive path of libampsipc: command objects,
 * execute (handler style) and execute (stream style), routing of ACK,
 * MESSAGE and STREAM_END frames by request id, and unsubscribe.  Queue
 * acks, discards and the extra handlers are in ampsipc-ack.c.
 *
 * It owns: the handle's route list (struct ampsipc_route) and the
 * streams hanging off routes.
 *
 * Route life:
 *
 *	execute --> WAITING --processed ack--> RUNNING --STREAM_END--> ENDED
 *	               |  \--failure ack / ERROR-----------------------^
 *	               \--(async, no wait) RUNNING
 *	ENDED/unsubscribed --> dead --> freed at the next sweep (outside
 *	dispatch), except a stream's route, freed with the stream.
 *
 * Invariants:
 *  1. A route is never freed while ampsipc_dispatch() runs (handlers may
 *     unsubscribe their own route), nor while execute waits on it
 *     (pinned); dead routes are swept afterwards.
 *  2. A message is delivered to at most one route: the one whose reqid
 *     the daemon tagged it with; an unknown reqid goes to the
 *     last-chance handler.
 *  3. Acks are delivered only when the program asked for that ack type;
 *     the processed ack is always requested so execute can report
 *     failures.
 *  4. Streams hold deep copies (ampsipc-stream.c); handlers see
 *     pointers into the read buffer, valid until they return.
 *  5. A stream with a max depth is counted in h->nfull exactly while
 *     it holds that many messages (stream_depth after every push and
 *     pop, and at close), so reading resumes once it has room.
 */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ampsipc-int.h"

#define SUB_DEFAULT_TIMEOUT	10000	/* ms */
/*
 * How much longer than its timeout execute waits for the daemon's
 * answer: the daemon answers a command that waits for the upstream
 * connection itself, at the timeout, saying why (docs/IPC.md §5).
 */
#define SUB_GRACE		2000	/* ms */

_Static_assert(AMPSIPC_C_SUBSCRIBE == AMPSIPC_CMD_SUBSCRIBE &&
    AMPSIPC_C_GROUP_END == AMPSIPC_CMD_GROUP_END &&
    AMPSIPC_C_SOW_DELETE == AMPSIPC_CMD_SOW_DELETE &&
    AMPSIPC_FIELD_TOPIC == AMPSIPC_T_TOPIC &&
    AMPSIPC_FIELD_MAX_BACKLOG == AMPSIPC_T_MAX_BACKLOG &&
    AMPSIPC_FIELD_SKIP_N == AMPSIPC_T_SKIP_N &&
    AMPSIPC_FIELD_TIMEOUT == AMPSIPC_T_TIMEOUT_MS,
    "public command and field numbers match the wire");

/* Whether cmd starts a subscription (messages until unsubscribed). */
int
ipclib_is_subscribe(int cmd)
{
	return (cmd == AMPSIPC_C_SUBSCRIBE || cmd == AMPSIPC_C_DELTA_SUBSCRIBE ||
	    cmd == AMPSIPC_C_SOW_AND_SUBSCRIBE ||
	    cmd == AMPSIPC_C_SOW_AND_DELTA_SUBSCRIBE);
}

/* Fill: COMMAND from a command object. */
void
ipclib_sub_fill(struct ipcwire_enc *e, void *buf, size_t cap, uint32_t reqid,
    const void *arg)
{
	const struct ampsipc_command	*c = arg;
	uint32_t			 cf = 0, acks;
	int				 t;

	ipcwire_begin(e, buf, cap, AMPSIPC_COMMAND, 0, reqid);
	ipcwire_put_u32(e, AMPSIPC_T_CMD, (uint32_t)c->cmd);
	if (c->has_data)
		ipcwire_put_bytes(e, AMPSIPC_T_DATA, c->data, c->len);
	if (c->hlen > 0)
		ipcwire_put_bytes(e, AMPSIPC_T_HEADERS, c->hdrs, c->hlen);
	for (t = 0; t < AMPSIPC_T_LIMIT; t++) {
		if (c->strs[t] != NULL)
			ipcwire_put_str(e, (uint16_t)t, c->strs[t]);
		if (t == AMPSIPC_T_ACK_TYPES) {
			acks = (uint32_t)c->nums[t];
			if (c->cmd != AMPSIPC_C_UNSUBSCRIBE)
				acks |= AMPSIPC_ACK_PROCESSED;
			if (c->cmd == AMPSIPC_C_SOW_DELETE)
				acks |= AMPSIPC_ACK_STATS;
			ipcwire_put_u32(e, (uint16_t)t, acks);
		} else if (t == AMPSIPC_T_CMD_FLAGS) {
			if (c->flags & AMPSIPC_CMDF_DURABLE)
				cf |= AMPSIPC_CF_DURABLE;
			if (c->flags & 0x100)	/* internal: a stream */
				cf |= AMPSIPC_CF_STREAM;
			if (cf != 0)
				ipcwire_put_u32(e, AMPSIPC_T_CMD_FLAGS, cf);
		} else if (t == AMPSIPC_T_TIMEOUT_MS) {
			if (c->send_timeout >= 0)
				ipcwire_put_u32(e, (uint16_t)t,
				    (uint32_t)c->send_timeout);
		} else if (c->nums_set & (UINT64_C(1) << t))
			ipcwire_put_u32(e, (uint16_t)t, (uint32_t)c->nums[t]);
	}
}

/* Find the live route for reqid. */
struct ampsipc_route *
ipclib_route_find(struct ampsipc *h, uint32_t reqid)
{
	struct ampsipc_route	*rt;

	if ((rt = h->last_route) != NULL && rt->reqid == reqid && !rt->dead)
		return (rt);
	for (rt = h->routes; rt != NULL; rt = rt->next)
		if (rt->reqid == reqid && !rt->dead) {
			h->last_route = rt;
			return (rt);
		}
	return (NULL);
}

/* Tell the exception listener. */
static void
sub_exception(struct ampsipc *h, int code, const char *text)
{
	if (h->exc_cb != NULL)
		h->exc_cb(h, code, text, h->exc_arg);
}

/* End a route with code (0: a normal end). */
void
ipclib_route_end(struct ampsipc *h, struct ampsipc_route *rt, int code,
    const char *text)
{
	if (rt->ended)
		return;
	rt->ended = 1;
	rt->acked = 1;
	rt->code = code;
	free(rt->text);
	rt->text = strdup(text != NULL ? text : "");
	if (rt->stream == NULL)
		rt->dead = 1;
	if (code != 0)
		sub_exception(h, code, text != NULL ? text : "");
}

/* Tell the program a handler route's arg is no longer used. */
static void
sub_release(struct ampsipc *h, ampsipc_msg_handler fn, void *arg)
{
	if (fn != NULL && h->release_cb != NULL)
		h->release_cb(h, arg);
}

/* Wait condition: the route's processed ack (or its end) came. */
int
ipclib_route_acked(struct ampsipc *h, void *arg)
{
	return (((struct ampsipc_route *)arg)->acked);
}

/* Send cmd with a new route; wait for the processed ack if asked. */
static struct ampsipc_route *
sub_start(struct ampsipc *h, struct ampsipc_command *c, ampsipc_msg_handler fn,
    void *arg, struct ampsipc_stream *st)
{
	struct ampsipc_route	*rt;
	char			 idbuf[16];
	uint32_t		 reqid;
	int64_t			 timeout = SUB_DEFAULT_TIMEOUT;
	int			 rc;

	if (h->fd == -1) {
		ipclib_fail(h, AMPSIPC_E_USAGE, ENOTCONN, "not connected");
		sub_release(h, fn, arg);
		return (NULL);
	}
	if (h->flags & AMPSIPC_BROKEN) {
		sub_release(h, fn, arg);
		errno = ECONNRESET;
		return (NULL);
	}
	if ((ipclib_is_subscribe(c->cmd) || c->cmd == AMPSIPC_C_PUBLISH ||
	    c->cmd == AMPSIPC_C_DELTA_PUBLISH) &&
	    (c->strs[AMPSIPC_T_TOPIC] == NULL ||
	    c->strs[AMPSIPC_T_TOPIC][0] == '\0') &&
	    (c->strs[AMPSIPC_T_OPTIONS] == NULL ||
	    (strstr(c->strs[AMPSIPC_T_OPTIONS], "pause") == NULL &&
	    strstr(c->strs[AMPSIPC_T_OPTIONS], "resume") == NULL) ||
	    !ipclib_is_subscribe(c->cmd))) {
		ipclib_fail(h, AMPSIPC_E_INVALID_TOPIC, EINVAL,
		    "%s needs a topic", ipclib_is_subscribe(c->cmd) ?
		    "a subscription" : "a publish");
		sub_release(h, fn, arg);
		return (NULL);
	}
	if ((rt = calloc(1, sizeof *rt)) == NULL) {
		ipclib_fail(h, AMPSIPC_E_SYSTEM, ENOMEM, "out of memory");
		sub_release(h, fn, arg);
		return (NULL);
	}
	reqid = ipclib_reqid(h);
	if (ipclib_is_subscribe(c->cmd) && c->strs[AMPSIPC_T_SUB_ID] == NULL) {
		snprintf(idbuf, sizeof idbuf, "%u", reqid);
		if (ampsipc_cmd_set_str(c, AMPSIPC_FIELD_SUB_ID, idbuf) == -1)
			goto nomem;
	}
	if (c->strs[AMPSIPC_T_SUB_ID] != NULL &&
	    (rt->sub_id = strdup(c->strs[AMPSIPC_T_SUB_ID])) == NULL)
		goto nomem;
	if (c->cmd_id != NULL && (rt->cmd_id = strdup(c->cmd_id)) == NULL)
		goto nomem;
	rt->reqid = reqid;
	rt->cmd = c->cmd;
	rt->flags = c->flags;
	rt->user_acks = (int)c->nums[AMPSIPC_T_ACK_TYPES];
	if (c->cmd == AMPSIPC_C_SOW_DELETE)	/* returns the stats ack */
		rt->user_acks |= AMPSIPC_ACK_STATS;
	rt->fn = fn;
	rt->arg = arg;
	rt->stream = st;
	if (c->nums_set & (UINT64_C(1) << AMPSIPC_T_TIMEOUT_MS))
		timeout = (int64_t)c->nums[AMPSIPC_T_TIMEOUT_MS];
	if (c->cmd == AMPSIPC_C_UNSUBSCRIBE)
		timeout = 0;
	/* The daemon may wait that long for the upstream connection
	 * (a negative timeout: as long as it takes). */
	if (timeout > 0)
		c->send_timeout = timeout > (int64_t)UINT32_MAX ?
		    (int64_t)UINT32_MAX : timeout;
	else
		c->send_timeout = timeout < 0 ? (int64_t)UINT32_MAX : -1;
	if (st != NULL)
		c->flags |= 0x100;
	if (c->cmd == AMPSIPC_C_PUBLISH || c->cmd == AMPSIPC_C_DELTA_PUBLISH ||
	    c->cmd == AMPSIPC_C_FLUSH)
		rc = ipclib_cmd_send(h, c, rt);
	else
		rc = ipclib_queue(h, reqid, ipclib_sub_fill, c);
	c->flags &= ~0x100;
	if (rc == -1) {
		ipclib_route_free(h, rt);
		return (NULL);
	}
	rt->next = h->routes;
	h->routes = rt;
	if (ipclib_is_subscribe(c->cmd))
		ipclib_sub_record(h, rt, c);	/* for an ampsd restart */
	if (c->cmd == AMPSIPC_C_PUBLISH || c->cmd == AMPSIPC_C_DELTA_PUBLISH)
		timeout = 0;	/* returns once written, as in AMPS */
	if (timeout == 0 || (h->flags & AMPSIPC_DISPATCHING)) {
		if (h->outlen - h->outoff > AMPSIPC_OUT_EAGER)
			(void)ampsipc_write(h);
		return (rt);
	}
	rt->pinned = 1;		/* not swept while we wait on it */
	rc = ipclib_wait_until(h, timeout < 0 ? -1 : timeout > INT32_MAX -
	    SUB_GRACE ? INT32_MAX : (int)timeout + SUB_GRACE, ipclib_route_acked, rt);
	rt->pinned = 0;
	if (rc == -1 && h->err == AMPSIPC_E_TIMED_OUT)
		ipclib_fail(h, AMPSIPC_E_TIMED_OUT, 0, "no processed ack from "
		    "AMPS within %lld ms (ampsd passed the command on)",
		    (long long)timeout);
	if (rc == -1) {
		/* The daemon may still place it: take it back. */
		if (ipclib_is_subscribe(rt->cmd) && rt->sub_id != NULL &&
		    !(h->flags & AMPSIPC_BROKEN)) {
			int	saved = h->err, saved_errno = errno;
			char	msg[sizeof h->errmsg];

			memcpy(msg, h->errmsg, sizeof msg);
			(void)ampsipc_unsubscribe(h, rt->sub_id, 0);
			h->err = saved;
			memcpy(h->errmsg, msg, sizeof msg);
			errno = saved_errno;
		}
		rt->dead = 1;
		rt->stream = NULL;
		ipclib_sub_sweep(h);
		return (NULL);
	}
	if (rt->ended && rt->code != 0) {
		ipclib_fail(h, rt->code, 0, "%s", rt->text);
		rt->dead = 1;
		rt->stream = NULL;
		ipclib_sub_sweep(h);
		return (NULL);
	}
	return (rt);

nomem:
	rt->fn = fn;
	rt->arg = arg;
	ipclib_route_free(h, rt);
	ipclib_fail(h, AMPSIPC_E_SYSTEM, ENOMEM, "out of memory");
	return (NULL);
}

/* Execute with a handler. */
int
ampsipc_execute_async(struct ampsipc *h, struct ampsipc_command *c,
    ampsipc_msg_handler fn, void *arg)
{
	return (sub_start(h, c, fn, arg, NULL) != NULL ? 0 : -1);
}

/* Execute as a stream. */
struct ampsipc_stream *
ampsipc_execute(struct ampsipc *h, struct ampsipc_command *c)
{
	struct ampsipc_stream	*st;
	struct ampsipc_route	*rt;

	if ((st = calloc(1, sizeof *st)) == NULL) {
		ipclib_fail(h, AMPSIPC_E_SYSTEM, ENOMEM, "out of memory");
		return (NULL);
	}
	st->h = h;
	st->conflate = (c->flags & AMPSIPC_CMDF_CONFLATE) != 0;
	if ((rt = sub_start(h, c, NULL, NULL, st)) == NULL) {
		ipclib_sq_clear(&st->sq);
		free(st);
		return (NULL);
	}
	st->rt = rt;
	return (st);
}

/* Decode a MESSAGE or ACK into the public form (strings never NULL). */
void
ipclib_msg_from_wire(struct ampsipc_message *m, const struct ipcwire_msg *w)
{
	const char	*s;
	size_t		 len = 0;

#define STR(tag)	((s = ipcwire_str(w, AMPSIPC_T_##tag)) != NULL ? s : "")
	memset(m, 0, sizeof *m);
	m->command = (int)ipcwire_num(w, AMPSIPC_T_CMD, 0);
	if (w->hdr.type == AMPSIPC_ACK)
		m->command = AMPSIPC_C_ACK;
	m->topic = STR(TOPIC);
	m->data = ipcwire_bytes(w, AMPSIPC_T_DATA, &len);
	if (m->data == NULL)
		m->data = "";
	m->len = len;
	m->sub_id = STR(SUB_ID);
	m->sub_ids = STR(SUB_IDS);
	m->query_id = STR(QUERY_ID);
	m->bookmark = STR(BOOKMARK);
	m->sow_key = STR(SOW_KEY);
	m->correlation_id = STR(CORRELATION_ID);
	m->timestamp = STR(TIMESTAMP);
	m->lease_period = STR(LEASE_PERIOD);
	m->user_id = STR(USER_ID);
	m->reason = STR(REASON);
	m->options = STR(OPTIONS);
	m->command_id = "";
#undef STR
	m->ack_type = (int)ipcwire_num(w, AMPSIPC_T_ACK_TYPES, 0);
	m->status = (int)ipcwire_num(w, AMPSIPC_T_STATUS, 0);
	m->error = (int)ipcwire_num(w, AMPSIPC_T_ERRCODE, 0);
	m->conn_id = (uint32_t)ipcwire_num(w, AMPSIPC_T_CONN_ID, 0);
	m->max_backlog = (uint32_t)ipcwire_num(w, AMPSIPC_T_MAX_BACKLOG, 0);
	m->seq = ipcwire_num(w, AMPSIPC_T_SEQ, 0);
	m->group_seq = ipcwire_num(w, AMPSIPC_T_GROUP_SEQ, 0);
	m->matches = ipcwire_num(w, AMPSIPC_T_MATCHES, 0);
	m->topic_matches = ipcwire_num(w, AMPSIPC_T_TOPIC_MATCHES, 0);
	m->records_returned = ipcwire_num(w, AMPSIPC_T_RECORDS_RETURNED, 0);
	m->records_inserted = ipcwire_num(w, AMPSIPC_T_RECORDS_INSERTED, 0);
	m->records_updated = ipcwire_num(w, AMPSIPC_T_RECORDS_UPDATED, 0);
	m->records_deleted = ipcwire_num(w, AMPSIPC_T_RECORDS_DELETED, 0);
}

/* After a handler: auto-ack / auto-discard (PROTOCOL.md §10.5). */
static void
sub_after(struct ampsipc *h, struct ampsipc_route *rt,
    const struct ampsipc_message *m, int rc)
{
	if (m->command != AMPSIPC_C_PUBLISH)
		return;
	if ((rt->flags & AMPSIPC_CMDF_AUTO_ACK) && m->lease_period[0] != '\0')
		(void)ampsipc_ack(h, m, rc == 0 ? NULL : "cancel");
	if ((rt->flags & AMPSIPC_CMDF_AUTO_DISCARD) && rc == 0 &&
	    (rt->flags & AMPSIPC_CMDF_DURABLE))
		(void)ampsipc_discard(h, m);
}

/* Count the stream in h->nfull while it holds its max depth. */
static void
stream_depth(struct ampsipc_stream *st)
{
	int	full = st->max_depth > 0 && st->sq.count >= st->max_depth;

	if (full == st->full || st->h == NULL)
		return;
	st->full = full;
	if (full)
		st->h->nfull++;
	else
		st->h->nfull--;
}

/* Hand one message to its route (handler or stream). */
int
ipclib_route_deliver(struct ampsipc *h, struct ampsipc_route *rt,
    const struct ampsipc_message *m)
{
	struct ipclib_qmsg	*q;
	int			 rc;

	if (rt->stream != NULL) {
		if ((q = ipclib_qmsg_copy(m, rt->reqid)) == NULL)
			return (ipclib_fail(h, AMPSIPC_E_SYSTEM, ENOMEM,
			    "out of memory"));
		if (ipclib_sq_push(&rt->stream->sq, q,
		    rt->stream->conflate) == -1) {
			free(q);
			return (ipclib_fail(h, AMPSIPC_E_SYSTEM, ENOMEM,
			    "out of memory"));
		}
		stream_depth(rt->stream);
		return (0);
	}
	if (rt->fn == NULL)
		return (0);
	rc = rt->fn(h, m, rt->arg);
	if (rc != 0)
		sub_exception(h, AMPSIPC_E_UNKNOWN, "message handler failed");
	sub_after(h, rt, m, rc);
	return (0);
}

/* An ERROR frame for reqid: fail its route.  1 if a route took it. */
int
ipclib_sub_error(struct ampsipc *h, uint32_t reqid, int code,
    const char *reason)
{
	struct ampsipc_route	*rt;

	if ((rt = ipclib_route_find(h, reqid)) == NULL)
		return (0);
	ipclib_route_end(h, rt, code, reason);
	return (1);
}

/* ACK, MESSAGE and STREAM_END frames.  Returns 0 or -1 (fatal). */
int
ipclib_sub_frame(struct ampsipc *h, const struct ipcwire_msg *w)
{
	struct ampsipc_route	*rt;
	struct ampsipc_message	 m;
	const char		*reason;
	int			 code;

	rt = ipclib_route_find(h, w->hdr.reqid);
	if (w->hdr.type == AMPSIPC_STREAM_END) {
		if (rt == NULL)
			return (0);
		code = (int)ipcwire_num(w, AMPSIPC_T_ERRCODE, 0);
		reason = ipcwire_str(w, AMPSIPC_T_REASON);
		if (code != 0 && rt->stream == NULL && rt->fn != NULL &&
		    !rt->ended) {
			/* The daemon ended it: the handler hears why. */
			ipclib_msg_from_wire(&m, w);
			m.command = AMPSIPC_C_END;
			m.sub_id = rt->sub_id != NULL ? rt->sub_id : "";
			m.error = code;
			(void)rt->fn(h, &m, rt->arg);
		}
		ipclib_route_end(h, rt, code, reason != NULL ? reason :
		    ampsipc_strerror(code));
		return (0);
	}
	ipclib_msg_from_wire(&m, w);
	if (rt != NULL && rt->cmd_id != NULL)
		m.command_id = rt->cmd_id;
	if (rt == NULL) {
		if (h->lastchance_cb != NULL)
			(void)h->lastchance_cb(h, &m, h->lastchance_arg);
		return (0);
	}
	if (w->hdr.type == AMPSIPC_ACK) {
		if (m.ack_type & AMPSIPC_ACK_PROCESSED)
			rt->acked = 1;
		if (rt->resub && m.ack_type == AMPSIPC_ACK_PROCESSED &&
		    m.status == AMPSIPC_STATUS_SUCCESS) {
			rt->resub = 0;	/* re-entered after an ampsd restart */
			return (0);
		}
		if (m.status != AMPSIPC_STATUS_SUCCESS) {
			code = m.error != 0 ? m.error : AMPSIPC_E_COMMAND;
			if (rt->user_acks & m.ack_type)
				(void)ipclib_route_deliver(h, rt, &m);
			ipclib_route_end(h, rt, code, m.reason[0] != '\0' ? m.reason :
			    ampsipc_strerror(code));
			return (0);
		}
		if (!(rt->user_acks & m.ack_type))
			return (0);
	} else
		ipclib_sub_note_bm(rt, &m);
	return (ipclib_route_deliver(h, rt, &m));
}

/* Free one unlinked route, releasing its handler's arg. */
void
ipclib_route_free(struct ampsipc *h, struct ampsipc_route *rt)
{
	sub_release(h, rt->fn, rt->arg);
	free(rt->sub_id);
	free(rt->cmd_id);
	free(rt->text);
	free(rt->last_bm);
	ampsipc_cmd_free(rt->def);
	free(rt);
}

/* Free routes marked dead (never during dispatch: invariant 1). */
void
ipclib_sub_sweep(struct ampsipc *h)
{
	struct ampsipc_route	**rp, *rt;

	if (h->flags & AMPSIPC_DISPATCHING)
		return;
	h->last_route = NULL;
	for (rp = &h->routes; (rt = *rp) != NULL;) {
		if (rt->dead && rt->stream == NULL && !rt->pinned) {
			*rp = rt->next;
			ipclib_route_free(h, rt);
		} else
			rp = &rt->next;
	}
}

/* At close: free every route and detach streams. */
void
ipclib_sub_free(struct ampsipc *h)
{
	struct ampsipc_route	*rt;

	while ((rt = h->routes) != NULL) {
		h->routes = rt->next;
		if (rt->stream != NULL) {
			/* The stream outlives the handle only as an ended
			 * stream; the program must still close it. */
			rt->stream->rt = NULL;
			rt->stream->h = NULL;
		}
		ipclib_route_free(h, rt);
	}
	h->last_route = NULL;
}

/* Wait condition: the stream has a message or is over. */
static int
sub_stream_ready(struct ampsipc *h, void *arg)
{
	struct ampsipc_stream	*st = arg;

	return (st->sq.count > 0 || st->rt == NULL || st->rt->ended);
}

/* Next message of a stream. */
int
ampsipc_stream_next(struct ampsipc_stream *st,
    const struct ampsipc_message **mp, int timeout_ms)
{
	struct ampsipc		*h = st->h;
	struct ampsipc_route	*rt = st->rt;

	*mp = NULL;
	if (st->cur != NULL) {
		if (h != NULL && rt != NULL && !(h->flags & AMPSIPC_BROKEN))
			sub_after(h, rt, &st->cur->m, 0);
		free(st->cur);
		st->cur = NULL;
	}
	if (st->sq.count == 0 && h != NULL && rt != NULL && !rt->ended) {
		if (ipclib_wait_until(h, timeout_ms, sub_stream_ready,
		    st) == -1) {
			if (h->err == AMPSIPC_E_TIMED_OUT)
				return (0);
			return (-1);
		}
	}
	if ((st->cur = ipclib_sq_pop(&st->sq)) != NULL) {
		stream_depth(st);
		*mp = &st->cur->m;
		return (1);
	}
	if (rt == NULL || h == NULL) {
		errno = ECONNRESET;
		return (-1);
	}
	if (rt->code != 0) {
		ipclib_fail(h, rt->code, 0, "%s", rt->text != NULL ?
		    rt->text : "");
		return (-1);
	}
	h->err = AMPSIPC_E_OK;
	h->errmsg[0] = '\0';
	errno = 0;
	return (-1);
}

/* Conflate from now on. */
void
ampsipc_stream_conflate(struct ampsipc_stream *st)
{
	st->conflate = 1;
}

/* Messages waiting. */
size_t
ampsipc_stream_pending(const struct ampsipc_stream *st)
{
	return (st->sq.count);
}

/* Hold reading while the stream holds n messages (0: no bound). */
void
ampsipc_stream_max_depth(struct ampsipc_stream *st, size_t n)
{
	st->max_depth = n;
	stream_depth(st);
}

/* Unsubscribe if running; free. */
void
ampsipc_stream_close(struct ampsipc_stream *st)
{
	struct ampsipc	*h;

	if (st == NULL)
		return;
	h = st->h;
	if (st->rt != NULL) {
		if (!st->rt->ended && ipclib_is_subscribe(st->rt->cmd) &&
		    st->rt->sub_id != NULL && h != NULL &&
		    !(h->flags & AMPSIPC_BROKEN))
			(void)ampsipc_unsubscribe(h, st->rt->sub_id, 0);
		st->rt->stream = NULL;
		st->rt->dead = 1;
		if (h != NULL)
			ipclib_sub_sweep(h);
	}
	st->max_depth = 0;	/* no longer holds reading */
	stream_depth(st);
	free(st->cur);
	ipclib_sq_clear(&st->sq);
	free(st);
}

/* Whether id is in the comma list (or the list is "all"). */
static int
sub_in_list(const char *list, const char *id)
{
	size_t	n = strlen(id);
	const char *p = list;

	if (strcmp(list, "all") == 0)
		return (1);
	while (*p != '\0') {
		if (strncmp(p, id, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return (1);
		if ((p = strchr(p, ',')) == NULL)
			break;
		p++;
	}
	return (0);
}

/* Fill: COMMAND unsubscribe. */
static void
sub_fill_unsub(struct ipcwire_enc *e, void *buf, size_t cap,
    uint32_t reqid, const void *arg)
{
	ipcwire_begin(e, buf, cap, AMPSIPC_COMMAND, 0, reqid);
	ipcwire_put_u32(e, AMPSIPC_T_CMD, AMPSIPC_CMD_UNSUBSCRIBE);
	ipcwire_put_str(e, AMPSIPC_T_SUB_ID, arg);
}

/*
 * The awaited request's outcome: 0, or -1 with its error code and the
 * daemon's reason (copied first: h->errmsg is also the destination).
 */
static int
sub_wait_result(struct ampsipc *h)
{
	char	msg[sizeof h->errmsg];

	if (h->wait.code == 0)
		return (0);
	snprintf(msg, sizeof msg, "%s", h->errmsg);
	return (ipclib_fail(h, h->wait.code, 0, "%s", msg));
}

struct sub_durable_arg {
	const char	*name;
	const char	*conn;
	int		 force;
};

/* Fill: COMMAND unsubscribe of a durable name (an operator's). */
static void
sub_fill_unsub_durable(struct ipcwire_enc *e, void *buf, size_t cap,
    uint32_t reqid, const void *arg)
{
	const struct sub_durable_arg	*a = arg;

	ipcwire_begin(e, buf, cap, AMPSIPC_COMMAND, 0, reqid);
	ipcwire_put_u32(e, AMPSIPC_T_CMD, AMPSIPC_CMD_UNSUBSCRIBE);
	if (a->conn != NULL)
		ipcwire_put_str(e, AMPSIPC_T_CONN, a->conn);
	if (a->force)
		ipcwire_put_str(e, AMPSIPC_T_OPTIONS, "force");
	ipcwire_put_str(e, AMPSIPC_T_DURABLE_NAME, a->name);
}

/* Remove a durable subscription by name (see ampsipc.h). */
int
ampsipc_unsubscribe_durable(struct ampsipc *h, const char *name,
    const char *conn, int force, int timeout_ms)
{
	struct sub_durable_arg	a;

	if (name == NULL || *name == '\0')
		return (ipclib_fail(h, AMPSIPC_E_USAGE, EINVAL,
		    "a durable subscription name is needed"));
	if (h->fd == -1)
		return (ipclib_fail(h, AMPSIPC_E_USAGE, ENOTCONN,
		    "not connected"));
	a.name = name;
	a.conn = conn != NULL && *conn != '\0' ? conn : NULL;
	a.force = force;
	if (ipclib_request(h, timeout_ms > 0 ? timeout_ms : 10000,
	    sub_fill_unsub_durable, &a) == -1)
		return (-1);
	return (sub_wait_result(h));
}

/* Unsubscribe ids; local routes end at once. */
int
ampsipc_unsubscribe(struct ampsipc *h, const char *ids, int timeout_ms)
{
	struct ampsipc_route	*rt;

	if (ids == NULL || *ids == '\0')
		return (ipclib_fail(h, AMPSIPC_E_USAGE, EINVAL,
		    "unsubscribe needs a sub_id, a list or \"all\""));
	if (h->fd == -1)
		return (ipclib_fail(h, AMPSIPC_E_USAGE, ENOTCONN,
		    "not connected"));
	for (rt = h->routes; rt != NULL; rt = rt->next)
		if (!rt->dead && rt->sub_id != NULL &&
		    ipclib_is_subscribe(rt->cmd) && sub_in_list(ids, rt->sub_id))
			ipclib_route_end(h, rt, 0, "unsubscribed");
	if (timeout_ms == 0 || (h->flags & AMPSIPC_DISPATCHING))
		return (ipclib_queue(h, ipclib_reqid(h), sub_fill_unsub, ids));
	if (ipclib_request(h, timeout_ms, sub_fill_unsub, ids) == -1)
		return (-1);
	ipclib_sub_sweep(h);
	return (sub_wait_result(h));
}
