/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * AMPS framing (PROTOCOL.md §2.1, §2.6): every message is a 4-byte big-endian
 * length, which does not count itself, followed by that many bytes (the
 * JSON header and the payload).
 *
 * This file owns the stateless splitter amps_frame_next(), the prefix
 * writer amps_frame_put_len() and the streaming reader struct amps_reader,
 * whose buffer it allocates, grows, compacts and frees.  It never looks
 * inside a frame body.
 *
 * Invariants:
 *   (1) 0 <= r->start <= r->end <= r->cap, and r->buf is NULL exactly when
 *       r->cap is 0.
 *   (2) A length prefix is compared with the maximum before anything is
 *       done with it; a prefix above the maximum is AMPS_E_TOOBIG and the
 *       reader's error then sticks: amps_reader_next() keeps returning it.
 *   (3) Zero-length frames are skipped and consumed, never returned.
 *   (4) The reader's buffer moves only inside amps_reader_space() (growth
 *       or compaction), so body pointers returned by amps_reader_next()
 *       stay valid until the next amps_reader_space() call.
 *   (5) Compaction happens when start has passed half of the buffer, or
 *       when the buffer is empty (start == end, which is free).
 */

#include <stdlib.h>
#include <string.h>

#include "amps.h"

/* Smallest buffer the reader allocates. */
#define READER_MIN_CAP	4096

/* Read a big-endian 32-bit number. */
static inline uint32_t
get_be32(const char *p)
{
	const unsigned char	*u = (const unsigned char *)p;

	return (((uint32_t)u[0] << 24) | ((uint32_t)u[1] << 16) |
	    ((uint32_t)u[2] << 8) | (uint32_t)u[3]);
}

/*
 * Find the next frame in buf[0..len): see amps.h.  Zero-length frames in
 * front of it are counted in *consumed and skipped.  Nothing is read past
 * buf + len.
 */
int
amps_frame_next(const char *buf, size_t len, uint32_t max,
    const char **body, uint32_t *body_len, size_t *consumed)
{
	size_t		off = 0;
	uint32_t	n;

	for (;;) {
		if (len - off < 4) {
			*consumed = off;
			return (0);
		}
		n = get_be32(buf + off);
		if (n > max) {
			*consumed = off;
			return (AMPS_E_TOOBIG);
		}
		if (n == 0) {
			off += 4;
			continue;
		}
		if (len - off - 4 < n) {
			*consumed = off;
			return (0);
		}
		*body = buf + off + 4;
		*body_len = n;
		*consumed = off + 4 + (size_t)n;
		return (1);
	}
}

/* Write the 4-byte big-endian prefix for a body of len bytes. */
void
amps_frame_put_len(char *out4, uint32_t len)
{
	unsigned char	*u = (unsigned char *)out4;

	u[0] = (unsigned char)(len >> 24);
	u[1] = (unsigned char)(len >> 16);
	u[2] = (unsigned char)(len >> 8);
	u[3] = (unsigned char)len;
}

/* Initialise an empty reader accepting bodies of up to max bytes. */
void
amps_reader_init(struct amps_reader *r, uint32_t max)
{
	r->buf = NULL;
	r->cap = 0;
	r->start = 0;
	r->end = 0;
	r->max = max;
	r->error = 0;
}

/* Free the reader's buffer; the reader may be initialised again. */
void
amps_reader_free(struct amps_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
	r->start = 0;
	r->end = 0;
}

/*
 * Make room for at least want more bytes after r->end and return where
 * they go in *p (with the room available in *n, which may exceed want).
 * This is the only function that moves buffered bytes (invariant 4): it
 * compacts when start has passed half the buffer, or before growing.
 * Returns 0, or -1 when memory cannot be had (the reader is unchanged).
 */
int
amps_reader_space(struct amps_reader *r, size_t want, char **p, size_t *n)
{
	size_t	 pending, need, ncap;
	char	*nbuf;

	if (want == 0)
		want = 1;
	pending = r->end - r->start;

	if (r->start == r->end)
		r->start = r->end = 0;
	else if (r->start > r->cap / 2 ||
	    (r->start > 0 && r->cap - r->end < want)) {
		memmove(r->buf, r->buf + r->start, pending);
		r->start = 0;
		r->end = pending;
	}

	if (r->cap - r->end < want) {
		if (want > SIZE_MAX - r->end)
			return (-1);
		need = r->end + want;
		ncap = r->cap < READER_MIN_CAP ? READER_MIN_CAP : r->cap;
		while (ncap < need) {
			if (ncap > SIZE_MAX / 2) {
				ncap = need;
				break;
			}
			ncap *= 2;
		}
		if ((nbuf = realloc(r->buf, ncap)) == NULL)
			return (-1);
		r->buf = nbuf;
		r->cap = ncap;
	}

	*p = r->buf + r->end;
	*n = r->cap - r->end;
	return (0);
}

/* Record that n bytes were written at the place amps_reader_space gave. */
void
amps_reader_commit(struct amps_reader *r, size_t n)
{
	if (n > r->cap - r->end)
		n = r->cap - r->end;	/* caller bug: never run past cap */
	r->end += n;
}

/*
 * Return the next whole frame: 1 with *body and *body_len set, 0 when more
 * bytes are needed, or the sticky AMPS_E_* error (invariant 2).
 */
int
amps_reader_next(struct amps_reader *r, const char **body,
    uint32_t *body_len)
{
	size_t	consumed = 0;
	int	rc;

	if (r->error != 0)
		return (r->error);
	if (r->buf == NULL)
		return (0);
	rc = amps_frame_next(r->buf + r->start, r->end - r->start, r->max,
	    body, body_len, &consumed);
	r->start += consumed;
	if (rc < 0)
		r->error = rc;
	return (rc);
}

/* Bytes buffered but not yet returned as frames. */
size_t
amps_reader_pending(const struct amps_reader *r)
{
	return (r->end - r->start);
}
