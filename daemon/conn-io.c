/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Socket side of an upstream connection: non-blocking connect (TCP with
 * the URI's transport options, or unix), the TLS handshake and record
 * I/O, the read loop feeding the amps_reader, and the output buffer.
 * conn.c owns the protocol and the state machine and calls in here.
 *
 * Invariants:
 *   (1) One persistent EV_READ event per socket; an EV_WRITE event is
 *       added only while output is pending, the connect is in progress,
 *       or TLS asked for a write.
 *   (2) A read callback handles at most CONN_READS_PER_CB reads, then
 *       yields to the loop.
 *   (3) After every frame handed to conn_frame() the generation counter
 *       is checked: if the connection was closed meanwhile, the loop
 *       stops touching the (reset) reader at once.
 *   (4) Every resolved address of a server is tried in turn before the
 *       attempt counts as failed (e.g. "localhost" as ::1, then
 *       127.0.0.1).
 *   (5) Host names are resolved with a blocking getaddrinfo(): fine for
 *       numeric and /etc/hosts names; a remote DNS stall stalls the
 *       daemon (an async resolver is future work).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "conf.h"
#include "conn-int.h"
#include "log.h"
#include "loop.h"
#include "xmalloc.h"

static void	conn_io_cb(evutil_socket_t, short, void *);

/* Arm a one-shot timer for ms milliseconds. */
void
conn_arm(struct event *ev, uint64_t ms)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	evtimer_add(ev, &tv);
}

/* Queue len bytes on the output buffer (written by conn_io_flush). */
void
conn_out_put(struct conn *c, const void *p, size_t len)
{
	struct conn_obuf	*o = &c->out;

	if (len == 0)
		return;
	if (o->off > 0 && o->off == o->len)
		o->off = o->len = 0;
	if (o->len + len > o->cap) {
		if (o->off > 0) {
			memmove(o->p, o->p + o->off, o->len - o->off);
			o->len -= o->off;
			o->off = 0;
		}
		while (o->len + len > o->cap)
			o->cap = o->cap ? o->cap * 2 : 65536;
		o->p = xreallocarray(o->p, o->cap, 1);
	}
	memcpy(o->p + o->len, p, len);
	o->len += len;
}

/* Bytes queued but not yet written. */
size_t
conn_out_pending(const struct conn *c)
{
	return (c->out.len - c->out.off);
}

/* Apply the URI's TCP options (PROTOCOL.md §1.1). */
static void
conn_io_sockopts(struct conn *c, int fd, const struct amps_uri *u)
{
	struct linger	l;
	int		v;

	if (u->tcp_nodelay) {
		v = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v);
	}
	if (u->tcp_sndbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &u->tcp_sndbuf,
		    sizeof u->tcp_sndbuf);
	if (u->tcp_rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &u->tcp_rcvbuf,
		    sizeof u->tcp_rcvbuf);
	v = u->tcp_keepalive ? 1 : 0;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v);
	if (u->set & AMPS_URI_LINGER) {
		l.l_onoff = 1;
		l.l_linger = u->tcp_linger;
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	}
}

/*
 * Start a non-blocking connect of a new socket to addr.  Returns the fd,
 * or -1 with *cause set.
 */
static int
conn_io_connect_addr(struct conn *c, const struct amps_uri *u,
    const struct sockaddr *addr, socklen_t alen, char **cause)
{
	int	fd;

	fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return (-1);
	}
	if (addr->sa_family != AF_UNIX)
		conn_io_sockopts(c, fd, u);
	if (connect(fd, addr, alen) == -1 && errno != EINPROGRESS &&
	    errno != EAGAIN) {
		xasprintf(cause, "connect: %s", strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

/*
 * Connect to the next resolved address of the current server; addresses
 * that fail at once are skipped.  Returns 0 with c->fd set (completion
 * is reported by conn_io_cb), or -1 with *cause set when none is left.
 */
static int
conn_io_next_addr(struct conn *c, char **cause)
{
	const struct amps_uri	*u = &c->uris[connha_current(&c->ha)];
	struct addrinfo		*ai;
	int			 fd;

	while ((ai = c->ai_next) != NULL) {
		c->ai_next = ai->ai_next;
		free(*cause);
		*cause = NULL;
		fd = conn_io_connect_addr(c, u, ai->ai_addr, ai->ai_addrlen,
		    cause);
		if (fd != -1) {
			c->fd = fd;
			return (0);
		}
	}
	if (*cause == NULL)
		xasprintf(cause, "no address left to try");
	return (-1);
}

/* Arm the socket's events and TLS once c->fd is connecting. */
static int
conn_io_arm(struct conn *c, char **cause)
{
	const struct amps_uri	*u = &c->uris[connha_current(&c->ha)];

	c->connected = 0;
	c->ev_io = event_new(loop_base(), c->fd, EV_READ | EV_PERSIST,
	    conn_io_cb, c);
	c->ev_wr = event_new(loop_base(), c->fd, EV_WRITE, conn_io_cb, c);
	if (c->ev_io == NULL || c->ev_wr == NULL)
		fatalx("connection %s: event_new failed", c->name);
	if (u->transport == AMPS_TRANSPORT_TCPS) {
		c->ssl = conn_tls_new(c->ctx, c->fd, u->host,
		    c->cc->tls.server_name, cause);
		if (c->ssl == NULL)
			return (-1);
	}
	event_add(c->ev_io, NULL);
	event_add(c->ev_wr, NULL);
	return (0);
}

/* Drop the socket of a failed attempt but keep the address list. */
static void
conn_io_drop_socket(struct conn *c)
{
	if (c->ssl != NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->ev_io != NULL) {
		event_free(c->ev_io);
		c->ev_io = NULL;
	}
	if (c->ev_wr != NULL) {
		event_free(c->ev_wr);
		c->ev_wr = NULL;
	}
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
}

/*
 * Open a non-blocking socket to the current server and start connecting
 * (TCP: every resolved address in turn; unix: the path).  Returns 0
 * (conn_connected() is called when the connect completes, possibly later
 * from the event loop) or -1 with *cause set.
 */
int
conn_io_open(struct conn *c, char **cause)
{
	const struct amps_uri	*u = &c->uris[connha_current(&c->ha)];
	struct sockaddr_un	 sun;
	struct addrinfo		 hints;
	char			 port[8];
	int			 gai;

	amps_reader_free(&c->rd);
	amps_reader_init(&c->rd, AMPS_FRAME_MAX_DEFAULT);
	*cause = NULL;
	if (u->transport == AMPS_TRANSPORT_UNIX) {
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		if (u->path == NULL ||
		    strlen(u->path) >= sizeof sun.sun_path) {
			xasprintf(cause, "unix socket path missing or too "
			    "long");
			return (-1);
		}
		memcpy(sun.sun_path, u->path, strlen(u->path));
		c->fd = conn_io_connect_addr(c, u, (struct sockaddr *)&sun,
		    sizeof sun, cause);
		if (c->fd == -1)
			return (-1);
	} else {
		memset(&hints, 0, sizeof hints);
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		snprintf(port, sizeof port, "%u", (unsigned)u->port);
		if (c->ai_list != NULL)
			freeaddrinfo(c->ai_list);
		c->ai_list = c->ai_next = NULL;
		if ((gai = getaddrinfo(u->host, port, &hints,
		    &c->ai_list)) != 0) {
			xasprintf(cause, "resolve %s: %s", u->host,
			    gai_strerror(gai));
			c->ai_list = NULL;
			return (-1);
		}
		c->ai_next = c->ai_list;
		if (conn_io_next_addr(c, cause) == -1)
			return (-1);
	}
	if (conn_io_arm(c, cause) == -1) {
		conn_io_close(c);
		return (-1);
	}
	if (u->transport == AMPS_TRANSPORT_TCPS && !c->cc->tls.verify)
		log_warnx("connection %s: TLS certificate verification is off "
		    "(\"verify no\") for %s", c->name,
		    c->redacted[connha_current(&c->ha)]);
	return (0);
}

/*
 * The asynchronous connect failed with err: try the next address of the
 * server if there is one (returns 0), else -1.
 */
static int
conn_io_retry_addr(struct conn *c, int err)
{
	char	*cause = NULL;

	if (c->ai_next == NULL)
		return (-1);
	log_debug("connection %s: connect: %s; trying the next address",
	    c->name, strerror(err));
	conn_io_drop_socket(c);
	if (conn_io_next_addr(c, &cause) == -1 ||
	    conn_io_arm(c, &cause) == -1) {
		conn_fail(c, "%s", cause);
		free(cause);
		return (0);
	}
	return (0);
}

/* Close the socket and stop the I/O timers; the state is the caller's. */
void
conn_io_close(struct conn *c)
{
	c->gen++;
	conn_io_drop_socket(c);
	if (c->ai_list != NULL) {
		freeaddrinfo(c->ai_list);
		c->ai_list = c->ai_next = NULL;
	}
	c->tls_done = 0;
	c->connected = 0;
	c->out.off = c->out.len = 0;
	evtimer_del(c->ev_timer);
	evtimer_del(c->ev_idle);
	event_del(c->ev_beat);
}

/*
 * Drive the TLS handshake.  Returns 1 when done, 0 when it needs more
 * I/O (events armed), -1 when it failed (connection failed).
 */
static int
conn_io_handshake(struct conn *c)
{
	long	vr;
	int	rv, err;

	if (c->ssl == NULL || c->tls_done)
		return (1);
	ERR_clear_error();
	if ((rv = SSL_do_handshake(c->ssl)) == 1) {
		c->tls_done = 1;
		log_debug("connection %s: TLS %s established", c->name,
		    SSL_get_version(c->ssl));
		return (1);
	}
	err = SSL_get_error(c->ssl, rv);
	if (err == SSL_ERROR_WANT_READ)
		return (0);
	if (err == SSL_ERROR_WANT_WRITE) {
		event_add(c->ev_wr, NULL);
		return (0);
	}
	vr = SSL_get_verify_result(c->ssl);
	if (vr != X509_V_OK)
		conn_fail(c, "TLS handshake: certificate: %s",
		    X509_verify_cert_error_string(vr));
	else
		conn_fail(c, "TLS handshake: %s", conn_tls_error());
	return (-1);
}

/* Write as much pending output as the socket takes. */
void
conn_io_flush(struct conn *c)
{
	struct conn_obuf	*o = &c->out;
	ssize_t			 n;
	int			 err;

	if (c->fd == -1 || !c->connected || (c->ssl && !c->tls_done))
		return;
	while (o->off < o->len) {
		if (c->ssl != NULL) {
			ERR_clear_error();
			n = SSL_write(c->ssl, o->p + o->off,
			    (int)(o->len - o->off > INT32_MAX ? INT32_MAX :
			    o->len - o->off));
			if (n <= 0) {
				err = SSL_get_error(c->ssl, (int)n);
				if (err == SSL_ERROR_WANT_WRITE ||
				    err == SSL_ERROR_WANT_READ)
					break;
				conn_fail(c, "TLS write: %s", conn_tls_error());
				return;
			}
		} else {
			n = write(c->fd, o->p + o->off, o->len - o->off);
			if (n == -1) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				conn_fail(c, "write: %s", strerror(errno));
				return;
			}
		}
		o->off += (size_t)n;
	}
	if (o->off == o->len)
		o->off = o->len = 0;
	else
		event_add(c->ev_wr, NULL);
}

/* Read what is there and hand whole frames to conn_frame(). */
static void
conn_io_read(struct conn *c)
{
	const char	*body;
	uint32_t	 blen;
	unsigned	 gen = c->gen;
	char		*p;
	size_t		 n;
	ssize_t		 r;
	int		 i, rc, err;

	for (i = 0; i < CONN_READS_PER_CB; i++) {
		if (amps_reader_space(&c->rd, CONN_READ_CHUNK, &p, &n) == -1) {
			conn_fail(c, "out of memory for the read buffer");
			return;
		}
		if (c->ssl != NULL) {
			ERR_clear_error();
			r = SSL_read(c->ssl, p, (int)(n > INT32_MAX ?
			    INT32_MAX : n));
			if (r <= 0) {
				err = SSL_get_error(c->ssl, (int)r);
				if (err == SSL_ERROR_WANT_READ)
					return;
				if (err == SSL_ERROR_WANT_WRITE) {
					event_add(c->ev_wr, NULL);
					return;
				}
				if (err == SSL_ERROR_ZERO_RETURN)
					conn_fail(c, "server closed the "
					    "connection");
				else
					conn_fail(c, "TLS read: %s",
					    conn_tls_error());
				return;
			}
		} else {
			r = read(c->fd, p, n);
			if (r == -1) {
				if (errno == EAGAIN || errno == EINTR)
					return;
				conn_fail(c, "read: %s", strerror(errno));
				return;
			}
			if (r == 0) {
				conn_fail(c, "server closed the connection");
				return;
			}
		}
		amps_reader_commit(&c->rd, (size_t)r);
		c->last_rx = loop_now_ms();
		while ((rc = amps_reader_next(&c->rd, &body, &blen)) == 1) {
			if (conn_frame(c, body, blen) == -1 || c->gen != gen)
				return;
		}
		if (rc < 0) {
			c->why = ERRMAP_CONN_PROTOCOL;
			conn_fail(c, "bad frame from server: %s",
			    amps_strerror(rc));
			return;
		}
		if ((size_t)r < n && (c->ssl == NULL ||
		    SSL_pending(c->ssl) == 0))
			return;
	}
}

/* Socket event: finish connect, drive TLS, flush output, read input. */
static void
conn_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	unsigned	 gen = c->gen;
	socklen_t	 len;
	int		 soerr;

	if (!c->connected) {
		len = sizeof soerr;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
			soerr = errno;
		if (soerr != 0) {
			if (conn_io_retry_addr(c, soerr) == -1)
				conn_fail(c, "connect: %s", strerror(soerr));
			return;
		}
		if (!(what & EV_WRITE))
			return;
		c->connected = 1;
		conn_connected(c);
		if (c->gen != gen)
			return;
	}
	if (conn_io_handshake(c) != 1)
		return;
	conn_io_flush(c);
	if (c->gen != gen)
		return;
	if (what & EV_READ || (c->ssl != NULL && SSL_pending(c->ssl) > 0))
		conn_io_read(c);
	if (c->gen == gen && conn_out_pending(c) < CONN_OUT_HIGH / 2)
		conn_pump(c);
}
