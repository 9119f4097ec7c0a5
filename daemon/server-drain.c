/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The server's part of the SIGTERM drain (drain.c runs it):
 *
 *	server_drain_begin()	refuse new publishes and commands (ERROR
 *				SHUTTING_DOWN) and tell every program, with
 *				a non-fatal ERROR SHUTTING_DOWN (reqid 0),
 *				that the daemon is going away
 *	server_drain_left()	how many stored messages AMPS has not
 *				settled yet, and whether waiting can help
 *	server_drain_end()	answer the flush waiters, then close every
 *				program with a fatal ERROR SHUTTING_DOWN once
 *				its queued output (PERSISTED ...) is written
 *	server_drain_report()	log, per connection, what stays unpersisted
 *
 * Invariants:
 *   (1) Nothing is lost: a message AMPS did not persist stays in the
 *       publish store and is replayed after the next start.
 *   (2) Acknowledgements of what programs already received (DISCARD,
 *       QUEUE_ACK) are still taken while draining.
 *   (3) The count of waiting messages is the store's own (an SQL count
 *       of the rows AMPS has not settled), redone only when a
 *       connection's discard point, settled point or refusals moved:
 *       nothing is appended while draining, so only those change it.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "conf.h"
#include "conn.h"
#include "ipc.h"
#include "log.h"
#include "server.h"
#include "server-int.h"
#include "pubstore.h"
#include "xmalloc.h"

/* Per connection: the last count and what it was computed at. */
struct server_drain {
	int		 counted;
	uint64_t	 left;
	uint64_t	 discarded;
	uint64_t	 settled;
	size_t		 nfailed;
};

/* Tell one program (that finished its handshake) the daemon is going. */
static void
srv_drain_tell(struct ipc_client *cl, void *arg)
{
	if (ipc_client_data(cl) != NULL)
		ipc_client_reply_error(cl, 0, AMPSIPC_E_SHUTTING_DOWN, arg);
}

/* Start draining: refuse new work, tell the programs. */
void
server_drain_begin(struct server *srv)
{
	srv->draining = 1;
	if (srv->drain == NULL)
		srv->drain = xcalloc(srv->nconns ? srv->nconns : 1,
		    sizeof *srv->drain);
	if (srv->ipc != NULL)
		ipc_foreach(srv->ipc, srv_drain_tell, "daemon shutting down: "
		    "new publishes are refused; stored messages are still "
		    "being sent to AMPS");
}

/*
 * Messages stored on connection i that AMPS has neither persisted nor
 * refused (invariant 3).
 */
static uint64_t
srv_drain_conn_left(struct server *srv, size_t i)
{
	struct server_conn	*sc = &srv->conns[i];
	struct server_drain	*d = &srv->drain[i];
	uint64_t	 disc = pubstore_discarded_seq(sc->ps);

	if (!d->counted || d->discarded != disc || d->settled != sc->settled ||
	    d->nfailed != sc->nfailed) {
		d->left = pubstore_unpersisted(sc->ps);
		d->discarded = disc;
		d->settled = sc->settled;
		d->nfailed = sc->nfailed;
		d->counted = 1;
	}
	return (d->left);
}

/*
 * How many stored messages are still waiting for AMPS (*left), and
 * whether waiting can still help: returns 1 while a connection holding
 * some is up or trying to be, 0 when none is (all settled, or the ones
 * holding messages gave up).
 */
int
server_drain_left(struct server *srv, uint64_t *left)
{
	struct server_conn	*sc;
	enum conn_state	 s;
	uint64_t	 n;
	size_t		 i;
	int		 hope = 0;

	*left = 0;
	if (srv->drain == NULL)
		return (0);
	for (i = 0; i < srv->nconns; i++) {
		sc = &srv->conns[i];
		if ((n = srv_drain_conn_left(srv, i)) == 0)
			continue;
		*left += n;
		s = conn_state(sc->conn);
		if (s != CONN_GAVE_UP && s != CONN_STOPPED)
			hope = 1;
	}
	return (hope);
}

/* Close one program after its queued output. */
static void
srv_drain_close(struct ipc_client *cl, void *arg)
{
	ipc_client_shutdown(cl, arg);
}

/*
 * The wait is over: answer every flush waiter, then close every program
 * (each gets a fatal ERROR SHUTTING_DOWN after what is queued for it).
 */
void
server_drain_end(struct server *srv)
{
	struct publish_waiter	*w;

	while ((w = srv->waiters) != NULL) {
		srv->waiters = w->next;
		if (w->cl != NULL)
			ipc_client_reply_error(w->cl, w->reqid,
			    AMPSIPC_E_SHUTTING_DOWN, "daemon shutting down; "
			    "messages not yet persisted stay stored and are "
			    "sent after the next start");
		w->cl = NULL;
		if (w->timer != NULL)
			event_free(w->timer);
		free(w);
	}
	if (srv->ipc != NULL)
		ipc_foreach(srv->ipc, srv_drain_close, "daemon shutting down");
}

/* Log, per connection, what AMPS has not persisted (after the commit). */
void
server_drain_report(struct server *srv)
{
	struct server_conn	*sc;
	uint64_t	 n;
	size_t		 i;

	for (i = 0; i < srv->nconns; i++) {
		sc = &srv->conns[i];
		n = pubstore_unpersisted(sc->ps);
		if (n == 0)
			log_info("shutdown: connection %s: 0 unpersisted "
			    "message(s): AMPS has every stored message",
			    sc->cc->name);
		else if (strcmp(pubstore_medium(sc->ps), "memory") == 0)
			log_warnx("shutdown: connection %s: %llu unpersisted "
			    "message(s) of the memory store (up to sequence "
			    "%llu) are lost (durability memory)",
			    sc->cc->name, (unsigned long long)n,
			    (unsigned long long)pubstore_durable_seq(sc->ps));
		else
			log_warnx("shutdown: connection %s: %llu unpersisted "
			    "message(s) stay in the store (up to sequence "
			    "%llu) and are sent after the next start",
			    sc->cc->name, (unsigned long long)n,
			    (unsigned long long)pubstore_durable_seq(sc->ps));
	}
}
