/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * A configuration reload seen by one upstream connection, in two steps
 * so that a reload either applies everywhere or nowhere:
 *
 *	conn_reload_prepare()	everything that can fail: parse the new
 *				server URIs, build a new TLS context (the
 *				CA, certificate and key files are read
 *				again, so renewed files take effect);
 *				nothing of the connection changes
 *	conn_reload_commit()	cannot fail: install the servers, the
 *				context and the reconnect policy
 *	conn_reload_abort()	drop what prepare built
 *
 * The caller (server-reload.c) commits before conf_diff_apply() moves
 * the new values into the running configuration block, which conn.c
 * reads directly for what only matters at the next connect or logon
 * (heartbeat, timeouts, TLS server name and verify, client name).
 *
 * Invariants:
 *   (1) The connection keeps no pointer into the new configuration: URIs
 *       are parsed copies, the context is its own.
 *   (2) A connection whose current server stays listed keeps its link;
 *       only the index moves.  One whose current server is gone and that
 *       is connected or connecting moves at once to the first server of
 *       the new list (conn_reconnect_now(), not counted as a failure).
 *   (3) A new TLS context takes effect at the next connect; an open TLS
 *       session keeps the context it was made with (OpenSSL counts the
 *       references).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf-diff.h"
#include "conn-int.h"
#include "log.h"
#include "xmalloc.h"

struct conn_reload {
	unsigned	 bits;		/* CONF_CH_* of this connection */
	struct amps_uri	*uris;		/* CONF_CH_SERVERS */
	char		**redacted;
	size_t		 nuris;
	size_t		 cur;		/* new index of the current server */
	int		 cur_listed;
	SSL_CTX		*ctx;		/* NULL: keep the current one */
	struct connha_policy policy;	/* CONF_CH_RECONNECT */
};

/* Free the parsed URIs of a prepared reload. */
static void
conn_reload_free_uris(struct amps_uri *uris, char **redacted, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		amps_uri_free(&uris[i]);
		free(redacted[i]);
	}
	free(uris);
	free(redacted);
}

/* Drop a prepared reload that will not be committed (NULL is fine). */
void
conn_reload_abort(struct conn_reload *rl)
{
	if (rl == NULL)
		return;
	conn_reload_free_uris(rl->uris, rl->redacted, rl->nuris);
	if (rl->ctx != NULL)
		SSL_CTX_free(rl->ctx);
	free(rl);
}

/*
 * Prepare connection c for the block next (same name; bits are its
 * CONF_CH_* changes).  Returns the prepared state, or NULL with *cause
 * set when a server URI or the TLS files cannot be used; c is not
 * changed either way.
 */
struct conn_reload *
conn_reload_prepare(struct conn *c, const struct conf_conn *next,
    unsigned bits, char **cause)
{
	struct conn_reload	*rl;
	const struct amps_uri	*uris;
	const char		*cururi;
	char			 err[256];
	size_t			 i, n, rlen;
	int			 tls = 0;

	rl = xcalloc(1, sizeof *rl);
	rl->bits = bits;
	rl->policy = next->reconnect;
	if (bits & CONF_CH_SERVERS) {
		rl->uris = xcalloc(next->nservers, sizeof *rl->uris);
		rl->redacted = xcalloc(next->nservers, sizeof *rl->redacted);
		cururi = c->cc->servers[connha_current(&c->ha)].uri;
		for (i = 0; i < next->nservers; i++) {
			rlen = strlen(next->servers[i].uri) + 16;
			rl->redacted[i] = xmalloc(rlen);
			if (amps_uri_redact(next->servers[i].uri,
			    rl->redacted[i], rlen) < 0)
				snprintf(rl->redacted[i], rlen, "(server %zu)",
				    i + 1);
			rl->nuris = i + 1;
			if (amps_uri_parse(next->servers[i].uri, &rl->uris[i],
			    err, sizeof err) != 0) {
				xasprintf(cause, "connection %s: server %s: %s",
				    c->name, rl->redacted[i], err);
				conn_reload_abort(rl);
				return (NULL);
			}
			if (!rl->cur_listed &&
			    strcmp(next->servers[i].uri, cururi) == 0) {
				rl->cur = i;
				rl->cur_listed = 1;
			}
		}
	}
	uris = bits & CONF_CH_SERVERS ? rl->uris : c->uris;
	n = bits & CONF_CH_SERVERS ? rl->nuris : c->nuris;
	for (i = 0; i < n; i++)
		if (uris[i].transport == AMPS_TRANSPORT_TCPS)
			tls = 1;
	if (tls && (rl->ctx = conn_tls_ctx(next, cause)) == NULL) {
		conn_reload_abort(rl);
		return (NULL);
	}
	return (rl);
}

/*
 * Install a prepared reload (consumes rl).  Must run before the new
 * values are moved into c's configuration block (see above).
 */
void
conn_reload_commit(struct conn *c, struct conn_reload *rl)
{
	const char	*old;
	char		 why[600];

	if (rl->bits & CONF_CH_SERVERS) {
		old = c->redacted[connha_current(&c->ha)];
		snprintf(why, sizeof why, "server %s is no longer listed", old);
		conn_reload_free_uris(c->uris, c->redacted, c->nuris);
		c->uris = rl->uris;
		c->redacted = rl->redacted;
		c->nuris = rl->nuris;
		rl->uris = NULL;
		rl->redacted = NULL;
		rl->nuris = 0;
		connha_set_servers(&c->ha, c->nuris, rl->cur);
		if (rl->cur_listed)
			log_info("connection %s: %zu server(s) now; the current "
			    "one (%s) stays", c->name, c->nuris,
			    c->redacted[rl->cur]);
		else if (c->fd != -1) {
			log_info("connection %s: %s; moving to %s", c->name,
			    why, c->redacted[0]);
			conn_reconnect_now(c, why);
		} else
			log_info("connection %s: %zu server(s) now; the next "
			    "attempt goes to %s", c->name, c->nuris,
			    c->redacted[0]);
	}
	if (rl->bits & CONF_CH_RECONNECT)
		connha_set_policy(&c->ha, &rl->policy);
	if (rl->ctx != NULL) {
		if (c->ctx != NULL)
			SSL_CTX_free(c->ctx);
		c->ctx = rl->ctx;
		rl->ctx = NULL;
	}
	conn_reload_abort(rl);
}
