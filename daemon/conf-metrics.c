/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The `metrics` statement of ampsd.conf: where the Prometheus endpoint
 * (daemon/metrics.c) listens.  Grammar (see conf-parse.c):
 *
 *   stmt = "metrics" "listen" ADDR [ ":" PORT ] [ "allow-remote" ( "yes" | "no" ) ] ";"
 *
 * ADDR is a numeric IPv4 address or a bracketed numeric IPv6 address
 * ("[::1]:19007"); no host names, so `ampsd -t` decides without DNS.
 * PORT is 0..65535; 0 lets the system choose (the port is logged);
 * without it, CONF_METRICS_PORT (19007: outside 9100-9999, the range
 * of Prometheus's default port allocations for exporters, so no
 * well-known exporter's default; it echoes AMPS's 9007).
 *
 * Invariants:
 *   (1) Absent statement: c->metrics.listen is NULL and nothing listens.
 *   (2) A configuration that passed conf_check() listens on a loopback
 *       address (127.0.0.0/8 or ::1) unless allow-remote is yes.
 *   (3) Pure: parsing and checking open nothing (inet_pton only).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf-int.h"
#include "xmalloc.h"

/*
 * Split "ADDR:PORT" or "[ADDR6]:PORT" into a numeric address (copied to
 * addr, without brackets) and a port; *loopback says whether the address
 * is 127.0.0.0/8 or ::1.  Returns NULL, or a static reason for the error.
 */
const char *
conf_metrics_addr(const char *s, char *addr, size_t cap, uint16_t *port,
    int *loopback)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;
	const char	*hs, *he, *ps;
	char		 host[INET6_ADDRSTRLEN];
	unsigned long	 v;
	size_t		 hlen, i;
	int		 v6;

	if (*s == '[') {
		hs = s + 1;
		if ((he = strchr(hs, ']')) == NULL ||
		    (he[1] != ':' && he[1] != '\0'))
			return ("an IPv6 address is written [ADDR]:PORT");
		ps = he[1] == ':' ? he + 2 : NULL;
		v6 = 1;
	} else {
		hs = s;
		if ((he = strrchr(s, ':')) == NULL) {
			he = s + strlen(s);
			ps = NULL;
		} else
			ps = he + 1;
		if (memchr(hs, ':', (size_t)(he - hs)) != NULL)
			return ("an IPv6 address is written [ADDR]:PORT");
		v6 = 0;
	}
	hlen = (size_t)(he - hs);
	if (hlen == 0 || hlen >= sizeof host)
		return ("expected a numeric IPv4 or [IPv6] address");
	if (ps == NULL)
		v = CONF_METRICS_PORT;
	else {
		if (*ps == '\0' || strlen(ps) > 5)
			return ("expected a port from 0 to 65535");
		for (i = 0; ps[i] != '\0'; i++)
			if (!isdigit((unsigned char)ps[i]))
				return ("expected a port from 0 to 65535");
		v = strtoul(ps, NULL, 10);
		if (v > 65535)
			return ("expected a port from 0 to 65535");
	}
	memcpy(host, hs, hlen);
	host[hlen] = '\0';
	if (v6) {
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return ("expected a numeric IPv6 address in brackets");
		*loopback = IN6_IS_ADDR_LOOPBACK(&a6);
	} else {
		if (inet_pton(AF_INET, host, &a4) != 1)
			return ("expected a numeric IPv4 or [IPv6] address");
		*loopback = (ntohl(a4.s_addr) >> 24) == 127;
	}
	if (hlen >= cap)
		return ("address too long");
	memcpy(addr, host, hlen + 1);
	*port = (uint16_t)v;
	return (NULL);
}

/* metrics listen ADDR[:PORT] [allow-remote yes|no] ; */
int
conf_p_metrics(struct lex *lx)
{
	struct conf_metrics	*m = &lx->conf->metrics;
	const char		*why;
	char			*s;
	int			 line = lx->tokline, loop;

	conf_lex_next(lx);
	if (!conf_is(lx, "listen")) {
		if (lx->tok != T_BAD)
			PERR(lx, lx->tokline, "metrics: expected \"listen\", "
			    "got %s", conf_lex_desc(lx));
		return (-1);
	}
	if ((s = conf_p_str(lx, "metrics listen")) == NULL)
		return (-1);
	if ((why = conf_metrics_addr(s, m->addr, sizeof m->addr, &m->port,
	    &loop)) != NULL) {
		PERR(lx, lx->tokline, "metrics listen \"%s\": %s",
		    conf_vis(lx, s), why);
		free(s);
		return (-1);
	}
	if (m->listen != NULL) {
		PERR(lx, line, "metrics given twice (first at line %d)",
		    m->line);
		free(s);
		return (-1);
	}
	m->listen = s;
	m->line = line;
	m->loopback = loop;
	m->allow_remote = 0;
	for (;;) {
		conf_lex_next(lx);
		if (lx->tok == T_SEMI)
			return (0);
		if (!conf_is(lx, "allow-remote")) {
			if (lx->tok != T_BAD)
				PERR(lx, lx->tokline, "metrics: expected "
				    "allow-remote or \";\", got %s",
				    conf_lex_desc(lx));
			return (-1);
		}
		if (conf_p_bool(lx, "metrics allow-remote",
		    &m->allow_remote) == -1)
			return (-1);
	}
}

/* Semantic check (invariant 2); messages go to errs. */
void
conf_metrics_check(const struct conf *c, struct conf_errs *errs)
{
	const struct conf_metrics	*m = &c->metrics;

	if (m->listen == NULL || m->loopback || m->allow_remote)
		return;
	conf_errs_add(errs, c->file ? c->file : "ampsd.conf", m->line,
	    "metrics listen \"%s\": not a loopback address (127.0.0.0/8 or "
	    "::1); add \"allow-remote yes\" to serve metrics to other hosts",
	    m->listen);
}

/* Print the statement the way the parser reads it back (or nothing). */
void
conf_metrics_dump(const struct conf *c, FILE *out)
{
	const struct conf_metrics	*m = &c->metrics;

	if (m->listen == NULL)
		return;
	fprintf(out, "metrics listen \"%s\"%s;\n", m->listen,
	    m->allow_remote ? " allow-remote yes" : "");
}
