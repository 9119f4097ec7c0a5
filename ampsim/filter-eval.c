/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * filter-eval.c: evaluate a filter AST against a JSON document with SQL
 * three-valued logic (PROTOCOL.md §12.5).
 *
 * Values: JSON strings are strings ("" is NULL), integers FV_INT, reals
 * FV_DBL, null NULL, objects NULL (but IS NULL sees them as present).
 * JSON true/false are FV_BOOL, and so are TRUE/FALSE keywords and the
 * results of predicates.  A boolean equals the string 'true'/'false'
 * (bytewise) and the numbers 1/0; as a condition, a number is TRUE when
 * non-zero and a string when it is "true" (any case) or a non-zero
 * number.
 *
 * Comparisons: numbers numerically (int64/uint64 exact, else double; NaN
 * is NULL); two strings bytewise; number vs string converts the string
 * when it is entirely a number, else the string is greater.
 *
 * Arithmetic: numeric strings convert, other strings give NULL; integer
 * operations stay integral (division truncates, % takes the sign of the
 * left operand) and fall back to double on overflow; x/0 and x%0 are
 * NULL.  UPPER/LOWER/LEN/INSTR/INSTR_I/STREQUAL_I/SUBSTR/COALESCE/IF
 * work on the first value of an identifier.
 *
 * Arrays: an identifier yields every value jdoc_path_values finds.
 * Comparisons, IN, BETWEEN, LIKE, BEGINS/ENDS WITH and IS NAN are TRUE
 * when any value (pair) is TRUE, else NULL when any is NULL, else FALSE;
 * the NOT forms negate that result.  No value at all is NULL.
 *
 * Invariants:
 * 1. Memory made during an evaluation (path value arrays, converted or
 *    computed strings, PCRE2 match data) hangs off the eval context and
 *    is released before filter_eval returns.
 * 2. String values carry a length and are never assumed terminated.
 * 3. Recursion depth is bounded by the parser's FILTER_MAXDEPTH.
 */

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsondoc.h"
#include "filter-int.h"

struct fmem {
	struct fmem	*next;
	json_t		*json;
	char		 data[];
};

struct fctx {
	const json_t		*doc;
	struct fmem		*mem;
	pcre2_match_data	*md;
};

/* The values an operand yields: a path value array or one value. */
struct fset {
	const json_t	*arr;	/* NULL: use one */
	size_t		 n;
	struct fval	 one;
};

static struct fval	eval_val(struct fctx *, const struct fnode *);
static int		eval_tri(struct fctx *, const struct fnode *);

/* Allocate len bytes owned by the context; NULL when out of memory. */
static char *
ctx_alloc(struct fctx *c, size_t len)
{
	struct fmem	*m;

	if ((m = malloc(sizeof *m + len + 1)) == NULL)
		return (NULL);
	m->json = NULL;
	m->next = c->mem;
	c->mem = m;
	return (m->data);
}

/* Keep a JSON reference until the evaluation ends. */
static int
ctx_keep(struct fctx *c, json_t *j)
{
	struct fmem	*m;

	if ((m = malloc(sizeof *m)) == NULL) {
		json_decref(j);
		return (-1);
	}
	m->json = j;
	m->next = c->mem;
	c->mem = m;
	return (0);
}

/* A NULL value. */
static struct fval
v_null(void)
{
	struct fval	 v;

	memset(&v, 0, sizeof v);
	return (v);
}

/* A boolean value, or NULL for TRI_NULL. */
static struct fval
v_tri(int t)
{
	struct fval	 v = v_null();

	if (t != TRI_NULL) {
		v.t = FV_BOOL;
		v.i = t;
	}
	return (v);
}

/* An integer value. */
static struct fval
v_int(int64_t i)
{
	struct fval	 v = v_null();

	v.t = FV_INT;
	v.i = i;
	return (v);
}

/* A double value. */
static struct fval
v_dbl(double d)
{
	struct fval	 v = v_null();

	v.t = FV_DBL;
	v.d = d;
	return (v);
}

/* A string value (NULL when empty). */
static struct fval
v_str(const char *s, size_t len)
{
	struct fval	 v = v_null();

	if (s != NULL && len > 0) {
		v.t = FV_STR;
		v.s = s;
		v.len = len;
	}
	return (v);
}

/* Convert a JSON value to a filter value. */
static struct fval
v_json(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_STRING:
		return (v_str(json_string_value(j), json_string_length(j)));
	case JSON_INTEGER:
		return (v_int(json_integer_value(j)));
	case JSON_REAL:
		return (v_dbl(json_real_value(j)));
	case JSON_TRUE:
		return (v_tri(TRI_TRUE));
	case JSON_FALSE:
		return (v_tri(TRI_FALSE));
	default:
		return (v_null());
	}
}

/* Is v a number type? */
static int
v_isnum(const struct fval *v)
{
	return (v->t == FV_INT || v->t == FV_UINT || v->t == FV_DBL);
}

/*
 * Parse s[0..len) as a number when it is entirely one (optional sign,
 * digits, fraction, exponent).  Returns 0 and sets *out, or -1.
 */
static int
v_parse(const char *s, size_t len, struct fval *out)
{
	char			 buf[64], *ep;
	size_t			 i, digits = 0;
	int			 isint = 1;
	unsigned long long	 u;
	long long		 ll;

	if (len == 0 || len >= sizeof buf)
		return (-1);
	for (i = 0; i < len; i++) {
		if (isdigit((unsigned char)s[i]))
			digits++;
		else if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
			isint = 0;
		else if (s[i] != '+' && s[i] != '-')
			return (-1);
	}
	if (digits == 0)
		return (-1);
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	if (isint && buf[0] == '-') {
		ll = strtoll(buf, &ep, 10);
		if (errno == 0 && *ep == '\0') {
			*out = v_int(ll);
			return (0);
		}
	} else if (isint) {
		u = strtoull(buf, &ep, 10);
		if (errno == 0 && *ep == '\0') {
			*out = v_int((int64_t)u);
			if (u > INT64_MAX) {
				out->t = FV_UINT;
				out->u = u;
			}
			return (0);
		}
	}
	errno = 0;
	*out = v_dbl(strtod(buf, &ep));
	return (*ep == '\0' ? 0 : -1);
}

/* Coerce v to a number for arithmetic; -1 when it is NULL or not one. */
static int
v_num(const struct fval *v, struct fval *out)
{
	if (v_isnum(v)) {
		*out = *v;
		return (0);
	}
	if (v->t == FV_BOOL) {
		*out = v_int(v->i);
		return (0);
	}
	if (v->t == FV_STR)
		return (v_parse(v->s, v->len, out));
	return (-1);
}

/* v as a double. */
static double
v_dbl_of(const struct fval *v)
{
	if (v->t == FV_INT)
		return ((double)v->i);
	if (v->t == FV_UINT)
		return ((double)v->u);
	return (v->d);
}

/* Compare two numbers: -1, 0, 1, or 2 when unordered (NaN). */
static int
num_cmp(const struct fval *a, const struct fval *b)
{
	double	 x, y;

	if (a->t == FV_INT && b->t == FV_INT)
		return ((a->i > b->i) - (a->i < b->i));
	if (a->t == FV_UINT && b->t == FV_UINT)
		return ((a->u > b->u) - (a->u < b->u));
	if (a->t == FV_INT && b->t == FV_UINT)
		return (-1);		/* FV_UINT is above INT64_MAX */
	if (a->t == FV_UINT && b->t == FV_INT)
		return (1);
	x = v_dbl_of(a);
	y = v_dbl_of(b);
	if (isnan(x) || isnan(y))
		return (2);
	return ((x > y) - (x < y));
}

/* Bytewise string comparison. */
static int
str_cmp(const char *a, size_t la, const char *b, size_t lb)
{
	int	 c;

	c = memcmp(a, b, la < lb ? la : lb);
	if (c != 0)
		return (c < 0 ? -1 : 1);
	return ((la > lb) - (la < lb));
}

/* Compare per §12.5: -1, 0, 1, or 2 when either side is NULL/unordered. */
static int
v_cmp(const struct fval *a, const struct fval *b)
{
	struct fval	 x, y;

	if (a->t == FV_NULL || b->t == FV_NULL)
		return (2);
	if (a->t == FV_BOOL && b->t == FV_STR)
		return (str_cmp(a->i ? "true" : "false", a->i ? 4 : 5,
		    b->s, b->len));
	if (a->t == FV_STR && b->t == FV_BOOL)
		return (-v_cmp(b, a));
	if (a->t == FV_STR && b->t == FV_STR)
		return (str_cmp(a->s, a->len, b->s, b->len));
	x = (a->t == FV_BOOL) ? v_int(a->i) : *a;
	y = (b->t == FV_BOOL) ? v_int(b->i) : *b;
	if (x.t == FV_STR && v_parse(x.s, x.len, &x) != 0)
		return (1);		/* strings are greater than numbers */
	if (y.t == FV_STR && v_parse(y.s, y.len, &y) != 0)
		return (-1);
	return (num_cmp(&x, &y));
}

/* Apply comparison op to a, b. */
static int
cmp_tri(enum fop op, const struct fval *a, const struct fval *b)
{
	int	 c = v_cmp(a, b);

	if (c == 2 || c == -2)
		return (TRI_NULL);
	switch (op) {
	case F_EQ: return (c == 0);
	case F_NE: return (c != 0);
	case F_LT: return (c < 0);
	case F_LE: return (c <= 0);
	case F_GT: return (c > 0);
	default: return (c >= 0);
	}
}

/* Three-valued AND. */
static int
tri_and(int a, int b)
{
	if (a == TRI_FALSE || b == TRI_FALSE)
		return (TRI_FALSE);
	if (a == TRI_NULL || b == TRI_NULL)
		return (TRI_NULL);
	return (TRI_TRUE);
}

/* Three-valued OR (also the "any" fold over array values). */
static int
tri_or(int a, int b)
{
	if (a == TRI_TRUE || b == TRI_TRUE)
		return (TRI_TRUE);
	if (a == TRI_NULL || b == TRI_NULL)
		return (TRI_NULL);
	return (TRI_FALSE);
}

/* Three-valued NOT. */
static int
tri_not(int a)
{
	return (a == TRI_NULL ? TRI_NULL : !a);
}

/* The truth of a value used as a condition. */
static int
v_truth(const struct fval *v)
{
	struct fval	 n;

	switch (v->t) {
	case FV_NULL:
		return (TRI_NULL);
	case FV_BOOL:
		return (v->i != 0);
	case FV_STR:
		if (v->len == 4 && strncasecmp(v->s, "true", 4) == 0)
			return (TRI_TRUE);
		if (v_parse(v->s, v->len, &n) != 0)
			return (TRI_FALSE);
		return (v_truth(&n));
	case FV_DBL:
		return (v->d != 0 && !isnan(v->d));
	case FV_UINT:
		return (TRI_TRUE);
	default:
		return (v->i != 0);
	}
}

/* Text of v for LIKE, BEGINS/ENDS and string functions; -1 for NULL. */
static int
v_text(struct fctx *c, const struct fval *v, const char **s, size_t *len)
{
	char	*buf;
	int	 n;

	switch (v->t) {
	case FV_NULL:
		return (-1);
	case FV_STR:
		*s = v->s;
		*len = v->len;
		return (0);
	case FV_BOOL:
		*s = v->i ? "true" : "false";
		*len = strlen(*s);
		return (0);
	default:
		break;
	}
	if ((buf = ctx_alloc(c, 32)) == NULL)
		return (-1);
	if (v->t == FV_INT)
		n = snprintf(buf, 32, "%lld", (long long)v->i);
	else if (v->t == FV_UINT)
		n = snprintf(buf, 32, "%llu", (unsigned long long)v->u);
	else
		n = snprintf(buf, 32, "%.15g", v->d);
	if (n < 0 || n >= 32)
		return (-1);
	*s = buf;
	*len = (size_t)n;
	return (0);
}

/* Evaluate n to its value set. */
static void
eval_set(struct fctx *c, const struct fnode *n, struct fset *set)
{
	json_t	*arr;

	set->arr = NULL;
	set->n = 1;
	if (n->op != F_IDENT) {
		set->one = eval_val(c, n);
		return;
	}
	set->one = v_null();
	arr = jdoc_path_values(c->doc, n->own);
	if (arr == NULL || ctx_keep(c, arr) != 0)
		return;
	if (json_array_size(arr) > 0) {
		set->arr = arr;
		set->n = json_array_size(arr);
	}
}

/* Element i of a value set. */
static struct fval
set_get(const struct fset *set, size_t i)
{
	if (set->arr == NULL)
		return (set->one);
	return (v_json(json_array_get(set->arr, i)));
}

/* Arithmetic on two numbers with integer fast paths. */
static struct fval
eval_arith(enum fop op, const struct fval *a, const struct fval *b)
{
	int64_t	 r;
	double	 x, y, q;

	if (a->t == FV_INT && b->t == FV_INT) {
		switch (op) {
		case F_ADD:
			if (!__builtin_add_overflow(a->i, b->i, &r))
				return (v_int(r));
			break;
		case F_SUB:
			if (!__builtin_sub_overflow(a->i, b->i, &r))
				return (v_int(r));
			break;
		case F_MUL:
			if (!__builtin_mul_overflow(a->i, b->i, &r))
				return (v_int(r));
			break;
		case F_DIV:
			if (b->i == 0)
				return (v_null());
			if (!(a->i == INT64_MIN && b->i == -1))
				return (v_int(a->i / b->i));
			break;
		default:
			if (b->i == 0)
				return (v_null());
			if (b->i == -1)
				return (v_int(0));
			return (v_int(a->i % b->i));
		}
	}
	x = v_dbl_of(a);
	y = v_dbl_of(b);
	switch (op) {
	case F_ADD:
		return (v_dbl(x + y));
	case F_SUB:
		return (v_dbl(x - y));
	case F_MUL:
		return (v_dbl(x * y));
	case F_DIV:
		return (y == 0 ? v_null() : v_dbl(x / y));
	default:
		if (y == 0 || isnan(x) || isnan(y) || isinf(x))
			return (v_null());
		q = x / y;
		if (q >= 9.2e18 || q <= -9.2e18)
			return (v_dbl(0));	/* beyond double precision */
		return (v_dbl(x - (double)(int64_t)q * y));
	}
}

/* Unary minus. */
static struct fval
eval_neg(const struct fval *v)
{
	struct fval	 n;

	if (v_num(v, &n) != 0)
		return (v_null());
	if (n.t == FV_INT && n.i != INT64_MIN)
		return (v_int(-n.i));
	if (n.t == FV_UINT && n.u == (uint64_t)INT64_MAX + 1)
		return (v_int(INT64_MIN));
	return (v_dbl(-v_dbl_of(&n)));
}

/* Case-insensitive memmem; returns the 1-based position or 0. */
static int64_t
instr(const char *s, size_t ls, const char *t, size_t lt, int icase)
{
	size_t	 i;

	if (lt > ls)
		return (0);
	for (i = 0; i + lt <= ls; i++) {
		if ((icase ? strncasecmp(s + i, t, lt) :
		    memcmp(s + i, t, lt)) == 0)
			return ((int64_t)i + 1);
	}
	return (0);
}

/*
 * A numeric argument as int64 (SUBSTR positions): doubles are truncated
 * and clamped to the int64 range; NaN fails (-1).  A plain cast of an
 * out-of-range double is undefined behaviour (found by fuzz-filter).
 */
static int
v_i64(const struct fval *n, int64_t *out)
{
	double	x;

	if (n->t == FV_INT) {
		*out = n->i;
		return (0);
	}
	x = v_dbl_of(n);
	if (isnan(x))
		return (-1);
	if (x >= 9223372036854775808.0)
		*out = INT64_MAX;
	else if (x < -9223372036854775808.0)
		*out = INT64_MIN;
	else
		*out = (int64_t)x;
	return (0);
}

/* Evaluate a function call. */
static struct fval
eval_func(struct fctx *c, const struct fnode *n)
{
	struct fval	 a, b, d;
	const char	*s, *t;
	char		*o;
	size_t		 ls, lt, i;
	int64_t		 start, len;

	if (n->fn == FN_COALESCE) {
		for (i = 0; i < n->nkids; i++)
			if ((a = eval_val(c, n->kids[i])).t != FV_NULL)
				return (a);
		return (v_null());
	}
	if (n->fn == FN_IF) {
		if (eval_tri(c, n->kids[0]) == TRI_TRUE)
			return (eval_val(c, n->kids[1]));
		return (eval_val(c, n->kids[2]));
	}
	a = eval_val(c, n->kids[0]);
	if (v_text(c, &a, &s, &ls) != 0)
		return (v_null());
	switch (n->fn) {
	case FN_UPPER:
	case FN_LOWER:
		if ((o = ctx_alloc(c, ls)) == NULL)
			return (v_null());
		for (i = 0; i < ls; i++)
			o[i] = (char)(n->fn == FN_UPPER ?
			    toupper((unsigned char)s[i]) :
			    tolower((unsigned char)s[i]));
		return (v_str(o, ls));
	case FN_LEN:
		return (v_int((int64_t)ls));
	default:
		break;
	}
	b = eval_val(c, n->kids[1]);
	if (n->fn == FN_SUBSTR) {
		if (v_num(&b, &d) != 0)
			return (v_null());
		if (v_i64(&d, &start) != 0)
			return (v_null());
		len = (int64_t)ls;
		if (n->nkids > 2) {
			b = eval_val(c, n->kids[2]);
			if (v_num(&b, &d) != 0)
				return (v_null());
			if (v_i64(&d, &len) != 0)
				return (v_null());
		}
		if (start < 1)
			start = 1;
		if (start > (int64_t)ls || len <= 0)
			return (v_null());
		if (len > (int64_t)ls - (start - 1))
			len = (int64_t)ls - (start - 1);
		return (v_str(s + start - 1, (size_t)len));
	}
	if (v_text(c, &b, &t, &lt) != 0)
		return (v_null());
	if (n->fn == FN_STREQUAL_I)
		return (v_tri(ls == lt && strncasecmp(s, t, ls) == 0));
	return (v_int(instr(s, ls, t, lt, n->fn == FN_INSTR_I)));
}

/* Evaluate a node to a scalar (identifiers: their first value). */
static struct fval
eval_val(struct fctx *c, const struct fnode *n)
{
	struct fset	 set;
	struct fval	 a, b, x, y;

	switch (n->op) {
	case F_LIT:
		return (n->lit);
	case F_IDENT:
		eval_set(c, n, &set);
		return (set_get(&set, 0));
	case F_NEG:
		a = eval_val(c, n->kids[0]);
		return (eval_neg(&a));
	case F_ADD: case F_SUB: case F_MUL: case F_DIV: case F_MOD:
		a = eval_val(c, n->kids[0]);
		b = eval_val(c, n->kids[1]);
		if (v_num(&a, &x) != 0 || v_num(&b, &y) != 0)
			return (v_null());
		return (eval_arith(n->op, &x, &y));
	case F_FUNC:
		return (eval_func(c, n));
	default:
		return (v_tri(eval_tri(c, n)));
	}
}

/* Match one value against the LIKE pattern of n. */
static int
like_one(struct fctx *c, const struct fnode *n, const struct fval *v)
{
	const char	*s;
	size_t		 len;
	int		 rc;

	if (v_text(c, v, &s, &len) != 0)
		return (TRI_NULL);
	if (c->md == NULL &&
	    (c->md = pcre2_match_data_create(1, NULL)) == NULL)
		return (TRI_NULL);
	rc = pcre2_match(n->re, (PCRE2_SPTR)s, len, 0, 0, c->md, NULL);
	if (rc >= 0)
		return (TRI_TRUE);
	return (rc == PCRE2_ERROR_NOMATCH ? TRI_FALSE : TRI_NULL);
}

/* Does v begin (or end) with any of n's literal strings? */
static int
affix_one(struct fctx *c, const struct fnode *n, const struct fval *v)
{
	const char		*s;
	const struct fval	*p;
	size_t			 len, i;
	int			 r = TRI_FALSE;

	if (v_text(c, v, &s, &len) != 0)
		return (TRI_NULL);
	for (i = 1; i < n->nkids; i++) {
		p = &n->kids[i]->lit;
		if (p->t != FV_STR) {
			r = tri_or(r, TRI_NULL);
			continue;
		}
		if (p->len <= len && memcmp(n->op == F_BEGINS ? s :
		    s + len - p->len, p->s, p->len) == 0)
			return (TRI_TRUE);
	}
	return (r);
}

/* Is the identifier (or value) of n NULL for IS NULL purposes? */
static int
is_null(struct fctx *c, const struct fnode *n)
{
	struct fset	 set;
	const json_t	*j;
	size_t		 i;

	if (n->op != F_IDENT)
		return (eval_val(c, n).t == FV_NULL);
	eval_set(c, n, &set);
	if (set.arr == NULL)
		return (1);
	for (i = 0; i < set.n; i++) {
		j = json_array_get(set.arr, i);
		if (!json_is_null(j) &&
		    !(json_is_string(j) && json_string_length(j) == 0))
			return (0);
	}
	return (1);
}

/* Evaluate a predicate over every value of kid 0 ("any" semantics). */
static int
eval_any(struct fctx *c, const struct fnode *n)
{
	struct fset	 l, r, item;
	struct fval	 lv, lo, hi, iv;
	size_t		 i, j, k;
	int		 res = TRI_FALSE, t;

	lo = hi = v_null();
	memset(&r, 0, sizeof r);
	eval_set(c, n->kids[0], &l);
	if (n->op >= F_EQ && n->op <= F_GE)
		eval_set(c, n->kids[1], &r);
	if (n->op == F_BETWEEN) {
		lo = eval_val(c, n->kids[1]);
		hi = eval_val(c, n->kids[2]);
	}
	for (i = 0; i < l.n && res != TRI_TRUE; i++) {
		lv = set_get(&l, i);
		switch (n->op) {
		case F_BETWEEN:
			t = tri_and(cmp_tri(F_GE, &lv, &lo),
			    cmp_tri(F_LE, &lv, &hi));
			break;
		case F_LIKE:
			t = like_one(c, n, &lv);
			break;
		case F_BEGINS:
		case F_ENDS:
			t = affix_one(c, n, &lv);
			break;
		case F_ISNAN:
			t = (lv.t == FV_DBL && isnan(lv.d));
			break;
		case F_IN:
			t = TRI_FALSE;
			for (k = 1; k < n->nkids && t != TRI_TRUE; k++) {
				eval_set(c, n->kids[k], &item);
				for (j = 0; j < item.n; j++) {
					iv = set_get(&item, j);
					t = tri_or(t, cmp_tri(F_EQ, &lv, &iv));
				}
			}
			break;
		default:
			t = TRI_FALSE;
			for (j = 0; j < r.n && t != TRI_TRUE; j++) {
				iv = set_get(&r, j);
				t = tri_or(t, cmp_tri(n->op, &lv, &iv));
			}
			break;
		}
		res = tri_or(res, t);
	}
	return (n->negate ? tri_not(res) : res);
}

/* Evaluate a node as a condition. */
static int
eval_tri(struct fctx *c, const struct fnode *n)
{
	struct fval	 v;
	int		 a;

	switch (n->op) {
	case F_AND:
		if ((a = eval_tri(c, n->kids[0])) == TRI_FALSE)
			return (TRI_FALSE);
		return (tri_and(a, eval_tri(c, n->kids[1])));
	case F_OR:
		if ((a = eval_tri(c, n->kids[0])) == TRI_TRUE)
			return (TRI_TRUE);
		return (tri_or(a, eval_tri(c, n->kids[1])));
	case F_NOT:
		return (tri_not(eval_tri(c, n->kids[0])));
	case F_ISNULL:
		a = is_null(c, n->kids[0]);
		return (n->negate ? !a : a);
	case F_EQ: case F_NE: case F_LT: case F_LE: case F_GT: case F_GE:
	case F_IN: case F_BETWEEN: case F_LIKE: case F_BEGINS: case F_ENDS:
	case F_ISNAN:
		return (eval_any(c, n));
	default:
		v = eval_val(c, n);
		return (v_truth(&v));
	}
}

/*
 * Evaluate root against doc; returns TRI_TRUE, TRI_FALSE or TRI_NULL.
 * All memory made on the way is freed before returning.
 */
int
filter_eval(const struct fnode *root, const json_t *doc)
{
	struct fctx	 c;
	struct fmem	*m;
	int		 r;

	memset(&c, 0, sizeof c);
	c.doc = doc;
	r = eval_tri(&c, root);
	while ((m = c.mem) != NULL) {
		c.mem = m->next;
		json_decref(m->json);
		free(m);
	}
	if (c.md != NULL)
		pcre2_match_data_free(c.md);
	return (r);
}
