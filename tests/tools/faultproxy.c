/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * faultproxy: a loopback TCP proxy that injects network faults, for the
 * reliability tests.
 *
 *	faultproxy -t TARGET-PORT [-l LISTEN-PORT] [-c CONTROL-PORT]
 *	           [-P PORT-FILE] [-m MODE]
 *
 * It listens on 127.0.0.1:LISTEN-PORT (0: any free port) and forwards
 * each accepted connection to 127.0.0.1:TARGET-PORT.  The control port
 * (127.0.0.1, 0: any) takes one text line per request and answers one
 * line starting with "ok" or "error":
 *
 *	pass               forward both ways (the default)
 *	blackhole          keep every connection open, forward nothing:
 *	                   neither side is read, so bytes wait (in the
 *	                   kernel's buffers) as in a network partition
 *	delay MS           forward both ways, each chunk MS late (in order)
 *	halfopen up|down   stall client->server (up) or server->client
 *	                   (down) like blackhole, the other way flows
 *	reset              one shot: abort every open connection with an
 *	                   RST on both sides (SO_LINGER 0); mode unchanged
 *	stats              ok conns=N accepted=N resets=N up=B down=B
 *	ping               ok pong
 *
 * The mode applies at once to open connections and to new ones.  The
 * port file gets the listen port on its first line, then "ctl=PORT"
 * (written to a temporary name and renamed).  Only 127.0.0.1 is used.
 *
 * Invariants:
 *  1. Bytes are forwarded in the order they were read, per direction,
 *     in every mode; a chunk held by "delay" keeps its place even if the
 *     mode changes (it is then sent at its due time).
 *  2. No byte of an open connection is ever dropped (TCP never loses
 *     bytes inside a live stream): a stalled direction is simply not
 *     read until the mode lets it flow again.  Only "reset" discards,
 *     by aborting the whole connection.
 *  3. Every connection is in the list until both of its sockets are
 *     closed; "reset" closes both with SO_LINGER 0.
 *  4. A side is read only while its direction is not stalled and its
 *     peer's output holds at most PX_HIGH bytes.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "lifetime.h"

#define PX_HIGH		(4 * 1024 * 1024)
#define PX_LINE		256

enum px_mode {
	PX_PASS,
	PX_BLACKHOLE,
	PX_DELAY,
	PX_HALF_UP,		/* client->server stalled */
	PX_HALF_DOWN,		/* server->client stalled */
};

struct px_conn;

/* A chunk held back by delay mode. */
struct px_chunk {
	struct timeval		 due;
	struct evbuffer		*data;
	struct px_chunk		*next;
};

/* One direction of a connection: from one side to the other. */
struct px_dir {
	struct px_conn		*c;
	struct bufferevent	*from;
	struct bufferevent	*to;
	int			 up;		/* client -> server */
	struct px_chunk		*head;
	struct px_chunk		*tail;
	struct event		*timer;
};

struct px_conn {
	struct bufferevent	*cli;
	struct bufferevent	*srv;
	struct px_dir		 dup;
	struct px_dir		 ddown;
	int			 connected;	/* upstream connect done */
	struct px_conn		*next;
	struct px_conn		*prev;
};

/* A control channel client. */
struct px_ctl {
	struct bufferevent	*bev;
};

static struct {
	struct event_base	*base;
	enum px_mode		 mode;
	int			 delay_ms;
	struct sockaddr_in	 target;
	struct px_conn		*conns;
	uint64_t		 nconns;
	uint64_t		 accepted;
	uint64_t		 resets;
	uint64_t		 bytes_up;
	uint64_t		 bytes_down;
} px;

static void	px_conn_free(struct px_conn *, int);
static void	px_command1(char *, char *, size_t);
static void	px_dir_clear(struct px_dir *);

/* Print an error and exit (setup only). */
static void
px_fatal(const char *what)
{
	fprintf(stderr, "faultproxy: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Whether the current mode stalls direction d. */
static int
px_stalled(const struct px_dir *d)
{
	switch (px.mode) {
	case PX_BLACKHOLE:
		return (1);
	case PX_HALF_UP:
		return (d->up);
	case PX_HALF_DOWN:
		return (!d->up);
	default:
		return (0);
	}
}

/* Stop or resume reading d's source by the size of its output (inv. 4). */
static void
px_flow(struct px_dir *d)
{
	if (px_stalled(d) ||
	    evbuffer_get_length(bufferevent_get_output(d->to)) > PX_HIGH)
		bufferevent_disable(d->from, EV_READ);
	else
		bufferevent_enable(d->from, EV_READ);
}

/* Send the delayed chunks of d that are due; re-arm for the next. */
static void
px_release(struct px_dir *d)
{
	struct px_chunk	*ch;
	struct timeval	 now, wait;

	gettimeofday(&now, NULL);
	while ((ch = d->head) != NULL && !timercmp(&ch->due, &now, >)) {
		evbuffer_add_buffer(bufferevent_get_output(d->to), ch->data);
		evbuffer_free(ch->data);
		d->head = ch->next;
		if (d->head == NULL)
			d->tail = NULL;
		free(ch);
	}
	if (d->head != NULL) {
		timersub(&d->head->due, &now, &wait);
		evtimer_add(d->timer, &wait);
	}
	px_flow(d);
}

/* Timer of a direction: delayed chunks are due. */
static void
px_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	px_release(arg);
}

/* Bytes arrived on d's source: forward, delay or stall (inv. 1, 2). */
static void
px_forward(struct px_dir *d)
{
	struct evbuffer	*in = bufferevent_get_input(d->from);
	struct px_chunk	*ch;
	struct timeval	 add;
	size_t		 n = evbuffer_get_length(in);

	if (n == 0 || px_stalled(d)) {
		px_flow(d);
		return;
	}
	if (d->up)
		px.bytes_up += n;
	else
		px.bytes_down += n;
	if (px.mode != PX_DELAY && d->head == NULL) {
		evbuffer_add_buffer(bufferevent_get_output(d->to), in);
		px_flow(d);
		return;
	}
	if ((ch = calloc(1, sizeof *ch)) == NULL ||
	    (ch->data = evbuffer_new()) == NULL) {
		free(ch);
		px_conn_free(d->c, 0);
		return;
	}
	evbuffer_add_buffer(ch->data, in);
	gettimeofday(&ch->due, NULL);
	if (px.mode == PX_DELAY) {
		add.tv_sec = px.delay_ms / 1000;
		add.tv_usec = (px.delay_ms % 1000) * 1000;
		timeradd(&ch->due, &add, &ch->due);
	}
	if (d->tail != NULL)
		d->tail->next = ch;
	else
		d->head = ch;
	d->tail = ch;
	px_release(d);
}

/* Read callback of either side. */
static void
px_read_cb(struct bufferevent *bev, void *arg)
{
	struct px_conn	*c = arg;

	px_forward(bev == c->cli ? &c->dup : &c->ddown);
}

/* Write callback: output drained, the peer may be read again. */
static void
px_write_cb(struct bufferevent *bev, void *arg)
{
	struct px_conn	*c = arg;

	px_flow(bev == c->srv ? &c->dup : &c->ddown);
}

/* Event callback: connected, EOF or error. */
static void
px_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct px_conn	*c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		c->connected = 1;
		px_flow(&c->dup);
		px_flow(&c->ddown);
		return;
	}
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		px_conn_free(c, 0);
}

/* After a mode change: let every direction read or stall (inv. 4). */
static void
px_reflow(void)
{
	struct px_conn	*c;

	for (c = px.conns; c != NULL; c = c->next) {
		if (!c->connected)
			continue;
		px_forward(&c->dup);
		px_forward(&c->ddown);
	}
}

/* Free the delayed chunks of a direction. */
static void
px_dir_clear(struct px_dir *d)
{
	struct px_chunk	*ch;

	while ((ch = d->head) != NULL) {
		d->head = ch->next;
		evbuffer_free(ch->data);
		free(ch);
	}
	d->tail = NULL;
	if (d->timer != NULL)
		event_free(d->timer);
	d->timer = NULL;
}

/* Close a connection; with rst, abort both sockets (inv. 3). */
static void
px_conn_free(struct px_conn *c, int rst)
{
	struct linger	 lg = { 1, 0 };
	evutil_socket_t	 fd;

	if (rst) {
		if ((fd = bufferevent_getfd(c->cli)) != -1)
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		if ((fd = bufferevent_getfd(c->srv)) != -1)
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	}
	px_dir_clear(&c->dup);
	px_dir_clear(&c->ddown);
	bufferevent_free(c->cli);
	bufferevent_free(c->srv);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		px.conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	px.nconns--;
	free(c);
}

/* Set up one direction. */
static int
px_dir_init(struct px_dir *d, struct px_conn *c, int up)
{
	d->c = c;
	d->up = up;
	d->from = up ? c->cli : c->srv;
	d->to = up ? c->srv : c->cli;
	d->timer = evtimer_new(px.base, px_timer_cb, d);
	return (d->timer == NULL ? -1 : 0);
}

/* A client connected: open the upstream side. */
static void
px_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct px_conn	*c;

	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	px.accepted++;
	if ((c = calloc(1, sizeof *c)) == NULL) {
		close(fd);
		return;
	}
	c->cli = bufferevent_socket_new(px.base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->srv = bufferevent_socket_new(px.base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (c->cli == NULL || c->srv == NULL) {
		if (c->cli != NULL)
			bufferevent_free(c->cli);
		else
			close(fd);
		if (c->srv != NULL)
			bufferevent_free(c->srv);
		free(c);
		return;
	}
	c->next = px.conns;
	if (px.conns != NULL)
		px.conns->prev = c;
	px.conns = c;
	px.nconns++;
	if (px_dir_init(&c->dup, c, 1) == -1 ||
	    px_dir_init(&c->ddown, c, 0) == -1) {
		px_conn_free(c, 0);
		return;
	}
	bufferevent_setcb(c->cli, px_read_cb, px_write_cb, px_event_cb, c);
	bufferevent_setcb(c->srv, px_read_cb, px_write_cb, px_event_cb, c);
	if (bufferevent_socket_connect(c->srv, (struct sockaddr *)&px.target,
	    sizeof px.target) == -1)
		px_conn_free(c, 1);
}

/* Carry out one control request; writes the reply line into out. */
static void
px_command(char *line, char *out, size_t outlen)
{
	px_command1(line, out, outlen);
	px_reflow();
}

/* The requests themselves (see the top comment). */
static void
px_command1(char *line, char *out, size_t outlen)
{
	char		*arg;
	long		 ms;

	if ((arg = strchr(line, ' ')) != NULL)
		*arg++ = '\0';
	if (strcmp(line, "ping") == 0)
		snprintf(out, outlen, "ok pong");
	else if (strcmp(line, "pass") == 0) {
		px.mode = PX_PASS;
		snprintf(out, outlen, "ok pass");
	} else if (strcmp(line, "blackhole") == 0) {
		px.mode = PX_BLACKHOLE;
		snprintf(out, outlen, "ok blackhole");
	} else if (strcmp(line, "delay") == 0 && arg != NULL &&
	    (ms = strtol(arg, NULL, 10)) >= 0 && ms <= 600000) {
		px.mode = PX_DELAY;
		px.delay_ms = (int)ms;
		snprintf(out, outlen, "ok delay %ld", ms);
	} else if (strcmp(line, "halfopen") == 0 && arg != NULL &&
	    (strcmp(arg, "up") == 0 || strcmp(arg, "down") == 0)) {
		px.mode = strcmp(arg, "up") == 0 ? PX_HALF_UP : PX_HALF_DOWN;
		snprintf(out, outlen, "ok halfopen %s", arg);
	} else if (strcmp(line, "reset") == 0) {
		ms = 0;
		while (px.conns != NULL) {
			px_conn_free(px.conns, 1);
			ms++;
		}
		px.resets += (uint64_t)ms;
		snprintf(out, outlen, "ok reset %ld", ms);
	} else if (strcmp(line, "stats") == 0)
		snprintf(out, outlen, "ok conns=%llu accepted=%llu resets=%llu "
		    "up=%llu down=%llu",
		    (unsigned long long)px.nconns,
		    (unsigned long long)px.accepted,
		    (unsigned long long)px.resets,
		    (unsigned long long)px.bytes_up,
		    (unsigned long long)px.bytes_down);
	else
		snprintf(out, outlen, "error unknown request");
}

/* Control channel: answer each complete line. */
static void
px_ctl_read_cb(struct bufferevent *bev, void *arg)
{
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		*line, out[PX_LINE];
	size_t		 n;

	(void)arg;
	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF)) != NULL) {
		px_command(line, out, sizeof out);
		free(line);
		bufferevent_write(bev, out, strlen(out));
		bufferevent_write(bev, "\n", 1);
	}
	if (evbuffer_get_length(in) > PX_LINE)
		bufferevent_free(bev);
}

/* Control channel closed. */
static void
px_ctl_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(bev);
}

/* A control client connected. */
static void
px_ctl_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct bufferevent	*bev;

	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	bev = bufferevent_socket_new(px.base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		close(fd);
		return;
	}
	bufferevent_setcb(bev, px_ctl_read_cb, NULL, px_ctl_event_cb, NULL);
	bufferevent_enable(bev, EV_READ);
}

/* Listen on 127.0.0.1:port; returns the listener and the bound port. */
static struct evconnlistener *
px_listen(int port, evconnlistener_cb cb, int *bound)
{
	struct evconnlistener	*l;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	l = evconnlistener_new_bind(px.base, cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 64,
	    (struct sockaddr *)&sin, sizeof sin);
	if (l == NULL)
		px_fatal("listen");
	if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&sin,
	    &len) == -1)
		px_fatal("getsockname");
	*bound = ntohs(sin.sin_port);
	return (l);
}

/* Write the port file atomically. */
static void
px_port_file(const char *path, int port, int ctl)
{
	char	 tmp[4096];
	FILE	*f;

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		px_fatal(tmp);
	fprintf(f, "%d\nctl=%d\n", port, ctl);
	if (fclose(f) == EOF || rename(tmp, path) == -1)
		px_fatal(path);
}

/* Parse the options, listen, run until killed. */
int
main(int argc, char **argv)
{
	struct evconnlistener	*l, *lc;
	const char		*portfile = NULL;
	char			 reply[PX_LINE], mode[PX_LINE];
	int			 ch, lport = 0, cport = 0, tport = 0, bl, bc;

	mode[0] = '\0';
	lifetime_start("faultproxy", 3600, "never stopped by its test");
	while ((ch = getopt(argc, argv, "P:c:l:m:t:")) != -1) {
		switch (ch) {
		case 'P': portfile = optarg; break;
		case 'c': cport = atoi(optarg); break;
		case 'l': lport = atoi(optarg); break;
		case 'm': snprintf(mode, sizeof mode, "%s", optarg); break;
		case 't': tport = atoi(optarg); break;
		default:
			goto usage;
		}
	}
	if (tport <= 0 || tport > 65535)
		goto usage;
	signal(SIGPIPE, SIG_IGN);
	if ((px.base = event_base_new()) == NULL)
		px_fatal("event_base_new");
	px.target.sin_family = AF_INET;
	px.target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	px.target.sin_port = htons((uint16_t)tport);
	if (mode[0] != '\0') {
		px_command(mode, reply, sizeof reply);
		if (strncmp(reply, "ok", 2) != 0)
			goto usage;
	}
	l = px_listen(lport, px_accept_cb, &bl);
	lc = px_listen(cport, px_ctl_accept_cb, &bc);
	if (portfile != NULL)
		px_port_file(portfile, bl, bc);
	fprintf(stderr, "faultproxy: 127.0.0.1:%d -> 127.0.0.1:%d, control "
	    "127.0.0.1:%d\n", bl, tport, bc);
	event_base_dispatch(px.base);
	evconnlistener_free(l);
	evconnlistener_free(lc);
	event_base_free(px.base);
	return (0);
usage:
	fprintf(stderr, "usage: faultproxy -t target-port [-l listen-port] "
	    "[-c control-port] [-P port-file] [-m mode]\n");
	return (1);
}
