/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * jsondoc-select.c: select projection (PROTOCOL.md §13, option select=[...])
 * and orderby comparison (§9.4) over JSON documents.  Owns the compiled rule
 * lists; paths are parsed with jpath_parse (jsondoc.c).
 *
 * Select: rules "+/path" include and "-/path" exclude a subtree; "+/" and
 * "-/" set the root.  For each field the rule with the longest path that
 * is a prefix of the field's path decides (most specific wins; among
 * equal paths the later rule wins).  Without a root rule the root is
 * included when there are no "+" rules and excluded otherwise.  Objects
 * are traversed; arrays are leaves (rules with [n] steps are rejected).
 *
 * Orderby: per key, NULL (missing, JSON null or "") < numbers < strings
 * < other values (objects and arrays compare equal to each other);
 * numbers compare numerically, strings bytewise, booleans as the strings
 * "true"/"false".  DESC reverses the whole order, NULLs included.
 *
 * Invariants:
 * 1. Every rule owns its path text; its steps point into that text.
 * 2. Compile functions read at most len bytes of spec.
 * 3. Apply and compare never modify the documents.
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsondoc.h"
#include "jsondoc-int.h"

struct selrule {
	int		 include;
	char		*text;
	struct jstep	*steps;
	size_t		 nsteps;
};

struct jdoc_select {
	struct selrule	*rules;
	size_t		 nrules;
	int		 rootinc;	/* default when no rule matches */
};

struct obkey {
	char		*text;
	struct jstep	*steps;
	size_t		 nsteps;
	int		 desc;
};

struct jdoc_orderby {
	struct obkey	*keys;
	size_t		 nkeys;
};

/* Copy s[0..len) to a new NUL-terminated string. */
static char *
sel_strndup(const char *s, size_t len)
{
	char	*p;

	if ((p = malloc(len + 1)) == NULL)
		return (NULL);
	memcpy(p, s, len);
	p[len] = '\0';
	return (p);
}

/* Trim spaces from both ends of [*s, *e). */
static void
sel_trim(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

/*
 * Find the end of the comma-separated item starting at s (bracket depth
 * 0 commas only).  Returns a pointer to the comma or to end.
 */
static const char *
sel_item_end(const char *s, const char *end)
{
	int	 depth = 0;

	for (; s < end; s++) {
		if (*s == '[')
			depth++;
		else if (*s == ']' && depth > 0)
			depth--;
		else if (*s == ',' && depth == 0)
			break;
	}
	return (s);
}

/*
 * Parse path text into a newly allocated steps array; *text receives an
 * owned copy.  Returns 0 or -1.
 */
static int
sel_path(const char *s, size_t len, char **text, struct jstep **steps,
    size_t *nsteps)
{
	struct jstep	 tmp[JPATH_MAXSTEPS];
	int		 n;

	*text = NULL;
	*steps = NULL;
	if ((*text = sel_strndup(s, len)) == NULL)
		return (-1);
	n = jpath_parse(*text, len, tmp, JPATH_MAXSTEPS);
	if (n < 0)
		goto bad;
	if ((*steps = calloc((size_t)n + 1, sizeof **steps)) == NULL)
		goto bad;
	memcpy(*steps, tmp, (size_t)n * sizeof **steps);
	*nsteps = (size_t)n;
	return (0);
bad:
	free(*text);
	*text = NULL;
	return (-1);
}

/* Free a select projection; NULL is allowed. */
void
jdoc_select_free(struct jdoc_select *sel)
{
	size_t	 i;

	if (sel == NULL)
		return;
	for (i = 0; i < sel->nrules; i++) {
		free(sel->rules[i].text);
		free(sel->rules[i].steps);
	}
	free(sel->rules);
	free(sel);
}

/*
 * Compile "-/,+/id,+/a/b" (outer brackets tolerated).  Returns NULL on a
 * syntax error (empty item, missing sign, bad path, [n] step).
 */
struct jdoc_select *
jdoc_select_compile(const char *spec, size_t len)
{
	struct jdoc_select	*sel;
	struct selrule		*r, *nr;
	const char		*s = spec, *end = spec + len, *ie, *is;
	int			 haveroot = 0, haveplus = 0;
	size_t			 i;

	if (spec == NULL)
		return (NULL);
	sel_trim(&s, &end);
	if (end - s >= 2 && *s == '[' && (s[1] == '+' || s[1] == '-') &&
	    end[-1] == ']') {
		s++;
		end--;
	}
	if (s >= end || (sel = calloc(1, sizeof *sel)) == NULL)
		return (NULL);
	for (;;) {
		ie = sel_item_end(s, end);
		is = s;
		sel_trim(&is, &ie);
		if (ie - is < 2 || (*is != '+' && *is != '-'))
			goto bad;
		nr = realloc(sel->rules, (sel->nrules + 1) * sizeof *nr);
		if (nr == NULL)
			goto bad;
		sel->rules = nr;
		r = &sel->rules[sel->nrules];
		memset(r, 0, sizeof *r);
		r->include = (*is == '+');
		is++;
		while (is < ie && isspace((unsigned char)*is))
			is++;
		if (sel_path(is, (size_t)(ie - is), &r->text, &r->steps,
		    &r->nsteps) != 0)
			goto bad;
		sel->nrules++;
		for (i = 0; i < r->nsteps; i++)
			if (r->steps[i].isidx)
				goto bad;
		if (r->nsteps == 0)
			haveroot = 1;
		else if (r->include)
			haveplus = 1;
		if (ie == end)
			break;
		s = ie + 1;
	}
	sel->rootinc = haveroot ? 0 : !haveplus;
	return (sel);
bad:
	jdoc_select_free(sel);
	return (NULL);
}

/* Does the first n names of the stack equal the rule's steps? */
static int
sel_prefix(const struct selrule *r, const char *const *names, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (r->steps[i].len != strlen(names[i]) ||
		    memcmp(r->steps[i].name, names[i], r->steps[i].len) != 0)
			return (0);
	return (1);
}

/* Decide the field at names[0..depth): 1 include, 0 exclude. */
static int
sel_decide(const struct jdoc_select *sel, const char *const *names,
    size_t depth)
{
	size_t	 i, best = 0;
	int	 inc = sel->rootinc, found = 0;

	for (i = 0; i < sel->nrules; i++) {
		const struct selrule *r = &sel->rules[i];

		if (r->nsteps > depth || !sel_prefix(r, names, r->nsteps))
			continue;
		if (!found || r->nsteps >= best) {
			best = r->nsteps;
			inc = r->include;
			found = 1;
		}
	}
	return (inc);
}

/* Is there a rule strictly below names[0..depth)? */
static int
sel_below(const struct jdoc_select *sel, const char *const *names,
    size_t depth)
{
	size_t	 i;

	for (i = 0; i < sel->nrules; i++)
		if (sel->rules[i].nsteps > depth &&
		    sel_prefix(&sel->rules[i], names, depth))
			return (1);
	return (0);
}

/* Project obj (at names[0..depth)) into a new object. */
static json_t *
sel_obj(const struct jdoc_select *sel, const json_t *obj,
    const char **names, size_t depth)
{
	const char	*k;
	json_t		*v, *out, *sub;
	int		 inc;

	if ((out = json_object()) == NULL)
		return (NULL);
	json_object_foreach((json_t *)obj, k, v) {
		if (depth >= JPATH_MAXSTEPS)
			break;
		names[depth] = k;
		inc = sel_decide(sel, names, depth + 1);
		if (json_is_object(v) && sel_below(sel, names, depth + 1)) {
			sub = sel_obj(sel, v, names, depth + 1);
			if (sub == NULL)
				goto bad;
			if (json_object_size(sub) == 0 && !inc) {
				json_decref(sub);
				continue;
			}
			if (json_object_set_new(out, k, sub) != 0)
				goto bad;
		} else if (inc && json_object_set_new(out, k,
		    json_deep_copy(v)) != 0)
			goto bad;
	}
	return (out);
bad:
	json_decref(out);
	return (NULL);
}

/*
 * Apply a projection.  Returns a new reference: the projected object, a
 * copy of a non-object doc, or NULL when out of memory.
 */
json_t *
jdoc_select_apply(const struct jdoc_select *sel, const json_t *doc)
{
	const char	*names[JPATH_MAXSTEPS];

	if (doc == NULL)
		return (NULL);
	if (sel == NULL || !json_is_object(doc))
		return (json_deep_copy(doc));
	return (sel_obj(sel, doc, names, 0));
}

/* Free an orderby; NULL is allowed. */
void
jdoc_orderby_free(struct jdoc_orderby *ob)
{
	size_t	 i;

	if (ob == NULL)
		return;
	for (i = 0; i < ob->nkeys; i++) {
		free(ob->keys[i].text);
		free(ob->keys[i].steps);
	}
	free(ob->keys);
	free(ob);
}

/* Case-insensitive compare of s[0..len) with the word w. */
static int
sel_word(const char *s, size_t len, const char *w)
{
	return (strlen(w) == len && strncasecmp(s, w, len) == 0);
}

/*
 * Compile "/a DESC, /b ASC, [/odd name]".  Returns NULL on a syntax
 * error (empty item, bad path, unknown direction word).
 */
struct jdoc_orderby *
jdoc_orderby_compile(const char *spec, size_t len)
{
	struct jdoc_orderby	*ob;
	struct obkey		*k, *nk;
	const char		*s = spec, *end = spec + len, *ie, *is, *pe;
	const char		*close;

	if (spec == NULL)
		return (NULL);
	sel_trim(&s, &end);
	if (s >= end || (ob = calloc(1, sizeof *ob)) == NULL)
		return (NULL);
	for (;;) {
		ie = sel_item_end(s, end);
		is = s;
		sel_trim(&is, &ie);
		if (is >= ie)
			goto bad;
		pe = is;
		if (*is == '[') {
			close = memchr(is, ']', (size_t)(ie - is));
			if (close == NULL)
				goto bad;
			pe = close + 1;
		}
		while (pe < ie && !isspace((unsigned char)*pe))
			pe++;
		nk = realloc(ob->keys, (ob->nkeys + 1) * sizeof *nk);
		if (nk == NULL)
			goto bad;
		ob->keys = nk;
		k = &ob->keys[ob->nkeys];
		memset(k, 0, sizeof *k);
		if (sel_path(is, (size_t)(pe - is), &k->text, &k->steps,
		    &k->nsteps) != 0 || k->nsteps == 0)
			goto bad_key;
		ob->nkeys++;
		while (pe < ie && isspace((unsigned char)*pe))
			pe++;
		if (sel_word(pe, (size_t)(ie - pe), "DESC"))
			k->desc = 1;
		else if (pe != ie && !sel_word(pe, (size_t)(ie - pe), "ASC"))
			goto bad;
		if (ie == end)
			break;
		s = ie + 1;
	}
	return (ob);
bad_key:
	free(k->text);
	free(k->steps);
bad:
	jdoc_orderby_free(ob);
	return (NULL);
}

/* Rank of a value for ordering: 0 NULL, 1 number, 2 string, 3 other. */
static int
ob_rank(const json_t *v)
{
	if (v == NULL || json_is_null(v))
		return (0);
	if (json_is_string(v))
		return (json_string_length(v) == 0 ? 0 : 2);
	if (json_is_boolean(v))
		return (2);
	if (json_is_number(v))
		return (1);
	return (3);
}

/* The bytes a string-ranked value compares by. */
static const char *
ob_str(const json_t *v, size_t *len)
{
	if (json_is_boolean(v)) {
		*len = json_is_true(v) ? 4 : 5;
		return (json_is_true(v) ? "true" : "false");
	}
	*len = json_string_length(v);
	return (json_string_value(v));
}

/* Compare two values of the same rank. */
static int
ob_cmpval(const json_t *a, const json_t *b, int rank)
{
	const char	*sa, *sb;
	size_t		 la, lb;
	double		 da, db;
	int		 c;

	if (rank == 1) {
		if (json_is_integer(a) && json_is_integer(b)) {
			json_int_t ia = json_integer_value(a);
			json_int_t ib = json_integer_value(b);

			return ((ia > ib) - (ia < ib));
		}
		da = json_number_value(a);
		db = json_number_value(b);
		return ((da > db) - (da < db));
	}
	if (rank == 2) {
		sa = ob_str(a, &la);
		sb = ob_str(b, &lb);
		c = memcmp(sa, sb, la < lb ? la : lb);
		if (c != 0)
			return (c < 0 ? -1 : 1);
		return ((la > lb) - (la < lb));
	}
	return (0);
}

/*
 * Compare two documents by the orderby keys.  Returns <0, 0 or >0 like
 * strcmp; 0 when every key ties.
 */
int
jdoc_orderby_cmp(const struct jdoc_orderby *ob, const json_t *a,
    const json_t *b)
{
	const json_t	*va, *vb;
	size_t		 i;
	int		 ra, rb, c;

	if (ob == NULL)
		return (0);
	for (i = 0; i < ob->nkeys; i++) {
		va = jpath_resolve(a, ob->keys[i].steps, ob->keys[i].nsteps);
		vb = jpath_resolve(b, ob->keys[i].steps, ob->keys[i].nsteps);
		ra = ob_rank(va);
		rb = ob_rank(vb);
		c = (ra != rb) ? (ra < rb ? -1 : 1) : ob_cmpval(va, vb, ra);
		if (c != 0)
			return (ob->keys[i].desc ? -c : c);
	}
	return (0);
}
