/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsctl: command-line client for ampsd, built on libampsipc only.
 * main() and the sending commands:
 *
 *	ampsctl publish -topic T [-data D | -file F] [-delta] [-n N]
 *	    [-rate R] [-conn C] [-correlation X] [-sowkey K]
 *	    [-expiration S] [-wait stored|persisted|none]
 *	ampsctl flush [-conn C]
 *	ampsctl ping [-daemon]
 *	ampsctl status [-json | -raw] [-conn C]
 *	ampsctl subscribe | sow | ... : ampsctl-sub.c
 *	ampsctl reload | trace | verbose: ampsctl-admin.c
 *	ampsctl help [COMMAND], ampsctl COMMAND -h, ampsctl --version
 *
 * Every command also takes -socket P and -timeout MS.  The command line
 * is parsed by ampsctl-args.c (pure).  Without -data or -file, publish
 * sends one message per line of stdin.  Exit status: 0 success, 1
 * failure (ping: also a connection that is down), 2 usage.
 *
 * Invariants:
 *  1. Every error is printed once, with the library's message, on stderr;
 *     a usage error is one line naming the option or value.
 *  2. publish waits (by default) until the daemon has stored every
 *     message before exiting, so "exit 0" means the daemon holds them.
 *  3. Help and --version go to stdout and exit 0.
 */

#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unistd.h>

#include "ampsipc.h"
#include "ampsctl.h"

#define CTL_TIMEOUT	10000	/* ms, default for waits */

/* What the sending commands need besides struct ctl_args. */
struct ctl {
	const char		*topic;
	int			 delta;
	long			 n;
	double			 rate;
	struct ampsipc_pubopts	 opts;
};

/* Print the library's error for what and return 1. */
static int
fail(struct ampsipc *h, const char *what)
{
	const char	*msg = h != NULL ? ampsipc_errmsg(h) : "";

	fprintf(stderr, "ampsctl: %s: %s\n", what,
	    *msg != '\0' ? msg : strerror(errno));
	return (1);
}

/* Sleep as needed to keep to rate messages per second. */
static void
pace(const struct ctl *c, long sent, const struct timespec *start)
{
	struct timespec	now, ts;
	double		due, el;

	if (c->rate <= 0)
		return;
	due = (double)sent / c->rate;
	clock_gettime(CLOCK_MONOTONIC, &now);
	el = (double)(now.tv_sec - start->tv_sec) +
	    (double)(now.tv_nsec - start->tv_nsec) / 1e9;
	if (due > el) {
		ts.tv_sec = (time_t)(due - el);
		ts.tv_nsec = (long)((due - el - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

/* Publish one message (n times), pacing to the rate. */
static int
pub_one(struct ampsipc *h, const struct ctl *c, const void *data,
    size_t len, long *sent, const struct timespec *start)
{
	long	i;
	int	rc;

	for (i = 0; i < c->n; i++) {
		pace(c, *sent, start);
		if (c->delta)
			rc = ampsipc_delta_publish(h, c->topic, data, len,
			    &c->opts, NULL);
		else
			rc = ampsipc_publish(h, c->topic, data, len, &c->opts,
			    NULL);
		if (rc == -1)
			return (-1);
		(*sent)++;
		if (c->rate > 0 && ampsipc_write(h) == -1)
			return (-1);
	}
	return (0);
}

/* Read a whole file into memory. */
static char *
slurp(const char *path, size_t *lenp)
{
	FILE	*f;
	char	*buf = NULL, *p;
	size_t	 cap = 0, len = 0, n;

	if ((f = fopen(path, "rb")) == NULL)
		return (NULL);
	for (;;) {
		if (cap - len < 65536) {
			cap = cap == 0 ? 65536 : cap * 2;
			if ((p = realloc(buf, cap)) == NULL) {
				free(buf);
				fclose(f);
				return (NULL);
			}
			buf = p;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return (NULL);
	}
	fclose(f);
	*lenp = len;
	return (buf);
}

/*
 * Wait until AMPS persisted what this program published: on connection
 * conn, or (NULL) on every connection it published on.
 */
static int
ctl_flush(struct ampsipc *h, const char *conn, int timeout)
{
	if (conn != NULL)
		return (ampsipc_publish_flush_conn(h, conn, timeout));
	return (ampsipc_publish_flush(h, timeout));
}

/* What became of the publishes that failed: the first reason. */
struct pub_failures {
	int	 code;
	char	 reason[256];
};

/* Publish events: remember why the first failed publish failed. */
static void
pub_event(struct ampsipc *h, const struct ampsipc_pubevent *ev, void *arg)
{
	struct pub_failures	*pf = arg;

	if (ev->kind != AMPSIPC_PUB_FAILED || pf->code != 0)
		return;
	pf->code = ev->error != 0 ? ev->error : AMPSIPC_E_UNKNOWN;
	snprintf(pf->reason, sizeof pf->reason, "%s", ev->reason);
}

/* ampsctl publish. */
static int
cmd_publish(struct ampsipc *h, const struct ctl_args *a)
{
	struct pub_failures	 pf;
	struct ctl		 cc, *c = &cc;
	struct timespec	 start;
	char		*buf = NULL, *line = NULL;
	size_t		 len, cap = 0;
	ssize_t		 n;
	long		 sent = 0;
	int		 rc = 0, timeout;

	memset(&pf, 0, sizeof pf);
	ampsipc_set_pub_handler(h, pub_event, &pf);
	memset(c, 0, sizeof *c);
	c->topic = a->topic;
	c->delta = a->delta;
	c->n = a->n > 0 ? a->n : 1;
	c->rate = a->rate;
	c->opts.conn = a->conn;
	c->opts.correlation_id = a->correlation;
	c->opts.sow_key = a->sowkey;
	if (a->has_expiration) {
		c->opts.expiration = a->expiration;
		c->opts.flags |= AMPSIPC_PUB_EXPIRATION;
	}
	timeout = a->has_timeout ? (int)a->timeout : CTL_TIMEOUT;
	clock_gettime(CLOCK_MONOTONIC, &start);
	if (a->data != NULL)
		rc = pub_one(h, c, a->data, strlen(a->data), &sent, &start);
	else if (a->file != NULL) {
		if ((buf = slurp(a->file, &len)) == NULL) {
			fprintf(stderr, "ampsctl: %s: %s\n", a->file,
			    strerror(errno));
			return (1);
		}
		rc = pub_one(h, c, buf, len, &sent, &start);
		free(buf);
	} else {
		while (rc == 0 && (n = getline(&line, &cap, stdin)) != -1) {
			if (n > 0 && line[n - 1] == '\n')
				line[--n] = '\0';
			rc = pub_one(h, c, line, (size_t)n, &sent, &start);
		}
		free(line);
	}
	if (rc == -1)
		return (fail(h, "publish"));
	if (strcmp(a->wait, "none") == 0)
		rc = ampsipc_wait_stored(h, 0) == -1 &&
		    ampsipc_error(h) != AMPSIPC_E_TIMED_OUT ? -1 : 0;
	else if (strcmp(a->wait, "persisted") == 0)
		rc = ctl_flush(h, a->conn, timeout);
	else
		rc = ampsipc_wait_stored(h, timeout);
	if (rc == -1)
		return (fail(h, "publish"));
	if (ampsipc_failed(h) != 0) {
		fprintf(stderr, "ampsctl: %" PRIu64 " of %ld publishes "
		    "failed: %s: %s\n", ampsipc_failed(h), sent,
		    ampsipc_strerror(pf.code), pf.reason[0] != '\0' ?
		    pf.reason : "(no reason given)");
		return (1);
	}
	return (0);
}

/*
 * ampsctl ping: the daemon answers, then (unless -daemon) the state of
 * each connection from its status.  Only root and the daemon's user may
 * read the status (docs/IPC.md §10); anyone else learns that the daemon
 * is alive and is told that the connections are not shown.
 */
static int
cmd_ping(struct ampsipc *h, const struct ctl_args *a, int timeout)
{
	char	*text;
	int	 up, total;

	if (ampsipc_ping(h, timeout) == -1)
		return (fail(h, "ping"));
	printf("ampsd %s: alive\n", ampsipc_daemon_version(h));
	if (a->daemon_only)
		return (0);
	if (ampsipc_status(h, NULL, &text, timeout) == -1) {
		if (ampsipc_error(h) != AMPSIPC_E_NOT_PERMITTED)
			return (fail(h, "ping: status"));
		printf("connections: not shown to uid %lu (only root and the "
		    "daemon's user may read the status)\n",
		    (unsigned long)getuid());
		return (0);
	}
	if (ctl_status_conns(text, stdout, &up, &total) == -1) {
		free(text);
		return (fail(NULL, "ping"));
	}
	free(text);
	if (up < total) {
		fprintf(stderr, "ampsctl: ping: %d of %d connection(s) "
		    "down\n", total - up, total);
		return (1);
	}
	return (0);
}

/* The sending commands and status: one connection, one request. */
static int
ctl_send(const struct ctl_args *a)
{
	struct ampsipc	*h;
	char		*text;
	int		 rc = 0, timeout;

	timeout = a->has_timeout ? (int)a->timeout : CTL_TIMEOUT;
	if ((h = ampsipc_create()) == NULL)
		return (fail(NULL, "ampsipc_create"));
	if (ampsipc_connect(h, a->sock, "ampsctl", timeout) == -1) {
		rc = fail(h, "connect");
		ampsipc_close(h);
		return (rc);
	}
	switch (ctl_cmd_id(a->cmd)) {
	case CTL_C_PUBLISH:
		rc = cmd_publish(h, a);
		break;
	case CTL_C_FLUSH:
		if (ctl_flush(h, a->conn, timeout) == -1)
			rc = fail(h, "flush");
		break;
	case CTL_C_PING:
		rc = cmd_ping(h, a, timeout);
		break;
	default:
		if (ampsipc_status(h, a->conn, &text, timeout) == -1)
			rc = fail(h, "status");
		else {
			if (ctl_status_print(text, a->format, stdout) == -1)
				rc = fail(NULL, "status");
			free(text);
		}
		break;
	}
	ampsipc_close(h);
	return (rc);
}

/* ampsctl help [COMMAND]. */
static int
cmd_help(const struct ctl_args *a)
{
	const struct ctl_cmd	*c = NULL;

	if (a->nwords > 0 && (c = ctl_cmd_find(a->words[0])) == NULL) {
		fprintf(stderr, "ampsctl help: unknown command \"%s\" "
		    "(ampsctl help lists them)\n", a->words[0]);
		return (2);
	}
	ctl_help(stdout, c);
	return (0);
}

int
main(int argc, char **argv)
{
	const struct ctl_cmd	*c;
	struct ctl_args		 a;
	const char		*w;
	char			 err[1024];

	if (argc < 2) {
		ctl_usage(stderr);
		return (2);
	}
	w = argv[1];
	if (strcmp(w, "-h") == 0 || strcmp(w, "-help") == 0 ||
	    strcmp(w, "--help") == 0) {
		ctl_help(stdout, NULL);
		return (0);
	}
	if (strcmp(w, "-version") == 0 || strcmp(w, "--version") == 0) {
		printf("ampsctl %s\n", PACKAGE_VERSION);
		return (0);
	}
	if ((c = ctl_cmd_find(w)) == NULL) {
		fprintf(stderr, "ampsctl: unknown command \"%s\"%s (ampsctl "
		    "help lists the commands)\n", w, *w == '-' ?
		    "; options follow the command" : "");
		return (2);
	}
	if (ctl_args_parse(c, argc - 1, argv + 1, &a, err, sizeof err) == -1) {
		fprintf(stderr, "ampsctl %s\n", err);
		return (2);
	}
	if (a.version) {
		printf("ampsctl %s\n", PACKAGE_VERSION);
		return (0);
	}
	if (a.help) {
		ctl_help(stdout, c);
		return (0);
	}
	switch (ctl_cmd_id(c)) {
	case CTL_C_HELP:
		return (cmd_help(&a));
	case CTL_C_PUBLISH:
	case CTL_C_FLUSH:
	case CTL_C_PING:
	case CTL_C_STATUS:
		return (ctl_send(&a));
	case CTL_C_RELOAD:
	case CTL_C_TRACE:
	case CTL_C_VERBOSE:
		return (ctl_admin(&a));
	default:
		return (ctl_receive(&a));
	}
}
