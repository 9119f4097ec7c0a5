/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * subpath-park.c: commands that wait: for their upstream session to come
 * up (docs/IPC.md §5, "While AMPS is unreachable"), or, held, for the
 * program's earlier publishes to be upstream (sp_hold).  A query (sow,
 * sow_delete with acks) or a synchronous stream that arrives while its
 * session is down waits here, as a copy of the request, for at most the
 * request's TIMEOUT_MS; subpath.c runs it again when the session is up
 * (sp_park_take), and the timer answers it DISCONNECTED, naming the
 * session's state and last error, when the time passes first.  A
 * session that gives up answers its waiting commands at once
 * (sp_park_fail).  Asynchronous subscriptions never wait here: the
 * subscription manager keeps them (subpath.c).  Calls subpath-out.c.
 *
 * Invariants:
 *  1. A parked command is answered exactly once: run again, or an ERROR
 *     from its timer, its session giving up or the daemon stopping; a
 *     program that goes away drops its commands unanswered.
 *  2. A parked copy owns its bytes: every field of m points into buf.
 *  3. Commands of one session are run again in the order they came.
 */

#include "config.h"

#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "ampsipc-wire.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "subpath.h"
#include "subpath-int.h"
#include "xmalloc.h"

/* Unlink p from the list (it must be in it). */
static void
sp_park_unlink(struct subpath *sp, struct sp_park *p)
{
	struct sp_park	**pp;

	for (pp = &sp->parked; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	p->next = NULL;
}

/* Free an unlinked parked command. */
void
sp_park_free(struct sp_park *p)
{
	if (p == NULL)
		return;
	if (p->timer != NULL)
		event_free(p->timer);
	free(p->buf);
	free(p);
}

/* Answer p DISCONNECTED with why its session is down, and free it. */
static void
sp_park_answer(struct sp_park *p, const char *what)
{
	char	why[400], text[512];

	sp_down_text(p->sp, p->sess, why, sizeof why);
	snprintf(text, sizeof text, "%s: %s", what, why);
	if (p->cl != NULL)
		ipc_client_reply_error(p->cl, p->m.hdr.reqid,
		    AMPSIPC_E_DISCONNECTED, text);
	sp_park_free(p);
}

/* Timer: the request's TIMEOUT_MS passed before its session came up. */
static void
sp_park_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sp_park	*p = arg;
	char		 text[96];

	sp_park_unlink(p->sp, p);
	snprintf(text, sizeof text, "not sent: no upstream session within "
	    "%llu ms", (unsigned long long)ipcwire_num(&p->m,
	    AMPSIPC_T_TIMEOUT_MS, 0));
	sp_park_answer(p, text);
}

/* A copy of request m of cl for session sess, not linked anywhere. */
static struct sp_park *
sp_park_copy(struct subpath *sp, struct ipc_client *cl,
    const struct ipcwire_msg *m, uint32_t sess)
{
	struct sp_park	*p;
	size_t		 len = 0, off = 0;
	unsigned int	 t;

	p = xcalloc(1, sizeof *p);
	p->sp = sp;
	p->cl = cl;
	p->sess = sess;
	p->m = *m;
	for (t = 0; t < AMPSIPC_T_LIMIT; t++)
		if (ipcwire_has(m, t))
			len += m->f[t].len;
	p->buf = xmalloc(len > 0 ? len : 1);
	for (t = 0; t < AMPSIPC_T_LIMIT; t++) {
		if (!ipcwire_has(m, t))
			continue;
		if (m->f[t].len > 0)
			memcpy(p->buf + off, m->f[t].ptr, m->f[t].len);
		p->m.f[t].ptr = p->buf + off;
		off += m->f[t].len;
	}
	return (p);
}

/* Append p to the list at *head (arrival order). */
static void
sp_park_append(struct sp_park **head, struct sp_park *p)
{
	while (*head != NULL)
		head = &(*head)->next;
	*head = p;
}

/*
 * Hold request m of cl, for session sess, until the program's earlier
 * publishes on that connection are upstream (subpath.c releases it in
 * the flush phase): a command never overtakes the program's own
 * publishes, as on one AMPS connection.  Commands of one program stay
 * in order.
 */
void
sp_hold(struct subpath *sp, struct ipc_client *cl,
    const struct ipcwire_msg *m, uint32_t sess)
{
	sp_park_append(&sp->held, sp_park_copy(sp, cl, m, sess));
}

/* Whether program cl has a held request (its later ones wait too). */
int
sp_holds(struct subpath *sp, struct ipc_client *cl)
{
	struct sp_park	*p;

	for (p = sp->held; p != NULL; p = p->next)
		if (p->cl == cl)
			return (1);
	return (0);
}

/*
 * Keep a copy of m from cl until session sess is up, at most its
 * TIMEOUT_MS.  Returns 0 when parked, or an error code to answer at
 * once (DISCONNECTED without TIMEOUT_MS, or when the session gave up or
 * stopped: the caller says why).
 */
int
sp_park(struct subpath *sp, struct ipc_client *cl,
    const struct ipcwire_msg *m, uint32_t sess)
{
	struct sp_park	*p;
	struct timeval	 tv;
	uint64_t	 ms;
	enum conn_state	 st = conn_state(sp->conns[sess].conn);

	if (!ipcwire_has(m, AMPSIPC_T_TIMEOUT_MS) || st == CONN_GAVE_UP ||
	    st == CONN_STOPPED)
		return (AMPSIPC_E_DISCONNECTED);
	if ((ms = ipcwire_num(m, AMPSIPC_T_TIMEOUT_MS, 0)) == 0)
		return (AMPSIPC_E_DISCONNECTED);
	p = sp_park_copy(sp, cl, m, sess);
	if ((p->timer = evtimer_new(loop_base(), sp_park_timer_cb,
	    p)) == NULL)
		fatalx("subpath: evtimer_new failed");
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(p->timer, &tv);
	sp_park_append(&sp->parked, p);	/* in arrival order (invariant 3) */
	log_debug("connection %s: %s from client %llu waits for the "
	    "session (%llu ms at most)", sp->conns[sess].name,
	    ipcwire_cmd_name((uint32_t)ipcwire_num(m, AMPSIPC_T_CMD, 0)),
	    (unsigned long long)ipc_client_id(cl), (unsigned long long)ms);
	return (0);
}

/*
 * The oldest command parked for session sess, unlinked, its timer
 * stopped (the caller runs it and frees it with sp_park_free), or NULL.
 */
struct sp_park *
sp_park_take(struct subpath *sp, uint32_t sess)
{
	struct sp_park	*p;

	for (p = sp->parked; p != NULL; p = p->next)
		if (p->sess == sess)
			break;
	if (p == NULL)
		return (NULL);
	sp_park_unlink(sp, p);
	evtimer_del(p->timer);
	return (p);
}

/*
 * Session sess gave up or stopped (sess == UINT32_MAX: every session):
 * answer its waiting commands now.
 */
void
sp_park_fail(struct subpath *sp, uint32_t sess)
{
	struct sp_park	*p, *next;

	for (p = sp->parked; p != NULL; p = next) {
		next = p->next;
		if (sess != UINT32_MAX && p->sess != sess)
			continue;
		sp_park_unlink(sp, p);
		sp_park_answer(p, "not sent");
	}
}

/* A program went away: drop its parked and held commands unanswered. */
void
sp_park_closed(struct subpath *sp, struct ipc_client *cl)
{
	struct sp_park	*p, *next, **pp;

	for (p = sp->parked; p != NULL; p = next) {
		next = p->next;
		if (p->cl != cl)
			continue;
		sp_park_unlink(sp, p);
		sp_park_free(p);
	}
	for (pp = &sp->held; (p = *pp) != NULL;) {
		if (p->cl == cl) {
			*pp = p->next;
			sp_park_free(p);
		} else
			pp = &p->next;
	}
}
