/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Fuzz target for amps_uri_parse / amps_uri_free / amps_uri_redact
 * (codec/amps-uri.c).
 *
 * The input, NUL-terminated, is parsed as a connection string.  Checked
 * invariants (abort() on violation):
 *  1. Success fills host and protocol, path exactly for unix, a non-zero
 *     port for tcp/tcps, only known AMPS_URI_* bits; failure returns one
 *     of the three URI error kinds, zeroes the struct and leaves a
 *     NUL-terminated message.
 *  2. amps_uri_redact output fits strlen(s) + 4 bytes, and a parsed URI
 *     redacts to one that parses to the same fields with password "****".
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amps.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Compare two possibly NULL strings. */
static int
same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/* Check the fields of a successfully parsed URI. */
static void
check_parsed(const struct amps_uri *u)
{
	if (u->host == NULL || u->protocol == NULL)
		abort();
	if ((u->transport == AMPS_TRANSPORT_UNIX) != (u->path != NULL))
		abort();
	if (u->transport != AMPS_TRANSPORT_UNIX && u->port == 0)
		abort();
	if (u->set & ~(unsigned)(AMPS_URI_NODELAY | AMPS_URI_SNDBUF |
	    AMPS_URI_RCVBUF | AMPS_URI_LINGER | AMPS_URI_KEEPALIVE))
		abort();
	if (u->tcp_sndbuf < 0 || u->tcp_rcvbuf < 0 || u->tcp_linger < 0)
		abort();
	if ((u->tcp_nodelay != 0 && u->tcp_nodelay != 1) ||
	    (u->tcp_keepalive != 0 && u->tcp_keepalive != 1))
		abort();
	if (u->password != NULL && u->user == NULL)
		abort();
}

/* Parse, check, redact and re-parse the input as a URI. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct amps_uri	 u, r;
	char		*s, *red, err[128];
	size_t		 cap;
	int		 rc, n;

	if ((s = malloc(size + 1)) == NULL)
		return (0);
	memcpy(s, data, size);
	s[size] = '\0';

	rc = amps_uri_parse(s, &u, err, sizeof err);
	if (rc == 0)
		check_parsed(&u);
	else {
		if (rc != AMPS_E_URI && rc != AMPS_E_TRANSPORT_OPT &&
		    rc != AMPS_E_TRANSPORT_TYPE)
			abort();
		if (u.host != NULL || u.user != NULL || u.password != NULL ||
		    u.protocol != NULL || u.message_type != NULL ||
		    u.path != NULL || err[0] == '\0' ||
		    memchr(err, '\0', sizeof err) == NULL)
			abort();
	}

	cap = strlen(s) + 5;
	if ((red = malloc(cap)) == NULL) {
		amps_uri_free(&u);
		free(s);
		return (0);
	}
	n = amps_uri_redact(s, red, cap);
	if (n < 0 || (size_t)n != strlen(red))
		abort();
	if (rc == 0) {
		if (amps_uri_parse(red, &r, NULL, 0) != 0)
			abort();
		if (!same(r.user, u.user) || !same(r.host, u.host) ||
		    r.port != u.port || !same(r.protocol, u.protocol) ||
		    !same(r.message_type, u.message_type) ||
		    !same(r.path, u.path) || r.set != u.set ||
		    r.transport != u.transport)
			abort();
		if (u.password != NULL && !same(r.password, "****"))
			abort();
		if (u.password == NULL && r.password != NULL)
			abort();
		amps_uri_free(&r);
	}
	amps_uri_free(&u);
	amps_uri_free(&u);
	free(red);
	free(s);
	return (0);
}
