/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsipc-reconnect.c: a handle that outlives an ampsd restart
 * (ampsipc_set_reconnect), the library's share of a program's
 * in-process HA client (docs/IPC.md §11).
 *
 * The library keeps, for each asynchronous subscription, what the
 * program last set on it (the AMPS client's subscription manager): its
 * command as executed, then changed by replace, pause and resume; and
 * the last bookmark delivered.  When ampsd goes away (the socket closes,
 * or a fatal ERROR arrives), the handle connects again, within the
 * reconnect time, in the call that noticed (ipclib_break() and
 * ipclib_usable() call ipclib_reconnect() when no handler runs), and
 * then:
 *
 *	publishes	not stored yet: sent again from their copies, with
 *			their request ids (ampsipc-pub.c); stored: the new
 *			daemon is asked to wait for them (adoption)
 *	subscriptions	entered again with their request ids, as the
 *			program left them: paused if paused, durable ones
 *			from MOST_RECENT (the daemon's bookmark store),
 *			bookmark ones after the last bookmark delivered;
 *			their processed ack is not delivered twice
 *	streams, queries, flush commands
 *			end with AMPSIPC_E_DISCONNECTED (as on an upstream
 *			disconnect), a blocking helper's request fails with
 *			AMPSIPC_E_CLOSED (publish_flush asks again)
 *
 * Invariants:
 *  1. Only routes with a definition (async subscriptions) are entered
 *     again; a route that ended is not.
 *  2. Reconnecting never runs inside a handler (ampsipc_dispatch), and
 *     never nests (AMPSIPC_RECONNECTING).
 *  3. Request ids stay the ones the program's routes and publishes know.
 */

#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ampsipc-int.h"

/* Whether option name is in the comma list o. */
static int
rc_opt_has(const char *o, const char *name)
{
	size_t	n = strlen(name), l;

	while (o != NULL && *o != '\0') {
		l = strcspn(o, ",");
		if ((l == n || (l > n && o[n] == '=')) &&
		    strncmp(o, name, n) == 0)
			return (1);
		o += l;
		if (*o == ',')
			o++;
	}
	return (0);
}

/* o without the options named in drop (NULL-terminated); NULL if empty. */
static char *
rc_opt_strip(const char *o, const char *const *drop)
{
	char	*out, *w;
	size_t	 l, i;
	int	 skip;

	if (o == NULL || (out = malloc(strlen(o) + 1)) == NULL)
		return (NULL);
	w = out;
	while (*o != '\0') {
		l = strcspn(o, ",");
		for (skip = 0, i = 0; drop[i] != NULL && !skip; i++)
			skip = (l == strlen(drop[i]) || (l > strlen(drop[i]) &&
			    o[strlen(drop[i])] == '=')) &&
			    strncmp(o, drop[i], strlen(drop[i])) == 0;
		if (!skip) {
			if (w != out)
				*w++ = ',';
			memcpy(w, o, l);
			w += l;
		}
		o += l;
		if (*o == ',')
			o++;
	}
	*w = '\0';
	if (w == out) {
		free(out);
		return (NULL);
	}
	return (out);
}

/* The live subscription route of the program's sub_id, or NULL. */
static struct ampsipc_route *
rc_find_sub(struct ampsipc *h, const char *id, size_t len,
    const struct ampsipc_route *not)
{
	struct ampsipc_route	*rt;

	for (rt = h->routes; rt != NULL; rt = rt->next)
		if (rt != not && !rt->dead && !rt->ended && rt->def != NULL &&
		    rt->sub_id != NULL && strlen(rt->sub_id) == len &&
		    strncmp(rt->sub_id, id, len) == 0)
			return (rt);
	return (NULL);
}

/*
 * A subscription command was executed on route rt: keep what it sets
 * (invariant 1).  replace changes the definition of the subscription
 * it names, pause and resume the paused state of those it lists; any
 * other asynchronous subscription gets its own definition.
 */
void
ipclib_sub_record(struct ampsipc *h, struct ampsipc_route *rt,
    const struct ampsipc_command *c)
{
	static const char *const drop[] = { "replace", "pause", "resume",
	    NULL };
	const char		*o = c->strs[AMPSIPC_T_OPTIONS];
	const char		*ids = c->strs[AMPSIPC_T_SUB_ID], *p;
	struct ampsipc_route	*old;
	struct ampsipc_command	*d;
	size_t			 l;
	int			 pause, found = 0;

	if (rt->stream != NULL || ids == NULL)
		return;		/* streams end; they are not entered again */
	pause = rc_opt_has(o, "pause");
	if (pause || rc_opt_has(o, "resume")) {
		for (p = ids; *p != '\0'; p += l + (p[l] == ',')) {
			l = strcspn(p, ",");
			if ((old = rc_find_sub(h, p, l, rt)) != NULL) {
				old->paused = pause;
				found = 1;
			}
		}
		if (found)
			return;
	}
	if ((d = ipclib_cmd_dup(c)) == NULL)
		return;		/* no memory: not kept across a restart */
	free(d->strs[AMPSIPC_T_OPTIONS]);
	d->strs[AMPSIPC_T_OPTIONS] = rc_opt_strip(o, drop);
	if (rc_opt_has(o, "replace") &&
	    (old = rc_find_sub(h, ids, strlen(ids), rt)) != NULL) {
		if (d->strs[AMPSIPC_T_TOPIC] == NULL &&
		    old->def->strs[AMPSIPC_T_TOPIC] != NULL)
			d->strs[AMPSIPC_T_TOPIC] =
			    strdup(old->def->strs[AMPSIPC_T_TOPIC]);
		d->flags = old->def->flags;
		ampsipc_cmd_free(old->def);
		old->def = d;
		return;
	}
	rt->paused = pause;
	ampsipc_cmd_free(rt->def);
	rt->def = d;
}

/* A message was delivered on rt: remember its bookmark. */
void
ipclib_sub_note_bm(struct ampsipc_route *rt, const struct ampsipc_message *m)
{
	char	*bm;

	if (rt->def == NULL || m->command != AMPSIPC_C_PUBLISH ||
	    m->bookmark[0] == '\0' || (bm = strdup(m->bookmark)) == NULL)
		return;
	free(rt->last_bm);
	rt->last_bm = bm;
}

/* Enter subscription rt again on the new session (invariants 1, 3). */
static void
rc_resubscribe(struct ampsipc *h, struct ampsipc_route *rt)
{
	struct ampsipc_command	*d;
	const char		*o;
	char			*opts = NULL;
	size_t			 l;

	if ((d = ipclib_cmd_dup(rt->def)) == NULL)
		return;
	if (rt->def->flags & AMPSIPC_CMDF_DURABLE)
		(void)ampsipc_cmd_set_str(d, AMPSIPC_FIELD_BOOKMARK,
		    AMPSIPC_BOOKMARK_MOST_RECENT);
	else if (d->strs[AMPSIPC_T_BOOKMARK] != NULL && rt->last_bm != NULL)
		(void)ampsipc_cmd_set_str(d, AMPSIPC_FIELD_BOOKMARK,
		    rt->last_bm);
	if (rt->paused) {
		o = d->strs[AMPSIPC_T_OPTIONS];
		l = o != NULL ? strlen(o) + 1 : 0;
		if ((opts = malloc(l + 6)) != NULL) {
			snprintf(opts, l + 6, "%s%spause", o != NULL ? o : "",
			    o != NULL ? "," : "");
			free(d->strs[AMPSIPC_T_OPTIONS]);
			d->strs[AMPSIPC_T_OPTIONS] = opts;
		}
	}
	d->send_timeout = -1;
	rt->resub = rt->acked;
	(void)ipclib_queue(h, rt->reqid, ipclib_sub_fill, d);
	ampsipc_cmd_free(d);
}

/*
 * Connect again after ampsd went away, within the handle's reconnect
 * time, and restore the session (see above).  Returns 0, or -1 with the
 * handle still broken.
 */
int
ipclib_reconnect(struct ampsipc *h)
{
	struct ampsipc_route	*rt;
	int64_t			 deadline, left;
	uint32_t		 waited = h->wait.reqid;
	int			 saved_err = h->err;
	char			 saved[sizeof h->errmsg];

	if (h->reconnect_ms <= 0 || h->path == NULL ||
	    (h->flags & (AMPSIPC_DISPATCHING | AMPSIPC_RECONNECTING)))
		return (-1);
	memcpy(saved, h->errmsg, sizeof saved);
	h->flags |= AMPSIPC_RECONNECTING;
	if (h->fd != -1)
		close(h->fd);
	h->fd = -1;
	deadline = ipclib_now() + h->reconnect_ms;
	for (;;) {
		h->flags &= ~(AMPSIPC_BROKEN | AMPSIPC_WELCOMED);
		h->inoff = h->inlen = h->outoff = h->outlen = 0;
		h->eager_at = AMPSIPC_OUT_EAGER;
		left = deadline - ipclib_now();
		if (left > 0 && ipclib_handshake(h, (int)left) == 0)
			break;
		if (h->check_cb != NULL && h->check_cb(h, h->check_arg)) {
			/* the program stops the wait; a later call tries
			 * again (the handle stays LOST) */
			h->flags |= AMPSIPC_BROKEN;
			h->flags &= ~AMPSIPC_RECONNECTING;
			ipclib_fail(h, AMPSIPC_E_SYSTEM, EINTR, "interrupted "
			    "while connecting again to ampsd");
			return (-1);
		}
		if (ipclib_now() + 100 >= deadline) {
			h->flags |= AMPSIPC_BROKEN;
			h->flags &= ~AMPSIPC_RECONNECTING;
			ipclib_fail(h, saved_err != 0 ? saved_err :
			    AMPSIPC_E_CLOSED, 0, "%s (no ampsd again within "
			    "%d ms)", saved, h->reconnect_ms);
			return (-1);
		}
		(void)poll(NULL, 0, 100);
	}
	h->reconnects++;
	h->flags &= ~(AMPSIPC_LOST | AMPSIPC_RECONNECTING);
	h->err = AMPSIPC_E_OK;
	h->errmsg[0] = '\0';
	if (waited != 0) {	/* that request is lost: ask again */
		h->wait.reqid = waited;
		h->wait.done = 1;
		h->wait.code = AMPSIPC_E_CLOSED;
		ipclib_fail(h, AMPSIPC_E_CLOSED, 0, "ampsd restarted before "
		    "it answered");
	}
	ipclib_pub_reconnected(h);
	for (rt = h->routes; rt != NULL; rt = rt->next) {
		if (rt->dead || rt->ended)
			continue;
		if (rt->def != NULL && ipclib_is_subscribe(rt->cmd) &&
		    rt->stream == NULL)
			rc_resubscribe(h, rt);
		else if (rt->cmd != AMPSIPC_C_PUBLISH &&
		    rt->cmd != AMPSIPC_C_DELTA_PUBLISH)
			ipclib_route_end(h, rt, AMPSIPC_E_DISCONNECTED,
			    "ampsd restarted");
	}
	(void)ampsipc_write(h);
	return (0);
}

/* Turn reconnecting after an ampsd restart on (ms > 0) or off. */
int
ampsipc_set_reconnect(struct ampsipc *h, int timeout_ms)
{
	int	old = h->reconnect_ms;

	h->reconnect_ms = timeout_ms > 0 ? timeout_ms : 0;
	return (old);
}

/* How many times this handle connected again after ampsd went away. */
uint64_t
ampsipc_reconnects(const struct ampsipc *h)
{
	return (h->reconnects);
}
