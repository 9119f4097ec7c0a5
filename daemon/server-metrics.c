/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The daemon's figures in one snapshot (struct metrics_snap): built here
 * from the publish path, the connections, the receive path and the IPC
 * listener, and used both by the STATUS text (server-status.c) and by
 * GET /metrics (server_metrics_text), so the two always agree.  Also
 * the group-commit observer that feeds the commit counters and the
 * latency histogram.
 *
 * Invariants:
 *   (1) A snapshot is taken and used within one callback of the loop:
 *       its strings point into struct server_snap storage or into live
 *       clients, which cannot go away before it is freed.
 *   (2) Programs are the live IPC clients grouped by (uid, HELLO name),
 *       sorted by uid then name; every subscription counts for the
 *       program of its client.
 *   (3) Building a snapshot changes nothing in the daemon.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conn.h"
#include "ipc.h"
#include "log.h"
#include "metrics.h"
#include "server.h"
#include "server-int.h"
#include "pubstore.h"
#include "store.h"
#include "subpath.h"
#include "xmalloc.h"

/* One live client while programs are gathered. */
struct server_ment {
	struct ipc_client	*cl;
	unsigned long		 uid;
	const char		*name;
	uint64_t		 queued;
	size_t			 prog;		/* index in snap->progs */
};

struct srv_mgather {
	struct server_ment		*v;
	size_t			 n;
	size_t			 cap;
	struct metrics_snap	*m;
};

/* store_set observer: one commit of the group commit took secs. */
void
server_commit_observed(void *arg, struct store *s, double secs, int ok)
{
	struct server		*srv = arg;
	struct store_rows	 rows;
	int			 k;

	k = strcmp(store_kind(s), "publish store") == 0 ? 0 : 1;
	if (ok)
		srv->commits[k]++;
	else
		srv->commit_failures[k]++;
	metrics_hist_observe(&srv->commit_hist, secs);
	if (log_tracemask & TRACE_STORE) {
		store_last_rows(s, &rows);
		if (ok)
			log_trace0("store: %s %s: commit %llu: %llu rows "
			    "inserted, %llu deleted, %llu updated in %.0f us",
			    store_kind(s), store_path(s),
			    (unsigned long long)store_commits(s),
			    (unsigned long long)rows.inserted,
			    (unsigned long long)rows.deleted,
			    (unsigned long long)rows.updated, secs * 1e6);
		else
			log_trace0("store: %s %s: commit failed in %.0f us: "
			    "%s", store_kind(s), store_path(s), secs * 1e6,
			    log_safe(store_error(s), 300));
	}
}

/* ipc_foreach: remember one client. */
static void
srv_mgather_client(struct ipc_client *cl, void *arg)
{
	struct srv_mgather	*g = arg;
	struct server_ment		*e;

	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 16;
		g->v = xreallocarray(g->v, g->cap, sizeof *g->v);
	}
	e = &g->v[g->n++];
	e->cl = cl;
	e->uid = (unsigned long)ipc_client_uid(cl);
	e->name = ipc_client_name(cl);
	e->queued = ipc_client_queued(cl);
	e->prog = 0;
}

/* Order by program: uid, then name. */
static int
srv_ment_cmp_prog(const void *a, const void *b)
{
	const struct server_ment	*x = a, *y = b;

	if (x->uid != y->uid)
		return (x->uid < y->uid ? -1 : 1);
	return (strcmp(x->name, y->name));
}

/* Order by client address (for bsearch). */
static int
srv_ment_cmp_cl(const void *a, const void *b)
{
	uintptr_t	x = (uintptr_t)((const struct server_ment *)a)->cl;
	uintptr_t	y = (uintptr_t)((const struct server_ment *)b)->cl;

	return (x < y ? -1 : x > y);
}

/* subpath_foreach_sub: count one subscription for its program. */
static void
srv_mgather_sub(struct ipc_client *cl, int durable, uint64_t pending,
    void *arg)
{
	struct srv_mgather	*g = arg;
	struct server_ment		 key, *e;
	struct metrics_prog	*p;

	g->m->subscriptions++;
	if (durable)
		g->m->durable_subscriptions++;
	key.cl = cl;
	if (g->n == 0 || (e = bsearch(&key, g->v, g->n, sizeof *g->v,
	    srv_ment_cmp_cl)) == NULL)
		return;
	p = &g->m->progs[e->prog];
	p->subscriptions++;
	p->pending += pending;
}

/* Programs and subscriptions of the snapshot (invariant 2). */
static void
srv_snapshot_progs(struct server *srv, struct metrics_snap *m)
{
	struct srv_mgather	 g;
	struct metrics_prog	*p;
	size_t			 i;

	memset(&g, 0, sizeof g);
	g.m = m;
	if (srv->ipc != NULL)
		ipc_foreach(srv->ipc, srv_mgather_client, &g);
	if (g.n > 0) {
		qsort(g.v, g.n, sizeof *g.v, srv_ment_cmp_prog);
		m->progs = xcalloc(g.n, sizeof *m->progs);
	}
	for (i = 0; i < g.n; i++) {
		if (i == 0 || srv_ment_cmp_prog(&g.v[i - 1], &g.v[i]) != 0) {
			p = &m->progs[m->nprogs++];
			p->uid = g.v[i].uid;
			p->name = g.v[i].name;
		}
		g.v[i].prog = m->nprogs - 1;
		p = &m->progs[m->nprogs - 1];
		p->clients++;
		p->queued_bytes += g.v[i].queued;
	}
	if (g.n > 0)
		qsort(g.v, g.n, sizeof *g.v, srv_ment_cmp_cl);
	subpath_foreach_sub(srv->sp, srv_mgather_sub, &g);
	free(g.v);
}

/*
 * Fill snap with the daemon's figures now (invariant 1: use it before
 * returning to the loop, then server_snapshot_free()).
 */
void
server_snapshot(struct server *srv, struct server_snap *snap)
{
	struct metrics_snap	*m = &snap->m;
	struct metrics_conn	*mc;
	struct conn_status	*st;
	struct server_conn		*sc;
	struct pubstore_memory	 mem;
	size_t			 i;

	memset(snap, 0, sizeof *snap);
	m->version = PACKAGE_VERSION;
	m->start_time = srv->started_wall;
	m->ipc_clients = srv->ipc != NULL ? ipc_nclients(srv->ipc) : 0;
	m->stores[0].kind = "publish";
	m->stores[0].commits = srv->commits[0];
	m->stores[0].failures = srv->commit_failures[0];
	m->stores[1].kind = "bookmark";
	m->stores[1].commits = srv->commits[1];
	m->stores[1].failures = srv->commit_failures[1];
	m->nstores = 2;
	m->commit = srv->commit_hist;
	snap->st = xcalloc(srv->nconns ? srv->nconns : 1, sizeof *snap->st);
	m->conns = xcalloc(srv->nconns ? srv->nconns : 1, sizeof *m->conns);
	m->nconns = srv->nconns;
	for (i = 0; i < srv->nconns; i++) {
		sc = &srv->conns[i];
		st = &snap->st[i];
		mc = &m->conns[i];
		conn_get_status(sc->conn, st);
		mc->name = sc->cc->name;
		mc->state = ipcwire_state_name(st->wire_state);
		mc->detail = st->state_name;
		mc->server = st->state == CONN_IDLE ||
		    st->state == CONN_GAVE_UP || st->state == CONN_STOPPED ?
		    NULL : st->server;
		mc->is_default = sc == srv->def;
		mc->store_ok = pubstore_state(sc->ps) == STORE_OK;
		mc->store = pubstore_medium(sc->ps);
		pubstore_memory(sc->ps, &mem);
		mc->store_bytes = mem.used;
		mc->store_limit = mem.limit;
		mc->reconnects = st->reconnects;
		mc->logons = st->connects;
		mc->failures = st->failures;
		mc->unpersisted = pubstore_unpersisted(sc->ps);
		mc->published = sc->published;
		mc->acked = pubstore_acked(sc->ps);
		mc->failed_writes = sc->failed_writes;
		mc->refused = sc->refused;
		mc->sent = st->pub_sent;
		mc->replayed = st->pub_replayed;
		mc->renumbered = st->renumbered;
		mc->seq_assumed = st->seq_assumed;
		mc->server_lost = st->server_lost;
		mc->damaged = st->damaged;
		mc->acl_dropped = subpath_acl_dropped(srv->sp, i);
		mc->persisted_seq = pubstore_discarded_seq(sc->ps);
	}
	srv_snapshot_progs(srv, m);
}

/* Free what server_snapshot() allocated. */
void
server_snapshot_free(struct server_snap *snap)
{
	free(snap->m.progs);
	free(snap->m.conns);
	free(snap->st);
	memset(snap, 0, sizeof *snap);
}

/* GET /metrics: the exposition of a fresh snapshot (metrics_text_fn). */
int
server_metrics_text(void *arg, FILE *f)
{
	struct server_snap	snap;
	int		rc;

	server_snapshot(arg, &snap);
	if (metrics_proc_read(&snap.m.proc) == -1)
		log_debug("metrics: cannot read /proc/self: no process_* "
		    "metrics");
	rc = metrics_render(&snap.m, f);
	server_snapshot_free(&snap);
	return (rc);
}

/*
 * The service status for systemd (sdnotify_status_fn): "R/N connections
 * ready, U unpersisted", U summed over the publish stores.
 */
void
server_sd_status(void *arg, char *buf, size_t len)
{
	struct server	*srv = arg;
	uint64_t	 unp = 0;
	size_t		 i, ready = 0;

	for (i = 0; i < srv->nconns; i++) {
		ready += conn_state(srv->conns[i].conn) == CONN_READY;
		unp += pubstore_unpersisted(srv->conns[i].ps);
	}
	snprintf(buf, len, "%zu/%zu connections ready, %llu unpersisted",
	    ready, srv->nconns, (unsigned long long)unp);
}
