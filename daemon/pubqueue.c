/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * pubqueue.c: an in-memory queue of publish records ordered by sequence
 * (see pubqueue.h).  It owns the records' memory: large blocks filled in
 * append order, and a ring of pointers to the records for lookup by
 * position and by seq.  Pure: no I/O.
 *
 * Invariants:
 *  1. ring[head .. head + n) holds the records in strictly increasing
 *     seq order; live counts those not dead.
 *  2. Blocks form a FIFO in append order and records leave only from the
 *     front, so every record of block b is older than every record of
 *     b->next: the front record always lives in the first block that
 *     still has records.  A block is freed when all the records it got
 *     have left; the last block is reset and reused instead.
 *  3. bytes is the memory held (blocks, the spare included, plus the
 *     ring); rec_bytes the sizes of the live records.  Both are exact at
 *     every return.
 *  4. At most one emptied block of the standard size is kept (spare)
 *     for the next block needed, so a steady stream does not map and
 *     unmap (and fault in) a fresh block every PQ_BLOCK bytes.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pubqueue.h"

#define PQ_BLOCK	(256U * 1024)
#define PQ_ALIGN	8
#define PQ_RING0	1024

struct pubqueue_blk {
	struct pubqueue_blk	*next;
	size_t			 size;		/* usable bytes after this */
	size_t			 used;
	size_t			 nrecs;		/* records placed here */
	size_t			 gone;		/* ... that have left */
};

/* Round up to the record alignment. */
static size_t
pq_align(size_t n)
{
	return ((n + PQ_ALIGN - 1) & ~(size_t)(PQ_ALIGN - 1));
}

/* Bytes a record takes in a block (header, parts, padding). */
size_t
pubqueue_rec_size(size_t topic_len, size_t hdr_len, size_t data_len)
{
	return (pq_align(sizeof(struct pubqueue_rec) + topic_len + hdr_len +
	    data_len));
}

/* An empty queue. */
void
pubqueue_init(struct pubqueue *q)
{
	memset(q, 0, sizeof *q);
}

/* Free every block and the ring. */
void
pubqueue_free(struct pubqueue *q)
{
	struct pubqueue_blk	*b, *nb;

	for (b = q->first; b != NULL; b = nb) {
		nb = b->next;
		free(b);
	}
	free(q->spare);
	free(q->ring);
	pubqueue_init(q);
}

/* Double the ring (or create it), keeping the order.  0 or -1. */
static int
pq_grow_ring(struct pubqueue *q)
{
	struct pubqueue_rec	**nr;
	size_t			  ncap, i;

	ncap = q->cap == 0 ? PQ_RING0 : q->cap * 2;
	if (ncap < q->cap || ncap > SIZE_MAX / sizeof *nr)
		return (-1);
	if ((nr = calloc(ncap, sizeof *nr)) == NULL)
		return (-1);
	for (i = 0; i < q->n; i++)
		nr[i] = q->ring[(q->head + i) & (q->cap - 1)];
	free(q->ring);
	q->bytes += (ncap - q->cap) * sizeof *nr;
	q->ring = nr;
	q->cap = ncap;
	q->head = 0;
	return (0);
}

/* Room for need bytes at the end of the last block, or a new block. */
static void *
pq_room(struct pubqueue *q, size_t need)
{
	struct pubqueue_blk	*b = q->last;
	size_t			 size;
	void			*p;

	if (b == NULL || b->size - b->used < need) {
		size = need > PQ_BLOCK ? need : PQ_BLOCK;
		if (size == PQ_BLOCK && q->spare != NULL) {
			b = q->spare;		/* invariant 4 */
			q->spare = NULL;
		} else {
			if (size > SIZE_MAX - sizeof *b ||
			    (b = malloc(sizeof *b + size)) == NULL)
				return (NULL);
			q->bytes += sizeof *b + size;
		}
		b->next = NULL;
		b->size = size;
		b->used = b->nrecs = b->gone = 0;
		if (q->last != NULL)
			q->last->next = b;
		else
			q->first = b;
		q->last = b;
	}
	p = (char *)(b + 1) + b->used;
	b->used += need;
	b->nrecs++;
	return (p);
}

/* Append a copy of a record (invariant 1).  NULL on failure. */
struct pubqueue_rec *
pubqueue_push(struct pubqueue *q, uint64_t seq, int kind, const void *topic,
    size_t topic_len, const void *hdr, size_t hdr_len, const void *data,
    size_t data_len)
{
	struct pubqueue_rec	*r;
	char			*p;
	size_t			 size;

	if (q->n > 0 && seq <= pubqueue_last_seq(q))
		return (NULL);
	if (topic_len > UINT32_MAX || hdr_len > UINT32_MAX ||
	    data_len > UINT32_MAX || topic_len + hdr_len + data_len >
	    SIZE_MAX - sizeof *r - PQ_ALIGN)
		return (NULL);
	if (q->n == q->cap && pq_grow_ring(q) != 0)
		return (NULL);
	size = pubqueue_rec_size(topic_len, hdr_len, data_len);
	if ((r = pq_room(q, size)) == NULL)
		return (NULL);
	r->seq = seq;
	r->topic_len = (uint32_t)topic_len;
	r->hdr_len = (uint32_t)hdr_len;
	r->data_len = (uint32_t)data_len;
	r->kind = (uint8_t)kind;
	r->dead = 0;
	p = (char *)(r + 1);
	if (topic_len > 0)
		memcpy(p, topic, topic_len);
	if (hdr_len > 0)
		memcpy(p + topic_len, hdr, hdr_len);
	if (data_len > 0)
		memcpy(p + topic_len + hdr_len, data, data_len);
	q->ring[(q->head + q->n) & (q->cap - 1)] = r;
	q->n++;
	q->live++;
	q->rec_bytes += size;
	return (r);
}

/* The front record left: account for it in its block (invariant 2). */
static void
pq_left(struct pubqueue *q)
{
	struct pubqueue_blk	*b = q->first;

	if (b == NULL)
		return;
	if (++b->gone < b->nrecs)
		return;
	if (b == q->last) {
		b->used = b->nrecs = b->gone = 0;
		return;
	}
	q->first = b->next;
	if (b->size == PQ_BLOCK && q->spare == NULL)
		q->spare = b;		/* invariant 4 */
	else {
		q->bytes -= sizeof *b + b->size;
		free(b);
	}
}

/* Drop the records with seq <= upto from the front. */
size_t
pubqueue_pop_upto(struct pubqueue *q, uint64_t upto)
{
	struct pubqueue_rec	*r;
	size_t			 popped = 0;

	while (q->n > 0) {
		r = q->ring[q->head];
		if (r->seq > upto)
			break;
		if (!r->dead) {
			popped++;
			q->live--;
			q->rec_bytes -= pubqueue_rec_size(r->topic_len,
			    r->hdr_len, r->data_len);
		}
		q->head = (q->head + 1) & (q->cap - 1);
		q->n--;
		pq_left(q);
	}
	return (popped);
}

/* Position of the first record with seq > after. */
size_t
pubqueue_find_after(const struct pubqueue *q, uint64_t after)
{
	size_t	lo = 0, hi = q->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (pubqueue_at(q, mid)->seq <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo);
}

/* The i-th record from the front. */
struct pubqueue_rec *
pubqueue_at(const struct pubqueue *q, size_t i)
{
	return (q->ring[(q->head + i) & (q->cap - 1)]);
}

/* Mark record seq dead. */
int
pubqueue_remove(struct pubqueue *q, uint64_t seq)
{
	struct pubqueue_rec	*r;
	size_t			 i;

	if (seq == 0)
		return (0);
	i = pubqueue_find_after(q, seq - 1);
	if (i == q->n || (r = pubqueue_at(q, i))->seq != seq || r->dead)
		return (0);
	r->dead = 1;
	q->live--;
	q->rec_bytes -= pubqueue_rec_size(r->topic_len, r->hdr_len,
	    r->data_len);
	return (1);
}

/* Highest seq held, 0 when empty. */
uint64_t
pubqueue_last_seq(const struct pubqueue *q)
{
	if (q->n == 0)
		return (0);
	return (pubqueue_at(q, q->n - 1)->seq);
}
