/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Command options (the `o` header, PROTOCOL.md §13) and ack-type lists (the `a`
 * header, PROTOCOL.md §6.1).
 *
 * This file owns amps_opts_begin/next/find and amps_ack_parse/format/name.
 * It is pure: no allocation, no I/O; option names and values are views
 * into the caller's string.
 *
 * Invariants:
 *  1. Nothing reads outside s[0..len); inputs need not be NUL-terminated.
 *  2. Options split on commas at bracket depth 0 only; a ']' without an
 *     open '[' or a '[' never closed is AMPS_E_OPTIONS, and the iterator
 *     then stays failed (every later call returns AMPS_E_OPTIONS).
 *  3. Names and values are trimmed of spaces and tabs; empty tokens are
 *     skipped; an empty name ("=x") is AMPS_E_OPTIONS.  value is NULL for
 *     a bare name and a zero-length view for "name=".
 *  4. Ack masks only ever hold AMPS_ACK_ALL bits; "none" is 0, and 0 is
 *     formatted as "none" so parse(format(m)) == m for every valid m.
 *  5. Formatters are snprintf-like: they return the full length, write at
 *     most cap bytes and NUL-terminate when cap > 0.
 */

#include <string.h>

#include "amps.h"

/* Ack type names in bit order (bit i is 1 << i). */
static const char *const ack_names[] = {
	"received", "parsed", "processed", "persisted", "completed", "stats"
};
#define ACK_NNAMES	(sizeof ack_names / sizeof ack_names[0])

/*
 * True for the blanks trimmed around tokens.
 */
static int
opt_blank(char ch)
{
	return (ch == ' ' || ch == '\t');
}

/*
 * Trim blanks from both ends of [*b, *e).
 */
static void
opt_trim(const char **b, const char **e)
{
	while (*b < *e && opt_blank(**b))
		(*b)++;
	while (*e > *b && opt_blank((*e)[-1]))
		(*e)--;
}

/*
 * Start iterating the options string s[0..len).
 */
void
amps_opts_begin(struct amps_opts_iter *it, const char *s, size_t len)
{
	it->p = s;
	it->end = s + len;
}

/*
 * Return the next option: 1 with *o filled, 0 at the end, or
 * AMPS_E_OPTIONS for unbalanced brackets (sticky: p is set to NULL).
 */
int
amps_opts_next(struct amps_opts_iter *it, struct amps_opt *o)
{
	const char	*b, *e, *q, *eq;
	size_t		 depth;

	for (;;) {
		if (it->p == NULL)
			return (AMPS_E_OPTIONS);
		if (it->p >= it->end)
			return (0);
		b = it->p;
		depth = 0;
		for (q = b; q < it->end; q++) {
			if (*q == '[')
				depth++;
			else if (*q == ']') {
				if (depth == 0)
					break;
				depth--;
			} else if (*q == ',' && depth == 0)
				break;
		}
		if (q < it->end && *q == ']') {
			it->p = NULL;
			return (AMPS_E_OPTIONS);
		}
		if (depth != 0) {
			it->p = NULL;
			return (AMPS_E_OPTIONS);
		}
		it->p = (q < it->end) ? q + 1 : it->end;
		e = q;
		opt_trim(&b, &e);
		if (b != e)
			break;
	}

	if ((eq = memchr(b, '=', e - b)) == NULL) {
		o->name = b;
		o->name_len = (size_t)(e - b);
		o->value = NULL;
		o->value_len = 0;
		return (1);
	}
	q = eq;
	opt_trim(&b, &q);
	if (b == q) {
		it->p = NULL;
		return (AMPS_E_OPTIONS);
	}
	o->name = b;
	o->name_len = (size_t)(q - b);
	b = eq + 1;
	opt_trim(&b, &e);
	o->value = b;
	o->value_len = (size_t)(e - b);
	return (1);
}

/*
 * Find the first option called name (exact, case-sensitive) in s[0..len).
 * The whole string is checked, so a malformed string is AMPS_E_OPTIONS
 * even when the option comes before the fault.  Returns 1 with *out
 * filled (out may be NULL), 0 when absent, or AMPS_E_OPTIONS.
 */
int
amps_opts_find(const char *s, size_t len, const char *name,
    struct amps_opt *out)
{
	struct amps_opts_iter	it;
	struct amps_opt		o;
	size_t			nlen = strlen(name);
	int			rc, found = 0;

	amps_opts_begin(&it, s, len);
	while ((rc = amps_opts_next(&it, &o)) == 1) {
		if (found || o.name_len != nlen ||
		    memcmp(o.name, name, nlen) != 0)
			continue;
		found = 1;
		if (out != NULL)
			*out = o;
	}
	if (rc < 0)
		return (rc);
	return (found);
}

/*
 * Parse a comma list of ack type names (spaces around names allowed,
 * names lower-case as on the wire) into *mask.  "none" and the empty list
 * are 0.  Returns 0 or AMPS_E_ACKTYPE.
 */
int
amps_ack_parse(const char *s, size_t len, unsigned *mask)
{
	struct amps_list_iter	 it;
	const char		*item;
	size_t			 ilen, i;
	unsigned		 m = 0;

	amps_list_begin(&it, s, len);
	while (amps_list_next(&it, &item, &ilen) == 1) {
		if (ilen == 4 && memcmp(item, "none", 4) == 0)
			continue;
		for (i = 0; i < ACK_NNAMES; i++) {
			if (strlen(ack_names[i]) == ilen &&
			    memcmp(ack_names[i], item, ilen) == 0)
				break;
		}
		if (i == ACK_NNAMES)
			return (AMPS_E_ACKTYPE);
		m |= 1u << i;
	}
	*mask = m;
	return (0);
}

/*
 * Format mask as names in bit order joined by ',' ("none" for 0) into
 * out[0..cap).  Returns the full length, or AMPS_E_ACKTYPE when mask has
 * bits outside AMPS_ACK_ALL.
 */
int
amps_ack_format(char *out, size_t cap, unsigned mask)
{
	const char	*w;
	size_t		 n = 0, i;

	if ((mask & ~(unsigned)AMPS_ACK_ALL) != 0)
		return (AMPS_E_ACKTYPE);
	for (i = 0; i <= ACK_NNAMES; i++) {
		if (i == ACK_NNAMES)
			w = (mask == 0) ? "none" : NULL;
		else
			w = (mask & (1u << i)) ? ack_names[i] : NULL;
		if (w == NULL)
			continue;
		if (n > 0) {
			if (n + 1 < cap)
				out[n] = ',';
			n++;
		}
		for (; *w != '\0'; w++) {
			if (n + 1 < cap)
				out[n] = *w;
			n++;
		}
	}
	if (cap > 0)
		out[n < cap ? n : cap - 1] = '\0';
	return ((int)n);
}

/*
 * Name of a single ack bit ("none" for AMPS_ACK_NONE), or NULL when bit
 * is not exactly one known bit.
 */
const char *
amps_ack_name(unsigned bit)
{
	size_t	i;

	if (bit == AMPS_ACK_NONE)
		return ("none");
	for (i = 0; i < ACK_NNAMES; i++) {
		if (bit == 1u << i)
			return (ack_names[i]);
	}
	return (NULL);
}
