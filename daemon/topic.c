/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * topic.c: topic rules (docs/IPC.md §6, INVALID_TOPIC) and how AMPS
 * reads a topic (docs/PROTOCOL.md §12.8).  Pure: no I/O, no allocation.
 *
 * ipc-client.c applies topic_check() to the topic of every request,
 * whatever its kind, before the allow rules and before any handler, so
 * a bad topic is refused with INVALID_TOPIC and never stored or sent
 * upstream.  server-acl.c uses topic_is_regex() and
 * topic_pattern_is_all() to decide how a topic is checked against the
 * allow rules.
 *
 * Invariants:
 *  1. topic_check() reads exactly len bytes and accepts only what a
 *     strict UTF-8 decoder accepts (RFC 3629): no overlong form, no
 *     surrogate, no code point above U+10FFFF, no truncated sequence.
 *  2. A topic that topic_check() accepts holds no NUL, so it is the
 *     same string for every part of the daemon that reads it.
 */

#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "topic.h"

static int	topic_bad(char *, size_t, const char *, ...)
		    __attribute__((__format__(printf, 3, 4)));

/* Write a reason if the caller wants one; returns -1. */
static int
topic_bad(char *why, size_t cap, const char *fmt, ...)
{
	va_list	ap;

	if (why != NULL && cap > 0) {
		va_start(ap, fmt);
		vsnprintf(why, cap, fmt, ap);
		va_end(ap);
	}
	return (-1);
}

/*
 * Decode one UTF-8 sequence at p (n bytes left); its code point in *cp.
 * Returns its length, or 0 if it is not valid UTF-8 (invariant 1).
 */
static size_t
topic_utf8(const unsigned char *p, size_t n, uint32_t *cp)
{
	uint32_t	c, min;
	size_t		len, i;

	if (p[0] < 0x80) {
		*cp = p[0];
		return (1);
	}
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		c = p[0] & 0x1f;
		min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		c = p[0] & 0x0f;
		min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		c = p[0] & 0x07;
		min = 0x10000;
	} else
		return (0);
	if (len > n)
		return (0);
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return (0);
	*cp = c;
	return (len);
}

/* See topic.h. */
int
topic_check(const char *topic, size_t len, char *why, size_t cap)
{
	const unsigned char	*p = (const unsigned char *)topic;
	uint32_t		 cp;
	size_t			 off, n;

	if (topic == NULL || len == 0)
		return (topic_bad(why, cap, "empty topic"));
	if (len > TOPIC_MAX_LEN)
		return (topic_bad(why, cap, "topic of %zu bytes is longer than "
		    "%zu", len, (size_t)TOPIC_MAX_LEN));
	for (off = 0; off < len; off += n) {
		if ((n = topic_utf8(p + off, len - off, &cp)) == 0)
			return (topic_bad(why, cap, "topic is not valid UTF-8 "
			    "(byte %zu of %zu)", off + 1, len));
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return (topic_bad(why, cap, "topic holds a control "
			    "character (byte %zu of %zu)", off + 1, len));
	}
	return (0);
}

/* See topic.h. */
int
topic_is_regex(const char *topic)
{
	return (topic[strcspn(topic, ".*+?^$[](){}|\\")] != '\0');
}

/* See topic.h. */
int
topic_pattern_is_all(const char *pattern)
{
	static const char *const all[] = { ".*", "^.*", ".*$", "^.*$",
	    "(.*)", "^(.*)$" };
	size_t			 i;

	for (i = 0; i < sizeof all / sizeof all[0]; i++)
		if (strcmp(pattern, all[i]) == 0)
			return (1);
	return (0);
}
