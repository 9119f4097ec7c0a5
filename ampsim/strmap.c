/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Intrusive indexes for the ampsim stores: a chained string hash map and
 * an indexed binary min-heap.  Owns only the bucket and heap arrays; the
 * nodes belong to the caller.
 *
 * Invariants:
 *  1. A map node is in exactly one bucket chain, the one selected by
 *     hash & (nb - 1); n counts the nodes; nb is 0 or a power of two.
 *  2. The map grows (doubling) when n exceeds nb, so chains stay short.
 *  3. A heap node's idx is its position in v, or THEAP_NONE when it is
 *     not in the heap; every parent is <= its children by (when, tie).
 *  4. Allocation failure aborts (test server).
 */

#include <stdlib.h>
#include <string.h>

#include "strmap.h"

/* Allocate or abort. */
static void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		abort();
	p = realloc(p, n * size);
	if (p == NULL)
		abort();
	return (p);
}

/* FNV-1a of a string. */
static uint64_t
strmap_hash(const char *s)
{
	uint64_t	h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return (h);
}

/* Initialise an empty map. */
void
strmap_init(struct strmap *m)
{
	m->b = NULL;
	m->nb = 0;
	m->n = 0;
}

/* Free the bucket array (the nodes are the caller's). */
void
strmap_free(struct strmap *m)
{
	free(m->b);
	strmap_init(m);
}

/* Find the node with key, or NULL. */
struct strmap_node *
strmap_find(const struct strmap *m, const char *key)
{
	struct strmap_node	*nd;
	uint64_t		 h;

	if (m->nb == 0)
		return (NULL);
	h = strmap_hash(key);
	for (nd = m->b[h & (m->nb - 1)]; nd != NULL; nd = nd->next) {
		if (nd->hash == h && strcmp(nd->key, key) == 0)
			return (nd);
	}
	return (NULL);
}

/* Double the bucket array and rehash. */
static void
strmap_grow(struct strmap *m)
{
	struct strmap_node	**nb, *nd, *next;
	size_t			  i, size;

	size = m->nb == 0 ? 64 : m->nb * 2;
	nb = xreallocarray(NULL, size, sizeof *nb);
	for (i = 0; i < size; i++)
		nb[i] = NULL;
	for (i = 0; i < m->nb; i++) {
		for (nd = m->b[i]; nd != NULL; nd = next) {
			next = nd->next;
			nd->next = nb[nd->hash & (size - 1)];
			nb[nd->hash & (size - 1)] = nd;
		}
	}
	free(m->b);
	m->b = nb;
	m->nb = size;
}

/* Insert nd under key (which must outlive it and not be present yet). */
void
strmap_insert(struct strmap *m, struct strmap_node *nd, const char *key)
{
	size_t	i;

	if (m->n >= m->nb)
		strmap_grow(m);
	nd->key = key;
	nd->hash = strmap_hash(key);
	i = nd->hash & (m->nb - 1);
	nd->next = m->b[i];
	m->b[i] = nd;
	m->n++;
}

/* Unlink nd, which must be in the map. */
void
strmap_remove(struct strmap *m, struct strmap_node *nd)
{
	struct strmap_node	**pp;

	pp = &m->b[nd->hash & (m->nb - 1)];
	while (*pp != nd)
		pp = &(*pp)->next;
	*pp = nd->next;
	nd->next = NULL;
	m->n--;
}

/* Initialise an empty heap. */
void
theap_init(struct theap *h)
{
	h->v = NULL;
	h->n = 0;
	h->cap = 0;
}

/* Free the heap array; nodes are left with stale idx. */
void
theap_free(struct theap *h)
{
	free(h->v);
	theap_init(h);
}

/* 1 when a sorts before b. */
static int
theap_less(const struct theap_node *a, const struct theap_node *b)
{
	if (a->when != b->when)
		return (a->when < b->when);
	return (a->tie < b->tie);
}

/* Put nd at position i. */
static void
theap_set(struct theap *h, size_t i, struct theap_node *nd)
{
	h->v[i] = nd;
	nd->idx = i;
}

/* Move the node at i up to its place. */
static void
theap_up(struct theap *h, size_t i)
{
	struct theap_node	*nd = h->v[i];
	size_t			 parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (!theap_less(nd, h->v[parent]))
			break;
		theap_set(h, i, h->v[parent]);
		i = parent;
	}
	theap_set(h, i, nd);
}

/* Move the node at i down to its place. */
static void
theap_down(struct theap *h, size_t i)
{
	struct theap_node	*nd = h->v[i];
	size_t			 c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && theap_less(h->v[c + 1], h->v[c]))
			c++;
		if (!theap_less(h->v[c], nd))
			break;
		theap_set(h, i, h->v[c]);
		i = c;
	}
	theap_set(h, i, nd);
}

/* Add nd (not already in a heap) using its when and tie. */
void
theap_insert(struct theap *h, struct theap_node *nd)
{
	if (h->n == h->cap) {
		h->cap = h->cap == 0 ? 64 : h->cap * 2;
		h->v = xreallocarray(h->v, h->cap, sizeof *h->v);
	}
	theap_set(h, h->n, nd);
	h->n++;
	theap_up(h, h->n - 1);
}

/* Remove nd if it is in the heap. */
void
theap_remove(struct theap *h, struct theap_node *nd)
{
	size_t			 i = nd->idx;
	struct theap_node	*last;

	if (i == THEAP_NONE || i >= h->n || h->v[i] != nd)
		return;
	nd->idx = THEAP_NONE;
	last = h->v[--h->n];
	if (i == h->n)
		return;
	theap_set(h, i, last);
	theap_up(h, i);
	theap_down(h, last->idx);
}

/* The smallest node, or NULL. */
struct theap_node *
theap_min(const struct theap *h)
{
	return (h->n == 0 ? NULL : h->v[0]);
}
