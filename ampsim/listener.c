/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * listener.c: ampsim's client listeners: TCP (default 127.0.0.1), TLS
 * over TCP (--tls-port with --tls-cert/--tls-key) and a unix socket
 * (--unix).  Port 0 binds an ephemeral port; the bound ports are written
 * to --port-file ("<tcp-port>\n" then "tls=<port>\n", "admin=<port>\n")
 * atomically (temporary file + rename) so tests can wait for it.
 *
 * Invariants:
 *  1. Accepted sockets are non-blocking (TCP_NODELAY on TCP) before a
 *     session is created for them.
 *  2. The TLS context exists only when a TLS listener does.
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/listener.h>
#include <openssl/err.h>

#include "ampsim.h"

static struct evconnlistener	*l_tcp, *l_tls, *l_unix;
static SSL_CTX			*tls_ctx;



/* Describe a peer address. */
static void
peer_name(struct sockaddr *sa, char *out, size_t cap)
{
	char	a[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof a);
		if (snprintf(out, cap, "%s:%u", a, ntohs(sin->sin_port)) < 0)
			out[0] = '\0';
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof a);
		if (snprintf(out, cap, "[%s]:%u", a,
		    ntohs(sin6->sin6_port)) < 0)
			out[0] = '\0';
	} else
		snprintf(out, cap, "unix");
}

/* Accept a client on any listener; arg is the session kind. */
static void
listener_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	enum sess_kind	 kind = (enum sess_kind)(intptr_t)arg;
	char		 peer[128];
	int		 one = 1;
	SSL		*ssl = NULL;

	evutil_make_socket_nonblocking(fd);
	if (kind != SESS_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	peer_name(sa, peer, sizeof peer);
	if (kind == SESS_TLS) {
		if ((ssl = SSL_new(tls_ctx)) == NULL) {
			sim_log(LOG_WARN, "listener: SSL_new failed");
			close(fd);
			return;
		}
		SSL_set_fd(ssl, fd);
		SSL_set_accept_state(ssl);
	}
	sess_create(fd, kind, ssl, peer);
}

/* Accept errors (EMFILE etc.): log and keep going. */
static void
listener_error_cb(struct evconnlistener *l, void *arg)
{
	sim_log(LOG_WARN, "listener: accept failed: %s", strerror(errno));
}

/* Bind a TCP listener on conf.addr:port. */
static struct evconnlistener *
listen_tcp(int port, enum sess_kind kind, char *err, size_t errlen)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct evconnlistener	*l;
	socklen_t		 len;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, conf.addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		len = sizeof *sin;
	} else if (inet_pton(AF_INET6, conf.addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		len = sizeof *sin6;
	} else {
		snprintf(err, errlen, "bad listen address %s", conf.addr);
		return (NULL);
	}
	l = evconnlistener_new_bind(sim_base, listener_accept_cb,
	    (void *)(intptr_t)kind, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
	    128, (struct sockaddr *)&ss, (int)len);
	if (l == NULL) {
		snprintf(err, errlen, "listen %s:%d: %s", conf.addr, port,
		    strerror(errno));
		return (NULL);
	}
	evconnlistener_set_error_cb(l, listener_error_cb);
	return (l);
}

/* The port a listener is bound to. */
static int
bound_port(struct evconnlistener *l)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof ss;

	if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss,
	    &len) != 0)
		return (-1);
	if (ss.ss_family == AF_INET)
		return (ntohs(((struct sockaddr_in *)&ss)->sin_port));
	return (ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
}

/* Write the port file atomically. */
static int
write_port_file(int tcp, int tls, char *err, size_t errlen)
{
	char	 tmp[4096];
	FILE	*f;
	int	 ap = admin_bound_port();

	snprintf(tmp, sizeof tmp, "%s.tmp", conf.port_file);
	if ((f = fopen(tmp, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return (-1);
	}
	fprintf(f, "%d\n", tcp);
	if (tls >= 0)
		fprintf(f, "tls=%d\n", tls);
	if (ap >= 0)
		fprintf(f, "admin=%d\n", ap);
	if (repl_bound_port() >= 0)
		fprintf(f, "repl=%d\n", repl_bound_port());
	if (fclose(f) != 0 || rename(tmp, conf.port_file) != 0) {
		snprintf(err, errlen, "%s: %s", conf.port_file,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

/* Start every configured listener (admin listeners must exist first). */
int
listener_start(char *err, size_t errlen)
{
	struct sockaddr_un	sun;
	int			tcp = -1, tls = -1;

	if (conf.port >= 0) {
		if ((l_tcp = listen_tcp(conf.port, SESS_TCP, err,
		    errlen)) == NULL)
			return (-1);
		tcp = bound_port(l_tcp);
		sim_log(LOG_INFO, "listener: tcp://%s:%d/amps/json", conf.addr,
		    tcp);
	}
	if (conf.tls_port >= 0) {
		if (conf.tls_cert == NULL || conf.tls_key == NULL) {
			snprintf(err, errlen, "--tls-port needs --tls-cert "
			    "and --tls-key");
			return (-1);
		}
		tls_ctx = SSL_CTX_new(TLS_server_method());
		if (tls_ctx == NULL ||
		    SSL_CTX_use_certificate_chain_file(tls_ctx,
		    conf.tls_cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(tls_ctx, conf.tls_key,
		    SSL_FILETYPE_PEM) != 1) {
			snprintf(err, errlen, "TLS: cannot load %s / %s",
			    conf.tls_cert, conf.tls_key);
			return (-1);
		}
		if ((l_tls = listen_tcp(conf.tls_port, SESS_TLS, err,
		    errlen)) == NULL)
			return (-1);
		tls = bound_port(l_tls);
		sim_log(LOG_INFO, "listener: tcps://%s:%d/amps/json",
		    conf.addr, tls);
	}
	if (conf.unix_path != NULL) {
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		if (strlen(conf.unix_path) >= sizeof sun.sun_path) {
			snprintf(err, errlen, "unix path too long");
			return (-1);
		}
		strcpy(sun.sun_path, conf.unix_path);
		unlink(conf.unix_path);
		l_unix = evconnlistener_new_bind(sim_base, listener_accept_cb,
		    (void *)(intptr_t)SESS_UNIX, LEV_OPT_CLOSE_ON_FREE, 128,
		    (struct sockaddr *)&sun, sizeof sun);
		if (l_unix == NULL) {
			snprintf(err, errlen, "unix %s: %s", conf.unix_path,
			    strerror(errno));
			return (-1);
		}
		sim_log(LOG_INFO, "listener: unix://localhost:0/amps/json?"
		    "path=%s", conf.unix_path);
	}
	if (conf.port_file != NULL &&
	    write_port_file(tcp, tls, err, errlen) != 0)
		return (-1);
	return (0);
}

/* Close every listener. */
void
listener_stop(void)
{
	if (l_tcp != NULL)
		evconnlistener_free(l_tcp);
	if (l_tls != NULL)
		evconnlistener_free(l_tls);
	if (l_unix != NULL) {
		evconnlistener_free(l_unix);
		unlink(conf.unix_path);
	}
	l_tcp = l_tls = l_unix = NULL;
	if (tls_ctx != NULL)
		SSL_CTX_free(tls_ctx);
	tls_ctx = NULL;
}
