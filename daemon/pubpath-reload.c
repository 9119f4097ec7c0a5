/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * A configuration reload seen by the publish path: for every running
 * connection that the new file still has, the connection's own reload
 * (conn-reload.c: servers, reconnect policy, TLS context) and its allow
 * rules, compiled again from the new block.  Two steps, as in
 * conn-reload.c: pubpath_reload_prepare() does everything that can fail
 * and changes nothing; pubpath_reload_commit() cannot fail.
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
#include "pubpath.h"
#include "pubpath-int.h"
#include "xmalloc.h"

struct pp_reload_conn {
	int			 present;	/* the new file has it */
	struct conn_reload	*crl;
	struct pp_allow		*allows;
	size_t			 nallows;
};

struct pubpath_reload {
	struct pp_reload_conn	*v;
	size_t			 n;
};

/* Drop a prepared reload (NULL is fine). */
void
pubpath_reload_abort(struct pubpath_reload *rl)
{
	size_t	i;

	if (rl == NULL)
		return;
	for (i = 0; i < rl->n; i++) {
		conn_reload_abort(rl->v[i].crl);
		pubpath_acl_free(rl->v[i].allows, rl->v[i].nallows);
	}
	free(rl->v);
	free(rl);
}

/*
 * Prepare every connection of pp for the checked configuration next,
 * whose differences from the running one are d.  Returns the prepared
 * state, or NULL with *cause set; pp is not changed either way.
 */
struct pubpath_reload *
pubpath_reload_prepare(struct pubpath *pp, const struct conf *next,
    const struct conf_diff *d, char **cause)
{
	struct pubpath_reload	*rl;
	struct pp_reload_conn	*r;
	const struct conf_conn	*nc;
	size_t			 i;

	rl = xcalloc(1, sizeof *rl);
	rl->v = xcalloc(pp->nconns ? pp->nconns : 1, sizeof *rl->v);
	rl->n = pp->nconns;
	for (i = 0; i < pp->nconns; i++) {
		r = &rl->v[i];
		if ((nc = conf_find_conn(next, pp->conns[i].cc->name)) == NULL)
			continue;
		r->present = 1;
		if (pubpath_acl_build(nc, &r->allows, &r->nallows,
		    cause) == -1)
			goto fail;
		r->crl = conn_reload_prepare(pp->conns[i].conn, nc,
		    i < d->nconn ? d->conn[i] : 0, cause);
		if (r->crl == NULL)
			goto fail;
	}
	return (rl);

fail:
	pubpath_reload_abort(rl);
	return (NULL);
}

/*
 * Install a prepared reload (consumes rl): connections first, then the
 * allow rules.  Runs before conf_diff_apply() (conn-reload.c).
 */
void
pubpath_reload_commit(struct pubpath *pp, struct pubpath_reload *rl)
{
	struct pp_reload_conn	*r;
	struct pp_conn		*pc;
	size_t			 i;

	for (i = 0; i < rl->n && i < pp->nconns; i++) {
		r = &rl->v[i];
		pc = &pp->conns[i];
		if (!r->present)
			continue;
		conn_reload_commit(pc->conn, r->crl);
		r->crl = NULL;
		pubpath_acl_free(pc->allows, pc->nallows);
		pc->allows = r->allows;
		pc->nallows = r->nallows;
		r->allows = NULL;
		r->nallows = 0;
	}
	pubpath_reload_abort(rl);
}

/* Restart every connection that gave up reconnecting (SIGHUP). */
void
pubpath_restart_gave_up(struct pubpath *pp)
{
	size_t	i;

	for (i = 0; i < pp->nconns; i++)
		conn_restart(pp->conns[i].conn);
}
