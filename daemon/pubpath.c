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
 *   PUBLISH_FLUSH            -> wait until everything stored so far on
 *                               that connection is persisted
 *   STATUS                   -> text, one line per connection
 *
 * Invariants:
 *   (1) No STORED reply is queued before the commit covering its row has
 *       returned successfully (pubstore_durable_seq() >= seq).
 *   (2) A request whose row was lost with a failed commit gets an ERROR,
 *       never STORED.
 *   (3) After ipc's closed() hook no pointer to that client remains here
 *       (pending replies, trackers and flush waiters are cleared).
 *   (4) Store files are opened at startup and never recreated behind the
 *       user's back: pubstore_open() refuses damaged or foreign files.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/types.h>

#include <grp.h>
#include <pwd.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "amps.h"
#include "conf.h"
#include "conn.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "pubpath.h"
#include "pubstore.h"
#include "xmalloc.h"

/* A request waiting for the commit. */
struct pp_pending {
	struct ipc_client	*cl;
	uint32_t		 reqid;
	uint32_t		 connid;
	uint64_t		 seq;
};

/* A stored message not yet persisted: who to tell on ack or failure. */
struct pp_track {
	struct ipc_client	*cl;
	uint32_t		 reqid;
	uint64_t		 seq;
};

/* A PUBLISH_FLUSH in progress. */
struct pp_waiter {
	struct pubpath		*pp;
	struct ipc_client	*cl;
	uint32_t		 reqid;
	uint32_t		 connid;
	uint64_t		 target;
	struct event		*timer;
	struct pp_waiter	*next;
};

/* A compiled allow rule. */
struct pp_allow {
	int			 what;
	int			 any;		/* name "*" */
	int			 is_group;
	uid_t			 uid;
	gid_t			 gid;
	uid_t			*members;	/* group members' uids */
	size_t			 nmembers;
	regex_t			 re;
};

struct pp_conn {
	struct pubpath		*pp;
	struct conf_conn	*cc;
	uint32_t		 id;
	struct pubstore		*ps;
	struct conn		*conn;
	struct pp_track		*track;
	size_t			 thead;
	size_t			 tlen;
	size_t			 tcap;
	struct pp_allow		*allows;
	size_t			 nallows;
};

struct pubpath {
	struct conf		*conf;
	struct pp_conn		*conns;
	size_t			 nconns;
	struct pp_conn		*def;
	struct store_set	*set;
	struct pp_pending	*pending;
	size_t			 npending;
	size_t			 cpending;
	struct pp_waiter	*waiters;
	struct ipc		*ipc;
	struct event		*probe;		/* 1 s: retry degraded stores */
	uid_t			 self;
};

/* Find a connection by IPC name (NULL = the default). */
static struct pp_conn *
pp_find(struct pubpath *pp, const char *name)
{
	size_t	i;

	if (name == NULL || *name == '\0')
		return (pp->def);
	for (i = 0; i < pp->nconns; i++)
		if (strcmp(pp->conns[i].cc->name, name) == 0)
			return (&pp->conns[i]);
	return (NULL);
}

/* Compile the allow rules of one connection; -1 with *cause on error. */
static int
pp_compile_allows(struct pp_conn *pc, char **cause)
{
	const struct conf_allow	*a;
	struct pp_allow		*r;
	struct passwd		*pw;
	struct group		*gr;
	size_t			 i, j;

	pc->allows = xcalloc(pc->cc->nallows, sizeof *pc->allows);
	for (i = 0; i < pc->cc->nallows; i++) {
		a = &pc->cc->allows[i];
		r = &pc->allows[i];
		r->what = a->what;
		r->is_group = a->is_group;
		if (strcmp(a->name, "*") == 0)
			r->any = 1;
		else if (!a->is_group) {
			if ((pw = getpwnam(a->name)) == NULL) {
				xasprintf(cause, "connection %s: allow: no "
				    "such user \"%s\"", pc->cc->name, a->name);
				return (-1);
			}
			r->uid = pw->pw_uid;
		} else {
			if ((gr = getgrnam(a->name)) == NULL) {
				xasprintf(cause, "connection %s: allow: no "
				    "such group \"%s\"", pc->cc->name, a->name);
				return (-1);
			}
			r->gid = gr->gr_gid;
			for (j = 0; gr->gr_mem[j] != NULL; j++)
				continue;
			r->members = xcalloc(j, sizeof *r->members);
			for (j = 0; gr->gr_mem[j] != NULL; j++) {
				if ((pw = getpwnam(gr->gr_mem[j])) != NULL)
					r->members[r->nmembers++] = pw->pw_uid;
			}
		}
		if (regcomp(&r->re, a->topic, REG_EXTENDED | REG_NOSUB) != 0) {
			xasprintf(cause, "connection %s: allow: bad topic "
			    "expression", pc->cc->name);
			return (-1);
		}
		pc->nallows = i + 1;
	}
	return (0);
}

/* Does rule r cover uid/gid? */
static int
pp_allow_who(const struct pp_allow *r, uid_t uid, gid_t gid)
{
	size_t	i;

	if (r->any)
		return (1);
	if (!r->is_group)
		return (r->uid == uid);
	if (r->gid == gid)
		return (1);
	for (i = 0; i < r->nmembers; i++)
		if (r->members[i] == uid)
			return (1);
	return (0);
}

/* The ACL hook for ipc.c (architecture promise 4). */
static int
pp_acl(void *arg, uid_t uid, gid_t gid, const char *conn, const char *topic,
    enum ipc_op op)
{
	struct pubpath	*pp = arg;
	struct pp_conn	*pc;
	size_t		 i, j;
	int		 want;

	if (uid == 0 || uid == pp->self)
		return (1);
	if (op == IPC_OP_ADMIN)
		return (0);
	if (op == IPC_OP_CONNECT) {
		for (i = 0; i < pp->nconns; i++)
			for (j = 0; j < pp->conns[i].nallows; j++)
				if (pp_allow_who(&pp->conns[i].allows[j], uid,
				    gid))
					return (1);
		return (0);
	}
	if ((pc = pp_find(pp, conn)) == NULL)
		return (0);
	want = op == IPC_OP_PUBLISH ? CONF_ALLOW_PUBLISH :
	    CONF_ALLOW_SUBSCRIBE;
	for (j = 0; j < pc->nallows; j++) {
		if (!(pc->allows[j].what & want) ||
		    !pp_allow_who(&pc->allows[j], uid, gid))
			continue;
		if (topic == NULL ||
		    regexec(&pc->allows[j].re, topic, 0, NULL, 0) == 0)
			return (1);
	}
	return (0);
}

/* ipc.c log hook. */
static void
pp_ipc_log(void *arg, int level, const char *msg)
{
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
	for (wp = &pp->waiters; (w = *wp) != NULL;) {
		if (w->connid == pc->id && (w->target <= done ||
		    pubstore_unpersisted(pc->ps) == 0)) {
			*wp = w->next;
			pp_waiter_done(w, 0);
		} else
			wp = &w->next;
	}
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
			    AMPSIPC_E_COMMAND, reason);
		pc->track[i].cl = NULL;
		break;
	}
	pp_check_waiters(pp, pc);
}

/* Tell every program about a state change. */
static void
pp_state_one(struct ipc_client *cl, void *arg)
{
	struct conn_status	*st = arg;

	ipc_client_send_conn_state(cl, st->name, (uint32_t)st->server_index,
	    st->wire_state, st->server);
}

/* conn upcall: state changed. */
static void
pp_state(struct conn *c, enum conn_state s, void *arg)
{
	struct pubpath		*pp = arg;
	struct conn_status	 st;

	if (pp->ipc == NULL)
		return;
	conn_get_status(c, &st);
	ipc_foreach(pp->ipc, pp_state_one, &st);
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
static uint32_t
pp_store_err(struct pp_conn *pc)
{
	if (strstr(pubstore_error(pc->ps), "full") != NULL)
		return (AMPSIPC_E_DISK_FULL);
	return (AMPSIPC_E_STORE_UNAVAILABLE);
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
	rc = pubstore_append(pc->ps, &r, &seq);
	free(frag);
	if (rc == -1) {
		log_warnx("connection %s: publish store refused a message: %s",
		    pc->cc->name, pubstore_error(pc->ps));
		return ((int)pp_store_err(pc));
	}
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
	return (0);
}

/* IPC PUBLISH and DELTA_PUBLISH. */
static int
pp_publish_h(struct ipc_client *cl, const struct ipc_cmd *m, void *arg)
{
	struct pubpath	*pp = arg;
	struct pp_conn	*pc;

	if ((pc = pp_find(pp, ipcwire_str(m, AMPSIPC_T_CONN))) == NULL)
		return (AMPSIPC_E_NO_SUCH_CONNECTION);
	return (pp_store(pp, pc, cl, m, m->hdr.type == AMPSIPC_DELTA_PUBLISH ?
	    PUBSTORE_DELTA_PUBLISH : PUBSTORE_PUBLISH));
}

/* IPC COMMAND: only sow_delete is handled here (it is stored). */
static int
pp_command_h(struct ipc_client *cl, const struct ipc_cmd *m, void *arg)
{
	struct pubpath	*pp = arg;
	struct pp_conn	*pc;

	if (ipcwire_num(m, AMPSIPC_T_CMD, 0) != AMPSIPC_CMD_SOW_DELETE)
		return (AMPSIPC_E_NOT_SUPPORTED);
	if ((pc = pp_find(pp, ipcwire_str(m, AMPSIPC_T_CONN))) == NULL)
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

	if ((pc = pp_find(pp, ipcwire_str(m, AMPSIPC_T_CONN))) == NULL)
		return (AMPSIPC_E_NO_SUCH_CONNECTION);
	w = xcalloc(1, sizeof *w);
	w->pp = pp;
	w->cl = cl;
	w->reqid = m->hdr.reqid;
	w->connid = pc->id;
	w->target = pubstore_last_seq(pc->ps);
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

/* IPC STATUS: one line per connection (key=value pairs). */
static int
pp_status_h(struct ipc_client *cl, const struct ipc_cmd *m, void *arg)
{
	struct pubpath		*pp = arg;
	struct pp_conn		*pc;
	struct conn_status	 st;
	const char		*want = ipcwire_str(m, AMPSIPC_T_CONN);
	char			*text = NULL;
	size_t			 len = 0, i;
	FILE			*f;
	uint64_t		 now = loop_now_ms();

	if ((f = open_memstream(&text, &len)) == NULL)
		return (AMPSIPC_E_NO_RESOURCES);
	fprintf(f, "daemon pid=%ld clients=%u passes=%llu\n", (long)getpid(),
	    pp->ipc ? ipc_nclients(pp->ipc) : 0,
	    (unsigned long long)loop_passes());
	for (i = 0; i < pp->nconns; i++) {
		pc = &pp->conns[i];
		if (want != NULL && *want != '\0' &&
		    strcmp(want, pc->cc->name) != 0)
			continue;
		conn_get_status(pc->conn, &st);
		fprintf(f, "connection %s%s state=%s since=%llums server=%s "
		    "server-index=%zu/%zu client-name=%s connects=%llu "
		    "failures=%llu logon-seq=%llu sent-seq=%llu "
		    "persisted-seq=%llu stored-seq=%llu unpersisted=%llu "
		    "store=%s",
		    st.name, pc == pp->def ? " (default)" : "", st.state_name,
		    (unsigned long long)(now - st.state_since_ms), st.server,
		    st.server_index + 1, st.nservers, st.client_name,
		    (unsigned long long)st.connects,
		    (unsigned long long)st.failures,
		    (unsigned long long)st.logon_seq,
		    (unsigned long long)st.sent_seq,
		    (unsigned long long)st.persisted_seq,
		    (unsigned long long)pubstore_last_seq(pc->ps),
		    (unsigned long long)pubstore_unpersisted(pc->ps),
		    pubstore_state(pc->ps) == STORE_OK ? "ok" : "degraded");
		if (st.last_error[0] != '\0')
			fprintf(f, " last-error=\"%s\"",
			    log_safe(st.last_error, 200));
		fputc('\n', f);
	}
	fclose(f);
	ipc_client_reply_status(cl, m->hdr.reqid, text);
	free(text);
	return (0);
}

/* IPC closed hook: forget every pointer to cl (invariant 3). */
static void
pp_closed(struct ipc_client *cl, void *arg)
{
	struct pubpath		*pp = arg;
	struct pp_waiter	*w;
	struct pp_conn		*pc;
	size_t			 i, j;

	for (i = 0; i < pp->npending; i++)
		if (pp->pending[i].cl == cl)
			pp->pending[i].cl = NULL;
	for (w = pp->waiters; w != NULL; w = w->next)
		if (w->cl == cl)
			w->cl = NULL;
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

	failed = store_flush(pp->set);
	if (failed != 0)
		log_warnx("pubpath: %d store commit(s) failed", failed);
	for (i = 0; i < pp->npending; i++) {
		p = &pp->pending[i];
		pc = &pp->conns[p->connid];
		if (pubstore_durable_seq(pc->ps) >= p->seq) {
			pp_track_add(pc, p->cl, p->reqid, p->seq);
			if (p->cl != NULL)
				ipc_client_reply_stored(p->cl, p->reqid,
				    p->connid, p->seq);
		} else if (p->cl != NULL)
			ipc_client_reply_error(p->cl, p->reqid,
			    pp_store_err(pc), pubstore_error(pc->ps));
	}
	pp->npending = 0;
	for (i = 0; i < pp->nconns; i++)
		conn_pump(pp->conns[i].conn);
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
	}
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
	pp->set = store_set_create();
	pp->conns = xcalloc(conf->nconns, sizeof *pp->conns);
	memset(&ev, 0, sizeof ev);
	ev.persisted = pp_persisted;
	ev.failed = pp_failed;
	ev.state = pp_state;
	ev.arg = pp;
	for (i = 0; i < conf->nconns; i++) {
		pc = &pp->conns[i];
		pc->pp = pp;
		pc->cc = conf->conns[i];
		pc->id = (uint32_t)i;
		pp->nconns = i + 1;
		if (pc->cc->is_default)
			pp->def = pc;
		if (pp_compile_allows(pc, cause) == -1)
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
	pp->probe = event_new(loop_base(), -1, EV_PERSIST, pp_probe_cb, pp);
	if (pp->probe == NULL)
		fatalx("pubpath: event_new failed");
	tv.tv_sec = 1;
	tv.tv_usec = 0;
	evtimer_add(pp->probe, &tv);
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
	h->status = pp_status_h;
	h->closed = pp_closed;
	h->arg = pp;
	cfg->acl = pp_acl;
	cfg->acl_arg = pp;
	cfg->log = pp_ipc_log;
	cfg->log_arg = pp;
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

/*
 * SIGHUP: restart connections that gave up.  (Re-reading the
 * configuration is not supported yet; it is only logged.)
 */
void
pubpath_hup(void *arg)
{
	struct pubpath	*pp = arg;
	size_t		 i;

	log_info("SIGHUP: restarting connections that gave up; configuration "
	    "changes need a restart");
	for (i = 0; i < pp->nconns; i++)
		conn_restart(pp->conns[i].conn);
}

/* Stop every connection (shutdown); stores stay open until free. */
void
pubpath_stop(struct pubpath *pp)
{
	size_t	i;

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
	size_t			 i, j;

	if (pp == NULL)
		return;
	while ((w = pp->waiters) != NULL) {
		pp->waiters = w->next;
		w->cl = NULL;
		pp_waiter_done(w, 1);
	}
	for (i = 0; i < pp->nconns; i++) {
		pc = &pp->conns[i];
		conn_free(pc->conn);
		if (pc->ps != NULL)
			store_set_remove(pp->set, pubstore_store(pc->ps));
		pubstore_close(pc->ps);
		for (j = 0; j < pc->nallows; j++) {
			regfree(&pc->allows[j].re);
			free(pc->allows[j].members);
		}
		free(pc->allows);
		free(pc->track);
	}
	if (pp->probe != NULL)
		event_free(pp->probe);
	store_set_free(pp->set);
	free(pp->conns);
	free(pp->pending);
	free(pp);
}
