/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The publish path's flushes (docs/IPC.md §8, docs/DESIGN.md §4 promise
 * 7): PUBLISH_FLUSH waiters, the AMPS flush asked for them, and the
 * receive path's question whether a program's publishes are upstream
 * yet.  publish.c owns the rest of the path (stores, replies, trackers,
 * the settled points) and calls in here when a sequence settles or a
 * reply goes:
 *
 *   PUBLISH_FLUSH          -> publish_flush_h(): a waiter with, per
 *                             connection (the one named or all), the
 *                             last sequence the program stored, and the
 *                             count of its stored requests queued before
 *                             it (its ticket)
 *   a seq settles, replies -> publish_check_waiters(): FLUSHED to every
 *   go (publish.c)            waiter now covered
 *   flush phase            -> publish_flush_upstream(): an AMPS flush on
 *                             each connection a waiter needs, once sent
 *   a program's COMMAND    -> publish_unsent() (subpath.c holds the
 *                             command while it says 1)
 *
 * Invariants (with publish.c's):
 *   (1) A waiter is answered once: FLUSHED when publish_waiter_ready()
 *       (every target settled, every STORED before it sent), TIMED_OUT
 *       at its timeout with why, or without a reply when its program
 *       is gone; it is unlinked from srv->waiters first.
 *   (2) A waiter's targets are sequences the program stored: settled
 *       only after their commit, sending and AMPS's ack, so FLUSHED
 *       never precedes a commit.
 */

#include "config.h"

#include <sys/types.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "amps.h"
#include "conf.h"
#include "conn.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "pubstore.h"
#include "server-int.h"
#include "xmalloc.h"

/*
 * Why a flush waiter is not done: how many of its program's messages
 * are still unsettled on the first connection it waits for, and that
 * connection's state (docs/IPC.md §8); or that STORED replies it must
 * follow are still waiting for a commit.
 */
static void
publish_waiter_why(struct server *srv, struct publish_waiter *w, char *buf,
    size_t cap)
{
	struct server_conn	*sc;
	struct conn_status	 st;
	uint64_t		 done, n = 0, now = loop_now_ms();
	size_t			 i, j, more = 0, first = srv->nconns;

	for (i = 0; i < srv->nconns; i++) {
		sc = &srv->conns[i];
		if (w->target[i] == 0 || w->target[i] <= publish_done_seq(sc))
			continue;
		if (first == srv->nconns)
			first = i;
		else
			more++;
	}
	if (first == srv->nconns) {	/* publish_waiter_ready(): replies */
		snprintf(buf, cap, "earlier publishes not yet stored (their "
		    "commit has not returned)");
		return;
	}
	sc = &srv->conns[first];
	done = publish_done_seq(sc);
	for (j = sc->thead; j < sc->tlen; j++)
		if (sc->track[j].cl == w->cl && sc->track[j].seq > done &&
		    sc->track[j].seq <= w->target[first])
			n++;
	conn_get_status(sc->conn, &st);
	snprintf(buf, cap, "%llu message(s) not yet persisted on connection "
	    "%s (%s for %llu ms%s%s)%s; they stay stored and will be sent",
	    (unsigned long long)n, sc->cc->name, st.state_name,
	    (unsigned long long)(now - st.state_since_ms),
	    st.last_error[0] != '\0' && st.state != CONN_READY ?
	    ", last error: " : "", st.state != CONN_READY ? st.last_error : "",
	    more > 0 ? " and on other connections" : "");
}

/* Answer a flush waiter and free it (it must be unlinked already). */
void
publish_waiter_done(struct server *srv, struct publish_waiter *w,
    int timed_out)
{
	char	why[512];

	if (w->cl != NULL) {
		if (timed_out) {
			publish_waiter_why(srv, w, why, sizeof why);
			ipc_client_reply_error(w->cl, w->reqid,
			    AMPSIPC_E_TIMED_OUT, why);
		} else
			ipc_client_reply_flushed(w->cl, w->reqid);
	}
	if (w->timer != NULL)
		event_free(w->timer);
	free(w->target);
	free(w);
}

/*
 * Whether every connection w waits for has settled its target, and every
 * publish its program sent before it has been answered (invariant 6).
 */
static int
publish_waiter_ready(struct server *srv, const struct publish_waiter *w)
{
	struct publish_client	*pc;
	size_t			 i;

	if (w->cl != NULL && (pc = ipc_client_data(w->cl)) != NULL &&
	    pc->answered < w->ticket)
		return (0);
	for (i = 0; i < srv->nconns; i++)
		if (w->target[i] > publish_done_seq(&srv->conns[i]))
			return (0);
	return (1);
}

/* Release the flush waiters that are now covered. */
void
publish_check_waiters(struct server *srv)
{
	struct publish_waiter	**wp, *w;

	for (wp = &srv->waiters; (w = *wp) != NULL;) {
		if (publish_waiter_ready(srv, w)) {
			*wp = w->next;
			publish_waiter_done(srv, w, 0);
		} else
			wp = &w->next;
	}
}

/*
 * The flush phase, after the pump: on each connection with a waiter,
 * ask AMPS for a flush once everything the waiters need is sent
 * (conn_flush_upto() sends at most one per need and logon).
 */
void
publish_flush_upstream(struct server *srv)
{
	struct publish_waiter	*w;
	struct server_conn	*sc;
	uint64_t		 need;
	size_t			 i;

	if (srv->waiters == NULL)
		return;
	for (i = 0; i < srv->nconns; i++) {
		sc = &srv->conns[i];
		need = 0;
		for (w = srv->waiters; w != NULL; w = w->next)
			if (w->target[i] > need)
				need = w->target[i];
		if (need > publish_done_seq(sc))
			conn_flush_upto(sc->conn, need);
	}
}

/* Timer: a flush waiter ran out of time. */
static void
publish_waiter_cb(evutil_socket_t fd, short what, void *arg)
{
	struct publish_waiter	*w = arg, **wp;

	for (wp = &w->srv->waiters; *wp != NULL; wp = &(*wp)->next)
		if (*wp == w) {
			*wp = w->next;
			break;
		}
	publish_waiter_done(w->srv, w, 1);
}

/*
 * IPC PUBLISH_FLUSH: wait until everything this program stored so far,
 * on the connection named or (without CONN) on every connection, is
 * persisted or refused (docs/DESIGN.md §4 promise 7).  TIMEOUT_MS 0
 * answers at once; no TIMEOUT_MS waits as long as it takes.
 */
int
publish_flush_h(struct ipc_client *cl, const struct ipcwire_msg *m, void *arg)
{
	struct server		*srv = arg;
	struct server_conn	*sc = NULL;
	struct publish_waiter	*w;
	struct timeval		 tv;
	const char		*name = ipcwire_str(m, AMPSIPC_T_CONN);
	uint64_t		 ms, *last, id, seq;
	size_t			 i;

	if (name != NULL && *name != '\0' &&
	    (sc = server_find(srv, name)) == NULL)
		return (AMPSIPC_E_NO_SUCH_CONNECTION);
	last = publish_client(srv, cl)->last;
	if (ipcwire_has(m, AMPSIPC_T_SEQ)) {
		/*
		 * Adoption (docs/IPC.md §11): the program stored up to SEQ
		 * on connection CONN_ID before this daemon started; its
		 * flushes wait for those too.
		 */
		id = ipcwire_num(m, AMPSIPC_T_CONN_ID, UINT64_MAX);
		seq = ipcwire_num(m, AMPSIPC_T_SEQ, 0);
		if (id >= srv->nconns)
			return (AMPSIPC_E_NO_SUCH_CONNECTION);
		sc = &srv->conns[id];
		if ((seq = publish_adopt_claim(srv, sc, cl, seq)) == 0) {
			ipc_client_reply_error(cl, m->hdr.reqid,
			    AMPSIPC_E_COMMAND, "connection has no such stored "
			    "sequence (another configuration?)");
			return (0);
		}
		if (seq > last[id])
			last[id] = seq;
	}
	w = xcalloc(1, sizeof *w);
	w->srv = srv;
	w->cl = cl;
	w->reqid = m->hdr.reqid;
	w->ticket = publish_client(srv, cl)->queued;
	w->target = xcalloc(srv->nconns, sizeof *w->target);
	for (i = 0; i < srv->nconns; i++)
		if (sc == NULL || sc->id == i)
			w->target[i] = last[i];
	if (publish_waiter_ready(srv, w)) {
		publish_waiter_done(srv, w, 0);
		return (0);
	}
	ms = ipcwire_num(m, AMPSIPC_T_TIMEOUT_MS, UINT64_MAX);
	if (ms == 0) {
		publish_waiter_done(srv, w, 1);
		return (0);
	}
	log_debug("flush request %u of client %llu waits%s%s", w->reqid,
	    (unsigned long long)ipc_client_id(cl), sc != NULL ?
	    " on connection " : " on every connection",
	    sc != NULL ? sc->cc->name : "");
	w->next = srv->waiters;
	srv->waiters = w;
	if (ms != UINT64_MAX) {
		w->timer = evtimer_new(loop_base(), publish_waiter_cb, w);
		if (w->timer == NULL)
			fatalx("publish: evtimer_new failed");
		tv.tv_sec = (time_t)(ms / 1000);
		tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
		evtimer_add(w->timer, &tv);
	}
	return (0);
}

/*
 * The receive path's question (subpath.c, sp_command): does program cl
 * have publishes not yet upstream before a command for session sess?
 * On the connection itself: stored and not yet sent (a command goes out
 * after them, on the same AMPS connection).  On its delta session,
 * another AMPS connection: not yet persisted, so that AMPS has them
 * before it sees the command; a flush hurries them.
 */
int
publish_unsent(void *arg, struct ipc_client *cl, uint32_t sess)
{
	struct server		*srv = arg;
	struct server_conn	*sc;
	struct publish_client	*pc = ipc_client_data(cl);
	uint64_t		*last;
	uint32_t		 id = sess >= srv->nconns_conf ?
				    (uint32_t)(sess - srv->nconns_conf) : sess;

	if (pc == NULL || id >= srv->nconns || pc->last[id] == 0)
		return (0);
	last = pc->last;
	sc = &srv->conns[id];
	if (sess < srv->nconns_conf)
		return (last[id] > conn_sent_seq(sc->conn) &&
		    last[id] > publish_done_seq(sc));
	if (last[id] <= publish_done_seq(sc))
		return (0);
	conn_flush_upto(sc->conn, last[id]);
	return (1);
}
