/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsipc-conn.c: a libampsipc handle's connection to ampsd: create,
 * connect and handshake, the non-blocking read/write/dispatch steps, the
 * blocking wait loop the helpers share, ping, status, errors and close.
 * Publishing is in ampsipc-pub.c.
 *
 * Invariants:
 *  1. The library never exits, prints, or keeps global state; every
 *     failure is returned as -1 with errno, plus the handle's code and
 *     message (ipclib_fail is the only place that sets them).
 *  2. Frames from the daemon are length-checked and fully decoded with
 *     ipcwire_decode() before anything acts on them; a bad frame makes
 *     the handle BROKEN (AMPSIPC_E_PROTOCOL) and never crashes.
 *  3. The read buffer is consumed through h->inoff only, so a handler
 *     that publishes (and so may read more) cannot invalidate the frame
 *     being dispatched; frames are compacted only outside dispatch.
 *  4. Blocking helpers are refused inside handlers (EDEADLK).
 *  5. Time for timeouts comes from CLOCK_MONOTONIC.
 *  6. While a stream is at its max depth (h->nfull > 0) nothing is read
 *     from the socket and no frame is dispatched; waits do not poll for
 *     input then.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ampsipc-int.h"

#ifndef AMPSD_SOCK
#define AMPSD_SOCK	"/run/ampsd/ampsd.sock"
#endif

static int	ipclib_frame(struct ampsipc *, const struct ipcwire_msg *);

/* errno that goes with an error code. */
static int
ipclib_errno(int code)
{
	switch (code) {
	case AMPSIPC_E_PROTOCOL:
	case AMPSIPC_E_STREAM:
		return (EPROTO);
	case AMPSIPC_E_VERSION:
		return (EPROTONOSUPPORT);
	case AMPSIPC_E_NOT_PERMITTED:
	case AMPSIPC_E_AUTHENTICATION:
	case AMPSIPC_E_NOT_ENTITLED:
		return (EACCES);
	case AMPSIPC_E_TIMED_OUT:
		return (ETIMEDOUT);
	case AMPSIPC_E_DISCONNECTED:
		return (ENOTCONN);
	case AMPSIPC_E_CLOSED:
		return (ECONNRESET);
	case AMPSIPC_E_TOO_BIG:
		return (EMSGSIZE);
	case AMPSIPC_E_DISK_FULL:
		return (ENOSPC);
	case AMPSIPC_E_NOT_SUPPORTED:
		return (ENOTSUP);
	case AMPSIPC_E_LIMIT:
	case AMPSIPC_E_NO_RESOURCES:
		return (EAGAIN);
	case AMPSIPC_E_USAGE:
		return (EINVAL);
	default:
		return (EIO);
	}
}

/*
 * Record an error on the handle and set errno: to err if not 0, else to
 * the errno that goes with code.  Always returns -1.
 */
int
ipclib_fail(struct ampsipc *h, int code, int err, const char *fmt, ...)
{
	va_list	ap;

	h->err = code;
	va_start(ap, fmt);
	vsnprintf(h->errmsg, sizeof h->errmsg, fmt, ap);
	va_end(ap);
	errno = err != 0 ? err : ipclib_errno(code);
	return (-1);
}

/*
 * Mark the handle unusable after a fatal error; returns -1.  With
 * reconnects on (ampsipc_set_reconnect) a handle that had a session is
 * LOST instead, and connects again at once when no handler runs:
 * returns 0 if that worked.
 */
static int
ipclib_break(struct ampsipc *h)
{
	int	saved_errno = errno;

	h->flags |= AMPSIPC_BROKEN;
	if (h->reconnect_ms > 0 && (h->flags & AMPSIPC_WELCOMED) &&
	    !(h->flags & AMPSIPC_RECONNECTING))
		h->flags |= AMPSIPC_LOST;
	if ((h->flags & AMPSIPC_LOST) && !(h->flags & AMPSIPC_DISPATCHING) &&
	    ipclib_reconnect(h) == 0)
		return (0);
	errno = saved_errno;
	return (-1);
}

/* Milliseconds on the monotonic clock. */
int64_t
ipclib_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Next request id; never 0. */
uint32_t
ipclib_reqid(struct ampsipc *h)
{
	if (++h->next_reqid == 0)
		h->next_reqid = 1;
	return (h->next_reqid);
}

/* Create an unconnected handle. */
struct ampsipc *
ampsipc_create(void)
{
	struct ampsipc	*h;

	if ((h = calloc(1, sizeof *h)) == NULL)
		return (NULL);
	h->fd = -1;
	h->max_frame = AMPSIPC_MAX_FRAME;
	h->eager_at = AMPSIPC_OUT_EAGER;
	return (h);
}

/*
 * Encode one frame with fill (given reqid) onto the output queue.
 * Returns 0, or -1 (EMSGSIZE above the daemon's frame limit, ENOMEM).
 */
int
ipclib_queue(struct ampsipc *h, uint32_t reqid, ipclib_fill fill,
    const void *arg)
{
	struct ipcwire_enc	 e;
	size_t			 len, want;
	uint8_t			*p;

	fill(&e, NULL, 0, reqid, arg);
	if (ipcwire_end(&e, &len) == -1 || len > h->max_frame)
		return (ipclib_fail(h, AMPSIPC_E_TOO_BIG, 0,
		    "message too large for ampsd (limit %lu bytes)",
		    (unsigned long)h->max_frame));
	if (h->outoff != 0 && h->outoff == h->outlen)
		h->outoff = h->outlen = 0;
	if (h->outcap - h->outlen < len) {
		if (h->outoff != 0) {
			memmove(h->out, h->out + h->outoff,
			    h->outlen - h->outoff);
			h->outlen -= h->outoff;
			h->outoff = 0;
		}
		want = h->outcap == 0 ? AMPSIPC_OUT_INITIAL : h->outcap;
		while (want - h->outlen < len)
			want *= 2;
		if (want != h->outcap) {
			if ((p = realloc(h->out, want)) == NULL)
				return (ipclib_fail(h, AMPSIPC_E_SYSTEM, ENOMEM,
				    "out of memory"));
			h->out = p;
			h->outcap = want;
		}
	}
	fill(&e, h->out + h->outlen, len, reqid, arg);	/* for real */
	if (ipcwire_end(&e, &len) == -1)
		return (ipclib_fail(h, AMPSIPC_E_USAGE, 0, "encoding failed"));
	h->outlen += len;
	return (0);
}

/* Queue len bytes of an encoded frame as they are; 0 or -1 (ENOMEM). */
int
ipclib_queue_raw(struct ampsipc *h, const void *p, size_t len)
{
	uint8_t	*n;
	size_t	 want;

	if (h->outcap - h->outlen < len) {
		want = h->outcap == 0 ? AMPSIPC_OUT_INITIAL : h->outcap;
		while (want - h->outlen < len)
			want *= 2;
		if ((n = realloc(h->out, want)) == NULL)
			return (ipclib_fail(h, AMPSIPC_E_SYSTEM, ENOMEM,
			    "out of memory"));
		h->out = n;
		h->outcap = want;
	}
	memcpy(h->out + h->outlen, p, len);
	h->outlen += len;
	return (0);
}

/* Fill: HELLO with our version, pid and name. */
static void
ipclib_fill_hello(struct ipcwire_enc *e, void *buf, size_t cap,
    uint32_t reqid, const void *arg)
{
	ipcwire_begin(e, buf, cap, AMPSIPC_HELLO, 0, reqid);
	ipcwire_put_raw32(e, AMPSIPC_PROTO_VERSION);
	ipcwire_put_raw32(e, (uint32_t)getpid());
	ipcwire_put_str(e, AMPSIPC_T_CLIENT_NAME, arg);
	ipcwire_put_str(e, AMPSIPC_T_LIB_VERSION, PACKAGE_VERSION);
}

/* Wait condition: the awaited reply arrived. */
static int
ipclib_replied(struct ampsipc *h, void *arg)
{
	return (h->wait.done);
}

/*
 * Send a request built by fill and wait up to timeout_ms for its reply
 * (h->wait holds it).  Returns 0 when a reply came (it may be an ERROR:
 * see h->wait.code), -1 on timeout or a broken connection.
 */
int
ipclib_request(struct ampsipc *h, int timeout_ms, ipclib_fill fill,
    const void *arg)
{
	uint32_t	reqid = ipclib_reqid(h);

	free(h->wait.text);
	memset(&h->wait, 0, sizeof h->wait);
	if (ipclib_queue(h, reqid, fill, arg) == -1)
		return (-1);
	h->wait.reqid = reqid;
	if (ipclib_wait_until(h, timeout_ms, ipclib_replied, NULL) == -1) {
		h->wait.reqid = 0;
		return (-1);
	}
	h->wait.reqid = 0;
	return (0);
}

/*
 * Open the socket at h->path and do the version handshake within
 * timeout_ms.  Returns 0, or -1 with the handle's error set and no
 * descriptor open.
 */
int
ipclib_handshake(struct ampsipc *h, int timeout_ms)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(h->path) >= sizeof sun.sun_path)
		return (ipclib_fail(h, AMPSIPC_E_USAGE, ENAMETOOLONG,
		    "%s: socket path too long", h->path));
	memcpy(sun.sun_path, h->path, strlen(h->path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (ipclib_fail(h, AMPSIPC_E_SYSTEM, errno, "socket: %s",
		    strerror(errno)));
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		ipclib_fail(h, AMPSIPC_E_SYSTEM, errno,
		    "cannot connect to ampsd at %s: %s", h->path,
		    strerror(errno));
		close(fd);
		return (-1);
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) {
		ipclib_fail(h, AMPSIPC_E_SYSTEM, errno, "fcntl: %s",
		    strerror(errno));
		close(fd);
		return (-1);
	}
	h->fd = fd;
	if (ipclib_request(h, timeout_ms, ipclib_fill_hello, h->name) == -1)
		goto fail;
	if (h->wait.type != AMPSIPC_WELCOME) {
		if (h->err == AMPSIPC_E_OK)
			ipclib_fail(h, AMPSIPC_E_PROTOCOL, 0,
			    "unexpected reply to HELLO");
		goto fail;
	}
	return (0);

fail:
	close(h->fd);
	h->fd = -1;
	h->inoff = h->inlen = h->outoff = h->outlen = 0;
	errno = ipclib_errno(h->err);
	return (-1);
}

/* Connect and handshake. */
int
ampsipc_connect(struct ampsipc *h, const char *path, const char *name,
    int timeout_ms)
{
	char	*p, *n = NULL;

	if (h->fd != -1)
		return (ipclib_fail(h, AMPSIPC_E_USAGE, EISCONN,
		    "already connected"));
	h->flags &= AMPSIPC_NONBLOCK;
	h->err = AMPSIPC_E_OK;
	h->errmsg[0] = '\0';
	if (path == NULL && (path = getenv("AMPSD_SOCKET")) == NULL)
		path = AMPSD_SOCK;
	if ((p = strdup(path)) == NULL ||
	    (name != NULL && (n = strdup(name)) == NULL)) {
		free(p);
		return (ipclib_fail(h, AMPSIPC_E_SYSTEM, ENOMEM,
		    "out of memory"));
	}
	free(h->path);
	free(h->name);
	h->path = p;
	h->name = n;
	return (ipclib_handshake(h, timeout_ms));
}

/* The descriptor, or -1. */
int
ampsipc_fd(const struct ampsipc *h)
{
	return (h->fd);
}

/* Bytes waiting to be written. */
size_t
ampsipc_outq(const struct ampsipc *h)
{
	return (h->outlen - h->outoff);
}

/* Choose blocking or EAGAIN for a full output queue. */
int
ampsipc_set_nonblock(struct ampsipc *h, int on)
{
	int	old = (h->flags & AMPSIPC_NONBLOCK) != 0;

	if (on)
		h->flags |= AMPSIPC_NONBLOCK;
	else
		h->flags &= ~AMPSIPC_NONBLOCK;
	return (old);
}

/* Check the handle can talk to the daemon. */
static int
ipclib_usable(struct ampsipc *h)
{
	if (h->fd == -1)
		return (ipclib_fail(h, AMPSIPC_E_USAGE, ENOTCONN,
		    "not connected"));
	if (h->flags & AMPSIPC_BROKEN) {
		if ((h->flags & AMPSIPC_LOST) &&
		    !(h->flags & AMPSIPC_DISPATCHING) &&
		    ipclib_reconnect(h) == 0)
			return (0);
		errno = ipclib_errno(h->err);
		return (-1);
	}
	return (0);
}

/* Write queued output without blocking. */
int
ampsipc_write(struct ampsipc *h)
{
	ssize_t	n;
	int	saved;

	if (ipclib_usable(h) == -1)
		return (-1);
	while (h->outoff < h->outlen) {
		n = send(h->fd, h->out + h->outoff, h->outlen - h->outoff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return (1);
			if ((errno == EPIPE || errno == ECONNRESET) &&
			    !(h->flags & AMPSIPC_WELCOMED)) {
				/*
				 * The daemon refused us and closed before
				 * our HELLO went out: its fatal ERROR is
				 * still queued here and says why, better
				 * than the broken pipe.  (Before WELCOME no
				 * handler can run in the dispatch.)
				 */
				saved = errno;
				if (ampsipc_read(h) > 0 &&
				    ampsipc_dispatch(h) == -1)
					return (-1);
				errno = saved;
			}
			ipclib_fail(h, AMPSIPC_E_CLOSED, errno,
			    "connection to ampsd lost: %s", strerror(errno));
			return (ipclib_break(h));
		}
		h->outoff += (size_t)n;
	}
	h->outoff = h->outlen = 0;
	h->eager_at = AMPSIPC_OUT_EAGER;
	return (0);
}

/* Read what the socket has without blocking. */
int
ampsipc_read(struct ampsipc *h)
{
	ssize_t	 n;
	size_t	 want;
	uint8_t	*p;

	if (ipclib_usable(h) == -1)
		return (-1);
	if (h->nfull > 0)	/* a stream at its max depth holds input */
		return (0);
	if (!(h->flags & AMPSIPC_DISPATCHING) && h->inoff != 0) {
		memmove(h->in, h->in + h->inoff, h->inlen - h->inoff);
		h->inlen -= h->inoff;
		h->inoff = 0;
	}
	if (h->incap - h->inlen < 4096) {
		want = h->incap == 0 ? AMPSIPC_IN_INITIAL : h->incap * 2;
		if ((p = realloc(h->in, want)) == NULL)
			return (ipclib_fail(h, AMPSIPC_E_SYSTEM, ENOMEM,
			    "out of memory"));
		h->in = p;
		h->incap = want;
	}
	for (;;) {
		n = recv(h->fd, h->in + h->inlen, h->incap - h->inlen,
		    MSG_DONTWAIT);
		if (n > 0)
			break;
		if (n == 0) {
			ipclib_fail(h, AMPSIPC_E_CLOSED, 0,
			    "ampsd closed the connection");
			return (ipclib_break(h));
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return (0);
		ipclib_fail(h, AMPSIPC_E_CLOSED, errno,
		    "connection to ampsd lost: %s", strerror(errno));
		return (ipclib_break(h));
	}
	h->inlen += (size_t)n;
	return ((int)n);
}

/* Handle complete frames read so far. */
int
ampsipc_dispatch(struct ampsipc *h)
{
	struct ipcwire_msg	 m;
	const char		*why;
	uint32_t		 len;
	int			 rc, n = 0, nested;

	if (ipclib_usable(h) == -1)
		return (-1);
	nested = (h->flags & AMPSIPC_DISPATCHING) != 0;
	if (nested)
		return (0);
	h->flags |= AMPSIPC_DISPATCHING;
	for (;;) {
		if (h->nfull > 0) {	/* the rest waits for room */
			rc = 0;
			break;
		}
		rc = ipcwire_frame_len(h->in + h->inoff, h->inlen - h->inoff,
		    AMPSIPC_MAX_FRAME, &len);
		if (rc == -1) {
			ipclib_fail(h, AMPSIPC_E_PROTOCOL, 0,
			    "bad frame length from ampsd");
			goto broken;
		}
		if (rc == 0 || h->inlen - h->inoff < len)
			break;
		if (ipcwire_decode(h->in + h->inoff, len, IPCWIRE_FROM_DAEMON,
		    &m, &why) == -1) {
			ipclib_fail(h, AMPSIPC_E_PROTOCOL, 0,
			    "bad frame from ampsd: %s", why);
			goto broken;
		}
		h->inoff += len;
		n++;
		if (ipclib_frame(h, &m) == -1)
			goto broken;
	}
	/* A partial frame longer than the buffer: make room for it. */
	if (rc == 1 && len > h->incap - h->inoff) {
		uint8_t	*p;

		memmove(h->in, h->in + h->inoff, h->inlen - h->inoff);
		h->inlen -= h->inoff;
		h->inoff = 0;
		if (len > h->incap) {
			if ((p = realloc(h->in, len)) == NULL) {
				ipclib_fail(h, AMPSIPC_E_SYSTEM, ENOMEM,
				    "out of memory");
				goto broken;
			}
			h->in = p;
			h->incap = len;
		}
	}
	h->flags &= ~AMPSIPC_DISPATCHING;
	ipclib_sub_sweep(h);
	return (n);

broken:
	h->flags &= ~AMPSIPC_DISPATCHING;
	return (ipclib_break(h));
}

/* Note a reply to the awaited request. */
static void
ipclib_reply(struct ampsipc *h, const struct ipcwire_msg *m, int code)
{
	const void	*data;
	size_t		 len;

	if (h->wait.reqid == 0 || m->hdr.reqid != h->wait.reqid)
		return;
	h->wait.done = 1;
	h->wait.type = m->hdr.type;
	h->wait.code = code;
	if (m->hdr.type == AMPSIPC_STATUS_REPLY ||
	    m->hdr.type == AMPSIPC_ADMIN_REPLY) {
		h->wait.status = (uint32_t)ipcwire_num(m, AMPSIPC_T_STATUS, 0);
		data = ipcwire_bytes(m, AMPSIPC_T_DATA, &len);
		if ((h->wait.text = malloc(len + 1)) != NULL) {
			memcpy(h->wait.text, data, len);
			h->wait.text[len] = '\0';
		}
	}
}

/* Copy a string field into a fixed buffer, "" if absent. */
static void
ipclib_copy(char *dst, size_t size, const struct ipcwire_msg *m,
    unsigned int tag)
{
	const char	*s = ipcwire_str(m, tag);

	snprintf(dst, size, "%s", s != NULL ? s : "");
}

/* CONN_STATE: tell the connection handlers. */
static void
ipclib_conn_state(struct ampsipc *h, const struct ipcwire_msg *m,
    const char *reason)
{
	struct ampsipc_conn_event	ev;
	const char			*server;

	server = ipcwire_str(m, AMPSIPC_T_SERVER);
	memset(&ev, 0, sizeof ev);
	ev.conn = ipcwire_str(m, AMPSIPC_T_CONN);
	ev.conn_id = (uint32_t)ipcwire_num(m, AMPSIPC_T_CONN_ID, 0);
	ev.state = (int)ipcwire_num(m, AMPSIPC_T_STATE, 0);
	ev.server = server != NULL ? server : "";
	ev.error = (int)ipcwire_num(m, AMPSIPC_T_ERRCODE, 0);
	ev.reason = reason;
	if (h->conn_cb != NULL)
		h->conn_cb(h, ev.conn, ev.conn_id, ev.state, ev.server,
		    h->conn_arg);
	if (h->connev_cb != NULL)
		h->connev_cb(h, &ev, h->connev_arg);
}

/* Act on one decoded frame from the daemon. */
static int
ipclib_frame(struct ampsipc *h, const struct ipcwire_msg *m)
{
	const char	*reason = ipcwire_str(m, AMPSIPC_T_REASON);
	int		 code;

	if (reason == NULL)
		reason = "";
	if (!(h->flags & AMPSIPC_WELCOMED) && m->hdr.type != AMPSIPC_WELCOME &&
	    m->hdr.type != AMPSIPC_VERSION_BAD && m->hdr.type != AMPSIPC_ERROR)
		return (ipclib_fail(h, AMPSIPC_E_PROTOCOL, 0,
		    "ampsd sent %s before WELCOME",
		    ipcwire_type_name(m->hdr.type)));
	switch (m->hdr.type) {
	case AMPSIPC_WELCOME:
		if (h->flags & AMPSIPC_WELCOMED)
			return (ipclib_fail(h, AMPSIPC_E_PROTOCOL, 0,
			    "second WELCOME"));
		h->flags |= AMPSIPC_WELCOMED;
		h->max_frame = (uint32_t)ipcwire_num(m, AMPSIPC_T_MAX_FRAME,
		    AMPSIPC_MAX_FRAME);
		if (h->max_frame < AMPSIPC_HDR_LEN ||
		    h->max_frame > AMPSIPC_MAX_FRAME)
			h->max_frame = AMPSIPC_MAX_FRAME;
		ipclib_copy(h->daemon_version, sizeof h->daemon_version, m,
		    AMPSIPC_T_DAEMON_VERSION);
		ipclib_copy(h->default_conn, sizeof h->default_conn, m,
		    AMPSIPC_T_CONN);
		ipclib_reply(h, m, 0);
		return (0);
	case AMPSIPC_VERSION_BAD:
		return (ipclib_fail(h, AMPSIPC_E_VERSION, 0,
		    "IPC protocol version mismatch: client protocol %d, "
		    "server %lu", AMPSIPC_PROTO_VERSION,
		    (unsigned long)m->version));
	case AMPSIPC_ERROR:
		code = (int)ipcwire_num(m, AMPSIPC_T_ERRCODE, AMPSIPC_E_UNKNOWN);
		if (code == AMPSIPC_E_OK)
			code = AMPSIPC_E_UNKNOWN;
		if (m->hdr.flags & AMPSIPC_F_FATAL)
			return (ipclib_fail(h, code, 0, "ampsd: %s",
			    *reason != '\0' ? reason : ampsipc_strerror(code)));
		ipclib_fail(h, code, 0, "ampsd: %s",
		    *reason != '\0' ? reason : ampsipc_strerror(code));
		if (m->hdr.reqid == 0)
			return (0);
		if (m->hdr.reqid == h->wait.reqid)
			ipclib_reply(h, m, code);
		else if (code == AMPSIPC_E_SHUTTING_DOWN &&
		    h->reconnect_ms > 0 && ipclib_kept_across(h, m->hdr.reqid))
			;	/* sent again after the restart */
		else if (ipclib_pub_adopted(h, m) == 1 ||
		    ipclib_cmd_flush_done(h, m->hdr.reqid, code, reason) == 1 ||
		    ipclib_pub_failed(h, m->hdr.reqid, 0, 0, code,
		    reason) == 1)
			;
		else
			(void)ipclib_sub_error(h, m->hdr.reqid, code, reason);
		return (0);
	case AMPSIPC_FLUSHED:
		if (m->hdr.reqid != h->wait.reqid &&
		    (ipclib_pub_adopted(h, m) == 1 ||
		    ipclib_cmd_flush_done(h, m->hdr.reqid, 0, NULL) == 1))
			return (0);
		ipclib_reply(h, m, 0);
		return (0);
	case AMPSIPC_PONG:
	case AMPSIPC_OK:
	case AMPSIPC_STATUS_REPLY:
	case AMPSIPC_ADMIN_REPLY:
		ipclib_reply(h, m, 0);
		return (0);
	case AMPSIPC_STORED:
		ipclib_pub_stored(h, m);
		return (0);
	case AMPSIPC_PERSISTED:
		ipclib_pub_persisted(h, m);
		return (0);
	case AMPSIPC_PUBLISH_FAILED:
		code = (int)ipcwire_num(m, AMPSIPC_T_ERRCODE, AMPSIPC_E_UNKNOWN);
		/*
		 * reqid 0: a refusal of a publish stored before the daemon
		 * restarted (docs/IPC.md §11), told to every program that
		 * adopted that sequence: ours only if we stored it.
		 */
		if (m->hdr.reqid == 0) {
			(void)ipclib_pub_failed_adopted(h, m, code, reason);
			return (0);
		}
		if (h->failed_cb != NULL) {
			struct ampsipc_pubevent	ev;

			memset(&ev, 0, sizeof ev);
			ev.kind = AMPSIPC_PUB_FAILED;
			ev.reqid = m->hdr.reqid;
			ev.conn_id = (uint32_t)ipcwire_num(m, AMPSIPC_T_CONN_ID,
			    0);
			ev.seq = ipcwire_num(m, AMPSIPC_T_SEQ, 0);
			ev.error = code;
			ev.reason = reason;
			h->failed_cb(h, &ev, h->failed_arg);
		}
		(void)ipclib_pub_failed(h, m->hdr.reqid,
		    (uint32_t)ipcwire_num(m, AMPSIPC_T_CONN_ID, 0),
		    ipcwire_num(m, AMPSIPC_T_SEQ, 0), code, reason);
		return (0);
	case AMPSIPC_CONN_STATE:
		ipclib_conn_state(h, m, reason);
		return (0);
	case AMPSIPC_ACK:
	case AMPSIPC_MESSAGE:
	case AMPSIPC_STREAM_END:
		return (ipclib_sub_frame(h, m));
	default:
		return (0);
	}
}

static void	ipclib_pollfd(struct ampsipc *, struct pollfd *);

/*
 * Run write/read/dispatch until done(h, arg) is true or timeout_ms
 * passes.  Returns 0 when done, -1 on timeout (ETIMEDOUT) or error.
 */
int
ipclib_wait_until(struct ampsipc *h, int timeout_ms,
    int (*done)(struct ampsipc *, void *), void *arg)
{
	struct pollfd	pfd;
	int64_t		deadline = ipclib_now() + timeout_ms;
	int		left, rc;

	if (h->flags & AMPSIPC_DISPATCHING)
		return (ipclib_fail(h, AMPSIPC_E_USAGE, EDEADLK,
		    "blocking call inside a handler"));
	for (;;) {
		if (ipclib_usable(h) == -1)
			return (-1);
		if (ampsipc_write(h) == -1)
			return (-1);
		if (ampsipc_dispatch(h) == -1)
			return (-1);
		if (done(h, arg))
			return (0);
		if (h->check_cb != NULL && h->check_cb(h, h->check_arg) != 0)
			return (ipclib_fail(h, AMPSIPC_E_SYSTEM, EINTR,
			    "interrupted"));
		left = -1;
		if (timeout_ms >= 0) {
			int64_t	rem = deadline - ipclib_now();

			if (rem <= 0)
				return (ipclib_fail(h, AMPSIPC_E_TIMED_OUT, 0,
				    "timed out waiting for ampsd"));
			left = rem > 60000 ? 60000 : (int)rem;
		}
		if (h->check_cb != NULL && (left < 0 || left > AMPSIPC_CHECK_MS))
			left = AMPSIPC_CHECK_MS;
		ipclib_pollfd(h, &pfd);
		rc = poll(&pfd, 1, left);
		if (rc == -1 && errno != EINTR)
			return (ipclib_fail(h, AMPSIPC_E_SYSTEM, errno,
			    "poll: %s", strerror(errno)));
		if (rc > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)) &&
		    ampsipc_read(h) == -1)
			return (-1);
	}
}

/*
 * What to poll for: input unless a full stream holds it (then not even
 * the descriptor, whose hang-up would wake the poll at once: it is
 * noticed once reading resumes), output while some is queued.
 */
static void
ipclib_pollfd(struct ampsipc *h, struct pollfd *pfd)
{
	pfd->fd = h->fd;
	pfd->events = (h->nfull > 0 ? 0 : POLLIN) |
	    (ampsipc_outq(h) != 0 ? POLLOUT : 0);
	pfd->revents = 0;
	if (pfd->events == 0)
		pfd->fd = -1;
}

/* Whether a stream at its max depth holds reading. */
int
ampsipc_held(const struct ampsipc *h)
{
	return (h->nfull > 0);
}

/* Install the check run between the slices of blocking waits. */
void
ampsipc_set_wait_check(struct ampsipc *h, ampsipc_wait_check fn, void *arg)
{
	h->check_cb = fn;
	h->check_arg = arg;
}

/* One turn of a simple loop: wait, write, read, dispatch. */
int
ampsipc_poll(struct ampsipc *h, int timeout_ms)
{
	struct pollfd	pfd;
	int		rc;

	if (ipclib_usable(h) == -1 || ampsipc_write(h) == -1)
		return (-1);
	if ((rc = ampsipc_dispatch(h)) != 0)
		return (rc);
	ipclib_pollfd(h, &pfd);
	rc = poll(&pfd, 1, timeout_ms);
	if (rc == -1 && errno != EINTR)
		return (ipclib_fail(h, AMPSIPC_E_SYSTEM, errno, "poll: %s",
		    strerror(errno)));
	if (rc <= 0)
		return (0);
	if ((pfd.revents & POLLOUT) && ampsipc_write(h) == -1)
		return (-1);
	if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) &&
	    ampsipc_read(h) == -1)
		return (-1);
	return (ampsipc_dispatch(h));
}

/* Fill: PING. */
static void
ipclib_fill_ping(struct ipcwire_enc *e, void *buf, size_t cap,
    uint32_t reqid, const void *arg)
{
	ipcwire_begin(e, buf, cap, AMPSIPC_PING, 0, reqid);
}

/* Round trip to the daemon. */
int
ampsipc_ping(struct ampsipc *h, int timeout_ms)
{
	if (ipclib_usable(h) == -1)
		return (-1);
	if (ipclib_request(h, timeout_ms, ipclib_fill_ping, NULL) == -1)
		return (-1);
	if (h->wait.code != 0) {
		errno = ipclib_errno(h->wait.code);
		return (-1);
	}
	return (0);
}

/*
 * A request answered with text (STATUS_REPLY, ADMIN_REPLY): on success
 * the text moves to *textp (the caller frees it).
 */
static int
ipclib_text_request(struct ampsipc *h, int timeout_ms, ipclib_fill fill,
    const void *arg, char **textp)
{
	if (ipclib_request(h, timeout_ms, fill, arg) == -1)
		return (-1);
	if (h->wait.code != 0) {
		errno = ipclib_errno(h->wait.code);
		return (-1);
	}
	if (h->wait.text == NULL)
		return (ipclib_fail(h, AMPSIPC_E_SYSTEM, ENOMEM,
		    "out of memory"));
	*textp = h->wait.text;
	h->wait.text = NULL;
	return (0);
}

/* Fill: STATUS for one connection or all. */
static void
ipclib_fill_status(struct ipcwire_enc *e, void *buf, size_t cap,
    uint32_t reqid, const void *arg)
{
	ipcwire_begin(e, buf, cap, AMPSIPC_STATUS, 0, reqid);
	ipcwire_put_str(e, AMPSIPC_T_CONN, arg);
}

/* Ask the daemon for its status text. */
int
ampsipc_status(struct ampsipc *h, const char *conn, char **textp,
    int timeout_ms)
{
	*textp = NULL;
	if (ipclib_usable(h) == -1)
		return (-1);
	if (ipclib_text_request(h, timeout_ms, ipclib_fill_status, conn,
	    textp) == -1)
		return (-1);
	return (0);
}

/* Fill: ADMIN with the request text. */
static void
ipclib_fill_admin(struct ipcwire_enc *e, void *buf, size_t cap,
    uint32_t reqid, const void *arg)
{
	ipcwire_begin(e, buf, cap, AMPSIPC_ADMIN, 0, reqid);
	ipcwire_put_str(e, AMPSIPC_T_OPTIONS, arg);
}

/* An administrative request (see ampsipc.h). */
int
ampsipc_admin(struct ampsipc *h, const char *request, char **textp,
    int timeout_ms)
{
	*textp = NULL;
	if (ipclib_usable(h) == -1)
		return (-1);
	if (request == NULL || *request == '\0')
		return (ipclib_fail(h, AMPSIPC_E_USAGE, EINVAL,
		    "empty admin request"));
	if (ipclib_text_request(h, timeout_ms, ipclib_fill_admin, request,
	    textp) == -1)
		return (-1);
	return (h->wait.status == AMPSIPC_STATUS_SUCCESS ? 0 : 1);
}

/* Install the connection-state handler. */
void
ampsipc_set_conn_handler(struct ampsipc *h, ampsipc_conn_handler fn,
    void *arg)
{
	h->conn_cb = fn;
	h->conn_arg = arg;
}

/* Install the connection-event handler. */
void
ampsipc_set_conn_event_handler(struct ampsipc *h,
    ampsipc_conn_event_handler fn, void *arg)
{
	h->connev_cb = fn;
	h->connev_arg = arg;
}

/* The daemon's version from WELCOME. */
const char *
ampsipc_daemon_version(const struct ampsipc *h)
{
	return (h->daemon_version);
}

/* The daemon's default connection from WELCOME. */
const char *
ampsipc_default_conn(const struct ampsipc *h)
{
	return (h->default_conn);
}

/* Last error code. */
int
ampsipc_error(const struct ampsipc *h)
{
	return (h->err);
}

/* Last error message. */
const char *
ampsipc_errmsg(const struct ampsipc *h)
{
	return (h->errmsg);
}

/* Static text for an error code. */
const char *
ampsipc_strerror(int code)
{
	if (code < 0)
		return ("unknown error code");
	return (ipcwire_error_text((uint32_t)code));
}

/* Write what can be written at once, close and free. */
void
ampsipc_close(struct ampsipc *h)
{
	if (h == NULL)
		return;
	if (h->fd != -1) {
		if (!(h->flags & AMPSIPC_BROKEN))
			(void)ampsipc_write(h);
		close(h->fd);
	}
	ipclib_sub_free(h);
	ipclib_pend_free_frames(h);
	free(h->in);
	free(h->out);
	free(h->pend);
	free(h->path);
	free(h->name);
	free(h->adopt);
	free(h->wait.text);
	free(h);
}
