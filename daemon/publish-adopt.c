/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * publish-adopt.c: the publishes this daemon found in its stores at
 * startup, which programs that outlived the previous daemon adopt
 * (docs/IPC.md §11).  Nobody else tracks them: the program that stored
 * one knows it by the number it had in the earlier session, and asks
 * for them with PUBLISH_FLUSH CONN_ID SEQ (publish-flush.c).  This file
 * owns, per connection:
 *
 *   adopt_hi   the highest seq the store held when it was opened (as it
 *              is numbered now); rows at or below it are adoptable
 *   renums[]   the renumberings this daemon made at logons (after,
 *              delta), in order, to translate a program's old numbers
 *   fails[]    the adoptable rows AMPS refused since startup, with the
 *              reason, the last PA_FAILS of them
 *
 * and, per program, adopted[id]: the highest adoptable seq it claimed.
 *
 *   adoption (SEQ, old numbering) -> publish_adopt_claim(): the seq as
 *       numbered now, for the flush waiter; PUBLISH_FAILED (reqid 0, the
 *       program's number) for each remembered refusal at or below it
 *   refusal of an adoptable row   -> publish_adopt_failed(): remembered,
 *       and PUBLISH_FAILED to every program whose claim covers it
 *   renumbering at logon          -> publish_adopt_renumbered()
 *
 * libampsipc settles a PUBLISH_FAILED with reqid 0 by (CONN_ID, SEQ)
 * among its adopted publishes and ignores it when it has none.
 *
 * Invariants:
 *  1. A program is told of a refusal of one of its adopted publishes
 *     before the FLUSHED of its adoption: at the claim for refusals
 *     already known, at once for later ones (the waiter can only be
 *     answered after the refused seq settled, which happens in the
 *     same upcall, after this file spoke).
 *  2. Every seq kept here (adopt_hi, fails[], adopted[]) is numbered as
 *     the store numbers its rows now (publish.c invariant 7); what goes
 *     to a program is translated back to its numbering through renums[].
 */

#include "config.h"

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "conf.h"
#include "conn.h"
#include "errmap.h"
#include "ipc.h"
#include "log.h"
#include "pubstore.h"
#include "server-int.h"
#include "xmalloc.h"

#define PA_FAILS	4096	/* refusals remembered per connection */

/* The store as opened: what it holds is adoptable. */
void
publish_adopt_init(struct server_conn *sc)
{
	sc->adopt_hi = pubstore_last_seq(sc->ps);
}

/* A program's number (old) as the store numbers the row now. */
static uint64_t
pa_now(const struct server_conn *sc, uint64_t seq)
{
	size_t	i;

	for (i = 0; i < sc->nrenums; i++)
		if (seq > sc->renums[i].after)
			seq += sc->renums[i].delta;
	return (seq);
}

/* The number a program knew for the row numbered seq now. */
static uint64_t
pa_then(const struct server_conn *sc, uint64_t seq)
{
	size_t	i;

	for (i = sc->nrenums; i > 0; i--)
		if (seq > sc->renums[i - 1].after + sc->renums[i - 1].delta)
			seq -= sc->renums[i - 1].delta;
	return (seq);
}

/* Tell cl that AMPS refused its adopted publish (fails[i]). */
static void
pa_tell(struct server_conn *sc, struct ipc_client *cl, size_t i)
{
	const struct publish_adopt_fail	*f = &sc->fails[i];

	ipc_client_send_publish_failed(cl, 0, sc->id, pa_then(sc, f->seq),
	    errmap_reason(f->reason), f->reason);
}

/*
 * Program cl adopts what it stored up to seq (its numbering) on sc.
 * Returns that seq as numbered now, after telling cl of every refusal
 * already known among them (invariant 1), or 0 if the store held no
 * such row at startup.
 */
uint64_t
publish_adopt_claim(struct server *srv, struct server_conn *sc,
    struct ipc_client *cl, uint64_t seq)
{
	struct publish_client	*pc = publish_client(srv, cl);
	size_t			 i;

	if (seq == 0 || (seq = pa_now(sc, seq)) > sc->adopt_hi)
		return (0);
	if (seq > pc->adopted[sc->id])
		pc->adopted[sc->id] = seq;
	for (i = 0; i < sc->nfails; i++)
		if (sc->fails[i].seq <= seq)
			pa_tell(sc, cl, i);
	return (seq);
}

/* ipc_foreach: tell a program whose claim covers the refusal. */
struct pa_each {
	struct server_conn	*sc;
	size_t			 i;
};

static void
pa_tell_claimant(struct ipc_client *cl, void *arg)
{
	struct pa_each		*e = arg;
	struct publish_client	*pc = ipc_client_data(cl);

	if (pc != NULL && pc->adopted[e->sc->id] >= e->sc->fails[e->i].seq)
		pa_tell(e->sc, cl, e->i);
}

/*
 * AMPS refused seq on sc and no program of this daemon stored it: if it
 * is adoptable, remember it and tell the programs that claimed it.
 */
void
publish_adopt_failed(struct server *srv, struct server_conn *sc,
    uint64_t seq, const char *reason)
{
	struct pa_each	e;

	if (seq == 0 || seq > sc->adopt_hi)
		return;
	if (sc->nfails == PA_FAILS) {
		free(sc->fails[0].reason);
		memmove(sc->fails, sc->fails + 1, (PA_FAILS - 1) *
		    sizeof *sc->fails);
		sc->nfails--;
		log_warnx("connection %s: more than %d refusals of stored "
		    "messages since startup: the oldest is no longer told to "
		    "programs adopting it", sc->cc->name, PA_FAILS);
	} else if (sc->nfails == sc->cfails) {
		sc->cfails = sc->cfails ? sc->cfails * 2 : 16;
		sc->fails = xreallocarray(sc->fails, sc->cfails,
		    sizeof *sc->fails);
	}
	sc->fails[sc->nfails].seq = seq;
	sc->fails[sc->nfails].reason = xstrdup(reason != NULL ? reason : "");
	e.sc = sc;
	e.i = sc->nfails++;
	ipc_foreach(srv->ipc, pa_tell_claimant, &e);
}

/* Rows above after moved up by delta (publish_renumbered()). */
void
publish_adopt_renumbered(struct server_conn *sc, uint64_t after,
    uint64_t delta)
{
	size_t	i;

	if (sc->adopt_hi > after)
		sc->adopt_hi += delta;
	for (i = 0; i < sc->nfails; i++)
		if (sc->fails[i].seq > after)
			sc->fails[i].seq += delta;
	sc->renums = xreallocarray(sc->renums, sc->nrenums + 1,
	    sizeof *sc->renums);
	sc->renums[sc->nrenums].after = after;
	sc->renums[sc->nrenums].delta = delta;
	sc->nrenums++;
}

/* Free what a connection keeps here. */
void
publish_adopt_free(struct server_conn *sc)
{
	size_t	i;

	for (i = 0; i < sc->nfails; i++)
		free(sc->fails[i].reason);
	free(sc->fails);
	free(sc->renums);
	sc->fails = NULL;
	sc->renums = NULL;
	sc->nfails = sc->cfails = sc->nrenums = 0;
}
