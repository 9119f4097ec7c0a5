/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * A configuration reload seen by the server: for every running
 * connection that the new file still has, the connection's own reload
 * (conn-reload.c: servers, reconnect policy, TLS context; the same for
 * its delta session) and its allow
 * rules, compiled again from the new block.  Two steps, as in
 * conn-reload.c: server_reload_prepare() does everything that can fail
 * and changes nothing; server_reload_commit() cannot fail.
 *
 * Invariants:
 *   (1) Allow rules are always compiled again, even when their text did
 *       not change, so a reload picks up new group members and users
 *       (and fails, changing nothing, if a named user is gone).
 *   (2) A connection the new file does not have keeps running unchanged
 *       (removing one needs a restart: conf-diff.c).
 *   (3) Requests that arrive after the commit are checked against the
 *       new rules; programs already connected stay connected, and their
 *       subscriptions keep running.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>

#include "conf.h"
#include "conf-diff.h"
#include "conn.h"
#include "log.h"
#include "server.h"
#include "server-int.h"
#include "xmalloc.h"

struct server_reload_conn {
	int			 present;	/* the new file has it */
	struct conn_reload	*crl;
	struct conn_reload	*dcrl;		/* its delta session's */
	struct server_allow		*allows;
	size_t			 nallows;
};

struct server_reload {
	struct server_reload_conn	*v;
	size_t			 n;
};

/* Drop a prepared reload (NULL is fine). */
void
server_reload_abort(struct server_reload *rl)
{
	size_t	i;

	if (rl == NULL)
		return;
	for (i = 0; i < rl->n; i++) {
		conn_reload_abort(rl->v[i].crl);
		conn_reload_abort(rl->v[i].dcrl);
		server_acl_free(rl->v[i].allows, rl->v[i].nallows);
	}
	free(rl->v);
	free(rl);
}

/*
 * Prepare every connection of srv for the checked configuration next,
 * whose differences from the running one are d.  Returns the prepared
 * state, or NULL with *cause set; srv is not changed either way.
 */
struct server_reload *
server_reload_prepare(struct server *srv, const struct conf *next,
    const struct conf_diff *d, char **cause)
{
	struct server_reload	*rl;
	struct server_reload_conn	*r;
	const struct conf_conn	*nc;
	size_t			 i;

	rl = xcalloc(1, sizeof *rl);
	rl->v = xcalloc(srv->nconns ? srv->nconns : 1, sizeof *rl->v);
	rl->n = srv->nconns;
	for (i = 0; i < srv->nconns; i++) {
		r = &rl->v[i];
		if ((nc = conf_find_conn(next, srv->conns[i].cc->name)) == NULL)
			continue;
		r->present = 1;
		if (server_acl_build(nc, &r->allows, &r->nallows,
		    cause) == -1)
			goto fail;
		r->crl = conn_reload_prepare(srv->conns[i].conn, nc,
		    i < d->nconn ? d->conn[i] : 0, cause);
		if (r->crl == NULL)
			goto fail;
		r->dcrl = conn_reload_prepare(srv->conns[i].dconn, nc,
		    i < d->nconn ? d->conn[i] : 0, cause);
		if (r->dcrl == NULL)
			goto fail;
	}
	return (rl);

fail:
	server_reload_abort(rl);
	return (NULL);
}

/*
 * Install a prepared reload (consumes rl): connections first, then the
 * allow rules.  Runs before conf_diff_apply() (conn-reload.c).
 */
void
server_reload_commit(struct server *srv, struct server_reload *rl)
{
	struct server_reload_conn	*r;
	struct server_conn		*sc;
	size_t			 i;

	for (i = 0; i < rl->n && i < srv->nconns; i++) {
		r = &rl->v[i];
		sc = &srv->conns[i];
		if (!r->present)
			continue;
		conn_reload_commit(sc->conn, r->crl);
		r->crl = NULL;
		conn_reload_commit(sc->dconn, r->dcrl);
		r->dcrl = NULL;
		server_acl_free(sc->allows, sc->nallows);
		sc->allows = r->allows;
		sc->nallows = r->nallows;
		r->allows = NULL;
		r->nallows = 0;
	}
	srv->acl_gen++;		/* deliveries follow the new rules */
	server_reload_abort(rl);
}

/* Restart every connection that gave up reconnecting (SIGHUP). */
void
server_restart_gave_up(struct server *srv)
{
	size_t	i;

	for (i = 0; i < srv->nconns; i++) {
		conn_restart(srv->conns[i].conn);
		conn_restart(srv->conns[i].dconn);
	}
}
