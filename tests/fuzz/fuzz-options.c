/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Fuzz target for the small string grammars: options (§13), ack-type
 * lists (§6.1), bookmarks, timestamps and comma lists (§8)
 * (codec/amps-options.c, codec/amps-bookmark.c).
 *
 * The input is used as-is, in an exact-size copy without a NUL.  Checked
 * invariants (abort() on violation):
 *  1. Every view returned lies inside the input, is trimmed, non-empty
 *     where promised, and iteration always ends.
 *  2. amps_opts_find agrees with amps_opts_next.
 *  3. Ack lists: parse(format(parse(s))) == parse(s).
 *  4. Bookmarks: classify agrees with bm_parse and ts_parse; ids and
 *     timestamps round-trip through their formatters; the first 16 bytes
 *     read as integers also round-trip.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amps.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* True when [p, p+n) lies inside [s, s+len). */
static int
inside(const char *p, size_t n, const char *s, size_t len)
{
	return (p >= s && p <= s + len && n <= (size_t)(s + len - p));
}

/* True when a blank is at either end of p[0..n). */
static int
untrimmed(const char *p, size_t n)
{
	return (n > 0 && (p[0] == ' ' || p[0] == '\t' || p[n - 1] == ' ' ||
	    p[n - 1] == '\t'));
}

/* Options: iterate, then cross-check amps_opts_find. */
static void
fuzz_options(const char *s, size_t len)
{
	struct amps_opts_iter	 it;
	struct amps_opt		 o, first, f;
	char			*name;
	size_t			 count = 0;
	int			 rc;

	memset(&first, 0, sizeof first);
	amps_opts_begin(&it, s, len);
	while ((rc = amps_opts_next(&it, &o)) == 1) {
		if (o.name_len == 0 || !inside(o.name, o.name_len, s, len) ||
		    untrimmed(o.name, o.name_len))
			abort();
		if (o.value == NULL ? o.value_len != 0 :
		    !inside(o.value, o.value_len, s, len) ||
		    untrimmed(o.value, o.value_len))
			abort();
		if (count++ == 0)
			first = o;
		if (count > len)
			abort();
	}
	if (rc != 0 && rc != AMPS_E_OPTIONS)
		abort();
	if (amps_opts_next(&it, &o) != rc)	/* sticky */
		abort();
	if (count == 0 || memchr(first.name, '\0', first.name_len) != NULL)
		return;
	if ((name = malloc(first.name_len + 1)) == NULL)
		return;
	memcpy(name, first.name, first.name_len);
	name[first.name_len] = '\0';
	if (amps_opts_find(s, len, name, &f) != (rc == 0 ? 1 : rc))
		abort();
	if (rc == 0 && (f.name != first.name || f.value != first.value ||
	    f.value_len != first.value_len))
		abort();
	free(name);
}

/* Ack lists: parse, format, parse again. */
static void
fuzz_acks(const char *s, size_t len)
{
	char		out[128];
	unsigned	m, m2;
	int		n;

	if (amps_ack_parse(s, len, &m) != 0)
		return;
	if ((m & ~(unsigned)AMPS_ACK_ALL) != 0)
		abort();
	n = amps_ack_format(out, sizeof out, m);
	if (n <= 0 || (size_t)n >= sizeof out || (size_t)n != strlen(out))
		abort();
	if (amps_ack_parse(out, (size_t)n, &m2) != 0 || m2 != m)
		abort();
	if (m != 0 && (m & (m - 1)) == 0 &&
	    strcmp(amps_ack_name(m), out) != 0)
		abort();
}

/* Timestamps: t -> text -> t. */
static void
ts_roundtrip(int64_t t)
{
	char	out[32];
	int64_t	back;
	int	n;

	n = amps_ts_format(out, sizeof out, t);
	if (n == AMPS_E_RANGE)
		return;
	if (n != 23 || strlen(out) != 23)
		abort();
	if (amps_ts_parse(out, 23, &back) != 0 || back != t)
		abort();
	if (amps_bm_classify(out, 23) != AMPS_BM_TIMESTAMP)
		abort();
}

/* Bookmarks: classify and cross-check the single-form parsers. */
static void
fuzz_bookmarks(const char *s, size_t len)
{
	enum amps_bm_kind	 k;
	uint64_t		 pub, seq, p2, q2;
	int64_t			 t;
	char			 out[64];
	int			 n, isid, ists;

	k = amps_bm_classify(s, len);
	if (k > AMPS_BM_RANGE)
		abort();
	isid = amps_bm_parse(s, len, &pub, &seq) == 0;
	ists = amps_ts_parse(s, len, &t) == 0;
	if (isid && ists)
		abort();
	if (isid) {
		if (k != AMPS_BM_ID && k != AMPS_BM_NOW)
			abort();
		n = amps_bm_format(out, sizeof out, pub, seq);
		if (n <= 0 || amps_bm_parse(out, (size_t)n, &p2, &q2) != 0 ||
		    p2 != pub || q2 != seq)
			abort();
	}
	if (ists) {
		if (k != AMPS_BM_TIMESTAMP)
			abort();
		ts_roundtrip(t);
	}
	if ((k == AMPS_BM_ID || k == AMPS_BM_NOW) && !isid &&
	    memchr(s, ',', len) == NULL)	/* a 1-item list is that item */
		abort();
	if (k == AMPS_BM_TIMESTAMP && !ists && memchr(s, ',', len) == NULL)
		abort();
	if (k == AMPS_BM_RANGE && s[0] != '[' && s[0] != '(')
		abort();

	/* The first 16 bytes as numbers. */
	if (len >= 16) {
		memcpy(&pub, s, 8);
		memcpy(&seq, s + 8, 8);
		n = amps_bm_format(out, sizeof out, pub, seq);
		if (amps_bm_parse(out, (size_t)n, &p2, &q2) != 0 ||
		    p2 != pub || q2 != seq)
			abort();
		ts_roundtrip((int64_t)pub);
		ts_roundtrip((int64_t)(seq % 400000000000000000ULL) -
		    100000000000000000LL);
	}
}

/* Comma lists: items inside, trimmed, non-empty, comma-free. */
static void
fuzz_list(const char *s, size_t len)
{
	struct amps_list_iter	 it;
	const char		*item;
	size_t			 ilen, count = 0;

	amps_list_begin(&it, s, len);
	while (amps_list_next(&it, &item, &ilen) == 1) {
		if (ilen == 0 || !inside(item, ilen, s, len) ||
		    untrimmed(item, ilen) || memchr(item, ',', ilen) != NULL)
			abort();
		if (++count > len)
			abort();
	}
	if (amps_list_next(&it, &item, &ilen) != 0)
		abort();
	(void)amps_name_hash(s, len);
}

/* Run every string grammar over an exact-size copy of the input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;

	if ((s = malloc(size > 0 ? size : 1)) == NULL)
		return (0);
	memcpy(s, data, size);
	fuzz_options(s, size);
	fuzz_acks(s, size);
	fuzz_bookmarks(s, size);
	fuzz_list(s, size);
	free(s);
	return (0);
}
