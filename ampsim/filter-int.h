/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Private to filter.c (lexer, API), filter-parse.c (parser) and
 * filter-eval.c (evaluator): values, tokens and the AST of a content
 * filter (PROTOCOL.md §12).
 */
#ifndef AMPSIM_FILTER_INT_H
#define AMPSIM_FILTER_INT_H

#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <jansson.h>

#define FILTER_MAXDEPTH	200	/* parser nesting limit */

/* A scalar value.  Strings are borrowed (node, document or eval arena). */
enum fvtype {
	FV_NULL,
	FV_BOOL,
	FV_INT,
	FV_UINT,	/* only above INT64_MAX */
	FV_DBL,
	FV_STR		/* never empty: "" is FV_NULL */
};

struct fval {
	enum fvtype	 t;
	int64_t		 i;	/* FV_INT, FV_BOOL (0 or 1) */
	uint64_t	 u;
	double		 d;
	const char	*s;
	size_t		 len;
};

/* Three-valued logic. */
#define TRI_FALSE	0
#define TRI_TRUE	1
#define TRI_NULL	(-1)

enum ftok {
	T_EOF,
	T_NUM,
	T_STR,
	T_PATH,
	T_WORD,
	T_LP, T_RP, T_COMMA,
	T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE,
	T_PLUS, T_MINUS, T_STAR, T_DIV, T_PERCENT
};

struct ftoken {
	enum ftok	 t;
	size_t		 off;	/* offset in the filter text */
	const char	*s;	/* raw text (words, paths) */
	size_t		 len;
	struct fval	 num;	/* T_NUM */
	char		*str;	/* T_STR decoded, or T_PATH copy; owned */
	size_t		 slen;
	int		 call;	/* T_WORD directly followed by '(' */
};

struct flexer {
	const char	*text;
	size_t		 len;
	size_t		 pos;
	struct ftoken	 tok;	/* current token */
	char		*err;
	size_t		 errlen;
	int		 failed;
};

enum fop {
	F_LIT, F_IDENT,
	F_NEG, F_ADD, F_SUB, F_MUL, F_DIV, F_MOD,
	F_EQ, F_NE, F_LT, F_LE, F_GT, F_GE,
	F_AND, F_OR, F_NOT,
	F_IN, F_BETWEEN, F_LIKE, F_BEGINS, F_ENDS, F_ISNULL, F_ISNAN,
	F_FUNC
};

enum ffunc {
	FN_UPPER, FN_LOWER, FN_LEN, FN_INSTR, FN_INSTR_I, FN_STREQUAL_I,
	FN_COALESCE, FN_IF, FN_SUBSTR
};

struct fnode {
	enum fop	  op;
	int		  negate;	/* NOT IN/BETWEEN/LIKE/..., IS NOT */
	enum ffunc	  fn;
	struct fval	  lit;		/* F_LIT */
	char		 *own;		/* F_LIT string or F_IDENT path */
	pcre2_code	 *re;		/* F_LIKE */
	struct fnode	**kids;
	size_t		  nkids;
};

struct filter {
	struct fnode	*root;
};

/* filter.c */
int		 flex_next(struct flexer *);
int		 flex_error(struct flexer *, const char *);
int		 flex_word(const struct flexer *, const char *);
struct fnode	*fnode_new(enum fop);
int		 fnode_add(struct fnode *, struct fnode *);
void		 fnode_free(struct fnode *);

/* filter-parse.c */
struct fnode	*filter_parse(struct flexer *);

/* filter-eval.c */
int		 filter_eval(const struct fnode *, const json_t *);

#endif /* AMPSIM_FILTER_INT_H */
