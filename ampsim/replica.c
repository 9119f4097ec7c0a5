/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * replica.c: a replicated pair of ampsim processes.  Each instance may
 * listen for its peer (--repl-port) and connect to its peer (--peer
 * host:port, or "peer host:port" on the admin channel).  The outgoing
 * link carries this instance's transaction log; the incoming link
 * receives the peer's and answers with acks.
 *
 * Wire format (AMPS framing, known header fields only):
 *	{"c":"p","t":T,"bm":"<pub>|<seq>|","s":<idx+1>[,"x"][,"k"]}DATA
 *	{"c":"p","t":T,"bm":...,"s":...,"o":"seqonly"}     identity only
 *	{"c":"sow_delete","t":T,"bm":...,"s":...,"sow_keys":"k1,k2"}
 *	{"c":"ack","a":"persisted","status":"success","s":<idx+1>}   (back)
 * `s` is the sender's log position, so acks can release held persisted
 * acks (--repl-sync).  bm is the message identity: the same message has
 * the same bookmark on both instances, so clients can fail over and
 * resume bookmark subscriptions, and find their last sequence in the
 * logon ack.
 *
 * Invariants:
 *  1. A record is applied at most once per instance: its identity
 *     (pub, seq) must be above the highest sequence logged for pub.
 *  2. On every (re)connect the whole log is offered again from the
 *     start; the receiver drops what it has (invariant 1), so a peer that
 *     restarted empty catches up.
 *  3. Records received from the peer are not sent back in steady state,
 *     but the catch-up after a (re)connect offers them too: the peer may
 *     have restarted without records it had sent us (killed after
 *     replicating them, before its own log write), and only we hold
 *     them now.  Invariant 1 drops the copies it still has.
 *  4. With --repl-sync a persisted ack for a publish is released only
 *     after the peer acknowledged the log position of that publish.
 */

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "ampsim.h"

#define REPL_OUT_MAX	(4 * 1024 * 1024)

struct pending {
	TAILQ_ENTRY(pending)	 entry;
	size_t			 idx;
	uint64_t		 sess_id;
	char			*cid;
	int			 has_seq;
	uint64_t		 seq;
	int			 flush;		/* a flush's persisted ack */
};
static TAILQ_HEAD(, pending) pendings = TAILQ_HEAD_INITIALIZER(pendings);

static struct evconnlistener	*l_repl;
static struct bufferevent	*out_bev;
static int			 out_up;
static size_t			 out_next;	/* next log index to send */
static size_t			 out_catchup;	/* log size at link up */
static uint64_t			 out_acked;	/* peer has indexes < this */
static struct event		*ev_retry;

static void	repl_connect(void);

/* Release held persisted acks up to the peer's ack. */
static void
repl_release(void)
{
	struct pending	*p;
	struct sess	*s;
	struct cmd	 c;

	replay_durable_kick();
	while ((p = TAILQ_FIRST(&pendings)) != NULL && p->idx < out_acked) {
		TAILQ_REMOVE(&pendings, p, entry);
		if ((s = sess_find_id(p->sess_id)) != NULL) {
			memset(&c, 0, sizeof c);
			c.cid = p->cid;
			c.acks = AMPS_ACK_PERSISTED;
			c.has_seq = p->has_seq;
			c.seq = p->seq;
			if (p->flush) {
				pack_flush(s);
				ack_send(s, &c, AMPS_ACK_PERSISTED, "success",
				    NULL);
			} else
				pack_success(s, &c);
		}
		free(p->cid);
		free(p);
	}
}

/* Hold a persisted ack until the peer has log index idx. */
int
repl_defer_ack(struct sess *s, const struct cmd *c, size_t idx)
{
	struct pending	*p;

	if (!conf.repl_sync || conf.peer == NULL ||
	    !(c->acks & AMPS_ACK_PERSISTED) || idx < out_acked)
		return (0);
	p = xcalloc(1, sizeof *p);
	p->idx = idx;
	p->sess_id = s->id;
	p->cid = c->cid ? xstrdup(c->cid) : NULL;
	p->has_seq = c->has_seq;
	p->seq = c->seq;
	TAILQ_INSERT_TAIL(&pendings, p, entry);
	return (1);
}

/*
 * Hold the persisted ack of a flush until the peer has everything
 * logged so far (§4.12: it says every earlier publish is persisted,
 * which under --repl-sync means replicated).  Returns 1 if held.
 */
int
repl_defer_flush(struct sess *s, const struct cmd *c)
{
	struct pending	*p;
	size_t		 n = txlog_count();

	if (!conf.repl_sync || conf.peer == NULL || n == 0 ||
	    n - 1 < out_acked)
		return (0);
	p = xcalloc(1, sizeof *p);
	p->idx = n - 1;
	p->sess_id = s->id;
	p->cid = c->cid ? xstrdup(c->cid) : NULL;
	p->flush = 1;
	TAILQ_INSERT_TAIL(&pendings, p, entry);
	return (1);
}

/* Encode log record(s) starting at i; returns the next index. */
static size_t
repl_encode(struct evbuffer *out, size_t i)
{
	const struct txrec	*r = txlog_get(i), *n;
	struct amps_wr		 w;
	struct sbuf		 keys;
	struct hbuf		 hb;
	char			 bm[48];
	long long		 len;
	uint64_t		 pub, seq;
	size_t			 j = i + 1;

	memset(&keys, 0, sizeof keys);
	txlog_bm(r, bm, sizeof bm);
	/*
	 * Gather the keys of a multi-record delete first, to size it; then
	 * view record i again (a view lasts until the next txlog_get()).
	 */
	if (r->type == TXREC_DELETE) {
		pub = r->pub;
		seq = r->seq;
		sbuf_add(&keys, r->k ? r->k : "", slen(r->k));
		while ((n = txlog_get(j)) != NULL && n->type == TXREC_DELETE &&
		    n->pub == pub && n->seq == seq) {
			sbuf_add(&keys, ",", 1);
			sbuf_add(&keys, n->k ? n->k : "", slen(n->k));
			j++;
		}
		r = txlog_get(i);
	}
	hbuf_get(&hb, HBUF_NEED(slen(r->topic) + slen(r->x) + slen(r->k) +
	    keys.len + sizeof bm));
	amps_wr_begin(&w, hb.p, hb.cap);
	amps_wr_cstr(&w, AMPS_F_C, r->type == TXREC_DELETE ? "sow_delete" :
	    "p");
	amps_wr_cstr(&w, AMPS_F_T, r->topic);
	amps_wr_cstr(&w, AMPS_F_BM, bm);
	if (r->type == TXREC_DELETE) {
		amps_wr_u64(&w, AMPS_F_S, j);
		amps_wr_str(&w, AMPS_F_SOW_KEYS, keys.p ? keys.p : "",
		    keys.len);
	} else {
		amps_wr_u64(&w, AMPS_F_S, j);
		if (r->type == TXREC_SEQ)
			amps_wr_cstr(&w, AMPS_F_O, "seqonly");
		if (r->x != NULL)
			amps_wr_cstr(&w, AMPS_F_X, r->x);
		if (r->k != NULL)
			amps_wr_cstr(&w, AMPS_F_K, r->k);
	}
	sbuf_free(&keys);
	len = amps_wr_finish(&w, NULL, 0);
	if (len < 0 || (size_t)len > hb.cap) {
		sim_log(LOG_WARN, "replica: record %zu too big, skipped", i);
		hbuf_free(&hb);
		return (j);
	}
	/* Header frame without payload, then fix the length for data. */
	amps_frame_put_len(hb.p, (uint32_t)((size_t)len - 4 +
	    (r->type == TXREC_PUBLISH ? r->dlen : 0)));
	evbuffer_add(out, hb.p, (size_t)len);
	if (r->type == TXREC_PUBLISH)
		evbuffer_add(out, r->data, r->dlen);
	hbuf_free(&hb);
	return (j);
}

/* Send log records the peer may not have yet. */
void
repl_kick(void)
{
	struct evbuffer		*out;
	size_t			 n = txlog_count();

	replay_durable_kick();
	if (!out_up)
		return;
	out = bufferevent_get_output(out_bev);
	while (out_next < n && evbuffer_get_length(out) < REPL_OUT_MAX) {
		if (txlog_from_peer(out_next) && out_next >= out_catchup) {
			out_next++;
			continue;
		}
		out_next = repl_encode(out, out_next);
	}
}

/* Outgoing link: acks from the peer. */
static void
repl_out_read_cb(struct bufferevent *bev, void *arg)
{
	struct evbuffer	*in = bufferevent_get_input(bev);
	const char	*body, *buf;
	uint32_t	 blen;
	size_t		 len, used;
	struct amps_hdr	 h;
	uint64_t	 s;
	int		 rc;

	while ((len = evbuffer_get_length(in)) >= 4) {
		buf = (const char *)evbuffer_pullup(in, -1);
		rc = amps_frame_next(buf, len, conf.frame_max, &body, &blen,
		    &used);
		if (rc == 0 && used == 0)
			break;
		if (rc < 0) {
			sim_log(LOG_WARN, "replica: bad frame from peer");
			evbuffer_drain(in, len);
			return;
		}
		if (rc == 1 && amps_hdr_parse(body, blen, &h) == 0 &&
		    amps_hdr_u64(&h, AMPS_F_S, &s) == 0 && s > out_acked)
			out_acked = s;
		evbuffer_drain(in, used);
	}
	repl_release();
}

/* Outgoing link drained: send more. */
static void
repl_out_write_cb(struct bufferevent *bev, void *arg)
{
	repl_kick();
}

/* Retry timer: reconnect to the peer. */
static void
repl_retry_cb(evutil_socket_t fd, short ev, void *arg)
{
	repl_connect();
}

/* Schedule a reconnect. */
static void
repl_retry(void)
{
	struct timeval	tv = { 0, 200000 };

	if (ev_retry == NULL)
		ev_retry = event_new(sim_base, -1, 0, repl_retry_cb, NULL);
	event_add(ev_retry, &tv);
}

/* Outgoing link events. */
static void
repl_out_event_cb(struct bufferevent *bev, short what, void *arg)
{
	if (what & BEV_EVENT_CONNECTED) {
		sim_log(LOG_INFO, "replica: connected to peer %s", conf.peer);
		out_up = 1;
		out_next = 0;
		out_catchup = txlog_count();
		repl_kick();
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if (out_up)
			sim_log(LOG_INFO, "replica: link to %s lost",
			    conf.peer);
		out_up = 0;
		bufferevent_free(out_bev);
		out_bev = NULL;
		repl_retry();
	}
}

/* Connect to the peer. */
static void
repl_connect(void)
{
	struct sockaddr_storage	ss;
	int			len = sizeof ss;

	if (conf.peer == NULL || out_bev != NULL)
		return;
	if (evutil_parse_sockaddr_port(conf.peer, (struct sockaddr *)&ss,
	    &len) != 0) {
		sim_log(LOG_WARN, "replica: bad peer address %s", conf.peer);
		return;
	}
	out_bev = bufferevent_socket_new(sim_base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(out_bev, repl_out_read_cb, repl_out_write_cb,
	    repl_out_event_cb, NULL);
	bufferevent_setwatermark(out_bev, EV_WRITE, REPL_OUT_MAX / 2, 0);
	bufferevent_enable(out_bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(out_bev, (struct sockaddr *)&ss,
	    len) != 0) {
		bufferevent_free(out_bev);
		out_bev = NULL;
		repl_retry();
	}
}

/* A header field unescaped into a new string, or NULL. */
static char *
repl_field(const struct amps_hdr *h, enum amps_field f)
{
	const struct amps_view	*v = amps_hdr_view(h, f);
	char			*out;

	if (v == NULL)
		return (NULL);
	out = xmalloc((size_t)v->len + 1);
	if (amps_hdr_str(h, f, out, (size_t)v->len + 1) < 0) {
		free(out);
		return (NULL);
	}
	return (out);
}

/* Apply one replicated frame; returns its `s` (0 if none). */
static uint64_t
repl_apply(const char *body, uint32_t blen)
{
	struct cmd	 c;
	const char	*reason = NULL;
	char		 bm[64], *topic = NULL, *x = NULL, *k = NULL, *keys;
	char		 esc[128];
	uint64_t	 pub, seq, s = 0;
	long long	 idx;
	size_t		 before, i;
	int		 n;

	memset(&c, 0, sizeof c);
	if (amps_hdr_parse(body, blen, &c.h) != 0)
		return (0);
	amps_hdr_u64(&c.h, AMPS_F_S, &s);
	if (amps_hdr_str(&c.h, AMPS_F_BM, bm, sizeof bm) < 0 ||
	    amps_bm_parse(bm, strlen(bm), &pub, &seq) != 0 ||
	    (topic = repl_field(&c.h, AMPS_F_T)) == NULL)
		return (s);
	if (seq <= txlog_pub_max(pub)) {
		free(topic);
		return (s);	/* already have it */
	}
	before = txlog_count();
	if (amps_hdr_eq(&c.h, AMPS_F_C, "sow_delete")) {
		const struct amps_view *v = amps_hdr_view(&c.h,
		    AMPS_F_SOW_KEYS);

		keys = xmalloc(v ? v->len + 1 : 1);
		n = amps_hdr_str(&c.h, AMPS_F_SOW_KEYS, keys,
		    v ? v->len + 1 : 1);
		if (n < 0)
			keys[0] = '\0';
		sow_deleted_keys(topic, keys, pub, seq);
		free(keys);
	} else if (amps_hdr_eq(&c.h, AMPS_F_O, "seqonly")) {
		txlog_append(TXREC_SEQ, pub, seq, topic, NULL, NULL, NULL, 0,
		    0);
	} else {
		c.c = AMPS_CMD_PUBLISH;
		c.topic = topic;
		c.payload = body + c.h.hdr_len;
		c.plen = blen - c.h.hdr_len;
		c.x = x = repl_field(&c.h, AMPS_F_X);
		c.k = k = repl_field(&c.h, AMPS_F_K);
		idx = publish_apply(&c, 0, pub, seq, 1, &reason);
		if (idx == -1)
			sim_log(LOG_WARN, "replica: %s %s not applied: %s",
			    sim_escape_log(topic, strlen(topic), esc,
			    sizeof esc), bm, reason);
	}
	for (i = before; i < txlog_count(); i++)
		txlog_mark_peer(i);
	free(topic);
	free(x);
	free(k);
	return (s);
}

/* Incoming link: apply the peer's records, ack the last position. */
static void
repl_in_read_cb(struct bufferevent *bev, void *arg)
{
	struct evbuffer	*in = bufferevent_get_input(bev);
	const char	*body, *buf;
	uint32_t	 blen;
	size_t		 len, used;
	uint64_t	 s, last = 0;
	struct amps_wr	 w;
	char		 abuf[128];
	long long	 n;
	int		 rc;

	while ((len = evbuffer_get_length(in)) >= 4) {
		buf = (const char *)evbuffer_pullup(in, -1);
		rc = amps_frame_next(buf, len, conf.frame_max, &body, &blen,
		    &used);
		if (rc == 0 && used == 0)
			break;
		if (rc < 0) {
			sim_log(LOG_WARN, "replica: bad frame from peer, "
			    "dropping the link");
			bufferevent_free(bev);
			return;
		}
		if (rc == 1 && (s = repl_apply(body, blen)) > last)
			last = s;
		evbuffer_drain(in, used);
	}
	if (last == 0)
		return;
	txlog_flush();
	amps_wr_begin(&w, abuf, sizeof abuf);
	amps_wr_cstr(&w, AMPS_F_C, "ack");
	amps_wr_cstr(&w, AMPS_F_A, "persisted");
	amps_wr_cstr(&w, AMPS_F_STATUS, "success");
	amps_wr_u64(&w, AMPS_F_S, last);
	n = amps_wr_finish(&w, NULL, 0);
	if (n > 0 && (size_t)n <= sizeof abuf)
		bufferevent_write(bev, abuf, (size_t)n);
}

/* Incoming link events. */
static void
repl_in_event_cb(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		sim_log(LOG_INFO, "replica: incoming link closed");
		bufferevent_free(bev);
	}
}

/* Accept the peer's link. */
static void
repl_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct bufferevent	*bev;

	sim_log(LOG_INFO, "replica: peer connected");
	bev = bufferevent_socket_new(sim_base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, repl_in_read_cb, NULL, repl_in_event_cb, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* Start the replication listener and the link to the peer. */
int
repl_start(char *err, size_t errlen)
{
	struct sockaddr_in	sin;

	if (conf.repl_port >= 0) {
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)conf.repl_port);
		if (inet_pton(AF_INET, conf.addr, &sin.sin_addr) != 1)
			sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		l_repl = evconnlistener_new_bind(sim_base, repl_accept_cb,
		    NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
		    (struct sockaddr *)&sin, sizeof sin);
		if (l_repl == NULL) {
			snprintf(err, errlen, "replication port %d: %s",
			    conf.repl_port, strerror(errno));
			return (-1);
		}
	}
	repl_connect();
	return (0);
}

/* Set or change the peer at run time. */
int
repl_set_peer(const char *peer, char *err, size_t errlen)
{
	struct sockaddr_storage	ss;
	int			len = sizeof ss;

	if (evutil_parse_sockaddr_port(peer, (struct sockaddr *)&ss,
	    &len) != 0) {
		snprintf(err, errlen, "bad peer address %s", peer);
		return (-1);
	}
	free(conf.peer);
	conf.peer = xstrdup(peer);
	if (out_bev != NULL) {
		bufferevent_free(out_bev);
		out_bev = NULL;
		out_up = 0;
	}
	repl_connect();
	return (0);
}

/* The bound replication port, or -1. */
int
repl_bound_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;

	if (l_repl == NULL || getsockname(evconnlistener_get_fd(l_repl),
	    (struct sockaddr *)&sin, &len) != 0)
		return (-1);
	return (ntohs(sin.sin_port));
}

/* Close the links. */
void
repl_stop(void)
{
	struct pending	*p;

	if (l_repl != NULL)
		evconnlistener_free(l_repl);
	if (out_bev != NULL)
		bufferevent_free(out_bev);
	if (ev_retry != NULL)
		event_free(ev_retry);
	l_repl = NULL;
	out_bev = NULL;
	ev_retry = NULL;
	while ((p = TAILQ_FIRST(&pendings)) != NULL) {
		TAILQ_REMOVE(&pendings, p, entry);
		free(p->cid);
		free(p);
	}
}

/* Number of log records that are durable under the replication policy. */
size_t
repl_durable_count(void)
{
	size_t	n = txlog_count(), d;

	if (!conf.repl_sync || conf.peer == NULL)
		return (n);
	d = out_acked < n ? (size_t)out_acked : n;
	/* Records that came from the peer are durable there already. */
	while (d < n && txlog_from_peer(d))
		d++;
	return (d);
}
