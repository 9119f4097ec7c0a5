/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * JSON document helpers for ampsim (pure logic, no I/O): XPath-like paths
 * (PROTOCOL.md §12.3), SowKey computation (§9.1), delta merge and delta output
 * (§11), select projection (§13), orderby comparison (§9.4).
 */
#ifndef AMPSIM_JSONDOC_H
#define AMPSIM_JSONDOC_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/*
 * Resolve "/a/b", "/a[2]", "[/odd name]" against doc.  Returns a borrowed
 * reference, or NULL when the path does not resolve.  Arrays of objects are
 * resolved element-wise by jdoc_path_values (for array-aware comparisons).
 */
const json_t	*jdoc_path(const json_t *doc, const char *path);
/* Every value a path reaches, flattening arrays; returns a new array. */
json_t		*jdoc_path_values(const json_t *doc, const char *path);

/*
 * SowKey of doc for a topic keyed by the given paths: a 64-bit FNV-1a hash
 * of the topic name and the canonical key values.  Returns 0 and sets *key,
 * or -1 when a key field is missing.
 */
int		 jdoc_sowkey(const json_t *doc, const char *topic,
		    char *const *paths, size_t npaths, uint64_t *key);

/*
 * Delta merge (§11.1): a new object = old with every non-null leaf of delta
 * applied by path; nested objects merge, arrays replace.  Returns a new
 * reference.
 */
json_t		*jdoc_merge(const json_t *old, const json_t *delta);

/*
 * Delta output (§11.2): an object holding the key paths of new plus every
 * path whose value differs from old (or is new).  *changed is set to the
 * number of non-key paths that changed (0 lets the caller apply
 * no_empties).  Returns a new reference.
 */
json_t		*jdoc_delta(const json_t *old, const json_t *new,
		    char *const *keypaths, size_t nkeys, int *changed);

/*
 * Select projection: spec like "-/,+/id,+/a/b" (brackets already removed).
 * Returns a compiled projection or NULL on a syntax error.
 */
struct jdoc_select;
struct jdoc_select *jdoc_select_compile(const char *spec, size_t len);
json_t		*jdoc_select_apply(const struct jdoc_select *, const json_t *);
void		 jdoc_select_free(struct jdoc_select *);

/*
 * Orderby: "/a DESC, /b ASC".  jdoc_orderby_cmp follows AMPS comparison
 * rules (numbers before strings, NULLs first ascending).
 */
struct jdoc_orderby;
struct jdoc_orderby *jdoc_orderby_compile(const char *spec, size_t len);
int		 jdoc_orderby_cmp(const struct jdoc_orderby *, const json_t *,
		    const json_t *);
void		 jdoc_orderby_free(struct jdoc_orderby *);

#endif /* AMPSIM_JSONDOC_H */
