/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Private to jsondoc.c, jsondoc-select.c and filter.c: the parsed form
 * of a path (PROTOCOL.md §12.3).  A step is a name (pointing into the path
 * text, not terminated) or an array index.
 */
#ifndef AMPSIM_JSONDOC_INT_H
#define AMPSIM_JSONDOC_INT_H

#include <stddef.h>
#include <jansson.h>

#define JPATH_MAXSTEPS	64	/* deeper paths never resolve */
#define JDOC_MAXKEYS	16	/* key paths considered by jdoc_delta */

struct jstep {
	int		 isidx;
	const char	*name;	/* borrowed from the path text */
	size_t		 len;
	size_t		 idx;
};

int		 jpath_parse(const char *, size_t, struct jstep *, size_t);
json_t		*jpath_getn(const json_t *, const char *, size_t);
const json_t	*jpath_resolve(const json_t *, const struct jstep *, size_t);

#endif /* AMPSIM_JSONDOC_INT_H */
