/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * cmdhdr.c: the extra AMPS header fields a program sets on a generic
 * command (IPC field HEADERS, docs/IPC.md §5): checked here, then
 * written into the upstream command by the codec.  Pure logic.
 *
 * HEADERS holds pairs "name\0value\0".  A name is any spelling the
 * codec's header dictionary knows (docs/PROTOCOL.md §3) of a field that
 * neither the daemon sets itself (c, cid, a, s, sub_id, sids, query_id,
 * logon fields, ack fields) nor an IPC field of its own carries (t, f,
 * o, bm, x, k, e, ...; libampsipc maps those names onto their fields).
 *
 * Invariants:
 *  1. cmdhdr_write() writes only what cmdhdr_check() accepted: a known
 *     field from the allowed set, at most once, with a value without NUL.
 *  2. Every length is checked before a byte is read.
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "amps.h"
#include "cmdhdr.h"

/* The fields a program may set through HEADERS. */
static int
cmdhdr_allowed(int f)
{
	switch (f) {
	case AMPS_F_TS:
	case AMPS_F_LP:
	case AMPS_F_DATA_ONLY:
	case AMPS_F_SEND_EMPTY:
	case AMPS_F_SEND_KEYS:
	case AMPS_F_SEND_OOF:
	case AMPS_F_SEND_MATCHING_IDS:
	case AMPS_F_TIMEOUT_INTERVAL:
	case AMPS_F_GRACE_PERIOD:
	case AMPS_F_MAX_MSGS:
	case AMPS_F_SRC:
	case AMPS_F_USE_NS:
		return (1);
	default:
		return (0);
	}
}

/*
 * Walk the pairs of p[0..len): call fn(field, value, value length, arg)
 * for each.  Returns 0, or -1 with err set.
 */
static int
cmdhdr_walk(const void *p, size_t len, char *err, size_t errcap,
    void (*fn)(int, const char *, size_t, void *), void *arg)
{
	const char	*s = p, *end = s + len, *name, *val, *z;
	uint64_t	 seen = 0;
	size_t		 nlen, vlen;
	int		 f;

	while (s < end) {
		name = s;
		if ((z = memchr(s, '\0', (size_t)(end - s))) == NULL)
			goto bad;
		nlen = (size_t)(z - name);
		val = z + 1;
		if (val >= end || (z = memchr(val, '\0',
		    (size_t)(end - val))) == NULL)
			goto bad;
		vlen = (size_t)(z - val);
		s = z + 1;
		if ((f = amps_field_lookup(name, nlen)) < 0) {
			snprintf(err, errcap, "header \"%.*s\": not an AMPS "
			    "header field ampsd knows", (int)(nlen > 64 ? 64 :
			    nlen), name);
			return (-1);
		}
		if (!cmdhdr_allowed(f)) {
			snprintf(err, errcap, "header \"%s\": set by ampsd or "
			    "through its own command field", amps_field_name(
			    (enum amps_field)f));
			return (-1);
		}
		if (seen & (UINT64_C(1) << f)) {
			snprintf(err, errcap, "header \"%s\" given twice",
			    amps_field_name((enum amps_field)f));
			return (-1);
		}
		seen |= UINT64_C(1) << f;
		if (fn != NULL)
			fn(f, val, vlen, arg);
	}
	return (0);
bad:
	snprintf(err, errcap, "headers: not a list of name and value pairs");
	return (-1);
}

/* Check a HEADERS value; 0, or -1 with err set. */
int
cmdhdr_check(const void *p, size_t len, char *err, size_t errcap)
{
	return (cmdhdr_walk(p, len, err, errcap, NULL, NULL));
}

/* cmdhdr_walk callback: write one field. */
static void
cmdhdr_put(int f, const char *val, size_t vlen, void *arg)
{
	amps_wr_str(arg, (enum amps_field)f, val, vlen);
}

/* Write the fields of a checked HEADERS value (invariant 1). */
void
cmdhdr_write(struct amps_wr *w, const void *p, size_t len)
{
	char	err[128];

	if (p != NULL && len > 0)
		(void)cmdhdr_walk(p, len, err, sizeof err, cmdhdr_put, w);
}
