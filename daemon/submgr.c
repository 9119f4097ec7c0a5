/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * submgr.c: the subscription manager's bookkeeping, pure logic (no I/O).
 *
 * It owns: every program subscription kept by the daemon (struct
 * submgr_sub, hashed by upstream id), every command waiting for acks
 * (struct submgr_cmd, hashed by cid) and each subscription's queue
 * leases (bookmark and topic of every queue message delivered to the
 * program and not acked).  Pending queue acks are batched in qack.c.
 *
 * Id namespacing: a program's sub_id X becomes upstream "c<N>.X", N
 * being the daemon's id of the program (ipc_client_id, never reused
 * while the daemon runs); a durable subscription named X becomes
 * "d.X".  Local ids may not contain commas (AMPS lists) and may not be
 * "all".  So two programs can never collide upstream, and a durable name
 * is attached at most once (invariant 2).
 *
 * Invariants:
 *  1. A subscription is in the hash under its up_id exactly while it is
 *     in the list; up_ids are unique.  The subscription hash has at
 *     least as many buckets as subscriptions (it doubles as they come),
 *     so finding the subscription of a delivered message does not grow
 *     with their number; the list is doubly linked, so removing one
 *     does not either.
 *  2. At most one subscription exists per durable name.
 *  3. A command's sub pointer is either NULL or a live subscription:
 *     submgr_sub_remove() clears it in every command first.
 */

#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amps.h"
#include "ampsipc-wire.h"
#include "submgr.h"
#include "xmalloc.h"

#define SM_BUCKETS	1024

struct submgr {
	struct submgr_sub	*subs;
	struct submgr_sub	**sh;		/* nsh buckets (power of 2) */
	size_t			 nsh;
	size_t			 nsubs;
	struct submgr_cmd	*cmds;
	struct submgr_cmd	*ch[SM_BUCKETS];
	uint64_t		 next_cid;
};

/* FNV-1a of a string. */
static uint64_t
sm_hash(const char *s)
{
	uint64_t	h = 1469598103934665603ULL;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return (h);
}

/* The command hash's bucket of a string. */
static size_t
sm_bucket(const char *s)
{
	return ((size_t)(sm_hash(s) % SM_BUCKETS));
}

/* A new, empty manager. */
struct submgr *
submgr_create(void)
{
	struct submgr	*sm = xcalloc(1, sizeof(struct submgr));

	sm->nsh = SM_BUCKETS;
	sm->sh = xcalloc(sm->nsh, sizeof *sm->sh);
	return (sm);
}

/* Double the subscription hash (invariant 1). */
static void
sm_grow(struct submgr *sm)
{
	struct submgr_sub	**nh, *s;
	size_t			  n = sm->nsh * 2, b;

	nh = xcalloc(n, sizeof *nh);
	for (s = sm->subs; s != NULL; s = s->next) {
		b = (size_t)(s->hash & (n - 1));
		s->hnext = nh[b];
		nh[b] = s;
	}
	free(sm->sh);
	sm->sh = nh;
	sm->nsh = n;
}

/* Free one subscription's memory. */
static void
sm_sub_free(struct submgr_sub *s)
{
	submgr_lease_clear(s);
	free(s->leases);
	free(s->local_id);
	free(s->up_id);
	free(s->durable);
	free(s->topic);
	free(s->filter);
	free(s->options);
	free(s->bookmark);
	free(s->orderby);
	free(s->sow_keys);
	free(s->query_id);
	free(s->hdrs);
	free(s->last_bm);
	free(s->flow);
	free(s->acl.topic);
	free(s);
}

/* Free one command's memory. */
static void
sm_cmd_free(struct submgr_cmd *c)
{
	free(c->query_id);
	free(c->local_id);
	free(c->acl.topic);
	free(c);
}

/* Free everything. */
void
submgr_free(struct submgr *sm)
{
	struct submgr_sub	*s;
	struct submgr_cmd	*c;

	if (sm == NULL)
		return;
	while ((s = sm->subs) != NULL) {
		sm->subs = s->next;
		sm_sub_free(s);
	}
	while ((c = sm->cmds) != NULL) {
		sm->cmds = c->next;
		sm_cmd_free(c);
	}
	free(sm->sh);
	free(sm);
}

/* Whether a local id is acceptable. */
int
submgr_id_ok(const char *id)
{
	return (id != NULL && *id != '\0' && strchr(id, ',') == NULL &&
	    strcmp(id, "all") != 0 && strlen(id) < 512);
}

/* Build the upstream id; returns the length (snprintf-like) or -1. */
int
submgr_up_id(uint64_t client_id, const char *local, int durable, char *out,
    size_t cap)
{
	if (!submgr_id_ok(local))
		return (-1);
	if (durable)
		return (snprintf(out, cap, "d.%s", local));
	return (snprintf(out, cap, "c%llu.%s", (unsigned long long)client_id,
	    local));
}

/* A new subscription, hashed; NULL if the id is bad or taken. */
struct submgr_sub *
submgr_sub_new(struct submgr *sm, void *client, uint64_t client_id,
    const char *local, const char *durable)
{
	struct submgr_sub	*s;
	char			 up[600];
	int			 n;

	n = submgr_up_id(client_id, durable != NULL ? durable : local,
	    durable != NULL, up, sizeof up);
	if (n < 0 || (size_t)n >= sizeof up || !submgr_id_ok(local))
		return (NULL);
	if (submgr_sub_find(sm, up) != NULL)
		return (NULL);
	s = xcalloc(1, sizeof *s);
	s->client = client;
	s->client_id = client_id;
	s->local_id = xstrdup(local);
	s->up_id = xstrdup(up);
	if (durable != NULL) {
		s->durable = xstrdup(durable);
		s->flags |= SUBMGR_DURABLE;
	}
	s->hash = sm_hash(up);
	s->next = sm->subs;
	if (sm->subs != NULL)
		sm->subs->prev = s;
	sm->subs = s;
	sm->nsubs++;
	if (sm->nsubs > sm->nsh)
		sm_grow(sm);		/* files s too */
	else {
		s->hnext = sm->sh[s->hash & (sm->nsh - 1)];
		sm->sh[s->hash & (sm->nsh - 1)] = s;
	}
	return (s);
}

/* Find by upstream id. */
struct submgr_sub *
submgr_sub_find(struct submgr *sm, const char *up_id)
{
	struct submgr_sub	*s;
	uint64_t		 h = sm_hash(up_id);

	for (s = sm->sh[h & (sm->nsh - 1)]; s != NULL; s = s->hnext)
		if (s->hash == h && strcmp(s->up_id, up_id) == 0)
			return (s);
	return (NULL);
}

/* Find a program's subscription by its local id (plain or durable). */
struct submgr_sub *
submgr_sub_local(struct submgr *sm, uint64_t client_id, const char *local)
{
	struct submgr_sub	*s;
	char			 up[600];
	int			 n;

	n = submgr_up_id(client_id, local, 0, up, sizeof up);
	if (n < 0 || (size_t)n >= sizeof up)
		return (NULL);
	if ((s = submgr_sub_find(sm, up)) != NULL)
		return (s);
	for (s = sm->subs; s != NULL; s = s->next)
		if (s->client_id == client_id &&
		    strcmp(s->local_id, local) == 0)
			return (s);
	return (NULL);
}

/* Find the subscription attached to a durable name. */
struct submgr_sub *
submgr_sub_durable(struct submgr *sm, const char *name)
{
	char	up[600];
	int	n;

	n = submgr_up_id(0, name, 1, up, sizeof up);
	if (n < 0 || (size_t)n >= sizeof up)
		return (NULL);
	return (submgr_sub_find(sm, up));
}

/* Clear every command's pointer to s (invariant 3). */
void
submgr_cmd_unlink_sub(struct submgr *sm, struct submgr_sub *s)
{
	struct submgr_cmd	*c;

	for (c = sm->cmds; c != NULL; c = c->next)
		if (c->sub == s)
			c->sub = NULL;
}

/* Unhash, unlist and free a subscription. */
void
submgr_sub_remove(struct submgr *sm, struct submgr_sub *s)
{
	struct submgr_sub	**pp;

	submgr_cmd_unlink_sub(sm, s);
	for (pp = &sm->sh[s->hash & (sm->nsh - 1)]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == s) {
			*pp = s->hnext;
			break;
		}
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		sm->subs = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	sm->nsubs--;
	sm_sub_free(s);
}

/* Iterate: the first subscription (then s->next). */
struct submgr_sub *
submgr_sub_first(struct submgr *sm)
{
	return (sm->subs);
}

/* Number of subscriptions. */
size_t
submgr_nsubs(const struct submgr *sm)
{
	return (sm->nsubs);
}

/* Remember a leased message. */
int
submgr_lease_add(struct submgr_sub *s, const char *topic, const char *bm)
{
	struct submgr_lease	*l;

	if (s->nleases == s->cleases) {
		s->cleases = s->cleases ? s->cleases * 2 : 16;
		s->leases = xreallocarray(s->leases, s->cleases,
		    sizeof *s->leases);
	}
	l = &s->leases[s->nleases++];
	l->bm = xstrdup(bm);
	if (topic == NULL)
		topic = s->topic != NULL ? s->topic : "";
	l->topic = xstrdup(topic);
	s->flags |= SUBMGR_QUEUE;
	return (0);
}

/* Forget a leased bookmark; 1 if it was leased, 0 if not. */
int
submgr_lease_drop(struct submgr_sub *s, const char *bm, char **topic)
{
	size_t	i;

	for (i = 0; i < s->nleases; i++)
		if (strcmp(s->leases[i].bm, bm) == 0) {
			free(s->leases[i].bm);
			if (topic != NULL)
				*topic = s->leases[i].topic;
			else
				free(s->leases[i].topic);
			memmove(s->leases + i, s->leases + i + 1,
			    (s->nleases - i - 1) * sizeof *s->leases);
			s->nleases--;
			return (1);
		}
	return (0);
}

/* Forget every lease. */
void
submgr_lease_clear(struct submgr_sub *s)
{
	size_t	i;

	for (i = 0; i < s->nleases; i++) {
		free(s->leases[i].bm);
		free(s->leases[i].topic);
	}
	s->nleases = 0;
}

/* Leases joined in chunks of one topic and at most max (0: no limit). */
void
submgr_lease_chunks(struct submgr_sub *s, size_t max,
    void (*cb)(const char *, const char *, void *), void *arg)
{
	char	*buf = NULL;
	size_t	 i, len = 0, n = 0, blen;

	for (i = 0; i < s->nleases; i++) {
		if (n > 0 && strcmp(s->leases[i].topic,
		    s->leases[i - 1].topic) != 0) {
			cb(s->leases[i - 1].topic, buf, arg);
			len = n = 0;
		}
		blen = strlen(s->leases[i].bm);
		buf = xreallocarray(buf, len + blen + 2, 1);
		if (n > 0)
			buf[len++] = ',';
		memcpy(buf + len, s->leases[i].bm, blen + 1);
		len += blen;
		if (++n == max) {
			cb(s->leases[i].topic, buf, arg);
			len = n = 0;
		}
	}
	if (n > 0)
		cb(s->leases[s->nleases - 1].topic, buf, arg);
	free(buf);
}

/* A delivered message is outstanding. */
void
submgr_flow_push(struct submgr_sub *s, uint32_t len)
{
	uint32_t	*n;
	size_t		 i, old = s->fcap;

	if (s->fcount == s->fcap) {
		s->fcap = old ? old * 2 : 256;
		n = xreallocarray(NULL, s->fcap, sizeof *n);
		for (i = 0; i < s->fcount; i++)
			n[i] = s->flow[(s->fhead + i) % old];
		free(s->flow);
		s->flow = n;
		s->fhead = 0;
	}
	s->flow[(s->fhead + s->fcount) % s->fcap] = len;
	s->fcount++;
	s->fbytes += len;
}

/* The oldest outstanding message was discarded. */
void
submgr_flow_pop(struct submgr_sub *s)
{
	if (s->fcount == 0)
		return;
	s->fbytes -= s->flow[s->fhead];
	s->fhead = (s->fhead + 1) % s->fcap;
	s->fcount--;
}

/* A new command with a fresh cid ("ampsd-<n>") on connid. */
struct submgr_cmd *
submgr_cmd_new(struct submgr *sm, uint32_t connid)
{
	char	cid[24];

	snprintf(cid, sizeof cid, "ampsd-%llu",
	    (unsigned long long)++sm->next_cid);
	return (submgr_cmd_new_cid(sm, connid, cid));
}

/*
 * A new command with the given cid (shorter than 24 bytes), e.g. the
 * "sd-<seq>" of a stored sow_delete, which conn.c writes itself.
 */
struct submgr_cmd *
submgr_cmd_new_cid(struct submgr *sm, uint32_t connid, const char *cid)
{
	struct submgr_cmd	*c;
	size_t			 b;

	c = xcalloc(1, sizeof *c);
	c->connid = connid;
	snprintf(c->cid, sizeof c->cid, "%s", cid);
	b = sm_bucket(c->cid);
	c->hnext = sm->ch[b];
	sm->ch[b] = c;
	c->next = sm->cmds;
	sm->cmds = c;
	return (c);
}

/* Find a command by cid. */
struct submgr_cmd *
submgr_cmd_find(struct submgr *sm, const char *cid)
{
	struct submgr_cmd	*c;

	for (c = sm->ch[sm_bucket(cid)]; c != NULL; c = c->hnext)
		if (strcmp(c->cid, cid) == 0)
			return (c);
	return (NULL);
}

/* Unhash, unlist, free a command. */
void
submgr_cmd_remove(struct submgr *sm, struct submgr_cmd *c)
{
	struct submgr_cmd	**pp;

	for (pp = &sm->ch[sm_bucket(c->cid)]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	for (pp = &sm->cmds; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	sm_cmd_free(c);
}

/* Iterate commands. */
struct submgr_cmd *
submgr_cmd_first(struct submgr *sm)
{
	return (sm->cmds);
}

/* o without option name; NULL when nothing is left. */
char *
submgr_opts_strip(const char *o, const char *name)
{
	struct amps_opts_iter	 it;
	struct amps_opt		 op;
	char			*out;
	size_t			 len = 0, n;

	if (o == NULL)
		return (NULL);
	out = xmalloc(strlen(o) + 1);
	amps_opts_begin(&it, o, strlen(o));
	while (amps_opts_next(&it, &op) == 1) {
		if (op.name_len == strlen(name) &&
		    memcmp(op.name, name, op.name_len) == 0)
			continue;
		n = op.value != NULL ?
		    (size_t)(op.value + op.value_len - op.name) : op.name_len;
		if (len > 0)
			out[len++] = ',';
		memcpy(out + len, op.name, n);
		len += n;
	}
	if (len == 0) {
		free(out);
		return (NULL);
	}
	out[len] = '\0';
	return (out);
}

/* Whether option name is in o. */
int
submgr_opts_has(const char *o, const char *name)
{
	return (o != NULL && amps_opts_find(o, strlen(o), name, NULL) == 1);
}

/* Numeric option value, or def. */
uint64_t
submgr_opts_num(const char *o, const char *name, uint64_t def)
{
	struct amps_opt	op;
	uint64_t	v = 0;
	size_t		i;

	if (o == NULL || amps_opts_find(o, strlen(o), name, &op) != 1 ||
	    op.value == NULL || op.value_len == 0 || op.value_len > 18)
		return (def);
	for (i = 0; i < op.value_len; i++) {
		if (op.value[i] < '0' || op.value[i] > '9')
			return (def);
		v = v * 10 + (uint64_t)(op.value[i] - '0');
	}
	return (v);
}
