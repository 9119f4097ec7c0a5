/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * x* allocators for the daemon.  Each one either returns memory or
 * writes a message to stderr and exits with status 1; out of memory is
 * the only reason they exit.  They do not use log.c, so the
 * configuration library (which links this file) stays free of it.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/* Report an allocation failure and exit. */
static void __attribute__((__noreturn__))
xalloc_fail(const char *what, size_t n)
{
	fprintf(stderr, "ampsd: %s: cannot allocate %zu bytes: %s\n", what,
	    n, strerror(errno));
	exit(1);
}

/* Allocate n bytes (at least 1). */
void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		xalloc_fail("xmalloc", n);
	return (p);
}

/* Allocate nmemb zeroed members of size bytes, checking for overflow. */
void *
xcalloc(size_t nmemb, size_t size)
{
	void	*p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if ((p = calloc(nmemb, size)) == NULL)
		xalloc_fail("xcalloc", nmemb * size);
	return (p);
}

/* Resize p to nmemb * size bytes, checking for overflow. */
void *
xreallocarray(void *p, size_t nmemb, size_t size)
{
	void	*np;

	if (size != 0 && nmemb > SIZE_MAX / size) {
		errno = ENOMEM;
		xalloc_fail("xreallocarray", SIZE_MAX);
	}
	if ((np = realloc(p, nmemb * size == 0 ? 1 : nmemb * size)) == NULL)
		xalloc_fail("xreallocarray", nmemb * size);
	return (np);
}

/* Duplicate a string. */
char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		xalloc_fail("xstrdup", strlen(s) + 1);
	return (p);
}

/* Duplicate at most n bytes of s, always NUL-terminated. */
char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	if ((p = strndup(s, n)) == NULL)
		xalloc_fail("xstrndup", n + 1);
	return (p);
}

/* Format into a newly allocated string; returns its length. */
int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (n == -1)
		xalloc_fail("xasprintf", 0);
	return (n);
}
