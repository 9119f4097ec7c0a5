/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ipc-client.c: one program connected to ampsd over the IPC socket.
 *
 * It owns the client's descriptor, its read buffer (filled by a raw
 * libevent `event`, not a bufferevent, so one read can take many
 * frames), its bounded output buffer, the handshake, the mechanical
 * validation of every frame (ipcwire_decode), the ACL check per command
 * and the dispatch to the core's handlers (struct ipc_handlers).
 *
 * Life of a client:
 *
 *	accepted --HELLO ok--> GREETED --EOF/BYE/error--> CLOSED --> freed
 *	    |                    |                          ^
 *	    +--bad frame---------+--> DEAD (output drains) -+
 *
 *	ipc_client_create()	accepted
 *	ipc_client_hello()	-> GREETED (WELCOME sent)
 *	ipc_client_kill()	-> DEAD: fatal ERROR queued, reading stopped
 *	ipc_client_close()	-> CLOSED: closed() handler, fd closed,
 *				   moved to the graveyard
 *	ipc_client_free()	freed by ipc.c's reap event, later pass
 *
 * Invariants:
 *  1. No handler sees a frame before it was length-checked against
 *     max_frame and fully decoded by ipcwire_decode(); any failure kills
 *     this client only.
 *  2. The first frame must be HELLO; its version is read from the fixed
 *     prefix before anything else, so a client of any version gets
 *     VERSION_BAD carrying our version.
 *  3. A DEAD client is never read again; its output (ending with the
 *     ERROR) is still written, then it is closed, or after IPC_LINGER
 *     (IPC_LINGER_BEHIND if it was dropped for its backlog) if it never
 *     reads.
 *  4. Output is bounded: above out_high reading from the client pauses
 *     (replies only grow when we read requests); above out_max the
 *     client is killed "too far behind": its queued MESSAGE frames are
 *     dropped first, so the fatal ERROR follows the frame being written
 *     and the queued replies.  The output is an outq (outq.c), which
 *     counts MESSAGE bytes per request id for the core's
 *     per-subscription bound, can put an urgent frame first, and keeps
 *     the hold point of invariant 8.
 *  5. One read callback handles at most cfg.budget frames, then gives
 *     way: to the other clients of the same pass (event_active puts it
 *     at the tail of the active queue) while the pass has taken fewer
 *     than cfg.pass_max frames from all clients together (ipc->pass_in,
 *     reset by ipc_release() after every pass) and the client fewer
 *     than pass_max since it last ran dry, else to the NEXT loop pass (a
 *     zero-timeout timer, ev_yield); a callback that finds the pass full
 *     yields before it reads.  So a flooding client can starve neither
 *     other clients nor the flush phase that runs after every pass
 *     (commit, then STORED replies), the clients of a pass share it a
 *     budget at a time, and a group commit holds at most about pass_max
 *     frames however many programs publish: 64 programs once made
 *     passes of up to 77,000 frames, whose commit, upstream send and persisted
 *     acks then ran one after another instead of overlapping
 *     (docs/BENCHMARKS.md, "The 64 publishers").  ipc_client_reap()
 *     alone is not held by the pass's cap.
 *  6. A client is never freed inside its own callback chain: close only
 *     moves it to the graveyard; ipc.c frees it on a later pass.
 *  7. Before the handshake is complete (IPC_CLIENT_GREETED, set just
 *     before WELCOME is queued) the only frames queued for a client are
 *     WELCOME, VERSION_BAD and the fatal ERROR; anything unsolicited is
 *     dropped here, so no caller has to filter.
 *  8. Output queued before the client's first frame of a loop pass is
 *     sent in that pass (a MESSAGE read from AMPS waits neither for a
 *     store commit it does not need nor for another epoll round); output
 *     queued from that frame on (HOLD, from hold_at) is sent only after
 *     the flush phase has committed the pass (ipc_release()), so any
 *     reply (PING, OK, ERROR, ...) to a request still follows the commit
 *     of what the client sent before it (DISCARDs: docs/IPC.md), and
 *     STORED, queued by the flush phase after the commit, too.  Frames
 *     leave in the order they were queued.
 *  9. Every request that carries a topic, whatever its kind, passes
 *     topic_check() (topic.c) before the ACL hook and before any
 *     handler: a bad one gets INVALID_TOPIC with the reason, and nothing
 *     of it is stored or sent upstream.
 * 10. ev_write is added to epoll only while a send would block
 *     (wr_waiting): sendable output is written by making the event
 *     active (wr_armed), which costs no epoll_ctl, and a send that
 *     returns EAGAIN adds it until everything sendable is written.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "ipc-client.h"
#include "topic.h"

#define IPC_IN_INITIAL	(64U * 1024)
#define IPC_IN_KEEP	(256U * 1024)	/* shrink back above this */
#define IPC_LINGER	5		/* seconds a DEAD client may take */
#define IPC_LINGER_BEHIND 30		/* ... when dropped for its backlog */
#define IPC_NAME_MAX	64

/* One field for ipc_client_sendv(). */
struct ipc_fld {
	uint16_t	 tag;
	int		 kind;
	uint64_t	 num;
	const void	*ptr;
	size_t		 len;
};
#define FLD_U32(t, v)	{ AMPSIPC_T_##t, AMPSIPC_K_U32, (v), NULL, 0 }
#define FLD_U64(t, v)	{ AMPSIPC_T_##t, AMPSIPC_K_U64, (v), NULL, 0 }
#define FLD_STR(t, s)	{ AMPSIPC_T_##t, AMPSIPC_K_STR, 0, (s), 0 }
#define FLD_BYTES(t, p, l) { AMPSIPC_T_##t, AMPSIPC_K_BYTES, 0, (p), (l) }

static void	ipc_client_read_cb(evutil_socket_t, short, void *);
static void	ipc_client_write_cb(evutil_socket_t, short, void *);
static void	ipc_client_linger_cb(evutil_socket_t, short, void *);
static void	ipc_client_yield_cb(evutil_socket_t, short, void *);
static void	ipc_client_finish(struct ipc_client *);
static int	ipc_client_sendv(struct ipc_client *, uint16_t, uint16_t,
		    uint32_t, const struct ipc_fld *, size_t, int);

/*
 * Create the state for an accepted, already vetted descriptor (ipc.c).
 * Returns the client, or NULL (descriptor left open) on failure.
 */
struct ipc_client *
ipc_client_create(struct ipc *ipc, int fd, uid_t uid, gid_t gid, pid_t pid)
{
	struct ipc_client	*c;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return (NULL);
	c->ipc = ipc;
	c->fd = fd;
	c->uid = uid;
	c->gid = gid;
	c->pid = pid;
	c->id = ++ipc->next_id;
	c->incap = IPC_IN_INITIAL;
	c->in = malloc(c->incap);
	c->ev_read = event_new(ipc->base, fd, EV_READ | EV_PERSIST,
	    ipc_client_read_cb, c);
	c->ev_write = event_new(ipc->base, fd, EV_WRITE | EV_PERSIST,
	    ipc_client_write_cb, c);
	c->ev_linger = evtimer_new(ipc->base, ipc_client_linger_cb, c);
	c->ev_yield = evtimer_new(ipc->base, ipc_client_yield_cb, c);
	if (c->in == NULL || c->ev_read == NULL || c->ev_write == NULL ||
	    c->ev_linger == NULL || c->ev_yield == NULL ||
	    event_add(c->ev_read, NULL) == -1) {
		c->fd = -1;
		TAILQ_INSERT_TAIL(&ipc->graveyard, c, entry);
		ipc_client_free(c);
		return (NULL);
	}
	TAILQ_INSERT_TAIL(&ipc->clients, c, entry);
	ipc->nclients++;
	ipc_log(ipc, LOG_DEBUG, "ipc: client %llu: uid %lu gid %lu pid %ld",
	    (unsigned long long)c->id, (unsigned long)uid, (unsigned long)gid,
	    (long)pid);
	return (c);
}

/*
 * Close a client now: run the core's closed() handler, close the
 * descriptor and move the client to the graveyard.  Safe to call from
 * inside the client's own callbacks; the memory stays valid until ipc.c
 * reaps it on a later pass.
 */
void
ipc_client_close(struct ipc_client *c)
{
	struct ipc	*ipc = c->ipc;

	if (c->flags & IPC_CLIENT_CLOSED)
		return;
	c->flags |= IPC_CLIENT_CLOSED | IPC_CLIENT_DEAD;
	TAILQ_REMOVE(&ipc->clients, c, entry);
	ipc->nclients--;
	if (ipc->h.closed != NULL)
		ipc->h.closed(c, ipc->h.arg);
	event_del(c->ev_read);
	event_del(c->ev_write);
	c->wr_waiting = 0;
	event_del(c->ev_linger);
	event_del(c->ev_yield);
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	TAILQ_INSERT_TAIL(&ipc->graveyard, c, entry);
	ipc_client_gone(ipc);
	ipc_log(ipc, LOG_DEBUG, "ipc: client %llu: closed",
	    (unsigned long long)c->id);
}

/* Free a closed client (ipc.c's reap event or ipc_close()). */
void
ipc_client_free(struct ipc_client *c)
{
	TAILQ_REMOVE(&c->ipc->graveyard, c, entry);
	if (c->ev_read != NULL)
		event_free(c->ev_read);
	if (c->ev_write != NULL)
		event_free(c->ev_write);
	if (c->ev_linger != NULL)
		event_free(c->ev_linger);
	if (c->ev_yield != NULL)
		event_free(c->ev_yield);
	if (c->fd != -1)
		close(c->fd);
	free(c->in);
	outq_free(&c->out);
	free(c->name);
	free(c);
}

/* Little-endian fields of a frame header (the length was checked). */
static uint16_t
ipc_client_hdr_type(const uint8_t *fr)
{
	return ((uint16_t)(fr[4] | (fr[5] << 8)));
}

static uint32_t
ipc_client_hdr_reqid(const uint8_t *fr)
{
	return ((uint32_t)fr[8] | ((uint32_t)fr[9] << 8) |
	    ((uint32_t)fr[10] << 16) | ((uint32_t)fr[11] << 24));
}

/*
 * Trace one frame queued to the client (how: "queued", "urgent"): type,
 * reqid, the sub id of a frame that has one, length.  Only called while
 * tracing: it decodes the frame again to find the sub id.  The sub id is
 * the program's own text, so it is cut and printed with '?' for any byte
 * that is not printable ASCII.
 */
static void
ipc_client_trace_out(struct ipc_client *c, const uint8_t *fr, size_t len,
    const char *how)
{
	struct ipcwire_msg	 m;
	const char		*why, *sid = NULL;
	char			 safe[65];
	size_t			 i;

	if (ipcwire_decode(fr, len, IPCWIRE_FROM_DAEMON, &m, &why) == 0)
		sid = ipcwire_str(&m, AMPSIPC_T_SUB_ID);
	if (sid != NULL) {
		for (i = 0; sid[i] != '\0' && i < sizeof safe - 1; i++)
			safe[i] = (sid[i] >= 0x20 && sid[i] < 0x7f) ?
			    sid[i] : '?';
		safe[i] = '\0';
	}
	ipc_trace(c->ipc, "ipc: client %llu: %s %s reqid %lu%s%s len %zu "
	    "(out %zu)", (unsigned long long)c->id, how,
	    ipcwire_type_name(ipc_client_hdr_type(fr)),
	    (unsigned long)ipc_client_hdr_reqid(fr),
	    sid != NULL ? " sub_id " : "", sid != NULL ? safe : "", len,
	    outq_pending(&c->out));
}

/* Pause reading until the output drains below half of out_high. */
static void
ipc_client_pause(struct ipc_client *c)
{
	if (c->flags & (IPC_CLIENT_PAUSED | IPC_CLIENT_DEAD))
		return;
	c->flags |= IPC_CLIENT_PAUSED;
	event_del(c->ev_read);
	ipc_trace(c->ipc, "ipc: client %llu: reading paused: output %zu "
	    "bytes > out_high %zu", (unsigned long long)c->id,
	    outq_pending(&c->out), c->ipc->cfg.out_high);
}

/* Handle the rest of the input on the next loop pass (invariant 5). */
static void
ipc_client_yield(struct ipc_client *c)
{
	struct timeval	tv = { 0, 0 };

	evtimer_add(c->ev_yield, &tv);
}

/* Timer: the pass after a yield; go on reading. */
static void
ipc_client_yield_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipc_client	*c = arg;

	ipc_client_read_cb(c->fd, EV_READ, c);
}

/* Resume reading; frames already buffered are handled on the next pass. */
static void
ipc_client_resume(struct ipc_client *c)
{
	if ((c->flags & IPC_CLIENT_PAUSED) == 0 ||
	    (c->flags & IPC_CLIENT_DEAD))
		return;
	c->flags &= ~IPC_CLIENT_PAUSED;
	event_add(c->ev_read, NULL);
	ipc_trace(c->ipc, "ipc: client %llu: reading resumed: output %zu "
	    "bytes", (unsigned long long)c->id, outq_pending(&c->out));
	if (c->inlen != 0)
		ipc_client_yield(c);
}

/*
 * 1 if a frame of type may not be queued yet: the client has not had its
 * WELCOME and the frame is not part of the handshake (invariant 7).
 */
static int
ipc_client_too_early(struct ipc_client *c, uint16_t type, int fatal)
{
	if ((c->flags & IPC_CLIENT_GREETED) || fatal ||
	    type == AMPSIPC_WELCOME || type == AMPSIPC_VERSION_BAD)
		return (0);
	c->early_drops++;
	ipc_log(c->ipc, LOG_DEBUG, "ipc: client %llu: %s before WELCOME "
	    "dropped", (unsigned long long)c->id, ipcwire_type_name(type));
	return (1);
}

/* Make room for n more bytes of output; NULL if that is impossible. */
static uint8_t *
ipc_client_out_reserve(struct ipc_client *c, size_t n)
{
	return (outq_reserve(&c->out, n));
}

/* Bytes of output that may be sent now (invariant 8). */
static size_t
ipc_client_sendable(const struct ipc_client *c)
{
	return (outq_sendable(&c->out));
}

/*
 * Have the sendable output written in this pass: event_active runs the
 * write callback after the callback that queued it, so a burst queued by
 * one callback still leaves in one send.  The persistent EV_WRITE is
 * added only when a send would block (invariant 10).
 */
static void
ipc_client_kick(struct ipc_client *c)
{
	if (c->wr_armed || ipc_client_sendable(c) == 0 ||
	    (c->flags & IPC_CLIENT_CLOSED))
		return;
	c->wr_armed = 1;
	event_active(c->ev_write, EV_WRITE, 1);
}

/* A frame from the client is handled: hold what follows (invariant 8). */
static void
ipc_client_hold(struct ipc_client *c)
{
	if (c->flags & IPC_CLIENT_HOLD)
		return;
	c->flags |= IPC_CLIENT_HOLD;
	outq_hold(&c->out);
}

/* The pass is committed (ipc_release()): send everything. */
void
ipc_client_release(struct ipc_client *c, void *arg)
{
	if ((c->flags & IPC_CLIENT_HOLD) == 0)
		return;
	c->flags &= ~IPC_CLIENT_HOLD;
	outq_release(&c->out);
	ipc_client_kick(c);
}

/* Account n bytes just written at the reserved place; start writing. */
static void
ipc_client_out_commit(struct ipc_client *c, size_t n)
{
	outq_commit(&c->out, n);
	ipc_client_kick(c);
	if (outq_pending(&c->out) > c->ipc->cfg.out_high)
		ipc_client_pause(c);
}

/*
 * Encode and queue one frame.  fatal marks the kill frame, which may be
 * queued for a DEAD client and past out_max.  Returns 0, or -1.
 */
static int
ipc_client_sendv(struct ipc_client *c, uint16_t type, uint16_t flags,
    uint32_t reqid, const struct ipc_fld *f, size_t n, int fatal)
{
	struct ipcwire_enc	 e;
	uint8_t			*p = NULL;
	size_t			 len = 0, i;
	int			 pass;

	if ((c->flags & IPC_CLIENT_CLOSED) ||
	    ((c->flags & IPC_CLIENT_DEAD) && !fatal)) {
		ipc_trace(c->ipc, "ipc: client %llu: %s reqid %lu dropped: "
		    "client closing", (unsigned long long)c->id,
		    ipcwire_type_name(type), (unsigned long)reqid);
		return (-1);
	}
	if (ipc_client_too_early(c, type, fatal))
		return (0);
	for (pass = 0; pass < 2; pass++) {
		ipcwire_begin(&e, pass ? p : NULL, pass ? len : 0, type, flags,
		    reqid);
		if (type == AMPSIPC_VERSION_BAD)
			ipcwire_put_raw32(&e, AMPSIPC_PROTO_VERSION);
		for (i = 0; i < n; i++) {
			switch (f[i].kind) {
			case AMPSIPC_K_U32:
				ipcwire_put_u32(&e, f[i].tag,
				    (uint32_t)f[i].num);
				break;
			case AMPSIPC_K_U64:
				ipcwire_put_u64(&e, f[i].tag, f[i].num);
				break;
			case AMPSIPC_K_STR:
				ipcwire_put_str(&e, f[i].tag, f[i].ptr);
				break;
			default:
				ipcwire_put_bytes(&e, f[i].tag, f[i].ptr,
				    f[i].len);
				break;
			}
		}
		if (ipcwire_end(&e, &len) == -1)
			return (-1);
		if (pass == 1)
			break;
		if (!fatal &&
		    outq_pending(&c->out) + len > c->ipc->cfg.out_max) {
			ipc_client_kill(c, AMPSIPC_E_TOO_FAR_BEHIND,
			    "too far behind");
			return (-1);
		}
		if ((p = ipc_client_out_reserve(c, len)) == NULL) {
			if (!fatal)
				ipc_client_kill(c, AMPSIPC_E_NO_RESOURCES,
				    "daemon out of memory");
			return (-1);
		}
	}
	if (ipc_tracing(c->ipc))
		ipc_client_trace_out(c, p, len, "queued");
	ipc_client_out_commit(c, len);
	return (0);
}

/*
 * Queue a frame the core encoded itself with ipcwire_* (ACK, MESSAGE,
 * ...).  The frame is copied.  Returns 0 (also when it is dropped
 * because the handshake is not complete, invariant 7), or -1 if the
 * client is closing or was killed for being too far behind.
 */
int
ipc_client_send_frame(struct ipc_client *c, const void *frame, size_t len)
{
	uint8_t	*p;

	if (len < AMPSIPC_HDR_LEN || len > AMPSIPC_MAX_FRAME)
		return (-1);
	if (c->flags & (IPC_CLIENT_CLOSED | IPC_CLIENT_DEAD)) {
		ipc_trace(c->ipc, "ipc: client %llu: %s reqid %lu dropped: "
		    "client closing", (unsigned long long)c->id,
		    ipcwire_type_name(ipc_client_hdr_type(frame)),
		    (unsigned long)ipc_client_hdr_reqid(frame));
		return (-1);
	}
	if (ipc_client_too_early(c, ((const uint8_t *)frame)[4] |
	    (((const uint8_t *)frame)[5] << 8), 0))
		return (0);
	if (outq_pending(&c->out) + len > c->ipc->cfg.out_max) {
		ipc_client_kill(c, AMPSIPC_E_TOO_FAR_BEHIND, "too far behind");
		return (-1);
	}
	if ((p = ipc_client_out_reserve(c, len)) == NULL) {
		ipc_client_kill(c, AMPSIPC_E_NO_RESOURCES,
		    "daemon out of memory");
		return (-1);
	}
	memcpy(p, frame, len);
	if (ipc_tracing(c->ipc))
		ipc_client_trace_out(c, p, len, "queued");
	ipc_client_out_commit(c, len);
	return (0);
}

/*
 * Kill a client for cause: queue a fatal ERROR(code, text), stop reading,
 * and close once the output is written (or after IPC_LINGER seconds).
 * Other clients are not affected.  Safe inside the client's callbacks.
 */
void
ipc_client_kill(struct ipc_client *c, uint32_t code, const char *text)
{
	struct ipc_fld	f[] = { FLD_U32(ERRCODE, code),
	    FLD_STR(REASON, text != NULL ? text : ipcwire_error_text(code)) };
	size_t		n;

	if (c->flags & (IPC_CLIENT_DEAD | IPC_CLIENT_CLOSED))
		return;
	ipc_log(c->ipc, LOG_WARNING, "ipc: client %llu (uid %lu pid %ld): "
	    "dropped: %s", (unsigned long long)c->id, (unsigned long)c->uid,
	    (long)c->pid, text != NULL ? text : ipcwire_error_text(code));
	c->flags |= IPC_CLIENT_DEAD;
	/*
	 * A program dropped for its backlog is never going to read it: the
	 * messages go, the replies stay (they say what was stored), so the
	 * reason comes right after the frame being written and the replies.
	 */
	if (code == AMPSIPC_E_TOO_FAR_BEHIND ||
	    code == AMPSIPC_E_NO_RESOURCES) {
		n = outq_drop_all(&c->out);
		ipc_trace(c->ipc, "ipc: client %llu: %zu queued messages "
		    "dropped: %s", (unsigned long long)c->id, n,
		    ipcwire_error_text(code));
		c->flags |= IPC_CLIENT_BEHIND;	/* longer linger: it is slow */
	}
	(void)ipc_client_sendv(c, AMPSIPC_ERROR, AMPSIPC_F_FATAL, 0, f, 2, 1);
	ipc_client_finish(c);
}

/*
 * The daemon is shutting down: queue a fatal ERROR(SHUTTING_DOWN, text),
 * stop reading, and close once the output is written (or after
 * IPC_LINGER seconds).  Unlike ipc_client_kill() this is no fault of
 * the client, so it is logged at debug level only.
 */
void
ipc_client_shutdown(struct ipc_client *c, const char *text)
{
	struct ipc_fld	f[] = { FLD_U32(ERRCODE, AMPSIPC_E_SHUTTING_DOWN),
	    FLD_STR(REASON, text) };

	if (c->flags & (IPC_CLIENT_DEAD | IPC_CLIENT_CLOSED))
		return;
	ipc_log(c->ipc, LOG_DEBUG, "ipc: client %llu: closing: %s",
	    (unsigned long long)c->id, text);
	c->flags |= IPC_CLIENT_DEAD;
	(void)ipc_client_sendv(c, AMPSIPC_ERROR, AMPSIPC_F_FATAL, 0, f, 2, 1);
	ipc_client_finish(c);
}

/* Bytes of MESSAGE frames tagged reqid still in the output. */
size_t
ipc_client_queued_req(const struct ipc_client *c, uint32_t reqid)
{
	return (outq_queued(&c->out, reqid));
}

/* Drop the MESSAGE frames tagged reqid not yet started; how many. */
size_t
ipc_client_drop_queued(struct ipc_client *c, uint32_t reqid)
{
	size_t	n;

	n = outq_drop(&c->out, reqid);
	if (n != 0)
		ipc_trace(c->ipc, "ipc: client %llu: %zu queued frames of "
		    "reqid %lu dropped: request ended",
		    (unsigned long long)c->id, n, (unsigned long)reqid);
	return (n);
}

/*
 * Queue a frame the core encoded ahead of all output that has not
 * started to go out (the frame being written stays whole), sendable at
 * once.  Not bounded by out_max: callers send it once per subscription
 * they end.  Returns 0, or -1 if the client is closing or out of memory.
 */
int
ipc_client_send_urgent(struct ipc_client *c, const void *frame, size_t len)
{
	if (c->flags & (IPC_CLIENT_CLOSED | IPC_CLIENT_DEAD))
		return (-1);
	if (len < AMPSIPC_HDR_LEN || len > AMPSIPC_MAX_FRAME)
		return (-1);
	if (ipc_client_too_early(c, ((const uint8_t *)frame)[4] |
	    (((const uint8_t *)frame)[5] << 8), 0))
		return (0);
	if (outq_urgent(&c->out, frame, len) == -1)
		return (-1);
	if (ipc_tracing(c->ipc))
		ipc_client_trace_out(c, frame, len, "urgent");
	ipc_client_kick(c);
	return (0);
}

/* Stop reading and close once the queued output is written. */
static void
ipc_client_finish(struct ipc_client *c)
{
	struct timeval	tv = { IPC_LINGER, 0 };

	/* A program dropped for being slow gets longer to read why; what
	 * is left to write is small (its messages were dropped). */
	if (c->flags & IPC_CLIENT_BEHIND)
		tv.tv_sec = IPC_LINGER_BEHIND;

	c->flags |= IPC_CLIENT_DEAD;
	event_del(c->ev_read);
	event_del(c->ev_yield);
	if (outq_pending(&c->out) == 0)
		ipc_client_close(c);
	else
		evtimer_add(c->ev_linger, &tv);
}

/* Timer: a DEAD client did not take its output in time. */
static void
ipc_client_linger_cb(evutil_socket_t fd, short what, void *arg)
{
	ipc_client_close(arg);
}

/* Writable: send queued output; close DEAD clients once it is out. */
static void
ipc_client_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipc_client	*c = arg;
	const uint8_t		*p;
	size_t			 len;
	ssize_t			 n;

	while ((p = outq_head(&c->out, &len)), len > 0) {
		n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				/* Wait for the socket (invariant 10); a
				 * client that cannot wait is closed, not
				 * left with output that nothing sends. */
				if (!c->wr_waiting) {
					if (event_add(c->ev_write, NULL) != 0) {
						ipc_client_close(c);
						return;
					}
					c->wr_waiting = 1;
				}
				return;
			}
			ipc_client_close(c);
			return;
		}
		outq_consume(&c->out, (size_t)n);
	}
	c->wr_armed = 0;
	if (c->wr_waiting) {
		event_del(c->ev_write);
		c->wr_waiting = 0;
	}
	if (outq_pending(&c->out) > 0)
		return;		/* the rest is held until ipc_release() */
	outq_shrink(&c->out, IPC_IN_KEEP);
	if (c->flags & IPC_CLIENT_DEAD) {
		ipc_client_close(c);
		return;
	}
	ipc_client_resume(c);
}

/* Copy a client label for logs and status: printable ASCII, capped. */
static char *
ipc_client_clean_name(const char *s)
{
	char	*p;
	size_t	 i, len = strlen(s);

	if (len > IPC_NAME_MAX)
		len = IPC_NAME_MAX;
	if ((p = malloc(len + 1)) == NULL)
		return (NULL);
	for (i = 0; i < len; i++)
		p[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	p[len] = '\0';
	return (p);
}

/* HELLO with the right version: remember the name, send WELCOME. */
static int
ipc_client_hello(struct ipc_client *c, const struct ipcwire_msg *m)
{
	struct ipc	*ipc = c->ipc;
	const char	*name = ipcwire_str(m, AMPSIPC_T_CLIENT_NAME);
	struct ipc_fld	 f[] = {
		FLD_U32(PROTO_VERSION, AMPSIPC_PROTO_VERSION),
		FLD_U32(MAX_FRAME, ipc->cfg.max_frame),
		FLD_STR(DAEMON_VERSION, ipc->cfg.daemon_version),
		FLD_STR(CONN, ipc->cfg.default_conn),
		FLD_U64(CLIENT_ID, c->id),
	};

	if (name != NULL && (c->name = ipc_client_clean_name(name)) == NULL)
		return (AMPSIPC_E_NO_RESOURCES);
	c->flags |= IPC_CLIENT_GREETED;
	if (ipc_client_sendv(c, AMPSIPC_WELCOME, 0, m->hdr.reqid, f,
	    sizeof f / sizeof f[0], 0) == -1)
		return (-1);
	ipc_log(ipc, LOG_INFO, "ipc: client %llu: uid %lu pid %ld name %s",
	    (unsigned long long)c->id, (unsigned long)c->uid, (long)c->pid,
	    c->name != NULL ? c->name : "-");
	if (ipc->h.hello != NULL)
		ipc->h.hello(c, ipc->h.arg);
	return (0);
}

/* Ask the ACL hook; 1 if allowed, else 0 with *why (may stay NULL). */
static int
ipc_client_allowed(struct ipc_client *c, const struct ipcwire_msg *m,
    enum ipc_op op, const char **why)
{
	struct ipc	*ipc = c->ipc;

	if (ipc->cfg.acl == NULL)
		return (1);
	return (ipc->cfg.acl(ipc->cfg.acl_arg, c->uid, c->gid,
	    ipcwire_str(m, AMPSIPC_T_CONN), ipcwire_str(m, AMPSIPC_T_TOPIC),
	    op, why));
}

/* Which ACL operation a generic COMMAND is. */
static enum ipc_op
ipc_client_cmd_op(const struct ipcwire_msg *m)
{
	switch (ipcwire_num(m, AMPSIPC_T_CMD, 0)) {
	case AMPSIPC_CMD_PUBLISH:
	case AMPSIPC_CMD_DELTA_PUBLISH:
		return (IPC_OP_PUBLISH);
	case AMPSIPC_CMD_SOW_DELETE:
		return (IPC_OP_DELETE);
	default:
		return (IPC_OP_SUBSCRIBE);
	}
}

/*
 * The topic rules (topic.c) for a request that carries a topic, whatever
 * its kind (invariant 9).  Returns 1 if the topic is absent or good; else
 * replies INVALID_TOPIC with the reason and returns 0.
 */
static int
ipc_client_topic_ok(struct ipc_client *c, const struct ipcwire_msg *m)
{
	const char	*t;
	char		 why[96];
	size_t		 len;

	if ((t = ipcwire_bytes(m, AMPSIPC_T_TOPIC, &len)) == NULL)
		return (1);
	if (len == 0 || t[len - 1] != '\0')
		snprintf(why, sizeof why, "topic is not a string");
	else if (topic_check(t, len - 1, why, sizeof why) == 0)
		return (1);
	ipc_trace(c->ipc, "ipc: client %llu: reqid %lu refused: %s",
	    (unsigned long long)c->id, (unsigned long)m->hdr.reqid, why);
	ipc_client_reply_error(c, m->hdr.reqid, AMPSIPC_E_INVALID_TOPIC, why);
	return (0);
}

/* Run a core handler and turn its result into a reply or a kill. */
static void
ipc_client_call(struct ipc_client *c, const struct ipcwire_msg *m,
    const struct ipc_handler *hd, enum ipc_op op)
{
	const char	*why = NULL;
	int		 rc;

	if (!ipc_client_topic_ok(c, m))
		return;
	if (!ipc_client_allowed(c, m, op, &why)) {
		ipc_client_reply_error(c, m->hdr.reqid,
		    AMPSIPC_E_NOT_PERMITTED, why);
		return;
	}
	if (hd->fn == NULL) {
		ipc_client_reply_error(c, m->hdr.reqid,
		    AMPSIPC_E_NOT_SUPPORTED, NULL);
		return;
	}
	rc = hd->fn(c, m, hd->arg);
	if (rc < 0)
		ipc_client_kill(c, AMPSIPC_E_PROTOCOL, "request refused as "
		    "malformed");
	else if (rc > 0)
		ipc_client_reply_error(c, m->hdr.reqid, (uint32_t)rc, NULL);
}

/* Handle the first frame: it must be HELLO with our version. */
static void
ipc_client_first(struct ipc_client *c, const uint8_t *fr, uint32_t len)
{
	struct ipcwire_msg	 m;
	struct ipc_fld		 f[1];
	char			 reason[96];
	const char		*why;
	uint32_t		 version;
	int			 rc;

	if ((fr[4] | (fr[5] << 8)) != AMPSIPC_HELLO || len < 20) {
		ipc_client_kill(c, AMPSIPC_E_PROTOCOL, "expected HELLO");
		return;
	}
	version = (uint32_t)fr[16] | ((uint32_t)fr[17] << 8) |
	    ((uint32_t)fr[18] << 16) | ((uint32_t)fr[19] << 24);
	if (version != AMPSIPC_PROTO_VERSION) {
		snprintf(reason, sizeof reason, "client protocol %lu, "
		    "server %d", (unsigned long)version, AMPSIPC_PROTO_VERSION);
		f[0] = (struct ipc_fld)FLD_STR(REASON, reason);
		ipc_log(c->ipc, LOG_WARNING, "ipc: client %llu: %s",
		    (unsigned long long)c->id, reason);
		(void)ipc_client_sendv(c, AMPSIPC_VERSION_BAD, 0,
		    fr[8] | (fr[9] << 8) | (fr[10] << 16) |
		    ((uint32_t)fr[11] << 24), f, 1, 0);
		ipc_client_finish(c);
		return;
	}
	if (ipcwire_decode(fr, len, IPCWIRE_FROM_CLIENT, &m, &why) == -1) {
		snprintf(reason, sizeof reason, "bad HELLO: %s", why);
		ipc_client_kill(c, AMPSIPC_E_PROTOCOL, reason);
		return;
	}
	if ((rc = ipc_client_hello(c, &m)) > 0)
		ipc_client_kill(c, (uint32_t)rc, NULL);
}

/* Check and dispatch one complete frame. */
static void
ipc_client_dispatch(struct ipc_client *c, const uint8_t *fr, uint32_t len)
{
	struct ipc		*ipc = c->ipc;
	struct ipcwire_msg	 m;
	char			 reason[128];
	const char		*why;

	ipc_trace(ipc, "ipc: client %llu: received %s reqid %lu len %lu",
	    (unsigned long long)c->id, ipcwire_type_name(
	    ipc_client_hdr_type(fr)), (unsigned long)ipc_client_hdr_reqid(fr),
	    (unsigned long)len);
	if ((c->flags & IPC_CLIENT_GREETED) == 0) {
		ipc_client_first(c, fr, len);
		return;
	}
	if (ipcwire_decode(fr, len, IPCWIRE_FROM_CLIENT, &m, &why) == -1) {
		snprintf(reason, sizeof reason, "bad %s frame: %s",
		    ipcwire_type_name(fr[4] | (fr[5] << 8)), why);
		ipc_client_kill(c, AMPSIPC_E_PROTOCOL, reason);
		return;
	}
	switch (m.hdr.type) {
	case AMPSIPC_HELLO:
		ipc_client_kill(c, AMPSIPC_E_PROTOCOL, "second HELLO");
		break;
	case AMPSIPC_PING:
		ipc_client_sendv(c, AMPSIPC_PONG, 0, m.hdr.reqid, NULL, 0, 0);
		break;
	case AMPSIPC_BYE:
		ipc_client_finish(c);
		break;
	case AMPSIPC_PUBLISH:
	case AMPSIPC_DELTA_PUBLISH:
		if (!ipcwire_has(&m, AMPSIPC_T_TOPIC)) {
			ipc_client_reply_error(c, m.hdr.reqid,
			    AMPSIPC_E_INVALID_TOPIC, "empty topic");
			break;
		}
		ipc_client_call(c, &m, &ipc->h.publish, IPC_OP_PUBLISH);
		break;
	case AMPSIPC_PUBLISH_FLUSH:
		ipc_client_call(c, &m, &ipc->h.flush, IPC_OP_FLUSH);
		break;
	case AMPSIPC_COMMAND:
		ipc_client_call(c, &m, &ipc->h.command, ipc_client_cmd_op(&m));
		break;
	case AMPSIPC_DISCARD:
		ipc_client_call(c, &m, &ipc->h.discard, IPC_OP_ACK);
		break;
	case AMPSIPC_QUEUE_ACK:
		ipc_client_call(c, &m, &ipc->h.queue_ack, IPC_OP_ACK);
		break;
	case AMPSIPC_STATUS:
		ipc_client_call(c, &m, &ipc->h.status, IPC_OP_STATUS);
		break;
	case AMPSIPC_ADMIN:
		ipc_client_call(c, &m, &ipc->h.admin, IPC_OP_ADMIN);
		break;
	default:
		ipc_client_kill(c, AMPSIPC_E_PROTOCOL, "unexpected message");
		break;
	}
}

/*
 * Handle up to *budget complete frames from the read buffer.  Returns 1
 * if a complete frame is still buffered (budget ran out), else 0.
 */
static int
ipc_client_frames(struct ipc_client *c, unsigned int *budget)
{
	size_t		 off = 0;
	uint32_t	 len;
	uint8_t		*p;
	int		 rc, more = 0;

	while ((c->flags & IPC_CLIENT_DEAD) == 0) {
		rc = ipcwire_frame_len(c->in + off, c->inlen - off,
		    c->ipc->cfg.max_frame, &len);
		if (rc == -1) {
			ipc_client_kill(c, AMPSIPC_E_TOO_BIG,
			    "bad frame length");
			break;
		}
		if (rc == 0 || c->inlen - off < len) {
			if (rc == 1 && len > c->incap) {
				if ((p = realloc(c->in, len)) == NULL) {
					ipc_client_kill(c,
					    AMPSIPC_E_NO_RESOURCES,
					    "daemon out of memory");
					break;
				}
				c->in = p;
				c->incap = len;
			}
			break;
		}
		if (*budget == 0) {
			more = 1;
			break;
		}
		(*budget)--;
		ipc_client_hold(c);
		ipc_client_dispatch(c, c->in + off, len);
		off += len;
		if (c->flags & IPC_CLIENT_PAUSED) {
			more = 0;
			break;
		}
	}
	if (c->flags & IPC_CLIENT_CLOSED)
		return (0);
	if (off != 0) {
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= off;
	}
	return (more);
}

/* Readable: take what the socket has and handle frames within budget. */
static void
ipc_client_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipc_client	*c = arg;
	unsigned int		 budget = c->ipc->cfg.budget, n_before;
	ssize_t			 n;
	uint8_t			*p;
	size_t			 room;
	int			 more;

	if (c->flags & (IPC_CLIENT_DEAD | IPC_CLIENT_PAUSED))
		return;
	if (c->ipc->pass_in >= c->ipc->cfg.pass_max && !c->ipc->reaping) {
		ipc_client_yield(c);	/* the pass is full (invariant 5) */
		return;
	}
	more = ipc_client_frames(c, &budget);
	c->ipc->pass_in += c->ipc->cfg.budget - budget;
	if (more)
		goto yield;
	if (c->flags & (IPC_CLIENT_DEAD | IPC_CLIENT_PAUSED)) {
		c->pass_frames = 0;
		return;
	}
	if (c->inlen == 0 && c->incap > IPC_IN_KEEP &&
	    (p = realloc(c->in, IPC_IN_INITIAL)) != NULL) {
		c->in = p;
		c->incap = IPC_IN_INITIAL;
	}
	if (c->inlen == c->incap)
		return;		/* cannot happen: frames() grew the buffer */
	room = c->incap - c->inlen;
	n = read(c->fd, c->in + c->inlen, room);
	if (n == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			ipc_client_close(c);
		c->pass_frames = 0;
		return;
	}
	if (n == 0) {
		ipc_client_close(c);
		return;
	}
	c->inlen += (size_t)n;
	n_before = budget;
	more = ipc_client_frames(c, &budget);
	c->ipc->pass_in += n_before - budget;
	if ((c->flags & (IPC_CLIENT_DEAD | IPC_CLIENT_PAUSED)) ||
	    (!more && (size_t)n < room)) {
		/* Killed, paused, or a short read: the socket ran dry. */
		c->pass_frames = 0;
		return;
	}

yield:
	/* Every callback counts, so a frame trickling in cannot spin. */
	c->pass_frames += budget < c->ipc->cfg.budget ?
	    c->ipc->cfg.budget - budget : 1;
	if (c->pass_frames < c->ipc->cfg.pass_max &&
	    c->ipc->pass_in < c->ipc->cfg.pass_max) {
		event_active(c->ev_read, EV_READ, 0);	/* same pass */
		return;
	}
	c->pass_frames = 0;
	c->yields++;
	c->ipc->yields++;
	ipc_client_yield(c);
}

/*
 * The program of c is gone (ipc.c found its end of the socket closed):
 * handle what it sent now, as reads in this pass would (at most about
 * pass_max frames), so that it stops counting toward the caps at once.
 * A DEAD client is closed (its output can no longer be delivered).
 * Returns 1 if c is closed now.
 */
int
ipc_client_reap(struct ipc_client *c)
{
	unsigned int	i, n = c->ipc->cfg.pass_max / c->ipc->cfg.budget + 1;

	c->ipc->reaping = 1;		/* not held by the pass's cap */
	for (i = 0; i < n && !(c->flags & IPC_CLIENT_CLOSED); i++) {
		if (c->flags & IPC_CLIENT_DEAD)
			ipc_client_close(c);
		else if (c->flags & IPC_CLIENT_PAUSED)
			break;
		else
			ipc_client_read_cb(c->fd, EV_READ, c);
	}
	c->ipc->reaping = 0;
	return ((c->flags & IPC_CLIENT_CLOSED) != 0);
}

/* Identity and per-client data for the core. */
uint64_t
ipc_client_id(const struct ipc_client *c)
{
	return (c->id);
}

uid_t
ipc_client_uid(const struct ipc_client *c)
{
	return (c->uid);
}

gid_t
ipc_client_gid(const struct ipc_client *c)
{
	return (c->gid);
}

pid_t
ipc_client_pid(const struct ipc_client *c)
{
	return (c->pid);
}

/* The program's label from HELLO, made printable; "" if none. */
const char *
ipc_client_name(const struct ipc_client *c)
{
	return (c->name != NULL ? c->name : "");
}

/* 1 while replies can still be queued (not killed, not closed). */
int
ipc_client_alive(const struct ipc_client *c)
{
	return ((c->flags & (IPC_CLIENT_DEAD | IPC_CLIENT_CLOSED)) == 0);
}

void
ipc_client_set_data(struct ipc_client *c, void *data)
{
	c->data = data;
}

void *
ipc_client_data(const struct ipc_client *c)
{
	return (c->data);
}

/* STORED: reqid is committed as seq of connection connid. */
int
ipc_client_reply_stored(struct ipc_client *c, uint32_t reqid,
    uint32_t connid, uint64_t seq)
{
	struct ipc_fld	f[] = { FLD_U32(CONN_ID, connid), FLD_U64(SEQ, seq) };

	return (ipc_client_sendv(c, AMPSIPC_STORED, 0, reqid, f, 2, 0));
}

/* PERSISTED: AMPS has everything up to seq on connid. */
int
ipc_client_send_persisted(struct ipc_client *c, uint32_t connid,
    uint64_t seq)
{
	struct ipc_fld	f[] = { FLD_U32(CONN_ID, connid), FLD_U64(SEQ, seq) };

	return (ipc_client_sendv(c, AMPSIPC_PERSISTED, 0, 0, f, 2, 0));
}

/* PUBLISH_FAILED: AMPS refused stored message seq. */
int
ipc_client_send_publish_failed(struct ipc_client *c, uint32_t reqid,
    uint32_t connid, uint64_t seq, uint32_t code, const char *reason)
{
	struct ipc_fld	f[] = { FLD_U32(CONN_ID, connid), FLD_U64(SEQ, seq),
	    FLD_U32(ERRCODE, code), FLD_STR(REASON, reason) };

	return (ipc_client_sendv(c, AMPSIPC_PUBLISH_FAILED, 0, reqid, f, 4,
	    0));
}

/* FLUSHED: the PUBLISH_FLUSH reqid is complete. */
int
ipc_client_reply_flushed(struct ipc_client *c, uint32_t reqid)
{
	return (ipc_client_sendv(c, AMPSIPC_FLUSHED, 0, reqid, NULL, 0, 0));
}

/* OK: generic success for reqid. */
int
ipc_client_reply_ok(struct ipc_client *c, uint32_t reqid)
{
	return (ipc_client_sendv(c, AMPSIPC_OK, 0, reqid, NULL, 0, 0));
}

/* ERROR(code, text) for reqid; NULL text means the code's own text. */
int
ipc_client_reply_error(struct ipc_client *c, uint32_t reqid, uint32_t code,
    const char *text)
{
	struct ipc_fld	f[] = { FLD_U32(ERRCODE, code),
	    FLD_STR(REASON, text != NULL ? text : ipcwire_error_text(code)) };

	return (ipc_client_sendv(c, AMPSIPC_ERROR, 0, reqid, f, 2, 0));
}

/* STATUS_REPLY carrying text (docs/IPC.md, "Status"). */
int
ipc_client_reply_status(struct ipc_client *c, uint32_t reqid,
    const char *text)
{
	struct ipc_fld	f[] = { FLD_BYTES(DATA, text, strlen(text)) };

	return (ipc_client_sendv(c, AMPSIPC_STATUS_REPLY, 0, reqid, f, 1, 0));
}

/* ADMIN_REPLY: the result of an ADMIN request. */
int
ipc_client_reply_admin(struct ipc_client *c, uint32_t reqid, uint32_t status,
    const char *text)
{
	struct ipc_fld	f[] = { FLD_U32(STATUS, status),
	    FLD_BYTES(DATA, text, strlen(text)) };

	return (ipc_client_sendv(c, AMPSIPC_ADMIN_REPLY, 0, reqid, f, 2, 0));
}

/* CONN_STATE: connection conn (connid) is now in state, on server. */
int
ipc_client_send_conn_state(struct ipc_client *c, const char *conn,
    uint32_t connid, uint32_t state, const char *server, uint32_t code,
    const char *reason)
{
	struct ipc_fld	f[] = { FLD_STR(CONN, conn), FLD_U32(CONN_ID, connid),
	    FLD_U32(STATE, state), FLD_STR(SERVER, server),
	    FLD_U32(ERRCODE, code), FLD_STR(REASON, reason) };

	if (conn == NULL)
		return (-1);
	return (ipc_client_sendv(c, AMPSIPC_CONN_STATE, 0, 0, f,
	    code != 0 ? 6 : 4, 0));
}
