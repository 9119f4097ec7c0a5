/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * outq.c: one program's IPC output queue (docs/IPC.md §9).
 *
 * A byte buffer of whole IPC frames (16-byte header: u32 length, u16
 * type, u16 flags, u32 reqid, all little-endian).  The writer takes
 * bytes from the front and may stop inside a frame.
 *
 *	buf:  [written ....|frame being written|frames not started ...]
 *	      0          fstart     off         next                 len
 *
 * A hold point (hold_at, while holding) splits what may be written now
 * from what waits (ipc-client.c: replies wait for the pass's commit).
 *
 * Because the queue knows where its frames begin it can:
 *   - count the bytes of MESSAGE frames queued per request id (a
 *     subscription's messages carry its request id), so the daemon can
 *     bound each subscription's share of the output (outq_queued);
 *   - drop the not yet started MESSAGE frames of one request id
 *     (outq_drop), or of all (outq_drop_all), keeping the replies;
 *   - put an urgent frame ahead of everything not started (outq_urgent),
 *     so a program learns of an ended subscription or of its own drop
 *     before it reads the backlog.
 *
 * Invariants:
 *  1. [fstart, len) holds whole frames, each at least 16 bytes, and
 *     fstart <= off <= len; off < fstart + length of the frame at fstart
 *     unless off == len.
 *  2. The frame being written (the one at fstart when off > fstart) is
 *     never moved out of order, cut or removed: the program always reads
 *     whole frames.
 *  3. acct holds, per request id, the bytes of MESSAGE frames in
 *     [fstart, len) with that request id; ids with 0 bytes are absent.
 *  4. Only the caller's frames are stored; lengths are read back from
 *     frames this module already accepted (outq_commit checks them).
 *  5. While holding, hold_at is a frame boundary with next <= hold_at
 *     <= len; removing or inserting frames before it moves it along, so
 *     the same frames stay on each side.
 */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ampsipc-wire.h"
#include "outq.h"

struct outq_acct {
	uint32_t	 reqid;
	int		 used;
	size_t		 bytes;
};

/* Little-endian loads from a frame header. */
static uint32_t
outq_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] | ((uint32_t)p[1] << 8) |
	    ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24));
}

/* The length of the frame at offset o. */
static size_t
outq_flen(const struct outq *q, size_t o)
{
	return (outq_u32(q->buf + o));
}

/* Whether the frame at o is a MESSAGE; its reqid in *reqid. */
static int
outq_is_msg(const struct outq *q, size_t o, uint32_t *reqid)
{
	const uint8_t	*p = q->buf + o;

	*reqid = outq_u32(p + 8);
	return ((p[4] | (p[5] << 8)) == AMPSIPC_MESSAGE);
}

/* An empty queue. */
void
outq_init(struct outq *q)
{
	memset(q, 0, sizeof *q);
}

/* Free the memory (the struct itself is the caller's). */
void
outq_free(struct outq *q)
{
	free(q->buf);
	free(q->acct);
	memset(q, 0, sizeof *q);
}

/* Bytes not yet written. */
size_t
outq_pending(const struct outq *q)
{
	return (q->len - q->off);
}

/* Slot of reqid in the table (its own or the empty one to use). */
static size_t
outq_slot(const struct outq *q, uint32_t reqid)
{
	size_t	i = (size_t)(reqid * 2654435761U) & (q->cacct - 1);

	while (q->acct[i].used && q->acct[i].reqid != reqid)
		i = (i + 1) & (q->cacct - 1);
	return (i);
}

/* Add (or with sub, subtract) n bytes to reqid's count. */
static void
outq_acct_add(struct outq *q, uint32_t reqid, size_t n, int sub)
{
	struct outq_acct	*old, *e;
	size_t			 i, j, k, ocap;

	if (!sub && (q->nacct + 1) * 2 > q->cacct) {
		old = q->acct;
		ocap = q->cacct;
		q->cacct = ocap != 0 ? ocap * 2 : 16;
		if ((q->acct = calloc(q->cacct, sizeof *q->acct)) == NULL) {
			/* keep the old table: counting is best effort */
			q->acct = old;
			q->cacct = ocap;
			if (ocap == 0 || q->nacct + 1 >= ocap)
				return;
		} else {
			for (i = 0; i < ocap; i++)
				if (old[i].used)
					q->acct[outq_slot(q, old[i].reqid)] =
					    old[i];
			free(old);
		}
	}
	if (q->cacct == 0)
		return;
	e = &q->acct[i = outq_slot(q, reqid)];
	if (!sub) {
		if (!e->used) {
			e->used = 1;
			e->reqid = reqid;
			e->bytes = 0;
			q->nacct++;
		}
		e->bytes += n;
		return;
	}
	if (!e->used)
		return;
	e->bytes = e->bytes > n ? e->bytes - n : 0;
	if (e->bytes != 0)
		return;
	/* Remove with backward shift: no tombstones. */
	e->used = 0;
	q->nacct--;
	j = i;
	for (;;) {
		j = (j + 1) & (q->cacct - 1);
		if (!q->acct[j].used)
			break;
		k = (size_t)(q->acct[j].reqid * 2654435761U) &
		    (q->cacct - 1);
		/* Move j back to i unless its home lies in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		q->acct[i] = q->acct[j];
		q->acct[j].used = 0;
		i = j;
	}
}

/* Recount acct from the frames in [fstart, len). */
static void
outq_recount(struct outq *q)
{
	size_t		o;
	uint32_t	reqid;

	if (q->acct != NULL)
		memset(q->acct, 0, q->cacct * sizeof *q->acct);
	q->nacct = 0;
	for (o = q->fstart; o < q->len; o += outq_flen(q, o))
		if (outq_is_msg(q, o, &reqid))
			outq_acct_add(q, reqid, outq_flen(q, o), 0);
}

/* Move the unwritten part (from fstart) to the front. */
static void
outq_compact(struct outq *q)
{
	if (q->fstart == 0)
		return;
	memmove(q->buf, q->buf + q->fstart, q->len - q->fstart);
	q->off -= q->fstart;
	q->len -= q->fstart;
	if (q->holding)
		q->hold_at -= q->fstart;
	q->fstart = 0;
}

/* Everything written: start over at the front. */
static void
outq_reset(struct outq *q)
{
	q->off = q->len = q->fstart = 0;
	q->hold_at = 0;
}

/* Hold what is queued from now on. */
void
outq_hold(struct outq *q)
{
	if (q->holding)
		return;
	q->holding = 1;
	q->hold_at = q->len;
}

/* Let everything go. */
void
outq_release(struct outq *q)
{
	q->holding = 0;
	q->hold_at = 0;
}

/* Bytes that may be written now. */
size_t
outq_sendable(const struct outq *q)
{
	return ((q->holding ? q->hold_at : q->len) - q->off);
}

/* Room for n bytes at the tail. */
uint8_t *
outq_reserve(struct outq *q, size_t n)
{
	uint8_t	*p;
	size_t	 want;

	if (q->cap - q->len < n)
		outq_compact(q);
	if (n > SIZE_MAX / 2 - q->len)
		return (NULL);
	if (q->cap - q->len < n) {
		want = q->cap == 0 ? 4096 : q->cap;
		while (want - q->len < n)
			want *= 2;
		if ((p = realloc(q->buf, want)) == NULL)
			return (NULL);
		q->buf = p;
		q->cap = want;
	}
	return (q->buf + q->len);
}

/* Frames of n bytes were written at the tail: count them. */
void
outq_commit(struct outq *q, size_t n)
{
	size_t		o = q->len, flen;
	uint32_t	reqid;

	q->len += n;
	while (o + AMPSIPC_HDR_LEN <= q->len) {
		flen = outq_flen(q, o);
		if (flen < AMPSIPC_HDR_LEN || flen > q->len - o)
			break;		/* not a frame: a caller's bug */
		if (outq_is_msg(q, o, &reqid))
			outq_acct_add(q, reqid, flen, 0);
		o += flen;
	}
}

/* What to write next. */
const uint8_t *
outq_head(const struct outq *q, size_t *len)
{
	*len = outq_sendable(q);
	return (q->buf != NULL ? q->buf + q->off : NULL);
}

/* n bytes went out: finish the frames they completed. */
void
outq_consume(struct outq *q, size_t n)
{
	size_t		flen;
	uint32_t	reqid;

	q->off += n;
	while (q->fstart < q->len &&
	    q->fstart + (flen = outq_flen(q, q->fstart)) <= q->off) {
		if (outq_is_msg(q, q->fstart, &reqid))
			outq_acct_add(q, reqid, flen, 1);
		q->fstart += flen;
	}
	if (q->off == q->len)
		outq_reset(q);
}

/* Give memory back when empty. */
void
outq_shrink(struct outq *q, size_t keep)
{
	if (q->len == 0 && q->cap > keep) {
		free(q->buf);
		q->buf = NULL;
		q->cap = 0;
	}
}

/* MESSAGE bytes of reqid still queued. */
size_t
outq_queued(const struct outq *q, uint32_t reqid)
{
	const struct outq_acct	*e;

	if (q->cacct == 0)
		return (0);
	e = &q->acct[outq_slot(q, reqid)];
	return (e->used ? e->bytes : 0);
}

/* The first frame that has not started to go out. */
static size_t
outq_next(const struct outq *q)
{
	if (q->off == q->fstart || q->fstart == q->len)
		return (q->fstart);
	return (q->fstart + outq_flen(q, q->fstart));
}

/* Drop unstarted MESSAGE frames: of reqid, or with all of every id. */
static size_t
outq_drop_msgs(struct outq *q, uint32_t reqid, int all)
{
	size_t		r, w, flen, n = 0, hold = q->hold_at;
	uint32_t	id;

	for (r = w = outq_next(q); r < q->len; r += flen) {
		flen = outq_flen(q, r);
		if (outq_is_msg(q, r, &id) && (all || id == reqid)) {
			if (q->holding && r < q->hold_at)
				hold -= flen;	/* invariant 5 */
			n++;
			continue;
		}
		if (w != r)
			memmove(q->buf + w, q->buf + r, flen);
		w += flen;
	}
	q->len = w;
	if (q->holding)
		q->hold_at = hold;
	if (q->off == q->len)
		outq_reset(q);
	outq_recount(q);
	return (n);
}

/* Drop the unstarted MESSAGE frames of reqid. */
size_t
outq_drop(struct outq *q, uint32_t reqid)
{
	if (outq_queued(q, reqid) == 0)
		return (0);
	return (outq_drop_msgs(q, reqid, 0));
}

/* Drop every unstarted MESSAGE frame. */
size_t
outq_drop_all(struct outq *q)
{
	if (q->nacct == 0)
		return (0);
	return (outq_drop_msgs(q, 0, 1));
}

/* Put a frame ahead of everything unstarted. */
int
outq_urgent(struct outq *q, const void *frame, size_t len)
{
	size_t	next;

	if (outq_reserve(q, len) == NULL)
		return (-1);
	next = outq_next(q);
	memmove(q->buf + next + len, q->buf + next, q->len - next);
	memcpy(q->buf + next, frame, len);
	q->len += len;
	if (q->holding)
		q->hold_at += len;	/* next <= hold_at: it may go now */
	outq_recount(q);
	return (0);
}
