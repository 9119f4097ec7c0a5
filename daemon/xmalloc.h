/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Allocators that never return NULL: on failure they log and exit.  For
 * the daemon only (systemd restarts it and the stores make that safe);
 * never for libampsipc.
 */

#ifndef AMPSD_XMALLOC_H
#define AMPSD_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((__format__(printf, 2, 3)));

#endif /* AMPSD_XMALLOC_H */
