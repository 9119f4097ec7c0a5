/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The Prometheus endpoint: an evhttp server on the daemon's one event
 * base, bound to the address of `metrics listen` (conf-metrics.c).  It
 * answers
 *
 *	GET /metrics	200, text/plain; version=0.0.4 (the caller's text)
 *	HEAD /metrics	the same headers (Content-Length of that text), no body
 *	GET <other>	404 (HEAD: the same, without a body)
 *	<other method>	405 with "Allow: GET, HEAD"
 *
 * and nothing else.  What is rendered is the caller's business (a
 * metrics_text_fn writing to a FILE; server_metrics_text() in ampsd).
 *
 * Invariants:
 *   (1) Requests are bounded: headers at most METRICS_MAX_HEADERS bytes,
 *       a body at most METRICS_MAX_BODY (evhttp answers larger ones with
 *       an error and closes), and a connection idle for METRICS_TIMEOUT_S
 *       is closed.
 *   (2) Accepting is rate limited: after METRICS_ACCEPTS_PER_S new
 *       connections within one second the listener is disabled until the
 *       second is over, so a flood cannot take every descriptor of the
 *       daemon (open connections stay below about rate x timeout).
 *   (3) Everything runs in loop callbacks; no request can reach fatal().
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/socket.h>

#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "conf.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "xmalloc.h"

#define METRICS_MAX_HEADERS	8192
#define METRICS_MAX_BODY	1024
#define METRICS_TIMEOUT_S	5
#define METRICS_ACCEPTS_PER_S	16
#define METRICS_CTYPE		"text/plain; version=0.0.4; charset=utf-8"

struct metrics {
	struct evhttp			*http;
	struct evhttp_bound_socket	*bound;
	struct event			*resume;	/* re-enable accepting */
	metrics_text_fn			 text;
	void				*arg;
	uint64_t			 window;	/* second of the count */
	unsigned			 accepts;	/* in that second */
	int				 paused;
};

/* Timer: the second is over, accept again (invariant 2). */
static void
metrics_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct metrics	*m = arg;

	m->paused = 0;
	evconnlistener_enable(evhttp_bound_socket_get_listener(m->bound));
}

/*
 * evhttp's "new connection" hook: count accepts, pause the listener
 * when the second's budget is spent, and hand evhttp the bufferevent it
 * would have made itself.
 */
static struct bufferevent *
metrics_bev_cb(struct event_base *base, void *arg)
{
	struct metrics	*m = arg;
	struct timeval	 tv;
	uint64_t	 now = loop_now_ms();

	if (now / 1000 != m->window) {
		m->window = now / 1000;
		m->accepts = 0;
	}
	if (++m->accepts >= METRICS_ACCEPTS_PER_S && !m->paused) {
		log_warnx("metrics: %d connections within a second; not "
		    "accepting more until the next one", METRICS_ACCEPTS_PER_S);
		m->paused = 1;
		evconnlistener_disable(evhttp_bound_socket_get_listener(
		    m->bound));
		tv.tv_sec = 0;
		tv.tv_usec = (suseconds_t)(1000 - now % 1000) * 1000;
		evtimer_add(m->resume, &tv);
	}
	return (bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE));
}

/* Send a short text reply with code. */
static void
metrics_reply_text(struct evhttp_request *req, int code, const char *reason,
    const char *body)
{
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, "Internal Server Error");
		return;
	}
	evbuffer_add(b, body, strlen(body));
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

/* Every request: GET or HEAD /metrics, or 404 / 405. */
static void
metrics_request_cb(struct evhttp_request *req, void *arg)
{
	struct metrics		*m = arg;
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path = uri != NULL ? evhttp_uri_get_path(uri) :
				    NULL;
	struct evbuffer		*b;
	char			*text = NULL, clen[32];
	size_t			 len = 0;
	FILE			*f;
	int			 rc, head;

	head = evhttp_request_get_command(req) == EVHTTP_REQ_HEAD;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET && !head) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		metrics_reply_text(req, 405, "Method Not Allowed",
		    "only GET is served here\n");
		return;
	}
	if (path == NULL || strcmp(path, "/metrics") != 0) {
		metrics_reply_text(req, 404, "Not Found",
		    "not found: the metrics are at /metrics\n");
		return;
	}
	if ((f = open_memstream(&text, &len)) == NULL) {
		evhttp_send_error(req, 500, "Internal Server Error");
		return;
	}
	rc = m->text(m->arg, f);
	if (fclose(f) != 0 || rc != 0 || (b = evbuffer_new()) == NULL) {
		free(text);
		log_warnx("metrics: cannot render the metrics");
		evhttp_send_error(req, 500, "Internal Server Error");
		return;
	}
	/* HEAD: the length GET would have, and no body. */
	if (head) {
		snprintf(clen, sizeof clen, "%zu", len);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Length", clen);
	} else
		evbuffer_add(b, text, len);
	free(text);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", METRICS_CTYPE);
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

/* The port the socket got (for "port 0"), or 0. */
static unsigned
metrics_bound_port(struct evhttp_bound_socket *bound)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof ss;

	if (getsockname(evhttp_bound_socket_get_fd(bound),
	    (struct sockaddr *)&ss, &sl) == -1)
		return (0);
	if (ss.ss_family == AF_INET)
		return (ntohs(((struct sockaddr_in *)&ss)->sin_port));
	if (ss.ss_family == AF_INET6)
		return (ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	return (0);
}

/*
 * Serve text(arg, FILE) at http://ADDR:PORT/metrics on base.  Returns
 * the server, or NULL with *cause set (the caller frees it).
 */
struct metrics *
metrics_listen(struct event_base *base, const struct conf_metrics *cm,
    metrics_text_fn text, void *arg, char **cause)
{
	struct metrics	*m;
	char		 host[80];

	m = xcalloc(1, sizeof *m);
	m->text = text;
	m->arg = arg;
	if ((m->http = evhttp_new(base)) == NULL ||
	    (m->resume = evtimer_new(base, metrics_resume_cb, m)) == NULL) {
		xasprintf(cause, "metrics: cannot create the HTTP server");
		metrics_close(m);
		return (NULL);
	}
	evhttp_set_max_headers_size(m->http, METRICS_MAX_HEADERS);
	evhttp_set_max_body_size(m->http, METRICS_MAX_BODY);
	evhttp_set_timeout(m->http, METRICS_TIMEOUT_S);
	evhttp_set_gencb(m->http, metrics_request_cb, m);
	evhttp_set_bevcb(m->http, metrics_bev_cb, m);
	if ((m->bound = evhttp_bind_socket_with_handle(m->http, cm->addr,
	    cm->port)) == NULL) {
		xasprintf(cause, "metrics: cannot listen on %s (line %d): "
		    "address in use or not available", cm->listen, cm->line);
		metrics_close(m);
		return (NULL);
	}
	snprintf(host, sizeof host, strchr(cm->addr, ':') != NULL ? "[%s]" :
	    "%s", cm->addr);
	log_info("metrics: serving http://%s:%u/metrics%s", host,
	    metrics_bound_port(m->bound), cm->loopback ? "" : " to other "
	    "hosts, without authentication (allow-remote)");
	return (m);
}

/* Stop serving and free (NULL is fine); open connections are closed. */
void
metrics_close(struct metrics *m)
{
	if (m == NULL)
		return;
	if (m->resume != NULL)
		event_free(m->resume);
	if (m->http != NULL)
		evhttp_free(m->http);
	free(m);
}
