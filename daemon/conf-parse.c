/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The ampsd.conf reader: a hand-written tokenizer and a recursive-descent
 * parser that fill a fresh struct conf.  The grammar (keywords in quotes,
 * STR is a "quoted string" or a bare word, DUR a duration with a unit):
 *
 *   file      = { stmt }
 *   stmt      = "socket" STR { "mode" OCTAL | "group" STR } ";"
 *             | "state-directory" STR ";"
 *             | "log" ( "stderr" | "syslog" [ "facility" WORD ]
 *                     | "level" ( "info" | "debug" | "trace" )
 *                     | "trace" WORD... ) ";"
 *             | "connection" STR "{" { cstmt } "}"
 *   cstmt     = "default" ";" | "client-name" STR ";" | "server" STR... ";"
 *             | "heartbeat" ( DUR [ "timeout" DUR ] | "off" ) ";"
 *             | "logon-timeout" DUR ";"
 *             | "reconnect" "fixed" DUR { ropt } ";"
 *             | "reconnect" "exponential" { "initial" DUR | "max" DUR
 *                     | "factor" NUMBER | ropt } ";"
 *             | "tls" "{" { "ca" STR ";" | "cert" STR ";" | "key" STR ";"
 *                     | "verify" ( "yes" | "no" ) ";"
 *                     | "server-name" STR ";" } "}"
 *             | "durability" ( "full" | "normal" ) ";"
 *             | "queue-ack" { "batch" NUMBER | "timeout" DUR } ";"
 *             | "allow" WHAT ( "user" | "group" ) STR "topic" STR ";"
 *   ropt      = "give-up" ( DUR | "never" ) | "jitter" ( "yes" | "no" )
 *   WHAT      = "publish" | "subscribe" | "all", comma-separated
 *
 * '#' starts a comment to the end of the line.  Strings take \" and \\
 * escapes and may span any length: tokens live in a growable buffer, so
 * there is no line-length limit.
 *
 * Invariants:
 *   (1) Every error is recorded as "file:line: message" and parsing goes
 *       on after skipping to the end of the statement, so one run reports
 *       several errors.
 *   (2) Text from the file appears in messages only through conf_vis()
 *       (escaped, truncated).
 *   (3) Nothing here opens anything but the configuration file itself.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "amps.h"
#include "conf.h"
#include "xmalloc.h"

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

/* Escape s for an error message (control bytes, quotes; at most 64). */
static const char *
conf_vis(struct lex *lx, const char *s)
{
	size_t	o = 0, i;

	for (i = 0; s[i] != '\0' && o + 6 < sizeof lx->vis; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == 64) {
			memcpy(lx->vis + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
			lx->vis[o++] = '\\';
			if (c == '"' || c == '\\')
				lx->vis[o++] = (char)c;
			else {
				static const char hex[] = "0123456789abcdef";

				lx->vis[o++] = 'x';
				lx->vis[o++] = hex[c >> 4];
				lx->vis[o++] = hex[c & 15];
			}
		} else
			lx->vis[o++] = (char)c;
	}
	lx->vis[o] = '\0';
	return (lx->vis);
}

#define PERR(lx, line, ...) conf_errs_add((lx)->errs, (lx)->file, (line), \
	__VA_ARGS__)

/* Append one byte to the token buffer. */
static void
lex_put(struct lex *lx, char c)
{
	if (lx->len + 1 >= lx->cap) {
		lx->cap = lx->cap ? lx->cap * 2 : 256;
		lx->text = xreallocarray(lx->text, lx->cap, 1);
	}
	lx->text[lx->len++] = c;
	lx->text[lx->len] = '\0';
}

/* True for bytes that end a bare word. */
static int
lex_wordend(char c)
{
	return (isspace((unsigned char)c) || c == '{' || c == '}' ||
	    c == ';' || c == '"' || c == '#');
}

/* Read the next token into lx->tok / lx->text. */
static enum tok
lex_next(struct lex *lx)
{
	char	c;

	if (lx->peeked) {
		lx->peeked = 0;
		return (lx->tok);
	}
	lx->len = 0;
	if (lx->text != NULL)
		lx->text[0] = '\0';
	for (;;) {
		if (lx->p >= lx->end) {
			lx->tokline = lx->line;
			return (lx->tok = T_EOF);
		}
		c = *lx->p;
		if (c == '\n') {
			lx->line++;
			lx->p++;
		} else if (isspace((unsigned char)c))
			lx->p++;
		else if (c == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else
			break;
	}
	lx->tokline = lx->line;
	c = *lx->p++;
	switch (c) {
	case '{':
		lex_put(lx, c);
		return (lx->tok = T_LBRACE);
	case '}':
		lex_put(lx, c);
		return (lx->tok = T_RBRACE);
	case ';':
		lex_put(lx, c);
		return (lx->tok = T_SEMI);
	case '"':
		lex_put(lx, '\0');
		lx->len = 0;
		for (;;) {
			if (lx->p >= lx->end) {
				PERR(lx, lx->tokline, "unterminated string");
				return (lx->tok = T_BAD);
			}
			c = *lx->p++;
			if (c == '"')
				return (lx->tok = T_STRING);
			if (c == '\n')
				lx->line++;
			if (c == '\0') {
				PERR(lx, lx->line, "NUL byte in string");
				return (lx->tok = T_BAD);
			}
			if (c == '\\' && lx->p < lx->end &&
			    (*lx->p == '"' || *lx->p == '\\'))
				c = *lx->p++;
			lex_put(lx, c);
		}
	default:
		lx->p--;
		while (lx->p < lx->end && !lex_wordend(*lx->p)) {
			if (*lx->p == '\0') {
				PERR(lx, lx->line, "NUL byte in file");
				lx->p++;
				return (lx->tok = T_BAD);
			}
			lex_put(lx, *lx->p++);
		}
		return (lx->tok = T_WORD);
	}
}

/* Push the current token back. */
static void
lex_unget(struct lex *lx)
{
	lx->peeked = 1;
}

/* Describe the current token for "expected X, got Y". */
static const char *
lex_desc(struct lex *lx)
{
	static char	buf[200];

	switch (lx->tok) {
	case T_EOF:
		return ("end of file");
	case T_STRING:
	case T_WORD:
		snprintf(buf, sizeof buf, "\"%s\"", conf_vis(lx, lx->text));
		return (buf);
	case T_BAD:
		return ("bad token");
	default:
		snprintf(buf, sizeof buf, "\"%s\"", lx->text);
		return (buf);
	}
}

/*
 * Skip to the end of the current statement after an error: past the next
 * ';' at this nesting level, or up to (not past) a closing '}'.
 */
static void
lex_recover(struct lex *lx)
{
	int	depth = 0;

	for (;;) {
		if (lx->tok == T_EOF)
			return;
		if (lx->tok == T_SEMI && depth == 0)
			return;
		if (lx->tok == T_LBRACE)
			depth++;
		if (lx->tok == T_RBRACE) {
			if (depth == 0) {
				lex_unget(lx);
				return;
			}
			if (--depth == 0)
				return;
		}
		lex_next(lx);
	}
}

/* Read a string argument (quoted or bare); NULL and an error if none. */
static char *
p_str(struct lex *lx, const char *what)
{
	lex_next(lx);
	if (lx->tok != T_STRING && lx->tok != T_WORD) {
		if (lx->tok != T_BAD)
			PERR(lx, lx->tokline, "%s: expected a value, got %s",
			    what, lex_desc(lx));
		return (NULL);
	}
	return (xstrndup(lx->text, lx->len));
}

/* Expect the ';' ending a statement. */
static int
p_semi(struct lex *lx, const char *what)
{
	lex_next(lx);
	if (lx->tok == T_SEMI)
		return (0);
	if (lx->tok != T_BAD)
		PERR(lx, lx->tokline, "%s: expected \";\", got %s", what,
		    lex_desc(lx));
	return (-1);
}

/* True when the current token is the word w. */
static int
is(struct lex *lx, const char *w)
{
	return (lx->tok == T_WORD && strcmp(lx->text, w) == 0);
}

/*
 * Parse a duration: digits followed by ms, s, m or h.  Returns 0 and the
 * value in milliseconds, or -1.
 */
int
conf_parse_duration(const char *s, uint64_t *ms)
{
	unsigned long long	 v;
	char			*ep;
	uint64_t		 mul;

	if (!isdigit((unsigned char)*s))
		return (-1);
	errno = 0;
	v = strtoull(s, &ep, 10);
	if (errno != 0)
		return (-1);
	if (strcmp(ep, "ms") == 0)
		mul = 1;
	else if (strcmp(ep, "s") == 0)
		mul = 1000;
	else if (strcmp(ep, "m") == 0)
		mul = 60 * 1000;
	else if (strcmp(ep, "h") == 0)
		mul = 3600 * 1000;
	else
		return (-1);
	if (v > UINT64_MAX / mul || v * mul > 365ULL * 86400 * 1000)
		return (-1);
	*ms = v * mul;
	return (0);
}

/* Read a duration argument. */
static int
p_dur(struct lex *lx, const char *what, uint64_t *ms)
{
	lex_next(lx);
	if (lx->tok != T_WORD && lx->tok != T_STRING) {
		if (lx->tok != T_BAD)
			PERR(lx, lx->tokline, "%s: expected a duration, got %s",
			    what, lex_desc(lx));
		return (-1);
	}
	if (conf_parse_duration(lx->text, ms) == -1) {
		PERR(lx, lx->tokline, "%s: invalid duration \"%s\" (use a "
		    "number with ms, s, m or h)", what, conf_vis(lx, lx->text));
		return (-1);
	}
	return (0);
}

/* Read yes/no. */
static int
p_bool(struct lex *lx, const char *what, int *v)
{
	lex_next(lx);
	if (is(lx, "yes"))
		*v = 1;
	else if (is(lx, "no"))
		*v = 0;
	else {
		if (lx->tok != T_BAD)
			PERR(lx, lx->tokline, "%s: expected yes or no, got %s",
			    what, lex_desc(lx));
		return (-1);
	}
	return (0);
}

/* Replace *dst with v, complaining if it was already set. */
static void
set_once(struct lex *lx, char **dst, char *v, int line, const char *what)
{
	if (*dst != NULL) {
		PERR(lx, line, "%s given twice", what);
		free(v);
		return;
	}
	*dst = v;
}

/* server STR... ; -- one or more URIs, each its own server entry. */
static int
p_server(struct lex *lx, struct conf_conn *cc, int line)
{
	struct amps_uri	 u;
	int		 n = 0;

	for (;;) {
		lex_next(lx);
		if (lx->tok == T_SEMI && n > 0)
			return (0);
		if (lx->tok != T_STRING && lx->tok != T_WORD) {
			if (lx->tok != T_BAD)
				PERR(lx, lx->tokline, "server: expected a URI, "
				    "got %s", lex_desc(lx));
			return (-1);
		}
		cc->servers = xreallocarray(cc->servers, cc->nservers + 1,
		    sizeof *cc->servers);
		cc->servers[cc->nservers].uri = xstrndup(lx->text, lx->len);
		cc->servers[cc->nservers].line = lx->tokline;
		cc->nservers++;
		n++;
		/* Validated in conf_check; here only note credentials. */
		if (amps_uri_parse(lx->text, &u, NULL, 0) == 0) {
			if (u.password != NULL)
				lx->conf->has_secrets = 1;
			amps_uri_free(&u);
		}
		(void)line;
	}
}

/* heartbeat DUR [timeout DUR] | heartbeat off ; */
static int
p_heartbeat(struct lex *lx, struct conf_conn *cc)
{
	lex_next(lx);
	if (is(lx, "off")) {
		cc->heartbeat_ms = 0;
		cc->timeout_ms = 0;
		return (p_semi(lx, "heartbeat"));
	}
	lex_unget(lx);
	if (p_dur(lx, "heartbeat", &cc->heartbeat_ms) == -1)
		return (-1);
	lex_next(lx);
	if (is(lx, "timeout")) {
		if (p_dur(lx, "heartbeat timeout", &cc->timeout_ms) == -1)
			return (-1);
	} else
		lex_unget(lx);
	return (p_semi(lx, "heartbeat"));
}

/* reconnect fixed DUR ... | reconnect exponential ... ; */
static int
p_reconnect(struct lex *lx, struct conf_conn *cc)
{
	struct connha_policy	*p = &cc->reconnect;
	char			*ep;
	double			 f;

	lex_next(lx);
	if (is(lx, "fixed")) {
		p->kind = CONNHA_FIXED;
		if (p_dur(lx, "reconnect fixed", &p->initial_ms) == -1)
			return (-1);
		p->max_ms = p->initial_ms;
		p->factor = 1.0;
	} else if (is(lx, "exponential"))
		p->kind = CONNHA_EXPONENTIAL;
	else {
		PERR(lx, lx->tokline, "reconnect: expected fixed or "
		    "exponential, got %s", lex_desc(lx));
		return (-1);
	}
	for (;;) {
		lex_next(lx);
		if (lx->tok == T_SEMI)
			return (0);
		if (is(lx, "give-up")) {
			lex_next(lx);
			if (is(lx, "never"))
				p->giveup_ms = 0;
			else {
				lex_unget(lx);
				if (p_dur(lx, "reconnect give-up",
				    &p->giveup_ms) == -1)
					return (-1);
			}
		} else if (is(lx, "jitter")) {
			if (p_bool(lx, "reconnect jitter", &p->jitter) == -1)
				return (-1);
		} else if (p->kind == CONNHA_EXPONENTIAL && is(lx, "initial")) {
			if (p_dur(lx, "reconnect initial", &p->initial_ms) == -1)
				return (-1);
		} else if (p->kind == CONNHA_EXPONENTIAL && is(lx, "max")) {
			if (p_dur(lx, "reconnect max", &p->max_ms) == -1)
				return (-1);
		} else if (p->kind == CONNHA_EXPONENTIAL && is(lx, "factor")) {
			lex_next(lx);
			errno = 0;
			f = strtod(lx->text, &ep);
			if (lx->tok != T_WORD || *ep != '\0' || errno != 0 ||
			    !(f >= 1.0 && f <= 100.0)) {
				PERR(lx, lx->tokline, "reconnect factor: "
				    "expected a number from 1 to 100, got %s",
				    lex_desc(lx));
				return (-1);
			}
			p->factor = f;
		} else {
			PERR(lx, lx->tokline, "reconnect: unexpected %s",
			    lex_desc(lx));
			return (-1);
		}
	}
}

/* tls { ca STR; cert STR; key STR; verify yes|no; server-name STR; } */
static int
p_tls(struct lex *lx, struct conf_conn *cc)
{
	struct conf_tls	*t = &cc->tls;
	char		*s;
	int		 line;

	t->line = lx->tokline;
	lex_next(lx);
	if (lx->tok != T_LBRACE) {
		PERR(lx, lx->tokline, "tls: expected \"{\", got %s",
		    lex_desc(lx));
		return (-1);
	}
	for (;;) {
		lex_next(lx);
		line = lx->tokline;
		if (lx->tok == T_RBRACE)
			return (0);
		if (lx->tok == T_EOF) {
			PERR(lx, line, "tls: missing \"}\"");
			return (-1);
		}
		if (lx->tok == T_SEMI)
			continue;
		if (is(lx, "verify")) {
			if (p_bool(lx, "tls verify", &t->verify) == -1 ||
			    p_semi(lx, "tls verify") == -1)
				goto bad;
			continue;
		}
		if (is(lx, "ca") || is(lx, "cert") || is(lx, "key") ||
		    is(lx, "server-name")) {
			char	**dst, what[32];

			snprintf(what, sizeof what, "tls %s", lx->text);
			dst = is(lx, "ca") ? &t->ca : is(lx, "cert") ? &t->cert :
			    is(lx, "key") ? &t->key : &t->server_name;
			if ((s = p_str(lx, what)) == NULL)
				goto bad;
			set_once(lx, dst, s, line, what);
			if (dst == &t->key)
				lx->conf->has_secrets = 1;
			if (p_semi(lx, what) == -1)
				goto bad;
			continue;
		}
		PERR(lx, line, "tls: unknown keyword %s", lex_desc(lx));
bad:
		lex_recover(lx);
	}
}

/* allow WHAT (user|group) STR topic STR ; */
static int
p_allow(struct lex *lx, struct conf_conn *cc, int line)
{
	struct conf_allow	 a;
	char			*w, *tok, *save;

	memset(&a, 0, sizeof a);
	a.line = line;
	lex_next(lx);
	if (lx->tok != T_WORD) {
		PERR(lx, lx->tokline, "allow: expected publish, subscribe or "
		    "all, got %s", lex_desc(lx));
		return (-1);
	}
	w = xstrdup(lx->text);
	for (tok = strtok_r(w, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "publish") == 0)
			a.what |= CONF_ALLOW_PUBLISH;
		else if (strcmp(tok, "subscribe") == 0)
			a.what |= CONF_ALLOW_SUBSCRIBE;
		else if (strcmp(tok, "all") == 0)
			a.what |= CONF_ALLOW_PUBLISH | CONF_ALLOW_SUBSCRIBE;
		else {
			PERR(lx, lx->tokline, "allow: expected publish, "
			    "subscribe or all, got \"%s\"", conf_vis(lx, tok));
			free(w);
			return (-1);
		}
	}
	free(w);
	lex_next(lx);
	if (is(lx, "group"))
		a.is_group = 1;
	else if (!is(lx, "user")) {
		PERR(lx, lx->tokline, "allow: expected user or group, got %s",
		    lex_desc(lx));
		return (-1);
	}
	if ((a.name = p_str(lx, "allow")) == NULL)
		return (-1);
	lex_next(lx);
	if (!is(lx, "topic")) {
		PERR(lx, lx->tokline, "allow: expected topic, got %s",
		    lex_desc(lx));
		free(a.name);
		return (-1);
	}
	if ((a.topic = p_str(lx, "allow topic")) == NULL) {
		free(a.name);
		return (-1);
	}
	cc->allows = xreallocarray(cc->allows, cc->nallows + 1,
	    sizeof *cc->allows);
	cc->allows[cc->nallows++] = a;
	return (p_semi(lx, "allow"));
}

/* One statement inside a connection block. */
static int
p_cstmt(struct lex *lx, struct conf_conn *cc)
{
	int		 line = lx->tokline;
	char		*s;
	unsigned long	 n;
	char		*ep;

	if (is(lx, "default")) {
		cc->is_default = 1;
		return (p_semi(lx, "default"));
	}
	if (is(lx, "client-name")) {
		if ((s = p_str(lx, "client-name")) == NULL)
			return (-1);
		set_once(lx, &cc->client_name, s, line, "client-name");
		return (p_semi(lx, "client-name"));
	}
	if (is(lx, "server"))
		return (p_server(lx, cc, line));
	if (is(lx, "heartbeat"))
		return (p_heartbeat(lx, cc));
	if (is(lx, "logon-timeout")) {
		if (p_dur(lx, "logon-timeout", &cc->logon_timeout_ms) == -1)
			return (-1);
		return (p_semi(lx, "logon-timeout"));
	}
	if (is(lx, "reconnect"))
		return (p_reconnect(lx, cc));
	if (is(lx, "tls"))
		return (p_tls(lx, cc));
	if (is(lx, "durability")) {
		lex_next(lx);
		if (is(lx, "full"))
			cc->durability = CONF_DURABILITY_FULL;
		else if (is(lx, "normal"))
			cc->durability = CONF_DURABILITY_NORMAL;
		else {
			PERR(lx, lx->tokline, "durability: expected full or "
			    "normal, got %s", lex_desc(lx));
			return (-1);
		}
		return (p_semi(lx, "durability"));
	}
	if (is(lx, "queue-ack")) {
		for (;;) {
			lex_next(lx);
			if (lx->tok == T_SEMI)
				return (0);
			if (is(lx, "timeout")) {
				if (p_dur(lx, "queue-ack timeout",
				    &cc->ack_timeout_ms) == -1)
					return (-1);
			} else if (is(lx, "batch")) {
				lex_next(lx);
				errno = 0;
				n = strtoul(lx->text, &ep, 10);
				if (lx->tok != T_WORD || *ep != '\0' ||
				    errno != 0 || n < 1 || n > 10000) {
					PERR(lx, lx->tokline, "queue-ack batch: "
					    "expected 1 to 10000, got %s",
					    lex_desc(lx));
					return (-1);
				}
				cc->ack_batch = (uint32_t)n;
			} else {
				PERR(lx, lx->tokline, "queue-ack: expected "
				    "batch or timeout, got %s", lex_desc(lx));
				return (-1);
			}
		}
	}
	if (is(lx, "allow"))
		return (p_allow(lx, cc, line));
	if (lx->tok == T_WORD)
		PERR(lx, line, "connection \"%s\": unknown keyword %s",
		    cc->name, lex_desc(lx));
	else if (lx->tok != T_BAD)
		PERR(lx, line, "connection \"%s\": syntax error at %s",
		    cc->name, lex_desc(lx));
	return (-1);
}

/* connection STR { cstmt... } */
static int
p_connection(struct lex *lx)
{
	struct conf		*c = lx->conf;
	struct conf_conn	*cc;
	char			*name;
	int			 line = lx->tokline;

	if ((name = p_str(lx, "connection")) == NULL)
		return (-1);
	lex_next(lx);
	if (lx->tok != T_LBRACE) {
		PERR(lx, lx->tokline, "connection \"%s\": expected \"{\", got "
		    "%s", conf_vis(lx, name), lex_desc(lx));
		free(name);
		return (-1);
	}
	if (conf_find_conn(c, name) != NULL)
		PERR(lx, line, "connection \"%s\" defined twice",
		    conf_vis(lx, name));
	cc = conf_conn_new(name, line);
	free(name);
	c->conns = xreallocarray(c->conns, c->nconns + 1, sizeof *c->conns);
	c->conns[c->nconns++] = cc;
	for (;;) {
		lex_next(lx);
		if (lx->tok == T_RBRACE)
			return (0);
		if (lx->tok == T_EOF) {
			PERR(lx, line, "connection \"%s\": missing \"}\"",
			    cc->name);
			return (0);
		}
		if (lx->tok == T_SEMI)
			continue;
		if (p_cstmt(lx, cc) == -1)
			lex_recover(lx);
	}
}

/* socket STR { mode OCTAL | group STR } ; */
static int
p_socket(struct lex *lx)
{
	struct conf	*c = lx->conf;
	char		*s, *ep;
	unsigned long	 m;

	if ((s = p_str(lx, "socket")) == NULL)
		return (-1);
	free(c->socket_path);
	c->socket_path = s;
	for (;;) {
		lex_next(lx);
		if (lx->tok == T_SEMI)
			return (0);
		if (is(lx, "mode")) {
			lex_next(lx);
			errno = 0;
			m = strtoul(lx->text, &ep, 8);
			if (lx->tok != T_WORD || *ep != '\0' || errno != 0 ||
			    m > 0777) {
				PERR(lx, lx->tokline, "socket mode: expected an "
				    "octal mode like 0660, got %s", lex_desc(lx));
				return (-1);
			}
			c->socket_mode = (mode_t)m;
		} else if (is(lx, "group")) {
			if ((s = p_str(lx, "socket group")) == NULL)
				return (-1);
			free(c->socket_group);
			c->socket_group = s;
		} else {
			PERR(lx, lx->tokline, "socket: expected mode, group or "
			    "\";\", got %s", lex_desc(lx));
			return (-1);
		}
	}
}

/* log stderr | syslog [facility F] | level L | trace CAT,... ; */
static int
p_log(struct lex *lx)
{
	struct conf	*c = lx->conf;
	char		*w, *save, *tok;
	unsigned	 bit;

	lex_next(lx);
	if (is(lx, "stderr"))
		c->log_target = CONF_LOG_STDERR;
	else if (is(lx, "syslog")) {
		c->log_target = CONF_LOG_SYSLOG;
		lex_next(lx);
		if (!is(lx, "facility")) {
			lex_unget(lx);
			return (p_semi(lx, "log syslog"));
		}
		lex_next(lx);
		if (lx->tok != T_WORD || conf_facility(lx->text) == -1) {
			PERR(lx, lx->tokline, "log: unknown syslog facility %s",
			    lex_desc(lx));
			return (-1);
		}
		free(c->log_facility);
		c->log_facility = xstrdup(lx->text);
	} else if (is(lx, "level")) {
		lex_next(lx);
		if (is(lx, "info"))
			c->log_verbose = 0;
		else if (is(lx, "debug"))
			c->log_verbose = 1;
		else if (is(lx, "trace"))
			c->log_verbose = 2;
		else {
			PERR(lx, lx->tokline, "log level: expected info, debug "
			    "or trace, got %s", lex_desc(lx));
			return (-1);
		}
	} else if (is(lx, "trace")) {
		for (;;) {
			lex_next(lx);
			if (lx->tok == T_SEMI) {
				lex_unget(lx);
				break;
			}
			if (lx->tok != T_WORD) {
				PERR(lx, lx->tokline, "log trace: expected a "
				    "category, got %s", lex_desc(lx));
				return (-1);
			}
			w = xstrdup(lx->text);
			for (tok = strtok_r(w, ",", &save); tok != NULL;
			    tok = strtok_r(NULL, ",", &save)) {
				if (strcmp(tok, "connection") == 0)
					bit = 0x1;
				else if (strcmp(tok, "ipc") == 0)
					bit = 0x2;
				else if (strcmp(tok, "store") == 0)
					bit = 0x4;
				else if (strcmp(tok, "wire") == 0)
					bit = 0x8;
				else if (strcmp(tok, "all") == 0)
					bit = 0xf;
				else {
					PERR(lx, lx->tokline, "log trace: unknown "
					    "category \"%s\" (connection, ipc, "
					    "store, wire, all)", conf_vis(lx, tok));
					free(w);
					return (-1);
				}
				c->log_trace |= bit;
			}
			free(w);
		}
	} else {
		PERR(lx, lx->tokline, "log: expected stderr, syslog, level or "
		    "trace, got %s", lex_desc(lx));
		return (-1);
	}
	return (p_semi(lx, "log"));
}

/* One top-level statement; -1 means "recover to the statement end". */
static int
p_stmt(struct lex *lx)
{
	struct conf	*c = lx->conf;
	char		*s;

	if (is(lx, "socket"))
		return (p_socket(lx));
	if (is(lx, "state-directory")) {
		if ((s = p_str(lx, "state-directory")) == NULL)
			return (-1);
		free(c->state_dir);
		c->state_dir = s;
		return (p_semi(lx, "state-directory"));
	}
	if (is(lx, "log"))
		return (p_log(lx));
	if (is(lx, "connection"))
		return (p_connection(lx));
	if (lx->tok == T_RBRACE) {
		PERR(lx, lx->tokline, "unexpected \"}\"");
		return (0);
	}
	if (lx->tok == T_WORD)
		PERR(lx, lx->tokline, "unknown keyword %s", lex_desc(lx));
	else if (lx->tok != T_BAD)
		PERR(lx, lx->tokline, "syntax error at %s", lex_desc(lx));
	return (-1);
}

/*
 * Parse len bytes of buf (not NUL-terminated) into conf; name is used in
 * messages.  Errors are appended to errs.  Returns 0 when this buffer
 * added no error, else -1.  conf should be fresh from conf_new().
 */
int
conf_parse_buffer(struct conf *conf, const char *name, const char *buf,
    size_t len, struct conf_errs *errs)
{
	struct lex	lx;

	memset(&lx, 0, sizeof lx);
	lx.file = name;
	lx.p = buf;
	lx.end = buf + len;
	lx.line = 1;
	lx.conf = conf;
	lx.errs = errs;
	lx.nerr0 = errs->n;
	if (conf->file == NULL)
		conf->file = xstrdup(name);
	for (;;) {
		lex_next(&lx);
		if (lx.tok == T_EOF)
			break;
		if (lx.tok == T_SEMI)
			continue;
		if (p_stmt(&lx) == -1)
			lex_recover(&lx);
	}
	free(lx.text);
	return (errs->n == lx.nerr0 ? 0 : -1);
}

/*
 * Read and parse the file at path.  A file that holds credentials
 * (passwords in server URIs) must not be readable or writable by group or
 * others, and must belong to root or to us.  Returns 0 or -1 (errors in
 * errs).
 */
int
conf_parse_file(struct conf *conf, const char *path, struct conf_errs *errs)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = 0, cap = 0;
	ssize_t		 n;
	int		 fd, rv;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		conf_errs_add(errs, path, 0, "%s", strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		conf_errs_add(errs, path, 0, "not a regular file");
		close(fd);
		return (-1);
	}
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 65536 * 2;
			buf = xreallocarray(buf, cap, 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			conf_errs_add(errs, path, 0, "read: %s",
			    strerror(errno));
			free(buf);
			close(fd);
			return (-1);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	rv = conf_parse_buffer(conf, path, buf, len, errs);
	free(buf);
	if (conf->has_secrets) {
		if (st.st_mode & 077) {
			conf_errs_add(errs, path, 0, "holds credentials but is "
			    "accessible by group or others (mode %04o); "
			    "chmod 600 it", (unsigned)(st.st_mode & 07777));
			rv = -1;
		}
		if (st.st_uid != 0 && st.st_uid != geteuid()) {
			conf_errs_add(errs, path, 0, "holds credentials but is "
			    "owned by uid %u (must be root or uid %u)",
			    (unsigned)st.st_uid, (unsigned)geteuid());
			rv = -1;
		}
	}
	return (rv);
}
