/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The publish path (architecture §3 "Publish").  For each configured
 * connection this module owns a publish store (pubstore.c) and an
 * upstream connection (conn.c), and it implements the IPC handlers that
 * feed them:
 *
 *   PUBLISH / DELTA_PUBLISH  -> pubstore_append() in the pass's open
 *                               transaction; the reply waits in `pending`
 *   flush phase (after every loop pass, pubpath_flush()):
 *                               store_flush() commits every store, then
 *                               each pending request gets STORED (its seq
 *                               is durable) or ERROR (its commit failed),
 *                               then conn_pump() sends what is committed
 *   persisted ack            -> (conn.c discards) PERSISTED to the
 *                               programs that published, FLUSHED to
 *                               flush waiters that are covered
 *   failure ack              -> (conn.c pubstore_fail) PUBLISH_FAILED to
 *                               the program that published that seq
 *   PUBLISH_FLUSH            -> wait until everything this program
 *                               stored on that connection is persisted
 *   STATUS                   -> pubpath-status.c (docs/IPC.md §7)
 *
 * The allow rules (ACL hook of ipc.c) live in pubpath-acl.c, the
 * configuration reload in pubpath-reload.c, the SIGTERM drain in
 * pubpath-drain.c.  While draining, PUBLISH, DELTA_PUBLISH and stored
 * sow_deletes are not stored: they take their turn in `pending` and are
 * answered ERROR SHUTTING_DOWN (invariant 0); every other COMMAND but
 * unsubscribe is answered SHUTTING_DOWN at once.
 *
 * Invariants:
 *   (0) Replies to publishes go out in the order the publishes arrived,
 *       errors included (docs/IPC.md §8).
 *   (1) No STORED reply is queued before the commit covering its row has
 *       returned successfully (pubstore_durable_seq() >= seq).
 *   (2) A request whose row was lost with a failed commit gets an ERROR,
 *       never STORED.
 *   (3) After ipc's closed() hook no pointer to that client remains here
 *       (pending replies, trackers and flush waiters are cleared).
 *   (4) Store files are opened at startup and never recreated behind the
 *       user's back: pubstore_open() refuses damaged or foreign files.
 *   (5) A store file of the state directory that no configured
 *       connection uses (a connection renamed or removed) is reported
 *       once at startup (pp_stale_stores()) and never written, moved or
 *       deleted: only read, to count its unsent messages.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/types.h>

#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "amps.h"
#include "conf.h"
#include "conn.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "pubpath.h"
#include "pubpath-int.h"
#include "pubstore.h"
#include "submgr.h"
#include "subpath.h"
#include "xmalloc.h"

/* Find a connection by IPC name (NULL = the default). */
struct pp_conn *
pubpath_find(struct pubpath *pp, const char *name)
{
	size_t	i;

	if (name == NULL || *name == '\0')
		return (pp->def);
	for (i = 0; i < pp->nconns; i++)
		if (strcmp(pp->conns[i].cc->name, name) == 0)
			return (&pp->conns[i]);
	return (NULL);
}

/* ipc.c log hook. */
static void
pp_ipc_log(void *arg, int level, const char *msg)
{
	if (level == IPC_LOG_TRACE)
		log_trace0("%s", msg);
	else
		log_msg(level, "%s", msg);
}

/* Remember that cl published seq on pc. */
static void
pp_track_add(struct pp_conn *pc, struct ipc_client *cl, uint32_t reqid,
    uint64_t seq)
{
	if (pc->thead > 0 && pc->thead == pc->tlen)
		pc->thead = pc->tlen = 0;
	if (pc->tlen == pc->tcap) {
		if (pc->thead > pc->tcap / 2) {
			memmove(pc->track, pc->track + pc->thead,
			    (pc->tlen - pc->thead) * sizeof *pc->track);
			pc->tlen -= pc->thead;
			pc->thead = 0;
		} else {
			pc->tcap = pc->tcap ? pc->tcap * 2 : 1024;
			pc->track = xreallocarray(pc->track, pc->tcap,
			    sizeof *pc->track);
		}
	}
	pc->track[pc->tlen].cl = cl;
	pc->track[pc->tlen].reqid = reqid;
	pc->track[pc->tlen].seq = seq;
	pc->tlen++;
}

/* Answer a flush waiter and free it (it must be unlinked already). */
static void
pp_waiter_done(struct pp_waiter *w, int timed_out)
{
	if (w->cl != NULL) {
		if (timed_out)
			ipc_client_reply_error(w->cl, w->reqid,
			    AMPSIPC_E_TIMED_OUT, "messages not yet persisted; "
			    "they stay stored and will be sent");
		else
			ipc_client_reply_flushed(w->cl, w->reqid);
	}
	if (w->timer != NULL)
		event_free(w->timer);
	free(w);
}

/* Release the flush waiters of pc that are now covered. */
static void
pp_check_waiters(struct pubpath *pp, struct pp_conn *pc)
{
	struct pp_waiter	**wp, *w;
	uint64_t		  done;

	done = pubstore_discarded_seq(pc->ps);
	if (done < pc->settled)
		done = pc->settled;
	for (wp = &pp->waiters; (w = *wp) != NULL;) {
		if (w->connid == pc->id && w->target <= done) {
			*wp = w->next;
			pp_waiter_done(w, 0);
		} else
			wp = &w->next;
	}
}

/*
 * Advance pc->settled: to seq when AMPS persisted everything up to it
 * (seq may be 0 for "nothing new"), then over refused seqs that now
 * follow it without a gap.
 */
static void
pp_settle(struct pp_conn *pc, uint64_t seq)
{
	size_t	 i, n;

	if (seq > pc->settled)
		pc->settled = seq;
	for (i = 0; i < pc->nfailed && pc->failed[i] <= pc->settled + 1; i++)
		if (pc->failed[i] == pc->settled + 1)
			pc->settled++;
	if (i == 0)
		return;
	n = pc->nfailed - i;
	memmove(pc->failed, pc->failed + i, n * sizeof *pc->failed);
	pc->nfailed = n;
}

/* Remember a refused seq above the settled point, keeping failed[] sorted. */
static void
pp_settle_failed(struct pp_conn *pc, uint64_t seq)
{
	size_t	 i;

	if (seq <= pc->settled)
		return;
	for (i = 0; i < pc->nfailed && pc->failed[i] < seq; i++)
		;
	if (i < pc->nfailed && pc->failed[i] == seq)
		return;
	pc->failed = xreallocarray(pc->failed, pc->nfailed + 1,
	    sizeof *pc->failed);
	memmove(pc->failed + i + 1, pc->failed + i,
	    (pc->nfailed - i) * sizeof *pc->failed);
	pc->failed[i] = seq;
	pc->nfailed++;
	pp_settle(pc, 0);
}

/* conn upcall: AMPS persisted everything <= seq. */
static void
pp_persisted(struct conn *c, uint64_t seq, void *arg)
{
	struct pubpath		*pp = arg;
	struct pp_conn		*pc = &pp->conns[conn_id(c)];
	struct ipc_client	*last = NULL;
	struct pp_track		*t;

	while (pc->thead < pc->tlen && pc->track[pc->thead].seq <= seq) {
		t = &pc->track[pc->thead++];
		if (t->cl != NULL && t->cl != last) {
			ipc_client_send_persisted(t->cl, pc->id, seq);
			last = t->cl;
		}
	}
	pp_settle(pc, seq);
	pp_check_waiters(pp, pc);
}

/* conn upcall: AMPS refused seq. */
static void
pp_failed(struct conn *c, uint64_t seq, const char *reason, void *arg)
{
	struct pubpath	*pp = arg;
	struct pp_conn	*pc = &pp->conns[conn_id(c)];
	size_t		 i;

	for (i = pc->thead; i < pc->tlen; i++) {
		if (pc->track[i].seq != seq)
			continue;
		if (pc->track[i].cl != NULL)
			ipc_client_send_publish_failed(pc->track[i].cl,
			    pc->track[i].reqid, pc->id, seq,
			    submgr_reason_code(reason), reason);
		pc->track[i].cl = NULL;
		break;
	}
	pc->refused++;
	pp_settle_failed(pc, seq);
	pp_check_waiters(pp, pc);
}

struct pp_state_arg {
	struct conn_status	 st;
	uint32_t		 id;
};

/*
 * Tell one program about a state change; only programs that finished the
 * handshake (pp_hello gave them their data), since CONN_STATE may not
 * precede WELCOME.
 */
static void
pp_state_one(struct ipc_client *cl, void *arg)
{
	struct pp_state_arg	*a = arg;

	if (ipc_client_data(cl) == NULL)
		return;

	ipc_client_send_conn_state(cl, a->st.name, a->id, a->st.wire_state,
	    a->st.state == CONN_IDLE || a->st.state == CONN_GAVE_UP ||
	    a->st.state == CONN_STOPPED ? NULL : a->st.server);
}

/* conn upcall: state changed; tell every program (CONN_STATE). */
static void
pp_state(struct conn *c, enum conn_state s, void *arg)
{
	struct pubpath		*pp = arg;
	struct pp_state_arg	 a;

	if (pp->sp != NULL)
		subpath_state(pp->sp, c, s);
	if (pp->ipc == NULL)
		return;
	conn_get_status(c, &a.st);
	a.id = conn_id(c);
	ipc_foreach(pp->ipc, pp_state_one, &a);
}

/* Append `"key":"escaped"` (with a leading comma unless first). */
static void
pp_frag_str(char **buf, size_t *len, const char *key, const char *v)
{
	size_t	elen = amps_escape(v, strlen(v), NULL, 0);
	size_t	need = *len + elen + strlen(key) + 8;

	*buf = xreallocarray(*buf, need, 1);
	*len += (size_t)snprintf(*buf + *len, need - *len, "%s\"%s\":\"",
	    *len ? "," : "", key);
	amps_escape(v, strlen(v), *buf + *len, elen + 1);
	*len += elen;
	(*buf)[(*len)++] = '"';
}

/* Map a store failure to an IPC error code. */
uint32_t
pubpath_store_err(struct pp_conn *pc)
{
	if (strstr(pubstore_error(pc->ps), "full") != NULL)
		return (AMPSIPC_E_DISK_FULL);
	return (AMPSIPC_E_STORE_UNAVAILABLE);
}

/*
 * The per-program array (one slot per connection) of the last sequence
 * this program appended: what its PUBLISH_FLUSH waits for.  Allocated on
 * first use, freed by the closed hook.
 */
static uint64_t *
pp_client_last(struct pubpath *pp, struct ipc_client *cl)
{
	uint64_t	*last;

	if ((last = ipc_client_data(cl)) == NULL) {
		last = xcalloc(pp->nconns, sizeof *last);
		ipc_client_set_data(cl, last);
	}
	return (last);
}

/* Store one command and queue its reply for the flush phase. */
static int
pp_store(struct pubpath *pp, struct pp_conn *pc, struct ipc_client *cl,
    const struct ipc_cmd *m, enum pubstore_kind kind)
{
	struct pubstore_rec	 r;
	struct pp_pending	*p;
	const char		*topic, *s;
	char			*frag = NULL, num[32];
	size_t			 flen = 0, dlen = 0;
	const void		*data;
	uint64_t		 seq;
	int			 rc;

	if ((topic = ipcwire_str(m, AMPSIPC_T_TOPIC)) == NULL || *topic == 0)
		return (AMPSIPC_E_INVALID_TOPIC);
	data = ipcwire_bytes(m, AMPSIPC_T_DATA, &dlen);
	if ((s = ipcwire_str(m, AMPSIPC_T_CORRELATION_ID)) != NULL)
		pp_frag_str(&frag, &flen, "x", s);
	if ((s = ipcwire_str(m, AMPSIPC_T_SOW_KEY)) != NULL)
		pp_frag_str(&frag, &flen, "k", s);
	if ((s = ipcwire_str(m, AMPSIPC_T_FILTER)) != NULL)
		pp_frag_str(&frag, &flen, "f", s);
	if ((s = ipcwire_str(m, AMPSIPC_T_SOW_KEYS)) != NULL)
		pp_frag_str(&frag, &flen, "sow_keys", s);
	if (ipcwire_has(m, AMPSIPC_T_EXPIRATION)) {
		snprintf(num, sizeof num, "%s\"e\":%llu", flen ? "," : "",
		    (unsigned long long)ipcwire_num(m, AMPSIPC_T_EXPIRATION,
		    0));
		frag = xreallocarray(frag, flen + strlen(num) + 1, 1);
		memcpy(frag + flen, num, strlen(num));
		flen += strlen(num);
	}
	memset(&r, 0, sizeof r);
	r.kind = kind;
	r.topic = topic;
	r.topic_len = strlen(topic);
	r.hdr = frag;
	r.hdr_len = flen;
	r.data = data != NULL ? data : "";
	r.data_len = data != NULL ? dlen : 0;
	rc = pp->draining ? -1 : pubstore_append(pc->ps, &r, &seq);
	free(frag);
	if (rc == -1 && !pp->draining)
		log_warnx("connection %s: publish store refused a message: %s",
		    pc->cc->name, log_safe(pubstore_error(pc->ps), 200));
	if (rc == -1)
		seq = 0;
	if (pp->npending == pp->cpending) {
		pp->cpending = pp->cpending ? pp->cpending * 2 : 256;
		pp->pending = xreallocarray(pp->pending, pp->cpending,
		    sizeof *pp->pending);
	}
	p = &pp->pending[pp->npending++];
	p->cl = cl;
	p->reqid = m->hdr.reqid;
	p->connid = pc->id;
	p->seq = seq;
	p->err = rc == 0 ? 0 : pp->draining ? AMPSIPC_E_SHUTTING_DOWN :
	    pubpath_store_err(pc);
	if (rc == 0)
		pp_client_last(pp, cl)[pc->id] = seq;
	return (0);
}

/* IPC PUBLISH and DELTA_PUBLISH. */
static int
pp_publish_h(struct ipc_client *cl, const struct ipc_cmd *m, void *arg)
{
	struct pubpath	*pp = arg;
	struct pp_conn	*pc;

	if ((pc = pubpath_find(pp, ipcwire_str(m, AMPSIPC_T_CONN))) == NULL)
		return (AMPSIPC_E_NO_SUCH_CONNECTION);
	return (pp_store(pp, pc, cl, m, m->hdr.type == AMPSIPC_DELTA_PUBLISH ?
	    PUBSTORE_DELTA_PUBLISH : PUBSTORE_PUBLISH));
}

/*
 * IPC COMMAND: a sow_delete without ACK_TYPES is stored like a publish
 * (STORED, then PERSISTED); everything else is the receive path's.
 */
static int
pp_command_h(struct ipc_client *cl, const struct ipc_cmd *m, void *arg)
{
	struct pubpath	*pp = arg;
	struct pp_conn	*pc;

	if (ipcwire_num(m, AMPSIPC_T_CMD, 0) != AMPSIPC_CMD_SOW_DELETE ||
	    ipcwire_has(m, AMPSIPC_T_ACK_TYPES)) {
		if (pp->draining && ipcwire_num(m, AMPSIPC_T_CMD, 0) !=
		    AMPSIPC_CMD_UNSUBSCRIBE)
			return (AMPSIPC_E_SHUTTING_DOWN);
		return (subpath_command(pp->sp, cl, m));
	}
	if ((pc = pubpath_find(pp, ipcwire_str(m, AMPSIPC_T_CONN))) == NULL)
		return (AMPSIPC_E_NO_SUCH_CONNECTION);
	return (pp_store(pp, pc, cl, m, PUBSTORE_SOW_DELETE));
}

/* Timer: a flush waiter ran out of time. */
static void
pp_waiter_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pp_waiter	*w = arg, **wp;

	for (wp = &w->pp->waiters; *wp != NULL; wp = &(*wp)->next)
		if (*wp == w) {
			*wp = w->next;
			break;
		}
	pp_waiter_done(w, 1);
}

/* IPC PUBLISH_FLUSH: wait until everything stored so far is persisted. */
static int
pp_flush_h(struct ipc_client *cl, const struct ipc_cmd *m, void *arg)
{
	struct pubpath		*pp = arg;
	struct pp_conn		*pc;
	struct pp_waiter	*w;
	struct timeval		 tv;
	uint64_t		 ms;

	if ((pc = pubpath_find(pp, ipcwire_str(m, AMPSIPC_T_CONN))) == NULL)
		return (AMPSIPC_E_NO_SUCH_CONNECTION);
	w = xcalloc(1, sizeof *w);
	w->pp = pp;
	w->cl = cl;
	w->reqid = m->hdr.reqid;
	w->connid = pc->id;
	w->target = pp_client_last(pp, cl)[pc->id];
	log_debug("connection %s: flush request %u waits for %llu",
	    pc->cc->name, w->reqid, (unsigned long long)w->target);
	w->next = pp->waiters;
	pp->waiters = w;
	ms = ipcwire_num(m, AMPSIPC_T_TIMEOUT_MS, 0);
	if (ms > 0) {
		w->timer = evtimer_new(loop_base(), pp_waiter_cb, w);
		if (w->timer == NULL)
			fatalx("pubpath: evtimer_new failed");
		tv.tv_sec = (time_t)(ms / 1000);
		tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
		evtimer_add(w->timer, &tv);
	}
	pp_check_waiters(pp, pc);
	return (0);
}

/* IPC DISCARD (durable subscriptions). */
static int
pp_discard_h(struct ipc_client *cl, const struct ipc_cmd *m, void *arg)
{
	return (subpath_discard(((struct pubpath *)arg)->sp, cl, m));
}

/* IPC QUEUE_ACK. */
static int
pp_queue_ack_h(struct ipc_client *cl, const struct ipc_cmd *m, void *arg)
{
	return (subpath_queue_ack(((struct pubpath *)arg)->sp, cl, m));
}

/* conn upcall: deliveries and command acks go to the receive path. */
static void
pp_frame(struct conn *c, const struct amps_hdr *h, const char *data,
    size_t len, void *arg)
{
	struct pubpath	*pp = arg;

	if (pp->sp != NULL)
		subpath_frame(pp->sp, c, h, data, len);
}

/* IPC hello hook: the program finished its handshake. */
static void
pp_hello(struct ipc_client *cl, void *arg)
{
	(void)pp_client_last(arg, cl);
}

/* IPC closed hook: forget every pointer to cl (invariant 3). */
static void
pp_closed(struct ipc_client *cl, void *arg)
{
	struct pubpath		*pp = arg;
	struct pp_waiter	*w;
	struct pp_conn		*pc;
	size_t			 i, j;

	subpath_closed(pp->sp, cl);
	for (i = 0; i < pp->npending; i++)
		if (pp->pending[i].cl == cl)
			pp->pending[i].cl = NULL;
	for (w = pp->waiters; w != NULL; w = w->next)
		if (w->cl == cl)
			w->cl = NULL;
	free(ipc_client_data(cl));
	ipc_client_set_data(cl, NULL);
	for (i = 0; i < pp->nconns; i++) {
		pc = &pp->conns[i];
		for (j = pc->thead; j < pc->tlen; j++)
			if (pc->track[j].cl == cl)
				pc->track[j].cl = NULL;
	}
}

/*
 * The flush phase, run by loop.c after every pass: commit every store,
 * then answer the requests of this pass (invariants 1 and 2), then send
 * what is now committed.
 */
void
pubpath_flush(void *arg)
{
	struct pubpath		*pp = arg;
	struct pp_pending	*p;
	struct pp_conn		*pc;
	size_t			 i;
	int			 failed;

	size_t			 lost, j;

	failed = store_flush(pp->set);
	if (failed != 0)
		log_warnx("pubpath: %d store commit(s) failed", failed);
	for (i = 0; i < pp->npending; i++) {
		p = &pp->pending[i];
		pc = &pp->conns[p->connid];
		if (p->err != 0) {
			if (p->err != AMPSIPC_E_SHUTTING_DOWN)
				pc->failed_writes++;
			if (p->cl != NULL)
				ipc_client_reply_error(p->cl, p->reqid, p->err,
				    p->err == AMPSIPC_E_SHUTTING_DOWN ?
				    "daemon shutting down: not stored" :
				    pubstore_error(pc->ps));
		} else if (pubstore_durable_seq(pc->ps) >= p->seq) {
			pc->published++;
			if (p->cl != NULL)
				pp_track_add(pc, p->cl, p->reqid, p->seq);
			if (p->cl != NULL)
				ipc_client_reply_stored(p->cl, p->reqid,
				    p->connid, p->seq);
		} else {
			pc->failed_writes++;
			if (p->cl != NULL)
				ipc_client_reply_error(p->cl, p->reqid,
				    pubpath_store_err(pc),
				    pubstore_error(pc->ps));
		}
	}
	/* Say, per connection, how many messages a failed commit refused. */
	for (i = 0; failed != 0 && i < pp->nconns; i++) {
		pc = &pp->conns[i];
		lost = 0;
		for (j = 0; j < pp->npending; j++) {
			p = &pp->pending[j];
			if (p->connid == pc->id && p->err == 0 &&
			    pubstore_durable_seq(pc->ps) < p->seq)
				lost++;
		}
		if (lost > 0)
			log_warnx("connection %s: publish store refused %zu "
			    "message(s) (commit failed): %s", pc->cc->name,
			    lost, log_safe(pubstore_error(pc->ps), 200));
	}
	pp->npending = 0;
	if (pp->sp != NULL)
		subpath_flush(pp->sp);
	for (i = 0; i < pp->nconns; i++)
		conn_pump(pp->conns[i].conn);
	ipc_release(pp->ipc);		/* replies after the commit */
}

/* Timer: try to bring degraded stores back (store.h, DEGRADED). */
static void
pp_probe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pubpath	*pp = arg;
	struct pp_conn	*pc;
	size_t		 i;

	for (i = 0; i < pp->nconns; i++) {
		pc = &pp->conns[i];
		if (pubstore_state(pc->ps) != STORE_DEGRADED)
			continue;
		if (store_probe(pubstore_store(pc->ps)) == 0)
			log_info("connection %s: publish store writable again",
			    pc->cc->name);
		else
			log_trace(TRACE_STORE, "store: connection %s: publish "
			    "store probe failed, still degraded: %s",
			    pc->cc->name, log_safe(pubstore_error(pc->ps),
			    300));
	}
}

/* Is d_name the store file of a configured connection? */
static int
pp_store_used(const struct conf *conf, const char *d_name)
{
	const char	*c;
	size_t		 i, len;

	for (i = 0; i < conf->nconns; i++) {
		c = conf->conns[i]->name;
		len = strlen(c);
		if (strncmp(d_name, "pub-", 4) == 0 &&
		    strncmp(d_name + 4, c, len) == 0 &&
		    strcmp(d_name + 4 + len, ".db") == 0)
			return (1);
		if (strncmp(d_name, c, len) == 0 &&
		    strcmp(d_name + len, ".bm.db") == 0)
			return (1);
	}
	return (0);
}

/* scandir() filter: publish (pub-*.db) and bookmark (*.bm.db) stores. */
static int
pp_store_name(const struct dirent *de)
{
	size_t	len = strlen(de->d_name);

	if (len > 6 && strcmp(de->d_name + len - 6, ".bm.db") == 0)
		return (1);
	return (len > 7 && strncmp(de->d_name, "pub-", 4) == 0 &&
	    strcmp(de->d_name + len - 3, ".db") == 0);
}

/*
 * Warn once per store file in the state directory that no configured
 * connection uses (invariant 5): a renamed connection leaves its old
 * publish store, maybe with unpersisted messages, and its bookmark
 * store behind.  Publish stores are recognised by their application_id
 * (pubstore_peek_count), so "pub-x.bm.db" is classified by content.
 */
static void
pp_stale_stores(const struct conf *conf)
{
	struct dirent	**v;
	char		 *path;
	uint64_t	  n;
	int		  i, nv;

	if ((nv = scandir(conf->state_dir, &v, pp_store_name,
	    alphasort)) == -1) {
		log_warn("scandir %s", conf->state_dir);
		return;
	}
	for (i = 0; i < nv; i++) {
		if (pp_store_used(conf, v[i]->d_name)) {
			free(v[i]);
			continue;
		}
		xasprintf(&path, "%s/%s", conf->state_dir, v[i]->d_name);
		if (pubstore_peek_count(path, &n) == 0)
			log_warnx("state directory holds %s, used by no "
			    "configured connection (%llu unpersisted "
			    "message(s) in it stay there; rename the "
			    "connection back to send them)", v[i]->d_name,
			    (unsigned long long)n);
		else if (strncmp(v[i]->d_name, "pub-", 4) == 0 &&
		    strcmp(v[i]->d_name + strlen(v[i]->d_name) - 6,
		    ".bm.db") != 0)
			log_warnx("state directory holds %s, used by no "
			    "configured connection (any unpersisted "
			    "messages in it stay there; rename the "
			    "connection back to send them)", v[i]->d_name);
		else
			log_warnx("state directory holds %s, used by no "
			    "configured connection (the bookmarks of its "
			    "durable subscriptions stay there; rename the "
			    "connection back to resume them)", v[i]->d_name);
		free(path);
		free(v[i]);
	}
	free(v);
}

/*
 * Open every publish store (<statedir>/pub-<connection>.db) and create
 * every connection.  Returns NULL with *cause set.  Needs loop_init().
 */
struct pubpath *
pubpath_create(struct conf *conf, char **cause)
{
	struct pubpath		*pp;
	struct pp_conn		*pc;
	struct conn_events	 ev;
	struct timeval		 tv;
	char			*path;
	size_t			 i;

	pp = xcalloc(1, sizeof *pp);
	pp->conf = conf;
	pp->self = geteuid();
	pp->started = loop_now_ms();
	pp->started_wall = (double)time(NULL);
	pp->set = store_set_create();
	store_set_observe(pp->set, pubpath_commit_observed, pp);
	pp->conns = xcalloc(conf->nconns, sizeof *pp->conns);
	memset(&ev, 0, sizeof ev);
	ev.persisted = pp_persisted;
	ev.failed = pp_failed;
	ev.state = pp_state;
	ev.frame = pp_frame;
	ev.arg = pp;
	for (i = 0; i < conf->nconns; i++) {
		pc = &pp->conns[i];
		pc->pp = pp;
		pc->cc = conf->conns[i];
		pc->id = (uint32_t)i;
		pp->nconns = i + 1;
		if (pc->cc->is_default)
			pp->def = pc;
		if (pubpath_acl_compile(pc, cause) == -1)
			goto fail;
		xasprintf(&path, "%s/pub-%s.db", conf->state_dir,
		    pc->cc->name);
		pc->ps = pubstore_open(path, pc->cc->durability ==
		    CONF_DURABILITY_FULL ? STORE_SYNC_FULL : STORE_SYNC_NORMAL,
		    STORE_CREATE, cause);
		free(path);
		if (pc->ps == NULL)
			goto fail;
		if (store_set_add(pp->set, pubstore_store(pc->ps)) == -1) {
			xasprintf(cause, "store_set_add failed");
			goto fail;
		}
		if ((pc->conn = conn_create(pc->cc, pc->id, pc->ps, &ev,
		    cause)) == NULL)
			goto fail;
		log_info("connection %s: publish store has %llu unpersisted "
		    "message(s), last sequence %llu", pc->cc->name,
		    (unsigned long long)pubstore_unpersisted(pc->ps),
		    (unsigned long long)pubstore_last_seq(pc->ps));
	}
	{
		struct conn	**cv = xcalloc(pp->nconns, sizeof *cv);

		for (i = 0; i < pp->nconns; i++)
			cv[i] = pp->conns[i].conn;
		pp->sp = subpath_create(conf, cv, pp->nconns, pp->set, cause);
		free(cv);
		if (pp->sp == NULL)
			goto fail;
	}
	pp->probe = event_new(loop_base(), -1, EV_PERSIST, pp_probe_cb, pp);
	if (pp->probe == NULL)
		fatalx("pubpath: event_new failed");
	tv.tv_sec = 1;
	tv.tv_usec = 0;
	evtimer_add(pp->probe, &tv);
	pp_stale_stores(conf);
	return (pp);
fail:
	pubpath_free(pp);
	return (NULL);
}

/* Fill the IPC handler table and the ACL/log parts of the IPC config. */
void
pubpath_handlers(struct pubpath *pp, struct ipc_handlers *h,
    struct ipc_config *cfg)
{
	memset(h, 0, sizeof *h);
	h->publish = pp_publish_h;
	h->flush = pp_flush_h;
	h->command = pp_command_h;
	h->discard = pp_discard_h;
	h->queue_ack = pp_queue_ack_h;
	h->status = pubpath_status_h;
	h->hello = pp_hello;
	h->closed = pp_closed;
	h->arg = pp;
	cfg->acl = pubpath_acl;
	cfg->acl_arg = pp;
	cfg->log = pp_ipc_log;
	cfg->log_arg = pp;
	cfg->trace = &log_tracemask;
	cfg->trace_bit = TRACE_IPC;
	cfg->default_conn = pp->def != NULL ? pp->def->cc->name : NULL;
}

/* Remember the listener (for status and state notifications). */
void
pubpath_set_ipc(struct pubpath *pp, struct ipc *ipc)
{
	pp->ipc = ipc;
}

/* Start every connection. */
void
pubpath_start(struct pubpath *pp)
{
	size_t	i;

	for (i = 0; i < pp->nconns; i++)
		conn_start(pp->conns[i].conn);
}

/* Stop every connection (shutdown); stores stay open until free. */
void
pubpath_stop(struct pubpath *pp)
{
	size_t	i;

	if (pp->sp != NULL)
		subpath_stop(pp->sp);	/* pending queue acks go first */
	for (i = 0; i < pp->nconns; i++)
		if (pp->conns[i].conn != NULL)
			conn_stop(pp->conns[i].conn);
}

/* Free everything; uncommitted rows are rolled back by the stores. */
void
pubpath_free(struct pubpath *pp)
{
	struct pp_waiter	*w;
	struct pp_conn		*pc;
	size_t			 i;

	if (pp == NULL)
		return;
	while ((w = pp->waiters) != NULL) {
		pp->waiters = w->next;
		w->cl = NULL;
		pp_waiter_done(w, 1);
	}
	subpath_free(pp->sp);
	pp->sp = NULL;
	for (i = 0; i < pp->nconns; i++) {
		pc = &pp->conns[i];
		conn_free(pc->conn);
		if (pc->ps != NULL)
			store_set_remove(pp->set, pubstore_store(pc->ps));
		pubstore_close(pc->ps);
		pubpath_acl_free(pc->allows, pc->nallows);
		free(pc->track);
		free(pc->failed);
	}
	if (pp->probe != NULL)
		event_free(pp->probe);
	store_set_free(pp->set);
	free(pp->conns);
	free(pp->pending);
	free(pp->drain);
	free(pp);
}
