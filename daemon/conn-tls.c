/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * TLS for tcps:// servers (OpenSSL).  One SSL_CTX per configured
 * connection holds the CA bundle, the optional client certificate and the
 * verification mode; one SSL per socket carries SNI and the host-name (or
 * IP address) check.  conn.c drives the handshake and I/O on its own
 * non-blocking socket.
 *
 * Invariants:
 *   (1) With "verify yes" (the default) the chain must verify against
 *       the configured CA (or the system store) AND the certificate must
 *       name the server (SSL_set1_host / IP check): SSL_VERIFY_PEER makes
 *       the handshake fail otherwise.
 *   (2) "verify no" is logged as a warning by conn.c on every connect.
 *   (3) TLS 1.2 is the minimum version.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "conn.h"
#include "xmalloc.h"

/* The most recent OpenSSL error as text (static buffer). */
const char *
conn_tls_error(void)
{
	static char	buf[256];
	unsigned long	e;

	e = ERR_get_error();
	if (e == 0)
		return ("unknown TLS error");
	ERR_error_string_n(e, buf, sizeof buf);
	ERR_clear_error();
	return (buf);
}

/*
 * Build the SSL_CTX for connection cc.  Returns it, or NULL with *cause
 * set (caller frees).
 */
SSL_CTX *
conn_tls_ctx(const struct conf_conn *cc, char **cause)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		xasprintf(cause, "SSL_CTX_new: %s", conn_tls_error());
		return (NULL);
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (cc->tls.ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, cc->tls.ca,
		    NULL) != 1) {
			xasprintf(cause, "tls ca \"%s\": %s", cc->tls.ca,
			    conn_tls_error());
			goto fail;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		xasprintf(cause, "system CA store: %s", conn_tls_error());
		goto fail;
	}
	if (cc->tls.cert != NULL) {
		if (SSL_CTX_use_certificate_chain_file(ctx,
		    cc->tls.cert) != 1) {
			xasprintf(cause, "tls cert \"%s\": %s", cc->tls.cert,
			    conn_tls_error());
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, cc->tls.key,
		    SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			xasprintf(cause, "tls key \"%s\": %s", cc->tls.key,
			    conn_tls_error());
			goto fail;
		}
	}
	SSL_CTX_set_verify(ctx, cc->tls.verify ? SSL_VERIFY_PEER :
	    SSL_VERIFY_NONE, NULL);
	return (ctx);
fail:
	SSL_CTX_free(ctx);
	return (NULL);
}

/*
 * A client SSL on fd for host (from the URI); server_name overrides the
 * name used for SNI and the certificate check.  Returns NULL with *cause.
 */
SSL *
conn_tls_new(SSL_CTX *ctx, int fd, const char *host, const char *server_name,
    char **cause)
{
	const char		*name = server_name ? server_name : host;
	struct in6_addr		 a6;
	struct in_addr		 a4;
	X509_VERIFY_PARAM	*vp;
	SSL			*ssl;
	int			 is_ip;

	if ((ssl = SSL_new(ctx)) == NULL) {
		xasprintf(cause, "SSL_new: %s", conn_tls_error());
		return (NULL);
	}
	if (SSL_set_fd(ssl, fd) != 1) {
		xasprintf(cause, "SSL_set_fd: %s", conn_tls_error());
		SSL_free(ssl);
		return (NULL);
	}
	is_ip = inet_pton(AF_INET, name, &a4) == 1 ||
	    inet_pton(AF_INET6, name, &a6) == 1;
	if (!is_ip && SSL_set_tlsext_host_name(ssl, name) != 1) {
		xasprintf(cause, "SNI \"%s\": %s", name, conn_tls_error());
		SSL_free(ssl);
		return (NULL);
	}
	if (is_ip) {
		vp = SSL_get0_param(ssl);
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, name) != 1) {
			xasprintf(cause, "IP check \"%s\": %s", name,
			    conn_tls_error());
			SSL_free(ssl);
			return (NULL);
		}
	} else if (SSL_set1_host(ssl, name) != 1) {
		xasprintf(cause, "host check \"%s\": %s", name,
		    conn_tls_error());
		SSL_free(ssl);
		return (NULL);
	}
	SSL_set_connect_state(ssl);
	return (ssl);
}
