/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The ampsd.conf reader, part two: the statements inside a
 * `connection "name" { ... }` block (grammar in conf-parse.c).  Every
 * value is stored in the block's struct conf_conn; meaning is checked
 * later by conf_check().  Errors follow conf-parse.c's rules (recorded
 * with file:line, then recovery to the statement end).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amps.h"
#include "conf-int.h"
#include "xmalloc.h"

/* server STR... ; -- one or more URIs, each its own server entry. */
static int
p_server(struct lex *lx, struct conf_conn *cc, int line)
{
	struct amps_uri	 u;
	int		 n = 0;

	for (;;) {
		conf_lex_next(lx);
		if (lx->tok == T_SEMI && n > 0)
			return (0);
		if (lx->tok != T_STRING && lx->tok != T_WORD) {
			if (lx->tok != T_BAD)
				PERR(lx, lx->tokline, "server: expected a URI, "
				    "got %s", conf_lex_desc(lx));
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
	conf_lex_next(lx);
	if (conf_is(lx, "off")) {
		cc->heartbeat_ms = 0;
		cc->timeout_ms = 0;
		return (conf_p_semi(lx, "heartbeat"));
	}
	conf_lex_unget(lx);
	if (conf_p_dur(lx, "heartbeat", &cc->heartbeat_ms) == -1)
		return (-1);
	conf_lex_next(lx);
	if (conf_is(lx, "timeout")) {
		if (conf_p_dur(lx, "heartbeat timeout", &cc->timeout_ms) == -1)
			return (-1);
	} else
		conf_lex_unget(lx);
	return (conf_p_semi(lx, "heartbeat"));
}

/* reconnect fixed DUR ... | reconnect exponential ... ; */
static int
p_reconnect(struct lex *lx, struct conf_conn *cc)
{
	struct connha_policy	*p = &cc->reconnect;
	char			*ep;
	double			 f;
	int			 exp;

	conf_lex_next(lx);
	if (conf_is(lx, "fixed")) {
		p->kind = CONNHA_FIXED;
		if (conf_p_dur(lx, "reconnect fixed", &p->initial_ms) == -1)
			return (-1);
		p->max_ms = p->initial_ms;
		p->factor = 1.0;
	} else if (conf_is(lx, "exponential"))
		p->kind = CONNHA_EXPONENTIAL;
	else {
		PERR(lx, lx->tokline, "reconnect: expected fixed or "
		    "exponential, got %s", conf_lex_desc(lx));
		return (-1);
	}
	exp = p->kind == CONNHA_EXPONENTIAL;
	for (;;) {
		conf_lex_next(lx);
		if (lx->tok == T_SEMI)
			return (0);
		if (conf_is(lx, "give-up")) {
			conf_lex_next(lx);
			if (conf_is(lx, "never"))
				p->giveup_ms = 0;
			else {
				conf_lex_unget(lx);
				if (conf_p_dur(lx, "reconnect give-up",
				    &p->giveup_ms) == -1)
					return (-1);
			}
		} else if (conf_is(lx, "jitter")) {
			if (conf_p_bool(lx, "reconnect jitter",
			    &p->jitter) == -1)
				return (-1);
		} else if (exp && conf_is(lx, "initial")) {
			if (conf_p_dur(lx, "reconnect initial",
			    &p->initial_ms) == -1)
				return (-1);
		} else if (exp && conf_is(lx, "max")) {
			if (conf_p_dur(lx, "reconnect max", &p->max_ms) == -1)
				return (-1);
		} else if (exp && conf_is(lx, "factor")) {
			conf_lex_next(lx);
			errno = 0;
			f = strtod(lx->text, &ep);
			if (lx->tok != T_WORD || *ep != '\0' || errno != 0 ||
			    !(f >= 1.0 && f <= 100.0)) {
				PERR(lx, lx->tokline, "reconnect factor: "
				    "expected a number from 1 to 100, got %s",
				    conf_lex_desc(lx));
				return (-1);
			}
			p->factor = f;
		} else {
			PERR(lx, lx->tokline, "reconnect: unexpected %s",
			    conf_lex_desc(lx));
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
	conf_lex_next(lx);
	if (lx->tok != T_LBRACE) {
		PERR(lx, lx->tokline, "tls: expected \"{\", got %s",
		    conf_lex_desc(lx));
		return (-1);
	}
	for (;;) {
		conf_lex_next(lx);
		line = lx->tokline;
		if (lx->tok == T_RBRACE)
			return (0);
		if (lx->tok == T_EOF) {
			PERR(lx, line, "tls: missing \"}\"");
			return (-1);
		}
		if (lx->tok == T_SEMI)
			continue;
		if (conf_is(lx, "verify")) {
			if (conf_p_bool(lx, "tls verify", &t->verify) == -1 ||
			    conf_p_semi(lx, "tls verify") == -1)
				goto bad;
			continue;
		}
		if (conf_is(lx, "ca") || conf_is(lx, "cert") ||
		    conf_is(lx, "key") || conf_is(lx, "server-name")) {
			char	**dst, what[32];

			snprintf(what, sizeof what, "tls %s", lx->text);
			if (conf_is(lx, "ca"))
				dst = &t->ca;
			else if (conf_is(lx, "cert"))
				dst = &t->cert;
			else if (conf_is(lx, "key"))
				dst = &t->key;
			else
				dst = &t->server_name;
			if ((s = conf_p_str(lx, what)) == NULL)
				goto bad;
			conf_set_once(lx, dst, s, line, what);
			if (dst == &t->key)
				lx->conf->has_secrets = 1;
			if (conf_p_semi(lx, what) == -1)
				goto bad;
			continue;
		}
		PERR(lx, line, "tls: unknown keyword %s", conf_lex_desc(lx));
bad:
		conf_lex_recover(lx);
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
	conf_lex_next(lx);
	if (lx->tok != T_WORD) {
		PERR(lx, lx->tokline, "allow: expected publish, subscribe or "
		    "all, got %s", conf_lex_desc(lx));
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
	conf_lex_next(lx);
	if (conf_is(lx, "group"))
		a.is_group = 1;
	else if (!conf_is(lx, "user")) {
		PERR(lx, lx->tokline, "allow: expected user or group, got %s",
		    conf_lex_desc(lx));
		return (-1);
	}
	if ((a.name = conf_p_str(lx, "allow")) == NULL)
		return (-1);
	conf_lex_next(lx);
	if (!conf_is(lx, "topic")) {
		PERR(lx, lx->tokline, "allow: expected topic, got %s",
		    conf_lex_desc(lx));
		free(a.name);
		return (-1);
	}
	if ((a.topic = conf_p_str(lx, "allow topic")) == NULL) {
		free(a.name);
		return (-1);
	}
	cc->allows = xreallocarray(cc->allows, cc->nallows + 1,
	    sizeof *cc->allows);
	cc->allows[cc->nallows++] = a;
	return (conf_p_semi(lx, "allow"));
}

/* queue-ack { batch N | timeout DUR } ; */
static int
p_queue_ack(struct lex *lx, struct conf_conn *cc)
{
	unsigned long	 n;
	char		*ep;

	for (;;) {
		conf_lex_next(lx);
		if (lx->tok == T_SEMI)
			return (0);
		if (conf_is(lx, "timeout")) {
			if (conf_p_dur(lx, "queue-ack timeout",
			    &cc->ack_timeout_ms) == -1)
				return (-1);
		} else if (conf_is(lx, "batch")) {
			conf_lex_next(lx);
			errno = 0;
			n = strtoul(lx->text, &ep, 10);
			if (lx->tok != T_WORD || *ep != '\0' || errno != 0 ||
			    n < 1 || n > 10000) {
				PERR(lx, lx->tokline, "queue-ack batch: "
				    "expected 1 to 10000, got %s",
				    conf_lex_desc(lx));
				return (-1);
			}
			cc->ack_batch = (uint32_t)n;
		} else {
			PERR(lx, lx->tokline, "queue-ack: expected batch or "
			    "timeout, got %s", conf_lex_desc(lx));
			return (-1);
		}
	}
}

/*
 * durability full | normal | memory [limit SIZE] ;
 * The limit bounds the memory publish store (bytes of its messages);
 * 0 means no bound.
 */
static int
p_durability(struct lex *lx, struct conf_conn *cc)
{
	conf_lex_next(lx);
	if (conf_is(lx, "full"))
		cc->durability = CONF_DURABILITY_FULL;
	else if (conf_is(lx, "normal"))
		cc->durability = CONF_DURABILITY_NORMAL;
	else if (conf_is(lx, "memory"))
		cc->durability = CONF_DURABILITY_MEMORY;
	else {
		PERR(lx, lx->tokline, "durability: expected full, normal or "
		    "memory, got %s", conf_lex_desc(lx));
		return (-1);
	}
	if (cc->durability != CONF_DURABILITY_MEMORY)
		return (conf_p_semi(lx, "durability"));
	conf_lex_next(lx);
	if (lx->tok == T_SEMI)
		return (0);
	if (!conf_is(lx, "limit")) {
		PERR(lx, lx->tokline, "durability memory: expected limit or "
		    "\";\", got %s", conf_lex_desc(lx));
		return (-1);
	}
	conf_lex_next(lx);
	if ((lx->tok != T_WORD && lx->tok != T_STRING) ||
	    conf_parse_size(lx->text, &cc->memory_limit) == -1) {
		PERR(lx, lx->tokline, "durability memory limit: expected a "
		    "size (bytes, or a number with K, M or G), got %s",
		    conf_lex_desc(lx));
		return (-1);
	}
	return (conf_p_semi(lx, "durability"));
}

/* One statement inside a connection block. */
static int
p_cstmt(struct lex *lx, struct conf_conn *cc)
{
	int		 line = lx->tokline;
	char		*s;

	if (conf_is(lx, "default")) {
		cc->is_default = 1;
		return (conf_p_semi(lx, "default"));
	}
	if (conf_is(lx, "client-name")) {
		if ((s = conf_p_str(lx, "client-name")) == NULL)
			return (-1);
		conf_set_once(lx, &cc->client_name, s, line, "client-name");
		return (conf_p_semi(lx, "client-name"));
	}
	if (conf_is(lx, "server"))
		return (p_server(lx, cc, line));
	if (conf_is(lx, "heartbeat"))
		return (p_heartbeat(lx, cc));
	if (conf_is(lx, "logon-timeout")) {
		if (conf_p_dur(lx, "logon-timeout",
		    &cc->logon_timeout_ms) == -1)
			return (-1);
		cc->logon_timeout_set = 1;
		return (conf_p_semi(lx, "logon-timeout"));
	}
	if (conf_is(lx, "reconnect"))
		return (p_reconnect(lx, cc));
	if (conf_is(lx, "tls"))
		return (p_tls(lx, cc));
	if (conf_is(lx, "durability"))
		return (p_durability(lx, cc));
	if (conf_is(lx, "queue-ack"))
		return (p_queue_ack(lx, cc));
	if (conf_is(lx, "allow"))
		return (p_allow(lx, cc, line));
	if (lx->tok == T_WORD)
		PERR(lx, line, "connection \"%s\": unknown keyword %s",
		    cc->name, conf_lex_desc(lx));
	else if (lx->tok != T_BAD)
		PERR(lx, line, "connection \"%s\": syntax error at %s",
		    cc->name, conf_lex_desc(lx));
	return (-1);
}

/* connection STR { cstmt... } */
int
conf_p_connection(struct lex *lx)
{
	struct conf		*c = lx->conf;
	struct conf_conn	*cc;
	char			*name;
	int			 line = lx->tokline;

	if ((name = conf_p_str(lx, "connection")) == NULL)
		return (-1);
	conf_lex_next(lx);
	if (lx->tok != T_LBRACE) {
		PERR(lx, lx->tokline, "connection \"%s\": expected \"{\", got "
		    "%s", conf_vis(lx, name), conf_lex_desc(lx));
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
		conf_lex_next(lx);
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
			conf_lex_recover(lx);
	}
}
