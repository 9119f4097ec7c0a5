/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * bmindex.c: ampsim's bookmark index, (publisher, sequence) -> record
 * index of the transaction log, and each publisher's highest sequence.
 * Pure; a zeroed struct is an empty index.
 *
 * Per publisher (found through a u64map, which grows incrementally) the
 * entries are kept sorted by sequence in blocks that are appended to and
 * never moved: a publisher's sequences arrive in increasing order
 * (ampsim accepts a sequence only above the highest of its publisher,
 * publish.c invariant 1, and the log is replayed in its order), so a put
 * is an append to the last block, and a lookup is a binary search over
 * the blocks' first sequences, then within the block.  Unlike a hash of
 * (pub, seq), nothing is ever rehashed or copied as a whole (a stall of
 * milliseconds on a log of millions, tail latency), and keys are exact
 * (no hash of the pair that two pairs could share).
 *
 * Invariants:
 *  1. Within a publisher, the entries of blk[0..nblk) read in order are
 *     strictly increasing in seq; every block but the last is full.
 *  2. A put of the last seq again, or of any seq already present,
 *     replaces its record index (the latest record of an identity holds
 *     its bookmark).
 *  3. A put below the publisher's last seq that is not present (never
 *     done by ampsim itself, kept for safety) goes to the sorted ooo
 *     array; bmindex_max() is the last seq of the blocks, which is
 *     above every ooo entry.
 *  4. Blocks double in size from BMBLK_MIN to BMBLK_MAX entries, so a
 *     publisher with few messages costs little memory, and no block is
 *     ever reallocated once created.
 *  5. Allocation failure aborts (test server).
 *  6. bmindex_prefault() may make a publisher's next block ahead of
 *     need, once the last one has less than BM_AHEAD entries of room
 *     (p->next, empty, all its pages touched bit by bit, since a first
 *     touch of a page is a fault that costs a burst on the hot path
 *     tens of microseconds on some VMs); bm_append() takes it instead
 *     of allocating.  It changes no entry and no lookup.
 */

#include <stdlib.h>
#include <string.h>

#include "bmindex.h"

#define BMBLK_MIN	16
#define BMBLK_MAX	8192
#define BM_AHEAD	1024	/* entries of room prefault keeps made */
#define BM_PAGE		4096

/* malloc/realloc or abort (invariant 5). */
static void *
bm_realloc(void *p, size_t n, size_t sz)
{
	if (sz != 0 && n > SIZE_MAX / sz)
		abort();
	if ((p = realloc(p, n * sz)) == NULL)
		abort();
	return (p);
}

/* The publisher pub, or NULL. */
static struct bmpub *
bm_pub(const struct bmindex *x, uint64_t pub)
{
	uint64_t	i;

	if (!u64map_get(&x->map, pub, &i) || i >= x->npubs)
		return (NULL);
	return (x->pubs[i]);
}

/* Index of the last block whose first seq is <= seq; -1 when none. */
static long long
bm_block_of(const struct bmpub *p, uint64_t seq)
{
	size_t	lo = 0, hi = p->nblk, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (p->blk[mid]->e[0].seq <= seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return ((long long)lo - 1);
}

/* Position of the first entry with seq >= s in e[0..n). */
static size_t
bm_lower(const struct bment *e, size_t n, uint64_t s)
{
	size_t	lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (e[mid].seq < s)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo);
}

/* The entry of seq in p's blocks or ooo, or NULL. */
static struct bment *
bm_find(const struct bmpub *p, uint64_t seq)
{
	struct bmblk	*b;
	long long	 k;
	size_t		 i;

	if ((k = bm_block_of(p, seq)) >= 0) {
		b = p->blk[k];
		i = bm_lower(b->e, b->n, seq);
		if (i < b->n && b->e[i].seq == seq)
			return (&b->e[i]);
	}
	i = bm_lower(p->ooo, p->nooo, seq);
	if (i < p->nooo && p->ooo[i].seq == seq)
		return (&p->ooo[i]);
	return (NULL);
}

/* Capacity of the block after b (NULL: the first) (invariant 4). */
static size_t
bm_next_cap(const struct bmblk *b)
{
	if (b == NULL)
		return (BMBLK_MIN);
	return (b->cap < BMBLK_MAX ? b->cap * 2 : BMBLK_MAX);
}

/* A new empty block of cap entries. */
static struct bmblk *
bm_block_new(size_t cap)
{
	struct bmblk	*b;

	b = bm_realloc(NULL, 1, sizeof *b + cap * sizeof b->e[0]);
	b->n = 0;
	b->cap = cap;
	return (b);
}

/* Append (seq, idx) after the last entry of p (invariants 1, 4, 6). */
static void
bm_append(struct bmpub *p, uint64_t seq, uint64_t idx)
{
	struct bmblk	*b = p->nblk ? p->blk[p->nblk - 1] : NULL;

	if (b == NULL || b->n == b->cap) {
		if (p->nblk == p->capblk) {
			p->capblk = p->capblk ? p->capblk * 2 : 4;
			p->blk = bm_realloc(p->blk, p->capblk, sizeof *p->blk);
		}
		if (p->next != NULL) {
			b = p->next;
			p->next = NULL;
		} else
			b = bm_block_new(bm_next_cap(b));
		p->blk[p->nblk++] = b;
	}
	b->e[b->n].seq = seq;
	b->e[b->n].idx = idx;
	b->n++;
	p->n++;
}

/* Insert an out-of-order (seq, idx) into the sorted ooo (invariant 3). */
static void
bm_insert_ooo(struct bmpub *p, uint64_t seq, uint64_t idx)
{
	size_t	i = bm_lower(p->ooo, p->nooo, seq);

	if (p->nooo == p->capooo) {
		p->capooo = p->capooo ? p->capooo * 2 : 16;
		p->ooo = bm_realloc(p->ooo, p->capooo, sizeof *p->ooo);
	}
	memmove(p->ooo + i + 1, p->ooo + i, (p->nooo - i) * sizeof *p->ooo);
	p->ooo[i].seq = seq;
	p->ooo[i].idx = idx;
	p->nooo++;
}

void
bmindex_put(struct bmindex *x, uint64_t pub, uint64_t seq, uint64_t idx)
{
	struct bmpub	*p;
	struct bmblk	*last;
	struct bment	*e;

	if ((p = bm_pub(x, pub)) == NULL) {
		if (x->npubs == x->cappubs) {
			x->cappubs = x->cappubs ? x->cappubs * 2 : 16;
			x->pubs = bm_realloc(x->pubs, x->cappubs,
			    sizeof *x->pubs);
		}
		p = bm_realloc(NULL, 1, sizeof *p);
		memset(p, 0, sizeof *p);
		u64map_put(&x->map, pub, x->npubs);
		x->pubs[x->npubs++] = p;
	}
	last = p->nblk ? p->blk[p->nblk - 1] : NULL;
	if (last == NULL || seq > last->e[last->n - 1].seq) {
		bm_append(p, seq, idx);
		x->n++;
		x->hot = p;
		return;
	}
	if ((e = bm_find(p, seq)) != NULL) {
		e->idx = idx;		/* invariant 2 */
		return;
	}
	bm_insert_ooo(p, seq, idx);
	x->n++;
}

int
bmindex_get(const struct bmindex *x, uint64_t pub, uint64_t seq,
    uint64_t *idx)
{
	const struct bmpub	*p;
	const struct bment	*e;

	if ((p = bm_pub(x, pub)) == NULL || (e = bm_find(p, seq)) == NULL)
		return (0);
	*idx = e->idx;
	return (1);
}

uint64_t
bmindex_max(const struct bmindex *x, uint64_t pub)
{
	const struct bmpub	*p;
	const struct bmblk	*last;

	if ((p = bm_pub(x, pub)) == NULL || p->nblk == 0)
		return (0);
	last = p->blk[p->nblk - 1];
	return (last->e[last->n - 1].seq);
}

int
bmindex_prefault(struct bmindex *x, size_t *budget)
{
	struct bmpub	*p = x->hot;
	struct bmblk	*last;
	volatile char	*v;
	size_t		 want;

	if (p == NULL || p->nblk == 0)
		return (0);
	last = p->blk[p->nblk - 1];
	if (last->cap - last->n >= BM_AHEAD)
		return (0);
	if (p->next == NULL) {
		p->next = bm_block_new(bm_next_cap(last));
		p->next_touched = 0;
	}
	want = p->next->cap * sizeof p->next->e[0];	/* all of it */
	v = (volatile char *)p->next->e;
	while (p->next_touched < want && *budget > 0) {
		v[p->next_touched] = 0;	/* an unused entry's byte */
		/* On to the start of the next page. */
		p->next_touched += BM_PAGE -
		    ((uintptr_t)(v + p->next_touched) & (BM_PAGE - 1));
		*budget = *budget > BM_PAGE ? *budget - BM_PAGE : 0;
	}
	return (p->next_touched < want);
}

void
bmindex_free(struct bmindex *x)
{
	size_t	i, j;

	for (i = 0; i < x->npubs; i++) {
		free(x->pubs[i]->next);
		for (j = 0; j < x->pubs[i]->nblk; j++)
			free(x->pubs[i]->blk[j]);
		free(x->pubs[i]->blk);
		free(x->pubs[i]->ooo);
		free(x->pubs[i]);
	}
	free(x->pubs);
	u64map_free(&x->map);
	memset(x, 0, sizeof *x);
}
