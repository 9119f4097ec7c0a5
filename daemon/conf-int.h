/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Private to the configuration reader: the tokenizer state shared by
 * conf-parse.c (tokenizer, top level), conf-parse-conn.c (connection
 * blocks) and conf-metrics.c (the metrics statement).  Nothing else
 * includes this file.
 */

#ifndef AMPSD_CONF_INT_H
#define AMPSD_CONF_INT_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

enum tok {
	T_EOF,
	T_WORD,
	T_STRING,
	T_LBRACE,
	T_RBRACE,
	T_SEMI,
	T_BAD,
};

struct lex {
	const char		*file;
	const char		*p;
	const char		*end;
	int			 line;
	enum tok		 tok;
	int			 tokline;
	char			*text;		/* current token's text */
	size_t			 len;
	size_t			 cap;
	int			 peeked;
	struct conf		*conf;
	struct conf_conn	*cur;
	struct conf_errs	*errs;
	size_t			 nerr0;
	char			 vis[160];
};

#define PERR(lx, line, ...) conf_errs_add((lx)->errs, (lx)->file, (line), \
	__VA_ARGS__)

const char	*conf_vis(struct lex *, const char *);
enum tok	 conf_lex_next(struct lex *);
void		 conf_lex_unget(struct lex *);
const char	*conf_lex_desc(struct lex *);
void		 conf_lex_recover(struct lex *);
char		*conf_p_str(struct lex *, const char *);
int		 conf_p_semi(struct lex *, const char *);
int		 conf_is(struct lex *, const char *);
int		 conf_p_dur(struct lex *, const char *, uint64_t *);
int		 conf_p_bool(struct lex *, const char *, int *);
void		 conf_set_once(struct lex *, char **, char *, int,
		     const char *);
int		 conf_p_connection(struct lex *);
int		 conf_p_metrics(struct lex *);

#endif /* AMPSD_CONF_INT_H */
