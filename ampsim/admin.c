/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * admin.c: fault injection (§17.3) and the admin control channel.
 *
 * Faults are set with --fault name=value on the command line or with
 * "fault name=value" on the admin channel: a unix socket (--admin PATH)
 * and/or a TCP port on 127.0.0.1 (--admin-port N) speaking one text line
 * per request; every reply is one line starting with "ok" or "error".
 *
 *	ping                     -> ok pong
 *	fault <name>=<value>     -> ok   (see faults_set for the names)
 *	disconnect <client-name> -> ok <n>   (drop that client's connection)
 *	disconnect-all           -> ok <n>
 *	pause-acks / resume-acks -> ok   (hold all acks / release them)
 *	clients                  -> ok <n> name1 name2 ...
 *	stats                    -> ok sessions=<n> subs=<n> txlog=<n>
 *	                            hb_timer=<n> hb_answers=<n> beats=<n>
 *	qacks                    -> ok frames=<n> bookmarks=<n> sizes=<list>
 *	peer <host>:<port>       -> ok   (replicate to that peer)
 *	quit                     -> closes the admin connection
 *
 * Invariants:
 *  1. One-shot faults (drop_after_frames, drop_on_cmd, fail_cmd) are
 *     cleared when they fire; the others stay until set to 0.
 *  2. Acks held while paused are released in order, to sessions that
 *     still exist, by resume-acks.
 *  3. Admin connections never touch client sessions except through
 *     sess_kill().
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "ampsim.h"

struct faults faults;

struct held {
	TAILQ_ENTRY(held)	 entry;
	uint64_t		 sess_id;
	size_t			 len;
	char			 frame[];
};
static TAILQ_HEAD(, held) held_acks = TAILQ_HEAD_INITIALIZER(held_acks);

static struct evconnlistener	*admin_unix, *admin_tcp;
static char			 fail_reason_buf[256];

/* Parse an ack-type list for a fault. */
static int
fault_acks(const char *v, unsigned *mask)
{
	if (strcmp(v, "0") == 0 || strcmp(v, "") == 0) {
		*mask = 0;
		return (0);
	}
	return (amps_ack_parse(v, strlen(v), mask) == 0 ? 0 : -1);
}

/* Release held acks. */
static void
held_release(void)
{
	struct held	*h;
	struct sess	*s;

	while ((h = TAILQ_FIRST(&held_acks)) != NULL) {
		TAILQ_REMOVE(&held_acks, h, entry);
		if ((s = sess_find_id(h->sess_id)) != NULL)
			sess_send(s, h->frame, h->len);
		free(h);
	}
}

/* Hold an ack while acks are paused. */
void
admin_hold_ack(uint64_t sess_id, const char *frame, size_t len)
{
	struct held	*h;

	h = xmalloc(sizeof *h + len);
	h->sess_id = sess_id;
	h->len = len;
	memcpy(h->frame, frame, len);
	TAILQ_INSERT_TAIL(&held_acks, h, entry);
}

/*
 * Set a fault from "name=value".  Names: drop_after_frames=N,
 * drop_on_cmd=CMD, no_heartbeats=0|1, ignore_beats=0|1, answer_beats=0|1,
 * deny_acks=LIST, delay_acks=LIST, delay_ms=N, fail_cmd=CMD,
 * fail_reason=TEXT, write_bytewise=0|1, write_batch=N,
 * quote_numbers=0|1, bm_not_found=0|1, acks_paused=0|1, and the run-time
 * forms of switches: sids=0|1, dup_ack=success|failure, hb_multiple=K.
 */
int
faults_set(const char *spec, char *err, size_t errlen)
{
	const char	*eq = strchr(spec, '=');
	char		 name[64];
	const char	*v;
	unsigned long	 n;

	if (eq == NULL || (size_t)(eq - spec) >= sizeof name) {
		snprintf(err, errlen, "fault: expected name=value");
		return (-1);
	}
	memcpy(name, spec, (size_t)(eq - spec));
	name[eq - spec] = '\0';
	v = eq + 1;
	n = strtoul(v, NULL, 10);
	if (strcmp(name, "drop_after_frames") == 0)
		faults.drop_after_frames = n;
	else if (strcmp(name, "drop_on_cmd") == 0) {
		free(faults.drop_on_cmd);
		faults.drop_on_cmd = *v ? xstrdup(v) : NULL;
	} else if (strcmp(name, "no_heartbeats") == 0)
		faults.no_heartbeats = n != 0;
	else if (strcmp(name, "ignore_beats") == 0)
		faults.ignore_beats = n != 0;
	else if (strcmp(name, "answer_beats") == 0)
		faults.answer_beats = n != 0;
	else if (strcmp(name, "deny_acks") == 0) {
		if (fault_acks(v, &faults.deny_acks) != 0)
			goto bad;
	} else if (strcmp(name, "delay_acks") == 0) {
		if (fault_acks(v, &faults.delay_acks) != 0)
			goto bad;
	} else if (strcmp(name, "delay_ms") == 0)
		faults.delay_ms = (unsigned)n;
	else if (strcmp(name, "fail_cmd") == 0) {
		free(faults.fail_cmd);
		faults.fail_cmd = *v ? xstrdup(v) : NULL;
	} else if (strcmp(name, "fail_reason") == 0) {
		free(faults.fail_reason);
		faults.fail_reason = xstrdup(v);
	} else if (strcmp(name, "write_bytewise") == 0)
		faults.write_bytewise = n != 0;
	else if (strcmp(name, "write_batch") == 0)
		faults.write_batch = (unsigned)n;
	else if (strcmp(name, "quote_numbers") == 0)
		faults.quote_numbers = n != 0;
	else if (strcmp(name, "bm_not_found") == 0)
		faults.bm_not_found = n != 0;
	else if (strcmp(name, "sids") == 0)
		conf.sids = n != 0;
	else if (strcmp(name, "dup_ack") == 0) {
		if (strcmp(v, "success") == 0)
			conf.dupack = DUPACK_SUCCESS;
		else if (strcmp(v, "failure") == 0)
			conf.dupack = DUPACK_FAILURE;
		else
			goto bad;
	} else if (strcmp(name, "hb_multiple") == 0 && n > 0)
		conf.hb_multiple = (unsigned)n;
	else if (strcmp(name, "acks_paused") == 0) {
		faults.acks_paused = n != 0;
		if (!faults.acks_paused)
			held_release();
	} else {
		snprintf(err, errlen, "fault: unknown name %s", name);
		return (-1);
	}
	sim_log(LOG_INFO, "fault: %s", spec);
	return (0);
bad:
	snprintf(err, errlen, "fault: bad value %s", v);
	return (-1);
}

/* The forced failure reason if cname is the armed command (one-shot). */
const char *
faults_take_failure(const char *cname)
{
	int	match;

	if (faults.fail_cmd == NULL || cname == NULL)
		return (NULL);
	match = strcmp(faults.fail_cmd, cname) == 0 ||
	    (strcmp(faults.fail_cmd, "publish") == 0 &&
	    strcmp(cname, "p") == 0) ||
	    (strcmp(faults.fail_cmd, "p") == 0 &&
	    strcmp(cname, "publish") == 0);
	if (!match)
		return (NULL);
	snprintf(fail_reason_buf, sizeof fail_reason_buf, "%s",
	    faults.fail_reason ? faults.fail_reason : "not entitled");
	free(faults.fail_cmd);
	faults.fail_cmd = NULL;
	return (fail_reason_buf);
}

/* Execute one admin line; reply into out. */
static void
admin_exec(char *line, struct evbuffer *out, int *quit)
{
	struct sess	*s, *next;
	struct sub	*sub;
	char		 err[256];
	int		 n = 0;

	if (strcmp(line, "ping") == 0)
		evbuffer_add_printf(out, "ok pong\n");
	else if (strncmp(line, "fault ", 6) == 0) {
		if (faults_set(line + 6, err, sizeof err) == 0)
			evbuffer_add_printf(out, "ok\n");
		else
			evbuffer_add_printf(out, "error %s\n", err);
	} else if (strncmp(line, "disconnect ", 11) == 0) {
		TAILQ_FOREACH_SAFE(s, &sessions, entry, next)
			if (s->name != NULL && strcmp(s->name, line + 11) == 0) {
				sess_kill(s, "admin: disconnect");
				n++;
			}
		evbuffer_add_printf(out, "ok %d\n", n);
	} else if (strcmp(line, "disconnect-all") == 0) {
		while ((s = TAILQ_FIRST(&sessions)) != NULL) {
			sess_kill(s, "admin: disconnect-all");
			n++;
		}
		evbuffer_add_printf(out, "ok %d\n", n);
	} else if (strcmp(line, "pause-acks") == 0) {
		faults.acks_paused = 1;
		evbuffer_add_printf(out, "ok\n");
	} else if (strcmp(line, "resume-acks") == 0) {
		faults.acks_paused = 0;
		held_release();
		evbuffer_add_printf(out, "ok\n");
	} else if (strcmp(line, "clients") == 0) {
		TAILQ_FOREACH(s, &sessions, entry)
			n++;
		evbuffer_add_printf(out, "ok %d", n);
		TAILQ_FOREACH(s, &sessions, entry)
			evbuffer_add_printf(out, " %s",
			    s->name ? s->name : "-");
		evbuffer_add_printf(out, "\n");
	} else if (strcmp(line, "stats") == 0) {
		TAILQ_FOREACH(sub, &all_subs, gentry)
			n++;
		TAILQ_FOREACH(s, &sessions, entry)
			;
		{
			int ns = 0;
			TAILQ_FOREACH(s, &sessions, entry)
				ns++;
			evbuffer_add_printf(out, "ok sessions=%d subs=%d "
			    "txlog=%zu hb_timer=%llu hb_answers=%llu "
			    "beats=%llu\n", ns, n, txlog_count(),
			    (unsigned long long)hb_counts.timer,
			    (unsigned long long)hb_counts.answers,
			    (unsigned long long)hb_counts.beats);
		}
	} else if (strcmp(line, "qacks") == 0) {
		char	qs[512];

		queue_ack_stats(qs, sizeof qs);
		evbuffer_add_printf(out, "ok %s\n", qs);
	} else if (strncmp(line, "peer ", 5) == 0) {
		if (repl_set_peer(line + 5, err, sizeof err) == 0)
			evbuffer_add_printf(out, "ok\n");
		else
			evbuffer_add_printf(out, "error %s\n", err);
	} else if (strcmp(line, "quit") == 0)
		*quit = 1;
	else
		evbuffer_add_printf(out, "error unknown command\n");
}

/* Admin connection readable: execute complete lines. */
static void
admin_read_cb(struct bufferevent *bev, void *arg)
{
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		*line;
	size_t		 n;
	int		 quit = 0;

	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF)) != NULL) {
		sim_log(LOG_DEBUG, "admin: %s", line);
		admin_exec(line, bufferevent_get_output(bev), &quit);
		free(line);
		if (quit) {
			bufferevent_free(bev);
			return;
		}
	}
	if (evbuffer_get_length(in) > 4096)
		bufferevent_free(bev);
}

/* Admin connection closed or failed. */
static void
admin_event_cb(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(bev);
}

/* Accept an admin connection. */
static void
admin_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct bufferevent	*bev;

	bev = bufferevent_socket_new(sim_base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, admin_read_cb, NULL, admin_event_cb, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* Start the admin listeners that are configured. */
int
admin_start(char *err, size_t errlen)
{
	struct sockaddr_un	sun;
	struct sockaddr_in	sin;

	if (conf.admin_path != NULL) {
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		if (strlen(conf.admin_path) >= sizeof sun.sun_path) {
			snprintf(err, errlen, "admin path too long");
			return (-1);
		}
		strcpy(sun.sun_path, conf.admin_path);
		unlink(conf.admin_path);
		admin_unix = evconnlistener_new_bind(sim_base, admin_accept_cb,
		    NULL, LEV_OPT_CLOSE_ON_FREE, 16, (struct sockaddr *)&sun,
		    sizeof sun);
		if (admin_unix == NULL) {
			snprintf(err, errlen, "admin %s: %s", conf.admin_path,
			    strerror(errno));
			return (-1);
		}
	}
	if (conf.admin_port >= 0) {
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)conf.admin_port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		admin_tcp = evconnlistener_new_bind(sim_base, admin_accept_cb,
		    NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
		    (struct sockaddr *)&sin, sizeof sin);
		if (admin_tcp == NULL) {
			snprintf(err, errlen, "admin port %d: %s",
			    conf.admin_port, strerror(errno));
			return (-1);
		}
	}
	return (0);
}

/* Stop the admin listeners. */
void
admin_stop(void)
{
	if (admin_unix != NULL)
		evconnlistener_free(admin_unix);
	if (admin_tcp != NULL)
		evconnlistener_free(admin_tcp);
	if (conf.admin_path != NULL)
		unlink(conf.admin_path);
	admin_unix = admin_tcp = NULL;
}

/* The bound admin TCP port, or -1. */
int
admin_bound_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;

	if (admin_tcp == NULL)
		return (-1);
	if (getsockname(evconnlistener_get_fd(admin_tcp),
	    (struct sockaddr *)&sin, &len) != 0)
		return (-1);
	return (ntohs(sin.sin_port));
}
