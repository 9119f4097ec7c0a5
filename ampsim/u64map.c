/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * u64map.c: a u64 -> u64 open-addressing hash map (linear probing, key 0
 * allowed, no deletion) for ampsim's transaction-log indexes.  Pure.
 *
 * It grows incrementally: when a put would fill the table past half, a
 * table twice as large takes the new keys and the old one's slots move
 * over U64MAP_STEP at a time on the following puts.  A log of millions
 * of records therefore never stops for a whole rehash, which used to be a
 * stall of milliseconds on the publish path (tail latency, issue 13).
 *
 * Invariants:
 *  1. A key is in exactly one of t and old: in old only while its slot
 *     is at or after opos (not moved yet); a put of such a key updates it
 *     in old.
 *  2. n counts the keys of both tables; t is at most half full.
 *  3. old is emptied before t is half full again: at the doubling old
 *     holds at most t.cap / 4 keys in t.cap / 2 slots, and every put
 *     moves U64MAP_STEP (>= 2) slots, so it is empty after t.cap / 32
 *     puts, long before the t.cap / 4 that would fill t to half.
 *  4. Allocation failure aborts (test server).
 */

#include <stdlib.h>
#include <string.h>

#include "u64map.h"

/* calloc or abort (invariant 4). */
static void *
u64_calloc(size_t n, size_t sz)
{
	void	*p;

	if ((p = calloc(n, sz)) == NULL)
		abort();
	return (p);
}

/* Mix a 64-bit key (splitmix64 finaliser). */
static uint64_t
u64mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return (x);
}

#define U64MAP_STEP	16	/* old slots moved per put */

/* Slot of k in t, or where it would go. */
static size_t
u64tab_slot(const struct u64tab *t, uint64_t k)
{
	size_t	i = u64mix(k) & (t->cap - 1);

	while (t->used[i] && t->keys[i] != k)
		i = (i + 1) & (t->cap - 1);
	return (i);
}

/* Insert or replace in t (which has room); 1 if k is new there. */
static int
u64tab_put(struct u64tab *t, uint64_t k, uint64_t v)
{
	size_t	i = u64tab_slot(t, k);
	int	new = !t->used[i];

	t->used[i] = 1;
	t->keys[i] = k;
	t->vals[i] = v;
	return (new);
}

static void
u64tab_free(struct u64tab *t)
{
	free(t->keys);
	free(t->vals);
	free(t->used);
	memset(t, 0, sizeof *t);
}

/*
 * Move up to max slots of the old table into the new one; free the old
 * table when it is empty.  Keys are never in both tables: a put of a key
 * still in the old table updates it there.
 */
static void
u64map_move(struct u64map *m, size_t max)
{
	size_t	i;

	for (i = 0; i < max && m->opos < m->old.cap; i++, m->opos++)
		if (m->old.used[m->opos])
			u64tab_put(&m->t, m->old.keys[m->opos],
			    m->old.vals[m->opos]);
	if (m->old.cap > 0 && m->opos == m->old.cap)
		u64tab_free(&m->old);
}

/*
 * Start doubling: the current table becomes the old one, moved over the
 * next puts (U64MAP_STEP slots each, enough to finish before the new
 * table is half full again).
 */
static void
u64map_grow(struct u64map *m)
{
	if (m->old.cap > 0)
		u64map_move(m, m->old.cap);	/* not expected: finish */
	m->old = m->t;
	m->opos = 0;
	m->t.cap = m->old.cap ? m->old.cap * 2 : 64;
	m->t.keys = u64_calloc(m->t.cap, sizeof *m->t.keys);
	m->t.vals = u64_calloc(m->t.cap, sizeof *m->t.vals);
	m->t.used = u64_calloc(m->t.cap, 1);
	if (m->old.cap == 0)
		u64tab_free(&m->old);
}

/* Insert or replace. */
void
u64map_put(struct u64map *m, uint64_t k, uint64_t v)
{
	size_t	i;

	if (m->old.cap > 0) {
		i = u64tab_slot(&m->old, k);
		if (m->old.used[i] && i >= m->opos) {
			m->old.vals[i] = v;	/* still to be moved */
			u64map_move(m, U64MAP_STEP);
			return;
		}
	}
	if (m->t.cap > 0) {
		i = u64tab_slot(&m->t, k);
		if (m->t.used[i]) {
			m->t.vals[i] = v;	/* a known key: no growth */
			u64map_move(m, U64MAP_STEP);
			return;
		}
	}
	if ((m->n + 1) * 2 > m->t.cap)
		u64map_grow(m);
	m->n += (size_t)u64tab_put(&m->t, k, v);
	u64map_move(m, U64MAP_STEP);
}

/* Look up in t; 1 with *v when found. */
static int
u64tab_get(const struct u64tab *t, uint64_t k, uint64_t *v)
{
	size_t	i;

	if (t->cap == 0)
		return (0);
	i = u64tab_slot(t, k);
	if (!t->used[i])
		return (0);
	*v = t->vals[i];
	return (1);
}

/* Look up; returns 1 and sets *v when found. */
int
u64map_get(const struct u64map *m, uint64_t k, uint64_t *v)
{
	return (u64tab_get(&m->t, k, v) || u64tab_get(&m->old, k, v));
}

/* Release a map. */
void
u64map_free(struct u64map *m)
{
	u64tab_free(&m->t);
	u64tab_free(&m->old);
	memset(m, 0, sizeof *m);
}
