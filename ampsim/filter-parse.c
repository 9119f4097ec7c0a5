/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * filter-parse.c: recursive-descent parser for content filters (PROTOCOL.md
 * §12.2), building the AST evaluated by filter-eval.c.
 *
 *   or_expr   := and_expr { OR and_expr }
 *   and_expr  := not_expr { AND not_expr }
 *   not_expr  := NOT not_expr | predicate
 *   predicate := sum [ comp sum | [NOT] BETWEEN sum AND sum
 *                | [NOT] IN ( sum {, sum} ) | [NOT] LIKE string
 *                | [NOT] BEGINS WITH ( string {, string} )
 *                | [NOT] ENDS WITH ( string {, string} )
 *                | IS [NOT] NULL | IS [NOT] NAN ]
 *   sum       := product { (+|-) product }
 *   product   := unary { (*|/|%|MOD) unary }
 *   unary     := - unary | primary
 *   primary   := path | number | string | TRUE | FALSE | NULL
 *                | ( or_expr ) | function ( [or_expr {, or_expr}] )
 *
 * Invariants:
 * 1. Every function returns a complete subtree or NULL with the error
 *    recorded in the lexer; partial subtrees are freed before returning.
 * 2. Nesting deeper than FILTER_MAXDEPTH is a syntax error, so hostile
 *    input cannot exhaust the stack.
 * 3. LIKE patterns are compiled here, once; a bad pattern is a syntax
 *    error.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "filter-int.h"

struct fparser {
	struct flexer	*lx;
	int		 depth;
};

static struct fnode	*parse_or(struct fparser *);
static struct fnode	*parse_sum(struct fparser *);

/* Function table: name, minimum and maximum argument count. */
static const struct {
	const char	*name;
	enum ffunc	 fn;
	size_t		 min, max;
} fp_funcs[] = {
	{ "UPPER", FN_UPPER, 1, 1 },
	{ "LOWER", FN_LOWER, 1, 1 },
	{ "LEN", FN_LEN, 1, 1 },
	{ "INSTR", FN_INSTR, 2, 2 },
	{ "INSTR_I", FN_INSTR_I, 2, 2 },
	{ "STREQUAL_I", FN_STREQUAL_I, 2, 2 },
	{ "COALESCE", FN_COALESCE, 1, 64 },
	{ "IF", FN_IF, 3, 3 },
	{ "SUBSTR", FN_SUBSTR, 2, 3 },
};

/* Record err and free n; returns NULL. */
static struct fnode *
fp_fail(struct fparser *fp, struct fnode *n, const char *err)
{
	flex_error(fp->lx, err);
	fnode_free(n);
	return (NULL);
}

/* Advance; returns 0 or -1. */
static int
fp_next(struct fparser *fp)
{
	return (flex_next(fp->lx));
}

/* Consume token t or fail with msg. */
static int
fp_expect(struct fparser *fp, enum ftok t, const char *msg)
{
	if (fp->lx->tok.t != t)
		return (flex_error(fp->lx, msg));
	return (fp_next(fp));
}

/* Enter a nesting level; fails beyond FILTER_MAXDEPTH. */
static int
fp_enter(struct fparser *fp)
{
	if (++fp->depth > FILTER_MAXDEPTH)
		return (flex_error(fp->lx, "nested too deeply"));
	return (0);
}

/* Build a node of op with the given children (freed on failure). */
static struct fnode *
fp_node(struct fparser *fp, enum fop op, struct fnode *a, struct fnode *b)
{
	struct fnode	*n;

	if ((n = fnode_new(op)) == NULL) {
		fnode_free(a);
		fnode_free(b);
		return (fp_fail(fp, NULL, "out of memory"));
	}
	if (a != NULL && fnode_add(n, a) != 0) {
		fnode_free(b);
		return (fp_fail(fp, n, "out of memory"));
	}
	if (b != NULL && fnode_add(n, b) != 0)
		return (fp_fail(fp, n, "out of memory"));
	return (n);
}

/* A literal node taking the current string token. */
static struct fnode *
fp_string(struct fparser *fp)
{
	struct fnode	*n;
	struct ftoken	*tok = &fp->lx->tok;

	if ((n = fnode_new(F_LIT)) == NULL)
		return (fp_fail(fp, NULL, "out of memory"));
	n->own = tok->str;
	tok->str = NULL;
	n->lit.t = tok->slen == 0 ? FV_NULL : FV_STR;
	n->lit.s = n->own;
	n->lit.len = tok->slen;
	if (fp_next(fp) != 0)
		return (fp_fail(fp, n, "syntax error"));
	return (n);
}

/* Parse a function call; the current token is its name. */
static struct fnode *
parse_call(struct fparser *fp)
{
	struct fnode	*n;
	size_t		 i;

	for (i = 0; i < sizeof fp_funcs / sizeof fp_funcs[0]; i++)
		if (flex_word(fp->lx, fp_funcs[i].name))
			break;
	if (i == sizeof fp_funcs / sizeof fp_funcs[0])
		return (fp_fail(fp, NULL, "unknown function"));
	if ((n = fnode_new(F_FUNC)) == NULL)
		return (fp_fail(fp, NULL, "out of memory"));
	n->fn = fp_funcs[i].fn;
	if (fp_next(fp) != 0 || fp_expect(fp, T_LP, "expected '('") != 0)
		return (fp_fail(fp, n, "syntax error"));
	if (fp->lx->tok.t != T_RP) {
		for (;;) {
			if (fnode_add(n, parse_or(fp)) != 0)
				return (fp_fail(fp, n, "syntax error"));
			if (fp->lx->tok.t != T_COMMA)
				break;
			if (fp_next(fp) != 0)
				return (fp_fail(fp, n, "syntax error"));
		}
	}
	if (fp_expect(fp, T_RP, "expected ')'") != 0)
		return (fp_fail(fp, n, "syntax error"));
	if (n->nkids < fp_funcs[i].min || n->nkids > fp_funcs[i].max)
		return (fp_fail(fp, n, "wrong number of arguments"));
	return (n);
}

/* primary := path | number | string | keyword | ( or_expr ) | call */
static struct fnode *
parse_primary(struct fparser *fp)
{
	struct ftoken	*tok = &fp->lx->tok;
	struct fnode	*n;

	switch (tok->t) {
	case T_NUM:
		if ((n = fnode_new(F_LIT)) == NULL)
			return (fp_fail(fp, NULL, "out of memory"));
		n->lit = tok->num;
		break;
	case T_STR:
		return (fp_string(fp));
	case T_PATH:
		if ((n = fnode_new(F_IDENT)) == NULL)
			return (fp_fail(fp, NULL, "out of memory"));
		n->own = tok->str;
		tok->str = NULL;
		break;
	case T_LP:
		if (fp_next(fp) != 0)
			return (NULL);
		if ((n = parse_or(fp)) == NULL)
			return (NULL);
		if (fp_expect(fp, T_RP, "expected ')'") != 0)
			return (fp_fail(fp, n, "syntax error"));
		return (n);
	case T_WORD:
		if (tok->call)
			return (parse_call(fp));
		if ((n = fnode_new(F_LIT)) == NULL)
			return (fp_fail(fp, NULL, "out of memory"));
		if (flex_word(fp->lx, "TRUE") || flex_word(fp->lx, "FALSE")) {
			n->lit.t = FV_BOOL;
			n->lit.i = flex_word(fp->lx, "TRUE");
		} else if (flex_word(fp->lx, "NULL"))
			n->lit.t = FV_NULL;
		else
			return (fp_fail(fp, n, "unexpected word"));
		break;
	case T_EOF:
		return (fp_fail(fp, NULL, "unexpected end of filter"));
	default:
		return (fp_fail(fp, NULL, "unexpected token"));
	}
	if (fp_next(fp) != 0)
		return (fp_fail(fp, n, "syntax error"));
	return (n);
}

/* unary := - unary | primary */
static struct fnode *
parse_unary(struct fparser *fp)
{
	struct fnode	*n;

	if (fp_enter(fp) != 0)
		return (NULL);
	if (fp->lx->tok.t == T_MINUS) {
		if (fp_next(fp) != 0)
			return (NULL);
		if ((n = parse_unary(fp)) != NULL)
			n = fp_node(fp, F_NEG, n, NULL);
	} else
		n = parse_primary(fp);
	fp->depth--;
	return (n);
}

/* product := unary { (*|/|%|MOD) unary } */
static struct fnode *
parse_product(struct fparser *fp)
{
	struct fnode	*n, *r;
	enum fop	 op;

	if ((n = parse_unary(fp)) == NULL)
		return (NULL);
	for (;;) {
		switch (fp->lx->tok.t) {
		case T_STAR: op = F_MUL; break;
		case T_DIV: op = F_DIV; break;
		case T_PERCENT: op = F_MOD; break;
		default:
			if (!flex_word(fp->lx, "MOD"))
				return (n);
			op = F_MOD;
			break;
		}
		if (fp_next(fp) != 0 || (r = parse_unary(fp)) == NULL)
			return (fp_fail(fp, n, "syntax error"));
		if ((n = fp_node(fp, op, n, r)) == NULL)
			return (NULL);
	}
}

/* sum := product { (+|-) product } */
static struct fnode *
parse_sum(struct fparser *fp)
{
	struct fnode	*n, *r;
	enum fop	 op;

	if ((n = parse_product(fp)) == NULL)
		return (NULL);
	while (fp->lx->tok.t == T_PLUS || fp->lx->tok.t == T_MINUS) {
		op = fp->lx->tok.t == T_PLUS ? F_ADD : F_SUB;
		if (fp_next(fp) != 0 || (r = parse_product(fp)) == NULL)
			return (fp_fail(fp, n, "syntax error"));
		if ((n = fp_node(fp, op, n, r)) == NULL)
			return (NULL);
	}
	return (n);
}

/* Parse "( item {, item} )" into n's children (strings only if lit). */
static int
parse_list(struct fparser *fp, struct fnode *n, int strings)
{
	if (fp_expect(fp, T_LP, "expected '('") != 0)
		return (-1);
	for (;;) {
		if (strings) {
			if (fp->lx->tok.t != T_STR)
				return (flex_error(fp->lx, "expected string"));
			if (fnode_add(n, fp_string(fp)) != 0)
				return (-1);
		} else if (fnode_add(n, parse_sum(fp)) != 0)
			return (-1);
		if (fp->lx->tok.t != T_COMMA)
			break;
		if (fp_next(fp) != 0)
			return (-1);
	}
	return (fp_expect(fp, T_RP, "expected ')'"));
}

/* Compile the LIKE pattern held by the current string token into n. */
static int
parse_like(struct fparser *fp, struct fnode *n)
{
	struct ftoken	*tok = &fp->lx->tok;
	PCRE2_UCHAR	 msg[128];
	PCRE2_SIZE	 eoff;
	int		 ecode;
	char		 buf[192];

	if (tok->t != T_STR)
		return (flex_error(fp->lx, "LIKE needs a string literal"));
	n->re = pcre2_compile((PCRE2_SPTR)tok->str, tok->slen, 0, &ecode,
	    &eoff, NULL);
	if (n->re == NULL) {
		pcre2_get_error_message(ecode, msg, sizeof msg);
		snprintf(buf, sizeof buf, "bad LIKE pattern (%s)",
		    (const char *)msg);
		return (flex_error(fp->lx, buf));
	}
	return (fp_next(fp));
}

/* The rest of a predicate after sum and an optional NOT. */
static struct fnode *
parse_pred_tail(struct fparser *fp, struct fnode *n, int negate)
{
	struct fnode	*p;
	enum fop	 op;

	if (flex_word(fp->lx, "BETWEEN"))
		op = F_BETWEEN;
	else if (flex_word(fp->lx, "IN"))
		op = F_IN;
	else if (flex_word(fp->lx, "LIKE"))
		op = F_LIKE;
	else if (flex_word(fp->lx, "BEGINS"))
		op = F_BEGINS;
	else if (flex_word(fp->lx, "ENDS"))
		op = F_ENDS;
	else
		return (fp_fail(fp, n, "expected BETWEEN, IN, LIKE, BEGINS "
		    "or ENDS"));
	if ((p = fp_node(fp, op, n, NULL)) == NULL)
		return (NULL);
	p->negate = negate;
	if (fp_next(fp) != 0)
		return (fp_fail(fp, p, "syntax error"));
	switch (op) {
	case F_BETWEEN:
		if (fnode_add(p, parse_sum(fp)) != 0)
			return (fp_fail(fp, p, "syntax error"));
		if (!flex_word(fp->lx, "AND"))
			return (fp_fail(fp, p, "BETWEEN without AND"));
		if (fp_next(fp) != 0 || fnode_add(p, parse_sum(fp)) != 0)
			return (fp_fail(fp, p, "syntax error"));
		break;
	case F_IN:
		if (parse_list(fp, p, 0) != 0)
			return (fp_fail(fp, p, "syntax error"));
		break;
	case F_LIKE:
		if (parse_like(fp, p) != 0)
			return (fp_fail(fp, p, "syntax error"));
		break;
	default:
		if (!flex_word(fp->lx, "WITH"))
			return (fp_fail(fp, p, "expected WITH"));
		if (fp_next(fp) != 0 || parse_list(fp, p, 1) != 0)
			return (fp_fail(fp, p, "syntax error"));
		break;
	}
	return (p);
}

/* predicate := sum [ comparison | IN | BETWEEN | LIKE | ... | IS ... ] */
static struct fnode *
parse_predicate(struct fparser *fp)
{
	struct fnode	*n, *r, *p;
	enum fop	 op;
	int		 negate = 0;

	if ((n = parse_sum(fp)) == NULL)
		return (NULL);
	switch (fp->lx->tok.t) {
	case T_EQ: op = F_EQ; break;
	case T_NE: op = F_NE; break;
	case T_LT: op = F_LT; break;
	case T_LE: op = F_LE; break;
	case T_GT: op = F_GT; break;
	case T_GE: op = F_GE; break;
	default:
		if (flex_word(fp->lx, "IS")) {
			if (fp_next(fp) != 0)
				return (fp_fail(fp, n, "syntax error"));
			if (flex_word(fp->lx, "NOT")) {
				negate = 1;
				if (fp_next(fp) != 0)
					return (fp_fail(fp, n, "syntax error"));
			}
			if (flex_word(fp->lx, "NULL"))
				op = F_ISNULL;
			else if (flex_word(fp->lx, "NAN"))
				op = F_ISNAN;
			else
				return (fp_fail(fp, n, "expected NULL"));
			if ((p = fp_node(fp, op, n, NULL)) == NULL)
				return (NULL);
			p->negate = negate;
			if (fp_next(fp) != 0)
				return (fp_fail(fp, p, "syntax error"));
			return (p);
		}
		if (flex_word(fp->lx, "NOT")) {
			if (fp_next(fp) != 0)
				return (fp_fail(fp, n, "syntax error"));
			return (parse_pred_tail(fp, n, 1));
		}
		if (flex_word(fp->lx, "BETWEEN") || flex_word(fp->lx, "IN") ||
		    flex_word(fp->lx, "LIKE") || flex_word(fp->lx, "BEGINS") ||
		    flex_word(fp->lx, "ENDS"))
			return (parse_pred_tail(fp, n, 0));
		return (n);
	}
	if (fp_next(fp) != 0 || (r = parse_sum(fp)) == NULL)
		return (fp_fail(fp, n, "syntax error"));
	return (fp_node(fp, op, n, r));
}

/* not_expr := NOT not_expr | predicate */
static struct fnode *
parse_not(struct fparser *fp)
{
	struct fnode	*n;

	if (fp_enter(fp) != 0)
		return (NULL);
	if (flex_word(fp->lx, "NOT")) {
		if (fp_next(fp) != 0)
			return (NULL);
		if ((n = parse_not(fp)) != NULL)
			n = fp_node(fp, F_NOT, n, NULL);
	} else
		n = parse_predicate(fp);
	fp->depth--;
	return (n);
}

/* and_expr := not_expr { AND not_expr } */
static struct fnode *
parse_and(struct fparser *fp)
{
	struct fnode	*n, *r;

	if ((n = parse_not(fp)) == NULL)
		return (NULL);
	while (flex_word(fp->lx, "AND")) {
		if (fp_next(fp) != 0 || (r = parse_not(fp)) == NULL)
			return (fp_fail(fp, n, "syntax error"));
		if ((n = fp_node(fp, F_AND, n, r)) == NULL)
			return (NULL);
	}
	return (n);
}

/* or_expr := and_expr { OR and_expr } */
static struct fnode *
parse_or(struct fparser *fp)
{
	struct fnode	*n, *r;

	if (fp_enter(fp) != 0)
		return (NULL);
	if ((n = parse_and(fp)) == NULL)
		return (NULL);
	while (flex_word(fp->lx, "OR")) {
		if (fp_next(fp) != 0 || (r = parse_and(fp)) == NULL)
			return (fp_fail(fp, n, "syntax error"));
		if ((n = fp_node(fp, F_OR, n, r)) == NULL)
			return (NULL);
	}
	fp->depth--;
	return (n);
}

/*
 * Parse a whole filter from lx (positioned on the first token).  Returns
 * the AST or NULL with the error recorded; trailing tokens are an error.
 */
struct fnode *
filter_parse(struct flexer *lx)
{
	struct fparser	 fp;
	struct fnode	*n;

	memset(&fp, 0, sizeof fp);
	fp.lx = lx;
	if (lx->tok.t == T_EOF) {
		flex_error(lx, "empty filter");
		return (NULL);
	}
	if ((n = parse_or(&fp)) == NULL)
		return (NULL);
	if (lx->tok.t != T_EOF)
		return (fp_fail(&fp, n, "unexpected trailing input"));
	return (n);
}
