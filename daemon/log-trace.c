/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Names of the log levels and trace categories, for the configuration
 * ("log level", "log trace") and the run-time switches (`ampsctl trace`,
 * `ampsctl verbose`).  Pure logic: no I/O, no global state.
 *
 *	level		info 0, debug 1, trace 2
 *	category	connection 0x1, ipc 0x2, store 0x4, wire 0x8; all
 *
 * An edit is a list of words separated by spaces or commas: "+CAT" or
 * "CAT" switches a category on, "-CAT" off, in order ("all -wire" is
 * everything but wire).
 *
 * Invariants:
 *   (1) log_trace_edit() changes *mask only when every word is valid.
 *   (2) log_trace_names() output parses back to the same mask.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <string.h>

#include "log.h"

static const struct {
	const char	*name;
	unsigned	 bit;
} log_cats[] = {
	{ "connection",	TRACE_CONN },
	{ "ipc",	TRACE_IPC },
	{ "store",	TRACE_STORE },
	{ "wire",	TRACE_WIRE },
	{ "all",	TRACE_ALL },
};

static const char *const log_levels[] = { "info", "debug", "trace" };

/* The bit(s) of a category name, or 0 if unknown. */
unsigned
log_trace_bit(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof log_cats / sizeof log_cats[0]; i++)
		if (strcmp(log_cats[i].name, name) == 0)
			return (log_cats[i].bit);
	return (0);
}

/*
 * Apply the edit words to *mask.  Returns 0, or -1 with a message in err
 * (and *mask unchanged, invariant 1).
 */
int
log_trace_edit(unsigned *mask, const char *words, char *err, size_t errlen)
{
	char		 word[32];
	const char	*p = words, *name;
	unsigned	 m = *mask, bit;
	size_t		 n;
	int		 on;

	for (;;) {
		p += strspn(p, " ,\t");
		if (*p == '\0')
			break;
		n = strcspn(p, " ,\t");
		if (n >= sizeof word) {
			snprintf(err, errlen, "unknown trace category");
			return (-1);
		}
		memcpy(word, p, n);
		word[n] = '\0';
		p += n;
		on = word[0] != '-';
		name = word[0] == '-' || word[0] == '+' ? word + 1 : word;
		if ((bit = log_trace_bit(name)) == 0) {
			snprintf(err, errlen, "unknown trace category \"%.31s\" "
			    "(connection, ipc, store, wire, all)", name);
			return (-1);
		}
		if (on)
			m |= bit;
		else
			m &= ~bit;
	}
	*mask = m;
	return (0);
}

/* Write the categories of mask as "connection,wire" ("none" if empty). */
void
log_trace_names(unsigned mask, char *buf, size_t len)
{
	size_t	i, o = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < sizeof log_cats / sizeof log_cats[0]; i++) {
		if (log_cats[i].bit == TRACE_ALL || !(mask & log_cats[i].bit))
			continue;
		o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%s",
		    o ? "," : "", log_cats[i].name);
		if (o >= len)
			return;
	}
	if (o == 0)
		snprintf(buf, len, "none");
}

/* A level by name (info, debug, trace) or digit (0, 1, 2); -1 if bad. */
int
log_level_parse(const char *s)
{
	int	i;

	for (i = 0; i < 3; i++)
		if (strcmp(s, log_levels[i]) == 0 ||
		    (s[0] == '0' + i && s[1] == '\0'))
			return (i);
	return (-1);
}

/* The name of a level (2 and above are "trace"). */
const char *
log_level_name(int v)
{
	if (v < 0)
		v = 0;
	return (log_levels[v > 2 ? 2 : v]);
}
