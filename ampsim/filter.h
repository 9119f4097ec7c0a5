/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * AMPS content filters (PROTOCOL.md §12): compile a filter string once,
 * evaluate it against JSON documents many times.  Pure logic: no I/O.
 *
 * Semantics: SQL three-valued logic with NULL (§12.5); a document matches
 * only when the expression is TRUE.  Keywords are case-insensitive.
 */
#ifndef AMPSIM_FILTER_H
#define AMPSIM_FILTER_H

#include <stddef.h>
#include <jansson.h>

struct filter;

/*
 * Compile text.  Returns NULL on a syntax error (the server answers
 * "bad filter") and writes a message to err.
 */
struct filter	*filter_compile(const char *text, size_t len, char *err,
		    size_t errlen);
/* 1 when doc makes the filter TRUE; 0 for FALSE or NULL. */
int		 filter_match(const struct filter *, const json_t *doc);
void		 filter_free(struct filter *);

#endif /* AMPSIM_FILTER_H */
