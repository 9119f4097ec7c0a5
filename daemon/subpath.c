/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * subpath.c: the receive path's requests and upstream commands
 * (DESIGN.md §3 "Subscription" and "Queues"; deliveries are in
 * subpath-deliver.c, bookkeeping in submgr.c).
 *
 *   COMMAND subscribe family -> a submgr_sub (kept across failover
 *                               unless it is a synchronous stream),
 *                               subscribe upstream with sub_id
 *                               namespaced per program (submgr.c)
 *   COMMAND sow / sow_delete -> a submgr_cmd; results and acks routed
 *                               back; STREAM_END after the last ack
 *   COMMAND unsubscribe      -> upstream unsubscribe, STREAM_END to the
 *                               ended subscriptions, OK; with
 *                               DURABLE_NAME: subpath-admin.c
 *   DISCARD, QUEUE_ACK       -> subpath-sub.c
 *   program closes           -> its leases cancelled upstream at once,
 *                               its subscriptions unsubscribed (a
 *                               durable one keeps its bookmark store)
 *
 * Sessions: each configured connection has its upstream connection and
 * a delta session, started on the first delta subscription without a
 * bookmark (sp_session): on one AMPS connection a full subscription
 * matching the same message turns delta deliveries into full ones
 * (PROTOCOL.md §11.2), so delta subscriptions never share a session with
 * full ones.  A subscription lives on one session (submgr_sub.connid).
 *
 * Upstream session states (per session):
 *
 *	down --logon (RECOVERING/READY)--> up: every kept subscription is
 *	   ^                                sent again (PROTOCOL.md §15.4): new
 *	   |                                cid, no "replace", paused if the
 *	   |                                program paused it, durable ones
 *	   |                                from MOST_RECENT (per-publisher
 *	   |                                list), others with a bookmark
 *	   |                                from the last one delivered,
 *	   |                                sow_and_subscribe re-runs its
 *	   |                                query; then the parked commands
 *	   |                                run (subpath-park.c)
 *	   +----- any other state ---------- up: waiting commands fail with
 *	                                    DISCONNECTED, streams end,
 *	                                    leases and pending acks dropped
 *	                                    (AMPS breaks the leases)
 *
 * While a session is down (docs/IPC.md §5, "While AMPS is unreachable"):
 * a new asynchronous subscription, a replace, pause or resume is kept
 * and answered "accepted" (a processed ack) once the session has failed
 * (backoff, gave up), and entered when it is up; a query or a
 * synchronous stream waits up to its TIMEOUT_MS (parked), or fails at
 * once with DISCONNECTED when the session gave up.
 *
 * Invariants:
 *  1. After the closed() hook no submgr record points at that program.
 *  2. At most one live attachment per durable name (submgr invariant 2);
 *     a second gets SUB_EXISTS with a reason naming the conflict.
 *  3. Nothing from a program reaches AMPS without its ids namespaced.
 *  4. No fatal() is reachable from program or server input.
 *  5. A durable name belongs to the uid that first defined it (recorded
 *     in the bookmark store, so across restarts) until it is removed:
 *     another uid's subscribe, DISCARD or unsubscribe -name with it is
 *     refused NOT_PERMITTED (sp_durable_may), root and the daemon's
 *     user excepted, and their use keeps the owner.
 */

#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "amps.h"
#include "ampsipc-wire.h"
#include "bookmarkstore.h"
#include "cmdhdr.h"
#include "conf.h"
#include "conn.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "qack.h"
#include "store.h"
#include "subpath.h"
#include "subpath-int.h"
#include "xmalloc.h"

static int	sp_command(struct subpath *, struct ipc_client *,
		    const struct ipcwire_msg *, int);

/* strdup of a string field, or NULL. */
static char *
sp_dup(const struct ipcwire_msg *m, unsigned int tag)
{
	const char	*s = ipcwire_str(m, tag);

	return (s != NULL ? xstrdup(s) : NULL);
}

/*
 * The options kept for s: o without "replace" (a re-entry never
 * replaces), and without "pause" and "resume", which set s's paused
 * flag instead (sp_send_sub() adds "pause" while it is set).  A new
 * string or NULL.
 */
static char *
sp_opts_keep(struct submgr_sub *s, const char *o)
{
	char	*a, *b;

	if (submgr_opts_has(o, "pause"))
		s->flags |= SUBMGR_PAUSED;
	else if (submgr_opts_has(o, "resume"))
		s->flags &= ~SUBMGR_PAUSED;
	a = submgr_opts_strip(o, "replace");
	b = submgr_opts_strip(a, "pause");
	free(a);
	a = submgr_opts_strip(b, "resume");
	free(b);
	return (a);
}

/*
 * The program's subscriptions named by a comma list of its ids, in
 * *subsp (the caller frees it); -1 if any id is unknown.
 */
static int
sp_list_subs(struct subpath *sp, uint64_t cid, const char *list,
    struct submgr_sub ***subsp, size_t *np)
{
	struct amps_list_iter	  it;
	struct submgr_sub	 *s, **v = NULL;
	const char		 *item;
	char			  one[600];
	size_t			  ilen, n = 0;

	amps_list_begin(&it, list, strlen(list));
	while (amps_list_next(&it, &item, &ilen) == 1) {
		if (ilen >= sizeof one)
			goto bad;
		memcpy(one, item, ilen);
		one[ilen] = '\0';
		if ((s = submgr_sub_local(sp->sm, cid, one)) == NULL)
			goto bad;
		v = xreallocarray(v, n + 1, sizeof *v);
		v[n++] = s;
	}
	if (n == 0)
		goto bad;
	*subsp = v;
	*np = n;
	return (0);
bad:
	free(v);
	return (-1);
}

/* The upstream ids of the subscriptions of v on session sess, joined. */
static char *
sp_up_ids(struct submgr_sub **v, size_t n, uint32_t sess)
{
	char	*out = NULL;
	size_t	 i, len = 0, l;

	for (i = 0; i < n; i++) {
		if (v[i]->connid != sess)
			continue;
		l = strlen(v[i]->up_id);
		out = xreallocarray(out, len + l + 2, 1);
		if (len > 0)
			out[len++] = ',';
		memcpy(out + len, v[i]->up_id, l + 1);
		len += l;
	}
	return (out);
}

/* A command whose results go to (cl, reqid) only, until its last ack. */
static int
sp_transient(struct subpath *sp, struct ipc_client *cl,
    const struct ipcwire_msg *m, uint32_t connid, struct submgr_sub *s,
    const char *sub_id_up)
{
	struct submgr_cmd	*c;
	struct sp_up		 u;
	uint32_t		 cmd = (uint32_t)ipcwire_num(m, AMPSIPC_T_CMD, 0);
	uint32_t		 acks;
	size_t			 dlen = 0;
	char			*opts = NULL, *prev;

	acks = (uint32_t)ipcwire_num(m, AMPSIPC_T_ACK_TYPES, 0);
	c = submgr_cmd_new(sp->sm, connid);
	c->client = cl;
	c->reqid = m->hdr.reqid;
	c->cmd = (int)cmd;
	c->sub = s;
	c->flags = SUBMGR_CMD_TRANSIENT;
	c->user_acks = acks;
	c->up_acks = AMPSIPC_ACK_PROCESSED | (acks & (AMPSIPC_ACK_RECEIVED |
	    AMPSIPC_ACK_STATS));
	if (cmd == AMPSIPC_CMD_SOW)
		c->up_acks |= AMPSIPC_ACK_COMPLETED;
	c->query_id = sp_dup(m, AMPSIPC_T_QUERY_ID);
	c->local_id = sp_dup(m, AMPSIPC_T_SUB_ID);
	memset(&u, 0, sizeof u);
	u.c = ipcwire_cmd_name(cmd);
	u.cid = c->cid;
	u.t = ipcwire_str(m, AMPSIPC_T_TOPIC);
	u.sub_id = sub_id_up;
	if (cmd == AMPSIPC_CMD_SOW || (s != NULL &&
	    (s->cmd == AMPSIPC_CMD_SOW_AND_SUBSCRIBE ||
	    s->cmd == AMPSIPC_CMD_SOW_AND_DELTA_SUBSCRIBE)))
		u.query_id = c->cid;
	u.f = ipcwire_str(m, AMPSIPC_T_FILTER);
	u.o = ipcwire_str(m, AMPSIPC_T_OPTIONS);
	if (ipcwire_has(m, AMPSIPC_T_SKIP_N)) {
		xasprintf(&opts, "%s%sskip_n=%llu", u.o != NULL ? u.o : "",
		    u.o != NULL ? "," : "", (unsigned long long)ipcwire_num(m,
		    AMPSIPC_T_SKIP_N, 0));
		u.o = opts;
	}
	if (s != NULL && ipcwire_has(m, AMPSIPC_T_MAX_BACKLOG)) {
		prev = opts;	/* a replace changes the backlog too */
		xasprintf(&opts, "%s%smax_backlog=%llu", u.o != NULL ? u.o :
		    "", u.o != NULL ? "," : "", (unsigned long long)
		    ipcwire_num(m, AMPSIPC_T_MAX_BACKLOG, 0));
		free(prev);
		u.o = opts;
	}
	u.bm = ipcwire_str(m, AMPSIPC_T_BOOKMARK);
	u.orderby = ipcwire_str(m, AMPSIPC_T_ORDER_BY);
	u.sow_keys = ipcwire_str(m, AMPSIPC_T_SOW_KEYS);
	u.k = ipcwire_str(m, AMPSIPC_T_SOW_KEY);
	u.x = ipcwire_str(m, AMPSIPC_T_CORRELATION_ID);
	u.bs = (uint32_t)ipcwire_num(m, AMPSIPC_T_BATCH_SIZE,
	    cmd == AMPSIPC_CMD_SOW ? 10 : 0);
	u.top_n = (uint32_t)ipcwire_num(m, AMPSIPC_T_TOP_N, 0);
	u.acks = c->up_acks;
	u.data = ipcwire_bytes(m, AMPSIPC_T_DATA, &dlen);
	u.len = dlen;
	u.hdrs = ipcwire_bytes(m, AMPSIPC_T_HEADERS, &u.hlen);
	sp_send_up(sp, connid, &u);
	free(opts);
	return (0);
}

/* Copy the HEADERS of m into *p, *lenp (absent: NULL, 0). */
static void
sp_hdrs_keep(const struct ipcwire_msg *m, void **p, size_t *lenp)
{
	const void	*h;
	size_t		 len = 0;

	free(*p);
	*p = NULL;
	*lenp = 0;
	if ((h = ipcwire_bytes(m, AMPSIPC_T_HEADERS, &len)) == NULL ||
	    len == 0)
		return;
	*p = xmalloc(len);
	memcpy(*p, h, len);
	*lenp = len;
}

/* Error reply with a reason; the handler then returns 0. */
static int	sp_refuse(struct ipc_client *, uint32_t, uint32_t,
		    const char *, ...)
		    __attribute__((__format__(printf, 4, 5)));

static int
sp_refuse(struct ipc_client *cl, uint32_t reqid, uint32_t code,
    const char *fmt, ...)
{
	char	text[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	ipc_client_reply_error(cl, reqid, code, text);
	return (0);
}

/* How many subscriptions program cl has (bounded by SP_MAX_SUBS). */
static int
sp_count_client(struct subpath *sp, struct ipc_client *cl)
{
	struct submgr_sub	*s;
	int			 n = 0;

	for (s = submgr_sub_first(sp->sm); s != NULL && n < SP_MAX_SUBS;
	    s = s->next)
		n += s->client == cl;
	return (n);
}

/*
 * A request that needs session sess, which is down: park it until the
 * session is up (subpath-park.c), or refuse it at once, saying why.
 */
static int
sp_wait_up(struct subpath *sp, struct ipc_client *cl,
    const struct ipcwire_msg *m, uint32_t sess)
{
	char	why[400];

	if (sp_park(sp, cl, m, sess) == 0)
		return (0);
	sp_down_text(sp, sess, why, sizeof why);
	return (sp_refuse(cl, m->hdr.reqid, AMPSIPC_E_DISCONNECTED,
	    "not sent: %s", why));
}

/*
 * The session a new subscription runs on: a delta subscription without
 * a bookmark goes to its connection's delta session, so that a full
 * subscription of another program on the same connection cannot turn
 * its deltas into full messages (PROTOCOL.md §11.2); the session is
 * started on its first use.  Everything else runs on the connection.
 */
static uint32_t
sp_session(struct subpath *sp, const struct ipcwire_msg *m, uint32_t connid,
    uint32_t cf)
{
	uint32_t	cmd = (uint32_t)ipcwire_num(m, AMPSIPC_T_CMD, 0);
	uint32_t	sess;

	if ((cmd != AMPSIPC_CMD_DELTA_SUBSCRIBE &&
	    cmd != AMPSIPC_CMD_SOW_AND_DELTA_SUBSCRIBE) ||
	    (cf & AMPSIPC_CF_DURABLE) || ipcwire_has(m, AMPSIPC_T_BOOKMARK))
		return (connid);
	sess = (uint32_t)sp->nconns + connid;
	if (conn_state(sp->conns[sess].conn) == CONN_IDLE) {
		log_info("connection %s: starting its delta session",
		    sp->conns[connid].name);
		conn_start(sp->conns[sess].conn);
	}
	return (sess);
}

/*
 * pause / resume of the program's subscriptions named by the list
 * (PROTOCOL.md §4.5): recorded, so every later entry of a subscription
 * is paused or not as the program last said (§15.4), and passed on to
 * each session that is up; the acks of the first such session go to the
 * program.  With no session up the program is told it is accepted.
 * Returns -1 when an id is unknown (then it may be a new subscription).
 */
static int
sp_pause_resume(struct subpath *sp, struct ipc_client *cl,
    const struct ipcwire_msg *m, const char *list, int pause)
{
	struct submgr_sub	**v;
	size_t			  n, i, j;
	char			 *ids;
	int			  fwd = 1;

	if (sp_list_subs(sp, ipc_client_id(cl), list, &v, &n) == -1)
		return (-1);
	for (i = 0; i < n; i++) {
		if (pause)
			v[i]->flags |= SUBMGR_PAUSED;
		else
			v[i]->flags &= ~SUBMGR_PAUSED;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < i && v[j]->connid != v[i]->connid; j++)
			;
		if (j < i || !sp->conns[v[i]->connid].up)
			continue;	/* session done, or down */
		ids = sp_up_ids(v, n, v[i]->connid);
		(void)sp_transient(sp, fwd ? cl : NULL, m, v[i]->connid, NULL,
		    ids);
		free(ids);
		fwd = 0;
	}
	if (fwd)
		sp_ack_pending(sp, cl, m->hdr.reqid,
		    (uint32_t)ipcwire_num(m, AMPSIPC_T_CMD, 0), list,
		    v[0]->connid, 1);
	free(v);
	return (0);
}

/*
 * replace of an existing subscription: the kept definition takes what
 * the command carries (topic, filter, options, backlog, ...), so every
 * later entry uses it; a durable one's stored definition too.  Passed
 * on when the session is up; otherwise the program is told it is
 * accepted.
 */
static int
sp_replace(struct subpath *sp, struct ipc_client *cl,
    const struct ipcwire_msg *m, struct submgr_sub *s, const char *opts)
{
	struct bookmarkstore_sub	def;

	if (ipcwire_has(m, AMPSIPC_T_TOPIC)) {
		free(s->topic);
		s->topic = sp_dup(m, AMPSIPC_T_TOPIC);
	}
	free(s->filter);
	s->filter = sp_dup(m, AMPSIPC_T_FILTER);
	free(s->options);
	s->options = sp_opts_keep(s, opts);
	if (ipcwire_has(m, AMPSIPC_T_MAX_BACKLOG))
		s->max_backlog = (uint32_t)ipcwire_num(m,
		    AMPSIPC_T_MAX_BACKLOG, 0);
	if (ipcwire_has(m, AMPSIPC_T_ORDER_BY)) {
		free(s->orderby);
		s->orderby = sp_dup(m, AMPSIPC_T_ORDER_BY);
	}
	if (ipcwire_has(m, AMPSIPC_T_TOP_N))
		s->top_n = (uint32_t)ipcwire_num(m, AMPSIPC_T_TOP_N, 0);
	if (ipcwire_has(m, AMPSIPC_T_SKIP_N))
		s->skip_n = (uint32_t)ipcwire_num(m, AMPSIPC_T_SKIP_N, 0);
	if (ipcwire_has(m, AMPSIPC_T_BATCH_SIZE))
		s->bs = (uint32_t)ipcwire_num(m, AMPSIPC_T_BATCH_SIZE, 0);
	if (ipcwire_has(m, AMPSIPC_T_HEADERS))
		sp_hdrs_keep(m, &s->hdrs, &s->hlen);
	if (s->durable != NULL && sp->conns[s->connid].bs != NULL) {
		memset(&def, 0, sizeof def);
		def.sub_id = s->durable;
		def.topic = s->topic;
		def.filter = s->filter;
		def.options = s->options;
		def.owner = (int64_t)ipc_client_uid(cl);
		if (bookmarkstore_define(sp->conns[s->connid].bs, &def) == -1)
			log_warnx("durable subscription %s: the replaced "
			    "definition is not stored: %s",
			    log_safe(s->durable, 100),
			    bookmarkstore_error(sp->conns[s->connid].bs));
	}
	if (!sp->conns[s->connid].up) {
		sp_ack_pending(sp, cl, m->hdr.reqid,
		    (uint32_t)ipcwire_num(m, AMPSIPC_T_CMD, 0), s->local_id,
		    s->connid, 1);
		return (0);
	}
	return (sp_transient(sp, cl, m, s->connid, s, s->up_id));
}

/* COMMAND subscribe, delta_subscribe, sow_and_subscribe, ... */
static int
sp_subscribe(struct subpath *sp, struct ipc_client *cl,
    const struct ipcwire_msg *m, uint32_t connid)
{
	struct submgr_sub	*s;
	const char		*local, *opts, *name = NULL;
	uint64_t		 cid = ipc_client_id(cl);
	uint32_t		 cf = (uint32_t)ipcwire_num(m, AMPSIPC_T_CMD_FLAGS,
				    0);
	uint32_t		 sess;
	char			 idbuf[16];
	struct bookmarkstore_sub def;

	opts = ipcwire_str(m, AMPSIPC_T_OPTIONS);
	if ((local = ipcwire_str(m, AMPSIPC_T_SUB_ID)) == NULL) {
		snprintf(idbuf, sizeof idbuf, "%u", m->hdr.reqid);
		local = idbuf;
	}
	/* pause / resume of existing subscriptions (a list) */
	if ((submgr_opts_has(opts, "pause") || submgr_opts_has(opts,
	    "resume")) && sp_pause_resume(sp, cl, m, local,
	    submgr_opts_has(opts, "pause")) == 0)
		return (0);
	if (submgr_opts_has(opts, "replace") &&
	    (s = submgr_sub_local(sp->sm, cid, local)) != NULL)
		return (sp_replace(sp, cl, m, s, opts));
	if (!submgr_id_ok(local))
		return (sp_refuse(cl, m->hdr.reqid, AMPSIPC_E_COMMAND,
		    "invalid sub_id \"%s\" (no commas, not \"all\")",
		    log_safe(local, 100)));
	if (cf & AMPSIPC_CF_DURABLE) {
		if ((name = ipcwire_str(m, AMPSIPC_T_DURABLE_NAME)) == NULL)
			name = local;
		if (!submgr_id_ok(name))
			return (sp_refuse(cl, m->hdr.reqid, AMPSIPC_E_COMMAND,
			    "invalid durable name \"%s\"", log_safe(name,
			    100)));
		if (sp->conns[connid].bs == NULL)
			return (sp_refuse(cl, m->hdr.reqid,
			    AMPSIPC_E_STORE_UNAVAILABLE, "no bookmark store "
			    "for connection %s", sp->conns[connid].name));
		if (!sp_durable_may(sp, cl, m->hdr.reqid, name, -1))
			return (0);	/* another uid's name (invariant 5) */
		if (submgr_sub_durable(sp->sm, name) != NULL)
			return (sp_refuse(cl, m->hdr.reqid,
			    AMPSIPC_E_SUB_EXISTS, "durable subscription \"%s\" "
			    "is attached to another program", name));
	}
	if (submgr_sub_local(sp->sm, cid, local) != NULL)
		return (sp_refuse(cl, m->hdr.reqid, AMPSIPC_E_SUB_EXISTS,
		    "subscription \"%s\" already exists", local));
	if (sp_count_client(sp, cl) >= SP_MAX_SUBS)
		return (sp_refuse(cl, m->hdr.reqid, AMPSIPC_E_LIMIT,
		    "too many subscriptions (limit %d per program)",
		    SP_MAX_SUBS));
	sess = sp_session(sp, m, connid, cf);
	if ((cf & AMPSIPC_CF_STREAM) && !sp->conns[sess].up)
		return (sp_wait_up(sp, cl, m, sess));
	if ((s = submgr_sub_new(sp->sm, cl, cid, local, name)) == NULL)
		return (sp_refuse(cl, m->hdr.reqid, AMPSIPC_E_SUB_EXISTS,
		    "subscription \"%s\" already exists", local));
	s->reqid = m->hdr.reqid;
	s->connid = sess;
	s->cmd = (int)ipcwire_num(m, AMPSIPC_T_CMD, 0);
	if (cf & AMPSIPC_CF_STREAM)
		s->flags |= SUBMGR_STREAM;
	if (cf & AMPSIPC_CF_AUTO_ACK)
		s->flags |= SUBMGR_AUTO_ACK;
	s->topic = sp_dup(m, AMPSIPC_T_TOPIC);
	s->filter = sp_dup(m, AMPSIPC_T_FILTER);
	s->options = sp_opts_keep(s, opts);
	s->bookmark = sp_dup(m, AMPSIPC_T_BOOKMARK);
	s->orderby = sp_dup(m, AMPSIPC_T_ORDER_BY);
	s->sow_keys = sp_dup(m, AMPSIPC_T_SOW_KEYS);
	s->query_id = sp_dup(m, AMPSIPC_T_QUERY_ID);
	s->bs = (uint32_t)ipcwire_num(m, AMPSIPC_T_BATCH_SIZE,
	    s->cmd >= AMPSIPC_CMD_SOW_AND_SUBSCRIBE ? 10 : 0);
	s->top_n = (uint32_t)ipcwire_num(m, AMPSIPC_T_TOP_N, 0);
	s->skip_n = (uint32_t)ipcwire_num(m, AMPSIPC_T_SKIP_N, 0);
	s->max_backlog = (uint32_t)ipcwire_num(m, AMPSIPC_T_MAX_BACKLOG, 0);
	s->user_acks = (uint32_t)ipcwire_num(m, AMPSIPC_T_ACK_TYPES,
	    AMPSIPC_ACK_PROCESSED);
	sp_hdrs_keep(m, &s->hdrs, &s->hlen);
	if (name != NULL) {
		memset(&def, 0, sizeof def);
		def.sub_id = name;
		def.topic = s->topic;
		def.filter = s->filter;
		def.options = s->options;
		def.start = s->bookmark != NULL ? s->bookmark : "recent";
		/* A name keeps its owner, also when root attaches it. */
		if ((def.owner = sp_durable_owner(sp, name)) == -2)
			def.owner = (int64_t)ipc_client_uid(cl);
		if (bookmarkstore_define(sp->conns[connid].bs, &def) == -1) {
			submgr_sub_remove(sp->sm, s);
			return (sp_refuse(cl, m->hdr.reqid,
			    AMPSIPC_E_STORE_UNAVAILABLE, "bookmark store: %s",
			    bookmarkstore_error(sp->conns[connid].bs)));
		}
	}
	if (sp->conns[sess].up)
		sp_send_sub(sp, s);
	else if (sp->conns[sess].failed) {
		/* Kept and entered when the session is up (§15.4). */
		s->flags |= SUBMGR_EARLY;
		sp_ack_pending(sp, cl, s->reqid, (uint32_t)s->cmd,
		    s->local_id, sess, 0);
	}
	return (0);
}

/* COMMAND unsubscribe: one id, a list, or "all". */
static int
sp_unsubscribe(struct subpath *sp, struct ipc_client *cl,
    const struct ipcwire_msg *m)
{
	struct amps_list_iter	 it;
	struct submgr_sub	*s, *next;
	const char		*ids = ipcwire_str(m, AMPSIPC_T_SUB_ID), *item;
	const char		*name;
	char			 one[600];
	size_t			 ilen;
	uint64_t		 cid = ipc_client_id(cl);
	int			 conn;

	if (ids == NULL && (name = ipcwire_str(m,
	    AMPSIPC_T_DURABLE_NAME)) != NULL) {	/* an operator's */
		if ((conn = sp_conn_of(sp, m)) < 0)
			return (AMPSIPC_E_NO_SUCH_CONNECTION);
		return (sp_unsub_durable(sp, cl, m, name,
		    ipcwire_has(m, AMPSIPC_T_CONN) ? conn : -1));
	}
	if (ids == NULL)
		return (sp_refuse(cl, m->hdr.reqid, AMPSIPC_E_COMMAND,
		    "unsubscribe needs a sub_id"));
	if (strcmp(ids, "all") == 0) {
		for (s = submgr_sub_first(sp->sm); s != NULL; s = next) {
			next = s->next;
			if (s->client == cl)
				sp_drop_sub(sp, s, 0, "unsubscribed", 1);
		}
	} else {
		amps_list_begin(&it, ids, strlen(ids));
		while (amps_list_next(&it, &item, &ilen) == 1) {
			if (ilen >= sizeof one)
				continue;
			memcpy(one, item, ilen);
			one[ilen] = '\0';
			if ((s = submgr_sub_local(sp->sm, cid, one)) != NULL)
				sp_drop_sub(sp, s, 0, "unsubscribed", 1);
		}
	}
	ipc_client_reply_ok(cl, m->hdr.reqid);
	return (0);
}

/*
 * A sow_delete the publish path stored as sequence seq of connection
 * connid (libampsipc's form, with ACK_TYPES): route its processed and
 * stats acks (cid "sd-<seq>", which conn.c writes) to the program, then
 * STREAM_END.  While the connection is down the program is told at once
 * that it is stored and goes to AMPS when the connection is up; it gets
 * no stats then.
 */
void
subpath_sow_delete(struct subpath *sp, struct ipc_client *cl,
    const struct ipcwire_msg *m, uint32_t connid, uint64_t seq)
{
	struct submgr_cmd	*c;
	char			 cid[32];
	uint32_t		 acks;

	if (!sp->conns[connid].up) {
		sp_ack_down(sp, cl, m->hdr.reqid, AMPSIPC_CMD_SOW_DELETE, NULL,
		    connid, 1, "stored; sent to AMPS (once)");
		return;
	}
	acks = (uint32_t)ipcwire_num(m, AMPSIPC_T_ACK_TYPES, 0);
	snprintf(cid, sizeof cid, "sd-%llu", (unsigned long long)seq);
	c = submgr_cmd_new_cid(sp->sm, connid, cid);
	c->client = cl;
	c->reqid = m->hdr.reqid;
	c->cmd = AMPSIPC_CMD_SOW_DELETE;
	c->flags = SUBMGR_CMD_TRANSIENT | SUBMGR_CMD_STORED;
	c->user_acks = acks;
	c->up_acks = AMPSIPC_ACK_PROCESSED | AMPSIPC_ACK_STATS;
	c->query_id = sp_dup(m, AMPSIPC_T_QUERY_ID);
	c->local_id = sp_dup(m, AMPSIPC_T_SUB_ID);
}

/* IPC COMMAND (everything but a sow_delete: publish.c). */
int
subpath_command(struct subpath *sp, struct ipc_client *cl,
    const struct ipcwire_msg *m)
{
	return (sp_command(sp, cl, m, 0));
}

/*
 * A COMMAND, now or again (released: it was held and may not be held
 * again).  A command of a program that has publishes on its connection
 * not yet upstream is held until they are (sp_hold), and so are the
 * program's later ones: its commands never overtake its publishes.
 */
static int
sp_command(struct subpath *sp, struct ipc_client *cl,
    const struct ipcwire_msg *m, int released)
{
	uint32_t	cmd = (uint32_t)ipcwire_num(m, AMPSIPC_T_CMD, 0);
	uint32_t	sess;
	const void	*hdrs;
	size_t		 hlen = 0;
	char		 why[160];
	int		connid;

	if ((connid = sp_conn_of(sp, m)) < 0)
		return (AMPSIPC_E_NO_SUCH_CONNECTION);
	if ((hdrs = ipcwire_bytes(m, AMPSIPC_T_HEADERS, &hlen)) != NULL &&
	    cmdhdr_check(hdrs, hlen, why, sizeof why) == -1)
		return (sp_refuse(cl, m->hdr.reqid, AMPSIPC_E_COMMAND, "%s",
		    why));
	sess = (uint32_t)connid;
	if ((cmd == AMPSIPC_CMD_DELTA_SUBSCRIBE ||
	    cmd == AMPSIPC_CMD_SOW_AND_DELTA_SUBSCRIBE) &&
	    !ipcwire_has(m, AMPSIPC_T_BOOKMARK) &&
	    !(ipcwire_num(m, AMPSIPC_T_CMD_FLAGS, 0) & AMPSIPC_CF_DURABLE))
		sess += (uint32_t)sp->nconns;
	if (!released && cmd != AMPSIPC_CMD_UNSUBSCRIBE &&
	    sp->unsent != NULL && (sp_holds(sp, cl) ||
	    (sp->conns[connid].up && sp->unsent(sp->unsent_arg, cl, sess)))) {
		sp_hold(sp, cl, m, sess);
		return (0);
	}
	switch (cmd) {
	case AMPSIPC_CMD_SUBSCRIBE:
	case AMPSIPC_CMD_DELTA_SUBSCRIBE:
	case AMPSIPC_CMD_SOW_AND_SUBSCRIBE:
	case AMPSIPC_CMD_SOW_AND_DELTA_SUBSCRIBE:
		return (sp_subscribe(sp, cl, m, (uint32_t)connid));
	case AMPSIPC_CMD_SOW:
		if (!ipcwire_has(m, AMPSIPC_T_TOPIC))
			return (AMPSIPC_E_INVALID_TOPIC);
		if (!sp->conns[connid].up)
			return (sp_wait_up(sp, cl, m, (uint32_t)connid));
		return (sp_transient(sp, cl, m, (uint32_t)connid, NULL, NULL));
	case AMPSIPC_CMD_UNSUBSCRIBE:
		return (sp_unsubscribe(sp, cl, m));
	default:
		return (AMPSIPC_E_NOT_SUPPORTED);
	}
}

/*
 * The flush phase, once committed publishes are upstream: run the held
 * commands whose programs' publishes have gone out, in order per
 * program.
 */
void
subpath_release_held(struct subpath *sp)
{
	struct sp_park		 *p, **pp;
	struct ipc_client	**blocked = NULL;
	size_t			  nb = 0, i;
	int			  rc;

	for (pp = &sp->held; (p = *pp) != NULL;) {
		for (i = 0; i < nb && blocked[i] != p->cl; i++)
			;
		if (i < nb || (sp->conns[p->sess].up &&
		    sp->unsent(sp->unsent_arg, p->cl, p->sess))) {
			if (i == nb) {
				blocked = xreallocarray(blocked, nb + 1,
				    sizeof *blocked);
				blocked[nb++] = p->cl;
			}
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		if ((rc = sp_command(sp, p->cl, &p->m, 1)) > 0)
			ipc_client_reply_error(p->cl, p->m.hdr.reqid,
			    (uint32_t)rc, NULL);
		sp_park_free(p);
	}
	free(blocked);
}

/* The server's test for a program's publishes not yet upstream. */
void
subpath_set_unsent(struct subpath *sp, int (*fn)(void *,
    struct ipc_client *, uint32_t), void *arg)
{
	sp->unsent = fn;
	sp->unsent_arg = arg;
}

/* IPC closed: end the program's subscriptions (invariant 1). */
void
subpath_closed(struct subpath *sp, struct ipc_client *cl)
{
	struct submgr_sub	*s, *next;
	struct submgr_cmd	*c;

	for (s = submgr_sub_first(sp->sm); s != NULL; s = next) {
		next = s->next;
		if (s->client == cl)
			sp_drop_sub(sp, s, 0, NULL, 0);
	}
	for (c = submgr_cmd_first(sp->sm); c != NULL; c = c->next)
		if (c->client == cl)
			c->client = NULL;
	sp_park_closed(sp, cl);
}

/*
 * Session sess went down after a failure (backoff, gave up): its
 * subscriptions still waiting for their first processed ack are told
 * they are accepted and entered when it is up (docs/IPC.md §5).
 */
static void
sp_failed(struct subpath *sp, uint32_t sess)
{
	struct submgr_sub	*s;

	for (s = submgr_sub_first(sp->sm); s != NULL; s = s->next) {
		if (s->connid != sess || s->client == NULL ||
		    (s->flags & (SUBMGR_CONFIRMED | SUBMGR_EARLY |
		    SUBMGR_STREAM | SUBMGR_DROPPING)))
			continue;
		s->flags |= SUBMGR_EARLY;
		sp_ack_pending(sp, s->client, s->reqid, (uint32_t)s->cmd,
		    s->local_id, sess, 0);
	}
}

/* The connection came up or went down (state diagram above). */
void
subpath_state(struct subpath *sp, struct conn *cn, enum conn_state st)
{
	struct sp_conn		*pc = &sp->conns[conn_id(cn)];
	struct submgr_sub	*s, *snext;
	struct submgr_cmd	*c, *cnext;
	struct sp_park		*p;
	uint32_t		 id = conn_id(cn);
	int			 up = st == CONN_READY || st == CONN_RECOVERING;
	int			 rc;

	if (!up && (st == CONN_BACKOFF || st == CONN_GAVE_UP) &&
	    !pc->failed) {
		pc->failed = 1;
		sp_failed(sp, id);
	}
	if (st == CONN_GAVE_UP || st == CONN_STOPPED)
		sp_park_fail(sp, id);
	if (up == pc->up)
		return;
	pc->up = up;
	if (up) {
		pc->failed = 0;
		for (s = submgr_sub_first(sp->sm); s != NULL; s = s->next)
			if (s->connid == id && s->client != NULL &&
			    !(s->flags & SUBMGR_DETACHED))
				sp_send_sub(sp, s);
		/* Commands that waited for the session, in order. */
		while (pc->up && (p = sp_park_take(sp, id)) != NULL) {
			if ((rc = sp_command(sp, p->cl, &p->m, 0)) > 0)
				ipc_client_reply_error(p->cl, p->m.hdr.reqid,
				    (uint32_t)rc, NULL);
			sp_park_free(p);
		}
		return;
	}
	qack_drop_conn(sp->qa, id);
	for (c = submgr_cmd_first(sp->sm); c != NULL; c = cnext) {
		cnext = c->next;
		if (c->connid != id)
			continue;
		if (c->flags & SUBMGR_CMD_STORED)
			sp_stream_end(sp, c->client, c->reqid,
			    AMPSIPC_E_DISCONNECTED, "disconnected from AMPS; "
			    "the sow_delete stays stored and goes to AMPS "
			    "(once) when the connection is up again");
		else if (c->sub == NULL || (c->flags & SUBMGR_CMD_TRANSIENT))
			sp_stream_end(sp, c->client, c->reqid,
			    AMPSIPC_E_DISCONNECTED, "disconnected from AMPS");
		submgr_cmd_remove(sp->sm, c);
	}
	for (s = submgr_sub_first(sp->sm); s != NULL; s = snext) {
		snext = s->next;
		if (s->connid != id)
			continue;
		submgr_lease_clear(s);
		s->qpending = 0;
		s->flags &= ~SUBMGR_UNSUBBING;	/* a new stream next time */
		if ((s->flags & SUBMGR_DETACHED) && s->fcount == 0)
			s->flags &= ~SUBMGR_DETACHED;	/* caught up: resubscribed */
		if ((s->flags & SUBMGR_STREAM) &&
		    !(s->flags & SUBMGR_DROPPING)) {
			sp_stream_end(sp, s->client, s->reqid,
			    AMPSIPC_E_DISCONNECTED, "disconnected from AMPS");
			submgr_sub_remove(sp->sm, s);
		}
	}
}

/* Number of kept subscriptions (status). */
size_t
subpath_nsubs(const struct subpath *sp)
{
	return (submgr_nsubs(sp->sm));
}

/*
 * Set up the receive path of conf's connections.  Its stores are opened
 * later by subpath_open() and its connections attached by
 * subpath_attach(), before the loop runs.
 */
struct subpath *
subpath_create(struct conf *conf, struct store_set *set)
{
	struct subpath	*sp;
	size_t		 i;

	sp = xcalloc(1, sizeof *sp);
	sp->conf = conf;
	sp->sm = submgr_create();
	sp->qa = qack_create();
	if (loop_base() != NULL &&
	    (sp->qtimer = evtimer_new(loop_base(), sp_qack_timer_cb,
	    sp)) == NULL)
		fatalx("subpath: evtimer_new failed");
	sp->nconns = conf->nconns;
	sp->nsess = 2 * conf->nconns;
	sp->conns = xcalloc(sp->nsess ? sp->nsess : 1, sizeof *sp->conns);
	sp->set = set;
	for (i = 0; i < sp->nsess; i++)
		sp->conns[i].name = conf->conns[i % sp->nconns]->name;
	for (i = 0; i < sp->nconns; i++)
		if (conf->conns[i]->is_default)
			sp->def = i;
	return (sp);
}

/*
 * Open one bookmark store per configured connection
 * (<statedir>/<conn>.bm.db, or an in-memory one with `durability
 * memory`) in the store set, so the flush phase commits discards.
 * Called after the publish stores are open: a damaged publish store is
 * refused before any bookmark store is opened.  Returns -1 with *cause
 * set.
 */
int
subpath_open(struct subpath *sp, char **cause)
{
	struct conf		*conf = sp->conf;
	enum store_durability	 dur;
	char			*path;
	size_t			 i;

	for (i = 0; i < sp->nconns; i++) {
		switch (conf->conns[i]->durability) {
		case CONF_DURABILITY_MEMORY:
			dur = STORE_MEMORY;	/* path: a name only */
			break;
		case CONF_DURABILITY_NORMAL:
			dur = STORE_SYNC_NORMAL;
			break;
		default:
			dur = STORE_SYNC_FULL;
			break;
		}
		xasprintf(&path, "%s%s/%s.bm.db", dur == STORE_MEMORY ?
		    "memory:" : "", conf->state_dir, conf->conns[i]->name);
		sp->conns[i].bs = bookmarkstore_open(path, dur, STORE_CREATE |
		    STORE_CKPT_THREAD, cause);
		free(path);
		if (sp->conns[i].bs == NULL)
			return (-1);
		if (*store_notice(bookmarkstore_store(sp->conns[i].bs)) != '\0')
			log_warnx("connection %s: bookmark store: %s",
			    conf->conns[i]->name,
			    store_notice(bookmarkstore_store(sp->conns[i].bs)));
		if (store_set_add(sp->set,
		    bookmarkstore_store(sp->conns[i].bs)) == -1) {
			bookmarkstore_close(sp->conns[i].bs);
			sp->conns[i].bs = NULL;
			xasprintf(cause, "store_set_add failed");
			return (-1);
		}
	}
	return (0);
}

/*
 * Give the receive path session id's upstream connection: id < nconns a
 * configured connection, nconns + i connection i's delta session.
 */
void
subpath_attach(struct subpath *sp, uint32_t id, struct conn *c)
{
	sp->conns[id].conn = c;
}

/* Free everything; the bookmark stores leave the store set first. */
void
subpath_free(struct subpath *sp)
{
	struct sp_park	*p;
	size_t		 i;

	if (sp == NULL)
		return;
	for (i = 0; i < sp->nconns; i++) {
		if (sp->conns[i].bs == NULL)
			continue;
		store_set_remove(sp->set, bookmarkstore_store(sp->conns[i].bs));
		bookmarkstore_close(sp->conns[i].bs);
	}
	while ((p = sp->parked) != NULL) {
		sp->parked = p->next;
		sp_park_free(p);
	}
	while ((p = sp->held) != NULL) {
		sp->held = p->next;
		sp_park_free(p);
	}
	submgr_free(sp->sm);
	qack_free(sp->qa);
	if (sp->qtimer != NULL)
		event_free(sp->qtimer);
	free(sp->conns);
	free(sp->wbuf);
	free(sp->ebuf);
	free(sp->arena);
	free(sp);
}
