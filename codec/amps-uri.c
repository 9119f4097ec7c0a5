/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * AMPS connection strings (PROTOCOL.md §1.1):
 *
 *	transport "://" [user [":" password] "@"] host ":" port
 *	    "/" protocol ["/" message-type] ["?" key "=" value *("&" ...)]
 *
 * This file owns amps_uri_parse(), amps_uri_free() and amps_uri_redact().
 * It allocates only the strings of the struct amps_uri it fills; it never
 * logs and keeps no state.
 *
 * Invariants:
 *  1. On success every string in the struct is owned and NUL-terminated;
 *     on failure the struct is all zero (every pointer NULL) and nothing
 *     has leaked.
 *  2. Error messages name the offending part of the URI but never contain
 *     the password, not even a piece of it.
 *  3. Error kinds: the shape of the URI (missing "://", bad host or port,
 *     bad percent escape, bad protocol segment) is AMPS_E_URI; an unknown
 *     query parameter, a parameter with a bad value, or a parameter that
 *     does not fit the transport is AMPS_E_TRANSPORT_OPT; an unknown scheme
 *     is AMPS_E_TRANSPORT_TYPE.
 *  4. There are no length limits: every piece is sized from the input.
 *  5. The authority ends at the first '/' or '?'; the userinfo ends at the
 *     last '@' in the authority, so an unescaped '@' in a password is
 *     reported (and amps_uri_redact still hides the whole password).
 */

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amps.h"

/* Parsing state: the input, where the error goes, what was seen. */
struct uri_ctx {
	char		*err;
	size_t		 errlen;
	int		 have_path;
};

static int	uri_fail(struct uri_ctx *, int, const char *, ...)
		    __attribute__((__format__(__printf__, 3, 4)));

/*
 * Record an error message (if the caller wants one) and return the code.
 */
static int
uri_fail(struct uri_ctx *c, int code, const char *fmt, ...)
{
	va_list	ap;

	if (c->err != NULL && c->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
	}
	return (code);
}

/*
 * Compare s[0..len) with the NUL-terminated word, ignoring ASCII case.
 */
static int
uri_word_eq(const char *s, size_t len, const char *word)
{
	size_t	i;

	if (strlen(word) != len)
		return (0);
	for (i = 0; i < len; i++) {
		if (tolower((unsigned char)s[i]) != (unsigned char)word[i])
			return (0);
	}
	return (1);
}

/*
 * Value of a hex digit, or -1.
 */
static int
uri_hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return (ch - '0');
	if (ch >= 'a' && ch <= 'f')
		return (ch - 'a' + 10);
	if (ch >= 'A' && ch <= 'F')
		return (ch - 'A' + 10);
	return (-1);
}

/*
 * Percent-decode s[0..len) into a new NUL-terminated string.  Returns NULL
 * with *bad set when an escape is malformed or decodes to NUL, and NULL
 * with *bad clear when out of memory.
 */
static char *
uri_decode(const char *s, size_t len, int *bad)
{
	char	*out;
	size_t	 i, o;
	int	 hi, lo;

	*bad = 0;
	if ((out = malloc(len + 1)) == NULL)
		return (NULL);
	for (i = 0, o = 0; i < len; i++) {
		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		if (len - i < 3 ||
		    (hi = uri_hex(s[i + 1])) < 0 ||
		    (lo = uri_hex(s[i + 2])) < 0 ||
		    (hi == 0 && lo == 0)) {
			free(out);
			*bad = 1;
			return (NULL);
		}
		out[o++] = (char)(hi * 16 + lo);
		i += 2;
	}
	out[o] = '\0';
	return (out);
}

/*
 * Decode one piece of the URI into *dst, reporting errors under name.
 * Secret pieces are never echoed.
 */
static int
uri_decode_into(struct uri_ctx *c, char **dst, const char *s, size_t len,
    const char *name)
{
	int	bad;

	if ((*dst = uri_decode(s, len, &bad)) != NULL)
		return (0);
	if (bad)
		return (uri_fail(c, AMPS_E_URI,
		    "bad percent escape in %s", name));
	return (uri_fail(c, AMPS_E_URI, "out of memory"));
}

/*
 * Copy s[0..len) into a new NUL-terminated string.
 */
static int
uri_copy(struct uri_ctx *c, char **dst, const char *s, size_t len)
{
	if ((*dst = malloc(len + 1)) == NULL)
		return (uri_fail(c, AMPS_E_URI, "out of memory"));
	memcpy(*dst, s, len);
	(*dst)[len] = '\0';
	return (0);
}

/*
 * Parse a boolean: 1/t/true/y/yes or 0/f/false/n/no, any case.
 */
static int
uri_bool(const char *v, int *out)
{
	static const char *const yes[] = { "1", "t", "true", "y", "yes" };
	static const char *const no[] = { "0", "f", "false", "n", "no" };
	size_t	 i, len = strlen(v);

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (uri_word_eq(v, len, yes[i])) {
			*out = 1;
			return (0);
		}
		if (uri_word_eq(v, len, no[i])) {
			*out = 0;
			return (0);
		}
	}
	return (-1);
}

/*
 * Parse a non-negative decimal int (digits only, at most INT_MAX).
 */
static int
uri_uint(const char *v, int *out)
{
	long long	n = 0;

	if (*v == '\0')
		return (-1);
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9')
			return (-1);
		n = n * 10 + (*v - '0');
		if (n > INT_MAX)
			return (-1);
	}
	*out = (int)n;
	return (0);
}

/*
 * Apply one decoded query parameter key=value to u.
 */
static int
uri_param(struct uri_ctx *c, struct amps_uri *u, const char *key,
    const char *value)
{
	int	 *ip = NULL, isbool = 0, n;
	unsigned  bit = 0;

	if (strcmp(key, "tcp_nodelay") == 0) {
		ip = &u->tcp_nodelay;
		bit = AMPS_URI_NODELAY;
		isbool = 1;
	} else if (strcmp(key, "tcp_keepalive") == 0) {
		ip = &u->tcp_keepalive;
		bit = AMPS_URI_KEEPALIVE;
		isbool = 1;
	} else if (strcmp(key, "tcp_sndbuf") == 0) {
		ip = &u->tcp_sndbuf;
		bit = AMPS_URI_SNDBUF;
	} else if (strcmp(key, "tcp_rcvbuf") == 0) {
		ip = &u->tcp_rcvbuf;
		bit = AMPS_URI_RCVBUF;
	} else if (strcmp(key, "tcp_linger") == 0) {
		ip = &u->tcp_linger;
		bit = AMPS_URI_LINGER;
	} else if (strcmp(key, "path") == 0) {
		if (u->transport != AMPS_TRANSPORT_UNIX)
			return (uri_fail(c, AMPS_E_TRANSPORT_OPT,
			    "parameter path is only for unix transports"));
		if (*value == '\0')
			return (uri_fail(c, AMPS_E_TRANSPORT_OPT,
			    "parameter path is empty"));
		free(u->path);
		return (uri_copy(c, &u->path, value, strlen(value)));
	} else if (strcmp(key, "compression") == 0 ||
	    strcmp(key, "http_preflight") == 0) {
		return (uri_fail(c, AMPS_E_TRANSPORT_OPT,
		    "parameter %s is not supported", key));
	} else
		return (uri_fail(c, AMPS_E_TRANSPORT_OPT,
		    "unknown parameter %s", key));

	if ((isbool ? uri_bool(value, &n) : uri_uint(value, &n)) != 0) {
		return (uri_fail(c, AMPS_E_TRANSPORT_OPT,
		    "parameter %s: bad value \"%s\" (expected %s)", key, value,
		    isbool ? "a boolean" : "a non-negative integer"));
	}
	*ip = n;
	u->set |= bit;
	return (0);
}

/*
 * Parse the query string q[0..len) (after '?').  Empty items are skipped.
 */
static int
uri_query(struct uri_ctx *c, struct amps_uri *u, const char *q, size_t len)
{
	const char	*end = q + len, *amp, *eq;
	char		*key = NULL, *value = NULL;
	int		 rc;

	while (q < end) {
		if ((amp = memchr(q, '&', end - q)) == NULL)
			amp = end;
		if (amp == q) {
			q++;
			continue;
		}
		if ((eq = memchr(q, '=', amp - q)) == NULL)
			eq = amp;
		if (eq == q)
			return (uri_fail(c, AMPS_E_TRANSPORT_OPT,
			    "empty parameter name"));
		if ((rc = uri_decode_into(c, &key, q, eq - q,
		    "a parameter name")) != 0)
			return (rc);
		if (eq == amp) {
			rc = uri_fail(c, AMPS_E_TRANSPORT_OPT,
			    "parameter %s has no value", key);
			free(key);
			return (rc);
		}
		if ((rc = uri_decode_into(c, &value, eq + 1, amp - eq - 1,
		    "a parameter value")) != 0) {
			free(key);
			return (rc);
		}
		rc = uri_param(c, u, key, value);
		free(key);
		free(value);
		if (rc != 0)
			return (rc);
		q = amp;
	}
	return (0);
}

/*
 * True for the characters of a host name or IPv4 address.
 */
static int
uri_hostch(char ch)
{
	return (isalnum((unsigned char)ch) || ch == '-' || ch == '.' ||
	    ch == '_' || ch == '~');
}

/*
 * Parse host ":" port in s[0..len).
 */
static int
uri_hostport(struct uri_ctx *c, struct amps_uri *u, const char *s,
    size_t len)
{
	const char	*end = s + len, *h, *hend, *p;
	size_t		 i;
	long		 port = 0;

	if (len > 0 && *s == '[') {
		h = s + 1;
		if ((hend = memchr(h, ']', end - h)) == NULL)
			return (uri_fail(c, AMPS_E_URI,
			    "IPv6 address without closing ']'"));
		if (hend == h)
			return (uri_fail(c, AMPS_E_URI, "empty IPv6 address"));
		for (i = 0; i < (size_t)(hend - h); i++) {
			if (!isxdigit((unsigned char)h[i]) && h[i] != ':' &&
			    h[i] != '.')
				return (uri_fail(c, AMPS_E_URI,
				    "bad character in IPv6 address"));
		}
		p = hend + 1;
	} else {
		h = s;
		if ((hend = memchr(h, ':', len)) == NULL)
			hend = end;
		if (hend == h)
			return (uri_fail(c, AMPS_E_URI, "missing host"));
		for (i = 0; i < (size_t)(hend - h); i++) {
			if (!uri_hostch(h[i]))
				return (uri_fail(c, AMPS_E_URI,
				    "bad character in host"));
		}
		p = hend;
	}
	if (p == end || *p != ':')
		return (uri_fail(c, AMPS_E_URI, "missing :port after host"));
	p++;
	if (p == end)
		return (uri_fail(c, AMPS_E_URI, "empty port"));
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return (uri_fail(c, AMPS_E_URI,
			    "port is not a number"));
		port = port * 10 + (*p - '0');
		if (port > 65535)
			return (uri_fail(c, AMPS_E_URI,
			    "port out of range (1..65535)"));
	}
	if (port == 0 && u->transport != AMPS_TRANSPORT_UNIX)
		return (uri_fail(c, AMPS_E_URI,
		    "port out of range (1..65535)"));
	u->port = (uint16_t)port;
	return (uri_copy(c, &u->host, h, hend - h));
}

/*
 * True for the characters of a protocol or message-type segment.
 */
static int
uri_segch(char ch)
{
	return (isalnum((unsigned char)ch) || ch == '-' || ch == '.' ||
	    ch == '_');
}

/*
 * Parse "protocol" ["/" message-type] in s[0..len) (after the '/').
 */
static int
uri_segments(struct uri_ctx *c, struct amps_uri *u, const char *s,
    size_t len)
{
	static const char *const protocols[] = {
		"amps", "fix", "nvfix", "xml"
	};
	const char	*end = s + len, *slash, *mt = NULL;
	size_t		 i, proto, plen, mtlen = 0;

	if ((slash = memchr(s, '/', len)) != NULL) {
		mt = slash + 1;
		mtlen = end - mt;
		plen = slash - s;
	} else
		plen = len;
	if (plen == 0)
		return (uri_fail(c, AMPS_E_URI, "missing protocol after port"));
	for (proto = 0; proto < sizeof protocols / sizeof protocols[0];
	    proto++) {
		if (uri_word_eq(s, plen, protocols[proto]))
			break;
	}
	if (proto == sizeof protocols / sizeof protocols[0])
		return (uri_fail(c, AMPS_E_URI,
		    "unknown protocol (expected amps, fix, nvfix or xml)"));
	if (mt != NULL) {
		if (proto != 0)
			return (uri_fail(c, AMPS_E_URI,
			    "protocol %s takes no message type",
			    protocols[proto]));
		if (mtlen == 0)
			return (uri_fail(c, AMPS_E_URI, "empty message type"));
		for (i = 0; i < mtlen; i++) {
			if (!uri_segch(mt[i]))
				return (uri_fail(c, AMPS_E_URI, mt[i] == '/' ?
				    "too many path segments" :
				    "bad character in message type"));
		}
		if (uri_copy(c, &u->message_type, mt, mtlen) != 0)
			return (AMPS_E_URI);
	}
	return (uri_copy(c, &u->protocol, protocols[proto],
	    strlen(protocols[proto])));
}

/*
 * Parse the whole URI into u (which the caller has zeroed).
 */
static int
uri_parse1(struct uri_ctx *c, const char *s, struct amps_uri *u)
{
	const char	*sep, *auth, *aend, *at, *colon, *path, *q, *end;
	size_t		 i;
	int		 rc;

	end = s + strlen(s);
	for (i = 0; s[i] != '\0'; i++) {
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return (uri_fail(c, AMPS_E_URI,
			    "space or control character at offset %zu", i));
	}
	if ((sep = strstr(s, "://")) == NULL)
		return (uri_fail(c, AMPS_E_URI, "missing \"://\""));
	if (sep == s)
		return (uri_fail(c, AMPS_E_URI, "missing transport"));
	if (uri_word_eq(s, sep - s, "tcp"))
		u->transport = AMPS_TRANSPORT_TCP;
	else if (uri_word_eq(s, sep - s, "tcps"))
		u->transport = AMPS_TRANSPORT_TCPS;
	else if (uri_word_eq(s, sep - s, "unix"))
		u->transport = AMPS_TRANSPORT_UNIX;
	else {
		for (i = 0; s + i < sep; i++) {
			if (!isalnum((unsigned char)s[i]) && s[i] != '+' &&
			    s[i] != '-' && s[i] != '.')
				return (uri_fail(c, AMPS_E_URI,
				    "bad character in transport"));
		}
		return (uri_fail(c, AMPS_E_TRANSPORT_TYPE,
		    "unknown transport %.*s (expected tcp, tcps or unix)",
		    (int)(sep - s), s));
	}

	/* Authority: up to the first '/' or '?'. */
	auth = sep + 3;
	for (aend = auth; aend < end && *aend != '/' && *aend != '?'; aend++)
		/* nothing */;
	at = NULL;
	for (i = 0; auth + i < aend; i++) {
		if (auth[i] == '@')
			at = auth + i;
	}
	if (at != NULL) {
		colon = memchr(auth, ':', at - auth);
		if (memchr(auth, '@', at - auth) != NULL)
			return (uri_fail(c, AMPS_E_URI, "'@' in %s; write it "
			    "as %%40", colon != NULL ? "user or password" :
			    "user"));
		if (colon == NULL)
			colon = at;
		if ((rc = uri_decode_into(c, &u->user, auth, colon - auth,
		    "user")) != 0)
			return (rc);
		if (colon != at && (rc = uri_decode_into(c, &u->password,
		    colon + 1, at - colon - 1, "password")) != 0)
			return (rc);
		auth = at + 1;
	}
	if ((rc = uri_hostport(c, u, auth, aend - auth)) != 0)
		return (rc);

	/* "/" protocol ["/" message-type] */
	if (aend == end || *aend != '/')
		return (uri_fail(c, AMPS_E_URI,
		    "missing /protocol after port"));
	path = aend + 1;
	if ((q = memchr(path, '?', end - path)) == NULL)
		q = end;
	if ((rc = uri_segments(c, u, path, q - path)) != 0)
		return (rc);

	/* Defaults, then "?" params. */
	u->tcp_linger = 10;
	u->tcp_keepalive = 1;
	if (q != end && (rc = uri_query(c, u, q + 1, end - q - 1)) != 0)
		return (rc);
	if (u->transport == AMPS_TRANSPORT_UNIX && u->path == NULL)
		return (uri_fail(c, AMPS_E_TRANSPORT_OPT,
		    "unix transport needs a path parameter"));
	return (0);
}

/*
 * Parse the connection string s into u.  Returns 0, or AMPS_E_URI,
 * AMPS_E_TRANSPORT_OPT or AMPS_E_TRANSPORT_TYPE with a message in err
 * (when errlen > 0) and u zeroed.  Out of memory is reported as
 * AMPS_E_URI "out of memory".  Free a parsed u with amps_uri_free.
 */
int
amps_uri_parse(const char *s, struct amps_uri *u, char *err, size_t errlen)
{
	struct uri_ctx	c;
	int		rc;

	memset(u, 0, sizeof *u);
	memset(&c, 0, sizeof c);
	c.err = err;
	c.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (s == NULL)
		return (uri_fail(&c, AMPS_E_URI, "no URI"));
	if ((rc = uri_parse1(&c, s, u)) != 0)
		amps_uri_free(u);
	return (rc);
}

/*
 * Free the strings of u and zero it.  Accepts NULL and a zeroed u.
 */
void
amps_uri_free(struct amps_uri *u)
{
	if (u == NULL)
		return;
	free(u->user);
	free(u->password);
	free(u->host);
	free(u->protocol);
	free(u->message_type);
	free(u->path);
	memset(u, 0, sizeof *u);
}

/*
 * Copy s into out[0..cap) with the password replaced by "****".  The URI
 * need not be valid: anything between the first ':' and the last '@'
 * before the first '?' after "://" is treated as the password.  Returns
 * the length of the redacted URI; when that is >= cap, out holds a
 * NUL-terminated prefix of it (never a piece of the password) and
 * AMPS_E_NOSPACE is returned.
 */
int
amps_uri_redact(const char *s, char *out, size_t cap)
{
	const char	*start, *q, *at = NULL, *colon, *p;
	size_t		 n = 0, total;

	if ((start = strstr(s, "://")) != NULL)
		start += 3;
	else
		start = s;
	if ((q = strchr(start, '?')) == NULL)
		q = start + strlen(start);
	for (p = start; p < q; p++) {
		if (*p == '@')
			at = p;
	}
	colon = at != NULL ? memchr(start, ':', at - start) : NULL;

	total = strlen(s);
	if (colon != NULL)
		total = total - (size_t)(at - colon - 1) + 4;
	if (total > INT_MAX)
		return (AMPS_E_NOSPACE);
	for (p = s; *p != '\0'; p++) {
		if (colon != NULL && p == colon + 1) {
			for (start = "****"; *start != '\0'; start++) {
				if (n + 1 < cap)
					out[n] = *start;
				n++;
			}
			p = at;		/* copy the '@' next */
		}
		if (n + 1 < cap)
			out[n] = *p;
		n++;
	}
	if (cap > 0)
		out[n < cap ? n : cap - 1] = '\0';
	if (total >= cap)
		return (AMPS_E_NOSPACE);
	return ((int)total);
}
