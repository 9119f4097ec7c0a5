/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * subindex.c: the list of all subscriptions (all_subs) and its index by
 * topic, for the fan-out (subs.c).  A subscription whose topic is a
 * literal (not a regex, §12.8) and that is not a queue replay is filed
 * under its topic; every other one is in the "wild" list, tried against
 * every message.  A publish to topic T is then offered to the
 * subscriptions filed under T and to the wild ones, merged back into the
 * order of all_subs, so the fan-out sees exactly the subscriptions (and
 * in the order) a scan of all_subs would have kept: with thousands of
 * literal subscriptions a publish no longer costs a pass over all of
 * them (issue 13, the scale benchmark).
 *
 * Invariants:
 *  1. A linked subscription is in all_subs and in exactly one index
 *     list: its topic's (literal, not a queue replay) or wild; an
 *     unlinked one is in none.  subindex_link()/_unlink() are the only
 *     places that change all_subs.
 *  2. order increases along all_subs, and every index list is in
 *     all_subs order, so merging two lists by order gives all_subs
 *     order.
 *  3. A topic's entry exists exactly while its list is not empty.
 */

#include <stdlib.h>
#include <string.h>

#include "ampsim.h"
#include "strmap.h"
#include "topicmatch.h"

/* The subscriptions filed under one literal topic. */
struct subtopic {
	struct strmap_node	 node;
	char			*topic;
	struct sublist		 subs;	/* by order, via ientry */
};

struct sublist		 all_subs = TAILQ_HEAD_INITIALIZER(all_subs);
static struct sublist	 wild = TAILQ_HEAD_INITIALIZER(wild);
static struct strmap	 topics;
static uint64_t		 next_order = 1;

/* Whether sub goes under its topic (else: wild). */
static int
subindex_literal(const struct sub *sub)
{
	return (sub->tm != NULL && !topicmatch_is_regex(sub->tm) &&
	    sub->replay_q == NULL && sub->topic != NULL);
}

/* Insert sub into l by order, from the tail (invariant 2). */
static void
subindex_insert(struct sublist *l, struct sub *sub)
{
	struct sub	*o;

	for (o = TAILQ_LAST(l, sublist); o != NULL && o->order > sub->order;
	    o = TAILQ_PREV(o, sublist, ientry))
		;
	if (o != NULL)
		TAILQ_INSERT_AFTER(l, o, sub, ientry);
	else
		TAILQ_INSERT_HEAD(l, sub, ientry);
}

/* File sub (linked in all_subs already) in the index (invariant 1). */
static void
subindex_file(struct sub *sub)
{
	struct strmap_node	*n;
	struct subtopic		*t;

	if (!subindex_literal(sub)) {
		sub->itopic = NULL;
		subindex_insert(&wild, sub);
		return;
	}
	if (topics.nb == 0)
		strmap_init(&topics);
	if ((n = strmap_find(&topics, sub->topic)) != NULL)
		t = STRMAP_ENTRY(n, struct subtopic, node);
	else {
		t = xcalloc(1, sizeof *t);
		t->topic = xstrdup(sub->topic);
		TAILQ_INIT(&t->subs);
		strmap_insert(&topics, &t->node, t->topic);
	}
	sub->itopic = t;
	subindex_insert(&t->subs, sub);
}

/* Take sub out of its index list (invariant 3). */
static void
subindex_unfile(struct sub *sub)
{
	struct subtopic	*t = sub->itopic;

	if (t == NULL) {
		TAILQ_REMOVE(&wild, sub, ientry);
		return;
	}
	TAILQ_REMOVE(&t->subs, sub, ientry);
	sub->itopic = NULL;
	if (TAILQ_EMPTY(&t->subs)) {
		strmap_remove(&topics, &t->node);
		free(t->topic);
		free(t);
	}
}

/* Append sub to all_subs and file it. */
void
subindex_link(struct sub *sub)
{
	sub->order = next_order++;
	sub->linked = 1;
	TAILQ_INSERT_TAIL(&all_subs, sub, gentry);
	subindex_file(sub);
}

/* Remove sub from all_subs and the index (no-op if not linked). */
void
subindex_unlink(struct sub *sub)
{
	if (!sub->linked)
		return;
	subindex_unfile(sub);
	TAILQ_REMOVE(&all_subs, sub, gentry);
	sub->linked = 0;
}

/*
 * sub became or stopped being a queue replay (a bookmark subscription to
 * a queue replays other topics): file it again, keeping its place in
 * all_subs.
 */
void
subindex_refile(struct sub *sub)
{
	if (!sub->linked)
		return;
	subindex_unfile(sub);
	subindex_file(sub);
}

/* Start iterating the candidates for a message on topic. */
void
subindex_begin(struct subindex_iter *it, const char *topic)
{
	struct strmap_node	*n;

	it->a = NULL;
	if (topics.nb > 0 && (n = strmap_find(&topics, topic)) != NULL)
		it->a = TAILQ_FIRST(&STRMAP_ENTRY(n, struct subtopic,
		    node)->subs);
	it->b = TAILQ_FIRST(&wild);
}

/*
 * The next candidate in all_subs order (invariant 2), or NULL.  The
 * cursor moves past the returned subscription first, so the caller may
 * unlink it.
 */
struct sub *
subindex_next(struct subindex_iter *it)
{
	struct sub	*s;

	if (it->a != NULL && (it->b == NULL || it->a->order < it->b->order)) {
		s = it->a;
		it->a = TAILQ_NEXT(s, ientry);
	} else if ((s = it->b) != NULL)
		it->b = TAILQ_NEXT(s, ientry);
	return (s);
}
