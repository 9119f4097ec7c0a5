/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * SOW batch splitter (PROTOCOL.md §2.4).  A `sow` frame body is an outer header
 * followed by records, each a small header holding `l` and then exactly l
 * bytes of data, with no separators.  This file walks those records; it
 * owns no memory (struct amps_sow_iter and the merged headers are the
 * caller's, and all views point into the caller's frame).
 *
 * Invariants:
 *   (1) it->outer->hdr_len <= it->off <= it->len after amps_sow_begin()
 *       (off is clamped to len), and off only grows, by a record header
 *       plus its l bytes, after both were checked to lie inside the frame.
 *   (2) The loop ends when the frame is exhausted; `bs` is never used to
 *       count records.
 *   (3) A record without `l`, with an unreadable `l`, or with l beyond the
 *       frame is AMPS_E_SOW_RECORD; a record header that does not parse
 *       returns the parser's AMPS_E_*.  The iterator does not advance past
 *       an error, so it keeps returning it.
 *   (4) The merged header is the outer header overlaid by the record one
 *       (record fields win); its hdr_len is the record header's length, so
 *       the record header starts at data - merged->hdr_len.
 */

#include "amps.h"

/*
 * Start iterating the records of a sow frame.  body[0..body_len) is the
 * whole frame body, whose outer header was parsed into outer.
 */
void
amps_sow_begin(struct amps_sow_iter *it, const struct amps_hdr *outer,
    const char *body, size_t body_len)
{
	it->p = body;
	it->len = body_len;
	it->off = outer->hdr_len < body_len ? outer->hdr_len : body_len;
	it->outer = outer;
}

/*
 * Return the next record: 1 with *merged, *data and *data_len set, 0 when
 * the frame is exhausted, or a negative AMPS_E_* (invariant 3).
 */
int
amps_sow_next(struct amps_sow_iter *it, struct amps_hdr *merged,
    const char **data, size_t *data_len)
{
	struct amps_hdr	 rec;
	uint64_t	 l;
	size_t		 rest;
	int		 rc;

	if (it->off >= it->len)
		return (0);
	rest = it->len - it->off;
	if ((rc = amps_hdr_parse(it->p + it->off, rest, &rec)) != 0)
		return (rc);
	if (amps_hdr_u64(&rec, AMPS_F_L, &l) != 0)
		return (AMPS_E_SOW_RECORD);
	rest -= rec.hdr_len;
	if (l > rest)
		return (AMPS_E_SOW_RECORD);

	amps_hdr_overlay(merged, it->outer, &rec);
	*data = it->p + it->off + rec.hdr_len;
	*data_len = (size_t)l;
	it->off += rec.hdr_len + (size_t)l;
	return (1);
}
