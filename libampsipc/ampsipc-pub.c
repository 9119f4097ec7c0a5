/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsipc-pub.c: publishing through ampsd and knowing what became of
 * each publish: queued -> STORED (the daemon committed it, with its AMPS
 * sequence) -> PERSISTED (AMPS has it), or FAILED.
 *
 * It owns the ring of pending publishes (struct ampsipc_pend, in the
 * order they were sent) and the counters read by ampsipc_unstored(),
 * ampsipc_unpersisted() and ampsipc_failed().
 *
 * Invariants:
 *  1. unstored counts ring entries in PEND_SENT; unpersisted counts
 *     entries in PEND_SENT or PEND_STORED; an entry leaves these counts
 *     exactly once, when it turns PEND_DONE.
 *  2. Entries of one connection get increasing sequences in ring order
 *     (the daemon stores one program's publishes in arrival order), so
 *     a PERSISTED(conn, s) scan stops at the first entry of that
 *     connection that is unstored or above s.
 *  3. PEND_DONE entries are dropped only at the head, so indexes of the
 *     others never move except when the ring grows.
 *  4. Request ids increase along the ring (ipclib_reqid() counts up and
 *     skips 0 when it wraps; a ring spans far fewer than 2^32 ids), so a
 *     reqid is found by its distance from the head's, not by a scan
 *     (ipclib_pend_find()).
 */

#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ampsipc-int.h"

/* How much longer than its timeout a flush waits for the daemon's answer. */
#define FLUSH_GRACE	2000	/* ms */

/* What a publish frame carries, for the fill callback. */
struct ipclib_pub {
	uint16_t			 type;
	const char			*topic;
	const void			*data;
	size_t				 len;
	const struct ampsipc_pubopts	*opts;
	const void			*hdrs;	/* a command's extra fields */
	size_t				 hlen;
};

/* Entry i places after the head. */
static struct ampsipc_pend *
ipclib_pend_at(const struct ampsipc *h, size_t i)
{
	return (&h->pend[(h->phead + i) % h->pcap]);
}

/* Append a pending publish; -1 on ENOMEM. */
static int
ipclib_pend_add(struct ampsipc *h, uint32_t reqid)
{
	struct ampsipc_pend	*p;
	size_t			 cap;

	if (h->pcount == h->pcap) {
		/*
		 * Grow in place (a large ring is remapped, not copied, and
		 * the new half is not cleared: entries are set when added),
		 * then move the entries before the head, which wrapped, to
		 * just past the old end, where the ring now goes on.
		 */
		cap = h->pcap == 0 ? AMPSIPC_PEND_INITIAL : h->pcap * 2;
		if ((p = reallocarray(h->pend, cap, sizeof *p)) == NULL)
			return (-1);
		memcpy(p + h->pcap, p, h->phead * sizeof *p);
		h->pend = p;
		h->pcap = cap;
	}
	p = ipclib_pend_at(h, h->pcount);
	memset(p, 0, sizeof *p);
	p->reqid = reqid;
	p->state = PEND_SENT;
	h->pcount++;
	h->unstored++;
	h->unpersisted++;
	return (0);
}

/* Drop finished entries from the head. */
static void
ipclib_pend_trim(struct ampsipc *h)
{
	while (h->pcount != 0 && ipclib_pend_at(h, 0)->state == PEND_DONE) {
		h->phead = (h->phead + 1) % h->pcap;
		h->pcount--;
	}
	if (h->pcount == 0)
		h->phead = 0;
}

/*
 * How many request ids lie from a to b (b later than a): their distance,
 * less the 0 that ipclib_reqid() skips when the counter wraps.
 */
static size_t
ipclib_reqid_dist(uint32_t a, uint32_t b)
{
	return ((size_t)(uint32_t)(b - a) - (b < a ? 1 : 0));
}

/*
 * Find the pending entry for reqid, NULL if none.  Ring entries hold
 * increasing request ids (invariant 4), so the entry for reqid is at
 * index d - k, where d is its request-id distance from the head and k
 * the number of ids in between that are not publishes (flush, status,
 * commands).  The ring holds skip = span - (pcount - 1) such ids, so
 * the entry lies in [d - skip, d]: with no other requests in between
 * (skip == 0) that is one probe, else a binary search of skip + 1
 * entries.  STORED, PERSISTED and FAILED lookups are thus O(1) for a
 * program that only publishes, never linear in the ring.
 */
static struct ampsipc_pend *
ipclib_pend_find(struct ampsipc *h, uint32_t reqid)
{
	struct ampsipc_pend	*p;
	uint32_t		 first, last;
	size_t			 d, span, skip, lo, hi, mid, pd;

	if (h->pcount == 0 || reqid == 0)
		return (NULL);
	first = ipclib_pend_at(h, 0)->reqid;
	last = ipclib_pend_at(h, h->pcount - 1)->reqid;
	span = ipclib_reqid_dist(first, last);
	d = ipclib_reqid_dist(first, reqid);
	if (d > span)
		return (NULL);		/* before the head or after the tail */
	skip = span - (h->pcount - 1);
	lo = d > skip ? d - skip : 0;
	hi = d < h->pcount - 1 ? d : h->pcount - 1;
	while (lo <= hi) {
		mid = lo + (hi - lo) / 2;
		p = ipclib_pend_at(h, mid);
		pd = ipclib_reqid_dist(first, p->reqid);
		if (pd == d)
			return (p->state != PEND_DONE ? p : NULL);
		if (pd < d)
			lo = mid + 1;
		else if (mid == 0)
			break;
		else
			hi = mid - 1;
	}
	return (NULL);
}

/* Forget the frame copy of an entry (it is stored or done). */
static void
ipclib_pend_drop_frame(struct ampsipc_pend *p)
{
	free(p->frame);
	p->frame = NULL;
	p->flen = 0;
}

/* Free every frame copy (at close). */
void
ipclib_pend_free_frames(struct ampsipc *h)
{
	size_t	i;

	for (i = 0; i < h->pcount; i++)
		ipclib_pend_drop_frame(ipclib_pend_at(h, i));
}

/* Mark an entry done, fix the counters, tell the handler. */
static void
ipclib_pend_done(struct ampsipc *h, struct ampsipc_pend *p, int kind,
    int code, const char *reason)
{
	struct ampsipc_pubevent	ev;

	ipclib_pend_drop_frame(p);
	if (p->state == PEND_SENT)
		h->unstored--;
	h->unpersisted--;
	p->state = PEND_DONE;
	if (kind == AMPSIPC_PUB_FAILED)
		h->failed++;
	if (h->pub_cb != NULL) {
		memset(&ev, 0, sizeof ev);
		ev.kind = kind;
		ev.reqid = p->reqid;
		ev.conn_id = p->conn_id;
		ev.seq = p->seq;
		ev.error = code;
		ev.reason = reason != NULL ? reason : "";
		h->pub_cb(h, &ev, h->pub_arg);
	}
	if (h->routes != NULL)	/* a publish command's handler */
		ipclib_cmd_pub_done(h, p->reqid, kind, code, reason,
		    p->conn_id, p->seq);
}

/* STORED reply: the daemon committed request reqid as (conn, seq). */
void
ipclib_pub_stored(struct ampsipc *h, const struct ipcwire_msg *m)
{
	struct ampsipc_pend	*p;
	struct ampsipc_pubevent	 ev;

	if ((p = ipclib_pend_find(h, m->hdr.reqid)) == NULL ||
	    p->state != PEND_SENT)
		return;
	p->conn_id = (uint32_t)ipcwire_num(m, AMPSIPC_T_CONN_ID, 0);
	p->seq = ipcwire_num(m, AMPSIPC_T_SEQ, 0);
	p->state = PEND_STORED;
	ipclib_pend_drop_frame(p);
	h->unstored--;
	if (h->pub_cb != NULL) {
		memset(&ev, 0, sizeof ev);
		ev.kind = AMPSIPC_PUB_STORED;
		ev.reqid = p->reqid;
		ev.conn_id = p->conn_id;
		ev.seq = p->seq;
		ev.reason = "";
		h->pub_cb(h, &ev, h->pub_arg);
	}
}

/* PERSISTED: AMPS has every message of conn up to seq. */
void
ipclib_pub_persisted(struct ampsipc *h, const struct ipcwire_msg *m)
{
	struct ampsipc_pend	*p;
	uint32_t		 conn;
	uint64_t		 seq;
	size_t			 i;

	conn = (uint32_t)ipcwire_num(m, AMPSIPC_T_CONN_ID, 0);
	seq = ipcwire_num(m, AMPSIPC_T_SEQ, 0);
	for (i = 0; i < h->pcount; i++) {
		p = ipclib_pend_at(h, i);
		if (p->state == PEND_DONE)
			continue;
		if (p->state == PEND_SENT) {
			/* Its connection is not known yet, nor later ones'. */
			break;
		}
		if (p->conn_id != conn)
			continue;
		if (p->seq > seq)
			break;
		ipclib_pend_done(h, p, AMPSIPC_PUB_PERSISTED, 0, NULL);
	}
	ipclib_pend_trim(h);
}

/*
 * A publish failed: by reqid if not 0 (an ERROR reply, or
 * PUBLISH_FAILED that names it), else by (conn, seq).  Returns 1 if a
 * pending publish matched, else 0.
 */
/* The stored publish that has (conn, seq), or NULL. */
static struct ampsipc_pend *
ipclib_pend_by_seq(struct ampsipc *h, uint32_t conn, uint64_t seq)
{
	struct ampsipc_pend	*p;
	size_t			 i;

	for (i = 0; i < h->pcount; i++) {
		p = ipclib_pend_at(h, i);
		if (p->state == PEND_STORED && p->conn_id == conn &&
		    p->seq == seq)
			return (p);
	}
	return (NULL);
}

int
ipclib_pub_failed(struct ampsipc *h, uint32_t reqid, uint32_t conn,
    uint64_t seq, int code, const char *reason)
{
	struct ampsipc_pend	*p;

	p = reqid != 0 ? ipclib_pend_find(h, reqid) :
	    ipclib_pend_by_seq(h, conn, seq);
	if (p == NULL)
		return (0);
	ipclib_pend_done(h, p, AMPSIPC_PUB_FAILED, code, reason);
	ipclib_pend_trim(h);
	return (1);
}

/*
 * PUBLISH_FAILED with reqid 0: AMPS refused a publish an earlier daemon
 * stored (docs/IPC.md §11).  The daemon tells every program that
 * adopted that sequence; it is this handle's only if one of its stored
 * publishes has that (CONN_ID, SEQ), and only then are the failed-write
 * handler and the publish's own event told.  Returns 1 if it was ours.
 */
int
ipclib_pub_failed_adopted(struct ampsipc *h, const struct ipcwire_msg *m,
    int code, const char *reason)
{
	struct ampsipc_pubevent	 ev;
	struct ampsipc_pend	*p;
	uint32_t		 conn;
	uint64_t		 seq;

	conn = (uint32_t)ipcwire_num(m, AMPSIPC_T_CONN_ID, UINT32_MAX);
	seq = ipcwire_num(m, AMPSIPC_T_SEQ, 0);
	if (seq == 0 || (p = ipclib_pend_by_seq(h, conn, seq)) == NULL)
		return (0);
	if (h->failed_cb != NULL) {
		memset(&ev, 0, sizeof ev);
		ev.kind = AMPSIPC_PUB_FAILED;
		ev.reqid = p->reqid;
		ev.conn_id = conn;
		ev.seq = seq;
		ev.error = code;
		ev.reason = reason;
		h->failed_cb(h, &ev, h->failed_arg);
	}
	return (ipclib_pub_failed(h, 0, conn, seq, code, reason));
}

/* Fill: PUBLISH or DELTA_PUBLISH. */
static void
ipclib_fill_pub(struct ipcwire_enc *e, void *buf, size_t cap,
    uint32_t reqid, const void *arg)
{
	const struct ipclib_pub		*pub = arg;
	const struct ampsipc_pubopts	*o = pub->opts;

	ipcwire_begin(e, buf, cap, pub->type, 0, reqid);
	ipcwire_put_str(e, AMPSIPC_T_TOPIC, pub->topic);
	ipcwire_put_bytes(e, AMPSIPC_T_DATA, pub->data, pub->len);
	if (pub->hlen > 0)
		ipcwire_put_bytes(e, AMPSIPC_T_HEADERS, pub->hdrs, pub->hlen);
	if (o == NULL)
		return;
	ipcwire_put_str(e, AMPSIPC_T_CORRELATION_ID, o->correlation_id);
	ipcwire_put_str(e, AMPSIPC_T_SOW_KEY, o->sow_key);
	ipcwire_put_str(e, AMPSIPC_T_CONN, o->conn);
	if (o->flags & AMPSIPC_PUB_EXPIRATION)
		ipcwire_put_u32(e, AMPSIPC_T_EXPIRATION, o->expiration);
}

/* Wait condition: queued output is at most half the limit *arg. */
static int
ipclib_out_low(struct ampsipc *h, void *arg)
{
	const size_t	*limit = arg;

	return (ampsipc_outq(h) <= *limit / 2);
}

/* Common body of ampsipc_publish() and ampsipc_delta_publish(). */
static int
ipclib_publish(struct ampsipc *h, uint16_t type, const char *topic,
    const void *data, size_t len, const struct ampsipc_pubopts *opts,
    uint32_t *reqidp)
{
	uint32_t	reqid = ipclib_reqid(h);

	if (ipclib_publish_req(h, type, topic, data, len, opts, NULL, 0,
	    reqid) == -1)
		return (-1);
	if (reqidp != NULL)
		*reqidp = reqid;
	return (0);
}

/*
 * Publish with request id reqid and a command's extra header fields
 * (hdrs, hlen; may be none): queue the frame and track it.
 */
int
ipclib_publish_req(struct ampsipc *h, uint16_t type, const char *topic,
    const void *data, size_t len, const struct ampsipc_pubopts *opts,
    const void *hdrs, size_t hlen, uint32_t reqid)
{
	struct ipclib_pub	 pub;
	struct ampsipc_pend	*p;
	size_t			 before, limit;

	if (topic == NULL || *topic == '\0' || (data == NULL && len != 0))
		return (ipclib_fail(h, AMPSIPC_E_USAGE, EINVAL,
		    "publish needs a topic"));
	if (h->fd == -1 || (h->flags & AMPSIPC_BROKEN))
		return (ipclib_fail(h, h->fd == -1 ? AMPSIPC_E_USAGE : h->err,
		    ENOTCONN, "%s", h->fd == -1 ? "not connected" :
		    h->errmsg));
	/*
	 * A publish that may block waits for the daemon once the socket is
	 * full and AMPSIPC_OUT_BLOCK is queued: the socket's own buffer is
	 * the slack, and a queue that grew by doubling would have this
	 * program copy and page in far more memory than it sends (64
	 * short-lived publishers spent a third of their CPU in page
	 * faults).  One that may not (non-blocking, or inside a handler)
	 * queues up to AMPSIPC_OUT_LIMIT.
	 */
	limit = h->flags & (AMPSIPC_NONBLOCK | AMPSIPC_DISPATCHING) ?
	    AMPSIPC_OUT_LIMIT : AMPSIPC_OUT_BLOCK;
	if (ampsipc_outq(h) >= limit) {
		if (ampsipc_write(h) == -1)
			return (-1);
		if (ampsipc_outq(h) >= limit &&
		    !(h->flags & AMPSIPC_DISPATCHING)) {
			if (h->flags & AMPSIPC_NONBLOCK)
				return (ipclib_fail(h, AMPSIPC_E_USAGE, EAGAIN,
				    "output queue full"));
			if (ipclib_wait_until(h, -1, ipclib_out_low,
			    &limit) == -1)
				return (-1);
		}
	}
	pub.type = type;
	pub.topic = topic;
	pub.data = data;
	pub.len = len;
	pub.opts = opts;
	pub.hdrs = hdrs;
	pub.hlen = hlen;
	before = h->outlen;
	if (ipclib_queue(h, reqid, ipclib_fill_pub, &pub) == -1)
		return (-1);
	if (ipclib_pend_add(h, reqid) == -1) {
		/* Already queued: the daemon stores it; we lose track only. */
		return (ipclib_fail(h, AMPSIPC_E_SYSTEM, ENOMEM,
		    "out of memory"));
	}
	if (h->reconnect_ms > 0) {
		/* Kept until STORED: sent again if ampsd restarts first. */
		p = ipclib_pend_at(h, h->pcount - 1);
		if ((p->frame = malloc(h->outlen - before)) != NULL) {
			p->flen = h->outlen - before;
			memcpy(p->frame, h->out + before, p->flen);
		}
	}
	/* Write once 64 KiB are queued; if the socket is full, try again
	 * only after 64 KiB more, not at every publish (a failing send
	 * per publish was most of a fast publisher's time). */
	if (ampsipc_outq(h) >= h->eager_at) {
		if (ampsipc_write(h) == -1)
			return (-1);
		h->eager_at = ampsipc_outq(h) + AMPSIPC_OUT_EAGER;
	}
	return (0);
}

/* Queue a publish. */
int
ampsipc_publish(struct ampsipc *h, const char *topic, const void *data,
    size_t len, const struct ampsipc_pubopts *opts, uint32_t *reqidp)
{
	return (ipclib_publish(h, AMPSIPC_PUBLISH, topic, data, len, opts,
	    reqidp));
}

/* Queue a delta publish. */
int
ampsipc_delta_publish(struct ampsipc *h, const char *topic,
    const void *data, size_t len, const struct ampsipc_pubopts *opts,
    uint32_t *reqidp)
{
	return (ipclib_publish(h, AMPSIPC_DELTA_PUBLISH, topic, data, len,
	    opts, reqidp));
}

/* Install the publish event handler. */
void
ampsipc_set_pub_handler(struct ampsipc *h, ampsipc_pub_handler fn, void *arg)
{
	h->pub_cb = fn;
	h->pub_arg = arg;
}

/* Wait condition: nothing is waiting for STORED. */
static int
ipclib_all_stored(struct ampsipc *h, void *arg)
{
	return (h->unstored == 0);
}

/* Block until every publish so far is stored (or failed). */
int
ampsipc_wait_stored(struct ampsipc *h, int timeout_ms)
{
	return (ipclib_wait_until(h, timeout_ms, ipclib_all_stored, NULL));
}

/* Wait condition: nothing is waiting for PERSISTED. */
static int
ipclib_all_persisted(struct ampsipc *h, void *arg)
{
	return (h->unpersisted == 0);
}

/* What a PUBLISH_FLUSH carries. */
struct ipclib_flush {
	const char	*conn;		/* NULL: every connection */
	int		 timeout;	/* ms the daemon may take; < 0 none */
};

/* Fill: PUBLISH_FLUSH with the connection and the time it may take. */
static void
ipclib_fill_flush(struct ipcwire_enc *e, void *buf, size_t cap,
    uint32_t reqid, const void *arg)
{
	const struct ipclib_flush	*f = arg;

	ipcwire_begin(e, buf, cap, AMPSIPC_PUBLISH_FLUSH, 0, reqid);
	ipcwire_put_str(e, AMPSIPC_T_CONN, f->conn);
	if (f->timeout >= 0)
		ipcwire_put_u32(e, AMPSIPC_T_TIMEOUT_MS, (uint32_t)f->timeout);
}

/*
 * Block until AMPS persisted everything this handle published on conn
 * (NULL: on every connection).  The daemon is always asked, with
 * PUBLISH_FLUSH: it sends AMPS a flush, answers FLUSHED once what this
 * program stored is persisted (PERSISTED frames first), or ERROR
 * TIMED_OUT at timeout_ms with the connection's state.  The daemon's
 * answer is waited for a little longer than timeout_ms, so that its
 * reason, not the library's, says why.  A daemon without PUBLISH_FLUSH
 * is waited out with the PERSISTED notifications alone.
 */
static int
ipclib_publish_flush(struct ampsipc *h, const char *conn, int timeout_ms)
{
	struct ipclib_flush	f;
	int			wait_ms;

	if (h->fd == -1)
		return (ipclib_fail(h, AMPSIPC_E_USAGE, ENOTCONN,
		    "not connected"));
	f.conn = conn != NULL && *conn != '\0' ? conn : NULL;
	f.timeout = timeout_ms;
	wait_ms = timeout_ms < 0 ? -1 : timeout_ms > INT_MAX - FLUSH_GRACE ?
	    INT_MAX : timeout_ms + FLUSH_GRACE;
	if (ipclib_request(h, wait_ms, ipclib_fill_flush, &f) == -1)
		return (-1);
	if (h->wait.code == AMPSIPC_E_CLOSED && h->reconnect_ms > 0 &&
	    ipclib_request(h, wait_ms, ipclib_fill_flush, &f) == -1)
		return (-1);	/* ampsd restarted: asked again */
	if (h->wait.code == AMPSIPC_E_NOT_SUPPORTED)
		return (ipclib_wait_until(h, timeout_ms, ipclib_all_persisted,
		    NULL));
	if (h->wait.code != 0) {
		errno = h->wait.code == AMPSIPC_E_TIMED_OUT ? ETIMEDOUT : EIO;
		return (-1);
	}
	return (0);
}

/* Block until AMPS persisted everything this handle published. */
int
ampsipc_publish_flush(struct ampsipc *h, int timeout_ms)
{
	return (ipclib_publish_flush(h, NULL, timeout_ms));
}

/* The same for the publishes made on one connection. */
int
ampsipc_publish_flush_conn(struct ampsipc *h, const char *conn,
    int timeout_ms)
{
	return (ipclib_publish_flush(h, conn, timeout_ms));
}

/* Publishes not yet persisted or failed. */
uint64_t
ampsipc_unpersisted(const struct ampsipc *h)
{
	return (h->unpersisted);
}

/* Publishes not yet stored. */
uint64_t
ampsipc_unstored(const struct ampsipc *h)
{
	return (h->unstored);
}

/* Publishes that failed. */
uint64_t
ampsipc_failed(const struct ampsipc *h)
{
	return (h->failed);
}

/* Fill: PUBLISH_FLUSH adopting an earlier session's stored publishes. */
static void
ipclib_fill_adopt(struct ipcwire_enc *e, void *buf, size_t cap,
    uint32_t reqid, const void *arg)
{
	const struct ipclib_adopt	*a = arg;

	ipcwire_begin(e, buf, cap, AMPSIPC_PUBLISH_FLUSH, 0, reqid);
	ipcwire_put_u32(e, AMPSIPC_T_CONN_ID, a->conn_id);
	ipcwire_put_u64(e, AMPSIPC_T_SEQ, a->seq);
}

/*
 * After an ampsd restart (ampsipc-reconnect.c): publishes the daemon
 * had not stored are sent again from their copies, in order, with their
 * request ids; for those it had stored, the new daemon is asked, per
 * connection, to wait for them up to the highest sequence (adoption),
 * and its answer settles them.
 */
void
ipclib_pub_reconnected(struct ampsipc *h)
{
	struct ampsipc_pend	*p;
	struct ipclib_adopt	*a;
	size_t			 i, j;

	h->nadopt = 0;
	for (i = 0; i < h->pcount; i++) {
		p = ipclib_pend_at(h, i);
		if (p->state == PEND_SENT && p->frame != NULL) {
			if (ipclib_queue_raw(h, p->frame, p->flen) == -1)
				break;
			continue;
		}
		if (p->state != PEND_STORED)
			continue;
		for (j = 0; j < h->nadopt && h->adopt[j].conn_id !=
		    p->conn_id; j++)
			;
		if (j == h->nadopt) {
			if ((a = reallocarray(h->adopt, h->nadopt + 1,
			    sizeof *a)) == NULL)
				continue;
			h->adopt = a;
			h->adopt[h->nadopt].conn_id = p->conn_id;
			h->adopt[h->nadopt].seq = 0;
			h->nadopt++;
		}
		if (p->seq > h->adopt[j].seq)
			h->adopt[j].seq = p->seq;
	}
	for (j = 0; j < h->nadopt; j++) {
		h->adopt[j].reqid = ipclib_reqid(h);
		(void)ipclib_queue(h, h->adopt[j].reqid, ipclib_fill_adopt,
		    &h->adopt[j]);
	}
}

/*
 * The daemon's answer (FLUSHED, or ERROR with its code and reason) to
 * an adoption request: settle that connection's stored publishes up to
 * its sequence.  Returns 1 if m answered one.
 */
int
ipclib_pub_adopted(struct ampsipc *h, const struct ipcwire_msg *m)
{
	struct ampsipc_pend	*p;
	struct ipclib_adopt	 a;
	const char		*reason = ipcwire_str(m, AMPSIPC_T_REASON);
	size_t			 i, j;
	int			 code = 0;

	for (j = 0; j < h->nadopt && h->adopt[j].reqid != m->hdr.reqid; j++)
		;
	if (j == h->nadopt || m->hdr.reqid == 0)
		return (0);
	a = h->adopt[j];
	h->adopt[j] = h->adopt[--h->nadopt];
	if (m->hdr.type == AMPSIPC_ERROR)
		code = (int)ipcwire_num(m, AMPSIPC_T_ERRCODE, AMPSIPC_E_UNKNOWN);
	for (i = 0; i < h->pcount; i++) {
		p = ipclib_pend_at(h, i);
		if (p->state != PEND_STORED || p->conn_id != a.conn_id ||
		    p->seq > a.seq)
			continue;
		ipclib_pend_done(h, p, code == 0 ? AMPSIPC_PUB_PERSISTED :
		    AMPSIPC_PUB_FAILED, code, reason);
	}
	ipclib_pend_trim(h);
	return (1);
}

/*
 * Whether request reqid is sent again after an ampsd restart: a publish
 * not yet stored, kept as a copy, or an asynchronous subscription.
 */
int
ipclib_kept_across(struct ampsipc *h, uint32_t reqid)
{
	struct ampsipc_pend	*p;
	struct ampsipc_route	*rt;

	if ((p = ipclib_pend_find(h, reqid)) != NULL)
		return (p->state == PEND_SENT && p->frame != NULL);
	return ((rt = ipclib_route_find(h, reqid)) != NULL && rt->def != NULL &&
	    rt->stream == NULL);
}
