/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * simutil.c: small helpers for ampsim: logging to stderr, allocation that
 * exits on out-of-memory (ampsim is a test tool), growable buffers, a u64
 * hash map, clocks and interval parsing.
 *
 * Invariants:
 *  1. Log lines go to stderr, one line per call, prefixed with the
 *     monotonic time in ms; untrusted strings are escaped by callers with
 *     sim_escape_log().
 *  2. Timers use CLOCK_MONOTONIC; only timestamps sent to clients (`ts`,
 *     `lp`, timestamp bookmarks) use the wall clock.
 */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ampsim.h"

int sim_verbose = LOG_INFO;

static const char *levels[] = { "error", "warn", "info", "debug" };

/* Log a formatted line when level is enabled. */
void
sim_log(int level, const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	if (level > sim_verbose)
		return;
	fprintf(stderr, "ampsim[%llu] %s: ", (unsigned long long)sim_mono_ms(),
	    levels[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	errno = saved;
}

/* Log and exit: startup failures only. */
void
sim_fatalx(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "ampsim: fatal: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* malloc or exit. */
void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		sim_fatalx("out of memory");
	return (p);
}

/* calloc or exit. */
void *
xcalloc(size_t n, size_t sz)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, sz == 0 ? 1 : sz)) == NULL)
		sim_fatalx("out of memory");
	return (p);
}

/* realloc or exit. */
void *
xrealloc(void *o, size_t n)
{
	void	*p;

	if ((p = realloc(o, n == 0 ? 1 : n)) == NULL)
		sim_fatalx("out of memory");
	return (p);
}

/* strdup or exit. */
char *
xstrdup(const char *s)
{
	return (xstrndup(s, strlen(s)));
}

/* strndup or exit; s need not be NUL-terminated. */
char *
xstrndup(const char *s, size_t n)
{
	char	*p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return (p);
}

/* Copy s into out with non-printable bytes as \xHH, truncated to cap. */
char *
sim_escape_log(const char *s, size_t len, char *out, size_t cap)
{
	size_t	i, o = 0;

	if (cap == 0)
		return (out);
	for (i = 0; i < len && o + 5 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isprint(c) && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
	}
	out[o] = '\0';
	return (out);
}

/* Monotonic milliseconds. */
uint64_t
sim_mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* Wall clock microseconds since the Unix epoch. */
int64_t
sim_wall_usec(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* Make room for n more bytes. */
void
sbuf_reserve(struct sbuf *b, size_t n)
{
	size_t	ncap;

	if (b->cap - b->len >= n)
		return;
	ncap = b->cap ? b->cap : 4096;
	while (ncap - b->len < n)
		ncap *= 2;
	b->p = xrealloc(b->p, ncap);
	b->cap = ncap;
}

/* Append bytes. */
void
sbuf_add(struct sbuf *b, const void *p, size_t n)
{
	sbuf_reserve(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* Release a buffer. */
void
sbuf_free(struct sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* Parse an interval: digits with an optional ms/s/m/h suffix (bare = ms). */
long long
sim_parse_interval_ms(const char *s, size_t len)
{
	long long	v = 0;
	size_t		i = 0;

	while (i < len && s[i] == ' ')
		i++;
	if (i == len || !isdigit((unsigned char)s[i]))
		return (-1);
	while (i < len && isdigit((unsigned char)s[i])) {
		v = v * 10 + (s[i] - '0');
		if (v > 1000000000LL)
			return (-1);
		i++;
	}
	if (i == len)
		return (v);
	if (len - i == 2 && strncmp(s + i, "ms", 2) == 0)
		return (v);
	if (len - i == 1 && s[i] == 's')
		return (v * 1000);
	if (len - i == 1 && s[i] == 'm')
		return (v * 60000);
	if (len - i == 1 && s[i] == 'h')
		return (v * 3600000);
	return (-1);
}

/* Get a buffer of at least need bytes. */
char *
hbuf_get(struct hbuf *h, size_t need)
{
	if (need <= sizeof h->stack) {
		h->p = h->stack;
		h->cap = sizeof h->stack;
	} else {
		h->p = xmalloc(need);
		h->cap = need;
	}
	return (h->p);
}

/* Release a header buffer. */
void
hbuf_free(struct hbuf *h)
{
	if (h->p != NULL && h->p != h->stack)
		free(h->p);
	h->p = NULL;
}

/* strlen that accepts NULL. */
size_t
slen(const char *s)
{
	return (s != NULL ? strlen(s) : 0);
}
