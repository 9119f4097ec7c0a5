/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * filter.c: the content filter API (PROTOCOL.md §12) and its lexer.  Owns the
 * compiled filter and the AST node allocator; filter-parse.c builds the
 * tree and filter-eval.c evaluates it.
 *
 * Lexical rules:
 * - '/' starts a path when the next byte can start a step name (letter,
 *   digit, '_', '@', '$', '.', ':' or a byte >= 0x80); otherwise it is
 *   the division operator.  So "/a / 2" divides, "/a/2" is a path.
 * - A path is "/" name { "/" name } with optional "[digits]" after each
 *   step; "[/any chars]" is a bracketed path, optionally indexed.
 * - Strings: '...' or "..." with \a \b \t \n \f \r \xHH \OOO escapes and
 *   any other backslashed byte taken literally; r'...' / R'...' raw.
 * - Numbers: digits [. digits] [e[+-]digits]; integers that fit int64
 *   are FV_INT, up to UINT64_MAX FV_UINT, otherwise double.
 * - Words (keywords, function names) are [A-Za-z_][A-Za-z0-9_]*.
 *
 * Invariants:
 * 1. The lexer never reads at or beyond text + len.
 * 2. At most one token is live; the parser takes ownership of tok.str by
 *    setting it to NULL, otherwise flex_next frees it.
 * 3. After an error flex_next keeps returning -1 and err holds the first
 *    message.
 */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "filter.h"
#include "filter-int.h"
#include "jsondoc-int.h"

/* Record the first error with its offset; always returns -1. */
int
flex_error(struct flexer *lx, const char *msg)
{
	if (!lx->failed && lx->err != NULL && lx->errlen > 0)
		snprintf(lx->err, lx->errlen, "bad filter: %s at offset %zu",
		    msg, lx->tok.off);
	lx->failed = 1;
	return (-1);
}

/* Is the current token the (case-insensitive) word w? */
int
flex_word(const struct flexer *lx, const char *w)
{
	return (lx->tok.t == T_WORD && strlen(w) == lx->tok.len &&
	    strncasecmp(lx->tok.s, w, lx->tok.len) == 0);
}

/* Can c start or continue a path step name? */
static int
flex_namechar(unsigned char c)
{
	return (isalnum(c) || c == '_' || c == '@' || c == '$' ||
	    c == '.' || c == ':' || c >= 0x80);
}

/* Value of hex digit c, or -1. */
static int
flex_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Lex a quoted string at pos (raw when raw != 0; pos is on the quote). */
static int
flex_string(struct flexer *lx, int raw)
{
	const char	*t = lx->text;
	char		 q = t[lx->pos], *out;
	size_t		 p = lx->pos + 1, o = 0, start = p, k;
	int		 v, h;

	while (p < lx->len && t[p] != q) {
		if (t[p] == '\\' && p + 1 < lx->len)
			p++;
		p++;
	}
	if (p >= lx->len)
		return (flex_error(lx, "unterminated string"));
	if ((out = malloc(p - start + 1)) == NULL)
		return (flex_error(lx, "out of memory"));
	for (k = start; k < p; k++) {
		if (raw || t[k] != '\\') {
			out[o++] = t[k];
			continue;
		}
		k++;			/* k < p: the loop above paired it */
		switch (t[k]) {
		case 'a': out[o++] = '\a'; break;
		case 'b': out[o++] = '\b'; break;
		case 't': out[o++] = '\t'; break;
		case 'n': out[o++] = '\n'; break;
		case 'f': out[o++] = '\f'; break;
		case 'r': out[o++] = '\r'; break;
		case 'x':
			v = 0;
			h = 0;
			while (h < 2 && k + 1 < p &&
			    flex_hex((unsigned char)t[k + 1]) >= 0) {
				v = v * 16 + flex_hex((unsigned char)t[++k]);
				h++;
			}
			out[o++] = h ? (char)v : 'x';
			break;
		case '0': case '1': case '2': case '3':
		case '4': case '5': case '6': case '7':
			v = t[k] - '0';
			h = 1;
			while (h < 3 && k + 1 < p &&
			    t[k + 1] >= '0' && t[k + 1] <= '7') {
				v = v * 8 + (t[++k] - '0');
				h++;
			}
			out[o++] = (char)(v & 0xff);
			break;
		default:
			out[o++] = t[k];
			break;
		}
	}
	out[o] = '\0';
	lx->tok.t = T_STR;
	lx->tok.str = out;
	lx->tok.slen = o;
	lx->pos = p + 1;
	return (0);
}

/* Lex a number at pos. */
static int
flex_number(struct flexer *lx)
{
	const char		*t = lx->text;
	size_t			 p = lx->pos, n;
	int			 isint = 1;
	char			 buf[64], *ep;
	unsigned long long	 u;

	while (p < lx->len && isdigit((unsigned char)t[p]))
		p++;
	if (p < lx->len && t[p] == '.') {
		isint = 0;
		p++;
		while (p < lx->len && isdigit((unsigned char)t[p]))
			p++;
	}
	if (p < lx->len && (t[p] == 'e' || t[p] == 'E')) {
		isint = 0;
		p++;
		if (p < lx->len && (t[p] == '+' || t[p] == '-'))
			p++;
		if (p >= lx->len || !isdigit((unsigned char)t[p]))
			return (flex_error(lx, "bad number"));
		while (p < lx->len && isdigit((unsigned char)t[p]))
			p++;
	}
	if (p < lx->len && (isalnum((unsigned char)t[p]) || t[p] == '_' ||
	    t[p] == '.'))
		return (flex_error(lx, "bad number"));
	n = p - lx->pos;
	if (n >= sizeof buf)
		return (flex_error(lx, "number too long"));
	memcpy(buf, t + lx->pos, n);
	buf[n] = '\0';
	memset(&lx->tok.num, 0, sizeof lx->tok.num);
	errno = 0;
	if (isint && (u = strtoull(buf, &ep, 10), errno == 0)) {
		if (u <= INT64_MAX) {
			lx->tok.num.t = FV_INT;
			lx->tok.num.i = (int64_t)u;
		} else {
			lx->tok.num.t = FV_UINT;
			lx->tok.num.u = u;
		}
	} else {
		lx->tok.num.t = FV_DBL;
		lx->tok.num.d = strtod(buf, &ep);
	}
	lx->tok.t = T_NUM;
	lx->pos = p;
	return (0);
}

/* Lex optional "[digits]" indices at *p; returns -1 on a malformed one. */
static int
flex_indices(struct flexer *lx, size_t *pp)
{
	size_t	 p = *pp, q;

	while (p < lx->len && lx->text[p] == '[') {
		q = p + 1;
		while (q < lx->len && isdigit((unsigned char)lx->text[q]))
			q++;
		if (q == p + 1 || q >= lx->len || lx->text[q] != ']')
			return (-1);
		p = q + 1;
	}
	*pp = p;
	return (0);
}

/* Lex a path (plain or bracketed) at pos. */
static int
flex_path(struct flexer *lx)
{
	struct jstep	 steps[JPATH_MAXSTEPS];
	const char	*t = lx->text, *close;
	size_t		 p = lx->pos;

	if (t[p] == '[') {
		close = memchr(t + p, ']', lx->len - p);
		if (close == NULL)
			return (flex_error(lx, "unterminated [identifier]"));
		p = (size_t)(close - t) + 1;
		if (flex_indices(lx, &p) != 0)
			return (flex_error(lx, "bad index"));
	} else {
		while (p < lx->len && t[p] == '/' && p + 1 < lx->len &&
		    flex_namechar((unsigned char)t[p + 1])) {
			p++;
			while (p < lx->len && flex_namechar((unsigned char)t[p]))
				p++;
			if (flex_indices(lx, &p) != 0)
				return (flex_error(lx, "bad index"));
		}
	}
	if ((lx->tok.str = malloc(p - lx->pos + 1)) == NULL)
		return (flex_error(lx, "out of memory"));
	memcpy(lx->tok.str, t + lx->pos, p - lx->pos);
	lx->tok.str[p - lx->pos] = '\0';
	lx->tok.slen = p - lx->pos;
	lx->tok.t = T_PATH;
	if (jpath_parse(lx->tok.str, lx->tok.slen, steps, JPATH_MAXSTEPS) <= 0)
		return (flex_error(lx, "bad identifier"));
	lx->pos = p;
	return (0);
}

/* Lex a one- or two-character operator at pos. */
static int
flex_op(struct flexer *lx)
{
	const char	*t = lx->text + lx->pos;
	size_t		 left = lx->len - lx->pos, n = 1;
	char		 c1 = left > 1 ? t[1] : '\0';

	switch (t[0]) {
	case '(': lx->tok.t = T_LP; break;
	case ')': lx->tok.t = T_RP; break;
	case ',': lx->tok.t = T_COMMA; break;
	case '+': lx->tok.t = T_PLUS; break;
	case '-': lx->tok.t = T_MINUS; break;
	case '*': lx->tok.t = T_STAR; break;
	case '%': lx->tok.t = T_PERCENT; break;
	case '/': lx->tok.t = T_DIV; break;
	case '=':
		lx->tok.t = T_EQ;
		n = (c1 == '=') ? 2 : 1;
		break;
	case '!':
		if (c1 != '=')
			return (flex_error(lx, "unexpected '!'"));
		lx->tok.t = T_NE;
		n = 2;
		break;
	case '<':
		if (c1 == '=' || c1 == '>') {
			lx->tok.t = (c1 == '=') ? T_LE : T_NE;
			n = 2;
		} else
			lx->tok.t = T_LT;
		break;
	case '>':
		lx->tok.t = (c1 == '=') ? T_GE : T_GT;
		n = (c1 == '=') ? 2 : 1;
		break;
	default:
		return (flex_error(lx, "unexpected character"));
	}
	lx->pos += n;
	return (0);
}

/*
 * Advance to the next token.  Frees the previous token's string unless
 * the parser took it.  Returns 0 or -1 (error recorded).
 */
int
flex_next(struct flexer *lx)
{
	const char	*t = lx->text;
	size_t		 p;
	unsigned char	 c;

	free(lx->tok.str);
	memset(&lx->tok, 0, sizeof lx->tok);
	if (lx->failed)
		return (-1);
	while (lx->pos < lx->len && isspace((unsigned char)t[lx->pos]))
		lx->pos++;
	lx->tok.off = lx->pos;
	lx->tok.s = t + lx->pos;
	if (lx->pos >= lx->len) {
		lx->tok.t = T_EOF;
		return (0);
	}
	c = (unsigned char)t[lx->pos];
	if (c == '\0')
		return (flex_error(lx, "NUL byte"));
	if (c == '\'' || c == '"')
		return (flex_string(lx, 0));
	if ((c == 'r' || c == 'R') && lx->pos + 1 < lx->len &&
	    (t[lx->pos + 1] == '\'' || t[lx->pos + 1] == '"')) {
		lx->pos++;
		return (flex_string(lx, 1));
	}
	if (isdigit(c) || (c == '.' && lx->pos + 1 < lx->len &&
	    isdigit((unsigned char)t[lx->pos + 1])))
		return (flex_number(lx));
	if ((c == '/' && lx->pos + 1 < lx->len &&
	    flex_namechar((unsigned char)t[lx->pos + 1])) ||
	    (c == '[' && lx->pos + 1 < lx->len && t[lx->pos + 1] == '/'))
		return (flex_path(lx));
	if (isalpha(c) || c == '_') {
		p = lx->pos;
		while (p < lx->len && (isalnum((unsigned char)t[p]) ||
		    t[p] == '_'))
			p++;
		lx->tok.t = T_WORD;
		lx->tok.len = p - lx->pos;
		lx->pos = p;
		while (p < lx->len && isspace((unsigned char)t[p]))
			p++;
		lx->tok.call = (p < lx->len && t[p] == '(');
		return (0);
	}
	return (flex_op(lx));
}

/* Allocate a node. */
struct fnode *
fnode_new(enum fop op)
{
	struct fnode	*n;

	if ((n = calloc(1, sizeof *n)) == NULL)
		return (NULL);
	n->op = op;
	return (n);
}

/* Append kid to n; on failure kid is freed.  Returns 0 or -1. */
int
fnode_add(struct fnode *n, struct fnode *kid)
{
	struct fnode	**k;

	if (kid == NULL)
		return (-1);
	k = realloc(n->kids, (n->nkids + 1) * sizeof *k);
	if (k == NULL) {
		fnode_free(kid);
		return (-1);
	}
	n->kids = k;
	n->kids[n->nkids++] = kid;
	return (0);
}

/* Free a node and its subtree; NULL is allowed. */
void
fnode_free(struct fnode *n)
{
	size_t	 i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		fnode_free(n->kids[i]);
	free(n->kids);
	free(n->own);
	if (n->re != NULL)
		pcre2_code_free(n->re);
	free(n);
}

/*
 * Compile text[0..len).  Returns NULL on any syntax error (message in
 * err as "bad filter: ... at offset N") or when out of memory.
 */
struct filter *
filter_compile(const char *text, size_t len, char *err, size_t errlen)
{
	struct flexer	 lx;
	struct filter	*f;
	struct fnode	*root;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	memset(&lx, 0, sizeof lx);
	lx.text = text != NULL ? text : "";
	lx.len = text != NULL ? len : 0;
	lx.err = err;
	lx.errlen = errlen;
	root = NULL;
	if (flex_next(&lx) == 0)
		root = filter_parse(&lx);
	free(lx.tok.str);
	if (root == NULL) {
		if (!lx.failed)
			flex_error(&lx, "out of memory");
		return (NULL);
	}
	if ((f = calloc(1, sizeof *f)) == NULL) {
		fnode_free(root);
		return (NULL);
	}
	f->root = root;
	return (f);
}

/* 1 when doc makes the filter TRUE; 0 for FALSE or NULL. */
int
filter_match(const struct filter *f, const json_t *doc)
{
	if (f == NULL || doc == NULL)
		return (0);
	return (filter_eval(f->root, doc) == TRI_TRUE);
}

/* Free a compiled filter; NULL is allowed. */
void
filter_free(struct filter *f)
{
	if (f == NULL)
		return;
	fnode_free(f->root);
	free(f);
}
