/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Upstream AMPS connection.
 *
 * There is one struct conn per configured connection block.  It performs
 * logon (PROTOCOL.md §4.1), sends and checks heartbeats (§14), recovers the
 * publish store after every logon (§7.5), sends committed publishes with
 * `s` and a=persisted (§7.3), applies persisted acks (§7.4, §6.6), sends
 * a flush when a program waits for its publishes (§7.7), and on
 * any failure asks connha.c which server to try next and how long to
 * wait (§15.2).  conn-io.c owns the socket, TLS and buffers.  Message
 * bodies are never interpreted.
 *
 * States, and the function that performs each transition:
 *
 *	IDLE --> CONNECTING --> LOGGING_ON --> RECOVERING --> READY
 *	            |  ^           |               |            |
 *	            v  |           v               v            v
 *	          BACKOFF <--------+---------------+------------+
 *	            |
 *	            v
 *	          GAVE_UP                 (any) --> STOPPED
 *
 *   IDLE, BACKOFF -> CONNECTING   conn_connect()
 *   CONNECTING    -> LOGGING_ON   conn_connected()
 *   LOGGING_ON    -> RECOVERING   conn_logon_ack()
 *   RECOVERING    -> READY        conn_pump(), once the logon backlog is sent
 *   (connected)   -> BACKOFF      conn_fail() -> conn_attempt()
 *   (any)         -> GAVE_UP      conn_attempt(), when connha gives up
 *   (any)         -> STOPPED      conn_stop()
 *   GAVE_UP       -> BACKOFF      conn_restart() (SIGHUP)
 *   (connected)   -> BACKOFF      conn_reconnect_now() (reload dropped
 *                                 the current server from the list)
 *
 * Invariants:
 *   (1) c->fd != -1 exactly in CONNECTING, LOGGING_ON, RECOVERING, READY.
 *   (2) Publishes go upstream only in RECOVERING and READY, in sequence
 *       order, once per logon, and only when committed and inside the
 *       store's transmit horizon (seq <= pubstore_sendable_seq());
 *       conn_pump() is the only sender.  A row that fails its checksum
 *       is never sent: it is logged, counted and reported failed.
 *   (3) After a logon ack with s, pubstore_logon() renumbers the rows
 *       never sent that s would cover, rows <= s are discarded, and
 *       sending restarts after max(s, persisted point): the replay
 *       precedes every newer publish.  The store is online (its commits
 *       raise the horizon) exactly while the state is RECOVERING or
 *       READY.
 *   (4) A row leaves the store only on a persisted ack (or logon s, or
 *       the persisted ack of a flush sent after it) covering it, or a
 *       failure ack naming it.
 *   (5) Every state change goes through conn_set_state(), which logs it.
 *   (6) conn_fail() never reconnects synchronously; the next attempt runs
 *       from a timer, so callers up the stack may still hold frames.
 *   (7) Nothing the server sends can reach fatal(): bad input fails the
 *       connection only.
 *   (8) RECOVERING ends when nothing sendable is left to replay, even
 *       if the server's sequence is behind the store's (a server that
 *       lost its log): that case is logged as a warning.
 *   (9) A server heartbeat is answered with a beat only if no beat went
 *       out in the last half interval (conn_beat_gap()): a server that
 *       answers beats itself cannot start a beat storm.
 *  (10) Frames queued during a loop pass are written together by the
 *       pass's flush hook (conn_flush_output(), server_flush()), one
 *       write for all of them: written one by one, a frame the server
 *       answers nothing to (a queue ack) made the next one wait on
 *       Nagle's algorithm for the server's delayed ACK, 40-120 ms on
 *       loopback, unless the URI set tcp_nodelay.  Outside a pass
 *       (tests, shutdown) a frame is written at once.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "conn-int.h"
#include "log.h"
#include "loop.h"
#include "pubstore.h"
#include "xmalloc.h"

#define CONN_REPLAY_SLICE	1024
#define CONN_LOGON_RETRIES	3
#define CONN_VERSION		"0.1.0.0.0:c"

static void	conn_attempt(struct conn *);
static void	conn_backoff_cb(evutil_socket_t, short, void *);

#define CONN_STATE_NAME(e, s, w)	s,
static const char *const conn_state_names[] = {
	CONN_STATES(CONN_STATE_NAME)
};
#undef CONN_STATE_NAME
#define CONN_STATE_WIRE(e, s, w)	w,
static const uint32_t conn_state_wire[] = { CONN_STATES(CONN_STATE_WIRE) };
#undef CONN_STATE_WIRE

/* Name of a state. */
const char *
conn_state_name(enum conn_state s)
{
	return (conn_state_names[s]);
}

/* The AMPSIPC_STATE_* number of a state. */
uint32_t
conn_wire_state(enum conn_state s)
{
	return (conn_state_wire[s]);
}

/* The one place where the state changes (invariant 5). */
void
conn_set_state(struct conn *c, enum conn_state s)
{
	if (c->state == s)
		return;
	log_info("connection %s: %s -> %s (server %s)", c->name,
	    conn_state_names[c->state], conn_state_names[s],
	    c->redacted[connha_current(&c->ha)]);
	if (c->ps != NULL && s != CONN_READY && s != CONN_RECOVERING)
		pubstore_set_online(c->ps, 0);		/* invariant 3 */
	c->state = s;
	c->state_since = loop_now_ms();
	if (c->ev.state != NULL)
		c->ev.state(c, s, c->ev.arg);
}

/* Build a frame with amps_wr and queue it, growing the buffer if needed. */
static void
conn_send_wr(struct conn *c, void (*fill)(struct conn *, struct amps_wr *,
    void *), void *arg)
{
	struct amps_wr	 w;
	char		 small[1024], *buf = small;
	size_t		 cap = sizeof small;
	long long	 n;

	for (;;) {
		amps_wr_begin(&w, buf, cap);
		fill(c, &w, arg);
		n = amps_wr_finish(&w, NULL, 0);
		if (n < 0)
			break;
		if ((size_t)n <= cap) {
			conn_trace_frame(c, 1, buf + 4, (size_t)n - 4, 0);
			conn_out_put(c, buf, (size_t)n);
			c->frames_out++;
			loop_frames_out++;
			break;
		}
		if (buf != small)
			free(buf);
		cap = (size_t)n;
		buf = xmalloc(cap);
	}
	if (buf != small)
		free(buf);
	if (!loop_in_pass())		/* invariant 10 */
		conn_io_flush(c);
}

/* Queue a prepared frame (prefix included); -1 when not logged on. */
int
conn_send_raw(struct conn *c, const void *p, size_t len)
{
	if (c->state != CONN_READY && c->state != CONN_RECOVERING)
		return (-1);
	if (len > 4)
		conn_trace_frame(c, 1, (const char *)p + 4, len - 4, 0);
	conn_out_put(c, p, len);
	c->frames_out++;
	loop_frames_out++;
	if (!loop_in_pass())		/* invariant 10 */
		conn_io_flush(c);
	return (0);
}

/* Write what this pass queued (invariant 10; the flush hook calls it). */
void
conn_flush_output(struct conn *c)
{
	conn_io_flush(c);
}

/*
 * Create the connection for configuration block cc (which must outlive
 * it), with index id, publish store ps (borrowed, may be NULL in tests)
 * and upcalls ev.  Returns NULL with *cause set when a URI or the TLS
 * setup is bad.  Needs loop_init() first.
 */
struct conn *
conn_create(const struct conf_conn *cc, uint32_t id, struct pubstore *ps,
    const struct conn_events *ev, char **cause)
{
	return (conn_create_session(cc, id, NULL, ps, ev, cause));
}

/*
 * As conn_create(), for a session of connection block cc named
 * "<name>.<suffix>" that logs on as "<client-name>.<suffix>" (suffix
 * NULL: the connection itself).  The receive path keeps its delta
 * subscriptions on such a session (docs/DESIGN.md §3 "Subscription").
 */
struct conn *
conn_create_session(const struct conf_conn *cc, uint32_t id,
    const char *suffix, struct pubstore *ps, const struct conn_events *ev,
    char **cause)
{
	struct conn	*c;
	char		 err[256];
	size_t		 i, rlen;
	int		 tls = 0;

	c = xcalloc(1, sizeof *c);
	c->cc = cc;
	if (suffix != NULL) {
		xasprintf(&c->name, "%s.%s", cc->name, suffix);
		xasprintf(&c->client_name, "%s.%s", cc->client_name, suffix);
	} else {
		c->name = xstrdup(cc->name);
		c->client_name = xstrdup(cc->client_name);
	}
	c->id = id;
	c->ps = ps;
	c->ev = *ev;
	c->fd = -1;
	c->state = CONN_IDLE;
	c->state_since = loop_now_ms();
	/* What the store holds at startup may have been sent already. */
	c->max_sent = ps != NULL ? pubstore_durable_seq(ps) : 0;
	c->uris = xcalloc(cc->nservers, sizeof *c->uris);
	c->redacted = xcalloc(cc->nservers, sizeof *c->redacted);
	connha_init(&c->ha, cc->nservers, &cc->reconnect,
	    (uint64_t)getpid() * 2654435761u + id);
	amps_reader_init(&c->rd, AMPS_FRAME_MAX_DEFAULT);
	c->ev_timer = evtimer_new(loop_base(), NULL, NULL);
	c->ev_idle = evtimer_new(loop_base(), NULL, NULL);
	c->ev_beat = event_new(loop_base(), -1, EV_PERSIST, NULL, NULL);
	if (c->ev_timer == NULL || c->ev_idle == NULL || c->ev_beat == NULL)
		fatalx("connection %s: cannot create timers", cc->name);
	for (i = 0; i < cc->nservers; i++) {
		rlen = strlen(cc->servers[i].uri) + 16;
		c->redacted[i] = xmalloc(rlen);
		if (amps_uri_redact(cc->servers[i].uri, c->redacted[i],
		    rlen) < 0)
			snprintf(c->redacted[i], rlen, "(server %zu)", i + 1);
		c->nuris = i + 1;
		if (amps_uri_parse(cc->servers[i].uri, &c->uris[i], err,
		    sizeof err) != 0) {
			xasprintf(cause, "connection %s: server %s: %s",
			    cc->name, c->redacted[i], err);
			conn_free(c);
			return (NULL);
		}
		if (c->uris[i].transport == AMPS_TRANSPORT_TCPS)
			tls = 1;
	}
	if (tls && (c->ctx = conn_tls_ctx(cc, cause)) == NULL) {
		conn_free(c);
		return (NULL);
	}
	return (c);
}

/* Free a connection (NULL is fine); closes the socket without logging. */
void
conn_free(struct conn *c)
{
	size_t	i;

	if (c == NULL)
		return;
	conn_io_close(c);
	for (i = 0; i < c->nuris; i++) {
		amps_uri_free(&c->uris[i]);
		free(c->redacted[i]);
	}
	free(c->uris);
	free(c->redacted);
	event_free(c->ev_timer);
	event_free(c->ev_idle);
	event_free(c->ev_beat);
	connha_free(&c->ha);
	amps_reader_free(&c->rd);
	if (c->ctx != NULL)
		SSL_CTX_free(c->ctx);
	free(c->head);
	free(c->retry_user);
	free(c->retry_pw);
	free(c->out.p);
	free(c->name);
	free(c->client_name);
	free(c);
}

/* Start connecting (from IDLE). */
void
conn_start(struct conn *c)
{
	if (c->state == CONN_IDLE)
		conn_attempt(c);
}

/*
 * Try again after GAVE_UP (SIGHUP): forget the failure streak and start
 * from the first server.
 */
void
conn_restart(struct conn *c)
{
	if (c->state != CONN_GAVE_UP)
		return;
	connha_free(&c->ha);
	connha_init(&c->ha, c->cc->nservers, &c->cc->reconnect,
	    (uint64_t)getpid() * 2654435761u + c->id);
	log_info("connection %s: restarting after giving up", c->name);
	conn_attempt(c);
}

/*
 * Drop the link and connect again at once to connha's current server,
 * without counting a failure: a reload took the server out of the list.
 * The attempt runs from a timer (invariant 6).
 */
void
conn_reconnect_now(struct conn *c, const char *why)
{
	if (c->state == CONN_GAVE_UP || c->state == CONN_STOPPED ||
	    c->state == CONN_IDLE)
		return;
	snprintf(c->last_error, sizeof c->last_error, "%s", why);
	c->down_why = ERRMAP_CONN_LOST;
	conn_io_close(c);
	conn_set_state(c, CONN_BACKOFF);
	evtimer_assign(c->ev_timer, loop_base(), conn_backoff_cb, c);
	conn_arm(c->ev_timer, 0);
}

/* Close for good (shutdown), after a last try to write what is queued. */
void
conn_stop(struct conn *c)
{
	conn_io_flush(c);
	conn_io_close(c);
	conn_set_state(c, CONN_STOPPED);
}

/* Timer: connect or logon took too long. */
static void
conn_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	if (c->state == CONN_CONNECTING || c->state == CONN_LOGGING_ON) {
		c->why = ERRMAP_CONN_TIMEOUT;
		conn_fail(c, "%s timed out after %llu ms",
		    c->state == CONN_CONNECTING ? "connect" : "logon",
		    (unsigned long long)conf_conn_logon_timeout(c->cc));
	}
}

/* Connect to the current server now. */
static void
conn_connect(struct conn *c)
{
	char	*cause = NULL;

	evtimer_assign(c->ev_timer, loop_base(), conn_timeout_cb, c);
	if (c->state == CONN_BACKOFF)
		c->reconnects++;
	conn_set_state(c, CONN_CONNECTING);
	if (conn_io_open(c, &cause) == -1) {
		conn_fail(c, "%s", cause);
		free(cause);
		return;
	}
	conn_arm(c->ev_timer, conf_conn_logon_timeout(c->cc));
}

/* Timer: the backoff wait is over. */
static void
conn_backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	if (c->state == CONN_BACKOFF || c->state == CONN_IDLE)
		conn_connect(c);
}

/*
 * Ask connha for the next wait and arm the timer (even for 0 ms:
 * invariant 6), or give up.
 */
static void
conn_attempt(struct conn *c)
{
	uint64_t	d, giveup = c->cc->reconnect.giveup_ms;

	if (connha_next_delay(&c->ha, loop_now_ms(), &d) == CONNHA_GIVE_UP) {
		log_warnx("connection %s: GAVE UP: giving up reconnecting "
		    "(reconnect give-up %llu ms passed); stored messages wait "
		    "until a reload (SIGHUP) restarts the connection; last "
		    "error: %s", c->name, (unsigned long long)giveup,
		    c->last_error);
		c->down_why = ERRMAP_CONN_GAVE_UP;
		conn_set_state(c, CONN_GAVE_UP);
		return;
	}
	/* A configured give-up is said at the start of each streak. */
	if (giveup != 0 && c->state != CONN_IDLE && c->ha.attempts == 1)
		log_warnx("connection %s: reconnecting; this connection gives "
		    "up for good if no server answers within %llu ms "
		    "(reconnect give-up)", c->name,
		    (unsigned long long)giveup);
	if (c->state != CONN_IDLE)
		conn_set_state(c, CONN_BACKOFF);
	if (d > 0)
		log_debug("connection %s: next attempt in %llu ms to %s",
		    c->name, (unsigned long long)d,
		    c->redacted[connha_current(&c->ha)]);
	evtimer_assign(c->ev_timer, loop_base(), conn_backoff_cb, c);
	conn_arm(c->ev_timer, d);
}

/*
 * Why the connection is about to go down (errmap.h): what the caller
 * said (c->why), else what the state says: a lost link once it was up,
 * a TLS failure while the handshake ran, a refusal while connecting.
 */
static void
conn_classify(struct conn *c, int was_up)
{
	enum errmap_conn	why = c->why;

	if (why == ERRMAP_CONN_NONE) {
		if (was_up || c->state == CONN_LOGGING_ON)
			why = ERRMAP_CONN_LOST;
		else if (c->connected && c->ssl != NULL && !c->tls_done)
			why = ERRMAP_CONN_TLS;
		else
			why = ERRMAP_CONN_REFUSED;
	}
	if (why != ERRMAP_CONN_LOGON)
		c->down_reason[0] = '\0';
	c->down_why = why;
	c->why = ERRMAP_CONN_NONE;
}

/*
 * The connection failed (connect, TLS, logon, read/write, heartbeat).
 * Report it to connha (hung: the established link went silent, so the
 * next server is tried first), close, and schedule the next attempt.
 */
static void
conn_failv(struct conn *c, int hung, const char *fmt, va_list ap)
{
	int	was_up;

	vsnprintf(c->last_error, sizeof c->last_error, fmt, ap);
	was_up = c->state == CONN_READY || c->state == CONN_RECOVERING;
	conn_classify(c, was_up);
	log_warnx("connection %s: %s: %s", c->name,
	    c->redacted[connha_current(&c->ha)], c->last_error);
	c->failures++;
	if (was_up && hung)
		connha_report_hung(&c->ha, loop_now_ms());
	else if (was_up)
		connha_report_disconnect(&c->ha, loop_now_ms());
	else
		connha_report_failure(&c->ha, loop_now_ms());
	conn_io_close(c);
	conn_attempt(c);
}

void
conn_fail(struct conn *c, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	conn_failv(c, 0, fmt, ap);
	va_end(ap);
}

/* The server went silent: fail over to the next server first. */
static void __attribute__((__format__(printf, 2, 3)))
conn_fail_hung(struct conn *c, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	conn_failv(c, 1, fmt, ap);
	va_end(ap);
}

/* Fill a logon frame (PROTOCOL.md §4.1.1). */
static void
conn_fill_logon(struct conn *c, struct amps_wr *w, void *arg)
{
	const struct amps_uri	*u = &c->uris[connha_current(&c->ha)];
	const char		*user, *pw;

	user = c->retry_user != NULL ? c->retry_user : u->user;
	pw = c->retry_pw != NULL ? c->retry_pw : u->password;
	amps_wr_cstr(w, AMPS_F_C, "logon");
	amps_wr_cstr(w, AMPS_F_CID, c->logon_cid);
	amps_wr_cstr(w, AMPS_F_CLIENT_NAME, c->client_name);
	amps_wr_cstr(w, AMPS_F_A, "processed");
	amps_wr_cstr(w, AMPS_F_VERSION, CONN_VERSION);
	if (user != NULL)
		amps_wr_cstr(w, AMPS_F_USER_ID, user);
	if (pw != NULL)
		amps_wr_cstr(w, AMPS_F_PW, pw);
	if (u->message_type != NULL)
		amps_wr_cstr(w, AMPS_F_MT, u->message_type);
}

/* Send logon with a new cid. */
static void
conn_send_logon(struct conn *c)
{
	snprintf(c->logon_cid, sizeof c->logon_cid, "%llu",
	    (unsigned long long)c->cid++);
	conn_send_wr(c, conn_fill_logon, NULL);
}

/* The socket is connected (TLS may still be pending): log on. */
void
conn_connected(struct conn *c)
{
	c->logon_retries = 0;
	free(c->retry_user);
	free(c->retry_pw);
	c->retry_user = c->retry_pw = NULL;
	c->last_rx = loop_now_ms();
	conn_set_state(c, CONN_LOGGING_ON);
	conn_send_logon(c);
}

/* Fill a heartbeat frame; arg is the o value. */
static void
conn_fill_heartbeat(struct conn *c, struct amps_wr *w, void *arg)
{
	amps_wr_cstr(w, AMPS_F_C, "heartbeat");
	amps_wr_cstr(w, AMPS_F_O, arg);
}

/* Fill a flush frame asking for its persisted ack. */
static void
conn_fill_flush(struct conn *c, struct amps_wr *w, void *arg)
{
	amps_wr_cstr(w, AMPS_F_C, "flush");
	amps_wr_cstr(w, AMPS_F_CID, c->flush_cid);
	amps_wr_cstr(w, AMPS_F_A, "persisted");
}

/*
 * The least time between two beats we send: half the heartbeat
 * interval (500 ms with heartbeats off, when a server beats anyway).
 */
static uint64_t
conn_beat_gap(const struct conn *c)
{
	return (c->cc->heartbeat_ms != 0 ? c->cc->heartbeat_ms / 2 : 500);
}

/* Send a "beat". */
static void
conn_send_beat(struct conn *c)
{
	c->last_beat = loop_now_ms();
	conn_send_wr(c, conn_fill_heartbeat, (void *)"beat");
}

/* Timer: nothing received for the idle timeout means the link is dead. */
static void
conn_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	uint64_t	 now = loop_now_ms(), t = conf_conn_timeout(c->cc);

	if (c->fd == -1)
		return;
	if (now - c->last_rx >= t) {
		conn_fail_hung(c, "no data or heartbeat from the server for "
		    "%llu ms", (unsigned long long)(now - c->last_rx));
		return;
	}
	conn_arm(c->ev_idle, c->last_rx + t - now);
}

/*
 * Periodic (every interval): keep the server's watchdog fed (PROTOCOL.md §14.1
 * rule 3) even when the server's own heartbeats stop, so a client beat
 * goes out at least once per interval.
 */
static void
conn_beat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	if (c->fd != -1 && loop_now_ms() - c->last_beat >= conn_beat_gap(c))
		conn_send_beat(c);
}

/* Start heartbeating after logon (PROTOCOL.md §14.1 rule 1). */
static void
conn_start_heartbeat(struct conn *c)
{
	char	opt[32];

	if (c->cc->heartbeat_ms == 0)
		return;
	snprintf(opt, sizeof opt, "start,%llu",
	    (unsigned long long)(c->cc->heartbeat_ms / 1000));
	c->last_beat = loop_now_ms();
	conn_send_wr(c, conn_fill_heartbeat, opt);
	evtimer_assign(c->ev_idle, loop_base(), conn_idle_cb, c);
	conn_arm(c->ev_idle, conf_conn_timeout(c->cc));
	event_assign(c->ev_beat, loop_base(), -1, EV_PERSIST, conn_beat_cb, c);
	conn_arm(c->ev_beat, c->cc->heartbeat_ms);
}

/*
 * Say what pubstore_logon() had to do (RELIABILITY.md finding 23): rows
 * never sent moved above the server's sequence, and rows the server's
 * sequence covers although it did not come from this store.  Tells the
 * publish path about the new numbers before any persisted upcall.
 */
static void
conn_logon_report(struct conn *c, uint64_t s, const struct pubstore_logon *lo)
{
	if (lo->renumbered > 0) {
		log_warnx("connection %s: server holds sequence %llu for client "
		    "name \"%s\", above %llu stored message(s) never sent "
		    "(%llu..%llu; a new or replaced store?): renumbered "
		    "%llu..%llu in the same order so that none is taken as "
		    "a duplicate", c->name, (unsigned long long)s,
		    log_safe(c->client_name, 128),
		    (unsigned long long)lo->renumbered,
		    (unsigned long long)lo->first,
		    (unsigned long long)lo->last,
		    (unsigned long long)(lo->first + lo->delta),
		    (unsigned long long)(lo->last + lo->delta));
		c->renumbered += lo->renumbered;
		if (c->ev.renumbered != NULL)
			c->ev.renumbered(c, lo->after, lo->delta, c->ev.arg);
	}
	if (lo->assumed > 0) {
		log_warnx("connection %s: server holds sequence %llu for client "
		    "name \"%s\", above the %llu this store ever sent: %llu "
		    "unpersisted message(s) up to %llu are taken as "
		    "persisted and may be lost (is another client using the "
		    "name, or was the store restored from an older copy?)",
		    c->name, (unsigned long long)s,
		    log_safe(c->client_name, 128),
		    (unsigned long long)lo->horizon,
		    (unsigned long long)lo->assumed,
		    (unsigned long long)lo->horizon);
		c->seq_assumed += lo->assumed;
	}
}

/*
 * Logon succeeded with s = the last sequence the server holds for our
 * client name: recover the publish store (PROTOCOL.md §7.5, invariant 3).
 */
static void
conn_logon_done(struct conn *c, uint64_t s)
{
	struct pubstore_logon	lo;
	uint64_t		disc;
	unsigned		gen = c->gen;

	evtimer_del(c->ev_timer);
	if (c->ps != NULL && pubstore_logon(c->ps, s, &lo) == -1) {
		conn_fail(c, "publish store cannot recover after logon: %s",
		    pubstore_error(c->ps));
		return;
	}
	c->logon_seq = s;
	c->connects++;
	c->down_why = ERRMAP_CONN_NONE;
	c->down_reason[0] = '\0';
	connha_report_success(&c->ha, loop_now_ms());
	conn_start_heartbeat(c);
	if (c->gen != gen)
		return;			/* the write failed: now in BACKOFF */
	c->sent_seq = s;
	c->recover_target = 0;
	if (c->ps != NULL) {
		conn_logon_report(c, s, &lo);
		disc = pubstore_discarded_seq(c->ps);
		if (disc > s) {
			log_warnx("connection %s: server reports sequence %llu "
			    "but %llu were already persisted: the server lost "
			    "messages %llu..%llu of client name \"%s\" (they "
			    "cannot be replayed: they left this store when it "
			    "persisted them); newer messages are sent above "
			    "%llu", c->name, (unsigned long long)s,
			    (unsigned long long)disc,
			    (unsigned long long)s + 1,
			    (unsigned long long)disc,
			    log_safe(c->client_name, 128),
			    (unsigned long long)disc);
			c->server_lost++;
			c->sent_seq = disc;
		}
		c->persisted_seq = s > disc ? s : disc;
		c->recover_target = pubstore_durable_seq(c->ps);
		if (c->ev.persisted != NULL && s > 0)
			c->ev.persisted(c, s, c->ev.arg);
	}
	log_info("connection %s: logged on as \"%s\", server has sequence "
	    "%llu, replaying %llu..%llu", c->name,
	    log_safe(c->client_name, 128), (unsigned long long)s,
	    (unsigned long long)c->sent_seq + 1,
	    (unsigned long long)c->recover_target);
	conn_set_state(c, CONN_RECOVERING);
	conn_pump(c);
}

/* Handle the ack of our logon (PROTOCOL.md §4.1.3). */
static void
conn_logon_ack(struct conn *c, const struct amps_hdr *h)
{
	char		reason[256], user[256], pw[1024];
	uint64_t	s = 0;

	if (amps_hdr_str(h, AMPS_F_REASON, reason, sizeof reason) < 0)
		reason[0] = '\0';
	if (amps_hdr_eq(h, AMPS_F_STATUS, "success")) {
		if (amps_hdr_has(h, AMPS_F_S) && amps_hdr_u64(h, AMPS_F_S,
		    &s) != 0) {
			c->why = ERRMAP_CONN_PROTOCOL;
			conn_fail(c, "logon ack with a bad sequence");
			return;
		}
		conn_logon_done(c, s);
		return;
	}
	if (amps_hdr_eq(h, AMPS_F_STATUS, "retry") &&
	    ++c->logon_retries <= CONN_LOGON_RETRIES) {
		if (amps_hdr_str(h, AMPS_F_USER_ID, user, sizeof user) >= 0) {
			free(c->retry_user);
			c->retry_user = xstrdup(user);
		}
		if (amps_hdr_str(h, AMPS_F_PW, pw, sizeof pw) >= 0) {
			free(c->retry_pw);
			c->retry_pw = xstrdup(pw);
		}
		log_info("connection %s: logon retry requested (%d of %d)",
		    c->name, c->logon_retries, CONN_LOGON_RETRIES);
		conn_send_logon(c);
		return;
	}
	c->why = ERRMAP_CONN_LOGON;
	snprintf(c->down_reason, sizeof c->down_reason, "%s", reason);
	if (strcmp(reason, "auth failure") == 0) {
		c->why = ERRMAP_CONN_AUTH;
		conn_fail(c, "logon failed: authentication failure (check the "
		    "user and password of this server)");
	} else if (strcmp(reason, "name in use") == 0) {
		c->why = ERRMAP_CONN_NAME_IN_USE;
		conn_fail(c, "logon failed: client name \"%s\" is in use by "
		    "another client", log_safe(c->client_name, 128));
	} else
		conn_fail(c, "logon failed: %s", reason[0] ?
		    log_safe(reason, 200) : "(no reason given)");
}

/* AMPS persisted everything up to s (PROTOCOL.md §7.4). */
static void
conn_persisted_upto(struct conn *c, uint64_t s)
{
	if (s > c->sent_seq) {
		/* Never sent: do not let anyone believe it is safe. */
		log_warnx("connection %s: server acknowledged sequence "
		    "%llu but only %llu were sent; using %llu",
		    c->name, (unsigned long long)s,
		    (unsigned long long)c->sent_seq,
		    (unsigned long long)c->sent_seq);
		s = c->sent_seq;
	}
	if (s <= c->persisted_seq)
		return;
	c->persisted_seq = s;
	if (c->ps != NULL)
		pubstore_discard_upto(c->ps, s);
	log_trace(TRACE_CONN, "connection %s: persisted up to %llu",
	    c->name, (unsigned long long)s);
	if (c->ev.persisted != NULL)
		c->ev.persisted(c, s, c->ev.arg);
}

/* Handle a persisted ack (PROTOCOL.md §7.4, §6.6, §7.6). */
static void
conn_persisted_ack(struct conn *c, const struct amps_hdr *h)
{
	char		reason[256];
	uint64_t	s;

	if (amps_hdr_u64(h, AMPS_F_S, &s) != 0)
		return;			/* not about our publishes */
	if (amps_hdr_str(h, AMPS_F_REASON, reason, sizeof reason) < 0)
		reason[0] = '\0';
	if (amps_hdr_eq(h, AMPS_F_STATUS, "success") ||
	    strcmp(reason, "duplicate") == 0) {
		conn_persisted_upto(c, s);
		return;
	}
	log_warnx("connection %s: server refused message %llu: %s",
	    c->name, (unsigned long long)s, log_safe(reason, 200));
	if (c->ps != NULL && pubstore_fail(c->ps, s) == -1)
		log_warnx("connection %s: publish store: %s", c->name,
		    pubstore_error(c->ps));
	if (c->ev.failed != NULL)
		c->ev.failed(c, s, reason, c->ev.arg);
}

/*
 * Ask AMPS to hurry the persisted acks of everything sent so far (a
 * `flush` with a=persisted, PROTOCOL.md §4.12, §7.7), unless a flush
 * sent since this logon covers need already or need is not sent yet.
 * A program waiting in PUBLISH_FLUSH then does not wait for the
 * server's ack conflation.
 */
void
conn_flush_upto(struct conn *c, uint64_t need)
{
	if (c->state != CONN_READY || need > c->sent_seq ||
	    (c->flush_logon == c->connects && c->flush_seq >= need))
		return;
	snprintf(c->flush_cid, sizeof c->flush_cid, "flush-%llu",
	    (unsigned long long)c->cid++);
	c->flush_seq = c->sent_seq;
	c->flush_logon = c->connects;
	log_trace(TRACE_CONN, "connection %s: flush up to %llu", c->name,
	    (unsigned long long)c->flush_seq);
	conn_send_wr(c, conn_fill_flush, NULL);
}

/*
 * The ack of our flush: its persisted ack says that everything sent
 * before it is persisted or refused (PROTOCOL.md §4.12); refusals came
 * first, each in its own ack.
 */
static void
conn_flush_ack(struct conn *c, const struct amps_hdr *h)
{
	if (!amps_hdr_eq(h, AMPS_F_A, "persisted"))
		return;
	c->flush_cid[0] = '\0';
	if (!amps_hdr_eq(h, AMPS_F_STATUS, "success")) {
		log_debug("connection %s: flush failed", c->name);
		return;
	}
	if (c->flush_logon == c->connects)
		conn_persisted_upto(c, c->flush_seq);
}

/*
 * One frame from the server.  Returns 0, or -1 when the connection was
 * failed (the caller must stop reading).
 */
int
conn_frame(struct conn *c, const char *body, uint32_t len)
{
	struct amps_hdr	 h;
	enum amps_cmd	 cmd;
	int		 rc;

	c->frames_in++;
	loop_frames_in++;
	if ((rc = amps_hdr_parse(body, len, &h)) != 0) {
		conn_trace_frame(c, 0, body, len, len);
		c->why = ERRMAP_CONN_PROTOCOL;
		conn_fail(c, "bad header from server: %s", amps_strerror(rc));
		return (-1);
	}
	conn_trace_frame(c, 0, body, len, h.hdr_len);
	cmd = amps_hdr_cmd(&h);
	if (cmd == AMPS_CMD_HEARTBEAT) {
		/* At most one answer per half interval (invariant 9). */
		if ((c->state == CONN_READY || c->state == CONN_RECOVERING) &&
		    loop_now_ms() - c->last_beat >= conn_beat_gap(c))
			conn_send_beat(c);
		return (0);
	}
	if (c->state == CONN_LOGGING_ON) {
		if (cmd == AMPS_CMD_ACK &&
		    amps_hdr_eq(&h, AMPS_F_CID, c->logon_cid)) {
			conn_logon_ack(c, &h);
			return (c->fd == -1 ? -1 : 0);
		}
		c->why = ERRMAP_CONN_PROTOCOL;
		conn_fail(c, "server sent \"%s\" before the logon ack",
		    amps_cmd_name(cmd));
		return (-1);
	}
	/* Persisted acks with s are the publish store's; those without
	 * (bookmark subscriptions, §8.4) go to the receive path, except
	 * the ack of our own flush. */
	if (cmd == AMPS_CMD_ACK && amps_hdr_eq(&h, AMPS_F_A, "persisted") &&
	    amps_hdr_has(&h, AMPS_F_S)) {
		conn_persisted_ack(c, &h);
		return (0);
	}
	if (cmd == AMPS_CMD_ACK && c->flush_cid[0] != '\0' &&
	    amps_hdr_eq(&h, AMPS_F_CID, c->flush_cid)) {
		conn_flush_ack(c, &h);
		return (0);
	}
	if (c->ev.frame != NULL)
		c->ev.frame(c, &h, body + h.hdr_len, len - h.hdr_len,
		    c->ev.frame_arg);
	return (0);
}

/* The wire command for a stored kind. */
static const char *
conn_kind_cmd(enum pubstore_kind k)
{
	switch (k) {
	case PUBSTORE_DELTA_PUBLISH:
		return ("delta_publish");
	case PUBSTORE_SOW_DELETE:
		return ("sow_delete");
	default:
		return ("p");
	}
}

/*
 * Queue one stored record as a frame: the header
 * {"c":CMD,"t":TOPIC,"a":"persisted","s":SEQ,<stored fields>} written
 * by the codec into c->head, then the data as it is in the store.  A
 * sow_delete also asks for its processed and stats acks, with cid
 * "sd-SEQ", which the receive path routes to the program that asked
 * (subpath_sow_delete).
 */
static int
conn_replay_cb(const struct pubstore_rec *r, void *arg)
{
	struct conn	*c = arg;
	struct amps_wr	 w;
	long long	 n;
	char		 cid[32];

	if (r->damaged) {
		log_warnx("connection %s: stored message %llu failed its "
		    "checksum: not sent, kept in the quarantine table of the "
		    "publish store", c->name, (unsigned long long)r->seq);
		c->sent_seq = r->seq;
		c->damaged++;
		if (c->ev.failed != NULL)
			c->ev.failed(c, r->seq, "store checksum mismatch",
			    c->ev.arg);
		return (1);
	}
	if (r->seq > pubstore_sendable_seq(c->ps) || r->seq <= c->sent_seq)
		return (1);
	snprintf(cid, sizeof cid, "sd-%llu", (unsigned long long)r->seq);
	for (;;) {
		amps_wr_begin(&w, c->head, c->headcap);
		amps_wr_cstr(&w, AMPS_F_C, conn_kind_cmd(r->kind));
		amps_wr_str(&w, AMPS_F_T, r->topic, r->topic_len);
		if (r->kind == PUBSTORE_SOW_DELETE) {
			amps_wr_cstr(&w, AMPS_F_CID, cid);
			amps_wr_cstr(&w, AMPS_F_A, "processed,persisted,stats");
		} else
			amps_wr_cstr(&w, AMPS_F_A, "persisted");
		amps_wr_u64(&w, AMPS_F_S, r->seq);
		amps_wr_fields(&w, r->hdr, r->hdr_len);
		n = amps_wr_finish_head(&w, r->data_len);
		if (n < 0 || (size_t)n + r->data_len > AMPS_FRAME_MAX_DEFAULT) {
			log_warnx("connection %s: stored message %llu too "
			    "large", c->name, (unsigned long long)r->seq);
			c->sent_seq = r->seq;
			return (0);
		}
		if ((size_t)n <= c->headcap)
			break;
		c->headcap = (size_t)n + 256;
		c->head = xreallocarray(c->head, c->headcap, 1);
	}
	conn_trace_parts(c, 1, c->head + 4, (size_t)n - 4, NULL, 0, r->data,
	    r->data_len);
	conn_out_put(c, c->head, (size_t)n);
	conn_out_put(c, r->data, r->data_len);
	c->frames_out++;
	c->pub_sent++;
	if (r->seq <= c->max_sent)
		c->pub_replayed++;
	else
		c->max_sent = r->seq;
	c->sent_seq = r->seq;
	return (conn_out_pending(c) >= CONN_OUT_HIGH);
}

/*
 * Send committed, unsent publishes in order (invariant 2), while the
 * output buffer is below its high-water mark.  Called after every flush
 * phase, after logon, and when output drains.
 */
void
conn_pump(struct conn *c)
{
	uint64_t	before, sendable;
	int64_t		n;

	if (c->state != CONN_READY && c->state != CONN_RECOVERING)
		return;
	while (c->ps != NULL &&
	    c->sent_seq < (sendable = pubstore_sendable_seq(c->ps)) &&
	    conn_out_pending(c) < CONN_OUT_HIGH) {
		before = c->sent_seq;
		n = pubstore_replay(c->ps, c->sent_seq, CONN_REPLAY_SLICE,
		    conn_replay_cb, c);
		if (n < 0) {
			log_warnx("connection %s: publish store replay: %s",
			    c->name, pubstore_error(c->ps));
			break;
		}
		if (n == 0) {
			/* Nothing stored up to sendable: nothing to send
			 * (invariant 8; e.g. the server's s is behind). */
			c->sent_seq = sendable;
			break;
		}
		if (c->sent_seq == before)
			break;
	}
	conn_io_flush(c);
	if (c->fd != -1 && c->state == CONN_RECOVERING &&
	    c->sent_seq >= c->recover_target)
		conn_set_state(c, CONN_READY);
}

/* Current state. */
enum conn_state
conn_state(const struct conn *c)
{
	return (c->state);
}

/* Configured name. */
const char *
conn_name(const struct conn *c)
{
	return (c->name);
}

/* The highest sequence sent upstream on this logon. */
uint64_t
conn_sent_seq(const struct conn *c)
{
	return (c->sent_seq);
}

/* Index given at creation. */
uint32_t
conn_id(const struct conn *c)
{
	return (c->id);
}

/* Fill a status snapshot (strings copied, passwords redacted). */
void
conn_get_status(const struct conn *c, struct conn_status *st)
{
	memset(st, 0, sizeof *st);
	snprintf(st->name, sizeof st->name, "%s", c->name);
	snprintf(st->client_name, sizeof st->client_name, "%s",
	    c->client_name);
	st->state = c->state;
	st->state_name = conn_state_names[c->state];
	st->wire_state = conn_state_wire[c->state];
	st->server_index = connha_current(&c->ha);
	st->nservers = c->nuris;
	snprintf(st->server, sizeof st->server, "%s",
	    c->redacted[st->server_index]);
	st->state_since_ms = c->state_since;
	st->connects = c->connects;
	st->failures = c->failures;
	st->sent_seq = c->sent_seq;
	st->persisted_seq = c->persisted_seq;
	st->logon_seq = c->logon_seq;
	st->frames_in = c->frames_in;
	st->frames_out = c->frames_out;
	st->reconnects = c->reconnects;
	st->pub_sent = c->pub_sent;
	st->pub_replayed = c->pub_replayed;
	st->renumbered = c->renumbered;
	st->seq_assumed = c->seq_assumed;
	st->server_lost = c->server_lost;
	st->damaged = c->damaged;
	snprintf(st->last_error, sizeof st->last_error, "%s", c->last_error);
	st->down_why = c->down_why;
	st->errcode = errmap_conn(c->down_why, c->down_reason);
}
