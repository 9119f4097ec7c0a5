/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * jsoncheck: exit 0 when standard input is one valid JSON text (RFC 8259:
 * objects, arrays, strings with their escapes and no raw control bytes,
 * numbers, true/false/null, nesting at most 64), else print where it
 * fails and exit 1.  Used by the integration tests, which must not rely
 * on python3 or jq; check_ctlstatus includes it with JSONCHECK_NO_MAIN.
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifetime.h"

struct jc {
	const char	*p;
	const char	*end;
	int		 depth;
};

static int	jc_value(struct jc *);

/* Skip JSON white space. */
static void
jc_ws(struct jc *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

/* A string, at the opening quote. */
static int
jc_string(struct jc *j)
{
	int	i;

	if (j->p >= j->end || *j->p != '"')
		return (-1);
	for (j->p++; j->p < j->end; j->p++) {
		if (*j->p == '"') {
			j->p++;
			return (0);
		}
		if ((unsigned char)*j->p < 0x20)
			return (-1);
		if (*j->p != '\\')
			continue;
		if (++j->p >= j->end)
			return (-1);
		if (strchr("\"\\/bfnrt", *j->p) != NULL)
			continue;
		if (*j->p != 'u')
			return (-1);
		for (i = 0; i < 4; i++)
			if (++j->p >= j->end ||
			    !isxdigit((unsigned char)*j->p))
				return (-1);
	}
	return (-1);
}

/* A number. */
static int
jc_number(struct jc *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (j->p < j->end && *j->p >= '1' && *j->p <= '9')
		while (j->p < j->end && isdigit((unsigned char)*j->p))
			j->p++;
	else
		return (-1);
	if (j->p < j->end && *j->p == '.') {
		if (++j->p >= j->end || !isdigit((unsigned char)*j->p))
			return (-1);
		while (j->p < j->end && isdigit((unsigned char)*j->p))
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->end || !isdigit((unsigned char)*j->p))
			return (-1);
		while (j->p < j->end && isdigit((unsigned char)*j->p))
			j->p++;
	}
	return (0);
}

/* A literal word. */
static int
jc_word(struct jc *j, const char *w)
{
	size_t	n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return (-1);
	j->p += n;
	return (0);
}

/* An object or an array, at its opening bracket. */
static int
jc_compound(struct jc *j)
{
	char	close = *j->p == '{' ? '}' : ']';
	int	obj = close == '}';

	if (++j->depth > 64)
		return (-1);
	j->p++;
	jc_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return (0);
	}
	for (;;) {
		jc_ws(j);
		if (obj) {
			if (jc_string(j) == -1)
				return (-1);
			jc_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return (-1);
		}
		if (jc_value(j) == -1)
			return (-1);
		jc_ws(j);
		if (j->p >= j->end)
			return (-1);
		if (*j->p == close) {
			j->p++;
			j->depth--;
			return (0);
		}
		if (*j->p++ != ',')
			return (-1);
	}
}

/* Any value, after optional white space. */
static int
jc_value(struct jc *j)
{
	jc_ws(j);
	if (j->p >= j->end)
		return (-1);
	switch (*j->p) {
	case '{':
	case '[':
		return (jc_compound(j));
	case '"':
		return (jc_string(j));
	case 't':
		return (jc_word(j, "true"));
	case 'f':
		return (jc_word(j, "false"));
	case 'n':
		return (jc_word(j, "null"));
	default:
		return (jc_number(j));
	}
}

/* Whether buf[0..len) is exactly one JSON text; *off: where it failed. */
static int
jsoncheck(const char *buf, size_t len, size_t *off)
{
	struct jc	j;

	j.p = buf;
	j.end = buf + len;
	j.depth = 0;
	if (jc_value(&j) == 0) {
		jc_ws(&j);
		if (j.p == j.end)
			return (1);
	}
	*off = (size_t)(j.p - buf);
	return (0);
}

#ifndef JSONCHECK_NO_MAIN
int
main(void)
{
	static char	buf[1 << 20];
	size_t		len, off;

	lifetime_start("jsoncheck", 60, "standard input never reached its end");
	len = fread(buf, 1, sizeof buf, stdin);
	if (len == sizeof buf) {
		fprintf(stderr, "jsoncheck: input too long\n");
		return (1);
	}
	if (!jsoncheck(buf, len, &off)) {
		fprintf(stderr, "jsoncheck: invalid JSON at byte %zu\n", off);
		return (1);
	}
	return (0);
}
#endif
