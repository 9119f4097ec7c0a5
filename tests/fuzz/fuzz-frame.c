/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Fuzz target for the frame layer (codec/amps-frame.c), the header
 * parser and writer (codec/amps-header.c) and the SOW batch splitter
 * (codec/amps-sow.c).
 *
 * The input is a byte stream as read from a socket.  It is split twice:
 * once in one piece with amps_frame_next, and once through a struct
 * amps_reader fed in chunks whose sizes come from a generator seeded with
 * a hash of the input.  Every frame body (an exact-size copy) is parsed
 * as a header, re-encoded and parsed again, and split into SOW records
 * when its command is sow.  Checked invariants (abort() on violation):
 *  1. Both splits give the same frames, the same error and the same
 *     number of unconsumed bytes; reader errors are sticky.
 *  2. A parsed header is self-consistent: hdr_len within the body, order
 *     and present agree, every view lies inside the body.
 *  3. amps_hdr_write of a parsed header has a correct prefix, parses
 *     again, and gives the same fields (unescaped values and numbers) and
 *     the same payload.
 *  4. SOW records lie inside the frame, advance, carry the outer fields,
 *     and an error repeats.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amps.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Bodies above this are AMPS_E_TOOBIG (small, so the fuzzer finds it). */
#define FUZZ_MAX	(1u << 20)

/* A frame found by the one-piece split. */
struct span {
	size_t		off;
	uint32_t	len;
};

/* xorshift64*: the chunk-size generator. */
static uint64_t
rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (*s * 2685821657736338717ULL);
}

/* Read a big-endian 32-bit number. */
static uint32_t
be32(const char *p)
{
	const unsigned char	*u = (const unsigned char *)p;

	return (((uint32_t)u[0] << 24) | ((uint32_t)u[1] << 16) |
	    ((uint32_t)u[2] << 8) | u[3]);
}

/* True for the error codes amps.h defines. */
static int
known_error(int rc)
{
	return (rc <= AMPS_E_TRUNCATED && rc >= AMPS_E_ACKTYPE);
}

/* Check invariant 2 for h parsed from body[0..len). */
static void
check_hdr(const struct amps_hdr *h, const char *body, size_t len)
{
	const struct amps_view	*v;
	uint64_t		 seen = 0;
	int			 i, f;

	if (h->hdr_len > len || h->hdr_len < 2 || h->norder > AMPS_F__COUNT)
		abort();
	for (i = 0; i < h->norder; i++) {
		f = h->order[i];
		if (f >= AMPS_F__COUNT || !amps_hdr_has(h, f) ||
		    (seen >> f) & 1)
			abort();
		seen |= 1ULL << f;
	}
	if (seen != h->present)
		abort();
	for (f = 0; f < AMPS_F__COUNT; f++) {
		if (!amps_hdr_has(h, f)) {
			if (amps_hdr_view(h, f) != NULL)
				abort();
			continue;
		}
		if ((v = amps_hdr_view(h, f)) == NULL)
			abort();
		if (v->p < body || v->p > body + h->hdr_len ||
		    v->len > (size_t)(body + h->hdr_len - v->p))
			abort();
	}
}

/*
 * Compare field f of two headers through the public getters: the same
 * presence, the same unescaped string (or error), the same number.
 */
static void
check_same_field(const struct amps_hdr *a, const struct amps_hdr *b,
    enum amps_field f)
{
	const struct amps_view	*v;
	char			*sa, *sb;
	size_t			 cap;
	uint64_t		 na = 0, nb = 0;
	int			 ra, rb;

	if (amps_hdr_has(a, f) != amps_hdr_has(b, f))
		abort();
	if (!amps_hdr_has(a, f))
		return;
	v = amps_hdr_view(a, f);
	cap = (size_t)v->len + 1;
	v = amps_hdr_view(b, f);
	if ((size_t)v->len + 1 > cap)
		cap = (size_t)v->len + 1;
	if ((sa = malloc(cap)) == NULL || (sb = malloc(cap)) == NULL)
		abort();
	ra = amps_hdr_str(a, f, sa, cap);
	rb = amps_hdr_str(b, f, sb, cap);
	if (ra != rb || (ra >= 0 && memcmp(sa, sb, (size_t)ra) != 0))
		abort();
	if (ra >= 0 && (size_t)ra >= cap)
		abort();
	free(sa);
	free(sb);
	ra = amps_hdr_u64(a, f, &na);
	rb = amps_hdr_u64(b, f, &nb);
	if (ra != rb || (ra == 0 && na != nb))
		abort();
}

/* Invariant 3: re-encode h (with its payload) and parse it again. */
static void
check_rewrite(const struct amps_hdr *h, const char *body, size_t len)
{
	struct amps_hdr	 h2;
	const char	*pay = body + h->hdr_len;
	size_t		 paylen = len - h->hdr_len;
	char		 small[16], *out;
	long long	 need, need2;
	int		 f;

	need = amps_hdr_write(h, 1, pay, paylen, small, sizeof small);
	if (need < 0)
		return;
	if (need < 4 + 2 + (long long)paylen)
		abort();
	if ((out = malloc((size_t)need)) == NULL)
		return;
	if (amps_hdr_write(h, 1, pay, paylen, out, (size_t)need) != need)
		abort();
	if (be32(out) != (uint64_t)need - 4)
		abort();
	if (amps_hdr_parse(out + 4, (size_t)need - 4, &h2) != 0)
		abort();
	check_hdr(&h2, out + 4, (size_t)need - 4);
	if (h2.present != h->present)
		abort();
	for (f = 0; f < AMPS_F__COUNT; f++)
		check_same_field(h, &h2, f);
	if ((size_t)need - 4 - h2.hdr_len != paylen ||
	    memcmp(out + 4 + h2.hdr_len, pay, paylen) != 0)
		abort();
	if (amps_hdr_cmd(&h2) != amps_hdr_cmd(h))
		abort();

	/* Without a prefix: the same bytes less the first four. */
	need2 = amps_hdr_write(h, 0, pay, paylen, out, (size_t)need);
	if (need2 != need - 4)
		abort();
	free(out);
}

/* Invariant 4: walk the records of a sow frame. */
static void
check_sow(const struct amps_hdr *outer, const char *body, size_t len)
{
	struct amps_sow_iter	 it;
	struct amps_hdr		 m;
	const char		*data;
	size_t			 dlen, last, n = 0;
	int			 rc, f;

	amps_sow_begin(&it, outer, body, len);
	last = it.off;
	while ((rc = amps_sow_next(&it, &m, &data, &dlen)) == 1) {
		if (data < body || data > body + len ||
		    dlen > (size_t)(body + len - data))
			abort();
		if (it.off <= last || it.off > len)
			abort();
		last = it.off;
		for (f = 0; f < AMPS_F__COUNT; f++) {
			if (amps_hdr_has(outer, f) && !amps_hdr_has(&m, f))
				abort();
		}
		if (!amps_hdr_has(&m, AMPS_F_L))
			abort();
		if (++n > len)
			abort();
	}
	if (rc != 0 && !known_error(rc))
		abort();
	if (amps_sow_next(&it, &m, &data, &dlen) != rc)
		abort();
}

/* Check one frame body (an exact-size heap copy). */
static void
check_frame(const char *body, size_t len)
{
	struct amps_hdr	h;
	enum amps_cmd	cmd;
	int		rc;

	if ((rc = amps_hdr_parse(body, len, &h)) != 0) {
		if (!known_error(rc))
			abort();
		return;
	}
	check_hdr(&h, body, len);
	cmd = amps_hdr_cmd(&h);
	if (cmd >= AMPS_CMD__COUNT || amps_cmd_name(cmd) == NULL)
		abort();
	check_rewrite(&h, body, len);
	if (cmd == AMPS_CMD_SOW)
		check_sow(&h, body, len);
}

/* Split the input both ways and check every frame (see the top comment). */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*in = (const char *)data, *body;
	struct amps_reader	 r;
	struct span		*spans;
	char			*p, *copy;
	size_t			 off, done, consumed, nspans = 0, idx = 0;
	size_t			 chunk, room;
	uint64_t		 st;
	uint32_t		 blen;
	int			 rc, direct_rc = 0;

	/* One piece. */
	if ((spans = malloc((size / 4 + 1) * sizeof *spans)) == NULL)
		return (0);
	off = 0;
	while (off < size) {
		rc = amps_frame_next(in + off, size - off, FUZZ_MAX, &body,
		    &blen, &consumed);
		if (consumed > size - off)
			abort();
		if (rc < 0) {
			if (rc != AMPS_E_TOOBIG)
				abort();
			direct_rc = rc;
			off += consumed;
			break;
		}
		if (rc == 0) {
			off += consumed;
			break;
		}
		if (body != in + off + consumed - blen || blen == 0)
			abort();
		spans[nspans].off = (size_t)(body - in);
		spans[nspans].len = blen;
		nspans++;
		off += consumed;
	}

	done = off;

	/* In chunks, through the reader. */
	st = amps_name_hash(in, size) | 1;
	amps_reader_init(&r, FUZZ_MAX);
	off = 0;
	for (;;) {
		while ((rc = amps_reader_next(&r, &body, &blen)) == 1) {
			if (idx >= nspans || blen != spans[idx].len ||
			    memcmp(body, in + spans[idx].off, blen) != 0)
				abort();
			if ((copy = malloc(blen)) == NULL)
				abort();
			memcpy(copy, body, blen);
			check_frame(copy, blen);
			free(copy);
			idx++;
		}
		if (rc < 0) {
			if (rc != direct_rc || idx != nspans)
				abort();
			if (amps_reader_next(&r, &body, &blen) != rc)
				abort();
			break;
		}
		if (off == size)
			break;
		switch (rng_next(&st) % 4) {
		case 0:
			chunk = 1;
			break;
		case 1:
			chunk = 1 + rng_next(&st) % 8;
			break;
		case 2:
			chunk = 1 + rng_next(&st) % 256;
			break;
		default:
			chunk = size - off;
			break;
		}
		if (chunk > size - off)
			chunk = size - off;
		if (amps_reader_space(&r, chunk, &p, &room) != 0)
			abort();
		if (room < chunk)
			abort();
		memcpy(p, in + off, chunk);
		amps_reader_commit(&r, chunk);
		off += chunk;
	}
	if (rc == 0) {
		if (direct_rc != 0 || idx != nspans)
			abort();
		if (amps_reader_pending(&r) != size - done)
			abort();
	}
	amps_reader_free(&r);
	free(spans);
	return (0);
}
