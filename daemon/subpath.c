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
 * Upstream connection states (per connection):
 *
 *	down --logon (RECOVERING/READY)--> up: every kept subscription is
 *	   ^                                sent again (PROTOCOL.md §15.4): new
 *	   |                                cid, no "replace", durable ones
 *	   |                                from MOST_RECENT (per-publisher
 *	   |                                list), others with a bookmark
 *	   |                                from the last one delivered,
 *	   |                                sow_and_subscribe re-runs its
 *	   |                                query
 *	   +----- any other state ---------- up: waiting commands fail with
 *	                                    DISCONNECTED, streams end,
 *	                                    leases and pending acks dropped
 *	                                    (AMPS breaks the leases)
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

/* strdup of a string field, or NULL. */
static char *
sp_dup(const struct ipcwire_msg *m, unsigned int tag)
{
	const char	*s = ipcwire_str(m, tag);

	return (s != NULL ? xstrdup(s) : NULL);
}

/* Translate a comma list of local ids to upstream ids (NULL if any is
 * unknown). */
static char *
sp_up_list(struct subpath *sp, uint64_t cid, const char *list)
{
	struct amps_list_iter	 it;
	struct submgr_sub	*s;
	const char		*item;
	char			 one[600], *out = NULL;
	size_t			 ilen, len = 0;

	amps_list_begin(&it, list, strlen(list));
	while (amps_list_next(&it, &item, &ilen) == 1) {
		if (ilen >= sizeof one)
			goto bad;
		memcpy(one, item, ilen);
		one[ilen] = '\0';
		if ((s = submgr_sub_local(sp->sm, cid, one)) == NULL)
			goto bad;
		out = xreallocarray(out, len + strlen(s->up_id) + 2, 1);
		if (len > 0)
			out[len++] = ',';
		memcpy(out + len, s->up_id, strlen(s->up_id) + 1);
		len += strlen(s->up_id);
	}
	return (out);
bad:
	free(out);
	return (NULL);
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
	char			*opts = NULL;

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
	sp_send_up(sp, connid, &u);
	free(opts);
	return (0);
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
	char			 idbuf[16], *list;
	struct bookmarkstore_sub def;

	opts = ipcwire_str(m, AMPSIPC_T_OPTIONS);
	if ((local = ipcwire_str(m, AMPSIPC_T_SUB_ID)) == NULL) {
		snprintf(idbuf, sizeof idbuf, "%u", m->hdr.reqid);
		local = idbuf;
	}
	/* pause / resume of existing subscriptions (a list) */
	if ((submgr_opts_has(opts, "pause") || submgr_opts_has(opts,
	    "resume")) && (list = sp_up_list(sp, cid, local)) != NULL) {
		(void)sp_transient(sp, cl, m, connid, NULL, list);
		free(list);
		return (0);
	}
	if (submgr_opts_has(opts, "replace") &&
	    (s = submgr_sub_local(sp->sm, cid, local)) != NULL) {
		if (ipcwire_has(m, AMPSIPC_T_TOPIC)) {
			free(s->topic);
			s->topic = sp_dup(m, AMPSIPC_T_TOPIC);
		}
		free(s->filter);
		s->filter = sp_dup(m, AMPSIPC_T_FILTER);
		free(s->options);
		s->options = submgr_opts_strip(opts, "replace");
		if (!sp->conns[connid].up)
			return (sp_refuse(cl, m->hdr.reqid,
			    AMPSIPC_E_DISCONNECTED, "connection %s is not up",
			    sp->conns[connid].name));
		return (sp_transient(sp, cl, m, connid, s, s->up_id));
	}
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
	if ((cf & AMPSIPC_CF_STREAM) && !sp->conns[connid].up)
		return (sp_refuse(cl, m->hdr.reqid, AMPSIPC_E_DISCONNECTED,
		    "connection %s is not up", sp->conns[connid].name));
	if ((s = submgr_sub_new(sp->sm, cl, cid, local, name)) == NULL)
		return (sp_refuse(cl, m->hdr.reqid, AMPSIPC_E_SUB_EXISTS,
		    "subscription \"%s\" already exists", local));
	s->reqid = m->hdr.reqid;
	s->connid = connid;
	s->cmd = (int)ipcwire_num(m, AMPSIPC_T_CMD, 0);
	if (cf & AMPSIPC_CF_STREAM)
		s->flags |= SUBMGR_STREAM;
	if (cf & AMPSIPC_CF_AUTO_ACK)
		s->flags |= SUBMGR_AUTO_ACK;
	s->topic = sp_dup(m, AMPSIPC_T_TOPIC);
	s->filter = sp_dup(m, AMPSIPC_T_FILTER);
	s->options = submgr_opts_strip(opts, "replace");
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
	if (sp->conns[connid].up)
		sp_send_sub(sp, s);
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

/* IPC COMMAND (everything but a stored sow_delete). */
int
subpath_command(struct subpath *sp, struct ipc_client *cl,
    const struct ipcwire_msg *m)
{
	uint32_t	cmd = (uint32_t)ipcwire_num(m, AMPSIPC_T_CMD, 0);
	int		connid;

	if ((connid = sp_conn_of(sp, m)) < 0)
		return (AMPSIPC_E_NO_SUCH_CONNECTION);
	switch (cmd) {
	case AMPSIPC_CMD_SUBSCRIBE:
	case AMPSIPC_CMD_DELTA_SUBSCRIBE:
	case AMPSIPC_CMD_SOW_AND_SUBSCRIBE:
	case AMPSIPC_CMD_SOW_AND_DELTA_SUBSCRIBE:
		return (sp_subscribe(sp, cl, m, (uint32_t)connid));
	case AMPSIPC_CMD_SOW:
	case AMPSIPC_CMD_SOW_DELETE:
		if (!ipcwire_has(m, AMPSIPC_T_TOPIC))
			return (AMPSIPC_E_INVALID_TOPIC);
		if (!sp->conns[connid].up)
			return (sp_refuse(cl, m->hdr.reqid,
			    AMPSIPC_E_DISCONNECTED, "connection %s is not up",
			    sp->conns[connid].name));
		return (sp_transient(sp, cl, m, (uint32_t)connid, NULL, NULL));
	case AMPSIPC_CMD_UNSUBSCRIBE:
		return (sp_unsubscribe(sp, cl, m));
	default:
		return (AMPSIPC_E_NOT_SUPPORTED);
	}
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
}

/* The connection came up or went down (state diagram above). */
void
subpath_state(struct subpath *sp, struct conn *cn, enum conn_state st)
{
	struct sp_conn		*pc = &sp->conns[conn_id(cn)];
	struct submgr_sub	*s, *snext;
	struct submgr_cmd	*c, *cnext;
	uint32_t		 id = conn_id(cn);
	int			 up = st == CONN_READY || st == CONN_RECOVERING;

	if (up == pc->up)
		return;
	pc->up = up;
	if (up) {
		for (s = submgr_sub_first(sp->sm); s != NULL; s = s->next)
			if (s->connid == id && s->client != NULL &&
			    !(s->flags & SUBMGR_DETACHED))
				sp_send_sub(sp, s);
		return;
	}
	qack_drop_conn(sp->qa, id);
	for (c = submgr_cmd_first(sp->sm); c != NULL; c = cnext) {
		cnext = c->next;
		if (c->connid != id)
			continue;
		if (c->sub == NULL || (c->flags & SUBMGR_CMD_TRANSIENT))
			sp_stream_end(sp, c->client, c->reqid,
			    AMPSIPC_E_DISCONNECTED, "disconnected from AMPS");
		submgr_cmd_remove(sp->sm, c);
	}
	for (s = submgr_sub_first(sp->sm); s != NULL; s = snext) {
		snext = s->next;
		if (s->connid != id)
			continue;
		while (s->nleases > 0)
			(void)submgr_lease_drop(s, s->leases[0]);
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
	sp->conns = xcalloc(conf->nconns, sizeof *sp->conns);
	sp->nconns = conf->nconns;
	sp->set = set;
	for (i = 0; i < sp->nconns; i++) {
		sp->conns[i].name = conf->conns[i]->name;
		if (conf->conns[i]->is_default)
			sp->def = i;
	}
	return (sp);
}

/*
 * Open one bookmark store per configured connection
 * (<statedir>/<conn>.bm.db, or an in-memory one with `durability
 * memory`) in the store set, so the flush phase commits discards.  Called after the publish stores are open: a damaged publish
 * store is refused before any bookmark store is opened.  Returns -1 with
 * *cause set.
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
		sp->conns[i].bs = bookmarkstore_open(path, dur, STORE_CREATE,
		    cause);
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

/* Give the receive path connection id's upstream connection. */
void
subpath_attach(struct subpath *sp, uint32_t id, struct conn *c)
{
	sp->conns[id].conn = c;
}

/* Free everything; the bookmark stores leave the store set first. */
void
subpath_free(struct subpath *sp)
{
	size_t	i;

	if (sp == NULL)
		return;
	for (i = 0; i < sp->nconns; i++) {
		if (sp->conns[i].bs == NULL)
			continue;
		store_set_remove(sp->set, bookmarkstore_store(sp->conns[i].bs));
		bookmarkstore_close(sp->conns[i].bs);
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
