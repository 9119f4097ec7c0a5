/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * bmtrack.c: the bookmark-store algorithm of PROTOCOL.md §8.6, per sub_id, as
 * pure logic (no I/O, no SQLite, no global state; only malloc).  It owns
 * every struct bmsub and its entries.  bookmarkstore.c persists what it
 * needs to rebuild this state after a restart; unit tests drive it
 * directly.
 *
 * Per subscription:
 *
 *	Q	logged entries not yet popped, in arrival order (qhead..qtail),
 *		each discarded or not; also indexed by bookmark in `seen`.
 *	pubs	publisher -> highest seq of the popped prefix ("popped_max").
 *	resume	bookmark of the last popped entry (or of a persisted ack
 *		taken while Q was empty); "" while nothing was popped.
 *	pre	bookmarks discarded out of order before a restart (restored
 *		by bookmarkstore): when one is logged again it is queued as
 *		discarded and reported duplicate.
 *
 * Invariants:
 *
 *  1. Q's head, if any, is not discarded once a call returns (discarded
 *     heads are popped at once by bmtrack_discard()/bmtrack_settle()).
 *  2. Every entry of Q is in `seen` exactly once, and nothing else is.
 *  3. A bookmark <pub>|<seq>| with seq <= pubs[pub] is a duplicate:
 *     messages of one publisher arrive in sequence order (PROTOCOL.md §8.6), so
 *     everything up to that point was discarded or never matched.
 *  4. pubs[p] never decreases; resume is the bookmark of the most
 *     recently popped entry.
 *  5. Bookmarks are stored with their length and a NUL; lengths are
 *     checked against BMTRACK_MAX_BM before anything is copied.
 *  6. A persisted ack moves the resume point only while live (the replay
 *     completed) and Q is empty; during a replay Q can be empty with
 *     undelivered messages ahead, and moving there would skip them.
 */

#include "config.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amps.h"
#include "bmtrack.h"

struct bment {
	struct bment	*hnext;		/* hash chain */
	struct bment	*qnext;		/* queue order */
	uint64_t	 pub;
	uint64_t	 seq;
	uint32_t	 hash;
	uint8_t		 parsed;
	uint8_t		 discarded;
	uint8_t		 deferred;	/* discarded while not at the head */
	size_t		 len;
	char		 bm[];		/* len bytes + NUL */
};

struct bmhash {
	struct bment	**b;
	size_t		 nb;		/* buckets, a power of two */
	size_t		 n;
};

struct bmpub {
	uint64_t	 pub;
	uint64_t	 max;
};

struct bmsub {
	struct bmsub	*next;		/* bmtrack list */
	char		*id;
	char		*start;
	char		*resume;	/* "" if none */
	char		*persisted;	/* "" if none */

	struct bment	*qhead;
	struct bment	*qtail;
	size_t		 nq;
	struct bmhash	 seen;
	struct bmhash	 pre;

	struct bmpub	*pubs;		/* linear: few publishers per sub */
	size_t		 npubs;
	size_t		 cappubs;
	int		 live;		/* replay over: persisted may move */
};

struct bmtrack {
	struct bmsub	*subs;		/* linear list: few durable subs */
};

/* FNV-1a, 32 bits. */
static uint32_t
bm_hash(const char *s, size_t len)
{
	uint32_t	 h = 2166136261u;
	size_t		 i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return (h);
}

/* Find bm in h. */
static struct bment *
bmhash_find(const struct bmhash *h, const char *bm, size_t len, uint32_t hv)
{
	struct bment	*e;

	if (h->nb == 0)
		return (NULL);
	for (e = h->b[hv & (h->nb - 1)]; e != NULL; e = e->hnext) {
		if (e->hash == hv && e->len == len &&
		    memcmp(e->bm, bm, len) == 0)
			return (e);
	}
	return (NULL);
}

/* Insert e (not present) into h, growing it at load 1.  0 or -1. */
static int
bmhash_insert(struct bmhash *h, struct bment *e)
{
	struct bment	**nb, *x, *nx;
	size_t		 n, i, j;

	if (h->n >= h->nb) {
		n = h->nb == 0 ? 64 : h->nb * 2;
		if ((nb = calloc(n, sizeof *nb)) == NULL)
			return (-1);
		for (i = 0; i < h->nb; i++) {
			for (x = h->b[i]; x != NULL; x = nx) {
				nx = x->hnext;
				j = x->hash & (n - 1);
				x->hnext = nb[j];
				nb[j] = x;
			}
		}
		free(h->b);
		h->b = nb;
		h->nb = n;
	}
	i = e->hash & (h->nb - 1);
	e->hnext = h->b[i];
	h->b[i] = e;
	h->n++;
	return (0);
}

/* Unlink e from h. */
static void
bmhash_remove(struct bmhash *h, struct bment *e)
{
	struct bment	**pp;

	for (pp = &h->b[e->hash & (h->nb - 1)]; *pp != NULL;
	    pp = &(*pp)->hnext) {
		if (*pp == e) {
			*pp = e->hnext;
			h->n--;
			return;
		}
	}
}

/* Free every entry of h and h's buckets. */
static void
bmhash_clear(struct bmhash *h)
{
	struct bment	*e, *ne;
	size_t		 i;

	for (i = 0; i < h->nb; i++) {
		for (e = h->b[i]; e != NULL; e = ne) {
			ne = e->hnext;
			free(e);
		}
	}
	free(h->b);
	memset(h, 0, sizeof *h);
}

/* A new entry for bm (length already checked). */
static struct bment *
bment_new(const char *bm, size_t len, uint32_t hv)
{
	struct bment	*e;

	if ((e = calloc(1, sizeof *e + len + 1)) == NULL)
		return (NULL);
	memcpy(e->bm, bm, len);
	e->bm[len] = '\0';
	e->len = len;
	e->hash = hv;
	e->parsed = (amps_bm_parse(bm, len, &e->pub, &e->seq) == 0);
	return (e);
}

/* Replace *dst by a copy of s[0..len).  0 or -1. */
static int
bm_set(char **dst, const char *s, size_t len)
{
	char	*p;

	if ((p = malloc(len + 1)) == NULL)
		return (-1);
	memcpy(p, s, len);
	p[len] = '\0';
	free(*dst);
	*dst = p;
	return (0);
}

/* The popped maximum slot of publisher pub, or NULL. */
static struct bmpub *
bmsub_pub(const struct bmsub *sub, uint64_t pub)
{
	size_t	 i;

	for (i = 0; i < sub->npubs; i++) {
		if (sub->pubs[i].pub == pub)
			return (&sub->pubs[i]);
	}
	return (NULL);
}

/* Raise popped_max[pub] to at least seq (invariant 4).  0 or -1. */
static int
bmsub_raise(struct bmsub *sub, uint64_t pub, uint64_t seq)
{
	struct bmpub	*p, *np;
	size_t		 ncap;

	if ((p = bmsub_pub(sub, pub)) != NULL) {
		if (seq > p->max)
			p->max = seq;
		return (0);
	}
	if (sub->npubs == sub->cappubs) {
		ncap = sub->cappubs == 0 ? 4 : sub->cappubs * 2;
		if ((np = reallocarray(sub->pubs, ncap, sizeof *np)) == NULL)
			return (-1);
		sub->pubs = np;
		sub->cappubs = ncap;
	}
	sub->pubs[sub->npubs].pub = pub;
	sub->pubs[sub->npubs].max = seq;
	sub->npubs++;
	return (0);
}

/* Whether a parsed bookmark is covered by the popped prefix (inv. 3). */
static int
bmsub_covered(const struct bmsub *sub, uint64_t pub, uint64_t seq)
{
	const struct bmpub *p;

	p = bmsub_pub(sub, pub);
	return (p != NULL && seq <= p->max);
}

/* A new, empty tracker. */
struct bmtrack *
bmtrack_create(void)
{
	return (calloc(1, sizeof(struct bmtrack)));
}

/* Free one subscription and all it owns. */
static void
bmsub_free(struct bmsub *sub)
{
	struct bment	*e, *ne;

	for (e = sub->qhead; e != NULL; e = ne) {
		ne = e->qnext;
		free(e);
	}
	free(sub->seen.b);
	bmhash_clear(&sub->pre);
	free(sub->pubs);
	free(sub->id);
	free(sub->start);
	free(sub->resume);
	free(sub->persisted);
	free(sub);
}

/* Free the tracker and every subscription.  Accepts NULL. */
void
bmtrack_free(struct bmtrack *bt)
{
	struct bmsub	*sub, *next;

	if (bt == NULL)
		return;
	for (sub = bt->subs; sub != NULL; sub = next) {
		next = sub->next;
		bmsub_free(sub);
	}
	free(bt);
}

/* Find sub_id, or NULL. */
struct bmsub *
bmtrack_get(struct bmtrack *bt, const char *sub_id)
{
	struct bmsub	*sub;

	for (sub = bt->subs; sub != NULL; sub = sub->next) {
		if (strcmp(sub->id, sub_id) == 0)
			return (sub);
	}
	return (NULL);
}

/*
 * Find or create sub_id with start bookmark start (NULL, "" or "recent":
 * EPOCH).  Returns NULL on allocation failure or an over-long argument.
 */
struct bmsub *
bmtrack_add(struct bmtrack *bt, const char *sub_id, const char *start)
{
	struct bmsub	*sub;
	size_t		 slen;

	assert(bt != NULL && sub_id != NULL);
	if ((sub = bmtrack_get(bt, sub_id)) != NULL)
		return (sub);
	if (start == NULL || *start == '\0' ||
	    strcmp(start, AMPS_BOOKMARK_MOST_RECENT) == 0)
		start = AMPS_BOOKMARK_EPOCH;
	slen = strlen(start);
	if (strlen(sub_id) > BMTRACK_MAX_BM || slen > BMTRACK_MAX_BM)
		return (NULL);
	if ((sub = calloc(1, sizeof *sub)) == NULL)
		return (NULL);
	if ((sub->id = strdup(sub_id)) == NULL ||
	    (sub->start = strdup(start)) == NULL ||
	    (sub->resume = strdup("")) == NULL ||
	    (sub->persisted = strdup("")) == NULL) {
		bmsub_free(sub);
		return (NULL);
	}
	sub->next = bt->subs;
	bt->subs = sub;
	return (sub);
}

/* Forget sub_id entirely. */
void
bmtrack_purge(struct bmtrack *bt, const char *sub_id)
{
	struct bmsub	**pp, *sub;

	for (pp = &bt->subs; (sub = *pp) != NULL; pp = &sub->next) {
		if (strcmp(sub->id, sub_id) == 0) {
			*pp = sub->next;
			bmsub_free(sub);
			return;
		}
	}
}

/* Append e to Q and index it (invariant 2). */
static int
bmsub_enqueue(struct bmsub *sub, struct bment *e)
{
	if (bmhash_insert(&sub->seen, e) != 0)
		return (-1);
	e->qnext = NULL;
	if (sub->qtail != NULL)
		sub->qtail->qnext = e;
	else
		sub->qhead = e;
	sub->qtail = e;
	sub->nq++;
	return (0);
}

/*
 * Log bm before delivery (PROTOCOL.md §8.6 log()).  Returns BMTRACK_NEW,
 * BMTRACK_DUPLICATE, BMTRACK_REDELIVERY or -1.
 */
int
bmtrack_log(struct bmsub *sub, const char *bm, size_t len)
{
	struct bment	*e;
	uint64_t	 pub, seq;
	uint32_t	 hv;

	assert(sub != NULL);
	if (bm == NULL || len == 0 || len > BMTRACK_MAX_BM)
		return (-1);
	if (amps_bm_parse(bm, len, &pub, &seq) == 0 &&
	    bmsub_covered(sub, pub, seq))
		return (BMTRACK_DUPLICATE);
	hv = bm_hash(bm, len);
	if ((e = bmhash_find(&sub->seen, bm, len, hv)) != NULL)
		return (e->discarded ? BMTRACK_DUPLICATE : BMTRACK_REDELIVERY);
	if ((e = bmhash_find(&sub->pre, bm, len, hv)) != NULL) {
		/* Discarded before a restart: queue it as discarded. */
		bmhash_remove(&sub->pre, e);
		e->discarded = 1;
		e->deferred = 1;
		if (bmsub_enqueue(sub, e) != 0) {
			free(e);
			return (-1);
		}
		return (BMTRACK_DUPLICATE);
	}
	if ((e = bment_new(bm, len, hv)) == NULL)
		return (-1);
	if (bmsub_enqueue(sub, e) != 0) {
		free(e);
		return (-1);
	}
	return (BMTRACK_NEW);
}

/*
 * Pop the discarded prefix of Q (invariant 1), calling cb for each
 * entry.  Returns 1 if anything was popped, 0 if not, -1 if memory ran
 * out while recording (the state stays consistent; resume may lag).
 */
int
bmtrack_settle(struct bmsub *sub, bmtrack_pop_cb cb, void *arg)
{
	struct bment	*e, *last = NULL;
	int		 r = 0;

	while ((e = sub->qhead) != NULL && e->discarded) {
		sub->qhead = e->qnext;
		if (sub->qhead == NULL)
			sub->qtail = NULL;
		sub->nq--;
		bmhash_remove(&sub->seen, e);
		if (e->parsed && bmsub_raise(sub, e->pub, e->seq) != 0)
			r = -1;
		if (cb != NULL)
			cb(e->bm, e->len, e->deferred, arg);
		free(last);
		last = e;
	}
	if (last == NULL)
		return (r);
	if (bm_set(&sub->resume, last->bm, last->len) != 0)
		r = -1;
	free(last);
	return (r == 0 ? 1 : r);
}

/*
 * The application processed bm (PROTOCOL.md §8.6 discard()).  Returns 1 if the
 * resume point advanced, 0 if queued out of order, 2 if already
 * discarded, -1 if bm is unknown.
 */
int
bmtrack_discard(struct bmsub *sub, const char *bm, size_t len,
    bmtrack_pop_cb cb, void *arg)
{
	struct bment	*e;
	uint64_t	 pub, seq;
	uint32_t	 hv;
	int		 r;

	assert(sub != NULL);
	if (bm == NULL || len == 0 || len > BMTRACK_MAX_BM)
		return (-1);
	hv = bm_hash(bm, len);
	if ((e = bmhash_find(&sub->seen, bm, len, hv)) == NULL) {
		if (bmhash_find(&sub->pre, bm, len, hv) != NULL)
			return (2);	/* already discarded before restart */
		if (amps_bm_parse(bm, len, &pub, &seq) == 0 &&
		    bmsub_covered(sub, pub, seq))
			return (2);	/* already popped */
		return (-1);
	}
	if (e->discarded)
		return (2);
	e->discarded = 1;
	if (e != sub->qhead) {
		e->deferred = 1;
		return (0);
	}
	r = bmtrack_settle(sub, cb, arg);
	return (r < 0 ? 1 : r);
}

/*
 * A persisted ack carried bm (PROTOCOL.md §8.6 persisted(), rule 4): once the
 * replay is over (live) and with nothing outstanding, the resume point
 * moves there.  1 moved, 0 not, -1.
 */
int
bmtrack_persisted(struct bmsub *sub, const char *bm, size_t len)
{
	uint64_t	 pub, seq;

	assert(sub != NULL);
	if (bm == NULL || len == 0 || len > BMTRACK_MAX_BM)
		return (-1);
	if (bm_set(&sub->persisted, bm, len) != 0)
		return (-1);
	if (!sub->live || sub->nq != 0)
		return (0);
	if (amps_bm_parse(bm, len, &pub, &seq) != 0)
		return (0);	/* only real bookmarks become resume points */
	if (bmsub_covered(sub, pub, seq))
		return (0);	/* not news */
	if (bmsub_raise(sub, pub, seq) != 0 ||
	    bm_set(&sub->resume, bm, len) != 0)
		return (-1);
	return (1);
}

/* Mark the subscription's replay over (1) or running (0). */
void
bmtrack_live(struct bmsub *sub, int on)
{
	sub->live = (on != 0);
}

/* Copy s into out like snprintf at offset off; return off + strlen(s). */
static size_t
bm_put(char *out, size_t cap, size_t off, const char *s, size_t len)
{
	size_t	 n;

	if (off < cap) {
		n = cap - off - 1;
		if (n > len)
			n = len;
		memcpy(out + off, s, n);
		out[off + n] = '\0';
	}
	return (off + len);
}

/* Write the "P|max|,..." list; returns the length it needs. */
int
bmsub_popped_list(const struct bmsub *sub, char *out, size_t cap)
{
	char	 item[48];
	size_t	 i, off = 0;
	int	 n;

	if (cap > 0)
		out[0] = '\0';
	for (i = 0; i < sub->npubs; i++) {
		if (i > 0)
			off = bm_put(out, cap, off, ",", 1);
		n = amps_bm_format(item, sizeof item, sub->pubs[i].pub,
		    sub->pubs[i].max);
		if (n < 0 || (size_t)n >= sizeof item)
			continue;
		off = bm_put(out, cap, off, item, (size_t)n);
	}
	return ((int)off);
}

/*
 * MOST_RECENT for a subscription (PROTOCOL.md §8.6 most_recent()), written like
 * snprintf.  See bmtrack.h for the cases.
 */
int
bmsub_most_recent(const struct bmsub *sub, int flags, char *out, size_t cap)
{
	const char	*s;

	if (cap > 0)
		out[0] = '\0';
	if (sub->resume[0] == '\0') {
		s = sub->start;
		if (strcmp(s, AMPS_BOOKMARK_NOW) == 0 &&
		    sub->persisted[0] != '\0')
			s = sub->persisted;
		return ((int)bm_put(out, cap, 0, s, strlen(s)));
	}
	if ((flags & BMTRACK_LIST) && sub->npubs > 0)
		return (bmsub_popped_list(sub, out, cap));
	return ((int)bm_put(out, cap, 0, sub->resume, strlen(sub->resume)));
}

/* MOST_RECENT by sub_id; EPOCH ("0") when unknown. */
int
bmtrack_most_recent(struct bmtrack *bt, const char *sub_id, int flags,
    char *out, size_t cap)
{
	struct bmsub	*sub;

	if ((sub = bmtrack_get(bt, sub_id)) == NULL)
		return ((int)bm_put(out, cap, 0, AMPS_BOOKMARK_EPOCH,
		    strlen(AMPS_BOOKMARK_EPOCH)));
	return (bmsub_most_recent(sub, flags, out, cap));
}

/* The resume point ("" if nothing was popped yet). */
const char *
bmsub_resume(const struct bmsub *sub)
{
	return (sub->resume);
}

/* The start bookmark ("0" for EPOCH or MOST_RECENT). */
const char *
bmsub_start(const struct bmsub *sub)
{
	return (sub->start);
}

/* The sub_id. */
const char *
bmsub_id(const struct bmsub *sub)
{
	return (sub->id);
}

/* Entries logged and not yet popped. */
size_t
bmsub_queued(const struct bmsub *sub)
{
	return (sub->nq);
}

/*
 * Restore the resume point and the popped maxima ("P|max|" list) after a
 * restart.  Unparsable list items are skipped.  Returns 0 or -1.
 */
int
bmsub_restore(struct bmsub *sub, const char *resume, const char *list)
{
	struct amps_list_iter	 it;
	const char		*item;
	size_t			 len;
	uint64_t		 pub, seq;

	if (resume != NULL) {
		len = strlen(resume);
		if (len > BMTRACK_MAX_BM || bm_set(&sub->resume, resume,
		    len) != 0)
			return (-1);
	}
	if (list == NULL)
		return (0);
	amps_list_begin(&it, list, strlen(list));
	while (amps_list_next(&it, &item, &len)) {
		if (amps_bm_parse(item, len, &pub, &seq) != 0)
			continue;
		if (bmsub_raise(sub, pub, seq) != 0)
			return (-1);
	}
	return (0);
}

/*
 * Restore one bookmark discarded out of order before a restart.  Ignored
 * if the popped prefix already covers it.  Returns 0 (kept), 1 (covered,
 * ignored) or -1.
 */
int
bmsub_restore_discarded(struct bmsub *sub, const char *bm, size_t len)
{
	struct bment	*e;
	uint32_t	 hv;

	if (bm == NULL || len == 0 || len > BMTRACK_MAX_BM)
		return (-1);
	hv = bm_hash(bm, len);
	if (bmhash_find(&sub->pre, bm, len, hv) != NULL ||
	    bmhash_find(&sub->seen, bm, len, hv) != NULL)
		return (0);
	if ((e = bment_new(bm, len, hv)) == NULL)
		return (-1);
	if (e->parsed && bmsub_covered(sub, e->pub, e->seq)) {
		free(e);
		return (1);
	}
	if (bmhash_insert(&sub->pre, e) != 0) {
		free(e);
		return (-1);
	}
	return (0);
}

/* The first subscription, or NULL. */
struct bmsub *
bmtrack_first(struct bmtrack *bt)
{
	return (bt->subs);
}

/* The subscription after sub, or NULL. */
struct bmsub *
bmtrack_next(struct bmtrack *bt, struct bmsub *sub)
{
	return (sub->next);
}
