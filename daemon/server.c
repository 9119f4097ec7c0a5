/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The server: the daemon's central object (struct server), created once
 * by main() from the configuration.  It owns, for each configured
 * connection, the publish store (pubstore.c), the upstream connection
 * (conn.c) and its delta session (a second upstream session, started by
 * the receive path on its first delta subscription), and it owns the
 * receive path (subpath.c) with its bookmark stores, and the set of
 * stores committed together.  It wires them:
 *
 *   IPC requests     -> the handler table (server_handlers): PUBLISH,
 *                       DELTA_PUBLISH, PUBLISH_FLUSH and stored
 *                       sow_deletes to publish.c; other COMMANDs,
 *                       DISCARD and QUEUE_ACK to the receive path;
 *                       STATUS to server-status.c; the allow rules
 *                       (server-acl.c) checked by ipc.c before each
 *   upstream events  -> persisted and failure acks to publish.c, other
 *                       frames to the receive path, state changes to
 *                       the receive path and to every program
 *                       (CONN_STATE)
 *   flush phase      -> server_flush(), after every loop pass: commit
 *                       the bookmark stores, hand the publish stores'
 *                       new rows to the commit thread (committer.c,
 *                       one for the daemon), answer the publishes whose
 *                       commit has returned (publish_answer), let the
 *                       receive path send what waited, pump committed
 *                       publishes upstream, ask AMPS for a flush where
 *                       a program waits in PUBLISH_FLUSH, send the
 *                       commands held until their program's publishes
 *                       were upstream (subpath_release_held), then
 *                       release the replies held for the commit
 *   commit thread    -> its wake-up pipe: committer_reap() runs each
 *                       finished batch's done() on the loop's thread
 *
 * Its other faces: server-status.c (STATUS text), server-metrics.c (the
 * snapshot behind STATUS and /metrics), server-reload.c (configuration
 * reload), server-drain.c (SIGTERM drain).  While draining, publishes
 * are answered SHUTTING_DOWN in their turn (publish.c) and every other
 * COMMAND but unsubscribe at once.
 *
 * Invariants:
 *   (1) The flush phase commits (bookmark stores) or waits for the
 *       commit (publish stores: pubstore_seq_state()) before it answers:
 *       no reply that waited for a commit leaves before ipc_release() at
 *       the end of the flush phase that saw the commit return.
 *   (2) After ipc's closed() hook no pointer to that client remains here
 *       or in the modules it owns (publish_closed, subpath_closed).
 *   (3) Store files are opened at startup and never recreated behind the
 *       user's back: pubstore_open() refuses damaged or foreign files.
 *   (4) A store file of the state directory that no configured
 *       connection uses (a connection renamed or removed) is reported
 *       once at startup (srv_stale_stores()) and never written, moved or
 *       deleted: only read, to count its unsent messages.
 */

#include "config.h"

#include <sys/types.h>

#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "amps.h"
#include "committer.h"
#include "conf.h"
#include "conn.h"
#include "errmap.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "pubstore.h"
#include "server.h"
#include "server-int.h"
#include "subpath.h"
#include "xmalloc.h"

/* Find a connection by IPC name (NULL = the default). */
struct server_conn *
server_find(struct server *srv, const char *name)
{
	size_t	i;

	if (name == NULL || *name == '\0')
		return (srv->def);
	for (i = 0; i < srv->nconns; i++)
		if (strcmp(srv->conns[i].cc->name, name) == 0)
			return (&srv->conns[i]);
	return (NULL);
}

/* ipc.c log hook. */
static void
srv_ipc_log(void *arg, int level, const char *msg)
{
	if (level == IPC_LOG_TRACE)
		log_trace0("%s", msg);
	else
		log_msg(level, "%s", msg);
}

struct server_state_arg {
	struct conn_status	 st;
	uint32_t		 id;
	char			 reason[300];
};

/*
 * Tell one program about a state change; only programs that finished the
 * handshake (srv_hello gave them their data), since CONN_STATE may not
 * precede WELCOME.
 */
static void
srv_state_one(struct ipc_client *cl, void *arg)
{
	struct server_state_arg	*a = arg;

	if (ipc_client_data(cl) == NULL)
		return;
	ipc_client_send_conn_state(cl, a->st.name, a->id, a->st.wire_state,
	    a->st.state == CONN_IDLE || a->st.state == CONN_GAVE_UP ||
	    a->st.state == CONN_STOPPED ? NULL : a->st.server,
	    a->st.errcode, a->reason);
}

/*
 * Why connection st is not up, for a program (CONN_STATE, status): the
 * last error, after "gave up reconnecting" once it gave up.  Never a
 * credential: conn.c's texts carry none.
 */
void
server_conn_reason(const struct conn_status *st, char *buf, size_t cap)
{
	if (st->errcode == 0)
		snprintf(buf, cap, "%s", "");
	else if (st->down_why == ERRMAP_CONN_GAVE_UP)
		snprintf(buf, cap, "gave up reconnecting; last error: %s",
		    st->last_error);
	else
		snprintf(buf, cap, "%s", st->last_error);
}

/*
 * conn upcall: state changed; the receive path, then every program
 * (not for a delta session: programs see the connection, whose state is
 * its main session's).
 */
static void
srv_state(struct conn *c, enum conn_state s, void *arg)
{
	struct server		*srv = arg;
	struct server_state_arg	 a;

	subpath_state(srv->sp, c, s);
	if (srv->ipc == NULL || conn_id(c) >= srv->nconns_conf)
		return;
	conn_get_status(c, &a.st);
	a.id = conn_id(c);
	server_conn_reason(&a.st, a.reason, sizeof a.reason);
	ipc_foreach(srv->ipc, srv_state_one, &a);
}

/*
 * IPC COMMAND: a sow_delete is stored like a publish and sent with its
 * sequence (publish.c); everything else is the receive path's.
 */
static int
srv_command_h(struct ipc_client *cl, const struct ipcwire_msg *m, void *arg)
{
	struct server	*srv = arg;

	if (ipcwire_num(m, AMPSIPC_T_CMD, 0) == AMPSIPC_CMD_SOW_DELETE) {
		if (!ipcwire_has(m, AMPSIPC_T_TOPIC))
			return (AMPSIPC_E_INVALID_TOPIC);
		return (publish_sow_delete(srv, cl, m));
	}
	if (srv->draining && ipcwire_num(m, AMPSIPC_T_CMD, 0) !=
	    AMPSIPC_CMD_UNSUBSCRIBE)
		return (AMPSIPC_E_SHUTTING_DOWN);
	return (subpath_command(srv->sp, cl, m));
}

/* IPC hello hook: the program finished its handshake. */
static void
srv_hello(struct ipc_client *cl, void *arg)
{
	publish_hello(arg, cl);
}

/* IPC closed hook: forget every pointer to cl (invariant 2). */
static void
srv_closed(struct ipc_client *cl, void *arg)
{
	struct server	*srv = arg;

	subpath_closed(srv->sp, cl);
	publish_closed(srv, cl);
}

/*
 * The flush phase, run by loop.c after every pass (invariant 1): commit
 * the bookmark stores, hand the publish stores' new rows to the commit
 * thread, answer the publishes whose commit has returned (this pass's
 * or an earlier one's), send what is committed, write every
 * connection's frames of this pass in one piece (conn.c invariant 10),
 * then release the replies held for the commit: a program's reply
 * leaves after what its command sent upstream.
 */
void
server_flush(void *arg)
{
	struct server	*srv = arg;
	size_t		 i;
	int		 failed;

	failed = store_flush(srv->set);
	if (failed != 0)
		log_warnx("server: %d bookmark store commit(s) failed", failed);
	for (i = 0; i < srv->nconns; i++)
		if (pubstore_flush(srv->conns[i].ps) != 0)
			log_warnx("connection %s: publish store commit "
			    "failed", srv->conns[i].cc->name);
	publish_answer(srv);
	subpath_flush(srv->sp);
	for (i = 0; i < srv->nconns; i++)
		conn_pump(srv->conns[i].conn);
	publish_flush_upstream(srv);	/* a program waits: AMPS flush */
	subpath_release_held(srv->sp);	/* commands after their publishes */
	for (i = 0; i < srv->nconns; i++)	/* the pass's frames, at once */
		conn_flush_output(srv->conns[i].conn);
	ipc_release(srv->ipc);		/* replies after the commit */
}

/* The commit thread finished a batch: its done() runs here. */
static void
srv_committed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server	*srv = arg;

	committer_reap(srv->cm);
}

/*
 * A publish store's group commit returned (on the loop's thread): count
 * it like the bookmark stores' (server-metrics.c) and say if it failed.
 * The flush phase of this pass answers its publishes.
 */
static void
srv_pub_committed(void *arg, struct pubstore *ps, double secs, int ok)
{
	struct server	*srv = arg;
	size_t		 i;

	srv->answer_due = 1;		/* publish_answer() looks again */
	server_commit_observed(srv, pubstore_store(ps), secs, ok);
	if (ok)
		return;
	for (i = 0; i < srv->nconns; i++)
		if (srv->conns[i].ps == ps)
			log_warnx("connection %s: publish store commit failed: "
			    "%s", srv->conns[i].cc->name,
			    log_safe(pubstore_error(ps), 300));
}


/* Timer: try to bring degraded stores back (store.h, DEGRADED). */
static void
srv_probe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server	*srv = arg;
	struct server_conn	*sc;
	size_t		 i;

	for (i = 0; i < srv->nconns; i++) {
		sc = &srv->conns[i];
		if (pubstore_state(sc->ps) != STORE_DEGRADED)
			continue;
		if (pubstore_probe(sc->ps) == 0)
			log_info("connection %s: publish store writable again",
			    sc->cc->name);
		else
			log_trace(TRACE_STORE, "store: connection %s: publish "
			    "store probe failed, still degraded: %s",
			    sc->cc->name, log_safe(pubstore_error(sc->ps),
			    300));
	}
}

/*
 * Is d_name the store file of a configured connection?  A connection
 * with `durability memory` opens no file: its old files are unused.
 */
static int
srv_store_used(const struct conf *conf, const char *d_name)
{
	const char	*c;
	size_t		 i, len;

	for (i = 0; i < conf->nconns; i++) {
		if (conf->conns[i]->durability == CONF_DURABILITY_MEMORY)
			continue;
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
srv_store_name(const struct dirent *de)
{
	size_t	len = strlen(de->d_name);

	if (len > 6 && strcmp(de->d_name + len - 6, ".bm.db") == 0)
		return (1);
	return (len > 7 && strncmp(de->d_name, "pub-", 4) == 0 &&
	    strcmp(de->d_name + len - 3, ".db") == 0);
}

/*
 * Warn once per store file in the state directory that no configured
 * connection uses (invariant 5): a renamed connection, or one now
 * with `durability memory`, leaves its old publish store, maybe with
 * unpersisted messages, and its bookmark store behind.  Publish stores
 * are recognised by their application_id (pubstore_peek_count), so
 * "pub-x.bm.db" is classified by content.
 */
static void
srv_stale_stores(const struct conf *conf)
{
	struct dirent	**v;
	char		 *path;
	uint64_t	  n;
	int		  i, nv;

	if ((nv = scandir(conf->state_dir, &v, srv_store_name,
	    alphasort)) == -1) {
		log_warn("scandir %s", conf->state_dir);
		return;
	}
	for (i = 0; i < nv; i++) {
		if (srv_store_used(conf, v[i]->d_name)) {
			free(v[i]);
			continue;
		}
		xasprintf(&path, "%s/%s", conf->state_dir, v[i]->d_name);
		if (pubstore_peek_count(path, &n) == 0)
			log_warnx("state directory holds %s, used by no "
			    "configured connection (%llu unpersisted "
			    "message(s) in it stay there; rename the "
			    "connection back, with a durable store, to send "
			    "them)", v[i]->d_name,
			    (unsigned long long)n);
		else if (strncmp(v[i]->d_name, "pub-", 4) == 0 &&
		    strcmp(v[i]->d_name + strlen(v[i]->d_name) - 6,
		    ".bm.db") != 0)
			log_warnx("state directory holds %s, used by no "
			    "configured connection (any unpersisted "
			    "messages in it stay there; rename the "
			    "connection back, with a durable store, to send "
			    "them)", v[i]->d_name);
		else
			log_warnx("state directory holds %s, used by no "
			    "configured connection (the bookmarks of its "
			    "durable subscriptions stay there; rename the "
			    "connection back, with a durable store, to "
			    "resume them)", v[i]->d_name);
		free(path);
		free(v[i]);
	}
	free(v);
}

/*
 * The publish store of connection cc: <statedir>/pub-<connection>.db, or
 * in memory with `durability memory` (pubstore.h).  NULL with *cause.
 */
static struct pubstore *
srv_open_pubstore(const struct conf *conf, const struct conf_conn *cc,
    char **cause)
{
	struct pubstore	*ps;
	char		*path;

	if (cc->durability == CONF_DURABILITY_MEMORY)
		return (pubstore_open_memory(cc->memory_limit, cause));
	xasprintf(&path, "%s/pub-%s.db", conf->state_dir, cc->name);
	ps = pubstore_open(path, cc->durability == CONF_DURABILITY_FULL ?
	    STORE_SYNC_FULL : STORE_SYNC_NORMAL, STORE_CREATE |
	    STORE_CKPT_THREAD, cause);
	free(path);
	return (ps);
}

/*
 * Open every publish store (<statedir>/pub-<connection>.db) and create
 * every connection, then open the receive path's bookmark stores: the
 * publish stores are checked first (invariant 3).  Returns NULL with
 * *cause set.  Needs loop_init().
 */
struct server *
server_create(struct conf *conf, char **cause)
{
	struct server		*srv;
	struct server_conn	*sc;
	struct conn_events	 ev, dev;
	struct timeval		 tv;
	size_t			 i;

	srv = xcalloc(1, sizeof *srv);
	srv->conf = conf;
	srv->self = geteuid();
	srv->acl_gen = 1;
	srv->started = loop_now_ms();
	srv->started_wall = (double)time(NULL);
	srv->set = store_set_create();
	store_set_observe(srv->set, server_commit_observed, srv);
	srv->conns = xcalloc(conf->nconns, sizeof *srv->conns);
	if ((srv->cm = committer_create(cause)) == NULL)
		goto fail;
	srv->cm_ev = event_new(loop_base(), committer_fd(srv->cm),
	    EV_READ | EV_PERSIST, srv_committed_cb, srv);
	if (srv->cm_ev == NULL || event_add(srv->cm_ev, NULL) == -1)
		fatalx("server: cannot watch the commit thread");
	srv->sp = subpath_create(conf, srv->set);
	subpath_set_acl(srv->sp, server_acl_deliver, srv, &srv->acl_gen);
	memset(&ev, 0, sizeof ev);
	ev.persisted = publish_persisted;
	ev.failed = publish_failed;
	ev.renumbered = publish_renumbered;
	ev.state = srv_state;
	ev.arg = srv;
	ev.frame = subpath_frame;
	ev.frame_arg = srv->sp;
	dev = ev;			/* a delta session publishes nothing */
	dev.persisted = NULL;
	dev.failed = NULL;
	srv->nconns_conf = conf->nconns;
	for (i = 0; i < conf->nconns; i++) {
		sc = &srv->conns[i];
		sc->srv = srv;
		sc->cc = conf->conns[i];
		sc->id = (uint32_t)i;
		srv->nconns = i + 1;
		if (sc->cc->is_default)
			srv->def = sc;
		if (server_acl_compile(sc, cause) == -1)
			goto fail;
		if ((sc->ps = srv_open_pubstore(conf, sc->cc, cause)) == NULL)
			goto fail;
		if (*pubstore_notice(sc->ps) != '\0')
			log_warnx("connection %s: publish store: %s",
			    sc->cc->name, pubstore_notice(sc->ps));
		publish_adopt_init(sc);
		pubstore_set_committer(sc->ps, srv->cm, srv_pub_committed, srv);
		if ((sc->conn = conn_create(sc->cc, sc->id, sc->ps, &ev,
		    cause)) == NULL)
			goto fail;
		subpath_attach(srv->sp, sc->id, sc->conn);
		if ((sc->dconn = conn_create_session(sc->cc,
		    (uint32_t)(conf->nconns + i), "delta", NULL, &dev,
		    cause)) == NULL)
			goto fail;
		subpath_attach(srv->sp, (uint32_t)(conf->nconns + i),
		    sc->dconn);
		log_info("connection %s: %s publish store has %llu "
		    "unpersisted message(s), last sequence %llu", sc->cc->name,
		    pubstore_medium(sc->ps),
		    (unsigned long long)pubstore_unpersisted(sc->ps),
		    (unsigned long long)pubstore_last_seq(sc->ps));
	}
	if (subpath_open(srv->sp, cause) == -1)
		goto fail;
	subpath_set_unsent(srv->sp, publish_unsent, srv);
	srv->probe = event_new(loop_base(), -1, EV_PERSIST, srv_probe_cb, srv);
	if (srv->probe == NULL)
		fatalx("server: event_new failed");
	tv.tv_sec = 1;
	tv.tv_usec = 0;
	evtimer_add(srv->probe, &tv);
	srv_stale_stores(conf);
	return (srv);
fail:
	server_free(srv);
	return (NULL);
}

/*
 * Fill the IPC handler table (each request straight to the module that
 * serves it) and the ACL and log parts of the IPC configuration.
 */
void
server_handlers(struct server *srv, struct ipc_handlers *h,
    struct ipc_config *cfg)
{
	memset(h, 0, sizeof *h);
	h->publish.fn = publish_h;
	h->publish.arg = srv;
	h->flush.fn = publish_flush_h;
	h->flush.arg = srv;
	h->command.fn = srv_command_h;
	h->command.arg = srv;
	h->discard.fn = subpath_discard;
	h->discard.arg = srv->sp;
	h->queue_ack.fn = subpath_queue_ack;
	h->queue_ack.arg = srv->sp;
	h->status.fn = server_status_h;
	h->status.arg = srv;
	h->hello = srv_hello;
	h->closed = srv_closed;
	h->arg = srv;
	cfg->acl = server_acl;
	cfg->acl_arg = srv;
	cfg->log = srv_ipc_log;
	cfg->log_arg = srv;
	cfg->trace = &log_tracemask;
	cfg->trace_bit = TRACE_IPC;
	cfg->default_conn = srv->def != NULL ? srv->def->cc->name : NULL;
}

/* Remember the listener (for status and state notifications). */
void
server_set_ipc(struct server *srv, struct ipc *ipc)
{
	srv->ipc = ipc;
}

/* Start every connection. */
void
server_start(struct server *srv)
{
	size_t	i;

	for (i = 0; i < srv->nconns; i++)
		conn_start(srv->conns[i].conn);
}

/* Stop every connection (shutdown); stores stay open until free. */
void
server_stop(struct server *srv)
{
	size_t	i;

	if (srv->sp != NULL)
		subpath_stop(srv->sp);	/* pending queue acks go first */
	for (i = 0; i < srv->nconns; i++) {
		if (srv->conns[i].conn != NULL)
			conn_stop(srv->conns[i].conn);
		if (srv->conns[i].dconn != NULL &&
		    conn_state(srv->conns[i].dconn) != CONN_IDLE)
			conn_stop(srv->conns[i].dconn);	/* if ever started */
	}
}

/* Free everything; uncommitted rows are rolled back by the stores. */
void
server_free(struct server *srv)
{
	struct server_conn	*sc;
	size_t			 i;

	if (srv == NULL)
		return;
	publish_free(srv);
	subpath_free(srv->sp);
	srv->sp = NULL;
	for (i = 0; i < srv->nconns; i++) {
		sc = &srv->conns[i];
		conn_free(sc->conn);
		conn_free(sc->dconn);
		if (sc->ps != NULL && pubstore_commit(sc->ps) != 0)
			log_warnx("connection %s: last publish store commit "
			    "failed", sc->cc->name);
		pubstore_close(sc->ps);
		publish_adopt_free(sc);
		server_acl_free(sc->allows, sc->nallows);
	}
	if (srv->probe != NULL)
		event_free(srv->probe);
	committer_free(srv->cm);	/* after the stores: none in flight */
	if (srv->cm_ev != NULL)
		event_free(srv->cm_ev);
	store_set_free(srv->set);
	free(srv->conns);
	free(srv->drain);
	free(srv);
}
