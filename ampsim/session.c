/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * session.c: one client connection.  Owns the socket, the read buffer
 * (struct amps_reader: raw libevent events, no bufferevents, so one read
 * callback can take as many bytes as the kernel has), the single ordered
 * output queue, the connection state machine and the command dispatcher.
 *
 *	NEW --logon ok--> READY
 *	NEW --logon retry--> LOGON_RETRY --logon ok--> READY
 *	any --sess_kill--> DEAD (freed from the loop)
 *	NEW/LOGON_RETRY/READY --sess_close_flush--> CLOSING --flushed--> DEAD
 *
 * Invariants:
 *  1. Every byte sent to a client goes through sess_send(), which appends
 *     to the one output buffer: frames leave in the order they were
 *     produced (query results before later publishes, §4.7).
 *  2. A connection whose queued output exceeds conf.out_limit is killed
 *     with the logged reason "slow client".
 *  3. Bad input (malformed frame, unknown command) kills only that
 *     connection with a logged reason; nothing reachable from input
 *     aborts the process.
 *  4. A session is never freed inside a callback that can still touch
 *     it: sess_kill() marks it DEAD, unlinks it and closes the socket;
 *     its subscriptions and memory are released by a zero-delay loop
 *     callback (fan-out skips subscriptions of DEAD sessions).
 *  5. Sessions in the global list are exactly those not DEAD.
 *  6. Output is written in the loop pass that produced it (the write
 *     event is made active, not waited for); only a socket that took
 *     part of it waits for EV_WRITE.  A subscriber gets a message when
 *     the publish has been processed, never later than the end of that
 *     pass (persisted acks still wait for txlog_flush(), publish.c).
 */

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "ampsim.h"

struct sesslist	sessions = TAILQ_HEAD_INITIALIZER(sessions);
static uint64_t	next_sess_id = 1;

#define SESS_STATE_NAME(e)	#e,
static const char *sess_state_names[] = { SESS_STATES(SESS_STATE_NAME) };
#undef SESS_STATE_NAME

static void	sess_read_cb(evutil_socket_t, short, void *);
static void	sess_write_cb(evutil_socket_t, short, void *);
static void	sess_dispatch(struct sess *, const char *, uint32_t);
static void	sess_arm_write(struct sess *);

/* Name of a state. */
const char *
sess_state_name(enum sess_state st)
{
	return (sess_state_names[st]);
}

/* The single choke point for state changes. */
void
sess_set_state(struct sess *s, enum sess_state st)
{
	if (s->state == st)
		return;
	sim_log(LOG_DEBUG, "session: %s: %s -> %s", s->label,
	    sess_state_name(s->state), sess_state_name(st));
	s->state = st;
}

/* Create a session for an accepted socket (non-blocking already). */
struct sess *
sess_create(int fd, enum sess_kind kind, SSL *ssl, const char *peer)
{
	struct sess	*s;

	s = xcalloc(1, sizeof *s);
	s->id = next_sess_id++;
	s->fd = fd;
	s->kind = kind;
	s->ssl = ssl;
	s->state = SESS_NEW;
	snprintf(s->peer, sizeof s->peer, "%s", peer);
	snprintf(s->label, sizeof s->label, "conn %llu (%s)",
	    (unsigned long long)s->id, s->peer);
	amps_reader_init(&s->rd, conf.frame_max);
	s->ack_conflation_ms = conf.ack_conflation_ms;
	TAILQ_INIT(&s->subs);
	s->ev_read = event_new(sim_base, fd, EV_READ | EV_PERSIST,
	    sess_read_cb, s);
	s->ev_write = event_new(sim_base, fd, EV_WRITE, sess_write_cb, s);
	event_add(s->ev_read, NULL);
	TAILQ_INSERT_TAIL(&sessions, s, entry);
	sim_log(LOG_INFO, "session: %s: connected", s->label);
	return (s);
}

/* Release a dead session's memory (called from the loop). */
static void
sess_free_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct sess	*s = arg;

	/* Subscriptions go here, not in sess_kill: a kill can happen while
	 * a fan-out walks the subscription list. */
	subs_sess_closed(s);
	if (s->ev_batch != NULL)
		event_free(s->ev_batch);
	/* A command handled after the kill may have armed the conflation
	 * timer again: it must not fire on freed memory. */
	if (s->ev_pa != NULL)
		event_free(s->ev_pa);
	amps_reader_free(&s->rd);
	sbuf_free(&s->out);
	free(s->name);
	free(s->user);
	free(s);
}

/* Tear a session down now, logging why. */
void
sess_kill(struct sess *s, const char *fmt, ...)
{
	va_list	ap;
	char	reason[256];
	struct timeval tv = { 0, 0 };

	if (s->state == SESS_DEAD)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	sim_log(LOG_INFO, "session: %s: disconnected: %s", s->label, reason);
	sess_set_state(s, SESS_DEAD);
	TAILQ_REMOVE(&sessions, s, entry);
	hb_stop(s);
	if (s->ev_pa != NULL)
		event_free(s->ev_pa);
	s->ev_pa = NULL;
	event_free(s->ev_read);
	event_free(s->ev_write);
	if (s->ev_batch != NULL)
		event_del(s->ev_batch);
	if (s->ssl != NULL) {
		SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	close(s->fd);
	s->fd = -1;
	event_base_once(sim_base, -1, EV_TIMEOUT, sess_free_cb, s, &tv);
}

/* Stop reading; close once the queued output is written. */
static void
sess_close_flush(struct sess *s, const char *reason)
{
	if (s->state == SESS_DEAD || s->state == SESS_CLOSING)
		return;
	sim_log(LOG_INFO, "session: %s: closing after flush: %s", s->label,
	    reason);
	sess_set_state(s, SESS_CLOSING);
	event_del(s->ev_read);
	if (s->out.len == s->out_off)
		sess_kill(s, "%s", reason);
	else
		sess_arm_write(s);
}

/* Kill every session (shutdown). */
void
sess_close_all(void)
{
	struct sess	*s;

	while ((s = TAILQ_FIRST(&sessions)) != NULL)
		sess_kill(s, "server shutting down");
}

/* Find a logged-on session by client name. */
struct sess *
sess_find_name(const char *name)
{
	struct sess	*s;

	TAILQ_FOREACH(s, &sessions, entry)
		if (s->name != NULL && strcmp(s->name, name) == 0 &&
		    s->state != SESS_CLOSING)
			return (s);
	return (NULL);
}

/*
 * Have the queued output written in this loop pass (invariant 6): the
 * write callback runs after the callback that queued the output, so the
 * frames one read produced leave in one write, without waiting for
 * another epoll round.
 */
static void
sess_arm_write(struct sess *s)
{
	if (s->state == SESS_DEAD || s->write_armed)
		return;
	if (s->out.len == s->out_off)
		return;
	s->write_armed = 1;
	event_active(s->ev_write, EV_WRITE, 1);
}

/* The socket took only part of the output: write the rest when writable. */
static void
sess_wait_writable(struct sess *s)
{
	if (s->state == SESS_DEAD || s->write_armed)
		return;
	s->write_armed = 1;
	event_add(s->ev_write, NULL);
}

/* Batch timer of the write_batch fault: write what is held. */
static void
sess_batch_cb(evutil_socket_t fd, short ev, void *arg)
{
	sess_arm_write(arg);
}

/* Queue a complete frame for sending. */
void
sess_send(struct sess *s, const char *frame, size_t len)
{
	if (s->state == SESS_DEAD)
		return;
	if (s->out_off > 0 && s->out_off == s->out.len) {
		s->out.len = 0;
		s->out_off = 0;
	}
	sbuf_add(&s->out, frame, len);
	s->frames_out++;
	sim_frames_out++;
	if (s->out.len - s->out_off > conf.out_limit) {
		sess_kill(s, "slow client: %zu bytes queued (limit %zu)",
		    s->out.len - s->out_off, conf.out_limit);
		return;
	}
	if (faults.write_batch > 1 &&
	    s->frames_out % faults.write_batch != 0) {
		/* Hold for more frames, but never longer than 20 ms. */
		struct timeval tv = { 0, 20000 };

		if (s->ev_batch == NULL)
			s->ev_batch = event_new(sim_base, -1, 0,
			    sess_batch_cb, s);
		if (!event_pending(s->ev_batch, EV_TIMEOUT, NULL))
			event_add(s->ev_batch, &tv);
		return;
	}
	sess_arm_write(s);
}

/* Finish a writer into the output queue, growing the buffer as needed. */
void
sess_send_wr(struct sess *s, struct amps_wr *w, const void *pl, size_t plen)
{
	long long	 n;
	char		*big;
	size_t		 hl;

	n = amps_wr_finish(w, pl, plen);
	if (n < 0) {
		sim_log(LOG_WARN, "session: %s: frame too big, dropped",
		    s->label);
		return;
	}
	if ((size_t)n <= w->cap) {
		sess_send(s, w->buf, (size_t)n);
		return;
	}
	/* Header fitted (callers size it), payload did not: assemble. */
	hl = (size_t)n - plen;
	if (hl > w->cap) {
		sim_log(LOG_WARN, "session: %s: header too big, dropped",
		    s->label);
		return;
	}
	big = xmalloc((size_t)n);
	memcpy(big, w->buf, hl);
	memcpy(big + hl, pl, plen);
	amps_frame_put_len(big, (uint32_t)(n - 4));
	sess_send(s, big, (size_t)n);
	free(big);
}

/* Low-level write of up to n bytes; returns bytes, 0 = retry, -1 = error. */
static ssize_t
sess_io_write(struct sess *s, const char *p, size_t n)
{
	ssize_t	w;
	int	e;

	if (s->ssl != NULL) {
		w = SSL_write(s->ssl, p, (int)n);
		if (w > 0)
			return (w);
		e = SSL_get_error(s->ssl, (int)w);
		if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
			return (0);
		return (-1);
	}
	w = write(s->fd, p, n);
	if (w < 0 && (errno == EAGAIN || errno == EINTR))
		return (0);
	return (w);
}

/* Socket writable: write queued output (1 byte per call under fault). */
static void
sess_write_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct sess	*s = arg;
	size_t		 n;
	ssize_t		 w;

	s->write_armed = 0;
	while (s->out_off < s->out.len) {
		n = s->out.len - s->out_off;
		if (faults.write_bytewise)
			n = 1;
		w = sess_io_write(s, s->out.p + s->out_off, n);
		if (w < 0) {
			sess_kill(s, "write error: %s", strerror(errno));
			return;
		}
		if (w == 0)
			break;
		s->out_off += (size_t)w;
		if (faults.write_bytewise)
			break;
	}
	if (s->out_off == s->out.len) {
		s->out.len = s->out_off = 0;
		if (s->state == SESS_CLOSING) {
			sess_kill(s, "closed after flush");
			return;
		}
	} else
		sess_wait_writable(s);
}

/* Low-level read; returns bytes, 0 = EOF, -1 = error, -2 = retry. */
static ssize_t
sess_io_read(struct sess *s, char *p, size_t n)
{
	ssize_t	r;
	int	e;

	if (s->ssl != NULL) {
		r = SSL_read(s->ssl, p, (int)n);
		if (r > 0)
			return (r);
		e = SSL_get_error(s->ssl, (int)r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return (-2);
		if (e == SSL_ERROR_ZERO_RETURN)
			return (0);
		errno = EPROTO;
		return (-1);
	}
	r = read(s->fd, p, n);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return (-2);
	return (r);
}

/* Socket readable: read what is there and dispatch whole frames. */
static void
sess_read_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct sess	*s = arg;
	const char	*body;
	uint32_t	 blen;
	char		*p;
	size_t		 n;
	ssize_t		 r;
	int		 rc, rounds;

	for (rounds = 0; rounds < 16; rounds++) {
		if (amps_reader_space(&s->rd, 64 * 1024, &p, &n) != 0) {
			sess_kill(s, "out of memory for input");
			return;
		}
		r = sess_io_read(s, p, n);
		if (r == -2)
			break;
		if (r == 0) {
			sess_kill(s, "peer closed the connection");
			return;
		}
		if (r < 0) {
			sess_kill(s, "read error: %s", strerror(errno));
			return;
		}
		amps_reader_commit(&s->rd, (size_t)r);
		while ((rc = amps_reader_next(&s->rd, &body, &blen)) == 1) {
			sess_dispatch(s, body, blen);
			if (s->state == SESS_DEAD || s->state == SESS_CLOSING) {
				repl_kick();
				return;
			}
		}
		if (rc < 0) {
			sess_kill(s, "bad frame: %s", amps_strerror(rc));
			return;
		}
		if ((size_t)r < n && s->ssl == NULL)
			break;
	}
	/* TLS may hold decrypted bytes the socket will not signal again. */
	if (s->ssl != NULL && SSL_pending(s->ssl) > 0)
		event_active(s->ev_read, EV_READ, 0);
	sess_arm_write(s);
	repl_kick();
}

/* Copy a header field unescaped into the arena; NULL if absent/bad. */
static char *
cmd_field(struct cmd *c, enum amps_field f, struct sbuf *arena, int *bad)
{
	const struct amps_view	*v;
	char			*out;
	int			 n;

	if ((v = amps_hdr_view(&c->h, f)) == NULL)
		return (NULL);
	sbuf_reserve(arena, (size_t)v->len + 1);
	out = arena->p + arena->len;
	n = amps_hdr_str(&c->h, f, out, (size_t)v->len + 1);
	if (n < 0) {
		*bad = 1;
		return (NULL);
	}
	arena->len += (size_t)n + 1;
	return (out);
}

/* Decode a frame body into a struct cmd; -1 with a reason on bad input. */
static int
cmd_decode(struct cmd *c, const char *body, uint32_t blen, struct sbuf *arena,
    const char **why)
{
	const struct amps_view	*v;
	int			 bad = 0, rc;

	memset(c, 0, sizeof *c);
	if ((rc = amps_hdr_parse(body, blen, &c->h)) != 0) {
		*why = amps_strerror(rc);
		return (-1);
	}
	c->payload = body + c->h.hdr_len;
	c->plen = blen - c->h.hdr_len;
	c->c = amps_hdr_cmd(&c->h);
	/* Reserve the whole arena first: pointers into it must stay put. */
	arena->len = 0;
	sbuf_reserve(arena, (size_t)c->h.hdr_len + AMPS_F__COUNT + 16);
	c->cname = cmd_field(c, AMPS_F_C, arena, &bad);
	c->cid = cmd_field(c, AMPS_F_CID, arena, &bad);
	c->topic = cmd_field(c, AMPS_F_T, arena, &bad);
	c->filter = cmd_field(c, AMPS_F_F, arena, &bad);
	c->opts = cmd_field(c, AMPS_F_O, arena, &bad);
	c->sub_id = cmd_field(c, AMPS_F_SUB_ID, arena, &bad);
	c->query_id = cmd_field(c, AMPS_F_QUERY_ID, arena, &bad);
	c->bm = cmd_field(c, AMPS_F_BM, arena, &bad);
	c->x = cmd_field(c, AMPS_F_X, arena, &bad);
	c->k = cmd_field(c, AMPS_F_K, arena, &bad);
	c->sow_keys = cmd_field(c, AMPS_F_SOW_KEYS, arena, &bad);
	c->orderby = cmd_field(c, AMPS_F_ORDERBY, arena, &bad);
	c->client_name = cmd_field(c, AMPS_F_CLIENT_NAME, arena, &bad);
	c->user_id = cmd_field(c, AMPS_F_USER_ID, arena, &bad);
	c->pw = cmd_field(c, AMPS_F_PW, arena, &bad);
	if (bad) {
		*why = "bad string escape in header";
		return (-1);
	}
	if ((v = amps_hdr_view(&c->h, AMPS_F_A)) != NULL &&
	    amps_ack_parse(v->p, v->len, &c->acks) != 0) {
		/* Unknown ack names: keep the ones we know (lenient). */
		struct amps_list_iter	 it;
		const char		*item;
		size_t			 ilen;
		unsigned		 m;

		c->acks = 0;
		amps_list_begin(&it, v->p, v->len);
		while (amps_list_next(&it, &item, &ilen) == 1)
			if (amps_ack_parse(item, ilen, &m) == 0)
				c->acks |= m;
	}
	if (amps_hdr_has(&c->h, AMPS_F_S)) {
		if (amps_hdr_u64(&c->h, AMPS_F_S, &c->seq) != 0) {
			*why = "bad sequence number";
			return (-1);
		}
		c->has_seq = 1;
	}
	if (amps_hdr_has(&c->h, AMPS_F_BS))
		c->has_bs = amps_hdr_u64(&c->h, AMPS_F_BS, &c->bs) == 0;
	if (amps_hdr_has(&c->h, AMPS_F_TOP_N))
		c->has_top_n = amps_hdr_u64(&c->h, AMPS_F_TOP_N,
		    &c->top_n) == 0;
	if (amps_hdr_has(&c->h, AMPS_F_E))
		c->has_e = amps_hdr_u64(&c->h, AMPS_F_E, &c->e) == 0;
	return (0);
}

/*
 * Write a numeric field, quoted when the quote_numbers fault is on.  The
 * codec writer always emits canonical numbers bare, so the quoted form is
 * appended by hand with the writer's own bookkeeping (len keeps counting
 * past cap, snprintf style).
 */
void
wr_num(struct amps_wr *w, enum amps_field f, uint64_t v)
{
	char	tmp[96];
	int	n;

	if (!faults.quote_numbers) {
		amps_wr_u64(w, f, v);
		return;
	}
	n = snprintf(tmp, sizeof tmp, "%s\"%s\":\"%llu\"",
	    w->nfields > 0 ? "," : "", amps_field_name(f),
	    (unsigned long long)v);
	if (n <= 0 || (size_t)n >= sizeof tmp)
		return;
	if (w->len + (size_t)n <= w->cap)
		memcpy(w->buf + w->len, tmp, (size_t)n);
	w->len += (size_t)n;
	w->nfields++;
}

/* A delayed ack, re-sent by session id when its timer fires. */
struct delayed {
	uint64_t	 sess_id;
	size_t		 len;
	char		 frame[];
};

/* Delayed-ack timer: send the frame if the session still exists. */
static void
ack_delayed_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct delayed	*d = arg;
	struct sess	*s;

	TAILQ_FOREACH(s, &sessions, entry)
		if (s->id == d->sess_id) {
			sess_send(s, d->frame, d->len);
			break;
		}
	free(d);
}

static void	ack_queue(struct sess *, unsigned, const char *, size_t);

/* Send an ack with extra fields, honouring the ack faults. */
void
ack_send_ex(struct sess *s, const struct cmd *c, unsigned type,
    const char *status, const char *reason, ack_extra_fn fn, void *arg)
{
	struct amps_wr	 w;
	char		 stackbuf[2048], *buf = stackbuf;
	size_t		 cap = sizeof stackbuf;
	long long	 n;

	if (faults.deny_acks & type) {
		sim_log(LOG_DEBUG, "fault: %s: %s ack denied", s->label,
		    amps_ack_name(type));
		return;
	}
	for (;;) {
		amps_wr_begin(&w, buf, cap);
		amps_wr_cstr(&w, AMPS_F_C, "ack");
		if (c != NULL && c->cid != NULL)
			amps_wr_cstr(&w, AMPS_F_CID, c->cid);
		amps_wr_cstr(&w, AMPS_F_A, amps_ack_name(type));
		amps_wr_cstr(&w, AMPS_F_STATUS, status);
		if (reason != NULL)
			amps_wr_cstr(&w, AMPS_F_REASON, reason);
		if (fn != NULL)
			fn(&w, arg);
		n = amps_wr_finish(&w, NULL, 0);
		if (n < 0 || (size_t)n <= cap || buf != stackbuf)
			break;
		cap = (size_t)n;		/* once more, on the heap */
		buf = xmalloc(cap);
	}
	if (n < 0 || (size_t)n > cap) {
		sim_log(LOG_WARN, "session: %s: ack too big", s->label);
		if (buf != stackbuf)
			free(buf);
		return;
	}
	ack_queue(s, type, buf, (size_t)n);
	if (buf != stackbuf)
		free(buf);
}

/* Queue a finished ack frame, honouring the pause and delay faults. */
static void
ack_queue(struct sess *s, unsigned type, const char *buf, size_t n)
{
	struct delayed	*d;
	struct timeval	 tv;

	if (faults.acks_paused) {
		admin_hold_ack(s->id, buf, n);
		return;
	}
	if (faults.delay_acks & type) {
		d = xmalloc(sizeof *d + n);
		d->sess_id = s->id;
		d->len = n;
		memcpy(d->frame, buf, n);
		tv.tv_sec = faults.delay_ms / 1000;
		tv.tv_usec = (faults.delay_ms % 1000) * 1000;
		event_base_once(sim_base, -1, EV_TIMEOUT, ack_delayed_cb, d,
		    &tv);
		return;
	}
	sess_send(s, buf, n);
}

/* Send a plain ack. */
void
ack_send(struct sess *s, const struct cmd *c, unsigned type,
    const char *status, const char *reason)
{
	ack_send_ex(s, c, type, status, reason, NULL, NULL);
}

/* Look an option up: 1 (value copied to val if given), 0 absent. */
int
cmd_opt(const struct cmd *c, const char *name, char *val, size_t cap)
{
	struct amps_opt	o;
	size_t		n;

	if (c->opts == NULL)
		return (0);
	if (amps_opts_find(c->opts, strlen(c->opts), name, &o) != 1)
		return (0);
	if (val != NULL && cap > 0) {
		n = o.value != NULL ? o.value_len : 0;
		if (n >= cap)
			n = cap - 1;
		if (n > 0)
			memcpy(val, o.value, n);
		val[n] = '\0';
	}
	return (1);
}

/* Fail a command forced by the fault injector on all requested acks. */
static void
cmd_fail_forced(struct sess *s, struct cmd *c)
{
	unsigned	bit;

	for (bit = AMPS_ACK_PROCESSED; bit <= AMPS_ACK_STATS; bit <<= 1)
		if (c->acks & bit)
			ack_send(s, c, bit, "failure", c->forced);
}

/* Dispatch one inbound frame. */
static void
sess_dispatch(struct sess *s, const char *body, uint32_t blen)
{
	static struct sbuf	 arena;
	struct cmd		 c;
	const char		*why = NULL;
	char			 esc[96];

	s->frames_in++;
	sim_frames_in++;
	if (cmd_decode(&c, body, blen, &arena, &why) != 0) {
		sess_kill(s, "malformed frame: %s", why);
		return;
	}
	/* Any inbound frame feeds the watchdog (§14.2, UNVERIFIED). */
	if (s->hb_interval &&
	    !(faults.ignore_beats && c.c == AMPS_CMD_HEARTBEAT))
		hb_activity(s);
	if (faults.drop_after_frames != 0 &&
	    s->frames_in >= faults.drop_after_frames) {
		faults.drop_after_frames = 0;
		sess_kill(s, "fault: drop after %llu frames",
		    (unsigned long long)s->frames_in);
		return;
	}
	if (faults.drop_on_cmd != NULL && c.cname != NULL &&
	    strcmp(faults.drop_on_cmd, c.cname) == 0) {
		free(faults.drop_on_cmd);
		faults.drop_on_cmd = NULL;
		sess_kill(s, "fault: drop on command %s", c.cname);
		return;
	}
	if (c.c == AMPS_CMD_UNKNOWN || c.cname == NULL) {
		sess_kill(s, "unknown command %s", c.cname == NULL ?
		    "(none)" : sim_escape_log(c.cname, strlen(c.cname), esc,
		    sizeof esc));
		return;
	}
	if (c.acks & AMPS_ACK_RECEIVED)
		ack_send(s, &c, AMPS_ACK_RECEIVED, "success", NULL);
	if (s->state != SESS_READY && c.c != AMPS_CMD_LOGON) {
		if (c.acks & ~AMPS_ACK_RECEIVED) {
			ack_send(s, &c, AMPS_ACK_PROCESSED, "failure",
			    "logon required");
			sess_close_flush(s, "command before logon");
		} else
			sess_kill(s, "command %s before logon", c.cname);
		return;
	}
	c.forced = faults_take_failure(c.cname);
	if (c.forced != NULL && c.c != AMPS_CMD_PUBLISH &&
	    c.c != AMPS_CMD_DELTA_PUBLISH && c.c != AMPS_CMD_SOW_DELETE) {
		sim_log(LOG_INFO, "fault: %s: forced failure of %s: %s",
		    s->label, c.cname, c.forced);
		cmd_fail_forced(s, &c);
		if (c.c == AMPS_CMD_LOGON)
			sess_close_flush(s, "forced logon failure");
		return;
	}
	switch (c.c) {
	case AMPS_CMD_LOGON:
		logon_cmd(s, &c);
		break;
	case AMPS_CMD_HEARTBEAT:
		heartbeat_cmd(s, &c);
		break;
	case AMPS_CMD_PUBLISH:
	case AMPS_CMD_DELTA_PUBLISH:
		publish_cmd(s, &c);
		break;
	case AMPS_CMD_SUBSCRIBE:
	case AMPS_CMD_DELTA_SUBSCRIBE:
		subscribe_cmd(s, &c);
		break;
	case AMPS_CMD_SOW:
		sow_cmd(s, &c);
		break;
	case AMPS_CMD_SOW_AND_SUBSCRIBE:
	case AMPS_CMD_SOW_AND_DELTA_SUBSCRIBE:
		sow_and_subscribe_cmd(s, &c);
		break;
	case AMPS_CMD_SOW_DELETE:
	case AMPS_CMD_ACK:
		sow_delete_cmd(s, &c);
		break;
	case AMPS_CMD_UNSUBSCRIBE:
		unsubscribe_cmd(s, &c);
		break;
	case AMPS_CMD_FLUSH:
		flush_cmd(s, &c);
		break;
	case AMPS_CMD_START_TIMER:
	case AMPS_CMD_STOP_TIMER:
		if (c.acks & AMPS_ACK_PROCESSED)
			ack_send(s, &c, AMPS_ACK_PROCESSED, "success", NULL);
		break;
	default:
		sess_kill(s, "unknown command %s (server-to-client only)",
		    c.cname);
		break;
	}
}

/* Exported for logon.c: close after the failure ack is written. */
void
sess_close_after_flush(struct sess *s, const char *reason)
{
	sess_close_flush(s, reason);
}

/* Find a live session by id. */
struct sess *
sess_find_id(uint64_t id)
{
	struct sess	*s;

	TAILQ_FOREACH(s, &sessions, entry)
		if (s->id == id)
			return (s);
	return (NULL);
}
