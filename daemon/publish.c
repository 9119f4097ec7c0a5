/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The publish path (docs/DESIGN.md §3 "Publish"): what happens to a
 * message a program hands over, until AMPS has persisted it.  The server
 * (server.c) owns the stores and the connections and calls in here:
 *
 *   PUBLISH / DELTA_PUBLISH  -> publish_h(): pubstore_append() in the
 *   stored sow_delete           pass's open transaction; the reply waits
 *   (publish_sow_delete)        in srv->pending
 *   flush phase              -> server_flush(): pubstore_flush() hands
 *                               the pass's rows to the commit thread (or
 *                               commits them inline); publish_answer():
 *                               each pending request whose commit has
 *                               returned gets STORED (its seq is
 *                               durable) or ERROR (its commit failed),
 *                               the others wait for a later flush;
 *                               conn_pump() then sends what is committed
 *   persisted ack            -> publish_persisted() (conn.c discarded the
 *                               rows): PERSISTED to the programs that
 *                               published, FLUSHED to covered waiters
 *   failure ack              -> publish_failed() (conn.c marked the row):
 *                               PUBLISH_FAILED to the program, or to the
 *                               programs that adopted it after a restart
 *                               (publish-adopt.c)
 *   renumbering at logon     -> publish_renumbered(): every sequence this
 *                               file holds above the store's horizon
 *                               moves with the rows (pubstore_logon())
 *   PUBLISH_FLUSH            -> publish-flush.c: wait until everything
 *                               this program stored, on the connection
 *                               named or on all of them, is persisted or
 *                               refused, asking AMPS for a flush (no wait
 *                               for its ack conflation); here,
 *                               publish_check_waiters() is called when a
 *                               seq settles and after replies go
 *
 * While the server drains (SIGTERM), publishes are not stored: they take
 * their turn in `pending` and are answered ERROR SHUTTING_DOWN.
 *
 * Invariants:
 *   (1) Replies to publishes go out in the order the publishes arrived,
 *       per program, errors included (docs/IPC.md §8): a request that
 *       waits for its commit holds back that program's later ones.
 *   (2) No STORED reply is queued before the commit covering its row has
 *       returned successfully (pubstore_seq_state() == 1).
 *   (3) A request whose row was lost with a failed commit gets an ERROR,
 *       never STORED.
 *   (4) After publish_closed() no pointer to that program remains here
 *       (pending replies, trackers and flush waiters are cleared).
 *   (5) sc->settled only grows: every seq <= settled was persisted or
 *       refused by AMPS, so a waiter whose target <= settled is done.
 *   (6) A flush waiter (publish-flush.c) is answered FLUSHED only when,
 *       on every connection, its target is settled (docs/DESIGN.md §4
 *       promise 7), and after the STORED replies of every publish its
 *       program stored before it: so publish_check_waiters() runs after
 *       each settle and after each answer walk.
 *   (7) Every seq kept here (pending replies, trackers, refused seqs,
 *       flush targets, each program's last seq) names the row that
 *       carries it now: a renumbering shifts them before the logon's
 *       persisted upcall, so no program is told PERSISTED or FLUSHED for
 *       a message by the number it had before it was moved.
 *   (8) Each connection's trackers are in seq order, and every STORED
 *       publish is told PERSISTED or PUBLISH_FAILED once: a row can be
 *       sent, and settled by AMPS, while its reply is held behind the
 *       program's earlier request on another connection (invariant 1);
 *       publish_failed() then leaves the reason on the pending request
 *       and publish_reply() says it, or PERSISTED, right after STORED.
 */

#include "config.h"

#include <sys/types.h>

#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "amps.h"
#include "conf.h"
#include "cmdhdr.h"
#include "conn.h"
#include "errmap.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "pubstore.h"
#include "server-int.h"
#include "subpath.h"
#include "xmalloc.h"

/* The program's state (server-int.h), allocated on first use. */
struct publish_client *
publish_client(struct server *srv, struct ipc_client *cl)
{
	struct publish_client	*pc;

	if ((pc = ipc_client_data(cl)) == NULL) {
		pc = xcalloc(1, sizeof *pc + 2 * srv->nconns *
		    sizeof pc->last[0]);
		pc->adopted = pc->last + srv->nconns;
		ipc_client_set_data(cl, pc);
	}
	return (pc);
}

/*
 * Remember that cl published seq on sc, in seq order (invariant 8): a
 * reply held back behind its program's earlier request (publish_answer)
 * may come after a later seq's.
 */
static void
publish_track_add(struct server_conn *sc, struct ipc_client *cl,
    uint32_t reqid, uint64_t seq)
{
	size_t	j;

	if (sc->thead > 0 && sc->thead == sc->tlen)
		sc->thead = sc->tlen = 0;
	if (sc->tlen == sc->tcap) {
		if (sc->thead > sc->tcap / 2) {
			memmove(sc->track, sc->track + sc->thead,
			    (sc->tlen - sc->thead) * sizeof *sc->track);
			sc->tlen -= sc->thead;
			sc->thead = 0;
		} else {
			sc->tcap = sc->tcap ? sc->tcap * 2 : 1024;
			sc->track = xreallocarray(sc->track, sc->tcap,
			    sizeof *sc->track);
		}
	}
	for (j = sc->tlen; j > sc->thead && sc->track[j - 1].seq > seq; j--)
		;
	memmove(sc->track + j + 1, sc->track + j,
	    (sc->tlen - j) * sizeof *sc->track);
	sc->track[j].cl = cl;
	sc->track[j].reqid = reqid;
	sc->track[j].seq = seq;
	sc->tlen++;
}

/* Everything of sc up to this is persisted or refused. */
uint64_t
publish_done_seq(struct server_conn *sc)
{
	uint64_t	done = pubstore_discarded_seq(sc->ps);

	return (done > sc->settled ? done : sc->settled);
}

/*
 * Advance sc->settled: to seq when AMPS persisted everything up to it
 * (seq may be 0 for "nothing new"), then over refused seqs that now
 * follow it without a gap.
 */
static void
publish_settle(struct server_conn *sc, uint64_t seq)
{
	size_t	 i, n;

	if (seq > sc->settled)
		sc->settled = seq;
	for (i = 0; i < sc->nfailed && sc->failed[i] <= sc->settled + 1; i++)
		if (sc->failed[i] == sc->settled + 1)
			sc->settled++;
	if (i == 0)
		return;
	n = sc->nfailed - i;
	memmove(sc->failed, sc->failed + i, n * sizeof *sc->failed);
	sc->nfailed = n;
}

/* Remember a refused seq above the settled point, keeping failed[] sorted. */
static void
publish_settle_failed(struct server_conn *sc, uint64_t seq)
{
	size_t	 i;

	if (seq <= sc->settled)
		return;
	for (i = 0; i < sc->nfailed && sc->failed[i] < seq; i++)
		;
	if (i < sc->nfailed && sc->failed[i] == seq)
		return;
	sc->failed = xreallocarray(sc->failed, sc->nfailed + 1,
	    sizeof *sc->failed);
	memmove(sc->failed + i + 1, sc->failed + i,
	    (sc->nfailed - i) * sizeof *sc->failed);
	sc->failed[i] = seq;
	sc->nfailed++;
	publish_settle(sc, 0);
}

/* conn upcall: AMPS persisted everything <= seq. */
void
publish_persisted(struct conn *c, uint64_t seq, void *arg)
{
	struct server		*srv = arg;
	struct server_conn	*sc = &srv->conns[conn_id(c)];
	struct ipc_client	*last = NULL;
	struct publish_track	*t;

	while (sc->thead < sc->tlen && sc->track[sc->thead].seq <= seq) {
		t = &sc->track[sc->thead++];
		if (t->cl != NULL && t->cl != last) {
			ipc_client_send_persisted(t->cl, sc->id, seq);
			last = t->cl;
		}
	}
	publish_settle(sc, seq);
	publish_check_waiters(srv);
}

/* conn upcall: AMPS refused seq. */
void
publish_failed(struct conn *c, uint64_t seq, const char *reason, void *arg)
{
	struct server		*srv = arg;
	struct server_conn	*sc = &srv->conns[conn_id(c)];
	struct publish_pending	*p;
	size_t			 i, j;

	for (i = sc->thead; i < sc->tlen; i++) {
		if (sc->track[i].seq != seq)
			continue;
		if (sc->track[i].cl != NULL)
			ipc_client_send_publish_failed(sc->track[i].cl,
			    sc->track[i].reqid, sc->id, seq,
			    errmap_reason(reason), reason);
		sc->track[i].cl = NULL;
		break;
	}
	/*
	 * Not tracked: sent before its reply (held behind the program's
	 * earlier request, publish_answer); the reply tells it.
	 */
	for (j = 0; i == sc->tlen && j < srv->npending; j++) {
		p = &srv->pending[j];
		if (p->connid == sc->id && p->seq == seq && p->err == 0 &&
		    p->cl != NULL && p->refused == NULL) {
			p->refused = xstrdup(reason);
			break;
		}
	}
	/* Stored by an earlier daemon: its programs may have adopted it. */
	if (i == sc->tlen)
		publish_adopt_failed(srv, sc, seq, reason);
	sc->refused++;
	publish_settle_failed(sc, seq);
	publish_check_waiters(srv);
}

/* What publish_renumbered() shifts: seqs of connection id above after. */
struct publish_shift {
	uint32_t	 id;
	uint64_t	 after;
	uint64_t	 delta;
};

static void
publish_shift(uint64_t *seq, const struct publish_shift *sh)
{
	if (*seq > sh->after)
		*seq += sh->delta;
}

/* ipc_foreach: shift one program's last seq on the connection. */
static void
publish_shift_client(struct ipc_client *cl, void *arg)
{
	const struct publish_shift	*sh = arg;
	struct publish_client		*pc = ipc_client_data(cl);

	if (pc != NULL) {
		publish_shift(&pc->last[sh->id], sh);
		publish_shift(&pc->adopted[sh->id], sh);
	}
}

/* conn upcall: stored seqs > after are now seq + delta (invariant 7). */
void
publish_renumbered(struct conn *c, uint64_t after, uint64_t delta, void *arg)
{
	struct server		*srv = arg;
	struct server_conn	*sc = &srv->conns[conn_id(c)];
	struct publish_waiter	*w;
	struct publish_shift	 sh = { sc->id, after, delta };
	size_t			 i;

	for (i = sc->thead; i < sc->tlen; i++)
		publish_shift(&sc->track[i].seq, &sh);
	for (i = 0; i < sc->nfailed; i++)
		publish_shift(&sc->failed[i], &sh);
	for (i = 0; i < srv->npending; i++)
		if (srv->pending[i].connid == sc->id && srv->pending[i].seq)
			publish_shift(&srv->pending[i].seq, &sh);
	for (w = srv->waiters; w != NULL; w = w->next)
		publish_shift(&w->target[sc->id], &sh);
	ipc_foreach(srv->ipc, publish_shift_client, &sh);
	publish_adopt_renumbered(sc, after, delta);
}

/* Map a store failure to an IPC error code. */
uint32_t
publish_store_err(struct server_conn *sc)
{
	if (strstr(pubstore_error(sc->ps), "full") != NULL)
		return (AMPSIPC_E_DISK_FULL);
	return (AMPSIPC_E_STORE_UNAVAILABLE);
}


/*
 * The optional header fields a message keeps in the store, as a
 * brace-less field list (codec/amps.h, amps_wr_begin_fields) that
 * conn.c splices into the frame.  Returns its length; *out is NULL when
 * there is none, else the caller frees it.
 */
static size_t
publish_fields(const struct ipcwire_msg *m, char **out)
{
	struct amps_wr	 w;
	const char	*s;
	const void	*hdrs;
	char		*buf = NULL;
	size_t		 cap = 0, hlen = 0;

	for (;;) {
		amps_wr_begin_fields(&w, buf, cap);
		if ((s = ipcwire_str(m, AMPSIPC_T_CORRELATION_ID)) != NULL)
			amps_wr_cstr(&w, AMPS_F_X, s);
		if ((s = ipcwire_str(m, AMPSIPC_T_SOW_KEY)) != NULL)
			amps_wr_cstr(&w, AMPS_F_K, s);
		if ((s = ipcwire_str(m, AMPSIPC_T_FILTER)) != NULL)
			amps_wr_cstr(&w, AMPS_F_F, s);
		if ((s = ipcwire_str(m, AMPSIPC_T_SOW_KEYS)) != NULL)
			amps_wr_cstr(&w, AMPS_F_SOW_KEYS, s);
		if (ipcwire_has(m, AMPSIPC_T_EXPIRATION))
			amps_wr_u64(&w, AMPS_F_E,
			    ipcwire_num(m, AMPSIPC_T_EXPIRATION, 0));
		hdrs = ipcwire_bytes(m, AMPSIPC_T_HEADERS, &hlen);
		cmdhdr_write(&w, hdrs, hlen);	/* checked by the caller */
		if (w.len <= cap)
			break;
		cap = w.len;
		buf = xreallocarray(buf, cap, 1);
	}
	*out = buf;
	return (w.len);
}

/*
 * Store one command and queue its reply for the flush phase (quiet: no
 * STORED reply, an ERROR only); its sequence in *seqp (0: refused).
 */
static int
publish_store(struct server *srv, struct server_conn *sc,
    struct ipc_client *cl, const struct ipcwire_msg *m, enum pubstore_kind kind,
    int quiet, uint64_t *seqp)
{
	struct pubstore_rec	 r;
	struct publish_pending	*p;
	const char		*topic;
	char			*fields, why[160];
	size_t			 dlen = 0, hlen = 0;
	const void		*data, *hdrs;
	uint64_t		 seq;
	int			 rc, bad = 0;

	*seqp = 0;
	if ((topic = ipcwire_str(m, AMPSIPC_T_TOPIC)) == NULL || *topic == 0)
		return (AMPSIPC_E_INVALID_TOPIC);
	if ((hdrs = ipcwire_bytes(m, AMPSIPC_T_HEADERS, &hlen)) != NULL &&
	    cmdhdr_check(hdrs, hlen, why, sizeof why) == -1)
		bad = 1;
	data = ipcwire_bytes(m, AMPSIPC_T_DATA, &dlen);
	memset(&r, 0, sizeof r);
	r.kind = kind;
	r.topic = topic;
	r.topic_len = strlen(topic);
	r.hdr_len = publish_fields(m, &fields);
	r.hdr = fields;
	r.data = data != NULL ? data : "";
	r.data_len = data != NULL ? dlen : 0;
	rc = srv->draining || bad ? -1 : pubstore_append(sc->ps, &r, &seq);
	free(fields);
	if (rc == -1 && !srv->draining && !bad)
		log_warnx("connection %s: publish store refused a message: %s",
		    sc->cc->name, log_safe(pubstore_error(sc->ps), 200));
	if (rc == -1)
		seq = 0;
	if (srv->npending == srv->cpending) {
		srv->cpending = srv->cpending ? srv->cpending * 2 : 256;
		srv->pending = xreallocarray(srv->pending, srv->cpending,
		    sizeof *srv->pending);
	}
	p = &srv->pending[srv->npending++];
	p->cl = cl;
	p->reqid = m->hdr.reqid;
	p->connid = sc->id;
	p->seq = seq;
	p->quiet = quiet;
	p->why = bad ? xstrdup(why) : NULL;
	p->refused = NULL;
	if (rc == 0)
		publish_client(srv, cl)->queued++;
	p->err = rc == 0 ? 0 : srv->draining ? AMPSIPC_E_SHUTTING_DOWN :
	    bad ? AMPSIPC_E_COMMAND : publish_store_err(sc);
	/* Answerable now (an error, a memory store) or after a commit. */
	if (rc != 0 || pubstore_seq_state(sc->ps, seq) != 0)
		srv->answer_due = 1;
	if (rc == 0) {
		publish_client(srv, cl)->last[sc->id] = seq;
		*seqp = seq;
	}
	return (0);
}

/* IPC PUBLISH and DELTA_PUBLISH. */
int
publish_h(struct ipc_client *cl, const struct ipcwire_msg *m, void *arg)
{
	struct server		*srv = arg;
	struct server_conn	*sc;

	uint64_t		 seq;

	loop_frames_in++;
	if ((sc = server_find(srv, ipcwire_str(m, AMPSIPC_T_CONN))) == NULL)
		return (AMPSIPC_E_NO_SUCH_CONNECTION);
	return (publish_store(srv, sc, cl, m,
	    m->hdr.type == AMPSIPC_DELTA_PUBLISH ? PUBSTORE_DELTA_PUBLISH :
	    PUBSTORE_PUBLISH, 0, &seq));
}

/*
 * A sow_delete, kept in the publish store like a publish and sent with
 * its own sequence, so AMPS drops it as a duplicate when it is sent
 * again after a reconnect (PROTOCOL.md §4.10, §7.1).  Without ACK_TYPES
 * the program is answered as for a publish (STORED, PERSISTED); with
 * them (libampsipc's form) the receive path routes its processed and
 * stats acks back (subpath_sow_delete) and nothing else is said.
 */
int
publish_sow_delete(struct server *srv, struct ipc_client *cl,
    const struct ipcwire_msg *m)
{
	struct server_conn	*sc;
	uint64_t		 seq;
	int			 acked = ipcwire_has(m, AMPSIPC_T_ACK_TYPES);
	int			 rc;

	if ((sc = server_find(srv, ipcwire_str(m, AMPSIPC_T_CONN))) == NULL)
		return (AMPSIPC_E_NO_SUCH_CONNECTION);
	rc = publish_store(srv, sc, cl, m, PUBSTORE_SOW_DELETE, acked, &seq);
	if (rc == 0 && acked && seq != 0)
		subpath_sow_delete(srv->sp, cl, m, sc->id, seq);
	return (rc);
}

/*
 * Answer one decided request: STORED (durable; nothing for a quiet one)
 * or an ERROR (refused at append, with its reason, or lost with a failed
 * commit; counted in *lost).
 */
static void
publish_reply(struct server_conn *sc, struct publish_pending *p, int st,
    size_t *lost)
{
	if (p->err != 0) {
		if (p->err != AMPSIPC_E_SHUTTING_DOWN)
			sc->failed_writes++;
		if (p->cl != NULL)
			ipc_client_reply_error(p->cl, p->reqid, p->err,
			    p->why != NULL ? p->why :
			    p->err == AMPSIPC_E_SHUTTING_DOWN ?
			    "daemon shutting down: not stored" :
			    pubstore_error(sc->ps));
	} else if (st > 0) {
		sc->published++;
		if (p->cl != NULL && !p->quiet) {
			ipc_client_reply_stored(p->cl, p->reqid, p->connid,
			    p->seq);
			/* Settled already: sent while this reply was held. */
			if (p->refused != NULL)
				ipc_client_send_publish_failed(p->cl, p->reqid,
				    sc->id, p->seq, errmap_reason(p->refused),
				    p->refused);
			else if (p->seq <= publish_done_seq(sc))
				ipc_client_send_persisted(p->cl, sc->id,
				    p->seq);
			else
				publish_track_add(sc, p->cl, p->reqid, p->seq);
		}
	} else {
		sc->failed_writes++;
		lost[sc->id]++;
		if (p->cl != NULL)
			ipc_client_reply_error(p->cl, p->reqid,
			    publish_store_err(sc), pubstore_error(sc->ps));
	}
}

/*
 * In the flush phase: answer every request whose fate is known
 * (pubstore_seq_state()), in arrival order per program (invariants 1 to
 * 3): a program's request that must wait holds back its later ones; the
 * others go.  What waits stays in `pending`, in order, for a later flush.
 * The walk runs only when a fate may have changed since the last one
 * (answer_due: a commit returned, or a request was answerable when it
 * came), so a long queue of requests waiting for their commit is not
 * walked again at every loop pass.
 */
void
publish_answer(struct server *srv)
{
	struct publish_pending	*p;
	struct publish_client	*pc;
	struct server_conn	*sc;
	size_t			 i, kept = 0, *lost;
	int			 st;

	if (srv->npending == 0 || !srv->answer_due)
		return;
	srv->answer_due = 0;
	lost = xcalloc(srv->nconns, sizeof *lost);
	srv->answer_pass++;
	for (i = 0; i < srv->npending; i++) {
		p = &srv->pending[i];
		sc = &srv->conns[p->connid];
		pc = p->cl != NULL ? publish_client(srv, p->cl) : NULL;
		st = p->err != 0 ? -1 : pubstore_seq_state(sc->ps, p->seq);
		if (st == 0 || (pc != NULL && pc->blocked == srv->answer_pass)) {
			if (pc != NULL)
				pc->blocked = srv->answer_pass;
			srv->pending[kept++] = *p;
			continue;
		}
		publish_reply(sc, p, st, lost);
		free(p->why);
		free(p->refused);
		if (pc != NULL && p->err == 0)
			pc->answered++;
	}
	srv->npending = kept;
	/* Say, per connection, how many messages a failed commit lost. */
	for (i = 0; i < srv->nconns; i++)
		if (lost[i] > 0)
			log_warnx("connection %s: publish store refused %zu "
			    "message(s) (commit failed): %s",
			    srv->conns[i].cc->name, lost[i],
			    log_safe(pubstore_error(srv->conns[i].ps), 200));
	free(lost);
	publish_check_waiters(srv);	/* their programs' replies went */
}

/* IPC hello hook: the program finished its handshake. */
void
publish_hello(struct server *srv, struct ipc_client *cl)
{
	(void)publish_client(srv, cl);
}

/* A program went away: forget every pointer to cl (invariant 4). */
void
publish_closed(struct server *srv, struct ipc_client *cl)
{
	struct publish_waiter	*w;
	struct server_conn	*sc;
	size_t			 i, j;

	for (i = 0; i < srv->npending; i++)
		if (srv->pending[i].cl == cl)
			srv->pending[i].cl = NULL;
	for (w = srv->waiters; w != NULL; w = w->next)
		if (w->cl == cl)
			w->cl = NULL;
	free(ipc_client_data(cl));
	ipc_client_set_data(cl, NULL);
	for (i = 0; i < srv->nconns; i++) {
		sc = &srv->conns[i];
		for (j = sc->thead; j < sc->tlen; j++)
			if (sc->track[j].cl == cl)
				sc->track[j].cl = NULL;
	}
}

/* Free the flush waiters (their programs are gone) and the trackers. */
void
publish_free(struct server *srv)
{
	struct publish_waiter	*w;
	size_t			 i;

	while ((w = srv->waiters) != NULL) {
		srv->waiters = w->next;
		w->cl = NULL;
		publish_waiter_done(srv, w, 1);
	}
	for (i = 0; i < srv->nconns; i++) {
		free(srv->conns[i].track);
		free(srv->conns[i].failed);
	}
	for (i = 0; i < srv->npending; i++) {	/* waiting for a commit */
		free(srv->pending[i].why);
		free(srv->pending[i].refused);
	}
	free(srv->pending);
}
