/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * jsondoc.c: JSON document helpers for ampsim.  Owns the path syntax
 * shared by filters, SowKeys, select and orderby (PROTOCOL.md §12.3), the
 * SowKey hash (§9.1), delta merge (§11.1) and delta output (§11.2).  Select and
 * orderby live in jsondoc-select.c and reuse the path parser from
 * jsondoc-int.h.  Pure logic: no I/O, no global state.
 *
 * Invariants:
 * 1. Paths are parsed without allocating, into at most JPATH_MAXSTEPS
 *    steps; a longer or malformed path never resolves (NULL / -1).
 * 2. Functions returning json_t * return a new reference the caller
 *    owns; jdoc_path returns a borrowed one valid while doc lives.
 * 3. Input documents are never modified.
 * 4. Every length is checked before a byte is read: parsing stops at
 *    the given end, never at an assumed NUL.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsondoc.h"
#include "jsondoc-int.h"

#define FNV64_OFFSET	0xcbf29ce484222325ULL
#define FNV64_PRIME	0x100000001b3ULL
#define SOWKEY_SEP	0x1f

/* Parse "[digits]" at *p (p < end, *p == '['); advance past it. */
static int
jpath_index(const char **pp, const char *end, struct jstep *st)
{
	const char	*p = *pp + 1;
	size_t		 idx = 0, nd = 0;

	while (p < end && *p >= '0' && *p <= '9') {
		if (idx > (SIZE_MAX - 9) / 10)
			return (-1);
		idx = idx * 10 + (size_t)(*p - '0');
		p++;
		nd++;
	}
	if (nd == 0 || p >= end || *p != ']')
		return (-1);
	st->isidx = 1;
	st->idx = idx;
	st->name = NULL;
	st->len = 0;
	*pp = p + 1;
	return (0);
}

/*
 * Parse path[0..len) into steps.  Accepts "/a/b", "/a[0]/b", "/@x",
 * "/55", "[/odd name]" optionally followed by "[n]" indices, and "/"
 * (the document itself, zero steps).  Returns the number of steps or -1.
 */
int
jpath_parse(const char *path, size_t len, struct jstep *steps, size_t max)
{
	const char	*p = path, *end = path + len, *iend, *close;
	size_t		 n = 0;
	int		 bracket = 0;

	if (path == NULL || len == 0)
		return (-1);
	iend = end;
	if (*p == '[') {
		close = memchr(p, ']', len);
		if (close == NULL || len < 2 || p[1] != '/')
			return (-1);
		bracket = 1;
		p++;
		iend = close;
	}
	if (p >= iend || *p != '/')
		return (-1);
	if (!bracket && iend - p == 1)
		return (0);
	while (p < iend) {
		const char	*name;

		if (*p != '/')
			return (-1);
		p++;
		name = p;
		while (p < iend && *p != '/' && (bracket || *p != '['))
			p++;
		if (p == name || n >= max)
			return (-1);
		steps[n].isidx = 0;
		steps[n].name = name;
		steps[n].len = (size_t)(p - name);
		steps[n].idx = 0;
		n++;
		while (!bracket && p < iend && *p == '[') {
			if (n >= max || jpath_index(&p, iend, &steps[n]) != 0)
				return (-1);
			n++;
		}
	}
	if (bracket) {
		p = iend + 1;
		while (p < end) {
			if (*p != '[' || n >= max ||
			    jpath_index(&p, end, &steps[n]) != 0)
				return (-1);
			n++;
		}
	}
	return ((int)n);
}

/* Look up a key given by pointer and length (the name is not terminated). */
json_t *
jpath_getn(const json_t *obj, const char *name, size_t len)
{
	char	 buf[256], *key;
	json_t	*v;

	if (!json_is_object(obj))
		return (NULL);
	if (len < sizeof buf) {
		memcpy(buf, name, len);
		buf[len] = '\0';
		return (json_object_get(obj, buf));
	}
	if ((key = malloc(len + 1)) == NULL)
		return (NULL);
	memcpy(key, name, len);
	key[len] = '\0';
	v = json_object_get(obj, key);
	free(key);
	return (v);
}

/* Resolve parsed steps strictly: names on objects, indices on arrays. */
const json_t *
jpath_resolve(const json_t *doc, const struct jstep *steps, size_t n)
{
	const json_t	*v = doc;
	size_t		 i;

	for (i = 0; i < n && v != NULL; i++) {
		if (steps[i].isidx)
			v = json_is_array(v) ?
			    json_array_get(v, steps[i].idx) : NULL;
		else
			v = jpath_getn(v, steps[i].name, steps[i].len);
	}
	return (v);
}

/*
 * Resolve path against doc (strict: no array flattening).  Returns a
 * borrowed reference or NULL.
 */
const json_t *
jdoc_path(const json_t *doc, const char *path)
{
	struct jstep	 steps[JPATH_MAXSTEPS];
	int		 n;

	if (doc == NULL || path == NULL)
		return (NULL);
	n = jpath_parse(path, strlen(path), steps, JPATH_MAXSTEPS);
	if (n < 0)
		return (NULL);
	return (jpath_resolve(doc, steps, (size_t)n));
}

/* Append v to out, flattening nested arrays. */
static void
values_flatten(json_t *out, const json_t *v)
{
	size_t	 i;

	if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++)
			values_flatten(out, json_array_get(v, i));
	} else
		json_array_append(out, (json_t *)v);
}

/* Collect every value steps[i..n) reach from v; arrays fan out. */
static void
values_walk(json_t *out, const json_t *v, const struct jstep *steps,
    size_t i, size_t n)
{
	size_t	 k;

	if (v == NULL)
		return;
	if (i == n) {
		values_flatten(out, v);
		return;
	}
	if (steps[i].isidx) {
		if (json_is_array(v))
			values_walk(out, json_array_get(v, steps[i].idx),
			    steps, i + 1, n);
		return;
	}
	if (json_is_array(v)) {
		for (k = 0; k < json_array_size(v); k++)
			values_walk(out, json_array_get(v, k), steps, i, n);
		return;
	}
	values_walk(out, jpath_getn(v, steps[i].name, steps[i].len), steps,
	    i + 1, n);
}

/*
 * Every value path reaches in doc: a name step applied to an array is
 * applied to each element, and a final array contributes its elements
 * (nested arrays flattened).  Returns a new array (empty when nothing
 * resolves or the path is malformed), NULL only when out of memory.
 */
json_t *
jdoc_path_values(const json_t *doc, const char *path)
{
	struct jstep	 steps[JPATH_MAXSTEPS];
	json_t		*out;
	int		 n;

	if ((out = json_array()) == NULL)
		return (NULL);
	if (doc == NULL || path == NULL)
		return (out);
	n = jpath_parse(path, strlen(path), steps, JPATH_MAXSTEPS);
	if (n >= 0)
		values_walk(out, doc, steps, 0, (size_t)n);
	return (out);
}

/* Fold len bytes into an FNV-1a hash. */
static uint64_t
fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char	*p = data;
	size_t			 i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV64_PRIME;
	}
	return (h);
}

/*
 * SowKey: FNV-1a 64 over topic, then for each key a 0x1f separator and
 * the canonical (compact, sorted-keys) JSON encoding of its value.  A JSON
 * null key value is hashed as "null"; an unresolvable key returns -1.
 */
int
jdoc_sowkey(const json_t *doc, const char *topic, char *const *paths,
    size_t npaths, uint64_t *key)
{
	const unsigned char	 sep = SOWKEY_SEP;
	const json_t		*v;
	uint64_t		 h = FNV64_OFFSET;
	char			*enc;
	size_t			 i;

	if (doc == NULL || key == NULL || (npaths > 0 && paths == NULL))
		return (-1);
	if (topic != NULL)
		h = fnv1a(h, topic, strlen(topic));
	for (i = 0; i < npaths; i++) {
		if (paths[i] == NULL || (v = jdoc_path(doc, paths[i])) == NULL)
			return (-1);
		enc = json_dumps(v,
		    JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
		if (enc == NULL)
			return (-1);
		h = fnv1a(h, &sep, 1);
		h = fnv1a(h, enc, strlen(enc));
		free(enc);
	}
	*key = h;
	return (0);
}

/*
 * Merge delta object into dst in place: nested objects recurse, null
 * values are skipped, anything else (arrays included) replaces.  Existing
 * keys keep their position; new keys are appended.
 */
static int
merge_into(json_t *dst, const json_t *delta)
{
	const char	*k;
	json_t		*dv, *cur, *sub;

	json_object_foreach((json_t *)delta, k, dv) {
		if (json_is_null(dv))
			continue;
		cur = json_object_get(dst, k);
		if (json_is_object(dv) && json_is_object(cur)) {
			if (merge_into(cur, dv) != 0)
				return (-1);
			continue;
		}
		if (json_is_object(dv)) {
			if ((sub = json_object()) == NULL)
				return (-1);
			if (merge_into(sub, dv) != 0) {
				json_decref(sub);
				return (-1);
			}
			/* A delta of only nulls leaves an old value alone. */
			if (json_object_size(sub) == 0 &&
			    json_object_size(dv) != 0 && cur != NULL) {
				json_decref(sub);
				continue;
			}
			if (json_object_set_new(dst, k, sub) != 0)
				return (-1);
			continue;
		}
		if (json_object_set_new(dst, k, json_deep_copy(dv)) != 0)
			return (-1);
	}
	return (0);
}

/*
 * Delta merge (§11.1).  Both objects: old with every non-null leaf of
 * delta applied by path.  If either is not an object, delta replaces old.
 * Returns a new reference, NULL when out of memory or delta is NULL.
 */
json_t *
jdoc_merge(const json_t *old, const json_t *delta)
{
	json_t	*out;

	if (delta == NULL)
		return (old != NULL ? json_deep_copy(old) : NULL);
	if (!json_is_object(old) || !json_is_object(delta)) {
		if (!json_is_object(delta))
			return (json_deep_copy(delta));
		if ((out = json_object()) == NULL)
			return (NULL);
	} else if ((out = json_deep_copy(old)) == NULL)
		return (NULL);
	if (merge_into(out, delta) != 0) {
		json_decref(out);
		return (NULL);
	}
	return (out);
}

/* Walk state for jdoc_delta: the current path as a stack of names. */
struct dwalk {
	const char		*names[JPATH_MAXSTEPS];
	size_t			 depth;
	const json_t		*oldroot;
	struct jstep		 keys[JDOC_MAXKEYS][JPATH_MAXSTEPS];
	int			 nkeystep[JDOC_MAXKEYS];
	size_t			 nkeys;
	json_t			*out;
	int			 changed;
};

/* Set value at the name stack in obj, creating intermediate objects. */
static int
delta_set(json_t *obj, const char *const *names, size_t depth, json_t *v)
{
	json_t	*cur = obj, *sub;
	size_t	 i;

	for (i = 0; i + 1 < depth; i++) {
		sub = json_object_get(cur, names[i]);
		if (!json_is_object(sub)) {
			if ((sub = json_object()) == NULL ||
			    json_object_set_new(cur, names[i], sub) != 0)
				return (-1);
		}
		cur = sub;
	}
	if (depth == 0)
		return (-1);
	return (json_object_set(cur, names[depth - 1], v));
}

/* True when some key path is a prefix of (or equal to) the name stack. */
static int
delta_iskey(const struct dwalk *w)
{
	size_t	 k, i;
	int	 ok;

	for (k = 0; k < w->nkeys; k++) {
		if (w->nkeystep[k] <= 0 || (size_t)w->nkeystep[k] > w->depth)
			continue;
		ok = 1;
		for (i = 0; ok && i < (size_t)w->nkeystep[k]; i++) {
			if (w->keys[k][i].isidx ||
			    w->keys[k][i].len != strlen(w->names[i]) ||
			    memcmp(w->keys[k][i].name, w->names[i],
			    w->keys[k][i].len) != 0)
				ok = 0;
		}
		if (ok)
			return (1);
	}
	return (0);
}

/* The value at the name stack in the old document, or NULL. */
static const json_t *
delta_old(const struct dwalk *w)
{
	const json_t	*v = w->oldroot;
	size_t		 i;

	for (i = 0; i < w->depth && v != NULL; i++)
		v = json_is_object(v) ? json_object_get(v, w->names[i]) : NULL;
	return (v);
}

/* Visit every leaf of obj (non-empty objects are interior nodes). */
static int
delta_walk(struct dwalk *w, const json_t *obj)
{
	const char	*k;
	json_t		*v;
	const json_t	*ov;
	int		 iskey, differs;

	json_object_foreach((json_t *)obj, k, v) {
		if (w->depth >= JPATH_MAXSTEPS)
			return (-1);
		w->names[w->depth++] = k;
		if (json_is_object(v) && json_object_size(v) > 0) {
			if (delta_walk(w, v) != 0)
				return (-1);
		} else {
			iskey = delta_iskey(w);
			ov = delta_old(w);
			differs = (ov == NULL || !json_equal((json_t *)ov, v));
			if (differs && !iskey)
				w->changed++;
			if ((differs || iskey) &&
			    delta_set(w->out, w->names, w->depth, v) != 0)
				return (-1);
		}
		w->depth--;
	}
	return (0);
}

/*
 * Delta output (§11.2): new's key paths plus each leaf of new that is
 * absent from old or differs from it (arrays compared whole), re-nested
 * in new's field order.  Key paths with an index step are not copied.
 * Returns a new reference (NULL when out of memory or new is not an
 * object); *changed counts the changed non-key leaves.
 */
json_t *
jdoc_delta(const json_t *old, const json_t *new, char *const *keypaths,
    size_t nkeys, int *changed)
{
	struct dwalk	*w;
	json_t		*out;
	size_t		 k;

	if (changed != NULL)
		*changed = 0;
	if (!json_is_object(new))
		return (NULL);
	if ((w = calloc(1, sizeof *w)) == NULL)
		return (NULL);
	w->oldroot = json_is_object(old) ? old : NULL;
	for (k = 0; k < nkeys && keypaths != NULL &&
	    w->nkeys < JDOC_MAXKEYS; k++) {
		if (keypaths[k] == NULL)
			continue;
		w->nkeystep[w->nkeys] = jpath_parse(keypaths[k],
		    strlen(keypaths[k]), w->keys[w->nkeys], JPATH_MAXSTEPS);
		w->nkeys++;
	}
	if ((w->out = json_object()) == NULL || delta_walk(w, new) != 0) {
		json_decref(w->out);
		free(w);
		return (NULL);
	}
	if (changed != NULL)
		*changed = w->changed;
	out = w->out;
	free(w);
	return (out);
}
