/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The STATUS reply of the server (docs/IPC.md §7): one "ampsd"
 * line, one "conn" line per connection, then "store", "commit" and
 * "prog" lines; key=value pairs without spaces.  Server URIs are shown
 * with the password redacted.  Programs other than root's and the
 * daemon's own get their own view: the connections they may use, their
 * own subscriptions and unpersisted count, nothing of other users.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ampsipc-wire.h"
#include "conf.h"
#include "conn.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "server-int.h"
#include "pubstore.h"
#include "subpath.h"

/* Print s as a status value: no spaces, printable (docs/IPC.md §7). */
static void
srv_status_val(FILE *f, const char *s)
{
	const char	*p;

	if (s == NULL || *s == '\0') {
		fputc('-', f);
		return;
	}
	for (p = log_safe(s, 400); *p != '\0'; p++)
		fputc(*p == ' ' ? '_' : *p, f);
}

/* The commit-latency histogram as one "commit" line (cumulative). */
static void
srv_status_commit(FILE *f, const struct metrics_hist *h)
{
	size_t	i;

	fprintf(f, "commit count=%llu sum_s=%.6f", (unsigned long long)h->count,
	    h->sum);
	for (i = 0; i < METRICS_HIST_NB; i++)
		fprintf(f, " le_%g=%llu", metrics_hist_bounds[i],
		    (unsigned long long)metrics_hist_le(h, i));
	fprintf(f, " le_inf=%llu\n", (unsigned long long)h->count);
}

/* The messages cl stored on sc that are neither persisted nor refused. */
static uint64_t
srv_own_unpersisted(struct server_conn *sc, const struct ipc_client *cl)
{
	uint64_t	n = 0;
	size_t		i;

	for (i = sc->thead; i < sc->tlen; i++)
		if (sc->track[i].cl == cl && sc->track[i].seq > sc->settled)
			n++;
	return (n);
}

/* May uid/gid use connection sc at all (publish or subscribe)? */
static int
srv_may_use(struct server *srv, struct server_conn *sc, uid_t uid, gid_t gid)
{
	const char	*why;

	return (server_acl(srv, uid, gid, sc->cc->name, NULL,
	    IPC_OP_PUBLISH, &why) || server_acl(srv, uid, gid, sc->cc->name,
	    NULL, IPC_OP_SUBSCRIBE, &why));
}

/* The "error" and "reason" keys: why the connection is not up. */
static void
srv_status_why(FILE *f, const struct conn_status *st)
{
	char	reason[300];

	server_conn_reason(st, reason, sizeof reason);
	fprintf(f, " error=%u reason=", st->errcode);
	srv_status_val(f, reason);
}

/*
 * STATUS from a program that is neither root nor the daemon's user
 * (docs/IPC.md §7, "A program's own view"): the connections its uid may
 * use, each with its state, server (no credentials), why it is not up
 * and this program's own unpersisted count; its own subscriptions and
 * the durable names its uid owns.  Nothing about other programs or
 * users.
 */
static int
srv_status_own(struct server *srv, struct ipc_client *cl,
    const struct ipcwire_msg *m, const char *want)
{
	struct server_conn	*sc;
	struct conn_status	 st;
	char			*text = NULL;
	size_t			 len = 0, i;
	FILE			*f;
	uid_t			 uid = ipc_client_uid(cl);
	gid_t			 gid = ipc_client_gid(cl);
	uint64_t		 now = loop_now_ms();

	if (want != NULL && (sc = server_find(srv, want)) != NULL &&
	    !srv_may_use(srv, sc, uid, gid))
		return (AMPSIPC_E_NOT_PERMITTED);
	if ((f = open_memstream(&text, &len)) == NULL)
		return (AMPSIPC_E_NO_RESOURCES);
	fprintf(f, "ampsd version=%s\n", PACKAGE_VERSION);
	for (i = 0; i < srv->nconns; i++) {
		sc = &srv->conns[i];
		if ((want != NULL && strcmp(want, sc->cc->name) != 0) ||
		    !srv_may_use(srv, sc, uid, gid))
			continue;
		conn_get_status(sc->conn, &st);
		fprintf(f, "conn name=%s id=%u default=%d state=%s server=",
		    sc->cc->name, sc->id, sc == srv->def,
		    ipcwire_state_name(st.wire_state));
		srv_status_val(f, st.state == CONN_IDLE ||
		    st.state == CONN_GAVE_UP || st.state == CONN_STOPPED ?
		    NULL : st.server);
		fprintf(f, " detail=%s since_ms=%llu last_error=",
		    st.state_name,
		    (unsigned long long)(now - st.state_since_ms));
		srv_status_val(f, st.last_error);
		srv_status_why(f, &st);
		fprintf(f, " own_unpersisted=%llu\n",
		    (unsigned long long)srv_own_unpersisted(sc, cl));
	}
	if (srv->sp != NULL)
		subpath_status(srv->sp, f, want != NULL ?
		    (int)server_find(srv, want)->id : -1, cl);
	fclose(f);
	ipc_client_reply_status(cl, m->hdr.reqid, text);
	free(text);
	return (0);
}

/*
 * IPC STATUS (docs/IPC.md §7): an "ampsd" line, one "conn" line per
 * connection, then "store", "commit" and "prog" lines; with CONN only
 * the "ampsd" line and that connection's "conn" line.  The figures come
 * from the same snapshot as /metrics (server-metrics.c).  Extra keys
 * beyond the documented ones are allowed by the format.  Root and the
 * daemon's own user get it all; other programs their own view
 * (srv_status_own).
 */
int
server_status_h(struct ipc_client *cl, const struct ipcwire_msg *m, void *arg)
{
	struct server		*srv = arg;
	struct server_conn		*sc;
	struct server_snap		 snap;
	const struct metrics_conn *mc;
	const struct metrics_prog *mp;
	struct conn_status	*st;
	const char		*want = ipcwire_str(m, AMPSIPC_T_CONN);
	const char		*store;
	char			*text = NULL;
	size_t			 len = 0, i;
	FILE			*f;
	uint64_t		 now = loop_now_ms();
	int			 one = want != NULL && *want != '\0';

	if (one && server_find(srv, want) == NULL)
		return (AMPSIPC_E_NO_SUCH_CONNECTION);
	if (ipc_client_uid(cl) != 0 && ipc_client_uid(cl) != srv->self)
		return (srv_status_own(srv, cl, m, one ? want : NULL));
	if ((f = open_memstream(&text, &len)) == NULL)
		return (AMPSIPC_E_NO_RESOURCES);
	server_snapshot(srv, &snap);
	fprintf(f, "ampsd version=%s pid=%ld uptime_s=%llu clients=%llu "
	    "passes=%llu subscriptions=%llu durable_subscriptions=%llu "
	    "start_time=%.0f\n", PACKAGE_VERSION,
	    (long)getpid(), (unsigned long long)((now - srv->started) / 1000),
	    (unsigned long long)snap.m.ipc_clients,
	    (unsigned long long)loop_passes(),
	    (unsigned long long)snap.m.subscriptions,
	    (unsigned long long)snap.m.durable_subscriptions,
	    snap.m.start_time);
	for (i = 0; i < srv->nconns; i++) {
		sc = &srv->conns[i];
		if (one && strcmp(want, sc->cc->name) != 0)
			continue;
		st = &snap.st[i];
		mc = &snap.m.conns[i];
		if (mc->store_ok)
			store = "ok";
		else if (publish_store_err(sc) == AMPSIPC_E_DISK_FULL)
			store = "full";
		else
			store = "degraded";
		fprintf(f, "conn name=%s id=%u default=%d state=%s server=",
		    sc->cc->name, sc->id, mc->is_default, mc->state);
		srv_status_val(f, mc->server);
		fprintf(f, " client_name=");
		srv_status_val(f, st->client_name);
		fprintf(f, " next_seq=%llu persisted_seq=%llu unpersisted=%llu "
		    "store=%s detail=%s since_ms=%llu server_index=%zu/%zu "
		    "sent_seq=%llu logon_seq=%llu connects=%llu failures=%llu "
		    "last_error=",
		    (unsigned long long)pubstore_last_seq(sc->ps) + 1,
		    (unsigned long long)mc->persisted_seq,
		    (unsigned long long)mc->unpersisted, store,
		    mc->detail,
		    (unsigned long long)(now - st->state_since_ms),
		    st->server_index + 1, st->nservers,
		    (unsigned long long)st->sent_seq,
		    (unsigned long long)st->logon_seq,
		    (unsigned long long)st->connects,
		    (unsigned long long)st->failures);
		srv_status_val(f, st->last_error);
		srv_status_why(f, st);
		fprintf(f, " own_unpersisted=%llu",
		    (unsigned long long)srv_own_unpersisted(sc, cl));
		fprintf(f, " reconnects=%llu published=%llu acked=%llu "
		    "failed_writes=%llu refused=%llu sent=%llu replayed=%llu "
		    "renumbered=%llu seq_assumed=%llu server_lost=%llu "
		    "damaged=%llu acl_dropped=%llu medium=%s store_bytes=%llu "
		    "store_limit=%llu\n",
		    (unsigned long long)mc->reconnects,
		    (unsigned long long)mc->published,
		    (unsigned long long)mc->acked,
		    (unsigned long long)mc->failed_writes,
		    (unsigned long long)mc->refused,
		    (unsigned long long)mc->sent,
		    (unsigned long long)mc->replayed,
		    (unsigned long long)mc->renumbered,
		    (unsigned long long)mc->seq_assumed,
		    (unsigned long long)mc->server_lost,
		    (unsigned long long)mc->damaged,
		    (unsigned long long)mc->acl_dropped, mc->store,
		    (unsigned long long)mc->store_bytes,
		    (unsigned long long)mc->store_limit);
	}
	for (i = 0; !one && i < snap.m.nstores; i++)
		fprintf(f, "store kind=%s commits=%llu failures=%llu\n",
		    snap.m.stores[i].kind,
		    (unsigned long long)snap.m.stores[i].commits,
		    (unsigned long long)snap.m.stores[i].failures);
	if (!one)
		srv_status_commit(f, &snap.m.commit);
	for (i = 0; !one && i < snap.m.nprogs; i++) {
		mp = &snap.m.progs[i];
		fprintf(f, "prog uid=%lu name=", mp->uid);
		srv_status_val(f, mp->name);
		fprintf(f, " clients=%llu subscriptions=%llu pending=%llu "
		    "queued_bytes=%llu\n", (unsigned long long)mp->clients,
		    (unsigned long long)mp->subscriptions,
		    (unsigned long long)mp->pending,
		    (unsigned long long)mp->queued_bytes);
	}
	server_snapshot_free(&snap);
	if (srv->sp != NULL)	/* "sub" and "durable" lines */
		subpath_status(srv->sp, f, one ?
		    (int)server_find(srv, want)->id : -1, NULL);
	fclose(f);
	ipc_client_reply_status(cl, m->hdr.reqid, text);
	free(text);
	return (0);
}
